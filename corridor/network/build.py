"""The one topology builder: OSM-derived line layer → directed truck road graph.

Every source (line layers, ``.osm`` XML, ``.osm.pbf``, osmnx downloads) is first turned into the
same line GeoDataFrame (columns ``highway``, ``ref``, ``name``, ``oneway``, optional ``region``,
``source_file``) and then goes through :func:`graph_from_lines`.

Steps (all vectorised over numpy arrays; no per-vertex Python loops):

1. project to the metric CRS (EPSG:3035), keep the configured highway classes and bounding box;
2. apply OSM one-way semantics per line (:func:`oneway_direction`: ``oneway=-1``/``T`` reverses,
   motorways and roundabouts imply one-way, ``reversible`` is dropped) and cut lines at country
   borders;
3. explode to straight segments with :func:`shapely.get_coordinates`, nodes at shared vertices
   (keyed on coordinates rounded to ``_KEY_RESOLUTION_M``);
4. snap dangling line ends to the nearest other vertex within ``snap_tolerance_m`` (cKDTree +
   union-find via connected components) and deduplicate identical directed segments (vector
   tiles overlap);
5. keep the largest strongly connected component, report what was dropped;
6. merge degree-2 chains of the same highway class, ``ref`` and country into one edge with its
   geometry (u → v);
7. attributes per the GRAPH contract (country from NUTS level-0 boundaries, speeds, times,
   stable edge ids, bearings).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from corridor._validate import GRAPH_CRS, require_columns
from corridor.config import NetworkConfig
from corridor.errors import InputDataError

__all__ = [
    "CONNECTOR",
    "DROPPED",
    "GRAPH_CRS",
    "edge_speeds_kph",
    "graph_from_lines",
    "oneway_counts",
    "oneway_direction",
]

log = logging.getLogger(__name__)

#: ``highway`` of the straight connectors standing in for unmapped local roads at interchanges.
CONNECTOR = "connector"
#: Vertices closer than this (m) after rounding are the same node before snapping.
_KEY_RESOLUTION_M = 0.1
_ONEWAY_YES = {"yes", "1", "true", "y", "f"}
_ONEWAY_REVERSE = {"-1", "reverse", "t"}
_ONEWAY_NO = {"no", "0", "false", "n", "b"}
#: ``oneway=alternating``: both directions, one at a time, switching several times an hour.
_ONEWAY_ALTERNATING = {"alternating"}
#: ``oneway=reversible``: one direction at a time on a schedule ("tidal flow").
_ONEWAY_REVERSIBLE = {"reversible"}
_IMPLIED_ONEWAY = {"motorway", "motorway_link"}
_IMPLIED_ONEWAY_JUNCTION = {"roundabout", "circular"}
#: ``direction`` of a line that is dropped (``oneway=reversible``).
DROPPED = 2


def oneway_direction(
    oneway: pd.Series, highway: pd.Series, junction: pd.Series | None = None
) -> np.ndarray:
    """OSM one-way semantics per line (wiki ``Key:oneway``, ``Key:junction``).

    Parameters
    ----------
    oneway
        The ``oneway`` tag, case-insensitive: ``yes``/``1``/``true`` drive along the geometry;
        ``-1``/``reverse`` against it; ``no``/``0``/``false`` both directions; ``alternating``
        both directions (OSM: one direction at a time, switching several times an hour, and
        "routing engines are encouraged to route over this type of oneway independent of
        direction"); ``reversible`` dropped (OSM: the direction changes a few times a day on a
        schedule and "routing engines should not route over this type of oneway without knowing
        about oneway schedule times", which OSM lines do not carry). The one-letter codes of
        shapefile exports (Geofabrik): ``F`` forward one-way, ``T`` backward one-way (against
        the geometry), ``B`` both, ``N`` no; so ``T``/``F`` are *not* true/false. Missing or
        other values (e.g. ``unknown``) count as missing.
    highway
        The ``highway`` tag; ``motorway`` and ``motorway_link`` imply ``oneway=yes`` when the tag
        is missing (OSM convention: each motorway carriageway is mapped as its own way).
    junction
        The ``junction`` tag, optional; ``roundabout`` and ``circular`` imply ``oneway=yes``
        when the ``oneway`` tag is missing (an explicit ``oneway`` tag wins).

    Returns
    -------
    numpy.ndarray
        int8 per line: ``1`` drive along the geometry only, ``-1`` against it only, ``0`` both,
        :data:`DROPPED` (2) not usable for routing (``reversible``).
    """
    tag = oneway.astype("string").str.strip().str.lower().fillna("")
    hw = highway.astype("string").fillna("")
    out = np.zeros(len(tag), dtype=np.int8)
    yes = tag.isin(_ONEWAY_YES).to_numpy(bool)
    rev = tag.isin(_ONEWAY_REVERSE).to_numpy(bool)
    both = (tag.isin(_ONEWAY_NO) | tag.isin(_ONEWAY_ALTERNATING)).to_numpy(bool)
    drop = tag.isin(_ONEWAY_REVERSIBLE).to_numpy(bool)
    missing = ~(yes | rev | both | drop)
    implied = hw.isin(_IMPLIED_ONEWAY).to_numpy(bool)
    if junction is not None:
        jn = junction.astype("string").str.strip().str.lower().fillna("")
        implied = implied | jn.isin(_IMPLIED_ONEWAY_JUNCTION).to_numpy(bool)
    out[yes | (missing & implied)] = 1
    out[rev] = -1
    out[drop] = DROPPED
    return out


def oneway_counts(oneway: pd.Series, junction: pd.Series) -> dict[str, Any]:
    """Count the lines per one-way rule applied by :func:`oneway_direction` (for the report).

    Returns
    -------
    dict
        ``roundabout_oneway_implied`` (roundabout/circular without a known ``oneway`` value),
        ``reversed_oneway`` (``-1``/``reverse``/``T``), ``alternating_two_way``,
        ``reversible_dropped`` and ``unknown_oneway_values`` (value → lines, read as missing).
    """
    tag = oneway.astype("string").str.strip().str.lower().fillna("")
    jn = junction.astype("string").str.strip().str.lower().fillna("")
    known = _ONEWAY_YES | _ONEWAY_REVERSE | _ONEWAY_NO | _ONEWAY_ALTERNATING | _ONEWAY_REVERSIBLE
    missing = ~tag.isin(known)
    unknown = tag[missing & (tag != "")]
    return {
        "roundabout_oneway_implied": int((missing & jn.isin(_IMPLIED_ONEWAY_JUNCTION)).sum()),
        "reversed_oneway": int(tag.isin(_ONEWAY_REVERSE).sum()),
        "alternating_two_way": int(tag.isin(_ONEWAY_ALTERNATING).sum()),
        "reversible_dropped": int(tag.isin(_ONEWAY_REVERSIBLE).sum()),
        "unknown_oneway_values": {str(k): int(n) for k, n in unknown.value_counts().items()},
    }


def _prepare_lines(
    lines: gpd.GeoDataFrame,
    config: NetworkConfig,
    region: shapely.Geometry | None = None,
    countries: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, dict]:
    """Filter classes, clip, project, explode, apply one-way rules, split lines at borders.

    Returns
    -------
    tuple
        ``(lines, stats)``: the lines with text columns, ``direction`` (see
        :func:`oneway_direction`, reversible ways removed) and ``country`` (from ``countries``
        when given: lines crossing a border are cut there, each part gets its country); ``stats``
        holds the counts of :func:`oneway_counts`, ``reversible_dropped_km`` and
        ``lines_split_at_border``.
    """
    if lines.crs is None:
        msg = "line layer has no CRS; set it (e.g. gdf.set_crs('EPSG:4326')) before building"
        raise InputDataError(msg)
    require_columns(lines, ["highway"], "line layer")
    df = lines[lines["highway"].isin(config.highway_classes)]
    df = df[~(df.geometry.isna() | df.geometry.is_empty)]
    if config.bbox_lonlat is not None:
        box = shapely.box(*config.bbox_lonlat)
        df = df.to_crs("EPSG:4326")
        df = df[df.geometry.intersects(box)].copy()
        df["geometry"] = df.geometry.intersection(box)
    if region is not None:
        df = df.to_crs("EPSG:4326")
        df = df[df.geometry.intersects(region)].copy()
        df["geometry"] = df.geometry.intersection(region)
    df = df.to_crs(config.crs)
    df = df.explode(index_parts=False, ignore_index=True)
    df = df[df.geom_type == "LineString"].reset_index(drop=True)
    cols = {}
    for col in ("ref", "name", "region", "source_file", "country", "junction"):
        cols[col] = (
            df[col].astype("string").fillna("").str.strip().to_numpy(object)
            if col in df.columns
            else np.full(len(df), "", dtype=object)
        )
    oneway = df["oneway"] if "oneway" in df.columns else pd.Series([None] * len(df))
    oneway = oneway.reset_index(drop=True)
    junction = pd.Series(cols.pop("junction"))
    direction = oneway_direction(oneway, df["highway"].reset_index(drop=True), junction)
    stats: dict = oneway_counts(oneway, junction)
    out = gpd.GeoDataFrame(
        {"highway": df["highway"].astype(str).to_numpy(object), **cols, "direction": direction},
        geometry=df.geometry.to_numpy(),
        crs=config.crs,
    )
    dropped = out["direction"].to_numpy() == DROPPED
    stats["reversible_dropped_km"] = round(float(out.geometry[dropped].length.sum()) / 1000, 3)
    out = out[~dropped].reset_index(drop=True)
    out, stats["lines_split_at_border"] = _split_at_borders(out, countries, config.crs)
    return out, stats


def _country_polygons(countries: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """One (multi)polygon per country code ``cc`` in ``crs``."""
    code_col = next((c for c in ("CNTR_CODE", "country", "iso2", "ISO_A2") if c in countries), None)
    if code_col is None:
        msg = (
            "country boundaries need a 'CNTR_CODE' (NUTS) or 'country' column, got "
            f"{list(countries.columns)}"
        )
        raise InputDataError(msg)
    poly = countries[[code_col, "geometry"]].rename(columns={code_col: "cc"}).to_crs(crs)
    poly["cc"] = poly["cc"].astype(str)
    return poly.dissolve("cc", as_index=False)[["cc", "geometry"]]


def _split_at_borders(
    lines: gpd.GeoDataFrame, countries: gpd.GeoDataFrame | None, crs: str
) -> tuple[gpd.GeoDataFrame, int]:
    """Cut lines where they cross a country border and set ``country`` per line.

    Each line (or part) gets the country polygon it lies in, or the nearest one if it lies in
    none (the 1:60M coastlines are coarse). Parts keep the line's drawing direction, so one-way
    semantics are unchanged. Without ``countries`` the lines keep their ``country`` column.

    Returns
    -------
    tuple
        ``(lines, n_split)`` with ``n_split`` the number of lines cut at a border.
    """
    if countries is None or len(lines) == 0:
        return lines, 0
    poly = _country_polygons(countries, crs)
    hits = gpd.sjoin(lines[["geometry"]], poly, how="inner", predicate="intersects")
    n_cc = hits.groupby(level=0)["cc"].nunique()
    multi = n_cc.index[n_cc.to_numpy() > 1].to_numpy()
    single = n_cc.index[n_cc.to_numpy() == 1].to_numpy()
    cc = np.full(len(lines), "", dtype=object)
    first = hits[~hits.index.duplicated(keep="first")]["cc"]
    cc[single] = first.loc[single].to_numpy(object)
    parts_rows: list[int] = []
    parts_geom: list = []
    parts_cc: list[str] = []
    by_cc = dict(zip(poly["cc"], poly.geometry, strict=True))
    n_split = 0
    for i in multi:
        n_before = len(parts_rows)
        line = lines.geometry.iat[i]
        codes = sorted(set(hits.loc[[i], "cc"]))
        pieces = [(c, shapely.intersection(line, by_cc[c])) for c in codes]
        rest = shapely.difference(line, shapely.union_all([by_cc[c] for c in codes]))
        pieces.append(("", rest))
        for c, g in pieces:
            for part in shapely.get_parts(g):
                if part.geom_type != "LineString" or part.length == 0:
                    continue
                # keep the drawing direction (one-way semantics depend on it)
                p0, p1 = shapely.get_coordinates(part)[[0, -1]]
                if line.project(shapely.Point(p0)) > line.project(shapely.Point(p1)):
                    part = part.reverse()
                parts_rows.append(int(i))
                parts_geom.append(part)
                parts_cc.append(c)
        n_split += len(parts_rows) - n_before > 1  # not a line that only touches a border
    keep = np.ones(len(lines), dtype=bool)
    keep[multi] = False
    out = lines[keep].assign(country=cc[keep])
    if parts_rows:
        parts = lines.iloc[parts_rows].assign(country=parts_cc)
        parts = parts.set_geometry(gpd.GeoSeries(parts_geom, index=parts.index, crs=crs))
        out = pd.concat([out, parts])
    out = gpd.GeoDataFrame(out.reset_index(drop=True), crs=crs)
    # lines (and leftover parts) outside every polygon: nearest country
    miss = (out["country"] == "").to_numpy()
    if miss.any():
        out.loc[miss, "country"] = _nearest_country(out.geometry[miss].to_numpy(), poly, crs)
    return out, int(n_split)


def _nearest_country(geoms: np.ndarray, poly: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Code of the country polygon nearest to each geometry (0 m if inside), "" if none."""
    pts = gpd.GeoDataFrame(geometry=geoms, crs=crs)
    near = gpd.sjoin_nearest(pts, poly, how="left")
    near = near[~near.index.duplicated(keep="first")]
    return near["cc"].reindex(pts.index).fillna("").to_numpy(object)


def _segments(lines: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed straight segments of all lines.

    Returns
    -------
    tuple
        ``(start_xy, end_xy, line_index)``; lines with ``direction == -1`` are reversed and
        two-way lines (``0``) give each segment in both directions.
    """
    coords, idx = shapely.get_coordinates(lines.geometry.to_numpy(), return_index=True)
    same = idx[1:] == idx[:-1]
    a, b, li = coords[:-1][same], coords[1:][same], idx[:-1][same]
    direction = lines["direction"].to_numpy()[li]
    rev = direction == -1
    a2 = np.where(rev[:, None], b, a)
    b2 = np.where(rev[:, None], a, b)
    both = direction == 0
    start = np.concatenate([a2, b2[both]])
    end = np.concatenate([b2, a2[both]])
    line = np.concatenate([li, li[both]])
    return start, end, line


def _vertex_ids(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids of rounded vertex positions: ``(u, v, xy)`` with ``xy`` the coordinates per id."""
    pts = np.concatenate([start, end])
    q = np.round(pts / _KEY_RESOLUTION_M).astype(np.int64)
    key = (q[:, 0] << 32) + q[:, 1]
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    xy = pts[first]
    n = len(start)
    return inv[:n], inv[n:], xy


_CONTINUE_MAX_DEG = 45.0  # end-to-start joins: travel directions differ by at most this
_ONTO_MAX_DEG = 100.0  # end-onto-segment joins: at most this (excludes opposite carriageways)


def _unit(vec: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vec, axis=1, keepdims=True)
    return vec / np.where(norm > 0, norm, 1.0)


def _dangling_ends(u: np.ndarray, v: np.ndarray, xy: np.ndarray) -> pd.DataFrame:
    """Line ends touching one other vertex, one row per role.

    ``role`` is ``"in"`` for an end traffic arrives at (it must continue somewhere) and ``"out"``
    for an end traffic leaves from; a two-way dead end has both rows. ``dx, dy`` is the unit
    travel direction at the end, ``seg`` the index of its segment.
    """
    n = len(xy)
    und = np.unique(np.sort(np.stack([u, v], axis=1), axis=1), axis=0)
    degree = np.bincount(und.ravel(), minlength=n)
    dangling = degree == 1
    seg = np.arange(len(u))
    ins = pd.DataFrame({"vertex": v, "other": u, "seg": seg, "role": "in"})[dangling[v]]
    outs = pd.DataFrame({"vertex": u, "other": v, "seg": seg, "role": "out"})[dangling[u]]
    ends = pd.concat([ins, outs], ignore_index=True)
    vec = xy[ends["vertex"]] - xy[ends["other"]]
    vec[ends["role"].to_numpy() == "out"] *= -1
    d = _unit(vec)
    ends["dx"], ends["dy"] = d[:, 0], d[:, 1]
    return ends


def _join_dangling(
    u: np.ndarray, v: np.ndarray, li: np.ndarray, xy: np.ndarray, tolerance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """Connect dangling line ends to the network within ``tolerance_m``.

    Lines of generalised sources (vector tiles) often stop a few metres short of the line they
    continue or merge into. Two kinds of direction-aware joins close these gaps with a short
    connector segment (the gap length is added to the route length, nothing is moved):

    1. *continuation*: an arriving end to a leaving end of another line whose travel directions
       differ by at most 45°; matched greedily by distance, each end at most once
       (candidates from a cKDTree);
    2. *onto a segment*: every end still unmatched to the nearest point of a segment (an
       STRtree query) whose travel direction differs by at most 100°, so an end never joins the
       opposite carriageway of a dual carriageway. The segment is split there (both directions
       of a two-way road).

    Returns
    -------
    tuple
        ``(u, v, line_index, xy, stats)`` with connectors and split segments appended and
        ``stats`` = snaps (connectors), snapped_km (their summed length), continuation_snaps,
        onto_segment_snaps.
    """
    stats = {"snaps": 0, "snapped_km": 0.0, "continuation_snaps": 0, "onto_segment_snaps": 0}
    if tolerance_m <= 0 or len(u) == 0:
        return u, v, li, xy, stats
    ends = _dangling_ends(u, v, xy)
    arr = ends[ends["role"] == "in"].reset_index(drop=True)
    dep = ends[ends["role"] == "out"].reset_index(drop=True)
    con_u: list[np.ndarray] = []
    con_v: list[np.ndarray] = []
    con_li: list[np.ndarray] = []
    matched_in = np.zeros(len(arr), dtype=bool)
    matched_out = np.zeros(len(dep), dtype=bool)

    # 1. continuation joins (end → start)
    if len(arr) and len(dep):
        tree = cKDTree(xy[dep["vertex"]])
        k = min(4, len(dep))
        dist, idx = tree.query(xy[arr["vertex"]], k=k, distance_upper_bound=tolerance_m)
        dist, idx = dist.reshape(len(arr), k), idx.reshape(len(arr), k)
        ai = np.repeat(np.arange(len(arr)), k)
        di, dd = idx.ravel(), dist.ravel()
        ok = di < len(dep)
        ai, di, dd = ai[ok], di[ok], dd[ok]
        av, dv = arr["vertex"].to_numpy()[ai], dep["vertex"].to_numpy()[di]
        cos = arr["dx"].to_numpy()[ai] * dep["dx"].to_numpy()[di] + (
            arr["dy"].to_numpy()[ai] * dep["dy"].to_numpy()[di]
        )
        ok = (av != dv) & (arr["other"].to_numpy()[ai] != dv)
        ok &= cos >= np.cos(np.radians(_CONTINUE_MAX_DEG))
        ai, di, dd = ai[ok], di[ok], dd[ok]
        sel_a, sel_d = [], []
        for j in np.argsort(dd, kind="stable"):
            if not matched_in[ai[j]] and not matched_out[di[j]]:
                matched_in[ai[j]] = matched_out[di[j]] = True
                sel_a.append(ai[j])
                sel_d.append(di[j])
        if sel_a:
            con_u.append(arr["vertex"].to_numpy()[sel_a])
            con_v.append(dep["vertex"].to_numpy()[sel_d])
            con_li.append(li[arr["seg"].to_numpy()[sel_a]])
            stats["continuation_snaps"] = len(sel_a)

    # 2. remaining ends onto the nearest compatible segment
    rest = pd.concat([arr[~matched_in], dep[~matched_out]], ignore_index=True)
    new_xy: list[np.ndarray] = []
    split_rows = []
    if len(rest):
        seg_geom = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
        tree = shapely.STRtree(seg_geom)
        pts = shapely.points(xy[rest["vertex"]])
        pi, si = tree.query(pts, predicate="dwithin", distance=tolerance_m)
        rv = rest["vertex"].to_numpy()[pi]
        ok = (u[si] != rv) & (v[si] != rv)
        pi, si = pi[ok], si[ok]
        sdir = _unit(xy[v[si]] - xy[u[si]])
        cos = rest["dx"].to_numpy()[pi] * sdir[:, 0] + rest["dy"].to_numpy()[pi] * sdir[:, 1]
        ok = cos >= np.cos(np.radians(_ONTO_MAX_DEG))
        pi, si = pi[ok], si[ok]
        dist = shapely.distance(pts[pi], seg_geom[si])
        best = pd.DataFrame({"p": pi, "s": si, "d": dist}).sort_values(["p", "d"], kind="stable")
        best = best.drop_duplicates("p")
        for p_i, s_i in zip(best["p"].to_numpy(), best["s"].to_numpy(), strict=True):
            a, b = xy[u[s_i]], xy[v[s_i]]
            ab = b - a
            t = float(np.clip(np.dot(xy[rest["vertex"].iat[p_i]] - a, ab) / np.dot(ab, ab), 0, 1))
            split_rows.append((p_i, u[s_i], v[s_i], t, t * float(np.linalg.norm(ab))))
    if split_rows:
        sp = pd.DataFrame(split_rows, columns=["p", "a", "b", "t", "off_m"])
        seg_len = np.linalg.norm(xy[sp["b"]] - xy[sp["a"]], axis=1)
        # projection within 0.5 m of a segment end: join that vertex, no split
        at_a = sp["off_m"].to_numpy() < 0.5
        at_b = (seg_len - sp["off_m"].to_numpy()) < 0.5
        target = np.where(at_a, sp["a"], np.where(at_b, sp["b"], -1)).astype(np.int64)
        inner = target < 0
        n0 = len(xy)
        pos = xy[sp["a"][inner]] + sp["t"][inner].to_numpy()[:, None] * (
            xy[sp["b"][inner]] - xy[sp["a"][inner]]
        )
        target[inner] = n0 + np.arange(int(inner.sum()))
        new_xy.append(pos)
        sp["target"] = target
        # split every directed segment (either direction) of the undirected pairs
        lo = np.minimum(sp["a"], sp["b"]).to_numpy()
        hi = np.maximum(sp["a"], sp["b"]).to_numpy()
        cuts = sp[inner].assign(lo=lo[inner], hi=hi[inner])
        cuts["t_lo"] = np.where(cuts["a"] == cuts["lo"], cuts["t"], 1 - cuts["t"])
        seg_lo, seg_hi = np.minimum(u, v), np.maximum(u, v)
        seg_key = pd.Series(np.arange(len(u)), index=pd.MultiIndex.from_arrays([seg_lo, seg_hi]))
        drop = np.zeros(len(u), dtype=bool)
        for (lo_v, hi_v), grp in cuts.groupby(["lo", "hi"], sort=False):
            mids = grp.sort_values("t_lo")["target"].to_numpy()
            mids = mids[~pd.Series(mids).duplicated().to_numpy()]
            for s_i in np.atleast_1d(seg_key.loc[(lo_v, hi_v)]):
                drop[s_i] = True
                chain = np.r_[lo_v, mids, hi_v] if u[s_i] == lo_v else np.r_[hi_v, mids[::-1], lo_v]
                con_u.append(chain[:-1])
                con_v.append(chain[1:])
                con_li.append(np.full(len(chain) - 1, li[s_i]))
        rv = rest["vertex"].to_numpy()[sp["p"]]
        arriving = rest["role"].to_numpy()[sp["p"]] == "in"
        join_u = np.where(arriving, rv, target)
        join_v = np.where(arriving, target, rv)
        con_u.append(join_u)
        con_v.append(join_v)
        con_li.append(li[rest["seg"].to_numpy()[sp["p"]]])
        stats["onto_segment_snaps"] = len(sp)
        keep = ~drop
        u, v, li = u[keep], v[keep], li[keep]
    n_cont = stats["continuation_snaps"]
    if new_xy:
        xy = np.concatenate([xy, *new_xy])
    if con_u:
        # connectors are the first continuation block and the last onto-segment block
        blocks_u, blocks_v = con_u, con_v
        join_len = []
        if n_cont:
            join_len.append(np.linalg.norm(xy[blocks_v[0]] - xy[blocks_u[0]], axis=1))
        if split_rows:
            join_len.append(np.linalg.norm(xy[blocks_v[-1]] - xy[blocks_u[-1]], axis=1))
        stats["snaps"] = n_cont + stats["onto_segment_snaps"]
        stats["snapped_km"] = float(sum(x.sum() for x in join_len) / 1000.0)
        u = np.concatenate([u, *con_u])
        v = np.concatenate([v, *con_v])
        li = np.concatenate([li, *con_li])
    return u, v, li, xy, stats


#: A ramp connector turning more than this (°) from the arriving ramp's direction, on the
#: connector itself or on the departing ramp, is a U-turn onto the opposite carriageway.
_CONNECTOR_MAX_TURN_DEG = 150.0


def _turn_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (°, 0–180) between unit direction vectors row by row."""
    cos = np.clip(a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1], -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def _ramp_connectors(
    u: np.ndarray, v: np.ndarray, xy: np.ndarray, radius_m: float, k: int = 3
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Straight connectors from dead-end arrivals to nearby departures (unmapped local roads).

    A motorway-only layer lacks the local roads that link an exit ramp's end to the entry ramps
    of the same interchange. Each arriving dead end gets a connector to each of its ``k`` nearest
    departing dead ends within ``radius_m`` (not on its own segment), unless the connector is a
    U-turn: it turns more than ``_CONNECTOR_MAX_TURN_DEG`` from the arriving direction, either
    along the connector or onto the departing ramp (such links jump between the two carriageways
    of one road and make routes too short). A dead end whose every candidate is a U-turn keeps
    its nearest one (a road cut at the region edge or a motorway ending without mapped
    turnaround), so the graph stays strongly connected.

    Returns
    -------
    tuple
        ``(u, v, stats)``: the connector segments and ``stats`` = ``uturns_rejected`` (candidate
        connectors dropped), ``uturn_fallbacks`` (dead ends kept with their nearest U-turn).
    """
    stats = {"uturns_rejected": 0, "uturn_fallbacks": 0}
    empty = np.empty(0, np.int64)
    if radius_m <= 0 or len(u) == 0:
        return empty, empty, stats
    ends = _dangling_ends(u, v, xy)
    arr = ends[ends["role"] == "in"]
    dep = ends[ends["role"] == "out"]
    if len(arr) == 0 or len(dep) == 0:
        return empty, empty, stats
    k = min(k, len(dep))
    dist, idx = cKDTree(xy[dep["vertex"]]).query(
        xy[arr["vertex"]], k=k, distance_upper_bound=radius_m
    )
    dist, idx = dist.reshape(len(arr), k), idx.reshape(len(arr), k)
    ai = np.repeat(np.arange(len(arr)), k)
    di = idx.ravel()
    ok = di < len(dep)
    ai, di, dd = ai[ok], di[ok], dist.ravel()[ok]
    a = arr["vertex"].to_numpy()[ai]
    b = dep["vertex"].to_numpy()[di]
    ok = (b != a) & (b != arr["other"].to_numpy()[ai])
    ai, di, dd, a, b = ai[ok], di[ok], dd[ok], a[ok], b[ok]
    arr_dir = arr[["dx", "dy"]].to_numpy()[ai]
    dep_dir = dep[["dx", "dy"]].to_numpy()[di]
    con_dir = _unit(xy[b] - xy[a])
    turn_on = np.where(dd > 1.0, _turn_deg(arr_dir, con_dir), 0.0)
    uturn = (turn_on > _CONNECTOR_MAX_TURN_DEG) | (
        _turn_deg(arr_dir, dep_dir) > _CONNECTOR_MAX_TURN_DEG
    )
    # dead ends with no other way on keep their nearest U-turn (rows are sorted by distance)
    has_ok = np.zeros(len(arr), dtype=bool)
    has_ok[ai[~uturn]] = True
    first = np.r_[True, ai[1:] != ai[:-1]]
    fallback = uturn & first & ~has_ok[ai]
    keep = ~uturn | fallback
    stats["uturns_rejected"] = int((uturn & ~fallback).sum())
    stats["uturn_fallbacks"] = int(fallback.sum())
    return a[keep], b[keep], stats


def edge_speeds_kph(highway: np.ndarray, country: np.ndarray, config: NetworkConfig) -> np.ndarray:
    """Truck speed (km/h) per edge: ``speed_kph_by_country[cc][class]``, else ``speed_kph[class]``.

    Connector edges always get ``connector_speed_kph``; a class without a speed gives NaN.
    """
    speeds = {**config.speed_kph, CONNECTOR: config.connector_speed_kph}
    out = np.array([speeds.get(h, np.nan) for h in highway], dtype=float)
    for cc, by_class in config.speed_kph_by_country.items():
        in_cc = np.asarray(country, dtype=object) == cc
        for cls, kph in by_class.items():
            out[in_cc & (np.asarray(highway, dtype=object) == cls)] = kph
    return out


def _km_by(values: np.ndarray, length_m: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {}
    s = pd.Series(length_m).groupby(pd.Series(values, dtype=object)).sum() / 1000.0
    return {str(k): round(float(x), 3) for k, x in s.sort_index().items()}


def _largest_scc(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of vertices in the largest strongly connected component."""
    m = sparse.coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)).tocsr()
    _, comp = connected_components(m, directed=True, connection="strong")
    counts = np.bincount(comp[np.concatenate([u, v])], minlength=comp.max() + 1)
    return comp == int(np.argmax(counts))


def _chains(
    u: np.ndarray,
    v: np.ndarray,
    cls: np.ndarray,
    n: int,
    split_by: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Group directed segments into maximal degree-2 chains of one highway class.

    A vertex is interior when it has exactly two distinct neighbours and either one segment in and
    one out (one-way road) or two in and two out (two-way road). A chain continues through an
    interior vertex onto the out-segment that does not turn back, if it has the same class and
    the same value of every array in ``split_by`` (e.g. ``ref`` and ``country``: an edge never
    spans a change of road number or a border).

    Returns
    -------
    tuple
        ``(chain, rank, breaks)``: per segment its chain id and position within the chain
        (0 = first); ``breaks`` counts, per ``split_by`` key, the interior continuations cut
        because that value changed (in the order given, each cut counted once).
    """
    m = len(u)
    indeg = np.bincount(v, minlength=n)
    outdeg = np.bincount(u, minlength=n)
    und = np.unique(np.sort(np.stack([u, v], axis=1), axis=1), axis=0)
    nbrs = np.bincount(und.ravel(), minlength=n)
    interior = (nbrs == 2) & (((indeg == 1) & (outdeg == 1)) | ((indeg == 2) & (outdeg == 2)))
    # first and second out-segment of every vertex
    order = np.argsort(u, kind="stable")
    start = np.searchsorted(u[order], np.arange(n), side="left")
    out1 = np.full(n, -1, dtype=np.int64)
    out2 = np.full(n, -1, dtype=np.int64)
    has1 = outdeg >= 1
    out1[has1] = order[start[has1]]
    has2 = outdeg >= 2
    out2[has2] = order[start[has2] + 1]
    cand = out1[v]
    back = (cand >= 0) & (v[np.maximum(cand, 0)] == u)
    cand = np.where(back, out2[v], cand)
    nxt = np.where(interior[v] & (cand >= 0), cand, -1)
    nxt[nxt >= 0] = np.where(cls[nxt[nxt >= 0]] == cls[nxt >= 0], nxt[nxt >= 0], -1)
    breaks: dict[str, int] = {}
    for name, values in (split_by or {}).items():
        on = nxt >= 0
        differ = values[nxt[on]] != values[on]
        breaks[name] = int(differ.sum())
        nxt[np.flatnonzero(on)[differ]] = -1
    prev = np.full(m, -1, dtype=np.int64)
    has_next = nxt >= 0
    prev[nxt[has_next]] = np.flatnonzero(has_next)
    # connected components of the next-relation are the chains (paths or pure cycles)
    link = sparse.coo_matrix(
        (np.ones(int(has_next.sum())), (np.flatnonzero(has_next), nxt[has_next])), shape=(m, m)
    )
    _, chain = connected_components(link, directed=False)
    # pure cycles have no start: cut each before its lowest segment id
    is_start = prev < 0
    chains_with_start = np.zeros(chain.max() + 1, dtype=bool)
    chains_with_start[chain[is_start]] = True
    cyc = ~chains_with_start[chain]
    if cyc.any():
        seg = np.flatnonzero(cyc)
        lowest = pd.Series(seg).groupby(chain[seg]).min().to_numpy()
        nxt[prev[lowest]] = -1
        prev[lowest] = -1
    # list ranking by pointer jumping: rank = number of steps back to the chain start
    rank = (prev >= 0).astype(np.int64)
    ptr = prev.copy()
    while True:
        active = ptr >= 0
        if not active.any():
            break
        rank[active] += rank[ptr[active]]
        ptr[active] = ptr[ptr[active]]
    return chain, rank, breaks


def _mode_by_length(chain: np.ndarray, values: np.ndarray, length_m: np.ndarray) -> np.ndarray:
    """Most common non-empty value per chain, weighted by segment length ("" if none)."""
    n_chain = int(chain.max()) + 1 if len(chain) else 0
    out = np.full(n_chain, "", dtype=object)
    nonempty = values != ""
    if not nonempty.any():
        return out
    df = pd.DataFrame(
        {"chain": chain[nonempty], "value": values[nonempty], "w": length_m[nonempty]}
    )
    w = df.groupby(["chain", "value"], sort=True)["w"].sum().reset_index()
    w = w.sort_values(["chain", "w"], ascending=[True, False], kind="stable")
    best = w.drop_duplicates("chain")
    out[best["chain"].to_numpy()] = best["value"].to_numpy(object)
    return out


def _bearing_deg(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Compute the initial bearing (0–360°, 0 = north) of the great circle from point 1 to 2."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.mod(np.degrees(np.arctan2(y, x)), 360.0)


def _edge_ids(geoms: np.ndarray) -> np.ndarray:
    """Stable edge ids: hash of the rounded start, second and end vertex (metres)."""
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    first = np.searchsorted(idx, np.arange(len(geoms)), side="left")
    last = np.searchsorted(idx, np.arange(len(geoms)), side="right") - 1
    q = np.round(coords).astype(np.int64)
    key = np.concatenate([q[first], q[first + 1], q[last]], axis=1)
    ids = np.empty(len(geoms), dtype=object)
    for i, row in enumerate(key):
        ids[i] = "e" + hashlib.blake2b(row.tobytes(), digest_size=6).hexdigest()
    # disambiguate the (rare) identical keys of parallel edges deterministically
    s = pd.Series(ids)
    dup = s.groupby(s).cumcount().to_numpy()
    ids[dup > 0] = [f"{a}-{d}" for a, d in zip(ids[dup > 0], dup[dup > 0], strict=True)]
    return ids


def graph_from_lines(
    lines: gpd.GeoDataFrame,
    config: NetworkConfig,
    countries: gpd.GeoDataFrame | None = None,
    source: str = "lines",
    region: shapely.Geometry | None = None,
) -> nx.MultiDiGraph:
    """Build the directed truck road graph from an OSM-derived line layer.

    Parameters
    ----------
    lines
        LineStrings (or MultiLineStrings) with a CRS and columns ``highway`` and optionally
        ``ref``, ``name``, ``oneway``, ``junction``, ``region``, ``source_file``, ``country``
        (one-way rules: :func:`oneway_direction`). The readers' counts of ways split at nodes
        missing from an extract (``lines.attrs``) are carried into the build report.
    config
        The network section of the scenario (classes, bbox, snap tolerance, speeds, CRS).
    countries
        Country polygons with ``CNTR_CODE`` (NUTS level 0). Lines crossing a border are cut
        there and every edge lies in one country (chains are never merged across a border nor
        across a change of ``ref``), so km per country summed over edges are exact up to the
        1:60M boundaries. Without it the lines' ``country`` column is used ("" if absent).
    source
        Provenance string stored in ``G.graph['source']``.
    region
        Optional (Multi)Polygon in lon/lat degrees; lines are clipped to it before building
        (see :func:`corridor.network.region_polygon`), like ``config.bbox_lonlat``.

    Returns
    -------
    networkx.MultiDiGraph
        Graph per the GRAPH contract; ``G.graph['build_report']`` holds node/edge counts, km per
        class and country, snaps, snapped km, dropped km by class and region, source files, and
        what the OSM rules changed: implied roundabout one-ways, reversed (``-1``/``T``),
        alternating and dropped reversible lines, unknown ``oneway`` values, lines cut at
        borders, chain breaks at ``ref`` changes and borders, ways split at missing nodes.

    Raises
    ------
    InputDataError
        If the layer has no CRS, no ``highway`` column or no line of the configured classes.
    """
    prepared, line_stats = _prepare_lines(lines, config, region, countries)
    if len(prepared) == 0:
        msg = (
            f"no lines of classes {list(config.highway_classes)} left to build a graph from "
            f"(bbox {config.bbox_lonlat}, region {'given' if region is not None else 'none'}); "
            "check the input layer and the network config"
        )
        raise InputDataError(msg)
    a, b, li = _segments(prepared)
    u, v, xy = _vertex_ids(a, b)
    keep = u != v
    u, v, li = u[keep], v[keep], li[keep]
    # identical directed segments (overlapping tiles, duplicated ways): keep the first
    first = ~pd.DataFrame({"u": u, "v": v}).duplicated().to_numpy()
    n_dup = int((~first).sum())
    u, v, li = u[first], v[first], li[first]
    u, v, li, xy, snap_stats = _join_dangling(u, v, li, xy, config.snap_tolerance_m)
    n_snaps, snapped_km = snap_stats["snaps"], snap_stats["snapped_km"]
    cu, cv, ramp_stats = _ramp_connectors(u, v, xy, config.ramp_connector_m)
    if len(cu):
        connector_row = len(prepared)
        prepared = pd.concat(
            [prepared, gpd.GeoDataFrame({"highway": [CONNECTOR]}, geometry=[None], crs=config.crs)],
            ignore_index=True,
        ).fillna({c: "" for c in ("ref", "name", "region", "source_file", "country")})
        u, v = np.concatenate([u, cu]), np.concatenate([v, cv])
        li = np.concatenate([li, np.full(len(cu), connector_row)])
    connector_km = float(np.linalg.norm(xy[cv] - xy[cu], axis=1).sum() / 1000.0)
    seg_len = np.linalg.norm(xy[v] - xy[u], axis=1)
    hw = prepared["highway"].to_numpy(object)[li]
    region = prepared["region"].to_numpy(object)[li]
    total_km_by_class = _km_by(hw, seg_len)

    in_scc = _largest_scc(u, v, len(xy))
    kept = in_scc[u] & in_scc[v]
    dropped_by_class = _km_by(hw[~kept], seg_len[~kept])
    dropped_by_region = _km_by(region[~kept], seg_len[~kept])
    u, v, li, seg_len, hw = u[kept], v[kept], li[kept], seg_len[kept], hw[kept]
    if len(u) == 0:
        msg = (
            "the road lines hold no strongly connected part (no route can return to its start): "
            f"{sum(dropped_by_class.values()):.1f} km dropped by class {dropped_by_class}; check "
            "one-way tags and gaps between line ends (network.snap_tolerance_m)"
        )
        raise InputDataError(msg)

    line_ref = prepared["ref"].to_numpy(object)[li]
    line_cc = prepared["country"].to_numpy(object)[li]
    chain, rank, breaks = _chains(
        u,
        v,
        pd.factorize(hw)[0],
        len(xy),
        split_by={"ref": pd.factorize(line_ref)[0], "country": pd.factorize(line_cc)[0]},
    )
    order = np.lexsort((rank, chain))
    u, v, li, seg_len, hw, chain = (x[order] for x in (u, v, li, seg_len, hw, chain))
    line_ref, line_cc = line_ref[order], line_cc[order]
    starts = np.flatnonzero(np.r_[True, chain[1:] != chain[:-1]])
    ends = np.r_[starts[1:], len(chain)] - 1
    # geometry: u of every segment, plus v of the chain's last segment
    pts = np.concatenate([xy[u], xy[v[ends]]])
    pidx = np.concatenate([chain, chain[ends]])
    porder = np.lexsort((np.r_[np.arange(len(u)), ends + 0.5], pidx))
    geoms = shapely.linestrings(pts[porder], indices=pidx[porder])
    eu, ev = u[starts], v[ends]
    length_m = np.bincount(chain, weights=seg_len)
    ehw = hw[starts]
    ref = line_ref[starts]  # one ref per chain (chains break where it changes)
    name = _mode_by_length(chain, prepared["name"].to_numpy(object)[li], seg_len)
    country = line_cc[starts]  # one country per chain (lines are cut at borders)
    if countries is not None and (country == "").any():  # ramp connectors: by their midpoint
        blank = country == ""
        mid = shapely.line_interpolate_point(geoms[blank], 0.5, normalized=True)
        country[blank] = _nearest_country(mid, _country_polygons(countries, config.crs), config.crs)
    speed = edge_speeds_kph(ehw, country, config)
    if np.isnan(speed).any():
        missing = sorted(set(ehw[np.isnan(speed)]))
        msg = f"no truck speed configured for highway classes {missing} (network.speed_kph)"
        raise InputDataError(msg)
    travel_time_s = length_m / (speed / 3.6)

    # nodes used by edges, ids in coordinate order (deterministic)
    used = np.unique(np.concatenate([eu, ev]))
    to_lonlat = Transformer.from_crs(config.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(xy[used, 0], xy[used, 1])
    node_index = np.full(len(xy), -1, dtype=np.int64)
    node_index[used] = np.arange(len(used))
    eu_i, ev_i = node_index[eu], node_index[ev]
    bearing = _bearing_deg(lon[eu_i], lat[eu_i], lon[ev_i], lat[ev_i])
    # self-loop chains (closed cycles): bearing of the first segment instead
    loop = eu_i == ev_i
    if loop.any():
        c0 = xy[u[starts[loop]]]
        c1 = xy[v[starts[loop]]]
        lo0, la0 = to_lonlat.transform(c0[:, 0], c0[:, 1])
        lo1, la1 = to_lonlat.transform(c1[:, 0], c1[:, 1])
        bearing[loop] = _bearing_deg(lo0, la0, lo1, la1)
    edge_id = _edge_ids(geoms)
    key = pd.DataFrame({"u": eu_i, "v": ev_i}).groupby(["u", "v"]).cumcount().to_numpy()

    G = nx.MultiDiGraph()
    G.add_nodes_from(
        (int(i), {"x": float(x), "y": float(y), "lon": float(lo), "lat": float(la)})
        for i, x, y, lo, la in zip(
            range(len(used)), xy[used, 0], xy[used, 1], lon, lat, strict=True
        )
    )
    G.add_edges_from(
        (
            int(eu_i[i]),
            int(ev_i[i]),
            int(key[i]),
            {
                "edge_id": edge_id[i],
                "length_m": float(length_m[i]),
                "highway": str(ehw[i]),
                "ref": str(ref[i]),
                "name": str(name[i]),
                "speed_kph": float(speed[i]),
                "travel_time_s": float(travel_time_s[i]),
                "country": str(country[i]),
                "geometry": geoms[i],
                "bearing_deg": float(bearing[i]),
            },
        )
        for i in range(len(geoms))
    )
    sources = sorted({s for s in prepared["source_file"] if s})
    report = {
        "input_lines": len(lines),
        "lines_used": len(prepared),
        "segments": len(order),
        "duplicate_segments_removed": n_dup,
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "km_total": round(float(length_m.sum()) / 1000.0, 3),
        "km_by_class": _km_by(ehw, length_m),
        "km_by_country": _km_by(country, length_m),
        "input_km_by_class": total_km_by_class,
        "snaps": n_snaps,
        "snapped_km": round(snapped_km, 4),
        "continuation_snaps": snap_stats["continuation_snaps"],
        "onto_segment_snaps": snap_stats["onto_segment_snaps"],
        "snap_tolerance_m": config.snap_tolerance_m,
        "ramp_connectors": len(cu),
        "ramp_connector_km": round(connector_km, 3),
        "ramp_connector_uturns_rejected": ramp_stats["uturns_rejected"],
        "ramp_connector_uturn_fallbacks": ramp_stats["uturn_fallbacks"],
        "dropped_km_by_class": dropped_by_class,
        "dropped_km_by_region": dropped_by_region,
        "dropped_km": round(sum(dropped_by_class.values()), 3),
        "source_files": sources,
        "note": "km are directed carriageway km: a two-way road counts once per direction",
        # OSM semantics applied (see oneway_direction and the readers)
        "roundabout_oneway_implied": line_stats["roundabout_oneway_implied"],
        "reversed_oneway_lines": line_stats["reversed_oneway"],
        "alternating_two_way_lines": line_stats["alternating_two_way"],
        "reversible_lines_dropped": line_stats["reversible_dropped"],
        "reversible_km_dropped": line_stats["reversible_dropped_km"],
        "unknown_oneway_values": line_stats["unknown_oneway_values"],
        "lines_split_at_border": line_stats["lines_split_at_border"],
        "chain_breaks_at_ref_change": breaks["ref"],
        "chain_breaks_at_border": breaks["country"],
        "ways_split_at_missing_nodes": int(lines.attrs.get("ways_split_at_missing_nodes", 0)),
        "missing_node_gaps": int(lines.attrs.get("missing_node_gaps", 0)),
        "ways_without_located_nodes": int(lines.attrs.get("ways_without_located_nodes", 0)),
    }
    if report["reversible_lines_dropped"]:
        log.warning(
            "%d oneway=reversible lines (%.1f km) dropped: OSM gives no schedule for their "
            "direction, so they are not routed (OSM wiki Tag:oneway=reversible)",
            report["reversible_lines_dropped"],
            report["reversible_km_dropped"],
        )
    if report["unknown_oneway_values"]:
        log.warning(
            "oneway values read as missing (implied one-way only for motorways/roundabouts): %s",
            report["unknown_oneway_values"],
        )
    G.graph.update(
        crs=config.crs,
        source=source,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_report=report,
    )
    log.info(
        "built graph: %d nodes, %d edges, %.0f km, %d snaps, %.1f km dropped",
        report["nodes"],
        report["edges"],
        report["km_total"],
        n_snaps,
        report["dropped_km"],
    )
    return G
