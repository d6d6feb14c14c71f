"""Benchmark: route all NL+DE ETISplus OD flows on the OSM truck graph.

Reports the graph size, the time of each flows step (load + stitch, routing arrays, placing +
routing of every OD with paths) and the peak resident memory of the process.

Usage::

    python scripts/flows_benchmark.py [--countries NL DE] [--no-stitch] [--min-trucks 0]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from corridor.catalogue import Catalogue
from corridor.config import FlowsConfig, NetworkConfig
from corridor.flows import RoutingGraph, assign_flows, load_etisplus, scale_to_daily, stitch_borders
from corridor.network import load_graph


def load_road_graph(countries: tuple[str, ...]):
    """The OSM truck graph of the countries (cached by corridor.network.load_graph)."""
    return load_graph(Catalogue.from_env(), NetworkConfig(countries=countries))


def peak_rss_mb() -> float:
    """Peak resident set size of this process (MB, Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(countries: tuple[str, ...], stitch: bool, min_trucks: float) -> dict:
    """Time the flows steps and return the measurements."""
    cat = Catalogue.from_env()
    t0 = time.perf_counter()
    G = load_road_graph(countries)
    t_graph = time.perf_counter() - t0
    rss_graph = peak_rss_mb()
    cfg = FlowsConfig(
        countries=countries, stitch_borders=stitch, min_trucks_per_day=min_trucks, annual_growth=0.0
    )
    t0 = time.perf_counter()
    tables = load_etisplus(cat, countries)
    if stitch:
        od, _ = stitch_borders(tables, cfg.border_match_km)
    else:
        od = tables.od.assign(stitched_share=0.0)
    per_day, ze = scale_to_daily(od["trucks_per_year"], 1.0, cfg.days_per_year, 0.05)
    od = od.assign(trucks_per_day=per_day, ze_trucks_per_day=ze)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    rg = RoutingGraph.from_graph(G)
    t_arrays = time.perf_counter() - t0
    t0 = time.perf_counter()
    routed, ev, excluded, rep = assign_flows(rg, tables, od, cfg)
    t_route = time.perf_counter() - t0
    path_nodes = int(routed["path"].map(len).sum())
    return {
        "countries": list(countries),
        "stitch": stitch,
        "graph_nodes": G.number_of_nodes(),
        "graph_edges": G.number_of_edges(),
        "od_pairs_in": len(tables.od),
        "od_pairs_to_route": len(od),
        "od_routed": len(routed),
        "od_excluded": len(excluded),
        "excluded_by_reason": excluded["reason"].value_counts().to_dict(),
        "unique_origins": int(routed["origin_node"].nunique()),
        "path_nodes_total": path_nodes,
        "edges_with_flow": len(ev),
        "od_clipped_to_region": rep["clipped_od"],
        "time_graph_s": round(t_graph, 2),
        "time_load_stitch_s": round(t_load, 2),
        "time_routing_arrays_s": round(t_arrays, 2),
        "time_place_route_s": round(t_route, 2),
        "peak_rss_after_graph_mb": round(rss_graph, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--countries", nargs="+", default=["NL", "DE"])
    ap.add_argument("--no-stitch", action="store_true", help="route the clipped tables as they are")
    ap.add_argument("--min-trucks", type=float, default=0.0, help="min trucks/day per OD")
    a = ap.parse_args()
    print(json.dumps(run(tuple(a.countries), not a.no_stitch, a.min_trucks), indent=1))


if __name__ == "__main__":
    main()
