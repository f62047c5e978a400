"""The EIA technical-review sample: quotas, strata, exact probabilities, the recorded draw."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import consistent_sampler
import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.draws import current_draw, output_bytes
from suiji.data.errors import AlreadyDrawnError, FreezeError, SuijiError
from suiji.data.snapshot import freeze
from suiji.data.verify import verify_store
from suiji.sampler.reviews import (
    Stratum,
    allocate,
    build_strata,
    compute_sample,
    draw_reviews,
    population,
    stated_probabilities,
)
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.clock import Calendar
from tests.fixtures.reviews_data import PERIOD, Inputs, frozen, rules, sample_inputs

SEED = "27182818284590452353"


def _by_agency(output: dict) -> Counter[str]:
    return Counter(i["agency_uscc"] for i in output["items"])


@pytest.mark.parametrize("agency_docs,watch", [((5, 3, 1, 6, 2), (3,)), ((1, 1, 1, 1), ()),
                                               ((12, 2, 9), (0, 2)), ((30,), ())])
def test_sample_meets_the_ratio_every_agency_and_the_watch_list(
        tmp_path: Path, agency_docs: tuple[int, ...], watch: tuple[int, ...]) -> None:
    inputs = sample_inputs(agency_docs=agency_docs, watch=watch)
    _, snap, _ = frozen(tmp_path, inputs)
    for seed in ("1", "2", SEED):
        out = compute_sample(snap, seed, {})
        n_approved = sum(agency_docs)
        assert out["summary"]["approved"] == n_approved
        assert len(out["items"]) >= math.ceil(0.3 * n_approved)
        assert len(out["items"]) == out["summary"]["sampled"]
        agencies = {p["agency_uscc"] for p in inputs.projects if p["project_id"][0] == "P"}
        assert set(_by_agency(out)) == agencies  # every agency at least one
        watch_usccs = {a["uscc"] for a in inputs.agencies if a["watch"] == "yes"}
        watch_reports = {p["project_id"] for p in inputs.projects
                         if p["agency_uscc"] in watch_usccs and p["doc_type"] == "report"
                         and p["project_id"][0] == "P"}
        chosen = {i["project_id"] for i in out["items"]}
        assert watch_reports <= chosen  # watch_report_rate 1.0
        assert not any(pid.startswith("Q") for pid in chosen)  # approved outside 2026Q4
        assert len(chosen) == len(out["items"])


def test_probabilities_are_stated_for_every_document_and_add_up(tmp_path: Path) -> None:
    _, snap, _ = frozen(tmp_path, sample_inputs())
    out = compute_sample(snap, SEED, {})
    probs = stated_probabilities(out)
    assert set(probs) == {f"P{i:03d}" for i in range(1, 18)}
    assert sum(probs.values()) == pytest.approx(len(out["items"]), abs=1e-6)
    for s in out["strata"]:
        members = [d for d in out["documents"] if d["stratum"] == s["stratum"]]
        assert len(members) == s["documents"]
        assert sum(d["probability"] for d in members) == pytest.approx(s["allocated"], abs=1e-8)
        assert sum(d["selected"] for d in members) == s["allocated"]
    for item in out["items"]:
        assert item["probability"] == probs[item["project_id"]] > 0


def test_high_risk_documents_are_weighted_up(tmp_path: Path) -> None:
    # one agency of 10 documents: 2 chemical (high-risk), 8 food processing
    inputs = sample_inputs(agency_docs=(10,), watch=(), high_risk_every=5)
    _, snap, _ = frozen(tmp_path, inputs)
    out = compute_sample(snap, SEED, {})
    docs = {d["project_id"]: d for d in out["documents"]}
    high = [p["project_id"] for p in inputs.projects if p["industry"] == "化工"
            and p["project_id"][0] == "P"]
    low = [p["project_id"] for p in inputs.projects if p["industry"] != "化工"
           and p["project_id"][0] == "P"]
    # n = 3 of weight 2*2 + 8 = 12: pi = 3*2/12 = 0.5 and 3*1/12 = 0.25
    assert {docs[h]["probability"] for h in high} == {0.5}
    assert {docs[x]["probability"] for x in low} == {0.25}
    assert out["strata"][0]["method"] == "pps"


def test_an_unweighted_stratum_is_what_consistent_sampler_draws(tmp_path: Path) -> None:
    inputs = sample_inputs(agency_docs=(9, 7), watch=(), high_risk_every=1000)
    _, snap, _ = frozen(tmp_path, inputs)
    for seed in ("1", "77", SEED):
        out = compute_sample(snap, seed, {})
        for s in out["strata"]:
            assert s["method"] == "srs"
            ids = sorted(d["project_id"] for d in out["documents"]
                         if d["stratum"] == s["stratum"])
            expected = list(consistent_sampler.sampler(ids, seed=seed, take=s["allocated"],
                                                       with_replacement=False, output="id"))
            got = [i["project_id"] for i in out["items"] if i["stratum"] == s["stratum"]]
            assert sorted(got) == sorted(expected)


def test_watch_rate_below_one_takes_a_simple_random_share(tmp_path: Path) -> None:
    inputs = sample_inputs(agency_docs=(15, 2), watch=(0,), reports_every=2)
    _, snap, _ = frozen(tmp_path, inputs, rules("watch_report_rate = 0.5"))
    out = compute_sample(snap, SEED, {})
    watch = next(s for s in out["strata"] if s["part"] == "watch")
    assert watch["documents"] == 7 and watch["floor"] == 4  # ceil(0.5 * 7)
    assert watch["method"] == "srs" and watch["allocated"] >= 4
    for d in out["documents"]:
        if d["stratum"] == watch["stratum"]:
            assert d["probability"] == watch["allocated"] / 7


def test_webster_allocation_is_proportional_with_floors() -> None:
    def stratum(key: str, n: int, floor: int = 1) -> Stratum:
        from fractions import Fraction
        return Stratum(key, key, "rest", tuple(f"{key}{i}" for i in range(n)),
                       (Fraction(1),) * n, floor)

    strata = [stratum("a", 50), stratum("b", 30), stratum("c", 20), stratum("d", 1)]
    assert allocate(strata, 11) == [5, 3, 2, 1]  # the floors, then 50:30:20
    assert allocate(strata, 4) == [1, 1, 1, 1]
    assert sum(allocate(strata, 101)) == 101
    with pytest.raises(ValueError):
        allocate(strata, 102)


def test_same_seed_same_bytes_whatever_the_row_order(tmp_path: Path) -> None:
    inputs = sample_inputs(agency_docs=(5, 3, 1, 6, 2, 4), watch=(3, 5))
    _, snap, _ = frozen(tmp_path, inputs, name="a.db")
    shuffled = Inputs(agencies=list(reversed(inputs.agencies)),
                      projects=random.Random(3).sample(inputs.projects, len(inputs.projects)))
    _, snap2, _ = frozen(tmp_path, shuffled, name="b.db")
    a = output_bytes(compute_sample(snap, SEED, {}))
    assert a == output_bytes(compute_sample(snap, SEED, {}))
    assert a == output_bytes(compute_sample(snap2, SEED, {}))
    assert a != output_bytes(compute_sample(snap, SEED + "0", {}))


def test_fairness_over_seeds(tmp_path: Path) -> None:
    """Each document's empirical inclusion frequency over 600 seeds is within
    4.5 binomial standard deviations (+1e-9) of its stated probability."""
    inputs = sample_inputs(agency_docs=(6, 3, 1, 5, 2), watch=(3,), high_risk_every=3)
    _, snap, _ = frozen(tmp_path, inputs)
    seeds = 600
    hits: Counter[str] = Counter()
    probs = stated_probabilities(compute_sample(snap, "0", {}))
    for s in range(seeds):
        out = compute_sample(snap, f"fair-{s}", {})
        assert stated_probabilities(out) == probs  # the design does not depend on the seed
        hits.update(i["project_id"] for i in out["items"])
    assert any(0 < p < 1 for p in probs.values())
    for pid, p in probs.items():
        tolerance = 4.5 * math.sqrt(p * (1 - p) / seeds) + 1e-9
        assert abs(hits[pid] / seeds - p) <= tolerance, (pid, hits[pid] / seeds, p)


def test_population_ignores_other_quarters(tmp_path: Path) -> None:
    _, snap, _ = frozen(tmp_path, sample_inputs(outside_period=4))
    docs = population(snap)
    assert len(docs) == 17 and all(docs["project_id"].str.startswith("P"))
    strata = build_strata(docs, snap.rules.review)
    assert sum(s.size for s in strata) == 17


# --- the recorded draw --------------------------------------------------------------------


def test_draw_is_recorded_once_and_reproducible(tmp_path: Path) -> None:
    store, snap, r = frozen(tmp_path, sample_inputs())
    record = draw_reviews(store, PERIOD, r, SEED)
    assert record.seed_source == "user" and record.subject == ""
    again = REGISTRY.draw(record.algorithm)(snap, record.seed, record.params)
    assert output_bytes(again) == output_bytes(record.output)
    with pytest.raises(AlreadyDrawnError, match="--redraw"):
        draw_reviews(store, PERIOD, r, "99", weak_seed=True)
    with pytest.raises(SuijiError, match="reason"):
        draw_reviews(store, PERIOD, r, "99", redraw=True)
    second = draw_reviews(store, PERIOD, r, "99", redraw=True, reason="种子录入错误",
                          weak_seed=True)
    statuses = [row[0] for row in store.conn.execute(
        "SELECT status FROM draws WHERE scope = 'reviews' ORDER BY id")]
    assert statuses == ["superseded", "current"] and second.reason == "种子录入错误"
    os_seeded = draw_reviews(store, PERIOD, r, None, redraw=True, reason="x")
    assert os_seeded.seed_source == "os" and len(os_seeded.seed) == 20


def test_draw_refused_without_freeze_or_after_a_change(tmp_path: Path) -> None:
    inputs = sample_inputs()
    store = inputs.store(tmp_path / "t.db")
    r = rules()
    with pytest.raises(FreezeError, match="suiji freeze --period 2026Q4 --scope reviews"):
        draw_reviews(store, PERIOD, r, SEED)
    freeze(store, PERIOD, "reviews", r)
    inputs.projects.pop()
    inputs.write(store)
    log_before = len(store.log_entries())
    with pytest.raises(FreezeError, match="projects.csv"):
        draw_reviews(store, PERIOD, r, SEED)
    assert store.conn.execute("SELECT COUNT(*) FROM draws").fetchone()[0] == 0
    assert len(store.log_entries()) == log_before


def test_an_empty_quarter_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    inputs = sample_inputs(agency_docs=(), outside_period=3)
    store, _, r = frozen(tmp_path, inputs)
    log_before = len(store.log_entries())
    with pytest.raises(SuijiError, match="No EIA documents were approved in 2026Q4"):
        draw_reviews(store, PERIOD, r, SEED)
    assert store.conn.execute("SELECT COUNT(*) FROM draws").fetchone()[0] == 0
    assert len(store.log_entries()) == log_before


# --- the command --------------------------------------------------------------------------


def test_cli_draw_reviews(tmp_path: Path, calendar: Calendar) -> None:
    store, _, r = frozen(tmp_path, sample_inputs())
    (tmp_path / "rules.toml").write_text(r.text, "utf-8")  # the frozen rules, as a file
    db = store.path
    runner = CliRunner()
    base = ["--db", db, "--rules", str(tmp_path / "rules.toml")]
    # 2026-12-01, before the quarter closes: only with --before-close, and marked so
    res = runner.invoke(cli, [*base, "draw", "reviews", "-p", "2026Q4", "--seed", SEED])
    assert res.exit_code == 1 and "ends on 2026-12-31" in res.output
    assert "--before-close" in res.output
    res = runner.invoke(cli, [*base, "draw", "reviews", "-p", "2026Q4", "--seed", SEED,
                              "--before-close"])
    assert res.exit_code == 0 and "Review sample of 2026Q4" in res.stdout
    assert "Drawn before the quarter closed (on 2026-12-01, --before-close)" in res.stdout
    record = current_draw(store, "2026Q4", "reviews")
    assert record is not None
    assert record.params == {"drawn_on": "2026-12-01", "before_close": True}
    assert verify_store(store, REGISTRY).ok
    calendar.on("2026-12-02")
    res = runner.invoke(cli, ["--db", db, "export", "reviews", "-p", "2026Q4", "--format",
                              "html", "--public"])
    assert "本抽查于季度结束前（2026-12-01）抽取" in res.stdout
    # after the close: a second sample needs --redraw --reason
    calendar.on("2027-01-04")
    res = runner.invoke(cli, [*base, "draw", "reviews", "-p", "2026Q4", "--seed", "1",
                              "--weak-seed"])
    assert res.exit_code == 1 and "already drawn" in res.output
    res = runner.invoke(cli, [*base, "draw", "reviews", "-p", "2026Q4", "--seed", SEED,
                              "--redraw", "--reason", "测试", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["seed"] == SEED and data["summary"]["approved"] == 17
    assert data["before_close"] is False
    assert {"project_id", "agency_uscc", "doc_type", "probability", "ticket"} <= set(
        data["items"][0])
    record = current_draw(store, "2026Q4", "reviews")
    assert record is not None and record.params == {"drawn_on": "2027-01-04",
                                                    "before_close": False}
    assert verify_store(store, REGISTRY).ok
    res = runner.invoke(cli, [*base, "draw", "reviews", "-p", "2026Q9"])
    assert res.exit_code == 2
