"""Checks of input tables and layers, with messages that name the input and how to fix it.

:func:`require_columns` for tables (CSV, GeoPackage, plan.json sites, frames handed between
stages), :func:`require_crs` and :func:`require_projected_crs` for coordinate reference systems,
:func:`require_finite` for numbers, and the one plausibility rule for points
(:func:`check_points_near` with a :class:`Region`: route ends, site lists, pilot routes and
capacity-table points must lie near the loaded road graph or grid). :data:`GRAPH_CRS` is the
one projected CRS (metres) the stages work in: the default of
``network.crs`` and the CRS of candidate sites, substations and congestion areas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from corridor.errors import InputDataError

__all__ = [
    "GRAPH_CRS",
    "MAX_POINT_KM",
    "Region",
    "check_points_near",
    "require_columns",
    "require_crs",
    "require_finite",
    "require_projected_crs",
]

#: Projected CRS (metres) of the road graph, the sites and the grid layers (ETRS89-LAEA Europe).
GRAPH_CRS = "EPSG:3035"

#: Default of the plausibility rule: a user point farther than this (km) from the loaded road
#: graph or grid is an error (:func:`check_points_near`).
MAX_POINT_KM = 25.0

_EARTH_KM = 6371.0088


def require_columns(frame: Any, columns: Iterable[str], what: str, *, hint: str = "") -> None:
    """Raise unless ``frame`` has all ``columns``.

    Parameters
    ----------
    frame
        A DataFrame (anything with ``.columns``).
    columns
        The columns needed, in the order to report them.
    what
        The file or table, for the message (e.g. ``"pilot routes file data/x.csv"``).
    hint
        Appended to the message: how to fix it.

    Raises
    ------
    InputDataError
        ``"<what> lacks column(s) [...]; expected [...]; found [...]"``.
    """
    need = list(columns)
    present = [str(c) for c in frame.columns]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        msg = f"{what} lacks column(s) {missing}; expected {need}; found {present}"
        raise InputDataError(msg + (f". {hint}" if hint else ""))


def _crs(crs: Any, what: str) -> CRS:
    try:
        return CRS.from_user_input(crs)
    except CRSError as exc:
        msg = f"{what} has an unknown CRS {crs!r}: {exc}"
        raise InputDataError(msg) from None


def require_crs(crs: Any, expected: str, what: str, *, hint: str = "") -> None:
    """Raise unless ``crs`` (a CRS, string or None) is ``expected``.

    Raises
    ------
    InputDataError
        ``"<what> has no CRS; expected <expected>"`` or ``"<what> is in <crs>; expected
        <expected> (metres)"``, followed by ``hint``.
    """
    tail = f". {hint}" if hint else ""
    if crs is None:
        msg = f"{what} has no CRS; expected {expected}{tail}"
        raise InputDataError(msg)
    if _crs(crs, what) != _crs(expected, "expected CRS"):
        msg = f"{what} is in {crs}; expected {expected} (metres){tail}"
        raise InputDataError(msg)


def require_projected_crs(crs: Any, what: str) -> None:
    """Raise unless ``crs`` is a projected CRS in metres (distances are computed in it).

    Raises
    ------
    InputDataError
        If ``crs`` is None, unknown, geographic (degrees) or projected in other units.
    """
    if crs is None:
        msg = f"{what} has no CRS; expected a projected CRS in metres (e.g. {GRAPH_CRS})"
        raise InputDataError(msg)
    c = _crs(crs, what)
    units = {a.unit_name for a in c.axis_info}
    if not c.is_projected or units - {"metre"}:
        msg = (
            f"{what} {crs} is not a projected CRS in metres (units {sorted(units)}); "
            f"use one such as {GRAPH_CRS}"
        )
        raise InputDataError(msg)


def require_finite(
    value: Any,
    what: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """Return ``value`` as a float, or raise unless it is a finite number within the bounds.

    Parameters
    ----------
    value
        The number (or text holding one).
    what
        Where it comes from, for the message (e.g. ``"truck profile x.toml: battery_kwh"`` or
        ``"sites.csv, row 3, column power_mw"``).
    low, high
        Inclusive bounds (``low`` exclusive when ``low_open``); ``None``: unbounded.
    low_open
        Make ``low`` an exclusive bound (``value > low``), e.g. for sizes that must be positive.

    Returns
    -------
    float
        ``value`` as a finite float within the bounds.

    Raises
    ------
    InputDataError
        ``"<what> must be a finite number [> low] [<= high], got <value>"``.
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    ok = math.isfinite(x)
    if ok and low is not None:
        ok = x > low if low_open else x >= low
    if ok and high is not None:
        ok = x <= high
    if not ok:
        rng = []
        if low is not None:
            rng.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None:
            rng.append(f"<= {high:g}")
        msg = (
            f"{what} must be a finite number{' ' + ' and '.join(rng) if rng else ''}, got {value!r}"
        )
        raise InputDataError(msg)
    return x


def _unit_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


@dataclass(frozen=True)
class Region:
    """The area of loaded data user points must lie near: a name and reference points (degrees).

    Build it from the graph's nodes (:meth:`from_graph`), a layer's points (:meth:`from_xy`) or
    lon/lat arrays directly; :func:`check_points_near` measures great-circle distances (km) to
    the nearest reference point.

    Attributes
    ----------
    name
        What the region is, for messages (e.g. ``"road graph of nl-de-bev-pilot (NL, DE)"``).
    lon, lat
        Reference points in degrees (WGS84).
    """

    name: str
    lon: np.ndarray
    lat: np.ndarray
    _tree: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        from scipy.spatial import cKDTree

        lon = np.asarray(self.lon, dtype=float)
        lat = np.asarray(self.lat, dtype=float)
        ok = np.isfinite(lon) & np.isfinite(lat)
        object.__setattr__(self, "lon", lon[ok])
        object.__setattr__(self, "lat", lat[ok])
        if not ok.any():
            msg = f"{self.name} has no points"
            raise InputDataError(msg)
        object.__setattr__(self, "_tree", cKDTree(_unit_xyz(lon[ok], lat[ok])))

    @classmethod
    def from_xy(cls, x: Any, y: Any, crs: Any, name: str) -> Region:
        """Build a region from projected (or lon/lat) coordinates ``x``, ``y`` in ``crs``."""
        to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon, lat = to_ll.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return cls(name, np.asarray(lon), np.asarray(lat))

    @classmethod
    def from_graph(cls, G: Any, name: str | None = None) -> Region:
        """Build the region of a road graph's nodes (``x``, ``y`` in ``G.graph['crs']``); cached.

        ``name`` defaults to ``"road graph of <region>"`` from the graph's ``source``.
        """
        if name is None:
            src = str(G.graph.get("source", "")).split(":", 1)[-1]
            name = f"road graph of {src}" if src else "road graph"
        cached = G.graph.get("_region")
        if isinstance(cached, Region) and cached.name == name:
            return cached
        xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float)
        xy = xy.reshape(-1, 2)
        region = cls.from_xy(xy[:, 0], xy[:, 1], G.graph.get("crs", GRAPH_CRS), name)
        G.graph["_region"] = region
        return region

    def bounds(self) -> tuple[float, float, float, float]:
        """``(lon_min, lat_min, lon_max, lat_max)`` of the reference points."""
        return (
            float(self.lon.min()),
            float(self.lat.min()),
            float(self.lon.max()),
            float(self.lat.max()),
        )

    def distance_km(self, lon: Any, lat: Any) -> np.ndarray:
        """Great-circle distance (km) of each point to the nearest reference point."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        chord, _ = self._tree.query(_unit_xyz(lon, lat))
        return 2.0 * _EARTH_KM * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def check_points_near(
    lon: Any,
    lat: Any,
    region: Region,
    max_km: float = MAX_POINT_KM,
    what: str | Sequence[str] = "point",
) -> np.ndarray:
    """Check user points: each must lie within ``max_km`` of ``region``.

    Parameters
    ----------
    lon, lat
        One point or arrays of points, in degrees.
    region
        The loaded road graph or grid (:class:`Region`).
    max_km
        Largest accepted distance (km) to the nearest point of the region.
    what
        Names of the points for the message: one string for all (e.g. ``"--from"``) or one per
        point (e.g. ``"sites.csv, row 3 (site 'venlo')"``).

    Returns
    -------
    numpy.ndarray
        Distances (km) of the points to the region.

    Raises
    ------
    InputDataError
        For the first point that is not finite or farther than ``max_km``: names the point, its
        coordinates and distance, the region with its extent, and says so when swapping longitude
        and latitude would put the point inside.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    names = [what] * len(lon) if isinstance(what, str) else list(what)
    finite = np.isfinite(lon) & np.isfinite(lat)
    if not finite.all():
        k = int(np.flatnonzero(~finite)[0])
        msg = f"{names[k]}: coordinate ({lon[k]}, {lat[k]}) is not a finite lon/lat in degrees"
        raise InputDataError(msg)
    if not len(lon):
        return np.empty(0)
    d = region.distance_km(lon, lat)
    far = np.flatnonzero(d > max_km)
    if len(far):
        k = int(far[0])
        x0, y0, x1, y1 = region.bounds()
        msg = (
            f"{names[k]}: point lon {lon[k]:.4f}, lat {lat[k]:.4f} is {d[k]:,.0f} km from the "
            f"{region.name} (lon {x0:.1f}..{x1:.1f}, lat {y0:.1f}..{y1:.1f}); at most "
            f"{max_km:g} km is accepted"
        )
        swapped = float(region.distance_km(lat[k], lon[k])[0]) if abs(lon[k]) <= 90 else math.inf
        if swapped <= max_km:
            msg += (
                f"; with longitude and latitude swapped (lon {lat[k]:.4f}, lat {lon[k]:.4f}) it "
                f"would be {swapped:,.1f} km away: are they swapped? (give longitude first)"
            )
        else:
            msg += "; give a point inside the region or use a scenario whose data covers it"
        raise InputDataError(msg)
    return d
