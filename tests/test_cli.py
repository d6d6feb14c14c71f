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
