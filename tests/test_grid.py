"""Tests of corridor.grid on the real substation layers and the shipped congestion layer."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from corridor._files import MANIFEST
from corridor.catalogue import Catalogue
from corridor.config import GridConfig
from corridor.errors import InputDataError
from corridor.grid import (
    apply_capacity_table,
    attach_grid,
    connection_load,
    default_congestion_areas,
    format_hours,
    load_charging_profile,
    load_substations,
    parse_hours,
    parse_voltage_kv,
    peak_shave,
    read_capacity_table,
    write_grid_load,
)

CRS = "EPSG:3035"


@pytest.fixture(scope="module")
def substations(catalogue: Catalogue) -> gpd.GeoDataFrame:
    return load_substations(catalogue, GridConfig())


@pytest.fixture(scope="module")
def areas(catalogue: Catalogue) -> gpd.GeoDataFrame:
    return default_congestion_areas(catalogue)


def _sites(lonlat: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    pts = gpd.points_from_xy([p[0] for p in lonlat.values()], [p[1] for p in lonlat.values()])
    gdf = gpd.GeoDataFrame(
        {"name": list(lonlat)}, geometry=pts, crs="EPSG:4326", index=list(lonlat)
    ).to_crs(CRS)
    gdf.index.name = "site_id"
    return gdf


def test_parse_voltage_and_hours() -> None:
    kv = parse_voltage_kv(pd.Series(["110000;380000", "110", "medium", None, "20000;110000"]))
    assert kv.iloc[0] == 380 and kv.iloc[1] == 110 and np.isnan(kv.iloc[2])
    assert np.isnan(kv.iloc[3]) and kv.iloc[4] == 110
    mask = parse_hours("6-9,16-21")
    assert mask.sum() == 8 and mask[6] and not mask[9] and mask[20] and not mask[21]
    assert format_hours(mask) == "6-9,16-21"
    assert parse_hours("22-6").sum() == 8
    with pytest.raises(ValueError, match="expected ranges"):
        parse_hours("morning")


def test_real_substations(substations: gpd.GeoDataFrame) -> None:
    s = substations
    assert s.index.is_unique and s.crs.to_string() == CRS
    counts = s["source"].value_counts()
    assert counts["de_substations"] > 3500
    assert counts["nl_substations_2016"] > 250  # heuristic file: incl. 150/110 kV
    assert {"DE", "NL", "DK"} <= set(s["country"])
    # voltages are kV, not V
    assert s["voltage_kv"].between(1, 800).all() or s["voltage_kv"].isna().any()
    assert s["voltage_kv"].max() <= 800 and s["voltage_kv"].median() >= 110
    assert s.index.str.match(r"^(de-egon-|nl-osm2016-|dk-osm2016-)").all()


def test_default_congestion_layer(areas: gpd.GeoDataFrame) -> None:
    nl = areas[areas["country"] == "NL"]
    assert len(nl) == 12
    assert set(nl["status"]) == {"congested", "limited"}
    assert nl.loc["nl-prov-NL42", "available_mw"] == 1900
    assert nl.loc["nl-prov-NL41", "requested_mw"] == 3160
    assert (nl["source_date"] == "2024-12").all() and (nl["source"].str.len() > 20).all()
    assert (areas[areas["country"] == "DE"]["status"] == "unknown").all()


def test_attach_grid_rule(substations, areas) -> None:
    sites = _sites(
        {
            "venlo": (6.17, 51.37),  # Limburg: congested (1,900 < 2,150 MW)
            "groningen-east": (7.0, 53.2),  # limited
            "ruhr": (7.0, 51.45),  # Germany: unknown
        }
    )
    cfg = GridConfig()
    g = attach_grid(sites, substations, areas, cfg)
    assert list(g.index) == list(sites.index)
    v = g.loc["venlo"]
    assert v["congestion"] == "congested" and v["connection"] == "non_firm"
    assert v["headroom_mw"] == pytest.approx(cfg.congested_headroom_mw)
    assert v["restricted_hours"] == "6-9,16-21" and v["congestion_area_id"] == "nl-prov-NL42"
    gr = g.loc["groningen-east"]
    assert gr["congestion"] == "limited" and gr["connection"] == "firm"
    r = g.loc["ruhr"]
    assert r["congestion"] == "unknown" and r["restricted_hours"] == ""
    assert r["headroom_mw"] == pytest.approx(min(cfg.default_headroom_mw, cfg.mv_max_power_mw))
    # distance is the real nearest substation's
    d = substations.distance(sites.geometry.loc["ruhr"]).min() / 1000
    assert r["grid_distance_km"] == pytest.approx(d)
    assert g.loc[g["grid_distance_km"] <= cfg.mv_max_distance_km, "connection_level"].eq("MV").all()


def test_existing_hpc_connection_is_firm_headroom_and_cheaper(substations, areas) -> None:
    sites = _sites({"venlo": (6.17, 51.37), "venlo-hpc": (6.18, 51.37), "ruhr": (7.0, 51.45)})
    sites["existing_power_mw"] = [np.nan, 6.0, 2.0]  # known connections (charger register)
    cfg = GridConfig(new_connection_cost_eur=400_000.0, existing_connection_cost_share=0.25)
    g = attach_grid(sites, substations, areas, cfg)
    # congested Limburg: a new site gets non-firm 4 MW; a built 6 MW connection stays firm
    assert g.loc["venlo", "connection"] == "non_firm"
    assert g.loc["venlo-hpc", "connection"] == "firm"
    assert g.loc["venlo-hpc", "headroom_mw"] == pytest.approx(6.0)
    assert "Bundesnetzagentur" in g.loc["venlo-hpc", "grid_source"]
    # a smaller known connection does not lower the headroom
    assert g.loc["ruhr", "headroom_mw"] == pytest.approx(cfg.default_headroom_mw)
    assert list(g["cost_eur"]) == [400_000.0, 100_000.0, 100_000.0]


def test_capacity_table_csv_overrides(tmp_path, substations, areas) -> None:
    sub_id = substations.index[0]
    f = tmp_path / "ops.csv"
    f.write_text(
        "area_id,substation_id,lon,lat,status,offtake_capacity_mw,queue_mw,restricted_hours,source\n"
        "nl-prov-NL11,,,,available,50,10,,Enexis 2025-01\n"
        f",{sub_id},,,,6,2,,\n"
        ",new-sub,7.0,51.45,,0.5,3,16-21,\n"
    )
    table = read_capacity_table(f, areas=areas, substations=substations)
    assert list(table["level"]) == ["area", "substation", "substation"]
    assert list(table["status"]) == ["available", "available", "congested"]
    subs2, areas2 = apply_capacity_table(table, substations, areas)
    assert areas2.loc["nl-prov-NL11", "status"] == "available"
    assert areas2.loc["nl-prov-NL11", "priority"] == 1
    assert subs2.loc[sub_id, "offtake_capacity_mw"] == 6
    assert "new-sub" in subs2.index
    site_at_new = _sites({"s": (7.0, 51.45)})
    g = attach_grid(site_at_new, subs2, areas2, GridConfig())
    assert g.loc["s", "substation_id"] == "new-sub"
    assert g.loc["s", "congestion"] == "congested" and g.loc["s", "restricted_hours"] == "16-21"
    # the area with 40 MW spare: firm, capped by the MV cap
    g2 = attach_grid(_sites({"g": (7.0, 53.2)}), subs2, areas2, GridConfig())
    assert g2.loc["g", "connection"] == "firm" and g2.loc["g", "congestion"] == "available"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "area_id,offtake_capacity_mw\nnl-prov-NL99,5\n",
            r"ops.csv, line 2, column area_id: unknown area_id",
        ),
        (
            "area_id,offtake_capacity_mw\nnl-prov-NL11,5\nnl-prov-NL12,-3\n",
            r"line 3, column offtake_capacity_mw: must be a finite number >= 0, got '-3'",
        ),
        ("area_id,queue_mw\nnl-prov-NL11,lots\n", r"line 2, column queue_mw: must be a number"),
        (
            "area_id,restricted_hours\nnl-prov-NL11,evening\n",
            r"line 2, column restricted_hours: restricted hours",
        ),
        (
            "substation_id,offtake_capacity_mw\nnope,5\n",
            r"line 2, column substation_id: unknown substation_id 'nope'",
        ),
        ("area_id,status\nnl-prov-NL11,red\n", r"line 2, column status: status must be one of"),
    ],
)
def test_capacity_table_csv_errors(tmp_path, areas, substations, text, match) -> None:
    f = tmp_path / "ops.csv"
    f.write_text(text)
    with pytest.raises(InputDataError, match=match):
        read_capacity_table(f, areas=areas, substations=substations)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_capacity_table_geojson_errors(tmp_path) -> None:
    a = shapely.box(4_000_000, 3_000_000, 4_010_000, 3_010_000)
    b = shapely.box(4_005_000, 3_000_000, 4_015_000, 3_010_000)  # overlaps a by 25 km²
    c = shapely.box(4_010_000, 3_000_000, 4_020_000, 3_010_000)  # touches a only
    gdf = gpd.GeoDataFrame(
        {"area_id": ["A", "B"], "offtake_capacity_mw": [5.0, 7.0]}, geometry=[a, b], crs=CRS
    )
    f = tmp_path / "areas.geojson"
    gdf.to_file(f)
    with pytest.raises(InputDataError, match=r"areas.geojson, feature 1 \(area 'A'\) overlaps"):
        read_capacity_table(f)
    gdf.geometry = [a, c]
    gdf.to_file(f)
    ok = read_capacity_table(f)
    assert list(ok["area_id"]) == ["A", "B"] and (ok["level"] == "area").all()
    # projected coordinates without a CRS
    nocrs = tmp_path / "nocrs.geojson"
    nocrs.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
        '{"area_id":"A","offtake_capacity_mw":5},"geometry":{"type":"Point",'
        '"coordinates":[4000000,3000000]}}]}'
    )
    with pytest.raises(InputDataError, match=r"nocrs.geojson.*CRS"):
        read_capacity_table(nocrs)
    gpkg = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame({"area_id": ["A"]}, geometry=[a]).to_file(gpkg)
    with pytest.raises(InputDataError, match=r"nocrs.gpkg: no CRS"):
        read_capacity_table(gpkg)


def test_attach_requires_crs(substations, areas) -> None:
    sites = gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(0, 0)])
    with pytest.raises(InputDataError, match="sites have no CRS"):
        attach_grid(sites, substations, areas, GridConfig())


def _two_sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": ["A", "B"],
            "power_mw": [8.0, 10.0],
            "energy_mwh_per_day": [40.0, 20.0],
            "substation_id": ["S1", "S1"],
            "congestion_area_id": ["X", "X"],
            "headroom_mw": [6.0, 4.0],
            "restricted_hours": ["", "16-21"],
            "connection": ["firm", "non_firm"],
        },
        geometry=[Point(4_000_000, 3_000_000), Point(4_002_000, 3_000_000)],
        crs=CRS,
    )


def test_connection_load_by_hand() -> None:
    # hours 12-13: a quarter of the day's energy each; 14-23: 5 % each; night: nothing
    profile = np.zeros(24)
    profile[12:14] = 0.25
    profile[14:24] = 0.05
    per_sub, per_area = connection_load(_two_sites(), profile, battery_mwh=2.0)
    s = per_sub.set_index("substation_id").loc["S1"]
    # A: 10 MW wanted at 12-13, capped at 8 MW (4 MWh unserved), 2 MW after; B: 5 MW then 1 MW
    assert s["n_sites"] == 2 and s["site_ids"] == "A;B"
    assert s["installed_mw"] == 18
    assert s["load_mw_12"] == pytest.approx(13) and s["load_mw_15"] == pytest.approx(3)
    assert s["load_mw_03"] == 0
    assert s["daily_mwh"] == pytest.approx(8 + 8 + 5 + 5 + 10 * 3)
    assert s["unserved_mwh"] == pytest.approx(4)
    assert s["peak_mw"] == pytest.approx(13) and s["peak_hour"] == 12
    assert s["headroom_mw"] == 10 and s["hours_over_headroom"] == "12-14"
    assert s["restricted_hours"] == "16-21"
    assert s["hours_loaded_in_restricted_window"] == "16-21"
    assert s["load_in_restricted_window_mwh"] == pytest.approx(5)  # B: 1 MW x 5 h
    # 2 x 2 MWh / 2 x 2 MW: covers 2 MW above 11 MW in both peak hours (4 MWh), recharges after
    assert s["battery_mwh"] == 4 and s["peak_with_battery_mw"] == pytest.approx(11, abs=1e-5)
    assert s["battery_shaves_mw"] == pytest.approx(2, abs=1e-5)
    assert s["hours_over_headroom_with_battery"] == "12-14"
    assert per_area.set_index("congestion_area_id").loc["X", "daily_mwh"] == pytest.approx(56)
    assert per_sub.geometry.iloc[0].equals(Point(4_001_000, 3_000_000))


def test_peak_shave_limits() -> None:
    load = np.r_[np.zeros(12), [10.0, 10.0], np.zeros(10)]
    assert peak_shave(load, 0.0, 5.0) == 10
    assert peak_shave(load, 4.0, 1.0) == pytest.approx(9)  # power-limited
    assert peak_shave(load, 4.0, 10.0) == pytest.approx(8)  # energy-limited
    flat = np.full(24, 5.0)
    assert peak_shave(flat, 100.0, 100.0) == pytest.approx(5)  # nothing to recharge from


def test_write_grid_load_and_errors(tmp_path) -> None:
    per_sub, per_area = connection_load(_two_sites(), None)
    assert per_sub["daily_mwh"].iloc[0] == pytest.approx(60 - per_sub["unserved_mwh"].iloc[0])
    csv_path, gj_path = write_grid_load(per_sub, per_area, tmp_path / "out")
    table = pd.read_csv(csv_path)
    assert list(table["level"]) == ["substation", "area"]
    assert list(table["group_id"]) == ["S1", "X"]
    gj = gpd.read_file(gj_path)
    assert len(gj) == 2 and gj.crs.to_epsg() == 4326
    hidden = [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    assert hidden == [MANIFEST]  # no staging folder left, only the list of written files
    bad = _two_sites().drop(columns="headroom_mw")
    with pytest.raises(InputDataError, match=r"site table lacks column\(s\) \['headroom_mw'\]"):
        connection_load(bad, None)
    with pytest.raises(InputDataError, match="24 non-negative shares"):
        connection_load(_two_sites(), np.ones(23))
    prof = tmp_path / "p.csv"
    prof.write_text("hour,share\n0,1\n1,1\n")
    with pytest.raises(InputDataError, match=r"hours must be 0\.\.23"):
        load_charging_profile(prof)
    default = load_charging_profile()
    assert default.sum() == pytest.approx(1) and default.max() == pytest.approx(0.09)
