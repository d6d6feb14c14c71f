"""Reading a logistics firm's routes file: one row per route, ends as coordinates or place names.

Place names are looked up in the gazetteer (:mod:`corridor.network.places`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from corridor._files import read_table
from corridor.errors import InputDataError
from corridor.network.places import load_gazetteer, lookup_place

__all__ = ["ROUTE_COLUMNS", "read_routes"]

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


def read_routes(path: str | Path, gazetteer: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read a routes file.

    Two layouts are accepted (``trips_per_day`` optional in both, default 1):
    ``route_id,origin_lon,origin_lat,dest_lon,dest_lat`` (degrees, WGS84) or
    ``route_id,origin,destination`` with place names of the built-in gazetteer
    (``corridor/data/gazetteer.csv``). A row may mix both when all columns are present: names are
    used where the coordinates are empty.

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
    raw = read_table(
        path,
        "routes file",
        hint=(
            "a header 'route_id,origin_lon,origin_lat,dest_lon,dest_lat' or "
            "'route_id,origin,destination' and one row per route"
        ),
    )
    fmt = raw.attrs["format"]
    lines = raw.attrs["lines"]
    if raw.empty:
        msg = f"routes file {path} is empty: it has a header but no route rows"
        raise InputDataError(msg)
    cols = set(raw.columns)
    coord_cols = {"origin_lon", "origin_lat", "dest_lon", "dest_lat"}
    if "route_id" not in cols or not (coord_cols <= cols or {"origin", "destination"} <= cols):
        msg = (
            f"routes file {path} has columns {list(raw.columns)}; expected route_id and either "
            "origin_lon, origin_lat, dest_lon, dest_lat or origin, destination "
            f"(plus optional trips_per_day); read as {fmt}"
        )
        raise InputDataError(msg)
    gaz = load_gazetteer() if gazetteer is None else gazetteer
    rows = []
    seen: dict[str, int] = {}
    for pos, rec in enumerate(raw.to_dict("records")):
        line = lines[pos]
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
                lon, lat = _coord(lon_s, lat_s, lon_c, lat_c, where, fmt)
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
            msg = f"{where}: trips_per_day '{trips}' is not a number (file read as {fmt})"
            raise InputDataError(msg) from None
        if not (math.isfinite(out["trips_per_day"]) and out["trips_per_day"] >= 0):
            msg = f"{where}: trips_per_day must be a number >= 0, got '{trips}'"
            raise InputDataError(msg)
        rows.append(out)
    return pd.DataFrame(rows)[ROUTE_COLUMNS]


def _coord(
    lon_s: str, lat_s: str, lon_c: str, lat_c: str, where: str, fmt: str
) -> tuple[float, float]:
    try:
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        msg = (
            f"{where}: malformed coordinate {lon_c}='{lon_s}', {lat_c}='{lat_s}'; expected "
            f"decimal degrees such as 4.03 and 51.95 (file read as {fmt})"
        )
        raise InputDataError(msg) from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        msg = (
            f"{where}: coordinate out of range {lon_c}={lon_s}, {lat_c}={lat_s} "
            "(longitude -180..180, latitude -90..90 degrees)"
        )
        raise InputDataError(msg)
    return lon, lat
