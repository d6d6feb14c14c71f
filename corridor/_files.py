"""Files of corridor: the shipped data folder, atomic writing and reading TOML / JSON.

:data:`DATA_DIR` is the package's own ``corridor/data`` folder (built-in scenarios, truck
profiles, gazetteer, corridor definitions and the curated parameter tables), found through
:mod:`importlib.resources` so it is the same in a source checkout, an editable and a wheel
install. The big external inputs (OSM, ETISplus, grid) are not here: see
:mod:`corridor.catalogue`.

Writing is atomic: :func:`atomic_file` (one file: a temporary file next to it, then
``os.replace``) and :func:`write_outputs` (a whole output folder all-or-nothing: the new folder
is built beside the old one and swapped in by one rename; a hidden :data:`MANIFEST` lists what
each kind of run wrote, so a rerun drops its own stale files but never the user's).
:func:`output_folder` checks an output folder before any work and locks it for the run. A failed
run never leaves half-written files or clobbers good results.

:func:`read_toml` and :func:`read_json` raise :class:`~corridor.errors.InputDataError` (or the
error class given) naming the file and what is wrong with it. :func:`read_table` is the one
reader of user tables (routes files, site lists, capacity tables): it accepts the encodings and
separators spreadsheets really write (UTF-8 with or without BOM, UTF-16, Windows-1252; ``,``,
``;`` or tab separated, decimal point or decimal comma) and says what it found when the file
does not fit.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
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
    "MANIFEST",
    "atomic_file",
    "check_output_dir",
    "output_folder",
    "read_json",
    "read_table",
    "read_toml",
    "write_atomic",
    "write_outputs",
]

#: The shipped data folder (``corridor/data`` inside the installed package).
DATA_DIR = Path(str(resources.files("corridor") / "data"))


def shipped_or_local(path: str | Path) -> Path:
    """Resolve a data file named in a scenario.

    An absolute path as is; a relative one in the shipped data folder (``corridor/data``) when
    it is there, else in the current folder.
    """
    p = Path(path)
    if p.is_absolute():
        return p
    shipped = DATA_DIR / p
    return shipped if shipped.is_file() else Path.cwd() / p


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


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: the file system cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


#: Hidden file in every output folder listing the files corridor wrote there, per command.
MANIFEST = ".corridor-outputs"


def write_outputs(
    out_dir: str | Path,
    writers: Mapping[str, Callable[[Path], object]],
    *,
    kind: str = "outputs",
) -> list[Path]:
    """Write a set of output files all-or-nothing: the output folder is the unit.

    The new folder is built beside ``out_dir`` (a hidden staging folder in the same parent):
    files of the old folder that are not rewritten are linked (or copied) into it, then every
    writer writes its file. Only when all of them succeeded is the staging folder swapped in for
    ``out_dir`` by one atomic exchange of the two folders (two renames where the file system
    cannot exchange). If any writer fails, ``out_dir`` is left exactly as it was, and the
    staging folder is removed on every exit path (also on Ctrl-C and, via the CLI's handler,
    SIGTERM).

    A hidden manifest (:data:`MANIFEST`, JSON) records which files each ``kind`` of run wrote.
    Files the previous run of the same ``kind`` wrote that this run does not write are not
    carried over, so the folder holds exactly this run's outputs (no stale charts or tables of
    an earlier run). Files corridor did not write (the user's own, or those of a folder written
    before manifests existed) and the outputs of other kinds of run (e.g. the ``plan.json`` a
    ``grid`` run reads from the same folder) are kept.

    Parameters
    ----------
    out_dir
        Destination folder (created if needed).
    writers
        File name to a function that writes that file at the path it is given.
    kind
        Which kind of run writes (e.g. the command name): stale files are only those of the
        previous run of the same kind.

    Returns
    -------
    list of Path
        The written files in ``out_dir``.
    """
    out_dir = Path(out_dir)
    check_output_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        runs: dict[str, list[str]] = {}
        if out_dir.is_dir():
            os.chmod(staging, out_dir.stat().st_mode & 0o7777)
            old_runs = _read_manifest(out_dir / MANIFEST)
            stale = set(old_runs.get(kind, ())) - set(writers)
            kept: set[str] = set()
            for old in out_dir.iterdir():
                if old.name in writers or old.name in stale or old.name == MANIFEST:
                    continue
                kept.add(old.name)
                if old.is_dir() and not old.is_symlink():
                    shutil.copytree(old, staging / old.name, symlinks=True, copy_function=_link)
                else:
                    _link(old, staging / old.name)
            for other, names in old_runs.items():
                still = [n for n in names if n in kept]
                if other != kind and still:
                    runs[other] = still
        else:
            os.chmod(staging, 0o777 & ~_umask())
        for name, write in writers.items():
            write(staging / name)
        runs[kind] = sorted(writers)
        manifest = {"written_by": "corridor", "runs": dict(sorted(runs.items()))}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        if out_dir.is_dir():
            if _exchange(staging, out_dir):
                shutil.rmtree(staging, ignore_errors=True)  # now the old folder
            else:
                old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
                old.rmdir()
                os.replace(out_dir, old)
                try:
                    os.replace(staging, out_dir)
                except BaseException:
                    os.replace(old, out_dir)
                    raise
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
        return [out_dir / name for name in writers]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read_manifest(path: Path) -> dict[str, list[str]]:
    """Files per kind of run from an output folder's manifest; empty if absent or unreadable.

    Only plain file names are taken (no paths), so a damaged or hand-edited manifest can never
    make a run drop anything outside the folder; an unreadable one drops nothing.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        runs = data["runs"]
    except (OSError, ValueError, TypeError, KeyError):
        return {}
    if not isinstance(runs, dict):
        return {}
    return {
        str(kind): [
            n
            for n in names
            if isinstance(n, str)
            and n not in ("", ".", "..", MANIFEST)
            and "/" not in n
            and os.sep not in n
        ]
        for kind, names in runs.items()
        if isinstance(names, list)
    }


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _link(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def check_output_dir(out_dir: str | Path, flag: str = "--out") -> None:
    """Raise unless ``out_dir`` can become an output folder: call it before any work.

    Parameters
    ----------
    out_dir
        The folder a command will write.
    flag
        How the user gave it, for the message.

    Raises
    ------
    InputDataError
        If ``out_dir`` is a file, lies below a file, or it (or the folder it would be created
        in) is not writable.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"{flag} {out_dir} is a file, not a folder; give a folder to write the outputs into"
        raise InputDataError(msg)
    parent = out_dir.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        msg = f"{flag} {out_dir} lies below {parent}, which is a file, not a folder"
        raise InputDataError(msg)
    for folder in (parent, out_dir) if out_dir.is_dir() else (parent,):
        if not os.access(folder, os.W_OK | os.X_OK):
            msg = f"{flag} {out_dir}: folder {folder} is not writable; choose another {flag}"
            raise InputDataError(msg)


@contextmanager
def output_folder(out_dir: str | Path, flag: str = "--out") -> Iterator[Path]:
    """Check ``out_dir`` (:func:`check_output_dir`) and hold a lock on it for a whole run.

    A second run into the same folder while the first holds the lock gets a clear error
    instead of both reporting success. The lock is a hidden ``.<name>.lock`` file beside the
    folder (``flock``), removed on exit.

    Raises
    ------
    InputDataError
        See :func:`check_output_dir`; or the folder is locked by another run.
    """
    import fcntl

    out_dir = Path(out_dir)
    check_output_dir(out_dir, flag)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = out_dir.parent / f".{out_dir.name}.lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            msg = (
                f"{flag} {out_dir} is being written by another corridor run (lock {lock}); "
                f"wait for it to finish or choose another {flag}"
            )
            raise InputDataError(msg) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the lock file meanwhile: lock the new one
    try:
        yield out_dir
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


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


_SEPARATORS = {",": "','", ";": "';'", "\t": "tab"}
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
#: A decimal-comma number with ``.`` grouping thousands: ``1.500``, ``12.345.678,25``.
_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+(,\d+)?$")
#: A number with a decimal point (``1.5``, ``0.500``, ``1500.25``).
_DECIMAL_POINT = re.compile(r"^[+-]?\d*\.\d+$")


def _comma_number(cell: str) -> str | None:
    """Rewrite a decimal-comma number with a decimal point (``1.500,5`` → ``1500.5``), else None."""
    if _GROUPED.match(cell):
        return cell.replace(".", "").replace(",", ".")
    if _DECIMAL_COMMA.match(cell):
        return cell.replace(",", ".")
    return None


def _decode_table(raw: bytes, what: str, path: Path) -> tuple[str, str]:
    """Text and encoding name of a table file's bytes."""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as exc:
            msg = f"{what} {path} starts with a UTF-8 BOM but is not UTF-8 at byte {exc.start}"
            raise InputDataError(msg) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            msg = f"{what} {path} starts with a UTF-16 BOM but is not UTF-16 at byte {exc.start}"
            raise InputDataError(msg) from None
    if raw.startswith(b"PK\x03\x04") or b"\x00" in raw[:4096]:
        msg = (
            f"{what} {path} is a binary file (a spreadsheet workbook?), not a text table; "
            "save it as CSV (UTF-8)"
        )
        raise InputDataError(msg)
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
        guess = f" (it looks like {best.encoding})" if best is not None else ""
        msg = (
            f"{what} {path} is neither UTF-8 nor Windows-1252 text{guess}: byte "
            f"0x{raw[exc.start]:02X} at offset {exc.start}; save it as CSV UTF-8"
        )
        raise InputDataError(msg) from None


def _decimal_points(
    row: list[str],
    line: int,
    header: list[str],
    example: tuple[str, int],
    what: str,
    path: Path,
) -> list[str]:
    """Rewrite a decimal-comma file's row with decimal points; a decimal point is an error."""
    out = []
    for col, cell in zip(header, row, strict=True):
        number = _comma_number(cell)
        if number is None and _DECIMAL_POINT.match(cell):
            msg = (
                f"{what} {path}, line {line}, column {col}: {cell!r} has a decimal point but the "
                f"file uses decimal commas ({example[0]!r} on line {example[1]}); write "
                f"{cell.replace('.', ',')!r}, a '.' only groups thousands (1.500,5 = 1500.5)"
            )
            raise InputDataError(msg)
        out.append(cell if number is None else number)
    return out


def read_table(path: str | Path, what: str = "table", *, hint: str = "") -> Any:
    """Read a user's CSV table as text cells, whatever spreadsheet wrote it.

    Detected, in this order: the encoding (UTF-8 with or without BOM, UTF-16 with BOM, else
    Windows-1252), the separator (the most frequent of ``,``, ``;`` and tab in the header line)
    and, for ``;`` or tab separated files, the decimal mark: when any cell is a decimal-comma
    number such as ``51,95``, every such cell is rewritten with a decimal point (``51.95``), so
    callers convert numbers with ``float``. In such a file a ``.`` followed by exactly three
    digits groups thousands (``1.500`` is 1500, ``1.500,5`` is 1500.5); any other number with a
    decimal point (``1.5``, ``0.500``) is an error naming its line and column, as it is
    ambiguous. Blank lines are skipped; cells and column names are
    stripped of surrounding spaces.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages (e.g. ``"routes file"``).
    hint
        Appended to the "empty" message: what the file should hold (e.g. the header).

    Returns
    -------
    pandas.DataFrame
        One ``str`` column per header field, one row per data line (empty cells are ``""``).
        ``attrs["lines"]`` holds the file line number of each row, ``attrs["format"]`` a
        description such as ``"Windows-1252, ';'-separated, decimal comma"``,
        ``attrs["separator"]`` the separator and ``attrs["decimal"]`` the file's decimal mark
        (``","`` or ``"."``; the cells always come back with decimal points).

    Raises
    ------
    InputDataError
        Naming the file: not found, a folder, unreadable, binary, in an unknown encoding, empty,
        header only is allowed (an empty frame is returned) but a row with more or fewer fields
        than the header, an empty or duplicated column name are errors; the message says which
        encoding, separator and decimal mark were found.
    """
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        msg = f"{what} {path} is a folder, not a file"
        raise InputDataError(msg)
    if not path.exists():
        msg = f"{what} {path} not found"
        raise InputDataError(msg)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read {what} {path}: {exc.strerror or exc}"
        raise InputDataError(msg) from None
    text, encoding = _decode_table(raw, what, path)
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        msg = f"{what} {path} is empty" + (f"; expected {hint}" if hint else "")
        raise InputDataError(msg)
    header_line = lines[first]
    sep = max((",", ";", "\t"), key=lambda c: (header_line.count(c), c == ","))
    rows: list[list[str]] = []
    line_no: list[int] = []
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        for rec in reader:
            if not any(c.strip() for c in rec):
                continue
            rows.append([c.strip() for c in rec])
            line_no.append(reader.line_num)
    except csv.Error as exc:
        msg = f"{what} {path}, line {reader.line_num}: not a readable CSV line ({exc})"
        raise InputDataError(msg) from None
    header, body, body_lines = rows[0], rows[1:], line_no[1:]
    comma_cell = None
    if sep != ",":
        comma_cell = next(
            (
                (c, ln)
                for r, ln in zip(body, body_lines, strict=True)
                for c in r
                if "," in c and _comma_number(c) is not None
            ),
            None,
        )
    decimal = "point" if comma_cell is None else "comma"
    fmt = f"{encoding}, {_SEPARATORS[sep]}-separated, decimal {decimal}"
    header = [h.strip().lstrip("\ufeff") for h in header]
    if "" in header:
        msg = (
            f"{what} {path}: column {header.index('') + 1} of the header has no name "
            f"(read as {fmt}; header {header})"
        )
        raise InputDataError(msg)
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        msg = f"{what} {path}: column(s) {dup} appear more than once in the header (read as {fmt})"
        raise InputDataError(msg)
    for r, ln in zip(body, body_lines, strict=True):
        if len(r) != len(header):
            msg = (
                f"{what} {path}, line {ln}: {len(r)} fields but the header has {len(header)} "
                f"(read as {fmt}"
            )
            if sep == ",":
                msg += (
                    "; numbers need a decimal point (51.95), or separate the columns with ';' "
                    "when using decimal commas)"
                )
            else:
                msg += f"; every line needs the header's {len(header)} fields)"
            raise InputDataError(msg)
    if comma_cell is not None:
        body = [
            _decimal_points(r, ln, header, comma_cell, what, path)
            for r, ln in zip(body, body_lines, strict=True)
        ]
    frame = pd.DataFrame(body, columns=header, dtype=str)
    frame.attrs["lines"] = body_lines
    frame.attrs["format"] = fmt
    frame.attrs["separator"] = sep
    frame.attrs["decimal"] = "," if comma_cell is not None else "."
    return frame
