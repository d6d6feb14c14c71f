"""Readers: OSM-derived line layers, ``.osm`` XML and ``.osm.pbf`` files → one line GeoDataFrame.

All readers return the same shape: a GeoDataFrame of LineStrings in EPSG:4326 (or the file's
CRS for line layers) with string columns ``highway``, ``ref``, ``name``, ``oneway``, ``region``,
``source_file`` and ``country`` (ISO2 from a ``CC_`` file-name prefix, "" otherwise), ready for
:func:`corridor.network.graph_from_lines`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from corridor._validate import require_columns
from corridor.errors import InputDataError

__all__ = [
    "LINE_COLUMNS",
    "OSM_SUFFIXES",
    "drop_duplicate_geometries",
    "is_osm_file",
    "read_lines",
    "read_osm",
]

log = logging.getLogger(__name__)

#: Text columns every reader returns (besides ``geometry``).
LINE_COLUMNS = ("highway", "ref", "name", "oneway", "junction", "region", "source_file", "country")
#: Counts the OSM reader keeps in ``GeoDataFrame.attrs`` (summed over files by read_lines).
READ_COUNTS = ("ways_split_at_missing_nodes", "missing_node_gaps", "ways_without_located_nodes")
_LINE_TYPES = {"LineString", "MultiLineString"}
#: Area of use of EPSG:3035 (Europe), lon/lat degrees: data outside it means a wrong CRS.
_EUROPE_LONLAT = (-35.6, 24.6, 44.9, 84.8)
_CC_PREFIX = re.compile(r"^([A-Z]{2})_")
#: File name endings read by :func:`read_osm` (pyosmium) rather than by GDAL.
OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".osc")
#: Highway classes read from OSM files when none are given.
_DEFAULT_CLASSES = ("motorway", "motorway_link", "trunk", "trunk_link")


def is_osm_file(path: Path) -> bool:
    """Tell raw OSM files (``.osm`` XML, ``.osm.pbf``, compressed XML) from others."""
    name = Path(path).name.lower()
    return name.endswith(OSM_SUFFIXES)


def read_osm(
    path: Path | str, highway_classes: Sequence[str] = _DEFAULT_CLASSES
) -> gpd.GeoDataFrame:
    """Read the road ways of a raw OSM file with pyosmium.

    Parameters
    ----------
    path
        An ``.osm`` XML or ``.osm.pbf`` file (also ``.osm.bz2``/``.osm.gz``); node locations are
        resolved from the file itself, so it must contain the ways' nodes (any extract does).
    highway_classes
        ``highway`` values kept (default motorway, motorway_link, trunk, trunk_link).

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per way (EPSG:4326) with text columns :data:`LINE_COLUMNS` plus
        ``osm_id`` (``w<id>``); ``oneway`` keeps the raw tag (missing → NA), ``junction`` the
        raw tag, ``country`` is "". A way whose nodes are partly missing from the extract is
        never bridged by a straight line over the gap: it is split there into one line per run
        of located nodes (same ``osm_id``), runs of one node are dropped, and a warning gives
        the counts, also kept in ``attrs`` (:data:`READ_COUNTS`) for the build report.

    Raises
    ------
    InputDataError
        Naming the file: missing, unreadable/corrupt, or holding no way of the given classes.
    """
    import osmium

    path = Path(path)
    if not path.is_file():
        msg = f"OSM file {path} does not exist; check the path"
        raise InputDataError(msg)
    keep = set(highway_classes)
    rows: list[tuple] = []
    geoms = []
    n_short = n_split = n_gaps = 0
    try:
        fp = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in fp:
            if not obj.is_way() or obj.tags.get("highway") not in keep:
                continue
            runs = _located_runs(obj.nodes)  # missing nodes at the ends only truncate
            parts = [r for r in runs if len(r) >= 2]
            if not parts:
                n_short += 1
                continue
            if len(runs) > 1:
                n_split += 1
                n_gaps += len(runs) - 1
            t = obj.tags
            row = (
                t.get("highway"),
                t.get("ref", ""),
                t.get("name", ""),
                t.get("oneway"),
                t.get("junction", ""),
                f"w{obj.id}",
            )
            for coords in parts:
                rows.append(row)
                geoms.append(shapely.LineString(coords))
    except Exception as err:  # osmium raises RuntimeError/ValueError for bad files
        msg = (
            f"cannot read OSM file {path}: {err}. Expected an OSM XML (.osm) or PBF (.osm.pbf) "
            "file; re-download or re-export it (e.g. osmium cat)"
        )
        raise InputDataError(msg) from err
    if n_short:
        log.warning("%s: %d ways without two located nodes skipped", path, n_short)
    if n_split:
        log.warning(
            "%s: %d ways reference nodes missing from the extract; split at %d gaps instead of "
            "bridging them with straight lines (use a complete extract, e.g. osmium extract "
            "--strategy complete_ways)",
            path,
            n_split,
            n_gaps,
        )
    if not rows:
        msg = (
            f"OSM file {path} holds no ways with highway in {sorted(keep)}; expected a road "
            "extract containing motorways/trunk roads (with their nodes)"
        )
        raise InputDataError(msg)
    df = pd.DataFrame(rows, columns=["highway", "ref", "name", "oneway", "junction", "osm_id"])
    gdf = gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")
    gdf["region"] = ""
    out = _normalise(gdf, path)
    out["osm_id"] = df["osm_id"].to_numpy(object)
    out.attrs.update(
        ways_split_at_missing_nodes=n_split,
        missing_node_gaps=n_gaps,
        ways_without_located_nodes=n_short,
    )
    return out


def _located_runs(nodes: Iterable) -> list[list[tuple[float, float]]]:
    """Split a way's node list into runs of consecutive located nodes (lon, lat)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for n in nodes:
        if n.location.valid():
            runs[-1].append((n.lon, n.lat))
        elif runs[-1]:
            runs.append([])
    if not runs[-1]:
        runs.pop()
    return runs


def country_from_filename(path: Path) -> str:
    """ISO2 code of a ``CC_region.ext`` file name, "" if the name has no such prefix."""
    m = _CC_PREFIX.match(path.name)
    return m.group(1) if m else ""


def _read_one(path: Path) -> gpd.GeoDataFrame:
    path = Path(path)
    if not path.is_file():
        msg = f"road layer {path} does not exist; check the path (or the data folder)"
        raise InputDataError(msg)
    try:
        if path.suffix.lower() in {".parquet", ".geoparquet"}:
            gdf = gpd.read_parquet(path)
        else:
            gdf = pyogrio.read_dataframe(path)
    except InputDataError:
        raise
    except Exception as err:  # pyogrio / arrow raise many types for unreadable files
        msg = (
            f"cannot read road layer {path}: {err}. Expected a GeoJSON, GeoPackage or GeoParquet "
            "file of OSM lines with columns highway, ref, oneway"
        )
        raise InputDataError(msg) from err
    if len(gdf) == 0:
        msg = (
            f"road layer {path} is empty (0 features); expected OSM motorway/trunk LineStrings. "
            "Re-export the layer or remove the file"
        )
        raise InputDataError(msg)
    require_columns(
        gdf,
        ["highway"],
        f"road layer {path}",
        hint=(
            "Expected OSM lines tagged highway=motorway/trunk/..., with ref and oneway; rename the "
            "class column to 'highway'"
        ),
    )
    types = gdf.geometry.geom_type
    bad = ~types.isin(_LINE_TYPES) & types.notna()
    if bad.any():
        counts = types[bad].value_counts().to_dict()
        row = int(np.flatnonzero(bad.to_numpy())[0])
        msg = (
            f"road layer {path} holds non-line geometries {counts} (first at row {row}); "
            "expected LineString or MultiLineString road centre lines"
        )
        raise InputDataError(msg)
    if gdf.crs is None:
        msg = (
            f"road layer {path} has no CRS; expected lon/lat (EPSG:4326) or a projected CRS. "
            "Set it when exporting (e.g. ogr2ogr -a_srs EPSG:4326)"
        )
        raise InputDataError(msg)
    _check_extent(gdf, path)
    n_empty = int((gdf.geometry.isna() | gdf.geometry.is_empty).sum())
    if n_empty:
        log.warning("%s: dropping %d features without geometry", path, n_empty)
        gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    return gdf


def _check_extent(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Raise if the layer's coordinates do not fall in Europe in its declared CRS."""
    crs = CRS.from_user_input(gdf.crs)
    try:
        bounds = gdf.to_crs("EPSG:4326").total_bounds if not crs.is_geographic else None
    except Exception as err:
        msg = f"road layer {path}: cannot transform from {crs.to_string()} to lon/lat ({err})"
        raise InputDataError(msg) from err
    if bounds is None:
        bounds = gdf.total_bounds
    lo_x, lo_y, hi_x, hi_y = _EUROPE_LONLAT
    ok = np.all(np.isfinite(bounds)) and (
        bounds[0] >= lo_x and bounds[2] <= hi_x and bounds[1] >= lo_y and bounds[3] <= hi_y
    )
    if not ok:
        msg = (
            f"road layer {path} is in an unexpected CRS: declared {crs.to_string()} but its "
            f"extent {np.round(gdf.total_bounds, 3).tolist()} does not lie in Europe "
            f"(lon/lat {np.round(bounds, 3).tolist()}). Fix the declared CRS (coordinates in "
            "metres labelled as EPSG:4326?) or reproject the layer"
        )
        raise InputDataError(msg)


def _normalise(gdf: gpd.GeoDataFrame, path: Path | None) -> gpd.GeoDataFrame:
    out = {}
    for col in LINE_COLUMNS:
        if col in gdf.columns:
            s = gdf[col].astype("string")
            out[col] = s.fillna("" if col != "oneway" else pd.NA).to_numpy(object)
        else:
            out[col] = np.full(len(gdf), "" if col != "oneway" else None, dtype=object)
    if path is not None:
        out["source_file"] = np.full(len(gdf), path.name, dtype=object)
        cc = country_from_filename(path)
        if cc and not (out["country"] != "").any():
            out["country"] = np.full(len(gdf), cc, dtype=object)
    return gpd.GeoDataFrame(out, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def read_lines(paths: Sequence[Path] | Path) -> gpd.GeoDataFrame:
    """Read and validate OSM-derived road line layers.

    Parameters
    ----------
    paths
        GeoJSON / GeoPackage / GeoParquet files of LineStrings with a ``highway`` column (and
        ideally ``ref``, ``name``, ``oneway``), e.g. the shared ``osm_motorways_2021`` files;
        raw OSM files (``.osm``, ``.osm.pbf``) are read with :func:`read_osm`.

    Returns
    -------
    geopandas.GeoDataFrame
        All lines in EPSG:4326 with columns :data:`LINE_COLUMNS` (text, ``oneway`` may be
        missing) and ``geometry``.

    Raises
    ------
    InputDataError
        Naming the file: missing/unreadable, empty, no ``highway`` column, non-line geometries,
        no CRS, or coordinates that do not fit the declared CRS.
    """
    if isinstance(paths, str | Path):
        paths = [Path(paths)]
    if not paths:
        msg = "no road layers given; pass at least one GeoJSON/GeoPackage/GeoParquet file"
        raise InputDataError(msg)
    frames = [
        read_osm(p) if is_osm_file(Path(p)) else _normalise(_read_one(Path(p)), Path(p))
        for p in paths
    ]
    counts = {k: sum(int(f.attrs.get(k, 0)) for f in frames) for k in READ_COUNTS}
    frames = [f.to_crs("EPSG:4326") for f in frames]
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    out.attrs.update(counts)
    return out


def drop_duplicate_geometries(lines: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Drop lines whose geometry is exactly that of an earlier line (same vertices, same order).

    Neighbouring regions of the shared layer overlap by their edge tiles, so the same piece of
    road is in two files; the first copy (in file order) is kept.

    Parameters
    ----------
    lines
        Line layer as from :func:`read_lines` (any CRS; compared in it).

    Returns
    -------
    (GeoDataFrame, dict)
        The lines without repeats (index reset) and the number dropped per ``country`` column
        value ("" when unknown).
    """
    if len(lines) == 0:
        return lines, {}
    wkb = pd.Series(shapely.to_wkb(lines.geometry.to_numpy()), index=lines.index)
    dup = wkb.duplicated(keep="first").to_numpy()
    country = (
        lines["country"].astype(str).to_numpy()
        if "country" in lines.columns
        else np.full(len(lines), "", dtype=object)
    )
    counts = pd.Series(country[dup]).value_counts().sort_index()
    return lines[~dup].reset_index(drop=True), {str(k): int(v) for k, v in counts.items()}
