"""Checks of input tables and layers, with messages that name the input and how to fix it.

:func:`require_columns` for tables (CSV, GeoPackage, plan.json sites, frames handed between
stages), :func:`require_crs` and :func:`require_projected_crs` for coordinate reference systems.
:data:`GRAPH_CRS` is the one projected CRS (metres) the stages work in: the default of
``network.crs`` and the CRS of candidate sites, substations and congestion areas.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from corridor.errors import InputDataError

__all__ = ["GRAPH_CRS", "require_columns", "require_crs", "require_projected_crs"]

#: Projected CRS (metres) of the road graph, the sites and the grid layers (ETRS89-LAEA Europe).
GRAPH_CRS = "EPSG:3035"


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
