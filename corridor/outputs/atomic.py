"""Atomic output writing: a failed run never leaves half-written files or clobbers good results."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_file", "write_outputs"]


@contextmanager
def atomic_file(path: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path`` atomically.

    Parameters
    ----------
    path
        Final file path.
    suffix
        Suffix of the temporary file (some writers pick the format from it); defaults to
        ``path``'s suffix.

    Yields
    ------
    Path
        Where to write. It is removed if the block raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=path.parent
    )
    os.close(fd)
    os.unlink(tmp)  # writers such as pyogrio refuse to overwrite an existing file
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_outputs(out_dir: Path, writers: Mapping[str, Callable[[Path], None]]) -> list[Path]:
    """Write a set of output files all-or-nothing.

    Every writer first writes into a staging folder next to ``out_dir``; only when all of them
    succeeded are the files moved into ``out_dir`` (each by an atomic rename). If any writer
    fails, ``out_dir`` is left exactly as it was.

    Parameters
    ----------
    out_dir
        Destination folder (created if needed).
    writers
        File name to a function that writes that file at the path it is given.

    Returns
    -------
    list of Path
        The written files in ``out_dir``.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        for name, write in writers.items():
            write(staging / name)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name in writers:
            os.replace(staging / name, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)
