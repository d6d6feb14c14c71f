"""Connection-load report for grid operators: hourly load per substation and congestion area.

For a plan (or any list of sites with MW), each site's daily energy is spread over 24 hours with a
truck charging profile (share of the day's charging in each hour; default
``corridor/data/grid/truck_charging_profile.csv``, an assumption stated in that file). A site's
hourly load (MW, the average over the hour) is ``min(energy_mwh_per_day × share[h], power_mw)``;
energy above the installed power in an hour is reported as ``unserved_mwh``. Sites are added up
per nearest substation and per congestion area, and compared with the sum of the sites' headroom
and with the restricted windows of their non-firm connections.

Battery buffer: with ``battery_mwh`` per site (power ``battery_power_mw``, default 1 C) the
report gives the lowest grid draw ``peak_with_battery_mw`` a battery can hold the group's load
to, found by bisection on the threshold with a two-day state-of-charge simulation that checks
the daily cycle is sustainable: the battery discharges above the threshold and recharges below it
(never pushing the grid draw above the threshold).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from corridor._files import DATA_DIR, write_outputs
from corridor._validate import GRAPH_CRS as CRS
from corridor._validate import require_columns
from corridor.errors import InputDataError
from corridor.grid.hours import format_hours, parse_hours

__all__ = [
    "DEFAULT_PROFILE_CSV",
    "connection_load",
    "grid_load_writers",
    "load_charging_profile",
    "peak_shave",
    "site_hourly_load",
    "site_loads",
    "write_grid_load",
]

DEFAULT_PROFILE_CSV = DATA_DIR / "grid" / "truck_charging_profile.csv"
HOURS = [f"load_mw_{h:02d}" for h in range(24)]


def load_charging_profile(path: str | Path | None = None) -> np.ndarray:
    """Read a 24-hour charging profile CSV (``hour,share``; ``#`` comment lines allowed).

    Shares are normalised to sum to 1.

    Raises
    ------
    InputDataError
        If the hours are not exactly 0–23 or a share is negative / not a number / all zero.
    """
    path = Path(path) if path is not None else DEFAULT_PROFILE_CSV
    try:
        df = pd.read_csv(path, comment="#")
    except (OSError, pd.errors.ParserError) as exc:
        msg = f"charging profile {path} could not be read: {exc}"
        raise InputDataError(msg) from None
    if not {"hour", "share"} <= set(df.columns):
        msg = f"{path}: a charging profile needs columns hour,share; found {list(df.columns)}"
        raise InputDataError(msg)
    if sorted(df["hour"].tolist()) != list(range(24)):
        msg = f"{path}: hours must be 0..23 once each, got {df['hour'].tolist()}"
        raise InputDataError(msg)
    return _normalise_profile(df.sort_values("hour")["share"].to_numpy(), str(path))


def _normalise_profile(profile: np.ndarray, what: str = "hourly_profile") -> np.ndarray:
    p = np.asarray(profile, dtype=float)
    if p.shape != (24,) or np.isnan(p).any() or (p < 0).any() or p.sum() <= 0:
        msg = f"{what}: expected 24 non-negative shares (one per hour) with a positive sum"
        raise InputDataError(msg)
    return p / p.sum()


def site_hourly_load(
    energy_mwh_per_day: np.ndarray, power_mw: np.ndarray, profile: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly load (sites × 24, MW) capped at the installed power, and unserved MWh per site."""
    want = np.outer(np.asarray(energy_mwh_per_day, float), profile)
    load = np.minimum(want, np.asarray(power_mw, float)[:, None])
    return load, (want - load).sum(axis=1)


def _simulate(load: np.ndarray, threshold: float, energy: float, power: float) -> bool:
    """Whether a battery holds ``load`` (24 h, repeated daily) at or below ``threshold``.

    Two days from a full battery. Day 2 must succeed and end no lower than day 1: if it ends
    lower, the battery never refilled on day 2, so the daily balance is negative and it runs
    empty on some later day; if it refilled, day 2 repeats day 1 (a steady daily cycle).
    """
    soc, eps, end = energy, 1e-9, []
    for h in range(48):
        x = load[h % 24]
        if x > threshold:
            need = x - threshold
            if need > power + eps or need > soc + eps:
                return False
            soc -= need
        else:
            soc = min(energy, soc + min(threshold - x, power))
        if h % 24 == 23:
            end.append(soc)
    return end[1] >= end[0] - 1e-7


def peak_shave(load: np.ndarray, energy_mwh: float, power_mw: float) -> float:
    """Lowest grid draw (MW) a battery of ``energy_mwh``/``power_mw`` holds ``load`` (24 h) to.

    A cyclic day: the threshold is feasible if, from the second simulated day on, the battery
    covers every hour above it, recharging only in hours below it and never above it.
    """
    load = np.asarray(load, float)
    peak = float(load.max()) if load.size else 0.0
    if energy_mwh <= 0 or power_mw <= 0 or peak <= 0:
        return peak
    lo, hi = max(0.0, peak - power_mw), peak
    if _simulate(load, lo, energy_mwh, power_mw):
        return lo
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _simulate(load, mid, energy_mwh, power_mw):
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-7:
            break
    return hi


def _group_table(
    sites: pd.DataFrame,
    load: np.ndarray,
    unserved: np.ndarray,
    key: str,
    battery_mwh: float,
    battery_power_mw: float,
) -> pd.DataFrame:
    rows = []
    restricted = (
        np.stack([parse_hours(t) for t in sites["restricted_hours"]])
        if len(sites)
        else (np.zeros((0, 24), bool))
    )
    non_firm = (sites["connection"] == "non_firm").to_numpy()
    pool_col = "substation_spare_mw" if key == "substation_id" else "area_spare_mw"
    pools = (
        sites[pool_col].astype(float).to_numpy()
        if pool_col in sites.columns
        else np.full(len(sites), np.nan)
    )
    firm = (sites["connection"] == "firm").to_numpy()
    for gid, idx in sites.groupby(key, sort=True).indices.items():
        lg = load[idx].sum(axis=0)
        site_headroom = float(sites["headroom_mw"].iloc[idx].sum())
        known = pools[idx][~np.isnan(pools[idx])]
        spare = float(known[0]) if len(known) and str(gid) else np.nan
        # the firm sites share the pool; the non-firm ones keep their own (restricted) headroom
        nf_head = float(sites["headroom_mw"].iloc[idx][~firm[idx]].sum())
        firm_head = site_headroom - nf_head
        headroom = site_headroom if np.isnan(spare) else nf_head + min(firm_head, max(spare, 0.0))
        window = (
            restricted[idx][non_firm[idx]].any(axis=0)
            if non_firm[idx].any()
            else (np.zeros(24, bool))
        )
        # in its restricted hours a non-firm connection may be curtailed: no headroom then
        nf_heads = sites["headroom_mw"].iloc[idx].to_numpy(float) * non_firm[idx]
        hourly = headroom - (restricted[idx] * nf_heads[:, None]).sum(axis=0)
        over = np.maximum(lg - hourly, 0.0)
        nf_load = load[idx][non_firm[idx]].sum(axis=0)
        bat_e = battery_mwh * len(idx)
        bat_p = battery_power_mw * len(idx)
        shaved_peak = peak_shave(lg, bat_e, bat_p)
        with_bat = np.minimum(lg, shaved_peak)
        row = {
            key: gid,
            "n_sites": len(idx),
            "site_ids": ";".join(sites.index[idx].astype(str)),
            "installed_mw": float(sites["power_mw"].iloc[idx].sum()),
            "spare_mw": spare,
            "installed_over_spare_mw": (
                float(sites["power_mw"].iloc[idx][firm[idx]].sum() - spare)
                if not np.isnan(spare)
                else np.nan
            ),
            "site_headroom_mw": site_headroom,
            "daily_mwh": float(lg.sum()),
            "unserved_mwh": float(unserved[idx].sum()),
            "peak_mw": float(lg.max()),
            "peak_hour": int(lg.argmax()),
            "headroom_mw": headroom,
            "headroom_in_restricted_window_mw": (
                float(hourly[window].min()) if window.any() else headroom
            ),
            "hours_over_headroom": format_hours(lg > hourly + 1e-9),
            "n_hours_over_headroom": int((lg > hourly + 1e-9).sum()),
            "energy_over_headroom_mwh": float(over.sum()),
            "battery_needed_mwh": _battery_needed(lg, hourly),
            "battery_can_cover": bool(np.sum(lg - hourly) <= 1e-9),
            "restricted_hours": format_hours(window),
            "hours_loaded_in_restricted_window": format_hours(window & (nf_load > 1e-9)),
            "load_in_restricted_window_mwh": float(nf_load[window].sum()),
            "battery_mwh": bat_e,
            "battery_power_mw": bat_p,
            "peak_with_battery_mw": float(shaved_peak),
            "battery_shaves_mw": float(lg.max() - shaved_peak),
            "hours_over_headroom_with_battery": format_hours(with_bat > hourly + 1e-9),
        }
        row.update(dict(zip(HOURS, lg.round(6), strict=True)))
        rows.append(row)
    return pd.DataFrame(rows)


def _battery_needed(load: np.ndarray, headroom: float | np.ndarray) -> float:
    """Least battery energy (MWh) that keeps the grid draw of ``load`` within ``headroom``.

    ``headroom`` is one number or one per hour.

    Cyclic day: the battery covers each hour's load above the headroom and recharges, in the
    hours below, at most the spare headroom; the answer is the largest energy deficit over any
    stretch of consecutive hours (wrapping midnight). NaN (an empty cell) when a day's energy
    exceeds the day's headroom: no battery can make it up (``battery_can_cover`` False).
    """
    net = np.asarray(load, float) - headroom
    if net.sum() > 1e-9:
        return float("nan")
    if (net <= 1e-12).all():
        return 0.0
    worst, run = 0.0, 0.0
    for x in np.r_[net, net]:  # two days: a deficit may run over midnight
        run = max(0.0, run + x)
        worst = max(worst, run)
    return float(worst)


def connection_load(
    plan_sites: pd.DataFrame,
    hourly_profile: np.ndarray | None = None,
    battery_mwh: float = 0.0,
    *,
    battery_power_mw: float | None = None,
    energy_per_stop_mwh: float | None = None,
    substations: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Per-substation and per-congestion-area load of a plan (see the module docstring).

    Parameters
    ----------
    plan_sites
        One row per site (index or column ``site_id``) with ``power_mw`` and
        ``energy_mwh_per_day`` (or ``stops_per_day`` with ``energy_per_stop_mwh``), plus the
        grid columns of :func:`~corridor.grid.attach_grid` (``substation_id``,
        ``congestion_area_id``, ``headroom_mw``, ``restricted_hours``, ``connection``). A
        geometry (EPSG:3035 points) is optional.
    hourly_profile
        24 shares of the daily charging energy per hour (normalised); default
        :func:`load_charging_profile`.
    battery_mwh
        Battery energy per site (MWh); 0 for none.
    battery_power_mw
        Battery power per site (MW); default ``battery_mwh`` per hour (1 C).
    energy_per_stop_mwh
        Energy per charging stop (MWh), needed only when ``energy_mwh_per_day`` is absent.
    substations, areas
        Optional layers giving the groups' geometry (else the centroid / hull of their sites).

    Returns
    -------
    (GeoDataFrame, GeoDataFrame)
        Per substation (key ``substation_id``) and per area (key ``congestion_area_id``):
        ``n_sites``, ``site_ids``, ``installed_mw``, ``daily_mwh``, ``unserved_mwh``,
        ``spare_mw`` (the shared pool: the substation's or area's known spare MW, NaN if
        unknown), ``installed_over_spare_mw`` (the firm sites' installed MW less the pool),
        ``site_headroom_mw`` (sum of the sites' own headroom), ``peak_mw``, ``peak_hour``,
        ``headroom_mw`` (what the group may draw: the sites' headroom, the firm ones' capped
        by the pool), ``headroom_in_restricted_window_mw`` (the same without the non-firm
        connections in their restricted hours: the operator may curtail them then),
        ``hours_over_headroom``, ``n_hours_over_headroom`` (against the hourly headroom),
        ``energy_over_headroom_mwh`` (MWh a day above the headroom), ``battery_needed_mwh``
        (the least battery that moves that energy into hours below the headroom; empty (NaN)
        when the day's energy does not fit under it), ``battery_can_cover`` (False then),
        ``restricted_hours`` (union of the non-firm sites' windows),
        ``hours_loaded_in_restricted_window``, ``load_in_restricted_window_mwh``,
        ``battery_mwh``, ``battery_power_mw``, ``peak_with_battery_mw``, ``battery_shaves_mw``,
        ``hours_over_headroom_with_battery``, ``load_mw_00`` … ``load_mw_23``; geometry in
        EPSG:3035 (None when unknown).
    """
    sites = plan_sites.copy()
    if "site_id" in sites.columns:
        sites = sites.set_index("site_id")
    require_columns(
        sites,
        ("power_mw", "substation_id", "congestion_area_id", "headroom_mw"),
        "plan site table",
        hint="Give power_mw and the grid columns (run attach_grid on the sites first)",
    )
    energy = _site_energy_mwh(sites, energy_per_stop_mwh)
    power = sites["power_mw"].astype(float).to_numpy()
    bad = np.isnan(energy) | (energy < 0) | np.isnan(power) | (power < 0)
    if bad.any():
        sid = sites.index[np.flatnonzero(bad)[0]]
        msg = f"site '{sid}': power_mw and daily energy must be numbers >= 0"
        raise InputDataError(msg)
    for col, default in (("restricted_hours", ""), ("connection", "firm")):
        if col not in sites.columns:
            sites[col] = default
        sites[col] = sites[col].fillna(default).astype(str)
    sites["congestion_area_id"] = sites["congestion_area_id"].fillna("").astype(str)
    profile = (
        load_charging_profile() if hourly_profile is None else _normalise_profile(hourly_profile)
    )
    if battery_mwh < 0 or (battery_power_mw is not None and battery_power_mw < 0):
        msg = (
            f"battery_mwh and battery_power_mw must be >= 0, got {battery_mwh}, {battery_power_mw}"
        )
        raise InputDataError(msg)
    bat_p = battery_mwh if battery_power_mw is None else battery_power_mw
    load, unserved = site_hourly_load(energy, power, profile)
    out = []
    for key, layer in (("substation_id", substations), ("congestion_area_id", areas)):
        table = _group_table(sites, load, unserved, key, battery_mwh, bat_p)
        out.append(_with_geometry(table, key, sites, layer))
    return out[0], out[1]


def site_loads(
    plan_sites: pd.DataFrame,
    hourly_profile: np.ndarray | None = None,
    *,
    energy_per_stop_mwh: float | None = None,
) -> pd.DataFrame:
    """Hourly load (MW) of each site, as :func:`connection_load` adds it up.

    Returns
    -------
    DataFrame
        Index ``site_id``, columns 0–23 (hour of day).
    """
    sites = plan_sites.set_index("site_id") if "site_id" in plan_sites.columns else plan_sites
    energy = _site_energy_mwh(sites, energy_per_stop_mwh)
    profile = (
        load_charging_profile() if hourly_profile is None else _normalise_profile(hourly_profile)
    )
    load, _ = site_hourly_load(energy, sites["power_mw"].astype(float).to_numpy(), profile)
    return pd.DataFrame(load, index=sites.index.astype(str), columns=range(24))


def _with_geometry(
    table: pd.DataFrame, key: str, sites: pd.DataFrame, layer: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    geom = pd.Series([None] * len(table), index=table.index, dtype=object)
    if layer is not None and len(layer):
        ids = layer[key] if key in layer.columns else layer.index.to_series()
        lookup = dict(zip(ids.astype(str), layer.to_crs(CRS).geometry.values, strict=True))
        if key == "congestion_area_id" and "area_id" in layer.columns:
            lookup = dict(
                zip(layer["area_id"].astype(str), layer.to_crs(CRS).geometry.values, strict=True)
            )
        geom = table[key].astype(str).map(lookup)
    if isinstance(sites, gpd.GeoDataFrame) and sites.crs is not None:
        pts = sites.to_crs(CRS).geometry
        by = pts.groupby(sites[key].astype(str).to_numpy())
        fallback = {
            k: (
                shapely.centroid(shapely.multipoints(list(g.values)))
                if key == "substation_id"
                else shapely.convex_hull(shapely.multipoints(list(g.values)))
            )
            for k, g in by
        }
        geom = geom.where(geom.notna(), table[key].astype(str).map(fallback))
    return gpd.GeoDataFrame(table, geometry=list(geom.to_numpy()), crs=CRS)


def grid_load_writers(
    per_substation: gpd.GeoDataFrame, per_area: gpd.GeoDataFrame
) -> dict[str, Callable[[Path], object]]:
    """Writers of ``grid_load.csv`` and ``grid_load.geojson`` (for ``write_outputs``).

    Both hold the substation rows and the area rows, told apart by ``level`` (``substation`` /
    ``area``) and ``group_id``. Rows without a geometry are written with a null geometry.
    """
    frames = []
    for level, table, key in (
        ("substation", per_substation, "substation_id"),
        ("area", per_area, "congestion_area_id"),
    ):
        t = table.copy()
        t.insert(0, "group_id", t[key].astype(str))
        t.insert(0, "level", level)
        frames.append(t.drop(columns=[key]))
    both = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=CRS)
    return {
        "grid_load.csv": lambda p: pd.DataFrame(both.drop(columns="geometry")).to_csv(
            p, index=False
        ),
        "grid_load.geojson": lambda p: both.to_crs("EPSG:4326").to_file(p, driver="GeoJSON"),
    }


def write_grid_load(
    per_substation: gpd.GeoDataFrame, per_area: gpd.GeoDataFrame, out_dir: str | Path
) -> tuple[Path, Path]:
    """Write ``grid_load.csv`` and ``grid_load.geojson`` (WGS84) into ``out_dir``, all-or-nothing.

    See :func:`grid_load_writers`.
    """
    csv_path, gj_path = write_outputs(
        out_dir, grid_load_writers(per_substation, per_area), kind="grid_load"
    )
    return csv_path, gj_path


def _site_energy_mwh(sites: pd.DataFrame, energy_per_stop_mwh: float | None) -> np.ndarray:
    """Daily energy (MWh) per site: ``energy_mwh_per_day``, else stops × energy per stop."""
    if "energy_mwh_per_day" in sites.columns:
        return sites["energy_mwh_per_day"].astype(float).to_numpy()
    if "stops_per_day" in sites.columns and energy_per_stop_mwh is not None:
        return sites["stops_per_day"].astype(float).to_numpy() * energy_per_stop_mwh
    msg = "plan sites need energy_mwh_per_day, or stops_per_day with energy_per_stop_mwh"
    raise InputDataError(msg)
