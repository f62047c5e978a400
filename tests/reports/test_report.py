"""`suiji report`: the internal HTML report with charts and the same tables as XLSX."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from suiji.cli.main import cli
from suiji.data.store import Store, sha256_hex
from suiji.reports.report import Series, bar_chart, build_report
from tests.fixtures.audit_world import World


def _table(report_html: str, ident: str) -> list[list[str]]:
    m = re.search(rf'<table id="{ident}"[^>]*>.*?<tbody>(.*?)</tbody>', report_html, re.S)
    assert m, ident
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>",
                                                                          m.group(1), re.S)]


def test_report_sections_agree_with_the_draws(world: World) -> None:
    report = build_report(world.store, "2026Q4")
    page = report.html()
    assert page.count("<svg") >= 5 and "<script" not in page and "http" not in page.replace(
        "http://www.w3.org/2000/svg", "")
    quota = _table(page, "coverage-quota")
    assert [r[0] for r in quota] == ["一般排污单位", "重点排污单位"]
    assert [(r[1], r[2], r[3]) for r in quota] == [("4", "4", "4"), ("4", "2", "2")]
    excluded = {r[0]: r[1] for r in _table(page, "exclusions-excluded")}
    assert excluded == {"已达年度检查次数上限": "0", "正面清单": "1",
                        "非正常经营状态（停产、关闭、注销、迁出）": "1"}
    load = _table(page, "inspectors-inspectors")
    assert sum(int(r[4]) for r in load) == 2 * 6  # two inspectors per inspection
    recusals = _table(page, "recusals-recusals")
    assert [(r[0], r[6]) for r in recusals] == [("B001", "已回避")]
    experts = _table(page, "experts-experts")
    assert world.panels is not None
    seats = sum(len(i["experts"]) for i in world.panels.output["items"])
    assert sum(int(r[2]) for r in experts) == seats
    expert_recusals = _table(page, "experts-expert_recusals")
    assert [r[1] for r in expert_recusals] == ["HP2026-000"]  # E000's tie to 建设单位0
    events = _table(page, "events-events")
    assert [r[3] for r in events] == ["人员替换"] and events[0][6] == "病假"
    docs = _table(page, "reviews-review_documents")
    assert len(docs) == 10  # every approved document, with its probability
    assert sum(1 for r in docs if r[6] == "是") == len(world.reviews.output["items"])  # type: ignore[union-attr]


def test_report_xlsx_has_the_same_tables(world: World) -> None:
    report = build_report(world.store, "2026Q4", lang="en")
    files = report.files()
    import io

    wb = load_workbook(io.BytesIO(files["report.xlsx"]))
    assert len(wb.sheetnames) == len(report.tables)
    ws = wb["Workload per inspector"]
    assert [c.value for c in ws[1]][:2] == ["Badge", "Name"]
    assert ws.max_row - 1 == len(next(t for t in report.tables if t.name == "inspectors").rows)


def test_cli_report_writes_and_logs(world: World, tmp_path: Path) -> None:
    out = tmp_path / "报告"
    r = CliRunner().invoke(cli, ["--db", world.store.path, "report", "--period", "2026Q4",
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.xlsx"]
    entry = world.store.log_entries()[-1]
    assert entry.action == "export" and entry.details["what"] == "report"
    assert entry.digests["report.html"] == sha256_hex((out / "report.html").read_bytes())


def test_report_of_an_empty_period_says_so(store: Store) -> None:
    report = build_report(store, "2026Q1")
    assert len(report.notes) == 2 and "尚无" in report.notes[0]
    assert "<h1>" in report.html()


def test_bar_chart_scales_to_the_largest_value() -> None:
    svg = bar_chart("t", ["a", "b"], [Series("s", (1.0, 4.0))], width=470)
    widths = [float(w) for w in re.findall(r'<rect x="170" y="\d+" width="([\d.]+)"', svg)]
    assert widths[1:] == [57.5, 230.0]  # after the legend swatch
    with pytest.raises(ValueError, match="2 labels"):
        bar_chart("t", ["a", "b"], [Series("s", (1.0,))])
