"""Warnings about plans that are "optimal" only because the question was empty.

A solver proves a plan optimal just as well when no flow can be served at all (the vehicle's
range is too short for every trip that needs a stop, or no trip needs a stop) or when a budget
cannot bind because nothing costs anything. :func:`plan_warnings` finds these cases from the
model's counts and the scenario, so the summary and ``plan.json`` say so instead of a silent
"optimal".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from corridor.config import OptimiseConfig

__all__ = ["plan_warnings"]


def plan_warnings(
    model_stats: Mapping[str, Any], config: OptimiseConfig, site_costs_eur: Iterable[float]
) -> list[str]:
    """One sentence per reason why the plan's optimality says little.

    Parameters
    ----------
    model_stats
        The optimiser's counts (``PlanResult.model_stats``): ``trucks_modelled_per_day`` (trucks
        that need a stop and can be served with the candidate sites),
        ``trucks_already_feasible_per_day`` (need no stop), ``trucks_unservable_per_day`` (need
        a stop no set of candidate sites can give), all trucks/day.
    config
        The optimise section (vehicle range, budget and cost settings).
    site_costs_eur
        Cost of every candidate site (EUR; 0 when unknown).

    Returns
    -------
    list of str
        Empty when none applies. Reasons: the vehicle cannot serve any flow (with the trucks/day
        that need no stop and that no site set can serve, and the range), and a ``budget_eur``
        that cannot bind because chargers, batteries and every site cost nothing.
    """
    out: list[str] = []
    modelled = float(model_stats.get("trucks_modelled_per_day") or 0.0)
    no_stop = float(model_stats.get("trucks_already_feasible_per_day") or 0.0)
    unservable = float(model_stats.get("trucks_unservable_per_day") or 0.0)
    veh = config.vehicle
    if modelled <= 0.0:
        reasons = []
        if unservable > 0.0:
            reasons.append(
                f"{unservable:,.1f} trucks/day need a stop but no set of candidate sites gets "
                f"them to their destination with {veh.range_km:,.0f} km of range after a stop "
                f"({veh.start_range_km:,.0f} km from the origin)"
            )
        if no_stop > 0.0:
            reasons.append(
                f"{no_stop:,.1f} trucks/day reach their destination without a stop "
                f"({veh.start_range_km:,.0f} km from the origin)"
            )
        if not reasons:
            reasons.append("there are no truck flows of this technology")
        out.append(
            "the vehicle cannot be served by any station: "
            + "; ".join(reasons)
            + ". The plan is optimal only because there is nothing to serve; check the "
            "vehicle (battery/tank, consumption, state-of-charge window) and the flows"
        )
    if config.budget_eur is not None:
        costs = [float(c) for c in site_costs_eur]
        # every price the model may charge against the budget (joint plans: sites, H2, options)
        prices = [
            config.charger_cost_eur,
            config.battery_cost_eur_per_mwh,
            config.site_cost_eur,
            config.h2_module_cost_eur,
            config.h2_station_cost_eur,
            *(o.cost_eur for o in config.charger_options),
        ]
        if all(p <= 0.0 for p in prices) and not any(c > 0 for c in costs):
            out.append(
                f"budget_eur = {config.budget_eur:,.0f} EUR cannot bind: every cost setting "
                "(chargers, batteries, sites, H2 stations and modules) and every candidate "
                "site's cost are 0, so any plan costs 0 EUR; set the costs or remove the budget"
            )
    return out
