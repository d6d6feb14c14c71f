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
(:func:`solve_pilot_first`: the most pilot-fleet trucks, then the objective) and the corridors are
ranked by pilot-fleet trucks served first.

The pilot's target is in trucks of the fleet (250+ trucks of 10+ firms), not in trucks per day:
:class:`PilotFleet` says how many of the fleet's trucks each pilot flow stands for (a round trip
from the depot: all its route's trucks; a route driven one way in each direction: half of them per
direction), so "pilot trucks served" counts each truck once however often it drives.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from corridor.errors import InfeasibleError, SolverError
from corridor.optimise.instance import DIRECTIONS, Instance, station_of

if TYPE_CHECKING:
    from corridor.config import OptimiseConfig
    from corridor.optimise.solve import PlanResult

__all__ = [
    "CORRIDOR_RANKING_COLUMNS",
    "CorridorChoice",
    "PilotFleet",
    "rank_corridors",
    "solve_pilot_first",
]

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
    "pilot_trucks_on",
    "pilot_firms_on",
    "pilot_trucks_no_stop",
    "status",
    "gap",
    "solve_time_s",
    "stations",
    "stations_by_country",
    "chargers",
    "power_mw",
    "served_trucks_per_day",
    "pilot_trucks_served",
    "pilot_firms_served",
    "pilot_outbound_on",
    "pilot_outbound_served",
    "pilot_inbound_on",
    "pilot_inbound_served",
    "pilot_directions_served",
)

#: A flow is "on" a corridor when the corridor's sites line at least this share of its path
#: (or when the corridor's plan serves it: it then uses the corridor's stations).
ON_CORRIDOR_SHARE = 0.25
#: Consecutive corridor sites on a flow's path farther apart than this (km) leave the stretch
#: between them off the corridor (candidate sites along a motorway are a few km apart; a trip
#: that leaves the corridor for another road and comes back later is off it in between).
ON_CORRIDOR_GAP_KM = 100.0


@dataclass(frozen=True)
class PilotFleet:
    """The pilot fleet among an instance's flows.

    Attributes
    ----------
    firm
        Firm of each pilot flow, by od id.
    trucks
        Trucks of the fleet each pilot flow stands for (trucks), by od id: a round trip from the
        depot stands for all its route's trucks, a route driven one way in each direction for
        half of them per direction.
    heading
        ``outbound``, ``inbound`` or ``both`` (a round trip drives both) by od id.
    """

    firm: Mapping[str, str] = field(default_factory=dict)
    trucks: Mapping[str, float] = field(default_factory=dict)
    heading: Mapping[str, str] = field(default_factory=dict)

    def served(self, plan: PlanResult) -> float:
        """Fleet trucks a plan serves (trucks; a flow served in part counts in part)."""
        share = plan.served_share
        return float(
            sum(
                self.trucks[od] * share.get(od, 1.0)
                for od in plan.served_od_ids
                if od in self.trucks
            )
        )


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


def rank_corridors(
    instance: Instance,
    corridor_sites: Mapping[str, Sequence[str]],
    config: OptimiseConfig,
    *,
    km_by_country: Mapping[str, Mapping[str, float]] | None = None,
    pilot: PilotFleet | None = None,
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
    pilot
        The pilot fleet's flows (:class:`PilotFleet`): pilot trucks and firms per corridor; a
        direction counts as served when every pilot trip on the corridor that drives it is
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

    fleet = pilot or PilotFleet()
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
            **_on_columns(on, trucks, fleet),
        }
        needs_no_stop = {f.od_id for f in sub.flows if f.length_km <= sub.start_range_km}
        row["pilot_trucks_no_stop"] = round(
            sum(fleet.trucks[od] for od in on & needs_no_stop if od in fleet.trucks), 3
        )
        reason = _ineligible(sub, config)
        if only is not None and name != only:
            reason = reason or f"not solved: optimise.corridor = {only!r}"
        row["eligible"] = not reason
        row["reason"] = reason
        if not reason:
            t0 = time.perf_counter()
            try:
                plan = (
                    solve_pilot_first(sub, config, fleet.trucks)
                    if config.pilot_first
                    else solve(sub, config)
                )
            except (InfeasibleError, SolverError) as exc:
                row["eligible"], row["reason"] = False, str(exc)
            else:
                log.info("corridor %s: %s in %.1f s", name, plan.status, time.perf_counter() - t0)
                plans[name], subs[name] = plan, sub
                # a trip the plan serves uses the corridor's stations, however short its
                # stretch on the corridor: it is on it
                on |= set(plan.served_od_ids)
                row.update(_on_columns(on, trucks, fleet))
                row.update(_plan_columns(plan, sub, fleet))
                row.update(_pilot_directions(plan, on, fleet, needs_no_stop))
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
    first = ["pilot_trucks_served"] if config.pilot_first else []
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
    instance: Instance, config: OptimiseConfig, pilot_trucks: Mapping[str, float]
) -> PlanResult:
    """Solve lexicographically: the most pilot-fleet trucks first, then the scenario's objective.

    The scenario's objective is solved first. Its plan is returned as it is when it already
    serves every pilot truck that any plan could (each pilot flow that needs a stop and has a
    cover set among the instance's sites), or as many as stage 1 finds: stage 1 maximises the
    pilot-fleet trucks the model serves (same rows: sites, chargers, grid). Otherwise stage 2
    solves the objective with the row "pilot trucks served ≥ the stage-1 value" (less 1e-6
    relative, the solver's tolerance). Either way the result maximises the objective among the
    plans that serve the most pilot trucks.

    Parameters
    ----------
    instance
        The instance (pilot flows among its flows).
    config
        :class:`~corridor.config.OptimiseConfig` (objective max_trucks or max_truck_km).
    pilot_trucks
        Fleet trucks (trucks) each pilot flow stands for, by od id (:attr:`PilotFleet.trucks`).

    Returns
    -------
    PlanResult
        ``model_stats["pilot_first"]`` says how the pilot optimum was established:
        ``all servable`` (no stage 1 needed), ``objective plan`` (stage 1 found no more) or
        ``stage 2``; ``model_stats["pilot_first_trucks"]`` is the most pilot trucks (stage 1's
        value when it ran, which is a proven maximum only when its status, in
        ``pilot_first_status``, is ``optimal``).
    """
    from corridor.optimise.model import flow_cover_sets
    from corridor.optimise.solve import solve

    fleet = PilotFleet(trucks={od: float(n) for od, n in pilot_trucks.items() if n > 0})
    plan = solve(instance, config)
    flows = [f for f in instance.flows if f.od_id in fleet.trucks and f.trucks_per_day > 0]
    if not flows:
        return plan
    served = fleet.served(plan)
    sites = frozenset(instance.site_ids)
    servable = sum(
        fleet.trucks[f.od_id]
        for f in flows
        # a trip that needs no stop ([]) is never counted as served, one without cover (None)
        # cannot be
        if flow_cover_sets(f, sites, instance.range_km, instance.start_range_km)
    )

    def tagged(p: PlanResult, how: str, most: float, status: str | None) -> PlanResult:
        stats = {
            **p.model_stats,
            "pilot_first": how,
            "pilot_first_trucks": most,
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
            if (w := sum(fleet.trucks.get(od, 0.0) for od in g.od_ids)) > 0
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


def _on_columns(on: set[str], trucks: Mapping[str, float], fleet: PilotFleet) -> dict[str, Any]:
    """Ranking columns of the flows on a corridor: count, trucks/day, pilot trucks and firms."""
    return {
        "flows_on": len(on),
        "trucks_on_per_day": round(sum(trucks[od] for od in on), 3),
        "pilot_trucks_on": round(sum(fleet.trucks[od] for od in on if od in fleet.trucks), 3),
        "pilot_firms_on": len({fleet.firm[od] for od in on if od in fleet.firm}),
    }


def _share_on(flow: Any) -> float:
    """Share of a flow's path that runs along the corridor's sites.

    The km between consecutive stops at the corridor's sites count when they are at most
    :data:`ON_CORRIDOR_GAP_KM` apart: a round trip that passes the corridor's first sites on the
    way out and again on the way back, and drives elsewhere in between, is not on it.
    """
    if not flow.stops or flow.length_km <= 0:
        return 0.0
    km = np.array([s.km for s in flow.stops])
    gaps = np.diff(km)
    return float(gaps[gaps <= ON_CORRIDOR_GAP_KM].sum()) / flow.length_km


def _pilot_directions(
    plan: PlanResult, on: set[str], fleet: PilotFleet, needs_no_stop: set[str]
) -> dict[str, Any]:
    """Count pilot trucks on and served per direction, and the directions served.

    A direction is served when every pilot trip on the corridor that drives it can be driven
    with the plan: served whole, or short enough to need no stop.
    """
    served = {od: plan.served_share.get(od, 1.0) for od in plan.served_od_ids}
    out: dict[str, Any] = {}
    ok = []
    for d in DIRECTIONS:
        mine = [od for od in on if fleet.heading.get(od) in (d, "both")]
        out[f"pilot_{d}_on"] = round(sum(fleet.trucks.get(od, 0.0) for od in mine), 3)
        out[f"pilot_{d}_served"] = round(
            sum(fleet.trucks.get(od, 0.0) * served.get(od, 0.0) for od in mine), 3
        )
        if mine and all(served.get(od, 0.0) >= 1.0 or od in needs_no_stop for od in mine):
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


def _stations_by_country(sites: pd.DataFrame, ids: Sequence[str]) -> dict[str, int]:
    """Station locations (the two halves of a rest area once) per country."""
    station = station_of(sites, ids)
    table = pd.DataFrame({"station": station.to_numpy(), "country": sites.loc[ids, "country"]})
    return {str(k): int(v) for k, v in table.groupby("country")["station"].nunique().items()}


def _plan_columns(plan: PlanResult, sub: Instance, fleet: PilotFleet) -> dict[str, Any]:
    sites = plan.sites
    bev = sub.technology == "bev"
    served_pilot = {od for od in plan.served_od_ids if od in fleet.firm}
    return {
        "status": plan.status,
        "gap": plan.gap,
        "solve_time_s": round(plan.solve_time_s, 3),
        "stations": int(station_of(sub.sites, list(sites.index)).nunique()),
        "stations_by_country": _count(_stations_by_country(sub.sites, list(sites.index))),
        "chargers": int(sites["chargers"].sum()) if len(sites) else 0,
        "power_mw": float(sites["power_mw"].sum()) if bev and len(sites) else float("nan"),
        "served_trucks_per_day": round(plan.served_trucks_per_day, 3),
        "pilot_trucks_served": round(fleet.served(plan), 3),
        "pilot_firms_served": len({fleet.firm[od] for od in served_pilot}),
    }
