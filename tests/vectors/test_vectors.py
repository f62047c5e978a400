"""The test vectors of ALGORITHM.md ("Conformance") are what suiji computes, byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.vectors import generate

HERE = Path(__file__).resolve().parent

FILES = sorted(p.name for p in HERE.glob("*.json"))
EXPECTED = generate.vectors()


def test_every_vector_file_is_generated() -> None:
    assert sorted(EXPECTED) == FILES, "run python tests/vectors/generate.py"


@pytest.mark.parametrize("name", FILES)
def test_vector_regenerates_byte_for_byte(name: str) -> None:
    assert (HERE / name).read_text("utf-8") == EXPECTED[name]


@pytest.mark.parametrize("name", FILES)
def test_vector_digests(name: str) -> None:
    doc = json.loads((HERE / name).read_text("utf-8"))
    assert doc["format"] == generate.FORMAT
    files = {n: t.encode("utf-8") for n, t in doc["files"].items()}
    for n, entry in doc["manifest"]["files"].items():
        assert hashlib.sha256(files[n]).hexdigest() == entry["sha256"]
        assert len(files[n]) == entry["bytes"]
    body = json.dumps(doc["manifest"], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(body.encode("utf-8")).hexdigest() == doc["snapshot"]
    if "refused" in doc["draw"]:
        assert not doc["events"] and "output" not in doc["draw"]
    for expected in [doc["draw"], *doc["events"]]:
        if "refused" in expected:
            continue
        text = expected["output"]
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == expected["output_sha256"]
        out = json.loads(text)
        assert json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":")) == text
        assert out["seed"] == doc["draw"]["seed"] and out["snapshot"] == doc["snapshot"]


def test_vectors_cover_every_algorithm_and_event() -> None:
    docs = [json.loads((HERE / n).read_text("utf-8")) for n in FILES]
    algorithms = {d["draw"]["algorithm"] for d in docs if "refused" not in d["draw"]}
    events = {e["kind"] for d in docs for e in d["events"] if "refused" not in e}
    covers = {c for d in docs for c in d["covers"]}
    assert algorithms == {"suiji-inspections/1", "suiji-inspections/2", "suiji-inspections/3",
                          "suiji-reviews/1", "suiji-panels/1", "suiji-panels/2"}
    assert events == {"substitution", "decline"}
    assert {"firm SRS", "PPS", "district minimum", "per-inspector quota", "annual_all quota",
            "dates", "teams", "repair", "substitution", "review sample", "panels",
            "alternates", "decline", "date search", "refusal"} <= covers


@pytest.mark.parametrize("name", FILES)
def test_verification_recomputes_every_vector(name: str) -> None:
    """What `suiji verify` runs for the recorded id (the registry) gives the same bytes."""
    from suiji.data.errors import SuijiError
    from suiji.data.store import canonical_json
    from suiji.scheduler.algorithms import REGISTRY

    doc = json.loads((HERE / name).read_text("utf-8"))
    draw = doc["draw"]
    snap = generate.snapshot_of(doc["period"], doc["scope"], doc["files"])
    compute = REGISTRY.draw(draw["algorithm"])
    if "refused" in draw:
        with pytest.raises(SuijiError):
            compute(snap, draw["seed"], dict(draw["params"]))
        return
    out = compute(snap, draw["seed"], dict(draw["params"]))
    assert canonical_json(out) == draw["output"]
    for event in doc["events"]:
        if "refused" in event:
            continue
        out = REGISTRY.event(draw["algorithm"], event["kind"])(snap, draw["seed"], out,
                                                                 dict(event["params"]))
        assert canonical_json(out) == event["output"]


def test_repair_vector_reaches_the_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 'repair' vector is one where the first dates leave firms short (step 5 runs)."""
    import suiji.scheduler.plan as plan

    seen = []
    original = plan.schedule

    def spy(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)
        seen.append(result.stats)
        return result

    monkeypatch.setattr(plan, "schedule", spy)
    v = generate.inspections_repair()
    plan.compute_plan(generate.snapshot_of(v.period, v.scope, v.files), v.seed, {})
    assert seen[0].rounds > 1 and seen[0].moved >= 2
    assert seen[0].method == "min-cost-flow"
