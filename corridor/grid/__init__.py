"""Electricity grid layer: substations, congestion areas, capacity tables, headroom, load report."""

from corridor.grid.areas import (
    STATUSES,
    apply_capacity_table,
    apply_germany_assumption,
    default_congestion_areas,
    format_hours,
    load_capacity_tables,
    parse_hours,
    read_area_polygons,
    read_capacity_table,
)
from corridor.grid.attach import GRID_COLUMNS, attach_grid
from corridor.grid.load import (
    connection_load,
    grid_load_writers,
    load_charging_profile,
    peak_shave,
    site_hourly_load,
    site_loads,
    write_grid_load,
)
from corridor.grid.substations import load_substations, parse_voltage_kv

__all__ = [
    "GRID_COLUMNS",
    "STATUSES",
    "apply_capacity_table",
    "apply_germany_assumption",
    "attach_grid",
    "connection_load",
    "default_congestion_areas",
    "format_hours",
    "grid_load_writers",
    "load_capacity_tables",
    "load_charging_profile",
    "load_substations",
    "parse_hours",
    "parse_voltage_kv",
    "peak_shave",
    "read_area_polygons",
    "read_capacity_table",
    "site_hourly_load",
    "site_loads",
    "write_grid_load",
]
