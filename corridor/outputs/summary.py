"""A run's ``summary.md`` and the comparison of several runs' headline figures."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from corridor._files import read_json
from corridor.catalogue import DATASETS
from corridor.errors import InputDataError
from corridor.flows import resolve_ze_share

if TYPE_CHECKING:
    from corridor.config import Scenario

__all__ = [
    "NL_REST_AREA_POINTS_2030",
    "compare_runs",
    "compared_sites",
    "headline",
    "run_plans",
    "scenario_dataset_keys",
    "summary_markdown",
    "target_checks",
]

#: Heavy-duty charging points foreseen at Dutch motorway rest areas by 2030 (national outlook,
#: as quoted in the project's issue 6): the scale a corridor pilot is a first step towards.
NL_REST_AREA_POINTS_2030 = 253


def scenario_dataset_keys(scenario: Scenario) -> list[str]:
    """Catalogue dataset keys (or file paths) a scenario reads, in pipeline order."""
    keys = ["osm_motorways", "etisplus_countries", "speth_edges", "speth_zones"]
    keys += list(scenario.sites.sources)
    keys += [
        "power_grid_osm2016" if re.fullmatch(r"[a-z]{2}_substations_2016", k) else k
        for k in scenario.grid.substation_sources
    ]
    keys.append("nuts")
    return list(dict.fromkeys(keys))


def _coarse_lines(scenario: Scenario) -> list[str]:
    """Say which countries' roads are only coarse ETISplus links (none: no line)."""
    coarse = scenario.network.coarse_countries
    if not coarse:
        return []
    return [
        f"- road network: OSM motorway lines for {', '.join(scenario.network.countries)}; "
        f"**coarse** straight links of the ETISplus network for {', '.join(coarse)} (no OSM "
        "lines there; link distances from Speth et al. 2022, CC BY 4.0; `etisplus_link`, drawn "
        "dashed on the map): distances and sites there are approximate"
    ]


def headline(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Headline figures of one ``plan.json`` document.

    Returns
    -------
    dict
        ``scenario``, ``technology``, ``status``, ``valid``, ``gap``, ``solve_time_s``,
        ``solver``, ``sites``, ``stations`` (station locations: the two halves of a rest area
        once), ``sites_nl``, ``sites_de``, ``sites_by_country`` (e.g. "2 NL, 4
        DE"), ``chargers`` (BEV charging points; ``chargers_nl`` of them in the Netherlands),
        ``h2_modules`` (H2 dispensing modules),
        ``power_mw``,
        ``capacity_kg_per_day``, ``served_trucks_per_day``, ``served_share``,
        ``energy_mwh_per_day``, ``h2_kg_per_day``, ``corridor_ze_trucks_per_day``,
        ``battery_mwh``; in corridor mode ``corridor``, ``corridor_trucks_on_per_day``,
        ``pilot_trucks_served`` (pilot-fleet trucks whose trips the stations serve) and
        ``pilot_firms_served`` (None otherwise).
    """
    sites = list(doc.get("sites") or [])
    tech = doc.get("technology") or (sites[0].get("technology") if sites else None)

    def total(key: str) -> float:
        vals = [s.get(key) for s in sites]
        nums = [float(v) for v in vals if v is not None]
        return float(sum(nums)) if nums else math.nan

    flows = (doc.get("summary") or {}).get("flows") or {}
    by_country = pd.Series([s.get("country") for s in sites], dtype=object).value_counts()
    chosen = _chosen_corridor(doc)
    return {
        "scenario": doc.get("scenario"),
        "technology": tech,
        "status": doc.get("status"),
        "valid": doc.get("valid"),
        "gap": doc.get("gap"),
        "solve_time_s": doc.get("solve_time_s"),
        "solver": doc.get("solver"),
        "sites": len(sites),
        "stations": len({s.get("station_id") or s.get("site_id") for s in sites}),
        "sites_nl": int(by_country.get("NL", 0)),
        "sites_de": int(by_country.get("DE", 0)),
        "sites_by_country": ", ".join(f"{n} {c}" for c, n in by_country.items()),
        "chargers": _charger_count(sites, tech),
        "chargers_nl": _charger_count([s for s in sites if s.get("country") == "NL"], tech),
        "h2_modules": _module_count(sites, tech),
        "power_mw": total("power_mw"),
        "capacity_kg_per_day": total("capacity_kg_per_day"),
        "served_trucks_per_day": doc.get("served_trucks_per_day"),
        "served_share": (doc.get("summary") or {}).get("served_share_of_scenario_flow"),
        "energy_mwh_per_day": total("energy_mwh_per_day"),
        "h2_kg_per_day": total("h2_kg_per_day"),
        "corridor_ze_trucks_per_day": flows.get("corridor_ze_trucks_per_day"),
        "battery_mwh": total("battery_mwh"),
        "corridor": chosen.get("corridor"),
        "corridor_trucks_on_per_day": chosen.get("trucks_on_per_day"),
        "pilot_trucks_served": chosen.get("pilot_trucks_served"),
        "pilot_firms_served": chosen.get("pilot_firms_served"),
    }


def _charger_count(sites: Sequence[Mapping[str, Any]], tech: str | None) -> int:
    """BEV charging points of a plan's sites (an H2 plan's ``chargers`` are modules)."""
    if tech == "h2":
        return 0
    return int(sum(_number(s.get("bev_chargers", s.get("chargers"))) for s in sites))


def _module_count(sites: Sequence[Mapping[str, Any]], tech: str | None) -> int:
    """H2 modules of a plan's sites (joint plans: ``h2_modules``; H2 plans: ``chargers``)."""
    if tech == "h2":
        return int(sum(_number(s.get("chargers")) for s in sites))
    return int(sum(_number(s.get("h2_modules")) for s in sites))


def pilot_reach(doc: Mapping[str, Any], targets: Mapping[str, float]) -> list[str]:
    """Say how much of the pilot fleet any one corridor carries, when a fleet target is missed.

    A corridor plan can only serve the fleet trucks whose trips use that corridor: if no ranked
    corridor carries ``min_trucks`` trucks of ``min_firms`` firms, no plan along one traject can
    meet the target, whatever its stations, and the lever is the fleet (who drives the traject),
    not the siting.

    Returns
    -------
    list of str
        Markdown lines (empty outside corridor mode, or when the fleet targets are met).
    """
    rows = (doc.get("corridor") or {}).get("ranking") or []
    chosen = _chosen_corridor(doc)
    want_trucks = float(targets.get("min_trucks", 0) or 0)
    want_firms = float(targets.get("min_firms", 0) or 0)
    if not rows or not chosen or chosen.get("pilot_trucks_served") is None:
        return []
    if (
        _number(chosen.get("pilot_trucks_served")) >= want_trucks
        and _number(chosen.get("pilot_firms_served")) >= want_firms
    ):
        return []
    most = max(rows, key=lambda r: (_number(r.get("pilot_trucks_on")), r.get("corridor", "")))
    firms = max(rows, key=lambda r: (_number(r.get("pilot_firms_on")), r.get("corridor", "")))
    no_stop = _number(most.get("pilot_trucks_no_stop"))
    reach = (
        f"the most pilot-fleet trucks any one ranked corridor carries is "
        f"{_number(most.get('pilot_trucks_on')):,.0f} ({most.get('corridor')}"
        + (f"; {no_stop:,.0f} of them need no public charging stop at all" if no_stop else "")
        + f"), the most firms {_number(firms.get('pilot_firms_on')):.0f} ({firms.get('corridor')})"
    )
    short = (
        _number(most.get("pilot_trucks_on")) < want_trucks
        or _number(firms.get("pilot_firms_on")) < want_firms
    )
    verdict = (
        f"so no plan along one traject can meet {want_trucks:g} trucks of {want_firms:g} firms "
        "with this fleet; the target needs more of the fleet on one traject "
        "(`flows.pilot_fleet.routes_file`), not other stations"
        if short
        else "so the fleet is there, and the shortfall is in the stations, the grid or trips "
        "that need no public stop"
    )
    return ["", f"Pilot fleet: {reach}; {verdict}."]


def _chosen_corridor(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ranking row of the chosen corridor in corridor mode ({} otherwise)."""
    block = doc.get("corridor") or {}
    for row in block.get("ranking") or []:
        if row.get("corridor") == block.get("chosen"):
            return dict(row)
    return {}


def run_plans(run_dirs: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """List the plan files of run, sweep and roll-out folders, with a label each.

    A run folder (``plan.json``) or a ``plan.json`` file is one run labelled by its folder; a
    sweep folder (``sweep.csv`` with ``cases/``) gives each solved case, labelled
    ``<sweep>/<case_id>``; a roll-out folder (``rollout.csv``) gives each stage and the last year
    planned alone, labelled ``<rollout>/<year>`` and ``<rollout>/alone``.

    Raises
    ------
    InputDataError
        If none is given.
    """
    if not run_dirs:
        msg = "compare needs at least one run folder (holding plan.json), sweep or roll-out folder"
        raise InputDataError(msg)
    out: list[tuple[str, Path]] = []
    for d in run_dirs:
        p = Path(d)
        if p.suffix == ".json":
            out.append((p.parent.name if p.name == "plan.json" else p.stem, p))
        elif (p / "sweep.csv").is_file() and (p / "cases").is_dir():
            cases = sorted(c for c in (p / "cases").iterdir() if (c / "plan.json").is_file())
            out += [(f"{p.name}/{c.name}", c / "plan.json") for c in cases]
        elif (p / "rollout.csv").is_file() and (p / "stages").is_dir():
            stages = sorted(c for c in (p / "stages").iterdir() if (c / "plan.json").is_file())
            out += [(f"{p.name}/{c.name}", c / "plan.json") for c in stages]
            if (p / "alone" / "plan.json").is_file():
                out.append((f"{p.name}/alone", p / "alone" / "plan.json"))
        else:
            out.append((p.name, p / "plan.json"))
    return out


def _plan_doc(plan: Path) -> dict[str, Any]:
    doc = read_json(
        plan,
        "plan file",
        hint="pass run output folders written by `corridor plan --out DIR` (or sweep / "
        "roll-out folders)",
    )
    if not isinstance(doc, dict) or not isinstance(doc.get("sites", []), list):
        msg = (
            f"plan file {plan} holds a JSON {type(doc).__name__}, not a plan object; pass "
            "run output folders written by `corridor plan --out DIR`"
        )
        raise InputDataError(msg)
    return doc


def compare_runs(run_dirs: Sequence[str | Path]) -> pd.DataFrame:
    """Headline figures of several runs side by side.

    Parameters
    ----------
    run_dirs
        Run output folders (each holding a ``plan.json``), ``plan.json`` files, sweep folders or
        roll-out folders (each of their runs, see :func:`run_plans`).

    Returns
    -------
    pandas.DataFrame
        One row per run, indexed by ``run`` (the folder name), columns of :func:`headline`.

    Raises
    ------
    InputDataError
        If a folder has no ``plan.json`` or it is not valid JSON.
    """
    rows = []
    for label, plan in run_plans(run_dirs):
        row = headline(_plan_doc(plan))
        row["run"] = label
        rows.append(row)
    return pd.DataFrame(rows).set_index("run")


def compared_sites(run_dirs: Sequence[str | Path]) -> pd.DataFrame:
    """List the open sites of every compared run (see :func:`run_plans`).

    Returns
    -------
    pandas.DataFrame
        ``run, site_id, name, country, lon, lat, chargers``, one row per run and site.
    """
    cols = ["site_id", "name", "country", "lon", "lat", "chargers"]
    rows = [
        {"run": label, **{k: s.get(k) for k in cols}}
        for label, plan in run_plans(run_dirs)
        for s in _plan_doc(plan).get("sites", [])
    ]
    return pd.DataFrame(rows, columns=["run", *cols])


def target_checks(
    targets: Mapping[str, float], figures: Mapping[str, Any]
) -> list[tuple[str, str, str, str]]:
    """Compare headline figures with a scenario's targets and the Dutch 2030 outlook.

    Parameters
    ----------
    targets
        ``Scenario.targets``: ``min_stations``, ``max_stations``, ``min_trucks``, ``min_firms``,
        ``min_chargers`` (others are listed as not assessed).
    figures
        Output of :func:`headline`.

    Returns
    -------
    list of tuple
        ``(target, wanted, plan, verdict)`` rows; verdict is ``met``, ``not met``, ``not
        assessed`` or ``context``.
    """
    rows: list[tuple[str, str, str, str]] = []
    n = int(figures.get("stations", figures.get("sites")) or 0)
    served = figures.get("served_trucks_per_day")
    pilot = figures.get("pilot_trucks_served")
    firms = figures.get("pilot_firms_served")
    for key, value in targets.items():
        if key == "min_stations":
            rows.append(("stations", f">= {value:g}", str(n), _verdict(n >= value)))
        elif key == "max_stations":
            rows.append(("stations", f"<= {value:g}", str(n), _verdict(n <= value)))
        elif key == "min_trucks" and pilot is not None:
            # the pilot target is the pilot fleet's trucks, not all trucks the stations serve
            rows.append(
                (
                    "pilot-fleet trucks served (trucks whose trips along the chosen corridor "
                    "need and get a charging stop)",
                    f">= {value:g}",
                    f"{pilot:,.1f} trucks (all trucks served: {_fmt(served)} trucks/day)",
                    _verdict(pilot >= value),
                )
            )
        elif key == "min_trucks":
            plan = "–" if served is None else f"{served:,.1f} trucks/day"
            ok = served is not None and served >= value
            rows.append(
                (
                    "trucks served (planned-technology trucks/day that need a stop)",
                    f">= {value:g}",
                    plan,
                    _verdict(ok),
                )
            )
        elif key == "min_chargers":
            ch = int(figures.get("chargers") or 0)
            rows.append(
                ("charging points (chargers)", f">= {value:g}", str(ch), _verdict(ch >= value))
            )
        elif key == "min_firms" and firms is not None:
            rows.append(
                ("pilot-fleet firms served", f">= {value:g}", str(firms), _verdict(firms >= value))
            )
        elif key == "min_firms":
            rows.append(
                (
                    "logistics firms",
                    f">= {value:g}",
                    "–",
                    "not assessed (needs the pilot fleet and corridor mode)",
                )
            )
        else:
            rows.append((key, f"{value:g}", "–", "not assessed"))
    if figures.get("technology") == "bev":
        ch = figures.get("chargers_nl") or 0
        rows.append(
            (
                f"NL outlook: {NL_REST_AREA_POINTS_2030} heavy-duty charging points at Dutch "
                "motorway rest areas by 2030",
                str(NL_REST_AREA_POINTS_2030),
                f"{ch} chargers in NL ({ch / NL_REST_AREA_POINTS_2030:.1%} of the outlook)",
                "context",
            )
        )
    return rows


def _verdict(ok: bool) -> str:
    return "met" if ok else "not met"


def _fmt(v: Any, spec: str = ",.1f", unit: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:{spec}}{unit}"
    return str(v)


def _md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return out


def _vehicle_line(veh: Any, name: str | None, share: float | None) -> str:
    store = (
        f"{veh.battery_kwh:g} kWh battery, {veh.consumption_kwh_per_km:g} kWh/km"
        if veh.technology == "bev"
        else f"{veh.tank_kg:g} kg tank, {veh.consumption_kg_per_km:g} kg/km"
    )
    who = f"class {name} ({share:.0%} of the zero-emission trucks), " if name else ""
    rule = ""
    if getattr(veh, "break_rule", False):
        rule = (
            f"; driving-time rules on (45 min break per 4.5 h driving, trip at most "
            f"{veh.max_trip_time_factor:g} × the legal reference time)"
        )
    return (
        f"- {who}technology {veh.technology.upper()}: {store}, range {veh.range_km:,.0f} km after "
        f"a stop, {veh.start_range_km:,.0f} km from the origin{rule}"
    )


def _joint_headline(doc: Mapping[str, Any]) -> list[str]:
    sites = doc.get("sites", [])

    def total(key: str) -> float:
        vals = [float(s.get(key) or 0.0) for s in sites]
        return float(sum(v for v in vals if math.isfinite(v)))

    by_mw: dict[float, int] = {}
    for s in sites:
        if s.get("bev_chargers"):
            mw = float(s["bev_charger_mw"])
            by_mw[mw] = by_mw.get(mw, 0) + int(s["bev_chargers"])
    chargers = ", ".join(f"{n} × {mw:g} MW" for mw, n in sorted(by_mw.items())) or "none"
    return [
        f"- BEV chargers: {chargers} ({_fmt(total('power_mw'))} MW, "
        f"{_fmt(total('energy_mwh_per_day'))} MWh/day)",
        f"- H2: {int(total('h2_modules'))} module(s), {_fmt(total('capacity_kg_per_day'), ',.0f')} "
        f"kg/day capacity, {_fmt(total('h2_kg_per_day'), ',.0f')} kg H2/day",
    ]


def joint_markdown(doc: Mapping[str, Any]) -> list[str]:
    """Write the joint plan's section: trucks per class, sites per technology, shared hubs."""
    classes = (doc.get("model_stats") or {}).get("classes") or {}
    sites = doc.get("sites", [])
    rows = [
        (
            name,
            str(info.get("technology", "")).upper(),
            _fmt(info.get("trucks_per_day")),
            _fmt(info.get("served_trucks_per_day")),
            str(info.get("sites")),
            str(info.get("flows_break_rule_unservable")),
            str(info.get("violations")),
            str(info.get("source", "")),
        )
        for name, info in classes.items()
    ]
    by_offer = {k: sum(1 for s in sites if s.get("offers") == k) for k in ("bev", "h2", "bev+h2")}
    lines = [
        f"- {by_offer['bev']} site(s) with BEV chargers only, {by_offer['h2']} with H2 only, "
        f"{by_offer['bev+h2']} shared hub(s) with both (one site cost, one grid connection)",
        "",
    ]
    lines += _md_table(
        [
            "class",
            "technology",
            "trucks/day",
            "served trucks/day",
            "sites",
            "flows the driving-time rules exclude",
            "violations",
            "share source",
        ],
        rows,
    )
    lines += [""]
    lines += _md_table(
        ["site", "offers", "BEV chargers", "charger MW", "H2 modules", "classes", "trucks/day"],
        [
            (
                str(s.get("name") or s.get("site_id")),
                str(s.get("offers")),
                str(s.get("bev_chargers")),
                _fmt(s.get("bev_charger_mw"), "g"),
                str(s.get("h2_modules")),
                str(s.get("classes")),
                _fmt(s.get("served_trucks_per_day")),
            )
            for s in sites
        ],
    )
    return lines


def _number(value: object) -> float:
    """Read a plan.json number as a finite float (0 for None, NaN or text)."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return out if math.isfinite(out) else 0.0


def summary_markdown(
    scenario: Scenario,
    doc: Mapping[str, Any],
    shortlist: pd.DataFrame,
    extra_sections: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Write the run's ``summary.md``: scenario, inputs, solver, headline figures, targets.

    Parameters
    ----------
    scenario
        The run's :class:`~corridor.config.Scenario`.
    doc
        The ``plan.json`` document (:func:`corridor.outputs.plan.plan_document`).
    shortlist
        The ranked shortlist (with ``marginal_trucks_per_day`` if computed).
    extra_sections
        Further sections (title to markdown lines), e.g. the AFIR verdicts.

    Returns
    -------
    str
        Markdown text.
    """
    fig = headline(doc)
    tech = fig["technology"] or scenario.optimise.vehicle.technology
    lines = [f"# {scenario.name}", "", scenario.description or "", ""]
    lines += ["## Scenario", ""]
    opt = scenario.optimise
    veh = opt.vehicle
    ze_share, ze_source = resolve_ze_share(scenario.flows)
    lines += [
        f"- year {scenario.year}, flows for {scenario.flows.target_year}, zero-emission share "
        f"{ze_share:.1%} ({ze_source})",
        *[
            _vehicle_line(v, getattr(v, "name", None), getattr(v, "share", None))
            for v in (opt.vehicles or (veh,))
        ],
        f"- {opt.min_sites}–{opt.max_sites} "
        + (
            f"stations (the two halves of a rest area within {opt.opposite_pair_km:g} km are one)"
            if opt.opposite_pair_km is not None
            else "sites"
        )
        + f", objective {opt.objective}, solver {opt.solver}"
        f" (time limit {opt.time_limit_s:g} s, gap {opt.mip_gap:g})",
        *_coarse_lines(scenario),
        "",
        "## Inputs",
        "",
    ]
    rows = []
    for key in scenario_dataset_keys(scenario):
        ds = DATASETS.get(key)
        if ds is None:
            rows.append((key, "user file (not in the data catalogue)", "–", "–"))
        else:
            rows.append((key, ds.title, ds.source, ds.licence))
    for path in getattr(scenario.grid, "capacity_table", ()) or ():
        name = Path(path).name
        label = "FICTITIOUS example, not real data" if "FICTITIOUS" in name.upper() else "–"
        rows.append((f"grid.capacity_table {name}", "operator capacity table", str(path), label))
    fleet = scenario.flows.pilot_fleet
    if fleet is not None:
        from corridor._files import DATA_DIR, shipped_or_local

        shipped = shipped_or_local(fleet.routes_file).is_relative_to(DATA_DIR)
        rows.append(
            (
                "flows.pilot_fleet.routes_file",
                f"pilot fleet: {fleet.trucks} trucks of at least {fleet.firms} firms on the "
                "file's routes (a route driven both ways is a round trip from the depot unless "
                "destination_charging)",
                fleet.routes_file,
                "illustrative, shipped with corridor (anonymised firms)" if shipped else "–",
            )
        )
    lines += _md_table(["dataset", "what", "source and date", "licence"], rows)
    gap = doc.get("gap")
    lines += [
        "",
        "## Solver",
        "",
        f"- status **{doc.get('status')}**"
        + (", plan re-checked by simulation: valid" if doc.get("valid") else ", INVALID plan"),
        f"- relative gap {_fmt(100 * gap if gap is not None else None, '.2f', ' %')}, objective "
        f"{_fmt(doc.get('objective'))} (the model's value), best bound "
        f"{_fmt(doc.get('best_bound'))}; served trucks/day below are driven by the independent "
        "simulation"
        + (
            " (not proven optimal: a better plan may exist within the gap)"
            if doc.get("status") != "optimal"
            else ""
        ),
        f"- solver {doc.get('solver')}; solve time (timing, differs between runs): "
        f"{_fmt(doc.get('solve_time_s'), '.1f', ' s')}",
        *[f"- **warning:** {w}" for w in doc.get("warnings") or ()],
        "",
        "## Headline figures",
        "",
        f"- {fig['sites']} sites ({fig['sites_by_country'] or 'none'})"
        + (f" at {fig['stations']} stations" if fig["stations"] != fig["sites"] else ""),
    ]
    if opt.vehicles:
        lines += _joint_headline(doc)
    elif tech == "bev":
        lines.append(
            f"- {fig['chargers']} MCS chargers, {_fmt(fig['power_mw'])} MW, "
            f"{_fmt(fig['energy_mwh_per_day'])} MWh/day"
        )
    else:
        lines.append(
            f"- {_fmt(fig['capacity_kg_per_day'], ',.0f')} kg/day capacity, "
            f"{_fmt(fig['h2_kg_per_day'], ',.0f')} kg H2/day"
        )
    share = fig["served_share"]
    capped = [s for s in doc.get("sites", []) if s.get("capped")]
    if fig["corridor"]:
        on = fig["corridor_trucks_on_per_day"]
        lines.append(
            f"- {_fmt(fig['served_trucks_per_day'])} {tech.upper()} trucks/day served that need a "
            f"stop; the chosen corridor ({fig['corridor']}) carries {_fmt(on)} {tech.upper()} "
            "trucks/day (along at least a quarter of their route, or served by its stations), "
            f"all cross-border flows of the network {_fmt(fig['corridor_ze_trucks_per_day'])}"
        )
    else:
        lines.append(
            f"- {_fmt(fig['served_trucks_per_day'])} {tech.upper()} trucks/day served"
            + (
                f" ({share:.1%} of the scenario's {tech.upper()} flows)"
                if share is not None
                else ""
            )
        )
    total = fig["served_trucks_per_day"] or 0.0
    small = [
        s for s in doc.get("sites", []) if (s.get("served_trucks_per_day") or 0.0) < 0.02 * total
    ]
    if small and total > 0:
        lines.append(
            f"- {len(small)} site(s) serve under 2 % of the plan's trucks each (opened for the "
            "few trucks they add within the station count, or to meet the country or direction "
            "minimums): "
            + ", ".join(f"{s.get('name')} ({_fmt(s.get('served_trucks_per_day'))})" for s in small)
        )
    if fig["battery_mwh"] and fig["battery_mwh"] > 0:
        lines.append(f"- {_fmt(fig['battery_mwh'])} MWh of battery buffers at the stations")
    non_firm = [
        s
        for s in doc.get("sites", [])
        if s.get("connection") == "non_firm"
        and max(_number(s.get("power_mw")), _number(s.get("grid_mw"))) > 0  # draws power
    ]
    if non_firm:
        lines.append(
            f"- {len(non_firm)} station(s) on non-firm grid connections are planned with their "
            "headroom × the share of charging-peak hours outside their restricted windows; what "
            "they charge inside those windows needs a battery or flexible charging "
            "(`corridor grid plan.json` reports the MWh and the battery that covers it)"
        )
    if capped:
        lines.append(
            f"- **{len(capped)} site(s) held below the chargers their trucks need** by grid "
            "headroom or the per-site maximum (trucks would wait longer than the service level): "
            + ", ".join(
                f"{s['site_id']} ({s['chargers']} of {s.get('chargers_needed')})" for s in capped
            )
        )
    lines += [
        "",
        "## Targets",
        "",
    ]
    lines += _md_table(
        ["target", "wanted", "plan", "verdict"], target_checks(scenario.targets, fig)
    )
    lines += pilot_reach(doc, scenario.targets)
    lines += ["", "## Shortlist", ""]
    size = "offers" if opt.vehicles else ("power_mw" if tech == "bev" else "capacity_kg_per_day")
    head = ["rank", "site", "country", "direction", "chargers", size, "trucks/day"]
    has_marginal = "marginal_trucks_per_day" in shortlist.columns
    if has_marginal:
        head.append("lost without it (trucks/day)")
    srows = []
    for r in shortlist.itertuples(index=False):
        row = [
            r.rank,
            f"{r.name} ({r.site_id})",
            r.country,
            r.direction,
            r.chargers,
            _fmt(getattr(r, size)),
            _fmt(r.served_trucks_per_day),
        ]
        if has_marginal:
            row.append(_fmt(r.marginal_trucks_per_day))
        srows.append(row)
    lines += _md_table(head, srows)
    if scenario.optimise.vehicles:
        lines += ["", "## Joint plan: BEV and H2", "", *joint_markdown(doc)]
    for title, body in (extra_sections or {}).items():
        lines += ["", f"## {title}", "", *body]
    lines += ["", "Attribution: " + "; ".join(doc.get("attribution") or []), ""]
    return "\n".join(lines)
