"""Command-line interface: a thin typer layer over the library.

Exit codes: 0 success, 2 bad input (one-line reason, no traceback), 3 infeasible model.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from corridor.catalogue import Catalogue
from corridor.config import builtin_scenarios, load_scenario
from corridor.errors import CorridorError, InfeasibleError

app = typer.Typer(
    help="corridor: plan heavy-duty truck charging (1+ MW, MCS) and hydrogen corridors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
out = Console()

DEFAULT_SCENARIO = "nl-de-bev-pilot"
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data root (default: env CORRIDOR_DATA, then ../shared/data).",
        file_okay=False,
    ),
]


@contextmanager
def _errors() -> Iterator[None]:
    """Map corridor errors to exit codes with a one-line message."""
    try:
        yield
    except InfeasibleError as exc:
        console.print(f"[bold red]infeasible:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_INFEASIBLE) from None
    except CorridorError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


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
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    table = Table("scenario", "year", "technology", "sites", "description")
    for name in builtin_scenarios():
        sc = load_scenario(name)
        opt = sc.optimise
        table.add_row(
            name,
            str(sc.year),
            opt.vehicle.technology,
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
    scenario: Annotated[
        str, typer.Argument(help="Built-in scenario name or a scenario .toml file.")
    ] = DEFAULT_SCENARIO,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Output folder (written all-or-nothing).")
    ] = Path("out"),
    data_dir: DataDir = None,
) -> None:
    """Plan a corridor: pick, size and check sites; write plan.json, shortlist and map."""
    from corridor.pipeline import run, write_run

    with _errors():
        sc = load_scenario(scenario)
        cat = Catalogue.from_env(data_dir)
        with _progress() as tell:
            result = run(sc, cat, progress=tell)
            tell("writing outputs")
            files = write_run(result, out_dir)
        _print_plan(result)
        out.print(f"wrote {', '.join(str(f) for f in files)}")


def _print_plan(result: Any) -> None:
    p = result.plan
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


def main() -> None:  # pragma: no cover - console entry
    """Console entry point."""
    app()


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)
