"""Rivest consistent-sampling tickets: the one source of randomness in every draw.

An item's ticket is ``sha256_uniform(sha256_hex(seed) + id)`` (DOMAIN.md §4):
the SHA-256 of the hex digest of the seed followed by the id, read as a
decimal integer whose digits are reversed behind ``0.``. A simple random
sample of k items is the k smallest tickets, exactly what the public
``consistent_sampler.sampler(ids, seed=seed, take=k, with_replacement=False)``
returns.

For speed the tickets are compared as ``uint64`` keys made of their first 18
decimal digits; keys that tie are resolved on the full ticket string and then
the id, as consistent_sampler does, so the order is exactly Rivest's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

KEY_DIGITS = 18
KEY_SCALE = 10**KEY_DIGITS
_MOD = 10**KEY_DIGITS

U64 = npt.NDArray[np.uint64]


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ticket_string(item_id: str, seed: str) -> str:
    """The full Rivest ticket of one id, e.g. ``'0.26299714122838...'``."""
    digest = hashlib.sha256((sha256_hex(seed) + item_id).encode("utf-8")).hexdigest()
    digits = f"{int(digest, 16):064d}"
    return "0." + digits[::-1]


def _reverse_digits(values: npt.NDArray[np.int64]) -> U64:
    v = values.astype(np.uint64)
    out = np.zeros_like(v)
    ten = np.uint64(10)
    for _ in range(KEY_DIGITS):
        out = out * ten + v % ten
        v //= ten
    return out


def ticket_keys(ids: Sequence[str], seed: str) -> U64:
    """The first 18 digits of each id's ticket as an integer (order-preserving key)."""
    prefix = sha256_hex(seed).encode("utf-8")
    sha = hashlib.sha256
    low = [int.from_bytes(sha(prefix + i.encode("utf-8")).digest(), "big") % _MOD for i in ids]
    return _reverse_digits(np.fromiter(low, dtype=np.int64, count=len(ids)))


def uniforms(ids: Sequence[str], seed: str) -> npt.NDArray[np.float64]:
    """Each id's ticket as a float in [0, 1) (18 digits; for weights and display only)."""
    return ticket_keys(ids, seed).astype(np.float64) / KEY_SCALE


def ticket_order(ids: Sequence[str], seed: str, keys: U64 | None = None) -> npt.NDArray[np.intp]:
    """Indices of ``ids`` in increasing ticket order (Rivest's sampling order)."""
    if keys is None:
        keys = ticket_keys(ids, seed)
    id_arr = np.asarray(ids, dtype=object)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    ties = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
    if ties.size:
        # Rare (about n^2 / 10^18): settle each run of equal keys on the full ticket, then id.
        tie_set = set(ties.tolist()) | set((ties + 1).tolist())
        runs: list[list[int]] = []
        for pos in sorted(tie_set):
            if runs and pos == runs[-1][-1] + 1 and sorted_keys[pos] == sorted_keys[runs[-1][-1]]:
                runs[-1].append(pos)
            else:
                runs.append([pos])
        for run in runs:
            members = sorted(order[run].tolist(),
                             key=lambda i: (ticket_string(str(id_arr[i]), seed), str(id_arr[i])))
            order[run] = members
    return order


def smallest(ids: Sequence[str], seed: str, k: int) -> list[str]:
    """The k ids with the smallest tickets, in ticket order."""
    if k <= 0 or not ids:
        return []
    order = ticket_order(ids, seed)
    return [ids[i] for i in order[:k]]


def derived_seed(seed: str, purpose: str) -> str:
    """A seed for a sub-draw (dates, teams, a stratum's start): ``seed + '|' + purpose``.

    Written out so another implementation can rebuild it: the sub-draw's
    tickets are Rivest tickets under the seed string ``f"{seed}|{purpose}"``.
    """
    return f"{seed}|{purpose}"


def mix64(a: U64, b: U64) -> U64:
    """SplitMix64 finaliser of ``a XOR (b * 0x9E3779B97F4A7C15)`` (mod 2^64), vectorised.

    Used to derive one pseudo-random number per (task, person) pair from the
    two parties' ticket keys without hashing every pair.
    """
    with np.errstate(over="ignore"):
        z = a ^ (b * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z
