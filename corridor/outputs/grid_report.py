"""Pictures of the connection load for grid operators: one PNG per substation / area, one page.

:func:`grid_chart` draws a group's 24-hour load stacked by site (MW, the hourly average), the
headroom line (what the group may draw, see :func:`corridor.grid.connection_load`), the shared
spare MW of the substation or area when known, and the restricted windows of its non-firm
connections shaded. :func:`grid_report_html` is a self-contained page (no network) listing
every group with its chart and the table behind it, with the data credits.

Drawing uses matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from corridor.catalogue import FLOWS_ATTRIBUTION, OSM_ATTRIBUTION
from corridor.grid.hours import parse_hours

__all__ = [
    "CREDITS",
    "chart_name",
    "grid_chart",
    "grid_chart_writers",
    "grid_report_html",
]

HOURS = [f"load_mw_{h:02d}" for h in range(24)]
#: Data credits shown on the page.
CREDITS = (
    f"Substations: {OSM_ATTRIBUTION} (ODbL), via the eGon data bundle (DE) and OpenStreetMap "
    "2016 extracts (NL, DK).",
    "Congestion areas: NUTS-2 boundaries © EuroGeographics (Eurostat GISCO); Dutch congestion "
    "status from the grid operators' public statements (see corridor/data/grid/"
    "nl_congestion_provinces.csv) or the operators' capacity tables given.",
    f"Truck flows: {FLOWS_ATTRIBUTION}.",
    "Charging profile: corridor/data/grid/truck_charging_profile.csv (an assumption, see file).",
)
_KEYS = {"substation": "substation_id", "area": "congestion_area_id"}


def chart_name(level: str, group_id: object) -> str:
    """File name of a group's chart, e.g. ``grid_chart_substation_de-egon-123.png``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", str(group_id)).strip("_") or "none"
    return f"grid_chart_{level}_{safe}.png"


def grid_chart(
    row: pd.Series,
    site_load: pd.DataFrame,
    path: Path,
    *,
    level: str = "substation",
    assumption: str = "",
) -> None:
    """Draw one group's 24-hour load against its headroom into a PNG.

    Parameters
    ----------
    row
        The group's row of :func:`corridor.grid.connection_load` (``load_mw_00`` …,
        ``headroom_mw``, ``spare_mw``, ``restricted_hours``, ``site_ids``).
    site_load
        Hourly load (MW) per site: index ``site_id``, 24 columns (hours 0–23).
    path
        The PNG to write.
    level
        ``substation`` or ``area`` (for the title).
    assumption
        Text of an assumed headroom (shown in the title, labelled ASSUMPTION), or "".
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = [s for s in str(row.get("site_ids", "")).split(";") if s]
    hours = np.arange(24)
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    try:
        window = parse_hours(row.get("restricted_hours", ""))
        for h in np.flatnonzero(window):
            ax.axvspan(h - 0.5, h + 0.5, color="#f4cccc", alpha=0.6, lw=0)
        bottom = np.zeros(24)
        colours = matplotlib.colormaps["tab20"]
        for k, sid in enumerate(ids):
            if sid not in site_load.index:
                continue
            y = site_load.loc[sid].to_numpy(float)
            ax.bar(hours, y, bottom=bottom, width=0.85, color=colours(k % 20), label=sid)
            bottom += y
        total = row[HOURS].to_numpy(float)
        if not ids or not bottom.any():
            ax.bar(hours, total, width=0.85, color="#7f9fbf", label="load")
        head = float(row.get("headroom_mw", math.nan))
        low = float(row.get("headroom_in_restricted_window_mw", head))
        if math.isfinite(head):
            line = np.where(window, low if math.isfinite(low) else head, head)
            ax.step(
                np.r_[hours - 0.5, 23.5],
                np.r_[line, line[-1]],
                where="post",
                color="#c00000",
                lw=2,
                label=f"headroom {head:.1f} MW"
                + (f" ({low:.1f} in restricted hours)" if window.any() and low != head else ""),
            )
        spare = float(row.get("spare_mw", math.nan))
        if math.isfinite(spare) and abs(spare - head) > 1e-6:
            ax.axhline(spare, color="#7f0000", ls="--", lw=1, label=f"spare {spare:.1f} MW")
        if window.any():
            ax.plot([], [], color="#f4cccc", lw=8, label="restricted hours (non-firm)")
        gid = row.get(_KEYS.get(level, "group_id"), row.get("group_id", ""))
        title = f"{level} {gid}: {float(row.get('daily_mwh', 0)):.1f} MWh/day"
        if assumption:
            title += f"\nASSUMPTION: {assumption}"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("hour of day")
        ax.set_ylabel("load (MW, hourly mean)")
        ax.set_xlim(-0.5, 23.5)
        ax.set_xticks(range(0, 24, 2))
        tops = [1.0, float(total.max())] + [v for v in (head, spare) if math.isfinite(v)]
        ax.set_ylim(0, max(tops) * 1.35)
        ax.legend(fontsize=7, loc="upper left", ncols=2, frameon=False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def grid_chart_writers(
    per_substation: pd.DataFrame,
    per_area: pd.DataFrame,
    site_load: pd.DataFrame,
    assumptions: dict[str, str] | None = None,
) -> dict[str, Callable[[Path], None]]:
    """File name → writer of every group's chart (for :func:`corridor._files.write_outputs`).

    ``assumptions`` maps an area or substation id to the text of an assumed headroom.
    """
    assumptions = assumptions or {}
    writers: dict[str, Callable[[Path], None]] = {}
    for level, table in (("substation", per_substation), ("area", per_area)):
        key = _KEYS[level]
        for _, row in table.iterrows():
            gid = str(row[key])
            text = assumptions.get(gid, "")
            writers[chart_name(level, gid)] = lambda p, r=row, lv=level, t=text: grid_chart(
                r, site_load, p, level=lv, assumption=t
            )
    return writers


def _cell(v: object) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞"
        return f"{v:,.2f}"
    return html.escape(str(v))


_TABLE_COLUMNS = [
    ("n_sites", "sites"),
    ("installed_mw", "installed MW"),
    ("spare_mw", "spare MW"),
    ("headroom_mw", "headroom MW"),
    ("peak_mw", "peak MW"),
    ("daily_mwh", "MWh/day"),
    ("hours_over_headroom", "hours over headroom"),
    ("energy_over_headroom_mwh", "MWh over headroom"),
    ("battery_needed_mwh", "battery needed MWh"),
    ("restricted_hours", "restricted hours"),
]


def grid_report_html(
    per_substation: pd.DataFrame,
    per_area: pd.DataFrame,
    title: str,
    *,
    notes: Iterable[str] = (),
    assumptions: dict[str, str] | None = None,
    extra_sections: dict[str, str] | None = None,
) -> str:
    """Render the report page: a table of every group, its chart beside it, notes and credits.

    Parameters
    ----------
    per_substation, per_area
        From :func:`corridor.grid.connection_load`.
    title
        Page title (escaped).
    notes
        Lines shown under the title (escaped), e.g. the capacity tables used.
    assumptions
        Group id → text of an assumed headroom; those rows are labelled ASSUMPTION.
    extra_sections
        Heading → ready HTML (e.g. the what-if table), shown before the credits.
    """
    assumptions = assumptions or {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em;max-width:1200px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}th{background:#eee}td.id{text-align:left}"
        "section.group{margin:1.5em 0;border-top:1px solid #ddd;padding-top:.5em}"
        ".assumption{color:#a00;font-weight:bold}footer{font-size:12px;color:#555;"
        "margin-top:2em}img{max-width:100%}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for note in notes:
        parts.append(f"<p>{html.escape(note)}</p>")
    for level, table in (("substation", per_substation), ("area", per_area)):
        key = _KEYS[level]
        parts.append(f"<h2>Per {level} ({len(table)})</h2>")
        head = "".join(f"<th>{html.escape(label)}</th>" for _, label in _TABLE_COLUMNS)
        parts.append(f'<table class="summary"><tr><th>{level}</th>{head}</tr>')
        for _, row in table.iterrows():
            gid = str(row[key])
            tag = ' <span class="assumption">ASSUMPTION</span>' if gid in assumptions else ""
            cells = "".join(
                "<td>no battery can cover</td>"
                if col == "battery_needed_mwh" and row.get("battery_can_cover") is False
                else f"<td>{_cell(row.get(col, ''))}</td>"
                for col, _ in _TABLE_COLUMNS
            )
            anchor = html.escape(f"{level}-{gid}", quote=True)
            parts.append(
                f'<tr><td class="id"><a href="#{anchor}">{html.escape(gid) or "(none)"}</a>'
                f"{tag}</td>{cells}</tr>"
            )
        parts.append("</table>")
        for _, row in table.iterrows():
            gid = str(row[key])
            anchor = html.escape(f"{level}-{gid}", quote=True)
            src = html.escape(chart_name(level, gid), quote=True)
            alt = html.escape(f"24-hour load of {level} {gid}", quote=True)
            parts.append(f'<section class="group" id="{anchor}">')
            parts.append(f"<h3>{level} {html.escape(gid) or '(none)'}</h3>")
            if gid in assumptions:
                parts.append(
                    f'<p class="assumption">ASSUMPTION: {html.escape(assumptions[gid])}</p>'
                )
            parts.append(
                f"<p>sites: {html.escape(str(row.get('site_ids', '')))}; hours over headroom: "
                f"{html.escape(str(row.get('hours_over_headroom', '')) or 'none')}</p>"
            )
            parts.append(f'<img src="{src}" alt="{alt}" width="750" height="360">')
            parts.append("</section>")
    for heading, body in (extra_sections or {}).items():
        parts.append(f"<h2>{html.escape(heading)}</h2>{body}")
    parts.append("<footer><p>Credits:</p><ul>")
    parts.extend(f"<li>{html.escape(c)}</li>" for c in CREDITS)
    parts.append("</ul></footer></body></html>")
    return "\n".join(parts) + "\n"
