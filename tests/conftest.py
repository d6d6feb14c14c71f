"""Shared fixtures: the real data catalogue and one end-to-end run of the default scenario.

Tests on the real shared data (everything that uses the ``catalogue`` fixture, directly or
through another fixture) are marked ``slow``; ``pytest -m "not slow"`` runs the rest, which
needs no ``../shared/data`` (small inputs are shipped in ``tests/data``, synthetic instances
are built by ``tests/builders.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corridor.catalogue import Catalogue
from corridor.config import load_scenario
from corridor.workflows import PlanRun, run, write_run

#: Fixtures that read the real shared data.
REAL_DATA_FIXTURES = frozenset({"catalogue"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the real shared data ``slow``."""
    for item in items:
        if REAL_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The real shared data (../shared/data or CORRIDOR_DATA)."""
    return Catalogue.from_env()


@pytest.fixture(scope="session")
def bev_run(catalogue: Catalogue) -> PlanRun:
    """The default scenario (nl-de-bev-pilot) run once per test session on the real data."""
    return run(load_scenario("nl-de-bev-pilot"), catalogue)


@pytest.fixture(scope="session")
def bev_out(bev_run: PlanRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default run's output folder (plan.json, shortlist, map)."""
    out = tmp_path_factory.mktemp("plan") / "nl-de-bev-pilot"
    write_run(bev_run, out)
    return out


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Headless flags for this offline machine: no background networking, no sandbox as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (skips when it is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (Debian packages chromium, chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
