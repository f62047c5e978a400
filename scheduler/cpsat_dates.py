"""The legacy CP-SAT fallback for inspection dates: verification of old plans only.

Earlier versions of suiji called :func:`cpsat_dates` when the greedy repair
could not place a firm, and recorded such plans as ``suiji-inspections/1`` or
``/2`` (``solver.method`` ``min-cost-flow+cp-sat-dates``). Their dates depend on
the OR-Tools version and on a 30 s time limit, so no new draw comes here: new
plans use the exact date search (:mod:`suiji.scheduler.search`,
``suiji-inspections/3``). It stays so that those recorded plans still verify
(``schedule(..., legacy_cpsat=True)`` through
:func:`suiji.scheduler.plan.compute_plan` and ``compute_plan_v2``).
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from suiji.sampler.tickets import derived_seed, ticket_keys
from suiji.scheduler.eligibility import I64, Instance

CPSAT_TIME_LIMIT = 30.0


def cpsat_dates(inst: Instance, firms: I64, pidx: I64, dates: I64, stuck: I64,
                seed: str, time_limit: float, *, free: bool = False) -> str:
    """Dates for the stuck firms with CP-SAT (all teams free).

    The other firms of the component keep their dates, or with ``free`` may
    move too: each such move costs more than all the stuck firms' day ranks
    together, so the fewest firms move (then the smallest ranks). With
    ``free`` the model is the whole problem of the component (days, teams,
    daily and period capacities), so INFEASIBLE means that no plan exists.
    Sets ``dates`` in place and returns the CP-SAT status name.
    """
    ts, n_d = inst.team_size, len(inst.days)
    pf, pj = inst.pair_f[pidx], inst.pair_j[pidx]
    model = cp_model.CpModel()
    stuck = np.asarray(stuck, dtype=np.int64)
    movable = firms if free else stuck
    is_stuck = np.isin(pf, movable)
    stuck_set = set(stuck.tolist())
    penalty = n_d * stuck.size + 1  # one more moved firm outweighs every stuck firm's rank
    day_terms: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    per_j: dict[int, list[cp_model.IntVar]] = {}
    team: dict[int, list[cp_model.IntVar]] = {}
    for a in np.flatnonzero(~is_stuck):
        f, j, d = int(pf[a]), int(pj[a]), int(dates[pf[a]])
        if not inst.avail[j, d]:
            continue
        x = model.new_bool_var("")
        team.setdefault(f, []).append(x)
        day_terms.setdefault((j, d), []).append(x)
        per_j.setdefault(j, []).append(x)
    rseed = derived_seed(seed, "teams:redate")
    objective = []
    choice: dict[int, list[cp_model.IntVar]] = {}
    for f in np.asarray(movable, dtype=np.int64).tolist():
        keys = ticket_keys([f"{inst.uscc[f]}|{d.isoformat()}" for d in inst.days], rseed)
        day_rank = np.empty(n_d, dtype=np.int64)
        day_rank[np.lexsort((np.arange(n_d), keys))] = np.arange(n_d)
        if f not in stuck_set:  # free to move, at a price; staying costs nothing
            day_rank += penalty
            day_rank[dates[f]] = 0
        y = [model.new_bool_var("") for _ in range(n_d)]
        choice[f] = y
        model.add_exactly_one(y)
        if f not in stuck_set:
            model.add_hint(y[int(dates[f])], True)
        js = pj[pf == f]
        for d in range(n_d):
            xs = []
            for j in js[inst.avail[js, d]].tolist():
                x = model.new_bool_var("")
                model.add_implication(x, y[d])
                xs.append(x)
                day_terms.setdefault((j, d), []).append(x)
                per_j.setdefault(j, []).append(x)
            if len(xs) < ts:
                model.add(y[d] == 0)
            else:
                model.add(sum(xs) == ts * y[d])
            objective.append(int(day_rank[d]) * y[d])
    for xs in team.values():
        model.add(sum(xs) == ts)
    for (j, _d), xs in day_terms.items():
        model.add(sum(xs) <= int(inst.daily[j]))
    for j, xs in per_j.items():
        model.add(sum(xs) <= int(inst.cap[j]))
    model.minimize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for f, y in choice.items():
            dates[f] = next(d for d in range(n_d) if solver.boolean_value(y[d]))
    return str(solver.status_name(status))
