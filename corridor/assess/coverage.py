"""Route coverage for logistics firms: whether their trucks can drive their routes on the plan.

For each route of a routes file (:func:`corridor.assess.routes.read_routes`) and each direction,
the truck's route is found on the road graph (:func:`corridor.network.query.shortest_route`), the
plan's sites on that carriageway are picked up (:func:`sites_on_route`), and the state of charge
(or tank level) is simulated along the route with a lazy driver (stop only when the next site or
the destination cannot be reached above the reserve, then charge just enough for the destination,
at most to ``soc_max``). It reports the stops with their arrival state of charge and charging
minutes, the longest gap between energy points, and whether the stops can double as the EU
mandatory 45-minute break after 4.5 h of driving (Regulation (EC) 561/2006, Art. 7).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from corridor._validate import GRAPH_CRS, Region, check_points_near
from corridor.assess.trucks import TruckProfile
from corridor.directions import Direction, bearing_from_label
from corridor.errors import InputDataError

__all__ = [
    "BREAK_AFTER_H",
    "BREAK_MIN",
    "COVERAGE_COLUMNS",
    "STOP_COLUMNS",
    "Coverage",
    "SiteOnRoute",
    "plan_sites_xy",
    "route_coverage",
    "simulate_route",
    "sites_on_route",
]

#: EU Regulation (EC) 561/2006 Art. 7: a break of at least 45 minutes after 4.5 h of driving.
BREAK_AFTER_H = 4.5
BREAK_MIN = 45.0
COVERAGE_COLUMNS = [
    "route_id",
    "direction",
    "origin",
    "destination",
    "trips_per_day",
    "truck",
    "distance_km",
    "drive_h",
    "feasible",
    "reason",
    "n_stops",
    "stops",
    "stop_names",
    "min_arrival_soc",
    "arrival_soc_destination",
    "charge_min_total",
    "longest_gap_km",
    "longest_gap_between",
    "sites_on_route",
    "breaks_required",
    "breaks_at_stops",
    "stops_coincide_with_breaks",
    "roads",
]
STOP_COLUMNS = [
    "route_id",
    "direction",
    "stop_no",
    "site_id",
    "name",
    "km",
    "lon",
    "lat",
    "arrival_soc",
    "departure_soc",
    "energy",
    "energy_unit",
    "power_kw",
    "charge_min",
    "drive_h_since_break",
    "break_here",
    "charge_fits_break",
]


def plan_sites_xy(sites: pd.DataFrame, crs: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Plan sites with a ``bearing_deg`` column and their coordinates in the graph's CRS.

    Parameters
    ----------
    sites
        Plan sites with ``lon``/``lat`` and ``bearing_deg`` or a ``direction`` label.
    crs
        The road graph's projected CRS.

    Returns
    -------
    (DataFrame, ndarray)
        A copy of ``sites`` (``bearing_deg`` filled from ``direction`` where missing) and an
        (n, 2) array of x/y in ``crs``.
    """
    sites = sites.copy()
    if "bearing_deg" not in sites.columns:
        sites["bearing_deg"] = sites.get("direction", pd.Series("", index=sites.index)).map(
            bearing_from_label
        )
    if not len(sites):
        return sites, np.empty((0, 2))
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    sx, sy = to_xy.transform(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    return sites, np.column_stack([sx, sy])


@dataclass(frozen=True)
class SiteOnRoute:
    """A plan site on a route: km from the start, detour (km) and charging / fill rate."""

    site_id: str
    name: str
    km: float
    detour_km: float
    rate: float  # kW for bev, kg/min for h2
    lon: float
    lat: float


def sites_on_route(
    line: shapely.LineString,
    length_km: float,
    sites_xy: np.ndarray,
    sites: pd.DataFrame,
    max_site_distance_m: float,
    max_bearing_diff_deg: float,
    profile: TruckProfile | None,
    access_km: float,
) -> list[SiteOnRoute]:
    """Sites near a route line on its side of the road, in driving order (km from the start)."""
    if len(sites) == 0 or line.is_empty:
        return []
    pts = shapely.points(sites_xy)
    dist = shapely.distance(line, pts)
    near = np.flatnonzero(dist <= max_site_distance_m)
    if not len(near):
        return []
    along = shapely.line_locate_point(line, pts[near])
    a = shapely.line_interpolate_point(line, np.maximum(along - 50.0, 0.0))
    b = shapely.line_interpolate_point(line, np.minimum(along + 50.0, line.length))
    dx = shapely.get_x(b) - shapely.get_x(a)
    dy = shapely.get_y(b) - shapely.get_y(a)
    route_bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
    scale = length_km / (line.length / 1000.0) if line.length > 0 else 1.0
    out = []
    for j, k in enumerate(near):
        row = sites.iloc[k]
        site_b = float(row["bearing_deg"]) if pd.notna(row["bearing_deg"]) else math.nan
        if math.isfinite(site_b):
            diff = abs((route_bearing[j] - site_b + 180.0) % 360.0 - 180.0)
            if diff > max_bearing_diff_deg:
                continue  # on the other carriageway
        out.append(
            SiteOnRoute(
                site_id=str(sites.index[k]),
                name=str(row.get("name", "") or ""),
                km=access_km + along[j] / 1000.0 * scale,
                detour_km=2.0 * dist[k] / 1000.0,
                rate=_rate(row, profile) if profile is not None else math.nan,
                lon=float(row["lon"]),
                lat=float(row["lat"]),
            )
        )
    return sorted(out, key=lambda s: (s.km, s.site_id))


def _rate(row: pd.Series, profile: TruckProfile) -> float:
    """Charging power (kW) per truck or H2 fill rate (kg/min) at a site."""
    if profile.vehicle.technology == "h2":
        return profile.h2_fill_kg_per_min
    power, chargers = row.get("power_mw"), row.get("chargers")
    per = math.nan
    if pd.notna(power) and pd.notna(chargers) and float(chargers) > 0:
        per = 1000.0 * float(power) / float(chargers)
    if not (isinstance(per, float) and math.isfinite(per) and per > 0):
        per = 1000.0  # one MCS charger of 1 MW
    return min(per, profile.max_charge_power_kw)


def simulate_route(
    length_km: float,
    drive_h: float,
    stops: list[Any],
    profile: TruckProfile,
) -> dict[str, Any]:
    """Drive one route direction with lazy charging at the sites on it.

    Parameters
    ----------
    length_km
        Route length (km) including the access from / to the points off the graph.
    drive_h
        Driving time (h) of the route; time at a point is taken proportional to distance.
    stops
        Sites on the route in driving order with ``site_id``, ``name``, ``km``, ``detour_km``,
        ``rate`` (kW or kg/min), ``lon``, ``lat``.
    profile
        The truck.

    Returns
    -------
    dict
        ``feasible``, ``reason``, ``stops`` (list of stop dicts, see ``STOP_COLUMNS``),
        ``arrival_soc_destination``, ``min_arrival_soc``, ``charge_min_total``,
        ``longest_gap_km``, ``longest_gap_between``, ``breaks_required``, ``breaks_at_stops``,
        ``stops_coincide_with_breaks``.
    """
    veh = profile.vehicle
    cap, cons = veh.capacity, veh.consumption_per_km
    unit = "kWh" if veh.technology == "bev" else "kg"
    speed_kmh = length_km / drive_h if drive_h > 0 else 80.0
    soc = veh.soc_start
    here = 0.0
    since_break_h = 0.0
    breaks_at_stops = 0
    made: list[dict[str, Any]] = []
    reason = ""
    arrivals: list[float] = []

    def soc_after(km: float) -> float:
        return soc - km * cons / cap

    # longest gap between energy points (origin, every site on the route, destination)
    points = [(0.0, "origin")] + [(s.km, s.name or s.site_id) for s in stops]
    points.append((length_km, "destination"))
    gaps = [(b[0] - a[0], f"{a[1]} → {b[1]}") for a, b in itertools.pairwise(points)]
    longest_gap_km, longest_between = max(gaps, key=lambda g: g[0])

    for i, s in enumerate(stops):
        leg = s.km - here
        if soc_after(leg) < veh.soc_reserve - 1e-9:
            reason = _fail(here, soc, veh, s.km, made)
            break
        soc = soc_after(leg)
        since_break_h += leg / speed_kmh
        here = s.km
        nxt = stops[i + 1].km + stops[i + 1].detour_km / 2.0 if i + 1 < len(stops) else length_km
        if soc_after(nxt - here) >= veh.soc_reserve - 1e-9:
            continue
        half = s.detour_km / 2.0
        if soc_after(half) < veh.soc_reserve - 1e-9:
            reason = _fail(here, soc, veh, here + half, made)
            break
        arrival = soc_after(half)
        to_dest = length_km - here + half
        target = min(veh.soc_max, veh.soc_reserve + to_dest * cons / cap + 0.02)
        target = max(target, arrival)
        energy = (target - arrival) * cap
        minutes = energy / s.rate * 60.0 if veh.technology == "bev" else energy / s.rate
        break_here = since_break_h <= BREAK_AFTER_H + 1e-9
        if break_here:
            breaks_at_stops += 1
        made.append(
            {
                "stop_no": len(made) + 1,
                "site_id": s.site_id,
                "name": s.name,
                "km": round(s.km, 2),
                "lon": s.lon,
                "lat": s.lat,
                "arrival_soc": round(arrival, 4),
                "departure_soc": round(target, 4),
                "energy": round(energy, 2),
                "energy_unit": unit,
                "power_kw": round(s.rate, 1) if veh.technology == "bev" else math.nan,
                "charge_min": round(minutes, 1),
                "drive_h_since_break": round(since_break_h, 2),
                "break_here": break_here,
                "charge_fits_break": minutes <= BREAK_MIN + 1e-9,
            }
        )
        arrivals.append(arrival)
        if break_here:
            since_break_h = 0.0
        soc = target - half * cons / cap
    else:
        leg = length_km - here
        if soc_after(leg) < veh.soc_reserve - 1e-9:
            reason = _fail(here, soc, veh, length_km, made)
    feasible = reason == ""
    dest_soc = soc_after(length_km - here) if feasible else math.nan
    if feasible:
        arrivals.append(dest_soc)
    breaks_required = max(0, math.ceil(drive_h / BREAK_AFTER_H - 1e-9) - 1)
    coincide = bool(made) and all(m["break_here"] and m["charge_fits_break"] for m in made)
    return {
        "feasible": feasible,
        "reason": reason,
        "stops": made,
        "arrival_soc_destination": round(dest_soc, 4) if feasible else math.nan,
        "min_arrival_soc": round(min(arrivals), 4) if arrivals else math.nan,
        "charge_min_total": round(sum(m["charge_min"] for m in made), 1),
        "longest_gap_km": round(longest_gap_km, 2),
        "longest_gap_between": longest_between,
        "breaks_required": breaks_required,
        "breaks_at_stops": min(breaks_at_stops, breaks_required),
        "stops_coincide_with_breaks": coincide,
    }


def _fail(here: float, soc: float, veh: Any, target_km: float, made: list) -> str:
    left_km = max(0.0, (soc - veh.soc_reserve) * veh.capacity / veh.consumption_per_km)
    where = f"the stop at {made[-1]['name'] or made[-1]['site_id']}" if made else "the origin"
    return (
        f"reserve reached at km {here + left_km:.0f}: {target_km - here:.0f} km to the next "
        f"energy point from km {here:.0f} ({where}) but only {left_km:.0f} km of range left"
    )


# --------------------------------------------------------------------------------------------
# all routes


@dataclass(frozen=True)
class Coverage:
    """Coverage of a set of routes.

    Attributes
    ----------
    routes
        GeoDataFrame (EPSG:3035 LineStrings), one row per route and direction, columns
        ``COVERAGE_COLUMNS``.
    stops
        DataFrame of the charging / refuelling stops, columns ``STOP_COLUMNS``.
    truck
        Profile name.
    """

    routes: gpd.GeoDataFrame
    stops: pd.DataFrame
    truck: str


def route_coverage(
    graph: Any,
    routes: pd.DataFrame,
    profile: TruckProfile,
    sites: pd.DataFrame,
    *,
    max_site_distance_m: float = 1000.0,
    max_bearing_diff_deg: float = 60.0,
    max_snap_km: float = 25.0,
) -> Coverage:
    """Simulate every route in both directions with the plan's sites.

    Parameters
    ----------
    graph
        The road graph (GRAPH contract).
    routes
        Output of :func:`corridor.assess.routes.read_routes`.
    profile
        The truck (:func:`corridor.assess.trucks.read_truck_profile`).
    sites
        The plan's open sites (:func:`corridor.assess.plans.plan_sites_from_json`, or the
        shortlist indexed by ``site_id``): ``name``, ``lon``, ``lat``, ``bearing_deg`` (NaN:
        both directions) or ``direction``, ``chargers``, ``power_mw``.
    max_site_distance_m
        A site counts as on the route when it is this close (m) to the route line; its detour is
        twice that distance.
    max_bearing_diff_deg
        A one-direction site is on the route only if the route runs within this angle (deg) of
        the site's carriageway bearing.
    max_snap_km
        An origin / destination farther than this (km) from the graph is an error.

    Returns
    -------
    Coverage

    Raises
    ------
    InputDataError
        If a route's end is too far from the road graph or no route exists; names the route.
    """
    from corridor.network.query import shortest_route

    crs = graph.graph.get("crs", GRAPH_CRS)
    sites, sites_xy = plan_sites_xy(sites, crs)
    region = Region.from_graph(graph)
    for r in routes.itertuples(index=False):
        for end, lon, lat, place in (
            ("origin", r.origin_lon, r.origin_lat, r.origin),
            ("destination", r.dest_lon, r.dest_lat, r.destination),
        ):
            check_points_near(
                lon, lat, region, max_snap_km, what=f"route '{r.route_id}' {end} '{place}'"
            )
    rows, stop_rows, geoms = [], [], []
    for r in routes.itertuples(index=False):
        ends: dict[Direction, tuple[tuple[float, float], tuple[float, float]]] = {
            "outbound": ((r.origin_lon, r.origin_lat), (r.dest_lon, r.dest_lat)),
            "inbound": ((r.dest_lon, r.dest_lat), (r.origin_lon, r.origin_lat)),
        }
        for direction, (a, b) in ends.items():
            try:
                route = shortest_route(graph, a, b)
            except InputDataError as exc:
                msg = f"route '{r.route_id}' ({direction}): {exc}"
                raise InputDataError(msg) from None
            for label, snap in zip(("origin", "destination"), route.snap_m, strict=True):
                if snap / 1000.0 > max_snap_km:
                    place = (
                        r.origin
                        if (label == "origin") == (direction == "outbound")
                        else (r.destination)
                    )
                    msg = (
                        f"route '{r.route_id}': {place} is {snap / 1000:.0f} km from the road "
                        f"graph (more than {max_snap_km:g} km); is it inside the planned "
                        "countries?"
                    )
                    raise InputDataError(msg)
            access_o, access_d = route.snap_m[0] / 1000.0, route.snap_m[1] / 1000.0
            length_km = access_o + route.length_km + access_d
            # access roads at 50 km/h
            drive_h = route.travel_time_min / 60.0 + (access_o + access_d) / 50.0
            on_route = sites_on_route(
                route.geometry,
                route.length_km,
                sites_xy,
                sites,
                max_site_distance_m,
                max_bearing_diff_deg,
                profile,
                access_o,
            )
            sim = simulate_route(length_km, drive_h, on_route, profile)
            frm, to = (
                (r.origin, r.destination) if direction == "outbound" else (r.destination, r.origin)
            )
            rows.append(
                {
                    "route_id": r.route_id,
                    "direction": direction,
                    "origin": frm,
                    "destination": to,
                    "trips_per_day": r.trips_per_day,
                    "truck": profile.name,
                    "distance_km": round(length_km, 2),
                    "drive_h": round(drive_h, 2),
                    "feasible": sim["feasible"],
                    "reason": sim["reason"],
                    "n_stops": len(sim["stops"]),
                    "stops": ";".join(s["site_id"] for s in sim["stops"]),
                    "stop_names": ";".join(s["name"] or s["site_id"] for s in sim["stops"]),
                    "min_arrival_soc": sim["min_arrival_soc"],
                    "arrival_soc_destination": sim["arrival_soc_destination"],
                    "charge_min_total": sim["charge_min_total"],
                    "longest_gap_km": sim["longest_gap_km"],
                    "longest_gap_between": sim["longest_gap_between"],
                    "sites_on_route": len(on_route),
                    "breaks_required": sim["breaks_required"],
                    "breaks_at_stops": sim["breaks_at_stops"],
                    "stops_coincide_with_breaks": sim["stops_coincide_with_breaks"],
                    "roads": ";".join(route.refs),
                }
            )
            geoms.append(route.geometry)
            for s in sim["stops"]:
                stop_rows.append({"route_id": r.route_id, "direction": direction, **s})
    gdf = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=COVERAGE_COLUMNS), geometry=geoms or None, crs=crs
    )
    return Coverage(gdf, pd.DataFrame(stop_rows, columns=STOP_COLUMNS), profile.name)
