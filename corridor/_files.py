"""Files of corridor: the shipped data folder.

:data:`DATA_DIR` is the package's own ``corridor/data`` folder (built-in scenarios, truck
profiles, gazetteer, corridor definitions and the curated parameter tables), found through
:mod:`importlib.resources` so it is the same in a source checkout, an editable and a wheel
install. The big external inputs (OSM, ETISplus, grid) are not here: see
:mod:`corridor.catalogue`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["DATA_DIR"]

#: The shipped data folder (``corridor/data`` inside the installed package).
DATA_DIR = Path(str(resources.files("corridor") / "data"))
