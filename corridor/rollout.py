"""Staged roll-outs: which sites first (2027), which next (2030, 2035), never abandoning any.

A roll-out file (TOML) names a ``base`` scenario and ``[[stages]]`` in increasing ``year``. Each
stage plans the base for its year (``year`` and ``flows.target_year``, plus any dotted scenario
keys of the stage, e.g. ``"flows.zero_emission_share" = 0.08``) with the sites of the earlier
stages kept open with at least their chargers (``optimise.fixed_sites``), adding up to
``add_sites`` sites (or up to ``max_sites`` in total) within ``budget_eur`` (what the stage may
spend on top of what the kept sites cost).

The roll-out is solved **stage by stage** (myopic): each stage is one model of its year, blind to
the later stages. :func:`run_rollout` measures what that costs: it also plans the last stage's
year alone (same settings, free to choose every site and, in corridor mode, the corridor) and
reports the trucks/day the staged plan serves less than that plan.

In corridor mode the corridor the first stage chooses is kept for the later stages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from corridor._files import read_json, write_outputs
from corridor.catalogue import Catalogue
from corridor.config import Scenario, _format_validation_error
from corridor.errors import InfeasibleError, ScenarioError
from corridor.sweep import (
    apply_values,
    check_key,
    plan_cost_eur,
    read_variants_file,
    shared_stages,
)
from corridor.workflows import PlanRun, Stages, run_stage, write_run

__all__ = ["ROLLOUT_COLUMNS", "Rollout", "RolloutStage", "load_rollout", "run_rollout"]

#: Columns of ``rollout.csv``: one row per stage, what it adds and the totals after it.
ROLLOUT_COLUMNS = (
    "year",
    "status",
    "gap",
    "sites",
    "sites_added",
    "added_site_ids",
    "added_site_names",
    "chargers",
    "chargers_added",
    "power_mw",
    "power_mw_added",
    "served_trucks_per_day",
    "served_share",
    "energy_mwh_per_day",
    "cost_eur",
    "budget_eur",
    "corridor",
)

_STAGE_KEYS = ("year", "max_sites", "add_sites", "budget_eur")


@dataclass(frozen=True)
class RolloutStage:
    """One stage: its year, site count rule, budget and scenario values."""

    year: int
    max_sites: int | None
    add_sites: int | None
    budget_eur: float | None
    values: dict[str, Any]


@dataclass(frozen=True)
class Rollout:
    """A parsed roll-out file."""

    source: Path
    base: Scenario
    stages: tuple[RolloutStage, ...]


def _number(raw: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = raw.get(key)
    if value is None:
        return None
    ok = isinstance(value, kind) and not isinstance(value, bool) and value >= 0
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        ok = ok and math.isfinite(value)
    if not ok:
        msg = f"{where}: {key} must be a number >= 0, got {value!r}"
        raise ScenarioError(msg)
    return value


def load_rollout(path: str | Path) -> Rollout:
    """Read a roll-out file.

    Raises
    ------
    ScenarioError
        Naming the file, stage and key: not TOML, no base or stages, years not increasing, a
        stage with neither or both of ``max_sites`` / ``add_sites``, a key that is not a
        scenario key, or a stage whose scenario is invalid.
    """
    path = Path(path)
    raw, base = read_variants_file(path, "roll-out file", ("stages",))
    source = f"roll-out file {path}"
    specs = raw.get("stages")
    if not isinstance(specs, list) or not specs or not all(isinstance(s, dict) for s in specs):
        msg = f"{source}: give the stages as [[stages]] tables (year, max_sites or add_sites)"
        raise ScenarioError(msg)
    stages = []
    for i, spec in enumerate(specs, 1):
        where = f"{source} stage {i}"
        year = spec.get("year")
        if not isinstance(year, int) or isinstance(year, bool):
            msg = f"{where}: year = <year> is missing or not a whole number (got {year!r})"
            raise ScenarioError(msg)
        if stages and year <= stages[-1].year:
            msg = f"{where}: year {year} must be after the earlier stage's {stages[-1].year}"
            raise ScenarioError(msg)
        max_sites = _number(spec, "max_sites", int, where)
        add_sites = _number(spec, "add_sites", int, where)
        if (max_sites is None) == (add_sites is None):
            msg = f"{where}: give one of max_sites (sites in total) or add_sites (new sites)"
            raise ScenarioError(msg)
        if i == 1 and add_sites is not None:
            max_sites, add_sites = add_sites, None
        values = {k: v for k, v in spec.items() if k not in _STAGE_KEYS}
        for key in values:
            check_key(key, where)
        stage = RolloutStage(
            year, max_sites, add_sites, _number(spec, "budget_eur", float, where), values
        )
        _stage_scenario(base, stage, 1, where)  # its values must make a valid scenario
        stages.append(stage)
    return Rollout(path, base, tuple(stages))


def _stage_scenario(base: Scenario, stage: RolloutStage, total: int, where: str) -> Scenario:
    values = {
        "year": stage.year,
        "flows.target_year": stage.year,
        **stage.values,
        "optimise.max_sites": max(total, base.optimise.min_sites, 1),
    }
    try:
        return apply_values(base, values)
    except ValidationError as exc:
        raise ScenarioError(_format_validation_error(exc, where)) from None


def _solve(sc: Scenario, catalogue: Catalogue, cache: dict, label: str) -> Stages:
    st = shared_stages(sc, catalogue, cache)
    try:
        run_stage("optimise", st, catalogue)
    except InfeasibleError as exc:
        msg = f"{label}: {exc}"
        raise InfeasibleError(msg) from None
    if st.plan.status == "infeasible":
        msg = f"{label}: no feasible plan ({st.plan.model_stats.get('reason', '')})"
        raise InfeasibleError(msg)
    return st


def run_rollout(
    rollout: Rollout,
    catalogue: Catalogue,
    out_dir: str | Path,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Plan the stages one after the other, then the last year alone; write the outputs.

    Writes ``stages/<year>/`` (each stage's run folder, as ``corridor plan``), ``alone/`` (the
    last year planned alone), ``rollout.csv`` (:data:`ROLLOUT_COLUMNS`), ``rollout_sites.csv``
    (every site with its opening year and chargers per stage), ``rollout_map.png`` (sites
    coloured by opening year), ``rollout.html`` and ``rollout_summary.md``.

    Returns
    -------
    dict
        ``table`` (the stage table), ``sites`` (per site), ``staged_trucks_per_day``,
        ``alone_trucks_per_day``, ``value_lost_trucks_per_day``, ``value_lost_share``.

    Raises
    ------
    InfeasibleError
        If a stage (or the last year alone) has no feasible plan; names the stage.
    """
    from corridor.outputs.summary import headline

    out = Path(out_dir)
    cache: dict[str, Stages] = {}
    kept: dict[str, int] = {}
    opened: dict[str, int] = {}
    chargers_by_year: dict[str, dict[int, int]] = {}
    rows: list[dict[str, Any]] = []
    corridor: str | None = None
    kept_cost = 0.0
    before: dict[str, Any] = {"sites": 0, "chargers": 0, "power_mw": 0.0}
    for stage in rollout.stages:
        total = stage.max_sites if stage.max_sites is not None else len(kept) + stage.add_sites
        label = f"stage {stage.year}"
        if progress:
            progress(f"{label}: up to {total} sites, {len(kept)} kept")
        sc = _stage_scenario(rollout.base, stage, total, f"{rollout.source} {label}")
        opt_update: dict[str, Any] = {"fixed_sites": dict(kept)}
        if corridor is not None:
            opt_update["corridor"] = corridor
        if stage.budget_eur is not None:
            opt_update["budget_eur"] = kept_cost + stage.budget_eur
        sc = sc.model_copy(update={"optimise": sc.optimise.model_copy(update=opt_update)})
        st = _solve(sc, catalogue, cache, label)
        if st.corridor is not None:
            corridor = st.corridor.chosen
        folder = out / "stages" / str(stage.year)
        write_run(PlanRun.from_stages(st), folder)
        head = headline(read_json(folder / "plan.json", "plan file"))
        sites = st.plan.sites
        added = [s for s in sites.index if s not in kept]
        names = st.sites.reindex(added)["name"].fillna("").astype(str).tolist()
        for s in added:
            opened[s] = stage.year
        for s, n in sites["chargers"].items():
            chargers_by_year.setdefault(str(s), {})[stage.year] = int(n)
        rows.append(
            {
                "year": stage.year,
                "status": head["status"],
                "gap": head["gap"],
                "sites": head["sites"],
                "sites_added": len(added),
                "added_site_ids": ";".join(map(str, added)),
                "added_site_names": ";".join(names),
                "chargers": head["chargers"],
                "chargers_added": head["chargers"] - before["chargers"],
                "power_mw": head["power_mw"],
                "power_mw_added": head["power_mw"] - before["power_mw"],
                "served_trucks_per_day": head["served_trucks_per_day"],
                "served_share": head["served_share"],
                "energy_mwh_per_day": head["energy_mwh_per_day"],
                "cost_eur": plan_cost_eur(st),
                "budget_eur": sc.optimise.budget_eur,
                "corridor": head["corridor"],
            }
        )
        before = head
        kept = {str(s): int(n) for s, n in sites["chargers"].items()}
        kept_cost = plan_cost_eur(st)
    last = rollout.stages[-1]
    if progress:
        progress(f"stage {last.year} planned alone")
    alone_sc = _stage_scenario(rollout.base, last, len(kept), f"{rollout.source} alone")
    budgets = [s.budget_eur for s in rollout.stages]
    if all(b is not None for b in budgets):
        alone_sc = alone_sc.model_copy(
            update={"optimise": alone_sc.optimise.model_copy(update={"budget_eur": sum(budgets)})}
        )
    alone = _solve(alone_sc, catalogue, cache, f"{last.year} alone")
    write_run(PlanRun.from_stages(alone), out / "alone")
    table = pd.DataFrame(rows, columns=list(ROLLOUT_COLUMNS))
    staged = float(rows[-1]["served_trucks_per_day"])
    alone_served = float(alone.plan.served_trucks_per_day)
    lost = alone_served - staged
    result = {
        "table": table,
        "sites": _site_table(st, opened, chargers_by_year, [s.year for s in rollout.stages]),
        "staged_trucks_per_day": staged,
        "alone_trucks_per_day": alone_served,
        "alone_status": alone.plan.status,
        "alone_gap": alone.plan.gap,
        "alone_sites": len(alone.plan.sites),
        "alone_sites_shared": len(set(alone.plan.sites.index) & set(st.plan.sites.index)),
        "alone_corridor": alone.corridor.chosen if alone.corridor is not None else None,
        "value_lost_trucks_per_day": lost,
        "value_lost_share": lost / alone_served if alone_served > 0 else None,
    }
    _write(out, rollout, result, catalogue)
    return result


def _site_table(
    st: Stages, opened: Mapping[str, int], chargers: Mapping[str, Mapping[int, int]], years: list
) -> pd.DataFrame:
    info = st.sites.reindex(list(opened)).to_crs("EPSG:4326")
    df = pd.DataFrame(
        {
            "site_id": list(opened),
            "name": info["name"].fillna("").astype(str).to_numpy(),
            "country": info["country"].astype(str).to_numpy(),
            "lon": info.geometry.x.round(5).to_numpy(),
            "lat": info.geometry.y.round(5).to_numpy(),
            "opening_year": [opened[s] for s in opened],
        }
    )
    for y in years:
        df[f"chargers_{y}"] = [chargers.get(s, {}).get(y, 0) for s in opened]
    return df.sort_values(["opening_year", "site_id"]).reset_index(drop=True)


def summary_markdown(rollout: Rollout, result: Mapping[str, Any]) -> str:
    """Render ``rollout_summary.md``: the method, the stage table and the value lost by staging."""
    table: pd.DataFrame = result["table"]
    last = rollout.stages[-1].year
    lost = result["value_lost_trucks_per_day"]
    share = result["value_lost_share"]
    lines = [
        f"# Staged roll-out of {rollout.base.name} ({rollout.source.name})",
        "",
        "Solved **stage by stage** (myopic), not as one multi-period model: each stage plans its "
        "year with the earlier stages' sites kept open with at least their chargers "
        "(`optimise.fixed_sites`) and chooses what to add; no stage foresees the later ones."
        + (
            f" Corridor mode: every stage plans along {table['corridor'].iloc[0]}, the corridor "
            "the first stage chose."
            if table["corridor"].notna().any()
            else ""
        ),
        "",
        "| year | status | gap | sites (+added) | chargers (+added) | MW (+added) | served "
        "trucks/day | share | added sites |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.year} | {r.status} | {_num(r.gap, '{:.4f}')} | {r.sites} (+{r.sites_added}) | "
            f"{r.chargers} (+{r.chargers_added}) | {_num(r.power_mw)} (+{_num(r.power_mw_added)})"
            f" | {_num(r.served_trucks_per_day)} | {_num(r.served_share, '{:.1%}')} | "
            f"{r.added_site_names or r.added_site_ids} |"
        )
    lines += [
        "",
        "## Value lost by staging",
        "",
        f"Planning {last} alone (same settings, the same {result['alone_sites']} sites in total, "
        "free to choose every site"
        + (f", corridor {result['alone_corridor']}" if result["alone_corridor"] else "")
        + f"): {_num(result['alone_trucks_per_day'])} trucks/day (status "
        f"{result['alone_status']}, gap {_num(result['alone_gap'], '{:.4f}')}). The staged "
        f"roll-out serves {_num(result['staged_trucks_per_day'])} trucks/day in {last}: "
        f"**{_num(lost)} trucks/day lost by staging**"
        + (f" ({share:.1%} of the {last}-alone plan)." if share is not None else ".")
        + f" The {last}-alone plan shares {result['alone_sites_shared']} of its "
        f"{result['alone_sites']} sites with the staged one.",
        "",
        "Both are optimal only where their gap is 0; otherwise the difference is within the gaps.",
        "",
        "Credits: road and site data © OpenStreetMap contributors (ODbL); truck flows Speth, "
        "Sauter, Plötz, Signer (2022), ETISplus 2019, CC BY 4.0.",
    ]
    return "\n".join(lines) + "\n"


def _num(v: Any, fmt: str = "{:,.1f}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return fmt.format(v)


def _write(out: Path, rollout: Rollout, result: Mapping[str, Any], catalogue: Catalogue) -> None:
    from corridor.outputs.charts import chart_page, sites_map

    table, sites = result["table"], result["sites"]
    last_col = f"chargers_{rollout.stages[-1].year}"
    md = summary_markdown(rollout, result)
    lost = result["value_lost_trucks_per_day"]
    notes = [
        "Solved stage by stage: each stage keeps the earlier stages' sites and chargers and "
        "adds to them.",
        f"Value lost by staging against planning {rollout.stages[-1].year} alone: "
        f"{_num(lost)} trucks/day (alone {_num(result['alone_trucks_per_day'])}, staged "
        f"{_num(result['staged_trucks_per_day'])}).",
    ]
    writers: dict[str, Callable[[Path], object]] = {
        "rollout.csv": lambda p: table.to_csv(p, index=False),
        "rollout_sites.csv": lambda p: sites.to_csv(p, index=False),
        "rollout_summary.md": lambda p: p.write_text(md, encoding="utf-8"),
        "rollout_map.png": lambda p: sites_map(
            sites,
            p,
            colour="opening_year",
            size=last_col,
            title="Staged roll-out: sites by opening year (size: chargers in the last stage)",
            catalogue=catalogue,
            categorical=True,
        ),
        "rollout.html": lambda p: p.write_text(
            chart_page(
                f"Staged roll-out of {rollout.base.name}",
                [("rollout_map.png", "Sites by opening year")],
                table,
                notes=notes,
            ),
            encoding="utf-8",
        ),
    }
    write_outputs(out, writers, kind="rollout")
