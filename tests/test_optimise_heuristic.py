"""Tests of the swap local search that improves the MILP's warm start (corridor.optimise.heuristic).

The served weight and the per-site gains are checked against the independent simulation
(:func:`corridor.optimise.simulate_flow`), the improved plans against brute force and the side
constraints.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from builders import grid_matrix, simulated_served
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_optimise import brute_force, constrained_instance, random_instances

from corridor.optimise import Instance, preprocess
from corridor.optimise.heuristic import cover_index, improve_sites
from corridor.optimise.model import ModelSpec, greedy_sites


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_instances(), st.booleans(), st.integers(0, 2**16))
def test_served_weight_and_gains_match_the_simulation(case, round_trip, seed):
    mat, o, d, vol, cand, rng_km, start, _ = case
    inst = Instance.from_arrays(
        mat, o, d, vol, cand, rng_km, start_range_km=start, round_trip=round_trip
    )
    pre = preprocess(inst, inst.site_ids)
    sites = list(inst.site_ids)
    index = cover_index(pre, sites, "max_trucks")
    mask = np.random.default_rng(seed).random(len(sites)) < 0.4
    open_set = {s for s, m in zip(sites, mask, strict=True) if m}
    assert index.served_weight(mask) == pytest.approx(simulated_served(inst, open_set))
    gain, served = index.gains(mask)
    assert served == pytest.approx(simulated_served(inst, open_set))
    for j, s in enumerate(sites):
        want = 0.0 if mask[j] else simulated_served(inst, open_set | {s}) - served
        assert gain[j] == pytest.approx(want), s


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_instances(), st.booleans())
def test_improved_plan_is_never_worse_than_the_greedy_plan_nor_better_than_brute_force(
    case, round_trip
):
    mat, o, d, vol, cand, rng_km, start, p = case
    inst = Instance.from_arrays(
        mat, o, d, vol, cand, rng_km, start_range_km=start, round_trip=round_trip
    )
    pre = preprocess(inst, inst.site_ids)
    spec = ModelSpec(max_sites=p)
    sites = list(pre.used_sites)
    greedy = greedy_sites(inst, pre, spec, sites)
    better = improve_sites(inst, pre, spec, sites, greedy)
    assert len(better) <= p
    assert set(better) <= set(sites)
    value = simulated_served(inst, set(better))
    assert simulated_served(inst, set(greedy)) <= value + 1e-9
    assert value <= brute_force(inst, p) + 1e-9


def test_swaps_find_what_the_greedy_plan_misses_on_a_grid():
    # 5 × 5 grid of 50 km links, round trips needing one stop each way: greedy's share of
    # uncovered cover sets opens sites that complete no trip; swaps complete them
    rng = np.random.default_rng(3)
    o = rng.integers(0, 25, 40)
    d = (o + rng.integers(1, 25, 40)) % 25
    vol = rng.integers(1, 20, 40).astype(float)
    inst = Instance.from_arrays(grid_matrix(5), o, d, vol, list(range(25)), 150.0, round_trip=True)
    pre = preprocess(inst, inst.site_ids)
    spec = ModelSpec(max_sites=2)
    sites = list(pre.used_sites)
    greedy = greedy_sites(inst, pre, spec, sites)
    better = improve_sites(inst, pre, spec, sites, greedy)
    best = max(
        simulated_served(inst, set(pair)) for pair in itertools.combinations(inst.site_ids, 2)
    )
    assert simulated_served(inst, set(greedy)) < simulated_served(inst, set(better)) <= best


@pytest.mark.parametrize(
    "kw",
    [
        {"max_sites": 3, "fixed_open": ("3",)},
        {"max_sites": 4, "min_per_country": {"NL": 2, "DE": 1}},
        {"max_sites": 4, "min_per_direction": {"outbound": 2, "inbound": 2}},
        {"max_sites": 5, "budget_eur": 5e6},
        {"max_sites": 3, "min_sites": 3},
    ],
)
def test_improved_plan_keeps_the_side_constraints(kw):
    inst = constrained_instance()
    inst = dataclasses.replace(inst, sites=inst.sites.assign(headroom_mw=np.inf))
    pre = preprocess(inst, inst.site_ids)
    spec = ModelSpec(**kw)
    sites = list(inst.site_ids)
    greedy = greedy_sites(inst, pre, spec, sites)
    better = improve_sites(inst, pre, spec, sites, greedy)
    chosen = inst.sites.loc[better]
    assert spec.min_sites <= len(better) <= spec.max_sites
    assert set(spec.fixed_open) <= set(better)
    for cc, n in spec.min_per_country.items():
        assert int((chosen["country"] == cc).sum()) >= n
    for direction, n in spec.min_per_direction.items():
        assert int(chosen["directions"].map(lambda ds, d=direction: d in ds).sum()) >= n
    if spec.budget_eur is not None:
        assert chosen["cost_eur"].sum() <= spec.budget_eur
    assert simulated_served(inst, set(greedy)) <= simulated_served(inst, set(better))
