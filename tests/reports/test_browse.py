"""The plan on a screen: filters and pages over the same rows the exports hold."""

from __future__ import annotations

from datetime import date

import pytest

from suiji.data.period import Period
from suiji.data.rules import parse_rules, preset_text
from suiji.data.store import Store
from suiji.reports.browse import PlanIndex, PlanQuery, plan_page
from suiji.reports.notice import plan_rows, plan_view
from suiji.scheduler.plan import draw_plan
from tests.fixtures.city import INSPECTION_KINDS, frozen_city


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    _, db = frozen_city(tmp_path_factory.mktemp("browse"), INSPECTION_KINDS, ("inspections",),
                        firms=600, inspectors=40, projects=10, agencies=3, experts=10)
    store = Store.open(db)
    draw_plan(store, Period.parse("2026Q4"),
              parse_rules(preset_text("default"), "default"), "12345678901234567890",
              today=date(2026, 9, 25))
    return plan_view(store, "2026Q4")


AS_OF = date(2026, 11, 16)


def test_pages_cover_the_plan_once_in_export_order(view) -> None:  # type: ignore[no-untyped-def]
    rows, _ = plan_rows(view, public=False, as_of=AS_OF)
    seen = []
    page = plan_page(view, PlanQuery(per_page=7), AS_OF)
    for n in range(1, page.pages + 1):
        p = plan_page(view, PlanQuery(page=n, per_page=7), AS_OF)
        assert p.first == (n - 1) * 7 + 1 and p.last == p.first + len(p.rows) - 1
        seen += [r["uscc"] for r in p.rows]
    assert seen == [r["uscc"] for r in rows]
    assert page.total == page.matching == len(rows)
    assert page.sealed == sum(1 for r in rows if r["date"] >= AS_OF.isoformat())
    beyond = plan_page(view, PlanQuery(page=page.pages + 5, per_page=7), AS_OF)
    assert beyond.page == page.pages
    index = PlanIndex.of(view)
    for query in (PlanQuery(page=2, per_page=7), PlanQuery(category="key", per_page=9)):
        assert plan_page(index, query, AS_OF) == plan_page(view, query, AS_OF)


def test_filters_keep_exactly_the_matching_rows(view) -> None:  # type: ignore[no-untyped-def]
    items = view.items
    district = items[0]["district"]
    badge = str(items[0]["inspectors"][0])
    day = items[0]["date"]
    for query, keep in [
        (PlanQuery(district=district, per_page=200), lambda i: i["district"] == district),
        (PlanQuery(category="key", per_page=200), lambda i: i["category"] == "key"),
        (PlanQuery(date=day, per_page=200), lambda i: i["date"] == day),
        (PlanQuery(inspector=badge, per_page=200),
         lambda i: badge in [str(b) for b in i["inspectors"]]),
    ]:
        page = plan_page(view, query, AS_OF)
        assert page.matching == sum(1 for i in items if keep(i)) > 0
        assert all(keep(next(i for i in items if i["uscc"] == r["uscc"])) for r in page.rows)
    name = view.inspector_names[badge]
    assert plan_page(view, PlanQuery(inspector=name[:2], per_page=200), AS_OF).matching >= \
        plan_page(view, PlanQuery(inspector=badge, per_page=200), AS_OF).matching
    assert plan_page(view, PlanQuery(district="无此区"), AS_OF).rows == ()
    with pytest.raises(ValueError):
        PlanQuery(per_page=10_000)
