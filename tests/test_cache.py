"""The on-disk stage cache: a hit only for the same inputs, recomputed on any change."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from corridor._cache import cached_stage


class _Section(BaseModel):
    share: float = 0.03
    table: str = ""


def _run(tmp_path: Path, section: _Section, calls: list[int], graph_key: str | None = "g1"):
    def compute() -> dict[str, float]:
        calls.append(1)
        return {"share": section.share, "n": len(calls)}

    return cached_stage(
        "flows",
        graph_key=graph_key,
        section=section,
        data_root=tmp_path / "data",
        compute=compute,
        cache_dir=tmp_path / "cache",
    )


def test_same_inputs_hit_and_any_change_recomputes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "traffic.csv").write_text("a,b\n1,2\n")
    calls: list[int] = []
    first = _run(tmp_path, _Section(), calls)
    assert _run(tmp_path, _Section(), calls) == first and len(calls) == 1
    # another scenario section
    assert _run(tmp_path, _Section(share=0.05), calls)["share"] == 0.05 and len(calls) == 2
    # another road graph
    _run(tmp_path, _Section(), calls, graph_key="g2")
    assert len(calls) == 3
    # a data file changed below the data root
    f = data / "traffic.csv"
    f.write_text("a,b\n1,3\n")
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    _run(tmp_path, _Section(), calls)
    assert len(calls) == 4
    # a file the section names (outside the data root) changed
    own = tmp_path / "own_table.csv"
    own.write_text("x\n1\n")
    _run(tmp_path, _Section(table=str(own)), calls)
    _run(tmp_path, _Section(table=str(own)), calls)
    assert len(calls) == 5
    own.write_text("x\n1\n2\n")
    _run(tmp_path, _Section(table=str(own)), calls)
    assert len(calls) == 6


def test_no_graph_key_means_no_cache_and_a_broken_entry_is_recomputed(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    calls: list[int] = []
    _run(tmp_path, _Section(), calls, graph_key=None)
    _run(tmp_path, _Section(), calls, graph_key=None)
    assert len(calls) == 2 and not (tmp_path / "cache").exists()
    _run(tmp_path, _Section(), calls)
    (entry,) = (tmp_path / "cache").glob("flows-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert _run(tmp_path, _Section(), calls)["n"] == 4  # recomputed, and rewritten
    assert _run(tmp_path, _Section(), calls)["n"] == 4 and len(calls) == 4
