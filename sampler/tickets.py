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
:func:`pool_tickets` is the fast path for large pools (one SHA-256 state per
seed, the digit arithmetic vectorised); it gives the same keys as
:func:`ticket_keys`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from suiji.data.store import sha256_hex

KEY_DIGITS = 18
KEY_SCALE = 10**KEY_DIGITS
_MOD = 10**KEY_DIGITS

U64 = npt.NDArray[np.uint64]
Objects = npt.NDArray[np.object_]


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



# --- the fast path for large pools ---------------------------------------------


def pool_tickets(ids: list[str], seed: str) -> tuple[U64, list[bytes]]:
    """The ids' ticket keys (== :func:`ticket_keys`) and the SHA-256 digests behind them.

    Hashing is the cost of a draw; keeping the digests lets the drawn firms'
    full tickets be written without hashing them again.
    """
    # sha256_hex(seed) is 64 bytes, exactly one SHA-256 block: hash it once and copy
    # the state for each id (the same digests as hashing prefix + id from scratch)
    fresh = hashlib.sha256(sha256_hex(seed).encode("utf-8")).copy
    digests: list[bytes] = []
    keep = digests.append
    for i in ids:
        h = fresh()
        h.update(i.encode("utf-8"))
        keep(h.digest())
    return _reversed_18(_low_18_digits(digests)), digests


_MOD5 = 5**18  # 10^18 = 2^18 * 5^18: the low 18 digits by the Chinese remainder theorem
_LIMB_WEIGHTS = np.array([pow(2, 16 * (15 - k), _MOD5) for k in range(16)], dtype=np.uint64)
_INV5 = pow(_MOD5, -1, 1 << 18)  # 5^18 * _INV5 = 1 (mod 2^18)
_LOW18 = (1 << 18) - 1
_REVERSED_3 = np.array([int(f"{k:03d}"[::-1]) for k in range(1000)], dtype=np.uint64)


def _low_18_digits(digests: list[bytes]) -> U64:
    """``int.from_bytes(d, "big") % 10**18`` of every 32-byte digest, vectorised."""
    limbs = np.frombuffer(b"".join(digests), dtype=">u2").reshape(len(digests), 16)
    with np.errstate(over="ignore"):  # the wrap-around mod 2^64 below is intended
        mod5 = np.zeros(len(digests), dtype=np.uint64)
        for k in range(16):  # each term < 2^16 * 5^18 < 2^58: the sum stays below 2^62
            mod5 += limbs[:, k].astype(np.uint64) * _LIMB_WEIGHTS[k]
        mod5 %= np.uint64(_MOD5)
        mod2 = ((limbs[:, 14].astype(np.uint64) << np.uint64(16)) | limbs[:, 15]) \
            & np.uint64(_LOW18)
        # x = mod5 + 5^18 * t with t = (mod2 - mod5) / 5^18 (mod 2^18)
        t = ((mod2 - mod5) * np.uint64(_INV5)) & np.uint64(_LOW18)
        return mod5 + np.uint64(_MOD5) * t


def _reversed_18(values: U64) -> U64:
    """The 18 decimal digits of each value reversed (== tickets._reverse_digits)."""
    v = values.astype(np.uint64)
    out = np.zeros_like(v)
    thousand = np.uint64(1000)
    for _ in range(6):  # six groups of three digits, each reversed by table
        out = out * thousand + _REVERSED_3[v % thousand]
        v //= thousand
    return out


def ticket_from_digest(digest: bytes) -> str:
    """The full Rivest ticket behind a SHA-256 digest of :func:`pool_tickets`."""
    return "0." + f"{int.from_bytes(digest, 'big'):064d}"[::-1]


def pool_keys(ids: list[str], seed: str) -> U64:
    """The ids' ticket keys by the fast path of :func:`pool_tickets` (== :func:`ticket_keys`)."""
    return pool_tickets(ids, seed)[0]


def smallest_positions(keys: U64, ids: Objects, seed: str, k: int) -> npt.NDArray[np.intp]:
    """Positions of the k smallest tickets (unordered), ties settled as Rivest's sampler does.

    ``argpartition`` finds the k-th key; firms whose 18-digit key equals it
    are ordered by their full ticket and then id, which is exactly the order of
    ``consistent_sampler`` (its tickets compare as (ticket string, id)).
    """
    n = int(keys.size)
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    kth = keys[np.argpartition(keys, k - 1)[k - 1]]
    below = np.flatnonzero(keys < kth)
    tied = np.flatnonzero(keys == kth)
    need = k - below.size
    if tied.size > need:  # a key tie across the boundary: about n² / 10^18, but exact anyway
        ranked = sorted(tied.tolist(), key=lambda i: (ticket_string(str(ids[i]), seed),
                                                      str(ids[i])))
        tied = np.asarray(ranked[:need], dtype=np.intp)
    return np.concatenate([below, tied])


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
