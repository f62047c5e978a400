"""Inspection dates are never in the past: a plan drawn mid-quarter starts after its draw
(``suiji-inspections/2``), and plans of ``/1`` still verify."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.draws import run_draw
from suiji.data.errors import InfeasibleError, UsageError
from suiji.data.period import Period
from suiji.data.rules import parse_rules, preset_text
from suiji.data.snapshot import freeze
from suiji.data.store import Store
from suiji.data.verify import verify_store
from suiji.scheduler import plan
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.clock import fixed_clock

Q4 = Period(2026, 4)
SEED = "80417263950183746251"
RULES = parse_rules(preset_text())


def _fill(store: Store, firms: int = 30, inspectors: int = 6, capacity: str = "") -> None:
    store.replace("companies", pd.DataFrame([
        {"uscc": f"91320100MA{i:07d}X", "name": f"企业{i}", "district": "东区", "city": "江州市",
         "category": "key", "industry": "化工", "status": "active", "risk": ""}
        for i in range(firms)]))
    store.replace("inspectors", pd.DataFrame([
        {"badge": f"B{j:03d}", "name": f"人{j}", "unit": "支队", "district": "全市",
         "city": "江州市", "active": "yes", "capacity": capacity, "daily_capacity": "1"}
        for j in range(inspectors)]))
    freeze(store, Q4, "inspections", RULES)


def test_a_plan_drawn_mid_quarter_dates_nothing_on_or_before_its_day(store: Store) -> None:
    _fill(store)
    with fixed_clock("2026-11-20T02:00:00"):  # recorded on the day it was drawn
        record = plan.draw_plan(store, Q4, RULES, SEED, today=date(2026, 11, 20))
    out = record.output
    assert (out["algorithm"], out["drawn_on"], out["start"]) == (
        "suiji-inspections/2", "2026-11-20", "2026-11-21")
    dates = sorted(i["date"] for i in out["items"])
    assert dates and dates[0] >= "2026-11-23"  # the first working day after a Friday
    assert dates[-1] <= "2026-12-31"
    assert verify_store(store, REGISTRY).ok


def test_a_later_start_and_an_earlier_one(store: Store) -> None:
    _fill(store)
    with pytest.raises(UsageError, match="--start 2026-11-19 is before 2026-11-21"):
        plan.draw_plan(store, Q4, RULES, SEED, today=date(2026, 11, 20),
                       start=date(2026, 11, 19))
    record = plan.draw_plan(store, Q4, RULES, SEED, today=date(2026, 11, 20),
                            start=date(2026, 12, 7))
    assert min(i["date"] for i in record.output["items"]) >= "2026-12-07"
    # drawn before the quarter: every working day of it is open, as under /1
    assert plan.plan_start(Q4, date(2026, 9, 25)) == date(2026, 10, 1)


def test_too_few_days_left_says_so_and_what_to_change(store: Store) -> None:
    _fill(store, firms=40, inspectors=4)  # 10 inspections need 20 slots: 4 a day are free
    with pytest.raises(InfeasibleError) as info:
        plan.draw_plan(store, Q4, RULES, SEED, today=date(2026, 12, 28))
    message = str(info.value)
    assert "Only 3 of the 62 working days of 2026Q4 remain from 2026-12-29" in message
    assert "Draw the plan earlier" in message
    with pytest.raises(InfeasibleError, match="no day of it left"):
        plan.draw_plan(store, Q4, RULES, SEED, today=date(2026, 12, 31))
    with pytest.raises(InfeasibleError, match="No working day of 2026Q4 is left"):
        plan.compute_plan_v2(  # a start after the period's last working day
            _snapshot(store), SEED, {"drawn_on": "2026-12-31", "start": "2027-01-01"})


def _snapshot(store: Store):  # type: ignore[no-untyped-def]
    from suiji.data.snapshot import latest_snapshot

    return latest_snapshot(store, Q4, "inspections")


def test_a_plan_of_the_first_algorithm_still_verifies(store: Store) -> None:
    _fill(store)
    old = run_draw(store, period=Q4, scope="inspections", rules=RULES,
                   algorithm=plan.ALGORITHM, compute=plan.compute_plan, params={}, seed=SEED)
    assert old.output["algorithm"] == "suiji-inspections/1"
    assert min(i["date"] for i in old.output["items"]) < "2026-11-01"
    assert verify_store(store, REGISTRY).ok


def test_cli_draw_mid_quarter(tmp_path: object) -> None:
    from pathlib import Path

    db = str(Path(str(tmp_path)) / "s.db")
    store = Store.init(db)
    _fill(store)
    store.close()
    res = CliRunner().invoke(cli, ["--db", db, "draw", "inspections", "-p", "2026Q4", "--seed",
                                   SEED])
    assert res.exit_code == 0, res.output
    assert "dates     from 2026-12-02 (drawn on 2026-12-01)" in res.output
