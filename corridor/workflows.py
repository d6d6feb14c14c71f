"""The workflows behind the commands: scenario in, plan (and what people ask of it) out.

- :func:`run_stages` chains the stages (network → flows → sites → grid → instance → optimise) as
  pure functions, up to a given stage; :func:`run` runs them all for a checked plan and
  :func:`write_run` writes the outputs all-or-nothing (``corridor plan``).
- :func:`grid_report`: connection load per substation and congestion area (``corridor grid``).
- :func:`coverage_report`: route coverage for a truck with a plan's sites (``corridor coverage``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from corridor.catalogue import Catalogue
from corridor.config import FlowsConfig, Scenario, load_scenario
from corridor.directions import DIRECTIONS, path_key
from corridor.errors import InfeasibleError

if TYPE_CHECKING:  # the heavy libraries load with the stages, not with the CLI
    import geopandas as gpd
    import networkx as nx
    import pandas as pd

    from corridor.flows import FlowSet
    from corridor.optimise import CorridorChoice, Instance, PilotFleet, PlanResult
    from corridor.sites import Candidates

__all__ = [
    "DEFAULT_SCENARIO",
    "STAGES",
    "CoverageRun",
    "PlanRun",
    "Stages",
    "choose_corridor",
    "corridor_flows",
    "coverage_report",
    "grid_layers",
    "grid_report",
    "pilot_fleet",
    "plan_vehicle_profile",
    "run",
    "run_stage",
    "run_stages",
    "with_capacity_tables",
    "write_run",
]

log = logging.getLogger(__name__)

#: The scenario of the commands when none is given.
DEFAULT_SCENARIO = "nl-de-bev-pilot"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanRun:
    """Everything a run produced, for the writers and for inspection."""

    scenario: Scenario
    graph: nx.MultiDiGraph
    flows: FlowSet
    corridor_od: pd.DataFrame
    candidates: Candidates
    sites: gpd.GeoDataFrame
    substations: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    instance: Instance
    plan: PlanResult
    timings_s: dict[str, float] = field(default_factory=dict)
    corridor: CorridorChoice | None = None  # in corridor mode

    @classmethod
    def from_stages(cls, st: Stages) -> PlanRun:
        """Return the run of stages run to the end (:func:`run_stages`, :func:`run_stage`)."""
        return cls(
            st.scenario,
            st.graph,
            st.flows,
            st.corridor_od,
            st.candidates,
            st.sites,
            st.substations,
            st.areas,
            st.instance,
            st.plan,
            st.timings_s,
            st.corridor,
        )

    def summary(self) -> dict[str, Any]:
        """Sizes of the inputs, headline figures and stage timings."""
        od = self.flows.od
        graph_km = sum(d["length_m"] for _, _, d in self.graph.edges(data=True)) / 1000.0
        corridor_ze = float(self.corridor_od["ze_trucks_per_day"].sum())
        return {
            "graph": {
                "nodes": self.graph.number_of_nodes(),
                "edges": self.graph.number_of_edges(),
                "length_km": round(graph_km, 1),
            },
            "flows": {
                "od_pairs": len(od),
                "trucks_per_day": round(float(od["trucks_per_day"].sum()), 1),
                "corridor_od_pairs": len(self.corridor_od),
                "corridor_trucks_per_day": round(
                    float(self.corridor_od["trucks_per_day"].sum()), 1
                ),
                "corridor_ze_trucks_per_day": round(corridor_ze, 2),
                "year": self.scenario.flows.target_year,
                "report": self.flows.report,
            },
            "candidates": {
                "sites": len(self.sites),
                "by_country": self.sites["country"].value_counts().to_dict(),
                "by_kind": self.sites["kind"].value_counts().to_dict(),
                "excluded": len(self.candidates.excluded),
            },
            "served_share_of_scenario_flow": (
                round(self.plan.served_trucks_per_day / corridor_ze, 4) if corridor_ze else None
            ),
            "timings_s": {k: round(v, 2) for k, v in self.timings_s.items()},
        }


def corridor_flows(od: pd.DataFrame, config: FlowsConfig) -> pd.DataFrame:
    """Keep the OD flows whose path runs through enough of the corridor's countries.

    Parameters
    ----------
    od
        ``FlowSet.od`` with a ``countries`` column (``;``-separated ISO codes along the path).
    config
        The flows section: ``corridor_countries`` and ``min_corridor_countries``.

    Returns
    -------
    pandas.DataFrame
        The kept rows (all rows when no corridor countries are configured).
    """
    if not config.corridor_countries or config.min_corridor_countries == 0:
        return od
    wanted = set(config.corridor_countries)
    hits = od["countries"].fillna("").map(lambda s: len(wanted.intersection(s.split(";"))))
    return od[hits >= config.min_corridor_countries]


@contextmanager
def _stage(name: str, timings: dict[str, float], progress: Progress | None) -> Iterator[None]:
    if progress and name not in timings:  # the instance and the solve share one label
        progress(name)
    t0 = time.perf_counter()
    yield
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
    log.info("%s done in %.1f s", name, timings[name])


#: The stages of :func:`run_stages` in order (the ``until`` argument names one of them).
STAGES = ("network", "flows", "sites", "grid", "instance", "optimise")


@dataclass
class Stages:
    """What :func:`run_stages` produced; the stages after ``until`` are left ``None``."""

    scenario: Scenario
    graph: nx.MultiDiGraph | None = None
    flows: FlowSet | None = None
    corridor_od: pd.DataFrame | None = None
    candidates: Candidates | None = None
    sites: gpd.GeoDataFrame | None = None
    substations: gpd.GeoDataFrame | None = None
    areas: gpd.GeoDataFrame | None = None
    instance: Instance | None = None
    plan: PlanResult | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    corridor: CorridorChoice | None = None  # in corridor mode
    corridor_geometry: CorridorGeometry | None = None  # in corridor mode, from the instance stage


def run_stages(
    scenario: Scenario,
    catalogue: Catalogue,
    until: str = "optimise",
    progress: Progress | None = None,
) -> Stages:
    """Run the stage chain network → flows → sites → grid → instance → optimise up to ``until``.

    The one place the stages are chained: :func:`run` and the scripts (benchmarks, the national
    instance) call it.

    Parameters
    ----------
    scenario
        The frozen scenario config.
    catalogue
        Where the input data lives.
    until
        The last stage to run, one of :data:`STAGES` (``instance``: build the optimiser's
        instance but do not solve it).
    progress
        Optional callback told the name of each stage as it starts.

    Returns
    -------
    Stages
        The results so far with the time of each stage (``timings_s``; the instance is timed
        with the optimise stage).

    Raises
    ------
    ValueError
        If ``until`` is not a stage.
    InputDataError
        If an input is missing or malformed.
    """
    if until not in STAGES:
        msg = f"until must be one of {STAGES}, got {until!r}"
        raise ValueError(msg)
    out = Stages(scenario)
    for name in STAGES[: STAGES.index(until) + 1]:
        with _stage(_STAGE_LABELS[name], out.timings_s, progress):
            run_stage(name, out, catalogue)
    return out


#: Progress label (and timing key) of each stage; the instance is timed with the optimise stage.
_STAGE_LABELS = {
    "network": "road network",
    "flows": "truck flows",
    "sites": "candidate sites",
    "grid": "grid",
    "instance": "optimise",
    "optimise": "optimise",
}


def run_stage(name: str, st: Stages, catalogue: Catalogue) -> None:
    """Run one stage of :data:`STAGES` on ``st`` in place, from the earlier results it needs.

    What each stage reads of ``st``: ``flows`` and ``sites`` the graph; ``grid`` the candidates;
    ``instance`` the graph, flows, corridor flows, candidates and sites; ``optimise`` the graph,
    sites, instance, corridor flows and (corridor mode) the corridor geometry.
    :func:`run_stages` runs them in order; a sweep (:mod:`corridor.sweep`) runs each once per
    distinct input and hands the results on.

    Parameters
    ----------
    name
        The stage, one of :data:`STAGES`.
    st
        The results so far (``st.scenario`` is the scenario); the stage's fields are set.
    catalogue
        Where the input data lives.

    Raises
    ------
    ValueError
        If ``name`` is not a stage.
    InputDataError
        If an input is missing or malformed.
    """
    from corridor._cache import cached_stage
    from corridor.flows import build_flows
    from corridor.grid import attach_grid
    from corridor.network import afir_corridor_paths, load_graph
    from corridor.optimise import instance_from_pipeline, solve
    from corridor.sites import build_candidates

    scenario, graph = st.scenario, st.graph
    graph_key = (graph.graph.get("cache") or {}).get("file") if graph is not None else None
    if name == "network":
        st.graph = load_graph(catalogue, scenario.network)
    elif name == "flows":
        st.flows = cached_stage(
            "flows",
            graph_key=graph_key,
            section=scenario.flows,
            data_root=catalogue.root,
            compute=lambda: build_flows(graph, catalogue, scenario.flows),
        )
        st.corridor_od = corridor_flows(st.flows.od, scenario.flows)
    elif name == "sites":
        st.candidates = cached_stage(
            "candidates",
            graph_key=graph_key,
            section=scenario.sites,
            data_root=catalogue.root,
            compute=lambda: build_candidates(graph, catalogue, scenario.sites),
        )
    elif name == "grid":
        st.substations, st.areas = grid_layers(scenario, catalogue)
        st.sites = attach_grid(st.candidates.sites, st.substations, st.areas, scenario.grid)
        if scenario.optimise.min_sites_per_region:
            st.sites = with_nuts1_region(st.sites, catalogue)
        if scenario.optimise.opposite_pair_km is not None:
            from corridor.sites.pairs import opposite_pairs

            st.sites = st.sites.assign(
                station_id=opposite_pairs(st.sites, scenario.optimise.opposite_pair_km)
            )
        check_group_minimums(scenario, st.sites)
    elif name == "instance":
        candidates = st.candidates
        if scenario.optimise.corridor:
            # corridor mode plans along one corridor: only the sites within a candidate corridor's
            # buffer can be opened, so the instance is built for those sites only
            st.corridor_geometry = corridor_geometry(scenario, graph, st.sites)
            candidates = _only_sites(candidates, st.corridor_geometry.site_ids)
        st.instance = instance_from_pipeline(
            _with_od(st.flows, st.corridor_od),
            candidates,
            st.sites,
            scenario.optimise.vehicle,
            graph,
            corridor_axis_deg=scenario.optimise.corridor_axis_deg,
            round_trip=scenario.optimise.round_trip,
            corridors=afir_corridor_paths(graph) if _afir_on(scenario) else None,
            drive_hours=bool(scenario.optimise.vehicles),
        )
    elif name == "optimise":
        if scenario.optimise.corridor:
            st.corridor = choose_corridor(
                scenario, graph, st.sites, st.instance, st.corridor_od, st.corridor_geometry
            )
            st.instance, st.plan = st.corridor.instance, st.corridor.plan
        else:
            st.plan = solve(st.instance, scenario.optimise)
    else:
        msg = f"stage must be one of {STAGES}, got {name!r}"
        raise ValueError(msg)


@dataclass(frozen=True)
class CorridorGeometry:
    """The candidate corridors of a scenario on its graph (corridor mode).

    Attributes
    ----------
    names
        The corridors to rank (``optimise.corridor`` or ``optimise.corridor_candidates``).
    paths
        Graph node path of every corridor direction on the graph (``"<name> outbound"``).
    lines
        Road line of each direction of ``names`` (graph CRS).
    near
        Candidate site ids within ``optimise.corridor_buffer_km`` of each corridor's
        carriageways (both directions), by corridor name.
    km_by_country
        Outbound km per country code, by corridor name.
    """

    names: list[str]
    paths: dict[str, Any]
    lines: dict[str, Any]
    near: dict[str, list[str]]
    km_by_country: dict[str, dict[str, float]]

    @property
    def site_ids(self) -> list[str]:
        """Sites near any of the corridors (the union of ``near``), first-seen order."""
        return list(dict.fromkeys(s for ids in self.near.values() for s in ids))


def corridor_geometry(
    scenario: Scenario, graph: nx.MultiDiGraph, sites: gpd.GeoDataFrame
) -> CorridorGeometry:
    """Route the scenario's candidate corridors and find the candidate sites along each.

    Parameters
    ----------
    scenario
        The scenario (``optimise.corridor`` is ``"auto"`` or a corridor name).
    graph
        The road graph.
    sites
        Candidate sites (graph CRS), indexed by ``site_id``.

    Returns
    -------
    CorridorGeometry

    Raises
    ------
    ScenarioError
        If ``optimise.corridor`` names no corridor that routes on this graph (lists those that do).
    """
    import shapely

    from corridor.errors import ScenarioError
    from corridor.network import afir_corridor_paths, path_km_by_country, path_line

    opt = scenario.optimise
    wanted = [opt.corridor] if opt.corridor != "auto" else list(opt.corridor_candidates)
    paths = afir_corridor_paths(graph, wanted or None)
    names = list(dict.fromkeys(k.rsplit(" ", 1)[0] for k in paths))
    unknown = [n for n in wanted if n not in names]
    if unknown:  # list every corridor that does route here
        names = list(dict.fromkeys(k.rsplit(" ", 1)[0] for k in afir_corridor_paths(graph)))
    if unknown:
        key = "optimise.corridor" if opt.corridor != "auto" else "optimise.corridor_candidates"
        msg = (
            f"{key}: {unknown} not a corridor on this scenario's graph; use one of {names} "
            "(corridor/data/corridors.toml, corridor/data/afir_corridors.toml)"
        )
        raise ScenarioError(msg)
    if opt.corridor == "auto" and wanted:
        names = wanted
    tree = shapely.STRtree(sites.geometry.values)
    site_ids = sites.index.astype(str).to_numpy()
    near: dict[str, list[str]] = {}
    km: dict[str, dict[str, float]] = {}
    lines = {
        k: path_line(graph, paths[k])
        for name in names
        for k in (path_key(name, d) for d in DIRECTIONS)
        if k in paths
    }
    for name in names:
        both = [lines[k] for k in (path_key(name, d) for d in DIRECTIONS) if k in lines]
        hit = tree.query(
            _pieces(both), predicate="dwithin", distance=opt.corridor_buffer_km * 1000.0
        )[1]
        near[name] = site_ids[np.unique(hit)].tolist()  # in the sites' order
        if path_key(name, "outbound") in paths:
            km[name] = path_km_by_country(graph, paths[path_key(name, "outbound")])
    return CorridorGeometry(names, paths, lines, near, km)


def _pieces(lines: Sequence[Any], vertices: int = 64) -> np.ndarray:
    """Cut lines into pieces of at most ``vertices`` vertices (tight boxes for a spatial index)."""
    import shapely

    out = []
    for line in shapely.get_parts(np.asarray(lines, dtype=object)):
        xy = shapely.get_coordinates(line)
        out += [
            shapely.LineString(xy[i : i + vertices + 1])
            for i in range(0, max(len(xy) - 1, 1), vertices)
            if len(xy[i : i + vertices + 1]) >= 2
        ]
    return np.asarray(out, dtype=object)


def _only_sites(candidates: Any, site_ids: Sequence[str]) -> Any:
    """Restrict the candidates to ``site_ids`` (their sites and access rows)."""
    import dataclasses

    keep = set(site_ids)
    return dataclasses.replace(
        candidates,
        sites=candidates.sites[candidates.sites.index.isin(keep)],
        access=candidates.access[candidates.access["site_id"].astype(str).isin(keep)],
    )


def choose_corridor(
    scenario: Scenario,
    graph: nx.MultiDiGraph,
    sites: gpd.GeoDataFrame,
    instance: Any,
    corridor_od: pd.DataFrame,
    geometry: CorridorGeometry | None = None,
) -> Any:
    """Corridor mode: rank the named corridors on this graph and plan along the best one.

    Parameters
    ----------
    scenario
        The scenario (``optimise.corridor`` is ``"auto"`` or a corridor name).
    graph
        The road graph.
    sites
        Candidate sites with the grid columns (graph CRS), indexed by ``site_id``.
    instance
        An instance holding at least the corridors' sites (network-wide or built for
        ``geometry.site_ids``).
    corridor_od
        The corridor flows (``source`` / ``firm`` mark the pilot fleet).
    geometry
        The corridors on the graph (:func:`corridor_geometry`); computed when not given.

    Returns
    -------
    corridor.optimise.CorridorChoice

    Raises
    ------
    ScenarioError
        If ``optimise.corridor`` names no corridor that routes on this graph (lists those that do).
    InfeasibleError
        If no corridor can meet the scenario's rules.
    """
    from corridor.optimise.corridor import rank_corridors

    opt = scenario.optimise
    geo = geometry if geometry is not None else corridor_geometry(scenario, graph, sites)
    choice = rank_corridors(
        instance,
        geo.near,
        opt,
        km_by_country=geo.km_by_country,
        pilot=pilot_fleet(corridor_od, scenario.flows.corridor_countries),
        only=None if opt.corridor == "auto" else opt.corridor,
    )
    choice.lines = geo.lines
    choice.buffer_km = opt.corridor_buffer_km
    return choice


def pilot_fleet(od: pd.DataFrame, corridor_countries: Sequence[str] = ()) -> PilotFleet:
    """Describe the pilot fleet among the flows as the corridor ranking counts it.

    Parameters
    ----------
    od
        The flows' OD table (``source`` = "pilot" rows with ``firm``, ``route_id``, ``trucks``,
        ``return_od_id`` and ``countries``, see :class:`corridor.flows.FlowSet`).
    corridor_countries
        The corridor's countries in outbound order: a one-way trip that starts in the first
        (NL of NL–DE) drives outbound, others inbound.

    Returns
    -------
    corridor.optimise.PilotFleet
        A round trip (a row with ``return_od_id``) stands for all its route's trucks and drives
        both directions; the way back it names is no flow of its own. The other rows share
        their route's trucks equally.
    """
    import pandas as pd

    from corridor.optimise.corridor import PilotFleet

    if "source" not in od.columns:
        return PilotFleet()
    pilot = od[od["source"] == "pilot"]
    if pilot.empty:
        return PilotFleet()
    ret = (
        pilot["return_od_id"].fillna("").astype(str)
        if "return_od_id" in pilot.columns
        else pd.Series("", index=pilot.index)
    )
    pilot = pilot[~pilot["od_id"].astype(str).isin(set(ret[ret != ""]))]
    ret = ret.loc[pilot.index]
    route = pilot["route_id"].astype(str) if "route_id" in pilot.columns else pilot["od_id"]
    vehicles = (
        pd.to_numeric(pilot["trucks"], errors="coerce")
        if "trucks" in pilot.columns
        else pilot["trucks_per_day"].astype(float)
    )
    share = vehicles / route.map(route.value_counts())
    first = (tuple(corridor_countries) or ("",))[0]
    start = pilot["countries"].fillna("").astype(str).str.split(";").str[0]
    heading = [
        "both" if r else ("outbound" if cc == first else "inbound")
        for r, cc in zip(ret, start, strict=True)
    ]
    ids = pilot["od_id"].astype(str)
    return PilotFleet(
        firm=dict(zip(ids, pilot["firm"].astype(str), strict=True)),
        trucks=dict(zip(ids, share.fillna(0.0).astype(float), strict=True)),
        heading=dict(zip(ids, heading, strict=True)),
    )


def check_group_minimums(scenario: Scenario, sites: gpd.GeoDataFrame) -> None:
    """Refuse region / road minimums that name no candidate site's region or road.

    Raises
    ------
    ScenarioError
        Naming the key and the value, with the regions / roads the candidates do have.
    """
    import pandas as pd

    from corridor.errors import ScenarioError
    from corridor.optimise.instance import road_key

    opt = scenario.optimise
    have = {
        "min_sites_per_region": set(sites["region"].astype(str)) if "region" in sites else set(),
        "min_sites_per_road": {road_key(r) for r in sites.get("road_ref", pd.Series(dtype=str))},
    }
    for key, table, norm in (
        ("min_sites_per_region", opt.min_sites_per_region, str),
        ("min_sites_per_road", opt.min_sites_per_road, road_key),
    ):
        missing = [k for k, n in table.items() if n > 0 and norm(k) not in have[key]]
        if missing:
            known = sorted(v for v in have[key] if v)
            msg = (
                f"scenario {scenario.name}: optimise.{key} names {', '.join(missing)}, where no "
                f"candidate site lies (the candidates' {key.rsplit('_', 1)[1]}s: "
                f"{', '.join(known[:40])}{' …' if len(known) > 40 else ''})"
            )
            raise ScenarioError(msg)


def with_nuts1_region(sites: gpd.GeoDataFrame, catalogue: Catalogue) -> gpd.GeoDataFrame:
    """Add ``region``: the NUTS 2021 level-1 id (e.g. ``DEC``) each site lies in ("" outside).

    Only a region of the site's own ``country`` counts (the coarse polygons overlap borders).

    Parameters
    ----------
    sites
        Candidate sites (any CRS), indexed by ``site_id``.
    catalogue
        Data catalogue (``nuts``: the 1:60M level-1 polygons, © EuroGeographics).

    Returns
    -------
    GeoDataFrame
        ``sites`` with the ``region`` column.

    Raises
    ------
    InputDataError
        If the NUTS level-1 file is missing.
    """
    import geopandas as gpd
    import pyogrio

    from corridor.network.load import nuts_file

    regions = pyogrio.read_dataframe(nuts_file(catalogue, 1), columns=["NUTS_ID"])
    regions = regions.to_crs(sites.crs)
    hit = gpd.sjoin(sites[["geometry"]], regions, how="left", predicate="within")
    # a region of the site's own country only: the 1:60M polygons overlap the border by a few
    # km, and a site must not count for one country's minimum and another's region
    country = sites["country"].astype(str).reindex(hit.index).to_numpy()
    hit = hit[hit["NUTS_ID"].fillna("").str[:2].to_numpy() == country]
    first = hit[~hit.index.duplicated(keep="first")]["NUTS_ID"]
    out = sites.copy()
    out["region"] = first.reindex(sites.index).fillna("").astype(str)
    return out


def grid_layers(
    scenario: Scenario, catalogue: Catalogue
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Substations and congestion areas of a scenario, with its operators' tables applied.

    The shipped layers (:func:`~corridor.grid.load_substations`,
    :func:`~corridor.grid.default_congestion_areas`), German areas given the scenario's
    ``grid.germany_assumption`` (labelled ASSUMPTION), then overlaid with ``grid.capacity_table`` in
    order (joined to ``grid.capacity_areas`` when given), see
    :func:`~corridor.grid.load_capacity_tables`.
    """
    from corridor.grid import (
        apply_germany_assumption,
        default_congestion_areas,
        load_capacity_tables,
        load_substations,
    )

    substations = load_substations(catalogue, scenario.grid)
    areas = default_congestion_areas(catalogue, countries=tuple(scenario.network.countries))
    g = scenario.grid
    areas = apply_germany_assumption(areas, g.germany_assumption)
    if g.capacity_table or g.capacity_areas is not None:
        substations, areas = load_capacity_tables(
            g.capacity_table, substations, areas, g.capacity_areas
        )
    return substations, areas


def with_capacity_tables(
    scenario: Scenario, tables: list[Path] | None, capacity_areas: Path | None = None
) -> Scenario:
    """Return the scenario with more capacity tables (applied after its own) and/or area polygons.

    Paths given here (the command line's ``--capacity-table``) are relative to the current
    folder.
    """
    if not tables and capacity_areas is None:
        return scenario
    update: dict[str, Any] = {}
    if tables:
        update["capacity_table"] = (
            *scenario.grid.capacity_table,
            *(Path(t).absolute() for t in tables),
        )
    if capacity_areas is not None:
        update["capacity_areas"] = Path(capacity_areas).absolute()
    return scenario.model_copy(update={"grid": scenario.grid.model_copy(update=update)})


def run(scenario: Scenario, catalogue: Catalogue, progress: Progress | None = None) -> PlanRun:
    """Run the full pipeline for one scenario (:func:`run_stages` to the end).

    Parameters
    ----------
    scenario
        The frozen scenario config.
    catalogue
        Where the input data lives.
    progress
        Optional callback told the name of each stage as it starts.

    Returns
    -------
    PlanRun
        All intermediate results and the validated plan.

    Raises
    ------
    InfeasibleError
        If the model has no feasible plan.
    InputDataError
        If an input is missing or malformed.
    """
    st = run_stages(scenario, catalogue, progress=progress)
    plan = st.plan
    if plan.status == "infeasible":
        msg = f"scenario {scenario.name}: no feasible plan ({plan.model_stats.get('reason', '')})"
        raise InfeasibleError(msg)
    return PlanRun.from_stages(st)


def _afir_on(scenario: Scenario) -> bool:
    opt = scenario.optimise
    return opt.afir_max_gap_km is not None or opt.afir_min_pool_power_mw is not None


def _with_od(flows: Any, od: pd.DataFrame) -> Any:
    import dataclasses

    return dataclasses.replace(flows, od=od)


def _grid_value(result: PlanRun) -> pd.DataFrame | None:
    """Run the what-if of more headroom at the binding substations / areas (BEV), or None."""
    sc = result.scenario
    # joint plans (optimise.vehicles): no grid what-if (it re-solves single-technology plans)
    if sc.optimise.vehicle.technology != "bev" or sc.outputs.grid_value_groups <= 0:
        return None
    if sc.optimise.vehicles:
        return None
    from corridor.assess.grid_value import grid_value

    return grid_value(
        result.instance, result.plan, sc.optimise, max_groups=sc.outputs.grid_value_groups
    )


#: Margin (m) around the candidate corridors of a corridor plan that its map shows.
MAP_MARGIN_M = 30_000.0


def _clip_to(frame: gpd.GeoDataFrame, lines: Any, margin_m: float) -> gpd.GeoDataFrame:
    """Rows of ``frame`` inside the bounding box of ``lines`` grown by ``margin_m`` (same CRS)."""
    import shapely

    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(list(lines), dtype=object))
    if not np.isfinite([x0, y0, x1, y1]).all():
        return frame
    return frame.cx[x0 - margin_m : x1 + margin_m, y0 - margin_m : y1 + margin_m]


def write_run(result: PlanRun, out_dir: Path) -> list[Path]:
    """Write plan.json, shortlist (csv, geojson, gpkg, xlsx), summary.md, afir.csv, map.html.

    In corridor mode also ``corridors.csv`` (the ranking of the candidate corridors).

    All files are written to a staging folder first and moved into ``out_dir`` only when every
    one of them succeeded, so a failed run leaves earlier results untouched.

    Parameters
    ----------
    result
        Output of :func:`run`.
    out_dir
        Destination folder.

    Returns
    -------
    list of Path
        The files written.
    """
    import geopandas as gpd

    from corridor._files import write_outputs
    from corridor.assess.afir import afir_report, load_afir_corridors
    from corridor.assess.marginal import add_marginal_values, marginal_values
    from corridor.assess.sanity import plan_warnings
    from corridor.network import edges_gdf
    from corridor.outputs.afir import add_afir_layer, afir_markdown, write_afir_csv
    from corridor.outputs.corridors import (
        add_corridor_ranking_layer,
        corridor_document,
        corridor_markdown,
        write_corridors_csv,
    )
    from corridor.outputs.maps import (
        LEGEND_LINES,
        add_congestion_layer,
        add_pilot_corridors_layer,
        add_substations_layer,
        plan_map,
        write_map,
    )
    from corridor.outputs.plan import (
        plan_document,
        shortlist_frame,
        write_json,
        write_shortlist_csv,
        write_shortlist_geojson,
        write_shortlist_gpkg,
        write_shortlist_xlsx,
    )
    from corridor.outputs.summary import summary_markdown

    sc = result.scenario
    tech = sc.optimise.vehicle.technology
    corridor_ze = float(result.corridor_od["ze_trucks_per_day"].sum())
    shortlist = shortlist_frame(result.plan.sites, result.sites, tech, corridor_ze)
    if not sc.optimise.vehicles:  # the single-technology instance's marginal values
        shortlist = add_marginal_values(
            shortlist, marginal_values(result.instance, list(result.plan.sites.index))
        )
    doc = plan_document(sc, result.plan, shortlist, result.summary())
    doc["warnings"] = plan_warnings(
        result.plan.model_stats, sc.optimise, result.instance.sites["cost_eur"]
    )
    afir_corridors = load_afir_corridors()
    if result.corridor is not None and result.corridor.chosen not in {
        c.name for c in afir_corridors
    }:
        # corridor mode: the planned corridor is checked too (e.g. AFIR's 200 km H2 spacing)
        from corridor.network import load_corridors

        afir_corridors += [c for c in load_corridors() if c.name == result.corridor.chosen]
    afir = afir_report(result.graph, afir_corridors, shortlist.set_index("site_id"), tech)
    sections = {"AFIR (Regulation (EU) 2023/1804)": afir_markdown(afir)}
    if result.corridor is not None:
        doc["corridor"] = corridor_document(result.corridor, result.instance)
        sections = {
            "Pilot corridor": corridor_markdown(result.corridor, result.instance),
            **sections,
        }
    if "assumption" in result.areas.columns:
        texts = sorted({t for t in result.areas["assumption"] if isinstance(t, str) and t.strip()})
        if texts:
            sections["Grid capacity ASSUMPTION (Germany)"] = [
                "No public congestion data for these German areas: the plan uses an ASSUMPTION "
                "from the scenario (grid.germany_assumption), not operators' data:",
                "",
                *[f"- ASSUMPTION: {t}" for t in texts],
            ]
    value = _grid_value(result)
    if value is not None:
        from corridor.assess.grid_value import grid_value_markdown

        sections["Grid: where more headroom pays"] = grid_value_markdown(value)
    summary_md = summary_markdown(sc, doc, shortlist, sections)
    writers: dict[str, Callable[[Path], None]] = {
        "plan.json": lambda p: write_json(doc, p),
        "shortlist.csv": lambda p: write_shortlist_csv(shortlist, p),
        "shortlist.geojson": lambda p: write_shortlist_geojson(shortlist, p),
        "shortlist.gpkg": lambda p: write_shortlist_gpkg(shortlist, p),
        "shortlist.xlsx": lambda p: write_shortlist_xlsx(
            shortlist, p, {"scenario": sc.name, "description": sc.description}
        ),
        "summary.md": lambda p: p.write_text(summary_md, encoding="utf-8"),
        "afir.csv": lambda p: write_afir_csv(afir, p),
    }
    if result.corridor is not None:
        writers["corridors.csv"] = lambda p: write_corridors_csv(result.corridor, p)
    if value is not None:
        writers["grid_value.csv"] = lambda p: value.to_csv(p, index=False)
    if sc.outputs.map_html:
        edges = edges_gdf(result.graph)
        candidates = result.sites
        if result.corridor is not None:  # a corridor plan's map shows the corridors' region
            edges, candidates = (
                _clip_to(g, result.corridor.lines.values(), MAP_MARGIN_M)
                for g in (edges, candidates)
            )
        vol = result.flows.edge_volumes
        flow_edges = edges.merge(vol, on=["u", "v", "key"], how="inner")
        flow_edges = gpd.GeoDataFrame(flow_edges, geometry="geometry", crs=edges.crs)
        fmap = plan_map(
            edges,
            flow_edges,
            candidates,
            shortlist,
            title=sc.description or sc.name,
            technology=tech,
            max_flow_edges=sc.outputs.map_max_flow_edges,
            legend_extra=tuple(LEGEND_LINES.values()),
        )
        add_congestion_layer(fmap, result.areas)
        add_substations_layer(fmap, result.substations, shortlist)
        add_pilot_corridors_layer(fmap, afir.corridors)
        add_afir_layer(fmap, afir)
        if result.corridor is not None:
            add_corridor_ranking_layer(fmap, result.corridor, edges.crs)
        writers["map.html"] = lambda p: write_map(fmap, p)
    return write_outputs(out_dir, writers, kind="plan")


def grid_report(
    source: str,
    catalogue: Catalogue,
    out_dir: Path,
    battery_mwh: float = 0.0,
    scenario: str | None = None,
    progress: Progress | None = None,
    capacity_tables: list[Path] | None = None,
    capacity_areas: Path | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, list[Path]]:
    """Compute and write the connection load of a plan per substation and congestion area.

    Parameters
    ----------
    source
        A scenario (name or .toml: it is planned first), a ``plan.json`` or a CSV site list.
    catalogue
        Input data.
    out_dir
        Folder (written all-or-nothing) for ``grid_load.csv``, ``grid_load.geojson``, one chart
        per substation and area (``grid_chart_<level>_<id>.png``) and ``grid_report.html``.
    battery_mwh
        Battery per site (MWh) whose peak shaving is reported.
    scenario
        Scenario whose grid settings apply to a plan.json / CSV (default: the plan's own, else
        the default scenario).
    progress
        Optional stage callback.
    capacity_tables, capacity_areas
        Operators' capacity tables applied after the scenario's own ``grid.capacity_table``, and
        supply-area polygons their area ids refer to (:func:`with_capacity_tables`).

    Returns
    -------
    (GeoDataFrame, GeoDataFrame, list of Path)
        Per-substation table, per-area table, written files.
    """
    import geopandas as gpd
    import pandas as pd

    from corridor._files import write_outputs
    from corridor._validate import Region, check_points_near
    from corridor.assess.plans import read_site_list
    from corridor.grid import attach_grid, connection_load, grid_load_writers, site_loads
    from corridor.outputs.grid_report import grid_chart_writers, grid_report_html

    tell = progress or (lambda _s: None)
    is_file = Path(source).suffix.lower() in (".json", ".csv")
    if is_file:
        sites, plan_scenario = read_site_list(Path(source))
        sc: Scenario = load_scenario(scenario or plan_scenario or DEFAULT_SCENARIO)
        sc = with_capacity_tables(sc, capacity_tables, capacity_areas)
    else:
        sc = with_capacity_tables(load_scenario(source), capacity_tables, capacity_areas)
        result = run(sc, catalogue, progress=tell)
        chosen = result.sites.loc[list(result.plan.sites.index)]
        sites = pd.DataFrame(
            {
                "site_id": chosen.index.astype(str),
                "lon": chosen["lon"].to_numpy(),
                "lat": chosen["lat"].to_numpy(),
                "power_mw": result.plan.sites["power_mw"].to_numpy(),
                "energy_mwh_per_day": result.plan.sites["energy_mwh_per_day"].to_numpy(),
            }
        )
    tell("grid")
    substations, areas = (
        grid_layers(sc, catalogue) if is_file else (result.substations, result.areas)
    )
    region = Region.from_xy(
        substations.geometry.x,
        substations.geometry.y,
        substations.crs,
        f"grid of {sc.name} (substations {', '.join(sc.grid.substation_sources)})",
    )
    check_points_near(
        sites["lon"].to_numpy(float),
        sites["lat"].to_numpy(float),
        region,
        what=[f"site list {source}, site '{sid}'" for sid in sites["site_id"]],
    )
    points = gpd.GeoDataFrame(
        sites.set_index("site_id"),
        geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
        crs="EPSG:4326",
    ).to_crs(sc.network.crs)
    with_grid = attach_grid(points, substations, areas, sc.grid)
    per_sub, per_area = connection_load(
        with_grid, battery_mwh=battery_mwh, substations=substations, areas=areas
    )
    loads = site_loads(with_grid)
    notes = [
        f"Plan: {source}; scenario {sc.name}; battery {battery_mwh:g} MWh per site.",
        "Capacity tables: "
        + (", ".join(str(p) for p in sc.grid.capacity_table) or "none (shipped congestion layer)"),
        "Load: each site's daily energy spread over the day with the truck charging profile, "
        "capped at its installed power. Headroom: what the group may draw (the sites' own "
        "headroom, the firm ones' capped by the substation's or area's spare MW).",
    ]
    assumptions = _assumptions(with_grid, substations, areas)
    if assumptions:
        notes.append(
            "ASSUMPTION: groups marked ASSUMPTION use an assumed spare capacity "
            "(grid.germany_assumption), not operators' data."
        )
    writers = {
        **grid_load_writers(per_sub, per_area),
        **grid_chart_writers(per_sub, per_area, loads, assumptions),
    }
    extra: dict[str, str] = {}
    value = None if is_file else _grid_value(result)
    if value is not None:
        writers["grid_value.csv"] = lambda p: value.to_csv(p, index=False)
        extra["Where more headroom pays (what-if, re-solved)"] = value.to_html(
            index=False, float_format=lambda v: f"{v:,.2f}", na_rep="–", escape=True
        )
    elif is_file:
        notes.append(
            "What-if of more headroom: needs the optimiser's instance; run `corridor grid "
            "SCENARIO` (or `corridor plan`) to get grid_value.csv."
        )
    page = grid_report_html(
        per_sub,
        per_area,
        f"Connection load: {source}",
        notes=notes,
        assumptions=assumptions,
        extra_sections=extra,
    )
    writers["grid_report.html"] = lambda p: p.write_text(page, encoding="utf-8")
    files = write_outputs(out_dir, writers, kind="grid")
    return per_sub, per_area, files


def _assumptions(
    sites: gpd.GeoDataFrame, substations: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> dict[str, str]:
    """Area and substation ids whose capacity is assumed (grid.germany_assumption) → the text.

    A substation is labelled when a site on it takes an assumed area capacity (no operator row
    for the substation itself).
    """
    if "assumption" not in areas.columns:
        return {}
    out = {
        str(a): t
        for a, t in zip(areas["area_id"], areas["assumption"], strict=True)
        if isinstance(t, str) and t.strip()
    }
    own = (
        substations["offtake_capacity_mw"].astype(float)
        if "offtake_capacity_mw" in substations.columns
        else None
    )
    for sub_id, area_id in zip(
        sites["substation_id"].astype(str), sites["congestion_area_id"].astype(str), strict=True
    ):
        has_row = own is not None and math.isfinite(float(own.get(sub_id, math.nan)))
        if area_id in out and not has_row:
            out.setdefault(sub_id, f"area {area_id}: {out[area_id]}")
    return out


@dataclass(frozen=True)
class CoverageRun:
    """What :func:`coverage_report` computed and wrote."""

    coverage: Any  # corridor.assess.coverage.Coverage
    profile: Any  # corridor.assess.trucks.TruckProfile
    files: list[Path]
    notes: tuple[str, ...] = ()


def _scenario_of_plan(doc: dict[str, Any]) -> Scenario:
    from corridor.config import builtin_scenarios

    name = str(doc.get("scenario") or "")
    return load_scenario(name if name in builtin_scenarios() else DEFAULT_SCENARIO)


def plan_vehicle_profile(scenario: Scenario) -> Any:
    """Return the truck profile of the vehicle a scenario plans for (what coverage checks).

    The shipped profile of the same technology (``mcs-600kwh`` or ``h2-80kg``) gives what the
    route simulation needs beyond the vehicle model (charging power, fill rate, sources); the
    vehicle itself (capacity, consumption, state-of-charge window) is the scenario's.

    Parameters
    ----------
    scenario
        The plan's scenario.

    Returns
    -------
    corridor.assess.trucks.TruckProfile
        Named ``<scenario> vehicle``.
    """
    import dataclasses

    from corridor.assess.trucks import read_truck_profile

    veh = scenario.optimise.vehicle
    base = read_truck_profile("mcs-600kwh" if veh.technology == "bev" else "h2-80kg")
    size = f"{veh.battery_kwh:g} kWh" if veh.technology == "bev" else f"{veh.tank_kg:g} kg"
    per_km = (
        f"{veh.consumption_kwh_per_km:g} kWh/km"
        if veh.technology == "bev"
        else f"{veh.consumption_kg_per_km:g} kg/km"
    )
    return dataclasses.replace(
        base,
        name=f"{scenario.name} vehicle",
        description=f"{size}, {per_km}, start at {veh.soc_start:.0%}",
        vehicle=veh,
    )


def coverage_report(
    routes: Path,
    catalogue: Catalogue,
    out_dir: Path,
    truck: str | None = None,
    plan: Path | None = None,
    progress: Progress | None = None,
) -> CoverageRun:
    """Can a truck drive the routes with a plan's sites? Write coverage.csv, stops and map.

    Parameters
    ----------
    routes
        Routes file (:func:`corridor.assess.routes.read_routes`).
    catalogue
        Input data.
    out_dir
        Folder for ``coverage.csv``, ``coverage_stops.csv`` and ``coverage_map.html`` (written
        all-or-nothing).
    truck
        Shipped truck profile or a TOML file (default
        :data:`corridor.assess.trucks.DEFAULT_TRUCK_PROFILE`).
    plan
        A ``plan.json``; ``None`` plans the default scenario first (takes minutes).
    progress
        Optional callback told what is being done.

    Returns
    -------
    CoverageRun
        The coverage, the truck profile, the files written and notes for the user (e.g. a BEV
        truck on an H2 plan).
    """
    from corridor._files import read_json, write_outputs
    from corridor.assess.coverage import route_coverage
    from corridor.assess.plans import plan_sites_from_json
    from corridor.assess.routes import read_routes
    from corridor.assess.trucks import read_truck_profile
    from corridor.network import load_graph
    from corridor.outputs.coverage import coverage_map, write_coverage_csv, write_stops_csv
    from corridor.outputs.maps import write_map
    from corridor.outputs.plan import shortlist_frame

    tell = progress or (lambda _s: None)
    profile = read_truck_profile(truck) if truck is not None else None
    route_df = read_routes(routes)
    if plan is not None:
        sites = plan_sites_from_json(plan)
        sc = _scenario_of_plan(read_json(plan, "plan file"))
        graph = load_graph(catalogue, sc.network)
        title = f"Route coverage: {routes.name} with {plan}"
    else:
        sc = load_scenario(DEFAULT_SCENARIO)
        tell(f"no --plan: planning the default scenario {sc.name} first …")
        result = run(sc, catalogue)
        corridor_ze = float(result.corridor_od["ze_trucks_per_day"].sum())
        sites = shortlist_frame(
            result.plan.sites, result.sites, sc.optimise.vehicle.technology, corridor_ze
        ).set_index("site_id")
        graph = result.graph
        title = f"Route coverage: {routes.name} with {sc.name}"
    notes = []
    if profile is None:
        profile = plan_vehicle_profile(sc)
        notes.append(
            f"truck: the vehicle {sc.name} was planned for ({profile.description}); "
            "--truck PROFILE checks another"
        )
    if sc.optimise.vehicle.technology != profile.vehicle.technology:
        notes.append(
            f"the plan is for {sc.optimise.vehicle.technology.upper()} sites but the truck "
            f"{profile.name} is {profile.vehicle.technology.upper()}"
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
        kind="coverage",
    )
    return CoverageRun(cov, profile, files, tuple(notes))


@dataclass(frozen=True)
class CompareSitesRun:
    """What :func:`compare_sites_report` computed and wrote."""

    sites: Any  # pandas.DataFrame, see corridor.assess.compare_sites.compare_sites
    summary: Any  # pandas.DataFrame
    files: list[Path]


def compare_sites_report(
    plan: Path,
    reference: Path,
    within_km: float,
    out_dir: Path,
    catalogue: Catalogue | None = None,
) -> CompareSitesRun:
    """Hold a plan's sites against a reference list; write the tables and a map.

    Writes ``compare_sites.csv`` (every plan and reference site with its nearest other site),
    ``compare_sites_summary.csv`` (matched counts by country and road) and
    ``compare_sites_map.html``, all-or-nothing. Reference sites without a ``country`` get the
    NUTS country they lie in when ``catalogue`` is given.

    Raises
    ------
    InputDataError
        Bad plan or reference file, or ``within_km`` not positive (one-line messages).
    """
    from corridor._files import read_json, write_outputs
    from corridor.assess.compare_sites import (
        compare_sites,
        plan_sites_frame,
        read_reference_sites,
    )
    from corridor.errors import InputDataError
    from corridor.outputs.compare_sites import compare_sites_map, write_compare_csv
    from corridor.outputs.maps import write_map

    doc = read_json(plan, "plan file", hint="pass the plan.json written by `corridor plan`")
    if not isinstance(doc, dict) or not isinstance(doc.get("sites"), list):
        msg = f"plan file {plan} has no 'sites' list; is it a plan.json written by `corridor plan`?"
        raise InputDataError(msg)
    plan_sites = plan_sites_frame(doc["sites"])
    ref = read_reference_sites(reference)
    if catalogue is not None and (ref["country"] == "").any():
        from corridor.sites import assign_country

        ref["country"] = assign_country(ref, catalogue).to_numpy()
    sites, summary = compare_sites(plan_sites, ref, within_km)
    title = f"{doc.get('scenario', plan.name)} vs {reference.name} within {within_km:g} km"
    fmap = compare_sites_map(sites, within_km, reference.name, title)
    files = write_outputs(
        out_dir,
        {
            "compare_sites.csv": lambda p: write_compare_csv(sites, p),
            "compare_sites_summary.csv": lambda p: write_compare_csv(summary, p),
            "compare_sites_map.html": lambda p: write_map(fmap, p),
        },
        kind="compare-sites",
    )
    return CompareSitesRun(sites, summary, files)
