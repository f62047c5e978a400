"""Periods: quarters such as ``2026Q4`` (also ``2026-Q4``, ``2026q4``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from suiji.data.errors import SuijiError

_RE = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4 or not 1900 <= self.year <= 9999:
            raise SuijiError(f"Not a valid period: {self.year}Q{self.quarter}")

    @classmethod
    def parse(cls, text: str) -> Period:
        m = _RE.match(text or "")
        if not m:
            raise SuijiError(f"Period {text!r} is not a quarter. Write it like 2026Q4.")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> date:
        if self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    @property
    def remaining_quarters(self) -> int:
        """Quarters left in the year including this one (4 for Q1, 1 for Q4)."""
        return 5 - self.quarter

    def days(self) -> list[date]:
        d, out = self.first_day, []
        while d <= self.last_day:
            out.append(d)
            d += timedelta(days=1)
        return out

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day
