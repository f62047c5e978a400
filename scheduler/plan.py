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
reports and ``suiji verify`` read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from suiji.data.draws import DrawRecord, count_events, current_draw, run_draw, run_event
from suiji.data.errors import SuijiError, UsageError
from suiji.data.period import Period
from suiji.data.progress import Progress
from suiji.data.rules import Rules
from suiji.data.snapshot import Snapshot
from suiji.data.store import Store
from suiji.sampler.firms import REASONS, FirmDraw, draw_firms
from suiji.scheduler.teams import Schedule, TeamAssignment, schedule, substitute

ALGORITHM = "suiji-inspections/1"
# Substitutions recorded since the seed of the replacement no longer depends on the
# free --from date; those recorded before (params without "algorithm") stay /1.
SUBSTITUTION_ALGORITHM = "suiji-substitution/2"
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
    assignment satisfies the rules.
    """
    if params:
        raise SuijiError(f"The inspection plan takes no parameters, got {sorted(params)}.")
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
                    snapshot.frame("conflicts.csv"), history, snapshot.working_days,
                    rules.inspection, seed, progress, previous_teams=previous,
                    period_start=period.first_day)
    return plan_output(snapshot, seed, firms, plan, info)


def plan_output(snapshot: Snapshot, seed: str, firms: FirmDraw, plan: Schedule,
                info: pd.DataFrame) -> dict[str, Any]:
    """The ``suiji-inspections/1`` document (see ALGORITHM.md, "Output format")."""
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
        "algorithm": ALGORITHM,
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
              weak_seed: bool = False) -> DrawRecord:
    """Draw and record the period's plan, all-or-nothing, from its latest freeze.

    Refuses when the inputs (or ``rules``) changed since the freeze, when the
    period already has a plan (unless ``redraw`` with a ``reason``), and when
    no plan satisfies the rules. Without ``seed`` one comes from the OS
    (``seed_source = "os"``). ``commitment`` and ``weak_seed`` as in
    :func:`~suiji.data.draws.run_draw`.
    """
    return run_draw(store, period=period, scope=SCOPE, rules=rules, algorithm=ALGORITHM,
                    compute=compute_plan, params={}, seed=seed, redraw=redraw, reason=reason,
                    what=f"{period} inspections", progress=progress, commitment=commitment,
                    weak_seed=weak_seed)


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
