"""Grid operators' capacity tables: the way in (scenario, CLI), the formats and their errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from builders import grid_line
from typer.testing import CliRunner

from corridor.cli import app
from corridor.config import GridConfig, OptimiseConfig, load_scenario
from corridor.errors import InputDataError
from corridor.grid import (
    attach_grid,
    load_capacity_tables,
    read_area_polygons,
    read_capacity_table,
)
from corridor.optimise import Instance, solve
from corridor.optimise.solve import usable_sites

CRS = "EPSG:3035"
runner = CliRunner()


def _points(xy: list[tuple[float, float]], ids: list[str]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"name": ids}, geometry=[shapely.Point(x, y) for x, y in xy], crs=CRS, index=ids
    )
    gdf.index.name = "site_id"
    return gdf


def _substations(xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    ids = [f"sub-{i}" for i in range(len(xy))]
    gdf = gpd.GeoDataFrame(
        {
            "name": ids,
            "operator": "",
            "voltage_kv": 110.0,
            "country": "NL",
            "source": "test",
        },
        geometry=[shapely.Point(x, y) for x, y in xy],
        crs=CRS,
        index=pd.Index(ids, name="substation_id"),
    )
    return gdf


def _no_areas() -> gpd.GeoDataFrame:
    cols = ["area_id", "name", "country", "status", "restricted_hours", "available_mw"]
    cols += ["requested_mw", "source", "source_date", "priority"]
    return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=CRS)


# A line of 11 nodes 50 km apart along y = 3_200_000; area A holds nodes 0-5, area B nodes 6-10.
X0, Y0, STEP = 4_000_000.0, 3_200_000.0, 50_000.0
AREA_A = shapely.box(X0 - 10_000, Y0 - 10_000, X0 + 5.5 * STEP, Y0 + 10_000)
AREA_B = shapely.box(X0 + 5.5 * STEP, Y0 - 10_000, X0 + 10.5 * STEP, Y0 + 10_000)


def _area_table(path: Path, mw_a: float, mw_b: float) -> Path:
    gpd.GeoDataFrame(
        {"area_id": ["A", "B"], "offtake_capacity_mw": [mw_a, mw_b]},
        geometry=[AREA_A, AREA_B],
        crs=CRS,
    ).to_file(path)
    return path


def _line_with_grid(table: Path, volume: float = 200.0) -> Instance:
    """The two-way 200 trucks/day line with the grid columns attach_grid gives its nodes."""
    nodes = [(X0 + i * STEP, Y0) for i in range(11)]
    sites = _points(nodes, [str(i) for i in range(11)])
    subs = _substations([(x, y + 1_000) for x, y in nodes])
    subs2, areas2 = load_capacity_tables([table], subs, _no_areas())
    g = attach_grid(sites, subs2, areas2, GridConfig())
    return grid_line(
        g["headroom_mw"].to_numpy(),
        g["connection"].to_numpy(),
        g["restricted_hours"].to_numpy(),
        volume,
        substation_id=g["substation_id"].to_numpy(),
        substation_pool_mw=g["substation_spare_mw"].to_numpy(),
        area_id=g["congestion_area_id"].to_numpy(),
        area_pool_mw=g["area_spare_mw"].to_numpy(),
    )


def test_area_with_zero_mw_opens_no_chargers(tmp_path: Path) -> None:
    roomy = _line_with_grid(_area_table(tmp_path / "roomy.geojson", 50.0, 50.0))
    config = OptimiseConfig(max_sites=4, min_sites=1)
    plan = solve(roomy, config)
    in_a = {str(i) for i in range(6)}
    assert plan.valid and in_a & set(plan.sites.index)  # area A is worth charging in
    zero = _line_with_grid(_area_table(tmp_path / "zero.geojson", 0.0, 50.0))
    assert (zero.sites.loc[sorted(in_a), "headroom_mw"] == 0).all()
    assert (zero.sites.loc[sorted(in_a), "connection"] == "none").all()
    usable, excluded = usable_sites(zero, config)
    assert not in_a & set(usable) and set(excluded) == in_a
    plan0 = solve(zero, config)
    assert plan0.valid and not in_a & set(plan0.sites.index)
    assert plan0.served_trucks_per_day < plan.served_trucks_per_day


def test_queue_above_capacity_stays_non_firm(tmp_path: Path) -> None:
    # capacity above 0 that the queue uses up: congested, non-firm (not "none")
    f = tmp_path / "t.geojson"
    gpd.GeoDataFrame(
        {"area_id": ["A"], "offtake_capacity_mw": [5.0], "queue_mw": [9.0]},
        geometry=[AREA_A],
        crs=CRS,
    ).to_file(f)
    subs, areas = load_capacity_tables([f], _substations([(X0, Y0)]), _no_areas())
    g = attach_grid(_points([(X0, Y0)], ["s"]), subs, areas, GridConfig())
    assert g.loc["s", "connection"] == "non_firm" and g.loc["s", "headroom_mw"] > 0


def test_scenario_capacity_table_relative_to_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    for f in ("ops/a.csv", "ops/areas.geojson", "a.csv", "b.csv"):
        (tmp_path / f).touch()
    sc_file = tmp_path / "my.toml"
    sc_file.write_text(
        'name = "my"\n[grid]\ncapacity_table = "ops/a.csv"\ncapacity_areas = "ops/areas.geojson"\n'
    )
    sc = load_scenario(sc_file)
    assert sc.grid.capacity_table == (tmp_path / "ops" / "a.csv",)
    assert sc.grid.capacity_areas == tmp_path / "ops" / "areas.geojson"
    sc_file.write_text(f'name = "my"\n[grid]\ncapacity_table = ["a.csv", "{tmp_path}/b.csv"]\n')
    sc = load_scenario(sc_file)
    assert sc.grid.capacity_table == (tmp_path / "a.csv", tmp_path / "b.csv")
    assert GridConfig(capacity_table="x.csv").capacity_table == (Path("x.csv"),)


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_grid_command_takes_capacity_tables(tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "site_id,lon,lat,power_mw,energy_mwh_per_day\n"
        "venlo,6.1497,51.3695,4,40\n"
        "oberhausen,6.8420,51.5170,6,50\n"
    )
    table = tmp_path / "ops.csv"
    table.write_text(
        "substation_id,lon,lat,offtake_capacity_mw,queue_mw\nop-venlo,6.1497,51.3700,20,2\n"
    )
    out = tmp_path / "grid"
    res = runner.invoke(
        app, ["grid", str(sites), "--out", str(out), "--capacity-table", str(table)]
    )
    assert res.exit_code == 0, res.output
    load = pd.read_csv(out / "grid_load.csv")
    assert "op-venlo" in set(load["group_id"])
    bad = tmp_path / "bad.csv"
    bad.write_text("substation_id,lon,lat,offtake_capacity_mw\nx,6.1,51.3,-1\n")
    res = runner.invoke(
        app, ["grid", str(sites), "--out", str(tmp_path / "g2"), "--capacity-table", str(bad)]
    )
    assert res.exit_code == 2 and "bad.csv, line 2" in res.output
    assert not (tmp_path / "g2").exists()


def test_capacity_areas_join_csv_ids(tmp_path: Path) -> None:
    polys = tmp_path / "areas.geojson"
    gpd.GeoDataFrame({"area_id": ["A", "B"]}, geometry=[AREA_A, AREA_B], crs=CRS).to_file(polys)
    table = tmp_path / "t.csv"
    table.write_text("area_id,offtake_capacity_mw\nB,12\n")
    subs, areas = load_capacity_tables([table], _substations([(X0, Y0)]), _no_areas(), polys)
    assert list(areas.index) == ["B"] and areas.loc["B", "available_mw"] == 12
    assert areas.loc["B"].geometry.equals(AREA_B)
    with pytest.raises(InputDataError, match=r"t.csv, line 2.*unknown area_id 'B'"):
        read_capacity_table(table)
    assert math.isnan(float(subs["offtake_capacity_mw"].iloc[0]))


# --- formats ---------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "corridor" / "data" / "examples"
DUTCH_CSV = EXAMPLES / "nl_voedingsgebieden_FICTITIOUS.csv"
DUTCH_AREAS = EXAMPLES / "nl_voedingsgebieden_FICTITIOUS.geojson"


def _lonlat_points(lonlat: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"name": list(lonlat)},
        geometry=gpd.points_from_xy(
            [p[0] for p in lonlat.values()], [p[1] for p in lonlat.values()]
        ),
        crs="EPSG:4326",
        index=list(lonlat),
    ).to_crs(CRS)
    gdf.index.name = "site_id"
    return gdf


def test_dutch_supply_area_example_pair() -> None:
    assert "FICTITIOUS" in DUTCH_CSV.read_text(encoding="utf-8").splitlines()[1]
    assert "FICTITIOUS" in DUTCH_AREAS.read_text(encoding="utf-8")
    table = read_capacity_table(DUTCH_CSV, areas=read_area_polygons(DUTCH_AREAS))
    t = table.set_index("area_id")
    assert list(t.index) == ["FIC-001", "FIC-002", "FIC-003"] and (t["level"] == "area").all()
    assert t.loc["FIC-002", "offtake_capacity_mw"] == pytest.approx(12.5)
    assert t.loc["FIC-002", "queue_mw"] == pytest.approx(3.0)
    assert t.loc["FIC-003", "restricted_hours"] == "6-9;16-21"
    assert t.loc["FIC-001", "status"] == "congested"
    assert t.loc["FIC-002", "source"] == "FICTITIOUS example - not real grid data"
    assert t.loc["FIC-002", "source_date"] == "2025"
    subs = _substations([(4_100_000.0, 3_200_000.0)])
    subs2, areas2 = load_capacity_tables([DUTCH_CSV], subs, _no_areas(), DUTCH_AREAS)
    sites = _lonlat_points({"twente": (6.9, 52.3), "liemers": (6.1, 51.9), "venlo": (6.15, 51.4)})
    g = attach_grid(sites, subs2, areas2, GridConfig())
    assert g.loc["twente", "connection"] == "none" and g.loc["twente", "headroom_mw"] == 0
    assert g.loc["liemers", "connection"] == "firm"
    assert g.loc["liemers", "area_spare_mw"] == pytest.approx(9.5)
    assert g.loc["venlo", "connection"] == "non_firm"
    assert g.loc["venlo", "restricted_hours"] == "6-9;16-21"


def test_german_table_cp1252_kw_and_unit_column(tmp_path: Path) -> None:
    f = tmp_path / "westnetz.csv"
    f.write_bytes(
        (
            "Umspannwerk;Längengrad;Breitengrad;Netzanschlusskapazität;Einheit;Netzbetreiber\n"
            "Osnabrück;8,0472;52,2799;12500;kW;Beispielnetz\n"
            "Lingen;7,3170;52,5230;3,5;MW;Beispielnetz\n"
        ).encode("cp1252")
    )
    t = read_capacity_table(f).set_index("substation_id")
    assert list(t.index) == ["Osnabrück", "Lingen"]
    assert t.loc["Osnabrück", "offtake_capacity_mw"] == pytest.approx(12.5)
    assert t.loc["Lingen", "offtake_capacity_mw"] == pytest.approx(3.5)
    assert t.loc["Osnabrück", "name"] == "Osnabrück" and (t["level"] == "substation").all()
    # a German header with the unit in brackets, UTF-8 with BOM, ',' separated
    g = tmp_path / "bayern.csv"
    g.write_text(
        "Umspannwerk,Längengrad,Breitengrad,Netzanschlusskapazität [MW]\nPassau,13.43,48.57,7.25\n",
        encoding="utf-8-sig",
    )
    assert read_capacity_table(g)["offtake_capacity_mw"].iloc[0] == pytest.approx(7.25)


def test_kw_columns_are_converted_not_ignored(tmp_path: Path) -> None:
    f = tmp_path / "ops.csv"
    f.write_text(
        "substation_id;lon;lat;offtake_capacity_kw;queue_kw\nop-1;6,1497;51,3700;4000;9500,5\n"
    )
    t = read_capacity_table(f)
    assert t["offtake_capacity_mw"].iloc[0] == pytest.approx(4.0)
    assert t["queue_mw"].iloc[0] == pytest.approx(9.5005)
    near = _lonlat_points({"x": (6.16, 51.38)}).geometry.iloc[0]
    subs, areas = load_capacity_tables([f], _substations([(near.x, near.y)]), _no_areas())
    g = attach_grid(_lonlat_points({"s": (6.1497, 51.3700)}), subs, areas, GridConfig())
    assert g.loc["s", "substation_id"] == "op-1"
    assert g.loc["s", "congestion"] == "congested" and g.loc["s", "connection"] == "non_firm"
    assert g.loc["s", "headroom_mw"] == pytest.approx(GridConfig().congested_headroom_mw)


def test_thousands_groups_in_decimal_comma_tables(tmp_path: Path) -> None:
    f = tmp_path / "ops.csv"
    f.write_text(
        "substation_id;lon;lat;offtake_capacity_mw;queue_mw\n"
        "op-1;6,1497;51,3700;1.500;1.500,5\n"
        "op-2;6,2;51,4;12.345.678,25;0,5\n"
    )
    t = read_capacity_table(f).set_index("substation_id")
    assert t.loc["op-1", "offtake_capacity_mw"] == 1500.0
    assert t.loc["op-1", "queue_mw"] == 1500.5
    assert t.loc["op-2", "offtake_capacity_mw"] == 12_345_678.25
    assert t.loc["op-2", "queue_mw"] == 0.5


@pytest.mark.parametrize(
    ("cells", "expect_mw"),
    [
        (["1.500", "2.25"], [1.5, 2.25]),  # the column has decimal points: 1.500 is 1.5
        (["1.500", "1.500.000"], [1500.0, 1_500_000.0]),  # it groups thousands
        (["1.500", "12"], None),  # neither: ambiguous, an error
    ],
)
def test_thousands_or_decimal_point_in_semicolon_tables_without_decimal_commas(
    tmp_path: Path, cells: list[str], expect_mw: list[float] | None
) -> None:
    g = tmp_path / "points.csv"
    g.write_text(
        "substation_id;lon;lat;offtake_capacity_mw\n"
        f"op-1;6.1497;51.370;{cells[0]}\nop-2;6.2;51.4;{cells[1]}\n"  # 51.370 is no MW
    )
    if expect_mw is None:
        with pytest.raises(
            InputDataError,
            match=r"points.csv, line 2, column offtake_capacity_mw: '1.500' is ambiguous in a "
            r"';'-separated file without decimal commas: 1500 .* or 1.5 .*; write 1500 .* or "
            r"1,500",
        ):
            read_capacity_table(g)
    else:
        t = read_capacity_table(g)
        assert t["offtake_capacity_mw"].tolist() == expect_mw
    # kW columns follow the same rule, before the kW → MW conversion
    k = tmp_path / "kw.csv"
    k.write_text("substation_id;lon;lat;queue_kw\nop-1;6.1;51.3;1.500\nop-2;6.2;51.4;2.000.000\n")
    assert read_capacity_table(k)["queue_mw"].tolist() == [1.5, 2000.0]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "area_id,offtake_capacity_mw,colour\nA,5,red\n",
            r"t.csv: unknown column 'colour'; known columns .*offtake_capacity",
        ),
        (
            "area_id,offtake_capacity_mw\nA,inf\n",
            r"t.csv, line 2, column offtake_capacity_mw: .*finite",
        ),
        ("area_id;queue_mw\nA;NaN\n", r"t.csv, line 2, column queue_mw: .*finite"),
        ("area_id,offtake_capacity\nA,5\n", r"line 2, column offtake_capacity: no unit"),
        ("area_id,queue,unit\nA,5,GW\n", r"line 2, column unit: unit must be MW or kW"),
        ("area_id,available_mw,offtake_capacity_mw\nA,5,5\n", r"both give offtake_capacity"),
        ("area_id,offtake_capacity_mw\n\nA,1\nA,-2\n", r"t.csv, line 4, column"),
        (
            "area_id,offtake_capacity_mw\nA,1\n\nA,2\n",
            r"t.csv, line 4, column area_id: area 'A' is given twice \(line 2 and line 4\)",
        ),
        (
            "substation_id;lon;lat;offtake_capacity_mw\nop-1;6,1;51,3;4\nop-2;6,2;51,4;4\n"
            "op-1;6,1;51,3;5\n",
            r"t.csv, line 4, column substation_id: substation 'op-1' is given twice "
            r"\(line 2 and line 4\)",
        ),
        (
            "area_id;offtake_capacity_mw;queue_mw\nA;1,5;2.25\n",
            r"t.csv, line 2, column queue_mw: '2.25' has a decimal point but the file uses "
            r"decimal commas \('1,5' on line 2\)",
        ),
    ],
)
def test_format_errors_name_file_row_and_column(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "t.csv"
    f.write_text(text)
    areas = gpd.GeoDataFrame({"area_id": ["A"]}, geometry=[AREA_A], crs=CRS)
    with pytest.raises(InputDataError, match=match):
        read_capacity_table(f, areas=areas)


@pytest.mark.parametrize(
    "case", ["unknown_id", "overlap", "negative", "unknown_column", "duplicate"]
)
@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_bad_tables_exit_2_on_one_line(tmp_path: Path, case: str) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,lon,lat,power_mw,energy_mwh_per_day\nv,6.1497,51.3695,4,40\n")
    table, polys = tmp_path / "ops.csv", tmp_path / "areas.geojson"
    gpd.GeoDataFrame({"area_id": ["A", "B"]}, geometry=[AREA_A, AREA_B], crs=CRS).to_file(polys)
    table.write_text("Voedingsgebied ID;Beschikbare transportcapaciteit afname (MW)\nA;1,5\n")
    expect = {
        "unknown_id": "ops.csv, line 2, column Voedingsgebied ID: unknown area_id 'C'",
        "overlap": "areas.geojson, feature 1 (area 'A') overlaps",
        "negative": "ops.csv, line 2, column Beschikbare transportcapaciteit afname (MW)",
        "unknown_column": "unknown column 'Kleur'",
        "duplicate": "ops.csv, line 3, column Voedingsgebied ID: area 'A' is given twice "
        "(line 2 and line 3)",
    }[case]
    if case == "unknown_id":
        table.write_text("Voedingsgebied ID;Beschikbare transportcapaciteit afname (MW)\nC;1,5\n")
    elif case == "overlap":
        bigger = shapely.box(*AREA_B.buffer(60_000).bounds)
        gpd.GeoDataFrame({"area_id": ["A", "B"]}, geometry=[AREA_A, bigger], crs=CRS).to_file(polys)
    elif case == "negative":
        table.write_text("Voedingsgebied ID;Beschikbare transportcapaciteit afname (MW)\nA;-1,5\n")
    elif case == "duplicate":
        table.write_text(
            "Voedingsgebied ID;Beschikbare transportcapaciteit afname (MW)\nA;1,5\nA;2,5\n"
        )
    else:
        table.write_text("Voedingsgebied ID;Kleur\nA;rood\n")
    res = runner.invoke(
        app,
        [
            "grid",
            str(sites),
            "--out",
            str(tmp_path / "g"),
            "--capacity-table",
            str(table),
            "--capacity-areas",
            str(polys),
        ],
    )
    assert res.exit_code == 2, res.output
    line = [ln for ln in res.output.splitlines() if "error:" in ln]
    assert len(line) == 1 and expect in line[0], res.output
    assert not (tmp_path / "g").exists()


# --- hours -----------------------------------------------------------------------------------


def test_one_hours_parser_takes_commas_and_semicolons() -> None:
    from corridor.grid import hours
    from corridor.grid.load import connection_load
    from corridor.optimise.solve import effective_headroom
    from corridor.optimise.solve import parse_hours as solve_hours

    comma, semi = hours.parse_hours("6-9,16-21"), hours.parse_hours(" 6-9 ; 16-21 ")
    assert (comma == semi).all() and comma.sum() == 8
    assert hours.format_hours(semi) == "6-9,16-21"
    assert hours.hour_set("22-2;5-6") == frozenset({22, 23, 0, 1, 5})
    assert solve_hours("6-9;16-21") == hours.hour_set("6-9,16-21")
    assert not hours.parse_hours(None).any() and not hours.parse_hours("").any()
    for bad in ("6-6", "25-3", "6-9/16-21", "morning"):
        with pytest.raises(InputDataError, match=r"expected ranges"):
            hours.parse_hours(bad, "restricted hours")
    sites = pd.DataFrame(
        {
            "headroom_mw": [4.0, 4.0],
            "connection": ["non_firm", "non_firm"],
            "restricted_hours": ["6-9,16-21", "6-9;16-21"],
            "power_mw": [4.0, 4.0],
            "energy_mwh_per_day": [20.0, 20.0],
            "substation_id": ["S", "S"],
            "congestion_area_id": ["X", "X"],
        },
        index=pd.Index(["a", "b"], name="site_id"),
    )
    got = effective_headroom(sites, OptimiseConfig(charging_peak_hours="6-22"))
    assert got.to_dict() == {"a": 2.0, "b": 2.0}
    per_sub, _ = connection_load(sites)
    assert per_sub["restricted_hours"].iloc[0] == "6-9,16-21"


# --- report and pictures ---------------------------------------------------------------------


def _report_sites() -> gpd.GeoDataFrame:
    """Three sites: two firm on substation S1 (pool 6 MW) in area X, one non-firm on S2."""
    return gpd.GeoDataFrame(
        {
            "site_id": ["A", "B", "C"],
            "power_mw": [8.0, 6.0, 4.0],
            "energy_mwh_per_day": [60.0, 40.0, 20.0],
            "substation_id": ["S1", "S1", "S2"],
            "congestion_area_id": ["X", "X", "X"],
            "headroom_mw": [8.0, 6.0, 4.0],
            "restricted_hours": ["", "", "6-9;16-21"],
            "connection": ["firm", "firm", "non_firm"],
            "substation_spare_mw": [6.0, 6.0, math.nan],
            "area_spare_mw": [30.0, 30.0, 30.0],
        },
        geometry=[
            shapely.Point(X0, Y0),
            shapely.Point(X0 + 2_000, Y0),
            shapely.Point(X0, Y0 + 5e3),
        ],
        crs=CRS,
    )


def test_report_counts_the_shared_pool_and_the_battery_energy() -> None:
    from corridor.grid import connection_load

    profile = np.zeros(24)
    profile[10:14] = 0.25  # the day's energy in four hours
    per_sub, per_area = connection_load(_report_sites(), profile)
    s1 = per_sub.set_index("substation_id").loc["S1"]
    assert s1["spare_mw"] == 6 and s1["site_headroom_mw"] == 14
    assert s1["installed_over_spare_mw"] == pytest.approx(8.0)
    assert s1["headroom_mw"] == 6  # the pool binds
    # A: 15 MW wanted, 8 installed; B: 10 wanted, 6 installed -> 14 MW in hours 10-13
    assert s1["hours_over_headroom"] == "10-14" and s1["n_hours_over_headroom"] == 4
    assert s1["energy_over_headroom_mwh"] == pytest.approx(4 * 8.0)
    # 32 MWh above 6 MW in four hours; 20 h x 6 MW of room to recharge: a 32 MWh battery
    assert s1["battery_needed_mwh"] == pytest.approx(32.0)
    s2 = per_sub.set_index("substation_id").loc["S2"]
    assert math.isnan(s2["spare_mw"]) and s2["headroom_mw"] == 4
    # C: 4 MW in 10-14, outside its restricted hours 6-9;16-21: fits its own 4 MW
    assert s2["battery_needed_mwh"] == 0 and s2["headroom_in_restricted_window_mw"] == 0
    x = per_area.set_index("congestion_area_id").loc["X"]
    assert x["spare_mw"] == 30 and x["headroom_mw"] == pytest.approx(4 + 14)
    # load in the restricted window must come from a battery: C charging 6-9 needs 3 x 1 MWh
    shifted = profile.copy()
    shifted[6:9], shifted[10:13] = 0.05, 0.2
    _, per_area2 = connection_load(_report_sites().iloc[[2]], shifted)
    c = per_area2.iloc[0]
    assert c["hours_over_headroom"] == "6-9" and c["battery_needed_mwh"] == pytest.approx(3.0)
    flat = np.full(24, 10.0)
    from corridor.grid.load import _battery_needed

    assert math.isnan(_battery_needed(flat, 9.0)) and _battery_needed(flat, 10.0) == 0


def test_no_battery_can_cover_is_an_empty_cell_and_a_flag_not_inf(tmp_path: Path) -> None:
    import warnings

    from corridor._files import write_outputs
    from corridor.grid import connection_load, grid_load_writers

    sites = _report_sites()
    sites["energy_mwh_per_day"] = [200.0, 40.0, 20.0]  # S1: 240 MWh/day > 24 h x 6 MW pool
    per_sub, per_area = connection_load(sites)
    s1 = per_sub.set_index("substation_id").loc["S1"]
    assert math.isnan(s1["battery_needed_mwh"]) and not s1["battery_can_cover"]
    assert per_sub.set_index("substation_id").loc["S2", "battery_can_cover"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pyogrio "NaN of Infinity value found"
        write_outputs(tmp_path / "g", grid_load_writers(per_sub, per_area))
    table = pd.read_csv(tmp_path / "g" / "grid_load.csv")
    assert not np.isinf(table.select_dtypes("number").to_numpy()).any()
    row = table[(table["level"] == "substation") & (table["group_id"] == "S1")].iloc[0]
    assert math.isnan(row["battery_needed_mwh"]) and not row["battery_can_cover"]
    feats = json.loads((tmp_path / "g" / "grid_load.geojson").read_text())["features"]
    (s1_feat,) = [f for f in feats if f["properties"]["group_id"] == "S1"]
    assert s1_feat["properties"]["battery_needed_mwh"] is None
    assert s1_feat["properties"]["battery_can_cover"] is False


def _write_report(out: Path) -> list[Path]:
    from corridor._files import write_outputs
    from corridor.grid import connection_load, grid_load_writers, site_loads
    from corridor.outputs.grid_report import grid_chart_writers, grid_report_html

    sites = _report_sites()
    per_sub, per_area = connection_load(sites)
    writers = {
        **grid_load_writers(per_sub, per_area),
        **grid_chart_writers(per_sub, per_area, site_loads(sites), {"X": "uniform 5 MW"}),
    }
    page = grid_report_html(per_sub, per_area, "test <report>", assumptions={"X": "uniform 5 MW"})
    writers["grid_report.html"] = lambda p: p.write_text(page, encoding="utf-8")
    return write_outputs(out, writers)


def test_report_writes_one_chart_per_group_and_the_page(tmp_path: Path) -> None:
    files = _write_report(tmp_path / "out")
    names = {f.name for f in files}
    assert {
        "grid_chart_substation_S1.png",
        "grid_chart_substation_S2.png",
        "grid_chart_area_X.png",
        "grid_report.html",
        "grid_load.csv",
    } <= names
    png = (tmp_path / "out" / "grid_chart_substation_S1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "out" / "grid_report.html").read_text(encoding="utf-8")
    assert "test &lt;report&gt;" in page and "© OpenStreetMap contributors" in page
    assert page.count("<img ") == 3 and "ASSUMPTION" in page


@pytest.mark.browser
def test_report_page_opens_in_chromium(tmp_path: Path, chromium) -> None:
    _write_report(tmp_path / "out")
    page = chromium.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((tmp_path / "out" / "grid_report.html").as_uri())
    page.wait_for_load_state("load")
    sizes = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(sizes) == 3
    assert all(done and w > 100 and h > 100 for done, w, h in sizes), sizes
    assert "OpenStreetMap" in page.inner_text("footer")
    assert not errors, errors
    page.close()


# --- what-if ---------------------------------------------------------------------------------


def test_grid_value_is_monotone_in_the_added_mw(tmp_path: Path) -> None:
    from corridor.assess.grid_value import binding_groups, grid_value, grid_value_markdown

    # area A with a shared 3 MW pool (binds), area B roomy
    inst = _line_with_grid(_area_table(tmp_path / "t.geojson", 3.0, 50.0), volume=1000.0)
    config = OptimiseConfig(max_sites=4, min_sites=1)
    plan = solve(inst, config)
    found = binding_groups(inst, plan, config)
    pairs = set(zip(found["level"], found["group_id"], strict=True))
    assert ("area", "A") in pairs
    assert "pool used up" in found.set_index("group_id").at["A", "why"]
    table = grid_value(inst, plan, config, groups=[("area", "A"), ("area", "B")])
    assert len(table) == 6 and (table["status"] == "optimal").all()
    for _, g in table.groupby("group_id"):
        more = g.sort_values("added_mw")["more_trucks_per_day"].to_numpy()
        assert (more >= -1e-6).all() and (np.diff(more) >= -1e-6).all()
    a = table[table["group_id"] == "A"].set_index("added_mw")["more_trucks_per_day"]
    assert a[10.0] > a[1.0] > 0  # more chargers where the pool binds serve more trucks
    # an area at 0 MW binds with its sites left out; raising it lets them open
    zero = _line_with_grid(_area_table(tmp_path / "z.geojson", 0.0, 50.0))
    plan0 = solve(zero, config)
    assert (
        "sites left out" in binding_groups(zero, plan0, config).set_index("group_id").at["A", "why"]
    )
    more0 = grid_value(zero, plan0, config, groups=[("area", "A")])["more_trucks_per_day"]
    assert (np.diff(more0.to_numpy()) >= -1e-6).all() and more0.iloc[-1] > 0
    lines = grid_value_markdown(table)
    assert any(line.startswith("| area | A |") for line in lines)
    assert table["binding"].all()


def test_grid_value_with_no_gain_is_not_called_binding(tmp_path: Path) -> None:
    from corridor.assess.grid_value import grid_value, grid_value_markdown

    # one truck a day: the 3 MW pool of area A is plenty, every raise re-solves to +0.0
    inst = _line_with_grid(_area_table(tmp_path / "t.geojson", 3.0, 50.0), volume=1.0)
    config = OptimiseConfig(max_sites=4, min_sites=1)
    plan = solve(inst, config)
    table = grid_value(inst, plan, config, groups=[("area", "A")])
    assert table["status"].isin(["optimal", "not re-solved"]).all()
    assert (table["more_trucks_per_day"].abs() <= 1e-6).all() and not table["binding"].any()
    lines = grid_value_markdown(table)
    assert lines[0].startswith("No substation or congestion area binds the plan")
    assert lines[1] == (
        "At their limit but not binding (more headroom serves no more trucks): area A (asked)."
    )
    assert not any(line.startswith("| area |") for line in lines)


def test_grid_value_skips_resolves_that_cannot_change_an_uncapacitated_plan(
    tmp_path: Path,
) -> None:
    from corridor.assess.grid_value import grid_value

    inst = _line_with_grid(_area_table(tmp_path / "t.geojson", 50.0, 50.0))
    config = OptimiseConfig(max_sites=4, min_sites=1, capacity_in_model=False)
    plan = solve(inst, config)
    table = grid_value(inst, plan, config, groups=[("area", "B")])
    assert (table["status"] == "not re-solved").all() and (table["more_trucks_per_day"] == 0).all()


def test_grid_value_skips_resolves_when_the_capacitated_plan_is_at_the_capacity_free_bound(
    tmp_path: Path,
) -> None:
    from corridor.assess.grid_value import grid_value, raised_instance

    inst = _line_with_grid(_area_table(tmp_path / "t.geojson", 50.0, 50.0))
    config = OptimiseConfig(max_sites=4, min_sites=1)  # capacity in the model (default)
    plan = solve(inst, config)
    assert plan.model_stats["proof"] == "relaxation"
    table = grid_value(inst, plan, config, groups=[("area", "A"), ("area", "B")])
    assert (table["status"] == "not re-solved").all() and (table["more_trucks_per_day"] == 0).all()
    # the skip is right: re-solving with more headroom serves exactly as many trucks
    for level, gid in [("area", "A"), ("area", "B")]:
        again = solve(raised_instance(inst, level, gid, 10.0), config)
        assert again.status == "optimal"
        assert again.served_trucks_per_day == pytest.approx(plan.served_trucks_per_day)


def test_relaxation_sites_search_returns_a_deliverable_plan_with_its_gap(tmp_path: Path) -> None:
    # the shared 3 MW pool binds: the plan on the capacity-free optimum's sites cannot reach it
    inst = _line_with_grid(_area_table(tmp_path / "t.geojson", 3.0, 50.0), volume=1000.0)
    full = solve(inst, OptimiseConfig(max_sites=4, min_sites=1))
    quick = solve(
        inst, OptimiseConfig(max_sites=4, min_sites=1, capacity_search="relaxation_sites")
    )
    assert quick.model_stats["proof"] == "relaxation_sites" and quick.valid
    bound = quick.model_stats["relaxation_objective"]
    assert quick.best_bound == pytest.approx(bound)
    assert quick.served_trucks_per_day <= full.served_trucks_per_day + 1e-6 <= bound + 1e-6
    if quick.status == "feasible":
        assert quick.gap == pytest.approx((bound - quick.objective) / quick.objective)
    else:
        assert quick.objective == pytest.approx(bound)
    assert set(quick.sites.index) <= set(
        solve(inst, OptimiseConfig(max_sites=4, min_sites=1, capacity_in_model=False)).sites.index
    )


# --- Germany ---------------------------------------------------------------------------------


def test_germany_assumption_uniform_and_per_land_labelled(tmp_path: Path, catalogue) -> None:
    from corridor.config import GermanyAssumption
    from corridor.grid import (
        apply_germany_assumption,
        default_congestion_areas,
        load_substations,
    )
    from corridor.workflows import _assumptions

    cat = catalogue
    areas = default_congestion_areas(cat, countries=("NL", "DE"))
    same = apply_germany_assumption(areas, None)
    assert (same["assumption"] == "").all()
    assumed = apply_germany_assumption(
        areas, GermanyAssumption(spare_mw=20.0, spare_mw_by_land={"DEA": 5.0})
    )
    nrw, bavaria = assumed.loc["de-nuts2-DEA1"], assumed.loc["de-nuts2-DE21"]
    assert nrw["available_mw"] == 5 and bavaria["available_mw"] == 20
    assert nrw["source"].startswith("ASSUMPTION:") and nrw["name"].endswith("(ASSUMPTION)")
    assert "per-Land value for DEA" in nrw["assumption"]
    assert "uniform" in bavaria["assumption"]
    nl = assumed[assumed["country"] == "NL"]
    assert (nl["assumption"] == "").all() and (nl["status"] != "available").any()
    subs = load_substations(cat, GridConfig())
    g = attach_grid(_lonlat_points({"ruhr": (7.0, 51.45)}), subs, assumed, GridConfig())
    assert g.loc["ruhr", "area_spare_mw"] == 5 and g.loc["ruhr", "headroom_mw"] == 5
    assert "ASSUMPTION" in g.loc["ruhr", "grid_source"]
    labels = _assumptions(g, subs, assumed)
    assert "de-nuts2-DEA1" in labels and g.loc["ruhr", "substation_id"] in labels
    with pytest.raises(ValueError, match="unknown Land codes"):
        GermanyAssumption(spare_mw_by_land={"NRW": 5.0})
    sc_file = tmp_path / "de.toml"
    sc_file.write_text(
        'name = "de"\n[grid.germany_assumption]\nspare_mw = 12.5\nspare_mw_by_land = {DE9 = 3.0}\n'
    )
    sc = load_scenario(sc_file)
    assert sc.grid.germany_assumption.spare_mw_by_land == {"DE9": 3.0}


def test_new_substation_far_offshore_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "ops.csv"
    # about 200 km off the coast of Noord-Holland, and one with lon/lat swapped
    near = _lonlat_points({"x": (4.75, 52.6)}).geometry.iloc[0]
    subs = _substations([(near.x, near.y)])
    f.write_text("substation_id,lon,lat,offtake_capacity_mw\nsea,1.97,53.3,5\n")
    with pytest.raises(InputDataError, match=r"ops.csv, substation 'sea'.* is 2\d\d km from"):
        load_capacity_tables([f], subs, _no_areas())
    f.write_text("substation_id,lon,lat,offtake_capacity_mw\nswapped,52.6,4.75,5\n")
    with pytest.raises(InputDataError, match=r"swapped"):
        load_capacity_tables([f], subs, _no_areas())
