"""How many chargers (H2: modules) each open site needs, by one rule for the model and the plan.

BEV: a site's peak-hour offered load in Erlang is ``peak_hour_share × daily energy (kWh) /
charger power (kW)`` (arrivals per hour × session hours, whatever the split into sessions); it needs
the fewest chargers whose Erlang-C waiting probability stays at or below
``max_wait_probability`` (:func:`~corridor.optimise.queueing.max_load_for_wait_probability`
tabulates the most load each number of chargers carries; the siting model uses the same table).
H2: modules of ``h2_module_kg_per_day`` covering the daily kg. Every open site gets at least the
minimum site power (and the AFIR pool power on named corridors).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from corridor.optimise.instance import DIRECTIONS, Instance
from corridor.optimise.queueing import max_load_for_wait_probability, servers_for_load
from corridor.optimise.validate import simulate_flow

if TYPE_CHECKING:
    from corridor.config import OptimiseConfig

__all__ = [
    "PLAN_SITE_COLUMNS",
    "capacity_table",
    "load_per_charge_km",
    "min_chargers",
    "size_assigned",
    "size_sites",
]

#: Columns of ``PlanResult.sites`` (index ``site_id``). Columns of the other technology are NaN.
PLAN_SITE_COLUMNS = (
    "chargers",
    "chargers_needed",
    "capped",
    "power_mw",
    "capacity_kg_per_day",
    "battery_mwh",
    "served_trucks_per_day",
    "stops_per_day",
    "energy_mwh_per_day",
    "h2_kg_per_day",
    "peak_load_erl",
    "energy_per_stop",
    "session_min",
    "covered_od_ids",
    "serves_directions",
)


def min_chargers(config: OptimiseConfig) -> int:
    """Fewest chargers (H2: modules) of an open site: the minimum site power, at least one."""
    if config.vehicle.technology == "h2":
        return 1
    return max(1, math.ceil(config.min_site_power_mw / config.charger_power_mw - 1e-9))


def load_per_charge_km(config: OptimiseConfig, energy_per_km: float) -> float:
    """Site load of one charge-km per day: BEV peak-hour Erlang, H2 kg/day.

    Parameters
    ----------
    config
        :class:`~corridor.config.OptimiseConfig`.
    energy_per_km
        Consumption (kWh/km or kg/km).
    """
    if config.vehicle.technology == "h2":
        return float(energy_per_km)
    return config.peak_hour_share * energy_per_km / (config.charger_power_mw * 1000.0)


def capacity_table(config: OptimiseConfig, max_chargers: int | None = None) -> tuple[float, ...]:
    """Most load ``n`` chargers carry, ``n = 0 … max_chargers`` (BEV Erlang, H2 kg/day)."""
    top = config.max_chargers_per_site if max_chargers is None else max_chargers
    if config.vehicle.technology == "h2":
        return tuple(n * config.h2_module_kg_per_day for n in range(top + 1))
    return max_load_for_wait_probability(top, config.max_wait_probability)


def _needed(load: float, table: tuple[float, ...], low: int) -> int:
    n = servers_for_load(load, table)
    if n is None:  # beyond the table: count on with the table's last step
        n = len(table) - 1
        step = table[-1] - table[-2] if len(table) > 1 else 1.0
        n += math.ceil((load - table[-1]) / max(step, 1e-9))
    return max(n, low)


def _row(
    instance: Instance,
    config: OptimiseConfig,
    site: str,
    chargers: int,
    needed: int,
    trucks: float,
    energy: float,
    covered: list[str],
    battery_mwh: float,
) -> dict[str, Any]:
    bev = instance.technology == "bev"
    per_stop = energy / trucks if trucks > 0 else 0.0
    p_mw = config.charger_power_mw
    return {
        "site_id": site,
        "chargers": int(chargers),
        "chargers_needed": int(needed),
        "capped": bool(chargers < needed),
        "power_mw": chargers * p_mw if bev else math.nan,
        "capacity_kg_per_day": math.nan if bev else chargers * config.h2_module_kg_per_day,
        "battery_mwh": battery_mwh if bev else math.nan,
        "served_trucks_per_day": trucks,
        "stops_per_day": trucks,
        "energy_mwh_per_day": energy / 1000.0 if bev else math.nan,
        "h2_kg_per_day": math.nan if bev else energy,
        "peak_load_erl": (config.peak_hour_share * energy / (p_mw * 1000.0) if bev else math.nan),
        "energy_per_stop": per_stop,
        "session_min": per_stop / (p_mw * 1000.0) * 60.0 if bev else math.nan,
        "covered_od_ids": tuple(covered),
        "serves_directions": ";".join(
            d for d in DIRECTIONS if d in instance.sites.at[site, "directions"]
        ),
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["site_id", *PLAN_SITE_COLUMNS]).set_index("site_id")


def size_assigned(
    instance: Instance,
    config: OptimiseConfig,
    site_energy: dict[str, float],
    site_trucks: dict[str, float],
    site_od_ids: dict[str, list[str]],
    low: dict[str, int],
    battery_mw: dict[str, float],
) -> pd.DataFrame:
    """Size open sites from the charging the model assigned to them (capacity in the model).

    Parameters
    ----------
    instance
        The instance.
    config
        :class:`~corridor.config.OptimiseConfig`.
    site_energy
        Daily energy (kWh or kg) assigned per open site.
    site_trucks
        Trucks per day charging there (a flow whose charging is split counts in part).
    site_od_ids
        Flows charging there.
    low
        Fewest chargers per site (minimum site power, AFIR pool power).
    battery_mw
        Battery power (MW) the model gave each site (0 or absent: none).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``site_id`` with :data:`PLAN_SITE_COLUMNS`.
    """
    table = capacity_table(config)
    per_km = load_per_charge_km(config, 1.0)
    rows = []
    for s, energy in site_energy.items():
        needed = _needed(per_km * energy, table, low.get(s, min_chargers(config)))
        battery = float(battery_mw.get(s, 0.0))
        if battery > 0:
            head = float(instance.sites.at[s, "headroom_mw"])
            # only the power over the headroom needs a battery
            battery = min(battery, max(0.0, needed * config.charger_power_mw - head))
        rows.append(
            _row(
                instance,
                config,
                s,
                needed,
                needed,
                site_trucks.get(s, 0.0),
                energy,
                site_od_ids.get(s, []),
                battery * config.battery_hours,
            )
        )
    return _frame(rows)


def size_sites(
    instance: Instance,
    open_sites: list[str],
    served_od_ids: list[str] | tuple[str, ...],
    config: OptimiseConfig,
    model_chargers: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Size open sites from the stops of the simulated served flows (capacity not in the model).

    Each served flow is driven with the lazy policy of :mod:`corridor.optimise.validate`; its
    trucks/day stop at the sites where it charges, with the energy needed to refill to
    ``soc_max``; the chargers follow the rule of the module docstring, at most
    ``max_chargers_per_site`` and the grid headroom (``capped`` tells when that keeps a site below
    its need: the uncapacitated plan promises more than the grid or the site can deliver).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``site_id`` with :data:`PLAN_SITE_COLUMNS`.
    """
    open_set = set(open_sites)
    trucks = dict.fromkeys(open_sites, 0.0)
    energy = dict.fromkeys(open_sites, 0.0)
    covered: dict[str, list[str]] = {s: [] for s in open_sites}
    by_id = {f.od_id: f for f in instance.flows}
    for od_id in served_od_ids:
        fp = by_id[od_id]
        events, _ = simulate_flow(
            fp, open_set, instance.range_km, instance.start_range_km, instance.energy_per_km
        )
        for ev in events:
            trucks[ev.site_id] += fp.trucks_per_day
            energy[ev.site_id] += fp.trucks_per_day * ev.energy
            covered[ev.site_id].append(od_id)
    table = capacity_table(config)
    per_km = load_per_charge_km(config, 1.0)
    low = min_chargers(config)
    rows = []
    for s in open_sites:
        needed = _needed(per_km * energy[s], table, max(low, int((model_chargers or {}).get(s, 0))))
        cap = config.max_chargers_per_site
        head = float(instance.sites.at[s, "headroom_mw"])
        if instance.technology == "bev" and np.isfinite(head):
            cap = min(cap, math.floor(head / config.charger_power_mw + 1e-9))
        chargers = min(needed, cap)
        rows.append(
            _row(instance, config, s, chargers, needed, trucks[s], energy[s], covered[s], 0.0)
        )
    return _frame(rows)
