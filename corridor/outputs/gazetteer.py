"""A small built-in gazetteer of corridor cities, logistics hubs, ports and border crossings."""

from __future__ import annotations

import difflib
import unicodedata
from functools import cache
from pathlib import Path

import pandas as pd

from corridor._files import DATA_DIR
from corridor._validate import require_columns
from corridor.errors import InputDataError

__all__ = ["GAZETTEER_PATH", "load_gazetteer", "lookup_place"]

#: The shipped gazetteer (name, lon, lat, kind, country); coordinates in degrees (WGS84).
GAZETTEER_PATH = DATA_DIR / "gazetteer.csv"


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return " ".join(text.casefold().replace("-", " ").split())


@cache
def _load(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"name": str, "kind": str, "country": str})
    require_columns(df, ("name", "lon", "lat", "kind", "country"), f"gazetteer {path}")
    df["key"] = df["name"].map(_key)
    return df


def load_gazetteer(path: str | Path = GAZETTEER_PATH) -> pd.DataFrame:
    """The gazetteer: ``name``, ``lon``, ``lat`` (degrees), ``kind``, ``country``, ``key``."""
    return _load(str(path)).copy()


def lookup_place(name: str, gazetteer: pd.DataFrame | None = None) -> tuple[float, float]:
    """Coordinates (lon, lat) of a gazetteer place; accents, case and hyphens are ignored.

    Raises
    ------
    InputDataError
        If the name is unknown; the message suggests close names.
    """
    gaz = load_gazetteer() if gazetteer is None else gazetteer
    keys = gaz["key"] if "key" in gaz.columns else gaz["name"].map(_key)
    hit = gaz[keys == _key(name)]
    if len(hit):
        return float(hit["lon"].iloc[0]), float(hit["lat"].iloc[0])
    close = difflib.get_close_matches(str(name), list(gaz["name"]), n=3, cutoff=0.5)
    close += [
        gaz["name"].iloc[i]
        for i, k in enumerate(keys)
        if _key(name) and (_key(name) in k or k in _key(name))
    ]
    close = list(dict.fromkeys(close))[:4]
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    msg = f"unknown place name '{name}' {hint} (or give origin_lon/origin_lat coordinates)"
    raise InputDataError(msg.replace("  ", " "))
