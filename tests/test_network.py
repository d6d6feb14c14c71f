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
            r"lacks column\(s\) \['highway'\]",
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
def real_graph(tmp_path_factory, catalogue: Catalogue) -> nx.MultiDiGraph:
    cat = catalogue
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


def test_load_graph_caches(tmp_path: Path, catalogue: Catalogue):
    cat = catalogue
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


# --- end-point access (shortest_route) -------------------------------------------------------


def _two_carriageway_ring() -> nx.MultiDiGraph:
    """A one-way motorway pair: A1 eastbound on y=0, A2 westbound on y=3000 (0–50 km), joined by
    two-way trunk links B7 (x=0), B9 (x=25 km) and B8 (x=50 km).

    A point at (10 km, 1 km) is nearest to the A1, which leads AWAY from a destination at
    (2 km, 4 km) just north of the A2: taking the A1 means a 41 km detour via the B9.
    """
    rows = [
        {"xy": [(0, 0), (25_000, 0), (50_000, 0)], "ref": "A1", "oneway": "yes"},
        {"xy": [(50_000, 3000), (25_000, 3000), (0, 3000)], "ref": "A2", "oneway": "yes"},
        {"xy": [(0, 0), (0, 3000)], "ref": "B7", "oneway": "no", "highway": "trunk"},
        {"xy": [(25_000, 0), (25_000, 3000)], "ref": "B9", "oneway": "no", "highway": "trunk"},
        {"xy": [(50_000, 0), (50_000, 3000)], "ref": "B8", "oneway": "no", "highway": "trunk"},
    ]
    return graph_from_lines(_lines(rows), CFG)


def _lonlat(dx: float, dy: float) -> tuple[float, float]:
    from pyproj import Transformer

    t = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return t.transform(X0 + dx, Y0 + dy)


def test_route_takes_the_farther_carriageway_when_the_nearest_leads_away():
    G = _two_carriageway_ring()
    assert nx.is_strongly_connected(G)
    o, d = _lonlat(10_000, 1000), _lonlat(2000, 4000)
    r = shortest_route(G, o, d)
    # joins the A2 2 km north of the origin, drives 8 km west, leaves 1 km south of the end
    assert r.refs == ["A2"]
    assert r.length_km == pytest.approx(8.0, abs=0.01)
    assert r.snap_m == pytest.approx((2000, 1000), abs=1)
    assert r.access_km == pytest.approx((2.6, 1.3), abs=0.01)
    assert r.total_km == pytest.approx(8.0 + 3.9, abs=0.01)
    assert r.access_time_min == pytest.approx((2.6 / 40 * 60, 1.3 / 40 * 60), abs=0.01)
    doc = r.to_dict()
    assert {"length_km", "travel_time_min", "refs", "snap_m", "access_km", "total_km"} <= set(doc)
    assert doc["total_km"] == pytest.approx(doc["length_km"] + sum(doc["access_km"]), abs=0.01)
    # an access radius too small to reach the A2 forces the nearest carriageway: the detour
    tight = shortest_route(G, o, d, access_min_radius_m=500, access_max_radius_m=1500)
    assert tight.refs == ["A1", "B9", "A2"]
    assert tight.snap_m == pytest.approx((1000, 1000), abs=1)
    assert tight.length_km == pytest.approx(15 + 3 + 23, abs=0.01)
    assert tight.total_time_min > r.total_time_min
    # shortest by length: same choice here
    assert shortest_route(G, o, d, weight="length_m").length_km == pytest.approx(8.0, abs=0.01)


def test_route_access_point_within_radius_or_nearest_edge():
    G = _two_carriageway_ring()
    # 6 km from the ring: the radius grows to 2 x 6 km, capped at 10 km
    far = _lonlat(10_000, -6000)
    r = shortest_route(G, far, _lonlat(40_000, -500))
    assert r.snap_m[0] == pytest.approx(6000, abs=1)
    assert r.refs == ["A1"] and r.length_km == pytest.approx(30.0, abs=0.01)
    # 12 km away: beyond the cap, the nearest edge is still a candidate
    r = shortest_route(G, _lonlat(10_000, -12_000), _lonlat(40_000, -500))
    assert r.snap_m[0] == pytest.approx(12_000, abs=1)
    with pytest.raises(InputDataError, match="access_min_radius_m <= access_max_radius_m"):
        shortest_route(G, far, far, access_min_radius_m=5000, access_max_radius_m=1000)
    with pytest.raises(InputDataError, match="access_detour must be >= 1"):
        shortest_route(G, far, far, access_detour=0.5)


def test_real_route_city_centres_eindhoven_venlo(real_graph):
    # Eindhoven centre → Venlo centre: the A67 (route planners ~55–62 km door to door). The
    # nearest carriageway at Eindhoven used to send the route round via the A2/A50.
    ehv, vlo = (5.478, 51.441), (6.172, 51.370)
    shortest_route(real_graph, ehv, vlo)  # builds the cached indexes
    t0 = time.perf_counter()
    for a, b in ((ehv, vlo), (vlo, ehv)):
        r = shortest_route(real_graph, a, b)
        assert "A67" in r.refs and "A50" not in r.refs
        assert 52 < r.total_km < 64
        assert r.total_km == pytest.approx(r.length_km + 1.3 * sum(r.snap_m) / 1000)
    assert (time.perf_counter() - t0) / 2 < 0.3  # cached routing matrix: no rebuild per call


def test_edge_matrix_keeps_the_shortest_parallel_edge() -> None:
    from corridor.network import edge_matrix

    G = nx.MultiDiGraph()
    G.add_edge(3, 1, key=0, length_m=5.0)
    G.add_edge(1, 2, key=0, length_m=7.0)
    G.add_edge(1, 2, key=1, length_m=4.0)  # the shorter parallel edge
    G.add_edge(2, 1, key=0, length_m=0.0)
    G.add_edge(2, 1, key=1, length_m=0.0)  # a tie: the first in edge order stays
    G.add_edge(2, 2, key=0, length_m=1.0)  # self-loop
    em = edge_matrix(G)
    assert list(em.nodes) == [1, 2, 3]
    assert em.pair_weights() == {(1, 2): 4.0, (2, 1): 0.0, (3, 1): 5.0}
    assert list(em.key) == [1, 0, 0]
    mat = em.csgraph(min_weight=1e-3)
    assert mat[1, 0] == 1e-3 and mat[0, 1] == 4.0 and mat[1, 1] == 0
    assert len(edge_matrix(G, self_loops=True).u) == 4
    ordered = edge_matrix(G, nodes=[3, 2, 1])
    assert ordered.pair_weights() == em.pair_weights() and list(ordered.lin) == sorted(ordered.lin)
    G.add_edge(3, 2, length_m=float("nan"))
    with pytest.raises(InputDataError, match=r"1 edge\(s\) without a finite length_m >= 0"):
        edge_matrix(G)


def test_corridor_paths_drop_out_and_back_detours():
    from corridor.network.corridors import without_spurs

    # main road 0-1-2-3 (1 km links, both ways) and a loop 1 -> 10 -> 11 -> 12 -> 2 (3 km links)
    # that a waypoint snapped onto the loop would force: the path is cut back to the main road
    g = nx.MultiDiGraph()
    xy = {0: (0, 0), 1: (1000, 0), 2: (2000, 0), 3: (3000, 0)}
    xy |= {10: (1000, 2500), 11: (1500, 3000), 12: (2000, 2500)}
    for n, (x, y) in xy.items():
        g.add_node(n, x=float(x), y=float(y))
    for a, b in [(0, 1), (1, 2), (2, 3)]:
        g.add_edge(a, b, length_m=1000.0)
        g.add_edge(b, a, length_m=1000.0)
    for a, b in [(1, 10), (10, 11), (11, 12), (12, 2)]:
        g.add_edge(a, b, length_m=3000.0)
    assert without_spurs(g, [0, 1, 10, 11, 12, 2, 3]) == (0, 1, 2, 3)
    # a path without a detour, or whose short cut is not much shorter, is kept as it is
    assert without_spurs(g, [0, 1, 2, 3]) == (0, 1, 2, 3)
    g.remove_edge(1, 2)
    g.add_edge(1, 2, length_m=7000.0)
    assert without_spurs(g, [0, 1, 10, 11, 12, 2, 3]) == (0, 1, 10, 11, 12, 2, 3)
