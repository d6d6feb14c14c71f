"""End to end on the real data: the default scenario gives a valid 4–6 site NL–DE plan."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from corridor.optimise.instance import road_key
from corridor.workflows import PlanRun, corridor_flows, write_run

#: End-to-end on the real data: plans the default scenario once per session.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def test_corridor_flow_filter() -> None:
    from corridor.config import FlowsConfig

    od = pd.DataFrame({"countries": ["NL", "NL;DE", "DE", "DE;NL;BE", None]})
    cfg = FlowsConfig(corridor_countries=("NL", "DE"), min_corridor_countries=2)
    assert corridor_flows(od, cfg).index.tolist() == [1, 3]
    assert len(corridor_flows(od, FlowsConfig())) == 5


def test_default_plan_meets_the_pilot(bev_out: Path) -> None:
    doc = json.loads((bev_out / "plan.json").read_text())
    assert doc["scenario"] == "nl-de-bev-pilot"
    assert doc["status"] in {"optimal", "feasible"}
    if doc["status"] == "optimal":
        assert doc["gap"] is None or doc["gap"] <= 1e-6
    assert doc["valid"] and doc["violations"] == []
    sites = doc["sites"]
    # 4-6 station locations; the two halves of a rest area (opposite carriageways) are one
    stations: dict[str, list[dict]] = {}
    for s in sites:
        stations.setdefault(s["station_id"], []).append(s)
    assert 4 <= len(stations) <= 6
    for halves in stations.values():
        assert len(halves) <= 2
        if len(halves) == 2:
            assert halves[0]["direction"] != halves[1]["direction"]
            assert road_key(halves[0]["road"]) == road_key(halves[1]["road"])
    for s in sites:
        assert s["technology"] == "bev"
        assert s["power_mw"] >= 1.0 and s["chargers"] >= 1
        for key in (
            "site_id",
            "name",
            "lon",
            "lat",
            "country",
            "direction",
            "served_trucks_per_day",
        ):
            assert key in s
    assert {"NL", "DE"} <= {s["country"] for s in sites}
    for s in sites:  # a capped site is one the grid or the site maximum keeps below its need
        assert s["capped"] == (s["chargers"] < s["chargers_needed"])
        assert s["power_mw"] <= s["headroom_mw"] + 1e-9
    # objective = the model's value; served = what the open sites serve (re-driven by the
    # simulation). Equal at a proven optimum; at a time-limited incumbent the model may count
    # fewer trucks than its open sites serve, never more.
    assert set(doc["definitions"]) >= {"objective", "served_trucks_per_day"}
    if doc["status"] == "optimal":
        assert doc["served_trucks_per_day"] == pytest.approx(doc["objective"], rel=1e-6)
    else:
        assert doc["served_trucks_per_day"] >= doc["objective"] - 1e-6
        assert doc["gap"] is None or doc["best_bound"] >= doc["served_trucks_per_day"] - 1e-6
    assert doc["solve_time_s"] >= 0
    assert any("OpenStreetMap" in a for a in doc["attribution"])


def test_default_plan_is_a_corridor_pilot_within_grid_and_chargers(
    bev_run: PlanRun, bev_out: Path
) -> None:
    import shapely

    from corridor.optimise import check_capacity

    choice = bev_run.corridor
    assert choice is not None and choice.chosen == choice.ranking.at[0, "corridor"]
    # every station lies within the corridor buffer of the chosen traject's carriageways
    lines = [v for k, v in choice.lines.items() if k.rsplit(" ", 1)[0] == choice.chosen]
    where = bev_run.sites.loc[list(bev_run.plan.sites.index)].geometry.values
    dist_m = shapely.distance(where, shapely.union_all(lines))
    assert (dist_m <= choice.buffer_km * 1000.0 + 1e-6).all()
    # proven optimal with capacity in the model; no site below the chargers its trucks need
    plan = bev_run.plan
    assert plan.status == "optimal" and plan.model_stats["capacity_in_model"]
    assert not plan.sites["capped"].any()
    assert not check_capacity(bev_run.instance, plan, bev_run.scenario.optimise)
    peak = bev_run.scenario.optimise.peak_hour_share * plan.sites["energy_mwh_per_day"]
    assert (peak <= plan.sites["power_mw"] + 1e-9).all()
    doc = json.loads((bev_out / "plan.json").read_text())
    assert doc["corridor"]["chosen"] == choice.chosen
    assert doc["corridor"]["runner_up"] == choice.runner_up
    ranking = pd.read_csv(bev_out / "corridors.csv")
    assert list(ranking["rank"]) == list(range(1, len(ranking) + 1))
    solved = ranking.dropna(subset=["served_trucks_per_day"])
    # pilot fleet first: ranked by pilot trucks served, then by trucks/day served
    keys = list(zip(solved["pilot_trucks_served"], solved["served_trucks_per_day"], strict=True))
    assert keys == sorted(keys, reverse=True)
    assert ranking.at[0, "served_trucks_per_day"] == pytest.approx(
        doc["served_trucks_per_day"], abs=1e-3
    )
    # pilot trips run both ways along the corridor: both directions are counted
    assert ranking.at[0, "pilot_outbound_on"] > 0 and ranking.at[0, "pilot_inbound_on"] > 0
    summary = (bev_out / "summary.md").read_text()
    assert "pilot-fleet trucks served" in summary and "pilot-fleet firms served" in summary
    assert "ASSUMPTION: nan" not in summary


def test_plan_serves_both_directions(bev_run: PlanRun) -> None:
    chosen = bev_run.plan.sites.index
    dirs = bev_run.instance.sites.loc[list(chosen), "directions"]
    served = set().union(*dirs)
    assert {"outbound", "inbound"} <= served


def test_shortlist_files_agree(bev_out: Path) -> None:
    doc = json.loads((bev_out / "plan.json").read_text())
    csv = pd.read_csv(bev_out / "shortlist.csv")
    gj = gpd.read_file(bev_out / "shortlist.geojson")
    assert len(csv) == len(gj) == len(doc["sites"])
    assert list(csv["rank"]) == list(range(1, len(csv) + 1))
    assert set(csv["site_id"]) == {s["site_id"] for s in doc["sites"]}
    assert gj.crs.to_epsg() == 4326
    assert (csv["served_trucks_per_day"].diff().dropna() <= 1e-9).all()


def test_failed_write_keeps_previous_results(
    bev_run: PlanRun, bev_out: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    shutil.copytree(bev_out, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = PlanRun(**{**bev_run.__dict__, "plan": None})
    with pytest.raises(AttributeError):
        write_run(broken, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_afir_corridor_paths_are_drivable(catalogue) -> None:
    from corridor.config import load_scenario
    from corridor.network import afir_corridor_paths, load_graph

    G = load_graph(catalogue, load_scenario("nl-de-bev-pilot").network)
    paths = afir_corridor_paths(G)
    assert {"outbound", "inbound"} <= {name.rsplit(" ", 1)[1] for name in paths}
    assert any(name.startswith("Rotterdam–Venlo–Duisburg") for name in paths)
    for name, nodes in paths.items():
        assert len(nodes) > 2, name
        assert all(G.has_edge(a, b) for a, b in itertools.pairwise(nodes)), name
        km = sum(min(d["length_m"] for d in G[a][b].values()) for a, b in itertools.pairwise(nodes))
        assert 50_000 < km < 900_000, (name, km)


def test_run_stages_stops_after_the_stage_asked_for(catalogue) -> None:
    from corridor.config import load_scenario
    from corridor.workflows import STAGES, run_stages

    sc = load_scenario("nl-de-bev-pilot")
    with pytest.raises(ValueError, match="until must be one of"):
        run_stages(sc, catalogue, until="solve")
    seen: list[str] = []
    st = run_stages(sc, catalogue, until="network", progress=seen.append)
    assert STAGES[0] == "network" and seen == ["road network"]
    assert st.graph.number_of_edges() > 0 and st.flows is None and st.plan is None
    assert list(st.timings_s) == ["road network"]


def _pilot_targets(out: Path) -> dict[str, str]:
    summary = (out / "summary.md").read_text()
    rows = [r.split("|") for r in summary.splitlines() if r.startswith("| pilot-fleet")]
    return {r[1].strip().split(" (")[0]: r[4].strip() for r in rows}


def test_a_consortium_on_one_traject_meets_the_pilot_targets(catalogue, tmp_path: Path) -> None:
    # the shipped fleet spreads 12 firms over five trajecten, so no traject carries 10 firms;
    # a (fictitious) consortium of 10 firms x 25 trucks driving Brabant-Ruhr round trips is what
    # the pilot asks for, and the plan serves all of it along Rotterdam-Venlo-Duisburg-Dortmund
    from corridor.config import load_scenario
    from corridor.workflows import run

    sc = load_scenario("nl-de-bev-pilot")
    fleet = sc.flows.pilot_fleet.model_copy(
        update={"routes_file": str(Path(__file__).parent / "data/pilot_consortium_FICTITIOUS.csv")}
    )
    sc = sc.model_copy(update={"flows": sc.flows.model_copy(update={"pilot_fleet": fleet})})
    result = run(sc, catalogue)
    choice = result.corridor
    assert choice.chosen == "Rotterdam–Venlo–Duisburg–Dortmund"
    best = choice.ranking.iloc[0]
    assert best["status"] == "optimal" and result.plan.valid
    assert best["pilot_trucks_served"] == pytest.approx(250.0)
    assert best["pilot_firms_served"] == 10
    assert best["pilot_directions_served"] == "outbound;inbound"
    assert 4 <= best["stations"] <= 6
    assert {c.split("=")[0] for c in best["stations_by_country"].split(";")} == {"DE", "NL"}
    out = tmp_path / "consortium"
    write_run(result, out)
    assert _pilot_targets(out) == {
        "pilot-fleet trucks served": "met",
        "pilot-fleet firms served": "met",
    }


def test_the_h2_pilot_serves_its_fleet_along_its_corridor(catalogue, tmp_path: Path) -> None:
    from corridor.config import load_scenario
    from corridor.workflows import run

    result = run(load_scenario("nl-de-scandinavia-h2-pilot"), catalogue)
    choice = result.corridor
    assert choice.chosen == "Amsterdam–Hamburg–Copenhagen–Göteborg"
    plan = result.plan
    assert plan.status == "optimal" and plan.valid and len(plan.sites) == 10
    countries = set(result.instance.sites.loc[list(plan.sites.index), "country"])
    assert {"NL", "DE", "DK", "SE"} <= countries
    best = choice.ranking.iloc[0]
    assert best["pilot_trucks_served"] == pytest.approx(250.0)
    assert best["pilot_firms_served"] >= 10
    assert best["pilot_directions_served"] == "outbound;inbound"
    out = tmp_path / "h2"
    write_run(result, out)
    assert set(_pilot_targets(out).values()) == {"met"}
