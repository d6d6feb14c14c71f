"""The whole job: scenario in, plan out.

``run(scenario, catalogue)`` chains the stages (network → flows → sites → grid → optimise →
validate) as pure functions; ``write_run(result, out_dir)`` writes the outputs all-or-nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd

from corridor.catalogue import Catalogue
from corridor.config import FlowsConfig, Scenario
from corridor.errors import InfeasibleError

__all__ = ["PlanRun", "corridor_flows", "run", "write_run"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanRun:
    """Everything a run produced, for the writers and for inspection."""

    scenario: Scenario
    graph: nx.MultiDiGraph
    flows: Any  # corridor.flows.FlowSet
    corridor_od: pd.DataFrame
    candidates: Any  # corridor.sites.Candidates
    sites: gpd.GeoDataFrame
    substations: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    instance: Any  # corridor.optimise.Instance
    plan: Any  # corridor.optimise.PlanResult
    timings_s: dict[str, float] = field(default_factory=dict)

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
            "served_share_of_corridor_flow": (
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
    if progress:
        progress(name)
    t0 = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - t0
    log.info("%s done in %.1f s", name, timings[name])


def run(scenario: Scenario, catalogue: Catalogue, progress: Progress | None = None) -> PlanRun:
    """Run the full pipeline for one scenario.

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
    from corridor.flows import build_flows
    from corridor.grid import attach_grid, default_congestion_areas, load_substations
    from corridor.network import afir_corridor_paths, load_graph
    from corridor.optimise import instance_from_pipeline, solve
    from corridor.sites import build_candidates

    t: dict[str, float] = {}
    with _stage("road network", t, progress):
        graph = load_graph(catalogue, scenario.network)
    with _stage("truck flows", t, progress):
        flows = build_flows(graph, catalogue, scenario.flows)
        corridor_od = corridor_flows(flows.od, scenario.flows)
    with _stage("candidate sites", t, progress):
        candidates = build_candidates(graph, catalogue, scenario.sites)
    with _stage("grid", t, progress):
        substations = load_substations(catalogue, scenario.grid)
        areas = default_congestion_areas(catalogue, countries=tuple(scenario.network.countries))
        sites = attach_grid(candidates.sites, substations, areas, scenario.grid)
    with _stage("optimise", t, progress):
        corridor_set = _with_od(flows, corridor_od)
        instance = instance_from_pipeline(
            corridor_set,
            candidates,
            sites,
            scenario.optimise.vehicle,
            graph,
            corridor_axis_deg=scenario.optimise.corridor_axis_deg,
            round_trip=scenario.optimise.round_trip,
            corridors=afir_corridor_paths(graph) if _afir_on(scenario) else None,
        )
        plan = solve(instance, scenario.optimise)
    if plan.status == "infeasible":
        msg = f"scenario {scenario.name}: no feasible plan ({plan.model_stats.get('reason', '')})"
        raise InfeasibleError(msg)
    return PlanRun(
        scenario,
        graph,
        flows,
        corridor_od,
        candidates,
        sites,
        substations,
        areas,
        instance,
        plan,
        t,
    )


def _afir_on(scenario: Scenario) -> bool:
    opt = scenario.optimise
    return opt.afir_max_gap_km is not None or opt.afir_min_pool_power_mw is not None


def _with_od(flows: Any, od: pd.DataFrame) -> Any:
    import dataclasses

    return dataclasses.replace(flows, od=od)


def write_run(result: PlanRun, out_dir: Path) -> list[Path]:
    """Write plan.json, shortlist (csv, geojson, gpkg, xlsx), summary.md, afir.csv and map.html.

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
    from corridor.assess.afir import afir_report, load_afir_corridors
    from corridor.assess.marginal import add_marginal_values, marginal_values
    from corridor.network import edges_gdf
    from corridor.outputs.afir import add_afir_layer, afir_markdown, write_afir_csv
    from corridor.outputs.atomic import write_outputs
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
    shortlist = add_marginal_values(
        shortlist, marginal_values(result.instance, list(result.plan.sites.index))
    )
    doc = plan_document(sc, result.plan, shortlist, result.summary())
    afir = afir_report(result.graph, load_afir_corridors(), shortlist.set_index("site_id"), tech)
    summary_md = summary_markdown(
        sc, doc, shortlist, {"AFIR (Regulation (EU) 2023/1804)": afir_markdown(afir)}
    )
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
    if sc.outputs.map_html:
        edges = edges_gdf(result.graph)
        vol = result.flows.edge_volumes
        flow_edges = edges.merge(vol, on=["u", "v", "key"], how="inner")
        flow_edges = gpd.GeoDataFrame(flow_edges, geometry="geometry", crs=edges.crs)
        fmap = plan_map(
            edges,
            flow_edges,
            result.sites,
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
        writers["map.html"] = lambda p: write_map(fmap, p)
    return write_outputs(out_dir, writers)
