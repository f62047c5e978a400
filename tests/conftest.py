from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from suiji.data.store import Store

if TYPE_CHECKING:
    from test_audit_world import World


class Clock:
    """A stand-in for the wall clock of the record: starts at a moment, ticks a
    millisecond per reading, and can be moved forward (never back)."""

    def __init__(self, start: str) -> None:
        self.now = datetime.fromisoformat(start).replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def at(self, moment: str) -> None:
        later = datetime.fromisoformat(moment).replace(tzinfo=UTC)
        assert later >= self.now, "the clock of the record never goes back"
        self.now = later


@contextmanager
def fixed_clock(start: str) -> Iterator[Clock]:
    """Fix the time the record is written at (``suiji.data.store.utc_now``): the test
    suite's only way to date a record; no option of suiji changes it."""
    import suiji.data.store as store_module

    clock = Clock(start)
    real = store_module._wall_clock
    store_module._wall_clock = clock
    try:
        yield clock
    finally:
        store_module._wall_clock = real


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.init(tmp_path / "t.db")
    yield s
    s.close()


@pytest.fixture
def fake_algorithms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small registered draw functions for the audit tests (see test_audit_world.py)."""
    from test_audit_world import install_fake_algorithms

    install_fake_algorithms(monkeypatch)


@pytest.fixture
def world(store: Store, fake_algorithms: None) -> World:
    """A small period with draws, events and log entries (see test_audit_world.py)."""
    from test_audit_world import build_world

    return build_world(store)


INSPECTION_KINDS = ("companies", "inspectors", "inspector-leave", "conflicts", "inspections",
                    "positive-list")


def frozen_city(folder: Path, kinds: tuple[str, ...], scopes: tuple[str, ...],
                **sizes: int) -> tuple[dict[str, Path], Path]:
    """A generated city (sample/generate.py) with ``kinds`` imported and ``scopes`` frozen
    for 2026Q4 under the default rules: (the city's files, the database)."""
    from suiji.data.importers import import_file
    from suiji.data.period import Period
    from suiji.data.rules import parse_rules, preset_text
    from suiji.data.snapshot import freeze
    from suiji.sample.generate import generate_city

    paths = generate_city(folder / "city", **sizes)
    db = folder / "frozen.db"
    store = Store.init(db)
    try:
        for kind in kinds:
            import_file(store, kind, paths[kind])
        for scope in scopes:
            freeze(store, Period.parse("2026Q4"), scope,
                   parse_rules(preset_text("default"), "built-in default rules"))
    finally:
        store.close()
    return paths, db


def renamed_companies(source: Path, target: Path, every: int, offset: int) -> Path:
    """A copy of a generated companies file (GB18030) with every ``every``-th firm renamed
    (its name gets （更名）): a new version of the directory to import."""
    lines = source.read_bytes().decode("gb18030").splitlines(keepends=True)
    changed = [line.replace(",", "（更名）,", 2).replace("（更名）,", ",", 1)
               if i % every == offset else line for i, line in enumerate(lines)]
    assert changed != lines
    target.write_bytes("".join(changed).encode("gb18030"))
    return target
