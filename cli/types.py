"""The click parameter types every command shares: a period, a date, a seed.

One set of accepted formats for the whole command line, each a bad value being
a usage error (exit 2) that says what to write:

* **period** (:data:`PERIOD`): a quarter, ``2026Q4``; also ``2026q4`` and
  ``2026-Q4`` (:meth:`suiji.data.period.Period.parse`). Converts to a
  :class:`~suiji.data.period.Period`.
* **date** (:data:`DATE`): ``2026-01-05`` or ``2026/1/5`` (year first, month
  and day with one or two digits), as the input files write them. Converts to
  a :class:`datetime.date`.
* **seed** (:data:`SEED`): the public seed, e.g. 20 dice digits; surrounding
  spaces are dropped, a seed empty or over-long in its normal form is refused
  (:func:`suiji.data.seeds.check_seed`). Converts to the ``str`` as typed: the
  library normalises it (NFKC, separators removed), prints and records both.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import click

from suiji.data.errors import SuijiError
from suiji.data.period import Period

DATE_FORMATS = "2026-01-05 or 2026/1/5"
_DATE = re.compile(r"\s*(\d{4})([-/])(\d{1,2})\2(\d{1,2})\s*")


def parse_date(text: str) -> date:
    """A date written ``2026-01-05`` or ``2026/1/5``; ValueError naming the formats otherwise."""
    m = _DATE.fullmatch(text)
    try:
        if m is None:
            raise ValueError(text)
        return date(int(m[1]), int(m[3]), int(m[4]))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: write it like {DATE_FORMATS}.") from exc


class PeriodType(click.ParamType):
    """A quarter such as 2026Q4, converted to a :class:`Period`."""

    name = "period"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Period:
        if isinstance(value, Period):
            return value
        try:
            return Period.parse(str(value))
        except SuijiError as exc:
            self.fail(str(exc), param, ctx)


class DateType(click.ParamType):
    """A date written 2026-01-05 or 2026/1/5, converted to a :class:`datetime.date`."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class SeedType(click.ParamType):
    """The public seed as typed (spaces around dropped); empty or over-long is refused."""

    name = "seed"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        from suiji.data.seeds import check_seed

        try:
            check_seed(str(value))
        except SuijiError as exc:
            self.fail(str(exc), param, ctx)
        return str(value).strip()


PERIOD = PeriodType()
DATE = DateType()
SEED = SeedType()
