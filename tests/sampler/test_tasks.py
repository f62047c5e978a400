"""suiji.sampler.tasks: populations, shared tickets, one visit per firm, one cap."""

from __future__ import annotations

import dataclasses
from datetime import date
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suiji.data.errors import RulesError, SuijiError
from suiji.data.period import Period
from suiji.data.rules import InspectionTask, quarter_tasks
from suiji.sampler.tasks import (
    TaskDraw,
    Window,
    counting_visits,
    draw_tasks,
    independent_union,
    task_quota,
)
from suiji.sampler.tickets import smallest, ticket_string
from tests.fixtures.tasks_world import (
    SEED,
    companies,
    coordinated_expected_visits,
    independent_expected_visits,
    rules,
    uscc,
)

Q4 = Period.parse("2026Q4")
EMPTY_EARLIER = pd.DataFrame(columns=["uscc", "date", "team_size", "counts", "draw", "tasks",
                                      "inspectors"], dtype=object)
NO_PROJECTS = pd.DataFrame(columns=["project_id", "name", "doc_type", "approved_on",
                                    "agency_uscc", "developer", "industry", "district"],
                           dtype=object)
# key firms are 0, 3, 6, ...: 6 is listed, 3 (random) and 15 (local campaign) are at the cap
# of 1; 9's complaint, 12's national campaign and 18's visit of 2025 do not count
POSITIVE = pd.DataFrame([{"uscc": uscc(6), "start": "2026-01-01", "end": "2028-12-31"}])
HISTORY = pd.DataFrame([
    {"uscc": uscc(3), "date": "2026-03-03", "kind": "random", "source": "import"},
    {"uscc": uscc(9), "date": "2026-03-03", "kind": "complaint", "source": "import"},
    {"uscc": uscc(12), "date": "2026-05-06", "kind": "national_campaign", "source": "import"},
    {"uscc": uscc(15), "date": "2026-05-06", "kind": "local_campaign", "source": "import"},
    {"uscc": uscc(18), "date": "2025-12-06", "kind": "random", "source": "import"}])
CAPPED = {uscc(3), uscc(15)}

THREE = """
[[inspection.tasks]]
id = "annual"
name = "重点双随机"
categories = ["key"]
matters = ["HB-01"]
ratio = 0.5

[[inspection.tasks]]
id = "vocs"
name = "VOCs 地方专项"
source = "local_campaign"
industries = ["化工"]
matters = ["HB-06"]
ratio = 0.5
start = "2026-10-12"
end = "2026-11-30"

[[inspection.tasks]]
id = "national"
name = "国家专项"
source = "national_campaign"
categories = ["key", "special"]
matters = ["HB-02"]
quota = "count"
count = 6
start = "2026-11-02"
end = "2026-12-31"
team_size = 3
"""


def draw(tasks: str = THREE, seed: str = SEED, history: pd.DataFrame = HISTORY,
         earlier: pd.DataFrame = EMPTY_EARLIER, extra: str = "", n: int = 48) -> TaskDraw:
    r = rules(tasks, extra)
    return draw_tasks(companies(n), POSITIVE, NO_PROJECTS, history, earlier,
                      quarter_tasks(r.inspection), r.inspection, Q4, seed, 9)


def test_each_task_is_the_smallest_tickets_of_its_own_population() -> None:
    result = draw()
    firms = companies()
    active = firms[firms["status"] == "active"]
    annual, vocs, national = result.samples
    key = active[active["category"] == "key"]["uscc"].tolist()
    frame = sorted(set(key) - {uscc(6)} - CAPPED)
    assert list(annual.frame) == frame
    assert annual.excluded == {"positive_list": 1, "annual_cap": 2}
    assert annual.quota == 7 and len(frame) == 13  # ceil(0.5 * 13)
    assert list(annual.drawn) == sorted(smallest(frame, SEED, annual.quota))
    chem = active[active["industry"] == "化工"]["uscc"].tolist()
    vocs_frame = sorted(set(chem) - {uscc(6)} - CAPPED)
    assert list(vocs.frame) == vocs_frame
    assert list(vocs.drawn) == sorted(smallest(vocs_frame, SEED, vocs.quota))
    # the national campaign is exempt from the cap: 3 and 15 stay in its population
    ks = active[active["category"].isin(["key", "special"])]["uscc"].tolist()
    assert list(national.frame) == sorted(set(ks) - {uscc(6)})
    assert national.excluded == {"positive_list": 1, "annual_cap": 0}
    assert list(national.drawn) == sorted(smallest(sorted(national.frame), SEED, 6))


def test_a_firm_drawn_by_several_tasks_gets_one_visit_for_all_of_them() -> None:
    result = draw()
    by_firm: dict[str, list[str]] = {}
    for s in result.samples:
        for u in s.drawn:
            by_firm.setdefault(u, []).append(s.task.id)
    assert [v.uscc for v in result.visits] == sorted(by_firm)
    assert result.pairs == sum(len(t) for t in by_firm.values())
    windows = {"annual": ("2026-10-01", "2026-12-31"), "vocs": ("2026-10-12", "2026-11-30"),
               "national": ("2026-11-02", "2026-12-31")}
    for v in result.visits:
        assert list(v.tasks) == by_firm[v.uscc]
        assert v.ticket == ticket_string(v.uscc, SEED)
        assert v.window.start == max(windows[t][0] for t in v.tasks)
        assert v.window.end == min(windows[t][1] for t in v.tasks)
        assert v.team_size == (3 if "national" in v.tasks else 2)
        assert v.counts_toward_cap == any(t in ("annual", "vocs") for t in v.tasks)
        assert v.exempt == (v.uscc in CAPPED)
    assert any(len(v.tasks) > 1 for v in result.visits)  # the samples do overlap


def test_independent_union_is_the_exact_expectation_by_hand() -> None:
    result = draw()
    frames = [s.frame for s in result.samples]
    quotas = [s.quota for s in result.samples]
    assert result.independent_expected == independent_expected_visits(frames, quotas)
    assert independent_union(result.samples) == result.independent_expected
    # two tasks over the same 4 firms, 2 each: 4 * (1 - 1/2 * 1/2) = 3
    assert independent_expected_visits([["a", "b", "c", "d"]] * 2, [2, 2]) == 3


def test_coordinated_expectation_by_hand() -> None:
    # the same frame twice: both tasks take the same 2 firms, always 2 visits
    assert coordinated_expected_visits([["a", "b", "c", "d"]] * 2, [2, 2]) == 2
    # disjoint frames: the quotas add up
    assert coordinated_expected_visits([["a", "b"], ["c", "d", "e"]], [1, 2]) == 3
    # nested frames {a,b} ⊂ {a,b,c,d}, one each: the big task's pick is in {a, b} half the
    # time, so E = 1 + P(big pick outside {a,b}) = 1 + 1/2
    assert coordinated_expected_visits([["a", "b"], ["a", "b", "c", "d"]], [1, 1]) \
        == Fraction(3, 2)


def check_over_seeds(n: int) -> None:
    """Over n seeds: every firm of every task is drawn with its stated probability k/n (within
    5 standard errors), and the mean number of visits is the exact expectation of the
    coordinated design (within 5 standard errors), below the independent one."""
    seeds = [f"{s:020d}" for s in range(n)]
    counts: dict[tuple[str, str], int] = {}
    visits = []
    first = draw(seed=seeds[0])
    for seed in seeds:
        result = draw(seed=seed)
        visits.append(len(result.visits))
        for s in result.samples:
            for u in s.drawn:
                counts[s.task.id, u] = counts.get((s.task.id, u), 0) + 1
    for s in first.samples:
        p = float(s.probability)
        tolerance = 5 * (p * (1 - p) / n) ** 0.5
        for u in s.frame:
            assert abs(counts.get((s.task.id, u), 0) / n - p) <= tolerance, (s.task.id, u)
    frames = [s.frame for s in first.samples]
    quotas = [s.quota for s in first.samples]
    expected = coordinated_expected_visits(frames, quotas)
    mean = float(np.mean(visits))
    se = float(np.std(visits, ddof=1)) / n ** 0.5
    assert abs(mean - float(expected)) <= 5 * se
    independent = independent_expected_visits(frames, quotas)
    assert expected < independent - 1  # coordination saves more than a visit on average


def test_inclusion_frequencies_and_visits_over_400_seeds() -> None:
    # 5 standard errors at p = 1/2 over 400 seeds: ±0.125; the visits' mean within ±0.2
    check_over_seeds(400)


@pytest.mark.slow
def test_inclusion_frequencies_and_visits_over_5000_seeds() -> None:
    check_over_seeds(5000)


def test_tasks_whose_populations_meet_but_windows_do_not_are_refused_by_name() -> None:
    tasks = THREE.replace('start = "2026-10-12"\nend = "2026-11-30"',
                          'start = "2026-10-12"\nend = "2026-10-30"')
    with pytest.raises(RulesError, match=r"'vocs' \(2026-10-12..2026-10-30\) and 'national'"):
        draw(tasks)
    # disjoint populations may have disjoint windows
    apart = THREE.replace('categories = ["key", "special"]', 'categories = ["special"]') \
        .replace('industries = ["化工"]', 'industries = ["化工"]\ncategories = ["general"]') \
        .replace('start = "2026-10-12"\nend = "2026-11-30"',
                 'start = "2026-10-12"\nend = "2026-10-30"')
    assert len(draw(apart).samples) == 3


def test_a_window_outside_the_period_is_refused() -> None:
    with pytest.raises(RulesError, match="must lie inside 2026Q4"):
        draw(THREE.replace('end = "2026-11-30"', 'end = "2027-01-15"'))


def test_quotas() -> None:
    def task(**kw: object) -> InspectionTask:
        return InspectionTask(id="t", name="t", matters=("HB-01",), **kw)

    assert task_quota(task(ratio=0.25), 13, 0, Q4) == 4
    assert task_quota(task(quota="count", count=5), 3, 0, Q4) == 3
    assert task_quota(task(quota="all"), 7, 0, Q4) == 7
    assert task_quota(task(quota="annual_all"), 7, 0, Period.parse("2026Q3")) == 4
    assert task_quota(task(quota="per_inspector", per_year=5), 100, 8, Q4) == 10
    assert task_quota(task(ratio=0.1), 0, 0, Q4) == 0


def test_the_cap_counts_the_kinds_the_rules_name() -> None:
    r = rules(THREE, 'cap_kinds = ["random"]').inspection
    assert counting_visits(HISTORY, EMPTY_EARLIER, r, Q4) == {uscc(3): 1}
    r = rules(THREE).inspection
    assert counting_visits(HISTORY, EMPTY_EARLIER, r, Q4) == {uscc(3): 1, uscc(15): 1}
    earlier = pd.DataFrame([{"uscc": uscc(3), "date": "2026-10-09", "team_size": "2",
                             "counts": "yes", "draw": "1", "tasks": "annual", "inspectors": ""},
                            {"uscc": uscc(4), "date": "2026-10-09", "team_size": "2",
                             "counts": "no", "draw": "1", "tasks": "n", "inspectors": ""}])
    assert counting_visits(HISTORY, earlier, r, Q4) == {uscc(3): 2, uscc(15): 1}


def test_a_later_task_joins_an_earlier_visit_it_fits_in() -> None:
    first = draw()
    v = next(v for v in first.visits if "annual" in v.tasks and "national" not in v.tasks)
    earlier = pd.DataFrame([{"uscc": v.uscc, "date": "2026-11-20", "team_size": "2",
                             "counts": "yes", "draw": "1", "tasks": "annual",
                             "inspectors": "B001;B002"}])
    later = """
[[inspection.tasks]]
id = "all-key"
name = "重点 全部 国家专项"
source = "national_campaign"
categories = ["key"]
matters = ["HB-02"]
quota = "all"
"""
    result = draw(later, earlier=earlier)
    joined = [x for x in result.visits if x.joins is not None]
    assert [(x.uscc, x.joins) for x in joined] == [(v.uscc, (1, "2026-11-20"))]
    assert result.new_visits == len(result.visits) - 1


TASK_SOURCES = ("annual", "local_campaign", "national_campaign")


@st.composite
def quarters(draw_: st.DrawFn) -> tuple[int, list[list[tuple[str, str, float]]]]:
    cap = draw_(st.integers(1, 2))
    plan = draw_(st.lists(st.lists(st.tuples(
        st.sampled_from(TASK_SOURCES), st.sampled_from(["key", "general", "special", ""]),
        st.sampled_from([0.3, 0.6, 1.0])), min_size=1, max_size=3), min_size=1, max_size=4))
    return cap, plan


def _task_text(n: int, source: str, category: str, ratio: float) -> str:
    cats = f'categories = ["{category}"]\n' if category else ""
    return (f'[[inspection.tasks]]\nid = "t{n}"\nname = "任务{n}"\nsource = "{source}"\n'
            f'{cats}matters = ["HB-02"]\nratio = {ratio}\n')


@settings(max_examples=25, deadline=None)
@given(quarters())
def test_the_cap_is_never_exceeded_across_tasks_and_quarters(
        case: tuple[int, list[list[tuple[str, str, float]]]]) -> None:
    """Four quarters, each with up to three tasks drawn one after another (each later one as
    a mid-quarter task seeing the earlier visits): no firm gets more counting visits in the
    year than the cap."""
    cap, plan = case
    history = HISTORY.iloc[:0].copy()
    counting: dict[str, int] = {}
    for q, batch in enumerate(plan, start=1):
        period = Period.parse(f"2026Q{q}")
        earlier = EMPTY_EARLIER.copy()
        for n, spec in enumerate(batch):
            r = dataclasses.replace(rules(_task_text(n, *spec)).inspection, annual_cap=cap)
            result = draw_tasks(companies(30), POSITIVE, NO_PROJECTS, history, earlier,
                                r.tasks, r, period, f"{SEED}{q}", 9)
            rows = []
            for v in result.visits:
                if v.joins is not None:
                    continue
                if v.counts_toward_cap:
                    counting[v.uscc] = counting.get(v.uscc, 0) + 1
                rows.append({"uscc": v.uscc, "date": v.window.start, "team_size": "2",
                             "counts": "yes" if v.counts_toward_cap else "no",
                             "draw": str(n + 1), "tasks": ";".join(v.tasks),
                             "inspectors": ""})
            if rows:
                earlier = pd.concat([earlier, pd.DataFrame(rows, dtype=object)],
                                    ignore_index=True)
        assert all(c <= cap for c in counting.values()), counting
        history = pd.concat([history, pd.DataFrame(
            [{"uscc": r_.uscc, "date": r_.date,
              "kind": "random" if r_.counts == "yes" else "national_campaign",
              "source": f"tasks:{period}"} for r_ in earlier.itertuples()],
            columns=["uscc", "date", "kind", "source"], dtype=object)], ignore_index=True)


def test_a_population_of_project_developers() -> None:
    projects = pd.DataFrame([
        {"project_id": "P1", "name": "扩建", "doc_type": "report", "approved_on": "2025-03-01",
         "agency_uscc": "", "developer": " 企业1 ", "industry": "化工", "district": ""},
        {"project_id": "P2", "name": "新建", "doc_type": "form", "approved_on": "2025-11-30",
         "agency_uscc": "", "developer": "企业2", "industry": "化工", "district": ""},
        {"project_id": "P3", "name": "技改", "doc_type": "form", "approved_on": "2025-12-01",
         "agency_uscc": "", "developer": "企业4", "industry": "化工", "district": ""},
        {"project_id": "P4", "name": "迁建", "doc_type": "form", "approved_on": "2025-05-01",
         "agency_uscc": "", "developer": "不在名录的公司", "industry": "化工", "district": ""},
        {"project_id": "P5", "name": "另一个", "doc_type": "form", "approved_on": "2025-06-01",
         "agency_uscc": "", "developer": "企业5", "industry": "化工", "district": ""}])
    text = """
[[inspection.tasks]]
id = "sts"
name = "三同时检查"
source = "local_campaign"
projects_approved = ["2025-01-01", "2025-11-30"]
matters = ["HB-05"]
quota = "all"
"""
    r = rules(text)
    result = draw_tasks(companies(), POSITIVE, projects, HISTORY, EMPTY_EARLIER,
                        r.inspection.tasks, r.inspection, Q4, SEED, 9)
    (sample,) = result.samples
    # 企业1 and 企业2 (approved in range); 企业4 approved after it; 企业5 is closed
    assert list(sample.frame) == sorted([uscc(1), uscc(2)])
    assert sample.drawn == sample.frame and sample.unmatched_developers == 1
    with pytest.raises(RulesError, match="takes no category"):
        rules(text.replace('quota = "all"', 'quota = "all"\ncategories = ["key"]'))


def test_a_draw_inside_the_period_counts_its_visits_so_far_and_cuts_the_windows() -> None:
    """A draw on 2026-11-20 dates visits from 2026-11-21: the period's visits before that day
    count toward the cap (key firm 21, 2026-10-15), a later one (24) does not, and every
    task's window begins no earlier."""
    october = pd.concat([HISTORY, pd.DataFrame([
        {"uscc": uscc(21), "date": "2026-10-15", "kind": "random", "source": "import"},
        {"uscc": uscc(24), "date": "2026-11-25", "kind": "random", "source": "import"}])],
        ignore_index=True)
    r = rules(THREE).inspection
    day = date(2026, 11, 21)
    assert counting_visits(october, EMPTY_EARLIER, r, Q4) == {uscc(3): 1, uscc(15): 1}
    assert counting_visits(october, EMPTY_EARLIER, r, Q4, day) == {
        uscc(3): 1, uscc(15): 1, uscc(21): 1}
    tasks = quarter_tasks(rules(THREE.replace('end = "2026-11-30"', 'end = "2026-12-31"'))
                          .inspection)
    before = draw_tasks(companies(48), POSITIVE, NO_PROJECTS, october, EMPTY_EARLIER, tasks,
                        r, Q4, SEED, 9)
    inside = draw_tasks(companies(48), POSITIVE, NO_PROJECTS, october, EMPTY_EARLIER, tasks,
                        r, Q4, SEED, 9, day)
    assert [s.excluded["annual_cap"] for s in before.samples][0] == 2
    assert [s.excluded["annual_cap"] for s in inside.samples][0] == 3
    assert uscc(21) in before.samples[0].frame and uscc(21) not in inside.samples[0].frame
    assert [s.window for s in before.samples] == [
        Window("2026-10-01", "2026-12-31"), Window("2026-10-12", "2026-12-31"),
        Window("2026-11-02", "2026-12-31")]
    assert {s.window for s in inside.samples} == {Window("2026-11-21", "2026-12-31")}
    assert inside.visits and all(v.window.start == "2026-11-21" for v in inside.visits)
    with pytest.raises(SuijiError, match=r"Task 'vocs' ends on 2026-11-30, before 2026-12-02"):
        draw_tasks(companies(48), POSITIVE, NO_PROJECTS, HISTORY, EMPTY_EARLIER,
                   quarter_tasks(rules(THREE).inspection), r, Q4, SEED, 9, date(2026, 12, 2))
