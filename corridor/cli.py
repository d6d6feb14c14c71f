"""Command-line interface: parse the arguments, call :mod:`corridor.workflows`, print.

Every command that works on a scenario takes it as the optional first argument SCENARIO (a
built-in name or a scenario .toml file; default ``nl-de-bev-pilot``).

Exit codes: 0 success, 2 bad input (one-line reason, no traceback), 3 infeasible model.
"""

from __future__ import annotations

import json
import logging
import math
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from corridor._files import output_folder
from corridor.catalogue import Catalogue
from corridor.config import builtin_scenarios, load_scenario
from corridor.directions import arrow
from corridor.errors import CorridorError, InfeasibleError
from corridor.workflows import DEFAULT_SCENARIO

console = Console(stderr=True)
out = Console()

EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3


class _OneLineUsageErrors(TyperGroup):
    """The command group, with click's usage errors as ONE ``error:`` line and exit 2.

    Unknown option or command, missing argument, bad value: like every other bad input, instead
    of click's multi-line box.
    """

    def make_context(self, info_name: str | None, args: list[str], **extra: Any) -> Any:
        """Parse the global options; a usage error becomes one line."""
        with _usage_errors("corridor"):
            return super().make_context(info_name, args, **extra)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Find the subcommand; remember its name for the messages."""
        name, cmd, rest = super().resolve_command(ctx, args)
        ctx.meta["corridor.command"] = f"{_command_path(ctx)} {name}"
        return name, cmd, rest

    def invoke(self, ctx: Any) -> Any:
        """Resolve and parse the subcommand; a usage error becomes one line."""
        with _usage_errors(lambda: ctx.meta.get("corridor.command", _command_path(ctx))):
            return super().invoke(ctx)


def _command_path(ctx: Any) -> str:
    """``corridor route``: the command's path, named ``corridor`` whatever ran it."""
    names = []
    while ctx is not None:
        names.append(ctx.info_name if ctx.parent is not None else "corridor")
        ctx = ctx.parent
    return " ".join(reversed(names))


@contextmanager
def _usage_errors(command: str | Callable[[], str]) -> Iterator[None]:
    try:
        yield
    except typer.TyperException as exc:
        # click's UsageError family (exit code 2; typer vendors click, so matched by its code);
        # "no arguments" shows the help instead, as typer does
        if getattr(exc, "exit_code", None) != 2 or type(exc).__name__ == "NoArgsIsHelpError":
            raise
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            where = _command_path(ctx)
        else:
            where = command() if callable(command) else command
        _fail("error", f"{where}: {exc.format_message().rstrip('.')}; see {where} --help")
        raise typer.Exit(EXIT_BAD_INPUT) from None


app = typer.Typer(
    help="corridor: plan heavy-duty truck charging (1+ MW, MCS) and hydrogen corridors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_OneLineUsageErrors,
)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data root (default: env CORRIDOR_DATA, then ../shared/data).",
        file_okay=False,
    ),
]
ScenarioArg = Annotated[
    str, typer.Argument(help="Built-in scenario name or a scenario .toml file.")
]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder (written all-or-nothing).")]
CapacityTableOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--capacity-table",
        metavar="FILE",
        help="Grid operator's capacity table (CSV / GeoJSON / GPKG; format in "
        "corridor/grid/areas.py), applied after the scenario's grid.capacity_table; repeatable.",
        dir_okay=False,
    ),
]
CapacityAreasOpt = Annotated[
    Path | None,
    typer.Option(
        "--capacity-areas",
        metavar="FILE",
        help="Supply-area polygons (GeoJSON / GPKG) the capacity tables' area ids refer to.",
        dir_okay=False,
    ),
]


@contextmanager
def _errors() -> Iterator[None]:
    """Map corridor errors to exit codes with a one-line message."""
    try:
        yield
    except InfeasibleError as exc:
        _fail("infeasible", exc)
        raise typer.Exit(EXIT_INFEASIBLE) from None
    except CorridorError as exc:
        _fail("error", exc)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OSError as exc:  # a file or folder named by the user cannot be read or written
        where = f" {exc.filename}" if exc.filename else ""
        _fail("error", f"cannot access{where}: {exc.strerror or exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _finite(flag: str, low: float = 0.0) -> Callable[[str], float]:
    """Parser of a float option: a finite number >= ``low``, else ONE error line and exit 2.

    Click's own float type accepts ``inf`` and ``nan`` and reports range errors in a
    multi-line box; this parser is shared by every float option.
    """

    def parse(text: str | float) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= low):
            _fail("error", f"{flag} expects a finite number >= {low:g}, got {str(text)!r}")
            raise typer.Exit(EXIT_BAD_INPUT)
        return value

    return parse


def _check_solver(sc: Any) -> None:
    """Check that the scenario's MILP solver is available before minutes of pipeline run."""
    from corridor.optimise.solve import make_solver

    make_solver(sc.optimise)  # SolverError (exit 2) naming how to install it


def _fail(label: str, message: object) -> None:
    """Print ``label: message`` as ONE line on stderr (never wrapped, newlines folded)."""
    text = " ".join(str(message).split())
    console.print(
        f"[bold red]{label}:[/] {escape(text)}", highlight=False, soft_wrap=True, overflow="ignore"
    )


@contextmanager
def _progress() -> Iterator[Callable[[str], None]]:
    with console.status("starting …") as status:

        def tell(stage: str) -> None:
            status.update(f"[bold]{stage}[/] …")
            console.log(f"{stage} …")

        yield tell


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stage.")] = False,
) -> None:
    # SIGTERM unwinds like Ctrl-C, so staging folders and locks are cleaned up
    signal.signal(signal.SIGTERM, _terminate)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    table = Table("scenario", "year", "technology", "sites", "description")
    with _errors():
        for name in builtin_scenarios():
            sc = load_scenario(name)
            opt = sc.optimise
            table.add_row(
                name,
                str(sc.year),
                opt.technology_label,
                f"{opt.min_sites}–{opt.max_sites}",
                sc.description,
            )
    out.print(table)


@app.command()
def data(data_dir: DataDir = None) -> None:
    """Show which datasets are present, with source and licence."""
    with _errors():
        cat = Catalogue.from_env(data_dir)
        table = Table(
            "dataset", "present", "path", "source", "licence", title=f"data root {cat.root}"
        )
        missing = 0
        for ds, present in cat.status():
            missing += not present
            table.add_row(
                ds.key,
                "[green]yes[/]" if present else "[red]MISSING[/]",
                ds.relpath,
                ds.source,
                ds.licence,
            )
        out.print(table)
        for ds, present in cat.status():
            if not present:
                out.print(f"[red]missing[/] {ds.key}: {ds.how_to_obtain}")
        out.print(f"{len(cat.status()) - missing} present, {missing} missing")


@app.command()
def plan(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out_dir: OutOpt = Path("out"),
    data_dir: DataDir = None,
    capacity_table: CapacityTableOpt = None,
    capacity_areas: CapacityAreasOpt = None,
) -> None:
    """Plan a corridor: pick, size and check sites; write plan.json, shortlist and map."""
    from corridor.workflows import run, with_capacity_tables, write_run

    with _errors(), output_folder(out_dir):
        sc = with_capacity_tables(load_scenario(scenario), capacity_table, capacity_areas)
        cat = Catalogue.from_env(data_dir)
        _check_solver(sc)
        with _progress() as tell:
            result = run(sc, cat, progress=tell)
            tell("writing outputs")
            files = write_run(result, out_dir)
        _print_plan(result)
        out.print(f"wrote {', '.join(str(f) for f in files)}")


def _lonlat(text: str, flag: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        msg = (
            f"corridor route: {flag} expects LON,LAT in degrees (e.g. 4.05,51.95), got "
            f"{text!r}; see corridor route --help"
        )
        raise CorridorError(msg) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = (
            f"corridor route: {flag} {text!r} is outside lon -180..180 / lat -90..90; see "
            "corridor route --help"
        )
        raise CorridorError(msg)
    return lon, lat


@app.command()
def network(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out_dir: OutOpt = Path("out/network"),
    data_dir: DataDir = None,
) -> None:
    """Build the directed truck road graph; write network.gpkg (edges, nodes) and its report."""
    from corridor._files import write_outputs
    from corridor.network import edges_gdf, nodes_gdf
    from corridor.workflows import run_stages

    with _errors(), output_folder(out_dir):
        sc = load_scenario(scenario)
        cat = Catalogue.from_env(data_dir)
        with _progress() as tell:
            G = run_stages(sc, cat, until="network", progress=tell).graph
            tell("writing network.gpkg")
            edges = edges_gdf(G)
            edges = edges.drop(
                columns=[
                    c
                    for c in edges.columns
                    if edges[c].dtype == object
                    and c not in ("geometry",)
                    and edges[c].map(type).eq(list).any()
                ]
            )
            nodes = nodes_gdf(G)

            def write(p: Path) -> None:
                edges.to_file(p, layer="edges", driver="GPKG")
                nodes.reset_index().to_file(p, layer="nodes", driver="GPKG", mode="a")

            report = G.graph.get("build_report", {})
            files = write_outputs(
                out_dir,
                {
                    "network.gpkg": write,
                    "network_report.json": lambda p: p.write_text(
                        _json(report) + "\n", encoding="utf-8"
                    ),
                },
                kind="network",
            )
        rep = G.graph.get("build_report", {})
        out.print(
            f"[bold]{G.number_of_nodes():,}[/] nodes, [bold]{G.number_of_edges():,}[/] directed "
            f"edges, {rep.get('km_total', 0):,.0f} km (per direction); "
            f"cache {G.graph.get('cache', {}).get('status', '-')}"
        )
        for key, title in (("km_by_class", "class"), ("km_by_country", "country")):
            table = Table(title, "km")
            for name, km in sorted(rep.get(key, {}).items(), key=lambda kv: -kv[1]):
                table.add_row(str(name), f"{km:,.1f}")
            out.print(table)
        if rep.get("by_country"):
            table = Table(
                "country", "source", "lines read", "duplicates dropped", "OSM km", "coarse km"
            )
            for cc, r in rep["by_country"].items():
                table.add_row(
                    cc,
                    r["source"],
                    f"{r['lines_read']:,}",
                    f"{r['duplicate_geometries_removed']:,}",
                    f"{r['km']:,.1f}",
                    f"{r['coarse_km']:,.1f}",
                )
            out.print(table)
        out.print(
            f"joined {rep.get('snaps', 0):,} gaps ({rep.get('snapped_km', 0):.2f} km), "
            f"dropped {rep.get('dropped_km', 0):,.1f} km outside the largest strongly connected "
            "component"
        )
        out.print(
            f"OSM rules: {rep.get('roundabout_oneway_implied', 0):,} roundabouts one-way, "
            f"{rep.get('reversed_oneway_lines', 0):,} lines reversed (oneway=-1/T), "
            f"{rep.get('alternating_two_way_lines', 0):,} alternating kept both ways, "
            f"{rep.get('reversible_lines_dropped', 0):,} reversible dropped "
            f"({rep.get('reversible_km_dropped', 0):,.1f} km); "
            f"{rep.get('lines_split_at_border', 0):,} lines cut at borders; edges split at "
            f"{rep.get('chain_breaks_at_ref_change', 0):,} ref changes and "
            f"{rep.get('chain_breaks_at_border', 0):,} borders; "
            f"{rep.get('ways_split_at_missing_nodes', 0):,} ways split at missing nodes"
        )
        out.print(f"wrote {', '.join(str(f) for f in files)}")


@app.command()
def route(
    from_: Annotated[str, typer.Option("--from", help="Start as LON,LAT (degrees).")],
    to: Annotated[str, typer.Option("--to", help="End as LON,LAT (degrees).")],
    scenario: Annotated[
        str, typer.Argument(help="Scenario whose road graph is used (name or .toml file).")
    ] = DEFAULT_SCENARIO,
    scenario_option: Annotated[
        str | None,
        typer.Option("--scenario", hidden=True, help="Deprecated: give SCENARIO as argument."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Truck route between two points: length, travel time and motorway refs."""
    from corridor._validate import Region, check_points_near
    from corridor.network import load_graph, shortest_route

    with _errors():
        if scenario_option is not None:
            if scenario != DEFAULT_SCENARIO and scenario != scenario_option:
                msg = f"two scenarios given: {scenario!r} and --scenario {scenario_option!r}"
                raise CorridorError(msg)
            console.print("[yellow]note:[/] --scenario is deprecated: corridor route SCENARIO …")
            scenario = scenario_option
        a, b = _lonlat(from_, "--from"), _lonlat(to, "--to")
        sc = load_scenario(scenario)
        G = load_graph(Catalogue.from_env(data_dir), sc.network)
        region = Region.from_graph(
            G, f"road graph of {sc.name} ({', '.join(sc.network.countries)})"
        )
        check_points_near(*a, region, what=f"--from {from_}")
        check_points_near(*b, region, what=f"--to {to}")
        r = shortest_route(G, a, b)
        doc = r.to_dict()
        doc.pop("nodes", None)
        if as_json:
            typer.echo(_json(doc))
            return
        out.print(
            f"{doc['total_km']:.1f} km, {doc['total_time_min']:.0f} min at truck speeds "
            f"({doc['length_km']:.1f} km on motorways/trunk roads via "
            f"{' → '.join(doc['refs']) or '(no refs)'}; local access legs "
            f"{doc['access_km'][0]:.1f} km / {doc['access_km'][1]:.1f} km to points "
            f"{doc['snap_m'][0]:.0f} m / {doc['snap_m'][1]:.0f} m away)"
        )


@app.command()
def flows(
    scenario: ScenarioArg = DEFAULT_SCENARIO,
    out_dir: OutOpt = Path("out/flows"),
    data_dir: DataDir = None,
) -> None:
    """Place and route the ETISplus truck OD flows; write od_flows.parquet and edge_flows.gpkg."""
    from corridor._files import write_outputs
    from corridor.flows import write_edge_flows_gpkg, write_od_parquet
    from corridor.workflows import run_stages

    with _errors(), output_folder(out_dir):
        sc = load_scenario(scenario)
        cat = Catalogue.from_env(data_dir)
        with _progress() as tell:
            st = run_stages(sc, cat, until="flows", progress=tell)
            G, fs = st.graph, st.flows
            tell("writing outputs")
            files = write_outputs(
                out_dir,
                {
                    "od_flows.parquet": lambda p: write_od_parquet(fs, p),
                    "edge_flows.gpkg": lambda p: write_edge_flows_gpkg(fs, G, p),
                },
                kind="flows",
            )
        od = fs.od
        out.print(
            f"{len(od):,} OD flows routed, {od['trucks_per_day'].sum():,.0f} trucks/day in "
            f"{sc.flows.target_year} ({od['ze_trucks_per_day'].sum():,.1f} "
            f"{sc.optimise.vehicle.technology.upper()}); {len(fs.excluded):,} excluded (see report)"
        )
        out.print(f"wrote {', '.join(str(f) for f in files)}")


@app.command()
def grid(
    source: Annotated[
        str,
        typer.Argument(
            help="Scenario name / .toml (plans it first), a plan.json, or a CSV of sites with "
            "site_id, lon, lat, power_mw, energy_mwh_per_day."
        ),
    ] = DEFAULT_SCENARIO,
    out_dir: OutOpt = Path("out/grid"),
    battery_mwh: Annotated[
        float,
        typer.Option(
            "--battery-mwh",
            help="Battery per site (MWh, finite, >= 0).",
            metavar="MWH",
            parser=_finite("--battery-mwh"),
        ),
    ] = 0.0,
    scenario: Annotated[
        str | None, typer.Option(help="Scenario for the grid settings of a plan.json / CSV.")
    ] = None,
    data_dir: DataDir = None,
    capacity_table: CapacityTableOpt = None,
    capacity_areas: CapacityAreasOpt = None,
) -> None:
    """Report connection load per substation and congestion area; write grid_load.csv / .geojson."""
    from corridor.workflows import grid_report

    with _errors(), output_folder(out_dir):
        cat = Catalogue.from_env(data_dir)
        if Path(source).suffix.lower() not in (".json", ".csv"):
            _check_solver(load_scenario(source))
        with _progress() as tell:
            per_sub, per_area, files = grid_report(
                source,
                cat,
                out_dir,
                battery_mwh=battery_mwh,
                scenario=scenario,
                progress=tell,
                capacity_tables=capacity_table,
                capacity_areas=capacity_areas,
            )
        table = Table(
            "level",
            "id",
            "sites",
            "installed MW",
            "peak MW",
            "MWh/day",
            "spare MW",
            "headroom MW",
            "hours over headroom",
            "battery needed MWh",
            "restricted hours loaded",
        )
        for level, frame, key in (
            ("substation", per_sub, "substation_id"),
            ("area", per_area, "congestion_area_id"),
        ):
            for _, row in frame.iterrows():
                table.add_row(
                    level,
                    str(row[key]),
                    str(row["n_sites"]),
                    f"{row['installed_mw']:.1f}",
                    f"{row['peak_mw']:.2f}",
                    f"{row['daily_mwh']:.1f}",
                    "–" if math.isnan(row["spare_mw"]) else f"{row['spare_mw']:.1f}",
                    f"{row['headroom_mw']:.1f}",
                    str(row["hours_over_headroom"]),
                    f"{row['battery_needed_mwh']:.2f}"
                    if row["battery_can_cover"]
                    else "none can cover",
                    str(row["hours_loaded_in_restricted_window"]),
                )
        out.print(table)
        charts = [f for f in files if f.suffix == ".png"]
        named = ", ".join(str(f) for f in files if f.suffix != ".png")
        out.print(f"wrote {named} and {len(charts)} charts (grid_chart_*.png) in {out_dir}")


def _print_plan(result: Any) -> None:
    p = result.plan
    if result.scenario.optimise.vehicles:
        _print_joint_plan(result)
        return
    tech = result.scenario.optimise.vehicle.technology
    gap = "–" if p.gap is None else f"{100 * p.gap:.2f} %"
    out.print(
        f"[bold]{result.scenario.name}[/]: {p.status} (gap {gap}), "
        f"{p.served_trucks_per_day:.1f} {tech.upper()} trucks/day served, "
        f"solve {p.solve_time_s:.1f} s, {'valid' if not p.violations else 'INVALID'}"
    )
    table = Table("site", "name", "country", "direction", "chargers", "MW / kg/day", "trucks/day")
    for sid, row in result.plan.sites.sort_values(
        "served_trucks_per_day", ascending=False
    ).iterrows():
        info = result.sites.loc[sid]
        size = row["power_mw"] if tech == "bev" else row["capacity_kg_per_day"]
        table.add_row(
            str(sid),
            str(info["name"]),
            str(info["country"]),
            str(info["direction"]),
            str(int(row["chargers"])),
            f"{size:,.1f}",
            f"{row['served_trucks_per_day']:.1f}",
        )
    out.print(table)


def _print_joint_plan(result: Any) -> None:
    p = result.plan
    gap = "–" if p.gap is None else f"{100 * p.gap:.2f} %"
    classes = p.model_stats.get("classes", {})
    served = ", ".join(
        f"{name} {info['served_trucks_per_day']:.1f}" for name, info in classes.items()
    )
    out.print(
        f"[bold]{result.scenario.name}[/]: {p.status} (gap {gap}), "
        f"{p.served_trucks_per_day:.1f} trucks/day served ({served}), "
        f"{p.model_stats.get('sites_shared', 0)} shared BEV + H2 hubs, "
        f"solve {p.solve_time_s:.1f} s, {'valid' if not p.violations else 'INVALID'}"
    )
    table = Table(
        "site", "name", "country", "offers", "BEV chargers × MW", "H2 modules", "trucks/day"
    )
    for sid, row in p.sites.sort_values("served_trucks_per_day", ascending=False).iterrows():
        info = result.sites.loc[sid]
        n_bev = int(row["bev_chargers"])
        bev = f"{n_bev} × {row['bev_charger_mw']:g}" if n_bev else ""
        table.add_row(
            str(sid),
            str(info["name"]),
            str(info["country"]),
            str(row["offers"]),
            bev,
            str(int(row["h2_modules"])) if row["h2_modules"] else "",
            f"{row['served_trucks_per_day']:.1f}",
        )
    out.print(table)


@app.command()
def coverage(
    routes: Annotated[
        Path,
        typer.Option(
            "--routes",
            help=(
                "CSV with route_id,origin_lon,origin_lat,dest_lon,dest_lat or "
                "route_id,origin,destination (gazetteer names); optional trips_per_day."
            ),
        ),
    ],
    truck: Annotated[
        str | None,
        typer.Option(
            "--truck",
            help=(
                "Shipped profile (mcs-600kwh, ccs-540kwh, h2-80kg) or a TOML file; default: the "
                "vehicle the plan was made for."
            ),
        ),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="plan.json of a run; default: run the default scenario (takes minutes).",
        ),
    ] = None,
    out_dir: OutOpt = Path("coverage"),
    data_dir: DataDir = None,
) -> None:
    """Can my trucks drive my routes with the plan's sites? Per route and direction."""
    from corridor.workflows import coverage_report

    with _errors(), output_folder(out_dir):
        if plan is None:
            _check_solver(load_scenario(DEFAULT_SCENARIO))
        res = coverage_report(
            routes,
            Catalogue.from_env(data_dir),
            out_dir,
            truck=truck,
            plan=plan,
            progress=lambda s: console.print(s),
        )
    for note in res.notes:
        console.print(f"[yellow]note:[/] {note}")
    _print_coverage(res.coverage, res.profile)
    out.print(f"wrote {', '.join(str(f) for f in res.files)}")


def _print_coverage(cov: Any, profile: Any) -> None:
    unit = "SoC" if profile.vehicle.technology == "bev" else "tank"
    table = Table(
        "route",
        "dir",
        "km",
        "h",
        "served",
        "stops",
        f"min {unit}",
        "charge min" if profile.vehicle.technology == "bev" else "fill min",
        "longest gap km",
        "stops = breaks",
        title=f"truck {profile.name}: {profile.description}",
    )
    for r in cov.routes.itertuples():
        soc = "–" if not math.isfinite(r.min_arrival_soc) else f"{100 * r.min_arrival_soc:.0f} %"
        table.add_row(
            str(r.route_id),
            arrow(r.direction),
            f"{r.distance_km:,.0f}",
            f"{r.drive_h:.1f}",
            "[green]yes[/]" if r.feasible else "[red]no[/]",
            str(r.stop_names or "–"),
            soc,
            f"{r.charge_min_total:.0f}",
            f"{r.longest_gap_km:,.0f}",
            ("yes" if r.stops_coincide_with_breaks else "no") if r.n_stops else "–",
        )
    out.print(table)
    n = int(cov.routes["feasible"].sum())
    out.print(f"{n} of {len(cov.routes)} route directions served")


@app.command()
def sweep(
    sweep_file: Annotated[
        Path, typer.Argument(help="Sweep file (TOML: base, [axes], [[cases]]).", dir_okay=False)
    ],
    out_dir: OutOpt = Path("out/sweep"),
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="Dask scheduler to run on (e.g. tcp://host:8786); default: a local cluster.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Local cluster workers (default: the cores)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run a scenario sweep on Dask; write sweep.parquet/.csv, charts, sweep.html, cases/."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from corridor.sweep import cluster_threads, cores, load_sweep, local_cluster, run_sweep

    with _errors(), output_folder(out_dir):
        sw = load_sweep(sweep_file)
        cat = Catalogue.from_env(data_dir)
        _check_solver(sw.base)
        from distributed import Client

        if not logging.getLogger().isEnabledFor(logging.INFO):
            logging.getLogger("distributed").setLevel(logging.ERROR)
        cluster = None
        if scheduler is None:
            console.log(f"starting a local Dask cluster of {workers or cores()} workers")
            cluster = local_cluster(workers)
        try:
            with Client(scheduler or cluster) as client:
                threads = cluster_threads(client)
                bar = Progress(
                    "[bold]cases[/]",
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                )
                with bar:
                    task = bar.add_task("cases", total=len(sw.cases))

                    def done(row: dict) -> None:
                        bar.advance(task)
                        tag = "skipped (finished before)" if row.get("skipped") else row["status"]
                        served = row.get("served_trucks_per_day")
                        extra = f", {served:,.1f} trucks/day" if served is not None else ""
                        why = f": {row.get('reason')}" if row["status"] != "ok" else ""
                        bar.console.print(
                            escape(f"{row['case_id']}: {tag}{extra}{why}"), soft_wrap=True
                        )

                    frame = run_sweep(
                        sw, cat, out_dir, client=client, threads=threads, progress=done
                    )
        finally:
            if cluster is not None:
                cluster.close()
    n_ok = int((frame["status"] == "ok").sum())
    out.print(
        f"{n_ok} of {len(frame)} cases solved; wrote {out_dir}/sweep.parquet, sweep.csv, "
        f"sweep.html, the charts and cases/"
    )


@app.command()
def rollout(
    rollout_file: Annotated[
        Path, typer.Argument(help="Roll-out file (TOML: base, [[stages]]).", dir_okay=False)
    ],
    out_dir: OutOpt = Path("out/rollout"),
    data_dir: DataDir = None,
) -> None:
    """Plan a staged roll-out (each stage keeps the earlier sites); stage by stage."""
    from corridor.rollout import load_rollout, run_rollout

    with _errors(), output_folder(out_dir):
        ro = load_rollout(rollout_file)
        cat = Catalogue.from_env(data_dir)
        _check_solver(ro.base)
        with _progress() as tell:
            result = run_rollout(ro, cat, out_dir, progress=tell)
    table = Table("year", "sites (+added)", "chargers (+added)", "served trucks/day", "status")
    for r in result["table"].itertuples():
        table.add_row(
            str(r.year),
            f"{r.sites} (+{r.sites_added})",
            f"{r.chargers} (+{r.chargers_added})",
            _cell(r.served_trucks_per_day),
            str(r.status),
        )
    out.print(table)
    out.print(
        f"solved stage by stage; planning {ro.stages[-1].year} alone serves "
        f"{_cell(result['alone_trucks_per_day'])} trucks/day: "
        f"{_cell(result['value_lost_trucks_per_day'])} trucks/day lost by staging"
    )
    out.print(
        f"wrote {out_dir}/rollout.csv, rollout_sites.csv, rollout_map.png, rollout.html, "
        "rollout_summary.md, stages/, alone/"
    )


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run output folders (with plan.json).")],
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write the table as CSV.")
    ] = None,
    map_out: Annotated[
        Path | None,
        typer.Option("--map", help="Also draw the compared runs' sites on one map (PNG)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Tabulate the headline figures of several runs (run, sweep or roll-out folders)."""
    from corridor._files import write_atomic
    from corridor.outputs.summary import compare_runs, compared_sites

    with _errors():
        for path, flag in ((csv_out, "--csv"), (map_out, "--map")):
            if path is not None:
                _check_file_target(path, flag)
        df = compare_runs(runs)
        if csv_out is not None:
            write_atomic(csv_out, df.to_csv)
        if map_out is not None:
            from corridor.outputs.charts import runs_map

            try:
                cat = Catalogue.from_env(data_dir)
            except CorridorError:  # the map is drawn without country outlines
                cat = None
            sites = compared_sites(runs)
            write_atomic(map_out, lambda p: runs_map(sites, p, catalogue=cat))
    table = Table("figure", *[str(c) for c in df.index])
    for col in df.columns:
        table.add_row(col, *[_cell(v) for v in df[col]])
    out.print(table)
    for path in (csv_out, map_out):
        if path is not None:
            out.print(f"wrote {path}")


@app.command("compare-sites")
def compare_sites(
    plan: Annotated[Path, typer.Argument(help="plan.json written by `corridor plan`.")],
    reference: Annotated[
        Path,
        typer.Argument(
            help="Reference sites: CSV (lon, lat; optional name, country, road), GeoJSON or GPKG."
        ),
    ],
    within_km: Annotated[
        float,
        typer.Option(
            "--within-km",
            parser=_finite("--within-km"),
            help="Largest distance (km) between a plan site and a reference site that match.",
        ),
    ] = 5.0,
    out_dir: OutOpt = Path("compare-sites"),
    data_dir: DataDir = None,
) -> None:
    """How many plan sites have a reference site within X km, and the reverse, by country/road."""
    from corridor.workflows import compare_sites_report

    with _errors(), output_folder(out_dir):
        try:
            catalogue = Catalogue.from_env(data_dir)
        except CorridorError:
            catalogue = None  # countries only from the reference file itself
        res = compare_sites_report(plan, reference, within_km, out_dir, catalogue)
    table = Table("country", "road", "plan", "matched", "reference", "matched", title="sites")
    for r in res.summary.itertuples(index=False):
        table.add_row(
            r.country,
            r.road,
            str(r.plan_sites),
            str(r.plan_sites_matched),
            str(r.reference_sites),
            str(r.reference_sites_matched),
        )
    out.print(table)
    out.print(f"wrote {', '.join(str(f) for f in res.files)}")


def _check_file_target(path: Path, flag: str) -> None:
    """Check that a file to write is not a folder and that its folder exists."""
    if path.is_dir():
        msg = f"{flag} {path} is a folder; give a file name such as {path / 'compare.csv'}"
        raise CorridorError(msg)
    if not path.parent.is_dir():
        msg = f"{flag} {path}: folder {path.parent} does not exist; create it first"
        raise CorridorError(msg)


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 1 else f"{v:,.1f}"
    return str(v)


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)
