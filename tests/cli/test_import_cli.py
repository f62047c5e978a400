"""``suiji import``: exit codes, messages, --json, and nothing written on a rejected file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from suiji.cli.main import cli
from suiji.data.store import Store

A, B = "91350100M000100Y43", "91110000802100433B"
COMPANIES = (f"统一社会信用代码,企业名称,区县,监管类别,备注\n"
             f"{A},甲公司,江城区,重点,x\n{B},乙公司,临江区,一般,\n")
KEYS = {"kind", "file", "rows", "inserted", "updated", "removed", "warnings", "version", "digest"}


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "t.db"
    Store.init(path).close()
    return str(path)


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, "import", *args])


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def snapshot(db: str, kind: str) -> tuple[int, int]:
    store = Store.open(db)
    try:
        return store.current_version(kind), len(store.log_entries())
    finally:
        store.close()


def test_text_summary_and_warnings_on_stderr(tmp_path: Path, db: str) -> None:
    res = run(db, "companies", write(tmp_path / "c.csv", COMPANIES, "gb18030"))
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == ("已导入 imported companies: 2 rows (inserted 2, updated 0, "
                                  "removed 0), version 1")
    assert "warning: ignored column not in a companies file: 备注" in res.stderr
    quiet = CliRunner().invoke(cli, ["--db", db, "--quiet", "import", "companies",
                                     str(tmp_path / "c.csv")])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert "version 2" in quiet.stdout


def test_json_output(tmp_path: Path, db: str) -> None:
    res = run(db, "companies", write(tmp_path / "c.csv", COMPANIES), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) == KEYS
    assert (out["kind"], out["file"], out["rows"], out["inserted"], out["version"]) == (
        "companies", "c.csv", 2, 2, 1)
    assert len(out["digest"]) == 64 and out["warnings"] and "备注" in out["warnings"][0]


def test_rejected_file_exits_1_and_writes_nothing(tmp_path: Path, db: str) -> None:
    run(db, "companies", write(tmp_path / "ok.csv", COMPANIES))
    before = snapshot(db, "companies")
    bad = COMPANIES + f"{A[:-1]}4,丙,江城区,特殊,\n{B},丁,江城区,重要,\n"
    res = run(db, "companies", write(tmp_path / "bad.csv", bad))
    assert res.exit_code == 1
    assert "row 4, column 统一社会信用代码" in res.output and "should be '3'" in res.output
    assert "row 5, column 统一社会信用代码" in res.output and "already on row 3" in res.output
    assert "row 5, column 监管类别: '重要'" in res.output
    assert "Nothing was written" in res.output and "Traceback" not in res.output
    assert snapshot(db, "companies") == before


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (bytes(range(256)) * 10, "binary data"),
    ("统一社会信用代码,企业名称,区县,监管类别\n".encode(), "no data rows"),
    (b"\xd0\xcf\x11\xe0" + bytes(64), ".xls"),
])
def test_hostile_files_exit_1_without_traceback(tmp_path: Path, db: str, content: bytes,
                                                message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    res = run(db, "companies", str(path))
    assert res.exit_code == 1 and message in res.output and "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert snapshot(db, "companies") == (0, 1)


def test_encoding_option(tmp_path: Path, db: str) -> None:
    path = write(tmp_path / "g.csv", COMPANIES, "gb18030")
    res = run(db, "companies", path, "--encoding", "utf-8")
    assert res.exit_code == 1 and "not valid utf-8" in res.output
    assert "--encoding gb18030" in res.output
    assert run(db, "companies", path, "--encoding", "gb18030").exit_code == 0


def test_sheet_option(tmp_path: Path, db: str) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "说明"
    ws2 = wb.create_sheet("企业")
    for line in COMPANIES.splitlines():
        ws2.append(line.split(","))
    wb.save(tmp_path / "w.xlsx")
    res = run(db, "companies", str(tmp_path / "w.xlsx"), "--sheet", "名录")
    assert res.exit_code == 1 and "'说明', '企业'" in res.output
    res = run(db, "companies", str(tmp_path / "w.xlsx"), "--sheet", "企业", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["rows"] == 2


def test_usage_errors_exit_2(tmp_path: Path, db: str) -> None:
    path = write(tmp_path / "c.csv", COMPANIES)
    assert run(db, "firms", path).exit_code == 2
    assert run(db, "companies", str(tmp_path / "none.csv")).exit_code == 2
    res = run(db, "companies", path, "--period", "2026Q4")
    assert res.exit_code == 2 and "results" in res.output
    assert run(db, "results", path, "--period", "2026Q5").exit_code == 2
    assert snapshot(db, "companies") == (0, 1)


def test_no_database_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", COMPANIES)
    res = run(str(tmp_path / "missing.db"), "companies", path)
    assert res.exit_code == 1 and "suiji init" in res.output


def test_scores_go_to_their_recorder(tmp_path: Path, db: str) -> None:
    experts = "专家编号,姓名,专业,工作单位\nZJ1,张三,大气、水,江州市环科院\n"
    assert run(db, "experts", write(tmp_path / "e.csv", experts)).exit_code == 0
    scores = "专家编号,项目编号,会议日期,评分,扣分\nZJ1,P1,2026/11/3,88.0,2\n"
    res = run(db, "scores", write(tmp_path / "s.csv", scores))
    assert res.exit_code == 1 and "not on the final panel for P1" in res.output
    res = run(db, "scores", write(tmp_path / "s.csv", scores), "--json", "--allow-off-panel")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) >= KEYS and out["kind"] == "scores" and out["rows"] == 1
    unknown = "专家编号,项目编号,会议日期\nZJ9,P1,2026-11-03\n"
    res = run(db, "scores", write(tmp_path / "u.csv", unknown))
    assert res.exit_code == 1 and "ZJ9" in res.output


def test_results_go_to_their_recorder(tmp_path: Path, db: str) -> None:
    results = f"统一社会信用代码,检查结果\n{A},未发现问题\n"
    before = snapshot(db, "results")
    res = run(db, "results", write(tmp_path / "r.csv", results), "--period", "2026q4")
    assert res.exit_code == 1 and A in res.output  # no plan contains the firm yet
    assert snapshot(db, "results") == before
