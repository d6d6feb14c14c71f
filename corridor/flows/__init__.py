"""Freight flows: ETISplus truck OD demand, stitched across borders, routed on the road graph.

The pipeline calls :func:`build_flows` and gets a :class:`FlowSet` (the FLOWS contract).
"""

from corridor.flows.build import (
    OD_COLUMNS,
    FlowSet,
    assign_flows,
    build_flows,
    growth_factor,
    pilot_flows,
    resolve_ze_share,
    scale_to_daily,
)
from corridor.flows.etisplus import (
    EtisTables,
    etisplus_road_graph,
    growth_rate_from_speth,
    load_etisplus,
)
from corridor.flows.io import edge_flows_frame, write_edge_flows_gpkg, write_od_parquet
from corridor.flows.pilot import allocate_trucks, read_pilot_routes, route_pilot
from corridor.flows.routing import RouteResult, RoutingGraph, place_nodes, route_flows
from corridor.flows.shares import read_ze_shares, ze_share
from corridor.flows.stitch import find_border_crossings, stitch_borders

__all__ = [
    "OD_COLUMNS",
    "EtisTables",
    "FlowSet",
    "RouteResult",
    "RoutingGraph",
    "allocate_trucks",
    "assign_flows",
    "build_flows",
    "edge_flows_frame",
    "etisplus_road_graph",
    "find_border_crossings",
    "growth_factor",
    "growth_rate_from_speth",
    "load_etisplus",
    "pilot_flows",
    "place_nodes",
    "read_pilot_routes",
    "read_ze_shares",
    "resolve_ze_share",
    "route_flows",
    "route_pilot",
    "scale_to_daily",
    "stitch_borders",
    "write_edge_flows_gpkg",
    "write_od_parquet",
    "ze_share",
]
