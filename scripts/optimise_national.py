"""National instance on the pipeline's real data: all NL+DE flows, all candidates, p = 130.

Runs the pipeline stages of the default scenario (``nl-de-bev-pilot``) up to the siting instance
(:func:`corridor.workflows.run_stages`, the chain of ``corridor plan``) with the corridor-country
filter off (every NL+DE OD flow of the flows stage) and solves it with ``max_sites = 130`` (the
size of Germany's truck fast-charging programme), no country / direction minimums, a 1 % MIP gap
and a time limit per solve. The same instance is then solved by the plain arc-cover path-cover
baseline (no aggregation, no dominance, no shared cover sets, every usable site a variable) and by
CBC (when the Debian ``coinor-cbc`` executable is installed; skipped otherwise).

Usage::

    python scripts/optimise_national.py --time-limit 600 --cases highs baseline-highs cbc
    python scripts/optimise_national.py --cache /tmp/national.pkl   # reuse the built instance
    python scripts/optimise_national.py --p 8 20 --mip-gap 0 --cases highs cbc
    python scripts/optimise_national.py --as-is --cases highs cbc baseline-highs  # the pilot
    # the national scenario as shipped (flows touching Germany, p <= 350, capacitated), with the
    # time of every stage (graph, routing all flows, candidates, grid, instance) logged first:
    python scripts/optimise_national.py --scenario de-national-2030 --as-is --cases highs

The peak RSS of the process is reported with each row (the plain baseline is memory hungry: run
it under ``ulimit -v`` on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
import resource
import time
from pathlib import Path
from typing import Any

from corridor.catalogue import Catalogue
from corridor.config import load_scenario
from corridor.errors import SolverError
from corridor.optimise import Instance, solve

log = logging.getLogger("optimise_national")

#: case name → (solver, formulation switches of :func:`corridor.optimise.solve`)
CASES: dict[str, tuple[str, dict[str, bool]]] = {
    "highs": ("highs", {}),
    "cbc": ("cbc", {}),
    "baseline-highs": (
        "highs",
        {"aggregate": False, "dominance": False, "shared_covers": False, "prune_sites": False},
    ),
    "baseline-cbc": (
        "cbc",
        {"aggregate": False, "dominance": False, "shared_covers": False, "prune_sites": False},
    ),
}


def national_scenario(
    name: str, p: int, time_limit_s: float, mip_gap: float, *, as_is: bool = False
) -> Any:
    """The scenario with the corridor filter and the per-country / direction minimums off
    (``as_is``: the scenario unchanged but for the time limit and gap, e.g. the pilot)."""
    sc = load_scenario(name)
    if as_is:
        opt = sc.optimise.model_copy(update={"time_limit_s": time_limit_s, "mip_gap": mip_gap})
        return sc.model_copy(update={"optimise": opt})
    flows = sc.flows.model_copy(update={"corridor_countries": (), "min_corridor_countries": 0})
    opt = sc.optimise.model_copy(
        update={
            "max_sites": p,
            "min_sites": 0,
            "min_sites_per_country": {},
            "min_sites_per_direction": 0,
            "time_limit_s": time_limit_s,
            "mip_gap": mip_gap,
        }
    )
    return sc.model_copy(update={"flows": flows, "optimise": opt, "name": f"{sc.name}-national"})


def build_instance(scenario: Any, catalogue: Catalogue) -> tuple[Instance, dict[str, float]]:
    """Run network → flows → sites → grid and build the instance (all flows, all candidates).

    The stages are :func:`corridor.workflows.run_stages`, the same chain ``corridor plan`` runs.
    """
    from corridor.workflows import run_stages

    stages = run_stages(scenario, catalogue, until="instance")
    return stages.instance, stages.timings_s


def model_size(inst: Instance, config: Any, switches: dict[str, bool]) -> dict[str, Any]:
    """Cover rows and their nonzeros of a formulation, without building it."""
    from corridor.optimise import preprocess
    from corridor.optimise.model import shared_cover_sets
    from corridor.optimise.solve import usable_sites

    usable, _ = usable_sites(inst, config)
    pre = preprocess(
        inst,
        usable,
        aggregate=switches.get("aggregate", True),
        dominance=switches.get("dominance", True),
    )
    rows = sum(len(g.covers) for g in pre.groups)
    nnz = sum(len(c) + 1 for g in pre.groups for c in g.covers)
    if switches.get("shared_covers", True):
        covers, _ = shared_cover_sets(pre)
        nnz = sum(len(c) + 1 for c in covers) + 2 * rows
        rows += len(covers)
    return {"flow_groups": len(pre.groups), "cover_rows": rows, "cover_nonzeros": nnz}


def run_case(inst: Instance, config: Any, case: str) -> dict[str, Any]:
    """Solve one case and return a JSON-safe row."""
    solver, switches = CASES[case]
    cfg = config.model_copy(update={"solver": solver})
    t0 = time.perf_counter()
    try:
        plan = solve(inst, cfg, **switches)
    except SolverError as exc:
        return {"case": case, "skipped": str(exc)}
    except MemoryError:
        return {"case": case, "error": "out of memory", **model_size(inst, cfg, switches)}
    ms = plan.model_stats
    return {
        "case": case,
        "solver": plan.solver,
        "capacity_in_model": ms.get("capacity_in_model"),
        "relaxation_objective": ms.get("relaxation_objective"),
        "assignment_variables": ms.get("assignment_variables"),
        "charger_binaries": ms.get("charger_binaries"),
        "sites_capped": ms.get("sites_capped"),
        "status": plan.status,
        "objective_trucks_per_day": round(plan.objective or 0.0, 2),
        "best_bound": None if plan.best_bound is None else round(plan.best_bound, 2),
        "gap": None if plan.gap is None else round(plan.gap, 5),
        "solve_s": round(plan.solve_time_s, 1),
        "preprocess_s": ms["preprocess_time_s"],
        "build_s": ms["build_time_s"],
        "total_s": round(time.perf_counter() - t0, 1),
        "variables": ms["variables"],
        "constraints": ms["constraints"],
        "site_variables": ms["site_variables"],
        "flow_groups": ms["flow_groups"],
        "cover_rows": ms["cover_sets"],
        "open_sites": len(plan.sites),
        "served_share_of_modelled": round(
            plan.served_trucks_per_day / max(ms["trucks_modelled_per_day"], 1e-9), 4
        ),
        "violations": len(plan.violations),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="nl-de-bev-pilot")
    ap.add_argument("--p", type=int, nargs="+", default=[130], help="site counts to solve")
    ap.add_argument(
        "--as-is", action="store_true", help="keep the scenario's flows filter and constraints"
    )
    ap.add_argument("--time-limit", type=float, default=600.0, help="per solve (s)")
    ap.add_argument("--mip-gap", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--cases", nargs="+", default=["highs", "baseline-highs", "cbc"])
    ap.add_argument(
        "--start-range-km",
        type=float,
        default=None,
        help="stress test: override the range (km) trucks start with (more flows need sites)",
    )
    ap.add_argument("--cache", type=Path, default=None, help="pickle of the built instance")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sc = national_scenario(
        args.scenario, args.p[0], args.time_limit, args.mip_gap, as_is=args.as_is
    )
    if args.cache and args.cache.exists():
        inst = pickle.loads(args.cache.read_bytes())
        timings: dict[str, float] = {}
    else:
        inst, timings = build_instance(sc, Catalogue.from_env())
        if args.cache:
            args.cache.write_bytes(pickle.dumps(inst))
    if args.start_range_km is not None:
        import dataclasses

        inst = dataclasses.replace(inst, start_range_km=args.start_range_km)
    log.info(
        "instance: %d flows, %d candidates, %.1f ze trucks/day, range %.0f km (start %.0f); %s",
        len(inst.flows),
        len(inst.site_ids),
        inst.total_trucks_per_day,
        inst.range_km,
        inst.start_range_km,
        {k: round(v, 1) for k, v in timings.items()},
    )
    rows = []
    for p in [sc.optimise.max_sites] if args.as_is else args.p:
        config = sc.optimise.model_copy(update={"threads": args.threads, "max_sites": p})
        for case in args.cases:
            row = {"p": p, **run_case(inst, config, case)}
            log.info("%s", json.dumps(row))
            rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
