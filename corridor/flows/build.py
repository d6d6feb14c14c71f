"""The flows stage: ETISplus OD tables → stitched, scaled OD demand routed on the road graph."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from corridor.catalogue import Catalogue
from corridor.config import FlowsConfig
from corridor.errors import InputDataError
from corridor.flows.clip import gateways
from corridor.flows.etisplus import EtisTables, growth_rate_from_speth, load_etisplus
from corridor.flows.pilot import route_pilot
from corridor.flows.routing import RoutingGraph, place_nodes, route_flows
from corridor.flows.shares import ze_share
from corridor.flows.stitch import stitch_borders

__all__ = [
    "OD_COLUMNS",
    "FlowSet",
    "assign_flows",
    "build_flows",
    "growth_factor",
    "pilot_flows",
    "resolve_ze_share",
    "scale_to_daily",
]

log = logging.getLogger(__name__)

OD_COLUMNS = [
    "od_id",
    "origin",
    "destination",
    "origin_node",
    "destination_node",
    "trucks_per_day",
    "ze_trucks_per_day",
    "year",
    "path_length_km",
    "countries",
    "path",
    "origin_country",
    "destination_country",
    "stitched_share",
    "origin_gateway",
    "destination_gateway",
    "origin_connector_km",
    "destination_connector_km",
    "source",
    "firm",
    "route_id",
    "trucks",
    "return_od_id",
]
EXCLUDED_COLUMNS = ["origin", "destination", "trucks_per_day", "reason"]
EDGE_VOLUME_COLUMNS = ["u", "v", "key", "trucks_per_day", "ze_trucks_per_day"]


@dataclass(frozen=True)
class FlowSet:
    """Truck OD demand on the road graph (the FLOWS contract).

    Attributes
    ----------
    od
        One row per routed OD flow, columns :data:`OD_COLUMNS`: ``od_id`` (str, stable
        "od-<origin>-<destination>"), ``origin`` / ``destination`` (ETISplus node ids, str),
        ``origin_node`` / ``destination_node`` (graph node ids, int), ``trucks_per_day`` (all
        trucks, target year), ``ze_trucks_per_day`` (× zero-emission share), ``year``,
        ``path_length_km`` (on the graph), ``countries`` ("NL;DE", driving order), ``path``
        (tuple of graph node ids), plus ``origin_country``, ``destination_country`` (ETISplus
        table countries), ``stitched_share`` (fraction rebuilt across a border),
        ``origin_gateway`` / ``destination_gateway`` (ETISplus node placed on the graph: the
        origin/destination itself, or where the trip enters/leaves the graph's region, see
        :mod:`corridor.flows.clip`), ``origin_connector_km``,
        ``destination_connector_km`` (straight line from the ETISplus node to its graph node),
        ``source`` ("etisplus" or "pilot"), and for pilot rows ``firm``, ``route_id``,
        ``trucks`` (the fleet's trucks on the route) and ``return_od_id`` (on the outbound row
        of a round trip, the od id of its way back); ETISplus rows have "" / NaN there.
        Pilot rows (see :mod:`corridor.flows.pilot`) have place names as ``origin`` /
        ``destination`` and ``od_id`` "pilot-<route_id>-out" / "-back".
    edge_volumes
        ``u``, ``v``, ``key``, ``trucks_per_day``, ``ze_trucks_per_day`` per directed graph edge
        that carries flow.
    report
        Counts and totals of every step (loading, stitching, scaling, placing, routing).
    excluded
        OD flows not routed: ``origin``, ``destination``, ``trucks_per_day``, ``reason``
        (below_min_trucks / route_outside_region / origin_off_graph / destination_off_graph /
        same_graph_node / unreachable / outside_corridor / pilot_off_graph).
    """

    od: pd.DataFrame
    edge_volumes: pd.DataFrame
    report: dict[str, Any]
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EXCLUDED_COLUMNS))


def growth_factor(base_year: int, target_year: int, annual_growth: float) -> float:
    """Compound growth factor ``(1 + annual_growth) ** (target_year - base_year)``."""
    if annual_growth <= -1:
        msg = f"annual_growth must be > -1 (fraction per year), got {annual_growth}"
        raise InputDataError(msg)
    return float((1.0 + annual_growth) ** (target_year - base_year))


def scale_to_daily(
    trucks_per_year: np.ndarray | pd.Series,
    factor: float,
    days_per_year: float,
    zero_emission_share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Base-year trucks per year → target-year trucks per day and zero-emission trucks per day.

    Returns
    -------
    trucks_per_day, ze_trucks_per_day
        ``trucks_per_year × factor / days_per_year`` and that × ``zero_emission_share``.
    """
    if days_per_year <= 0:
        msg = f"days_per_year must be > 0, got {days_per_year}"
        raise InputDataError(msg)
    if not 0 <= zero_emission_share <= 1:
        msg = f"zero_emission_share must be within 0..1, got {zero_emission_share}"
        raise InputDataError(msg)
    per_day = np.asarray(trucks_per_year, dtype=float) * factor / days_per_year
    return per_day, per_day * zero_emission_share


def _corridor_predicate(config: FlowsConfig):
    corridor = set(config.corridor_countries)
    need = config.min_corridor_countries
    if not corridor or need <= 0:
        return None

    def keep(countries: str) -> bool:
        return len(corridor.intersection(countries.split(";"))) >= need

    return keep


def assign_flows(
    rg: RoutingGraph,
    tables: EtisTables,
    od: pd.DataFrame,
    config: FlowsConfig,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Place OD flows (already in trucks per day) on the graph and route them.

    Parameters
    ----------
    rg
        Routing arrays of the road graph.
    tables
        ETISplus tables (node coordinates).
    od
        ``origin``, ``destination``, ``trucks_per_day``, ``ze_trucks_per_day`` and any extra
        columns (kept).
    config
        Flows section of the scenario (``max_connector_km``, ``min_trucks_per_day``,
        corridor filter).

    Returns
    -------
    od, edge_volumes, excluded, report
    """
    report: dict[str, Any] = {}
    excluded = []

    def exclude(mask: np.ndarray, reason: str, frame: pd.DataFrame) -> pd.DataFrame:
        if mask.any():
            ex = frame.loc[mask, ["origin", "destination", "trucks_per_day"]].assign(reason=reason)
            excluded.append(ex)
        report[f"excluded_{reason}"] = int(mask.sum())
        report[f"excluded_{reason}_trucks_per_day"] = float(frame.loc[mask, "trucks_per_day"].sum())
        return frame.loc[~mask]

    od = exclude(
        (od["trucks_per_day"] < config.min_trucks_per_day).to_numpy(), "below_min_trucks", od
    )
    ids = tables.nodes.index.to_numpy()
    idx, conn_km = place_nodes(rg, tables.nodes[["x", "y"]].to_numpy(), config.max_connector_km)
    node_of = pd.Series(idx, index=ids)
    conn_of = pd.Series(conn_km, index=ids)
    used = pd.unique(pd.concat([od["origin"], od["destination"]]))
    on = node_of.loc[used].to_numpy() >= 0
    used_km = conn_of.loc[used].to_numpy()
    report["etis_nodes_used"] = len(used)
    report["etis_nodes_off_graph"] = int((~on).sum())
    report["connector_km_median"] = float(np.median(used_km[on])) if on.any() else float("nan")
    report["connector_km_max"] = float(used_km[on].max()) if on.any() else float("nan")
    od = od.assign(
        origin_gateway=od["origin"].to_numpy(), destination_gateway=od["destination"].to_numpy()
    )
    off = (node_of.loc[od["origin"]].to_numpy() < 0) | (
        node_of.loc[od["destination"]].to_numpy() < 0
    )
    report["od_with_end_off_graph"] = int(off.sum())
    report["od_with_end_off_graph_trucks_per_day"] = float(od.loc[off, "trucks_per_day"].sum())
    if config.clip_to_graph and off.any():
        og, dg = gateways(
            tables,
            od.loc[off, "origin"].to_numpy(),
            od.loc[off, "destination"].to_numpy(),
            set(ids[idx >= 0]),
            config.border_match_km,
        )
        od.loc[off, "origin_gateway"] = og
        od.loc[off, "destination_gateway"] = dg
        outside = np.zeros(len(od), dtype=bool)
        outside[np.flatnonzero(off)] = og == ""
        report["clipped_od"] = int(off.sum() - outside.sum())
        od = exclude(outside, "route_outside_region", od)
    else:
        report["clipped_od"] = 0
    gw_o, gw_d = od["origin_gateway"], od["destination_gateway"]
    od = od.assign(
        _o=node_of.loc[gw_o].to_numpy(),
        _d=node_of.loc[gw_d].to_numpy(),
        origin_connector_km=conn_of.loc[gw_o].to_numpy(),
        destination_connector_km=conn_of.loc[gw_d].to_numpy(),
    )
    od = exclude((od["_o"] < 0).to_numpy(), "origin_off_graph", od)
    od = exclude((od["_d"] < 0).to_numpy(), "destination_off_graph", od)
    od = exclude((od["_o"] == od["_d"]).to_numpy(), "same_graph_node", od)
    od = od.reset_index(drop=True)
    res = route_flows(
        rg,
        od["_o"].to_numpy(),
        od["_d"].to_numpy(),
        {c: od[c].to_numpy() for c in ("trucks_per_day", "ze_trucks_per_day")},
        keep=_corridor_predicate(config),
    )
    od = od.assign(
        path_length_km=res.path_length_m / 1000.0,
        countries=res.countries,
        path=pd.Series(res.paths, index=od.index, dtype=object),
    )
    unreachable = ~np.isfinite(res.path_length_m)
    od = exclude(unreachable, "unreachable", od)
    od = exclude(~res.kept[od.index.to_numpy()], "outside_corridor", od)
    od = od.assign(
        origin_node=rg.node_ids[od["_o"].to_numpy()],
        destination_node=rg.node_ids[od["_d"].to_numpy()],
    ).drop(columns=["_o", "_d"])
    report["routed_od"] = len(od)
    report["routed_trucks_per_day"] = float(od["trucks_per_day"].sum())
    report["routed_ze_trucks_per_day"] = float(od["ze_trucks_per_day"].sum())
    report["routed_truck_km_per_day"] = float((od["trucks_per_day"] * od["path_length_km"]).sum())
    report["edges_with_flow"] = len(res.edge_volumes)
    ex = (
        pd.concat(excluded, ignore_index=True)
        if excluded
        else pd.DataFrame(columns=EXCLUDED_COLUMNS)
    )
    return od.reset_index(drop=True), res.edge_volumes, ex, report


def build_flows(G: nx.MultiDiGraph, catalogue: Catalogue, config: FlowsConfig) -> FlowSet:
    """Build the truck OD demand of a scenario on the road graph.

    Steps: load the ETISplus tables of ``config.countries``; stitch cross-border trips
    (``config.stitch_borders``); scale base year → target year (``annual_growth`` or the
    Speth et al. 2019→2030 network growth) and trucks per year → per day
    (``days_per_year``); zero-emission trucks = × ``zero_emission_share``; place the ETISplus
    nodes on the graph (nearest node of the largest strongly connected component, connector ≤
    ``max_connector_km``) and route every OD on its shortest path; sum edge volumes. Every
    dropped flow is counted in ``report`` and listed in ``excluded``.

    Parameters
    ----------
    G
        Road graph (GRAPH contract, EPSG:3035).
    catalogue
        Data catalogue (``etisplus_countries``, ``speth_edges``).
    config
        Flows section of the scenario.

    Returns
    -------
    FlowSet
    """
    tables = load_etisplus(catalogue, config.countries)
    report: dict[str, Any] = {"countries": list(config.countries), "load": tables.report}
    if config.stitch_borders and len(tables.countries) > 1:
        od, srep = stitch_borders(tables, config.border_match_km)
        report["stitch"] = srep
    else:
        od = tables.od.groupby(["origin", "destination"], as_index=False, sort=True)[
            "trucks_per_year"
        ].sum()
        od["stitched_share"] = 0.0
        country = tables.nodes["country"]
        od["origin_country"] = country.loc[od["origin"]].to_numpy()
        od["destination_country"] = country.loc[od["destination"]].to_numpy()
        report["stitch"] = None
    if config.annual_growth is None:
        g = growth_rate_from_speth(
            catalogue.path("speth_edges"), set(tables.nodes["node_id"]), config.base_year
        )
        rate, source = g["annual_growth"], "speth2022 network flows 2019->2030"
        report["growth_speth"] = g
    else:
        rate, source = config.annual_growth, "config.annual_growth"
    factor = growth_factor(config.base_year, config.target_year, rate)
    share, share_source = resolve_ze_share(config)
    per_day, ze = scale_to_daily(od["trucks_per_year"], factor, config.days_per_year, share)
    report["scaling"] = {
        "base_year": config.base_year,
        "target_year": config.target_year,
        "annual_growth": rate,
        "growth_source": source,
        "growth_factor": factor,
        "days_per_year": config.days_per_year,
        "technology": config.technology,
        "zero_emission_share": share,
        "zero_emission_share_source": share_source,
        "trucks_per_day": float(per_day.sum()),
    }
    od = od.assign(trucks_per_day=per_day, ze_trucks_per_day=ze)
    rg = RoutingGraph.from_graph(G)
    report["graph_nodes"] = rg.n
    report["graph_main_component_nodes"] = int(rg.main_component.sum())
    od, edge_volumes, excluded, rrep = assign_flows(rg, tables, od, config)
    report["assign"] = rrep
    od["od_id"] = "od-" + od["origin"] + "-" + od["destination"]
    od["year"] = config.target_year
    od["source"], od["firm"], od["route_id"], od["return_od_id"] = "etisplus", "", "", ""
    od["trucks"] = np.nan
    od = od[OD_COLUMNS]
    if config.pilot_fleet is not None:
        pod, pev, pex, prep = route_pilot(rg, config)
        report["pilot"] = prep
        pod["year"] = config.target_year
        pod["source"] = "pilot"
        pod = pod.assign(
            origin_country="",
            destination_country="",
            stitched_share=0.0,
            origin_gateway="",
            destination_gateway="",
        )
        od = pd.concat([od, pod[OD_COLUMNS]], ignore_index=True)
        edge_volumes = _sum_edge_volumes([edge_volumes, pev])
        excluded = pd.concat([excluded, pex], ignore_index=True)
    log.info(
        "flows: %d OD routed (%.0f trucks/day), %d excluded (%.0f trucks/day)",
        len(od),
        od["trucks_per_day"].sum(),
        len(excluded),
        excluded["trucks_per_day"].sum(),
    )
    return FlowSet(
        od=od, edge_volumes=edge_volumes[EDGE_VOLUME_COLUMNS], report=report, excluded=excluded
    )


def _sum_edge_volumes(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Sum edge volume tables (``u``, ``v``, ``key`` + volumes) per directed edge."""
    frames = [f[EDGE_VOLUME_COLUMNS] for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=EDGE_VOLUME_COLUMNS)
    ev = pd.concat(frames, ignore_index=True)
    return ev.groupby(["u", "v", "key"], as_index=False, sort=False)[
        ["trucks_per_day", "ze_trucks_per_day"]
    ].sum()


def resolve_ze_share(config: FlowsConfig) -> tuple[float, str]:
    """Zero-emission share of the scenario and where it came from.

    ``config.zero_emission_share`` if set, else interpolated for (``config.technology``,
    ``config.target_year``) from ``data/flows/ze_shares.csv`` (see :mod:`corridor.flows.shares`).
    """
    if config.zero_emission_share is not None:
        source = config.zero_emission_share_source.strip()
        return float(config.zero_emission_share), (
            f"config.zero_emission_share: {source}" if source else "config.zero_emission_share"
        )
    share = ze_share(config.technology, config.target_year)
    return share, f"data/flows/ze_shares.csv ({config.technology}, {config.target_year})"


def pilot_flows(G: nx.MultiDiGraph, config: FlowsConfig) -> FlowSet:
    """Build the pilot fleet alone as a :class:`FlowSet` (see :mod:`corridor.flows.pilot`).

    Parameters
    ----------
    G
        Road graph (GRAPH contract).
    config
        Flows section with ``pilot_fleet`` set.

    Returns
    -------
    FlowSet
        ``od`` rows with ``source`` = "pilot" and their ``firm``; ``report`` of the pilot.
    """
    rg = RoutingGraph.from_graph(G)
    od, ev, excluded, report = route_pilot(rg, config)
    od = od.assign(
        year=config.target_year,
        source="pilot",
        origin_country="",
        destination_country="",
        stitched_share=0.0,
        origin_gateway="",
        destination_gateway="",
    )
    return FlowSet(
        od=od[OD_COLUMNS],
        edge_volumes=_sum_edge_volumes([ev]),
        report={"pilot": report},
        excluded=excluded.reset_index(drop=True),
    )
