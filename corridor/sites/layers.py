"""Read candidate-site layers into one normalised, deduplicated GeoDataFrame.

Every layer is mapped to the same columns (see :data:`SITE_COLUMNS`) with a Point geometry in
EPSG:3035. Polygons become their representative point; their area is kept as ``area_m2``.
Overlapping features (the point and the polygon of the same area, or the same area in two layers)
are merged, keeping the richer attributes.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from corridor._validate import GRAPH_CRS as CRS
from corridor._validate import require_columns
from corridor.catalogue import CANDIDATE_LAYERS, DATASETS, Catalogue
from corridor.config import SitesConfig
from corridor.errors import InputDataError

__all__ = [
    "KIND_PRIORITY",
    "SITE_COLUMNS",
    "assign_country",
    "dedupe_sites",
    "load_candidate_layers",
    "read_hpc_register",
    "read_layer",
    "read_user_sites",
]

logger = logging.getLogger(__name__)


#: Columns of a normalised candidate layer (index ``site_id``).
SITE_COLUMNS = [
    "name",
    "kind",
    "country",
    "source",
    "osm_id",
    "truck_spots",
    "has_fuel",
    "has_charging",
    "area_m2",
    "road_ref",
    "existing_power_mw",
    "geometry",
]

#: Which kind wins when features of different kinds are merged (lower = stronger).
KIND_PRIORITY = {
    "service_area": 0,
    "rest_area": 1,
    "truck_parking": 2,
    "existing_hpc": 3,
    "fuel": 3,
    "user": 4,
    "generic_junction": 9,
}

#: site_type of the osm_poi_2021 layer → kind; other types (logistics sites, truck businesses,
#: maintenance depots, name hints of fuels) are not public stopping places and are dropped.
POI2021_KINDS = {
    "service_area": "service_area",
    "kw_service_area": "service_area",
    "rest_area": "rest_area",
    "parking_in_service_or_rest_area": "truck_parking",
    "parking_truck_named": "truck_parking",
    "fuel": "fuel",
    "shop_fuel": "fuel",
    "kw_fuel_station_name": "fuel",
}


def _empty_sites() -> gpd.GeoDataFrame:
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in SITE_COLUMNS if c != "geometry"})
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs=CRS))
    gdf.index = pd.Index([], name="site_id", dtype=object)
    return gdf


def _finish(gdf: gpd.GeoDataFrame, site_id: pd.Series, source: str) -> gpd.GeoDataFrame:
    """Normalise a layer: 3035 points, area, dtypes, index."""
    if gdf.crs is None:
        msg = f"candidate layer '{source}' has no CRS; set one (e.g. EPSG:4326) in the file"
        raise InputDataError(msg)
    gdf = gdf.to_crs(CRS)
    geom = gdf.geometry.values
    is_area = np.asarray(shapely.get_type_id(geom) >= 3)  # polygons / multipolygons
    area = np.where(is_area, shapely.area(geom), np.nan)
    if "area_m2" in gdf:
        area = np.where(np.isnan(area), pd.to_numeric(gdf["area_m2"], errors="coerce"), area)
    out = pd.DataFrame(index=pd.Index(site_id.astype(str).values, name="site_id"))
    for col in ["name", "kind", "country", "osm_id", "road_ref"]:
        vals = gdf[col] if col in gdf else pd.Series("", index=gdf.index)
        out[col] = vals.fillna("").astype(str).str.strip().values
    out["name"] = out["name"].replace({"Unnamed": "", "nan": "", "None": ""})
    out["source"] = source
    spots = gdf["truck_spots"] if "truck_spots" in gdf else pd.Series(np.nan, index=gdf.index)
    out["truck_spots"] = pd.to_numeric(spots, errors="coerce").astype(float).values
    for col in ["has_fuel", "has_charging"]:
        vals = gdf[col] if col in gdf else pd.Series(False, index=gdf.index)
        out[col] = _as_bool(vals).values
    out["area_m2"] = area
    power = gdf["existing_power_mw"] if "existing_power_mw" in gdf else pd.Series(np.nan, gdf.index)
    out["existing_power_mw"] = pd.to_numeric(power, errors="coerce").astype(float).values
    res = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geom, crs=CRS).values, crs=CRS)
    # keep the original shape for deduplication; the site itself is a representative point
    res["_shape"] = gpd.GeoSeries(geom, crs=CRS).values
    res = res.set_geometry(gpd.GeoSeries(shapely.point_on_surface(geom), crs=CRS).values)
    res = res[~res.geometry.is_empty & res.geometry.notna()]
    dup = res.index.duplicated()
    if dup.any():
        logger.info("%s: %d duplicate ids dropped", source, int(dup.sum()))
        res = res[~dup]
    return res


def _as_bool(vals: pd.Series) -> pd.Series:
    if vals.dtype == bool:
        return vals
    text = vals.astype(str).str.strip().str.lower()
    return text.isin(["1", "1.0", "true", "yes", "y"])


def _osm_id_from(text: pd.Series) -> pd.Series:
    """'osm_way_123', 'way/123', 'node/5' → 'way/123', 'node/5' ('' when not an OSM id)."""
    m = text.astype(str).str.extract(r"(node|way|relation)[/_](\d+)", expand=True)
    return (m[0] + "/" + m[1]).fillna("")


def _short_osm(osm_id: pd.Series) -> pd.Series:
    return osm_id.str.replace("/", "", regex=False).str.replace(
        r"^(node|way|relation)", lambda m: m.group(1)[0], regex=True
    )


def _read_nl_truck_parking(path: Path) -> gpd.GeoDataFrame:
    raw = pyogrio.read_dataframe(path)
    _require(raw, ["id", "is_truck_parking", "is_rest_area", "is_service_area"], path)
    gdf = raw.copy()
    gdf["kind"] = np.select(
        [gdf["is_service_area"].astype(bool), gdf["is_rest_area"].astype(bool)],
        ["service_area", "rest_area"],
        "truck_parking",
    )
    gdf["osm_id"] = _osm_id_from(gdf["id"])
    road = gdf.get("highway", pd.Series("", index=gdf.index)).fillna("")
    road = road.where(road.str.len() > 0, gdf.get("road", pd.Series("", index=gdf.index)))
    gdf["road_ref"] = road.fillna("").astype(str).str.extract(r"\b([AEN]\d+)\b")[0].fillna("")
    gdf["country"] = ""  # from location: the file holds border-Belgian and German sites too
    site_id = "nl-parking-osm-" + _short_osm(gdf["osm_id"])
    return _finish(gdf, site_id, "nl_truck_parking")


def _read_rest_stops(paths: list[Path]) -> gpd.GeoDataFrame:
    parts = []
    for path in paths:
        raw = pyogrio.read_dataframe(path)
        _require(raw, ["id", "feature_type"], path)
        gdf = raw.copy()
        gdf["kind"] = (
            gdf["feature_type"].map({"services": "service_area"}).fillna(gdf["feature_type"])
        )
        gdf["osm_id"] = _osm_id_from(gdf["id"])
        gdf["road_ref"] = gdf.get("motorway_ref", "")
        gdf["has_fuel"] = gdf.get("fuel", False)
        cc = gdf["country"].fillna("").astype(str).str.lower()
        site_id = cc + "-reststop-osm-" + _short_osm(gdf["osm_id"])
        parts.append(_finish(gdf, site_id, "rest_stops_sample"))
    return _concat(parts)


def _read_poi2021(paths: list[Path]) -> gpd.GeoDataFrame:
    parts = []
    for path in paths:
        raw = pyogrio.read_dataframe(path)
        _require(raw, ["id", "site_type"], path)
        gdf = raw[raw["site_type"].isin(POI2021_KINDS)].copy()
        gdf["kind"] = gdf["site_type"].map(POI2021_KINDS)
        gdf["has_fuel"] = (gdf["kind"] == "fuel") | gdf.get("fuel_hint", pd.Series()).notna()
        gdf["road_ref"] = gdf.get("nearest_motorway_ref", "")
        gdf["osm_id"] = ""
        cc, _, tail = gdf["id"].astype(str).str.partition("-").T.values
        site_id = pd.Series(cc, index=gdf.index).str.lower() + "-poi2021-" + tail
        parts.append(_finish(gdf, site_id, "osm_poi_2021"))
    return _concat(parts)


#: Attribution the Bundesnetzagentur asks for (CC BY 4.0).
BNETZA_CREDIT = "Quelle: Bundesnetzagentur, Ladesäulenregister (CC BY 4.0)"


def read_hpc_register(paths: list[Path]) -> gpd.GeoDataFrame:
    """Read the Bundesnetzagentur register of public chargers >= 150 kW as ``existing_hpc`` sites.

    Devices at the same coordinates are one site: ``existing_power_mw`` is the sum of their
    connection power (``power_kw`` / 1000), ``name`` the ``street`` (often the rest area, e.g.
    "Raststätte Ellund-West") and ``city``; ``has_charging`` is true. These are car
    fast-charging sites: they show where a high-power grid connection already exists (a known
    connection power, cheaper to extend), not truck (MCS) sites.

    Parameters
    ----------
    paths
        GeoJSON files with columns ``street``, ``city``, ``power_kw`` (points, any CRS).

    Returns
    -------
    GeoDataFrame
        Normalised like every candidate layer (:data:`SITE_COLUMNS`), index
        ``de-bnetza-<hash of the position>``, source ``existing_charging``.

    Raises
    ------
    InputDataError
        If a file lacks ``street``, ``city`` or ``power_kw``, or ``power_kw`` is not a number.
    """
    parts = []
    for path in paths:
        raw = pyogrio.read_dataframe(path)
        _require(raw, ["street", "city", "power_kw"], path)
        kw = pd.to_numeric(raw["power_kw"], errors="coerce")
        if kw.isna().any():
            row = int(np.flatnonzero(kw.isna().to_numpy())[0])
            msg = (
                f"{path}, row {row}: power_kw must be a number (kW), got "
                f"{raw['power_kw'].iloc[row]!r}; fix or drop the row"
            )
            raise InputDataError(msg)
        ll = raw.to_crs("EPSG:4326").geometry
        key = ll.x.round(6).astype(str) + "," + ll.y.round(6).astype(str)
        raw = raw.assign(_key=key, _kw=kw)
        g = raw.groupby("_key", sort=True)
        first = g.head(1).set_index("_key")
        street = first["street"].fillna("").astype(str).str.strip()
        city = first["city"].fillna("").astype(str).str.strip()
        name = street.where((city == "") | (city == street), street + ", " + city).str.strip(", ")
        gdf = gpd.GeoDataFrame(
            {
                "name": name.to_numpy(),
                "kind": "existing_hpc",
                "country": "DE" if Path(path).name.startswith("DE_") else "",
                "has_charging": True,
                "existing_power_mw": (g["_kw"].sum() / 1000.0).reindex(first.index).to_numpy(),
            },
            geometry=first.geometry.to_numpy(),
            crs=raw.crs,
        )
        site_id = pd.Series(
            [
                "de-bnetza-" + hashlib.sha1(k.encode()).hexdigest()[:10]
                for k in first.index.astype(str)
            ]
        )
        parts.append(_finish(gdf, site_id, "existing_charging"))
    return _concat(parts)


def _require(df: pd.DataFrame, cols: list[str], path: Path) -> None:
    require_columns(df, cols, f"candidate layer {path}", hint="Is this the right candidate layer?")


def _concat(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_sites()
    return gpd.GeoDataFrame(pd.concat(parts), crs=CRS)


def read_user_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read a user-supplied candidate file (GeoJSON, GPKG or CSV with lon/lat).

    Optional columns: ``site_id`` or ``id``, ``name``, ``kind`` (default ``user``), ``country``,
    ``osm_id``, ``truck_spots``, ``has_fuel``, ``has_charging``. Without an id column the id is a
    hash of the coordinates (stable across row order).

    Raises
    ------
    InputDataError
        Missing file, unknown format, missing CRS (GPKG/shapefile) or lon/lat columns.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"candidate file {path} does not exist (sources entries are dataset keys or paths)"
        raise InputDataError(msg)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(path)
        cols = {c.lower(): c for c in df.columns}
        lon = next((cols[c] for c in ("lon", "lng", "longitude", "x") if c in cols), None)
        lat = next((cols[c] for c in ("lat", "latitude", "y") if c in cols), None)
        if lon is None or lat is None:
            msg = f"{path}: a CSV of candidate sites needs lon and lat columns (WGS84 degrees)"
            raise InputDataError(msg)
        x = pd.to_numeric(df[lon], errors="coerce")
        y = pd.to_numeric(df[lat], errors="coerce")
        bad = x.isna() | y.isna() | ~x.between(-180, 180) | ~y.between(-90, 90)
        if bad.any():
            row = int(np.flatnonzero(bad.values)[0]) + 2  # 1-based, after the header
            got = df.iloc[row - 2][[lon, lat]].tolist()
            msg = f"{path}, line {row}: lon/lat must be numbers in degrees, got {got}"
            raise InputDataError(msg)
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    elif suffix in (".geojson", ".json", ".gpkg", ".shp", ".fgb"):
        gdf = pyogrio.read_dataframe(path)
        if gdf.crs is None:
            if suffix in (".geojson", ".json"):
                gdf = gdf.set_crs("EPSG:4326")  # RFC 7946: GeoJSON is WGS84
            else:
                msg = f"{path}: no CRS; set the layer's CRS (e.g. EPSG:4326) and retry"
                raise InputDataError(msg)
    else:
        msg = f"{path}: unknown candidate format '{suffix}' (use .geojson, .gpkg or .csv)"
        raise InputDataError(msg)
    gdf = gdf.copy()
    if "kind" not in gdf:
        gdf["kind"] = "user"
    gdf["kind"] = gdf["kind"].fillna("user")
    id_col = next((c for c in ("site_id", "id") if c in gdf), None)
    stem = path.stem.lower().replace(" ", "_")
    if id_col is not None:
        ids = gdf[id_col].astype(str)
    else:
        ll = gdf.geometry.to_crs("EPSG:4326").representative_point()
        ids = pd.Series(
            [hashlib.sha1(f"{p.x:.6f},{p.y:.6f}".encode()).hexdigest()[:10] for p in ll.values],
            index=gdf.index,
        )
    if "osm_id" in gdf:
        gdf["osm_id"] = _osm_id_from(gdf["osm_id"])
    return _finish(gdf, "user-" + stem + "-" + ids, f"file:{path.name}")


def read_layer(catalogue: Catalogue, source: str) -> gpd.GeoDataFrame:
    """Read one candidate source: a catalogue key or a file path, normalised (not deduplicated)."""
    if source == "nl_truck_parking":
        return _read_nl_truck_parking(catalogue.path(source))
    if source == "rest_stops_sample":
        return _read_rest_stops(catalogue.paths(source))
    if source == "osm_poi_2021":
        return _read_poi2021(catalogue.paths(source))
    if source == "existing_charging":
        return read_hpc_register(catalogue.paths(source))
    if source in DATASETS:
        msg = (
            f"dataset '{source}' is not a candidate layer; use {', '.join(CANDIDATE_LAYERS)} "
            "or a file path"
        )
        raise InputDataError(msg)
    return read_user_sites(source)


def assign_country(sites: gpd.GeoDataFrame, catalogue: Catalogue) -> pd.Series:
    """ISO2 country of each site: the data's own value, else the NUTS-0 region it lies in.

    Points just off the 1:60M coastline take the nearest country within 20 km; "" otherwise.
    """
    country = sites["country"].fillna("").astype(str).str.upper()
    todo = country.str.len() != 2
    if todo.any():
        nuts_path = next(p for p in catalogue.paths("nuts") if p.stem.endswith("LEVL_0"))
        nuts = pyogrio.read_dataframe(nuts_path, columns=["CNTR_CODE"]).to_crs(CRS)
        pts = sites.loc[todo, ["geometry"]]
        hit = gpd.sjoin_nearest(pts, nuts, how="left", max_distance=20_000)
        hit = hit[~hit.index.duplicated()]
        cc = hit["CNTR_CODE"].fillna("").astype(str)
        country.loc[todo] = cc.replace({"EL": "GR", "UK": "GB"}).reindex(pts.index).values
    return country


def _richness(sites: pd.DataFrame) -> np.ndarray:
    """How much a feature tells us (higher = richer); ties broken by stronger kind."""
    score = (
        sites["name"].str.len().gt(0).astype(int)
        + sites["osm_id"].str.len().gt(0).astype(int)
        + sites["truck_spots"].notna().astype(int) * 2
        + sites["area_m2"].notna().astype(int) * 2
        + sites["has_fuel"].astype(int)
        + sites["has_charging"].astype(int)
    )
    kind_bonus = 1 - sites["kind"].map(KIND_PRIORITY).fillna(5) / 10
    return (score + kind_bonus).to_numpy(float)


def dedupe_sites(sites: gpd.GeoDataFrame, dedupe_m: float) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Merge features that are the same place, keeping the richer attributes.

    Pairs merged (all within ``dedupe_m`` of each other): the same OSM id; a point and the nearest
    area (polygon) to it; two areas overlapping by half of the smaller one; two points from
    different sources that are each other's nearest (points inside an area are matched to the area
    only). Distinct areas of one layer are never merged: the two carriageways' service areas of one
    motorway are separate sites.

    Returns
    -------
    (GeoDataFrame, DataFrame)
        The merged sites (index ``site_id`` of the richest member) and the dropped members with
        ``site_id``, ``merged_into``, ``source``, ``reason``.
    """
    if len(sites) == 0:
        return sites.drop(columns="_shape", errors="ignore"), pd.DataFrame(
            columns=["site_id", "merged_into", "source", "reason"]
        )
    n = len(sites)
    shape = sites["_shape"].values if "_shape" in sites else sites.geometry.values
    is_area = np.asarray(shapely.get_type_id(shape) >= 3)
    tree = shapely.STRtree(shape)
    left, right = tree.query(shape, predicate="dwithin", distance=dedupe_m)
    keep = left < right
    i, j = left[keep], right[keep]
    dist = shapely.distance(shape[i], shape[j])
    osm = sites["osm_id"].to_numpy(str)
    src = sites["source"].to_numpy(str)
    same_osm = (osm[i] != "") & (osm[i] == osm[j])
    # point ↔ nearest area
    pa = is_area[i] ^ is_area[j]
    pt = np.where(is_area[i], j, i)
    ar = np.where(is_area[i], i, j)
    pairs = pd.DataFrame({"pt": pt[pa], "ar": ar[pa], "d": dist[pa]})
    nearest_area = pairs.sort_values(["pt", "d"]).drop_duplicates("pt")
    point_area = set(zip(nearest_area["pt"], nearest_area["ar"], strict=True))
    is_pa = np.array([(a, b) in point_area for a, b in zip(pt, ar, strict=True)], bool) & pa
    # area ↔ area overlapping (different sources only)
    aa = is_area[i] & is_area[j] & (src[i] != src[j])
    overlap = np.zeros(len(i), bool)
    if aa.any():
        inter = shapely.area(shapely.intersection(shape[i[aa]], shape[j[aa]]))
        smaller = np.minimum(shapely.area(shape[i[aa]]), shapely.area(shape[j[aa]]))
        overlap[aa] = inter >= 0.5 * smaller
    # point ↔ point: mutual nearest from different sources, both not already matched to an area
    pp = ~is_area[i] & ~is_area[j] & (src[i] != src[j])
    matched = np.zeros(n, bool)
    matched[nearest_area["pt"].to_numpy(int)] = True
    pp &= ~matched[i] & ~matched[j]
    mutual = np.zeros(len(i), bool)
    if pp.any():
        q = pd.DataFrame(
            {"a": np.r_[i[pp], j[pp]], "b": np.r_[j[pp], i[pp]], "d": np.r_[dist[pp], dist[pp]]}
        )
        best = q.sort_values(["a", "d"]).drop_duplicates("a").set_index("a")["b"]
        ii, jj = i[pp], j[pp]
        ok = (best.reindex(ii).to_numpy() == jj) & (best.reindex(jj).to_numpy() == ii)
        mutual[np.flatnonzero(pp)[ok]] = True
    link = same_osm | is_pa | overlap | mutual
    adj = coo_array((np.ones(int(link.sum())), (i[link], j[link])), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    df = sites.drop(columns="_shape", errors="ignore").copy()
    df["_comp"] = comp
    # the surviving id and location: an area (exact extent) first, then the richest feature
    df["_area"] = is_area
    df["_rich"] = _richness(df)
    df["_kindp"] = df["kind"].map(KIND_PRIORITY).fillna(5)
    df = df.sort_values(["_comp", "_area", "_rich"], ascending=[True, False, False], kind="stable")
    g = df.groupby("_comp", sort=False)
    head = g.head(1)
    merged = head.copy()
    first_text = lambda s: next((v for v in s if v), "")  # noqa: E731
    comp_idx = head["_comp"].to_numpy()
    for col in ["name", "osm_id", "road_ref", "country"]:
        merged[col] = g[col].agg(first_text).reindex(comp_idx).to_numpy()
    merged["truck_spots"] = g["truck_spots"].max().reindex(comp_idx).to_numpy()
    merged["area_m2"] = g["area_m2"].max().reindex(comp_idx).to_numpy()
    if "existing_power_mw" in df:
        merged["existing_power_mw"] = g["existing_power_mw"].max().reindex(comp_idx).to_numpy()
    merged["has_fuel"] = g["has_fuel"].any().reindex(comp_idx).to_numpy()
    merged["has_charging"] = g["has_charging"].any().reindex(comp_idx).to_numpy()
    kinds = df.sort_values(["_comp", "_kindp"]).groupby("_comp")["kind"].first()
    merged["kind"] = kinds.reindex(comp_idx).to_numpy()
    srcs = g["source"].agg(lambda s: ";".join(dict.fromkeys(s))).reindex(comp_idx)
    merged["source"] = srcs.to_numpy()
    rest = df[~df.index.isin(head.index)]
    dropped = pd.DataFrame(
        {
            "site_id": rest.index.to_numpy(),
            "merged_into": head.reset_index()
            .set_index("_comp")["site_id"]
            .reindex(rest["_comp"])
            .to_numpy(),
            "source": rest["source"].to_numpy(),
            "reason": f"duplicate of another feature within {dedupe_m:g} m (merged)",
        }
    )
    merged = merged.drop(columns=["_comp", "_area", "_rich", "_kindp"]).sort_index()
    return gpd.GeoDataFrame(merged, crs=CRS), dropped


def _load(catalogue: Catalogue, config: SitesConfig) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    layers = [read_layer(catalogue, s) for s in config.sources]
    allsites = _concat(layers)
    if "_shape" not in allsites:
        allsites["_shape"] = allsites.geometry.values
    allsites["country"] = assign_country(allsites, catalogue).to_numpy()
    allsites = allsites[~allsites.index.duplicated()]
    merged, dropped = dedupe_sites(allsites, config.dedupe_m)
    outside = ~merged["country"].isin(config.countries)
    other_kind = ~outside & ~merged["kind"].isin(config.kinds)
    out = pd.DataFrame(
        {
            "site_id": merged.index[outside | other_kind].to_numpy(),
            "merged_into": "",
            "source": merged.loc[outside | other_kind, "source"].to_numpy(),
            "reason": [
                f"country '{c or '?'}' not in {list(config.countries)}"
                if o
                else f"kind '{k}' not in {list(config.kinds)}"
                for c, k, o in zip(
                    merged.loc[outside | other_kind, "country"],
                    merged.loc[outside | other_kind, "kind"],
                    outside[outside | other_kind],
                    strict=True,
                )
            ],
        }
    )
    kept = merged[~(outside | other_kind)]
    logger.info(
        "candidates: %d features read, %d merged as duplicates, %d outside %s, %d kept",
        len(allsites),
        len(dropped),
        int(outside.sum()),
        config.countries,
        len(kept),
    )
    return kept, pd.concat([dropped, out], ignore_index=True)


def load_candidate_layers(catalogue: Catalogue, config: SitesConfig) -> gpd.GeoDataFrame:
    """Read, normalise and deduplicate the candidate layers named in ``config.sources``.

    Parameters
    ----------
    catalogue
        Where the shared data lives.
    config
        ``sources`` (catalogue keys ``nl_truck_parking``, ``rest_stops_sample``, ``osm_poi_2021``
        or file paths), ``countries``, ``dedupe_m``.

    Returns
    -------
    GeoDataFrame
        Index ``site_id`` (stable str); columns ``name``, ``kind``, ``country`` (ISO2),
        ``source`` (dataset key(s), ``;``-joined when merged), ``osm_id`` ("" if none),
        ``truck_spots`` (float, NaN if unknown), ``has_fuel``, ``has_charging`` (bool),
        ``area_m2`` (float, NaN for points), ``road_ref`` (e.g. "A1" or ""), Point geometry in
        EPSG:3035. ``attrs["dropped"]`` holds the merged/out-of-country features with reasons.
    """
    kept, dropped = _load(catalogue, config)
    kept.attrs["dropped"] = dropped
    return kept
