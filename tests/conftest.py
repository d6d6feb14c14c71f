"""Shared fixtures: the real data catalogue and one end-to-end run of the default scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor.catalogue import Catalogue
from corridor.config import load_scenario
from corridor.pipeline import PlanRun, run, write_run


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
