"""The on-site visits of recorded task plans (``suiji-tasks/1``), as the inputs of later draws.

A task plan (scope ``tasks``) records visits: one per firm, covering one or more
tasks. Later freezes read them here: the year's counting visits for the annual
cap (:func:`task_history_rows`) and, within a period, the visits of the tasks
drawn earlier and the inspections of the period's own double-random plan
(:func:`period_visits_file`), which a task drawn after them neither changes nor
visits twice.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from suiji.data.canonical import frame_csv
from suiji.data.period import Period
from suiji.data.rules import Rules
from suiji.data.store import LATEST_OUTPUT_SQL, Store

SCOPE = "tasks"
PERIOD_VISIT_COLUMNS = ["uscc", "date", "team_size", "counts", "draw", "tasks", "inspectors"]


def task_plan_outputs(store: Store, *, period: str | None = None,
                      before: str | None = None) -> list[tuple[int, str, dict[str, Any]]]:
    """(draw id, period, latest output) of the current task plans of ``period`` or of the
    periods before ``before``, oldest draw first."""
    sql = (f"SELECT d.id, d.period, {LATEST_OUTPUT_SQL} FROM draws d WHERE d.scope = ? "
           f"AND d.status = 'current'")
    args: list[str] = [SCOPE]
    if period is not None:
        sql, args = sql + " AND d.period = ?", [*args, period]
    if before is not None:
        sql, args = sql + " AND d.period < ?", [*args, before]
    rows = store.conn.execute(sql + " ORDER BY d.id", args).fetchall()
    return [(int(i), str(p), json.loads(out)) for i, p, out in rows]


def _not_done(store: Store) -> set[tuple[str, str]]:
    """(period, uscc) of the visits recorded as not carried out: a per-inspection result,
    or every matter's result of a task-plan visit (``matter_results``)."""
    out = {(p, u) for p, u in store.conn.execute(
        "SELECT period, uscc FROM results WHERE carried_out = 'no'")}
    if store.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                          "name = 'matter_results'").fetchone() is not None:
        out |= {(p, u) for p, u in store.conn.execute(
            "SELECT period, uscc FROM matter_results GROUP BY period, uscc "
            "HAVING SUM(outcome != 'not_carried_out') = 0")}
    return out


def task_history_rows(store: Store, period: Period) -> list[tuple[str, str, str, str]]:
    """(uscc, date, kind, source) of the visits of earlier periods' task plans this year.

    A counting visit is recorded with the kind of its first counting task, an
    exempt one as ``national_campaign``; visits recorded as not carried out are
    left out.
    """
    not_done = _not_done(store)
    rows = []
    for _draw, p, output in task_plan_outputs(store, before=str(period)):
        if not p.startswith(f"{period.year}Q"):
            continue
        for v in output.get("visits", []):
            if (p, v["uscc"]) not in not_done:
                rows.append((str(v["uscc"]), str(v.get("date", "")), str(v["kind"]),
                             f"tasks:{p}"))
    return rows


def _plan_visits(store: Store, period: Period) -> list[tuple[int, dict[str, Any]]]:
    """(draw id, item) of the period's current inspection plan (``suiji-inspections/1`` or
    ``/2``, after substitutions), without the items whose result says not carried out."""
    rows = store.conn.execute(
        f"SELECT d.id, {LATEST_OUTPUT_SQL} FROM draws d WHERE d.scope = 'inspections' AND "
        f"d.status = 'current' AND d.period = ?", (str(period),)).fetchall()
    not_done = {u for (u,) in store.conn.execute(
        "SELECT uscc FROM results WHERE carried_out = 'no' AND period = ?", (str(period),))}
    return [(int(draw), item) for draw, output in rows for item in json.loads(output)["items"]
            if item["uscc"] not in not_done]


def period_visits_file(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    """The visits already planned in the period (sorted CSV): those of its current task
    plans, and the inspections of its current double-random plan (``tasks`` empty; they
    count toward the cap when ``random`` does), so a task drawn after that plan leaves its
    firms at the cap out, joins them where the dates fit, and keeps its inspectors' load."""
    counts = "yes" if "random" in rules.inspection.cap_kinds else "no"
    rows = [(str(item["uscc"]), str(item.get("date", "")), str(len(item["inspectors"])),
             counts, str(draw), "", ";".join(str(b) for b in item["inspectors"]))
            for draw, item in _plan_visits(store, period)]
    for draw, _p, output in task_plan_outputs(store, period=str(period)):
        for v in output.get("visits", []):
            rows.append((str(v["uscc"]), str(v["date"]), str(len(v["inspectors"])),
                         "yes" if v["counts"] else "no", str(draw), ";".join(v["tasks"]),
                         ";".join(str(b) for b in v["inspectors"])))
    frame = pd.DataFrame(rows, columns=PERIOD_VISIT_COLUMNS, dtype=object)
    frame = frame.sort_values(["uscc", "date", "draw"]).reset_index(drop=True)
    return frame_csv(frame), len(frame)


def drawn_task_ids(store: Store, period: str) -> dict[str, int]:
    """task id -> the current task plan of ``period`` that drew it."""
    return {t["id"]: draw for draw, _p, output in task_plan_outputs(store, period=period)
            for t in output.get("tasks", [])}
