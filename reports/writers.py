"""Table writers (JSON, CSV with BOM, XLSX, HTML) and the two safety filters of every export.

* **Cell neutralisation.** A text cell that begins with ``=``, ``+``, ``-``,
  ``@`` (or a tab or carriage return) is written with a leading ``'`` in CSV and
  XLSX, so a spreadsheet shows it as text and never evaluates it as a formula
  (CSV injection). Numbers stay numbers in XLSX.
* **Personal identifiers.** :func:`scrub_personal` masks PRC resident ID numbers
  (18 characters with a valid check digit and a plausible birth date, and
  15-digit old numbers with a plausible birth date), mobile numbers (``1[3-9]``
  and 9 digits, optionally ``+86``) and landlines with an area code
  (``0571-87654321``, ``(010)62345678``), also when letters touch them
  (``ID3201…``, ``Tel138…``) or single spaces, dashes or dots split them
  (``320102 19900101 1232``, ``138.1234.5678``). Public outputs pass every text
  cell through it, so no such number is ever published even when an input file
  carried one in a name or a note.

A :class:`Table` is the one shape every writer takes: typed columns with
Chinese and English headers, and rows as dicts.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from suiji.data.uscc import is_valid_uscc

ColumnKind = Literal["text", "int", "number", "prob", "date", "list", "uscc"]
LANGS = ("zh", "en")
MASK = "***"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: ColumnKind = "text"

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Table:
    """Rows (dicts keyed by column key) under typed, bilingual columns."""

    name: str  # sheet name / file stem, ASCII
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...] = ()
    note_zh: str = ""
    note_en: str = ""

    def __post_init__(self) -> None:
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys):
            raise ValueError(f"table {self.name}: duplicate column keys")
        if not self.columns:
            raise ValueError(f"table {self.name}: no columns")

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def note(self, lang: str) -> str:
        return self.note_zh if lang == "zh" else self.note_en


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGS)}")
    return lang


# --- personal identifiers ------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_FULLWIDTH = str.maketrans("０１２３４５６７８９－（）＋Ｘｘ", "0123456789-()+Xx")
# Not inside a longer number (letters may touch: "ID3201…", "Tel138…" are still numbers).
_B = r"(?<![0-9])"
_E = r"(?![0-9])"
_E18 = r"(?![0-9Xx])"
_SEP = r"[-\s.]?"  # one optional separator: "320102 19900101 1232", "138.1234.5678"
_ID18 = re.compile(_B + rf"\d{{6}}{_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{3}}[0-9Xx]" + _E18)
_ID15 = re.compile(_B + rf"\d{{6}}{_SEP}\d{{6}}{_SEP}\d{{3}}" + _E)
_MOBILE = re.compile(_B + rf"(?:\+?86{_SEP})?1[3-9]\d(?:{_SEP}\d{{4}}){{2}}" + _E)
_LANDLINE = re.compile(_B + r"(?:\(0\d{2,3}\)|0\d{2,3})[-\s]?[2-9]\d{6,7}" + _E)
_SEPARATORS = re.compile(r"[-\s.]")
# A digest (a SHA-256 in hex, a log head's hash) is published whole: digits inside it are
# not a number, whatever they look like.
_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")


def id_check_char(first17: str) -> str:
    """The check character of an 18-character resident ID number (GB 11643-1999)."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _plausible_date(digits: str) -> bool:
    """YYMMDD (old IDs) or YYYYMMDD with a 19xx/20xx year: a possible birth date."""
    if len(digits) == 8 and digits[:2] not in ("19", "20"):
        return False
    month, day = int(digits[-4:-2]), int(digits[-2:])
    return 1 <= month <= 12 and 1 <= day <= 31


def _personal_spans(text: str) -> list[tuple[int, int]]:
    norm = text.translate(_FULLWIDTH)  # same length: spans map back one to one
    spans = []
    for m in _ID18.finditer(norm):
        digits = _SEPARATORS.sub("", m.group())
        if id_check_char(digits[:17]) == digits[17].upper() and _plausible_date(digits[6:14]):
            spans.append(m.span())
    spans += [m.span() for m in _ID15.finditer(norm)
              if _plausible_date(_SEPARATORS.sub("", m.group())[6:12])]
    spans += [m.span() for m in _MOBILE.finditer(norm)]
    spans += [m.span() for m in _LANDLINE.finditer(norm)]
    digests = [m.span() for m in _DIGEST.finditer(norm)]
    spans = [(a, b) for a, b in spans if not any(x <= a and b <= y for x, y in digests)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def find_personal(text: str, allowed: Collection[str] = ()) -> list[str]:
    """The ID-card, mobile and landline numbers found in ``text`` (except ``allowed`` ones,
    e.g. the published USCCs of a table, which may happen to look like an ID number)."""
    return [text[a:b] for a, b in _personal_spans(text) if text[a:b] not in allowed]


def scrub_personal(text: str) -> str:
    """``text`` with every personal identifier replaced by ``***``."""
    spans = _personal_spans(text)
    if not spans:
        return text
    out, pos = [], 0
    for a, b in spans:
        out.append(text[pos:a])
        out.append(MASK)
        pos = b
    out.append(text[pos:])
    return "".join(out)


def scrub_value(value: Any, kind: ColumnKind = "text") -> Any:
    """A cell fit for publication: strings and lists of strings scrubbed.

    A valid USCC in a ``uscc`` column is a public firm identifier and is kept;
    anything else in that column is scrubbed like text.
    """
    if isinstance(value, str):
        if kind == "uscc" and is_valid_uscc(value, check_org_code=False):
            return value
        return scrub_personal(value)
    if isinstance(value, list | tuple):
        return [scrub_value(v, kind) for v in value]
    return value


def scrub_table(table: Table) -> Table:
    """The same table with every cell passed through :func:`scrub_value`."""
    rows = tuple({k: scrub_value(v, _kind_of(table, k)) for k, v in row.items()}
                 for row in table.rows)
    return Table(table.name, scrub_personal(table.title_zh), scrub_personal(table.title_en),
                 table.columns, rows, scrub_personal(table.note_zh), scrub_personal(table.note_en))


def _kind_of(table: Table, key: str) -> ColumnKind:
    for c in table.columns:
        if c.key == key:
            return c.kind
    return "text"


# --- cells ---------------------------------------------------------------------------

def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would read as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def display(value: Any, lang: str = "zh") -> str:
    """A cell as text: lists joined, booleans as 是/否, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, list | tuple):
        return ("、" if lang == "zh" else ", ").join(display(v, lang) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _text_cell(value: Any, lang: str) -> Any:
    """A cell for CSV/XLSX: numbers as numbers, everything else neutralised text."""
    if isinstance(value, bool):
        return neutralise(display(value, lang))
    if isinstance(value, int | float):
        return value
    return neutralise(display(value, lang))


# --- writers -------------------------------------------------------------------------

def to_json(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A JSON list of objects, UTF-8, keys in the rows' order, trailing newline."""
    text = json.dumps([dict(r) for r in rows], ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def to_csv(table: Table, lang: str = "zh") -> bytes:
    """UTF-8 CSV with a BOM (Excel on Windows opens it as UTF-8), CRLF line ends."""
    check_lang(lang)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(c.header(lang)) for c in table.columns])
    for row in table.rows:
        writer.writerow([_text_cell(row.get(c.key), lang) for c in table.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def to_xlsx(tables: Sequence[Table], lang: str = "zh") -> bytes:
    """One sheet per table: bold frozen header, widths fitted, numbers kept numeric."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    check_lang(lang)
    if not tables:
        raise ValueError("no tables to write")
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for table in tables:
        name = _sheet_name(table.title(lang), used)
        ws = wb.create_sheet(name)
        bold = Font(bold=True)
        widths = [_width(c.header(lang)) for c in table.columns]
        for j, col in enumerate(table.columns, start=1):
            cell = ws.cell(row=1, column=j, value=neutralise(col.header(lang)))
            cell.font = bold
            cell.alignment = Alignment(vertical="center")
        for i, row in enumerate(table.rows, start=2):
            for j, col in enumerate(table.columns, start=1):
                value = _text_cell(row.get(col.key), lang)
                cell = ws.cell(row=i, column=j)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # openpyxl would read a leading '=' as a formula
                elif col.kind == "prob":
                    cell.number_format = "0.0000"
                widths[j - 1] = max(widths[j - 1], _width(display(value, lang)))
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 6), 60)
        ws.freeze_panes = "A2"
        if table.note(lang):
            ws.cell(row=len(table.rows) + 3, column=1, value=neutralise(table.note(lang)))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", title)[:28] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        name, n = f"{base[:26]}{n}", n + 1
    used.add(name.lower())
    return name


# --- HTML ----------------------------------------------------------------------------

def esc(value: Any, lang: str = "zh") -> str:
    return html.escape(display(value, lang), quote=True)


def _html_cell(value: Any, col: Column, lang: str) -> str:
    numeric = col.kind in ("int", "number", "prob") and isinstance(value, int | float)
    cls = ' class="num"' if numeric else (' class="nowrap"' if col.kind in ("date", "uscc") else "")
    if col.kind == "prob" and isinstance(value, int | float):
        text = f"{value:.4f}"
    else:
        text = display(value, lang)
    return f"<td{cls}>{html.escape(text)}</td>"


def html_table(table: Table, lang: str = "zh", table_id: str = "",
               with_title: bool = True) -> str:
    """A ``<section>`` with the table's title, the table and its note."""
    check_lang(lang)
    ident = f' id="{html.escape(table_id)}"' if table_id else ""
    head = "".join(f"<th>{html.escape(c.header(lang))}</th>" for c in table.columns)
    body = "\n".join(
        "<tr>" + "".join(_html_cell(row.get(c.key), c, lang) for c in table.columns) + "</tr>"
        for row in table.rows)
    if not table.rows:
        empty = "（无）" if lang == "zh" else "(none)"
        body = f'<tr class="empty"><td colspan="{len(table.columns)}">{empty}</td></tr>'
    parts = ["<section>"]
    if with_title:
        parts.append(f"<h2>{html.escape(table.title(lang))}</h2>")
    parts.append(f'<div class="scroll"><table{ident} data-rows="{len(table.rows)}">'
                 f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>")
    if table.note(lang):
        parts.append(f'<p class="note">{html.escape(table.note(lang))}</p>')
    parts.append("</section>")
    return "\n".join(parts)


CSS = """
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
  "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; margin: 2em auto; max-width: 1100px;
  padding: 0 1em; color: #1a1a1a; line-height: 1.6; }
h1 { font-size: 1.5em; text-align: center; margin-bottom: .2em; }
h2 { font-size: 1.15em; border-left: 4px solid #b22222; padding-left: .5em; margin-top: 1.6em; }
.sub { text-align: center; color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: .9em; }
th, td { border: 1px solid #bbb; padding: .3em .5em; text-align: left; vertical-align: top; }
th { background: #f3efe6; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
td.nowrap { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
.note, .meta { color: #555; font-size: .9em; }
code, .digest { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .85em;
  word-break: break-all; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
.chart { margin: .5em 0 1em; }
.ok { color: #1b7a1b; } .bad { color: #b22222; }
@media print { body { max-width: none; } .scroll { overflow: visible; } }
"""


def html_page(title: str, body: str, lang: str = "zh", extra_css: str = "") -> str:
    """A self-contained page: inline CSS, no script, no external resource."""
    check_lang(lang)
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}{extra_css}</style>\n"
            f"</head>\n<body>\n{body}\n</body>\n</html>\n")


@dataclass(frozen=True)
class Rendered:
    """Bytes of one export plus what the log records about it."""

    data: bytes
    fmt: str
    rows: int
    details: dict[str, Any] = field(default_factory=dict)  # logged with the export
    digests: dict[str, str] = field(default_factory=dict)  # digests of the data it shows


def render_table(table: Table, fmt: str, lang: str = "zh",
                 json_rows: Sequence[Mapping[str, Any]] | None = None,
                 html_body: str | None = None) -> Rendered:
    """One table in one format. JSON writes ``json_rows`` (default: the rows)."""
    if fmt == "json":
        data = to_json(json_rows if json_rows is not None else table.rows)
    elif fmt == "csv":
        data = to_csv(table, lang)
    elif fmt == "xlsx":
        data = to_xlsx([table], lang)
    elif fmt == "html":
        body = html_body if html_body is not None else (
            f"<h1>{html.escape(table.title(lang))}</h1>\n" + html_table(table, lang, "rows",
                                                                         with_title=False))
        data = html_page(table.title(lang), body, lang).encode("utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return Rendered(data, fmt, len(table.rows))
