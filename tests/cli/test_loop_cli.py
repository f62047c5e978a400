"""The review loop's commands: exit codes, messages and files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from suiji.cli.main import cli
from suiji.data.store import Store
from tests.fixtures.clock import Calendar
from tests.fixtures.loop import loop_world


@pytest.fixture
def world(tmp_path: Path) -> tuple[str, dict]:
    w = loop_world(tmp_path)
    w.store.close()
    return str(tmp_path / "t.db"), {"sample": w.sample, "panels": w.panels}


@pytest.fixture(autouse=True)
def _mid_december(calendar: Calendar) -> None:
    """The loop's commands run on 2026-12-15 (after the findings, before the 通报)."""
    calendar.on("2026-12-15")


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args])


def test_import_findings_and_agencies_status(world, tmp_path: Path) -> None:
    db, ctx = world
    items = ctx["sample"]["items"]
    path = tmp_path / "f.csv"
    path.write_text("项目编号,复核结论,问题,复核日期\n"
                    f"{items[0]['project_id']},严重质量问题,数据弄虚作假;抄袭其他环评文件,"
                    f"2026-12-20\nXX-1,合格,,2026-12-20\n", encoding="utf-8")
    bad = run(db, "import", "findings", str(path))
    assert bad.exit_code == 1
    assert "row 3, column project_id: document XX-1 is in no drawn review sample" in bad.output
    path.write_text("项目编号,复核结论,问题,复核日期\n"
                    f"{items[0]['project_id']},严重质量问题,数据弄虚作假;抄袭其他环评文件,"
                    f"2026-12-20\n", encoding="utf-8")
    ok = run(db, "import", "findings", str(path))
    assert ok.exit_code == 0, ok.output
    assert "findings: 1 rows" in ok.stdout
    status = run(db, "agencies", "status", "--period", "2027Q1", "--json")
    assert status.exit_code == 0, status.output
    rows = {a["agency_uscc"]: a for a in json.loads(status.stdout)["agencies"]}
    agency = items[0]["agency_uscc"]
    assert rows[agency]["state"] == "blacklist" and rows[agency]["previous_points"] == 20
    text = run(db, "agencies", "status", "--authors")  # default: the quarter after 2026Q4
    assert text.exit_code == 0 and "watch list of 2027Q1" in text.stdout
    assert "黑名单" in text.stdout and "author HP" in text.stdout


def test_export_bulletin_transfers_notify(world, tmp_path: Path) -> None:
    db, ctx = world
    for fmt in ("html", "xlsx", "docx"):
        out = tmp_path / f"b.{fmt}"
        res = run(db, "export", "bulletin", "--period", "2026Q4", "--format", fmt, "-o",
                  str(out))
        assert res.exit_code == 0, res.output
        assert out.stat().st_size > 0
    res = run(db, "export", "transfers", "--period", "2026Q4")
    assert res.exit_code == 0 and res.stdout.lstrip("\ufeff").startswith("项目编号,")
    res = run(db, "export", "notify", "--meeting", "2026-12-15")
    assert res.exit_code == 0, res.output
    assert "call them by hand" in res.stderr and "2026-12-14 12:00" in res.stdout
    res = run(db, "export", "notify", "--meeting", "2026-12-15", "--format", "xlsx")
    assert res.exit_code == 2 and "give a file name" in res.output
    res = run(db, "export", "bulletin", "--period", "2025Q1", "-o", str(tmp_path / "x.html"))
    assert res.exit_code == 1 and "has no review sample" in res.output


def test_import_responses_prints_declines_and_calls(world, tmp_path: Path) -> None:
    db, ctx = world
    members = sorted({e for i in ctx["panels"]["items"] for e in i["experts"]})
    path = tmp_path / "r.csv"
    path.write_text("专家编号,会议日期,答复,原因\n"
                    f"{members[0]},2026-12-15,拒绝,出差\n{members[1]},2026-12-15,未答复,\n",
                    encoding="utf-8")
    res = run(db, "import", "responses", str(path))
    assert res.exit_code == 0, res.output
    assert f"declined {members[0]} (出差)" in res.stdout
    assert "Call by hand" in res.stdout and members[1] in res.stdout
    store = Store.open(db)
    assert store.conn.execute("SELECT COUNT(*) FROM draw_events WHERE kind = 'decline'"
                              ).fetchone()[0] == 1
    store.close()
    path.write_text("专家编号,会议日期,答复\nZJ0999,2026-12-15,接受\n", encoding="utf-8")
    res = run(db, "import", "responses", str(path))
    assert res.exit_code == 1 and "row 2, column expert_id" in res.output
