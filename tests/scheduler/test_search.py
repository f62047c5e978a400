"""The exact date search (ALGORITHM.md, Teams and dates, step 6): tiny instances by hand, and
on random ones the first feasible days in the search order, found by brute force."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from suiji.scheduler.flow import min_cost_flow
from suiji.scheduler.search import SearchStatus, search_dates


def admits_teams(inspectors: list[list[int]], days: tuple[int, ...],
                 available: list[list[bool]], daily: list[int], cap: list[int],
                 team_size: int) -> bool:
    """Brute-force check with suiji's flow: do these days admit teams?"""
    n_f, n_j, n_d = len(inspectors), len(daily), len(available[0])
    cell = lambda j, d: n_f + j * n_d + d  # noqa: E731
    insp = lambda j: n_f + n_j * n_d + j  # noqa: E731
    sink = n_f + n_j * n_d + n_j
    tails, heads, caps = [], [], []
    for f, js in enumerate(inspectors):
        for j in js:
            if available[j][days[f]]:
                tails.append(f)
                heads.append(cell(j, days[f]))
                caps.append(1)
    for j in range(n_j):
        for d in range(n_d):
            tails.append(cell(j, d))
            heads.append(insp(j))
            caps.append(daily[j])
        tails.append(insp(j))
        heads.append(sink)
        caps.append(cap[j])
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_f] = team_size
    supplies[sink] = -team_size * n_f
    res = min_cost_flow(sink + 1, tails, heads, caps, np.zeros(len(tails), np.int64), supplies,
                        max_flow=True)
    return bool(res.optimal and not res.unrouted[:n_f].any())


def test_the_second_firm_moves_to_the_next_day() -> None:
    # two inspectors, one inspection a day each, team of 2: one firm per day
    res = search_dates([[0, 1], [0, 1]], [[0, 1], [0, 1]], [[True, True], [True, True]],
                       [1, 1], [5, 5], 2)
    assert res.status is SearchStatus.FOUND and res.days == (0, 1) and res.tries == 3


def test_no_plan_is_proven_by_exhausting_the_search() -> None:
    res = search_dates([[0, 1]] * 3, [[0, 1]] * 3, [[True, True], [True, True]], [1, 1],
                       [5, 5], 2)
    assert res.status is SearchStatus.NO_PLAN and res.days == ()


def test_the_search_stops_after_a_count_of_tries_not_a_clock() -> None:
    args = ([[0, 1]] * 3, [[0, 1]] * 3, [[True, True], [True, True]], [1, 1], [5, 5], 2)
    full = search_dates(*args)
    assert full.status is SearchStatus.NO_PLAN
    stopped = search_dates(*args, max_tries=full.tries - 1)
    assert stopped.status is SearchStatus.GAVE_UP and stopped.tries == full.tries - 1
    assert search_dates(*args, max_tries=full.tries).status is SearchStatus.NO_PLAN


def test_an_earlier_firm_gives_up_its_day() -> None:
    # a, b, c take one inspection a day; c is on leave on day 1. Firm 1 needs a and c, so
    # only day 0; firm 0 takes day 0 first, then gives it up for day 1.
    available = [[True, True], [True, True], [True, False]]
    res = search_dates([[0, 1, 2], [0, 2]], [[0, 1], [1, 0]], available, [1, 1, 1],
                       [5, 5, 5], 2)
    assert res.status is SearchStatus.FOUND and res.days == (1, 0) and res.tries == 6


@pytest.mark.parametrize("case", range(60))
def test_the_search_finds_the_first_feasible_days_in_its_order(case: int) -> None:
    rng = random.Random(case)
    n_f, n_j, n_d, ts = rng.randint(2, 5), rng.randint(2, 5), rng.randint(1, 3), 2
    inspectors = [sorted(rng.sample(range(n_j), rng.randint(2, n_j))) for _ in range(n_f)]
    available = [[rng.random() < 0.8 for _ in range(n_d)] for _ in range(n_j)]
    daily = [rng.randint(1, 2) for _ in range(n_j)]
    cap = [rng.randint(1, 4) for _ in range(n_j)]
    candidates = [rng.sample(range(n_d), n_d) for _ in range(n_f)]
    res = search_dates(inspectors, candidates, available, daily, cap, ts)
    # depth first with exact pruning = the first feasible assignment in lexicographic order
    first = next((days for choice in itertools.product(range(n_d), repeat=n_f)
                  if admits_teams(inspectors, days := tuple(candidates[f][c] for f, c in
                                                            enumerate(choice)),
                                  available, daily, cap, ts)), None)
    if first is None:
        assert res.status is SearchStatus.NO_PLAN
    else:
        assert res.status is SearchStatus.FOUND and res.days == first
