"""The double-random inspection plan: who is inspected, when, and by whom (DOMAIN.md §3, §4).

:func:`compute_plan` is the pure draw registered for ``suiji verify``: from the
frozen inputs of a period and a seed it draws the firms
(:func:`suiji.sampler.firms.draw_firms`) and gives each inspection a working
day and a team (:func:`suiji.scheduler.teams.schedule`). :func:`draw_plan`
runs it through :func:`suiji.data.draws.run_draw` (freeze check, one plan per
period, record, in one transaction), so a plan is all-or-nothing.
:func:`compute_substitution` / :func:`substitute_inspector` replace one
inspector in the pending inspections as a recorded event (through
:func:`suiji.data.draws.run_event`).

The output format is fixed (``suiji-inspections/1``, ALGORITHM.md): exports,
reports and ``suiji verify`` read it. New plans are ``suiji-inspections/2``
(:func:`compute_plan_v2`): the same draw on the working days after the day of the
draw, so no inspection is dated in the past; ``/1`` plans still verify. A new
plan whose dates needed the exact date search (where the greedy repair fails,
ALGORITHM.md "Teams and dates" step 6) is ``suiji-inspections/3``
(:func:`compute_plan_v3`, what :func:`draw_plan` runs): ``/1`` and ``/2`` plans
recorded with the CP-SAT date fallback of earlier versions still verify, with
that fallback, through :func:`compute_plan` and :func:`compute_plan_v2`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from suiji.data.draws import DrawRecord, count_events, current_draw, run_draw, run_event
from suiji.data.errors import InfeasibleError, SuijiError, UsageError
from suiji.data.period import Period
from suiji.data.progress import Progress
from suiji.data.rules import Rules
from suiji.data.snapshot import Snapshot
from suiji.data.store import Store
from suiji.sampler.firms import REASONS, FirmDraw, draw_firms
from suiji.scheduler.teams import Schedule, TeamAssignment, schedule, substitute

ALGORITHM = "suiji-inspections/1"  # dates anywhere in the period; still verifies
ALGORITHM_V2 = "suiji-inspections/2"  # dates from the day after the draw (params start)
# Substitutions recorded since the seed of the replacement no longer depends on the
# free --from date; those recorded before (params without "algorithm") stay /1.
SUBSTITUTION_ALGORITHM = "suiji-substitution/2"
# /2 with the exact date search where the greedy repair fails, no CP-SAT (ALGORITHM.md,
# "Which algorithm id covers what"): recorded only for the plans where the search ran
ALGORITHM_V3 = "suiji-inspections/3"
SCOPE = "inspections"
SOLVER_KEYS = ("status", "method", "unique", "objective", "arcs", "components")
# Rounding of the reported inclusion probabilities of min_per_district strata,
# which come from a numerical integral (exact to about 1e-9).
PROBABILITY_DECIMALS = 9


def _frame(snapshot: Snapshot, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """A frozen file, or an empty frame when an older snapshot does not have it."""
    if name in snapshot.files:
        return snapshot.frame(name)
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def active_inspectors(inspectors: pd.DataFrame) -> int:
    """Active inspectors (在岗 yes or empty): the base of per_inspector quotas."""
    if inspectors.empty:
        return 0
    active = inspectors["active"].astype(str)
    return int(((active == "yes") | (active == "")).sum())


def compute_plan(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
                 progress: Progress | None = None) -> dict[str, Any]:
    """The plan of ``snapshot.period`` under ``seed``: a pure function (no clock, no I/O).

    ``params`` is recorded with the draw; the plan takes none (pass ``{}``).
    Raises :class:`~suiji.data.errors.InfeasibleError` when no team and date
    assignment satisfies the rules. Where the greedy repair fails it replays
    the CP-SAT date fallback ``/1`` plans were drawn with (OR-Tools-version
    dependent, ALGORITHM.md): for verifying them only; no new draw calls it.
    """
    if params:
        raise SuijiError(f"The inspection plan takes no parameters, got {sorted(params)}.")
    period = Period.parse(snapshot.period)
    return _plan(snapshot, seed, snapshot.working_days, period.first_day, ALGORITHM, progress,
                 legacy_cpsat=True)


def compute_plan_v2(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
                    progress: Progress | None = None) -> dict[str, Any]:
    """``suiji-inspections/2``: the plan of ``compute_plan`` on the working days from
    ``params["start"]`` on (the first day after the draw, or a later start), so no
    inspection is dated on or before the day it was drawn. ``params["drawn_on"]`` is the
    date of the draw. The output is the ``/1`` document with ``algorithm`` ``/2`` and
    ``start`` and ``drawn_on`` added. A pure function. Like :func:`compute_plan` it
    replays the legacy CP-SAT date fallback: for verifying ``/2`` plans only."""
    return _window_plan(snapshot, seed, params, progress, legacy_cpsat=True)


def compute_plan_v3(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
                    progress: Progress | None = None) -> dict[str, Any]:
    """What a new plan draws: :func:`compute_plan_v2` with the exact date search.

    Where the greedy repair fails, the exact date search of ALGORITHM.md chooses
    the days (no CP-SAT, no time limit), and the output's ``algorithm`` is
    ``suiji-inspections/3``; every other plan is the ``suiji-inspections/2``
    document, byte for byte. Raises InfeasibleError when no plan exists or the
    search gives up (a fixed count of tries).
    """
    return _window_plan(snapshot, seed, params, progress, legacy_cpsat=False)


def algorithm_of(output: dict[str, Any]) -> str:
    """The algorithm id a plan output is recorded under (``/2``, or ``/3`` if searched)."""
    return str(output["algorithm"])


def _window_plan(snapshot: Snapshot, seed: str, params: dict[str, Any],
                 progress: Progress | None, *, legacy_cpsat: bool) -> dict[str, Any]:
    drawn_on, start = _window_params(params)
    period = Period.parse(snapshot.period)
    all_days = snapshot.working_days
    days = [d for d in all_days if d >= start]
    if not days:
        raise InfeasibleError(
            f"No working day of {period} is left on or after {start.isoformat()} (drawn on "
            f"{drawn_on.isoformat()}; the period's last working day is "
            f"{all_days[-1].isoformat() if all_days else 'none'}). An inspection plan is drawn "
            f"before its dates: draw the next quarter's plan instead.")
    try:
        out = _plan(snapshot, seed, days, start, ALGORITHM_V2, progress,
                    legacy_cpsat=legacy_cpsat)
    except InfeasibleError as exc:
        if len(days) == len(all_days):
            raise
        raise InfeasibleError(
            f"{exc}\nOnly {len(days)} of the {len(all_days)} working days of {period} remain "
            f"from {start.isoformat()} (drawn on {drawn_on.isoformat()}), and the inspections "
            f"must fit into them. Draw the plan earlier in the quarter (or before it), raise "
            f"the inspectors' capacities, or lower the quotas in the rules.") from exc
    out["start"] = start.isoformat()
    out["drawn_on"] = drawn_on.isoformat()
    return out


def _window_params(params: dict[str, Any]) -> tuple[date, date]:
    if set(params) != {"drawn_on", "start"}:
        raise SuijiError(f"{ALGORITHM_V2} takes the parameters drawn_on and start, got "
                         f"{sorted(params)}.")
    return draw_dates(params, ALGORITHM_V2)


def draw_dates(params: dict[str, Any], algorithm: str) -> tuple[date, date]:
    """``params["drawn_on"]`` and ``params["start"]`` of a plan dated after its draw
    (``suiji-inspections/2``, ``suiji-tasks/1``), checked: dates, start after the draw."""
    try:
        drawn_on = date.fromisoformat(str(params["drawn_on"]))
        start = date.fromisoformat(str(params["start"]))
    except (KeyError, ValueError) as exc:
        raise SuijiError(f"{algorithm}: drawn_on and start must be dates, got "
                         f"{params}.") from exc
    if start <= drawn_on:
        raise SuijiError(f"{algorithm}: start {start} must be after the draw on {drawn_on}.")
    return drawn_on, start


def plan_start(period: Period, today: date, start: date | None = None) -> date:
    """The first day a plan drawn on ``today`` may date an inspection: the day after the
    draw, the period's first day if later, or ``start`` if later still."""
    first = max(today + timedelta(days=1), period.first_day)
    if start is not None and start < first:
        raise UsageError(f"--start {start.isoformat()} is before {first.isoformat()}, the first "
                         f"day a plan drawn on {today.isoformat()} may use (inspections are "
                         f"never dated on or before the day of the draw).")
    chosen = max(first, start) if start is not None else first
    if chosen > period.last_day:
        raise InfeasibleError(f"{period} ends on {period.last_day.isoformat()}: a plan drawn on "
                              f"{today.isoformat()} has no day of it left. Draw the next "
                              f"quarter's plan instead.")
    return chosen


def _plan(snapshot: Snapshot, seed: str, working_days: list[date], period_start: date,
          algorithm: str, progress: Progress | None, *, legacy_cpsat: bool) -> dict[str, Any]:
    rules = snapshot.rules
    period = Period.parse(snapshot.period)
    companies = snapshot.frame("companies.csv")
    inspectors = snapshot.frame("inspectors.csv")
    history = snapshot.frame("history.csv")
    if progress is not None:
        progress.step("抽取企业 firm draw")
    firms = draw_firms(companies, snapshot.frame("positive-list.csv"), history,
                       rules.inspection, period, seed, active_inspectors(inspectors))
    info = companies.set_index("uscc", drop=False)
    _check_drawn(firms)
    drawn = info.loc[firms.usccs] if firms.drawn_ids.size else info.iloc[:0]
    previous = _frame(snapshot, "previous-teams.csv", ("uscc", "badge", "date", "period"))
    plan = schedule(drawn[["uscc", "name", "district", "city"]].reset_index(drop=True),
                    inspectors, snapshot.frame("inspector-leave.csv"),
                    snapshot.frame("conflicts.csv"), history, working_days,
                    rules.inspection, seed, progress, previous_teams=previous,
                    period_start=period_start, legacy_cpsat=legacy_cpsat)
    if plan.stats.method.endswith("+date-search"):
        algorithm = ALGORITHM_V3  # the only difference: the search chose some days
    return plan_output(snapshot, seed, firms, plan, info, algorithm)


def plan_output(snapshot: Snapshot, seed: str, firms: FirmDraw, plan: Schedule,
                info: pd.DataFrame, algorithm: str = "suiji-inspections/1") -> dict[str, Any]:
    """The ``suiji-inspections/1`` document (see ALGORITHM.md, "Output format"); ``/2``
    writes its own id."""
    min_strata = {s.category for s in firms.strata if s.min_per_district and s.method == "srs"}
    teams = {t.uscc: t for t in plan.items}
    # the columns of firms.firms (sorted by USCC), without building a DrawnFirm per firm
    _check_drawn(firms)
    order = np.argsort(firms.drawn_ids.astype(str), kind="stable")
    usccs = firms.drawn_ids[order].tolist()
    rows = _columns(info, usccs, ("name", "district", "city", "category", "industry"))
    items = []
    for uscc, stratum, p, ticket, name, district, city, category, industry in zip(
            usccs, firms.drawn_strata[order].tolist(),
            firms.drawn_probabilities[order].tolist(), firms.drawn_tickets[order].tolist(),
            *rows, strict=True):
        team = teams[uscc]
        probability = round(p, PROBABILITY_DECIMALS) if stratum in min_strata else p
        items.append({"uscc": uscc, "name": name, "district": district, "city": city,
                      "category": category, "industry": industry,
                      "probability": float(probability), "ticket": ticket, "date": team.date,
                      "inspectors": list(team.badges), "stratum": stratum})
    items.sort(key=lambda i: (i["date"], i["district"], i["uscc"]))
    if firms.excluded_ids.size:
        reasons = firms.excluded_reasons
        if not np.isin(reasons, REASONS).all():
            _ = firms.exclusions  # raises Exclusion's error
        order = np.argsort(firms.excluded_ids.astype(str), kind="stable")
        ex = _columns(info, firms.excluded_ids[order].tolist(),
                      ("uscc", "name", "district", "category"))
        exclusions = [{"uscc": u, "name": n, "district": d, "category": c, "reason": r}
                      for u, n, d, c, r in zip(*ex, reasons[order].tolist(), strict=True)]
    else:
        exclusions = []
    stats = plan.stats.as_dict()
    return {
        "algorithm": algorithm,
        "period": snapshot.period,
        "seed": seed,
        "snapshot": snapshot.digest,
        "strata": [{"category": s.category, "eligible": s.eligible, "quota": s.quota,
                    "drawn": s.drawn, "method": s.method,
                    "min_per_district": s.min_per_district} for s in firms.strata],
        "excluded": dict(firms.excluded),
        "exclusions": exclusions,
        "items": items,
        "solver": {k: stats[k] for k in SOLVER_KEYS},
    }


def _check_drawn(firms: FirmDraw) -> None:
    """Raise DrawnFirm's error if a drawn firm's probability is outside (0, 1]."""
    p = firms.drawn_probabilities
    if not np.all((p > 0) & (p <= 1)):
        _ = firms.firms  # builds every DrawnFirm: raises for the first bad one


def _columns(info: pd.DataFrame, usccs: list[str], columns: tuple[str, ...]
             ) -> list[list[Any]]:
    """``info.loc[usccs, columns]`` as one list per column (the values itertuples gives)."""
    if info.index.is_unique and info.columns.is_unique:
        pos = info.index.get_indexer(pd.Index(usccs))  # str keys: reuses the index's table
        if not np.any(pos < 0):
            return [info[c].take(pos).tolist() for c in columns]
    rows = info.loc[usccs, list(columns)]  # the general case, with its errors
    return [list(col) for col in zip(*rows.itertuples(index=False, name=None), strict=True)] \
        if len(rows) else [[] for _ in columns]


def draw_plan(store: Store, period: Period, rules: Rules, seed: str | None = None,
              redraw: bool = False, reason: str = "",
              progress: Progress | None = None, commitment: str | None = None,
              weak_seed: bool = False, *, today: date, start: date | None = None
              ) -> DrawRecord:
    """Draw and record the period's plan (``suiji-inspections/2``), all-or-nothing, from
    its latest freeze.

    ``today`` is the date of the draw (the caller's clock): inspections are dated from
    the day after it (or the period's first day, or a later ``start``) to the period's
    end. Refuses when the inputs (or ``rules``) changed since the freeze, when the
    period already has a plan (unless ``redraw`` with a ``reason``), and when no plan
    fits the working days left. Without ``seed`` one comes from the OS
    (``seed_source = "os"``). ``commitment`` and ``weak_seed`` as in
    :func:`~suiji.data.draws.run_draw`.
    """
    first = plan_start(period, today, start)
    return run_draw(store, period=period, scope=SCOPE, rules=rules, algorithm=algorithm_of,
                    compute=compute_plan_v3,
                    params={"drawn_on": today.isoformat(), "start": first.isoformat()},
                    seed=seed, redraw=redraw, reason=reason, what=f"{period} inspections",
                    progress=progress, commitment=commitment, weak_seed=weak_seed)


# --- substitution ---------------------------------------------------------------


def compute_substitution(snapshot: Snapshot, seed: str, previous_output: dict[str, Any],
                         params: dict[str, Any]) -> dict[str, Any]:
    """``suiji-substitution/1``: the plan after replacing inspector ``params["badge"]``
    from ``params["from"]`` on.

    A pure function: each pending inspection (date ≥ from) of that inspector
    gets another eligible inspector, free that day, drawn by
    :func:`suiji.scheduler.teams.substitute` (a min-cost flow with ticket
    costs under the derived seed ``seed|substitute:{badge}:{from}``); dates,
    the other members and every other inspection stay as they were.
    ``params["n"]`` numbers the plan's substitutions (1, 2, ...). Kept for the
    substitutions recorded with it; new ones use :func:`compute_substitution_v2`.
    """
    return _substitution(snapshot, seed, previous_output, params, None)


def compute_substitution_v2(snapshot: Snapshot, seed: str, previous_output: dict[str, Any],
                            params: dict[str, Any]) -> dict[str, Any]:
    """``suiji-substitution/2``: as /1, but the replacements' costs are tickets under
    ``seed|substitute:{badge}``, a seed with no free parameter: neither the --from date
    nor the order or number of requests changes who may be drawn for an inspection."""
    if params.get("algorithm") != SUBSTITUTION_ALGORITHM:
        raise SuijiError(f"A {SUBSTITUTION_ALGORITHM} substitution records "
                         f"algorithm={SUBSTITUTION_ALGORITHM}; got {params.get('algorithm')!r}.")
    badge, _, _ = _substitution_params(params)
    return _substitution(snapshot, seed, previous_output, params, f"substitute:{badge}")


def _substitution(snapshot: Snapshot, seed: str, previous_output: dict[str, Any],
                  params: dict[str, Any], purpose: str | None) -> dict[str, Any]:
    badge, start, _ = _substitution_params(params)
    items = previous_output["items"]
    if not any(i["date"] >= start and badge in i["inspectors"] for i in items):
        raise SuijiError(f"Inspector {badge} has no pending inspection on or after {start} "
                         f"in the {snapshot.period} plan; nothing to substitute.")
    period = Period.parse(snapshot.period)
    frame = pd.DataFrame([{k: i[k] for k in ("uscc", "name", "district", "city")}
                          for i in items], columns=["uscc", "name", "district", "city"],
                         dtype=object)
    teams = [TeamAssignment(i["uscc"], i["date"], tuple(i["inspectors"])) for i in items]
    rules = snapshot.rules
    previous = _frame(snapshot, "previous-teams.csv", ("uscc", "badge", "date", "period"))
    result = substitute(teams, frame, snapshot.frame("inspectors.csv"),
                        snapshot.frame("inspector-leave.csv"), snapshot.frame("conflicts.csv"),
                        snapshot.frame("history.csv"), rules.inspection, seed, badge,
                        date.fromisoformat(start), previous_teams=previous,
                        period_start=period.first_day, purpose=purpose)
    new_teams = {t.uscc: list(t.badges) for t in result}
    out = dict(previous_output)
    out["items"] = [dict(i, inspectors=new_teams[i["uscc"]]) for i in items]
    return out


def _substitution_params(params: dict[str, Any]) -> tuple[str, str, int]:
    try:
        badge, start, n = str(params["badge"]), str(params["from"]), int(params["n"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SuijiError(f"A substitution needs params badge, from and n; got {params}.") from exc
    try:
        date.fromisoformat(start)
    except ValueError as exc:
        raise SuijiError(f"--from {start!r} is not a date like 2026-11-02.") from exc
    return badge, start, n


@dataclass(frozen=True)
class Replacement:
    """One pending inspection whose team changed."""

    uscc: str
    date: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class Substitution:
    """A recorded substitution: the event id, what changed, and the plan after it."""

    event: int
    period: str
    badge: str
    start: str
    replacements: tuple[Replacement, ...]  # by (date, uscc)
    output: dict[str, Any] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if any(self.badge in r.after or self.badge not in r.before
               for r in self.replacements):
            raise ValueError("a replacement must remove the substituted inspector")


def substitute_inspector(store: Store, period: Period, badge: str, reason: str,
                         from_date: str | None = None, *, today: date | None = None
                         ) -> Substitution:
    """Replace inspector ``badge`` in the pending inspections of the current plan.

    Recorded as a ``substitution`` event (:data:`SUBSTITUTION_ALGORITHM`) with
    its reason (the plan before it stays on record). ``today`` is the
    caller's date (the command line's clock; the library never reads it);
    ``from_date`` defaults to it and may not be earlier: an inspection already
    due is never re-teamed. ``suiji verify`` checks ``from`` against the time
    the log recorded.
    """
    if not reason.strip():
        raise UsageError("A substitution needs a reason: --reason \"...\" (it is recorded).")
    if today is None:
        raise UsageError("A substitution needs today's date, the first day an inspection is "
                         "still pending (the command line gives it).")
    start = from_date or today.isoformat()
    try:
        first = date.fromisoformat(start)
    except ValueError as exc:
        raise SuijiError(f"--from {start!r} is not a date like 2026-11-02.") from exc
    if first < today:
        raise SuijiError(
            f"--from {start} is before today ({today.isoformat()}): inspections on earlier "
            f"days were due already and are never re-teamed. Substitute from today on "
            f"(leave out --from), or record the inspection's result instead.")

    def find(store: Store) -> DrawRecord:
        draw = current_draw(store, str(period), SCOPE)
        if draw is None:
            raise SuijiError(f"{period} has no inspection plan yet. Draw one with "
                             f"`suiji draw inspections --period {period}`.")
        return draw

    def params(store: Store, draw: DrawRecord) -> dict[str, Any]:
        return {"badge": badge, "from": start, "algorithm": SUBSTITUTION_ALGORITHM,
                "n": count_events(store, draw.id, "substitution") + 1}

    event = run_event(store, kind="substitution", find=find, compute=compute_substitution_v2,
                      params=params, reason=reason)
    before, output = event.before, event.output
    old = {i["uscc"]: tuple(i["inspectors"]) for i in before["items"]}
    changed = sorted((Replacement(i["uscc"], i["date"], old[i["uscc"]], tuple(i["inspectors"]))
                      for i in output["items"] if old[i["uscc"]] != tuple(i["inspectors"])),
                     key=lambda r: (r.date, r.uscc))
    return Substitution(event.event, str(period), badge, start, tuple(changed), output)
