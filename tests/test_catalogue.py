"""Data catalogue: root resolution order and clear errors for missing data."""

from __future__ import annotations

from pathlib import Path

import pytest

from corridor.catalogue import DATASETS, Catalogue, resolve_data_root
from corridor.errors import InputDataError


def test_real_data_present(catalogue: Catalogue) -> None:
    status = dict((ds.key, ok) for ds, ok in catalogue.status())
    assert set(status) == set(DATASETS)
    assert all(status.values()), status
    assert len(catalogue.paths("osm_motorways")) >= 20


def test_flag_wins_over_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    monkeypatch.setenv("CORRIDOR_DATA", str(b))
    assert resolve_data_root(a) == a.resolve()
    assert resolve_data_root() == b.resolve()


def test_missing_root_is_clear(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"does not exist.*--data-dir"):
        resolve_data_root(tmp_path / "nope")


def test_missing_dataset_names_file_and_how_to_get_it(tmp_path: Path) -> None:
    cat = Catalogue(tmp_path)
    with pytest.raises(InputDataError, match=r"osm_motorways.*roads/osm_motorways_2021.*Geofabrik"):
        cat.paths("osm_motorways")
    with pytest.raises(InputDataError, match=r"speth_zones.*02_NUTS-3-Regions\.csv"):
        cat.path("speth_zones")
    assert not any(ok for _, ok in cat.status())


def test_default_root_is_next_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    monkeypatch.delenv("CORRIDOR_DATA", raising=False)
    monkeypatch.chdir(tmp_path / "work")
    assert resolve_data_root() == (tmp_path / "shared" / "data").resolve()


def test_installed_package_does_not_look_next_to_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import corridor.catalogue as catalogue_module

    site = tmp_path / "lib" / "site-packages"
    (site / "corridor").mkdir(parents=True)
    (tmp_path / "lib" / "shared" / "data").mkdir(parents=True)  # must not be picked
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setattr(catalogue_module, "__file__", str(site / "corridor" / "catalogue.py"))
    monkeypatch.delenv("CORRIDOR_DATA", raising=False)
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.raises(InputDataError, match=r"elsewhere/\.\./shared/data.*default ../shared/data"):
        resolve_data_root()
