"""Reading a written plan back: the open sites of a ``plan.json``."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from corridor.errors import InputDataError

__all__ = ["bearing_from_direction", "plan_sites_from_json"]


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
