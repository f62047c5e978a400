from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from suiji.data.store import Store
from tests.fixtures.clock import Calendar

if TYPE_CHECKING:
    from tests.fixtures.audit_world import World


@pytest.fixture(autouse=True)
def calendar(monkeypatch: pytest.MonkeyPatch) -> Calendar:
    """Every test runs on 2026-12-01 (the day issue 12 was tried), whatever the machine's
    clock says: the command line's today (``suiji.cli.main.today``) and the record's clock
    together (tests/fixtures/clock.py), so a plan drawn by a test has the same days left on
    any date and a recorded ``drawn_on`` agrees with the log's time. A test of other days
    moves it forward with ``calendar.on(day)``; no option of suiji sets the day."""
    return Calendar(monkeypatch, date(2026, 12, 1))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.init(tmp_path / "t.db")
    yield s
    s.close()


@pytest.fixture
def fake_algorithms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small registered draw functions for the audit tests (see tests/fixtures/audit_world.py)."""
    from tests.fixtures.audit_world import install_fake_algorithms

    install_fake_algorithms(monkeypatch)


@pytest.fixture
def world(store: Store, fake_algorithms: None) -> World:
    """A small period with draws, events and log entries (see tests/fixtures/audit_world.py)."""
    from tests.fixtures.audit_world import build_world

    return build_world(store)
