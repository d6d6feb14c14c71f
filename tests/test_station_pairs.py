"""Station locations: the two halves of a rest area count as one station."""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from builders import line_matrix, optimise_config, simulated_served
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from corridor.optimise import Instance, solve
from corridor.optimise.instance import station_of
from corridor.sites.pairs import opposite_pairs


def _sites(rows: list[tuple[str, str, float, float, float, str]]) -> gpd.GeoDataFrame:
    ids, road, bearing, x, y, country = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"road_ref": road, "bearing_deg": bearing, "country": country},
        geometry=[Point(a, b) for a, b in zip(x, y, strict=True)],
        index=pd.Index(ids, name="site_id"),
        crs="EPSG:3035",
    )


def test_opposite_halves_of_one_road_pair_up_closest_first():
    sites = _sites(
        [
            ("a", "A 2", 90.0, 0.0, 0.0, "DE"),
            ("b", "A2", 270.0, 300.0, 0.0, "DE"),  # opposite, 300 m: but g is closer to a
            ("g", "A-2", 265.0, 100.0, 0.0, "DE"),  # opposite to a, 100 m
            ("c", "A2", 90.0, 400.0, 0.0, "DE"),  # a's carriageway, opposite to b (100 m)
            ("d", "A1", 270.0, 50.0, 0.0, "DE"),  # another road
            ("e", "A2", 270.0, 5_000.0, 0.0, "DE"),  # too far
            ("f", "A2", np.nan, 20.0, 0.0, "DE"),  # reached from both directions
            ("h", "A2", 90.0, 80_000.0, 0.0, "NL"),  # across the border from i
            ("i", "A2", 270.0, 80_200.0, 0.0, "DE"),
        ]
    )
    station = opposite_pairs(sites, 1.0)
    assert station["a"] == station["g"] == "a+g"
    assert station["b"] == station["c"] == "b+c"
    assert station["d"] == "d" and station["e"] == "e" and station["f"] == "f"
    assert station["h"] == "h" and station["i"] == "i"
    # without c, b's nearest opposite half is a (300 m), but a is g's: b stays alone; without
    # g and c, a and b pair up
    assert opposite_pairs(sites.drop(index="c"), 1.0)["b"] == "b"
    assert opposite_pairs(sites.drop(index=["c", "g"]), 1.0)["b"] == "a+b"
    assert (opposite_pairs(sites, 0.05) == sites.index.to_series()).all()
    # the row order does not matter
    assert opposite_pairs(sites.iloc[::-1], 1.0).sort_index().equals(station.sort_index())
    with pytest.raises(ValueError, match="needs the site columns"):
        opposite_pairs(sites.drop(columns="road_ref"), 1.0)


@st.composite
def paired_lines(draw):
    """A line of 6..8 nodes with flows both ways and random pairs of neighbouring sites."""
    n = draw(st.integers(6, 8))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    flows = int(rng.integers(3, 7))
    o = rng.integers(0, n, flows)
    d = (o + rng.integers(1, n, flows)) % n
    vol = rng.integers(1, 20, flows).astype(float)
    inst = Instance.from_arrays(
        line_matrix(n), o, d, vol, list(range(n)), 120.0, start_range_km=80.0
    )
    station = [str(i) for i in range(n)]
    for i in range(0, n - 1, 2):
        if rng.random() < 0.6:
            station[i] = station[i + 1] = f"{i}+{i + 1}"
    inst = dataclasses.replace(inst, sites=inst.sites.assign(station=station))
    return inst, draw(st.integers(1, 3))


@settings(max_examples=25, deadline=None)
@given(paired_lines())
def test_pairs_count_once_against_max_sites_brute_force(case):
    inst, p = case
    station = inst.sites["station"]
    best = 0.0
    for k in range(len(inst.site_ids) + 1):
        for subset in itertools.combinations(inst.site_ids, k):
            if station.loc[list(subset)].nunique() <= p:
                best = max(best, simulated_served(inst, set(subset)))
    plan = solve(inst, optimise_config(min_sites=0, max_sites=p, capacity_in_model=False))
    assert plan.status == "optimal" and plan.valid
    assert plan.objective == pytest.approx(best, abs=1e-6)
    assert station_of(inst.sites, plan.open_site_ids).nunique() <= p


def test_both_halves_open_as_one_station_under_max_sites():
    # line 0..6 (50 km links), 80 km start range, 120 km after a stop: eastbound 0 -> 6 needs
    # a stop at node 1 and another by km 200 (nodes 2..4); with nodes 1 and 2 one station and
    # max_sites = 2, the plan may open 1, 2 and a third site
    inst = Instance.from_arrays(
        line_matrix(7), [0], [6], [10.0], list(range(7)), 120.0, start_range_km=80.0
    )
    single = solve(inst, optimise_config(min_sites=0, max_sites=1, capacity_in_model=False))
    assert single.objective == 0.0
    paired = dataclasses.replace(
        inst, sites=inst.sites.assign(station=["0", "1+2", "1+2", "3", "4", "5", "6"])
    )
    plan = solve(paired, optimise_config(min_sites=0, max_sites=2, capacity_in_model=False))
    assert plan.objective == pytest.approx(10.0) and plan.valid
    assert station_of(paired.sites, plan.open_site_ids).nunique() <= 2
    # a minimum counts stations too: two halves of one rest area are one station
    both = optimise_config(min_sites=2, max_sites=2, capacity_in_model=False, fixed_open=("1", "2"))
    plan = solve(paired, both)
    assert station_of(paired.sites, plan.open_site_ids).nunique() == 2


def test_open_sites_that_serve_nothing_and_no_rule_needs_are_closed():
    from corridor.optimise.model import ModelSpec, preprocess
    from corridor.optimise.solve import _idle_sites

    # eastbound 0 -> 4 (200 km) needs a stop at node 1 and one at node 2 or 3; sites 1, 3 and 5
    # are open, 5 (off its path) serves nothing
    inst = Instance.from_arrays(
        line_matrix(7), [0], [4], [10.0], list(range(7)), 120.0, start_range_km=80.0
    )
    pre = preprocess(inst, tuple(inst.site_ids))
    sites = pd.DataFrame(
        {"served_trucks_per_day": [10.0, 10.0, 0.0]}, index=pd.Index(["1", "3", "5"])
    )
    assert _idle_sites(inst, ModelSpec(), pre, sites, [0]) == ["5"]
    # a station minimum, a fixed site or a flow whose only cover it is keeps it open
    assert _idle_sites(inst, ModelSpec(min_sites=3), pre, sites, [0]) == []
    assert _idle_sites(inst, ModelSpec(fixed_open=("5",)), pre, sites, [0]) == []
    idle_3 = sites.assign(served_trucks_per_day=[10.0, 0.0, 0.0])
    assert _idle_sites(inst, ModelSpec(), pre, idle_3, [0]) == ["5"]
    # as the other half of 5's rest area, 6 keeps the station count when 5 closes
    paired = dataclasses.replace(
        inst, sites=inst.sites.assign(station=["0", "1", "2", "3", "4", "5+6", "5+6"])
    )
    both = pd.concat([sites, pd.DataFrame({"served_trucks_per_day": [0.0]}, index=["6"])])
    assert _idle_sites(paired, ModelSpec(min_sites=3), pre, both, [0]) == ["5"]


def test_the_swap_search_counts_stations_as_the_model_does():
    from corridor.optimise.heuristic import Rules
    from corridor.optimise.model import ModelSpec

    inst = Instance.from_arrays(
        line_matrix(7), [0], [6], [10.0], list(range(7)), 120.0, start_range_km=80.0
    )
    paired = dataclasses.replace(
        inst, sites=inst.sites.assign(station=["0", "1+2", "1+2", "3", "4", "5", "6"])
    )
    rules = Rules(paired, ModelSpec(max_sites=1, min_sites=1), paired.site_ids)
    both_halves = np.array([0, 1, 1, 0, 0, 0, 0], dtype=bool)
    assert rules.stations(both_halves) == 1 and rules.ok(both_halves)
    assert not rules.ok(np.array([0, 1, 0, 1, 0, 0, 0], dtype=bool))
    assert not rules.ok(np.zeros(7, dtype=bool))
