"""On-disk cache of the pipeline's deterministic stages (truck flows, candidate sites).

A stage result is pickled under ``$CORRIDOR_CACHE`` (default ``~/.cache/corridor``, the folder
of the graph cache) by a key that changes whenever anything it was computed from changes:

- the stage name and the corridor source (every file of the installed package, code and shipped
  data, hashed: any code change gives new keys);
- the road graph's own cache key (the graph is a stage input);
- the scenario section the stage reads (its JSON);
- the size and modification time of every file below the data root and of every file the
  section names (a scenario's own tables).

A hit is logged; an unreadable entry is recomputed and rewritten; a failed write only logs (the
result is still returned). Entries are written atomically. Delete the folder to clear the cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from corridor._files import atomic_file

__all__ = [
    "MISSING",
    "cached_stage",
    "default_cache_dir",
    "file_stamps",
    "read_entry",
    "source_hash",
    "write_entry",
]

log = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent


def default_cache_dir() -> Path:
    """``$CORRIDOR_CACHE`` if set, else ``~/.cache/corridor``."""
    env = os.environ.get("CORRIDOR_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "corridor"


@functools.cache
def source_hash(folder: str = "", pattern: str = "*") -> str:
    """Hash of corridor's own files (code and shipped data), hex.

    Parameters
    ----------
    folder
        A sub-folder of the package (e.g. ``"network"``); default the whole package.
    pattern
        Files hashed: ``"*"`` every file below ``folder``; e.g. ``"*.py"`` only its modules.
    """
    root = _PACKAGE / folder
    files = sorted(root.rglob("*") if pattern == "*" else root.glob(pattern))
    h = hashlib.sha256()
    for f in files:
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(_PACKAGE)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def file_stamps(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    """``(path, size, mtime_ns)`` of every file at or below ``paths`` (missing ones left out)."""
    out = []
    for p in paths:
        p = Path(p)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            out.append((str(f.resolve()), st.st_size, st.st_mtime_ns))
    return out


def _paths_in(value: Any) -> list[Path]:
    """Existing files and folders named by strings anywhere in a JSON-like value."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in _paths_in(v)]
    if isinstance(value, list | tuple):
        return [p for v in value for p in _paths_in(v)]
    if isinstance(value, str) and ("/" in value or "\\" in value or "." in value):
        p = Path(value)
        try:
            return [p] if p.exists() else []
        except OSError:
            return []
    return []


def cached_stage[T](
    stage: str,
    *,
    graph_key: str | None,
    section: Any,
    data_root: Path,
    compute: Callable[[], T],
    cache_dir: Path | None = None,
) -> T:
    """Return ``compute()``, from the cache when the same inputs were seen before.

    Parameters
    ----------
    stage
        Stage name (part of the key and of the file name), e.g. ``"flows"``.
    graph_key
        The road graph's cache key (``G.graph["cache"]["file"]``); ``None`` (a graph that was
        not loaded through the graph cache) disables caching.
    section
        The pydantic scenario section the stage reads (its JSON is part of the key; files it
        names are stamped).
    data_root
        The data catalogue's root (every file below it is stamped).
    compute
        Computes the stage result (picklable).
    cache_dir
        Cache folder; default :func:`default_cache_dir`.

    Returns
    -------
    object
        The stage result.
    """
    if graph_key is None:
        return compute()
    dump = json.loads(section.model_dump_json())
    h = hashlib.sha256()
    for part in (stage, source_hash(), graph_key, json.dumps(dump, sort_keys=True)):
        h.update(str(part).encode())
        h.update(b"\0")
    for stamp in file_stamps([data_root, *_paths_in(dump)]):
        h.update(repr(stamp).encode())
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"{stage}-{h.hexdigest()[:24]}.pickle"
    value = read_entry(path, stage)
    if value is MISSING:
        value = compute()
        write_entry(value, path, stage)
    return value


#: What :func:`read_entry` returns for an absent or unreadable entry.
MISSING = object()


def read_entry(path: Path, what: str) -> Any:
    """Unpickle a cache entry; :data:`MISSING` when absent or unreadable (logged, not fatal)."""
    if not path.is_file():
        return MISSING
    try:
        with path.open("rb") as f:
            value = pickle.load(f)
    except Exception as err:  # a truncated/old entry is recomputed, not fatal
        log.warning("ignoring unreadable %s cache %s: %s", what, path, err)
        return MISSING
    log.info("loaded cached %s %s", what, path)
    return value


def write_entry(value: Any, path: Path, what: str) -> None:
    """Pickle a cache entry atomically; a failed write is logged (the result stays usable)."""
    try:
        with atomic_file(path) as tmp, tmp.open("wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as err:
        log.warning("could not write %s cache %s: %s", what, path, err)
