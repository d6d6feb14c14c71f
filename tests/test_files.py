"""corridor._files: atomic writers (all-or-nothing) and TOML / JSON readers with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor._files import DATA_DIR, atomic_file, read_json, read_toml, write_atomic, write_outputs
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
