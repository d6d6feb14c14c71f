"""Erlang-C queueing: how many chargers a site needs for a service level."""

from __future__ import annotations

import math

from corridor.errors import InputDataError

__all__ = [
    "erlang_b",
    "erlang_c",
    "max_load_for_wait_probability",
    "servers_for_load",
    "servers_for_wait_probability",
]


def erlang_b(servers: int, offered_load_erl: float) -> float:
    """Blocking probability of an M/M/c/c system (Erlang-B), by the stable recursion.

    Parameters
    ----------
    servers
        Number of servers c (>= 0).
    offered_load_erl
        Offered load a = arrival rate × mean service time (Erlang, >= 0).

    Returns
    -------
    float
        B(c, a) in [0, 1].
    """
    if servers < 0 or offered_load_erl < 0:
        msg = f"erlang_b needs servers >= 0 and load >= 0, got {servers}, {offered_load_erl}"
        raise InputDataError(msg)
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load_erl * b / (k + offered_load_erl * b)
    return b


def erlang_c(servers: int, offered_load_erl: float) -> float:
    """Probability that an arrival has to wait in an M/M/c queue (Erlang-C).

    ``C(c, a) = c·B / (c − a·(1 − B))`` with ``B`` the Erlang-B value; 1 when ``a >= c`` (the queue
    is unstable, everyone waits).

    Parameters
    ----------
    servers
        Number of servers c.
    offered_load_erl
        Offered load a (Erlang).

    Returns
    -------
    float
        Waiting probability in [0, 1].
    """
    if offered_load_erl <= 0:
        return 0.0
    if servers <= offered_load_erl:
        return 1.0
    b = erlang_b(servers, offered_load_erl)
    return servers * b / (servers - offered_load_erl * (1.0 - b))


def servers_for_wait_probability(
    arrivals_per_h: float, service_h: float, max_wait_probability: float
) -> int:
    """Fewest servers keeping the Erlang-C waiting probability at or below a target.

    Parameters
    ----------
    arrivals_per_h
        Arrival rate (per hour) in the busy hour.
    service_h
        Mean service (charging session) time (h).
    max_wait_probability
        Highest accepted probability of having to wait (0–1).

    Returns
    -------
    int
        Number of servers (0 when there are no arrivals).
    """
    if not 0 < max_wait_probability < 1:
        msg = f"max_wait_probability must be in (0, 1), got {max_wait_probability}"
        raise InputDataError(msg)
    load = arrivals_per_h * service_h
    if load <= 0:
        return 0
    c = max(1, math.floor(load) + 1)
    while erlang_c(c, load) > max_wait_probability:
        c += 1
    return c


def max_load_for_wait_probability(
    max_servers: int, max_wait_probability: float
) -> tuple[float, ...]:
    """Tabulate the charger sizing rule: most offered load per number of servers.

    ``table[c]`` is the largest offered load ``a`` (Erlang) with ``erlang_c(c, a) <=
    max_wait_probability`` (``table[0] = 0``). Erlang-C grows with the load, so the value is
    found by bisection to 1e-13 relative accuracy. The table is convex in ``c`` (pooling:
    ``table[c] / c`` grows with ``c``), which is why the siting model picks the number of
    chargers with one binary per option instead of a linear row. :func:`servers_for_load` reads
    it back: the model and the sizing after solving use the same table.

    Parameters
    ----------
    max_servers
        Largest number of servers c (>= 0).
    max_wait_probability
        Highest accepted probability of having to wait (0–1).

    Returns
    -------
    tuple of float
        ``max_servers + 1`` loads (Erlang), non-decreasing.

    Raises
    ------
    InputDataError
        If ``max_wait_probability`` is not in (0, 1) or ``max_servers`` is negative.
    """
    if not 0 < max_wait_probability < 1:
        msg = f"max_wait_probability must be in (0, 1), got {max_wait_probability}"
        raise InputDataError(msg)
    if max_servers < 0:
        msg = f"max_servers must be >= 0, got {max_servers}"
        raise InputDataError(msg)
    table = [0.0]
    for c in range(1, max_servers + 1):
        lo, hi = table[-1], float(c)
        while hi - lo > 1e-13 * c:
            mid = (lo + hi) / 2.0
            if erlang_c(c, mid) <= max_wait_probability:
                lo = mid
            else:
                hi = mid
        table.append(lo)
    return tuple(table)


def servers_for_load(offered_load_erl: float, table: tuple[float, ...]) -> int | None:
    """Fewest servers whose table load covers ``offered_load_erl`` (None: more than the table).

    Parameters
    ----------
    offered_load_erl
        Peak-hour offered load (Erlang): arrivals per hour × session hours, or for charging
        peak-hour energy (MWh) / charger power (MW).
    table
        From :func:`max_load_for_wait_probability`.

    Returns
    -------
    int or None
        0 for no load; None if even ``len(table) - 1`` servers are not enough.
    """
    if offered_load_erl <= 0:
        return 0
    for c, cap in enumerate(table):
        if offered_load_erl <= cap + 1e-9 * max(1.0, cap):
            return c
    return None
