"""Swap local search on a site plan: the warm start the siting MILP gets besides the greedy plan.

The greedy plan of :func:`~corridor.optimise.model.greedy_sites` adds sites by their share of
still-uncovered cover sets. A flow is only served when *every* cover set of its trip has an open
site, so on network-wide instances, where a flow needs several stops, that share is a poor guide:
on the seeded 625-node grid benchmark (``scripts/capacity_benchmark.py``) the greedy plan serves
4,703 trucks/day and HiGHS, started from it, ends at 4,703–4,820 after 120 s. :func:`improve_sites`
takes such a plan, first adds (while sites are left under ``max_sites``) the site with the
largest positive gain, then repeatedly closes one open site and opens the closed site that
completes the most flow weight in its place (the exact change of the served weight, computed for
every candidate at once with one sparse product), while that serves strictly more. On the grid
benchmark this takes the greedy plan to 9,022 trucks/day in 4–6 s (the model's LP bound is
12,111).

Every accepted plan keeps the side constraints of :class:`~corridor.optimise.model.ModelSpec`
the start plan met (fixed open sites, site-count, country and direction minimums, budget, AFIR
spacing), so it stays a feasible start for the solver. It is a heuristic: it proves nothing; the
MILP's bound says how far it may be from the optimum.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from corridor.optimise.instance import Instance, station_of
from corridor.optimise.model import ModelSpec, Preprocessed, group_quotas, shared_cover_sets

__all__ = ["CoverIndex", "cover_index", "improve_sites"]


@dataclass(frozen=True)
class CoverIndex:
    """Sparse incidence of the preprocessed flows, for evaluating many site plans fast.

    Attributes
    ----------
    sites
        Site ids, the columns of ``cover_site`` (n).
    cover_site
        CSR matrix (distinct cover sets × n): 1 where the site is in the cover set.
    group_cover
        CSR matrix (groups × distinct cover sets): 1 where the cover set is one of the group's.
    weight
        Objective weight per group (trucks/day or truck-km/day).
    """

    sites: tuple[str, ...]
    cover_site: sparse.csr_array
    group_cover: sparse.csr_array
    weight: np.ndarray

    def uncovered(self, open_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cover sets without an open site (bool per cover set) and their count per group."""
        empty = (self.cover_site @ open_mask.astype(float)) == 0
        return empty, self.group_cover @ empty.astype(float)

    def served_weight(self, open_mask: np.ndarray) -> float:
        """Weight of the groups whose every cover set has an open site."""
        _, missing = self.uncovered(open_mask)
        return float(self.weight[missing == 0].sum())

    def gains(self, open_mask: np.ndarray) -> tuple[np.ndarray, float]:
        """Return the served weight and what opening each single site would add to it.

        Opening site ``t`` serves group ``g`` exactly when ``t`` lies in every cover set of ``g``
        that has no open site yet: one sparse product counts, per group and site, the group's
        uncovered cover sets containing the site.

        Returns
        -------
        gain, served
            ``gain[j]``: weight newly served by opening ``sites[j]`` (0 for open sites);
            ``served``: weight served by ``open_mask``.
        """
        empty, missing = self.uncovered(open_mask)
        served = float(self.weight[missing == 0].sum())
        todo = self.group_cover.multiply(empty[None, :].astype(float)).tocsr()
        hits = (todo @ self.cover_site).tocoo()
        full = hits.data == missing[hits.row]
        gain = np.bincount(
            hits.col[full], weights=self.weight[hits.row[full]], minlength=len(self.sites)
        )
        gain[open_mask] = 0.0
        return gain, served


def cover_index(pre: Preprocessed, sites: Sequence[str], objective: str) -> CoverIndex:
    """Build the :class:`CoverIndex` of ``pre`` over ``sites`` (cover-set sites not in it dropped).

    Parameters
    ----------
    pre
        Preprocessed flows.
    sites
        The sites a plan may open (e.g. the model's site variables).
    objective
        ``max_truck_km`` weighs groups by truck-km/day, anything else by trucks/day.

    Returns
    -------
    CoverIndex
    """
    col = {s: j for j, s in enumerate(sites)}
    covers, of_group = shared_cover_sets(pre)
    rows = [ci for ci, c in enumerate(covers) for s in c if s in col]
    cols = [col[s] for c in covers for s in c if s in col]
    a = sparse.csr_array(
        (np.ones(len(rows)), (rows, cols)), shape=(len(covers), len(sites))
    ).astype(float)
    a.sum_duplicates()
    a.data[:] = 1.0
    g_rows = [gi for gi, idx in enumerate(of_group) for _ in idx]
    g_cols = [ci for idx in of_group for ci in idx]
    group_cover = sparse.csr_array(
        (np.ones(len(g_rows)), (g_rows, g_cols)), shape=(len(of_group), len(covers))
    )
    by_km = objective == "max_truck_km"
    weight = np.array(
        [grp.truck_km_per_day if by_km else grp.trucks_per_day for grp in pre.groups], dtype=float
    )
    return CoverIndex(tuple(sites), a, group_cover, weight)


class Rules:
    """The side constraints of a spec, checked on a plan given as a bool mask over the sites.

    Site counts and the country, region and road minimums count station locations (the two
    halves of a rest area once, ``Instance.sites["station"]``), as the model does; the direction
    minimums count sites, each serving its own carriageway.
    """

    def __init__(self, instance: Instance, spec: ModelSpec, sites: Sequence[str]) -> None:
        info = instance.sites.loc[list(sites)]
        _, self.station = np.unique(
            station_of(instance.sites, sites).to_numpy(), return_inverse=True
        )
        self.spec = spec
        low = np.array([max(spec.min_chargers, spec.min_chargers_at.get(s, 0)) for s in sites])
        self.cost = info["cost_eur"].to_numpy(dtype=float) + spec.charger_cost_eur * low
        col = {s: j for j, s in enumerate(sites)}
        self.fixed = np.zeros(len(sites), dtype=bool)
        self.fixed[[col[s] for s in spec.fixed_open if s in col]] = True
        country = info["country"].to_numpy()
        self.quotas = [(country == cc, n) for cc, n in spec.min_per_country.items() if n > 0]
        self.quotas += group_quotas(info, spec)
        self.direction_quotas = [
            (info["directions"].map(lambda ds, d=d: d in ds).to_numpy(dtype=bool), n)
            for d, n in spec.min_per_direction.items()
            if n > 0
        ]
        self.afir = [
            np.array([col[s] for s in cover if s in col], dtype=int)
            for _, covers in spec.afir_covers
            for cover in covers
        ]

    def stations(self, mask: np.ndarray) -> int:
        """Station locations among the sites of ``mask``."""
        return int(np.unique(self.station[mask]).size)

    def ok(self, open_mask: np.ndarray) -> bool:
        """Tell whether a plan (bool mask over the sites) keeps every side constraint."""
        n_open = self.stations(open_mask)
        spec = self.spec
        if n_open > spec.max_sites or n_open < spec.min_sites:
            return False
        if not open_mask[self.fixed].all():
            return False
        if any(self.stations(member & open_mask) < n for member, n in self.quotas):
            return False
        if any(int((member & open_mask).sum()) < n for member, n in self.direction_quotas):
            return False
        if spec.budget_eur is not None and self.cost[open_mask].sum() > spec.budget_eur + 1e-9:
            return False
        return all(open_mask[idx].any() for idx in self.afir)


def improve_sites(
    instance: Instance,
    pre: Preprocessed,
    spec: ModelSpec,
    sites: Sequence[str],
    chosen: Sequence[str],
    *,
    time_limit_s: float = 10.0,
    tries: int = 3,
) -> list[str]:
    """Improve a plan by single swaps (and additions up to ``max_sites``), see the module doc.

    Parameters
    ----------
    instance
        The instance (site cost, country, directions).
    pre
        Preprocessed flows.
    spec
        Objective and side constraints; the ``min_sites`` objective is returned unchanged (its
        start is judged by the site count, not by the served weight).
    sites
        Sites that may be opened (the model's site variables).
    chosen
        The start plan (e.g. the greedy plan).
    time_limit_s
        Stop after this much wall time (s), keeping the best plan so far.
    tries
        Per removed site, how many of the best replacements are checked against the side
        constraints before giving up on that site.

    Returns
    -------
    list of str
        The improved plan (``chosen`` itself when it breaks a side constraint or nothing
        improves), in ``sites`` order.
    """
    if spec.objective == "min_sites" or not sites or not pre.groups:
        return list(chosen)
    t0 = time.perf_counter()
    index = cover_index(pre, sites, spec.objective)
    rules = Rules(instance, spec, sites)
    col = {s: j for j, s in enumerate(sites)}
    x = np.zeros(len(sites), dtype=bool)
    x[[col[s] for s in chosen if s in col]] = True
    if not rules.ok(x):
        return list(chosen)
    best = index.served_weight(x)

    def pick(gain: np.ndarray, banned: int | None, need: float) -> int | None:
        """Best site to open whose plan keeps the rules and gains more than ``need``."""
        order = np.argsort(-gain, kind="stable")[: max(tries, 1)]
        for t in order:
            t = int(t)
            if x[t] or t == banned or gain[t] <= need + 1e-9:
                return None
            x[t] = True
            fine = rules.ok(x)
            x[t] = False
            if fine:
                return t
        return None

    improved = True
    while improved and time.perf_counter() - t0 < time_limit_s:
        improved = False
        # fill free slots first: a site that serves more is never worse
        while rules.stations(x) < spec.max_sites:
            gain, served = index.gains(x)
            t = pick(gain, None, 0.0)
            if t is None:
                break
            x[t] = True
            best = served + gain[t]
            improved = True
        for s in np.flatnonzero(x & ~rules.fixed):
            if time.perf_counter() - t0 >= time_limit_s:
                break
            x[s] = False
            gain, served = index.gains(x)
            t = pick(gain, int(s), best - served)
            if t is None:
                x[s] = True
                continue
            x[t] = True
            best = served + gain[t]
            improved = True
    return [s for s in sites if x[col[s]]]
