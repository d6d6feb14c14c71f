"""Loading the ETISplus 2019 truck OD tables (Speth et al. 2022) per country.

Each country folder ``flows/etisplus_countries/<CC>/`` holds ``graph.graphml`` (directed ETISplus
network, nodes with ``position_x`` = lon and ``position_y`` = lat, edges with ``distance`` in km)
and ``traffic.csv`` (``origin``, ``destination``, ``volume`` in trucks per year 2019). Country
tables are clipped at the borders; :mod:`corridor.flows.stitch` rebuilds cross-border trips.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from pyproj import Transformer

from corridor._validate import GRAPH_CRS, require_columns
from corridor.catalogue import Catalogue
from corridor.errors import InputDataError

__all__ = [
    "EtisTables",
    "etisplus_road_graph",
    "growth_rate_from_speth",
    "load_etisplus",
    "read_country_graph",
    "read_traffic_csv",
]

log = logging.getLogger(__name__)

TRAFFIC_COLUMNS = ("origin", "destination", "volume")
SPETH_EDGE_COLUMNS = (
    "Network_Node_A_ID",
    "Network_Node_B_ID",
    "Traffic_flow_trucks_2019",
    "Traffic_flow_trucks_2030",
)
_TO_3035 = Transformer.from_crs("EPSG:4326", GRAPH_CRS, always_xy=True)
_MAX_ROWS_IN_MESSAGE = 5


@dataclass(frozen=True)
class EtisTables:
    """ETISplus networks and OD tables of a set of countries.

    Attributes
    ----------
    nodes
        One row per ETISplus node: ``node_id`` (str), ``country`` (ISO2), ``lon``, ``lat``
        (degrees), ``x``, ``y`` (EPSG:3035 metres). Index: ``node_id``.
    edges
        ETISplus network edges: ``u``, ``v`` (str node ids), ``distance_km``, ``country``.
    od
        One row per OD pair of a country table: ``origin``, ``destination`` (str node ids),
        ``trucks_per_year`` (base year), ``country`` (table it came from).
    report
        Counts per country: rows read, rows dropped and why, trucks per year.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    od: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def countries(self) -> tuple[str, ...]:
        """Countries loaded, in load order."""
        return tuple(dict.fromkeys(self.nodes["country"]))


def read_country_graph(path: Path, country: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one ETISplus ``graph.graphml`` into node and edge tables.

    Parameters
    ----------
    path
        The ``graph.graphml`` file.
    country
        ISO2 code stored on every row.

    Returns
    -------
    nodes, edges
        See :class:`EtisTables`.

    Raises
    ------
    InputDataError
        If the file is missing, unreadable, or a node lacks coordinates / an edge its distance.
    """
    if not path.is_file():
        msg = f"ETISplus graph {path} not found (expected graph.graphml for country {country})"
        raise InputDataError(msg)
    try:
        g = nx.read_graphml(path)
    except Exception as exc:  # networkx raises several parser errors
        msg = f"ETISplus graph {path} is not valid GraphML: {exc}"
        raise InputDataError(msg) from exc
    ids = [str(n) for n in g.nodes]
    attrs = [g.nodes[n] for n in g.nodes]
    missing = [
        i for i, a in zip(ids, attrs, strict=True) if "position_x" not in a or "position_y" not in a
    ]
    if missing:
        msg = (
            f"ETISplus graph {path}: {len(missing)} node(s) lack position_x/position_y "
            f"(lon/lat), e.g. {missing[:_MAX_ROWS_IN_MESSAGE]}"
        )
        raise InputDataError(msg)
    lon = np.array([float(a["position_x"]) for a in attrs])
    lat = np.array([float(a["position_y"]) for a in attrs])
    bad = ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        msg = (
            f"ETISplus graph {path}: node coordinates out of lon/lat range for "
            f"{np.asarray(ids)[bad][:_MAX_ROWS_IN_MESSAGE].tolist()}"
        )
        raise InputDataError(msg)
    x, y = _TO_3035.transform(lon, lat)
    nodes = pd.DataFrame(
        {"node_id": ids, "country": country, "lon": lon, "lat": lat, "x": x, "y": y}
    )
    rows = []
    for u, v, a in g.edges(data=True):
        if "distance" not in a:
            msg = f"ETISplus graph {path}: edge {u}->{v} has no 'distance' (km) attribute"
            raise InputDataError(msg)
        rows.append((str(u), str(v), float(a["distance"])))
    edges = pd.DataFrame(rows, columns=["u", "v", "distance_km"])
    edges["country"] = country
    return nodes, edges


def read_traffic_csv(path: Path, known_nodes: set[str], country: str) -> tuple[pd.DataFrame, dict]:
    """Read and validate one ``traffic.csv`` (trucks per year).

    Rules: missing columns, non-numeric or negative volumes and node ids not in the country's
    graph raise :class:`InputDataError` naming the file and rows (1-based file line numbers).
    Zero volumes and origin == destination rows are dropped and counted; duplicate pairs are
    summed and counted. A table left with no flow (header only, all volumes zero) is an error:
    it would silently drop the country's trucks.

    Parameters
    ----------
    path
        The ``traffic.csv`` file.
    known_nodes
        Node ids (str) of the country's ``graph.graphml``.
    country
        ISO2 code stored on every row.

    Returns
    -------
    od, report
        ``origin``, ``destination`` (str), ``trucks_per_year``, ``country``; and the counts.
    """
    if not path.is_file():
        msg = f"ETISplus OD table {path} not found (expected traffic.csv for country {country})"
        raise InputDataError(msg)
    try:
        raw = pd.read_csv(path, dtype={"origin": str, "destination": str})
    except Exception as exc:
        msg = f"ETISplus OD table {path} is not a readable CSV: {exc}"
        raise InputDataError(msg) from exc
    require_columns(
        raw, TRAFFIC_COLUMNS, f"ETISplus OD table {path}", hint="Volumes are trucks per year"
    )
    line = raw.index.to_numpy() + 2  # header is line 1
    for col in ("origin", "destination"):
        ids = raw[col].astype("string").str.strip()
        empty = ids.isna() | (ids == "")
        if empty.any():
            rows = line[empty.to_numpy()][:_MAX_ROWS_IN_MESSAGE].tolist()
            msg = f"ETISplus OD table {path}: empty '{col}' at line(s) {rows}"
            raise InputDataError(msg)
        raw[col] = ids.str.replace(r"\.0$", "", regex=True).astype(str)
    volume = pd.to_numeric(raw["volume"], errors="coerce")
    nonnum = volume.isna().to_numpy() | ~np.isfinite(volume.to_numpy(dtype=float, na_value=np.nan))
    if nonnum.any():
        rows = line[nonnum][:_MAX_ROWS_IN_MESSAGE].tolist()
        msg = (
            f"ETISplus OD table {path}: 'volume' must be a finite number (trucks per year); "
            f"bad value at line(s) {rows}"
        )
        raise InputDataError(msg)
    neg = (volume < 0).to_numpy()
    if neg.any():
        rows = line[neg][:_MAX_ROWS_IN_MESSAGE].tolist()
        msg = (
            f"ETISplus OD table {path}: negative 'volume' (trucks per year) at line(s) {rows} "
            f"({int(neg.sum())} row(s)); volumes must be >= 0"
        )
        raise InputDataError(msg)
    for col in ("origin", "destination"):
        unknown = ~raw[col].isin(known_nodes).to_numpy()
        if unknown.any():
            examples = [
                f"line {ln}: {nid}"
                for ln, nid in zip(line[unknown], raw[col].to_numpy()[unknown], strict=True)
            ][:_MAX_ROWS_IN_MESSAGE]
            msg = (
                f"ETISplus OD table {path}: {int(unknown.sum())} '{col}' node id(s) not in the "
                f"country's graph.graphml ({examples}); fix the ids or the graph"
            )
            raise InputDataError(msg)
    od = pd.DataFrame(
        {
            "origin": raw["origin"].to_numpy(),
            "destination": raw["destination"].to_numpy(),
            "trucks_per_year": volume.to_numpy(dtype=float),
        }
    )
    zero = od["trucks_per_year"] == 0
    self_loop = od["origin"] == od["destination"]
    report = {
        "rows": len(od),
        "trucks_per_year": float(od["trucks_per_year"].sum()),
        "dropped_zero_volume": int(zero.sum()),
        "dropped_self_loop": int((self_loop & ~zero).sum()),
        "dropped_self_loop_trucks_per_year": float(od.loc[self_loop, "trucks_per_year"].sum()),
    }
    od = od[~zero & ~self_loop]
    if len(od) == 0:
        msg = (
            f"ETISplus OD table {path} (country {country}) holds no truck flows: "
            f"{report['rows']} row(s), {report['rows'] - report['dropped_zero_volume']} with a "
            f"volume > 0, {report['trucks_per_year']:.0f} trucks/year between different nodes "
            f"of its {len(known_nodes)}-node graph (expected OD pairs with trucks per year > 0); "
            f"restore the file or remove {country} from the scenario's countries"
        )
        raise InputDataError(msg)
    dup = od.duplicated(["origin", "destination"])
    report["merged_duplicate_pairs"] = int(dup.sum())
    if dup.any():
        od = od.groupby(["origin", "destination"], as_index=False, sort=False)[
            "trucks_per_year"
        ].sum()
    od = od.reset_index(drop=True)
    od["country"] = country
    return od, report


def load_etisplus(catalogue: Catalogue, countries: Sequence[str]) -> EtisTables:
    """Load the ETISplus networks and OD tables of ``countries``.

    Parameters
    ----------
    catalogue
        Data catalogue (dataset ``etisplus_countries``).
    countries
        ISO2 codes, e.g. ``("NL", "DE")``.

    Returns
    -------
    EtisTables
        Nodes, edges, OD rows and a per-country report.

    Raises
    ------
    InputDataError
        If a country folder is missing (lists the available ones) or a file is invalid, or two
        countries share a node id.
    """
    if not countries:
        msg = "no countries given to load_etisplus; pass e.g. ('NL', 'DE')"
        raise InputDataError(msg)
    root = catalogue.path("etisplus_countries")
    nodes_all, edges_all, od_all, report = [], [], [], {}
    for cc in dict.fromkeys(countries):
        folder = root / cc
        if not folder.is_dir():
            have = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir()))
            msg = f"no ETISplus data for country '{cc}' in {root} (available: {have})"
            raise InputDataError(msg)
        nodes, edges = read_country_graph(folder / "graph.graphml", cc)
        od, rep = read_traffic_csv(folder / "traffic.csv", set(nodes["node_id"]), cc)
        rep["nodes"] = len(nodes)
        rep["edges"] = len(edges)
        report[cc] = rep
        log.info(
            "ETISplus %s: %d nodes, %d OD pairs, %.0f trucks/year",
            cc,
            len(nodes),
            len(od),
            rep["trucks_per_year"],
        )
        nodes_all.append(nodes)
        edges_all.append(edges)
        od_all.append(od)
    nodes = pd.concat(nodes_all, ignore_index=True)
    dup = nodes["node_id"].duplicated(keep=False)
    if dup.any():
        shared = nodes.loc[dup].groupby("node_id")["country"].apply(list).head(5).to_dict()
        msg = f"ETISplus node ids shared between countries (expected none): {shared}"
        raise InputDataError(msg)
    return EtisTables(
        nodes=nodes.set_index("node_id", drop=False),
        edges=pd.concat(edges_all, ignore_index=True),
        od=pd.concat(od_all, ignore_index=True),
        report=report,
    )


def growth_rate_from_speth(path: Path, node_ids: set[str], base_year: int = 2019) -> dict:
    """Compound annual truck-traffic growth 2019→2030 from the Speth et al. network flows.

    Sums ``Traffic_flow_trucks_2019`` and ``_2030`` over the edges of
    ``04_network-edges_truckflows.csv`` whose both end nodes are in ``node_ids`` and returns
    ``rate = (sum_2030 / sum_2019) ** (1 / 11) - 1``.

    Parameters
    ----------
    path
        The ``;``-separated edge flow file.
    node_ids
        ETISplus node ids (str) of the loaded countries.
    base_year
        Year of the first flow column (2019).

    Returns
    -------
    dict
        ``annual_growth`` (fraction per year), ``edges_matched``, ``trucks_2019``,
        ``trucks_2030`` (truck-edge passages per year summed over matched edges).

    Raises
    ------
    InputDataError
        If columns are missing or no edge matches the loaded countries.
    """
    try:
        df = pd.read_csv(path, sep=";", dtype={c: str for c in SPETH_EDGE_COLUMNS[:2]})
    except Exception as exc:
        msg = f"Speth edge flows {path} unreadable (expected ';'-separated CSV): {exc}"
        raise InputDataError(msg) from exc
    require_columns(df, SPETH_EDGE_COLUMNS, f"Speth edge flows {path}")
    inside = df["Network_Node_A_ID"].isin(node_ids) & df["Network_Node_B_ID"].isin(node_ids)
    s19 = float(df.loc[inside, "Traffic_flow_trucks_2019"].sum())
    s30 = float(df.loc[inside, "Traffic_flow_trucks_2030"].sum())
    if not inside.any() or s19 <= 0:
        msg = (
            f"Speth edge flows {path}: no edge with 2019 trucks joins two loaded ETISplus nodes; "
            "set flows.annual_growth explicitly"
        )
        raise InputDataError(msg)
    years = 2030 - base_year
    return {
        "annual_growth": (s30 / s19) ** (1.0 / years) - 1.0,
        "edges_matched": int(inside.sum()),
        "trucks_2019": s19,
        "trucks_2030": s30,
    }


def etisplus_road_graph(
    tables: EtisTables, crossings: pd.DataFrame | None = None
) -> nx.MultiDiGraph:
    """Build the ETISplus network of ``tables`` as a GRAPH-contract MultiDiGraph (coarse).

    Node ids are the ETISplus ids as int, ``x``/``y`` in EPSG:3035, edge ``length_m`` =
    ``distance`` × 1000, straight-line geometry. For tests, benchmarks and as a coarse fallback;
    the planning graph comes from :mod:`corridor.network`. The country networks share no node,
    so ``crossings`` (from :func:`corridor.flows.stitch.find_border_crossings`) adds a
    straight edge each way between the two nodes of every border crossing.
    """
    from shapely import LineString

    g = nx.MultiDiGraph(crs=GRAPH_CRS, source="etisplus", built_at="", build_report={})
    for r in tables.nodes.itertuples(index=False):
        g.add_node(int(r.node_id), x=r.x, y=r.y, lon=r.lon, lat=r.lat)
    xy = tables.nodes[["x", "y"]]
    for i, r in enumerate(tables.edges.itertuples(index=False)):
        (x0, y0), (x1, y1) = xy.loc[r.u].to_numpy(), xy.loc[r.v].to_numpy()
        g.add_edge(
            int(r.u),
            int(r.v),
            edge_id=f"etis-{r.country}-{i}",
            length_m=r.distance_km * 1000.0,
            highway="motorway",
            ref="",
            name="",
            speed_kph=80.0,
            travel_time_s=r.distance_km / 80.0 * 3600.0,
            country=r.country,
            geometry=LineString([(x0, y0), (x1, y1)]),
            bearing_deg=float(np.degrees(np.arctan2(x1 - x0, y1 - y0)) % 360.0),
        )
    if crossings is not None:
        for c in crossings.itertuples(index=False):
            for a, b, cc in ((c.node_a, c.node_b, c.country_a), (c.node_b, c.node_a, c.country_b)):
                (x0, y0), (x1, y1) = xy.loc[a].to_numpy(), xy.loc[b].to_numpy()
                g.add_edge(
                    int(a),
                    int(b),
                    edge_id=f"etis-border-{a}-{b}",
                    length_m=float(c.distance_km) * 1000.0,
                    highway="motorway",
                    ref="",
                    name="",
                    speed_kph=80.0,
                    travel_time_s=float(c.distance_km) / 80.0 * 3600.0,
                    country=cc,
                    geometry=LineString([(x0, y0), (x1, y1)]),
                    bearing_deg=float(np.degrees(np.arctan2(x1 - x0, y1 - y0)) % 360.0),
                )
    return g
