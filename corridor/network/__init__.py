"""Road network: OSM motorway/trunk lines → directed truck graph (EPSG:3035).

Entry points funnel into one builder, :func:`graph_from_lines`:

- :func:`read_lines` for OSM-derived line layers (GeoJSON / GeoPackage / GeoParquet);
- :func:`load_graph` for the scenario's countries from the data catalogue, cached on disk.

Queries: :func:`edges_gdf`, :func:`nodes_gdf`, :func:`nearest_node`, :func:`snap_points`,
:func:`to_csgraph`, :func:`shortest_route` (returns a :class:`Route`).
"""

from __future__ import annotations

from corridor.network.build import CONNECTOR, GRAPH_CRS, graph_from_lines, oneway_direction
from corridor.network.io import read_lines
from corridor.network.load import default_cache_dir, load_graph, read_countries, select_files
from corridor.network.query import (
    EdgeSnap,
    Route,
    edges_gdf,
    nearest_node,
    nodes_gdf,
    shortest_route,
    snap_points,
    to_csgraph,
)

__all__ = [
    "CONNECTOR",
    "GRAPH_CRS",
    "EdgeSnap",
    "Route",
    "default_cache_dir",
    "edges_gdf",
    "graph_from_lines",
    "load_graph",
    "nearest_node",
    "nodes_gdf",
    "oneway_direction",
    "read_countries",
    "read_lines",
    "select_files",
    "shortest_route",
    "snap_points",
    "to_csgraph",
]
