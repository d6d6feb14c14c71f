"""Stages on the small inputs shipped in tests/data (no ../shared/data needed).

* ``roads_arnhem_a12.geojson``: about 40 km of OSM motorway lines (A12, A348, N325) between
  Arnhem and Duiven, cut from the shared ``osm_motorways_2021/NL_gelderland.geojson``;
* ``candidates_arnhem_a12.csv``: five candidate sites (two service areas and a rest area beside
  a carriageway, a truck parking 400 m off the road, a yard far from the stretch);
* ``od_arnhem_a12.csv``: ten routes (five OD pairs, each way) between nodes of the stretch.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from corridor.assess.routes import read_routes
from corridor.config import NetworkConfig, SitesConfig
from corridor.directions import BOTH_LABEL, direction_of_bearing
from corridor.network.build import graph_from_lines
from corridor.network.io import read_lines
from corridor.network.query import shortest_route
from corridor.sites import read_user_sites, snap_to_carriageways

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return graph_from_lines(read_lines(DATA / "roads_arnhem_a12.geojson"), NetworkConfig())


def test_small_road_graph(graph: nx.MultiDiGraph) -> None:
    assert graph.graph["crs"] == "EPSG:3035"
    assert nx.is_strongly_connected(graph)
    km = sum(d["length_m"] for _, _, d in graph.edges(data=True)) / 1000.0
    assert 20.0 < km < 40.0
    refs = {str(d.get("ref", "")) for _, _, d in graph.edges(data=True)}
    assert any("A12" in r for r in refs)


def test_five_candidates_snap_to_their_carriageways(graph: nx.MultiDiGraph) -> None:
    sites = read_user_sites(DATA / "candidates_arnhem_a12.csv")
    assert len(sites) == 5
    cand = snap_to_carriageways(sites, graph, SitesConfig())
    by_name = cand.sites.set_index("name")
    # service / rest areas beside one carriageway serve that carriageway's direction
    east = by_name.loc["Verzorgingsplaats Oost"]
    west = by_name.loc["Verzorgingsplaats West"]
    assert direction_of_bearing(east["bearing_deg"], 90.0) == {"outbound"}
    assert direction_of_bearing(west["bearing_deg"], 90.0) == {"inbound"}
    assert east["direction"].startswith("SE") and west["direction"].startswith("NW")
    # the truck parking off the road is reached from a junction: both directions
    assert by_name.loc["Truckparking Duiven", "direction"] == BOTH_LABEL
    # the yard 15 km east of the stretch has no carriageway nearby
    assert len(cand.sites) == 4
    assert list(cand.excluded["site_id"].str.endswith("user-far")) == [True]


def test_ten_od_routes_drive_on_the_small_graph(graph: nx.MultiDiGraph) -> None:
    routes = read_routes(DATA / "od_arnhem_a12.csv")
    assert len(routes) == 10 and routes["trips_per_day"].sum() == pytest.approx(32.0)
    km = {}
    for r in routes.itertuples(index=False):
        route = shortest_route(graph, (r.origin_lon, r.origin_lat), (r.dest_lon, r.dest_lat))
        assert 1.0 < route.length_km < 15.0
        assert max(route.snap_m) < 500.0
        km[r.route_id] = route.length_km
    # each OD pair is listed in both directions; the two carriageways differ by little
    for out, back in (("r01", "r02"), ("r03", "r04"), ("r05", "r06")):
        assert km[out] == pytest.approx(km[back], rel=0.15)
