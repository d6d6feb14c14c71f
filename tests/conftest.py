"""Shared fixtures: the real data catalogue."""

from __future__ import annotations

import pytest

from corridor.catalogue import Catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The real shared data (../shared/data or CORRIDOR_DATA)."""
    return Catalogue.from_env()
