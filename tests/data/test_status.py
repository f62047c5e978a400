"""The period overview: what the record holds and the next step, read without changing it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from suiji.data.period import Period
from suiji.data.rules import parse_rules, preset_text
from suiji.data.snapshot import freeze
from suiji.data.status import known_periods, log_head, period_status, record_head
from suiji.data.store import Store
from suiji.scheduler.plan import draw_plan
from tests.fixtures.city import INSPECTION_KINDS, frozen_city

RULES = parse_rules(preset_text("default"), "built-in default rules")


def test_an_empty_database_asks_for_the_directories(store: Store) -> None:
    status = period_status(store, "2026Q4", date(2026, 11, 2))
    assert status.next_action == "import"
    assert status.directory("companies").version == 0
    assert status.plan is None and status.freezes == {}
    assert known_periods(store) == []
    assert log_head(store)[0] == 1


def test_a_frozen_then_drawn_period(tmp_path: Path) -> None:
    _, db = frozen_city(tmp_path, INSPECTION_KINDS, ("inspections",), firms=300,
                        inspectors=40, projects=10, agencies=3, experts=10)
    store = Store.open(db)
    before = period_status(store, "2026Q4", date(2026, 11, 2))
    assert before.next_action == "draw"
    assert before.freezes["inspections"].freezes == 1
    assert before.freezes["inspections"].imports_since == 0
    assert before.directory("companies").rows == 300
    assert known_periods(store) == ["2026Q4"]
    from suiji.data.importers import import_file
    from tests.fixtures.city import renamed_companies

    paths = {p.stem: p for p in (tmp_path / "city").iterdir()}
    import_file(store, "companies", renamed_companies(paths["companies"], tmp_path / "c2.csv",
                                                      50, 1))
    changed = period_status(store, "2026Q4", date(2026, 11, 2))
    assert changed.freezes["inspections"].imports_since == 1 and changed.next_action == "freeze"
    freeze(store, Period.parse("2026Q4"), "inspections", RULES)
    record = draw_plan(store, Period.parse("2026Q4"), RULES, "12345678901234567890",
                       today=date(2026, 9, 25))
    after = period_status(store, "2026Q4", date(2026, 11, 16))
    assert after.plan is not None and after.plan.draw == record.id
    assert after.plan.items == len(record.output["items"])
    due = sum(1 for i in record.output["items"] if i["date"] < "2026-11-16")
    assert after.results_due == due > 0
    assert after.next_action == "results"
    assert after.log_head == log_head(store) and after.log_head[0] > before.log_head[0]
    assert record_head(store) == after.log_head[0]
    assert period_status(store, "2026Q4", date(2026, 10, 1)).next_action == "publish"
    from suiji.data.audit import record_export

    record_export(store, period="2026Q4", what="plan", data=b"x", write=lambda _: None,
                  public=True)
    assert record_head(store) == after.log_head[0] < log_head(store)[0]
    published = period_status(store, "2026Q4", date(2026, 10, 1))
    assert published.next_action == "verify" and len(published.published) == 1


def test_freeze_and_draw_sheets_match_the_record(tmp_path: Path) -> None:
    from suiji.data.snapshot import latest_snapshot
    from suiji.data.status import draw_sheet, freeze_sheet

    _, db = frozen_city(tmp_path, INSPECTION_KINDS, ("inspections",), firms=300,
                        inspectors=40, projects=10, agencies=3, experts=10)
    store = Store.open(db)
    snap = latest_snapshot(store, Period.parse("2026Q4"), "inspections")
    sheet = freeze_sheet(store, snap.id)
    assert (sheet.digest, sheet.files) == (snap.digest, snap.manifest["files"])
    assert sheet.rules_text == snap.files["rules.toml"].decode("utf-8")
    freeze_entry = [e for e in store.log_entries() if e.action == "freeze"][-1]
    assert (sheet.log_seq, sheet.log_hash) == (freeze_entry.seq, freeze_entry.hash)
    record = draw_plan(store, Period.parse("2026Q4"), RULES, "12345678901234567890",
                       today=date(2026, 9, 25))
    drawn = draw_sheet(store, record.id)
    entry = store.log_entries()[-1]
    assert (drawn.log_seq, drawn.log_hash, drawn.snapshot_digest) == (entry.seq, entry.hash,
                                                                      snap.digest)
    without_items = {k: v for k, v in record.output.items() if k != "items"}
    assert drawn.output == without_items and drawn.items == len(record.output["items"])
    assert drawn.seed_source == "user" and drawn.output_sha256 == record.output_sha256
