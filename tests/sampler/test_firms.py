"""suiji.sampler.firms: eligibility, quotas, Rivest equality, district minimums, PPS."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from consistent_sampler import sampler
from hypothesis import given, settings
from hypothesis import strategies as st

from suiji.data.errors import RulesError, SuijiError
from suiji.data.period import Period
from suiji.data.rules import InspectionRules, Quota, parse_rules, preset_text
from suiji.sampler.district_minimum import district_probabilities
from suiji.sampler.firms import draw_firms, risk_weights, stratum_quota
from suiji.sampler.tickets import (
    digest_at,
    pool_tickets,
    smallest_positions,
    ticket_from_digest,
    ticket_keys,
    ticket_string,
)

Q4 = Period.parse("2026Q4")
SEED = "80417263950183746251"
DEFAULT = parse_rules(preset_text()).inspection


def uscc(i: int) -> str:
    return f"91320100MA{i:07d}X"


def companies(n: int, categories: tuple[str, ...] = ("key", "general", "special"),
              districts: tuple[str, ...] = ("东区", "西区", "南区"),
              status: dict[int, str] | None = None, risk: dict[int, str] | None = None
              ) -> pd.DataFrame:
    status, risk = status or {}, risk or {}
    columns = ["uscc", "name", "district", "city", "category", "industry", "status", "risk"]
    return pd.DataFrame(columns=columns, data=[{
        "uscc": uscc(i), "name": f"企业{i}", "district": districts[i % len(districts)],
        "city": "江州市", "category": categories[i % len(categories)], "industry": "化工",
        "status": status.get(i, "active"), "risk": risk.get(i, "")} for i in range(n)],
        dtype=object)


def no_rows(*columns: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


NO_POSITIVE = no_rows("uscc", "start", "end")
NO_HISTORY = no_rows("uscc", "date", "kind", "source")


def rules(**quota: Quota) -> InspectionRules:
    return dataclasses.replace(DEFAULT, quota={**DEFAULT.quota, **quota})


def ratio(r: float, m: int = 0) -> Quota:
    return Quota(mode="ratio", ratio=r, min_per_district=m)


# --- tickets -------------------------------------------------------------------------


def test_pool_tickets_equal_ticket_keys_and_strings() -> None:
    ids = [uscc(i) for i in range(300)] + ["AB-130", "甲乙"]
    keys, digests = pool_tickets(ids, SEED)
    assert np.array_equal(keys, ticket_keys(ids, SEED))
    assert len(digests) == 32 * len(ids)
    for k, i in enumerate(ids[:20]):
        assert ticket_from_digest(digest_at(digests, k)) == ticket_string(i, SEED)


def test_smallest_positions_settles_key_ties_on_the_full_ticket() -> None:
    ids = np.array(["a", "b", "c", "d", "e"], dtype=object)
    keys = np.full(5, 7, dtype=np.uint64)
    keys[4] = 1  # "e" is smallest for sure
    got = smallest_positions(keys, ids, "s", 3)
    by_ticket = sorted("abcd", key=lambda i: ticket_string(i, "s"))
    assert sorted(ids[got].tolist()) == sorted(["e", *by_ticket[:2]])


# --- eligibility ----------------------------------------------------------------------


def test_exclusions_have_one_reason_each_in_precedence_order() -> None:
    comp = companies(12, status={0: "closed", 1: "stopped", 2: "bankrupt", 3: "moved"})
    positive = pd.DataFrame([
        {"uscc": uscc(0), "start": "2025-01-01", "end": "2027-12-31"},  # also closed
        {"uscc": uscc(4), "start": "2026-10-01", "end": "2026-10-01"},  # window = first day
        {"uscc": uscc(5), "start": "2023-10-01", "end": "2026-09-30"},  # ended the day before
        {"uscc": uscc(6), "start": "2026-10-02", "end": "2029-10-01"}])  # starts the day after
    history = pd.DataFrame([
        {"uscc": uscc(4), "date": "2026-03-02", "kind": "random", "source": "import"},
        {"uscc": uscc(7), "date": "2026-03-02", "kind": "random", "source": "import"},
        {"uscc": uscc(8), "date": "", "kind": "random", "source": "plan:2026Q2"},
        {"uscc": uscc(9), "date": "2026-05-02", "kind": "complaint", "source": "import"},
        {"uscc": uscc(10), "date": "2026-10-09", "kind": "random", "source": "import"},
        {"uscc": uscc(11), "date": "2025-12-30", "kind": "random", "source": "import"}])
    d = draw_firms(comp, positive, history, DEFAULT, Q4, SEED, 10)
    reasons = {e.uscc: e.reason for e in d.exclusions}
    assert reasons == {uscc(0): "status", uscc(1): "status", uscc(2): "status",
                       uscc(3): "status", uscc(4): "positive_list", uscc(7): "annual_cap",
                       uscc(8): "annual_cap"}
    assert dict(d.excluded) == {"status": 4, "positive_list": 1, "annual_cap": 2}
    assert dict(d.by_status) == {"bankrupt": 1, "closed": 1, "moved": 1, "stopped": 1}
    assert [e.uscc for e in d.exclusions] == sorted(reasons)
    drawn = set(d.usccs)
    assert not drawn & set(reasons)
    assert sum(s.eligible for s in d.strata) == 12 - 7
    assert set(d.probabilities) == {uscc(i) for i in (5, 6, 9, 10, 11)}


def test_annual_cap_of_two_allows_a_second_routine_inspection() -> None:
    comp = companies(4, categories=("key",))
    history = pd.DataFrame([
        {"uscc": uscc(0), "date": "2026-02-02", "kind": "random", "source": "import"},
        {"uscc": uscc(1), "date": "2026-02-02", "kind": "random", "source": "import"},
        {"uscc": uscc(1), "date": "2026-07-02", "kind": "random", "source": "plan:2026Q3"}])
    two = dataclasses.replace(DEFAULT, annual_cap=2)
    d = draw_firms(comp, NO_POSITIVE, history, two, Q4, SEED, 1)
    assert [e.uscc for e in d.exclusions] == [uscc(1)]
    assert d.strata[0].eligible == 3


# --- quotas ---------------------------------------------------------------------------


@pytest.mark.parametrize(("quota", "eligible", "inspectors", "period", "expected"), [
    (Quota("ratio", ratio=0.07), 100, 0, "2026Q1", 7),  # 0.07 * 100 is 7, not 8
    (Quota("ratio", ratio=0.25), 10, 0, "2026Q1", 3),
    (Quota("ratio", ratio=0.0), 10, 0, "2026Q1", 0),
    (Quota("per_inspector", per_year=5), 1000, 10, "2026Q1", 13),  # ceil(5 * 10 / 4)
    (Quota("per_inspector", per_year=5), 7, 10, "2026Q1", 7),  # capped at eligible
    (Quota("annual_all"), 10, 0, "2026Q1", 3),  # ceil(10 / 4)
    (Quota("annual_all"), 10, 0, "2026Q3", 5),
    (Quota("annual_all"), 10, 0, "2026Q4", 10),
])
def test_stratum_quota(quota: Quota, eligible: int, inspectors: int, period: str,
                       expected: int) -> None:
    assert stratum_quota(quota, eligible, inspectors, Period.parse(period)) == expected


def test_annual_all_draws_among_firms_not_yet_inspected() -> None:
    comp = companies(20, categories=("special",))
    history = pd.DataFrame([{"uscc": uscc(i), "date": "2026-01-05", "kind": "random",
                             "source": "import"} for i in range(6)])
    two = dataclasses.replace(DEFAULT, annual_cap=2)  # inspected firms stay eligible...
    d = draw_firms(comp, NO_POSITIVE, history, two, Period.parse("2026Q2"), SEED, 1)
    (s,) = [s for s in d.strata if s.category == "special"]
    assert (s.eligible, s.quota, s.drawn) == (14, 5, 5)  # ceil(14 / 3)
    assert not set(d.usccs) & {uscc(i) for i in range(6)}  # ...but are not in the frame


def test_quotas_are_met_exactly_and_strata_are_reported() -> None:
    comp = companies(90)
    d = draw_firms(comp, NO_POSITIVE, NO_HISTORY, DEFAULT, Q4, SEED, 4)
    got = {s.category: (s.eligible, s.quota, s.drawn, s.method) for s in d.strata}
    assert got == {"key": (30, 8, 8, "srs"), "general": (30, 2, 2, "srs"),
                   "special": (30, 30, 30, "srs")}
    assert len(d.firms) == 40
    for f in d.firms:
        assert f.probability == pytest.approx({"key": 8 / 30, "general": 2 / 30,
                                               "special": 1.0}[f.stratum])


# --- the auditor's check --------------------------------------------------------------


def test_each_stratum_equals_consistent_sampler_with_the_plain_seed() -> None:
    comp = companies(150, status={i: "closed" for i in range(0, 150, 11)})
    positive = pd.DataFrame([{"uscc": uscc(i), "start": "2026-01-01", "end": "2028-12-31"}
                             for i in range(1, 150, 13)])
    history = pd.DataFrame([{"uscc": uscc(i), "date": "2026-04-01", "kind": "random",
                             "source": "import"} for i in range(2, 150, 7)])
    d = draw_firms(comp, positive, history, DEFAULT, Q4, SEED, 4)
    excluded = {e.uscc for e in d.exclusions}
    for s in d.strata:
        frame = [u for u, c in zip(comp["uscc"], comp["category"], strict=True)
                 if c == s.category and u not in excluded]
        assert s.eligible == len(frame)
        audit = list(sampler(frame, seed=SEED, take=s.quota, with_replacement=False,
                             output="id"))
        assert sorted(audit) == sorted(f.uscc for f in d.firms if f.stratum == s.category)
    for f in d.firms:
        assert f.ticket == ticket_string(f.uscc, SEED)


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(40))), st.booleans())
def test_result_does_not_depend_on_row_or_column_order(order: list[int],
                                                       reverse_columns: bool) -> None:
    comp = companies(40, status={3: "closed"}, risk={i: str(i % 5) for i in range(40)})
    base = draw_firms(comp, NO_POSITIVE, NO_HISTORY, DEFAULT, Q4, SEED, 3)
    shuffled = comp.iloc[order].reset_index(drop=True)
    if reverse_columns:
        shuffled = shuffled[list(reversed(shuffled.columns))]
    again = draw_firms(shuffled, NO_POSITIVE, NO_HISTORY, DEFAULT, Q4, SEED, 3)
    assert again.firms == base.firms
    assert again.exclusions == base.exclusions
    assert again.strata == base.strata
    assert again.probabilities == base.probabilities


def test_another_seed_draws_another_sample() -> None:
    comp = companies(60, categories=("key",))
    a = draw_firms(comp, NO_POSITIVE, NO_HISTORY, DEFAULT, Q4, "1", 3).usccs
    b = draw_firms(comp, NO_POSITIVE, NO_HISTORY, DEFAULT, Q4, "2", 3).usccs
    assert len(a) == len(b) == 15 and a != b


# --- min_per_district -----------------------------------------------------------------


def brute_district(sizes: list[int], m: int, k: int) -> list[float]:
    """Exact probabilities by enumerating every ticket order."""
    labels = [d for d, n in enumerate(sizes) for _ in range(n)]
    hits = [0] * len(labels)
    total = 0
    for perm in itertools.permutations(range(len(labels))):
        seen = [0] * len(sizes)
        first = []
        for f in perm:
            if seen[labels[f]] < m:
                seen[labels[f]] += 1
                first.append(f)
        rest = [f for f in perm if f not in first][: max(0, k - len(first))]
        for f in first + rest:
            hits[f] += 1
        total += 1
    starts = np.cumsum([0, *sizes[:-1]])
    return [hits[s] / total for s in starts]


@pytest.mark.parametrize(("sizes", "m", "k"), [
    ([3, 2, 2], 1, 4), ([2, 3, 3], 1, 5), ([5, 2], 2, 5), ([1, 1, 5], 1, 4), ([4, 3], 1, 2),
    ([6, 1], 2, 4)])
def test_district_probabilities_are_exact(sizes: list[int], m: int, k: int) -> None:
    got = district_probabilities(sizes, m, k)
    assert got == pytest.approx(brute_district(sizes, m, k), abs=1e-9)
    assert sum(n * p for n, p in zip(sizes, got, strict=True)) == pytest.approx(
        max(k, sum(min(m, n) for n in sizes)), abs=1e-9)


def test_district_probabilities_add_up_on_a_city_sized_stratum() -> None:
    sizes = [40, 350, 120, 900, 15, 60, 220]
    p = district_probabilities(sizes, 8, 170)
    assert sum(n * q for n, q in zip(sizes, p, strict=True)) == pytest.approx(170, abs=1e-6)
    assert p[4] > p[0] > p[3]  # small districts gain from the minimum


def test_min_per_district_takes_each_districts_smallest_then_fills_citywide() -> None:
    districts = ("东区", "西区", "南区", "北区")
    comp = companies(80, categories=("key",), districts=districts)
    comp.loc[comp.index % 4 == 3, "district"] = "东区"  # 北区 gets no firm; 东区 40
    comp.loc[comp.index == 3, "district"] = "北区"  # ...except one
    q = rules(key=ratio(0.1, m=3))
    d = draw_firms(comp, NO_POSITIVE, NO_HISTORY, q, Q4, SEED, 3)
    (s,) = [s for s in d.strata if s.category == "key"]
    by_d = comp.groupby("district")["uscc"].apply(list).to_dict()
    first = set()
    for ids in by_d.values():
        first |= set(sampler(ids, seed=SEED, take=3, with_replacement=False, output="id"))
    assert len(first) == 3 + 3 + 3 + 1
    rest = [u for u in comp["uscc"] if u not in first]
    fill = list(sampler(rest, seed=SEED, take=max(0, 8 - len(first)),
                        with_replacement=False, output="id"))
    assert set(d.usccs) == first | set(fill)
    assert (s.quota, s.drawn, s.min_per_district) == (8, 10, 3)
    assert d.probabilities[uscc(3)] == 1.0


def test_min_per_district_fill_after_minimums() -> None:
    comp = companies(60, categories=("key",), districts=("东区", "西区", "南区", "北区", "中区"))
    q = rules(key=ratio(0.5, m=2))
    d = draw_firms(comp, NO_POSITIVE, NO_HISTORY, q, Q4, SEED, 3)
    assert d.strata[0].drawn == 30
    counts = pd.Series([u for u in d.usccs]).map(
        dict(zip(comp["uscc"], comp["district"], strict=True))).value_counts()
    assert counts.min() >= 2
    assert sum(d.probabilities.values()) == pytest.approx(30, abs=1e-9)


# --- PPS ------------------------------------------------------------------------------


def test_risk_weights_fill_missing_with_the_median_and_floor_zero() -> None:
    w = risk_weights(np.array([np.nan, 0.0, 2.0, 4.0, 6.0]))
    assert w.tolist() == pytest.approx([3.0, 0.035, 2.0, 4.0, 6.0])  # median 3; 1% of 3.5
    assert risk_weights(np.array([np.nan, np.nan])).tolist() == [1.0, 1.0]
    assert risk_weights(np.array([0.0, 0.0])).tolist() == [1.0, 1.0]


def test_pps_states_probabilities_proportional_to_risk() -> None:
    risk = {i: str(1 + i % 4) for i in range(40)}
    risk[0], risk[4] = "", "0"
    comp = companies(40, categories=("key",), risk=risk)
    pps = dataclasses.replace(DEFAULT, risk_weighting=True)
    d = draw_firms(comp, NO_POSITIVE, NO_HISTORY, pps, Q4, SEED, 3)
    (s,) = [s for s in d.strata if s.category == "key"]
    assert (s.method, s.quota, s.drawn) == ("pps", 10, 10)
    p = d.probabilities
    assert sum(p.values()) == pytest.approx(10, abs=1e-9)
    assert p[uscc(3)] == pytest.approx(4 * p[uscc(8)], rel=1e-6)  # risk 4 vs 1
    given = [float(v) for k, v in risk.items() if v]
    median = float(np.median(given))  # for the missing score of firm 0
    floor = 0.01 * float(np.median([w for w in [*given, median] if w > 0]))
    assert p[uscc(0)] == pytest.approx(p[uscc(8)] * median, rel=1e-6)
    assert p[uscc(4)] == pytest.approx(p[uscc(8)] * floor, rel=1e-6)
    for f in d.firms:
        assert f.probability == p[f.uscc]


def test_pps_and_district_minimum_together_are_refused() -> None:
    q = dataclasses.replace(rules(key=ratio(0.2, m=1)), risk_weighting=True)
    with pytest.raises(RulesError, match="min_per_district"):
        draw_firms(companies(9), NO_POSITIVE, NO_HISTORY, q, Q4, SEED, 3)


def test_bad_risk_score_is_refused() -> None:
    pps = dataclasses.replace(DEFAULT, risk_weighting=True)
    with pytest.raises(SuijiError, match="风险分"):
        draw_firms(companies(6, risk={1: "高"}), NO_POSITIVE, NO_HISTORY, pps, Q4, SEED, 3)


# --- bad input and edge cases ---------------------------------------------------------


def test_duplicate_uscc_and_unknown_category_are_refused() -> None:
    comp = companies(5)
    with pytest.raises(SuijiError, match="twice"):
        draw_firms(pd.concat([comp, comp.iloc[:1]]), NO_POSITIVE, NO_HISTORY, DEFAULT, Q4,
                   SEED, 1)
    comp.loc[2, "category"] = "vip"
    with pytest.raises(SuijiError, match="vip"):
        draw_firms(comp, NO_POSITIVE, NO_HISTORY, DEFAULT, Q4, SEED, 1)
    with pytest.raises(SuijiError, match="seed"):
        draw_firms(companies(3), NO_POSITIVE, NO_HISTORY, DEFAULT, Q4, "  ", 1)


def test_empty_directory_draws_nothing() -> None:
    d = draw_firms(companies(0), NO_POSITIVE, NO_HISTORY, DEFAULT, Q4, SEED, 1)
    assert d.firms == () and d.exclusions == ()
    assert [(s.eligible, s.quota, s.drawn) for s in d.strata] == [(0, 0, 0)] * 3


def test_per_inspector_quota_uses_the_inspector_count() -> None:
    q = rules(key=Quota("per_inspector", per_year=5))
    d = draw_firms(companies(300, categories=("key",)), NO_POSITIVE, NO_HISTORY, q, Q4, SEED,
                   6)
    assert d.strata[0].quota == math.ceil(5 * 6 / 4) == len(d.firms)
