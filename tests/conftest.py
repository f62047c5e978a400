from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from suiji.data.store import Store

if TYPE_CHECKING:
    from tests.fixtures.audit_world import World


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
