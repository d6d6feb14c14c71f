"""Reading a written plan back: the open sites of a ``plan.json``, or a site list CSV.

:func:`plan_sites_from_json` is what the route coverage needs (names, directions, chargers);
:func:`read_site_list` what the grid report needs (power and daily energy per site).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from corridor._files import read_json
from corridor._validate import require_columns
from corridor.errors import InputDataError

__all__ = [
    "SITE_LIST_COLUMNS",
    "bearing_from_direction",
    "plan_sites_from_json",
    "read_site_list",
]


def bearing_from_direction(direction: Any) -> float:
    """Carriageway bearing (deg) in a plan's direction label such as ``"E (92°)"``; NaN if none."""
    m = re.search(r"\((\d+(?:\.\d+)?)\s*°\)", str(direction or ""))
    return float(m.group(1)) if m else math.nan


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
        doc = read_json(p, "plan file", hint="pass the plan.json written by `corridor plan`")
        src = str(p)
    sites = doc.get("sites")
    if not isinstance(sites, list):
        msg = f"{src} has no 'sites' list; is it a plan.json written by `corridor plan`?"
        raise InputDataError(msg)
    df = pd.DataFrame(sites)
    if len(df):
        require_columns(df, ("site_id", "lon", "lat"), f"{src} sites")
    for col in ("name", "direction", "chargers", "power_mw", "capacity_kg_per_day"):
        if col not in df.columns:
            df[col] = math.nan if col not in ("name", "direction") else ""
    if "site_id" not in df.columns:
        df["site_id"] = pd.Series(dtype=str)
    df["bearing_deg"] = df["direction"].map(bearing_from_direction)
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
    if path.suffix.lower() == ".json":
        doc = read_json(path, "plan file")
        try:
            frame = pd.DataFrame(doc["sites"])
            scenario_name = doc.get("scenario")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            msg = f"{path}: not a corridor plan.json with a 'sites' list ({exc})"
            raise InputDataError(msg) from None
    else:
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            msg = f"{path}: cannot read the site list as CSV ({exc})"
            raise InputDataError(msg) from None
    require_columns(frame, SITE_LIST_COLUMNS, f"site list {path}")
    if frame.empty:
        msg = f"{path}: no sites"
        raise InputDataError(msg)
    for col in ("lon", "lat", "power_mw", "energy_mwh_per_day"):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | ((values < 0) if col in ("power_mw", "energy_mwh_per_day") else False)
        if col == "lon":
            bad |= values.abs() > 180
        if col == "lat":
            bad |= values.abs() > 90
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            kind = "non-negative number" if col in ("power_mw", "energy_mwh_per_day") else "degree"
            msg = f"{path}: row {row + 1}: {col}={frame[col].iloc[row]!r} is not a valid {kind}"
            raise InputDataError(msg)
        frame[col] = values
    frame["site_id"] = frame["site_id"].astype(str)
    return frame, scenario_name
