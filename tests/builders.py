"""Small synthetic instances shared by the optimiser and corridor-mode tests.

Graphs are given as sparse ``n × n`` distance matrices (km) of two-way arcs, the input of
:meth:`corridor.optimise.Instance.from_arrays`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from scipy import sparse

from corridor.config import OptimiseConfig
from corridor.optimise import Instance, simulate_flow


def _two_way(pairs: list[tuple[int, int]], n: int, km: float) -> sparse.csr_array:
    rows = [a for a, b in pairs] + [b for a, b in pairs]
    cols = [b for a, b in pairs] + [a for a, b in pairs]
    return sparse.csr_array(([km] * len(rows), (rows, cols)), shape=(n, n))


def lines_matrix(n_lines: int, n_per_line: int, km: float = 50.0) -> sparse.csr_array:
    """Separate two-way lines ``0 - 1 - … - n_per_line-1``, then the next from ``n_per_line``."""
    pairs = [
        (base + i, base + i + 1)
        for base in range(0, n_lines * n_per_line, n_per_line)
        for i in range(n_per_line - 1)
    ]
    return _two_way(pairs, n_lines * n_per_line, km)


def line_matrix(n: int, km: float = 50.0) -> sparse.csr_array:
    """Two-way line graph 0 - 1 - ... - n-1 with arcs of ``km``."""
    return lines_matrix(1, n, km)


def grid_matrix(side: int, km: float = 50.0) -> sparse.csr_array:
    """Two-way ``side × side`` grid, node ``r * side + c``, arcs of ``km``."""
    pairs = [(r * side + c, r * side + c + 1) for r in range(side) for c in range(side - 1)]
    pairs += [(r * side + c, (r + 1) * side + c) for r in range(side - 1) for c in range(side)]
    return _two_way(pairs, side * side, km)


def optimise_config(**kw) -> OptimiseConfig:
    """An optimiser config for small instances: 0–3 sites, 30 s limit, ``kw`` on top."""
    base = {"min_sites": 0, "max_sites": 3, "time_limit_s": 30}
    base.update(kw)
    return OptimiseConfig(**base)


def grid_line(
    headroom: Sequence[float],
    connection: Sequence[str] | None = None,
    restricted: Sequence[str] | None = None,
    volume: float = 200.0,
    **columns: Any,
) -> Instance:
    """Two-way line of 11 nodes (50 km), ``volume`` trucks/day each way, every node a site.

    Trips of 500 km with a 100 km start range and 200 km after a stop (1.3 kWh/km). The sites
    get ``headroom_mw``, ``connection`` (default firm), ``restricted_hours`` (default none) and
    any further site columns given by keyword (e.g. the shared-pool columns).
    """
    inst = Instance.from_arrays(
        line_matrix(11),
        [0, 10],
        [10, 0],
        [volume, volume],
        list(range(11)),
        200,
        None,
        start_range_km=100,
        energy_per_km=1.3,
    )
    sites = inst.sites.copy()
    sites["headroom_mw"] = list(headroom)
    sites["connection"] = list(connection) if connection is not None else ["firm"] * 11
    sites["restricted_hours"] = list(restricted) if restricted is not None else [""] * 11
    for key, value in columns.items():
        sites[key] = value
    return dataclasses.replace(inst, sites=sites)


def simulated_served(inst: Instance, open_set: set[str]) -> float:
    """Trucks/day of the flows that need a site and complete their trip with ``open_set``."""
    served = 0.0
    for f in inst.flows:
        if f.length_km <= inst.start_range_km:
            continue
        _, bad = simulate_flow(f, open_set, inst.range_km, inst.start_range_km, 1.0)
        if bad is None:
            served += f.trucks_per_day
    return served
