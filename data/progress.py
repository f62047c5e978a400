"""Progress on stderr for long steps: shown on a terminal, silent with --quiet or when piped."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TextIO

_ENABLED = True
_LOCAL = threading.local()

Observer = Callable[[str, int, "int | None"], None]
"""Told (label, done, total) on every update of a Progress in the observing thread."""


@contextmanager
def observe(observer: Observer) -> Iterator[None]:
    """Report every Progress made in this thread to ``observer``, terminal or not.

    An interface that is not a terminal (the web workbench) shows the same
    progress the CLI draws on stderr: ``with observe(job.update): import_file(...)``.
    """
    previous = getattr(_LOCAL, "observer", None)
    _LOCAL.observer = observer
    try:
        yield
    finally:
        _LOCAL.observer = previous


def set_quiet(quiet: bool) -> None:
    global _ENABLED
    _ENABLED = not quiet and os.environ.get("SUIJI_QUIET", "") in ("", "0")


class Progress:
    """``with Progress("导入 companies", total=n) as p: p.advance(k)``; throttled to 10 Hz."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 force: bool = False, shown: bool = True) -> None:
        """``shown=False``: a silent one, for a library caller that asked for no progress."""
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = shown and (force or (_ENABLED and self.stream.isatty()))
        self._last = 0.0
        self._start = time.monotonic()
        self._observer: Observer | None = getattr(_LOCAL, "observer", None)

    def __enter__(self) -> Progress:
        self._show(force=True)
        return self

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._show()

    def step(self, label: str) -> None:
        self.label = label
        self._show(force=True)

    def _show(self, force: bool = False) -> None:
        if self._observer is not None:
            self._observer(self.label, self.done, self.total)
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        if self.total:
            pct = 100.0 * self.done / self.total
            text = f"{self.label}: {self.done:,}/{self.total:,} ({pct:.0f}%)"
        else:
            text = f"{self.label}…" if not self.done else f"{self.label}: {self.done:,}"
        self.stream.write(f"\r\x1b[2K{text}")
        self.stream.flush()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self._start
            self.stream.write(f"\r\x1b[2K{self.label}: done in {elapsed:.1f}s\n")
            self.stream.flush()
