"""Expert panels: eligibility, recusal, loads, alternates, lead time, declines, sealing."""

from __future__ import annotations

import json
import math
import unicodedata
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suiji.cli.main import cli
from suiji.data.draws import current_draw, latest_output, output_bytes
from suiji.data.errors import (
    AlreadyDrawnError,
    FreezeError,
    InfeasibleError,
    LeadTimeError,
    SuijiError,
)
from suiji.data.schema import RECORD_KINDS
from suiji.data.scores import record_scores
from suiji.data.snapshot import Snapshot, freeze
from suiji.data.store import Store
from suiji.sampler.reviews import draw_reviews, review_rows
from suiji.scheduler.algorithms import REGISTRY
from suiji.scheduler.experts import normalize
from suiji.scheduler.panels import compute_decline, compute_panels, decline, draw_panels
from tests.fixtures.reviews_data import PERIOD, Inputs, frozen, panel_inputs, rules, uscc

MEETING = date(2027, 1, 20)
EARLY = date(2027, 1, 13)  # at most review.max_lead_days (7) before MEETING
SEED = "31415926535897932384"


def _norm(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).casefold().split())


def check_panels(snap: Snapshot, out: dict[str, Any], prior: list[list[str]] = ()) -> None:
    """Every rule of DOMAIN.md §3 rule 10, checked independently of scheduler.panels."""
    r = snap.rules.review
    meeting = date.fromisoformat(out["meeting"])
    experts = {e.expert_id: e for e in snap.frame("experts.csv").itertuples(index=False)}
    agencies = {a.uscc: a.name for a in snap.frame("agencies.csv").itertuples(index=False)}
    projects = {p.project_id: p for p in snap.frame("projects.csv").itertuples(index=False)}
    cutoff = meeting.replace(year=meeting.year - r.recusal_years).isoformat()
    employers: dict[str, set[str]] = {e: {_norm(x.employer)} for e, x in experts.items()}
    for h in snap.frame("employment-history.csv").itertuples(index=False):
        if not h.end or h.end >= cutoff:
            employers[h.expert_id].add(_norm(h.employer))
    declared: dict[str, set[str]] = {}
    for c in snap.frame("conflicts.csv").itertuples(index=False):
        if not c.until or c.until >= meeting.isoformat():
            declared.setdefault(c.person, set()).add(_norm(c.counterpart))
    reviewed = {(h.expert_id, h.project_id)
                for h in snap.frame("review-history.csv").itertuples(index=False)}
    reviewed |= {(p[0], p[1]) for p in prior}
    declined = set(out["basis"]["declined_before"]) | {d["expert_id"] for d in out["declines"]}
    load: Counter[str] = Counter()
    for item in out["items"]:
        p = projects[item["project_id"]]
        assert len(item["experts"]) == r.panel_size[p.doc_type]
        assert len(set(item["experts"])) == len(item["experts"])
        assert not set(item["experts"]) & set(item["alternates"])
        assert len(item["alternates"]) <= r.alternates
        ties = {_norm(p.agency_uscc), _norm(agencies.get(p.agency_uscc, "")), _norm(p.developer)}
        ties.discard("")
        for eid in item["experts"] + item["alternates"]:
            e = experts[eid]
            assert e.active == "yes", eid
            assert not e.birth_year or meeting.year - int(e.birth_year) <= r.max_age, eid
            specs = set(e.specialties.replace(";", "、").split("、"))
            assert specs & set(r.specialties_for(p.industry)), (eid, p.industry)
            assert not employers[eid] & ties, (eid, p.project_id, "employer")
            assert not declared.get(eid, set()) & (ties | {_norm(p.project_id)}), (eid, "conflict")
            assert (eid, p.project_id) not in reviewed, (eid, "reviewed")
            assert eid not in declined
        load.update(item["experts"])
    prior_load = Counter(p[0] for p in prior)
    for eid, n in load.items():
        assert n <= r.meeting_load_cap
        assert n + prior_load[eid] <= r.period_load_cap


def _params(docs: list[str], meeting: date = MEETING, drawn_on: date = EARLY,
            prior: list[list[str]] = (), declined: list[str] = ()) -> dict[str, Any]:
    return {"meeting": meeting.isoformat(), "drawn_on": drawn_on.isoformat(),
            "documents": sorted(docs), "prior": [list(p) for p in prior],
            "declined": sorted(declined)}


def _docs(inputs: Inputs) -> list[str]:
    return sorted(p["project_id"] for p in inputs.projects if p["project_id"].startswith("P"))


@pytest.fixture
def world(tmp_path: Path) -> tuple[Store, Snapshot, Inputs]:
    inputs = panel_inputs()
    store, snap, _ = frozen(tmp_path, inputs)
    return store, snap, inputs


# --- the pure draw --------------------------------------------------------------------


def test_panels_obey_every_rule(world: tuple[Store, Snapshot, Inputs]) -> None:
    _, snap, inputs = world
    docs = _docs(inputs)
    seen: Counter[tuple[str, str]] = Counter()
    for seed in range(40):
        out = compute_panels(snap, f"s{seed}", _params(docs))
        check_panels(snap, out)
        assert out["solver"]["status"] == "optimal" and out["solver"]["unique"]
        for item in out["items"]:
            assert len(item["alternates"]) == 2
            seen.update((e, item["project_id"]) for e in item["experts"])
    agency = {p["project_id"]: p["agency_uscc"] for p in inputs.projects}
    # the recused experts are otherwise drawn, so the recusal is what keeps them out
    assert any(e == "ZJ0001" for e, _ in seen)
    assert not any(e == "ZJ0001" and agency[p] == uscc("AG", 0) for e, p in seen)
    assert any(e == "ZJ0002" for e, _ in seen)
    assert not any(e == "ZJ0002" and agency[p] == uscc("AG", 1) for e, p in seen)
    assert any(e == "ZJ0006" for e, _ in seen)
    assert not any(e == "ZJ0006" and agency[p] == uscc("AG", 2) for e, p in seen)
    assert not any(e in ("ZJ0004", "ZJ0005") for e, _ in seen)  # inactive, over age


def test_recusal_counts_are_reported(world: tuple[Store, Snapshot, Inputs]) -> None:
    _, snap, inputs = world
    out = compute_panels(snap, SEED, _params(_docs(inputs)))
    expected = {uscc("AG", 0): {"employer": 1, "conflict": 0},  # ZJ0001 works there
                uscc("AG", 1): {"employer": 1, "conflict": 0},  # ZJ0002 until 2025
                uscc("AG", 2): {"employer": 0, "conflict": 1},  # ZJ0006 declared
                uscc("AG", 3): {"employer": 0, "conflict": 0}}
    for item in out["items"]:
        got = {k: item["recusals"][k] for k in ("employer", "conflict")}
        assert got == expected[item["agency_uscc"]], item["project_id"]
        assert item["recusals"]["reviewed"] == 0


def test_old_employers_and_expired_conflicts_do_not_recuse(tmp_path: Path) -> None:
    inputs = panel_inputs(n_experts=16)
    inputs.history.append({"expert_id": "ZJ0011", "employer": inputs.agencies[0]["name"],
                           "start": "2015-01-01", "end": "2023-12-31"})  # > 3 years before
    inputs.conflicts.append({"person": "ZJ0016", "counterpart": inputs.agencies[0]["uscc"],
                             "reason": "曾任职", "until": "2026-12-31"})  # expired
    _, snap, _ = frozen(tmp_path, inputs)
    out = compute_panels(snap, SEED, _params(_docs(inputs)))
    for item in out["items"]:
        if item["agency_uscc"] == uscc("AG", 0):
            assert item["recusals"]["employer"] == 1  # ZJ0001 only
            assert item["recusals"]["conflict"] == 0


def test_uniform_panels_without_binding_loads(tmp_path: Path) -> None:
    """One 报告表 (2 of the eligible): each eligible expert sits on it with
    frequency 2/eligible over 200 seeds, within 4.5 standard deviations."""
    inputs = panel_inputs(n_experts=12, agency_docs=(1,), watch=())
    _, snap, _ = frozen(tmp_path, inputs)
    docs = _docs(inputs)
    seeds = 200
    counts: Counter[str] = Counter()
    eligible = None
    for s in range(seeds):
        out = compute_panels(snap, f"u{s}", _params(docs))
        item = out["items"][0]
        eligible = item["eligible"]
        counts.update(item["experts"])
    assert eligible and eligible >= 4
    assert len(counts) == eligible
    p = 2 / eligible
    for eid, n in counts.items():
        assert abs(n / seeds - p) <= 4.5 * math.sqrt(p * (1 - p) / seeds), (eid, n)


def test_loads_are_capped_per_meeting_and_period(tmp_path: Path) -> None:
    inputs = panel_inputs(n_experts=30, agency_docs=(3, 3), watch=())
    _, snap, _ = frozen(tmp_path, inputs, rules("meeting_load_cap = 1\nperiod_load_cap = 2"))
    docs = _docs(inputs)
    prior = [["ZJ0006", "X1", "2027-01-05"], ["ZJ0006", "X2", "2027-01-05"],
             ["ZJ0007", "X3", "2027-01-05"]]
    for seed in range(10):
        out = compute_panels(snap, f"l{seed}", _params(docs, prior=prior))
        check_panels(snap, out, prior)
        members = [e for i in out["items"] for e in i["experts"]]
        assert "ZJ0006" not in members  # period load used up by an earlier meeting
        assert max(Counter(members).values()) == 1
        assert out["basis"]["prior_load"] == {"ZJ0006": 2, "ZJ0007": 1}


@pytest.mark.parametrize("caps", ["", "meeting_load_cap = 1\nperiod_load_cap = 2"])
def test_the_guessed_first_solve_gives_the_full_graphs_panels(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caps: str) -> None:
    from suiji.scheduler import panels

    inputs = panel_inputs(n_experts=30, agency_docs=(3, 3), watch=())
    _, snap, _ = frozen(tmp_path, inputs, rules(caps))
    params = _params(_docs(inputs))
    real = panels.assign

    def full(*args: Any, candidates: Any = None, **kwargs: Any) -> Any:
        return real(*args, **kwargs)

    for k in (1, 4):  # a guess of one arc per document forces pricing arcs in
        monkeypatch.setattr(panels, "_GUESS_PER_SEAT", k)
        guessed = [compute_panels(snap, f"g{seed}", params) for seed in range(8)]
        with monkeypatch.context() as m:
            m.setattr(panels, "assign", full)
            plain = [compute_panels(snap, f"g{seed}", params) for seed in range(8)]
        assert [output_bytes(o) for o in guessed] == [output_bytes(o) for o in plain]


def test_alternates_of_all_documents_at_once_equal_one_by_one(tmp_path: Path) -> None:
    import numpy as np

    from suiji.scheduler import panels

    inputs = panel_inputs(n_experts=30, agency_docs=(3, 3), watch=())
    _, snap, _ = frozen(tmp_path, inputs, rules("meeting_load_cap = 2\nperiod_load_cap = 3"))
    p = panels.PanelParams.from_dict(_params(_docs(inputs)))
    r = snap.rules.review
    rng = np.random.default_rng(4)
    for seed in range(6):
        model = panels.build_model(snap, f"a{seed}", p.basis())
        n_d, n_e = model.eligible.shape
        members = {d: set(rng.choice(n_e, size=2, replace=False).tolist()) for d in range(n_d)}
        load = rng.integers(0, 3, size=n_e).astype(np.int64)
        for k in (0, 1, 3, n_e + 5):
            want = [panels._alternates(model, d, members[d], load, k, r) for d in range(n_d)]
            assert panels._first_alternates(model, members, load, k, r) == want


def test_a_document_reviewed_before_recuses_its_reviewers(world: tuple[Store, Snapshot, Inputs]
                                                          ) -> None:
    _, snap, inputs = world
    docs = _docs(inputs)
    first = compute_panels(snap, SEED, _params(docs[:1]))
    prior = [[e, docs[0], "2027-01-05"] for e in first["items"][0]["experts"]]
    for seed in range(10):
        again = compute_panels(snap, f"r{seed}", _params(docs[:1], prior=prior))
        assert not set(again["items"][0]["experts"]) & {p[0] for p in prior}
        assert again["items"][0]["recusals"]["reviewed"] == len(prior)


def test_alternates_are_the_next_eligible_by_pair_cost(world: tuple[Store, Snapshot, Inputs]
                                                       ) -> None:
    from suiji.scheduler.panels import PanelParams, build_model

    _, snap, inputs = world
    docs = _docs(inputs)
    out = compute_panels(snap, SEED, _params(docs))
    model = build_model(snap, SEED, PanelParams.from_dict(_params(docs)).basis())
    ids = model.expert_ids
    load = Counter(e for item in out["items"] for e in item["experts"])
    cap = snap.rules.review.meeting_load_cap
    for d, item in enumerate(out["items"]):
        ranked = [ids[e] for e in model.ranking(d)]
        rest = [e for e in ranked if e not in item["experts"] and load[e] < cap]
        assert item["alternates"] == rest[:2]
    assert any(n == cap for n in load.values())  # the cap does bind in this instance


def test_same_seed_same_bytes_whatever_the_row_order(tmp_path: Path) -> None:
    inputs = panel_inputs()
    _, snap, _ = frozen(tmp_path, inputs, name="a.db")
    shuffled = Inputs(agencies=inputs.agencies[::-1], projects=inputs.projects[::-1],
                      experts=inputs.experts[::-1], history=inputs.history[::-1],
                      conflicts=inputs.conflicts[::-1])
    _, snap2, _ = frozen(tmp_path, shuffled, name="b.db")
    params = _params(_docs(inputs))
    a = output_bytes(compute_panels(snap, SEED, params))
    assert a == output_bytes(compute_panels(snap2, SEED, params))
    assert a != output_bytes(compute_panels(snap, SEED + "1", params))


def test_lead_time_is_enforced_per_document_type(world: tuple[Store, Snapshot, Inputs]) -> None:
    _, snap, inputs = world
    types = {p["project_id"]: p["doc_type"] for p in inputs.projects}
    docs = _docs(inputs)
    reports = [d for d in docs if types[d] == "report"]
    forms = [d for d in docs if types[d] == "form"]
    with pytest.raises(LeadTimeError, match=r"review.lead_days.report = 2") as exc:
        compute_panels(snap, SEED, _params(docs, drawn_on=MEETING - timedelta(days=1)))
    assert reports[0] in str(exc.value) and "--documents" in str(exc.value)
    compute_panels(snap, SEED, _params(reports, drawn_on=MEETING - timedelta(days=2)))
    compute_panels(snap, SEED, _params(forms, drawn_on=MEETING - timedelta(days=1)))
    with pytest.raises(LeadTimeError, match=r"review.lead_days.form = 1"):
        compute_panels(snap, SEED, _params(forms, drawn_on=MEETING))
    with pytest.raises(LeadTimeError, match="after the meeting"):
        compute_panels(snap, SEED, _params(forms, drawn_on=MEETING + timedelta(days=3)))


def test_infeasible_document_is_explained(tmp_path: Path) -> None:
    inputs = panel_inputs()
    inputs.projects[0]["industry"] = "核电"  # -> specialty 环境工程 only (the "*" mapping)
    _, snap, _ = frozen(tmp_path, inputs, rules("max_age = 40"))
    with pytest.raises(InfeasibleError) as exc:
        compute_panels(snap, SEED, _params(_docs(inputs)))
    message = str(exc.value)
    assert "P001" in message and "核电" in message and "环境工程" in message
    assert "over the age limit 40" in message and "Try (1)" in message


def test_joint_infeasibility_names_the_load_caps(tmp_path: Path) -> None:
    inputs = panel_inputs(n_experts=10, agency_docs=(5, 5), watch=())
    _, snap, _ = frozen(tmp_path, inputs, rules("meeting_load_cap = 1"))
    with pytest.raises(InfeasibleError, match="meeting_load_cap = 1"):
        compute_panels(snap, SEED, _params(_docs(inputs)))


# --- hypothesis: recusal is never violated -------------------------------------------


@st.composite
def random_world(draw: st.DrawFn) -> Inputs:
    n_agencies = draw(st.integers(1, 4))
    n_docs = draw(st.integers(1, 6))
    n_experts = draw(st.integers(4, 16))
    specs = ["化工", "环境工程", "水环境", "大气"]
    inputs = Inputs()
    names = [f"机构 {a}" for a in range(n_agencies)]
    developers = [f"建设单位{i}" for i in range(3)]
    for a in range(n_agencies):
        inputs.agencies.append({"uscc": uscc("RW", a), "name": names[a],
                                "watch": "no"})
    for i in range(n_docs):
        inputs.projects.append({
            "project_id": f"P{i:03d}", "name": f"项目{i}",
            "doc_type": draw(st.sampled_from(["report", "form"])),
            "approved_on": "2026-11-02", "agency_uscc": uscc("RW", draw(st.integers(
                0, n_agencies - 1))),
            "developer": draw(st.sampled_from(developers)),
            "industry": draw(st.sampled_from(["化工", "造纸", "其他"]))})
    orgs = names + developers + [uscc("RW", a) for a in range(n_agencies)] + ["研究院"]
    for k in range(n_experts):
        eid = f"E{k:03d}"
        employer = draw(st.sampled_from(orgs))
        # spacing variants must still match
        employer = employer.replace(" ", draw(st.sampled_from([" ", "", "\u3000"])))
        inputs.experts.append({"expert_id": eid, "name": eid,
                               "specialties": "、".join(draw(st.lists(st.sampled_from(specs),
                                                                      min_size=1, max_size=3,
                                                                      unique=True))),
                               "employer": employer, "birth_year": "1975", "active": "yes"})
        if draw(st.booleans()):
            inputs.history.append({"expert_id": eid, "employer": draw(st.sampled_from(orgs)),
                                   "start": "2010-01-01",
                                   "end": draw(st.sampled_from(["", "2022-06-30",
                                                                "2025-01-31"]))})
        if draw(st.booleans()):
            inputs.conflicts.append({"person": eid, "counterpart": draw(st.sampled_from(orgs)),
                                     "reason": "亲属", "until": ""})
    return inputs


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(inputs=random_world(), seed=st.text(min_size=1, max_size=8))
def test_recusal_is_never_violated(tmp_path_factory: pytest.TempPathFactory, inputs: Inputs,
                                   seed: str) -> None:
    path = tmp_path_factory.mktemp("hyp")
    store, snap, _ = frozen(path, inputs)
    try:
        docs = _docs(inputs)
        try:
            out = compute_panels(snap, seed, _params(docs))
        except InfeasibleError as exc:
            assert "document" in str(exc)
            return
        check_panels(snap, out)
    finally:
        store.close()


def test_normalize_ignores_spacing_width_and_case() -> None:
    assert normalize(" 江州\u3000环评 有限公司 ") == normalize("江州环评有限公司")
    assert normalize("（江州）ＡＢＣ") == normalize("(江州)abc")


# --- the recorded draw, declines, sealing -------------------------------------------------


def _sampled(tmp_path: Path, inputs: Inputs | None = None, extra: str = ""
             ) -> tuple[Store, Any, list[str]]:
    inputs = inputs or panel_inputs()
    store, _, r = frozen(tmp_path, inputs, rules(extra))
    sample = draw_reviews(store, PERIOD, r, "27182818284590452353")
    return store, r, [i["project_id"] for i in sample.output["items"]]


def test_draw_panels_defaults_to_the_unpaneled_sample(tmp_path: Path) -> None:
    store, r, sampled = _sampled(tmp_path)
    first = draw_panels(store, PERIOD, r, MEETING, EARLY, sampled[:2], SEED)
    assert first.subject == MEETING.isoformat() and first.params["drawn_on"] == EARLY.isoformat()
    second = draw_panels(store, PERIOD, r, date(2027, 1, 27), date(2027, 1, 20), None, "2",
                         weak_seed=True)
    assert second.params["documents"] == sorted(sampled[2:])
    members = {(e, i["project_id"]) for i in first.output["items"] for e in i["experts"]}
    assert sorted(map(tuple, second.params["prior"])) == sorted(
        (e, p, MEETING.isoformat()) for e, p in members)
    with pytest.raises(SuijiError, match="already has a panel"):
        draw_panels(store, PERIOD, r, date(2027, 2, 3), date(2027, 1, 27), None, "3",
                    weak_seed=True)
    with pytest.raises(SuijiError, match="Not in the review sample"):
        draw_panels(store, PERIOD, r, date(2027, 2, 3), date(2027, 1, 27), ["NOPE"], "3",
                    weak_seed=True)
    with pytest.raises(AlreadyDrawnError, match="decline"):
        draw_panels(store, PERIOD, r, MEETING, EARLY, sampled[:2], SEED)
    # the draw date is in the log entry of the draw
    entry = [e for e in store.log_entries() if e.action == "draw"][-1]
    assert entry.details["params"]["drawn_on"] == "2027-01-20"


def test_draw_panels_needs_a_sample_and_a_fresh_freeze(tmp_path: Path) -> None:
    inputs = panel_inputs()
    store, _, r = frozen(tmp_path, inputs)
    with pytest.raises(SuijiError, match="no review sample"):
        draw_panels(store, PERIOD, r, MEETING, EARLY, None, SEED)
    draw_reviews(store, PERIOD, r, "1", weak_seed=True)
    scores = frame_scores([("ZJ0010", "P001", "2026-12-01", "80", "2")])
    record_scores(store, scores, file_name="s.csv", rules=r, allow_off_panel=True)
    with pytest.raises(FreezeError, match="expert-points.csv") as exc:
        draw_panels(store, PERIOD, r, MEETING, EARLY, None, SEED)
    assert "suiji freeze --period 2026Q4 --scope reviews" in str(exc.value)
    freeze(store, PERIOD, "reviews", r)
    record = draw_panels(store, PERIOD, r, MEETING, EARLY, None, SEED)
    assert record.output["solver"]["unique"]


def frame_scores(rows: list[tuple[str, ...]]) -> pd.DataFrame:
    cols = list(RECORD_KINDS["scores"].column_names)
    return pd.DataFrame([dict(zip(cols, r + ("",) * (len(cols) - len(r)), strict=True))
                         for r in rows], columns=cols, dtype=object)


def test_suspended_experts_are_never_drawn(tmp_path: Path) -> None:
    inputs = panel_inputs(n_experts=30)
    store, before, r = frozen(tmp_path, inputs)
    draw_reviews(store, PERIOD, r, "1", weak_seed=True)
    bad = ["ZJ0010", "ZJ0011", "ZJ0012", "ZJ0013"]
    warned = ["ZJ0015", "ZJ0016"]
    record_scores(store, frame_scores([(e, "P001", "2027-01-05", "60", "20") for e in bad]
                                      + [(e, "P001", "2027-01-05", "70", "12") for e in warned]),
                  rules=r, allow_off_panel=True)
    after = freeze(store, PERIOD, "reviews", r)
    drawn_before: set[str] = set()
    drawn_after: set[str] = set()
    for seed in range(15):
        params = _params(_docs(inputs)[:6])
        for snap, drawn in ((before, drawn_before), (after, drawn_after)):
            out = compute_panels(snap, f"x{seed}", params)
            drawn |= {e for i in out["items"] for e in i["experts"] + i["alternates"]}
    assert drawn_before & set(bad)  # they would be drawn
    assert not drawn_after & set(bad)  # but never while suspended
    assert drawn_after & set(warned)  # a warning alone does not exclude


def test_decline_promotes_the_first_alternate(tmp_path: Path) -> None:
    store, r, sampled = _sampled(tmp_path)
    record = draw_panels(store, PERIOD, r, MEETING, EARLY, None, SEED)
    item = record.output["items"][0]
    expert = item["experts"][0]
    expected = {i["project_id"]: i["alternates"][0] for i in record.output["items"]
                if expert in i["experts"]}
    result = decline(store, MEETING, expert, "出差")
    got = {x["project_id"]: x["replaced_by"] for x in result.replacements}
    assert got == expected
    out = latest_output(store, record)
    assert out["declines"][-1]["reason"] == "出差"
    for i in out["items"]:
        assert expert not in i["experts"] + i["alternates"]
    snap = _snapshot(store, record.snapshot_id)
    check_panels(snap, out)
    # verify: the event is a pure function of the snapshot, seed and previous output
    again = REGISTRY.event(record.algorithm, "decline")(
        snap, record.seed, record.output, {"expert_id": expert, "reason": "出差"})
    assert output_bytes(again) == output_bytes(out)
    row = store.conn.execute("SELECT kind, reason FROM draw_events").fetchone()
    assert tuple(row) == ("decline", "出差")
    with pytest.raises(SuijiError, match="already declined"):
        decline(store, MEETING, expert, "出差")
    with pytest.raises(SuijiError, match="neither on a panel"):
        decline(store, MEETING, "ZJ0004", "病")
    with pytest.raises(SuijiError, match="reason"):
        decline(store, MEETING, item["experts"][1], " ")
    # a redraw of the meeting never brings the declined expert back
    for k in range(5):
        again_rec = draw_panels(store, PERIOD, r, MEETING, EARLY, None, f"re{k}",
                                weak_seed=True, redraw=True, reason="会议改期")
        assert expert in again_rec.params["declined"]
        assert all(expert not in i["experts"] + i["alternates"]
                   for i in again_rec.output["items"])


def test_decline_falls_back_to_the_next_eligible_when_alternates_run_out(tmp_path: Path
                                                                         ) -> None:
    inputs = panel_inputs(agency_docs=(1,), watch=())
    _, snap, _ = frozen(tmp_path, inputs, rules("alternates = 0"))
    out = compute_panels(snap, SEED, _params(_docs(inputs)))
    assert out["items"][0]["alternates"] == []
    after = compute_decline(snap, SEED, out, {"expert_id": out["items"][0]["experts"][0],
                                              "reason": "病"})
    assert after["declines"][0]["replacements"][0]["source"] == "next_eligible"
    check_panels(snap, after)


def _snapshot(store: Store, sid: int) -> Snapshot:
    from suiji.data.snapshot import load_snapshot
    return load_snapshot(store, sid)


def test_review_rows_seal_panels_until_the_meeting(tmp_path: Path) -> None:
    store, r, sampled = _sampled(tmp_path)
    draw_panels(store, PERIOD, r, MEETING, EARLY, sampled[:2], SEED)
    internal = review_rows(store, PERIOD, public=False, today=EARLY)
    public = review_rows(store, PERIOD, public=True, today=MEETING)
    after = review_rows(store, PERIOD, public=True, today=MEETING + timedelta(days=1))
    assert [x["project_id"] for x in internal] == sorted(sampled)
    for rows in (internal, public, after):
        for row in rows:
            assert {"project_id", "agency_uscc", "doc_type", "probability", "ticket",
                    "experts", "alternates", "meeting", "status"} <= set(row)
    paneled = [x for x in internal if x["meeting"]]
    assert len(paneled) == 2 and all(len(x["experts"]) >= 2 for x in paneled)
    assert all(x["experts"] == [] and x["alternates"] == [] and x["sealed"]
               for x in public if x["meeting"])
    assert [x["experts"] for x in after] == [x["experts"] for x in internal]
    assert not any(x["sealed"] for x in after)


# --- commands ----------------------------------------------------------------------------


def test_cli_panels_decline_and_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    from suiji.cli import main as cli_main

    store, r, _ = _sampled(tmp_path)
    db = store.path
    runner = CliRunner()
    (tmp_path / "rules.toml").write_text(r.text, "utf-8")  # with the 2027 calendar
    base = ["--db", db, "--rules", str(tmp_path / "rules.toml"), "draw", "panels", "-p",
            "2026Q4", "--meeting", "2027-01-20", "--seed", SEED]
    monkeypatch.setattr(cli_main, "today", lambda: date(2027, 1, 19))
    res = runner.invoke(cli, [*base, "--json"])
    assert res.exit_code == 1 and "review.lead_days.report = 2" in res.output
    monkeypatch.setattr(cli_main, "today", lambda: date(2027, 1, 10))
    res = runner.invoke(cli, [*base, "--json"])
    assert res.exit_code == 1 and "review.max_lead_days" in res.output
    monkeypatch.setattr(cli_main, "today", lambda: date(2027, 1, 13))
    res = runner.invoke(cli, [*base, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["drawn_on"] == "2027-01-13" and data["solver"]["unique"] is True
    expert = data["items"][0]["experts"][0]
    res = runner.invoke(cli, ["--db", db, "decline", "--meeting", "2027-01-20", "--expert",
                              expert, "--reason", "出差"])
    assert res.exit_code == 0, res.output
    assert "replaced by" in res.stdout
    res = runner.invoke(cli, ["--db", db, "decline", "--meeting", "2027-02-20", "--expert",
                              expert, "--reason", "出差"])
    assert res.exit_code == 1 and "No panels were drawn" in res.output
    res = runner.invoke(cli, ["--db", db, "experts", "status", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    loads = {r["expert_id"]: r["load"] for r in rows}
    out = latest_output(store, current_draw(store, "2026Q4", "panels", "2027-01-20"))
    assert sum(loads.values()) == sum(len(i["experts"]) for i in out["items"])
    assert loads[expert] == 0
    res = runner.invoke(cli, ["--db", db, "experts", "status"])
    assert res.exit_code == 0 and "experts:" in res.stdout
    res = runner.invoke(cli, ["--db", db, "draw", "panels", "-p", "2026Q4", "--meeting",
                              "20 Jan"])
    assert res.exit_code == 2


def test_the_meeting_cap_counts_other_periods_at_the_same_meeting(tmp_path: Path) -> None:
    inputs = panel_inputs(n_experts=30, agency_docs=(2, 2), watch=())
    _, snap, _ = frozen(tmp_path, inputs, rules("meeting_load_cap = 1"))
    busy = [["ZJ0010", "X1", "2027Q1"], ["ZJ0011", "X2", "2027Q1"], ["ZJ0016", "X3", "2027Q1"]]
    params = _params(_docs(inputs))
    params["same_meeting"] = busy
    for seed in range(8):
        out = compute_panels(snap, f"m{seed}", params)
        drawn = {e for i in out["items"] for e in i["experts"] + i["alternates"]}
        assert not drawn & {"ZJ0010", "ZJ0011", "ZJ0016"}
        assert out["basis"]["meeting_load"] == {"ZJ0010": 1, "ZJ0011": 1, "ZJ0016": 1}


def test_a_second_period_at_the_same_meeting_sees_the_first(tmp_path: Path) -> None:
    from suiji.data.period import Period

    store, r, sampled = _sampled(tmp_path)
    first = draw_panels(store, PERIOD, r, MEETING, EARLY, None, SEED)
    q1 = Period(2027, 1)
    inputs = panel_inputs()
    for p in inputs.projects:
        p["project_id"] = "N" + p["project_id"]
        p["approved_on"] = "2027-01-04"
    old = panel_inputs()
    inputs.projects = old.projects + inputs.projects
    inputs.write(store)
    freeze(store, q1, "reviews", r)
    draw_reviews(store, q1, r, "5", weak_seed=True)
    second = draw_panels(store, q1, r, MEETING, EARLY, None, "6", weak_seed=True)
    members = Counter(e for i in first.output["items"] for e in i["experts"])
    assert sorted(map(tuple, second.params["same_meeting"])) == sorted(
        (e, i["project_id"], "2026Q4") for i in first.output["items"] for e in i["experts"])
    both = Counter(e for i in second.output["items"] for e in i["experts"]) + members
    assert max(both.values()) <= r.review.meeting_load_cap
