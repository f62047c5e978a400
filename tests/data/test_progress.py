"""Progress on stderr: shown on a terminal, silent with --quiet and when stderr is not a terminal.

The CLI runs in a real process whose stderr is a pseudo-terminal (``pty``), so
``isatty()`` is true exactly as in a user's shell; stdout stays a pipe, so the
data never mixes with the progress.
"""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from suiji.data import progress as progress_module
from suiji.data.progress import Progress, set_quiet
from tests.fixtures.city import INSPECTION_KINDS, frozen_city

SUIJI = str(Path(sys.executable).with_name("suiji"))
ERASE = "\x1b[2K"


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def loud() -> Iterator[None]:
    """Progress enabled as the CLI leaves it without --quiet; restored afterwards."""
    before = progress_module._ENABLED
    set_quiet(False)
    yield None
    progress_module._ENABLED = before


def test_progress_shows_on_a_terminal_only(loud: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUIJI_QUIET", raising=False)
    set_quiet(False)
    tty, pipe = _Stream(True), _Stream(False)
    for stream in (tty, pipe):
        with Progress("读取 reading x.csv", total=200, stream=stream) as p:
            p.advance(100)
            time.sleep(0.11)  # past the 10 Hz throttle
            p.advance(100)
            p.step("写入 writing")
    assert pipe.getvalue() == ""
    shown = tty.getvalue()
    assert "读取 reading x.csv: 0/200 (0%)" in shown
    assert "200/200 (100%)" in shown
    assert "写入 writing" in shown and "done in" in shown
    assert shown.endswith("\n") and shown.count("\n") == 1  # redrawn in place, one final line


def test_a_library_import_shows_progress_only_when_asked(
        loud: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from suiji.data.errors import InputFileError
    from suiji.data.importers import import_file
    from suiji.data.store import Store

    monkeypatch.delenv("SUIJI_QUIET", raising=False)
    set_quiet(False)
    csv = tmp_path / "positive.csv"
    csv.write_text("uscc,start,end\n", "utf-8")
    store = Store.init(tmp_path / "p.db")
    try:
        for asked in (False, True):
            tty = _Stream(True)
            monkeypatch.setattr(sys, "stderr", tty)
            with pytest.raises(InputFileError, match="no data rows"):
                import_file(store, "positive-list", csv, progress=asked)
            assert ("读取 reading positive.csv" in tty.getvalue()) is asked
    finally:
        store.close()


def test_quiet_silences_even_a_terminal(loud: None, monkeypatch: pytest.MonkeyPatch) -> None:
    tty = _Stream(True)
    set_quiet(True)
    with Progress("x", stream=tty) as p:
        p.advance(5)
    assert tty.getvalue() == ""
    monkeypatch.setenv("SUIJI_QUIET", "1")
    set_quiet(False)
    with Progress("x", stream=tty) as p:
        p.advance(5)
    assert tty.getvalue() == ""
    monkeypatch.setenv("SUIJI_QUIET", "0")
    set_quiet(False)
    with Progress("x", stream=tty):
        pass
    assert "x: done in" in tty.getvalue()


def test_throttled_to_ten_per_second(loud: None) -> None:
    tty = _Stream(True)
    with Progress("n", total=10**6, stream=tty) as p:
        for _ in range(10_000):
            p.advance(100)
    # Enter and exit always draw; 10,000 fast advances draw at most a few times between.
    assert tty.getvalue().count(ERASE) <= 2 + 10


# --- the CLI on a pseudo-terminal ---------------------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("progress")
    paths, db = frozen_city(folder, INSPECTION_KINDS, ("inspections",), firms=3000,
                            inspectors=60, projects=30, agencies=8, experts=30)
    return {"folder": folder, "db": db, **paths}


def _fresh_db(city: dict[str, Path], tmp_path: Path) -> str:
    db = tmp_path / "t.db"
    db.write_bytes(city["db"].read_bytes())
    return str(db)


def run_on_tty(args: list[str], cwd: Path, tty: bool = True) -> tuple[int, str, str]:
    """Run suiji with stderr on a pseudo-terminal (or a pipe); (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SUIJI_QUIET", "SUIJI_DB")}
    if not tty:
        proc = subprocess.run([SUIJI, *args], cwd=cwd, env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=120, check=False)
        return (proc.returncode, proc.stdout.decode("utf-8", "replace"),
                proc.stderr.decode("utf-8", "replace"))
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([SUIJI, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=slave)
    finally:
        os.close(slave)
    assert proc.stdout is not None
    out, err = bytearray(), bytearray()
    fds = {master: err, proc.stdout.fileno(): out}
    deadline = time.monotonic() + 120
    while fds and time.monotonic() < deadline:
        ready, _, _ = select.select(list(fds), [], [], 1.0)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's other end closed
                chunk = b""
            if chunk:
                fds[fd] += chunk
            else:
                del fds[fd]
    os.close(master)
    proc.stdout.close()
    code = proc.wait(timeout=60)
    return code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def test_import_shows_progress_on_a_terminal(city: dict[str, Path], tmp_path: Path) -> None:
    db = _fresh_db(city, tmp_path)
    code, out, err = run_on_tty(["--db", db, "import", "companies", str(city["companies"])],
                                tmp_path)
    assert code == 0, err
    assert "读取 reading companies.csv" in err and "写入 writing companies" in err
    assert "done in" in err and ERASE in err
    assert "3,000 rows" in out and ERASE not in out  # stdout stays data


def test_import_is_silent_when_quiet_or_piped(city: dict[str, Path], tmp_path: Path) -> None:
    db = _fresh_db(city, tmp_path)
    code, out, err = run_on_tty(["--db", db, "--quiet", "import", "companies",
                                 str(city["companies"])], tmp_path)
    assert code == 0 and err == ""
    assert "version 2" in out
    code, out, err = run_on_tty(["--db", db, "import", "companies", str(city["companies"])],
                                tmp_path, tty=False)
    assert code == 0, err
    assert "version 3" in out
    assert ERASE not in err and "reading" not in err and "done in" not in err


def test_draw_freeze_verify_and_bundle_show_progress(city: dict[str, Path],
                                                     tmp_path: Path) -> None:
    db = _fresh_db(city, tmp_path)
    code, _, err = run_on_tty(["--db", db, "freeze", "--period", "2026Q4"], tmp_path)
    assert code == 0, err
    assert "冻结 freezing" in err and "done in" in err
    code, _, err = run_on_tty(["--db", db, "draw", "inspections", "--period", "2026Q4",
                               "--seed", "31415926535897932384"], tmp_path)
    assert code == 0, err
    for label in ("抽取 drawing the 2026Q4 plan", "核对 checking the inputs", "抽取企业 firm draw",
                  "排班 teams", "done in"):
        assert label in err, label
    code, _, err = run_on_tty(["--db", db, "verify", "--period", "2026Q4"], tmp_path)
    assert code == 0, err
    assert "checking the log chain" in err and "done in" in err
    code, _, err = run_on_tty(["--db", db, "audit-bundle", "--period", "2026Q4", "-o",
                               str(tmp_path / "bundle")], tmp_path)
    assert code == 0, err
    assert "审计材料 audit bundle" in err and "done in" in err


def test_draw_verify_and_bundle_are_silent_when_piped(city: dict[str, Path],
                                                      tmp_path: Path) -> None:
    db = _fresh_db(city, tmp_path)
    steps = [["freeze", "--period", "2026Q4"],
             ["draw", "inspections", "--period", "2026Q4", "--seed", "27182818284590452353"],
             ["verify", "--period", "2026Q4"],
             ["audit-bundle", "--period", "2026Q4", "-o", str(tmp_path / "bundle")]]
    for args in steps:
        code, out, err = run_on_tty(["--db", db, *args], tmp_path, tty=False)
        assert code == 0, err
        assert out.strip()
        assert ERASE not in err and "done in" not in err and "checking" not in err, args
    for args in steps[1:3]:
        code, out, err = run_on_tty(["--db", db, "-q", *args], tmp_path, tty=True)
        if args[0] == "draw":
            assert code == 1 and "already drawn" in err  # errors still speak when quiet
            continue
        assert code == 0 and err == "", (args, err)


def test_an_observer_sees_every_progress_of_its_thread_without_a_terminal() -> None:
    seen: list[tuple[str, int, int | None]] = []
    stream = _Stream(tty=False)
    with (progress_module.observe(lambda label, done, total: seen.append((label, done, total))),
          Progress("导入 companies", total=4, stream=stream) as p):
        p.advance(2)
        p.step("写入 writing")
    with Progress("after", stream=stream) as p:
        p.advance()
    assert stream.getvalue() == ""
    assert seen[0] == ("导入 companies", 0, 4)
    assert ("写入 writing", 2, 4) in seen
    assert all(label != "after" for label, _, _ in seen)
