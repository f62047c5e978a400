"""suiji.scheduler.plan and suiji.data.results: the plan as a recorded, verifiable draw."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from suiji.data import draws
from suiji.data.audit import verify_store
from suiji.data.draws import current_draw, output_bytes
from suiji.data.errors import (
    AlreadyDrawnError,
    FreezeError,
    InfeasibleError,
    InputFileError,
    SuijiError,
    UsageError,
)
from suiji.data.period import Period
from suiji.data.results import record_results
from suiji.data.rules import Rules, parse_rules, preset_text
from suiji.data.snapshot import freeze, latest_snapshot
from suiji.data.store import Store
from suiji.sampler.tickets import ticket_string
from suiji.scheduler import plan as plan_module
from suiji.scheduler.algorithms import REGISTRY
from suiji.scheduler.plan import (
    compute_plan,
    compute_substitution_v2,
    draw_plan,
    substitute_inspector,
)
from tests.fixtures.clock import fixed_clock

Q3, Q4 = Period.parse("2026Q3"), Period.parse("2026Q4")
SEED = "80417263950183746251"
RULES = parse_rules(preset_text())
DRAWN_ON = date(2026, 6, 20)  # before both quarters drawn here: every working day is open
DISTRICTS = ("东区", "西区")
CATEGORIES = ("key", "general", "special")


def uscc(i: int) -> str:
    return f"91320100MA{i:07d}X"


def companies(n: int = 36, order: list[int] | None = None) -> pd.DataFrame:
    rows = [{"uscc": uscc(i), "name": f"企业{i}", "district": DISTRICTS[i % 2], "city": "江州市",
             "category": CATEGORIES[i % 3], "industry": "化工",
             "status": "closed" if i == 5 else "active", "risk": ""} for i in range(n)]
    return pd.DataFrame([rows[i] for i in (order or range(n))])


def inspectors(n: int = 9) -> pd.DataFrame:
    units = (*DISTRICTS, "全市")
    return pd.DataFrame([{"badge": f"B{j:03d}", "name": f"人{j}", "unit": "支队",
                          "district": units[j % 3], "city": "江州市", "active": "yes",
                          "capacity": "", "daily_capacity": ""} for j in range(n)])


def fill(store: Store, n: int = 36, n_inspectors: int = 9,
         order: list[int] | None = None) -> None:
    store.replace("companies", companies(n, order))
    store.replace("inspectors", inspectors(n_inspectors))
    store.replace("positive-list", pd.DataFrame([
        {"uscc": uscc(7), "start": "2026-01-01", "end": "2028-12-31"}]))
    store.replace("inspections", pd.DataFrame([
        {"uscc": uscc(8), "date": "2026-03-03", "kind": "random"},
        {"uscc": uscc(9), "date": "2026-03-03", "kind": "complaint"}]))


def rules_with(**inspection: object) -> Rules:
    text = preset_text()
    for key, value in inspection.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} ="))
        new = f"{key} = {json.dumps(value)}"
        text = text.replace(old, new, 1)
    return parse_rules(text)


@pytest.fixture(autouse=True)
def _recorded_on_the_day_of_the_draws() -> Iterator[None]:
    """The plans here are drawn on DRAWN_ON (before both quarters): the record is written
    then too, so verify finds each ``drawn_on`` on the day of its log entry."""
    with fixed_clock(f"{DRAWN_ON.isoformat()}T02:00:00"):
        yield


@pytest.fixture
def frozen(store: Store) -> Store:
    fill(store)
    freeze(store, Q4, "inspections", RULES)
    return store


def log_count(store: Store) -> int:
    return len(store.log_entries())


# --- the plan --------------------------------------------------------------------------


def test_plan_output_has_the_published_shape(frozen: Store) -> None:
    record = draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON)
    out = record.output
    assert list(out) == sorted(["algorithm", "period", "seed", "snapshot", "strata", "excluded",
                                "exclusions", "items", "solver", "start", "drawn_on"])
    assert (out["algorithm"], out["period"], out["seed"]) == ("suiji-inspections/2", "2026Q4",
                                                              SEED)
    assert (out["drawn_on"], out["start"]) == ("2026-06-20", "2026-10-01")
    assert record.params == {"drawn_on": "2026-06-20", "start": "2026-10-01"}
    assert out["snapshot"] == latest_snapshot(frozen, Q4, "inspections").digest
    assert out["excluded"] == {"status": 1, "positive_list": 1, "annual_cap": 1}
    assert out["exclusions"] == [
        {"uscc": uscc(5), "name": "企业5", "district": "西区", "category": "special",
         "reason": "status"},
        {"uscc": uscc(7), "name": "企业7", "district": "西区", "category": "general",
         "reason": "positive_list"},
        {"uscc": uscc(8), "name": "企业8", "district": "东区", "category": "special",
         "reason": "annual_cap"}]
    strata = {s["category"]: s for s in out["strata"]}
    assert {k: (s["eligible"], s["quota"], s["drawn"], s["method"]) for k, s in strata.items()} \
        == {"key": (12, 3, 3, "srs"), "general": (11, 1, 1, "srs"),
            "special": (10, 10, 10, "srs")}
    assert set(out["solver"]) == {"status", "method", "unique", "objective", "arcs",
                                  "components"}
    assert out["solver"]["method"] == "min-cost-flow"  # no CP-SAT date fallback needed
    assert out["solver"]["status"] == "optimal"
    items = out["items"]
    assert len(items) == 14
    assert items == sorted(items, key=lambda i: (i["date"], i["district"], i["uscc"]))
    days = {d.isoformat() for d in latest_snapshot(frozen, Q4, "inspections").working_days}
    unit = {f"B{j:03d}": (*DISTRICTS, "全市")[j % 3] for j in range(9)}
    for item in items:
        assert set(item) == {"uscc", "name", "district", "city", "category", "industry",
                             "probability", "ticket", "date", "inspectors", "stratum"}
        assert item["stratum"] == item["category"]
        assert item["ticket"] == ticket_string(item["uscc"], SEED)
        assert item["date"] in days
        team = item["inspectors"]
        assert len(team) == 2 and team == sorted(set(team))
        assert all(unit[b] in (item["district"], "全市") for b in team)
        assert item["probability"] == {"key": 3 / 12, "general": 1 / 11,
                                       "special": 1.0}[item["category"]]
    assert not {i["uscc"] for i in items} & {uscc(5), uscc(7), uscc(8)}


def test_recorded_plan_recomputes_byte_for_byte_from_the_registry(frozen: Store) -> None:
    record = draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON)
    assert record.algorithm == "suiji-inspections/2"
    # a /2 record is verified with the /2 path (which keeps the legacy CP-SAT fallback for
    # plans recorded with it); a plan that needed no date search is the same either way
    assert REGISTRY.draw(record.algorithm) is plan_module.compute_plan_v2
    assert REGISTRY.draw("suiji-inspections/3") is plan_module.compute_plan_v3
    fn = REGISTRY.draw(record.algorithm)
    snapshot = latest_snapshot(frozen, Q4, "inspections")
    again = output_bytes(fn(snapshot, SEED, dict(record.params)))
    assert again == frozen.conn.execute("SELECT output FROM draws WHERE id = ?",
                                        (record.id,)).fetchone()[0].encode("utf-8")
    assert "T" not in json.dumps(record.output["solver"])  # no time stamps in the output
    assert verify_store(frozen, REGISTRY).ok


def test_plan_does_not_depend_on_input_row_order(tmp_path: Path) -> None:
    outputs = []
    for k, order in enumerate([None, list(reversed(range(36)))]):
        store = Store.init(tmp_path / f"{k}.db")
        fill(store, order=order)
        freeze(store, Q4, "inspections", RULES)
        outputs.append(output_bytes(draw_plan(store, Q4, RULES, seed=SEED, today=DRAWN_ON).output))
        store.close()
    assert outputs[0] == outputs[1]


def test_without_a_seed_one_comes_from_the_os(frozen: Store) -> None:
    record = draw_plan(frozen, Q4, RULES, today=DRAWN_ON)
    assert record.seed_source == "os" and len(record.seed) == 20 and record.seed.isdigit()
    assert record.output["seed"] == record.seed


def test_one_plan_per_period_and_the_redraw_path(frozen: Store) -> None:
    first = draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON)
    with pytest.raises(AlreadyDrawnError, match="--redraw"):
        draw_plan(frozen, Q4, RULES, seed="1" * 20, today=DRAWN_ON)
    with pytest.raises(SuijiError, match="reason"):
        draw_plan(frozen, Q4, RULES, seed="1" * 20, redraw=True, today=DRAWN_ON)
    second = draw_plan(frozen, Q4, RULES, seed="11223344556677889900", redraw=True,
                       reason="名录录入错误", today=DRAWN_ON)
    assert current_draw(frozen, "2026Q4", "inspections") == second
    statuses = frozen.conn.execute("SELECT id, status, reason FROM draws ORDER BY id").fetchall()
    assert statuses == [(first.id, "superseded", ""), (second.id, "current", "名录录入错误")]
    entry = frozen.log_entries()[-1]
    assert entry.action == "redraw" and entry.details["supersedes"] == first.id
    assert verify_store(frozen, REGISTRY).ok


def test_a_draw_on_changed_inputs_is_refused_naming_the_file(frozen: Store) -> None:
    changed = companies()
    changed.loc[3, "name"] = "改名企业"
    frozen.replace("companies", changed)
    before = log_count(frozen)
    with pytest.raises(FreezeError, match="companies.csv"):
        draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON)
    with pytest.raises(FreezeError, match="rules.toml"):
        draw_plan(frozen, Q4, parse_rules(preset_text("chizhou")), seed=SEED, today=DRAWN_ON)
    assert log_count(frozen) == before
    assert current_draw(frozen, "2026Q4", "inspections") is None


def test_no_freeze_no_plan(store: Store) -> None:
    fill(store)
    with pytest.raises(FreezeError, match="suiji freeze --period 2026Q4"):
        draw_plan(store, Q4, RULES, seed=SEED, today=DRAWN_ON)


def test_a_failing_scheduler_leaves_no_draw_and_no_log_entry(
        frozen: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = log_count(frozen)

    def broken(*args: object, **kwargs: object) -> None:
        raise InfeasibleError("no team for 企业1")

    monkeypatch.setattr(plan_module, "schedule", broken)
    with pytest.raises(InfeasibleError, match="企业1"):
        draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON)
    assert log_count(frozen) == before
    assert frozen.conn.execute("SELECT COUNT(*) FROM draws").fetchone()[0] == 0


def test_a_failure_while_recording_rolls_everything_back(
        frozen: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = log_count(frozen)
    real = draws.Store.append_log

    def fail_on_draw(self: Store, action: str, *args: object, **kwargs: object) -> object:
        if action == "draw":
            raise RuntimeError("disk full")
        return real(self, action, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "append_log", fail_on_draw)
    with pytest.raises(RuntimeError, match="disk full"):
        draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON)
    monkeypatch.undo()
    assert log_count(frozen) == before
    assert frozen.conn.execute("SELECT COUNT(*) FROM draws").fetchone()[0] == 0


def test_too_few_inspectors_is_infeasible_with_advice(store: Store) -> None:
    fill(store, n_inspectors=1)
    freeze(store, Q4, "inspections", RULES)
    with pytest.raises(InfeasibleError, match="Try"):
        draw_plan(store, Q4, RULES, seed=SEED, today=DRAWN_ON)
    assert store.conn.execute("SELECT COUNT(*) FROM draws").fetchone()[0] == 0


def test_compute_plan_takes_no_params(frozen: Store) -> None:
    with pytest.raises(SuijiError, match="no parameters"):
        compute_plan(latest_snapshot(frozen, Q4, "inspections"), SEED, {"x": 1})


# --- across periods: the annual cap, results and the last team --------------------------


def test_earlier_plans_count_toward_the_cap_unless_not_carried_out(store: Store) -> None:
    fill(store)
    freeze(store, Q3, "inspections", RULES)
    q3 = draw_plan(store, Q3, RULES, seed=SEED, today=DRAWN_ON).output["items"]
    skipped = q3[0]["uscc"]
    result = record_results(store, pd.DataFrame([
        {"uscc": skipped, "outcome": "not_carried_out", "date": "", "reason": "企业停产检修",
         "period": ""}]), period="2026Q3", file_name="r.csv", file_sha256="0" * 64)
    assert result["recorded"] == 1 and result["period"] == "2026Q3"
    freeze(store, Q4, "inspections", RULES)
    q4 = draw_plan(store, Q4, RULES, seed=SEED, today=DRAWN_ON).output
    capped = {e["uscc"] for e in q4["exclusions"] if e["reason"] == "annual_cap"}
    assert capped == ({i["uscc"] for i in q3} - {skipped}) | {uscc(8)}
    assert not capped & {i["uscc"] for i in q4["items"]}


def test_avoid_last_inspector_uses_the_frozen_previous_teams(store: Store) -> None:
    rules = rules_with(avoid_last_inspector=True, annual_cap=2)
    fill(store)
    freeze(store, Q3, "inspections", rules)
    q3 = draw_plan(store, Q3, rules, seed=SEED, today=DRAWN_ON).output["items"]
    snap = freeze(store, Q4, "inspections", rules)
    previous = snap.frame("previous-teams.csv")
    assert len(previous) == 2 * len(q3) and set(previous["period"]) == {"2026Q3"}
    q4 = draw_plan(store, Q4, rules, seed=SEED, today=DRAWN_ON).output["items"]
    last = {i["uscc"]: set(i["inspectors"]) for i in q3}
    both = [i for i in q4 if i["uscc"] in last]
    assert both  # with a cap of 2, key and general firms can be drawn in both quarters
    for item in both:
        assert not set(item["inspectors"]) & last[item["uscc"]]
    assert verify_store(store, REGISTRY).ok


# --- substitution -------------------------------------------------------------------------


def test_substitution_replaces_only_the_pending_inspections(frozen: Store) -> None:
    record = draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON)
    items = record.output["items"]
    badge = items[len(items) // 2]["inspectors"][0]
    start = items[len(items) // 2]["date"]
    with fixed_clock(f"{start}T02:00:00"):  # recorded on its first day
        result = substitute_inspector(frozen, Q4, badge, "病假", from_date=start,
                                      today=date.fromisoformat(start))
    after = {i["uscc"]: i for i in result.output["items"]}
    for item in items:
        new = after[item["uscc"]]
        assert new["date"] == item["date"]
        if item["date"] >= start and badge in item["inspectors"]:
            assert badge not in new["inspectors"] and len(new["inspectors"]) == 2
            assert set(new["inspectors"]) & set(item["inspectors"])  # the partner stays
        else:
            assert new == item
    assert {r.uscc for r in result.replacements} == {
        i["uscc"] for i in items if i["date"] >= start and badge in i["inspectors"]}
    event = frozen.conn.execute("SELECT kind, params, reason FROM draw_events").fetchone()
    assert event[0] == "substitution" and event[2] == "病假"
    assert json.loads(event[1]) == {"badge": badge, "from": start, "n": 1,
                                    "algorithm": "suiji-substitution/2"}
    assert REGISTRY.event("suiji-inspections/1", "suiji-substitution/2") \
        is compute_substitution_v2
    snapshot = latest_snapshot(frozen, Q4, "inspections")
    assert compute_substitution_v2(snapshot, SEED, record.output, json.loads(event[1])) \
        == result.output
    assert frozen.log_entries()[-1].action == "substitution"
    assert verify_store(frozen, REGISTRY).ok


def test_substitution_errors(frozen: Store) -> None:
    today = date(2026, 10, 1)
    with pytest.raises(SuijiError, match="no inspection plan"):
        substitute_inspector(frozen, Q4, "B001", "病假", from_date="2026-10-01", today=today)
    draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON)
    with pytest.raises(SuijiError, match="nothing to substitute"):
        substitute_inspector(frozen, Q4, "B999", "病假", from_date="2026-10-01", today=today)
    with pytest.raises(SuijiError, match="reason"):
        substitute_inspector(frozen, Q4, "B001", " ", from_date="2026-10-01", today=today)
    with pytest.raises(SuijiError, match="not a date"):
        substitute_inspector(frozen, Q4, "B001", "病假", from_date="十月", today=today)
    assert frozen.conn.execute("SELECT COUNT(*) FROM draw_events").fetchone()[0] == 0


def test_substitution_defaults_to_today(frozen: Store) -> None:
    items = draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON).output["items"]
    badge = items[0]["inspectors"][0]
    after = date.fromisoformat(items[-1]["date"]) + timedelta(days=1)
    with pytest.raises(SuijiError, match="nothing to substitute"):
        substitute_inspector(frozen, Q4, badge, "病假", today=after)
    with pytest.raises(UsageError, match="first day an inspection is still pending"):
        substitute_inspector(frozen, Q4, badge, "病假")  # the library never reads the clock
    first = date.fromisoformat(items[0]["date"])
    assert substitute_inspector(frozen, Q4, badge, "病假", today=first).start == first.isoformat()


# --- results --------------------------------------------------------------------------------


def _results(rows: list[dict[str, str]]) -> pd.DataFrame:
    base = {"uscc": "", "outcome": "no_issue", "date": "", "reason": "", "period": ""}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_results_match_the_unique_plan_and_replace_earlier_ones(frozen: Store) -> None:
    items = draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON).output["items"]
    first, second = items[0], items[1]
    out = record_results(frozen, _results([
        {"uscc": first["uscc"], "outcome": "issue_found"},
        {"uscc": second["uscc"], "outcome": "no_issue", "date": "2026-12-01",
         "period": "2026-Q4"}]), period=None, file_name="结果.csv", file_sha256="a" * 64)
    assert (out["rows"], out["recorded"], out["period"]) == (2, 2, "2026Q4")
    rows = frozen.conn.execute("SELECT uscc, date, outcome, carried_out FROM results "
                               "ORDER BY uscc").fetchall()
    assert sorted(rows) == sorted([(first["uscc"], first["date"], "issue_found", "yes"),
                                   (second["uscc"], "2026-12-01", "no_issue", "yes")])
    out = record_results(frozen, _results([
        {"uscc": first["uscc"], "outcome": "not_carried_out", "reason": "停产"}]),
        period="2026Q4", file_name="更正.csv", file_sha256="b" * 64)
    assert out["updated"] == 1
    assert frozen.conn.execute("SELECT carried_out, note FROM results WHERE uscc = ?",
                               (first["uscc"],)).fetchone() == ("no", "停产")
    entry = frozen.log_entries()[-1]
    assert (entry.action, entry.period) == ("results", "2026Q4")


def test_bad_results_are_rejected_with_row_numbers_and_nothing_written(frozen: Store) -> None:
    items = draw_plan(frozen, Q4, RULES, seed=SEED, today=DRAWN_ON).output["items"]
    before = log_count(frozen)
    with pytest.raises(InputFileError) as err:
        record_results(frozen, _results([
            {"uscc": items[0]["uscc"]},
            {"uscc": uscc(5)},  # closed, never drawn
            {"uscc": items[1]["uscc"], "outcome": "not_carried_out"},
            {"uscc": items[2]["uscc"], "period": "2026Q9"}]),
            period=None, file_name="结果.csv", file_sha256="a" * 64)
    text = str(err.value)
    assert f"row 3: {uscc(5)} is not in any current plan" in text
    assert "row 4, column reason" in text and "row 5, column period" in text
    assert "row 2" not in text
    assert log_count(frozen) == before
    assert frozen.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
    with pytest.raises(InputFileError, match="not in the 2026Q3 plan"):
        record_results(frozen, _results([{"uscc": items[0]["uscc"]}]), period="2026Q3",
                       file_name="", file_sha256="")


def test_a_uscc_in_two_plans_needs_a_period(store: Store) -> None:
    rules = rules_with(annual_cap=2)
    fill(store)
    freeze(store, Q3, "inspections", rules)
    q3 = {i["uscc"] for i in draw_plan(store, Q3, rules, seed=SEED, today=DRAWN_ON).output["items"]}
    freeze(store, Q4, "inspections", rules)
    q4 = {i["uscc"] for i in draw_plan(store, Q4, rules, seed=SEED, today=DRAWN_ON).output["items"]}
    both = sorted(q3 & q4)[0]
    with pytest.raises(InputFileError, match="2026Q3, 2026Q4"):
        record_results(store, _results([{"uscc": both}]), period=None, file_name="",
                       file_sha256="")
    assert record_results(store, _results([{"uscc": both}]), period="2026Q3", file_name="",
                          file_sha256="")["period"] == "2026Q3"


# --- the date search and the legacy CP-SAT plans (ALGORITHM.md, "Which algorithm id ...") ---


def _tight_store(store: Store) -> Rules:
    """Six firms that B01+B02 alone may staff two of; everyone on leave but on 2 and 3 Nov."""
    rules = parse_rules(preset_text().replace('ratio = 0.25', 'ratio = 1.0', 1))
    store.replace("companies", pd.DataFrame([
        {"uscc": uscc(k), "name": f"企业{k}", "district": "甲区", "city": "", "category": "key",
         "industry": "", "status": "active", "risk": ""} for k in range(6)]))
    store.replace("inspectors", pd.DataFrame([
        {"badge": f"B0{j}", "name": f"人{j}", "unit": "支队", "district": "甲区", "city": "",
         "active": "yes", "capacity": "", "daily_capacity": "2"} for j in range(3)]))
    store.replace("inspector-leave", pd.DataFrame([
        {"badge": f"B0{j}", "start": start, "end": end} for j in range(3)
        for start, end in (("2026-10-01", "2026-10-31"), ("2026-11-04", "2026-12-31"))]))
    store.replace("conflicts", pd.DataFrame([
        {"person": "B00", "counterpart": uscc(k), "reason": "亲属", "until": ""}
        for k in (0, 1)]))
    freeze(store, Q4, "inspections", rules)
    return rules


def test_legacy_cp_sat_plans_still_verify_and_a_new_plan_is_recorded_as_v3(
        store: Store) -> None:
    rules = _tight_store(store)
    window = {"drawn_on": DRAWN_ON.isoformat(), "start": "2026-10-01"}
    snapshot = latest_snapshot(store, Q4, "inspections")
    seed = next(s for s in map(str, range(50))
                if plan_module.compute_plan_v3(snapshot, s, window)["algorithm"]
                == "suiji-inspections/3")
    # plans as suiji-inspections/1 and /2 recorded them before the date search: CP-SAT dates
    for algorithm, compute, params in (("suiji-inspections/1", compute_plan, {}),
                                       ("suiji-inspections/2", plan_module.compute_plan_v2,
                                        window)):
        legacy = draws.run_draw(store, period=Q4, scope="inspections", rules=rules,
                                algorithm=algorithm, compute=compute, params=params, seed=seed,
                                redraw=algorithm.endswith("/2"), reason="legacy",
                                weak_seed=True)
        assert legacy.output["solver"]["method"] == "min-cost-flow+cp-sat-dates"
        assert legacy.output["algorithm"] == algorithm
        assert verify_store(store, REGISTRY).ok
    # today's draw of the same inputs: the date search, recorded under its own id
    record = draw_plan(store, Q4, rules, seed=seed, redraw=True, reason="date search",
                       today=DRAWN_ON, weak_seed=True)
    assert record.algorithm == record.output["algorithm"] == "suiji-inspections/3"
    assert record.output["solver"]["method"] == "min-cost-flow+date-search"
    assert record.params == window
    report = verify_store(store, REGISTRY)
    assert report.ok, report
    # each draw was recomputed with the function of its own id
    assert {d.algorithm for d in draws.all_draws(store, str(Q4))} == {
        "suiji-inspections/1", "suiji-inspections/2", "suiji-inspections/3"}
