"""The default run's plan map renders in a real headless Chromium with all its vector layers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_outputs_maps_browser import render_map

#: End-to-end on the real data: plans the default scenario once per session.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def test_plan_map_in_browser(chromium: Any, bev_out: Path, tmp_path: Path) -> None:
    html = (bev_out / "map.html").read_text()
    assert "OpenStreetMap contributors" in html and "Speth" in html
    assert "<script src=" not in html  # self-contained: Leaflet is inlined
    info = render_map(chromium, bev_out / "map.html", tmp_path / "map.png")
    # Offline, tiles fail to load; that is the only kind of console error allowed.
    assert info["errors"] == []
    assert info["paths"] > 100  # roads, flows and site markers are SVG paths
    for layer in ("Road network", "Truck flows", "Candidate sites", "Selected sites"):
        assert layer in info["labels"]
    assert "OpenStreetMap" in info["legend"]
    assert (tmp_path / "map.png").stat().st_size > 10_000
