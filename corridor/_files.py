"""Files of corridor: the shipped data folder, atomic writing and reading TOML / JSON.

:data:`DATA_DIR` is the package's own ``corridor/data`` folder (built-in scenarios, truck
profiles, gazetteer, corridor definitions and the curated parameter tables), found through
:mod:`importlib.resources` so it is the same in a source checkout, an editable and a wheel
install. The big external inputs (OSM, ETISplus, grid) are not here: see
:mod:`corridor.catalogue`.

Writing is atomic: :func:`atomic_file` (one file: a temporary file next to it, then
``os.replace``) and :func:`write_outputs` (a whole output folder all-or-nothing: a staging folder,
then ``os.replace`` per file). A failed run never leaves half-written files or clobbers good
results.

:func:`read_toml` and :func:`read_json` raise :class:`~corridor.errors.InputDataError` (or the
error class given) naming the file and what is wrong with it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from corridor.errors import CorridorError, InputDataError

__all__ = [
    "DATA_DIR",
    "atomic_file",
    "read_json",
    "read_toml",
    "write_atomic",
    "write_outputs",
]

#: The shipped data folder (``corridor/data`` inside the installed package).
DATA_DIR = Path(str(resources.files("corridor") / "data"))


@contextmanager
def atomic_file(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path`` atomically.

    Parameters
    ----------
    path
        Final file path (its folder is created if needed).
    suffix
        Suffix of the temporary file (some writers pick the format from it); defaults to
        ``path``'s suffix.

    Yields
    ------
    Path
        Where to write; it does not exist yet (writers such as pyogrio refuse to overwrite a
        file). It is removed if the block raises, and ``path`` keeps its old content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=path.parent
    )
    os.close(fd)
    os.unlink(tmp)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_atomic(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` and move ``tmp`` over ``path`` (see :func:`atomic_file`).

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_file(path) as tmp:
        write(tmp)
    return Path(path)


def write_outputs(
    out_dir: str | Path, writers: Mapping[str, Callable[[Path], object]]
) -> list[Path]:
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


def _read_text(path: Path, what: str, hint: str, error: type[CorridorError]) -> str:
    if path.is_dir():
        msg = f"{what} {path} is a folder, not a file" + (f": {hint}" if hint else "")
        raise error(msg)
    if not path.exists():
        msg = f"{what} {path} not found" + (f": {hint}" if hint else "")
        raise error(msg)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise error(msg) from None
    except OSError as exc:
        msg = f"cannot read {what} {path}: {exc.strerror or exc}"
        raise error(msg) from None


def read_toml(
    path: str | Path,
    what: str = "file",
    *,
    hint: str = "",
    error: type[CorridorError] = InputDataError,
) -> dict[str, Any]:
    """Read a TOML file.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (e.g. ``"truck profile"``).
    hint
        Appended to the "not found" message (how to fix it).
    error
        Error class raised (default :class:`~corridor.errors.InputDataError`).

    Raises
    ------
    InputDataError
        (or ``error``) naming the file: not found, a folder, unreadable, not UTF-8 or not valid
        TOML (with the parser's line and column).
    """
    path = Path(path)
    text = _read_text(path, what, hint, error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{what} {path} is not valid TOML: {exc}"
        raise error(msg) from None


def read_json(
    path: str | Path,
    what: str = "file",
    *,
    hint: str = "",
    error: type[CorridorError] = InputDataError,
) -> Any:
    """Read a JSON file; the arguments and errors are those of :func:`read_toml`."""
    path = Path(path)
    text = _read_text(path, what, hint, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{what} {path} is not valid JSON (line {exc.lineno}): {exc.msg}"
        raise error(msg) from None
