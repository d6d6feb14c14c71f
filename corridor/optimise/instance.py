"""The optimiser's array core: candidate sites, OD flow paths with their reachable stops, range.

An :class:`Instance` is everything the siting model needs and nothing more. It is built either from
generic arrays (:meth:`Instance.from_arrays`, the inputs ``spopt.locate.FRLM`` takes: a sparse
distance matrix in km, origins, destinations, volumes, candidate nodes, range) or from the
pipeline's stages (:func:`instance_from_pipeline`: flows on the road graph, candidate sites with
their carriageway access, grid headroom, the vehicle).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from corridor._validate import require_columns
from corridor.directions import BOTH_DIRECTIONS, DIRECTIONS, Direction, direction_of_bearing
from corridor.errors import InputDataError

if TYPE_CHECKING:
    import networkx as nx

    from corridor.config import VehicleConfig
    from corridor.flows import FlowSet
    from corridor.sites import Candidates

__all__ = [
    "DIRECTIONS",
    "POOL_COLUMNS",
    "FlowPath",
    "Instance",
    "Stop",
    "direction_of_bearing",
    "instance_from_pipeline",
    "path_drive_hours",
    "round_trip_flow",
    "shared_pools",
    "with_drive_hours",
]

log = logging.getLogger(__name__)


class Stop(NamedTuple):
    """A candidate site a flow can stop at, in its direction of travel.

    Attributes
    ----------
    site_id
        The candidate site.
    km
        Distance (km) along the flow's path from its origin to where the truck leaves the road.
    detour_km
        Extra driving (km) to visit the site and get back to the same point (half each way).
    """

    site_id: str
    km: float
    detour_km: float = 0.0


@dataclass(frozen=True)
class FlowPath:
    r"""One OD flow on its path, with the stops reachable in its travel direction.

    Attributes
    ----------
    od_id
        Stable flow id.
    trucks_per_day
        Trucks of the planned technology per day on this OD (trucks/day).
    length_km
        Path length (km).
    stops
        Candidate sites on the path in travel direction, sorted by ``km``.
    drive_h
        Driving time (h) of the path at the graph's truck speeds (edge ``travel_time_s``); NaN
        when unknown (only the driving-time rules of a joint plan need it).
    departure_km
        The siting model's departure allowance :math:`\bar\delta_q` (km): half the largest
        detour among the flow's stops. NaN: taken from ``stops``; :meth:`Instance.restricted_to`
        fixes it from the stops before the cut, so a model on fewer sites uses the same windows
        (and the same bound) as the model on all of them.
    """

    od_id: str
    trucks_per_day: float
    length_km: float
    stops: tuple[Stop, ...] = ()
    drive_h: float = math.nan
    departure_km: float = math.nan

    @property
    def departure_allowance_km(self) -> float:
        """Departure allowance (km) of the model's windows: ``departure_km``, else from stops."""
        if math.isfinite(self.departure_km):
            return self.departure_km
        return max((s.detour_km for s in self.stops), default=0.0) / 2.0

    def hours_at(self, km: float) -> float:
        """Driving time (h) from the origin to ``km`` along the path (at the path's mean speed)."""
        if self.length_km <= 0:
            return 0.0
        return km / self.length_km * self.drive_h


@dataclass(frozen=True)
class Instance:
    """A siting instance: candidate sites, flow paths and the vehicle's range.

    Attributes
    ----------
    site_ids
        Candidate site ids, in the order of ``sites``.
    sites
        DataFrame indexed by ``site_id`` with ``country`` (ISO2 or ""), ``directions`` (frozenset
        of "outbound"/"inbound"), ``headroom_mw`` (float, ``inf`` when unlimited / unknown),
        ``cost_eur`` (float, 0 when unknown) and ``kind`` (str); optionally the shared grid pools
        ``substation_id`` / ``substation_pool_mw`` and ``area_id`` / ``area_pool_mw`` (known spare
        MW shared by the firm connections on that substation / congestion area, NaN: no pool)
        and ``station`` (the station location: sites sharing one, the two halves of a rest area,
        count as one station; without the column every site is its own).
    flows
        The OD flows with their reachable stops.
    range_km
        Distance (km) after a stop (``soc_max``) down to the reserve.
    start_range_km
        Distance (km) from the origin (start state of charge) down to the reserve.
    energy_per_km
        Consumption per km in the store's unit (kWh/km for bev, kg/km for h2).
    technology
        ``bev`` or ``h2``.
    report
        Counts from building the instance (flows read, stops found, sites without grid data…).
    corridors
        Named corridor directions for AFIR spacing: each a :class:`FlowPath` whose ``od_id`` is
        the corridor name (e.g. "A1-outbound") and whose stops are the candidate sites along it.
    mode
        ``one_way`` or ``round_trip`` (then each flow's path is the trip out and back).
    """

    site_ids: tuple[str, ...]
    sites: pd.DataFrame
    flows: tuple[FlowPath, ...]
    range_km: float
    start_range_km: float
    energy_per_km: float = 1.0
    technology: str = "bev"
    report: dict[str, Any] = field(default_factory=dict)
    corridors: tuple[FlowPath, ...] = ()
    mode: str = "one_way"

    def __post_init__(self) -> None:
        """Check the fields against each other.

        Raises
        ------
        InputDataError
            If ``mode``, ``technology``, ``range_km`` or ``start_range_km`` is out of range, the
            sites lack a column or are not indexed by ``site_ids`` in order, or a flow stops at
            an unknown site.
        """
        if self.mode not in ("one_way", "round_trip"):
            msg = f"mode must be 'one_way' or 'round_trip', got {self.mode!r}"
            raise InputDataError(msg)
        if not self.range_km > 0:
            msg = f"range_km must be > 0 km, got {self.range_km}"
            raise InputDataError(msg)
        if self.start_range_km < 0:
            msg = f"start_range_km must be >= 0 km, got {self.start_range_km}"
            raise InputDataError(msg)
        if self.technology not in ("bev", "h2"):
            msg = f"technology must be 'bev' or 'h2', got {self.technology!r}"
            raise InputDataError(msg)
        require_columns(self.sites, _SITE_COLUMNS, "Instance.sites")
        if tuple(self.sites.index) != self.site_ids:
            msg = "Instance.sites must be indexed by site_id in the order of site_ids"
            raise InputDataError(msg)
        known = set(self.site_ids)
        for fp in (*self.flows, *self.corridors):
            bad = [s.site_id for s in fp.stops if s.site_id not in known]
            if bad:
                msg = f"flow {fp.od_id}: stops at unknown sites {bad[:5]}"
                raise InputDataError(msg)

    def restricted_to(self, site_ids: Sequence[str], *, keep_flows: bool = False) -> Instance:
        """Return the same instance with only the given candidate sites (e.g. a corridor's buffer).

        Parameters
        ----------
        site_ids
            Sites to keep (ids of this instance; order follows the instance).
        keep_flows
            Keep flows that pass none of the kept sites (they can only be served without a stop);
            by default they are dropped, with their count in ``report["flows_off_sites"]``.

        Returns
        -------
        Instance
            Sites, flow stops and named-corridor stops restricted to ``site_ids``.
        """
        keep = frozenset(map(str, site_ids))
        key = (
            id(self.site_ids),
            id(self.flows),
            id(self.corridors),
            keep,
            keep_flows,
            self.start_range_km,
        )
        hit = _RESTRICTED.get(key)
        if hit is None:
            hit = (self.site_ids, self.flows, self.corridors, self._cut(keep, keep_flows))
            _RESTRICTED[key] = hit  # holds the keyed objects, so their ids stay theirs
            while len(_RESTRICTED) > 16:
                _RESTRICTED.popitem(last=False)
        ids, flows, corridors, n_off = hit[3]
        report = {**self.report, "candidates": len(ids), "flows_off_sites": n_off}
        return dataclasses.replace(
            self,
            site_ids=ids,
            sites=self.sites.loc[list(ids)],
            flows=flows,
            corridors=corridors,
            report=report,
        )

    def _cut(
        self, keep: frozenset[str], keep_flows: bool
    ) -> tuple[tuple[str, ...], tuple[FlowPath, ...], tuple[FlowPath, ...], int]:
        """Site ids, flows and corridors of :meth:`restricted_to`, and the flows dropped."""

        def cut(fp: FlowPath) -> FlowPath:
            return dataclasses.replace(
                fp,
                stops=tuple(t for t in fp.stops if t.site_id in keep),
                departure_km=fp.departure_allowance_km,
            )

        flows = [cut(f) for f in self.flows]
        kept = [f for f in flows if keep_flows or f.stops or f.length_km <= self.start_range_km]
        ids = tuple(s for s in self.site_ids if s in keep)
        return ids, tuple(kept), tuple(cut(c) for c in self.corridors), len(flows) - len(kept)

    @property
    def total_trucks_per_day(self) -> float:
        """All trucks/day of the instance's flows."""
        return float(sum(f.trucks_per_day for f in self.flows))

    @classmethod
    def from_arrays(
        cls,
        distance_matrix: Any,
        origins: Sequence[int],
        destinations: Sequence[int],
        volumes: Sequence[float],
        candidates: Sequence[int],
        range_km: float,
        paths: Sequence[Sequence[int]] | None = None,
        *,
        start_range_km: float | None = None,
        headroom_mw: Sequence[float] | None = None,
        cost_eur: Sequence[float] | None = None,
        countries: Sequence[str] | None = None,
        energy_per_km: float = 1.0,
        technology: str = "bev",
        round_trip: bool = False,
    ) -> Instance:
        """Build an instance from a sparse road network, the inputs ``spopt.locate.FRLM`` takes.

        Parameters
        ----------
        distance_matrix
            Square ``scipy.sparse`` matrix (or dense array) of directed arc lengths (km) between
            network nodes ``0..n-1``; zero / missing entries are "no arc".
        origins, destinations
            Node index of each flow's origin and destination.
        volumes
            Trucks per day of each flow.
        candidates
            Node indices where a site can be opened (site id = ``str(node)``).
        range_km
            Range (km) after a stop.
        paths
            Optional node sequence of each flow (origin..destination); when ``None`` the shortest
            paths are computed with :func:`scipy.sparse.csgraph.dijkstra`.
        start_range_km
            Range (km) at the origin; defaults to ``range_km`` (full at the origin).
        headroom_mw, cost_eur, countries
            Optional per-candidate grid headroom (MW, default unlimited), cost (EUR, default 0)
            and country code (default "").
        energy_per_km
            Consumption per km (kWh/km or kg/km) used to express energy per stop.
        technology
            ``bev`` or ``h2``.
        round_trip
            Each flow is the trip out and back (the shortest path back, no charging at the
            destination unless a candidate is there); ``mode`` becomes ``round_trip``.

        Returns
        -------
        Instance
            Flows with their candidate stops (detour 0, sites serve both directions).

        Raises
        ------
        InputDataError
            If lengths differ, a node index is out of range, or a flow has no path.
        """
        from scipy import sparse
        from scipy.sparse.csgraph import dijkstra

        mat = sparse.csr_array(distance_matrix, dtype=float)
        n = mat.shape[0]
        if mat.shape != (n, n):
            msg = f"distance_matrix must be square, got shape {mat.shape}"
            raise InputDataError(msg)
        o = np.asarray(origins, dtype=int)
        d = np.asarray(destinations, dtype=int)
        vol = np.asarray(volumes, dtype=float)
        if not (len(o) == len(d) == len(vol)):
            msg = (
                f"origins ({len(o)}), destinations ({len(d)}) and volumes ({len(vol)}) must have "
                "the same length"
            )
            raise InputDataError(msg)
        cand = [int(c) for c in candidates]
        for name, arr in (("origins", o), ("destinations", d), ("candidates", np.array(cand))):
            if len(arr) and (arr.min() < 0 or arr.max() >= n):
                msg = f"{name} must be node indices in 0..{n - 1}"
                raise InputDataError(msg)
        if len(set(cand)) != len(cand):
            msg = "candidates must be unique node indices"
            raise InputDataError(msg)
        if paths is None:
            uniq = np.unique(o)
            _, pred = dijkstra(mat, directed=True, indices=uniq, return_predecessors=True)
            row_of = {int(u): i for i, u in enumerate(uniq)}
            paths = [
                _walk_back(pred[row_of[int(a)]], int(a), int(b)) for a, b in zip(o, d, strict=True)
            ]
        if len(paths) != len(o):
            msg = f"paths ({len(paths)}) must have one node sequence per flow ({len(o)})"
            raise InputDataError(msg)
        lookup = mat.todok()
        cand_set = set(cand)
        back_paths: list[Any] = []
        if round_trip:
            uniq_d = np.unique(d)
            _, pred_b = dijkstra(mat, directed=True, indices=uniq_d, return_predecessors=True)
            row_b = {int(u): i for i, u in enumerate(uniq_d)}
            back_paths = [
                _walk_back(pred_b[row_b[int(b)]], int(b), int(a)) for a, b in zip(o, d, strict=True)
            ]
        flows = []
        for i, path in enumerate(paths):
            fp = _path_flow(str(i), float(vol[i]), path, lookup, cand_set, f"{o[i]}→{d[i]}")
            if round_trip:
                back = _path_flow(
                    str(i), float(vol[i]), back_paths[i], lookup, cand_set, f"{d[i]}→{o[i]}"
                )
                fp = round_trip_flow(fp, back)
            flows.append(fp)
        ids = tuple(str(c) for c in cand)
        sites = pd.DataFrame(
            {
                "country": list(countries) if countries is not None else [""] * len(cand),
                "directions": [BOTH_DIRECTIONS] * len(cand),
                "headroom_mw": (
                    np.asarray(headroom_mw, dtype=float)
                    if headroom_mw is not None
                    else np.full(len(cand), np.inf)
                ),
                "cost_eur": (
                    np.asarray(cost_eur, dtype=float)
                    if cost_eur is not None
                    else np.zeros(len(cand))
                ),
                "kind": ["node"] * len(cand),
            },
            index=pd.Index(ids, name="site_id"),
        )
        return cls(
            site_ids=ids,
            sites=sites,
            flows=tuple(flows),
            range_km=float(range_km),
            start_range_km=float(range_km if start_range_km is None else start_range_km),
            energy_per_km=float(energy_per_km),
            technology=technology,
            report={"flows": len(flows), "candidates": len(ids), "source": "from_arrays"},
            mode="round_trip" if round_trip else "one_way",
        )

    def with_corridors(self, corridors: Mapping[str, str]) -> Instance:
        """Return a copy with named AFIR corridor directions taken from flow paths.

        Parameters
        ----------
        corridors
            Corridor name (e.g. "A1-outbound") → ``od_id`` of a flow whose path runs along it;
            the corridor's candidate sites are that flow's stops.

        Returns
        -------
        Instance
        """
        import dataclasses

        by_id = {f.od_id: f for f in self.flows}
        out = []
        for name, od_id in corridors.items():
            if od_id not in by_id:
                msg = f"corridor {name}: od_id {od_id!r} is not a flow of the instance"
                raise InputDataError(msg)
            f = by_id[od_id]
            out.append(FlowPath(str(name), 0.0, f.length_km, f.stops))
        return dataclasses.replace(self, corridors=(*self.corridors, *out))


#: Recent :meth:`Instance.restricted_to` cuts: the ranking, the relaxation-first shortcut and the
#: grid what-ifs restrict the same flows to the same sites many times (same objects back, so the
#: preprocessing cache of :mod:`corridor.optimise.model` recognises them).
_RESTRICTED: OrderedDict[tuple[Any, ...], tuple[Any, Any, Any, Any]] = OrderedDict()

_SITE_COLUMNS = ("country", "directions", "headroom_mw", "cost_eur", "kind")

#: Shared grid pools of ``Instance.sites``: (level, id column, spare-MW column).
POOL_COLUMNS = (
    ("substation", "substation_id", "substation_pool_mw"),
    ("area", "area_id", "area_pool_mw"),
)


def shared_pools(
    sites: pd.DataFrame, site_ids: Sequence[str]
) -> list[tuple[str, str, float, list[str]]]:
    """Group sites by the known spare MW they share (one pool per substation / congestion area).

    Only firm connections draw on a pool (non-firm ones are curtailed instead), and only pools
    with a known (finite) spare MW and an id count.

    Parameters
    ----------
    sites
        ``Instance.sites`` (with ``connection`` and the :data:`POOL_COLUMNS`, else no pools).
    site_ids
        The sites to group (e.g. the model's sites or a plan's open sites).

    Returns
    -------
    list of tuple
        ``(level, pool id, spare MW, member site ids)``, level ``substation`` or ``area``, sorted
        by level then id.
    """
    if "connection" not in sites.columns:
        return []
    firm = [s for s in site_ids if sites.at[s, "connection"] == "firm"]
    out = []
    for level, key, pool in POOL_COLUMNS:
        if pool not in sites.columns:
            continue
        members: dict[str, list[str]] = {}
        for s in firm:
            pid = str(sites.at[s, key])
            if pid and math.isfinite(float(sites.at[s, pool])):
                members.setdefault(pid, []).append(s)
        out += [
            (level, pid, float(sites.at[ss[0], pool]), ss) for pid, ss in sorted(members.items())
        ]
    return out


def round_trip_flow(out: FlowPath, back: FlowPath) -> FlowPath:
    """Join a trip out and the trip back into one flow.

    The truck does not charge at the destination unless a candidate site is there; the back
    stops are shifted by the out length.

    Parameters
    ----------
    out, back
        The outbound trip and the inbound trip of the same OD pair.

    Returns
    -------
    FlowPath
        ``out.od_id`` with ``out``'s trucks per day, the summed length (km) and the stops of
        both trips in driving order.
    """
    shifted = tuple(Stop(s.site_id, s.km + out.length_km, s.detour_km) for s in back.stops)
    return FlowPath(
        out.od_id,
        out.trucks_per_day,
        out.length_km + back.length_km,
        (*out.stops, *shifted),
        out.drive_h + back.drive_h,
    )


def path_drive_hours(
    paths: Sequence[Sequence[int]], edge_time_s: Mapping[tuple[int, int], float]
) -> np.ndarray:
    """Driving time (h) of node paths from the per-edge travel times.

    Parameters
    ----------
    paths
        Node sequences.
    edge_time_s
        Travel time (s) per directed node pair (the fastest parallel edge).

    Returns
    -------
    numpy.ndarray
        Hours per path; NaN where a path uses a pair without a travel time.
    """
    n_edges = np.array([max(len(p) - 1, 0) for p in paths], dtype=np.int64)
    out = np.zeros(len(paths))
    if n_edges.sum() == 0:
        return out
    u = np.concatenate([np.asarray(p[:-1], dtype=np.int64) for p in paths if len(p) > 1])
    v = np.concatenate([np.asarray(p[1:], dtype=np.int64) for p in paths if len(p) > 1])
    table = pd.DataFrame(
        [(a, b, float(t)) for (a, b), t in edge_time_s.items()], columns=["u", "v", "time_s"]
    ).astype({"u": np.int64, "v": np.int64})
    steps = pd.DataFrame({"u": u, "v": v}).merge(table, on=["u", "v"], how="left", sort=False)
    flow = np.repeat(np.arange(len(paths)), n_edges)
    # sum per path; a path with an unknown pair gets NaN (np.add.at keeps NaN)
    np.add.at(out, flow, steps["time_s"].to_numpy())
    return out / 3600.0


def with_drive_hours(
    instance: Instance, od: pd.DataFrame, graph: nx.MultiDiGraph | None
) -> Instance:
    """Return the instance with each flow's driving time (h) at the graph's truck speeds.

    The time is the sum of the edges' ``travel_time_s`` (speed per highway class and country,
    :mod:`corridor.network.build`) along the OD ``path``; a round trip adds the reverse path
    (the row its ``return_od_id`` names, else the reverse OD's when present, else the same time
    again). Without a graph, or edges without a travel time, the flow keeps NaN.

    Parameters
    ----------
    instance
        The instance (flows by ``od_id``).
    od
        The OD table with ``od_id`` and ``path`` (node ids).
    graph
        The road graph with ``travel_time_s`` on its edges.

    Returns
    -------
    Instance
    """
    if graph is None or not len(od):
        return instance
    from corridor.network.matrix import edge_matrix

    times = edge_matrix(graph, "travel_time_s", nodes=list(graph.nodes)).pair_weights()
    wanted = {f.od_id for f in instance.flows}
    rows = [(str(i), tuple(p)) for i, p in zip(od["od_id"], od["path"], strict=True)]
    rows = [r for r in rows if r[0] in wanted]
    hours = dict(
        zip((r[0] for r in rows), path_drive_hours([r[1] for r in rows], times), strict=True)
    )
    returns = (
        dict(zip(od["od_id"].astype(str), od["return_od_id"].fillna("").astype(str), strict=True))
        if "return_od_id" in od.columns
        else {}
    )
    returns = {out: back for out, back in returns.items() if back and out in hours}
    # the ways back a flow names are no flows of their own: their hours in one pass
    backs = [(str(i), tuple(p)) for i, p in zip(od["od_id"], od["path"], strict=True)]
    backs = [r for r in backs if r[0] in set(returns.values())]
    back_h = dict(
        zip((r[0] for r in backs), path_drive_hours([r[1] for r in backs], times), strict=True)
    )
    one_way = dict(hours)
    if instance.mode == "round_trip":
        by_pair = {(p[0], p[-1]): h for (_, p), h in zip(rows, hours.values(), strict=True) if p}
        hours = {
            od_id: h + by_pair.get((p[-1], p[0]), h) if p else h
            for (od_id, p), h in zip(rows, hours.values(), strict=True)
        }
    for od_id, ret in returns.items():
        hours[od_id] = one_way[od_id] + back_h.get(ret, math.nan)
    flows = tuple(
        dataclasses.replace(f, drive_h=float(hours.get(f.od_id, math.nan))) for f in instance.flows
    )
    return dataclasses.replace(instance, flows=flows)


def _path_flow(
    od_id: str, trucks: float, path: Any, lookup: Any, cand_set: set[int], label: str
) -> FlowPath:
    if path is None or len(path) == 0:
        msg = f"flow {od_id} ({label}) has no path in distance_matrix"
        raise InputDataError(msg)
    km = [0.0]
    for a, b in itertools.pairwise(path):
        w = float(lookup[int(a), int(b)])
        if w <= 0 and a != b:
            msg = f"flow {od_id}: path uses arc {a}→{b} that is not in distance_matrix"
            raise InputDataError(msg)
        km.append(km[-1] + w)
    seen: set[int] = set()
    stops = []
    for node, pos in zip(path, km, strict=True):
        node = int(node)
        if node in cand_set and node not in seen:
            seen.add(node)
            stops.append(Stop(str(node), pos, 0.0))
    return FlowPath(od_id, trucks, km[-1], tuple(stops))


def _named_returns(od: pd.DataFrame, od_ids: Sequence[str]) -> dict[int, int | None]:
    """Row of each flow's way back (``return_od_id``), by row of its way out.

    ``None`` where the named row is not in ``od`` (filtered out or not routed): that flow cannot
    be planned as the round trip it is and is left out.

    Raises
    ------
    InputDataError
        If a ``return_od_id`` names the row itself, or a row that is named twice or has a way
        back of its own.
    """
    if "return_od_id" not in od.columns:
        return {}
    row_of = {od_id: i for i, od_id in enumerate(od_ids)}
    out: dict[int, int | None] = {}
    for i, ret in enumerate(od["return_od_id"].fillna("").astype(str)):
        if not ret:
            continue
        j = row_of.get(ret)
        if j is None:
            out[i] = None
            continue
        if j == i or j in out.values() or j in out:
            msg = (
                f"flows.od: return_od_id {ret!r} of flow {od_ids[i]} must name another OD row "
                "that is no other flow's way back and has no way back of its own"
            )
            raise InputDataError(msg)
        out[i] = j
    return out


def _walk_back(pred_row: np.ndarray, origin: int, dest: int) -> list[int] | None:
    if origin == dest:
        return [origin]
    path = [dest]
    node = dest
    while node != origin:
        node = int(pred_row[node])
        if node < 0:
            return None
        path.append(node)
    return path[::-1]


def _walk_paths(
    od_ids: Sequence[str],
    paths: Sequence[tuple[int, ...]],
    edge_length_m: Mapping[tuple[int, int], float],
    access: pd.DataFrame,
) -> list[tuple[float, tuple[Stop, ...]]]:
    """Length (km) and reachable stops of many node paths at once (vectorised lookups).

    A site is a stop the first time one of its access edges is on the path, at the km of the
    edge's start plus its ``offset_m`` (at most the edge length); stops are sorted by km, then id.
    """
    n_edges = np.array([max(len(p) - 1, 0) for p in paths], dtype=np.int64)
    if n_edges.sum() == 0:
        return [(0.0, ()) for _ in paths]
    flow = np.repeat(np.arange(len(paths)), n_edges)
    nodes = np.concatenate([np.asarray(p, dtype=np.int64) for p in paths if len(p)])
    n_nodes = np.array([len(p) for p in paths if len(p)], dtype=np.int64)
    last = np.cumsum(n_nodes) - 1
    is_last = np.zeros(len(nodes), dtype=bool)
    is_last[last] = True
    is_first = np.zeros(len(nodes), dtype=bool)
    is_first[last - n_nodes + 1] = True
    u, v = nodes[~is_last], nodes[~is_first]
    pairs = np.array(list(edge_length_m.keys()), dtype=np.int64).reshape(-1, 2)
    lengths = np.fromiter(edge_length_m.values(), dtype=float, count=len(pairs))
    keys = _PairKeys(pairs[:, 0], pairs[:, 1])
    table_keys = keys.of(pairs[:, 0], pairs[:, 1])
    order = np.argsort(table_keys, kind="stable")
    sorted_keys = table_keys[order]
    step_keys = keys.of(u, v)
    at = np.minimum(np.searchsorted(sorted_keys, step_keys), max(len(sorted_keys) - 1, 0))
    missing = (
        (step_keys < 0) | (sorted_keys[at] != step_keys)
        if len(sorted_keys)
        else np.ones(len(u), bool)
    )
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        msg = (
            f"flow {od_ids[int(flow[i])]}: path edge ({int(u[i])}, {int(v[i])}) is "
            "not in the graph / edge_length_m"
        )
        raise InputDataError(msg)
    length = lengths[order][at]
    cum = np.cumsum(length)
    ends = np.cumsum(n_edges)
    starts = ends - n_edges
    flow_start_cum = np.where(n_edges > 0, cum[np.maximum(starts, 1) - 1], 0.0)
    flow_start_cum[starts == 0] = 0.0
    at_km = (cum - length - np.repeat(flow_start_cum, n_edges)) / 1000.0
    total_km = np.zeros(len(paths))
    has = n_edges > 0
    total_km[has] = (cum[ends[has] - 1] - flow_start_cum[has]) / 1000.0
    out: list[tuple[float, tuple[Stop, ...]]] = [(float(t), ()) for t in total_km]
    # only the steps on an access edge of some site are joined to the access rows
    acc_keys = keys.of(access["u"].to_numpy(np.int64), access["v"].to_numpy(np.int64))
    known = np.unique(acc_keys[acc_keys >= 0])
    probe = np.minimum(np.searchsorted(known, step_keys), max(len(known) - 1, 0))
    on_access = known[probe] == step_keys if len(known) else np.zeros(len(step_keys), bool)
    steps = pd.DataFrame(
        {
            "flow": flow[on_access],
            "key": step_keys[on_access],
            "pos": np.flatnonzero(on_access),
            "at_km": at_km[on_access],
            "length_m": length[on_access],
        }
    )
    acc = pd.DataFrame(
        {
            "key": acc_keys,
            "site_id": access["site_id"].to_numpy(),
            "offset_m": access["offset_m"].to_numpy(float),
            "detour_m": access["detour_m"].to_numpy(float),
        }
    )
    hits = steps.merge(acc, on="key", how="inner", sort=False)
    if hits.empty:
        return out
    hits = hits.sort_values("pos", kind="stable").drop_duplicates(["flow", "site_id"])
    hits["km"] = hits["at_km"] + np.minimum(hits["offset_m"], hits["length_m"]) / 1000.0
    hits["detour_km"] = hits["detour_m"] / 1000.0
    hits = hits.sort_values(["flow", "km", "site_id"], kind="stable")
    make_stop = functools.partial(tuple.__new__, Stop)  # skips namedtuple's Python-level __new__
    f = hits["flow"].to_numpy()
    cuts = np.flatnonzero(np.diff(f)) + 1
    sid, km, det = (hits[c].to_numpy() for c in ("site_id", "km", "detour_km"))
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(f)], strict=True):
        if b > a:
            rows = zip(sid[a:b].tolist(), km[a:b].tolist(), det[a:b].tolist(), strict=True)
            stops = tuple(map(make_stop, rows))
            out[int(f[a])] = (out[int(f[a])][0], stops)
    return out


class _PairKeys:
    """One int64 key per directed node pair ``(u, v)`` of a known node set (-1: unknown node)."""

    def __init__(self, u: np.ndarray, v: np.ndarray) -> None:
        self.nodes = np.unique(np.concatenate([u, v]))

    def _index(self, x: np.ndarray) -> np.ndarray:
        i = np.minimum(np.searchsorted(self.nodes, x), max(len(self.nodes) - 1, 0))
        known = self.nodes[i] == x if len(self.nodes) else np.zeros(len(x), bool)
        return np.where(known, i, -1)

    def of(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Keys of the pairs; -1 where a node is unknown."""
        iu, iv = self._index(np.asarray(u, np.int64)), self._index(np.asarray(v, np.int64))
        return np.where((iu >= 0) & (iv >= 0), iu * len(self.nodes) + iv, -1)


def road_key(text: object) -> str:
    """One spelling of a road number: ``"A 2"``, ``"A2"``, ``"a-2"`` → ``"A2"``; "" if none.

    The first of a list (``"A 5;E 35"`` → ``"A5"``).
    """
    if text is None or (isinstance(text, float) and not math.isfinite(text)):
        return ""
    first = re.split(r"[;,/]", str(text))[0]
    return re.sub(r"[\s\-]+", "", first).upper()


def _grid_text(grid: pd.DataFrame | None, column: str, default: str, n: int) -> np.ndarray:
    if grid is None or column not in grid.columns:
        return np.full(n, default, dtype=object)
    return grid[column].fillna(default).astype(str).to_numpy(dtype=object)


def station_of(sites: pd.DataFrame, site_ids: Sequence[str]) -> pd.Series:
    """Station location of each given site (its ``station``, else its own id).

    Parameters
    ----------
    sites
        ``Instance.sites`` (or candidate sites with ``station_id``), indexed by ``site_id``.
    site_ids
        The sites asked for (e.g. a plan's open sites).

    Returns
    -------
    pandas.Series
        Index ``site_ids``, values the station id (str).
    """
    ids = [str(s) for s in site_ids]
    for column in ("station", "station_id"):
        if column in sites.columns:
            got = sites[column].reindex(ids).fillna("").astype(str)
            return got.where(got != "", pd.Series(ids, index=got.index))
    return pd.Series(ids, index=pd.Index(ids, name="site_id"), dtype=object)


def _grid_number(grid: pd.DataFrame | None, column: str, n: int) -> np.ndarray:
    if grid is None or column not in grid.columns:
        return np.full(n, np.nan)
    return grid[column].to_numpy(dtype=float)


def _edge_lengths_from_graph(graph: nx.MultiDiGraph) -> dict[tuple[int, int], float]:
    """Shortest parallel edge length (m) per directed node pair."""
    from corridor.network.matrix import edge_matrix

    return edge_matrix(graph, "length_m", nodes=list(graph.nodes)).pair_weights()


def _edge_bearings_from_graph(graph: nx.MultiDiGraph) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for u, v, b in graph.edges(data="bearing_deg"):
        if b is not None:
            out.setdefault((u, v), float(b))
    return out


def instance_from_pipeline(
    flows: FlowSet,
    candidates: Candidates,
    sites_with_grid: pd.DataFrame,
    vehicle: VehicleConfig,
    graph: nx.MultiDiGraph | None = None,
    *,
    edge_length_m: Mapping[tuple[int, int], float] | None = None,
    corridor_axis_deg: float = 90.0,
    round_trip: bool = False,
    corridors: Mapping[str, Sequence[int]] | None = None,
    drive_hours: bool = False,
) -> Instance:
    """Build an :class:`Instance` from the pipeline's flows, candidate sites, grid and vehicle.

    For each OD row its node ``path`` is walked; the cumulative km at each node comes from the
    lengths of the path's edges (the shortest parallel edge of each consecutive node pair, taken
    from ``graph`` or from ``edge_length_m``). A candidate is a stop of the flow when one of its
    ``access`` edges ``(u, v)`` is on the path; its position is the km at ``u`` plus
    ``offset_m / 1000`` and its detour ``detour_m / 1000`` (driven half before and half after the
    charging stop). Because access edges are directed carriageways, a flow only sees the sites on
    its own side of the road.

    Parameters
    ----------
    flows
        ``FlowSet``: ``od`` with ``od_id``, ``ze_trucks_per_day``, ``path_length_km``, ``path``
        and optionally ``return_od_id``: a row naming its way back there becomes one round trip
        (out, then back, no charging at the destination unless a site is there; the named row is
        no flow of its own), whatever ``round_trip`` says (the pilot fleet's depot trips).
    candidates
        ``Candidates``: ``sites`` (index ``site_id``, ``country``, ``kind``, ``bearing_deg``) and
        ``access`` (``site_id``, ``u``, ``v``, ``offset_m``, ``detour_m``).
    sites_with_grid
        Candidate sites with the grid columns (``headroom_mw``); sites missing here or with NaN
        headroom are taken as unlimited (counted in ``report["sites_without_headroom"]``). An
        optional ``station_id`` column (:func:`corridor.sites.pairs.opposite_pairs`) becomes
        the sites' ``station``: sites sharing one count as one station location.
    vehicle
        :class:`~corridor.config.VehicleConfig` (range, start range, consumption, technology).
    graph
        The road graph (edge ``length_m``; ``bearing_deg`` is used for the direction of sites
        without one). Either ``graph`` or ``edge_length_m`` is required.
    edge_length_m
        Alternative to ``graph``: length (m) per directed node pair ``(u, v)``.
    corridor_axis_deg
        Compass bearing (deg) of the corridor's outbound direction.
    round_trip
        Make each flow the trip out and back: the back path is the reverse OD's ``path`` when
        that OD is in ``flows.od``, else the shortest path on ``graph`` (by ``length_m``); flows
        with neither are dropped (``report["flows_without_return_path"]``).
    corridors
        Named AFIR corridor directions (e.g. ``"A67 Venlo-Duisburg outbound"``) as graph node
        paths; their reachable sites become ``Instance.corridors`` for the AFIR spacing and pool
        power constraints.
    drive_hours
        Also give each flow its driving time at the graph's truck speeds
        (:func:`with_drive_hours`; the driving-time rules of joint plans need it).

    Returns
    -------
    Instance

    Raises
    ------
    InputDataError
        If a needed column is missing, a path uses an edge of unknown length, or neither
        ``graph`` nor ``edge_length_m`` is given.
    """
    if edge_length_m is None:
        if graph is None:
            msg = (
                "instance_from_pipeline needs the edge lengths of the flow paths: pass the road "
                "graph (graph=G) or edge_length_m={(u, v): metres}"
            )
            raise InputDataError(msg)
        edge_length_m = _edge_lengths_from_graph(graph)
    bearings = _edge_bearings_from_graph(graph) if graph is not None else {}
    od = flows.od
    require_columns(od, ("od_id", "ze_trucks_per_day", "path_length_km", "path"), "flows.od")
    sites = candidates.sites
    access = candidates.access
    need_acc = ("site_id", "u", "v", "offset_m", "detour_m")
    require_columns(access, need_acc, "candidates.access")

    # access rows by directed node pair
    by_edge: dict[tuple[int, int], list[tuple[str, float, float]]] = {}
    site_dirs: dict[str, set[Direction]] = {}
    for sid, u, v, off, det in access[list(need_acc)].itertuples(index=False):
        sid = str(sid)
        by_edge.setdefault((int(u), int(v)), []).append((sid, float(off), float(det)))
        if sid in sites.index:
            b = sites.at[sid, "bearing_deg"] if "bearing_deg" in sites.columns else math.nan
            if b is None or not math.isfinite(float(b)):
                b = bearings.get((int(u), int(v)), math.nan)
            site_dirs.setdefault(sid, set()).update(
                direction_of_bearing(float(b), corridor_axis_deg)
            )
    # a site whose own bearing is NaN ("both") serves both directions
    if "bearing_deg" in sites.columns:
        for sid, b in sites["bearing_deg"].items():
            if b is None or not math.isfinite(float(b)):
                site_dirs[str(sid)] = set(BOTH_DIRECTIONS)

    acc = pd.DataFrame(
        {
            "u": access["u"].to_numpy(dtype=np.int64),
            "v": access["v"].to_numpy(dtype=np.int64),
            "site_id": access["site_id"].astype(str).to_numpy(),
            "offset_m": access["offset_m"].to_numpy(dtype=float),
            "detour_m": access["detour_m"].to_numpy(dtype=float),
        }
    )
    od_ids = [str(i) for i in od["od_id"]]
    trucks = od["ze_trucks_per_day"].to_numpy(dtype=float)
    paths = [tuple(map(int, path)) for path in od["path"]]
    walked = _walk_paths(od_ids, paths, edge_length_m, acc)
    # round trips the flows name themselves (the pilot fleet's depot trips): the outbound row
    # and the row of its way back become one flow
    joined = _named_returns(od, od_ids)
    joined_backs = {j for j in joined.values() if j is not None}
    back_of: dict[int, tuple[int, ...]] = {}
    n_no_return = 0
    if round_trip:
        paths_by_pair: dict[tuple[int, int], tuple[int, ...]] = {}
        for path in paths:
            if path:
                paths_by_pair.setdefault((path[0], path[-1]), path)
        for i, path in enumerate(paths):
            back_path = paths_by_pair.get((path[-1], path[0])) if path else None
            if back_path is None and graph is not None and path:
                import networkx as nx

                try:
                    back_path = tuple(nx.shortest_path(graph, path[-1], path[0], weight="length_m"))
                except nx.NetworkXNoPath:
                    back_path = None
            if back_path is None:
                n_no_return += 1
            else:
                back_of[i] = back_path
    keys = sorted(back_of)
    walked_back = dict(
        zip(
            keys,
            _walk_paths([od_ids[i] for i in keys], [back_of[i] for i in keys], edge_length_m, acc),
            strict=True,
        )
    )
    flow_paths = []
    n_no_stops = 0
    for i, (length_km, stops) in enumerate(walked):
        fp = FlowPath(od_ids[i], float(trucks[i]), length_km, stops)
        if i in joined_backs:
            continue
        if i in joined:
            j = joined[i]
            if j is None:
                n_no_return += 1
                continue
            b_km, b_stops = walked[j]
            fp = round_trip_flow(fp, FlowPath(od_ids[i], float(trucks[i]), b_km, b_stops))
        elif round_trip:
            if i not in walked_back:
                continue
            b_km, b_stops = walked_back[i]
            fp = round_trip_flow(fp, FlowPath(od_ids[i], float(trucks[i]), b_km, b_stops))
        if not fp.stops:
            n_no_stops += 1
        flow_paths.append(fp)

    ids = tuple(str(s) for s in sites.index)
    grid = sites_with_grid.reindex(list(sites.index)) if len(sites_with_grid) else None
    if grid is not None and "headroom_mw" in grid.columns:
        headroom = grid["headroom_mw"].to_numpy(dtype=float)
    else:
        headroom = np.full(len(ids), np.nan)
    n_no_headroom = int(np.isnan(headroom).sum())
    if n_no_headroom:
        log.warning("%d candidate sites have no grid headroom: taken as unlimited", n_no_headroom)
    headroom = np.where(np.isnan(headroom), np.inf, headroom)
    # the grid stage's site cost (connection) wins over a cost the candidates carry
    cost_of = grid if grid is not None and "cost_eur" in grid.columns else sites
    cost = (
        cost_of["cost_eur"].to_numpy(dtype=float)
        if "cost_eur" in cost_of.columns
        else np.zeros(len(ids))
    )
    table = pd.DataFrame(
        {
            "country": sites["country"].astype(str).to_numpy()
            if "country" in sites.columns
            else "",
            "directions": [frozenset(site_dirs.get(s, BOTH_DIRECTIONS)) for s in ids],
            "headroom_mw": headroom,
            "cost_eur": np.nan_to_num(cost, nan=0.0),
            "kind": sites["kind"].astype(str).to_numpy() if "kind" in sites.columns else "",
            "region": _grid_text(grid, "region", "", len(ids)),
            "road": [road_key(r) for r in _grid_text(sites, "road_ref", "", len(ids))],
            "connection": _grid_text(grid, "connection", "firm", len(ids)),
            "restricted_hours": _grid_text(grid, "restricted_hours", "", len(ids)),
            "substation_id": _grid_text(grid, "substation_id", "", len(ids)),
            "substation_pool_mw": _grid_number(grid, "substation_spare_mw", len(ids)),
            "area_id": _grid_text(grid, "congestion_area_id", "", len(ids)),
            "area_pool_mw": _grid_number(grid, "area_spare_mw", len(ids)),
            "station": station_of(grid if grid is not None else sites, ids).to_numpy(object),
        },
        index=pd.Index(ids, name="site_id"),
    )
    corridor_paths: list[FlowPath] = []
    if corridors:
        names = [str(n) for n in corridors]
        walked_cor = _walk_paths(
            names, [tuple(map(int, p)) for p in corridors.values()], edge_length_m, acc
        )
        corridor_paths = [
            FlowPath(name, 0.0, km, stops)
            for name, (km, stops) in zip(names, walked_cor, strict=True)
        ]
    report = {
        "source": "pipeline",
        "corridors": [c.od_id for c in corridor_paths],
        "flows": len(flow_paths),
        "flows_without_stops": n_no_stops,
        "candidates": len(ids),
        "sites_without_headroom": n_no_headroom,
        "corridor_axis_deg": corridor_axis_deg,
        "flows_without_return_path": n_no_return,
        "named_round_trips": len(joined_backs),
    }
    instance = Instance(
        site_ids=ids,
        sites=table,
        flows=tuple(flow_paths),
        range_km=float(vehicle.range_km),
        start_range_km=float(vehicle.start_range_km),
        energy_per_km=float(vehicle.consumption_per_km),
        technology=str(vehicle.technology),
        report=report,
        corridors=tuple(corridor_paths),
        mode="round_trip" if round_trip else "one_way",
    )
    return with_drive_hours(instance, od, graph) if drive_hours else instance
