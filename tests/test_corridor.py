"""Corridor mode: ranking named corridors and planning along the chosen one."""

from __future__ import annotations

import numpy as np
import pytest
from builders import grid_matrix, line_matrix, lines_matrix, optimise_config

from corridor.config import OptimiseConfig
from corridor.errors import InfeasibleError
from corridor.optimise import Instance, PilotFleet, rank_corridors, solve


def three_lines() -> tuple[Instance, dict[str, list[str]]]:
    """Three separate two-way lines of 7 nodes (50 km links), one flow each way on each.

    Corridor A carries 10 trucks/day each way, B 30, C 20; every trip is 300 km with a 100 km
    start range and 200 km after a stop, so each needs exactly one stop on its own line.
    """
    mat = lines_matrix(3, 7)
    o = [0, 6, 7, 13, 14, 20]
    d = [6, 0, 13, 7, 20, 14]
    vol = [10.0, 10.0, 30.0, 30.0, 20.0, 20.0]
    inst = Instance.from_arrays(mat, o, d, vol, list(range(21)), 200.0, start_range_km=100.0)
    sites = {
        "A": [str(i) for i in range(0, 7)],
        "B": [str(i) for i in range(7, 14)],
        "C": [str(i) for i in range(14, 21)],
    }
    return inst, sites


def config(**kw) -> OptimiseConfig:
    return optimise_config(**{"min_sites": 1, "max_sites": 2, **kw})


def test_ranking_follows_the_trucks_each_corridor_serves():
    inst, sites = three_lines()
    choice = rank_corridors(inst, sites, config())
    assert list(choice.ranking["corridor"]) == ["B", "C", "A"]
    assert list(choice.ranking["rank"]) == [1, 2, 3]
    assert choice.chosen == "B" and choice.runner_up == "C"
    assert list(choice.ranking["served_trucks_per_day"]) == pytest.approx([60.0, 40.0, 20.0])
    assert list(choice.ranking["trucks_on_per_day"]) == pytest.approx([60.0, 40.0, 20.0])
    assert (choice.ranking["status"] == "optimal").all()
    # the chosen plan only opens sites of its corridor, and its instance knows no others
    assert set(choice.plan.sites.index) <= set(sites["B"])
    assert set(choice.instance.site_ids) == set(sites["B"])
    assert choice.plan.valid


def test_a_named_corridor_is_the_only_one_solved():
    inst, sites = three_lines()
    choice = rank_corridors(inst, sites, config(), only="A")
    assert choice.chosen == "A" and choice.runner_up is None
    rest = choice.ranking.set_index("corridor").loc[["B", "C"]]
    assert (~rest["eligible"]).all() and rest["reason"].str.contains("not solved").all()


def test_corridors_that_cannot_meet_the_minimums_are_listed_with_the_reason():
    inst, sites = three_lines()
    with pytest.raises(InfeasibleError, match=r"A: 7 usable candidate sites, min_sites = 8"):
        rank_corridors(inst, sites, config(min_sites=8, max_sites=8))


def test_a_direction_whose_pilot_trips_cannot_be_driven_is_not_served():
    # line 0..10; the corridor has sites 0..6 only. Outbound pilot 0 -> 6 needs one stop there;
    # the inbound pilot starts at 10 and must stop before km 100 (nodes 10, 9, 8): off-corridor
    mat = line_matrix(11)
    inst = Instance.from_arrays(
        mat, [0, 10], [6, 0], [5.0, 5.0], list(range(11)), 200.0, start_range_km=100.0
    )
    ids = [f.od_id for f in inst.flows]
    choice = rank_corridors(
        inst,
        {"line": [str(i) for i in range(7)]},
        config(),
        pilot=PilotFleet(
            firm={ids[0]: "firm-a", ids[1]: "firm-b"},
            trucks={ids[0]: 5.0, ids[1]: 5.0},
            heading={ids[0]: "outbound", ids[1]: "inbound"},
        ),
    )
    row = choice.ranking.iloc[0]
    assert row["pilot_directions_served"] == "outbound"
    assert row["pilot_outbound_served"] == pytest.approx(5.0)
    assert row["pilot_inbound_on"] == pytest.approx(5.0)
    assert row["pilot_inbound_served"] == pytest.approx(0.0)
    assert row["pilot_firms_served"] == 1


def test_pilot_fleet_counts_each_truck_once():
    import pandas as pd

    from corridor.workflows import pilot_fleet

    od = pd.DataFrame(
        {
            "od_id": ["pilot-a-out", "pilot-a-back", "pilot-b-out", "pilot-b-back", "od-x"],
            "source": ["pilot"] * 4 + ["etisplus"],
            "firm": ["f1", "f1", "f2", "f2", ""],
            "route_id": ["a", "a", "b", "b", ""],
            "trucks": [12.0, 12.0, 8.0, 8.0, np.nan],
            "trucks_per_day": [24.0, 24.0, 8.0, 8.0, 50.0],
            "return_od_id": ["pilot-a-back", "", "", "", ""],
            "countries": ["NL;DE", "DE;NL", "NL;DE", "DE;NL", "NL"],
        }
    )
    fleet = pilot_fleet(od, ("NL", "DE"))
    # route a is a round trip from its depot: one flow, all 12 trucks, both directions; route b
    # has charging at both ends: two one-way flows of 4 trucks each
    assert fleet.trucks == {"pilot-a-out": 12.0, "pilot-b-out": 4.0, "pilot-b-back": 4.0}
    assert fleet.heading == {
        "pilot-a-out": "both",
        "pilot-b-out": "outbound",
        "pilot-b-back": "inbound",
    }
    assert fleet.firm["pilot-b-back"] == "f2" and "od-x" not in fleet.firm
    assert pilot_fleet(od[od["source"] == "etisplus"]).trucks == {}


def test_a_pilot_round_trip_is_served_in_both_directions_and_counted_in_trucks():
    # line 0..10, 50 km links; the pilot truck drives 0 -> 6 -> 0 (600 km) on a 250 km start
    # range and 250 km after a stop: it needs a stop, and a round trip is one flow for both
    # directions; 7 fleet trucks make 14 trips a day
    mat = line_matrix(11)
    inst = Instance.from_arrays(
        mat, [0], [6], [14.0], list(range(11)), 250.0, start_range_km=250.0, round_trip=True
    )
    od = inst.flows[0].od_id
    fleet = PilotFleet(firm={od: "f"}, trucks={od: 7.0}, heading={od: "both"})
    choice = rank_corridors(
        inst,
        {"line": [str(i) for i in range(11)]},
        config(round_trip=True),
        pilot=fleet,
    )
    row = choice.ranking.iloc[0]
    assert row["pilot_trucks_on"] == pytest.approx(7.0)
    assert row["pilot_trucks_served"] == pytest.approx(7.0)
    assert row["pilot_outbound_served"] == row["pilot_inbound_served"] == pytest.approx(7.0)
    assert row["pilot_directions_served"] == "outbound;inbound"
    assert choice.plan.valid and choice.plan.served_trucks_per_day == pytest.approx(14.0)


def test_pilot_trips_that_need_no_stop_or_touch_the_corridor_briefly_count_right():
    # line 0..10 (50 km links), 100 km start range, 250 km after a stop. Pilot 0 -> 6 (300 km)
    # needs a stop at node 1 or 2; the corridor has sites 0 and 1 only (50 of its 300 km, under
    # the 25 % share of "on"), yet its plan serves the trip: the trip is on it. Pilot 6 -> 5
    # (50 km, inbound) needs no stop: the inbound direction is drivable with the plan
    inst = Instance.from_arrays(
        line_matrix(11), [0, 6], [6, 5], [4.0, 3.0], list(range(11)), 250.0, start_range_km=100.0
    )
    out, back = (f.od_id for f in inst.flows)
    fleet = PilotFleet(
        firm={out: "f1", back: "f2"},
        trucks={out: 4.0, back: 3.0},
        heading={out: "outbound", back: "inbound"},
    )
    row = rank_corridors(inst, {"short": ["0", "1"]}, config(), pilot=fleet).ranking.iloc[0]
    assert row["pilot_trucks_served"] == pytest.approx(4.0)
    assert row["pilot_trucks_on"] == pytest.approx(4.0) and row["pilot_firms_on"] == 1
    assert row["pilot_directions_served"] == "outbound"
    both = rank_corridors(inst, {"line": ["0", "1", "5", "6"]}, config(), pilot=fleet)
    row = both.ranking.iloc[0]
    assert row["pilot_trucks_on"] == pytest.approx(7.0) and row["pilot_firms_on"] == 2
    assert row["pilot_trucks_no_stop"] == pytest.approx(3.0)
    assert row["pilot_inbound_served"] == 0.0
    assert row["pilot_directions_served"] == "outbound;inbound"


def test_a_round_trip_that_only_starts_and_ends_on_a_corridor_is_not_on_it():
    # 0 -> 10 -> 0 on a line of 50 km links: the corridor's sites 0 and 1 are passed in the
    # first and the last 50 km of 1,000 km; in between the trip is elsewhere
    inst = Instance.from_arrays(
        line_matrix(11), [0], [10], [5.0], list(range(11)), 400.0, round_trip=True
    )
    near = rank_corridors(inst, {"start": ["0", "1"]}, config(round_trip=True)).ranking
    assert near.at[0, "flows_on"] == 0 and near.at[0, "trucks_on_per_day"] == 0.0
    whole = rank_corridors(inst, {"line": [str(i) for i in range(11)]}, config(round_trip=True))
    assert whole.ranking.at[0, "flows_on"] == 1


def test_served_and_objective_at_optimal_and_time_limited_status():
    # a grid of range-coverage trips: proven optimal with a generous limit (about 5 s), an
    # incumbent at 0.2 s (uncapacitated: the open sites then serve more than the model counts)
    rng = np.random.default_rng(7)
    side = 9
    mat = grid_matrix(side)
    o = rng.integers(0, side**2, 300)
    d = (o + rng.integers(1, side**2, 300)) % side**2
    vol = rng.integers(1, 20, 300).astype(float)
    inst = Instance.from_arrays(mat, o, d, vol, list(range(side**2)), 250.0, start_range_km=150.0)
    for kw in ({"capacity_in_model": False}, {}):
        for limit in (60.0, 0.2):
            plan = solve(inst, config(min_sites=0, max_sites=6, time_limit_s=limit, **kw))
            assert plan.status in {"optimal", "feasible"}
            if plan.status == "optimal" or kw == {}:
                # proven, or capacity in the model: served is exactly what the model assigns
                assert plan.served_trucks_per_day == pytest.approx(plan.objective, abs=1e-6)
            else:
                assert plan.served_trucks_per_day >= plan.objective - 1e-6
            if plan.best_bound is not None:
                assert plan.served_trucks_per_day <= plan.best_bound + 1e-6
            assert plan.valid


def _pilot_line() -> tuple[Instance, str, str]:
    """Line 0..10 (50 km links), 100 km start range, 200 km after a stop.

    The pilot flow 0 -> 6 (5 trucks/day) can only be served with node 2 open; the bigger flow
    10 -> 4 (30 trucks/day) only with node 8 open.
    """
    inst = Instance.from_arrays(
        line_matrix(11), [0, 10], [6, 4], [5.0, 30.0], list(range(11)), 200.0, start_range_km=100.0
    )
    pilot, other = (f.od_id for f in inst.flows)
    return inst, pilot, other


def test_pilot_first_serves_the_pilot_fleet_before_more_trucks():
    from corridor.optimise.corridor import solve_pilot_first

    inst, pilot, other = _pilot_line()
    one = config(max_sites=1)
    assert solve(inst, one).served_od_ids == (other,)
    plan = solve_pilot_first(inst, one, {pilot: 5.0})
    assert plan.served_od_ids == (pilot,) and plan.valid
    assert plan.model_stats["pilot_first_trucks"] == pytest.approx(5.0)
    assert plan.model_stats["pilot_first"] == "stage 2"
    # with room for both, the second stage still serves every truck it can
    both = solve_pilot_first(inst, config(max_sites=2), {pilot: 5.0})
    assert set(both.served_od_ids) == {pilot, other}
    assert both.served_trucks_per_day == pytest.approx(35.0)
    with pytest.raises(ValueError, match="pilot_first needs objective max_trucks"):
        config(pilot_first=True, objective="min_sites")


def test_pilot_first_agrees_with_brute_force_over_site_subsets():
    from itertools import combinations

    from corridor.optimise.corridor import solve_pilot_first

    rng = np.random.default_rng(3)
    side = 3
    mat = grid_matrix(side)
    n = side * side
    o = rng.integers(0, n, 12)
    d = (o + rng.integers(1, n, 12)) % n
    vol = rng.integers(1, 30, 12).astype(float)
    inst = Instance.from_arrays(mat, o, d, vol, list(range(n)), 120.0, start_range_km=60.0)
    ids = [f.od_id for f in inst.flows]
    pilot = set(ids[:4])
    trucks = {f.od_id: f.trucks_per_day for f in inst.flows}
    cfg = config(min_sites=0, max_sites=2)
    best = (-1.0, -1.0)
    for k in range(3):
        for chosen in combinations(inst.site_ids, k):
            rest = tuple(s for s in inst.site_ids if s not in chosen)
            plan = solve(inst, cfg.model_copy(update={"fixed_open": chosen, "fixed_closed": rest}))
            share = {od: plan.served_share.get(od, 1.0) for od in plan.served_od_ids}
            value = (
                round(sum(trucks[od] * s for od, s in share.items() if od in pilot), 6),
                round(plan.served_trucks_per_day, 6),
            )
            best = max(best, value)
    got = solve_pilot_first(inst, cfg, {od: trucks[od] for od in pilot})
    share = {od: got.served_share.get(od, 1.0) for od in got.served_od_ids}
    served_pilot = sum(trucks[od] * s for od, s in share.items() if od in pilot)
    assert (served_pilot, got.served_trucks_per_day) == pytest.approx(best, abs=1e-5)


def test_a_region_minimum_opens_a_site_in_that_region():
    import dataclasses

    from corridor.errors import InfeasibleError

    inst, pilot, other = _pilot_line()  # one site: node 8 serves 30 trucks/day, node 2 only 5
    sites = inst.sites.copy()
    sites["region"] = ["DEC" if i in (1, 2) else "DEA" for i in range(len(sites))]
    inst = dataclasses.replace(inst, sites=sites)
    assert solve(inst, config(max_sites=1)).served_od_ids == (other,)
    plan = solve(inst, config(max_sites=1, min_sites_per_region={"DEC": 1}))
    assert plan.served_od_ids == (pilot,) and list(plan.sites.index) == ["2"]
    for capacity in (True, False):  # the capacity-free presolve keeps the region's sites too
        kw = {"capacity_in_model": capacity, "min_sites_per_region": {"DEC": 1}}
        assert "2" in solve(inst, config(max_sites=2, **kw)).sites.index
    with pytest.raises(InfeasibleError, match=r"min_sites_per_region\[DEB\] = 1 but only 0"):
        solve(inst, config(max_sites=1, min_sites_per_region={"DEB": 1}))
    # the same for a motorway ("A 5" and "A5" are one road)
    sites["road"] = ["A5" if i == 2 else "A1" for i in range(len(sites))]
    inst = dataclasses.replace(inst, sites=sites)
    plan = solve(inst, config(max_sites=1, min_sites_per_road={"A 5": 1}))
    assert list(plan.sites.index) == ["2"]


def test_group_minimums_naming_no_candidate_region_or_road_are_refused():
    import geopandas as gpd

    from corridor.config import load_scenario
    from corridor.errors import ScenarioError
    from corridor.workflows import check_group_minimums

    base = load_scenario("nl-de-bev-pilot")
    sites = gpd.GeoDataFrame(
        {"road_ref": ["A 1", "A 30;E 30", "A 1"], "region": ["NL2", "DE9", "DE9"]},
        geometry=gpd.points_from_xy([6.0, 7.0, 7.5], [52.0, 52.3, 52.4]),
        crs="EPSG:4326",
    )

    def with_minimums(**kw):
        opt = base.optimise.model_copy(update=kw)
        return base.model_copy(update={"optimise": opt})

    check_group_minimums(with_minimums(min_sites_per_road={"A30": 1, "A 1": 1}), sites)
    check_group_minimums(with_minimums(min_sites_per_region={"DE9": 2}), sites)
    with pytest.raises(ScenarioError, match=r"min_sites_per_road names A 99, where no candidate"):
        check_group_minimums(with_minimums(min_sites_per_road={"A 99": 1}), sites)
    with pytest.raises(ScenarioError, match=r"min_sites_per_region names DEC.*DE9, NL2"):
        check_group_minimums(with_minimums(min_sites_per_region={"DEC": 1}), sites)


@pytest.mark.slow
def test_a_site_takes_a_region_of_its_own_country_only(catalogue):
    # the 1:60M Niedersachsen polygon reaches over the border near Groningen: a Dutch site there
    # must not count for DE9 (and for NL's minimum at once)
    import geopandas as gpd

    from corridor.workflows import with_nuts1_region

    sites = gpd.GeoDataFrame(
        {"country": ["NL", "DE", "DE", "NL"]},
        geometry=gpd.points_from_xy([7.2169, 6.95, 7.0, 5.0], [53.1786, 49.35, 51.5, 52.0]),
        crs="EPSG:4326",
    ).to_crs("EPSG:3035")
    assert with_nuts1_region(sites, catalogue)["region"].tolist() == ["", "DEC", "DEA", "NL3"]
