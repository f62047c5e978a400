"""`suiji export plan|reviews`: formats, sealing, scrubbing, neutralisation and the trail."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from suiji.cli.main import cli
from suiji.data.store import Store, sha256_hex
from suiji.reports.writers import find_personal
from tests.fixtures.audit_world import (
    LANDLINE,
    MOBILE,
    PERSON_ID,
    P,
    World,
    build_world,
    install_fake_algorithms,
)


@pytest.fixture(autouse=True)
def _published_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's today is after the quarter: public notices as of January 2027."""
    from datetime import date as _date

    from suiji.cli import main as cli_main

    monkeypatch.setattr(cli_main, "today", lambda: _date(2027, 1, 31))


AFTER = "2027-01-05"  # every inspection of 2026Q4 has passed
MIDDLE = "2026-11-20"


def run(world: World, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", world.store.path, *args])


def plan_items(world: World) -> list[dict[str, object]]:
    from suiji.data.draws import latest_output

    return list(latest_output(world.store, world.plan)["items"])


def test_internal_json_has_every_inspection_in_stable_order(world: World) -> None:
    r = run(world, "export", "plan", "--period", "2026Q4", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    items = {i["uscc"]: i for i in plan_items(world)}
    assert len(rows) == len(items) == 6
    assert [(x["date"], x["uscc"]) for x in rows] == sorted((x["date"], x["uscc"]) for x in rows)
    for row in rows:
        item = items[row["uscc"]]
        for key in ("name", "district", "category", "probability", "ticket", "date"):
            assert row[key] == item[key]
        assert row["inspectors"] == item["inspectors"]  # after the substitution
        assert len(row["inspector_names"]) == 2
    assert run(world, "export", "plan", "--period", "2026Q4").stdout == r.stdout


def test_public_plan_lists_only_past_inspections_and_says_how_many_are_sealed(
        world: World) -> None:
    r = run(world, "export", "plan", "--period", "2026Q4", "--public", "--as-of", MIDDLE)
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    past = [i for i in plan_items(world) if str(i["date"]) < MIDDLE]
    assert 0 < len(past) < 6
    assert sorted(x["uscc"] for x in rows) == sorted(str(i["uscc"]) for i in past)
    assert f"{6 - len(past)} not shown: sealed" in r.stderr
    assert not {"note", "stratum", "city", "industry"} & set(rows[0])
    html = run(world, "export", "plan", "--period", "2026Q4", "--public", "--format", "html",
               "--as-of", MIDDLE).stdout
    assert f"其余 {6 - len(past)} 家检查尚未实施" in html
    assert "全部检查实施后公布" in html and "80417263950183746251" not in html
    after = run(world, "export", "plan", "--period", "2026Q4", "--public", "--format", "html",
                "--as-of", AFTER).stdout
    assert "80417263950183746251" in after  # the seed, once nothing is sealed


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx", "html"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_outputs_carry_no_personal_identifier(world: World, tmp_path: Path, fmt: str,
                                                     lang: str) -> None:
    out = tmp_path / f"public.{fmt}"
    r = run(world, "export", "plan", "--period", "2026Q4", "--format", fmt, "--public",
            "--lang", lang, "--as-of", AFTER, "-o", str(out))
    assert r.exit_code == 0, r.output
    text = _text_of(out)
    assert find_personal(text) == []
    for secret in (MOBILE, PERSON_ID, LANDLINE):
        assert secret not in text
    assert "张三" in text and "李四洗车店" in text  # the rows are there, only masked
    internal = tmp_path / f"internal.{fmt}"
    assert run(world, "export", "plan", "--period", "2026Q4", "--format", fmt, "--lang", lang,
               "-o", str(internal)).exit_code == 0
    assert MOBILE in _text_of(internal)  # the scan would have caught a leak


def _text_of(path: Path) -> str:
    if path.suffix == ".xlsx":
        wb = load_workbook(path)
        return "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row
                         if c.value is not None)
    return path.read_bytes().decode("utf-8-sig")


def test_csv_has_bom_chinese_headers_and_neutralised_cells(world: World, tmp_path: Path
                                                           ) -> None:
    out = tmp_path / "plan.csv"
    assert run(world, "export", "plan", "--period", "2026Q4", "--format", "csv",
               "-o", str(out)).exit_code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0])[:3] == ["序号", "统一社会信用代码", "企业名称"]
    names = {r["企业名称"] for r in rows}
    assert "'=HYPERLINK(\"http://x\",\"点击\")" in names
    assert "'-2+3 印刷厂" in names
    assert not any(str(v).startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    assert {r["入样概率"] for r in rows} <= {"1.0", "0.5"}


def test_xlsx_keeps_numbers_and_neutralises_formulas(world: World, tmp_path: Path) -> None:
    out = tmp_path / "plan.xlsx"
    r = run(world, "export", "plan", "--period", "2026Q4", "--format", "xlsx", "-o", str(out))
    assert r.exit_code == 0 and "Wrote 6 rows" in r.stderr
    ws = load_workbook(out).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    assert header[:3] == ["序号", "统一社会信用代码", "企业名称"]
    prob = header.index("入样概率") + 1
    name = header.index("企业名称") + 1
    cells = [ws.cell(row=i, column=name) for i in range(2, 8)]
    assert all(c.data_type == "s" for c in cells)
    assert not any(str(c.value).startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=HYPERLINK(\"http://x\",\"点击\")" in {c.value for c in cells}
    values = [ws.cell(row=i, column=prob).value for i in range(2, 8)]
    assert all(isinstance(v, int | float) and 0 < v <= 1 for v in values), values
    assert isinstance(ws.cell(row=2, column=1).value, int)


def test_xlsx_needs_a_file(world: World) -> None:
    r = run(world, "export", "plan", "--period", "2026Q4", "--format", "xlsx")
    assert r.exit_code == 2 and "-o plan.xlsx" in r.output


def test_every_export_is_logged_with_the_file_digest(world: World, tmp_path: Path) -> None:
    before = len(world.store.log_entries())
    out = tmp_path / "gongshi.html"
    assert run(world, "export", "plan", "--period", "2026Q4", "--format", "html", "--public",
               "--as-of", MIDDLE, "-o", str(out)).exit_code == 0
    stdout = run(world, "export", "plan", "--period", "2026Q4", "--format", "csv")
    entries = world.store.log_entries()[before:]
    assert [e.action for e in entries] == ["publish", "export"]
    assert entries[0].digests["file"] == sha256_hex(out.read_bytes())
    assert entries[0].details["sealed"] > 0 and entries[0].details["public"] is True
    assert entries[1].digests["file"] == sha256_hex(stdout.stdout_bytes)
    assert entries[1].details["file"] == "<stdout>"
    from suiji.data.audit import verify_store
    from tests.fixtures.audit_world import WORLD_REGISTRY

    assert verify_store(world.store, WORLD_REGISTRY).ok


def test_failed_write_leaves_no_log_entry(world: World, tmp_path: Path) -> None:
    before = len(world.store.log_entries())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run(world, "export", "plan", "--period", "2026Q4", "--format", "csv", "-o",
            str(blocker / "plan.csv"))
    assert r.exit_code != 0
    assert len(world.store.log_entries()) == before


def test_no_plan_is_a_clear_error(store: Store) -> None:
    r = CliRunner().invoke(cli, ["--db", store.path, "export", "plan", "--period", "2026Q1"])
    assert r.exit_code == 1 and "suiji draw inspections --period 2026Q1" in r.output


# --- reviews ----------------------------------------------------------------------------

def test_reviews_json_and_sealed_panels(world: World) -> None:
    assert world.meeting is not None
    internal = json.loads(run(world, "export", "reviews", "--period", "2026Q4").stdout)
    assert internal and all(set(("project_id", "agency_uscc", "doc_type", "probability",
                                 "ticket")) <= set(r) for r in internal)
    paneled = [r for r in internal if r["meeting"]]
    assert paneled and all(len(r["experts"]) >= 2 and r["alternates"] for r in paneled)
    before = json.loads(run(world, "export", "reviews", "--period", "2026Q4", "--public",
                            "--as-of", world.meeting.isoformat()).stdout)
    assert all(r["experts"] == [] and r["sealed"] for r in before if r["meeting"])
    assert not any("alternates" in r or "mean_score" in r for r in before)
    after = json.loads(run(world, "export", "reviews", "--period", "2026Q4", "--public",
                           "--as-of", "2026-12-11").stdout)
    assert [r["experts"] for r in after] == [r["experts"] for r in internal]


def test_reviews_csv_public_hides_experts_before_the_meeting(world: World) -> None:
    r = run(world, "export", "reviews", "--period", "2026Q4", "--format", "csv", "--public",
            "--as-of", "2026-12-01")
    assert r.exit_code == 0
    text = r.stdout_bytes.decode("utf-8-sig")
    assert "评审专家" in text and "会前保密" in text
    assert "E0" not in text
    assert find_personal(text) == []
    log = world.store.log_entries()[-1]
    assert log.action == "publish" and log.details["what"] == "reviews"


def test_reviews_without_sample_is_a_clear_error(store: Store,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_algorithms(monkeypatch)
    build_world(store, reviews=False)
    r = CliRunner().invoke(cli, ["--db", store.path, "export", "reviews", "--period", str(P)])
    assert r.exit_code == 1 and "suiji draw reviews" in r.output


def test_notice_states_redraws_with_their_scrubbed_reason(world: World) -> None:
    from suiji.data.audit import verify_store
    from suiji.data.draws import record_draw
    from suiji.data.snapshot import load_snapshot
    from tests.fixtures.audit_world import WORLD_REGISTRY, fake_plan

    snap = load_snapshot(world.store, world.plan.snapshot_id)
    params = {"quota": {"general": 4, "key": 2}}
    with world.store.transaction():
        record_draw(world.store, scope="inspections", snapshot=snap, seed="99", seed_source="user",
                    algorithm="test-plan/1", output=fake_plan(snap, "99", params), params=params,
                    redraw=True, reason=f"名录有误，联系人 {MOBILE}")
    html = run(world, "export", "plan", "--period", "2026Q4", "--format", "html", "--public",
               "--as-of", AFTER).stdout
    assert "重新抽取" in html and "名录有误，联系人 ***" in html and MOBILE not in html
    report = verify_store(world.store, WORLD_REGISTRY)
    assert report.ok and report.checked["draws"] == 4  # the superseded plan is recomputed too
