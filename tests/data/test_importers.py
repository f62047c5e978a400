"""The importers: encodings, headers, cell parsing, row numbers, all-or-nothing writes."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from suiji.data import uscc
from suiji.data.errors import InputFileError, SuijiError
from suiji.data.importers import (
    MAX_CELL,
    MAX_PROBLEMS,
    ParsedFile,
    canonical,
    header_key,
    import_file,
    read_kind,
)
from suiji.data.readers import cell_text
from suiji.data.schema import KINDS, RECORD_KINDS
from suiji.data.store import Store

A, B, C = "91350100M000100Y43", "91110000802100433B", "91320000MA1MXX1J0R"
COMPANY_HEADER = ["统一社会信用代码", "企业名称", "区县", "监管类别", "状态", "风险分"]


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1",
               extra_sheets: tuple[str, ...] = ()) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for line in ws.iter_rows():
        for cell in line:  # text beginning with "=" is text, as typed after an apostrophe
            if isinstance(cell.value, str) and cell.value.startswith("=") and "东湖" in cell.value:
                cell.data_type = "s"
    for name in extra_sheets:
        wb.create_sheet(name)
    wb.save(path)
    return path


def state(store: Store, kind: str) -> tuple[int, int, str]:
    """What must not change when a file is rejected."""
    log = store.log_entries()
    return store.current_version(kind), len(log), log[-1].hash


# --- the USCC check characters, against an independent reference ------------------------

ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def ref_check(first17: str) -> str:
    total = sum(ALPHA.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return ALPHA[(31 - total % 31) % 31]


def ref_org(first8: str) -> str:
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w
                for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    head = draw(st.text(ALPHA, min_size=8, max_size=8))
    body = draw(st.text(ALPHA, min_size=8, max_size=8))
    first17 = head + body + ref_org(body)
    return first17 + ref_check(first17)


def test_known_usccs() -> None:
    for code in (A, B, C):
        assert ref_check(code[:17]) == code[17] and ref_org(code[8:16]) == code[16]
        assert uscc.is_valid(code)
        assert uscc.check_char(code[:17]) == code[17]
        assert uscc.org_check_char(code[8:16]) == code[16]
    assert "should be '3'" in (uscc.problem("91350100M000100Y44") or "")
    bad_org = "91350100M000100Y5"  # org check 5 instead of 4; final check recomputed
    message = uscc.problem(bad_org + ref_check(bad_org)) or ""
    assert "17th" in message and "should be '4'" in message and "18th" not in message
    assert "character 8 is 'O'" in (uscc.problem("9135010OM000100Y43") or "")
    assert "18" in (uscc.problem("9135") or "")
    assert "Excel" in (uscc.problem("9.13501E+17") or "")


@settings(max_examples=200, deadline=None)
@given(valid_usccs(), st.data())
def test_any_valid_uscc_passes_and_any_single_change_fails(code: str, data: st.DataObject
                                                          ) -> None:
    assert uscc.problem(code) is None
    at = data.draw(st.integers(0, 17))
    other = data.draw(st.sampled_from(ALPHA + "IOSVZ*a ").filter(lambda c: c != code[at]))
    changed = code[:at] + other + code[at + 1:]
    assert uscc.problem(changed) is not None


@settings(max_examples=50, deadline=None)
@given(st.lists(valid_usccs(), min_size=1, max_size=30), st.data())
def test_vectorised_check_agrees_with_the_scalar_one(codes: list[str],
                                                      data: st.DataObject) -> None:
    mutated = [c if data.draw(st.booleans()) else c[:-1] + ("0" if c[-1] != "0" else "1")
               for c in codes]
    bad = uscc.problems(pd.Series(mutated, dtype=object))
    assert set(bad.index) == {i for i, c in enumerate(mutated) if uscc.problem(c)}
    assert set(bad.index) == {i for i, c in enumerate(mutated)
                              if ref_check(c[:17]) != c[17]}


def test_usccs_are_normalised_from_full_width_and_lower_case() -> None:
    col = KINDS["companies"].column("uscc")
    full = "".join(chr(ord(c) + 0xFEE0) for c in A.lower())
    values, bad, _ = canonical(col, [full, A.lower(), f"{A[:9]} {A[9:]}"])
    assert values.tolist() == [A, A, A] and not len(bad)


# --- cell parsers -------------------------------------------------------------------------

START = KINDS["inspector-leave"].column("start")
STYLES = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d:%Y%m%d}",
    lambda d: f"{d.isoformat()} 00:00:00",
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d} 13:45",
]


@settings(max_examples=150, deadline=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2199, 12, 31)),
       st.sampled_from(range(len(STYLES))))
def test_any_date_in_each_accepted_style_parses_back(day: dt.date, style: int) -> None:
    values, bad, _ = canonical(START, [STYLES[style](day)])
    assert not len(bad) and values[0] == day.isoformat()


@settings(max_examples=100, deadline=None)
@given(st.dates(dt.date(1927, 5, 18), dt.date(2173, 10, 14)), st.booleans())
def test_excel_serial_numbers_parse_as_dates(day: dt.date, fraction: bool) -> None:
    serial = (day - dt.date(1899, 12, 30)).days
    values, bad, _ = canonical(START, [f"{serial}.5" if fraction else str(serial)])
    assert not len(bad) and values[0] == day.isoformat()


def test_bad_dates_are_named() -> None:
    values, bad, messages = canonical(START, ["2026-02-30", "2026-13-01", "next week", "2026",
                                              "26/1/5", "2026-01-05"])
    assert bad.tolist() == [0, 1, 2, 3, 4] and values[5] == "2026-01-05"
    assert "not a real calendar date" in messages[0]
    assert "2026/1/5" in messages[2]  # says which styles are accepted


def test_whole_numbers() -> None:
    col = KINDS["inspectors"].column("capacity")
    values, bad, messages = canonical(col, ["30", "30.0", "３０", "+30", "007", "1,000", "30.5",
                                            "-1", "abc", ""])
    assert values[:6].tolist() == ["30", "30", "30", "30", "7", "1000"]
    assert bad.tolist() == [6, 7, 8]
    assert "whole number" in messages[0] and "negative" in messages[1]
    assert values[9] == ""  # optional and empty


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
       st.sampled_from(["{!r}", "{:.6f}", "{:e}"]))
@example(360287970190.21875, "{!r}")  # pandas < 3.1 parses it one unit in the last place off
def test_numbers_parse_to_their_shortest_text(value: float, style: str) -> None:
    col = KINDS["companies"].column("risk")
    text = style.format(value)
    values, bad, _ = canonical(col, [text])
    assert not len(bad)
    assert float(values[0]) == float(text)
    assert values[0] == cell_text(float(text))  # the same text an XLSX number cell gives


def test_number_examples() -> None:
    col = KINDS["companies"].column("risk")
    values, bad, messages = canonical(col, ["85.50", "30", "1e2", ".5", "0.10", "-0.5", "nan",
                                            "inf", "1e999"])
    assert values[:5].tolist() == ["85.5", "30", "100", "0.5", "0.1"]
    assert bad.tolist() == [5, 6, 7, 8] and "negative" in messages[0]


def test_enums_bools_and_defaults() -> None:
    k = KINDS["companies"]
    cells = ["重点", "KEY", " General ", "特殊监管对象", "重要", "ｋｅｙ"]
    values, bad, messages = canonical(k.column("category"), cells)
    assert values.tolist() == ["key", "key", "general", "special", "", "key"]
    assert bad.tolist() == [4] and "重点" in messages[0] and "key" in messages[0]
    values, _, _ = canonical(k.column("status"), ["", "停产", "Closed"])
    assert values.tolist() == ["active", "stopped", "closed"]  # default for the empty cell
    active = KINDS["inspectors"].column("active")
    values, bad, _ = canonical(active, ["是", "否", "Yes", "N", "1", "0", "", "maybe"])
    assert values.tolist() == ["yes", "no", "yes", "no", "yes", "no", "yes", ""]
    assert bad.tolist() == [7]


def test_lists_and_text() -> None:
    specialties = KINDS["experts"].column("specialties")
    values, bad, _ = canonical(specialties, ["大气、水", "大气;水,生态，噪声；固废", "大气 、 大气",
                                             "、"])
    assert values.tolist()[:3] == ["大气;水", "大气;水;生态;噪声;固废", "大气"]
    assert bad.tolist() == [3]
    name = KINDS["companies"].column("name")
    values, bad, messages = canonical(name, ["江州 化工  有限公司", "=SUM(A1)", "+1", "@x", "",
                                             "x" * (MAX_CELL + 1), "#N/A"])
    assert values[:4].tolist() == ["江州 化工  有限公司", "=SUM(A1)", "+1", "@x"]
    assert bad.tolist() == [4, 5, 6]
    assert "required" in messages[0] and f"{MAX_CELL:,}" in messages[1] and "#N/A" in messages[2]


def test_header_keys() -> None:
    assert header_key("\ufeff 统一社会信用代码\u3000") == header_key("统一社会信用代码")
    assert header_key("USCC") == header_key("uscc") == header_key("ＵＳＣＣ")
    assert header_key("Daily Capacity*") == header_key("daily_capacity")
    for k in (*KINDS.values(), *RECORD_KINDS.values()):  # no header names two columns
        keys = [header_key(h) for c in k.columns for h in c.headers]
        assert len(keys) == len(set(keys)), k.name


# --- whole files --------------------------------------------------------------------------

RAW = [COMPANY_HEADER,
       [A, " 江州化工有限公司 ", "江城区", "重点", "", "85.50"],
       [B.lower(), "临江印刷厂", "临江区", "General", "停产", ""],
       [C, "=东湖+涂装", "东湖区", "特殊", "关闭", "30.0"]]
EXPECTED = pd.DataFrame([
    [B, "临江印刷厂", "临江区", "", "general", "", "stopped", ""],
    [C, "=东湖+涂装", "东湖区", "", "special", "", "closed", "30"],
    [A, "江州化工有限公司", "江城区", "", "key", "", "active", "85.5"],
], columns=list(KINDS["companies"].column_names), dtype=object)


def expected_sorted() -> pd.DataFrame:
    return EXPECTED.sort_values("uscc").reset_index(drop=True)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_round_trip_in_each_encoding(tmp_path: Path, store: Store, encoding: str) -> None:
    path = write_csv(tmp_path / "企业.csv", RAW, encoding)
    result = import_file(store, "companies", path)
    assert result["rows"] == 3 and result["inserted"] == 3 and result["version"] == 1
    pd.testing.assert_frame_equal(store.read("companies"), expected_sorted())
    parsed = read_kind("companies", path)
    assert parsed.encoding == encoding and parsed.file_name == "企业.csv"
    assert parsed.frame.index.tolist() == [2, 3, 4]


def test_an_upload_records_its_original_name(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "upload-3f2a.csv", RAW)
    result = import_file(store, "companies", path, file_name="企业名录.csv")
    assert result["file"] == "企业名录.csv"
    assert store.versions("companies")[-1]["file_name"] == "企业名录.csv"
    assert store.log_entries()[-1].details["file"] == "企业名录.csv"


def test_xlsx_round_trip_with_typed_cells(tmp_path: Path, store: Store) -> None:
    rows: list[list[object]] = [list(r) for r in RAW]
    rows[1][5] = 85.5  # a number cell
    rows[3][5] = 30
    path = write_xlsx(tmp_path / "企业.xlsx", rows, sheet="名录", extra_sheets=("说明",))
    import_file(store, "companies", path)
    pd.testing.assert_frame_equal(store.read("companies"), expected_sorted())
    leave = write_xlsx(tmp_path / "leave.xlsx", [
        ["执法证号", "开始日期", "结束日期"],
        [1001, dt.datetime(2026, 1, 5), dt.date(2026, 1, 8)],
        ["A2", dt.datetime(2026, 1, 5, 13, 30), "2026/1/9"],
        ["A3", 46027, "46030"],  # serial numbers as number cells and as text
    ], sheet="请假")
    frame = read_kind("inspector-leave", leave).frame
    assert frame.to_numpy().tolist() == [["1001", "2026-01-05", "2026-01-08"],
                                         ["A2", "2026-01-05", "2026-01-09"],
                                         ["A3", "2026-01-05", "2026-01-08"]]


def test_xlsx_formulas_use_the_cached_value(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", [["统一社会信用代码", "企业名称", "区县", "监管类别"],
                                             [A, '="甲"&"公司"', "江城区", "重点"]])
    # openpyxl cannot compute formulas: store a cached value as Excel would.
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    sheet = files["xl/worksheets/sheet1.xml"].decode()
    # an empty cached value is <v/>, or <v></v> when openpyxl writes with lxml
    sheet, n = re.subn(r'<c r="B2"([^>]*)><f>(.*?)</f><v\s*(?:/>|></v>)',
                       r'<c r="B2" t="str"><f>\2</f><v>甲公司</v>', sheet)
    assert n == 1
    files["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    assert read_kind("companies", path).frame["name"].tolist() == ["甲公司"]


def test_sheet_selection(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "w.xlsx", [["x"]], sheet="封面", extra_sheets=("名录",))
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["名录"]
    for row in RAW:
        ws.append([str(c).lstrip("=") for c in row])
    wb.save(path)
    assert read_kind("companies", path, sheet="名录").rows == 3
    with pytest.raises(InputFileError, match="'封面', '名录'"):
        read_kind("companies", path, sheet="企业")
    with pytest.raises(InputFileError, match="missing required column"):
        read_kind("companies", path)  # the first sheet is the cover


def test_reimport_replaces_and_keeps_earlier_versions(tmp_path: Path, store: Store) -> None:
    import_file(store, "companies", write_csv(tmp_path / "v1.csv", RAW))
    second = [COMPANY_HEADER, RAW[1], [C, "东湖涂装", "东湖区", "特殊", "关闭", "30"]]
    result = import_file(store, "companies", write_csv(tmp_path / "v2.csv", second),
                         allow_removals=True)  # one of three removed: more than 20%
    assert (result["inserted"], result["updated"], result["removed"]) == (0, 1, 1)
    assert result["version"] == 2
    assert store.read("companies")["uscc"].tolist() == [C, A]
    assert store.read("companies", 1)["uscc"].tolist() == [B, C, A]


def test_unknown_columns_warn_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    rows = [[*COMPANY_HEADER, "备注", ""], [*RAW[1], "x", ""], ["", "", "", "", "", "", "", ""],
            [*RAW[2], "", "stray"]]
    parsed = read_kind("companies", write_csv(tmp_path / "c.csv", rows))
    assert parsed.rows == 2 and parsed.frame.index.tolist() == [2, 4]
    assert any("备注" in w for w in parsed.warnings)
    assert any("column 8 has no header" in w and "row 4" in w for w in parsed.warnings)


def test_title_rows_and_other_kinds_get_a_hint(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="Row 2 looks like the header"):
        read_kind("companies", write_csv(tmp_path / "t.csv", [["企业名录"], *RAW]))
    inspectors = [["执法证号", "姓名", "所属单位", "区县"], ["JZ1", "张三", "江州市局", "全市"]]
    with pytest.raises(InputFileError, match="looks like an inspectors file"):
        read_kind("companies", write_csv(tmp_path / "i.csv", inspectors))


def test_parsed_file_is_validated() -> None:
    frame = pd.DataFrame(columns=["x"])
    with pytest.raises(ValueError, match="columns"):
        ParsedFile("companies", frame, (), "utf-8", "0" * 64, "f.csv", 0)
    with pytest.raises(SuijiError, match="Unknown kind"):
        ParsedFile("firms", frame, (), "utf-8", "0" * 64, "f.csv", 0)


def test_results_and_scores_files_parse(tmp_path: Path) -> None:
    results = write_csv(tmp_path / "r.csv", [["统一社会信用代码", "检查结果", "检查日期", "原因"],
                                              [A, "未发现问题", "2026/11/3", ""],
                                              [B, "未检查", "", "停产"]])
    frame = read_kind("results", results).frame
    assert frame[["uscc", "outcome", "date"]].to_numpy().tolist() == [
        [A, "no_issue", "2026-11-03"], [B, "not_carried_out", ""]]
    scores = write_csv(tmp_path / "s.csv", [["expert_id", "project_id", "meeting", "score"],
                                             ["ZJ1", "P1", "2026-11-03", "88.0"]])
    frame = read_kind("scores", scores).frame
    assert frame.iloc[0].tolist() == ["ZJ1", "P1", "2026-11-03", "88", "0", "", ""]


# --- rejected files: the row is named and nothing is written ---------------------------

H = ",".join(COMPANY_HEADER[:4]) + "\n"
LEAVE_HEADER = "执法证号,开始日期,结束日期\n"
GOOD = f"{A},甲,江城区,重点\n"
RISK_HEADER = "统一社会信用代码,企业名称,区县,监管类别,风险分\n"
BAD_FILES = [
    ("check char", H + f"{A[:-1]}4,甲,江城区,重点\n",
     r"row 2, column 统一社会信用代码: .*should be '3'"),
    ("empty required", H + GOOD + f"{B},,江城区,重点\n",
     r"row 3, column 企业名称: a value is required"),
    ("unknown enum", H + f"{A},甲,江城区,重要\n", r"row 2, column 监管类别: '重要'.*重点 / "),
    ("duplicate key", H + GOOD + f"{B},乙,江城区,一般\n{A},丙,江城区,一般\n",
     r"row 4, column 统一社会信用代码: .*already on row 2"),
    ("negative risk", RISK_HEADER + f"{A},甲,江城区,重点,-1\n",
     r"row 2, column 风险分: '-1' is negative"),
    ("too few cells", H + f"{A},甲,江城区\n", r"row 2: has 3 cells but the header has 4"),
    ("too many cells", H + f"{A},甲,江城区,重点,多\n", r"row 2: has 5 cells .*'多'"),
    ("huge cell", H + f"{A},{'甲' * (MAX_CELL + 1)},江城区,重点\n",
     r"row 2, column 企业名称: .*10,000"),
    ("header only", H, r"no data rows"),
    ("empty file", "", r"empty"),
    ("blank lines", "\n\n,,,\n", r"no rows"),
    ("missing column", "统一社会信用代码,企业名称,区县\n" + f"{A},甲,江城区\n",
     r"missing required column 监管类别 / category"),
    ("duplicated header", "uscc,统一社会信用代码,企业名称,区县,监管类别\n",
     r"both the 统一社会信用代码"),
    ("same header twice", H.rstrip("\n") + ",备注,备注\n" + GOOD, r"columns 5 and 6 .*'备注'"),
    ("NUL byte", H + f"{A},甲\x00,江城区,重点\n", r"NUL bytes \(first at line 2\)"),
    ("bad date", LEAVE_HEADER + "JZ1,2026-02-30,2026-03-01\n",
     r"row 2, column 开始日期: '2026-02-30' is not a real calendar date"),
    ("end before start", LEAVE_HEADER + "JZ1,2026/3/5,2026/3/1\n",
     r"row 2, column 结束日期: 2026-03-01 is before the start date 2026-03-05"),
]


@pytest.mark.parametrize("name,text,pattern", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_rejected_whole(tmp_path: Path, store: Store, name: str, text: str,
                                      pattern: str) -> None:
    kind = "inspector-leave" if text.startswith("执法证号") else "companies"
    good = H + GOOD if kind == "companies" else LEAVE_HEADER + "JZ9,2026-01-05,2026-01-06\n"
    import_file(store, kind, write_csv_text(tmp_path / "good.csv", good))
    before = state(store, kind)
    path = write_csv_text(tmp_path / "bad.csv", text)
    with pytest.raises(InputFileError) as info:
        import_file(store, kind, path)
    assert re.search(pattern, str(info.value)), str(info.value)
    assert "Traceback" not in str(info.value)
    assert state(store, kind) == before


def write_csv_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("content,pattern", [
    (b"\xd0\xcf\x11\xe0" + bytes(200), r"\.xls .*save it as \.xlsx"),
    (b"%PDF-1.7\n" + bytes(range(256)), r"PDF"),
    (bytes(range(256)) * 40, r"binary data"),
    (b"\xff\xfe" + "统一社会信用代码".encode("utf-16-le"), r"UTF-16"),
    (b"<html><body><table><tr><td>1</td></tr></table></body></html>", r"web page"),
    (b"PK\x03\x04" + bytes(100), r"damaged \.xlsx"),
    ("统一社会信用代码,企业名称\n".encode() + b"\xff\xfe\xfa\n",
     r"utf-8 fails .*gb18030 fails .*--encoding"),
])
def test_files_that_are_not_tables(tmp_path: Path, content: bytes, pattern: str) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=pattern):
        read_kind("companies", path)


def test_old_xls_and_fake_xlsx_by_name(tmp_path: Path) -> None:
    (tmp_path / "a.xls").write_text(H + GOOD, encoding="utf-8")
    with pytest.raises(InputFileError, match=r"\.xls; .*save it as \.xlsx"):
        read_kind("companies", tmp_path / "a.xls")
    (tmp_path / "a.xlsx").write_text(H + GOOD, encoding="utf-8")
    with pytest.raises(InputFileError, match="not an Excel workbook"):
        read_kind("companies", tmp_path / "a.xlsx")
    with pytest.raises(InputFileError, match="no such file"):
        read_kind("companies", tmp_path / "none.csv")


def test_gbk_read_as_utf8_suggests_gb18030(tmp_path: Path) -> None:
    path = write_csv_text(tmp_path / "g.csv", H + GOOD, "gb18030")
    assert read_kind("companies", path).encoding == "gb18030"
    assert read_kind("companies", path, encoding="GBK").encoding == "gbk"
    with pytest.raises(InputFileError, match=r"not valid utf-8 .*line 1.*--encoding gb18030"):
        read_kind("companies", path, encoding="utf-8")
    utf8 = write_csv_text(tmp_path / "u.csv", H + GOOD)
    with pytest.raises(InputFileError, match="--encoding utf-8"):
        read_kind("companies", utf8, encoding="gbk")
    with pytest.raises(InputFileError, match="unknown encoding"):
        read_kind("companies", utf8, encoding="klingon")


def test_excel_row_numbers_count_blank_lines_and_multiline_cells(tmp_path: Path) -> None:
    text = (H + GOOD + "\n" + f'{B},"乙\n公司",江城区,重点\n' + f"{C},丙,江城区,坏\n")
    with pytest.raises(InputFileError) as info:
        read_kind("companies", write_csv_text(tmp_path / "n.csv", text))
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("row 5, column 监管类别: '坏' is not an accepted")
    xlsx = write_xlsx(tmp_path / "n.xlsx", [COMPANY_HEADER[:4], [A, "甲", "江城区", "重点"], [],
                                            [B, "乙", "江城区", "坏"]])
    with pytest.raises(InputFileError, match=r"row 4, column 监管类别"):
        read_kind("companies", xlsx)


def test_every_problem_is_collected_and_the_listing_is_capped(tmp_path: Path) -> None:
    n = MAX_PROBLEMS + 500
    rows = [COMPANY_HEADER[:4]] + [[f"X{i}", "甲", "江城区", "重点"] for i in range(n)]
    with pytest.raises(InputFileError) as info:
        read_kind("companies", write_csv(tmp_path / "many.csv", rows))
    err = info.value
    assert f"{n:,} problems" in err.summary and f"first {MAX_PROBLEMS:,}" in err.summary
    assert len(err.problems) == MAX_PROBLEMS and err.problems[0].startswith("row 2, ")
    assert err.problems[-1].startswith(f"row {MAX_PROBLEMS + 1}, ")
    assert str(err).count("\n") < 60  # the rendering shows the first 50 and a count


def test_generated_city_imports_the_same_from_csv_and_xlsx(tmp_path: Path, store: Store) -> None:
    from suiji.sample.generate import generate_city

    csvs = generate_city(tmp_path / "csv", seed=5, firms=300, inspectors=30, projects=30,
                         agencies=8, experts=25)
    xlsxs = generate_city(tmp_path / "xlsx", seed=5, firms=300, inspectors=30, projects=30,
                          agencies=8, experts=25, fmt="xlsx")
    for kind in KINDS:
        result = import_file(store, kind, csvs[kind])
        assert result["rows"] == len(store.read(kind)) > 0
        from_xlsx = read_kind(kind, xlsxs[kind]).frame
        again = import_file(store, kind, xlsxs[kind])
        assert (again["inserted"], again["updated"], again["removed"]) == (0, 0, 0), kind
        assert again["digest"] == result["digest"]
        assert len(from_xlsx) == result["rows"]


def test_a_workbook_without_the_xlsx_suffix_still_opens(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "export.xlsx", [list(r) for r in RAW])
    renamed = path.rename(tmp_path / "企业导出")
    assert read_kind("companies", renamed).rows == 3


def test_a_quote_that_never_closes_names_its_row(tmp_path: Path) -> None:
    text = H + GOOD + f'{B},"乙,江城区,重点\n' + "x,y,z,w\n" * 30_000
    with pytest.raises(InputFileError) as info:
        read_kind("companies", write_csv_text(tmp_path / "q.csv", text))
    assert info.value.problems[0].startswith("row 3: a cell runs on")
