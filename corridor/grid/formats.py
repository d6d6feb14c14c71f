"""Column layouts of grid operators' capacity tables, mapped onto corridor's own columns.

:func:`read_table_file` reads a CSV (the one place a capacity table's text is parsed) and
:func:`canonical_columns` renames and converts the columns of any of these layouts:

corridor's own
    ``area_id``, ``substation_id``, ``lon``, ``lat``, ``name``, ``status``,
    ``offtake_capacity_mw``, ``queue_mw`` (also ``available_mw`` / ``requested_mw``),
    ``restricted_hours``, ``source``, ``source_date`` (see :mod:`corridor.grid.areas`).

The Dutch capacity map's supply-area table (Netbeheer Nederland, *capaciteitskaart*, one row per
``voedingsgebied``; ``;``-separated, decimal comma, MW), column by column:

====================================================  ==============================================
Dutch column                                          corridor
====================================================  ==============================================
``Voedingsgebied ID`` (also ``voedingsgebied_id``)    ``area_id``: joined to the area polygons
                                                      (``capacity_areas``) by this id
``Voedingsgebied`` / ``Naam``                         ``name``
``Netbeheerder``                                      ``source`` (the operator)
``Provincie``                                         ``province`` (read, not used)
``Jaar`` / ``Peildatum``                              ``source_date``
``Beschikbare transportcapaciteit afname (MW)``       ``offtake_capacity_mw``
``Benodigde transportcapaciteit afname (MW)``         ``required_mw`` (read, not used in the
                                                      headroom)
``Wachtrij afname (MW)``                              ``queue_mw``
``Aantal aanvragen``                                  ``requests`` (read, not used)
``Status``                                            ``status`` (``beschikbaar`` → available,
                                                      ``beperkt`` → limited, ``congestie`` →
                                                      congested, ``onbekend`` → unknown)
``Beperkte uren``                                     ``restricted_hours``
====================================================  ==============================================

A German operator's table of ``Netzanschlusskapazität`` per substation (``Umspannwerk``):
``Umspannwerk`` → ``name`` (and, without an id column, the substation's id), ``Umspannwerk ID``
→ ``substation_id``, ``Netzanschlusskapazität`` → ``offtake_capacity_mw``, ``Warteschlange`` →
``queue_mw``, ``Längengrad`` / ``Breitengrad`` → ``lon`` / ``lat``, ``Netzbetreiber`` →
``source``, ``Stand`` → ``source_date``, ``Spannungsebene`` → ``voltage_level`` (read, not used).

Units: a column name may end in a unit, ``_mw`` / ``_kw`` or ``(MW)`` / ``[kW]``; kW are divided
by 1,000. A column without a unit (``Netzanschlusskapazität``) takes it from a ``unit`` column
(``Einheit``, ``Eenheid``; per row ``MW`` or ``kW``); without either it is an error. Names are
matched ignoring case, spaces, ``-`` / ``_`` and umlauts (``ä`` = ``ae``). Any other column is an
error naming it and the known ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from corridor.errors import InputDataError

__all__ = [
    "ALIASES",
    "INFO_COLUMNS",
    "MW_QUANTITIES",
    "canonical_columns",
    "normalise_name",
    "read_table_file",
]

#: Quantities in MW after conversion (corridor's column is ``<name>_mw``).
MW_QUANTITIES = ("offtake_capacity", "queue", "required")
#: Columns read and kept for information only.
INFO_COLUMNS = ("province", "requests", "voltage_level")

#: Normalised column name (without unit) → corridor's name (a quantity of :data:`MW_QUANTITIES`
#: gets ``_mw`` appended after the unit conversion).
ALIASES: dict[str, str] = {
    # corridor's own
    "area_id": "area_id",
    "substation_id": "substation_id",
    "lon": "lon",
    "lat": "lat",
    "name": "name",
    "status": "status",
    "offtake_capacity": "offtake_capacity",
    "available": "offtake_capacity",
    "queue": "queue",
    "requested": "queue",
    "required": "required",
    "restricted_hours": "restricted_hours",
    "source": "source",
    "source_date": "source_date",
    "unit": "unit",
    "province": "province",
    "requests": "requests",
    "voltage_level": "voltage_level",
    # the Dutch capacity map (voedingsgebieden)
    "voedingsgebied_id": "area_id",
    "voedingsgebiedid": "area_id",
    "voedingsgebied": "name",
    "naam": "name",
    "netbeheerder": "source",
    "provincie": "province",
    "jaar": "source_date",
    "peildatum": "source_date",
    "beschikbare_transportcapaciteit_afname": "offtake_capacity",
    "benodigde_transportcapaciteit_afname": "required",
    "wachtrij_afname": "queue",
    "aantal_aanvragen": "requests",
    "beperkte_uren": "restricted_hours",
    "eenheid": "unit",
    # German operators (Netzanschlusskapazität per Umspannwerk)
    "umspannwerk": "name",
    "umspannwerk_id": "substation_id",
    "netzanschlusskapazitaet": "offtake_capacity",
    "netzanschlusskapazitaet_bezug": "offtake_capacity",
    "warteschlange": "queue",
    "laengengrad": "lon",
    "breitengrad": "lat",
    "netzbetreiber": "source",
    "stand": "source_date",
    "spannungsebene": "voltage_level",
    "einheit": "unit",
}

_STATUS_WORDS = {
    "beschikbaar": "available",
    "beperkt": "limited",
    "congestie": "congested",
    "onbekend": "unknown",
    "verfügbar": "available",
    "verfuegbar": "available",
    "eingeschränkt": "limited",
    "engpass": "congested",
    "unbekannt": "unknown",
}
_UNITS = {"mw": 1.0, "kw": 1e-3}


def normalise_name(name: str) -> tuple[str, str | None]:
    """``"Wachtrij afname (MW)"`` → ``("wachtrij_afname", "mw")``; the unit is None if absent."""
    text = str(name).strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    unit = None
    m = re.search(r"[\(\[]\s*(mw|kw)\s*[\)\]]\s*$", text)
    if m:
        unit, text = m.group(1), text[: m.start()]
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if unit is None:
        m = re.search(r"_(mw|kw)$", text)
        if m and text[: m.start()] in ALIASES:
            unit, text = m.group(1), text[: m.start()]
    return text, unit


_ONE_GROUP = re.compile(r"^[+-]?[1-9]\d{0,2}\.\d{3}$")  # 1.500: 1.5 or 1500?
_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3}){2,}$")  # 1.500.000: thousands only
_POINT = re.compile(r"^[+-]?\d*\.\d+$")


def read_table_file(path: Path) -> tuple[pd.DataFrame, str]:
    """Read a capacity table CSV as text cells (:func:`corridor._files.read_table`).

    The encoding (UTF-8 with or without BOM, Windows-1252), the separator (``,`` / ``;`` / tab)
    and decimal commas are detected there; numbers come back with decimal points. Returns the
    frame (``attrs["lines"]``: the file line of each row) and the decimal mark of its cells.

    A ``;`` or tab separated file without decimal commas is what German and Dutch spreadsheets
    write when no cell has a fraction, so a ``.`` there may group thousands. Per MW / kW column
    (:data:`MW_QUANTITIES`): a value with two or more groups (``1.500.000``) means the column
    groups thousands, and all its ``1.500`` are read as 1500; a value with another decimal point
    (``2.25``) means the column uses decimal points (``1.500`` is 1.5); a column with ``1.500``
    and neither is ambiguous and an error naming the file, line, column and value.
    """
    from corridor._files import read_table

    df = read_table(path, "capacity table")
    if df.attrs.get("separator") == "," or df.attrs.get("decimal") == ",":
        return df, "."
    lines = df.attrs["lines"]
    for col in df.columns:
        if ALIASES.get(normalise_name(col)[0]) not in MW_QUANTITIES:
            continue
        cells = df[col].astype(str).str.strip()
        one = cells.str.match(_ONE_GROUP).to_numpy()
        if not one.any():
            continue
        grouped = cells.str.match(_GROUPS).to_numpy()
        point = cells.str.match(_POINT).to_numpy() & ~one
        if grouped.any():
            df[col] = np.where(one | grouped, cells.str.replace(".", "", regex=False), cells)
        elif not point.any():
            i = int(np.flatnonzero(one)[0])
            v = cells.iat[i]
            plain, sep = v.replace(".", ""), _SEP_NAMES[df.attrs["separator"]]
            msg = (
                f"capacity table {path}, line {lines[i]}, column {col}: {v!r} is ambiguous in a "
                f"{sep}-separated file without decimal commas: {plain} with '.' grouping "
                f"thousands or {float(v):g} with a decimal point; write {plain} (no grouping) "
                f"or {v.replace('.', ',')} (decimal comma), or save the file ','-separated"
            )
            raise InputDataError(msg)
    return df, "."


_SEP_NAMES = {";": "';'", "\t": "tab"}


def _number(text: object, decimal: str) -> float:
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return np.nan
    if isinstance(text, int | float | np.integer | np.floating):
        return float(text)
    s = str(text).strip()
    if s == "":
        return np.nan
    if decimal == "," and "," in s:
        s = s.replace(".", "").replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return float("nan") if s.lower() == "nan" else _raise(s)


def _raise(s: str) -> float:
    raise ValueError(s)


def canonical_columns(
    df: pd.DataFrame, path: Path, where: object, decimal: str = "."
) -> pd.DataFrame:
    """Rename a table's columns to corridor's (see the module docstring) and convert MW.

    Parameters
    ----------
    df
        The table as read (CSV text cells, or a layer's attributes).
    path
        The file, for messages.
    where
        ``where(i)`` gives "FILE, line N" (or "feature N") of row ``i``.
    decimal
        Decimal mark of text cells (``,`` or ``.``).

    Returns
    -------
    DataFrame
        Columns of corridor's names; MW quantities as ``<name>_mw`` floats (NaN where empty).

    Raises
    ------
    InputDataError
        One line naming the file, row and column: unknown column, a column given twice, a
        quantity without a unit, a bad unit, a value that is not a finite number >= 0.
    """
    mapped: dict[str, tuple[str, str | None, str]] = {}  # canonical → (original, unit, base)
    for col in df.columns:
        base, unit = normalise_name(col)
        canon = ALIASES.get(base)
        if canon is None:
            known = sorted(ALIASES)
            msg = (
                f"{path}: unknown column '{col}'; known columns (any case, with a unit "
                f"suffix _mw/_kw or (MW)/(kW) for quantities): {', '.join(known)}"
            )
            raise InputDataError(msg)
        if canon in mapped:
            msg = f"{path}: columns '{mapped[canon][0]}' and '{col}' both give {canon}"
            raise InputDataError(msg)
        if unit is not None and canon not in MW_QUANTITIES:
            msg = f"{path}, column '{col}': a unit only goes with {', '.join(MW_QUANTITIES)}"
            raise InputDataError(msg)
        mapped[canon] = (str(col), unit, base)
    out = pd.DataFrame(index=df.index)
    unit_col = mapped.get("unit")
    row_units = None
    if unit_col is not None:
        row_units = df[unit_col[0]].fillna("").astype(str).str.strip().str.lower()
        bad = ~row_units.isin([*_UNITS, ""])
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            msg = (
                f"{where(i)}, column {unit_col[0]}: unit must be MW or kW, got "
                f"{df[unit_col[0]].iloc[i]!r}"
            )
            raise InputDataError(msg)
    out.attrs["columns"] = {c: v[0] for c, v in mapped.items()}
    for canon, (col, unit, _) in mapped.items():
        if canon == "unit":
            continue
        if canon in MW_QUANTITIES:
            out[f"{canon}_mw"] = _mw_column(df[col], col, unit, row_units, unit_col, where, decimal)
        elif canon in ("lon", "lat"):
            out[canon] = [_coordinate(v, col, i, where, decimal) for i, v in enumerate(df[col])]
        elif canon == "status":
            s = df[col].fillna("").astype(str).str.strip().str.lower()
            out[canon] = s.map(lambda v: _STATUS_WORDS.get(v, v))
        else:
            out[canon] = df[col]
    for canon in MW_QUANTITIES:
        if f"{canon}_mw" in out:
            out.attrs["columns"][f"{canon}_mw"] = mapped[canon][0]
    return out


def _coordinate(v: object, col: str, i: int, where: object, decimal: str) -> float:
    try:
        x = _number(v, decimal)
    except ValueError:
        msg = f"{where(i)}, column {col}: not a number: {v!r}"
        raise InputDataError(msg) from None
    if not np.isnan(x) and not np.isfinite(x):
        msg = f"{where(i)}, column {col}: not a finite number: {v!r}"
        raise InputDataError(msg)
    return x


def _mw_column(
    values: pd.Series,
    col: str,
    unit: str | None,
    row_units: pd.Series | None,
    unit_col: tuple | None,
    where: object,
    decimal: str,
) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and v.strip() == ""):
            continue
        try:
            x = _number(v, decimal)
        except ValueError:
            msg = f"{where(i)}, column {col}: must be a number >= 0, got {str(v)!r}"
            raise InputDataError(msg) from None
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        if not np.isfinite(x) or x < 0:
            msg = f"{where(i)}, column {col}: must be a finite number >= 0, got {str(v)!r}"
            raise InputDataError(msg)
        u = unit
        if u is None:
            u = row_units.iloc[i] if row_units is not None else ""
            if u == "":
                how = (
                    f"fill in column {unit_col[0]}"
                    if unit_col is not None
                    else "add a unit to the column name (e.g. _mw or (kW)) or a unit column"
                )
                msg = f"{where(i)}, column {col}: no unit (MW or kW) for the value; {how}"
                raise InputDataError(msg)
        out[i] = x * _UNITS[u]
    return out
