"""The task-based inspection plan (``suiji-tasks/1``): tasks, one visit per firm, dates, teams.

:func:`compute_task_plan` is the pure draw registered for ``suiji verify``: from
the frozen inputs of a period (scope ``tasks``), a seed and the ids of the tasks
to draw (and the draw's date and first usable day, as for ``suiji-inspections/2``),
it draws every task's sample with shared tickets
(:func:`suiji.sampler.tasks.draw_tasks`), merges the samples into visits, and
gives each new visit a working day inside its window, never on or before the day
of the draw, and a team of its size
(:func:`suiji.scheduler.teams.schedule`, once per group of visits with the same
window and team size, each group seeing the inspectors' earlier load).
:func:`draw_task_plan` records it through :func:`suiji.data.draws.run_draw`; the
record's subject is the drawn task ids, so a campaign decided mid-quarter is
drawn alone later, under the period's seed, while the drawn tasks stay as they
are.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date
from fractions import Fraction
from typing import Any

import pandas as pd

from suiji.data.draws import DrawRecord, run_draw
from suiji.data.errors import InfeasibleError, SuijiError, UsageError
from suiji.data.matters import Matter, matters_from_frame, resolve_matters
from suiji.data.period import Period
from suiji.data.progress import Progress
from suiji.data.rules import InspectionRules, InspectionTask, Rules, quarter_tasks
from suiji.data.seeds import normalize_seed
from suiji.data.snapshot import Snapshot
from suiji.data.store import Store
from suiji.data.visits import drawn_task_ids, task_plan_outputs
from suiji.sampler.tasks import TaskDraw, Visit, draw_tasks
from suiji.sampler.tickets import derived_seed
from suiji.scheduler.plan import SOLVER_KEYS, active_inspectors, draw_dates, plan_start
from suiji.scheduler.teams import Schedule, schedule

ALGORITHM = "suiji-tasks/1"
SCOPE = "tasks"
EXPECTED_DECIMALS = 6


def select_tasks(rules: Rules, ids: list[str]) -> tuple[InspectionTask, ...]:
    """The rules' tasks named by ``ids``, in rules order; refuses an unknown id."""
    tasks = quarter_tasks(rules.inspection)
    known = {t.id for t in tasks}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise SuijiError(f"No task {', '.join(map(repr, unknown))} in the rules; the tasks "
                         f"are {', '.join(sorted(known)) or 'none'}.")
    if len(set(ids)) != len(ids):
        raise SuijiError("A task is named twice.")
    return tuple(t for t in tasks if t.id in ids)


def _visit_matters(task_matters: dict[str, tuple[Matter, ...]], wildcard: set[str],
                   listed: dict[str, Matter], visit: Visit, firm: dict[str, str]
                   ) -> dict[str, list[str]]:
    """task id -> the matter ids it inspects on one visit: the task's matters, ``*`` =
    every listed matter that applies to the firm's category and industry."""
    out: dict[str, list[str]] = {}
    for t in visit.tasks:
        chosen = list(task_matters[t])
        if t in wildcard:
            chosen += [m for m in listed.values()
                       if (not m.categories or firm["category"] in m.categories)
                       and (not m.industries or firm["industry"] in m.industries)]
        if not chosen:
            raise SuijiError(f"No listed matter applies to {visit.uscc} ({firm['category']}, "
                             f"{firm['industry'] or 'no industry'}) for task {t!r}: add one "
                             f"to the matters list, or name the task's matters explicitly.")
        out[t] = list(dict.fromkeys(m.matter_id for m in chosen))
    return out


def _load(earlier: pd.DataFrame) -> tuple[Counter[str], set[tuple[str, str]]]:
    """Inspectors' visits already planned this period, and the (badge, day)s they are busy."""
    used: Counter[str] = Counter()
    busy: set[tuple[str, str]] = set()
    for day, badges in zip(earlier["date"].astype(str), earlier["inspectors"].astype(str),
                           strict=True):
        for b in (x for x in badges.split(";") if x):
            used[b] += 1
            busy.add((b, day))
    return used, busy


def _with_load(inspectors: pd.DataFrame, leave: pd.DataFrame, used: Counter[str],
               busy: set[tuple[str, str]], rules: InspectionRules
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The inspectors with their remaining period capacity, and leave on the days they are
    already out on a visit (so a later group never exceeds a daily capacity)."""
    if not used:
        return inspectors, leave
    frame = inspectors.copy()
    caps = []
    active = []
    for badge, cap, on in zip(frame["badge"].astype(str), frame["capacity"].astype(str),
                              frame["active"].astype(str), strict=True):
        left = (int(cap) if cap.strip() else rules.default_capacity) - used.get(badge, 0)
        caps.append(str(max(left, 1)))
        active.append("no" if left <= 0 else on)
    frame["capacity"] = caps
    frame["active"] = active
    extra = pd.DataFrame([{"badge": b, "start": d, "end": d} for b, d in sorted(busy)],
                         columns=["badge", "start", "end"], dtype=object)
    return frame, pd.concat([leave[["badge", "start", "end"]], extra], ignore_index=True)


def earlier_visits(snapshot: Snapshot, ids: list[str]) -> pd.DataFrame:
    """The frozen visits of the period's other task plans: ``period-visits.csv`` without the
    draw that held any of ``ids`` (the one a redraw replaces)."""
    frame = snapshot.frame("period-visits.csv")
    if frame.empty:
        return frame
    mine = frame["tasks"].astype(str).str.split(";").map(lambda ts: bool(set(ts) & set(ids)))
    replaced = set(frame.loc[mine, "draw"].astype(str))
    return frame[~frame["draw"].astype(str).isin(replaced)].reset_index(drop=True)


def _schedule_visits(snapshot: Snapshot, seed: str, draw: TaskDraw, info: pd.DataFrame,
                     earlier: pd.DataFrame, first: date, progress: Progress | None
                     ) -> tuple[dict[str, tuple[str, list[str]]], dict[str, Any]]:
    """uscc -> (date, badges) of every new visit, and the solver's combined stats."""
    rules = snapshot.rules.inspection
    inspectors = snapshot.frame("inspectors.csv")
    leave = snapshot.frame("inspector-leave.csv")
    used, busy = _load(earlier)
    groups: dict[tuple[str, str, int], list[str]] = {}
    for v in draw.visits:
        if v.joins is None:
            groups.setdefault((v.window.start, v.window.end, v.team_size), []).append(v.uscc)
    out: dict[str, tuple[str, list[str]]] = {}
    stats: dict[str, Any] = {"status": "optimal", "method": "min-cost-flow", "unique": True,
                             "objective": 0, "arcs": 0, "components": 0, "groups": 0}
    for (start, end, size), usccs in sorted(groups.items()):
        days = [d for d in snapshot.working_days if start <= d.isoformat() <= end]
        if not days:
            names = sorted({t for v in draw.visits if v.uscc in usccs for t in v.tasks})
            raise SuijiError(f"The window {start}..{end} of the visits of tasks "
                             f"{', '.join(names)} has no working day; widen the tasks' "
                             f"dates in the rules file.")
        firms = info.loc[sorted(usccs), ["uscc", "name", "district", "city"]]
        insp, off = _with_load(inspectors, leave, used, busy, rules)
        plan: Schedule = schedule(
            firms.reset_index(drop=True), insp, off, snapshot.frame("conflicts.csv"),
            snapshot.frame("history.csv"), days, dataclasses.replace(rules, team_size=size),
            derived_seed(seed, f"visits:{start}:{end}:{size}"), progress,
            previous_teams=snapshot.frame("previous-teams.csv"),
            period_start=first)
        s = plan.stats.as_dict()
        stats["unique"] &= bool(s["unique"])
        if s["method"] != "min-cost-flow":
            stats["method"] = s["method"]
        for k in ("objective", "arcs", "components"):
            stats[k] += int(s[k])
        stats["groups"] += 1
        for item in plan.items:
            out[item.uscc] = (item.date, list(item.badges))
            for b in item.badges:
                used[b] += 1
                busy.add((b, item.date))
    return out, {k: stats[k] for k in (*SOLVER_KEYS, "groups")}


def compute_task_plan(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
                      progress: Progress | None = None) -> dict[str, Any]:
    """The plan of the tasks ``params["tasks"]`` under ``seed``: a pure function.

    ``params["drawn_on"]`` is the date of the draw and ``params["start"]`` the first
    day a visit may be dated (after the draw: :func:`suiji.scheduler.plan.plan_start`,
    as for ``suiji-inspections/2``); the tasks' windows begin no earlier.

    Raises :class:`~suiji.data.errors.RulesError` for tasks whose windows do
    not meet although their populations share firms, and
    :class:`~suiji.data.errors.InfeasibleError` when no date and team
    assignment satisfies the rules.
    """
    ids = params.get("tasks")
    if not isinstance(ids, list) or not ids or set(params) != {"tasks", "drawn_on", "start"}:
        raise SuijiError(f"A task plan takes params {{'tasks': [ids], 'drawn_on': date, "
                         f"'start': date}}, got {params}.")
    drawn_on, start = draw_dates(params, ALGORITHM)
    rules = snapshot.rules
    period = Period.parse(snapshot.period)
    if not period.first_day <= start <= period.last_day:
        raise InfeasibleError(f"{ALGORITHM}: start {start.isoformat()} is not a day of "
                              f"{period} ({period.first_day.isoformat()}.."
                              f"{period.last_day.isoformat()}).")
    tasks = select_tasks(rules, [str(i) for i in ids])
    listed = matters_from_frame(snapshot.frame("matters.csv"))
    task_matters = {t.id: resolve_matters(listed, [m for m in t.matters if m != "*"],
                                          f"Task {t.id!r}") for t in tasks}
    wildcard = {t.id for t in tasks if "*" in t.matters}
    if wildcard and not listed:
        raise SuijiError("The tasks inspect every listed matter (matters = [\"*\"]) but the "
                         "frozen inputs have no matters list. Import it (`suiji import "
                         "matters FILE`) and freeze again.")
    companies = snapshot.frame("companies.csv")
    inspectors = snapshot.frame("inspectors.csv")
    earlier = earlier_visits(snapshot, [t.id for t in tasks])
    if progress is not None:
        progress.step("抽取任务 task draw")
    draw = draw_tasks(companies, snapshot.frame("positive-list.csv"),
                      snapshot.frame("projects.csv"), snapshot.frame("history.csv"),
                      earlier, tasks, rules.inspection, period,
                      seed, active_inspectors(inspectors), start)
    info = companies.set_index("uscc", drop=False)
    dated, solver = _schedule_visits(snapshot, seed, draw, info, earlier, start, progress)
    kinds = {t.id: t.kind for t in tasks}
    used_matters: set[str] = set()
    visits, joined = [], []
    fields = ("name", "district", "city", "category", "industry")
    drawn = [v.uscc for v in draw.visits]
    firms = dict(zip(drawn, zip(*(info[c].reindex(drawn).astype(str).tolist() for c in fields),
                                strict=True), strict=True)) if drawn else {}
    for v in draw.visits:
        firm = dict(zip(fields, firms[v.uscc], strict=True))
        by_task = _visit_matters(task_matters, wildcard, listed, v, firm)
        matters = list(dict.fromkeys(m for t in v.tasks for m in by_task[t]))
        used_matters.update(matters)
        if v.joins is not None:
            joined.append({"uscc": v.uscc, "name": firm["name"], "tasks": list(v.tasks),
                           "matters": matters, "task_matters": by_task, "draw": v.joins[0],
                           "date": v.joins[1]})
            continue
        day, badges = dated[v.uscc]
        counting = [kinds[t] for t in v.tasks if kinds[t] in rules.inspection.cap_kinds]
        visits.append({**firm, "uscc": v.uscc, "date": day, "inspectors": badges,
                       "tasks": list(v.tasks), "matters": matters, "task_matters": by_task,
                       "counts": v.counts_toward_cap,
                       "exempt": v.exempt,
                       "kind": counting[0] if counting else "national_campaign",
                       "window": [v.window.start, v.window.end], "ticket": v.ticket})
    visits.sort(key=lambda i: (i["date"], i["district"], i["uscc"]))
    exempt = Counter(t for v in draw.visits if v.exempt for t in v.tasks)
    new = draw.new_visits
    return {
        "algorithm": ALGORITHM,
        "period": snapshot.period,
        "seed": seed,
        "snapshot": snapshot.digest,
        "drawn_on": drawn_on.isoformat(),
        "start": start.isoformat(),
        "tasks": [{"id": s.task.id, "name": s.task.name, "source": s.task.source,
                   "kind": s.task.kind, "matters": list(s.task.matters),
                   "window": [s.window.start, s.window.end], "team_size": s.team_size,
                   "counts": s.counts_toward_cap, "quota_rule": _quota_rule(s.task),
                   "eligible": s.eligible, "quota": s.quota, "drawn": len(s.drawn),
                   "probability": float(s.probability),
                   "probability_exact": _fraction(s.probability),
                   "excluded": dict(s.excluded), "exempt": exempt.get(s.task.id, 0),
                   "unmatched_developers": s.unmatched_developers,
                   "population": _population_rule(s.task)} for s in draw.samples],
        "cap": {"annual_cap": rules.inspection.annual_cap,
                "kinds": list(rules.inspection.cap_kinds)},
        "matters": {m: listed[m].record() for m in sorted(used_matters)},
        "visits": visits,
        "joined": joined,
        "summary": {"visits": new, "joined": len(joined), "firm_tasks": draw.pairs,
                    "independent_expected": round(float(draw.independent_expected),
                                                  EXPECTED_DECIMALS),
                    "independent_expected_exact": _fraction(draw.independent_expected),
                    "saved": round(float(draw.independent_expected - new), EXPECTED_DECIMALS)},
        "solver": solver,
    }


def _fraction(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}"


def _quota_rule(t: InspectionTask) -> dict[str, Any]:
    rule: dict[str, Any] = {"mode": t.quota}
    if t.quota == "ratio":
        rule["ratio"] = t.ratio
    elif t.quota == "count":
        rule["count"] = t.count
    elif t.quota == "per_inspector":
        rule["per_year"] = t.per_year
    return rule


def _population_rule(t: InspectionTask) -> dict[str, Any]:
    if t.projects_approved:
        return {"projects_approved": list(t.projects_approved), "statuses": list(t.statuses),
                "positive_list": t.positive_list}
    return {"categories": list(t.categories), "industries": list(t.industries),
            "districts": list(t.districts), "statuses": list(t.statuses),
            "positive_list": t.positive_list}


def period_seed(store: Store, period: str) -> str | None:
    """The seed of the period's task plans (every task of a period shares it), if any."""
    seeds = {out["seed"] for _d, _p, out in task_plan_outputs(store, period=period)}
    if len(seeds) > 1:
        raise SuijiError(f"The task plans of {period} have different seeds; verify the record.")
    return next(iter(seeds), None)


def draw_task_plan(store: Store, period: Period, rules: Rules, tasks: list[str] | None = None,
                   seed: str | None = None, redraw: bool = False, reason: str = "",
                   progress: Progress | None = None, *, today: date,
                   start: date | None = None, commitment: str | None = None,
                   weak_seed: bool = False) -> DrawRecord:
    """Draw and record the period's tasks (default: every task not drawn yet), all or nothing.

    ``today`` is the date of the draw (the caller's clock): visits are dated from the
    day after it (or the period's first day, or a later ``start``), as in
    :func:`suiji.scheduler.plan.draw_plan`; a task whose dates end before that is
    refused. ``commitment`` and ``weak_seed`` as in :func:`~suiji.data.draws.run_draw`.

    A period's tasks share one seed: the first draw of the period fixes it (given,
    or from the OS), and a task added later is drawn under it (a different
    ``seed`` is refused). A task already drawn is refused unless ``redraw`` with a
    ``reason`` names exactly the same tasks as its draw.
    """
    key = str(period)
    first = plan_start(period, today, start)
    existing = period_seed(store, key)
    if existing is not None and seed is not None and normalize_seed(seed) != existing:
        raise UsageError(f"The tasks of {key} are drawn under the period's seed {existing}; "
                         f"a task added later shares it (the tickets are shared). Leave "
                         f"--seed out, or give that seed.")
    seed = existing if existing is not None and seed is None else seed
    drawn = drawn_task_ids(store, key)
    all_ids = [t.id for t in quarter_tasks(rules.inspection)]
    ids = list(tasks) if tasks else [i for i in all_ids if i not in drawn]
    if not ids:
        raise SuijiError(f"Every task of the rules is drawn for {key} already "
                         f"({', '.join(sorted(drawn))}). Add a task to the rules, freeze "
                         f"again, and draw it with --task ID.")
    select_tasks(rules, ids)  # unknown ids are refused before anything else
    ids = [i for i in all_ids if i in ids]
    subject = "+".join(ids)

    def params(store: Store, snapshot: Snapshot) -> dict[str, Any]:
        now = drawn_task_ids(store, key)
        again = [i for i in ids if i in now]
        if again and not redraw:
            raise SuijiError(f"Task(s) {', '.join(again)} of {key} are drawn already (draw "
                             f"{now[again[0]]}); drawn tasks stay as they are. A new "
                             f"campaign is a new task id.")
        if redraw:
            replaced = {now[i] for i in ids if i in now}
            if len(replaced) != 1 or {i for i, d in now.items() if d in replaced} != set(ids):
                raise SuijiError(f"A redraw names exactly the tasks of the one draw it "
                                 f"replaces ({subject} is not the subject of one current "
                                 f"draw of {key}).")
        return {"tasks": ids, "drawn_on": today.isoformat(), "start": first.isoformat()}

    return run_draw(store, period=period, scope=SCOPE, rules=rules, algorithm=ALGORITHM,
                    compute=compute_task_plan, params=params, subject=subject, seed=seed,
                    redraw=redraw, reason=reason, what=f"{key} tasks {subject}",
                    progress=progress, commitment=commitment, weak_seed=weak_seed)

