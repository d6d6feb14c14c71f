"""The road graph as arrays and a sparse matrix: the one graph-to-matrix builder.

Routing on the truck graph runs on :mod:`scipy.sparse.csgraph`, which wants one weight per
directed node pair. :func:`edge_matrix` keeps, of each pair's parallel edges, the one with the
smallest weight (the first in edge order on a tie), and by default leaves self-loops out;
shortest paths never use the others. Door-to-door routes (:func:`corridor.network.to_csgraph`,
:func:`corridor.network.shortest_route`), flow routing (:class:`corridor.flows.RoutingGraph`) and
the optimiser's edge lengths (:func:`corridor.optimise.instance_from_pipeline`) all build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from scipy import sparse

from corridor.errors import InputDataError

__all__ = ["EdgeMatrix", "edge_matrix"]


@dataclass(frozen=True)
class EdgeMatrix:
    """The shortest parallel edge of every directed node pair of a graph, as arrays.

    Attributes
    ----------
    nodes
        The graph's node ids by matrix index (numpy object array of the graph's own objects).
    u, v
        Matrix indices of each pair, sorted by ``u * n + v``.
    key
        MultiDiGraph key of the pair's kept edge.
    weight
        The kept edge's weight, as stored on the graph.
    edge_pos
        Position of the kept edge in ``G.edges(keys=True)`` order (to look up more attributes).
    """

    nodes: np.ndarray
    u: np.ndarray
    v: np.ndarray
    key: np.ndarray
    weight: np.ndarray
    edge_pos: np.ndarray

    @property
    def n(self) -> int:
        """Number of nodes (the matrix is ``n × n``)."""
        return len(self.nodes)

    @property
    def node_ids(self) -> np.ndarray:
        """The node ids as int64."""
        return np.asarray(self.nodes, dtype=np.int64)

    @property
    def lin(self) -> np.ndarray:
        """Sorted ``u * n + v`` of the pairs (a lookup key)."""
        return self.u * self.n + self.v

    def csgraph(self, min_weight: float = 1e-9) -> sparse.csr_matrix:
        """Return the ``n × n`` CSR matrix of the weights for :mod:`scipy.sparse.csgraph`.

        ``csgraph`` takes explicit zeros for missing edges, so weights are raised to at least
        ``min_weight``.
        """
        return sparse.csr_matrix(
            (np.maximum(self.weight, min_weight), (self.u, self.v)), shape=(self.n, self.n)
        )

    def pair_weights(self) -> dict[tuple[Any, Any], float]:
        """``{(u, v): weight}`` by graph node ids."""
        return dict(
            zip(
                zip(self.nodes[self.u].tolist(), self.nodes[self.v].tolist(), strict=True),
                self.weight.tolist(),
                strict=True,
            )
        )


def edge_matrix(
    G: nx.MultiDiGraph,
    weight: str = "length_m",
    nodes: Sequence[Any] | None = None,
    self_loops: bool = False,
) -> EdgeMatrix:
    """Build the :class:`EdgeMatrix` of a graph.

    Parameters
    ----------
    G
        The road graph.
    weight
        Edge attribute used as weight (``length_m`` or ``travel_time_s``).
    nodes
        Node order of the matrix; default the node ids sorted ascending.
    self_loops
        Keep self-loops (on the matrix diagonal; shortest paths never use them).

    Returns
    -------
    EdgeMatrix

    Raises
    ------
    InputDataError
        If a kept edge lacks a finite ``weight`` >= 0; the message names one.
    """
    order = sorted(G.nodes) if nodes is None else list(nodes)
    node_arr = np.empty(len(order), dtype=object)
    node_arr[:] = order
    index = {node: i for i, node in enumerate(order)}
    m = G.number_of_edges()
    u = np.empty(m, dtype=np.int64)
    v = np.empty(m, dtype=np.int64)
    w = np.empty(m, dtype=float)
    keys = np.empty(m, dtype=object)
    for k, (a, b, key, val) in enumerate(G.edges(keys=True, data=weight)):
        u[k], v[k], keys[k] = index[a], index[b], key
        w[k] = np.nan if val is None else val
    pos = np.arange(m) if self_loops else np.flatnonzero(u != v)
    bad = ~(np.isfinite(w[pos]) & (w[pos] >= 0))
    if bad.any():
        k = pos[int(np.flatnonzero(bad)[0])]
        msg = (
            f"road graph: {int(bad.sum())} edge(s) without a finite {weight} >= 0, e.g. "
            f"{order[u[k]]}->{order[v[k]]}"
        )
        raise InputDataError(msg)
    n = len(order)
    lin = u[pos] * n + v[pos]
    # shortest parallel edge per (u, v): sort by (pair, weight), keep the first of each pair
    srt = pos[np.lexsort((w[pos], lin))]
    lin_s = u[srt] * n + v[srt]
    first = np.ones(len(srt), dtype=bool)
    first[1:] = lin_s[1:] != lin_s[:-1]
    sel = srt[first]
    return EdgeMatrix(node_arr, u[sel], v[sel], keys[sel], w[sel], sel)
