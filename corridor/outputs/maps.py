"""Interactive folium maps of a plan.

The map is one self-contained HTML file: vector layers are embedded as GeoJSON, an OpenStreetMap
tile layer is added for when the viewer is online (without network the vector layers still show),
and every text that comes from data is HTML-escaped.
"""

from __future__ import annotations

import html
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element

from corridor.catalogue import FLOWS_ATTRIBUTION, OSM_ATTRIBUTION

__all__ = ["plan_map", "write_map"]

ROAD_COLOURS = {
    "motorway": "#6b6b6b",
    "trunk": "#9a8f7a",
    "motorway_link": "#b0b0b0",
    "trunk_link": "#c4bca8",
}
ATTRIBUTION_HTML = f"{html.escape(OSM_ATTRIBUTION)} (ODbL) | {html.escape(FLOWS_ATTRIBUTION)}"


def _esc(value: object) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return html.escape(str(value))


def _popup_table(rows: dict[str, object]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows.items()
    )
    return f"<table class='corridor-popup'>{cells}</table>"


def _lines_4326(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out["geometry"] = out.geometry.simplify(tolerance_m)
    return out.to_crs("EPSG:4326")


def plan_map(
    edges: gpd.GeoDataFrame,
    flow_edges: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    shortlist: gpd.GeoDataFrame,
    title: str,
    technology: str,
    max_flow_edges: int = 4000,
) -> folium.Map:
    """Build the plan map.

    Parameters
    ----------
    edges
        Road graph edges (EPSG:3035) with ``highway``, ``ref``.
    flow_edges
        Directed edges with ``ze_trucks_per_day`` and ``trucks_per_day`` (EPSG:3035).
    candidates
        All candidate sites (EPSG:3035) with ``name``, ``kind``, ``direction``.
    shortlist
        Chosen sites (EPSG:4326), output of :func:`corridor.outputs.plan.shortlist_frame`.
    title
        Map title (escaped).
    technology
        ``bev`` or ``h2``: sizes markers by MW or kg/day.
    max_flow_edges
        Only the most loaded flow edges are drawn, to keep the file small.

    Returns
    -------
    folium.Map
    """
    bounds = candidates.to_crs("EPSG:4326").total_bounds if len(candidates) else None
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    folium.TileLayer(
        "OpenStreetMap", name="OpenStreetMap tiles (online only)", attr=ATTRIBUTION_HTML
    ).add_to(fmap)

    # Road network: motorways by class.
    roads = folium.FeatureGroup(name="Road network (motorway / trunk)")
    road_lines = _lines_4326(edges[["highway", "ref", "geometry"]], 60.0)
    folium.GeoJson(
        road_lines,
        style_function=lambda f: {
            "color": ROAD_COLOURS.get(f["properties"]["highway"], "#999"),
            "weight": 1.5 if f["properties"]["highway"].endswith("link") else 2.5,
            "opacity": 0.8,
        },
        tooltip=folium.GeoJsonTooltip(fields=["ref", "highway"], aliases=["Road", "Class"]),
    ).add_to(roads)
    roads.add_to(fmap)

    # Flows: line width by planned-technology trucks per day.
    flows = folium.FeatureGroup(name="Truck flows (trucks/day)")
    if len(flow_edges):
        top = flow_edges.nlargest(max_flow_edges, "trucks_per_day")
        top = _lines_4326(top[["trucks_per_day", "ze_trucks_per_day", "ref", "geometry"]], 60.0)
        vmax = float(top["trucks_per_day"].max()) or 1.0
        top["trucks_per_day"] = top["trucks_per_day"].round(0)
        top["ze_trucks_per_day"] = top["ze_trucks_per_day"].round(1)
        folium.GeoJson(
            top,
            style_function=lambda f: {
                "color": "#d9480f",
                "weight": 1 + 9 * f["properties"]["trucks_per_day"] / vmax,
                "opacity": 0.55,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["ref", "trucks_per_day", "ze_trucks_per_day"],
                aliases=[
                    "Road",
                    "All trucks/day (this direction)",
                    f"{technology.upper()} trucks/day",
                ],
            ),
        ).add_to(flows)
    flows.add_to(fmap)

    # Candidates: small and grey.
    cand = folium.FeatureGroup(name=f"Candidate sites ({len(candidates)})")
    for row in candidates.to_crs("EPSG:4326").itertuples():
        folium.CircleMarker(
            location=(row.geometry.y, row.geometry.x),
            radius=3,
            color="#777",
            weight=1,
            fill=True,
            fill_opacity=0.5,
            tooltip=html.escape(f"{row.name or row.Index} ({row.kind}, {row.direction})"),
        ).add_to(cand)
    cand.add_to(fmap)

    # Selected sites: sized by MW or kg/day.
    chosen = folium.FeatureGroup(name=f"Selected sites ({len(shortlist)})")
    size_col = "power_mw" if technology == "bev" else "capacity_kg_per_day"
    size_max = float(pd.to_numeric(shortlist[size_col], errors="coerce").max() or 1.0)
    for row in shortlist.itertuples():
        size = float(getattr(row, size_col) or 0.0)
        popup = _popup_table(
            {
                "Rank": row.rank,
                "Name": row.name,
                "Site id": row.site_id,
                "Kind": row.kind,
                "Direction": row.direction,
                "Chargers" if technology == "bev" else "Modules": row.chargers,
                "Power (MW)" if technology == "bev" else "Capacity (kg/day)": size,
                "Served trucks/day": row.served_trucks_per_day,
                "Energy (MWh/day)" if technology == "bev" else "H2 (kg/day)": (
                    row.energy_mwh_per_day if technology == "bev" else row.h2_kg_per_day
                ),
                "Grid status": row.congestion,
                "Connection": row.connection,
                "Headroom (MW)": row.headroom_mw,
                "Distance to substation (km)": row.grid_distance_km,
            }
        )
        folium.CircleMarker(
            location=(row.lat, row.lon),
            radius=8 + 10 * size / size_max,
            color="#0b7285" if technology == "bev" else "#5f3dc4",
            weight=2,
            fill=True,
            fill_opacity=0.85,
            popup=folium.Popup(popup, max_width=360),
            tooltip=html.escape(f"#{row.rank} {row.name}"),
        ).add_to(chosen)
    chosen.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    legend = f"""
    <div id="corridor-legend" style="position:fixed;bottom:24px;left:12px;z-index:9999;
      background:white;padding:8px 10px;border:1px solid #999;font:12px sans-serif;max-width:340px">
      <b>{html.escape(title)}</b><br>
      <span style="color:#0b7285">&#9679;</span> selected {technology.upper()} site
      (size: capacity)<br>
      <span style="color:#777">&#9679;</span> candidate site<br>
      <span style="color:#d9480f">&#9644;</span> truck flow (width: trucks/day)<br>
      <span style="color:#6b6b6b">&#9644;</span> motorway / trunk<br>
      <small>{ATTRIBUTION_HTML}</small>
    </div>"""
    fmap.get_root().html.add_child(Element(legend))
    if bounds is not None:
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


def write_map(fmap: folium.Map, path: Path) -> None:
    """Write the map as one self-contained HTML file."""
    fmap.save(str(path))
