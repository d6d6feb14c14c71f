"""Route coverage: routes files, truck profiles, gazetteer, SoC simulation on a hand-made graph."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString

from corridor._files import DATA_DIR
from corridor.assess.coverage import route_coverage
from corridor.assess.routes import read_routes
from corridor.assess.trucks import (
    DEFAULT_TRUCK_PROFILE,
    load_truck_profile,
    read_truck_profile,
    truck_profiles,
)
from corridor.errors import InputDataError
from corridor.network.places import load_gazetteer, lookup_place
from corridor.outputs.coverage import coverage_map, write_coverage_csv

TO_LL = Transformer.from_crs("EPSG:3035", "EPSG:4326", always_xy=True)
X0, Y0 = 4_000_000.0, 3_200_000.0  # EPSG:3035, around 51.5°N 6°E


def line_graph(length_km: float = 800.0, step_km: float = 50.0) -> nx.MultiDiGraph:
    """A straight east–west dual carriageway: eastbound 30 m south of westbound, 80 km/h."""
    g = nx.MultiDiGraph(crs="EPSG:3035", source="test", built_at="2026-01-01", build_report={})
    n = int(length_km / step_km) + 1
    for side, dy, sign in (("e", 0.0, 1), ("w", 30.0, -1)):
        for i in range(n):
            x = X0 + i * step_km * 1000.0
            lon, lat = TO_LL.transform(x, Y0 + dy)
            g.add_node(i if side == "e" else 1000 + i, x=x, y=Y0 + dy, lon=lon, lat=lat)
        for i in range(n - 1):
            a, b = (i, i + 1) if sign > 0 else (1000 + i + 1, 1000 + i)
            pa, pb = g.nodes[a], g.nodes[b]
            geom = LineString([(pa["x"], pa["y"]), (pb["x"], pb["y"])])
            g.add_edge(
                a,
                b,
                key=0,
                edge_id=f"{side}{i}",
                length_m=geom.length,
                highway="motorway",
                ref="A1",
                name="",
                speed_kph=80.0,
                travel_time_s=geom.length / (80 / 3.6),
                country="NL",
                geometry=geom,
                bearing_deg=90.0 if sign > 0 else 270.0,
            )
    return g


def lonlat(km: float, dy: float = -500.0) -> tuple[float, float]:
    return TO_LL.transform(X0 + km * 1000.0, Y0 + dy)


def sites_at(*specs: tuple[str, float, float, float]) -> pd.DataFrame:
    """Sites (id, km, offset from the eastbound carriageway m, bearing) with 4 × 1 MW."""
    rows = []
    for sid, km, dy, bearing in specs:
        lon, lat = lonlat(km, dy)
        rows.append(
            {
                "site_id": sid,
                "name": f"Site {sid}",
                "lon": lon,
                "lat": lat,
                "direction": "both" if math.isnan(bearing) else f"E ({bearing:.0f}°)",
                "bearing_deg": bearing,
                "chargers": 4,
                "power_mw": 4.0,
            }
        )
    cols = ["site_id", "name", "lon", "lat", "direction", "bearing_deg", "chargers", "power_mw"]
    return pd.DataFrame(rows, columns=cols).set_index("site_id")


def routes_frame(km_a: float, km_b: float) -> pd.DataFrame:
    (ao, aa), (bo, ba) = lonlat(km_a), lonlat(km_b)
    return pd.DataFrame(
        [
            {
                "route_id": "r1",
                "origin": "A",
                "destination": "B",
                "origin_lon": ao,
                "origin_lat": aa,
                "dest_lon": bo,
                "dest_lat": ba,
                "trips_per_day": 3.0,
            }
        ]
    )


# ---- truck profiles and gazetteer ----------------------------------------------------------


def test_shipped_truck_profiles_have_sources_and_load_into_vehicle_config() -> None:
    names = set(truck_profiles())
    assert {"mcs-600kwh", "ccs-540kwh", "h2-80kg"} <= names
    assert DEFAULT_TRUCK_PROFILE in names
    mcs = read_truck_profile(None)
    assert mcs.vehicle.technology == "bev" and mcs.vehicle.battery_kwh >= 600
    assert mcs.max_charge_power_kw >= 1000 and mcs.sources
    h2 = read_truck_profile("h2-80kg")
    assert 70 <= h2.vehicle.tank_kg <= 80
    assert 0.07 <= h2.vehicle.consumption_kg_per_km <= 0.08 and h2.h2_fill_kg_per_min > 0
    assert load_truck_profile("ccs-540kwh").battery_kwh == 540.0


def test_user_truck_profile_errors(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="unknown truck profile 'nope'"):
        read_truck_profile("nope")
    bad = tmp_path / "t.toml"
    bad.write_text("[vehicle]\ntechnology='bev'\nbattery_kwh=-5\n")
    with pytest.raises(InputDataError, match=r"vehicle\.battery_kwh"):
        read_truck_profile(bad)
    bad.write_text("[vehicle]\nbatery_kwh=500\n")
    with pytest.raises(InputDataError, match="batery_kwh"):
        read_truck_profile(bad)
    bad.write_text("[meta]\nname='mine'\nmax_charge_power_kw=400\n[vehicle]\nbattery_kwh=450\n")
    p = read_truck_profile(bad)
    assert p.name == "mine" and p.vehicle.battery_kwh == 450 and p.max_charge_power_kw == 400


def test_gazetteer_places_are_on_the_corridor() -> None:
    gaz = load_gazetteer()
    assert gaz["name"].is_unique
    # NL–DE–DK corridor places, and the Scandinavian ends of the H2 pilot (coarse links)
    assert gaz["lon"].between(3.3, 13.1).all() and gaz["lat"].between(50.7, 60.0).all()
    assert set(gaz["country"]) == {"NL", "DE", "DK", "SE", "NO"}
    assert set(gaz.loc[gaz["lat"] > 56.5, "country"]) == {"SE", "NO"}
    assert lookup_place("osnabruck") == lookup_place("Osnabrück")
    assert lookup_place("s Hertogenbosch") == lookup_place("'s-Hertogenbosch")
    with pytest.raises(InputDataError, match="did you mean 'Duisburg'"):
        lookup_place("Duisberg")


# ---- routes files ----------------------------------------------------------------------------


def test_read_shipped_routes_file() -> None:
    df = read_routes(DATA_DIR / "routes" / "nl-de-pilot-routes.csv")
    assert len(df) >= 10 and df["route_id"].is_unique
    assert df[["origin_lon", "origin_lat", "dest_lon", "dest_lat"]].notna().all().all()
    assert (df["trips_per_day"] > 0).all()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty; expected a header"),
        ("route_id,origin,destination\n", "header but no route rows"),
        (
            "route_id,origin_lon,origin_lat,dest_lon,dest_lat\na,4.0,51.9,6.7,51.4\n"
            "b,4.0,5x1.9,6.7,51.4\n",
            r"line 3 \(route 'b'\): malformed coordinate origin_lon='4.0', origin_lat='5x1.9'",
        ),
        (
            "route_id,origin_lon,origin_lat,dest_lon,dest_lat\na,4.0,51.9,6.7,151.4\n",
            "line 2 .*out of range",
        ),
        (
            "route_id,origin,destination\nx,Venlo,Duisberg\n",
            r"line 2 \(route 'x'\), column destination: unknown place name 'Duisberg'.*Duisburg",
        ),
        ("route_id,origin,destination\nx,Venlo,Dortmund\nx,Venlo,Essen\n", "duplicate route_id"),
        ("id,from,to\nx,Venlo,Dortmund\n", "expected route_id and either"),
        (
            "route_id,origin,destination,trips_per_day\nx,Venlo,Dortmund,many\n",
            "trips_per_day 'many' is not a number",
        ),
    ],
)
def test_read_routes_errors_name_the_row(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "routes.csv"
    f.write_text(text)
    with pytest.raises(InputDataError, match=match):
        read_routes(f)


# ---- simulation on a hand-made graph ---------------------------------------------------------


def test_route_needs_a_stop_and_gets_it_in_each_direction(tmp_path: Path) -> None:
    g = line_graph()
    profile = read_truck_profile("mcs-600kwh")  # start range 414 km, 362 km after a stop
    # eastbound site at km 300 (south side), westbound site at km 300 (north side)
    sites = sites_at(("east", 300, -200, 90.0), ("west", 300, 230, 270.0))
    cov = route_coverage(g, routes_frame(50, 650), profile, sites)
    r = cov.routes.set_index("direction")
    assert r.loc["outbound", "feasible"] and r.loc["inbound", "feasible"]
    assert r.loc["outbound", "stops"] == "east" and r.loc["inbound", "stops"] == "west"
    assert r.loc["outbound", "distance_km"] == pytest.approx(601.0, abs=1.5)
    assert r.loc["outbound", "drive_h"] == pytest.approx(601 / 80, rel=0.02)
    st = cov.stops.set_index("direction").loc["outbound"]
    # arrive after ~251 km: 0.9 - 251 * 1.2 / 621
    assert st["arrival_soc"] == pytest.approx(0.9 - 251.2 * 1.2 / 621, abs=0.01)
    assert 0.1 < st["arrival_soc"] < st["departure_soc"] <= 0.8 + 1e-9
    # 4 MW over 4 chargers = 1,000 kW per truck
    energy = (st["departure_soc"] - st["arrival_soc"]) * 621
    assert st["charge_min"] == pytest.approx(energy / 1000 * 60, abs=0.1)
    assert st["drive_h_since_break"] < 4.5 and st["break_here"] and st["charge_fits_break"]
    assert r.loc["outbound", "breaks_required"] == 1
    assert r.loc["outbound", "stops_coincide_with_breaks"]
    assert r.loc["outbound", "longest_gap_km"] == pytest.approx(350.5, abs=1.5)
    write_coverage_csv(cov, tmp_path / "coverage.csv")
    back = pd.read_csv(tmp_path / "coverage.csv")
    assert list(back["route_id"]) == ["r1", "r1"] and "geometry" not in back.columns


def test_site_on_the_other_carriageway_does_not_help() -> None:
    g = line_graph()
    profile = read_truck_profile("mcs-600kwh")
    sites = sites_at(("west", 300, 230, 270.0))  # only the westbound side
    cov = route_coverage(g, routes_frame(50, 650), profile, sites)
    r = cov.routes.set_index("direction")
    assert not r.loc["outbound", "feasible"] and r.loc["inbound", "feasible"]
    assert "reserve reached at km" in r.loc["outbound", "reason"]
    assert r.loc["outbound", "sites_on_route"] == 0
    assert r.loc["outbound", "longest_gap_km"] == pytest.approx(601.0, abs=1.5)


def test_short_route_needs_no_stop_and_slow_charger_takes_longer() -> None:
    g = line_graph()
    sites = sites_at(("both", 300, -200, float("nan")))
    short = route_coverage(g, routes_frame(100, 400), read_truck_profile(None), sites)
    assert short.routes["feasible"].all() and (short.routes["n_stops"] == 0).all()
    assert (short.routes["breaks_required"] == 0).all()
    ccs = read_truck_profile("ccs-540kwh")  # 308 km start range, 250 kW
    long = route_coverage(g, routes_frame(50, 500), ccs, sites)
    assert long.routes["feasible"].all()
    st = long.stops.iloc[0]
    assert st["power_kw"] == 250.0
    assert st["charge_min"] == pytest.approx(st["energy"] / 250 * 60, abs=0.1)


def test_h2_truck_reaches_far_and_map_renders(tmp_path: Path) -> None:
    g = line_graph(length_km=1200)
    h2 = read_truck_profile("h2-80kg")  # 800 km start range
    sites = sites_at(("h2", 600, -200, 90.0))
    cov = route_coverage(g, routes_frame(20, 1150), h2, sites)
    r = cov.routes.set_index("direction")
    assert r.loc["outbound", "feasible"] and r.loc["outbound", "stops"] == "h2"
    assert not r.loc["inbound", "feasible"]  # the site serves eastbound only
    st = cov.stops.iloc[0]
    assert st["energy_unit"] == "kg" and st["charge_min"] == pytest.approx(
        st["energy"] / 7.0, abs=0.1
    )
    fmap = coverage_map(cov, sites, "Test <routes>")
    html = fmap.get_root().render()
    assert "Test &lt;routes&gt;" in html and "OpenStreetMap contributors" in html
    assert "Routes outbound" in html and "Routes inbound" in html


def test_route_far_from_graph_is_an_error() -> None:
    g = line_graph()
    far = routes_frame(50, 650)
    far.loc[0, "dest_lat"] = far.loc[0, "dest_lat"] + 2.0  # ~220 km north
    with pytest.raises(
        InputDataError, match=r"route .r1. destination .B.: point .* is 222 km from the road"
    ):
        route_coverage(g, far, read_truck_profile(None), sites_at())


def test_energy_conservation_along_the_route() -> None:
    g = line_graph()
    profile = read_truck_profile(None)
    sites = sites_at(("a", 200, -200, 90.0), ("b", 450, -200, 90.0))
    cov = route_coverage(g, routes_frame(0, 790), profile, sites)
    r = cov.routes.iloc[0]
    assert r["feasible"]
    veh = profile.vehicle
    charged = cov.stops.loc[cov.stops["direction"] == "outbound", "energy"].sum()
    used = r["distance_km"] * veh.consumption_kwh_per_km
    detours = 2 * 2 * 0.2 * veh.consumption_kwh_per_km * r["n_stops"]  # 2 × 200 m each way
    end = veh.soc_start * veh.battery_kwh + charged - used - detours
    assert end / veh.battery_kwh == pytest.approx(r["arrival_soc_destination"], abs=0.005)
    assert r["arrival_soc_destination"] >= veh.soc_reserve
    assert np.isfinite(r["min_arrival_soc"])


def test_coverage_defaults_to_the_vehicle_the_plan_was_made_for():
    from corridor.config import load_scenario
    from corridor.workflows import plan_vehicle_profile

    for name in ("nl-de-bev-pilot", "nl-de-scandinavia-h2-pilot"):
        sc = load_scenario(name)
        profile = plan_vehicle_profile(sc)
        assert profile.vehicle == sc.optimise.vehicle
        assert profile.vehicle.range_km == pytest.approx(sc.optimise.vehicle.range_km)
        assert profile.name == f"{name} vehicle"
    bev = plan_vehicle_profile(load_scenario("nl-de-bev-pilot"))
    assert bev.description == "600 kWh, 1.3 kWh/km, start at 80%"
