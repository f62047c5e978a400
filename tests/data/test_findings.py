"""Findings of the technical review: the rules' points, attribution, refusals, 把关不严;
the schema's migration and late columns."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from suiji.data.errors import InputFileError
from suiji.data.findings import current_findings, lax_reviews, record_findings
from suiji.data.scores import points_frame
from suiji.data.store import Store
from suiji.data.verify import verify_store
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.loop import (
    LoopWorld,
    finding,
    loop_world,
    records,
    with_findings,
)
from tests.fixtures.reviews_data import frame, uscc


@pytest.fixture
def loop(tmp_path: Path) -> LoopWorld:
    return loop_world(tmp_path)


def test_findings_carry_the_rules_points_to_agency_and_author(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    a, b, c = loop.sampled[:3]
    out = record_findings(store, records("findings", finding(a["project_id"]),
                                         finding(b["project_id"], "general",
                                                 "评价标准引用错误;附图附件不全"),
                                         finding(c["project_id"], "serious",
                                                 "数据弄虚作假;附图附件不全", signed="ZJ0010")),
                          file_name="f.csv", file_sha256="ab" * 32, rules=r)
    assert out["conclusions"] == {"pass": 1, "general": 1, "serious": 1}
    assert out["points"] == 0 + (1 + 1) + (10 + 1)
    rows = {x.project_id: x for x in current_findings(store).itertuples(index=False)}
    assert rows[b["project_id"]].points == "2" and rows[c["project_id"]].points == "11"
    assert rows[c["project_id"]].agency_uscc == c["agency_uscc"]
    assert rows[c["project_id"]].lead_author_reg.startswith("HP")
    assert rows[c["project_id"]].period == "2026Q4"
    # 把关不严: the signing-off expert gets the rules' deduction in expert-points
    assert lax_reviews(store) == [{"expert_id": "ZJ0010", "project_id": c["project_id"],
                                   "reviewed_on": "2026-12-20", "period": "2026Q4",
                                   "points": 5.0}]
    points = points_frame(store)
    assert points.to_dict("records") == [{"expert_id": "ZJ0010", "year": "2026",
                                          "points": "5", "scored": "0"}]
    actions = [e.action for e in store.log_entries()]
    assert actions[-2:] == ["import", "expert_lax"]


def test_a_later_finding_supersedes_the_earlier(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    pid = loop.sampled[0]["project_id"]
    record_findings(store, records("findings", finding(pid, "serious", "数据弄虚作假")), rules=r)
    again = record_findings(store, records("findings", finding(pid)), rules=r)
    assert again["updated"] == 1 and again["version"] == 2
    assert current_findings(store)["conclusion"].tolist() == ["pass"]


@pytest.mark.parametrize(("row", "message"), [
    (finding("NOT-SAMPLED"), "is in no drawn review sample"),
    (finding("{pid}", "general", "不存在的问题"), "is not a problem item of the rules"),
    (finding("{pid}", "pass", "附图附件不全"), "合格 but problem items are listed"),
    (finding("{pid}", "general"), "needs the problem items found"),
    (finding("{pid}", "general", "数据弄虚作假"), "so the conclusion is 严重质量问题"),
    (finding("{pid}", "serious", "附图附件不全"), "needs at least one item of [credit.serious]"),
    (finding("{pid}", "serious", "数据弄虚作假", signed="ZJ9999"), "expert ZJ9999 is not in"),
])
def test_findings_refusals_name_the_row_and_write_nothing(loop: LoopWorld, row, message) -> None:
    store, r = loop.store, loop.rules
    row = {k: v.format(pid=loop.sampled[1]["project_id"]) for k, v in row.items()}
    good = finding(loop.sampled[0]["project_id"])
    with pytest.raises(InputFileError) as exc:
        record_findings(store, records("findings", good, row), file_name="f.csv", rules=r)
    assert message in str(exc.value) and "row 3" in str(exc.value)
    assert store.current_version("findings") == 0
    assert store.conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 0


def test_findings_file_through_the_importer_gbk_and_chinese_headers(loop: LoopWorld,
                                                                    tmp_path: Path) -> None:
    from suiji.data.importers import import_file

    store, r = loop.store, loop.rules
    pid = loop.sampled[0]["project_id"]
    path = tmp_path / "复核结论.csv"
    path.write_bytes(("项目编号,复核结论,问题,复核日期\n"
                      f"{pid},一般质量问题,评价标准引用错误、附图附件不全,2026/12/20\n"
                      f"{pid},合格,,2026-12-21\n").encode("gbk"))
    with pytest.raises(InputFileError) as exc:
        import_file(store, "findings", path, rules=r)
    assert "row 3" in str(exc.value) and "may appear only once" in str(exc.value)
    path.write_bytes(("项目编号,复核结论,问题,复核日期\n"
                      f"{pid},一般质量问题,评价标准引用错误、附图附件不全,2026/12/20\n"
                      ).encode("gbk"))
    out = import_file(store, "findings", path, rules=r)
    assert out["rows"] == 1 and out["points"] == 2
    assert current_findings(store)["reviewed_on"].tolist() == ["2026-12-20"]


def test_a_version_1_database_migrates(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Store.init(path)
    with store.transaction():  # a scores import as version 1 recorded it (no rows logged)
        file_sha, data_sha = "1" * 64, "2" * 64
        import_id = store.record_import("scores", 1, file_name="评分.csv", file_sha256=file_sha,
                                        rows=1, digest=data_sha, inserted=1)
        store.conn.execute("INSERT INTO scores (expert_id, project_id, meeting, score, "
                           "deduction, import_id, recorded_at) VALUES ('E1', 'P1', "
                           "'2026-11-02', 80, 2, ?, 'x')", (import_id,))
        store.append_log("import", details={"kind": "scores", "version": 1, "file": "评分.csv",
                                            "rows": 1, "inserted": 1, "updated": 0,
                                            "removed": 0},
                         digests={"file": file_sha, "data": data_sha})
    conn = store.conn
    conn.execute("DROP TABLE findings")
    conn.execute("DROP TABLE responses")
    conn.execute("ALTER TABLE dir_projects DROP COLUMN lead_author")
    conn.execute("ALTER TABLE dir_projects DROP COLUMN lead_author_reg")
    conn.execute("ALTER TABLE dir_experts DROP COLUMN phone")
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    store.close()
    migrated = Store.open(path)
    assert migrated.conn.execute("SELECT expert_id, party, deduction FROM scores").fetchall() \
        == [("E1", "", 2.0)]
    assert "lead_author_reg" in migrated.read("projects").columns
    assert migrated.log_entries()[-1].action == "migrate"
    report = verify_store(migrated, REGISTRY)
    assert report.ok, report.findings
    assert any("scores recorded before suiji logged the rows" in n for n in report.notes)


def test_empty_late_columns_leave_the_digest_unchanged(store: Store) -> None:
    rows = [{"project_id": "P1", "name": "n", "doc_type": "form", "approved_on": "2026-10-01",
             "agency_uscc": uscc("AG", 0), "developer": "d", "industry": "化工"}]
    base = frame("projects", rows).drop(columns=["lead_author", "lead_author_reg"])
    first = store.replace("projects", base)
    second = store.replace("projects", frame("projects", rows))
    assert second.digest == first.digest and second.updated == 0
    rows[0]["lead_author_reg"] = "HP1"
    third = store.replace("projects", frame("projects", rows))
    assert third.digest != first.digest and third.updated == 1
    assert verify_store(store, REGISTRY).ok


def test_experts_status_names_lax_reviews(loop: LoopWorld) -> None:
    from suiji.data.scores import expert_status

    pids = with_findings(loop)
    status = {x["expert_id"]: x for x in expert_status(loop.store, loop.rules,
                                                        date(2026, 12, 31))}
    assert status["ZJ0010"]["lax"] == [pids[2]] and status["ZJ0010"]["points"] == 5
    assert status["ZJ0011"]["lax"] == []
    assert expert_status(loop.store, loop.rules, date(2027, 1, 5))[9]["lax"] == []
