"""Independent check of a plan: drive every served flow with the vehicle's energy store.

This module does not look at the model's cover sets. It simulates each served OD path in its
direction of travel, in energy units (kWh or kg above the reserve), with the lazy policy of a
driver: at each open site on the path, stop and refill to ``soc_max`` only when the next open
site (including its detour) or the destination cannot be reached with the energy left. Any point
where the energy would fall below the reserve is a :class:`Violation`. The stops the simulation
makes are also what the charger sizing uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from corridor.optimise.instance import FlowPath, Instance

__all__ = ["StopEvent", "Violation", "simulate_flow", "validate"]

_EPS_KM = 1e-6


@dataclass(frozen=True)
class Violation:
    """A point where a plan does not hold.

    Attributes
    ----------
    od_id
        The flow concerned ("" for plan-level problems).
    kind
        ``reserve_broken`` (energy below the reserve), ``unknown_flow`` or ``unknown_site``.
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


def validate(instance: Instance, plan: Any) -> list[Violation]:
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
