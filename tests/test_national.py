"""National scale on hand-made inputs: duplicate lines, coarse links at a border, site names."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, Point

from corridor.catalogue import Catalogue
from corridor.config import NetworkConfig, SitesConfig
from corridor.errors import InputDataError
from corridor.network import graph_from_lines, load_graph
from corridor.network.coarse import ETISPLUS_LINK, join_coarse_links
from corridor.network.io import drop_duplicate_geometries
from corridor.sites import snap_to_carriageways
from corridor.sites.generic import coarse_junction_sites
from corridor.sites.names import direction_words, name_sites, town_points

CRS = "EPSG:3035"
X0, Y0 = 4_000_000.0, 3_200_000.0
CFG = NetworkConfig(snap_tolerance_m=5.0, ramp_connector_m=0.0)


def _road(x0: float, x1: float, y: float = 0.0) -> LineString:
    return LineString([(X0 + x0, Y0 + y), (X0 + x1, Y0 + y)])


def _motorway(km: float = 20.0) -> gpd.GeoDataFrame:
    """A two-way east-west motorway of ``km`` (two one-way carriageways 30 m apart)."""
    east = LineString([(X0, Y0), (X0 + km * 1000, Y0)])
    west = LineString([(X0 + km * 1000, Y0 + 30), (X0, Y0 + 30)])
    # turning ramps at both ends: a loop (strongly connected) with a node at each corner
    ends = [
        LineString([(X0 + km * 1000, Y0), (X0 + km * 1000, Y0 + 30)]),
        LineString([(X0, Y0 + 30), (X0, Y0)]),
    ]
    geoms = [east, west, *ends]
    return gpd.GeoDataFrame(
        {
            "highway": ["motorway"] * 2 + ["motorway_link"] * 2,
            "ref": "A 1",
            "oneway": "yes",
            "country": "DK",
        },
        geometry=geoms,
        crs=CRS,
    )


def test_exact_duplicate_geometries_dropped_and_counted():
    a, b = _road(0, 1000), _road(1000, 2000)
    lines = gpd.GeoDataFrame(
        {"highway": "motorway", "country": ["DE", "DE", "NL", "NL", "NL"]},
        # the same piece in two region files; a reversed copy is a different geometry
        geometry=[a, b, a, LineString(list(b.coords)[::-1]), b],
        crs=CRS,
    )
    kept, dropped = drop_duplicate_geometries(lines)
    assert len(kept) == 3
    assert dropped == {"NL": 2}
    assert list(kept["country"]) == ["DE", "DE", "NL"]  # the first copy (file order) stays
    # same graph as without the copies: they added nothing
    g_all = graph_from_lines(lines, CFG)
    g_kept = graph_from_lines(kept, CFG)
    assert g_all.graph["build_report"]["km_total"] == g_kept.graph["build_report"]["km_total"]


def _coarse_tables(dx_km: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three ETISplus nodes east of the motorway's east end: a line a–b–c, ``dx_km`` away."""
    xs = [X0 + 20_000 + dx_km * 1000 + k * 50_000 for k in range(3)]
    nodes = pd.DataFrame(
        {
            "node_id": ["a", "b", "c"],
            "country": "SE",
            "lon": [12.9, 13.5, 14.1],
            "lat": [55.6, 55.6, 55.6],
            "x": xs,
            "y": [Y0, Y0, Y0],
        }
    )
    edges = pd.DataFrame(
        {
            "u": ["a", "b", "b", "c"],
            "v": ["b", "a", "c", "b"],
            "distance_km": [55.0, 55.0, 60.0, 60.0],
            "country": "SE",
        }
    )
    return nodes, edges


def test_coarse_links_join_at_the_border():
    G = graph_from_lines(_motorway(), CFG)
    n_osm = G.number_of_nodes()
    nodes, edges = _coarse_tables(dx_km=8.0)
    report = join_coarse_links(G, nodes, edges, join_km=30.0, speed_kph=80.0)
    assert nx.is_strongly_connected(G)
    coarse = [(u, v, d) for u, v, d in G.edges(data=True) if d["highway"] == ETISPLUS_LINK]
    # 4 ETISplus links + the border joins, each both ways
    joins = report["border_joins"]
    assert {j["coarse_node"] for j in joins} == {"a"}  # only the node facing the border
    assert len(coarse) == 4 + 2 * len(joins)
    for j in joins:
        assert j["km"] == pytest.approx(8.0, abs=0.05)
    # a route from the motorway's west end to c: 20 km of motorway, 8 km join, 55 + 60 km
    c = next(n for n, d in G.nodes(data=True) if d.get("etisplus") == "c")
    west_end = min(range(n_osm), key=lambda n: G.nodes[n]["x"] + G.nodes[n]["y"])
    km = nx.shortest_path_length(G, west_end, c, weight="length_m") / 1000.0
    assert km == pytest.approx(20 + 8 + 55 + 60, abs=0.2)
    assert report["km_by_country"]["SE"] == pytest.approx(2 * (55 + 60) + 2 * 8 * len(joins), 0.01)


def test_coarse_country_out_of_reach_is_an_error():
    G = graph_from_lines(_motorway(), CFG)
    nodes, edges = _coarse_tables(dx_km=80.0)
    with pytest.raises(InputDataError, match=r"coarse_countries \['SE'\].*coarse_join_km"):
        join_coarse_links(G, nodes, edges, join_km=30.0)


def test_junction_candidates_on_coarse_links_are_not_real_sites():
    G = graph_from_lines(_motorway(), CFG)
    nodes, edges = _coarse_tables(dx_km=8.0)
    join_coarse_links(G, nodes, edges, join_km=30.0)
    sites = coarse_junction_sites(G, ["SE"])
    assert sorted(sites.index) == [f"etisplus-junction-{n}" for n in "abc"]
    cand = snap_to_carriageways(sites, G, SitesConfig())
    assert len(cand.sites) == 3 and set(cand.sites["direction"]) == {"both"}
    towns = gpd.GeoDataFrame({"name": ["Malmö"]}, geometry=[Point(X0 + 28_000, Y0 + 1000)], crs=CRS)
    named = name_sites(cand.sites, cand.access, G, towns=towns)
    assert set(named["name"]) == {"junction near Malmö (not a real site)"}


def _sites(rows: list[dict]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows).set_index("site_id").assign(country="DE", source="test")
    geom = [Point(X0 + x, Y0 + y) for x, y in zip(df.pop("x"), df.pop("y"), strict=True)]
    return gpd.GeoDataFrame(df, geometry=geom, crs=CRS)


def test_site_names_osm_then_register_then_derived():
    G = graph_from_lines(_motorway(), CFG)
    sites = _sites(
        [
            {
                "site_id": "own",
                "name": "Rasthof Hüttener Berge",
                "kind": "rest_area",
                "x": 2000,
                "y": -40,
                "road_ref": "A 7",
                "direction": "E (90°)",
            },
            {
                "site_id": "reg",
                "name": "",
                "kind": "rest_area",
                "x": 6000,
                "y": -40,
                "road_ref": "",
                "direction": "E (90°)",
            },
            {
                "site_id": "far",
                "name": "(unnamed rest area, A 1)",
                "kind": "rest_area",
                "x": 12000,
                "y": 70,
                "road_ref": "",
                "direction": "W (270°)",
            },
            {
                "site_id": "both",
                "name": "",
                "kind": "truck_parking",
                "x": 15000,
                "y": 400,
                "road_ref": "A 1",
                "direction": "both",
            },
        ]
    )
    register = _sites(
        [
            # 250 m from "reg": its name is taken; 400 m from "far": too far
            {"site_id": "r1", "name": "Raststätte Ellund-West, Handewitt", "x": 6250, "y": -40},
            {"site_id": "r2", "name": "Bleiche, Flensburg", "x": 12000, "y": 470},
        ]
    )
    towns = town_points(
        pd.DataFrame(
            {
                "name": ["Kolding", "Padborg border"],
                "lon": [9.47, 9.36],
                "lat": [55.49, 54.82],
                "kind": ["city", "border"],
            }
        ),
        gpd.GeoDataFrame(
            {"NAME_LATN": ["Flensburg, Kreisfreie Stadt"]},
            geometry=[Point(X0 + 13_000, Y0 + 2000)],
            crs=CRS,
        ),
    )
    assert set(towns["name"]) == {"Kolding", "Flensburg"}  # borders are no towns
    cand = snap_to_carriageways(sites.drop(columns="direction"), G, SitesConfig())
    cand_sites = cand.sites.assign(name=sites["name"].reindex(cand.sites.index))
    named = name_sites(cand_sites, cand.access, G, register=register, towns=towns)
    assert named.at["own", "name"] == "Rasthof Hüttener Berge"
    assert named.at["reg", "name"] == "Raststätte Ellund-West, Handewitt"
    assert named.at["far", "name"] == "rest area on A 1 near Flensburg, westbound"
    assert named.at["both", "name"] == "truck parking on A 1 near Flensburg, both directions"
    assert list(named["name_source"]) == ["osm", "register", "derived", "derived"]
    assert not named["name"].str.contains("unnamed").any()


def test_direction_words():
    assert direction_words("NE (41°)") == "north-eastbound"
    assert direction_words("both") == "both directions"


@pytest.mark.slow
def test_whole_layer_duplicates_and_coarse_countries(catalogue: Catalogue, tmp_path):
    """DK with SE and NO as coarse links: strongly connected, Malmö reachable from Kolding."""
    cfg = NetworkConfig(countries=("DK",), coarse_countries=("SE", "NO"))
    G = load_graph(catalogue, cfg, cache_dir=tmp_path)
    rep = G.graph["build_report"]
    assert rep["by_country"]["SE"]["source"] == "ETISplus coarse links"
    assert rep["by_country"]["SE"]["coarse_km"] > 5000
    assert rep["by_country"]["NO"]["coarse_km"] > 5000
    assert {j["country"] for j in rep["coarse"]["border_joins"]} == {"SE"}
    assert nx.is_strongly_connected(G)
    lonlat = np.array([(d["lon"], d["lat"]) for _, d in G.nodes(data=True)])
    ids = list(G.nodes)
    kolding = ids[int(np.argmin(np.hypot(lonlat[:, 0] - 9.47, lonlat[:, 1] - 55.49)))]
    oslo = ids[int(np.argmin(np.hypot(lonlat[:, 0] - 10.75, lonlat[:, 1] - 59.91)))]
    km = nx.shortest_path_length(G, kolding, oslo, weight="length_m") / 1000.0
    assert 550 < km < 900  # Kolding–Copenhagen–Göteborg–Oslo by road is about 750 km
