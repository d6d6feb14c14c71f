"""Congestion areas and grid operators' capacity tables.

Default layer
-------------
:func:`default_congestion_areas` ships the Netherlands at province level (NUTS-2) from dated,
sourced public statements (``corridor/data/grid/nl_congestion_provinces.csv``); regions of the other
countries asked for are NUTS-2 polygons with status ``unknown``.

Capacity table format (for grid operators)
------------------------------------------
A CSV or a GeoJSON/GPKG read by :func:`read_capacity_table`. One row per supply area or per
substation. Columns (names are case-sensitive; all MW values >= 0):

``area_id``
    Id of a supply area (``voedingsgebied``). In a CSV it must be an id of the known areas
    (e.g. ``nl-prov-NL41`` of the default layer); in a GeoJSON/GPKG the row's polygon is the area.
``substation_id``
    Instead of ``area_id``: id of a known substation (see ``load_substations``), or
``lon``, ``lat``
    a new substation point (WGS84 degrees), with an optional ``substation_id`` to name it.
``status``
    Optional: ``available``, ``limited``, ``congested`` or ``unknown``. Default: ``congested``
    when ``queue_mw >= offtake_capacity_mw``, else ``available``.
``offtake_capacity_mw``
    Offtake capacity still available (MW), optional.
``queue_mw``
    Offtake requested / on the waiting list (MW), optional (0 when empty).
``restricted_hours``
    Hours in which offtake is restricted for non-firm contracts, e.g. ``6-9,16-21`` (start-end,
    end exclusive, 0-24; ``22-6`` wraps midnight). Optional.
``name``, ``source``, ``source_date``
    Optional text. Rows without ``source`` get the file name.

Other layouts and units (:mod:`corridor.grid.formats`): the Dutch capacity map's supply-area
table (``voedingsgebied``; Dutch column names, ``;``-separated, decimal comma, MW) joined by id to
area polygons (:func:`read_area_polygons`, the scenario's ``grid.capacity_areas``), German
operators' ``Netzanschlusskapazität`` per ``Umspannwerk`` (MW or kW), and quantities in kW
(``_kw`` / ``(kW)`` suffixes or a ``unit`` column), converted to MW. CSVs are read with
:func:`corridor._files.read_table` (encoding, separator and decimal mark detected).

Errors name the file, the line (CSV, header = line 1) or feature (GeoJSON, from 1) and the
column as written in the file: unknown columns (with the known ones), unknown area or substation
ids, negative, non-finite or non-numeric MW, a quantity without a unit, bad hours, overlapping
area polygons and layers without CRS. :func:`load_capacity_tables` applies several tables (one
per operator) in order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from corridor._files import DATA_DIR
from corridor._validate import GRAPH_CRS as CRS
from corridor.catalogue import Catalogue
from corridor.errors import InputDataError
from corridor.grid.formats import canonical_columns, read_table_file
from corridor.grid.hours import format_hours, parse_hours

__all__ = [
    "AREA_COLUMNS",
    "DEFAULT_AREAS_CSV",
    "STATUSES",
    "apply_capacity_table",
    "apply_germany_assumption",
    "default_congestion_areas",
    "format_hours",
    "load_capacity_tables",
    "parse_hours",
    "read_area_polygons",
    "read_capacity_table",
]

STATUSES = ("available", "limited", "congested", "unknown")
#: Other names of a supply area's id column in area-polygon layers.
AREA_ID_ALIASES = ("voedingsgebied_id", "gebied_id", "id")
DEFAULT_AREAS_CSV = DATA_DIR / "grid" / "nl_congestion_provinces.csv"
AREA_COLUMNS = [
    "area_id",
    "name",
    "country",
    "status",
    "restricted_hours",
    "available_mw",
    "requested_mw",
    "source",
    "source_date",
    "priority",
    "geometry",
]


def _nuts2(catalogue: Catalogue) -> gpd.GeoDataFrame:
    path = next((p for p in catalogue.paths("nuts") if p.stem.endswith("LEVL_2")), None)
    if path is None:
        msg = "NUTS level-2 boundaries (NUTS_RG_60M_2021_4326_LEVL_2.geojson) are missing"
        raise InputDataError(msg)
    nuts = pyogrio.read_dataframe(path, columns=["NUTS_ID", "CNTR_CODE", "NAME_LATN"])
    return nuts.to_crs(CRS)


def default_congestion_areas(
    catalogue: Catalogue | None = None,
    countries: tuple[str, ...] = ("NL", "DE", "BE", "DK", "SE"),
) -> gpd.GeoDataFrame:
    """Load the shipped congestion layer: NL provinces with their public status; others unknown.

    Parameters
    ----------
    catalogue
        Where the NUTS boundaries are (default: :meth:`Catalogue.from_env`).
    countries
        ISO2 countries whose NUTS-2 regions are included (non-NL ones with status ``unknown``).

    Returns
    -------
    GeoDataFrame
        Index ``area_id``; columns of :data:`AREA_COLUMNS` (``priority`` 0: operators' tables
        take precedence), MultiPolygons in EPSG:3035.
    """
    catalogue = catalogue or Catalogue.from_env()
    nuts = _nuts2(catalogue)
    table = pd.read_csv(DEFAULT_AREAS_CSV, dtype={"source_date": str})
    nl = nuts.merge(table, left_on="NUTS_ID", right_on="nuts_id", how="inner")
    missing = set(table["nuts_id"]) - set(nl["NUTS_ID"])
    if missing:
        msg = f"{DEFAULT_AREAS_CSV}: NUTS ids {sorted(missing)} not in the NUTS-2 boundaries"
        raise InputDataError(msg)
    nl = nl.assign(name=nl["province"], country="NL")
    other = nuts[nuts["CNTR_CODE"].isin([c for c in countries if c != "NL"])]
    other = other.assign(
        area_id=lambda d: d["CNTR_CODE"].str.lower() + "-nuts2-" + d["NUTS_ID"],
        name=other["NAME_LATN"],
        country=other["CNTR_CODE"].replace({"EL": "GR"}),
        status="unknown",
        restricted_hours="",
        available_mw=np.nan,
        requested_mw=np.nan,
        source="no public congestion data offline; NUTS-2 region (Eurostat GISCO 2021)",
        source_date="",
    )
    out = pd.concat([nl, other] if "NL" in countries else [other], ignore_index=True)
    out["priority"] = 0
    out["restricted_hours"] = out["restricted_hours"].fillna("")
    gdf = gpd.GeoDataFrame(out[AREA_COLUMNS], geometry="geometry", crs=CRS)
    return gdf.set_index("area_id", drop=False).rename_axis(None)


def _read_layer(path: Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON/GPKG layer and check that its CRS fits its coordinates."""
    try:
        raw = pyogrio.read_dataframe(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError / DataLayerError
        msg = f"{path}: cannot read the layer ({exc})"
        raise InputDataError(msg) from None
    if raw.crs is None:
        msg = f"{path}: no CRS; declare the layer's CRS (e.g. EPSG:4326 or EPSG:3035)"
        raise InputDataError(msg)
    if raw.crs.is_geographic and len(raw):
        x0, y0, x1, y1 = raw.total_bounds
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            msg = (
                f"{path}: coordinates ({x0:.0f}, {y0:.0f}) are not degrees, so the layer has "
                "no (or a wrong) CRS; add a 'crs' member (e.g. EPSG:3035) and retry"
            )
            raise InputDataError(msg)
    return raw


def _where(path: Path, is_csv: bool, i: int) -> str:
    return f"{path}, line {i + 2}" if is_csv else f"{path}, feature {i + 1}"


def read_capacity_table(
    path: str | Path,
    areas: gpd.GeoDataFrame | None = None,
    substations: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Read a grid operator's capacity table (format: see the module docstring).

    Parameters
    ----------
    path
        CSV, GeoJSON or GPKG.
    areas
        Known areas (index or column ``area_id``) to resolve CSV ``area_id`` rows.
    substations
        Known substations (index ``substation_id``) to resolve ``substation_id`` rows.

    Returns
    -------
    GeoDataFrame
        One row per table row: ``level`` ("area" or "substation"), ``area_id``,
        ``substation_id``, ``name``, ``status``, ``offtake_capacity_mw``, ``queue_mw``,
        ``restricted_hours``, ``source``, ``source_date``; polygon (area) or point (substation)
        geometry in EPSG:3035.

    Raises
    ------
    InputDataError
        Naming the file and row: unknown ids, negative MW, bad hours or status, overlapping areas,
        missing CRS.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"capacity table {path} does not exist"
        raise InputDataError(msg)
    is_csv = path.suffix.lower() == ".csv"
    decimal, first, lines = ".", 2, []
    if is_csv:
        df, decimal = read_table_file(path)
        lines = list(df.attrs.get("lines", []))
        geom = gpd.GeoSeries([None] * len(df), crs=CRS)
    elif path.suffix.lower() in (".geojson", ".json", ".gpkg"):
        raw = _read_layer(path)
        df = pd.DataFrame(raw.drop(columns="geometry"))
        geom = raw.geometry.to_crs(CRS).reset_index(drop=True)
    else:
        msg = f"{path}: unknown capacity table format (use .csv, .geojson or .gpkg)"
        raise InputDataError(msg)
    df = df.reset_index(drop=True)
    if df.empty:
        msg = f"{path}: the capacity table has no rows"
        raise InputDataError(msg)

    def where(i: int) -> str:
        if is_csv:
            return f"{path}, line {lines[i] if i < len(lines) else i + first}"
        return f"{path}, feature {i + 1}"

    df = canonical_columns(df, path, where, decimal)
    cols = df.attrs["columns"]
    for col in ("offtake_capacity_mw", "queue_mw"):
        if col not in df:
            df[col] = np.nan
    for col in ("area_id", "substation_id", "name", "source", "source_date", "restricted_hours"):
        df[col] = df[col].astype(object).fillna("").astype(str).str.strip() if col in df else ""
    df["source"] = df["source"].where(df["source"] != "", path.name)
    for i, text in enumerate(df["restricted_hours"]):
        try:
            parse_hours(text, "restricted hours")
        except ValueError as exc:
            raise InputDataError(f"{where(i)}, column {cols['restricted_hours']}: {exc}") from None
    if "status" in df:
        status = df["status"].fillna("").astype(str).str.strip().str.lower()
    else:
        status = pd.Series("", index=df.index)
    bad = ~status.isin([*STATUSES, ""])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        msg = (
            f"{where(i)}, column {cols['status']}: status must be one of {STATUSES}, got "
            f"{status.iloc[i]!r}"
        )
        raise InputDataError(msg)
    spare = df["offtake_capacity_mw"] - df["queue_mw"].fillna(0)
    derived = np.where(spare.isna(), "unknown", np.where(spare <= 0, "congested", "available"))
    df["status"] = status.where(status != "", derived)

    has_geom = geom.notna() & ~geom.is_empty if not is_csv else pd.Series(False, index=df.index)
    is_area = (df["area_id"] != "") | (has_geom & (shapely.get_type_id(geom.values) >= 3))
    has_ll = {"lon", "lat"} <= set(df.columns)
    level = np.where(is_area, "area", "substation")
    geoms = list(geom.values)
    known_areas = _ids(areas, "area_id")
    known_subs = _ids(substations, "substation_id")
    for i in range(len(df)):
        if level[i] == "area":
            if geoms[i] is None or geoms[i].is_empty:
                aid = df["area_id"].iloc[i]
                if aid not in known_areas:
                    hint = ", ".join(sorted(known_areas)[:8]) or "none given"
                    msg = (
                        f"{where(i)}, column {cols.get('area_id', 'area_id')}: unknown area_id "
                        f"'{aid}'; known ids e.g. {hint}. Give the area's polygon in a GeoJSON, "
                        "the area polygons (capacity_areas) or use an id of the known areas"
                    )
                    raise InputDataError(msg)
                geoms[i] = known_areas[aid]
            elif df["area_id"].iloc[i] == "":
                msg = f"{where(i)}: an area polygon needs an area_id"
                raise InputDataError(msg)
        else:
            sid = df["substation_id"].iloc[i]
            if geoms[i] is not None and not geoms[i].is_empty:
                if sid == "":
                    msg = f"{where(i)}: a substation point needs a substation_id"
                    raise InputDataError(msg)
            elif has_ll and pd.notna(df["lon"].iloc[i]) and pd.notna(df["lat"].iloc[i]):
                pt = gpd.GeoSeries(
                    gpd.points_from_xy([df["lon"].iloc[i]], [df["lat"].iloc[i]]), crs="EPSG:4326"
                ).to_crs(CRS)
                geoms[i] = pt.iloc[0]
                if sid == "":
                    name = df["name"].iloc[i]
                    sid = name if name else f"user-{path.stem}-{i + 1}"
                    df.loc[i, "substation_id"] = sid
            elif sid in known_subs:
                geoms[i] = known_subs[sid]
            elif sid:
                msg = (
                    f"{where(i)}, column {cols.get('substation_id', 'substation_id')}: unknown "
                    f"substation_id '{sid}'; give lon/lat for a new one"
                )
                raise InputDataError(msg)
            else:
                msg = (
                    f"{where(i)}: a row needs area_id, substation_id or lon/lat; found columns "
                    f"{list(cols.values())}"
                )
                raise InputDataError(msg)
    out = gpd.GeoDataFrame(
        df.assign(level=level)[
            [
                "level",
                "area_id",
                "substation_id",
                "name",
                "status",
                "offtake_capacity_mw",
                "queue_mw",
                "restricted_hours",
                "source",
                "source_date",
            ]
        ],
        geometry=geoms,
        crs=CRS,
    )
    _check_duplicates(out, where, cols, path)
    _check_overlaps(out[out["level"] == "area"], path, is_csv)
    return out


def _check_duplicates(
    table: gpd.GeoDataFrame, where: Callable[[int], str], cols: dict[str, str], path: Path
) -> None:
    """Raise if two rows give the same area or substation: no silent "last row wins"."""
    for level, key in (("area", "area_id"), ("substation", "substation_id")):
        seen: dict[str, int] = {}
        for i in np.flatnonzero((table["level"] == level).to_numpy()):
            ident = table[key].iloc[i]
            if ident in seen:
                first = where(seen[ident]).removeprefix(f"{path}, ")
                msg = (
                    f"{where(i)}, column {cols.get(key, key)}: {level} '{ident}' is given twice "
                    f"({first} and {where(i).removeprefix(f'{path}, ')}); keep one row per {level}"
                )
                raise InputDataError(msg)
            seen[ident] = int(i)


def _ids(frame: gpd.GeoDataFrame | None, col: str) -> dict[str, object]:
    if frame is None or len(frame) == 0:
        return {}
    ids = frame[col] if col in frame.columns else frame.index.to_series()
    return dict(zip(ids.astype(str), frame.geometry.values, strict=True))


def _check_overlaps(areas: gpd.GeoDataFrame, path: Path, is_csv: bool) -> None:
    if len(areas) < 2:
        return
    geom = areas.geometry.values
    left, right = shapely.STRtree(geom).query(geom, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return
    inter = shapely.area(shapely.intersection(geom[left], geom[right]))
    smaller = np.minimum(shapely.area(geom[left]), shapely.area(geom[right]))
    bad = inter > np.maximum(1.0, 1e-3 * smaller)  # more than a shared border
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        i, j = int(areas.index[left[k]]), int(areas.index[right[k]])
        a, b = areas["area_id"].iloc[left[k]], areas["area_id"].iloc[right[k]]
        msg = (
            f"{_where(path, is_csv, i)} (area '{a}') overlaps {_where(path, is_csv, j)} "
            f"(area '{b}') by {inter[k] / 1e6:.2f} km²; supply areas must not overlap"
        )
        raise InputDataError(msg)


def apply_capacity_table(
    table: gpd.GeoDataFrame, substations: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Overlay an operator's table on the substations and areas (returns copies).

    Area rows replace the area of the same id or are added with ``priority`` 1 (they win over the
    default layer where they overlap). Substation rows set ``offtake_capacity_mw``, ``queue_mw``,
    ``capacity_status``, ``restricted_hours`` and ``capacity_source`` on the substation of the
    same id; rows with a new id are added as substations.
    """
    areas = areas.copy()
    subs = substations.copy()
    arows = table[table["level"] == "area"]
    if len(arows):
        new = gpd.GeoDataFrame(
            {
                "area_id": arows["area_id"].to_numpy(),
                "name": arows["name"].to_numpy(),
                "country": "",
                "status": arows["status"].to_numpy(),
                "restricted_hours": arows["restricted_hours"].to_numpy(),
                "available_mw": arows["offtake_capacity_mw"].to_numpy(),
                "requested_mw": arows["queue_mw"].to_numpy(),
                "source": arows["source"].to_numpy(),
                "source_date": arows["source_date"].to_numpy(),
                "priority": 1,
            },
            geometry=arows.geometry.to_numpy(),
            crs=CRS,
        ).set_index("area_id", drop=False)
        new.index.name = None
        old = areas.loc[areas.index.isin(new.index)]
        new["country"] = old["country"].reindex(new.index).astype(object).fillna("").to_numpy()
        areas = gpd.GeoDataFrame(pd.concat([areas[~areas.index.isin(new.index)], new]), crs=CRS)
    srows = table[table["level"] == "substation"].set_index("substation_id")
    for col in ("offtake_capacity_mw", "queue_mw"):
        if col not in subs:
            subs[col] = np.nan
    for col in ("capacity_status", "restricted_hours", "capacity_source"):
        if col not in subs:
            subs[col] = ""
    if len(srows):
        add = srows.index.difference(subs.index)
        if len(add):
            extra = gpd.GeoDataFrame(
                {
                    "name": srows.loc[add, "name"],
                    "operator": "",
                    "voltage_kv": np.nan,
                    "country": "",
                    "source": srows.loc[add, "source"],
                },
                geometry=srows.loc[add].geometry,
                crs=CRS,
            )
            subs = gpd.GeoDataFrame(pd.concat([subs, extra]), crs=CRS)
            subs.index.name = "substation_id"
        ids = srows.index
        subs.loc[ids, "offtake_capacity_mw"] = srows["offtake_capacity_mw"].to_numpy()
        subs.loc[ids, "queue_mw"] = srows["queue_mw"].to_numpy()
        subs.loc[ids, "capacity_status"] = srows["status"].to_numpy()
        subs.loc[ids, "restricted_hours"] = srows["restricted_hours"].to_numpy()
        subs.loc[ids, "capacity_source"] = (
            srows["source"]
            + np.where(srows["source_date"] != "", " (" + srows["source_date"] + ")", "")
        ).to_numpy()
    return subs, areas


def read_area_polygons(path: str | Path) -> gpd.GeoDataFrame:
    """Supply-area polygons (GeoJSON/GPKG) that capacity-table rows are joined to by area id.

    The id is the ``area_id`` property (or another id column the table importer knows, see
    :data:`AREA_ID_ALIASES`); areas must not overlap.

    Returns
    -------
    GeoDataFrame
        Columns ``area_id`` and ``name`` (when given), polygons in EPSG:3035.

    Raises
    ------
    InputDataError
        Naming the file (and feature): unreadable, no CRS, no id column, empty or duplicate ids,
        overlapping polygons.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"capacity areas {path} does not exist"
        raise InputDataError(msg)
    if path.suffix.lower() not in (".geojson", ".json", ".gpkg"):
        msg = f"{path}: area polygons must be a GeoJSON or GPKG layer"
        raise InputDataError(msg)
    raw = _read_layer(path)
    id_col = next((c for c in ("area_id", *AREA_ID_ALIASES) if c in raw.columns), None)
    if id_col is None:
        known = ", ".join(("area_id", *AREA_ID_ALIASES))
        msg = f"{path}: no area id column; expected one of {known}; found {list(raw.columns)}"
        raise InputDataError(msg)
    ids = raw[id_col].astype("string").fillna("").str.strip()
    for i, aid in enumerate(ids):
        if aid == "":
            msg = f"{path}, feature {i + 1}, column {id_col}: empty area id"
            raise InputDataError(msg)
        geom = raw.geometry.iloc[i]
        if geom is None or geom.is_empty or shapely.get_type_id(geom) < 3:
            msg = f"{path}, feature {i + 1} (area '{aid}'): not a polygon"
            raise InputDataError(msg)
    dup = ids[ids.duplicated()]
    if len(dup):
        i = int(dup.index[0])
        msg = f"{path}, feature {i + 1}, column {id_col}: area id '{dup.iloc[0]}' given twice"
        raise InputDataError(msg)
    name_col = next((c for c in ("name", "naam", "voedingsgebied") if c in raw.columns), None)
    out = gpd.GeoDataFrame(
        {
            "area_id": ids.to_numpy(dtype=object),
            "name": raw[name_col].fillna("").astype(str).to_numpy() if name_col else "",
        },
        geometry=raw.geometry.to_crs(CRS).to_numpy(),
        crs=CRS,
    )
    _check_overlaps(out, path, is_csv=False)
    return out


def load_capacity_tables(
    tables: tuple[str | Path, ...] | list[str | Path],
    substations: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    capacity_areas: str | Path | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read grid operators' tables and overlay them, in order, on the substations and areas.

    Parameters
    ----------
    tables
        Capacity tables (:func:`read_capacity_table`); later tables win where they overlap.
    substations, areas
        The layers to overlay (from :func:`~corridor.grid.load_substations` and
        :func:`default_congestion_areas`).
    capacity_areas
        Optional supply-area polygons (:func:`read_area_polygons`) that CSV rows' ``area_id``
        refer to (besides the ids of ``areas``).

    Returns
    -------
    (GeoDataFrame, GeoDataFrame)
        Substations and areas with the tables applied (copies; the inputs when no table).
    """
    known = areas
    if capacity_areas is not None:
        polys = read_area_polygons(capacity_areas)
        polys = polys.set_index("area_id", drop=False).rename_axis(None)
        known = pd.concat([polys, areas[~areas.index.isin(polys.index)]])
    for path in tables:
        table = read_capacity_table(path, areas=known, substations=substations)
        _check_new_points(table, substations, Path(path))
        substations, areas = apply_capacity_table(table, substations, areas)
    return substations, areas


def _check_new_points(table: gpd.GeoDataFrame, substations: gpd.GeoDataFrame, path: Path) -> None:
    """Check that new substation points of a table lie near the loaded grid (the point rule)."""
    from corridor._validate import Region, check_points_near

    rows = table[(table["level"] == "substation") & ~table["substation_id"].isin(substations.index)]
    if rows.empty or substations.empty:
        return
    region = Region.from_xy(
        substations.geometry.x, substations.geometry.y, substations.crs, "loaded substations"
    )
    ll = rows.geometry.to_crs("EPSG:4326")
    where = [
        f"{path}, substation '{sid}' (row {i + 1})"
        for i, sid in zip(rows.index, rows["substation_id"], strict=True)
    ]
    check_points_near(ll.x.to_numpy(), ll.y.to_numpy(), region, what=where)


#: Marks an assumed (not published) capacity in names, sources and reports.
ASSUMPTION = "ASSUMPTION"


def apply_germany_assumption(areas: gpd.GeoDataFrame, assumption: object) -> gpd.GeoDataFrame:
    """Give the German areas without data an assumed spare MW (returns a copy).

    Parameters
    ----------
    areas
        From :func:`default_congestion_areas` (German NUTS-2 areas ``de-nuts2-DEXX``).
    assumption
        :class:`~corridor.config.GermanyAssumption` (``spare_mw``, ``spare_mw_by_land``,
        ``restricted_hours``) or None.

    Returns
    -------
    GeoDataFrame
        The areas; the changed ones get ``available_mw``, ``requested_mw`` 0, status
        ``available`` (``limited`` with restricted hours, ``congested`` at 0 MW), a name ending
        in "(ASSUMPTION)", a source starting with "ASSUMPTION:" and ``assumption`` (the text;
        "" elsewhere).
    """
    areas = areas.copy()
    if "assumption" not in areas.columns:
        areas["assumption"] = ""
    if assumption is None:
        return areas
    uniform = getattr(assumption, "spare_mw", None)
    by_land = dict(getattr(assumption, "spare_mw_by_land", {}) or {})
    hours = str(getattr(assumption, "restricted_hours", "") or "")
    parse_hours(hours, "grid.germany_assumption.restricted_hours")
    ids = areas["area_id"].astype(str)
    german = ids.str.startswith("de-nuts2-") & (areas["status"] == "unknown")
    for idx in areas.index[german]:
        nuts = ids[idx].removeprefix("de-nuts2-")
        land = nuts[:3]
        if land in by_land:
            mw, how = float(by_land[land]), f"per-Land value for {land}"
        elif uniform is not None:
            mw, how = float(uniform), "uniform value for Germany"
        else:
            continue
        text = f"{mw:g} MW spare assumed ({how}, scenario grid.germany_assumption)"
        areas.loc[idx, "available_mw"] = mw
        areas.loc[idx, "requested_mw"] = 0.0
        areas.loc[idx, "status"] = "congested" if mw <= 0 else ("limited" if hours else "available")
        areas.loc[idx, "restricted_hours"] = hours
        areas.loc[idx, "name"] = f"{areas.loc[idx, 'name']} ({ASSUMPTION})"
        areas.loc[idx, "source"] = f"{ASSUMPTION}: {text}"
        areas.loc[idx, "source_date"] = ""
        areas.loc[idx, "assumption"] = text
    return areas
