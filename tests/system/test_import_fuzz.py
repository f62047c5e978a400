"""Hostile input never escapes as anything but InputFileError or a clean parse."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from suiji.data.errors import InputFileError
from suiji.data.importers import ParsedFile, read_kind
from suiji.data.schema import KINDS, RECORD_KINDS

ALL_KINDS = sorted([*KINDS, *RECORD_KINDS])
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def attempt(kind: str, data: bytes, suffix: str = ".csv", **options: str) -> ParsedFile | None:
    """Parse ``data`` as a file; only InputFileError may come out."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        try:
            parsed = read_kind(kind, path, **options)
        except InputFileError as exc:
            assert exc.summary and "Traceback" not in str(exc)
            event("rejected")
            return None
    event("parsed")
    k = KINDS.get(kind) or RECORD_KINDS[kind]
    assert tuple(parsed.frame.columns) == k.column_names
    assert parsed.rows == len(parsed.frame) > 0
    assert all(isinstance(v, str) for v in parsed.frame.to_numpy().ravel())
    assert list(parsed.frame.index) == sorted(set(parsed.frame.index))
    return parsed


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(ALL_KINDS),
       st.sampled_from([".csv", ".xlsx", ".xls", ""]))
def test_random_bytes(data: bytes, kind: str, suffix: str) -> None:
    attempt(kind, data, suffix)


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([b"PK\x03\x04", b"\xef\xbb\xbf",
                                                  b"\xd0\xcf\x11\xe0", b"<html>"]))
def test_random_bytes_behind_a_magic_number(data: bytes, magic: bytes) -> None:
    attempt("companies", magic + data)


def _text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(exclude_categories=("Cs",)), max_size=max_size)


CELLS = st.one_of(
    _text(12),
    st.sampled_from(["", " ", "重点", "key", "是", "no", "2026/1/5", "2026年13月1日", "45000",
                     "30.0", "-1", "1e999", "#N/A", "=SUM(A1)", "、;", "91350100M000100Y43",
                     "91350100M000100Y44", "ｋｅｙ", '"', "\r\n", "\x00"]),
)


@FUZZ
@given(st.sampled_from(ALL_KINDS), st.data(), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_random_rows_under_a_real_header(kind: str, data: st.DataObject, encoding: str) -> None:
    k = KINDS.get(kind) or RECORD_KINDS[kind]
    headers = [data.draw(st.sampled_from(c.headers)) for c in k.columns]
    headers = data.draw(st.permutations(headers))
    extra = data.draw(st.lists(_text(6), max_size=2))
    rows = data.draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(headers) + 2),
                              max_size=12))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([headers + extra, *rows])
    try:
        payload = buf.getvalue().encode(encoding)
    except UnicodeEncodeError:  # GB18030 covers all of Unicode; only a stray surrogate fails
        return
    attempt(kind, payload)


@FUZZ
@given(st.lists(st.lists(_text(20), max_size=6), max_size=10), st.sampled_from(ALL_KINDS))
def test_random_unicode_tables(rows: list[list[str]], kind: str) -> None:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    attempt(kind, buf.getvalue().encode("utf-8"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.one_of(CELLS, st.integers(-10**6, 10**6),
                                   st.floats(allow_nan=True), st.booleans(), st.none(),
                                   st.dates()), max_size=5), max_size=6))
def test_random_xlsx_cells(rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["统一社会信用代码", "企业名称", "区县", "监管类别", "风险分"])
    for row in rows:
        clean = [v.replace("\x00", "") if isinstance(v, str) else v for v in row]
        try:
            ws.append(clean)
        except Exception:  # openpyxl refuses some control characters: not our input then
            return
    buf = io.BytesIO()
    wb.save(buf)
    attempt("companies", buf.getvalue(), ".xlsx")
