"""Credit points of agencies and lead authors, their states, and the derived watch list.

The rule (ALGORITHM.md, section "The derived watch list") is :func:`derive_watch_list`,
a pure function of four frozen files of a reviews snapshot (``findings.csv``,
``projects.csv``, ``agencies.csv``, ``rules.toml``), so an auditor recomputes
``watch-list.csv`` from the bundle. For a period P:

1. Findings count when reviewed before P's first day, in P's year (points) or the
   year before (previous points). An agency's points are the sum of its
   findings' points; a lead author's, keyed by registration number, likewise.
2. State: ``blacklist`` (黑名单) when this or last year's points reach
   ``credit.blacklist_points``, else ``rectify`` (限期整改) at
   ``credit.rectify_points``, else ``ok``.
3. An agency is watched for P, with every reason that applies, in this order:
   ``manual`` (重点监督 = 是 in agencies.csv), ``blacklist`` / ``rectify`` (its
   own state), ``author_listed`` (a document of the agency approved in the
   window below or in P has a lead author whose state is not ok),
   ``high_output`` (高产出: approved documents in the four quarters before P,
   more than ``credit.high_output_per_author`` times the number of distinct
   registered lead authors of those documents; agencies without any registered
   lead author there are not assessed).

The file is part of a reviews freeze only when the store has a finding or a
project with a lead author; without it, a snapshot behaves as it always did
(the watch flag of agencies.csv alone).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

import pandas as pd

from suiji.data.canonical import frame_csv, read_frame_csv
from suiji.data.findings import FINDINGS_COLUMNS, current_findings
from suiji.data.loop_rules import CreditRules
from suiji.data.period import Period
from suiji.data.rules import Rules
from suiji.data.store import Store

REASONS = ("manual", "blacklist", "rectify", "author_listed", "high_output")
REASON_ZH = {"manual": "手工标记", "blacklist": "黑名单", "rectify": "限期整改",
             "author_listed": "编制主持人被记分列入名单", "high_output": "高产出"}
STATE_ZH = {"ok": "正常", "rectify": "限期整改", "blacklist": "黑名单"}
WATCH_COLUMNS = ["agency_uscc", "reasons", "state", "points", "previous_points", "documents",
                 "authors"]
WATCH_FILE = "watch-list.csv"
FINDINGS_FILE = "findings.csv"


def _num(text: Any) -> Fraction:
    return Fraction(str(text)) if str(text).strip() else Fraction(0)


def _text(value: Fraction) -> str:
    from suiji.data.findings import format_number

    return format_number(float(value))


def year_before(day: date) -> date:
    return day.replace(year=day.year - 1) if not (day.month == 2 and day.day == 29) \
        else date(day.year - 1, 2, 28)


def points_by(findings: pd.DataFrame, column: str, before: date
              ) -> dict[tuple[str, int], Fraction]:
    """(id, year) -> points of the findings reviewed before ``before``, by ``column``
    (agency_uscc or lead_author_reg; empty ids left out)."""
    out: dict[tuple[str, int], Fraction] = {}
    for r in findings.itertuples(index=False):
        ident = str(getattr(r, column))
        if not ident or str(r.reviewed_on) >= before.isoformat():
            continue
        key = (ident, int(str(r.reviewed_on)[:4]))
        out[key] = out.get(key, Fraction(0)) + _num(r.points)
    return out


def states(points: dict[tuple[str, int], Fraction], year: int, credit: CreditRules
           ) -> dict[str, tuple[str, Fraction, Fraction]]:
    """id -> (state, points in ``year``, points in ``year - 1``) for every id with points."""
    ids = sorted({i for i, y in points if y in (year, year - 1)})
    out = {}
    for i in ids:
        now, prev = points.get((i, year), Fraction(0)), points.get((i, year - 1), Fraction(0))
        out[i] = (credit.state(float(now), float(prev)), now, prev)
    return out


def derive_watch_list(period: Period, findings: pd.DataFrame, projects: pd.DataFrame,
                      agencies: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The watch list of ``period`` (``WATCH_COLUMNS``, one row per watched agency, sorted
    by USCC): the rule of the module docstring, from frozen frames only."""
    credit = rules.credit
    start = period.first_day
    window = year_before(start)
    agency_states = states(points_by(findings, "agency_uscc", start), period.year, credit)
    author_states = states(points_by(findings, "lead_author_reg", start), period.year, credit)
    listed_authors = {a for a, (s, _, _) in author_states.items() if s != "ok"}
    approved = projects["approved_on"].astype(str)
    regs = (projects["lead_author_reg"].astype(str) if "lead_author_reg" in projects
            else pd.Series("", index=projects.index, dtype=object))
    before = projects[(approved >= window.isoformat()) & (approved < start.isoformat())]
    during = projects[(approved >= window.isoformat()) & (approved <= period.last_day.isoformat())]
    documents = before.groupby("agency_uscc")["project_id"].count().to_dict()
    authors = {a: len({x for x in g if x}) for a, g in regs[before.index].groupby(
        before["agency_uscc"])}
    flagged = {str(a) for a, reg in zip(during["agency_uscc"], regs[during.index], strict=True)
               if reg and reg in listed_authors}
    manual = set(agencies.loc[agencies["watch"].astype(str) == "yes", "uscc"].astype(str))
    ids = sorted(manual | set(agency_states) | flagged | set(documents))
    rows = []
    for a in ids:
        state, now, prev = agency_states.get(a, ("ok", Fraction(0), Fraction(0)))
        n_docs, n_authors = int(documents.get(a, 0)), int(authors.get(a, 0))
        high = n_authors > 0 and Fraction(n_docs) > Fraction(
            repr(float(credit.high_output_per_author))) * n_authors
        reasons = [r for r, on in (("manual", a in manual), ("blacklist", state == "blacklist"),
                                   ("rectify", state == "rectify"),
                                   ("author_listed", a in flagged), ("high_output", high)) if on]
        if reasons:
            rows.append([a, ";".join(reasons), state, _text(now), _text(prev), str(n_docs),
                         str(n_authors)])
    return pd.DataFrame(rows, columns=WATCH_COLUMNS, dtype=object)


# --- frozen files (registered in suiji.data.snapshot.SCOPE_INPUTS) ---------------------------


def loop_active(store: Store) -> bool:
    """Whether reviews freezes carry the loop's files: a finding, or a lead author, exists."""
    if store.conn.execute("SELECT 1 FROM findings LIMIT 1").fetchone():
        return True
    return bool(store.conn.execute(
        "SELECT 1 FROM dir_projects WHERE _to IS NULL AND lead_author_reg != '' LIMIT 1"
    ).fetchone())


def findings_file(store: Store, period: Period, rules: Rules) -> tuple[bytes, int] | None:
    if not loop_active(store):
        return None
    frame = current_findings(store)
    return frame_csv(frame), len(frame)


def watch_list_file(store: Store, period: Period, rules: Rules) -> tuple[bytes, int] | None:
    if not loop_active(store):
        return None
    frame = derive_watch_list(period, current_findings(store), store.read("projects"),
                              store.read("agencies"), rules)
    return frame_csv(frame), len(frame)


def recompute_watch_list(files: dict[str, bytes], period: str, rules: Rules) -> bytes | None:
    """watch-list.csv recomputed from a snapshot's (or bundle's) other frozen files; None
    when the snapshot has no watch list."""
    if WATCH_FILE not in files:
        return None
    findings = (read_frame_csv(files[FINDINGS_FILE]) if FINDINGS_FILE in files
                else pd.DataFrame(columns=FINDINGS_COLUMNS, dtype=object))
    if findings.empty:
        findings = pd.DataFrame(columns=FINDINGS_COLUMNS, dtype=object)
    frame = derive_watch_list(Period.parse(period), findings,
                              read_frame_csv(files["projects.csv"]),
                              read_frame_csv(files["agencies.csv"]), rules)
    return frame_csv(frame)


# --- status -------------------------------------------------------------------------------


def agency_status(store: Store, rules: Rules, period: Period) -> list[dict[str, Any]]:
    """Each agency of the directory: points and state as the watch list of ``period`` sees
    them, documents approved, reviewed and found with problems in the four quarters before
    ``period``, and whether and why the agency would be watched in ``period`` (from the
    live tables).
    """
    findings = current_findings(store)
    projects = store.read("projects")
    agencies = store.read("agencies")
    watch = derive_watch_list(period, findings, projects, agencies, rules)
    reasons = dict(zip(watch["agency_uscc"], watch["reasons"], strict=True))
    start = period.first_day
    agency_states = states(points_by(findings, "agency_uscc", start), period.year,
                           rules.credit)
    window, first = year_before(start).isoformat(), start.isoformat()
    on = projects["approved_on"].astype(str)
    approved = projects[(on >= window) & (on < first)]
    n_approved = approved.groupby("agency_uscc")["project_id"].count().to_dict()
    seen = findings["reviewed_on"].astype(str)
    in_year = findings[(seen >= window) & (seen < first)]
    out = []
    for a in agencies.sort_values("uscc").itertuples(index=False):
        mine = in_year[in_year["agency_uscc"] == a.uscc]
        state, now, prev = agency_states.get(a.uscc, ("ok", Fraction(0), Fraction(0)))
        why = [r for r in str(reasons.get(a.uscc, "")).split(";") if r]
        out.append({"agency_uscc": a.uscc, "name": a.name, "points": float(now),
                    "previous_points": float(prev), "state": state,
                    "approved": int(n_approved.get(a.uscc, 0)), "reviewed": len(mine),
                    "general": int((mine["conclusion"] == "general").sum()),
                    "serious": int((mine["conclusion"] == "serious").sum()),
                    "watch": bool(why), "reasons": why, "hand_set": "manual" in why,
                    "period": str(period)})
    return out


def author_status(store: Store, rules: Rules, period: Period) -> list[dict[str, Any]]:
    """Each lead author with points: registration number, name, agency, points, state."""
    findings = current_findings(store)
    author_states = states(points_by(findings, "lead_author_reg", period.first_day),
                           period.year, rules.credit)
    names = {}
    for r in findings.itertuples(index=False):
        if r.lead_author_reg:
            names[r.lead_author_reg] = (r.lead_author, r.agency_uscc)
    return [{"lead_author_reg": reg, "lead_author": names.get(reg, ("", ""))[0],
             "agency_uscc": names.get(reg, ("", ""))[1], "points": float(now),
             "previous_points": float(prev), "state": state}
            for reg, (state, now, prev) in sorted(author_states.items())]


def watch_reasons_of(output: dict[str, Any]) -> dict[str, list[str]]:
    """agency -> reasons, from a review sample output drawn with a derived watch list."""
    return {w["agency_uscc"]: list(w["reasons"]) for w in output.get("watch_list", [])}


__all__ = ["derive_watch_list", "agency_status", "author_status", "recompute_watch_list",
           "findings_file", "watch_list_file"]
