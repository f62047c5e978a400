"""End to end with the real draws: plan, substitution, results, review sample, panels, decline;
then exports, verify, the bundle, and a tamper of each real output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.audit import verify_store
from suiji.data.bundle import verify_bundle, write_bundle
from suiji.data.draws import current_draw, latest_output
from suiji.data.store import Store, canonical_json
from suiji.reports.writers import find_personal
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.audit_world import (
    MOBILE,
    SEED,
    P,
)
from tests.fixtures.real_world import build_real


@pytest.fixture(autouse=True)
def _published_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's today is after the quarter: public notices as of January 2027."""
    from datetime import date as _date

    from suiji.cli import main as cli_main

    monkeypatch.setattr(cli_main, "today", lambda: _date(2027, 1, 31))


@pytest.fixture
def real(store: Store) -> Store:
    return build_real(store)


def test_real_record_verifies_exports_and_bundles(real: Store, tmp_path: Path) -> None:
    report = verify_store(real, REGISTRY, str(P))
    assert report.ok, report.findings
    assert report.checked["draws"] == 3 and report.checked["events"] == 2
    runner = CliRunner()
    for fmt in ("json", "csv", "xlsx", "html"):
        out = tmp_path / f"notice.{fmt}"
        r = runner.invoke(cli, ["--db", real.path, "export", "plan", "--period", "2026Q4",
                                "--format", fmt, "--public", "--as-of", "2027-01-05",
                                "-o", str(out)])
        assert r.exit_code == 0, r.output
        if fmt != "xlsx":
            text = out.read_bytes().decode("utf-8-sig")
            assert find_personal(text) == [] and MOBILE not in text
    rows = json.loads(runner.invoke(cli, ["--db", real.path, "export", "plan", "--period",
                                          "2026Q4"]).stdout)
    plan = current_draw(real, str(P), "inspections")
    assert plan is not None
    assert len(rows) == len(latest_output(real, plan)["items"])
    assert all(r["outcome"] == "no_issue" for r in rows if r["date"] < "2026-12-01")
    reviews = json.loads(runner.invoke(cli, ["--db", real.path, "export", "reviews",
                                             "--period", "2026Q4"]).stdout)
    assert any(r["declined"] for r in reviews)
    bundle = tmp_path / "bundle"
    write_bundle(real, str(P), bundle)
    assert verify_bundle(bundle, REGISTRY).ok
    assert verify_store(real, REGISTRY).ok  # the exports were logged without breaking anything


@pytest.mark.parametrize("scope", ["inspections", "reviews", "panels"])
def test_each_real_output_tampered_is_caught(real: Store, scope: str) -> None:
    draw = next(d for d in (current_draw(real, str(P), s, subj) for s, subj in
                            (("inspections", ""), ("reviews", ""), ("panels", "2026-12-10")))
                if d is not None and d.scope == scope)
    out = dict(draw.output)
    out["items"] = list(reversed(out["items"]))
    real.conn.execute("UPDATE draws SET output = ? WHERE id = ?", (canonical_json(out), draw.id))
    findings = verify_store(real, REGISTRY, str(P)).findings
    assert {f.check for f in findings} == {"draw", "recompute"}
    assert "same records in a different order" in " ".join(f.problem for f in findings)


def _algorithm_md() -> str:
    return (Path(__file__).resolve().parents[2] / "ALGORITHM.md").read_text("utf-8")


def test_documented_consistent_sampler_script_passes_on_a_real_bundle(
        real: Store, tmp_path: Path) -> None:
    import re
    import subprocess
    import sys

    pytest.importorskip("consistent_sampler")
    text = _algorithm_md()
    script = re.search(r"```python\n(# check_srs\.py.*?)```", text, re.S)
    assert script is not None, "ALGORITHM.md lost its check_srs.py"
    (tmp_path / "check_srs.py").write_text(script.group(1), "utf-8")
    bundle = tmp_path / "bundle"
    write_bundle(real, str(P), bundle)
    done = subprocess.run([sys.executable, str(tmp_path / "check_srs.py"), str(bundle)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any("inspections key" in x for x in lines) and any("reviews" in x for x in lines)
    assert all(x.endswith("OK") for x in lines)
    # a forged sample is caught by the same script
    out = bundle / "outputs" / "draw-2.json"
    doc = json.loads(out.read_text("utf-8"))
    for d in doc["documents"]:
        d["selected"] = not d["selected"]
    out.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    forged = subprocess.run([sys.executable, str(tmp_path / "check_srs.py"), str(bundle)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert forged.returncode == 1 and "DIFFERS" in forged.stdout


def test_foundations_worked_examples_hold() -> None:
    import numpy as np

    from suiji.data.store import LogEntry
    from suiji.sampler.pps import pps_systematic
    from suiji.sampler.tickets import mix64, smallest, ticket_keys, ticket_string

    text = _algorithm_md()
    ticket = ticket_string("91329900000000005D", SEED)
    key = int(ticket_keys(["91329900000000005D"], SEED)[0])
    assert ticket in text and f"`{key}`" in text and ticket[2:20] == str(key)
    assert smallest(list("ABCDEF"), "123", 2) == ["C", "D"]
    assert "sample of 2 is `C, D`" in text
    mixed = int(mix64(np.array([1], dtype=np.uint64), np.array([2], dtype=np.uint64))[0])
    assert f"mix64(1, 2) = {mixed}" in text
    r = pps_systematic(["P1", "P2", "P3", "P4", "P5"], [1, 1, 2, 2, 4], 2, "2026")
    assert [i for i, s in zip(["P1", "P2", "P3", "P4", "P5"], r.selected, strict=True) if s] \
        == ["P4", "P5"] and f"u = {r.start}" in text
    h = LogEntry.compute_hash(1, "2026-10-01T08:00:00.000000Z", "init", "",
                              {"schema_version": 1}, {}, "0" * 64)
    assert h in text
