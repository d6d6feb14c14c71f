"""Shortlist extras: GeoPackage / Excel writers and the marginal value of each chosen site.

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
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

__all__ = [
    "add_marginal_values",
    "marginal_values",
    "served_flows",
    "write_shortlist_gpkg",
    "write_shortlist_xlsx",
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
    """What the plan loses when each open site is closed, the others staying open.

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


def _plain(shortlist: gpd.GeoDataFrame) -> pd.DataFrame:
    df = pd.DataFrame(shortlist.drop(columns="geometry"))
    for col in df.columns:
        if df[col].map(lambda v: isinstance(v, (tuple, list, set, frozenset))).any():
            df[col] = df[col].map(
                lambda v: ";".join(map(str, v)) if isinstance(v, (tuple, list, set)) else v
            )
    return df


def write_shortlist_gpkg(shortlist: gpd.GeoDataFrame, path: Path) -> None:
    """Write the shortlist as a GeoPackage layer ``shortlist`` (EPSG:4326 points)."""
    gdf = gpd.GeoDataFrame(_plain(shortlist), geometry=shortlist.geometry, crs=shortlist.crs)
    gdf.to_file(path, driver="GPKG", layer="shortlist")


def write_shortlist_xlsx(
    shortlist: gpd.GeoDataFrame, path: Path, notes: dict[str, str] | None = None
) -> None:
    """Write the shortlist as an Excel workbook (sheet ``shortlist``, optional sheet ``notes``).

    Parameters
    ----------
    shortlist
        Output of :func:`corridor.outputs.plan.shortlist_frame` (geometry dropped).
    path
        Target ``.xlsx`` file.
    notes
        Optional key/value rows (scenario, sources, licences) for a second sheet.
    """
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        _plain(shortlist).to_excel(xw, sheet_name="shortlist", index=False)
        if notes:
            pd.DataFrame({"item": list(notes), "value": list(notes.values())}).to_excel(
                xw, sheet_name="notes", index=False
            )
        ws = xw.sheets["shortlist"]
        ws.freeze_panes = "C2"
        for col in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 40)
