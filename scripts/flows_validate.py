"""Validate assigned 2019 truck volumes against data not used to build them.

1. Edge flows: the ETISplus network edge flows of Speth et al. (``04_network-edges_truckflows.csv``,
   2019, trucks per year, both directions) against our assigned 2019 volumes on the OSM graph,
   matched spatially: Speth edges are grouped into chains between nodes whose position is known
   from the country packages' ``graph.graphml`` (the Speth file has no coordinates); a chain is
   matched when both ends lie within ``--snap-km`` of graph nodes and the graph's shortest
   paths both ways are within ``--tolerance`` of the chain distance; each Speth edge is compared
   with the assigned volume over the same stretch of the two paths. Reports the matched count,
   Pearson/Spearman correlation and the median relative difference. The country packages' own
   graph edges carry only ``distance`` and ``id`` (no flows): reported for completeness.
2. Border crossings: trucks per day crossing NL→DE and DE→NL on the graph (transitions of edge
   country along every routed path) against the border-node totals of both countries' tables.
3. Route lengths between German city pairs (north and south: Frankfurt–München,
   Stuttgart–Nürnberg …) on the graph (:func:`corridor.network.shortest_route`, fastest, city
   centre to city centre) against the motorway distance of public route planners (rounded,
   in :data:`CITY_PAIRS`).

Usage::

    python scripts/flows_validate.py [--countries NL DE] [--snap-km 1.5] [--tolerance 0.25]
        [--csv out.csv]
"""

from __future__ import annotations

import argparse
import json

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from corridor.catalogue import Catalogue
from corridor.config import FlowsConfig
from corridor.flows import RoutingGraph, build_flows, find_border_crossings, load_etisplus
from corridor.flows.etisplus import read_country_graph


def parse_distance_km(raw: pd.Series) -> pd.Series:
    """Parse the Speth ``Distance`` column (km).

    About 4,300 of its 18,449 values were mangled by a spreadsheet's thousands grouping, e.g.
    ``15.027.999.999.999.900`` for 15.0279999…: the digits before the first dot are the integer
    km, all following digits the fraction.
    """
    s = raw.astype(str).str.strip()
    head = s.str.split(".", n=1).str[0]
    frac = s.str.split(".", n=1).str[1].fillna("0").str.replace(".", "", regex=False)
    return pd.to_numeric(head + "." + frac, errors="coerce").fillna(0.0)


def known_node_positions(root) -> pd.DataFrame:
    """EPSG:3035 positions of every ETISplus node of the country packages (all countries)."""
    frames = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        nodes, _ = read_country_graph(folder / "graph.graphml", folder.name)
        frames.append(nodes)
    nodes = pd.concat(frames, ignore_index=True).drop_duplicates("node_id")
    return nodes.set_index("node_id")


def speth_chains(sp: pd.DataFrame, known: set[str]) -> pd.DataFrame:
    """Chains of Speth edges between two nodes of known position.

    The Speth network (undirected, 17,435 nodes) is finer than the country packages' graphs;
    most nodes without a position have degree 2. Starting at every known node, each incident
    edge is followed through unknown degree-2 nodes until a known node is reached (chains ending
    at an unknown junction or dead end are dropped). Returns one row per Speth edge of a chain:
    ``chain`` (id), ``a``, ``b`` (known end nodes, a < b), ``edge_id``, ``f0``, ``f1`` (position
    of the edge along a→b as a fraction of the chain distance), ``chain_km``, ``n_edges``,
    ``trucks_per_year`` (2019, both directions).
    """
    adj: dict[str, list[tuple[str, int]]] = {}
    for i, (u, v) in enumerate(zip(sp["Network_Node_A_ID"], sp["Network_Node_B_ID"], strict=True)):
        adj.setdefault(u, []).append((v, i))
        adj.setdefault(v, []).append((u, i))
    dist = sp["Distance"].to_numpy()
    rows, seen, chain = [], set(), 0
    for start in sorted(known & adj.keys()):
        for nxt, e in adj[start]:
            edges, prev, cur = [e], start, nxt
            while cur not in known and len(adj[cur]) == 2:
                (n1, e1), (n2, e2) = adj[cur]
                nxt2, e2n = (n2, e2) if n1 == prev else (n1, e1)
                if e2n in edges:
                    break
                edges.append(e2n)
                prev, cur = cur, nxt2
            if cur not in known or cur == start:
                continue
            key = frozenset(edges)
            if key in seen:
                continue
            seen.add(key)
            if cur < start:
                a, b, edges = cur, start, edges[::-1]
            else:
                a, b = start, cur
            d = dist[edges]
            total = float(d.sum())
            if total <= 0:
                continue
            cum = np.concatenate(([0.0], np.cumsum(d))) / total
            for k, ei in enumerate(edges):
                rows.append((chain, a, b, ei, cum[k], cum[k + 1], total, len(edges)))
            chain += 1
    df = pd.DataFrame(rows, columns=["chain", "a", "b", "row", "f0", "f1", "chain_km", "n_edges"])
    df["edge_id"] = sp["Network_Edge_ID"].to_numpy()[df["row"]]
    df["trucks_per_year"] = sp["Traffic_flow_trucks_2019"].to_numpy()[df["row"]]
    return df.drop(columns="row")


def _best_path(rg: RoutingGraph, src: np.ndarray, dst: np.ndarray, limit_m: float, vol):
    """Shortest path from any node of ``src`` to any of ``dst`` (multi-source dijkstra).

    Returns the cumulative length (m) and the volume of the path's edges in driving order, or
    ``None`` if no ``dst`` node is reachable within ``limit_m``.
    """
    dist, pred, _ = dijkstra(
        rg.csr, indices=src, min_only=True, return_predecessors=True, limit=limit_m
    )
    d = dist[dst]
    if not np.isfinite(d).any():
        return None
    t = int(dst[np.argmin(d)])
    nodes = [t]
    while pred[nodes[-1]] >= 0:
        nodes.append(int(pred[nodes[-1]]))
    nodes = np.asarray(nodes[::-1], dtype=np.int64)
    e = rg.edge_index(nodes[:-1], nodes[1:])
    length = _edge_lengths(rg)[e]
    return np.concatenate(([0.0], np.cumsum(length))), vol[e]


def _edge_lengths(rg: RoutingGraph) -> np.ndarray:
    """Length (m) of each routed edge, in the order of ``rg.edge_*`` (row-major CSR order)."""
    csr = rg.csr.tocsr()
    csr.sort_indices()
    assert csr.nnz == len(rg.edge_u)
    return csr.data


def _interval_mean(cum: np.ndarray, v: np.ndarray, f0: float, f1: float) -> float:
    """Length-weighted mean of ``v`` over the fraction interval [f0, f1] of the path."""
    total = cum[-1]
    lo, hi = f0 * total, f1 * total
    overlap = np.clip(np.minimum(cum[1:], hi) - np.maximum(cum[:-1], lo), 0.0, None)
    w = overlap.sum()
    return float((overlap * v).sum() / w) if w > 0 else float("nan")


def edge_flow_validation(
    fs, rg: RoutingGraph, days: float, snap_km: float, tolerance: float
) -> tuple[dict, pd.DataFrame]:
    """Match Speth network edges spatially to graph paths and compare 2019 volumes.

    Chains of Speth edges between nodes of known position (:func:`speth_chains`) are matched
    when both ends lie within ``snap_km`` of the graph and the graph's shortest paths a→b and
    b→a (from any graph node within ``snap_km`` of a to any within ``snap_km`` of b, so either
    carriageway can be used) are both within ``chain_km × (1 ± tolerance)``. Each Speth edge of
    a matched chain is compared with the length-weighted mean assigned volume over the same
    fraction of the path a→b plus that of b→a (Speth flows are both directions).
    """
    cat = Catalogue.from_env()
    sp = pd.read_csv(
        cat.path("speth_edges"),
        sep=";",
        dtype={"Network_Node_A_ID": str, "Network_Node_B_ID": str, "Distance": str},
    )
    sp["Distance"] = parse_distance_km(sp["Distance"])
    pos = known_node_positions(cat.path("etisplus_countries"))
    chains = speth_chains(sp, set(pos.index))
    ends = chains.drop_duplicates("chain").set_index("chain")
    main = np.flatnonzero(rg.main_component)
    tree = cKDTree(rg.xy[main])
    near = tree.query_ball_point(pos[["x", "y"]].to_numpy(), r=snap_km * 1000.0)
    cand = pd.Series([main[np.asarray(c, dtype=np.int64)] for c in near], index=pos.index)
    vol = np.zeros(len(rg.edge_u))
    ev = fs.edge_volumes
    ix = pd.Series(np.arange(rg.n), index=rg.node_ids)
    vol[rg.edge_index(ix.loc[ev["u"]].to_numpy(), ix.loc[ev["v"]].to_numpy())] = ev[
        "trucks_per_day"
    ].to_numpy()
    out, ratios, n_on, n_matched = [], [], 0, 0
    for c, r in ends.iterrows():
        ca, cb = cand[r["a"]], cand[r["b"]]
        if len(ca) == 0 or len(cb) == 0:
            continue
        n_on += 1
        limit = r["chain_km"] * (1 + tolerance) * 1000.0
        ab = _best_path(rg, ca, cb, limit, vol)
        ba = _best_path(rg, cb, ca, limit, vol)
        lens = [p[0][-1] / 1000.0 if p is not None else np.inf for p in (ab, ba)]
        ratios.append(max(lens) / r["chain_km"])
        if not all(abs(x / r["chain_km"] - 1) <= tolerance for x in lens):
            continue
        n_matched += 1
        for e in chains[chains["chain"] == c].itertuples(index=False):
            m1 = _interval_mean(*ab, e.f0, e.f1)
            m2 = _interval_mean(*ba, 1.0 - e.f1, 1.0 - e.f0)
            out.append((e.edge_id, c, e.a, e.b, e.n_edges, e.trucks_per_year / days, m1 + m2))
    df = pd.DataFrame(
        out,
        columns=[
            "speth_edge_id",
            "chain",
            "a",
            "b",
            "chain_edges",
            "etisplus_trucks_per_day",
            "assigned_trucks_per_day",
        ],
    )
    pos_flow = df[df["etisplus_trucks_per_day"] > 0]
    e_t, a_t = pos_flow["etisplus_trucks_per_day"], pos_flow["assigned_trucks_per_day"]
    rel = (a_t - e_t) / e_t
    ratios = np.asarray(ratios)
    summary = {
        "method": (
            f"Speth edge chains between known-position nodes; ends within {snap_km} km of the "
            f"graph; graph paths both ways within +-{tolerance:.0%} of the chain distance"
        ),
        "speth_edges": len(sp),
        "speth_nodes_with_position": len(pos),
        "chains_between_known_nodes": len(ends),
        "speth_edges_in_chains": len(chains),
        "chains_with_both_ends_on_graph": n_on,
        "path_to_chain_length_ratio_pct_10_50_90_within_limit": np.nanpercentile(
            ratios[np.isfinite(ratios)], [10, 50, 90]
        )
        .round(2)
        .tolist(),
        "chains_matched": n_matched,
        "speth_edges_matched": len(df),
        "speth_edges_matched_with_2019_flow": len(pos_flow),
        "pearson_r": float(e_t.corr(a_t)),
        "spearman_r": float(e_t.corr(a_t, method="spearman")),
        "median_relative_difference": float(rel.median()),
        "median_abs_relative_difference": float(rel.abs().median()),
        "share_within_50pct": float((rel.abs() <= 0.5).mean()),
        "sum_etisplus_trucks_per_day": float(e_t.sum()),
        "sum_assigned_trucks_per_day": float(a_t.sum()),
    }
    return summary, df


def country_graph_edges(sp_path, root, countries) -> dict:
    """What the country packages' own graph edges carry and how they relate to Speth edges."""
    sp = pd.read_csv(sp_path, sep=";", usecols=["Network_Edge_ID"])
    speth_ids = set(sp["Network_Edge_ID"].astype(int))
    out = {}
    for cc in countries:
        g = nx.read_graphml(root / cc / "graph.graphml")
        attrs = sorted({k for *_, d in g.edges(data=True) for k in d})
        ids = [int(d["id"]) for *_, d in g.edges(data=True) if "id" in d]
        out[cc] = {
            "edges": g.number_of_edges(),
            "edge_attributes": attrs,
            "carries_flows": any("flow" in k or "traffic" in k or "volume" in k for k in attrs),
            "edge_id_equals_speth_edge_id": int(sum(i in speth_ids for i in ids)),
        }
    return out


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


#: (from, to, (lon, lat), (lon, lat), road km of public route planners, rounded, main route)
CITY_PAIRS = (
    ("Frankfurt", "München", (8.682, 50.111), (11.576, 48.137), 392),  # A3/A9
    ("Stuttgart", "Nürnberg", (9.182, 48.776), (11.077, 49.452), 208),  # A6 via Heilbronn
    ("Köln", "Frankfurt", (6.958, 50.938), (8.682, 50.111), 190),  # A3
    ("München", "Berlin", (11.576, 48.137), (13.405, 52.520), 585),  # A9
    ("Hamburg", "Hannover", (9.994, 53.551), (9.732, 52.375), 151),  # A7
    ("Dresden", "Leipzig", (13.738, 51.050), (12.374, 51.340), 113),  # A14
    ("Karlsruhe", "Basel border", (8.404, 49.009), (7.600, 47.590), 190),  # A5
)


def city_pair_routes(G: nx.MultiDiGraph) -> list[dict]:
    """Route length on the graph for :data:`CITY_PAIRS`, against the planners' road km."""
    from corridor.network import shortest_route

    rows = []
    for a, b, pa, pb, ref_km in CITY_PAIRS:
        r = shortest_route(G, pa, pb)
        rows.append(
            {
                "from": a,
                "to": b,
                "graph_km": round(r.length_km, 1),
                "reference_km": ref_km,
                "ratio": round(r.length_km / ref_km, 3),
                "hours": round(r.travel_time_min / 60.0, 2),
                "roads": " ".join(r.refs[:8]),
            }
        )
    return rows


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snap-km", type=float, default=1.5, help="graph nodes this near an end")
    ap.add_argument("--tolerance", type=float, default=0.25, help="path vs chain length (fraction)")
    ap.add_argument("--csv", help="write the per-edge comparison to this CSV")
    ap.add_argument("--countries", nargs="+", default=["NL", "DE"], help="road and OD countries")
    args = ap.parse_args()
    from flows_benchmark import load_road_graph

    cat = Catalogue.from_env()
    G = load_road_graph(tuple(args.countries))
    cfg = FlowsConfig(
        countries=tuple(args.countries),
        target_year=2019,
        annual_growth=0.0,
        zero_emission_share=0.0,
    )
    fs = build_flows(G, cat, cfg)
    tables = load_etisplus(cat, cfg.countries)
    rg = RoutingGraph.from_graph(G)
    summary, per_edge = edge_flow_validation(
        fs, rg, cfg.days_per_year, args.snap_km, args.tolerance
    )
    if args.csv:
        per_edge.to_csv(args.csv, index=False)
    out = {
        "edge_flows": summary,
        "country_graph_edges": country_graph_edges(
            cat.path("speth_edges"), cat.path("etisplus_countries"), cfg.countries
        ),
        "border": border_validation(fs, tables, rg, cfg.days_per_year, cfg.border_match_km),
        "city_pair_routes": city_pair_routes(G),
        "assign": {
            k: v
            for k, v in fs.report.get("assign", {}).items()
            if k.startswith(("routed", "excluded", "clipped", "od_with"))
        },
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
