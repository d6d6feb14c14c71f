"""Packaging: a wheel built from the repository carries the shipped data folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Files that corridor reads from its own data folder at run time.
SHIPPED = (
    "corridor/data/scenarios/nl-de-bev-pilot.toml",
    "corridor/data/scenarios/nl-de-scandinavia-h2-pilot.toml",
    "corridor/data/trucks/mcs-600kwh.toml",
    "corridor/data/trucks/ccs-540kwh.toml",
    "corridor/data/trucks/h2-80kg.toml",
    "corridor/data/gazetteer.csv",
    "corridor/data/corridors.toml",
    "corridor/data/afir_corridors.toml",
    "corridor/data/flows/ze_shares.csv",
    "corridor/data/flows/pilot_routes.csv",
    "corridor/data/grid/nl_congestion_provinces.csv",
    "corridor/data/grid/truck_charging_profile.csv",
    "corridor/data/examples/nl_voedingsgebieden_FICTITIOUS.csv",
    "corridor/data/examples/nl_voedingsgebieden_FICTITIOUS.geojson",
    "corridor/outputs/static/leaflet/leaflet.js",
)


@pytest.mark.slow
def test_wheel_ships_the_data_folder(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    # Build from a copy: setuptools' build/ folder in the work tree could hold stale files.
    src = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "corridor", src / "corridor", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    proc = subprocess.run(
        [*pip, "-w", str(dist), str(src)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = dist.glob("corridor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in SHIPPED if f not in names]
    assert not missing, f"not in {wheel.name}: {missing}"
    shipped_scenarios = {n for n in names if n.startswith("corridor/data/scenarios/")}
    in_repo = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "corridor/data/scenarios").glob("*.toml")
    }
    assert shipped_scenarios == in_repo


def test_version_comes_from_the_package_metadata() -> None:
    import tomllib
    from importlib.metadata import version

    import corridor

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert corridor.__version__ == version("corridor") == project["version"]
