"""Load the graph of a scenario from the data catalogue, with an on-disk cache."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pyogrio
import shapely

from corridor._cache import MISSING, default_cache_dir, read_entry, source_hash, write_entry
from corridor.catalogue import Catalogue
from corridor.config import NetworkConfig
from corridor.errors import InputDataError
from corridor.network.build import graph_from_lines
from corridor.network.coarse import ETISPLUS_LINK, coarse_graph_files, join_coarse_links
from corridor.network.io import country_from_filename, drop_duplicate_geometries, read_lines

__all__ = [
    "CACHE_VERSION",
    "default_cache_dir",
    "load_graph",
    "nuts_file",
    "read_countries",
    "region_polygon",
    "select_files",
]

log = logging.getLogger(__name__)


#: Builder version in the cache key: derived from the network package's source, so old caches
#: are never reused after a code change.
CACHE_VERSION = f"network-{source_hash('network', '*.py')}"


def read_countries(catalogue: Catalogue) -> gpd.GeoDataFrame:
    """NUTS level-0 country polygons (``CNTR_CODE``, geometry) from the catalogue."""
    files = [p for p in catalogue.paths("nuts") if "LEVL_0" in p.name]
    if not files:
        msg = f"no NUTS level-0 file (NUTS_RG_*_LEVL_0.geojson) in {catalogue.root / 'boundaries'}"
        raise InputDataError(msg)
    return pyogrio.read_dataframe(files[0], columns=["CNTR_CODE"])


def nuts_file(catalogue: Catalogue, level: int) -> Path:
    """Return the file of the NUTS 2021 region polygons of one level (0–3) in the catalogue.

    Raises
    ------
    InputDataError
        If the file of that level is missing.
    """
    files = [p for p in catalogue.paths("nuts") if "RG_" in p.name and f"LEVL_{level}" in p.name]
    if not files:
        msg = (
            f"no NUTS level-{level} region file (NUTS_RG_*_LEVL_{level}.geojson) in "
            f"{catalogue.root / 'boundaries'}"
        )
        raise InputDataError(msg)
    return files[0]


def region_files(catalogue: Catalogue, config: NetworkConfig) -> list[Path]:
    """Files the region of ``config`` is read from (NUTS levels used, polygon file)."""
    out = [nuts_file(catalogue, len(i) - 2) for i in sorted(set(config.nuts_ids or ()))]
    if config.polygon_file is not None:
        out.append(Path(config.polygon_file))
    return sorted(set(out))


def region_polygon(catalogue: Catalogue, config: NetworkConfig) -> shapely.Geometry | None:
    """Union of the selected NUTS regions and the polygon file, lon/lat degrees (or None).

    NUTS ids of any level (``NL41`` level 2, ``DEA`` level 1, ``DK`` level 0) are looked up in
    the 1:60M NUTS 2021 layers; when both ``nuts_ids`` and ``polygon_file`` are set the region is
    their intersection (the polygon file narrows the NUTS selection).

    Raises
    ------
    InputDataError
        Unknown NUTS id (with close ids), unreadable polygon file or one without polygons.
    """
    parts = []
    if config.nuts_ids:
        ids = sorted(set(config.nuts_ids))
        geoms = []
        for level in sorted({len(i) - 2 for i in ids}):
            path = nuts_file(catalogue, level)
            nuts = pyogrio.read_dataframe(path, columns=["NUTS_ID"]).to_crs("EPSG:4326")
            want = [i for i in ids if len(i) - 2 == level]
            missing = sorted(set(want) - set(nuts["NUTS_ID"]))
            if missing:
                close = sorted(n for n in nuts["NUTS_ID"] if n.startswith(missing[0][:2]))[:12]
                msg = (
                    f"NUTS ids {missing} not found in {path} (level {level}); ids there start "
                    f"like {close}. Use NUTS 2021 codes (e.g. NL41, DEA)"
                )
                raise InputDataError(msg)
            geoms.extend(nuts.loc[nuts["NUTS_ID"].isin(want), "geometry"])
        parts.append(shapely.union_all(geoms))
    if config.polygon_file is not None:
        path = Path(config.polygon_file)
        try:
            poly = pyogrio.read_dataframe(path)
        except Exception as err:
            msg = f"cannot read region polygon file {path}: {err}"
            raise InputDataError(msg) from err
        if poly.crs is None:
            msg = f"region polygon file {path} has no CRS; set it (e.g. EPSG:4326)"
            raise InputDataError(msg)
        poly = poly[poly.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs("EPSG:4326")
        if len(poly) == 0:
            msg = f"region polygon file {path} holds no Polygon/MultiPolygon features"
            raise InputDataError(msg)
        parts.append(shapely.union_all(poly.geometry.to_numpy()))
    if not parts:
        return None
    region = parts[0] if len(parts) == 1 else shapely.intersection(parts[0], parts[1])
    if region.is_empty:
        msg = f"the region of nuts_ids {config.nuts_ids} and {config.polygon_file} is empty"
        raise InputDataError(msg)
    return region


def region_countries(config: NetworkConfig) -> tuple[str, ...]:
    """Countries whose road layers are loaded: of ``nuts_ids`` when set, else ``countries``."""
    if config.nuts_ids:
        return tuple(sorted({i[:2] for i in config.nuts_ids}))
    return tuple(config.countries)


def select_files(catalogue: Catalogue, countries: Sequence[str]) -> list[Path]:
    """List the ``osm_motorways`` files of the given countries (file-name prefix ``CC_``)."""
    files = catalogue.paths("osm_motorways")
    chosen = [p for p in files if country_from_filename(p) in set(countries)]
    missing = sorted(set(countries) - {country_from_filename(p) for p in chosen})
    if missing and chosen:
        have = sorted({country_from_filename(p) for p in files})
        msg = (
            f"network.countries {missing}: no road layer (CC_*.geojson) for "
            f"{', '.join(missing)} in {files[0].parent} (available: {have}); remove them from "
            "network.countries or add their road layers"
        )
        raise InputDataError(msg)
    if not chosen:
        have = sorted({country_from_filename(p) for p in files})
        msg = (
            f"no road layer for countries {list(countries)} in {files[0].parent} "
            f"(available: {have}); set network.countries accordingly"
        )
        raise InputDataError(msg)
    return chosen


def add_coarse_countries(
    G: nx.MultiDiGraph, graph_files: Sequence[Path], config: NetworkConfig
) -> dict:
    """Join the ETISplus graphs ``graph_files`` (one per coarse country) to ``G`` in place.

    The country is the name of each file's folder (``.../SE/graph.graphml``); links between two
    coarse countries join their mutual nearest nodes within ``config.coarse_join_km``. See
    :mod:`corridor.network.coarse`; returns its report.
    """
    from corridor.flows.etisplus import EtisTables, read_country_graph
    from corridor.flows.stitch import find_border_crossings

    parts = [read_country_graph(Path(p), Path(p).parent.name) for p in graph_files]
    nodes = pd.concat([n for n, _ in parts], ignore_index=True)
    edges = pd.concat([e for _, e in parts], ignore_index=True)
    crossings = None
    if len(parts) > 1:
        # every node may be a crossing node: list each as an OD end of its own country
        od = pd.DataFrame(
            {
                "origin": nodes["node_id"],
                "destination": nodes["node_id"],
                "country": nodes["country"],
            }
        )
        tables = EtisTables(nodes.set_index("node_id", drop=False), edges, od)
        crossings = find_border_crossings(tables, config.coarse_join_km)
    return join_coarse_links(
        G,
        nodes,
        edges,
        crossings,
        join_km=config.coarse_join_km,
        speed_kph=config.speed_kph.get("motorway", 80.0),
    )


def country_report(
    G: nx.MultiDiGraph,
    lines_read: dict[str, int],
    duplicates: dict[str, int],
    coarse_countries: Sequence[str] = (),
) -> dict[str, dict]:
    """Build report per country: lines read, duplicates dropped, km (OSM and coarse).

    Returns
    -------
    dict
        ``{cc: {"source", "lines_read", "duplicate_geometries_removed", "km", "coarse_km"}}``;
        ``source`` is "OSM lines" or "ETISplus coarse links" (directed km).
    """
    km: dict[str, float] = {}
    coarse_km: dict[str, float] = {}
    for _, _, d in G.edges(data=True):
        cc = str(d.get("country", ""))
        target = coarse_km if d.get("highway") == ETISPLUS_LINK else km
        target[cc] = target.get(cc, 0.0) + float(d["length_m"]) / 1000.0
    out = {}
    for cc in sorted(set(lines_read) | set(km) | set(coarse_km) | set(coarse_countries)):
        out[str(cc)] = {
            "source": "ETISplus coarse links" if cc in coarse_countries else "OSM lines",
            "lines_read": int(lines_read.get(cc, 0)),
            "duplicate_geometries_removed": int(duplicates.get(cc, 0)),
            "km": round(km.get(cc, 0.0), 3),
            "coarse_km": round(coarse_km.get(cc, 0.0), 3),
        }
    return out


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
    """Build (or reload from cache) the truck graph of the configured region.

    The road layers of ``config.countries`` (or of the countries of ``config.nuts_ids``) are
    read, exact duplicate line geometries dropped (neighbouring region files overlap by their edge
    tiles), and clipped to ``bbox_lonlat`` and to the union of the ``nuts_ids`` regions /
    ``polygon_file`` polygons (:func:`region_polygon`) before building. The ETISplus graphs of
    ``config.coarse_countries`` are then joined as coarse links (:mod:`corridor.network.coarse`).

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
        ``miss`` and holds the cache file. The build report also holds
        ``duplicate_geometries_removed``, ``by_country`` (:func:`country_report`) and, with coarse
        countries, ``coarse`` (joins and km).
    """
    if config.polygon_file is not None and not Path(config.polygon_file).is_file():
        msg = (
            f"network.polygon_file {config.polygon_file} not found (working folder {Path.cwd()}); "
            "give the path of a GeoJSON/GeoPackage with the region's polygons"
        )
        raise InputDataError(msg)
    countries = region_countries(config)
    files = select_files(catalogue, countries)
    nuts = [p for p in catalogue.paths("nuts") if "LEVL_0" in p.name]
    coarse = (
        coarse_graph_files(catalogue.path("etisplus_countries"), config.coarse_countries)
        if config.coarse_countries
        else []
    )
    key = cache_key([*files, *nuts, *coarse, *region_files(catalogue, config)], config)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"network-{key}.pickle"
    G = read_entry(path, "graph")
    if G is not MISSING:
        G.graph["cache"] = {"status": "hit", "file": str(path)}
        return G
    lines = read_lines(files)
    n_read = lines["country"].value_counts().to_dict()
    lines, n_dup = drop_duplicate_geometries(lines)
    region = region_polygon(catalogue, config)
    label = ",".join(config.nuts_ids) if config.nuts_ids else ",".join(countries)
    if config.polygon_file is not None:
        label += f"+{Path(config.polygon_file).name}"
    G = graph_from_lines(
        lines, config, read_countries(catalogue), source=f"osm_motorways:{label}", region=region
    )
    report = G.graph["build_report"]
    report["duplicate_geometries_removed"] = int(sum(n_dup.values()))
    if coarse:
        report["coarse"] = add_coarse_countries(G, coarse, config)
        G.graph["source"] += "+etisplus:" + ",".join(config.coarse_countries)
    report["by_country"] = country_report(G, n_read, n_dup, config.coarse_countries)
    G.graph["cache"] = {"status": "miss", "file": str(path)}
    write_entry(G, path, "graph")
    return G
