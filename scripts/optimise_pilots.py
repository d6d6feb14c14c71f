"""The two pilot scenarios through the whole pipeline on the real data, with the headline numbers.

For each scenario runs ``corridor.workflows.run(load_scenario(name), Catalogue.from_env())`` and
reports served trucks/day, the share of the corridor's zero-emission flow served, solver status,
gap, solve time, model size and the stage timings.

Usage::

    python scripts/optimise_pilots.py
    python scripts/optimise_pilots.py nl-de-bev-pilot --json /tmp/pilots.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

from corridor.catalogue import Catalogue
from corridor.config import load_scenario
from corridor.workflows import run

log = logging.getLogger("optimise_pilots")

PILOTS = ("nl-de-bev-pilot", "nl-de-scandinavia-h2-pilot")


def pilot_row(name: str, catalogue: Catalogue) -> dict[str, Any]:
    """Run one scenario end to end and return its headline numbers (JSON-safe)."""
    t0 = time.perf_counter()
    result = run(load_scenario(name), catalogue)
    plan = result.plan
    ms = plan.model_stats
    summary = result.summary()
    return {
        "scenario": name,
        "status": plan.status,
        "gap": plan.gap,
        "solver": plan.solver,
        "solve_s": round(plan.solve_time_s, 2),
        "preprocess_s": ms["preprocess_time_s"],
        "build_s": ms["build_time_s"],
        "optimise_stage_s": round(result.timings_s.get("optimise", float("nan")), 1),
        "pipeline_s": round(time.perf_counter() - t0, 1),
        "open_sites": len(plan.sites),
        "sites_by_country": result.sites.loc[list(plan.open_site_ids), "country"]
        .value_counts()
        .to_dict(),
        "served_trucks_per_day": round(plan.served_trucks_per_day, 1),
        "served_share_of_corridor_flow": summary["served_share_of_corridor_flow"],
        "corridor_ze_trucks_per_day": summary["flows"]["corridor_ze_trucks_per_day"],
        "trucks_already_feasible_per_day": round(ms["trucks_already_feasible_per_day"], 1),
        "flows": ms["flows"],
        "flow_groups": ms["flow_groups"],
        "candidates": ms["candidates"],
        "site_variables": ms["site_variables"],
        "variables": ms["variables"],
        "constraints": ms["constraints"],
        "violations": len(plan.violations),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", default=list(PILOTS))
    ap.add_argument("--json", default=None, help="also write the rows to this file")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    catalogue = Catalogue.from_env()
    rows = []
    for name in args.scenarios:
        row = pilot_row(name, catalogue)
        log.info("%s", json.dumps(row))
        rows.append(row)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
