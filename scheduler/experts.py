"""Which expert may review which document: expert eligibility, specialty match, recusal.

DOMAIN.md §3 rule 10, the expert side (ALGORITHM.md, section reviews):

- **Eligible experts** (:func:`expert_frame`): active, age (meeting year -
  birth year) at most ``review.max_age`` (unknown birth year: eligible), not
  suspended for deduction points in the meeting's year
  (:mod:`suiji.data.scores`), not declined for this meeting before; their
  capacity is what the meeting and period load caps leave.
- **Specialty match** (:func:`specialty_match`): the expert holds a specialty
  of ``review.specialties_for(industry)``.
- **Recusal** (:func:`recusals`): their current employer, or an employer of
  the last ``review.recusal_years`` years, is the document's agency (by name
  or USCC) or developer (``employer``); a declared conflict (``conflicts.csv``
  person = expert id, counterpart = agency USCC or name, developer or project
  id, still valid on the meeting date; ``conflict``); or the expert reviewed
  the same document before (``review-history.csv`` and the period's earlier
  panels; ``reviewed``). Names compare after NFKC, case folding and removing
  all whitespace (:func:`normalize`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from suiji.data.rules import ReviewRules
from suiji.data.scores import standings
from suiji.data.snapshot import Snapshot

_SPLIT = re.compile(r"[、;,；，|/\s]+")


def normalize(name: object) -> str:
    """An organisation name or code as compared for recusal: NFKC, casefold, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", str(name)).casefold().split())


def _normalized(values: pd.Series) -> list[str]:
    """:func:`normalize` of each value, computed once per distinct value."""
    items = values.tolist()
    table = {v: normalize(v) for v in set(items)}
    return [table[v] for v in items]


def split_specialties(text: str) -> list[str]:
    return [s for s in _SPLIT.split(str(text).strip()) if s]


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def expert_frame(snapshot: Snapshot, meeting: date, declined: Collection[str],
                 prior_load: Mapping[str, int], meeting_load: Mapping[str, int],
                 rules: ReviewRules) -> pd.DataFrame:
    """The expert library sorted by id, with ``status`` ("ok" or why not), loads and capacity."""
    experts = snapshot.frame("experts.csv").sort_values("expert_id", kind="mergesort")
    experts = experts.reset_index(drop=True)
    year = meeting.year
    state = standings(snapshot.frame("expert-points.csv"), year, rules)
    birth = pd.to_numeric(experts["birth_year"], errors="coerce")
    over_age = (year - birth) > rules.max_age
    status = np.where(experts["active"] != "yes", "inactive", "ok").astype(object)
    status[(status == "ok") & over_age.to_numpy()] = "over_age"
    suspended = experts["expert_id"].map(
        lambda e: e in state and state[e].state == "suspended").to_numpy(bool)
    status[(status == "ok") & suspended] = "suspended"
    is_declined = experts["expert_id"].isin(declined).to_numpy()
    status[(status == "ok") & is_declined] = "declined"
    experts["status"] = status
    ids = experts["expert_id"].tolist()
    experts["prior_load"] = [int(prior_load.get(e, 0)) for e in ids]
    experts["meeting_load"] = [int(meeting_load.get(e, 0)) for e in ids]
    left = rules.period_load_cap - experts["prior_load"]
    meeting_left = rules.meeting_load_cap - experts["meeting_load"]
    experts["capacity"] = np.clip(np.minimum(meeting_left, left), 0, None)
    return experts


def document_specialties(industry: str, rules: ReviewRules, industry_names: bool) -> list[str]:
    """The specialties that qualify an expert for a document of ``industry``: the rules'
    table (``review.specialties``), and, from ``suiji-panels/2`` on (``industry_names``),
    the industry's own name (an expert of 食品 reviews a 食品 document)."""
    names = list(rules.specialties_for(industry))
    if industry_names and industry and industry not in names:
        names.append(industry)
    return names


def specialty_match(docs: pd.DataFrame, experts: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """D x E: the expert holds one of the specialties the document's industry needs."""
    shape = (len(docs), len(experts))
    exp_specs = [split_specialties(s) for s in experts["specialties"].tolist()]
    doc_specs = docs["specialties"].tolist()
    names = sorted({s for ss in exp_specs for s in ss} | {s for ss in doc_specs for s in ss})
    if not names:
        return np.zeros(shape, dtype=bool)
    s_index = {s: i for i, s in enumerate(names)}

    def incidence(rows: list[list[str]]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(rows), len(names)), dtype=np.float32)
        r = [i for i, ss in enumerate(rows) for _ in ss]
        c = [s_index[x] for ss in rows for x in ss]
        out[r, c] = 1
        return out

    return (incidence(doc_specs) @ incidence(exp_specs).T) > 0


def _pairs(left: pd.DataFrame, right: pd.DataFrame, on: str, shape: tuple[int, int]
           ) -> npt.NDArray[np.bool_]:
    """D x E: some row of ``left`` (d, on) and some row of ``right`` (e, on) share ``on``."""
    out = np.zeros(shape, dtype=bool)
    if left.empty or right.empty:
        return out
    docs_of: dict[object, list[int]] = {}
    for d, key in zip(left["d"].tolist(), left[on].tolist(), strict=True):
        docs_of.setdefault(key, []).append(int(d))
    rows: list[int] = []
    cols: list[int] = []
    for e, key in zip(right["e"].tolist(), right[on].tolist(), strict=True):
        for d in docs_of.get(key, ()):
            rows.append(d)
            cols.append(int(e))
    out[rows, cols] = True
    return out


def recusals(snapshot: Snapshot, docs: pd.DataFrame, experts: pd.DataFrame, meeting: date,
             prior_reviews: Collection[tuple[str, str]], rules: ReviewRules
             ) -> dict[str, npt.NDArray[np.bool_]]:
    """Recusal reason (employer, conflict, reviewed) -> D x E: the expert is recused from it.

    ``docs`` are the meeting's documents (project_id, agency_uscc, agency_name,
    developer) and ``experts`` the library as :func:`expert_frame` orders it;
    ``prior_reviews`` the (expert, project) pairs of the period's earlier panels.
    """
    shape = (len(docs), len(experts))
    e_index = {e: i for i, e in enumerate(experts["expert_id"].tolist())}
    d_index = {p: i for i, p in enumerate(docs["project_id"].tolist())}

    # organisations tied to each document
    doc_orgs = pd.DataFrame(
        [(i, normalize(v)) for i, values in enumerate(zip(
            docs["agency_uscc"].tolist(), docs["agency_name"].tolist(),
            docs["developer"].tolist(), strict=True))
         for v in values if str(v).strip()],
        columns=["d", "org"]).drop_duplicates()
    conflict_keys = pd.concat([doc_orgs, pd.DataFrame(
        [(i, normalize(p)) for i, p in enumerate(docs["project_id"].tolist())],
        columns=["d", "org"])])

    # employers now and within recusal_years before the meeting
    cutoff = years_before(meeting, rules.recusal_years).isoformat()
    history = snapshot.frame("employment-history.csv")
    recent = history[(history["end"] == "") | (history["end"] >= cutoff)]
    employers = pd.concat([experts[["expert_id", "employer"]],
                           recent[["expert_id", "employer"]]])
    employers = pd.DataFrame({"e": [e_index.get(e) for e in employers["expert_id"].tolist()],
                              "org": _normalized(employers["employer"])}).dropna()
    employers = employers[employers["org"] != ""].drop_duplicates()

    conflicts = snapshot.frame("conflicts.csv")
    day = meeting.isoformat()
    conflicts = conflicts[(conflicts["until"] == "") | (conflicts["until"] >= day)]
    declared = pd.DataFrame({"e": [e_index.get(p) for p in conflicts["person"].tolist()],
                             "org": _normalized(conflicts["counterpart"])}).dropna()

    reviewed_rows = [(r.expert_id, r.project_id)
                     for r in snapshot.frame("review-history.csv").itertuples(index=False)]
    reviewed_rows += sorted(prior_reviews)
    reviewed = pd.DataFrame([(d_index[p], e_index[e]) for e, p in reviewed_rows
                             if e in e_index and p in d_index], columns=["d", "e"])

    out = {
        "employer": _pairs(doc_orgs, employers.astype({"e": np.int64}), "org", shape),
        "conflict": _pairs(conflict_keys, declared.astype({"e": np.int64}), "org", shape),
        "reviewed": np.zeros(shape, dtype=bool),
    }
    if not reviewed.empty:
        out["reviewed"][reviewed["d"].to_numpy(), reviewed["e"].to_numpy()] = True
    return out


@dataclass(frozen=True)
class IndustryCover:
    """How many eligible experts (before recusal) hold a specialty an industry needs."""

    industry: str
    documents: int
    needed: int  # the largest panel of its documents plus review.alternates
    eligible: int
    specialties: tuple[str, ...]

    @property
    def short(self) -> bool:
        return self.eligible < self.needed


def industry_cover(snapshot: Snapshot, documents: pd.DataFrame, rules: ReviewRules,
                   on: date) -> list[IndustryCover]:
    """Per industry of ``documents`` (project rows with industry and doc_type), the experts
    of the frozen library eligible on ``on`` (active, age, not suspended) who hold one of
    its specialties under ``suiji-panels/2``, against a panel with its alternates."""
    experts = expert_frame(snapshot, on, (), {}, {}, rules)
    ok = experts[experts["status"] == "ok"]
    held = [set(split_specialties(s)) for s in ok["specialties"]]
    out = []
    for industry, group in documents.groupby("industry", sort=True):
        names = tuple(document_specialties(str(industry), rules, True))
        eligible = sum(1 for h in held if h & set(names))
        needed = max(rules.panel_size[t] for t in group["doc_type"]) + rules.alternates
        out.append(IndustryCover(str(industry), len(group), needed, eligible, names))
    return out
