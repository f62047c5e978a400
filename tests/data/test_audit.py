"""`suiji verify`: one tamper test per kind of edit, the chain, and the CLI."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from suiji.cli.main import cli
from suiji.data.audit import Finding, check_chain, differences, verify_store
from suiji.data.store import GENESIS, LogEntry, Store, canonical_json, sha256_hex
from tests.fixtures.audit_world import (
    COMPANIES,
    WORLD_REGISTRY,
    P,
    World,
    build_world,
    fake_substitution,
    uscc,
)


def _problems(store: Store, period: str | None = None) -> list[Finding]:
    report = verify_store(store, WORLD_REGISTRY, period)
    return list(report.findings)


def _text(findings: list[Finding]) -> str:
    return "\n".join(str(f) for f in findings)


def test_untouched_record_is_all_good(world: World) -> None:
    report = verify_store(world.store, WORLD_REGISTRY, str(P))
    assert report.ok
    assert report.checked["snapshots"] == 2
    assert report.checked["log entries"] == len(world.store.log_entries())


def test_edited_plan_row_is_named(world: World) -> None:
    store = world.store
    target = world.plan.output["items"][0]
    output = json.loads(store.conn.execute("SELECT output FROM draws WHERE id = ?",
                                           (world.plan.id,)).fetchone()[0])
    output["items"][0]["date"] = "2026-12-31"
    store.conn.execute("UPDATE draws SET output = ? WHERE id = ?",
                       (canonical_json(output), world.plan.id))
    text = _text(_problems(store))
    assert "stored output was edited" in text
    assert f"items[uscc={target['uscc']}].date" in text
    assert "2026-12-31" in text


def test_edited_plan_with_rewritten_digest_is_caught_by_log_and_recomputation(
        world: World) -> None:
    store = world.store
    output = json.loads(store.conn.execute("SELECT output FROM draws WHERE id = ?",
                                           (world.plan.id,)).fetchone()[0])
    victim = output["items"][1]
    victim["inspectors"] = ["B001", "B005"]
    data = canonical_json(output)
    store.conn.execute("UPDATE draws SET output = ?, output_sha256 = ? WHERE id = ?",
                       (data, sha256_hex(data), world.plan.id))
    findings = _problems(store)
    checks = {f.check for f in findings}
    assert checks == {"draw", "recompute"}
    assert "differs from log entry" in _text(findings)
    assert f"items[uscc={victim['uscc']}].inspectors" in _text(findings)


def test_edited_frozen_input_is_named(world: World) -> None:
    store = world.store
    sid = world.plan.snapshot_id
    raw = store.conn.execute("SELECT data FROM snapshot_files WHERE snapshot_id = ? AND "
                             "name = 'companies.csv'", (sid,)).fetchone()[0]
    text = zlib.decompress(raw).decode("utf-8").replace("江州钢铁", "江州钢材")
    store.conn.execute("UPDATE snapshot_files SET data = ? WHERE snapshot_id = ? AND "
                       "name = 'companies.csv'", (zlib.compress(text.encode("utf-8")), sid))
    findings = _problems(store)
    assert any(f.check == "snapshot" and "companies.csv was edited" in f.problem
               for f in findings)


def test_frozen_input_and_manifest_rewritten_together_still_fail(world: World) -> None:
    store = world.store
    sid = world.plan.snapshot_id
    raw = store.conn.execute("SELECT data FROM snapshot_files WHERE snapshot_id = ? AND "
                             "name = 'positive-list.csv'", (sid,)).fetchone()[0]
    data = zlib.decompress(raw).decode("utf-8").replace(uscc(8), uscc(1)).encode("utf-8")
    manifest = json.loads(store.conn.execute("SELECT manifest FROM snapshots WHERE id = ?",
                                             (sid,)).fetchone()[0])
    manifest["files"]["positive-list.csv"]["sha256"] = sha256_hex(data)
    digest = sha256_hex(canonical_json(manifest))
    store.conn.execute("UPDATE snapshot_files SET data = ?, sha256 = ? WHERE snapshot_id = ? "
                       "AND name = 'positive-list.csv'", (zlib.compress(data), sha256_hex(data),
                                                          sid))
    store.conn.execute("UPDATE snapshots SET manifest = ?, digest = ? WHERE id = ?",
                       (canonical_json(manifest), digest, sid))
    text = _text(_problems(store))
    assert "published in log entry" in text  # the freeze entry pins the old digest
    assert "[recompute]" in text  # and the plan no longer recomputes


def test_deleted_log_entry_is_found(world: World) -> None:
    store = world.store
    store.conn.execute("DELETE FROM log WHERE seq = 3")
    findings = _problems(store)
    assert any(f.check == "chain" and "entry 3 of the log is missing" in f.problem
               for f in findings)


def test_altered_log_entry_is_found(world: World) -> None:
    store = world.store
    seq = next(e.seq for e in store.log_entries() if e.action == "draw")
    details = json.loads(store.conn.execute("SELECT details FROM log WHERE seq = ?",
                                            (seq,)).fetchone()[0])
    details["seed"] = "11111111111111111111"
    store.conn.execute("UPDATE log SET details = ? WHERE seq = ?", (canonical_json(details), seq))
    text = _text(_problems(store))
    assert f"log entry {seq} (draw 2026Q4): was altered" in text
    assert "seed is" in text  # the draw no longer matches what the log says


def test_rehashed_log_entry_breaks_the_link(world: World) -> None:
    store = world.store
    entries = store.log_entries()
    e = next(x for x in entries if x.action == "substitution")
    details = dict(e.details, reason="计划调整")
    h = LogEntry.compute_hash(e.seq, e.at, e.action, e.period, details, e.digests, e.prev)
    store.conn.execute("UPDATE log SET details = ?, hash = ? WHERE seq = ?",
                       (canonical_json(details), h, e.seq))
    text = _text(_problems(store))
    assert f"log entry {e.seq + 1}" in text and "does not link" in text


def test_deleted_last_entry_leaves_its_draw_unrecorded(store: Store, fake_algorithms: None
                                                        ) -> None:
    world = build_world(store, reviews=False)
    # the last two entries: the substitution, then the results; delete both
    last = store.conn.execute("SELECT MAX(seq) FROM log").fetchone()[0]
    assert [e.action for e in store.log_entries()[-2:]] == ["substitution", "results"]
    store.conn.execute("DELETE FROM log WHERE seq >= ?", (last - 1,))
    findings = _problems(store)
    assert {f.check for f in findings} == {"event", "results", "import"}
    event = [f for f in findings if f.check == "event"]
    assert len(event) == 1 and f"event {world.substitution}" in event[0].subject
    assert "no entry in the log" in event[0].problem
    assert all("no log entry recorded it" in f.problem for f in findings if f.check == "results")


def test_edited_directory_row_is_found(world: World) -> None:
    store = world.store
    store.conn.execute("UPDATE dir_companies SET name = '改名公司' WHERE uscc = ?", (uscc(2),))
    findings = _problems(store)
    assert any(f.check == "import" and "companies version 1" in f.subject for f in findings)


def test_edited_substitution_is_found(world: World) -> None:
    store = world.store
    out = json.loads(store.conn.execute("SELECT output FROM draw_events WHERE id = ?",
                                        (world.substitution,)).fetchone()[0])
    out["items"][-1]["inspectors"] = ["B003", "B004"]
    store.conn.execute("UPDATE draw_events SET output = ? WHERE id = ?",
                       (canonical_json(out), world.substitution))
    text = _text(_problems(store))
    assert "substitution event" in text and "was edited" in text
    assert f"items[uscc={out['items'][-1]['uscc']}].inspectors" in text


def test_deleted_draw_is_found(world: World) -> None:
    store = world.store
    assert world.panels is not None
    store.conn.execute("DELETE FROM draw_events WHERE draw_id = ?", (world.panels.id,))
    store.conn.execute("DELETE FROM draws WHERE id = ?", (world.panels.id,))
    findings = _problems(store)
    assert any(f.subject == f"draw {world.panels.id}" and "missing" in f.problem
               for f in findings)


def test_edited_panel_and_review_sample_are_recomputed(world: World) -> None:
    store = world.store
    assert world.reviews is not None
    out = world.reviews.output
    out["items"] = out["items"][1:]
    store.conn.execute("UPDATE draws SET output = ? WHERE id = ?",
                       (canonical_json(out), world.reviews.id))
    text = _text(_problems(store, str(P)))
    assert "in the recomputed output, not in the stored one" in text


def test_algorithm_that_fails_is_a_finding(world: World, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from suiji.data.verify import Algorithm, Registry

    def broken(*_args: object) -> None:
        raise ImportError("No module named 'suiji.no_such_module'")

    registry = Registry((*[a for a in WORLD_REGISTRY.algorithms if a.id != "test-plan/1"],
                         Algorithm("test-plan/1", broken, {"substitution": fake_substitution})))
    findings = list(verify_store(world.store, registry).findings)
    assert [f.check for f in findings] == ["recompute"]
    assert "cannot be recomputed" in findings[0].problem


def test_period_filter_skips_other_periods(world: World) -> None:
    report = verify_store(world.store, WORLD_REGISTRY, "2026Q3")
    assert report.ok and report.checked["draws"] == 0


def test_differences_match_records_by_id() -> None:
    a = {"items": [{"uscc": "A", "x": 1}, {"uscc": "B", "x": 2}], "n": 2}
    b = {"items": [{"uscc": "B", "x": 3}, {"uscc": "C", "x": 1}], "n": 2}
    got = differences(a, b)
    assert got == ["output.items[uscc=A]: in the stored output, not in the recomputed one",
                   "output.items[uscc=B].x: stored 2, recomputed 3",
                   "output.items[uscc=C]: in the recomputed output, not in the stored one",
                   "output.items: same records in a different order"]
    assert differences(a, a) == []


def _chain(n: int) -> list[LogEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        details = {"i": seq}
        h = LogEntry.compute_hash(seq, "t", "x", "", details, {}, prev)
        entries.append(LogEntry(seq, "t", "x", "", details, {}, prev, h))
        prev = h
    return entries


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12), st.data())
def test_any_single_deletion_or_alteration_breaks_the_chain(n: int, data: st.DataObject) -> None:
    entries = _chain(n)
    assert check_chain(entries) == []
    i = data.draw(st.integers(0, n - 1))
    if data.draw(st.booleans()) and i < n - 1:  # the last one is covered by the cross-checks
        tampered = entries[:i] + entries[i + 1:]
    else:
        e = entries[i]
        tampered = list(entries)
        tampered[i] = LogEntry(e.seq, e.at, e.action, e.period, {"i": -1}, e.digests, e.prev,
                               e.hash)
    assert check_chain(tampered)


# --- CLI --------------------------------------------------------------------------------

def _db(world: World) -> str:
    return world.store.path


def test_cli_verify_all_good_and_exit_1_on_tampering(world: World) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["--db", _db(world), "verify", "--period", "2026Q4"])
    assert ok.exit_code == 0, ok.output
    assert "All good" in ok.output
    world.store.conn.execute("DELETE FROM log WHERE seq = 2")
    bad = runner.invoke(cli, ["--db", _db(world), "verify", "--json"])
    assert bad.exit_code == 1
    payload = json.loads(bad.stdout)
    assert payload["ok"] is False
    assert payload["findings"][0]["check"] == "chain"


def test_cli_verify_usage_errors(world: World, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", _db(world), "verify", "--period", "2026Q9"])
    assert r.exit_code == 2
    r = runner.invoke(cli, ["--db", _db(world), "verify", "--period", "2026Q4", "--bundle",
                            str(tmp_path)])
    assert r.exit_code == 2 and "leave out --period" in r.output
    r = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), "verify"])
    assert r.exit_code == 1 and "suiji init" in r.output


def test_cli_log_lists_the_chain(world: World) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", _db(world), "log", "--period", "2026Q4", "--json"])
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    actions = [x["action"] for x in rows]
    assert actions[:2] == ["freeze", "draw"] and "substitution" in actions
    assert all(x["period"] == "2026Q4" for x in rows)
    everything = world.store.log_entries()
    for x in rows:
        assert x["hash"] == everything[x["seq"] - 1].hash
    text = runner.invoke(cli, ["--db", _db(world), "log", "--action", "draw"])
    assert text.exit_code == 0
    assert text.stdout.count(" draw ") == 3 and "seed=80417263950183746251" in text.stdout
    empty = runner.invoke(cli, ["--db", _db(world), "log", "--period", "2025Q1"])
    assert empty.exit_code == 0 and empty.stdout == ""


def test_store_stays_usable_after_verify(world: World) -> None:
    verify_store(world.store, WORLD_REGISTRY)
    world.store.replace("positive-list", pd.DataFrame(columns=["uscc", "start", "end"]))
    assert verify_store(world.store, WORLD_REGISTRY).ok


# --- the shared world itself (tests/fixtures/audit_world.py) ----------------------------


def test_world_is_what_the_other_tests_assume(world: World) -> None:
    items = world.plan.output["items"]
    assert len(items) == 6  # 4 general + 2 key
    names = {i["name"] for i in items}
    assert {c[1] for c in COMPANIES if c[3] == "general"} <= names
    assert all(len(i["inspectors"]) == 2 for i in items)
    assert not any(i["uscc"] == uscc(4) and "B001" in i["inspectors"] for i in items)
    assert world.plan.output["excluded"] == {"status": 1, "positive_list": 1, "annual_cap": 0}
    report = verify_store(world.store, WORLD_REGISTRY)
    assert report.ok, report.findings
    assert report.checked["draws"] == 3 and report.checked["events"] == 1
