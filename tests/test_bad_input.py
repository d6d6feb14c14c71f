"""Bad input never crashes, never passes silently, never loses a result.

One table of bad inputs across every command: each exits with its code (2 bad input, 3
infeasible) and ONE ``error:`` line naming the key, file, row or point, never a traceback, and a
good earlier output folder keeps its exact bytes. Then the right values for each kind of fault
(plausible points, zero-length routes, encodings and separators, place names, numbers, the
output folder as a unit, one-line errors, budgets).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import corridor.network
from corridor._files import MANIFEST, output_folder, read_table, write_outputs
from corridor._validate import Region, check_points_near
from corridor.cli import app
from corridor.errors import InfeasibleError, InputDataError

runner = CliRunner()

SITES_HEADER = "site_id,lon,lat,power_mw,energy_mwh_per_day\n"
ROUTES_HEADER = "route_id,origin_lon,origin_lat,dest_lon,dest_lat\n"
GOOD_ROUTE = "r1,4.48,51.922,6.762,51.435\n"


@pytest.fixture(scope="module", autouse=True)
def _graph_loaded_once() -> None:
    """Load each scenario's (cached) road graph once for the whole module."""
    real = corridor.network.load_graph
    graphs: dict[str, object] = {}

    def once(catalogue, config, cache_dir=None):
        key = config.model_dump_json()
        if key not in graphs:
            graphs[key] = real(catalogue, config, cache_dir)
        return graphs[key]

    mp = pytest.MonkeyPatch()
    mp.setattr(corridor.network, "load_graph", once)
    yield
    mp.undo()


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A good earlier output folder (written through write_outputs)."""
    out = tmp_path / "good"
    write_outputs(
        out,
        {
            "plan.json": lambda p: p.write_text(
                json.dumps({"scenario": "nl-de-bev-pilot", "sites": []})
            ),
            "grid_load.csv": lambda p: p.write_text("level,group_id\n"),
            "coverage.csv": lambda p: p.write_text("route_id\n"),
        },
    )
    return out


def _w(name: str, text: str | bytes) -> Callable[[Path], str]:
    def make(d: Path) -> str:
        p = d / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
        return str(p)

    return make


def _toml(body: str) -> Callable[[Path], str]:
    return _w("mine.toml", 'name = "mine"\n' + body)


def _sites(rows: str) -> Callable[[Path], str]:
    return _w("sites.csv", SITES_HEADER + rows)


def _capacity_table(text: str) -> Callable[[Path], str]:
    """A capacity table ``caps.csv`` and a good site list ``sites.csv`` beside it."""

    def make(d: Path) -> str:
        (d / "sites.csv").write_text(SITES_HEADER + "v,6.1497,51.3695,4,40\n")
        return _w("caps.csv", text)(d)

    return make


def _routes(text: str) -> Callable[[Path], str]:
    return _w("routes.csv", text)


def _truck(body: str) -> Callable[[Path], str]:
    return _w("truck.toml", body)


def _data_with(relpath: str, text: str) -> Callable[[Path], str]:
    """A data root that links to the shared data but holds ``text`` at ``relpath``."""

    def make(d: Path) -> str:
        from corridor.catalogue import resolve_data_root

        real, root = resolve_data_root(None), d / "data"
        parts = Path(relpath).parts
        here, there = root, real
        for part in parts[:-1]:
            here.mkdir(parents=True, exist_ok=True)
            for sib in there.iterdir():
                if sib.name != part:
                    (here / sib.name).symlink_to(sib)
            here, there = here / part, there / part
        here.mkdir(parents=True, exist_ok=True)
        for sib in there.iterdir():
            if sib.name != parts[-1]:
                (here / sib.name).symlink_to(sib)
        (here / parts[-1]).write_text(text, encoding="utf-8")
        return str(root)

    return make


PLAN = _w("plan.json", json.dumps({"scenario": "nl-de-bev-pilot", "sites": []}))

# (id, command args with {f} = the made file, {out} = the good folder, {d} = tmp dir,
#  file maker, exit code, words the error line must hold)
CASES: list[tuple[str, list[str], Callable[[Path], str] | None, int, tuple[str, ...]]] = [
    # ---- route: points, coordinates, scenarios
    (
        "route-swapped",
        ["route", "--from", "51.922,4.48", "--to", "6.762,51.435"],
        None,
        2,
        ("--from", "6,0", "swapped"),
    ),
    (
        "route-aarhus-outside-nl-de",
        ["route", "--from", "10.00,53.55", "--to", "10.20,56.16"],
        None,
        2,
        ("--to 10.20,56.16", "159 km", "road graph of nl-de-bev-pilot"),
    ),
    (
        "route-at-sea",
        ["route", "--from", "3.30,52.60", "--to", "6.762,51.435"],
        None,
        2,
        ("--from 3.30,52.60", "km from the road graph", "at most 25 km"),
    ),
    (
        "route-madrid",
        ["route", "--from", "-3.70,40.42", "--to", "6.76,51.43"],
        None,
        2,
        ("--from", "km from the road graph"),
    ),
    (
        "route-semicolon",
        ["route", "--from", "4.05;51.95", "--to", "6.76,51.43"],
        None,
        2,
        ("--from", "LON,LAT"),
    ),
    (
        "route-text",
        ["route", "--from", "abc,51", "--to", "6.76,51.43"],
        None,
        2,
        ("corridor route: --from", "see corridor route --help"),
    ),
    ("route-lon-400", ["route", "--from", "400,51", "--to", "6.76,51.43"], None, 2, ("--from",)),
    ("route-nan", ["route", "--from", "nan,51", "--to", "6.76,51.43"], None, 2, ("--from",)),
    ("route-inf", ["route", "--from", "4.05,51.95", "--to", "inf,51"], None, 2, ("--to",)),
    ("route-one-value", ["route", "--from", "4.05", "--to", "6.76,51.43"], None, 2, ("--from",)),
    (
        "route-three-values",
        ["route", "--from", "4.05,51.95,1", "--to", "6.76,51.43"],
        None,
        2,
        ("--from",),
    ),
    (
        "route-unknown-scenario",
        ["route", "nope", "--from", "4.05,51.95", "--to", "6.76,51.43"],
        None,
        2,
        ("unknown scenario 'nope'",),
    ),
    (
        "route-two-scenarios",
        [
            "route",
            "nl-de-scandinavia-h2-pilot",
            "--from",
            "4.05,51.95",
            "--to",
            "6.76,51.43",
            "--scenario",
            "x",
        ],
        None,
        2,
        ("two scenarios",),
    ),
    (
        "route-bad-scenario-file",
        ["route", "{f}", "--from", "4.05,51.95", "--to", "6.76,51.43"],
        _toml("[network]\ncountry = ['NL']\n"),
        2,
        ("network.country", "countries"),
    ),
    # ---- plan: scenario numbers and keys (rejected before any work)
    ("plan-unknown-scenario", ["plan", "nope", "--out", "{out}"], None, 2, ("nope",)),
    (
        "plan-region-minimums-above-max-sites",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nmax_sites = 6\nmin_sites_per_region = { DE9 = 5, NL1 = 3 }\n"),
        2,
        ("optimise.min_sites_per_region sums to 8", "max_sites = 6"),
    ),
    (
        "plan-region-and-country-minimums-above-max-sites",
        ["plan", "{f}", "--out", "{out}"],
        _toml(
            "[optimise]\nmax_sites = 6\nmin_sites_per_country = { NL = 2, DE = 2 }\n"
            "min_sites_per_region = { DE9 = 5 }\n"
        ),
        2,
        ("min_sites_per_region", "needs at least 7 sites", "max_sites = 6"),
    ),
    (
        "plan-road-minimums-above-max-sites",
        ["plan", "{f}", "--out", "{out}"],
        _toml('[optimise]\nmax_sites = 6\nmin_sites_per_road = { "A 1" = 4, "A 30" = 4 }\n'),
        2,
        ("optimise.min_sites_per_road sums to 8", "max_sites = 6"),
    ),
    (
        "plan-region-of-another-country",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nmin_sites_per_region = { XX9 = 1 }\n"),
        2,
        ("min_sites_per_region names XX9", "not a NUTS-1 region"),
    ),
    (
        "plan-empty-scenario-file",
        ["plan", "{f}", "--out", "{out}"],
        _w("empty.toml", ""),
        2,
        ("empty.toml", "is empty"),
    ),
    (
        "plan-comments-only-scenario-file",
        ["plan", "{f}", "--out", "{out}"],
        _w("empty.toml", "# nothing here\n"),
        2,
        ("empty.toml", "is empty"),
    ),
    (
        "plan-integer-beyond-64-bit",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nmax_sites = 99999999999999999999\n"),
        2,
        ("optimise.max_sites",),
    ),
    (
        "plan-misspelt-key",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nmax_site = 5\n"),
        2,
        ("optimise.max_site", "max_sites"),
    ),
    (
        "plan-battery-inf",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise.vehicle]\nbattery_kwh = inf\n"),
        2,
        ("optimise.vehicle.battery_kwh", "finite"),
    ),
    (
        "plan-charger-power-inf",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\ncharger_power_mw = inf\n"),
        2,
        ("optimise.charger_power_mw", "finite"),
    ),
    (
        "plan-target-nan",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[targets]\nmin_trucks = nan\n"),
        2,
        ("targets.min_trucks", "finite"),
    ),
    (
        "plan-bbox-nan",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[network]\nbbox_lonlat = [nan, 50.0, 7.0, 52.0]\n"),
        2,
        ("network.bbox_lonlat",),
    ),
    (
        "plan-speed-inf",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[network]\nspeed_kph = {motorway = inf}\n"),
        2,
        ("network.speed_kph.motorway",),
    ),
    (
        "plan-consumption-negative",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise.vehicle]\nconsumption_kwh_per_km = -1.3\n"),
        2,
        ("optimise.vehicle.consumption_kwh_per_km",),
    ),
    (
        "plan-soc-window",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise.vehicle]\nsoc_reserve = 0.95\n"),
        2,
        ("soc_reserve",),
    ),
    (
        "plan-min-over-max-sites",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nmin_sites = 7\nmax_sites = 6\n"),
        2,
        ("min_sites", "max_sites"),
    ),
    (
        "plan-max-sites-0",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nmax_sites = 0\n"),
        2,
        ("optimise.max_sites",),
    ),
    (
        "plan-technology",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise.vehicle]\ntechnology = 'diesel'\n"),
        2,
        ("optimise.vehicle.technology",),
    ),
    (
        "plan-year",
        ["plan", "{f}", "--out", "{out}"],
        _w("mine.toml", "name='m'\nyear = 1990\n"),
        2,
        ("'year'",),
    ),
    (
        "plan-country-lowercase",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[network]\ncountries = ['nl']\n"),
        2,
        ("network.countries",),
    ),
    (
        "plan-technology-mismatch",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[flows]\ntechnology = 'h2'\n"),
        2,
        ("flows.technology",),
    ),
    (
        "plan-mcs-below-1mw",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\ncharger_power_mw = 0.5\n"),
        2,
        ("charger_power_mw",),
    ),
    (
        "plan-mip-gap",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nmip_gap = 1.5\n"),
        2,
        ("optimise.mip_gap",),
    ),
    (
        "plan-threads-0",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nthreads = 0\n"),
        2,
        ("optimise.threads",),
    ),
    (
        "plan-unknown-section",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[foo]\nx = 1\n"),
        2,
        ("unknown key 'foo'",),
    ),
    (
        "plan-not-toml-suffix",
        ["plan", "{f}", "--out", "{out}"],
        _w("mine.txt", "name='x'\n"),
        2,
        ("mine.txt",),
    ),
    (
        "plan-invalid-toml",
        ["plan", "{f}", "--out", "{out}"],
        _w("mine.toml", "name = = 1\n"),
        2,
        ("mine.toml", "not valid TOML"),
    ),
    (
        "plan-scenario-not-utf8",
        ["plan", "{f}", "--out", "{out}"],
        _w("mine.toml", "description = 'Osnabr\xfcck'\n".encode("cp1252")),
        2,
        ("mine.toml", "UTF-8"),
    ),
    (
        "plan-cbc-missing",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\nsolver = 'cbc'\n"),
        2,
        ("CBC", "highs"),
    ),
    ("plan-out-is-a-file", ["plan", "--out", "{f}"], _w("afile", "x"), 2, ("--out", "is a file")),
    (
        "plan-out-below-a-file",
        ["plan", "--out", "{f}/sub"],
        _w("afile", "x"),
        2,
        ("--out", "which is a file"),
    ),
    (
        "plan-time-limit-0",
        ["plan", "{f}", "--out", "{out}"],
        _toml("[optimise]\ntime_limit_s = 0\n"),
        2,
        ("optimise.time_limit_s",),
    ),
    (
        "network-polygon-missing",
        ["network", "{f}", "--out", "{out}"],
        _toml("[network]\npolygon_file = '/no/such/region.geojson'\n"),
        2,
        ("network.polygon_file", "/no/such/region.geojson", "not found"),
    ),
    (
        "network-bbox-inf",
        ["network", "{f}", "--out", "{out}"],
        _toml("[network]\nbbox_lonlat = [3.0, 50.0, inf, 52.0]\n"),
        2,
        ("network.bbox_lonlat",),
    ),
    (
        "network-unknown-country",
        ["network", "{f}", "--out", "{out}"],
        _toml("[network]\ncountries = ['NL', 'XX']\n"),
        2,
        ("network.countries ['XX']",),
    ),
    (
        "network-out-is-a-file",
        ["network", "--out", "{f}"],
        _w("afile", "x"),
        2,
        ("--out", "is a file"),
    ),
    ("flows-unknown-scenario", ["flows", "nope", "--out", "{out}"], None, 2, ("nope",)),
    (
        "flows-traffic-header-only",
        ["flows", "--data-dir", "{f}", "--out", "{out}"],
        _data_with("flows/etisplus_countries/NL/traffic.csv", "origin,destination,volume\n"),
        2,
        ("NL/traffic.csv", "country NL", "no truck flows", "0 row(s)", "125-node graph"),
    ),
    (
        "flows-traffic-all-zero",
        ["flows", "--data-dir", "{f}", "--out", "{out}"],
        _data_with(
            "flows/etisplus_countries/DE/traffic.csv",
            "origin,destination,volume\n100577,100593,0\n100577,100611,0.0\n",
        ),
        2,
        ("DE/traffic.csv", "country DE", "2 row(s), 0 with a volume > 0"),
    ),
    (
        "flows-out-below-a-file",
        ["flows", "--out", "{f}/x/y"],
        _w("afile", "x"),
        2,
        ("which is a file",),
    ),
    (
        "flows-pilot-trucks-negative",
        ["flows", "{f}", "--out", "{out}"],
        _toml("[flows.pilot_fleet]\ntrucks = -5\n"),
        2,
        ("flows.pilot_fleet.trucks",),
    ),
    # ---- grid: site lists
    (
        "grid-missing-column",
        ["grid", "{f}", "--out", "{out}"],
        _w("sites.csv", "site_id,lon,lat,power_mw\na,6.1,51.3,4\n"),
        2,
        ("energy_mwh_per_day", "sites.csv"),
    ),
    (
        "grid-negative-power",
        ["grid", "{f}", "--out", "{out}"],
        _sites("a,6.1,51.3,-4,40\n"),
        2,
        ("line 2", "power_mw"),
    ),
    (
        "grid-lon-text",
        ["grid", "{f}", "--out", "{out}"],
        _sites("a,east,51.3,4,40\n"),
        2,
        ("line 2", "lon"),
    ),
    (
        "grid-lat-95",
        ["grid", "{f}", "--out", "{out}"],
        _sites("a,6.1,95,4,40\n"),
        2,
        ("line 2", "lat"),
    ),
    (
        "grid-power-inf",
        ["grid", "{f}", "--out", "{out}"],
        _sites("a,6.1,51.3,inf,40\n"),
        2,
        ("line 2", "power_mw", "finite"),
    ),
    (
        "grid-energy-nan",
        ["grid", "{f}", "--out", "{out}"],
        _sites("a,6.1,51.3,4,nan\n"),
        2,
        ("line 2", "energy_mwh_per_day"),
    ),
    (
        "grid-capacity-ambiguous-thousands",
        ["grid", "{d}/sites.csv", "--capacity-table", "{f}", "--out", "{out}"],
        _capacity_table("substation_id;lon;lat;offtake_capacity_kw\nop-1;6.15;51.37;1.500\n"),
        2,
        ("caps.csv, line 2, column offtake_capacity_kw", "'1.500' is ambiguous", "write 1500"),
    ),
    (
        "grid-duplicate-id",
        ["grid", "{f}", "--out", "{out}"],
        _sites("a,6.1,51.3,4,40\nb,6.8,51.5,4,40\na,6.2,51.4,4,40\n"),
        2,
        ("line 4", "duplicate site_id 'a'", "line 2"),
    ),
    (
        "grid-empty-id",
        ["grid", "{f}", "--out", "{out}"],
        _sites(",6.1,51.3,4,40\n"),
        2,
        ("line 2", "site_id is empty"),
    ),
    (
        "grid-empty-file",
        ["grid", "{f}", "--out", "{out}"],
        _w("sites.csv", ""),
        2,
        ("sites.csv", "is empty"),
    ),
    (
        "grid-header-only",
        ["grid", "{f}", "--out", "{out}"],
        _w("sites.csv", SITES_HEADER),
        2,
        ("sites.csv", "no sites"),
    ),
    (
        "grid-swapped",
        ["grid", "{f}", "--out", "{out}"],
        _sites("venlo,51.3695,6.1497,4,40\n"),
        2,
        ("site 'venlo'", "swapped", "grid of nl-de-bev-pilot"),
    ),
    (
        "grid-far-away",
        ["grid", "{f}", "--out", "{out}"],
        _sites("madrid,-3.70,40.42,4,40\n"),
        2,
        ("site 'madrid'", "km from the grid"),
    ),
    (
        "grid-decimal-commas-in-comma-file",
        ["grid", "{f}", "--out", "{out}"],
        _sites("a,6,1,51,3,4,40\n"),
        2,
        ("line 2", "fields", "','-separated", "decimal point"),
    ),
    (
        "grid-battery-inf",
        ["grid", "{d}/sites.csv", "--out", "{out}", "--battery-mwh", "inf"],
        None,
        2,
        ("--battery-mwh", "finite number >= 0", "inf"),
    ),
    (
        "grid-battery-nan",
        ["grid", "{d}/sites.csv", "--out", "{out}", "--battery-mwh", "nan"],
        None,
        2,
        ("--battery-mwh", "finite number >= 0", "nan"),
    ),
    (
        "grid-battery-negative",
        ["grid", "{d}/sites.csv", "--out", "{out}", "--battery-mwh", "-1"],
        None,
        2,
        ("--battery-mwh", "finite number >= 0", "-1"),
    ),
    (
        "grid-battery-text",
        ["grid", "{d}/sites.csv", "--out", "{out}", "--battery-mwh", "lots"],
        None,
        2,
        ("--battery-mwh", "finite number >= 0", "lots"),
    ),
    (
        "grid-workbook",
        ["grid", "{f}", "--out", "{out}"],
        _w("sites.csv", b"PK\x03\x04\x00\x00"),
        2,
        ("sites.csv", "binary"),
    ),
    (
        "grid-plan-json-list",
        ["grid", "{f}", "--out", "{out}"],
        _w("plan.json", "[1, 2]"),
        2,
        ("plan.json", "list"),
    ),
    (
        "grid-plan-json-invalid",
        ["grid", "{f}", "--out", "{out}"],
        _w("plan.json", "{"),
        2,
        ("plan.json", "not valid JSON"),
    ),
    (
        "grid-plan-json-no-sites",
        ["grid", "{f}", "--out", "{out}"],
        _w("plan.json", "{}"),
        2,
        ("plan.json", "sites"),
    ),
    (
        "grid-missing-file",
        ["grid", "{d}/none.csv", "--out", "{out}"],
        None,
        2,
        ("none.csv", "not found"),
    ),
    (
        "grid-folder-as-file",
        ["grid", "{f}", "--out", "{out}"],
        lambda d: (d / "dir.csv").mkdir() or str(d / "dir.csv"),
        2,
        ("dir.csv", "folder"),
    ),
    (
        "grid-unknown-scenario-option",
        ["grid", "{f}", "--scenario", "nope", "--out", "{out}"],
        _sites("a,6.1,51.3,4,40\n"),
        2,
        ("nope",),
    ),
    (
        "grid-ragged-semicolon",
        ["grid", "{f}", "--out", "{out}"],
        _w("sites.csv", "site_id;lon;lat;power_mw;energy_mwh_per_day\na;6,1;51,3;4\n"),
        2,
        ("line 2", "';'-separated"),
    ),
    (
        "grid-unnamed-column",
        ["grid", "{f}", "--out", "{out}"],
        _w("sites.csv", "site_id,lon,,power_mw,energy_mwh_per_day\na,6.1,51.3,4,40\n"),
        2,
        ("column 3", "no name"),
    ),
    # ---- coverage: routes files, truck profiles, plans
    (
        "cov-routes-missing",
        ["coverage", "--routes", "{d}/none.csv", "--plan", "{f}", "--out", "{out}"],
        PLAN,
        2,
        ("routes file", "none.csv", "not found"),
    ),
    (
        "cov-routes-empty",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(""),
        2,
        ("routes file", "empty"),
    ),
    (
        "cov-header-only",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER),
        2,
        ("routes file", "no route rows"),
    ),
    (
        "cov-wrong-columns",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes("id,from,to\nr1,a,b\n"),
        2,
        ("routes file", "route_id"),
    ),
    (
        "cov-unknown-place",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes("route_id,origin,destination\nr1,Rotterdam,Duisberg\n"),
        2,
        ("line 2", "Duisberg", "Duisburg"),
    ),
    (
        "cov-malformed-coordinate",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER + "r1,4.48,51.9x,6.76,51.43\n"),
        2,
        ("line 2", "origin_lat"),
    ),
    (
        "cov-out-of-range",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER + "r1,4.48,99,6.76,51.43\n"),
        2,
        ("line 2", "out of range"),
    ),
    (
        "cov-duplicate-route",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER + GOOD_ROUTE + GOOD_ROUTE),
        2,
        ("line 3", "duplicate route_id"),
    ),
    (
        "cov-empty-route-id",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER + ",4.48,51.922,6.762,51.435\n"),
        2,
        ("line 2", "route_id is empty"),
    ),
    (
        "cov-trips-negative",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER.strip() + ",trips_per_day\n" + GOOD_ROUTE.strip() + ",-1\n"),
        2,
        ("line 2", "trips_per_day"),
    ),
    (
        "cov-trips-inf",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER.strip() + ",trips_per_day\n" + GOOD_ROUTE.strip() + ",inf\n"),
        2,
        ("line 2", "trips_per_day"),
    ),
    (
        "cov-trips-text",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER.strip() + ",trips_per_day\n" + GOOD_ROUTE.strip() + ",many\n"),
        2,
        ("line 2", "trips_per_day", "not a number"),
    ),
    (
        "cov-no-origin",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes("route_id,origin,destination\nr1,,Venlo\n"),
        2,
        ("line 2", "no origin"),
    ),
    (
        "cov-ragged",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes(ROUTES_HEADER + "r1,4,48,51,922,6.762,51.435\n"),
        2,
        ("line 2", "7 fields"),
    ),
    (
        "cov-semicolon-bad-number",
        ["coverage", "--routes", "{f}", "--out", "{out}"],
        _routes("route_id;origin_lon;origin_lat;dest_lon;dest_lat\nr1;4,48;51,9x;6,76;51,43\n"),
        2,
        ("line 2", "';'-separated", "decimal comma"),
    ),
    (
        "cov-swapped",
        ["coverage", "--routes", "{f}", "--plan", "{d}/plan.json", "--out", "{out}"],
        _routes(ROUTES_HEADER + "r1,51.922,4.48,6.762,51.435\n"),
        2,
        ("route 'r1' origin", "swapped"),
    ),
    (
        "cov-far",
        ["coverage", "--routes", "{f}", "--plan", "{d}/plan.json", "--out", "{out}"],
        _routes(ROUTES_HEADER + "r1,4.48,51.922,-3.70,40.42\n"),
        2,
        ("route 'r1' destination", "km from the road graph"),
    ),
    (
        "cov-truck-unknown",
        ["coverage", "--routes", "{f}", "--truck", "bus", "--out", "{out}"],
        _routes(ROUTES_HEADER + GOOD_ROUTE),
        2,
        ("truck profile 'bus'",),
    ),
    (
        "cov-truck-negative-power",
        ["coverage", "--routes", "{d}/routes.csv", "--truck", "{f}", "--out", "{out}"],
        _truck("[meta]\nmax_charge_power_kw = -100\n"),
        2,
        ("meta.max_charge_power_kw", "finite number > 0"),
    ),
    (
        "cov-truck-battery-inf",
        ["coverage", "--routes", "{d}/routes.csv", "--truck", "{f}", "--out", "{out}"],
        _truck("[vehicle]\nbattery_kwh = inf\n"),
        2,
        ("vehicle.battery_kwh", "finite"),
    ),
    (
        "cov-truck-fill-nan",
        ["coverage", "--routes", "{d}/routes.csv", "--truck", "{f}", "--out", "{out}"],
        _truck("[meta]\nh2_fill_kg_per_min = nan\n"),
        2,
        ("meta.h2_fill_kg_per_min",),
    ),
    (
        "cov-truck-unknown-key",
        ["coverage", "--routes", "{d}/routes.csv", "--truck", "{f}", "--out", "{out}"],
        _truck("[vehicle]\nbattery = 600\n"),
        2,
        ("battery",),
    ),
    (
        "cov-truck-invalid-toml",
        ["coverage", "--routes", "{d}/routes.csv", "--truck", "{f}", "--out", "{out}"],
        _truck("[vehicle\n"),
        2,
        ("truck.toml", "TOML"),
    ),
    (
        "cov-plan-list",
        ["coverage", "--routes", "{d}/routes.csv", "--plan", "{f}", "--out", "{out}"],
        _w("plan.json", "[]"),
        2,
        ("plan.json", "sites"),
    ),
    (
        "cov-plan-missing",
        ["coverage", "--routes", "{d}/routes.csv", "--plan", "{d}/none.json", "--out", "{out}"],
        None,
        2,
        ("none.json", "not found"),
    ),
    (
        "cov-plan-invalid",
        ["coverage", "--routes", "{d}/routes.csv", "--plan", "{f}", "--out", "{out}"],
        _w("plan.json", "{'sites': []}"),
        2,
        ("plan.json", "JSON"),
    ),
    (
        "cov-plan-site-without-lon",
        ["coverage", "--routes", "{d}/routes.csv", "--plan", "{f}", "--out", "{out}"],
        _w("plan.json", '{"sites": [{"site_id": "a", "lat": 51}]}'),
        2,
        ("plan.json", "lon"),
    ),
    (
        "cov-out-is-a-file",
        ["coverage", "--routes", "{d}/routes.csv", "--out", "{f}"],
        _w("afile", "x"),
        2,
        ("--out", "is a file"),
    ),
    # ---- usage errors of any command: one line, exit 2 (not click's multi-line box)
    (
        "usage-unknown-option",
        ["route", "--fro", "4.48,51.922", "--to", "6.762,51.435"],
        None,
        2,
        ("corridor route: No such option: --fro", "--from", "see corridor route --help"),
    ),
    (
        "usage-missing-argument",
        ["compare"],
        None,
        2,
        ("corridor compare: Missing argument 'runs'", "see corridor compare --help"),
    ),
    (
        "usage-option-without-value",
        ["grid", "--battery-mwh"],
        None,
        2,
        ("corridor grid: Option '--battery-mwh' requires an argument",),
    ),
    (
        "usage-missing-option",
        ["route", "--to", "6.762,51.435"],
        None,
        2,
        ("corridor route: Missing option '--from'",),
    ),
    ("usage-unknown-command", ["plot"], None, 2, ("corridor: No such command 'plot'",)),
    ("usage-unknown-global-option", ["--bogus", "route"], None, 2, ("No such option: --bogus",)),
    (
        "usage-flag-with-value",
        ["route", "--from", "4.48,51.922", "--to", "6.762,51.435", "--json=yes"],
        None,
        2,
        ("corridor route: Option '--json' does not take a value",),
    ),
    # ---- compare
    ("compare-missing", ["compare", "{d}/none"], None, 2, ("none", "not found")),
    ("compare-plan-list", ["compare", "{f}"], _w("plan.json", "[1]"), 2, ("plan.json", "list")),
    ("compare-plan-invalid", ["compare", "{f}"], _w("plan.json", "nope"), 2, ("plan.json", "JSON")),
    (
        "compare-csv-onto-folder",
        ["compare", "{out}", "--csv", "{d}"],
        None,
        2,
        ("--csv", "is a folder"),
    ),
    (
        "compare-csv-missing-folder",
        ["compare", "{out}", "--csv", "{d}/no/such/x.csv"],
        None,
        2,
        ("--csv", "does not exist"),
    ),
]


def _error_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith(("error:", "infeasible:"))]


#: Cases that get past argument checks to the real shared data (network, gazetteer, grid).
REAL_DATA_CASES = frozenset(
    {
        "route-swapped",
        "route-aarhus-outside-nl-de",
        "route-madrid",
        "route-at-sea",
        "grid-capacity-ambiguous-thousands",
        "network-unknown-country",
        "flows-traffic-header-only",
        "flows-traffic-all-zero",
        "grid-swapped",
        "grid-far-away",
        "cov-swapped",
        "cov-far",
    }
)


def _marks(case: str) -> tuple[pytest.MarkDecorator, ...]:
    return (pytest.mark.slow,) if case in REAL_DATA_CASES else ()


@pytest.mark.parametrize(
    ("args", "make", "code", "words"),
    [pytest.param(*c[1:], id=c[0], marks=_marks(c[0])) for c in CASES],
)
def test_bad_input(tmp_path: Path, good: Path, args, make, code, words) -> None:
    (tmp_path / "routes.csv").write_text(ROUTES_HEADER + GOOD_ROUTE)
    (tmp_path / "plan.json").write_text(json.dumps({"scenario": "nl-de-bev-pilot", "sites": []}))
    made = make(tmp_path) if make else ""
    argv = [a.format(f=made, out=good, d=tmp_path) for a in args]
    before = _hashes(good)
    res = runner.invoke(app, argv)
    stderr = res.stderr
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    lines = _error_lines(stderr)
    assert len(lines) == 1, stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert _hashes(good) == before
    assert sorted(p.name for p in good.parent.iterdir() if p.name.startswith(".")) == []


def test_there_are_at_least_80_bad_inputs_across_every_command() -> None:
    assert len(CASES) >= 80
    commands = {c[1][0] for c in CASES}
    assert commands >= {"route", "plan", "network", "flows", "grid", "coverage", "compare"}


def test_broken_builtin_scenario_under_scenarios(tmp_path: Path, monkeypatch) -> None:
    import corridor.cli
    import corridor.config

    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\n[optimise]\nmax_site = 3\n')
    monkeypatch.setattr(corridor.cli, "builtin_scenarios", lambda: {"broken": broken})
    monkeypatch.setattr(corridor.config, "builtin_scenarios", lambda: {"broken": broken})
    res = runner.invoke(app, ["scenarios"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    (line,) = _error_lines(res.stderr)
    assert "broken.toml" in line and "optimise.max_site" in line


# ---- 1: one plausibility rule for points ---------------------------------------------------


def test_check_points_near_names_point_distance_region_and_swap() -> None:
    region = Region("road graph of test", [6.0, 6.5, 7.0], [51.0, 51.5, 52.0])
    d = check_points_near([6.0, 7.0], [51.0, 52.1], region, what="p")
    assert d[0] == pytest.approx(0.0, abs=1e-6) and d[1] == pytest.approx(11.1, abs=0.2)
    with pytest.raises(
        InputDataError,
        match=r"site 'x': .* is [\d,]+ km from the road graph of test"
        r" \(lon 6\.0\.\.7\.0, lat 51\.0\.\.52\.0\).*are they swapped",
    ):
        check_points_near(51.5, 6.5, region, what="site 'x'")
    with pytest.raises(InputDataError, match=r"row 2: .* 89 km .*give a point inside"):
        check_points_near([6.0, 7.0], [51.0, 52.8], region, max_km=25, what=["row 1", "row 2"])
    with pytest.raises(InputDataError, match="not a finite"):
        check_points_near(float("nan"), 51.0, region)


def test_pilot_route_far_from_the_graph_is_an_error_not_dropped(tmp_path: Path) -> None:
    import types

    import numpy as np
    import pandas as pd
    from pyproj import Transformer

    from corridor.flows.pilot import check_pilot_routes_near

    to = Transformer.from_crs("EPSG:4326", "EPSG:3035", always_xy=True)
    x, y = to.transform([4.03, 6.762, 7.466], [51.955, 51.435, 51.514])
    rg = types.SimpleNamespace(xy=np.column_stack([x, y]))
    routes = pd.DataFrame(
        {
            "route_id": ["ok", "swapped"],
            "origin_lon": [4.03, 51.435],
            "origin_lat": [51.955, 6.762],
            "destination_lon": [7.466, 7.466],
            "destination_lat": [51.514, 51.514],
        }
    )
    routes.attrs["lines"] = [2, 3]
    with pytest.raises(InputDataError, match=r"line 3 \(route 'swapped'\), origin.*swapped"):
        check_pilot_routes_near(routes, rg, tmp_path / "pilot.csv")
    check_pilot_routes_near(routes.iloc[:1], rg, tmp_path / "pilot.csv")


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_route_right_value_and_h2_graph_reaches_aarhus() -> None:
    res = runner.invoke(app, ["route", "--from", "4.05,51.95", "--to", "6.76,51.43", "--json"])
    assert res.exit_code == 0, res.output
    assert 220 <= json.loads(res.stdout)["length_km"] <= 270


# ---- 2: degenerate input -------------------------------------------------------------------


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_route_from_a_point_to_itself_is_zero_km() -> None:
    res = runner.invoke(app, ["route", "--from", "6.76,51.43", "--to", "6.76,51.43", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["total_km"] == 0 and doc["length_km"] == 0 and doc["travel_time_min"] == 0


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_coverage_route_from_a_place_to_itself(tmp_path: Path, good: Path) -> None:
    import pandas as pd

    routes = tmp_path / "r.csv"
    routes.write_text("route_id,origin,destination\nloop,Venlo,Venlo\n")
    out = tmp_path / "cov"
    res = runner.invoke(
        app,
        ["coverage", "--routes", str(routes), "--plan", str(good / "plan.json"), "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    cov = pd.read_csv(out / "coverage.csv")
    assert cov["distance_km"].tolist() == [0.0, 0.0] and cov["feasible"].all()


# ---- 3: encodings and separators -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (
            "route_id;origin;destination;trips_per_day\nr1;Osnabrück;Venlo;1,5\n".encode("cp1252"),
            "Windows-1252, ';'-separated, decimal comma",
        ),
        (
            "route_id,origin,destination,trips_per_day\nr1,Osnabrück,Venlo,1.5\n".encode(
                "utf-8-sig"
            ),
            "UTF-8 with BOM, ','-separated, decimal point",
        ),
        (
            "route_id\torigin\tdestination\ttrips_per_day\nr1\tOsnabrück\tVenlo\t1,5\n".encode(
                "utf-16"
            ),
            "UTF-16, tab-separated, decimal comma",
        ),
        (
            "route_id,origin,destination,trips_per_day\n\nr1,Osnabrück,Venlo,1.5\n\n".encode(),
            "UTF-8, ','-separated, decimal point",
        ),
    ],
)
def test_read_table_encodings_separators_decimal_marks(tmp_path: Path, data, fmt) -> None:
    from corridor.assess.routes import read_routes

    p = tmp_path / "routes.csv"
    p.write_bytes(data)
    t = read_table(p, "routes file")
    assert t.attrs["format"] == fmt
    assert t["origin"].tolist() == ["Osnabrück"] and t["trips_per_day"].tolist() == ["1.5"]
    r = read_routes(p)
    assert (r.loc[0, "origin_lon"], r.loc[0, "origin_lat"]) == (8.047, 52.279)
    assert r.loc[0, "trips_per_day"] == 1.5


def test_semicolon_coordinates_with_decimal_commas(tmp_path: Path) -> None:
    from corridor.assess.routes import read_routes

    p = tmp_path / "routes.csv"
    p.write_text("route_id;origin_lon;origin_lat;dest_lon;dest_lat\nr1;4,48;51,922;6,762;51,435\n")
    r = read_routes(p)
    assert r.loc[0, ["origin_lon", "origin_lat", "dest_lon", "dest_lat"]].tolist() == [
        4.48,
        51.922,
        6.762,
        51.435,
    ]


def test_thousands_groups_and_decimal_points_in_decimal_comma_tables(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("id;a;b;c;d\nx;1.500;1.500,5;-2.000.000;0,25\ny;text;1.5.1;NL.42;7\n")
    t = read_table(p, "table")
    assert t.attrs["format"] == "UTF-8, ';'-separated, decimal comma"
    assert t.iloc[0].tolist() == ["x", "1500", "1500.5", "-2000000", "0.25"]
    assert t.iloc[1].tolist() == ["y", "text", "1.5.1", "NL.42", "7"]  # not numbers: as written
    for cell in ("1.5", "0.500", "1500.25", "1.50,5"):
        p.write_text(f"id;a;b\nx;{cell};0,25\n")
        if cell == "1.50,5":  # not a number in either notation: left to the caller's check
            assert read_table(p)["a"].tolist() == ["1.50,5"]
            continue
        with pytest.raises(
            InputDataError, match=rf"t.csv, line 2, column a: '{cell}' has a decimal point"
        ):
            read_table(p)


def test_grid_reads_a_windows_semicolon_site_list(tmp_path: Path) -> None:
    from corridor.assess.plans import read_site_list

    p = tmp_path / "sites.csv"
    p.write_bytes(
        "site_id;lon;lat;power_mw;energy_mwh_per_day\nMünster;7,626;51,962;4,5;40\n".encode(
            "cp1252"
        )
    )
    frame, _ = read_site_list(p)
    assert frame.loc[0, ["lon", "lat", "power_mw"]].tolist() == [7.626, 51.962, 4.5]
    assert frame.loc[0, "site_id"] == "Münster"


# ---- 4: place names as people write them ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "lonlat"),
    [
        ("Köln", (6.958, 50.938)),
        ("Koeln", (6.958, 50.938)),
        ("Cologne", (6.958, 50.938)),
        ("KÖLN", (6.958, 50.938)),
        ("Osnabrück", (8.047, 52.279)),
        ("Osnabrueck", (8.047, 52.279)),
        ("osnabruck", (8.047, 52.279)),
        ("'s-Hertogenbosch", (5.304, 51.690)),
        ("’s-Hertogenbosch", (5.304, 51.690)),
        ("Den Bosch", (5.304, 51.690)),
        ("Duesseldorf", (6.776, 51.227)),
        ("Muenster", (7.626, 51.962)),
        ("Hanover", (9.732, 52.375)),
    ],
)
def test_place_names_as_people_write_them(name: str, lonlat) -> None:
    from corridor.network.places import lookup_place

    assert lookup_place(name) == pytest.approx(lonlat)


def test_unknown_place_suggests_close_names() -> None:
    from corridor.network.places import lookup_place

    with pytest.raises(InputDataError, match=r"'Kölnn'; did you mean 'Cologne'"):
        lookup_place("Kölnn")
    with pytest.raises(InputDataError, match=r"did you mean 'Osnabrück'"):
        lookup_place("Osnabruk")


# ---- 6: non-finite and impossible numbers --------------------------------------------------


def test_require_finite() -> None:
    from corridor._validate import require_finite

    assert require_finite("2.5", "x", low=0) == 2.5
    for bad in (float("nan"), float("inf"), "abc", None, -1):
        with pytest.raises(InputDataError, match=r"sites\.csv, line 3, column power_mw must be"):
            require_finite(bad, "sites.csv, line 3, column power_mw", low=0)


# ---- 7: the output folder is the unit ------------------------------------------------------


def test_write_outputs_swaps_the_folder_keeps_other_files_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "run"
    write_outputs(
        out, {"a.txt": lambda p: p.write_text("a1"), "b.txt": lambda p: p.write_text("b1")}
    )
    (out / "notes.md").write_text("mine")

    def interrupted(p: Path) -> None:
        p.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_outputs(out, {"a.txt": lambda p: p.write_text("a2"), "b.txt": interrupted})
    assert [(p.name, p.read_text()) for p in sorted(out.iterdir()) if p.name != MANIFEST] == [
        ("a.txt", "a1"),
        ("b.txt", "b1"),
        ("notes.md", "mine"),
    ]
    write_outputs(
        out, {"a.txt": lambda p: p.write_text("a2"), "b.txt": lambda p: p.write_text("b2")}
    )
    assert [(p.name, p.read_text()) for p in sorted(out.iterdir()) if p.name != MANIFEST] == [
        ("a.txt", "a2"),
        ("b.txt", "b2"),
        ("notes.md", "mine"),
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_second_run_into_a_locked_folder_is_an_error(tmp_path: Path, good: Path) -> None:
    with output_folder(good):
        with (
            pytest.raises(InputDataError, match=r"being written by another corridor run"),
            output_folder(good),
        ):
            pass
        sites = tmp_path / "s.csv"
        sites.write_text(SITES_HEADER + "venlo,6.1497,51.3695,4,40\n")
        before = _hashes(good)
        res = runner.invoke(app, ["grid", str(sites), "--out", str(good)])
        assert res.exit_code == 2 and "another corridor run" in res.stderr
        assert _hashes(good) == before
    with output_folder(good):
        pass
    assert not any(p.name.endswith(".lock") for p in good.parent.iterdir())


@pytest.mark.slow  # real data (CLI on ../shared/data)
def test_grid_run_replaces_the_folder_as_a_unit(tmp_path: Path, good: Path) -> None:
    sites = tmp_path / "s.csv"
    sites.write_text(SITES_HEADER + "venlo,6.1497,51.3695,4,40\n")
    (good / "grid_load.csv").chmod(0o444)  # an unwritable file of the old run
    res = runner.invoke(app, ["grid", str(sites), "--out", str(good)])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in good.iterdir())
    charts = [n for n in names if n.startswith("grid_chart_")]
    assert [n for n in names if n not in charts] == [
        MANIFEST,
        "coverage.csv",
        "grid_load.csv",
        "grid_load.geojson",
        "grid_report.html",
        "plan.json",
    ]
    assert len(charts) == 2 and "grid_chart_area_nl-prov-NL42.png" in charts
    assert (good / "grid_load.csv").read_text().startswith("level,group_id,")
    assert sorted(p.name for p in good.parent.iterdir() if p.name.startswith(".")) == []


# ---- 9: one line means one line ------------------------------------------------------------


def test_error_is_one_unwrapped_line_even_when_long(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["route", "--from", "51.922,4.48", "--to", "6.762,51.435"], terminal_width=40
    )
    (line,) = _error_lines(res.stderr)
    assert len(line) > 200 and len(res.stderr.strip().splitlines()) == 1


# ---- 11: infeasible with the reason --------------------------------------------------------


def test_budget_below_the_cheapest_plan_is_explained_before_solving() -> None:
    import dataclasses

    from test_optimise import cfg, constrained_instance

    from corridor.optimise import solve

    inst = constrained_instance()
    inst = dataclasses.replace(inst, sites=inst.sites.assign(cost_eur=0.0))
    config = cfg(min_sites=4, max_sites=6, charger_cost_eur=500_000, budget_eur=1_000_000)
    with pytest.raises(
        InfeasibleError,
        match=r"at least 4 sites must open .* 4 × 1 charger\(s\) × 500,000 EUR .* = 2,000,000 EUR "
        r"minimum, more than optimise.budget_eur = 1,000,000 EUR",
    ):
        solve(inst, config)


# ---- 12: reruns are byte-identical ---------------------------------------------------------


def test_map_gpkg_xlsx_are_byte_identical_on_rerun(tmp_path: Path) -> None:
    import time

    import folium
    import geopandas as gpd
    from shapely.geometry import Point

    from corridor.outputs.maps import write_map
    from corridor.outputs.plan import write_shortlist_gpkg, write_shortlist_xlsx

    def build(d: Path) -> dict[str, str]:
        d.mkdir()
        m = folium.Map(location=[51.5, 6.5], zoom_start=7)
        fg = folium.FeatureGroup(name="sites").add_to(m)
        folium.Marker([51.4, 6.2], popup="Venlo").add_to(fg)
        folium.LayerControl().add_to(m)
        write_map(m, d / "map.html")
        sl = gpd.GeoDataFrame(
            {"site_id": ["a"], "x": [1.0]}, geometry=[Point(6.2, 51.4)], crs="EPSG:4326"
        )
        write_shortlist_gpkg(sl, d / "s.gpkg")
        write_shortlist_xlsx(sl, d / "s.xlsx", {"k": "v"})
        return _hashes(d)

    first = build(tmp_path / "a")
    time.sleep(1.1)
    assert build(tmp_path / "b") == first


def test_unread_file_in_the_roads_folder_is_named(tmp_path: Path, caplog) -> None:
    import logging

    from corridor.catalogue import Catalogue
    from corridor.network.load import select_files

    roads = tmp_path / "roads" / "osm_motorways_2021"
    roads.mkdir(parents=True)
    (roads / "NL_x.geojson").write_text("{}")
    (roads / "NL_extra.osm.pbf").write_bytes(b"\x00")
    (roads / "notes.txt").write_text("x")
    with caplog.at_level(logging.WARNING):
        files = select_files(Catalogue(tmp_path), ["NL"])
    assert [p.name for p in files] == ["NL_x.geojson"]
    assert (
        f"dataset 'osm_motorways': 2 file(s) in {roads} not read, as they do not match "
        "*.geojson: NL_extra.osm.pbf, notes.txt"
    ) in caplog.text
