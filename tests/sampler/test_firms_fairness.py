"""What the firm draw promises, checked over many seeds.

Each eligible firm's empirical inclusion frequency over ``SEEDS`` draws must lie
within ``Z`` binomial standard deviations (plus half a draw, for discreteness)
of the probability the draw states for it: for simple random strata, for
risk-weighted PPS strata and for strata with a district minimum. Excluded firms
are never drawn and every quota is met in every draw. The seeds are fixed, so
the test is deterministic; a wrong probability of the size that matters
(a few percent) fails it, an honest draw passes with probability
> 1 - 40 × 7e-6 per run of new seeds.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from suiji.data.period import Period
from suiji.data.rules import InspectionRules, Quota, parse_rules, preset_text
from suiji.sampler.firms import FirmDraw, draw_firms

SEEDS = 400
Z = 4.5
Q2 = Period.parse("2026Q2")
BASE = parse_rules(preset_text()).inspection


def uscc(i: int) -> str:
    return f"91320100MA{i:07d}X"


def instance() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """64 firms: 20 key, 28 general, 16 special; 9 of them excluded for one reason each."""
    cats = ["key"] * 20 + ["general"] * 28 + ["special"] * 16
    districts = ("东区", "西区", "南区", "北区")
    # general firms: 北区 has only two (40, 41), so a district minimum matters there
    general_district = {i: "北区" if i in (40, 41) else districts[i % 3] for i in range(20, 48)}
    risk = [str((i * 7) % 11) if i % 9 else "" for i in range(64)]  # zeros and gaps included
    comp = pd.DataFrame({
        "uscc": [uscc(i) for i in range(64)], "name": [f"企业{i}" for i in range(64)],
        "district": [general_district.get(i, districts[i % 4]) for i in range(64)],
        "city": "江州市", "category": cats, "industry": "",
        "status": ["stopped" if i in (3, 30, 50) else "active" for i in range(64)],
        "risk": risk})
    positive = pd.DataFrame({"uscc": [uscc(i) for i in (4, 31, 51)],
                             "start": "2025-06-01", "end": "2027-05-31"})
    history = pd.DataFrame({"uscc": [uscc(i) for i in (5, 32, 52)], "date": "2026-02-10",
                            "kind": "random", "source": "import"})
    return comp, positive, history


EXCLUDED = {uscc(i) for i in (3, 30, 50, 4, 31, 51, 5, 32, 52)}


def run(rules: InspectionRules) -> tuple[Counter[str], FirmDraw]:
    comp, positive, history = instance()
    hits: Counter[str] = Counter()
    first = None
    for s in range(SEEDS):
        d = draw_firms(comp, positive, history, rules, Q2, f"fair-{s}", 8)
        first = first or d
        assert not set(d.usccs) & EXCLUDED
        for stratum in d.strata:
            assert stratum.drawn == stratum.quota or (
                stratum.min_per_district and stratum.drawn > stratum.quota)
            assert sum(f.stratum == stratum.category for f in d.firms) == stratum.drawn
        hits.update(d.usccs)
    assert first is not None
    return hits, first


def check_frequencies(hits: Counter[str], stated: dict[str, float]) -> None:
    assert set(hits) <= set(stated)
    worst = []
    for firm, p in stated.items():
        freq = hits[firm] / SEEDS
        allowed = Z * np.sqrt(p * (1 - p) / SEEDS) + 0.5 / SEEDS
        if abs(freq - p) > allowed:
            worst.append(f"{firm}: stated {p:.4f}, drawn in {freq:.4f} of {SEEDS} seeds")
    assert not worst, "\n".join(worst)


QUOTAS = {"key": Quota("ratio", ratio=0.3), "general": Quota("ratio", ratio=0.1),
          "special": Quota("annual_all")}


def test_simple_random_strata_achieve_their_stated_probabilities() -> None:
    rules = dataclasses.replace(BASE, quota=QUOTAS)
    hits, first = run(rules)
    got = {s.category: (s.eligible, s.quota, s.method) for s in first.strata}
    assert got == {"key": (17, 6, "srs"), "general": (25, 3, "srs"),
                   "special": (13, 5, "srs")}  # special: ceil(13 / 3 quarters left)
    assert first.probabilities[uscc(0)] == pytest.approx(6 / 17)
    check_frequencies(hits, first.probabilities)


def test_pps_strata_achieve_their_stated_probabilities() -> None:
    rules = dataclasses.replace(BASE, quota=QUOTAS, risk_weighting=True)
    hits, first = run(rules)
    assert {s.method for s in first.strata} == {"pps"}
    p = first.probabilities
    assert len(set(np.round(list(p.values()), 6))) > 5  # really unequal
    for stratum in first.strata:
        members = [u for u, f in p.items() if f > 0 and u in _category(stratum.category)]
        assert sum(p[u] for u in members) == pytest.approx(stratum.quota, abs=1e-9)
    check_frequencies(hits, p)


def test_district_minimum_strata_achieve_their_stated_probabilities() -> None:
    quotas = {**QUOTAS, "general": Quota("ratio", ratio=0.3, min_per_district=1)}
    rules = dataclasses.replace(BASE, quota=quotas)
    hits, first = run(rules)
    p = first.probabilities
    (g,) = [s for s in first.strata if s.category == "general"]
    assert (g.eligible, g.quota, g.drawn) == (25, 8, 8)  # 4 district minimums, 4 city-wide
    assert p[uscc(40)] > 0.5 > 8 / 25 > p[uscc(20)]  # the small district gains
    assert sum(p[u] for u in _category("general") if u in p) == pytest.approx(8, abs=1e-7)
    check_frequencies(hits, p)


def _category(name: str) -> set[str]:
    comp, _, _ = instance()
    return set(comp.loc[comp["category"] == name, "uscc"])
