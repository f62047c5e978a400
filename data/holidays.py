"""The State Council's holiday notice: reading it, and checking a year's holiday arrangement.

Each autumn the State Council's General Office publishes 国务院办公厅关于YYYY年部分
节假日安排的通知: one numbered item per statutory holiday ("二、春节：2月15日（农历腊月
二十八、周日）至23日（周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。").
:func:`parse_notice` reads that text, as pasted from the government website, into an
:class:`Arrangement` (the days off of each holiday and the adjusted working days) and
checks what the text itself states: the weekday written beside each date, the "共N天"
count of each range, and that all seven statutory holidays are there.

:func:`check_year` checks any year's arrangement (from a notice or typed into the
rules file) against the calendar: every date in that year, no date both a holiday and
a working day, adjusted working days on weekends, and each statutory holiday present
around its date (Spring Festival, Dragon Boat and Mid-Autumn by the lunar calendar).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from lunardate import LunarDate

from suiji.data.errors import CalendarError

STATUTORY = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Festival:
    """A statutory holiday of one year: the day(s) that must be off, and where its days off
    may lie (the notice's range for it always falls inside ``window``)."""

    name: str
    must_be_off: tuple[date, ...]
    window: tuple[date, date]

    def covers(self, day: date) -> bool:
        return self.window[0] <= day <= self.window[1]


def _lunar(year: int, month: int, day: int) -> date:
    solar = LunarDate(year, month, day).to_solar_date()
    return date(solar.year, solar.month, solar.day)


def festivals(year: int) -> tuple[Festival, ...]:
    """The seven statutory holidays of ``year`` (全国年节及纪念日放假办法).

    Spring Festival is 除夕 to 初三 from 2025 on (初一 to 初三 before), Labour Day
    1–2 May from 2025 on, National Day 1–3 October.
    """
    d = timedelta
    new_year = _lunar(year, 1, 1)
    spring_first = new_year - d(1) if year >= 2025 else new_year
    dragon = _lunar(year, 5, 5)
    autumn = _lunar(year, 8, 15)
    labour = (date(year, 5, 1), date(year, 5, 2)) if year >= 2025 else (date(year, 5, 1),)
    return (
        Festival("元旦", (date(year, 1, 1),), (date(year, 1, 1), date(year, 1, 3))),
        Festival("春节", tuple(spring_first + d(i) for i in range((new_year - spring_first).days
                                                                  + 3)),
                 (new_year - d(3), new_year + d(8))),
        Festival("清明节", (), (date(year, 4, 2), date(year, 4, 7))),
        Festival("劳动节", labour, (date(year, 4, 29), date(year, 5, 5))),
        Festival("端午节", (dragon,), (dragon - d(2), dragon + d(2))),
        Festival("中秋节", (autumn,), (autumn - d(2), autumn + d(3))),
        Festival("国庆节", (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)),
                 (date(year, 10, 1), date(year, 10, 8))),
    )


def holiday_name(day: date) -> str:
    """The statutory holiday(s) a day off belongs to, e.g. ``中秋节、国庆节``; ``""`` if none."""
    return "、".join(f.name for f in festivals(day.year) if f.covers(day))


def check_year(year: int, holidays: tuple[date, ...], workdays: tuple[date, ...]) -> list[str]:
    """Problems of one year's holiday arrangement, each a sentence; empty when it is sound."""
    problems = []
    for what, days in (("holiday", holidays), ("adjusted working day", workdays)):
        wrong = [d.isoformat() for d in days if d.year != year]
        if wrong:
            problems.append(f"{', '.join(wrong)} listed as {what} of {year} but not in {year}")
    both = sorted(set(holidays) & set(workdays))
    if both:
        problems.append(f"{', '.join(d.isoformat() for d in both)} listed both as holiday and "
                        f"as adjusted working day")
    weekday = [d for d in workdays if d.weekday() < 5]
    if weekday:
        problems.append("an adjusted working day (调休上班) is always a Saturday or Sunday, but "
                        + ", ".join(f"{d.isoformat()} is a 周{WEEKDAYS[d.weekday()]}"
                                    for d in weekday))
    off = set(holidays)
    for f in festivals(year):
        if not any(f.covers(d) for d in off):
            problems.append(f"no holiday listed for {f.name} (between {f.window[0].isoformat()} "
                            f"and {f.window[1].isoformat()})")
            continue
        working = [d for d in f.must_be_off if d in workdays or (d not in off and d.weekday() < 5)]
        if working:
            problems.append(f"{f.name}: {', '.join(d.isoformat() for d in working)} would be a "
                            f"working day, but it is a statutory day off")
    return problems


@dataclass(frozen=True)
class Arrangement:
    """One year's holidays as a notice states them."""

    year: int
    holidays: tuple[tuple[str, tuple[date, ...]], ...]  # (item name, its days off), in order
    workdays: tuple[tuple[str, tuple[date, ...]], ...]  # (item name, its adjusted working days)
    # Days of a range that fall in a neighbouring year (元旦 from 30 December): they belong
    # to that year's calendar, not to this one.
    elsewhere: tuple[date, ...] = ()

    @property
    def days_off(self) -> tuple[date, ...]:
        return tuple(sorted({d for _, days in self.holidays for d in days}))

    @property
    def working_days(self) -> tuple[date, ...]:
        return tuple(sorted({d for _, days in self.workdays for d in days}))

    def toml(self, source: str = "") -> str:
        """The ``[calendar.YYYY]`` table of the rules file, each date with its holiday."""
        head = f"# 国务院办公厅关于{self.year}年部分节假日安排的通知"
        lines = [head + (f" (suiji calendar import {source})" if source else ""),
                 f"[calendar.{self.year}]", "holidays = ["]
        lines += [f'  "{d.isoformat()}",  # {name}' for name, days in self.holidays
                  for d in days]
        lines += ["]", "workdays = ["]
        lines += [f'  "{d.isoformat()}",  # {name} 调休上班' for name, days in self.workdays
                  for d in days]
        lines.append("]")
        return "\n".join(lines) + "\n"


_NAMES = "|".join(STATUTORY)
_ITEM = re.compile(rf"[一二三四五六七八九十]{{1,2}}、\s*((?:{_NAMES})(?:\s*、\s*(?:{_NAMES}))*)"
                   rf"\s*:")
_TITLE = re.compile(r"关于\s*(\d{4})\s*年\s*部分节假日安排")
_INTRO = re.compile(r"现将\s*(\d{4})\s*年")
_DAY = re.compile(r"(?:(\d{4})\s*年)?\s*(?:(\d{1,2})\s*月)?\s*(\d{1,2})\s*日\s*"
                  r"(?:\(([^)]*)\))?")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_COUNT = re.compile(r"共\s*(\d{1,2})\s*天|放假\s*(\d{1,2})\s*天")


def decode_notice(data: bytes, name: str = "the notice") -> str:
    """The text of a notice file: UTF-8 (with or without BOM) or GB18030/GBK."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CalendarError(f"{name} is neither UTF-8 nor GBK/GB18030 text. Copy the notice's "
                        f"text from the web page into a plain text file (记事本) and try again.")


def parse_notice(text: str) -> Arrangement:
    """Read the notice's text into an Arrangement; raise CalendarError naming what is wrong."""
    text = unicodedata.normalize("NFKC", text)
    m = _TITLE.search(text) or _INTRO.search(text)
    if m is None:
        raise CalendarError(
            "The text does not say which year it is for: paste the notice with its title "
            "(国务院办公厅关于YYYY年部分节假日安排的通知) or its first sentence "
            "(现将YYYY年元旦、春节…放假调休日期的具体安排通知如下).")
    year = int(m.group(1))
    items = list(_ITEM.finditer(text))
    problems: list[str] = []
    holidays: list[tuple[str, tuple[date, ...]]] = []
    workdays: list[tuple[str, tuple[date, ...]]] = []
    elsewhere: list[date] = []
    for i, item in enumerate(items):
        end = items[i + 1].start() if i + 1 < len(items) else len(text)
        body = text[item.end():end].split("\n", 1)[0]
        name = "、".join(n.strip() for n in item.group(1).split("、"))
        off, on = _item_days(year, name, body, problems)
        elsewhere.extend(d for d in (*off, *on) if d.year != year)
        off = tuple(d for d in off if d.year == year)
        on = tuple(d for d in on if d.year == year)
        if off:
            holidays.append((name, off))
        if on:
            workdays.append((name, on))
    seen = {n for name, _ in holidays for n in name.split("、")}
    missing = [n for n in STATUTORY if n not in seen]
    if missing:
        problems.append(f"no item with the days off of {'、'.join(missing)} (the notice has one "
                        f"numbered item per holiday, e.g. \"二、春节：…放假调休，共8天。\"); "
                        f"was part of the text left out?")
    arrangement = Arrangement(year, tuple(holidays), tuple(workdays), tuple(sorted(elsewhere)))
    if not problems:
        problems = check_year(year, arrangement.days_off, arrangement.working_days)
    if problems:
        raise CalendarError(f"The holiday notice for {year} cannot be used:\n  - "
                            + "\n  - ".join(problems)
                            + "\nCheck the text against the notice as published and try again.")
    return arrangement


def _item_days(year: int, name: str, body: str, problems: list[str]
               ) -> tuple[tuple[date, ...], tuple[date, ...]]:
    off: list[date] = []
    on: list[date] = []
    for sentence in re.split(r"[。;]", body):
        days = _dates(year, name, sentence, problems)
        if not days:
            continue
        if "放假" in sentence:
            # "M月D日至[M月]D日放假…" (a range) or "M月D日放假1天" (one day).
            if len(days) >= 2 and re.fullmatch(r"\s*(?:至|到|-|—|~)\s*", days[0][1]):
                first, last = days[0][0], days[1][0]
                if last < first:
                    problems.append(f"{name}: the range {first.isoformat()} to "
                                    f"{last.isoformat()} runs backwards")
                    continue
                span = [first + timedelta(i) for i in range((last - first).days + 1)]
            else:
                span = [d for d, _, _ in days]
            count = _COUNT.search(sentence)
            if count is not None:
                stated = int(count.group(1) or count.group(2))
                if stated != len(span):
                    problems.append(f"{name}: the text says {stated} days but "
                                    f"{span[0].isoformat()} to {span[-1].isoformat()} is "
                                    f"{len(span)} days")
            off.extend(span)
        elif "上班" in sentence:
            on.extend(d for d, _, _ in days)
        else:
            problems.append(f"{name}: cannot tell whether the dates of {sentence.strip()!r} are "
                            f"days off (放假) or working days (上班)")
    return tuple(off), tuple(on)


def _dates(year: int, name: str, sentence: str, problems: list[str]
           ) -> list[tuple[date, str, str]]:
    """(date, text up to the next date, the parenthesis) of each date in a sentence; the
    month and year carry over from the date before (“4月4日至6日”)."""
    out: list[tuple[date, str, str]] = []
    month: int | None = None
    current_year = year
    matches = list(_DAY.finditer(sentence))
    for k, m in enumerate(matches):
        if m.group(1):
            current_year = int(m.group(1))
        if m.group(2):
            month = int(m.group(2))
        if month is None:
            problems.append(f"{name}: {m.group(0).strip()!r} has no month")
            continue
        try:
            day = date(current_year, month, int(m.group(3)))
        except ValueError:
            problems.append(f"{name}: {current_year}年{month}月{m.group(3)}日 is not a date")
            continue
        note = m.group(4) or ""
        wd = _WEEKDAY.search(note)
        if wd is not None:
            said = "一二三四五六日".index(wd.group(1).replace("天", "日"))
            if said != day.weekday():
                problems.append(f"{name}: the text says {day.month}月{day.day}日 is a "
                                f"周{WEEKDAYS[said]}, but in {day.year} it is a "
                                f"周{WEEKDAYS[day.weekday()]} (a notice of another year?)")
        after = sentence[m.end():matches[k + 1].start()] if k + 1 < len(matches) else ""
        out.append((day, after, note))
    return out
