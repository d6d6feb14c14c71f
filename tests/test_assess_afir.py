"""AFIR report on a hand-made straight dual carriageway."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_assess_coverage import line_graph, lonlat, sites_at

from corridor.assess.afir import AFIR_REQUIREMENTS, afir_report, load_afir_corridors
from corridor.errors import InputDataError
from corridor.network import Corridor
from corridor.outputs.afir import afir_markdown, write_afir_csv


def corridor(start_km: float, end_km: float, network: str = "core") -> Corridor:
    return Corridor("Test", network, ("West", "East"), (lonlat(start_km), lonlat(end_km)))


def with_power(sites: pd.DataFrame, power_mw: float, chargers: int) -> pd.DataFrame:
    out = sites.copy()
    out["power_mw"] = power_mw
    out["chargers"] = chargers
    return out


def test_shipped_corridors_and_requirements() -> None:
    cors = {c.name: c for c in load_afir_corridors()}
    assert len(cors) >= 3
    assert cors["Rotterdam–Venlo–Duisburg–Dortmund"].waypoints[1] == "Venlo"
    core = {r.year: r for r in AFIR_REQUIREMENTS if r.technology == "bev" and r.network == "core"}
    assert [core[y].min_pool_kw for y in (2025, 2027, 2030)] == [1400, 2800, 3600]
    assert all(r.max_spacing_km == 60 for r in core.values())
    h2 = [r for r in AFIR_REQUIREMENTS if r.technology == "h2"]
    assert all(r.max_spacing_km == 200 and r.min_kg_per_day == 1000 for r in h2)


def test_bad_corridor_file(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[[corridor]]\nname = "x"\nwaypoints = ["Venlo", "Duisberg"]\n')
    with pytest.raises(InputDataError, match=r"corridor 'x'.*did you mean 'Duisburg'"):
        load_afir_corridors(f)
    f.write_text('[[corridor]]\nname = "x"\nnetwork = "tent"\nwaypoints = ["Venlo", "Essen"]\n')
    with pytest.raises(InputDataError, match="core or comprehensive"):
        load_afir_corridors(f)


def test_spacing_power_and_directions(tmp_path: Path) -> None:
    g = line_graph()
    # eastbound pools every 50 km from km 50 to 250 at 4 MW (4 x 1 MW); the westbound side has
    # one pool at km 150 only
    east = [(f"e{k}", float(k), -200.0, 90.0) for k in (50, 100, 150, 200, 250)]
    sites = with_power(sites_at(*east, ("w150", 150.0, 230.0, 270.0)), 4.0, 4)
    rep = afir_report(g, [corridor(0, 300)], sites, "bev")
    t = rep.table.set_index(["direction", "requirement"])
    fwd = t.loc[("West → East", "core-2030")]
    assert fwd["pools"] == 5 and fwd["largest_gap_km"] == pytest.approx(50, abs=1.5)
    assert fwd["passed"] and fwd["covered_share"] == pytest.approx(1.0)
    rev = t.loc[("East → West", "core-2030")]
    assert rev["pools"] == 1 and not rev["passed"]
    assert rev["largest_gap_km"] == pytest.approx(150, abs=1.5)
    assert "East → Site w150 (150 km)" in rev["failing_stretches"]
    assert len(rep.corridors) == 2 and len(rep.stretches) == 6 + 2
    # 2 MW pools meet 2025 (1,400 kW) but not 2027 (2,800 kW) or 2030
    small = with_power(sites_at(*east), 2.0, 2)
    t2 = afir_report(g, [corridor(0, 300)], small, "bev").table
    fwd2 = t2[t2["direction"] == "West → East"].set_index("requirement")["passed"]
    assert fwd2.to_dict() == {"core-2025": True, "core-2027": False, "core-2030": False}
    # the largest gap is between pools that meet the requirement: none meets 2027, so 300 km
    gap2 = t2[t2["direction"] == "West → East"].set_index("requirement")["largest_gap_km"]
    assert gap2["core-2025"] == pytest.approx(50, abs=1.5)
    assert gap2["core-2027"] == pytest.approx(300, abs=1.5)
    write_afir_csv(rep, tmp_path / "afir.csv")
    back = pd.read_csv(tmp_path / "afir.csv")
    assert len(back) == 6 and set(back["requirement"]) == {"core-2025", "core-2027", "core-2030"}
    md = "\n".join(afir_markdown(rep))
    assert "FAIL" in md and "pass" in md


def test_h2_spacing_and_partial_share() -> None:
    g = line_graph(length_km=700)
    sites = sites_at(("h", 300.0, -200.0, float("nan")))
    sites["capacity_kg_per_day"] = 2000.0
    rep = afir_report(g, [corridor(50, 650)], sites, "h2")
    t = rep.table.set_index(["direction", "requirement"])
    row = t.loc[("West → East", "h2-core-2030")]
    # pool at km 250 of 600: stretches of 250 and 350 km, both beyond 200 km
    assert row["pools"] == 1 and not row["passed"] and row["covered_share"] == 0.0
    sites["capacity_kg_per_day"] = 500.0  # too small for 1 t/day
    rep2 = afir_report(g, [corridor(200, 500)], sites, "h2")
    row2 = rep2.table.set_index(["direction", "requirement"]).loc[("West → East", "h2-core-2030")]
    assert not row2["passed"] and "too small (500 kg/day, needs 1,000)" in row2["failing_stretches"]


def test_corridor_off_the_graph_is_skipped() -> None:
    g = line_graph()
    far = Corridor("Far", "core", ("A", "B"), (lonlat(0), (12.5, 55.7)))
    rep = afir_report(g, [far, corridor(0, 100)], sites_at(), "bev")
    assert [s[0] for s in rep.skipped] == ["Far"]
    assert set(rep.table["corridor"]) == {"Test"}
    assert "not on this scenario's road graph" in "\n".join(afir_markdown(rep))
