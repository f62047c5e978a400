"""Teams: every drawn inspection gets a working day and a team (DOMAIN.md §3 rules 5-6).

:func:`schedule` is a pure function of its frames, the working days, the
rules and the seed. In short (ALGORITHM.md, "Teams and dates", has every
formula):

1. **Eligibility** (:mod:`suiji.scheduler.eligibility`): who may inspect
   which firm on which day.
2. **Dates** (:mod:`suiji.scheduler.dates`): a systematic spread of each
   (city, district)'s firms over the working days.
3. **Teams.** One min-cost flow per connected component of the eligibility
   graph: firm -> (inspector, day) -> inspector -> sink, capacities
   ``team_size`` / 1 / daily / period. Arc costs are
   ``mix64(key(uscc), key(badge)) >> 28`` with ticket keys under
   ``seed|teams:firms`` and ``seed|teams:inspectors``; the optimum is proven
   unique (:mod:`suiji.scheduler.flow`), so any correct solver gives the same
   teams.
4. **Repair** (:mod:`suiji.scheduler.dates`): firms the flow cannot staff on
   their day are moved and the flow is solved again. Only if that fails does
   the exact date search (:mod:`suiji.scheduler.search`) choose the days of
   every firm of the component, and the plan says so (``+date-search``); it
   ends with days, with the proof that no plan exists, or with a refusal after
   a fixed count of tries. No solver time limit and no CP-SAT decide a new
   plan; the CP-SAT fallback of earlier versions is kept only to verify their
   plans (``legacy_cpsat``).

When no plan exists, :class:`~suiji.data.errors.InfeasibleError` names the
binding district, day or inspector group and what to change
(:mod:`suiji.scheduler.diagnosis`). :func:`substitute` replaces one inspector
in the pending inspections of a plan.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from suiji.data.errors import BugError, InfeasibleError
from suiji.data.progress import Progress
from suiji.data.rules import InspectionRules
from suiji.sampler.tickets import derived_seed, pool_keys
from suiji.scheduler.dates import (
    redate,
    search_component_dates,
    solve_all_dates,
    solve_stuck_dates,
    spread_dates,
)
from suiji.scheduler.diagnosis import check_capacity, check_firms, describe_firm
from suiji.scheduler.eligibility import I64, Instance, prepare
from suiji.scheduler.flow import COST_BITS, FlowResult, distinct, min_cost_flow, pair_costs

METHOD = "min-cost-flow"
_REPAIR_ROUNDS = 4
_GUESS_PER_MEMBER = 3  # candidate arcs per firm in the first solve: 3 x team_size cheapest
# ... and in the fast attempt before it: 5 x team_size (one solve where 3 x often needs two);
# the result is the same whenever the optimum is unique, and ties fall back to the 3 x guess
_FAST_GUESS_PER_MEMBER = 5


# --- results ------------------------------------------------------------------


# --- results ------------------------------------------------------------------


@dataclass(frozen=True)
class TeamAssignment:
    """One inspection: the firm, its working day (ISO) and its team (sorted badges)."""

    uscc: str
    date: str
    badges: tuple[str, ...]

    def __post_init__(self) -> None:
        date.fromisoformat(self.date)
        if len(self.badges) < 2:
            raise ValueError(f"{self.uscc}: a team needs at least two inspectors")
        if len(set(self.badges)) != len(self.badges) or list(self.badges) != sorted(self.badges):
            raise ValueError(f"{self.uscc}: badges must be distinct and sorted")

    def record(self) -> dict[str, Any]:
        return {"uscc": self.uscc, "date": self.date, "badges": list(self.badges)}


@dataclass(frozen=True)
class SolverStats:
    """What the solver did; deterministic (no times), so it can be hashed and stored."""

    status: str  # "optimal"
    method: str  # "min-cost-flow", or "min-cost-flow+cp-sat-dates"
    objective: int  # sum of the chosen arc costs
    unique: bool  # every component's optimum proven unique
    tie_breaks: int  # components whose ties were broken by secondary costs
    arcs: int
    nodes: int
    components: int
    moved: int  # inspections moved off their first date by the repair
    rounds: int  # largest number of flow solves in one component

    def __post_init__(self) -> None:
        if self.status != "optimal":
            raise ValueError("a Schedule only exists for an optimal solve")

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "method": self.method, "objective": self.objective,
                "unique": self.unique, "tie_breaks": self.tie_breaks, "arcs": self.arcs,
                "nodes": self.nodes, "components": self.components, "moved": self.moved,
                "rounds": self.rounds}


@dataclass(frozen=True)
class Schedule:
    """Every inspection's date and team, sorted by USCC, and the solver's stats.

    ``timings`` (seconds per phase) is for benchmarks only: it is not part of
    :meth:`to_json` and not compared.
    """

    items: tuple[TeamAssignment, ...]
    stats: SolverStats
    timings: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}),
                                         compare=False)

    def __post_init__(self) -> None:
        ids = [i.uscc for i in self.items]
        if ids != sorted(ids) or len(set(ids)) != len(ids):
            raise ValueError("schedule items must be sorted by uscc without duplicates")

    def records(self) -> list[dict[str, Any]]:
        return [i.record() for i in self.items]

    def to_json(self) -> dict[str, Any]:
        return {"items": self.records(), "solver": self.stats.as_dict()}


# --- one component --------------------------------------------------------------


@dataclass
class _Solved:
    used: npt.NDArray[np.bool_]  # per pair of the component
    shortfall: I64  # per firm of the component
    flow: FlowResult


def _solve_component(inst: Instance, firms: I64, pidx: I64, dates: I64, cost: I64
                     ) -> _Solved:
    """firm -> (inspector, day) -> inspector -> sink, for the firms of one component."""
    ts = inst.team_size
    n_d = len(inst.days)
    pf, pj = inst.pair_f[pidx], inst.pair_j[pidx]
    pd_ = dates[pf]
    valid = inst.avail[pj, pd_]
    # local firm of each pair: pairs are sorted by firm and all belong to ``firms``
    lf = np.repeat(np.arange(firms.size), np.diff(np.append(np.searchsorted(pf, firms),
                                                            pf.size)))
    vj = pj[valid]
    # the component's inspectors (sorted) and each arc's local inspector, without sorting
    seen = np.zeros(inst.badge.size, dtype=bool)
    seen[vj] = True
    js = np.flatnonzero(seen)
    local_j = (np.cumsum(seen) - 1)[vj]
    # an (inspector, day) node only where its daily capacity can bind; cells
    # (local inspector, day) in (inspector, day) order, counted without sorting
    cell = local_j * n_d + pd_[valid]
    count = np.bincount(cell, minlength=js.size * n_d)
    binding_cell = count > np.repeat(inst.daily[js], n_d)
    node_of_cell = np.cumsum(binding_cell) - 1
    k_cell = np.flatnonzero(binding_cell)
    n_f, n_k, n_j = firms.size, k_cell.size, js.size
    sink = n_f + n_k + n_j
    vt = lf[valid]
    via = binding_cell[cell]
    vh = np.where(via, n_f + node_of_cell[cell], n_f + n_k + cell // n_d)
    k_j = js[k_cell // n_d]
    tails = np.concatenate([vt, n_f + np.arange(n_k), n_f + n_k + np.arange(n_j)])
    heads = np.concatenate([vh, n_f + n_k + k_cell // n_d, np.full(n_j, sink)])
    caps = np.concatenate([np.ones(vt.size, np.int64), inst.daily[k_j], inst.cap[js]])
    costs = np.concatenate([cost[pidx][valid], np.zeros(n_k + n_j, np.int64)])
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_f] = ts
    supplies[sink] = -ts * n_f
    # guess: each firm's cheapest arcs (sorted by firm, then cost); pricing proves the rest
    arc_costs = costs[: vt.size]
    inner = np.ones(n_k + n_j, bool)
    res = min_cost_flow(sink + 1, tails, heads, caps, costs, supplies, max_flow=True,
                        candidates=np.concatenate([
                            _cheapest(vt, arc_costs, n_f, _FAST_GUESS_PER_MEMBER * ts), inner]))
    if not (res.optimal and res.unique):  # ties: decided exactly as with the plain guess
        res = min_cost_flow(sink + 1, tails, heads, caps, costs, supplies, max_flow=True,
                            candidates=np.concatenate([
                                _cheapest(vt, arc_costs, n_f, _GUESS_PER_MEMBER * ts), inner]))
    if not res.optimal:
        raise BugError(f"The team assignment solver returned {res.status}; "
                       f"please report this as a bug.")
    used = np.zeros(pidx.size, dtype=bool)
    used[np.flatnonzero(valid)] = res.flow[: vt.size] > 0
    return _Solved(used, res.unrouted[:n_f].copy(), res)


def _cheapest(vt: I64, costs: I64, n_f: int, k: int) -> npt.NDArray[np.bool_]:
    """Each firm's ``k`` cheapest arcs (ties: the earlier arc); ``vt`` (the arc's firm) is sorted.

    The same arcs as ranking every firm's arcs by ``np.lexsort((costs, vt))``.
    """
    m = vt.size
    per_firm = np.bincount(vt, minlength=n_f)
    width = int(per_firm.max()) if m else 0
    if width <= k:
        return np.ones(m, dtype=bool)
    pos = np.arange(m) - (np.cumsum(per_firm) - per_firm)[vt]  # the arc's place in its firm
    if (width < 1 << (63 - COST_BITS) and n_f * width <= 4 * m + 4096
            and costs.min() >= 0 and costs.max() < 1 << COST_BITS):
        # one row per firm: the k-th smallest (cost, place) key, found by partition
        key = costs * width + pos
        flat = np.full(n_f * width, np.iinfo(np.int64).max, dtype=np.int64)
        flat[vt * width + pos] = key
        kth = np.partition(flat.reshape(n_f, width), k - 1, axis=1)[:, k - 1]
        return np.asarray(key <= kth[vt], dtype=bool)
    first = np.lexsort((costs, vt))
    rank = np.empty(m, dtype=np.int64)
    rank[first] = pos  # sorted within each firm: place in the sorted order
    return rank < k


DATE_SEARCH = "date-search"  # solver.method suffix of suiji-inspections/3 (ALGORITHM.md)
CPSAT_DATES = "cp-sat-dates"  # ... of the legacy CP-SAT fallback of suiji-inspections/1


def _schedule_component(inst: Instance, firms: I64, pidx: I64, dates: I64, cost: I64,
                        seed: str) -> tuple[_Solved, int, int, str]:
    """Solve, repair dates, solve again. Returns (solution, rounds, moved, fallback).

    When the greedy repair leaves a firm without a day, or does not converge,
    the exact date search chooses the days of every firm of the component
    (``fallback`` is :data:`DATE_SEARCH`; it proves when no plan exists) and
    the min-cost flow then fixes the teams on those days.
    """
    moved_total: set[int] = set()
    for rounds in range(1, _REPAIR_ROUNDS + 2):
        solved = _solve_component(inst, firms, pidx, dates, cost)
        if not np.any(solved.shortfall):
            return solved, rounds, len(moved_total), ""
        if rounds > _REPAIR_ROUNDS:
            break
        moved, stuck = redate(inst, firms, pidx, dates, cost, solved.used, solved.shortfall,
                              seed)
        moved_total.update(moved.tolist())
        if stuck.size:
            break
    short = firms[solved.shortfall > 0]  # the firms short in the last solve
    before = dates.copy()
    check_capacity(inst, firms)
    search_component_dates(inst, firms, pidx, dates, short, seed)
    moved_total.update(np.flatnonzero(before != dates).tolist())
    solved = _solve_component(inst, firms, pidx, dates, cost)
    if np.any(solved.shortfall):  # the searched days admit teams: the flow must find them
        raise BugError("internal error: the team flow disagrees with the date search; "
                       "please report this")
    return solved, rounds + 1, len(moved_total), DATE_SEARCH


def _schedule_component_cpsat(inst: Instance, firms: I64, pidx: I64, dates: I64, cost: I64,
                              seed: str) -> tuple[_Solved, int, int, str]:
    """:func:`_schedule_component` as ``suiji-inspections/1`` drew it, with CP-SAT dates.

    For verifying plans recorded before the date search existed only: when the
    greedy repair and the CP-SAT model for the stuck firms' dates fail, or
    the repair does not converge, CP-SAT chooses the dates of all the
    component's firms; the min-cost flow then fixes the teams on those dates.
    Such dates depend on the OR-Tools version and a time limit (ALGORITHM.md,
    "Which algorithm id covers what"); no new draw comes here.
    """
    moved_total: set[int] = set()
    used_cpsat = False
    for rounds in range(1, _REPAIR_ROUNDS + 2):
        solved = _solve_component(inst, firms, pidx, dates, cost)
        if not np.any(solved.shortfall):
            return solved, rounds, len(moved_total), CPSAT_DATES if used_cpsat else ""
        if rounds > _REPAIR_ROUNDS:
            break
        moved, stuck = redate(inst, firms, pidx, dates, cost, solved.used, solved.shortfall,
                              seed)
        moved_total.update(moved.tolist())
        if stuck.size:
            before = dates.copy()
            check_capacity(inst, firms)
            status = solve_stuck_dates(inst, firms, pidx, dates, stuck, seed)
            if status not in ("OPTIMAL", "FEASIBLE"):
                dates[:] = before  # an unsolved model leaves the dates as they were
                solve_all_dates(inst, firms, pidx, dates, stuck, seed)
            used_cpsat = True
            moved_total.update(np.flatnonzero(before != dates).tolist())
    # the repair did not converge: every firm of the component may move
    short = firms[solved.shortfall > 0]
    before = dates.copy()
    check_capacity(inst, firms)
    solve_all_dates(inst, firms, pidx, dates, short, seed)
    moved_total.update(np.flatnonzero(before != dates).tolist())
    solved = _solve_component(inst, firms, pidx, dates, cost)
    if np.any(solved.shortfall):  # CP-SAT found teams on these dates: the flow must too
        raise BugError("internal error: the team flow disagrees with the CP-SAT dates; "
                       "please report this")
    return solved, rounds + 1, len(moved_total), CPSAT_DATES


# --- entry points ---------------------------------------------------------------


def _components(inst: Instance) -> tuple[I64, I64]:
    """Component label of every firm and of every pair (firms and inspectors linked by pairs)."""
    n_f = inst.uscc.size
    from suiji.scheduler.flow import _components as union_find
    root = union_find(n_f + inst.badge.size, inst.pair_f, n_f + inst.pair_j)
    return root[:n_f], root[inst.pair_f]


def team_costs(inst: Instance, seed: str) -> I64:
    kf = pool_keys(list(inst.uscc), derived_seed(seed, "teams:firms"))
    kj = pool_keys(list(inst.badge), derived_seed(seed, "teams:inspectors"))
    return pair_costs(kf[inst.pair_f], kj[inst.pair_j])


def schedule(inspections: pd.DataFrame, inspectors: pd.DataFrame, leave: pd.DataFrame,
             conflicts: pd.DataFrame, history: pd.DataFrame, working_days: Sequence[date],
             rules: InspectionRules, seed: str, progress: Progress | None = None, *,
             previous_teams: pd.DataFrame | None = None,
             period_start: date | None = None, legacy_cpsat: bool = False) -> Schedule:
    """Give every inspection a working day and a team of ``rules.team_size`` inspectors.

    ``inspections``: uscc, name, district, city (may be empty). The other
    frames are the canonical snapshot files (inspectors, inspector-leave,
    conflicts, history). ``previous_teams`` (uscc, badge, optional date) are
    the teams of earlier plans, for ``avoid_last_inspector``. Conflicts whose
    ``until`` lies before ``period_start`` (default: the first working day)
    are ignored. Raises :class:`InfeasibleError` naming what binds.

    When the greedy repair fails, the exact date search chooses the days
    (``suiji-inspections/3``, ``solver.method`` ``min-cost-flow+date-search``).
    ``legacy_cpsat`` replays the CP-SAT date fallback of
    ``suiji-inspections/1`` and ``/2`` instead: for verifying plans recorded with it only.
    """
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    if progress is not None:
        progress.step("排班 eligibility")
    inst = prepare(inspections, inspectors, leave, conflicts, history, working_days, rules,
                   previous_teams, period_start)
    check_firms(inst, rules)
    cost = team_costs(inst, seed)
    lap("prepare")
    if progress is not None:
        progress.step("排班 dates")
    dates = spread_dates(inst, seed)
    comp_f, comp_p = _components(inst)
    lap("dates")
    if progress is not None:
        progress.step("排班 teams")
        progress.total = int(distinct(comp_f).size) if comp_f.size else 0
    # group firms and pairs by component (pairs stay sorted by firm, inspector)
    if comp_f.size and comp_f.min() == comp_f.max():  # one component (a city): no sorting
        f_order, p_order = np.arange(comp_f.size), np.arange(comp_p.size)
        labels, f_starts, p_starts = comp_f[:1], np.zeros(1, np.intp), np.zeros(1, np.intp)
    else:
        f_order = np.argsort(comp_f, kind="stable")
        labels, f_starts = np.unique(comp_f[f_order], return_index=True)
        p_order = np.argsort(comp_p, kind="stable")
        p_starts = np.searchsorted(comp_p[p_order], labels)
    f_bounds = np.append(f_starts, f_order.size)
    p_bounds = np.append(p_starts, p_order.size)
    used = np.zeros(inst.pair_f.size, dtype=bool)
    objective = arcs = nodes = moved = tie_breaks = max_rounds = 0
    unique = True
    fallback = ""
    solve = _schedule_component_cpsat if legacy_cpsat else _schedule_component
    for k in range(labels.size):
        # a stable argsort keeps each component's firms and pairs in increasing order
        firms = f_order[f_bounds[k]: f_bounds[k + 1]]
        pidx = p_order[p_bounds[k]: p_bounds[k + 1]]
        solved, rounds, n_moved, kind = solve(
            inst, firms, pidx, dates, cost, seed)
        used[pidx] = solved.used
        fr = solved.flow
        objective += fr.cost
        arcs += fr.arcs
        nodes += fr.nodes
        moved += n_moved
        unique &= fr.unique
        tie_breaks += int(fr.tie_break_rounds > 0)
        max_rounds = max(max_rounds, rounds)
        fallback = fallback or kind
        if progress is not None:
            progress.advance()
    lap("teams")
    items = _items(inst, dates, used)
    lap("items")
    stats = SolverStats(status="optimal", method=METHOD + (f"+{fallback}" if fallback else ""),
                        objective=objective, unique=unique, tie_breaks=tie_breaks, arcs=arcs,
                        nodes=nodes, components=int(labels.size), moved=moved,
                        rounds=max_rounds)
    return Schedule(items, stats, MappingProxyType(timings))


def _items(inst: Instance, dates: I64, used: npt.NDArray[np.bool_]
           ) -> tuple[TeamAssignment, ...]:
    pf, pj = inst.pair_f[used], inst.pair_j[used]  # sorted by firm, then badge
    counts = np.bincount(pf, minlength=inst.uscc.size)
    if np.any(counts != inst.team_size):
        raise BugError("internal error: a team has the wrong size; please report this")
    badges = inst.badge[pj].reshape(-1, inst.team_size).tolist()  # plain lists: fast rows
    iso = [d.isoformat() for d in inst.days]
    return tuple(TeamAssignment(u, iso[d], tuple(bs))  # ids are str (see _col)
                 for u, d, bs in zip(inst.uscc.tolist(), dates.tolist(), badges, strict=True))


def substitute(items: Sequence[TeamAssignment], inspections: pd.DataFrame,
               inspectors: pd.DataFrame, leave: pd.DataFrame, conflicts: pd.DataFrame,
               history: pd.DataFrame, rules: InspectionRules, seed: str, badge: str,
               from_date: date, *, previous_teams: pd.DataFrame | None = None,
               period_start: date | None = None,
               purpose: str | None = None) -> tuple[TeamAssignment, ...]:
    """Replace inspector ``badge`` in every pending inspection (date ≥ ``from_date``).

    Dates and the other members stay; the replacements are one min-cost flow
    (pending inspection -> (inspector, day) -> inspector -> sink) whose arc
    costs are ticket pair costs under ``seed|{purpose}``, with the daily and
    period capacities left over by the rest of the plan. ``purpose`` defaults
    to ``substitute:{badge}:{from_date}`` (``suiji-substitution/1``, whose
    seed depended on the free --from date); ``suiji-substitution/2`` passes
    ``substitute:{badge}``.
    Raises :class:`InfeasibleError` naming an inspection that cannot be covered.
    """
    items = tuple(sorted(items, key=lambda i: i.uscc))
    start = from_date.isoformat()
    hit = [k for k, it in enumerate(items) if badge in it.badges and it.date >= start]
    if not hit:
        return items
    days = sorted({date.fromisoformat(it.date) for it in items})
    inst = prepare(inspections, inspectors, leave, conflicts, history, days, rules,
                   previous_teams, period_start or days[0])
    f_pos = pd.Index(inst.uscc).get_indexer(pd.Index([it.uscc for it in items]))
    if np.any(f_pos < 0):
        missing = items[int(np.flatnonzero(f_pos < 0)[0])].uscc
        raise ValueError(f"{missing} is in the plan but not in the inspections frame")
    day_pos = {d.isoformat(): k for k, d in enumerate(days)}
    badge_pos = {str(b): k for k, b in enumerate(inst.badge)}
    n_j, n_d = inst.badge.size, len(days)
    day_load = np.zeros((n_j, n_d), dtype=np.int64)
    period_load = np.zeros(n_j, dtype=np.int64)
    hit_set = set(hit)
    for k, it in enumerate(items):
        for b in it.badges:
            if (k in hit_set and b == badge) or b not in badge_pos:
                continue
            day_load[badge_pos[b], day_pos[it.date]] += 1
            period_load[badge_pos[b]] += 1
    firms = f_pos[hit]
    order = np.argsort(firms, kind="stable")
    firms, hit = firms[order], [hit[k] for k in order]
    sel = np.isin(inst.pair_f, firms)
    pf, pj = inst.pair_f[sel], inst.pair_j[sel]
    local = np.searchsorted(firms, pf)
    pday = np.array([day_pos[items[hit[k]].date] for k in local], dtype=np.int64)
    blocked = {(int(f), badge_pos[b]) for f, k in zip(firms, hit, strict=True)
               for b in items[k].badges if b in badge_pos}
    leaving = badge_pos.get(badge, -1)
    ok = (inst.avail[pj, pday] & (pj != leaving)
          & np.array([(int(f), int(j)) not in blocked for f, j in zip(pf, pj, strict=True)],
                     dtype=bool))
    sub_seed = derived_seed(seed, purpose or f"substitute:{badge}:{start}")
    kf = pool_keys(list(inst.uscc), sub_seed)
    kj = pool_keys(list(inst.badge), sub_seed)
    local, pj, pday = local[ok], pj[ok], pday[ok]
    cost = pair_costs(kf[pf[ok]], kj[pj])
    jd = pj * n_d + pday
    jd_nodes = distinct(jd)
    js = distinct(pj)
    n_f, n_k, n_u = firms.size, jd_nodes.size, js.size
    sink = n_f + n_k + n_u
    k_j, k_d = jd_nodes // n_d, jd_nodes % n_d
    tails = np.concatenate([local, n_f + np.arange(n_k), n_f + n_k + np.arange(n_u)])
    heads = np.concatenate([n_f + np.searchsorted(jd_nodes, jd),
                            n_f + n_k + np.searchsorted(js, k_j), np.full(n_u, sink)])
    caps = np.concatenate([np.ones(local.size, np.int64),
                           np.maximum(inst.daily[k_j] - day_load[k_j, k_d], 0),
                           np.maximum(inst.cap[js] - period_load[js], 0)])
    costs = np.concatenate([cost, np.zeros(n_k + n_u, np.int64)])
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_f] = 1
    supplies[sink] = -n_f
    res = min_cost_flow(sink + 1, tails, heads, caps, costs, supplies, max_flow=True)
    if not res.optimal:
        raise BugError(f"The substitution solver returned {res.status}; "
                       f"please report this as a bug.")
    short = np.flatnonzero(res.unrouted[:n_f] > 0)
    if short.size:
        lines = [f"  {describe_firm(inst, int(firms[k]))} on {items[hit[k]].date}"
                 for k in short[:5]]
        raise InfeasibleError(
            f"No replacement for {badge} in {short.size} inspection(s):\n" + "\n".join(lines)
            + "\nNo other eligible inspector is free that day within the daily and period "
            "capacities. Try (1) raising capacity or daily_capacity in the inspectors file "
            "(2) adding inspectors to that district or a city-level unit.")
    chosen = res.flow[: local.size] > 0
    new_member = {int(lf): str(inst.badge[j]) for lf, j in zip(local[chosen], pj[chosen],
                                                               strict=True)}
    out = list(items)
    for lf, k in enumerate(hit):
        it = items[k]
        badges = tuple(sorted([b for b in it.badges if b != badge] + [new_member[lf]]))
        out[k] = TeamAssignment(it.uscc, it.date, badges)
    return tuple(out)
