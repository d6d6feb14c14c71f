"""Queries on a built graph: tables, spatial snapping, sparse matrices and route previews."""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely import LineString
from shapely.ops import substring

from corridor._validate import GRAPH_CRS
from corridor.errors import InputDataError
from corridor.network.matrix import edge_matrix

__all__ = [
    "ACCESS_DETOUR",
    "ACCESS_MAX_RADIUS_M",
    "ACCESS_MIN_RADIUS_M",
    "ACCESS_SPEED_KPH",
    "Route",
    "edges_gdf",
    "nearest_node",
    "nodes_gdf",
    "shortest_route",
    "snap_points",
    "to_csgraph",
    "unique_refs",
]

EDGE_COLUMNS = (
    "edge_id",
    "length_m",
    "highway",
    "ref",
    "name",
    "speed_kph",
    "travel_time_s",
    "country",
    "bearing_deg",
)

_INDEX_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _crs(G: nx.MultiDiGraph) -> str:
    return G.graph.get("crs", GRAPH_CRS)


def edges_gdf(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """All edges as a GeoDataFrame.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``u``, ``v``, ``key`` (int) and the edge attributes ``edge_id``, ``length_m``,
        ``highway``, ``ref``, ``name``, ``speed_kph``, ``travel_time_s``, ``country``,
        ``bearing_deg``; LineString geometry (u → v) in the graph CRS. Row order = ``G.edges``.
    """
    rows = list(G.edges(keys=True, data=True))
    data = {
        "u": np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        "v": np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
        "key": np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows)),
    }
    for col in EDGE_COLUMNS:
        data[col] = [r[3].get(col) for r in rows]
    geom = [r[3].get("geometry") for r in rows]
    return gpd.GeoDataFrame(data, geometry=geom, crs=_crs(G))


def nodes_gdf(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """All nodes as a GeoDataFrame indexed by ``node_id`` with ``x``, ``y``, ``lon``, ``lat``."""
    ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    cols = {
        c: np.array([G.nodes[n][c] for n in ids], dtype=float) for c in ("x", "y", "lon", "lat")
    }
    df = pd.DataFrame(cols, index=pd.Index(ids, name="node_id"))
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=_crs(G))


def _index(G: nx.MultiDiGraph) -> dict:
    """Spatial indexes (and routing matrices) of a graph, cached per graph object.

    Rebuilt when the node count or the number of linked node pairs changes (a cheap check, a
    few ms on a national graph; ``G.number_of_edges`` takes ~60 ms). Edge attributes edited in
    place are not detected: build a new graph instead.
    """
    sig = (G.number_of_nodes(), sum(map(len, G._adj.values())))
    cached = _INDEX_CACHE.get(G)
    if cached is not None and cached["sig"] == sig:
        return cached
    if G.number_of_nodes() == 0:
        msg = "the road graph has no nodes; build it from a non-empty road layer"
        raise InputDataError(msg)
    ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in ids], dtype=float)
    edges = edges_gdf(G)
    cached = {
        "sig": sig,
        "node_ids": ids,
        "kdtree": cKDTree(xy),
        "edges": edges,
        "strtree": shapely.STRtree(edges.geometry.to_numpy()),
    }
    _INDEX_CACHE[G] = cached
    return cached


def nearest_node(G: nx.MultiDiGraph, x: float, y: float) -> tuple[int, float]:
    """Nearest graph node to a point in the graph CRS.

    Returns
    -------
    tuple
        ``(node_id, distance_m)``.
    """
    idx = _index(G)
    dist, i = idx["kdtree"].query([x, y])
    return int(idx["node_ids"][i]), float(dist)


def snap_points(G: nx.MultiDiGraph, x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Snap points (graph CRS) to their nearest drivable edge.

    Parameters
    ----------
    G
        The road graph.
    x, y
        Point coordinates in the graph CRS (metres).

    Returns
    -------
    pandas.DataFrame
        One row per point: ``u``, ``v``, ``key``, ``edge_id``, ``distance_m`` (point to edge),
        ``offset_m`` (distance from u along the edge to the snapped point), ``length_m``.
        When carriageways tie (a two-way road has an edge each way) the first edge is taken.
    """
    idx = _index(G)
    edges = idx["edges"]
    pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
    pi, ei = idx["strtree"].query_nearest(pts, return_distance=False, all_matches=False)
    order = np.argsort(pi, kind="stable")
    pi, ei = pi[order], ei[order]
    geoms = edges.geometry.to_numpy()[ei]
    return pd.DataFrame(
        {
            "u": edges["u"].to_numpy()[ei],
            "v": edges["v"].to_numpy()[ei],
            "key": edges["key"].to_numpy()[ei],
            "edge_id": edges["edge_id"].to_numpy()[ei],
            "distance_m": shapely.distance(pts[pi], geoms),
            "offset_m": shapely.line_locate_point(geoms, pts[pi]),
            "length_m": edges["length_m"].to_numpy()[ei],
        }
    )


def to_csgraph(
    G: nx.MultiDiGraph, weight: str = "length_m"
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Convert the graph to a sparse matrix for :mod:`scipy.sparse.csgraph`.

    Parameters
    ----------
    G
        The road graph.
    weight
        Edge attribute used as weight (``length_m`` or ``travel_time_s``); parallel edges keep the
        smallest, self-loops are left out.

    Returns
    -------
    tuple
        ``(matrix, node_ids)``: an ``n × n`` CSR matrix whose row/column ``i`` is node
        ``node_ids[i]`` (sorted ascending).
    """
    em = edge_matrix(G, weight)
    return em.csgraph(min_weight=1e-9), em.node_ids


#: Defaults of the end-point access model of :func:`shortest_route` (local roads to the graph).
ACCESS_MIN_RADIUS_M = 3000.0
ACCESS_MAX_RADIUS_M = 10000.0
ACCESS_DETOUR = 1.3
ACCESS_SPEED_KPH = 40.0
#: Start and end closer than this (m) are the same place: :func:`shortest_route` gives 0 km.
SAME_POINT_M = 1.0


@dataclass(frozen=True)
class Route:
    """A truck route between two points, reached from and left to local roads.

    Attributes
    ----------
    length_km, travel_time_min
        Length (km) and time (min) driven ON THE GRAPH, from the point where the truck joins it
        to the point where it leaves it. The access legs are NOT included (see ``total_km``).
    refs
        Road numbers followed on the graph, each once in order of first use (``"A16;A59"`` tags
        split).
    snap_m
        Straight distance (m) from the origin to the point where the truck joins the graph and
        from the point where it leaves the graph to the destination (the access legs used; not
        necessarily the nearest edge).
    nodes
        Graph node path (first node after the joining point … last node before the leaving one).
    geometry
        Route line on the graph, in the graph CRS (access legs not drawn).
    access_km
        The two access legs as driven on local roads: ``detour × snap_m / 1000`` (km).
    access_time_min
        The two access legs' driving time (min) at the access speed.
    """

    length_km: float
    travel_time_min: float
    refs: list[str]
    snap_m: tuple[float, float]
    nodes: tuple[int, ...]
    geometry: LineString
    access_km: tuple[float, float] = (0.0, 0.0)
    access_time_min: tuple[float, float] = (0.0, 0.0)

    @property
    def total_km(self) -> float:
        """Door-to-door length (km): access legs + ``length_km``."""
        return self.length_km + sum(self.access_km)

    @property
    def total_time_min(self) -> float:
        """Door-to-door time (min): access legs + ``travel_time_min``."""
        return self.travel_time_min + sum(self.access_time_min)

    def to_dict(self) -> dict:
        """Summary for JSON (no geometry): ``length_km`` on the graph, ``total_km`` with access."""
        return {
            "length_km": round(self.length_km, 3),
            "travel_time_min": round(self.travel_time_min, 2),
            "refs": list(self.refs),
            "snap_m": [round(s, 1) for s in self.snap_m],
            "access_km": [round(s, 3) for s in self.access_km],
            "total_km": round(self.total_km, 3),
            "total_time_min": round(self.total_time_min, 2),
            "nodes": [int(n) for n in self.nodes],
        }


def unique_refs(refs: Iterable[str]) -> list[str]:
    """Road numbers in order of first appearance, ``;``-joined tags split, each listed once.

    >>> unique_refs(["A16", "A16;A59", "", "A59", "A16"])
    ['A16', 'A59']
    """
    out: dict[str, None] = {}
    for ref in refs:
        for part in str(ref or "").split(";"):
            part = part.strip()
            if part:
                out.setdefault(part, None)
    return list(out)


def _best_edge(G: nx.MultiDiGraph, a: int, b: int, weight: str) -> dict:
    return min(G[a][b].values(), key=lambda d: d[weight])


@lru_cache(maxsize=8)
def _to_graph_crs(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def _routing(G: nx.MultiDiGraph, weight: str) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """:func:`to_csgraph` of ``G`` cached with its spatial indexes, plus per-edge weights.

    Returns ``(matrix, node_ids, edge_weight)`` where ``edge_weight`` follows the row order of the
    cached edge table. Cached per graph object and weight; rebuilt when the graph's node or edge
    count changes (edit edge weights in place → build a new graph or clear ``_INDEX_CACHE``).
    """
    idx = _index(G)
    routing = idx.setdefault("routing", {})
    if weight not in routing:
        edges = idx["edges"]
        if weight in edges.columns:
            w = edges[weight].to_numpy(float)
        else:
            w = np.array(
                [G.edges[a, b, k][weight] for a, b, k in edges[["u", "v", "key"]].to_numpy()]
            )
        mat, ids = to_csgraph(G, weight)
        mat.sort_indices()
        routing[weight] = (mat, ids, w)
    return routing[weight]


def _access_candidates(
    G: nx.MultiDiGraph, x: float, y: float, min_radius_m: float, max_radius_m: float
) -> pd.DataFrame:
    """Access points on the directed edges within the access radius of a point.

    The radius is ``clip(2 × nearest-edge distance, min_radius_m, max_radius_m)`` but never
    less than the nearest-edge distance + 100 m, so the nearest edge (and the other carriageway
    beside it) are always candidates. Every
    straight segment of an edge's geometry within the radius gives a candidate (its point
    nearest to ``(x, y)``), so a long edge passing the point twice (both carriageways merged
    into one chain round a loop) offers both.

    Returns
    -------
    pandas.DataFrame
        ``row`` (position in the cached edge table), ``u``, ``v``, ``key``, ``edge_id``,
        ``distance_m`` (point to the access point), ``offset_m`` (along the geometry from u),
        ``geom_m`` (geometry length), ``frac`` (``offset_m / geom_m``).
    """
    idx = _index(G)
    edges = idx["edges"]
    pt = shapely.Point(x, y)
    _, d = idx["strtree"].query_nearest(pt, return_distance=True)
    d0 = float(d[0])
    radius = max(min(max(2.0 * d0, min_radius_m), max_radius_m), d0 + 100.0)
    hits = np.sort(idx["strtree"].query(pt, predicate="dwithin", distance=radius))
    geoms = edges.geometry.to_numpy()[hits]
    xy, gi = shapely.get_coordinates(geoms, return_index=True)
    a, b = xy[:-1], xy[1:]
    valid = gi[:-1] == gi[1:]
    ab = b - a
    seg_m = np.hypot(ab[:, 0], ab[:, 1]) * valid
    before = np.cumsum(seg_m) - seg_m  # driven length before each segment, over all edges
    first = np.searchsorted(gi, np.arange(len(geoms)))  # first coordinate of each edge
    seg_off = before - before[np.minimum(first[gi[:-1]], len(before) - 1)]
    t = np.clip(
        ((x - a[:, 0]) * ab[:, 0] + (y - a[:, 1]) * ab[:, 1]) / np.maximum(seg_m, 1e-9) ** 2, 0, 1
    )
    dist = np.hypot(a[:, 0] + t * ab[:, 0] - x, a[:, 1] + t * ab[:, 1] - y)
    keep = np.flatnonzero(valid & (dist <= radius))
    e = gi[:-1][keep]
    geom_m = shapely.length(geoms)[e]
    out = edges.iloc[hits[e]][["u", "v", "key", "edge_id"]].reset_index(drop=True)
    out.insert(0, "row", hits[e])
    out["distance_m"] = dist[keep]
    out["offset_m"] = np.minimum(seg_off[keep] + t[keep] * seg_m[keep], geom_m)
    out["geom_m"] = geom_m
    out["frac"] = out["offset_m"] / np.maximum(geom_m, 1e-9)
    return out


def _same_edge(oc: pd.DataFrame, dc: pd.DataFrame, per_m: float, ew: np.ndarray):
    """Best ride along one edge, joining at an origin and leaving at a later destination point.

    Returns ``(cost, origin row, destination row)`` or ``None`` when no edge has both.
    """
    best = None
    for r in np.intersect1d(oc["row"].to_numpy(), dc["row"].to_numpy()):
        o = oc[oc["row"] == r]
        d = dc[dc["row"] == r].sort_values("frac")
        # cost after joining at fraction f_o: per_m d_o - w f_o + min over f_d >= f_o of dc.w
        suffix = np.minimum.accumulate(d["w"].to_numpy()[::-1])[::-1]
        at = np.searchsorted(d["frac"].to_numpy(), o["frac"].to_numpy(), side="left")
        ok = at < len(d)
        if not ok.any():
            continue
        cost = per_m * o["distance_m"].to_numpy() - ew[r] * o["frac"].to_numpy()
        cost = np.where(ok, cost + suffix[np.minimum(at, len(d) - 1)], np.inf)
        i = int(np.argmin(cost))
        if best is None or cost[i] < best[0]:
            tail = d.iloc[at[i] :]
            jd = int(np.argmin(tail["w"].to_numpy()))
            best = (float(cost[i]), o.iloc[i], tail.iloc[jd])
    return best


def shortest_route(
    G: nx.MultiDiGraph,
    from_lonlat: tuple[float, float],
    to_lonlat: tuple[float, float],
    weight: str = "travel_time_s",
    access_min_radius_m: float = ACCESS_MIN_RADIUS_M,
    access_max_radius_m: float = ACCESS_MAX_RADIUS_M,
    access_detour: float = ACCESS_DETOUR,
    access_speed_kph: float = ACCESS_SPEED_KPH,
) -> Route:
    """Fastest (or shortest) truck route between two lon/lat points, local access included.

    The graph holds only motorways and trunk roads, so a city centre is often kilometres away
    from it, and its nearest carriageway may lead the wrong way. Each end therefore considers
    EVERY directed edge within an access radius (``clip(2 × nearest-edge distance,
    access_min_radius_m, access_max_radius_m)``, at least the nearest-edge distance + 100 m),
    joined (or left) at each of its segments' points nearest to the end point. The access leg
    costs ``access_detour ×`` straight distance (``weight="length_m"``) or that length at
    ``access_speed_kph`` (``weight="travel_time_s"``). One Dijkstra from a virtual source
    linked to every origin candidate (access + rest of its edge) gives the best joining point;
    the leaving point is the destination candidate minimising graph cost + part of its edge +
    access (a ride along a single edge is also tried). Joining mid-edge stands in for the
    exits and local junctions the graph does not hold. The routing matrix and spatial indexes
    are cached per graph object (first call ~1 s on NL+DE+DK, then ~20–35 ms per call).

    Parameters
    ----------
    G
        The road graph.
    from_lonlat, to_lonlat
        ``(lon, lat)`` in degrees.
    weight
        ``travel_time_s`` (fastest, default) or ``length_m`` (shortest).
    access_min_radius_m, access_max_radius_m
        Bounds (m) of the access radius around each end point (defaults 3 km and 10 km).
    access_detour
        Local-road length per straight metre of an access leg (default 1.3).
    access_speed_kph
        Access-leg speed on local roads (km/h, default 40), used with ``travel_time_s``.

    Returns
    -------
    Route
        ``length_km`` / ``travel_time_min`` on the graph only; ``access_km`` /
        ``access_time_min`` the two access legs; ``total_km`` door to door.

    Raises
    ------
    InputDataError
        Bad access parameters, or no route exists between the ends.
    """
    if not (0 < access_min_radius_m <= access_max_radius_m):
        msg = (
            f"access radius bounds must satisfy 0 < access_min_radius_m <= access_max_radius_m, "
            f"got {access_min_radius_m} and {access_max_radius_m} m"
        )
        raise InputDataError(msg)
    if access_detour < 1 or access_speed_kph <= 0:
        msg = (
            f"access_detour must be >= 1 and access_speed_kph > 0, got {access_detour} and "
            f"{access_speed_kph}"
        )
        raise InputDataError(msg)
    mat, ids, ew = _routing(G, weight)
    n = len(ids)
    xs, ys = _to_graph_crs(_crs(G)).transform(
        [from_lonlat[0], to_lonlat[0]], [from_lonlat[1], to_lonlat[1]]
    )
    if math.hypot(xs[1] - xs[0], ys[1] - ys[0]) < SAME_POINT_M:
        # start and end are the same place: a zero-length route (no access legs are driven)
        return Route(0.0, 0.0, [], (0.0, 0.0), (), LineString(), (0.0, 0.0), (0.0, 0.0))
    oc = _access_candidates(G, xs[0], ys[0], access_min_radius_m, access_max_radius_m)
    dc = _access_candidates(G, xs[1], ys[1], access_min_radius_m, access_max_radius_m)
    # access cost per straight metre, in the unit of the weight
    per_m = access_detour * (1.0 if weight == "length_m" else 3.6 / access_speed_kph)
    oc["w"] = per_m * oc["distance_m"] + ew[oc["row"]] * (1 - oc["frac"])
    dc["w"] = per_m * dc["distance_m"] + ew[dc["row"]] * dc["frac"]
    # virtual source (index n) → each origin candidate's end node, cheapest candidate per node
    first = oc.assign(pos=np.searchsorted(ids, oc["v"].to_numpy())).groupby("pos")["w"].min()
    cols = first.index.to_numpy()
    big = sparse.csr_matrix(
        (
            np.r_[mat.data, np.maximum(first.to_numpy(), 1e-9)],
            np.r_[mat.indices, cols],
            np.r_[mat.indptr, mat.indptr[-1] + len(cols)],
        ),
        shape=(n + 1, n + 1),
    )
    dist, pred = dijkstra(big, directed=True, indices=n, return_predecessors=True)
    total_d = dist[np.searchsorted(ids, dc["u"].to_numpy())] + dc["w"].to_numpy()
    j = int(np.argmin(total_d))
    # both ends on one edge, leaving point ahead of the joining point: drive along it
    direct = _same_edge(oc, dc, per_m, ew)
    if direct is not None and direct[0] <= total_d[j]:
        _, o, d = direct
        e = G.edges[int(o.u), int(o.v), int(o.key)]
        return _route(
            [(e, substring(e["geometry"], o.offset_m, d.offset_m), float(d.frac - o.frac))],
            (float(o.distance_m), float(d.distance_m)),
            (),
            access_detour,
            access_speed_kph,
        )
    if not np.isfinite(total_d[j]):
        msg = (
            f"no route from {from_lonlat} to {to_lonlat} on the road graph (access edges near "
            f"{oc['edge_id'].iat[0]} and {dc['edge_id'].iat[0]}); the graph may not be strongly "
            "connected"
        )
        raise InputDataError(msg)
    d = dc.iloc[j]
    chain = []
    k = int(np.searchsorted(ids, d.u))
    while k != n and k >= 0:
        chain.append(int(ids[k]))
        k = pred[k]
    nodes = tuple(reversed(chain))
    o = oc[oc["v"] == nodes[0]].sort_values("w").iloc[0]
    eo = G.edges[int(o.u), int(o.v), int(o.key)]
    ed = G.edges[int(d.u), int(d.v), int(d.key)]
    legs = [(eo, substring(eo["geometry"], o.offset_m, o.geom_m), 1 - float(o.frac))]
    legs += [
        (e, e["geometry"], 1.0)
        for e in (_best_edge(G, a, b, weight) for a, b in itertools.pairwise(nodes))
    ]
    legs.append((ed, substring(ed["geometry"], 0, d.offset_m), float(d.frac)))
    return _route(
        legs, (float(o.distance_m), float(d.distance_m)), nodes, access_detour, access_speed_kph
    )


def _route(
    legs: list[tuple[dict, LineString, float]],
    snap_m: tuple[float, float],
    nodes: tuple[int, ...],
    detour: float,
    speed_kph: float,
) -> Route:
    """Assemble a :class:`Route` from ``(edge attrs, driven geometry, driven fraction)`` legs."""
    length_km = sum(e["length_m"] * f for e, _, f in legs) / 1000.0
    time_min = sum(e["travel_time_s"] * f for e, _, f in legs) / 60.0
    refs = unique_refs(e["ref"] for e, _, f in legs if f > 0)
    coords = [np.asarray(g.coords) for _, g, _ in legs if not g.is_empty]
    pts = np.concatenate(coords) if coords else np.empty((0, 2))
    # a leg cut to one point (start and end on the same spot of an edge) has no line
    geometry = LineString(pts) if len(np.unique(pts, axis=0)) >= 2 else LineString()
    access_km = tuple(detour * s / 1000.0 for s in snap_m)
    return Route(
        float(length_km),
        float(time_min),
        refs,
        snap_m,
        nodes,
        geometry,
        access_km,
        tuple(60.0 * a / speed_kph for a in access_km),
    )
