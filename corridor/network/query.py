"""Queries on a built graph: tables, spatial snapping, sparse matrices and route previews."""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

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

from corridor.errors import InputDataError

__all__ = [
    "EdgeSnap",
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
    return G.graph.get("crs", "EPSG:3035")


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
    """Spatial indexes of a graph, cached per graph object (rebuilt if its size changed)."""
    sig = (G.number_of_nodes(), G.number_of_edges())
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


@dataclass(frozen=True)
class EdgeSnap:
    """A point snapped onto a directed edge."""

    u: int
    v: int
    key: int
    distance_m: float
    offset_m: float
    length_m: float


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
    """The graph as a sparse matrix for :mod:`scipy.sparse.csgraph`.

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
    ids = np.array(sorted(G.nodes), dtype=np.int64)
    pos = {int(n): i for i, n in enumerate(ids)}
    rows, cols, w = [], [], []
    for a, b, val in G.edges(data=weight):
        if a == b:
            continue
        rows.append(pos[a])
        cols.append(pos[b])
        w.append(val)
    df = pd.DataFrame({"r": rows, "c": cols, "w": np.asarray(w, dtype=float)})
    df = df.groupby(["r", "c"], sort=False)["w"].min().reset_index()
    mat = sparse.csr_matrix(
        (np.maximum(df["w"].to_numpy(), 1e-9), (df["r"].to_numpy(), df["c"].to_numpy())),
        shape=(len(ids), len(ids)),
    )
    return mat, ids


@dataclass(frozen=True)
class Route:
    """A truck route between two points snapped onto the graph.

    Attributes
    ----------
    length_km, travel_time_min
        Driven length (km) and time (min) from the first to the second snapped point.
    refs
        Road numbers followed, each once in order of first use (``"A16;A59"`` tags split).
    snap_m
        Distance (m) of the origin and the destination to their snapped points.
    nodes
        Graph node path (first node after the origin point … last node before the destination).
    geometry
        Route line in the graph CRS.
    """

    length_km: float
    travel_time_min: float
    refs: list[str]
    snap_m: tuple[float, float]
    nodes: tuple[int, ...]
    geometry: LineString

    def to_dict(self) -> dict:
        """JSON-ready summary (no geometry)."""
        return {
            "length_km": round(self.length_km, 3),
            "travel_time_min": round(self.travel_time_min, 2),
            "refs": list(self.refs),
            "snap_m": [round(s, 1) for s in self.snap_m],
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


def _candidates(G: nx.MultiDiGraph, x: float, y: float, slack_m: float) -> pd.DataFrame:
    """Edges within ``slack_m`` of the nearest edge to a point (both carriageways, both ways)."""
    idx = _index(G)
    edges = idx["edges"]
    pt = shapely.Point(x, y)
    nearest = idx["strtree"].query_nearest(pt, return_distance=True)
    d0 = float(nearest[1][0])
    hits = idx["strtree"].query(pt, predicate="dwithin", distance=d0 + slack_m)
    geoms = edges.geometry.to_numpy()[hits]
    out = edges.iloc[hits][["u", "v", "key", "edge_id", "length_m"]].reset_index(drop=True)
    out["distance_m"] = shapely.distance(pt, geoms)
    out["offset_m"] = shapely.line_locate_point(geoms, pt)
    return out


def shortest_route(
    G: nx.MultiDiGraph,
    from_lonlat: tuple[float, float],
    to_lonlat: tuple[float, float],
    weight: str = "travel_time_s",
    snap_slack_m: float = 100.0,
) -> Route:
    """Fastest (or shortest) truck route between two lon/lat points.

    Each point is snapped onto a drivable edge: among the edges within ``snap_slack_m`` of the
    nearest one (so both carriageways of a dual carriageway are tried), the one giving the best
    route is used. The route starts at the snapped point, follows that edge to its end, then the
    graph, and ends part-way along the destination's edge.

    Parameters
    ----------
    G
        The road graph.
    from_lonlat, to_lonlat
        ``(lon, lat)`` in degrees.
    weight
        ``travel_time_s`` (fastest, default) or ``length_m`` (shortest).
    snap_slack_m
        Extra distance (m) beyond the nearest edge within which edges are snap candidates.

    Returns
    -------
    Route

    Raises
    ------
    InputDataError
        If no route exists between the snapped points.
    """
    to_xy = Transformer.from_crs("EPSG:4326", _crs(G), always_xy=True)
    xs, ys = to_xy.transform([from_lonlat[0], to_lonlat[0]], [from_lonlat[1], to_lonlat[1]])
    oc = _candidates(G, xs[0], ys[0], snap_slack_m)
    dc = _candidates(G, xs[1], ys[1], snap_slack_m)
    ew = {
        (int(a), int(b), int(k)): G.edges[int(a), int(b), int(k)][weight]
        for df in (oc, dc)
        for a, b, k in zip(df["u"], df["v"], df["key"], strict=True)
    }
    oc["w"] = [
        ew[(int(a), int(b), int(k))] * (1 - off / max(ln, 1e-9))
        for a, b, k, off, ln in zip(oc.u, oc.v, oc.key, oc.offset_m, oc.length_m, strict=True)
    ]
    dc["w"] = [
        ew[(int(a), int(b), int(k))] * off / max(ln, 1e-9)
        for a, b, k, off, ln in zip(dc.u, dc.v, dc.key, dc.offset_m, dc.length_m, strict=True)
    ]
    mat, ids = to_csgraph(G, weight)
    n = len(ids)
    pos = np.searchsorted(ids, np.r_[oc["v"].to_numpy(), dc["u"].to_numpy()])
    src, dst = n, n + 1
    rows = np.r_[np.full(len(oc), src), pos[len(oc) :]]
    cols = np.r_[pos[: len(oc)], np.full(len(dc), dst)]
    vals = np.r_[oc["w"].to_numpy(), dc["w"].to_numpy()]
    # both points on one edge, destination ahead of the origin: drive along it
    same = oc.merge(dc, on=["u", "v", "key"], suffixes=("_o", "_d"))
    same = same[same["offset_m_d"] >= same["offset_m_o"]]
    direct = None
    if len(same):
        frac = (same["offset_m_d"] - same["offset_m_o"]) / same["length_m_o"].clip(lower=1e-9)
        wdir = (
            np.array(
                [
                    ew[(int(a), int(b), int(k))]
                    for a, b, k in zip(same.u, same.v, same.key, strict=True)
                ]
            )
            * frac.to_numpy()
        )
        j = int(np.argmin(wdir))
        direct = (same.iloc[j], float(wdir[j]))
    # duplicates (several candidates to one node) keep the smallest weight
    aug = pd.DataFrame({"r": rows, "c": cols, "w": np.maximum(vals, 1e-9)})
    aug = aug.groupby(["r", "c"])["w"].min().reset_index()
    extra = sparse.csr_matrix(
        (aug["w"].to_numpy(), (aug["r"].to_numpy(), aug["c"].to_numpy())), shape=(n + 2, n + 2)
    )
    big = sparse.block_diag([mat, sparse.csr_matrix((2, 2))], format="csr") + extra
    dist, pred = dijkstra(big, directed=True, indices=src, return_predecessors=True)
    if direct is not None and direct[1] <= dist[dst]:
        row = direct[0]
        e = G.edges[int(row.u), int(row.v), int(row.key)]
        frac = (row.offset_m_d - row.offset_m_o) / max(row.length_m_o, 1e-9)
        return Route(
            e["length_m"] * frac / 1000.0,
            e["travel_time_s"] * frac / 60.0,
            unique_refs([e["ref"]]),
            (float(row.distance_m_o), float(row.distance_m_d)),
            (),
            substring(e["geometry"], row.offset_m_o, row.offset_m_d),
        )
    if not np.isfinite(dist[dst]):
        msg = (
            f"no route from {from_lonlat} to {to_lonlat} on the road graph (snapped near edges "
            f"{oc['edge_id'].iat[0]} and {dc['edge_id'].iat[0]}); the graph may not be strongly "
            "connected"
        )
        raise InputDataError(msg)
    chain = []
    k = pred[dst]
    while k != src and k >= 0:
        chain.append(int(ids[k]))
        k = pred[k]
    nodes = tuple(reversed(chain))
    o = oc[oc["v"] == nodes[0]].sort_values("w").iloc[0]
    d = dc[dc["u"] == nodes[-1]].sort_values("w").iloc[0]
    eo = G.edges[int(o.u), int(o.v), int(o.key)]
    ed = G.edges[int(d.u), int(d.v), int(d.key)]
    fo = 1 - o.offset_m / max(o.length_m, 1e-9)
    fd = d.offset_m / max(d.length_m, 1e-9)
    legs = [(eo, substring(eo["geometry"], o.offset_m, o.length_m), fo)]
    legs += [
        (e, e["geometry"], 1.0)
        for e in (_best_edge(G, a, b, weight) for a, b in itertools.pairwise(nodes))
    ]
    legs.append((ed, substring(ed["geometry"], 0, d.offset_m), fd))
    length_km = sum(e["length_m"] * f for e, _, f in legs) / 1000.0
    time_min = sum(e["travel_time_s"] * f for e, _, f in legs) / 60.0
    refs = unique_refs(e["ref"] for e, _, f in legs if f > 0)
    coords = [np.asarray(g.coords) for _, g, _ in legs if not g.is_empty]
    geometry = LineString(np.concatenate(coords)) if coords else LineString()
    return Route(
        float(length_km),
        float(time_min),
        refs,
        (float(o.distance_m), float(d.distance_m)),
        nodes,
        geometry,
    )
