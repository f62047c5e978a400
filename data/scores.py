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

from suiji.data.canonical import canonical_csv, excel_rows, frame_csv, text_records
from suiji.data.errors import InputFileError
from suiji.data.loop_rules import PARTY_ZH
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
    """Deduction points per expert and year (expert-points.csv).

    ``points``: the deductions of the scores table (the year of the meeting) plus
    the 把关不严 deductions of :func:`suiji.data.findings.lax_points` (the year of
    the finding); ``scored``: the documents scored (one per document and meeting,
    whatever the number of scoring parties).
    """
    from suiji.data.findings import lax_points

    totals: dict[tuple[str, str], list[float]] = {}
    for e, y, p, c in store.conn.execute(
            "SELECT expert_id, substr(meeting, 1, 4) AS year, SUM(deduction), "
            "COUNT(DISTINCT project_id || char(31) || meeting) "
            "FROM scores GROUP BY expert_id, year"):
        totals[(e, y)] = [float(p), float(c)]
    for (e, y), p in lax_points(store).items():
        totals.setdefault((e, y), [0.0, 0.0])[0] += p
    rows = [(e, y, format_points(p), str(int(c))) for (e, y), (p, c) in sorted(totals.items())]
    return pd.DataFrame(rows, columns=POINTS_COLUMNS, dtype=object)


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


def final_panels(store: Store) -> dict[tuple[str, str], set[str]]:
    """(meeting, project id) -> the experts on that document's final panel (after declines),
    over every current panel draw."""
    out: dict[tuple[str, str], set[str]] = {}
    for _, meeting, output in current_panel_outputs(store):
        for item in output.get("items", []):
            out.setdefault((meeting, item["project_id"]), set()).update(item["experts"])
    return out


def scores_by_document(store: Store) -> dict[str, list[tuple[str, float | None]]]:
    """project id -> [(meeting, score or None)], one per expert scored at a meeting, by
    meeting and expert. Four-party rows of one expert count once, with the plain mean of
    the parties' scores (the rules' weighted result is :func:`expert_results`)."""
    out: dict[str, list[tuple[str, float | None]]] = {}
    for pid, meeting, score in store.conn.execute(
            "SELECT project_id, meeting, AVG(score) FROM scores "
            "GROUP BY project_id, meeting, expert_id ORDER BY project_id, meeting, expert_id"):
        out.setdefault(pid, []).append((meeting, None if score is None else float(score)))
    return out


def record_scores(store: Store, frame: pd.DataFrame, *, file_name: str = "",
                  file_sha256: str = "", rules: Rules, today: date | None = None,
                  allow_off_panel: bool = False) -> dict[str, Any]:
    """Record a canonical ``RECORD_KINDS["scores"]`` frame; all rows or none.

    Rejects (nothing written, row numbers as Excel shows them) an expert id not
    in the expert library, a negative or non-numeric deduction or score, a
    meeting after ``today`` (not yet held), and an expert who is not on that
    meeting's final panel for the document (after declines) unless
    ``allow_off_panel`` (scores of meetings not drawn with suiji, e.g. carried
    over; each such row is then named in a warning). A row for an (expert,
    document, meeting, party) already recorded replaces it.

    A file with the 打分方 (party) column is a four-party file (DOMAIN.md §10):
    every row names its party, one row per (expert, document, meeting, party),
    and only the parties of ``scoring.deduct`` may give deduction points. A file
    without the column holds one score per expert, document and meeting, as
    before four-party scoring.

    Returns a summary with every expert whose state changed (``changes``),
    each also written to the audit log.
    """
    kind = RECORD_KINDS["scores"]
    rows = excel_rows(frame)
    frame = frame.reindex(columns=list(kind.column_names), fill_value="")
    frame = frame.fillna("").astype(str)
    experts = set(store.read("experts")["expert_id"])
    panels = final_panels(store)
    parties = frame["party"].ne("")
    four_party = bool(parties.any())
    deduct = set(rules.credit.deduct)
    problems, warnings = [], []
    seen: dict[tuple[str, str, str, str], int] = {}
    for i, r in zip(rows, text_records(frame), strict=True):
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
            held = date.fromisoformat(str(r.meeting))
        except ValueError:
            problems.append(f"row {i}, column meeting: {r.meeting!r} is not a date")
            held = None
        if held is not None and today is not None and held > today:
            problems.append(f"row {i}, column meeting: the meeting of {r.meeting} has not been "
                            f"held yet (today is {today.isoformat()}); score it after the "
                            f"meeting")
        key = (r.expert_id, r.project_id, r.meeting, r.party)
        if key in seen:
            problems.append(f"row {i}: expert {r.expert_id}, document {r.project_id}, meeting "
                            f"{r.meeting}{', party ' + r.party if r.party else ''} is already "
                            f"on row {seen[key]}: one row per party")
        seen.setdefault(key, i)
        if r.expert_id not in panels.get((r.meeting, r.project_id), set()):
            text = (f"expert {r.expert_id} is not on the final panel for {r.project_id} at "
                    f"the meeting of {r.meeting} (not drawn, or declined and replaced)")
            if allow_off_panel:
                warnings.append(f"row {i}: {text}")
            else:
                problems.append(f"row {i}, column expert_id: {text}; only the experts who sat "
                                f"on the panel are scored")
        if four_party and not r.party:
            problems.append(f"row {i}, column 打分方: the scoring party is missing; a four-party "
                            f"file names it on every row (审批部门 / 建设单位 / 环评单位 / "
                            f"技术评估部门)")
        if r.party and deduction and deduction > 0 and r.party not in deduct:
            allowed = " / ".join(PARTY_ZH[p] for p in rules.credit.deduct) or "none"
            problems.append(f"row {i}, column deduction: {PARTY_ZH.get(r.party, r.party)} may "
                            f"not give deduction points under the rules (scoring.deduct: "
                            f"{allowed})")
    if problems:
        raise InputFileError(f"{file_name or 'The scores file'}: {len(problems)} problem(s).",
                             problems)
    years = sorted({int(m[:4]) for m in frame["meeting"]})
    digest = sha256_hex(canonical_csv(kind, frame))
    with store.transaction():
        before = {y: standings(points_frame(store), y, rules.review) for y in years}
        version = store.current_version("scores") + 1
        existing = {tuple(r) for r in store.conn.execute(
            "SELECT expert_id, project_id, meeting, party FROM scores")}
        records = text_records(frame)
        keys = [(r.expert_id, r.project_id, r.meeting, r.party) for r in records]
        updated = sum(key in existing for key in keys)
        inserted = len(keys) - updated
        import_id = store.record_import("scores", version, file_name=file_name,
                                        file_sha256=file_sha256, rows=len(frame),
                                        digest=digest, inserted=inserted, updated=updated,
                                        warnings=warnings)
        now = utc_now()
        written = []
        for key, r in zip(keys, records, strict=True):
            values = (*key, _float(str(r.score)), _float(str(r.deduction)) or 0.0, r.note)
            written.append(list(values))
            store.conn.execute(
                "INSERT INTO scores (expert_id, project_id, meeting, party, score, deduction, "
                "note, import_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (expert_id, project_id, meeting, party) DO UPDATE SET score = "
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
        changes = log_state_changes(store, before, rules)
    return {"kind": "scores", "version": version, "import_id": import_id, "rows": len(frame),
            "inserted": inserted, "updated": updated, "digest": digest,
            "warnings": warnings, "changes": changes}


def log_state_changes(store: Store, before: dict[int, dict[str, Standing]], rules: Rules
                      ) -> list[dict[str, Any]]:
    """Log (``expert_state``) and return every expert whose state in one of ``before``'s
    years differs from now. Runs inside the transaction of the change."""
    changes = []
    for y in sorted(before):
        after = standings(points_frame(store), y, rules.review)
        for expert, s in sorted(after.items()):
            old = before[y].get(expert)
            old_state = old.state if old else "good"
            if s.state != old_state:
                change = {"expert_id": expert, "year": y, "points": s.points,
                          "state": s.state, "previous_state": old_state}
                changes.append(change)
                store.append_log("expert_state", details=change)
    return changes


def expert_results(store: Store, rules: Rules) -> list[dict[str, Any]]:
    """One row per (expert, document, meeting) scored: the parties' scores, the combined
    score (``scoring.weights``; a file without parties: its one score) and the deduction."""
    grouped: dict[tuple[str, str, str], list[tuple[str, float | None, float, str]]] = {}
    for e, p, m, party, score, deduction, note in store.conn.execute(
            "SELECT expert_id, project_id, meeting, party, score, deduction, note FROM scores "
            "ORDER BY expert_id, project_id, meeting, party"):
        grouped.setdefault((e, p, m), []).append((party, score, float(deduction), note))
    out = []
    for (e, p, m), rows in grouped.items():
        by_party = {party: float(score) for party, score, _, _ in rows
                    if party and score is not None}
        legacy = [float(score) for party, score, _, _ in rows if not party and score is not None]
        combined = (rules.credit.combined_score(by_party) if by_party
                    else (legacy[0] if legacy else None))
        out.append({"expert_id": e, "project_id": p, "meeting": m, "parties": by_party,
                    "score": combined, "deduction": sum(d for _, _, d, _ in rows),
                    "notes": [n for _, _, _, n in rows if n]})
    return out


# --- status ------------------------------------------------------------------------------


def expert_status(store: Store, rules: Rules, on: date, period: Period | None = None
                  ) -> list[dict[str, Any]]:
    """Each expert of the library: eligibility, state, points of ``on``'s year, load.

    ``load`` is the number of documents the expert sits on (as a member) in the
    current panel draws of ``period`` (default: the latest period with a review
    sample, else the quarter containing ``on``); ``meetings`` the number of
    those meetings; ``lax`` the documents of ``on``'s year the expert signed off
    that were found 严重质量问题 (把关不严).
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
    from suiji.data.findings import lax_reviews

    lax: dict[str, list[str]] = {}
    for x in lax_reviews(store):
        if x["reviewed_on"][:4] == str(on.year):
            lax.setdefault(x["expert_id"], []).append(x["project_id"])
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
                     "meetings": len(meetings.get(r.expert_id, ())),
                     "lax": sorted(lax.get(str(r.expert_id), []))})
    return rows
