"""``suiji draw inspections`` and ``suiji substitute`` through click's CliRunner."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from suiji.cli import main as cli_main
from suiji.cli.main import cli
from suiji.data.period import Period
from suiji.data.rules import parse_rules, preset_text
from suiji.data.snapshot import freeze
from suiji.data.store import Store

SEED = "80417263950183746251"


def _db(tmp_path: Path, *, freeze_it: bool = True, inspectors: int = 6) -> str:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "t.db"
    store = Store.init(path)
    store.replace("companies", pd.DataFrame([
        {"uscc": f"91320100MA{i:07d}X", "name": f"企业{i}", "district": "东区", "city": "江州市",
         "category": ("key", "special")[i % 2], "industry": "", "status": "active", "risk": ""}
        for i in range(16)]))
    store.replace("inspectors", pd.DataFrame([
        {"badge": f"B{j:03d}", "name": f"人{j}", "unit": "支队",
         "district": ("东区", "全市")[j % 2], "city": "江州市", "active": "yes",
         "capacity": "", "daily_capacity": ""}
        for j in range(inspectors)]))
    if freeze_it:
        freeze(store, Period.parse("2026Q4"), "inspections", parse_rules(preset_text()))
    store.close()
    return str(path)


def invoke(db: str, *args: str) -> tuple[int, str]:
    """Exit code and output: stdout only for --json (stderr carries notes and the log head)."""
    res = CliRunner().invoke(cli, ["--db", db, *args])
    return res.exit_code, res.stdout if "--json" in args and res.exit_code == 0 else res.output


def test_draw_prints_seed_snapshot_strata_and_digest(tmp_path: Path) -> None:
    db = _db(tmp_path)
    code, out = invoke(db, "draw", "inspections", "--period", "2026Q4", "--seed", SEED)
    assert code == 0, out
    assert f"seed      {SEED}  (given, no commitment published before the draw)" in out
    store = Store.open(db)
    digest, sha = store.conn.execute(
        "SELECT s.digest, d.output_sha256 FROM draws d JOIN snapshots s "
        "ON s.id = d.snapshot_id").fetchone()
    store.close()
    assert digest in out and sha in out
    assert "key               8        2        2  srs" in out
    assert "special           8        8        8  srs" in out
    assert "10 inspections; teams optimal, unique optimum" in out


def test_draw_json_and_seed_from_the_os(tmp_path: Path) -> None:
    db = _db(tmp_path)
    code, out = invoke(db, "draw", "inspections", "-p", "2026Q4", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["seed_source"] == "os" and len(data["seed"]) == 20
    assert data["inspections"] == 10 and data["solver"]["status"] == "optimal"
    assert [s["category"] for s in data["strata"]] == ["key", "general", "special"]
    code, text = invoke(_db(tmp_path / "b"), "draw", "inspections", "-p", "2026Q4")
    assert code == 0 and "secure random source" in text


def test_second_draw_is_refused_and_redraw_needs_a_reason(tmp_path: Path) -> None:
    db = _db(tmp_path)
    assert invoke(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED)[0] == 0
    code, out = invoke(db, "draw", "inspections", "-p", "2026Q4", "--seed", "1")
    assert code == 1 and "already drawn" in out and "--redraw" in out
    code, out = invoke(db, "draw", "inspections", "-p", "2026Q4", "--seed", "1", "--redraw")
    assert code == 2 and "reason" in out  # a usage mistake
    code, out = invoke(db, "draw", "inspections", "-p", "2026Q4", "--seed", "1",
                       "--reason", "x")
    assert code == 2 and "--reason goes with --redraw" in out
    code, out = invoke(db, "draw", "inspections", "-p", "2026Q4", "--seed", "1", "--redraw",
                       "--reason", "名录有误", "--json")
    assert code == 1 and "--weak-seed" in out  # a guessable seed
    code, out = invoke(db, "draw", "inspections", "-p", "2026Q4", "--seed", "1", "--redraw",
                       "--reason", "名录有误", "--weak-seed", "--json")
    assert code == 0, out
    assert json.loads(out)["reason"] == "名录有误" and json.loads(out)["seed_weak"] is True


@pytest.mark.parametrize(("setup", "args", "code", "message"), [
    ({"freeze_it": False}, ("-p", "2026Q4"), 1, "suiji freeze --period 2026Q4"),
    ({"inspectors": 1}, ("-p", "2026Q4", "--seed", SEED), 1, "Try"),
    ({}, ("-p", "2026Q5"), 2, "2026Q4"),
    ({}, ("-p", "2026Q4", "--seed", " "), 2, "seed is empty"),  # a bad option value: usage
])
def test_draw_errors(tmp_path: Path, setup: dict[str, object], args: tuple[str, ...],
                     code: int, message: str) -> None:
    db = _db(tmp_path, **setup)  # type: ignore[arg-type]
    got, out = invoke(db, "draw", "inspections", *args)
    assert got == code and message in out, out


def test_changed_inputs_are_named(tmp_path: Path) -> None:
    db = _db(tmp_path)
    store = Store.open(db)
    store.replace("inspectors", store.read("inspectors").iloc[1:])
    store.close()
    code, out = invoke(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED)
    assert code == 1 and "inspectors.csv" in out


def test_substitute_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _db(tmp_path)
    assert invoke(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED)[0] == 0
    store = Store.open(db)
    plan = json.loads(store.conn.execute("SELECT output FROM draws").fetchone()[0])
    store.close()
    badge = plan["items"][0]["inspectors"][0]
    monkeypatch.setattr(cli_main, "today", lambda: date(2026, 10, 1))
    code, out = invoke(db, "substitute", "-p", "2026Q4", "--inspector", badge, "--reason",
                       "病假", "--from", "2026/10/1", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["from"] == "2026-10-01" and data["event"] == 1
    pending = [i for i in plan["items"] if badge in i["inspectors"]]
    assert len(data["changed"]) == len(pending)
    assert all(badge in c["before"] and badge not in c["after"] for c in data["changed"])
    code, out = invoke(db, "substitute", "-p", "2026Q4", "--inspector", badge, "--reason",
                       "病假", "--from", "2026-10-01")
    assert code == 1 and "nothing to substitute" in out
    other = next(b for b in plan["items"][0]["inspectors"] if b != badge)
    code, out = invoke(db, "substitute", "-p", "2026Q4", "--inspector", other, "--reason",
                       "回避", "--from", "2026-10-01")
    assert code == 0 and f"inspector {other} replaced in" in out
    code, out = invoke(db, "substitute", "-p", "2026Q4", "--inspector", other, "--reason",
                       "x", "--from", "十月")
    assert code == 2 and "not a date" in out
    code, out = invoke(db, "substitute", "-p", "2026Q4", "--inspector", other)
    assert code == 2 and "--reason" in out
