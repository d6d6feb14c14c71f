"""Benchmark the capacitated siting model and the site-dominance presolve, side by side.

Cases (each solved in this process, one row per formulation):

* ``bev-pilot``: the default scenario's chosen corridor (corridor mode, real data), capacity in
  the model: the default path (capacity-free relaxation first), then the capacitated model
  directly with assignment variables shared per distinct union of cover sets (corridor's
  formulation) vs one set per flow group (the plain form, as before the shared variables).
* ``grid-625``: a seeded 25 × 25 grid network (625 nodes, 50 km links, every node a candidate),
  4,000 OD pairs, p = 40, range 350 km, round trips, without capacity (the hard range-coverage
  case): the old solve (greedy warm start, HiGHS's default LP solver) vs the swap local search
  on the warm start (:func:`corridor.optimise.heuristic.improve_sites`), with the default LP
  solver and with the interior-point LP inside the MILP (``mip_lp_solver = "ipm"``). The
  incumbent is ``objective``, the proven upper bound ``bound``.

What binds on ``grid-625`` is the bound, not the incumbent: the model is the arc-cover
path-cover form of Capar et al. (2013) with shared cover sets and multi-stop rows, whose LP
relaxation gives 12,111 trucks/day (the multi-stop rows do not move it), while the best plan
known serves 9,022; HiGHS's dual simplex does not finish that root LP in 120 s (it then reports
the trivial bound, the sum of all modelled trucks/day), the interior-point LP reaches it in about
25 s, and even after 600 s HiGHS has not left the root node. A ≤ 1 % gap would need a much
stronger bound than this LP (the per-flow cover rows already describe each flow's own hull; the
gap comes from sharing 40 sites among thousands of flows, as in maximum coverage).

Also measured and ruled out on this instance (one HiGHS thread each): region cuts (what k sites
inside a 5x5 to 11x11 sub-grid can serve of the flows with a cover set inside it, computed
exactly by small MIPs) are not violated by the LP optimum, since one site already serves 1,250 to
1,550 trucks/day of them; a Lagrangian decomposition over 40 flow clusters that keeps p = 40 in
every cluster MIP gives 12,111 at the LP duals and 12,144 to 13,986 after 275 to 390 s, never
below the LP; iterated swap search and MIP fix-and-optimise reach 8,984, a MIP over the 150 sites
of largest LP value 8,140 in 120 s. The best plan known serves 9,259 (random restarts), so the
gap to the LP bound is about 31 %, and one LP solve takes about 10 s: a 1 % gap in 120 s would
need a relaxation of a different kind (branch-and-price over whole plans or regions, whose
pricing problems are themselves max-coverage MIPs).

Reports variables, rows, build and solve time, the warm start's value and time, status,
objective, bound and gap. Usage::

    python scripts/capacity_benchmark.py                  # both cases, 120 s limit each
    python scripts/capacity_benchmark.py --cases grid-625 --time-limit 600 --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
from scipy import sparse

from corridor.catalogue import Catalogue
from corridor.config import OptimiseConfig, load_scenario
from corridor.errors import SolverError
from corridor.optimise import Instance, solve
from corridor.workflows import choose_corridor, run_stages

log = logging.getLogger("capacity_benchmark")


def grid_instance(
    seed: int = 2026,
    side: int = 25,
    link_km: float = 50.0,
    n_od: int = 4000,
    range_km: float = 350.0,
) -> Instance:
    """The seeded grid instance: ``side``² nodes, two-way links, random ODs and volumes."""
    rng = np.random.default_rng(seed)
    n = side * side
    rows: list[int] = []
    cols: list[int] = []
    for r in range(side):
        for c in range(side):
            i = r * side + c
            if c + 1 < side:
                rows += [i, i + 1]
                cols += [i + 1, i]
            if r + 1 < side:
                rows += [i, i + side]
                cols += [i + side, i]
    mat = sparse.csr_array((np.full(len(rows), link_km), (rows, cols)), shape=(n, n))
    o = rng.integers(0, n, n_od)
    d = (o + rng.integers(1, n, n_od)) % n
    vol = rng.integers(1, 20, n_od).astype(float)
    return Instance.from_arrays(mat, o, d, vol, list(range(n)), range_km, round_trip=True)


def row(case: str, label: str, inst: Instance, config: OptimiseConfig, **switches: bool) -> dict:
    """Solve once and describe the model and the result."""
    t0 = time.perf_counter()
    try:
        plan = solve(inst, config, **switches)
    except SolverError as exc:
        return {"case": case, "formulation": label, "status": "no solution", "error": str(exc)}
    ms = plan.model_stats
    return {
        "case": case,
        "formulation": label,
        "variables": ms["variables"],
        "rows": ms["constraints"],
        "assignment_variables": ms["assignment_variables"],
        "sites_dominated": ms["sites_dominated"],
        "proof": ms.get("proof", ""),
        "build_s": round(ms["build_time_s"], 2),
        "start": ms["warm_start_served_trucks_per_day"],
        "start_s": ms["warm_start_time_s"],
        "solve_s": round(plan.solve_time_s, 2),
        "wall_s": round(time.perf_counter() - t0, 2),
        "status": plan.status,
        "objective": round(plan.objective or 0.0, 3),
        "bound": None if plan.best_bound is None else round(plan.best_bound, 3),
        "gap": None if plan.gap is None else round(plan.gap, 5),
        "valid": plan.valid,
        "range_valid": not [v for v in plan.violations if v.kind == "reserve_broken"],
    }


def bev_pilot_rows(time_limit: float) -> list[dict]:
    """The default scenario's chosen corridor, shared vs per-group assignment variables."""
    sc = load_scenario("nl-de-bev-pilot")
    st = run_stages(sc, Catalogue.from_env(), until="instance")
    choice = choose_corridor(sc, st.graph, st.sites, st.instance, st.corridor_od)
    config = sc.optimise.model_copy(update={"time_limit_s": time_limit})
    case = f"bev-pilot ({choice.chosen})"
    return [
        row(case, "capacity, relaxation first (default)", choice.instance, config),
        row(case, "capacity, shared assignment", choice.instance, config, relaxation_first=False),
        row(
            case,
            "capacity, per-group assignment",
            choice.instance,
            config,
            relaxation_first=False,
            shared_assignment=False,
        ),
    ]


def grid_rows(time_limit: float) -> list[dict]:
    """The 625-node grid instance without capacity: old warm start vs swap search, LP solvers."""
    inst = grid_instance()
    config = OptimiseConfig(
        min_sites=0,
        max_sites=40,
        round_trip=True,
        capacity_in_model=False,
        time_limit_s=time_limit,
    )
    ipm = config.model_copy(update={"mip_lp_solver": "ipm"})
    return [
        row("grid-625", "old: greedy start", inst, config, local_search=False),
        row("grid-625", "greedy + swap start", inst, config),
        row("grid-625", "greedy + swap start, ipm LP", inst, ipm),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["bev-pilot", "grid-625"])
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows: list[dict] = []
    if "bev-pilot" in args.cases:
        rows += bev_pilot_rows(args.time_limit)
    if "grid-625" in args.cases:
        rows += grid_rows(args.time_limit)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
