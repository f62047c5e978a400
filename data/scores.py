"""Expert review scores, deduction points and the expert's standing (DOMAIN.md §3 rule 11).

Imported scores record each expert's score and deduction points for a document
at a meeting. Deduction points add up per calendar year (the year of the
meeting). An expert whose points in a year reach ``review.warning_points``
(default 10) is warned; at ``review.suspension_points`` (default 20) the expert
is suspended for the rest of that year and the whole next year, and is never
drawn while suspended.

This module also produces the two frozen files the panel draw needs to be
reproducible (registered in :data:`suiji.data.snapshot.SCOPE_INPUTS`):

``review-history.csv``
    expert_id, project_id, meeting, source: who reviewed which document before
    (the members of panel draws of earlier periods, and every imported score).
``expert-points.csv``
    expert_id, year, points, scored: deduction points per expert and year.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from suiji.data.canonical import canonical_csv, excel_rows, frame_csv
from suiji.data.errors import InputFileError
from suiji.data.period import Period
from suiji.data.rules import ReviewRules, Rules
from suiji.data.schema import RECORD_KINDS
from suiji.data.store import LATEST_OUTPUT_SQL, Store, sha256_hex, utc_now

STATES = ("good", "warning", "suspended")
HISTORY_COLUMNS = ["expert_id", "project_id", "meeting", "source"]
POINTS_COLUMNS = ["expert_id", "year", "points", "scored"]


def format_points(value: float) -> str:
    """Canonical text of a points total: ``12`` or ``2.5`` (at most 4 decimals)."""
    text = f"{round(float(value), 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# --- standing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """An expert's deduction points around ``year`` and the resulting state."""

    expert_id: str
    year: int
    points: float  # in ``year``
    previous_points: float  # in ``year - 1``
    state: str  # good / warning / suspended

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown expert state {self.state!r}")


def standing(points: float, previous_points: float, rules: ReviewRules) -> str:
    """good / warning / suspended from this year's and last year's points."""
    if points >= rules.suspension_points or previous_points >= rules.suspension_points:
        return "suspended"
    if points >= rules.warning_points:
        return "warning"
    return "good"


def standings(points: pd.DataFrame, year: int, rules: ReviewRules) -> dict[str, Standing]:
    """expert id -> :class:`Standing` in ``year``, from an ``expert-points.csv`` frame.

    Experts without points are absent (their state is good).
    """
    if points.empty:
        return {}
    frame = points.assign(year=points["year"].astype(int),
                          points=points["points"].astype(float))
    now = frame[frame["year"] == year].groupby("expert_id")["points"].sum()
    before = frame[frame["year"] == year - 1].groupby("expert_id")["points"].sum()
    out = {}
    for expert in sorted(set(now.index) | set(before.index)):
        p, q = float(now.get(expert, 0.0)), float(before.get(expert, 0.0))
        out[str(expert)] = Standing(str(expert), year, p, q, standing(p, q, rules))
    return out


def points_frame(store: Store) -> pd.DataFrame:
    """Deduction points per expert and year from the scores table (expert-points.csv)."""
    rows = store.conn.execute(
        "SELECT expert_id, substr(meeting, 1, 4) AS year, SUM(deduction), COUNT(*) "
        "FROM scores GROUP BY expert_id, year ORDER BY expert_id, year").fetchall()
    return pd.DataFrame([(e, y, format_points(p), str(c)) for e, y, p, c in rows],
                        columns=POINTS_COLUMNS, dtype=object)


# --- frozen files for the panel draw ----------------------------------------------------------


def expert_points_file(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    frame = points_frame(store)
    return frame_csv(frame), len(frame)


def panel_members(output: dict[str, Any]) -> list[tuple[str, str]]:
    """(expert_id, project_id) of the members of a panel output."""
    return [(e, item["project_id"]) for item in output.get("items", []) for e in item["experts"]]


def current_panel_outputs(store: Store, period: str | None = None
                          ) -> list[tuple[str, str, dict[str, Any]]]:
    """(period, meeting, latest output) of every current panel draw, in draw order."""
    sql = (f"SELECT d.period, d.subject, {LATEST_OUTPUT_SQL} FROM draws d "
           f"WHERE d.scope = 'panels' AND d.status = 'current'")
    args: tuple[str, ...] = ()
    if period is not None:
        sql += " AND d.period = ?"
        args = (period,)
    return [(p, m, json.loads(o)) for p, m, o in store.conn.execute(sql + " ORDER BY d.id", args)]


def review_history_file(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    """Earlier reviews: panels of earlier periods and every imported score.

    Panels of the period itself are not here (each panel draw records them in
    its params), so one freeze serves the sample and all of the period's meetings.
    """
    rows = [(e, p, m, "score") for e, p, m in store.conn.execute(
        "SELECT expert_id, project_id, meeting FROM scores")]
    for draw_period, meeting, output in current_panel_outputs(store):
        if draw_period < str(period):
            rows.extend((e, pid, meeting, f"panel:{draw_period}")
                        for e, pid in panel_members(output))
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS, dtype=object).drop_duplicates()
    frame = frame.sort_values(HISTORY_COLUMNS, kind="mergesort").reset_index(drop=True)
    return frame_csv(frame), len(frame)


# --- importing scores ---------------------------------------------------------------------


def _float(value: str) -> float | None:
    value = str(value).strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return float("nan")


def scores_by_document(store: Store) -> dict[str, list[tuple[str, float | None]]]:
    """project id -> [(meeting, score or None)] of every recorded score, by meeting, expert."""
    out: dict[str, list[tuple[str, float | None]]] = {}
    for pid, meeting, score in store.conn.execute(
            "SELECT project_id, meeting, score FROM scores ORDER BY project_id, meeting, "
            "expert_id"):
        out.setdefault(pid, []).append((meeting, None if score is None else float(score)))
    return out


def record_scores(store: Store, frame: pd.DataFrame, *, file_name: str = "",
                  file_sha256: str = "", rules: Rules) -> dict[str, Any]:
    """Record a canonical ``RECORD_KINDS["scores"]`` frame; all rows or none.

    Rejects (nothing written, row numbers as Excel shows them) an expert id not
    in the expert library, a negative or non-numeric deduction or score. A row
    for an (expert, document, meeting) already recorded replaces it. Warns when
    a row matches no drawn panel. Returns a summary with every expert whose
    state changed (``changes``), each also written to the audit log.
    """
    kind = RECORD_KINDS["scores"]
    rows = excel_rows(frame)
    frame = frame.loc[:, list(kind.column_names)].fillna("").astype(str)
    experts = set(store.read("experts")["expert_id"])
    members = {(e, p, m) for _, m, out in current_panel_outputs(store)
               for e, p in panel_members(out)}
    problems, warnings = [], []
    for i, r in zip(rows, frame.itertuples(index=False), strict=True):
        if r.expert_id not in experts:
            problems.append(f"row {i}, column expert_id: expert {r.expert_id} is not in the "
                            f"expert library; import the experts first or fix the id")
        deduction = _float(str(r.deduction))
        if deduction is None or deduction != deduction or deduction < 0:
            problems.append(f"row {i}, column deduction: {r.deduction!r} is not a number ≥ 0")
        score = _float(str(r.score))
        if score is not None and score != score:
            problems.append(f"row {i}, column score: {r.score!r} is not a number")
        try:
            date.fromisoformat(str(r.meeting))
        except ValueError:
            problems.append(f"row {i}, column meeting: {r.meeting!r} is not a date")
        if (r.expert_id, r.project_id, r.meeting) not in members:
            warnings.append(f"row {i}: expert {r.expert_id} is not on a drawn panel for "
                            f"{r.project_id} at the meeting of {r.meeting}")
    if problems:
        raise InputFileError(f"{file_name or 'The scores file'}: {len(problems)} problem(s).",
                             problems)
    years = sorted({int(m[:4]) for m in frame["meeting"]})
    digest = sha256_hex(canonical_csv(kind, frame))
    with store.transaction():
        before = {y: standings(points_frame(store), y, rules.review) for y in years}
        version = store.current_version("scores") + 1
        existing = {tuple(r) for r in store.conn.execute(
            "SELECT expert_id, project_id, meeting FROM scores")}
        keys = [(r.expert_id, r.project_id, r.meeting) for r in frame.itertuples(index=False)]
        updated = sum(key in existing for key in keys)
        inserted = len(keys) - updated
        import_id = store.record_import("scores", version, file_name=file_name,
                                        file_sha256=file_sha256, rows=len(frame),
                                        digest=digest, inserted=inserted, updated=updated,
                                        warnings=warnings)
        now = utc_now()
        written = []
        for key, r in zip(keys, frame.itertuples(index=False), strict=True):
            values = (*key, _float(str(r.score)), _float(str(r.deduction)) or 0.0, r.note)
            written.append(list(values))
            store.conn.execute(
                "INSERT INTO scores (expert_id, project_id, meeting, score, deduction, note, "
                "import_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (expert_id, project_id, meeting) DO UPDATE SET score = "
                "excluded.score, deduction = excluded.deduction, note = excluded.note, "
                "import_id = excluded.import_id, recorded_at = excluded.recorded_at",
                (*values, import_id, now))
        # The rows as written: verify replays every scores entry and compares the table.
        store.append_log("import", details={"kind": "scores", "version": version,
                                            "file": file_name, "rows": len(frame),
                                            "inserted": inserted, "updated": updated,
                                            "removed": 0, "import_id": import_id,
                                            "encoding": "", "warnings": list(warnings),
                                            "recorded_at": now, "recorded_rows": written},
                         digests={"file": file_sha256, "data": digest})
        changes = []
        for y in years:
            after = standings(points_frame(store), y, rules.review)
            for expert, s in sorted(after.items()):
                old = before[y].get(expert)
                old_state = old.state if old else "good"
                if s.state != old_state:
                    change = {"expert_id": expert, "year": y, "points": s.points,
                              "state": s.state, "previous_state": old_state}
                    changes.append(change)
                    store.append_log("expert_state", details=change)
    return {"kind": "scores", "version": version, "import_id": import_id, "rows": len(frame),
            "inserted": inserted, "updated": updated, "digest": digest,
            "warnings": warnings, "changes": changes}


# --- status ------------------------------------------------------------------------------


def expert_status(store: Store, rules: Rules, on: date, period: Period | None = None
                  ) -> list[dict[str, Any]]:
    """Each expert of the library: eligibility, state, points of ``on``'s year, load.

    ``load`` is the number of documents the expert sits on (as a member) in the
    current panel draws of ``period`` (default: the latest period with a review
    sample, else the quarter containing ``on``); ``meetings`` the number of
    those meetings.
    """
    if period is None:
        row = store.conn.execute("SELECT MAX(period) FROM draws WHERE scope IN "
                                 "('reviews', 'panels') AND status = 'current'").fetchone()
        period = (Period.parse(row[0]) if row and row[0]
                  else Period(on.year, (on.month - 1) // 3 + 1))
    review = rules.review
    experts = store.read("experts")
    points = standings(points_frame(store), on.year, review)
    load: dict[str, int] = {}
    meetings: dict[str, set[str]] = {}
    for _, meeting, output in current_panel_outputs(store, str(period)):
        for expert, _pid in panel_members(output):
            load[expert] = load.get(expert, 0) + 1
            meetings.setdefault(expert, set()).add(meeting)
    rows = []
    for r in experts.sort_values("expert_id").itertuples(index=False):
        s = points.get(r.expert_id)
        state = s.state if s else "good"
        age = on.year - int(r.birth_year) if str(r.birth_year).strip() else None
        eligible = (r.active == "yes" and state != "suspended"
                    and (age is None or age <= review.max_age))
        rows.append({"expert_id": r.expert_id, "name": r.name, "active": r.active == "yes",
                     "age": age, "state": state, "points": s.points if s else 0.0,
                     "previous_points": s.previous_points if s else 0.0,
                     "eligible": eligible, "period": str(period),
                     "load": load.get(r.expert_id, 0),
                     "period_load_cap": review.period_load_cap,
                     "meetings": len(meetings.get(r.expert_id, ()))})
    return rows
