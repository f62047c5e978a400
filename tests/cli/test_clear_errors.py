"""Tracebacks that became clear messages: a full disk, a symlinked -o, a damaged schema
version, malformed or escaping bundle lines, and a read-only database."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from suiji.cli.main import cli
from suiji.data.bundle import SUMS, verify_bundle, write_bundle
from suiji.data.store import Store, sha256_hex
from tests.fixtures.audit_world import WORLD_REGISTRY


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args])


def log_size(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM log").fetchone()[0])


def assert_clean(result: Result, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output


def test_a_full_disk_during_export_is_a_message_and_no_trail_entry(
        world: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = world.store.path  # type: ignore[attr-defined]
    out = tmp_path / "plan.csv"
    assert run(db, "export", "plan", "-p", "2026Q4", "--format", "csv", "-o",
               str(out)).exit_code == 0
    before, entries = out.read_bytes(), log_size(db)
    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:  # type: ignore[override]
        if self.name.startswith(".plan.csv.tmp"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    res = run(db, "export", "plan", "-p", "2026Q4", "--format", "csv", "-o", str(out))
    assert_clean(res, "could not be written (the disk is full)", "Nothing was exported")
    assert out.read_bytes() == before and log_size(db) == entries
    assert not list(tmp_path.glob(".plan.csv.tmp*"))


def test_an_output_that_is_a_symlink_is_refused(world: object, tmp_path: Path) -> None:
    db = world.store.path  # type: ignore[attr-defined]
    target = tmp_path / "elsewhere.csv"
    target.write_text("keep", "utf-8")
    link = tmp_path / "plan.csv"
    link.symlink_to(target)
    entries = log_size(db)
    res = run(db, "export", "plan", "-p", "2026Q4", "--format", "csv", "-o", str(link))
    assert_clean(res, "is a symbolic link", "Nothing was exported")
    assert link.is_symlink() and target.read_text("utf-8") == "keep"
    assert log_size(db) == entries
    dangling = tmp_path / "report"
    dangling.symlink_to(tmp_path / "missing-folder")
    assert_clean(run(db, "report", "-p", "2026Q4", "-o", str(dangling)), "symbolic link")


def test_a_schema_version_that_is_not_a_number(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    Store.init(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = 'two' WHERE key = 'schema_version'")
    assert_clean(run(db, "log"), "schema version 'two' is not a number", "backup")


@pytest.fixture
def bundle(world: object, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    write_bundle(world.store, "2026Q4", out,  # type: ignore[attr-defined]
                 registry=WORLD_REGISTRY)
    return out


def _resum(root: Path, extra: str = "") -> None:
    lines = [f"{sha256_hex(p.read_bytes())}  {p.relative_to(root).as_posix()}\n"
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != SUMS]
    (root / SUMS).write_text("".join(lines) + extra, "utf-8")


def test_malformed_bundle_lines_are_findings(bundle: Path) -> None:
    log = bundle / "log.jsonl"
    lines = log.read_text("utf-8").splitlines()
    lines[1] = lines[1][:40]  # cut short
    lines.insert(2, json.dumps({"seq": 99}))
    log.write_text("\n".join(lines) + "\n", "utf-8")
    _resum(bundle, "not a checksum line\n")
    report = verify_bundle(bundle, WORLD_REGISTRY)
    findings = {(f.subject, f.problem.split(" (")[0]) for f in report.findings}
    assert ("log.jsonl line 2", "is not a log entry") in findings
    assert ("log.jsonl line 3", "is not a log entry") in findings
    assert any(s.startswith(f"{SUMS} line") and p == "is not '<sha256>  <file>': "
               "'not a checksum line'" for s, p in findings), findings
    res = CliRunner().invoke(cli, ["verify", "--bundle", str(bundle)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "log.jsonl line 2" in res.output


def test_bundle_paths_cannot_leave_the_bundle(bundle: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside", "utf-8")
    manifest_path = bundle / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["draws"][0]["output"] = "../secret.txt"
    manifest["snapshots"][0]["folder"] = "../"
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    _resum(bundle, f"{sha256_hex(secret.read_bytes())}  ../secret.txt\n")
    findings = verify_bundle(bundle, WORLD_REGISTRY).findings
    problems = {f.subject: f.problem for f in findings}
    assert "outside the bundle" in problems["../secret.txt"]
    assert any("'../secret.txt' is outside the bundle; not read" in f.problem for f in findings)
    assert any("folder '../' is outside the bundle" in f.problem for f in findings)
    (bundle / "escape.csv").symlink_to(secret)  # a link inside that leads out
    _resum(bundle)
    assert any(f.subject == "escape.csv" and "outside" in f.problem
               for f in verify_bundle(bundle, WORLD_REGISTRY).findings)


def _read_only(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    """Make ``db`` read-only as SQLite sees it: file modes for an ordinary user; root
    writes through modes, so there SQLite opens the file read-only (``mode=ro``)."""
    if os.geteuid() != 0:
        db.chmod(0o444)
        db.parent.chmod(0o555)
        return
    real = sqlite3.connect

    def connect(path: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        return real(f"file:{path}?mode=ro", *args, uri=True, **kwargs)  # type: ignore[misc]

    monkeypatch.setattr(sqlite3, "connect", connect)


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_a_read_only_database_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      journal: str) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "s.db"
    Store.init(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA journal_mode={journal}")
    _read_only(monkeypatch, db)
    try:
        res = run(str(db), "freeze", "-p", "2026Q4")
    finally:
        folder.chmod(0o755)
    assert_clean(res, "cannot be written", "read")
    assert "not a suiji database" not in res.output
