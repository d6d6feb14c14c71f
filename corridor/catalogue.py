"""Data catalogue: where corridor's input data lives, where it came from and under which licence.

The data root is resolved in this order: an explicit argument (the CLI's ``--data-dir``), the
environment variable ``CORRIDOR_DATA``, then ``../shared/data`` next to the working directory or,
when run from a source checkout, next to the repository. Files are never copied: corridor reads
them where they are.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from corridor.errors import InputDataError

__all__ = ["CANDIDATE_LAYERS", "DATASETS", "Catalogue", "Dataset", "resolve_data_root"]

log = logging.getLogger(__name__)

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
FLOWS_ATTRIBUTION = (
    "Truck flows: Speth, Sauter, Plötz, Signer (2022), Synthetic European road freight transport "
    "flow data, Data in Brief (ETISplus 2019), CC BY 4.0"
)


@dataclass(frozen=True)
class Dataset:
    """One dataset the pipeline can read.

    Attributes
    ----------
    key
        Stable id used in scenarios and code.
    relpath
        Path below the data root: a file, a folder, or a glob pattern (with ``*``).
    title
        What it is.
    source
        Who made it and when.
    licence
        Licence name.
    attribution
        Text maps and reports must carry.
    how_to_obtain
        What to do when it is missing.
    """

    key: str
    relpath: str
    title: str
    source: str
    licence: str
    attribution: str
    how_to_obtain: str


_OSM_HOWTO = (
    "download a Geofabrik extract (https://download.geofabrik.de) and export motorway/trunk lines, "
    "or build the graph online in Python with corridor.network.graph_from_osmnx"
)
_ETIS_HOWTO = (
    "get the Speth et al. (2022) data set (Data in Brief, doi:10.1016/j.dib.2022.108580) and the "
    "per-country packaging of the imp-act project"
)

DATASETS: dict[str, Dataset] = {
    d.key: d
    for d in [
        Dataset(
            "osm_motorways",
            "roads/osm_motorways_2021/*.geojson",
            "OSM motorway/trunk lines per region (NL, all of DE, BE, DK)",
            "OpenStreetMap 2021-08-06 via OpenMapTiles z13 tiles",
            "ODbL",
            OSM_ATTRIBUTION,
            _OSM_HOWTO,
        ),
        Dataset(
            "amsterdam_pbf",
            "roads/amsterdam_small.osm.pbf",
            "Tiny real OSM PBF extract of Amsterdam (tests only)",
            "OpenStreetMap 2016",
            "ODbL",
            OSM_ATTRIBUTION,
            _OSM_HOWTO,
        ),
        Dataset(
            "etisplus_countries",
            "flows/etisplus_countries",
            "ETISplus 2019 truck OD tables and networks per country (trucks/year)",
            "Speth et al. 2022, packaged per country by imp-act (2025-12)",
            "CC BY 4.0",
            FLOWS_ATTRIBUTION,
            _ETIS_HOWTO,
        ),
        Dataset(
            "speth_zones",
            "flows/speth2022/02_NUTS-3-Regions.csv",
            "ETISplus NUTS-3 zones with centres and network node ids",
            "Speth et al. 2022",
            "CC BY 4.0",
            FLOWS_ATTRIBUTION,
            _ETIS_HOWTO,
        ),
        Dataset(
            "speth_edges",
            "flows/speth2022/04_network-edges_truckflows.csv",
            "ETISplus network edges with truck flows 2019 and 2030 (trucks/year)",
            "Speth et al. 2022",
            "CC BY 4.0",
            FLOWS_ATTRIBUTION,
            _ETIS_HOWTO,
        ),
        Dataset(
            "nl_truck_parking",
            "candidates/nl_truck_parking_osm.geojson",
            "Dutch truck parkings, rest areas and service areas",
            "OpenStreetMap, collected 2025-10-30",
            "ODbL",
            OSM_ATTRIBUTION,
            "query OSM (Overpass) for amenity=parking with hgv=designated and highway=rest_area/"
            "services in the Netherlands",
        ),
        Dataset(
            "rest_stops_sample",
            "candidates/rest_stops_sample/*.geojson",
            "Motorway rest areas/services with a playground (NL, DE, DK, BE), partial sample",
            "OpenStreetMap snapshot 2026-06-24",
            "ODbL",
            OSM_ATTRIBUTION,
            "query OSM (Overpass) for highway=rest_area/services",
        ),
        Dataset(
            "osm_poi_2021",
            "candidates/osm_poi_2021/*_truck_site_candidates*.geojson",
            "Truck site candidates (service/rest areas, fuel, truck parkings) NL, DE, BE, DK",
            "OpenStreetMap 2021-08-06 via OpenMapTiles z14 tiles",
            "ODbL",
            OSM_ATTRIBUTION,
            "export OSM POIs (highway=services/rest_area, amenity=fuel) from a Geofabrik extract",
        ),
        Dataset(
            "osm_poi_2021_outlines",
            "candidates/osm_poi_2021/*_service_rest_area_outlines.geojson",
            "Outlines of service and rest areas (NL, DE, BE, DK)",
            "OpenStreetMap 2021-08-06 via OpenMapTiles z14 tiles",
            "ODbL",
            OSM_ATTRIBUTION,
            "export OSM highway=services/rest_area areas from a Geofabrik extract",
        ),
        Dataset(
            "existing_charging",
            "candidates/existing_charging/*.geojson",
            "German public chargers >= 150 kW (existing high-power grid connections)",
            "Bundesnetzagentur Ladesäulenregister, Stand 01.01.2022",
            "CC BY 4.0",
            "Quelle: Bundesnetzagentur, Ladesäulenregister",
            "download the Ladesäulenregister from bundesnetzagentur.de (E-Mobilität) and keep "
            "the devices of >= 150 kW",
        ),
        Dataset(
            "de_substations",
            "grid/de_hvmv_substations_osm.gpkg",
            "German HV/MV substations (110/220/380 kV)",
            "eGon-data from OpenStreetMap (2022)",
            "ODbL",
            OSM_ATTRIBUTION,
            "export power=substation from OSM or take the eGon-data substation layer",
        ),
        Dataset(
            "power_grid_osm2016",
            "grid/power_grid_osm2016",
            "OSM transmission grid ~2016 (substations and lines) NL, DE, DK, SE",
            "Medjroubi et al., Zenodo 10.5281/zenodo.250427",
            "ODbL",
            OSM_ATTRIBUTION,
            "download SciGRID/osm2016 power grid from Zenodo 10.5281/zenodo.250427",
        ),
        Dataset(
            "nuts",
            "boundaries/NUTS_RG_60M_2021_4326_LEVL_*.geojson",
            "NUTS 2021 regions 1:60M, levels 0–3",
            "Eurostat GISCO",
            "Eurostat GISCO licence",
            "© EuroGeographics for the administrative boundaries",
            "download NUTS_RG_60M_2021_4326 from Eurostat GISCO",
        ),
        Dataset(
            "nuts_labels",
            "boundaries/NUTS_LB_2021_4326_LEVL_3.geojson",
            "NUTS 2021 level-3 label points (region names, for site names)",
            "Eurostat GISCO",
            "Eurostat GISCO licence",
            "© EuroGeographics for the administrative boundaries",
            "download NUTS_LB_2021_4326_LEVL_3 from Eurostat GISCO",
        ),
    ]
}


#: Dataset keys that are candidate-site layers (``sites.sources`` entries besides file paths).
CANDIDATE_LAYERS = ("nl_truck_parking", "rest_stops_sample", "osm_poi_2021", "existing_charging")


def _default_root() -> Path:
    """``../shared/data`` of the working directory, else of the source checkout corridor runs from.

    The checkout is only looked at when corridor is not installed from a wheel (its parent folder
    holds ``pyproject.toml``); an installed corridor has no repository next to it.
    """
    here = Path.cwd() / ".." / "shared" / "data"
    checkout = Path(__file__).resolve().parent.parent
    if here.is_dir() or not (checkout / "pyproject.toml").is_file():
        return here
    return checkout / ".." / "shared" / "data"


def resolve_data_root(data_dir: str | Path | None = None) -> Path:
    """Find the data root.

    Parameters
    ----------
    data_dir
        Explicit folder (e.g. from ``--data-dir``). Wins over everything else.

    Returns
    -------
    Path
        The data root, absolute.

    Raises
    ------
    InputDataError
        If the chosen folder does not exist.
    """
    if data_dir is not None:
        root, how = Path(data_dir), "--data-dir"
    elif os.environ.get("CORRIDOR_DATA"):
        root, how = Path(os.environ["CORRIDOR_DATA"]), "CORRIDOR_DATA"
    else:
        root = _default_root()
        how = "default ../shared/data"
    if not root.is_dir():
        msg = (
            f"data folder {root} (from {how}) does not exist; pass --data-dir DIR or set "
            "CORRIDOR_DATA to the folder holding roads/, flows/, candidates/, grid/, boundaries/"
        )
        raise InputDataError(msg)
    return root.resolve()


@dataclass(frozen=True)
class Catalogue:
    """The datasets below one data root.

    Parameters
    ----------
    root
        The data root (see :func:`resolve_data_root`).
    """

    root: Path

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None) -> Catalogue:
        """Build the catalogue for the data root found by :func:`resolve_data_root`."""
        return cls(resolve_data_root(data_dir))

    def dataset(self, key: str) -> Dataset:
        """Return the registry entry for ``key``, or raise ``InputDataError`` listing known keys."""
        try:
            return DATASETS[key]
        except KeyError:
            msg = f"unknown dataset '{key}'; known: {', '.join(DATASETS)}"
            raise InputDataError(msg) from None

    def is_present(self, key: str) -> bool:
        """Whether the dataset's file(s) exist below the root."""
        rel = self.dataset(key).relpath
        if "*" in rel:
            return any(self.root.glob(rel))
        return (self.root / rel).exists()

    def path(self, key: str) -> Path:
        """Return the file or folder of a single-path dataset.

        Raises
        ------
        InputDataError
            If it is missing: names the expected path and how to obtain it.
        """
        ds = self.dataset(key)
        if "*" in ds.relpath:
            msg = f"dataset '{key}' is a set of files; use Catalogue.paths('{key}')"
            raise InputDataError(msg)
        p = self.root / ds.relpath
        if not p.exists():
            raise InputDataError(self._missing_message(ds))
        return p

    def paths(self, key: str) -> list[Path]:
        """Return the sorted files of a dataset given by a glob pattern (or its single path).

        Files of another type in the pattern's folder (say an ``.osm.pbf`` dropped among the
        ``*.geojson`` road layers) are not read; a warning names them (see :meth:`ignored`).
        """
        ds = self.dataset(key)
        if "*" not in ds.relpath:
            return [self.path(key)]
        found = sorted(self.root.glob(ds.relpath))
        if not found:
            raise InputDataError(self._missing_message(ds))
        ignored = self.ignored(key)
        if ignored:
            log.warning(
                "dataset '%s': %d file(s) in %s not read, as they do not match %s: %s",
                key,
                len(ignored),
                found[0].parent,
                Path(ds.relpath).name,
                ", ".join(p.name for p in ignored),
            )
        return found

    def ignored(self, key: str) -> list[Path]:
        """Files beside a glob dataset's files with another file type, which it does not read.

        Only the pattern's own folder is looked at, and only files whose type (the part of the
        name from the first ``.``, e.g. ``.osm.pbf``) differs from the pattern's, so sibling
        datasets of the same type in one folder are not reported.
        """
        ds = self.dataset(key)
        pattern = Path(ds.relpath)
        folder = self.root / pattern.parent
        if "*" not in ds.relpath or "*" in str(pattern.parent) or not folder.is_dir():
            return []
        kind = pattern.name[pattern.name.rfind("*") + 1 :]
        kind = kind[kind.find(".") :] if "." in kind else kind
        return sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and not p.name.endswith(kind)
        )

    def _missing_message(self, ds: Dataset) -> str:
        return (
            f"missing dataset '{ds.key}' ({ds.title}): expected {self.root / ds.relpath}. "
            f"To obtain it: {ds.how_to_obtain}. Or point --data-dir / CORRIDOR_DATA elsewhere."
        )

    def status(self) -> list[tuple[Dataset, bool]]:
        """Each registered dataset with whether it is present."""
        return [(ds, self.is_present(ds.key)) for ds in DATASETS.values()]
