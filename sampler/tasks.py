"""The coordinated draw of a quarter's inspection tasks: who is visited, for which tasks.

:func:`draw_tasks` takes the frozen company directory, positive list, EIA
projects, the year's visits and the tasks of the rules, and returns a
:class:`TaskDraw` (ALGORITHM.md, ``suiji-tasks/1``):

1. **Populations.** Each task filters the directory (category, industry,
   district, status; positive-list firms out unless the task includes them), or
   takes the developers of the projects approved in a date range.
2. **One cap over every on-site visit.** A firm whose counting visits this year
   (imported history, earlier plans, earlier tasks of this period, of the kinds
   ``rules.cap_kinds``) reach ``rules.annual_cap`` is left out of every task
   whose own kind counts; a national-campaign task (exempt) may still draw it,
   and the visit is marked exempt.
3. **Shared tickets.** Every task's sample is the k smallest Rivest tickets of
   its eligible population under the period's plain seed, so each task alone is
   ``consistent_sampler.sampler(population, seed=SEED, take=k)`` and the tasks'
   samples overlap as much as the populations allow (permanent random numbers).
4. **One visit per firm.** A firm drawn by several tasks gets one visit for all
   their matters, inside the intersection of their windows, by a team of the
   largest team size. Tasks whose populations share a firm but whose windows do
   not meet are refused, naming them.

Everything here is a pure function of its arguments (no clock, no I/O).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pandas as pd

from suiji.data.errors import RulesError, SuijiError
from suiji.data.period import Period
from suiji.data.rules import InspectionRules, InspectionTask
from suiji.sampler.rational import exact
from suiji.sampler.tickets import (
    Objects,
    digest_at,
    pool_tickets,
    smallest_positions,
    ticket_from_digest,
)


@dataclass(frozen=True)
class Window:
    """A task's or a visit's dates: first and last day, ISO, inclusive."""

    start: str
    end: str

    def __post_init__(self) -> None:
        if date.fromisoformat(self.start) > date.fromisoformat(self.end):
            raise ValueError(f"window {self.start}..{self.end} is empty")

    def meets(self, other: Window) -> bool:
        return self.start <= other.end and other.start <= self.end

    def contains(self, day: str) -> bool:
        return self.start <= day <= self.end


def task_window(task: InspectionTask, period: Period, start: date | None = None) -> Window:
    """The task's window, refusing one that is not inside the period; from ``start`` on
    (the first day the draw may date a visit, default the period's first day), refusing a
    task whose dates end before it."""
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    begin, end = task.start or first, task.end or last
    if not (first <= begin <= end <= last):
        raise RulesError(f"Task {task.id!r}: its dates {begin}..{end} must lie inside "
                         f"{period} ({first}..{last}); fix start/end in the rules file.")
    day = (start or period.first_day).isoformat()
    if end < day:
        raise SuijiError(f"Task {task.id!r} ends on {end}, before {day}, the first day this "
                         f"draw may date a visit (never on or before the day of the draw). "
                         f"Draw it earlier, leave it out (--task the others), or move its "
                         f"end in the rules file.")
    return Window(max(begin, day), end)


@dataclass(frozen=True)
class TaskSample:
    """One task's draw: its frame, quota and sample (USCCs sorted), and who was left out."""

    task: InspectionTask
    window: Window
    team_size: int
    counts_toward_cap: bool
    eligible: int  # size of the sampling frame
    quota: int
    drawn: tuple[str, ...]
    frame: tuple[str, ...]  # the eligible population, sorted (what an auditor samples)
    excluded: Mapping[str, int]  # reason -> firms of the population left out
    unmatched_developers: int = 0  # projects_approved: developers not in the directory

    def __post_init__(self) -> None:
        if len(self.drawn) != self.quota or not 0 <= self.quota <= self.eligible:
            raise ValueError(f"task {self.task.id}: drawn {len(self.drawn)}, quota "
                             f"{self.quota}, eligible {self.eligible}")
        if len(self.frame) != self.eligible:
            raise ValueError(f"task {self.task.id}: frame size differs from eligible")

    @property
    def probability(self) -> Fraction:
        """Every eligible firm's inclusion probability: quota / eligible (exact)."""
        return Fraction(self.quota, self.eligible) if self.eligible else Fraction(0)


@dataclass(frozen=True)
class Visit:
    """One on-site visit: the firm, the tasks it covers and where its date may fall."""

    uscc: str
    ticket: str
    tasks: tuple[str, ...]  # task ids, in rules order
    window: Window  # the intersection of the tasks' windows
    team_size: int  # the largest team size of its tasks
    counts_toward_cap: bool  # some task of the visit counts
    exempt: bool  # drawn although at the cap: only exempt (national) tasks
    joins: tuple[int, str] | None = None  # (draw id, date) of an earlier visit it joins


@dataclass(frozen=True)
class TaskDraw:
    period: str
    seed: str
    samples: tuple[TaskSample, ...]  # in rules order
    visits: tuple[Visit, ...]  # sorted by USCC
    independent_expected: Fraction  # E[distinct firms] if each task drew on its own

    @property
    def pairs(self) -> int:
        return sum(len(s.drawn) for s in self.samples)

    @property
    def new_visits(self) -> int:
        return sum(v.joins is None for v in self.visits)


# --- the year's visits ----------------------------------------------------------


def counting_visits(history: pd.DataFrame, earlier: pd.DataFrame, rules: InspectionRules,
                    period: Period, start: date | None = None) -> dict[str, int]:
    """uscc -> visits this year that count toward the cap, before this draw.

    ``history`` (uscc, date, kind, source): the year's visits dated before
    ``start``, the first day the draw may use (default the period's first day; a
    draw inside the period also counts the visits of the period before it):
    imported records and earlier plans (an earlier plan's item without a date
    still counts). ``earlier`` (uscc, date, kinds, counts, ...): the visits of the
    period's tasks drawn before; ``counts`` is ``yes`` for a counting visit.
    """
    counts: Counter[str] = Counter()
    if len(history):
        kinds = history["kind"].astype(str)
        day = history["date"].astype(str)
        year_start = f"{period.year}-01-01"
        first = (start or period.first_day).isoformat()
        in_year = (day >= year_start) & (day < first)
        if "source" in history:
            in_year |= (day == "") & history["source"].astype(str).str.startswith("plan:")
        rows = history.loc[in_year & kinds.isin(list(rules.cap_kinds)), "uscc"]
        counts.update(rows.astype(str).tolist())
    if len(earlier):
        counts.update(earlier.loc[earlier["counts"].astype(str) == "yes", "uscc"]
                      .astype(str).tolist())
    return dict(counts)


def _listed(positive_list: pd.DataFrame, period: Period) -> set[str]:
    if positive_list.empty:
        return set()
    first = period.first_day.isoformat()
    on = (positive_list["start"].astype(str) <= first) & (first <= positive_list["end"]
                                                          .astype(str))
    return set(positive_list.loc[on, "uscc"].astype(str).tolist())


# --- quotas -----------------------------------------------------------------------


def task_quota(task: InspectionTask, eligible: int, inspectors_count: int,
               period: Period) -> int:
    """The sample size of a task of ``eligible`` firms (exact rational arithmetic).

    ratio: ceil(ratio × eligible); count: min(count, eligible); all: eligible;
    annual_all: ceil(eligible / remaining quarters); per_inspector:
    min(eligible, ceil(per_year × inspectors / 4)).
    """
    if task.quota == "ratio":
        return min(eligible, math.ceil(exact(task.ratio) * eligible))
    if task.quota == "count":
        return min(task.count, eligible)
    if task.quota == "all":
        return eligible
    if task.quota == "annual_all":
        return math.ceil(Fraction(eligible, period.remaining_quarters))
    if task.quota == "per_inspector":
        return min(eligible, math.ceil(exact(task.per_year) * inspectors_count / 4))
    raise RulesError(f"task {task.id}: unknown quota {task.quota!r}")


# --- populations -------------------------------------------------------------------


def _in(values: Objects, wanted: Sequence[str]) -> npt.NDArray[np.bool_]:
    if not wanted:
        return np.ones(values.size, dtype=bool)
    return pd.Series(values, dtype=object).isin(list(wanted)).to_numpy(dtype=bool, copy=True)


def _columns(companies: pd.DataFrame) -> dict[str, Objects]:
    col = {c: companies[c].astype(str).to_numpy(dtype=object)
           for c in ("name", "category", "industry", "district", "status")}
    col["status"] = np.where(col["status"] == "", "active", col["status"]).astype(object)
    return col


def _population(task: InspectionTask, col: Mapping[str, Objects], projects: pd.DataFrame
                ) -> tuple[npt.NDArray[np.bool_], int]:
    """The task's population before positive list and cap, and unmatched developers."""
    mask = _in(col["status"], task.statuses)
    unmatched = 0
    if task.projects_approved:
        first, last = task.projects_approved
        day = projects["approved_on"].astype(str) if len(projects) else pd.Series([], dtype=str)
        developers = sorted(set(projects.loc[(day >= first) & (day <= last), "developer"]
                                .astype(str).str.strip().tolist())) if len(projects) else []
        names = pd.Series(col["name"], dtype=object).str.strip()
        known = set(names.tolist())
        unmatched = sum(d not in known for d in developers)
        mask &= names.isin(developers).to_numpy()
    else:
        mask &= _in(col["category"], task.categories) & _in(col["industry"], task.industries)
        mask &= _in(col["district"], task.districts)
    return mask, unmatched


# --- the draw ------------------------------------------------------------------------


def draw_tasks(companies: pd.DataFrame, positive_list: pd.DataFrame, projects: pd.DataFrame,
               history: pd.DataFrame, earlier: pd.DataFrame, tasks: Sequence[InspectionTask],
               rules: InspectionRules, period: Period, seed: str,
               inspectors_count: int, start: date | None = None) -> TaskDraw:
    """Draw ``tasks`` together (see the module docstring and ALGORITHM.md ``suiji-tasks/1``).

    ``earlier`` (uscc, date, team_size, counts, draw): the visits of the
    period's tasks already drawn; a firm drawn again joins its earlier visit
    when that visit's date is inside the new tasks' windows and its team is
    large enough (no second visit), else it needs a new visit. ``start``: the
    first day a visit may be dated (the day after the draw, or later; default the
    period's first day): the tasks' windows begin no earlier, and the visits dated
    before it count toward the cap. The result does not depend on the rows' order.
    """
    if not seed.strip():
        raise SuijiError("The seed is empty.")
    if not tasks:
        raise SuijiError("No task to draw.")
    uscc: Objects = companies["uscc"].astype(str).to_numpy(dtype=object)
    if not pd.Index(uscc, dtype=object).is_unique:
        raise SuijiError("The company directory lists a USCC twice; fix it and import it "
                         "again.")
    counts = counting_visits(history, earlier, rules, period, start)
    count_arr = np.fromiter((counts.get(u, 0) for u in uscc.tolist()), dtype=np.int64,
                            count=uscc.size)
    at_cap = count_arr >= rules.annual_cap
    listed = _in(uscc, sorted(_listed(positive_list, period))) if len(positive_list) \
        else np.zeros(uscc.size, dtype=bool)
    earlier_by_firm: dict[str, list[tuple[str, int, int]]] = {}
    for r in earlier.itertuples(index=False):
        earlier_by_firm.setdefault(str(r.uscc), []).append(
            (str(r.date), int(str(r.team_size)), int(str(r.draw))))

    windows = [task_window(t, period, start) for t in tasks]
    sizes = [t.team_size or rules.team_size for t in tasks]
    counting = [t.kind in rules.cap_kinds for t in tasks]

    def joinable(u: str, w: Window, size: int) -> tuple[int, str] | None:
        for day, team, draw in sorted(earlier_by_firm.get(u, [])):
            if w.contains(day) and team >= size:
                return draw, day
        return None

    columns = _columns(companies)
    frames: list[npt.NDArray[np.intp]] = []
    excluded: list[dict[str, int]] = []
    unmatched: list[int] = []
    for t, c in zip(tasks, counting, strict=True):
        base, lost = _population(t, columns, projects)
        out = {"positive_list": 0, "annual_cap": 0}
        keep = base.copy()
        if t.positive_list == "exclude":
            out["positive_list"] = int(np.count_nonzero(keep & listed))
            keep &= ~listed
        if c:  # a firm at the cap is out of every counting task
            out["annual_cap"] = int(np.count_nonzero(keep & at_cap))
            keep &= ~at_cap
        if t.quota == "annual_all":  # the frame: firms without a counting visit this year
            keep &= count_arr == 0
        frames.append(np.flatnonzero(keep))
        excluded.append(out)
        unmatched.append(lost)

    _check_windows(tasks, windows, frames)

    union = np.unique(np.concatenate(frames)) if frames else np.empty(0, dtype=np.intp)
    pool_ids: Objects = uscc[union]
    keys, digests = pool_tickets(pool_ids.tolist(), seed)

    samples = []
    drawn_by: dict[int, list[int]] = {}  # directory position -> task indices
    for n, (t, w, size, c, frame) in enumerate(zip(tasks, windows, sizes, counting, frames,
                                                    strict=True)):
        at = np.searchsorted(union, frame)  # the frame's places in the pool (both sorted)
        k = task_quota(t, int(frame.size), inspectors_count, period)
        chosen = frame[smallest_positions(keys[at], pool_ids[at], seed, k)]
        for i in chosen.tolist():
            drawn_by.setdefault(int(i), []).append(n)
        samples.append(TaskSample(
            task=t, window=w, team_size=size, counts_toward_cap=c, eligible=int(frame.size),
            quota=k, drawn=tuple(sorted(uscc[chosen].tolist())),
            frame=tuple(sorted(uscc[frame].tolist())), excluded=excluded[n],
            unmatched_developers=unmatched[n]))

    visits = []
    drawn = np.fromiter(drawn_by, dtype=np.intp, count=len(drawn_by))
    in_pool = dict(zip(drawn.tolist(), np.searchsorted(union, drawn).tolist(), strict=True))
    for i, members in drawn_by.items():
        u = str(uscc[i])
        w = windows[members[0]]
        for m in members[1:]:
            other = windows[m]
            w = Window(max(w.start, other.start), min(w.end, other.end))
        size = max(sizes[m] for m in members)
        counts_here = any(counting[m] for m in members)
        visits.append(Visit(
            uscc=u, ticket=ticket_from_digest(digest_at(digests, in_pool[i])),
            tasks=tuple(tasks[m].id for m in members), window=w, team_size=size,
            counts_toward_cap=counts_here, exempt=bool(at_cap[i]) and not counts_here,
            joins=joinable(u, w, size)))
    visits.sort(key=lambda v: v.uscc)
    return TaskDraw(str(period), seed, tuple(samples), tuple(visits),
                    _union_expectation(frames, [s.probability for s in samples]))


def _check_windows(tasks: Sequence[InspectionTask], windows: Sequence[Window],
                   frames: Sequence[npt.NDArray[np.intp]]) -> None:
    """Refuse two tasks whose populations share a firm while their windows do not meet."""
    for a in range(len(tasks)):
        for b in range(a + 1, len(tasks)):
            if windows[a].meets(windows[b]):
                continue
            shared = np.intersect1d(frames[a], frames[b]).size
            if shared:
                raise RulesError(
                    f"Tasks {tasks[a].id!r} ({windows[a].start}..{windows[a].end}) and "
                    f"{tasks[b].id!r} ({windows[b].start}..{windows[b].end}) share {shared:,} "
                    f"firm(s) but their dates do not meet, so a firm drawn by both could not "
                    f"get one visit for both. Make their windows overlap, or make their "
                    f"populations disjoint, in the rules file.")


def independent_union(samples: Sequence[TaskSample]) -> Fraction:
    """E[number of distinct firms] if every task drew its own independent SRS (exact).

    Σ over the firms of the union of the frames of 1 − Π over the tasks whose
    frame holds the firm of (1 − k_t / n_t), grouped by which frames hold a firm.
    """
    if not samples:
        return Fraction(0)
    ids = np.unique(np.concatenate([np.asarray(s.frame, dtype=object) for s in samples]))
    frames = [np.searchsorted(ids, np.asarray(s.frame, dtype=object)) for s in samples]
    return _union_expectation(frames, [s.probability for s in samples])


def _union_expectation(frames: Sequence[npt.NDArray[np.intp]], probabilities: Sequence[Fraction]
                       ) -> Fraction:
    """:func:`independent_union` of frames given as integer positions."""
    if not frames:
        return Fraction(0)
    size = int(max((int(f.max()) + 1 for f in frames if f.size), default=0))
    pattern = np.zeros(size, dtype=object)  # which frames hold each firm, as a bitmask
    for n, f in enumerate(frames):
        pattern[f] += 1 << n
    total = Fraction(0)
    for bits, firms in Counter(pattern.tolist()).items():
        if not bits:
            continue
        miss = Fraction(1)
        for n, p in enumerate(probabilities):
            if bits >> n & 1:
                miss *= 1 - p
        total += firms * (1 - miss)
    return total
