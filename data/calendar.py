"""Working days of the Chinese calendar (statutory holidays off, adjusted weekend days on).

The ``chinesecalendar`` library supplies the State Council's notices for the
years it knows; for any other year the rules file must carry that year's
notice (``[calendar.2027]``), otherwise a draw is refused with that advice.
The list of working days is frozen with the period's inputs, so a later
library upgrade cannot change a published plan.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar

from suiji.data.errors import CalendarError
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
            f"(adjusted weekend working days), then freeze again.") from exc


def working_days(period: Period, rules: Rules) -> list[date]:
    return [d for d in period.days() if is_working_day(d, rules)]
