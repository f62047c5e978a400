"""Specialties that match the bureau's library (issue 12, item 6): the experts import names
the specialties no rule uses, and the reviews freeze lists the industries without enough
eligible experts before the sample is drawn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result

from suiji.cli.main import cli
from suiji.sample.generate import make_uscc
from tests.fixtures.clock import Calendar

AGENCY = make_uscc(np.random.default_rng(3), "329902")


def _write(path: Path, text: str) -> str:
    path.write_text(text, "utf-8")
    return str(path)


def test_unused_specialties_and_industry_gaps(tmp_path: Path, calendar: Calendar) -> None:
    db = str(tmp_path / "s.db")
    runner = CliRunner()
    calendar.on("2026-12-20")

    def run(*args: str) -> Result:
        return runner.invoke(cli, ["--db", db, *args])

    assert run("init").exit_code == 0
    agencies = f"统一社会信用代码,单位名称\n{AGENCY},甲环评\n"
    assert run("import", "agencies", _write(tmp_path / "a.csv", agencies)).exit_code == 0
    projects = "项目编号,项目名称,文件类型,审批日期,编制单位,建设单位,行业\n" + "".join(
        f"P{i},项目{i},报告表,2026-11-0{i},{AGENCY},建设{i},{ind}\n"
        for i, ind in enumerate(["纺织", "纺织", "建材", "食品"], start=1))
    assert run("import", "projects", _write(tmp_path / "p.csv", projects)).exit_code == 0
    experts = "专家编号,姓名,专业,工作单位\n" + "".join(
        f"ZJ{i},专家{i},{spec},江州研究院\n"
        for i, spec in enumerate(["大气、水", "大气、固废", "大气", "大气、食品", "固废"]))
    res = run("import", "experts", _write(tmp_path / "e.csv", experts), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["unused_specialties"] == {"固废": 2, "水": 1}  # 大气 is used, 食品 is an industry
    assert any("specialties no rule uses" in w and "固废 (2 experts)" in w
               for w in out["warnings"])

    res = run("freeze", "-p", "2026Q4", "--scope", "reviews")
    assert res.exit_code == 0, res.output
    text = res.output
    assert "纺织" in text and "0 eligible of 4 needed" in text and "← not enough" in text
    assert "2 industries without enough eligible experts: 纺织 (0 of 4), 食品 (1 of 4)" in text
    data = json.loads(run("freeze", "-p", "2026Q4", "--scope", "reviews", "--json").stdout)
    cover = {c["industry"]: c for c in data["experts_per_industry"]}
    assert cover["建材"] == {"industry": "建材", "documents": 1, "needed": 4, "eligible": 4,
                           "specialties": ["建材", "大气"], "short": False}
    assert cover["食品"]["eligible"] == 1 and cover["食品"]["short"] is True
