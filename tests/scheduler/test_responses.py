"""Experts' answers: declines through the recorded decline path, who to call by hand."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from suiji.data.errors import InputFileError
from suiji.data.verify import verify_store
from suiji.reports.notify import export_notify
from suiji.scheduler.algorithms import REGISTRY
from suiji.scheduler.responses import record_responses
from tests.fixtures.loop import (
    MEETING,
    LoopWorld,
    loop_world,
    records,
)


@pytest.fixture
def loop(tmp_path: Path) -> LoopWorld:
    return loop_world(tmp_path)


def test_responses_apply_declines_and_list_who_to_call(loop: LoopWorld) -> None:
    store = loop.store
    members = sorted({e for i in loop.panels["items"] for e in i["experts"]})
    export_notify(store, MEETING, "csv", io.BytesIO())
    frame_ = records("responses",
                     {"expert_id": members[0], "meeting": "2026-12-15", "answer": "accept"},
                     {"expert_id": members[1], "meeting": "2026-12-15", "answer": "decline",
                      "reason": "出差"},
                     {"expert_id": members[2], "meeting": "2026-12-15",
                      "answer": "no_answer"})
    result = record_responses(store, frame_, today=date(2026, 12, 15))
    assert [d["expert_id"] for d in result.declined] == [members[1]]
    events = store.conn.execute("SELECT kind, params FROM draw_events").fetchall()
    assert events[-1][0] == "decline" and members[1] in events[-1][1]
    calls = {(c["expert_id"], c["why"]) for c in result.call_by_hand}
    assert (members[2], "no_answer") in calls
    # past the deadline, members without any answer are called too: everyone on the final
    # panels (the replacement included) but the three who answered
    from suiji.data.draws import latest_output
    from suiji.scheduler.panels import find_panel_draw

    final = {e for i in latest_output(store, find_panel_draw(store, MEETING))["items"]
             for e in i["experts"]}
    replacement = result.declined[0]["replacements"][0]["replaced_by"]
    assert replacement in final and members[1] not in final
    assert {e for e, why in calls if why == "past_deadline"} == final - set(members[:3])
    assert verify_store(store, REGISTRY).ok


def test_responses_refusals_write_nothing(loop: LoopWorld) -> None:
    store = loop.store
    members = sorted({e for i in loop.panels["items"] for e in i["experts"]})
    bad = records("responses",
                  {"expert_id": members[0], "meeting": "2026-12-15", "answer": "decline"},
                  {"expert_id": "ZJ0999", "meeting": "2026-12-15", "answer": "accept"},
                  {"expert_id": members[1], "meeting": "2026-12-20", "answer": "accept"})
    with pytest.raises(InputFileError) as exc:
        record_responses(store, bad, today=date(2026, 12, 15), file_name="r.csv")
    text = str(exc.value)
    assert "row 2, column reason" in text and "row 3, column expert_id" in text
    assert "row 4, column meeting" in text
    assert store.conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0
    assert store.conn.execute("SELECT COUNT(*) FROM draw_events").fetchone()[0] == 0
