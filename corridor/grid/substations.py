"""Substations from the shared OSM grid data, normalised to one GeoDataFrame.

Sources (``GridConfig.substation_sources``):

* ``de_substations``: eGon-data HV/MV substations of Germany (GPKG, EPSG:3035, voltage in V).
* ``<cc>_substations_2016`` (``nl``, ``de``, ``dk``, ``se``) or ``power_grid_osm2016`` (all four):
  the SciGRID/osm2016 ``highvoltage_vertices.csv`` per country (``#``-separated; ``typ``
  substation / sub_station / station / merge are kept, joints, plants and generators dropped). For
  the Netherlands the ``heuristic_vertices.csv`` (a superset with the 150/110 kV substations) is
  used when present.
* a file path: GPKG/GeoJSON with points, or CSV with lon/lat; optional ``substation_id``/``id``,
  ``name``, ``operator``, ``voltage_kv`` or ``voltage`` (V or kV), ``country``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from corridor._validate import GRAPH_CRS as CRS
from corridor._validate import require_columns
from corridor.catalogue import Catalogue
from corridor.config import GridConfig
from corridor.errors import InputDataError

__all__ = ["SUBSTATION_COLUMNS", "load_substations", "parse_voltage_kv"]

logger = logging.getLogger(__name__)

SUBSTATION_COLUMNS = ["name", "operator", "voltage_kv", "country", "source", "geometry"]
OSM2016_COUNTRIES = {"nl": "Netherlands", "de": "Germany", "dk": "Denmark", "se": "Sweden"}
OSM2016_KEEP = {"substation", "sub_station", "station", "merge"}


def parse_voltage_kv(values: pd.Series) -> pd.Series:
    """Highest voltage (kV) in strings like ``"110000;380000"`` or ``"110"`` (V or kV).

    Numbers above 1,000 are read as volts; non-numeric parts ("medium", "n/a") are ignored.
    Returns NaN where no number is found.
    """

    def one(text: object) -> float:
        nums = [float(t) for t in re.findall(r"\d+(?:\.\d+)?", str(text))]
        kv = [n / 1000.0 if n > 1000 else n for n in nums if n > 0]
        return max(kv) if kv else np.nan

    return values.map(one).astype(float)


def _normalise(
    df: pd.DataFrame, geometry: gpd.GeoSeries, ids: pd.Series, source: str
) -> gpd.GeoDataFrame:
    out = pd.DataFrame(index=pd.Index(ids.astype(str).to_numpy(), name="substation_id"))
    for col in ["name", "operator"]:
        vals = df[col] if col in df else pd.Series("", index=df.index)
        out[col] = vals.fillna("").astype(str).replace({"NA": "", "nan": ""}).to_numpy()
    out["voltage_kv"] = parse_voltage_kv(df["voltage"]).to_numpy() if "voltage" in df else np.nan
    out["country"] = df["country"].astype(str).to_numpy() if "country" in df else ""
    out["source"] = source
    gdf = gpd.GeoDataFrame(out, geometry=geometry.to_crs(CRS).to_numpy(), crs=CRS)
    gdf = gdf[~gdf.index.duplicated()]
    return gdf


def _read_egon(path: Path) -> gpd.GeoDataFrame:
    raw = pyogrio.read_dataframe(path)
    if raw.crs is None:
        msg = f"{path}: substation layer has no CRS (expected EPSG:3035)"
        raise InputDataError(msg)
    raw = raw.rename(columns={"subst_name": "name"})
    raw["country"] = "DE"
    ids = "de-egon-" + raw["osm_id"].astype(str)
    return _normalise(raw, raw.geometry, ids, "de_substations")


def _read_osm2016(folder: Path, cc: str) -> gpd.GeoDataFrame:
    country_dir = folder / OSM2016_COUNTRIES[cc]
    path = country_dir / "heuristic_vertices.csv"
    if not path.is_file():
        path = country_dir / "highvoltage_vertices.csv"
    if not path.is_file():
        msg = f"missing {path}: expected the osm2016 vertices of {OSM2016_COUNTRIES[cc]}"
        raise InputDataError(msg)
    raw = pd.read_csv(path, sep=None, engine="python")  # '#'-separated in the Zenodo files
    require_columns(raw, ("v_id", "lon", "lat", "typ"), f"substation vertices {path}")
    raw = raw[raw["typ"].isin(OSM2016_KEEP)].copy()
    raw["country"] = cc.upper()
    geom = gpd.GeoSeries(gpd.points_from_xy(raw["lon"], raw["lat"]), crs="EPSG:4326")
    geom.index = raw.index
    ids = f"{cc}-osm2016-" + raw["v_id"].astype(str)
    return _normalise(raw, geom, ids, f"{cc}_substations_2016")


def _read_user(path: Path) -> gpd.GeoDataFrame:
    if not path.is_file():
        msg = f"substation source {path} is neither a dataset key nor an existing file"
        raise InputDataError(msg)
    if path.suffix.lower() == ".csv":
        raw = pd.read_csv(path)
        if not {"lon", "lat"} <= set(raw.columns):
            msg = f"{path}: a substation CSV needs lon and lat columns (WGS84 degrees)"
            raise InputDataError(msg)
        geom = gpd.GeoSeries(gpd.points_from_xy(raw["lon"], raw["lat"]), crs="EPSG:4326")
    else:
        raw = pyogrio.read_dataframe(path)
        if raw.crs is None:
            msg = f"{path}: substation layer has no CRS; set one (e.g. EPSG:4326)"
            raise InputDataError(msg)
        geom = raw.geometry.representative_point()
    geom.index = raw.index
    if "voltage" not in raw and "voltage_kv" in raw:
        raw["voltage"] = raw["voltage_kv"]
    id_col = next((c for c in ("substation_id", "id") if c in raw), None)
    ids = raw[id_col].astype(str) if id_col else pd.Series(raw.index.astype(str), index=raw.index)
    return _normalise(raw, geom, f"user-{path.stem}-" + ids, f"file:{path.name}")


def load_substations(catalogue: Catalogue, config: GridConfig) -> gpd.GeoDataFrame:
    """Read the substation layers of ``config.substation_sources``.

    Returns
    -------
    GeoDataFrame
        Index ``substation_id`` (stable str, e.g. ``de-egon-n2138090713``, ``nl-osm2016-363``);
        columns ``name``, ``operator``, ``voltage_kv`` (highest voltage, float, NaN unknown),
        ``country`` (ISO2), ``source`` (dataset key), Point geometry in EPSG:3035.
    """
    parts = []
    for src in config.substation_sources:
        m = re.fullmatch(r"([a-z]{2})_substations_2016", src)
        if src == "de_substations":
            parts.append(_read_egon(catalogue.path("de_substations")))
        elif m and m.group(1) in OSM2016_COUNTRIES:
            parts.append(_read_osm2016(catalogue.path("power_grid_osm2016"), m.group(1)))
        elif src == "power_grid_osm2016":
            folder = catalogue.path("power_grid_osm2016")
            parts.extend(_read_osm2016(folder, cc) for cc in OSM2016_COUNTRIES)
        elif m:
            msg = f"no osm2016 substations for '{m.group(1)}'; known: " + ", ".join(
                f"{c}_substations_2016" for c in OSM2016_COUNTRIES
            )
            raise InputDataError(msg)
        else:
            parts.append(_read_user(Path(src)))
    if not parts:
        msg = "GridConfig.substation_sources is empty; name at least one substation layer"
        raise InputDataError(msg)
    subs = gpd.GeoDataFrame(pd.concat(parts), crs=CRS)
    subs = subs[~subs.index.duplicated() & subs.geometry.notna() & ~subs.geometry.is_empty]
    logger.info("substations: %s", subs["source"].value_counts().to_dict())
    return subs
