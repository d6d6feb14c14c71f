r"""The siting MILP: flow refuelling location on real paths, arc-cover path-cover form.

Formulation
-----------
Sets: candidate sites :math:`S` (after dropping unusable ones), flows :math:`Q`; for a flow
:math:`q` with path length :math:`L_q` its stops :math:`k` at path positions :math:`d_k` (km) with
detours :math:`\delta_k` (km, driven half before and half after charging). Ranges: :math:`R` after a
stop (``soc_max`` down to the reserve), :math:`R_0` from the origin (start SoC down to the reserve).
Every stop refills to ``soc_max`` (Capar et al. 2013, one-way trips with a start state of charge).

Targets of a flow are the positions of its stops and its destination; each target :math:`t` with
arrival detour :math:`a_t` (:math:`\delta_j/2` for stop :math:`j`, 0 for the destination) must be
reachable either from the origin (:math:`t + a_t \le R_0`, then the target is dropped) or from an
open stop before it. With :math:`\bar\delta_q = \max_k \delta_k / 2` over all candidate stops of
the flow (usable or not, fixed when the instance is restricted to fewer sites, so that every model
of a run, and its bound, has the same windows) the cover set of target :math:`t` is

.. math::

    K_{q,t} = \{ k : d_k < t,\; t - d_k + a_t + \bar\delta_q \le R \}.

Variables: :math:`x_s \in \{0,1\}` open site, :math:`z_s \in \mathbb{Z}_{\ge 0}` chargers (H2:
modules), :math:`y_g \in [0,1]` share of flow group :math:`g` served (flows with identical minimal
cover families share one :math:`y_g`; without capacity :math:`y` is integral at an optimum because
:math:`x` is; with capacity a group may be served in part: the chargers carry that share of its
trucks/day).

.. math::

    \max \sum_g w_g\, y_g \quad (w_g = \text{trucks/day or truck-km/day})

    \text{cover}[g,t]:\; y_g \le \sum_{k \in K_{g,t}} x_k \qquad \forall g, t

    \text{sites\_max}:\; \sum_s x_s \le p, \qquad \text{sites\_min}:\; \sum_s x_s \ge p_{\min}

    \text{country\_min}[c]:\; \sum_{s \in S_c} x_s \ge n_c, \qquad
    \text{direction\_min}[r]:\; \sum_{s \in S_r} x_s \ge n_r

    \text{chargers\_min}[s]:\; z_s \ge \lceil P_{\min}/P \rceil x_s, \qquad
    \text{chargers\_max}[s]:\; z_s \le Z_{\max} x_s, \qquad
    \text{headroom}[s]:\; P z_s \le H_s

    \text{fixed\_open}[s]:\; x_s = 1, \qquad
    \text{budget}:\; \sum_s c_s x_s + c_z \sum_s z_s \le B

    \text{afir\_gap}[r,t]:\; \sum_{k \in K^{\mathrm{AFIR}}_{r,t}} x_k \ge 1

With capacity in the model (``capacity_in_model``, the default) the chargers and the grid carry
the served flows. Let :math:`E_g` be group :math:`g`'s charge-km per day (trucks/day × (path
length − start range); × consumption = the energy it must buy on the way), :math:`U_g` the union
of its cover sets (the open sites it may charge at) and :math:`\kappa` the load of one charge-km
per day (BEV: peak-hour Erlang ``peak_hour_share`` × kWh/km / charger kW; H2: kg/km). Groups
with the same union share assignment variables :math:`b_{u,s} \ge 0` (charge-km/day of union
:math:`u` charged at :math:`s`):

.. math::

    \text{assign}[u]:\; \sum_{s \in u} b_{u,s} = \sum_{g: U_g = u} E_g\, y_g, \qquad
    \text{assign\_open}[u,s]:\; b_{u,s} \le \Big(\sum_{g: U_g = u} E_g\Big) x_s

BEV chargers follow the Erlang-C table :math:`T_n` (most peak-hour Erlang :math:`n` chargers carry
with P(wait) ≤ ``max_wait_probability``, :func:`~corridor.optimise.queueing.
max_load_for_wait_probability`), chosen with one binary :math:`u_{s,n}` per allowed count
(:math:`n` from the minimum site power to the fewest of ``max_chargers_per_site`` and what the
headroom plus battery allows), because :math:`T` is convex (pooling) and no linear row can follow
it; H2 modules carry :math:`T_n = n \cdot` ``h2_module_kg_per_day``, a linear row on :math:`z_s`:

.. math::

    \text{pick}[s]:\; \sum_n u_{s,n} = x_s, \quad
    \text{pick\_chargers}[s]:\; z_s = \sum_n n\, u_{s,n}, \quad
    \text{capacity}[s]:\; \kappa \sum_{u \ni s} b_{u,s} \le \sum_n T_n u_{s,n}

The grid: each site's charger power less its battery power :math:`\beta_s` (MW, optional,
:math:`\beta_s \le \bar\beta x_s`, cost in the budget, reported as MWh = :math:`\beta_s` ×
``battery_hours``) fits its own headroom (after the non-firm rule), and every shared pool (a
substation's or a congestion area's known spare MW, firm connections only) holds the sum:

.. math::

    \text{headroom}[s]:\; P z_s - \beta_s \le H_s, \qquad
    \text{grid\_substation}[k] / \text{grid\_area}[k]:\; \sum_{s \in k} (P z_s - \beta_s) \le H_k

:math:`y_g` stays continuous: a group may be served in part (the chargers carry that share of its
trucks/day), so flows are aggregated only when they also need the same charge-km per truck. The
sizing after solving reads the same table (:mod:`corridor.optimise.sizing`), so no site is below
the chargers its assigned trucks need, and :func:`~corridor.optimise.validate.check_capacity`
re-checks every plan with its own maximum-flow assignment.

Why this formulation: the capacitated flow-refuelling models of the literature assign each flow's
refuelling to the stations of its feasible combinations or stop sequences (Upchurch, Kuby and Lim
2009, the CFRLM) or to route columns generated by pricing (Nordlund, Tassiulas and Lange 2023,
branch-cut-and-price for the capacitated RSLP with routing), with Benders decomposition as the
usual alternative for large instances. Assigning energy to the union of the arc-cover sets keeps
the compact arc-cover model of Capar et al. (2013) and adds one continuous variable per distinct
(union, site) pair, so HiGHS solves it directly; sharing those variables between groups cuts them
by the number of groups per union, and the ``assign_open`` rows link them to the opening
variables (a valid inequality that tightens the LP bound). Pricing or Benders would pay off on
network-wide instances with thousands of open candidates; for corridor pilots (100–450
candidates, :mod:`corridor.optimise.corridor`) the compact model proves optimality in under a
second, and network-wide plans solve without capacity (the site-dominance presolve,
:mod:`corridor.optimise.presolve`, makes that model small). Energy split over the sites of the
union is a relaxation of per-stop charging limits (a truck can only take what its battery holds
at one stop); the charge-km per truck is a lower bound on the energy it buys (detours excluded).

Joint plans (several vehicle classes, :mod:`corridor.optimise.joint`) run this cover core on
*offers* (a site's BEV charger type or its H2 refuelling) instead of sites, with the driving-time
rules of Regulation (EC) 561/2006 in the cover sets: a class's flow may use only charger powers
whose charging time, beyond the free time of its breaks, keeps the trip within
``max_trip_time_factor`` of the legal reference time, and where the breaks must absorb the
charging its cover sets also need an open stop every 4.5 h of driving (the exact rule is in that
module's docstring); :func:`preprocess` takes those cover sets through ``cover_sets``.

The ``min_sites`` objective instead minimises :math:`\sum_s x_s` subject to
:math:`\sum_g w_g y_g \ge \sigma \sum_g w_g` (``target_share``).

Soundness: if every target of a flow is covered, a truck that stops at every open site on its path
never breaks the reserve (the leg between consecutive open stops :math:`i, j` is at most
:math:`d_j - d_i + \delta_i/2 + \delta_j/2 \le R` because :math:`j`'s target is covered by an open
stop at or before :math:`i`). With zero detours the cover conditions are also necessary, so the
model is exact; with detours it is conservative by at most :math:`\bar\delta_q` per leg.

Preprocessing: flows already feasible without a site (:math:`L_q \le R_0`) and flows that cannot be
served even with every usable site open (an empty :math:`K_{q,t}`) are reported, not modelled;
cover sets of a flow that contain another of its cover sets are dropped (dominated); flows with the
same minimal cover family are aggregated; a cover set shared by several groups is summed once,
into a continuous :math:`w_c \le \sum_{k \in c} x_k` that the groups' rows :math:`y_g \le w_c` use
(same LP relaxation, about 12 times fewer nonzeros on the BEV pilot); candidates in no cover set
get no variable, except the cheapest few per country and direction class that the site-count
minimums may need (:func:`model_sites`).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from corridor.optimise.instance import FlowPath, Instance, shared_pools

if TYPE_CHECKING:
    from corridor.directions import Direction

__all__ = [
    "Assignment",
    "CoverGroup",
    "Model",
    "Preprocessed",
    "build_model",
    "flow_cover_sets",
    "model_sites",
    "preprocess",
    "shared_cover_sets",
]

log = logging.getLogger(__name__)

CoverSet = tuple[str, ...]


@dataclass(frozen=True)
class CoverGroup:
    """Flows sharing one minimal family of cover sets (one served variable).

    Attributes
    ----------
    covers
        The minimal cover sets (site ids); the group is served iff each has an open site.
    od_ids
        Flows in the group.
    trucks_per_day
        Their trucks per day.
    truck_km_per_day
        Their truck-km per day.
    charge_km_per_day
        Their trucks/day × the km each must drive on energy bought on the way (path length less
        the start range); × consumption per km gives the energy they charge per day.
    """

    covers: tuple[CoverSet, ...]
    od_ids: tuple[str, ...]
    trucks_per_day: float
    truck_km_per_day: float
    charge_km_per_day: float = 0.0


@dataclass(frozen=True)
class Preprocessed:
    """Result of :func:`preprocess`.

    Attributes
    ----------
    groups
        Flow groups that need at least one site and can be served.
    already_feasible_od_ids, unservable_od_ids
        Flows not modelled: feasible without a site, or not even with every usable site open.
    trucks_already_feasible_per_day, trucks_unservable_per_day
        Their trucks per day.
    usable_sites
        Candidate sites that may be opened (headroom, fixed-closed taken out).
    used_sites
        Usable sites that appear in at least one cover set.
    stats
        Counts: raw and kept cover sets, flows, groups.
    """

    groups: tuple[CoverGroup, ...]
    already_feasible_od_ids: tuple[str, ...]
    unservable_od_ids: tuple[str, ...]
    trucks_already_feasible_per_day: float
    trucks_unservable_per_day: float
    usable_sites: tuple[str, ...]
    used_sites: tuple[str, ...]
    stats: dict[str, Any] = field(default_factory=dict)


def flow_cover_sets(
    flow: FlowPath,
    usable: set[str] | frozenset[str],
    range_km: float,
    start_range_km: float,
    *,
    dominance: bool = True,
) -> list[CoverSet] | None:
    """Cover sets of one flow (see the module docstring for the rule).

    Parameters
    ----------
    flow
        The flow and its stops.
    usable
        Sites that may be opened; other stops are ignored.
    range_km, start_range_km
        Range (km) after a stop and from the origin.
    dominance
        Drop cover sets that contain another cover set of the flow (and duplicates).

    Returns
    -------
    list of tuple or None
        ``[]`` if the flow needs no site, ``None`` if it cannot be served even with every usable
        site open, else the cover sets (site ids in path order).
    """
    if flow.length_km <= start_range_km:
        return []
    stops = [s for s in flow.stops if s.site_id in usable and s.km < flow.length_km]
    if not stops:
        return None
    km = np.array([s.km for s in stops])
    det = np.array([s.detour_km for s in stops])
    # one allowance for every stop of the flow, usable or not, and the same on a restricted
    # instance: models on fewer sites keep the windows (and so the bound) of the full model
    dep = flow.departure_allowance_km
    targets = np.append(km, flow.length_km)
    arrive = np.append(det / 2.0, 0.0)
    need_cover = targets + arrive > start_range_km
    lo = np.searchsorted(km, targets + arrive + dep - range_km, side="left")
    hi = np.searchsorted(km, targets, side="left")
    lo, hi = lo[need_cover], hi[need_cover]
    if np.any(hi <= lo):
        return None
    intervals = sorted(set(zip(lo.tolist(), hi.tolist(), strict=False)))
    if dominance:
        intervals = _minimal_intervals(intervals)
    ids = [s.site_id for s in stops]
    return [tuple(dict.fromkeys(ids[a:b])) for a, b in intervals]


def _minimal_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep the half-open intervals that contain no other interval of the list."""
    keep = []
    best_hi = math.inf
    for a, b in sorted(set(intervals), key=lambda ab: (-ab[0], ab[1])):
        if b < best_hi:
            keep.append((a, b))
            best_hi = b
    return sorted(keep)


def preprocess(
    instance: Instance,
    usable: Iterable[str],
    *,
    aggregate: bool = True,
    dominance: bool = True,
    flows: Sequence[FlowPath] | None = None,
    by_charge_km: bool = False,
    cover_sets: Callable[[FlowPath, frozenset[str]], list[CoverSet] | None] | None = None,
) -> Preprocessed:
    """Cover sets of every flow, with the reductions of the module docstring.

    Parameters
    ----------
    instance
        The instance.
    usable
        Sites that may be opened.
    aggregate, dominance
        Switch the reductions off (for benchmarking against the plain formulation).
    flows
        Flows to use instead of ``instance.flows`` (e.g. round trips).
    by_charge_km
        Aggregate only flows that also need the same charge-km per truck (capacity in the model:
        a group is served in part, and only flows with the same load per truck are
        interchangeable there).
    cover_sets
        Cover sets of one flow given the usable sites, instead of :func:`flow_cover_sets` with the
        instance's ranges (e.g. with the driving-time windows of :mod:`corridor.optimise.joint`);
        same return convention.

    Returns
    -------
    Preprocessed
    """
    usable_set = frozenset(usable)
    flows = instance.flows if flows is None else flows
    if cover_sets is not None:  # a caller's own cover-set rule: not cached
        return _preprocess(
            instance, usable_set, flows, aggregate, dominance, by_charge_km, cover_sets
        )
    key = (
        id(flows),
        id(instance.site_ids),
        usable_set,
        instance.range_km,
        instance.start_range_km,
        aggregate,
        dominance,
        by_charge_km,
    )
    hit = _PREPROCESSED.get(key)
    if hit is not None:
        _PREPROCESSED.move_to_end(key)
        return dataclasses.replace(hit[2], stats=dict(hit[2].stats))
    pre = _preprocess(instance, usable_set, flows, aggregate, dominance, by_charge_km)
    # the key's ids stay valid while the cache holds the objects themselves
    _PREPROCESSED[key] = (flows, instance.site_ids, pre)
    while len(_PREPROCESSED) > _PREPROCESSED_SIZE:
        _PREPROCESSED.popitem(last=False)
    return dataclasses.replace(pre, stats=dict(pre.stats))


#: Recent :func:`preprocess` results (the ranking, the relaxation-first shortcut and the grid
#: what-ifs solve the same flows many times over; cover sets depend only on the flows, the usable
#: sites and the ranges). Keyed by object identity, holding the objects.
_PREPROCESSED: OrderedDict[tuple[Any, ...], tuple[Any, Any, Preprocessed]] = OrderedDict()
_PREPROCESSED_SIZE = 16


def _preprocess(
    instance: Instance,
    usable_set: frozenset[str],
    flows: Sequence[FlowPath],
    aggregate: bool,
    dominance: bool,
    by_charge_km: bool,
    cover_sets: Callable[[FlowPath, frozenset[str]], list[CoverSet] | None] | None = None,
) -> Preprocessed:
    groups: dict[Any, list[Any]] = {}
    feasible, unservable = [], []
    t_feasible = t_unservable = 0.0
    n_raw = 0
    for i, fp in enumerate(flows):
        covers = (
            cover_sets(fp, usable_set)
            if cover_sets is not None
            else flow_cover_sets(
                fp, usable_set, instance.range_km, instance.start_range_km, dominance=dominance
            )
        )
        if covers is None:
            unservable.append(fp.od_id)
            t_unservable += fp.trucks_per_day
            continue
        if not covers:
            feasible.append(fp.od_id)
            t_feasible += fp.trucks_per_day
            continue
        if not fp.trucks_per_day > 0:
            continue
        n_raw += len(covers)
        key: Any = tuple(sorted(covers)) if aggregate else i
        if aggregate and by_charge_km:
            key = (key, round(max(0.0, fp.length_km - instance.start_range_km), 6))
        entry = groups.setdefault(key, [tuple(covers), [], 0.0, 0.0, 0.0])
        entry[1].append(fp.od_id)
        entry[2] += fp.trucks_per_day
        entry[3] += fp.trucks_per_day * fp.length_km
        entry[4] += fp.trucks_per_day * max(0.0, fp.length_km - instance.start_range_km)
    out = tuple(
        CoverGroup(c, tuple(ids), float(t), float(tk), float(ck))
        for c, ids, t, tk, ck in groups.values()
    )
    used = sorted({s for g in out for c in g.covers for s in c})
    order = {s: i for i, s in enumerate(instance.site_ids)}
    stats = {
        "flows": len(flows),
        "flows_modelled": len(flows) - len(feasible) - len(unservable),
        "flows_already_feasible": len(feasible),
        "flows_unservable": len(unservable),
        "flow_groups": len(out),
        "cover_sets_per_flow_total": n_raw,
        "cover_sets": sum(len(g.covers) for g in out),
        "candidates": len(instance.site_ids),
        "candidates_usable": len(usable_set),
        "candidates_in_covers": len(used),
    }
    return Preprocessed(
        groups=out,
        already_feasible_od_ids=tuple(feasible),
        unservable_od_ids=tuple(unservable),
        trucks_already_feasible_per_day=t_feasible,
        trucks_unservable_per_day=t_unservable,
        usable_sites=tuple(s for s in instance.site_ids if s in usable_set),
        used_sites=tuple(sorted(used, key=order.__getitem__)),
        stats=stats,
    )


@dataclass
class Model:
    """A built PuLP model and its variables.

    Attributes
    ----------
    problem
        The ``pulp.LpProblem``.
    x, z
        Site-open binaries and charger integers by site id.
    y
        Served fraction per group (index into ``Preprocessed.groups``).
    constraint_names
        The structured names (``cover[od=…,arc=…]``, …) in the order they were added; PuLP
        sanitises names for file formats, these are the originals.
    build_time_s
        Wall time to build.
    assignment
        The capacity part (capacity in the model), else None.
    groups
        The flow groups ``y`` refers to (``Preprocessed.groups``).
    """

    problem: Any
    x: dict[str, Any]
    z: dict[str, Any]
    y: dict[int, Any]
    constraint_names: list[str]
    build_time_s: float = 0.0
    assignment: Assignment | None = None
    groups: tuple[CoverGroup, ...] = ()


@dataclass
class Assignment:
    """The capacity part of a built model: who may charge where, and the variables.

    Attributes
    ----------
    unions
        Distinct site sets (model sites only) that groups may charge at; ``unions[u]``.
    groups_of
        ``groups_of[u]``: indices of the groups whose union is ``unions[u]``.
    b
        Charge-km per day of union ``u`` assigned to site ``s``, by ``(u, s)``.
    u
        Binary "site gets ``n`` chargers" by ``(s, n)`` (BEV; empty for H2).
    battery_mw
        Battery power (MW) by site (only sites that may add one).
    """

    unions: list[tuple[str, ...]]
    groups_of: list[list[int]]
    b: dict[tuple[int, str], Any]
    u: dict[tuple[str, int], Any]
    battery_mw: dict[str, Any]


def assigned_charging(
    unions: Sequence[Sequence[str]],
    groups_of: Sequence[Sequence[int]],
    b: Mapping[tuple[int, str], Any],
    groups: Sequence[CoverGroup],
    share: Mapping[int, float],
    sites: Container[str],
) -> Iterator[tuple[str, float, list[int], float]]:
    """Walk a solved assignment: what each union's served groups charge at each site.

    Parameters
    ----------
    unions, groups_of, b
        The assignment (:class:`Assignment`: site sets, their groups, charge-km variables).
    groups
        ``Preprocessed.groups``.
    share
        Served share per group index (groups not served are left out).
    sites
        Sites (or offers) to report; others are skipped.

    Yields
    ------
    (site, charge_km, served groups, union charge-km)
        Charge-km per day assigned to the site (above 1e-9 of the union's), the union's served
        group indices and the charge-km per day they need in all: a group's trucks charge at
        the site in the share ``charge_km / union charge-km``.
    """
    for ui, members in enumerate(unions):
        served = [gi for gi in groups_of[ui] if gi in share]
        total = sum(groups[gi].charge_km_per_day * share[gi] for gi in served)
        if total <= 0:
            continue
        for v in members:
            ck = max(0.0, b[ui, v].varValue or 0.0)
            if v in sites and ck > 1e-9 * total:
                yield v, ck, served, total


@dataclass(frozen=True)
class ModelSpec:
    """What :func:`build_model` needs besides the preprocessed flows (derived from the config).

    Attributes
    ----------
    objective
        ``max_trucks``, ``max_truck_km`` or ``min_sites``.
    max_sites, min_sites
        Site-count bounds.
    min_per_country, min_per_direction
        Site minimums per country code and per direction ("outbound"/"inbound").
    fixed_open
        Sites forced open.
    min_chargers, max_chargers
        Per-site charger bounds (used when open).
    charger_power_mw
        Power per charger (MW); 0 for H2 (no headroom constraint).
    budget_eur, charger_cost_eur
        Budget and per-charger cost.
    target_share
        For ``min_sites``: share of the modelled weight to serve.
    afir_covers
        Named AFIR cover sets: (corridor name, list of cover sets), each needs an open site.
    shared_covers
        One variable per distinct cover set shared by all flows that have it (see
        :func:`shared_cover_sets`); off: every flow sums its cover sets itself (plain form).
    prune_sites
        Drop site variables that cannot change the optimum (see :func:`model_sites`).
    capacity
        Tie chargers and the grid to the served flows (``assign``, ``capacity``, ``pick``,
        ``grid_*`` rows, see the module docstring).
    multi_stop_cuts
        Add ``stops`` rows (:func:`_add_multi_stop_cuts`): groups that need several stops need
        that many open sites.
    shared_assignment
        One set of assignment variables per distinct union of cover sets, shared by the groups
        that have it; off: one set per group (the plain form, for benchmarking).
    load_per_charge_km
        Load one charge-km per day puts on a site: BEV peak-hour Erlang ``peak_hour_share ×
        consumption (kWh/km) / charger kW``; H2 ``consumption (kg/km)`` (kg/day).
    capacity_table
        Most load ``n`` chargers carry (index ``n``, same unit as the load): BEV the Erlang-C
        table of :func:`~corridor.optimise.queueing.max_load_for_wait_probability`, H2
        ``n × module kg/day``.
    battery_max_mw, battery_cost_eur_per_mw
        Largest battery power (MW) a BEV site may add over its grid headroom (0: none) and its
        cost (EUR per MW, counted in the budget).
    min_chargers_at
        Per-site charger minimum when open, above ``min_chargers`` (AFIR pool power).
    """

    objective: str = "max_trucks"
    max_sites: int = 6
    min_sites: int = 0
    min_per_country: dict[str, int] = field(default_factory=dict)
    min_per_group: dict[tuple[str, str], int] = field(default_factory=dict)
    min_per_direction: dict[Direction, int] = field(default_factory=dict)
    fixed_open: tuple[str, ...] = ()
    min_chargers: int = 1
    max_chargers: int = 12
    charger_power_mw: float = 1.0
    budget_eur: float | None = None
    charger_cost_eur: float = 0.0
    target_share: float = 1.0
    afir_covers: tuple[tuple[str, tuple[CoverSet, ...]], ...] = ()
    shared_covers: bool = True
    prune_sites: bool = True
    capacity: bool = False
    multi_stop_cuts: bool = True
    shared_assignment: bool = True
    load_per_charge_km: float = 0.0
    capacity_table: tuple[float, ...] = ()
    battery_max_mw: float = 0.0
    battery_cost_eur_per_mw: float = 0.0
    min_chargers_at: dict[str, int] = field(default_factory=dict)

    def charger_range(self, site: str, headroom_mw: float) -> tuple[int, int]:
        """Fewest and most chargers an open site may get (grid headroom and battery included)."""
        low = max(self.min_chargers, self.min_chargers_at.get(site, 0))
        high = self.max_chargers
        if self.charger_power_mw > 0 and math.isfinite(headroom_mw):
            high = min(
                high,
                math.floor((headroom_mw + self.battery_max_mw) / self.charger_power_mw + 1e-9),
            )
        return low, high


def _name(family: str, **keys: Any) -> str:
    if not keys:
        return family
    return f"{family}[" + ",".join(f"{k}={v}" for k, v in keys.items()) + "]"


class _Builder:
    def __init__(self, problem: Any) -> None:
        self.problem = problem
        self.names: list[str] = []

    def add(self, expr: Any, name: str) -> None:
        self.problem.addConstraint(expr, name)
        self.names.append(name)


def _add_cover(b: _Builder, pre: Preprocessed, x: dict, y: dict, lp_sum: Callable) -> None:
    for gi, g in enumerate(pre.groups):
        for ai, cover in enumerate(g.covers):
            b.add(y[gi] <= lp_sum(x[s] for s in cover), _name("cover", od=g.od_ids[0], arc=ai))


def shared_cover_sets(pre: Preprocessed) -> tuple[list[CoverSet], list[list[int]]]:
    """Distinct cover sets over all groups, and for each group the indices of its sets.

    Returns
    -------
    covers, of_group
        ``covers[c]`` a distinct cover set; ``of_group[g]`` the indices into ``covers`` of group
        ``g``'s cover sets.
    """
    index: dict[CoverSet, int] = {}
    of_group = []
    for g in pre.groups:
        of_group.append([index.setdefault(c, len(index)) for c in g.covers])
    return list(index), of_group


def _add_shared_cover(
    b: _Builder, prob: Any, pre: Preprocessed, x: dict, y: dict, lp_sum: Callable
) -> dict[int, Any]:
    """Add cover rows through one variable per distinct cover set.

    Same LP relaxation, far fewer nonzeros: a cover set shared by many flows is summed once.
    """
    import pulp

    covers, of_group = shared_cover_sets(pre)
    w = {ci: prob.add_variable(f"w[{ci}]", 0, 1, pulp.LpContinuous) for ci in range(len(covers))}
    for ci, cover in enumerate(covers):
        b.add(w[ci] <= lp_sum(x[s] for s in cover), _name("cover_set", set=ci))
    for gi, g in enumerate(pre.groups):
        for ai, ci in enumerate(of_group[gi]):
            b.add(y[gi] <= w[ci], _name("cover", od=g.od_ids[0], arc=ai))
    return w


def disjoint_covers(covers: Sequence[CoverSet]) -> list[CoverSet]:
    """Pick a largest family of a flow's cover sets that share no site (earliest-ending first).

    Cover sets are windows along the path, so taking the one that ends first and then the next
    one that shares no site with those taken gives the most pairwise site-disjoint windows
    (interval scheduling); a site met twice on a round trip keeps two windows from both counting.
    """
    taken: list[CoverSet] = []
    used: set[str] = set()
    for cover in covers:  # path order: minimal windows sorted by start are sorted by end
        if used.isdisjoint(cover):
            taken.append(cover)
            used.update(cover)
    return taken


def _add_multi_stop_cuts(
    b: _Builder, pre: Preprocessed, x: dict, y: dict, lp_sum: Callable
) -> None:
    """``m y_g <= sum of x over m site-disjoint cover sets`` for groups that need m >= 2 stops.

    Valid: a served group has an open site in each of its cover sets, and site-disjoint sets need
    distinct sites. It tightens the LP bound, where the plain cover rows let one fractional
    site spread over every window of a long trip.
    """
    for gi, g in enumerate(pre.groups):
        disjoint = disjoint_covers(g.covers)
        if len(disjoint) >= 2:
            members = [s for c in disjoint for s in c if s in x]
            b.add(
                len(disjoint) * y[gi] <= lp_sum(x[s] for s in members),
                _name("stops", od=g.od_ids[0]),
            )


def station_terms(b: _Builder, prob: Any, x: dict, sites: Any) -> dict[str, Any]:
    """One open-station term per station location, keyed by its first site (in ``x`` order).

    A site alone is its own term ``x_s``. Sites sharing a ``station`` (the two halves of a rest
    area, :mod:`corridor.sites.pairs`) get one continuous ``v`` in [0, 1] with ``v >= x_s`` for
    each half and ``v <= sum of x_s``: with binary ``x`` it is 1 exactly when a half opens, so the
    station counts once against the site counts and minimums.
    """
    import pulp

    if "station" not in sites.columns:
        return dict(x)
    members: dict[str, list[str]] = {}
    for s in x:
        members.setdefault(str(sites.at[s, "station"]), []).append(s)
    out: dict[str, Any] = {}
    for k, (station, ss) in enumerate(members.items()):
        if len(ss) == 1:
            out[ss[0]] = x[ss[0]]
            continue
        v = prob.add_variable(f"station[{k}]", 0, 1, pulp.LpContinuous)
        for s in ss:
            b.add(v - x[s] >= 0, _name("station_open", site=s))
        b.add(v - pulp.lpSum(x[s] for s in ss) <= 0, _name("station_used", site=station))
        out[ss[0]] = v
    return out


def _add_site_count(b: _Builder, x: dict, spec: ModelSpec, lp_sum: Callable) -> None:
    total = lp_sum(x.values())
    b.add(total <= spec.max_sites, "sites_max")
    if spec.min_sites > 0:
        b.add(total >= spec.min_sites, "sites_min")


def _add_country_min(b: _Builder, x: dict, sites: Any, spec: ModelSpec, lp_sum: Callable) -> None:
    for cc, n in sorted(spec.min_per_country.items()):
        if n > 0:
            members = [s for s in x if sites.at[s, "country"] == cc]
            b.add(lp_sum(x[s] for s in members) >= n, f"country_min[{cc}]")
    for (column, value), n in sorted(spec.min_per_group.items()):
        if n > 0:
            members = [s for s in x if _attr(sites, s, column) == value]
            b.add(lp_sum(x[s] for s in members) >= n, f"{column}_min[{value}]")


def _attr(sites: Any, site: str, column: str) -> str:
    """Return a site's group value (``region``, ``road``; "" without such a column)."""
    return str(sites.at[site, column]) if column in sites.columns else ""


def group_quotas(info: Any, spec: ModelSpec) -> list[tuple[np.ndarray, int]]:
    """(member mask, fewest sites) per group minimum (NUTS-1 region, road), rows of ``info``."""
    out = []
    for (column, value), n in spec.min_per_group.items():
        if n > 0:
            have = (
                info[column].astype(str).to_numpy()
                if column in info.columns
                else np.full(len(info), "", dtype=object)
            )
            out.append((have == value, n))
    return out


def _add_direction_min(b: _Builder, x: dict, sites: Any, spec: ModelSpec, lp_sum: Callable) -> None:
    for direction, n in sorted(spec.min_per_direction.items()):
        if n > 0:
            members = [s for s in x if direction in sites.at[s, "directions"]]
            b.add(lp_sum(x[s] for s in members) >= n, f"direction_min[{direction}]")


def _add_chargers(b: _Builder, x: dict, z: dict, sites: Any, spec: ModelSpec) -> None:
    for s in x:
        low = max(spec.min_chargers, spec.min_chargers_at.get(s, 0))
        if low > 0:
            b.add(z[s] >= low * x[s], _name("chargers_min", site=s))
        b.add(z[s] <= spec.max_chargers * x[s], _name("chargers_max", site=s))


def add_assignment(
    b: _Builder,
    prob: Any,
    pre: Preprocessed,
    x: dict,
    y: dict,
    lp_sum: Callable,
    *,
    shared: bool = True,
    label: str = "site",
) -> tuple[list[tuple[str, ...]], list[list[int]], dict[tuple[int, str], Any], dict[str, list]]:
    """Add the energy assignment rows: each served group's charge-km go to its open places.

    The places a group may charge at are the union of its cover sets (those in ``x``: sites, or
    a joint plan's offers). With ``shared`` one set of assignment variables serves every group
    with the same union, else each group has its own. Rows: ``b[u, s] <= most * x[s]`` (only
    open places take charge) and ``sum_s b[u, s] = sum of charge-km * y`` over the union's groups.

    Returns
    -------
    unions, groups_of, b, load
        The place set of each assignment set ``u``, the groups of each, the variables by
        ``(u, place)`` and, per place, its variables (its assigned charge-km per day).
    """
    import pulp

    keys: dict[Any, int] = {}
    groups_of: list[list[int]] = []
    for gi, g in enumerate(pre.groups):
        members = tuple(dict.fromkeys(s for c in g.covers for s in c if s in x))
        # shared: one set of assignment variables per distinct union; else one per group
        ui = keys.setdefault(members if shared else (gi, members), len(keys))
        if ui == len(groups_of):
            groups_of.append([])
        groups_of[ui].append(gi)
    unions = [k if shared else k[1] for k in keys]
    avar: dict[tuple[int, str], Any] = {}
    load: dict[str, list[Any]] = {}
    for ui, members in enumerate(unions):
        demand = [(pre.groups[gi].charge_km_per_day, gi) for gi in groups_of[ui]]
        most = float(sum(ck for ck, _ in demand))
        for s in members:
            v = prob.add_variable(f"b[{ui},{s}]", 0, most, pulp.LpContinuous)
            avar[ui, s] = v
            load.setdefault(s, []).append(v)
            b.add(v - most * x[s] <= 0, _name("assign_open", set=ui, **{label: s}))
        b.add(
            lp_sum(avar[ui, s] for s in members) - lp_sum(ck * y[gi] for ck, gi in demand) == 0,
            _name("assign", set=ui),
        )
    return unions, groups_of, avar, load


def _add_capacity(
    b: _Builder,
    prob: Any,
    pre: Preprocessed,
    x: dict,
    z: dict,
    y: dict,
    sites: Any,
    spec: ModelSpec,
    lp_sum: Callable,
) -> Assignment:
    """Add the assignment, capacity (Erlang-C table) and grid rows of the module docstring."""
    import pulp

    sets, groups_of, avar, load = add_assignment(
        b, prob, pre, x, y, lp_sum, shared=spec.shared_assignment
    )
    table = spec.capacity_table
    bev = spec.charger_power_mw > 0
    uvar: dict[tuple[str, int], Any] = {}
    battery: dict[str, Any] = {}
    for s in x:
        head = float(sites.at[s, "headroom_mw"])
        low, high = spec.charger_range(s, head)
        served_load = spec.load_per_charge_km * lp_sum(load.get(s, []))
        if bev:
            # one binary per charger count: the table is convex, a linear row cannot follow it
            options = range(low, high + 1)
            for n in options:
                uvar[s, n] = prob.add_variable(f"u[{s},{n}]", 0, 1, pulp.LpBinary)
            b.add(lp_sum(uvar[s, n] for n in options) - x[s] == 0, _name("pick", site=s))
            b.add(
                z[s] - lp_sum(n * uvar[s, n] for n in options) == 0, _name("pick_chargers", site=s)
            )
            if load.get(s):
                b.add(
                    served_load - lp_sum(table[n] * uvar[s, n] for n in options) <= 0,
                    _name("capacity", site=s),
                )
            over = math.isfinite(head) and high * spec.charger_power_mw > head + 1e-9
            if spec.battery_max_mw > 0 and over:
                battery[s] = prob.add_variable(
                    f"battery_mw[{s}]", 0, spec.battery_max_mw, pulp.LpContinuous
                )
                b.add(battery[s] - spec.battery_max_mw * x[s] <= 0, _name("battery_open", site=s))
        elif load.get(s):
            unit = table[1] if len(table) > 1 else 0.0
            b.add(served_load - unit * z[s] <= 0, _name("capacity", site=s))
    if bev:
        _add_grid_rows(b, x, z, battery, sites, spec, lp_sum)
    return Assignment(sets, groups_of, avar, uvar, battery)


def _add_grid_rows(
    b: _Builder, x: dict, z: dict, battery: dict, sites: Any, spec: ModelSpec, lp_sum: Callable
) -> None:
    """Own headroom per site (with battery) and one row per shared substation / area pool."""
    p_mw = spec.charger_power_mw

    def draw(s: str) -> Any:
        return p_mw * z[s] - battery[s] if s in battery else p_mw * z[s]

    for s in x:
        head = float(sites.at[s, "headroom_mw"])
        if math.isfinite(head) and p_mw * spec.max_chargers > head + 1e-9:
            b.add(draw(s) <= head, _name("headroom", site=s))
    for level, pid, mw, ss in shared_pools(sites, list(x)):
        most = sum(p_mw * spec.charger_range(s, float(sites.at[s, "headroom_mw"]))[1] for s in ss)
        if len(ss) > 1 and most > mw + 1e-9:
            b.add(lp_sum(draw(s) for s in ss) <= mw, _name(f"grid_{level}", pool=pid))


def _add_headroom(b: _Builder, z: dict, sites: Any, spec: ModelSpec) -> None:
    if spec.charger_power_mw <= 0:
        return
    for s in z:
        h = float(sites.at[s, "headroom_mw"])
        if math.isfinite(h) and h < spec.charger_power_mw * spec.max_chargers:
            b.add(spec.charger_power_mw * z[s] <= h, _name("headroom", site=s))


def _add_fixed(b: _Builder, x: dict, spec: ModelSpec) -> None:
    for s in spec.fixed_open:
        b.add(x[s] == 1, _name("fixed_open", site=s))


def _add_budget(
    b: _Builder,
    x: dict,
    z: dict,
    sites: Any,
    spec: ModelSpec,
    lp_sum: Callable,
    assignment: Assignment | None = None,
) -> None:
    if spec.budget_eur is None:
        return
    cost = lp_sum(float(sites.at[s, "cost_eur"]) * x[s] for s in x)
    if spec.charger_cost_eur > 0:
        cost = cost + lp_sum(spec.charger_cost_eur * z[s] for s in z)
    if assignment is not None and assignment.battery_mw and spec.battery_cost_eur_per_mw > 0:
        cost = cost + lp_sum(
            spec.battery_cost_eur_per_mw * v for v in assignment.battery_mw.values()
        )
    b.add(cost <= spec.budget_eur, "budget")


def _add_afir(b: _Builder, x: dict, spec: ModelSpec, lp_sum: Callable) -> None:
    for corridor, covers in spec.afir_covers:
        for ai, cover in enumerate(covers):
            b.add(lp_sum(x[s] for s in cover) >= 1, _name("afir_gap", corridor=corridor, arc=ai))


def model_sites(instance: Instance, pre: Preprocessed, spec: ModelSpec) -> list[str]:
    """Select the usable sites that get a variable, without changing the optimum.

    Sites in a cover set, fixed open or on an AFIR corridor always get one. Other usable sites
    serve no modelled flow; they only help to meet ``min_sites`` and the country / direction
    minimums, so of each class of them with the same country and directions only the ``K``
    cheapest to open (site cost plus its minimum chargers) are kept, ``K`` the largest of those
    minimums: any plan opening more of a class can swap to the cheaper ones or close the extra
    ones and still meet every minimum. With ``prune_sites`` and no lower bound at all none of
    them is kept; without ``prune_sites`` all of them are. The other half of a kept site's rest
    area (same ``station``) is kept too: it opens without counting as another station.

    Returns
    -------
    list of str
        Site ids in instance order.
    """
    chosen = set(pre.used_sites) | set(spec.fixed_open)
    for _, covers in spec.afir_covers:
        chosen.update(s for c in covers for s in c)
    need = max(
        [
            spec.min_sites,
            *spec.min_per_country.values(),
            *spec.min_per_group.values(),
            *spec.min_per_direction.values(),
            0,
        ]
    )
    if need > 0:
        rest = [s for s in pre.usable_sites if s not in chosen]
        if not spec.prune_sites:
            chosen.update(rest)
        else:
            info = instance.sites.loc[rest, ["country", "directions", "cost_eur", "headroom_mw"]]
            # the least an opened site costs: the site and its minimum chargers
            low = [max(spec.min_chargers, spec.min_chargers_at.get(s, 0)) for s in rest]
            order = info.assign(
                open_cost=info["cost_eur"].to_numpy() + spec.charger_cost_eur * np.asarray(low),
                neg_headroom=-info["headroom_mw"],
            ).sort_values(["open_cost", "neg_headroom"], kind="stable")
            classes: dict[tuple[str, frozenset], int] = {}
            for sid, cc, dirs in order[["country", "directions"]].itertuples():
                key = (str(cc), frozenset(dirs))
                if classes.get(key, 0) < need:
                    classes[key] = classes.get(key, 0) + 1
                    chosen.add(sid)
    # the other half of a chosen site's rest area opens without counting as another station
    chosen |= set(paired_sites(instance.sites, pre.usable_sites, chosen))
    return [s for s in pre.usable_sites if s in chosen]


def paired_sites(
    sites: Any, among: Sequence[str], partners_of: set[str] | None = None
) -> list[str]:
    """Sites of ``among`` that share a station location with another site of ``among``.

    With ``partners_of``, only those sharing one with a site of ``partners_of``.
    """
    if "station" not in sites.columns or not len(among):
        return []
    station = sites.loc[list(among), "station"].astype(str)
    shared = station[station.duplicated(keep=False)]
    if partners_of is not None:
        wanted = set(station[station.index.isin(list(partners_of))])
        shared = shared[shared.isin(wanted)]
    return [str(s) for s in shared.index]


def build_model(
    instance: Instance,
    pre: Preprocessed,
    spec: ModelSpec,
    extra: Callable[[Model], None] | None = None,
) -> Model:
    """Build the MILP of the module docstring with PuLP.

    Parameters
    ----------
    instance
        The instance (site attributes).
    pre
        Output of :func:`preprocess`.
    spec
        Objective and side constraints.
    extra
        Optional hook called with the built :class:`Model` to add user constraints.

    Returns
    -------
    Model
    """
    import pulp

    t0 = time.perf_counter()
    sense = pulp.LpMinimize if spec.objective == "min_sites" else pulp.LpMaximize
    prob = pulp.LpProblem("corridor_siting", sense)
    site_list = model_sites(instance, pre, spec)
    x = {s: prob.add_variable(f"x[{s}]", 0, 1, pulp.LpBinary) for s in site_list}
    z = {s: prob.add_variable(f"z[{s}]", 0, spec.max_chargers, pulp.LpInteger) for s in site_list}
    # y is integral at an optimum of the uncapacitated model; with capacity rows a group may be
    # served in part: the share of its trucks/day the chargers carry (an OD's trucks/day are many
    # trucks, and the flows of a group are interchangeable)
    y = {
        gi: prob.add_variable(f"y[{gi}]", 0, 1, pulp.LpContinuous) for gi in range(len(pre.groups))
    }
    b = _Builder(prob)
    lp_sum = pulp.lpSum
    weights = [
        g.truck_km_per_day if spec.objective == "max_truck_km" else g.trucks_per_day
        for g in pre.groups
    ]
    served = lp_sum(w * y[gi] for gi, w in enumerate(weights))
    stations = station_terms(b, prob, x, instance.sites)
    if spec.objective == "min_sites":
        prob.setObjective(lp_sum(stations.values()))
        b.add(served >= spec.target_share * float(sum(weights)), "served_min")
    else:
        prob.setObjective(served)
    if spec.shared_covers:
        _add_shared_cover(b, prob, pre, x, y, lp_sum)
    else:
        _add_cover(b, pre, x, y, lp_sum)
    if spec.multi_stop_cuts:
        _add_multi_stop_cuts(b, pre, x, y, lp_sum)
    _add_site_count(b, stations, spec, lp_sum)
    sites = instance.sites
    _add_country_min(b, stations, sites, spec, lp_sum)
    _add_direction_min(b, x, sites, spec, lp_sum)
    _add_chargers(b, x, z, sites, spec)
    assignment = None
    if spec.capacity:
        assignment = _add_capacity(b, prob, pre, x, z, y, sites, spec, lp_sum)
    else:
        _add_headroom(b, z, sites, spec)
    _add_fixed(b, x, spec)
    _add_budget(b, x, z, sites, spec, lp_sum, assignment)
    _add_afir(b, x, spec, lp_sum)
    model = Model(prob, x, z, y, b.names, assignment=assignment, groups=pre.groups)
    if extra is not None:
        extra(model)
    model.build_time_s = time.perf_counter() - t0
    return model


def greedy_sites(
    instance: Instance, pre: Preprocessed, spec: ModelSpec, sites: Sequence[str]
) -> list[str]:
    """Build a quick heuristic plan used as the MILP's warm start.

    Sites are added one at a time by their share of still-uncovered cover sets, weighted by the
    flow weight divided by the number of cover sets of the flow; fixed sites come first, then the
    country and direction minimums are filled with the best site of that country / direction,
    then the best sites overall up to ``max_sites`` (``min_sites``: until ``target_share`` is
    served), skipping sites that would exceed the budget.

    Parameters
    ----------
    instance
        The instance (site attributes).
    pre
        Preprocessed flows.
    spec
        Objective and side constraints.
    sites
        Site ids that may be chosen (the model's site variables).

    Returns
    -------
    list of str
        Chosen site ids (may violate a side constraint the heuristic cannot meet; the solver then
        ignores the start).
    """
    from scipy import sparse

    if not sites:
        return []
    col = {s: j for j, s in enumerate(sites)}
    covers, of_group = shared_cover_sets(pre)
    weights = np.array(
        [
            g.truck_km_per_day if spec.objective == "max_truck_km" else g.trucks_per_day
            for g in pre.groups
        ],
        dtype=float,
    )
    # a distinct cover set weighs the share of every group that has it
    row_w = np.zeros(len(covers))
    for gi, idx in enumerate(of_group):
        np.add.at(row_w, idx, weights[gi] / len(idx))
    rows = [ci for ci, c in enumerate(covers) for s in c if s in col]
    cols = [col[s] for c in covers for s in c if s in col]
    r = len(covers)
    a = sparse.csc_array((np.ones(len(rows)), (rows, cols)), shape=(r, len(sites)))
    uncovered = np.ones(r, dtype=bool)
    chosen: list[str] = []
    info = instance.sites.loc[list(sites)]
    cost = info["cost_eur"].to_numpy(dtype=float)
    unit = spec.charger_cost_eur * spec.min_chargers
    spent = 0.0
    group_ptr = np.cumsum([0, *map(len, of_group)])
    group_rows = np.concatenate([np.asarray(i, dtype=int) for i in of_group]) if of_group else []
    total_w = float(weights.sum())

    def served_weight() -> float:
        if r == 0:
            return 0.0
        open_rows = uncovered[group_rows].astype(int)
        bad = np.add.reduceat(open_rows, group_ptr[:-1]) > 0
        return float(weights[~bad].sum())

    def take(j: int) -> None:
        nonlocal spent
        chosen.append(sites[j])
        spent += cost[j] + unit
        start, end = a.indptr[j], a.indptr[j + 1]
        uncovered[a.indices[start:end]] = False

    def best(mask: np.ndarray) -> int | None:
        gain = a.T @ (row_w * uncovered) if r else np.zeros(len(sites))
        gain = np.where(mask, gain + 1e-9, -np.inf)
        if spec.budget_eur is not None:
            gain = np.where(spent + cost + unit <= spec.budget_eur + 1e-9, gain, -np.inf)
        j = int(np.argmax(gain))
        return j if np.isfinite(gain[j]) else None

    free = np.ones(len(sites), dtype=bool)
    for s in spec.fixed_open:
        if s in col and free[col[s]]:
            free[col[s]] = False
            take(col[s])
    country = info["country"].to_numpy()
    quotas = [(country == cc, n) for cc, n in spec.min_per_country.items()] + [
        (info["directions"].map(lambda ds, d=d: d in ds).to_numpy(dtype=bool), n)
        for d, n in spec.min_per_direction.items()
    ]
    quotas += group_quotas(info, spec)
    for member, n in quotas:
        while int((member & ~free).sum()) < n and len(chosen) < spec.max_sites:
            j = best(member & free)
            if j is None:
                break
            free[j] = False
            take(j)
    while len(chosen) < spec.max_sites:
        if spec.objective == "min_sites":
            if served_weight() >= spec.target_share * total_w - 1e-9 and len(chosen) >= (
                spec.min_sites
            ):
                break
        elif len(chosen) >= spec.min_sites and r and not uncovered.any():
            break
        j = best(free)
        if j is None:
            break
        free[j] = False
        take(j)
    return chosen


def set_start(model: Model, pre: Preprocessed, spec: ModelSpec, chosen: Iterable[str]) -> None:
    """Write a start solution (open ``chosen``) into the model's variables for a warm start."""
    open_set = set(chosen)
    for s, var in model.x.items():
        var.setInitialValue(1.0 if s in open_set else 0.0)
        model.z[s].setInitialValue(float(spec.min_chargers) if s in open_set else 0.0)
    for gi, g in enumerate(pre.groups):
        ok = all(any(s in open_set for s in c) for c in g.covers)
        model.y[gi].setInitialValue(1.0 if ok else 0.0)
