from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from suiji.data.errors import RemovalsNotConfirmedError, StoreError
from suiji.data.store import SCHEMA_VERSION, LogEntry, Store


def companies(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"uscc": u, "name": n, "district": d, "city": "江州市",
                          "category": "key", "industry": "化工", "status": "active",
                          "risk": ""} for u, n, d in rows])


def test_init_is_idempotent_and_versioned(tmp_path: Path) -> None:
    Store.init(tmp_path / "a.db").close()
    s = Store.init(tmp_path / "a.db")
    assert s.conn.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)
    assert [e.action for e in s.log_entries()] == ["init"]


def test_open_refuses_missing_newer_and_foreign(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="suiji init"):
        Store.open(tmp_path / "none.db")
    s = Store.init(tmp_path / "b.db")
    s.conn.execute("UPDATE meta SET value='99'")
    s.close()
    with pytest.raises(StoreError, match="newer suiji"):
        Store.open(tmp_path / "b.db")
    other = tmp_path / "c.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(StoreError, match="not a suiji database"):
        Store.open(other)


def test_replace_keeps_earlier_versions(store: Store) -> None:
    s1 = store.replace("companies", companies(("A", "甲", "一区"), ("B", "乙", "二区")))
    assert (s1.version, s1.inserted, s1.updated, s1.removed) == (1, 2, 0, 0)
    s2 = store.replace("companies", companies(("A", "甲公司", "一区"), ("C", "丙", "三区")))
    assert (s2.version, s2.inserted, s2.updated, s2.removed) == (2, 1, 1, 1)
    assert store.read("companies", 1)["name"].tolist() == ["甲", "乙"]
    assert store.read("companies")["name"].tolist() == ["甲公司", "丙"]
    assert store.read("companies", 2).equals(store.read("companies"))
    s3 = store.replace("companies", companies(("A", "甲公司", "一区"), ("C", "丙", "三区")))
    assert (s3.inserted, s3.updated, s3.removed) == (0, 0, 0)
    assert s3.digest == s2.digest


def test_removals_can_be_refused_until_confirmed(store: Store) -> None:
    store.replace("companies", companies(("A", "甲", "一区"), ("B", "乙", "二区")))
    entries = len(store.log_entries())
    with pytest.raises(RemovalsNotConfirmedError, match="would remove 1 of the 2") as caught:
        store.replace("companies", companies(("A", "甲公司", "一区"), ("C", "丙", "三区")),
                      max_removed_share=0.0)
    assert (caught.value.removed, caught.value.keys) == (1, ["B"])
    assert (caught.value.inserted, caught.value.updated) == (1, 1)
    assert store.current_version("companies") == 1
    assert len(store.log_entries()) == entries
    grown = store.replace("companies", companies(("A", "甲", "一区"), ("B", "乙", "二区"),
                                                 ("C", "丙", "三区")), max_removed_share=0.0)
    assert (grown.version, grown.inserted, grown.removed) == (2, 1, 0)


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    before = len(store.log_entries())
    with pytest.raises(RuntimeError), store.transaction():
        store.replace("companies", companies(("A", "甲", "一区")))
        raise RuntimeError("crash in the middle")
    assert store.current_version("companies") == 0
    assert store.read("companies").empty
    assert len(store.log_entries()) == before


def test_log_is_hash_chained(store: Store) -> None:
    store.replace("companies", companies(("A", "甲", "一区")))
    entries = store.log_entries()
    assert entries[0].prev == "0" * 64
    for prev, cur in zip(entries, entries[1:], strict=False):
        assert cur.prev == prev.hash
    for e in entries:
        assert e.hash == LogEntry.compute_hash(e.seq, e.at, e.action, e.period, e.details,
                                               e.digests, e.prev)


def test_append_log_needs_a_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError):
        store.append_log("x")
