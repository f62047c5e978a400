"""Reading bureau files into rows of text: CSV in any of the encodings Excel writes, or XLSX.

:func:`open_source` looks at the bytes (not only the file name), computes the
file's SHA-256, settles the encoding of a CSV and refuses what is not a table
(binary data, an old ``.xls``, a PDF, a web page saved as ``.xls``, UTF-16
text) with a message saying what to do. :meth:`Source.chunks` then yields the
rows in chunks, each a list of lists of ``str``, so memory stays bounded by
the chunk size however long the file is. Row numbers are the ones Excel shows:
the first line or sheet row is row 1.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import itertools
import warnings
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from suiji.data.errors import InputFileError

BLOCK = 1 << 20
CHUNK_ROWS = 100_000
# XLSX limits, checked as the workbook is opened and read, so a crafted file (a "zip bomb"
# that expands to gigabytes) is refused before it takes the memory: the unzipped size of
# all parts, Excel's own row and a column limit, and the cells of one chunk.
MAX_XLSX_EXPANDED = 1 << 30
MAX_XLSX_ROWS = 1_048_576
MAX_XLSX_COLUMNS = 2_000
CHUNK_CELLS = 2_000_000
AUTO_ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
ENCODING_NAMES = {"utf8": "utf-8", "utf-8": "utf-8", "utf-8-sig": "utf-8-sig",
                  "utf8-sig": "utf-8-sig", "utf_8_sig": "utf-8-sig", "gb18030": "gb18030",
                  "gbk": "gbk", "cp936": "gbk", "gb2312": "gb2312", "big5": "big5"}

Rows = list[list[str]]


def _reject(path: Path, summary: str, problems: list[str] | None = None) -> InputFileError:
    return InputFileError(f"{path.name}: {summary}", problems)


@dataclass(frozen=True)
class Source:
    """A file found readable as a table; :meth:`chunks` yields its rows."""

    path: Path
    sha256: str
    format: Literal["csv", "xlsx"]
    encoding: str  # the CSV encoding used, or "xlsx"
    delimiter: str = ","
    sheet: str = ""
    notes: tuple[str, ...] = ()
    workbook: Any = field(default=None, compare=False, repr=False)  # open XLSX, read once

    def __post_init__(self) -> None:
        if self.format not in ("csv", "xlsx"):
            raise ValueError(f"unknown format {self.format!r}")
        if len(self.sha256) != 64:
            raise ValueError("sha256 must be 64 hex digits")

    @property
    def name(self) -> str:
        return self.path.name

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[tuple[int, Rows]]:
        """Yield ``(row number of the first row, rows)``; every cell a ``str``.

        An XLSX source reads its already open workbook and closes it at the end,
        so iterate its chunks once.
        """
        if self.format == "csv":
            return _csv_chunks(self, size)
        return _xlsx_chunks(self, size)


# --- sniffing -----------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"SQLite format 3", "an SQLite database"),
)

SAVE_AS = "open it in Excel or WPS and save it as .xlsx (Excel workbook) or as CSV UTF-8"


def open_source(path: Path, *, encoding: str | None = None, sheet: str | None = None
                ) -> Source:
    """Check that ``path`` is a CSV or XLSX table and settle how to read it."""
    path = Path(path)
    if not path.exists():
        raise _reject(path, f"no such file ({path}).")
    if path.is_dir():
        raise _reject(path, "is a folder, not a file.")
    try:
        head = _head(path)
    except OSError as exc:
        raise _reject(path, f"cannot be read ({exc.strerror or exc}).") from exc
    if not head:
        raise _reject(path, "the file is empty (0 bytes): export the table again.")
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        if not head.startswith(b"PK\x03\x04"):
            raise _reject(path, f"is named {suffix} but is not an Excel workbook (an .xlsx "
                                f"file is a zip archive; this one is not). {SAVE_AS}.")
        notes = (f"--encoding {encoding} ignored: {path.name} is an .xlsx workbook",
                 ) if encoding else ()
        digest = _sha256(path)
        return _open_xlsx(path, digest, sheet, notes)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _reject(path, f"is an old Excel .xls workbook (or a password-protected one); "
                            f"suiji reads .xlsx and CSV only: {SAVE_AS}.")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise _reject(path, f"is {what}, not a table. Import the CSV or .xlsx export of "
                                f"the directory instead.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _reject(path, "is UTF-16 text (Excel's \"Unicode text\"); " + SAVE_AS + ".")
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
        raise _reject(path, "is a web page or XML file saved with a spreadsheet name "
                            "(some systems export tables so); " + SAVE_AS + ".")
    if suffix == ".xls":
        raise _reject(path, "is named .xls; suiji reads .xlsx and CSV only: " + SAVE_AS + ".")
    notes = (f"--sheet {sheet} ignored: {path.name} is a CSV file",) if sheet else ()
    digest, used = _settle_encoding(path, encoding)
    return Source(path, digest, "csv", used, _delimiter(path, used), notes=notes)


def _head(path: Path, n: int = 64 * 1024) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
    return h.hexdigest()


def _codec(name: str, path: Path) -> str:
    key = name.strip().lower().replace("_", "-")
    if key in ENCODING_NAMES:
        return ENCODING_NAMES[key]
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise _reject(path, f"unknown encoding {name!r}; use utf-8, utf-8-sig, gb18030 or "
                            f"gbk (or leave --encoding out to detect it).") from None


class _Check:
    """Feeds blocks to a strict incremental decoder, remembering where it failed."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.error: str | None = None

    def feed(self, block: bytes, offset: int, lines_before: int, final: bool = False) -> None:
        if self.error is not None:
            return
        try:
            self.decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            where = max(0, min(exc.start, len(block)))
            line = lines_before + block.count(b"\n", 0, where) + 1
            bad = block[where:where + 2].hex(" ").upper() or "end of file"
            self.error = f"byte {bad} at line {line} (offset {offset + where:,})"


def _settle_encoding(path: Path, forced: str | None) -> tuple[str, str]:
    """One pass over the bytes: SHA-256, NUL bytes, and a strict decode per candidate."""
    with path.open("rb") as f:
        first = f.read(4)
        bom = first.startswith(b"\xef\xbb\xbf")
    if forced is not None:
        name = _codec(forced, path)
        if name == "utf-8" and bom:
            name = "utf-8-sig"
        candidates = [name]
    else:
        candidates = ["utf-8-sig"] if bom else ["utf-8", "gb18030"]
    checks = [_Check(c) for c in candidates]
    h = hashlib.sha256()
    offset = lines = 0
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
            if not offset:
                sampled = len(block)
                control = sum(block.count(bytes([b])) for b in range(32) if b not in (9, 10, 13))
                if control > max(8, sampled // 100):
                    raise _reject(path, f"looks like binary data, not a CSV table ({control:,} "
                                        f"control bytes in the first {sampled:,}); {SAVE_AS}.")
            nul = block.find(b"\x00")
            if nul >= 0:
                line = lines + block.count(b"\n", 0, nul) + 1
                raise _reject(path, f"contains NUL bytes (first at line {line}), so it is not a "
                                    f"plain-text CSV; if it is a spreadsheet, {SAVE_AS}.")
            for check in checks:
                check.feed(block, offset, lines)
            offset += len(block)
            lines += block.count(b"\n")
            if all(c.error is not None for c in checks):
                break
    for check in checks:
        check.feed(b"", offset, lines, final=True)
    for check in checks:
        if check.error is None:
            return h.hexdigest(), check.encoding
    if forced is not None:
        name = checks[0].encoding
        hint = _hint_other_encoding(path, name)
        raise _reject(path, f"is not valid {name} text: {checks[0].error}.{hint}")
    raise _reject(path, "cannot be read as text in any of the encodings tried: "
                        + "; ".join(f"{c.encoding} fails at {c.error}" for c in checks)
                        + ". If you know the encoding pass it with --encoding (e.g. --encoding "
                          "gbk); if it is a spreadsheet, " + SAVE_AS + ".")


def _hint_other_encoding(path: Path, tried: str) -> str:
    others = [e for e in ("utf-8-sig", "gb18030") if e != tried
              and not (tried.startswith("utf-8") and e.startswith("utf-8"))]
    for other in others:
        check = _Check(other)
        offset = lines = 0
        with path.open("rb") as f:
            while block := f.read(BLOCK):
                check.feed(block, offset, lines)
                offset += len(block)
                lines += block.count(b"\n")
        check.feed(b"", offset, lines, final=True)
        if check.error is None:
            label = "GB18030/GBK (as Excel saves CSV on Chinese Windows)" if other == "gb18030" \
                else "UTF-8"
            flag = "gb18030" if other == "gb18030" else "utf-8"
            return f" It reads as {label}: try --encoding {flag}, or leave --encoding out."
    return " Leave --encoding out to detect it, or save the file as CSV UTF-8."


def _delimiter(path: Path, encoding: str) -> str:
    """Comma, unless the first line has tabs and no commas (a tab-separated export)."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as f:
        first = f.readline(64 * 1024)
    return "\t" if "\t" in first and "," not in first else ","


# --- CSV -----------------------------------------------------------------------


def _csv_chunks(source: Source, size: int) -> Iterator[tuple[int, Rows]]:
    row = 1
    with source.path.open("r", encoding=source.encoding, newline="") as f:
        reader = csv.reader(f, delimiter=source.delimiter, strict=False)
        while True:
            rows: Rows = []
            try:
                rows.extend(itertools.islice(reader, size))  # keeps the rows read before an error
            except csv.Error as exc:
                raise _reject(source.path, "cannot be read as CSV.", [
                    f"row {row + len(rows)}: {_csv_error_text(exc)}"]) from None
            except UnicodeDecodeError as exc:  # checked before; only if the file changed
                raise _reject(source.path, f"changed while being read ({exc}).") from None
            if not rows:
                return
            yield row, rows
            row += len(rows)


def _csv_error_text(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return (f"a cell runs on for more than {csv.field_size_limit():,} characters, usually "
                f"a quote (\") that opens a quoted cell and is never closed")
    return f"{text} (check the quotes in this row)"


# --- XLSX ----------------------------------------------------------------------


def _check_expanded_size(path: Path) -> None:
    """Refuse a workbook whose parts unzip to more than MAX_XLSX_EXPANDED bytes; the sizes
    come from the zip directory, which bounds what reading can produce."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise _reject(path, f"is a damaged .xlsx workbook ({exc}); {SAVE_AS}.") from None
    expanded = sum(i.file_size for i in infos)
    if expanded > MAX_XLSX_EXPANDED:
        biggest = max(infos, key=lambda i: i.file_size)
        raise _reject(path, f"unzips to {expanded / 2**20:,.0f} MB ({biggest.filename}: "
                            f"{biggest.file_size / 2**20:,.0f} MB) from "
                            f"{path.stat().st_size / 2**20:,.1f} MB on disk, more than the "
                            f"{MAX_XLSX_EXPANDED / 2**20:,.0f} MB suiji reads from a workbook. "
                            f"A directory of a million rows is far smaller: the file is damaged "
                            f"or built to exhaust memory. Export the table again, or as CSV.")


def _open_xlsx(path: Path, digest: str, sheet: str | None, notes: tuple[str, ...]) -> Source:
    _check_expanded_size(path)
    wb = _workbook(path)
    names = _sheet_names(wb)
    if not names:
        _close(wb)
        raise _reject(path, "the workbook has no worksheets.")
    if sheet is None:
        chosen = names[0]
    elif sheet in names:
        chosen = sheet
    else:
        near = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        if len(near) != 1:
            _close(wb)
            raise _reject(path, f"has no sheet named {sheet!r}. Its sheets are: "
                                + ", ".join(repr(n) for n in names)
                                + ". Pass one of them with --sheet.")
        chosen = near[0]
    return Source(path, digest, "xlsx", "xlsx", sheet=chosen, notes=notes, workbook=wb)


# XLSX is read by calamine (Rust, about ten times openpyxl's speed) when it gives
# exactly the cells openpyxl gives. It does not for error cells (#N/A: calamine
# reads them as empty) and for whole numbers of 16 digits or more written without
# an exponent (openpyxl keeps them as int): such workbooks, or the rest of such a
# sheet, are read by openpyxl as before.
_ERROR_CELL = (b' t="e"', b" t='e'")
_EXACT_FLOAT_LIMIT = 1e15  # number_text writes integral floats below it as integers


@dataclass
class _CalamineBook:
    """A calamine workbook with the file it reads (closed together)."""

    book: Any
    handle: Any

    def close(self) -> None:
        self.book.close()
        self.handle.close()


def _has_error_cells(path: Path) -> bool:
    """Whether any worksheet of the workbook has an error cell (t="e")."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with z.open(info) as f:
                        tail = b""
                        while block := f.read(BLOCK):
                            seam = tail + block[:8]  # a mark cut in two by the block edge
                            if any(m in block or m in seam for m in _ERROR_CELL):
                                return True
                            tail = block[-8:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, ValueError):
        return True  # let openpyxl open it and word the error as before
    return False


def _workbook(path: Path) -> Any:
    """Open from a file object, so a workbook named .csv or without a suffix still opens
    (openpyxl refuses file names it does not know); calamine unless the workbook has
    error cells."""
    if not _has_error_cells(path):
        from python_calamine import CalamineWorkbook

        handle = path.open("rb")
        try:
            return _CalamineBook(CalamineWorkbook.from_filelike(handle), handle)
        except Exception:  # openpyxl words the refusal of a damaged file, as before
            handle.close()
    return _openpyxl_workbook(path)


def _openpyxl_workbook(path: Path) -> Any:
    from openpyxl import load_workbook

    handle = path.open("rb")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        handle.close()
        raise _reject(path, f"is a damaged .xlsx workbook ({exc}); {SAVE_AS}.") from None
    except Exception as exc:  # openpyxl raises many kinds on a foreign or broken file
        handle.close()
        raise _reject(path, f"cannot be opened as an .xlsx workbook ({type(exc).__name__}: "
                            f"{str(exc)[:200]}); {SAVE_AS}.") from None
    wb._suiji_handle = handle  # closed with the workbook, see _close
    return wb


def _sheet_names(wb: Any) -> list[str]:
    """The worksheets' names in workbook order (chart sheets are not tables)."""
    if isinstance(wb, _CalamineBook):
        from python_calamine import SheetTypeEnum

        return [m.name for m in wb.book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    return [ws.title for ws in wb.worksheets]


def _close(wb: Any) -> None:
    wb.close()
    handle = getattr(wb, "_suiji_handle", None)
    if handle is not None:
        handle.close()


def _xlsx_chunks(source: Source, size: int) -> Iterator[tuple[int, Rows]]:
    wb = source.workbook if source.workbook is not None else _workbook(source.path)
    try:
        row = 1
        if isinstance(wb, _CalamineBook):
            row = yield from _calamine_chunks(source, wb, size)
            if row == 0:
                return
            _close(wb)  # a number calamine cannot give exactly: openpyxl from that row on
            wb = _openpyxl_workbook(source.path)
        ws = wb[source.sheet]
        ws.reset_dimensions()  # stale <dimension> tags would otherwise cut the sheet short
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows_iter = ws.iter_rows(min_row=row, values_only=True)
            while True:
                try:
                    raw = _bounded_rows(source, rows_iter, row, size)
                except InputFileError:
                    raise
                except Exception as exc:
                    raise _reject(source.path, f"sheet {source.sheet!r} is damaged near row "
                                               f"{row} ({type(exc).__name__}: "
                                               f"{str(exc)[:200]}); {SAVE_AS}.") from None
                if not raw:
                    return
                yield row, [[cell_text(v) for v in r] for r in raw]
                row += len(raw)
    finally:
        _close(wb)


def _calamine_chunks(source: Source, wb: _CalamineBook, size: int
                     ) -> Generator[tuple[int, Rows], None, int]:
    """Yield the sheet's chunks read by calamine; return 0 when done, or the row number
    from which openpyxl must read on (a whole number calamine gives only as a float)."""
    try:
        ws = wb.book.get_sheet_by_name(source.sheet)
        start = ws.start
    except Exception as exc:
        raise _reject(source.path, f"sheet {source.sheet!r} is damaged ({type(exc).__name__}: "
                                   f"{str(exc)[:200]}); {SAVE_AS}.") from None
    if start is None:  # no cell
        return 0
    # calamine's rows begin at row 1 but at the first used column: pad the columns before
    pad = [""] * int(start[1])
    rows_iter = ws.iter_rows()
    row = 1
    while True:
        try:
            raw = _bounded_rows(source, rows_iter, row, size, blank="")
        except InputFileError:
            raise
        except Exception as exc:
            raise _reject(source.path, f"sheet {source.sheet!r} is damaged near row "
                                       f"{row} ({type(exc).__name__}: "
                                       f"{str(exc)[:200]}); {SAVE_AS}.") from None
        if not raw:
            return 0
        try:
            rows: Rows = [[v if type(v) is str else _calamine_text(v) for v in r] for r in raw]
        except _Inexact:  # rows before the inexact one are exact: yield them, then stop
            rows = []
            for r in raw:
                try:
                    rows.append([v if type(v) is str else _calamine_text(v) for v in r])
                except _Inexact:
                    break
            if rows:
                yield row, [pad + r for r in rows] if pad else rows
            return row + len(rows)
        yield row, [pad + r for r in rows] if pad else rows
        row += len(rows)


class _Inexact(Exception):
    """A whole number of 16 digits or more: openpyxl may give it otherwise."""


def _calamine_text(value: object) -> str:
    """cell_text of a calamine value; _Inexact for a float openpyxl may read otherwise."""
    if type(value) is float and value.is_integer() and abs(value) >= _EXACT_FLOAT_LIMIT:
        raise _Inexact
    return cell_text(value)


def _bounded_rows(source: Source, rows_iter: Iterator[Any], first: int,
                  size: int, blank: object = None) -> list[Any]:
    """Up to ``size`` rows, fewer when they reach CHUNK_CELLS cells; a row wider than
    MAX_XLSX_COLUMNS (after its trailing empty cells, ``blank``: openpyxl's None,
    calamine's "") or beyond MAX_XLSX_ROWS is refused as it is read."""
    out: list[tuple[Any, ...]] = []
    cells = 0
    for r in rows_iter:
        row = first + len(out)
        if row > MAX_XLSX_ROWS:
            raise _reject(source.path, f"sheet {source.sheet!r} has more than "
                                       f"{MAX_XLSX_ROWS:,} rows, more than an Excel sheet can "
                                       f"hold: the file was not written by Excel or WPS. "
                                       f"Import the table as CSV.")
        width = len(r)
        while width and (r[width - 1] is None or r[width - 1] == blank):
            width -= 1
        if width > MAX_XLSX_COLUMNS:
            raise _reject(source.path, f"row {row} of sheet {source.sheet!r} has {width:,} "
                                       f"cells, more than the {MAX_XLSX_COLUMNS:,} columns suiji "
                                       f"reads; delete the columns right of the table.")
        out.append(r[:width])
        cells += width
        if len(out) >= size or cells >= CHUNK_CELLS:
            break
    return out


def cell_text(value: object) -> str:
    """The text of an XLSX cell value as Excel would show it in a CSV export."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return number_text(value)  # type: ignore[arg-type]
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def number_text(value: float) -> str:
    """Shortest text of a float: ``30.0`` → ``30``, ``85.50`` → ``85.5``."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)

