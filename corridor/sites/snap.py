"""Assign candidate sites to the directed carriageway edges they can be reached from.

Rules (continental right-hand traffic):

* A site with no motorway/trunk carriageway edge within ``max_snap_m`` is excluded.
* A service or rest area within ``both_directions_max_m`` of a carriageway serves the one
  carriageway it lies on the right-hand side of: the nearest edge for which the cross product of
  the edge direction and the offset to the site is negative (site to the right).
* Any other site (truck parking, fuel station, user site) whose nearest road is a link road or
  which lies farther than ``both_directions_max_m`` from the carriageway is taken to be reached
  from a junction and serves both directions: the nearest carriageway edge in the direction of
  the nearest edge and the nearest edge in the opposite direction (bearing differing > 90°).
  A service/rest area farther than ``both_directions_max_m`` is treated the same way.
* ``generic_junction`` candidates always serve both directions, with their
  ``assumed_access_m`` as the distance to the site.
* Detour (documented approximation): ``detour_m = 2 × distance from the site to the served
  edge`` (leave and rejoin), ``detour_min`` at ``config.detour_speed_kph``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from corridor._validate import GRAPH_CRS as CRS
from corridor._validate import require_crs
from corridor.catalogue import Catalogue
from corridor.config import SitesConfig
from corridor.directions import BOTH_LABEL, compass_label
from corridor.errors import InputDataError
from corridor.network.coarse import ETISPLUS_LINK
from corridor.sites.generic import coarse_junction_sites
from corridor.sites.layers import SITE_COLUMNS, _concat, _load, read_hpc_register
from corridor.sites.names import name_sites, town_points

__all__ = [
    "MAIN_HIGHWAYS",
    "Candidates",
    "build_candidates",
    "compass_label",
    "edges_frame",
    "snap_to_carriageways",
]

logger = logging.getLogger(__name__)

#: Highway classes that are carriageways (links are ramps).
MAIN_HIGHWAYS = ("motorway", "trunk")
ONE_SIDE_KINDS = ("service_area", "rest_area")
SITE_COLUMNS_OUT = [
    *(c for c in SITE_COLUMNS if c != "geometry"),
    "direction",
    "bearing_deg",
    "snap_m",
    "lon",
    "lat",
    "geometry",
]


@dataclass(frozen=True)
class Candidates:
    """Candidate sites snapped to the carriageways they serve.

    Attributes
    ----------
    sites
        GeoDataFrame indexed by ``site_id`` (EPSG:3035 points): ``name``, ``kind``, ``country``,
        ``source``, ``osm_id``, ``truck_spots``, ``has_fuel``, ``has_charging``, ``area_m2``,
        ``road_ref``, ``direction`` ("both" or e.g. "E (93°)"), ``bearing_deg`` (NaN for both),
        ``snap_m``, ``lon``, ``lat``.
    access
        One row per (site, directed edge) it can be reached from: ``site_id``, ``u``, ``v``,
        ``key``, ``offset_m``, ``detour_m``, ``detour_min``.
    excluded
        Dropped candidates: ``site_id``, ``source``, ``reason`` (and ``merged_into`` for
        duplicates).
    report
        Counts (per country, kind, direction; exclusions by reason).
    """

    sites: gpd.GeoDataFrame
    access: pd.DataFrame
    excluded: pd.DataFrame
    report: dict = field(default_factory=dict)


def edges_frame(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Return the graph's edges as a GeoDataFrame (u, v, key, geometry, bearing_deg, highway, ref).

    Raises
    ------
    InputDataError
        If the graph is not in EPSG:3035 or an edge lacks geometry/bearing/highway.
    """
    require_crs(G.graph.get("crs") or CRS, CRS, "road graph")
    rows = list(G.edges(keys=True, data=True))
    if not rows:
        msg = "the road graph has no edges; cannot snap candidate sites"
        raise InputDataError(msg)
    try:
        df = pd.DataFrame(
            {
                "u": [r[0] for r in rows],
                "v": [r[1] for r in rows],
                "key": [r[2] for r in rows],
                "highway": [str(r[3]["highway"]) for r in rows],
                "ref": [str(r[3].get("ref", "") or "") for r in rows],
                "bearing_deg": [float(r[3]["bearing_deg"]) for r in rows],
                "speed_kph": [float(r[3].get("speed_kph", np.nan)) for r in rows],
            }
        )
        geom = [r[3]["geometry"] for r in rows]
    except KeyError as exc:
        msg = f"graph edges need the GRAPH contract attributes; an edge lacks {exc}"
        raise InputDataError(msg) from None
    return gpd.GeoDataFrame(df, geometry=geom, crs=CRS)


def _local_bearing(lines: np.ndarray, at_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compute the unit direction (dx, dy) of each line around the distance ``at_m`` along it."""
    length = shapely.length(lines)
    a = shapely.line_interpolate_point(lines, np.clip(at_m - 5.0, 0, length))
    b = shapely.line_interpolate_point(lines, np.clip(at_m + 5.0, 0, length))
    dx = shapely.get_x(b) - shapely.get_x(a)
    dy = shapely.get_y(b) - shapely.get_y(a)
    norm = np.hypot(dx, dy)
    norm[norm == 0] = 1.0
    return dx / norm, dy / norm


def _angle_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.abs(np.mod(np.asarray(a) - np.asarray(b), 360.0))
    return np.minimum(d, 360.0 - d)


def snap_to_carriageways(
    sites: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    config: SitesConfig,
) -> Candidates:
    """Find the directed carriageway edges each site serves (see the module docstring).

    Parameters
    ----------
    sites
        Output of :func:`corridor.sites.load_candidate_layers` (or any GeoDataFrame indexed by
        ``site_id`` with Point geometry and ``kind``).
    G
        Road graph (GRAPH contract, EPSG:3035).
    config
        ``max_snap_m``, ``both_directions_max_m``, ``detour_speed_kph``.

    Returns
    -------
    Candidates
    """
    if sites.crs is None or sites.crs.to_string() != CRS:
        sites = sites.to_crs(CRS) if sites.crs is not None else sites
        if sites.crs is None:
            msg = "candidate sites have no CRS; expected EPSG:3035 points"
            raise InputDataError(msg)
    edges = edges_frame(G)
    # coarse ETISplus links (no OSM lines) are reached only by junction candidates
    main = edges[edges["highway"].isin((*MAIN_HIGHWAYS, ETISPLUS_LINK))].reset_index(drop=True)
    pts = sites.geometry.values
    n = len(sites)
    site_ids = sites.index.to_numpy()
    excluded = []
    if len(main) == 0:
        msg = f"the road graph has no {'/'.join(MAIN_HIGHWAYS)} edges to snap sites to"
        raise InputDataError(msg)

    # nearest road of any class (to tell link-road sites apart)
    all_tree = shapely.STRtree(edges.geometry.values)
    near_idx = all_tree.nearest(pts)
    nearest_is_link = edges["highway"].to_numpy(str)[near_idx]
    nearest_is_link = np.char.endswith(nearest_is_link.astype(str), "_link")

    # all main carriageway edges within max_snap_m: (site, edge) pairs
    tree = shapely.STRtree(main.geometry.values)
    si, ei = tree.query(pts, predicate="dwithin", distance=config.max_snap_m)
    kind = sites["kind"].to_numpy(str)
    coarse = main["highway"].to_numpy(str)[ei] == ETISPLUS_LINK
    ok = ~coarse | (kind[si] == "generic_junction")
    si, ei = si[ok], ei[ok]
    lines = main.geometry.values[ei]
    dist = shapely.distance(pts[si], lines)
    at = shapely.line_locate_point(lines, pts[si])
    foot = shapely.line_interpolate_point(lines, at)
    dx, dy = _local_bearing(lines, at)
    ox = shapely.get_x(pts[si]) - shapely.get_x(foot)
    oy = shapely.get_y(pts[si]) - shapely.get_y(foot)
    cross = dx * oy - dy * ox  # < 0: site on the right of the travel direction
    pairs = pd.DataFrame(
        {
            "site": si,
            "edge": ei,
            "dist": dist,
            "offset_m": at,
            "right": cross < 0,
            "bearing": main["bearing_deg"].to_numpy()[ei],
        }
    ).sort_values(["site", "dist", "edge"], kind="stable")

    has_pair = np.zeros(n, bool)
    has_pair[pairs["site"].unique()] = True
    for k in np.flatnonzero(~has_pair):
        excluded.append((site_ids[k], sites["source"].iloc[k] if "source" in sites else "", ""))

    nearest = pairs.drop_duplicates("site").set_index("site")
    snap_m = nearest["dist"]
    one_side_kind = np.isin(kind, ONE_SIDE_KINDS)
    close = np.zeros(n, bool)
    close[snap_m.index] = snap_m.to_numpy() <= config.both_directions_max_m
    one_side = close & (one_side_kind | ~nearest_is_link) & (kind != "generic_junction")

    # one side: nearest edge with the site on its right, within both_directions_max_m
    pairs["one_side"] = one_side[pairs["site"].to_numpy()]
    right = pairs[
        pairs["one_side"] & pairs["right"] & (pairs["dist"] <= config.both_directions_max_m)
    ].drop_duplicates("site")
    # one-side sites without any edge on their right fall back to both directions
    fallback = np.zeros(n, bool)
    fallback[np.flatnonzero(one_side)] = True
    fallback[right["site"].to_numpy()] = False
    both_mask = has_pair & (~one_side | fallback)

    # both directions: nearest edge, and nearest edge heading the other way
    both_pairs = pairs[both_mask[pairs["site"].to_numpy()]].copy()
    ref_bearing = nearest["bearing"].reindex(both_pairs["site"]).to_numpy()
    both_pairs["same"] = _angle_diff(both_pairs["bearing"].to_numpy(), ref_bearing) <= 90.0
    both_rows = both_pairs.drop_duplicates(["site", "same"])

    acc = pd.concat([right, both_rows], ignore_index=True)
    # generic junction candidates carry an assumed access distance (no real site to measure)
    assumed = np.nan_to_num(
        sites["assumed_access_m"].to_numpy(float) if "assumed_access_m" in sites else np.zeros(n)
    )
    speed_m_per_min = config.detour_speed_kph * 1000.0 / 60.0
    e = main.iloc[acc["edge"].to_numpy()]
    access = pd.DataFrame(
        {
            "site_id": site_ids[acc["site"].to_numpy()],
            "u": e["u"].to_numpy(),
            "v": e["v"].to_numpy(),
            "key": e["key"].to_numpy(),
            "offset_m": acc["offset_m"].to_numpy(float),
            "detour_m": 2.0 * np.maximum(acc["dist"].to_numpy(float), assumed[acc["site"]]),
        }
    )
    access["detour_min"] = access["detour_m"] / speed_m_per_min
    access = access.sort_values(["site_id", "u", "v", "key"]).reset_index(drop=True)

    out = sites.loc[has_pair].copy()
    out = out.drop(columns="_shape", errors="ignore")
    idx = np.flatnonzero(has_pair)
    out["snap_m"] = snap_m.reindex(idx).to_numpy(float)
    bearing = np.full(len(idx), np.nan)
    right_b = right.set_index("site")["bearing"]
    in_right = np.isin(idx, right_b.index)
    bearing[in_right] = right_b.reindex(idx[in_right]).to_numpy()
    out["bearing_deg"] = bearing
    direction = np.full(len(idx), BOTH_LABEL, dtype=object)
    direction[in_right] = compass_label(bearing[in_right])
    out["direction"] = direction
    ll = out.geometry.to_crs("EPSG:4326")
    out["lon"], out["lat"] = ll.x.to_numpy(), ll.y.to_numpy()
    cols = [c for c in SITE_COLUMNS_OUT if c in out.columns]
    out = gpd.GeoDataFrame(out[cols], geometry="geometry", crs=CRS)
    out.index.name = "site_id"

    exc = pd.DataFrame(excluded, columns=["site_id", "source", "merged_into"])
    exc["reason"] = f"no motorway/trunk carriageway within max_snap_m={config.max_snap_m:g} m"
    report = _report(out, exc)
    logger.info(
        "snapped %d sites (%d one direction, %d both), excluded %d farther than %g m",
        len(out),
        int(in_right.sum()),
        int((~in_right).sum()),
        len(exc),
        config.max_snap_m,
    )
    return Candidates(sites=out, access=access, excluded=exc, report=report)


def _report(sites: gpd.GeoDataFrame, excluded: pd.DataFrame) -> dict:
    """JSON-safe counts: sites per country, kind and direction; exclusions by reason."""
    dirs = np.where(sites["direction"] == BOTH_LABEL, "both", "one")
    combo = sites["country"] + "/" + sites["kind"] + "/" + dirs
    count = lambda s: {str(k): int(v) for k, v in s.value_counts().sort_index().items()}  # noqa: E731
    return {
        "sites": len(sites),
        "by_country": count(sites["country"]),
        "by_kind": count(sites["kind"]),
        "by_country_kind_direction": count(combo),
        "excluded_by_reason": count(excluded["reason"]),
        "median_snap_m": float(sites["snap_m"].median()) if len(sites) else float("nan"),
    }


def build_candidates(
    G: nx.MultiDiGraph,
    catalogue: Catalogue,
    config: SitesConfig,
) -> Candidates:
    """Load, deduplicate and snap the candidate layers of ``config`` to the graph ``G``.

    The ``excluded`` table holds every dropped feature with its reason: merged duplicates,
    outside ``config.countries`` and too far from a carriageway.
    """
    sites, dropped = _load(catalogue, config)
    junctions = coarse_junction_sites(G, config.countries)
    if len(junctions):
        sites = _concat([sites, junctions])
    cand = snap_to_carriageways(sites, G, config)
    named = name_sites(
        cand.sites, cand.access, G, register=_register(catalogue), towns=_towns(catalogue)
    )
    cand = dataclasses.replace(cand, sites=named)
    excluded = pd.concat([dropped, cand.excluded], ignore_index=True)
    reasons = excluded["reason"].str.replace(
        r"country '.*' not in.*", "outside countries", regex=True
    )
    by_reason = {str(k): int(v) for k, v in reasons.value_counts().items()}
    report = {**cand.report, "excluded_by_reason": by_reason}
    return Candidates(sites=cand.sites, access=cand.access, excluded=excluded, report=report)


def _register(catalogue: Catalogue) -> gpd.GeoDataFrame | None:
    """Read the charger register for site names (None when the data set is not there)."""
    if not catalogue.is_present("existing_charging"):
        return None
    return read_hpc_register(catalogue.paths("existing_charging"))


def _towns(catalogue: Catalogue) -> gpd.GeoDataFrame:
    """Collect town points for site names: gazetteer and (when present) NUTS-3 label points."""
    import pyogrio

    from corridor.network.places import load_gazetteer

    labels = (
        pyogrio.read_dataframe(
            catalogue.path("nuts_labels"), columns=["NAME_LATN", "NUTS_NAME", "CNTR_CODE"]
        )
        if catalogue.is_present("nuts_labels")
        else None
    )
    return town_points(load_gazetteer(), labels)
