"""Optimiser: where to build 1+ MW chargers / H2 stations so that truck flows can make their trips.

Public API: :class:`Instance` (the array core, :meth:`Instance.from_arrays`),
:func:`instance_from_pipeline`, :func:`solve` → :class:`PlanResult`, :func:`validate` →
list of :class:`Violation`, and the Erlang-C helpers. The model is documented in
:mod:`corridor.optimise.model`.
"""

from corridor.optimise.corridor import CorridorChoice, PilotFleet, rank_corridors
from corridor.optimise.instance import (
    DIRECTIONS,
    FlowPath,
    Instance,
    Stop,
    direction_of_bearing,
    instance_from_pipeline,
)
from corridor.optimise.joint import solve_joint, trip_rule
from corridor.optimise.model import ModelSpec, build_model, flow_cover_sets, preprocess
from corridor.optimise.queueing import (
    erlang_b,
    erlang_c,
    max_load_for_wait_probability,
    servers_for_load,
    servers_for_wait_probability,
)
from corridor.optimise.sizing import PLAN_SITE_COLUMNS, size_sites
from corridor.optimise.solve import PlanResult, solve
from corridor.optimise.validate import Violation, check_capacity, simulate_flow, validate

__all__ = [
    "DIRECTIONS",
    "PLAN_SITE_COLUMNS",
    "CorridorChoice",
    "FlowPath",
    "Instance",
    "ModelSpec",
    "PilotFleet",
    "PlanResult",
    "Stop",
    "Violation",
    "build_model",
    "check_capacity",
    "direction_of_bearing",
    "erlang_b",
    "erlang_c",
    "flow_cover_sets",
    "instance_from_pipeline",
    "max_load_for_wait_probability",
    "preprocess",
    "rank_corridors",
    "servers_for_load",
    "servers_for_wait_probability",
    "simulate_flow",
    "size_sites",
    "solve",
    "solve_joint",
    "trip_rule",
    "validate",
]
