"""The plan map renders in a real headless Chromium with all its vector layers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed"),
    pytest.mark.xdist_group("e2e"),
]

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_plan_map_in_browser(bev_out: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = (bev_out / "map.html").read_text()
    assert "OpenStreetMap contributors" in html and "Speth" in html
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((bev_out / "map.html").as_uri(), wait_until="load")
        page.wait_for_selector(".leaflet-overlay-pane svg path", state="attached", timeout=30_000)
        n_paths = page.locator(".leaflet-overlay-pane svg path").count()
        labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        legend = page.locator("#corridor-legend").inner_text()
        page.screenshot(path=str(tmp_path / "map.png"))
        browser.close()
    # Offline, tiles fail to load; that is the only kind of console error allowed.
    real = [e for e in errors if "tile.openstreetmap" not in e and "ERR_" not in e]
    assert real == []
    assert n_paths > 100  # roads, flows and site markers are SVG paths
    joined = " ".join(labels)
    for layer in ("Road network", "Truck flows", "Candidate sites", "Selected sites"):
        assert layer in joined
    assert "OpenStreetMap" in legend
    assert (tmp_path / "map.png").stat().st_size > 10_000
