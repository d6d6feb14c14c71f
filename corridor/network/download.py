"""OSM download through osmnx (Overpass API) for users who are online, funnelled into our builder.

:func:`graph_from_osmnx` downloads the motorway/trunk ways of a polygon or bounding box with a
custom Overpass filter (cached by osmnx in ``cache_folder``), turns osmnx's graph into the same
line GeoDataFrame the file readers return (:func:`lines_from_osmnx`) and builds it with
:func:`corridor.network.graph_from_lines`. The request pieces are pure functions
(:func:`osmnx_filter`, :func:`osmnx_request`) so they are testable offline.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from corridor.config import NetworkConfig
from corridor.errors import InputDataError
from corridor.network.build import graph_from_lines

__all__ = ["graph_from_osmnx", "lines_from_osmnx", "osmnx_filter", "osmnx_request"]

log = logging.getLogger(__name__)

_IMPLIED_ONEWAY = {"motorway", "motorway_link"}


def osmnx_filter(highway_classes: Sequence[str]) -> str:
    """Overpass way filter for osmnx's ``custom_filter`` keeping exactly the given classes.

    >>> osmnx_filter(["motorway", "trunk"])
    '["highway"~"^(motorway|trunk)$"]'
    """
    classes = [str(c) for c in highway_classes]
    if not classes or any(not c.replace("_", "").isalnum() for c in classes):
        msg = f"highway classes must be non-empty OSM tag values, got {classes}"
        raise InputDataError(msg)
    return f'["highway"~"^({"|".join(classes)})$"]'


def osmnx_request(
    config: NetworkConfig,
    polygon: shapely.Polygon | shapely.MultiPolygon | None = None,
    bbox_lonlat: tuple[float, float, float, float] | None = None,
) -> tuple[str, dict]:
    """Choose the osmnx call for a region: ``(function name, keyword arguments)``.

    Parameters
    ----------
    config
        Network section (``highway_classes``; ``bbox_lonlat`` is used when neither region is
        given).
    polygon
        Region in lon/lat degrees (EPSG:4326).
    bbox_lonlat
        ``(min_lon, min_lat, max_lon, max_lat)`` degrees.

    Returns
    -------
    tuple
        ``("graph_from_polygon", {...})`` or ``("graph_from_bbox", {...})`` with the custom
        filter, ``simplify=False`` (our builder merges chains itself), ``retain_all=True`` (our
        builder keeps the largest strongly connected part and reports the rest) and
        ``truncate_by_edge=True`` (ways crossing the boundary are kept whole).
    """
    common = {
        "custom_filter": osmnx_filter(config.highway_classes),
        "simplify": False,
        "retain_all": True,
        "truncate_by_edge": True,
    }
    if polygon is not None and bbox_lonlat is not None:
        msg = "give either a polygon or a bounding box for the osmnx download, not both"
        raise InputDataError(msg)
    if polygon is None and bbox_lonlat is None:
        bbox_lonlat = config.bbox_lonlat
    if polygon is not None:
        if polygon.is_empty or polygon.geom_type not in {"Polygon", "MultiPolygon"}:
            msg = (
                f"osmnx download region must be a non-empty (Multi)Polygon, got {polygon.geom_type}"
            )
            raise InputDataError(msg)
        return "graph_from_polygon", {"polygon": polygon, **common}
    if bbox_lonlat is None:
        msg = "no region for the osmnx download: pass a polygon or bbox, or set network.bbox_lonlat"
        raise InputDataError(msg)
    w, s, e, n = (float(x) for x in bbox_lonlat)
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        msg = f"bbox {bbox_lonlat} is not (min_lon, min_lat, max_lon, max_lat) in degrees"
        raise InputDataError(msg)
    # osmnx 2.x: bbox = (left, bottom, right, top)
    return "graph_from_bbox", {"bbox": (w, s, e, n), **common}


def _tag(value: object) -> str:
    """Join osmnx's list of several way tags into one ';'-separated string, as ours are."""
    if isinstance(value, list | tuple):
        return ";".join(dict.fromkeys(str(v) for v in value if v is not None))
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def lines_from_osmnx(Gx: nx.MultiDiGraph, source: str = "osmnx") -> gpd.GeoDataFrame:
    """Turn an osmnx graph into the line GeoDataFrame of :func:`graph_from_lines`.

    osmnx already expanded one-way tags (a two-way way has an edge each way, the copy against
    the drawing direction marked ``reversed``), so each osmnx edge becomes one line oriented
    u → v with ``oneway="yes"``. osmnx does not apply OSM's implied ``oneway=yes`` of
    ``motorway``/``motorway_link`` and ``junction=circular`` ways without a tag, so their
    ``reversed`` copies are dropped (an explicit ``oneway=no`` motorway is rare and loses its
    reverse direction here). osmnx itself reverses ``-1``/``T`` ways and makes roundabouts
    one-way, but keeps ``oneway=reversible`` ways in both directions (its raw tag is not kept,
    so :func:`corridor.network.oneway_direction`'s drop of them applies to the file readers
    only).

    Parameters
    ----------
    Gx
        An osmnx graph (``ox.graph_from_*``; simplified or not), node ``x``/``y`` in its
        ``crs`` (default EPSG:4326).
    source
        Written to the ``source_file`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        LineStrings in the graph's CRS with columns ``highway``, ``ref``, ``name``, ``oneway``,
        ``region``, ``source_file``, ``country``, ``osm_id`` (``w<id>``).
    """
    if Gx.number_of_edges() == 0:
        msg = f"the osmnx graph from {source} has no edges (no motorway/trunk ways in the region?)"
        raise InputDataError(msg)
    crs = Gx.graph.get("crs", "EPSG:4326")
    rows = []
    geoms = []
    for u, v, d in Gx.edges(data=True):
        implied = _tag(d.get("highway")) in _IMPLIED_ONEWAY or _tag(d.get("junction")) in {
            "roundabout",
            "circular",
        }
        if _reversed(d.get("reversed")) and implied:
            continue
        pu = (Gx.nodes[u]["x"], Gx.nodes[u]["y"])
        pv = (Gx.nodes[v]["x"], Gx.nodes[v]["y"])
        g = d.get("geometry")
        if g is None:
            g = shapely.LineString([pu, pv])
        elif shapely.distance(shapely.Point(g.coords[0]), shapely.Point(pu)) > shapely.distance(
            shapely.Point(g.coords[-1]), shapely.Point(pu)
        ):
            g = g.reverse()
        osmid = d.get("osmid", "")
        osmid = osmid if isinstance(osmid, list | tuple) else [osmid]
        rows.append(
            (
                _tag(d.get("highway")),
                _tag(d.get("ref")),
                _tag(d.get("name")),
                ";".join(f"w{i}" for i in osmid if i != ""),
            )
        )
        geoms.append(g)
    df = pd.DataFrame(rows, columns=["highway", "ref", "name", "osm_id"])
    mixed = df["highway"].str.contains(";", regex=False)
    if mixed.any():
        msg = (
            f"the osmnx graph from {source} merges ways of different highway classes into one "
            f"edge ({int(mixed.sum())} edges, e.g. osm ways {df.loc[mixed, 'osm_id'].iat[0]}); "
            "build it with simplify=False (our builder merges chains itself)"
        )
        raise InputDataError(msg)
    df["oneway"] = "yes"
    df["region"] = ""
    df["source_file"] = source
    df["country"] = ""
    return gpd.GeoDataFrame(df, geometry=geoms, crs=crs)


def _reversed(value: object) -> bool:
    if isinstance(value, list | tuple):  # simplified edges merge several ways
        return all(bool(x) for x in value)
    return bool(value)


@contextlib.contextmanager
def _osmnx_settings(cache_folder: Path | None) -> Iterator[object]:
    import osmnx as ox

    old = (ox.settings.use_cache, ox.settings.cache_folder)
    ox.settings.use_cache = True
    if cache_folder is not None:
        ox.settings.cache_folder = str(cache_folder)
    try:
        yield ox
    finally:
        ox.settings.use_cache, ox.settings.cache_folder = old


def graph_from_osmnx(
    config: NetworkConfig,
    polygon: shapely.Polygon | shapely.MultiPolygon | None = None,
    bbox_lonlat: tuple[float, float, float, float] | None = None,
    countries: gpd.GeoDataFrame | None = None,
    cache_folder: Path | None = None,
) -> nx.MultiDiGraph:
    """Download motorway/trunk ways with osmnx (needs internet) and build the truck graph.

    Parameters
    ----------
    config
        Network section (classes, speeds, snapping; ``bbox_lonlat`` if no region is given).
    polygon, bbox_lonlat
        Region in lon/lat degrees, see :func:`osmnx_request`.
    countries
        NUTS level-0 polygons for the edge ``country`` (see :func:`graph_from_lines`).
    cache_folder
        osmnx's HTTP response cache (``ox.settings.cache_folder``); responses are reused offline.

    Returns
    -------
    networkx.MultiDiGraph
        Per the GRAPH contract, ``source`` ``"osmnx:<function>"``.

    Raises
    ------
    InputDataError
        Bad region, or the download failed (e.g. offline without a cached response).
    """
    func, kwargs = osmnx_request(config, polygon, bbox_lonlat)
    with _osmnx_settings(cache_folder) as ox:
        try:
            Gx = getattr(ox, func)(**kwargs)
        except Exception as err:  # requests / osmnx raise many types when offline
            msg = (
                f"osmnx download ({func}) failed: {err}. It needs internet access to the "
                "Overpass API (or a cached response in the osmnx cache folder); offline, use the "
                "shared OSM line layers or an .osm.pbf extract instead"
            )
            raise InputDataError(msg) from err
    lines = lines_from_osmnx(Gx, source=f"osmnx:{func}")
    return graph_from_lines(lines, config, countries, source=f"osmnx:{func}")
