"""Crashes: ``suiji`` killed with SIGKILL at random points of imports, freezes and draws.

Each step is one ``BEGIN IMMEDIATE`` transaction on a WAL database with
``synchronous=FULL`` (data/store.py), so after any kill the database must be
exactly as before the step or exactly as after it: never half an import, a
snapshot without its log entry, or a draw without its record. The loop cycles
import → freeze → draw (a step killed before its commit is tried again with a
new delay), checks SQLite's integrity and the state after every kill, and
ends with ``suiji verify`` recomputing every draw that survived.

Half of the kills are aimed: the test waits until the process holds the write
lock (its transaction is open) and kills it at once or a random moment later;
the others come at a random time from the start, parsing included.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from conftest import INSPECTION_KINDS, frozen_city, renamed_companies

from suiji.data.audit import verify_store
from suiji.data.importers import import_file
from suiji.data.snapshot import SCOPE_INPUTS
from suiji.data.store import Store
from suiji.scheduler.algorithms import REGISTRY

SUIJI = str(Path(sys.executable).with_name("suiji"))
PERIOD = "2026Q4"
CYCLE = ("import", "freeze", "draw")
ACTIONS = {"import": {"import"}, "freeze": {"freeze"}, "draw": {"draw", "redraw"}}
# About how long each step holds the write lock on the test city (seconds).
WINDOW = {"import": 0.08, "freeze": 0.15, "draw": 0.4}
FIRMS = 8_000
FROZEN_FILES = len(SCOPE_INPUTS["inspections"])


@dataclass(frozen=True)
class State:
    """What a step may change, read straight from SQLite."""

    log: int
    head: str
    imports: int
    companies_digest: str
    companies_rows: int  # every version's rows
    current_companies: int
    snapshots: int
    snapshot_files: int
    draws: int
    current_draw: int

    @staticmethod
    def read(db: Path) -> State:
        conn = sqlite3.connect(db, timeout=30.0)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            log, head = conn.execute(
                "SELECT COUNT(*), COALESCE((SELECT hash FROM log ORDER BY seq DESC LIMIT 1), '') "
                "FROM log").fetchone()
            imports = conn.execute("SELECT COUNT(*) FROM imports").fetchone()[0]
            digest = conn.execute("SELECT digest FROM imports WHERE kind = 'companies' "
                                  "ORDER BY version DESC LIMIT 1").fetchone()[0]
            rows, current_rows = conn.execute(
                "SELECT COUNT(*), COUNT(*) - COUNT(_to) FROM dir_companies").fetchone()
            snapshots = conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
            files = conn.execute("SELECT COUNT(*) FROM snapshot_files").fetchone()[0]
            draws, current = conn.execute(
                "SELECT COUNT(*), COALESCE(MAX(CASE WHEN status = 'current' THEN id END), 0) "
                "FROM draws").fetchone()
            return State(log, head, imports, digest, rows, current_rows, snapshots, files,
                         draws, current)
        finally:
            conn.close()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A mid-size city imported and frozen, and a second company directory to alternate with."""
    folder = tmp_path_factory.mktemp("crash")
    paths, db = frozen_city(folder, INSPECTION_KINDS, ("inspections",), firms=FIRMS,
                            inspectors=120, projects=30, agencies=8, experts=30)
    other = renamed_companies(paths["companies"], folder / "companies-b.csv", 7, 3)
    return {"db": db, "a": paths["companies"], "b": other}


def _lock_held(db: Path) -> bool:
    """Whether another connection holds the write lock (taking it for a moment if free)."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc) or "busy" in str(exc)
    else:
        conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()


def _kill_at_random(proc: subprocess.Popen[bytes], db: Path, rng: random.Random,
                    window: float) -> str:
    """SIGKILL the process, aimed inside its transaction or at a random time; how it went.

    ``window``: about how long the step's transaction lasts.
    """
    if rng.random() < 0.5:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and not _lock_held(db):
            time.sleep(0.004)
        # Half the aimed kills strike as soon as the transaction is seen open (its
        # length shrinks as the code gets faster), the rest somewhere inside it.
        time.sleep(0.0 if rng.random() < 0.5 else rng.uniform(0.0, window))
        how = "aimed"
    else:
        time.sleep(rng.uniform(0.1, 1.6))
        how = "timed"
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return how if proc.returncode == -signal.SIGKILL else "finished"


def _digests(city: dict[str, Path], tmp_path: Path) -> dict[str, str]:
    """The companies digest each file gives, from an import into a scratch database."""
    out = {}
    for name in ("a", "b"):
        scratch = Store.init(tmp_path / f"digest-{name}.db")
        try:
            out[name] = str(import_file(scratch, "companies", city[name])["digest"])
        finally:
            scratch.close()
    return out


def run_crashes(city: dict[str, Path], tmp_path: Path, iterations: int, seed: int) -> None:
    db = tmp_path / "crash.db"
    db.write_bytes(city["db"].read_bytes())
    digests = _digests(city, tmp_path)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    rng = random.Random(seed)
    env = {k: v for k, v in os.environ.items() if k != "SUIJI_DB"}
    step = 0
    next_file = "b"
    seen: dict[str, set[str]] = {"before": set(), "after": set()}
    for i in range(iterations):
        what = CYCLE[step % len(CYCLE)]
        args = {"import": ["import", "companies", str(city[next_file])],
                "freeze": ["freeze", "--period", PERIOD],
                "draw": ["draw", "inspections", "--period", PERIOD, "--seed",
                         f"{seed}{i:04d}", "--redraw", "--reason", "crash test"]}[what]
        before = State.read(db)
        proc = subprocess.Popen([SUIJI, "--db", str(db), "-q", *args], cwd=tmp_path, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        how = _kill_at_random(proc, db, rng, WINDOW[what])
        assert proc.stderr is not None
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        if how == "finished":
            assert proc.returncode == 0, f"{what} failed without a kill: {err}"
        after = State.read(db)
        if after == before:
            seen["before"].add(f"{what}/{how}")
            continue
        # Exactly one step's worth of change, and the whole of it.
        assert after.log == before.log + 1, (what, how, before, after)
        store = Store.open(db)
        try:
            action = store.log_entries()[-1].action
            report = verify_store(store, REGISTRY, recompute=False)
        finally:
            store.close()
        assert action in ACTIONS[what], (what, action)
        assert report.ok, [str(f) for f in report.findings]
        common = {"log": before.log + 1, "head": after.head}
        expected = {
            "import": replace(before, **common, imports=before.imports + 1,
                              companies_digest=digests[next_file],
                              companies_rows=after.companies_rows, current_companies=FIRMS),
            "freeze": replace(before, **common, snapshots=before.snapshots + 1,
                              snapshot_files=before.snapshot_files + FROZEN_FILES),
            "draw": replace(before, **common, draws=before.draws + 1,
                            current_draw=after.current_draw),
        }[what]
        assert after == expected, (what, how, before, after)
        if what == "draw":
            assert after.current_draw > before.current_draw
        if what == "import":
            next_file = "a" if next_file == "b" else "b"
        seen["after"].add(f"{what}/{how}")
        step += 1
    # Kills landed both before and after commits, and inside open transactions.
    assert seen["before"] and seen["after"], seen
    assert any(s.endswith("/aimed") for s in seen["before"]), seen
    proc_verify = subprocess.run([SUIJI, "--db", str(db), "verify"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=300, check=False)
    assert proc_verify.returncode == 0, proc_verify.stdout + proc_verify.stderr
    assert "All good" in proc_verify.stdout
    assert step >= 3  # at least one whole import, freeze and draw went through


def test_sigkill_leaves_the_database_before_or_after(city: dict[str, Path],
                                                     tmp_path: Path) -> None:
    run_crashes(city, tmp_path, iterations=20, seed=2026)


@pytest.mark.slow
def test_sigkill_many_times(city: dict[str, Path], tmp_path: Path) -> None:
    run_crashes(city, tmp_path, iterations=120, seed=77)
