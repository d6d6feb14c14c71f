"""Small synthetic instances shared by the optimiser and corridor-mode tests.

Graphs are given as sparse ``n × n`` distance matrices (km) of two-way arcs, the input of
:meth:`corridor.optimise.Instance.from_arrays`.
"""

from __future__ import annotations

from scipy import sparse

from corridor.config import OptimiseConfig


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
