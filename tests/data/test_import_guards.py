"""Imports that cannot silently destroy: removals, wrong kinds, two-row headers, control
characters, and workbooks built to exhaust memory."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from suiji.cli.main import cli
from suiji.data import readers
from suiji.data.errors import ImportRefusedError, InputFileError
from suiji.data.importers import import_file, read_kind
from suiji.data.rules import parse_rules, preset_text
from suiji.data.store import Store
from suiji.sample.generate import make_uscc

CODES = [make_uscc(np.random.default_rng(k), "329902") for k in range(10)]
HEADER = ["统一社会信用代码", "企业名称", "区县", "监管类别"]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def companies(path: Path, codes: list[str], name: str = "公司") -> Path:
    return write_csv(path, [HEADER, *([c, f"{name}{i}", "江城区", "一般"]
                                      for i, c in enumerate(codes))])


def test_a_reimport_removing_more_than_a_fifth_is_refused(tmp_path: Path,
                                                          store: Store) -> None:
    import_file(store, "companies", companies(tmp_path / "v1.csv", CODES))
    with pytest.raises(ImportRefusedError) as info:
        import_file(store, "companies", companies(tmp_path / "v2.csv", CODES[:7]))
    message = str(info.value)
    assert "would remove 3 of the 10 current rows (30%) and keep 7" in message
    assert "--allow-removals" in message and "imports.max_removed_share" in message
    assert store.current_version("companies") == 1 and len(store.read("companies")) == 10
    # Exactly the share is allowed; a rules file may raise it; the flag forces it.
    assert import_file(store, "companies", companies(tmp_path / "v3.csv", CODES[:8]))[
        "removed"] == 2
    loose = parse_rules(preset_text() + "\n[imports]\nmax_removed_share = 0.5\n")
    assert import_file(store, "companies", companies(tmp_path / "v4.csv", CODES[:5]),
                       rules=loose)["removed"] == 3
    assert import_file(store, "companies", companies(tmp_path / "v5.csv", CODES[:1]),
                       allow_removals=True)["removed"] == 4


def test_the_tools_own_plan_export_is_not_a_companies_file(tmp_path: Path) -> None:
    """The columns of `suiji export plan` (internal) on a companies import: refused."""
    header = ["序号", "统一社会信用代码", "企业名称", "区县", "城市", "监管类别", "行业", "抽取层",
              "入样概率", "随机数", "检查日期", "执法证号", "执法人员", "检查事项", "检查结果",
              "是否实施", "备注"]
    row = ["1", CODES[0], "甲公司", "江城区", "江州市", "一般", "化工", "general|江城区",
           "0.05", "0.0123", "2026-10-09", "JZ001;JZ002", "张三;李四", "", "", "", ""]
    path = write_csv(tmp_path / "plan.csv", [header, row])
    with pytest.raises(ImportRefusedError) as info:
        read_kind("companies", path)
    message = str(info.value)
    assert "does not look like a companies file" in message
    assert "抽取层, 入样概率, 随机数: columns of a draw exported by suiji" in message
    assert "执法证号: the 执法证号 (badge) that identifies the rows of an inspectors file" \
        in message
    assert "--force-kind" in message
    assert read_kind("companies", path, force_kind=True).rows == 1
    public = ["序号", "企业名称", "统一社会信用代码", "区县", "监管类别", "检查事项", "检查日期",
              "执法人员（执法证号）", "检查结果"]
    with pytest.raises(ImportRefusedError, match="执法人员"):
        read_kind("companies", write_csv(tmp_path / "notice.csv", [
            public, ["1", "甲", CODES[0], "江城区", "一般", "", "", "", ""]]))


def test_cli_wrong_file_refused_with_the_numbers_and_flags(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0
    first = companies(tmp_path / "c.csv", CODES)
    assert runner.invoke(cli, ["--db", db, "import", "companies", str(first)]).exit_code == 0
    small = companies(tmp_path / "small.csv", CODES[:2])
    res = runner.invoke(cli, ["--db", db, "import", "companies", str(small)])
    assert res.exit_code == 1 and "would remove 8 of the 10" in res.output
    res = runner.invoke(cli, ["--db", db, "import", "companies", str(small),
                              "--allow-removals"])
    assert res.exit_code == 0 and "removed 8" in res.output


def _merged_header_xlsx(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["执法证号", "姓名", "所属单位", "区县", "在岗", "上限", None])
    ws.append([None, None, None, None, None, "季度上限", "每日上限"])
    for col in "ABCDE":
        ws.merge_cells(f"{col}1:{col}2")
    ws.merge_cells("F1:G1")
    ws.append(["JZ001", "张三", "江州市局", "全市", "是", 30, 2])
    ws.append(["JZ002", "李四", "江州市局", "全市", "是", 20, 1])
    wb.save(path)
    return path


def test_a_two_row_merged_header_is_refused_naming_the_cells(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        read_kind("inspectors", _merged_header_xlsx(tmp_path / "i.xlsx"))
    message = str(info.value)
    assert "rows 1 and 2 look like a header of two rows (merged header cells)" in message
    assert "F1 '上限', G1 empty" in message and "F2 '季度上限', G2 '每日上限'" in message
    assert "Nothing was written" in message
    as_csv = write_csv(tmp_path / "i.csv", [["执法证号", "姓名", "所属单位", "区县", "上限", ""],
                                            ["", "", "", "", "季度上限", "每日上限"],
                                            ["JZ001", "张三", "江州市局", "全市", "30", "2"]])
    with pytest.raises(InputFileError, match="E2 '季度上限', F2 '每日上限'"):
        read_kind("inspectors", as_csv)
    one_row = write_csv(tmp_path / "ok.csv", [["执法证号", "姓名", "所属单位", "区县", "季度上限"],
                                              ["JZ001", "张三", "江州市局", "全市", "30"]])
    assert read_kind("inspectors", one_row).frame["capacity"].tolist() == ["30"]


@pytest.mark.parametrize("char, name", [("\x1b", "ESC (U+001B)"), ("\x07", "BEL (U+0007)"),
                                        ("\x01", "a control character (U+0001)")])
def test_control_characters_are_refused_with_the_row(tmp_path: Path, char: str,
                                                     name: str) -> None:
    path = write_csv(tmp_path / "c.csv", [HEADER, [CODES[0], "甲公司", "江城区", "一般"],
                                          [CODES[1], f"乙{char}公司", "江城区", "一般"]])
    with pytest.raises(InputFileError) as info:
        read_kind("companies", path)
    assert f"row 3, column 企业名称: contains {name} at character 2" in str(info.value)


def test_bidi_controls_are_removed_with_a_warning(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [HEADER, [CODES[0], "甲\u202e司公", "江城区", "一般"],
                                          [CODES[1], "乙公司\u2066", "江城区", "一般"],
                                          [CODES[2], "丙公司", "江城区", "一般"]])
    parsed = read_kind("companies", path)
    assert parsed.frame["name"].tolist() == ["甲司公", "乙公司", "丙公司"]
    assert any("from 2 cells of column 企业名称 (first on row 2)" in w for w in parsed.warnings)


def _bomb(path: Path, expanded: int) -> Path:
    """A valid workbook whose sheet unzips to ``expanded`` bytes of one repeated row."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    small = path.with_suffix(".small.xlsx")
    wb.save(small)
    row = (f'<row><c t="inlineStr"><is><t>{CODES[0]}</t></is></c></row>' * 10_000).encode()
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                        compresslevel=1) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with out.open(info.filename, "w", force_zip64=True) as f:
                f.write(head)
                written = 0
                while written < expanded:
                    f.write(row)
                    written += len(row)
                f.write(b"</sheetData>" + tail)
    return path


def test_a_zip_bomb_is_refused_early_in_little_memory(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.xlsx", readers.MAX_XLSX_EXPANDED + (1 << 20))
    assert bomb.stat().st_size < 20 * 2**20
    code = ("import resource, sys\n"
            "from pathlib import Path\n"
            "from suiji.data.errors import InputFileError\n"
            "from suiji.data.importers import read_kind\n"
            "try:\n"
            f"    read_kind('companies', Path({str(bomb)!r}))\n"
            "except InputFileError as exc:\n"
            "    print(str(exc).splitlines()[0])\n"
            "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "bomb.xlsx: unzips to 1,025 MB (xl/worksheets/sheet1.xml" in out, out
    rss_mb = int(out.split("maxrss_kb")[1]) / 1024
    assert rss_mb < 400, out


def test_rows_and_columns_are_bounded_as_the_sheet_is_read(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    bomb = _bomb(tmp_path / "rows.xlsx", 2 << 20)  # about 30,000 rows of one cell
    monkeypatch.setattr(readers, "MAX_XLSX_ROWS", 20_000)
    with pytest.raises(InputFileError, match="more than 20,000 rows"):
        read_kind("companies", bomb)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    ws.append([CODES[0], "甲", "江城区", "一般", *(["x"] * 2_100)])
    wb.save(tmp_path / "wide.xlsx")
    with pytest.raises(InputFileError, match="row 2 of sheet 'Sheet' has 2,104 cells"):
        read_kind("companies", tmp_path / "wide.xlsx")
