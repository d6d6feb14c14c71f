"""Reading a written plan back: the open sites of a ``plan.json``, or a site list CSV.

:func:`plan_sites_from_json` is what the route coverage needs (names, directions, chargers);
:func:`read_site_list` what the grid report needs (power and daily energy per site).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from corridor._files import read_json, read_table
from corridor._validate import require_columns
from corridor.directions import bearing_from_label
from corridor.errors import InputDataError

__all__ = [
    "SITE_LIST_COLUMNS",
    "plan_sites_from_json",
    "read_site_list",
]


def plan_sites_from_json(path_or_doc: str | Path | Mapping[str, Any]) -> pd.DataFrame:
    """Read the open sites of a ``plan.json`` (path or loaded document).

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
        doc = read_json(p, "plan file", hint="pass the plan.json written by `corridor plan`")
        src = str(p)
    sites = doc.get("sites") if isinstance(doc, Mapping) else None
    if not isinstance(sites, list):
        msg = f"{src} has no 'sites' list; is it a plan.json written by `corridor plan`?"
        raise InputDataError(msg)
    df = pd.DataFrame(sites)
    if len(df):
        require_columns(df, ("site_id", "lon", "lat"), f"{src} sites")
    for col in ("name", "lon", "lat", "direction", "chargers", "power_mw", "capacity_kg_per_day"):
        if col not in df.columns:
            df[col] = math.nan if col not in ("name", "direction") else ""
    if "site_id" not in df.columns:
        df["site_id"] = pd.Series(dtype=str)
    df["bearing_deg"] = df["direction"].map(bearing_from_label)
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


SITE_LIST_COLUMNS = ("site_id", "lon", "lat", "power_mw", "energy_mwh_per_day")


def read_site_list(path: Path) -> tuple[pd.DataFrame, str | None]:
    """Read the sites of a ``plan.json`` or a CSV (site_id, lon, lat, power_mw, energy_mwh_per_day).

    Returns
    -------
    (DataFrame, str or None)
        The sites and, for a plan.json, the scenario it was planned for.

    Raises
    ------
    InputDataError
        On a missing column, a non-numeric or negative MW/MWh, or a coordinate out of range (the
        message names the file and row).
    """
    path = Path(path)
    scenario_name = None
    fmt, lines = "", None
    if path.suffix.lower() == ".json":
        doc = read_json(path, "plan file")
        if not isinstance(doc, dict) or not isinstance(doc.get("sites"), list):
            msg = (
                f"plan file {path} holds a JSON {type(doc).__name__} without a 'sites' list; "
                "expected a plan.json written by `corridor plan`"
            )
            raise InputDataError(msg)
        try:
            frame = pd.DataFrame(doc["sites"])
        except (ValueError, TypeError) as exc:
            msg = f"plan file {path}: 'sites' is not a list of site objects ({exc})"
            raise InputDataError(msg) from None
        scenario_name = doc.get("scenario")
        what = f"plan file {path}, site"
    else:
        frame = read_table(
            path, "site list", hint="a header 'site_id,lon,lat,power_mw,energy_mwh_per_day'"
        )
        fmt = f" (file read as {frame.attrs['format']})"
        lines = frame.attrs["lines"]
        what = f"site list {path}, line"
    require_columns(frame, SITE_LIST_COLUMNS, f"site list {path}", hint=fmt.strip(" ()"))
    if frame.empty:
        msg = f"site list {path}: no sites (header only); expected one row per site"
        raise InputDataError(msg)

    def where(row: int) -> str:
        return f"{what} {lines[row] if lines is not None else row + 1}"

    ids = frame["site_id"].astype(str).str.strip()
    empty = (ids == "") | frame["site_id"].isna()
    if empty.any():
        msg = f"{where(int(empty.to_numpy().nonzero()[0][0]))}: site_id is empty"
        raise InputDataError(msg)
    dup = ids.duplicated(keep="first")
    if dup.any():
        k = int(dup.to_numpy().nonzero()[0][0])
        first = int((ids == ids.iloc[k]).to_numpy().nonzero()[0][0])
        msg = f"{where(k)}: duplicate site_id '{ids.iloc[k]}', already at {where(first)}"
        raise InputDataError(msg)
    for col in ("lon", "lat", "power_mw", "energy_mwh_per_day"):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(float))
        if col in ("power_mw", "energy_mwh_per_day"):
            bad |= values.to_numpy(float) < 0
        if col == "lon":
            bad |= values.abs().to_numpy(float) > 180
        if col == "lat":
            bad |= values.abs().to_numpy(float) > 90
        if bad.any():
            row = int(bad.nonzero()[0][0])
            kind = (
                "finite number >= 0"
                if col in ("power_mw", "energy_mwh_per_day")
                else "degree value (lon -180..180, lat -90..90)"
            )
            msg = (
                f"{where(row)} (site '{ids.iloc[row]}'): {col}={frame[col].iloc[row]!r} is not "
                f"a valid {kind}{fmt}"
            )
            raise InputDataError(msg)
        frame[col] = values
    frame["site_id"] = ids
    return frame, scenario_name
