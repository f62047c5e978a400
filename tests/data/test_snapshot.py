from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.draws import current_draw, record_draw
from suiji.data.errors import AlreadyDrawnError, FreezeError
from suiji.data.period import Period
from suiji.data.rules import parse_rules, preset_text
from suiji.data.snapshot import (
    check_unchanged,
    freeze,
    latest_snapshot,
    load_snapshot,
    manifest_digest,
)
from suiji.data.store import Store, sha256_hex

P = Period.parse("2026Q4")
RULES = parse_rules(preset_text())


def _companies(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"uscc": f"U{i}", "name": n, "district": "一区", "city": "",
                          "category": "key", "industry": "", "status": "active", "risk": ""}
                         for i, n in enumerate(names)])


def test_freeze_digest_is_reproducible_and_files_are_kept(store: Store) -> None:
    store.replace("companies", _companies(["甲", "乙"]))
    snap = freeze(store, P, "inspections", RULES)
    again = load_snapshot(store, snap.id)
    assert again.digest == snap.digest == manifest_digest(snap.manifest)
    for name, meta in snap.manifest["files"].items():
        assert sha256_hex(again.files[name]) == meta["sha256"]
    assert again.frame("companies.csv")["name"].tolist() == ["甲", "乙"]
    assert again.rules.text == RULES.text
    assert len(again.working_days) == 62
    assert freeze(store, P, "inspections", RULES).digest == snap.digest


def test_changed_input_is_named(store: Store) -> None:
    store.replace("companies", _companies(["甲"]))
    snap = freeze(store, P, "inspections", RULES)
    check_unchanged(store, snap, RULES)
    store.replace("companies", _companies(["甲改"]))
    with pytest.raises(FreezeError, match="companies.csv"):
        check_unchanged(store, snap, RULES)
    other = parse_rules(preset_text("chizhou"))
    with pytest.raises(FreezeError, match="rules.toml"):
        check_unchanged(store, latest_snapshot(store, P, "inspections"), other)


def test_no_freeze_no_draw(store: Store) -> None:
    with pytest.raises(FreezeError, match="suiji freeze --period 2026Q4"):
        latest_snapshot(store, P, "inspections")


def test_one_current_draw_and_redraw_on_record(store: Store) -> None:
    snap = freeze(store, P, "inspections", RULES)
    first = record_draw(store, scope="inspections", snapshot=snap, seed="1", seed_source="user",
                        algorithm="test/1", output={"items": [1]})
    with pytest.raises(AlreadyDrawnError, match="--redraw"):
        record_draw(store, scope="inspections", snapshot=snap, seed="2", seed_source="user",
                    algorithm="test/1", output={"items": [2]})
    second = record_draw(store, scope="inspections", snapshot=snap, seed="2",
                         seed_source="user", algorithm="test/1", output={"items": [2]},
                         redraw=True, reason="录入错误")
    assert current_draw(store, str(P), "inspections") == second
    statuses = store.conn.execute("SELECT id, status FROM draws ORDER BY id").fetchall()
    assert statuses == [(first.id, "superseded"), (second.id, "current")]
    assert [e.action for e in store.log_entries()][-2:] == ["draw", "redraw"]


def test_unique_index_blocks_a_second_current_draw(store: Store) -> None:
    snap = freeze(store, P, "inspections", RULES)
    record_draw(store, scope="inspections", snapshot=snap, seed="1", seed_source="user",
                algorithm="t", output=[])
    with pytest.raises(Exception, match="UNIQUE"), store.transaction():
        store.conn.execute(
            "INSERT INTO draws (period, scope, subject, snapshot_id, seed, seed_source, "
            "algorithm, output, output_sha256, status, created_at) "
            "VALUES ('2026Q4', 'inspections', '', ?, 's', 'user', 't', '[]', 'x', "
            "'current', 'now')", (snap.id,))


def test_freeze_cli(tmp_path: Path) -> None:
    db = str(tmp_path / "f.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0
    res = runner.invoke(cli, ["--db", db, "freeze", "--period", "2026Q4", "--json"])
    assert res.exit_code == 0, res.output
    assert '"digest"' in res.output
    res = runner.invoke(cli, ["--db", db, "freeze", "--period", "2026Q5"])
    assert res.exit_code == 2 and "2026Q4" in res.output
    res = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), "freeze", "-p", "2026Q4"])
    assert res.exit_code == 1 and "suiji init" in res.output


def test_unchanged_check_skips_the_rebuild_when_only_exports_followed(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import suiji.data.snapshot as snapshot_module

    store.replace("companies", _companies(["甲"]))
    snap = freeze(store, P, "inspections", RULES)
    with store.transaction():
        store.append_log("export", str(P), details={"what": "plan"})

    def no_rebuild(*args: object) -> None:
        raise AssertionError("the directories were rebuilt")

    monkeypatch.setattr(snapshot_module, "materialize", no_rebuild)
    check_unchanged(store, snap, RULES)  # fast path: rules and calendar only
    with pytest.raises(FreezeError, match="rules.toml"):
        check_unchanged(store, snap, parse_rules(preset_text("chizhou")))


def test_unchanged_check_rebuilds_after_any_data_change(store: Store) -> None:
    store.replace("companies", _companies(["甲"]))
    snap = freeze(store, P, "inspections", RULES)
    store.replace("inspectors", pd.DataFrame(columns=[
        "badge", "name", "unit", "district", "city", "active", "capacity", "daily_capacity"]))
    check_unchanged(store, snap, RULES)  # an import that changed nothing of the content
    store.replace("positive-list", pd.DataFrame([{"uscc": "U0", "start": "2026-01-01",
                                                  "end": "2028-12-31"}]))
    with pytest.raises(FreezeError, match="positive-list.csv"):
        check_unchanged(store, snap, RULES)


def test_a_year_without_calendar_is_refused_with_advice(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0
    res = runner.invoke(cli, ["--db", db, "freeze", "--period", "2027Q1"])
    assert res.exit_code == 1
    assert "[calendar.2027]" in res.output and "holidays" in res.output
    rules = tmp_path / "rules.toml"
    rules.write_text(preset_text() + '\n[calendar.2027]\nholidays = ["2027-01-01"]\n'
                     'workdays = []\n', "utf-8")  # typed by hand, Spring Festival forgotten
    res = runner.invoke(cli, ["--db", db, "--rules", str(rules), "freeze", "-p", "2027Q1"])
    assert res.exit_code == 1 and "春节" in res.output and "calendar import" in res.output
    notice = Path(__file__).resolve().parents[1] / "fixtures" / "notices" / "2027-made-up.txt"
    res = runner.invoke(cli, ["--db", db, "--rules", str(rules), "calendar", "import",
                              str(notice), "--replace"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["--db", db, "--rules", str(rules), "freeze", "-p", "2027Q1"])
    assert res.exit_code == 0, res.output
