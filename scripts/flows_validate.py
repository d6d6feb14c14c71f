"""Validate assigned 2019 truck volumes against data not used to build them.

1. Edge flows: the ETISplus network edge flows of Speth et al. (``04_network-edges_truckflows.csv``,
   2019, trucks per year, both directions) against our assigned 2019 volumes on the OSM graph.
   An ETISplus edge A–B is matched when both nodes are placed on the graph within
   ``--max-snap-km`` and the graph's shortest paths A→B and B→A are 0.7–1.5 × the ETISplus
   length; its assigned volume is the median edge volume along A→B plus that along B→A.
   Reports the matched count, Pearson/Spearman correlation and the median relative difference.
2. Border crossings: trucks per day crossing NL→DE and DE→NL on the graph (transitions of edge
   country along every routed path) against the border-node totals of both countries' tables.

Usage::

    python scripts/flows_validate.py [--max-snap-km 3]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from corridor.catalogue import Catalogue
from corridor.config import FlowsConfig
from corridor.flows import RoutingGraph, build_flows, find_border_crossings, load_etisplus
from corridor.flows.routing import place_nodes


def edge_flow_validation(G, fs, tables, rg: RoutingGraph, days: float, max_snap_km: float):
    """Match ETISplus edges to graph paths and compare volumes (trucks per day, 2019)."""
    cat = Catalogue.from_env()
    sp = pd.read_csv(
        cat.path("speth_edges"),
        sep=";",
        dtype={"Network_Node_A_ID": str, "Network_Node_B_ID": str},
    )
    sp["Distance"] = pd.to_numeric(sp["Distance"], errors="coerce")
    ids = set(tables.nodes.index)
    sp = sp[sp["Network_Node_A_ID"].isin(ids) & sp["Network_Node_B_ID"].isin(ids)]
    sp = sp[sp["Traffic_flow_trucks_2019"] > 0]
    idx, _ = place_nodes(rg, tables.nodes[["x", "y"]].to_numpy(), max_snap_km)
    node_of = pd.Series(idx, index=tables.nodes.index)
    a = node_of.loc[sp["Network_Node_A_ID"]].to_numpy()
    b = node_of.loc[sp["Network_Node_B_ID"]].to_numpy()
    ok = (a >= 0) & (b >= 0) & (a != b)
    sp, a, b = sp[ok], a[ok], b[ok]
    vol = np.zeros(len(rg.edge_u))
    ev = fs.edge_volumes
    pos = pd.Series(np.arange(rg.n), index=rg.node_ids)
    e = rg.edge_index(pos.loc[ev["u"]].to_numpy(), pos.loc[ev["v"]].to_numpy())
    vol[e] = ev["trucks_per_day"].to_numpy()
    src = np.unique(np.concatenate([a, b]))
    dist, pred = dijkstra(rg.csr, indices=src, return_predecessors=True)
    row = pd.Series(np.arange(len(src)), index=src)

    def path_median(s: int, t: int) -> tuple[float, float]:
        r = row[s]
        if not np.isfinite(dist[r, t]):
            return np.nan, np.inf
        vals, cur = [], t
        while cur != s:
            p = pred[r, cur]
            vals.append(vol[rg.edge_index(np.array([p]), np.array([cur]))[0]])
            cur = p
        return float(np.median(vals)), dist[r, t] / 1000.0

    rows = []
    for (_, r), s, t in zip(sp.iterrows(), a, b, strict=True):
        m1, l1 = path_median(s, t)
        m2, l2 = path_median(t, s)
        ratio = max(l1, l2) / r["Distance"] if r["Distance"] > 0 else np.inf
        if min(l1, l2) / max(r["Distance"], 1e-9) >= 0.7 and ratio <= 1.5:
            rows.append((r["Network_Edge_ID"], r["Traffic_flow_trucks_2019"] / days, m1 + m2))
    df = pd.DataFrame(
        rows, columns=["edge_id", "etisplus_trucks_per_day", "assigned_trucks_per_day"]
    )
    rel = (df["assigned_trucks_per_day"] - df["etisplus_trucks_per_day"]) / df[
        "etisplus_trucks_per_day"
    ]
    return {
        "etisplus_edges_in_countries": len(ok),
        "matched": len(df),
        "pearson_r": float(df["etisplus_trucks_per_day"].corr(df["assigned_trucks_per_day"])),
        "spearman_r": float(
            df["etisplus_trucks_per_day"].corr(df["assigned_trucks_per_day"], method="spearman")
        ),
        "median_relative_difference": float(rel.median()),
        "median_abs_relative_difference": float(rel.abs().median()),
        "sum_etisplus_trucks_per_day": float(df["etisplus_trucks_per_day"].sum()),
        "sum_assigned_trucks_per_day": float(df["assigned_trucks_per_day"].sum()),
    }


def border_validation(fs, tables, rg: RoutingGraph, days: float, match_km: float):
    """Trucks/day crossing NL<->DE on the graph vs the border-node totals of both tables."""
    od = fs.od
    pos = pd.Series(np.arange(rg.n), index=rg.node_ids)
    lens = od["path"].map(len).to_numpy()
    nodes = pos.loc[np.concatenate(od["path"].map(list).to_numpy())].to_numpy()
    owner = np.repeat(np.arange(len(od)), lens)
    same = owner[1:] == owner[:-1]
    e = rg.edge_index(nodes[:-1][same], nodes[1:][same])
    c = rg.edge_country[e]
    w = od["trucks_per_day"].to_numpy()[owner[:-1][same]]
    trans = (c[1:] != c[:-1]) & (owner[:-1][same][1:] == owner[:-1][same][:-1])
    names = np.asarray(rg.countries)
    frm, to, wt = names[c[:-1][trans]], names[c[1:][trans]], w[1:][trans]
    on_graph = {
        f"{x}->{y}": float(wt[(frm == x) & (to == y)].sum())
        for x, y in (("NL", "DE"), ("DE", "NL"))
    }
    cross = find_border_crossings(tables, match_km)
    t = tables.od
    tot = {}
    for direction, (a_col, b_col) in {
        "NL->DE": ("destination", "origin"),
        "DE->NL": ("origin", "destination"),
    }.items():
        nl = t[t["country"].eq("NL") & t[a_col].isin(cross["node_a"])]["trucks_per_year"].sum()
        de = t[t["country"].eq("DE") & t[b_col].isin(cross["node_b"])]["trucks_per_year"].sum()
        g = on_graph[direction]
        tot[direction] = {
            "graph_trucks_per_day": g,
            "nl_table_border_trucks_per_day": nl / days,
            "de_table_border_trucks_per_day": de / days,
            "rel_diff_vs_nl": g / (nl / days) - 1,
            "rel_diff_vs_de": g / (de / days) - 1,
        }
    return tot


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-snap-km", type=float, default=3.0)
    args = ap.parse_args()
    from flows_benchmark import load_road_graph

    cat = Catalogue.from_env()
    G = load_road_graph(("NL", "DE"))
    cfg = FlowsConfig(target_year=2019, annual_growth=0.0)
    fs = build_flows(G, cat, cfg)
    tables = load_etisplus(cat, cfg.countries)
    rg = RoutingGraph.from_graph(G)
    out = {
        "edge_flows": edge_flow_validation(G, fs, tables, rg, cfg.days_per_year, args.max_snap_km),
        "border": border_validation(fs, tables, rg, cfg.days_per_year, cfg.border_match_km),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
