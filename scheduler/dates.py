"""Inspection dates: the first spread over the working days and the repair (DOMAIN.md §3 rule 6).

1. **Spread.** Within each (city, district) the firms are taken in Rivest
   ticket order under ``seed|teams:dates`` and laid over the working days in
   proportion to the daily capacity of the inspectors available each day
   (:func:`spread_dates`).
2. **Repair.** Firms the team flow cannot staff on their day move to the
   first day, in ticket order under ``seed|teams:redate``, where a team is
   still free (:func:`redate`).
3. **Date search.** When that fails, :func:`search_component_dates` runs the
   exact date search of :mod:`suiji.scheduler.search` (ALGORITHM.md step 6,
   ``suiji-inspections/3``): days for every firm of the component, the proof
   that no plan exists, or a refusal after a fixed count of tries.

``suiji-inspections/1`` and ``/2`` plans recorded before the date search existed used a
CP-SAT fallback instead (:mod:`suiji.scheduler.cpsat_dates`, through
:func:`solve_stuck_dates` and :func:`solve_all_dates`); it is kept for
verifying those plans only and decides no new draw.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from suiji.data.errors import InfeasibleError
from suiji.sampler.tickets import derived_seed, pool_keys, ticket_keys, ticket_order
from suiji.scheduler.cpsat_dates import CPSAT_TIME_LIMIT, cpsat_dates
from suiji.scheduler.diagnosis import search_message, stuck_message
from suiji.scheduler.eligibility import I64, Instance
from suiji.scheduler.search import MAX_TRIES, SearchStatus, search_dates

_OFFSET_BITS = 20


def spread_dates(inst: Instance, seed: str) -> I64:
    """Day index of every firm: systematic spread over the days within (city, district).

    Firms of a group in ticket order under ``seed|teams:dates``; day weights
    ``w_d`` = daily capacity of the group's eligible inspectors available on
    day d; with ``C_d`` the cumulative weights, ``W = C_last``, ``S = 2^20``
    and ``u = floor(key * S / 10^18)`` from the group's ticket key under
    ``seed|teams:date-offset`` (a random start), rank ``r`` of ``n`` goes to
    the first day with ``n * S * C_d > (r * S + u) * W``. So each firm lands on
    day d with probability ``w_d / W`` and the days are evenly filled.
    """
    n_f, n_d = inst.uscc.size, len(inst.days)
    dates = np.zeros(n_f, dtype=np.int64)
    if not n_f:
        return dates
    ids = list(inst.uscc)
    dseed = derived_seed(seed, "teams:dates")
    order = ticket_order(ids, dseed, pool_keys(ids, dseed))
    rank = np.empty(n_f, dtype=np.int64)
    rank[order] = np.arange(n_f)
    label = np.array([c + "|" + d for c, d in zip(inst.fcity.tolist(), inst.fdistrict.tolist(),
                                                  strict=True)], dtype=str)
    groups, gidx = np.unique(label, return_inverse=True)
    offsets = pool_keys(groups.tolist(), derived_seed(seed, "teams:date-offset"))
    scale = 1 << _OFFSET_BITS
    rep = np.zeros(groups.size, dtype=np.int64)
    rep[gidx] = np.arange(n_f)  # one firm per group (a group shares its jurisdiction)
    by_group = np.argsort(gidx, kind="stable")
    bounds = np.searchsorted(gidx[by_group], np.arange(groups.size + 1))
    # pairs are sorted by firm: each representative's pairs are one slice
    p_lo = np.searchsorted(inst.pair_f, rep, side="left")
    p_hi = np.searchsorted(inst.pair_f, rep, side="right")
    for g in range(groups.size):
        members = by_group[bounds[g]: bounds[g + 1]]
        members = members[np.argsort(rank[members], kind="stable")]
        js = inst.pair_j[p_lo[g]: p_hi[g]]
        w = (inst.daily[js][:, None] * inst.avail[js]).sum(axis=0).astype(np.int64)
        if w.sum() == 0:
            w = np.ones(n_d, dtype=np.int64)
        cum = np.cumsum(w)
        total = int(cum[-1])
        n = members.size
        u = int(offsets[g]) * scale // 10**18
        pos = (np.arange(n, dtype=np.int64) * scale + u) * total
        dates[members] = np.searchsorted(n * scale * cum, pos, side="right")
    return dates


def redate(inst: Instance, firms: I64, pidx: I64, dates: I64, cost: I64,
           used: npt.NDArray[np.bool_], shortfall: I64, seed: str) -> tuple[I64, I64]:
    """Move short firms to a day where a whole team is still free. Returns (moved, stuck)."""
    ts, n_d = inst.team_size, len(inst.days)
    pf, pj = inst.pair_f[pidx], inst.pair_j[pidx]
    short_local = np.flatnonzero(shortfall > 0)
    short = firms[short_local]
    keep = used & ~np.isin(pf, short)
    day_load = np.zeros((inst.badge.size, n_d), dtype=np.int64)
    np.add.at(day_load, (pj[keep], dates[pf[keep]]), 1)
    period_load = np.bincount(pj[keep], minlength=inst.badge.size)
    rseed = derived_seed(seed, "teams:redate")
    iso = [d.isoformat() for d in inst.days]
    order = short[ticket_order(list(inst.uscc[short]), rseed)]
    moved, stuck = [], []
    for f in order:
        sel = pf == f
        js, cs = pj[sel], cost[pidx][sel]
        keys = ticket_keys([f"{inst.uscc[f]}|{d}" for d in iso], rseed)
        free = (inst.avail[js]
                & (day_load[js] < inst.daily[js][:, None])
                & (period_load[js] < inst.cap[js])[:, None])
        ok_days = np.flatnonzero(free.sum(axis=0) >= ts)
        if not ok_days.size:
            stuck.append(f)
            continue
        day = int(ok_days[np.lexsort((ok_days, keys[ok_days]))][0])
        cand = np.flatnonzero(free[:, day])
        team = cand[np.argsort(cs[cand], kind="stable")[:ts]]
        day_load[js[team], day] += 1
        period_load[js[team]] += 1
        if dates[f] != day:
            moved.append(f)
        dates[f] = day
    return np.array(moved, dtype=np.int64), np.array(stuck, dtype=np.int64)


def search_component_dates(inst: Instance, firms: I64, pidx: I64, dates: I64, short: I64,
                           seed: str, max_tries: int = MAX_TRIES) -> None:
    """Days for every firm of a component by the exact date search, in place.

    The firms short in the last solve come first, then the others, each group
    in ticket order under ``seed|teams:redate``; each firm tries its current
    day, then the other days by their ``uscc|day`` key under the same seed
    (ALGORITHM.md, "Teams and dates", step 6). Raises InfeasibleError when no
    days admit teams, or when the search stops after ``max_tries`` tries.
    """
    rseed = derived_seed(seed, "teams:redate")
    by_ticket = firms[ticket_order(list(inst.uscc[firms]), rseed)]
    is_short = np.isin(by_ticket, short)
    order = np.concatenate([by_ticket[is_short], by_ticket[~is_short]])
    pf, pj = inst.pair_f[pidx], inst.pair_j[pidx]
    iso = [d.isoformat() for d in inst.days]
    inspectors, candidates = [], []
    for f in order.tolist():
        inspectors.append(pj[pf == f].tolist())
        keys = ticket_keys([f"{inst.uscc[f]}|{d}" for d in iso], rseed)
        others = [d for d in np.lexsort((np.arange(len(iso)), keys)).tolist() if d != dates[f]]
        candidates.append([int(dates[f]), *others])
    result = search_dates(inspectors, candidates, inst.avail.tolist(), inst.daily.tolist(),
                          inst.cap.tolist(), inst.team_size, max_tries)
    if result.status is SearchStatus.FOUND:
        dates[order] = result.days
        return
    raise InfeasibleError(search_message(inst, np.sort(short),
                                         result.status is SearchStatus.NO_PLAN, result.tries))


def solve_stuck_dates(inst: Instance, firms: I64, pidx: I64, dates: I64, stuck: I64,
                      seed: str) -> str:
    """Legacy (``suiji-inspections/1`` verification only): CP-SAT for the stuck firms' days."""
    return cpsat_dates(inst, firms, pidx, dates, stuck, seed, CPSAT_TIME_LIMIT)


def solve_all_dates(inst: Instance, firms: I64, pidx: I64, dates: I64, stuck: I64,
                    seed: str) -> None:
    """Legacy (``suiji-inspections/1`` verification only): every firm's day by CP-SAT.

    Raises InfeasibleError when the model has no answer.
    """
    status = cpsat_dates(inst, firms, pidx, dates, stuck, seed, CPSAT_TIME_LIMIT, free=True)
    if status not in ("OPTIMAL", "FEASIBLE"):
        if status != "INFEASIBLE":
            status = f"{status}: no plan found within {CPSAT_TIME_LIMIT:g} s"
        raise InfeasibleError(stuck_message(inst, stuck, status))
