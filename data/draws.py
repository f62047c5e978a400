"""The record of draws: one current draw per (period, scope, subject), redraws on record.

Every recorded draw (inspection plan, review sample, expert panels) runs through
:func:`run_draw`, and every event on a draw (substitution, decline) through
:func:`run_event`: the draw modules supply a pure compute function of a snapshot
and a seed, and its parameters; seed resolution, the freeze check, the
one-current-draw rule, the redraw reason and the atomic record with its log
entry are written once, here. The partial unique index ``draws_one_current``
means two processes racing to draw the same period cannot both succeed. The
queries of draws and their events live here too.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from suiji.data.commitments import check_draw_commitment
from suiji.data.errors import AlreadyDrawnError, UsageError
from suiji.data.period import Period
from suiji.data.progress import Progress
from suiji.data.rules import Rules
from suiji.data.seeds import check_seed, check_strength, new_seed
from suiji.data.snapshot import (
    Snapshot,
    check_intact,
    check_unchanged,
    latest_snapshot,
    load_snapshot,
)
from suiji.data.store import Store, canonical_json, sha256_hex, utc_now

__all__ = ["check_seed", "new_seed"]  # re-exported: suiji.data.seeds defines them


@dataclass(frozen=True)
class DrawRecord:
    id: int
    period: str
    scope: str
    subject: str
    snapshot_id: int
    seed: str
    seed_source: str
    algorithm: str
    params: dict[str, Any]
    output: Any
    output_sha256: str
    status: str
    reason: str
    created_at: str


# Every draw and every event on a draw is a pure function of its frozen inputs:
#   draw:  compute(snapshot, seed, params, progress=None) -> JSON-able output
#   event: compute(snapshot, seed, previous_output, params) -> new output
# The registry that maps a recorded algorithm id to them lives above this layer
# (suiji.scheduler.algorithms); verification receives it as an argument.
DrawCompute = Callable[..., Any]
EventCompute = Callable[[Snapshot, str, Any, dict[str, Any]], Any]


def resolve_seed(seed: str | None) -> tuple[str, str]:
    """(seed, source): a given seed, normalised and checked (``user``), or a new one from
    the OS (``os``)."""
    return (check_seed(seed), "user") if seed is not None else (new_seed(), "os")


def refuse_if_drawn(store: Store, period: str, scope: str, subject: str = "", *,
                    redraw: bool = False, reason: str = "", what: str = "",
                    hint: str = "") -> None:
    """Refuse a draw the record would refuse, before its (possibly long) computation.

    ``what`` names the draw in the message (default: period, scope, subject).
    """
    if redraw and not reason.strip():
        raise UsageError("A redraw needs a reason: --reason \"...\" (it is published).")
    previous = _current_head(store, period, scope, subject)
    if previous is not None and not redraw:
        draw_id, created_at, seed = previous
        label = what or f"{period} {scope}" + (f" {subject}" if subject else "")
        raise AlreadyDrawnError(
            f"{label} was already drawn (draw {draw_id}, {created_at}, seed "
            f"{seed}). A second draw needs --redraw --reason \"...\"; the earlier "
            f"one stays on record.{' ' + hint if hint else ''}")


def output_bytes(output: Any) -> bytes:
    """The canonical bytes of a draw output: what is hashed and compared on verify."""
    return canonical_json(output).encode("utf-8")


_COLS = ("id, period, scope, subject, snapshot_id, seed, seed_source, algorithm, params, output, "
         "output_sha256, status, reason, created_at")


def _record(row: tuple[Any, ...]) -> DrawRecord:
    return DrawRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                      json.loads(row[8]), json.loads(row[9]), row[10], row[11], row[12], row[13])


def _current_head(store: Store, period: str, scope: str, subject: str
                  ) -> tuple[int, str, str] | None:
    """(id, created_at, seed) of the current draw, without reading its (large) output."""
    row = store.conn.execute(
        "SELECT id, created_at, seed FROM draws WHERE period = ? AND scope = ? AND subject = ? "
        "AND status = 'current'", (period, scope, subject)).fetchone()
    return (int(row[0]), str(row[1]), str(row[2])) if row else None


def current_draw(store: Store, period: str, scope: str, subject: str = "") -> DrawRecord | None:
    row = store.conn.execute(
        f"SELECT {_COLS} FROM draws WHERE period = ? AND scope = ? AND subject = ? "
        f"AND status = 'current'", (period, scope, subject)).fetchone()
    return _record(row) if row else None


def all_draws(store: Store, period: str | None = None) -> list[DrawRecord]:
    sql, args = f"SELECT {_COLS} FROM draws", ()
    if period:
        sql, args = sql + " WHERE period = ?", (period,)  # type: ignore[assignment]
    return [_record(r) for r in store.conn.execute(sql + " ORDER BY id", args)]


def record_draw(store: Store, *, scope: str, snapshot: Snapshot, seed: str, seed_source: str,
                algorithm: str, output: Any, params: dict[str, Any] | None = None,
                subject: str = "", redraw: bool = False, reason: str = "",
                seed_facts: Mapping[str, Any] | None = None) -> DrawRecord:
    """Store a computed draw as the current one, atomically, with its log entry.

    Must run inside the caller's transaction if the caller also checked the
    freeze there (so nothing can change between the check and the write).
    ``seed_facts`` (the seed as given, whether it is weak, the commitment it
    fulfils) go into the log entry beside the seed.
    The record returned is built in memory (its output decoded from the bytes
    just stored, so it is exactly what reading the row gives): the row just
    written is not read back from the database.
    """
    params = dict(params or {})
    period = snapshot.period
    data = output_bytes(output)
    digest = sha256_hex(data)
    label = f"{period} {scope}" + (f" {subject}" if subject else "")
    with store.transaction():
        refuse_if_drawn(store, period, scope, subject, redraw=redraw, reason=reason)
        previous = _current_head(store, period, scope, subject)
        if previous is not None:
            store.conn.execute("UPDATE draws SET status = 'superseded' WHERE id = ?",
                               (previous[0],))
        params_text = canonical_json(params)
        created_at = utc_now()
        try:
            cur = store.conn.execute(
                "INSERT INTO draws (period, scope, subject, snapshot_id, seed, seed_source, "
                "algorithm, params, output, output_sha256, status, reason, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'current', ?, ?)",
                (period, scope, subject, snapshot.id, seed, seed_source, algorithm,
                 params_text, data.decode("utf-8"), digest, reason, created_at))
        except sqlite3.IntegrityError as exc:  # a concurrent draw won the race
            raise AlreadyDrawnError(f"{label} was drawn by another process just now.") from exc
        draw_id = int(cur.lastrowid or 0)
        store.append_log("redraw" if previous is not None else "draw", period,
                         details={"scope": scope, "subject": subject, "draw": draw_id,
                                  "seed": seed, "seed_source": seed_source,
                                  "algorithm": algorithm, "params": params,
                                  "supersedes": previous[0] if previous else None,
                                  "reason": reason, "created_at": created_at,
                                  **dict(seed_facts or {})},
                         digests={"snapshot": snapshot.digest, "output": digest})
    return DrawRecord(draw_id, period, scope, subject, snapshot.id, seed, seed_source, algorithm,
                      json.loads(params_text), json.loads(data), digest, "current", reason,
                      created_at)


def record_event(store: Store, draw: DrawRecord, kind: str, params: dict[str, Any],
                 output: Any, reason: str) -> int:
    """Record a change to a draw (substitution, decline) with the resulting full output."""
    if not reason.strip():
        raise UsageError(f"A {kind} needs a reason: --reason \"...\".")
    data = output_bytes(output)
    digest = sha256_hex(data)
    with store.transaction():
        now = utc_now()
        cur = store.conn.execute(
            "INSERT INTO draw_events (draw_id, kind, params, output, output_sha256, reason, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (draw.id, kind, canonical_json(params), data.decode("utf-8"), digest, reason, now))
        event_id = int(cur.lastrowid or 0)
        store.append_log(kind, draw.period,
                         details={"draw": draw.id, "event": event_id, "scope": draw.scope,
                                  "subject": draw.subject, "params": params, "reason": reason,
                                  "kind": kind, "created_at": now},
                         digests={"output": digest})
    return event_id


def frozen_rules(store: Store, draw: DrawRecord) -> Rules:
    """The rules frozen with the draw's snapshot (what its events are bound by)."""
    return load_snapshot(store, draw.snapshot_id).rules


def draw_facts(store: Store, draw: DrawRecord) -> dict[str, Any]:
    """What the draw's log entry records beside the seed: ``seed_weak``, ``seed_given``,
    ``commitment`` (the digest it fulfils), ``seed_source``; empty for an entry-less draw."""
    row = store.conn.execute(
        "SELECT details FROM log WHERE action IN ('draw', 'redraw') AND "
        "json_extract(details, '$.draw') = ? ORDER BY seq DESC LIMIT 1", (draw.id,)).fetchone()
    return dict(json.loads(row[0])) if row else {}


def latest_output_sha256(store: Store, draw: DrawRecord) -> str:
    """The digest of the draw's output after all its recorded events."""
    row = store.conn.execute("SELECT output_sha256 FROM draw_events WHERE draw_id = ? "
                             "ORDER BY id DESC LIMIT 1", (draw.id,)).fetchone()
    return str(row[0]) if row else draw.output_sha256


def latest_output(store: Store, draw: DrawRecord) -> Any:
    """The draw's output after all its recorded events."""
    row = store.conn.execute("SELECT output FROM draw_events WHERE draw_id = ? "
                             "ORDER BY id DESC LIMIT 1", (draw.id,)).fetchone()
    return json.loads(row[0]) if row else draw.output


def event_rows(store: Store, draw_id: int) -> list[dict[str, Any]]:
    """The recorded events of a draw, oldest first: id, kind, params (JSON text), output
    (the exact stored text), output_sha256, reason, created_at."""
    cur = store.conn.execute("SELECT id, kind, params, output, output_sha256, reason, created_at "
                             "FROM draw_events WHERE draw_id = ? ORDER BY id", (draw_id,))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def count_events(store: Store, draw_id: int, kind: str) -> int:
    """How many events of ``kind`` the draw has (numbers the next one)."""
    return int(store.conn.execute("SELECT COUNT(*) FROM draw_events WHERE draw_id = ? AND "
                                  "kind = ?", (draw_id, kind)).fetchone()[0])


def stored_output(store: Store, draw_id: int) -> str:
    """A draw's output exactly as stored (the text its digest is taken of)."""
    return str(store.conn.execute("SELECT output FROM draws WHERE id = ?",
                                  (draw_id,)).fetchone()[0])


def current_periods(store: Store, scope: str, subject: str) -> list[str]:
    """The periods that have a current draw of ``scope`` for ``subject``, sorted."""
    rows = store.conn.execute(
        "SELECT period FROM draws WHERE scope = ? AND subject = ? AND status = 'current' "
        "ORDER BY period", (scope, subject)).fetchall()
    return [str(r[0]) for r in rows]


# --- the one recorded-draw path --------------------------------------------------------

ParamsSource = Mapping[str, Any] | Callable[[Store, Snapshot], Mapping[str, Any]]


def run_draw(store: Store, *, period: Period | str, scope: str, rules: Rules,
             algorithm: str | Callable[[Any], str],
             compute: DrawCompute, params: ParamsSource | None = None, subject: str = "",
             snapshot_scope: str | None = None, seed: str | None = None, redraw: bool = False,
             reason: str = "", what: str = "", hint: str = "",
             progress: Progress | None = None, commitment: str | None = None,
             weak_seed: bool = False) -> DrawRecord:
    """Run one recorded draw, all or nothing, and return its record.

    In one transaction: the latest snapshot of ``snapshot_scope`` (default
    ``scope``) for the period, the freeze check against ``rules``, the
    one-current-draw-per-(period, scope, subject) rule (a second draw needs
    ``redraw`` with a ``reason``), the ``params`` (a mapping, or a function of
    the store and the snapshot that reads what the draw depends on), then the
    pure ``compute(snapshot, seed, params, progress=progress)`` and the record
    with its log entry. Without ``seed`` one comes from the OS (``os``).
    ``what`` and ``hint`` word the "already drawn" refusal. ``algorithm`` is the
    id recorded, or a function of the output that names it (a plan is recorded
    under ``suiji-inspections/3`` only when its date search ran).

    The seed is normalised (:func:`suiji.data.seeds.normalize_seed`); one with
    fewer than 20 digits is refused unless ``weak_seed``. When the frozen
    scope has a published commitment, ``commitment`` must be its latest
    digest and the seed must be given
    (:func:`suiji.data.commitments.check_draw_commitment`); the draw records
    the declared seed source beside the seed. The frozen blobs are checked
    against their manifest before anything is computed.
    """
    if redraw and not reason.strip():
        raise UsageError("A redraw needs a reason: --reason \"...\" (it is published).")
    typed = seed
    seed, seed_source = resolve_seed(seed)
    key = str(period)
    frozen_scope = snapshot_scope or scope
    with store.transaction():
        if progress is not None:
            progress.step("核对 checking the inputs against the freeze")
        snapshot = latest_snapshot(store, Period.parse(key), frozen_scope)
        check_intact(store, snapshot)
        fulfils = check_draw_commitment(store, key, frozen_scope, snapshot.id, commitment,
                                        seed_source == "user")
        check_unchanged(store, snapshot, rules)
        refuse_if_drawn(store, key, scope, subject, redraw=redraw, reason=reason, what=what,
                        hint=hint)
        weak = check_strength(seed, weak_seed) if seed_source == "user" else False
        given = params(store, snapshot) if callable(params) else params
        values = dict(given or {})
        output = compute(snapshot, seed, values, progress=progress)
        facts: dict[str, Any] = {"seed_weak": weak}
        if typed is not None and typed != seed:
            facts["seed_given"] = typed
        if fulfils is not None and fulfils.commitment is not None:
            seed_source = fulfils.commitment.seed_source.describe()
            facts["commitment"] = fulfils.commitment_digest
        recorded = algorithm(output) if callable(algorithm) else algorithm
        return record_draw(store, scope=scope, snapshot=snapshot, seed=seed,
                           seed_source=seed_source, algorithm=recorded, output=output,
                           params=values, subject=subject, redraw=redraw, reason=reason,
                           seed_facts=facts)


@dataclass(frozen=True)
class EventRecord:
    """A recorded event: its id, the draw it changed, the output before and after it."""

    event: int
    draw: DrawRecord
    kind: str
    params: dict[str, Any]
    before: Any
    output: Any


def run_event(store: Store, *, kind: str, find: Callable[[Store], DrawRecord],
              compute: EventCompute,
              params: Mapping[str, Any] | Callable[[Store, DrawRecord], Mapping[str, Any]],
              reason: str, hint: str = "") -> EventRecord:
    """Run one recorded event on a draw (substitution, decline), all or nothing.

    In one transaction: ``find`` the draw, load its snapshot and latest output,
    the ``params`` (a mapping, or a function of the store and the draw), the
    pure ``compute(snapshot, draw.seed, latest_output, params)``, and the
    record of the resulting full output with its log entry. An empty
    ``reason`` is refused (``hint`` adds an example to the message).
    """
    if not reason.strip():
        raise UsageError(f"A {kind} needs a reason: --reason \"...\""
                         f"{' (' + hint + ')' if hint else ''}.")
    with store.transaction():
        draw = find(store)
        snapshot = load_snapshot(store, draw.snapshot_id)
        check_intact(store, snapshot)
        values = dict(params(store, draw) if callable(params) else params)
        before = latest_output(store, draw)
        output = compute(snapshot, draw.seed, before, values)
        event_id = record_event(store, draw, kind, values, output, reason)
    return EventRecord(event_id, draw, kind, values, before, output)
