"""Independent checks of a plan: drive every served flow, then fit its charging into the plan.

Range: :func:`validate` does not look at the model's cover sets. It simulates each served OD path in
its direction of travel, in energy units (kWh or kg above the reserve), with the lazy policy of a
driver: at each open site on the path, stop and refill to ``soc_max`` only when the next open site
(including its detour) or the destination cannot be reached with the energy left. Any point where
the energy would fall below the reserve is a :class:`Violation`. The stops the simulation makes are
also what the charger sizing of uncapacitated plans uses.

Capacity: :func:`check_capacity` does not look at the model's assignment either. It solves its
own transport problem as a maximum flow (scipy's ``maximum_flow``): every served flow's peak-hour
load (its trucks/day × the km it must drive on bought energy × consumption) goes from the flow to
any open site on its path, and each site carries at most what its chargers carry at the service
level (the Erlang-C table for BEV, modules × kg/day for H2). The plan fails if the maximum flow
is below the served load. It also checks each site's charger power against its own headroom
(plus battery) and the sums against every shared substation and congestion-area pool, and that
each site's peak-hour energy is within its chargers' power.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from corridor.optimise.instance import FlowPath, Instance, shared_pools

if TYPE_CHECKING:
    from corridor.config import OptimiseConfig
    from corridor.optimise.solve import PlanResult

__all__ = [
    "StopEvent",
    "Violation",
    "check_capacity",
    "check_trip_time",
    "simulate_flow",
    "validate",
]

_EPS_KM = 1e-6


@dataclass(frozen=True)
class Violation:
    """A point where a plan does not hold.

    Attributes
    ----------
    od_id
        The flow concerned ("" for plan-level problems).
    kind
        ``reserve_broken`` (energy below the reserve), ``unknown_flow``, ``unknown_site``,
        ``capacity`` (served charging does not fit the chargers), ``grid_headroom`` (a site's
        charger power over its headroom and battery), ``grid_pool`` (a shared substation or
        area pool exceeded), ``peak_power`` (peak-hour energy above the chargers' power) or
        ``break_rule`` (a joint plan's trip over its time limit, :func:`check_trip_time`).
    km
        Distance (km) along the flow's path where it happens (NaN if not applicable).
    site_id
        Last site the truck charged at ("" for the origin or not applicable).
    message
        Human-readable explanation.
    """

    od_id: str
    kind: str
    km: float
    site_id: str
    message: str

    def __str__(self) -> str:
        """Return ``"<kind> [od=<od_id>] <message>"``, e.g. for a test failure."""
        return f"{self.kind} [od={self.od_id}] {self.message}"


@dataclass(frozen=True)
class StopEvent:
    """A charging stop the simulation made.

    Attributes
    ----------
    site_id
        Site where the truck charged.
    km
        Position (km) on the path.
    energy
        Energy charged per truck (kWh or kg) to get back to ``soc_max``.
    """

    site_id: str
    km: float
    energy: float


def simulate_flow(
    flow: FlowPath,
    open_sites: Iterable[str] | set[str],
    range_km: float,
    start_range_km: float,
    energy_per_km: float,
) -> tuple[list[StopEvent], Violation | None]:
    """Drive one flow with lazy refuelling at open sites.

    Parameters
    ----------
    flow
        The flow and its candidate stops.
    open_sites
        Ids of the open sites.
    range_km, start_range_km
        Range (km) after a stop and at the origin.
    energy_per_km
        Consumption (kWh/km or kg/km).

    Returns
    -------
    stops, violation
        The charging stops made, and the first violation (None if the trip completes).
    """
    open_set = open_sites if isinstance(open_sites, set) else set(open_sites)
    full = range_km * energy_per_km  # energy above the reserve after a stop
    energy = start_range_km * energy_per_km
    here_km = 0.0
    last_site = ""
    stops = [s for s in flow.stops if s.site_id in open_set and s.km <= flow.length_km]
    events: list[StopEvent] = []

    def broken(at_km: float) -> Violation:
        where = f"after site {last_site}" if last_site else "from the origin"
        return Violation(
            flow.od_id,
            "reserve_broken",
            at_km,
            last_site,
            f"reserve reached at km {at_km:.1f} of {flow.length_km:.1f} ({where})",
        )

    for i, stop in enumerate(stops):
        leg = stop.km - here_km
        if energy - leg * energy_per_km < -_EPS_KM * energy_per_km:
            return events, broken(here_km + energy / energy_per_km)
        energy -= leg * energy_per_km
        here_km = stop.km
        if i + 1 < len(stops):
            nxt = stops[i + 1]
            need_km = nxt.km - stop.km + nxt.detour_km / 2.0
        else:
            need_km = flow.length_km - stop.km
        if energy >= need_km * energy_per_km - _EPS_KM * energy_per_km:
            continue  # lazy driver: enough to reach the next chance, skip this site
        half = stop.detour_km / 2.0 * energy_per_km
        if energy - half < -_EPS_KM * energy_per_km:
            return events, broken(here_km + energy / energy_per_km)
        energy -= half
        charged = max(0.0, full - energy)
        events.append(StopEvent(stop.site_id, stop.km, charged))
        energy = max(energy, full) - half
        last_site = stop.site_id
        if energy < -_EPS_KM * energy_per_km:
            return events, broken(here_km)
    leg = flow.length_km - here_km
    if energy - leg * energy_per_km < -_EPS_KM * energy_per_km:
        return events, broken(here_km + energy / energy_per_km)
    return events, None


def check_trip_time(
    flow: FlowPath,
    rate_per_h: dict[str, float],
    range_km: float,
    start_range_km: float,
    energy_per_km: float,
    max_trip_time_factor: float,
) -> Violation | None:
    """Drive one flow stop by stop and check the EU driving-time rules (joint plans).

    The driver of Regulation (EC) 561/2006 (art. 7) takes a 45 min break after at most 4.5 h of
    driving. At each open site on the path (``rate_per_h``: its charging rate) the truck stops
    when the energy left does not reach the next open site or the destination, or when a break
    is due before the next open site; a break due on a stretch without an open site is taken on
    the roadside. At a stop it charges what it must to reach the next open site (to the
    destination at most, ``soc_max`` at most), and during a break at least what 45 min give.
    Charging time within the break is free; beyond it, and at a stop without a break, it adds
    to the trip time, as does the detour (at the path's mean speed). The trip fails when its
    time exceeds ``max_trip_time_factor`` × (driving time + the breaks the regulation requires
    anyway), the rule of :mod:`corridor.optimise.joint`.

    Parameters
    ----------
    flow
        The flow (``drive_h`` known).
    rate_per_h
        Charging rate (kWh/h or kg/h) by open site id.
    range_km, start_range_km
        Range (km) after a stop and at the origin.
    energy_per_km
        Consumption (kWh/km or kg/km).
    max_trip_time_factor
        Most trip time as a multiple of the legal reference time.

    Returns
    -------
    Violation or None
        ``break_rule`` when the trip takes too long (range is :func:`simulate_flow`'s check).
    """
    from corridor.optimise.joint import BREAK_AFTER_H, BREAK_H, required_breaks

    length, drive = flow.length_km, flow.drive_h
    speed = length / drive
    full = range_km * energy_per_km
    energy = start_range_km * energy_per_km
    stops = [s for s in flow.stops if s.site_id in rate_per_h and s.km <= length]
    here = since_break = total_h = 0.0
    n_breaks = 0
    eps = 1e-9

    def drive_to(km: float) -> None:
        nonlocal here, since_break, total_h, n_breaks
        leg_h = (km - here) / speed
        while since_break + leg_h > BREAK_AFTER_H + eps:  # roadside break
            used = BREAK_AFTER_H - since_break
            leg_h -= used
            total_h += used + BREAK_H
            n_breaks += 1
            since_break = 0.0
        since_break += leg_h
        total_h += leg_h
        here = km

    for i, stop in enumerate(stops):
        energy -= (stop.km - here) * energy_per_km
        drive_to(stop.km)
        nxt = stops[i + 1].km + stops[i + 1].detour_km / 2.0 if i + 1 < len(stops) else length
        must = (nxt - stop.km) * energy_per_km - energy
        need_break = since_break + (nxt - stop.km) / speed > BREAK_AFTER_H + eps
        if must <= eps and not need_break:
            continue
        rate = rate_per_h[stop.site_id]
        half = stop.detour_km / 2.0 * energy_per_km
        energy -= half
        cap = max(0.0, min(full, (length - stop.km) * energy_per_km + half) - energy)
        charge = min(cap, max(must + 2 * half, BREAK_H * rate if need_break else 0.0))
        t = charge / rate
        total_h += stop.detour_km / speed + (max(t, BREAK_H) if need_break else t)
        if need_break:
            n_breaks += 1
            since_break = 0.0
        energy += charge - half
        if energy < -eps * full:
            break
    drive_to(length)
    n = required_breaks(drive)
    reference = drive + BREAK_H * n
    limit = max_trip_time_factor * reference
    if total_h > limit + 1e-6:
        return Violation(
            flow.od_id,
            "break_rule",
            float("nan"),
            "",
            f"trip takes {total_h:.2f} h with {n_breaks} breaks, more than "
            f"{max_trip_time_factor:g} × {reference:.2f} h (driving {drive:.2f} h + {n} "
            "required breaks)",
        )
    return None


def validate(instance: Instance, plan: PlanResult) -> list[Violation]:
    """Re-check a plan by simulating every served flow with the plan's open sites.

    Parameters
    ----------
    instance
        The instance the plan was made for.
    plan
        A :class:`~corridor.optimise.PlanResult` (uses ``sites.index`` as the open sites and
        ``served_od_ids``).

    Returns
    -------
    list of Violation
        Empty when every served flow completes its trip without breaking the reserve.
    """
    violations: list[Violation] = []
    known = set(instance.site_ids)
    open_sites = {str(s) for s in plan.sites.index}
    for sid in sorted(open_sites - known):
        violations.append(
            Violation("", "unknown_site", float("nan"), sid, f"site {sid} is not a candidate")
        )
    by_id = {f.od_id: f for f in instance.flows}
    for od_id in plan.served_od_ids:
        flow = by_id.get(od_id)
        if flow is None:
            violations.append(
                Violation(od_id, "unknown_flow", float("nan"), "", "not a flow of the instance")
            )
            continue
        _, bad = simulate_flow(
            flow, open_sites, instance.range_km, instance.start_range_km, instance.energy_per_km
        )
        if bad is not None:
            violations.append(bad)
    return violations


_SCALE_UNITS = 1e9  # integer capacity units of the maximum flow (scipy needs integers)


def check_capacity(instance: Instance, plan: PlanResult, config: OptimiseConfig) -> list[Violation]:
    """Check that the plan's chargers and grid carry every served flow (see the module docstring).

    Parameters
    ----------
    instance
        The instance the plan was made for (``sites`` with ``headroom_mw`` as the plan counts it,
        i.e. after the non-firm rule, and optionally the pool columns).
    plan
        A :class:`~corridor.optimise.PlanResult`: ``sites`` with ``chargers`` (and
        ``battery_mwh``, ``energy_mwh_per_day`` for BEV), ``served_od_ids``.
    config
        :class:`~corridor.config.OptimiseConfig` (service level, charger power, module size).

    Returns
    -------
    list of Violation
        Empty when everything fits.
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_flow

    from corridor.optimise.sizing import capacity_table, load_per_charge_km

    bev = instance.technology == "bev"
    sites = plan.sites
    if len(sites) == 0:
        return []
    chargers = {str(s): int(n) for s, n in sites["chargers"].items()}
    table = capacity_table(config, max(max(chargers.values()), config.max_chargers_per_site))
    per_km = load_per_charge_km(config, instance.energy_per_km)
    open_sites = list(chargers)
    col = {s: i for i, s in enumerate(open_sites)}
    by_id = {f.od_id: f for f in instance.flows}
    demands: list[float] = []
    arcs: list[tuple[int, int]] = []
    for od_id in plan.served_od_ids:
        flow = by_id.get(od_id)
        if flow is None:
            continue
        trucks = flow.trucks_per_day * float(getattr(plan, "served_share", {}).get(od_id, 1.0))
        need = per_km * trucks * max(0.0, flow.length_km - instance.start_range_km)
        if need <= 0:
            continue
        where = {
            col[st.site_id] for st in flow.stops if st.site_id in col and st.km < flow.length_km
        }
        demands.append(need)
        arcs.extend((len(demands) - 1, j) for j in sorted(where))
    carry = [table[chargers[s]] if chargers[s] < len(table) else 0.0 for s in open_sites]
    violations: list[Violation] = []
    total = float(sum(demands))
    if total > 0:
        scale = _SCALE_UNITS / max(total, sum(carry), 1e-9)
        n_f, n_s = len(demands), len(open_sites)
        src, sink = 0, 1 + n_f + n_s
        rows = [src] * n_f + [1 + f for f, _ in arcs] + [1 + n_f + j for j in range(n_s)]
        cols = [1 + f for f in range(n_f)] + [1 + n_f + j for _, j in arcs] + [sink] * n_s
        cap = (
            [math.ceil(d * scale) for d in demands]
            + [math.ceil(demands[f] * scale) for f, _ in arcs]
            + [math.floor(c * (1 + 1e-6) * scale) for c in carry]
        )
        graph = csr_array(
            (np.asarray(cap, dtype=np.int64).astype(np.int32), (rows, cols)),
            shape=(sink + 1, sink + 1),
        )
        result = maximum_flow(graph, src, sink)
        short = sum(math.ceil(d * scale) for d in demands) - int(result.flow_value)
        if short > n_f:  # more than the rounding of the demands
            flow_sites = result.flow.tocsr()
            full = [
                open_sites[j]
                for j in range(n_s)
                if flow_sites[1 + n_f + j, sink] >= math.floor(carry[j] * scale) - 1
            ]
            unit = "Erlang in the peak hour" if bev else "kg/day"
            violations.append(
                Violation(
                    "",
                    "capacity",
                    float("nan"),
                    ";".join(full),
                    f"served flows need {total:.3f} {unit} but the chargers of the open sites "
                    f"on their paths carry only {result.flow_value / scale:.3f} at the service "
                    f"level; full: {', '.join(full) or 'none'}",
                )
            )
    if bev:
        violations += _check_grid(instance, plan, config)
    return violations


def _check_grid(instance: Instance, plan: PlanResult, config: OptimiseConfig) -> list[Violation]:
    sites = plan.sites
    p_mw = config.charger_power_mw
    out: list[Violation] = []
    draw: dict[str, float] = {}
    for s, row in sites.iterrows():
        s = str(s)
        battery_mw = float(row.get("battery_mwh", 0.0) or 0.0) / config.battery_hours
        battery_mw = 0.0 if math.isnan(battery_mw) else battery_mw
        draw[s] = int(row["chargers"]) * p_mw - battery_mw
        head = float(instance.sites.at[s, "headroom_mw"])
        if draw[s] > head + 1e-6:
            out.append(
                Violation(
                    "",
                    "grid_headroom",
                    float("nan"),
                    s,
                    f"site {s}: {int(row['chargers'])} chargers of {p_mw} MW less "
                    f"{battery_mw:.2f} MW battery draw {draw[s]:.2f} MW, headroom {head:.2f} MW",
                )
            )
        energy = float(row.get("energy_mwh_per_day", 0.0) or 0.0)
        peak = config.peak_hour_share * energy
        if peak > int(row["chargers"]) * p_mw + 1e-6:
            out.append(
                Violation(
                    "",
                    "peak_power",
                    float("nan"),
                    s,
                    f"site {s}: {peak:.2f} MWh in the peak hour on {int(row['chargers'])} "
                    f"chargers of {p_mw} MW",
                )
            )
    for level, pid, mw, ss in shared_pools(instance.sites, list(draw)):
        used = sum(draw[s] for s in ss)
        if used > mw + 1e-6:
            out.append(
                Violation(
                    "",
                    "grid_pool",
                    float("nan"),
                    ";".join(ss),
                    f"{level} {pid}: sites {', '.join(ss)} draw {used:.2f} MW of a shared "
                    f"{mw:.2f} MW",
                )
            )
    return out
