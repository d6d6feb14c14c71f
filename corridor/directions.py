"""The one vocabulary of travel directions, and the compass labels derived from bearings.

A corridor, a route or an OD pair is driven in two directions:

* ``"outbound"``: the way it is written down. Through a corridor's waypoints in order (see
  ``data/corridors.toml``), from a route's origin to its destination, and on the optimiser's
  corridor axis (``optimise.corridor_axis_deg``, e.g. 90° = eastbound, NL → DE);
* ``"inbound"``: the way back.

A candidate site on one carriageway serves the direction its carriageway bearing points to
(:func:`direction_of_bearing`); a site reached from a junction serves both. For people the
site's carriageway is shown as a compass label with the bearing, ``"E (93°)"``, or
``"both"`` (:func:`compass_label`, :data:`BOTH_LABEL`); :func:`bearing_from_label` reads the
bearing back from such a label (a plan's ``direction`` field).
"""

from __future__ import annotations

import math
import re
from typing import Final, Literal

import numpy as np
import pandas as pd

__all__ = [
    "BOTH_DIRECTIONS",
    "BOTH_LABEL",
    "DIRECTIONS",
    "Direction",
    "arrow",
    "bearing_from_label",
    "compass_label",
    "direction_of_bearing",
    "opposite",
    "path_key",
]

#: A travel direction (module docstring).
Direction = Literal["outbound", "inbound"]

#: The two travel directions, outbound first.
DIRECTIONS: Final[tuple[Direction, Direction]] = ("outbound", "inbound")

#: What a site reached from a junction serves.
BOTH_DIRECTIONS: Final[frozenset[Direction]] = frozenset(DIRECTIONS)

#: The ``direction`` label of a site that serves both carriageways (sites, plan.json, maps).
BOTH_LABEL: Final = "both"

_COMPASS = np.array(["N", "NE", "E", "SE", "S", "SW", "W", "NW"])
_LABEL_BEARING = re.compile(r"\((\d+(?:\.\d+)?)\s*°\)")


def opposite(direction: Direction) -> Direction:
    """Return the other direction.

    Parameters
    ----------
    direction
        ``"outbound"`` or ``"inbound"``.

    Returns
    -------
    Direction
        ``"inbound"`` for ``"outbound"`` and vice versa.
    """
    return "inbound" if direction == "outbound" else "outbound"


def arrow(direction: Direction) -> str:
    """Return the arrow that shows a direction in tables: ``→`` outbound, ``←`` inbound.

    Parameters
    ----------
    direction
        ``"outbound"`` or ``"inbound"``.

    Returns
    -------
    str
        One character.
    """
    return "→" if direction == "outbound" else "←"


def path_key(corridor: str, direction: Direction) -> str:
    """Return the name of one direction of a named corridor, e.g. ``"A1 outbound"``.

    The keys of :func:`corridor.network.afir_corridor_paths` and of the corridor lines of the
    optimiser's corridor mode.

    Parameters
    ----------
    corridor
        The corridor's name in ``data/corridors.toml``.
    direction
        ``"outbound"`` or ``"inbound"``.

    Returns
    -------
    str
        ``"<corridor> <direction>"``.
    """
    return f"{corridor} {direction}"


def direction_of_bearing(bearing_deg: float, corridor_axis_deg: float) -> frozenset[Direction]:
    """Return the travel direction(s) a site serves, from its carriageway's bearing.

    Parameters
    ----------
    bearing_deg
        Compass bearing (deg, 0 = north, clockwise) of the carriageway; NaN or None means the
        site serves both directions.
    corridor_axis_deg
        Compass bearing (deg) of the corridor's outbound direction.

    Returns
    -------
    frozenset of Direction
        ``{"outbound"}`` if the bearing is within ±90° of the axis, ``{"inbound"}`` otherwise,
        :data:`BOTH_DIRECTIONS` for NaN.
    """
    if bearing_deg is None or not math.isfinite(bearing_deg):
        return BOTH_DIRECTIONS
    diff = abs((bearing_deg - corridor_axis_deg + 180.0) % 360.0 - 180.0)
    return frozenset({"outbound"}) if diff <= 90.0 else frozenset({"inbound"})


def compass_label(bearing_deg: np.ndarray | pd.Series) -> np.ndarray:
    """Label bearings for people: compass sector and bearing, e.g. ``"E (93°)"``.

    Parameters
    ----------
    bearing_deg
        Compass bearings (deg, 0 = north, clockwise), shape ``(n,)``; any real value (taken
        modulo 360).

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``, object strings ``"<sector> (<whole degrees>°)"`` with one of the eight
        sectors N, NE, E, SE, S, SW, W, NW.
    """
    b = np.mod(np.asarray(bearing_deg, float), 360.0)
    sector = np.round(b / 45.0).astype(int) % 8
    return np.array([f"{n} ({round(x) % 360}°)" for n, x in zip(_COMPASS[sector], b, strict=True)])


def bearing_from_label(label: object) -> float:
    """Read the carriageway bearing back from a :func:`compass_label` such as ``"E (92°)"``.

    Parameters
    ----------
    label
        A site's ``direction`` label; :data:`BOTH_LABEL`, None or any text without
        ``"(<deg>°)"`` gives NaN.

    Returns
    -------
    float
        The bearing (deg), NaN when the site serves both directions.
    """
    m = _LABEL_BEARING.search(str(label or ""))
    return float(m.group(1)) if m else math.nan
