"""A plain CP-SAT model of the team assignment: a benchmark baseline and a cross-check.

Not used to make plans. It states the same problem the min-cost flow of
:mod:`suiji.scheduler.teams` solves in its first round (same eligibility,
same ticket dates, same arc costs) as a 0/1 program:

    minimise  sum cost[p] * x[p]            over eligible (firm, inspector) pairs p
    s.t.      sum_{p of firm f} x[p] = team_size            for every firm
              sum_{p of j on day d} x[p] <= daily[j]         for every inspector and day
              sum_{p of j} x[p] <= capacity[j]               for every inspector
              x[p] = 0 when the inspector is on leave on the firm's day

A correct solver proves the same optimum; since the flow's optimum is proven
unique, CP-SAT's optimal teams must equal the flow's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from suiji.data.rules import InspectionRules
from suiji.scheduler.dates import spread_dates
from suiji.scheduler.eligibility import prepare
from suiji.scheduler.teams import TeamAssignment, team_costs


@dataclass(frozen=True)
class BaselineResult:
    status: str  # CP-SAT's status name: OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN, MODEL_INVALID
    objective: int | None  # best solution's cost, None without a solution
    bound: int  # best proven lower bound
    items: tuple[TeamAssignment, ...]  # empty without a solution
    variables: int
    seconds: float  # wall time of the solve (benchmarks only)

    @property
    def optimal(self) -> bool:
        return self.status == "OPTIMAL"


def solve_teams_cpsat(inspections: pd.DataFrame, inspectors: pd.DataFrame,
                      leave: pd.DataFrame, conflicts: pd.DataFrame, history: pd.DataFrame,
                      working_days: Sequence[date], rules: InspectionRules, seed: str, *,
                      time_limit: float = 60.0, workers: int = 0,
                      previous_teams: pd.DataFrame | None = None) -> BaselineResult:
    """Solve the first-round team assignment with CP-SAT (``workers=0``: CP-SAT's default)."""
    inst = prepare(inspections, inspectors, leave, conflicts, history, working_days, rules,
                   previous_teams, None)
    cost = team_costs(inst, seed)
    dates = spread_dates(inst, seed)
    day = dates[inst.pair_f]
    valid = inst.avail[inst.pair_j, day]
    pidx = np.flatnonzero(valid)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{p}") for p in pidx.tolist()]
    ts = inst.team_size
    per_firm: dict[int, list[cp_model.IntVar]] = {}
    per_day: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    per_inspector: dict[int, list[cp_model.IntVar]] = {}
    for v, f, j, d in zip(x, inst.pair_f[pidx].tolist(), inst.pair_j[pidx].tolist(),
                          day[pidx].tolist(), strict=True):
        per_firm.setdefault(f, []).append(v)
        per_day.setdefault((j, d), []).append(v)
        per_inspector.setdefault(j, []).append(v)
    for f in range(inst.uscc.size):
        model.add(sum(per_firm.get(f, [])) == ts)  # a firm without usable pairs: infeasible
    for (j, _d), vs in per_day.items():
        model.add(sum(vs) <= int(inst.daily[j]))
    for j, vs in per_inspector.items():
        model.add(sum(vs) <= int(inst.cap[j]))
    model.minimize(sum(int(c) * v for c, v in zip(cost[pidx].tolist(), x, strict=True)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    if workers:
        solver.parameters.num_workers = workers
    t0 = time.perf_counter()
    status = solver.solve(model)
    seconds = time.perf_counter() - t0
    name = str(solver.status_name(status))
    items: tuple[TeamAssignment, ...] = ()
    objective = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        objective = int(round(solver.objective_value))
        chosen = np.array([solver.boolean_value(v) for v in x], dtype=bool)
        pf, pj = inst.pair_f[pidx][chosen], inst.pair_j[pidx][chosen]
        iso = [d.isoformat() for d in inst.days]
        items = tuple(
            TeamAssignment(str(inst.uscc[f]), iso[int(dates[f])],
                           tuple(sorted(str(inst.badge[j]) for j in pj[pf == f])))
            for f in range(inst.uscc.size))
    return BaselineResult(name, objective, int(round(solver.best_objective_bound)), items,
                          len(x), seconds)
