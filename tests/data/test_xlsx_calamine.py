"""XLSX read by calamine gives exactly the rows openpyxl gives (values, row numbers, errors)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from suiji.data import readers
from suiji.data.errors import InputFileError
from suiji.data.importers import read_kind


def _book(path: Path, cells: dict[str, object], sheet: str = "名录") -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for ref, value in cells.items():
        ws[ref] = value
    wb.create_sheet("说明")["A1"] = "cover"
    wb.save(path)
    return path


def _chunks(path: Path, *, calamine: bool, size: int = 3) -> list[tuple[int, list[list[str]]]]:
    source = readers.open_source(path)
    assert isinstance(source.workbook, readers._CalamineBook) == calamine
    return list(source.chunks(size))


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, size: int = 3
          ) -> tuple[list[tuple[int, list[list[str]]]], list[tuple[int, list[list[str]]]]]:
    fast = _chunks(path, calamine=True, size=size)
    with monkeypatch.context() as m:
        m.setattr(readers, "_has_error_cells", lambda p: True)  # forces openpyxl
        slow = _chunks(path, calamine=False, size=size)
    return fast, slow


def _flat(chunks: list[tuple[int, list[list[str]]]]) -> dict[int, list[str]]:
    """row number -> cells without trailing empty ones (openpyxl's rows are ragged)."""
    out = {}
    for start, rows in chunks:
        for k, r in enumerate(rows):
            cells = list(r)
            while cells and cells[-1] == "":
                cells.pop()
            out[start + k] = cells
    return {n: c for n, c in out.items() if c}


TYPED: dict[str, object] = {
    "C3": "统一社会信用代码", "D3": "企业名称", "E3": "区县", "F3": "监管类别", "G3": "风险分",
    "C4": "91320100MA1X00001A", "D4": " 甲公司 ", "E4": "江城区", "F4": "重点", "G4": 85.5,
    "C6": "91320100MA1X00002B", "D6": "乙", "E6": "江城区", "F6": "一般", "G6": 30,
    "C7": dt.datetime(2026, 1, 5), "D7": dt.date(2026, 1, 8), "E7": dt.time(9, 30),
    "F7": True, "G7": 999999999999999, "H9": -0.0, "C10": 1 / 3, "D10": 1.5e15,
}


def test_calamine_gives_openpyxls_cells_and_row_numbers(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = _book(tmp_path / "t.xlsx", TYPED)
    fast, slow = _both(path, monkeypatch)
    assert _flat(fast) == _flat(slow)
    assert _flat(fast)[3][2:4] == ["统一社会信用代码", "企业名称"]  # columns A, B kept empty
    assert _flat(fast)[7][2:] == ["2026-01-05", "2026-01-08", "09:30:00", "true",
                                  "999999999999999"]


def test_error_cells_are_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    path = _book(tmp_path / "e.xlsx", {"A1": "x", "A2": "#N/A"})
    assert readers._has_error_cells(path)
    rows = _flat(_chunks(path, calamine=False))
    assert rows[2] == ["#N/A"]  # calamine alone would have read an empty cell


def test_a_long_whole_number_switches_to_openpyxl_from_its_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells: dict[str, object] = {f"A{r}": f"v{r}" for r in range(1, 12)}
    cells["B8"] = 1234567890123456  # 16 digits: openpyxl keeps the int, calamine a float
    path = _book(tmp_path / "n.xlsx", cells)
    fast, slow = _both(path, monkeypatch)
    assert _flat(fast) == _flat(slow)
    assert _flat(fast)[8] == ["v8", "1234567890123456"]
    assert [start for start, _ in fast] == [1, 4, 7, 8, 11]  # calamine to row 7, then openpyxl


def test_import_errors_are_the_same_with_either_reader(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    cells: dict[str, object] = {"A1": "统一社会信用代码", "B1": "企业名称", "C1": "区县",
                                "D1": "监管类别"}
    for r in range(2, 40):
        cells.update({f"A{r}": f"9132010000000{r:04d}X", f"B{r}": f"企业{r}", f"C{r}": "江城区",
                      f"D{r}": "重点" if r != 17 else "未知类别"})
    path = _book(tmp_path / "bad.xlsx", cells)
    with pytest.raises(InputFileError) as fast:
        read_kind("companies", path)
    monkeypatch.setattr(readers, "_has_error_cells", lambda p: True)
    with pytest.raises(InputFileError) as slow:
        read_kind("companies", path)
    assert str(fast.value) == str(slow.value)
    assert fast.value.problems == slow.value.problems
    assert any("row 17" in p for p in fast.value.problems)
