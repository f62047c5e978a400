"""Crashes: ``suiji`` killed with SIGKILL at random points of imports, freezes and draws.

Each step is one ``BEGIN IMMEDIATE`` transaction on a WAL database with
``synchronous=FULL`` (data/store.py), so after any kill the database must be
exactly as before the step or exactly as after it: never half an import, a
snapshot without its log entry, or a draw without its record. The loop cycles
import → freeze → draw (a step killed before its commit is tried again with a
new delay), checks SQLite's integrity and the state after every kill, and
ends with ``suiji verify`` recomputing every draw that survived.

Where a kill lands depends on the machine: a loaded 2-core PC may take
seconds to start Python before the transaction opens. So the test first
measures, on a scratch copy of the database, how long each step takes here to
take the write lock, how long it holds it and when the process exits, and it
keeps widening these timings with what it observes during the run. Half of the
kills are aimed: the test waits until the process holds the write lock (its
transaction is open) and kills it at once or at a random moment within the
measured transaction (which may fall after the commit); the others come at a
random time over the measured run, start-up and parsing included. A step
killed before its commit twice in a row is next killed just after its commit
(the lock seen released), so every step eventually lands after a commit. The
check on each kill stays strict: exactly the state before or exactly the
state after, whatever the timing.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from suiji.data.audit import verify_store
from suiji.data.importers import import_file
from suiji.data.snapshot import SCOPE_INPUTS
from suiji.data.store import Store
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.city import INSPECTION_KINDS, frozen_city, renamed_companies
from tests.fixtures.clock import suiji_on

SUIJI = str(Path(sys.executable).with_name("suiji"))
PERIOD = "2026Q4"
CYCLE = ("import", "freeze", "draw")
ACTIONS = {"import": {"import"}, "freeze": {"freeze"}, "draw": {"draw", "redraw"}}
LATE_AFTER = 2  # a step killed before its commit this many times in a row is killed after it
POLL = 0.004  # seconds between looks at the write lock
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


@dataclass
class Timing:
    """How long one kind of step takes on this machine (seconds from the process's start)."""

    lock: float  # until its transaction holds the write lock (start-up, reading, parsing)
    hold: float  # how long it holds the lock
    exit: float  # until the process exits

    def widen(self, watch: Watch) -> None:
        """Take in what one run showed: the windows only grow (the load may rise)."""
        if watch.locked_at is not None:
            self.lock = max(self.lock, watch.locked_at)
            if watch.released_at is not None:
                self.hold = max(self.hold, watch.released_at - watch.locked_at)
        if watch.exited_at is not None:
            self.exit = max(self.exit, watch.exited_at)

    @property
    def run(self) -> float:
        """How long a whole run may take: the slowest exit or the slowest lock and hold seen."""
        return max(self.exit, self.lock + self.hold)


@dataclass
class Watch:
    """What the test saw of one process: when it took and released the write lock, exited."""

    start: float
    locked_at: float | None = None
    released_at: float | None = None
    exited_at: float | None = None

    def phase(self) -> str:
        """Where a kill now lands: before the transaction, inside it, or after its commit."""
        if self.locked_at is None:
            return "start-up"
        return "transaction" if self.released_at is None else "after-commit"


def _watch(proc: subprocess.Popen[bytes], db: Path, watch: Watch,
           done: Callable[[Watch, float], bool]) -> None:
    """Look at the write lock every POLL seconds until ``done(watch, elapsed)`` or the exit."""
    while True:
        elapsed = time.monotonic() - watch.start
        if proc.poll() is not None:
            watch.exited_at = elapsed
            return
        if done(watch, elapsed):
            return
        held = _lock_held(db)
        if held and watch.locked_at is None:
            watch.locked_at = elapsed
        elif not held and watch.locked_at is not None and watch.released_at is None:
            watch.released_at = elapsed
        time.sleep(POLL)


def _kill(proc: subprocess.Popen[bytes], db: Path, rng: random.Random, timing: Timing,
          mode: str) -> tuple[str, Watch]:
    """SIGKILL the process as ``mode`` says; how it went ("finished" if it exited first).

    ``aimed``: once its transaction is seen open, at once or within the measured
    transaction (1.5 times its length, so some kills fall after the commit).
    ``timed``: at a random time over the measured run (1.25 times its length).
    ``late``: as soon as the lock is seen released, after the commit.
    """
    watch = Watch(time.monotonic())
    if mode == "aimed":
        extra = 0.0 if rng.random() < 0.5 else rng.uniform(0.0, 1.5 * timing.hold)
        _watch(proc, db, watch, lambda w, t: w.locked_at is not None and t >= w.locked_at + extra)
    elif mode == "timed":
        at = rng.uniform(0.0, 1.25 * timing.run)
        _watch(proc, db, watch, lambda w, t: t >= at)
    else:
        _watch(proc, db, watch, lambda w, t: w.released_at is not None)
    phase = watch.phase()
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=300)
    if proc.returncode != -signal.SIGKILL:
        if watch.exited_at is None:  # it exited between the last look and the kill
            watch.exited_at = time.monotonic() - watch.start
        return "finished", watch
    return f"{mode}@{phase}", watch


def _start(db: Path, args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SUIJI_DB"}
    # on 2026-09-25 (tests/fixtures/clock.py), before the quarter: the plan may use all of it
    return subprocess.Popen([*suiji_on("2026-09-25"), "--db", str(db), "-q", *args], cwd=cwd,
                            env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _args(what: str, city: dict[str, Path], companies: str, seed: str) -> list[str]:
    return {"import": ["import", "companies", str(city[companies])],
            "freeze": ["freeze", "--period", PERIOD],
            "draw": ["draw", "inspections", "--period", PERIOD, "--seed", seed.rjust(20, "0"),
                     "--redraw",
                     "--reason", "crash test"]}[what]


def _measure(city: dict[str, Path], tmp_path: Path) -> dict[str, Timing]:
    """Each step once, unkilled, on a scratch copy: its timings on this machine, now."""
    db = tmp_path / "measure.db"
    db.write_bytes(city["db"].read_bytes())
    out = {}
    for what in CYCLE:
        proc = _start(db, _args(what, city, "b", "1"), tmp_path)
        watch = Watch(time.monotonic())
        _watch(proc, db, watch, lambda w, t: False)
        assert proc.stderr is not None
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        assert proc.wait() == 0, f"{what} failed: {err}"
        out[what] = Timing(lock=watch.locked_at or 0.0, hold=0.0, exit=watch.exited_at or 0.0)
        out[what].widen(watch)
    return out


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
    timings = _measure(city, tmp_path)
    step = 0
    misses = 0  # kills of the current step in a row that left the state before
    next_file = "b"
    seen: dict[str, set[str]] = {"before": set(), "after": set()}
    landed: list[str] = []  # every kill: step, mode@phase, outcome (in failure messages)
    for i in range(iterations):
        what = CYCLE[step % len(CYCLE)]
        before = State.read(db)
        proc = _start(db, _args(what, city, next_file, f"{seed}{i:04d}"), tmp_path)
        mode = "late" if misses >= LATE_AFTER else rng.choice(("aimed", "timed"))
        how, watch = _kill(proc, db, rng, timings[what], mode)
        timings[what].widen(watch)
        assert proc.stderr is not None
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        if how == "finished":
            assert proc.returncode == 0, f"{what} failed without a kill: {err}"
        after = State.read(db)
        if after == before:
            seen["before"].add(f"{what}/{how}")
            landed.append(f"{what} {how} before")
            misses += 1
            continue
        landed.append(f"{what} {how} after")
        misses = 0
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
    where = f"{seen}\nkills: {landed}\ntimings: {timings}"
    assert seen["before"] and seen["after"], where
    assert any("@transaction" in s for s in seen["before"]), where
    env = {k: v for k, v in os.environ.items() if k != "SUIJI_DB"}
    proc_verify = subprocess.run([SUIJI, "--db", str(db), "verify"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=300, check=False)
    assert proc_verify.returncode == 0, proc_verify.stdout + proc_verify.stderr
    assert "All good" in proc_verify.stdout
    assert step >= 3, where  # at least one whole import, freeze and draw went through


def test_sigkill_leaves_the_database_before_or_after(city: dict[str, Path],
                                                     tmp_path: Path) -> None:
    run_crashes(city, tmp_path, iterations=20, seed=2026)


@pytest.mark.slow
def test_sigkill_many_times(city: dict[str, Path], tmp_path: Path) -> None:
    run_crashes(city, tmp_path, iterations=120, seed=77)
