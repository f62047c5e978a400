"""Panels that respect people and secrecy (issue 12, items 5 and 6): meetings on working
days, a maximum lead time, an alternate cap per meeting, no second panel without a
redraw, and experts whose specialty names the document's industry (``suiji-panels/2``)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from suiji.data.errors import AlreadyDrawnError, LeadTimeError, SuijiError
from suiji.data.verify import verify_store
from suiji.sampler.reviews import draw_reviews
from suiji.scheduler import panels
from suiji.scheduler.algorithms import REGISTRY
from tests.fixtures.clock import Calendar
from tests.fixtures.reviews_data import PERIOD, frozen, panel_inputs, rules

SEED = "31415926535897932384"
MEETING = date(2027, 1, 20)  # a Wednesday
TODAY = date(2027, 1, 14)


def _sampled(tmp_path: Path, extra: str = "") -> tuple[object, object, list[str]]:
    store, _, r = frozen(tmp_path, panel_inputs(), rules(extra))
    sample = draw_reviews(store, PERIOD, r, "27182818284590452353")
    return store, r, [i["project_id"] for i in sample.output["items"]]


def test_a_meeting_on_a_day_off_is_refused_unless_forced(tmp_path: Path, calendar: Calendar
                                                         ) -> None:
    store, r, sampled = _sampled(tmp_path)
    calendar.on("2027-01-18")  # the day of the draw that is recorded
    with pytest.raises(SuijiError, match="2027-01-23 falls on a Saturday or Sunday"):
        panels.draw_panels(store, PERIOD, r, date(2027, 1, 23), date(2027, 1, 18), sampled[:1],
                           SEED)
    with pytest.raises(SuijiError, match=r"2027-02-08 falls on a public holiday \(春节\)"):
        panels.draw_panels(store, PERIOD, r, date(2027, 2, 8), date(2027, 2, 2), sampled[:1],
                           SEED)
    record = panels.draw_panels(store, PERIOD, r, date(2027, 1, 23), date(2027, 1, 18),
                                sampled[:1], SEED, non_working_day=True)
    assert record.algorithm == "suiji-panels/2"
    assert record.params["non_working_day"] is True  # on record, and in the log entry
    entry = [e for e in store.log_entries() if e.action == "draw"][-1]  # type: ignore[attr-defined]
    assert entry.details["params"]["non_working_day"] is True
    assert verify_store(store, REGISTRY).ok


def test_at_most_max_lead_days_before_the_meeting(tmp_path: Path) -> None:
    store, r, sampled = _sampled(tmp_path)
    with pytest.raises(LeadTimeError, match="13 days before it, more than the 7 days"):
        panels.draw_panels(store, PERIOD, r, MEETING, date(2027, 1, 7), sampled[:2], SEED)
    assert panels.draw_panels(store, PERIOD, r, MEETING, date(2027, 1, 13), sampled[:2],
                              SEED).params["drawn_on"] == "2027-01-13"
    looser = rules("max_lead_days = 30")
    assert looser.review.max_lead_days == 30


def test_an_expert_is_an_alternate_for_at_most_the_cap(tmp_path: Path, calendar: Calendar
                                                       ) -> None:
    store, r, sampled = _sampled(tmp_path, "alternate_cap = 1")
    calendar.on(TODAY)
    record = panels.draw_panels(store, PERIOD, r, MEETING, TODAY, sampled, SEED)
    counts = Counter(e for i in record.output["items"] for e in i["alternates"])
    assert counts and max(counts.values()) == 1
    old = panels.compute_panels(_snapshot(store), SEED, dict(record.params))
    old_counts = Counter(e for i in old["items"] for e in i["alternates"])
    assert max(old_counts.values()) > 1  # what /1 does with the same inputs
    # a decline tops up the alternates within the cap too
    member = record.output["items"][0]["experts"][0]
    after = panels.decline(store, MEETING, member, "出差").output
    after_counts = Counter(e for i in after["items"] for e in i["alternates"])
    assert max(after_counts.values()) == 1
    assert verify_store(store, REGISTRY).ok


def _snapshot(store: object):  # type: ignore[no-untyped-def]
    from suiji.data.snapshot import latest_snapshot

    return latest_snapshot(store, PERIOD, "reviews")  # type: ignore[arg-type]


def test_no_second_panel_without_redraw_and_reason(tmp_path: Path) -> None:
    store, r, sampled = _sampled(tmp_path)
    panels.draw_panels(store, PERIOD, r, MEETING, TODAY, sampled[:2], SEED)
    with pytest.raises(AlreadyDrawnError,
                       match=f"Already paneled: {sampled[0]} \\(meeting of 2027-01-20\\)"):
        panels.draw_panels(store, PERIOD, r, date(2027, 1, 27), date(2027, 1, 21),
                           sampled[:1], "2", weak_seed=True)
    with pytest.raises(SuijiError, match="reason"):
        panels.draw_panels(store, PERIOD, r, date(2027, 1, 27), date(2027, 1, 21),
                           sampled[:1], "2", redraw=True, weak_seed=True)
    again = panels.draw_panels(store, PERIOD, r, date(2027, 1, 27), date(2027, 1, 21),
                               sampled[:1], "2", redraw=True, reason="首次评审专家意见分歧",
                               weak_seed=True)
    assert again.reason == "首次评审专家意见分歧"


def test_a_specialty_naming_the_industry_qualifies(tmp_path: Path) -> None:
    inputs = panel_inputs()
    inputs.experts[6]["specialties"] = "食品加工"  # ZJ0007: the industry itself
    store, snap, r = frozen(tmp_path, inputs)
    draw_reviews(store, PERIOD, r, "27182818284590452353")
    food = sorted(p["project_id"] for p in inputs.projects
                  if p["industry"] == "食品加工" and p["project_id"].startswith("P"))
    params = {"meeting": MEETING.isoformat(), "drawn_on": TODAY.isoformat(),
              "documents": food[:1], "prior": [], "declined": []}
    old = panels.compute_panels(snap, SEED, params)["items"][0]
    new = panels.compute_panels_v2(snap, SEED, params)["items"][0]
    assert "食品加工" not in old["specialties"] and "食品加工" in new["specialties"]
    assert new["eligible"] == old["eligible"] + 1
