"""Scenario config: built-ins load, bad keys and values are rejected with their path."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor.config import Scenario, VehicleConfig, builtin_scenarios, load_scenario
from corridor.errors import ScenarioError


def test_builtin_scenarios_load_and_match_the_pilots() -> None:
    names = builtin_scenarios()
    assert {"nl-de-bev-pilot", "nl-de-scandinavia-h2-pilot"} <= set(names)
    bev = load_scenario("nl-de-bev-pilot")
    assert bev.optimise.vehicle.technology == "bev"
    assert (bev.optimise.min_sites, bev.optimise.max_sites) == (4, 6)
    assert bev.optimise.charger_power_mw >= 1.0
    assert set(bev.optimise.min_sites_per_country) == {"NL", "DE"}
    h2 = load_scenario("nl-de-scandinavia-h2-pilot")
    assert h2.optimise.vehicle.technology == "h2"
    assert h2.optimise.max_sites == 10 and h2.year == 2028


def test_scenario_is_frozen() -> None:
    sc = load_scenario("nl-de-bev-pilot")
    with pytest.raises(Exception, match="frozen"):
        sc.optimise.max_sites = 3  # type: ignore[misc]


def test_vehicle_ranges() -> None:
    v = VehicleConfig(
        battery_kwh=600, consumption_kwh_per_km=1.2, soc_start=0.8, soc_max=0.9, soc_reserve=0.1
    )
    assert v.range_km == pytest.approx(0.8 * 600 / 1.2)
    assert v.start_range_km == pytest.approx(0.7 * 600 / 1.2)
    h2 = VehicleConfig(
        technology="h2",
        tank_kg=80,
        consumption_kg_per_km=0.08,
        soc_max=1.0,
        soc_reserve=0.0,
        soc_start=1.0,
    )
    assert h2.range_km == pytest.approx(1000.0)


def test_misspelt_key_names_path_and_allowed_keys(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text('name = "mine"\n[optimise]\nmax_site = 5\n')
    with pytest.raises(ScenarioError, match=r"unknown key 'optimise\.max_site'.*max_sites"):
        load_scenario(f)


def test_bad_value_names_path_and_allowed_values(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text('[optimise.vehicle]\ntechnology = "diesel"\n')
    with pytest.raises(ScenarioError, match=r"optimise\.vehicle\.technology.*'bev'.*'h2'"):
        load_scenario(f)


def test_inconsistent_values_rejected(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text("[optimise]\nmin_sites = 7\nmax_sites = 6\n")
    with pytest.raises(ScenarioError, match="min_sites"):
        load_scenario(f)
    f.write_text("[optimise]\ncharger_power_mw = 0.35\n")
    with pytest.raises(ScenarioError, match="MCS"):
        load_scenario(f)


def test_unknown_scenario_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"unknown scenario 'does-not-exist'.*nl-de-bev-pilot"):
        load_scenario("does-not-exist")
    f = tmp_path / "broken.toml"
    f.write_text("[optimise\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(f)


def test_user_file_uses_defaults_for_missing_sections(tmp_path: Path) -> None:
    f = tmp_path / "small.toml"
    f.write_text('description = "mine"\n[optimise]\nmax_sites = 3\n')
    sc = load_scenario(f)
    assert sc.name == "small" and sc.optimise.max_sites == 3
    assert sc.network == Scenario(name="x").network


def test_flows_and_vehicle_technology_must_agree(tmp_path: Path) -> None:
    f = tmp_path / "mixed.toml"
    f.write_text('[flows]\ntechnology = "h2"\n[optimise.vehicle]\ntechnology = "bev"\n')
    with pytest.raises(ScenarioError, match=r"flows\.technology .*'h2'.* must match"):
        load_scenario(f)


def test_network_crs_must_be_projected_in_metres(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('[network]\ncrs = "EPSG:4326"\n')
    with pytest.raises(ScenarioError, match=r"network\.crs.*not a projected CRS in metres"):
        load_scenario(p)


def test_section_check_error_is_one_short_line_without_the_section(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text('[optimise]\nmin_sites = 7\nmax_sites = 6\nsolver = "highs"\n')
    with pytest.raises(
        ScenarioError,
        match=r"'optimise': min_sites = 7 must not exceed max_sites = 6; lower min_sites or raise",
    ) as err:
        load_scenario(f)
    text = str(err.value)
    assert "\n" not in text and "solver" not in text and "{" not in text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("{ NL = -2, DE = 2 }", "NL = -2"),
        ("{ NL = 2, DE = 1.5 }", "DE = 1.5"),
        ('{ NL = "2" }', "NL = '2'"),
    ],
)
def test_min_sites_per_country_must_be_whole_and_not_negative(
    tmp_path: Path, value: str, shown: str
) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(f"[optimise]\nmin_sites_per_country = {value}\n")
    with pytest.raises(
        ScenarioError,
        match=rf"'optimise\.min_sites_per_country': {shown}: expected a whole number of sites >= 0 "
        r"for each country; write e\.g\. \{ NL = 2, DE = 2 \}",
    ):
        load_scenario(f)


@pytest.mark.parametrize(
    ("section", "match"),
    [
        (
            "max_sites = 6\nmin_sites_per_country = { NL = 5, DE = 5 }\n",
            r"^invalid scenario .*: optimise\.min_sites_per_country sums to 10 sites .*more than "
            r"optimise\.max_sites = 6; lower the per-country minimums or raise max_sites$",
        ),
        (
            "max_sites = 6\nmin_sites_per_direction = 7\n",
            r"^invalid scenario .*: optimise\.min_sites_per_direction = 7 is more than "
            r"optimise\.max_sites = 6; lower it or raise max_sites$",
        ),
    ],
)
def test_site_minimums_above_max_sites_rejected_at_load(
    tmp_path: Path, section: str, match: str
) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(f"[optimise]\n{section}")
    with pytest.raises(ScenarioError, match=match):
        load_scenario(f)
    f.write_text("[optimise]\nmax_sites = 10\nmin_sites_per_country = { NL = 5, DE = 5 }\n")
    assert load_scenario(f).optimise.min_sites_per_country == {"NL": 5, "DE": 5}


def test_min_sites_per_country_outside_the_scenario_countries_rejected(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text("[optimise]\nmin_sites_per_country = { NL = 1, FR = 1 }\n")
    with pytest.raises(
        ScenarioError,
        match=r"^invalid scenario .*: optimise\.min_sites_per_country names FR, not a country of "
        r"the scenario's sites\.countries \(NL, DE\); remove it or add it to sites\.countries$",
    ):
        load_scenario(f)


def test_corridor_names_match_across_dashes_and_case(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(
        '[optimise]\ncorridor = "Rotterdam-Venlo-Duisburg-Dortmund"\n'
        'corridor_candidates = ["hamburg \u2014 flensburg", "Groningen\u2011Leer\u2010Bremen"]\n'
    )
    opt = load_scenario(f).optimise
    assert opt.corridor == "Rotterdam\u2013Venlo\u2013Duisburg\u2013Dortmund"
    assert opt.corridor_candidates == ("Hamburg\u2013Flensburg", "Groningen\u2013Leer\u2013Bremen")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('corridor = "Rotterdam-Venlo-Duisburg-Dortmnd"', "corridor"),
        (
            'corridor = "auto"\ncorridor_candidates = ["Rotterdam-Venlo-Duisburg-Dortmnd"]',
            "corridor_candidates",
        ),
    ],
)
def test_unknown_corridor_suggests_the_close_name_and_lists_all(
    tmp_path: Path, line: str, key: str
) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(f"[optimise]\n{line}\n")
    with pytest.raises(
        ScenarioError,
        match=rf"'optimise\.{key}': unknown corridor 'Rotterdam-Venlo-Duisburg-Dortmnd'; did you "
        r"mean 'Rotterdam\u2013Venlo\u2013Duisburg\u2013Dortmund'\? use a corridor name of "
        r"corridor/data/afir_corridors\.toml, corridor/data/corridors\.toml "
        r"\(.*Hamburg\u2013Padborg.*\)",
    ):
        load_scenario(f)


@pytest.mark.parametrize(
    ("lines", "key", "missing"),
    [
        ('capacity_table = "missing.csv"', "capacity_table", "missing.csv"),
        ('capacity_table = ["ops.csv", "missing.csv"]', "capacity_table", "missing.csv"),
        ('capacity_table = "ops.csv"\ncapacity_areas = "areas.geojson"', "capacity_areas", "areas"),
    ],
)
def test_missing_grid_capacity_file_rejected_at_load(
    tmp_path: Path, lines: str, key: str, missing: str
) -> None:
    (tmp_path / "ops.csv").write_text("substation_id,lon,lat,offtake_capacity_mw\n")
    f = tmp_path / "mine.toml"
    f.write_text(f"[grid]\n{lines}\n")
    with pytest.raises(
        ScenarioError,
        match=rf"^invalid scenario .*: 'grid\.{key}': file .*{missing}\S* not found; give an "
        r"existing file \(a relative path is relative to the scenario file's folder .*\)$",
    ):
        load_scenario(f)


def test_unknown_site_source_rejected_at_load(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    f = tmp_path / "mine.toml"
    f.write_text('[sites]\nsources = ["nl_truck_parking", "nope"]\n')
    with pytest.raises(
        ScenarioError,
        match=r"^invalid scenario .*: 'sites\.sources': 'nope' is neither a candidate dataset key "
        r"\(nl_truck_parking, rest_stops_sample, osm_poi_2021, existing_charging\) nor an "
        r"existing file .*",
    ):
        load_scenario(f)
    f.write_text('[sites]\nsources = ["de_substations"]\n')
    with pytest.raises(ScenarioError, match=r"'sites\.sources': 'de_substations' is neither"):
        load_scenario(f)
    (tmp_path / "mine.csv").write_text("lon,lat\n6.1,51.4\n")
    f.write_text('[sites]\nsources = ["osm_poi_2021", "mine.csv"]\n')
    assert load_scenario(f).sites.sources == ("osm_poi_2021", "mine.csv")


def test_unknown_target_rejected_with_the_known_ones(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('name = "t"\n[targets]\nmin_stationz = 3\n')
    with pytest.raises(ScenarioError, match=r"unknown target\(s\) \['min_stationz'\].*min_st"):
        load_scenario(p)
    for body, match in (
        ("max_stations = 2\nmin_stations = 4", "max_stations = 2 is below min_stations = 4"),
        ("min_trucks = -5", r"target\(s\) \['min_trucks'\] must be finite numbers >= 0"),
        ("[targets.extra]\na = 1", r"unknown target\(s\) \['extra'\]"),
        ("min_trucks = true", r"target\(s\) \['min_trucks'\] must be numbers, not true/false"),
        ("min_stations = 4.5", r"target\(s\) \['min_stations'\] are counts"),
    ):
        p.write_text(f'name = "t"\n[targets]\n{body}\n')
        with pytest.raises(ScenarioError, match=match):
            load_scenario(p)


def test_pilot_routes_file_next_to_the_scenario_is_found(tmp_path: Path, monkeypatch) -> None:
    from corridor._files import DATA_DIR

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "fleet.csv").write_text((DATA_DIR / "flows/pilot_routes.csv").read_text())
    p = folder / "s.toml"
    p.write_text('name = "t"\n[flows.pilot_fleet]\nroutes_file = "fleet.csv"\n')
    monkeypatch.chdir(tmp_path)
    assert Path(load_scenario(p).flows.pilot_fleet.routes_file) == folder / "fleet.csv"
    # a shipped file name still works from anywhere; a missing one is named with where it looked
    p.write_text('name = "t"\n[flows.pilot_fleet]\nroutes_file = "flows/pilot_routes.csv"\n')
    assert load_scenario(p).flows.pilot_fleet.routes_file == "flows/pilot_routes.csv"
    p.write_text('name = "t"\n[flows.pilot_fleet]\nroutes_file = "nope.csv"\n')
    with pytest.raises(ScenarioError, match=r"routes_file': file nope.csv not found.*next to"):
        load_scenario(p)
