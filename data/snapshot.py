"""Freeze: the frozen inputs of a period, their digests, and the check before a draw.

A snapshot is a set of files in canonical form (see :mod:`suiji.data.canonical`)
stored compressed in the database, plus a manifest listing each file's
SHA-256 and row count. The snapshot digest, printed by ``suiji freeze`` and
published before the seed exists, is the SHA-256 of the manifest's canonical
JSON. Draws read their inputs from the snapshot only, never from the live
tables, so a draw is a function of (snapshot files, seed, algorithm).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import pandas as pd

from suiji.data.calendar import working_days
from suiji.data.canonical import canonical_csv, frame_csv, read_frame_csv
from suiji.data.commitments import Commitment, SeedSource, check_freeze
from suiji.data.credit import findings_file, watch_list_file
from suiji.data.errors import FreezeError
from suiji.data.period import Period
from suiji.data.rules import Rules, parse_rules
from suiji.data.schema import KINDS
from suiji.data.scores import expert_points_file, review_history_file
from suiji.data.store import LATEST_OUTPUT_SQL, Store, canonical_json, sha256_hex, utc_now

FORMAT = "suiji-snapshot/1"

# A producer returns the canonical bytes and row count of one frozen file, or None
# when the file is not part of this store's snapshots (the review loop's files
# before any finding or lead author exists), so older snapshots keep their files.
Producer = Callable[[Store, Period, Rules], tuple[bytes, int] | None]


def directory(kind: str) -> Producer:
    def produce(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
        k = KINDS[kind]
        frame = store.read(kind).drop(columns=list(k.sealed_columns))  # never frozen
        return canonical_csv(k, frame), len(frame)
    return produce


def rules_file(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    return rules.text.encode("utf-8"), 0


def calendar_file(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    days = working_days(period, rules)
    frame = pd.DataFrame({"date": [d.isoformat() for d in days]})
    return frame_csv(frame), len(frame)


def carried_out_plan_items(store: Store, before: Period,
                           year: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(period, item) of every current inspection plan before ``before`` (optionally of one
    year), after substitutions, leaving out items whose result says not carried out."""
    sql = (f"SELECT d.period, {LATEST_OUTPUT_SQL} FROM draws d WHERE d.scope = 'inspections' "
           f"AND d.status = 'current' AND d.period < ?")
    args: tuple[str, ...] = (str(before),)
    if year is not None:
        sql, args = sql + " AND d.period LIKE ?", (*args, f"{year}Q%")
    not_done = {(p, u) for p, u in store.conn.execute(
        "SELECT period, uscc FROM results WHERE carried_out = 'no'")}
    return [(draw_period, item)
            for draw_period, output in store.conn.execute(sql, args).fetchall()
            for item in json.loads(output)["items"]
            if (draw_period, item["uscc"]) not in not_done]


def _sorted_csv(rows: Sequence[tuple[str, ...]], columns: list[str],
                order: list[str]) -> tuple[bytes, int]:
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame = frame.drop_duplicates().sort_values(order)
    return frame_csv(frame.reset_index(drop=True)), len(frame)


def inspection_history(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    """Inspections of the period's year before it: imported records, earlier plans, results.

    Columns: uscc, date, kind, source. Earlier plans of the same year count as
    routine (``random``) inspections unless their result says not carried out; the
    visits of earlier task plans (``suiji-tasks/1``) keep their kind (an annual task's
    visit is ``random``).
    """
    from suiji.data.visits import task_history_rows

    year = str(period.year)
    imported = store.read("inspections")
    rows = [(r.uscc, r.date, r.kind, "import") for r in imported.itertuples()
            if r.date.startswith(year)]
    rows.extend((item["uscc"], item.get("date", ""), "random", f"plan:{draw_period}")
                for draw_period, item in carried_out_plan_items(store, period, period.year))
    rows.extend(task_history_rows(store, period))
    return _sorted_csv(rows, ["uscc", "date", "kind", "source"],
                       ["uscc", "date", "kind", "source"])


def visit_history(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    """On-site visits of the period's year before it, for task plans and their one cap.

    Columns: uscc, date, kind, source. Imported records keep their kind; earlier
    inspection plans (``suiji-inspections/1``) count as ``random``; earlier task
    plans' visits carry the kind of the task that counts (or
    ``national_campaign`` when exempt). Not carried out = not a visit.
    """
    from suiji.data.visits import task_history_rows

    year = str(period.year)
    imported = store.read("inspections")
    rows = [(r.uscc, r.date, r.kind, "import") for r in imported.itertuples()
            if r.date.startswith(year)]
    rows.extend((item["uscc"], item.get("date", ""), "random", f"plan:{draw_period}")
                for draw_period, item in carried_out_plan_items(store, period, period.year))
    rows.extend(task_history_rows(store, period))
    return _sorted_csv(rows, ["uscc", "date", "kind", "source"],
                       ["uscc", "date", "kind", "source"])


def period_visits(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    from suiji.data.visits import period_visits_file

    return period_visits_file(store, period, rules)


def previous_teams(store: Store, period: Period, rules: Rules) -> tuple[bytes, int]:
    """Teams of earlier periods' current plans (for ``avoid_last_inspector``; else empty).

    Columns: uscc, badge, date, period; one row per inspector of each planned inspection.
    """
    rows: list[tuple[str, ...]] = []
    if rules.inspection.avoid_last_inspector:
        rows = [(item["uscc"], str(b), item.get("date", ""), draw_period)
                for draw_period, item in carried_out_plan_items(store, period)
                for b in item.get("inspectors", [])]
    return _sorted_csv(rows, ["uscc", "badge", "date", "period"],
                       ["uscc", "date", "badge", "period"])


# scope -> file name -> producer. Other modules add their own inputs here.
SCOPE_INPUTS: dict[str, dict[str, Producer]] = {
    "inspections": {
        "companies.csv": directory("companies"),
        "inspectors.csv": directory("inspectors"),
        "inspector-leave.csv": directory("inspector-leave"),
        "conflicts.csv": directory("conflicts"),
        "positive-list.csv": directory("positive-list"),
        "history.csv": inspection_history,
        "previous-teams.csv": previous_teams,
        "calendar.csv": calendar_file,
        "rules.toml": rules_file,
    },
    "tasks": {
        "companies.csv": directory("companies"),
        "inspectors.csv": directory("inspectors"),
        "inspector-leave.csv": directory("inspector-leave"),
        "conflicts.csv": directory("conflicts"),
        "positive-list.csv": directory("positive-list"),
        "projects.csv": directory("projects"),
        "matters.csv": directory("matters"),
        "history.csv": visit_history,
        "period-visits.csv": period_visits,
        "previous-teams.csv": previous_teams,
        "calendar.csv": calendar_file,
        "rules.toml": rules_file,
    },
    "reviews": {
        "agencies.csv": directory("agencies"),
        "projects.csv": directory("projects"),
        "experts.csv": directory("experts"),
        "employment-history.csv": directory("employment-history"),
        "conflicts.csv": directory("conflicts"),
        "rules.toml": rules_file,
        "review-history.csv": review_history_file,
        "expert-points.csv": expert_points_file,
        "findings.csv": findings_file,
        "watch-list.csv": watch_list_file,
    },
}


@dataclass(frozen=True)
class Snapshot:
    id: int
    period: str
    scope: str
    digest: str
    manifest: dict[str, Any]
    files: dict[str, bytes] = field(repr=False)

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self.files:
            raise FreezeError(f"The {self.scope} snapshot of {self.period} has no {name}; "
                              f"freeze again with this version of suiji.")
        return read_frame_csv(self.files[name])

    @cached_property
    def rules(self) -> Rules:
        return parse_rules(self.files["rules.toml"].decode("utf-8"), "frozen rules",
                           check_calendar=False)

    @cached_property
    def working_days(self) -> list[date]:
        if "calendar.csv" not in self.files:
            return working_days(Period.parse(self.period), self.rules)
        return [date.fromisoformat(d) for d in self.frame("calendar.csv")["date"]]


def materialize(store: Store, period: Period, scope: str, rules: Rules) -> dict[str, bytes]:
    if scope not in SCOPE_INPUTS:
        raise FreezeError(f"Unknown scope {scope!r}; use one of {', '.join(SCOPE_INPUTS)}.")
    files = {}
    for name, produce in sorted(SCOPE_INPUTS[scope].items()):
        made = produce(store, period, rules)
        if made is not None:
            files[name] = made[0]
    return files


def manifest_for(period: Period, scope: str, files: dict[str, bytes]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "period": str(period),
        "scope": scope,
        "files": {name: {"sha256": sha256_hex(data), "bytes": len(data),
                         "rows": max(data.count(b"\n") - 1, 0) if name.endswith(".csv") else 0}
                  for name, data in sorted(files.items())},
    }


def manifest_digest(manifest: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(manifest))


def freeze(store: Store, period: Period, scope: str, rules: Rules, *,
           seed_source: SeedSource | None = None, reason: str = "",
           today: date | None = None) -> Snapshot:
    """Snapshot every input of the period and record it; returns the snapshot.

    With ``seed_source`` (checked against ``today``: the ceremony or event is
    still to come) the freeze publishes a commitment
    (:mod:`suiji.data.commitments`); a later freeze of a scope that has one
    needs a ``reason`` and a seed source again, and supersedes it.
    """
    with store.transaction():
        supersedes = check_freeze(store, str(period), scope, seed_source, reason, today)
        head = store.head()
        files = materialize(store, period, scope, rules)
        manifest = manifest_for(period, scope, files)
        digest = manifest_digest(manifest)
        now = utc_now()
        cur = store.conn.execute(
            "INSERT INTO snapshots (period, scope, digest, manifest, created_at) "
            "VALUES (?, ?, ?, ?, ?)", (str(period), scope, digest, canonical_json(manifest),
                                       now))
        sid = int(cur.lastrowid or 0)
        store.conn.executemany(
            "INSERT INTO snapshot_files (snapshot_id, name, sha256, rows, data) "
            "VALUES (?, ?, ?, ?, ?)",
            [(sid, name, manifest["files"][name]["sha256"], manifest["files"][name]["rows"],
              zlib.compress(data, 6)) for name, data in files.items()])
        details: dict[str, Any] = {"scope": scope, "snapshot": sid, "created_at": now,
                                   "files": {n: m["rows"] for n, m in manifest["files"].items()}}
        digests = {"snapshot": digest, **{n: m["sha256"] for n, m in manifest["files"].items()}}
        if reason.strip():
            details["reason"] = reason.strip()
        if seed_source is not None:
            commitment = Commitment(str(period), scope, sid, digest, seed_source, head, now,
                                    supersedes, reason.strip())
            details["commitment"] = commitment.body()
            digests["commitment"] = commitment.digest
        store.append_log("freeze", str(period), details=details, digests=digests)
    return Snapshot(sid, str(period), scope, digest, manifest, files)


def load_snapshot(store: Store, snapshot_id: int) -> Snapshot:
    row = store.conn.execute("SELECT id, period, scope, digest, manifest FROM snapshots "
                             "WHERE id = ?", (snapshot_id,)).fetchone()
    if row is None:
        raise FreezeError(f"No snapshot {snapshot_id}.")
    files = {name: zlib.decompress(data) for name, data in store.conn.execute(
        "SELECT name, data FROM snapshot_files WHERE snapshot_id = ?", (snapshot_id,))}
    return Snapshot(row[0], row[1], row[2], row[3], json.loads(row[4]), files)


def latest_snapshot(store: Store, period: Period, scope: str) -> Snapshot:
    row = store.conn.execute("SELECT MAX(id) FROM snapshots WHERE period = ? AND scope = ?",
                             (str(period), scope)).fetchone()
    if not row or row[0] is None:
        raise FreezeError(f"{period} has no frozen {scope} inputs. Run "
                          f"`suiji freeze --period {period} --scope {scope}` first and "
                          f"publish the digest it prints before choosing the seed.")
    return load_snapshot(store, int(row[0]))


# Log actions that change no input of any scope: after a freeze, a log with only
# these since then proves the directories, plans, results and scores are as frozen.
READ_ONLY_ACTIONS = frozenset({"freeze", "export", "publish"})

# Frozen files that do not come from the database; they are always rebuilt.
_OUTSIDE_DB = ("rules.toml", "calendar.csv")


def _untouched_since_freeze(store: Store, snapshot: Snapshot) -> bool:
    row = store.conn.execute(
        "SELECT seq FROM log WHERE action = 'freeze' AND period = ? "
        "AND json_extract(details, '$.snapshot') = ? AND json_extract(details, '$.scope') = ?",
        (snapshot.period, snapshot.id, snapshot.scope)).fetchone()
    if row is None:
        return False
    later = {a for (a,) in store.conn.execute(
        "SELECT DISTINCT action FROM log WHERE seq > ?", (row[0],))}
    return later <= READ_ONLY_ACTIONS


def changed_files(store: Store, snapshot: Snapshot, rules: Rules) -> list[str]:
    """Names of the frozen files whose current content differs from the snapshot.

    When the log shows nothing but read-only actions since the freeze, only the
    files from outside the database (rules, calendar) are rebuilt; otherwise
    every file is, and compared by digest.
    """
    period = Period.parse(snapshot.period)
    producers = SCOPE_INPUTS.get(snapshot.scope, {})
    frozen = snapshot.manifest["files"]
    if _untouched_since_freeze(store, snapshot):
        names = [n for n in _OUTSIDE_DB if n in producers]
        current = {}
        for n in names:
            made = producers[n](store, period, rules)
            if made is not None:
                current[n] = made[0]
    else:
        current = materialize(store, period, snapshot.scope, rules)
        names = sorted(set(current) | set(frozen))
    return [n for n in names
            if (n in current or n in frozen) and (
                n not in current or n not in frozen
                or sha256_hex(current[n]) != frozen[n]["sha256"])]


def check_intact(store: Store, snapshot: Snapshot) -> None:
    """Refuse a snapshot whose stored blobs or manifest no longer match what was frozen.

    Each frozen file must hash to its manifest entry and to the digest stored
    beside it, the manifest to the snapshot digest, and the digest to the one
    the freeze entry of the log published. A draw runs this before computing,
    so an edited blob is refused, not drawn from.
    """
    problems = []
    if manifest_digest(snapshot.manifest) != snapshot.digest:
        problems.append("the manifest no longer hashes to the snapshot digest")
    listed = snapshot.manifest.get("files", {})
    stored = dict(store.conn.execute("SELECT name, sha256 FROM snapshot_files WHERE "
                                     "snapshot_id = ?", (snapshot.id,)).fetchall())
    for name in sorted(set(listed) | set(snapshot.files)):
        if name not in snapshot.files or name not in listed:
            where = "files" if name in listed else "manifest"
            problems.append(f"{name} is missing from the {where}")
        elif sha256_hex(snapshot.files[name]) != listed[name]["sha256"]:
            problems.append(f"frozen file {name} was edited (it no longer hashes to its "
                            f"manifest entry)")
        elif stored.get(name) != listed[name]["sha256"]:
            problems.append(f"the stored digest of {name} was changed")
    row = store.conn.execute(
        "SELECT json_extract(digests, '$.snapshot') FROM log WHERE action = 'freeze' AND "
        "period = ? AND json_extract(details, '$.snapshot') = ? ORDER BY seq DESC LIMIT 1",
        (snapshot.period, snapshot.id)).fetchone()
    if row is None:
        problems.append("the log has no freeze entry for it")
    elif row[0] != snapshot.digest:
        problems.append(f"its digest differs from the one the log published ({str(row[0])[:16]}…)")
    if problems:
        raise FreezeError(
            f"The frozen {snapshot.scope} inputs of {snapshot.period} (snapshot {snapshot.id}, "
            f"digest {snapshot.digest[:16]}…) were altered in the database: "
            f"{'; '.join(problems)}. Nothing was drawn. Run `suiji verify` and restore the "
            f"database from a backup.")


def check_unchanged(store: Store, snapshot: Snapshot, rules: Rules) -> None:
    changed = changed_files(store, snapshot, rules)
    if changed:
        raise FreezeError(
            f"The inputs changed since the freeze of {snapshot.period} ({snapshot.scope}, "
            f"digest {snapshot.digest[:16]}…): {', '.join(changed)}. A draw on inputs that "
            f"differ from the published snapshot is refused. Either restore them, or run "
            f"`suiji freeze --period {snapshot.period} --scope {snapshot.scope}` again and "
            f"publish the new digest before choosing the seed.")
