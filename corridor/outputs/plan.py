"""The planner's outputs: ``plan.json`` and the ranked shortlist (CSV, GeoJSON, GPKG, Excel)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from corridor.catalogue import FLOWS_ATTRIBUTION, OSM_ATTRIBUTION

if TYPE_CHECKING:
    from corridor.config import Scenario
    from corridor.optimise import PlanResult

__all__ = [
    "plan_document",
    "shortlist_frame",
    "write_json",
    "write_shortlist_csv",
    "write_shortlist_geojson",
    "write_shortlist_gpkg",
    "write_shortlist_xlsx",
]

SHORTLIST_COLUMNS = [
    "rank",
    "site_id",
    "station_id",
    "name",
    "technology",
    "kind",
    "country",
    "road_ref",
    "direction",
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
    "share_of_scenario_flow",
    "substation_id",
    "substation_voltage_kv",
    "grid_distance_km",
    "headroom_mw",
    "congestion",
    "connection",
    "osm_id",
    "source",
    "lon",
    "lat",
]


#: What the headline numbers of ``plan.json`` mean (written into the document itself).
FIGURE_DEFINITIONS = {
    "objective": (
        "the model's objective value at the returned solution (unit of the objective kind); at a "
        "time-limited incumbent (status feasible) the model may count fewer trucks than the open "
        "sites serve, so it can be below served_trucks_per_day"
    ),
    "best_bound": "the best bound the solver proved on the objective (same unit)",
    "gap": "relative gap |best_bound - objective| / |objective|; 0 only when proven optimal",
    "served_trucks_per_day": (
        "trucks/day of the flows that need a charging stop and that the plan's open sites serve "
        "(an open site in each of their cover sets), every one of them re-driven by the "
        "independent simulation (valid = all arrive; flows that need no stop are not counted); "
        "equals the objective when it is trucks/day and the status is optimal"
    ),
}


def shortlist_frame(
    plan_sites: pd.DataFrame,
    sites: gpd.GeoDataFrame,
    technology: str,
    corridor_trucks_per_day: float,
) -> gpd.GeoDataFrame:
    """Join the chosen sites' sizing with their candidate and grid attributes, ranked.

    Parameters
    ----------
    plan_sites
        ``PlanResult.sites``: indexed by ``site_id``, with chargers, power / capacity and served
        trucks per day.
    sites
        Candidate sites with grid columns (EPSG:3035), indexed by ``site_id``.
    technology
        ``bev`` or ``h2``.
    corridor_trucks_per_day
        Planned-technology trucks per day of the scenario's flows (``flows.corridor_countries``:
        all NL–DE cross-border flows in the pilot, not only the chosen traject's), to express each
        site's share (``share_of_scenario_flow``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per chosen site in rank order (most served trucks first), EPSG:4326 points.
    """
    from corridor.optimise.instance import station_of

    chosen = sites.loc[list(plan_sites.index)].copy()
    for col in plan_sites.columns:
        chosen[col] = plan_sites[col]
    chosen["site_id"] = chosen.index.astype(str)
    # the station location (the two halves of a rest area share one), else the site itself
    chosen["station_id"] = station_of(sites, list(chosen.index)).to_numpy()
    chosen = chosen.reset_index(drop=True)
    chosen["technology"] = chosen["offers"] if "offers" in chosen.columns else technology
    share = (
        chosen["served_trucks_per_day"] / corridor_trucks_per_day
        if corridor_trucks_per_day
        else 0.0
    )
    chosen["share_of_scenario_flow"] = share
    chosen = chosen.sort_values(["served_trucks_per_day", "site_id"], ascending=[False, True])
    chosen["rank"] = range(1, len(chosen) + 1)
    for col in SHORTLIST_COLUMNS:
        if col not in chosen.columns:
            chosen[col] = math.nan
    # a joint plan (BEV + H2) adds what each site offers per technology and for which classes
    from corridor.optimise.joint import JOINT_SITE_COLUMNS

    columns = SHORTLIST_COLUMNS + [c for c in JOINT_SITE_COLUMNS if c in plan_sites.columns]
    out = gpd.GeoDataFrame(chosen[columns], geometry=chosen.geometry, crs=sites.crs)
    return out.to_crs("EPSG:4326").reset_index(drop=True)


def _clean(value: Any) -> Any:
    """Turn numpy / NaN values into JSON-friendly Python values."""
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plan_document(
    scenario: Scenario,
    plan: PlanResult,
    shortlist: gpd.GeoDataFrame,
    summary: dict[str, Any],
) -> dict[str, Any]:
    """Build the ``plan.json`` document.

    Parameters
    ----------
    scenario
        The :class:`~corridor.config.Scenario` of the run.
    plan
        The optimiser's ``PlanResult``.
    shortlist
        Output of :func:`shortlist_frame`.
    summary
        Sizes of the inputs and headline figures (graph, flows, candidates, timings).

    Returns
    -------
    dict
        JSON-ready plan: scenario, status, gap, solve time, objective, sites and provenance.
    """
    tech = scenario.optimise.technology_label
    site_rows = []
    for row in shortlist.itertuples(index=False):
        entry = {
            "rank": row.rank,
            "site_id": row.site_id,
            "station_id": row.station_id,
            "name": row.name,
            "lon": round(float(row.lon), 6),
            "lat": round(float(row.lat), 6),
            "country": row.country,
            "road": getattr(row, "road_ref", ""),
            "direction": row.direction,
            "kind": row.kind,
            "technology": row.technology,
            "chargers": int(row.chargers),
            # Erlang-C chargers for the served trucks, and whether grid headroom or the per-site
            # maximum held the site below that (then trucks would queue longer than planned).
            "chargers_needed": row.chargers_needed,
            "capped": bool(row.capped) if row.capped == row.capped else None,
            "served_trucks_per_day": round(float(row.served_trucks_per_day), 3),
            "stops_per_day": row.stops_per_day,
            "substation_id": row.substation_id,
            "grid_distance_km": row.grid_distance_km,
            "headroom_mw": row.headroom_mw,
            "congestion": row.congestion,
            "connection": row.connection,
        }
        if "bev" in tech.split("+"):
            entry["power_mw"] = float(row.power_mw)
            entry["energy_mwh_per_day"] = row.energy_mwh_per_day
            entry["battery_mwh"] = getattr(row, "battery_mwh", 0.0)
        if "h2" in tech.split("+"):
            entry["capacity_kg_per_day"] = float(row.capacity_kg_per_day)
            entry["h2_kg_per_day"] = row.h2_kg_per_day
        if "offers" in shortlist.columns:  # a joint plan: what each technology built, for whom
            from corridor.optimise.joint import JOINT_SITE_COLUMNS

            entry.update({col: getattr(row, col) for col in JOINT_SITE_COLUMNS})
        for col in ("marginal_trucks_per_day", "marginal_od_flows", "marginal_share"):
            if hasattr(row, col):
                entry[col] = getattr(row, col)
        site_rows.append(entry)
    doc = {
        "scenario": scenario.name,
        "description": scenario.description,
        "year": scenario.year,
        "technology": tech,
        "status": plan.status,
        "valid": not plan.violations,
        "violations": [str(v) for v in plan.violations],
        "gap": plan.gap,
        "objective": plan.objective,
        "best_bound": plan.best_bound,
        "solve_time_s": plan.solve_time_s,
        "solver": plan.solver,
        "served_trucks_per_day": plan.served_trucks_per_day,
        "definitions": FIGURE_DEFINITIONS,
        "grid_capacity_tables": [str(p) for p in scenario.grid.capacity_table],
        "sites": site_rows,
        "summary": summary,
        "model_stats": plan.model_stats,
        "attribution": [
            OSM_ATTRIBUTION,
            FLOWS_ATTRIBUTION,
            *(
                ["Quelle: Bundesnetzagentur, Ladesäulenregister (CC BY 4.0)"]
                if "existing_charging" in scenario.sites.sources
                else []
            ),
            *(
                [
                    f"coarse road links of {', '.join(scenario.network.coarse_countries)}: "
                    "ETISplus network, Speth et al. (2022), CC BY 4.0"
                ]
                if scenario.network.coarse_countries
                else []
            ),
        ],
    }
    return _clean(doc)


def write_json(doc: dict[str, Any], path: Path) -> None:
    """Write a JSON document (UTF-8, indented)."""
    Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_shortlist_csv(shortlist: gpd.GeoDataFrame, path: Path) -> None:
    """Write the shortlist as CSV (no geometry column; lon/lat are in it)."""
    pd.DataFrame(shortlist.drop(columns="geometry")).to_csv(path, index=False)


def write_shortlist_geojson(shortlist: gpd.GeoDataFrame, path: Path) -> None:
    """Write the shortlist as GeoJSON (EPSG:4326)."""
    shortlist.to_file(path, driver="GeoJSON")


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
    import pyogrio

    gdf = gpd.GeoDataFrame(_plain(shortlist), geometry=shortlist.geometry, crs=shortlist.crs)
    # GDAL stamps gpkg_contents.last_change with the current time: fix it so reruns are identical
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        gdf.to_file(path, driver="GPKG", layer="shortlist")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


#: Timestamp written where a format insists on one (GeoPackage, xlsx): reruns give identical bytes.
FIXED_TIMESTAMP = "2000-01-01T00:00:00.000Z"


def _normalise_zip(path: Path) -> None:
    """Rewrite a zip container (xlsx) with fixed member timestamps, in member order."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                    data,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            z.writestr(fixed, data)


def write_shortlist_xlsx(
    shortlist: gpd.GeoDataFrame, path: Path, notes: dict[str, str] | None = None
) -> None:
    """Write the shortlist as an Excel workbook (sheet ``shortlist``, optional sheet ``notes``).

    Parameters
    ----------
    shortlist
        Output of :func:`shortlist_frame` (geometry dropped).
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
        import datetime as _dt

        fixed = _dt.datetime(2000, 1, 1)
        xw.book.properties.created = fixed
        xw.book.properties.modified = fixed
        ws = xw.sheets["shortlist"]
        ws.freeze_panes = "C2"
        for col in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 40)
    _normalise_zip(path)
