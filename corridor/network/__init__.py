"""Road network: OSM motorway/trunk lines → directed truck graph (EPSG:3035).

Entry points funnel into one builder, :func:`graph_from_lines`:

- :func:`read_lines` for OSM-derived line layers (GeoJSON / GeoPackage / GeoParquet) and, via
  :func:`read_osm` (pyosmium), raw ``.osm`` XML / ``.osm.pbf`` files;
- :func:`graph_from_osmnx` downloads a polygon / bbox with osmnx (online, cached by osmnx);
- :func:`load_graph` for the scenario's region (countries, NUTS ids, bbox, polygon file) from the
  data catalogue, cached on disk.

Named corridors: :func:`load_corridors` (the one reader of the corridor files),
:func:`corridor_paths` (directed path each way), :func:`afir_corridor_paths`, :func:`corridor_line`,
:func:`path_line` and :func:`path_km_by_country` (geometry and km per country of a path).

Place names: :mod:`corridor.network.places` (the gazetteer).

Matrix: :func:`edge_matrix`, the one graph-to-matrix builder (shortest parallel edge per node
pair) under :func:`to_csgraph`, flow routing and the optimiser's edge lengths.

Queries: :func:`edges_gdf`, :func:`nodes_gdf`, :func:`nearest_node`, :func:`snap_points`,
:func:`to_csgraph`, :func:`shortest_route` (returns a :class:`Route`).
"""

from __future__ import annotations

from corridor.network.build import (
    CONNECTOR,
    GRAPH_CRS,
    edge_speeds_kph,
    graph_from_lines,
    oneway_direction,
)
from corridor.network.corridors import (
    CORRIDOR_FILES,
    Corridor,
    afir_corridor_paths,
    corridor_line,
    corridor_paths,
    load_corridors,
    path_km_by_country,
    path_line,
    read_corridors,
)
from corridor.network.download import (
    graph_from_osmnx,
    lines_from_osmnx,
    osmnx_filter,
    osmnx_request,
)
from corridor.network.io import is_osm_file, read_lines, read_osm
from corridor.network.load import (
    default_cache_dir,
    load_graph,
    read_countries,
    region_polygon,
    select_files,
)
from corridor.network.matrix import EdgeMatrix, edge_matrix
from corridor.network.query import (
    Route,
    edges_gdf,
    nearest_node,
    nodes_gdf,
    shortest_route,
    snap_points,
    to_csgraph,
    unique_refs,
)

__all__ = [
    "CONNECTOR",
    "CORRIDOR_FILES",
    "GRAPH_CRS",
    "Corridor",
    "EdgeMatrix",
    "Route",
    "afir_corridor_paths",
    "corridor_line",
    "corridor_paths",
    "default_cache_dir",
    "edge_matrix",
    "edge_speeds_kph",
    "edges_gdf",
    "graph_from_lines",
    "graph_from_osmnx",
    "is_osm_file",
    "lines_from_osmnx",
    "load_corridors",
    "load_graph",
    "nearest_node",
    "nodes_gdf",
    "oneway_direction",
    "osmnx_filter",
    "osmnx_request",
    "path_km_by_country",
    "path_line",
    "read_corridors",
    "read_countries",
    "read_lines",
    "read_osm",
    "region_polygon",
    "select_files",
    "shortest_route",
    "snap_points",
    "to_csgraph",
    "unique_refs",
]
