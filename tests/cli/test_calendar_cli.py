"""``suiji calendar import`` writes the notice into the rules file; ``freeze`` shows it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.rules import load_rules, preset_text

NOTICES = Path(__file__).resolve().parents[1] / "fixtures" / "notices"


def test_import_creates_the_rules_file_and_freeze_shows_the_calendar(tmp_path: Path) -> None:
    db, rules = str(tmp_path / "s.db"), tmp_path / "rules.toml"
    notice = tmp_path / "通知.txt"
    notice.write_bytes((NOTICES / "2027-made-up.txt").read_text("utf-8").encode("gb18030"))
    runner = CliRunner()
    base = ["--db", db, "--rules", str(rules)]
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    res = runner.invoke(cli, [*base, "calendar", "import", str(notice)])
    assert res.exit_code == 0, res.output
    assert "29 days off and 6 adjusted working days" in res.output
    assert "created from the default preset" in res.output
    r = load_rules(rules)
    assert len(r.calendar[2027].holidays) == 29
    assert rules.read_text("utf-8").startswith(preset_text())  # the preset kept as it was
    res = runner.invoke(cli, [*base, "freeze", "-p", "2027Q1"])
    assert res.exit_code == 0, res.output
    assert "Working days frozen (工作日): 59 — 2027-01 20, 2027-02 16, 2027-03 23" in res.output
    assert "2027-02-05 – 2027-02-12  春节" in res.output
    assert "working (调休上班) 2027-02-20 (周六)" in res.output
    res = runner.invoke(cli, [*base, "freeze", "-p", "2027Q1", "--json"])
    cal = json.loads(res.stdout)["calendar"]
    assert cal["working_days"] == {"2027-01": 20, "2027-02": 16, "2027-03": 23}
    assert {"date": "2027-01-01", "holiday": "元旦"} in cal["days_off"]


def test_import_twice_needs_replace_and_keeps_one_table(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(preset_text(), "utf-8")
    runner = CliRunner()
    args = ["--rules", str(rules), "calendar", "import", str(NOTICES / "2026.txt")]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0
    assert "chinesecalendar knows 2026 too and agrees on every day" in res.output
    first = rules.read_text("utf-8")
    res = runner.invoke(cli, args)
    assert res.exit_code == 1 and "--replace" in res.output
    assert rules.read_text("utf-8") == first
    assert runner.invoke(cli, [*args, "--replace"]).exit_code == 0
    assert rules.read_text("utf-8") == first
    assert first.count("[calendar.2026]") == 1


def test_a_bad_notice_writes_nothing(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(preset_text(), "utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_text((NOTICES / "2026.txt").read_text("utf-8").replace("2026年", "2027年"),
                   "utf-8")
    res = CliRunner().invoke(cli, ["--rules", str(rules), "calendar", "import", str(bad)])
    assert res.exit_code == 1
    assert "周日, but in 2027 it is a 周一" in res.output and "Traceback" not in res.output
    assert rules.read_text("utf-8") == preset_text()
    res = CliRunner().invoke(cli, ["--rules", str(rules), "calendar", "import",
                                   str(tmp_path / "missing.txt")])
    assert res.exit_code == 1 and "cannot be read" in res.output


def test_dry_run_prints_the_table_only(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    res = CliRunner().invoke(cli, ["--rules", str(rules), "calendar", "import",
                                   str(NOTICES / "2025.txt"), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert '"2025-01-28",  # 春节' in res.output and not rules.exists()
    wrong = tmp_path / "wrong.txt"  # a typo that still reads: 4 May becomes a working day
    wrong.write_text((NOTICES / "2025.txt").read_text("utf-8").replace(
        "5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。",
        "5月1日（周四）至3日（周六）放假调休，共3天。4月27日（周日）上班。"), "utf-8")
    res = CliRunner().invoke(cli, ["--rules", str(rules), "calendar", "import", str(wrong),
                                   "--dry-run", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["library_differs"] == ["2025-05-05"]
