from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from suiji.data.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.init(tmp_path / "t.db")
    yield s
    s.close()
