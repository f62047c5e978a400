"""Exports that record themselves: every file the library writes for people is in the trail.

:func:`export_plan` (the plan, or with ``public=True`` the notice to publish),
:func:`export_reviews` (the review sample) and :func:`write_report` (the
internal quarterly report) render, then log and write in one transaction
(:func:`suiji.data.trail.record_export`): the entry, ``export`` or ``publish``,
commits to the SHA-256 of the exact bytes written, and a write that fails
leaves no entry. Whoever calls them, the command line or the web workbench,
cannot export without a trace. (The audit bundle records itself the same way:
:func:`suiji.data.bundle.write_bundle`.)

A destination is a file path (written atomically: a temporary file beside it,
renamed into place) or a binary stream (standard output, an HTTP response).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from suiji.data.period import Period
from suiji.data.store import LogEntry, Store, canonical_json, sha256_hex
from suiji.data.trail import record_export, write_file_atomically
from suiji.reports.notice import render_plan, render_reviews
from suiji.reports.report import build_report
from suiji.reports.writers import Rendered

Destination = Path | BinaryIO


@dataclass(frozen=True)
class Exported:
    """An export as written and recorded: its rendering, where it went, its trail entry."""

    rendered: Rendered
    target: str  # as the trail names it: the file path, or the stream's name
    entry: LogEntry

    @property
    def rows(self) -> int:
        return self.rendered.rows

    @property
    def sealed(self) -> int:
        """How many rows are left out because they stay sealed (public exports)."""
        return int(self.rendered.details.get("sealed", 0) or 0)


@dataclass(frozen=True)
class WrittenReport:
    """The quarterly report as written: its folder, each file's SHA-256, notes, trail entry."""

    folder: Path
    files: Mapping[str, str]  # file name -> SHA-256 of its bytes
    notes: tuple[str, ...]
    entry: LogEntry


def _writer(dest: Destination) -> Callable[[bytes], None]:
    if isinstance(dest, Path):
        return partial(write_file_atomically, dest)

    def to_stream(data: bytes) -> None:
        dest.write(data)
        dest.flush()
    return to_stream


def _target(dest: Destination, name: str | None) -> str:
    if name is not None:
        return name
    if isinstance(dest, Path):
        return str(dest)
    stream_name = getattr(dest, "name", None)
    return stream_name if isinstance(stream_name, str) else "<stream>"


def _record(store: Store, period: Period | str, what: str, rendered: Rendered,
            dest: Destination, name: str | None, public: bool) -> Exported:
    target = _target(dest, name)
    details: dict[str, Any] = dict(rendered.details)
    details["file"] = target
    entry = record_export(store, period=str(period), what=what, data=rendered.data,
                          write=_writer(dest), public=public, details=details,
                          digests=rendered.digests)
    return Exported(rendered, target, entry)


def export_plan(store: Store, period: Period | str, fmt: str, dest: Destination, *,
                public: bool, as_of: date, lang: str = "zh", authority: str = "",
                name: str | None = None) -> Exported:
    """Write the plan (or, ``public``, the notice to publish) to ``dest`` and record it.

    ``as_of`` is today's date: a public export lists only inspections before it.
    ``name`` is what the trail calls the destination (default: the path, or
    the stream's name).
    """
    rendered = render_plan(store, period, fmt, public=public, as_of=as_of, lang=lang,
                           authority=authority)
    return _record(store, period, "plan", rendered, dest, name, public)


def export_reviews(store: Store, period: Period | str, fmt: str, dest: Destination, *,
                   public: bool, as_of: date, lang: str = "zh",
                   name: str | None = None) -> Exported:
    """Write the review sample with its panels to ``dest`` and record it.

    In a public export a panel stays sealed until its meeting is before ``as_of``.
    """
    rendered = render_reviews(store, period, fmt, public=public, as_of=as_of, lang=lang)
    return _record(store, period, "reviews", rendered, dest, name, public)


def export_tasks(store: Store, period: Period | str, fmt: str, dest: Destination, *,
                 public: bool, as_of: date, lang: str = "zh", authority: str = "",
                 table: str = "visits", name: str | None = None) -> Exported:
    """Write the task plan (``suiji-tasks/1``) or, ``public``, its notice, and record it.

    ``table``: ``visits``, ``tasks`` (the pre-quarter plan notice: no firm named) or
    ``results`` (counts by task and matter). A public HTML export is the whole notice.
    """
    from suiji.reports.tasks_notice import render_task_plan

    rendered = render_task_plan(store, period, fmt, public=public, as_of=as_of, lang=lang,
                                authority=authority, table=table)
    return _record(store, period, "tasks", rendered, dest, name, public)


def write_report(store: Store, period: Period | str, folder: Path, *,
                 lang: str = "zh", name: str | None = None) -> WrittenReport:
    """Write report.html and report.xlsx into ``folder`` and record them (an ``export``).

    The entry commits to the canonical JSON of ``{file name: SHA-256}`` and
    lists each file's digest. ``name`` is what the entry calls the report
    (default: the folder's path).
    """
    report = build_report(store, period, lang=lang)
    files = report.files()
    digests = {n: sha256_hex(d) for n, d in sorted(files.items())}
    index = canonical_json(digests).encode("utf-8")

    def write(_: bytes) -> None:
        for file_name, data in files.items():
            write_file_atomically(folder / file_name, data)

    entry = record_export(store, period=str(period), what="report", data=index, write=write,
                          public=False,
                          details={"file": name or str(folder), "lang": lang,
                                   "files": sorted(files),
                                   "digest_of": "canonical JSON of {file: sha256}"},
                          digests={n: sha256_hex(d) for n, d in files.items()})
    return WrittenReport(folder, digests, tuple(report.notes), entry)
