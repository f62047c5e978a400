"""Experts' answers to a panel notification: accept, decline with a reason, or no answer.

``suiji export notify --meeting DATE`` (:func:`suiji.reports.notify.export_notify`)
gives a voice/SMS platform the meeting's panel members and their phone numbers;
the platform's answers come back as a ``responses`` file. :func:`import_responses`
checks the whole file, then in one transaction records the import, applies
every decline through the recorded decline path (:func:`suiji.scheduler.panels.decline`,
so each replacement is a verifiable event) and lists who must be called by hand:
members who did not answer, and members with no row in any responses file of the
meeting once the answer deadline of their notification has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from suiji.data.canonical import canonical_csv, excel_rows, text_records
from suiji.data.draws import latest_output
from suiji.data.errors import InputFileError, SuijiError
from suiji.data.importers import read_kind
from suiji.data.period import Period
from suiji.data.responses import add_answer, latest_answers, notify_deadline, start_import
from suiji.data.schema import RECORD_KINDS
from suiji.data.store import Store, sha256_hex
from suiji.scheduler.panels import decline, find_panel_draw

FILE_COLUMNS = list(RECORD_KINDS["responses"].column_names)


@dataclass(frozen=True)
class ResponsesResult:
    summary: dict[str, Any]
    declined: tuple[dict[str, Any], ...]  # expert, reason, replacements
    call_by_hand: tuple[dict[str, str], ...]  # expert, meeting, why


def import_responses(store: Store, path: Path, *, today: date, encoding: str | None = None,
                     sheet: str | None = None, period: Period | None = None
                     ) -> ResponsesResult:
    """Read, check and apply a responses file; all or nothing."""
    parsed = read_kind("responses", path, encoding=encoding, sheet=sheet)
    return record_responses(store, parsed.frame, today=today, file_name=parsed.file_name,
                            file_sha256=parsed.file_sha256, period=period)


def record_responses(store: Store, frame: pd.DataFrame, *, today: date, file_name: str = "",
                     file_sha256: str = "", period: Period | None = None) -> ResponsesResult:
    """Record a canonical ``RECORD_KINDS["responses"]`` frame and apply its declines.

    Refused, with the row: a meeting without a current panel draw; an expert who
    is neither a member nor an alternate of that meeting's panels; a decline
    without a reason. A decline that cannot be replaced refuses the whole file
    (nothing is written) with the decline path's advice.
    """
    kind = RECORD_KINDS["responses"]
    rows = excel_rows(frame)
    frame = frame.reindex(columns=FILE_COLUMNS, fill_value="").fillna("").astype(str)
    problems: list[str] = []
    draws = {}
    for i, r in zip(rows, text_records(frame), strict=True):
        meeting = date.fromisoformat(r.meeting)
        if r.meeting not in draws:
            try:
                draws[r.meeting] = find_panel_draw(store, meeting, period)
            except SuijiError as exc:
                problems.append(f"row {i}, column meeting: {exc}")
                continue
        output = latest_output(store, draws[r.meeting])
        on = {e for item in output["items"] for e in (*item["experts"], *item["alternates"],
                                                      *item.get("declined", []))}
        if r.expert_id not in on:
            problems.append(f"row {i}, column expert_id: expert {r.expert_id} is neither on a "
                            f"panel nor an alternate of the meeting of {r.meeting}")
        if r.answer == "decline" and not r.reason:
            problems.append(f"row {i}, column reason: a decline needs its reason (原因), "
                            f"e.g. 出差; it is recorded with the replacement")
    if problems:
        raise InputFileError(f"{file_name or 'The responses file'}: rejected, "
                             f"{len(problems)} problem(s).", problems)
    digest = sha256_hex(canonical_csv(kind, frame))
    declined: list[dict[str, Any]] = []
    with store.transaction():
        import_id, version = start_import(store, file_name=file_name, file_sha256=file_sha256,
                                          rows=len(frame), digest=digest)
        for r in text_records(frame):
            draw = draws[r.meeting]
            event_id = None
            outcome = {"accept": "accepted", "no_answer": "call_by_hand"}.get(r.answer, "")
            if r.answer == "decline":
                already = {x["expert_id"] for x in latest_output(store, draw)["declines"]}
                if r.expert_id in already:
                    outcome = "already_declined"
                else:
                    result = decline(store, date.fromisoformat(r.meeting), r.expert_id,
                                     r.reason, Period.parse(draw.period))
                    event_id = result.event_id
                    outcome = "declined"
                    declined.append({"expert_id": r.expert_id, "meeting": r.meeting,
                                     "reason": r.reason,
                                     "replacements": list(result.replacements)})
            add_answer(store, import_id, r, draw.period, outcome, event_id)
    calls = to_call(store, sorted(draws), today)
    counts = {a: int((frame["answer"] == a).sum()) for a in ("accept", "decline", "no_answer")}
    summary = {"kind": "responses", "version": version, "import_id": import_id,
               "rows": len(frame), "digest": digest, "answers": counts,
               "declined": declined, "call_by_hand": calls, "warnings": []}
    return ResponsesResult(summary, tuple(declined), tuple(calls))


def to_call(store: Store, meetings: list[str], today: date) -> list[dict[str, str]]:
    """Panel members of ``meetings`` to call by hand: their answer was 未答复, or they have
    no answer at all and the deadline of their latest notification has passed."""
    out = []
    for meeting in meetings:
        draw = find_panel_draw(store, date.fromisoformat(meeting))
        output = latest_output(store, draw)
        members = sorted({e for item in output["items"] for e in item["experts"]})
        answers = latest_answers(store, meeting)
        deadline = notify_deadline(store, meeting)
        for e in members:
            if answers.get(e) == "no_answer":
                out.append({"expert_id": e, "meeting": meeting, "why": "no_answer"})
            elif e not in answers and deadline and deadline < today.isoformat():
                out.append({"expert_id": e, "meeting": meeting, "why": "past_deadline"})
    return out

