"""OSM semantics in the graph build: one-way rules, missing nodes, no merge across ref or border.

Every case is a few-way ``.osm`` XML file written here (read by corridor's pyosmium reader, and
by osmnx for comparison) or a small line GeoDataFrame in EPSG:3035.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString

from corridor.config import NetworkConfig
from corridor.network import edges_gdf, graph_from_lines, lines_from_osmnx, read_lines, read_osm
from corridor.network.build import DROPPED, oneway_counts, oneway_direction

CFG = NetworkConfig(ramp_connector_m=0.0, snap_tolerance_m=0.0)
CRS = "EPSG:3035"
X0, Y0 = 4_000_000.0, 3_200_000.0


def _osm(tmp_path: Path, nodes: dict[int, tuple[float, float]], ways: list[str]) -> Path:
    """Write an OSM XML file: ``nodes`` id → (lon, lat), ``ways`` ready-made ``<way>`` bodies."""
    body = "\n".join(
        f'  <node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}" version="1"/>'
        for i, (lon, lat) in nodes.items()
    )
    p = tmp_path / "test.osm"
    p.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        f"{body}\n" + "\n".join(ways) + "\n</osm>\n",
        encoding="utf-8",
    )
    return p


def _way(wid: int, refs: list[int], **tags: str) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'  <way id="{wid}" version="1">{nds}{tg}</way>'


def _ring_nodes(circumference_m: float, n: int = 40) -> dict[int, tuple[float, float]]:
    """Nodes of a circle around (5.0, 52.0), counter-clockwise, ids 1..n."""
    r = circumference_m / (2 * math.pi)
    dlat, dlon = r / 111_320.0, r / (111_320.0 * math.cos(math.radians(52.0)))
    angles = [2 * math.pi * i / n for i in range(n)]
    return {
        i + 1: (5.0 + dlon * math.cos(a), 52.0 + dlat * math.sin(a)) for i, a in enumerate(angles)
    }


def _projected_length_m(nodes: dict[int, tuple[float, float]], refs: list[int]) -> float:
    line = gpd.GeoSeries([LineString([nodes[r] for r in refs])], crs="EPSG:4326")
    return float(line.to_crs(CRS).length.iloc[0])


def _total_km(G: nx.MultiDiGraph) -> float:
    return sum(d["length_m"] for *_, d in G.edges(data=True)) / 1000.0


# --- one-way rules ----------------------------------------------------------------------------


def test_oneway_codes_junctions_and_documented_values():
    tags = ["F", "T", "B", "N", "reversible", "alternating", None, None, "no", "-1", "t", None]
    hw = ["trunk"] * 11 + ["motorway"]
    junction = [
        "",
        "",
        "",
        "",
        "",
        "",
        "roundabout",
        "circular",
        "roundabout",
        "",
        "",
        "",
    ]
    d = oneway_direction(pd.Series(tags), pd.Series(hw), pd.Series(junction))
    assert d.tolist() == [1, -1, 0, 0, DROPPED, 0, 1, 1, 0, -1, -1, 1]
    # without a junction column a tagless trunk stays two-way
    assert oneway_direction(pd.Series([None]), pd.Series(["trunk"])).tolist() == [0]
    counts = oneway_counts(
        pd.Series(["yes;no", None, "T", "-1", "alternating", "reversible", "unknown"]),
        pd.Series(["roundabout", "circular", "", "", "", "", "roundabout"]),
    )
    assert counts == {
        "roundabout_oneway_implied": 3,  # "unknown" is read as missing, like a missing tag
        "reversed_oneway": 2,
        "alternating_two_way": 1,
        "reversible_dropped": 1,
        "unknown_oneway_values": {"yes;no": 1, "unknown": 1},
    }


@pytest.mark.parametrize("junction", ["roundabout", "circular"])
def test_roundabout_without_oneway_is_one_way_in_drawing_direction(tmp_path: Path, junction: str):
    nodes = _ring_nodes(1250.0)
    refs = [*nodes, 1]
    path = _osm(tmp_path, nodes, [_way(1, refs, highway="trunk", junction=junction)])
    lines = read_lines([path])
    assert lines["junction"].tolist() == [junction]
    G = graph_from_lines(lines, CFG)
    expected_km = _projected_length_m(nodes, refs) / 1000.0
    assert expected_km == pytest.approx(1.25, abs=0.01)  # 40-gon of a 1.25 km circle
    # one-way: 1.25 km of directed edges, not 2.5 km
    assert _total_km(G) == pytest.approx(expected_km, abs=1e-4)  # vertices keyed on 0.1 m
    assert G.graph["build_report"]["roundabout_oneway_implied"] == 1
    # driven counter-clockwise, as drawn: every edge turns left (bearings increase westwards)
    ((_, _, d),) = G.edges(data=True)
    xy = np.asarray(d["geometry"].coords)
    d1, d2 = xy[1:-1] - xy[:-2], xy[2:] - xy[1:-1]
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    assert (cross > 0).all()


def test_roundabout_with_explicit_oneway_no_stays_two_way(tmp_path: Path):
    nodes = _ring_nodes(1250.0)
    refs = [*nodes, 1]
    way = _way(1, refs, highway="trunk", junction="roundabout", oneway="no")
    G = graph_from_lines(read_lines([_osm(tmp_path, nodes, [way])]), CFG)
    assert _total_km(G) == pytest.approx(2 * _projected_length_m(nodes, refs) / 1000.0, abs=2e-4)
    assert G.graph["build_report"]["roundabout_oneway_implied"] == 0


def _carriageways(oneway_b: str, flip_b: bool) -> tuple[dict, list[str]]:
    """Two parallel trunk carriageways and two links forming a one-way loop.

    Way 2 (north) is driven west; drawn east (flip_b) it needs oneway=-1/T to be right.
    """
    nodes = {
        1: (5.00, 52.0),
        2: (5.02, 52.0),
        3: (5.02, 52.001),
        4: (5.00, 52.001),
    }
    north = [4, 3] if flip_b else [3, 4]
    ways = [
        _way(1, [1, 2], highway="trunk", oneway="yes", ref="N1"),
        _way(2, north, highway="trunk", oneway=oneway_b, ref="N1"),
        _way(3, [2, 3], highway="trunk_link", oneway="yes"),
        _way(4, [4, 1], highway="trunk_link", oneway="yes"),
    ]
    return nodes, ways


@pytest.mark.parametrize("tag", ["-1", "T", "reverse"])
def test_reverse_oneway_way_is_driven_against_its_drawing(tmp_path: Path, tag: str):
    nodes, ways = _carriageways(tag, flip_b=True)
    G = graph_from_lines(read_lines([_osm(tmp_path, nodes, ways)]), CFG)
    # a ring only if way 2 is reversed: everything strongly connected, nothing dropped
    assert nx.is_strongly_connected(G)
    rep = G.graph["build_report"]
    assert rep["dropped_km"] == 0
    assert rep["reversed_oneway_lines"] == 1
    trunk = [d for *_, d in G.edges(data=True) if d["highway"] == "trunk"]
    (north,) = [d for d in trunk if d["bearing_deg"] > 180]
    assert north["bearing_deg"] == pytest.approx(270, abs=1)  # driven westwards
    # geometry runs u → v
    start = north["geometry"].coords[0]
    assert start[0] > north["geometry"].coords[-1][0]


def test_forward_code_f_is_one_way_not_false(tmp_path: Path):
    nodes, ways = _carriageways("F", flip_b=False)
    G = graph_from_lines(read_lines([_osm(tmp_path, nodes, ways)]), CFG)
    # F = forward one-way: every trunk edge exactly once (a two-way F would double it)
    assert nx.is_strongly_connected(G)
    e = edges_gdf(G)
    assert len(e[e["highway"] == "trunk"]) == 2
    assert sorted(e.loc[e["highway"] == "trunk", "bearing_deg"].round(-1)) == [90.0, 270.0]


def test_reversible_dropped_and_alternating_kept_both_ways(tmp_path: Path, caplog):
    nodes, ways = _carriageways("yes", flip_b=False)
    nodes |= {5: (5.02, 51.99), 6: (5.00, 51.99)}
    ways += [
        _way(5, [2, 5], highway="trunk", oneway="alternating", ref="N2"),
        _way(6, [1, 6], highway="trunk", oneway="reversible", ref="N3"),
    ]
    with caplog.at_level(logging.WARNING):
        G = graph_from_lines(read_lines([_osm(tmp_path, nodes, ways)]), CFG)
    rep = G.graph["build_report"]
    assert rep["alternating_two_way_lines"] == 1
    assert rep["reversible_lines_dropped"] == 1
    assert rep["reversible_km_dropped"] == pytest.approx(1.113, abs=0.005)
    refs = [d["ref"] for *_, d in G.edges(data=True)]
    assert refs.count("N2") == 2  # alternating: both directions, strongly connected
    assert "N3" not in refs
    assert "1 oneway=reversible lines (1.1 km) dropped" in caplog.text


# --- missing nodes ----------------------------------------------------------------------------


def test_way_with_missing_node_is_split_not_bridged(tmp_path: Path, caplog):
    # a two-way trunk bending far north through node 3, which the extract does not hold
    nodes = {1: (5.00, 52.0), 2: (5.01, 52.0), 4: (5.03, 52.0), 5: (5.04, 52.0), 6: (5.05, 52.0)}
    way = _way(1, [1, 2, 3, 4, 5, 6], highway="trunk", oneway="no", ref="N9")
    path = _osm(tmp_path, nodes, [way])
    with caplog.at_level(logging.WARNING):
        lines = read_osm(path)
    assert len(lines) == 2  # 1-2 and 4-5-6, no straight chord 2→4
    assert lines.attrs["ways_split_at_missing_nodes"] == 1
    assert lines.attrs["missing_node_gaps"] == 1
    assert "1 ways reference nodes missing from the extract; split at 1 gaps" in caplog.text
    G = graph_from_lines(read_lines([path]), CFG)
    rep = G.graph["build_report"]
    assert rep["ways_split_at_missing_nodes"] == 1
    assert rep["missing_node_gaps"] == 1
    # the larger part (4-5-6, 1.37 km) is kept both ways; the gap 2→4 is not a road
    assert rep["km_total"] == pytest.approx(2 * 1.373, abs=0.01)
    assert rep["dropped_km"] == pytest.approx(2 * 0.687, abs=0.01)
    # a way cut only at its ends (clipped extract) is truncated, not counted as split
    end = _way(2, [9, 1, 2, 4], highway="trunk", oneway="no")
    lines = read_osm(_osm(tmp_path, nodes, [end]))
    assert len(lines) == 1 and lines.attrs["ways_split_at_missing_nodes"] == 0


def test_osmnx_reader_agrees_on_roundabout_and_reverse(tmp_path: Path):
    import osmnx as ox

    nodes, ways = _carriageways("-1", flip_b=True)
    ring = {i + 100: xy for i, xy in _ring_nodes(800.0, n=12).items()}
    ring = {k: (lon + 0.05, lat) for k, (lon, lat) in ring.items()}
    ways.append(_way(9, [*ring, 101], highway="trunk", junction="circular"))
    path = _osm(tmp_path, nodes | ring, ways)
    Gx = ox.graph_from_xml(path, simplify=False, retain_all=True)
    ours = edges_gdf(graph_from_lines(read_lines([path]), CFG))
    theirs = edges_gdf(graph_from_lines(lines_from_osmnx(Gx), CFG))
    assert sorted(ours["length_m"].round(1)) == sorted(theirs["length_m"].round(1))


# --- chains: no merge across ref or border ------------------------------------------------------


def _lines(rows: list[dict]) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in r.pop("xy")]) for r in rows]
    for r in rows:
        r.setdefault("oneway", "yes")
        r.setdefault("highway", "motorway")
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def _ring(a: str, b: str) -> list[dict]:
    """One-way ring: bottom 0→500 (ref a), 500→1000→up (ref b), top back to 0 (ref a)."""
    return [
        {"xy": [(0, 0), (500, 0)], "ref": a},
        {"xy": [(500, 0), (1000, 0), (1000, 40)], "ref": b},
        {"xy": [(1000, 40), (0, 40), (0, 0)], "ref": a},
    ]


def test_no_chain_merge_across_a_ref_change():
    G = graph_from_lines(_lines(_ring("A1", "A2")), CFG)
    e = edges_gdf(G).sort_values("ref")
    assert e["ref"].tolist() == ["A1", "A2"]
    assert e["length_m"].tolist() == pytest.approx([1540.0, 540.0])
    assert G.graph["build_report"]["chain_breaks_at_ref_change"] == 2
    same = graph_from_lines(_lines(_ring("A1", "A1")), CFG)
    assert same.number_of_edges() == 1
    assert same.graph["build_report"]["chain_breaks_at_ref_change"] == 0


def _two_countries(border_x: float) -> gpd.GeoDataFrame:
    west = shapely.box(X0 - 5000, Y0 - 5000, X0 + border_x, Y0 + 5000)
    east = shapely.box(X0 + border_x, Y0 - 5000, X0 + 5000, Y0 + 5000)
    return gpd.GeoDataFrame({"CNTR_CODE": ["NL", "DE"]}, geometry=[west, east], crs=CRS)


def test_edge_crossing_the_border_is_cut_there():
    G = graph_from_lines(_lines(_ring("A1", "A1")), CFG, countries=_two_countries(700.0))
    rep = G.graph["build_report"]
    # NL: 700 m bottom + 700 m top + 40 m west side; DE: 300 + 40 + 300
    assert rep["km_by_country"] == {"DE": pytest.approx(0.64), "NL": pytest.approx(1.44)}
    assert rep["lines_split_at_border"] == 2
    e = edges_gdf(G)
    assert sorted(e["country"]) == ["DE", "NL"]
    for _, row in e.iterrows():  # each edge lies in its country
        xs = np.asarray(row.geometry.coords)[:, 0] - X0
        assert (xs <= 700 + 1e-6).all() if row["country"] == "NL" else (xs >= 700 - 1e-6).all()
    assert nx.is_strongly_connected(G)


def test_no_chain_merge_across_a_border_at_a_way_end():
    # OSM ways often end at the border: the lines are not cut, but the chain must break there
    G = graph_from_lines(_lines(_ring("A1", "A1")), CFG, countries=_two_countries(500.0))
    rep = G.graph["build_report"]
    assert rep["chain_breaks_at_border"] >= 1
    assert rep["km_by_country"] == {"DE": pytest.approx(1.04), "NL": pytest.approx(1.04)}
    assert G.number_of_edges() == 2
