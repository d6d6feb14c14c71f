"""`corridor coverage` / `corridor compare` and the default run's extra outputs (real plan)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from corridor.cli import compare, coverage

#: End-to-end on the real data: plans the default scenario once per session.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

app = typer.Typer()
app.command()(coverage)
app.command()(compare)
runner = CliRunner()


def test_default_run_writes_summary_afir_and_shortlist_extras(bev_out: Path) -> None:
    for name in ("shortlist.gpkg", "shortlist.xlsx", "summary.md", "afir.csv", "map.html"):
        assert (bev_out / name).stat().st_size > 0, name
    doc = json.loads((bev_out / "plan.json").read_text())
    assert all("marginal_trucks_per_day" in s for s in doc["sites"])
    # a site's marginal value never exceeds what the whole plan serves
    assert all(
        s["marginal_trucks_per_day"] <= doc["served_trucks_per_day"] + 1e-6 for s in doc["sites"]
    )
    md = (bev_out / "summary.md").read_text()
    assert "## Targets" in md and "## AFIR" in md and "ODbL" in md
    afir = pd.read_csv(bev_out / "afir.csv")
    assert {"core-2025", "core-2027", "core-2030"} <= set(afir["requirement"])
    assert (afir["largest_gap_km"] > 0).all()
    wb = openpyxl.load_workbook(bev_out / "shortlist.xlsx", read_only=True)
    assert "shortlist" in wb.sheetnames
    html = (bev_out / "map.html").read_text()
    for layer in ("Grid congestion areas", "Pilot corridors", "AFIR corridors"):
        assert layer in html


def test_coverage_command_on_real_plan(bev_out: Path, tmp_path: Path) -> None:
    routes = tmp_path / "routes.csv"
    routes.write_text(
        "route_id,origin,destination,trips_per_day\n"
        "maasvlakte-duisburg,Rotterdam Maasvlakte,Duisburg,40\n"
        "venlo-hamburg,Venlo,Hamburg,6\n"
    )
    out = tmp_path / "cov"
    res = runner.invoke(
        app,
        [
            "coverage",
            "--routes",
            str(routes),
            "--plan",
            str(bev_out / "plan.json"),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "route directions served" in res.output
    cov = pd.read_csv(out / "coverage.csv")
    assert len(cov) == 4 and set(cov["direction"]) == {"outbound", "inbound"}
    assert (cov["distance_km"] > 100).all()
    assert (out / "coverage_map.html").stat().st_size > 10_000
    # Maasvlakte–Duisburg (~240 km) is within the default truck's range from the origin
    assert cov.set_index(["route_id", "direction"]).loc[
        ("maasvlakte-duisburg", "outbound"), "feasible"
    ]


def test_coverage_command_bad_input_exits_2(tmp_path: Path) -> None:
    routes = tmp_path / "routes.csv"
    routes.write_text("route_id,origin,destination\nx,Venlo,Atlantis\n")
    res = runner.invoke(app, ["coverage", "--routes", str(routes), "--plan", "nope.json"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["coverage", "--routes", str(tmp_path / "missing.csv")])
    assert res.exit_code == 2


def test_compare_command(bev_out: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["compare", str(bev_out), str(bev_out), "--csv", str(tmp_path / "c.csv")]
    )
    assert res.exit_code == 0, res.output
    df = pd.read_csv(tmp_path / "c.csv")
    assert len(df) == 2 and (df["sites"] >= 4).all()
    assert runner.invoke(app, ["compare", str(tmp_path / "none")]).exit_code == 2
