"""Property: any single edit of the database, anywhere, is caught by ``suiji verify``.

A record with the real draws (plan, substitution, review sample, panels, decline),
results and scores is built once; each example copies it, changes one value (a random
table, a random row, a random column) the way sqlite3 would let an insider, and checks
that verification reports a difference, unless the database itself refuses the edit
(a foreign key, a unique key) or the column is one of the documented fields that
commit to nothing (README, "What verify checks"): internal row ids and the meta table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suiji.data.draws import current_draw, latest_output
from suiji.data.scores import panel_members, record_scores
from suiji.data.store import Store
from suiji.data.verify import verify_store
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.audit_world import RULES, P
from tests.fixtures.clock import fixed_clock
from tests.fixtures.real_world import build_real

# Fields no verification can commit to (README, "What verify checks"): row ids that are
# internal numbering only, and the meta table (its schema version is checked on open).
NOT_COMMITTED = {("results", "id"), ("scores", "id"), ("imports", "id")}
NOT_COMMITTED_TABLES = {"meta"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tamper") / "record.db"
    store = Store.init(path)
    build_real(store)
    with fixed_clock("2026-12-11T01:00:00"):
        panels = current_draw(store, str(P), "panels", "2026-12-10")
        assert panels is not None
        rows = [{"expert_id": e, "project_id": p, "meeting": "2026-12-10", "score": "80",
                 "deduction": "2" if i == 0 else "0", "note": "意见完整"}
                for i, (e, p) in enumerate(panel_members(latest_output(store, panels)))]
        record_scores(store, pd.DataFrame(rows), file_name="评分.xlsx", file_sha256="a" * 64,
                      rules=RULES)
    assert verify_store(store, REGISTRY).ok
    store.close()
    return path


def _tables(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        out = []
        for name in names:
            if name in NOT_COMMITTED_TABLES:
                continue
            if not conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]:
                continue
            cols = [(r[1], r[2].upper()) for r in conn.execute(f'PRAGMA table_info("{name}")')]
            out.append((name, cols))
        return out
    finally:
        conn.close()


def _changed(value: Any, declared: str) -> Any:
    """A different value of the same kind, as an edit with sqlite3 would write."""
    if value is None:
        return 1 if "INT" in declared or "REAL" in declared else "x"
    if isinstance(value, bytes):
        return value[:-1] + bytes([value[-1] ^ 0x01]) if value else b"x"
    if isinstance(value, int):
        return value + 1000
    if isinstance(value, float):
        return value + 0.5
    return str(value) + "x" if str(value) else "x"


def test_tables_cover_the_whole_record(template: Path) -> None:
    names = {t for t, _ in _tables(template)}
    assert {"log", "draws", "draw_events", "snapshots", "snapshot_files", "imports", "results",
            "scores", "dir_companies", "dir_experts"} <= names


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_single_edit_is_caught_or_refused(template: Path, tmp_path: Path,
                                               data: st.DataObject) -> None:
    tables = _tables(template)
    table, columns = data.draw(st.sampled_from(tables), label="table")
    column, declared = data.draw(st.sampled_from(columns), label="column")
    target = tmp_path / f"edit-{table}-{column}.db"
    if target.exists():
        target.unlink()
    src, dst = sqlite3.connect(template), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    store = Store.open(target)
    try:
        rowids = [r[0] for r in store.conn.execute(f'SELECT rowid FROM "{table}" ORDER BY rowid')]
        rowid = data.draw(st.sampled_from(rowids), label="row")
        (old,) = store.conn.execute(f'SELECT "{column}" FROM "{table}" WHERE rowid = ?',
                                    (rowid,)).fetchone()
        new = _changed(old, declared)
        try:
            store.conn.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?',
                               (new, rowid))
        except sqlite3.IntegrityError:
            return  # the database itself refuses this edit (a foreign or unique key)
        report = verify_store(store, REGISTRY)
        if (table, column) in NOT_COMMITTED:
            return
        assert not report.ok, (f"{table}.{column} of row {rowid}: {old!r} -> {new!r} "
                               f"was not caught")
    finally:
        store.close()
