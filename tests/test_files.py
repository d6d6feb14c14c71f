"""corridor._files: atomic writers (all-or-nothing) and TOML / JSON readers with clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from corridor._files import (
    DATA_DIR,
    MANIFEST,
    atomic_file,
    read_json,
    read_toml,
    write_atomic,
    write_outputs,
)
from corridor.errors import InputDataError, ScenarioError


def test_write_outputs_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    write_outputs(
        out, {"a.txt": lambda p: p.write_text("good a"), "b.txt": lambda p: p.write_text("good b")}
    )

    def boom(p: Path) -> None:
        p.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(out, {"a.txt": lambda p: p.write_text("new a"), "b.txt": boom})
    assert (out / "a.txt").read_text() == "good a"
    assert (out / "b.txt").read_text() == "good b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging left behind


def _write(text: str) -> Callable[[Path], object]:
    return lambda p: p.write_text(text)


def test_rerun_drops_the_previous_runs_stale_files_but_keeps_the_users(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = [f"grid_chart_{i}.png" for i in range(11)] + ["grid_load.csv", "grid_value.csv"]
    write_outputs(out, {n: _write("A") for n in first}, kind="grid")
    (out / "notes.md").write_text("mine")
    second = ["grid_chart_0.png", "grid_chart_x.png", "grid_load.csv"]
    files = write_outputs(out, {n: _write("B") for n in second}, kind="grid")
    assert files == [out / n for n in second]
    names = sorted(p.name for p in out.iterdir())
    assert names == [MANIFEST, "grid_chart_0.png", "grid_chart_x.png", "grid_load.csv", "notes.md"]
    assert [(out / n).read_text() for n in second] == ["B", "B", "B"]
    assert (out / "notes.md").read_text() == "mine"
    assert json.loads((out / MANIFEST).read_text())["runs"] == {"grid": sorted(second)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging left behind


def test_a_failed_rerun_keeps_the_old_files_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "run"
    write_outputs(out, {"a.csv": _write("a"), "b.csv": _write("b")})
    manifest = (out / MANIFEST).read_text()

    def boom(p: Path) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_outputs(out, {"c.csv": boom})
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.csv", "b.csv"]
    assert (out / MANIFEST).read_text() == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_other_kinds_of_run_and_folders_without_manifest_keep_their_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "from_an_old_version.csv").write_text("old")  # no manifest: corridor cannot tell
    write_outputs(out, {"plan.json": _write("p"), "grid_value.csv": _write("v")}, kind="plan")
    write_outputs(out, {"grid_load.csv": _write("g1"), "grid_value.csv": _write("g")}, kind="grid")
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST,
        "from_an_old_version.csv",
        "grid_load.csv",
        "grid_value.csv",
        "plan.json",
    ]
    runs = json.loads((out / MANIFEST).read_text())["runs"]
    assert runs == {"grid": ["grid_load.csv", "grid_value.csv"], "plan": ["plan.json"]}
    # grid_value.csv now belongs to the grid run: a new plan keeps it, a new grid run drops it
    write_outputs(out, {"plan.json": _write("h2")}, kind="plan")
    write_outputs(out, {"grid_load.csv": _write("g2")}, kind="grid")
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST,
        "from_an_old_version.csv",
        "grid_load.csv",
        "plan.json",
    ]


def test_a_damaged_manifest_drops_nothing_and_never_reaches_outside(tmp_path: Path) -> None:
    out = tmp_path / "run"
    outside = tmp_path / "keep.txt"
    outside.write_text("outside")
    out.mkdir()
    (out / "x.csv").write_text("x")
    (out / MANIFEST).write_text('{"runs": {"outputs": ["../keep.txt", "/etc/passwd"]}}')
    write_outputs(out, {"a.csv": _write("a")})
    assert outside.read_text() == "outside"
    (out / MANIFEST).write_text("not json")
    write_outputs(out, {"b.csv": _write("b")})
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.csv", "b.csv", "x.csv"]


def test_atomic_file_keeps_old_content_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    target.write_text("old")
    with pytest.raises(ValueError, match="bad"), atomic_file(target) as tmp:
        tmp.write_text("partial")
        raise ValueError("bad")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
    with atomic_file(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_write_atomic_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "t.csv"
    assert write_atomic(target, lambda p: p.write_text("a,b\n")) == target
    assert target.read_text() == "a,b\n"

    def fail(p: Path) -> None:
        p.write_text("x")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, fail)
    assert target.read_text() == "a,b\n"
    assert [p.name for p in target.parent.iterdir()] == ["t.csv"]


def test_data_dir_holds_the_shipped_files() -> None:
    assert (DATA_DIR / "scenarios" / "nl-de-bev-pilot.toml").is_file()
    assert (DATA_DIR / "gazetteer.csv").is_file()


def test_read_toml_names_the_file_and_the_problem(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('a = 1\n[b]\nc = "x"\n')
    assert read_toml(good) == {"a": 1, "b": {"c": "x"}}
    bad = tmp_path / "bad.toml"
    bad.write_text("a = = 1\n")
    with pytest.raises(InputDataError, match=r"profile .*bad\.toml is not valid TOML.*line 1"):
        read_toml(bad, "truck profile")
    with pytest.raises(InputDataError, match=r"corridor file .*nope\.toml not found: add it"):
        read_toml(tmp_path / "nope.toml", "corridor file", hint="add it")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "Mönchengladbach"'.encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin\.toml is not UTF-8 text"):
        read_toml(latin, "scenario file", error=ScenarioError)
    with pytest.raises(InputDataError, match=r"is a folder, not a file"):
        read_toml(tmp_path)


def test_read_json_names_the_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "plan.json"
    p.write_text('{"sites": []}')
    assert read_json(p) == {"sites": []}
    p.write_text('{"sites": [}\n')
    with pytest.raises(InputDataError, match=r"plan file .*plan\.json is not valid JSON \(line 1"):
        read_json(p, "plan file")
