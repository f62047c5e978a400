"""The one recorded-draw path and verification keyed by the algorithm id stored with a draw."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data import draws
from suiji.data.bundle import verify_bundle, write_bundle
from suiji.data.errors import UsageError
from suiji.data.progress import Progress
from suiji.data.snapshot import Snapshot
from suiji.data.store import Store
from suiji.data.verify import Algorithm, Registry, UnknownAlgorithmError, verify_store
from suiji.sampler import reviews
from suiji.scheduler import panels, plan
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.audit_world import RULES, SEED, WORLD_REGISTRY, P, World
from tests.fixtures.real_world import build_real

ROOT = Path(__file__).resolve().parents[2]
DRAW_MODULES = (ROOT / "scheduler" / "plan.py", ROOT / "sampler" / "reviews.py",
                ROOT / "scheduler" / "panels.py")


# --- one path ----------------------------------------------------------------------------

def test_every_draw_and_event_goes_through_run_draw_and_run_event(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str, Any]] = []

    def spy_draw(*args: Any, **kwargs: Any) -> draws.DrawRecord:
        record = draws.run_draw(*args, **kwargs)
        calls.append(("draw", record.algorithm, kwargs["compute"]))  # the id recorded
        return record

    def spy_event(*args: Any, **kwargs: Any) -> draws.EventRecord:
        calls.append(("event", kwargs["kind"], kwargs["compute"]))
        return draws.run_event(*args, **kwargs)

    for module in (plan, reviews, panels):
        monkeypatch.setattr(module, "run_draw", spy_draw)
        if hasattr(module, "run_event"):
            monkeypatch.setattr(module, "run_event", spy_event)
    build_real(store)  # plan, substitution, review sample, panels, decline
    assert calls == [
        ("draw", "suiji-inspections/2", plan.compute_plan_v3),
        ("event", "substitution", plan.compute_substitution_v2),
        ("draw", "suiji-reviews/1", reviews.compute_sample),
        ("draw", "suiji-panels/2", panels.compute_panels_v2),
        ("event", "decline", panels.compute_decline),
    ]
    # what each draw ran is what verification recomputes it with: a /2 plan (no date
    # search) by the /2 path, which differs from compute_plan_v3 only where the search runs
    assert REGISTRY.draw("suiji-inspections/3") is plan.compute_plan_v3
    assert REGISTRY.event("suiji-inspections/3", "suiji-substitution/2") \
        is plan.compute_substitution_v2
    assert REGISTRY.draw("suiji-inspections/2") is plan.compute_plan_v2
    assert REGISTRY.event("suiji-inspections/2", "suiji-substitution/2") \
        is plan.compute_substitution_v2
    assert REGISTRY.draw("suiji-inspections/1") is plan.compute_plan  # old plans still verify
    # substitutions recorded before event versions verify with /1, on either plan
    assert REGISTRY.event("suiji-inspections/1", "substitution") is plan.compute_substitution
    assert REGISTRY.event("suiji-inspections/2", "substitution") is plan.compute_substitution
    assert REGISTRY.event("suiji-inspections/1", "suiji-substitution/2") \
        is plan.compute_substitution_v2
    assert REGISTRY.draw("suiji-reviews/1") is reviews.compute_sample
    assert REGISTRY.draw("suiji-panels/2") is panels.compute_panels_v2
    assert REGISTRY.event("suiji-panels/2", "decline") is panels.compute_decline
    assert REGISTRY.draw("suiji-panels/1") is panels.compute_panels  # old panels still verify
    assert REGISTRY.event("suiji-panels/1", "decline") is panels.compute_decline
    assert verify_store(store, REGISTRY).ok


@pytest.mark.parametrize("path", DRAW_MODULES, ids=lambda p: p.name)
def test_draw_modules_neither_run_sql_nor_open_transactions(path: Path) -> None:
    forbidden_calls = {"execute", "executemany", "transaction"}
    forbidden_names = {"latest_snapshot", "load_snapshot", "check_unchanged", "record_draw",
                       "record_event", "refuse_if_drawn", "resolve_seed"}
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in forbidden_calls:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            found += [f"line {node.lineno}: imports {a.name}" for a in node.names
                      if a.name in forbidden_names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                node.value.lstrip().upper().startswith(("SELECT ", "INSERT ", "UPDATE ")):
            found.append(f"line {node.lineno}: SQL {node.value[:30]!r}")
    assert not found, f"{path.name} must leave the record to suiji.data.draws: {found}"


def test_run_draw_refuses_a_redraw_without_a_reason_as_a_usage_mistake(world: World) -> None:
    with pytest.raises(UsageError, match="needs a reason") as info:
        reviews.draw_reviews(world.store, P, RULES, "1", redraw=True, reason="  ")
    assert info.value.exit_code == 2


def test_run_event_refuses_an_event_without_a_reason(world: World) -> None:
    assert world.meeting is not None
    before = world.store.conn.execute("SELECT COUNT(*) FROM draw_events").fetchone()[0]
    with pytest.raises(UsageError, match=r"A decline needs a reason.*出差"):
        panels.decline(world.store, world.meeting, "E001", " ")
    assert world.store.conn.execute("SELECT COUNT(*) FROM draw_events").fetchone()[0] == before


def test_run_draw_passes_progress_and_params_to_the_pure_compute(world: World) -> None:
    seen: dict[str, Any] = {}

    def compute(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
                progress: Progress | None = None) -> dict[str, Any]:
        seen.update(period=snapshot.period, seed=seed, params=params, progress=progress)
        return {"algorithm": "test-plan/1", "items": []}

    progress = Progress("test", force=False)
    record = draws.run_draw(world.store, period=P, scope="inspections", rules=RULES,
                            algorithm="test-plan/1", compute=compute,
                            params=lambda store, snap: {"n": snap.id}, seed="42",
                            redraw=True, reason="test", progress=progress, weak_seed=True)
    assert seen == {"period": str(P), "seed": "42", "params": {"n": record.snapshot_id},
                    "progress": progress}
    assert record.params == {"n": record.snapshot_id} and record.reason == "test"


def test_the_record_a_draw_returns_is_the_row_it_stored(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """record_draw keeps the output in memory: it must equal the stored row decoded."""
    returned: list[draws.DrawRecord] = []

    def keep(*args: Any, **kwargs: Any) -> draws.DrawRecord:
        returned.append(draws.run_draw(*args, **kwargs))
        return returned[-1]

    for module in (plan, reviews, panels):
        monkeypatch.setattr(module, "run_draw", keep)
    build_real(store)  # plan, review sample, panels
    assert [r.algorithm for r in returned] == ["suiji-inspections/2", "suiji-reviews/1",
                                               "suiji-panels/2"]
    for record in returned:
        stored = next(d for d in draws.all_draws(store) if d.id == record.id)
        assert record == stored
        assert draws.canonical_json(record.output) == draws.canonical_json(stored.output)
        assert repr(record.output) == repr(stored.output)  # the same key order and types
        assert draws.output_bytes(record.output) == draws.stored_output(store, record.id) \
            .encode("utf-8")


# --- verification by algorithm id ----------------------------------------------------------

def test_registry_refuses_unknown_ids_and_kinds_by_name() -> None:
    with pytest.raises(UnknownAlgorithmError, match="'suiji-inspections/9'.*suiji-panels/1"):
        REGISTRY.draw("suiji-inspections/9")
    with pytest.raises(UnknownAlgorithmError, match="'decline'.*'suiji-reviews/1'"):
        REGISTRY.event("suiji-reviews/1", "decline")
    with pytest.raises(ValueError, match="registered twice"):
        Registry((*REGISTRY.algorithms, Algorithm("suiji-reviews/1", reviews.compute_sample)))
    with pytest.raises(ValueError, match="looks like"):
        Algorithm("inspections", plan.compute_plan)


def test_a_tampered_algorithm_id_is_refused_by_name(world: World, tmp_path: Path) -> None:
    assert world.reviews is not None
    world.store.conn.execute("UPDATE draws SET algorithm = 'suiji-reviews/9' WHERE id = ?",
                             (world.reviews.id,))
    world.store.conn.commit()
    findings = verify_store(world.store, WORLD_REGISTRY).findings
    recompute = [f for f in findings if f.check == "recompute"]
    assert len(recompute) == 1 and f"draw {world.reviews.id} " in recompute[0].subject
    assert "'suiji-reviews/9' is not known" in recompute[0].problem
    assert any(f.check == "draw" and "log entry" in f.problem and "suiji-reviews/1" in f.problem
               for f in findings)

    write_bundle(world.store, str(P), tmp_path / "b", registry=WORLD_REGISTRY)
    text = "\n".join(str(f) for f in verify_bundle(tmp_path / "b", WORLD_REGISTRY).findings)
    assert "'suiji-reviews/9' is not known" in text

    res = CliRunner().invoke(cli, ["--db", str(world.store.path), "verify"])
    assert res.exit_code == 1 and "suiji-reviews/9" in res.output


def _plan_v9(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
             progress: Progress | None = None) -> dict[str, Any]:
    """A stand-in for a future plan algorithm: a different output from the same inputs."""
    out = plan.compute_plan(snapshot, seed, params, progress=progress)
    return {**out, "algorithm": "suiji-inspections/9", "items": out["items"][::-1]}


def test_a_future_algorithm_leaves_old_draws_to_their_own(store: Store) -> None:
    future = Registry((*REGISTRY.algorithms,
                       Algorithm("suiji-inspections/9", _plan_v9,
                                 {"substitution": plan.compute_substitution})))
    build_real(store)
    assert verify_store(store, future).ok  # the /2 plan recomputes with the /2 function
    draws.run_draw(store, period=P, scope="inspections", rules=RULES,
                   algorithm="suiji-inspections/9", compute=_plan_v9, seed=SEED, redraw=True,
                   reason="新算法")
    report = verify_store(store, future)
    assert report.ok, report.findings
    assert report.checked["draws"] == 4  # both plans, each with its own algorithm

    # a suiji that does not know /3 names it and still verifies the /2 plan
    old = list(verify_store(store, REGISTRY).findings)
    assert len(old) == 1 and "'suiji-inspections/9' is not known" in old[0].problem

    # dispatching the /2 plan to the /3 function would be caught: the id decides
    swapped = Registry(tuple(Algorithm("suiji-inspections/2", _plan_v9, a.events)
                             if a.id == "suiji-inspections/2" else a for a in future.algorithms))
    wrong = verify_store(store, swapped).findings
    assert any(f.check == "recompute" and "inspections, superseded" in f.subject
               and ("differs" in f.problem or "failed" in f.problem) for f in wrong), wrong


def test_substitution_reads_no_clock(world: World) -> None:
    with pytest.raises(UsageError, match="first day an inspection is still pending"):
        plan.substitute_inspector(world.store, P, "B002", "病假")  # the CLI passes today=
