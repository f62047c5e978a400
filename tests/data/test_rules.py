from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.calendar import working_days
from suiji.data.errors import CalendarError, RulesError, SuijiError
from suiji.data.holidays import parse_notice
from suiji.data.period import Period
from suiji.data.rules import PRESETS, load_rules, parse_rules, preset_text

NOTICES = Path(__file__).resolve().parents[1] / "fixtures" / "notices"


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_parse(name: str) -> None:
    r = parse_rules(preset_text(name))
    assert r.preset == name
    assert set(r.inspection.quota) == {"key", "general", "special"}
    assert r.review.panel_size == {"report": 3, "form": 2}


def test_chizhou_preset_quotas() -> None:
    q = parse_rules(preset_text("chizhou")).inspection.quota
    assert (q["key"].ratio, q["general"].ratio, q["special"].ratio) == (0.25, 0.05, 0.15)


@pytest.mark.parametrize("edit, key", [
    (("team_size = 2", "team_sise = 2"), "inspection.team_sise"),
    (("team_size = 2", "team_size = 1"), "team_size"),
    (("ratio = 0.30", "ratio = \"30%\""), "review.ratio"),
    (("annual_cap = 1", "annual_cap = true"), "inspection.annual_cap"),
    (('mode = "ratio"', 'mode = "quota"'), "inspection.quota.key"),
])
def test_invalid_rules_name_the_key(edit: tuple[str, str], key: str) -> None:
    text = preset_text().replace(*edit, 1)
    with pytest.raises(RulesError, match=key.replace(".", r"\.")):
        parse_rules(text, "rules.toml")


def test_bad_toml_is_a_clear_error() -> None:
    with pytest.raises(RulesError, match="not valid TOML"):
        parse_rules("[inspection\nteam_size = 2")


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="suiji rules init"):
        load_rules(tmp_path / "nope.toml")


def test_calendar_uses_library_and_refuses_unknown_year() -> None:
    rules = parse_rules(preset_text())
    days = working_days(Period.parse("2026Q4"), rules)
    assert date(2026, 10, 1) not in days  # National Day
    assert date(2026, 10, 10) in days  # adjusted working Saturday
    with pytest.raises(CalendarError, match=r"\[calendar\.2027\]"):
        working_days(Period.parse("2027Q1"), rules)


def test_calendar_notice_in_rules() -> None:
    notice = parse_notice((NOTICES / "2027-made-up.txt").read_text("utf-8"))
    text = preset_text() + "\n" + notice.toml()
    days = working_days(Period.parse("2027Q1"), parse_rules(text))
    assert date(2027, 1, 1) not in days and date(2027, 2, 8) not in days
    assert date(2027, 2, 20) in days  # a Saturday made a working day
    assert date(2027, 1, 9) not in days  # an ordinary Saturday
    assert date(2027, 1, 4) in days  # an ordinary Monday


def test_period_parsing() -> None:
    p = Period.parse("2026-q4")
    assert str(p) == "2026Q4" and p.first_day == date(2026, 10, 1)
    assert p.last_day == date(2026, 12, 31) and p.remaining_quarters == 1
    assert Period.parse("2026Q1").last_day == date(2026, 3, 31)
    with pytest.raises(SuijiError, match="2026Q4"):
        Period.parse("2026-13")


def test_rules_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r.toml"
    res = runner.invoke(cli, ["rules", "init", "--preset", "guangzhou", "-o", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["--rules", str(out), "rules", "show"])
    assert res.exit_code == 0 and 'preset = "guangzhou"' in res.output
    res = runner.invoke(cli, ["rules", "init", "-o", str(out)])
    assert res.exit_code == 1 and "--force" in res.output
    res = runner.invoke(cli, ["rules", "init", "--preset", "nowhere", "-o", str(tmp_path / "x")])
    assert res.exit_code == 1 and "Unknown preset" in res.output
    out.write_text(out.read_text("utf-8").replace("team_size = 2", "team_size = x"), "utf-8")
    res = runner.invoke(cli, ["--rules", str(out), "rules", "show"])
    assert res.exit_code == 1 and "TOML" in res.output
