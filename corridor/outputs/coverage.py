"""Writing and presenting route coverage: ``coverage.csv``, ``coverage_stops.csv`` and the map."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

from corridor.assess.coverage import Coverage
from corridor.directions import DIRECTIONS

__all__ = ["coverage_map", "write_coverage_csv", "write_stops_csv"]


def write_coverage_csv(coverage: Coverage, path: Path) -> None:
    """Write ``coverage.csv``: one row per route and direction (no geometry)."""
    pd.DataFrame(coverage.routes.drop(columns="geometry")).to_csv(
        path, index=False, quoting=csv.QUOTE_MINIMAL
    )


def write_stops_csv(coverage: Coverage, path: Path) -> None:
    """Write ``coverage_stops.csv``: one row per charging / refuelling stop."""
    coverage.stops.to_csv(path, index=False)


def coverage_map(coverage: Coverage, sites: pd.DataFrame, title: str) -> Any:
    """Map of the routes (green served / red not served, per direction) and their stops.

    Parameters
    ----------
    coverage
        Output of :func:`corridor.assess.coverage.route_coverage`.
    sites
        The plan's open sites (``lon``, ``lat``, ``name``).
    title
        Shown in the legend (escaped).

    Returns
    -------
    folium.Map
    """
    import html

    import folium
    from branca.element import Element

    from corridor.outputs.maps import ATTRIBUTION_HTML, _html, _popup_table

    fmap = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer(
        "OpenStreetMap", name="OpenStreetMap tiles (online only)", attr=ATTRIBUTION_HTML
    ).add_to(fmap)
    lines = coverage.routes.copy()
    lines["geometry"] = lines.geometry.simplify(50.0)
    lines = lines.to_crs("EPSG:4326")
    for direction, dash in zip(DIRECTIONS, (None, "8 6"), strict=True):
        group = folium.FeatureGroup(name=f"Routes {direction}")
        for row in lines[lines["direction"] == direction].itertuples():
            served = bool(row.feasible)
            popup = _popup_table(
                {
                    "Route": row.route_id,
                    "From → to": f"{row.origin} → {row.destination}",
                    "Served": "yes" if served else "no",
                    "Distance (km)": float(row.distance_km),
                    "Stops": row.stop_names or "none",
                    "Charging (min)": float(row.charge_min_total),
                    "Longest gap (km)": float(row.longest_gap_km),
                    "Why not": row.reason or "–",
                }
            )
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda _f, c=("#2b8a3e" if served else "#c92a2a"), d=dash: {
                    "color": c,
                    "weight": 4,
                    "opacity": 0.8,
                    "dashArray": d,
                },
                popup=folium.Popup(popup, max_width=380),
                tooltip=_html(
                    f"{row.route_id} ({direction}): {'served' if served else 'NOT served'}"
                ),
            ).add_to(group)
        group.add_to(fmap)
    stops = folium.FeatureGroup(name=f"Stops ({len(coverage.stops)})")
    for s in coverage.stops.itertuples():
        folium.CircleMarker(
            location=(s.lat, s.lon),
            radius=7,
            color="#1864ab",
            fill=True,
            fill_opacity=0.9,
            popup=folium.Popup(
                _popup_table(
                    {
                        "Route": f"{s.route_id} ({s.direction}), stop {s.stop_no}",
                        "Site": f"{s.name} ({s.site_id})",
                        "Arrival SoC": f"{100 * s.arrival_soc:.0f} %",
                        "Departure SoC": f"{100 * s.departure_soc:.0f} %",
                        f"Energy ({s.energy_unit})": float(s.energy),
                        "Minutes": float(s.charge_min),
                        "Can be the 45-min break": "yes" if s.break_here else "no",
                    }
                ),
                max_width=360,
            ),
            tooltip=_html(f"stop {s.stop_no}: {s.name or s.site_id}"),
        ).add_to(stops)
    stops.add_to(fmap)
    plan = folium.FeatureGroup(name=f"Plan sites ({len(sites)})")
    for sid, row in sites.iterrows():
        folium.CircleMarker(
            location=(float(row["lat"]), float(row["lon"])),
            radius=4,
            color="#495057",
            fill=True,
            fill_opacity=0.6,
            tooltip=_html(f"{row.get('name', '')} ({sid}, {row.get('direction', '')})"),
        ).add_to(plan)
    plan.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    n_ok = int(coverage.routes["feasible"].sum())
    legend = f"""
    <div id="corridor-legend" style="position:fixed;bottom:56px;left:12px;z-index:9999;
      background:white;padding:8px 10px;border:1px solid #999;font:12px sans-serif;max-width:340px">
      <b>{html.escape(title)}</b><br>
      truck: {html.escape(coverage.truck)}; {n_ok} of {len(coverage.routes)} route directions served
      <br><span style="color:#2b8a3e">&#9644;</span> served
      <span style="color:#c92a2a">&#9644;</span> not served (dashed: inbound direction)<br>
      <span style="color:#1864ab">&#9679;</span> charging / refuelling stop<br>
      <small>{ATTRIBUTION_HTML}</small>
    </div>"""
    fmap.get_root().html.add_child(Element(legend))
    if len(lines):
        b = lines.total_bounds
        fmap.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    return fmap
