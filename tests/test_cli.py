"""CLI contract: help everywhere, exit 2 on bad input with one line and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridor.cli import app

runner = CliRunner()


@pytest.mark.parametrize("cmd", [[], ["scenarios"], ["data"], ["plan"]])
def test_help(cmd: list[str]) -> None:
    res = runner.invoke(app, [*cmd, "--help"])
    assert res.exit_code == 0
    assert "Usage" in res.output


def test_scenarios_lists_builtins() -> None:
    res = runner.invoke(app, ["scenarios"])
    assert res.exit_code == 0
    assert "nl-de-bev-pilot" in res.output and "h2" in res.output


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_data_lists_datasets() -> None:
    res = runner.invoke(app, ["data"])
    assert res.exit_code == 0, res.output
    assert "osm_motorways" in res.output and "MISSING" not in res.output


def test_data_missing_root_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["data", "--data-dir", str(tmp_path)])
    assert res.exit_code == 0
    assert "MISSING" in res.output and "Geofabrik" in res.output


def test_unknown_scenario_exit_2_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["plan", "does-not-exist", "--out", str(out)])
    assert res.exit_code == 2
    assert "unknown scenario" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_misspelt_key_exit_2_writes_nothing(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text('name = "mine"\n[optimise]\nmax_site = 5\n')
    out = tmp_path / "out"
    res = runner.invoke(app, ["plan", str(f), "--out", str(out)])
    assert res.exit_code == 2
    assert "max_site" in res.output and "max_sites" in res.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.toml"]


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_route_json_crosses_nl_de() -> None:
    import json

    # Port of Rotterdam (Europoort) to Duisburg: about 230-260 km by motorway.
    res = runner.invoke(app, ["route", "--from", "4.05,51.95", "--to", "6.76,51.43", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert 220 <= doc["length_km"] <= 270
    assert doc["travel_time_min"] > 60 * doc["length_km"] / 90  # truck speeds, not car speeds
    assert any(r.startswith("A") for r in doc["refs"]) and len(doc["snap_m"]) == 2


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_route_takes_the_scenario_as_argument_like_the_other_commands() -> None:
    args = ["--from", "4.05,51.95", "--to", "6.76,51.43", "--json"]
    res = runner.invoke(app, ["route", "nl-de-bev-pilot", *args])
    assert res.exit_code == 0, res.output
    old = runner.invoke(app, ["route", *args, "--scenario", "nl-de-bev-pilot"])  # deprecated
    assert old.exit_code == 0, old.output
    assert old.stdout == res.stdout and "deprecated" in old.stderr
    bad = runner.invoke(app, ["route", "no-such-scenario", *args])
    assert bad.exit_code == 2 and "no-such-scenario" in bad.output
    both = runner.invoke(app, ["route", "nl-de-scandinavia-h2-pilot", *args, "--scenario", "x"])
    assert both.exit_code == 2 and "two scenarios" in both.output


@pytest.mark.parametrize("bad", ["4.05;51.95", "abc,51", "400,51"])
def test_route_bad_coordinate_exit_2(bad: str) -> None:
    res = runner.invoke(app, ["route", "--from", bad, "--to", "6.76,51.43"])
    assert res.exit_code == 2
    assert "--from" in res.output and "Traceback" not in res.output


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_grid_from_site_csv(tmp_path: Path) -> None:
    import pandas as pd

    sites = tmp_path / "sites.csv"
    sites.write_text(
        "site_id,lon,lat,power_mw,energy_mwh_per_day\n"
        "venlo,6.1497,51.3695,4,40\n"
        "oberhausen,6.8420,51.5170,6,50\n"
    )
    out = tmp_path / "grid"
    res = runner.invoke(app, ["grid", str(sites), "--out", str(out), "--battery-mwh", "2"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "grid_load.csv")
    subs = table[table["level"] == "substation"]
    assert subs["n_sites"].sum() == 2
    assert subs["installed_mw"].sum() == pytest.approx(10.0)
    assert subs["daily_mwh"].sum() == pytest.approx(90.0)
    assert (out / "grid_load.geojson").exists()


def test_grid_bad_site_row_exit_2(tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat,power_mw,energy_mwh_per_day\na,6.1,51.3,-4,40\n")
    res = runner.invoke(app, ["grid", str(sites), "--out", str(tmp_path / "g")])
    assert res.exit_code == 2
    assert "line 2" in res.output and "power_mw" in res.output
    assert not (tmp_path / "g").exists()
