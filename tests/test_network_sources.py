"""Tests of corridor.network sources (OSM PBF/XML, osmnx conversion), regions, speeds, corridors.

No test touches the network: osmnx graphs are parsed from a hand-made OSM XML file.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely import LineString

from corridor.catalogue import Catalogue
from corridor.config import NetworkConfig
from corridor.errors import InputDataError
from corridor.network import (
    corridor_paths,
    edges_gdf,
    graph_from_lines,
    lines_from_osmnx,
    osmnx_filter,
    osmnx_request,
    read_corridors,
    read_countries,
    read_lines,
    read_osm,
    region_polygon,
    unique_refs,
)
from corridor.network.load import CACHE_VERSION, region_countries
from corridor.network.places import lookup_place, place_key


@pytest.fixture(scope="module")
def pbf() -> Path:
    """The tiny real Amsterdam PBF of the data root (``CORRIDOR_DATA`` or ../shared/data)."""
    try:
        catalogue = Catalogue.from_env()
    except InputDataError as exc:
        pytest.skip(f"no data root for the Amsterdam PBF: {exc}")
    if not catalogue.is_present("amsterdam_pbf"):
        rel = catalogue.dataset("amsterdam_pbf").relpath
        pytest.skip(f"{catalogue.root / rel} not present (set CORRIDOR_DATA to the data root)")
    return catalogue.path("amsterdam_pbf")


# A motorway ring (two carriageways 44 m apart joined by links) with a two-way trunk spur and a
# footway. Way 101 has no oneway tag (implied one-way on motorways), 102 has "A12;A15".
TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="52.0000" lon="5.0000" version="1"/>
  <node id="2" lat="52.0000" lon="5.0100" version="1"/>
  <node id="3" lat="52.0000" lon="5.0200" version="1"/>
  <node id="4" lat="52.0004" lon="5.0200" version="1"/>
  <node id="5" lat="52.0004" lon="5.0100" version="1"/>
  <node id="6" lat="52.0004" lon="5.0000" version="1"/>
  <node id="7" lat="51.9900" lon="5.0100" version="1"/>
  <node id="8" lat="51.9900" lon="5.0200" version="1"/>
  <way id="101" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="motorway"/><tag k="ref" v="A12"/><tag k="name" v="Testweg"/></way>
  <way id="102" version="1"><nd ref="4"/><nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="motorway"/><tag k="ref" v="A12;A15"/><tag k="oneway" v="yes"/></way>
  <way id="103" version="1"><nd ref="3"/><nd ref="4"/><tag k="highway" v="motorway_link"/></way>
  <way id="104" version="1"><nd ref="6"/><nd ref="1"/><tag k="highway" v="motorway_link"/></way>
  <way id="105" version="1"><nd ref="7"/><nd ref="2"/>
    <tag k="highway" v="trunk"/><tag k="ref" v="N270"/><tag k="oneway" v="no"/></way>
  <way id="106" version="1"><nd ref="7"/><nd ref="8"/><tag k="highway" v="footway"/></way>
</osm>
"""
NO_RAMPS = NetworkConfig(ramp_connector_m=0.0)


@pytest.fixture(scope="module")
def tiny_osm(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("osm") / "tiny.osm"
    p.write_text(TINY_OSM, encoding="utf-8")
    return p


def _edge_summary(G: nx.MultiDiGraph) -> list[tuple]:
    e = edges_gdf(G)
    return sorted(zip(e["highway"], e["ref"], e["length_m"].round(1), strict=True))


# --- OSM files ------------------------------------------------------------------------------


def test_real_pbf_trunk_ways_with_tags(pbf: Path):
    lines = read_osm(pbf)
    assert len(lines) == 6
    assert set(lines["highway"]) == {"trunk"}
    assert set(lines["ref"]) == {"S112"}
    assert set(lines["name"]) == {"Gooiseweg"}
    assert set(lines["oneway"]) == {"yes"}
    assert lines["osm_id"].str.fullmatch(r"w\d+").all()
    assert lines.crs.to_epsg() == 4326
    assert lines.total_bounds == pytest.approx([4.92, 52.33, 4.95, 52.35], abs=0.02)
    # the extract holds two one-way carriageway pieces: strongly connected only through the
    # U-turn connectors at the extract's cut ends; without them a clear error
    G = graph_from_lines(read_lines([pbf]), NetworkConfig())
    assert nx.is_strongly_connected(G)
    rep = G.graph["build_report"]
    assert rep["km_by_class"]["trunk"] == pytest.approx(2.07, abs=0.05)
    assert rep["source_files"] == ["amsterdam_small.osm.pbf"]
    with pytest.raises(InputDataError, match="no strongly connected part"):
        graph_from_lines(lines, NO_RAMPS)


def test_corrupt_and_empty_osm_files(tmp_path: Path):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dgarbage bytes, not a PBF blob header" * 10)
    with pytest.raises(InputDataError, match=r"cannot read OSM file .*broken\.osm\.pbf"):
        read_lines([bad])
    with pytest.raises(InputDataError, match=r"missing\.osm\.pbf does not exist"):
        read_osm(tmp_path / "missing.osm.pbf")


def test_osm_file_without_wanted_ways(pbf: Path):
    with pytest.raises(InputDataError, match=r"amsterdam_small\.osm\.pbf holds no ways"):
        read_osm(pbf, highway_classes=("motorway",))


def test_osm_xml_builds_ring_with_oneway_semantics(tiny_osm: Path):
    lines = read_osm(tiny_osm)
    assert sorted(lines["osm_id"]) == ["w101", "w102", "w103", "w104", "w105"]  # no footway
    G = graph_from_lines(read_lines([tiny_osm]), NO_RAMPS)
    assert nx.is_strongly_connected(G)
    summary = _edge_summary(G)
    # implied one-way motorway (101): one direction only; two-way trunk: both directions
    assert [s for s in summary if s[0] == "trunk"] == [("trunk", "N270", 1113.1)] * 2
    motorway_km = sum(s[2] for s in summary if s[0] == "motorway") / 1000
    assert motorway_km == pytest.approx(2 * 1.373, abs=0.01)


# --- osmnx ----------------------------------------------------------------------------------


def test_osmnx_request_building():
    cfg = NetworkConfig()
    assert osmnx_filter(cfg.highway_classes) == (
        '["highway"~"^(motorway|motorway_link|trunk|trunk_link)$"]'
    )
    func, kw = osmnx_request(cfg, bbox_lonlat=(5.9, 51.3, 6.3, 51.5))
    assert func == "graph_from_bbox"
    assert kw["bbox"] == (5.9, 51.3, 6.3, 51.5)
    assert kw["simplify"] is False and kw["retain_all"] is True
    poly = shapely.box(5.9, 51.3, 6.3, 51.5)
    func, kw = osmnx_request(cfg, polygon=poly)
    assert func == "graph_from_polygon" and kw["polygon"] is poly
    with pytest.raises(InputDataError, match="no region"):
        osmnx_request(cfg)
    with pytest.raises(InputDataError, match=r"not \(min_lon"):
        osmnx_request(cfg, bbox_lonlat=(6.3, 51.3, 5.9, 51.5))
    with pytest.raises(InputDataError, match="non-empty OSM tag"):
        osmnx_filter(['motorway"]; out;'])


def test_osmnx_graph_converts_to_the_same_graph(tiny_osm: Path):
    import osmnx as ox

    Gx = ox.graph_from_xml(tiny_osm, simplify=False, retain_all=True)
    lines = lines_from_osmnx(Gx)
    assert (lines["oneway"] == "yes").all()
    assert "A12;A15" in set(lines["ref"])
    via_osmnx = graph_from_lines(lines, NO_RAMPS)
    via_osmium = graph_from_lines(read_lines([tiny_osm]), NO_RAMPS)
    assert _edge_summary(via_osmnx) == _edge_summary(via_osmium)
    # a simplified osmnx graph merges the link and motorway ways: refused, clearly
    simplified = ox.graph_from_xml(tiny_osm, simplify=True, retain_all=True)
    with pytest.raises(InputDataError, match="simplify=False"):
        lines_from_osmnx(simplified)


# --- regions, speeds, cache key ---------------------------------------------------------------


def test_region_from_nuts_and_polygon_file(tmp_path: Path, catalogue: Catalogue):
    cat = catalogue
    cfg = NetworkConfig(nuts_ids=("NL42", "DEA"))
    assert region_countries(cfg) == ("DE", "NL")
    region = region_polygon(cat, cfg)
    assert region.contains(shapely.Point(6.17, 51.37))  # Venlo, Limburg (NL42)
    assert region.contains(shapely.Point(6.76, 51.43))  # Duisburg, NRW (DEA)
    assert not region.contains(shapely.Point(5.48, 51.44))  # Eindhoven, Noord-Brabant
    with pytest.raises(InputDataError, match=r"NUTS ids \['NL99'\] not found"):
        region_polygon(cat, NetworkConfig(nuts_ids=("NL99",)))
    # a polygon file narrows the NUTS selection
    poly = tmp_path / "box.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(5.9, 51.2, 6.4, 51.6)], crs=4326).to_file(poly)
    both = region_polygon(cat, cfg.model_copy(update={"polygon_file": poly}))
    assert both.area < region.area
    assert both.contains(shapely.Point(6.17, 51.37))
    assert region_polygon(cat, NetworkConfig()) is None
    assert CACHE_VERSION.startswith("network-") and len(CACHE_VERSION) > 12


def test_region_clip_and_country_speeds(catalogue: Catalogue):
    cat = catalogue
    # two-way roads crossing the NL–DE border near Venlo (trunk in NL, motorway on to DE),
    # clipped to Limburg (NL42)
    lines = gpd.GeoDataFrame(
        {"highway": ["trunk", "motorway"], "oneway": ["no", "no"], "ref": ["N1", "A1"]},
        geometry=[
            LineString([(6.05, 51.37), (6.18, 51.37)]),
            LineString([(6.18, 51.37), (6.40, 51.37)]),
        ],
        crs=4326,
    )
    cfg = NetworkConfig(
        ramp_connector_m=0.0,
        snap_tolerance_m=0.0,
        speed_kph_by_country={"NL": {"trunk": 60.0}},
    )
    full = graph_from_lines(lines, cfg, read_countries(cat))
    e = edges_gdf(full)
    assert set(e["country"]) == {"NL", "DE"}
    assert (e.loc[e["highway"] == "trunk", "country"] == "NL").all()
    assert (e.loc[e["highway"] == "trunk", "speed_kph"] == 60.0).all()
    # the motorway crosses the border: cut there, its NL part is NL, both at motorway speed
    assert set(e.loc[e["highway"] == "motorway", "country"]) == {"NL", "DE"}
    assert (e.loc[e["highway"] == "motorway", "speed_kph"] == cfg.speed_kph["motorway"]).all()
    assert full.graph["build_report"]["lines_split_at_border"] == 1
    region = region_polygon(cat, NetworkConfig(nuts_ids=("NL42",)))
    clipped = graph_from_lines(lines, cfg, read_countries(cat), region=region)
    assert set(edges_gdf(clipped)["country"]) == {"NL"}
    assert clipped.graph["build_report"]["km_total"] < full.graph["build_report"]["km_total"]
    with pytest.raises(ValueError, match="speed_kph must be > 0"):
        NetworkConfig(speed_kph_by_country={"DE": {"motorway": 0.0}})


# --- refs and corridors -----------------------------------------------------------------------


def test_unique_refs_split_and_once_in_order():
    assert unique_refs(["A16", "A16;A59", "", "A59", "A16", " A2 "]) == ["A16", "A59", "A2"]


def test_read_corridors_reuses_afir_file_and_checks_input(tmp_path: Path):
    corridors = read_corridors()
    assert "Rotterdam–Venlo–Duisburg–Dortmund" in corridors  # afir_corridors.toml
    assert "Rotterdam–Arnhem–Emmerich–Oberhausen" in corridors  # corridors.toml
    assert all(len(w) >= 2 for w in corridors.values())
    f = tmp_path / "c.toml"
    f.write_text('[[corridor]]\nname = "X"\nwaypoints = ["Venlo", [6.76, 51.43]]\n')
    assert read_corridors([f]) == {"X": [(6.172, 51.37), (6.76, 51.43)]}
    f.write_text('[[corridor]]\nname = "Y"\nwaypoints = ["Venlo", "Atlantis"]\n')
    with pytest.raises(InputDataError, match=r"c\.toml: corridor 'Y': waypoint 'Atlantis'"):
        read_corridors([f])


def test_corridor_paths_both_directions(tiny_osm: Path):
    G = graph_from_lines(read_lines([tiny_osm]), NO_RAMPS)
    # from the south end of the trunk to the middle of the northern carriageway and back
    res = corridor_paths(G, [(5.0100, 51.9901), (5.0150, 52.0004)], weight="length_m")
    out, back = res["outbound"], res["inbound"]
    assert out["refs"][:2] == ["N270", "A12"]
    # out: trunk north (1.102 km), then east on the southern carriageway to x=5.015 (0.343);
    # back: west on the northern carriageway (1.030), link (0.044), east again on the southern
    # one to the trunk (0.687), trunk south (1.102)
    assert out["length_km"] == pytest.approx(1.102 + 0.343, abs=0.01)
    assert back["length_km"] == pytest.approx(1.030 + 0.044 + 0.687 + 1.102, abs=0.01)
    assert back["refs"] == ["A12", "A15", "N270"]
    # each path is a directed walk on the graph
    for path in (out, back):
        for a, b in zip(path["nodes"][:-1], path["nodes"][1:], strict=True):
            assert G.has_edge(a, b)
        assert len(path["snap_m"]) == 2 and max(path["snap_m"]) < 50  # ≤ one carriageway away
    with pytest.raises(InputDataError, match="at least two waypoints"):
        corridor_paths(G, [(5.0, 52.0)])
    assert np.isfinite(out["travel_time_min"])


def test_place_key_one_normalisation_for_routes_and_corridors(tmp_path: Path):
    assert place_key("Osnabrück") == place_key("OSNABRUCK") == "osnabruck"
    assert place_key("'s-Hertogenbosch") == place_key("s Hertogenbosch") == "shertogenbosch"
    assert place_key("Port of Amsterdam") == place_key("port-of-amsterdam")
    # corridor waypoints resolve names the same way as route files
    f = tmp_path / "c.toml"
    f.write_text('[[corridor]]\nname = "X"\nwaypoints = ["s Hertogenbosch", "osnabruck"]\n')
    assert read_corridors([f])["X"] == [
        lookup_place("'s-Hertogenbosch"),
        lookup_place("Osnabrück"),
    ]
