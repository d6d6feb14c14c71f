"""Charts of sweeps and roll-outs (matplotlib PNG) and the page that shows them.

- :func:`coverage_chart`: served trucks/day and share against the number of sites, one line per
  value of the other axes (the coverage curve);
- :func:`power_cost_chart`: installed MW and cost against served trucks/day;
- :func:`sites_map`: sites on a static map (country outlines), sized and coloured by a column
  (how many cases chose each site; a roll-out's opening year);
- :func:`chart_page`: a self-contained HTML page with the charts, a table and the credits.

Drawing uses matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from corridor.catalogue import FLOWS_ATTRIBUTION, OSM_ATTRIBUTION, Catalogue
from corridor.errors import CorridorError

__all__ = [
    "CREDITS",
    "chart_page",
    "coverage_chart",
    "power_cost_chart",
    "runs_map",
    "site_counts",
    "sites_map",
    "sweep_charts",
    "sweep_html",
]

#: Data credits shown on the pages and maps.
CREDITS = (
    f"Roads and candidate sites: {OSM_ATTRIBUTION} (ODbL).",
    f"Truck flows: {FLOWS_ATTRIBUTION}.",
    "Country outlines: © EuroGeographics (Eurostat GISCO NUTS 2021).",
)

#: The axis drawn along x of the coverage curve when the sweep has it.
SITES_AXIS = "optimise.max_sites"


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _groups(frame: pd.DataFrame, by: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """Rows per value of the columns ``by`` with a legend label ('' for one group)."""
    if not by:
        return [("", frame)]
    out = []
    for values, part in frame.groupby(list(by), sort=True, dropna=False):
        vals = values if isinstance(values, tuple) else (values,)
        out.append((", ".join(f"{k}={v}" for k, v in zip(by, vals, strict=True)), part))
    return out


def _other_axes(frame: pd.DataFrame, axes: Sequence[str]) -> list[str]:
    keys = ["name"] if "name" in frame.columns else []
    return [*keys, *(a for a in axes if a != SITES_AXIS)]


def coverage_chart(frame: pd.DataFrame, axes: Sequence[str], path: Path) -> None:
    """Draw the coverage curve: served trucks/day and served share against sites opened.

    Parameters
    ----------
    frame
        The sweep table (``sweep.parquet``); only rows with status ``ok`` are drawn.
    axes
        The sweep's axes: one line per value of the axes other than ``optimise.max_sites``.
    path
        The PNG to write.
    """
    plt = _plt()
    ok = frame[frame["status"] == "ok"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for label, part in _groups(ok, _other_axes(ok, axes)):
        part = part.sort_values(["sites", "served_trucks_per_day"])
        x = part["sites"].astype(float)
        left.plot(x, part["served_trucks_per_day"], marker="o", label=label or None)
        right.plot(x, 100.0 * part["served_share"].astype(float), marker="o", label=label or None)
    left.set(xlabel="sites opened", ylabel="served trucks/day", title="Trucks served")
    right.set(
        xlabel="sites opened",
        ylabel="served share of corridor ZE trucks (%)",
        title="Share served",
    )
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    if ok.empty:
        left.text(0.5, 0.5, "no case solved", ha="center", transform=left.transAxes)
    fig.suptitle("Coverage curve: what more sites buy")
    fig.tight_layout()
    try:
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def power_cost_chart(frame: pd.DataFrame, axes: Sequence[str], path: Path) -> None:
    """Draw installed MW and cost (EUR) against served trucks/day, one line per other axis value.

    A scenario that prices neither sites nor chargers has cost 0; the chart says so.
    """
    plt = _plt()
    ok = frame[frame["status"] == "ok"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for label, part in _groups(ok, _other_axes(ok, axes)):
        part = part.sort_values("served_trucks_per_day")
        x = part["served_trucks_per_day"]
        left.plot(x, part["power_mw"], marker="o", label=label or None)
        right.plot(x, part["cost_eur"] / 1e6, marker="o", label=label or None)
    left.set(xlabel="served trucks/day", ylabel="installed charger power (MW)", title="Power")
    right.set(xlabel="served trucks/day", ylabel="cost (million EUR)", title="Cost")
    if not ok.empty and not (ok["cost_eur"].fillna(0) > 0).any():
        right.text(
            0.5,
            0.8,
            "the scenario prices no sites or chargers: cost 0\n"
            "(optimise.charger_cost_eur, the sites' cost_eur)",
            ha="center",
            va="center",
            transform=right.transAxes,
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "#ccc"},
        )
    for ax in (left, right):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def site_counts(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """How often each site is chosen over the solved cases.

    Parameters
    ----------
    rows
        Case rows with ``status`` and ``plan_sites`` (dicts with ``site_id``, ``name``, ``lon``,
        ``lat``, ``country``, ``chargers``).

    Returns
    -------
    pandas.DataFrame
        ``site_id, name, country, lon, lat, cases, share_of_cases, mean_chargers``, most chosen
        first (``share_of_cases`` of the solved cases, 0–1).
    """
    solved = [r for r in rows if r.get("status") == "ok"]
    recs = [dict(s) for r in solved for s in r.get("plan_sites") or []]
    cols = ["site_id", "name", "country", "lon", "lat", "cases", "share_of_cases"]
    if not recs:
        return pd.DataFrame(columns=[*cols, "mean_chargers"])
    df = pd.DataFrame(recs)
    out = df.groupby("site_id", sort=False).agg(
        name=("name", "first"),
        country=("country", "first"),
        lon=("lon", "first"),
        lat=("lat", "first"),
        cases=("site_id", "size"),
        mean_chargers=("chargers", "mean"),
    )
    out["share_of_cases"] = out["cases"] / len(solved)
    out = out.reset_index().sort_values(["cases", "site_id"], ascending=[False, True])
    return out[[*cols, "mean_chargers"]].reset_index(drop=True)


def _outlines(catalogue: Catalogue | None) -> Any:
    if catalogue is None:
        return None
    try:
        from corridor.network.load import read_countries

        return read_countries(catalogue).to_crs("EPSG:4326")
    except (CorridorError, OSError):
        return None


def _map_frame(sites: pd.DataFrame, catalogue: Catalogue | None) -> tuple[Any, Any]:
    """Figure and axes framing ``lon`` / ``lat`` with the country outlines, sized to the box."""
    plt = _plt()
    lon, lat = sites["lon"].astype(float), sites["lat"].astype(float)
    pad = 0.4
    box = (lon.min() - pad, lat.min() - pad, lon.max() + pad, lat.max() + pad)
    stretch = 1.0 / math.cos(math.radians(float(lat.mean())))
    ratio = (box[3] - box[1]) * stretch / (box[2] - box[0])
    fig, ax = plt.subplots(figsize=(9.5, min(9.0, max(4.0, 7.0 * ratio + 1.5))), dpi=100)
    outlines = _outlines(catalogue)
    if outlines is not None:
        outlines.cx[box[0] : box[2], box[1] : box[3]].plot(
            ax=ax, facecolor="#f4f4f0", edgecolor="#888", linewidth=0.8
        )
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect(stretch)
    return fig, ax


def _finish_map(fig: Any, ax: Any, title: str, path: Path) -> None:
    ax.set(xlabel="longitude (°)", ylabel="latitude (°)", title=title)
    ax.grid(alpha=0.2)
    fig.text(
        0.01,
        0.005,
        "Sites © OpenStreetMap contributors; outlines © EuroGeographics",
        fontsize=7,
        color="#555",
    )
    fig.tight_layout()
    try:
        fig.savefig(path, format="png")
    finally:
        _plt().close(fig)


def _empty_map(title: str, path: Path) -> None:
    fig, ax = _plt().subplots(figsize=(6, 4), dpi=100)
    ax.text(0.5, 0.5, "no sites", ha="center", transform=ax.transAxes)
    _finish_map(fig, ax, title, path)


def sites_map(
    sites: pd.DataFrame,
    path: Path,
    *,
    colour: str,
    title: str,
    size: str | None = None,
    catalogue: Catalogue | None = None,
    categorical: bool = False,
    labels: int = 12,
) -> None:
    """Draw sites (``lon``, ``lat``) on a static map with the country outlines.

    Parameters
    ----------
    sites
        One row per site with ``lon``, ``lat``, ``name`` and the ``colour`` (and ``size``)
        columns.
    path
        The PNG to write.
    colour
        Column the markers are coloured by (a colour bar, or a legend when ``categorical``).
    title
        Figure title.
    size
        Optional column the marker area grows with.
    catalogue
        For the NUTS country outlines (drawn when present).
    categorical
        Colour by category (e.g. the opening year) instead of a continuous scale.
    labels
        Label this many sites (the first rows) with their names.
    """
    import matplotlib

    if not len(sites):
        _empty_map(title, path)
        return
    fig, ax = _map_frame(sites, catalogue)
    lon, lat = sites["lon"].astype(float), sites["lat"].astype(float)
    area = 40.0 if size is None else 30.0 + 220.0 * sites[size] / max(sites[size].max(), 1)
    if categorical:
        cats = sorted(sites[colour].unique())
        cmap = matplotlib.colormaps["viridis"].resampled(max(len(cats), 2))
        for i, cat in enumerate(cats):
            m = sites[colour] == cat
            ax.scatter(
                lon[m],
                lat[m],
                s=area[m] if size else area,
                color=cmap(i),
                edgecolor="k",
                linewidth=0.5,
                label=str(cat),
                zorder=3,
            )
        ax.legend(title=colour.replace("_", " "), fontsize=8)
    else:
        pts = ax.scatter(
            lon,
            lat,
            s=area,
            c=sites[colour].astype(float),
            cmap="viridis",
            edgecolor="k",
            linewidth=0.5,
            zorder=3,
        )
        fig.colorbar(pts, ax=ax, shrink=0.7, label=colour.replace("_", " "))
    for _, row in sites.head(labels).iterrows():
        ax.annotate(
            str(row.get("name") or row.get("site_id"))[:32],
            (float(row["lon"]), float(row["lat"])),
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
            zorder=4,
        )
    _finish_map(fig, ax, title, path)


def runs_map(sites: pd.DataFrame, path: Path, *, catalogue: Catalogue | None = None) -> None:
    """Draw the open sites of several runs on one map, one colour per run.

    A site several runs open gets one ring per run (the first run's largest), so shared and
    differing choices are told apart at a glance.

    Parameters
    ----------
    sites
        :func:`corridor.outputs.summary.compared_sites`: ``run``, ``site_id``, ``name``,
        ``lon``, ``lat``.
    path
        The PNG to write.
    catalogue
        For the NUTS country outlines (drawn when present).
    """
    import matplotlib

    title = "Sites of the compared runs"
    if not len(sites):
        _empty_map(title, path)
        return
    runs = list(dict.fromkeys(sites["run"]))
    fig, ax = _map_frame(sites, catalogue)
    lon, lat = sites["lon"].astype(float), sites["lat"].astype(float)
    cmap = matplotlib.colormaps["tab10" if len(runs) <= 10 else "tab20"]
    for i, run in enumerate(runs):
        m = sites["run"] == run
        ax.scatter(
            lon[m],
            lat[m],
            s=40.0 + 260.0 * (len(runs) - i) / len(runs),
            facecolors="none",
            edgecolors=[cmap(i % cmap.N)],
            linewidths=1.6,
            label=f"{run} ({int(m.sum())} sites)",
            zorder=3 + i,
        )
    ax.legend(fontsize=7, loc="best")
    _finish_map(fig, ax, title, path)


def sweep_charts(
    frame: pd.DataFrame,
    axes: Sequence[str],
    counts: pd.DataFrame,
    catalogue: Catalogue | None = None,
) -> dict[str, Callable[[Path], None]]:
    """Writers of a sweep's charts by file name (coverage, power and cost, site stability)."""
    return {
        "coverage.png": lambda p: coverage_chart(frame, axes, p),
        "power_cost.png": lambda p: power_cost_chart(frame, axes, p),
        "site_stability.png": lambda p: sites_map(
            counts,
            p,
            colour="share_of_cases",
            size="cases",
            title="Site-selection stability: share of solved cases choosing each site",
            catalogue=catalogue,
        ),
    }


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "–"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return html.escape(str(v))


def chart_page(
    title: str,
    charts: Sequence[tuple[str, str]],
    table: pd.DataFrame,
    *,
    notes: Sequence[str] = (),
) -> str:
    """Render a self-contained page (no scripts, no network): notes, charts, table, credits.

    Parameters
    ----------
    title
        Page title (escaped).
    charts
        ``(file name, caption)`` of each PNG beside the page.
    table
        Shown as an HTML table (cells escaped).
    notes
        Lines under the title (escaped).
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em;max-width:1300px}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}th{background:#eee}figure{margin:1em 0}"
        "img{max-width:100%}footer{font-size:12px;color:#555;margin-top:2em}</style>"
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    parts.extend(f"<p>{html.escape(n)}</p>" for n in notes)
    for name, caption in charts:
        parts.append(
            f'<figure><img src="{html.escape(name, quote=True)}" '
            f'alt="{html.escape(caption, quote=True)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    parts.append(f"<table><tr>{head}</tr>")
    for row in table.itertuples(index=False):
        parts.append("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>")
    parts.append("</table>")
    parts.append("<footer><p>Credits:</p><ul>")
    parts.extend(f"<li>{html.escape(c)}</li>" for c in CREDITS)
    parts.append("</ul></footer></body></html>")
    return "\n".join(parts) + "\n"


_CAPTIONS = {
    "coverage.png": "Coverage curve: served trucks/day and share against the sites opened",
    "power_cost.png": "Installed MW and cost against served trucks/day",
    "site_stability.png": "Site-selection stability: how many solved cases choose each site",
}


def sweep_html(
    title: str,
    frame: pd.DataFrame,
    charts: Sequence[str],
    axes: Sequence[str],
    columns: Sequence[str],
) -> str:
    """Render the sweep's page (``sweep.html``): the charts and the table of cases.

    ``columns`` are the table's columns shown after the axes.
    """
    n_ok = int((frame["status"] == "ok").sum())
    bad = frame[frame["status"] != "ok"]
    notes = [f"{len(frame)} cases, {n_ok} solved; axes: {', '.join(axes) or '(named cases)'}."]
    notes += [f"{r.case_id}: {r.status}: {r.reason}" for r in bad.itertuples()]
    cols = [c for c in ("name", *axes) if c in frame.columns]
    table = frame[[*cols, *(c for c in columns if c not in cols)]]
    return chart_page(title, [(c, _CAPTIONS.get(c, c)) for c in charts], table, notes=notes)
