"""Solve a siting instance: checks before solving, the MILP, honest status, sizing, validation."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from corridor.errors import InfeasibleError, ScenarioError, SolverError
from corridor.grid.hours import hour_set as parse_hours
from corridor.optimise.heuristic import Rules, improve_sites
from corridor.optimise.instance import DIRECTIONS, Instance, road_key
from corridor.optimise.model import (
    Model,
    ModelSpec,
    Preprocessed,
    assigned_charging,
    build_model,
    flow_cover_sets,
    greedy_sites,
    paired_sites,
    preprocess,
    set_start,
)
from corridor.optimise.presolve import dominated_sites
from corridor.optimise.sizing import (
    PLAN_SITE_COLUMNS,
    capacity_table,
    load_per_charge_km,
    min_chargers,
    size_assigned,
    size_sites,
)
from corridor.optimise.validate import Violation, check_capacity, validate

if TYPE_CHECKING:
    from corridor.config import OptimiseConfig

__all__ = [
    "PLAN_SITE_COLUMNS",
    "PlanResult",
    "effective_headroom",
    "make_solver",
    "parse_hours",
    "solve",
    "usable_sites",
]

log = logging.getLogger(__name__)

_ABS_GAP = 1e-6


@dataclass(frozen=True)
class PlanResult:
    """A solved plan.

    Attributes
    ----------
    status
        ``optimal`` (proven by the solver, gap 0), ``feasible`` (a solution with a positive or
        unknown gap, e.g. time limit or accepted ``mip_gap``) or ``infeasible``.
    objective
        Objective value (trucks/day, truck-km/day, or number of sites for ``min_sites``).
    best_bound
        Best bound the solver proved (same unit), None if unknown.
    gap
        Relative gap ``|bound − objective| / max(|objective|, 1e-9)``, None if unknown.
    solve_time_s
        Wall time of the solver call (s).
    solver
        Solver name.
    sites
        Open sites, indexed by ``site_id``, columns :data:`PLAN_SITE_COLUMNS`: ``chargers`` (int,
        H2: modules), ``chargers_needed`` (Erlang-C before capping), ``capped`` (bool: headroom or
        ``max_chargers_per_site`` kept it below need), ``power_mw`` (bev), ``capacity_kg_per_day``
        (h2), ``served_trucks_per_day`` and ``stops_per_day`` (trucks/day charging there in the
        simulation), ``energy_mwh_per_day`` (bev) / ``h2_kg_per_day`` (h2), ``energy_per_stop``
        (kWh or kg), ``session_min`` (bev), ``covered_od_ids`` (tuple of flows stopping there),
        ``serves_directions`` ("outbound;inbound" …).
    served_od_ids
        Flows that need a site and are served by the plan (in whole or, with capacity in the
        model, in part: see ``served_share``).
    served_trucks_per_day
        Their trucks/day (× their served share; flows already feasible without any site are not
        included, see ``model_stats["trucks_already_feasible_per_day"]``).
    served_share
        Share (0–1] of each served flow's trucks/day the plan's chargers carry, by od id; flows
        not listed are served whole.
    violations
        Problems the independent simulation found; empty for a valid plan.
    model_stats
        Sizes, preprocessing counts, timings, raw solver status, ``reason`` when infeasible.
    """

    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    solve_time_s: float
    solver: str
    sites: pd.DataFrame
    served_od_ids: tuple[str, ...]
    served_trucks_per_day: float
    violations: tuple[Violation, ...] = ()
    model_stats: dict[str, Any] = field(default_factory=dict)
    served_share: dict[str, float] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when the plan is not infeasible and the simulation found no violation."""
        return self.status != "infeasible" and not self.violations

    @property
    def open_site_ids(self) -> tuple[str, ...]:
        """Ids of the open sites."""
        return tuple(str(s) for s in self.sites.index)


def effective_headroom(sites: pd.DataFrame, config: OptimiseConfig) -> pd.Series:
    """Grid headroom (MW) a site can count on in the charging peak.

    A ``firm`` connection (or an unknown one) keeps its ``headroom_mw``. A ``non_firm`` connection
    with ``restricted_hours`` gets ``headroom_mw × (peak hours outside the restricted hours) /
    (peak hours)``, the peak hours being ``config.charging_peak_hours``: when the grid operator
    may curtail offtake for part of the busy period, only that share of the headroom is planned
    with (the rest needs storage or flexible charging, outside this model).

    Returns
    -------
    pandas.Series
        Headroom (MW) by site id.
    """
    head = sites["headroom_mw"].astype(float)
    if "connection" not in sites.columns or "restricted_hours" not in sites.columns:
        return head
    peak = parse_hours(config.charging_peak_hours, "optimise.charging_peak_hours")
    if not peak:
        return head
    share: dict[str, float] = {}
    out = head.copy()
    for sid, conn, hours in sites[["connection", "restricted_hours"]].itertuples():
        if conn == "non_firm" and hours:
            if hours not in share:
                restricted = parse_hours(hours, f"sites_with_grid.restricted_hours (site {sid})")
                share[hours] = len(peak - restricted) / len(peak)
            out[sid] = head[sid] * share[hours]
    return out


def _pool_chargers(config: OptimiseConfig) -> int:
    if config.afir_min_pool_power_mw is None or config.vehicle.technology != "bev":
        return 0
    return math.ceil(config.afir_min_pool_power_mw / config.charger_power_mw - 1e-9)


def _corridor_sites(instance: Instance) -> set[str]:
    return {s.site_id for c in instance.corridors for s in c.stops}


def usable_sites(instance: Instance, config: OptimiseConfig) -> tuple[list[str], dict[str, str]]:
    """Sites that may be opened, and why the others may not.

    Parameters
    ----------
    instance
        The instance.
    config
        :class:`~corridor.config.OptimiseConfig`.

    Returns
    -------
    usable, excluded
        Usable site ids in instance order; excluded site id → reason.
    """
    excluded: dict[str, str] = {}
    closed = set(config.fixed_closed)
    bev = config.vehicle.technology == "bev"
    need_mw = min_chargers(config) * config.charger_power_mw
    pool_mw = _pool_chargers(config) * config.charger_power_mw
    on_corridor = _corridor_sites(instance) if pool_mw > 0 else set()
    for sid, h in instance.sites["headroom_mw"].items():
        if sid in closed:
            excluded[sid] = "fixed_closed"
        elif bev and h < need_mw - 1e-9:
            excluded[sid] = f"headroom {h:.2f} MW below the minimum site power {need_mw:.2f} MW"
        elif sid in on_corridor and h < pool_mw - 1e-9:
            excluded[sid] = (
                f"headroom {h:.2f} MW below the AFIR minimum pool power {pool_mw:.2f} MW"
            )
    return [s for s in instance.site_ids if s not in excluded], excluded


def check_fixed_ids(instance: Instance, config: OptimiseConfig) -> None:
    """Refuse ``fixed_open`` / ``fixed_closed`` / ``fixed_sites`` ids that are no candidate.

    Raises
    ------
    ScenarioError
        Naming the key and the first unknown ids.
    """
    known = set(instance.site_ids)
    for label, ids in (
        ("fixed_open", config.fixed_open),
        ("fixed_closed", config.fixed_closed),
        ("fixed_sites", tuple(config.fixed_sites)),
    ):
        bad = [s for s in ids if s not in known]
        if bad:
            msg = f"optimise.{label} names unknown site ids {bad[:5]}; use ids of the candidates"
            raise ScenarioError(msg)


def _check_before_solving(
    instance: Instance, config: OptimiseConfig, usable: list[str], excluded: dict[str, str]
) -> None:
    check_fixed_ids(instance, config)
    both = set(config.fixed_open) & set(config.fixed_closed)
    if both:
        msg = f"sites {sorted(both)} are in both optimise.fixed_open and optimise.fixed_closed"
        raise ScenarioError(msg)
    for s in config.fixed_open:
        if s in excluded:
            msg = f"fixed open site {s} cannot be opened: {excluded[s]}"
            raise InfeasibleError(msg)
    if len(config.fixed_open) > config.max_sites:
        msg = f"{len(config.fixed_open)} fixed open sites exceed max_sites = {config.max_sites}"
        raise InfeasibleError(msg)
    if config.min_sites > len(usable):
        msg = (
            f"min_sites = {config.min_sites} but only {len(usable)} candidate sites are usable "
            f"({len(excluded)} excluded by headroom or fixed_closed)"
        )
        raise InfeasibleError(msg)
    sites = instance.sites.loc[usable]
    for cc, n in sorted(config.min_sites_per_country.items()):
        have = int((sites["country"] == cc).sum())
        if n > have:
            msg = (
                f"min_sites_per_country[{cc}] = {n} but only {have} usable candidate sites are "
                f"in {cc}"
            )
            raise InfeasibleError(msg)
    for (column, value), n in sorted(group_minimums(config).items()):
        have = int((sites[column].astype(str) == value).sum()) if column in sites.columns else 0
        if n > have:
            key = "min_sites_per_region" if column == "region" else "min_sites_per_road"
            msg = f"{key}[{value}] = {n} but only {have} usable candidate sites are on {value}"
            raise InfeasibleError(msg)
    total_country = sum(config.min_sites_per_country.values())
    if total_country > config.max_sites:
        msg = (
            f"min_sites_per_country sums to {total_country} sites, more than max_sites = "
            f"{config.max_sites}"
        )
        raise InfeasibleError(msg)
    if config.min_sites_per_direction > 0:
        for d in DIRECTIONS:
            have = int(sites["directions"].map(lambda ds, d=d: d in ds).sum())
            if config.min_sites_per_direction > have:
                msg = (
                    f"min_sites_per_direction = {config.min_sites_per_direction} but only {have} "
                    f"usable candidate sites serve the {d} direction"
                )
                raise InfeasibleError(msg)
    if config.budget_eur is not None:
        fixed_cost = float(instance.sites.loc[list(config.fixed_open), "cost_eur"].sum())
        fixed_cost += len(config.fixed_open) * min_chargers(config) * config.charger_cost_eur
        if fixed_cost > config.budget_eur + 1e-9:
            msg = (
                f"the fixed open sites cost {fixed_cost:,.0f} EUR, more than budget_eur = "
                f"{config.budget_eur:,.0f}"
            )
            raise InfeasibleError(msg)
        # the cheapest plan the site-count rules allow must fit the budget
        need = max(config.min_sites, total_country, len(config.fixed_open))
        free = [s for s in usable if s not in set(config.fixed_open)]
        rest = need - len(config.fixed_open)
        site_cost = float(instance.sites.loc[free, "cost_eur"].nsmallest(max(rest, 0)).sum())
        chargers = need * min_chargers(config)
        least = float(instance.sites.loc[list(config.fixed_open), "cost_eur"].sum()) + site_cost
        least += chargers * config.charger_cost_eur
        if need > 0 and least > config.budget_eur + 1e-9:
            msg = (
                f"at least {need} sites must open (min_sites / min_sites_per_country / "
                f"fixed_open): {need} × {min_chargers(config)} charger(s) × "
                f"{config.charger_cost_eur:,.0f} EUR (optimise.charger_cost_eur) + "
                f"{site_cost:,.0f} EUR for the cheapest sites = {least:,.0f} EUR minimum, more "
                f"than optimise.budget_eur = {config.budget_eur:,.0f} EUR"
            )
            raise InfeasibleError(msg)


def _afir_covers(
    instance: Instance, config: OptimiseConfig, usable: list[str], excluded: dict[str, str]
) -> tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]:
    if config.afir_max_gap_km is None or not instance.corridors:
        return ()
    gap = float(config.afir_max_gap_km)
    out = []
    usable_set = set(usable)
    for corridor in instance.corridors:
        covers = flow_cover_sets(corridor, usable_set, gap, gap)
        if covers is None:
            everyone = {s.site_id for s in corridor.stops}
            why = ""
            if flow_cover_sets(corridor, everyone, gap, gap) is not None:
                reasons = sorted(
                    {r.split(" MW below ")[-1] for s, r in excluded.items() if s in everyone}
                )
                why = (
                    " (candidates there exist but are excluded: headroom below "
                    + "; ".join(reasons)
                    + ")"
                )
            msg = (
                f"AFIR corridor {corridor.od_id}: some stretch of {gap:.0f} km has no usable "
                f"candidate site, so the maximum spacing cannot be met{why}"
            )
            raise InfeasibleError(msg)
        out.append((corridor.od_id, tuple(covers)))
    return tuple(out)


def _served_by(pre: Preprocessed, chosen: list[str]) -> float:
    open_set = set(chosen)
    return float(
        sum(
            g.trucks_per_day
            for g in pre.groups
            if all(any(s in open_set for s in c) for c in g.covers)
        )
    )


def make_solver(config: OptimiseConfig, *, warm_start: bool = False) -> Any:
    """Build the PuLP solver object for the config (HiGHS, or CBC through ``COIN_CMD``).

    Raises
    ------
    SolverError
        If the chosen solver is not available, with how to install it.
    """
    import pulp

    if config.solver == "highs":
        lp = config.mip_lp_solver
        options = {} if lp == "choose" else {"mip_lp_solver": lp}
        solver = pulp.HiGHS(
            msg=False,
            timeLimit=config.time_limit_s,
            gapRel=config.mip_gap,
            threads=config.threads,
            warmStart=warm_start,
            **options,
        )
        if not solver.available():
            msg = "HiGHS is not available: pip install 'pulp[highs]' (highspy)"
            raise SolverError(msg)
        return solver
    kwargs = {
        "msg": False,
        "timeLimit": config.time_limit_s,
        "gapRel": config.mip_gap,
        "warmStart": warm_start,
    }
    if config.threads:
        kwargs["threads"] = config.threads
    solver = pulp.COIN_CMD(**kwargs)
    if not solver.available():
        msg = (
            "CBC is not available to PuLP (no cbc executable found; PuLP 4 bundles none): install "
            "it with `apt install coinor-cbc` (or conda install coin-or-cbc) or choose "
            "solver = 'highs'"
        )
        raise SolverError(msg)
    return solver


def _stale_solution(prob: Any, stats: Any, config: OptimiseConfig) -> bool:
    """Tell whether HiGHS's own objective differs from the objective of the values it returned."""
    if config.solver != "highs" or not stats.has_solution or stats.objective is None:
        return False
    reported = prob.solverModel.getInfo().objective_function_value
    return abs(reported - stats.objective) > 1e-6 * max(1.0, abs(reported))


#: Tolerance of the check that a time-limited solution keeps the model's rows, relative to
#: 1 + the row's absolute activity (the solver's own tolerances are 1e-6 to 1e-7).
_ROW_TOLERANCE = 1e-4


def _broken_row(prob: Any) -> str | None:
    """Name of the first row the problem's current values break beyond the tolerance, or None."""
    import pulp

    for row in prob.constraints():
        name = str(row.name)
        terms = [(a, v.varValue) for v, a in row.items()]
        if any(x is None for _, x in terms):
            return name
        value = sum(a * x for a, x in terms) + row.constant
        slack = _ROW_TOLERANCE * (1.0 + sum(abs(a * x) for a, x in terms) + abs(row.constant))
        if (row.sense == pulp.LpConstraintEQ and abs(value) > slack) or value * row.sense < -slack:
            return name
    return None


def _status(stats: Any, objective: float | None) -> tuple[str, float | None, float | None]:
    """Map PuLP's solve stats to our status, bound and gap (optimal only when proven)."""
    from pulp.constants import LpSolveStatus

    bound = stats.best_bound
    gap = None
    if objective is not None and bound is not None and math.isfinite(bound):
        diff = abs(bound - objective)
        gap = 0.0 if diff <= _ABS_GAP else diff / max(abs(objective), 1e-9)
    if stats.status == LpSolveStatus.Optimal and stats.has_solution:
        if gap is None:
            # no bound reported: a proven optimum has bound == objective
            return "optimal", objective, 0.0
        return ("optimal" if gap == 0.0 else "feasible"), bound, gap
    if stats.has_solution:
        return "feasible", bound, gap
    return "none", bound, gap


def _open_and_served(
    model: Model, pre: Preprocessed
) -> tuple[list[str], list[int], dict[str, float]]:
    x_val = {s: (v.varValue or 0.0) for s, v in model.x.items()}
    open_sites = [s for s, v in x_val.items() if v > 0.5]
    open_set = set(open_sites)
    served_groups = [
        gi
        for gi, g in enumerate(pre.groups)
        if all(any(s in open_set for s in cover) for cover in g.covers)
    ]
    z_val = {s: float(round(model.z[s].varValue or 0.0)) for s in open_sites}
    return open_sites, served_groups, z_val


def _spec(
    config: OptimiseConfig,
    afir: Any,
    pool_sites: set[str] | frozenset[str] = frozenset(),
    energy_per_km: float | None = None,
    **switches: bool,
) -> ModelSpec:
    bev = config.vehicle.technology == "bev"
    per_km = config.vehicle.consumption_per_km if energy_per_km is None else energy_per_km
    battery_mw = config.battery_max_mwh_per_site / config.battery_hours if bev else 0.0
    return ModelSpec(
        objective=config.objective,
        max_sites=config.max_sites,
        min_sites=config.min_sites,
        min_per_country=dict(config.min_sites_per_country),
        min_per_group=group_minimums(config),
        min_per_direction=(
            dict.fromkeys(DIRECTIONS, config.min_sites_per_direction)
            if config.min_sites_per_direction
            else {}
        ),
        fixed_open=tuple(config.fixed_open),
        min_chargers=min_chargers(config),
        max_chargers=config.max_chargers_per_site,
        charger_power_mw=config.charger_power_mw if bev else 0.0,
        budget_eur=config.budget_eur,
        charger_cost_eur=config.charger_cost_eur,
        target_share=config.target_share,
        afir_covers=afir,
        capacity=bool(config.capacity_in_model),
        load_per_charge_km=load_per_charge_km(config, per_km),
        capacity_table=capacity_table(config),
        battery_max_mw=battery_mw,
        battery_cost_eur_per_mw=config.battery_cost_eur_per_mwh * config.battery_hours,
        min_chargers_at=_min_chargers_at(config, pool_sites),
        **switches,
    )


def group_minimums(config: OptimiseConfig) -> dict[tuple[str, str], int]:
    """Fewest sites per group, keyed ``(column, value)``: NUTS-1 ``region`` and ``road`` ref."""
    out = {("region", r): n for r, n in config.min_sites_per_region.items() if n > 0}
    out |= {("road", road_key(r)): n for r, n in config.min_sites_per_road.items() if n > 0}
    return out


def _min_chargers_at(config: OptimiseConfig, pool_sites: set[str] | frozenset[str]) -> dict:
    """Per-site charger minimum: the AFIR pool's and the kept sites' (``fixed_sites``)."""
    low = dict.fromkeys(pool_sites, _pool_chargers(config))
    for s, n in config.fixed_sites.items():
        low[s] = max(low.get(s, 0), n)
    return low


def _without_dominated(
    instance: Instance,
    config: OptimiseConfig,
    pre: Preprocessed,
    afir: Any,
    pool_sites: set[str],
) -> set[str]:
    """Sites of ``pre.used_sites`` another usable site dominates (:mod:`.presolve`)."""
    from corridor.optimise.model import shared_cover_sets

    covers, _ = shared_cover_sets(pre)
    covers = covers + [c for _, cs in afir for c in cs]
    used = list(pre.used_sites)
    info = instance.sites.loc[used]
    low = min_chargers(config)
    pool_min = _pool_chargers(config)
    lows = np.array([max(low, pool_min if s in pool_sites else 0) for s in used])
    attrs = pd.DataFrame(
        {
            "country": info["country"].astype(str),
            "region": info["region"].astype(str) if "region" in info.columns else "",
            "road": info["road"].astype(str) if "road" in info.columns else "",
            "directions": info["directions"],
            "open_cost_eur": info["cost_eur"].to_numpy(float) + config.charger_cost_eur * lows,
            "headroom_mw": info["headroom_mw"].astype(float),
            "min_chargers": lows,
        },
        index=info.index,
    )
    same = ["country", *sorted({column for column, _ in group_minimums(config)})]
    # a half of a rest area is never dropped: with its other half open it adds no station,
    # which the site it would be swapped for may
    keep = (*config.fixed_open, *paired_sites(instance.sites, used))
    return dominated_sites(used, covers, attrs, keep=keep, same=same)


def solve(
    instance: Instance,
    config: OptimiseConfig,
    *,
    extra_constraints: Callable[[Model], None] | None = None,
    aggregate: bool = True,
    dominance: bool = True,
    shared_covers: bool = True,
    prune_sites: bool = True,
    warm_start: bool = True,
    site_dominance: bool = True,
    shared_assignment: bool = True,
    relaxation_first: bool = True,
    local_search: bool = True,
) -> PlanResult:
    """Choose sites for the instance, size them and validate the plan by simulation.

    A config with several vehicle classes (``config.vehicles``) is planned jointly by
    :func:`~corridor.optimise.joint.solve_joint` (the switches below do not apply).

    With capacity in the model and ``relaxation_first``, the capacity-free model is solved
    first (small after the site-dominance presolve; its optimum bounds the capacitated one).
    If the capacitated model restricted to the relaxation's open sites reaches that bound, its
    plan is optimal for the full capacitated model too (relaxation optimum ≥ capacitated optimum
    ≥ this plan = relaxation optimum) and is returned with ``model_stats["proof"] =
    "relaxation"``; otherwise the full capacitated model is solved (always for the ``min_sites``
    objective, whose target share depends on what the instance can serve), or, with
    ``capacity_search = "relaxation_sites"``, the restricted plan is returned as ``feasible``
    with its gap to the relaxation optimum (``proof`` ``"relaxation_sites"``).

    Parameters
    ----------
    instance
        The siting instance.
    config
        :class:`~corridor.config.OptimiseConfig`.
    extra_constraints
        Optional hook called with the built :class:`~corridor.optimise.model.Model` (add
        constraints to ``model.problem``).
    aggregate, dominance, shared_covers, prune_sites
        Preprocessing / formulation switches (on by default; off only for benchmarking the
        plain arc-cover path-cover form): aggregate flows with the same cover family, drop
        dominated cover sets, one variable per distinct cover set, drop site variables that
        cannot change the optimum.
    warm_start
        Give the solver the greedy plan of :func:`~corridor.optimise.model.greedy_sites` as a
        start solution (uncapacitated model only).
    local_search
        Improve that start by the swap local search of
        :func:`~corridor.optimise.heuristic.improve_sites` (off: the greedy plan as it is; for
        benchmarking).
    shared_assignment
        Capacity in the model: assignment variables per distinct union of cover sets (on) or
        per flow group (off, the plain form; for benchmarking).
    site_dominance
        Drop candidate sites another site dominates (:mod:`corridor.optimise.presolve`; keeps
        the optimum of the uncapacitated model; not used with capacity in the model, where a
        dominated site may still be needed for its chargers).
    relaxation_first
        Try the capacity-free relaxation first (see above); off: solve the capacitated model
        directly (for benchmarking).

    Returns
    -------
    PlanResult

    Raises
    ------
    InfeasibleError
        When infeasibility is clear before solving (the message names the binding reason).
    ScenarioError
        For fixed sites that are unknown or both open and closed, or a technology mismatch.
    SolverError
        If the solver is missing or stops without any solution.
    """
    if config.vehicles:
        from corridor.optimise.joint import solve_joint

        return solve_joint(instance, config)
    switches = {
        "aggregate": aggregate,
        "dominance": dominance,
        "shared_covers": shared_covers,
        "prune_sites": prune_sites,
        "warm_start": warm_start,
        "site_dominance": site_dominance,
        "shared_assignment": shared_assignment,
        "local_search": local_search,
    }
    shortcut = config.capacity_in_model and relaxation_first and extra_constraints is None
    # min_sites serves a share of what the instance can serve: a restricted instance changes it
    if not shortcut or config.objective == "min_sites":
        return _solve_model(instance, config, extra_constraints, **switches)
    free = config.model_copy(update={"capacity_in_model": False})
    relaxed = _solve_model(instance, free, None, check=False, **switches)
    extra = {
        "relaxation_objective": relaxed.objective,
        "relaxation_status": relaxed.status,
        "relaxation_solve_time_s": round(relaxed.solve_time_s, 4),
    }
    if relaxed.status == "optimal" and len(relaxed.sites):
        sub = instance.restricted_to(relaxed.open_site_ids, keep_flows=True)
        fixed = _solve_model(sub, config.model_copy(update={"fixed_closed": ()}), None, **switches)
        proven = fixed.status == "optimal" and _reaches(fixed.objective, relaxed.objective)
        if proven or (
            config.capacity_search == "relaxation_sites" and fixed.status in ("optimal", "feasible")
        ):
            # proven: optimal for the whole capacitated model (see above); otherwise a plan on
            # the relaxation's sites with its gap to the capacity-free optimum
            bound = float(relaxed.objective or 0.0)
            value = float(fixed.objective or 0.0)
            gap = 0.0 if _reaches(value, bound) else (bound - value) / max(abs(value), 1e-9)
            proof = "relaxation" if proven else "relaxation_sites"
            return _replace(
                fixed,
                status="optimal" if gap == 0.0 else "feasible",
                # reached within the solver's tolerance: never report a bound below the value
                best_bound=max(bound, value) if gap == 0.0 else bound,
                gap=gap,
                solve_time_s=relaxed.solve_time_s + fixed.solve_time_s,
                model_stats={**fixed.model_stats, **extra, "proof": proof},
            )
    full = _solve_model(instance, config, None, **switches)
    return _replace(full, model_stats={**full.model_stats, **extra, "proof": "solver"})


def _reaches(value: float | None, bound: float | None) -> bool:
    """Tell whether a capacitated objective (maximised) reaches the relaxation's."""
    if value is None or bound is None:
        return False
    return value >= bound - 1e-6 * max(1.0, abs(bound))


def _solve_model(
    instance: Instance,
    config: Any,
    extra_constraints: Callable[[Model], None] | None = None,
    *,
    check: bool = True,
    aggregate: bool = True,
    dominance: bool = True,
    shared_covers: bool = True,
    prune_sites: bool = True,
    warm_start: bool = True,
    site_dominance: bool = True,
    shared_assignment: bool = True,
    local_search: bool = True,
) -> PlanResult:
    """One model solve (see :func:`solve`); ``check`` runs the independent checks."""
    if config.vehicle.technology != instance.technology:
        msg = (
            f"the instance is for {instance.technology} but optimise.vehicle.technology is "
            f"{config.vehicle.technology}"
        )
        raise ScenarioError(msg)
    want_mode = "round_trip" if config.round_trip else "one_way"
    if instance.mode != want_mode:
        msg = (
            f"optimise.round_trip = {config.round_trip} but the instance was built for "
            f"{instance.mode} trips; rebuild it with the matching mode"
        )
        raise ScenarioError(msg)
    instance = _with_effective_headroom(instance, config)
    check_fixed_ids(instance, config)  # before fixed_sites join fixed_open, to name their key
    if config.fixed_sites:  # kept sites are fixed open sites with a charger minimum (_spec)
        opened = tuple(dict.fromkeys((*config.fixed_open, *config.fixed_sites)))
        config = config.model_copy(update={"fixed_open": opened})
    usable, excluded = usable_sites(instance, config)
    _check_before_solving(instance, config, usable, excluded)
    afir = _afir_covers(instance, config, usable, excluded)
    t0 = time.perf_counter()
    pre = preprocess(
        instance,
        usable,
        aggregate=aggregate,
        dominance=dominance,
        by_charge_km=bool(config.capacity_in_model),
    )
    pool_sites = _corridor_sites(instance) if _pool_chargers(config) else set()
    n_dominated = 0
    # with capacity a dominated site still adds chargers next to its dominator: keep them all
    if site_dominance and pre.groups and not config.capacity_in_model:
        dropped = _without_dominated(instance, config, pre, afir, pool_sites)
        if dropped:
            n_dominated = len(dropped)
            usable = [s for s in usable if s not in dropped]
            afir = _afir_covers(instance, config, usable, excluded)
            pre = preprocess(
                instance,
                usable,
                aggregate=aggregate,
                dominance=dominance,
                by_charge_km=bool(config.capacity_in_model),
            )
    t_pre = time.perf_counter() - t0
    spec = _spec(
        config,
        afir,
        pool_sites,
        instance.energy_per_km,
        shared_covers=shared_covers,
        prune_sites=prune_sites,
        shared_assignment=shared_assignment,
    )
    model = build_model(instance, pre, spec, extra_constraints)
    heuristic: list[str] = []
    # a greedy start without chargers and assignment is no feasible point of the capacity model
    warm_start = warm_start and bool(model.x) and model.assignment is None
    if warm_start:
        t1 = time.perf_counter()
        heuristic = greedy_sites(instance, pre, spec, list(model.x))
        if local_search:
            limit = min(10.0, 0.1 * config.time_limit_s)
            heuristic = improve_sites(
                instance, pre, spec, list(model.x), heuristic, time_limit_s=limit
            )
        set_start(model, pre, spec, heuristic)
        t_heur = time.perf_counter() - t1
    prob = model.problem
    resolved_cold = False
    stats = prob.solve(make_solver(config, warm_start=warm_start))
    if warm_start and _stale_solution(prob, stats, config):
        # HiGHS can report a proven optimum while handing back the start solution's values
        # (seen with HiGHS 1.16 when presolve solves the model); solve again without the start
        log.warning("solver returned values that do not match its objective; re-solving cold")
        for var in prob.variables():
            var.varValue = None
        stats = prob.solve(make_solver(config, warm_start=False))
        resolved_cold = True
    objective = stats.objective if stats.has_solution else None
    status, bound, gap = _status(stats, objective)
    if status == "feasible" and _broken_row(prob) is not None:
        # a time-limited stop can hand back values that break the model's rows (all zeros at a
        # national scale): that is no solution, however the solver labels it
        log.warning("the solver's values at its stop break the model's rows: no solution")
        status, objective = "none", None
    model_stats: dict[str, Any] = {
        **pre.stats,
        "variables": prob.numVariables(),
        "constraints": prob.numConstraints(),
        "site_variables": len(model.x),
        "candidates_excluded": len(excluded),
        "trucks_modelled_per_day": float(sum(g.trucks_per_day for g in pre.groups)),
        "trucks_already_feasible_per_day": pre.trucks_already_feasible_per_day,
        "trucks_unservable_per_day": pre.trucks_unservable_per_day,
        "trucks_total_per_day": instance.total_trucks_per_day,
        "preprocess_time_s": round(t_pre, 4),
        "build_time_s": round(model.build_time_s, 4),
        "solver_status": stats.status.name,
        "warm_start_sites": len(heuristic),
        "warm_start_served_trucks_per_day": _served_by(pre, heuristic) if warm_start else None,
        "warm_start_time_s": round(t_heur, 4) if warm_start else None,
        "resolved_cold": resolved_cold,
        "sites_dominated": n_dominated,
        "assignment_variables": len(model.assignment.b) if model.assignment else 0,
        "charger_binaries": len(model.assignment.u) if model.assignment else 0,
        "objective_kind": config.objective,
        "capacity_in_model": bool(config.capacity_in_model),
        "sites_headroom_reduced_non_firm": int(
            (instance.sites["headroom_mw"] < instance.sites.get("headroom_grid_mw", np.inf)).sum()
        ),
    }
    solver_name = "HiGHS" if config.solver == "highs" else "CBC"
    if status == "none":
        from pulp.constants import LpSolveStatus

        if stats.status == LpSolveStatus.Infeasible:
            model_stats["reason"] = "the solver proved the model infeasible (constraints conflict)"
            return PlanResult(
                status="infeasible",
                objective=None,
                best_bound=None,
                gap=None,
                solve_time_s=float(stats.time),
                solver=solver_name,
                sites=pd.DataFrame(
                    columns=list(PLAN_SITE_COLUMNS), index=pd.Index([], name="site_id")
                ),
                served_od_ids=(),
                served_trucks_per_day=0.0,
                violations=(),
                model_stats=model_stats,
            )
        msg = (
            f"{solver_name} stopped ({stats.status.name}) after {stats.time:.1f} s without a "
            f"feasible solution; raise optimise.time_limit_s (now {config.time_limit_s} s)"
        )
        raise SolverError(msg)
    open_sites, served_groups, z_val = _open_and_served(model, pre)
    share = dict.fromkeys(served_groups, 1.0)
    if model.assignment is not None:
        # capacity in the model: served is what it assigned to chargers, sized as assigned
        share = _served_shares(model)
        served_groups = list(share)
        sites = _size_from_assignment(instance, config, model, pre, spec, open_sites, share)
    served_ids = tuple(od for gi in served_groups for od in pre.groups[gi].od_ids)
    served_trucks = float(sum(pre.groups[gi].trucks_per_day * share[gi] for gi in served_groups))
    partial = {
        od: share[gi] for gi in served_groups if share[gi] < 1.0 for od in pre.groups[gi].od_ids
    }
    if model.assignment is None:
        sites = size_sites(instance, open_sites, served_ids, config, z_val)
    idle = _idle_sites(instance, spec, pre, sites, served_groups)
    sites = sites.drop(index=idle)
    model_stats["sites_idle_closed"] = len(idle)
    model_stats["served_truck_km_per_day"] = float(
        sum(pre.groups[gi].truck_km_per_day * share[gi] for gi in served_groups)
    )
    model_stats["flows_served_in_part"] = len(partial)
    model_stats["sites_capped"] = int(sites["capped"].sum())
    plan = PlanResult(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=gap,
        solve_time_s=float(stats.time),
        solver=solver_name,
        sites=sites,
        served_od_ids=served_ids,
        served_trucks_per_day=served_trucks,
        violations=(),
        model_stats=model_stats,
        served_share=partial,
    )
    if not check:
        return plan
    violations = tuple(validate(instance, plan)) + tuple(check_capacity(instance, plan, config))
    if violations:
        log.error("plan has %d violations, first: %s", len(violations), violations[0])
    return _replace(plan, violations=violations)


_SHARE_EPS = 1e-6


def _idle_sites(
    instance: Instance,
    spec: ModelSpec,
    pre: Preprocessed,
    sites: pd.DataFrame,
    served_groups: Sequence[int],
) -> list[str]:
    """Open sites that serve no truck and that no rule needs: closed after the solve.

    The objective does not count sites, so at an optimum the solver may leave a site open that
    serves nothing (a free half of a rest area, a site kept from the warm start). Such a site is
    closed, in id order, when it is not fixed open and not on an AFIR corridor, every served
    flow still has an open site in each of its cover sets without it, and the station count and
    the country, region / road and direction minimums still hold. Nothing served changes, so
    the objective and its proof stand.
    """
    open_ids = [str(s) for s in sites.index]
    idle = [
        s
        for s in sorted(open_ids)
        if float(sites.at[s, "served_trucks_per_day"]) <= 1e-9 and s not in spec.fixed_open
    ]
    if not idle:
        return []
    on_afir = {s for _, covers in spec.afir_covers for c in covers for s in c}
    rules = Rules(instance, spec, open_ids)
    kept = np.ones(len(open_ids), dtype=bool)
    closed = []
    for s in idle:
        if s in on_afir:
            continue
        j = open_ids.index(s)
        kept[j] = False
        rest = {t for t, k in zip(open_ids, kept, strict=True) if k}
        covered = all(
            any(t in rest for t in cover) for gi in served_groups for cover in pre.groups[gi].covers
        )
        if covered and rules.ok(kept):
            closed.append(s)
        else:
            kept[j] = True
    return closed


def _served_shares(model: Model) -> dict[int, float]:
    """Compute the served share per group with capacity in the model (within 1e-6 of 1: whole)."""
    out = {}
    for gi, v in model.y.items():
        val = float(v.varValue or 0.0)
        if val > _SHARE_EPS:
            out[gi] = 1.0 if val > 1.0 - _SHARE_EPS else val
    return out


def _size_from_assignment(
    instance: Instance,
    config: OptimiseConfig,
    model: Model,
    pre: Preprocessed,
    spec: ModelSpec,
    open_sites: list[str],
    share: dict[int, float],
) -> pd.DataFrame:
    """Per open site: the energy, trucks and flows the model assigned, sized by the one rule."""
    asg = model.assignment
    assert asg is not None
    energy = dict.fromkeys(open_sites, 0.0)
    trucks = dict.fromkeys(open_sites, 0.0)
    od_ids: dict[str, list[str]] = {s: [] for s in open_sites}
    assigned = assigned_charging(asg.unions, asg.groups_of, asg.b, pre.groups, share, energy)
    for s, ck, groups, total in assigned:
        energy[s] += ck * instance.energy_per_km
        part = ck / total
        for gi in groups:
            trucks[s] += pre.groups[gi].trucks_per_day * share[gi] * part
            od_ids[s].extend(pre.groups[gi].od_ids)
    low = {
        s: spec.charger_range(s, float(instance.sites.at[s, "headroom_mw"]))[0] for s in open_sites
    }
    battery = {s: float(v.varValue or 0.0) for s, v in asg.battery_mw.items() if s in energy}
    return size_assigned(instance, config, energy, trucks, od_ids, low, battery)


def _with_effective_headroom(instance: Instance, config: OptimiseConfig) -> Instance:
    import dataclasses

    if "connection" not in instance.sites.columns:
        return instance
    sites = instance.sites.copy()
    sites["headroom_grid_mw"] = sites["headroom_mw"]
    sites["headroom_mw"] = effective_headroom(instance.sites, config)
    return dataclasses.replace(instance, sites=sites)


def _replace(plan: PlanResult, **changes: Any) -> PlanResult:
    import dataclasses

    return dataclasses.replace(plan, **changes)
