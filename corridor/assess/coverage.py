"""Route coverage for logistics firms: can my trucks drive my routes with the plan's sites?

For each route of a routes file and each direction, the truck's route is found on the road graph
(:func:`corridor.network.query.shortest_route`), the plan's sites on that carriageway are picked
up, and the state of charge (or tank level) is simulated along the route with a lazy driver (stop
only when the next site or the destination cannot be reached above the reserve, then charge just
enough for the destination, at most to ``soc_max``). It reports the stops with their arrival state
of charge and charging minutes, the longest gap between energy points, and whether the stops can
double as the EU mandatory 45-minute break after 4.5 h of driving (Regulation (EC) 561/2006,
Art. 7).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from corridor.assess.trucks import TruckProfile
from corridor.errors import InputDataError
from corridor.network.places import load_gazetteer, lookup_place

__all__ = [
    "BREAK_AFTER_H",
    "BREAK_MIN",
    "Coverage",
    "coverage_map",
    "plan_sites_from_json",
    "read_routes",
    "route_coverage",
    "simulate_route",
    "write_coverage_csv",
    "write_stops_csv",
]

#: EU Regulation (EC) 561/2006 Art. 7: a break of at least 45 minutes after 4.5 h of driving.
BREAK_AFTER_H = 4.5
BREAK_MIN = 45.0
ROUTE_COLUMNS = [
    "route_id",
    "origin",
    "destination",
    "origin_lon",
    "origin_lat",
    "dest_lon",
    "dest_lat",
    "trips_per_day",
]
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


# --------------------------------------------------------------------------------------------
# reading routes


def _line_of(row_pos: int) -> int:
    return row_pos + 2  # header is line 1


def read_routes(path: str | Path, gazetteer: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read a routes file.

    Two layouts are accepted (``trips_per_day`` optional in both, default 1):
    ``route_id,origin_lon,origin_lat,dest_lon,dest_lat`` (degrees, WGS84) or
    ``route_id,origin,destination`` with place names of the built-in gazetteer
    (``data/gazetteer.csv``). A row may mix both when all columns are present: names are used
    where the coordinates are empty.

    Parameters
    ----------
    path
        CSV file.
    gazetteer
        Place names to use instead of the built-in gazetteer.

    Returns
    -------
    pandas.DataFrame
        Columns ``route_id``, ``origin``, ``destination`` (names, or "lon,lat"),
        ``origin_lon``, ``origin_lat``, ``dest_lon``, ``dest_lat``, ``trips_per_day``.

    Raises
    ------
    InputDataError
        For a missing or empty file, missing columns, a malformed or out-of-range coordinate,
        an unknown place name (close names suggested) or a duplicate route id; the message names
        the file, line and route.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"routes file {path} not found"
        raise InputDataError(msg)
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        msg = (
            f"routes file {path} is empty; expected a header "
            "'route_id,origin_lon,origin_lat,dest_lon,dest_lat' or 'route_id,origin,destination' "
            "and one row per route"
        )
        raise InputDataError(msg)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = f"routes file {path} is not a readable CSV: {exc}"
        raise InputDataError(msg) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.empty:
        msg = f"routes file {path} is empty: it has a header but no route rows"
        raise InputDataError(msg)
    cols = set(raw.columns)
    coord_cols = {"origin_lon", "origin_lat", "dest_lon", "dest_lat"}
    if "route_id" not in cols or not (coord_cols <= cols or {"origin", "destination"} <= cols):
        msg = (
            f"routes file {path} has columns {list(raw.columns)}; expected route_id and either "
            "origin_lon, origin_lat, dest_lon, dest_lat or origin, destination "
            "(plus optional trips_per_day)"
        )
        raise InputDataError(msg)
    gaz = load_gazetteer() if gazetteer is None else gazetteer
    rows = []
    seen: dict[str, int] = {}
    for pos, rec in enumerate(raw.to_dict("records")):
        line = _line_of(pos)
        rid = str(rec.get("route_id", "")).strip()
        where = f"routes file {path}, line {line}" + (f" (route '{rid}')" if rid else "")
        if not rid:
            msg = f"{where}: route_id is empty"
            raise InputDataError(msg)
        if rid in seen:
            msg = f"{where}: duplicate route_id, already on line {seen[rid]}"
            raise InputDataError(msg)
        seen[rid] = line
        out: dict[str, Any] = {"route_id": rid}
        for end, lon_c, lat_c, name_c in (
            ("origin", "origin_lon", "origin_lat", "origin"),
            ("dest", "dest_lon", "dest_lat", "destination"),
        ):
            lon_s = str(rec.get(lon_c, "")).strip()
            lat_s = str(rec.get(lat_c, "")).strip()
            name = str(rec.get(name_c, "")).strip()
            if lon_s or lat_s:
                lon, lat = _coord(lon_s, lat_s, lon_c, lat_c, where)
                label = name or f"{lon:.4f},{lat:.4f}"
            elif name:
                try:
                    lon, lat = lookup_place(name, gaz)
                except InputDataError as exc:
                    msg = f"{where}, column {name_c}: {exc}"
                    raise InputDataError(msg) from None
                label = name
            else:
                msg = f"{where}: no {name_c} given (need {lon_c}/{lat_c} or a place name)"
                raise InputDataError(msg)
            out[f"{end}_lon"], out[f"{end}_lat"] = lon, lat
            out["origin" if end == "origin" else "destination"] = label
        trips = str(rec.get("trips_per_day", "")).strip()
        try:
            out["trips_per_day"] = float(trips) if trips else 1.0
        except ValueError:
            msg = f"{where}: trips_per_day '{trips}' is not a number"
            raise InputDataError(msg) from None
        if not (math.isfinite(out["trips_per_day"]) and out["trips_per_day"] >= 0):
            msg = f"{where}: trips_per_day must be a number >= 0, got '{trips}'"
            raise InputDataError(msg)
        rows.append(out)
    return pd.DataFrame(rows)[ROUTE_COLUMNS]


def _coord(lon_s: str, lat_s: str, lon_c: str, lat_c: str, where: str) -> tuple[float, float]:
    try:
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        msg = (
            f"{where}: malformed coordinate {lon_c}='{lon_s}', {lat_c}='{lat_s}'; expected "
            "decimal degrees such as 4.03 and 51.95"
        )
        raise InputDataError(msg) from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        msg = (
            f"{where}: coordinate out of range {lon_c}={lon_s}, {lat_c}={lat_s} "
            "(longitude -180..180, latitude -90..90 degrees)"
        )
        raise InputDataError(msg)
    return lon, lat


# --------------------------------------------------------------------------------------------
# the plan's sites


def _bearing_from_direction(direction: Any) -> float:
    m = re.search(r"\((\d+(?:\.\d+)?)\s*°\)", str(direction or ""))
    return float(m.group(1)) if m else math.nan


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
            _bearing_from_direction
        )
    if not len(sites):
        return sites, np.empty((0, 2))
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    sx, sy = to_xy.transform(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    return sites, np.column_stack([sx, sy])


def plan_sites_from_json(path_or_doc: str | Path | Mapping[str, Any]) -> pd.DataFrame:
    """The open sites of a ``plan.json`` (path or loaded document).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``site_id``: ``name``, ``lon``, ``lat``, ``direction``, ``bearing_deg``
        (NaN for both directions), ``chargers``, ``power_mw``, ``capacity_kg_per_day``.

    Raises
    ------
    InputDataError
        If the file is missing, not JSON or has no ``sites`` list.
    """
    if isinstance(path_or_doc, Mapping):
        doc, src = path_or_doc, "plan document"
    else:
        p = Path(path_or_doc)
        if not p.is_file():
            msg = f"plan file {p} not found: pass the plan.json written by `corridor plan`"
            raise InputDataError(msg)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            msg = f"plan file {p} is not valid JSON (line {exc.lineno}): {exc.msg}"
            raise InputDataError(msg) from None
        src = str(p)
    sites = doc.get("sites")
    if not isinstance(sites, list):
        msg = f"{src} has no 'sites' list; is it a plan.json written by `corridor plan`?"
        raise InputDataError(msg)
    df = pd.DataFrame(sites)
    for col in ("site_id", "lon", "lat"):
        if len(df) and col not in df.columns:
            msg = f"{src}: sites lack '{col}'"
            raise InputDataError(msg)
    for col in ("name", "direction", "chargers", "power_mw", "capacity_kg_per_day"):
        if col not in df.columns:
            df[col] = math.nan if col not in ("name", "direction") else ""
    if "site_id" not in df.columns:
        df["site_id"] = pd.Series(dtype=str)
    df["bearing_deg"] = df["direction"].map(_bearing_from_direction)
    cols = [
        "name",
        "lon",
        "lat",
        "direction",
        "bearing_deg",
        "chargers",
        "power_mw",
        "capacity_kg_per_day",
    ]
    return df.set_index("site_id")[cols]


# --------------------------------------------------------------------------------------------
# simulation


@dataclass(frozen=True)
class _SiteOnRoute:
    site_id: str
    name: str
    km: float
    detour_km: float
    rate: float  # kW for bev, kg/min for h2
    lon: float
    lat: float


def _sites_on_route(
    line: shapely.LineString,
    length_km: float,
    sites_xy: np.ndarray,
    sites: pd.DataFrame,
    max_site_distance_m: float,
    max_bearing_diff_deg: float,
    profile: TruckProfile | None,
    access_km: float,
) -> list[_SiteOnRoute]:
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
            _SiteOnRoute(
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
        Output of :func:`read_routes`.
    profile
        The truck (:func:`corridor.assess.trucks.read_truck_profile`).
    sites
        The plan's open sites (:func:`plan_sites_from_json`, or the shortlist indexed by
        ``site_id``): ``name``, ``lon``, ``lat``, ``bearing_deg`` (NaN: both directions) or
        ``direction``, ``chargers``, ``power_mw``.
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

    crs = graph.graph.get("crs", "EPSG:3035")
    sites, sites_xy = plan_sites_xy(sites, crs)
    rows, stop_rows, geoms = [], [], []
    for r in routes.itertuples(index=False):
        ends = {
            "outbound": ((r.origin_lon, r.origin_lat), (r.dest_lon, r.dest_lat)),
            "return": ((r.dest_lon, r.dest_lat), (r.origin_lon, r.origin_lat)),
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
            on_route = _sites_on_route(
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


# --------------------------------------------------------------------------------------------
# writers and map


def write_coverage_csv(coverage: Coverage, path: Path) -> None:
    """Write ``coverage.csv``: one row per route and direction (no geometry)."""
    pd.DataFrame(coverage.routes.drop(columns="geometry")).to_csv(
        path, index=False, quoting=csv.QUOTE_MINIMAL
    )


def write_stops_csv(coverage: Coverage, path: Path) -> None:
    """Write ``coverage_stops.csv``: one row per charging / refuelling stop."""
    coverage.stops.to_csv(path, index=False)


def coverage_map(coverage: Coverage, sites: pd.DataFrame, title: str) -> Any:
    """Map of the routes (green served / red not served, per direction) and their stops.

    Parameters
    ----------
    coverage
        Output of :func:`route_coverage`.
    sites
        The plan's open sites (``lon``, ``lat``, ``name``).
    title
        Shown in the legend (escaped).

    Returns
    -------
    folium.Map
    """
    import html

    import folium
    from branca.element import Element

    from corridor.outputs.maps import ATTRIBUTION_HTML, _html, _popup_table

    fmap = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer(
        "OpenStreetMap", name="OpenStreetMap tiles (online only)", attr=ATTRIBUTION_HTML
    ).add_to(fmap)
    lines = coverage.routes.copy()
    lines["geometry"] = lines.geometry.simplify(50.0)
    lines = lines.to_crs("EPSG:4326")
    for direction, dash in (("outbound", None), ("return", "8 6")):
        group = folium.FeatureGroup(name=f"Routes {direction}")
        for row in lines[lines["direction"] == direction].itertuples():
            served = bool(row.feasible)
            popup = _popup_table(
                {
                    "Route": row.route_id,
                    "From → to": f"{row.origin} → {row.destination}",
                    "Served": "yes" if served else "no",
                    "Distance (km)": float(row.distance_km),
                    "Stops": row.stop_names or "none",
                    "Charging (min)": float(row.charge_min_total),
                    "Longest gap (km)": float(row.longest_gap_km),
                    "Why not": row.reason or "–",
                }
            )
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda _f, c=("#2b8a3e" if served else "#c92a2a"), d=dash: {
                    "color": c,
                    "weight": 4,
                    "opacity": 0.8,
                    "dashArray": d,
                },
                popup=folium.Popup(popup, max_width=380),
                tooltip=_html(
                    f"{row.route_id} ({direction}): {'served' if served else 'NOT served'}"
                ),
            ).add_to(group)
        group.add_to(fmap)
    stops = folium.FeatureGroup(name=f"Stops ({len(coverage.stops)})")
    for s in coverage.stops.itertuples():
        folium.CircleMarker(
            location=(s.lat, s.lon),
            radius=7,
            color="#1864ab",
            fill=True,
            fill_opacity=0.9,
            popup=folium.Popup(
                _popup_table(
                    {
                        "Route": f"{s.route_id} ({s.direction}), stop {s.stop_no}",
                        "Site": f"{s.name} ({s.site_id})",
                        "Arrival SoC": f"{100 * s.arrival_soc:.0f} %",
                        "Departure SoC": f"{100 * s.departure_soc:.0f} %",
                        f"Energy ({s.energy_unit})": float(s.energy),
                        "Minutes": float(s.charge_min),
                        "Can be the 45-min break": "yes" if s.break_here else "no",
                    }
                ),
                max_width=360,
            ),
            tooltip=_html(f"stop {s.stop_no}: {s.name or s.site_id}"),
        ).add_to(stops)
    stops.add_to(fmap)
    plan = folium.FeatureGroup(name=f"Plan sites ({len(sites)})")
    for sid, row in sites.iterrows():
        folium.CircleMarker(
            location=(float(row["lat"]), float(row["lon"])),
            radius=4,
            color="#495057",
            fill=True,
            fill_opacity=0.6,
            tooltip=_html(f"{row.get('name', '')} ({sid}, {row.get('direction', '')})"),
        ).add_to(plan)
    plan.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    n_ok = int(coverage.routes["feasible"].sum())
    legend = f"""
    <div id="corridor-legend" style="position:fixed;bottom:56px;left:12px;z-index:9999;
      background:white;padding:8px 10px;border:1px solid #999;font:12px sans-serif;max-width:340px">
      <b>{html.escape(title)}</b><br>
      truck: {html.escape(coverage.truck)}; {n_ok} of {len(coverage.routes)} route directions served
      <br><span style="color:#2b8a3e">&#9644;</span> served
      <span style="color:#c92a2a">&#9644;</span> not served (dashed: return direction)<br>
      <span style="color:#1864ab">&#9679;</span> charging / refuelling stop<br>
      <small>{ATTRIBUTION_HTML}</small>
    </div>"""
    fmap.get_root().html.add_child(Element(legend))
    if len(lines):
        b = lines.total_bounds
        fmap.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    return fmap
