"""Placing ETISplus nodes on the road graph and routing OD flows (scipy.sparse.csgraph).

Routing runs :func:`scipy.sparse.csgraph.dijkstra` once per *unique origin* (in chunks, to bound
memory) on a CSR matrix of edge lengths (the shortest of parallel edges), then reconstructs all
paths of a chunk at once by walking the predecessor matrix backwards for every OD pair in a
vectorised numpy loop (one iteration per path node, all pairs together). Edge volumes are summed
with :func:`numpy.bincount` over the walked edges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from corridor._validate import GRAPH_CRS, require_crs
from corridor.errors import InputDataError
from corridor.network.matrix import edge_matrix

__all__ = ["RouteResult", "RoutingGraph", "place_nodes", "route_flows"]

log = logging.getLogger(__name__)

#: Number of origins routed per dijkstra call (bounds memory: chunk × n_nodes × 12 bytes).
ORIGIN_CHUNK = 32


@dataclass(frozen=True)
class RoutingGraph:
    """Array view of a GRAPH-contract MultiDiGraph for routing.

    Attributes
    ----------
    node_ids
        Graph node ids (int64) by matrix index.
    node_objs
        The same ids as a numpy object array of the graph's own int objects (paths share them).
    xy
        Node coordinates (EPSG:3035 metres), shape (n, 2).
    csr
        Directed adjacency with the shortest ``length_m`` of parallel edges
        (:func:`corridor.network.matrix.edge_matrix`).
    edge_u, edge_v
        Matrix indices of each routed (u, v) pair, sorted by ``u * n + v``.
    edge_key
        MultiDiGraph key of the shortest parallel edge of each pair.
    edge_lin
        Sorted ``u * n + v`` of the routed pairs (lookup key).
    edge_country
        Integer code of each routed edge's country (see ``countries``).
    countries
        Country codes by integer code.
    main_component
        Boolean mask of the nodes of the largest strongly connected component.
    """

    node_ids: np.ndarray
    node_objs: np.ndarray
    xy: np.ndarray
    csr: csr_matrix
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_key: np.ndarray
    edge_lin: np.ndarray
    edge_country: np.ndarray
    countries: tuple[str, ...]
    main_component: np.ndarray

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph) -> RoutingGraph:
        """Build the routing arrays from a GRAPH-contract graph.

        Raises
        ------
        InputDataError
            If the graph is empty, a node lacks ``x``/``y`` or an edge a positive ``length_m``.
        """
        if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
            msg = "road graph is empty: build it with corridor.network first"
            raise InputDataError(msg)
        require_crs(G.graph.get("crs") or GRAPH_CRS, GRAPH_CRS, "road graph")
        node_list = list(G.nodes)
        try:
            xy = np.array([(G.nodes[v]["x"], G.nodes[v]["y"]) for v in node_list], dtype=float)
        except KeyError as exc:
            msg = f"road graph node lacks attribute {exc}; expected x, y in EPSG:3035 metres"
            raise InputDataError(msg) from None
        em = edge_matrix(G, "length_m", nodes=node_list, self_loops=True)
        # csgraph treats explicit zeros as missing edges: give zero-length edges a tiny length
        csr = em.csgraph(min_weight=1e-3)
        country = np.array([c or "" for _, _, c in G.edges(data="country")], dtype=object)
        codes, uniques = pd.factorize(pd.Series(country[em.edge_pos], dtype=object), sort=True)
        _, labels = connected_components(csr, directed=True, connection="strong")
        main = labels == np.bincount(labels).argmax()
        return cls(
            node_ids=em.node_ids,
            node_objs=em.nodes,
            xy=xy,
            csr=csr,
            edge_u=em.u,
            edge_v=em.v,
            edge_key=em.key,
            edge_lin=em.lin,
            edge_country=codes.astype(np.int32),
            countries=tuple(str(c) for c in uniques),
            main_component=main,
        )

    def edge_index(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Position in the ``edge_*`` arrays of the routed edges ``a[i] -> b[i]`` (matrix ids)."""
        return np.searchsorted(self.edge_lin, a.astype(np.int64) * self.n + b)


def place_nodes(
    rg: RoutingGraph, xy: np.ndarray, max_connector_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Snap points to the nearest node of the graph's largest strongly connected component.

    Parameters
    ----------
    rg
        Routing arrays of the road graph.
    xy
        Points (EPSG:3035 metres), shape (k, 2).
    max_connector_km
        Points farther than this from the graph get index -1.

    Returns
    -------
    node_index, connector_km
        Matrix index of the snapped node (-1 if beyond ``max_connector_km``) and the straight
        connector length (km) for every point.
    """
    cand = np.flatnonzero(rg.main_component)
    d, j = cKDTree(rg.xy[cand]).query(np.asarray(xy, dtype=float).reshape(-1, 2))
    idx = cand[j]
    connector_km = d / 1000.0
    idx = np.where(connector_km <= max_connector_km, idx, -1)
    return idx, connector_km


@dataclass(frozen=True)
class RouteResult:
    """Routes of a set of OD pairs.

    Attributes
    ----------
    path_length_m
        Shortest-path length (m), ``inf`` if unreachable.
    paths
        Tuple of graph node ids (origin..destination) per pair, ``None`` if unreachable or not
        requested.
    countries
        Countries of the path's edges in driving order ("NL;DE"), "" if unreachable.
    kept
        Routed and accepted by the ``keep`` predicate (its volume is on the edges).
    edge_volumes
        ``u``, ``v``, ``key`` (graph ids) and one column per volume name, edges with volume only.
    """

    path_length_m: np.ndarray
    paths: list[tuple[int, ...] | None]
    countries: list[str]
    kept: np.ndarray
    edge_volumes: pd.DataFrame


def route_flows(
    rg: RoutingGraph,
    origin_idx: np.ndarray,
    destination_idx: np.ndarray,
    volumes: dict[str, np.ndarray],
    keep_paths: bool = True,
    keep: Callable[[str], bool] | None = None,
    chunk: int = ORIGIN_CHUNK,
) -> RouteResult:
    """Route OD pairs on their shortest paths and sum volumes per directed edge.

    Parameters
    ----------
    rg
        Routing arrays of the road graph.
    origin_idx, destination_idx
        Matrix indices of each pair's origin and destination node (origin != destination).
    volumes
        Named per-pair volumes summed on the edges, e.g. ``{"trucks_per_day": ...}``.
    keep_paths
        Build the node tuple of every path (memory: 8 bytes per path node).
    keep
        Optional predicate on a path's countries ("NL;DE"); pairs it rejects add no edge volume,
        get no path and are marked in ``RouteResult.kept``.
    chunk
        Origins per dijkstra call.

    Returns
    -------
    RouteResult
    """
    origin_idx = np.asarray(origin_idx, dtype=np.int64)
    destination_idx = np.asarray(destination_idx, dtype=np.int64)
    n_pairs = len(origin_idx)
    length_m = np.full(n_pairs, np.inf)
    paths: list[tuple[int, ...] | None] = [None] * n_pairs
    countries = [""] * n_pairs
    kept = np.zeros(n_pairs, dtype=bool)
    names = list(volumes)
    vol = {k: np.asarray(volumes[k], dtype=float) for k in names}
    edge_sum = {k: np.zeros(len(rg.edge_u)) for k in names}
    uniq = np.unique(origin_idx)
    row_of = np.full(rg.n, -1, dtype=np.int64)
    for start in range(0, len(uniq), chunk):
        orig = uniq[start : start + chunk]
        row_of[orig] = np.arange(len(orig))
        dist, pred = dijkstra(rg.csr, directed=True, indices=orig, return_predecessors=True)
        pairs = np.flatnonzero(np.isin(origin_idx, orig))
        rows = row_of[origin_idx[pairs]]
        d = dist[rows, destination_idx[pairs]]
        length_m[pairs] = d
        ok = np.isfinite(d)
        pairs, rows = pairs[ok], rows[ok]
        _walk(
            rg,
            pairs,
            rows,
            destination_idx[pairs],
            pred,
            vol,
            edge_sum,
            paths,
            countries,
            kept,
            keep,
            keep_paths,
        )
        row_of[orig] = -1
        del dist, pred
    used = np.zeros(len(rg.edge_u), dtype=bool)
    for k in names:
        used |= edge_sum[k] > 0
    ev = pd.DataFrame(
        {
            "u": rg.node_ids[rg.edge_u[used]],
            "v": rg.node_ids[rg.edge_v[used]],
            "key": rg.edge_key[used],
            **{k: edge_sum[k][used] for k in names},
        }
    )
    return RouteResult(length_m, paths, countries, kept, ev)


def _walk(
    rg: RoutingGraph,
    pairs: np.ndarray,
    rows: np.ndarray,
    dest: np.ndarray,
    pred: np.ndarray,
    vol: dict[str, np.ndarray],
    edge_sum: dict[str, np.ndarray],
    paths: list,
    countries: list[str],
    kept: np.ndarray,
    keep: Callable[[str], bool] | None,
    keep_paths: bool,
) -> None:
    """Walk predecessors back from every destination at once; fill volumes, paths, countries."""
    if len(pairs) == 0:
        return
    local = np.arange(len(pairs))
    cur = dest.copy()
    last_c = np.full(len(pairs), -1, dtype=np.int32)
    steps_pair = [local]
    steps_node = [cur]
    steps_edge = []
    cc_pair, cc_code = [], []
    while len(local):
        p = pred[rows[local], cur]
        live = p >= 0
        local, cur, p = local[live], cur[live], p[live]
        if not len(local):
            break
        e = rg.edge_index(p, cur)
        steps_edge.append(e)
        c = rg.edge_country[e]
        change = c != last_c[local]
        cc_pair.append(local[change])
        cc_code.append(c[change])
        last_c[local] = c
        cur = p
        steps_pair.append(local)
        steps_node.append(cur)
    sp = np.concatenate(steps_pair)
    # countries in driving order: recorded backwards, so reverse, then unique keeping order
    if cc_pair:
        cp = np.concatenate(cc_pair)
        cd = np.concatenate(cc_code)
        order = np.argsort(cp, kind="stable")
        cp, cd = cp[order], cd[order]
        bounds = np.flatnonzero(np.diff(cp)) + 1
        for grp_p, grp_c in zip(np.split(cp, bounds), np.split(cd, bounds), strict=True):
            if len(grp_p):
                seq = dict.fromkeys(rg.countries[i] for i in grp_c[::-1])
                countries[pairs[grp_p[0]]] = ";".join(c for c in seq if c)
    ok = np.ones(len(pairs), dtype=bool)
    if keep is not None:
        ok = np.fromiter((keep(countries[q]) for q in pairs), dtype=bool, count=len(pairs))
    kept[pairs] = ok
    if steps_edge:
        e_all = np.concatenate(steps_edge)
        edge_owner = sp[len(pairs) :]  # local pair of each walked edge (first step: no edge)
        w_ok = ok[edge_owner]
        for k, s in edge_sum.items():
            w = vol[k][pairs[edge_owner]] * w_ok
            s += np.bincount(e_all, weights=w, minlength=len(s))
    if keep_paths:
        sn = np.concatenate(steps_node)
        sel = ok[sp]
        sp, sn = sp[sel], sn[sel]
        order = np.argsort(sp, kind="stable")
        sp, sn = sp[order], rg.node_objs[sn[order]]
        bounds = np.flatnonzero(np.diff(sp)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(sp)]))
        for a, b in zip(starts, ends, strict=True):
            if b > a:
                paths[pairs[sp[a]]] = tuple(sn[a:b][::-1])
