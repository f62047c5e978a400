"""suiji import matters, draw tasks, export tasks and results status: the task plan CLI."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from suiji.cli.main import cli
from suiji.data.store import Store
from tests.fixtures.clock import Calendar
from tests.fixtures.tasks_world import SEED, fill, uscc
from tests.sampler.test_tasks import THREE

MATTERS = ("事项编号,事项名称,检查依据,检查方式,适用类别,适用行业\n"
           "HB-01,排污许可制度执行情况,《排污许可管理条例》第十七条,现场检查,重点、一般,\n"
           "HB-02,污染防治设施运行情况,《中华人民共和国环境保护法》第四十二条,现场检查,,\n"
           "HB-06,挥发性有机物污染防治情况,《中华人民共和国大气污染防治法》第四十五条,"
           "现场检查,,化工\n")


@pytest.fixture
def env(tmp_path: Path) -> tuple[str, str]:
    db = tmp_path / "t.db"
    store = Store.init(db)
    fill(store)
    store.close()
    rules = tmp_path / "rules.toml"
    from suiji.data.rules import preset_text

    rules.write_text(preset_text() + THREE, "utf-8")
    return str(db), str(rules)


_CALENDAR: list[Calendar] = []


@pytest.fixture(autouse=True)
def calendar(monkeypatch: pytest.MonkeyPatch) -> Calendar:
    """These tests run on the eve of 2026Q4 (when its tasks are drawn) unless a command
    names a later day."""
    cal = Calendar(monkeypatch, date(2026, 9, 30))
    _CALENDAR[:] = [cal]
    return cal


def run(env: tuple[str, str], *args: str, today: str | None = None) -> Result:
    """The command, on ``today`` if given (the tests' calendar moves there, never back)."""
    if today is not None:
        _CALENDAR[0].on(today)
    return CliRunner().invoke(cli, ["--db", env[0], "--rules", env[1], *args])


def test_import_matters_with_chinese_headers_and_a_bad_category(env: tuple[str, str],
                                                                tmp_path: Path) -> None:
    good = tmp_path / "事项清单.csv"
    good.write_text(MATTERS, "utf-8-sig")
    # fill() listed four matters: a list of three is a re-import removing a quarter of them
    guarded = run(env, "import", "matters", str(good))
    assert guarded.exit_code == 1 and "would remove 1 of the 4 current rows" in guarded.output
    done = run(env, "import", "matters", str(good), "--allow-removals", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["rows"] == 3
    store = Store.open(env[0])
    assert store.read("matters")["categories"].tolist() == ["key;general", "", ""]
    store.close()
    bad = tmp_path / "bad.csv"
    bad.write_text(MATTERS.replace("重点、一般", "重点、大型"), "utf-8")
    refused = run(env, "import", "matters", str(bad))
    assert refused.exit_code == 1
    assert "row 2, column 适用类别/categories: '大型' is not a supervision category" \
        in refused.output
    store = Store.open(env[0])
    assert store.current_version("matters") == 2  # fill() + the good file: nothing written
    store.close()


def test_draw_tasks_prints_and_records_per_task_and_overall(env: tuple[str, str]) -> None:
    assert run(env, "freeze", "-p", "2026Q4", "--scope", "tasks").exit_code == 0
    done = run(env, "draw", "tasks", "-p", "2026Q4", "--seed", SEED, "--json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert out["subject"] == "annual+vocs+national"
    assert [t["id"] for t in out["tasks"]] == ["annual", "vocs", "national"]
    assert out["summary"]["firm_tasks"] == sum(t["drawn"] for t in out["tasks"])
    assert out["summary"]["visits"] < out["summary"]["firm_tasks"]
    text = run(env, "draw", "tasks", "-p", "2026Q4")
    assert text.exit_code == 1 and "Every task of the rules is drawn" in text.output
    again = run(env, "draw", "tasks", "-p", "2026Q4", "--task", "annual", "--seed", "1")
    assert again.exit_code == 2 and "period's seed" in again.output
    assert run(env, "verify").exit_code == 0


def test_public_notice_names_no_firm_before_its_visit(env: tuple[str, str], tmp_path: Path
                                                      ) -> None:
    run(env, "freeze", "-p", "2026Q4", "--scope", "tasks")
    run(env, "draw", "tasks", "-p", "2026Q4", "--seed", SEED)
    notice = tmp_path / "公示.html"
    done = run(env, "export", "tasks", "-p", "2026Q4", "--format", "html", "--public",
               "--as-of", "2026-09-30", "--authority", "江州市生态环境局", "-o", str(notice))
    assert done.exit_code == 0, done.output
    page = notice.read_text("utf-8")
    assert "江州市生态环境局2026年第四季度" in page
    assert "《中华人民共和国大气污染防治法》第四十五条" in page  # matters with their basis
    assert "重点双随机" in page and "2026-10-12 至 2026-11-30" in page
    assert "9132010" not in page and not re.search(r"企业\d", page)
    later = run(env, "export", "tasks", "-p", "2026Q4", "--format", "json", "--public",
                "--as-of", "2027-01-01")
    rows = json.loads(later.stdout)
    assert rows and all("ticket" not in r for r in rows)


def test_results_per_matter_and_what_is_overdue(env: tuple[str, str], tmp_path: Path) -> None:
    run(env, "freeze", "-p", "2026Q4", "--scope", "tasks")
    run(env, "draw", "tasks", "-p", "2026Q4", "--seed", SEED)
    visits = json.loads(run(env, "export", "tasks", "-p", "2026Q4", "--format", "json",
                            "--as-of", "2026-10-01").stdout)
    first = visits[0]
    lines = ["统一社会信用代码,事项编号,检查结果,未检查原因"]
    lines += [f"{first['uscc']},{m},责令改正," for m in first["matter_ids"]]
    results = tmp_path / "结果.csv"
    results.write_text("\n".join(lines) + "\n", "utf-8")
    done = run(env, "import", "results", str(results), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["kind"] == "matter-results"
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(f"统一社会信用代码,事项编号,检查结果\n{first['uscc']},HB-99,发现问题\n"
                     f"{uscc(5)},HB-01,未发现问题\n", "utf-8")
    refused = run(env, "import", "results", str(wrong))
    assert refused.exit_code == 1
    assert "row 2, column matter: 'HB-99' is not a matter of the visit" in refused.output
    assert f"row 3: {uscc(5)} has no visit in any current task plan" in refused.output
    status = json.loads(run(env, "results", "status", "-p", "2026Q4", "--as-of", "2027-03-01",
                            "--json").stdout)
    assert status["visits"] == len(visits) and status["complete"] == 1
    assert status["overdue"] == len(visits) - 1
    assert first["uscc"] not in {r["uscc"] for r in status["rows"]}
    early = json.loads(run(env, "results", "status", "-p", "2026Q4", "--as-of", "2026-10-01",
                           "--json").stdout)
    assert early["overdue"] == 0
    counts = json.loads(run(env, "export", "tasks", "-p", "2026Q4", "--table", "results",
                            "--format", "json").stdout)
    ordered = {(r["task"], r["matter"]): r["ordered_to_correct"] for r in counts}
    store = Store.open(env[0])
    (visit,) = [v for d in current_task_draws(store) for v in d["visits"]
                if v["uscc"] == first["uscc"]]
    store.close()
    names = {"annual": "重点双随机", "vocs": "VOCs 地方专项", "national": "国家专项"}
    expected = {(names[t], m) for t, ms in visit["task_matters"].items() for m in ms}
    assert {k for k, n in ordered.items() if n} == {
        (t, next(r["matter"] for r in counts if r["matter"].startswith(m + " ")))
        for t, m in expected}
    assert all(n == 1 for n in ordered.values() if n)
    # the notice says 已实施 only for the visit with a recorded result (#12): a date that
    # has passed is not proof; the others are 待录入结果
    page = run(env, "export", "tasks", "-p", "2026Q4", "--format", "html", "--public",
               "--as-of", "2027-01-01").stdout
    assert (f"检查日期已到的 {len(visits)} 家列于下表，其中已实施检查 1 家（已录入检查结果），"
            f"待录入结果 {len(visits) - 1} 家。") in page
    assert f"已实施检查 {len(visits)} 家" not in page


def current_task_draws(store: Store) -> list[dict[str, object]]:
    from suiji.data.visits import task_plan_outputs

    return [out for _d, _p, out in task_plan_outputs(store, period="2026Q4")]


def test_draw_tasks_dates_visits_after_today(env: tuple[str, str]) -> None:
    assert run(env, "freeze", "-p", "2026Q4", "--scope", "tasks").exit_code == 0
    late = run(env, "draw", "tasks", "-p", "2026Q4", "--seed", SEED, today="2026-12-01")
    assert late.exit_code == 1
    assert "Task 'vocs' ends on 2026-11-30, before 2026-12-02" in late.output
    done = run(env, "draw", "tasks", "-p", "2026Q4", "--seed", SEED, "--task", "annual",
               "--task", "national", today="2026-12-01")
    assert done.exit_code == 0, done.output
    assert "dates     from 2026-12-02 (drawn on 2026-12-01)" in done.stdout
    out = json.loads(run(env, "export", "tasks", "-p", "2026Q4", "--format", "json").stdout)
    assert out and all(v["date"] >= "2026-12-02" for v in out)
