"""Pilot-fleet mode: N trucks of M firms on named NL–DE corridor routes.

The routes come from a curated CSV (``corridor/data/flows/pilot_routes.csv``; firms are anonymised
``firm-01`` …, the weights in its ``trucks`` column are illustrative, the coordinates are the
named places). ``PilotFleetConfig.trucks`` trucks are distributed over the routes in proportion
to that column by the largest-remainder method (every route keeps at least one truck), so the
total is exactly ``trucks``. A route with ``trips_per_day`` = k puts ``trucks × k`` trucks per day
on its origin→destination path and, with ``both_directions``, as many on the way back (k is
one-way trips per truck per day in each direction served). All pilot trucks are of the planned
technology: ``ze_trucks_per_day = trucks_per_day``.

The trip model follows the file. The origin is the firm's depot, where the truck charges; a route
served in both directions is a round trip out and back without charging at the destination
(``return_od_id`` of the outbound row names the return row, and the siting model joins the two
into one round trip), unless the optional column ``destination_charging`` is true: then each
direction is a one-way trip that starts charged at its own end. Without depot charging at the
destination a truck must reach a public station on the way back, which is what a pilot corridor
is for; a one-way model that starts charged at both ends would count most pilot trips as drivable
without any station.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from corridor._files import read_table, shipped_or_local
from corridor._validate import Region, check_points_near, require_columns
from corridor.config import FlowsConfig, PilotFleetConfig
from corridor.errors import InputDataError
from corridor.flows.etisplus import _TO_3035
from corridor.flows.routing import RoutingGraph, place_nodes, route_flows

__all__ = [
    "PILOT_ROUTE_COLUMNS",
    "allocate_trucks",
    "check_pilot_routes_near",
    "pilot_od",
    "read_pilot_routes",
    "route_pilot",
]

log = logging.getLogger(__name__)

PILOT_ROUTE_COLUMNS = (
    "firm",
    "route_id",
    "origin_name",
    "origin_lon",
    "origin_lat",
    "destination_name",
    "destination_lon",
    "destination_lat",
    "trucks",
    "trips_per_day",
    "both_directions",
)
#: Optional columns of a pilot routes file (``corridor`` is a free-text label).
PILOT_ROUTE_OPTIONAL = ("corridor", "destination_charging")
_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
_BOOL_TEXT = "true or false (also yes/no, 1/0)"


def read_pilot_routes(path: str | Path) -> pd.DataFrame:
    """Read and check a pilot routes CSV (columns :data:`PILOT_ROUTE_COLUMNS`).

    Relative paths are looked up in the shipped data folder (``corridor/data``), then in the
    current directory.

    Raises
    ------
    InputDataError
        Naming the file, column and line for a missing file or column, a duplicate
        ``route_id``, coordinates outside lon/lat range, ``trucks`` < 0 / non-numeric,
        ``trips_per_day`` <= 0 or a ``both_directions`` that is not true/false.
    """
    p = shipped_or_local(path)
    if not p.is_file():
        msg = f"pilot routes file {p} not found (set flows.pilot_fleet.routes_file)"
        raise InputDataError(msg)
    df = read_table(p, "pilot routes file", hint="a header " + ",".join(PILOT_ROUTE_COLUMNS))
    require_columns(
        df, PILOT_ROUTE_COLUMNS, f"pilot routes file {p}", hint=f"read as {df.attrs['format']}"
    )
    unknown = [c for c in df.columns if c not in (*PILOT_ROUTE_COLUMNS, *PILOT_ROUTE_OPTIONAL)]
    if unknown:
        msg = (
            f"pilot routes file {p}: unknown column(s) {unknown}; the columns are "
            f"{', '.join(PILOT_ROUTE_COLUMNS)} and optionally {', '.join(PILOT_ROUTE_OPTIONAL)} "
            "(check the spelling, or remove the column)"
        )
        raise InputDataError(msg)
    if df.empty:
        msg = f"pilot routes file {p} has a header but no routes; expected one row per route"
        raise InputDataError(msg)
    line = np.asarray(df.attrs["lines"])
    df = df.replace({"": np.nan})

    raw = df.copy()

    def fail(mask: np.ndarray, what: str, *columns: str) -> None:
        if mask.any():
            msg = f"pilot routes file {p}: {what} at line(s) {line[mask][:5].tolist()}"
            texts = raw.loc[mask, list(columns)].astype(str) if columns else None
            if texts is not None and texts.apply(lambda c: c.str.contains(",")).any().any():
                msg += "; a decimal comma needs a ';'-separated file (or write a decimal point)"
            raise InputDataError(msg)

    fail(
        (df["route_id"].fillna("").astype(str).str.strip() == "").to_numpy(),
        "empty 'route_id' (give every route a unique id, e.g. maasvlakte-duisburg)",
    )
    fail(df["route_id"].duplicated().to_numpy(), "duplicate 'route_id'")
    fail((df["firm"].fillna("").astype(str).str.strip() == "").to_numpy(), "empty 'firm'")
    for end in ("origin", "destination"):
        lon = pd.to_numeric(df[f"{end}_lon"], errors="coerce")
        lat = pd.to_numeric(df[f"{end}_lat"], errors="coerce")
        bad = ~(lon.between(-180, 180) & lat.between(-90, 90))
        fail(
            bad.to_numpy(),
            f"'{end}_lon'/'{end}_lat' must be degrees (lon -180..180, lat -90..90)",
            f"{end}_lon",
            f"{end}_lat",
        )
        df[f"{end}_lon"], df[f"{end}_lat"] = lon, lat
    same = (df["origin_lon"] == df["destination_lon"]) & (df["origin_lat"] == df["destination_lat"])
    fail(same.to_numpy(), "origin and destination are the same point (a route needs two ends)")
    trucks = pd.to_numeric(df["trucks"], errors="coerce")
    fail(
        ~(np.isfinite(trucks) & (trucks >= 0)).to_numpy(),
        "'trucks' must be a finite number >= 0",
        "trucks",
    )
    trips = pd.to_numeric(df["trips_per_day"], errors="coerce")
    fail(
        ~(np.isfinite(trips) & (trips > 0)).to_numpy(),
        "'trips_per_day' must be a finite number > 0 (trips per truck per day)",
        "trips_per_day",
    )
    both = df["both_directions"].astype(str).str.strip().str.lower().map(_BOOL)
    fail(both.isna().to_numpy(), f"'both_directions' must be {_BOOL_TEXT}")
    if "destination_charging" in df.columns:
        dest = df["destination_charging"].fillna("false").astype(str).str.strip().str.lower()
        dest = dest.map(_BOOL)
        fail(dest.isna().to_numpy(), f"'destination_charging' must be {_BOOL_TEXT}, or empty")
    else:
        dest = pd.Series(False, index=df.index)
    out = df.assign(
        trucks=trucks.astype(float),
        trips_per_day=trips,
        both_directions=both.astype(bool),
        destination_charging=dest.astype(bool),
    )
    out.attrs["lines"] = line.tolist()
    out.attrs["path"] = str(p)
    return out


def allocate_trucks(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer trucks per route summing to ``total``, proportional to ``weights``.

    Every route gets one truck first; the remaining ``total - n`` trucks are shared by the
    largest-remainder (Hamilton) method, ties broken by route order (deterministic).

    Raises
    ------
    InputDataError
        If ``total`` is below the number of routes or all weights are zero.
    """
    w = np.asarray(weights, dtype=float)
    n = len(w)
    if total < n:
        msg = f"pilot fleet of {total} trucks cannot cover {n} routes (at least 1 truck each)"
        raise InputDataError(msg)
    if w.sum() <= 0:
        msg = "pilot routes: all 'trucks' weights are zero"
        raise InputDataError(msg)
    rest = total - n
    quota = w / w.sum() * rest
    base = np.floor(quota).astype(int)
    left = rest - int(base.sum())
    order = np.lexsort((np.arange(n), -(quota - base)))
    base[order[:left]] += 1
    return base + 1


def pilot_od(routes: pd.DataFrame, fleet: PilotFleetConfig) -> pd.DataFrame:
    """Directed pilot OD rows (before routing).

    Returns
    -------
    DataFrame
        ``od_id`` ("pilot-<route_id>-out" / "-back"), ``firm``, ``route_id``, ``origin`` /
        ``destination`` (place names), ``x0``, ``y0``, ``x1``, ``y1`` (EPSG:3035 m),
        ``trucks`` (fleet trucks on the route), ``trucks_per_day`` = ``ze_trucks_per_day``
        (trucks × trips_per_day per direction) and ``return_od_id`` (on the outbound row of a
        round trip: the od id of its way back; else empty).

    Raises
    ------
    InputDataError
        If the routes name fewer than ``fleet.firms`` firms.
    """
    firms = routes["firm"].nunique()
    if firms < fleet.firms:
        msg = (
            f"pilot routes name {firms} firm(s), fewer than flows.pilot_fleet.firms = "
            f"{fleet.firms}; add routes of more firms or lower 'firms'"
        )
        raise InputDataError(msg)
    where = routes.attrs.get("path", "the pilot routes file")
    if fleet.trucks < len(routes):
        msg = (
            f"flows.pilot_fleet.trucks = {fleet.trucks} cannot cover the {len(routes)} routes of "
            f"{where} (at least 1 truck each); raise 'trucks' or drop routes"
        )
        raise InputDataError(msg)
    if float(routes["trucks"].sum()) <= 0:
        msg = (
            f"{where}: every route's 'trucks' is 0; give each route its share of the fleet "
            "(weights, scaled to flows.pilot_fleet.trucks)"
        )
        raise InputDataError(msg)
    trucks = allocate_trucks(routes["trucks"].to_numpy(), fleet.trucks)
    x0, y0 = _TO_3035.transform(routes["origin_lon"].to_numpy(), routes["origin_lat"].to_numpy())
    x1, y1 = _TO_3035.transform(
        routes["destination_lon"].to_numpy(), routes["destination_lat"].to_numpy()
    )
    per_day = trucks * routes["trips_per_day"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "od_id": "pilot-" + routes["route_id"] + "-out",
            "firm": routes["firm"].to_numpy(),
            "route_id": routes["route_id"].to_numpy(),
            "origin": routes["origin_name"].to_numpy(),
            "destination": routes["destination_name"].to_numpy(),
            "x0": x0,
            "y0": y0,
            "x1": x1,
            "y1": y1,
            "trucks": trucks,
            "trucks_per_day": per_day,
        }
    )
    back = out[routes["both_directions"].to_numpy()].rename(
        columns={
            "origin": "destination",
            "destination": "origin",
            **{"x0": "x1", "y0": "y1", "x1": "x0", "y1": "y0"},
        }
    )
    back = back.assign(od_id=back["od_id"].str.replace(r"-out$", "-back", regex=True))
    # no charging at the destination: the truck drives out and back on one depot charge
    round_trip = routes["both_directions"].to_numpy() & ~_destination_charging(routes)
    out["return_od_id"] = np.where(
        round_trip, "pilot-" + routes["route_id"].astype(str) + "-back", ""
    )
    back["return_od_id"] = ""
    od = pd.concat([out, back[out.columns]], ignore_index=True)
    od["ze_trucks_per_day"] = od["trucks_per_day"]
    return od


def _destination_charging(routes: pd.DataFrame) -> np.ndarray:
    if "destination_charging" not in routes.columns:
        return np.zeros(len(routes), dtype=bool)
    return routes["destination_charging"].fillna(False).astype(bool).to_numpy()


def check_pilot_routes_near(routes: pd.DataFrame, rg: RoutingGraph, path: Path) -> None:
    """Every pilot route end must lie near the road graph (the one plausibility rule).

    Raises
    ------
    InputDataError
        Naming the file, line, route and end, its distance and the graph's extent (and whether
        swapping longitude and latitude would fit).
    """
    region = Region.from_xy(rg.xy[:, 0], rg.xy[:, 1], "EPSG:3035", "road graph")
    line = routes.attrs.get("lines") or []
    if len(line) != len(routes):
        line = (routes.index.to_numpy() + 2).tolist()
    for end in ("origin", "destination"):
        check_points_near(
            routes[f"{end}_lon"].to_numpy(float),
            routes[f"{end}_lat"].to_numpy(float),
            region,
            what=[
                f"pilot routes file {path}, line {k} (route '{rid}'), {end}"
                for k, rid in zip(line, routes["route_id"], strict=True)
            ],
        )


def route_pilot(
    rg: RoutingGraph, config: FlowsConfig
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Place and route the pilot fleet of ``config.pilot_fleet`` on the graph.

    A route end farther than :data:`corridor._validate.MAX_POINT_KM` from the graph is an error
    (:func:`check_pilot_routes_near`); ends on the same graph node (or farther than
    ``config.max_connector_km``) are excluded (reason ``same_graph_node`` / ``pilot_off_graph``)
    and counted.

    Returns
    -------
    od, edge_volumes, excluded, report
        ``od`` has the FLOWS columns plus ``firm``, ``route_id``, ``trucks``,
        ``return_od_id`` and ``source`` = "pilot".
    """
    fleet = config.pilot_fleet
    if fleet is None:
        msg = "route_pilot needs flows.pilot_fleet to be set"
        raise InputDataError(msg)
    routes = read_pilot_routes(fleet.routes_file)
    check_pilot_routes_near(routes, rg, shipped_or_local(fleet.routes_file))
    od = pilot_od(routes, fleet)
    oi, ok_km = place_nodes(rg, od[["x0", "y0"]].to_numpy(), config.max_connector_km)
    di, dk_km = place_nodes(rg, od[["x1", "y1"]].to_numpy(), config.max_connector_km)
    od = od.assign(origin_connector_km=ok_km, destination_connector_km=dk_km)
    report: dict[str, Any] = {
        "routes_file": str(shipped_or_local(fleet.routes_file)),
        "routes": len(routes),
        "firms": int(routes["firm"].nunique()),
        "trucks": int(od.drop_duplicates("route_id")["trucks"].sum()),
        "od_directed": len(od),
    }
    reason = np.where((oi < 0) | (di < 0), "pilot_off_graph", "")
    reason = np.where((reason == "") & (oi == di), "same_graph_node", reason)
    res = route_flows(
        rg,
        oi[reason == ""],
        di[reason == ""],
        {c: od.loc[reason == "", c].to_numpy() for c in ("trucks_per_day", "ze_trucks_per_day")},
    )
    sel = np.flatnonzero(reason == "")
    length = np.full(len(od), np.inf)
    length[sel] = res.path_length_m
    reason = np.where((reason == "") & ~np.isfinite(length), "unreachable", reason)
    paths = pd.Series([None] * len(od), dtype=object)
    countries = np.full(len(od), "", dtype=object)
    for k, s in enumerate(sel):
        paths.iloc[s] = res.paths[k]
        countries[s] = res.countries[k]
    od = od.assign(
        path=paths.to_numpy(),
        countries=countries,
        path_length_km=length / 1000.0,
        origin_node=rg.node_ids[np.maximum(oi, 0)],
        destination_node=rg.node_ids[np.maximum(di, 0)],
    )
    excluded = od.loc[reason != "", ["origin", "destination", "trucks_per_day"]].assign(
        reason=reason[reason != ""]
    )
    od = od[reason == ""].reset_index(drop=True)
    for r in ("pilot_off_graph", "same_graph_node", "unreachable"):
        report[f"excluded_{r}"] = int((reason == r).sum())
    report["routed_od"] = len(od)
    report["routed_trucks_per_day"] = float(od["trucks_per_day"].sum())
    report["connector_km_max"] = float(
        max(od["origin_connector_km"].max(), od["destination_connector_km"].max())
        if len(od)
        else np.nan
    )
    log.info(
        "pilot fleet: %d trucks of %d firms on %d routes, %d directed OD routed",
        report["trucks"],
        report["firms"],
        report["routes"],
        len(od),
    )
    return od.drop(columns=["x0", "y0", "x1", "y1"]), res.edge_volumes, excluded, report
