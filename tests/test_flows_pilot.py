"""Tests of corridor.flows: zero-emission shares, pilot-fleet mode, exclusions of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from corridor._files import DATA_DIR
from corridor.catalogue import Catalogue
from corridor.config import FlowsConfig, PilotFleetConfig, load_scenario
from corridor.errors import InputDataError
from corridor.flows import (
    EtisTables,
    RoutingGraph,
    allocate_trucks,
    assign_flows,
    build_flows,
    etisplus_road_graph,
    find_border_crossings,
    load_etisplus,
    pilot_flows,
    read_pilot_routes,
    read_ze_shares,
    resolve_ze_share,
    ze_share,
)

# ---------------------------------------------------------------- zero-emission shares


def test_ze_share_table_interpolates_and_documents_assumptions():
    t = read_ze_shares()
    assert {"bev", "h2"} <= set(t["technology"])
    assert t["source"].str.len().gt(10).all()
    assert ze_share("bev", 2027, t) == pytest.approx(0.03)
    # linear between 2027 (0.03) and 2030 (0.08)
    assert ze_share("bev", 2028, t) == pytest.approx(0.03 + (0.08 - 0.03) / 3)
    assert ze_share("h2", 2027, t) == pytest.approx(0.01)
    for tech in ("bev", "h2"):
        s = t[t["technology"] == tech].sort_values("year")["share"]
        assert s.is_monotonic_increasing
    with pytest.raises(InputDataError, match="outside the zero-emission share table"):
        ze_share("bev", 2060, t)
    with pytest.raises(InputDataError, match="no zero-emission shares for technology 'diesel'"):
        ze_share("diesel", 2030, t)


def test_bad_ze_share_table(tmp_path):
    p = tmp_path / "z.csv"
    p.write_text("technology,year,share,source\nbev,2030,1.4,x\n")
    with pytest.raises(InputDataError, match=r"within 0..1 at line\(s\) \[2\]"):
        read_ze_shares(p)


def test_config_share_explicit_or_from_table():
    assert resolve_ze_share(FlowsConfig(zero_emission_share=0.2))[0] == 0.2
    share, src = resolve_ze_share(FlowsConfig(technology="h2", target_year=2030))
    assert share == pytest.approx(0.02) and "ze_shares.csv" in src
    # the built-in scenario files still set the share explicitly
    for name, want in (("nl-de-bev-pilot", 0.03), ("nl-de-scandinavia-h2-pilot", 0.01)):
        assert resolve_ze_share(load_scenario(name).flows) == (want, "config.zero_emission_share")
    # a labelled share carries its source; nl-rest-areas-2030 takes the table's 2030 value
    share, src = resolve_ze_share(load_scenario("de-national-2030").flows)
    assert share == 0.15 and src.startswith("config.zero_emission_share: ASSUMPTION")
    share, src = resolve_ze_share(load_scenario("nl-rest-areas-2030").flows)
    assert share == pytest.approx(0.08) and "ze_shares.csv (bev, 2030)" in src


# ---------------------------------------------------------------- pilot fleet


def test_allocate_trucks_exact_total_and_deterministic():
    w = np.array([30.0, 15.0, 25.0, 1.0, 0.0])
    a = allocate_trucks(w, 250)
    assert a.sum() == 250 and (a >= 1).all()
    assert a.tolist() == allocate_trucks(w, 250).tolist()
    assert a[0] > a[2] > a[1] > a[3] >= a[4]
    with pytest.raises(InputDataError, match="cannot cover 5 routes"):
        allocate_trucks(w, 4)


def test_curated_pilot_routes():
    r = read_pilot_routes(PilotFleetConfig().routes_file)
    assert r["firm"].nunique() >= 10 and len(r) >= 10
    assert r["both_directions"].all()
    # all ends lie in NL or DE (rough lon/lat box); NL origins (west of the border), DE ends
    for end in ("origin", "destination"):
        assert r[f"{end}_lon"].between(3.3, 15.1).all() and r[f"{end}_lat"].between(50.7, 55).all()
    assert (r["origin_lon"] < 7.0).all() and (r["destination_lon"] > 6.2).all()


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.drop(columns="trips_per_day"), r"lacks column\(s\) \['trips_per_day'\]"),
        (lambda d: d.assign(trucks=[-1] + [5] * (len(d) - 1)), r"'trucks'.*line\(s\) \[2\]"),
        (lambda d: d.assign(origin_lat=[95.0] * len(d)), r"'origin_lon'/'origin_lat'"),
        (lambda d: d.assign(both_directions="maybe"), "'both_directions' must be true or false"),
        (lambda d: pd.concat([d, d.iloc[:1]]), "duplicate 'route_id'"),
        (
            lambda d: d.assign(destination_chargng="true"),
            r"unknown column\(s\) \['destination_chargng'\].*optionally corridor, "
            "destination_charging",
        ),
        (lambda d: d.assign(route_id=["", *d["route_id"][1:]]), r"empty 'route_id'.*\[2\]"),
        (
            lambda d: d.assign(trucks=["2,5", *d["trucks"][1:]]),
            r"'trucks' must be .*\[2\]; a decimal comma needs a ';'-separated file",
        ),
        (
            lambda d: d.assign(destination_lon=d["origin_lon"], destination_lat=d["origin_lat"]),
            "origin and destination are the same point",
        ),
    ],
)
def test_bad_pilot_routes(tmp_path, edit, match):
    d = pd.read_csv(DATA_DIR / PilotFleetConfig().routes_file)
    p = tmp_path / "routes.csv"
    edit(d).to_csv(p, index=False)
    with pytest.raises(InputDataError, match=match):
        read_pilot_routes(p)
    with pytest.raises(InputDataError, match="not found"):
        read_pilot_routes(tmp_path / "nope.csv")


@pytest.fixture(scope="module")
def etis_tables(catalogue: Catalogue) -> EtisTables:
    return load_etisplus(catalogue, ("NL", "DE"))


@pytest.fixture(scope="module")
def etis_graph(etis_tables):
    return etisplus_road_graph(etis_tables, find_border_crossings(etis_tables, 25.0))


def test_pilot_flows_both_directions_all_trucks(etis_graph):
    cfg = FlowsConfig(pilot_fleet=PilotFleetConfig(trucks=260, firms=10), target_year=2027)
    fs = pilot_flows(etis_graph, cfg)
    od = fs.od
    assert (od["source"] == "pilot").all() and od["od_id"].is_unique
    assert od.drop_duplicates("route_id")["trucks"].sum() == 260
    assert od["firm"].nunique() >= 10
    assert fs.report["pilot"]["excluded_pilot_off_graph"] == 0 and fs.excluded.empty
    out = od[od["od_id"].str.endswith("-out")].set_index("route_id")
    back = od[od["od_id"].str.endswith("-back")].set_index("route_id")
    assert set(out.index) == set(back.index)
    assert (out["origin_node"] == back.loc[out.index, "destination_node"]).all()
    assert {"NL;DE", "DE;NL"} <= set(od["countries"])
    for r in od.itertuples():
        assert r.path[0] == r.origin_node and r.path[-1] == r.destination_node
    assert od["ze_trucks_per_day"].tolist() == od["trucks_per_day"].tolist()
    assert fs.edge_volumes["trucks_per_day"].max() <= od["trucks_per_day"].sum()
    # no charging at the destination: each truck drives out from its depot and back
    assert (out["return_od_id"] == "pilot-" + out.index + "-back").all()
    assert (back["return_od_id"] == "").all()
    with pytest.raises(InputDataError, match=r"fewer than flows\.pilot_fleet\.firms = 40"):
        pilot_flows(etis_graph, FlowsConfig(pilot_fleet=PilotFleetConfig(firms=40)))


def test_a_fleet_too_small_or_without_weights_names_the_key_and_file(tmp_path):
    from corridor.flows.pilot import pilot_od

    routes = read_pilot_routes(PilotFleetConfig().routes_file)
    with pytest.raises(InputDataError, match=r"flows.pilot_fleet.trucks = 5 cannot cover .*\.csv"):
        pilot_od(routes, PilotFleetConfig(trucks=5, firms=1))
    with pytest.raises(InputDataError, match=r"pilot_routes\.csv: every route's 'trucks' is 0"):
        pilot_od(routes.assign(trucks=0.0), PilotFleetConfig(firms=1))


def test_destination_charging_makes_two_one_way_trips(tmp_path):
    from corridor.flows.pilot import pilot_od

    d = pd.read_csv(DATA_DIR / PilotFleetConfig().routes_file).head(3)
    d["destination_charging"] = ["true", "", "no"]
    p = tmp_path / "routes.csv"
    d.to_csv(p, index=False)
    routes = read_pilot_routes(p)
    assert routes["destination_charging"].tolist() == [True, False, False]
    od = pilot_od(routes, PilotFleetConfig(trucks=30, firms=1)).set_index("od_id")
    first, second = (f"pilot-{r}" for r in d["route_id"].head(2))
    assert od.at[f"{first}-out", "return_od_id"] == ""
    assert od.at[f"{second}-out", "return_od_id"] == f"{second}-back"
    d["destination_charging"] = ["sometimes", "", ""]
    d.to_csv(p, index=False)
    with pytest.raises(InputDataError, match=r"'destination_charging' must be true.*\[2\]"):
        read_pilot_routes(p)


def test_build_flows_adds_pilot_to_etisplus(etis_graph, catalogue):
    cfg = FlowsConfig(
        annual_growth=0.0,
        min_trucks_per_day=20.0,
        zero_emission_share=0.1,
        pilot_fleet=PilotFleetConfig(),
    )
    fs = build_flows(etis_graph, catalogue, cfg)
    od = fs.od
    assert set(od["source"]) == {"etisplus", "pilot"}
    assert (od.loc[od["source"] == "etisplus", "firm"] == "").all()
    pilot = od[od["source"] == "pilot"]
    assert pilot["firm"].nunique() >= 10
    assert fs.report["pilot"]["trucks"] == 250
    # edge volumes carry both: truck-km on edges = truck-km of all paths (ETISplus + pilot)
    lengths = {(u, v, k): d["length_m"] for u, v, k, d in etis_graph.edges(keys=True, data=True)}
    ev = fs.edge_volumes
    edge_tkm = sum(
        t * lengths[(u, v, k)] / 1000
        for u, v, k, t in ev[["u", "v", "key", "ze_trucks_per_day"]].itertuples(index=False)
    )
    assert edge_tkm == pytest.approx((od["ze_trucks_per_day"] * od["path_length_km"]).sum())
    assert not ev.duplicated(["u", "v", "key"]).any()


# ---------------------------------------------------------------- zones outside the region


def test_zones_outside_graph_region_are_counted_exclusions(etis_tables, etis_graph):
    # a graph of the Dutch ETISplus network only: German zones are outside its region
    nl = [int(n) for n in etis_tables.nodes.index[etis_tables.nodes["country"] == "NL"]]
    g = etis_graph.subgraph(nl).copy()
    rg = RoutingGraph.from_graph(g)
    od = etis_tables.od[etis_tables.od["country"] == "DE"].head(300)
    od = od.assign(trucks_per_day=od["trucks_per_year"] / 300, ze_trucks_per_day=0.0)
    for clip in (False, True):
        cfg = FlowsConfig(clip_to_graph=clip, max_connector_km=10.0)
        routed, _, ex, rep = assign_flows(rg, etis_tables, od, cfg)
        assert rep["od_with_end_off_graph"] > 0
        # every input OD is either routed or an excluded row with a reason, counted in the report
        assert len(routed) + len(ex) == len(od)
        assert routed["trucks_per_day"].sum() + ex["trucks_per_day"].sum() == pytest.approx(
            od["trucks_per_day"].sum()
        )
        counted = sum(v for k, v in rep.items() if k.startswith("excluded_") and "trucks" not in k)
        assert counted == len(ex)
        reasons = set(ex["reason"])
        assert reasons <= {
            "route_outside_region",
            "origin_off_graph",
            "destination_off_graph",
            "same_graph_node",
        }
        if not clip:
            assert {"origin_off_graph", "destination_off_graph"} & reasons
