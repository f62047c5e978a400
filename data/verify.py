"""Independent verification of the record: the log chain, the data digests, every draw.

:func:`verify_store` re-derives everything the database claims and reports
exactly what differs:

* **the log chain**: each entry's hash is recomputed from its content and must
  equal the stored hash, each entry must name its predecessor's hash, and the
  sequence numbers must run without a gap (a deleted entry leaves one);
* **the directories**: every import version is read back and its canonical CSV
  must hash to the digest recorded at import time (an edited row changes it);
* **the snapshots**: every frozen file must hash to its manifest entry and the
  manifest to the published snapshot digest;
* **the draws and their events**: each stored output must hash to its recorded
  digest, agree with its log entry (seed, parameters, snapshot, output digest),
  and equal, byte for byte, the output recomputed now from the frozen inputs,
  the seed and the recorded parameters with the function registered for the
  algorithm id stored with the draw (a :class:`Registry`, given by the caller:
  ``suiji.scheduler.algorithms.REGISTRY``). A draw whose id the registry does
  not know is reported by name, never recomputed with another algorithm.

Verification is read-only. The trail of exports is :mod:`suiji.data.trail`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from suiji.data.canonical import frame_sha256, sort_canonical
from suiji.data.credit import WATCH_FILE, recompute_watch_list
from suiji.data.draws import (
    DrawCompute,
    DrawRecord,
    EventCompute,
    all_draws,
    event_rows,
    output_bytes,
    stored_output,
)
from suiji.data.findings import ROW_TABLES, import_rows_digest
from suiji.data.schema import KINDS
from suiji.data.snapshot import Snapshot, manifest_digest
from suiji.data.store import GENESIS, LogEntry, Store, sha256_hex

MAX_DIFFS = 8
ID_KEYS = ("uscc", "project_id", "badge", "expert_id", "id")


# --- the registry of algorithms -------------------------------------------------------

class UnknownAlgorithmError(LookupError):
    """A recorded algorithm id (or event kind under it) that the registry does not know."""


@dataclass(frozen=True)
class Algorithm:
    """One recorded algorithm id, its pure draw function and its events' functions."""

    id: str  # e.g. "suiji-inspections/1", as stored with every draw
    compute: DrawCompute  # compute(snapshot, seed, params, progress=None) -> output
    events: Mapping[str, EventCompute] = field(default_factory=dict)  # kind -> compute

    def __post_init__(self) -> None:
        name, _, version = self.id.partition("/")
        if not name or not version.isdigit():
            raise ValueError(f"an algorithm id looks like 'suiji-inspections/1', "
                             f"not {self.id!r}")


@dataclass(frozen=True)
class Registry:
    """Algorithm id -> :class:`Algorithm`: what verification recomputes each draw with."""

    algorithms: tuple[Algorithm, ...]

    def __post_init__(self) -> None:
        ids = [a.id for a in self.algorithms]
        if len(set(ids)) != len(ids):
            raise ValueError(f"an algorithm id is registered twice: {sorted(ids)}")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(a.id for a in self.algorithms))

    def get(self, algorithm: str) -> Algorithm:
        for a in self.algorithms:
            if a.id == algorithm:
                return a
        raise UnknownAlgorithmError(
            f"algorithm {algorithm!r} is not known to this suiji (it knows "
            f"{', '.join(self.ids)}); verify with the suiji version that made the draw")

    def draw(self, algorithm: str) -> DrawCompute:
        return self.get(algorithm).compute

    def event(self, algorithm: str, kind: str) -> EventCompute:
        a = self.get(algorithm)
        if kind not in a.events:
            raise UnknownAlgorithmError(
                f"a {kind!r} event is not known under algorithm {algorithm!r} (it has "
                f"{', '.join(sorted(a.events)) or 'no events'})")
        return a.events[kind]

    def describe(self, algorithm: str, kind: str | None = None) -> str:
        """``module:function`` of the registered function, '' when none (for manifests)."""
        try:
            fn = self.draw(algorithm) if kind is None else self.event(algorithm, kind)
        except UnknownAlgorithmError:
            return ""
        module = getattr(fn, "__module__", "") or ""
        return f"{module}:{getattr(fn, '__qualname__', '')}"


@dataclass(frozen=True)
class Finding:
    """One thing that does not match: where, and what."""

    check: str  # chain, import, snapshot, draw, event, recompute, bundle
    subject: str  # e.g. "log entry 12", "draw 3 (2026Q4 inspections)"
    problem: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.subject}: {self.problem}"

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "subject": self.subject, "problem": self.problem}


@dataclass(frozen=True)
class VerifyReport:
    """What was checked (counts per kind) and every finding; ``ok`` when none."""

    scope: str  # "database 2026Q4", "bundle DIR"
    checked: Mapping[str, int]
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "ok": self.ok, "checked": dict(self.checked),
                "findings": [f.as_dict() for f in self.findings], "notes": list(self.notes)}


# --- differences -------------------------------------------------------------------

def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _id_key(items: Sequence[Any]) -> str | None:
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    for key in ID_KEYS:
        values = [x.get(key) for x in items]
        if all(isinstance(v, str) for v in values) and len(set(values)) == len(values):
            return key
    return None


def differences(stored: Any, recomputed: Any, path: str = "output",
                limit: int = MAX_DIFFS) -> list[str]:
    """Human-readable paths where two JSON values differ (lists of records matched by id)."""
    out: list[str] = []

    def walk(a: Any, b: Any, p: str) -> None:
        if len(out) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if k not in b:
                    out.append(f"{p}.{k}: stored {_short(a[k])}, recomputed has no such field")
                elif k not in a:
                    out.append(f"{p}.{k}: stored has no such field, recomputed {_short(b[k])}")
                else:
                    walk(a[k], b[k], f"{p}.{k}")
            return
        if isinstance(a, list) and isinstance(b, list):
            key = _id_key(a) if _id_key(a) == _id_key(b) else None
            if key is not None:
                ia = {x[key]: x for x in a}
                ib = {x[key]: x for x in b}
                for ident in sorted(set(ia) | set(ib)):
                    label = f"{p}[{key}={ident}]"
                    if ident not in ib:
                        out.append(f"{label}: in the stored output, not in the recomputed one")
                    elif ident not in ia:
                        out.append(f"{label}: in the recomputed output, not in the stored one")
                    else:
                        walk(ia[ident], ib[ident], label)
                    if len(out) >= limit:
                        return
                if [x[key] for x in a] != [x[key] for x in b] and len(out) < limit:
                    out.append(f"{p}: same records in a different order")
                return
            if len(a) != len(b):
                out.append(f"{p}: stored has {len(a)} entries, recomputed {len(b)}")
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                walk(x, y, f"{p}[{i}]")
            return
        out.append(f"{p}: stored {_short(a)}, recomputed {_short(b)}")

    walk(stored, recomputed, path)
    if not out and stored != recomputed:  # pragma: no cover - walk always finds one
        out.append(f"{path}: differs")
    return out


# --- the chain ---------------------------------------------------------------------

def check_chain(entries: Sequence[LogEntry], *, complete: bool = True) -> list[Finding]:
    """Recompute each entry's hash and the links between consecutive entries.

    ``complete``: the entries are the whole log (first must follow the genesis
    hash, sequence numbers run from 1 without gaps). A bundle holds a period's
    entries only: then each entry's own hash is checked, and links between
    entries that are consecutive in the full log.
    """
    findings: list[Finding] = []
    prev_seq, prev_hash = 0, GENESIS
    for i, e in enumerate(entries):
        subject = f"log entry {e.seq} ({e.action}{' ' + e.period if e.period else ''})"
        recomputed = LogEntry.compute_hash(e.seq, e.at, e.action, e.period, e.details,
                                           e.digests, e.prev)
        if recomputed != e.hash:
            findings.append(Finding("chain", subject,
                                    "was altered: its content no longer matches its hash"))
        follows = complete or (i > 0 and e.seq == prev_seq + 1)
        if complete and e.seq != prev_seq + 1:
            missing = (f"entry {prev_seq + 1}" if e.seq == prev_seq + 2
                       else f"entries {prev_seq + 1}–{e.seq - 1}")
            findings.append(Finding("chain", subject, f"{missing} of the log is missing "
                                                      f"(deleted)"))
        elif follows and e.prev != prev_hash:
            findings.append(Finding("chain", subject,
                                    f"does not link to entry {prev_seq}: it names "
                                    f"{e.prev[:16]}…, entry {prev_seq} hashes to "
                                    f"{prev_hash[:16]}… (an entry was altered or replaced)"))
        prev_seq, prev_hash = e.seq, e.hash
    return findings


# --- recomputation -----------------------------------------------------------------

def recompute_output(registry: Registry, algorithm: str, snapshot: Snapshot, seed: str,
                     params: Mapping[str, Any], previous: Any = None, *,
                     event: str | None = None) -> bytes:
    """The canonical bytes of a draw (or, with ``event`` = its kind, an event on it)
    recomputed with the function ``registry`` holds for the draw's ``algorithm`` id."""
    if event is not None:
        return output_bytes(registry.event(algorithm, event)(snapshot, seed, previous,
                                                             dict(params)))
    return output_bytes(registry.draw(algorithm)(snapshot, seed, dict(params)))


def compare_recomputed(subject: str, stored: bytes, compute: Callable[[], bytes]) -> list[Finding]:
    """Run ``compute`` and compare its bytes with ``stored``; explain any difference."""
    return recompute_and_compare(subject, stored, compute)[1]


def recompute_and_compare(subject: str, stored: bytes, compute: Callable[[], bytes]
                          ) -> tuple[bytes | None, list[Finding]]:
    """The recomputed bytes (None if the computation failed) and the findings."""
    try:
        fresh = compute()
    except (ImportError, LookupError, AttributeError) as exc:
        return None, [Finding("recompute", subject,
                              f"cannot be recomputed with this suiji: {exc}")]
    except Exception as exc:  # noqa: BLE001 - any failure of a recomputation is a finding
        return None, [Finding("recompute", subject,
                              f"recomputation failed: {type(exc).__name__}: {exc}")]
    if fresh == stored:
        return fresh, []
    try:
        diffs = differences(json.loads(stored), json.loads(fresh))
    except ValueError:
        diffs = ["the stored output is not valid JSON"]
    return fresh, [Finding("recompute", subject, "the recomputed output differs from the "
                                                 "stored one: " + "; ".join(diffs))]


# --- the database ------------------------------------------------------------------

def draw_label(d: DrawRecord) -> str:
    return f"draw {d.id} ({d.period} {d.scope}{' ' + d.subject if d.subject else ''}, {d.status})"


def check_draw(d: DrawRecord, stored: bytes, snap: Snapshot | None,
               index: dict[tuple[str, str], list[LogEntry]], events: list[dict[str, Any]],
               recompute: bool, edited: str, registry: Registry) -> list[Finding]:
    """One draw, wherever it is kept (database or bundle): its output digest, its log
    entry, the recomputation from the snapshot and seed, and its events in order."""
    subject = draw_label(d)
    findings = []
    if sha256_hex(stored) != d.output_sha256:
        findings.append(Finding("draw", subject, edited))
    findings += check_draw_entry(d, index.get(("draw", str(d.id)), []),
                                 snap.digest if snap else "")
    fresh = None
    if recompute and snap is not None:
        fresh, found = recompute_and_compare(
            subject, stored, partial(recompute_output, registry, d.algorithm, snap, d.seed,
                                     d.params))
        findings += found
    findings += check_events(d, events, snap, index, fresh or stored, registry, recompute)
    return findings


def index_log(entries: Iterable[LogEntry]) -> dict[tuple[str, str], list[LogEntry]]:
    """Log entries by what they record: ("draw", id), ("event", id), ("snapshot", id), ..."""
    index: dict[tuple[str, str], list[LogEntry]] = {}
    for e in entries:
        d = e.details if isinstance(e.details, Mapping) else {}
        if e.action in ("draw", "redraw") and "draw" in d:
            index.setdefault(("draw", str(d["draw"])), []).append(e)
        elif e.action == "freeze" and "snapshot" in d:
            index.setdefault(("snapshot", str(d["snapshot"])), []).append(e)
        elif e.action == "import" and "kind" in d and "version" in d:
            index.setdefault(("import", f"{d['kind']}:{d['version']}"), []).append(e)
        elif e.action == "results" and "version" in d:
            index.setdefault(("import", f"results:{d['version']}"), []).append(e)
        elif "event" in d and "draw" in d:
            index.setdefault(("event", str(d["event"])), []).append(e)
    return index


def check_draw_entry(d: DrawRecord, entries: list[LogEntry], snapshot_digest: str
                     ) -> list[Finding]:
    """The log entry of a draw must agree with the draws table."""
    subject = draw_label(d)
    if not entries:
        return [Finding("draw", subject, "has no entry in the log (the entry was deleted, or "
                                         "the draw was inserted behind suiji's back)")]
    e = entries[-1]
    found: list[Finding] = []
    expect = {"seed": d.seed, "algorithm": d.algorithm, "params": d.params,
              "scope": d.scope, "subject": d.subject}
    for key, value in expect.items():
        if key in e.details and e.details[key] != value:
            found.append(Finding("draw", subject,
                                 f"{key} is {_short(value)} but log entry {e.seq} recorded "
                                 f"{_short(e.details[key])}"))
    if e.digests.get("output") != d.output_sha256:
        found.append(Finding("draw", subject, f"output digest {d.output_sha256[:16]}… differs "
                                              f"from log entry {e.seq} "
                                              f"({str(e.digests.get('output'))[:16]}…)"))
    if e.digests.get("snapshot") != snapshot_digest:
        found.append(Finding("draw", subject, f"was drawn on snapshot {d.snapshot_id} whose "
                                              f"digest {snapshot_digest[:16]}… differs from "
                                              f"log entry {e.seq}"))
    return found


def _check_imports(store: Store, index: Mapping[tuple[str, str], list[LogEntry]]
                   ) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    rows = store.conn.execute("SELECT kind, version, digest FROM imports ORDER BY kind, version"
                              ).fetchall()
    for kind, version, digest in rows:
        subject = f"import of {kind} version {version}"
        entries = index.get(("import", f"{kind}:{version}"), [])
        if not entries:
            findings.append(Finding("import", subject, "has no entry in the log"))
        elif entries[-1].digests.get("data") != digest:
            findings.append(Finding("import", subject,
                                    f"digest {str(digest)[:16]}… differs from log entry "
                                    f"{entries[-1].seq}"))
        if kind in ROW_TABLES:  # findings, responses: rows only added, with their import
            if import_rows_digest(store, kind, _import_id(store, kind, version)) != digest:
                findings.append(Finding("import", subject,
                                        "the stored rows no longer hash to the digest "
                                        "recorded at import (a row was edited, added or "
                                        "deleted)"))
            continue
        if kind not in KINDS:  # results and scores: rows are updated in place, not versioned
            continue
        frame = sort_canonical(KINDS[kind], store.read(kind, int(version)))
        if frame_sha256(frame) != digest:
            findings.append(Finding("import", subject,
                                    "the stored rows no longer hash to the digest recorded "
                                    "at import (a row was edited, added or deleted)"))
    return findings, len(rows)


def _import_id(store: Store, kind: str, version: int) -> int:
    row = store.conn.execute("SELECT id FROM imports WHERE kind = ? AND version = ?",
                             (kind, version)).fetchone()
    return int(row[0])


def load_snapshot_raw(store: Store, snapshot_id: int) -> tuple[Snapshot, dict[str, str]]:
    """A snapshot as stored, without any check, and the per-file digests of its table rows."""
    row = store.conn.execute("SELECT id, period, scope, digest, manifest FROM snapshots "
                             "WHERE id = ?", (snapshot_id,)).fetchone()
    if row is None:
        raise LookupError(f"snapshot {snapshot_id} is missing")
    files: dict[str, bytes] = {}
    recorded: dict[str, str] = {}
    for name, sha, data in store.conn.execute(
            "SELECT name, sha256, data FROM snapshot_files WHERE snapshot_id = ?", (snapshot_id,)):
        files[name] = zlib.decompress(data)
        recorded[name] = sha
    return Snapshot(row[0], row[1], row[2], row[3], json.loads(row[4]), files), recorded


def check_snapshot(snap: Snapshot, recorded: Mapping[str, str] | None = None,
                   entries: Sequence[LogEntry] = ()) -> list[Finding]:
    """Files against the manifest, the manifest against the digest, the digest against the log."""
    subject = f"snapshot {snap.id} ({snap.period} {snap.scope})"
    findings: list[Finding] = []
    if manifest_digest(snap.manifest) != snap.digest:
        findings.append(Finding("snapshot", subject,
                                f"the manifest no longer hashes to the snapshot digest "
                                f"{snap.digest[:16]}…"))
    listed = snap.manifest.get("files", {})
    for name in sorted(set(listed) | set(snap.files)):
        if name not in snap.files:
            findings.append(Finding("snapshot", subject, f"frozen file {name} is missing"))
            continue
        if name not in listed:
            findings.append(Finding("snapshot", subject, f"{name} is not in the manifest"))
            continue
        actual = sha256_hex(snap.files[name])
        if actual != listed[name]["sha256"]:
            findings.append(Finding("snapshot", subject,
                                    f"frozen file {name} was edited: it hashes to "
                                    f"{actual[:16]}…, the manifest says "
                                    f"{listed[name]['sha256'][:16]}…"))
        elif recorded is not None and recorded.get(name) != actual:
            findings.append(Finding("snapshot", subject,
                                    f"the recorded digest of {name} was changed"))
    findings += check_watch_list(snap, subject)
    if entries:
        e = entries[-1]
        if e.digests.get("snapshot") != snap.digest:
            findings.append(Finding("snapshot", subject,
                                    f"digest {snap.digest[:16]}… differs from the one "
                                    f"published in log entry {e.seq} "
                                    f"({str(e.digests.get('snapshot'))[:16]}…)"))
    return findings


def check_watch_list(snap: Snapshot, subject: str) -> list[Finding]:
    """A frozen derived watch list must equal the rule applied to the other frozen files."""
    if WATCH_FILE not in snap.files:
        return []
    try:
        fresh = recompute_watch_list(snap.files, snap.period, snap.rules)
    except Exception as exc:  # noqa: BLE001 - a failed recomputation is a finding
        return [Finding("snapshot", subject, f"{WATCH_FILE} cannot be recomputed: "
                                             f"{type(exc).__name__}: {exc}")]
    if fresh != snap.files[WATCH_FILE]:
        return [Finding("snapshot", subject, f"{WATCH_FILE} is not what the watch-list rule "
                                             f"gives from the frozen findings, projects, "
                                             f"agencies and rules")]
    return []


def check_events(d: DrawRecord, events: Sequence[Mapping[str, Any]], snap: Snapshot | None,
                 index: Mapping[tuple[str, str], list[LogEntry]] | None,
                 initial: bytes, registry: Registry, recompute: bool = True) -> list[Finding]:
    """Each event's digest, log entry and recomputation from the output before it.

    ``initial`` is the draw's output as recomputed (or as stored when it could
    not be): each event is recomputed from the recomputed output before it, so
    an edit is reported where it was made and not again in every later event.
    """
    findings: list[Finding] = []
    previous = initial
    for ev in events:
        subject = f"{ev['kind']} event {ev['id']} on {draw_label(d)}"
        stored = str(ev["output"]).encode("utf-8")
        if sha256_hex(stored) != ev["output_sha256"]:
            findings.append(Finding("event", subject, "the stored output was edited: it no "
                                                      "longer hashes to its recorded digest"))
        if index is not None:
            entries = index.get(("event", str(ev["id"])), [])
            if not entries:
                findings.append(Finding("event", subject, "has no entry in the log"))
            elif entries[-1].digests.get("output") != ev["output_sha256"]:
                findings.append(Finding("event", subject,
                                        f"output digest differs from log entry "
                                        f"{entries[-1].seq}"))
        if recompute and snap is not None:
            params = json.loads(ev["params"]) if isinstance(ev["params"], str) else ev["params"]
            prev_value = json.loads(previous)
            kind = str(ev["kind"])
            fresh, found = recompute_and_compare(
                subject, stored,
                partial(recompute_output, registry, d.algorithm, snap, d.seed, params,
                        prev_value, event=kind))
            findings += found
            previous = fresh if fresh is not None else stored
        else:
            previous = stored
    return findings


def verify_store(store: Store, registry: Registry, period: str | None = None, *,
                 recompute: bool = True,
                 progress: Callable[[str], None] | None = None) -> VerifyReport:
    """Check the whole record (or one period's draws and snapshots) and report every difference.

    Each draw and event is recomputed with the function ``registry`` holds for
    the algorithm id stored with the draw.

    The log chain and the directories are always checked in full: they are
    shared by all periods.
    """
    say = progress or (lambda _msg: None)
    findings: list[Finding] = []
    checked: dict[str, int] = {}

    entries = store.log_entries()
    say(f"checking the log chain ({len(entries)} entries)")
    findings += check_chain(entries)
    checked["log entries"] = len(entries)
    index = index_log(entries)

    say("checking the directories against their import digests")
    found, n = _check_imports(store, index)
    findings += found
    checked["imports"] = n

    sql, args = "SELECT id FROM snapshots", ()
    if period:
        sql, args = sql + " WHERE period = ?", (period,)  # type: ignore[assignment]
    snapshots: dict[int, Snapshot] = {}
    for (sid,) in store.conn.execute(sql + " ORDER BY id", args).fetchall():
        snap, recorded = load_snapshot_raw(store, int(sid))
        snapshots[snap.id] = snap
        log_entries = index.get(("snapshot", str(snap.id)), [])
        if not log_entries:
            findings.append(Finding("snapshot", f"snapshot {snap.id} ({snap.period} "
                                                f"{snap.scope})", "has no freeze entry in the log"))
        findings += check_snapshot(snap, recorded, log_entries)
    checked["snapshots"] = len(snapshots)

    draws = all_draws(store, period)
    events_checked = 0
    for d in draws:
        subject = draw_label(d)
        say(f"checking {subject}")
        raw = stored_output(store, d.id)
        snap = snapshots.get(d.snapshot_id)
        if snap is None:
            try:
                snap, _ = load_snapshot_raw(store, d.snapshot_id)
            except LookupError as exc:
                findings.append(Finding("draw", subject, str(exc)))
        events = event_rows(store, d.id)
        events_checked += len(events)
        findings += check_draw(d, raw.encode("utf-8"), snap, index, events, recompute,
                               "the stored output was edited: it no longer hashes to its "
                               "recorded digest", registry)
    checked["draws"] = len(draws)
    checked["events"] = events_checked

    # Log entries of draws whose rows are gone.
    known = {str(d.id) for d in all_draws(store)}
    for (kind, ident), es in sorted(index.items()):
        if kind == "draw" and ident not in known and (not period or es[-1].period == period):
            findings.append(Finding("draw", f"draw {ident}",
                                    f"is recorded in log entry {es[-1].seq} but missing from "
                                    f"the database (deleted)"))
    label = f"database {store.path}" + (f", period {period}" if period else "")
    return VerifyReport(label, checked, tuple(findings))
