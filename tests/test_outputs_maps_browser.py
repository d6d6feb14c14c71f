"""Plan map with all layers and the coverage map render in headless Chromium (hand-made data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import Point, box
from test_assess_afir import corridor, with_power
from test_assess_coverage import X0, Y0, line_graph, routes_frame, sites_at

from corridor.assess.afir import afir_report
from corridor.assess.coverage import route_coverage
from corridor.assess.trucks import read_truck_profile
from corridor.outputs.afir import add_afir_layer
from corridor.outputs.coverage import coverage_map
from corridor.outputs.maps import (
    LEGEND_LINES,
    add_congestion_layer,
    add_pilot_corridors_layer,
    add_substations_layer,
    plan_map,
    write_map,
)

EVIL = "<img src=x onerror=alert(1)> `${alert(2)}` C:\\x"


def render_map(browser: Any, path: Path, shot: Path) -> dict:
    """Load a map in Chromium; return SVG path count, layer labels, legend and errors."""
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector(".leaflet-overlay-pane svg path", state="attached", timeout=20_000)
    info = {
        "paths": page.locator(".leaflet-overlay-pane svg path").count(),
        "labels": " ".join(
            page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        ),
        "legend": page.locator("#corridor-legend").inner_text(),
        "errors": [e for e in errors if "tile.openstreetmap" not in e and "ERR_" not in e],
        "dialogs": dialogs,
    }
    page.screenshot(path=str(shot))
    page.close()
    return info


def _plan_inputs():
    g = line_graph(length_km=300)
    rows = [
        {
            "u": u,
            "v": v,
            "key": k,
            **{c: d[c] for c in ("highway", "ref")},
            "geometry": d["geometry"],
        }
        for u, v, k, d in g.edges(keys=True, data=True)
    ]
    edges = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:3035")
    flows = edges.copy()
    flows["trucks_per_day"] = 1000.0
    flows["ze_trucks_per_day"] = 30.0
    flows["ref"] = "A1 <b onmouseover=alert(3)>"
    sites = with_power(sites_at(("e100", 100.0, -200.0, 90.0), ("w200", 200.0, 230.0, 270.0)), 4, 4)
    sites.loc["e100", "name"] = EVIL
    cand = gpd.GeoDataFrame(
        {"name": list(sites["name"]), "kind": "rest_area", "direction": list(sites["direction"])},
        geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
        index=sites.index,
        crs="EPSG:4326",
    ).to_crs("EPSG:3035")
    shortlist = gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "site_id": list(sites.index),
            "name": list(sites["name"]),
            "kind": "rest_area",
            "direction": list(sites["direction"]),
            "chargers": 4,
            "power_mw": 4.0,
            "capacity_kg_per_day": float("nan"),
            "served_trucks_per_day": [20.0, 10.0],
            "energy_mwh_per_day": [8.0, 4.0],
            "h2_kg_per_day": float("nan"),
            "congestion": ["congested", "limited"],
            "connection": ["non_firm", "firm"],
            "headroom_mw": [4.0, 10.0],
            "grid_distance_km": [1.2, 3.4],
            "substation_id": ["sub-1", "sub-2"],
            "lon": list(sites["lon"]),
            "lat": list(sites["lat"]),
        },
        geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
        crs="EPSG:4326",
    )
    areas = gpd.GeoDataFrame(
        {
            "name": ["Area <west>", "East"],
            "status": ["congested", "available"],
            "restricted_hours": ["6-9,16-21", ""],
            "source": ["Netbeheer Nederland capaciteitskaart", "test"],
            "source_date": ["2024-12", ""],
        },
        geometry=[
            box(X0, Y0 - 20e3, X0 + 150e3, Y0 + 20e3),
            box(X0 + 150e3, Y0 - 20e3, X0 + 300e3, Y0 + 20e3),
        ],
        crs="EPSG:3035",
    )
    subs = gpd.GeoDataFrame(
        {"name": ["Sub one", EVIL], "voltage_kv": [110.0, 150.0], "operator": "", "source": "t"},
        geometry=[Point(X0 + 101e3, Y0 - 3e3), Point(X0 + 199e3, Y0 + 3e3)],
        index=["sub-1", "sub-2"],
        crs="EPSG:3035",
    )
    return g, edges, flows, cand, shortlist, sites, areas, subs


def test_plan_map_with_all_layers_in_browser(chromium: Any, tmp_path: Path) -> None:
    g, edges, flows, cand, shortlist, sites, areas, subs = _plan_inputs()
    fmap = plan_map(
        edges,
        flows,
        cand,
        shortlist,
        "Test <plan>",
        "bev",
        legend_extra=tuple(LEGEND_LINES.values()),
    )
    afir = afir_report(g, [corridor(0, 300)], sites, "bev")
    add_congestion_layer(fmap, areas)
    add_substations_layer(fmap, subs, shortlist)
    add_pilot_corridors_layer(fmap, afir.corridors)
    add_afir_layer(fmap, afir)
    out = tmp_path / "map.html"
    write_map(fmap, out)
    text = out.read_text()
    assert EVIL not in text and "Test &lt;plan&gt;" in text
    assert "2024-12" in text and "Netbeheer Nederland" in text
    info = render_map(chromium, out, tmp_path / "map.png")
    assert info["errors"] == [] and info["dialogs"] == []
    for layer in (
        "Road network",
        "Truck flows",
        "Candidate sites",
        "Selected sites",
        "Grid congestion areas",
        "Substations of the selected sites",
        "Pilot corridors",
        "AFIR corridors",
    ):
        assert layer in info["labels"]
    # roads, flows, 2 areas, 2 substations, 2 corridor lines, AFIR stretches, site markers
    assert info["paths"] >= 20
    assert "grid congestion" in info["legend"] and "AFIR" in info["legend"]
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_coverage_map_in_browser(chromium: Any, tmp_path: Path) -> None:
    g = line_graph()
    sites = sites_at(("east", 300, -200, 90.0))
    cov = route_coverage(g, routes_frame(50, 650), read_truck_profile(None), sites)
    out = tmp_path / "coverage.html"
    write_map(coverage_map(cov, sites, "Firm <X> routes"), out)
    info = render_map(chromium, out, tmp_path / "coverage.png")
    assert info["errors"] == [] and info["dialogs"] == []
    assert "Routes outbound" in info["labels"] and "Routes inbound" in info["labels"]
    assert "Stops (1)" in info["labels"]
    assert info["paths"] >= 4  # two route lines, one stop, one plan site
    assert "1 of 2 route directions served" in info["legend"]
    assert "Firm <X> routes" in info["legend"]
