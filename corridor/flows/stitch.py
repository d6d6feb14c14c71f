"""Cross-border stitching of the clipped ETISplus country OD tables.

Each country table ends a cross-border trip at a node near the border: a Rotterdam→Duisburg trip
is a Dutch trip Rotterdam→border node plus a German trip border node→Duisburg. This module
rebuilds one OD flow per through trip.

Method
------
1. **Crossings.** For each pair of loaded countries (A, B), the nodes that carry OD flow in their
   own table are matched by *mutual* nearest neighbour (EPSG:3035) within ``border_match_km``: a is
   A's nearest flow node to b and b is B's nearest flow node to a. A node matched in several
   country pairs keeps its closest crossing only (so its trucks are paired once).
2. **Gravity pairing.** At a crossing (a, b), direction A→B, let ``in_o`` be the flows ending at a
   (from origins o), ``out_d`` the flows starting at b (to destinations d), ``IN`` and ``OUT``
   their totals and ``M = max(IN, OUT)``. The stitched flows are ``t_od = in_o × out_d / M``;
   the smaller side is fully paired, the larger side keeps ``in_o × (1 − OUT/M)`` (or
   ``out_d × (1 − IN/M)``) as clipped trips ending / starting at the border. Thus the trucks of
   each side are conserved exactly and the crossing carries ``min(IN, OUT)`` through trips.
   The same is done for B→A. Crossings are processed in a fixed order on a shared pool, so a
   trip can be stitched over several borders (e.g. BE→NL→DE when three countries are loaded).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from corridor.errors import InputDataError
from corridor.flows.etisplus import EtisTables

__all__ = ["find_border_crossings", "stitch_borders"]

log = logging.getLogger(__name__)

CROSSING_COLUMNS = ["crossing_id", "node_a", "country_a", "node_b", "country_b", "distance_km"]


def find_border_crossings(tables: EtisTables, border_match_km: float) -> pd.DataFrame:
    """Match the border nodes of each pair of loaded countries.

    Parameters
    ----------
    tables
        Loaded ETISplus tables (node coordinates and OD rows).
    border_match_km
        Largest distance (km) between the two nodes of a crossing.

    Returns
    -------
    DataFrame
        One row per crossing: ``crossing_id`` ("NL:113468~DE:115741"), ``node_a``,
        ``country_a``, ``node_b``, ``country_b`` (str), ``distance_km``; ``country_a`` precedes
        ``country_b`` in the load order. Sorted by country pair, then distance.
    """
    if border_match_km <= 0:
        msg = f"border_match_km must be > 0 km, got {border_match_km}"
        raise InputDataError(msg)
    od = tables.od
    nodes = tables.nodes
    rows = []
    countries = tables.countries
    for i, ca in enumerate(countries):
        for cb in countries[i + 1 :]:
            a_ids = _flow_nodes(od, nodes, ca)
            b_ids = _flow_nodes(od, nodes, cb)
            if len(a_ids) == 0 or len(b_ids) == 0:
                continue
            xa = nodes.loc[a_ids, ["x", "y"]].to_numpy()
            xb = nodes.loc[b_ids, ["x", "y"]].to_numpy()
            d_ab, j_ab = cKDTree(xb).query(xa)
            _, j_ba = cKDTree(xa).query(xb)
            mutual = j_ba[j_ab] == np.arange(len(a_ids))
            ok = mutual & (d_ab <= border_match_km * 1000.0)
            for k in np.flatnonzero(ok):
                rows.append((a_ids[k], ca, b_ids[j_ab[k]], cb, d_ab[k] / 1000.0))
    cross = pd.DataFrame(rows, columns=CROSSING_COLUMNS[1:])
    if cross.empty:
        return pd.DataFrame(columns=CROSSING_COLUMNS)
    # A node in several country pairs keeps its closest crossing.
    cross = cross.sort_values("distance_km", kind="stable")
    cross = cross.drop_duplicates("node_a").drop_duplicates("node_b")
    cross["crossing_id"] = (
        cross["country_a"]
        + ":"
        + cross["node_a"]
        + "~"
        + cross["country_b"]
        + ":"
        + cross["node_b"]
    )
    order = {c: i for i, c in enumerate(countries)}
    cross = cross.assign(_ka=cross["country_a"].map(order), _kb=cross["country_b"].map(order))
    cross = cross.sort_values(["_ka", "_kb", "distance_km", "crossing_id"]).drop(
        columns=["_ka", "_kb"]
    )
    return cross[CROSSING_COLUMNS].reset_index(drop=True)


def _flow_nodes(od: pd.DataFrame, nodes: pd.DataFrame, country: str) -> np.ndarray:
    sub = od[od["country"] == country]
    ids = pd.unique(pd.concat([sub["origin"], sub["destination"]]))
    ids = np.sort(ids[nodes.loc[ids, "country"].to_numpy() == country]).astype(object)
    return ids


def stitch_borders(
    tables: EtisTables, border_match_km: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rebuild cross-border OD flows from the clipped country tables (gravity pairing).

    See the module docstring for the method.

    Parameters
    ----------
    tables
        Loaded ETISplus tables.
    border_match_km
        Largest distance (km) between the two nodes of a crossing.

    Returns
    -------
    od
        ``origin``, ``destination`` (str ETISplus node ids), ``trucks_per_year``,
        ``stitched_share`` (fraction of the volume rebuilt over ≥ 1 border), ``origin_country``,
        ``destination_country``; one row per (origin, destination), sorted.
    report
        ``trucks_per_year_before`` / ``_after`` (after < before by the trucks paired: a through
        trip was two clipped trips), ``od_pairs_before`` / ``_after``, ``crossings`` (list of
        per-crossing dicts: ids, direction, ``in_trucks_per_year``, ``out_trucks_per_year``,
        ``paired_trucks_per_year``, ``remainder_trucks_per_year``), ``dropped_self_loops`` and
        their trucks.
    """
    crossings = find_border_crossings(tables, border_match_km)
    country_of = tables.nodes["country"]
    pool = tables.od[["origin", "destination", "trucks_per_year"]].copy()
    pool["stitched_trucks_per_year"] = 0.0
    before = float(pool["trucks_per_year"].sum())
    per_crossing = []
    self_loops, self_loop_trucks = 0, 0.0
    max_rows = max(4 * len(pool), 1_000_000)
    for c in crossings.itertuples(index=False):
        for src, dst, direction in (
            (c.node_a, c.node_b, f"{c.country_a}->{c.country_b}"),
            (c.node_b, c.node_a, f"{c.country_b}->{c.country_a}"),
        ):
            pool, info = _pair_at(pool, src, dst)
            if len(pool) > max_rows:
                # trips stitched over several borders (NL→BE→DE) multiply the rows at every
                # crossing: sum equal OD pairs (pairing is linear in the volumes, so the result
                # is the same) to keep memory at the number of distinct OD pairs
                pool = pool.groupby(["origin", "destination"], as_index=False, sort=False)[
                    ["trucks_per_year", "stitched_trucks_per_year"]
                ].sum()
                max_rows = max(2 * len(pool), max_rows)
            self_loops += info.pop("self_loops")
            self_loop_trucks += info.pop("self_loop_trucks_per_year")
            per_crossing.append(
                {
                    "crossing_id": c.crossing_id,
                    "direction": direction,
                    "from_node": src,
                    "to_node": dst,
                    "distance_km": float(c.distance_km),
                    **info,
                }
            )
    out = pool.groupby(["origin", "destination"], as_index=False, sort=True)[
        ["trucks_per_year", "stitched_trucks_per_year"]
    ].sum()
    out = out[out["trucks_per_year"] > 0].reset_index(drop=True)
    out["stitched_share"] = (out.pop("stitched_trucks_per_year") / out["trucks_per_year"]).clip(
        0.0, 1.0
    )
    out["origin_country"] = country_of.loc[out["origin"]].to_numpy()
    out["destination_country"] = country_of.loc[out["destination"]].to_numpy()
    after = float(out["trucks_per_year"].sum())
    cross_border = (out["origin_country"] != out["destination_country"]).to_numpy()
    paired = sum(p["paired_trucks_per_year"] for p in per_crossing)
    report = {
        "border_match_km": border_match_km,
        "n_crossings": len(crossings),
        "od_pairs_before": len(tables.od),
        "od_pairs_after": len(out),
        "trucks_per_year_before": before,
        "trucks_per_year_after": after,
        "paired_trucks_per_year": paired,
        "od_pairs_with_stitched_trips": int((out["stitched_share"] > 0).sum()),
        "stitched_trucks_per_year": float(pool["stitched_trucks_per_year"].sum()),
        "cross_border_od_pairs": int(cross_border.sum()),
        "cross_border_trucks_per_year": float(out.loc[cross_border, "trucks_per_year"].sum()),
        "dropped_self_loops": self_loops,
        "dropped_self_loop_trucks_per_year": self_loop_trucks,
        "crossings": per_crossing,
    }
    log.info(
        "stitched %d crossings: %d -> %d OD pairs, %.0f -> %.0f trucks/year (%.0f paired)",
        len(crossings),
        len(tables.od),
        len(out),
        before,
        after,
        paired,
    )
    return out, report


def _pair_at(pool: pd.DataFrame, src: str, dst: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Pair flows ending at ``src`` with flows starting at ``dst`` (one crossing direction)."""
    in_mask = (pool["destination"] == src).to_numpy()
    out_mask = (pool["origin"] == dst).to_numpy() & ~in_mask
    ins, outs = pool[in_mask], pool[out_mask]
    total_in = float(ins["trucks_per_year"].sum())
    total_out = float(outs["trucks_per_year"].sum())
    info = {
        "in_trucks_per_year": total_in,
        "out_trucks_per_year": total_out,
        "paired_trucks_per_year": 0.0,
        "remainder_trucks_per_year": total_in + total_out,
        "self_loops": 0,
        "self_loop_trucks_per_year": 0.0,
    }
    if total_in <= 0 or total_out <= 0:
        return pool, info
    m = max(total_in, total_out)
    t_in = ins["trucks_per_year"].to_numpy()
    t_out = outs["trucks_per_year"].to_numpy()
    new = pd.DataFrame(
        {
            "origin": np.repeat(ins["origin"].to_numpy(), len(outs)),
            "destination": np.tile(outs["destination"].to_numpy(), len(ins)),
            "trucks_per_year": np.outer(t_in, t_out).ravel() / m,
        }
    )
    loop = (new["origin"] == new["destination"]).to_numpy()
    info["self_loops"] = int(loop.sum())
    info["self_loop_trucks_per_year"] = float(new.loc[loop, "trucks_per_year"].sum())
    new = new[~loop]
    new["stitched_trucks_per_year"] = new["trucks_per_year"]
    f_in, f_out = 1.0 - total_out / m, 1.0 - total_in / m
    rem_in = ins.assign(
        trucks_per_year=t_in * f_in, stitched_trucks_per_year=ins["stitched_trucks_per_year"] * f_in
    )
    rem_out = outs.assign(
        trucks_per_year=t_out * f_out,
        stitched_trucks_per_year=outs["stitched_trucks_per_year"] * f_out,
    )
    rest = [pool[~(in_mask | out_mask)], new]
    rest += [r[r["trucks_per_year"] > 0] for r in (rem_in, rem_out)]
    paired = min(total_in, total_out)
    info["paired_trucks_per_year"] = paired
    info["remainder_trucks_per_year"] = total_in + total_out - 2 * paired
    return pd.concat(rest, ignore_index=True), info
