"""Working days of the Chinese calendar (statutory holidays off, adjusted weekend days on).

The ``chinesecalendar`` library supplies the State Council's notices for the
years it knows; for any other year the rules file must carry that year's
notice (``[calendar.2027]``), otherwise a draw is refused with that advice.
The list of working days is frozen with the period's inputs, so a later
library upgrade cannot change a published plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import chinese_calendar

from suiji.data.errors import CalendarError
from suiji.data.holidays import holiday_name
from suiji.data.period import Period
from suiji.data.rules import Rules


def is_working_day(day: date, rules: Rules) -> bool:
    notice = rules.calendar.get(day.year)
    if notice is not None:
        if day in notice.workdays:
            return True
        if day in notice.holidays:
            return False
        return day.weekday() < 5
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CalendarError(
            f"The holiday calendar has no data for {day.year}. Add that year's official "
            f"holiday notice (国务院办公厅关于{day.year}年部分节假日安排的通知) to the rules "
            f"file as [calendar.{day.year}] with holidays = [...] and workdays = [...] "
            f"(adjusted weekend working days), then freeze again: save the notice's text "
            f"as a file and run `suiji calendar import FILE`, which writes it there.") from exc


def working_days(period: Period, rules: Rules) -> list[date]:
    return [d for d in period.days() if is_working_day(d, rules)]


@dataclass(frozen=True)
class FrozenCalendar:
    """What a period's frozen working days mean, for people to check at the freeze."""

    months: tuple[tuple[str, int], ...]  # ("2027-01", working days), in order
    days_off: tuple[tuple[date, str], ...]  # weekdays that are holidays, with their holiday
    workdays: tuple[date, ...]  # weekend days that are adjusted working days

    @property
    def total(self) -> int:
        return sum(n for _, n in self.months)

    def runs(self) -> list[tuple[date, date, str]]:
        """The weekday holidays as (first, last, name) runs of consecutive days off;
        a run goes on over the weekend between its days."""
        out: list[tuple[date, date, str]] = []
        for day, name in self.days_off:
            if out and out[-1][2] == name and (day - out[-1][1]).days <= 3:
                out[-1] = (out[-1][0], day, name)
            else:
                out.append((day, day, name))
        return out


def describe(period: Period, working: Sequence[date]) -> FrozenCalendar:
    """Working days per month, weekday holidays and adjusted working days of ``period``."""
    on = set(working)
    months: dict[str, int] = {}
    for day in period.days():
        key = f"{day.year}-{day.month:02d}"
        months[key] = months.get(key, 0) + (day in on)
    days = period.days()
    return FrozenCalendar(
        months=tuple(months.items()),
        days_off=tuple((d, holiday_name(d)) for d in days if d.weekday() < 5 and d not in on),
        workdays=tuple(d for d in days if d.weekday() >= 5 and d in on))


def library_differences(year: int, holidays: Sequence[date], workdays: Sequence[date]
                        ) -> list[date] | None:
    """Days of ``year`` where the given arrangement and the installed ``chinesecalendar``
    disagree (a working day in one, a day off in the other); None when the library does
    not know the year."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
    except NotImplementedError:
        return None
    off, on = set(holidays), set(workdays)
    day, out = date(year, 1, 1), []
    while day.year == year:
        ours = day in on or (day not in off and day.weekday() < 5)
        if ours != bool(chinese_calendar.is_workday(day)):
            out.append(day)
        day = date.fromordinal(day.toordinal() + 1)
    return out
