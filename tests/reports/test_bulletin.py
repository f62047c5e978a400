"""The quarterly 通报, the 移交 list and the notification list for a voice/SMS platform."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest

from suiji.data.errors import SuijiError
from suiji.data.findings import current_findings
from suiji.data.scores import record_scores
from suiji.data.snapshot import freeze
from suiji.reports.bulletin import bulletin_tables, export_bulletin, export_transfers
from suiji.reports.notify import export_notify
from tests.fixtures.loop import (
    MEETING,
    Q1,
    LoopWorld,
    loop_world,
    party_rows,
    records,
    with_findings,
)
from tests.fixtures.reviews_data import PERIOD


@pytest.fixture
def loop(tmp_path: Path) -> LoopWorld:
    return loop_world(tmp_path)


def test_bulletin_internal_and_public(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    pids = with_findings(loop)
    experts = store.read("experts")
    experts.loc[experts["expert_id"] == "ZJ0010", "phone"] = "13912345678"
    store.replace("experts", experts)
    streams = {k: io.BytesIO() for k in ("i", "p", "xlsx", "docx")}
    internal = export_bulletin(store, PERIOD, r, "html", streams["i"], public=False)
    public = export_bulletin(store, PERIOD, r, "html", streams["p"], public=True)
    inside, outside = streams["i"].getvalue().decode(), streams["p"].getvalue().decode()
    author = current_findings(store).set_index("project_id").loc[pids[2], "lead_author"]
    assert author in inside and "专家10" in inside and "严重质量问题移交清单" in inside
    assert author not in outside and "专家10" not in outside and "ZJ0010" not in outside
    assert "HP" not in outside and "13912345678" not in inside + outside
    assert internal.rendered.details["transfers"] == public.rendered.details["transfers"] == 1
    entries = [e for e in store.log_entries() if e.details.get("what") == "bulletin"]
    assert [e.action for e in entries] == ["export", "publish"]
    for fmt in ("xlsx", "docx"):
        export_bulletin(store, PERIOD, r, fmt, streams[fmt], public=False)
        assert zipfile.is_zipfile(io.BytesIO(streams[fmt].getvalue()))
    from docx import Document

    text = "\n".join(c.text for t in Document(io.BytesIO(streams["docx"].getvalue())).tables
                     for row in t.rows for c in row.cells)
    assert pids[2] in text and author in text


def test_bulletin_experts_handled(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    with_findings(loop)
    item = loop.panels["items"][0]
    rows = party_rows(item["experts"][0], item["project_id"], approval=("70", "4"))
    record_scores(store, records("scores", *rows), rules=r, today=date(2026, 12, 16))
    internal = {t.name: t for t in bulletin_tables(store, PERIOD, r, public=False)}
    handled = {x["expert_id"]: x for x in internal["experts"].rows}
    assert handled["ZJ0010"]["lax_points"] == 5 and handled["ZJ0010"]["lax"] == [
        loop.sampled[2]["project_id"]]
    assert handled[item["experts"][0]]["deduction"] == 4
    public = {t.name: t for t in bulletin_tables(store, PERIOD, r, public=True)}
    counts = {x["what"]: x["experts"] for x in public["experts"].rows}
    assert counts["把关不严"] == 1 and counts["评审扣分"] == 1
    assert "lead_author" not in {c.key for c in public["problems"].columns}


def test_transfers_csv_lists_serious_problems(loop: LoopWorld) -> None:
    store = loop.store
    pids = with_findings(loop)
    out = io.BytesIO()
    exported = export_transfers(store, PERIOD, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert exported.rows == 1 and [x["项目编号"] for x in rows] == [pids[2]]
    assert rows[0]["建设单位"] and rows[0]["严重质量问题"] == "数据弄虚作假"
    assert store.log_entries()[-1].details["what"] == "transfers"


def test_notify_lists_members_with_phones_and_logs_no_phone(loop: LoopWorld) -> None:
    store, r = loop.store, loop.rules
    members = sorted({e for i in loop.panels["items"] for e in i["experts"]})
    experts = store.read("experts")
    experts.loc[experts["expert_id"] == members[0], "phone"] = "13912345678"
    store.replace("experts", experts)
    snap = freeze(store, Q1, "reviews", r)
    assert b"13912345678" not in snap.files["experts.csv"]  # sealed: never frozen
    out = io.BytesIO()
    exported = export_notify(store, MEETING, "json", out)
    rows = json.loads(out.getvalue())
    assert [x["expert_id"] for x in rows] == members
    assert rows[0]["phone"] == "13912345678" and rows[0]["answer_by"] == "2026-12-14 12:00"
    assert exported.rendered.details["without_phone"] == members[1:]
    entry = store.log_entries()[-1]
    assert entry.action == "export" and "13912345678" not in json.dumps(entry.details)
    with pytest.raises(SuijiError, match="not before the meeting"):
        export_notify(store, MEETING, "csv", out, answer_by="2026-12-15 09:00")
    with pytest.raises(SuijiError, match="No panels were drawn"):
        export_notify(store, date(2026, 12, 20), "csv", out)
