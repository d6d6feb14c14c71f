r"""Joint plans: battery and hydrogen trucks in one MILP, with the driving-time rules inside.

A joint scenario lists vehicle classes (``[[optimise.vehicles]]``: technology, store,
consumption, SoC window, share of the flows' zero-emission trucks). Every candidate site
:math:`s` becomes one *offer* per kind of station it may get: ``s|bev@P`` for each BEV charger
type of power :math:`P` (``optimise.charger_options``; default ``charger_power_mw``) and ``s|h2``
for H2 refuelling. Each class sees only the offers of its technology, so the arc-cover path-cover
core of :mod:`corridor.optimise.model` runs unchanged on offers: a class's flow is served when
each of its cover sets has an open offer.

Model (on top of the cover, multi-stop and site-count rows of :func:`~corridor.optimise.model.
build_model`, with :math:`x_v` "offer :math:`v` built", :math:`o_s` "site :math:`s` open"):

.. math::

    x_v \le o_{s(v)}, \qquad o_s \le \sum_{v \in s} x_v, \qquad
    \sum_{P} x_{s|bev@P} \le 1 \quad\text{(one charger type per site)}

    \text{sites\_max}:\; \sum_s o_s \le p, \qquad
    \text{budget}:\; \sum_s c_s o_s + \sum_v c_v z_v + c_{H2} \sum_s x_{s|h2} \le B

A hub pays its site cost :math:`c_s` (the candidate's ``cost_eur`` plus ``site_cost_eur``) once,
whatever it offers; :math:`c_v` is the charger type's / module's cost, :math:`c_{H2}`
``h2_station_cost_eur``. Served energy (kWh/day, kg/day)
of a group is assigned to the offers of its cover-set union as in the single-technology model; a
BEV offer of power :math:`P` carries at most the Erlang-C table (peak-hour load
``peak_hour_share`` × kWh/day / (:math:`P` × 1000) Erlang) for its charger count, an H2 offer
``h2_module_kg_per_day`` per module. The grid: the site's chargers and H2 modules share its own
headroom and its substation / congestion-area pools,

.. math::

    \sum_P P\, z_{s|bev@P} + g_{H2}\, z_{s|h2} \le H_s,

with :math:`g_{H2}` = ``h2_module_grid_mw`` (ASSUMPTION: hydrogen is delivered, by trailer or
pipeline; a station's grid draw is its compressor, chiller and dispenser load per module, 0 by
default; electrolysis on site is out of scope). Batteries and AFIR pool rules are not part of
joint plans.

Driving-time rules (``break_rule`` of a class; Regulation (EC) 561/2006, art. 7): after at most
4.5 h of driving a driver takes a break of at least 45 min. For a flow :math:`q` of the class:

- :math:`D_q` its driving time (h) at the graph's truck speeds (sum of the edges'
  ``travel_time_s``), :math:`L_q` its length, :math:`\bar v_q = L_q / D_q` its mean speed;
- :math:`n_q = \max(0, \lceil D_q / 4.5 \rceil - 1)` the breaks the regulation requires anyway
  and :math:`T^0_q = D_q + 0.75\, n_q` the legal reference trip time (a diesel truck's);
- :math:`E_q` = (:math:`L_q` − start range) × consumption, the energy bought on the way, plus
  the detour energy of :math:`m_q = \lceil E_q / (R \cdot c) \rceil` stops (:math:`R` the range
  after a stop, :math:`c` the consumption); :math:`h_q = m_q \bar\delta_q / \bar v_q` their
  detour time (:math:`\bar\delta_q` the flow's largest detour);
- at a charger of power :math:`P` (H2: ``refuel_kg_per_min`` × 60 kg/h) charging takes
  :math:`C_q(P) = E_q / P` hours, a full stop at most :math:`C^1(P) = R c / P`;
- slack :math:`S_q` = (``max_trip_time_factor`` − 1) × :math:`T^0_q`.

The flow may use offers of power :math:`P` when

1. :math:`C_q(P) + h_q \le S_q` (charging fits the slack even outside the breaks; breaks may be
   anywhere), or
2. :math:`\max(0,\, C_q(P) - \min(n_q, m_q)\,\min(0.75, C^1(P))) + \max(m_q, n_q)\, h_q / m_q
   \le S_q` (charging during the breaks is free): then the breaks must be taken at charging
   stops, so besides the range windows its cover sets include the *break windows*: every stop
   and the destination more than 4.5 h of driving from the origin needs an open stop at most
   4.5 h of driving before it (the same arc-cover rule in hours instead of km, detours at
   :math:`\bar v_q`).

With several charger types, the flow's cover sets use the offers of the slowest power
:math:`P^*` that passes (1) or (2) and of every faster one, under the rule :math:`P^*` passed
(a faster charger only shortens the trip). A flow no power passes is not served. Without
``break_rule`` every offer of the class's technology serves every flow (range only).

The rule is an estimate on the flow level (charging split ideally between the breaks);
:func:`~corridor.optimise.validate.check_trip_time` drives every served flow of the plan stop by
stop with its open offers and reports where the trip exceeds the limit.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from corridor.errors import InputDataError, ScenarioError, SolverError
from corridor.optimise.instance import DIRECTIONS, FlowPath, Instance, Stop, shared_pools
from corridor.optimise.model import (
    CoverGroup,
    CoverSet,
    Model,
    ModelSpec,
    Preprocessed,
    _add_country_min,
    _add_direction_min,
    _add_multi_stop_cuts,
    _add_shared_cover,
    _add_site_count,
    _Builder,
    _name,
    add_assignment,
    assigned_charging,
    flow_cover_sets,
    preprocess,
    station_terms,
)
from corridor.optimise.queueing import max_load_for_wait_probability

if TYPE_CHECKING:
    from corridor.config import OptimiseConfig, VehicleClassConfig
    from corridor.optimise.solve import PlanResult
    from corridor.optimise.validate import Violation

__all__ = [
    "BREAK_AFTER_H",
    "BREAK_H",
    "JOINT_SITE_COLUMNS",
    "ClassPart",
    "Offer",
    "build_joint_model",
    "class_parts",
    "offers_of",
    "required_breaks",
    "solve_joint",
    "trip_rule",
]

log = logging.getLogger(__name__)

#: Most driving (h) before a break (Regulation (EC) 561/2006, art. 7).
BREAK_AFTER_H = 4.5
#: Shortest break (h).
BREAK_H = 0.75

#: Columns a joint plan's sites add to :data:`~corridor.optimise.sizing.PLAN_SITE_COLUMNS`.
JOINT_SITE_COLUMNS = (
    "offers",
    "bev_chargers",
    "bev_charger_mw",
    "h2_modules",
    "bev_trucks_per_day",
    "h2_trucks_per_day",
    "grid_mw",
    "classes",
)


@dataclass(frozen=True)
class Offer:
    """One kind of station a site may get in a joint plan.

    Attributes
    ----------
    offer_id
        ``<site>|bev@<P>MW`` or ``<site>|h2``.
    site_id
        The candidate site.
    technology
        ``bev`` or ``h2``.
    power_mw
        BEV power per charger (MW); NaN for H2.
    unit_cost_eur
        Cost per charger / module (EUR).
    min_units, max_units
        Fewest and most chargers / modules when built.
    grid_mw_per_unit
        Grid power (MW) per charger / module.
    """

    offer_id: str
    site_id: str
    technology: str
    power_mw: float
    unit_cost_eur: float
    min_units: int
    max_units: int
    grid_mw_per_unit: float


@dataclass(frozen=True)
class ClassPart:
    """One vehicle class of a joint plan: its instance on offers and its cover sets.

    Attributes
    ----------
    vehicle
        The class config.
    instance
        Flows with the class's trucks/day and stops at the offers of its technology (sites
        indexed by offer id).
    pre
        Its preprocessed cover sets.
    power_of
        Slowest charger power (MW) each flow may use under the break rule (NaN: any; absent:
        none passes).
    rule_unservable_od_ids
        Flows the break rule leaves unserved whatever is built.
    """

    vehicle: VehicleClassConfig
    instance: Instance
    pre: Preprocessed
    power_of: dict[str, float] = field(default_factory=dict)
    rule_unservable_od_ids: tuple[str, ...] = ()


def offer_id(site: str, technology: str, power_mw: float = math.nan) -> str:
    """Id of a site's offer (``<site>|bev@1MW``, ``<site>|h2``)."""
    return f"{site}|bev@{power_mw:g}MW" if technology == "bev" else f"{site}|h2"


def required_breaks(drive_h: float) -> int:
    """Count the 45 min breaks the regulation requires on ``drive_h`` hours of driving."""
    return max(0, math.ceil(drive_h / BREAK_AFTER_H - 1e-9) - 1)


def trip_rule(
    flow: FlowPath, vehicle: VehicleClassConfig, rate_per_h: float
) -> tuple[str | None, dict[str, float]]:
    """Which driving-time case (module docstring) a flow passes at one charging rate.

    Parameters
    ----------
    flow
        The flow (``drive_h`` must be known).
    vehicle
        The class (range, consumption, ``max_trip_time_factor``).
    rate_per_h
        Charging rate (kWh/h for BEV = MW × 1000, kg/h for H2).

    Returns
    -------
    mode, figures
        ``"anywhere"`` (case 1), ``"at_breaks"`` (case 2) or None; and the figures of the rule
        (hours: ``drive_h``, ``reference_h``, ``slack_h``, ``charge_h``, ``detour_h``).

    Raises
    ------
    InputDataError
        If the flow's driving time is unknown.
    """
    d = flow.drive_h
    if not math.isfinite(d) or d <= 0:
        msg = (
            f"flow {flow.od_id}: driving time unknown; the break rule needs the road graph's "
            "travel_time_s on the flow's path"
        )
        raise InputDataError(msg)
    per_km = vehicle.consumption_per_km
    full = vehicle.range_km * per_km
    energy = max(0.0, flow.length_km - vehicle.start_range_km) * per_km
    m = math.ceil(energy / full - 1e-9) if energy > 0 else 0
    speed = flow.length_km / d
    detour_km = max((s.detour_km for s in flow.stops), default=0.0)
    energy += m * detour_km * per_km
    detour_h = m * detour_km / speed
    n = required_breaks(d)
    reference = d + BREAK_H * n
    slack = (vehicle.max_trip_time_factor - 1.0) * reference
    charge_h = energy / rate_per_h
    figures = {
        "drive_h": d,
        "reference_h": reference,
        "slack_h": slack,
        "charge_h": charge_h,
        "detour_h": detour_h,
    }
    if charge_h + detour_h <= slack + 1e-9:
        return "anywhere", figures
    free = min(n, m) * min(BREAK_H, full / rate_per_h)
    stops_h = max(m, n) * (detour_h / m if m else 0.0)
    if max(0.0, charge_h - free) + stops_h <= slack + 1e-9:
        return "at_breaks", figures
    return None, figures


def _rate_per_h(vehicle: VehicleClassConfig, power_mw: float) -> float:
    return power_mw * 1000.0 if vehicle.technology == "bev" else vehicle.refuel_kg_per_min * 60.0


def _minimal_sets(sets: Sequence[CoverSet]) -> list[CoverSet]:
    """Drop cover sets that contain another one (and duplicates); keep path order."""
    uniq = list(dict.fromkeys(sets))
    keep = []
    for c in sorted(uniq, key=len):
        if not any(set(k) <= set(c) for k in keep):
            keep.append(c)
    order = {c: i for i, c in enumerate(uniq)}
    return sorted(keep, key=order.__getitem__)


def _hours_flow(flow: FlowPath) -> FlowPath:
    """Return the flow with km measured in driving hours (stops, detours and length)."""
    speed = flow.length_km / flow.drive_h
    stops = tuple(Stop(s.site_id, s.km / speed, s.detour_km / speed) for s in flow.stops)
    return FlowPath(flow.od_id, flow.trucks_per_day, flow.drive_h, stops, flow.drive_h)


def _class_cover_sets(
    flow: FlowPath,
    usable: frozenset[str],
    *,
    range_km: float,
    start_range_km: float,
    at_breaks: frozenset[str],
) -> list[CoverSet] | None:
    covers = flow_cover_sets(flow, usable, range_km, start_range_km)
    if covers is None or flow.od_id not in at_breaks:
        return covers
    breaks = flow_cover_sets(_hours_flow(flow), usable, BREAK_AFTER_H, BREAK_AFTER_H)
    if breaks is None:
        return None
    return _minimal_sets([*covers, *breaks])


def offers_of(
    instance: Instance, config: OptimiseConfig, usable_sites: Sequence[str]
) -> dict[str, Offer]:
    """List the offers of every usable site for the technologies of the scenario's classes.

    A BEV charger type needs headroom for its fewest chargers (``min_site_power_mw``); an H2
    offer needs ``h2_module_grid_mw`` for one module.

    Returns
    -------
    dict
        Offer id → :class:`Offer`, site by site in instance order.
    """
    techs = {v.technology for v in config.vehicles}
    out: dict[str, Offer] = {}
    head = instance.sites["headroom_mw"]
    top = config.max_chargers_per_site
    for s in usable_sites:
        h = float(head[s])
        if "bev" in techs:
            for opt in config.bev_options():
                low = max(1, math.ceil(config.min_site_power_mw / opt.power_mw - 1e-9))
                p = opt.power_mw
                high = top if not math.isfinite(h) else min(top, math.floor(h / p + 1e-9))
                if high >= low:
                    oid = offer_id(s, "bev", p)
                    out[oid] = Offer(oid, s, "bev", p, opt.cost_eur, low, high, p)
        if "h2" in techs:
            g = config.h2_module_grid_mw
            high = top if g <= 0 or not math.isfinite(h) else min(top, math.floor(h / g + 1e-9))
            if high >= 1:
                oid = offer_id(s, "h2")
                out[oid] = Offer(oid, s, "h2", math.nan, config.h2_module_cost_eur, 1, high, g)
    return out


def class_parts(
    instance: Instance, config: OptimiseConfig, offers: dict[str, Offer]
) -> list[ClassPart]:
    """Instance and cover sets of every vehicle class on its technology's offers.

    Parameters
    ----------
    instance
        The network instance (physical sites; flows with all zero-emission trucks/day).
    config
        The joint :class:`~corridor.config.OptimiseConfig`.
    offers
        :func:`offers_of`.

    Returns
    -------
    list of ClassPart
        In the order of ``config.vehicles``.
    """
    parts = []
    for veh in config.vehicles:
        mine = [o for o in offers.values() if o.technology == veh.technology]
        by_site: dict[str, list[Offer]] = {}
        for o in mine:
            by_site.setdefault(o.site_id, []).append(o)
        powers = sorted({o.power_mw for o in mine}) if veh.technology == "bev" else [math.nan]
        flows, power_of, at_breaks, unservable = [], {}, set(), []
        for fp in instance.flows:
            least = -math.inf  # any power
            if veh.break_rule:
                least, mode = math.inf, None
                for p in powers:
                    mode, _ = trip_rule(fp, veh, _rate_per_h(veh, p))
                    if mode is not None:
                        least = p if veh.technology == "bev" else -math.inf
                        break
                if mode is None:
                    unservable.append(fp.od_id)
                    least = math.inf
                else:
                    power_of[fp.od_id] = least
                    if mode == "at_breaks":
                        at_breaks.add(fp.od_id)
            stops = tuple(
                Stop(o.offer_id, s.km, s.detour_km)
                for s in fp.stops
                for o in by_site.get(s.site_id, [])
                if least < math.inf and not (o.power_mw < least)  # NaN (H2) passes
            )
            flows.append(
                dataclasses.replace(fp, trucks_per_day=fp.trucks_per_day * veh.share, stops=stops)
            )
        ids = tuple(o.offer_id for o in mine)
        sites = instance.sites.loc[[o.site_id for o in mine]].copy()
        sites.index = pd.Index(ids, name="site_id")
        sites["site"] = [o.site_id for o in mine]
        sites["charger_mw"] = [o.power_mw for o in mine]
        inst = Instance(
            site_ids=ids,
            sites=sites,
            flows=tuple(flows),
            range_km=float(veh.range_km),
            start_range_km=float(veh.start_range_km),
            energy_per_km=float(veh.consumption_per_km),
            technology=str(veh.technology),
            report={**instance.report, "class": veh.name},
            mode=instance.mode,
        )
        covers = functools.partial(
            _class_cover_sets,
            range_km=inst.range_km,
            start_range_km=inst.start_range_km,
            at_breaks=frozenset(at_breaks),
        )
        pre = preprocess(inst, ids, by_charge_km=True, cover_sets=covers)
        parts.append(ClassPart(veh, inst, pre, power_of, tuple(unservable)))
    return parts


def _merged(parts: Sequence[ClassPart]) -> tuple[Preprocessed, list[int]]:
    """All classes' groups in one list (od ids ``<class>:<od>``, charge-km → energy per day)."""
    groups, owner = [], []
    for ci, part in enumerate(parts):
        per_km = part.instance.energy_per_km
        name = part.vehicle.name
        for g in part.pre.groups:
            groups.append(
                CoverGroup(
                    g.covers,
                    tuple(f"{name}:{od}" for od in g.od_ids),
                    g.trucks_per_day,
                    g.truck_km_per_day,
                    g.charge_km_per_day * per_km,
                )
            )
            owner.append(ci)
    used = tuple(dict.fromkeys(s for g in groups for c in g.covers for s in c))
    pre = Preprocessed(
        groups=tuple(groups),
        already_feasible_od_ids=(),
        unservable_od_ids=(),
        trucks_already_feasible_per_day=sum(p.pre.trucks_already_feasible_per_day for p in parts),
        trucks_unservable_per_day=sum(p.pre.trucks_unservable_per_day for p in parts),
        usable_sites=used,
        used_sites=used,
        stats={
            "flow_groups": len(groups),
            "cover_sets": sum(len(g.covers) for g in groups),
        },
    )
    return pre, owner


@dataclass
class JointModel:
    """A built joint model: the PuLP model (``x``/``z`` by offer) and the joint variables.

    Attributes
    ----------
    model
        :class:`~corridor.optimise.model.Model` with ``x``, ``z`` by offer id and ``y`` by group.
    site_open
        :math:`o_s` by site id.
    unions, groups_of, b
        Assignment: distinct offer unions, their groups, energy/day by ``(union, offer)``.
    """

    model: Model
    site_open: dict[str, Any]
    unions: list[tuple[str, ...]]
    groups_of: list[list[int]]
    b: dict[tuple[int, str], Any]


def build_joint_model(
    instance: Instance,
    pre: Preprocessed,
    offers: dict[str, Offer],
    spec: ModelSpec,
    config: OptimiseConfig,
) -> JointModel:
    """Build the joint MILP of the module docstring.

    Parameters
    ----------
    instance
        The network instance (physical sites: country, directions, headroom, cost, pools).
    pre
        Merged groups of all classes (cover sets over offer ids, ``charge_km_per_day`` in
        energy units per day: kWh for BEV offers, kg for H2).
    offers
        Offers that may be built.
    spec
        Objective, site counts and minimums, fixed sites and budget (the shared rules).
    config
        Capacity parameters (Erlang-C, H2 modules, costs).

    Returns
    -------
    JointModel
    """
    import pulp

    t0 = time.perf_counter()
    lp_sum = pulp.lpSum
    prob = pulp.LpProblem("corridor_joint_siting", pulp.LpMaximize)
    b = _Builder(prob)
    sites = list(dict.fromkeys(o.site_id for o in offers.values()))
    o_var = {s: prob.add_variable(f"o[{s}]", 0, 1, pulp.LpBinary) for s in sites}
    x = {v: prob.add_variable(f"x[{v}]", 0, 1, pulp.LpBinary) for v in offers}
    z = {v: prob.add_variable(f"z[{v}]", 0, offers[v].max_units, pulp.LpInteger) for v in offers}
    y = {
        gi: prob.add_variable(f"y[{gi}]", 0, 1, pulp.LpContinuous) for gi in range(len(pre.groups))
    }
    weights = [
        g.truck_km_per_day if spec.objective == "max_truck_km" else g.trucks_per_day
        for g in pre.groups
    ]
    prob.setObjective(lp_sum(w * y[gi] for gi, w in enumerate(weights)))
    _add_shared_cover(b, prob, pre, x, y, lp_sum)
    if spec.multi_stop_cuts:
        _add_multi_stop_cuts(b, pre, x, y, lp_sum)
    of_site: dict[str, list[str]] = {s: [] for s in sites}
    for v, o in offers.items():
        of_site[o.site_id].append(v)
        b.add(x[v] - o_var[o.site_id] <= 0, _name("offer_open", offer=v))
        b.add(z[v] - o.min_units * x[v] >= 0, _name("units_min", offer=v))
        b.add(z[v] - o.max_units * x[v] <= 0, _name("units_max", offer=v))
    for s, vs in of_site.items():
        b.add(o_var[s] - lp_sum(x[v] for v in vs) <= 0, _name("site_offers", site=s))
        bev = [v for v in vs if offers[v].technology == "bev"]
        if len(bev) > 1:
            b.add(lp_sum(x[v] for v in bev) <= 1, _name("one_charger_type", site=s))
    stations = station_terms(b, prob, o_var, instance.sites)
    _add_site_count(b, stations, spec, lp_sum)
    _add_country_min(b, stations, instance.sites, spec, lp_sum)
    _add_direction_min(b, o_var, instance.sites, spec, lp_sum)
    for s in spec.fixed_open:
        b.add(o_var[s] == 1, _name("fixed_open", site=s))
    unions, groups_of, bvar = _add_joint_capacity(b, prob, pre, offers, x, y, z, config, lp_sum)
    _add_joint_grid(b, instance.sites, offers, of_site, z, lp_sum)
    if spec.budget_eur is not None:
        cost = lp_sum(
            (float(instance.sites.at[s, "cost_eur"]) + config.site_cost_eur) * o_var[s]
            for s in sites
        )
        cost += lp_sum(offers[v].unit_cost_eur * z[v] for v in offers if offers[v].unit_cost_eur)
        if config.h2_station_cost_eur > 0:
            cost += lp_sum(
                config.h2_station_cost_eur * x[v] for v in offers if offers[v].technology == "h2"
            )
        b.add(cost <= spec.budget_eur, "budget")
    model = Model(prob, x, z, y, b.names)
    model.build_time_s = time.perf_counter() - t0
    return JointModel(model, o_var, unions, groups_of, bvar)


def _add_joint_capacity(
    b: _Builder,
    prob: Any,
    pre: Preprocessed,
    offers: dict[str, Offer],
    x: dict,
    y: dict,
    z: dict,
    config: OptimiseConfig,
    lp_sum: Callable,
) -> tuple[list[tuple[str, ...]], list[list[int]], dict[tuple[int, str], Any]]:
    """Energy assignment per distinct offer union and each offer's capacity row."""
    import pulp

    unions, groups_of, bvar, load = add_assignment(b, prob, pre, x, y, lp_sum, label="offer")
    table = max_load_for_wait_probability(config.max_chargers_per_site, config.max_wait_probability)
    for v, o in offers.items():
        if not load.get(v):
            continue
        served = lp_sum(load[v])
        if o.technology == "h2":
            b.add(served - config.h2_module_kg_per_day * z[v] <= 0, _name("capacity", offer=v))
            continue
        options = range(o.min_units, o.max_units + 1)
        u = {n: prob.add_variable(f"u[{v},{n}]", 0, 1, pulp.LpBinary) for n in options}
        b.add(lp_sum(u.values()) - x[v] == 0, _name("pick", offer=v))
        b.add(z[v] - lp_sum(n * u[n] for n in options) == 0, _name("pick_chargers", offer=v))
        per_kwh = config.peak_hour_share / (o.power_mw * 1000.0)
        b.add(
            per_kwh * served - lp_sum(table[n] * u[n] for n in options) <= 0,
            _name("capacity", offer=v),
        )
    return unions, groups_of, bvar


def _add_joint_grid(
    b: _Builder,
    sites: pd.DataFrame,
    offers: dict[str, Offer],
    of_site: dict[str, list[str]],
    z: dict,
    lp_sum: Callable,
) -> None:
    """Keep a site's chargers and H2 modules within its headroom and its shared pools."""

    def draw(s: str) -> Any:
        return lp_sum(offers[v].grid_mw_per_unit * z[v] for v in of_site[s])

    def most(s: str) -> float:
        return sum(offers[v].grid_mw_per_unit * offers[v].max_units for v in of_site[s])

    for s in of_site:
        head = float(sites.at[s, "headroom_mw"])
        if math.isfinite(head) and most(s) > head + 1e-9:
            b.add(draw(s) <= head, _name("headroom", site=s))
    for level, pid, mw, ss in shared_pools(sites, list(of_site)):
        if len(ss) > 1 and sum(most(s) for s in ss) > mw + 1e-9:
            b.add(lp_sum(draw(s) for s in ss) <= mw, _name(f"grid_{level}", pool=pid))


def _joint_spec(config: OptimiseConfig) -> ModelSpec:
    return ModelSpec(
        objective=config.objective,
        max_sites=config.max_sites,
        min_sites=config.min_sites,
        min_per_country=dict(config.min_sites_per_country),
        min_per_direction=(
            dict.fromkeys(DIRECTIONS, config.min_sites_per_direction)
            if config.min_sites_per_direction
            else {}
        ),
        fixed_open=tuple(config.fixed_open),
        budget_eur=config.budget_eur,
        capacity=True,
    )


def _check_joint(instance: Instance, config: OptimiseConfig, usable: list[str]) -> None:
    from corridor.optimise.solve import check_fixed_ids

    check_fixed_ids(instance, config)
    if not config.capacity_in_model:
        msg = "optimise.vehicles: a joint plan has capacity in the model; set capacity_in_model"
        raise ScenarioError(msg)
    if config.afir_max_gap_km is not None or config.afir_min_pool_power_mw is not None:
        msg = "optimise.vehicles: AFIR spacing / pool power rules are not part of joint plans"
        raise ScenarioError(msg)
    if config.min_sites > len(usable):
        from corridor.errors import InfeasibleError

        msg = f"min_sites = {config.min_sites} but only {len(usable)} candidate sites are usable"
        raise InfeasibleError(msg)


def solve_joint(instance: Instance, config: OptimiseConfig) -> PlanResult:
    """Plan several vehicle classes in one MILP (module docstring), size and check the plan.

    Parameters
    ----------
    instance
        The network instance; its flows carry all zero-emission trucks/day (each class takes
        its ``share``) and, for the break rule, their driving time ``drive_h``.
    config
        :class:`~corridor.config.OptimiseConfig` with ``vehicles``.

    Returns
    -------
    PlanResult
        ``sites`` per open site with :data:`~corridor.optimise.sizing.PLAN_SITE_COLUMNS` (for a
        hub: ``chargers`` = BEV chargers + H2 modules) and :data:`JOINT_SITE_COLUMNS`;
        ``served_od_ids`` / ``served_share`` by OD over all classes (share = served trucks of
        all classes / the OD's zero-emission trucks); ``model_stats["classes"]`` per class
        (served trucks, sites, flows the break rule excludes, violations) and
        ``model_stats["offers"]`` per built offer.

    Raises
    ------
    ScenarioError
        For unknown fixed sites or rules joint plans do not support.
    SolverError
        If the solver stops without a solution.
    """
    from corridor.optimise.solve import (
        PlanResult,
        _status,
        _with_effective_headroom,
        make_solver,
    )

    instance = _with_effective_headroom(instance, config)
    closed = set(config.fixed_closed)
    usable = [s for s in instance.site_ids if s not in closed]
    _check_joint(instance, config, usable)
    t0 = time.perf_counter()
    offers = offers_of(instance, config, usable)
    parts = class_parts(instance, config, offers)
    pre, owner = _merged(parts)
    t_pre = time.perf_counter() - t0
    jm = build_joint_model(instance, pre, offers, _joint_spec(config), config)
    prob = jm.model.problem
    stats = prob.solve(make_solver(config))
    objective = stats.objective if stats.has_solution else None
    status, bound, gap = _status(stats, objective)
    if status == "none":
        msg = (
            f"HiGHS stopped ({stats.status.name}) after {stats.time:.1f} s without a feasible "
            f"joint plan; raise optimise.time_limit_s (now {config.time_limit_s} s)"
        )
        raise SolverError(msg)
    result = _read_plan(instance, config, parts, pre, owner, offers, jm)
    sites, served_ids, share, served_trucks, per_class, per_offer, served_by_class = result
    model_stats = {
        "variables": prob.numVariables(),
        "constraints": prob.numConstraints(),
        "offers": per_offer,
        "offer_variables": len(jm.model.x),
        "site_variables": len(jm.site_open),
        "flow_groups": len(pre.groups),
        "cover_sets": pre.stats["cover_sets"],
        "assignment_variables": len(jm.b),
        "trucks_total_per_day": instance.total_trucks_per_day,
        "trucks_modelled_per_day": float(sum(g.trucks_per_day for g in pre.groups)),
        "trucks_already_feasible_per_day": pre.trucks_already_feasible_per_day,
        "trucks_unservable_per_day": pre.trucks_unservable_per_day,
        "preprocess_time_s": round(t_pre, 4),
        "build_time_s": round(jm.model.build_time_s, 4),
        "solver_status": stats.status.name,
        "objective_kind": config.objective,
        "capacity_in_model": True,
        "joint": True,
        "classes": per_class,
        "sites_shared": int((sites["offers"] == "bev+h2").sum()) if len(sites) else 0,
    }
    plan = PlanResult(
        status=status,
        objective=objective,
        best_bound=bound,
        gap=gap,
        solve_time_s=float(stats.time),
        solver="HiGHS" if config.solver == "highs" else "CBC",
        sites=sites,
        served_od_ids=served_ids,
        served_trucks_per_day=served_trucks,
        model_stats=model_stats,
        served_share=share,
    )
    violations = check_joint(instance, config, parts, plan, served_by_class)
    for name, info in per_class.items():
        info["violations"] = sum(1 for v in violations if v.od_id.startswith(f"{name}:"))
    return dataclasses.replace(plan, violations=tuple(violations))


def _read_plan(
    instance: Instance,
    config: OptimiseConfig,
    parts: Sequence[ClassPart],
    pre: Preprocessed,
    owner: list[int],
    offers: dict[str, Offer],
    jm: JointModel,
) -> tuple[pd.DataFrame, tuple[str, ...], dict[str, float], float, dict, dict, dict]:
    """Open sites and offers, served shares and per-offer loads from the solved model."""
    x_val = {v: (var.varValue or 0.0) > 0.5 for v, var in jm.model.x.items()}
    z_val = {v: round(jm.model.z[v].varValue or 0.0) for v in offers if x_val[v]}
    y_val = {gi: float(var.varValue or 0.0) for gi, var in jm.model.y.items()}
    y_val = {gi: (1.0 if v > 1 - 1e-6 else v) for gi, v in y_val.items() if v > 1e-6}
    energy = dict.fromkeys(z_val, 0.0)
    trucks = dict.fromkeys(z_val, 0.0)
    classes: dict[str, set[str]] = {v: set() for v in z_val}
    ods: dict[str, list[str]] = {v: [] for v in z_val}
    for v, e, groups, total in assigned_charging(
        jm.unions, jm.groups_of, jm.b, pre.groups, y_val, energy
    ):
        energy[v] += e
        for gi in groups:
            trucks[v] += pre.groups[gi].trucks_per_day * y_val[gi] * e / total
            classes[v].add(parts[owner[gi]].vehicle.name)
            ods[v].extend(od.split(":", 1)[1] for od in pre.groups[gi].od_ids)
    # served trucks per OD over the classes
    od_trucks = {f.od_id: f.trucks_per_day for f in instance.flows}
    served_per_od: dict[str, float] = {}
    per_class: dict[str, dict[str, Any]] = {}
    served_by_class: dict[str, set[str]] = {}
    for ci, part in enumerate(parts):
        name = part.vehicle.name
        class_flows = {f.od_id: f.trucks_per_day for f in part.instance.flows}
        served = 0.0
        n_flows = 0
        for gi, g in enumerate(pre.groups):
            if owner[gi] != ci or gi not in y_val:
                continue
            n_flows += len(g.od_ids)
            served += g.trucks_per_day * y_val[gi]
            for od in g.od_ids:
                base = od.split(":", 1)[1]
                served_per_od[base] = served_per_od.get(base, 0.0) + class_flows[base] * y_val[gi]
                served_by_class.setdefault(name, set()).add(base)
        tech = part.vehicle.technology
        built = {offers[v].site_id for v in z_val if offers[v].technology == tech}
        per_class[name] = {
            "technology": tech,
            "share": part.vehicle.share,
            "source": part.vehicle.source,
            "break_rule": part.vehicle.break_rule,
            "trucks_per_day": float(sum(class_flows.values())),
            "served_trucks_per_day": float(served),
            "served_flows": n_flows,
            "trucks_already_feasible_per_day": part.pre.trucks_already_feasible_per_day,
            "trucks_unservable_per_day": part.pre.trucks_unservable_per_day,
            "flows_break_rule_unservable": len(part.rule_unservable_od_ids),
            "sites": len(built),
        }
    served_ids = tuple(od for od in od_trucks if od in served_per_od)
    share = {
        od: min(1.0, served_per_od[od] / od_trucks[od])
        for od in served_ids
        if od_trucks[od] > 0 and served_per_od[od] < od_trucks[od] * (1 - 1e-6)
    }
    served_trucks = float(sum(served_per_od.values()))
    per_offer = {
        v: {
            "site_id": offers[v].site_id,
            "technology": offers[v].technology,
            "charger_mw": None if offers[v].technology == "h2" else offers[v].power_mw,
            "units": int(z_val[v]),
            "energy_per_day": round(energy[v], 3),
            "trucks_per_day": round(trucks[v], 3),
            "classes": sorted(classes[v]),
        }
        for v in z_val
    }
    sites = _site_rows(instance, config, offers, z_val, energy, trucks, classes, ods)
    return sites, served_ids, share, served_trucks, per_class, per_offer, served_by_class


def _site_rows(
    instance: Instance,
    config: OptimiseConfig,
    offers: dict[str, Offer],
    units: dict[str, int],
    energy: dict[str, float],
    trucks: dict[str, float],
    classes: dict[str, set[str]],
    ods: dict[str, list[str]],
) -> pd.DataFrame:
    """One row per open site: what each technology built there and for whom."""
    from corridor.optimise.sizing import PLAN_SITE_COLUMNS

    by_site: dict[str, list[str]] = {}
    for v in units:
        by_site.setdefault(offers[v].site_id, []).append(v)
    rows = []
    for s in instance.site_ids:
        if s not in by_site:
            continue
        bev = [v for v in by_site[s] if offers[v].technology == "bev"]
        h2 = [v for v in by_site[s] if offers[v].technology == "h2"]
        n_bev = sum(units[v] for v in bev)
        n_h2 = sum(units[v] for v in h2)
        p_mw = offers[bev[0]].power_mw if bev else math.nan
        kwh = sum(energy[v] for v in bev)
        kg = sum(energy[v] for v in h2)
        t_bev = sum(trucks[v] for v in bev)
        t_h2 = sum(trucks[v] for v in h2)
        grid = sum(units[v] * offers[v].grid_mw_per_unit for v in by_site[s])
        rows.append(
            {
                "site_id": s,
                "chargers": n_bev + n_h2,
                "chargers_needed": n_bev + n_h2,
                "capped": False,
                "power_mw": n_bev * p_mw if bev else math.nan,
                "capacity_kg_per_day": n_h2 * config.h2_module_kg_per_day if h2 else math.nan,
                "battery_mwh": math.nan,
                "served_trucks_per_day": t_bev + t_h2,
                "stops_per_day": t_bev + t_h2,
                "energy_mwh_per_day": kwh / 1000.0 if bev else math.nan,
                "h2_kg_per_day": kg if h2 else math.nan,
                "peak_load_erl": (
                    config.peak_hour_share * kwh / (p_mw * 1000.0) if bev else math.nan
                ),
                "energy_per_stop": kwh / t_bev if t_bev > 0 else math.nan,
                "session_min": kwh / t_bev / (p_mw * 1000.0) * 60.0 if t_bev > 0 else math.nan,
                "covered_od_ids": tuple(dict.fromkeys(od for v in by_site[s] for od in ods[v])),
                "serves_directions": ";".join(
                    d for d in DIRECTIONS if d in instance.sites.at[s, "directions"]
                ),
                "offers": "+".join(t for t, vs in (("bev", bev), ("h2", h2)) if vs),
                "bev_chargers": n_bev,
                "bev_charger_mw": p_mw,
                "h2_modules": n_h2,
                "bev_trucks_per_day": t_bev,
                "h2_trucks_per_day": t_h2,
                "grid_mw": grid,
                "classes": ";".join(sorted({c for v in by_site[s] for c in classes[v]})),
            }
        )
    cols = ["site_id", *PLAN_SITE_COLUMNS, *JOINT_SITE_COLUMNS]
    return pd.DataFrame(rows, columns=cols).set_index("site_id")


def check_joint(
    instance: Instance,
    config: OptimiseConfig,
    parts: Sequence[ClassPart],
    plan: PlanResult,
    served: dict[str, set[str]],
) -> list[Violation]:
    """Check a joint plan independently of the model, class by class.

    Each class's served flows are driven with the offers of its technology the plan built
    (:func:`~corridor.optimise.validate.simulate_flow`: range; with ``break_rule``
    :func:`~corridor.optimise.validate.check_trip_time`: breaks and charging time at the built
    charger power), and every site's and pool's grid draw must fit its headroom. Violations
    carry ``<class>:<od>`` as their flow id.

    Parameters
    ----------
    instance
        The network instance.
    config
        The joint config.
    parts
        :func:`class_parts`.
    plan
        The joint plan (``model_stats["offers"]``: the built offers).
    served
        Served flows (od ids) per class name.

    Returns
    -------
    list of Violation
    """
    from corridor.optimise.validate import check_trip_time, simulate_flow

    built = plan.model_stats.get("offers", {})
    out: list[Violation] = []
    for part in parts:
        veh = part.vehicle
        inst = part.instance
        mine = {v: info for v, info in built.items() if info["technology"] == veh.technology}
        rates = {v: _rate_per_h(veh, info["charger_mw"] or 0.0) for v, info in mine.items()}
        at_site: dict[str, list[str]] = {}
        for v, info in mine.items():
            at_site.setdefault(info["site_id"], []).append(v)
        for fp in instance.flows:
            if fp.od_id not in served.get(veh.name, ()):
                continue
            # the flow's own path with the stations the plan built there (not the model's sets)
            stops = tuple(
                Stop(v, s.km, s.detour_km) for s in fp.stops for v in at_site.get(s.site_id, ())
            )
            flow = dataclasses.replace(fp, stops=stops)
            _, bad = simulate_flow(
                flow, set(rates), inst.range_km, inst.start_range_km, inst.energy_per_km
            )
            if bad is None and veh.break_rule:
                bad = check_trip_time(
                    flow,
                    rates,
                    inst.range_km,
                    inst.start_range_km,
                    inst.energy_per_km,
                    veh.max_trip_time_factor,
                )
            if bad is not None:
                out.append(dataclasses.replace(bad, od_id=f"{veh.name}:{fp.od_id}"))
    out += _check_joint_grid(instance, plan)
    return out


def _check_joint_grid(instance: Instance, plan: PlanResult) -> list[Violation]:
    from corridor.optimise.validate import Violation

    out = []
    draw = plan.sites["grid_mw"].astype(float) if len(plan.sites) else pd.Series(dtype=float)
    for s, mw in draw.items():
        head = float(instance.sites.at[s, "headroom_mw"])
        if mw > head + 1e-6:
            msg = f"site {s}: chargers and H2 modules draw {mw:.2f} MW, headroom {head:.2f} MW"
            out.append(Violation("", "grid_headroom", math.nan, str(s), msg))
    for level, pid, mw, ss in shared_pools(instance.sites, list(draw.index)):
        total = float(draw[ss].sum())
        if total > mw + 1e-6:
            msg = f"{level} {pid}: open sites draw {total:.2f} MW, spare {mw:.2f} MW"
            out.append(Violation("", "grid_pool", math.nan, "", msg))
    return out
