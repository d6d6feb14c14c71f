"""Zero-emission share of truck trips by technology and year (curated table).

``corridor/data/flows/ze_shares.csv`` holds scenario points (``technology``, ``year``, ``share``,
``source``); most are labelled ASSUMPTION in their ``source`` column (see there). Years between
points are interpolated linearly; years outside the table's range are an error (no
extrapolation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from corridor._files import DATA_DIR
from corridor._validate import require_columns
from corridor.errors import InputDataError

__all__ = ["ZE_SHARES_PATH", "read_ze_shares", "ze_share"]

#: The curated table shipped with the package.
ZE_SHARES_PATH = DATA_DIR / "flows" / "ze_shares.csv"
ZE_SHARE_COLUMNS = ("technology", "year", "share", "source")


def read_ze_shares(path: str | Path = ZE_SHARES_PATH) -> pd.DataFrame:
    """Read and check the zero-emission share table.

    Raises
    ------
    InputDataError
        If the file is missing, lacks a column, has a share outside 0..1, a non-integer year or
        a duplicate (technology, year).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"zero-emission share table {path} not found (expected columns {ZE_SHARE_COLUMNS})"
        raise InputDataError(msg)
    df = pd.read_csv(path)
    require_columns(df, ZE_SHARE_COLUMNS, f"zero-emission share table {path}")
    share = pd.to_numeric(df["share"], errors="coerce")
    bad = ~share.between(0.0, 1.0)
    if bad.any():
        rows = (df.index[bad] + 2).tolist()[:5]
        msg = f"zero-emission share table {path}: 'share' must be within 0..1 at line(s) {rows}"
        raise InputDataError(msg)
    year = pd.to_numeric(df["year"], errors="coerce")
    if year.isna().any() or (year % 1 != 0).any():
        rows = (df.index[year.isna() | (year % 1 != 0)] + 2).tolist()[:5]
        msg = f"zero-emission share table {path}: 'year' must be an integer at line(s) {rows}"
        raise InputDataError(msg)
    df = df.assign(technology=df["technology"].str.strip().str.lower(), year=year.astype(int))
    df["share"] = share
    dup = df.duplicated(["technology", "year"])
    if dup.any():
        rows = (df.index[dup] + 2).tolist()[:5]
        msg = f"zero-emission share table {path}: duplicate (technology, year) at line(s) {rows}"
        raise InputDataError(msg)
    return df.sort_values(["technology", "year"]).reset_index(drop=True)


def ze_share(technology: str, year: int, table: pd.DataFrame | None = None) -> float:
    """Zero-emission share (0–1) of truck trips of ``technology`` in ``year``.

    Linear interpolation between the table's points of that technology.

    Raises
    ------
    InputDataError
        If the technology is not in the table or ``year`` is outside its years.
    """
    t = read_ze_shares() if table is None else table
    sub = t[t["technology"] == technology.lower()]
    if sub.empty:
        have = sorted(t["technology"].unique())
        msg = f"no zero-emission shares for technology '{technology}' (table has {have})"
        raise InputDataError(msg)
    years = sub["year"].to_numpy()
    if not years.min() <= year <= years.max():
        msg = (
            f"year {year} outside the zero-emission share table for '{technology}' "
            f"({years.min()}–{years.max()}); set flows.zero_emission_share explicitly"
        )
        raise InputDataError(msg)
    return float(np.interp(year, years, sub["share"].to_numpy()))
