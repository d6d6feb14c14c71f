"""Writing and presenting the AFIR report: ``afir.csv``, the summary's table and the map layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corridor.assess.afir import AfirReport

__all__ = ["add_afir_layer", "afir_markdown", "write_afir_csv"]


def write_afir_csv(report: AfirReport, path: Path) -> None:
    """Write ``afir.csv``: one row per corridor, direction and requirement."""
    report.table.to_csv(path, index=False)


def afir_markdown(report: AfirReport) -> list[str]:
    """Markdown lines for the run's summary: one verdict per corridor, direction, requirement."""
    lines = [
        "| corridor | direction | requirement | largest gap (km) | covered | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for name, reason in report.skipped:
        lines.append(f"| {name} | – | – | – | – | not on this scenario's road graph: {reason} |")
    for r in report.table.itertuples(index=False):
        verdict = "pass" if r.passed else f"FAIL ({r.failing_stretches or 'coverage share'})"
        lines.append(
            f"| {r.corridor} | {r.direction} | {r.requirement} (max {r.max_spacing_km:g} km, "
            f"{r.min_pool}, {r.required_share:.0%} of length) | {r.largest_gap_km:,.0f} | "
            f"{r.covered_share:.0%} | {verdict.replace('|', '/')} |"
        )
    return lines


def add_afir_layer(fmap: Any, report: AfirReport) -> None:
    """Add the AFIR stretches (green within spacing, red too long) as a map layer."""
    import folium

    from corridor.outputs.maps import _html, _popup_table

    group = folium.FeatureGroup(name="AFIR corridors (stretches between compliant pools)")
    if len(report.stretches):
        gdf = report.stretches.copy()
        gdf["geometry"] = gdf.geometry.simplify(50.0)
        gdf = gdf.to_crs("EPSG:4326")
        for row in gdf.itertuples():
            if row.geometry is None or row.geometry.is_empty:
                continue
            colour = "#2f9e44" if row.ok else "#e03131"
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda _f, c=colour: {
                    "color": c,
                    "weight": 6,
                    "opacity": 0.45,
                },
                popup=folium.Popup(
                    _popup_table(
                        {
                            "Corridor": row.corridor,
                            "Direction": row.direction,
                            "Requirement": row.requirement,
                            "Stretch": f"{row.from_name} → {row.to_name}",
                            "Length (km)": float(row.length_km),
                            "Within spacing": "yes" if row.ok else "NO",
                        }
                    ),
                    max_width=360,
                ),
                tooltip=_html(
                    f"AFIR {row.requirement}: {row.from_name} → {row.to_name} "
                    f"{row.length_km:.0f} km {'ok' if row.ok else 'too long'}"
                ),
            ).add_to(group)
    group.add_to(fmap)
