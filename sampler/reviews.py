"""The EIA technical-review sample (DOMAIN.md §3 rule 9): which approved documents are reviewed.

Design (stratified by agency, exact inclusion probabilities; ALGORITHM.md, section reviews):

1. The population is every project of ``projects.csv`` approved inside the period.
   Each document has a weight: ``review.high_risk_weight`` when its industry is
   high-risk (equal to, or containing, a name of ``review.high_risk_industries``),
   otherwise 1.
2. Every agency (编制单位) with approved documents forms up to two strata:
   ``<uscc>|watch``, the 报告书 of a watch-list agency (only when
   ``review.watch_report_rate`` > 0), and ``<uscc>|rest``, its other documents.
3. Each stratum gets a floor: a watch stratum ``ceil(rate * N_s)``; a rest stratum
   1 when its agency has no watch stratum (every agency gets at least one),
   otherwise 0. The sample size is ``n = max(ceil(ratio * N), sum of floors)``.
4. The seats above the floors go one at a time by the Webster (Sainte-Laguë)
   highest-averages rule: to the stratum with the largest ``S_s / (n_s + 1/2)``,
   ``S_s`` the stratum's total weight, among strata with ``n_s < N_s``; ties to the
   smaller stratum key. Exact rational arithmetic; the allocation depends on the
   frozen inputs only, never on the seed, so every probability below is exact.
5. Inside a stratum: when all weights are equal (always so in a watch stratum),
   the ``n_s`` documents with the smallest Rivest tickets under the seed (what
   ``consistent_sampler.sampler(ids, seed=seed, take=n_s, with_replacement=False)``
   returns), each with probability ``n_s / N_s``. Otherwise systematic PPS
   (:mod:`suiji.sampler.pps`) with start id ``pps-start|<stratum>``, each document
   with probability ``p_i / 10^9``.

:func:`compute_sample` is the pure function ``suiji verify`` recomputes;
:func:`draw_reviews` is the recorded, all-or-nothing draw; :func:`review_rows`
is what the exports print.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from suiji.data.credit import WATCH_FILE
from suiji.data.draws import DrawRecord, all_draws, current_draw, latest_output, run_draw
from suiji.data.errors import SuijiError
from suiji.data.period import Period
from suiji.data.progress import Progress
from suiji.data.rules import ReviewRules, Rules
from suiji.data.scores import scores_by_document
from suiji.data.snapshot import Snapshot
from suiji.data.store import Store
from suiji.sampler.pps import SCALE, pps_systematic
from suiji.sampler.rational import ceil_fraction, exact
from suiji.sampler.tickets import smallest, ticket_string

ALGORITHM = "suiji-reviews/1"
SCOPE = "reviews"

ITEM_FIELDS = ("project_id", "name", "agency_uscc", "agency_name", "doc_type", "industry",
               "developer", "district", "approved_on", "probability", "ticket", "reason")


def is_high_risk(industry: str, rules: ReviewRules) -> bool:
    industry = industry.strip()
    return bool(industry) and any(h and (h == industry or h in industry)
                                  for h in rules.high_risk_industries)


@dataclass(frozen=True)
class Stratum:
    key: str
    agency_uscc: str
    part: str  # "watch" (报告书 of a watch-list agency) or "rest"
    ids: tuple[str, ...]  # sorted project ids
    weights: tuple[Fraction, ...]
    floor: int

    def __post_init__(self) -> None:
        if self.part not in ("watch", "rest"):
            raise ValueError(f"unknown stratum part {self.part!r}")
        if len(self.ids) != len(self.weights) or not self.ids:
            raise ValueError("a stratum needs one weight per document and at least one document")
        if not 0 <= self.floor <= len(self.ids):
            raise ValueError(f"stratum {self.key}: floor {self.floor} out of range")

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def total_weight(self) -> Fraction:
        return sum(self.weights, Fraction(0))

    @property
    def equal_weights(self) -> bool:
        return self.part == "watch" or len(set(self.weights)) == 1


def population(snapshot: Snapshot, period: Period | None = None) -> pd.DataFrame:
    """The documents approved in the period, with agency name and watch flag, sorted by id."""
    period = period or Period.parse(snapshot.period)
    projects = snapshot.frame("projects.csv")
    agencies = snapshot.frame("agencies.csv")
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    docs = projects[(projects["approved_on"] >= first) & (projects["approved_on"] <= last)]
    docs = docs.merge(agencies.rename(columns={"uscc": "agency_uscc", "name": "agency_name"}),
                      on="agency_uscc", how="left")
    docs["agency_name"] = docs["agency_name"].fillna("")
    docs["known_agency"] = docs["watch"].notna()
    docs["watch"] = docs["watch"].fillna("no") == "yes"
    if WATCH_FILE in snapshot.files:  # the derived watch list replaces the hand-set flag
        watched = set(snapshot.frame(WATCH_FILE)["agency_uscc"])
        docs["watch"] = docs["agency_uscc"].isin(watched)
    return docs.sort_values("project_id", kind="mergesort").reset_index(drop=True)


def watch_list(snapshot: Snapshot) -> list[dict[str, Any]]:
    """The derived watch list of a snapshot with its reasons ([] when it has none)."""
    if WATCH_FILE not in snapshot.files:
        return []
    return [{"agency_uscc": r.agency_uscc, "reasons": str(r.reasons).split(";"),
             "state": r.state, "points": r.points}
            for r in snapshot.frame(WATCH_FILE).itertuples(index=False)]


def build_strata(docs: pd.DataFrame, rules: ReviewRules) -> list[Stratum]:
    """Agency strata with their floors (steps 1-3 of the module docstring)."""
    rate = exact(rules.watch_report_rate)
    high = exact(rules.high_risk_weight)
    weight_of = {i: high if is_high_risk(i, rules) else Fraction(1)
                 for i in set(docs["industry"])}
    parts: dict[tuple[str, str], list[tuple[str, Fraction]]] = {}
    rows = zip(docs["project_id"], docs["agency_uscc"], docs["watch"], docs["doc_type"],
               docs["industry"], strict=True)
    for pid, agency, watch, doc_type, industry in sorted(rows):
        part = "watch" if watch and doc_type == "report" and rate > 0 else "rest"
        parts.setdefault((str(agency), part), []).append((str(pid), weight_of[industry]))
    strata: list[Stratum] = []
    # "rest" sorts after "watch" in the key, so the order is (uscc, watch first)
    for (agency, part), members in sorted(parts.items(), key=lambda kv: (kv[0][0],
                                                                         kv[0][1] != "watch")):
        if part == "watch":
            floor = ceil_fraction(rate * len(members))
        else:
            floor = 0 if (agency, "watch") in parts else 1
        strata.append(Stratum(f"{agency}|{part}", agency, part,
                              tuple(m[0] for m in members), tuple(m[1] for m in members),
                              floor))
    return strata


def allocate(strata: list[Stratum], n: int) -> list[int]:
    """Seats per stratum: the floors, then Webster (Sainte-Laguë) highest averages (step 4)."""
    seats = [s.floor for s in strata]
    if n > sum(s.size for s in strata):
        raise ValueError("sample larger than the population")
    totals = [s.total_weight for s in strata]
    # max-heap on the priority, ties to the smaller stratum (strata are sorted by key)
    heap = [(-totals[i] / (seats[i] + Fraction(1, 2)), i) for i, s in enumerate(strata)
            if seats[i] < s.size]
    heapq.heapify(heap)
    for _ in range(n - sum(seats)):
        _, i = heapq.heappop(heap)
        seats[i] += 1
        if seats[i] < strata[i].size:
            heapq.heappush(heap, (-totals[i] / (seats[i] + Fraction(1, 2)), i))
    return seats


def compute_sample(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
                   progress: Progress | None = None) -> dict[str, Any]:
    """The review sample of a frozen period: a pure function of (snapshot, seed).

    ``params`` is recorded with the draw: ``{}``, or the date of the draw and
    whether it was before the quarter's close (``drawn_on``, ``before_close``);
    the sample does not depend on them.
    """
    if progress is not None:
        progress.step("抽取评估文件 review sample")
    rules = snapshot.rules.review
    period = Period.parse(snapshot.period)
    docs = population(snapshot, period)
    if docs.empty:
        raise SuijiError(f"No EIA documents were approved in {period} in the frozen inputs. "
                         f"Import the projects (suiji import projects ...) with their approval "
                         f"dates, then freeze again: suiji freeze --period {period} "
                         f"--scope reviews.")
    strata = build_strata(docs, rules)
    required = ceil_fraction(exact(rules.ratio) * len(docs))
    n = max(required, sum(s.floor for s in strata))
    seats = allocate(strata, n)

    probability: dict[str, float] = {}
    chosen: dict[str, str] = {}
    weight_of: dict[str, Fraction] = {}
    stratum_of: dict[str, str] = {}
    stratum_rows = []
    for s, k in zip(strata, seats, strict=True):
        for pid, w in zip(s.ids, s.weights, strict=True):
            weight_of[pid] = w
            stratum_of[pid] = s.key
        row: dict[str, Any] = {"stratum": s.key, "agency_uscc": s.agency_uscc, "part": s.part,
                               "documents": s.size, "weight": _number(s.total_weight),
                               "floor": s.floor, "allocated": k}
        if s.equal_weights:
            row["method"] = "srs"
            for pid in smallest(list(s.ids), seed, k):
                chosen[pid] = s.part
            for pid in s.ids:
                probability[pid] = k / s.size
        else:
            start_id = f"pps-start|{s.key}"
            result = pps_systematic(list(s.ids), [float(w) for w in s.weights], k, seed,
                                    start_id=start_id)
            row.update(method="pps", start_id=start_id, start=result.start)
            for pid, parts, sel in zip(s.ids, result.parts.tolist(),
                                       result.selected.tolist(), strict=True):
                probability[pid] = parts / SCALE
                if sel:
                    chosen[pid] = s.part
        stratum_rows.append(row)

    tickets = {pid: ticket_string(pid, seed) for pid in docs["project_id"]}
    items = []
    for r in docs[docs["project_id"].isin(set(chosen))].itertuples(index=False):
        pid = str(r.project_id)
        p = probability[pid]
        reason = "watch_list" if chosen[pid] == "watch" else (
            "certainty" if p >= 1.0 else "sampled")
        items.append({"project_id": pid, "name": r.name, "agency_uscc": r.agency_uscc,
                      "agency_name": r.agency_name, "doc_type": r.doc_type,
                      "industry": r.industry, "developer": r.developer, "district": r.district,
                      "approved_on": r.approved_on, "probability": p, "ticket": tickets[pid],
                      "reason": reason, "high_risk": weight_of[pid] != 1,
                      "stratum": stratum_of[pid]})
    documents = [{"project_id": pid, "stratum": stratum_of[pid],
                  "weight": _number(weight_of[pid]), "probability": probability[pid],
                  "ticket": tickets[pid], "selected": pid in chosen}
                 for pid in docs["project_id"]]
    unknown = sorted(set(docs.loc[~docs["known_agency"], "agency_uscc"]))
    notes = [f"agency {u} is not in agencies.csv: treated as not on the watch list"
             for u in unknown]
    out = {
        "algorithm": ALGORITHM, "period": str(period), "seed": seed,
        "snapshot": snapshot.digest,
        "summary": {"approved": len(docs), "ratio": repr(float(rules.ratio)),
                    "required": required, "sampled": len(items),
                    "agencies": len({s.agency_uscc for s in strata}),
                    "watch_report_rate": repr(float(rules.watch_report_rate)),
                    "high_risk_weight": repr(float(rules.high_risk_weight)),
                    "expected": _round(float(np.sum(list(probability.values()))))},
        "strata": stratum_rows, "documents": documents, "items": items, "notes": notes,
    }
    if WATCH_FILE in snapshot.files:  # only then: older snapshots give the same bytes
        out["watch_list"] = watch_list(snapshot)
    return out


def _number(value: Fraction) -> int | float:
    return value.numerator if value.denominator == 1 else float(value)


def _round(value: float) -> float:
    return round(value, 9)


# --- the recorded draw -------------------------------------------------------------------


def draw_reviews(store: Store, period: Period, rules: Rules, seed: str | None = None, *,
                 redraw: bool = False, reason: str = "",
                 progress: Progress | None = None, commitment: str | None = None,
                 weak_seed: bool = False, today: date | None = None,
                 before_close: bool = False) -> DrawRecord:
    """Draw the period's review sample from its latest reviews freeze and record it.

    All or nothing, through :func:`suiji.data.draws.run_draw`: the freeze
    check, the computation and the record happen in one transaction. One
    current sample per period; a second needs ``redraw`` with a ``reason``.
    ``commitment`` and ``weak_seed`` as in :func:`~suiji.data.draws.run_draw`.
    With ``today`` (the caller's date; the command line always gives it), a
    sample drawn before the quarter's last day is refused unless
    ``before_close``, and the draw's params record ``drawn_on`` and
    ``before_close`` (the sample itself does not depend on them).
    """
    params: dict[str, Any] = {}
    if today is not None:
        early = today <= period.last_day
        if early and not before_close:
            raise SuijiError(
                f"{period} ends on {period.last_day.isoformat()}: a sample drawn today "
                f"({today.isoformat()}) would leave out the documents approved until then. "
                f"Draw it after the quarter, or pass --before-close to draw it now (it is "
                f"recorded and shown as drawn before the close).")
        params = {"drawn_on": today.isoformat(), "before_close": early}
    return run_draw(store, period=period, scope=SCOPE, rules=rules, algorithm=ALGORITHM,
                    compute=compute_sample, params=params, seed=seed, redraw=redraw,
                    reason=reason, what=f"The review sample of {period}", progress=progress,
                    commitment=commitment, weak_seed=weak_seed)


# --- rows for exports ----------------------------------------------------------------------


def current_sample(store: Store, period: Period | str) -> DrawRecord:
    record = current_draw(store, str(period), SCOPE)
    if record is None:
        raise SuijiError(f"{period} has no review sample yet. Draw it with "
                         f"`suiji draw reviews --period {period} --seed ...`.")
    return record


def review_rows(store: Store, period: Period | str, public: bool, today: date
                ) -> list[dict[str, Any]]:
    """One row per sampled document, with its panel and results once there are any.

    Every row has the sample's fields (``ITEM_FIELDS`` plus ``high_risk``) and
    ``meeting`` ('' until paneled; the latest meeting when a document was
    paneled twice), ``experts``, ``alternates`` (lists of expert ids),
    ``declined`` (expert ids), ``scores`` (number of imported scores of the
    document, any meeting), ``mean_score`` and ``status`` (sampled / paneled /
    reviewed).

    Sealing: when ``public`` is true, the experts, alternates and declines of a
    meeting stay empty until ``today`` is after the meeting date (DOMAIN.md §3
    rule 8); ``sealed`` says whether they were withheld. Internal rows (public
    false) always show them.
    """
    sample = latest_output(store, current_sample(store, period))
    panels = _panels_by_document(store, str(period))
    scores = scores_by_document(store)
    rows = []
    for item in sample["items"]:
        row = {f: item.get(f, "") for f in ITEM_FIELDS}
        row["high_risk"] = bool(item.get("high_risk", False))
        panel = panels.get(item["project_id"], {})
        meeting = str(panel.get("meeting", ""))
        sealed = bool(panel) and public and not today > date.fromisoformat(meeting)
        show = bool(panel) and not sealed
        row.update(meeting=meeting, sealed=sealed,
                   experts=list(panel["experts"]) if show else [],
                   alternates=list(panel["alternates"]) if show else [],
                   declined=list(panel["declined"]) if show else [])
        got = [s for _, s in scores.get(item["project_id"], [])]
        values = [s for s in got if s is not None]
        row["scores"] = len(got)
        row["mean_score"] = round(sum(values) / len(values), 2) if values else None
        row["status"] = "reviewed" if got else ("paneled" if panel else "sampled")
        rows.append(row)
    return rows


def reviews_export_rows(store: Store, period: Period | str, public: bool, today: date
                        ) -> list[dict[str, Any]]:
    """:func:`review_rows` flattened for CSV/XLSX: lists joined with '、'."""
    out = []
    for row in review_rows(store, period, public, today):
        flat = dict(row)
        for key in ("experts", "alternates", "declined"):
            flat[key] = "、".join(row[key])
        out.append(flat)
    return out


def _panels_by_document(store: Store, period: str) -> dict[str, dict[str, Any]]:
    """The latest panel of each document over the period's current panel draws."""
    found: dict[str, dict[str, Any]] = {}
    draws = [d for d in all_draws(store, period) if d.scope == "panels" and d.status == "current"]
    for d in sorted(draws, key=lambda d: (d.subject, d.id)):
        output = latest_output(store, d)
        declined = [x["expert_id"] for x in output.get("declines", [])]
        for item in output["items"]:
            found[item["project_id"]] = {"meeting": output["meeting"],
                                         "experts": item["experts"],
                                         "alternates": item["alternates"],
                                         "declined": [e for e in declined
                                                      if e in item.get("declined", [])]}
    return found


def stated_probabilities(output: dict[str, Any]) -> dict[str, float]:
    """project id -> stated inclusion probability, for every approved document."""
    return {d["project_id"]: float(d["probability"]) for d in output["documents"]}


def sample_ids(output: dict[str, Any]) -> list[str]:
    return [i["project_id"] for i in output["items"]]


__all__ = ["ALGORITHM", "compute_sample", "draw_reviews", "review_rows", "reviews_export_rows",
           "population", "build_strata", "allocate", "stated_probabilities", "sample_ids"]
