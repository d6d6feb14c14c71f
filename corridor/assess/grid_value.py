"""What more grid capacity is worth: trucks/day a plan gains with +1, +5, +10 MW at a substation.

For grid operators deciding where a connection upgrade pays most. For each substation or
congestion area that binds the plan (an open site's charger power at its headroom or capped
below what its trucks need, a shared pool used up, or candidate sites there left out for lack of
headroom), the optimiser's instance is re-solved with that group's headroom raised by ``+MW``
(:func:`corridor.optimise.solve`, same settings) and the served trucks/day compared with the
base plan.

Raising a group by ``+MW``: every firm site on it gets ``+MW`` of own headroom (an upgrade lifts
the MV/HV connection caps too), sites without a connection (0 MW) become firm, and the group's
total is kept to ``+MW`` more: its shared pool (the known spare MW if above 0, else the sum of its
firm sites' headroom) is raised by ``+MW``; several non-firm sites share ``+MW`` equally.
Re-solves that are optimal make the table monotone in the added MW; a time-limited solve is
marked by its status.

With ``capacity_in_model = false`` the headroom only decides which sites may open (at least
``min_site_power_mw``); a raise that makes no new site usable gains nothing and is not re-solved.
With capacity in the model the same holds when the base plan (objective ``max_trucks``) already
serves the capacity-free optimum (``model_stats["proof"] == "relaxation"``): that optimum bounds
every capacitated plan on the same usable sites, whatever their headroom.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from corridor.config import OptimiseConfig
    from corridor.optimise import Instance, PlanResult

__all__ = ["ADDED_MW", "binding_groups", "grid_value", "grid_value_markdown", "raised_instance"]

#: Headroom added per what-if (MW).
ADDED_MW = (1.0, 5.0, 10.0)
_LEVELS = {
    "substation": ("substation_id", "substation_pool_mw"),
    "area": ("area_id", "area_pool_mw"),
}


def binding_groups(instance: Instance, plan: PlanResult, config: OptimiseConfig) -> pd.DataFrame:
    """Substations and areas whose headroom binds the plan, most binding first.

    Returns
    -------
    DataFrame
        ``level``, ``group_id``, ``why`` (``site at headroom``, ``pool used up``,
        ``sites left out``), ``open_sites``, ``excluded_sites``, ``spare_mw``.
    """
    from corridor.optimise.solve import effective_headroom, usable_sites

    info = instance.sites
    bev = config.vehicle.technology == "bev"
    if not bev or plan is None:
        return pd.DataFrame(
            columns=["level", "group_id", "why", "open_sites", "excluded_sites", "spare_mw"]
        )
    eff = effective_headroom(info, config) if "connection" in info.columns else info["headroom_mw"]
    p_mw = config.charger_power_mw
    sites = plan.sites
    draw = {}
    at_head = set()
    for s, row in sites.iterrows():
        s = str(s)
        bat = float(row.get("battery_mwh", 0.0) or 0.0) / config.battery_hours
        draw[s] = int(row["chargers"]) * p_mw - (0.0 if math.isnan(bat) else bat)
        capped = bool(row.get("capped", False))
        if capped or draw[s] >= float(eff[s]) - 1e-6:
            at_head.add(s)
    _, excluded = usable_sites(_with_eff(instance, eff), config)
    left_out = {s for s, why in excluded.items() if why.startswith("headroom")}
    rows = []
    for level, (key, pool) in _LEVELS.items():
        if key not in info.columns:
            continue
        ids = info[key].astype(str)
        for gid in sorted(set(ids[list(draw)]) | set(ids[sorted(left_out)])):
            if not gid:
                continue
            members = set(ids.index[ids == gid])
            why = []
            opened = sorted(members & set(draw))
            if members & at_head:
                why.append("site at headroom")
            spare = float(info.loc[sorted(members)[0], pool]) if pool in info.columns else math.nan
            firm = [s for s in opened if info.at[s, "connection"] == "firm"]
            if math.isfinite(spare) and firm and sum(draw[s] for s in firm) >= spare - 1e-6:
                why.append("pool used up")
            out = sorted(members & left_out)
            if out:
                why.append("sites left out")
            if why:
                rows.append(
                    {
                        "level": level,
                        "group_id": gid,
                        "why": "; ".join(why),
                        "open_sites": ";".join(opened),
                        "excluded_sites": len(out),
                        "spare_mw": spare,
                        "_rank": (len(opened) == 0, -len(opened), -len(out)),
                    }
                )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(
            columns=["level", "group_id", "why", "open_sites", "excluded_sites", "spare_mw"]
        )
    return frame.sort_values("_rank", kind="stable").drop(columns="_rank").reset_index(drop=True)


def _with_eff(instance: Instance, eff: pd.Series) -> Any:
    sites = instance.sites.copy()
    sites["headroom_mw"] = eff
    return dataclasses.replace(instance, sites=sites)


def raised_instance(instance: Instance, level: str, group_id: str, added_mw: float) -> Any:
    """Return the instance with the headroom of one substation or area raised (module docstring)."""
    key, pool = _LEVELS[level]
    sites = instance.sites.copy()
    members = sites[key].astype(str) == str(group_id)
    if not members.any():
        msg = f"no site of the instance is on {level} {group_id!r}"
        raise KeyError(msg)
    head = sites["headroom_mw"].astype(float)
    conn = sites["connection"] if "connection" in sites.columns else pd.Series("firm", sites.index)
    unconnected = members & (conn == "none")
    if unconnected.any():  # the upgrade gives them a firm connection from the raised pool
        sites.loc[unconnected, "connection"] = "firm"
        conn = sites["connection"]
    firm = members & (conn == "firm")
    other = members & ~firm
    if firm.any():
        if pool not in sites.columns:
            sites[pool] = np.nan
        base = float(sites.loc[firm, pool].iloc[0])
        if not math.isfinite(base):
            base = float(head[firm & ~unconnected].sum())
        sites.loc[members, pool] = max(base, 0.0) + added_mw
    sites.loc[firm, "headroom_mw"] = head[firm] + added_mw
    n_other = int(other.sum())
    if n_other:
        sites.loc[other, "headroom_mw"] = head[other] + added_mw / n_other
    return dataclasses.replace(instance, sites=sites)


def grid_value(
    instance: Instance,
    plan: PlanResult,
    config: OptimiseConfig,
    *,
    groups: Sequence[tuple[str, str]] | None = None,
    added_mw: Sequence[float] = ADDED_MW,
    max_groups: int = 3,
) -> pd.DataFrame:
    """More trucks/day with more headroom at each binding substation / area (module docstring).

    Parameters
    ----------
    instance, plan, config
        The run's instance, its plan and :class:`~corridor.config.OptimiseConfig`.
    groups
        ``(level, group_id)`` pairs to evaluate; default the first ``max_groups`` of
        :func:`binding_groups`.
    added_mw
        Headroom added per what-if (MW).
    max_groups
        Most groups evaluated when ``groups`` is not given (each costs one solve per added MW).

    Returns
    -------
    DataFrame
        One row per group and added MW: ``level``, ``group_id``, ``why``, ``spare_mw``,
        ``added_mw``, ``base_trucks_per_day``, ``trucks_per_day``, ``more_trucks_per_day``,
        ``status`` (of the re-solve, ``not re-solved`` when it cannot change the plan),
        ``solve_time_s``.
    """
    from corridor.optimise import solve
    from corridor.optimise.solve import usable_sites

    base = float(plan.served_trucks_per_day)
    if groups is None:
        found = binding_groups(instance, plan, config)
        if not config.capacity_in_model:  # only sites left out can change such a plan
            left = found["why"].str.contains("sites left out")
            found = pd.concat([found[left], found[~left]])
        found = found.head(max_groups)
        todo = [(r.level, r.group_id, r.why, r.spare_mw) for r in found.itertuples()]
    else:
        todo = [(lv, str(g), "asked", math.nan) for lv, g in groups]
    # a raise that makes no new site usable cannot beat the capacity-free optimum (module doc)
    at_bound = not config.capacity_in_model or (
        config.objective == "max_trucks" and plan.model_stats.get("proof") == "relaxation"
    )
    usable0 = set(usable_sites(instance, config)[0]) if at_bound else set()
    rows = []
    for level, gid, why, spare in todo:
        for mw in added_mw:
            raised = raised_instance(instance, level, gid, float(mw))
            if at_bound and set(usable_sites(raised, config)[0]) <= usable0:
                served, status, t = base, "not re-solved", 0.0
            else:
                res = solve(raised, config)
                served, status, t = res.served_trucks_per_day, res.status, res.solve_time_s
            rows.append(
                {
                    "level": level,
                    "group_id": gid,
                    "why": why,
                    "spare_mw": spare,
                    "added_mw": float(mw),
                    "base_trucks_per_day": base,
                    "trucks_per_day": float(served),
                    "more_trucks_per_day": float(served) - base,
                    "status": status,
                    "solve_time_s": float(t),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "level",
            "group_id",
            "why",
            "spare_mw",
            "added_mw",
            "base_trucks_per_day",
            "trucks_per_day",
            "more_trucks_per_day",
            "status",
            "solve_time_s",
        ],
    )


def grid_value_markdown(table: pd.DataFrame) -> list[str]:
    """Summary lines: one row per group, one column per added MW (more trucks/day)."""
    if table.empty:
        return ["No substation or congestion area binds the plan: more headroom adds nothing."]
    lines = [
        "More trucks/day the plan could serve with more grid headroom at a binding substation "
        "or area (re-solved; see grid_value.csv):",
        "",
    ]
    if (table["status"] == "not re-solved").any():
        lines[0] += (
            " entries marked * were not re-solved: the plan already serves what the usable "
            "sites could serve with unlimited grid (or, without capacity in the model, more "
            "headroom only matters where it lets more sites open), and the raise makes no new "
            "site usable there."
        )
    added = sorted(table["added_mw"].unique())
    lines.append("| level | id | binds because | " + " | ".join(f"+{a:g} MW" for a in added) + " |")
    lines.append("|---|---|---|" + "---:|" * len(added))
    for (level, gid), g in table.groupby(["level", "group_id"], sort=False):
        by = g.set_index("added_mw")
        cells = " | ".join(
            f"{by.at[a, 'more_trucks_per_day']:+.1f}"
            + ("*" if by.at[a, "status"] == "not re-solved" else "")
            for a in added
        )
        lines.append(f"| {level} | {gid} | {g['why'].iloc[0]} | {cells} |")
    return lines
