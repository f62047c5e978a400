"""The library records its own trail: exports, publications, the report and the audit bundle,
called directly (no command line), each leave one log entry committing to the bytes written."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from suiji.data.bundle import SUMS, write_bundle
from suiji.data.draws import latest_output_sha256
from suiji.data.store import LogEntry, sha256_hex
from suiji.data.verify import verify_store
from suiji.reports.exports import export_plan, export_reviews, write_report
from tests.fixtures.audit_world import WORLD_REGISTRY, P, World

MIDDLE = date(2026, 11, 20)  # some inspections of 2026Q4 have passed, some not
AFTER = date(2027, 1, 5)


def new_entries(world: World, before: int) -> list[LogEntry]:
    return world.store.log_entries()[before:]


def test_a_public_plan_written_to_a_file_is_a_publication_on_record(world: World,
                                                                    tmp_path: Path) -> None:
    before = len(world.store.log_entries())
    out = tmp_path / "公示.html"
    exported = export_plan(world.store, P, "html", out, public=True, as_of=MIDDLE,
                           authority="江州市生态环境局")
    [entry] = new_entries(world, before)
    assert entry == exported.entry
    assert entry.action == "publish" and entry.period == str(P)
    assert entry.details["what"] == "plan" and entry.details["file"] == str(out)
    assert entry.details["public"] is True and entry.details["as_of"] == MIDDLE.isoformat()
    assert entry.digests["file"] == sha256_hex(out.read_bytes())
    assert entry.digests["output"] == latest_output_sha256(world.store, world.plan)
    assert 0 < exported.sealed == entry.details["sealed"]
    assert exported.target == str(out) and "江州市生态环境局" in out.read_text("utf-8")


def test_an_export_to_a_stream_is_recorded_under_the_name_given(world: World) -> None:
    before = len(world.store.log_entries())
    stream = io.BytesIO()
    exported = export_reviews(world.store, P, "csv", stream, public=False, as_of=AFTER,
                              name="web response")
    [entry] = new_entries(world, before)
    assert entry.action == "export" and entry.details["what"] == "reviews"
    assert entry.details["file"] == "web response" == exported.target
    assert entry.digests["file"] == sha256_hex(stream.getvalue())
    assert entry.details["rows"] == exported.rows > 0
    assert world.reviews is not None
    assert entry.digests["output"] == latest_output_sha256(world.store, world.reviews)


class FullDisk(io.BytesIO):
    def write(self, data: object) -> int:
        raise OSError(28, "No space left on device")


def test_an_export_that_cannot_be_written_leaves_no_entry(world: World) -> None:
    before = len(world.store.log_entries())
    with pytest.raises(OSError, match="No space"):
        export_plan(world.store, P, "json", FullDisk(), public=False, as_of=AFTER)
    assert new_entries(world, before) == []


def test_the_report_records_the_digest_of_each_file(world: World, tmp_path: Path) -> None:
    before = len(world.store.log_entries())
    folder = tmp_path / "报告-2026Q4"
    written = write_report(world.store, P, folder, lang="en")
    [entry] = new_entries(world, before)
    on_disk = {p.name: sha256_hex(p.read_bytes()) for p in folder.iterdir()}
    assert set(on_disk) == {"report.html", "report.xlsx"}
    assert entry.action == "export" and entry.details["what"] == "report"
    assert entry.details["file"] == str(folder) and entry.details["lang"] == "en"
    assert {k: v for k, v in entry.digests.items() if k != "file"} == on_disk == written.files
    assert entry == written.entry


def test_the_audit_bundle_records_itself(world: World, tmp_path: Path) -> None:
    before = len(world.store.log_entries())
    out = tmp_path / "bundle"
    steps: list[str] = []
    summary = write_bundle(world.store, str(P), out, registry=WORLD_REGISTRY,
                           progress=steps.append)
    [entry] = new_entries(world, before)
    assert entry.action == "export" and entry.details["what"] == "audit-bundle"
    assert entry.details["file"] == str(out)
    assert entry.digests["file"] == summary.digest == sha256_hex((out / SUMS).read_bytes())
    assert steps == [f"writing {out}"]
    assert verify_store(world.store, WORLD_REGISTRY).ok


def test_a_bundle_refused_before_writing_leaves_no_entry(world: World, tmp_path: Path) -> None:
    from suiji.data.errors import SuijiError

    before = len(world.store.log_entries())
    with pytest.raises(SuijiError, match="no draws yet"):
        write_bundle(world.store, "2026Q1", tmp_path / "empty", registry=WORLD_REGISTRY)
    assert new_entries(world, before) == []
    assert not (tmp_path / "empty").exists()
