"""CLI commands over the outputs: ``corridor coverage`` and ``corridor compare``.

Plain typer command functions, registered on the main app in :mod:`corridor.cli` with
``app.command()(coverage)`` and ``app.command()(compare)``. Exit codes as the main CLI: 0 success,
2 bad input (one-line reason), 3 infeasible.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from corridor.errors import CorridorError, InfeasibleError

__all__ = ["compare", "coverage"]

console = Console(stderr=True)
out = Console()
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
DEFAULT_SCENARIO = "nl-de-bev-pilot"


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except InfeasibleError as exc:
        console.print(f"[bold red]infeasible:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_INFEASIBLE) from None
    except CorridorError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _scenario_of_plan(doc: dict[str, Any]) -> Any:
    from corridor.config import builtin_scenarios, load_scenario

    name = str(doc.get("scenario") or "")
    return load_scenario(name if name in builtin_scenarios() else DEFAULT_SCENARIO)


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
            help="Shipped profile (mcs-600kwh [default], ccs-540kwh, h2-80kg) or a TOML file.",
        ),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="plan.json of a run; default: run the default scenario (takes minutes).",
        ),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Output folder (written all-or-nothing).")
    ] = Path("coverage"),
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data root (default: env CORRIDOR_DATA, then ../shared/data).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Can my trucks drive my routes with the plan's sites? Per route and direction."""
    from corridor.catalogue import Catalogue
    from corridor.network import load_graph
    from corridor.outputs.atomic import write_outputs
    from corridor.outputs.coverage import (
        coverage_map,
        plan_sites_from_json,
        read_routes,
        route_coverage,
        write_coverage_csv,
        write_stops_csv,
    )
    from corridor.outputs.maps import write_map
    from corridor.outputs.trucks import read_truck_profile

    with _errors():
        profile = read_truck_profile(truck)
        route_df = read_routes(routes)
        cat = Catalogue.from_env(data_dir)
        if plan is not None:
            sites = plan_sites_from_json(plan)
            sc = _scenario_of_plan(json.loads(plan.read_text(encoding="utf-8")))
            graph = load_graph(cat, sc.network)
            title = f"Route coverage: {routes.name} with {plan}"
        else:
            from corridor.config import load_scenario
            from corridor.outputs.plan import shortlist_frame
            from corridor.pipeline import run

            sc = load_scenario(DEFAULT_SCENARIO)
            console.print(f"no --plan: planning the default scenario {sc.name} first …")
            result = run(sc, cat)
            corridor_ze = float(result.corridor_od["ze_trucks_per_day"].sum())
            sites = shortlist_frame(
                result.plan.sites, result.sites, sc.optimise.vehicle.technology, corridor_ze
            ).set_index("site_id")
            graph = result.graph
            title = f"Route coverage: {routes.name} with {sc.name}"
        if sc.optimise.vehicle.technology != profile.vehicle.technology:
            console.print(
                f"[yellow]note:[/] the plan is for {sc.optimise.vehicle.technology.upper()} "
                f"sites but the truck {profile.name} is {profile.vehicle.technology.upper()}"
            )
        cov = route_coverage(graph, route_df, profile, sites)
        fmap = coverage_map(cov, sites, title)
        files = write_outputs(
            out_dir,
            {
                "coverage.csv": lambda p: write_coverage_csv(cov, p),
                "coverage_stops.csv": lambda p: write_stops_csv(cov, p),
                "coverage_map.html": lambda p: write_map(fmap, p),
            },
        )
    _print_coverage(cov, profile)
    out.print(f"wrote {', '.join(str(f) for f in files)}")


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
            "→" if r.direction == "outbound" else "←",
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


def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run output folders (with plan.json).")],
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Also write the table as CSV.")
    ] = None,
) -> None:
    """Tabulate the headline figures of several runs."""
    from corridor.outputs.summary import compare_runs

    with _errors():
        df = compare_runs(runs)
    table = Table("figure", *[str(c) for c in df.index])
    for col in df.columns:
        table.add_row(col, *[_cell(v) for v in df[col]])
    out.print(table)
    if csv_out is not None:
        df.to_csv(csv_out)
        out.print(f"wrote {csv_out}")


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 1 else f"{v:,.1f}"
    return str(v)
