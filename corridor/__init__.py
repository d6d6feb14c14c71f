"""corridor: planner for heavy-duty truck charging (1+ MW, MCS) and hydrogen corridors."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("corridor")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
