"""Benchmark the siting model on real ETISplus networks (Speth et al. 2022).

Builds :class:`corridor.optimise.Instance` objects with ``Instance.from_arrays`` from the
per-country ETISplus graphs (``graph.graphml``: edge ``distance`` in km) and OD tables
(``traffic.csv``: trucks/year), with every network node a candidate, and compares

* corridor's preprocessed arc-cover path-cover model (dominance + aggregation),
* the plain arc-cover path-cover baseline (every cover set of every flow, one variable per flow,
  no shared cover-set variables, every usable site a variable),
* HiGHS vs CBC (CBC only if a ``cbc`` executable is installed),

reporting model size, build and solve time, status, objective and gap. The national instance on
the pipeline's own data (all NL+DE flows, p = 130) is in ``scripts/optimise_national.py``.

Usage::

    python scripts/optimise_benchmark.py --countries NL --p 6 20 --time-limit 60
    python scripts/optimise_benchmark.py --countries DE --p 130 --time-limit 600 --mip-gap 0.01
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse

from corridor.catalogue import resolve_data_root
from corridor.config import OptimiseConfig, VehicleConfig
from corridor.errors import SolverError
from corridor.optimise import Instance, solve

log = logging.getLogger("optimise_benchmark")


def etisplus_instance(
    folder: Path, vehicle: VehicleConfig, ze_share: float, days_per_year: float
) -> Instance:
    """An instance from one ETISplus country folder (all nodes are candidates)."""
    g = nx.read_graphml(folder / "graph.graphml")
    nodes = sorted(g.nodes, key=str)
    index = {n: i for i, n in enumerate(nodes)}
    rows, cols, km = [], [], []
    for u, v, d in g.edges(data=True):
        rows.append(index[u])
        cols.append(index[v])
        km.append(float(d["distance"]))
    mat = sparse.coo_array((km, (rows, cols)), shape=(len(nodes), len(nodes))).tocsr()
    traffic = pd.read_csv(folder / "traffic.csv", dtype={"origin": str, "destination": str})
    traffic = traffic[
        traffic["origin"].isin(index)
        & traffic["destination"].isin(index)
        & (traffic["origin"] != traffic["destination"])
    ]
    o = traffic["origin"].map(index).to_numpy()
    d = traffic["destination"].map(index).to_numpy()
    vol = traffic["volume"].to_numpy(dtype=float) / days_per_year * ze_share
    return Instance.from_arrays(
        mat,
        o,
        d,
        vol,
        list(range(len(nodes))),
        vehicle.range_km,
        start_range_km=vehicle.start_range_km,
        energy_per_km=vehicle.consumption_per_km,
    )


def run_case(inst: Instance, config: OptimiseConfig, label: str, preprocessed: bool) -> dict:
    t0 = time.perf_counter()
    try:
        plan = solve(
            inst,
            config,
            aggregate=preprocessed,
            dominance=preprocessed,
            shared_covers=preprocessed,
            prune_sites=preprocessed,
        )
    except SolverError as exc:
        return {"case": label, "error": str(exc)}
    ms = plan.model_stats
    return {
        "case": label,
        "p": config.max_sites,
        "solver": plan.solver,
        "variables": ms["variables"],
        "constraints": ms["constraints"],
        "flow_groups": ms["flow_groups"],
        "cover_rows": ms["cover_sets"],
        "build_s": round(ms["preprocess_time_s"] + ms["build_time_s"], 2),
        "solve_s": round(plan.solve_time_s, 2),
        "total_s": round(time.perf_counter() - t0, 2),
        "status": plan.status,
        "objective": round(plan.objective or 0.0, 3),
        "bound": None if plan.best_bound is None else round(plan.best_bound, 3),
        "gap": plan.gap,
        "served_share_of_needing": round(
            plan.served_trucks_per_day / max(ms["trucks_modelled_per_day"], 1e-9), 4
        ),
        "violations": len(plan.violations),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--countries", nargs="+", default=["NL"])
    ap.add_argument("--p", nargs="+", type=int, default=[6])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--mip-gap", type=float, default=0.0)
    ap.add_argument("--ze-share", type=float, default=0.05)
    ap.add_argument("--no-baseline", action="store_true", help="skip the plain formulation")
    ap.add_argument("--solvers", nargs="+", default=["highs", "cbc"])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    root = resolve_data_root()
    vehicle = VehicleConfig()
    rows = []
    for cc in args.countries:
        t0 = time.perf_counter()
        inst = etisplus_instance(
            root / "flows" / "etisplus_countries" / cc, vehicle, args.ze_share, 300.0
        )
        log.info(
            "%s: %d flows, %d candidates, %.1f ze trucks/day, range %.0f km (start %.0f), "
            "built in %.1f s",
            cc,
            len(inst.flows),
            len(inst.site_ids),
            inst.total_trucks_per_day,
            inst.range_km,
            inst.start_range_km,
            time.perf_counter() - t0,
        )
        for p in args.p:
            for solver in args.solvers:
                config = OptimiseConfig(
                    min_sites=0,
                    max_sites=p,
                    solver=solver,
                    time_limit_s=args.time_limit,
                    mip_gap=args.mip_gap,
                    threads=args.threads,
                )
                cases = [("preprocessed", True)]
                if not args.no_baseline:
                    cases.append(("plain arc-cover", False))
                for label, pre in cases:
                    row = {"instance": cc, **run_case(inst, config, label, pre)}
                    log.info("%s", row)
                    rows.append(row)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        log.info("\n%s", table.to_string(index=False))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))
    return None


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
