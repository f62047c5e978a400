"""Where a period stands: directories, freezes, draws, publications, results due, next step.

One read of the record for an overview (the workbench's home page); it
changes nothing. Cheap at any size: counts come from the record's own
metadata, and the plan's items are read once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from suiji.data.period import Period
from suiji.data.schema import KINDS
from suiji.data.snapshot import READ_ONLY_ACTIONS
from suiji.data.store import LATEST_OUTPUT_SQL, Store

INSPECTION_KINDS = ("companies", "inspectors", "inspector-leave", "conflicts", "inspections",
                    "positive-list")
REVIEW_KINDS = ("agencies", "projects", "experts", "employment-history", "conflicts")


@dataclass(frozen=True)
class Directory:
    kind: str
    zh: str
    version: int  # 0: never imported
    rows: int
    file_name: str
    imported_at: str


@dataclass(frozen=True)
class Freeze:
    snapshot: int
    digest: str
    created_at: str
    freezes: int  # how many freezes of this scope the period has
    imports_since: int  # directory or score imports logged after this freeze


@dataclass(frozen=True)
class DrawState:
    draw: int
    scope: str
    subject: str
    seed: str
    seed_source: str
    created_at: str
    items: int  # events (substitutions, declines) never change how many there are
    output_sha256: str  # of the draw itself (events change the latest output)
    events: int


@dataclass(frozen=True)
class PeriodStatus:
    period: str
    today: date
    directories: tuple[Directory, ...]
    freezes: dict[str, Freeze]  # scope -> the latest freeze
    plan: DrawState | None
    sample: DrawState | None
    panels: tuple[DrawState, ...]
    published: tuple[dict[str, Any], ...]  # publish log entries of the period: seq, at, what
    results_recorded: int
    results_due: int  # inspections dated before today without a result
    log_head: tuple[int, str]
    next_action: str  # one of NEXT_ACTIONS

    def directory(self, kind: str) -> Directory:
        return next(d for d in self.directories if d.kind == kind)


NEXT_ACTIONS = ("import", "freeze", "draw", "results", "publish", "freeze-reviews",
                "draw-reviews", "panels", "verify")


def current_period(today: date) -> Period:
    return Period(today.year, (today.month - 1) // 3 + 1)


def known_periods(store: Store) -> list[str]:
    """Periods with a freeze or a draw, newest first."""
    return sorted({p for (p,) in store.conn.execute(
        "SELECT period FROM snapshots UNION SELECT period FROM draws")}, reverse=True)


def record_head(store: Store) -> int:
    """Sequence number of the newest log entry that changed the record (not a freeze, export
    or publication): views of directories, draws and results are unchanged until it moves."""
    marks = ", ".join("?" for _ in READ_ONLY_ACTIONS)
    row = store.conn.execute(f"SELECT MAX(seq) FROM log WHERE action NOT IN ({marks})",
                             tuple(sorted(READ_ONLY_ACTIONS))).fetchone()
    return int(row[0] or 0)


def log_head(store: Store) -> tuple[int, str]:
    """(sequence number, hash) of the newest log entry; (0, '') for an empty log."""
    row = store.conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "")


def _directories(store: Store) -> tuple[Directory, ...]:
    latest: dict[str, tuple[Any, ...]] = {}
    for row in store.conn.execute(
            "SELECT kind, version, rows, file_name, imported_at FROM imports ORDER BY id"):
        latest[row[0]] = row
    out = []
    for kind in KINDS.values():
        r = latest.get(kind.name)
        out.append(Directory(kind.name, kind.zh, int(r[1]) if r else 0, int(r[2] or 0) if r else 0,
                             str(r[3] or "") if r else "", str(r[4] or "") if r else ""))
    return tuple(out)


def _freezes(store: Store, period: str) -> dict[str, Freeze]:
    out = {}
    for scope, count, sid in store.conn.execute(
            "SELECT scope, COUNT(*), MAX(id) FROM snapshots WHERE period = ? GROUP BY scope",
            (period,)).fetchall():
        digest, created = store.conn.execute(
            "SELECT digest, created_at FROM snapshots WHERE id = ?", (sid,)).fetchone()
        row = store.conn.execute(
            "SELECT seq FROM log WHERE action = 'freeze' AND period = ? "
            "AND json_extract(details, '$.snapshot') = ?", (period, sid)).fetchone()
        (later,) = store.conn.execute("SELECT COUNT(*) FROM log WHERE seq > ? AND action = "
                                      "'import'", (row[0] if row else 0,)).fetchone()
        out[scope] = Freeze(int(sid), digest, created, int(count), int(later))
    return out


def _draws(store: Store, period: str) -> list[DrawState]:
    out = []
    for r in store.conn.execute(
            "SELECT d.id, d.scope, d.subject, d.seed, d.seed_source, d.created_at, "
            "json_array_length(d.output, '$.items'), d.output_sha256, "
            "(SELECT COUNT(*) FROM draw_events e WHERE e.draw_id = d.id) "
            "FROM draws d WHERE d.period = ? AND d.status = 'current' ORDER BY d.id",
            (period,)):
        out.append(DrawState(int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6] or 0), r[7],
                             int(r[8])))
    return out


def _results(store: Store, period: str, plan: DrawState | None, today: date
             ) -> tuple[int, int]:
    (recorded,) = store.conn.execute("SELECT COUNT(*) FROM results WHERE period = ?",
                                     (period,)).fetchone()
    if plan is None:
        return int(recorded), 0
    (due,) = store.conn.execute(
        f"SELECT COUNT(*) FROM draws d, json_each({LATEST_OUTPUT_SQL}, '$.items') i "
        f"WHERE d.id = ? AND json_extract(i.value, '$.date') < ? AND NOT EXISTS ("
        f"SELECT 1 FROM results r WHERE r.period = ? "
        f"AND r.uscc = json_extract(i.value, '$.uscc'))",
        (plan.draw, today.isoformat(), period)).fetchone()
    return int(recorded), int(due)


def _next(dirs: tuple[Directory, ...], freezes: dict[str, Freeze], plan: DrawState | None,
          sample: DrawState | None, panels: list[DrawState], published: bool, due: int) -> str:
    have = {d.kind for d in dirs if d.version}
    if not {"companies", "inspectors"} <= have:
        return "import"
    if "inspections" not in freezes or (plan is None and freezes["inspections"].imports_since):
        return "freeze"
    if plan is None:
        return "draw"
    if due:
        return "results"
    if not published:
        return "publish"
    if {"projects", "experts", "agencies"} <= have:
        if "reviews" not in freezes:
            return "freeze-reviews"
        if sample is None:
            return "draw-reviews"
        if not panels:
            return "panels"
    return "verify"


def period_status(store: Store, period: Period | str, today: date) -> PeriodStatus:
    """Everything the home page shows about ``period`` as of ``today``."""
    p = str(period)
    dirs = _directories(store)
    freezes = _freezes(store, p)
    draws = _draws(store, p)
    plan = next((d for d in draws if d.scope == "inspections"), None)
    sample = next((d for d in draws if d.scope == "reviews"), None)
    panels = [d for d in draws if d.scope == "panels"]
    published = tuple(
        {"seq": seq, "at": at, "what": json.loads(details).get("what", "")}
        for seq, at, details in store.conn.execute(
            "SELECT seq, at, details FROM log WHERE action = 'publish' AND period = ? "
            "ORDER BY seq", (p,)))
    recorded, due = _results(store, p, plan, today)
    nxt = _next(dirs, freezes, plan, sample, panels,
                any(e["what"] == "plan" for e in published), due)
    return PeriodStatus(p, today, dirs, freezes, plan, sample, tuple(panels), published,
                        recorded, due, log_head(store), nxt)


# --- one freeze, one draw: what the workbench prints for publication and witnesses ---------

@dataclass(frozen=True)
class FreezeSheet:
    """A freeze as published before the seed exists: digest, files, and the log head after it."""

    snapshot: int
    period: str
    scope: str
    digest: str
    created_at: str
    files: dict[str, dict[str, Any]]  # name -> sha256, bytes, rows
    log_seq: int
    log_hash: str
    rules_text: str


def freeze_sheet(store: Store, snapshot_id: int) -> FreezeSheet:
    """The commitment of snapshot ``snapshot_id`` (without loading its frozen files)."""
    import zlib

    from suiji.data.errors import FreezeError

    row = store.conn.execute("SELECT period, scope, digest, manifest, created_at FROM snapshots "
                             "WHERE id = ?", (snapshot_id,)).fetchone()
    if row is None:
        raise FreezeError(f"No snapshot {snapshot_id}.")
    entry = store.conn.execute(
        "SELECT seq, hash FROM log WHERE action = 'freeze' AND period = ? "
        "AND json_extract(details, '$.snapshot') = ?", (row[0], snapshot_id)).fetchone()
    blob = store.conn.execute("SELECT data FROM snapshot_files WHERE snapshot_id = ? AND "
                              "name = 'rules.toml'", (snapshot_id,)).fetchone()
    rules = zlib.decompress(blob[0]).decode("utf-8") if blob else ""
    return FreezeSheet(snapshot_id, row[0], row[1], row[2], row[4],
                       json.loads(row[3])["files"], int(entry[0]) if entry else 0,
                       str(entry[1]) if entry else "", rules)


@dataclass(frozen=True)
class DrawSheet:
    """A draw as recorded before the witnesses (抽取记录): inputs, seed, result, log entry."""

    draw: int
    period: str
    scope: str
    subject: str
    status: str
    seed: str
    seed_source: str
    algorithm: str
    created_at: str
    reason: str
    snapshot: int
    snapshot_digest: str
    frozen_at: str
    output: dict[str, Any]  # the draw's own output without its items (events come after it)
    items: int  # how many items the draw's output has
    output_sha256: str
    log_seq: int
    log_hash: str


def draw_sheet(store: Store, draw_id: int) -> DrawSheet:
    from suiji.data.errors import SuijiError

    row = store.conn.execute(
        "SELECT d.period, d.scope, d.subject, d.status, d.seed, d.seed_source, d.algorithm, "
        "d.created_at, d.reason, d.snapshot_id, s.digest, s.created_at, "
        "json_array_length(d.output, '$.items'), d.output_sha256 "
        "FROM draws d JOIN snapshots s ON s.id = d.snapshot_id WHERE d.id = ?",
        (draw_id,)).fetchone()
    if row is None:
        raise SuijiError(f"No draw {draw_id}.")
    entry = store.conn.execute(
        "SELECT seq, hash FROM log WHERE action IN ('draw', 'redraw') AND period = ? "
        "AND json_extract(details, '$.draw') = ?", (row[0], draw_id)).fetchone()
    # The output's top-level fields but its items (a plan's items are megabytes of JSON).
    output = {key: json.loads(value) if kind in ("object", "array") else value
              for key, value, kind in store.conn.execute(
                  "SELECT key, value, type FROM json_each((SELECT output FROM draws WHERE id = ?))"
                  " WHERE key != 'items'", (draw_id,))}
    return DrawSheet(draw_id, row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                     row[8], int(row[9]), row[10], row[11], output,
                     int(row[12] or 0), row[13], int(entry[0]) if entry else 0,
                     str(entry[1]) if entry else "")
