"""Joint BEV + H2 plans and the driving-time rules (corridor.optimise.joint)."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from corridor.config import OptimiseConfig, VehicleClassConfig, VehicleConfig, load_scenario
from corridor.directions import BOTH_DIRECTIONS
from corridor.optimise import (
    FlowPath,
    Instance,
    Stop,
    flow_cover_sets,
    instance_from_pipeline,
    solve,
)
from corridor.optimise.joint import (
    check_joint,
    class_parts,
    offers_of,
    required_breaks,
    trip_rule,
)
from corridor.optimise.validate import check_trip_time
from corridor.outputs.summary import joint_markdown

# BEV: 600 kWh, 1.3 kWh/km, SoC 0.8 → 0.9, reserve 0.1: 323 km from the origin, 369 km after a
# stop. H2: 70 kg, 0.08 kg/km, 0.8 → 0.95, reserve 0.1: 612 km / 744 km.
BEV = {"name": "bev", "technology": "bev", "share": 0.5}
H2 = {"name": "h2", "technology": "h2", "soc_max": 0.95, "share": 0.5}
SPEED_KPH = 80.0


def instance(
    flows: list[tuple[str, float, float, list[tuple[str, float]]]],
    sites: list[str],
    cost_eur: list[float] | None = None,
) -> Instance:
    """Flows ``(od, trucks/day, length km, [(site, km), …])`` at 80 km/h, sites on both sides."""
    table = pd.DataFrame(
        {
            "country": [""] * len(sites),
            "directions": [BOTH_DIRECTIONS] * len(sites),
            "headroom_mw": [math.inf] * len(sites),
            "cost_eur": cost_eur if cost_eur is not None else [0.0] * len(sites),
            "kind": ["test"] * len(sites),
        },
        index=pd.Index(sites, name="site_id"),
    )
    paths = tuple(
        FlowPath(
            od,
            trucks,
            length,
            tuple(Stop(s, km) for s, km in sorted(stops, key=lambda t: t[1])),
            length / SPEED_KPH,
        )
        for od, trucks, length, stops in flows
    )
    return Instance(tuple(sites), table, paths, range_km=369.0, start_range_km=323.0)


def joint_config(classes: list[dict], **kw) -> OptimiseConfig:
    base = {
        "min_sites": 0,
        "max_sites": 1,
        "time_limit_s": 30,
        "vehicles": [VehicleClassConfig(**c) for c in classes],
    }
    base.update(kw)
    return OptimiseConfig(**base)


# A1, A2: battery trucks (450 km, one stop); B1, B2: hydrogen trucks (900 km, one stop).
HUB_FLOWS = [
    ("A1", 20.0, 450.0, [("s1", 200.0), ("s2", 210.0)]),
    ("A2", 6.0, 450.0, [("s1", 200.0)]),
    ("B1", 20.0, 900.0, [("s2", 400.0), ("s3", 420.0)]),
    ("B2", 6.0, 900.0, [("s3", 420.0)]),
]


def test_joint_optimum_shares_a_hub_that_separate_runs_do_not():
    inst = instance(HUB_FLOWS, ["s1", "s2", "s3"])
    joint = solve(inst, joint_config([BEV, H2]))
    assert joint.status == "optimal" and joint.valid, joint.violations
    # s2 serves A1 (BEV) and B1 (H2): 10 + 10 trucks/day of the classes
    assert list(joint.sites.index) == ["s2"]
    assert joint.sites.at["s2", "offers"] == "bev+h2"
    assert joint.served_trucks_per_day == pytest.approx(20.0)
    assert joint.model_stats["sites_shared"] == 1
    bev = solve(inst, joint_config([BEV]))
    h2 = solve(inst, joint_config([H2]))
    assert list(bev.sites.index) == ["s1"] and bev.served_trucks_per_day == pytest.approx(13.0)
    assert list(h2.sites.index) == ["s3"] and h2.served_trucks_per_day == pytest.approx(13.0)
    assert not set(bev.sites.index) & set(h2.sites.index)


def random_joint_instance(rng: np.random.Generator, n_sites: int = 6) -> Instance:
    """Random flows on one 1000 km road with ``n_sites`` sites, BEV and H2 lengths mixed."""
    sites = [f"s{i}" for i in range(n_sites)]
    pos = np.sort(rng.uniform(100, 900, n_sites)).round(1)
    flows = []
    for i in range(8):
        start = float(rng.uniform(0, 300))
        length = float(rng.choice([rng.uniform(350, 650), rng.uniform(650, 1000)]))
        stops = [
            (s, float(p - start))
            for s, p in zip(sites, pos, strict=True)
            if start < p < start + length
        ]
        flows.append((f"f{i}", float(rng.integers(1, 6)), length, stops))
    cost = rng.choice([1.0, 2.0, 3.0], n_sites).tolist()
    return instance(flows, sites, cost)


def joint_brute_force(inst: Instance, config: OptimiseConfig) -> float:
    """Best served trucks/day over every choice of nothing / BEV / H2 / both per site.

    Apart from the model: a class's flow is served when each of its cover sets (by the class's
    ranges) has a site with the class's kind of station; a site costs its ``cost_eur`` once plus
    ``h2_station_cost_eur`` for H2; at most ``max_sites`` sites within ``budget_eur``. Capacity
    does not bind on these volumes.
    """
    classes = config.vehicles
    covers = {
        (v.name, f.od_id): flow_cover_sets(f, set(inst.site_ids), v.range_km, v.start_range_km)
        for v in classes
        for f in inst.flows
    }
    best = 0.0
    for choice in itertools.product(range(4), repeat=len(inst.site_ids)):
        open_ = [s for s, c in zip(inst.site_ids, choice, strict=True) if c]
        if len(open_) > config.max_sites:
            continue
        cost = sum(
            inst.sites.at[s, "cost_eur"] + (config.h2_station_cost_eur if c & 2 else 0.0)
            for s, c in zip(inst.site_ids, choice, strict=True)
            if c
        )
        if config.budget_eur is not None and cost > config.budget_eur + 1e-9:
            continue
        served = 0.0
        for v in classes:
            bit = 1 if v.technology == "bev" else 2
            have = {s for s, c in zip(inst.site_ids, choice, strict=True) if c & bit}
            for f in inst.flows:
                cs = covers[v.name, f.od_id]
                if cs and all(have & set(c) for c in cs):
                    served += f.trucks_per_day * v.share
        best = max(best, served)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_joint_milp_agrees_with_brute_force_and_beats_single_technology(seed):
    rng = np.random.default_rng(seed)
    inst = random_joint_instance(rng)
    kw = {"max_sites": 3, "budget_eur": 5.0, "h2_station_cost_eur": 1.0}
    config = joint_config([BEV, H2], **kw)
    plan = solve(inst, config)
    assert plan.status == "optimal" and plan.valid, plan.violations
    assert plan.objective == pytest.approx(joint_brute_force(inst, config), abs=1e-6)
    singles = [solve(inst, joint_config([c], **kw)).served_trucks_per_day for c in (BEV, H2)]
    assert plan.served_trucks_per_day >= max(singles) - 1e-6


def test_break_rule_rule_figures():
    assert [required_breaks(h) for h in (4.0, 4.5, 4.6, 9.0, 9.1)] == [0, 0, 1, 1, 2]
    flow = FlowPath("f", 1.0, 450.0, (Stop("s", 200.0),), 450.0 / SPEED_KPH)
    veh = VehicleClassConfig(**BEV, break_rule=True, max_trip_time_factor=1.0)
    # 450 km: 5.6 h of driving, one break; 165 kWh to buy: 0.41 h at 0.4 MW, within the break
    mode, fig = trip_rule(flow, veh, 400.0)
    assert mode == "at_breaks" and fig["charge_h"] == pytest.approx((450 * 1.3 - 0.7 * 600) / 400)
    assert trip_rule(flow, veh, 150.0)[0] is None  # 1.1 h: beyond the break, no slack


def test_trip_within_range_but_not_the_break_rule_is_served_only_without_the_rule():
    # 450 km with one stop at km 200: in range; at 0.15 MW the 165 kWh take 1.1 h, 0.35 h
    # beyond the 45 min break, and the time limit (factor 1.0) leaves no slack
    inst = instance([("A", 10.0, 450.0, [("s", 200.0)])], ["s"])
    slow = {"charger_options": [{"power_mw": 0.15}], "min_site_power_mw": 0.15}
    ruled = {**BEV, "break_rule": True, "max_trip_time_factor": 1.0}
    on = solve(inst, joint_config([ruled], **slow))
    off = solve(inst, joint_config([BEV], **slow))
    assert on.served_trucks_per_day == 0.0
    assert on.model_stats["classes"]["bev"]["flows_break_rule_unservable"] == 1
    assert off.served_trucks_per_day == pytest.approx(5.0) and off.valid
    # the validator agrees: driving A with the site open breaks the limit by 0.35 h
    bad = check_trip_time(inst.flows[0], {"s": 150.0}, 369.0, 323.0, 1.3, 1.0)
    assert bad is not None and bad.kind == "break_rule"
    assert check_trip_time(inst.flows[0], {"s": 400.0}, 369.0, 323.0, 1.3, 1.0) is None


def test_slower_charger_is_chosen_where_the_break_covers_its_charging():
    options = {
        "charger_options": [
            {"power_mw": 0.4, "cost_eur": 50_000.0},
            {"power_mw": 1.0, "cost_eur": 200_000.0},
        ],
        "min_site_power_mw": 0.4,
    }
    ruled = {**BEV, "break_rule": True, "max_trip_time_factor": 1.0}
    # A: 450 km, 165 kWh: 0.41 h at 0.4 MW, inside the break at km 200 → a 0.4 MW charger
    # (the budget buys no 1 MW one) serves it
    inst = instance([("A", 2.0, 450.0, [("s", 200.0)])], ["s"])
    plan = solve(inst, joint_config([ruled], budget_eur=100_000.0, **options))
    assert plan.status == "optimal" and plan.valid, plan.violations
    assert plan.served_trucks_per_day == pytest.approx(1.0)
    assert plan.sites.at["s", "bev_charger_mw"] == pytest.approx(0.4)
    # B: 640 km, 412 kWh: 1.03 h at 0.4 MW, beyond its one break: the same budget serves
    # nothing, one that buys a 1 MW charger serves it with that one
    inst = instance([("B", 2.0, 640.0, [("s", 320.0)])], ["s"])
    plan = solve(inst, joint_config([ruled], budget_eur=100_000.0, **options))
    assert plan.served_trucks_per_day == 0.0
    plan = solve(inst, joint_config([ruled], budget_eur=250_000.0, **options))
    assert plan.status == "optimal" and plan.valid, plan.violations
    assert plan.served_trucks_per_day == pytest.approx(1.0)
    assert plan.sites.at["s", "bev_charger_mw"] == pytest.approx(1.0)


def test_flows_get_their_driving_time_from_the_edges_travel_times():
    g = nx.MultiDiGraph()
    g.add_edge(0, 1, key=0, length_m=100_000.0, travel_time_s=4_500.0)  # 80 km/h
    g.add_edge(0, 1, key=1, length_m=90_000.0, travel_time_s=5_400.0)  # shorter, slower
    g.add_edge(1, 2, key=0, length_m=60_000.0, travel_time_s=3_600.0)
    od = pd.DataFrame(
        {
            "od_id": ["a", "b"],
            "ze_trucks_per_day": [1.0, 1.0],
            "path_length_km": [150.0, 60.0],
            "path": [(0, 1, 2), (1, 2)],
        }
    )
    sites = pd.DataFrame(
        {"country": ["NL"], "kind": ["rest_area"], "bearing_deg": [90.0]},
        index=pd.Index(["s"], name="site_id"),
    )
    access = pd.DataFrame(
        {"site_id": ["s"], "u": [1], "v": [2], "key": [0], "offset_m": [0.0], "detour_m": [0.0]}
    )
    args = (SimpleNamespace(od=od), SimpleNamespace(sites=sites, access=access), sites)
    inst = instance_from_pipeline(*args, VehicleConfig(), g, drive_hours=True)
    # the fastest parallel edge: 4,500 s, then 3,600 s
    assert [f.drive_h for f in inst.flows] == pytest.approx([2.25, 1.0])
    assert all(
        math.isnan(f.drive_h) for f in instance_from_pipeline(*args, VehicleConfig(), g).flows
    )


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"vehicles": [{**BEV, "share": 0.7}, {**H2, "share": 0.5}]}, "shares sum to 1.2"),
        ({"vehicles": [BEV, {**H2, "name": "bev"}]}, "appear more than once"),
        ({"vehicles": [BEV], "objective": "min_sites"}, "joint plan maximises"),
        ({"vehicles": [{**BEV, "name": "BEV 40t"}]}, "name"),
    ],
)
def test_bad_vehicle_classes_are_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        OptimiseConfig(**kw)


def test_joint_scenario_loads_with_its_classes():
    sc = load_scenario("nl-de-joint-2030")
    opt = sc.optimise
    assert opt.technology_label == "bev+h2"
    assert [v.name for v in opt.vehicles] == ["bev-40t", "h2-40t"]
    assert sum(v.share for v in opt.vehicles) == pytest.approx(1.0)
    assert all(v.source and v.break_rule for v in opt.vehicles)
    assert [o.power_mw for o in opt.bev_options()] == [0.4, 1.0]
    # the single-technology pilots stay single-technology
    assert load_scenario("nl-de-bev-pilot").optimise.technology_label == "bev"


def test_joint_validator_reports_violations_per_class():
    # a plan made without the break rule, checked for a class that keeps it: A's trip at
    # 0.15 MW is over the limit, reported as the class's flow
    inst = instance([("A", 10.0, 450.0, [("s", 200.0)])], ["s"])
    slow = {"charger_options": [{"power_mw": 0.15}], "min_site_power_mw": 0.15}
    plan = solve(inst, joint_config([BEV], **slow))
    assert plan.valid and plan.served_od_ids == ("A",)
    ruled = joint_config([{**BEV, "break_rule": True, "max_trip_time_factor": 1.0}], **slow)
    parts = class_parts(inst, ruled, offers_of(inst, ruled, inst.site_ids))
    bad = check_joint(inst, ruled, parts, plan, {"bev": {"A"}})
    assert [(v.od_id, v.kind) for v in bad] == [("bev:A", "break_rule")]


def test_slow_h2_refuelling_breaks_the_rule_too():
    # 900 km H2 trip, one stop at km 400: 24 kg at 0.1 kg/min is 4 h, far beyond the breaks
    inst = instance([("B", 10.0, 900.0, [("s", 400.0)])], ["s"])
    slow = {**H2, "refuel_kg_per_min": 0.1}
    on = solve(inst, joint_config([{**slow, "break_rule": True}]))
    off = solve(inst, joint_config([slow]))
    assert on.served_trucks_per_day == 0.0
    assert off.served_trucks_per_day == pytest.approx(5.0) and off.valid


def test_summary_section_counts_sites_per_technology_and_shared_hubs():
    inst = instance(HUB_FLOWS, ["s1", "s2", "s3"])
    plan = solve(inst, joint_config([BEV, H2]))
    doc = {
        "model_stats": plan.model_stats,
        "sites": [{"site_id": s, **row} for s, row in plan.sites.to_dict("index").items()],
    }
    text = "\n".join(joint_markdown(doc))
    assert list(plan.sites["offers"]) == ["bev+h2"]
    assert "0 site(s) with BEV chargers only, 0 with H2 only, 1 shared hub(s) with both" in text
    assert "| bev | BEV |" in text and "| h2 | H2 |" in text
