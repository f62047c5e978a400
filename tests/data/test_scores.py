"""Expert scores, deduction points per year, warning and suspension, frozen review history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from suiji.data.canonical import read_frame_csv
from suiji.data.errors import InputFileError
from suiji.data.period import Period
from suiji.data.schema import RECORD_KINDS
from suiji.data.scores import (
    expert_points_file,
    expert_status,
    format_points,
    record_scores,
    review_history_file,
    standing,
    standings,
)
from suiji.data.store import Store
from suiji.sampler.reviews import draw_reviews
from suiji.scheduler.panels import draw_panels
from tests.fixtures.reviews_data import PERIOD, frozen, panel_inputs, rules


def scores(*rows: tuple[str, ...]) -> pd.DataFrame:
    cols = list(RECORD_KINDS["scores"].column_names)
    return pd.DataFrame([dict(zip(cols, r + ("",) * (len(cols) - len(r)), strict=True))
                         for r in rows], columns=cols, dtype=object)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s, _, _ = frozen(tmp_path, panel_inputs())
    return s


def test_points_add_up_per_year_to_warning_and_suspension(store: Store) -> None:
    r = rules()
    first = record_scores(store, scores(("ZJ0010", "P001", "2026-11-02", "80", "6"),
                                        ("ZJ0011", "P001", "2026-11-02", "85", "0")),
                          file_name="a.csv", file_sha256="ab", rules=r, allow_off_panel=True)
    assert first["inserted"] == 2 and first["updated"] == 0 and first["changes"] == []
    second = record_scores(store, scores(("ZJ0010", "P002", "2026-12-01", "70", "4.5")),
                           rules=r, allow_off_panel=True)
    assert second["changes"] == [{"expert_id": "ZJ0010", "year": 2026, "points": 10.5,
                                  "state": "warning", "previous_state": "good"}]
    third = record_scores(store, scores(("ZJ0010", "P003", "2026-12-20", "50", "10")), rules=r,
                          allow_off_panel=True)
    assert third["changes"][0]["state"] == "suspended"
    # a new year: the suspension runs through the next year, the points restart
    s2027 = standings(read_frame_csv(expert_points_file(store, PERIOD, r)[0]), 2027, r.review)
    assert s2027["ZJ0010"].state == "suspended" and s2027["ZJ0010"].points == 0
    s2028 = standings(read_frame_csv(expert_points_file(store, PERIOD, r)[0]), 2028, r.review)
    assert "ZJ0010" not in s2028
    actions = [e.action for e in store.log_entries()]
    assert actions.count("expert_state") == 2
    status = {x["expert_id"]: x for x in expert_status(store, r, date(2026, 12, 31))}
    assert status["ZJ0010"]["state"] == "suspended" and not status["ZJ0010"]["eligible"]
    assert status["ZJ0010"]["points"] == 20.5 and status["ZJ0011"]["state"] == "good"
    assert not status["ZJ0004"]["eligible"] and not status["ZJ0005"]["eligible"]


def test_standing_thresholds() -> None:
    r = rules("warning_points = 10\nsuspension_points = 20").review
    assert standing(9.99, 0, r) == "good"
    assert standing(10, 0, r) == "warning"
    assert standing(19.5, 0, r) == "warning"
    assert standing(20, 0, r) == "suspended"
    assert standing(0, 20, r) == "suspended"
    assert standing(0, 19, r) == "good"


def test_a_bad_file_is_rejected_whole(store: Store) -> None:
    bad = scores(("ZJ0010", "P001", "2026-11-02", "80", "2"),
                 ("ZJ9999", "P001", "2026-11-02", "80", "2"),
                 ("ZJ0011", "P001", "2026-11-02", "八十", "-1"))
    with pytest.raises(InputFileError) as exc:
        record_scores(store, bad, file_name="bad.csv", rules=rules())
    text = str(exc.value)
    assert "row 3, column expert_id" in text and "ZJ9999" in text
    assert "row 4, column deduction" in text and "row 4, column score" in text
    assert "Nothing was written" in text
    assert store.conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 0
    assert store.current_version("scores") == 0


def test_reimport_replaces_and_warns_off_panel(store: Store) -> None:
    r = rules()
    with pytest.raises(InputFileError, match="row 2, column expert_id: expert ZJ0010 is not on "
                                             "the final panel for P001"):
        record_scores(store, scores(("ZJ0010", "P001", "2026-11-02", "80", "2")), rules=r)
    record_scores(store, scores(("ZJ0010", "P001", "2026-11-02", "80", "2")), rules=r,
                  allow_off_panel=True)
    again = record_scores(store, scores(("ZJ0010", "P001", "2026-11-02", "75", "3")), rules=r,
                          allow_off_panel=True)
    assert again["updated"] == 1 and again["inserted"] == 0 and again["version"] == 2
    row = store.conn.execute("SELECT score, deduction FROM scores").fetchone()
    assert tuple(row) == (75.0, 3.0)
    assert "not on the final panel" in again["warnings"][0]


def test_frozen_history_and_points(tmp_path: Path) -> None:
    store, _, r = frozen(tmp_path, panel_inputs())
    # a panel of an earlier period appears in the next period's review history
    q3 = Period(2026, 3)
    inputs = panel_inputs()
    for p in inputs.projects:
        p["approved_on"] = "2026-08-03"
    inputs.write(store)
    from suiji.data.snapshot import freeze
    freeze(store, q3, "reviews", r)
    draw_reviews(store, q3, r, "1", weak_seed=True)
    record = draw_panels(store, q3, r, date(2026, 9, 22), date(2026, 9, 15), None, "2",
                         weak_seed=True)
    members = {(e, i["project_id"]) for i in record.output["items"] for e in i["experts"]}
    q4 = read_frame_csv(review_history_file(store, PERIOD, r)[0])
    assert {(x.expert_id, x.project_id) for x in q4.itertuples()} == members
    assert set(q4["source"]) == {"panel:2026Q3"}
    q3_history = read_frame_csv(review_history_file(store, q3, r)[0])
    assert q3_history.empty  # the period's own panels travel in the draw params
    record_scores(store, scores(("ZJ0010", "P001", "2026-09-20", "80", "2.5")), rules=r,
                  allow_off_panel=True)
    points = read_frame_csv(expert_points_file(store, PERIOD, r)[0])
    assert points.to_dict("records") == [{"expert_id": "ZJ0010", "year": "2026",
                                          "points": "2.5", "scored": "1"}]
    q4 = read_frame_csv(review_history_file(store, PERIOD, r)[0])
    assert ("ZJ0010", "P001", "2026-09-20", "score") in set(q4.itertuples(index=False,
                                                                          name=None))
    status = {x["expert_id"]: x for x in expert_status(store, r, date(2026, 9, 25), q3)}
    assert sum(x["load"] for x in status.values()) == len(members)


def test_format_points() -> None:
    assert [format_points(v) for v in (0, 12.0, 2.5, 1 / 3, -0.0)] == [
        "0", "12", "2.5", "0.3333", "0"]
