"""Scenario sweeps on Dask, staged roll-outs and their charts.

The sweeps and roll-outs run on a tiny real cut (Gelderland, NUTS NL22: its motorways, the Dutch
truck parkings, the ETISplus flows inside it; a 120 kWh truck so that the short trips need a
stop), marked slow through the ``catalogue`` fixture.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from builders import grid_line, optimise_config
from typer.testing import CliRunner

from corridor.cli import app
from corridor.errors import ScenarioError
from corridor.optimise import solve
from corridor.sweep import load_sweep, run_sweep, stage_key

TINY = """
name = "tiny-gelderland"
[network]
countries = ["NL"]
nuts_ids = ["NL22"]
[flows]
countries = ["NL"]
zero_emission_share = 0.05
[sites]
sources = ["nl_truck_parking"]
countries = ["NL"]
[optimise]
min_sites = 1
max_sites = 3
time_limit_s = 30
[optimise.vehicle]
battery_kwh = 120.0
[outputs]
map_html = false
grid_value_groups = 0
"""

GRID = """
base = "tiny.toml"
[axes]
"optimise.max_sites" = [1, 2, 3]
"optimise.vehicle.battery_kwh" = [80.0, 120.0]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweepfiles")
    _write(folder, "tiny.toml", TINY)
    _write(folder, "grid.toml", GRID)
    return folder


@pytest.fixture(scope="module")
def client() -> Any:
    from distributed import Client

    from corridor.sweep import local_cluster

    cluster = local_cluster(2)
    with Client(cluster) as c:
        yield c
    cluster.close()


def test_solver_threads_share_the_cores_of_a_host(client) -> None:
    from corridor.sweep import cluster_threads, cores, solver_threads

    # two one-thread workers on this machine: each task gets half its cores, at least one
    assert cluster_threads(client) == solver_threads(cores(), 2) == max(1, cores() // 2)
    assert solver_threads(8, 3) == 2 and solver_threads(1, 4) == 1


@pytest.fixture(scope="module")
def dask_sweep(files: Path, catalogue, client, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("sweep") / "grid"
    seen: list[dict] = []
    frame = run_sweep(
        load_sweep(files / "grid.toml"),
        catalogue,
        out,
        client=client,
        threads=1,
        progress=seen.append,
    )
    assert len(seen) == len(frame) == 6
    return out, frame


def test_sweep_keys_are_checked_against_the_scenario(tmp_path: Path) -> None:
    bad = _write(
        tmp_path, "s.toml", 'base = "nl-de-bev-pilot"\n[axes]\n"optimise.max_site" = [4]\n'
    )
    with pytest.raises(ScenarioError, match=r"'optimise.max_site' is not a scenario key"):
        load_sweep(bad)
    res = CliRunner().invoke(app, ["sweep", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "error:" in res.output and "optimise.max_site" in res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    # a value that does not fit its key is bad input too
    wrong = _write(
        tmp_path, "w.toml", 'base = "nl-de-bev-pilot"\n[axes]\n"optimise.max_sites" = ["many"]\n'
    )
    with pytest.raises(ScenarioError, match=r"optimise.max_sites"):
        load_sweep(wrong)


def test_smallest_sweep_file_as_written(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "s.toml",
        'base = "nl-de-bev-pilot"        # a built-in scenario name\n'
        '[axes]\n"optimise.max_sites" = [4, 6, 8]\n',
    )
    sw = load_sweep(path)
    assert [c.case_id for c in sw.cases] == [f"optimise.max_sites={n}" for n in (4, 6, 8)]
    assert [c.scenario.optimise.max_sites for c in sw.cases] == [4, 6, 8]
    # max_sites changes only the optimise stage: every earlier stage is shared
    for stage in ("network", "flows", "sites", "grid", "instance"):
        assert len({stage_key(stage, c.scenario) for c in sw.cases}) == 1
    # a case below the pilot's min_sites is a case outcome (invalid, with the reason)
    low = load_sweep(
        _write(
            tmp_path, "l.toml", 'base = "nl-de-bev-pilot"\n[axes]\n"optimise.max_sites" = [2, 4]\n'
        )
    )
    assert low.cases[0].scenario is None and "min_sites = 4" in low.cases[0].error
    assert low.cases[1].scenario is not None


def test_stage_keys_follow_the_sections_each_stage_reads(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "s.toml",
        'base = "nl-de-bev-pilot"\n[axes]\n"flows.zero_emission_share" = [0.03, 0.05]\n'
        '"optimise.vehicle.battery_kwh" = [400.0, 600.0]\n',
    )
    cases = load_sweep(path).cases
    n = {
        s: len({stage_key(s, c.scenario) for c in cases})
        for s in ("network", "flows", "sites", "grid", "instance")
    }
    assert n == {"network": 1, "flows": 2, "sites": 1, "grid": 1, "instance": 4}


def test_fixed_sites_keep_sites_open_with_their_chargers() -> None:
    inst = grid_line([12.0] * 11)
    free = solve(inst, optimise_config(max_sites=2))
    keep = next(s for s in inst.site_ids if s not in set(free.sites.index))
    plan = solve(inst, optimise_config(max_sites=2, fixed_sites={keep: 5}))
    assert plan.status == "optimal" and plan.valid
    assert keep in plan.sites.index and plan.sites.at[keep, "chargers"] >= 5
    assert plan.served_trucks_per_day <= free.served_trucks_per_day + 1e-6


def test_sweep_on_dask_matches_the_cases_run_one_by_one(dask_sweep, files: Path, catalogue) -> None:
    from corridor.workflows import run

    out, frame = dask_sweep
    assert (frame["status"] == "ok").all() and (frame["gap"] == 0).all()
    for case in load_sweep(files / "grid.toml").cases:
        alone = run(case.scenario, catalogue)
        row = frame.set_index("case_id").loc[case.case_id]
        assert row["served_trucks_per_day"] == pytest.approx(
            alone.plan.served_trucks_per_day, rel=1e-6
        )
        assert row["sites"] == len(alone.plan.sites)
        assert (out / "cases" / case.case_id / "plan.json").is_file()
    # the coverage curve never falls as more sites are allowed
    for _, part in frame.groupby("optimise.vehicle.battery_kwh"):
        served = part.sort_values("optimise.max_sites")["served_trucks_per_day"].to_numpy()
        assert (served[1:] >= served[:-1] - 1e-6).all()
        assert served[-1] > served[0]
    table = pd.read_parquet(out / "sweep.parquet")
    assert list(table["case_id"]) == list(frame["case_id"])
    assert {
        "optimise.max_sites",
        "status",
        "gap",
        "served_trucks_per_day",
        "served_share",
        "sites",
        "chargers",
        "power_mw",
        "energy_mwh_per_day",
        "cost_eur",
        "solve_time_s",
    } <= set(table.columns)
    assert pd.read_csv(out / "sweep.csv").shape[0] == 6


def test_rerun_skips_finished_cases(dask_sweep, files: Path, catalogue) -> None:
    out, frame = dask_sweep
    stamp = {p: p.stat().st_mtime_ns for p in out.glob("cases/*/plan.json")}
    seen: list[dict] = []
    again = run_sweep(load_sweep(files / "grid.toml"), catalogue, out, progress=seen.append)
    assert all(r.get("skipped") for r in seen) and len(seen) == 6
    assert {p: p.stat().st_mtime_ns for p in out.glob("cases/*/plan.json")} == stamp
    pd.testing.assert_series_equal(again["served_trucks_per_day"], frame["served_trucks_per_day"])


def test_failing_case_is_reported_and_the_others_finish(
    files: Path, catalogue, client, tmp_path: Path
) -> None:
    path = _write(
        files,
        "named.toml",
        'base = "tiny.toml"\n'
        '[[cases]]\nname = "good"\n'
        '[[cases]]\nname = "bad-corridor"\n"optimise.corridor" = "Groningen–Leer–Bremen"\n'
        '[[cases]]\nname = "too-many-minimum"\n"optimise.min_sites" = 5\n',
    )
    frame = run_sweep(load_sweep(path), catalogue, tmp_path / "named", client=client).set_index(
        "case_id"
    )
    assert frame.at["good", "status"] == "ok" and frame.at["good", "served_trucks_per_day"] > 0
    assert frame.at["bad-corridor", "status"] == "error"
    assert "not a corridor on this scenario's graph" in frame.at["bad-corridor", "reason"]
    assert frame.at["too-many-minimum", "status"] == "invalid"
    assert "min_sites = 5 must not exceed max_sites = 3" in frame.at["too-many-minimum", "reason"]
    record = json.loads((tmp_path / "named" / "cases" / "bad-corridor" / "case.json").read_text())
    assert record["status"] == "error"
    # the command on an existing cluster (--scheduler): one line per case, the bar, exit 0
    out = tmp_path / "cli"
    addr = client.scheduler.address
    res = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--scheduler", addr])
    assert res.exit_code == 0, res.output
    assert "1 of 3 cases solved" in res.output
    assert "bad-corridor: error:" in res.output and "too-many-minimum: invalid" in res.output
    assert (out / "sweep.html").is_file() and (out / "cases" / "good" / "plan.json").is_file()


def test_rollout_keeps_every_earlier_site(files: Path, catalogue, tmp_path: Path) -> None:
    from corridor.rollout import load_rollout, run_rollout

    path = _write(
        files,
        "rollout.toml",
        'base = "tiny.toml"\n'
        "[[stages]]\nyear = 2027\nmax_sites = 1\n"
        '[[stages]]\nyear = 2030\nadd_sites = 1\n"flows.zero_emission_share" = 0.08\n'
        '[[stages]]\nyear = 2035\nadd_sites = 2\n"flows.zero_emission_share" = 0.25\n',
    )
    out = tmp_path / "ro"
    result = run_rollout(load_rollout(path), catalogue, out)
    table = result["table"]
    assert list(table["year"]) == [2027, 2030, 2035]
    assert list(table["sites"]) == [1, 2, 4] and list(table["sites_added"]) == [1, 1, 2]
    plans = [
        json.loads((out / "stages" / str(y) / "plan.json").read_text()) for y in (2027, 2030, 2035)
    ]
    chargers = [{s["site_id"]: s["chargers"] for s in p["sites"]} for p in plans]
    for early, late in itertools.pairwise(chargers):
        assert set(early) <= set(late)
        assert all(late[s] >= n for s, n in early.items())
    sites = result["sites"]
    assert sorted(sites["opening_year"]) == [2027, 2030, 2035, 2035]
    # planning the last year alone is at least as good when both are proven optimal
    assert result["alone_status"] == "optimal" and table["status"].iloc[-1] == "optimal"
    assert result["value_lost_trucks_per_day"] >= -1e-6
    text = (out / "rollout_summary.md").read_text()
    assert "stage by stage" in text and "lost by staging" in text
    assert {"rollout.csv", "rollout_sites.csv", "rollout_map.png", "rollout.html"} <= {
        p.name for p in out.iterdir()
    }


def test_compare_takes_sweep_folders_and_draws_their_sites(dask_sweep, tmp_path: Path) -> None:
    out, _ = dask_sweep
    png, csv = tmp_path / "sites.png", tmp_path / "cmp.csv"
    res = CliRunner().invoke(app, ["compare", str(out), "--csv", str(csv), "--map", str(png)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(csv)
    assert len(table) == 6 and table["run"].str.startswith(f"{out.name}/").all()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_page_and_charts_open_in_chromium(dask_sweep, chromium) -> None:
    out, _ = dask_sweep
    page = chromium.new_page(viewport={"width": 1300, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((out / "sweep.html").as_uri(), wait_until="load")
    sizes = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    assert {s[0] for s in sizes} == {"coverage.png", "power_cost.png", "site_stability.png"}
    assert all(done and width > 300 for _, done, width in sizes)
    body = page.inner_text("body")
    assert "© OpenStreetMap contributors" in body and "Speth" in body and "CC BY 4.0" in body
    for png in ("coverage.png", "power_cost.png", "site_stability.png"):
        page.goto((out / png).as_uri(), wait_until="load")
    page.close()
    assert errors == []
