"""Warnings for plans that are optimal only because nothing can be served or nothing costs."""

from __future__ import annotations

import pytest
from builders import grid_line, line_matrix, optimise_config

from corridor.assess.sanity import plan_warnings
from corridor.config import load_scenario
from corridor.optimise import Instance, solve
from corridor.outputs.summary import summary_markdown


def _line(range_km: float, start_range_km: float) -> Instance:
    """Two 500 km trips (0→10, 10→0) of 200 trucks/day on a line with a site every 50 km."""
    return Instance.from_arrays(
        line_matrix(11),
        [0, 10],
        [10, 0],
        [200.0, 200.0],
        list(range(11)),
        range_km,
        None,
        start_range_km=start_range_km,
    )


def test_range_too_short_for_any_trip_is_a_warning_not_a_silent_optimum():
    cfg = optimise_config(capacity_in_model=False)
    plan = solve(_line(40.0, 40.0), cfg)  # sites are 50 km apart: no trip can be completed
    assert plan.status == "optimal" and plan.served_trucks_per_day == 0
    (w,) = plan_warnings(plan.model_stats, cfg, [0.0] * 11)
    assert w.startswith("the vehicle cannot be served by any station")
    assert "400.0 trucks/day need a stop but no set of candidate sites" in w


def test_every_trip_without_a_stop_is_a_warning():
    cfg = optimise_config(capacity_in_model=False)
    plan = solve(_line(600.0, 600.0), cfg)
    (w,) = plan_warnings(plan.model_stats, cfg, [0.0] * 11)
    assert "400.0 trucks/day reach their destination without a stop" in w


def test_budget_with_all_costs_zero_cannot_bind():
    inst = grid_line([5.0] * 11)
    cfg = optimise_config(budget_eur=1_000_000)
    plan = solve(inst, cfg)
    assert plan.served_trucks_per_day > 0
    (w,) = plan_warnings(plan.model_stats, cfg, inst.sites["cost_eur"])
    assert w.startswith("budget_eur = 1,000,000 EUR cannot bind")
    # any cost makes the budget meaningful; no budget, no warning; a served plan, no warning
    assert plan_warnings(plan.model_stats, cfg, [0.0] * 10 + [1.0]) == []
    priced = optimise_config(budget_eur=1_000_000, charger_cost_eur=100_000)
    assert plan_warnings(plan.model_stats, priced, inst.sites["cost_eur"]) == []
    assert plan_warnings(plan.model_stats, optimise_config(), inst.sites["cost_eur"]) == []
    # the joint plan's prices count too (sites, H2 stations and modules, charger options)
    for priced in (
        {"site_cost_eur": 1_000_000},
        {"h2_station_cost_eur": 2_500_000},
        {"h2_module_cost_eur": 1_500_000},
        {"charger_options": [{"power_mw": 0.4, "cost_eur": 120_000}]},
    ):
        cfg_priced = optimise_config(budget_eur=1_000_000, **priced)
        assert plan_warnings(plan.model_stats, cfg_priced, inst.sites["cost_eur"]) == []


@pytest.mark.parametrize("warnings", [[], ["budget_eur = 5 EUR cannot bind: test"]])
def test_summary_shows_the_warnings(warnings):
    from test_outputs_shortlist import _doc, _shortlist

    doc = _doc(2) | {"warnings": warnings}
    md = summary_markdown(load_scenario("nl-de-bev-pilot"), doc, _shortlist(), {})
    solver = md.split("## Solver")[1].split("## Headline")[0]
    assert ("- **warning:** budget_eur = 5 EUR cannot bind: test" in solver) == bool(warnings)
