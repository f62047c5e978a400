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
seed copied per id, the digit arithmetic vectorised, large pools hashed on every
core by :func:`ticket_digests`); it gives the same keys as :func:`ticket_keys`.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

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


# Below this many ids one process hashes them sooner than a helper process starts.
PARALLEL_MIN_IDS = 100_000
DIGEST_SIZE = 32
_BLOCK_IDS = 1 << 16  # ids hashed and keyed per block: the block's arrays stay in cache


def _digests(fresh: Callable[[], Any], ids: Sequence[str]) -> bytes:
    """The SHA-256 digests of prefix + id for each id, concatenated (32 bytes each).

    ``fresh`` copies the state that has hashed the prefix (the fastest hashlib loop).
    """
    out: list[bytes] = []
    keep = out.append
    for i in ids:
        h = fresh()
        h.update(i.encode("utf-8"))
        keep(h.digest())
    return b"".join(out)


def _tickets(prefix: bytes, ids: Sequence[str]) -> tuple[U64, bytes]:
    """Keys and concatenated digests of ``ids`` in one process, block by block."""
    fresh = hashlib.sha256(prefix).copy
    n = len(ids)
    keys = np.empty(n, dtype=np.uint64)
    parts = []
    for lo in range(0, n, _BLOCK_IDS):
        block = _digests(fresh, ids[lo:lo + _BLOCK_IDS])
        m = len(block) // DIGEST_SIZE
        keys[lo:lo + m] = _reversed_18(_low_18_digits(block, m))
        parts.append(block)
    return keys, b"".join(parts)


def _helper(conn: Any, prefix: bytes, ids: Sequence[str]) -> None:  # pragma: no cover
    # runs in a forked helper (coverage does not follow it); the tests compare its result
    try:
        keys, digests = _tickets(prefix, ids)
        conn.send_bytes(keys.tobytes() + digests)
    finally:
        conn.close()


def ticket_workers() -> int:
    """How many processes hash a large pool: the cores this process may use on Linux,
    else 1 (no fork on Windows; macOS forks unsafely), and 1 when other threads run."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return 1  # forking a threaded process is unsafe; spawning would re-import suiji
    return max(1, len(os.sched_getaffinity(0)))


def pool_tickets(ids: Sequence[str], seed: str, workers: int | None = None
                 ) -> tuple[U64, bytes]:
    """The ids' ticket keys (== :func:`ticket_keys`) and the SHA-256 digests behind them.

    The digests are concatenated, 32 bytes per id in the ids' order
    (:func:`digest_at` takes one out). Hashing is the cost of a draw; keeping
    them lets the drawn firms' full tickets be written without hashing again.

    ``sha256_hex(seed)`` is 64 bytes, exactly one SHA-256 block: it is hashed
    once and the state copied for each id (the same digests as hashing prefix
    + id from scratch). Pools of at least :data:`PARALLEL_MIN_IDS` ids are
    split over ``workers`` processes (default :func:`ticket_workers`): forked
    helpers hash and key the later chunks while this process does the first,
    and send their keys and digests back through a pipe, so the result is
    byte for byte the one-process result (a helper that fails has its chunk
    done here). hashlib holds the GIL for inputs this short, so threads would
    not help.
    """
    prefix = sha256_hex(seed).encode("utf-8")
    n = len(ids)
    if workers is None:
        workers = ticket_workers() if n >= PARALLEL_MIN_IDS else 1
    workers = max(1, min(workers, n))
    if workers == 1:
        return _tickets(prefix, ids)
    ctx = mp.get_context("fork")
    bounds = [n * k // workers for k in range(workers + 1)]
    helpers = []
    try:
        for k in range(1, workers):
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_helper, args=(send, prefix, ids[bounds[k]:bounds[k + 1]]),
                               daemon=True)
            proc.start()
            send.close()
            helpers.append((proc, receive))
        keys = np.empty(n, dtype=np.uint64)
        first_keys, first = _tickets(prefix, ids[:bounds[1]])
        keys[:bounds[1]] = first_keys
        parts = [first]
        for k, (_, receive) in enumerate(helpers, start=1):
            lo, hi = bounds[k], bounds[k + 1]
            try:
                answer = receive.recv_bytes()
            except EOFError:  # the helper died
                answer = b""
            if len(answer) == (8 + DIGEST_SIZE) * (hi - lo):
                keys[lo:hi] = np.frombuffer(answer, dtype=np.uint64, count=hi - lo)
                parts.append(answer[8 * (hi - lo):])
            else:  # no or a short answer: do its chunk here
                chunk_keys, chunk = _tickets(prefix, ids[lo:hi])
                keys[lo:hi] = chunk_keys
                parts.append(chunk)
        return keys, b"".join(parts)
    finally:
        for proc, receive in helpers:
            receive.close()
            proc.join(timeout=5)
            if proc.is_alive():  # pragma: no cover - only if a helper hangs
                proc.kill()
                proc.join()


def digest_at(digests: bytes, k: int) -> bytes:
    """The k-th 32-byte digest of a :func:`pool_tickets` result."""
    return digests[DIGEST_SIZE * k:DIGEST_SIZE * (k + 1)]


_MOD5 = 5**18  # 10^18 = 2^18 * 5^18: the low 18 digits by the Chinese remainder theorem
_LIMB_WEIGHTS = np.array([pow(2, 16 * (15 - k), _MOD5) for k in range(16)], dtype=np.uint64)
_INV5 = pow(_MOD5, -1, 1 << 18)  # 5^18 * _INV5 = 1 (mod 2^18)
_LOW18 = (1 << 18) - 1
_REVERSED_3 = np.array([int(f"{k:03d}"[::-1]) for k in range(1000)], dtype=np.uint64)


def _low_18_digits(digests: bytes, n: int) -> U64:
    """``int.from_bytes(d, "big") % 10**18`` of each of the n concatenated 32-byte digests."""
    limbs = np.frombuffer(digests, dtype=">u2", count=16 * n).reshape(n, 16)
    with np.errstate(over="ignore"):  # the wrap-around mod 2^64 below is intended
        # each term < 2^16 * 5^18 < 2^58: the sum of 16 stays below 2^62
        mod5 = limbs.astype(np.uint64) @ _LIMB_WEIGHTS
        mod5 %= np.uint64(_MOD5)
        mod2 = ((limbs[:, 14].astype(np.uint64) << np.uint64(16)) | limbs[:, 15]) \
            & np.uint64(_LOW18)
        # x = mod5 + 5^18 * t with t = (mod2 - mod5) / 5^18 (mod 2^18)
        t = ((mod2 - mod5) * np.uint64(_INV5)) & np.uint64(_LOW18)
        return mod5 + np.uint64(_MOD5) * t


def _reversed_9(x: npt.NDArray[np.uint32]) -> U64:
    """The 9 decimal digits of each value below 10^9 reversed, by three-digit table."""
    a = x // np.uint32(1_000_000)
    r = x - a * np.uint32(1_000_000)
    b = r // np.uint32(1000)
    c = r - b * np.uint32(1000)
    return (_REVERSED_3[c] * np.uint64(1000) + _REVERSED_3[b]) * np.uint64(1000) \
        + _REVERSED_3[a]


def _reversed_18(values: U64) -> U64:
    """The 18 decimal digits of each value reversed (== tickets._reverse_digits).

    Split into two 9-digit halves (32-bit arithmetic is faster):
    reverse(hi·10^9 + lo) = reverse9(lo)·10^9 + reverse9(hi).
    """
    v = values.astype(np.uint64)
    nine = np.uint64(10**9)
    hi = v // nine
    lo = (v - hi * nine).astype(np.uint32)
    return _reversed_9(lo) * nine + _reversed_9(hi.astype(np.uint32))


def ticket_from_digest(digest: bytes) -> str:
    """The full Rivest ticket behind a SHA-256 digest of :func:`pool_tickets`."""
    return "0." + f"{int.from_bytes(digest, 'big'):064d}"[::-1]


def pool_keys(ids: Sequence[str], seed: str) -> U64:
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
