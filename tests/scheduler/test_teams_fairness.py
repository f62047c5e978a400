"""What the team draw promises: uniform teams and dates, every rule kept, same seed same plan.

Statistical tolerance: over N seeds an inspector's count on a firm is
Binomial(N, p); we accept |count - N p| <= 4.5 s.d. (s.d. = sqrt(N p (1-p))),
a false alarm rate below 1e-5 per comparison.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suiji.data.errors import InfeasibleError
from suiji.data.rules import InspectionRules
from suiji.data.schema import ALL_DISTRICTS
from suiji.scheduler.baseline import solve_teams_cpsat
from suiji.scheduler.cpsat_dates import cpsat_dates
from suiji.scheduler.eligibility import prepare
from suiji.scheduler.teams import Schedule, schedule

SIGMAS = 4.5
DAYS = [date(2026, 11, 2) + timedelta(k) for k in range(5)]
EMPTY_LEAVE = pd.DataFrame(columns=["badge", "start", "end"])
EMPTY_CONFLICTS = pd.DataFrame(columns=["person", "counterpart", "reason", "until"])
EMPTY_HISTORY = pd.DataFrame(columns=["uscc", "date", "kind", "source"])


def within(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= SIGMAS * math.sqrt(n * p * (1 - p))


def test_teams_and_dates_are_uniform_when_capacity_does_not_bind():
    staff = pd.DataFrame({"badge": ["A1", "A2", "A3", "A4", "C1", "C2"],
                          "district": ["甲区"] * 4 + ["全市"] * 2, "city": "",
                          "active": "yes", "capacity": "", "daily_capacity": "3"})
    firms = pd.DataFrame({"uscc": ["F1", "F2", "F3"], "name": "", "district": "甲区",
                          "city": ""})
    n = 300
    counts = {f: dict.fromkeys(staff["badge"], 0) for f in firms["uscc"]}
    day_counts = {f: dict.fromkeys(d.isoformat() for d in DAYS) for f in firms["uscc"]}
    day_counts = {f: dict.fromkeys(day_counts[f], 0) for f in day_counts}
    for k in range(n):
        plan = schedule(firms, staff, EMPTY_LEAVE, EMPTY_CONFLICTS, EMPTY_HISTORY, DAYS,
                        InspectionRules(), f"fair-{k}")
        for item in plan.items:
            day_counts[item.uscc][item.date] += 1
            for b in item.badges:
                counts[item.uscc][b] += 1
    p_team = 2 / 6  # two of six eligible inspectors
    for f, per in counts.items():
        assert sum(per.values()) == 2 * n
        for b, c in per.items():
            assert within(c, n, p_team), (f, b, c)
    for f, per in day_counts.items():
        for d, c in per.items():
            assert within(c, n, 1 / len(DAYS)), (f, d, c)


# --- invariants on random small instances ------------------------------------------


@st.composite
def instances(draw):
    cities = draw(st.sampled_from([[""], [""], ["一市", "二市"]]))
    districts = ["甲区", "乙区", "丙区"][: draw(st.integers(1, 3))]
    n_insp = draw(st.integers(3, 10))
    rows = []
    for k in range(n_insp):
        district = draw(st.sampled_from([*districts, "全市", "全市"]))
        rows.append({"badge": f"B{k:02d}", "name": f"N{k}", "unit": "u",
                     "district": district, "city": draw(st.sampled_from(cities)),
                     "active": draw(st.sampled_from(["yes"] * 5 + ["no"])),
                     "capacity": draw(st.sampled_from(["", "2", "3", "5"])),
                     "daily_capacity": draw(st.sampled_from(["", "1", "2"]))})
    staff = pd.DataFrame(rows)
    n_firms = draw(st.integers(1, 6))
    firms = pd.DataFrame([{"uscc": f"F{k:02d}", "name": f"企业{k}",
                           "district": draw(st.sampled_from(districts)),
                           "city": draw(st.sampled_from(cities))} for k in range(n_firms)])
    n_days = draw(st.integers(1, 4))
    days = DAYS[:n_days]
    leave = pd.DataFrame([{"badge": f"B{draw(st.integers(0, n_insp - 1)):02d}",
                           "start": DAYS[a].isoformat(), "end": DAYS[a + draw(st.integers(
                               0, 1))].isoformat()}
                          for a in draw(st.lists(st.integers(0, 3), max_size=3))],
                         columns=["badge", "start", "end"])
    conflicts = pd.DataFrame([{"person": f"B{draw(st.integers(0, n_insp - 1)):02d}",
                               "counterpart": draw(st.sampled_from(
                                   [*firms["uscc"], *firms["name"]])),
                               "reason": "r", "until": ""}
                              for _ in range(draw(st.integers(0, 3)))],
                             columns=["person", "counterpart", "reason", "until"]
                             ).drop_duplicates(["person", "counterpart"])
    rules = InspectionRules(team_size=draw(st.sampled_from([2, 2, 2, 3])),
                            cross_district=draw(st.booleans()))
    seed = draw(st.text("0123456789abc", min_size=1, max_size=6))
    return firms, staff, leave, conflicts, days, rules, seed


def check_plan(plan: Schedule, firms, staff, leave, conflicts, days, rules) -> None:
    by_badge = staff.set_index("badge")
    firm = firms.set_index("uscc")
    assert [i.uscc for i in plan.items] == sorted(firms["uscc"])
    load: dict[str, int] = {}
    daily: dict[tuple[str, str], int] = {}
    iso = {d.isoformat() for d in days}
    barred = {(c.person, c.counterpart) for c in conflicts.itertuples()}
    for item in plan.items:
        f = firm.loc[item.uscc]
        assert item.date in iso
        assert len(item.badges) == rules.team_size == len(set(item.badges))
        for b in item.badges:
            s = by_badge.loc[b]
            assert s["active"] == "yes"
            assert s["city"] == f["city"]
            city_level = s["district"] in ALL_DISTRICTS
            if rules.cross_district:
                assert city_level or s["district"] != f["district"]
            else:
                assert city_level or s["district"] == f["district"]
            assert (b, item.uscc) not in barred and (b, f["name"]) not in barred
            for lv in leave[leave["badge"] == b].itertuples():
                assert not lv.start <= item.date <= lv.end
            load[b] = load.get(b, 0) + 1
            daily[b, item.date] = daily.get((b, item.date), 0) + 1
    for b, n in load.items():
        assert n <= int(by_badge.loc[b, "capacity"] or rules.default_capacity)
    for (b, _), n in daily.items():
        assert n <= int(by_badge.loc[b, "daily_capacity"] or rules.default_daily_capacity)


def joint_feasible(firms, staff, leave, conflicts, days, rules, seed) -> str:
    """CP-SAT on dates and teams together (every firm free to move): the ground truth."""
    inst = prepare(firms, staff, leave, conflicts, EMPTY_HISTORY, days, rules, None, None)
    every = np.arange(inst.uscc.size)
    dates = np.zeros(every.size, dtype=np.int64)
    return cpsat_dates(inst, every, np.arange(inst.pair_f.size), dates, every, seed, 20.0)


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_invariants_hold_or_no_plan_exists(case):
    firms, staff, leave, conflicts, days, rules, seed = case
    try:
        plan = schedule(firms, staff, leave, conflicts, EMPTY_HISTORY, days, rules, seed)
    except InfeasibleError:
        assert joint_feasible(*case) == "INFEASIBLE"
        return
    check_plan(plan, firms, staff, leave, conflicts, days, rules)
    assert plan.stats.status == "optimal"


@settings(max_examples=25, deadline=None)
@given(instances())
def test_flow_matches_cp_sat_baseline(case):
    firms, staff, leave, conflicts, days, rules, seed = case
    try:
        plan = schedule(firms, staff, leave, conflicts, EMPTY_HISTORY, days, rules, seed)
    except InfeasibleError:
        return
    if plan.stats.moved:
        return  # the baseline states the first round only
    base = solve_teams_cpsat(firms, staff, leave, conflicts, EMPTY_HISTORY, days, rules, seed,
                             time_limit=20, workers=1)
    assert base.optimal
    assert base.objective == plan.stats.objective
    if plan.stats.unique:
        assert base.items == plan.items


# --- determinism ----------------------------------------------------------------------


def _mid_instance():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from instances import drawn_sample, synthetic
    inst = synthetic(3000, 60, 1, districts=4, seed=3, conflict_share=0.01)
    return inst, drawn_sample(inst, 0.1)


def test_same_seed_same_plan_and_row_order_does_not_matter():
    inst, firms = _mid_instance()
    args = (inst.leave, inst.conflicts, inst.history, inst.working_days, InspectionRules())
    a = schedule(firms, inst.inspectors, *args[:3], args[3], args[4], "seed-1")
    b = schedule(firms, inst.inspectors, *args[:3], args[3], args[4], "seed-1")
    assert a == b and a.to_json() == b.to_json()
    shuffled = schedule(firms.sample(frac=1, random_state=5),
                        inst.inspectors.sample(frac=1, random_state=6),
                        inst.leave.sample(frac=1, random_state=7),
                        inst.conflicts.sample(frac=1, random_state=8), inst.history,
                        list(reversed(inst.working_days)), InspectionRules(), "seed-1")
    assert shuffled.to_json() == a.to_json()
    other = schedule(firms, inst.inspectors, *args[:3], args[3], args[4], "seed-2")
    assert other.items != a.items
    assert a.stats.unique and a.stats.components >= 1
