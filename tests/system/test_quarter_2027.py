"""The closing demonstration of issue 12: the 2027Q1 quarter end to end on a generated
bureau whose files are all GB18030, with the 2027 holiday arrangement entered through
``suiji calendar import``.

The 2027 arrangement is made up (tests/fixtures/notices/2027-made-up.txt): the real
notice was not at hand when this was written. The bureau works on 2026-12-01 and
plans 2027Q1 ahead; every step runs on the date it would happen (the tests' calendar,
tests/fixtures/clock.py).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner, Result

from suiji.cli.main import cli
from suiji.data.holidays import parse_notice
from suiji.sample.generate import generate_city
from tests.fixtures.clock import Calendar

NOTICE = Path(__file__).resolve().parents[1] / "fixtures" / "notices" / "2027-made-up.txt"


def _to_gb18030(path: Path) -> None:
    data = path.read_bytes()
    text = data.decode("gb18030" if not data.startswith(b"\xef\xbb\xbf") else "utf-8-sig")
    path.write_bytes(text.encode("gb18030"))


def test_2027q1_end_to_end(tmp_path: Path, calendar: Calendar) -> None:
    files = generate_city(tmp_path / "city", seed=7, year=2027, quarter=1, firms=900,
                          inspectors=40, projects=60, agencies=10, experts=80)
    for path in files.values():
        _to_gb18030(path)
        assert path.read_bytes().decode("gb18030")  # every file is GB18030 now
    notice = tmp_path / "通知.txt"
    notice.write_bytes(NOTICE.read_text("utf-8").encode("gb18030"))
    db, rules = str(tmp_path / "沈阳.db"), str(tmp_path / "rules.toml")
    runner = CliRunner()

    def run(on: str, *args: str) -> Result:
        calendar.on(on)
        res = runner.invoke(cli, [*args, "--db", db, "--rules", rules])
        assert res.exit_code == 0, (args, res.output)
        return res

    # 2026-12-01: set up, enter the 2027 arrangement, import, freeze, draw 2027Q1 ahead.
    run("2026-12-01", "init")
    out = run("2026-12-01", "calendar", "import", str(notice)).output
    assert "2027: 29 days off and 6 adjusted working days" in out
    for kind in ("companies", "inspectors", "inspector-leave", "conflicts", "inspections",
                 "positive-list"):
        if files[kind].read_bytes().count(b"\n") > 1:  # Q1 has no earlier inspections
            run("2026-12-01", "import", kind, str(files[kind]))
    frozen = run("2026-12-01", "freeze", "-p", "2027Q1").output
    assert "Working days frozen (工作日): 59 — 2027-01 20, 2027-02 16, 2027-03 23" in frozen
    assert "2027-02-05 – 2027-02-12  春节" in frozen
    plan = json.loads(run("2026-12-01", "draw", "inspections", "-p", "2027Q1", "--seed",
                          "80417263950183746251", "--json").stdout)
    assert (plan["drawn_on"], plan["start"]) == ("2026-12-01", "2027-01-01")
    items = json.loads(run("2026-12-01", "export", "plan", "-p", "2027Q1").stdout)
    arrangement = parse_notice(NOTICE.read_text("utf-8"))
    off, on = set(arrangement.days_off), set(arrangement.working_days)
    days = {date.fromisoformat(i["date"]) for i in items}
    assert days and not days & off  # no inspection on 元旦 or in Spring Festival
    assert all(d.weekday() < 5 or d in on for d in days)  # weekends only if adjusted

    # 2027-03-01: results of the inspections held so far; the public notice.
    held = [i for i in items if i["date"] < "2027-03-01"]
    with_result = held[: len(held) // 2]
    results = tmp_path / "结果.csv"
    with results.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows([["统一社会信用代码", "检查结果", "检查日期"],
                                 *([i["uscc"], "未发现问题", i["date"]] for i in with_result)])
    run("2027-03-01", "import", "results", str(results), "-p", "2027Q1")
    html = run("2027-03-01", "export", "plan", "-p", "2027Q1", "--public", "--format",
               "html").stdout
    assert f"其中已实施检查 {len(with_result)} 家" in html
    assert f"待录入结果 {len(held) - len(with_result)} 家" in html

    # 2027-04-02, after the quarter: the review sample, panels, a decline, scores.
    for kind in ("agencies", "projects", "experts", "employment-history"):
        run("2027-04-02", "import", kind, str(files[kind]))
    run("2027-04-02", "freeze", "-p", "2027Q1", "--scope", "reviews")
    sample = json.loads(run("2027-04-02", "draw", "reviews", "-p", "2027Q1", "--seed",
                            "27182818284590452353", "--json").stdout)
    assert sample["before_close"] is False
    docs = [i["project_id"] for i in sample["items"]][:4]
    meeting = "2027-04-07"  # a Wednesday after 清明 (3-5 April in the arrangement)
    panels = json.loads(run("2027-04-02", "draw", "panels", "-p", "2027Q1", "--meeting",
                            meeting, "--documents", ",".join(docs), "--seed",
                            "31415926535897932384", "--json").stdout)
    expert = panels["items"][0]["experts"][0]
    run("2027-04-03", "decline", "--meeting", meeting, "--expert", expert, "--reason", "出差")
    final = json.loads(run("2027-04-08", "export", "reviews", "-p", "2027Q1").stdout)
    scores = tmp_path / "评分.csv"
    rows = [[e, r["project_id"], meeting, "85", "0"] for r in final for e in r.get("experts")
            or []]
    first = next(r for r in final if r["project_id"] == panels["items"][0]["project_id"])
    assert rows and expert not in first["experts"]  # the decline took effect
    with scores.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows([["专家编号", "项目编号", "会议日期", "评分", "扣分"], *rows])
    run("2027-04-08", "import", "scores", str(scores))

    # Everything verifies, in the database and from the bundle alone.
    assert "All good" in run("2027-04-08", "verify", "-p", "2027Q1").output
    bundle = tmp_path / "bundle"
    run("2027-04-08", "audit-bundle", "-p", "2027Q1", "-o", str(bundle))
    assert "All good" in run("2027-04-08", "verify", "--bundle", str(bundle)).output
