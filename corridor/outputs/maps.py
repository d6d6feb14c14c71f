"""Interactive folium maps of a plan.

The map is one self-contained HTML file: vector layers are embedded as GeoJSON, an OpenStreetMap
tile layer is added for when the viewer is online (without network the vector layers still show),
and every text that comes from data is HTML-escaped.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element

from corridor.catalogue import FLOWS_ATTRIBUTION, OSM_ATTRIBUTION
from corridor.outputs.offline import inline_leaflet

__all__ = [
    "CONGESTION_COLOURS",
    "LEGEND_LINES",
    "OFFER_COLOURS",
    "add_congestion_layer",
    "add_pilot_corridors_layer",
    "add_substations_layer",
    "plan_map",
    "write_map",
]

ROAD_COLOURS = {
    "motorway": "#6b6b6b",
    "trunk": "#9a8f7a",
    "motorway_link": "#b0b0b0",
    "trunk_link": "#c4bca8",
    "etisplus_link": "#7b6fa8",
}
ATTRIBUTION_HTML = f"{html.escape(OSM_ATTRIBUTION)} (ODbL) | {html.escape(FLOWS_ATTRIBUTION)}"


def _html(text: object) -> str:
    r"""HTML-escape, and neutralise ` $ and \ (folium puts popups in JS template literals)."""
    out = html.escape(str(text))
    return out.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def _esc(value: object) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return _html(value)


def _popup_table(rows: dict[str, object]) -> str:
    cells = "".join(f"<tr><th>{_html(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows.items())
    return f"<table class='corridor-popup'>{cells}</table>"


def _lines_4326(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    out = gdf.copy()
    # plain Douglas–Peucker: topology preservation is for polygons and costs 10x on road lines
    out["geometry"] = out.geometry.simplify(tolerance_m, preserve_topology=False)
    return out.to_crs("EPSG:4326")


def _roads_by_ref(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One MultiLineString per (highway class, road number): far fewer features to draw."""
    ref = edges["ref"].fillna("").astype(str)
    codes, keys = pd.factorize(pd.MultiIndex.from_arrays([edges["highway"].astype(str), ref]))
    order = np.argsort(codes, kind="stable")  # shapely wants the group indices sorted
    geoms = shapely.multilinestrings(edges.geometry.to_numpy()[order], indices=codes[order])
    return gpd.GeoDataFrame(
        {
            "highway": [k[0] for k in keys],
            "ref": [k[1] for k in keys],
        },
        geometry=geoms,
        crs=edges.crs,
    )


def plan_map(
    edges: gpd.GeoDataFrame,
    flow_edges: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    shortlist: gpd.GeoDataFrame,
    title: str,
    technology: str,
    max_flow_edges: int = 4000,
    legend_extra: tuple[str, ...] = (),
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
    legend_extra
        Further legend lines (trusted HTML, see :data:`LEGEND_LINES`) for layers added later.

    Returns
    -------
    folium.Map
    """
    bounds = candidates.to_crs("EPSG:4326").total_bounds if len(candidates) else None
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False)
    attr = ATTRIBUTION_HTML
    sources = candidates["source"].astype(str) if "source" in candidates else pd.Series(dtype=str)
    if sources.str.contains("existing_charging").any():
        attr += " | Quelle: Bundesnetzagentur, Ladesäulenregister (CC BY 4.0)"
    if "highway" in edges and (edges["highway"] == "etisplus_link").any():
        attr += " | dashed: coarse ETISplus links (Speth et al. 2022, CC BY 4.0)"
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap tiles (online only)", attr=attr).add_to(
        fmap
    )

    # Road network: motorways by class.
    roads = folium.FeatureGroup(name="Road network (motorway / trunk)")
    road_lines = _lines_4326(_roads_by_ref(edges), 60.0)
    road_lines["ref"] = road_lines["ref"].map(_html)  # tooltips insert raw HTML
    folium.GeoJson(
        road_lines,
        style_function=lambda f: {
            "color": ROAD_COLOURS.get(f["properties"]["highway"], "#999"),
            "weight": 1.5 if f["properties"]["highway"].endswith("link") else 2.5,
            "opacity": 0.8,
            # coarse ETISplus links (no OSM lines there): straight, dashed
            **({"dashArray": "6 6"} if f["properties"]["highway"] == "etisplus_link" else {}),
        },
        tooltip=folium.GeoJsonTooltip(fields=["ref", "highway"], aliases=["Road", "Class"]),
    ).add_to(roads)
    roads.add_to(fmap)

    # Flows: line width by planned-technology trucks per day.
    flows = folium.FeatureGroup(name="Truck flows (trucks/day)")
    if len(flow_edges):
        top = flow_edges.nlargest(max_flow_edges, "trucks_per_day")
        top = _lines_4326(top[["trucks_per_day", "ze_trucks_per_day", "ref", "geometry"]], 60.0)
        top["ref"] = top["ref"].fillna("").map(_html)
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
    if len(candidates):
        # one GeoJSON layer (not one marker each): keeps the page light with thousands of sites
        pts = candidates.to_crs("EPSG:4326")
        names = pts["name"].fillna("").astype(str).where(pts["name"].fillna("") != "")
        labels = names.fillna(pd.Series(pts.index.astype(str), index=pts.index))
        label = labels + " (" + pts["kind"].astype(str) + ", " + pts["direction"].astype(str) + ")"
        cand_gdf = gpd.GeoDataFrame({"label": label.map(_html)}, geometry=pts.geometry)
        folium.GeoJson(
            cand_gdf,
            marker=folium.CircleMarker(
                radius=3, color="#777", weight=1, fill=True, fill_color="#777", fill_opacity=0.5
            ),
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        ).add_to(cand)
    cand.add_to(fmap)

    # Selected sites: sized by MW or kg/day.
    chosen = folium.FeatureGroup(name=f"Selected sites ({len(shortlist)})")
    joint = "offers" in shortlist.columns
    size_col = (
        "served_trucks_per_day"
        if joint
        else ("power_mw" if technology == "bev" else "capacity_kg_per_day")
    )
    size_max = float(pd.to_numeric(shortlist[size_col], errors="coerce").max() or 1.0)
    for row in shortlist.itertuples():
        size = float(getattr(row, size_col) or 0.0)
        if not math.isfinite(size):
            size = 0.0
        if joint:
            _joint_marker(chosen, row, 8 + 10 * size / size_max)
            continue
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
            tooltip=_html(f"#{row.rank} {row.name}"),
        ).add_to(chosen)
    chosen.add_to(fmap)

    folium.LayerControl(collapsed=False).add_to(fmap)
    legend = f"""
    <div id="corridor-legend" style="position:fixed;bottom:56px;left:12px;z-index:9999;
      background:white;padding:8px 10px;border:1px solid #999;font:12px sans-serif;max-width:340px">
      <b>{html.escape(title)}</b><br>
      {_selected_legend(technology, joint)}
      <span style="color:#777">&#9679;</span> candidate site<br>
      <span style="color:#d9480f">&#9644;</span> truck flow (width: trucks/day)<br>
      <span style="color:#6b6b6b">&#9644;</span> motorway / trunk<br>
      {"".join(line + "<br>" for line in legend_extra)}
      <small>{ATTRIBUTION_HTML}</small>
    </div>"""
    fmap.get_root().html.add_child(Element(legend))
    if bounds is not None:
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


#: folium's popups call jQuery's ``$(html)[0]``; without jQuery this tiny stand-in parses the
#: (escaped) popup HTML into its element.
JQUERY_POPUP_SHIM = (
    "<script>window.$ = window.$ || function (s) {"
    " var t = document.createElement('template'); t.innerHTML = String(s).trim();"
    " return [t.content.firstElementChild]; };</script>"
)


def write_map(fmap: folium.Map, path: Path) -> None:
    """Write the map as one self-contained HTML file (Leaflet inlined, see ``offline``)."""
    fmap = inline_leaflet(fmap)
    fmap.get_root().header.add_child(Element(JQUERY_POPUP_SHIM), name="jquery_popup_shim")
    # the layer control must come after every layer added later (add_*_layer), or it refers to
    # layers not yet defined in the page's script
    for name in [k for k, v in fmap._children.items() if isinstance(v, folium.LayerControl)]:
        fmap._children[name] = fmap._children.pop(name)
    stable_element_ids(fmap)
    fmap.save(str(path))


def stable_element_ids(fmap: folium.Map) -> None:
    """Give the map's elements tree-order numbers instead of folium's random ids (uuid4).

    Children registered under their generated name (templates such as the popup's iterate those
    keys) are re-keyed with the new name. The same map then renders to the same bytes.
    """
    elements: list = []
    seen: set[int] = set()
    stack = [fmap.get_root()]
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        elements.append(el)
        children = list(getattr(el, "_children", {}).values())
        for part in ("header", "html", "script"):
            sub = getattr(el, part, None)
            if sub is not None and hasattr(sub, "_children"):
                children.append(sub)
        stack.extend(reversed(children))
    old_names = {id(el): el.get_name() for el in elements if hasattr(el, "_id")}
    for k, el in enumerate(e for e in elements if hasattr(e, "_id")):
        el._id = f"{k:032x}"
    for el in elements:
        kids = getattr(el, "_children", None)
        if kids:
            el._children = type(kids)(
                (child.get_name() if old_names.get(id(child)) == key else key, child)
                for key, child in kids.items()
            )


CONGESTION_COLOURS = {
    "available": "#40c057",
    "limited": "#fab005",
    "congested": "#e03131",
    "unknown": "#adb5bd",
}

#: Marker colour of a joint plan's sites by what they offer (``offers`` of the shortlist).
OFFER_COLOURS = {"bev": "#0b7285", "h2": "#5f3dc4", "bev+h2": "#e8590c"}


def _selected_legend(technology: str, joint: bool) -> str:
    if not joint:
        return (
            f'<span style="color:#0b7285">&#9679;</span> selected {technology.upper()} site '
            "(size: capacity)<br>"
        )
    names = {"bev": "BEV chargers", "h2": "H2 refuelling", "bev+h2": "both (BEV + H2 hub)"}
    return (
        "".join(
            f'<span style="color:{c}">&#9679;</span> selected: {names[k]}<br>'
            for k, c in OFFER_COLOURS.items()
        )
        + "(size: served trucks/day)<br>"
    )


def _joint_marker(layer: Any, row: Any, radius: float) -> None:
    """Draw a joint plan's site, coloured by what it offers, per-technology sizing in the popup."""
    popup = _popup_table(
        {
            "Rank": row.rank,
            "Name": row.name,
            "Site id": row.site_id,
            "Offers": row.offers,
            "Classes served": row.classes,
            "BEV chargers": row.bev_chargers,
            "BEV charger power (MW)": row.bev_charger_mw,
            "BEV trucks/day": row.bev_trucks_per_day,
            "Energy (MWh/day)": row.energy_mwh_per_day,
            "H2 modules": row.h2_modules,
            "H2 capacity (kg/day)": row.capacity_kg_per_day,
            "H2 trucks/day": row.h2_trucks_per_day,
            "H2 (kg/day)": row.h2_kg_per_day,
            "Grid draw (MW)": row.grid_mw,
            "Headroom (MW)": row.headroom_mw,
        }
    )
    folium.CircleMarker(
        location=(row.lat, row.lon),
        radius=radius,
        color=OFFER_COLOURS.get(row.offers, "#0b7285"),
        weight=2,
        fill=True,
        fill_opacity=0.85,
        popup=folium.Popup(popup, max_width=360),
        tooltip=_html(f"#{row.rank} {row.name} ({row.offers})"),
    ).add_to(layer)


#: Legend lines of the optional layers (pass the ones added to ``plan_map(legend_extra=...)``).
LEGEND_LINES = {
    "congestion": "grid congestion: "
    + " ".join(
        f'<span style="color:{c}">&#9632;</span> {k}' for k, c in CONGESTION_COLOURS.items()
    ),
    "substations": '<span style="color:#862e9c">&#9711;</span> substation of a selected site',
    "corridors": '<span style="color:#1c7ed6">&#9476;</span> pilot corridor',
    "afir": '<span style="color:#2f9e44">&#9644;</span> / <span style="color:#e03131">'
    "&#9644;</span> AFIR stretch within / beyond the spacing",
}


def add_congestion_layer(fmap: folium.Map, areas: gpd.GeoDataFrame) -> None:
    """Add grid congestion areas coloured by status, with source and date in the popup.

    Parameters
    ----------
    fmap
        The map.
    areas
        Congestion areas (any CRS) with ``name``, ``status`` (available / limited / congested /
        unknown), ``restricted_hours``, ``source``, ``source_date``.
    """
    group = folium.FeatureGroup(name="Grid congestion areas")
    if len(areas):
        gdf = areas.to_crs("EPSG:4326").copy()
        gdf["geometry"] = gdf.geometry.simplify(0.005)
        for row in gdf.itertuples():
            status = str(getattr(row, "status", "unknown") or "unknown")
            colour = CONGESTION_COLOURS.get(status, CONGESTION_COLOURS["unknown"])
            popup = _popup_table(
                {
                    "Area": getattr(row, "name", ""),
                    "Status": status,
                    "Restricted hours": getattr(row, "restricted_hours", "") or "–",
                    "Source": getattr(row, "source", ""),
                    "Date": getattr(row, "source_date", "") or "–",
                }
            )
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda _f, c=colour: {
                    "color": c,
                    "weight": 1,
                    "fillColor": c,
                    "fillOpacity": 0.15,
                },
                popup=folium.Popup(popup, max_width=360),
                tooltip=_html(f"{getattr(row, 'name', '')}: {status}"),
            ).add_to(group)
    group.add_to(fmap)


def add_substations_layer(
    fmap: folium.Map, substations: gpd.GeoDataFrame, shortlist: gpd.GeoDataFrame
) -> None:
    """Add the substations the chosen sites connect to (``shortlist.substation_id``).

    Parameters
    ----------
    fmap
        The map.
    substations
        Substations (any CRS) indexed by ``substation_id`` with ``name``, ``voltage_kv``,
        ``operator``, ``source``.
    shortlist
        The chosen sites with ``substation_id`` and ``grid_distance_km``.
    """
    group = folium.FeatureGroup(name="Substations of the selected sites")
    wanted = [s for s in shortlist.get("substation_id", pd.Series(dtype=str)) if isinstance(s, str)]
    subs = substations[substations.index.isin(wanted)].to_crs("EPSG:4326")
    for sid, row in subs.iterrows():
        sites = shortlist[shortlist["substation_id"] == sid]
        folium.CircleMarker(
            location=(row.geometry.y, row.geometry.x),
            radius=6,
            color="#862e9c",
            weight=3,
            fill=True,
            fill_color="#ffffff",
            fill_opacity=0.9,
            popup=folium.Popup(
                _popup_table(
                    {
                        "Substation": row.get("name", "") or sid,
                        "Id": sid,
                        "Voltage (kV)": row.get("voltage_kv"),
                        "Operator": row.get("operator", ""),
                        "Source": row.get("source", ""),
                        "Serves": ", ".join(
                            f"#{r} {n}" for r, n in zip(sites["rank"], sites["name"], strict=True)
                        ),
                    }
                ),
                max_width=360,
            ),
            tooltip=_html(f"substation {row.get('name', '') or sid}"),
        ).add_to(group)
    group.add_to(fmap)


def add_pilot_corridors_layer(fmap: folium.Map, corridors: gpd.GeoDataFrame) -> None:
    """Add the named pilot corridors (one line per corridor and direction)."""
    group = folium.FeatureGroup(name="Pilot corridors")
    if len(corridors):
        gdf = corridors.copy()
        gdf["geometry"] = gdf.geometry.simplify(100.0)
        gdf = gdf.to_crs("EPSG:4326")
        for row in gdf.itertuples():
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda _f: {"color": "#1c7ed6", "weight": 3, "dashArray": "4 8"},
                tooltip=_html(f"{row.corridor}: {row.waypoints} ({row.length_km:,.0f} km)"),
            ).add_to(group)
    group.add_to(fmap)
