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
    # a Danish town nearer than the Swedish one: a Swedish junction is named after a Swedish town
    towns = gpd.GeoDataFrame(
        {"name": ["Malmö", "Helsingør"], "country": ["SE", "DK"]},
        geometry=[Point(X0 + 28_000, Y0 + 30_000), Point(X0 + 28_000, Y0 + 1000)],
        crs=CRS,
    )
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
    assert list(named["name_source"]) == ["own", "register", "derived", "derived"]
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


# --- compare-sites ---------------------------------------------------------------------------

PLAN_DOC = {
    "scenario": "hand-made",
    "sites": [
        # Venlo A 67 and Duisburg A 3; Hamburg with its road only in the name
        {
            "site_id": "p1",
            "name": "Venlo",
            "lon": 6.15,
            "lat": 51.37,
            "country": "NL",
            "road": "A67",
        },
        {
            "site_id": "p2",
            "name": "Duisburg",
            "lon": 6.76,
            "lat": 51.43,
            "country": "DE",
            "road": "A 3",
        },
        {
            "site_id": "p3",
            "name": "rest area on A 7 near Hamburg, northbound",
            "lon": 9.99,
            "lat": 53.55,
            "country": "DE",
        },
    ],
}


def _plan_file(tmp_path):
    import json

    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN_DOC), encoding="utf-8")
    return path


def test_compare_sites_both_ways_by_country_and_road(tmp_path):
    from corridor.assess.compare_sites import compare_sites, plan_sites_frame, read_reference_sites

    ref = tmp_path / "ref.csv"
    # ';' and decimal commas as a spreadsheet writes them: 2 km east of Venlo (0.029° lon at
    # 51.37° N), 20 km from Duisburg, and one reference site far from every plan site
    ref.write_text(
        "Name;Lon;Lat;Road\nVenlo-Oost;6,1788;51,37;A 67\nOberhausen;6,76;51,61;A3\n"
        "München;11,58;48,14;A 9\n",
        encoding="utf-8",
    )
    plan = plan_sites_frame(PLAN_DOC["sites"])
    assert list(plan["road"]) == ["A67", "A3", "A7"]
    reference = read_reference_sites(ref)
    sites, summary = compare_sites(plan, reference, within_km=5.0)
    p = sites[sites["side"] == "plan"].set_index("id")
    assert p.at["p1", "nearest_km"] == pytest.approx(2.0, abs=0.1)
    assert list(p["matched"]) == [True, False, False]
    r = sites[sites["side"] == "reference"].set_index("id")
    assert list(r["matched"]) == [True, False, False]
    assert r.at["r2", "nearest_id"] == "p2" and r.at["r2", "nearest_km"] == pytest.approx(20, 0.02)
    top = summary.iloc[0]
    assert (top["plan_sites"], top["plan_sites_matched"]) == (3, 1)
    assert (top["reference_sites"], top["reference_sites_matched"]) == (3, 1)
    # a site counts under its own country and road: the reference file gives no country
    a67 = summary[summary["road"] == "A67"].set_index("country")
    assert a67.at["NL", "plan_sites_matched"] == 1 and a67.at["NL", "reference_sites"] == 0
    assert a67.at["?", "reference_sites_matched"] == 1
    # a larger radius matches Duisburg–Oberhausen too
    _, wide = compare_sites(plan, reference, within_km=25.0)
    assert wide.iloc[0]["plan_sites_matched"] == 2


def test_compare_sites_refuses_a_reference_list_far_from_the_plan(tmp_path):
    from corridor.assess.compare_sites import compare_sites, plan_sites_frame, read_reference_sites
    from corridor.errors import InputDataError

    plan = plan_sites_frame(PLAN_DOC["sites"])
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("name,lon,lat\nVenlo-Oost,51.37,6.1788\nOberhausen,51.61,6.76\n")
    with pytest.raises(InputDataError, match=r"over 1,000 km .* longitude and latitude swapped"):
        compare_sites(plan, read_reference_sites(swapped), within_km=5.0)
    far = tmp_path / "far.csv"
    far.write_text("name,lon,lat\nMadrid,-3.70,40.42\n")
    with pytest.raises(InputDataError, match=r"over 1,000 km from the plan's sites \(the nearest"):
        compare_sites(plan, read_reference_sites(far), within_km=5.0)


def test_compare_sites_cli_writes_tables_and_map(tmp_path):
    from typer.testing import CliRunner

    from corridor.cli import app

    ref = tmp_path / "ref.geojson"
    gpd.GeoDataFrame(
        {"name": ["Venlo-Oost"], "country": ["NL"], "ref": ["A67"]},
        geometry=[Point(6.1788, 51.37)],
        crs="EPSG:4326",
    ).to_file(ref)
    out = tmp_path / "cmp"
    res = CliRunner().invoke(
        app,
        [
            "compare-sites",
            str(_plan_file(tmp_path)),
            str(ref),
            "--within-km",
            "5",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(out / "compare_sites_summary.csv")
    nl = summary[(summary["country"] == "NL") & (summary["road"] == "A67")].iloc[0]
    assert nl["plan_sites_matched"] == 1 and nl["reference_sites_matched"] == 1
    page = (out / "compare_sites_map.html").read_text(encoding="utf-8")
    assert "OpenStreetMap contributors" in page and "ref.geojson" in page


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("ref.csv", "name,x,y\nA,6.1,51.3\n", r"ref\.csv lacks column\(s\) \['lon', 'lat'\]"),
        ("ref.csv", "name,lon,lat\nA,6.1,151.3\n", r"ref\.csv, line 2, column lat: expected"),
        ("ref.csv", "name,lon,lat\nA,east,51.3\n", r"line 2, column lon"),
        ("ref.csv", "name,lon,lat\n", r"holds no sites"),
        ("ref.txt", "lon,lat\n6,51\n", r"unknown format '\.txt'"),
        ("ref.geojson", "{not json", r"cannot read reference file"),
    ],
)
def test_compare_sites_bad_reference_is_one_line_exit_2(tmp_path, name, text, match):
    from typer.testing import CliRunner

    from corridor.cli import app

    ref = tmp_path / name
    ref.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(
        app, ["compare-sites", str(_plan_file(tmp_path)), str(ref), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    err = res.stderr.strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1
    import re

    assert re.search(match, err), err
    assert not (tmp_path / "o").exists()


def test_h2_pilot_fleet_routes_reach_scandinavia_both_ways():
    from corridor.config import load_scenario
    from corridor.flows.pilot import pilot_od, read_pilot_routes

    fleet = load_scenario("nl-de-scandinavia-h2-pilot").flows.pilot_fleet
    routes = read_pilot_routes(fleet.routes_file)
    od = pilot_od(routes, fleet)
    assert od["firm"].nunique() >= 10
    assert od.drop_duplicates("route_id")["trucks"].sum() == 250
    # every route both ways: as many trucks/day back as out
    out = od[od["od_id"].str.endswith("-out")].set_index("route_id")["trucks_per_day"]
    back = od[od["od_id"].str.endswith("-back")].set_index("route_id")["trucks_per_day"]
    assert out.sort_index().equals(back.sort_index())
    ends = set(routes["destination_name"])
    assert {"Göteborg", "Malmö", "Aarhus"} <= ends
    assert {"Rotterdam Maasvlakte", "Venlo"} <= set(routes["origin_name"])
