"""Presenting a plan held against a reference site list: the tables and the map."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["compare_sites_map", "write_compare_csv"]


def write_compare_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a comparison table (sites or summary) as CSV."""
    frame.to_csv(path, index=False)


def compare_sites_map(
    sites: pd.DataFrame, within_km: float, reference_name: str, title: str
) -> Any:
    """Map of plan and reference sites, matched (green / blue) or not (red / grey).

    Parameters
    ----------
    sites
        The ``sites`` table of :func:`corridor.assess.compare_sites.compare_sites`.
    within_km
        The match distance (km), shown in the legend.
    reference_name
        The reference file's name, credited on the map.
    title
        Shown in the legend (escaped).

    Returns
    -------
    folium.Map
    """
    import folium
    from branca.element import Element

    from corridor.outputs.maps import ATTRIBUTION_HTML, _popup_table

    attr = f"{ATTRIBUTION_HTML} | reference sites: {html.escape(reference_name)}"
    fmap = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap tiles (online only)", attr=attr).add_to(
        fmap
    )
    styles = {
        ("plan", True): ("#2f9e44", "plan site with a reference site within"),
        ("plan", False): ("#e03131", "plan site without a reference site within"),
        ("reference", True): ("#1c7ed6", "reference site with a plan site within"),
        ("reference", False): ("#868e96", "reference site without a plan site within"),
    }
    for (side, matched), (colour, label) in styles.items():
        group = folium.FeatureGroup(name=f"{label} {within_km:g} km")
        part = sites[(sites["side"] == side) & (sites["matched"] == matched)]
        for r in part.itertuples(index=False):
            popup = _popup_table(
                {
                    side: r.name or r.id,
                    "id": r.id,
                    "country / road": f"{r.country} {r.road}".strip(),
                    "nearest other": f"{r.nearest_name or r.nearest_id} ({r.nearest_km:.1f} km)",
                }
            )
            folium.CircleMarker(
                (r.lat, r.lon),
                radius=7 if side == "plan" else 4,
                color=colour,
                fill=True,
                fill_opacity=0.8,
                weight=2 if side == "plan" else 1,
                popup=folium.Popup(popup, max_width=360),
                tooltip=html.escape(str(r.name or r.id)),
            ).add_to(group)
        group.add_to(fmap)
    legend = "<br>".join(
        f'<span style="color:{c}">&#9679;</span> {html.escape(t)} {within_km:g} km'
        for c, t in styles.values()
    )
    fmap.get_root().html.add_child(
        Element(
            '<div style="position:fixed;bottom:20px;left:20px;z-index:1000;background:white;'
            f'padding:6px;font:12px sans-serif"><b>{html.escape(title)}</b><br>{legend}</div>'
        )
    )
    if len(sites):
        fmap.fit_bounds(
            [[sites["lat"].min(), sites["lon"].min()], [sites["lat"].max(), sites["lon"].max()]]
        )
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap
