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
from datetime import date, timedelta
from functools import partial
from typing import Any

from suiji.data.canonical import frame_sha256, sort_canonical
from suiji.data.commitments import commitment_digest
from suiji.data.credit import WATCH_FILE, recompute_watch_list
from suiji.data.draws import (
    DrawCompute,
    DrawRecord,
    EventCompute,
    event_rows,
    output_bytes,
    stored_output,
)
from suiji.data.findings import ROW_TABLES, import_rows_digest
from suiji.data.schema import KINDS
from suiji.data.snapshot import Snapshot, manifest_digest
from suiji.data.store import GENESIS, LogEntry, LogHead, Store, parse_utc, sha256_hex

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


def event_key(kind: str, params: Mapping[str, Any]) -> str:
    """What an event is recomputed with: its recorded ``algorithm`` parameter
    (``suiji-substitution/2``) when it has one, else its kind (events recorded before
    event versions: ``substitution`` is ``suiji-substitution/1``)."""
    algorithm = params.get("algorithm") if isinstance(params, Mapping) else None
    return str(algorithm) if algorithm else kind


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
        return output_bytes(registry.event(algorithm, event_key(event, params))(
            snapshot, seed, previous, dict(params)))
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


# A record's own timestamp and its log entry's are taken a moment apart (older records)
# or are the same (newer ones): more than this apart means one of them was edited.
TIME_TOLERANCE_SECONDS = 2.0
# Freezes logged before they recorded created_at compressed every frozen file between
# taking the time and writing the entry (minutes at national scale).
LEGACY_FREEZE_SECONDS = 900.0


def check_time(check: str, subject: str, field_name: str, value: str, e: LogEntry, *,
               earlier: float = TIME_TOLERANCE_SECONDS) -> list[Finding]:
    """A timestamp of the record against the time of its log entry: at most 2 s after it,
    at most ``earlier`` seconds before it (the work done between the two)."""
    try:
        gap = (parse_utc(e.at) - parse_utc(value)).total_seconds()
    except ValueError:
        return [Finding(check, subject, f"{field_name} {_short(value)} is not a timestamp")]
    apart = abs(gap)
    if gap < -TIME_TOLERANCE_SECONDS or gap > earlier:
        return [Finding(check, subject, f"{field_name} is {value} but log entry {e.seq} was "
                                        f"written at {e.at} ({apart:,.0f} s apart)")]
    return []


def check_day(check: str, subject: str, field_name: str, value: str, e: LogEntry, *,
              before: int | None = None, after: int | None = None) -> list[Finding]:
    """A date the record claims (``drawn_on``, a substitution's ``from``) against the UTC
    date of its log entry: at most ``before`` days earlier and ``after`` days later (one
    day either way is the office's own time zone)."""
    try:
        day = date.fromisoformat(value)
        logged = parse_utc(e.at).date()
    except ValueError:
        return [Finding(check, subject, f"{field_name} {_short(value)} is not a date")]
    if before is not None and day < logged - timedelta(days=before):
        return [Finding(check, subject, f"{field_name} is {value}, before the day log entry "
                                        f"{e.seq} was written ({e.at[:10]})")]
    if after is not None and day > logged + timedelta(days=after):
        return [Finding(check, subject, f"{field_name} is {value}, after the day log entry "
                                        f"{e.seq} was written ({e.at[:10]})")]
    return []


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
              "scope": d.scope, "subject": d.subject, "seed_source": d.seed_source,
              "reason": d.reason, "created_at": d.created_at}
    if e.period != d.period:
        found.append(Finding("draw", subject, f"period is {d.period} but log entry {e.seq} "
                                              f"recorded {e.period}"))
    for key, value in expect.items():
        if key in e.details and e.details[key] != value:
            found.append(Finding("draw", subject,
                                 f"{key} is {_short(value)} but log entry {e.seq} recorded "
                                 f"{_short(e.details[key])}"))
    if "created_at" not in e.details:  # entries before created_at was logged
        found += check_time("draw", subject, "created_at", d.created_at, e)
    drawn_on = d.params.get("drawn_on") if isinstance(d.params, Mapping) else None
    if drawn_on is not None:
        found += check_day("draw", subject, "drawn_on", str(drawn_on), e, before=1, after=1)
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
    cur = store.conn.execute("SELECT kind, version, digest, file_name, file_sha256, rows, "
                             "inserted, updated, removed, encoding, warnings, imported_at "
                             "FROM imports ORDER BY kind, version")
    cols = [c[0] for c in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    seen = set()
    for row in rows:
        kind, version, digest = row["kind"], row["version"], row["digest"]
        seen.add(f"{kind}:{version}")
        subject = f"import of {kind} version {version}"
        entries = index.get(("import", f"{kind}:{version}"), [])
        if not entries:
            findings.append(Finding("import", subject, "has no entry in the log"))
        elif entries[-1].digests.get("data") != digest:
            findings.append(Finding("import", subject,
                                    f"digest {str(digest)[:16]}… differs from log entry "
                                    f"{entries[-1].seq}"))
        if entries:
            findings += _check_import_entry(subject, row, entries[-1])
        if kind in ROW_TABLES:  # findings, responses: rows only added, with their import
            if import_rows_digest(store, kind, _import_id(store, kind, version)) != digest:
                findings.append(Finding("import", subject,
                                        "the stored rows no longer hash to the digest "
                                        "recorded at import (a row was edited, added or "
                                        "deleted)"))
            continue
        if kind not in KINDS:  # results and scores: rows are updated in place, not versioned
            continue
        if not isinstance(version, int):
            findings.append(Finding("import", subject, "was edited: its version is not a "
                                                       "number"))
            continue
        frame = sort_canonical(KINDS[kind], store.read(kind, version))
        if frame_sha256(frame) != digest:
            findings.append(Finding("import", subject,
                                    "the stored rows no longer hash to the digest recorded "
                                    "at import (a row was edited, added or deleted)"))
    for (what, ident), es in sorted(index.items()):
        if what == "import" and ident not in seen:
            findings.append(Finding("import", f"import of {ident.replace(':', ' version ')}",
                                    f"is recorded in log entry {es[-1].seq} but missing from "
                                    f"the imports table (deleted)"))
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
        try:
            files[name] = zlib.decompress(data)
        except (zlib.error, TypeError):  # an edited blob: its bytes will not match the manifest
            files[name] = bytes(data) if isinstance(data, bytes) else str(data).encode()
        recorded[name] = sha
    manifest = _loose_json(row[4])
    if not isinstance(manifest, dict):
        manifest = {"_text": manifest}
    return Snapshot(row[0], row[1], row[2], row[3], manifest, files), recorded


def check_snapshot(snap: Snapshot, recorded: Mapping[str, str] | None = None,
                   entries: Sequence[LogEntry] = (),
                   rows: Mapping[str, Any] | None = None) -> list[Finding]:
    """Files against the manifest, the manifest against the digest, the digest against the log."""
    subject = f"snapshot {snap.id} ({snap.period} {snap.scope})"
    findings: list[Finding] = []
    if manifest_digest(snap.manifest) != snap.digest:
        findings.append(Finding("snapshot", subject,
                                f"the manifest no longer hashes to the snapshot digest "
                                f"{snap.digest[:16]}…"))
    listed = snap.manifest.get("files", {})
    if not isinstance(listed, dict):
        return [*findings, Finding("snapshot", subject, "the manifest lists no files")]
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
        elif rows is not None and name in rows and rows[name] != listed[name].get("rows"):
            findings.append(Finding("snapshot", subject,
                                    f"the recorded row count of {name} is {rows[name]}, the "
                                    f"manifest says {listed[name].get('rows')}"))
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
        params = _loose_json(ev["params"]) if isinstance(ev["params"], str) else ev["params"]
        if not isinstance(params, dict):
            findings.append(Finding("event", subject, "was edited: its stored params are not "
                                                      "what suiji writes"))
            params = {}
        if index is not None:
            entries = index.get(("event", str(ev["id"])), [])
            if not entries:
                findings.append(Finding("event", subject, "has no entry in the log"))
            else:
                findings += check_event_entry(subject, d, ev, params, entries[-1])
        if recompute and snap is not None:
            prev_value = _loose_json(previous)
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


def check_event_entry(subject: str, d: DrawRecord, ev: Mapping[str, Any],
                      params: Mapping[str, Any], e: LogEntry) -> list[Finding]:
    """An event row against its log entry: output digest, draw, kind, params, reason, time;
    a ``suiji-substitution/2`` event's ``from`` not before the day it was recorded."""
    found: list[Finding] = []
    if e.digests.get("output") != ev["output_sha256"]:
        found.append(Finding("event", subject, f"output digest differs from log entry {e.seq}"))
    expect = {"draw": d.id, "params": dict(params), "reason": ev["reason"], "kind": ev["kind"],
              "created_at": ev["created_at"]}
    for key, value in expect.items():
        if key in e.details and e.details[key] != value:
            found.append(Finding("event", subject,
                                 f"{key} is {_short(value)} but log entry {e.seq} recorded "
                                 f"{_short(e.details[key])}"))
    if "kind" not in e.details and e.action != ev["kind"]:
        found.append(Finding("event", subject, f"kind is {ev['kind']!r} but log entry {e.seq} "
                                               f"recorded a {e.action!r}"))
    if "created_at" not in e.details:
        found += check_time("event", subject, "created_at", str(ev["created_at"]), e)
    if isinstance(params, Mapping) and params.get("algorithm") and "from" in params:
        found += check_day("event", subject, "from", str(params["from"]), e, before=1)
    return found


def _import_value(key: str, value: Any) -> Any:
    return _loose_json(value) if key == "warnings" else value


def _check_import_entry(subject: str, row: Mapping[str, Any], e: LogEntry) -> list[Finding]:
    """An imports row's metadata against its log entry (file name and digest, time)."""
    found = []
    if "file" in e.details and e.details["file"] != row["file_name"]:
        found.append(Finding("import", subject, f"file_name is {_short(row['file_name'])} but "
                                                f"log entry {e.seq} recorded "
                                                f"{_short(e.details['file'])}"))
    if e.digests.get("file", row["file_sha256"]) != row["file_sha256"]:
        found.append(Finding("import", subject, f"file_sha256 is {_short(row['file_sha256'])} "
                                                f"but log entry {e.seq} recorded "
                                                f"{_short(e.digests.get('file'))}"))
    for key in ("rows", "inserted", "updated", "removed", "encoding", "warnings"):
        if key in e.details and key in row and _import_value(key, row[key]) != e.details[key]:
            found.append(Finding("import", subject, f"{key} is {_short(row[key])} but log entry "
                                                    f"{e.seq} recorded "
                                                    f"{_short(e.details[key])}"))
    found += check_time("import", subject, "imported_at", str(row["imported_at"]), e)
    return found


RECORD_TABLES = {
    # table: (log selector, key columns, value columns)
    "results": (("period", "uscc"), ("date", "outcome", "carried_out", "note")),
    "scores": (("expert_id", "project_id", "meeting", "party"), ("score", "deduction", "note")),
}


def _recorded_entries(entries: Sequence[LogEntry], table: str) -> list[LogEntry]:
    if table == "results":
        return [e for e in entries if e.action == "results"]
    return [e for e in entries if e.action == "import" and e.details.get("kind") == "scores"]


def check_recorded_rows(store: Store, entries: Sequence[LogEntry], table: str
                        ) -> tuple[list[Finding], int, list[str]]:
    """Replay the log's entries of ``table`` (results or scores) and compare with the table.

    Each entry since row commitments lists the rows it wrote (``recorded_rows``),
    its import id and time; the replay gives what every row must be now. A row
    edited, deleted or added behind suiji's back is named. Entries from before
    row commitments make their period (results) or the whole table (scores)
    uncheckable, which is said in a note, never silently passed.
    """
    keys, values = RECORD_TABLES[table]
    expected: dict[tuple[Any, ...], tuple[tuple[Any, ...], int, str, int]] = {}
    legacy: set[str] = set()
    for e in _recorded_entries(entries, table):
        rows = e.details.get("recorded_rows")
        if not isinstance(rows, list):
            legacy.add(e.period if table == "results" else "*")
            continue
        for row in rows:
            row = list(row)
            if table == "scores" and len(row) == 6:  # written before scores had a party
                row = [*row[:3], "", *row[3:]]
            key = (e.period, *row[:1]) if table == "results" else tuple(row[:4])
            vals = tuple(row[1:]) if table == "results" else tuple(row[4:])
            expected[key] = (vals, int(e.details.get("import_id", 0) or 0),
                             str(e.details.get("recorded_at", "")), e.seq)
    cols = ", ".join((*keys, *values, "import_id", "recorded_at"))
    actual = {}
    for r in store.conn.execute(f"SELECT {cols} FROM {table}"):  # noqa: S608 - fixed names
        actual[tuple(r[:len(keys)])] = (tuple(r[len(keys):len(keys) + len(values)]),
                                        r[-2], r[-1])
    findings: list[Finding] = []

    def checkable(key: tuple[Any, ...]) -> bool:
        return "*" not in legacy and (table != "results" or key[0] not in legacy)

    def label(key: tuple[Any, ...]) -> str:
        if table == "results":
            return f"result of {key[1]} in {key[0]}"
        party = f" ({key[3]})" if key[3] else ""
        return f"score of expert {key[0]}{party} for {key[1]} at the meeting of {key[2]}"

    for key in sorted(set(actual) | set(expected), key=lambda k: tuple(map(str, k))):
        if not checkable(key):
            continue
        if key not in actual:
            findings.append(Finding(table, label(key), f"recorded by log entry "
                                                       f"{expected[key][3]} is missing from "
                                                       f"the database (deleted)"))
            continue
        if key not in expected:
            findings.append(Finding(table, label(key), "is in the database but no log entry "
                                                       "recorded it (added behind suiji's back)"))
            continue
        (vals, import_id, recorded_at, seq), (now_vals, now_import, now_at) = \
            expected[key], actual[key]
        for name, want, have in zip(values, vals, now_vals, strict=True):
            if want != have and not (isinstance(want, (int, float)) and isinstance(
                    have, (int, float)) and float(want) == float(have)):
                findings.append(Finding(table, label(key), f"{name} is {_short(have)} but log "
                                                           f"entry {seq} recorded "
                                                           f"{_short(want)}"))
        if import_id and now_import != import_id:
            findings.append(Finding(table, label(key), f"import_id is {now_import} but log entry "
                                                       f"{seq} recorded {import_id}"))
        if recorded_at and now_at != recorded_at:
            findings.append(Finding(table, label(key), f"recorded_at is {now_at} but log entry "
                                                       f"{seq} recorded {recorded_at}"))
    unchecked = sorted(legacy - {"*"}) + (["all"] if "*" in legacy else [])
    return findings, len(actual), unchecked


def check_commitments(entries: Sequence[LogEntry]) -> list[Finding]:
    """The commitments in the log, in order: each body hashes to its digest and
    supersedes the one before it; once a scope has one, every later freeze has one; each
    draw names the latest commitment of the scope it drew from, or none when there was
    none (the scope is the one whose freeze published the draw's snapshot digest)."""
    findings: list[Finding] = []
    latest: dict[tuple[str, str], str] = {}
    scope_of: dict[str, str] = {}  # snapshot digest -> frozen scope
    for e in entries:
        d = e.details if isinstance(e.details, Mapping) else {}
        subject = f"log entry {e.seq} ({e.action}{' ' + e.period if e.period else ''})"
        if e.action == "freeze":
            key = (e.period, str(d.get("scope", "")))
            scope_of[str(e.digests.get("snapshot", ""))] = key[1]
            digest = e.digests.get("commitment")
            if not digest:
                if key in latest:
                    findings.append(Finding("commitment", subject,
                                            f"freezes {key[1]} again without a commitment "
                                            f"after commitment {latest[key][:16]}…"))
                continue
            body = d.get("commitment")
            if not isinstance(body, Mapping) or commitment_digest(dict(body)) != digest:
                findings.append(Finding("commitment", subject, "its commitment no longer "
                                                               "hashes to its digest"))
            elif body.get("supersedes", "") != latest.get(key, ""):
                findings.append(Finding("commitment", subject,
                                        f"supersedes {str(body.get('supersedes')) or 'nothing'}"
                                        f" but the latest commitment was "
                                        f"{latest.get(key, '') or 'none'}"))
            latest[key] = str(digest)
        elif e.action in ("draw", "redraw"):
            frozen = scope_of.get(str(e.digests.get("snapshot", "")))
            if frozen is None:
                continue  # a bundle or a log without the freeze: nothing to compare
            want = latest.get((e.period, frozen), "")
            got = str(d.get("commitment", "") or "")
            if got != want:
                findings.append(Finding(
                    "commitment", f"draw {d.get('draw')} ({e.period} {d.get('scope')})",
                    f"log entry {e.seq} names commitment {got[:16] + '…' if got else 'none'}, "
                    f"but the latest published commitment of its {frozen} inputs was "
                    f"{want[:16] + '…' if want else 'none'}"))
    return findings


def check_heads(entries: Sequence[LogEntry], heads: Sequence[LogHead]) -> list[Finding]:
    """Each published head must be on today's chain: entry SEQ exists with that hash.

    A truncated log, a deleted last draw, a restored older file or a re-hashed
    chain all lose a published head; the finding names the first entry that is
    missing (truncation) or the range in which the chain was rewritten (between
    the last published head still found and this one).
    """
    by_seq = {e.seq: e for e in entries}
    last = max(by_seq) if by_seq else 0
    findings = []
    intact = 0
    for head in sorted(heads, key=lambda h: h.seq):
        subject = f"published head {head.seq}:{head.hash[:16]}…"
        entry = by_seq.get(head.seq)
        if entry is not None and entry.hash == head.hash:
            intact = max(intact, head.seq)
            continue
        if entry is None:
            first = last + 1 if head.seq > last else head.seq
            findings.append(Finding(
                "head", subject,
                f"is not on today's chain: entry {first} is the first missing one (the log "
                f"now ends at entry {last}; entries up to {head.seq} were published): the log "
                f"was truncated, its last entries deleted, or an older copy of the database "
                f"restored"))
        else:
            findings.append(Finding(
                "head", subject,
                f"is not on today's chain: entry {head.seq} now hashes to {entry.hash[:16]}…, "
                f"so the entry published then is missing; the chain was rewritten at or after "
                f"entry {intact + 1} (the last published head still found is "
                f"{intact}) and at or before entry {head.seq}"))
    return findings


def _loose_json(text: Any) -> Any:
    """Parsed JSON, or the text itself when it is not JSON (an edit verify then reports)."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def read_log(store: Store) -> list[LogEntry]:
    """The whole log as stored, never failing on an edited entry: details or digests that
    are not JSON stay text, so the entry's hash no longer matches and the chain says so."""
    rows = store.conn.execute("SELECT seq, at, action, period, details, digests, prev, hash "
                              "FROM log ORDER BY seq").fetchall()
    out = []
    for r in rows:
        details, digests = _loose_json(r[4]), _loose_json(r[5])
        out.append(LogEntry(r[0], str(r[1]), str(r[2]), str(r[3]),
                            details if isinstance(details, dict) else {"_text": details},
                            digests if isinstance(digests, dict) else {"_text": digests},
                            str(r[6]), str(r[7])))
    return out


_DRAW_COLS = ("id, period, scope, subject, snapshot_id, seed, seed_source, algorithm, params, "
              "output, output_sha256, status, reason, created_at")


def read_draws(store: Store, period: str | None = None
               ) -> tuple[list[DrawRecord], list[Finding]]:
    """Every draw as stored; a draw whose params or output is not valid JSON is a finding."""
    sql, args = f"SELECT {_DRAW_COLS} FROM draws", ()
    if period:
        sql, args = sql + " WHERE period = ?", (period,)  # type: ignore[assignment]
    draws, findings = [], []
    for r in store.conn.execute(sql + " ORDER BY id", args).fetchall():
        try:
            params, output = json.loads(r[8]), json.loads(r[9])
            if not isinstance(params, dict):
                raise ValueError("params is not an object")
        except (TypeError, ValueError) as exc:
            findings.append(Finding("draw", f"draw {r[0]} ({r[1]} {r[2]})",
                                    f"was edited: its stored params or output is not what "
                                    f"suiji writes ({exc})"))
            continue
        draws.append(DrawRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], params,
                                output, r[10], r[11], r[12], r[13]))
    return draws, findings


def check_statuses(draws: Sequence[DrawRecord], entries: Sequence[LogEntry]) -> list[Finding]:
    """A draw is superseded exactly when a later redraw entry of the log says so."""
    superseded = {str(e.details.get("supersedes")) for e in entries
                  if e.action in ("draw", "redraw") and e.details.get("supersedes") is not None}
    logged = {str(e.details.get("draw")) for e in entries if e.action in ("draw", "redraw")}
    found = []
    for d in draws:
        if str(d.id) not in logged:
            continue  # reported as a draw without a log entry
        want = "superseded" if str(d.id) in superseded else "current"
        if d.status != want:
            found.append(Finding("draw", draw_label(d), f"status is {d.status!r} but the log "
                                                        f"makes it {want!r}"))
    return found


def check_directory_rows(store: Store) -> list[Finding]:
    """Each directory row's stored key and change hash against its columns, and its
    validity range against the imports (a row hidden from the current version by an
    edited ``_to`` is as much an edit as a changed column)."""
    from suiji.data.canonical import row_hashes, row_keys

    findings = []
    for kind in KINDS.values():
        current = int(store.conn.execute("SELECT COALESCE(MAX(version), 0) FROM imports "
                                         "WHERE kind = ?", (kind.name,)).fetchone()[0] or 0)
        cols = list(kind.column_names)
        # a kind newer than the database (its table made when first imported) has no rows;
        # a column newer than the table reads as empty
        present = {r[1] for r in store.conn.execute(f'PRAGMA table_info("{kind.table}")')}
        if not present:
            continue
        collist = ", ".join(f'"{c}"' if c in present else "''" for c in cols)
        rows = store.conn.execute(f'SELECT {collist}, _key, _hash, _from, _to, rowid '
                                  f'FROM "{kind.table}"').fetchall()
        if not rows:
            continue
        import pandas as pd

        frame = pd.DataFrame([r[:len(cols)] for r in rows], columns=cols, dtype=object)
        frame = frame.fillna("").astype(str)
        keys = row_keys(kind, frame)
        # A late column empty in every row of an import was left out of its row hashes
        # (suiji.data.canonical.sort_canonical): a row whose late columns are empty may
        # have been hashed without them.
        late = [c.name for c in kind.columns if c.late]
        subsets = [tuple(c for i, c in enumerate(late) if mask >> i & 1)
                   for mask in range(2 ** len(late))]
        hashes = {left_out: row_hashes(frame[[c for c in cols if c not in left_out]])
                  for left_out in subsets}
        empty = {c: frame[c].eq("").tolist() for c in late}
        bad = 0
        for i, (r, key) in enumerate(zip(rows, keys, strict=True)):
            stored_key, stored_hash, start, end = r[len(cols):len(cols) + 4]
            candidates = {hashes[left_out][i] for left_out in subsets
                          if all(empty[c][i] for c in left_out)}
            problem = ""
            if stored_key != key:
                problem = f"its key is {_short(stored_key)}, its columns make {_short(key)}"
            elif stored_hash not in candidates:
                problem = "its change hash no longer matches its columns"
            elif not isinstance(start, int) or not 1 <= start <= max(current, 1):
                problem = f"it is valid from version {_short(start)}, not an imported version"
            elif end is not None and (not isinstance(end, int) or not start < end <= current):
                problem = (f"it is valid up to version {_short(end)}, outside versions "
                           f"{start + 1}–{current}")
            if problem:
                bad += 1
                if bad <= MAX_DIFFS:
                    findings.append(Finding("import", f"{kind.name} row {r[-1]}",
                                            f"was edited: {problem}"))
        if bad > MAX_DIFFS:
            findings.append(Finding("import", f"{kind.name}", f"{bad - MAX_DIFFS} more rows "
                                                              f"were edited the same way"))
    return findings


def verify_store(store: Store, registry: Registry, period: str | None = None, *,
                 recompute: bool = True,
                 progress: Callable[[str], None] | None = None,
                 heads: Sequence[LogHead] = ()) -> VerifyReport:
    """Check the whole record (or one period's draws and snapshots) and report every difference.

    Each draw and event is recomputed with the function ``registry`` holds for
    the algorithm id stored with the draw.

    The log chain, the directories, results and scores are always checked in
    full: they are shared by all periods. Each of ``heads`` (published log
    heads) must still be on the chain (:func:`check_heads`).
    """
    say = progress or (lambda _msg: None)
    findings: list[Finding] = []
    checked: dict[str, int] = {}

    entries = read_log(store)
    say(f"checking the log chain ({len(entries)} entries)")
    findings += check_chain(entries)
    checked["log entries"] = len(entries)
    index = index_log(entries)

    findings += check_commitments(entries)
    if heads:
        say(f"checking {len(heads)} published head(s)")
        findings += check_heads(entries, heads)
        checked["heads"] = len(heads)

    say("checking the directories against their import digests")
    found, n = _check_imports(store, index)
    findings += found
    checked["imports"] = n
    findings += check_directory_rows(store)
    notes: list[str] = []
    for table in RECORD_TABLES:
        found, n, unchecked = check_recorded_rows(store, entries, table)
        findings += found
        checked[table] = n
        if unchecked:
            notes.append(f"{table} recorded before suiji logged the rows themselves "
                         f"({', '.join(unchecked)}): those rows cannot be compared with the "
                         f"log")

    sql, args = "SELECT id FROM snapshots", ()
    if period:
        sql, args = sql + " WHERE period = ?", (period,)  # type: ignore[assignment]
    snapshots: dict[int, Snapshot] = {}
    for (sid,) in store.conn.execute(sql + " ORDER BY id", args).fetchall():
        snap, recorded = load_snapshot_raw(store, int(sid))
        snapshots[snap.id] = snap
        log_entries = index.get(("snapshot", str(snap.id)), [])
        label = f"snapshot {snap.id} ({snap.period} {snap.scope})"
        if not log_entries:
            findings.append(Finding("snapshot", label, "has no freeze entry in the log"))
        else:
            e = log_entries[-1]
            created = store.conn.execute("SELECT created_at FROM snapshots WHERE id = ?",
                                         (snap.id,)).fetchone()[0]
            if "created_at" in e.details:
                if e.details["created_at"] != created:
                    findings.append(Finding("snapshot", label,
                                            f"created_at is {created} but log entry {e.seq} "
                                            f"recorded {e.details['created_at']}"))
            else:  # older freezes compressed the files between the two: allow for it
                findings += check_time("snapshot", label, "created_at", str(created), e,
                                       earlier=LEGACY_FREEZE_SECONDS)
            if e.details.get("scope", snap.scope) != snap.scope or e.period != snap.period:
                findings.append(Finding("snapshot", label,
                                        f"log entry {e.seq} froze {e.period} "
                                        f"{e.details.get('scope')}"))
        counts = dict(store.conn.execute("SELECT name, rows FROM snapshot_files WHERE "
                                         "snapshot_id = ?", (snap.id,)).fetchall())
        findings += check_snapshot(snap, recorded, log_entries, counts)
    checked["snapshots"] = len(snapshots)

    draws, found = read_draws(store, period)
    findings += found
    findings += check_statuses(draws, entries)
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
    checked["draws"] = len(draws) + len(found)
    checked["events"] = events_checked

    # Log entries whose rows are gone: draws, events, snapshots.
    known = {str(r[0]) for r in store.conn.execute("SELECT id FROM draws")}
    known_events = {str(r[0]) for r in store.conn.execute("SELECT id FROM draw_events")}
    known_snapshots = {str(r[0]) for r in store.conn.execute("SELECT id FROM snapshots")}
    for (kind, ident), es in sorted(index.items()):
        if period and es[-1].period != period:
            continue
        if kind == "draw" and ident not in known:
            findings.append(Finding("draw", f"draw {ident}",
                                    f"is recorded in log entry {es[-1].seq} but missing from "
                                    f"the database (deleted)"))
        elif kind == "event" and ident not in known_events:
            e = es[-1]
            findings.append(Finding("event", f"{e.action} event {ident} on draw "
                                             f"{e.details.get('draw')}",
                                    f"is recorded in log entry {e.seq} but missing from the "
                                    f"database (deleted: the draw's output silently reverts "
                                    f"to the one before it)"))
        elif kind == "snapshot" and ident not in known_snapshots:
            findings.append(Finding("snapshot", f"snapshot {ident}",
                                    f"is recorded in log entry {es[-1].seq} but missing from "
                                    f"the database (deleted)"))
    label = f"database {store.path}" + (f", period {period}" if period else "")
    return VerifyReport(label, checked, tuple(findings), tuple(notes))
