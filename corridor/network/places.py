"""Place names: the built-in gazetteer of corridor cities, logistics hubs, ports and borders.

The one reader of ``corridor/data/gazetteer.csv``: route files (:mod:`corridor.assess.routes`)
and corridor waypoints (:mod:`corridor.network.corridors`) look names up here, with one
normalisation (:func:`place_key`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import pandas as pd

from corridor._files import DATA_DIR
from corridor._validate import require_columns
from corridor.errors import InputDataError

__all__ = ["GAZETTEER_PATH", "load_gazetteer", "lookup_place", "place_key", "place_keys"]

#: The shipped gazetteer (name, lon, lat, kind, country); coordinates in degrees (WGS84).
GAZETTEER_PATH = DATA_DIR / "gazetteer.csv"


def place_key(name: str) -> str:
    """Accent-, case-, space- and punctuation-insensitive key of a place name.

    >>> place_key("Osnabrück") == place_key("osnabruck")
    True
    >>> place_key("’s-Hertogenbosch") == place_key("s Hertogenbosch")
    True
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text.casefold() if ch.isalnum())


#: German / Danish spellings without the special letters (ü = ue, ß = ss, å = aa …).
_EXPAND = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa"}
)
_COLLAPSE = re.compile(r"(?<=[aou])e")


def place_keys(name: str) -> frozenset[str]:
    """Return every key a place name is known by.

    Umlauts are folded both ways (ü = ue = u); case, accents, spaces and apostrophes (``'`` or
    ``’``) are ignored.

    Parameters
    ----------
    name
        A place name as people write it (``"Köln"``, ``"Koeln"``, ``"'s-Hertogenbosch"``).

    Returns
    -------
    frozenset of str
        The keys; two names denote the same place when their key sets intersect.

    >>> bool(place_keys("Köln") & place_keys("Koeln"))
    True
    >>> bool(place_keys("Osnabrueck") & place_keys("Osnabrück"))
    True
    """
    folded = unicodedata.normalize("NFC", str(name)).casefold()
    plain = place_key(folded)
    expanded = place_key(folded.translate(_EXPAND))
    return frozenset(k for k in (plain, expanded, _COLLAPSE.sub("", plain)) if k)


@cache
def _load(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"name": str, "kind": str, "country": str, "aliases": str})
    require_columns(df, ("name", "lon", "lat", "kind", "country"), f"gazetteer {path}")
    if "aliases" not in df.columns:
        df["aliases"] = ""
    df["aliases"] = df["aliases"].fillna("")
    df["key"] = df["name"].map(place_key)
    df["keys"] = [
        frozenset().union(*(place_keys(n) for n in [name, *str(al).split(";")] if n.strip()))
        for name, al in zip(df["name"], df["aliases"], strict=True)
    ]
    return df


def load_gazetteer(path: str | Path = GAZETTEER_PATH) -> pd.DataFrame:
    """Read the gazetteer (cached per path; each call returns a copy).

    Parameters
    ----------
    path
        A gazetteer CSV; default the shipped ``data/gazetteer.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per place: ``name``, ``lon``, ``lat`` (degrees, EPSG:4326), ``kind``,
        ``country``, ``aliases`` (``;``-separated other names: exonyms, short names), ``key``
        and ``keys`` (:func:`place_keys` of the name and its aliases).

    Raises
    ------
    InputDataError
        If a required column (``name``, ``lon``, ``lat``, ``kind``, ``country``) is missing.
    """
    return _load(str(path)).copy()


def lookup_place(
    name: str,
    gazetteer: pd.DataFrame | None = None,
    otherwise: str = "or give origin_lon/origin_lat coordinates",
) -> tuple[float, float]:
    """Coordinates (lon, lat) of a gazetteer place, by its name or one of its aliases.

    Names are compared by :func:`place_keys` (Köln = Koeln = koln, Osnabrück = Osnabrueck,
    ``’s-Hertogenbosch`` = ``'s-Hertogenbosch``); an exact :func:`place_key` match of the name
    wins over an alias.

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
        If the name is unknown; the message suggests close names (rapidfuzz).
    """
    from rapidfuzz import fuzz, process

    gaz = load_gazetteer() if gazetteer is None else gazetteer
    if "keys" not in gaz.columns:
        gaz = gaz.assign(keys=gaz["name"].map(place_keys))
    key = place_key(name)
    exact = gaz[gaz["name"].map(place_key) == key] if key else gaz.iloc[:0]
    wanted = place_keys(name)
    hit = exact if len(exact) else gaz[gaz["keys"].map(lambda ks: bool(ks & wanted))]
    if len(hit):
        return float(hit["lon"].iloc[0]), float(hit["lat"].iloc[0])
    choices = {k: n for n, ks in zip(gaz["name"], gaz["keys"], strict=True) for k in sorted(ks)}
    close = []
    for q in sorted(wanted):
        for k, score, _ in process.extract(q, list(choices), scorer=fuzz.ratio, limit=5):
            if score >= 70:
                close.append((score, choices[k]))
    names = list(dict.fromkeys(n for _, n in sorted(close, key=lambda t: -t[0])))[:3]
    hint = f"; did you mean {', '.join(repr(c) for c in names)}?" if names else ""
    msg = f"unknown place name '{name}'{hint} ({otherwise})"
    raise InputDataError(msg)
