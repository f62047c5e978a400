"""Credit states, the derived watch-list rule, its freeze and its verification."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from suiji.data.canonical import read_frame_csv
from suiji.data.credit import agency_status, derive_watch_list
from suiji.data.errors import FreezeError, RulesError
from suiji.data.findings import record_findings
from suiji.data.loop_rules import CreditRules
from suiji.data.rules import Rules, parse_rules, preset_text
from suiji.data.snapshot import freeze
from suiji.data.verify import verify_store
from suiji.sampler.reviews import draw_reviews
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.loop import (
    Q1,
    LoopWorld,
    finding,
    loop_world,
    records,
    with_authors,
)
from tests.fixtures.reviews_data import PERIOD, frame, frozen, panel_inputs, rules, uscc


@pytest.fixture
def loop(tmp_path: Path) -> LoopWorld:
    return loop_world(tmp_path)


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
    output = draw_reviews(store, PERIOD, r, "1", weak_seed=True).output
    assert "watch_list" not in output
    assert "lead_author" not in snap.files["projects.csv"].decode().splitlines()[0]
    assert verify_store(store, REGISTRY).ok


def test_derived_watch_list_enters_the_next_sample_frozen(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    hand = uscc("AG", 1)
    target = next(i for i in loop.sampled if i["agency_uscc"] != hand)
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
    output = draw_reviews(store, Q1, r, "5", weak_seed=True).output
    shown = {w["agency_uscc"]: w["reasons"] for w in output["watch_list"]}
    assert shown[other_report_agency] == ["blacklist", "author_listed"]
    assert shown[hand] == ["manual"]
    watched = {s["agency_uscc"] for s in output["strata"] if s["part"] == "watch"}
    with_reports = {p["agency_uscc"] for p in inputs.projects if p["doc_type"] == "report"}
    assert watched == set(reasons) & with_reports and other_report_agency in with_reports
    assert verify_store(store, REGISTRY).ok
    # a finding recorded after the freeze changes the frozen files: the draw is refused
    freeze(store, Q1, "reviews", r)
    later = next(i for i in loop.sampled if i["project_id"] != target["project_id"])
    record_findings(store, records("findings", finding(later["project_id"])), rules=r)
    with pytest.raises(FreezeError, match="findings.csv"):
        draw_reviews(store, Q1, r, "6", redraw=True, reason="test", weak_seed=True)
    status = {a["agency_uscc"]: a for a in agency_status(store, r, Q1)}
    assert status[other_report_agency]["state"] == "blacklist"
    assert status[hand]["hand_set"] and status[hand]["watch"]


def test_verify_catches_edited_findings_and_watch_list(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    pid = loop.sampled[0]["project_id"]
    record_findings(store, records("findings", finding(pid, "general", "附图附件不全")), rules=r)
    snap = freeze(store, Q1, "reviews", r)
    assert verify_store(store, REGISTRY).ok
    store.conn.execute("UPDATE findings SET problems = '' WHERE project_id = ?", (pid,))
    report = verify_store(store, REGISTRY)
    assert any(f.check == "import" and "findings" in f.subject for f in report.findings)
    store.conn.execute("UPDATE findings SET problems = '附图附件不全'")
    from suiji.data.snapshot import Snapshot
    from suiji.data.verify import check_watch_list

    forged = dict(snap.files)
    forged["watch-list.csv"] = b"agency_uscc,reasons,state,points,previous_points,documents,"\
        b"authors\n"
    found = check_watch_list(Snapshot(snap.id, snap.period, snap.scope, snap.digest,
                                      snap.manifest, forged), "s")
    assert found and "watch-list rule" in found[0].problem
    assert not check_watch_list(snap, "s")
