"""The audit bundle: round trip, tampering inside the bundle, the CLI, and consistent_sampler."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.bundle import SUMS, verify_bundle, write_bundle
from suiji.data.errors import SuijiError
from suiji.data.store import Store, sha256_hex
from tests.fixtures.audit_world import SEED, WORLD_REGISTRY, World


@pytest.fixture
def bundle(world: World, tmp_path: Path) -> Path:
    out = tmp_path / "bundle"
    write_bundle(world.store, "2026Q4", out, registry=WORLD_REGISTRY)
    return out


def _resum(root: Path) -> None:
    """Rewrite SHA256SUMS as a forger would, so only the deeper checks can catch an edit."""
    lines = [f"{sha256_hex(p.read_bytes())}  {p.relative_to(root).as_posix()}\n"
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != SUMS]
    (root / SUMS).write_text("".join(lines), "utf-8")


def test_round_trip(bundle: Path, world: World) -> None:
    report = verify_bundle(bundle, WORLD_REGISTRY)
    assert report.ok, report.findings
    assert report.checked["draws"] == 3 and report.checked["events"] == 1
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    plan = next(d for d in manifest["draws"] if d["scope"] == "inspections")
    assert plan["seed"] == SEED and plan["events"][0]["kind"] == "substitution"
    assert (bundle / plan["output"]).read_bytes().decode("utf-8") == json.dumps(
        world.plan.output, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    snap = next(s for s in manifest["snapshots"] if s["scope"] == "inspections")
    folder = bundle / snap["folder"]
    assert hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest() == snap["digest"]
    assert (folder / "companies.csv").read_text("utf-8").startswith("uscc,name,district")
    assert (bundle / "ALGORITHM.md").read_text("utf-8").startswith("# suiji draw algorithms")
    assert "suiji verify --bundle" in (bundle / "README.md").read_text("utf-8")
    sums = (bundle / SUMS).read_text("utf-8").splitlines()
    assert len(sums) == sum(1 for p in bundle.rglob("*") if p.is_file()) - 1


def test_changed_file_is_caught_by_the_sums(bundle: Path) -> None:
    path = bundle / "seeds.csv"
    path.write_text(path.read_text("utf-8").replace(SEED, "1" * 20), "utf-8")
    findings = verify_bundle(bundle, WORLD_REGISTRY).findings
    assert [(f.check, f.subject) for f in findings] == [("bundle", "seeds.csv")]


def test_edited_output_with_forged_sums(bundle: Path, world: World) -> None:
    path = bundle / f"outputs/draw-{world.plan.id}.json"
    out = json.loads(path.read_text("utf-8"))
    out["items"][0]["inspectors"] = ["B004", "B005"]
    path.write_text(json.dumps(out, ensure_ascii=False), "utf-8")
    _resum(bundle)
    text = "\n".join(str(f) for f in verify_bundle(bundle, WORLD_REGISTRY).findings)
    assert "does not hash to the recorded output digest" in text
    assert f"items[uscc={out['items'][0]['uscc']}].inspectors" in text


def test_edited_frozen_input_with_forged_sums(bundle: Path, world: World) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    folder = bundle / next(s["folder"] for s in manifest["snapshots"]
                           if s["scope"] == "inspections")
    path = folder / "inspectors.csv"
    path.write_text(path.read_text("utf-8").replace("王五", "王武"), "utf-8")
    _resum(bundle)
    findings = verify_bundle(bundle, WORLD_REGISTRY).findings
    assert any("inspectors.csv was edited" in f.problem for f in findings)


def test_removed_log_entry_and_missing_file(bundle: Path, world: World) -> None:
    log = bundle / "log.jsonl"
    lines = log.read_text("utf-8").splitlines(keepends=True)
    kept = [x for x in lines if json.loads(x)["action"] != "substitution"]
    log.write_text("".join(kept), "utf-8")
    (bundle / "results.csv").unlink()
    _resum(bundle)
    (bundle / SUMS).write_text((bundle / SUMS).read_text("utf-8")
                               + f"{'0' * 64}  results.csv\n", "utf-8")
    text = "\n".join(str(f) for f in verify_bundle(bundle, WORLD_REGISTRY).findings)
    assert "results.csv is listed in SHA256SUMS but missing" in text.replace(": ", " ")
    assert "substitution event" in text and "no entry in the log" in text


def test_bundle_needs_a_new_folder_and_a_draw(world: World, tmp_path: Path,
                                              store: Store) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(SuijiError, match="not an empty folder"):
        write_bundle(world.store, "2026Q4", tmp_path / "full")
    with pytest.raises(SuijiError, match="no draws yet"):
        write_bundle(world.store, "2026Q1", tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_cli_bundle_round_trip_is_logged(world: World, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "审计材料"
    r = runner.invoke(cli, ["--db", world.store.path, "audit-bundle", "--period", "2026Q4",
                            "-o", str(out)])
    assert r.exit_code == 0, r.output
    digest = sha256_hex((out / SUMS).read_bytes())
    assert digest in r.stdout
    entry = world.store.log_entries()[-1]
    assert entry.action == "export" and entry.details["what"] == "audit-bundle"
    assert entry.digests["file"] == digest
    ok = runner.invoke(cli, ["verify", "--bundle", str(out)])
    assert ok.exit_code == 0 and "All good" in ok.stdout
    (out / "README.md").write_text("changed", "utf-8")
    bad = runner.invoke(cli, ["verify", "--bundle", str(out)])
    assert bad.exit_code == 1 and "README.md" in bad.stdout
    again = runner.invoke(cli, ["--db", world.store.path, "audit-bundle", "--period", "2026Q4",
                                "-o", str(out)])
    assert again.exit_code == 1 and "not an empty folder" in again.output


def test_unweighted_stratum_checks_with_consistent_sampler(bundle: Path) -> None:
    """What ALGORITHM.md tells an auditor to do with Rivest's package, on the review sample."""
    consistent_sampler = pytest.importorskip("consistent_sampler")
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    review = next(d for d in manifest["draws"] if d["scope"] == "reviews")
    output = json.loads((bundle / review["output"]).read_text("utf-8"))
    checked = 0
    for stratum in output["strata"]:
        if stratum["method"] != "srs":
            continue
        ids = [d["project_id"] for d in output["documents"] if d["stratum"] == stratum["stratum"]]
        expected = [t[1] for t in consistent_sampler.sampler(
            ids, seed=review["seed"], take=stratum["allocated"], with_replacement=False)]
        drawn = {d["project_id"] for d in output["documents"]
                 if d["stratum"] == stratum["stratum"] and d["selected"]}
        assert set(expected) == drawn
        checked += 1
    assert checked >= 1
