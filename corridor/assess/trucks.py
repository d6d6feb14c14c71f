"""Truck profiles: shipped TOML files in ``corridor/data/trucks/`` (with sources) or a user's file.

A profile file has a ``[meta]`` table (``name``, ``description``, ``sources``, and
``max_charge_power_kw`` for battery trucks or ``h2_fill_kg_per_min`` for hydrogen trucks) and a
``[vehicle]`` table holding exactly the fields of :class:`corridor.config.VehicleConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from corridor._files import DATA_DIR, read_toml
from corridor._validate import require_finite
from corridor.config import VehicleConfig
from corridor.errors import InputDataError

__all__ = [
    "DEFAULT_TRUCK_PROFILE",
    "TRUCK_DIR",
    "TruckProfile",
    "load_truck_profile",
    "read_truck_profile",
    "truck_profiles",
]

#: Folder of the shipped truck profiles.
TRUCK_DIR = DATA_DIR / "trucks"
#: Profile used when none is given: a 600+ kWh MCS long-haul tractor.
DEFAULT_TRUCK_PROFILE = "mcs-600kwh"
_META_KEYS = {"name", "description", "sources", "max_charge_power_kw", "h2_fill_kg_per_min"}


@dataclass(frozen=True)
class TruckProfile:
    """A truck profile: the vehicle model and what the route simulation needs beyond it.

    Attributes
    ----------
    name
        Profile id (file stem for shipped ones).
    description
        One line.
    vehicle
        The vehicle as :class:`~corridor.config.VehicleConfig`.
    max_charge_power_kw
        Highest charging power the truck accepts (kW); ``inf`` if not stated (bev only).
    h2_fill_kg_per_min
        Hydrogen fill rate (kg/min) (h2 only; NaN for bev).
    sources
        Where the figures come from.
    """

    name: str
    description: str
    vehicle: VehicleConfig
    max_charge_power_kw: float
    h2_fill_kg_per_min: float
    sources: tuple[str, ...]


def truck_profiles() -> dict[str, Path]:
    """Shipped truck profiles by name."""
    return {p.stem: p for p in sorted(TRUCK_DIR.glob("*.toml"))}


def read_truck_profile(name_or_path: str | Path | None = None) -> TruckProfile:
    """Read a shipped profile by name or a user's TOML file.

    Parameters
    ----------
    name_or_path
        A shipped profile name (see :func:`truck_profiles`), a ``.toml`` path, or ``None`` for
        :data:`DEFAULT_TRUCK_PROFILE`.

    Returns
    -------
    TruckProfile

    Raises
    ------
    InputDataError
        If the name is unknown, the file is missing or not TOML, or a value is invalid (the
        message names the file and key).
    """
    shipped = truck_profiles()
    key = DEFAULT_TRUCK_PROFILE if name_or_path is None else str(name_or_path)
    if key in shipped:
        path = shipped[key]
    else:
        path = Path(key)
        if not path.is_file():
            msg = (
                f"unknown truck profile '{key}': not a shipped profile "
                f"({', '.join(shipped)}) and no such file"
            )
            raise InputDataError(msg)
    raw = read_toml(path, "truck profile")
    meta = raw.get("meta", {})
    unknown = set(raw) - {"meta", "vehicle"} | set(meta) - _META_KEYS
    if unknown:
        msg = (
            f"truck profile {path}: unknown keys {sorted(unknown)}; expected tables [meta] "
            f"({', '.join(sorted(_META_KEYS))}) and [vehicle] "
            f"({', '.join(VehicleConfig.model_fields)})"
        )
        raise InputDataError(msg)
    try:
        vehicle = VehicleConfig(**raw.get("vehicle", {}))
    except ValidationError as exc:
        errs = "; ".join(
            f"vehicle.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        msg = f"truck profile {path}: {errs}"
        raise InputDataError(msg) from None
    max_kw = math.inf
    if "max_charge_power_kw" in meta:
        max_kw = require_finite(
            meta["max_charge_power_kw"],
            f"truck profile {path}: meta.max_charge_power_kw (kW)",
            low=0,
            low_open=True,
        )
    fill = 5.0  # kg/min: a conservative 700 bar heavy-duty fill when none is stated
    if "h2_fill_kg_per_min" in meta:
        fill = require_finite(
            meta["h2_fill_kg_per_min"],
            f"truck profile {path}: meta.h2_fill_kg_per_min (kg/min)",
            low=0,
            low_open=True,
        )
    return TruckProfile(
        name=str(meta.get("name", path.stem)),
        description=str(meta.get("description", "")),
        vehicle=vehicle,
        max_charge_power_kw=max_kw,
        h2_fill_kg_per_min=fill,
        sources=tuple(str(s) for s in meta.get("sources", ())),
    )


def load_truck_profile(name_or_path: str | Path | None = None) -> VehicleConfig:
    """Load a truck profile's vehicle (see :func:`read_truck_profile`)."""
    return read_truck_profile(name_or_path).vehicle
