"""Outputs are all-or-nothing: a failing writer leaves earlier results untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor.outputs.atomic import atomic_file, write_outputs


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
