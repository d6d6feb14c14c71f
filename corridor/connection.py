"""Connection-load report for grid operators, from a scenario, a plan.json or a list of sites.

The library work is :func:`corridor.grid.connection_load`; this module only gathers its input
(planning a scenario first when given one) and writes ``grid_load.csv`` / ``grid_load.geojson``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from corridor.catalogue import Catalogue
from corridor.config import Scenario, load_scenario
from corridor.errors import InputDataError

__all__ = ["grid_report", "read_site_list"]

SITE_COLUMNS = ("site_id", "lon", "lat", "power_mw", "energy_mwh_per_day")


def read_site_list(path: Path) -> tuple[pd.DataFrame, str | None]:
    """Read the sites of a ``plan.json`` or a CSV (site_id, lon, lat, power_mw, energy_mwh_per_day).

    Returns
    -------
    (DataFrame, str or None)
        The sites and, for a plan.json, the scenario it was planned for.

    Raises
    ------
    InputDataError
        On a missing column, a non-numeric or negative MW/MWh, or a coordinate out of range (the
        message names the file and row).
    """
    path = Path(path)
    scenario_name = None
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            frame = pd.DataFrame(doc["sites"])
            scenario_name = doc.get("scenario")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            msg = f"{path}: not a corridor plan.json with a 'sites' list ({exc})"
            raise InputDataError(msg) from None
    else:
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            msg = f"{path}: cannot read the site list as CSV ({exc})"
            raise InputDataError(msg) from None
    missing = [c for c in SITE_COLUMNS if c not in frame.columns]
    if missing:
        msg = f"{path}: missing column(s) {missing}; expected {list(SITE_COLUMNS)}"
        raise InputDataError(msg)
    if frame.empty:
        msg = f"{path}: no sites"
        raise InputDataError(msg)
    for col in ("lon", "lat", "power_mw", "energy_mwh_per_day"):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | ((values < 0) if col in ("power_mw", "energy_mwh_per_day") else False)
        if col == "lon":
            bad |= values.abs() > 180
        if col == "lat":
            bad |= values.abs() > 90
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            kind = "non-negative number" if col in ("power_mw", "energy_mwh_per_day") else "degree"
            msg = f"{path}: row {row + 1}: {col}={frame[col].iloc[row]!r} is not a valid {kind}"
            raise InputDataError(msg)
        frame[col] = values
    frame["site_id"] = frame["site_id"].astype(str)
    return frame, scenario_name


def grid_report(
    source: str,
    catalogue: Catalogue,
    out_dir: Path,
    battery_mwh: float = 0.0,
    scenario: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, tuple[Path, Path]]:
    """Compute and write the connection load of a plan per substation and congestion area.

    Parameters
    ----------
    source
        A scenario (name or .toml: it is planned first), a ``plan.json`` or a CSV site list.
    catalogue
        Input data.
    out_dir
        Folder for ``grid_load.csv`` and ``grid_load.geojson``.
    battery_mwh
        Battery per site (MWh) whose peak shaving is reported.
    scenario
        Scenario whose grid settings apply to a plan.json / CSV (default: the plan's own, else
        the default scenario).
    progress
        Optional stage callback.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame, (Path, Path))
        Per-substation table, per-area table, written files.
    """
    from corridor.grid import (
        attach_grid,
        connection_load,
        default_congestion_areas,
        load_substations,
        write_grid_load,
    )

    tell = progress or (lambda _s: None)
    is_file = Path(source).suffix.lower() in (".json", ".csv")
    if is_file:
        sites, plan_scenario = read_site_list(Path(source))
        sc: Scenario = load_scenario(scenario or plan_scenario or "nl-de-bev-pilot")
    else:
        from corridor.workflows import run

        sc = load_scenario(source)
        result = run(sc, catalogue, progress=tell)
        chosen = result.sites.loc[list(result.plan.sites.index)]
        sites = pd.DataFrame(
            {
                "site_id": chosen.index.astype(str),
                "lon": chosen["lon"].to_numpy(),
                "lat": chosen["lat"].to_numpy(),
                "power_mw": result.plan.sites["power_mw"].to_numpy(),
                "energy_mwh_per_day": result.plan.sites["energy_mwh_per_day"].to_numpy(),
            }
        )
    tell("grid")
    points = gpd.GeoDataFrame(
        sites.set_index("site_id"),
        geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
        crs="EPSG:4326",
    ).to_crs(sc.network.crs)
    substations = load_substations(catalogue, sc.grid)
    areas = default_congestion_areas(catalogue)
    with_grid = attach_grid(points, substations, areas, sc.grid)
    per_sub, per_area = connection_load(
        with_grid, battery_mwh=battery_mwh, substations=substations, areas=areas
    )
    files = write_grid_load(per_sub, per_area, out_dir)
    return per_sub, per_area, files
