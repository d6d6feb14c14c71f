"""Named corridors defined by waypoints: the directed path in each direction on the road graph.

Corridor definitions are read from TOML files of ``[[corridor]]`` tables with a ``name`` and
``waypoints`` (gazetteer place names of ``data/gazetteer.csv`` or ``[lon, lat]`` pairs). The
defaults are the outputs stage's ``data/afir_corridors.toml`` (TEN-T core corridors used by the
AFIR report) plus ``data/corridors.toml`` (further NL–DE corridors), so every corridor is defined
once.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import shapely

from corridor.errors import InputDataError
from corridor.network.places import GAZETTEER_PATH, load_gazetteer, lookup_place
from corridor.network.query import Route, shortest_route, unique_refs

__all__ = [
    "CORRIDOR_FILES",
    "corridor_paths",
    "read_corridors",
]

_DATA = Path(__file__).resolve().parent.parent.parent / "data"
#: Default corridor definitions (AFIR corridors of the outputs stage first).
CORRIDOR_FILES = (_DATA / "afir_corridors.toml", _DATA / "corridors.toml")


def read_corridors(
    paths: Sequence[Path | str] = CORRIDOR_FILES, gazetteer: Path | str = GAZETTEER_PATH
) -> dict[str, list[tuple[float, float]]]:
    """Named corridors and their waypoints.

    Parameters
    ----------
    paths
        TOML files with ``[[corridor]]`` tables (``name``, ``waypoints``); missing default files
        are skipped, a name defined twice keeps its first definition.
    gazetteer
        Gazetteer CSV resolving waypoint names (:func:`corridor.network.places.load_gazetteer`).

    Returns
    -------
    dict
        ``{name: [(lon, lat), ...]}`` in file order, at least two waypoints each.

    Raises
    ------
    InputDataError
        Naming the file and corridor: invalid TOML, fewer than two waypoints, an unknown place
        name or a malformed coordinate pair.
    """
    places = load_gazetteer(gazetteer)
    out: dict[str, list[tuple[float, float]]] = {}
    for p in map(Path, paths):
        if not p.is_file():
            if p in CORRIDOR_FILES:
                continue
            msg = f"corridor file {p} not found"
            raise InputDataError(msg)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            msg = f"corridor file {p} is not valid TOML: {err}"
            raise InputDataError(msg) from err
        for i, c in enumerate(raw.get("corridor", [])):
            name = str(c.get("name", f"corridor {i + 1}"))
            wps = list(c.get("waypoints", []))
            if len(wps) < 2:
                msg = f"{p}: corridor '{name}' needs at least two waypoints, got {wps}"
                raise InputDataError(msg)
            coords = []
            for w in wps:
                if isinstance(w, str):
                    try:
                        coords.append(
                            lookup_place(w, places, "add it to the gazetteer or give [lon, lat]")
                        )
                    except InputDataError as err:
                        msg = f"{p}: corridor '{name}': waypoint '{w}': {err}"
                        raise InputDataError(msg) from None
                elif (
                    isinstance(w, list)
                    and len(w) == 2
                    and -180 <= float(w[0]) <= 180
                    and -90 <= float(w[1]) <= 90
                ):
                    coords.append((float(w[0]), float(w[1])))
                else:
                    msg = f"{p}: corridor '{name}': waypoint {w!r} is neither a name nor [lon, lat]"
                    raise InputDataError(msg)
            out.setdefault(name, coords)
    if not out:
        msg = f"no [[corridor]] entries in {[str(p) for p in paths]}"
        raise InputDataError(msg)
    return out


#: Corridor waypoints are points ON the road: each leg joins / leaves the graph within this
#: distance (m) of the nearest carriageway (the other carriageway beside it included), not
#: anywhere in the door-to-door access radius of :func:`shortest_route`.
WAYPOINT_ACCESS_M = 100.0


def _chain(G: nx.MultiDiGraph, points: Sequence[tuple[float, float]], weight: str) -> dict:
    legs: list[Route] = [
        shortest_route(
            G,
            a,
            b,
            weight=weight,
            access_min_radius_m=WAYPOINT_ACCESS_M,
            access_max_radius_m=WAYPOINT_ACCESS_M,
        )
        for a, b in itertools.pairwise(points)
    ]
    nodes: list[int] = []
    for r in legs:
        for n in r.nodes:
            if not nodes or nodes[-1] != n:
                nodes.append(int(n))
    coords = [np.asarray(r.geometry.coords) for r in legs if not r.geometry.is_empty]
    return {
        "length_km": float(sum(r.length_km for r in legs)),
        "travel_time_min": float(sum(r.travel_time_min for r in legs)),
        "refs": unique_refs(ref for r in legs for ref in r.refs),
        "nodes": tuple(nodes),
        "snap_m": [float(s) for r in legs for s in r.snap_m],
        "legs": [r.to_dict() for r in legs],
        "geometry": shapely.LineString(np.concatenate(coords)) if coords else shapely.LineString(),
    }


def corridor_paths(
    G: nx.MultiDiGraph,
    waypoints: Sequence[tuple[float, float]],
    weight: str = "travel_time_s",
) -> dict[str, dict]:
    """Directed path of a corridor in each direction through its waypoints.

    Parameters
    ----------
    G
        The road graph.
    waypoints
        ``[(lon, lat), ...]`` degrees, at least two; each is snapped onto the nearest drivable
        edge or one within ``WAYPOINT_ACCESS_M`` (100 m) more of it, e.g. the other carriageway
        (see :func:`corridor.network.shortest_route`).
    weight
        ``travel_time_s`` (fastest legs, default) or ``length_m``.

    Returns
    -------
    dict
        ``{"outbound": path, "inbound": path}``; outbound runs through the waypoints in order,
        inbound in reverse order. Each path has ``length_km``, ``travel_time_min``, ``refs``
        (road numbers, each once in order of use), ``nodes`` (the legs' graph node paths joined;
        consecutive legs meet on the waypoint's snapped edge), ``snap_m`` (two per leg),
        ``legs`` (:meth:`Route.to_dict` per leg) and ``geometry`` (LineString, graph CRS).

    Raises
    ------
    InputDataError
        Fewer than two waypoints, or a leg without a route.
    """
    pts = [(float(x), float(y)) for x, y in waypoints]
    if len(pts) < 2:
        msg = f"a corridor needs at least two waypoints (lon, lat), got {pts}"
        raise InputDataError(msg)
    return {"outbound": _chain(G, pts, weight), "inbound": _chain(G, pts[::-1], weight)}
