"""Corridor mode outputs: ranking table, plan.json block, summary section and map layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from corridor.optimise.corridor import CORRIDOR_RANKING_COLUMNS, CorridorChoice
from corridor.optimise.instance import DIRECTIONS, Instance, station_of
from corridor.outputs.maps import _html
from corridor.outputs.plan import _clean
from corridor.outputs.summary import _fmt

__all__ = [
    "add_corridor_ranking_layer",
    "corridor_document",
    "corridor_markdown",
    "write_corridors_csv",
]


def write_corridors_csv(choice: CorridorChoice, path: Path) -> None:
    """Write the corridor ranking (one row per corridor, :data:`CORRIDOR_RANKING_COLUMNS`)."""
    choice.ranking.reindex(columns=list(CORRIDOR_RANKING_COLUMNS)).to_csv(path, index=False)


def _stations(choice: CorridorChoice, instance: Instance) -> dict[str, Any]:
    """Station locations by country and by direction served (a rest area's halves once)."""
    ids = list(choice.plan.sites.index)
    sites = instance.sites.loc[ids].assign(station=station_of(instance.sites, ids).to_numpy())
    by_dir = {
        d: int(sites.loc[sites["directions"].map(lambda ds, d=d: d in ds), "station"].nunique())
        for d in DIRECTIONS
    }
    return {
        "by_country": {
            str(k): int(v) for k, v in sites.groupby("country")["station"].nunique().items()
        },
        "by_direction": by_dir,
    }


def corridor_document(choice: CorridorChoice, instance: Instance) -> dict[str, Any]:
    """Build the ``corridor`` block of ``plan.json``: chosen traject, runner-up and the ranking.

    Parameters
    ----------
    choice
        From :func:`corridor.optimise.rank_corridors`.
    instance
        The instance restricted to the chosen corridor (site countries and directions).

    Returns
    -------
    dict
        JSON-ready: ``chosen``, ``runner_up``, ``buffer_km``, ``stations`` (by country and
        direction) and ``ranking`` (rows of ``corridors.csv``).
    """
    rows = [
        {k: _clean(v) for k, v in row.items()} for row in choice.ranking.to_dict(orient="records")
    ]
    return {
        "chosen": choice.chosen,
        "runner_up": choice.runner_up,
        "buffer_km": choice.buffer_km,
        "stations": _stations(choice, instance),
        "ranking": rows,
    }


def corridor_markdown(choice: CorridorChoice, instance: Instance) -> list[str]:
    """Write the summary's "Pilot corridor" section: the chosen traject, why, and the runner-up."""
    rank = choice.ranking.set_index("corridor")
    best = rank.loc[choice.chosen]
    st = _stations(choice, instance)
    lines = [
        f"- chosen traject: **{choice.chosen}** ({_fmt(best['km_outbound'], ',.0f')} km outbound: "
        f"{best['km_by_country'] or '–'}), candidate sites within {choice.buffer_km:g} km of its "
        f"carriageways: {best['candidate_sites']} ({best['sites_by_country']}, "
        f"{best['sites_non_firm']} on non-firm grid connections)",
        f"- stations: {best['stations']:.0f} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(st['by_country'].items()))}; serving "
        f"{', '.join(f'{d} {n}' for d, n in st['by_direction'].items())}), "
        f"{best['chargers']:.0f} chargers",
        f"- served: {_fmt(best['served_trucks_per_day'])} trucks/day that need a charging stop, "
        f"of them the trips of {_fmt(best['pilot_trucks_served'], ',.0f')} pilot-fleet trucks "
        f"of {best['pilot_firms_served']:.0f} firms (on this corridor: "
        f"{_fmt(best['pilot_trucks_on'], ',.0f')} pilot trucks of "
        f"{best['pilot_firms_on']:.0f} firms, {_fmt(best['pilot_trucks_no_stop'], ',.0f')} of "
        "them needing no public stop; a route driven both ways is a round trip from the "
        "depot unless it has destination charging)",
    ]
    most = choice.plan.model_stats.get("pilot_first_trucks")
    if choice.pilot_first and most is not None:
        lines.append(
            f"- pilot fleet first: no plan along this corridor can serve more than "
            f"{_fmt(most, ',.1f')} pilot trucks (the others need no public stop, a charging stop "
            "off the corridor, or more than its grid and stations allow)"
        )
    why = (
        "the most pilot-fleet trucks, then the most trucks/day,"
        if choice.pilot_first
        else "the most trucks/day"
    )
    if choice.runner_up is not None:
        second = rank.loc[choice.runner_up]
        lines.append(
            f"- ranked first because its plan serves {why} under the pilot's rules; "
            f"runner-up: {choice.runner_up} with {_fmt(second['served_trucks_per_day'])} "
            f"trucks/day ({second['stations']:.0f} stations, {second['chargers']:.0f} chargers)"
        )
    lines += [
        "",
        "| rank | corridor | km | sites | non-firm | trucks/day on it | pilot trucks/firms on it "
        "| status | stations | chargers | served trucks/day | pilot trucks served |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in choice.ranking.itertuples():
        solved = isinstance(r.status, str)
        lines.append(
            f"| {r.rank} | {r.corridor} | {_fmt(r.km_outbound, ',.0f')} | {r.candidate_sites} "
            f"| {r.sites_non_firm} | {_fmt(r.trucks_on_per_day)} "
            f"| {_fmt(r.pilot_trucks_on, ',.0f')} / {r.pilot_firms_on} "
            f"| {r.status if solved else 'not eligible: ' + str(r.reason)} "
            f"| {_fmt(r.stations, '.0f')} | {_fmt(r.chargers, '.0f')} "
            f"| {_fmt(r.served_trucks_per_day)} | {_fmt(r.pilot_trucks_served, ',.0f')} |"
        )
    return lines


def add_corridor_ranking_layer(fmap: folium.Map, choice: CorridorChoice, crs: Any) -> None:
    """Add the ranked corridors: the chosen traject bold, the others thin, with their rank."""
    group = folium.FeatureGroup(name="Corridor ranking")
    rank = choice.ranking.set_index("corridor")
    rows = []
    for key, line in choice.lines.items():
        name, direction = key.rsplit(" ", 1)
        if name in rank.index and line is not None and not line.is_empty:
            rows.append({"corridor": name, "direction": direction, "geometry": line})
    if rows:
        gdf = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=crs)
        gdf["geometry"] = gdf.geometry.simplify(100.0)
        gdf = gdf.to_crs("EPSG:4326")
        for row in gdf.itertuples():
            r = rank.loc[row.corridor]
            chosen = row.corridor == choice.chosen
            style = {
                "color": "#e8590c" if chosen else "#868e96",
                "weight": 6 if chosen else 2,
                "opacity": 0.9 if chosen else 0.6,
            }
            served = r["served_trucks_per_day"]
            tip = (
                f"#{int(r['rank'])} {row.corridor} ({row.direction})"
                + (" — chosen pilot traject" if chosen else "")
                + (f": {served:,.1f} trucks/day served" if served == served else "")
            )
            folium.GeoJson(
                row.geometry.__geo_interface__,
                style_function=lambda _f, s=style: s,
                tooltip=_html(tip),
            ).add_to(group)
    group.add_to(fmap)
