"""corridor: planner for heavy-duty truck charging (1+ MW, MCS) and hydrogen corridors."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
