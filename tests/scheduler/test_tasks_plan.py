"""suiji.scheduler.tasks_plan: the task plan as a recorded, verifiable draw (suiji-tasks/1)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from suiji.data.bundle import verify_bundle, write_bundle
from suiji.data.draws import current_draw, output_bytes, stored_output
from suiji.data.errors import FreezeError, InputFileError, RulesError, SuijiError, UsageError
from suiji.data.period import Period
from suiji.data.snapshot import freeze, latest_snapshot
from suiji.data.store import Store
from suiji.data.verify import verify_store
from suiji.sampler.tickets import smallest
from suiji.scheduler.algorithms import REGISTRY
from suiji.scheduler.tasks_plan import compute_task_plan, draw_task_plan
from tests.fixtures.clock import Calendar
from tests.fixtures.tasks_world import MATTERS, SEED, fill, rules, uscc
from tests.sampler.test_tasks import THREE

Q3, Q4 = Period.parse("2026Q3"), Period.parse("2026Q4")


_CALENDAR: list[Calendar] = []


@pytest.fixture(autouse=True)
def calendar(monkeypatch: pytest.MonkeyPatch) -> Calendar:
    """These tests draw before and inside 2026Q3 and 2026Q4: their calendar starts on
    2026-06-01 and each draw moves it to its day (:func:`on`), so the record's time agrees
    with the drawn_on it records."""
    cal = Calendar(monkeypatch, date(2026, 6, 1))
    _CALENDAR[:] = [cal]
    return cal


def on(day: date) -> date:
    """Move the tests' calendar to ``day`` (never back) and return it, for ``today=``."""
    _CALENDAR[0].on(day)
    return day


def eve(period: Period) -> date:
    """The day before the period: a plan drawn then may date visits from its first day."""
    return on(period.first_day - timedelta(days=1))

FLOOD = """
[[inspection.tasks]]
id = "flood"
name = "汛期风险排查（地方专项）"
source = "local_campaign"
categories = ["key", "general"]
matters = ["HB-02"]
quota = "count"
count = 6
start = "2026-11-16"
end = "2026-12-31"
"""
RULES = rules(THREE)


@pytest.fixture
def frozen(store: Store) -> Store:
    fill(store)
    freeze(store, Q4, "tasks", RULES)
    return store


def test_the_plan_has_one_visit_per_firm_inside_its_tasks_windows(frozen: Store) -> None:
    record = draw_task_plan(frozen, Q4, RULES, seed=SEED, today=eve(Q4))
    out = record.output
    assert (record.algorithm, record.subject) == ("suiji-tasks/1", "annual+vocs+national")
    assert out["snapshot"] == latest_snapshot(frozen, Q4, "tasks").digest
    tasks = {t["id"]: t for t in out["tasks"]}
    assert [t["id"] for t in out["tasks"]] == ["annual", "vocs", "national"]
    assert tasks["annual"]["excluded"] == {"positive_list": 1, "annual_cap": 2}
    assert tasks["national"]["excluded"] == {"positive_list": 1, "annual_cap": 0}
    days = {d.isoformat() for d in latest_snapshot(frozen, Q4, "tasks").working_days}
    usccs = [v["uscc"] for v in out["visits"]]
    assert len(usccs) == len(set(usccs)) == out["summary"]["visits"]
    pairs = 0
    for v in out["visits"]:
        assert v["date"] in days
        for t in v["tasks"]:
            assert tasks[t]["window"][0] <= v["date"] <= tasks[t]["window"][1]
        assert len(v["inspectors"]) == max(tasks[t]["team_size"] for t in v["tasks"])
        assert v["counts"] == any(tasks[t]["counts"] for t in v["tasks"])
        assert v["kind"] == ("random" if "annual" in v["tasks"] else
                             "local_campaign" if "vocs" in v["tasks"] else "national_campaign")
        assert set(v["matters"]) <= set(out["matters"])
        pairs += len(v["tasks"])
    assert pairs == out["summary"]["firm_tasks"] == sum(t["drawn"] for t in out["tasks"])
    assert out["summary"]["visits"] < pairs  # the tasks' samples share firms
    assert out["matters"]["HB-06"]["basis"] == MATTERS.loc[2, "basis"]
    # each task alone is the smallest tickets of its population
    snapshot = latest_snapshot(frozen, Q4, "tasks")
    for t in out["tasks"]:
        drawn = sorted(v["uscc"] for v in out["visits"] if t["id"] in v["tasks"])
        assert len(drawn) == t["drawn"] == t["quota"]
        assert t["probability"] == t["quota"] / t["eligible"]
    frame = sorted(u for u, c in zip(snapshot.frame("companies.csv")["uscc"],
                                     snapshot.frame("companies.csv")["category"], strict=True)
                   if c == "key")
    annual = [u for u in frame if u not in (
        uscc(3), uscc(6), uscc(15))]
    assert sorted(v["uscc"] for v in out["visits"] if "annual" in v["tasks"]) \
        == sorted(smallest(annual, SEED, tasks["annual"]["quota"]))


def test_recorded_task_plan_recomputes_byte_for_byte(frozen: Store) -> None:
    record = draw_task_plan(frozen, Q4, RULES, seed=SEED, today=eve(Q4))
    assert REGISTRY.draw(record.algorithm) is compute_task_plan
    again = compute_task_plan(latest_snapshot(frozen, Q4, "tasks"), SEED, record.params)
    assert output_bytes(again) == stored_output(frozen, record.id).encode("utf-8")
    assert verify_store(frozen, REGISTRY).ok


def test_a_mid_quarter_campaign_is_drawn_alone_and_leaves_the_drawn_tasks_unchanged(
        frozen: Store) -> None:
    first = draw_task_plan(frozen, Q4, RULES, seed=SEED, today=eve(Q4))
    mid = date(2026, 11, 13)  # the campaign is decided and drawn mid-quarter
    before = stored_output(frozen, first.id)
    later = rules(THREE + FLOOD)
    with pytest.raises(FreezeError, match="period-visits.csv, rules.toml"):
        draw_task_plan(frozen, Q4, later, tasks=["flood"], today=on(mid))
    freeze(frozen, Q4, "tasks", later)
    with pytest.raises(UsageError, match="period's seed 80417263950183746251"):
        draw_task_plan(frozen, Q4, later, tasks=["flood"], seed="11111111111111111111",
                       today=on(mid))
    with pytest.raises(SuijiError, match="annual of 2026Q4 are drawn already"):
        draw_task_plan(frozen, Q4, later, tasks=["annual", "flood"], today=on(mid))
    second = draw_task_plan(frozen, Q4, later, today=on(mid))  # default: the tasks not drawn yet
    assert (second.subject, second.seed) == ("flood", SEED)
    assert stored_output(frozen, first.id) == before  # byte-identical
    assert current_draw(frozen, str(Q4), "tasks", first.subject) == first
    out = second.output
    assert out["drawn_on"] == "2026-11-13" and min(v["date"] for v in out["visits"]) > "2026-11-13"
    (flood,) = out["tasks"]
    first_counting = {v["uscc"] for v in first.output["visits"] if v["counts"]}
    flood_firms = {v["uscc"] for v in out["visits"]} | {j["uscc"] for j in out["joined"]}
    assert not flood_firms & first_counting  # at the cap of 1 after the first draw
    assert flood["excluded"]["annual_cap"] >= 2 + len(
        {v["uscc"] for v in first.output["visits"] if v["counts"] and
         v["category"] in ("key", "general")})
    # the inspectors' earlier load: nobody has two visits on one day beyond the daily cap
    per_day: dict[tuple[str, str], int] = {}
    for v in first.output["visits"] + out["visits"]:
        for b in v["inspectors"]:
            per_day[b, v["date"]] = per_day.get((b, v["date"]), 0) + 1
    assert max(per_day.values()) <= 2
    assert verify_store(frozen, REGISTRY).ok
    with pytest.raises(SuijiError, match="Every task of the rules is drawn"):
        draw_task_plan(frozen, Q4, later, today=on(mid))


def test_the_next_quarter_counts_the_task_visits_toward_the_cap(store: Store) -> None:
    fill(store)
    tasks_q3 = rules("""
[[inspection.tasks]]
id = "annual"
name = "重点双随机"
categories = ["key"]
matters = ["HB-01"]
ratio = 0.5
""")
    freeze(store, Q3, "tasks", tasks_q3)
    q3 = draw_task_plan(store, Q3, tasks_q3, seed=SEED, today=eve(Q3))
    visited = {v["uscc"] for v in q3.output["visits"]}
    freeze(store, Q4, "tasks", tasks_q3)
    history = latest_snapshot(store, Q4, "tasks").frame("history.csv")
    assert {u for u, s in zip(history["uscc"], history["source"], strict=True)
            if s == "tasks:2026Q3"} == visited
    q4 = draw_task_plan(store, Q4, tasks_q3, seed=SEED, today=eve(Q4))
    (annual,) = q4.output["tasks"]
    assert annual["excluded"]["annual_cap"] == 2 + len(visited)
    assert not visited & {v["uscc"] for v in q4.output["visits"]}


def test_refusals_name_what_to_fix(store: Store) -> None:
    fill(store)
    bare = store.read("matters").iloc[:0]
    store.replace("matters", bare)
    freeze(store, Q4, "tasks", RULES)
    with pytest.raises(SuijiError, match="names matter\\(s\\) HB-01 that are not on the list"):
        draw_task_plan(store, Q4, RULES, seed=SEED, today=eve(Q4))
    with pytest.raises(SuijiError, match="No task 'nope' in the rules"):
        draw_task_plan(store, Q4, RULES, tasks=["nope"], seed=SEED, today=eve(Q4))
    store.replace("matters", MATTERS)
    freeze(store, Q3, "tasks", RULES)
    with pytest.raises(RulesError, match="must lie inside 2026Q3"):
        draw_task_plan(store, Q3, RULES, seed=SEED, today=Q3.first_day)  # refused: no record


def test_rules_without_tasks_draw_the_three_category_tasks(store: Store) -> None:
    fill(store)
    plain = rules("")
    freeze(store, Q4, "tasks", plain)
    out = draw_task_plan(store, Q4, plain, seed=SEED, today=eve(Q4)).output
    assert [(t["id"], t["quota_rule"]["mode"]) for t in out["tasks"]] == [
        ("key", "ratio"), ("general", "ratio"), ("special", "annual_all")]
    for v in out["visits"]:  # "*": every listed matter that applies to the firm
        assert "HB-02" in v["matters"]
        assert ("HB-08" in v["matters"]) == (v["category"] == "special")
        assert ("HB-06" in v["matters"]) == (v["industry"] == "化工")
    assert all(date.fromisoformat(v["date"]) >= Q4.first_day for v in out["visits"])


def _check_srs(tmp_path: Path) -> Path:
    text = (Path(__file__).resolve().parents[2] / "ALGORITHM.md").read_text("utf-8")
    script = re.search(r"```python\n(# check_srs\.py.*?)```", text, re.S)
    assert script is not None, "ALGORITHM.md lost its check_srs.py"
    path = tmp_path / "check_srs.py"
    path.write_text(script.group(1), "utf-8")
    return path


def test_the_bundle_covers_tasks_and_its_script_reproduces_each_task(
        frozen: Store, tmp_path: Path) -> None:
    pytest.importorskip("consistent_sampler")
    first = draw_task_plan(frozen, Q4, RULES, seed=SEED, today=eve(Q4))
    later = rules(THREE + FLOOD)
    # a complaint-turned-routine visit of 2026-10-20, imported before the campaign is drawn
    # on 2026-11-13: it counts toward the cap of the campaign (and the script must agree)
    visited = {v["uscc"] for v in first.output["visits"]}
    extra = next(uscc(i) for i in range(48) if i % 3 != 2 and i not in (3, 5, 6, 15)
                 and uscc(i) not in visited)
    history = frozen.read("inspections")
    frozen.replace("inspections", pd.concat([history, pd.DataFrame([
        {"uscc": extra, "date": "2026-10-20", "kind": "random"}])], ignore_index=True))
    freeze(frozen, Q4, "tasks", later)
    flood = draw_task_plan(frozen, Q4, later, tasks=["flood"], today=on(date(2026, 11, 13)))
    assert extra not in {v["uscc"] for v in flood.output["visits"]}
    assert flood.output["tasks"][0]["window"] == ["2026-11-16", "2026-12-31"]
    bundle = tmp_path / "bundle"
    write_bundle(frozen, str(Q4), bundle, registry=REGISTRY)
    assert verify_bundle(bundle, REGISTRY).ok
    script = _check_srs(tmp_path)
    done = subprocess.run([sys.executable, str(script), str(bundle)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [x.split(":")[0] for x in lines] == [
        f"draw {first.id} tasks annual", f"draw {first.id} tasks vocs",
        f"draw {first.id} tasks national", f"draw {first.id + 1} tasks flood"]
    assert all(x.endswith("OK") for x in lines)
    # a forged visit list is caught by the same script
    out = bundle / "outputs" / f"draw-{first.id}.json"
    doc = json.loads(out.read_text("utf-8"))
    doc["visits"] = doc["visits"][1:]
    out.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    forged = subprocess.run([sys.executable, str(script), str(bundle)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert forged.returncode == 1 and "DIFFERS" in forged.stdout
    assert not verify_bundle(bundle, REGISTRY).ok


def test_a_visit_not_carried_out_does_not_count_next_quarter(store: Store) -> None:
    import pandas as pd

    from suiji.data.matter_results import record_matter_results

    fill(store)
    annual = rules("""
[[inspection.tasks]]
id = "annual"
name = "重点双随机"
categories = ["key"]
matters = ["HB-01", "HB-02"]
ratio = 0.5
""")
    freeze(store, Q3, "tasks", annual)
    q3 = draw_task_plan(store, Q3, annual, seed=SEED, today=eve(Q3))
    skipped = q3.output["visits"][0]
    record_matter_results(store, pd.DataFrame([
        {"uscc": skipped["uscc"], "matter": m, "outcome": "not_carried_out", "date": "",
         "reason": "停产", "period": ""} for m in skipped["matters"]]), period="2026Q3")
    freeze(store, Q4, "tasks", annual)
    history = latest_snapshot(store, Q4, "tasks").frame("history.csv")
    sources = set(zip(history["uscc"], history["source"], strict=True))
    assert (skipped["uscc"], "tasks:2026Q3") not in sources
    assert len([s for s in sources if s[1] == "tasks:2026Q3"]) == len(q3.output["visits"]) - 1
    with pytest.raises(InputFileError, match="needs a reason"):
        record_matter_results(store, pd.DataFrame([
            {"uscc": skipped["uscc"], "matter": "HB-01", "outcome": "not_carried_out",
             "date": "", "reason": "", "period": "2026Q3"}]), period=None)


def test_the_quarterly_report_counts_results_by_task_and_matter(frozen: Store,
                                                                tmp_path: Path) -> None:
    from suiji.reports.exports import write_report

    draw_task_plan(frozen, Q4, RULES, seed=SEED, today=eve(Q4))
    written = write_report(frozen, Q4, tmp_path / "report")
    page = (tmp_path / "report" / "report.html").read_text("utf-8")
    assert "抽查任务与按事项的检查结果" in page and "责令改正" in page and "立案" in page
    assert "VOCs 地方专项" in page and "《中华人民共和国大气污染防治法》第四十五条" in page
    assert "report.xlsx" in written.files


def test_a_later_inspections_plan_sees_the_task_visits(store: Store) -> None:
    fill(store)
    annual = rules("""
[[inspection.tasks]]
id = "annual"
name = "重点双随机"
categories = ["key"]
matters = ["HB-01"]
ratio = 0.5
""")
    freeze(store, Q3, "tasks", annual)
    q3 = draw_task_plan(store, Q3, annual, seed=SEED, today=eve(Q3))
    freeze(store, Q4, "inspections", annual)
    history = latest_snapshot(store, Q4, "inspections").frame("history.csv")
    rows = {(u, k) for u, k, s in zip(history["uscc"], history["kind"], history["source"],
                                      strict=True) if s == "tasks:2026Q3"}
    assert rows == {(v["uscc"], "random") for v in q3.output["visits"]}


def test_a_redraw_replaces_its_own_visits_not_counting_them(frozen: Store) -> None:
    first = draw_task_plan(frozen, Q4, RULES, seed=SEED, today=eve(Q4))
    freeze(frozen, Q4, "tasks", RULES)  # period-visits.csv now holds the first draw's visits
    again = draw_task_plan(frozen, Q4, RULES, tasks=["annual", "vocs", "national"],
                           redraw=True, reason="名录有误", today=eve(Q4))
    assert again.output["visits"] == first.output["visits"]  # same seed, same inputs
    assert again.output["joined"] == []
    assert current_draw(frozen, str(Q4), "tasks", first.subject) == again
    freeze(frozen, Q4, "tasks", RULES)
    with pytest.raises(SuijiError, match="exactly the tasks of the one draw"):
        draw_task_plan(frozen, Q4, RULES, tasks=["annual"], redraw=True, reason="x",
                       today=eve(Q4))
    assert verify_store(frozen, REGISTRY).ok


def test_the_tasks_preset_draws_todays_plan_when_only_double_random_visits_count(
        store: Store) -> None:
    """With cap_kinds = ["random"] (the cap of suiji-inspections/1) the `tasks` preset's three
    tasks draw exactly the firms of today's three category strata."""
    from suiji.data.rules import parse_rules, preset_text
    from suiji.scheduler.plan import draw_plan

    fill(store)
    text = preset_text("tasks").replace("[inspection]\n", '[inspection]\ncap_kinds = '
                                        '["random"]\n', 1)
    same = parse_rules(text)
    freeze(store, Q4, "inspections", same)
    freeze(store, Q4, "tasks", same)
    # the task plan first: one drawn after the plan would count the plan's inspections
    tasks = draw_task_plan(store, Q4, same, seed=SEED, today=eve(Q4)).output
    today = draw_plan(store, Q4, same, seed=SEED, today=eve(Q4)).output
    by_category = {c: sorted(i["uscc"] for i in today["items"] if i["stratum"] == c)
                   for c in ("key", "general", "special")}
    assert by_category == {t: sorted(v["uscc"] for v in tasks["visits"] if t in v["tasks"])
                           for t in ("key", "general", "special")}
    assert {s["category"]: s["eligible"] for s in today["strata"]} == {
        t["id"]: t["eligible"] for t in tasks["tasks"]}


def test_visits_are_dated_after_the_draw_as_inspections_2_are(frozen: Store) -> None:
    """Drawn on 2026-11-20, the tasks date their visits from the working day after the draw
    (plan_start of suiji-inspections/2), record drawn_on and start, and still verify."""
    with pytest.raises(UsageError, match="--start 2026-11-20 is before 2026-11-21"):
        draw_task_plan(frozen, Q4, RULES, seed=SEED, today=on(date(2026, 11, 20)),
                       start=date(2026, 11, 20))
    record = draw_task_plan(frozen, Q4, RULES, seed=SEED, today=on(date(2026, 11, 20)))
    assert record.params == {"tasks": ["annual", "vocs", "national"],
                             "drawn_on": "2026-11-20", "start": "2026-11-21"}
    out = record.output
    assert (out["drawn_on"], out["start"]) == ("2026-11-20", "2026-11-21")
    assert {t["id"]: t["window"] for t in out["tasks"]} == {
        "annual": ["2026-11-21", "2026-12-31"], "vocs": ["2026-11-21", "2026-11-30"],
        "national": ["2026-11-21", "2026-12-31"]}
    assert out["visits"] and min(v["date"] for v in out["visits"]) >= "2026-11-23"  # a Monday
    assert all(v["window"][0] >= "2026-11-21" for v in out["visits"])
    assert verify_store(frozen, REGISTRY).ok
    params = dict(record.params, start="2026-11-20")
    with pytest.raises(SuijiError, match="start 2026-11-20 must be after the draw on 2026-11-20"):
        compute_task_plan(latest_snapshot(frozen, Q4, "tasks"), SEED, params)
    with pytest.raises(SuijiError, match="takes params"):
        compute_task_plan(latest_snapshot(frozen, Q4, "tasks"), SEED, {"tasks": ["annual"]})


def test_tasks_drawn_after_the_double_random_plan_count_and_join_its_inspections(
        store: Store) -> None:
    """The period's own suiji-inspections/2 plan is in period-visits.csv: its firms are at
    the cap for the counting tasks, a national campaign (team of 2 here) joins its
    inspections where the dates fit, and the inspectors keep its load."""
    from suiji.scheduler.plan import draw_plan

    same_team = rules(THREE.replace("team_size = 3\n", ""))
    fill(store)
    freeze(store, Q4, "inspections", same_team)
    plan = draw_plan(store, Q4, same_team, seed=SEED, today=eve(Q4)).output
    planned = {i["uscc"]: i for i in plan["items"]}
    freeze(store, Q4, "tasks", same_team)
    frozen_visits = latest_snapshot(store, Q4, "tasks").frame("period-visits.csv")
    assert set(frozen_visits["uscc"]) == set(planned)
    assert set(frozen_visits["tasks"]) == {""} and set(frozen_visits["counts"]) == {"yes"}
    out = draw_task_plan(store, Q4, same_team, seed=SEED, today=on(date(2026, 10, 20))).output
    tasks = {t["id"]: t for t in out["tasks"]}
    for v in out["visits"]:
        assert v["uscc"] not in planned or not v["counts"]  # one counting visit a year
        if v["uscc"] in planned:  # a national campaign's second visit: exempt, other dates
            assert v["exempt"] and v["tasks"] == ["national"]
            assert planned[v["uscc"]]["date"] < "2026-11-02"
    assert tasks["annual"]["excluded"]["annual_cap"] == 2 + sum(
        1 for i in plan["items"] if i["category"] == "key")
    assert out["joined"]  # the campaign's firms already planned from 2026-11-02 on
    for j in out["joined"]:
        item = planned[j["uscc"]]
        assert (j["date"], j["tasks"]) == (item["date"], ["national"])
        assert item["date"] >= "2026-11-02"
    per_day: dict[tuple[str, str], int] = {}
    for v in plan["items"] + out["visits"]:
        for b in v["inspectors"]:
            per_day[b, v["date"]] = per_day.get((b, v["date"]), 0) + 1
    assert max(per_day.values()) <= 2
    assert verify_store(store, REGISTRY).ok
