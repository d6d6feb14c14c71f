"""Exception hierarchy of corridor.

Every error raised on purpose by corridor derives from :class:`CorridorError`, so a caller (the CLI
in particular) can tell bad input apart from a bug. Messages say what came in, what was expected
and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CorridorError",
    "InfeasibleError",
    "InputDataError",
    "ScenarioError",
    "SolverError",
]


class CorridorError(Exception):
    """Base class of all errors corridor raises on purpose."""


class InputDataError(CorridorError, ValueError):
    """An input file is missing, unreadable or does not hold what is expected."""


class ScenarioError(CorridorError, ValueError):
    """A scenario (built-in name or TOML file) is unknown or invalid."""


class InfeasibleError(CorridorError):
    """The optimisation model has no feasible solution (reason given when known)."""


class SolverError(CorridorError, RuntimeError):
    """The MILP solver failed or is not available."""
