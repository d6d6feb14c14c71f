"""Station locations: rest areas on opposite carriageways of one road taken as one location.

A motorway rest area usually comes in two halves, one per carriageway (a German *Rastanlage*
"Nord" and "Süd", a Dutch *verzorgingsplaats* on each side). Each half is its own candidate site
(it serves the trucks of its own carriageway, with its own chargers), but a planner counts the
pair as one station location that serves both directions. :func:`opposite_pairs` finds those
pairs; the siting model then counts a station once however many of its halves open
(``optimise.opposite_pair_km``).

Rule: two candidate sites form a pair when both have a carriageway bearing, their bearings differ
by at least 135° (opposite carriageways), they lie on the same road (``road_ref``, one spelling:
:func:`corridor.optimise.instance.road_key`), in the same country (and NUTS-1 region when the
sites carry one), and at most ``max_km`` apart. Each site joins at most one pair: the closest
pairs are taken first (ties by site id), so the result does not depend on the row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from corridor.optimise.instance import road_key

__all__ = ["OPPOSITE_MIN_DEG", "opposite_pairs"]

#: Smallest bearing difference (deg) of two carriageways counted as opposite.
OPPOSITE_MIN_DEG = 135.0


def opposite_pairs(sites: pd.DataFrame, max_km: float) -> pd.Series:
    """Station id of every candidate site: its own id, or ``"<a>+<b>"`` for an opposite pair.

    Parameters
    ----------
    sites
        Candidate sites indexed by ``site_id`` with ``geometry`` (points in a metric CRS, e.g.
        the graph's EPSG:3035), ``bearing_deg`` (NaN: a site reached from both directions),
        ``road_ref`` and ``country`` (and optionally ``region``).
    max_km
        Largest distance (km) between the two halves of one rest area.

    Returns
    -------
    pandas.Series
        Index ``site_id``, values the station id (str); the halves of a pair share
        ``"<a>+<b>"`` (the two site ids in sorted order).

    Raises
    ------
    ValueError
        If ``max_km`` is negative or the sites lack one of the needed columns.
    """
    if max_km < 0:
        msg = f"max_km must be >= 0, got {max_km}"
        raise ValueError(msg)
    need = ("geometry", "bearing_deg", "road_ref", "country")
    missing = [c for c in need if c not in sites.columns]
    if missing:
        msg = f"opposite_pairs needs the site columns {missing}"
        raise ValueError(msg)
    ids = np.asarray(sites.index.astype(str))
    station = pd.Series(ids, index=sites.index, dtype=object, name="station_id")
    bearing = pd.to_numeric(sites["bearing_deg"], errors="coerce").to_numpy(dtype=float)
    road = np.asarray([road_key(r) for r in sites["road_ref"]], dtype=object)
    ok = np.isfinite(bearing) & (road != "")
    if ok.sum() < 2:
        return station
    geoms = np.asarray(sites.geometry.values)
    cand = np.flatnonzero(ok)
    tree = shapely.STRtree(geoms[cand])
    left, right = tree.query(geoms[cand], predicate="dwithin", distance=max_km * 1000.0)
    i, j = cand[left], cand[right]
    keep = i < j
    i, j = i[keep], j[keep]
    diff = np.abs((bearing[i] - bearing[j] + 180.0) % 360.0 - 180.0)
    same = (diff >= OPPOSITE_MIN_DEG) & (road[i] == road[j])
    for column in ("country", "region"):
        if column in sites.columns:
            value = sites[column].fillna("").astype(str).to_numpy(dtype=object)
            same &= value[i] == value[j]
    i, j = i[same], j[same]
    dist = shapely.distance(geoms[i], geoms[j])
    lo, hi = np.minimum(ids[i], ids[j]), np.maximum(ids[i], ids[j])
    order = np.lexsort((hi, lo, dist))
    taken = np.zeros(len(ids), dtype=bool)
    for k in order:
        a, b = i[k], j[k]
        if taken[a] or taken[b]:
            continue
        taken[a] = taken[b] = True
        station.iloc[[a, b]] = "+".join(sorted((ids[a], ids[b])))
    return station
