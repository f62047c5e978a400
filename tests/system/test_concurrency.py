"""Concurrent use: racing draws, imports beside draws and freezes, racing imports.

Every writing step runs in one ``BEGIN IMMEDIATE`` transaction (data/store.py),
so SQLite serialises them: whichever takes the write lock first runs whole,
the other waits and then sees the result. To make the race real rather than
hoped for, the test itself holds the write lock while the competing
``suiji`` processes start, and lets go once both are waiting for it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from suiji.data.canonical import canonical_csv
from suiji.data.draws import all_draws, current_draw
from suiji.data.importers import import_file
from suiji.data.period import Period
from suiji.data.schema import KINDS
from suiji.data.snapshot import latest_snapshot
from suiji.data.store import Store
from tests.fixtures.city import frozen_city, renamed_companies
from tests.fixtures.clock import suiji_on

SUIJI = str(Path(sys.executable).with_name("suiji"))
PERIOD = "2026Q4"
BUSY = "Another suiji process is writing to the database"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small city, imported and frozen for 2026Q4, and a changed company directory."""
    folder = tmp_path_factory.mktemp("concurrency")
    paths, db = frozen_city(folder, tuple(KINDS), ("inspections", "reviews"), firms=800,
                            inspectors=40, projects=60, agencies=10, experts=40)
    # The same directory with every tenth firm renamed: a new version of companies.
    renamed = renamed_companies(paths["companies"], folder / "companies-renamed.csv", 10, 1)
    return {"db": db, "renamed": renamed, **paths}


def fresh(city: dict[str, Path], tmp_path: Path) -> Path:
    db = tmp_path / "t.db"
    db.write_bytes(city["db"].read_bytes())
    return db


def start(db: Path, *args: str, cwd: Path, today: str = "2026-09-25"
          ) -> subprocess.Popen[str]:
    """``suiji`` in a new process, on the day ``today`` (tests/fixtures/clock.py): by
    default before the quarter, so a plan may use all of it."""
    env = {k: v for k, v in os.environ.items() if k != "SUIJI_DB"}
    return subprocess.Popen([*suiji_on(today), "--db", str(db), *args], cwd=cwd, env=env,
                            text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_until_connected(procs: list[subprocess.Popen[str]], db: Path,
                         limit: float = 60.0) -> None:
    """Until every process has the database open (so it is at, or about to be at, BEGIN)."""
    deadline = time.monotonic() + limit
    target = str(db.resolve())
    waiting = {p.pid for p in procs}
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                files = {f.path for f in psutil.Process(pid).open_files()}
            except psutil.NoSuchProcess:
                waiting.discard(pid)
                continue
            if target in files:
                waiting.discard(pid)
        time.sleep(0.02)
    assert not waiting, "the suiji processes never opened the database"
    time.sleep(0.3)  # from open to BEGIN IMMEDIATE: rules and the period parsed


class WriteLock:
    """Hold SQLite's write lock on ``db``, as a long import in another process would."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, timeout=30.0, isolation_level=None)

    def __enter__(self) -> WriteLock:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def verify(db: Path, cwd: Path) -> None:
    proc = subprocess.run([SUIJI, "--db", str(db), "verify"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All good" in proc.stdout


@pytest.mark.parametrize("scope", ["inspections", "reviews"])
def test_two_draws_of_one_period_give_exactly_one_plan(city: dict[str, Path], tmp_path: Path,
                                                       scope: str) -> None:
    db = fresh(city, tmp_path)
    seeds = ("11111111112222222222", "33333333334444444444")
    with WriteLock(db):
        today = "2027-01-04" if scope == "reviews" else "2026-09-25"  # after the close
        procs = [start(db, "draw", scope, "--period", PERIOD, "--seed", s, "--json",
                       cwd=tmp_path, today=today) for s in seeds]
        wait_until_connected(procs, db)
        assert all(p.poll() is None for p in procs)  # both blocked on the lock
    results = [finish(p) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    winner = next(i for i, (code, _, _) in enumerate(results) if code == 0)
    _, _, loser_err = results[1 - winner]
    assert "already drawn" in loser_err or "drawn by another process" in loser_err, loser_err
    assert "Traceback" not in loser_err
    store = Store.open(db)
    try:
        draws = all_draws(store, PERIOD)
        assert len(draws) == 1 and draws[0].status == "current"
        assert draws[0].seed == seeds[winner] and draws[0].scope == scope
        assert current_draw(store, PERIOD, scope) == draws[0]
        assert [e.action for e in store.log_entries()].count("draw") == 1
    finally:
        store.close()
    verify(db, tmp_path)


@pytest.mark.slow
def test_a_draw_waiting_too_long_exits_with_the_busy_message(city: dict[str, Path],
                                                             tmp_path: Path) -> None:
    db = fresh(city, tmp_path)
    with WriteLock(db):
        proc = start(db, "draw", "inspections", "--period", PERIOD, "--seed", "1", cwd=tmp_path)
        code, _, err = finish(proc)  # the store waits 30 s for the lock, then gives up
    assert code == 1 and BUSY in err and "Nothing was changed" in err
    assert "Traceback" not in err
    store = Store.open(db)
    try:
        assert all_draws(store) == []
    finally:
        store.close()


def _companies_digest(store: Store, version: int) -> str:
    frame = store.read("companies", version)
    return hashlib.sha256(canonical_csv(KINDS["companies"], frame)).hexdigest()


def test_import_beside_a_draw_never_feeds_the_draw(city: dict[str, Path],
                                                   tmp_path: Path) -> None:
    """Raced three times: the draw either uses the frozen inputs or is refused."""
    outcomes = set()
    for round_ in range(3):
        folder = tmp_path / str(round_)
        folder.mkdir()
        db = fresh(city, folder)
        with WriteLock(db):
            importing = start(db, "import", "companies", str(city["renamed"]), cwd=folder)
            drawing = start(db, "draw", "inspections", "--period", PERIOD, "--seed",
                            f"5555555555{round_}".ljust(20, "0"), "--json", cwd=folder)
            wait_until_connected([importing, drawing], db)
        imported, drawn = finish(importing), finish(drawing)
        assert imported[0] == 0, imported
        store = Store.open(db)
        try:
            assert store.current_version("companies") == 2
            frozen = latest_snapshot(store, Period.parse(PERIOD), "inspections")
            assert frozen.id == 1
            assert frozen.manifest["files"]["companies.csv"]["sha256"] == \
                _companies_digest(store, 1)
            draws = all_draws(store, PERIOD)
            if drawn[0] == 0:
                # The draw ran first, wholly on the frozen snapshot of version 1.
                outcomes.add("drawn")
                assert len(draws) == 1 and draws[0].snapshot_id == frozen.id
                assert draws[0].output["snapshot"] == frozen.digest
                old = store.read("companies", 1)
                names = dict(zip(old["uscc"], old["name"], strict=True))
                assert all(i["name"] == names[i["uscc"]] for i in draws[0].output["items"])
                assert [e.action for e in store.log_entries()][-2:] == ["draw", "import"]
            else:
                # The import committed first: the draw saw changed inputs and refused.
                outcomes.add("refused")
                assert drawn[0] == 1 and "inputs changed since the freeze" in drawn[2], drawn
                assert "companies.csv" in drawn[2] and "Traceback" not in drawn[2]
                assert draws == []
        finally:
            store.close()
        verify(db, folder)
    assert outcomes and outcomes <= {"drawn", "refused"}


def test_both_orders_of_import_and_draw(city: dict[str, Path], tmp_path: Path) -> None:
    """The two serial orders the race can produce, each shown deterministically."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # Import, then draw: refused, nothing drawn.
    db = fresh(city, tmp_path / "a")
    assert finish(start(db, "import", "companies", str(city["renamed"]), cwd=tmp_path))[0] == 0
    code, _, err = finish(start(db, "draw", "inspections", "--period", PERIOD, "--seed", "7" * 20,
                                cwd=tmp_path))
    assert code == 1 and "inputs changed since the freeze" in err and "companies.csv" in err
    # Draw, then import: the plan stays what the frozen inputs give, and verifies.
    db = fresh(city, tmp_path / "b")
    code, _, err = finish(start(db, "draw", "inspections", "--period", PERIOD, "--seed", "7" * 20,
                                cwd=tmp_path))
    assert code == 0, err
    assert finish(start(db, "import", "companies", str(city["renamed"]), cwd=tmp_path))[0] == 0
    verify(db, tmp_path)


def test_freeze_beside_an_import_sees_one_whole_version(city: dict[str, Path],
                                                        tmp_path: Path) -> None:
    db = fresh(city, tmp_path)
    with WriteLock(db):
        procs = [start(db, "import", "companies", str(city["renamed"]), cwd=tmp_path),
                 start(db, "freeze", "--period", PERIOD, cwd=tmp_path)]
        wait_until_connected(procs, db)
    results = [finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], results
    store = Store.open(db)
    try:
        snap = latest_snapshot(store, Period.parse(PERIOD), "inspections")
        assert snap.id == 3  # after the fixture's inspections and reviews freezes
        frozen = snap.manifest["files"]["companies.csv"]["sha256"]
        assert frozen in (_companies_digest(store, 1), _companies_digest(store, 2))
    finally:
        store.close()
    verify(db, tmp_path)


def test_racing_imports_are_serialised(city: dict[str, Path], tmp_path: Path) -> None:
    reference = Store.init(tmp_path / "reference.db")
    try:
        renamed_digest = import_file(reference, "companies", city["renamed"])["digest"]
    finally:
        reference.close()
    db = fresh(city, tmp_path)
    files = [city["renamed"], city["companies"], city["renamed"]]
    with WriteLock(db):
        procs = [start(db, "import", "companies", str(f), "--json", cwd=tmp_path) for f in files]
        wait_until_connected(procs, db)
    results = [finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    store = Store.open(db)
    try:
        versions = store.versions("companies")
        assert [v["version"] for v in versions] == [1, 2, 3, 4]
        original_digest = versions[0]["digest"]
        assert sorted(v["digest"] for v in versions[1:]) == sorted(
            [renamed_digest, original_digest, renamed_digest])
        entries = store.log_entries()
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert [e.action for e in entries].count("import") == len(KINDS) + 3
        assert len(store.read("companies")) == 800
    finally:
        store.close()
    verify(db, tmp_path)
