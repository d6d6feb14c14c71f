"""Benchmark the joint BEV + H2 plan of ``nl-de-joint-2030`` on the real data.

Builds the network instance once (stages up to ``instance``, with the flows' driving times), then
plans along the scenario's corridor:

* ``joint``: both classes in one model (the scenario as shipped);
* ``bev-only`` / ``h2-only``: the same scenario with one class, same budget and site count (the
  other class's trucks are not served), to compare the joint plan with the better
  single-technology plan and count the sites the two separate networks would share.

Reports per case: status, gap, solve and wall time, served trucks/day per class, sites per
technology and the shared hubs. Usage::

    python scripts/joint_benchmark.py                       # scenario settings
    python scripts/joint_benchmark.py --mip-gap 0 --cases joint --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from corridor.catalogue import Catalogue
from corridor.config import load_scenario
from corridor.workflows import choose_corridor, run_stages

log = logging.getLogger("joint_benchmark")


def _row(name: str, plan, wall_s: float) -> dict:
    sites = plan.sites
    offers = sites["offers"].value_counts().to_dict() if len(sites) else {}
    return {
        "case": name,
        "status": plan.status,
        "gap": plan.gap,
        "solve_s": round(plan.solve_time_s, 2),
        "wall_s": round(wall_s, 2),
        "served_trucks_per_day": round(plan.served_trucks_per_day, 2),
        "classes": {
            k: round(v["served_trucks_per_day"], 2)
            for k, v in plan.model_stats.get("classes", {}).items()
        },
        "sites": len(sites),
        "bev_sites": int(offers.get("bev", 0) + offers.get("bev+h2", 0)),
        "h2_sites": int(offers.get("h2", 0) + offers.get("bev+h2", 0)),
        "shared_hubs": int(offers.get("bev+h2", 0)),
        "charger_mw": sorted({float(p) for p in sites["bev_charger_mw"].dropna()}),
        "valid": plan.valid,
        "variables": plan.model_stats.get("variables"),
        "constraints": plan.model_stats.get("constraints"),
    }


def main() -> None:
    """Run the cases and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="nl-de-joint-2030")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--mip-gap", type=float, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--cases", nargs="*", default=None, help="joint, bev-only, h2-only (default: all)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    scenario = load_scenario(args.scenario)
    if args.mip_gap is not None:
        opt = scenario.optimise.model_copy(update={"mip_gap": args.mip_gap})
        scenario = scenario.model_copy(update={"optimise": opt})
    t0 = time.perf_counter()
    st = run_stages(scenario, Catalogue.from_env(args.data_dir), until="instance")
    print(json.dumps({"stages_to_instance_s": round(time.perf_counter() - t0, 1)}))
    rows = []
    opt = scenario.optimise
    cases = {
        "joint": opt.vehicles,
        **{f"{v.technology}-only": (v,) for v in opt.vehicles},
    }
    if args.cases:
        cases = {k: v for k, v in cases.items() if k in args.cases}
    plans = {}
    for name, classes in cases.items():
        sc = scenario.model_copy(
            update={"optimise": opt.model_copy(update={"vehicles": tuple(classes)})}
        )
        t1 = time.perf_counter()
        choice = choose_corridor(sc, st.graph, st.sites, st.instance, st.corridor_od)
        plans[name] = choice.plan
        rows.append(_row(name, choice.plan, time.perf_counter() - t1))
        print(json.dumps(rows[-1]))
    if "bev-only" in plans and "h2-only" in plans:
        both = set(plans["bev-only"].sites.index) & set(plans["h2-only"].sites.index)
        print(json.dumps({"separate_runs_shared_sites": len(both)}))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
