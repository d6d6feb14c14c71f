"""Electricity grid layer: substations, congestion areas, capacity tables, headroom, load report."""

from corridor.grid.areas import (
    STATUSES,
    apply_capacity_table,
    default_congestion_areas,
    format_hours,
    parse_hours,
    read_capacity_table,
)
from corridor.grid.attach import GRID_COLUMNS, attach_grid
from corridor.grid.substations import load_substations, parse_voltage_kv

__all__ = [
    "GRID_COLUMNS",
    "STATUSES",
    "apply_capacity_table",
    "attach_grid",
    "default_congestion_areas",
    "format_hours",
    "load_substations",
    "parse_hours",
    "parse_voltage_kv",
    "read_capacity_table",
]
