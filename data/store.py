"""The SQLite store: versioned directories, snapshots, draws and the audit log.

Every directory kind of :mod:`suiji.data.schema` lives in one table with
slowly-changing-dimension columns: a row is valid from the import version
``_from`` up to (not including) ``_to``; ``_to IS NULL`` marks the current
version. Re-importing a kind replaces the current version atomically while
every earlier version stays readable (:meth:`Store.read`).

Writes happen inside :meth:`Store.transaction`, which takes SQLite's write
lock up front (``BEGIN IMMEDIATE``), so a crash or a concurrent writer can
never leave half of a step behind.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suiji.data import clock
from suiji.data.errors import RemovalsNotConfirmedError, StoreError
from suiji.data.schema import KINDS, Kind

if TYPE_CHECKING:  # pandas and sqlite-utils load when used: `suiji --help` stays fast
    import pandas as pd
    import sqlite_utils

SCHEMA_VERSION = 2

# A draw's output after its events (substitutions, declines), for a query over
# ``draws d``: the latest event's output, else the draw's own.
LATEST_OUTPUT_SQL = ("COALESCE((SELECT e.output FROM draw_events e WHERE e.draw_id = d.id "
                     "ORDER BY e.id DESC LIMIT 1), d.output)")
GENESIS = "0" * 64
DEFAULT_DB = "suiji.db"


def _wall_clock() -> datetime:
    """The clock of the record (:mod:`suiji.data.clock`; the test suite replaces this
    function to fix the record's time)."""
    return clock.now()


def utc_now() -> str:
    """Wall-clock time for the record only; never an input of a draw."""
    return _wall_clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """A timestamp written by :func:`utc_now` (also without fraction); ValueError otherwise."""
    value = text.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a UTC timestamp like 2026-12-01T08:00:00.000000Z")


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ImportSummary:
    kind: str
    version: int
    rows: int
    inserted: int
    updated: int
    removed: int
    digest: str
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "version": self.version, "rows": self.rows,
                "inserted": self.inserted, "updated": self.updated, "removed": self.removed,
                "digest": self.digest, "warnings": list(self.warnings)}


@dataclass(frozen=True)
class LogEntry:
    seq: int
    at: str
    action: str
    period: str
    details: Mapping[str, Any]
    digests: Mapping[str, str]
    prev: str
    hash: str

    @staticmethod
    def compute_hash(seq: int, at: str, action: str, period: str, details: Any,
                     digests: Any, prev: str) -> str:
        body = canonical_json({"seq": seq, "at": at, "action": action, "period": period,
                               "details": details, "digests": digests, "prev": prev})
        return sha256_hex(body)


MATTER_RESULTS_DDL = """CREATE TABLE IF NOT EXISTS matter_results (
        id INTEGER PRIMARY KEY, period TEXT NOT NULL, uscc TEXT NOT NULL, matter TEXT NOT NULL,
        date TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
        import_id INTEGER, recorded_at TEXT NOT NULL, UNIQUE (period, uscc, matter))"""
@dataclass(frozen=True)
class LogHead:
    """The newest entry of the log: its sequence number and hash (``SEQ:HASH``).

    Published (printed after every change, carried by notices and reports,
    written by ``suiji anchor``), a head lets anyone later prove that today's
    log still contains every entry up to it (``suiji verify --head``).
    """

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> LogHead:
        seq, sep, digest = text.strip().partition(":")
        digest = digest.strip().lower()
        if (not sep or not seq.strip().isdigit() or len(digest) != 64
                or any(c not in "0123456789abcdef" for c in digest)):
            raise ValueError(f"{text!r} is not a log head: write it as SEQ:HASH, e.g. "
                             f"42:{'ab' * 32} (the sequence number and the 64-hex hash "
                             f"that suiji printed)")
        return cls(int(seq), digest)


_SCORES_DDL = """CREATE TABLE IF NOT EXISTS {name} (
        id INTEGER PRIMARY KEY, expert_id TEXT NOT NULL, project_id TEXT NOT NULL,
        meeting TEXT NOT NULL, score REAL, deduction REAL NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '', import_id INTEGER, recorded_at TEXT NOT NULL,
        party TEXT NOT NULL DEFAULT '', UNIQUE (expert_id, project_id, meeting, party))"""

# The EIA review loop (suiji.data.findings, suiji.data.responses): rows are only ever
# added, each with the import that brought it, so verify can re-hash every import.
_LOOP_DDL = [
    """CREATE TABLE IF NOT EXISTS findings (
        id INTEGER PRIMARY KEY, import_id INTEGER NOT NULL, project_id TEXT NOT NULL,
        period TEXT NOT NULL, conclusion TEXT NOT NULL, problems TEXT NOT NULL,
        reviewed_on TEXT NOT NULL, signed_off TEXT NOT NULL, note TEXT NOT NULL,
        points TEXT NOT NULL, agency_uscc TEXT NOT NULL, lead_author TEXT NOT NULL,
        lead_author_reg TEXT NOT NULL, lax_points TEXT NOT NULL, recorded_at TEXT NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS findings_project ON findings (project_id, import_id)""",
    """CREATE TABLE IF NOT EXISTS responses (
        id INTEGER PRIMARY KEY, import_id INTEGER NOT NULL, expert_id TEXT NOT NULL,
        meeting TEXT NOT NULL, period TEXT NOT NULL, answer TEXT NOT NULL,
        reason TEXT NOT NULL, answered_at TEXT NOT NULL, outcome TEXT NOT NULL,
        event_id INTEGER, recorded_at TEXT NOT NULL)""",
]

# Tables other than the directories. Draw-specific tables are owned by the
# modules that fill them but declared here so the schema has one version.
_DDL = [
    """CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS imports (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, version INTEGER NOT NULL,
        file_name TEXT, file_sha256 TEXT, encoding TEXT, rows INTEGER, inserted INTEGER,
        updated INTEGER, removed INTEGER, warnings TEXT, digest TEXT, imported_at TEXT,
        UNIQUE (kind, version))""",
    """CREATE TABLE IF NOT EXISTS log (
        seq INTEGER PRIMARY KEY, at TEXT NOT NULL, action TEXT NOT NULL,
        period TEXT NOT NULL DEFAULT '', details TEXT NOT NULL, digests TEXT NOT NULL,
        prev TEXT NOT NULL, hash TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS snapshots (
        id INTEGER PRIMARY KEY, period TEXT NOT NULL, scope TEXT NOT NULL,
        digest TEXT NOT NULL, manifest TEXT NOT NULL, created_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS snapshot_files (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id), name TEXT NOT NULL,
        sha256 TEXT NOT NULL, rows INTEGER NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (snapshot_id, name))""",
    # One row per draw. subject distinguishes several draws of one scope in a
    # period (a meeting date for panels). Only one draw per (period, scope,
    # subject) is current; the partial unique index makes two concurrent
    # draws impossible even if both passed their checks.
    """CREATE TABLE IF NOT EXISTS draws (
        id INTEGER PRIMARY KEY, period TEXT NOT NULL, scope TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '', snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
        seed TEXT NOT NULL, seed_source TEXT NOT NULL, algorithm TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}', output TEXT NOT NULL, output_sha256 TEXT NOT NULL,
        status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)""",
    """CREATE UNIQUE INDEX IF NOT EXISTS draws_one_current
        ON draws (period, scope, subject) WHERE status = 'current'""",
    # Changes to a draw after the fact (substitution, decline), each itself
    # a recorded, verifiable event.
    """CREATE TABLE IF NOT EXISTS draw_events (
        id INTEGER PRIMARY KEY, draw_id INTEGER NOT NULL REFERENCES draws(id),
        kind TEXT NOT NULL, params TEXT NOT NULL, output TEXT NOT NULL,
        output_sha256 TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL)""",
    # Outcomes of planned inspections.
    """CREATE TABLE IF NOT EXISTS results (
        id INTEGER PRIMARY KEY, period TEXT NOT NULL, uscc TEXT NOT NULL,
        date TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL, carried_out TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '', import_id INTEGER, recorded_at TEXT NOT NULL,
        UNIQUE (period, uscc))""",
    # Outcomes of task-plan visits, per matter (suiji-tasks/1).
    MATTER_RESULTS_DDL,
    # Expert review scores and deduction points.
    # party: the scoring party (approval, developer, agency, assessment), '' in files
    # from before four-party scoring.
    _SCORES_DDL.format(name="scores"),
    *_LOOP_DDL,
]

_MIGRATIONS: dict[int, list[str]] = {
    # from_version: statements bringing it to from_version + 1
    1: [
        # four-party scores: the party joins the key, so the table is rebuilt
        _SCORES_DDL.format(name="scores_v2"),
        "INSERT INTO scores_v2 (id, expert_id, project_id, meeting, score, deduction, note, "
        "import_id, recorded_at) SELECT id, expert_id, project_id, meeting, score, deduction, "
        "note, import_id, recorded_at FROM scores",
        "DROP TABLE scores",
        "ALTER TABLE scores_v2 RENAME TO scores",
        *_LOOP_DDL,
        # task plans' results per matter (suiji-tasks/1; also created on first use)
        MATTER_RESULTS_DDL,
        # late columns (suiji.data.schema.Column.late) of the directories
        "ALTER TABLE dir_projects ADD COLUMN lead_author TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE dir_projects ADD COLUMN lead_author_reg TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE dir_experts ADD COLUMN phone TEXT NOT NULL DEFAULT ''",
    ],
}


class Store:
    """A suiji database. Open with :meth:`open`; create with :meth:`init`."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path
        self._depth = 0

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """The connection as a ``sqlite_utils.Database`` (loaded on first use)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # --- opening -----------------------------------------------------------

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @classmethod
    def init(cls, path: str | Path) -> Store:
        """Create the database (or bring an existing one up to date)."""
        path = str(path)
        conn = cls._connect(path)
        store = cls(conn, path)
        with store.transaction():
            existing = store._schema_version()
            if existing is None:
                for ddl in _DDL:
                    conn.execute(ddl)
                for kind in KINDS.values():
                    store._create_kind_table(kind)
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
                store.append_log("init", details={"schema_version": SCHEMA_VERSION})
        store._check_version()
        return store

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open an existing database, migrating an older schema."""
        path = str(path)
        if path != ":memory:" and not Path(path).exists():
            raise StoreError(f"No database at {path}. Create it with `suiji init` "
                             f"(or pass --db / set SUIJI_DB to the right file).")
        try:
            conn = cls._connect(path)
            store = cls(conn, path)
            store._check_version()
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if "readonly" in text or "read-only" in text or "unable to open" in text:
                folder = Path(path).resolve().parent
                raise StoreError(
                    f"{path} cannot be written ({text}). suiji records every command in the "
                    f"database's trail, so it needs to write the file and its folder {folder} "
                    f"(for the -wal and -shm files beside it). Fix the permissions, or copy "
                    f"the database to a folder you can write and pass --db with the copy."
                ) from exc
            raise StoreError(f"{path} is not a suiji database ({exc}).") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path} is not a suiji database ({exc}).") from exc
        return store

    def close(self) -> None:
        self.conn.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open database (``suiji init`` prints it)."""
        version = self._schema_version()
        if version is None:
            raise StoreError(f"{self.path} is not a suiji database. Run `suiji init` to create "
                             f"one, or pass --db with the right file.")
        return version

    def record_import(self, kind: str, version: int, *, file_name: str, file_sha256: str,
                      rows: int, digest: str, encoding: str = "", inserted: int = 0,
                      updated: int = 0, removed: int = 0,
                      warnings: Sequence[str] = ()) -> int:
        """Record one import (a directory version, a results or a scores file) in the
        imports table, inside the caller's transaction; returns its id."""
        cur = self.conn.execute(
            "INSERT INTO imports (kind, version, file_name, file_sha256, encoding, rows, "
            "inserted, updated, removed, warnings, digest, imported_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, version, file_name, file_sha256, encoding, rows, inserted, updated, removed,
             canonical_json(list(warnings)), digest, utc_now()))
        return int(cur.lastrowid or 0)

    def _schema_version(self) -> int | None:
        row = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        if row is None:
            return None
        value = self.conn.execute(
            "SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if not value:
            return None
        try:
            return int(str(value[0]).strip())
        except ValueError:
            raise StoreError(
                f"{self.path}: its schema version {str(value[0])[:40]!r} is not a number, so "
                f"the database was edited by hand or is damaged. Restore it from a backup (or "
                f"verify a bundle exported before the change).") from None

    def _check_version(self) -> None:
        version = self._schema_version()
        if version is None:
            raise StoreError(f"{self.path} is not a suiji database. Run `suiji init` to create "
                             f"one, or pass --db with the right file.")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, made by a newer suiji; this suiji "
                f"knows up to version {SCHEMA_VERSION}. Upgrade suiji to open it.")
        if version < SCHEMA_VERSION:
            with self.transaction():
                for v in range(version, SCHEMA_VERSION):
                    if v not in _MIGRATIONS:
                        raise StoreError(f"No migration from schema version {v}; "
                                         f"export with the old suiji and re-import.")
                    for stmt in _MIGRATIONS[v]:
                        self.conn.execute(stmt)
                self.conn.execute("UPDATE meta SET value=? WHERE key='schema_version'",
                                  (str(SCHEMA_VERSION),))
                self.append_log("migrate", details={"from": version, "to": SCHEMA_VERSION})

    def _has_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                 "name = ?", (name,)).fetchone() is not None

    def _create_kind_table(self, kind: Kind) -> None:
        cols = ", ".join(f'"{c}" TEXT NOT NULL DEFAULT \'\'' for c in kind.column_names)
        t = kind.table
        self.conn.execute(f'CREATE TABLE IF NOT EXISTS "{t}" ({cols}, _key TEXT NOT NULL, '
                          f'_hash TEXT NOT NULL, _from INTEGER NOT NULL, _to INTEGER)')
        self.conn.execute(f'CREATE INDEX IF NOT EXISTS "{t}_current" ON "{t}" (_to, _key)')
        self.conn.execute(f'CREATE INDEX IF NOT EXISTS "{t}_from" ON "{t}" (_from)')

    # --- transactions ------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All-or-nothing: BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any exception.

        Nested use joins the outer transaction.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    def _require_transaction(self) -> None:
        if not self._depth:
            raise RuntimeError("this write must run inside Store.transaction()")

    # --- audit log ---------------------------------------------------------

    def append_log(self, action: str, period: str = "", details: Any = None,
                   digests: Mapping[str, str] | None = None) -> LogEntry:
        """Append a hash-chained entry. Must run in the transaction of the change it records."""
        self._require_transaction()
        details = details if details is not None else {}
        digests = dict(digests or {})
        last = self.conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = utc_now()
        h = LogEntry.compute_hash(seq, at, action, period, details, digests, prev)
        self.conn.execute(
            "INSERT INTO log (seq, at, action, period, details, digests, prev, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at, action, period, canonical_json(details), canonical_json(digests), prev, h))
        return LogEntry(seq, at, action, period, details, digests, prev, h)

    def head(self) -> LogHead:
        """The current head of the log (``0:GENESIS`` for an empty log)."""
        row = self.conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
        return LogHead(int(row[0]), str(row[1])) if row else LogHead(0, GENESIS)

    def log_entries(self, period: str | None = None) -> list[LogEntry]:
        sql = "SELECT seq, at, action, period, details, digests, prev, hash FROM log"
        args: tuple[str, ...] = ()
        if period:
            sql += " WHERE period = ?"
            args = (period,)
        rows = self.conn.execute(sql + " ORDER BY seq", args).fetchall()
        return [LogEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6], r[7])
                for r in rows]

    # --- versioned directories --------------------------------------------

    def current_version(self, kind: str) -> int:
        """The current import version of a kind; 0 when it was never imported."""
        row = self.conn.execute("SELECT MAX(version) FROM imports WHERE kind = ?",
                                (kind,)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def versions(self, kind: str) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            "SELECT version, file_name, rows, inserted, updated, removed, digest, imported_at "
            "FROM imports WHERE kind = ? ORDER BY version", (kind,))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def version_on(self, kind: str, moment: str) -> int:
        """The version of a kind that was current at ``moment`` (ISO timestamp)."""
        row = self.conn.execute(
            "SELECT MAX(version) FROM imports WHERE kind = ? AND imported_at <= ?",
            (kind, moment)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def read(self, kind: str, version: int | None = None) -> pd.DataFrame:
        """A kind's rows at a version (default: current), canonical strings, sorted by key."""
        import pandas as pd

        k = KINDS[kind]
        cols = ", ".join(f'"{c}"' for c in k.column_names)
        if not self._has_table(k.table):  # a kind added after this database was created
            return pd.DataFrame({c: pd.Series([], dtype=object) for c in k.column_names})
        if version is None:
            sql = f'SELECT {cols} FROM "{k.table}" WHERE _to IS NULL ORDER BY _key'
            args: tuple[int, ...] = ()
        else:
            sql = (f'SELECT {cols} FROM "{k.table}" WHERE _from <= ? '
                   f'AND (_to IS NULL OR _to > ?) ORDER BY _key')
            args = (version, version)
        rows = self.conn.execute(sql, args).fetchall()
        return pd.DataFrame(rows, columns=list(k.column_names), dtype=object)

    def replace(self, kind: str, frame: pd.DataFrame, *, file_name: str = "",
                file_sha256: str = "", encoding: str = "",
                warnings: tuple[str, ...] = (),
                max_removed_share: float | None = None) -> ImportSummary:
        """Make ``frame`` (canonical strings, validated) the current version of ``kind``.

        With ``max_removed_share``, an import that would remove more than that share of
        the current rows is refused and nothing is written: a
        :class:`~suiji.data.errors.RemovalsNotConfirmedError` (an ``ImportRefusedError``)
        with the counts and the first keys it would remove. ``0`` refuses any removal
        (an interface that asks before removing).
        """
        from suiji.data.canonical import frame_sha256, row_hashes, row_keys, sort_canonical

        k = KINDS[kind]
        # Canonical order once: it gives the digest, and inserting in key order keeps
        # the _key index appends sequential (about twice as fast on a million rows).
        frame = sort_canonical(k, frame)
        keys = row_keys(k, frame)
        hashes = row_hashes(frame)
        digest = frame_sha256(frame)
        with self.transaction():
            self._create_kind_table(k)  # no-op unless the kind is newer than the database
            version = self.current_version(kind) + 1
            current = dict(self.conn.execute(
                f'SELECT _key, _hash FROM "{k.table}" WHERE _to IS NULL').fetchall())
            new = dict(zip(keys, hashes, strict=True))
            removed = [key for key in current if key not in new]
            changed = [key for key, h in new.items() if key in current and current[key] != h]
            added = [key for key in new if key not in current]
            if max_removed_share is not None and current \
                    and len(removed) > max_removed_share * len(current):
                raise RemovalsNotConfirmedError(
                    f"{file_name or kind}: importing it as {kind} would remove "
                    f"{len(removed):,} of the {len(current):,} current rows "
                    f"({len(removed) / len(current):.0%}) and keep {len(current) - len(removed):,}"
                    f", more than the {max_removed_share:.0%} a re-import may remove "
                    f"(imports.max_removed_share in the rules). Nothing was written. If it is "
                    f"the wrong file, import the right one; if the directory really lost "
                    f"those rows, import it again with --allow-removals.",
                    kind=kind, removed=len(removed), keys=sorted(removed)[:20],
                    inserted=len(added), updated=len(changed))
            closing = removed + changed
            if closing:
                self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _closing (_key TEXT)")
                self.conn.execute("DELETE FROM _closing")
                self.conn.executemany("INSERT INTO _closing VALUES (?)", ((c,) for c in closing))
                self.conn.execute(
                    f'UPDATE "{k.table}" SET _to = ? WHERE _to IS NULL '
                    f'AND _key IN (SELECT _key FROM _closing)', (version,))
                self.conn.execute("DELETE FROM _closing")
            writing = set(changed) | set(added)
            if writing:
                mask = [key in writing for key in keys]
                part = frame[mask]
                cols = list(frame.columns)  # less late columns left out while empty
                placeholders = ", ".join("?" for _ in range(len(cols) + 2))
                collist = ", ".join(f'"{c}"' for c in cols)
                rows = zip(*(part[c].tolist() for c in cols),
                           [kk for kk, m in zip(keys, mask, strict=True) if m],
                           [hh for hh, m in zip(hashes, mask, strict=True) if m],
                           strict=True)
                self.conn.executemany(
                    f'INSERT INTO "{k.table}" ({collist}, _key, _hash, _from, _to) '
                    f'VALUES ({placeholders}, {int(version)}, NULL)', rows)
            summary = ImportSummary(kind, version, len(frame), len(added), len(changed),
                                    len(removed), digest, tuple(warnings))
            self.record_import(kind, version, file_name=file_name, file_sha256=file_sha256,
                               encoding=encoding, rows=summary.rows, inserted=summary.inserted,
                               updated=summary.updated, removed=summary.removed,
                               warnings=warnings, digest=digest)
            self.append_log("import", details={"kind": kind, "version": version,
                                               "file": file_name, "rows": summary.rows,
                                               "inserted": summary.inserted,
                                               "updated": summary.updated,
                                               "removed": summary.removed,
                                               "encoding": encoding,
                                               "warnings": list(warnings)},
                            digests={"file": file_sha256, "data": digest})
        return summary
