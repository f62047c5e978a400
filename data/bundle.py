"""The audit bundle: everything an auditor needs to check a period without our database.

``suiji audit-bundle --period 2026Q4 -o DIR`` writes::

    DIR/README.md                      how to check it, by hand and with suiji
    DIR/ALGORITHM.md                   the specification of every draw
    DIR/manifest.json                  draws, events, seeds, params, digests, file list
    DIR/seeds.csv                      one line per draw: seed, where it came from, digests
    DIR/snapshots/<id>-<scope>/        the frozen inputs, canonical CSV + rules.toml,
                 .../manifest.json     and the manifest whose SHA-256 is the snapshot digest
    DIR/outputs/draw-<id>.json         each draw's output, the exact stored bytes
    DIR/outputs/event-<id>.json        each substitution / decline's resulting output
    DIR/log.jsonl                      the period's hash-chained log entries
    DIR/results.csv                    the recorded inspection results of the period
    DIR/SHA256SUMS                     sha256sum -c compatible digests of every file

:func:`verify_bundle` (``suiji verify --bundle DIR``) checks it with no
database: the file digests, the snapshot digests, each log entry's hash, that
the log records the same seeds and digests, and it recomputes every draw and
event byte for byte.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import os
import re
import shutil
import site
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suiji.data.draws import DrawRecord, all_draws, event_rows, stored_output
from suiji.data.errors import SuijiError
from suiji.data.snapshot import Snapshot
from suiji.data.store import LogEntry, Store, canonical_json, sha256_hex
from suiji.data.trail import record_export
from suiji.data.verify import (
    Finding,
    Registry,
    VerifyReport,
    check_chain,
    check_commitments,
    check_draw,
    check_snapshot,
    draw_label,
    event_key,
    index_log,
    load_snapshot_raw,
)
from suiji.data.version import __version__

FORMAT = "suiji-audit-bundle/1"
SUMS = "SHA256SUMS"


@dataclass(frozen=True)
class BundleSummary:
    path: Path
    period: str
    files: int
    draws: int
    events: int
    digest: str  # SHA-256 of SHA256SUMS: one number that pins the whole bundle
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "period": self.period, "files": self.files,
                "draws": self.draws, "events": self.events, "digest": self.digest,
                "notes": list(self.notes)}


SOURCE_ROOT = Path(__file__).resolve().parent.parent  # the repository, in a source checkout
SPEC_DIR = "share/suiji"  # where setup.cfg's data_files install ALGORITHM.md and the vectors


def shipped_file(name: str) -> Path | None:
    """A file suiji ships beside its code (``ALGORITHM.md``, ``vectors/…``), whatever the install.

    A source checkout or editable install has it at the repository root
    (``tests/vectors/`` for the vectors); an installed wheel under
    ``share/suiji/`` of its prefix: the virtual environment, the system or user
    prefix, or a ``pip install --target`` folder. Found through the installed
    file list (importlib.metadata), then the usual prefixes. None if absent.
    """
    source = SOURCE_ROOT / (f"tests/{name}" if name.startswith("vectors/") else name)
    candidates = [source]
    try:
        dist = importlib.metadata.distribution("suiji")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        wanted = f"{SPEC_DIR}/{name}"
        candidates += [Path(str(dist.locate_file(f))) for f in dist.files or ()
                       if f.as_posix().endswith(wanted)]
        candidates.append(Path(str(dist.locate_file(""))) / wanted)  # pip install --target
    for prefix in (sys.prefix, site.USER_BASE, sysconfig.get_path("data")):
        if prefix:
            candidates.append(Path(prefix) / SPEC_DIR / name)
    return next((c.resolve() for c in candidates if c.is_file()), None)


def algorithm_spec() -> bytes | None:
    """ALGORITHM.md of this suiji, from the source tree or the installed copy."""
    path = shipped_file("ALGORITHM.md")
    return path.read_bytes() if path is not None else None


def _csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def bundle_files(store: Store, period: str, registry: Registry | None = None
                 ) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The bundle's files (relative path -> bytes) and its manifest, built in memory.

    With ``registry``, each draw and event in the manifest names the function
    that recomputes it (``compute``); verification itself goes by ``algorithm``.
    """
    def compute_name(algorithm: str, kind: str | None = None) -> str:
        return registry.describe(algorithm, kind) if registry is not None else ""

    draws = all_draws(store, period)
    if not draws:
        raise SuijiError(f"{period} has no draws yet: there is nothing to audit. Draw first "
                         f"(suiji draw inspections --period {period} ...).")
    files: dict[str, bytes] = {}
    snapshot_ids = sorted({d.snapshot_id for d in draws} | {
        int(r[0]) for r in store.conn.execute("SELECT id FROM snapshots WHERE period = ?",
                                              (period,))})
    snapshots = []
    for sid in snapshot_ids:
        snap, _ = load_snapshot_raw(store, sid)
        folder = f"snapshots/{snap.id}-{snap.scope}"
        files[f"{folder}/manifest.json"] = canonical_json(snap.manifest).encode("utf-8")
        for name, data in sorted(snap.files.items()):
            files[f"{folder}/{name}"] = data
        snapshots.append({"id": snap.id, "period": snap.period, "scope": snap.scope,
                          "digest": snap.digest, "folder": folder})
    digest_of = {s["id"]: s["digest"] for s in snapshots}

    draw_entries = []
    seed_rows = []
    n_events = 0
    for d in draws:
        files[f"outputs/draw-{d.id}.json"] = stored_output(store, d.id).encode("utf-8")
        events = []
        for ev in event_rows(store, d.id):
            n_events += 1
            files[f"outputs/event-{ev['id']}.json"] = str(ev["output"]).encode("utf-8")
            ev_params = json.loads(ev["params"])
            events.append({"id": ev["id"], "kind": ev["kind"], "params": ev_params,
                           "compute": compute_name(d.algorithm, event_key(ev["kind"], ev_params)),
                           "output": f"outputs/event-{ev['id']}.json",
                           "output_sha256": ev["output_sha256"], "reason": ev["reason"],
                           "created_at": ev["created_at"]})
        draw_entries.append({
            "id": d.id, "period": d.period, "scope": d.scope, "subject": d.subject,
            "status": d.status, "snapshot": d.snapshot_id,
            "snapshot_digest": digest_of.get(d.snapshot_id, ""), "seed": d.seed,
            "seed_source": d.seed_source, "algorithm": d.algorithm,
            "compute": compute_name(d.algorithm), "params": d.params,
            "output": f"outputs/draw-{d.id}.json", "output_sha256": d.output_sha256,
            "reason": d.reason, "created_at": d.created_at, "events": events})
        seed_rows.append([d.id, d.scope, d.subject, d.status, d.seed, d.seed_source,
                          d.algorithm, digest_of.get(d.snapshot_id, ""), d.output_sha256])
    files["seeds.csv"] = _csv_bytes(["draw", "scope", "subject", "status", "seed", "seed_source",
                                     "algorithm", "snapshot_digest", "output_sha256"], seed_rows)

    entries = store.log_entries(period)
    files["log.jsonl"] = "".join(
        canonical_json({"seq": e.seq, "at": e.at, "action": e.action, "period": e.period,
                        "details": e.details, "digests": e.digests, "prev": e.prev,
                        "hash": e.hash}) + "\n" for e in entries).encode("utf-8")
    results = store.conn.execute(
        "SELECT uscc, date, outcome, carried_out, note FROM results WHERE period = ? "
        "ORDER BY uscc", (period,)).fetchall()
    files["results.csv"] = _csv_bytes(["uscc", "date", "outcome", "carried_out", "note"],
                                      [list(r) for r in results])
    head = store.conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
    notes = []
    spec = algorithm_spec()
    if spec is None:
        notes.append("ALGORITHM.md was not found beside this suiji installation; take it "
                     "from the source repository of the same version.")
    else:
        files["ALGORITHM.md"] = spec
    manifest = {"format": FORMAT, "period": period, "suiji": __version__,
                "log_head": {"seq": head[0], "hash": head[1]} if head else None,
                "snapshots": snapshots, "draws": draw_entries, "notes": notes}
    files["manifest.json"] = _json_bytes(manifest)
    files["README.md"] = _readme(period, manifest).encode("utf-8")
    sums = "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(files.items()))
    files[SUMS] = sums.encode("utf-8")
    manifest["_events"] = n_events
    return files, manifest


def write_bundle(store: Store, period: str, out: Path, *,
                 registry: Registry | None = None,
                 progress: Callable[[str], None] | None = None,
                 name: str | None = None) -> BundleSummary:
    """Write the bundle of ``period`` into ``out`` (which must not exist or be empty),
    and record it in the trail.

    ``registry`` (``suiji.scheduler.algorithms.REGISTRY``) names each draw's
    recompute function in the manifest. ``progress`` is told when the files
    are collected and the writing starts (``"writing DIR"``).

    The ``export`` entry (``what: audit-bundle``) commits to the SHA-256 of
    SHA256SUMS and is written in the same transaction as the folder: if the
    write fails there is no entry, and no bundle. ``name`` is what the entry
    calls the bundle (default: the folder's path; the workbench names the zip
    it hands out instead of its temporary folder).
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SuijiError(f"{out} exists and is not an empty folder; choose a new folder "
                         f"for the bundle (-o DIR).")
    files, manifest = bundle_files(store, period, registry)

    def write(_: bytes) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            for name, data in files.items():
                target = tmp / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            if out.exists():
                out.rmdir()
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    if progress is not None:
        progress(f"writing {out}")
    record_export(store, period=period, what="audit-bundle", data=files[SUMS], write=write,
                  public=False, details={"file": name or str(out), "digest_of": "SHA256SUMS"})
    return BundleSummary(out, period, len(files), len(manifest["draws"]), manifest["_events"],
                         sha256_hex(files[SUMS]), tuple(manifest["notes"]))


# --- verification without a database ------------------------------------------------

_DIGEST = re.compile(r"[0-9a-f]{64}")


def inside(root: Path, name: str) -> Path | None:
    """``root / name`` if it stays inside the bundle folder (no ``..``, no absolute path,
    no symbolic link leading out); None otherwise."""
    if not isinstance(name, str) or not name or "\x00" in name:
        return None
    base = root.resolve()
    path = (root / name).resolve()
    return path if path == base or base in path.parents else None


def _read_sums(root: Path) -> tuple[dict[str, str], list[Finding]]:
    path = root / SUMS
    if not path.is_file():
        return {}, [Finding("bundle", SUMS, "is missing: this is not a complete suiji bundle")]
    sums: dict[str, str] = {}
    findings = []
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Finding("bundle", SUMS, f"cannot be read: {exc}")]
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        if not _DIGEST.fullmatch(digest) or not name:
            findings.append(Finding("bundle", f"{SUMS} line {number}",
                                    f"is not '<sha256>  <file>': {line[:80]!r}"))
        elif inside(root, name) is None:
            findings.append(Finding("bundle", name, "points outside the bundle folder; it was "
                                                    "not read"))
        else:
            sums[name] = digest
    return sums, findings


def _read_log(path: Path) -> tuple[list[LogEntry], list[Finding]]:
    entries, findings = [], []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            e = json.loads(line)
            entries.append(LogEntry(e["seq"], e["at"], e["action"], e["period"],
                                    e["details"], e["digests"], e["prev"], e["hash"]))
        except (ValueError, KeyError, TypeError) as exc:
            what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)[:120]
            findings.append(Finding("log", f"log.jsonl line {number}",
                                    f"is not a log entry ({what})"))
    return entries, findings


def verify_bundle(root: Path, registry: Registry, *, recompute: bool = True,
                  progress: Callable[[str], None] | None = None) -> VerifyReport:
    """Check a bundle on its own: digests, snapshots, log entries, and every recomputation.

    Each draw is recomputed with the function ``registry`` holds for the
    algorithm id the manifest records for it.
    """
    say = progress or (lambda _msg: None)
    root = Path(root)
    findings: list[Finding] = []
    sums, found = _read_sums(root)
    findings += found
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for name, digest in sorted(sums.items()):
        if name not in present:
            findings.append(Finding("bundle", name, "is listed in SHA256SUMS but missing"))
        elif sha256_hex((root / name).read_bytes()) != digest:
            findings.append(Finding("bundle", name, "was changed: its SHA-256 differs from "
                                                    "SHA256SUMS"))
    for name in sorted(present - set(sums) - {SUMS}):
        findings.append(Finding("bundle", name, "is not listed in SHA256SUMS"))
    try:
        manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        findings.append(Finding("bundle", "manifest.json", f"cannot be read: {exc}"))
        return VerifyReport(f"bundle {root}", {"files": len(sums)}, tuple(findings))
    if manifest.get("format") != FORMAT:
        findings.append(Finding("bundle", "manifest.json",
                                f"format {manifest.get('format')!r} is not {FORMAT}"))

    entries: list[LogEntry] = []
    log_path = root / "log.jsonl"
    if log_path.is_file():
        entries, found = _read_log(log_path)
        findings += found
    findings += check_chain(entries, complete=False)
    findings += check_commitments(entries)
    index = index_log(entries)

    snapshots: dict[int, Snapshot] = {}
    for s in manifest.get("snapshots", []):
        folder = inside(root, s.get("folder"))
        if folder is None:
            findings.append(Finding("snapshot", f"snapshot {s.get('id')}",
                                    f"its folder {s.get('folder')!r} is outside the bundle; "
                                    f"not read"))
            continue
        try:
            snap_manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        except (OSError, ValueError) as exc:
            findings.append(Finding("snapshot", f"snapshot {s['id']}", f"no manifest: {exc}"))
            continue
        files = {name: path.read_bytes() for name in snap_manifest.get("files", {})
                 if (path := inside(folder, name)) is not None and path.is_file()}
        snap = Snapshot(int(s["id"]), s["period"], s["scope"], s["digest"], snap_manifest, files)
        snapshots[snap.id] = snap
        findings += check_snapshot(snap, None, index.get(("snapshot", str(snap.id)), []))

    n_events = 0
    for m in manifest.get("draws", []):
        d = DrawRecord(int(m["id"]), m["period"], m["scope"], m["subject"], int(m["snapshot"]),
                       m["seed"], m["seed_source"], m["algorithm"], m["params"], None,
                       m["output_sha256"], m["status"], m["reason"], m["created_at"])
        subject = draw_label(d)
        say(f"checking {subject}")
        found_path = inside(root, m["output"])
        if found_path is None:
            findings.append(Finding("draw", subject, f"output file {m['output']!r} is outside "
                                                     f"the bundle; not read"))
            continue
        path = found_path
        if not path.is_file():
            findings.append(Finding("draw", subject, f"output file {m['output']} is missing"))
            continue
        snap = snapshots.get(d.snapshot_id)
        if snap is None:
            findings.append(Finding("draw", subject, f"its snapshot {d.snapshot_id} is not in "
                                                     f"the bundle"))
        elif m.get("snapshot_digest") != snap.digest:
            findings.append(Finding("draw", subject, "names a different snapshot digest than "
                                                     "the snapshot in the bundle"))
        events = []
        for ev in m.get("events", []):
            ev_path = inside(root, ev["output"])
            if ev_path is None:
                findings.append(Finding("draw", subject, f"event output {ev['output']!r} is "
                                                         f"outside the bundle; not read"))
            events.append({**ev, "output": ev_path.read_text("utf-8")
                           if ev_path is not None and ev_path.is_file() else ""})
        n_events += len(events)
        findings += check_draw(d, path.read_bytes(), snap, index, events, recompute,
                               "the output file does not hash to the recorded output digest",
                               registry)

    notes = []
    if manifest.get("log_head"):
        head = manifest["log_head"]
        notes.append(f"log head when the bundle was written: entry {head['seq']}, hash "
                     f"{head['hash']} (compare with the published head)")
    checked = {"files": len(sums), "log entries": len(entries), "snapshots": len(snapshots),
               "draws": len(manifest.get("draws", [])), "events": n_events}
    return VerifyReport(f"bundle {root}", checked, tuple(findings), tuple(notes))


def _readme(period: str, manifest: dict[str, Any]) -> str:
    draws = "\n".join(
        f"| {d['id']} | {d['scope']} | {d['subject'] or '—'} | {d['status']} | `{d['seed']}` | "
        f"`{d['snapshot_digest'][:16]}…` | `{d['output_sha256'][:16]}…` |"
        for d in manifest["draws"])
    return f"""# suiji audit bundle · 审计材料包 · {period}

This folder lets you check every draw of {period} without the bureau's
database. 本材料包供审计、纪检人员在不接触业务数据库的情况下独立核验 {period} 的全部抽取。

## Draws 抽取记录

| draw | scope | subject | status | seed 种子 | snapshot 快照摘要 | output 结果摘要 |
|---|---|---|---|---|---|---|
{draws}

## Check it with suiji 用 suiji 核验

    pip install suiji=={manifest['suiji']}
    suiji verify --bundle .

It checks every file against `SHA256SUMS`, each snapshot's files against its
manifest and the manifest against the published snapshot digest, each log
entry's hash, that the log records the same seeds and digests, and recomputes
every draw and event from the frozen inputs and the seed, byte for byte.

## Check it by hand 手工核验

1. `sha256sum -c SHA256SUMS` — no file was changed.
2. For each snapshot folder: `sha256sum` of each file equals `manifest.json`;
   the SHA-256 of `manifest.json` (exact bytes) is the snapshot digest that was
   published before the seed was chosen (快照摘要须与抽取前公布的一致).
3. Each line of `log.jsonl` hashes (SHA-256 of the canonical JSON of
   seq, at, action, period, details, digests, prev) to its `hash`; consecutive
   entries link through `prev`.
4. Reimplement the draws from `ALGORITHM.md` in any language and compare your
   output with `outputs/draw-<id>.json`. The unweighted strata can be checked
   with Rivest's public `consistent_sampler` package, as `ALGORITHM.md`
   (section verification) shows.

Files: `manifest.json` (all draws, params, seeds, digests), `seeds.csv`,
`snapshots/` (frozen inputs, canonical CSV, UTF-8), `outputs/`, `log.jsonl`,
`results.csv`, `ALGORITHM.md`. This bundle holds internal data (names,
inspector assignments): it is for auditors, not for publication.
"""
