"""The one direction vocabulary (corridor.directions) and its compass labels."""

import math
import typing

import numpy as np
import pytest

from corridor.directions import (
    BOTH_DIRECTIONS,
    BOTH_LABEL,
    DIRECTIONS,
    Direction,
    arrow,
    bearing_from_label,
    compass_label,
    direction_of_bearing,
    opposite,
    path_key,
)


def test_one_vocabulary() -> None:
    assert DIRECTIONS == typing.get_args(Direction) == ("outbound", "inbound")
    assert set(BOTH_DIRECTIONS) == {"outbound", "inbound"}
    assert [opposite(d) for d in DIRECTIONS] == ["inbound", "outbound"]
    assert [arrow(d) for d in DIRECTIONS] == ["→", "←"]
    assert path_key("A1", "inbound") == "A1 inbound"


@pytest.mark.parametrize(
    ("bearing", "axis", "expected"),
    [
        (93.0, 90.0, {"outbound"}),
        (270.0, 90.0, {"inbound"}),
        (350.0, 45.0, {"outbound"}),
        (math.nan, 90.0, {"outbound", "inbound"}),
    ],
)
def test_direction_of_bearing(bearing: float, axis: float, expected: set[str]) -> None:
    assert direction_of_bearing(bearing, axis) == expected


def test_compass_label_round_trip() -> None:
    bearings = np.array([0.0, 93.0, 225.0, 359.0])
    labels = compass_label(bearings)
    assert list(labels) == ["N (0°)", "E (93°)", "SW (225°)", "N (359°)"]
    assert [bearing_from_label(x) for x in labels] == list(bearings)
    assert math.isnan(bearing_from_label(BOTH_LABEL))
    assert math.isnan(bearing_from_label(None))
