"""Hostile input end to end through the command line.

Whatever a file holds (random bytes, NUL bytes, huge cells, ragged rows,
formulas, broken workbooks), ``suiji import`` ends in a clean exit 1 with a
message naming the file, or a correct import; never a traceback, and a
rejected file leaves the database byte for byte as it was. Cells that a
spreadsheet would run as formulas come out of every CSV and XLSX export
neutralised, and markup comes out of the HTML notice escaped. Large files
import in memory bounded by a small cost per row.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import os
import re
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from suiji.cli.main import cli
from suiji.data.importers import BIDI, STRIP, import_file
from suiji.data.schema import KINDS, RECORD_KINDS
from suiji.data.store import Store
from suiji.sample.generate import generate_city, make_uscc


@pytest.fixture(autouse=True)
def _published_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's today is after the quarter: public notices as of January 2027."""
    from datetime import date as _date

    from suiji.cli import main as cli_main

    monkeypatch.setattr(cli_main, "today", lambda: _date(2027, 1, 31))


ROOT = Path(__file__).resolve().parents[2]
SUIJI = str(Path(sys.executable).with_name("suiji"))
HEADER = "统一社会信用代码,企业名称,区县,监管类别\n"
GOOD = "91350100M000100Y43"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MIB = 2**20
VALID_CODES = tuple(make_uscc(np.random.default_rng(k), "329902") for k in range(6))


def bench_scale() -> ModuleType:
    """bench/scale.py, for its vectorised generator of valid USCCs."""
    name = "suiji_bench_scale"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "scale.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def db_state(db: Path) -> str:
    """A digest of every row of every table: equal means nothing was written."""
    conn = sqlite3.connect(db)
    try:
        h = hashlib.sha256()
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for t in tables:
            h.update(t.encode())
            for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid'):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def base_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one companies version, so 'unchanged' has something to keep."""
    folder = tmp_path_factory.mktemp("hostile")
    db = folder / "base.db"
    store = Store.init(db)
    try:
        path = folder / "c.csv"
        path.write_text(HEADER + f"{GOOD},甲公司,江城区,重点\n", encoding="utf-8")
        import_file(store, "companies", path)
    finally:
        store.close()
    return db


@pytest.fixture
def db(base_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    path.write_bytes(base_db.read_bytes())
    return path


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def assert_clean_rejection(result: Result, name: str) -> None:
    """Exit 1, the click error path (no traceback), a message naming the file."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: {name}:"), result.stderr[:500]
    assert "Nothing was written" in result.stderr


# --- hostile files, one by one ---------------------------------------------------------


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


HOSTILE: dict[str, tuple[str, Callable[[], bytes], str]] = {
    # name: (file name, bytes, a phrase the message must contain)
    "random bytes": ("c.csv", lambda: np.random.default_rng(1).bytes(4096), ""),
    "NUL bytes": ("c.csv", lambda: (HEADER + f"{GOOD},甲\x00公司,江城区,重点\n").encode(),
                  "NUL bytes"),
    "control bytes": ("c.csv", lambda: bytes(range(1, 32)) * 200, "binary"),
    "empty": ("c.csv", lambda: b"", "empty"),
    "BOM only": ("c.csv", lambda: b"\xef\xbb\xbf", "no rows"),
    "blank lines": ("c.csv", lambda: b"\r\n \r\n,,,\r\n", "no rows"),
    "header only": ("c.csv", lambda: HEADER.encode(), "no data rows"),
    "huge quoted cell": ("c.csv", lambda: (HEADER + f'{GOOD},"{"长" * 300_000}",江城区,重点\n'
                                           ).encode(), "runs on for more than"),
    "huge plain cell": ("c.csv", lambda: (HEADER + f"{GOOD},{'x' * 200_000},江城区,重点\n"
                                          ).encode(), "characters"),
    "cell over the limit": ("c.csv", lambda: (HEADER + f"{GOOD},{'名' * 10_001},江城区,重点\n"
                                              ).encode(), "more than the 10,000 allowed"),
    "unclosed quote": ("c.csv", lambda: (HEADER + f'{GOOD},"甲公司,江城区,重点\n'
                                         + "下一行,\n" * 50).encode(), "row 2"),
    "ragged rows": ("c.csv", lambda: (HEADER + f"{GOOD},甲公司\n{GOOD},甲,江城区,重点,多,余\n"
                                      ).encode(), "has 2 cells but the header has 4"),
    "wide row": ("c.csv", lambda: (HEADER + f"{GOOD},甲公司,江城区,重点" + ",x" * 500_000
                                   + "\n").encode(), "extra"),
    "formula as key": ("c.csv", lambda: (HEADER + '=HYPERLINK("http://x"),甲,江城区,重点\n'
                                         ).encode(), "not a valid USCC"),
    "formula as category": ("c.csv", lambda: (HEADER + f"{GOOD},甲,江城区,=1+1\n").encode(),
                            "not an accepted"),
    "Excel error cell": ("c.csv", lambda: (HEADER + f"{GOOD},#N/A,江城区,重点\n").encode(),
                         "Excel error"),
    "duplicate keys": ("c.csv", lambda: (HEADER + f"{GOOD},甲,江城区,重点\n" * 3).encode(),
                       "already on row 2"),
    "no header match": ("c.csv", lambda: b"a,b,c\n1,2,3\n", "missing required"),
    "UTF-16": ("c.csv", lambda: HEADER.encode("utf-16"), "UTF-16"),
    "broken GB18030": ("c.csv", lambda: HEADER.encode("gb18030") + b"\x81\x30\xff\xff\n",
                       "encodings tried"),
    "surrogates": ("c.csv", lambda: HEADER.encode() + b"\xed\xa0\x80,a,b,c\n", "encodings"),
    "PDF": ("c.csv", lambda: b"%PDF-1.7\n" + bytes(500), "PDF"),
    "HTML as xls": ("c.xls", lambda: b"<html><table><tr><td>1</td></tr></table></html>",
                    "web page"),
    "old xls": ("c.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ".xls"),
    "random xlsx": ("c.xlsx", lambda: np.random.default_rng(2).bytes(5000),
                    "not an Excel workbook"),
    "zip not workbook": ("c.xlsx", lambda: _zip({"hello.txt": b"hi"}), ".xlsx workbook"),
    "truncated xlsx": ("c.xlsx", lambda: _xlsx([[1, 2]] * 200)[:3000], "xlsx"),
    "garbage sheet xml": ("c.xlsx", lambda: _corrupt_sheet(), ""),
    "billion laughs": ("c.xlsx", lambda: _corrupt_sheet(_billion_laughs()),
                       "save it as .xlsx"),
    "xlsx formulas": ("c.xlsx", lambda: _xlsx([["统一社会信用代码", "企业名称", "区县", "监管类别"],
                                              [GOOD, "=1+1", "江城区", "重点"],
                                              ["=A2", "甲", "@SUM(A1)", "重点"]]), "row 2"),
    "xlsx huge numbers": ("c.xlsx", lambda: _xlsx([["统一社会信用代码", "企业名称", "区县",
                                                   "监管类别", "风险分"],
                                                  [GOOD, "甲", "江城区", "重点", 1e308],
                                                  [9.13501e17, "乙", "江城区", "重点", -1]]),
                          "风险分"),
}


def _corrupt_sheet(sheet: bytes = b"<worksheet><sheetData><row><c r='A1' t='s'><v>99"
                   ) -> bytes:
    data = _xlsx([["统一社会信用代码", "企业名称", "区县", "监管类别"],
                  [GOOD, "甲", "江城区", "重点"]])
    src = zipfile.ZipFile(io.BytesIO(data))
    members = {i.filename: src.read(i.filename) for i in src.infolist()}
    members["xl/worksheets/sheet1.xml"] = sheet
    return _zip(members)


def _billion_laughs() -> bytes:
    """A sheet whose entities expand to 10**9 'lol's (an XML bomb)."""
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY l0 "lol">{entities}]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c></row>'
            '</sheetData></worksheet>').encode()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_file_is_rejected_cleanly(case: str, db: Path, tmp_path: Path) -> None:
    name, make, phrase = HOSTILE[case]
    path = tmp_path / name
    path.write_bytes(make())
    before = db_state(db)
    result = run(db, "import", "companies", str(path))
    assert_clean_rejection(result, name)
    assert phrase in result.stderr, result.stderr[:1000]
    assert len(result.stderr) < 20_000  # the message is bounded, whatever the file
    assert db_state(db) == before


def test_a_cell_too_long_for_csv_is_reported_on_its_own_row(db: Path, tmp_path: Path) -> None:
    rows = "".join(f"{code},甲{i},江城区,重点\n" for i, code in enumerate(VALID_CODES[:3]))
    path = tmp_path / "c.csv"
    path.write_text(HEADER + rows + f"{VALID_CODES[3]},{'x' * 200_000},江城区,重点\n",
                    encoding="utf-8")
    result = run(db, "import", "companies", str(path))
    assert_clean_rejection(result, "c.csv")
    assert "row 5:" in result.stderr, result.stderr  # header 1, three rows, then this one


def test_a_long_list_of_problems_states_the_true_total(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "".join(f"{GOOD[:17]}0,甲{i},江城区,重点\n" for i in range(20_000)),
                    encoding="utf-8")
    result = run(db, "import", "companies", str(path))
    assert_clean_rejection(result, "c.csv")
    assert "20,000 problems" in result.stderr and "(20,000 in all)" in result.stderr


def test_paths_that_are_not_files(db: Path, tmp_path: Path) -> None:
    before = db_state(db)
    for target in (tmp_path / "missing.csv", tmp_path):
        result = run(db, "import", "companies", str(target))
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
    result = run(db, "import", "companies", "/dev/null")
    assert_clean_rejection(result, "null")
    assert db_state(db) == before


def test_every_kind_rejects_garbage_cleanly(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbf=cmd|' /C calc'!A0,@SUM(1),-2+3\r\n+1,\"a\nb\",\x7f\r\n")
    before = db_state(db)
    for kind in (*KINDS, *RECORD_KINDS):
        extra = ["--period", "2026Q4"] if kind == "results" else []
        result = run(db, "import", kind, str(path), *extra)
        assert_clean_rejection(result, "x.csv")
    assert db_state(db) == before


# --- fuzzing -----------------------------------------------------------------------------

CELLS = st.one_of(
    st.sampled_from([GOOD, "91110000802100433B", "重点", "一般", "特殊", "key", "江城区", "甲公司",
                     "2026-01-05", "2026/1/5", "是", "否", "", " ", "=1+1", "+86", "-1", "@x",
                     "#N/A", "1e400", "nan", "\u3000", "\ufeff", "名" * 10_001, '"', '""', "\\"]),
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
)


def _csv_text(header: list[str], rows: list[list[str]], quote: bool) -> str:
    if quote:
        buf = io.StringIO()
        csv.writer(buf).writerows([header, *rows])
        return buf.getvalue()
    return "\n".join(",".join(r) for r in [header, *rows])


@settings(max_examples=int(os.environ.get("FUZZ_N", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(KINDS)),
       headers=st.lists(st.integers(0, 20), min_size=0, max_size=10),
       rows=st.lists(st.lists(CELLS, max_size=10), max_size=6),
       quote=st.booleans(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_fuzzed_tables_import_or_fail_cleanly(db: Path, tmp_path: Path, kind: str,
                                              headers: list[int], rows: list[list[str]],
                                              quote: bool, encoding: str) -> None:
    columns = KINDS[kind].columns
    names = [(c.zh, c.name)[i % 2] for i, c in enumerate(columns)]
    header = [names[i] if i < len(names) else f"列{i}" for i in headers] or [names[0]]
    try:
        data = _csv_text(header, rows, quote).encode(encoding)
    except UnicodeEncodeError:
        data = _csv_text(header, rows, quote).encode("utf-8", "surrogatepass")
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    before = db_state(db)
    result = run(db, "import", kind, str(path), "--json")
    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit) or result.exception is None, \
        repr(result.exception)
    if result.exit_code == 1:
        assert result.stderr.startswith("Error: fuzz.csv:"), result.stderr[:300]
        assert db_state(db) == before
    else:
        assert db_state(db) != before  # a new version, recorded


@settings(max_examples=int(os.environ.get("FUZZ_N", "60")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(names=st.lists(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
                      min_size=1, max_size=len(VALID_CODES)))
def test_fuzzed_names_import_exactly_or_fail_cleanly(db: Path, tmp_path: Path,
                                                     names: list[str]) -> None:
    """Any text in a free-text column: imported as written (trimmed), or a clear refusal."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["统一社会信用代码", "企业名称", "区县", "监管类别"])
    writer.writerows([code, name, "江城区", "一般"] for code, name in zip(VALID_CODES, names,
                                                                        strict=False))
    path = tmp_path / "names.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    before = db_state(db)
    result = run(db, "import", "companies", str(path), "--allow-removals")
    event(f"exit {result.exit_code}")
    if result.exit_code == 1:
        assert_clean_rejection(result, "names.csv")
        assert db_state(db) == before
        return
    assert result.exit_code == 0, (result.output, result.exception)
    store = Store.open(db)
    try:
        stored = dict(zip(*(store.read("companies")[c] for c in ("uscc", "name")), strict=True))
    finally:
        store.close()
    assert stored == {code: BIDI.sub("", name.strip(STRIP)).strip(STRIP)
                      for code, name in zip(VALID_CODES, names, strict=False)}


@settings(max_examples=int(os.environ.get("FUZZ_N", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]),
       prefix=st.sampled_from([b"", b"PK\x03\x04", HEADER.encode(), b"\xef\xbb\xbf"]))
def test_fuzzed_bytes_never_raise(db: Path, tmp_path: Path, data: bytes, suffix: str,
                                  prefix: bytes) -> None:
    path = tmp_path / f"bytes{suffix}"
    path.write_bytes(prefix + data)
    before = db_state(db)
    result = run(db, "import", "companies", str(path))
    assert result.exit_code in (0, 1) and isinstance(result.exception, SystemExit | None), \
        (result.output, result.exception)
    if result.exit_code == 1:
        assert result.stderr.startswith(f"Error: {path.name}:")
        assert db_state(db) == before


XLSX_CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.datetimes(), st.dates(),
    st.sampled_from([GOOD, "重点", "江城区", "=1+1", "=A1", "@SUM(1)", "#N/A", "名" * 10_001]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
            max_size=20),
)


@settings(max_examples=int(os.environ.get("FUZZ_N", "25")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.lists(XLSX_CELLS, min_size=1, max_size=6), max_size=5),
       header=st.booleans())
def test_fuzzed_workbooks_import_or_fail_cleanly(db: Path, tmp_path: Path,
                                                 rows: list[list[object]],
                                                 header: bool) -> None:
    head: list[list[object]] = [["统一社会信用代码", "企业名称", "区县", "监管类别", "风险分"]]
    try:
        data = _xlsx((head if header else []) + rows)
    except (ValueError, TypeError):  # openpyxl refuses the value (e.g. a far-off date)
        return
    path = tmp_path / "fuzz.xlsx"
    path.write_bytes(data)
    before = db_state(db)
    result = run(db, "import", "companies", str(path), "--allow-removals")
    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 1) and isinstance(result.exception, SystemExit | None), \
        (result.output, result.exception)
    if result.exit_code == 1:
        assert_clean_rejection(result, "fuzz.xlsx")
        assert db_state(db) == before


# --- formulas and markup in the exports ---------------------------------------------------

PAYLOADS = ('=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "-2+3+cmd|x",
            "@SUM(1+1)*cmd|x", "<script>alert(1)</script>")


@pytest.fixture(scope="module")
def hostile_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small city whose company names and industries are formulas and markup, drawn."""
    folder = tmp_path_factory.mktemp("formulas")
    paths = generate_city(folder / "city", firms=800, inspectors=40, projects=60, agencies=10,
                          experts=40)
    lines = paths["companies"].read_bytes().decode("gb18030").splitlines(keepends=True)
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cells = next(csv.reader([line]))
        cells[1] = PAYLOADS[i % len(PAYLOADS)] + cells[1]
        cells[5] = PAYLOADS[(i + 1) % len(PAYLOADS)]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(cells)
        out.append(buf.getvalue())
    paths["companies"].write_bytes("".join(out).encode("gb18030"))
    db = folder / "plan.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", str(db), "init"]).exit_code == 0
    for kind in ("companies", "inspectors", "inspector-leave", "conflicts", "inspections",
                 "positive-list"):
        result = runner.invoke(cli, ["--db", str(db), "import", kind, str(paths[kind])])
        assert result.exit_code == 0, result.output
    for args in (["freeze", "--period", "2026Q4"],
                 ["draw", "inspections", "--period", "2026Q4", "--seed", "1234567890",
                  "--weak-seed"]):
        result = runner.invoke(cli, ["--db", str(db), *args])
        assert result.exit_code == 0, result.output
    return db


def _export(db: Path, out: Path, *args: str) -> bytes:
    result = run(db, "export", "plan", "--period", "2026Q4", *args, "-o", str(out))
    assert result.exit_code == 0, result.output
    return out.read_bytes()


@pytest.mark.parametrize("public", [False, True])
def test_exported_csv_cells_never_start_a_formula(hostile_plan: Path, tmp_path: Path,
                                                  public: bool) -> None:
    extra = ["--public", "--as-of", "2027-01-01"] if public else []
    data = _export(hostile_plan, tmp_path / "plan.csv", "--format", "csv", *extra)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert len(rows) > 10
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    neutralised = [c for c in cells if c.startswith("'") and c[1:].startswith(FORMULA_STARTS)]
    assert neutralised, "the payloads should have reached the export, neutralised"


@pytest.mark.parametrize("public", [False, True])
def test_exported_xlsx_has_no_formulas(hostile_plan: Path, tmp_path: Path, public: bool) -> None:
    extra = ["--public", "--as-of", "2027-01-01"] if public else []
    data = _export(hostile_plan, tmp_path / "plan.xlsx", "--format", "xlsx", *extra)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        for name in sheets:
            assert b"<f>" not in z.read(name) and b"<f " not in z.read(name)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    assert not [t for t in texts if t.startswith(FORMULA_STARTS)]
    assert [t for t in texts if t.startswith("'=HYPERLINK")]


def test_html_notice_escapes_markup(hostile_plan: Path, tmp_path: Path) -> None:
    data = _export(hostile_plan, tmp_path / "notice.html", "--format", "html", "--public",
                   "--as-of", "2027-01-01").decode("utf-8")
    assert "<script>alert(1)</script>" not in data
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in data


def test_report_xlsx_has_no_formulas(hostile_plan: Path, tmp_path: Path) -> None:
    result = run(hostile_plan, "report", "--period", "2026Q4", "-o", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    for path in (tmp_path / "r").glob("*.xlsx"):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/"):
                    assert not re.search(rb"<f[ >]", z.read(name)), name
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                assert not [v for v in row if isinstance(v, str) and v.startswith(("=", "@"))]


# --- large files in bounded memory ---------------------------------------------------------

BASE_MIB = 200  # the interpreter, pandas, numpy and sqlite
PER_ROW = 1024  # bytes of peak memory a row may cost, parse to commit


def _companies_file(path: Path, n: int, bad: bool = False) -> Path:
    rng = np.random.default_rng(n)
    codes = bench_scale().make_usccs(rng, np.array(["329902"] * n))
    if bad:  # every check character wrong
        codes = np.array([c[:17] + ("0" if c[17] != "0" else "1") for c in codes], dtype=object)
    frame = pd.DataFrame({"统一社会信用代码": codes,
                          "企业名称": [f"江州市第{i}化工有限公司" for i in range(n)],
                          "区县": np.array(["江城区", "滨江区", "临江县"], dtype=object)[
                              np.arange(n) % 3],
                          "监管类别": np.array(["重点", "一般", "特殊"], dtype=object)[
                              rng.integers(0, 3, n)],
                          "风险分": (np.arange(n) % 100).astype(str)})
    frame.to_csv(path, index=False, encoding="gb18030", lineterminator="\r\n")
    return path


def _import_measured(db: Path, path: Path, log: Path) -> tuple[int, str, float]:
    """Import in a child process; (exit code, stderr, peak RSS in MiB of that process).

    The peak is the child's own high-water mark (VmHWM), read while it runs: the
    rusage of a child counts the pages of the (large) test process it was forked from.
    """
    env = {k: v for k, v in os.environ.items() if k != "SUIJI_DB"}
    with log.open("wb") as err:
        proc = subprocess.Popen([SUIJI, "--db", str(db), "import", "companies", str(path)],
                                env=env, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL)
        status = Path(f"/proc/{proc.pid}/status")
        peak_kib = 0
        while proc.poll() is None:
            try:
                text = status.read_text()
            except OSError:
                break
            found = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
            if found:
                peak_kib = max(peak_kib, int(found[1]))
            time.sleep(0.01)
        proc.wait(timeout=600)
    return proc.returncode, log.read_text("utf-8", "replace"), peak_kib / 1024


def _check_large(tmp_path: Path, n: int) -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("peak memory is read from /proc (Linux)")
    db = tmp_path / "big.db"
    Store.init(db).close()
    log = tmp_path / "import.log"
    code, err, peak = _import_measured(db, _companies_file(tmp_path / "big.csv", n), log)
    assert code == 0, err
    assert peak < BASE_MIB + n * PER_ROW / MIB, f"{n:,} rows took {peak:.0f} MiB"
    store = Store.open(db)
    try:
        assert store.current_version("companies") == 1
        assert len(store.read("companies")) == n
    finally:
        store.close()
    before = db_state(db)
    code, err, peak = _import_measured(db, _companies_file(tmp_path / "bad.csv", n, bad=True),
                                       log)
    assert code == 1 and "Traceback" not in err
    assert f"{n:,} problems; the first 10,000 are listed" in err
    assert len(err) < 20_000
    assert peak < BASE_MIB + n * PER_ROW / MIB
    assert db_state(db) == before


def test_large_file_imports_in_bounded_memory(tmp_path: Path) -> None:
    _check_large(tmp_path, 100_000)


@pytest.mark.slow
def test_million_row_file_imports_in_bounded_memory(tmp_path: Path) -> None:
    _check_large(tmp_path, 1_000_000)
