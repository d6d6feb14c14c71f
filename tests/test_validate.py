"""corridor._validate: column and CRS checks name the input, what is missing and what is there."""

from __future__ import annotations

import pandas as pd
import pytest

from corridor._validate import GRAPH_CRS, require_columns, require_crs, require_projected_crs
from corridor.errors import InputDataError


def test_require_columns_names_table_missing_and_present() -> None:
    df = pd.DataFrame({"a": [1], "b": [2]})
    require_columns(df, ["a", "b"], "table t.csv")
    with pytest.raises(
        InputDataError,
        match=r"table t\.csv lacks column\(s\) \['c'\]; expected \['a', 'c'\]; "
        r"found \['a', 'b'\]\. Rename it",
    ):
        require_columns(df, ("a", "c"), "table t.csv", hint="Rename it")


def test_require_crs() -> None:
    require_crs("epsg:3035", GRAPH_CRS, "road graph")
    with pytest.raises(InputDataError, match=r"road graph is in EPSG:4326; expected EPSG:3035"):
        require_crs("EPSG:4326", GRAPH_CRS, "road graph")
    with pytest.raises(InputDataError, match=r"sites has no CRS; expected EPSG:3035"):
        require_crs(None, GRAPH_CRS, "sites")
    with pytest.raises(InputDataError, match=r"unknown CRS 'EPSG:nope'"):
        require_crs("EPSG:nope", GRAPH_CRS, "layer")


def test_require_projected_crs() -> None:
    require_projected_crs(GRAPH_CRS, "network.crs")
    require_projected_crs("EPSG:25832", "network.crs")  # UTM 32N, metres
    with pytest.raises(InputDataError, match=r"EPSG:4326 is not a projected CRS in metres"):
        require_projected_crs("EPSG:4326", "network.crs")
    with pytest.raises(InputDataError, match=r"foot"):
        require_projected_crs("EPSG:2263", "network.crs")
    with pytest.raises(InputDataError, match="has no CRS"):
        require_projected_crs(None, "network.crs")
