"""The marginal value of each chosen site.

The marginal value of a site is what the plan loses without it: the trucks per day (and OD flows)
that can complete their trip with the plan's sites but no longer can once that one site is closed.
It is evaluated on the optimiser's :class:`~corridor.optimise.Instance` with the optimiser's own
independent simulation (:func:`corridor.optimise.simulate_flow`: every flow driven along its path
with the open sites, range only, no capacity limit), so it depends only on the instance and the
open set.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = [
    "add_marginal_values",
    "marginal_values",
    "served_flows",
]


def served_flows(instance: Any, open_sites: Collection[str]) -> dict[str, float]:
    """OD flows of an instance that can complete their trip with the open sites.

    Parameters
    ----------
    instance
        :class:`~corridor.optimise.Instance` (``flows``, ``range_km``, ``start_range_km``).
    open_sites
        Site ids that are open.

    Returns
    -------
    dict
        ``od_id`` to trucks/day of every range-feasible flow.
    """
    from corridor.optimise import simulate_flow

    open_set = {str(s) for s in open_sites}
    served = {}
    for f in instance.flows:
        _, violation = simulate_flow(
            f, open_set, instance.range_km, instance.start_range_km, instance.energy_per_km
        )
        if violation is None:
            served[f.od_id] = float(f.trucks_per_day)
    return served


def marginal_values(instance: Any, open_sites: Collection[str]) -> pd.DataFrame:
    """Compute what the plan loses when each open site is closed, the others staying open.

    Parameters
    ----------
    instance
        :class:`~corridor.optimise.Instance`.
    open_sites
        The plan's site ids.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``site_id``: ``marginal_trucks_per_day`` (range-feasible trucks/day lost),
        ``marginal_od_flows`` (OD flows lost), ``marginal_share`` (lost share of the plan's
        range-feasible trucks/day).
    """
    open_set = [str(s) for s in open_sites]
    base = served_flows(instance, open_set)
    base_total = sum(base.values())
    rows = []
    for sid in open_set:
        without = served_flows(instance, [s for s in open_set if s != sid])
        lost = {od: t for od, t in base.items() if od not in without}
        lost_t = sum(lost.values())
        rows.append(
            {
                "site_id": sid,
                "marginal_trucks_per_day": lost_t,
                "marginal_od_flows": len(lost),
                "marginal_share": lost_t / base_total if base_total else math.nan,
            }
        )
    cols = ["site_id", "marginal_trucks_per_day", "marginal_od_flows", "marginal_share"]
    return pd.DataFrame(rows, columns=cols).set_index("site_id")


def add_marginal_values(shortlist: gpd.GeoDataFrame, marginal: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return a copy of the shortlist with the marginal-value columns joined on ``site_id``."""
    out = shortlist.copy()
    for col in marginal.columns:
        out[col] = out["site_id"].map(marginal[col]).astype(float)
    return out
