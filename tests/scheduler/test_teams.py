"""suiji.scheduler.teams on tiny instances checkable by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from suiji.data.errors import InfeasibleError
from suiji.data.rules import InspectionRules
from suiji.scheduler.teams import Schedule, TeamAssignment, schedule, substitute

DAYS = [date(2026, 10, 12) + timedelta(k) for k in range(5)]  # Mon-Fri


def inspectors(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """(badge, district, city, active) -> the canonical inspectors frame."""
    return pd.DataFrame([{"badge": b, "name": f"N{b}", "unit": "u", "district": d, "city": c,
                          "active": a, "capacity": "", "daily_capacity": ""}
                         for b, d, c, a in rows])


def firms(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"uscc": u, "name": f"企业{u}", "district": d, "city": c}
                         for u, d, c in rows])


LEAVE = pd.DataFrame(columns=["badge", "start", "end"])
CONFLICTS = pd.DataFrame(columns=["person", "counterpart", "reason", "until"])
HISTORY = pd.DataFrame(columns=["uscc", "date", "kind", "source"])
RULES = InspectionRules()

STAFF = inspectors(
    ("A1", "甲区", "", "yes"), ("A2", "甲区", "", "yes"), ("A3", "甲区", "", "yes"),
    ("B1", "乙区", "", "yes"), ("B2", "乙区", "", "yes"),
    ("C1", "全市", "", "yes"),
    ("X1", "甲区", "", "no"),  # not active
)


def run(firm_frame: pd.DataFrame, staff: pd.DataFrame = STAFF, leave: pd.DataFrame = LEAVE,
        conflicts: pd.DataFrame = CONFLICTS, rules: InspectionRules = RULES, seed: str = "s1",
        days: list[date] = DAYS, **kw: object) -> Schedule:
    return schedule(firm_frame, staff, leave, conflicts, HISTORY, days, rules, seed, **kw)


def test_jurisdiction_activity_and_team_size():
    plan = run(firms(("F1", "甲区", ""), ("F2", "甲区", ""), ("F3", "乙区", "")))
    by = {i.uscc: i for i in plan.items}
    assert [i.uscc for i in plan.items] == ["F1", "F2", "F3"]
    for u in ("F1", "F2"):
        assert set(by[u].badges) <= {"A1", "A2", "A3", "C1"}
    assert set(by["F3"].badges) <= {"B1", "B2", "C1"}
    for item in plan.items:
        assert len(item.badges) == 2 and item.date in {d.isoformat() for d in DAYS}
    assert plan.stats.status == "optimal" and plan.stats.unique
    assert plan.stats.components == 1  # C1 links both districts


def test_never_crosses_cities():
    staff = inspectors(("P1", "甲区", "一市", "yes"), ("P2", "全市", "一市", "yes"),
                       ("Q1", "甲区", "二市", "yes"), ("Q2", "全市", "二市", "yes"))
    plan = run(firms(("F1", "甲区", "一市"), ("F2", "甲区", "二市")), staff)
    assert [i.badges for i in plan.items] == [("P1", "P2"), ("Q1", "Q2")]
    assert plan.stats.components == 2


def test_conflicts_by_uscc_and_name_and_expiry():
    conflicts = pd.DataFrame([
        {"person": "A1", "counterpart": "F1", "reason": "亲属", "until": ""},
        {"person": "A2", "counterpart": "企业F1", "reason": "持股", "until": "2099-01-01"},
        {"person": "A3", "counterpart": "F1", "reason": "旧", "until": "2020-01-01"},  # expired
    ])
    for seed in ("a", "b", "c", "d"):
        plan = run(firms(("F1", "甲区", "")), conflicts=conflicts, seed=seed)
        assert set(plan.items[0].badges) == {"A3", "C1"}


def test_leave_is_respected():
    staff = inspectors(("A1", "甲区", "", "yes"), ("A2", "甲区", "", "yes"),
                       ("A3", "甲区", "", "yes"))
    leave = pd.DataFrame([{"badge": "A3", "start": "2026-10-01", "end": "2026-10-15"}])
    for seed in map(str, range(6)):
        plan = run(firms(("F1", "甲区", "")), staff, leave=leave, seed=seed)
        item = plan.items[0]
        if "A3" in item.badges:
            assert item.date >= "2026-10-16"


def test_cross_district_uses_other_districts_and_city_level():
    rules = replace(RULES, cross_district=True)
    for seed in ("x", "y", "z"):
        plan = run(firms(("F1", "甲区", "")), rules=rules, seed=seed)
        assert set(plan.items[0].badges) <= {"B1", "B2", "C1"}


def test_avoid_last_inspector_uses_previous_teams_and_history():
    rules = replace(RULES, avoid_last_inspector=True)
    staff = inspectors(*[(f"A{k}", "甲区", "", "yes") for k in range(1, 5)])
    prev = pd.DataFrame({"uscc": ["F1", "F1", "F1", "F1"], "badge": ["A1", "A2", "A3", "A4"],
                         "date": ["2026-08-01", "2026-08-01", "2026-03-01", "2026-03-01"]})
    for seed in ("p", "q", "r"):
        plan = run(firms(("F1", "甲区", "")), staff, rules=rules, seed=seed,
                   previous_teams=prev)
        assert plan.items[0].badges == ("A3", "A4")  # the last team (08-01) is avoided
    # a later inspection with an unknown team: nothing to avoid
    history = pd.DataFrame({"uscc": ["F1"], "date": ["2026-09-01"], "kind": ["complaint"],
                            "source": ["import"]})
    seen = set()
    for seed in map(str, range(12)):
        plan = schedule(firms(("F1", "甲区", "")), staff, LEAVE, CONFLICTS, history, DAYS,
                        rules, seed, previous_teams=prev)
        seen |= set(plan.items[0].badges)
    assert {"A1", "A2"} & seen


def test_capacities_and_days():
    staff = inspectors(("A1", "甲区", "", "yes"), ("A2", "甲区", "", "yes"),
                       ("A3", "甲区", "", "yes"), ("A4", "甲区", "", "yes"))
    staff["capacity"] = "3"
    staff["daily_capacity"] = "1"
    plan = run(firms(*[(f"F{k}", "甲区", "") for k in range(6)]), staff)
    load: dict[str, int] = {}
    per_day: dict[tuple[str, str], int] = {}
    for item in plan.items:
        for b in item.badges:
            load[b] = load.get(b, 0) + 1
            per_day[b, item.date] = per_day.get((b, item.date), 0) + 1
    assert sum(load.values()) == 12 and max(load.values()) <= 3
    assert max(per_day.values()) == 1


def test_repair_moves_inspections_to_free_days():
    """Two firms that only A1+A2 may inspect, daily capacity 1: never on the same day."""
    staff = inspectors(("A1", "甲区", "", "yes"), ("A2", "甲区", "", "yes"),
                       ("A3", "甲区", "", "yes"), ("A4", "甲区", "", "yes"))
    staff["daily_capacity"] = "1"
    conflicts = pd.DataFrame([{"person": p, "counterpart": f, "reason": "r", "until": ""}
                              for p in ("A3", "A4") for f in ("F1", "F2")])
    days = DAYS[:2]
    moved = 0
    for seed in map(str, range(16)):
        plan = run(firms(("F1", "甲区", ""), ("F2", "甲区", ""), ("F3", "甲区", "")), staff,
                   conflicts=conflicts, seed=seed, days=days)
        by = {i.uscc: i for i in plan.items}
        assert by["F1"].date != by["F2"].date
        assert by["F1"].badges == by["F2"].badges == ("A1", "A2")
        assert by["F3"].badges == ("A3", "A4")
        moved += plan.stats.moved
    assert moved > 0  # the spread put F1 and F2 on one day for some seeds


def test_capacity_shortage_names_the_district():
    staff = inspectors(*[(f"L{k}", "临江县", "", "yes") for k in range(3)],
                       ("M1", "江北区", "", "yes"), ("M2", "江北区", "", "yes"))
    staff["capacity"] = "2"
    with pytest.raises(InfeasibleError) as err:
        run(firms(*[(f"F{k}", "临江县", "") for k in range(4)], ("G1", "江北区", "")), staff)
    msg = str(err.value)
    assert "临江县: 4 inspections need 8 inspector-slots but its 3 eligible inspectors " \
           "have 6 (capacity 2 each)" in msg
    assert "江北区" not in msg.split("Try")[0]
    assert "Try (1) raising capacity" in msg


def test_too_few_eligible_inspectors_is_named():
    staff = inspectors(("A1", "甲区", "", "yes"), ("A2", "甲区", "", "no"))
    with pytest.raises(InfeasibleError, match=r"企业F1 \(F1, 甲区\): 1 eligible inspector"):
        run(firms(("F1", "甲区", "")), staff)


def test_no_common_day_is_named():
    staff = inspectors(("A1", "甲区", "", "yes"), ("A2", "甲区", "", "yes"))
    leave = pd.DataFrame([{"badge": "A1", "start": "2026-10-12", "end": "2026-10-13"},
                          {"badge": "A2", "start": "2026-10-14", "end": "2026-10-16"}])
    with pytest.raises(InfeasibleError, match="no working day on which 2"):
        run(firms(("F1", "甲区", "")), staff, leave=leave)


def test_no_working_day():
    with pytest.raises(InfeasibleError, match="no working day"):
        run(firms(("F1", "甲区", "")), days=[])


def test_result_objects_validate():
    with pytest.raises(ValueError):
        TeamAssignment("F1", "2026-10-12", ("B", "A"))
    with pytest.raises(ValueError):
        TeamAssignment("F1", "2026-10-12", ("A",))
    plan = run(firms(("F1", "甲区", "")))
    assert plan.to_json()["items"] == [plan.items[0].record()]
    assert "timings" not in plan.to_json() and plan.timings


def test_substitute_replaces_only_pending_and_keeps_dates():
    frame = firms(*[(f"F{k}", "甲区", "") for k in range(5)])
    plan = run(frame, seed="sub")
    leaving = plan.items[0].badges[0]
    cut = DAYS[2]
    new = substitute(plan.items, frame, STAFF, LEAVE, CONFLICTS, HISTORY, RULES, "sub",
                     leaving, cut)
    for old, cur in zip(plan.items, new, strict=True):
        assert cur.date == old.date and cur.uscc == old.uscc
        if leaving in old.badges and old.date >= cut.isoformat():
            assert leaving not in cur.badges and len(set(cur.badges)) == 2
            kept = set(old.badges) - {leaving}
            assert kept <= set(cur.badges)
            assert set(cur.badges) <= {"A1", "A2", "A3", "C1"}
        else:
            assert cur == old
    again = substitute(plan.items, frame, STAFF, LEAVE, CONFLICTS, HISTORY, RULES, "sub",
                       leaving, cut)
    assert again == new


def test_substitute_without_replacement_names_the_inspection():
    staff = inspectors(("A1", "甲区", "", "yes"), ("A2", "甲区", "", "yes"))
    frame = firms(("F1", "甲区", ""))
    plan = run(frame, staff)
    with pytest.raises(InfeasibleError, match=r"(?s)No replacement for A1 in 1 inspection.*F1"):
        substitute(plan.items, frame, staff, LEAVE, CONFLICTS, HISTORY, RULES, "s", "A1",
                   DAYS[0])


@pytest.mark.parametrize("legacy", [False, True], ids=["date-search", "legacy-cp-sat"])
def test_date_search_when_the_greedy_move_is_blocked(legacy):
    """u may only go with A1+A2; A2 is away on day 1; on day 2 the flow gave A1 to w.

    The greedy move finds no free pair for u; the date search (or, replaying
    suiji-inspections/1, CP-SAT) moves u to day 2 and w takes A4+A6 instead.
    """
    staff = inspectors(("A1", "甲区", "", "yes"), ("A2", "甲区", "", "yes"),
                       ("A4", "甲区", "", "yes"), ("A6", "甲区", "", "yes"))
    staff["daily_capacity"] = "1"
    leave = pd.DataFrame([{"badge": "A2", "start": "2026-10-12", "end": "2026-10-12"}])
    conflicts = pd.DataFrame([{"person": p, "counterpart": f, "reason": "r", "until": ""}
                              for p, f in (("A4", "U"), ("A6", "U"), ("A2", "W"))])
    methods = set()
    for seed in map(str, range(30)):
        plan = run(firms(("U", "甲区", ""), ("W", "甲区", "")), staff, leave=leave,
                   conflicts=conflicts, seed=seed, days=DAYS[:2], legacy_cpsat=legacy)
        by = {i.uscc: i for i in plan.items}
        assert by["U"] == TeamAssignment("U", "2026-10-13", ("A1", "A2"))
        assert "A1" not in by["W"].badges or by["W"].date == "2026-10-12"
        methods.add(plan.stats.method)
    assert ("min-cost-flow+cp-sat-dates" if legacy else "min-cost-flow+date-search") in methods


# F00 and F01 may only go with B01+B02 (B00 in conflict) and daily capacity 2 lets
# B01+B02 serve one of them a day next to the four others: they need different days
SIX = pd.DataFrame([{"uscc": f"F{k:02d}", "name": f"企业{k}", "district": "甲区", "city": ""}
                    for k in range(6)])
THREE = inspectors(("B00", "甲区", "", "yes"), ("B01", "甲区", "", "yes"),
                   ("B02", "甲区", "", "yes"))
NOV = [date(2026, 11, 2), date(2026, 11, 3)]


def _barred(*usccs: str) -> pd.DataFrame:
    return pd.DataFrame([{"person": "B00", "counterpart": u, "reason": "r", "until": ""}
                         for u in usccs])


def _check_six(plan: Schedule) -> None:
    by = {i.uscc: i for i in plan.items}
    assert by["F00"].badges == by["F01"].badges == ("B01", "B02")
    assert by["F00"].date != by["F01"].date
    for day in ("2026-11-02", "2026-11-03"):
        on_day = [i for i in plan.items if i.date == day]
        assert len(on_day) == 3
        for b in ("B00", "B01", "B02"):
            assert sum(b in i.badges for i in on_day) == 2  # daily capacity 2, all used


def test_all_dates_move_when_moving_the_stuck_firm_alone_cannot_help():
    """The hypothesis example: with seed "0" the spread puts F00 and F01 on one day.

    Moving only the stuck one has no free team; the date search over every
    firm's day finds the plan (this raised InfeasibleError before CP-SAT, and
    needed CP-SAT until the date search).
    """
    plan = run(SIX, THREE, conflicts=_barred("F00", "F01"), seed="0", days=NOV)
    _check_six(plan)
    assert plan.stats.method == "min-cost-flow+date-search" and plan.stats.moved > 0
    assert run(SIX, THREE, conflicts=_barred("F00", "F01"), seed="0", days=NOV) == plan
    for seed in map(str, range(1, 12)):
        _check_six(run(SIX, THREE, conflicts=_barred("F00", "F01"), seed=seed, days=NOV))
    legacy = run(SIX, THREE, conflicts=_barred("F00", "F01"), seed="0", days=NOV,
                 legacy_cpsat=True)
    _check_six(legacy)
    assert legacy.stats.method == "min-cost-flow+cp-sat-dates"


@pytest.mark.parametrize("legacy", [False, True], ids=["date-search", "legacy-cp-sat"])
def test_dates_of_all_firms_when_the_repair_does_not_converge(monkeypatch, legacy):
    import suiji.scheduler.teams as teams

    monkeypatch.setattr(teams, "_REPAIR_ROUNDS", 0)  # the first shortfall goes to the fallback
    methods = set()
    for seed in map(str, range(12)):
        plan = run(SIX, THREE, conflicts=_barred("F00", "F01"), seed=seed, days=NOV,
                   legacy_cpsat=legacy)
        _check_six(plan)
        methods.add(plan.stats.method)
    assert ("min-cost-flow+cp-sat-dates" if legacy else "min-cost-flow+date-search") in methods


def test_no_plan_when_the_days_bind_but_the_period_capacity_would_do():
    """Three inspectors with daily capacity 1 staff one team of 2 a day: 2 days, 3 firms.

    Without days the capacity suffices (6 slots for 6), so the complete date
    search is what proves that no plan exists (CP-SAT's INFEASIBLE in /1).
    """
    staff = THREE.assign(daily_capacity="1")
    with pytest.raises(InfeasibleError, match=r"(?s)^No plan exists: .*tried every choice.*"
                                              r"F0\d.*eligible inspectors B00, B01, B02"):
        run(SIX[:3], staff, seed="0", days=NOV)
    with pytest.raises(InfeasibleError, match=r"\(INFEASIBLE\)"):
        run(SIX[:3], staff, seed="0", days=NOV, legacy_cpsat=True)


def test_the_date_search_gives_up_after_a_count_of_tries(monkeypatch):
    """A search cut short refuses the draw, saying so: never an answer that depends on time."""
    import suiji.scheduler.teams as teams

    original = teams.search_component_dates

    def short_search(*args, **kwargs):
        return original(*args, **kwargs, max_tries=3)

    monkeypatch.setattr(teams, "search_component_dates", short_search)
    with pytest.raises(InfeasibleError, match=r"stopped after 3 tries \(a fixed count"):
        run(SIX, THREE, conflicts=_barred("F00", "F01"), seed="0", days=NOV)


def test_no_new_plan_uses_cp_sat(monkeypatch):
    """CP-SAT decides nothing in a new plan: with it unavailable, every fallback still works."""
    import suiji.scheduler.dates as dates

    def forbidden(*args, **kwargs):
        raise AssertionError("CP-SAT called outside the legacy /1 verification path")

    monkeypatch.setattr(dates, "cpsat_dates", forbidden)
    _check_six(run(SIX, THREE, conflicts=_barred("F00", "F01"), seed="0", days=NOV))
    with pytest.raises(InfeasibleError, match="No plan exists"):
        run(SIX[:3], THREE.assign(daily_capacity="1"), seed="0", days=NOV)


def test_bench_quick_runs_the_city_scale():
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "bench" / "run.py"), "--quick", "--json"],
                          capture_output=True, text=True, check=False, cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    (row,) = out["rows"]
    assert row["scale"] == "city" and row["drawn"] > 0
    assert row["assign_status"] == "optimal" and row["assign_unique"]
    assert "cpsat_s" not in row and out["machine"]["cores"]
