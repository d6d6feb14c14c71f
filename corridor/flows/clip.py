"""Clip OD flows to the road graph's region along their ETISplus route.

The OSM graph may cover only part of the loaded countries (the shared data has northern Germany
only). A trip Rotterdam→Munich still drives Venlo→Cologne inside the region. For an OD whose
origin or destination is off the graph, the trip is routed on the ETISplus network (country
networks joined at the border crossings) and the off-graph end is replaced by its *gateway*: the
first (origin side) or last (destination side) ETISplus node of that route lying on the graph.
The trip keeps its ETISplus origin and destination (and od_id); only the part inside the region
is routed on the road graph.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from corridor.flows.etisplus import EtisTables, etisplus_road_graph
from corridor.flows.routing import RoutingGraph, route_flows
from corridor.flows.stitch import find_border_crossings

__all__ = ["gateways"]


def gateways(
    tables: EtisTables,
    origins: np.ndarray,
    destinations: np.ndarray,
    on_graph: set[str],
    border_match_km: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Gateway ETISplus nodes of OD pairs with an end off the road graph.

    Parameters
    ----------
    tables
        ETISplus tables (networks of the loaded countries).
    origins, destinations
        ETISplus node ids (str) of the pairs to clip.
    on_graph
        ETISplus node ids placed on the road graph.
    border_match_km
        Distance (km) to join the country networks at border crossings.

    Returns
    -------
    origin_gateway, destination_gateway
        ETISplus ids (str) of the first / last on-graph node along each pair's ETISplus route;
        ``""`` where the route never enters the region (or there is no route).
    """
    origins = np.asarray(origins, dtype=object)
    destinations = np.asarray(destinations, dtype=object)
    og = np.full(len(origins), "", dtype=object)
    dg = np.full(len(origins), "", dtype=object)
    if len(origins) == 0:
        return og, dg
    g = etisplus_road_graph(tables, find_border_crossings(tables, border_match_km))
    rg = RoutingGraph.from_graph(g)
    index = pd.Series(np.arange(rg.n), index=rg.node_ids.astype(str))
    o_idx = index.reindex(origins.astype(str)).to_numpy()
    d_idx = index.reindex(destinations.astype(str)).to_numpy()
    ok = ~(np.isnan(o_idx) | np.isnan(d_idx))
    pos = np.flatnonzero(ok)
    res = route_flows(
        rg,
        o_idx[ok].astype(np.int64),
        d_idx[ok].astype(np.int64),
        {},
        keep_paths=True,
    )
    for k, path in zip(pos, res.paths, strict=True):
        if path is None:
            continue
        inside = [str(v) for v in path if str(v) in on_graph]
        if inside:
            og[k], dg[k] = inside[0], inside[-1]
    return og, dg
