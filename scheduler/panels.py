"""Expert panels for the sampled EIA documents (DOMAIN.md §3 rules 10-11).

For one review meeting, every document gets a panel of ``review.panel_size``
experts (报告书 3, 报告表 2 by default) and ``review.alternates`` ordered
alternates, drawn from the frozen expert library with the seed. ALGORITHM.md
(section reviews) states every step; in short:

1. **Lead time.** The draw date must be at least ``review.lead_days[doc_type]``
   calendar days before the meeting for every document, else the draw is
   refused (:class:`LeadTimeError`).
2. **Eligible experts.** Active, age (meeting year - birth year) at most
   ``review.max_age`` (unknown birth year: eligible), not suspended for
   deduction points in the meeting's year (:mod:`suiji.data.scores`), not
   declined for this meeting before.
3. **Eligible pairs.** The expert holds a specialty of
   ``review.specialties_for(industry)`` and is not recused: their current
   employer, or an employer of the last ``review.recusal_years`` years, is the
   document's agency (by name or USCC) or developer; a declared conflict
   (``conflicts.csv`` person = expert id, counterpart = agency USCC or name,
   developer or project id, still valid on the meeting date); or the expert
   reviewed the same document before (``review-history.csv`` and the
   period's earlier panels). Names compare after NFKC, case folding and
   removing all whitespace. Steps 2 and 3 are :mod:`suiji.scheduler.experts`.
4. **Loads.** An expert sits on at most ``review.meeting_load_cap`` documents
   of the meeting (counting panels of other periods' samples at the same
   meeting) and ``review.period_load_cap`` documents of the period, counting
   the period's earlier panels.
5. **Members.** A min-cost b-matching (:func:`suiji.scheduler.flow.assign`):
   each document exactly its panel size, each expert at most their load left,
   pair cost ``mix64(doc key, expert key) >> 28`` with the keys the documents'
   and experts' Rivest tickets under ``seed|documents`` and ``seed|experts``.
   Without binding loads this is, per document, the panel-size eligible experts
   of smallest pair cost: a uniform random panel. The optimum is proven unique.
6. **Alternates.** Per document, in pair-cost order, the eligible experts who
   are not members of that document and could still be added within both load
   caps, the first ``review.alternates`` of them.

A decline (:func:`compute_decline`) removes the expert from every panel and
alternate list of the meeting; each panel they leave takes its first
alternate that still fits the load caps (then, if none, the next eligible
expert in pair-cost order), and alternate lists are topped up in the same
order. A declined expert is never drawn again for that meeting.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from suiji.data.calendar import is_working_day
from suiji.data.draws import (
    DrawRecord,
    all_draws,
    current_draw,
    current_periods,
    frozen_rules,
    latest_output,
    run_draw,
    run_event,
)
from suiji.data.errors import (
    AlreadyDrawnError,
    BugError,
    InfeasibleError,
    LeadTimeError,
    SuijiError,
)
from suiji.data.holidays import holiday_name
from suiji.data.period import Period
from suiji.data.progress import Progress
from suiji.data.rules import ReviewRules, Rules
from suiji.data.scores import panel_members
from suiji.data.snapshot import Snapshot
from suiji.data.store import Store
from suiji.sampler.tickets import derived_seed, ticket_keys
from suiji.scheduler.experts import (
    document_specialties,
    expert_frame,
    recusals,
    specialty_match,
)
from suiji.scheduler.flow import AssignResult, FlowStatus, assign, pair_costs

ALGORITHM = "suiji-panels/1"
ALGORITHM_V2 = "suiji-panels/2"  # alternates capped per meeting; specialty names the industry
SCOPE = "panels"
DOC_TYPE_ZH = {"report": "报告书", "form": "报告表"}
# --- parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelParams:
    """What a panel draw is computed from besides the snapshot and the seed (recorded)."""

    meeting: date
    drawn_on: date
    documents: tuple[str, ...]
    prior: tuple[tuple[str, str, str], ...] = ()  # (expert, project, meeting), this period
    declined: tuple[str, ...] = ()  # declined this meeting in earlier draws of it
    # (expert, project, period): members at this meeting in other periods' panel draws
    same_meeting: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.documents:
            raise SuijiError("A panel draw needs at least one document.")
        if list(self.documents) != sorted(set(self.documents)):
            raise ValueError("documents must be sorted and distinct")

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> PanelParams:
        try:
            return cls(meeting=date.fromisoformat(params["meeting"]),
                       drawn_on=date.fromisoformat(params["drawn_on"]),
                       documents=tuple(params["documents"]),
                       prior=tuple((str(e), str(p), str(m))
                                   for e, p, m in params.get("prior", ())),
                       declined=tuple(params.get("declined", ())),
                       same_meeting=tuple((str(e), str(p), str(q))
                                          for e, p, q in params.get("same_meeting", ())))
        except (KeyError, ValueError, TypeError) as exc:
            raise SuijiError(f"Panel draw parameters are incomplete or invalid: {exc}") from exc

    def as_dict(self) -> dict[str, Any]:
        return {"meeting": self.meeting.isoformat(), "drawn_on": self.drawn_on.isoformat(),
                "documents": list(self.documents), "prior": [list(p) for p in self.prior],
                "declined": list(self.declined),
                "same_meeting": [list(p) for p in self.same_meeting]}

    def basis(self) -> Basis:
        load: dict[str, int] = {}
        for expert, _, _ in self.prior:
            load[expert] = load.get(expert, 0) + 1
        meeting_load: dict[str, int] = {}
        for expert, _, _ in self.same_meeting:
            meeting_load[expert] = meeting_load.get(expert, 0) + 1
        wanted = set(self.documents)
        return Basis(meeting=self.meeting, documents=self.documents,
                     declined=frozenset(self.declined), prior_load=load,
                     prior_reviews=frozenset((e, p) for e, p, _ in self.prior if p in wanted),
                     meeting_load=meeting_load)


@dataclass(frozen=True)
class Basis:
    """What the eligibility model needs: the params reduced to counts and pairs.

    A panel output carries its basis (``output["basis"]``) so that a decline
    can rebuild the same model from the output alone.
    """

    meeting: date
    documents: tuple[str, ...]
    declined: frozenset[str]
    prior_load: dict[str, int]  # documents in the period's earlier panels, per expert
    prior_reviews: frozenset[tuple[str, str]]  # (expert, project) of earlier panels
    # documents at this same meeting from other periods' panels, per expert
    meeting_load: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"documents": list(self.documents),
                "prior_load": {e: n for e, n in sorted(self.prior_load.items()) if n},
                "prior_reviews": [list(x) for x in sorted(self.prior_reviews)],
                "declined_before": sorted(self.declined),
                "meeting_load": {e: n for e, n in sorted(self.meeting_load.items()) if n}}

    @classmethod
    def from_output(cls, output: dict[str, Any]) -> Basis:
        b = output["basis"]
        declined = set(b["declined_before"]) | {x["expert_id"] for x in output["declines"]}
        return cls(meeting=date.fromisoformat(output["meeting"]),
                   documents=tuple(b["documents"]), declined=frozenset(declined),
                   prior_load={str(k): int(v) for k, v in b["prior_load"].items()},
                   prior_reviews=frozenset((str(e), str(p)) for e, p in b["prior_reviews"]),
                   meeting_load={str(k): int(v)
                                 for k, v in b.get("meeting_load", {}).items()})


# --- the eligibility model ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Model:
    """Documents x experts of one meeting: who may review what, and at what pair cost."""

    docs: pd.DataFrame  # sorted by project_id; + agency_name, specialties, size
    experts: pd.DataFrame  # sorted by expert_id; + status, capacity, prior_load
    match: npt.NDArray[np.bool_]  # D x E: specialty covers the industry
    recusal: dict[str, npt.NDArray[np.bool_]]  # reason -> D x E
    eligible: npt.NDArray[np.bool_]  # D x E: match, expert ok, not recused
    capacity: npt.NDArray[np.int64]  # E: documents the expert may still take at this meeting
    prior_load: npt.NDArray[np.int64]  # E: documents in the period's earlier panels
    meeting_load: npt.NDArray[np.int64]  # E: documents at this meeting in other periods' panels
    cost: npt.NDArray[np.int64]  # D x E pair costs of the eligible pairs (0 elsewhere)

    @property
    def expert_ids(self) -> list[str]:
        return list(self.experts["expert_id"])

    @property
    def doc_ids(self) -> list[str]:
        return list(self.docs["project_id"])

    def ranking(self, d: int) -> npt.NDArray[np.intp]:
        """Experts eligible for document d, in pair-cost order (ties: smaller id)."""
        cand = np.flatnonzero(self.eligible[d])  # increasing: a stable sort keeps id order
        return cand[np.argsort(self.cost[d, cand], kind="stable")]


def _documents(snapshot: Snapshot, ids: Iterable[str], rules: ReviewRules,
               industry_names: bool = False) -> pd.DataFrame:
    projects = snapshot.frame("projects.csv")
    agencies = snapshot.frame("agencies.csv").rename(
        columns={"uscc": "agency_uscc", "name": "agency_name"})[["agency_uscc", "agency_name"]]
    wanted = sorted(set(ids))
    docs = projects[projects["project_id"].isin(wanted)]
    missing = sorted(set(wanted) - set(docs["project_id"]))
    if missing:
        raise SuijiError(f"Documents not in the frozen projects: {', '.join(missing)}. Check "
                         f"the ids, or import the projects and freeze again.")
    docs = docs.merge(agencies, on="agency_uscc", how="left").fillna({"agency_name": ""})
    docs = docs.sort_values("project_id", kind="mergesort").reset_index(drop=True)
    docs["specialties"] = [document_specialties(i, rules, industry_names)
                           for i in docs["industry"]]
    docs["size"] = [rules.panel_size[t] for t in docs["doc_type"]]
    return docs


def build_model(snapshot: Snapshot, seed: str, basis: Basis,
                industry_names: bool = False) -> Model:
    rules = snapshot.rules.review
    docs = _documents(snapshot, basis.documents, rules, industry_names)
    experts = expert_frame(snapshot, basis.meeting, basis.declined, basis.prior_load,
                           basis.meeting_load, rules)
    n_d, n_e = len(docs), len(experts)
    shape = (n_d, n_e)
    match = specialty_match(docs, experts)
    recusal = recusals(snapshot, docs, experts, basis.meeting, basis.prior_reviews, rules)
    recused = recusal["employer"] | recusal["conflict"] | recusal["reviewed"]
    ok = (experts["status"] == "ok").to_numpy()
    eligible = match & ok[None, :] & ~recused

    doc_keys = ticket_keys(list(docs["project_id"]), derived_seed(seed, "documents"))
    exp_keys = ticket_keys(list(experts["expert_id"]), derived_seed(seed, "experts"))
    # pair costs where a pair is eligible (the only ones ranked or assigned), 0 elsewhere
    cost = np.zeros(shape, dtype=np.int64)
    pd_, pe = np.nonzero(eligible)
    cost[pd_, pe] = pair_costs(doc_keys[pd_], exp_keys[pe])
    return Model(docs=docs, experts=experts, match=match, recusal=recusal, eligible=eligible,
                 capacity=experts["capacity"].to_numpy(np.int64),
                 prior_load=experts["prior_load"].to_numpy(np.int64),
                 meeting_load=experts["meeting_load"].to_numpy(np.int64), cost=cost)


# --- lead time ---------------------------------------------------------------------------


def check_lead_time(docs: pd.DataFrame, meeting: date, drawn_on: date, rules: ReviewRules
                    ) -> None:
    days = (meeting - drawn_on).days
    late = []
    for doc_type in ("report", "form"):
        need = rules.lead_days[doc_type]
        ids = list(docs.loc[docs["doc_type"] == doc_type, "project_id"])
        if ids and days < need:
            late.append((doc_type, need, ids))
    if not late:
        return
    when = (f"{days} day(s) before the meeting" if days >= 0
            else f"{-days} day(s) after the meeting")
    parts = [f"rule review.lead_days.{t} = {need}: {DOC_TYPE_ZH[t]} panels must be drawn at "
             f"least {need} day(s) before the meeting ({', '.join(ids[:5])}"
             f"{' ...' if len(ids) > 5 else ''})" for t, need, ids in late]
    forms_ok = days >= rules.lead_days["form"] and late[0][0] == "report" and len(late) == 1
    hint = (" draw only the 报告表 now with --documents and give the 报告书 a later meeting,"
            if forms_ok else "")
    raise LeadTimeError(
        f"Too late to draw the panels of the meeting of {meeting}: the draw date "
        f"{drawn_on} is {when}. " + "; ".join(parts) + ". Either move the meeting to a "
        "later date," + hint + " or draw earlier next time.")


# --- explanations ---------------------------------------------------------------------------


def _explain_document(model: Model, d: int, rules: ReviewRules) -> str:
    doc = model.docs.iloc[d]
    m = model.match[d]
    status = model.experts["status"].to_numpy()
    counts = {s: int((m & (status == s)).sum())
              for s in ("inactive", "over_age", "suspended", "declined")}
    okm = m & (status == "ok")
    rec = {k: int((okm & v[d]).sum()) for k, v in model.recusal.items()}
    recused = okm & (model.recusal["employer"][d] | model.recusal["conflict"][d]
                     | model.recusal["reviewed"][d])
    no_load = int((okm & ~recused & (model.capacity == 0)).sum())
    usable = int((model.eligible[d] & (model.capacity > 0)).sum())
    specs = "/".join(doc["specialties"])
    return (f"document {doc['project_id']} ({DOC_TYPE_ZH[doc['doc_type']]}, industry "
            f"{doc['industry']}, specialties {specs}) needs {doc['size']} experts but only "
            f"{usable} are eligible: {int(m.sum())} experts hold those specialties; "
            f"{counts['inactive']} inactive, {counts['over_age']} over the age limit "
            f"{rules.max_age}, {counts['suspended']} suspended, {counts['declined']} declined "
            f"this meeting; recused: {rec['employer']} by employer, {rec['conflict']} by "
            f"declared conflict, {rec['reviewed']} reviewed it before; {no_load} without load "
            f"left (meeting_load_cap {rules.meeting_load_cap}, period_load_cap "
            f"{rules.period_load_cap})")


def _infeasible(model: Model, rules: ReviewRules, result: AssignResult | None) -> InfeasibleError:
    sizes = model.docs["size"].to_numpy()
    short = [d for d in range(len(model.docs))
             if int((model.eligible[d] & (model.capacity > 0)).sum()) < sizes[d]]
    if short:
        lines = [_explain_document(model, d, rules) for d in short[:10]]
        more = f"\n  ... and {len(short) - 10} more documents" if len(short) > 10 else ""
        return InfeasibleError(
            f"No panel can be drawn for {len(short)} document(s):\n  - " + "\n  - ".join(lines)
            + more + "\nTry (1) adding experts of these specialties to the library (2) widening "
            "review.specialties for the industry in the rules (3) lowering review.panel_size, "
            "or leave these documents out with --documents.")
    lacking: list[int] = []
    if result is not None:
        lacking = np.flatnonzero(result.shortfall > 0).tolist()
    chosen = lacking or list(range(len(model.docs)))
    docs = model.docs.iloc[chosen]
    specs = sorted({s for ss in docs["specialties"] for s in ss})
    pool = model.eligible[chosen].any(axis=0) & (model.capacity > 0)
    competing = model.eligible[:, pool].any(axis=1)
    ids = ", ".join(docs["project_id"].head(10))
    return InfeasibleError(
        f"Every document has enough eligible experts on its own, but the load caps do not "
        f"let all panels be filled at once: {len(chosen)} document(s) ({ids}"
        f"{' ...' if len(docs) > 10 else ''}) would stay short of experts. They need "
        f"specialties {'/'.join(specs)}; the {int(pool.sum())} experts eligible for them have "
        f"{int(model.capacity[pool].sum())} seats left under review.meeting_load_cap = "
        f"{rules.meeting_load_cap} and review.period_load_cap = {rules.period_load_cap}, "
        f"while the {int(competing.sum())} documents competing for these experts need "
        f"{int(model.docs['size'].to_numpy()[competing].sum())}. Try (1) raising these caps "
        f"(2) splitting the documents over two meetings with --documents (3) adding experts.")


# --- the draw ------------------------------------------------------------------------------


def _alternates(model: Model, d: int, members: set[int], load: npt.NDArray[np.int64],
                k: int, rules: ReviewRules, exclude: Collection[int] = (),
                alt_load: npt.NDArray[np.int64] | None = None) -> list[int]:
    """The first ``k`` alternates of document ``d`` in pair-cost order. With ``alt_load``
    (``suiji-panels/2``), an expert already the alternate of ``review.alternate_cap``
    documents of the meeting is passed over, and the chosen ones are counted in it."""
    out: list[int] = []
    if k <= 0:
        return out
    for e in model.ranking(d).tolist():
        if e in members or e in exclude:
            continue
        if alt_load is not None and alt_load[e] >= rules.alternate_cap:
            continue
        if model.meeting_load[e] + load[e] + 1 > rules.meeting_load_cap:
            continue
        if model.prior_load[e] + load[e] + 1 > rules.period_load_cap:
            continue
        out.append(e)
        if alt_load is not None:
            alt_load[e] += 1
        if len(out) == k:
            break
    return out


_GUESS_PER_SEAT = 4  # the first solve's arcs: each document's 4 x panel-size cheapest


def _cheapest_arcs(cost: npt.NDArray[np.int64], usable: npt.NDArray[np.bool_],
                   arc_d: npt.NDArray[np.intp], arc_e: npt.NDArray[np.intp], k: int
                   ) -> npt.NDArray[np.bool_]:
    """Per arc: among its document's ``k`` cheapest usable arcs (ties at the k-th: all)."""
    if k >= cost.shape[1]:
        return np.ones(arc_d.size, dtype=bool)
    masked = np.where(usable, cost, np.iinfo(np.int64).max)
    kth = np.partition(masked, k - 1, axis=1)[:, k - 1]
    return np.asarray(cost[arc_d, arc_e] <= kth[arc_d], dtype=bool)


def _first_alternates(model: Model, members: dict[int, set[int]],
                      load: npt.NDArray[np.int64], k: int, rules: ReviewRules
                      ) -> list[list[int]]:
    """:func:`_alternates` of every document at once (nothing excluded), as a matrix sort.

    Each document's eligible non-members who fit both load caps, in (pair cost,
    expert) order, the first ``k``: the same lists as calling ``_alternates``
    per document, since the loads do not change while alternates are listed.
    """
    n_d, n_e = model.eligible.shape
    if k <= 0 or n_e == 0:
        return [[] for _ in range(n_d)]
    fits = ((model.meeting_load + load + 1 <= rules.meeting_load_cap)
            & (model.prior_load + load + 1 <= rules.period_load_cap))
    allowed = model.eligible & fits[None, :]
    for d, ms in members.items():
        allowed[d, list(ms)] = False
    never = np.iinfo(np.int64).max
    # pair costs are below 2^36 (pair_costs), expert indices below 2^26: the key orders
    # by cost, then by expert index, and stays far below 2^63
    if n_e >= 1 << 26 or int(model.cost.max(initial=0)) >= 1 << 36:
        return [_alternates(model, d, members[d], load, k, rules) for d in range(n_d)]
    key = np.where(allowed, model.cost * n_e + np.arange(n_e, dtype=np.int64)[None, :], never)
    if k < n_e:
        key = np.partition(key, k - 1, axis=1)[:, :k]
    key.sort(axis=1)
    return [[int(x % n_e) for x in row if x != never] for row in key.tolist()]


def compute_panels(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
                   progress: Progress | None = None) -> dict[str, Any]:
    """The panels of one meeting (``suiji-panels/1``): a pure function of (snapshot, seed,
    params)."""
    return _compute_panels(snapshot, seed, params, progress, ALGORITHM)


def compute_panels_v2(snapshot: Snapshot, seed: str, params: dict[str, Any], *,
                      progress: Progress | None = None) -> dict[str, Any]:
    """``suiji-panels/2``: as ``/1``, but an expert is an alternate for at most
    ``review.alternate_cap`` documents of the meeting (in document order, each
    document's alternates in pair-cost order), and an expert whose specialty names the
    document's industry is eligible for it."""
    return _compute_panels(snapshot, seed, params, progress, ALGORITHM_V2)


def _compute_panels(snapshot: Snapshot, seed: str, params: dict[str, Any],
                    progress: Progress | None, algorithm: str) -> dict[str, Any]:
    capped = algorithm != ALGORITHM
    if progress is not None:
        progress.step("抽取专家 expert panels")
    p = PanelParams.from_dict(params)
    rules = snapshot.rules.review
    basis = p.basis()
    model = build_model(snapshot, seed, basis, industry_names=capped)
    check_lead_time(model.docs, p.meeting, p.drawn_on, rules)
    usable = model.eligible & (model.capacity > 0)[None, :]
    demand = model.docs["size"].to_numpy(np.int64)
    if (usable.sum(axis=1) < demand).any():
        raise _infeasible(model, rules, None)
    arc_d, arc_e = np.nonzero(usable)
    arc_cost = model.cost[arc_d, arc_e]
    # First on a guess, each document's cheapest arcs (the others priced out, which
    # proves the flow optimal on all arcs): a unique optimum is the same flow however
    # it was found. Ties, infeasibility and failures are decided on all arcs as before.
    result = assign(demand, model.capacity, arc_d, arc_e, arc_cost,
                    candidates=_cheapest_arcs(model.cost, usable, arc_d, arc_e,
                                              _GUESS_PER_SEAT * int(demand.max())))
    if not (result.flow.optimal and result.flow.unique):
        result = assign(demand, model.capacity, arc_d, arc_e, arc_cost)
    if result.status is FlowStatus.INFEASIBLE:
        explain = assign(demand, model.capacity, arc_d, arc_e, arc_cost, allow_shortfall=True)
        raise _infeasible(model, rules, explain if explain.flow.optimal else None)
    if not result.flow.reproducible:
        raise BugError(f"The panel assignment could not be proven unique (solver status "
                       f"{result.status}); please report this with the seed and snapshot.")
    used = result.used
    members: dict[int, set[int]] = {d: set() for d in range(len(model.docs))}
    for d, e in zip(arc_d[used].tolist(), arc_e[used].tolist(), strict=True):
        members[d].add(e)
    load = np.zeros(len(model.experts), dtype=np.int64)
    for ms in members.values():
        for e in ms:
            load[e] += 1
    ids = model.expert_ids
    # per-document counts, whole matrices at once
    okm = model.match & (model.experts["status"] == "ok").to_numpy()[None, :]
    recused = {k: (okm & v).sum(axis=1).tolist() for k, v in model.recusal.items()}
    eligible_counts = model.eligible.sum(axis=1).tolist()
    specialties = model.docs["specialties"].tolist()
    sizes = demand.tolist()
    items = []
    alt_load = np.zeros(len(model.experts), dtype=np.int64) if capped else None
    # uncapped (suiji-panels/1): every document's alternates at once; capped: in document
    # order, since each choice counts against the cap of the next documents
    alternates = None if capped else _first_alternates(model, members, load,
                                                       rules.alternates, rules)
    for d, doc in enumerate(model.docs.itertuples(index=False)):
        alts = (alternates[d] if alternates is not None else
                _alternates(model, d, members[d], load, rules.alternates, rules,
                            alt_load=alt_load))
        items.append({
            "project_id": doc.project_id, "name": doc.name, "doc_type": doc.doc_type,
            "industry": doc.industry, "agency_uscc": doc.agency_uscc,
            "agency_name": doc.agency_name, "developer": doc.developer,
            "specialties": list(specialties[d]),
            "panel_size": int(sizes[d]),
            "experts": sorted(ids[e] for e in members[d]),
            "alternates": [ids[e] for e in alts],
            "eligible": int(eligible_counts[d]),
            "recusals": {k: int(v[d]) for k, v in recused.items()},
            "declined": []})
    return {
        "algorithm": algorithm, "period": snapshot.period, "meeting": p.meeting.isoformat(),
        "seed": seed, "snapshot": snapshot.digest, "drawn_on": p.drawn_on.isoformat(),
        "items": items,
        "basis": basis.as_dict(),
        "declines": [],
        "solver": result.flow.summary(),
    }


def compute_decline(snapshot: Snapshot, seed: str, previous_output: dict[str, Any],
                    params: dict[str, Any]) -> dict[str, Any]:
    """The meeting's panels after ``params["expert_id"]`` declined (a pure function);
    under ``suiji-panels/2`` the topped-up alternates keep ``review.alternate_cap``."""
    expert = str(params.get("expert_id", "")).strip()
    reason = str(params.get("reason", "")).strip()
    out = _copy(previous_output)
    already = {x["expert_id"] for x in out["declines"]} | set(out["basis"]["declined_before"])
    if expert in already:
        raise SuijiError(f"Expert {expert} has already declined the meeting of "
                         f"{out['meeting']}.")
    on_panel = [i for i in out["items"] if expert in i["experts"] or expert in i["alternates"]]
    if not on_panel:
        raise SuijiError(f"Expert {expert} is neither on a panel nor an alternate of the "
                         f"meeting of {out['meeting']}; nothing to decline.")
    rules = snapshot.rules.review
    basis = Basis.from_output(out)
    basis = Basis(basis.meeting, basis.documents, basis.declined | {expert}, basis.prior_load,
                  basis.prior_reviews, basis.meeting_load)
    model = build_model(snapshot, seed, basis,
                        industry_names=out.get("algorithm") == ALGORITHM_V2)
    index = {e: i for i, e in enumerate(model.expert_ids)}
    ids = model.expert_ids
    d_index = {pid: i for i, pid in enumerate(model.doc_ids)}
    load = np.zeros(len(ids), dtype=np.int64)
    for item in out["items"]:
        for e in item["experts"]:
            if e != expert:
                load[index[e]] += 1
    replacements = []
    for item in out["items"]:
        was_member = expert in item["experts"]
        was_alternate = expert in item["alternates"]
        if not (was_member or was_alternate):
            continue
        item["declined"] = sorted(set(item.get("declined", [])) | {expert})
        item["alternates"] = [e for e in item["alternates"] if e != expert]
        d = d_index[item["project_id"]]
        members = {index[e] for e in item["experts"] if e != expert}
        if was_member:
            queue = [index[e] for e in item["alternates"]] + [
                e for e in model.ranking(d).tolist() if ids[e] not in item["alternates"]]
            chosen = None
            for e in queue:
                if e in members or not model.eligible[d, e]:
                    continue
                if model.meeting_load[e] + load[e] + 1 > rules.meeting_load_cap:
                    continue
                if model.prior_load[e] + load[e] + 1 > rules.period_load_cap:
                    continue
                chosen = e
                break
            if chosen is None:
                raise InfeasibleError(
                    f"No eligible expert is left to replace {expert} on document "
                    f"{item['project_id']} at the meeting of {out['meeting']}: "
                    f"{_explain_document(model, d, rules)}. Postpone the document to a later "
                    f"meeting and draw a new panel for it.")
            members.add(chosen)
            load[chosen] += 1
            source = "alternate" if ids[chosen] in item["alternates"] else "next_eligible"
            item["experts"] = sorted(ids[e] for e in members)
            item["alternates"] = [e for e in item["alternates"] if e != ids[chosen]]
            replacements.append({"project_id": item["project_id"], "replaced_by": ids[chosen],
                                 "source": source})
    # top up the alternate lists that lost someone, in pair-cost order
    alt_load = None
    if out.get("algorithm") == ALGORITHM_V2:
        alt_load = np.zeros(len(ids), dtype=np.int64)
        for item in out["items"]:
            for e in item["alternates"]:
                alt_load[index[e]] += 1
    for item in out["items"]:
        want = rules.alternates - len(item["alternates"])
        if want <= 0 or expert not in item.get("declined", []):
            continue
        d = d_index[item["project_id"]]
        members = {index[e] for e in item["experts"]}
        keep = {index[e] for e in item["alternates"]}
        extra = _alternates(model, d, members, load, want, rules, exclude=keep,
                            alt_load=alt_load)
        item["alternates"] = item["alternates"] + [ids[e] for e in extra]
    out["declines"].append({"expert_id": expert, "reason": reason,
                            "replacements": replacements})
    return out


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


# --- orchestration ---------------------------------------------------------------------------


def check_meeting(meeting: date, today: date, rules: Rules,
                  non_working_day: bool = False) -> None:
    """Refuse a meeting on a day off (unless ``non_working_day``) and a draw more than
    ``review.max_lead_days`` before the meeting (the panel stays secret for less time)."""
    if not non_working_day and not is_working_day(meeting, rules):
        what = "a Saturday or Sunday" if meeting.weekday() >= 5 else "a public holiday"
        name = holiday_name(meeting)
        raise SuijiError(
            f"The meeting of {meeting.isoformat()} falls on {what}"
            + (f" ({name})" if name else "") + ": experts are not drawn for a day off. Move "
            "the meeting to a working day, or pass --non-working-day if it really is held "
            "then.")
    days = (meeting - today).days
    if days > rules.review.max_lead_days:
        raise LeadTimeError(
            f"Too early to draw the panels of the meeting of {meeting.isoformat()}: today "
            f"({today.isoformat()}) is {days} days before it, more than the "
            f"{rules.review.max_lead_days} days of rule review.max_lead_days (the longer a "
            f"drawn panel is known, the longer it can be approached). Draw on or after "
            f"{(meeting - timedelta(days=rules.review.max_lead_days)).isoformat()}.")


def draw_panels(store: Store, period: Period, rules: Rules, meeting: date, today: date,
                documents: Iterable[str] | None = None, seed: str | None = None, *,
                redraw: bool = False, reason: str = "",
                progress: Progress | None = None, commitment: str | None = None,
                weak_seed: bool = False, non_working_day: bool = False) -> DrawRecord:
    """Draw and record the panels of a meeting (``suiji-panels/2``) from the period's latest
    reviews freeze.

    ``today`` is the date of the draw (the caller's wall clock); it is recorded
    in the params and checked against the lead-time rules (at least
    ``review.lead_days``, at most ``review.max_lead_days`` before the meeting). A
    meeting on a day off is refused unless ``non_working_day``. The documents default
    to every sampled document of the period without a panel at another meeting; a
    document named that already has one needs ``redraw`` with a ``reason`` (recorded
    and published). ``commitment`` and ``weak_seed`` as in
    :func:`~suiji.data.draws.run_draw` (the commitment of the reviews freeze).
    All or nothing, in one transaction (:func:`suiji.data.draws.run_draw`).
    ``suiji verify`` checks the recorded ``drawn_on`` against the log's time.
    """
    subject = meeting.isoformat()
    check_meeting(meeting, today, rules, non_working_day)

    def params(store: Store, _snapshot: Snapshot) -> dict[str, Any]:
        values = panel_params(store, period, meeting, today, documents, redraw=redraw)
        if non_working_day:  # on record: the meeting is on a day off, and that was accepted
            values["non_working_day"] = True
        return values

    return run_draw(store, period=period, scope=SCOPE, rules=rules, algorithm=ALGORITHM_V2,
                    compute=compute_panels_v2, params=params, subject=subject,
                    snapshot_scope="reviews", seed=seed, redraw=redraw, reason=reason,
                    what=f"The panels of the meeting of {subject} ({period})",
                    hint="To replace one expert use `suiji decline`.", progress=progress,
                    commitment=commitment, weak_seed=weak_seed)


def panel_params(store: Store, period: Period, meeting: date, today: date,
                 documents: Iterable[str] | None, *, redraw: bool = False) -> dict[str, Any]:
    """The recorded params of a panel draw, read from the record: the documents (by
    default the sampled ones without a panel), the experts' earlier panels of the
    period, those who declined this meeting and its panels of other periods."""
    subject = meeting.isoformat()
    sample = current_draw(store, str(period), "reviews")
    if sample is None:
        raise SuijiError(f"{period} has no review sample yet: draw it first with "
                         f"`suiji draw reviews --period {period} --seed ...`.")
    sampled = [i["project_id"] for i in latest_output(store, sample)["items"]]
    prior: list[tuple[str, str, str]] = []
    same_meeting: list[tuple[str, str, str]] = []
    paneled: set[str] = set()
    paneled_at: dict[str, str] = {}
    declined: set[str] = set()
    for d in all_draws(store):
        if d.scope != SCOPE or (d.period != str(period) and d.subject != subject):
            continue
        output = latest_output(store, d)
        if d.subject == subject:  # this meeting, any period, any status
            declined |= {x["expert_id"] for x in output.get("declines", [])}
            declined |= set(output.get("basis", {}).get("declined_before", []))
            if d.period != str(period) and d.status == "current":
                same_meeting.extend((e, pid, d.period) for e, pid in panel_members(output))
            continue
        if d.status != "current":
            continue
        paneled |= {i["project_id"] for i in output["items"]}
        paneled_at.update({i["project_id"]: d.subject for i in output["items"]})
        prior.extend((e, pid, d.subject) for e, pid in panel_members(output))
    if documents is None:
        chosen = sorted(set(sampled) - paneled)
        if not chosen:
            raise SuijiError(f"Every sampled document of {period} already has a panel. "
                             f"To review a document again, name it with --documents.")
    else:
        chosen = sorted({d.strip() for d in documents if d.strip()})
        outside = sorted(set(chosen) - set(sampled))
        if outside:
            raise SuijiError(f"Not in the review sample of {period}: {', '.join(outside)}. "
                             f"Panels are drawn for sampled documents only.")
        if not chosen:
            raise SuijiError("--documents names no document.")
        again = [d for d in chosen if d in paneled]
        if again and not redraw:
            raise AlreadyDrawnError(
                "Already paneled: " + ", ".join(f"{d} (meeting of {paneled_at[d]})"
                                                 for d in again[:10])
                + f"{' ...' if len(again) > 10 else ''}. A second panel for a document needs "
                f"--redraw --reason \"...\" (recorded and published); to replace one expert "
                f"use `suiji decline`.")
    return PanelParams(meeting=meeting, drawn_on=today, documents=tuple(chosen),
                       prior=tuple(sorted(prior)), declined=tuple(sorted(declined)),
                       same_meeting=tuple(sorted(same_meeting))).as_dict()


@dataclass(frozen=True)
class DeclineResult:
    draw: DrawRecord
    event_id: int
    output: dict[str, Any]
    replacements: tuple[dict[str, str], ...]


def find_panel_draw(store: Store, meeting: date, period: Period | None = None) -> DrawRecord:
    subject = meeting.isoformat()
    periods = current_periods(store, SCOPE, subject)
    if period is not None:
        periods = [p for p in periods if p == str(period)]
    if not periods:
        raise SuijiError(f"No panels were drawn for the meeting of {subject}"
                         f"{f' in {period}' if period else ''}. Draw them with `suiji draw "
                         f"panels --period ... --meeting {subject}`.")
    if len(periods) > 1:
        raise SuijiError(f"The meeting of {subject} has panels of several periods "
                         f"({', '.join(periods)}); say which with --period.")
    record = current_draw(store, periods[0], SCOPE, subject)
    assert record is not None
    return record


def decline(store: Store, meeting: date, expert_id: str, reason: str,
            period: Period | None = None) -> DeclineResult:
    """Record that an expert declined a meeting; their places go to alternates (recorded event).

    At most ``review.max_declines_per_meeting`` declines (of the frozen rules) are
    recorded per meeting: beyond that the panels are re-rolled one decline at a time,
    so a new panel draw (``--redraw --reason``) is needed instead.
    """
    def find(store: Store) -> DrawRecord:
        draw = find_panel_draw(store, meeting, period)
        limit = frozen_rules(store, draw).review.max_declines_per_meeting
        declined = sum(len(latest_output(store, d).get("declines", []))
                       for d in all_draws(store) if d.scope == SCOPE
                       and d.subject == meeting.isoformat())
        if declined >= limit:
            raise SuijiError(
                f"The meeting of {meeting.isoformat()} has {declined} recorded decline(s), the "
                f"most review.max_declines_per_meeting ({limit}) allows. Draw the meeting's "
                f"panels again instead: `suiji draw panels --meeting {meeting.isoformat()} "
                f"--redraw --reason \"...\"`.")
        return draw

    event = run_event(store, kind="decline", find=find,
                      compute=compute_decline,
                      params={"expert_id": expert_id.strip(), "reason": reason.strip()},
                      reason=reason.strip(), hint="e.g. 出差")
    return DeclineResult(event.draw, event.event, event.output,
                         tuple(event.output["declines"][-1]["replacements"]))
