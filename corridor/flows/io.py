"""Writers of the flows stage (atomic: see :func:`corridor._files.atomic_file`)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd

from corridor._files import atomic_file
from corridor._validate import GRAPH_CRS
from corridor.flows.build import FlowSet

__all__ = ["edge_flows_frame", "write_edge_flows_gpkg", "write_od_parquet"]

OD_FILE_COLUMNS = [
    "od_id",
    "origin",
    "destination",
    "origin_country",
    "destination_country",
    "origin_node",
    "destination_node",
    "trucks_per_day",
    "ze_trucks_per_day",
    "year",
    "length_km",
    "countries",
    "n_countries",
    "stitched_share",
    "origin_connector_km",
    "destination_connector_km",
    "source",
    "firm",
]


def write_od_parquet(flows: FlowSet, path: str | Path, with_paths: bool = False) -> Path:
    """Write the OD flows to Parquet (``od_flows.parquet``).

    Columns :data:`OD_FILE_COLUMNS` (``length_km`` = on-graph path length, ``countries`` =
    countries crossed in driving order, ``n_countries``); with ``with_paths`` also ``path`` as a
    list of graph node ids.

    Returns
    -------
    Path
        The written file.
    """
    od = flows.od.assign(
        length_km=flows.od["path_length_km"],
        n_countries=flows.od["countries"].str.split(";").str.len(),
    )
    cols = OD_FILE_COLUMNS + (["path"] if with_paths else [])
    out = od[cols].copy()
    if with_paths:
        out["path"] = out["path"].map(list)
    with atomic_file(path) as tmp:
        out.to_parquet(tmp, index=False)
    return Path(path)


def edge_flows_frame(flows: FlowSet, G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Directed edges carrying flow with their geometry (EPSG:3035), for maps and GeoPackage.

    Columns: ``edge_id``, ``u``, ``v``, ``key``, ``trucks_per_day``, ``ze_trucks_per_day``,
    ``ref``, ``highway``, ``country``, ``length_m``, ``bearing_deg``, geometry.
    """
    ev = flows.edge_volumes
    attrs = [G.edges[u, v, k] for u, v, k in ev[["u", "v", "key"]].itertuples(index=False)]
    extra = pd.DataFrame(
        {
            c: [a.get(c, "") for a in attrs]
            for c in ("edge_id", "ref", "highway", "country", "length_m", "bearing_deg")
        },
        index=ev.index,
    )
    df = pd.concat([ev, extra], axis=1)
    df["key"] = df["key"].astype(str)
    geom = [a.get("geometry") for a in attrs]
    gdf = gpd.GeoDataFrame(df, geometry=geom, crs=G.graph.get("crs", GRAPH_CRS))
    return gdf.sort_values("trucks_per_day", ascending=False).reset_index(drop=True)


def write_edge_flows_gpkg(
    flows: FlowSet,
    G: nx.MultiDiGraph,
    path: str | Path,
    layer: str = "edge_flows",
) -> Path:
    """Write the directed edge volumes (``trucks_per_day``) as a GeoPackage layer.

    Returns
    -------
    Path
        The written file.
    """
    gdf = edge_flows_frame(flows, G)
    with atomic_file(path) as tmp:
        gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
    return Path(path)
