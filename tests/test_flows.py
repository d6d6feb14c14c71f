"""Tests of corridor.flows: loading, stitching, scaling, routing, build_flows."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely import LineString

from corridor.catalogue import Catalogue
from corridor.config import FlowsConfig
from corridor.errors import InputDataError
from corridor.flows import (
    EtisTables,
    RoutingGraph,
    build_flows,
    etisplus_road_graph,
    find_border_crossings,
    growth_factor,
    load_etisplus,
    place_nodes,
    route_flows,
    scale_to_daily,
    stitch_borders,
)
from corridor.flows.etisplus import read_traffic_csv

# ---------------------------------------------------------------- helpers


def _tables(nodes: list[tuple[str, str, float, float]], od: list[tuple[str, str, float, str]]):
    """EtisTables from (id, country, x_m, y_m) nodes and (o, d, trucks/yr, country) rows."""
    n = pd.DataFrame(nodes, columns=["node_id", "country", "x", "y"])
    n["lon"], n["lat"] = 0.0, 0.0
    o = pd.DataFrame(od, columns=["origin", "destination", "trucks_per_year", "country"])
    e = pd.DataFrame(columns=["u", "v", "distance_km", "country"])
    return EtisTables(nodes=n.set_index("node_id", drop=False), edges=e, od=o)


def _road(edges: list[tuple[int, int, float]], xy: dict[int, tuple[float, float]], cc="NL"):
    g = nx.MultiDiGraph(crs="EPSG:3035")
    for k, (x, y) in xy.items():
        g.add_node(k, x=x, y=y)
    for u, v, length in edges:
        g.add_edge(
            u,
            v,
            length_m=length,
            country=cc if isinstance(cc, str) else cc[(u, v)],
            geometry=LineString([xy[u], xy[v]]),
        )
    return g


# ---------------------------------------------------------------- stitching


@pytest.fixture
def two_countries() -> EtisTables:
    # A: a1, a2 interior, ab at the border; B: ba at the border (2 km away), b1, b2 interior.
    nodes = [
        ("a1", "AA", 0.0, 0.0),
        ("a2", "AA", 0.0, 50_000.0),
        ("ab", "AA", 100_000.0, 0.0),
        ("ba", "BB", 102_000.0, 0.0),
        ("b1", "BB", 200_000.0, 0.0),
        ("b2", "BB", 200_000.0, 60_000.0),
    ]
    od = [
        ("a1", "ab", 300.0, "AA"),  # into the border: IN(A->B) = 300 + 100
        ("a2", "ab", 100.0, "AA"),
        ("a1", "a2", 50.0, "AA"),  # domestic, untouched
        ("ba", "b1", 150.0, "BB"),  # out of the border: OUT(A->B) = 150 + 50
        ("ba", "b2", 50.0, "BB"),
        ("b1", "ba", 80.0, "BB"),  # reverse direction: IN(B->A) = 80
        ("ab", "a1", 120.0, "AA"),  # OUT(B->A) = 120
    ]
    return _tables(nodes, od)


def test_crossings_match_mutual_nearest_within_limit(two_countries):
    cross = find_border_crossings(two_countries, border_match_km=5)
    assert cross[["node_a", "node_b"]].values.tolist() == [["ab", "ba"]]
    assert cross["distance_km"].iloc[0] == pytest.approx(2.0)
    assert find_border_crossings(two_countries, border_match_km=1.5).empty


def test_stitching_conserves_trucks_at_each_crossing(two_countries):
    od, rep = stitch_borders(two_countries, border_match_km=5)
    flows = {(r.origin, r.destination): r.trucks_per_year for r in od.itertuples()}
    # A->B: IN 400, OUT 200, M = 400: t = in * out / 400
    assert flows[("a1", "b1")] == pytest.approx(300 * 150 / 400)
    assert flows[("a2", "b2")] == pytest.approx(100 * 50 / 400)
    # the larger side keeps its remainder as clipped trips to the border
    assert flows[("a1", "ab")] == pytest.approx(300 * (1 - 200 / 400))
    assert ("ba", "b1") not in flows
    # B->A: IN 80, OUT 120: all 80 paired, 40 remain from ab
    assert flows[("b1", "a1")] == pytest.approx(80.0)
    assert flows[("ab", "a1")] == pytest.approx(40.0)
    assert flows[("a1", "a2")] == pytest.approx(50.0)
    for c in rep["crossings"]:
        assert c["paired_trucks_per_year"] == pytest.approx(
            min(c["in_trucks_per_year"], c["out_trucks_per_year"])
        )
        total = c["in_trucks_per_year"] + c["out_trucks_per_year"]
        assert 2 * c["paired_trucks_per_year"] + c["remainder_trucks_per_year"] == pytest.approx(
            total
        )
    # each A side row's trucks are conserved: what left a1 for the border still leaves a1
    from_a1_to_b = sum(v for (o, d), v in flows.items() if o == "a1" and d in {"ab", "b1", "b2"})
    assert from_a1_to_b == pytest.approx(300.0)
    # a through trip was two clipped rows: total drops by exactly the paired trucks
    assert rep["trucks_per_year_before"] - rep["trucks_per_year_after"] == pytest.approx(
        rep["paired_trucks_per_year"]
    )
    assert rep["paired_trucks_per_year"] == pytest.approx(200 + 80)
    assert od.loc[od["origin"].eq("b1") & od["destination"].eq("a1"), "stitched_share"].item() == 1


# ---------------------------------------------------------------- scaling


def test_growth_and_daily_scaling():
    f = growth_factor(2019, 2030, 0.02)
    assert f == pytest.approx(1.02**11)
    per_day, ze = scale_to_daily(np.array([3000.0, 600.0]), f, 300.0, 0.1)
    assert per_day == pytest.approx([10 * 1.02**11, 2 * 1.02**11])
    assert ze == pytest.approx(per_day * 0.1)
    assert growth_factor(2019, 2019, 0.5) == 1.0
    with pytest.raises(InputDataError, match="zero_emission_share"):
        scale_to_daily(np.array([1.0]), 1.0, 300.0, 1.5)
    with pytest.raises(InputDataError, match="days_per_year"):
        scale_to_daily(np.array([1.0]), 1.0, 0.0, 0.1)


# ---------------------------------------------------------------- routing


@pytest.fixture
def tiny_graph() -> nx.MultiDiGraph:
    #  1 --1000--> 2 --1000--> 3      1 --2500--> 3 (longer direct)
    #  3 --1000--> 4 ; 4 --1000--> 1; parallel 2->3 of 900 (the shorter one must be used)
    #  5 isolated (own component)
    xy = {1: (0, 0), 2: (1000, 0), 3: (2000, 0), 4: (1000, 1000), 5: (90_000, 0)}
    edges = [(1, 2, 1000), (2, 3, 1000), (2, 3, 900), (1, 3, 2500), (3, 4, 1000), (4, 1, 1000)]
    g = _road(edges, xy, cc={(1, 2): "NL", (2, 3): "DE", (1, 3): "NL", (3, 4): "DE", (4, 1): "NL"})
    g.add_node(5, x=90_000.0, y=0.0)
    return g


def test_routing_tiny_graph_paths_and_edge_volumes(tiny_graph):
    rg = RoutingGraph.from_graph(tiny_graph)
    ix = {v: i for i, v in enumerate(rg.node_ids)}
    o = np.array([ix[1], ix[1], ix[3], ix[2]])
    d = np.array([ix[3], ix[4], ix[1], ix[5]])
    res = route_flows(rg, o, d, {"trucks_per_day": np.array([10.0, 5.0, 2.0, 7.0])})
    assert res.paths[0] == (1, 2, 3)
    assert res.paths[1] == (1, 2, 3, 4)
    assert res.paths[2] == (3, 4, 1)
    assert res.paths[3] is None and math.isinf(res.path_length_m[3])
    assert res.path_length_m[:3] == pytest.approx([1900, 2900, 2000])
    assert res.countries[0] == "NL;DE" and res.countries[2] == "DE;NL"
    ev = res.edge_volumes.set_index(["u", "v"])
    assert ev.loc[(1, 2), "trucks_per_day"].item() == pytest.approx(15.0)
    assert ev.loc[(2, 3), "trucks_per_day"].item() == pytest.approx(15.0)
    # the shorter of the parallel 2->3 edges carries the flow
    assert tiny_graph.edges[2, 3, ev.loc[(2, 3), "key"]]["length_m"] == 900
    assert ev.loc[(3, 4), "trucks_per_day"].item() == pytest.approx(7.0)
    assert ev.loc[(4, 1), "trucks_per_day"].item() == pytest.approx(2.0)
    assert (1, 3) not in ev.index


def test_routing_keep_predicate_drops_volume(tiny_graph):
    rg = RoutingGraph.from_graph(tiny_graph)
    ix = {v: i for i, v in enumerate(rg.node_ids)}
    res = route_flows(
        rg,
        np.array([ix[1], ix[4]]),
        np.array([ix[3], ix[1]]),
        {"trucks_per_day": np.array([10.0, 4.0])},
        keep=lambda c: "DE" in c.split(";"),
    )
    assert res.kept.tolist() == [True, False]
    assert res.paths[1] is None
    assert res.edge_volumes["trucks_per_day"].sum() == pytest.approx(20.0)


def test_place_nodes_main_component_and_connector_limit(tiny_graph):
    rg = RoutingGraph.from_graph(tiny_graph)
    idx, km = place_nodes(rg, np.array([[1100.0, 50.0], [89_000.0, 0.0]]), max_connector_km=30)
    assert rg.node_ids[idx[0]] == 2 and km[0] == pytest.approx(math.hypot(100, 50) / 1000)
    # node 5 is isolated: the point snaps to node 3 (87 km away) -> beyond the limit
    assert idx[1] == -1 and km[1] == pytest.approx(87.0)


def test_routing_graph_rejects_bad_graph():
    g = _road([(1, 2, 1.0)], {1: (0, 0), 2: (1, 0)})
    g.add_edge(2, 1, length_m=-5.0)
    with pytest.raises(InputDataError, match="length_m"):
        RoutingGraph.from_graph(g)
    with pytest.raises(InputDataError, match="empty"):
        RoutingGraph.from_graph(nx.MultiDiGraph())


# ---------------------------------------------------------------- bad inputs


def _fake_catalogue(tmp_path: Path, traffic: str) -> Catalogue:
    folder = tmp_path / "flows" / "etisplus_countries" / "NL"
    folder.mkdir(parents=True)
    g = nx.DiGraph()
    g.add_node("1", position_x=4.5, position_y=52.0)
    g.add_node("2", position_x=5.0, position_y=52.1)
    g.add_edge("1", "2", distance=36.0)
    nx.write_graphml(g, folder / "graph.graphml")
    (folder / "traffic.csv").write_text(traffic)
    return Catalogue(tmp_path)


@pytest.mark.parametrize(
    ("traffic", "match"),
    [
        ("origin,destination,volume\n1,2,10\n1,99,5\n", r"destination.*not in.*line 3: 99"),
        ("origin,destination,volume\n1,2,10\n2,1,-4\n", r"negative 'volume'.*line\(s\) \[3\]"),
        ("origin,destination,trucks\n1,2,10\n", r"lacks column\(s\) \['volume'\]"),
        ("origin,destination,volume\n1,2,abc\n", r"finite number.*\[2\]"),
    ],
)
def test_bad_traffic_table_raises(tmp_path, traffic, match):
    cat = _fake_catalogue(tmp_path, traffic)
    with pytest.raises(InputDataError, match=match):
        load_etisplus(cat, ["NL"])


def test_zero_and_self_loop_rows_are_counted(tmp_path):
    cat = _fake_catalogue(tmp_path, "origin,destination,volume\n1,2,10\n1,1,3\n2,1,0\n1,2,5\n")
    t = load_etisplus(cat, ["NL"])
    rep = t.report["NL"]
    assert rep["dropped_zero_volume"] == 1 and rep["dropped_self_loop"] == 1
    assert rep["merged_duplicate_pairs"] == 1
    assert t.od["trucks_per_year"].tolist() == [15.0]


def test_unknown_country_lists_available(tmp_path):
    cat = _fake_catalogue(tmp_path, "origin,destination,volume\n1,2,10\n")
    with pytest.raises(InputDataError, match=r"no ETISplus data for country 'XX'.*NL"):
        load_etisplus(cat, ["XX"])


def test_read_traffic_names_file(tmp_path):
    p = tmp_path / "traffic.csv"
    p.write_text("origin,volume\n1,2\n")
    with pytest.raises(InputDataError, match=str(p)):
        read_traffic_csv(p, {"1"}, "NL")


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_tables(catalogue: Catalogue) -> EtisTables:
    return load_etisplus(catalogue, ("NL", "DE"))


def test_real_nl_de_crossings_and_conservation(real_tables):
    assert len(real_tables.od) > 43_000
    cross = find_border_crossings(real_tables, 25.0)
    assert len(cross) >= 6
    assert set(cross["country_a"]) == {"NL"} and set(cross["country_b"]) == {"DE"}
    od, rep = stitch_borders(real_tables, 25.0)
    assert rep["cross_border_od_pairs"] > 1000
    drop = rep["trucks_per_year_before"] - rep["trucks_per_year_after"]
    assert drop == pytest.approx(
        rep["paired_trucks_per_year"] + rep["dropped_self_loop_trucks_per_year"], rel=1e-9
    )
    assert (od["trucks_per_year"] > 0).all()
    assert not od.duplicated(["origin", "destination"]).any()


def test_build_flows_on_etisplus_graph(real_tables, catalogue):
    cat = catalogue
    g = etisplus_road_graph(real_tables, find_border_crossings(real_tables, 25.0))
    cfg = FlowsConfig(
        target_year=2030, annual_growth=0.02, min_trucks_per_day=0.5, zero_emission_share=0.05
    )
    fs = build_flows(g, cat, cfg)
    od = fs.od
    assert od["od_id"].is_unique and (od["year"] == 2030).all()
    assert od["ze_trucks_per_day"].to_numpy() == pytest.approx(0.05 * od["trucks_per_day"])
    assert {"NL;DE", "DE;NL"} <= set(od["countries"])
    # every trip starts/ends at its nodes, and truck-km on edges equals truck-km of paths
    row = od.iloc[0]
    assert row["path"][0] == row["origin_node"] and row["path"][-1] == row["destination_node"]
    lengths = {(u, v, k): d["length_m"] for u, v, k, d in g.edges(keys=True, data=True)}
    ev = fs.edge_volumes
    edge_tkm = sum(
        t * lengths[(u, v, k)] / 1000
        for u, v, k, t in ev[["u", "v", "key", "trucks_per_day"]].itertuples(index=False)
    )
    assert edge_tkm == pytest.approx((od["trucks_per_day"] * od["path_length_km"]).sum())
    # nothing silently dropped
    scaled = fs.report["scaling"]["trucks_per_day"]
    assert od["trucks_per_day"].sum() + fs.excluded["trucks_per_day"].sum() == pytest.approx(scaled)
    assert fs.report["assign"]["excluded_below_min_trucks"] > 0


def test_writers_are_atomic_and_complete(real_tables, tmp_path, catalogue):
    import geopandas as gpd

    from corridor.flows import write_edge_flows_gpkg, write_od_parquet

    g = etisplus_road_graph(real_tables, find_border_crossings(real_tables, 25.0))
    fs = build_flows(
        g,
        catalogue,
        FlowsConfig(countries=("NL", "DE"), annual_growth=0.0, min_trucks_per_day=5.0),
    )
    p = write_od_parquet(fs, tmp_path / "out" / "od_flows.parquet")
    od = pd.read_parquet(p)
    assert len(od) == len(fs.od) and {"od_id", "length_km", "countries"} <= set(od.columns)
    q = write_edge_flows_gpkg(fs, g, tmp_path / "out" / "edge_flows.gpkg")
    ef = gpd.read_file(q, layer="edge_flows")
    assert len(ef) == len(fs.edge_volumes) and ef.crs.to_epsg() == 3035
    assert sorted(x.name for x in (tmp_path / "out").iterdir()) == [
        "edge_flows.gpkg",
        "od_flows.parquet",
    ]
