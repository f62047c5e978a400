"""Importing bureau files: read, check every cell, and write a kind all or nothing.

:func:`read_kind` turns a CSV or XLSX file into a :class:`ParsedFile`: a frame
of canonical strings with the kind's English column names (ISO dates, English
enumeration values, ``yes``/``no``, ``;``-joined lists, normalised numbers and
USCCs). The whole file is checked before anything is written; every problem is
collected as ``row N, column X: problem`` with N the row number Excel shows
(header = row 1) and X the header as written in the file, and any problem
rejects the file with :class:`~suiji.data.errors.InputFileError`.

:func:`import_file` then makes the parsed frame the current version of a
directory kind (:meth:`suiji.data.store.Store.replace`), or hands results and
scores to their recorders.

Checks are vectorised: each column of a chunk is factorised, the distinct
values are parsed with pandas/numpy once, and the verdicts are spread back
over the rows (which also shares one string object per distinct value, keeping
the canonical frame small). Reading goes in chunks, so memory is bounded by the
chunk size plus the canonical result.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from suiji.data import uscc
from suiji.data.errors import ImportRefusedError, InputFileError, SuijiError, UsageError
from suiji.data.progress import Progress
from suiji.data.readers import Rows, Source, number_text, open_source
from suiji.data.rules import ImportRules, Rules
from suiji.data.schema import KINDS, RECORD_KINDS, YES_NO, Column, Kind
from suiji.data.store import Store

MAX_CELL = 10_000
MAX_PROBLEMS = 10_000
STRIP = " \t\r\n\v\f\u3000\u00a0\u200b\ufeff"
EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                          "#SPILL!", "#CALC!", "#GETTING_DATA"})
DATE_STYLES = "2026-01-05, 2026/1/5, 2026.1.5 or 2026年1月5日"
LIST_SEPARATORS = r"[、;,，；]"
# C0 control characters other than tab, line feed and carriage return: no spreadsheet can
# show them and an XLSX export cannot hold them.
C0 = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
C0_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x0B: "VT", 0x0C: "FF", 0x1B: "ESC"}
# Bidirectional controls (U+202E shows "gnp.exe" for "exe.png"): removed, with a warning.
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Headers only suiji's exports of a draw carry (reports/notice.py): such a file is a plan
# or a sample, not a directory.
EXPORT_HEADERS = ("随机数", "Ticket", "入样概率", "Inclusion probability", "抽取层", "Stratum",
                  "抽取原因", "Why sampled", "执法人员（执法证号）", "Inspectors (badge)")
# Columns that identify the rows of another directory (people, projects): a file that
# carries one of them as an ignored column is that directory or an export about it.
FOREIGN_KEYS = (("inspectors", "badge"), ("projects", "project_id"), ("experts", "expert_id"))


def kind_of(name: str) -> Kind:
    """The :class:`Kind` of a directory (KINDS) or a record file (RECORD_KINDS)."""
    if name in KINDS:
        return KINDS[name]
    if name in RECORD_KINDS:
        return RECORD_KINDS[name]
    raise SuijiError(f"Unknown kind {name!r}. Kinds: {', '.join([*KINDS, *RECORD_KINDS])}.")


@dataclass(frozen=True)
class ParsedFile:
    """A file checked against its kind: canonical strings, one column per kind column.

    ``frame`` has the kind's English column names in schema order, every cell a
    canonical ``str`` (empty cells ``""`` or the column default), rows in file
    order, and its index (named ``row``) holds each row's number as Excel shows
    it (header = row 1), for messages about rows found bad later.
    """

    kind: str
    frame: pd.DataFrame = field(repr=False)
    warnings: tuple[str, ...]
    encoding: str
    file_sha256: str
    file_name: str
    rows: int

    def __post_init__(self) -> None:
        k = kind_of(self.kind)
        if tuple(self.frame.columns) != k.column_names:
            raise ValueError(f"frame columns {list(self.frame.columns)} are not the columns of "
                             f"{self.kind}: {list(k.column_names)}")
        if self.rows != len(self.frame):
            raise ValueError(f"rows={self.rows} but the frame has {len(self.frame)} rows")
        if len(self.file_sha256) != 64:
            raise ValueError("file_sha256 must be 64 hex digits")


def read_kind(kind: str, path: Path, *, encoding: str | None = None,
              sheet: str | None = None, force_kind: bool = False,
              progress: bool = False) -> ParsedFile:
    """Read and check a whole file as ``kind``; raise InputFileError listing every problem.

    ``encoding`` forces a CSV encoding (default: UTF-8 BOM, else UTF-8, else
    GB18030); ``sheet`` picks an XLSX worksheet (default: the first). A file whose
    ignored columns are those of another kind or of a suiji export is refused
    (ImportRefusedError) unless ``force_kind``.
    ``progress``: show the reading on a terminal's stderr (the CLI asks for it).

    Example::

        parsed = read_kind("companies", Path("企业名录.csv"))
        parsed.frame.loc[2, "category"]  # row 2 as Excel shows it: 'key' for 重点
    """
    k = kind_of(kind)
    source = open_source(Path(path), encoding=encoding, sheet=sheet)
    return _Parser(k, source, progress, force_kind=force_kind).run()


def import_file(store: Store, kind: str, path: Path, *, encoding: str | None = None,
                sheet: str | None = None, period: str | None = None,
                rules: Rules | None = None, progress: bool = False,
                allow_removals: bool = False, force_kind: bool = False,
                today: date | None = None, allow_off_panel: bool = False,
                confirm_removals: bool = False, file_name: str | None = None
                ) -> dict[str, Any]:
    """Read, check and record a file; return the summary ``suiji import --json`` prints.

    With ``confirm_removals`` (and not ``allow_removals``) a directory file that
    would remove any current row raises
    :class:`~suiji.data.errors.RemovalsNotConfirmedError` with the counts (nothing
    written), so an interface can ask before removing, then import with
    ``allow_removals``. ``file_name`` is the name recorded in the trail instead
    of ``path``'s (an upload's original name).

    Directory kinds become the kind's new current version (earlier versions
    stay readable); ``results`` (with ``period``, e.g. ``"2026Q4"``, or None),
    ``scores`` and ``findings`` (with ``rules``, the rules in force, which the
    caller loads: the core reads no rules file by itself) go to their
    recorders; ``responses`` apply declines to a panel draw, a scheduler step:
    import them with :func:`suiji.scheduler.responses.import_responses`.
    Nothing is written when the file has any problem, when a directory import
    would remove more than ``rules.imports.max_removed_share`` of the current
    rows (default 20%) unless ``allow_removals``, or when the file looks like
    another kind unless ``force_kind``. With ``today`` (the caller's date), projects
    approved after it and scores of meetings after it are refused; scores of experts
    not on the meeting's final panel are refused unless ``allow_off_panel``. The
    summary has the keys kind, file,
    rows, inserted, updated, removed, warnings, version and digest (None where
    a recorder does not report one), plus any further keys a recorder returns.
    ``progress``: show reading and writing on a terminal's stderr (the CLI asks
    for it; a library caller gets no output).
    """
    kind_of(kind)
    if kind == "responses":
        raise SuijiError("Responses apply declines to a panel draw: import them with "
                         "suiji.scheduler.responses.import_responses (suiji import responses).")
    if period is not None and kind not in ("results", "matter-results"):
        raise SuijiError(f"--period applies to results files only, not to {kind}.")
    if kind == "scores" and rules is None:
        raise UsageError("Importing scores needs the rules in force (the warning and "
                         "suspension thresholds): pass rules=load_rules(...).")
    if kind == "findings" and rules is None:
        raise UsageError("Importing findings needs the rules in force (the problem items and "
                         "their points): pass rules=load_rules(...).")
    if kind == "results" and _has_matter_column(Path(path), encoding, sheet):
        kind = "matter-results"  # results of a task plan, one row per visit and matter
    parsed = read_kind(kind, path, encoding=encoding, sheet=sheet, force_kind=force_kind,
                       progress=progress)
    if file_name is not None:
        parsed = dataclasses.replace(parsed, file_name=file_name)
    base: dict[str, Any] = {"kind": kind, "file": parsed.file_name, "rows": parsed.rows,
                            "inserted": None, "updated": None, "removed": None,
                            "warnings": list(parsed.warnings), "version": None, "digest": None}
    if kind == "projects" and today is not None:
        _refuse_future_approvals(parsed, today)
    if kind in KINDS:
        frame = parsed.frame
        if kind == "matters":
            from suiji.data.matters import check_matters

            frame = check_matters(frame, parsed.file_name)
        with Progress(f"写入 writing {kind}", shown=progress):
            share = (rules.imports if rules is not None else ImportRules()).max_removed_share
            summary = store.replace(kind, frame, file_name=parsed.file_name,
                                    file_sha256=parsed.file_sha256, encoding=parsed.encoding,
                                    warnings=parsed.warnings,
                                    max_removed_share=(None if allow_removals else
                                                       0.0 if confirm_removals else share))
        base.update(inserted=summary.inserted, updated=summary.updated,
                    removed=summary.removed, version=summary.version, digest=summary.digest)
        if kind == "experts" and rules is not None:
            unused = unused_specialties(parsed.frame, rules, store.read("projects"))
            base["unused_specialties"] = unused
            if unused:
                base["warnings"].append(
                    "specialties no rule uses (experts holding only these are never drawn "
                    "unless a document's industry has that name): "
                    + ", ".join(f"{name} ({n} expert{'s' if n > 1 else ''})"
                                for name, n in unused.items())
                    + ". Map the industries to them in [review.specialties] of the rules.")
        return base
    if kind == "matter-results":
        from suiji.data.matter_results import record_matter_results

        out = record_matter_results(store, parsed.frame, period=period,
                                    file_name=parsed.file_name,
                                    file_sha256=parsed.file_sha256)
    elif kind == "results":
        from suiji.data.results import record_results

        out = record_results(store, parsed.frame, period=period, file_name=parsed.file_name,
                             file_sha256=parsed.file_sha256)
    elif kind == "findings":
        from suiji.data.findings import record_findings

        assert rules is not None  # checked above, before the file is read
        out = record_findings(store, parsed.frame, file_name=parsed.file_name,
                              file_sha256=parsed.file_sha256, rules=rules)
    else:
        from suiji.data.scores import record_scores

        assert rules is not None  # checked above, before the file is read
        out = record_scores(store, parsed.frame, file_name=parsed.file_name,
                            file_sha256=parsed.file_sha256, rules=rules, today=today,
                            allow_off_panel=allow_off_panel)
    for key, value in dict(out).items():
        if key == "warnings":
            base["warnings"] = [*base["warnings"], *[w for w in value
                                                     if w not in base["warnings"]]]
        elif key in ("kind", "file"):
            continue
        else:
            base[key] = value
    return base


def _has_matter_column(path: Path, encoding: str | None, sheet: str | None) -> bool:
    """Whether a results file's header row names the matter (事项编号): then its rows are
    results per visit and matter of a task plan."""
    wanted = {header_key(h) for h in RECORD_KINDS["matter-results"].column("matter").headers}
    chunks = open_source(path, encoding=encoding, sheet=sheet).chunks(size=64)
    try:
        for _start, rows in chunks:
            for row in rows:
                if any(_clean(c) for c in row):
                    return any(header_key(_clean(c)) in wanted for c in row)
        return False
    finally:
        close = getattr(chunks, "close", None)  # a generator: closes an XLSX workbook
        if close is not None:
            close()
def unused_specialties(experts: pd.DataFrame, rules: Rules, projects: pd.DataFrame
                       ) -> dict[str, int]:
    """Specialties of ``experts`` (canonical, ``;``-joined) that no rule uses: not in any
    list of ``review.specialties``, not an industry named there, and not the industry of a
    project (an expert whose specialty names the industry qualifies). Name -> experts."""
    table = rules.review.specialties
    used = {s for values in table.values() for s in values}
    used |= {k for k in table if k != "*"}
    used |= {str(i) for i in projects.get("industry", pd.Series(dtype=object))}
    counts: dict[str, int] = {}
    for text in experts["specialties"]:
        for name in dict.fromkeys(x for x in str(text).split(";") if x):
            if name not in used:
                counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _refuse_future_approvals(parsed: ParsedFile, today: date) -> None:
    """Projects approved after ``today`` are not approved yet: refused with their rows."""
    approved = parsed.frame["approved_on"].to_numpy(dtype=object)
    late = np.flatnonzero(approved > today.isoformat())
    if not len(late):
        return
    rows = parsed.frame.index.to_numpy()
    problems = [f"row {int(rows[i])}, column 审批日期: {approved[i]} is after today "
                f"({today.isoformat()}); a document not yet approved cannot be imported"
                for i in late[:MAX_PROBLEMS]]
    raise InputFileError(
        f"{parsed.file_name}: {len(late):,} of {parsed.rows:,} projects have an approval date "
        f"after today ({today.isoformat()}). Fix the dates (a typo of the year?) or import "
        f"the file once they are approved.", problems, len(late))


# --- headers -------------------------------------------------------------------


def header_key(text: str) -> str:
    """Headers compare after NFKC, without whitespace/BOM/``_``/``-`` or a trailing ``*``,
    case-folded."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"[\s\ufeff\u200b_\-]+", "", t)
    return t.rstrip("*").casefold()


def _header_table(kind: Kind) -> dict[str, Column]:
    return _header_table_of(kind.name)


@cache
def _header_table_of(name: str) -> dict[str, Column]:
    kind = kind_of(name)
    table: dict[str, Column] = {}
    for col in kind.columns:
        for h in col.headers:
            key = header_key(h)
            if table.get(key, col) is not col:
                raise RuntimeError(f"schema: header {h!r} names two columns of {kind.name}")
            table[key] = col
    return table


def _a(name: str) -> str:
    """``a companies`` / ``an experts``."""
    return ("an " if name[:1] in "aeiou" else "a ") + name


def _describe(col: Column) -> str:
    return f"{col.zh} ({col.name})"


@dataclass(frozen=True)
class _Field:
    column: Column
    position: int  # 0-based cell index in the file
    header: str  # as written, stripped
    order: int  # position among the kind's columns, for sorting problems


def _clean(cell: str) -> str:
    return cell.strip(STRIP)


def _matches(kind: Kind, cells: Sequence[str]) -> set[str]:
    table = _header_table(kind)
    return {table[k].name for k in (header_key(c) for c in cells) if k in table}


# --- the parser ----------------------------------------------------------------


class _Problems:
    """Problems as (row, column order, text); keeps the first MAX_PROBLEMS, counts all."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.items: list[tuple[int, int, str]] = []
        self.total = 0

    def add(self, row: int, order: int, text: str) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append((row, order, text))

    def cell(self, rows: np.ndarray, order: int, header: str, messages: Sequence[str]) -> None:
        room = self.limit - len(self.items)
        self.total += len(rows)
        for r, m in zip(rows[:max(room, 0)], messages[:max(room, 0)], strict=True):
            self.items.append((int(r), order, f"row {int(r)}, column {header}: {m}"))

    def lines(self) -> list[str]:
        return [text for _, _, text in sorted(self.items, key=lambda x: (x[0], x[1]))]


def column_letter(index: int) -> str:
    """Excel's letter of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def foreign_columns(kind: Kind, headers: Sequence[str]) -> list[str]:
    """Why ignored ``headers`` say the file is not a ``kind`` file (empty if nothing does)."""
    keys = {header_key(h): h for h in headers}
    reasons = []
    export = [h for k, h in keys.items() if k in {header_key(e) for e in EXPORT_HEADERS}]
    if export:
        reasons.append(f"{', '.join(export)}: columns of a draw exported by suiji (a plan or a "
                       f"sample), not of a directory")
    for other, name in FOREIGN_KEYS:
        if other == kind.name or name in kind.column_names:
            continue
        col = kind_of(other).column(name)
        found = [h for k, h in keys.items() if k in {header_key(x) for x in col.headers}]
        if found:
            reasons.append(f"{found[0]}: the {col.zh} ({name}) that identifies the rows of "
                           f"{_a(other)} file")
    return reasons


class _Parser:
    def __init__(self, kind: Kind, source: Source, progress: bool = False,
                 force_kind: bool = False) -> None:
        self.progress = progress
        self.kind = kind
        self.source = source
        self.force_kind = force_kind
        self.bidi: dict[str, tuple[int, int]] = {}  # header -> (cells cleaned, first row)
        self.warnings: list[str] = list(source.notes)
        self.problems = _Problems()
        self.fields: list[_Field] = []
        self.width = 0  # cells in the header row
        self.need = 0  # cells up to the last named header: a shorter CSV row is ragged
        self.values: dict[str, list[np.ndarray]] = {}
        self.bad_key: list[np.ndarray] = []
        self.row_numbers: list[np.ndarray] = []
        self.extra_row: int | None = None
        self.unnamed: dict[int, int] = {}  # cell index without header -> first row with a value
        self.factorise: dict[str, bool] = {}

    def fail(self, summary: str, problems: list[str] | None = None,
             total: int | None = None) -> InputFileError:
        return InputFileError(f"{self.source.name}: {summary}", problems, total)

    def run(self) -> ParsedFile:
        k = self.kind
        header_seen = False
        with Progress(f"读取 reading {self.source.name}", shown=self.progress) as progress:
            for start, rows in self.source.chunks():
                progress.advance(len(rows))
                if not header_seen:
                    at = next((i for i, r in enumerate(rows) if any(_clean(c) for c in r)), None)
                    if at is None:
                        continue
                    self._header(rows[at], start + at, rows[at + 1:at + 12])
                    self._second_header(rows[at], start + at, rows[at + 1:at + 12])
                    header_seen = True
                    start, rows = start + at + 1, rows[at + 1:]
                if rows:
                    self._chunk(start, rows)
        if not header_seen:
            where = (f"sheet {self.source.sheet!r} is empty" if self.source.format == "xlsx"
                     else "the file has no rows (only empty lines or cells)")
            raise self.fail(f"{where}; export the table again with its header row.")
        n = int(sum(len(r) for r in self.row_numbers))
        if n == 0 and not self.problems.total:
            raise self.fail(f"has a header row but no data rows; {_a(k.name)} file needs at "
                            f"least one row under the header.")
        frame = self._frame(n)
        if self.problems.total:
            self._raise()
        self._note_ignored_cells()
        return ParsedFile(k.name, frame, tuple(self.warnings), self.source.encoding,
                          self.source.sha256, self.source.name, n)

    def _raise(self) -> None:
        total = self.problems.total
        listed = len(self.problems.items)
        more = f"; the first {listed:,} are listed" if total > listed else ""
        raise self.fail(f"rejected as {_a(self.kind.name)} file ({self.kind.zh}): {total:,} "
                        f"problem{'s' if total != 1 else ''}{more}.", self.problems.lines(),
                        total)

    # --- header ---

    def _header(self, cells: list[str], row: int, following: Rows) -> None:
        k = self.kind
        table = _header_table(k)
        cleaned = [_clean(c) for c in cells]
        named = [i for i, c in enumerate(cleaned) if c]
        self.width = len(cells)
        self.need = named[-1] + 1
        problems: list[str] = []
        seen: dict[str, int] = {}
        by_column: dict[str, int] = {}
        unknown: list[str] = []
        for i in named:
            key = header_key(cleaned[i])
            if key in seen:
                j = seen[key]
                problems.append(f"row {row}: columns {j + 1} and {i + 1} have the same header "
                                f"{cleaned[i]!r}; delete or rename one of them")
                continue
            seen[key] = i
            col = table.get(key)
            if col is None:
                unknown.append(cleaned[i])
                continue
            if col.name in by_column:
                j = by_column[col.name]
                problems.append(f"row {row}: columns {j + 1} ({cleaned[j]}) and {i + 1} "
                                f"({cleaned[i]}) are both the {_describe(col)} column; delete "
                                f"one of them")
                continue
            by_column[col.name] = i
        missing = [c for c in k.columns if c.required and c.name not in by_column]
        for col in missing:
            problems.append(f"row {row}: missing required column {col.zh} / {col.name} "
                            f"(缺少必填列 {col.zh})")
        if problems:
            hint = self._header_hint(missing, cells, row, following)
            raise self.fail(f"cannot be imported as {_a(k.name)} file ({k.zh}); its header row "
                            f"(row {row}) has: {', '.join(cleaned[i] for i in named)}. "
                            f"{hint}".rstrip(), problems)
        foreign = foreign_columns(k, unknown) if not self.force_kind else []
        if foreign:
            raise ImportRefusedError(
                f"{self.source.name} does not look like {_a(k.name)} file ({k.zh}): it has "
                + "; ".join(foreign) + f". Importing it would replace the {k.name} directory "
                f"with its rows. Nothing was written. Import the right file, or, if this "
                f"really is the {k.name} file, import it again with --force-kind.")
        if unknown:
            self.warnings.append(
                f"ignored column{'s' if len(unknown) > 1 else ''} not in {_a(k.name)} file: "
                f"{', '.join(unknown)} ({_a(k.name)} file has: "
                f"{', '.join(f'{c.zh}/{c.name}' for c in k.columns)})")
        order = {c.name: n for n, c in enumerate(k.columns)}
        self.fields = sorted((_Field(k.column(name), i, cleaned[i], order[name])
                              for name, i in by_column.items()), key=lambda f: f.order)
        self.unnamed = {i: 0 for i in range(self.width) if not cleaned[i]}
        self.values = {f.column.name: [] for f in self.fields}

    def _header_hint(self, missing: list[Column], cells: list[str], row: int,
                     following: Rows) -> str:
        k = self.kind
        needed = {c.name for c in k.columns if c.required}
        if not missing:
            return ""
        for offset, later in enumerate(following, 1):
            if needed <= _matches(k, later):
                return (f"Row {row + offset} looks like the header: delete the rows above it "
                        f"(titles, notes) and import again.")
        for other in (*KINDS.values(), *RECORD_KINDS.values()):
            required = {c.name for c in other.columns if c.required}
            if other is not k and required <= _matches(other, cells):
                return f"It looks like {_a(other.name)} file: suiji import {other.name} FILE."
        return ("Rename the header cells to the Chinese or English column names "
                "(the header must be the first non-empty row).")

    def _second_header(self, cells: list[str], row: int, following: Rows) -> None:
        """Refuse a header of two rows (merged cells over sub-headers): the row under the
        header has nothing in the columns read but has headers or cells under no header."""
        at = next((i for i, r in enumerate(following) if any(_clean(c) for c in r)), None)
        if at is None:
            return
        below, row2 = following[at], row + 1 + at
        read = {f.position for f in self.fields}
        filled = [j for j, c in enumerate(below) if _clean(c)]
        if any(j in read for j in filled):
            return
        table = _header_table(self.kind)
        headed = [j for j in filled if header_key(_clean(below[j])) in table]
        orphan = [j for j in filled if j >= len(cells) or not _clean(cells[j])]
        if not headed and not orphan:
            return

        def ref(j: int, r: int, text: str) -> str:
            return f"{column_letter(j)}{r} {text!r}" if text else f"{column_letter(j)}{r} empty"

        above = sorted({j for j in filled} | {j - 1 for j in orphan if j > 0})
        shown_above = ", ".join(ref(j, row, _clean(cells[j]) if j < len(cells) else "")
                                for j in above)
        shown_below = ", ".join(ref(j, row2, _clean(below[j])) for j in filled)
        raise self.fail(
            f"rows {row} and {row2} look like a header of two rows (merged header cells): "
            f"row {row} has {shown_above}; row {row2} has {shown_below} and nothing in the "
            f"columns read. suiji reads one header row, so these columns would be left blank. "
            f"Unmerge the header cells, give each column its own header in row {row} (e.g. "
            f"{', '.join(repr(_clean(below[j])) for j in filled[:2])}), delete row {row2}, "
            f"and import again.")

    # --- rows ---

    def _chunk(self, start: int, rows: Rows) -> None:
        n = len(rows)
        width = self.width
        strict = self.source.format == "csv"
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=n)
        for i in np.flatnonzero(lengths != width):  # ragged rows only: rare
            r = rows[i]
            row = start + int(i)
            if not any(_clean(c) for c in r):
                rows[i] = [""] * width
                continue
            if len(r) < self.need and strict:  # Excel leaves out a sheet's trailing empty cells
                self.problems.add(row, -1, f"row {row}: has {len(r)} cells but the header has "
                                           f"{self.need}; a separator is missing or a cell with "
                                           f"a line break is not quoted")
            extra = [j for j, c in enumerate(r[width:], width) if _clean(c)]
            if extra and strict:
                shown = ", ".join(repr(r[j]) for j in extra[:3])
                self.problems.add(row, -1, f"row {row}: has {len(r)} cells but the header has "
                                           f"{width} (extra: {shown}); quote cells that contain "
                                           f"a comma")
            elif extra and self.extra_row is None:
                self.extra_row = row
            rows[i] = r[:width] + [""] * (width - len(r))
        matrix = np.empty((n, width), dtype=object)
        matrix[:] = rows
        for j, first in self.unnamed.items():
            if not first:
                filled = next((i for i, c in enumerate(matrix[:, j]) if _clean(c)), None)
                if filled is not None:
                    self.unnamed[j] = start + filled
        parsed = []
        for f in self.fields:
            name = f.column.name
            column = _Column(f, matrix[:, f.position], factorise=self.factorise.get(name, True))
            self.factorise[name] = column.distinct * 2 < n or n < 1000
            parsed.append(column)
        blank = np.logical_and.reduce([p.empty for p in parsed])
        keep = np.flatnonzero(~blank)
        row_numbers = start + keep
        self.row_numbers.append(row_numbers)
        bad_key = np.zeros(len(keep), dtype=bool)
        canon: dict[str, np.ndarray] = {}
        for p in parsed:
            cleaned = p.bidi_rows(keep)
            if len(cleaned):
                count, first = self.bidi.get(p.field.header, (0, int(row_numbers[cleaned[0]])))
                self.bidi[p.field.header] = (count + len(cleaned), first)
            values, bad, messages = p.result(keep)
            canon[p.field.column.name] = values
            self.values[p.field.column.name].append(values)
            if len(bad):
                self.problems.cell(row_numbers[bad], p.field.order, p.field.header, messages)
                if p.field.column.name in self.kind.key:
                    bad_key[bad] = True
        self.bad_key.append(bad_key)
        self._check_ranges(canon, row_numbers)

    def _check_ranges(self, canon: dict[str, np.ndarray], rows: np.ndarray) -> None:
        """An end date before its start date."""
        if "start" not in canon or "end" not in canon:
            return
        start, end = canon["start"], canon["end"]
        wrong = np.flatnonzero((start != "") & (end != "") & (end < start))
        if len(wrong):
            f = next(f for f in self.fields if f.column.name == "end")
            self.problems.cell(rows[wrong], f.order, f.header,
                               [f"{end[i]} is before the start date {start[i]}" for i in wrong])

    def _frame(self, n: int) -> pd.DataFrame:
        k = self.kind
        data: dict[str, np.ndarray] = {}
        for col in k.columns:
            parts = self.values.pop(col.name, None)  # freed as they are joined
            if parts:
                data[col.name] = np.concatenate(parts) if len(parts) > 1 else parts[0]
            else:
                data[col.name] = np.full(n, col.default or "", dtype=object)
        rows = np.concatenate(self.row_numbers) if self.row_numbers else np.empty(0, np.int64)
        frame = pd.DataFrame(data, columns=list(k.column_names), dtype=object, copy=False,
                             index=pd.Index(rows, name="row"))
        if n:
            self._check_duplicates(frame)
        return frame

    def _check_duplicates(self, frame: pd.DataFrame) -> None:
        k = self.kind
        rows = np.concatenate(self.row_numbers)
        valid = ~np.concatenate(self.bad_key)
        keys = frame.loc[valid, list(k.key)]
        if len(k.key) == 1:
            flags = pd.Series(keys.iloc[:, 0].to_numpy(dtype=object)).duplicated(keep=False)
        else:
            flags = keys.duplicated(keep=False)
        dup = flags.to_numpy()
        if not dup.any():
            return
        sub = keys[dup]
        sub_rows = pd.Series(rows[valid][dup], index=sub.index)
        first = sub_rows.groupby([sub[c] for c in k.key], sort=False).transform("min")
        later = (sub_rows != first).to_numpy()
        fields = {f.column.name: f for f in self.fields}
        headers = " + ".join(fields[c].header if c in fields else k.column(c).zh
                             for c in k.key)
        order = min((fields[c].order for c in k.key if c in fields), default=0)
        what = " + ".join(k.column(c).zh for c in k.key)
        values = sub[later]
        messages = [(v[0] if len(v) == 1 else "(" + ", ".join(v) + ")")
                    + f" is already on row {int(r)}: each {what} may appear only once"
                    for v, r in zip(values.itertuples(index=False, name=None),
                                    first[later].to_numpy(), strict=True)]
        self.problems.cell(sub_rows[later].to_numpy(), order, headers, messages)

    def _note_ignored_cells(self) -> None:
        for header, (count, first) in self.bidi.items():
            self.warnings.append(f"removed bidirectional control characters (such as U+202E, "
                                 f"which shows text reversed) from {count:,} cell"
                                 f"{'s' if count > 1 else ''} of column {header} (first on "
                                 f"row {first})")
        for j, first in sorted(self.unnamed.items()):
            if first:
                self.warnings.append(f"column {j + 1} has no header but has values (first on "
                                     f"row {first}); ignored")
        if self.extra_row is not None:
            self.warnings.append(f"values right of the last header column (first on row "
                                 f"{self.extra_row}) were ignored")


class _Column:
    """One column of one chunk, checked per distinct value (factorised unless nearly unique)."""

    def __init__(self, f: _Field, raw: np.ndarray, factorise: bool = True) -> None:
        self.field = f
        self.codes: np.ndarray | None = None
        if factorise:
            self.codes, raw = pd.factorize(raw)
        uniques = [c.strip(STRIP) for c in raw]
        self.bidi = np.array([BIDI.search(u) is not None for u in uniques], dtype=bool)
        if self.bidi.any():
            uniques = [BIDI.sub("", u).strip(STRIP) if b else u
                       for u, b in zip(uniques, self.bidi, strict=True)]
        self.uniques = np.array(uniques, dtype=object)
        self.distinct = len(self.uniques)
        empty = self.uniques == ""
        self.empty = empty if self.codes is None else empty[self.codes]

    def bidi_rows(self, keep: np.ndarray) -> np.ndarray:
        """Positions among the kept rows of cells that had bidirectional controls."""
        if not self.bidi.any():
            return np.empty(0, dtype=np.int64)
        codes = keep if self.codes is None else self.codes[keep]
        return np.flatnonzero(self.bidi[codes])

    def result(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Canonical values of the kept rows, the positions of bad ones and their messages."""
        values, bad, messages = canonical(self.field.column, self.uniques)
        codes = keep if self.codes is None else self.codes[keep]
        out = values[codes]
        if not len(bad):
            return out, np.empty(0, dtype=np.int64), []
        is_bad = np.zeros(len(self.uniques), dtype=bool)
        is_bad[bad] = True
        positions = np.flatnonzero(is_bad[codes])
        text = np.empty(len(self.uniques), dtype=object)
        text[bad] = messages
        return out, positions, [str(m) for m in text[codes[positions]]]


# --- cell parsers ---------------------------------------------------------------
#
# Each takes a Series of stripped, non-empty cell texts and returns the canonical
# values (same index; '' where bad) and a Series of messages for the bad ones.

Parsed = tuple[pd.Series, pd.Series]


def canonical(col: Column, cells: Sequence[str] | np.ndarray | pd.Series
              ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Canonical text of stripped cells, the positions of bad ones and why they are bad.

    >>> canonical(KINDS["companies"].column("category"), ["重点", "Key", "x"])[0].tolist()
    ['key', 'key', '']
    """
    cells = np.asarray(cells, dtype=object)
    n = len(cells)
    values = np.full(n, "", dtype=object)
    messages: dict[int, str] = {}
    empty = cells == ""
    if empty.any():
        if col.default is not None:
            values[empty] = col.default
        elif col.required:
            for i in np.flatnonzero(empty):
                messages[int(i)] = f"a value is required (必填) for {col.zh}"
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=n)
    for i in np.flatnonzero(lengths > MAX_CELL):
        messages[int(i)] = (f"the cell has {lengths[i]:,} characters, more than the "
                            f"{MAX_CELL:,} allowed (a shifted column or an unclosed quote?)")
    for i in np.flatnonzero(pd.Series(cells, dtype=object).str.contains(C0).to_numpy(bool)):
        m = C0.search(cells[i])
        if m is None:
            continue
        code = ord(m.group())
        name = C0_NAMES.get(code, "a control character")
        messages[int(i)] = (f"contains {name} (U+{code:04X}) at character {m.start() + 1}, an "
                            f"invisible control character no spreadsheet can show (left by "
                            f"copying from another system?); delete it")
    for i in np.flatnonzero((lengths >= 3) & (lengths <= 13)):  # as long as an Excel error
        if cells[i] in EXCEL_ERRORS:
            messages[int(i)] = (f"the cell shows the Excel error {cells[i]}; fix the formula "
                                f"or type the value")
    todo_mask = ~empty
    if messages:
        todo_mask[list(messages)] = False
    todo = np.flatnonzero(todo_mask)
    if len(todo):
        parsed, bad = _PARSERS[col.type](col, pd.Series(cells[todo], index=todo, dtype=object))
        values[todo] = parsed.to_numpy(dtype=object)
        for position, message in zip(bad.index.to_numpy(), bad.to_numpy(), strict=True):
            messages[int(position)] = str(message)
    if not messages:
        return values, np.empty(0, dtype=np.int64), []
    positions = np.array(sorted(messages), dtype=np.int64)
    values[positions] = ""
    return values, positions, [messages[int(p)] for p in positions]


def _nfkc(s: pd.Series) -> pd.Series:
    return s.str.normalize("NFKC").str.strip(STRIP)


def _none(s: pd.Series) -> pd.Series:
    return pd.Series([], dtype=object, index=s.index[:0])


def parse_text(col: Column, s: pd.Series) -> Parsed:
    return s, _none(s)


def parse_uscc(col: Column, s: pd.Series) -> Parsed:
    codes = s.astype(object)
    bad = uscc.problems(codes)
    if bad.empty:  # the usual case: checked in numpy, no per-cell Python
        return codes, bad
    # Full-width characters, lower case or spaces inside: normalise those and check again.
    suspects = codes[bad.index]
    fixed = uscc.normalise(_nfkc(suspects).str.replace(r"\s+", "", regex=True)).astype(object)
    changed = fixed.index[(fixed != suspects).to_numpy()]
    if len(changed):
        codes[changed] = fixed[changed]
        bad = pd.concat([bad.drop(changed), uscc.problems(fixed[changed])]).sort_index()
    return codes, bad.astype(object)


@cache
def _choices(col: Column) -> tuple[dict[str, str], str]:
    pairs = col.choices or (YES_NO if col.type == "bool" else ())
    table = {unicodedata.normalize("NFKC", spelling).strip().casefold(): value
             for spelling, value in pairs}
    spellings = list(dict.fromkeys(s for s, _ in pairs))
    zh = [s for s in spellings if not s.isascii()]
    en = [s for s in spellings if s.isascii()]
    accepted = " / ".join(zh) + (" or " if zh and en else "") + " / ".join(en)
    return table, accepted


def parse_enum(col: Column, s: pd.Series) -> Parsed:
    table, accepted = _choices(col)
    out = _nfkc(s).str.casefold().map(table)
    bad = out.isna()
    messages = s[bad].map(lambda v: f"{v!r} is not an accepted {col.zh} value; use {accepted}")
    return out.where(~bad, "").astype(object), messages.astype(object)


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def parse_date(col: Column, s: pd.Series) -> Parsed:
    t = _nfkc(s)
    parts = t.str.extract(_DATE)
    compact = t.str.extract(_COMPACT_DATE)
    parts = parts.where(parts[0].notna(), compact)
    y = pd.to_numeric(parts[0], errors="coerce")
    m = pd.to_numeric(parts[1], errors="coerce")
    d = pd.to_numeric(parts[2], errors="coerce")
    shaped = y.between(1900, 2199) & m.between(1, 12) & d.between(1, 31)
    out = pd.Series("", index=s.index, dtype=object)
    if shaped.any():
        stamps = pd.to_datetime(pd.DataFrame({"year": y[shaped], "month": m[shaped],
                                              "day": d[shaped]}), errors="coerce")
        real = stamps.notna()
        out[stamps.index[real]] = stamps[real].dt.strftime("%Y-%m-%d").astype(object)
    serial = t.str.fullmatch(_SERIAL) & parts[0].isna()
    if serial.any():
        days = np.floor(pd.to_numeric(t[serial]).to_numpy(dtype=float)).astype(np.int64)
        stamps_s = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
        out[t.index[serial]] = pd.Series(stamps_s.strftime("%Y-%m-%d"), dtype=object).to_numpy()
    bad = out == ""
    calendar = bad & parts[0].notna()
    messages = pd.Series("", index=s.index[bad], dtype=object)
    for i in messages.index:
        v = s[i]
        if not calendar[i]:
            messages[i] = f"{v!r} is not a date; write it like {DATE_STYLES}"
        elif not 1900 <= y[i] <= 2199:
            messages[i] = f"{v!r} has a year outside 1900-2199"
        else:
            messages[i] = f"{v!r} is not a real calendar date"
    return out, messages


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_INT = re.compile(r"^[+-]?\d{1,15}(?:\.0*)?$")
_FLOAT = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$")


def _numeric_text(s: pd.Series) -> pd.Series:
    return _nfkc(s).str.replace(_THOUSANDS, "", regex=True)


def parse_int(col: Column, s: pd.Series) -> Parsed:
    t = _numeric_text(s)
    shaped = t.str.fullmatch(_INT)
    numbers = pd.to_numeric(t.where(shaped), errors="coerce")
    ok = shaped & (numbers >= 0)
    out = pd.Series("", index=s.index, dtype=object)
    if ok.any():
        out[ok] = numbers[ok].astype(np.int64).astype(str).astype(object)
    messages = pd.Series([_number_problem(col, s[i], numbers[i], whole=True)
                          for i in s.index[~ok]], index=s.index[~ok], dtype=object)
    return out, messages


def _exact_floats(t: pd.Series, shaped: pd.Series) -> pd.Series:
    """``float()`` of each well-shaped text, NaN elsewhere: correctly rounded, which
    pandas' own parser is not before pandas 3.1 (it can be one unit in the last place off,
    and then the canonical text of a number would differ from the file's)."""
    out = np.full(len(t), np.nan)
    where = np.flatnonzero(shaped.fillna(False).to_numpy(dtype=bool))
    texts = t.to_numpy(dtype=object)
    out[where] = [float(texts[i]) for i in where]
    return pd.Series(out, index=t.index)


def parse_float(col: Column, s: pd.Series) -> Parsed:
    t = _numeric_text(s)
    shaped = t.str.fullmatch(_FLOAT)
    numbers = _exact_floats(t, shaped)
    ok = shaped & np.isfinite(numbers) & (numbers >= 0)
    out = pd.Series("", index=s.index, dtype=object)
    if ok.any():
        out[ok] = np.array([number_text(float(v) + 0.0) for v in numbers[ok].to_numpy()],
                           dtype=object)
    messages = pd.Series([_number_problem(col, s[i], numbers[i], whole=False)
                          for i in s.index[~ok]], index=s.index[~ok], dtype=object)
    return out, messages


def _number_problem(col: Column, text: str, number: float, whole: bool) -> str:
    if number == number and number < 0:
        return f"{text!r} is negative; {col.zh} must be 0 or more"
    if number == number and not np.isfinite(number):
        return f"{text!r} is too large"
    if whole:
        return f"{text!r} is not a whole number"
    return f"{text!r} is not a number"


def parse_list(col: Column, s: pd.Series) -> Parsed:
    parts = s.str.split(LIST_SEPARATORS, regex=True)
    out = parts.map(lambda items: ";".join(dict.fromkeys(
        p.strip(STRIP) for p in items if p.strip(STRIP)))).astype(object)
    bad = out == ""
    messages = s[bad].map(lambda v: f"{v!r} lists nothing; separate the items with 、 or ;")
    if col.required or bad.any():
        return out, messages.astype(object)
    return out, _none(s)


_PARSERS = {"text": parse_text, "uscc": parse_uscc, "enum": parse_enum, "bool": parse_enum,
            "date": parse_date, "int": parse_int, "float": parse_float, "list": parse_list}
