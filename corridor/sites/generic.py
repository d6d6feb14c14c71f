"""Generic "motorway junction" candidates every X km along a graph path.

These are NOT real sites: they stand for "some plot near this junction" where no rest area or
truck parking is known. They carry ``kind = "generic_junction"``, ``source = "generic"``, a name
starting with "Generic junction candidate" and an assumed access distance, so they are never
mistaken for a real site.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from corridor._validate import GRAPH_CRS as CRS
from corridor.errors import InputDataError

__all__ = ["coarse_junction_sites", "generic_junction_sites"]


def generic_junction_sites(
    G: nx.MultiDiGraph,
    path: Sequence[int],
    spacing_km: float,
    country: str = "",
    assumed_access_m: float = 500.0,
) -> gpd.GeoDataFrame:
    """Junction nodes of ``path`` closest to every ``spacing_km`` along it.

    A junction is a path node with a ``*_link`` edge in or out. Feed the result to
    :func:`~corridor.sites.snap_to_carriageways` (they serve both directions with a detour of
    ``2 × assumed_access_m``).

    Parameters
    ----------
    G
        Road graph (GRAPH contract).
    path
        Graph node ids of a route (e.g. an OD path of the flows).
    spacing_km
        Distance between candidates along the path (km).
    country
        ISO2 to set when the path's edges carry no ``country``.
    assumed_access_m
        Assumed distance (m) from the carriageway to the hub.

    Returns
    -------
    GeoDataFrame
        Same columns as :func:`~corridor.sites.load_candidate_layers` plus ``assumed_access_m``
        and ``path_km``; index ``generic-junction-<node id>``.
    """
    if spacing_km <= 0:
        msg = f"spacing_km must be > 0, got {spacing_km}"
        raise InputDataError(msg)
    path = list(path)
    if len(path) < 2:
        msg = "a path needs at least two nodes"
        raise InputDataError(msg)
    lengths, countries = [0.0], []
    for u, v in pairwise(path):
        if not G.has_edge(u, v):
            msg = f"path step {u} -> {v} is not an edge of the graph"
            raise InputDataError(msg)
        data = min(G[u][v].values(), key=lambda d: d["length_m"])
        lengths.append(data["length_m"])
        countries.append(str(data.get("country", "") or country))
    km = np.cumsum(lengths) / 1000.0
    is_junction = np.array(
        [
            any(str(d.get("highway", "")).endswith("_link") for *_, d in G.out_edges(n, data=True))
            or any(
                str(d.get("highway", "")).endswith("_link") for *_, d in G.in_edges(n, data=True)
            )
            for n in path
        ]
    )
    jidx = np.flatnonzero(is_junction)
    if not len(jidx):
        return _frame([], [], [], [], assumed_access_m)
    targets = np.arange(spacing_km, km[-1] + 1e-9, spacing_km)
    pick = np.unique(jidx[np.abs(km[jidx][None, :] - targets[:, None]).argmin(axis=1)])
    nodes = [path[i] for i in pick]
    ctry = [countries[min(i, len(countries) - 1)] or country for i in pick]
    return _frame(nodes, [km[i] for i in pick], ctry, G, assumed_access_m)


def _frame(nodes, km, ctry, G, assumed_access_m: float) -> gpd.GeoDataFrame:
    xy = [(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes] if nodes else []
    df = pd.DataFrame(
        {
            "name": [f"Generic junction candidate at km {k:.0f} (not a real site)" for k in km],
            "kind": "generic_junction",
            "country": ctry,
            "source": "generic",
            "osm_id": "",
            "truck_spots": np.nan,
            "has_fuel": False,
            "has_charging": False,
            "area_m2": np.nan,
            "road_ref": "",
            "assumed_access_m": float(assumed_access_m),
            "path_km": km,
        },
        index=pd.Index([f"generic-junction-{n}" for n in nodes], name="site_id", dtype=object),
    )
    geom = gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy], crs=CRS)
    return gpd.GeoDataFrame(df, geometry=geom, crs=CRS)


def coarse_junction_sites(
    G: nx.MultiDiGraph, countries: Sequence[str], assumed_access_m: float = 500.0
) -> gpd.GeoDataFrame:
    """Junction candidates at the ETISplus nodes of countries that have only coarse links.

    Where the graph has no OSM lines (``highway = "etisplus_link"``, see
    :mod:`corridor.network.coarse`) no rest area can be tied to a carriageway; each ETISplus node
    (graph nodes with an ``etisplus`` id) of ``countries`` becomes a ``generic_junction``
    candidate that serves both directions with an assumed access distance. Not real sites: their
    names (:func:`corridor.sites.names.name_sites`) end in "(not a real site)".

    Returns
    -------
    GeoDataFrame
        As :func:`generic_junction_sites` (empty ``name``, ``source = "etisplus"``), index
        ``etisplus-junction-<ETISplus node id>``.
    """
    nodes = [
        (n, d)
        for n, d in G.nodes(data=True)
        if d.get("etisplus") and str(d.get("country", "")) in set(countries)
    ]
    out = _frame(
        [n for n, _ in nodes],
        [0.0] * len(nodes),
        [d["country"] for _, d in nodes],
        G,
        assumed_access_m,
    )
    out.index = pd.Index(
        [f"etisplus-junction-{d['etisplus']}" for _, d in nodes], name="site_id", dtype=object
    )
    out["name"] = ""
    out["source"] = "etisplus"
    return out.drop(columns="path_km")
