"""Probability-proportional-to-size sampling with exact, stated inclusion probabilities.

Systematic PPS over a ticket-randomised order, in integer arithmetic so that
every implementation gets the same sample:

1. Inclusion probabilities ``pi_i = n * w_i / sum(w)``, capped at 1 (capped
   units are taken with certainty and the rest re-scaled, repeatedly).
2. Each ``pi_i`` becomes an integer ``p_i`` in parts per ``SCALE`` (10^9):
   floors first, then the shortfall to ``n * SCALE`` goes one part each to the
   largest remainders (ties: smaller ticket first). ``p_i / SCALE`` is the
   stated inclusion probability, and it is exact.
3. Units are ordered by their tickets; ``S_i`` is the running sum of ``p``.
   A start ``u = ticket_key(start_id) mod SCALE`` is drawn from the seed, and
   unit i is selected iff the integer interval ``[S_{i-1}, S_i)`` contains a
   point ``u + j * SCALE`` (j = 0, 1, ...). Exactly n units are selected; unit i with probability
   ``p_i / SCALE`` over uniform u.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from suiji.sampler.tickets import U64, ticket_keys, ticket_order

SCALE = 10**9


@dataclass(frozen=True)
class PPSResult:
    order: npt.NDArray[np.intp]  # ticket order of the units
    parts: npt.NDArray[np.int64]  # p_i, inclusion probability in parts per SCALE
    selected: npt.NDArray[np.bool_]  # per unit, in input order
    start: int

    @property
    def probabilities(self) -> npt.NDArray[np.float64]:
        return self.parts.astype(np.float64) / SCALE


def inclusion_probabilities(weights: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    """``n * w / sum(w)`` with certainty units capped at 1 (iteratively)."""
    w = np.asarray(weights, dtype=np.float64)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and non-negative")
    size = w.size
    if n >= int(np.count_nonzero(w > 0)):
        return (w > 0).astype(np.float64) if n < size else np.ones(size)
    pi = np.zeros(size)
    certain = np.zeros(size, dtype=bool)
    while True:
        rest = ~certain & (w > 0)
        remaining = n - int(certain.sum())
        pi[rest] = remaining * w[rest] / w[rest].sum()
        pi[certain] = 1.0
        over = rest & (pi >= 1.0)
        if not over.any():
            return pi
        certain |= over


def integer_parts(pi: npt.NDArray[np.float64], n: int,
                  order: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    """Probabilities as integers in parts per SCALE summing to exactly ``n * SCALE``."""
    scaled = pi * SCALE
    parts = np.floor(scaled).astype(np.int64)
    parts = np.minimum(parts, SCALE)
    short = n * SCALE - int(parts.sum())
    if short > 0:
        remainder = scaled - parts
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        # largest remainder first, ties to the smaller ticket
        eligible = np.flatnonzero(parts < SCALE)
        pick = eligible[np.lexsort((rank[eligible], -remainder[eligible]))][:short]
        parts[pick] += 1
    return parts


def pps_systematic(ids: Sequence[str], weights: npt.ArrayLike, n: int, seed: str,
                   start_id: str = "pps-start", keys: U64 | None = None) -> PPSResult:
    """Select exactly n of ``ids`` with probabilities proportional to ``weights``.

    ``keys`` may pass the ids' ``ticket_keys(ids, seed)`` when already computed.
    """
    size = len(ids)
    if n < 0 or n > size:
        raise ValueError(f"cannot select {n} of {size} units")
    if keys is None:
        keys = ticket_keys(ids, seed)
    order = ticket_order(ids, seed, keys)
    pi = inclusion_probabilities(weights, n)
    parts = integer_parts(pi, n, order)
    start = int(ticket_keys([start_id], seed)[0]) % SCALE
    cum = np.cumsum(parts[order])
    before = cum - parts[order]
    # a point u + j*SCALE lies in [before, cum)  <=>  the floors below differ
    hit = np.floor_divide(cum - start - 1, SCALE) > np.floor_divide(before - start - 1, SCALE)
    selected = np.zeros(size, dtype=bool)
    selected[order[hit]] = True
    return PPSResult(order=order, parts=parts, selected=selected, start=start)
