"""Tests of corridor.sites on real candidate layers and a small real road graph (A1 Barneveld)."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point

from corridor.catalogue import Catalogue
from corridor.config import SitesConfig
from corridor.errors import InputDataError
from corridor.sites import (
    build_candidates,
    compass_label,
    dedupe_sites,
    generic_junction_sites,
    load_candidate_layers,
    read_user_sites,
    snap_to_carriageways,
)

CRS = "EPSG:3035"
BBOX = (5.44, 52.12, 5.62, 52.21)  # A1/A30 around Barneveld, Gelderland


def _bearing(line: LineString) -> float:
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    return math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360


def graph_from_lines(lines: gpd.GeoDataFrame) -> nx.MultiDiGraph:
    """A GRAPH-contract MultiDiGraph: one edge per one-way line, two for two-way lines."""
    lines = lines.to_crs(CRS)
    G = nx.MultiDiGraph(crs=CRS, source="test", built_at="2025-01-01T00:00:00", build_report={})
    node_of: dict[tuple[int, int], int] = {}

    def node(xy: tuple[float, float]) -> int:
        k = (round(xy[0]), round(xy[1]))
        if k not in node_of:
            node_of[k] = len(node_of)
            G.add_node(node_of[k], x=xy[0], y=xy[1], lon=0.0, lat=0.0)
        return node_of[k]

    for i, row in enumerate(lines.itertuples()):
        geoms = [row.geometry]
        if getattr(row, "oneway", "yes") != "yes":
            geoms.append(row.geometry.reverse())
        for j, geom in enumerate(geoms):
            u, v = node(geom.coords[0]), node(geom.coords[-1])
            G.add_edge(
                u,
                v,
                edge_id=f"e{i}-{j}",
                length_m=geom.length,
                highway=row.highway,
                ref=str(row.ref or ""),
                name="",
                speed_kph=80.0,
                travel_time_s=geom.length / 22.2,
                country="NL",
                geometry=geom,
                bearing_deg=_bearing(geom),
            )
    return G


@pytest.fixture(scope="module")
def real_graph(catalogue: Catalogue) -> nx.MultiDiGraph:
    path = next(p for p in catalogue.paths("osm_motorways") if p.stem == "NL_gelderland")
    return graph_from_lines(gpd.read_file(path, bbox=BBOX))


@pytest.fixture(scope="module")
def nl_sites(catalogue: Catalogue) -> gpd.GeoDataFrame:
    return load_candidate_layers(catalogue, SitesConfig(countries=("NL", "DE")))


def toy_graph() -> nx.MultiDiGraph:
    """A dual carriageway running east (y=0) and west (y=40), plus a link road."""
    east = gpd.GeoDataFrame(
        {"highway": ["motorway", "motorway", "motorway_link"], "ref": ["A1", "A1", ""]},
        geometry=[
            LineString([(4_000_000, 3_000_000), (4_010_000, 3_000_000)]),
            LineString([(4_010_000, 3_000_040), (4_000_000, 3_000_040)]),
            LineString([(4_005_000, 3_000_000), (4_005_300, 3_000_600)]),
        ],
        crs=CRS,
    )
    return graph_from_lines(east)


def toy_sites(points: dict[str, tuple[float, float, str]]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(
        {
            "name": list(points),
            "kind": [p[2] for p in points.values()],
            "country": "NL",
            "source": "test",
            "osm_id": "",
            "truck_spots": np.nan,
            "has_fuel": False,
            "has_charging": False,
            "area_m2": np.nan,
            "road_ref": "",
        },
        index=pd.Index(list(points), name="site_id"),
    )
    geom = [Point(p[0], p[1]) for p in points.values()]
    return gpd.GeoDataFrame(df, geometry=geom, crs=CRS)


def test_right_hand_side_assignment_on_dual_carriageway() -> None:
    G = toy_graph()
    sites = toy_sites(
        {
            "south": (4_002_000, 2_999_940, "service_area"),  # right of the eastbound edge
            "north": (4_002_000, 3_000_100, "rest_area"),  # right of the westbound edge
            "junction": (4_005_400, 3_000_800, "truck_parking"),  # off the link road
            "far": (4_002_000, 3_010_000, "truck_parking"),
        }
    )
    cand = snap_to_carriageways(sites, G, SitesConfig(max_snap_m=3000, both_directions_max_m=300))
    s = cand.sites
    assert s.loc["south", "direction"] == "E (90°)"
    assert s.loc["north", "direction"] == "W (270°)"
    assert s.loc["junction", "direction"] == "both"
    assert math.isnan(s.loc["junction", "bearing_deg"])
    assert "far" not in s.index
    assert cand.excluded.set_index("site_id").loc["far", "reason"].startswith("no motorway")
    acc = cand.access.set_index("site_id")
    south = acc.loc[["south"]]
    assert len(south) == 1
    assert south["offset_m"].iloc[0] == pytest.approx(2000.0)
    assert south["detour_m"].iloc[0] == pytest.approx(120.0)
    assert south["detour_min"].iloc[0] == pytest.approx(120.0 / (40_000 / 60))
    north = acc.loc[["north"]]
    assert north["offset_m"].iloc[0] == pytest.approx(8000.0)  # westbound edge starts at x+10 km
    junction = acc.loc[["junction"]]
    assert len(junction) == 2  # both carriageways
    bearings = sorted(
        G.edges[u, v, k]["bearing_deg"] for u, v, k in junction[["u", "v", "key"]].to_numpy()
    )
    assert bearings == pytest.approx([90.0, 270.0])
    assert (junction["detour_m"] > 2 * 700).all()


def test_compass_label() -> None:
    assert list(compass_label([0, 93, 359.6, 225])) == ["N (0°)", "E (93°)", "N (0°)", "SW (225°)"]


def test_load_real_layers_normalised(nl_sites: gpd.GeoDataFrame) -> None:
    s = nl_sites
    assert s.crs.to_string() == CRS
    assert s.index.is_unique and s.index.name == "site_id"
    assert set(shapely.get_type_id(s.geometry.values)) == {0}
    assert set(s["country"]) == {"NL", "DE"}
    assert {"service_area", "rest_area", "truck_parking"} <= set(s["kind"])
    assert s["truck_spots"].notna().sum() >= 5  # the NL file tags 10
    assert s["area_m2"].notna().sum() > 500
    assert (s["osm_id"].str.match(r"^(node|way|relation)/\d+$") | (s["osm_id"] == "")).all()
    dropped = s.attrs["dropped"]
    assert (dropped["reason"].str.startswith("duplicate")).sum() > 50
    assert dropped["reason"].str.contains("'BE'").sum() > 50
    # stable ids: the A1 Barneveld service area point from the NL file
    assert s.index.str.startswith("nl-parking-osm-").sum() > 800


def test_dedupe_point_into_polygon_keeps_richer_attributes() -> None:
    poly = shapely.box(0, 0, 200, 100)
    other_side = shapely.box(0, 140, 200, 240)  # the other carriageway's area, 40 m away
    sites = gpd.GeoDataFrame(
        {
            "name": ["", "Hoge Veld", ""],
            "kind": ["service_area", "service_area", "truck_parking"],
            "country": "NL",
            "source": ["a", "b", "a"],
            "osm_id": ["way/1", "", "way/2"],
            "truck_spots": [np.nan, 12.0, np.nan],
            "has_fuel": [False, True, False],
            "has_charging": False,
            "area_m2": [poly.area, np.nan, other_side.area],
            "road_ref": "",
        },
        geometry=[poly.representative_point(), Point(50, 50), other_side.representative_point()],
        index=pd.Index(["poly", "pt", "other"], name="site_id"),
        crs=CRS,
    )
    sites["_shape"] = [poly, Point(50, 50), other_side]
    merged, dropped = dedupe_sites(sites, 150.0)
    assert sorted(merged.index) == ["other", "poly"]
    row = merged.loc["poly"]
    assert row["name"] == "Hoge Veld" and row["truck_spots"] == 12 and row["has_fuel"]
    assert row["osm_id"] == "way/1" and row["area_m2"] == pytest.approx(20000)
    assert dropped.set_index("site_id").loc["pt", "merged_into"] == "poly"


def test_snap_real_sites_on_real_graph(nl_sites: gpd.GeoDataFrame, real_graph) -> None:
    box = gpd.GeoSeries([shapely.box(*BBOX)], crs="EPSG:4326").to_crs(CRS).iloc[0]
    sites = nl_sites[nl_sites.within(box.buffer(-3000))]
    assert len(sites) >= 5
    cand = snap_to_carriageways(sites, real_graph, SitesConfig())
    assert len(cand.sites) >= 5
    assert (cand.sites["snap_m"] <= 3000).all()
    assert set(cand.access["site_id"]) == set(cand.sites.index)
    one = cand.sites[cand.sites["direction"] != "both"]
    assert len(one) >= 2
    # a one-direction site is served by exactly one edge, whose bearing it reports
    acc = cand.access.set_index("site_id").loc[one.index]
    assert acc.index.is_unique
    for sid, (u, v, k) in acc[["u", "v", "key"]].iterrows():
        data = real_graph.edges[u, v, k]
        assert data["bearing_deg"] == pytest.approx(one.loc[sid, "bearing_deg"])
        assert 0 <= acc.loc[sid, "offset_m"] <= data["length_m"] + 1e-6
        # right-hand side: cross product of direction and offset is negative
        line = data["geometry"]
        at = line.project(one.loc[sid, "geometry"])
        a = line.interpolate(max(at - 5, 0))
        b = line.interpolate(min(at + 5, line.length))
        p = one.loc[sid, "geometry"]
        foot = line.interpolate(at)
        cross = (b.x - a.x) * (p.y - foot.y) - (b.y - a.y) * (p.x - foot.x)
        assert cross < 0


def test_user_csv_and_errors(tmp_path) -> None:
    good = tmp_path / "hubs.csv"
    good.write_text("name,lon,lat,truck_spots\nDepot A,5.5,52.16,30\nDepot B,5.6,52.18,\n")
    s = read_user_sites(good)
    assert len(s) == 2 and s.crs.to_string() == CRS
    assert s.index.str.startswith("user-hubs-").all()
    assert s["truck_spots"].iloc[0] == 30 and np.isnan(s["truck_spots"].iloc[1])
    assert list(read_user_sites(good).index) == list(s.index)  # stable ids
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lon,lat\nA,5.5,52.1\nB,abc,52.2\n")
    with pytest.raises(InputDataError, match=r"bad.csv, line 3"):
        read_user_sites(bad)
    with pytest.raises(InputDataError, match="needs lon and lat"):
        nolon = tmp_path / "nolon.csv"
        nolon.write_text("name,x1\nA,1\n")
        read_user_sites(nolon)
    with pytest.raises(InputDataError, match="does not exist"):
        read_user_sites(tmp_path / "missing.gpkg")


def test_build_candidates_with_user_file(catalogue, real_graph, tmp_path) -> None:
    f = tmp_path / "mine.csv"
    f.write_text("site_id,name,lon,lat,kind\nh1,Hub Barneveld,5.5292,52.1631,truck_parking\n")
    cfg = SitesConfig(sources=(str(f),), countries=("NL",))
    cand = build_candidates(real_graph, catalogue, cfg)
    assert list(cand.sites.index) == ["user-mine-h1"]
    assert cand.sites["snap_m"].iloc[0] < 300
    assert cand.report["sites"] == 1


def test_generic_junction_candidates_serve_both_directions() -> None:
    lines = gpd.GeoDataFrame(
        {"highway": ["motorway", "motorway", "motorway", "motorway_link"], "ref": "A1"},
        geometry=[
            LineString([(4_000_000, 3_000_000), (4_005_000, 3_000_000)]),
            LineString([(4_005_000, 3_000_000), (4_010_000, 3_000_000)]),
            LineString([(4_010_000, 3_000_040), (4_000_000, 3_000_040)]),
            LineString([(4_005_000, 3_000_000), (4_005_300, 3_000_600)]),
        ],
        crs=CRS,
    )
    G = graph_from_lines(lines)
    start = next(n for n, d in G.nodes(data=True) if d["x"] == 4_000_000 and d["y"] == 3_000_000)
    mid = next(iter(G.successors(start)))
    end = next(v for _, v, d in G.out_edges(mid, data=True) if d["highway"] == "motorway")
    gen = generic_junction_sites(G, [start, mid, end], spacing_km=4.0, country="NL")
    assert list(gen.index) == [f"generic-junction-{mid}"]
    assert gen["kind"].iloc[0] == "generic_junction"
    assert "not a real site" in gen["name"].iloc[0]
    assert gen["path_km"].iloc[0] == pytest.approx(5.0)
    cand = snap_to_carriageways(gen, G, SitesConfig())
    assert cand.sites["direction"].iloc[0] == "both"
    assert len(cand.access) == 2
    assert cand.access["detour_m"].to_numpy() == pytest.approx([1000.0, 1000.0])
    with pytest.raises(InputDataError, match="not an edge"):
        generic_junction_sites(G, [end, start], spacing_km=4.0)
