"""Tests of corridor.network: topology on hand-built lines, bad input, and real regional data."""

from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely import LineString, Point

from corridor.catalogue import Catalogue
from corridor.config import NetworkConfig
from corridor.errors import InputDataError
from corridor.network import (
    edges_gdf,
    graph_from_lines,
    load_graph,
    nearest_node,
    nodes_gdf,
    read_lines,
    shortest_route,
    snap_points,
    to_csgraph,
)
from corridor.network.build import oneway_direction

CRS = "EPSG:3035"
X0, Y0 = 4_000_000.0, 3_200_000.0  # a point in NL/DE in EPSG:3035
CFG = NetworkConfig(snap_tolerance_m=5.0, ramp_connector_m=0.0)


def _lines(rows: list[dict]) -> gpd.GeoDataFrame:
    """Lines from (x, y) offsets in metres around (X0, Y0)."""
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in r.pop("xy")]) for r in rows]
    for r in rows:
        r.setdefault("ref", "")
        r.setdefault("oneway", None)
        r.setdefault("highway", "motorway")
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def _loop(a: str = "A1", b: str = "A1", gap_m: float = 0.0, cut_x: float = 500.0) -> list[dict]:
    """A one-way motorway ring (two carriageways 40 m apart), east carriageway cut at cut_x."""
    return [
        {"xy": [(0, 0), (cut_x, 0)], "ref": a, "oneway": "yes"},
        {"xy": [(cut_x + gap_m, 0), (1000, 0), (1000, 40)], "ref": b, "oneway": "yes"},
        {"xy": [(1000, 40), (0, 40), (0, 0)], "ref": a, "oneway": "yes"},
    ]


def test_tile_cut_line_rejoins_and_degree2_merge_keeps_length():
    G = graph_from_lines(_lines(_loop()), CFG)
    assert nx.is_strongly_connected(G)
    # the ring is one chain: 1 node, 1 self-loop edge of the full length
    total = sum(d["length_m"] for *_, d in G.edges(data=True))
    assert total == pytest.approx(1000 + 40 + 1000 + 40)
    for u, v, d in G.edges(data=True):
        c = list(d["geometry"].coords)
        assert c[0] == pytest.approx((G.nodes[u]["x"], G.nodes[u]["y"]))
        assert c[-1] == pytest.approx((G.nodes[v]["x"], G.nodes[v]["y"]))
        assert d["geometry"].length == pytest.approx(d["length_m"])


def test_snapping_within_and_outside_tolerance():
    near = graph_from_lines(_lines(_loop(gap_m=3.0)), CFG)
    rep = near.graph["build_report"]
    assert rep["snaps"] == 1
    assert rep["snapped_km"] == pytest.approx(0.003, abs=1e-4)
    assert rep["dropped_km"] == 0
    # a 12 m gap is beyond the 5 m tolerance: the ring is broken, nothing strongly connected
    with pytest.raises(InputDataError, match="no strongly connected part"):
        graph_from_lines(_lines(_loop(gap_m=12.0)), CFG)
    wide = graph_from_lines(
        _lines(_loop(gap_m=12.0)), CFG.model_copy(update={"snap_tolerance_m": 15})
    )
    assert wide.graph["build_report"]["snaps"] == 1


def test_oneway_reverse_and_two_way_trunk():
    rows = [
        {"xy": [(0, 0), (1000, 0)], "highway": "trunk", "oneway": "-1"},
        {"xy": [(0, 100), (1000, 100)], "highway": "trunk", "oneway": "no"},
    ]
    G = graph_from_lines(_lines(rows), NetworkConfig(ramp_connector_m=0.0, snap_tolerance_m=0))
    # the two-way trunk is the largest SCC; the reversed one-way line is dropped but reported
    e = edges_gdf(G)
    assert len(e) == 2
    assert sorted(e["bearing_deg"].round(-1).tolist()) == [90.0, 270.0]
    assert G.graph["build_report"]["dropped_km_by_class"]["trunk"] == pytest.approx(1.0)
    d = oneway_direction(
        gpd.pd.Series(["yes", "-1", "no", None, None, "1", "true"]),
        gpd.pd.Series(["trunk", "trunk", "motorway", "motorway", "trunk", "trunk", "trunk"]),
    )
    assert d.tolist() == [1, -1, 0, 1, 0, 1, 1]


def test_reverse_oneway_geometry_oriented_u_to_v():
    rows = [
        {"xy": [(0, 0), (1000, 0)], "oneway": "yes"},
        {"xy": [(0, 40), (1000, 40)], "oneway": "-1"},  # drawn west→east, driven east→west
        {"xy": [(1000, 0), (1000, 40)], "oneway": "yes"},
        {"xy": [(0, 40), (0, 0)], "oneway": "yes"},
    ]
    G = graph_from_lines(_lines(rows), CFG)
    assert nx.is_strongly_connected(G)
    ((_, _, d),) = G.edges(data=True)
    xs = [c[0] - X0 for c in d["geometry"].coords]
    assert xs[:2] == pytest.approx([0, 1000])
    assert d["length_m"] == pytest.approx(2080)


def test_scc_drop_reported_and_merge_kept_attributes():
    rows = _loop(a="A1", b="A1")
    rows.append({"xy": [(500, 0), (500, -300)], "highway": "motorway_link", "oneway": "yes"})
    G = graph_from_lines(_lines(rows), CFG)
    rep = G.graph["build_report"]
    assert rep["dropped_km_by_class"] == {"motorway_link": pytest.approx(0.3)}
    assert {d["ref"] for *_, d in G.edges(data=True)} == {"A1"}
    for *_, d in G.edges(data=True):
        assert d["speed_kph"] == CFG.speed_kph["motorway"]
        assert d["travel_time_s"] == pytest.approx(d["length_m"] / (80 / 3.6))
        assert isinstance(d["edge_id"], str)


def test_query_helpers_on_small_graph():
    G = graph_from_lines(_lines(_loop()), CFG)
    nid, dist = nearest_node(G, X0 + 3, Y0 + 4)
    assert dist == pytest.approx(5.0)
    s = snap_points(G, np.array([X0 + 300]), np.array([Y0 - 10]))
    assert s.loc[0, "distance_m"] == pytest.approx(10)
    assert s.loc[0, "offset_m"] == pytest.approx(300)
    mat, ids = to_csgraph(G)
    assert mat.shape == (len(ids), len(ids))
    n = nodes_gdf(G)
    assert n.loc[nid, ["lon", "lat"]].between(-10, 60).all()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: p.write_text('{"type":"FeatureCollection","features":[]}'), "empty"),
        (
            lambda p: gpd.GeoDataFrame(
                {"kind": ["motorway"]}, geometry=[LineString([(5, 51), (6, 52)])], crs=4326
            ).to_file(p),
            "no 'highway' column",
        ),
        (
            lambda p: gpd.GeoDataFrame(
                {"highway": ["motorway"]}, geometry=[Point(5, 51)], crs=4326
            ).to_file(p),
            "non-line geometries",
        ),
        (
            lambda p: gpd.GeoDataFrame(
                {"highway": ["motorway"]},
                geometry=[LineString([(400000, 5700000), (401000, 5701000)])],
                crs=4326,
            ).to_file(p),
            "unexpected CRS",
        ),
        (lambda p: p.write_bytes(b"\x00garbage not json"), "cannot read"),
    ],
)
def test_bad_input_names_file_and_problem(tmp_path: Path, make, match):
    p = tmp_path / "XX_bad.geojson"
    make(p)
    with pytest.raises(InputDataError, match=match) as err:
        read_lines([p])
    assert "XX_bad.geojson" in str(err.value)


def test_missing_crs(tmp_path: Path):
    p = tmp_path / "nocrs.gpkg"
    gpd.GeoDataFrame({"highway": ["motorway"]}, geometry=[LineString([(5, 51), (6, 52)])]).to_file(
        p
    )
    with pytest.raises(InputDataError, match=r"nocrs\.gpkg has no CRS"):
        read_lines([p])


# --- real data ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_graph(tmp_path_factory) -> nx.MultiDiGraph:
    cat = Catalogue.from_env()
    files = [
        p
        for p in cat.paths("osm_motorways")
        if p.name.startswith(("NL_limburg", "DE_duesseldorf", "NL_noord-brabant"))
    ]
    from corridor.network import read_countries

    return graph_from_lines(read_lines(files), NetworkConfig(), read_countries(cat))


def test_real_regions_strongly_connected_with_contract_attributes(real_graph):
    G = real_graph
    assert nx.is_strongly_connected(G)
    assert G.graph["crs"] == "EPSG:3035"
    rep = G.graph["build_report"]
    json.dumps(rep)  # serialisable for the CLI/outputs
    assert set(rep["km_by_country"]) >= {"NL", "DE"}
    e = edges_gdf(G)
    assert e["edge_id"].is_unique
    assert (e["length_m"] > 0).all()
    assert e["bearing_deg"].between(0, 360).all()
    assert e["country"].str.fullmatch(r"[A-Z]{2}").all()
    # motorway km retained: most of the input (region clipping loses stubs at the borders)
    kept = rep["km_by_class"]["motorway"] / rep["input_km_by_class"]["motorway"]
    assert kept > 0.9


def test_real_route_venlo_eindhoven(real_graph):
    # Venlo (A67 at Zaarderheiken) → Eindhoven (A67/A2 Leenderheide): the A67 is ~50 km here
    # (Rijkswaterstaat hectometre posts; ANWB route planner Venlo–Eindhoven ~55–60 km by road).
    r = shortest_route(real_graph, (6.125, 51.375), (5.50, 51.405))
    assert 42 < r.length_km < 60
    assert "A67" in r.refs
    assert max(r.snap_m) < 1000
    assert r.travel_time_min == pytest.approx(r.length_km / 80 * 60, rel=0.25)
    back = shortest_route(real_graph, (5.50, 51.405), (6.125, 51.375))
    assert back.length_km == pytest.approx(r.length_km, rel=0.1)


def test_load_graph_caches(tmp_path: Path):
    cat = Catalogue.from_env()
    cfg = NetworkConfig(countries=("DK",), highway_classes=("motorway",))
    t0 = time.perf_counter()
    G1 = load_graph(cat, cfg, cache_dir=tmp_path)
    assert G1.graph["cache"]["status"] == "miss"
    t1 = time.perf_counter()
    G2 = load_graph(cat, cfg, cache_dir=tmp_path)
    t2 = time.perf_counter()
    assert G2.graph["cache"]["status"] == "hit"
    assert G2.number_of_edges() == G1.number_of_edges()
    assert t2 - t1 < t1 - t0
    assert list(tmp_path.glob("*.tmp")) == []


def _interchange(with_forward_entry: bool) -> list[dict]:
    """A dual-carriageway ring with an exit ramp ending at an unmapped local road.

    The eastbound exit ramp ends at (1000, -60) heading east; an entry ramp onto the westbound
    carriageway starts 15 m away heading west (a U-turn) and, optionally, an entry ramp back onto
    the eastbound carriageway starts 100 m further east.
    """
    rows = [
        {"xy": [(0, 0), (800, 0), (1300, 0), (2000, 0), (2000, 40)], "ref": "A1"},
        {"xy": [(2000, 40), (600, 40), (0, 40), (0, 0)], "ref": "A1"},
        {"xy": [(800, 0), (900, -60), (1000, -60)], "highway": "motorway_link"},
        {"xy": [(1000, -45), (700, -45), (600, 40)], "highway": "motorway_link"},
    ]
    if with_forward_entry:
        rows.append({"xy": [(1100, -60), (1200, -60), (1300, 0)], "highway": "motorway_link"})
    return rows


def _connectors(G: nx.MultiDiGraph) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return [
        tuple(
            (round(x - X0), round(y - Y0))
            for x, y in d["geometry"].coords[:: len(d["geometry"].coords) - 1]
        )
        for *_, d in G.edges(data=True)
        if d["highway"] == "connector"
    ]


@pytest.mark.parametrize("forward", [True, False])
def test_ramp_connectors_reject_uturns_unless_the_only_way_on(forward: bool):
    cfg = NetworkConfig(snap_tolerance_m=0.0, ramp_connector_m=300.0)
    G = graph_from_lines(_lines(_interchange(forward)), cfg)
    rep = G.graph["build_report"]
    uturn = ((1000, -60), (1000, -45))
    if forward:
        # the exit ramp continues onto the eastbound entry ramp; the U-turn link is rejected
        assert _connectors(G) == [((1000, -60), (1100, -60))]
        assert rep["ramp_connector_uturns_rejected"] == 1
        assert rep["ramp_connector_uturn_fallbacks"] == 0
    else:
        # no other way on: the nearest U-turn is kept so the ramp is not a dead end
        assert uturn in _connectors(G)
        assert rep["ramp_connector_uturn_fallbacks"] == 1
    assert nx.is_strongly_connected(G)
