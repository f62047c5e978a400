"""The clock: the one place suiji reads the date and the time.

The record's timestamps (:func:`suiji.data.store.utc_now`) and the command
line's "today" (:func:`suiji.cli.main.today`) both read :func:`now` and
:func:`today`. Normally that is the computer's clock. Only ``suiji demo``
replaces it, in its own process, by a :class:`SimulatedCalendar` (through
:func:`simulated`) so that its quarter can happen on the days it shows; no
option or environment variable changes it. The core (draws, checks) never
reads it: it takes ``today`` as an argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """The computer's clock: UTC time for the record, the local date for "today"."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return date.today()


# The simulated office hours: 10:00 Beijing time is 02:00 UTC, the same calendar day.
OFFICE_HOURS_UTC = time(2, 0)


class SimulatedCalendar:
    """A calendar moved forward day by day (never back): "today" is its day, and the
    record's time is that day's office hours plus a millisecond per reading, so the
    timestamps follow the days in order and a ``drawn_on`` matches the log's time."""

    def __init__(self, day: date) -> None:
        self._day = day
        self._now = datetime.combine(day, OFFICE_HOURS_UTC, tzinfo=UTC)

    def on(self, day: date) -> None:
        """Move to ``day`` (the same day or a later one)."""
        if day < self._day:
            raise ValueError(f"the simulated calendar never goes back: it is "
                             f"{self._day.isoformat()}, not {day.isoformat()}")
        if day > self._day:
            self._day = day
            self._now = datetime.combine(day, OFFICE_HOURS_UTC, tzinfo=UTC)

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now

    def today(self) -> date:
        return self._day


_clock: Clock = SystemClock()


def now() -> datetime:
    """The time now (UTC), for the record only; never an input of a draw."""
    return _clock.now()


def today() -> date:
    """Today's date."""
    return _clock.today()


@contextmanager
def simulated(calendar: SimulatedCalendar) -> Iterator[SimulatedCalendar]:
    """Run on ``calendar`` until the block ends (``suiji demo`` only)."""
    global _clock
    previous = _clock
    _clock = calendar
    try:
        yield calendar
    finally:
        _clock = previous
