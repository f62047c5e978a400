"""The exact date search: days for a component's firms when the greedy repair fails.

ALGORITHM.md ("Teams and dates", step 6) specifies it for reimplementation; it
replaces the CP-SAT date fallback of ``suiji-inspections/1`` and ``/2`` in
``suiji-inspections/3``. A depth-first search over the firms in a fixed
order, each firm trying its days in a fixed order, keeps a partial assignment
only while the firms placed so far admit teams: a maximum flow of
firm -> (inspector, day) -> inspector -> sink with ``team_size`` per firm, the
daily and the period capacities, routes all their supply. Whether it does is
a fact of the instance, not of a solver, so every implementation finds the
same days. The search is complete: it ends with days, with the proof that no
plan exists, or after :data:`MAX_TRIES` tries (a count, never a clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

MAX_TRIES = 20_000
"""Candidate (firm, day) tests before the search gives up (ALGORITHM.md)."""


class SearchStatus(StrEnum):
    FOUND = "found"
    NO_PLAN = "no_plan"  # the search is exhausted: no days admit teams
    GAVE_UP = "gave_up"  # MAX_TRIES tests without an answer


@dataclass(frozen=True)
class SearchResult:
    status: SearchStatus
    days: tuple[int, ...]  # per firm of the order given, its day (FOUND only)
    tries: int


class _Flow:
    """An incremental maximum flow on firm -> (inspector, day) -> inspector -> sink.

    Firms are added one at a time with their team-size units and removed in
    reverse order (depth-first), so each step is a few augmenting paths.
    """

    SINK = 0

    def __init__(self, daily: Sequence[int], cap: Sequence[int]) -> None:
        self.daily, self.cap = daily, cap
        self.head: list[int] = []
        self.residual: list[int] = []
        self.out: list[list[int]] = [[]]  # node 0 is the sink
        self.inspector: dict[int, int] = {}
        self.cell: dict[tuple[int, int], int] = {}

    def _node(self) -> int:
        self.out.append([])
        return len(self.out) - 1

    def _arc(self, a: int, b: int, capacity: int) -> None:
        self.head += [b, a]
        self.residual += [capacity, 0]
        self.out[a].append(len(self.head) - 2)
        self.out[b].append(len(self.head) - 1)

    def _cell(self, j: int, d: int) -> int:
        node = self.cell.get((j, d))
        if node is None:
            if j not in self.inspector:
                self.inspector[j] = self._node()
                self._arc(self.inspector[j], self.SINK, self.cap[j])
            node = self.cell[(j, d)] = self._node()
            self._arc(node, self.inspector[j], self.daily[j])
        return node

    def add(self, inspectors: Sequence[int], d: int, units: int) -> list[int] | None:
        """Add a firm with ``units`` of supply on day ``d``; its path arcs, or None (undone)."""
        firm = self._node()
        for j in inspectors:
            self._arc(firm, self._cell(j, d), 1)
        used: list[int] = []
        for _ in range(units):
            path = self._augmenting_path(firm)
            if path is None:
                self._undo(firm, used)
                return None
            for e in path:
                self.residual[e] -= 1
                self.residual[e ^ 1] += 1
            used += path
        return [firm, *used]

    def remove(self, record: list[int]) -> None:
        self._undo(record[0], record[1:])

    def _undo(self, firm: int, used: list[int]) -> None:
        for e in reversed(used):
            self.residual[e] += 1
            self.residual[e ^ 1] -= 1
        # the firm's arcs are the last ones added to its cells' lists: drop them
        for e in self.out[firm]:
            other = self.head[e]
            self.out[other].remove(e ^ 1)
        self.out[firm] = []

    def _augmenting_path(self, source: int) -> list[int] | None:
        prev = {source: -1}
        queue = [source]
        for v in queue:
            for e in self.out[v]:
                w = self.head[e]
                if self.residual[e] > 0 and w not in prev:
                    prev[w] = e
                    if w == self.SINK:
                        path = []
                        while w != source:
                            e = prev[w]
                            path.append(e)
                            w = self.head[e ^ 1]
                        return path
                    queue.append(w)
        return None


def search_dates(inspectors: Sequence[Sequence[int]], candidates: Sequence[Sequence[int]],
                 available: Sequence[Sequence[bool]], daily: Sequence[int], cap: Sequence[int],
                 team_size: int, max_tries: int = MAX_TRIES) -> SearchResult:
    """Days for firms placed in the given order, each trying ``candidates[i]`` in order.

    ``inspectors[i]`` are firm i's eligible inspectors, ``available[j][d]``
    says inspector j works on day d. A firm on day d may use its eligible
    inspectors available on d; a partial assignment is kept while the placed
    firms admit teams (see the module docstring).
    """
    n = len(inspectors)
    flow = _Flow(daily, cap)
    chosen: list[int] = []
    records: list[list[int]] = []
    nxt = [0] * n
    tries = 0
    i = 0
    while i < n:
        placed = False
        while nxt[i] < len(candidates[i]):
            d = candidates[i][nxt[i]]
            nxt[i] += 1
            tries += 1
            if tries > max_tries:
                return SearchResult(SearchStatus.GAVE_UP, (), max_tries)
            record = flow.add([j for j in inspectors[i] if available[j][d]], d, team_size)
            if record is not None:
                chosen.append(d)
                records.append(record)
                placed = True
                break
        if placed:
            i += 1
            if i < n:
                nxt[i] = 0
            continue
        if i == 0:
            return SearchResult(SearchStatus.NO_PLAN, (), tries)
        i -= 1
        chosen.pop()
        flow.remove(records.pop())
    return SearchResult(SearchStatus.FOUND, tuple(chosen), tries)
