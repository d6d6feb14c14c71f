"""Readable names for candidate sites that have none in OpenStreetMap.

Rule, in order:

1. the site's own name (OSM ``name``; a register site's street);
2. the name of a charger-register entry (``existing_charging``, its ``street`` often names the
   rest area, e.g. "Raststätte Ellund-West") within ``register_m`` (300 m);
3. ``"<kind> on <road> near <town>, <direction>"``, e.g. "rest area on A 2 near Bielefeld,
   eastbound": the road is the site's ``road_ref`` or the ref of the carriageway it is reached
   from, the town the nearest place of the shipped gazetteer (``corridor/data/gazetteer.csv``)
   or of the NUTS level-3 label points (Eurostat GISCO, "Dortmund, Kreisfreie Stadt" → "Dortmund"),
   the direction the compass direction of the site's carriageway ("both directions" for a site
   reached from a junction). The town is taken from the site's own country when it has one.

Coarse junction candidates (countries with ETISplus links only) are named "junction near
<town> (not a real site)".
"""

from __future__ import annotations

import re

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from corridor._validate import GRAPH_CRS as CRS
from corridor.directions import BOTH_LABEL

__all__ = ["direction_words", "name_sites", "town_points"]

#: Compass sector → travel direction in words.
_WORDS = {
    "N": "northbound",
    "NE": "north-eastbound",
    "E": "eastbound",
    "SE": "south-eastbound",
    "S": "southbound",
    "SW": "south-westbound",
    "W": "westbound",
    "NW": "north-westbound",
}
#: NUTS-3 name suffixes that are not part of the town's name.
_NUTS_SUFFIX = re.compile(
    r",\s*(Kreisfreie Stadt|Landkreis|Stadtkreis|Stadt|Kreis)$"
    r"|^(Arr\.|Agglomeratie|Regionalverband)\s+|\s+(län|fylke|kommune)$",
    flags=re.IGNORECASE,
)
_KIND_WORDS = {
    "service_area": "service area",
    "rest_area": "rest area",
    "truck_parking": "truck parking",
    "fuel": "fuel station",
    "existing_hpc": "charging site",
    "user": "site",
}


def direction_words(label: str) -> str:
    """Compass label of a site (``"E (93°)"`` or ``"both"``) in words (``"eastbound"``)."""
    if not label or label == BOTH_LABEL:
        return "both directions"
    sector = str(label).split(" ", 1)[0]
    return _WORDS.get(sector, str(label))


def town_points(
    gazetteer: pd.DataFrame | None, nuts_labels: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Town name points (EPSG:3035) from the gazetteer's places and the NUTS-3 label points.

    Parameters
    ----------
    gazetteer
        ``name``, ``lon``, ``lat`` (degrees), e.g. :func:`corridor.network.places.load_gazetteer`;
        places of kind ``border`` are left out (a border is not a town).
    nuts_labels
        NUTS level-3 label points with ``NUTS_NAME`` (or ``NAME_LATN``) and ``CNTR_CODE``, any
        CRS.

    Returns
    -------
    GeoDataFrame
        ``name``, ``country`` and Point geometry in EPSG:3035.
    """
    parts = []
    if gazetteer is not None and len(gazetteer):
        g = gazetteer
        if "kind" in g.columns:
            g = g[g["kind"].astype(str) != "border"]
        parts.append(
            gpd.GeoDataFrame(
                {
                    "name": g["name"].astype(str).to_numpy(),
                    "country": g["country"].astype(str).to_numpy() if "country" in g else "",
                },
                geometry=gpd.points_from_xy(g["lon"], g["lat"]),
                crs="EPSG:4326",
            ).to_crs(CRS)
        )
    if nuts_labels is not None and len(nuts_labels):
        col = "NAME_LATN" if "NAME_LATN" in nuts_labels.columns else "NUTS_NAME"
        names = nuts_labels[col].astype(str).str.replace(_NUTS_SUFFIX, "", regex=True).str.strip()
        country = (
            nuts_labels["CNTR_CODE"].astype(str).to_numpy() if "CNTR_CODE" in nuts_labels else ""
        )
        parts.append(
            gpd.GeoDataFrame(
                {"name": names.to_numpy(), "country": country},
                geometry=nuts_labels.geometry.values,
            )
            .set_crs(nuts_labels.crs)
            .to_crs(CRS)
        )
    if not parts:
        return gpd.GeoDataFrame({"name": [], "country": []}, geometry=gpd.GeoSeries([], crs=CRS))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=CRS)


def _nearest_town(
    sites: gpd.GeoDataFrame, pts: np.ndarray, todo: np.ndarray, towns: gpd.GeoDataFrame | None
) -> np.ndarray:
    """Nearest town of each site to name: of the site's own country when it has towns."""
    town = np.full(len(sites), "", dtype=object)
    if towns is None or len(towns) == 0:
        return town
    site_cc = (
        sites["country"].fillna("").astype(str).to_numpy(object)
        if "country" in sites
        else np.full(len(sites), "", dtype=object)
    )
    town_cc = (
        towns["country"].astype(str).replace({"EL": "GR", "UK": "GB"}).to_numpy(object)
        if "country" in towns
        else np.full(len(towns), "", dtype=object)
    )
    names = towns["name"].astype(str).to_numpy(object)
    for cc in pd.unique(site_cc[todo]):
        idx = np.flatnonzero(todo & (site_cc == cc))
        own = np.flatnonzero(town_cc == cc) if cc else np.array([], dtype=int)
        pool = own if len(own) else np.arange(len(towns))
        j = shapely.STRtree(towns.geometry.values[pool]).nearest(pts[idx])
        town[idx] = names[pool[j]]
    return town


def _is_placeholder(name: pd.Series) -> np.ndarray:
    text = name.fillna("").astype(str).str.strip()
    return ((text == "") | text.str.startswith("(unnamed")).to_numpy()


def name_sites(
    sites: gpd.GeoDataFrame,
    access: pd.DataFrame | None = None,
    G: nx.MultiDiGraph | None = None,
    register: gpd.GeoDataFrame | None = None,
    towns: gpd.GeoDataFrame | None = None,
    register_m: float = 300.0,
) -> gpd.GeoDataFrame:
    """Give every site a readable ``name`` (rule: module docstring).

    Parameters
    ----------
    sites
        Candidate sites (index ``site_id``, Point geometry in EPSG:3035) with ``name``, ``kind``
        and optionally ``road_ref`` and ``direction`` (compass label or "both").
    access
        Access edges (``site_id``, ``u``, ``v``, ``key``): the road of a site without
        ``road_ref`` is the ``ref`` of its first access edge in ``G``.
    G
        The road graph (for the access edges' ``ref``).
    register
        Charger-register sites with ``name`` (EPSG:3035 points), e.g. of
        :func:`corridor.sites.layers.read_hpc_register`.
    towns
        Town points (:func:`town_points`); without them the name has no "near <town>".
    register_m
        Largest distance (m) of a register entry whose name a site takes.

    Returns
    -------
    GeoDataFrame
        A copy of ``sites`` with every ``name`` filled and ``name_source`` (``own``: the name
        its layer gives, ``register``, ``derived``).
    """
    out = sites.copy()
    if len(out) == 0:
        out["name_source"] = pd.Series(dtype=object)
        return out
    todo = _is_placeholder(out["name"]).copy()
    source = np.where(todo, "derived", "own").astype(object)
    names = out["name"].fillna("").astype(str).to_numpy(object).copy()
    pts = out.geometry.values
    if register is not None and len(register) and todo.any():
        reg = register[register["name"].fillna("").astype(str).str.strip() != ""]
        reg = reg.to_crs(CRS) if reg.crs is not None and reg.crs.to_string() != CRS else reg
        if len(reg):
            idx = np.flatnonzero(todo)
            tree = shapely.STRtree(reg.geometry.values)
            near, dist = tree.query_nearest(pts[idx], max_distance=register_m, return_distance=True)
            first = pd.DataFrame({"i": near[0], "r": near[1], "d": dist}).sort_values(["i", "d"])
            first = first.drop_duplicates("i")
            hit = idx[first["i"].to_numpy()]
            names[hit] = reg["name"].astype(str).to_numpy(object)[first["r"].to_numpy()]
            source[hit] = "register"
            todo[hit] = False
    if todo.any():
        road = (
            out["road_ref"].fillna("").astype(str).to_numpy(object).copy()
            if "road_ref" in out
            else np.full(len(out), "", dtype=object)
        )
        if access is not None and G is not None and len(access):
            first = access.drop_duplicates("site_id").set_index("site_id")
            for k in np.flatnonzero(todo & (road == "")):
                sid = out.index[k]
                if sid in first.index:
                    r = first.loc[sid]
                    road[k] = str(G.edges[int(r.u), int(r.v), int(r.key)].get("ref", "") or "")
        town = _nearest_town(out, pts, todo, towns)
        kind = out["kind"].fillna("").astype(str).to_numpy(object)
        direction = (
            out["direction"].fillna("").astype(str).to_numpy(object)
            if "direction" in out
            else np.full(len(out), "", dtype=object)
        )
        for k in np.flatnonzero(todo):
            near = f" near {town[k]}" if town[k] else ""
            if kind[k] == "generic_junction":
                names[k] = f"junction{near} (not a real site)"
                continue
            what = _KIND_WORDS.get(kind[k], kind[k].replace("_", " ") or "site")
            on = f" on {road[k]}" if road[k] else ""
            names[k] = f"{what}{on}{near}, {direction_words(direction[k])}"
    out["name"] = names
    out["name_source"] = source
    return out
