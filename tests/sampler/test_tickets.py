from __future__ import annotations

import hashlib
import random

import numpy as np
from consistent_sampler import sampler
from hypothesis import given, settings
from hypothesis import strategies as st

from suiji.sampler import tickets
from suiji.sampler.pps import SCALE, inclusion_probabilities, pps_systematic


def test_ticket_string_matches_rivest_example() -> None:
    # The docstring example of consistent_sampler.first_fraction.
    assert tickets.ticket_string("AB-130", "01382438112797316654") == (
        "0.26299714122838008416507544297546663599715395525154425586041245287750224561854")


def test_keys_are_the_first_18_digits() -> None:
    ids = [f"id{i}" for i in range(200)]
    keys = tickets.ticket_keys(ids, "seed")
    for i, k in zip(ids, keys, strict=True):
        assert tickets.ticket_string(i, "seed")[2:20] == f"{int(k):018d}"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=60, unique=True),
       st.text(min_size=1, max_size=20), st.integers(min_value=0, max_value=70))
def test_smallest_equals_consistent_sampler(ids: list[str], seed: str, k: int) -> None:
    expected = list(sampler(ids, seed=seed, take=k, with_replacement=False, output="id"))
    assert tickets.smallest(ids, seed, k) == expected


def test_order_independent_and_consistent_for_subsets() -> None:
    ids = [f"9132{i:014d}" for i in range(3000)]
    shuffled = ids[:]
    random.Random(1).shuffle(shuffled)
    assert tickets.smallest(ids, "42", 100) == tickets.smallest(shuffled, "42", 100)
    subset = ids[::3]
    full_order = tickets.smallest(ids, "42", len(ids))
    assert tickets.smallest(subset, "42", 50) == [i for i in full_order if i in set(subset)][:50]


def test_ties_on_the_key_fall_back_to_full_ticket(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = ["a", "b", "c", "d"]
    real = tickets.ticket_keys(ids, "s")
    same = np.full_like(real, real.min())
    order = tickets.ticket_order(ids, "s", keys=same)
    assert [ids[i] for i in order] == sorted(ids, key=lambda i: tickets.ticket_string(i, "s"))


def test_mix64_is_deterministic_and_spreads() -> None:
    a = np.arange(1000, dtype=np.uint64)
    b = np.full(1000, 7, dtype=np.uint64)
    x = tickets.mix64(a, b)
    assert np.array_equal(x, tickets.mix64(a, b))
    assert len(set(x.tolist())) == 1000
    assert 0.4 < float(np.mean(x > np.uint64(2**63))) < 0.6


def test_pps_sample_size_and_parts_sum() -> None:
    ids = [f"u{i}" for i in range(50)]
    w = np.linspace(1, 20, 50)
    for seed in range(30):
        r = pps_systematic(ids, w, 12, str(seed))
        assert int(r.selected.sum()) == 12
        assert int(r.parts.sum()) == 12 * SCALE
        assert np.all(r.parts <= SCALE)


def test_pps_caps_certainty_units() -> None:
    pi = inclusion_probabilities([100, 1, 1, 1, 1], 2)
    assert pi[0] == 1.0
    assert np.allclose(pi[1:], 0.25)


def test_pps_inclusion_frequencies_match_stated_probabilities() -> None:
    ids = [f"u{i}" for i in range(12)]
    w = [1, 1, 2, 2, 3, 3, 4, 5, 8, 13, 0.5, 0.5]
    n, runs = 4, 1500
    counts = np.zeros(len(ids))
    probs = None
    for seed in range(runs):
        r = pps_systematic(ids, w, n, f"seed-{seed}")
        counts += r.selected
        probs = r.probabilities
    assert probs is not None
    freq = counts / runs
    sd = np.sqrt(probs * (1 - probs) / runs)
    # 4.5 standard deviations (plus a floor for certainty units with sd 0)
    assert np.all(np.abs(freq - probs) <= 4.5 * sd + 1e-9)


def test_pool_tickets_on_several_processes_equal_one_process(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tickets, "_BLOCK_IDS", 1000)  # several blocks per process
    ids = [f"9132{i:014d}" for i in range(5003)] + ["甲乙", "AB-130"]
    keys, one = tickets.pool_tickets(ids, "s", workers=1)
    assert len(one) == 32 * len(ids)
    assert np.array_equal(keys, tickets.ticket_keys(ids, "s"))
    assert tickets.digest_at(one, len(ids) - 1) == hashlib.sha256(
        (tickets.sha256_hex("s") + "AB-130").encode()).digest()
    if tickets.ticket_workers() == 1:  # no fork here: the default must not try one
        assert tickets.pool_tickets(ids, "s")[1] == one
        return
    for workers in (2, 3):
        got_keys, got = tickets.pool_tickets(ids, "s", workers=workers)
        assert got == one and np.array_equal(got_keys, keys)
    # a helper that dies without answering: its chunk is done here, same result
    monkeypatch.setattr(tickets, "_helper", lambda conn, prefix, chunk: conn.close())
    got_keys, got = tickets.pool_tickets(ids, "s", workers=2)
    assert got == one and np.array_equal(got_keys, keys)


def test_large_pools_use_the_other_cores_by_default(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seen: list[int] = []
    monkeypatch.setattr(tickets, "PARALLEL_MIN_IDS", 1000)
    monkeypatch.setattr(tickets.mp.context.ForkProcess, "start",
                        lambda self, _start=tickets.mp.context.ForkProcess.start:
                        (seen.append(1), _start(self))[1])
    ids = [f"id{i}" for i in range(2000)]
    assert tickets.pool_tickets(ids, "s")[1] == tickets.pool_tickets(ids, "s", workers=1)[1]
    assert len(seen) == tickets.ticket_workers() - 1
    assert tickets.pool_tickets(ids[:999], "s")[1] == tickets.pool_tickets(ids[:999], "s", 1)[1]
    assert len(seen) == tickets.ticket_workers() - 1  # below the threshold: no helper


def test_fast_key_arithmetic_equals_python_integers() -> None:
    rng = np.random.default_rng(3)
    digests = rng.integers(0, 256, size=32 * 4000, dtype=np.uint8).tobytes()
    digests += b"\xff" * 32 + b"\x00" * 32  # the extremes
    n = len(digests) // 32
    low = tickets._low_18_digits(digests, n)
    want = [int.from_bytes(digests[32 * k:32 * k + 32], "big") % 10**18 for k in range(n)]
    assert low.tolist() == want
    assert tickets._reversed_18(low).tolist() == [int(f"{w:018d}"[::-1]) for w in want]
