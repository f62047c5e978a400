"""Four-party expert scoring: combination, refusals, and old files without parties."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from suiji.data.errors import InputFileError
from suiji.data.scores import expert_results, points_frame, record_scores
from tests.fixtures.loop import (
    MEETING,
    LoopWorld,
    loop_world,
    party_rows,
    records,
)
from tests.fixtures.reviews_data import PERIOD


@pytest.fixture
def loop(tmp_path: Path) -> LoopWorld:
    return loop_world(tmp_path)


def test_four_parties_score_one_expert(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    item = loop.panels["items"][0]
    e, pid = item["experts"][0], item["project_id"]
    rows = party_rows(e, pid, approval=("80", "2"), developer=("90", "0"),
                      agency=("90", "0"), assessment=("70", "3"))
    out = record_scores(store, records("scores", *rows), rules=r, today=date(2026, 12, 16))
    assert out["inserted"] == 4
    result = next(x for x in expert_results(store, r) if x["expert_id"] == e)
    # 0.4*80 + 0.1*90 + 0.1*90 + 0.4*70 = 78
    assert result["score"] == 78 and result["deduction"] == 5
    assert points_frame(store).to_dict("records") == [
        {"expert_id": e, "year": "2026", "points": "5", "scored": "1"}]


def test_four_party_refusals(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    item = loop.panels["items"][0]
    e, pid = item["experts"][0], item["project_id"]
    outsider = next(f"ZJ{k:04d}" for k in range(7, 25)
                    if f"ZJ{k:04d}" not in {x for i in loop.panels["items"]
                                            for x in i["experts"]})
    cases = [
        (party_rows(e, pid, developer=("90", "1")), date(2026, 12, 16), "may not give deduction"),
        (party_rows(outsider, pid, approval=("90", "0")), date(2026, 12, 16),
         "is not on the final panel"),
        (party_rows(e, pid, approval=("90", "0")), date(2026, 12, 14), "has not been held"),
        ([*party_rows(e, pid, approval=("90", "0")),
          {"expert_id": e, "project_id": pid, "meeting": MEETING.isoformat(), "score": "80"}],
         date(2026, 12, 16), "the scoring party is missing"),
        (party_rows(e, pid, approval=("90", "0")) * 2, date(2026, 12, 16), "one row per party"),
    ]
    for rows, today, message in cases:
        with pytest.raises(InputFileError) as exc:
            record_scores(store, records("scores", *rows), rules=r, today=today)
        assert message in str(exc.value), message
    assert store.conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 0


def test_old_score_files_keep_working(loop: LoopWorld, tmp_path: Path) -> None:
    from suiji.data.importers import import_file

    store, r = loop.store, loop.rules
    item = loop.panels["items"][0]
    e, pid = item["experts"][0], item["project_id"]
    path = tmp_path / "s.csv"
    path.write_text(f"专家编号,项目编号,会议日期,评分,扣分\n{e},{pid},2026-12-15,80,2\n"
                    f"ZJ0011,P001,2026-11-02,70,1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="row 3, column expert_id"):
        import_file(store, "scores", path, rules=r, today=date(2026, 12, 16))
    out = import_file(store, "scores", path, rules=r, today=date(2026, 12, 16),
                      allow_off_panel=True)  # a score carried over from outside suiji
    assert out["inserted"] == 2 and "row 3" in out["warnings"][0]
    assert store.conn.execute("SELECT party FROM scores").fetchall() == [("",), ("",)]
    result = next(x for x in expert_results(store, r) if x["expert_id"] == e)
    assert result["score"] == 80 and result["parties"] == {}
    assert sorted(points_frame(store)["points"].tolist()) == ["1", "2"]


def test_a_party_file_with_the_parsers_duplicate_check(loop: LoopWorld, tmp_path) -> None:
    from suiji.data.importers import import_file

    store, r = loop.store, loop.rules
    item = loop.panels["items"][0]
    e, pid = item["experts"][0], item["project_id"]
    path = tmp_path / "s.csv"
    path.write_text("专家编号,项目编号,会议日期,打分方,评分\n"
                    f"{e},{pid},2026-12-15,审批部门,80\n{e},{pid},2026-12-15,建设单位,85\n"
                    f"{e},{pid},2026-12-15,审批部门,81\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        import_file(store, "scores", path, rules=r, today=date(2026, 12, 16))
    assert "row 4" in str(exc.value) and "may appear only once" in str(exc.value)


def test_the_sample_export_counts_an_expert_once(loop: LoopWorld) -> None:
    from suiji.sampler.reviews import review_rows

    item = loop.panels["items"][0]
    e, pid = item["experts"][0], item["project_id"]
    rows = party_rows(e, pid, approval=("80", "0"), developer=("90", "0"))
    record_scores(loop.store, records("scores", *rows), rules=loop.rules,
                  today=date(2026, 12, 16))
    row = next(r for r in review_rows(loop.store, PERIOD, False, date(2026, 12, 16))
               if r["project_id"] == pid)
    assert row["scores"] == 1 and row["mean_score"] == 85 and row["status"] == "reviewed"
