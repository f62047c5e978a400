"""The EIA review loop: findings, credit points and states, the derived watch list,
four-party scores, the bulletin, notifications and responses (DOMAIN.md §10)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from test_reviews_data import PERIOD, frame, frozen, panel_inputs, rules, uscc

from suiji.data.audit import verify_store
from suiji.data.canonical import read_frame_csv
from suiji.data.credit import agency_status, derive_watch_list
from suiji.data.errors import FreezeError, InputFileError, RulesError
from suiji.data.findings import current_findings, lax_reviews, record_findings
from suiji.data.loop_rules import CreditRules
from suiji.data.period import Period
from suiji.data.rules import Rules, parse_rules, preset_text
from suiji.data.schema import RECORD_KINDS
from suiji.data.scores import expert_results, points_frame, record_scores
from suiji.data.snapshot import freeze
from suiji.data.store import Store
from suiji.reports.bulletin import export_bulletin, export_transfers
from suiji.reports.notify import export_notify
from suiji.sampler.reviews import draw_reviews
from suiji.scheduler.panels import draw_panels
from suiji.scheduler.responses import record_responses

MEETING = date(2026, 12, 15)
Q1 = Period(2027, 1)


def records(kind: str, *rows: dict[str, str]) -> pd.DataFrame:
    cols = list(RECORD_KINDS[kind].column_names)
    return pd.DataFrame([{c: r.get(c, "") for c in cols} for r in rows], columns=cols,
                        dtype=object)


def finding(pid: str, conclusion: str = "pass", problems: str = "", on: str = "2026-12-20",
            signed: str = "") -> dict[str, str]:
    return {"project_id": pid, "conclusion": conclusion, "problems": problems,
            "reviewed_on": on, "signed_off": signed}


def with_authors(inputs_projects: list[dict[str, str]]) -> None:
    for p in inputs_projects:
        n = int(p["project_id"][1:]) if p["project_id"][1:].isdigit() else 0
        p["lead_author"] = f"主持人{p['agency_uscc'][-2:]}{n % 2}"
        p["lead_author_reg"] = f"HP{p['agency_uscc'][-2:]}{n % 2}"


@pytest.fixture
def loop(tmp_path: Path) -> tuple[Store, Rules, dict]:
    """A 2026Q4 sample with lead authors and one meeting's panels (drawn on 2026-12-01)."""
    inputs = panel_inputs()
    with_authors(inputs.projects)
    store, _, r = frozen(tmp_path, inputs)
    sample = draw_reviews(store, PERIOD, r, "1")
    panels = draw_panels(store, PERIOD, r, MEETING, date(2026, 12, 1), None, "2")
    return store, r, {"sample": sample.output, "panels": panels.output}


def sampled(ctx: dict) -> list[dict]:
    return ctx["sample"]["items"]


# --- findings -------------------------------------------------------------------------------


def test_findings_carry_the_rules_points_to_agency_and_author(loop) -> None:
    store, r, ctx = loop
    a, b, c = sampled(ctx)[:3]
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


def test_a_later_finding_supersedes_the_earlier(loop) -> None:
    store, r, ctx = loop
    pid = sampled(ctx)[0]["project_id"]
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
def test_findings_refusals_name_the_row_and_write_nothing(loop, row, message) -> None:
    store, r, ctx = loop
    row = {k: v.format(pid=sampled(ctx)[1]["project_id"]) for k, v in row.items()}
    good = finding(sampled(ctx)[0]["project_id"])
    with pytest.raises(InputFileError) as exc:
        record_findings(store, records("findings", good, row), file_name="f.csv", rules=r)
    assert message in str(exc.value) and "row 3" in str(exc.value)
    assert store.current_version("findings") == 0
    assert store.conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 0


def test_findings_file_through_the_importer_gbk_and_chinese_headers(loop, tmp_path) -> None:
    from suiji.data.importers import import_file

    store, r, ctx = loop
    pid = sampled(ctx)[0]["project_id"]
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


# --- credit states and the watch list -------------------------------------------------------


def test_credit_states_and_thresholds_are_configurable() -> None:
    c = CreditRules()
    assert [c.state(p, 0) for p in (9.5, 10, 19.5, 20)] == ["ok", "rectify", "rectify",
                                                            "blacklist"]
    assert c.state(0, 20) == "blacklist" and c.state(0, 12) == "rectify"
    text = preset_text("default") + "\n[credit]\nrectify_points = 4\nblacklist_points = 8\n"
    r = parse_rules(text)
    assert r.credit.state(4, 0) == "rectify" and r.credit.state(8, 0) == "blacklist"
    with pytest.raises(RulesError, match="rectify_points"):
        parse_rules(preset_text("default") + "\n[credit]\nrectify_points = 30\n")
    with pytest.raises(RulesError, match="credit.bogus"):
        parse_rules(preset_text("default") + "\n[credit]\nbogus = 1\n")
    shenyang = parse_rules(preset_text("shenyang"))
    assert shenyang.credit == CreditRules() and "[credit]" in shenyang.text


def _watch(findings: list[dict[str, str]], projects: list[dict[str, str]],
           agencies: list[dict[str, str]], r: Rules) -> dict[str, str]:
    cols = ["project_id", "period", "reviewed_on", "conclusion", "problems", "points",
            "agency_uscc", "lead_author", "lead_author_reg", "signed_off", "lax_points"]
    f = pd.DataFrame([{c: x.get(c, "") for c in cols} for x in findings], columns=cols,
                     dtype=object)
    out = derive_watch_list(Q1, f, frame("projects", projects), frame("agencies", agencies), r)
    return dict(zip(out["agency_uscc"], out["reasons"], strict=True))


def test_the_watch_list_rule() -> None:
    r = rules()
    A, B, C, D, E = (uscc("AG", i) for i in range(5))
    agencies = [{"uscc": x, "name": x, "watch": "yes" if x == A else "no"}
                for x in (A, B, C, D, E)]
    projects = []
    # C: 41 documents in the four quarters before 2027Q1 by two registered authors: 高产出
    for i in range(41):
        projects.append({"project_id": f"C{i:03d}", "approved_on": "2026-06-01",
                         "agency_uscc": C, "lead_author_reg": f"C-{i % 2}"})
    # E: 41 documents and no registered author: not assessed for 高产出
    for i in range(41):
        projects.append({"project_id": f"E{i:03d}", "approved_on": "2026-06-01",
                         "agency_uscc": E})
    # D: a document whose lead author is on a list (through findings of another agency)
    projects.append({"project_id": "D001", "approved_on": "2027-01-10", "agency_uscc": D,
                     "lead_author_reg": "X-1"})
    findings = [
        {"agency_uscc": B, "reviewed_on": "2026-05-01", "points": "12"},  # 限期整改
        {"agency_uscc": B, "reviewed_on": "2027-01-02", "points": "20"},  # in 2027Q1: no
        {"agency_uscc": D, "reviewed_on": "2025-03-01", "points": "25"},  # two years back
        {"agency_uscc": "OTHER", "lead_author_reg": "X-1", "reviewed_on": "2026-11-01",
         "points": "21"},
    ]
    got = _watch(findings, projects, agencies, r)
    assert got == {A: "manual", B: "rectify", C: "high_output", D: "author_listed",
                   "OTHER": "blacklist"}
    # 40 documents by two authors is 20 each: not above the threshold of 20
    assert C not in _watch(findings, projects[1:], agencies, r)


def test_no_loop_data_means_no_new_frozen_files(tmp_path: Path) -> None:
    store, snap, r = frozen(tmp_path, panel_inputs())
    assert "watch-list.csv" not in snap.files and "findings.csv" not in snap.files
    output = draw_reviews(store, PERIOD, r, "1").output
    assert "watch_list" not in output
    assert "lead_author" not in snap.files["projects.csv"].decode().splitlines()[0]
    assert verify_store(store).ok


def test_derived_watch_list_enters_the_next_sample_frozen(loop) -> None:
    store, r, ctx = loop
    hand = uscc("AG", 1)
    target = next(i for i in sampled(ctx) if i["agency_uscc"] != hand)
    other_report_agency = target["agency_uscc"]
    record_findings(store, records("findings", finding(target["project_id"], "serious",
                                                       "数据弄虚作假;抄袭其他环评文件"),),
                    rules=r)
    inputs = panel_inputs()
    with_authors(inputs.projects)
    for p in inputs.projects:  # the same documents approved again in 2027Q1, new ids
        p["project_id"] = "N" + p["project_id"]
        p["approved_on"] = "2027-02-01"
    projects = store.read("projects")
    store.replace("projects", pd.concat([projects, frame("projects", inputs.projects)]))
    snap = freeze(store, Q1, "reviews", r)
    watch = read_frame_csv(snap.files["watch-list.csv"])
    reasons = dict(zip(watch["agency_uscc"], watch["reasons"], strict=True))
    # blacklisted by 20 points; its lead author too, who also writes its 2027Q1 documents
    assert reasons[other_report_agency] == "blacklist;author_listed"
    assert reasons[hand] == "manual"
    output = draw_reviews(store, Q1, r, "5").output
    shown = {w["agency_uscc"]: w["reasons"] for w in output["watch_list"]}
    assert shown[other_report_agency] == ["blacklist", "author_listed"]
    assert shown[hand] == ["manual"]
    watched = {s["agency_uscc"] for s in output["strata"] if s["part"] == "watch"}
    with_reports = {p["agency_uscc"] for p in inputs.projects if p["doc_type"] == "report"}
    assert watched == set(reasons) & with_reports and other_report_agency in with_reports
    assert verify_store(store).ok
    # a finding recorded after the freeze changes the frozen files: the draw is refused
    freeze(store, Q1, "reviews", r)
    later = next(i for i in sampled(ctx) if i["project_id"] != target["project_id"])
    record_findings(store, records("findings", finding(later["project_id"])), rules=r)
    with pytest.raises(FreezeError, match="findings.csv"):
        draw_reviews(store, Q1, r, "6", redraw=True, reason="test")
    status = {a["agency_uscc"]: a for a in agency_status(store, r, Q1)}
    assert status[other_report_agency]["state"] == "blacklist"
    assert status[hand]["hand_set"] and status[hand]["watch"]


def test_verify_catches_edited_findings_and_watch_list(loop) -> None:
    store, r, ctx = loop
    pid = sampled(ctx)[0]["project_id"]
    record_findings(store, records("findings", finding(pid, "general", "附图附件不全")), rules=r)
    snap = freeze(store, Q1, "reviews", r)
    assert verify_store(store).ok
    store.conn.execute("UPDATE findings SET problems = '' WHERE project_id = ?", (pid,))
    report = verify_store(store)
    assert any(f.check == "import" and "findings" in f.subject for f in report.findings)
    store.conn.execute("UPDATE findings SET problems = '附图附件不全'")
    from suiji.data.audit import check_watch_list
    from suiji.data.snapshot import Snapshot

    forged = dict(snap.files)
    forged["watch-list.csv"] = b"agency_uscc,reasons,state,points,previous_points,documents,"\
        b"authors\n"
    found = check_watch_list(Snapshot(snap.id, snap.period, snap.scope, snap.digest,
                                      snap.manifest, forged), "s")
    assert found and "watch-list rule" in found[0].problem
    assert not check_watch_list(snap, "s")


# --- four-party scores -----------------------------------------------------------------------


def party_rows(expert: str, pid: str, **scores: tuple[str, str]) -> list[dict[str, str]]:
    return [{"expert_id": expert, "project_id": pid, "meeting": MEETING.isoformat(),
             "party": party, "score": s, "deduction": d} for party, (s, d) in scores.items()]


def test_four_parties_score_one_expert(loop) -> None:
    store, r, ctx = loop
    item = ctx["panels"]["items"][0]
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


def test_four_party_refusals(loop) -> None:
    store, r, ctx = loop
    item = ctx["panels"]["items"][0]
    e, pid = item["experts"][0], item["project_id"]
    outsider = next(f"ZJ{k:04d}" for k in range(7, 25)
                    if f"ZJ{k:04d}" not in {x for i in ctx["panels"]["items"]
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


def test_old_score_files_keep_working(loop, tmp_path) -> None:
    from suiji.data.importers import import_file

    store, r, ctx = loop
    path = tmp_path / "s.csv"
    path.write_text("专家编号,项目编号,会议日期,评分,扣分\nZJ0010,P001,2026-11-02,80,2\n",
                    encoding="utf-8")
    out = import_file(store, "scores", path, rules=r)
    assert out["inserted"] == 1 and "not on a drawn panel" in out["warnings"][0]
    assert points_frame(store)["points"].tolist() == ["2"]


def test_a_party_file_with_the_parsers_duplicate_check(loop, tmp_path) -> None:
    from suiji.data.importers import import_file

    store, r, ctx = loop
    item = ctx["panels"]["items"][0]
    e, pid = item["experts"][0], item["project_id"]
    path = tmp_path / "s.csv"
    path.write_text("专家编号,项目编号,会议日期,打分方,评分\n"
                    f"{e},{pid},2026-12-15,审批部门,80\n{e},{pid},2026-12-15,建设单位,85\n"
                    f"{e},{pid},2026-12-15,审批部门,81\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        import_file(store, "scores", path, rules=r, today=date(2026, 12, 16))
    assert "row 4" in str(exc.value) and "may appear only once" in str(exc.value)


# --- bulletin and transfers --------------------------------------------------------------------


def _with_findings(store: Store, r: Rules, ctx: dict) -> list[str]:
    items = sampled(ctx)
    record_findings(store, records(
        "findings", finding(items[0]["project_id"]),
        finding(items[1]["project_id"], "general", "附图附件不全"),
        finding(items[2]["project_id"], "serious", "数据弄虚作假", signed="ZJ0010")), rules=r)
    return [i["project_id"] for i in items[:3]]


def test_bulletin_internal_and_public(loop) -> None:
    store, r, ctx = loop
    pids = _with_findings(store, r, ctx)
    experts = store.read("experts")
    experts.loc[experts["expert_id"] == "ZJ0010", "phone"] = "13912345678"
    store.replace("experts", experts)
    written: dict[str, bytes] = {}
    internal = export_bulletin(store, PERIOD, r, "html", public=False,
                               write=lambda d: written.__setitem__("i", d))
    public = export_bulletin(store, PERIOD, r, "html", public=True,
                             write=lambda d: written.__setitem__("p", d))
    inside, outside = written["i"].decode(), written["p"].decode()
    author = current_findings(store).set_index("project_id").loc[pids[2], "lead_author"]
    assert author in inside and "专家10" in inside and "严重质量问题移交清单" in inside
    assert author not in outside and "专家10" not in outside and "ZJ0010" not in outside
    assert "HP" not in outside and "13912345678" not in inside + outside
    assert internal.details["transfers"] == public.details["transfers"] == 1
    entries = [e for e in store.log_entries() if e.details.get("what") == "bulletin"]
    assert [e.action for e in entries] == ["export", "publish"]
    for fmt in ("xlsx", "docx"):
        export_bulletin(store, PERIOD, r, fmt, public=False,
                        write=lambda d, f=fmt: written.__setitem__(f, d))
        assert zipfile.is_zipfile(io.BytesIO(written[fmt]))
    from docx import Document

    text = "\n".join(c.text for t in Document(io.BytesIO(written["docx"])).tables
                     for row in t.rows for c in row.cells)
    assert pids[2] in text and author in text


def test_transfers_csv_lists_serious_problems(loop) -> None:
    store, r, ctx = loop
    pids = _with_findings(store, r, ctx)
    out: list[bytes] = []
    rendered = export_transfers(store, PERIOD, write=out.append)
    rows = list(csv.DictReader(io.StringIO(out[0].decode("utf-8-sig"))))
    assert rendered.rows == 1 and [x["项目编号"] for x in rows] == [pids[2]]
    assert rows[0]["建设单位"] and rows[0]["严重质量问题"] == "数据弄虚作假"
    assert store.log_entries()[-1].details["what"] == "transfers"


# --- notifications and responses ---------------------------------------------------------------


def test_notify_lists_members_with_phones_and_logs_no_phone(loop) -> None:
    store, r, ctx = loop
    members = sorted({e for i in ctx["panels"]["items"] for e in i["experts"]})
    experts = store.read("experts")
    experts.loc[experts["expert_id"] == members[0], "phone"] = "13912345678"
    store.replace("experts", experts)
    snap = freeze(store, Q1, "reviews", r)
    assert b"13912345678" not in snap.files["experts.csv"]  # sealed: never frozen
    out: list[bytes] = []
    rendered = export_notify(store, MEETING, "json", write=out.append)
    rows = json.loads(out[0])
    assert [x["expert_id"] for x in rows] == members
    assert rows[0]["phone"] == "13912345678" and rows[0]["answer_by"] == "2026-12-14 12:00"
    assert rendered.details["without_phone"] == members[1:]
    entry = store.log_entries()[-1]
    assert entry.action == "export" and "13912345678" not in json.dumps(entry.details)
    from suiji.data.errors import SuijiError

    with pytest.raises(SuijiError, match="not before the meeting"):
        export_notify(store, MEETING, "csv", write=out.append, answer_by="2026-12-15 09:00")
    with pytest.raises(SuijiError, match="No panels were drawn"):
        export_notify(store, date(2026, 12, 20), "csv", write=out.append)


def test_responses_apply_declines_and_list_who_to_call(loop) -> None:
    store, r, ctx = loop
    members = sorted({e for i in ctx["panels"]["items"] for e in i["experts"]})
    export_notify(store, MEETING, "csv", write=lambda d: None)
    frame_ = records("responses",
                     {"expert_id": members[0], "meeting": "2026-12-15", "answer": "accept"},
                     {"expert_id": members[1], "meeting": "2026-12-15", "answer": "decline",
                      "reason": "出差"},
                     {"expert_id": members[2], "meeting": "2026-12-15",
                      "answer": "no_answer"})
    result = record_responses(store, frame_, today=date(2026, 12, 15))
    assert [d["expert_id"] for d in result.declined] == [members[1]]
    events = store.conn.execute("SELECT kind, params FROM draw_events").fetchall()
    assert events[-1][0] == "decline" and members[1] in events[-1][1]
    calls = {(c["expert_id"], c["why"]) for c in result.call_by_hand}
    assert (members[2], "no_answer") in calls
    # past the deadline, members without any answer are called too: everyone on the final
    # panels (the replacement included) but the three who answered
    from suiji.data.draws import latest_output
    from suiji.scheduler.panels import find_panel_draw

    final = {e for i in latest_output(store, find_panel_draw(store, MEETING))["items"]
             for e in i["experts"]}
    replacement = result.declined[0]["replacements"][0]["replaced_by"]
    assert replacement in final and members[1] not in final
    assert {e for e, why in calls if why == "past_deadline"} == final - set(members[:3])
    assert verify_store(store).ok


def test_responses_refusals_write_nothing(loop) -> None:
    store, r, ctx = loop
    members = sorted({e for i in ctx["panels"]["items"] for e in i["experts"]})
    bad = records("responses",
                  {"expert_id": members[0], "meeting": "2026-12-15", "answer": "decline"},
                  {"expert_id": "ZJ0999", "meeting": "2026-12-15", "answer": "accept"},
                  {"expert_id": members[1], "meeting": "2026-12-20", "answer": "accept"})
    with pytest.raises(InputFileError) as exc:
        record_responses(store, bad, today=date(2026, 12, 15), file_name="r.csv")
    text = str(exc.value)
    assert "row 2, column reason" in text and "row 3, column expert_id" in text
    assert "row 4, column meeting" in text
    assert store.conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0
    assert store.conn.execute("SELECT COUNT(*) FROM draw_events").fetchone()[0] == 0


# --- the store ---------------------------------------------------------------------------------


def test_a_version_1_database_migrates(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Store.init(path)
    with store.transaction():
        store.conn.execute("INSERT INTO scores (expert_id, project_id, meeting, score, "
                           "deduction, recorded_at) VALUES ('E1', 'P1', '2026-11-02', 80, 2, "
                           "'x')")
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
    assert verify_store(migrated).ok


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
    assert verify_store(store).ok


def test_bulletin_experts_handled(loop) -> None:
    from suiji.reports.bulletin import bulletin_tables

    store, r, ctx = loop
    _with_findings(store, r, ctx)
    item = ctx["panels"]["items"][0]
    rows = party_rows(item["experts"][0], item["project_id"], approval=("70", "4"))
    record_scores(store, records("scores", *rows), rules=r, today=date(2026, 12, 16))
    internal = {t.name: t for t in bulletin_tables(store, PERIOD, r, public=False)}
    handled = {x["expert_id"]: x for x in internal["experts"].rows}
    assert handled["ZJ0010"]["lax_points"] == 5 and handled["ZJ0010"]["lax"] == [
        sampled(ctx)[2]["project_id"]]
    assert handled[item["experts"][0]]["deduction"] == 4
    public = {t.name: t for t in bulletin_tables(store, PERIOD, r, public=True)}
    counts = {x["what"]: x["experts"] for x in public["experts"].rows}
    assert counts["把关不严"] == 1 and counts["评审扣分"] == 1
    assert "lead_author" not in {c.key for c in public["problems"].columns}
