"""AFIR report: whether the plan meets the EU truck charging / H2 spacing rules on corridors.

Regulation (EU) 2023/1804 (AFIR) sets, per direction of travel on the TEN-T road network:

- Art. 4(1)(a) core network, heavy-duty recharging pools every 60 km:
  by 31 Dec 2025 on at least 15 % of the core network's length, each pool >= 1,400 kW with at
  least one recharging point >= 350 kW; by 31 Dec 2027 on at least 50 %, >= 2,800 kW with at
  least two points >= 350 kW; by 31 Dec 2030 on the whole core network, >= 3,600 kW with at
  least two points >= 350 kW.
- Art. 4(1)(b) comprehensive network, every 100 km: by 31 Dec 2027 on at least 50 %, >= 1,400 kW
  with one point >= 350 kW; by 31 Dec 2030 on the whole network, >= 1,500 kW with one point
  >= 350 kW; by 31 Dec 2035 >= 3,600 kW with two points >= 350 kW.
- Art. 6(1) hydrogen: by 31 Dec 2030 a publicly accessible refuelling station every 200 km on
  the core network, each of at least 1 t/day with at least a 700 bar dispenser.

The report checks the plan's sites as pools on each named corridor and direction: the distances
between successive pools (``gaps_km``), the largest gap between pools that meet the requirement
(``largest_gap_km``, the longest of the stretches checked), each pool's power against the
requirement, the share
of the corridor covered by stretches no longer than the spacing between compliant pools (the
corridor's ends count as stretch ends), and pass / fail with the failing stretches listed.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.ops import substring

from corridor._files import DATA_DIR
from corridor._validate import GRAPH_CRS
from corridor.assess.coverage import plan_sites_xy, sites_on_route
from corridor.errors import InputDataError
from corridor.network.corridors import Corridor, corridor_line, load_corridors

log = logging.getLogger(__name__)

__all__ = [
    "AFIR_CORRIDORS_PATH",
    "AFIR_REQUIREMENTS",
    "AfirReport",
    "AfirRequirement",
    "afir_report",
    "load_afir_corridors",
]

#: The shipped named corridors.
AFIR_CORRIDORS_PATH = DATA_DIR / "afir_corridors.toml"


@dataclass(frozen=True)
class AfirRequirement:
    """One AFIR target: spacing, pool size and coverage share by a year on a network layer."""

    key: str
    technology: str
    network: str
    year: int
    max_spacing_km: float
    required_share: float
    min_pool_kw: float = 0.0
    min_points: int = 0
    min_point_kw: float = 350.0
    min_kg_per_day: float = 0.0
    article: str = ""


AFIR_REQUIREMENTS: tuple[AfirRequirement, ...] = (
    AfirRequirement("core-2025", "bev", "core", 2025, 60.0, 0.15, 1400.0, 1, article="4(1)(a)(i)"),
    AfirRequirement("core-2027", "bev", "core", 2027, 60.0, 0.50, 2800.0, 2, article="4(1)(a)(ii)"),
    AfirRequirement(
        "core-2030", "bev", "core", 2030, 60.0, 1.00, 3600.0, 2, article="4(1)(a)(iii)"
    ),
    AfirRequirement(
        "comprehensive-2027",
        "bev",
        "comprehensive",
        2027,
        100.0,
        0.50,
        1400.0,
        1,
        article="4(1)(b)(i)",
    ),
    AfirRequirement(
        "comprehensive-2030",
        "bev",
        "comprehensive",
        2030,
        100.0,
        1.0,
        1500.0,
        1,
        article="4(1)(b)(ii)",
    ),
    AfirRequirement(
        "comprehensive-2035",
        "bev",
        "comprehensive",
        2035,
        100.0,
        1.0,
        3600.0,
        2,
        article="4(1)(b)(iii)",
    ),
    AfirRequirement(
        "h2-core-2030", "h2", "core", 2030, 200.0, 1.0, min_kg_per_day=1000.0, article="6(1)"
    ),
    AfirRequirement(
        "h2-comprehensive-2030",
        "h2",
        "comprehensive",
        2030,
        200.0,
        1.0,
        min_kg_per_day=1000.0,
        article="6(1) (core only; shown for information)",
    ),
)

AFIR_COLUMNS = [
    "corridor",
    "network",
    "direction",
    "requirement",
    "article",
    "year",
    "length_km",
    "pools",
    "pool_ids",
    "pool_km",
    "pool_power_kw",
    "gaps_km",
    "largest_gap_km",
    "max_spacing_km",
    "min_pool",
    "pools_meeting_power",
    "covered_share",
    "required_share",
    "passed",
    "failing_stretches",
]


def load_afir_corridors(path: str | Path = AFIR_CORRIDORS_PATH) -> list[Corridor]:
    """Load the named corridors the AFIR report checks (:func:`corridor.network.load_corridors`).

    Raises
    ------
    InputDataError
        If the file is missing or malformed, a layer is not core/comprehensive, a corridor has
        fewer than two waypoints or a waypoint is not in the gazetteer.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"AFIR corridors file {p} not found"
        raise InputDataError(msg)
    return load_corridors([p])


def _pool_ok(site: pd.Series, req: AfirRequirement) -> tuple[bool, float, str]:
    """Whether a pool meets the requirement's size; its size and a text."""
    if req.technology == "h2":
        kg = float(site.get("capacity_kg_per_day", np.nan))
        ok = np.isfinite(kg) and kg >= req.min_kg_per_day
        return bool(ok), kg, f"{kg:,.0f} kg/day, needs {req.min_kg_per_day:,.0f}"
    power_kw = 1000.0 * float(site.get("power_mw", np.nan))
    chargers = float(site.get("chargers", np.nan))
    per_kw = power_kw / chargers if chargers and np.isfinite(chargers) else np.nan
    points = chargers if np.isfinite(per_kw) and per_kw >= req.min_point_kw else 0.0
    ok = np.isfinite(power_kw) and power_kw >= req.min_pool_kw and points >= req.min_points
    text = (
        f"{power_kw:,.0f} kW with {points:.0f} points >= {req.min_point_kw:g} kW, needs "
        f"{req.min_pool_kw:,.0f} kW and {req.min_points} points"
    )
    return bool(ok), power_kw, text


@dataclass(frozen=True)
class AfirReport:
    """AFIR verdicts and the corridor stretches.

    Attributes
    ----------
    table
        One row per corridor, direction and requirement (``AFIR_COLUMNS``).
    corridors
        GeoDataFrame (graph CRS) of each corridor's driven line per direction: ``corridor``,
        ``network``, ``direction``, ``waypoints``, ``length_km``.
    skipped
        ``(corridor, reason)`` of corridors not on the graph (e.g. Hamburg–Padborg without DK).
    stretches
        GeoDataFrame (graph CRS) of the stretches between successive compliant pools for the
        latest requirement of each corridor's layer: ``corridor``, ``direction``,
        ``requirement``, ``from_name``, ``to_name``, ``from_km``, ``to_km``, ``length_km``,
        ``ok``.
    """

    table: pd.DataFrame
    stretches: gpd.GeoDataFrame
    corridors: gpd.GeoDataFrame
    skipped: tuple[tuple[str, str], ...] = ()


def afir_report(
    graph: Any,
    corridors: list[Corridor],
    sites: pd.DataFrame,
    technology: str,
    *,
    max_site_distance_m: float = 1000.0,
    max_bearing_diff_deg: float = 60.0,
) -> AfirReport:
    """Check the plan's sites against AFIR on named corridors, per direction.

    Parameters
    ----------
    graph
        The road graph.
    corridors
        From :func:`load_afir_corridors`.
    sites
        The plan's sites indexed by ``site_id`` with ``name``, ``lon``, ``lat``,
        ``direction``/``bearing_deg``, and ``power_mw`` + ``chargers`` (bev) or
        ``capacity_kg_per_day`` (h2).
    technology
        ``bev`` or ``h2``: selects the requirements.
    max_site_distance_m
        A site counts as on a corridor direction when it is this close (m) to the corridor line.
    max_bearing_diff_deg
        A one-direction site counts only if the corridor runs within this angle (deg) of the
        site's carriageway bearing.

    Returns
    -------
    AfirReport
        Per corridor direction and stretch: the gaps (km) between sites and whether the AFIR
        spacing and power/capacity requirements are met; skipped corridors with the reason.
    """
    crs = graph.graph.get("crs", GRAPH_CRS)
    sites, sites_xy = plan_sites_xy(sites, crs)
    rows, stretch_rows, stretch_geoms, skipped = [], [], [], []
    cor_rows, cor_geoms = [], []
    for cor in corridors:
        try:
            lines = {
                "outbound": corridor_line(graph, cor.lonlat),
                "inbound": corridor_line(graph, cor.lonlat[::-1]),
            }
        except InputDataError as exc:
            log.warning("AFIR corridor %s skipped: %s", cor.name, exc)
            skipped.append((cor.name, str(exc)))
            continue
        reqs = [r for r in AFIR_REQUIREMENTS if r.technology == technology]
        reqs = [r for r in reqs if r.network == cor.network]
        for direction, names in (("outbound", cor.waypoints), ("inbound", cor.waypoints[::-1])):
            label = f"{names[0]} → {names[-1]}"
            line, length_km = lines[direction]
            cor_rows.append(
                {
                    "corridor": cor.name,
                    "network": cor.network,
                    "direction": label,
                    "waypoints": " → ".join(names),
                    "length_km": round(length_km, 1),
                }
            )
            cor_geoms.append(line)
            pools = sites_on_route(
                line,
                length_km,
                sites_xy,
                sites,
                max_site_distance_m,
                max_bearing_diff_deg,
                None,
                0.0,
            )
            km = [p.km for p in pools]
            all_points = [0.0, *km, length_km]
            gaps = np.diff(all_points)
            for req in reqs:
                checks = [_pool_ok(sites.loc[p.site_id], req) for p in pools]
                good = [p for p, c in zip(pools, checks, strict=True) if c[0]]
                ends = [(0.0, names[0]), *((p.km, p.name or p.site_id) for p in good)]
                ends.append((length_km, names[-1]))
                covered, failing, largest = 0.0, [], 0.0
                for (a_km, a_name), (b_km, b_name) in itertools.pairwise(ends):
                    seg = b_km - a_km
                    largest = max(largest, seg)
                    ok = seg <= req.max_spacing_km + 1e-6
                    covered += seg if ok else 0.0
                    if not ok:
                        failing.append(
                            f"km {a_km:.0f}–{b_km:.0f} {a_name} → {b_name} ({seg:.0f} km)"
                        )
                    if req is reqs[-1]:
                        stretch_rows.append(
                            {
                                "corridor": cor.name,
                                "direction": label,
                                "requirement": req.key,
                                "from_name": a_name,
                                "to_name": b_name,
                                "from_km": round(a_km, 1),
                                "to_km": round(b_km, 1),
                                "length_km": round(seg, 1),
                                "ok": ok,
                            }
                        )
                        scale = line.length / 1000.0 / length_km if length_km else 1.0
                        stretch_geoms.append(
                            substring(line, a_km * 1000.0 * scale, b_km * 1000.0 * scale)
                        )
                for p, (ok, _, text) in zip(pools, checks, strict=True):
                    if not ok:
                        failing.append(f"pool {p.name or p.site_id} too small ({text})")
                share = covered / length_km if length_km else 0.0
                min_pool = (
                    f">= {req.min_kg_per_day:,.0f} kg/day"
                    if technology == "h2"
                    else f">= {req.min_pool_kw:,.0f} kW, {req.min_points} x {req.min_point_kw:g} kW"
                )
                rows.append(
                    {
                        "corridor": cor.name,
                        "network": cor.network,
                        "direction": label,
                        "requirement": req.key,
                        "article": f"AFIR Art. {req.article}",
                        "year": req.year,
                        "length_km": round(length_km, 1),
                        "pools": len(pools),
                        "pool_ids": ";".join(p.site_id for p in pools),
                        "pool_km": ";".join(f"{k:.1f}" for k in km),
                        "pool_power_kw": ";".join(f"{c[1]:.0f}" for c in checks),
                        "gaps_km": ";".join(f"{g:.1f}" for g in gaps),
                        # between pools that meet this requirement (the stretches listed)
                        "largest_gap_km": round(largest, 1),
                        "max_spacing_km": req.max_spacing_km,
                        "min_pool": min_pool,
                        "pools_meeting_power": len(good),
                        "covered_share": round(share, 4),
                        "required_share": req.required_share,
                        "passed": bool(share >= req.required_share - 1e-9),
                        "failing_stretches": "; ".join(failing),
                    }
                )
    table = pd.DataFrame(rows, columns=AFIR_COLUMNS)
    # a graph no named corridor routes on (a small region) gives empty layers, not an error
    stretches = gpd.GeoDataFrame(
        pd.DataFrame(stretch_rows), geometry=gpd.GeoSeries(stretch_geoms), crs=crs
    )
    cor_gdf = gpd.GeoDataFrame(pd.DataFrame(cor_rows), geometry=gpd.GeoSeries(cor_geoms), crs=crs)
    return AfirReport(table, stretches, cor_gdf, tuple(skipped))
