"""The plan as a screen shows it: filtered, one page at a time, sealed rows marked.

Pure functions of a :class:`~suiji.reports.notice.PlanView`: an interface
loads the view once and asks for pages; no page holds more rows than it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from suiji.reports.notice import (
    CATEGORY_LABEL,
    MATTERS,
    OUTCOME_LABEL,
    PlanView,
    _sort_key,
    is_public,
)

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class PlanQuery:
    """Filters (empty: any) and the page wanted (1-based)."""

    district: str = ""
    category: str = ""  # key, general, special
    date: str = ""  # YYYY-MM-DD
    inspector: str = ""  # a badge number or part of a name
    page: int = 1
    per_page: int = 50

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError("page starts at 1")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")


@dataclass(frozen=True)
class PlanPage:
    rows: tuple[dict[str, Any], ...]
    total: int  # inspections in the plan
    matching: int  # inspections the filters keep
    sealed: int  # of the matching, those not yet carried out (sealed until their date)
    page: int
    pages: int
    districts: tuple[str, ...]  # every district of the plan, for the filter's choices
    dates: tuple[str, ...]
    offset: int  # how many matching rows come before this page

    @property
    def first(self) -> int:
        """1-based position of the page's first row among the matching ones (0: none)."""
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)


def _matches(item: dict[str, Any], q: PlanQuery, names: dict[str, str]) -> bool:
    if q.district and item.get("district") != q.district:
        return False
    if q.category and item.get("category") != q.category:
        return False
    if q.date and item.get("date") != q.date:
        return False
    if q.inspector:
        needle = q.inspector.strip()
        badges = [str(b) for b in item.get("inspectors", [])]
        if needle not in badges and not any(needle in names.get(b, "") for b in badges):
            return False
    return True


@dataclass(frozen=True)
class PlanIndex:
    """A plan's items in export order (date, district, USCC), sorted once for many pages."""

    view: PlanView
    items: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, view: PlanView) -> PlanIndex:
        return cls(view, tuple(sorted(view.items, key=_sort_key)))


def plan_page(plan: PlanView | PlanIndex, query: PlanQuery, as_of: date, lang: str = "zh"
              ) -> PlanPage:
    """The rows of one page of the plan (date, district, USCC order) under ``query``.

    Give a :class:`PlanIndex` when asking for many pages of the same plan.
    """
    index = plan if isinstance(plan, PlanIndex) else PlanIndex.of(plan)
    view, items = index.view, index.items
    filtered = query.district or query.category or query.date or query.inspector
    keep = ([i for i in items if _matches(i, query, view.inspector_names)] if filtered
            else list(items))
    pages = max(1, -(-len(keep) // query.per_page))
    page = min(query.page, pages)
    start = (page - 1) * query.per_page
    outcome = OUTCOME_LABEL[lang]
    rows = []
    for n, item in enumerate(keep[start:start + query.per_page], start=start + 1):
        badges = [str(b) for b in item.get("inspectors", [])]
        result = view.results.get(str(item.get("uscc")))
        category = str(item.get("category", ""))
        rows.append({
            "no": n, "uscc": item.get("uscc", ""), "name": item.get("name", ""),
            "district": item.get("district", ""), "category": category,
            "category_label": CATEGORY_LABEL[lang].get(category, category),
            "matters": MATTERS[lang].get(category, ""), "date": item.get("date", ""),
            "inspectors": [(b, view.inspector_names.get(b, "")) for b in badges],
            "probability": item.get("probability"), "ticket": str(item.get("ticket", "")),
            "sealed": not is_public(item, as_of),
            "result": outcome.get(result["outcome"], result["outcome"]) if result else "",
        })
    sealed = sum(1 for i in keep if not is_public(i, as_of))
    return PlanPage(tuple(rows), len(items), len(keep), sealed, page, pages,
                    tuple(sorted({str(i.get("district", "")) for i in items})),
                    tuple(sorted({str(i.get("date", "")) for i in items})), start)
