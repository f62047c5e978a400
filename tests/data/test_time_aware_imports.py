"""Imports that know today: no project approved in the future, no score for a meeting not
yet held (issue 12, item 4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.errors import InputFileError
from suiji.data.importers import import_file
from suiji.data.store import Store
from suiji.sample.generate import make_uscc

AGENCY = make_uscc(np.random.default_rng(1), "329902")
HEADER = "项目编号,项目名称,文件类型,审批日期,编制单位,建设单位,行业\n"


def projects(path: Path, *dates: str) -> Path:
    path.write_text(HEADER + "".join(f"P{i},项目{i},报告表,{d},{AGENCY},建设单位{i},化工\n"
                                     for i, d in enumerate(dates)), "utf-8")
    return path


def test_projects_approved_after_today_are_refused_with_their_rows(tmp_path: Path,
                                                                   store: Store) -> None:
    path = projects(tmp_path / "p.csv", "2026-11-30", "2026-12-15", "2026/12/2", "2026-12-01")
    with pytest.raises(InputFileError) as info:
        import_file(store, "projects", path, today=date(2026, 12, 1))
    text = str(info.value)
    assert "2 of 4 projects have an approval date after today (2026-12-01)" in text
    assert "row 3, column 审批日期: 2026-12-15 is after today" in text
    assert "row 4, column 审批日期: 2026-12-02 is after today" in text
    assert store.current_version("projects") == 0
    assert import_file(store, "projects", path, today=date(2026, 12, 15))["inserted"] == 4


def test_cli_refuses_future_approvals_and_scores_of_meetings_not_held(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0
    path = projects(tmp_path / "p.csv", "2026-11-30", "2026-12-15")
    res = runner.invoke(cli, ["--db", db, "import", "projects", str(path)])
    assert res.exit_code == 1 and "row 3, column 审批日期" in res.output
    experts = tmp_path / "e.csv"
    experts.write_text("专家编号,姓名,专业,工作单位\nZJ1,张三,大气,江州市环科院\n", "utf-8")
    assert runner.invoke(cli, ["--db", db, "import", "experts", str(experts)]).exit_code == 0
    scores = tmp_path / "s.csv"
    scores.write_text("专家编号,项目编号,会议日期,评分,扣分\nZJ1,P1,2026-12-20,88,0\n", "utf-8")
    res = runner.invoke(cli, ["--db", db, "import", "scores", str(scores),
                              "--allow-off-panel"])
    assert res.exit_code == 1
    assert "row 2, column meeting: the meeting of 2026-12-20 has not been held yet" in res.output


def test_a_declined_expert_is_not_scored(store: Store) -> None:
    from suiji.data.draws import current_draw, latest_output
    from suiji.data.scores import record_scores
    from tests.fixtures.audit_world import RULES
    from tests.fixtures.real_world import build_real

    build_real(store)  # panels for the meeting of 2026-12-10, the first expert declined
    draw = current_draw(store, "2026Q4", "panels", "2026-12-10")
    assert draw is not None
    first = draw.output["items"][0]
    declined = first["experts"][0]
    final = latest_output(store, draw)["items"][0]["experts"]
    assert declined not in final

    import pandas as pd

    def frame(expert: str) -> pd.DataFrame:
        return pd.DataFrame([{"expert_id": expert, "project_id": first["project_id"],
                              "meeting": "2026-12-10", "score": "80", "deduction": "0",
                              "note": ""}])

    with pytest.raises(InputFileError, match=f"expert {declined} is not on the final panel"):
        record_scores(store, frame(declined), rules=RULES, today=date(2026, 12, 11))
    out = record_scores(store, frame(final[0]), rules=RULES, today=date(2026, 12, 11))
    assert out["inserted"] == 1 and out["warnings"] == []
