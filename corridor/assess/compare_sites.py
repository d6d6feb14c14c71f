"""Hold a plan against a reference site list (an official programme, a competitor's list).

For every plan site: is there a reference site within ``within_km`` (straight-line distance),
and the reverse for every reference site. Counted overall and by country and road.

Reference files: CSV with ``lon``, ``lat`` (WGS84 degrees; read by
:func:`corridor._files.read_table`, any separator / decimal comma) or GeoJSON / GeoPackage
points (polygons count by a point on their surface); optional columns ``name``, ``country``
(ISO2) and ``road`` (or ``road_ref`` / ``ref``, e.g. "A 2").
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from corridor._files import read_table
from corridor._validate import GRAPH_CRS as CRS
from corridor._validate import require_columns
from corridor.errors import InputDataError
from corridor.optimise.instance import road_key

__all__ = [
    "SUMMARY_COLUMNS",
    "compare_sites",
    "plan_sites_frame",
    "read_reference_sites",
    "road_key",  # re-exported: the one spelling of road numbers (corridor.optimise.instance)
]

#: Columns of the by-country-and-road table.
SUMMARY_COLUMNS = (
    "country",
    "road",
    "plan_sites",
    "plan_sites_matched",
    "plan_share_matched",
    "reference_sites",
    "reference_sites_matched",
    "reference_share_matched",
)
_ROAD_COLUMNS = ("road", "road_ref", "ref")
_GEO_SUFFIXES = (".geojson", ".json", ".gpkg")


def read_reference_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read a reference site list (module docstring: formats and columns).

    Returns
    -------
    GeoDataFrame
        ``ref_id`` (the file's ``id``/``site_id`` column, else ``r<row>``), ``name``,
        ``country`` ("" if not given), ``road`` (:func:`road_key`), Point geometry in
        EPSG:3035.

    Raises
    ------
    InputDataError
        One line naming the file and, for a CSV, the line and column: unknown format, missing
        ``lon``/``lat`` columns, a coordinate that is not a number in range, no sites, a
        GeoPackage without CRS or a layer without point or polygon geometries.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    what = f"reference file {path}"
    if suffix == ".csv":
        df = read_table(
            path, "reference file", hint="a header with lon,lat (and name,country,road)"
        )
        lines = df.attrs.get("lines", list(range(2, len(df) + 2)))
        df = df.rename(columns={c: c.lower() for c in df.columns})
        require_columns(
            df,
            ("lon", "lat"),
            what,
            hint="Give WGS84 degrees in columns lon and lat (optional name, country, road)",
        )
        for col, lim in (("lon", 180.0), ("lat", 90.0)):
            val = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
            bad = ~np.isfinite(val) | (np.abs(val) > lim)
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                msg = (
                    f"{what}, line {lines[k]}, column {col}: expected degrees within ±{lim:g}, "
                    f"got {df[col].iloc[k]!r}"
                )
                raise InputDataError(msg)
        gdf = gpd.GeoDataFrame(
            df,
            geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)),
            crs="EPSG:4326",
        )
    elif suffix in _GEO_SUFFIXES:
        if not path.is_file():
            msg = f"{what} not found"
            raise InputDataError(msg)
        import pyogrio

        try:
            gdf = pyogrio.read_dataframe(path)
        except Exception as err:  # pyogrio raises several error types for unreadable files
            msg = f"cannot read {what}: {err}; expected GeoJSON or GeoPackage points"
            raise InputDataError(msg) from None
        if gdf.crs is None:
            if suffix == ".gpkg":
                msg = f"{what} has no CRS; set the layer's CRS (e.g. EPSG:4326) and retry"
                raise InputDataError(msg)
            gdf = gdf.set_crs("EPSG:4326")  # RFC 7946: GeoJSON is WGS84
        gdf.columns = [c.lower() if c != gdf.geometry.name else c for c in gdf.columns]
        kinds = gdf.geometry.geom_type.fillna("none")
        bad = ~kinds.isin(["Point", "MultiPoint", "Polygon", "MultiPolygon"])
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            msg = (
                f"{what}, feature {k}: geometry {kinds.iloc[k]}; expected points (or site polygons)"
            )
            raise InputDataError(msg)
        gdf = gdf.set_geometry(shapely.point_on_surface(gdf.geometry.values))
    else:
        msg = f"{what}: unknown format '{suffix}'; give a .csv (lon, lat), .geojson or .gpkg"
        raise InputDataError(msg)
    if len(gdf) == 0:
        msg = f"{what} holds no sites; expected one row or feature per site"
        raise InputDataError(msg)
    id_col = next((c for c in ("site_id", "id") if c in gdf.columns), None)
    road_col = next((c for c in _ROAD_COLUMNS if c in gdf.columns), None)
    out = gpd.GeoDataFrame(
        {
            "ref_id": (
                gdf[id_col].astype(str).to_numpy()
                if id_col
                else [f"r{i + 1}" for i in range(len(gdf))]
            ),
            "name": gdf["name"].fillna("").astype(str).to_numpy() if "name" in gdf else "",
            "country": (
                gdf["country"].fillna("").astype(str).str.upper().to_numpy()
                if "country" in gdf
                else ""
            ),
            "road": [road_key(r) for r in gdf[road_col]] if road_col else "",
        },
        geometry=gdf.geometry.to_crs(CRS).values,
        crs=CRS,
    )
    return out


_ROAD_IN_NAME = re.compile(r"\b([AEN]\s?\d+[a-z]?)\b")


def plan_sites_frame(doc_sites: list[dict]) -> gpd.GeoDataFrame:
    """Plan sites of a ``plan.json`` ``sites`` list as a GeoDataFrame for :func:`compare_sites`.

    The road is the site's ``road`` entry, else a road number in its name ("rest area on A 2
    near …"), else "".
    """
    df = pd.DataFrame(doc_sites)
    require_columns(df, ("site_id", "lon", "lat"), "plan sites")
    for col in ("name", "country", "road"):
        if col not in df.columns:
            df[col] = ""
    road = df["road"].map(road_key)
    from_name = df["name"].fillna("").astype(str).str.extract(_ROAD_IN_NAME)[0].map(road_key)
    road = road.where(road != "", from_name)
    return gpd.GeoDataFrame(
        {
            "site_id": df["site_id"].astype(str),
            "name": df["name"].fillna("").astype(str),
            "country": df["country"].fillna("").astype(str),
            "road": road.fillna(""),
        },
        geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)),
        crs="EPSG:4326",
    ).to_crs(CRS)


def _nearest(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index into ``b`` of each point of ``a``'s nearest and the distance (km)."""
    if len(b) == 0:
        return np.full(len(a), -1), np.full(len(a), np.inf)
    (ia, ib), dist = shapely.STRtree(b).query_nearest(a, return_distance=True, all_matches=False)
    j = np.full(len(a), -1)
    d = np.full(len(a), np.inf)
    j[ia], d[ia] = ib, dist / 1000.0
    return j, d


#: A reference list whose every site is farther than this (km) from the plan is refused.
FAR_KM = 1000.0


def compare_sites(
    plan: gpd.GeoDataFrame, reference: gpd.GeoDataFrame, within_km: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match plan sites and reference sites within ``within_km`` of each other, both ways.

    Parameters
    ----------
    plan
        Plan sites: ``site_id``, ``name``, ``country``, ``road``, Point geometry (EPSG:3035).
    reference
        Reference sites (:func:`read_reference_sites`): ``ref_id``, ``name``, ``country``,
        ``road``, Point geometry (EPSG:3035).
    within_km
        Largest straight-line distance (km) for a match.

    Returns
    -------
    (DataFrame, DataFrame)
        ``sites``: one row per plan site (``side = "plan"``) and per reference site
        (``side = "reference"``): ``id``, ``name``, ``country``, ``road``, ``lon``, ``lat``,
        ``nearest_id``, ``nearest_name``, ``nearest_km``, ``matched``.
        ``summary``: :data:`SUMMARY_COLUMNS` per country and road (a site counts under its own
        country and road), plus an ``all`` row.

    Raises
    ------
    InputDataError
        If ``within_km`` is not a positive number.
    """
    if not within_km > 0 or not np.isfinite(within_km):
        msg = f"--within-km must be a positive number of km, got {within_km}"
        raise InputDataError(msg)
    p_pts, r_pts = plan.geometry.values, reference.geometry.values
    jp, dp = _nearest(p_pts, r_pts)
    jr, dr = _nearest(r_pts, p_pts)
    if len(dr) and len(dp) and float(np.min(dr)) > FAR_KM:
        swapped = shapely.points(
            shapely.get_coordinates(gpd.GeoSeries(r_pts, crs=CRS).to_crs("EPSG:4326").values)[
                :, ::-1
            ]
        )
        _, d_swap = _nearest(gpd.GeoSeries(swapped, crs="EPSG:4326").to_crs(CRS).values, p_pts)
        hint = (
            ": are longitude and latitude swapped in the reference file? swapped, the nearest "
            f"is {float(np.min(d_swap)):,.0f} km away"
            if float(np.min(d_swap)) <= FAR_KM
            else ""
        )
        msg = (
            f"every reference site lies over {FAR_KM:,.0f} km from the plan's sites (the "
            f"nearest {float(np.min(dr)):,.0f} km){hint}"
        )
        raise InputDataError(msg)

    def side(frame, ids, other, other_ids, j, d, label):
        ll = gpd.GeoSeries(frame.geometry.values, crs=CRS).to_crs("EPSG:4326")
        ok = j >= 0
        return pd.DataFrame(
            {
                "side": label,
                "id": ids,
                "name": frame["name"].astype(str).to_numpy(),
                "country": frame["country"].astype(str).to_numpy(),
                "road": [road_key(r) for r in frame["road"]],
                "lon": ll.x.round(6).to_numpy(),
                "lat": ll.y.round(6).to_numpy(),
                "nearest_id": np.where(ok, np.asarray(other_ids, object)[np.maximum(j, 0)], ""),
                "nearest_name": np.where(
                    ok, other["name"].astype(str).to_numpy(object)[np.maximum(j, 0)], ""
                ),
                "nearest_km": np.round(d, 3),
                "matched": d <= within_km,
            }
        )

    sites = pd.concat(
        [
            side(
                plan,
                plan["site_id"].astype(str).to_numpy(),
                reference,
                reference["ref_id"],
                jp,
                dp,
                "plan",
            ),
            side(
                reference,
                reference["ref_id"].astype(str).to_numpy(),
                plan,
                plan["site_id"],
                jr,
                dr,
                "reference",
            ),
        ],
        ignore_index=True,
    )
    return sites, _summary(sites)


def _summary(sites: pd.DataFrame) -> pd.DataFrame:
    s = sites.assign(country=sites["country"].replace("", "?"), road=sites["road"].replace("", "?"))
    rows = []
    groups = [("all", "all", s)] + [
        (c, r, g) for (c, r), g in s.groupby(["country", "road"], sort=True)
    ]
    for country, road, g in groups:
        p, r = g[g["side"] == "plan"], g[g["side"] == "reference"]
        rows.append(
            {
                "country": country,
                "road": road,
                "plan_sites": len(p),
                "plan_sites_matched": int(p["matched"].sum()),
                "plan_share_matched": float(p["matched"].mean()) if len(p) else np.nan,
                "reference_sites": len(r),
                "reference_sites_matched": int(r["matched"].sum()),
                "reference_share_matched": float(r["matched"].mean()) if len(r) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
