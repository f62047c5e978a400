"""The record of experts' answers to a panel notification (``responses`` table).

The scheduler step :func:`suiji.scheduler.responses.record_responses` checks a
file and applies its declines; this module holds the rows: each answer with the
import that brought it and what came of it (accepted, declined with the decline
event's id, to be called by hand). Rows are only ever added.
"""

from __future__ import annotations

from types import SimpleNamespace

from suiji.data.store import Store, utc_now


def start_import(store: Store, *, file_name: str, file_sha256: str, rows: int,
                 digest: str) -> tuple[int, int]:
    """Record the import of a responses file and its log entry: (import id, version).

    Runs inside the caller's transaction, with the answers that follow."""
    store._require_transaction()
    version = store.current_version("responses") + 1
    cur = store.conn.execute(
        "INSERT INTO imports (kind, version, file_name, file_sha256, encoding, rows, "
        "inserted, updated, removed, warnings, digest, imported_at) "
        "VALUES ('responses', ?, ?, ?, '', ?, ?, 0, 0, '[]', ?, ?)",
        (version, file_name, file_sha256, rows, rows, digest, utc_now()))
    store.append_log("import", details={"kind": "responses", "version": version,
                                        "file": file_name, "rows": rows, "inserted": rows,
                                        "updated": 0, "removed": 0},
                     digests={"file": file_sha256, "data": digest})
    return int(cur.lastrowid or 0), version


def add_answer(store: Store, import_id: int, row: SimpleNamespace, period: str, outcome: str,
               event_id: int | None) -> None:
    """One answer of a responses file (``row``: expert_id, meeting, answer, reason,
    answered_at) and what came of it."""
    store._require_transaction()
    store.conn.execute(
        "INSERT INTO responses (import_id, expert_id, meeting, period, answer, reason, "
        "answered_at, outcome, event_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (import_id, row.expert_id, row.meeting, period, row.answer, row.reason,
         row.answered_at, outcome, event_id, utc_now()))


def latest_answers(store: Store, meeting: str) -> dict[str, str]:
    """expert id -> their latest answer (accept / decline / no_answer) for ``meeting``."""
    answers: dict[str, str] = {}
    for e, a in store.conn.execute(
            "SELECT expert_id, answer FROM responses WHERE meeting = ? ORDER BY id", (meeting,)):
        answers[str(e)] = str(a)
    return answers


def notify_deadline(store: Store, meeting: str) -> str:
    """The answer deadline of the latest notification export for ``meeting`` ('' if none)."""
    row = store.conn.execute(
        "SELECT json_extract(details, '$.answer_by') FROM log WHERE action = 'export' "
        "AND json_extract(details, '$.what') = 'notify' "
        "AND json_extract(details, '$.meeting') = ? ORDER BY seq DESC LIMIT 1",
        (meeting,)).fetchone()
    return str(row[0] or "") if row else ""


def latest_review_period(store: Store) -> str | None:
    """The latest period with a current review sample, if any."""
    row = store.conn.execute("SELECT MAX(period) FROM draws WHERE scope = 'reviews' "
                             "AND status = 'current'").fetchone()
    return str(row[0]) if row and row[0] else None


__all__ = ["start_import", "add_answer", "latest_answers", "notify_deadline",
           "latest_review_period"]
