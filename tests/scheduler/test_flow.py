"""suiji.scheduler.flow: optimum, status and the uniqueness proof, checked by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from suiji.scheduler.flow import (
    COST_BITS,
    FlowStatus,
    assign,
    min_cost_flow,
    pair_costs,
)


def brute_assign(d, cap, at, ap, ac, shortfall=False):
    """All 0/1 arc choices: (best (seats, -cost), number of optima, an optimal mask)."""
    best, count, arg = None, 0, None
    for mask in itertools.product([0, 1], repeat=len(at)):
        m = np.array(mask)
        load_t = np.bincount(at, weights=m, minlength=len(d))
        if np.any(np.bincount(ap, weights=m, minlength=len(cap)) > cap):
            continue
        if np.any(load_t > d) or (not shortfall and np.any(load_t != d)):
            continue
        key = (int(m.sum()), -int((m * ac).sum()))
        if best is None or key > best:
            best, count, arg = key, 1, m
        elif key == best:
            count += 1
    return best, count, arg


def random_bipartite(rng):
    nt, npp = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    d = rng.integers(1, 3, size=nt)
    cap = rng.integers(1, 3, size=npp)
    pairs = [(t, p) for t in range(nt) for p in range(npp) if rng.random() < 0.75]
    at = np.array([a for a, _ in pairs], dtype=np.int64)
    ap = np.array([b for _, b in pairs], dtype=np.int64)
    ac = rng.integers(0, 4, size=len(pairs))  # small costs: many ties on purpose
    return d, cap, at, ap, ac


@pytest.mark.parametrize("shortfall", [False, True])
def test_assign_matches_brute_force(shortfall):
    rng = np.random.default_rng(7 + shortfall)
    seen = {"unique": 0, "tied": 0, "infeasible": 0}
    for _ in range(250):
        d, cap, at, ap, ac = random_bipartite(rng)
        best, count, arg = brute_assign(d, cap, at, ap, ac, shortfall)
        res = assign(d, cap, at, ap, ac, allow_shortfall=shortfall)
        if best is None:  # only possible without shortfall
            assert res.status is FlowStatus.INFEASIBLE
            seen["infeasible"] += 1
            continue
        assert res.status is FlowStatus.OPTIMAL
        seats, neg_cost = best
        assert int(res.used.sum()) == seats
        assert res.cost == -neg_cost
        assert int(res.shortfall.sum()) == int(d.sum()) - seats
        assert res.unique == (count == 1)
        if count == 1:
            assert np.array_equal(res.used, arg.astype(bool))
            seen["unique"] += 1
        else:
            assert res.flow.tie_break_rounds >= 1 and res.flow.tie_break_unique
            assert res.flow.reproducible
            seen["tied"] += 1
        # the solution is feasible
        assert np.all(np.bincount(ap[res.used], minlength=len(cap)) <= cap)
        assert np.all(np.bincount(at[res.used], minlength=len(d)) + res.shortfall == d)
    assert seen["unique"] > 20 and seen["tied"] > 20
    assert shortfall or seen["infeasible"] > 5


def brute_flow(n, tails, heads, caps, costs, supplies):
    best, count = None, 0
    for f in itertools.product(*[range(c + 1) for c in caps]):
        fa = np.array(f)
        net = np.zeros(n, dtype=np.int64)
        np.add.at(net, tails, fa)
        np.subtract.at(net, heads, fa)
        if np.any(net != supplies):
            continue
        c = int((fa * costs).sum())
        if best is None or c < best:
            best, count = c, 1
        elif c == best:
            count += 1
    return best, count


def test_general_graph_matches_brute_force():
    """Parallel arcs, antiparallel arcs, capacities > 1 and partial flows."""
    rng = np.random.default_rng(11)
    kinds = {"unique": 0, "tied": 0}
    for _ in range(200):
        n = int(rng.integers(3, 5))
        m = int(rng.integers(3, 7))
        tails = rng.integers(0, n, size=m)
        heads = (tails + rng.integers(1, n, size=m)) % n  # no self-loops
        caps = rng.integers(1, 3, size=m)
        costs = rng.integers(-1, 2, size=m)
        supplies = np.zeros(n, dtype=np.int64)
        supplies[0], supplies[n - 1] = 2, -2
        best, count = brute_flow(n, tails, heads, caps, costs, supplies)
        res = min_cost_flow(n, tails, heads, caps, costs, supplies)
        if best is None:
            assert res.status is FlowStatus.INFEASIBLE
            continue
        assert res.status is FlowStatus.OPTIMAL
        assert res.cost == best
        assert res.unique == (count == 1)
        kinds["unique" if count == 1 else "tied"] += 1
    assert kinds["unique"] > 10 and kinds["tied"] > 10


def test_tie_break_is_deterministic_and_optimal():
    # 3 tasks x 3 people, every cost equal: 6 perfect matchings tie
    at = np.repeat(np.arange(3), 3)
    ap = np.tile(np.arange(3), 3)
    results = [assign([1, 1, 1], [1, 1, 1], at, ap, np.zeros(9)) for _ in range(3)]
    assert not results[0].unique
    assert results[0].flow.tie_break_unique
    assert all(np.array_equal(r.used, results[0].used) for r in results)
    assert np.array_equal(np.bincount(at[results[0].used], minlength=3), [1, 1, 1])


def test_status_is_explicit():
    unbalanced = min_cost_flow(2, [0], [1], [1], [1], [1, 0])
    assert unbalanced.status is FlowStatus.UNBALANCED and not unbalanced.optimal
    infeasible = min_cost_flow(2, [0], [1], [1], [1], [2, -2])
    assert infeasible.status is FlowStatus.INFEASIBLE
    assert not infeasible.reproducible
    maxed = min_cost_flow(2, [0], [1], [1], [5], [2, -2], max_flow=True)
    assert maxed.status is FlowStatus.OPTIMAL and maxed.cost == 5
    assert maxed.unrouted.tolist() == [1, -1]
    assert maxed.summary()["unrouted"] == 1


def test_result_arrays_are_read_only():
    res = assign([2], [1, 1], [0, 0], [0, 1], [3, 4])
    assert res.used.tolist() == [True, True] and res.cost == 7 and res.unique
    with pytest.raises(ValueError):
        res.used[0] = False
    with pytest.raises(ValueError):
        res.flow.flow[0] = 0


def test_overflow_and_bad_input_are_refused():
    with pytest.raises(ValueError, match="overflow"):
        min_cost_flow(2, [0], [1], [1], [2**61], [1, -1])
    with pytest.raises(ValueError, match="twice"):
        assign([1], [1], [0, 0], [0, 0], [1, 2])
    with pytest.raises(ValueError, match="range"):
        assign([1], [1], [0], [3], [1])


def test_pair_costs_are_in_range_and_spread():
    keys = np.arange(1, 2001, dtype=np.uint64) * np.uint64(982451653)
    costs = pair_costs(keys, keys[::-1].copy())
    assert costs.min() >= 0 and costs.max() < 2**COST_BITS
    assert np.unique(costs).size == costs.size
    # roughly uniform: each quarter of the range holds about a quarter of the costs
    quarters = np.bincount(costs >> (COST_BITS - 2), minlength=4)
    assert np.all(np.abs(quarters - 500) < 5 * np.sqrt(2000 * 0.25 * 0.75))
