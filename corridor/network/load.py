
"""Load the graph of a scenario from the data catalogue, with an on-disk cache."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pyogrio

from corridor.catalogue import Catalogue
from corridor.config import NetworkConfig
from corridor.errors import InputDataError
from corridor.network.build import graph_from_lines
from corridor.network.io import country_from_filename, read_lines

__all__ = ["CACHE_VERSION", "default_cache_dir", "load_graph", "read_countries", "select_files"]

log = logging.getLogger(__name__)

#: Bump when the builder changes its output, so old caches are not reused.
CACHE_VERSION = "network-3"


def default_cache_dir() -> Path:
    """``$CORRIDOR_CACHE`` if set, else ``~/.cache/corridor``."""
    env = os.environ.get("CORRIDOR_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "corridor"


def read_countries(catalogue: Catalogue) -> gpd.GeoDataFrame:
    """NUTS level-0 country polygons (``CNTR_CODE``, geometry) from the catalogue."""
    files = [p for p in catalogue.paths("nuts") if "LEVL_0" in p.name]
    if not files:
        msg = f"no NUTS level-0 file (NUTS_RG_*_LEVL_0.geojson) in {catalogue.root / 'boundaries'}"
        raise InputDataError(msg)
    return pyogrio.read_dataframe(files[0], columns=["CNTR_CODE"])


def select_files(catalogue: Catalogue, countries: Sequence[str]) -> list[Path]:
    """The ``osm_motorways`` files of the given countries (file-name prefix ``CC_``)."""
    files = catalogue.paths("osm_motorways")
    chosen = [p for p in files if country_from_filename(p) in set(countries)]
    if not chosen:
        have = sorted({country_from_filename(p) for p in files})
        msg = (
            f"no road layer for countries {list(countries)} in {files[0].parent} "
            f"(available: {have}); set network.countries accordingly"
        )
        raise InputDataError(msg)
    return chosen


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_key(files: Sequence[Path], config: NetworkConfig) -> str:
    """Hash of the input files' contents, the network config and the builder version."""
    h = hashlib.sha256(CACHE_VERSION.encode())
    for p in sorted(files, key=lambda q: q.name):
        h.update(p.name.encode())
        h.update(_file_hash(p).encode())
    h.update(config.model_dump_json().encode())
    return h.hexdigest()[:24]


def load_graph(
    catalogue: Catalogue, config: NetworkConfig, cache_dir: Path | None = None
) -> nx.MultiDiGraph:
    """Build (or reload from cache) the truck graph of ``config.countries``.

    Parameters
    ----------
    catalogue
        Data catalogue; uses ``osm_motorways`` (files ``CC_*.geojson``) and ``nuts``.
    config
        Network section of the scenario.
    cache_dir
        Cache folder; default :func:`default_cache_dir`. The cache is a pickle named by
        :func:`cache_key`, written atomically.

    Returns
    -------
    networkx.MultiDiGraph
        See :func:`corridor.network.graph_from_lines`; ``G.graph['cache']`` says ``hit`` or
        ``miss`` and holds the cache file.
    """
    files = select_files(catalogue, config.countries)
    nuts = [p for p in catalogue.paths("nuts") if "LEVL_0" in p.name]
    key = cache_key([*files, *nuts], config)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"network-{key}.pickle"
    if path.is_file():
        try:
            with path.open("rb") as f:
                G = pickle.load(f)
            G.graph["cache"] = {"status": "hit", "file": str(path)}
            log.info("loaded cached graph %s", path)
            return G
        except Exception as err:  # a truncated/old cache is rebuilt, not fatal
            log.warning("ignoring unreadable graph cache %s: %s", path, err)
    lines = read_lines(files)
    G = graph_from_lines(
        lines,
        config,
        read_countries(catalogue),
        source=f"osm_motorways:{','.join(config.countries)}",
    )
    G.graph["cache"] = {"status": "miss", "file": str(path)}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".network-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(G, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as err:
        log.warning("could not write graph cache %s: %s", path, err)
    return G
