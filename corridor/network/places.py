"""Place names: the built-in gazetteer of corridor cities, logistics hubs, ports and borders.

The one reader of ``corridor/data/gazetteer.csv``: route files (:mod:`corridor.assess.routes`)
and corridor waypoints (:mod:`corridor.network.corridors`) look names up here, with one
normalisation (:func:`place_key`).
"""

from __future__ import annotations

import difflib
import unicodedata
from functools import cache
from pathlib import Path

import pandas as pd

from corridor._files import DATA_DIR
from corridor._validate import require_columns
from corridor.errors import InputDataError

__all__ = ["GAZETTEER_PATH", "load_gazetteer", "lookup_place", "place_key"]

#: The shipped gazetteer (name, lon, lat, kind, country); coordinates in degrees (WGS84).
GAZETTEER_PATH = DATA_DIR / "gazetteer.csv"


def place_key(name: str) -> str:
    """Accent-, case-, space- and punctuation-insensitive key of a place name.

    >>> place_key("Osnabrück") == place_key("osnabruck")
    True
    >>> place_key("'s-Hertogenbosch") == place_key("s Hertogenbosch")
    True
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@cache
def _load(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"name": str, "kind": str, "country": str})
    require_columns(df, ("name", "lon", "lat", "kind", "country"), f"gazetteer {path}")
    df["key"] = df["name"].map(place_key)
    return df


def load_gazetteer(path: str | Path = GAZETTEER_PATH) -> pd.DataFrame:
    """The gazetteer: ``name``, ``lon``, ``lat`` (degrees), ``kind``, ``country``, ``key``."""
    return _load(str(path)).copy()


def lookup_place(
    name: str,
    gazetteer: pd.DataFrame | None = None,
    otherwise: str = "or give origin_lon/origin_lat coordinates",
) -> tuple[float, float]:
    """Coordinates (lon, lat) of a gazetteer place (names compared by :func:`place_key`).

    Parameters
    ----------
    name
        Place name.
    gazetteer
        Instead of the built-in gazetteer (:func:`load_gazetteer`).
    otherwise
        What the caller may give instead of a name, appended to the error message.

    Raises
    ------
    InputDataError
        If the name is unknown; the message suggests close names.
    """
    gaz = load_gazetteer() if gazetteer is None else gazetteer
    keys = gaz["key"] if "key" in gaz.columns else gaz["name"].map(place_key)
    hit = gaz[keys == place_key(name)]
    if len(hit):
        return float(hit["lon"].iloc[0]), float(hit["lat"].iloc[0])
    close = difflib.get_close_matches(str(name), list(gaz["name"]), n=3, cutoff=0.5)
    close += [
        gaz["name"].iloc[i]
        for i, k in enumerate(keys)
        if place_key(name) and (place_key(name) in k or k in place_key(name))
    ]
    close = list(dict.fromkeys(close))[:4]
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    msg = f"unknown place name '{name}' {hint} ({otherwise})"
    raise InputDataError(msg.replace("  ", " "))
