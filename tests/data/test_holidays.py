"""The State Council's holiday notice read from its text, and the checks of a year's holidays."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from chinese_calendar import constants

from suiji.data.calendar import describe, working_days
from suiji.data.errors import CalendarError, RulesError
from suiji.data.holidays import check_year, decode_notice, holiday_name, parse_notice
from suiji.data.period import Period
from suiji.data.rules import parse_rules, preset_text

NOTICES = Path(__file__).resolve().parents[1] / "fixtures" / "notices"


def _notice(name: str) -> str:
    return (NOTICES / name).read_text("utf-8")


@pytest.mark.parametrize("year", [2025, 2026])
def test_real_notices_give_the_library_calendar(year: int) -> None:
    """The published notices of 2025 and 2026, as text, give exactly chinesecalendar's days."""
    notice = parse_notice(_notice(f"{year}.txt"))
    assert notice.year == year
    assert set(notice.days_off) == {d for d in constants.holidays if d.year == year}
    assert set(notice.working_days) == {d for d in constants.workdays if d.year == year}
    rules = parse_rules(preset_text() + "\n" + notice.toml())
    for quarter in range(1, 5):
        period = Period(year, quarter)
        ours = working_days(period, rules)
        assert ours == [d for d in period.days() if chinese_calendar.is_workday(d)]


def test_2026_holidays_by_name() -> None:
    notice = dict(parse_notice(_notice("2026.txt")).holidays)
    assert notice["春节"] == tuple(date(2026, 2, 15) + timedelta(i) for i in range(9))
    assert notice["中秋节"] == (date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27))
    merged = dict(parse_notice(_notice("2025.txt")).holidays)
    assert len(merged["国庆节、中秋节"]) == 8


def test_gbk_text_and_full_width_digits() -> None:
    text = _notice("2026.txt").replace("10月1日", "１０月１日")
    assert parse_notice(decode_notice(text.encode("gbk"))).year == 2026
    with pytest.raises(CalendarError, match="neither UTF-8 nor GBK"):
        decode_notice(b"\xff\xfe\x00\xd8" * 10)


def test_a_notice_of_another_year_is_caught_by_its_weekdays() -> None:
    text = _notice("2026.txt").replace("2026年", "2027年")  # the 2026 text, relabelled
    with pytest.raises(CalendarError, match=r"2月15日 is a 周日, but in 2027 it is a 周一"):
        parse_notice(text)


def test_stated_day_counts_are_checked() -> None:
    with pytest.raises(CalendarError, match="says 8 days but 2026-02-15 to 2026-02-23 is 9"):
        parse_notice(_notice("2026.txt").replace("放假调休，共9天", "放假调休，共8天"))


def test_a_truncated_notice_is_refused() -> None:
    text = _notice("2026.txt").split("五、端午节")[0]
    with pytest.raises(CalendarError, match="端午节、中秋节、国庆节.*left out"):
        parse_notice(text)


def test_text_without_a_year_is_refused() -> None:
    with pytest.raises(CalendarError, match="which year"):
        parse_notice("一、元旦：1月1日（周四）放假1天。")


def test_sound_arrangements_pass() -> None:
    for name in ("2025.txt", "2026.txt", "2027-made-up.txt"):
        n = parse_notice(_notice(name))
        assert check_year(n.year, n.days_off, n.working_days) == []


def _made_up_2027() -> tuple[tuple[date, ...], tuple[date, ...]]:
    n = parse_notice(_notice("2027-made-up.txt"))
    return n.days_off, n.working_days


def test_a_holiday_of_the_wrong_year() -> None:
    off, on = _made_up_2027()
    problems = check_year(2027, (*off, date(2026, 10, 1)), on)
    assert any("2026-10-01 listed as holiday of 2027" in p for p in problems)


def test_a_date_both_holiday_and_workday() -> None:
    off, on = _made_up_2027()
    problems = check_year(2027, off, tuple(sorted((*on, date(2027, 2, 8)))))
    assert any("2027-02-08 listed both" in p for p in problems)


def test_an_adjusted_workday_on_a_tuesday() -> None:
    off, on = _made_up_2027()
    problems = check_year(2027, off, (*on, date(2027, 3, 2)))
    assert any("2027-03-02 is a 周二" in p for p in problems)


def test_spring_festival_is_checked_against_the_lunar_calendar() -> None:
    """The preset's old example (Spring Festival as 6-7 February only) leaves 初三 and 除夕
    working days: refused, naming them."""
    off, on = _made_up_2027()
    shifted = tuple(d for d in off if d.month != 2) + (date(2027, 2, 6), date(2027, 2, 7))
    problems = check_year(2027, tuple(sorted(shifted)), on)
    assert any(p.startswith("春节: 2027-02-05, 2027-02-08 would be a working day")
               for p in problems), problems
    moved = tuple(d for d in off if d.month != 2) + tuple(
        date(2027, 1, 25) + timedelta(i) for i in range(7))  # a week too early
    assert any(p.startswith("no holiday listed for 春节") for p in check_year(2027, moved, on))


def test_every_statutory_holiday_must_be_there() -> None:
    off, on = _made_up_2027()
    without = tuple(d for d in off if d.month not in (6, 9))
    problems = check_year(2027, without, on)
    assert [p.split(" (")[0] for p in problems] == ["no holiday listed for 端午节",
                                                    "no holiday listed for 中秋节"]


def test_rules_entries_are_checked() -> None:
    text = preset_text() + '\n[calendar.2027]\nholidays = ["2027-01-01", "2027-02-06", ' \
        '"2027-02-07"]\nworkdays = ["2027-02-16"]\n'
    with pytest.raises(RulesError) as info:
        parse_rules(text, "rules.toml")
    message = str(info.value)
    assert "rules.toml: calendar.2027 is not a sound holiday arrangement" in message
    assert "2027-02-16 is a 周二" in message and "清明节" in message
    assert "suiji calendar import" in message
    # Frozen rules are read as they were recorded, so an old draw still verifies.
    frozen = parse_rules(text, "frozen rules", check_calendar=False)
    assert date(2027, 2, 16) in frozen.calendar[2027].workdays


def test_holiday_names_and_the_frozen_calendar_summary() -> None:
    assert holiday_name(date(2025, 10, 6)) == "中秋节、国庆节"
    assert holiday_name(date(2026, 2, 17)) == "春节"
    assert holiday_name(date(2026, 3, 10)) == ""
    period = Period(2026, 1)
    rules = parse_rules(preset_text())
    summary = describe(period, working_days(period, rules))
    assert summary.months == (("2026-01", 21), ("2026-02", 16), ("2026-03", 22))
    assert summary.total == 59
    assert summary.runs() == [(date(2026, 1, 1), date(2026, 1, 2), "元旦"),
                              (date(2026, 2, 16), date(2026, 2, 23), "春节")]
    assert summary.workdays == (date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28))
