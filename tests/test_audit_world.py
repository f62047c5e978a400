"""A tiny hand-checkable period shared by the audit, bundle, export and report tests.

The inspection plan is drawn by a small stand-in algorithm (``test-plan/1``,
registered beside the real ones in :data:`WORLD_REGISTRY`; the real plan has its
own tests): it follows the plan output contract
(strata, exclusions, items with dates and two inspectors) and is a pure
function of (snapshot, seed, params), so ``suiji verify`` can recompute it.
The review sample, panels and declines are the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import pytest

from suiji.data.draws import DrawRecord, current_draw, record_draw, record_event
from suiji.data.period import Period
from suiji.data.rules import Rules, parse_rules, preset_text
from suiji.data.snapshot import Snapshot, freeze
from suiji.data.store import Store
from suiji.data.verify import Algorithm, Registry, verify_store
from suiji.reports.writers import id_check_char
from suiji.sample.generate import uscc_check_char
from suiji.sampler.tickets import derived_seed, smallest, ticket_string

P = Period.parse("2026Q4")
SEED = "80417263950183746251"
REVIEW_SEED = "27182818284590452353"
PANEL_SEED = "31415926535897932384"
RULES: Rules = parse_rules(preset_text())
PERSON_ID = "11010119900307457" + id_check_char("11010119900307457")
MOBILE = "13812345678"
LANDLINE = "0571-87654321"


def uscc(i: int) -> str:
    body = f"9132990000000{i:04d}"
    return body + uscc_check_char(body)


def agency_uscc(i: int) -> str:
    body = f"9132990000009{i:04d}"
    return body + uscc_check_char(body)


# The general firms are all drawn by the stand-in plan, so these names reach every export.
COMPANIES = [
    (uscc(0), "江州化工有限公司", "一区", "key", "active"),
    (uscc(1), "江州钢铁有限公司", "一区", "key", "active"),
    (uscc(2), "江州造纸有限公司", "二区", "key", "active"),
    (uscc(3), "江州电镀有限公司", "二区", "key", "active"),
    (uscc(4), f"个体户张三（电话{MOBILE}）", "一区", "general", "active"),
    (uscc(5), "=HYPERLINK(\"http://x\",\"点击\")", "二区", "general", "active"),
    (uscc(6), f"李四洗车店 身份证{PERSON_ID}", "二区", "general", "active"),
    (uscc(7), "-2+3 印刷厂", "一区", "general", "active"),
    (uscc(8), "江州正面清单有限公司", "一区", "key", "active"),
    (uscc(9), "江州关停有限公司", "二区", "key", "closed"),
]
INSPECTORS = [
    ("B001", "王五", "江州市执法支队", "全市"),
    ("B002", f"赵六 {LANDLINE}", "江州市执法支队", "全市"),
    ("B003", "钱七", "江州市执法支队", "全市"),
    ("B004", "孙八", "江州市执法支队", "全市"),
    ("B005", "周九", "江州市执法支队", "全市"),
]


def companies_frame() -> pd.DataFrame:
    return pd.DataFrame([{"uscc": u, "name": n, "district": d, "city": "江州市", "category": c,
                          "industry": "化工", "status": s, "risk": ""}
                         for u, n, d, c, s in COMPANIES])


def inspectors_frame() -> pd.DataFrame:
    return pd.DataFrame([{"badge": b, "name": n, "unit": u, "district": d, "city": "江州市",
                          "active": "yes", "capacity": "", "daily_capacity": ""}
                         for b, n, u, d in INSPECTORS])


# --- the stand-in plan ------------------------------------------------------------------

def fake_plan(snapshot: Snapshot, seed: str, params: dict[str, Any]) -> dict[str, Any]:
    companies = snapshot.frame("companies.csv")
    positive = set(snapshot.frame("positive-list.csv")["uscc"])
    conflicts = snapshot.frame("conflicts.csv")
    badges = sorted(snapshot.frame("inspectors.csv")["badge"])
    days = snapshot.working_days
    exclusions = []
    strata = []
    items = []
    for category in ("general", "key"):
        frame = companies[companies["category"] == category].sort_values("uscc")
        eligible = []
        for r in frame.itertuples(index=False):
            reason = ("status" if r.status != "active" else
                      "positive_list" if r.uscc in positive else "")
            if reason:
                exclusions.append({"uscc": r.uscc, "name": r.name, "district": r.district,
                                   "category": category, "reason": reason})
            else:
                eligible.append(r)
        k = min(int(params["quota"][category]), len(eligible))
        ids = [r.uscc for r in eligible]
        chosen = smallest(ids, derived_seed(seed, f"stratum|{category}"), k)
        strata.append({"category": category, "eligible": len(ids), "quota": k, "drawn": k,
                       "method": "srs", "min_per_district": 0})
        by_id = {r.uscc: r for r in eligible}
        for u in chosen:
            r = by_id[u]
            banned = set(conflicts.loc[conflicts["counterpart"] == u, "person"])
            team = smallest([b for b in badges if b not in banned],
                            derived_seed(seed, f"team|{u}"), 2)
            items.append({"uscc": u, "name": r.name, "district": r.district, "city": r.city,
                          "category": category, "industry": r.industry,
                          "probability": k / len(ids), "ticket": ticket_string(u, seed),
                          "inspectors": team, "stratum": category})
    items.sort(key=lambda i: i["ticket"])
    for n, item in enumerate(items):
        item["date"] = days[(n * 9) % len(days)].isoformat()
    excluded = {"status": 0, "positive_list": 0, "annual_cap": 0}
    for e in exclusions:
        excluded[e["reason"]] += 1
    return {"algorithm": "test-plan/1", "period": snapshot.period, "seed": seed,
            "snapshot": snapshot.digest, "strata": strata, "excluded": excluded,
            "exclusions": exclusions, "items": items, "solver": {"status": "optimal"}}


def fake_substitution(snapshot: Snapshot, seed: str, previous: dict[str, Any],
                      params: dict[str, Any]) -> dict[str, Any]:
    badges = sorted(snapshot.frame("inspectors.csv")["badge"])
    conflicts = snapshot.frame("conflicts.csv")
    out = dict(previous)
    items = []
    for item in previous["items"]:
        item = dict(item)
        if params["inspector"] in item["inspectors"] and item["date"] >= params["from"]:
            team = [b for b in item["inspectors"] if b != params["inspector"]]
            banned = set(conflicts.loc[conflicts["counterpart"] == item["uscc"], "person"])
            free = [b for b in badges if b not in item["inspectors"] and b not in banned]
            team += smallest(free, derived_seed(seed, f"substitute|{item['uscc']}"), 1)
            item["inspectors"] = sorted(team)
        items.append(item)
    out["items"] = items
    return out


def _world_registry() -> Registry:
    from suiji.scheduler.algorithms import REGISTRY

    return Registry((*REGISTRY.algorithms,
                     Algorithm("test-plan/1", fake_plan, {"substitution": fake_substitution})))


WORLD_REGISTRY = _world_registry()


def install_fake_algorithms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI's registry know the stand-in plan for this test (undone afterwards)."""
    from suiji.scheduler import algorithms

    monkeypatch.setattr(algorithms, "REGISTRY", WORLD_REGISTRY)


# --- the world ------------------------------------------------------------------------

@dataclass(frozen=True)
class World:
    store: Store
    plan: DrawRecord
    substitution: int
    reviews: DrawRecord | None
    panels: DrawRecord | None
    meeting: date | None


def review_frames() -> dict[str, pd.DataFrame]:
    agencies = pd.DataFrame([{"uscc": agency_uscc(i), "name": f"江州环评咨询{i}有限公司",
                              "watch": "yes" if i == 0 else "no"} for i in range(3)])
    projects = pd.DataFrame([{"project_id": f"HP2026-{i:03d}", "name": f"建设项目{i}",
                              "doc_type": "report" if i % 3 == 0 else "form",
                              "approved_on": f"2026-10-{1 + i:02d}",
                              "agency_uscc": agency_uscc(i % 3), "developer": f"建设单位{i}",
                              "industry": "化工" if i % 2 else "电镀", "district": "一区"}
                             for i in range(10)])
    experts = pd.DataFrame([{"expert_id": f"E{i:03d}", "name": f"专家{i}",
                             "specialties": "化工、环境工程、水环境、石化",
                             "employer": f"江州大学{i}", "birth_year": "1970", "active": "yes"}
                            for i in range(12)])
    history = pd.DataFrame(columns=["expert_id", "employer", "start", "end"])
    return {"agencies": agencies, "projects": projects, "experts": experts,
            "employment-history": history}


def build_world(store: Store, *, reviews: bool = True, panels: bool = True) -> World:
    """Directories, freeze, the stand-in plan, one substitution, results; reviews and panels,
    recorded on 2026-12-01 (the panels' draw date)."""
    from conftest import fixed_clock

    with fixed_clock("2026-12-01T01:00:00"):
        return _build_world(store, reviews=reviews, panels=panels)


def _build_world(store: Store, *, reviews: bool, panels: bool) -> World:
    store.replace("companies", companies_frame())
    store.replace("inspectors", inspectors_frame())
    store.replace("conflicts", pd.DataFrame([
        {"person": "B001", "counterpart": uscc(4), "reason": "亲属任职", "until": ""},
        {"person": "E000", "counterpart": "建设单位0", "reason": "近亲属持股", "until": ""}]))
    store.replace("positive-list", pd.DataFrame([{"uscc": uscc(8), "start": "2026-01-01",
                                                  "end": "2028-12-31"}]))
    snap = freeze(store, P, "inspections", RULES)
    params = {"quota": {"general": 4, "key": 2}}
    with store.transaction():
        plan = record_draw(store, scope="inspections", snapshot=snap, seed=SEED,
                           seed_source="user", algorithm="test-plan/1",
                           output=fake_plan(snap, SEED, params), params=params)
    first = min(plan.output["items"], key=lambda i: i["date"])
    sub_params = {"inspector": first["inspectors"][0], "from": "2026-11-01"}
    event = record_event(store, plan, "substitution", sub_params,
                         fake_substitution(snap, SEED, plan.output, sub_params), "病假")
    from suiji.data.results import record_results

    record_results(store, pd.DataFrame([
        {"uscc": item["uscc"], "outcome": "issue_found", "date": item["date"],
         "reason": f"联系人电话 {MOBILE}，身份证 {PERSON_ID}", "period": ""}
        for item in plan.output["items"] if item["date"] < "2026-11-15"]), period=str(P))
    review_draw = panel_draw = None
    meeting = None
    if reviews:
        from suiji.sampler.reviews import draw_reviews

        for kind, frame in review_frames().items():
            store.replace(kind, frame)
        freeze(store, P, "reviews", RULES)
        review_draw = draw_reviews(store, P, RULES, REVIEW_SEED)
        if panels:
            from suiji.scheduler.panels import draw_panels

            meeting = date(2026, 12, 10)
            panel_draw = draw_panels(store, P, RULES, meeting, date(2026, 12, 1),
                                     seed=PANEL_SEED)
    current = current_draw(store, str(P), "inspections")
    assert current is not None
    return World(store, current, event, review_draw, panel_draw, meeting)


# --- tests of the world itself -----------------------------------------------------------

def test_world_is_what_the_other_tests_assume(world: World) -> None:
    items = world.plan.output["items"]
    assert len(items) == 6  # 4 general + 2 key
    names = {i["name"] for i in items}
    assert {c[1] for c in COMPANIES if c[3] == "general"} <= names
    assert all(len(i["inspectors"]) == 2 for i in items)
    assert not any(i["uscc"] == uscc(4) and "B001" in i["inspectors"] for i in items)
    assert world.plan.output["excluded"] == {"status": 1, "positive_list": 1, "annual_cap": 0}
    report = verify_store(world.store, WORLD_REGISTRY)
    assert report.ok, report.findings
    assert report.checked["draws"] == 3 and report.checked["events"] == 1
