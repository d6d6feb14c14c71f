"""Named corridors defined by waypoints: reading them and driving them on the road graph.

Corridor definitions are read by :func:`load_corridors` from TOML files of ``[[corridor]]`` tables
with a ``name``, a TEN-T ``network`` layer and ``waypoints`` (gazetteer place names of
``corridor/data/gazetteer.csv`` or ``[lon, lat]`` pairs). The defaults are
``corridor/data/afir_corridors.toml`` (TEN-T core corridors, the ones the AFIR report checks) plus
``corridor/data/corridors.toml`` (further NL–DE corridors), so every corridor is defined once.

Driving: :func:`corridor_paths` (node path each way, legs snapped onto the carriageway, for the
optimiser), :func:`afir_corridor_paths` (those paths joined into drivable edge sequences) and
:func:`corridor_line` (the route line through the waypoints with door-to-door access, for the
AFIR report).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import shapely

from corridor._files import DATA_DIR, read_toml
from corridor.directions import Direction, path_key
from corridor.errors import InputDataError
from corridor.network.places import GAZETTEER_PATH, load_gazetteer, lookup_place
from corridor.network.query import Route, shortest_route, unique_refs

__all__ = [
    "CORRIDOR_FILES",
    "Corridor",
    "afir_corridor_paths",
    "corridor_line",
    "corridor_paths",
    "load_corridors",
    "read_corridors",
]

log = logging.getLogger(__name__)

#: Default corridor definitions (AFIR corridors of the outputs stage first).
CORRIDOR_FILES = (DATA_DIR / "afir_corridors.toml", DATA_DIR / "corridors.toml")


@dataclass(frozen=True)
class Corridor:
    """A named corridor: ordered waypoints and the TEN-T layer it belongs to.

    Attributes
    ----------
    name
        Corridor name (unique over the files read).
    network
        TEN-T layer, ``core`` (AFIR: 60 km truck charging spacing) or ``comprehensive`` (100 km).
    waypoints
        The waypoints as written: place names, or ``"lon,lat"`` for coordinate pairs.
    lonlat
        The waypoints' coordinates (degrees, WGS84).
    """

    name: str
    network: str
    waypoints: tuple[str, ...]
    lonlat: tuple[tuple[float, float], ...]


def load_corridors(
    paths: Sequence[Path | str] = CORRIDOR_FILES, gazetteer: Path | str = GAZETTEER_PATH
) -> list[Corridor]:
    """Read named corridors from TOML files: the one reader of the corridor files.

    Parameters
    ----------
    paths
        TOML files with ``[[corridor]]`` tables (``name``, ``waypoints``, optional ``network``:
        ``core`` (default) or ``comprehensive``); missing default files are skipped, a name
        defined twice keeps its first definition.
    gazetteer
        Gazetteer CSV resolving waypoint names (:func:`corridor.network.places.load_gazetteer`).

    Returns
    -------
    list of Corridor
        In file order, at least two waypoints each.

    Raises
    ------
    InputDataError
        Naming the file and corridor: a missing file given explicitly, invalid TOML, a layer
        that is not core/comprehensive, fewer than two waypoints, an unknown place name (close
        names suggested) or a malformed coordinate pair; or no corridor at all.
    """
    places = load_gazetteer(gazetteer)
    out: dict[str, Corridor] = {}
    for p in map(Path, paths):
        if not p.is_file():
            if p in CORRIDOR_FILES:
                continue
            msg = f"corridor file {p} not found"
            raise InputDataError(msg)
        raw = read_toml(p, "corridor file")
        for i, c in enumerate(raw.get("corridor", [])):
            name = str(c.get("name", f"corridor {i + 1}"))
            net = str(c.get("network", "core"))
            if net not in ("core", "comprehensive"):
                msg = f"{p}: corridor '{name}': network must be core or comprehensive, got '{net}'"
                raise InputDataError(msg)
            wps = list(c.get("waypoints", []))
            if len(wps) < 2:
                msg = f"{p}: corridor '{name}' needs at least two waypoints, got {wps}"
                raise InputDataError(msg)
            labels, coords = [], []
            for w in wps:
                if isinstance(w, str):
                    try:
                        coords.append(
                            lookup_place(w, places, "add it to the gazetteer or give [lon, lat]")
                        )
                    except InputDataError as err:
                        msg = f"{p}: corridor '{name}': waypoint '{w}': {err}"
                        raise InputDataError(msg) from None
                    labels.append(w)
                elif (
                    isinstance(w, list)
                    and len(w) == 2
                    and -180 <= float(w[0]) <= 180
                    and -90 <= float(w[1]) <= 90
                ):
                    coords.append((float(w[0]), float(w[1])))
                    labels.append(f"{float(w[0]):.4f},{float(w[1]):.4f}")
                else:
                    msg = f"{p}: corridor '{name}': waypoint {w!r} is neither a name nor [lon, lat]"
                    raise InputDataError(msg)
            out.setdefault(name, Corridor(name, net, tuple(labels), tuple(coords)))
    if not out:
        msg = f"no [[corridor]] entries in {[str(p) for p in paths]}"
        raise InputDataError(msg)
    return list(out.values())


def read_corridors(
    paths: Sequence[Path | str] = CORRIDOR_FILES, gazetteer: Path | str = GAZETTEER_PATH
) -> dict[str, list[tuple[float, float]]]:
    """Waypoint coordinates by corridor name (:func:`load_corridors`, in file order)."""
    return {c.name: list(c.lonlat) for c in load_corridors(paths, gazetteer)}


#: Corridor waypoints are points ON the road: each leg joins / leaves the graph within this
#: distance (m) of the nearest carriageway (the other carriageway beside it included), not
#: anywhere in the door-to-door access radius of :func:`shortest_route`.
WAYPOINT_ACCESS_M = 100.0


def _joined_line(legs: Sequence[Route]) -> shapely.LineString:
    """Join the legs' route lines into one (graph CRS)."""
    coords = [np.asarray(r.geometry.coords) for r in legs if not r.geometry.is_empty]
    return shapely.LineString(np.concatenate(coords)) if coords else shapely.LineString()


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
    return {
        "length_km": float(sum(r.length_km for r in legs)),
        "travel_time_min": float(sum(r.travel_time_min for r in legs)),
        "refs": unique_refs(ref for r in legs for ref in r.refs),
        "nodes": tuple(nodes),
        "snap_m": [float(s) for r in legs for s in r.snap_m],
        "legs": [r.to_dict() for r in legs],
        "geometry": _joined_line(legs),
    }


def corridor_paths(
    G: nx.MultiDiGraph,
    waypoints: Sequence[tuple[float, float]],
    weight: str = "travel_time_s",
) -> dict[Direction, dict]:
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


def afir_corridor_paths(
    graph: nx.MultiDiGraph, names: Sequence[str] | None = None
) -> dict[str, tuple[int, ...]]:
    """Node paths of the named corridors (``data/*corridors.toml``) in both directions.

    Corridors whose waypoints do not route on this graph, or lie farther than
    ``corridor._validate.MAX_POINT_KM`` (25 km) from its nodes (e.g. a Danish or Swedish one on
    an NL–DE graph), are left out with a log message.

    Parameters
    ----------
    graph
        The road graph.
    names
        Route only these corridors (default: all of them); unknown names are ignored.

    Returns
    -------
    dict
        ``"<corridor> outbound"`` / ``"<corridor> inbound"`` to the graph node path.
    """
    out: dict[str, tuple[int, ...]] = {}
    wanted = None if names is None else set(names)
    corridors = {n: w for n, w in read_corridors().items() if wanted is None or n in wanted}
    off = _waypoints_off_graph(graph, corridors)
    for name, waypoints in corridors.items():
        if name in off:
            log.info("AFIR corridor %s not on this graph: %s", name, off[name])
            continue
        try:
            both = corridor_paths(graph, waypoints)
        except InputDataError as exc:
            log.info("AFIR corridor %s not on this graph: %s", name, exc)
            continue
        for direction, path in both.items():
            nodes = _drivable(graph, [int(n) for n in path["nodes"]])
            if nodes:
                nodes = without_spurs(graph, nodes)
                out[path_key(name, direction)] = nodes
            else:
                log.info("AFIR corridor %s %s: legs do not join on the graph", name, direction)
    return out


def _waypoints_off_graph(
    graph: nx.MultiDiGraph, corridors: dict[str, list[tuple[float, float]]]
) -> dict[str, str]:
    """Corridors with a waypoint farther than ``MAX_POINT_KM`` from every node of ``graph``.

    Such a corridor lies (partly) outside the graph's region (e.g. a Swedish leg on an NL–DE
    graph); routing it would snap the far waypoint onto the nearest edge hundreds of km away.

    Returns
    -------
    dict
        Corridor name to a reason naming the first far waypoint and its distance (km).
    """
    from pyproj import Transformer
    from scipy.spatial import cKDTree

    from corridor._validate import MAX_POINT_KM

    xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    if len(xy) == 0:
        return {name: "the graph has no nodes" for name in corridors}
    tree = cKDTree(xy)
    to_xy = Transformer.from_crs("EPSG:4326", graph.graph.get("crs", "EPSG:3035"), always_xy=True)
    out = {}
    for name, waypoints in corridors.items():
        lon, lat = np.asarray(waypoints, dtype=float).T
        dist_km = tree.query(np.column_stack(to_xy.transform(lon, lat)))[0] / 1000.0
        far = np.flatnonzero(dist_km > MAX_POINT_KM)
        if len(far):
            k = int(far[0])
            out[name] = (
                f"waypoint {k + 1} ({lon[k]:.3f}, {lat[k]:.3f}) is {dist_km[k]:.0f} km from the "
                f"graph (more than {MAX_POINT_KM:g} km)"
            )
    return out


#: A corridor path is shortcut where the road graph joins two of its nodes at most this share
#: of the path's own km between them (:func:`without_spurs`) ...
SPUR_SHORTCUT_SHARE = 0.5
#: ... and the path between them is at least this long (km): an out-and-back detour.
SPUR_MIN_KM = 2.0
#: Nodes of the path at most this far apart (km, straight line) are tried as shortcut ends.
SPUR_SEARCH_KM = 3.0


def without_spurs(graph: nx.MultiDiGraph, nodes: Sequence[int]) -> tuple[int, ...]:
    """Cut out-and-back detours from a corridor's node path.

    A waypoint (a town's centre) is snapped to its nearest road, which may be a spur off the
    through route: the legs then drive in and back out (e.g. A2 → A50 → A58 → A2 at Eindhoven,
    11 km). Where the graph joins path nodes ``i < k`` (at most ``SPUR_SEARCH_KM`` apart) by a
    drivable path of at most ``SPUR_SHORTCUT_SHARE`` of the path's km between them, and that is at
    least ``SPUR_MIN_KM``, the stretch ``i..k`` is replaced by the graph's shortest path (by
    ``length_m``), farthest ``k`` first. The result is a drivable node path through the same
    region that passes each waypoint within the detour's reach.

    Parameters
    ----------
    graph
        Road graph (nodes ``x``, ``y`` in metres, edges ``length_m``).
    nodes
        Node path whose consecutive nodes are joined by edges.

    Returns
    -------
    tuple of int
        The path without detours (the input when there is none).
    """
    from scipy.spatial import cKDTree

    path = [int(n) for n in nodes]
    if len(path) < 3:
        return tuple(path)
    step = [
        min(d["length_m"] for d in graph[a][b].values()) / 1000.0
        for a, b in itertools.pairwise(path)
    ]
    km = np.concatenate([[0.0], np.cumsum(step)])
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in path], dtype=float)
    tree = cKDTree(xy)
    out: list[int] = [path[0]]
    i = 0
    while i < len(path) - 1:
        near = [k for k in tree.query_ball_point(xy[i], SPUR_SEARCH_KM * 1000.0) if k > i + 1]
        near = [k for k in near if km[k] - km[i] >= SPUR_MIN_KM]
        best = None
        if near:
            cutoff = SPUR_SHORTCUT_SHARE * (km[max(near)] - km[i]) * 1000.0
            reach = nx.single_source_dijkstra_path_length(
                graph, path[i], cutoff=cutoff, weight="length_m"
            )
            for k in sorted(near, reverse=True):
                d = reach.get(path[k])
                if d is not None and d / 1000.0 <= SPUR_SHORTCUT_SHARE * (km[k] - km[i]):
                    best = k
                    break
        if best is None:
            out.append(path[i + 1])
            i += 1
            continue
        short = nx.shortest_path(graph, path[i], path[best], weight="length_m")
        out.extend(int(n) for n in short[1:])
        i = best
    return tuple(out)


def _drivable(graph: nx.MultiDiGraph, nodes: list[int]) -> tuple[int, ...] | None:
    """Join a corridor's leg node paths into one path of graph edges.

    Legs meet on the waypoint's snapped edge, so two consecutive nodes need not be joined by an
    edge; the shortest connection (by ``length_m``) is put in between.
    """
    out = nodes[:1]
    for b in nodes[1:]:
        a = out[-1]
        if a == b:
            continue
        if graph.has_edge(a, b):
            out.append(b)
            continue
        try:
            out.extend(nx.shortest_path(graph, a, b, weight="length_m")[1:])
        except nx.NetworkXNoPath:
            return None
    return tuple(out)


def corridor_line(
    graph: nx.MultiDiGraph, lonlat: Sequence[tuple[float, float]], max_snap_km: float = 25.0
) -> tuple[shapely.LineString, float]:
    """Drive a corridor through its waypoints on the road graph, door to door.

    Unlike :func:`corridor_paths`, each leg is the plain :func:`shortest_route` between the
    waypoints (fastest, with its local access model).

    Returns
    -------
    line, length_km
        The route line (graph CRS) and its driven length (km) on the graph.

    Raises
    ------
    InputDataError
        If a waypoint is farther than ``max_snap_km`` from the graph or no route exists.
    """
    legs: list[Route] = []
    for a, b in itertools.pairwise(lonlat):
        r = shortest_route(graph, a, b)
        if max(r.snap_m) / 1000.0 > max_snap_km:
            far = a if r.snap_m[0] >= r.snap_m[1] else b
            msg = (
                f"waypoint at lon/lat {far[0]:.3f}, {far[1]:.3f} is {max(r.snap_m) / 1000:.0f} km "
                "from the road graph (outside the scenario's countries?)"
            )
            raise InputDataError(msg)
        legs.append(r)
    return _joined_line(legs), sum((r.length_km for r in legs), 0.0)


def path_line(graph: nx.MultiDiGraph, nodes: Sequence[int]) -> shapely.LineString:
    """Build the road line (graph CRS, metres) along a node path, shortest parallel edge per step.

    Parameters
    ----------
    graph
        Road graph whose edges carry ``geometry`` and ``length_m``.
    nodes
        Node path (consecutive nodes joined by an edge, e.g. from :func:`afir_corridor_paths`).

    Returns
    -------
    shapely.LineString
        Empty if the path has fewer than two nodes.
    """
    coords: list[np.ndarray] = []
    for a, b in itertools.pairwise(nodes):
        edge = min(graph[a][b].values(), key=lambda d: d["length_m"])
        coords.append(np.asarray(edge["geometry"].coords))
    return shapely.LineString(np.concatenate(coords)) if coords else shapely.LineString()


def path_km_by_country(graph: nx.MultiDiGraph, nodes: Sequence[int]) -> dict[str, float]:
    """Kilometres of a node path per country code (edge attribute ``country``, "" if unknown)."""
    out: dict[str, float] = {}
    for a, b in itertools.pairwise(nodes):
        edge = min(graph[a][b].values(), key=lambda d: d["length_m"])
        cc = str(edge.get("country", "") or "")
        out[cc] = out.get(cc, 0.0) + float(edge["length_m"]) / 1000.0
    return out
