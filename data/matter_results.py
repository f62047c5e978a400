"""Results of task-plan visits, per matter, and when they are due (DOMAIN.md §8).

:func:`record_matter_results` records a canonical ``RECORD_KINDS["matter-results"]``
frame (``suiji import results FILE`` when the file has a 事项编号/matter column)
against the current task plans (``suiji-tasks/1``), all rows or none: each row is
one matter of one visit (or joined visit) of a current task plan of its period;
``not_carried_out`` needs a reason. A result already recorded for the same
visit and matter is replaced (both stay in the audit log).

Results are due within ``inspection.results_due_days`` working days (default
20, 河北 and national practice) of the visit: :func:`results_status` lists every
visit with its due date and the matters still without a result, and which of
them are overdue on a given day.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from suiji.data.calendar import is_working_day
from suiji.data.canonical import canonical_csv, excel_rows
from suiji.data.errors import CalendarError, InputFileError, SuijiError
from suiji.data.period import Period
from suiji.data.rules import Rules, parse_rules
from suiji.data.schema import RECORD_KINDS
from suiji.data.store import MATTER_RESULTS_DDL, Store, sha256_hex, utc_now
from suiji.data.visits import task_plan_outputs

NOT_CARRIED_OUT = "not_carried_out"


def _period_text(value: str) -> str | None:
    try:
        return str(Period.parse(value))
    except SuijiError:
        return None


def planned_matters(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """period -> uscc -> {"date", "matters", "tasks", "draw"} of every current task plan's
    visits and joined visits."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for draw, period, output in task_plan_outputs(store):
        visits = out.setdefault(period, {})
        for v in [*output.get("visits", []), *output.get("joined", [])]:
            entry = visits.setdefault(str(v["uscc"]), {"date": str(v["date"]), "matters": [],
                                                       "tasks": [], "draw": draw})
            entry["matters"] = list(dict.fromkeys([*entry["matters"], *v["matters"]]))
            entry["tasks"] = [*entry["tasks"], *v["tasks"]]
    return out


def record_matter_results(store: Store, frame: pd.DataFrame, *, period: str | None,
                          file_name: str = "", file_sha256: str = "") -> dict[str, Any]:
    """Record results per visit and matter; returns ``{"rows", "recorded", "period", ...}``.

    Each row's period is ``period`` if given, else its own period column, else the
    one current task plan holding the firm. Rejected with every bad row listed and
    nothing written: a firm with no visit of that plan, a matter not among the
    visit's matters, a period that is not a quarter, ``not_carried_out`` without a
    reason, rows of several periods.
    """
    kind = RECORD_KINDS["matter-results"]
    frame = frame.loc[:, list(kind.column_names)].fillna("").astype(str)
    label = file_name or "The results file"
    if frame.empty:
        raise InputFileError(f"{label} has no rows.", [])
    plans = planned_matters(store)
    given = _period_text(period) if period else None
    if period and given is None:
        raise SuijiError(f"--period {period!r} is not a quarter. Write it like 2026Q4.")
    problems: list[str] = []
    resolved: list[tuple[str, str, str, str, str, str]] = []
    columns = [frame[c].tolist() for c in ("uscc", "matter", "outcome", "date", "reason",
                                           "period")]
    for n, uscc, matter, outcome, day, reason, own in zip(excel_rows(frame), *columns,
                                                           strict=True):
        where = f"row {n}"
        own, reason = own.strip(), reason.strip()
        p = given or (_period_text(own) if own else None)
        if own and p is None:
            problems.append(f"{where}, column period: {own!r} is not a quarter like 2026Q4")
            continue
        if given and own and _period_text(own) != given:
            problems.append(f"{where}, column period: {own} differs from --period {given}")
            continue
        if p is None:
            holders = [q for q, visits in plans.items() if uscc in visits]
            if len(holders) > 1:
                problems.append(f"{where}: {uscc} has visits in the task plans of "
                                f"{', '.join(holders)}; add a period column or pass --period")
                continue
            p = holders[0] if holders else None
        visit = plans.get(p or "", {}).get(uscc)
        if visit is None:
            problems.append(f"{where}: {uscc} has no visit in "
                            f"{'the ' + p + ' task plan' if p else 'any current task plan'}; "
                            f"check the USCC" + ("" if p else " or pass --period"))
            continue
        if matter not in visit["matters"]:
            problems.append(f"{where}, column matter: {matter!r} is not a matter of the visit "
                            f"of {uscc} (its matters: {', '.join(visit['matters'])})")
            continue
        if outcome == NOT_CARRIED_OUT and not reason:
            problems.append(f"{where}, column reason: a matter not inspected needs a reason "
                            f"(未检查原因)")
            continue
        day = day or (visit["date"] if outcome != NOT_CARRIED_OUT else "")
        assert p is not None
        resolved.append((p, uscc, matter, day, outcome, reason))
    periods = sorted({r[0] for r in resolved})
    if not problems and len(periods) > 1:
        problems.append(f"the rows are results of several periods ({', '.join(periods)}); "
                        f"import one file per period")
    if problems:
        raise InputFileError(f"{label}: {len(problems)} problem(s).", problems)
    (the_period,) = periods
    digest = sha256_hex(canonical_csv(kind, frame))
    with store.transaction():
        store.conn.execute(MATTER_RESULTS_DDL)  # a database older than this table
        version = store.current_version("matter-results") + 1
        existing = {(u, m) for u, m in store.conn.execute(
            "SELECT uscc, matter FROM matter_results WHERE period = ?", (the_period,))}
        updated = sum((r[1], r[2]) in existing for r in resolved)
        import_id = store.record_import("matter-results", version, file_name=file_name,
                                        file_sha256=file_sha256, rows=len(frame),
                                        digest=digest, inserted=len(resolved) - updated,
                                        updated=updated)
        now = utc_now()
        store.conn.executemany(
            "INSERT INTO matter_results (period, uscc, matter, date, outcome, note, import_id, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (period, uscc, matter) "
            "DO UPDATE SET date = excluded.date, outcome = excluded.outcome, note = "
            "excluded.note, import_id = excluded.import_id, recorded_at = excluded.recorded_at",
            [(*r, import_id, now) for r in resolved])
        not_done = sum(r[4] == NOT_CARRIED_OUT for r in resolved)
        store.append_log("results", the_period,
                         details={"file": file_name, "version": version, "rows": len(frame),
                                  "recorded": len(resolved), "updated": updated,
                                  "not_carried_out": not_done, "by": "matter"},
                         digests={"file": file_sha256, "data": digest})
    return {"rows": len(frame), "recorded": len(resolved), "period": the_period,
            "updated": updated, "not_carried_out": not_done}


def matter_results(store: Store, period: str) -> dict[tuple[str, str], dict[str, str]]:
    """(uscc, matter) -> {"date", "outcome", "note"} recorded for the period."""
    if store.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                          "name = 'matter_results'").fetchone() is None:
        return {}
    rows = store.conn.execute("SELECT uscc, matter, date, outcome, note FROM matter_results "
                              "WHERE period = ? ORDER BY uscc, matter", (period,)).fetchall()
    return {(u, m): {"date": d, "outcome": o, "note": n} for u, m, d, o, n in rows}


def add_working_days(day: date, n: int, rules: Rules) -> tuple[date, bool]:
    """The ``n``-th working day after ``day`` (the Chinese calendar, or the rules' notices),
    and whether it is an estimate: for a year whose holiday notice neither the calendar nor
    the rules know yet, Monday to Friday count as working days."""
    out, left, estimated = day, n, False
    while left > 0:
        out += timedelta(days=1)
        try:
            working = is_working_day(out, rules)
        except CalendarError:
            working, estimated = out.weekday() < 5, True
        if working:
            left -= 1
    return out, estimated


@dataclass(frozen=True)
class DueVisit:
    """A visit of a task plan, its results' due date and the matters still without one."""

    uscc: str
    name: str
    visit_date: str
    due: str
    tasks: tuple[str, ...]
    missing: tuple[str, ...]  # matter ids without a recorded result
    estimated: bool = False  # the due date counts Monday-Friday of a year without a notice

    def overdue(self, as_of: date) -> bool:
        return bool(self.missing) and date.fromisoformat(self.due) < as_of


def results_status(store: Store, period: Period | str) -> list[DueVisit]:
    """Every visit of the period's current task plans, by (due, uscc): due date (the visit
    plus ``results_due_days`` working days under the plan's frozen rules) and missing
    matters."""
    key = str(period)
    outputs = task_plan_outputs(store, period=key)
    if not outputs:
        raise SuijiError(f"{key} has no task plan. Draw one with `suiji draw tasks --period "
                         f"{key}` (the results of a /1 plan are per inspection).")
    recorded = matter_results(store, key)
    out = []
    for draw, _p, output in outputs:
        frozen = store.conn.execute(
            "SELECT f.data FROM draws d JOIN snapshot_files f ON f.snapshot_id = d.snapshot_id "
            "AND f.name = 'rules.toml' WHERE d.id = ?", (draw,)).fetchone()
        if frozen is None:
            raise SuijiError(f"Draw {draw} has no frozen rules; run `suiji verify`.")
        rules = parse_rules(zlib.decompress(frozen[0]).decode("utf-8"), "frozen rules")
        days = rules.inspection.results_due_days
        for v in [*output.get("visits", []), *output.get("joined", [])]:
            due, estimated = add_working_days(date.fromisoformat(v["date"]), days, rules)
            missing = tuple(m for m in v["matters"] if (v["uscc"], m) not in recorded)
            out.append(DueVisit(v["uscc"], v["name"], v["date"], due.isoformat(),
                                tuple(v["tasks"]), missing, estimated))
    out.sort(key=lambda d: (d.due, d.uscc))
    return out

