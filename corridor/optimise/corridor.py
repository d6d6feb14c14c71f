"""Corridor mode: rank named corridors for a pilot, then site the stations along the best one.

A pilot such as the NL–DE battery-electric corridor is one traject, not a national network: 4–6
stations of 1+ MW on the Dutch and German parts of one route, both directions. For each named
corridor the caller gives the candidate sites within a buffer of its carriageways (both
directions); :func:`rank_corridors` restricts the instance to them
(:meth:`~corridor.optimise.Instance.restricted_to`), checks that the scenario's site minimums can
be met there (countries, directions, usable sites), solves the capacitated model on each eligible
corridor and ranks them by the trucks/day the plan serves (ties: fewer chargers). The best one is
the pilot traject; the others are the comparison a planner needs (why this one, what is the
runner-up). With ``optimise.pilot_first`` each corridor is solved for the pilot fleet first
(:func:`solve_pilot_first`: the most pilot trucks/day, then the objective) and the corridors are
ranked by pilot trucks/day served first.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from corridor.errors import InfeasibleError, SolverError
from corridor.optimise.instance import DIRECTIONS, Instance

if TYPE_CHECKING:
    from corridor.config import OptimiseConfig
    from corridor.directions import Direction
    from corridor.optimise.solve import PlanResult

__all__ = ["CORRIDOR_RANKING_COLUMNS", "CorridorChoice", "rank_corridors", "solve_pilot_first"]

log = logging.getLogger(__name__)

#: Columns of the ranking table (``corridors.csv``), one row per corridor.
CORRIDOR_RANKING_COLUMNS = (
    "rank",
    "corridor",
    "eligible",
    "reason",
    "km_outbound",
    "km_by_country",
    "candidate_sites",
    "sites_by_country",
    "sites_non_firm",
    "flows_on",
    "trucks_on_per_day",
    "pilot_trucks_on_per_day",
    "pilot_firms_on",
    "status",
    "gap",
    "solve_time_s",
    "stations",
    "stations_by_country",
    "chargers",
    "power_mw",
    "served_trucks_per_day",
    "pilot_trucks_served_per_day",
    "pilot_firms_served",
    "pilot_outbound_on",
    "pilot_outbound_served",
    "pilot_inbound_on",
    "pilot_inbound_served",
    "pilot_directions_served",
)

#: A flow is "on" a corridor when the corridor's sites span at least this share of its path.
ON_CORRIDOR_SHARE = 0.25


@dataclass
class CorridorChoice:
    """The ranked corridors and the plan along the chosen one.

    Attributes
    ----------
    ranking
        One row per corridor, columns :data:`CORRIDOR_RANKING_COLUMNS`, best first; corridors that
        cannot meet the scenario's minimums are last with ``eligible`` False and the reason.
    chosen
        Name of the chosen corridor.
    instance
        The instance restricted to the chosen corridor's sites.
    plan
        Its :class:`~corridor.optimise.PlanResult`.
    plans
        Plans of every eligible corridor by name (the runner-up's included).
    lines
        Road line of each corridor and direction (``"<name> outbound"``), graph CRS, for maps;
        filled by the caller.
    buffer_km
        The candidate buffer used (km), filled by the caller.
    pilot_first
        Whether the corridors were solved and ranked for the pilot fleet first.
    """

    ranking: pd.DataFrame
    chosen: str
    instance: Instance
    plan: PlanResult
    plans: dict[str, PlanResult] = field(default_factory=dict)
    lines: dict[str, Any] = field(default_factory=dict)
    buffer_km: float = float("nan")
    pilot_first: bool = False

    @property
    def runner_up(self) -> str | None:
        """The second-ranked eligible corridor, if any."""
        ok = self.ranking[self.ranking["corridor"].isin(list(self.plans))]
        return str(ok["corridor"].iloc[1]) if len(ok) > 1 else None


def _count(values: Mapping[str, float], fmt: str = "{:.0f}") -> str:
    return ";".join(f"{k}={fmt.format(v)}" for k, v in sorted(values.items()) if k)


def _served_trucks(plan: PlanResult, trucks: Mapping[str, float], ids: set[str]) -> float:
    share = plan.served_share
    return float(sum(trucks[od] * share.get(od, 1.0) for od in plan.served_od_ids if od in ids))


def rank_corridors(
    instance: Instance,
    corridor_sites: Mapping[str, Sequence[str]],
    config: OptimiseConfig,
    *,
    km_by_country: Mapping[str, Mapping[str, float]] | None = None,
    pilot_firms: Mapping[str, str] | None = None,
    pilot_directions: Mapping[str, Direction] | None = None,
    only: str | None = None,
) -> CorridorChoice:
    """Solve the siting model along each named corridor and rank the corridors.

    Parameters
    ----------
    instance
        The network-wide instance (flows with their stops at every candidate).
    corridor_sites
        Candidate site ids within the corridor buffer, by corridor name (both directions).
    config
        :class:`~corridor.config.OptimiseConfig` (the pilot's rules: site counts per country and
        direction, power, capacity).
    km_by_country
        Outbound km per country code by corridor name (for the table).
    pilot_firms
        Firm of each pilot-fleet flow by od id (pilot trucks and firms per corridor).
    pilot_directions
        Travel direction (``outbound`` / ``inbound``) of each pilot-fleet flow by od id: a
        direction counts as served when every pilot trip on the corridor in that direction is
        served whole.
    only
        Solve only this corridor (``optimise.corridor`` names one); the others are still
        described, not solved.

    Returns
    -------
    CorridorChoice

    Raises
    ------
    InfeasibleError
        If no corridor can meet the scenario's minimums (the message lists each one's reason),
        or the named corridor cannot.
    """
    from corridor.optimise.solve import solve

    pilot = dict(pilot_firms or {})
    heading = dict(pilot_directions or {})
    trucks = {f.od_id: f.trucks_per_day for f in instance.flows}
    rows: list[dict[str, Any]] = []
    plans: dict[str, PlanResult] = {}
    subs: dict[str, Instance] = {}
    for name, ids in corridor_sites.items():
        sub = instance.restricted_to(ids)
        on = {f.od_id for f in sub.flows if _share_on(f) >= ON_CORRIDOR_SHARE}
        sites = sub.sites
        row: dict[str, Any] = {
            "corridor": name,
            "km_outbound": round(sum((km_by_country or {}).get(name, {}).values()), 1),
            "km_by_country": _count((km_by_country or {}).get(name, {})),
            "candidate_sites": len(sites),
            "sites_by_country": _count(sites["country"].value_counts().to_dict()),
            "sites_non_firm": int(
                (sites.get("connection", pd.Series(dtype=str)) == "non_firm").sum()
            ),
            "flows_on": len(on),
            "trucks_on_per_day": round(sum(trucks[od] for od in on), 3),
            "pilot_trucks_on_per_day": round(sum(trucks[od] for od in on if od in pilot), 3),
            "pilot_firms_on": len({pilot[od] for od in on if od in pilot}),
        }
        reason = _ineligible(sub, config)
        if only is not None and name != only:
            reason = reason or f"not solved: optimise.corridor = {only!r}"
        row["eligible"] = not reason
        row["reason"] = reason
        if not reason:
            t0 = time.perf_counter()
            try:
                plan = (
                    solve_pilot_first(sub, config, set(pilot))
                    if config.pilot_first
                    else solve(sub, config)
                )
            except (InfeasibleError, SolverError) as exc:
                row["eligible"], row["reason"] = False, str(exc)
            else:
                log.info("corridor %s: %s in %.1f s", name, plan.status, time.perf_counter() - t0)
                plans[name], subs[name] = plan, sub
                row.update(_plan_columns(plan, sub, trucks, pilot))
                row.update(_pilot_directions(plan, on, trucks, heading))
        rows.append(row)
    ranking = pd.DataFrame(rows).reindex(
        columns=[c for c in CORRIDOR_RANKING_COLUMNS if c != "rank"]
    )
    ok = ranking["eligible"].astype(bool) & ranking["corridor"].isin(list(plans))
    if not ok.any():
        why = "; ".join(f"{r.corridor}: {r.reason}" for r in ranking.itertuples())
        msg = f"no corridor can carry the pilot under the scenario's rules ({why})"
        raise InfeasibleError(msg)
    ranking["_ok"] = ok
    first = ["pilot_trucks_served_per_day"] if config.pilot_first else []
    ranking = ranking.sort_values(
        ["_ok", *first, "served_trucks_per_day", "chargers", "corridor"],
        ascending=[False, *[False] * len(first), False, True, True],
        na_position="last",
        kind="stable",
    ).drop(columns="_ok")
    ranking.insert(0, "rank", range(1, len(ranking) + 1))
    ranking = ranking.reset_index(drop=True)
    chosen = str(ranking.at[0, "corridor"])
    return CorridorChoice(
        ranking, chosen, subs[chosen], plans[chosen], plans, pilot_first=config.pilot_first
    )


def solve_pilot_first(
    instance: Instance, config: OptimiseConfig, pilot_od_ids: set[str]
) -> PlanResult:
    """Solve lexicographically: the most pilot trucks/day first, then the scenario's objective.

    The scenario's objective is solved first. Its plan is returned as it is when it already
    serves every pilot truck that any plan could (each pilot flow with a cover set among the
    instance's sites), or as many as stage 1 finds: stage 1 maximises the pilot-fleet trucks/day
    the model serves (same rows: sites, chargers, grid). Otherwise stage 2 solves the objective
    with the row "pilot trucks/day served ≥ the stage-1 value" (less 1e-6 relative, the solver's
    tolerance). Either way the result maximises the objective among the plans that serve the
    most pilot trucks/day.

    Parameters
    ----------
    instance
        The instance (pilot flows among its flows).
    config
        :class:`~corridor.config.OptimiseConfig` (objective max_trucks or max_truck_km).
    pilot_od_ids
        Od ids of the pilot fleet's flows.

    Returns
    -------
    PlanResult
        ``model_stats["pilot_first"]`` says how the pilot optimum was established:
        ``all servable`` (no stage 1 needed), ``objective plan`` (stage 1 found no more) or
        ``stage 2``; ``model_stats["pilot_first_trucks_per_day"]`` is the most pilot trucks/day
        (stage 1's value when it ran, which is a proven maximum only when its status, in
        ``pilot_first_status``, is ``optimal``).
    """
    from corridor.optimise.model import flow_cover_sets
    from corridor.optimise.solve import solve

    trucks = {f.od_id: f.trucks_per_day for f in instance.flows}
    plan = solve(instance, config)
    if not any(trucks.get(od, 0.0) > 0 for od in pilot_od_ids):
        return plan
    served = _served_trucks(plan, trucks, pilot_od_ids)
    sites = frozenset(instance.site_ids)
    servable = sum(
        f.trucks_per_day
        for f in instance.flows
        if f.od_id in pilot_od_ids
        and flow_cover_sets(f, sites, instance.range_km, instance.start_range_km) is not None
    )

    def tagged(p: PlanResult, how: str, most: float, status: str | None) -> PlanResult:
        stats = {
            **p.model_stats,
            "pilot_first": how,
            "pilot_first_trucks_per_day": most,
            "pilot_first_status": status,
        }
        return dataclasses.replace(p, model_stats=stats)

    if served >= servable - 1e-6:
        return tagged(plan, "all servable", servable, None)

    def pilot_served(model: Any) -> Any:
        import pulp

        return pulp.lpSum(
            w * model.y[gi]
            for gi, g in enumerate(model.groups)
            if (w := sum(trucks[od] for od in g.od_ids if od in pilot_od_ids)) > 0
        )

    def most_pilot(model: Any) -> None:
        model.problem.setObjective(pilot_served(model))

    first = solve(instance, config, extra_constraints=most_pilot)
    if first.status not in ("optimal", "feasible") or first.objective is None:
        return tagged(plan, "objective plan", served, first.status)
    most = float(first.objective)
    if served >= most * (1.0 - 1e-6) - 1e-6:
        return tagged(plan, "objective plan", most, first.status)
    floor = most * (1.0 - 1e-6) - 1e-6

    def keep_pilot(model: Any) -> None:
        model.problem += pilot_served(model) >= floor, "pilot_first"

    return tagged(
        solve(instance, config, extra_constraints=keep_pilot), "stage 2", most, first.status
    )


def _share_on(flow: Any) -> float:
    """Share of a flow's path between its first and last stop at the corridor's sites."""
    if not flow.stops or flow.length_km <= 0:
        return 0.0
    return (flow.stops[-1].km - flow.stops[0].km) / flow.length_km


def _pilot_directions(
    plan: PlanResult, on: set[str], trucks: Mapping[str, float], heading: Mapping[str, str]
) -> dict[str, Any]:
    served = {od: plan.served_share.get(od, 1.0) for od in plan.served_od_ids}
    out: dict[str, Any] = {}
    ok = []
    for d in DIRECTIONS:
        mine = [od for od in on if heading.get(od) == d]
        out[f"pilot_{d}_on"] = round(sum(trucks[od] for od in mine), 3)
        out[f"pilot_{d}_served"] = round(sum(trucks[od] * served.get(od, 0.0) for od in mine), 3)
        if mine and all(served.get(od, 0.0) >= 1.0 for od in mine):
            ok.append(d)
    out["pilot_directions_served"] = ";".join(ok)
    return out


def _ineligible(sub: Instance, config: OptimiseConfig) -> str:
    """Why the scenario's site minimums cannot be met on this corridor ("" if they can)."""
    from corridor.optimise.solve import usable_sites

    usable, _ = usable_sites(sub, config)
    sites = sub.sites.loc[usable]
    if len(sites) < config.min_sites:
        return f"{len(sites)} usable candidate sites, min_sites = {config.min_sites}"
    for cc, n in sorted(config.min_sites_per_country.items()):
        have = int((sites["country"] == cc).sum())
        if have < n:
            return f"{have} usable candidate sites in {cc}, at least {n} needed"
    n_dir = config.min_sites_per_direction
    for d in DIRECTIONS if n_dir else ():
        have = int(sites["directions"].map(lambda ds, d=d: d in ds).sum())
        if have < n_dir:
            return f"{have} usable candidate sites serve the {d} direction, at least {n_dir} needed"
    return ""


def _plan_columns(
    plan: PlanResult, sub: Instance, trucks: Mapping[str, float], pilot: Mapping[str, str]
) -> dict[str, Any]:
    sites = plan.sites
    bev = sub.technology == "bev"
    served_pilot = {od for od in plan.served_od_ids if od in pilot}
    return {
        "status": plan.status,
        "gap": plan.gap,
        "solve_time_s": round(plan.solve_time_s, 3),
        "stations": len(sites),
        "stations_by_country": _count(
            sub.sites.loc[list(sites.index), "country"].value_counts().to_dict()
        ),
        "chargers": int(sites["chargers"].sum()) if len(sites) else 0,
        "power_mw": float(sites["power_mw"].sum()) if bev and len(sites) else float("nan"),
        "served_trucks_per_day": round(plan.served_trucks_per_day, 3),
        "pilot_trucks_served_per_day": round(_served_trucks(plan, trucks, set(pilot)), 3),
        "pilot_firms_served": len({pilot[od] for od in served_pilot}),
    }
