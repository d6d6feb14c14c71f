"""Coarse links where no OSM lines exist: the ETISplus country graph joined at the borders.

Sweden and Norway have no OSM motorway lines in the shared data; their topology exists only in
the ETISplus country graphs of Speth et al. (2022) (``flows/etisplus_countries/<CC>/
graph.graphml``: node positions in lon/lat, link distances in km, CC BY 4.0). This module adds
such a graph to the OSM road graph as straight ``highway = "etisplus_link"`` edges:

1. the ETISplus links of every coarse country (length = the ETISplus ``distance``), plus a link
   each way between the mutual nearest nodes of two coarse countries within ``join_km``
   (:func:`corridor.flows.stitch.find_border_crossings`, e.g. SE–NO);
2. border joins: a coarse node and an OSM graph node that are each other's nearest (within
   ``join_km``) are joined, together with the next OSM node of that coarse node within 2 km
   (the other carriageway's end of the same approach), both ways by a straight
   ``etisplus_link`` of the straight-line length (the approach across a bridge or a ferry is not
   mapped).

The coarse links carry no real road geometry: maps draw them dashed, summaries name them coarse.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from corridor.errors import InputDataError

__all__ = ["ETISPLUS_LINK", "coarse_graph_files", "join_coarse_links"]

log = logging.getLogger(__name__)

#: ``highway`` of the coarse ETISplus links.
ETISPLUS_LINK = "etisplus_link"
#: Attribution of the coarse links.
ETISPLUS_CREDIT = "coarse links: ETISplus network, Speth et al. (2022), CC BY 4.0"


def coarse_graph_files(root: Path, countries: Sequence[str]) -> list[Path]:
    """List the ``graph.graphml`` of each coarse country below the ``etisplus_countries`` folder.

    Raises
    ------
    InputDataError
        If a country has no ETISplus graph (names the expected file).
    """
    out = []
    for cc in countries:
        path = Path(root) / cc / "graph.graphml"
        if not path.is_file():
            have = sorted(p.name for p in Path(root).iterdir() if p.is_dir())
            msg = (
                f"network.coarse_countries: no ETISplus graph for {cc} (expected {path}; "
                f"available: {', '.join(have)}); remove {cc} or add its graph.graphml"
            )
            raise InputDataError(msg)
        out.append(path)
    return out


def _link_attrs(x0, y0, x1, y1, length_m, speed_kph, country, tag) -> dict:
    geom = shapely.LineString([(x0, y0), (x1, y1)])
    digest = hashlib.blake2b(f"{tag}".encode(), digest_size=6).hexdigest()
    return {
        "edge_id": f"x{digest}",
        "length_m": float(length_m),
        "highway": ETISPLUS_LINK,
        "ref": "",
        "name": "ETISplus coarse link",
        "speed_kph": float(speed_kph),
        "travel_time_s": float(length_m) / (speed_kph / 3.6),
        "country": country,
        "geometry": geom,
        "bearing_deg": float(np.degrees(np.arctan2(x1 - x0, y1 - y0)) % 360.0),
    }


def join_coarse_links(
    G: nx.MultiDiGraph,
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    crossings: pd.DataFrame | None = None,
    join_km: float = 30.0,
    speed_kph: float = 80.0,
) -> dict:
    """Add coarse ETISplus links to ``G`` in place and join them to its border nodes.

    Parameters
    ----------
    G
        OSM road graph (GRAPH contract, EPSG:3035 node ``x``/``y``).
    nodes
        ETISplus nodes of the coarse countries: ``node_id`` (str), ``country``, ``lon``,
        ``lat``, ``x``, ``y`` (EPSG:3035 m), as from
        :func:`corridor.flows.etisplus.read_country_graph`.
    edges
        ETISplus links: ``u``, ``v`` (node ids), ``distance_km``, ``country``.
    crossings
        Links between coarse countries: ``node_a``, ``node_b``, ``country_a``, ``country_b``,
        ``distance_km`` (from :func:`corridor.flows.stitch.find_border_crossings`); each gives a
        link each way.
    join_km
        Largest distance (km) between an OSM node and the coarse node it is joined to.
    speed_kph
        Truck speed (km/h) on the coarse links.

    Returns
    -------
    dict
        Report: ``coarse_nodes``, ``coarse_links``, ``coarse_km`` (directed), ``border_joins``
        (list of ``{osm_node, coarse_node, country, km}``), ``km_by_country``.

    Raises
    ------
    InputDataError
        If a coarse country's links reach no OSM node within ``join_km`` and no other coarse
        country (it would be cut off from the graph).
    """
    if len(nodes) == 0:
        return {"coarse_nodes": 0, "coarse_links": 0, "coarse_km": 0.0, "border_joins": []}
    start = max((int(n) for n in G.nodes), default=-1) + 1
    nid = {str(e): start + i for i, e in enumerate(nodes["node_id"].astype(str))}
    xy = nodes.set_index(nodes["node_id"].astype(str))[["x", "y", "lon", "lat"]]
    cc_of = dict(zip(nodes["node_id"].astype(str), nodes["country"], strict=True))
    osm_nodes = np.array(list(G.nodes), dtype=np.int64)
    osm_xy = np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in osm_nodes], float)
    for e, i in nid.items():
        r = xy.loc[e]
        G.add_node(
            i,
            x=float(r.x),
            y=float(r.y),
            lon=float(r.lon),
            lat=float(r.lat),
            etisplus=e,
            country=cc_of[e],
        )
    km_by: dict[str, float] = {}
    n_links = 0

    def add(a: int, b: int, length_m: float, country: str, tag: str) -> None:
        nonlocal n_links
        pa, pb = G.nodes[a], G.nodes[b]
        attrs = _link_attrs(pa["x"], pa["y"], pb["x"], pb["y"], length_m, speed_kph, country, tag)
        G.add_edge(a, b, **attrs)
        km_by[country] = km_by.get(country, 0.0) + length_m / 1000.0
        n_links += 1

    for r in edges.itertuples(index=False):
        u, v = str(r.u), str(r.v)
        if u in nid and v in nid and u != v:
            add(nid[u], nid[v], r.distance_km * 1000.0, str(r.country), f"{u}>{v}")
    if crossings is not None:
        for c in crossings.itertuples(index=False):
            a, b = str(c.node_a), str(c.node_b)
            if a in nid and b in nid:
                add(nid[a], nid[b], c.distance_km * 1000.0, cc_of[a], f"{a}>{b}")
                add(nid[b], nid[a], c.distance_km * 1000.0, cc_of[b], f"{b}>{a}")
    joins = []
    if len(osm_nodes):
        cxy = xy[["x", "y"]].to_numpy(float)
        ids = list(xy.index)
        dist, j = cKDTree(cxy).query(osm_xy, distance_upper_bound=join_km * 1000.0)
        ok = np.isfinite(dist)
        pairs = pd.DataFrame({"osm": osm_nodes[ok], "coarse": j[ok], "d": dist[ok]})
        # mutual nearest: the OSM node closest to the coarse node must have it as its nearest
        # coarse node; plus the next OSM node of that group within 2 km (the other
        # carriageway's end of the same approach)
        pairs = pairs.sort_values(["coarse", "d", "osm"], kind="stable")
        _, nearest_osm = cKDTree(osm_xy).query(cxy)
        first = pairs.groupby("coarse").head(1)
        first = first[osm_nodes[nearest_osm[first["coarse"].to_numpy()]] == first["osm"]]
        pairs = pairs[pairs["coarse"].isin(first["coarse"])]
        best = pairs.groupby("coarse")["d"].transform("min")
        pairs = pairs[pairs["d"] <= best + 2000.0].groupby("coarse").head(2)
        for r in pairs.itertuples(index=False):
            e = ids[int(r.coarse)]
            a, b = int(r.osm), nid[e]
            cc = cc_of[e]
            add(a, b, float(r.d), cc, f"{a}>{e}")
            add(b, a, float(r.d), cc, f"{e}>{a}")
            joins.append({"osm_node": a, "coarse_node": e, "country": cc, "km": r.d / 1000.0})
    joined = {j["country"] for j in joins}
    linked = set(joined)
    if crossings is not None and len(crossings):
        changed = True
        while changed:
            changed = False
            for c in crossings.itertuples(index=False):
                pair = {c.country_a, c.country_b}
                if pair & linked and not pair <= linked:
                    linked |= pair
                    changed = True
    cut = sorted(set(nodes["country"]) - linked)
    if cut:
        msg = (
            f"network.coarse_countries {cut}: no OSM road node within coarse_join_km = {join_km:g} "
            "km of their ETISplus nodes and no link to another coarse country; raise "
            "network.coarse_join_km or load the neighbouring country's roads"
        )
        raise InputDataError(msg)
    return {
        "coarse_nodes": len(nid),
        "coarse_links": n_links,
        "coarse_km": round(sum(km_by.values()), 3),
        "km_by_country": {k: round(v, 3) for k, v in sorted(km_by.items())},
        "border_joins": joins,
        "credit": ETISPLUS_CREDIT,
    }
