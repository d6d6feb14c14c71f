"""Per-site grid attributes: nearest substation, congestion area, headroom and connection type.

Headroom rule (every number from :class:`~corridor.config.GridConfig`):

1. Connection level: a site within ``mv_max_distance_km`` of its nearest substation connects on
   MV, capped at ``mv_max_power_mw``; farther sites need an HV connection, capped at
   ``hv_max_power_mw``.
2. Capacity data: the substation's own row of an operator table (``offtake_capacity_mw`` minus
   ``queue_mw``) wins; otherwise the congestion area's ``available_mw`` minus ``requested_mw``.
   A known spare capacity <= 0 makes the site ``congested``.
3. Status ``congested``: a non-firm, time-restricted connection of at most
   ``congested_headroom_mw`` (the area's or substation's ``restricted_hours``).
   ``available`` / ``limited`` / ``unknown``: firm, at most the level cap, the known spare capacity,
   and, where no MW figure is known, ``default_headroom_mw``.
4. An offtake capacity of exactly 0 MW (``offtake_capacity_mw`` of the substation's row, else the
   area's ``available_mw``): the operator has nothing to offer there, not even a non-firm
   contract, so the headroom is 0. (A capacity above 0 that the queue uses up is ``congested``:
   non-firm, as in rule 3.)
5. A site with a known high-power connection (``existing_power_mw`` from the charger register)
   gets at least that power as firm headroom (unless the offtake capacity is 0 MW).
6. Headroom 0 → connection ``none``.

Site cost (``cost_eur``, counted in the optimiser's budget): the site's own ``cost_eur`` (if
any) plus ``new_connection_cost_eur``, times ``existing_connection_cost_share`` for a site with a
known high-power connection.

A known spare MW is also reported as a pool shared by every firm connection drawing on it
(``substation_spare_mw`` per substation from an operator table, ``area_spare_mw`` per congestion
area): the siting model keeps the sum of the chosen sites' connection power within each pool, and
the connection-load report (:mod:`corridor.grid.load`) adds the sites of one area up.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from corridor.config import GridConfig
from corridor.errors import InputDataError

__all__ = ["GRID_COLUMNS", "attach_grid"]

CRS = "EPSG:3035"
#: Sites outside every area polygon take the nearest area within this distance (m): the NUTS
#: polygons are generalised (1:60M) and miss coastal and border strips.
AREA_SNAP_M = 20_000.0
#: Source of ``existing_power_mw`` (the charger register), named in ``grid_source``.
BNETZA_NOTE = "Quelle: Bundesnetzagentur, Ladesäulenregister"
GRID_COLUMNS = [
    "substation_id",
    "substation_name",
    "substation_voltage_kv",
    "grid_distance_km",
    "connection_level",
    "congestion_area_id",
    "congestion",
    "restricted_hours",
    "headroom_mw",
    "connection",
    "substation_spare_mw",
    "area_spare_mw",
    "grid_source",
    "cost_eur",
]


def _check(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        msg = f"{what} have no CRS; expected EPSG:3035"
        raise InputDataError(msg)
    return frame.to_crs(CRS) if frame.crs.to_string() != CRS else frame


def attach_grid(
    sites: gpd.GeoDataFrame,
    substations: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    config: GridConfig,
) -> gpd.GeoDataFrame:
    """Add the grid columns to a copy of ``sites`` (rule: see the module docstring).

    Parameters
    ----------
    sites
        Candidate sites (index ``site_id``, Point geometry).
    substations
        From :func:`~corridor.grid.load_substations` (optionally with an operator table applied).
    areas
        From :func:`~corridor.grid.default_congestion_areas` (optionally with a table applied).
    config
        The grid section of the scenario.

    Returns
    -------
    GeoDataFrame
        ``sites`` plus ``substation_id`` (str), ``substation_name``, ``substation_voltage_kv``,
        ``grid_distance_km``, ``connection_level`` (MV/HV), ``congestion_area_id`` (str, "" if
        none), ``congestion`` (available / limited / congested / unknown), ``restricted_hours``
        (e.g. "6-9,16-21" or ""), ``headroom_mw``, ``connection`` (firm / non_firm / none),
        ``substation_spare_mw`` and ``area_spare_mw`` (known spare MW of the substation's
        operator row and of the congestion area, NaN if unknown: pools shared by the firm
        connections on them), ``grid_source``, ``cost_eur`` (site cost, EUR).
    """
    sites = _check(sites, "sites")
    substations = _check(substations, "substations")
    areas = _check(areas, "congestion areas")
    if len(substations) == 0:
        msg = "no substations to connect sites to; check GridConfig.substation_sources"
        raise InputDataError(msg)
    out = sites.copy()
    n = len(out)
    pts = out[[out.geometry.name]].reset_index(drop=True)

    subs = substations.reset_index(names="_sid")
    near = gpd.sjoin_nearest(pts, subs, how="left", distance_col="_dist")
    near = near[~near.index.duplicated(keep="first")].reindex(range(n))
    dist_km = near["_dist"].to_numpy(float) / 1000.0
    out["substation_id"] = near["_sid"].astype(str).to_numpy()
    out["substation_name"] = near["name"].fillna("").astype(str).to_numpy()
    out["substation_voltage_kv"] = near["voltage_kv"].astype(float).to_numpy()
    out["grid_distance_km"] = dist_km
    mv = dist_km <= config.mv_max_distance_km
    out["connection_level"] = np.where(mv, "MV", "HV")
    level_cap = np.where(mv, config.mv_max_power_mw, config.hv_max_power_mw)

    # congestion area: the highest priority, then the smallest area containing the site
    a = areas.reset_index(drop=True).copy()
    a["_prio"] = a.get("priority", 0)
    a["_size"] = a.geometry.area
    a["_aid"] = a["area_id"] if "area_id" in a else areas.index.astype(str)
    hit = gpd.sjoin(pts, a, how="left", predicate="within")
    hit = hit.sort_values(["_prio", "_size"], ascending=[False, True], na_position="last")
    hit = hit[~hit.index.duplicated(keep="first")].reindex(range(n))
    outside = hit["_aid"].isna().to_numpy()
    if outside.any():  # just off a coarse (1:60M) coastline or border: nearest area within 20 km
        near_a = gpd.sjoin_nearest(pts[outside], a, how="left", max_distance=AREA_SNAP_M)
        near_a = near_a[~near_a.index.duplicated(keep="first")]
        hit.loc[near_a.index, near_a.columns] = near_a
    in_area = hit["_aid"].notna().to_numpy()
    status = hit["status"].where(in_area, "unknown").fillna("unknown").astype(str).to_numpy()
    hours = hit["restricted_hours"].where(in_area, "").fillna("").astype(str).to_numpy()
    avail = hit["available_mw"].astype(float).to_numpy() if "available_mw" in hit else np.nan
    req = hit["requested_mw"].astype(float).to_numpy() if "requested_mw" in hit else np.nan
    spare = np.asarray(avail - np.nan_to_num(req), float) * np.ones(n)
    a_src = hit["source"].astype(object).fillna("").astype(str)
    a_date = hit["source_date"].astype(object).fillna("").astype(str)
    src_area = (
        (a_src + np.where(a_date != "", " (" + a_date + ")", ""))
        .where(in_area, "no congestion area")
        .to_numpy()
    )

    area_spare = spare.copy()
    sub_spare = np.full(n, np.nan)
    capacity = np.asarray(avail, float) * np.ones(n)
    # substation-level capacity (operator table) wins over the area
    if "offtake_capacity_mw" in near:
        cap = near["offtake_capacity_mw"].astype(float).to_numpy()
        has = ~np.isnan(cap)
        if has.any():
            queue = np.nan_to_num(near["queue_mw"].astype(float).to_numpy())
            spare = np.where(has, cap - queue, spare)
            capacity = np.where(has, cap, capacity)
            sub_spare = np.where(has, cap - queue, np.nan)
            sub_status = near["capacity_status"].fillna("").astype(str).to_numpy()
            status = np.where(has & (sub_status != ""), sub_status, status)
            sub_hours = near["restricted_hours"].fillna("").astype(str).to_numpy()
            hours = np.where(has & (sub_hours != ""), sub_hours, hours)
            sub_src = near["capacity_source"].fillna("").astype(str).to_numpy()
            src_area = np.where(has, sub_src, src_area)
    known = ~np.isnan(spare)
    status = np.where(known & (spare <= 0), "congested", status)

    congested = status == "congested"
    firm_cap = np.minimum(
        level_cap, np.where(known, np.maximum(spare, 0), config.default_headroom_mw)
    )
    headroom = np.where(congested, np.minimum(level_cap, config.congested_headroom_mw), firm_cap)
    headroom = np.where(capacity == 0, 0.0, np.maximum(headroom, 0.0))
    # a known high-power connection (charger register): at least its power, firm
    existing = (
        np.nan_to_num(out["existing_power_mw"].to_numpy(float))
        if "existing_power_mw" in out
        else np.zeros(n)
    )
    raised = (existing > headroom) & (capacity != 0)
    headroom = np.where(raised, existing, headroom)
    congested = congested & ~raised
    connection = np.where(headroom <= 0, "none", np.where(congested, "non_firm", "firm"))
    has_existing = existing > 0
    base_cost = np.nan_to_num(out["cost_eur"].to_numpy(float)) if "cost_eur" in out else 0.0
    out["cost_eur"] = base_cost + config.new_connection_cost_eur * np.where(
        has_existing, config.existing_connection_cost_share, 1.0
    )
    out["congestion_area_id"] = hit["_aid"].astype(object).fillna("").astype(str).to_numpy()
    out["congestion"] = status
    out["restricted_hours"] = np.where(np.isin(status, ["congested", "limited"]), hours, "")
    out["headroom_mw"] = headroom.astype(float)
    out["connection"] = connection
    out["substation_spare_mw"] = sub_spare.astype(float)
    out["area_spare_mw"] = np.where(in_area, area_spare, np.nan).astype(float)
    sub_source = near["source"].fillna("").astype(str).to_numpy()
    source = pd.Series(sub_source).str.cat(pd.Series(src_area), sep="; ")
    existing_note = pd.Series(
        [f"; existing connection {mw:.2f} MW ({BNETZA_NOTE})" if mw > 0 else "" for mw in existing]
    )
    out["grid_source"] = (source + existing_note).to_numpy()
    return out
