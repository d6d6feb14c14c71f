"""Shortlist extras: marginal values, GeoPackage / Excel writers, summary.md, compare_runs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from corridor.assess.marginal import add_marginal_values, marginal_values, served_flows
from corridor.config import Scenario, load_scenario
from corridor.errors import InputDataError
from corridor.outputs.plan import write_shortlist_gpkg, write_shortlist_xlsx
from corridor.outputs.summary import (
    compare_runs,
    headline,
    pilot_reach,
    summary_markdown,
    target_checks,
)


def _stop(site: str, km: float, detour_km: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(site_id=site, km=km, detour_km=detour_km)


def _instance() -> SimpleNamespace:
    """Three flows on a 700 km line; range 300 km after a stop, 250 km from the origin."""
    flows = (
        # needs a (200) and b (450): without either it fails
        SimpleNamespace(
            od_id="long",
            trucks_per_day=10.0,
            length_km=700.0,
            stops=(_stop("a", 200), _stop("b", 450), _stop("c", 460)),
        ),
        # needs a only
        SimpleNamespace(od_id="mid", trucks_per_day=5.0, length_km=400.0, stops=(_stop("a", 150),)),
        # needs nothing
        SimpleNamespace(od_id="short", trucks_per_day=7.0, length_km=200.0, stops=()),
    )
    return SimpleNamespace(flows=flows, range_km=300.0, start_range_km=250.0, energy_per_km=1.0)


def test_marginal_values_are_what_the_plan_loses() -> None:
    inst = _instance()
    assert served_flows(inst, ["a", "b"]) == {"long": 10.0, "mid": 5.0, "short": 7.0}
    m = marginal_values(inst, ["a", "b", "c"])
    assert m.loc["a", "marginal_trucks_per_day"] == 15.0  # long and mid
    assert m.loc["a", "marginal_od_flows"] == 2
    assert m.loc["b", "marginal_trucks_per_day"] == 0.0  # c at 460 km replaces b
    assert m.loc["c", "marginal_trucks_per_day"] == 0.0
    m2 = marginal_values(inst, ["a", "b"])
    assert m2.loc["b", "marginal_trucks_per_day"] == 10.0
    assert m2.loc["b", "marginal_share"] == pytest.approx(10.0 / 22.0)


def _shortlist() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "site_id": ["nl-1", "de-2"],
            "name": ["Ruste <b>A12</b>", "Rastplatz Hünxe"],
            "technology": ["bev", "bev"],
            "kind": ["rest_area", "service_area"],
            "country": ["NL", "DE"],
            "direction": ["E (93°)", "both"],
            "chargers": [4, 2],
            "power_mw": [4.0, 2.0],
            "capacity_kg_per_day": [float("nan")] * 2,
            "served_trucks_per_day": [30.0, 12.5],
            "energy_mwh_per_day": [9.0, 3.75],
            "covered": [("od1", "od2"), ("od3",)],
            "lon": [5.9, 6.7],
            "lat": [52.0, 51.6],
        },
        geometry=[Point(5.9, 52.0), Point(6.7, 51.6)],
        crs="EPSG:4326",
    )


def test_gpkg_and_xlsx_writers(tmp_path: Path) -> None:
    sl = add_marginal_values(
        _shortlist(),
        pd.DataFrame({"marginal_trucks_per_day": [20.0, 1.0]}, index=["nl-1", "de-2"]),
    )
    assert list(sl["marginal_trucks_per_day"]) == [20.0, 1.0]
    write_shortlist_gpkg(sl, tmp_path / "s.gpkg")
    back = gpd.read_file(tmp_path / "s.gpkg", layer="shortlist")
    assert pyogrio.list_layers(tmp_path / "s.gpkg")[0][0] == "shortlist"
    assert back.crs.to_epsg() == 4326 and list(back["site_id"]) == ["nl-1", "de-2"]
    assert back.loc[0, "covered"] == "od1;od2"
    write_shortlist_xlsx(sl, tmp_path / "s.xlsx", {"scenario": "x"})
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert wb.sheetnames == ["shortlist", "notes"]
    ws = wb["shortlist"]
    header = [c.value for c in ws[1]]
    assert "marginal_trucks_per_day" in header and "geometry" not in header
    assert ws.cell(2, header.index("name") + 1).value == "Ruste <b>A12</b>"


def _doc(n_sites: int = 2) -> dict:
    sites = [
        {
            "site_id": f"s{i}",
            "country": "NL" if i % 2 else "DE",
            "chargers": 3,
            "power_mw": 3.0,
            "energy_mwh_per_day": 5.0,
            "technology": "bev",
        }
        for i in range(n_sites)
    ]
    return {
        "scenario": "nl-de-bev-pilot",
        "technology": "bev",
        "status": "optimal",
        "valid": True,
        "gap": 0.0,
        "objective": 42.5,
        "best_bound": 42.5,
        "solve_time_s": 3.2,
        "solver": "highs",
        "served_trucks_per_day": 42.5,
        "sites": sites,
        "summary": {
            "served_share_of_scenario_flow": 0.5,
            "flows": {"corridor_ze_trucks_per_day": 85.0},
        },
        "attribution": ["© OpenStreetMap contributors", "Speth et al. 2022"],
    }


def test_headline_and_targets() -> None:
    fig = headline(_doc(4))
    assert fig["sites"] == 4 and fig["chargers"] == 12 and fig["power_mw"] == 12.0
    assert fig["sites_nl"] == 2 and fig["sites_de"] == 2
    assert fig["sites_by_country"] in ("2 DE, 2 NL", "2 NL, 2 DE")
    checks = target_checks({"min_stations": 4, "max_stations": 6, "min_trucks": 250}, fig)
    verdicts = {(t, w): v for t, w, _, v in checks}
    assert verdicts[("stations", ">= 4")] == "met"
    assert verdicts[("stations", "<= 6")] == "met"
    assert [v for t, _, _, v in checks if t.startswith("trucks")] == ["not met"]
    assert any("253" in t for t, *_ in checks)
    # H2 modules are not charging points: an H2 plan's "chargers" are modules, a joint site
    # counts its BEV chargers and its modules apart
    h2 = _doc(2) | {"technology": "h2"}
    assert (headline(h2)["chargers"], headline(h2)["h2_modules"]) == (0, 6)
    joint = _doc(2)
    joint["sites"][0].update({"chargers": 4, "bev_chargers": 3, "h2_modules": 1})
    assert (headline(joint)["chargers"], headline(joint)["h2_modules"]) == (6, 1)


def test_corridor_mode_targets_count_the_pilot_fleet() -> None:
    # the pilot target is 250 pilot-fleet trucks of 10 firms, not all trucks the stations serve
    doc = _doc(4)
    doc["served_trucks_per_day"] = 300.0
    doc["corridor"] = {
        "chosen": "A",
        "ranking": [
            {
                "corridor": "A",
                "trucks_on_per_day": 400.0,
                "pilot_trucks_served": 58.0,
                "pilot_firms_served": 2,
            },
            {"corridor": "B", "pilot_trucks_served": 300.0, "pilot_firms_served": 11},
        ],
    }
    fig = headline(doc)
    assert fig["pilot_trucks_served"] == 58.0 and fig["pilot_firms_served"] == 2
    checks = {
        t: (plan, v) for t, _, plan, v in target_checks({"min_trucks": 250, "min_firms": 10}, fig)
    }
    (key,) = (t for t in checks if t.startswith("pilot-fleet trucks served"))
    assert checks[key] == ("58.0 trucks (all trucks served: 300.0 trucks/day)", "not met")
    assert checks["pilot-fleet firms served"] == ("2", "not met")


def test_a_missed_fleet_target_says_whether_any_corridor_carries_the_fleet() -> None:
    targets = {"min_trucks": 250, "min_firms": 10}
    rows = [
        {"corridor": "A", "pilot_trucks_on": 82.0, "pilot_firms_on": 4},
        {
            "corridor": "B",
            "pilot_trucks_on": 154.0,
            "pilot_firms_on": 7,
            "pilot_trucks_no_stop": 44,
        },
    ]
    doc = {"corridor": {"chosen": "A", "ranking": rows}}
    rows[0].update(pilot_trucks_served=67.0, pilot_firms_served=4)
    (line,) = (t for t in pilot_reach(doc, targets) if t)
    assert "carries is 154 (B; 44 of them need no public charging stop at all), the most" in line
    assert "the most firms 7 (B)" in line
    assert "no plan along one traject can meet 250 trucks of 10 firms" in line
    # the fleet is on a corridor, but its plan does not serve it all: the stations are short
    rows[1].update(pilot_trucks_on=260.0, pilot_firms_on=11)
    (line,) = (t for t in pilot_reach(doc, targets) if t)
    assert "the shortfall is in the stations" in line
    rows[0].update(pilot_trucks_served=250.0, pilot_firms_served=10)
    assert pilot_reach(doc, targets) == []
    assert pilot_reach({"sites": []}, targets) == []


def test_summary_markdown_names_inputs_licences_and_targets() -> None:
    sc = load_scenario("nl-de-bev-pilot")
    sl = add_marginal_values(
        _shortlist(),
        pd.DataFrame({"marginal_trucks_per_day": [20.0, 1.0]}, index=["nl-1", "de-2"]),
    )
    md = summary_markdown(sc, _doc(2), sl, {"AFIR": ["- all pass"]})
    assert md.startswith("# nl-de-bev-pilot")
    for text in ("ODbL", "CC BY 4.0", "2021-08-06", "optimal", "0.00 %", "253", "not met"):
        assert text in md
    assert "lost without it" in md and "## AFIR" in md
    assert "Ruste <b>A12</b>" in md  # markdown keeps the name; tables escape only pipes
    # the pilot fleet's routes file is an input, and the shipped one is said to be illustrative
    assert "| flows.pilot_fleet.routes_file | pilot fleet: 250 trucks of at least 10 firms" in md
    assert "flows/pilot_routes.csv | illustrative, shipped with corridor" in md


def test_compare_runs(tmp_path: Path) -> None:
    for name, n in (("a", 4), ("b", 6)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "plan.json").write_text(json.dumps(_doc(n)))
    df = compare_runs([tmp_path / "a", tmp_path / "b"])
    assert list(df.index) == ["a", "b"]
    assert list(df["sites"]) == [4, 6] and list(df["chargers"]) == [12, 18]
    with pytest.raises(InputDataError, match=r"plan\.json not found"):
        compare_runs([tmp_path / "missing"])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "plan.json").write_text("{oops")
    with pytest.raises(InputDataError, match="not valid JSON"):
        compare_runs([tmp_path / "bad"])


def test_targets_without_scenario_targets() -> None:
    sc = Scenario(name="x")
    assert target_checks(sc.targets, headline(_doc(1)))[-1][3] == "context"


def test_summary_flags_near_empty_and_non_firm_stations() -> None:
    sc = load_scenario("nl-de-bev-pilot")
    doc = _doc(2)
    doc["sites"][0].update(name="Busy", served_trucks_per_day=42.4, connection="firm")
    doc["sites"][1].update(name="Quiet", served_trucks_per_day=0.1, connection="non_firm")
    md = summary_markdown(sc, doc, _shortlist(), {})
    assert "1 site(s) serve under 2 % of the plan's trucks" in md and "Quiet (0.1)" in md
    assert "Busy" not in md.split("serve under 2 %")[1].split("\n")[0]
    assert "1 station(s) on non-firm grid connections" in md


def test_non_firm_battery_note_only_for_stations_that_draw_power():
    # an H2 station (no power_mw) on a non-firm connection needs no battery; a BEV one does
    from corridor.config import load_scenario
    from corridor.outputs.summary import summary_markdown

    note = "on non-firm grid connections are planned with their headroom"
    doc = _doc(2)
    for s in doc["sites"]:
        s["connection"] = "non_firm"
    doc["sites"][0]["power_mw"] = None
    md = summary_markdown(load_scenario("nl-de-bev-pilot"), doc, _shortlist(), {})
    assert "- 1 station(s) " + note in md
    doc["sites"][1]["power_mw"] = float("nan")
    md = summary_markdown(load_scenario("nl-de-bev-pilot"), doc, _shortlist(), {})
    assert note not in md


def test_the_dutch_outlook_counts_the_chargers_in_the_netherlands() -> None:
    # 4 sites of 3 chargers, two in NL: 6 of the 12 chargers count towards the 253 Dutch points
    fig = headline(_doc(4))
    assert (fig["chargers"], fig["chargers_nl"]) == (12, 6)
    (row,) = (r for r in target_checks({}, fig) if r[0].startswith("NL outlook"))
    assert row[2] == "6 chargers in NL (2.4% of the outlook)"
