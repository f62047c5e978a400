"""The firm draw of the double-random plan: who is inspected this quarter (DOMAIN.md §3 rules 1-4).

:func:`draw_firms` takes the frozen company directory, positive list and
inspection history and returns a :class:`FirmDraw`:

1. **Eligibility.** A firm is eligible when its status is ``active``, it is not
   on the positive list on the period's first day, and it had fewer than
   ``annual_cap`` routine (``random``) inspections in the period's year
   before the period. Every other firm is excluded with one reason, checked
   in that order: ``status``, ``positive_list``, ``annual_cap``.
2. **Strata.** One stratum per supervision category (key, general, special),
   each with its own quota from ``rules.quota[category]``.
3. **Draw.** In a simple-random stratum the drawn firms are the k eligible
   firms with the smallest Rivest tickets under the plain seed, exactly
   ``consistent_sampler.sampler(ids, seed=SEED, take=k, with_replacement=False)``.
   With ``risk_weighting`` the stratum is drawn with probability proportional
   to the risk score (:func:`suiji.sampler.pps.pps_systematic`), and every
   firm's exact inclusion probability is stated.

ALGORITHM.md ("Firm draw") specifies all of it for reimplementation.
Everything is vectorised except the hashing of the ids, which is the cost of
the tickets themselves.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from suiji.data.errors import RulesError, SuijiError
from suiji.data.period import Period
from suiji.data.rules import CATEGORIES, InspectionRules, Quota
from suiji.sampler.district_minimum import draw_with_district_minimum
from suiji.sampler.pps import pps_systematic
from suiji.sampler.rational import exact
from suiji.sampler.tickets import (
    Objects,
    digest_at,
    pool_tickets,
    smallest_positions,
    ticket_from_digest,
)

_LISTED = 1 << 40  # added to a firm's routine count when it is on the positive list



class ExclusionReason(StrEnum):
    """Why a firm is not in the sampling frame, in the order they are checked (recorded as is)."""

    STATUS = "status"  # not active
    POSITIVE_LIST = "positive_list"  # on the positive list on the period's first day
    ANNUAL_CAP = "annual_cap"  # annual_cap routine inspections this year already


REASONS: tuple[str, ...] = tuple(r.value for r in ExclusionReason)
_CODE = {r: i for i, r in enumerate(ExclusionReason)}  # a reason's code in the draw's arrays
METHODS = ("srs", "pps")
ROUTINE = "random"  # the inspection kind that counts against the annual cap
ZERO_RISK_FLOOR = Fraction(1, 100)  # a risk of 0 weighs 1% of the stratum's median risk


@dataclass(frozen=True)
class DrawnFirm:
    uscc: str
    stratum: str  # the category
    probability: float  # the firm's inclusion probability in this draw
    ticket: str  # the full Rivest ticket, '0.ddd…'

    def __post_init__(self) -> None:
        if not 0 < self.probability <= 1:
            raise ValueError(f"{self.uscc}: inclusion probability {self.probability} "
                             f"outside (0, 1]")


@dataclass(frozen=True)
class StratumDraw:
    category: str
    eligible: int  # size of the stratum's sampling frame
    quota: int  # what the rules ask for
    drawn: int  # = quota, or more when district minimums add up to more
    method: str  # "srs" or "pps"
    min_per_district: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}")
        if not 0 <= self.quota <= self.eligible or not 0 <= self.drawn <= self.eligible:
            raise ValueError(f"stratum {self.category}: quota {self.quota} / drawn "
                             f"{self.drawn} must lie in [0, {self.eligible}]")


@dataclass(frozen=True)
class Exclusion:
    uscc: str
    reason: str  # one of REASONS

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown exclusion reason {self.reason!r}")


@dataclass(frozen=True, eq=False)
class FirmDraw:
    """The drawn firms, the strata and the exclusions of one period's firm draw.

    The per-firm data are kept as read-only numpy arrays (cheap at national
    scale); :attr:`firms`, :attr:`exclusions` and :attr:`probabilities` are
    the typed, sorted views.
    """

    period: str
    seed: str
    strata: tuple[StratumDraw, ...]  # in CATEGORIES order
    excluded: Mapping[str, int]  # reason -> number of firms
    by_status: Mapping[str, int]  # status -> number of firms excluded for it
    drawn_ids: Objects = field(repr=False)
    drawn_strata: Objects = field(repr=False)
    drawn_probabilities: npt.NDArray[np.float64] = field(repr=False)
    drawn_digests: Objects = field(repr=False)  # SHA-256 digests behind the tickets
    excluded_ids: Objects = field(repr=False)
    excluded_reasons: Objects = field(repr=False)
    # every firm of a sampling frame with its stated inclusion probability
    frame_ids: Objects = field(repr=False)
    frame_probabilities: npt.NDArray[np.float64] = field(repr=False)

    def __post_init__(self) -> None:
        if set(self.excluded) != set(REASONS):
            raise ValueError("excluded must count every reason")
        n = self.drawn_ids.size
        if not (self.drawn_strata.size == self.drawn_probabilities.size
                == self.drawn_digests.size == n):
            raise ValueError("the drawn firms' arrays differ in length")
        if sum(s.drawn for s in self.strata) != n:
            raise ValueError("the strata's drawn counts do not add up to the drawn firms")
        if self.excluded_ids.size != self.excluded_reasons.size \
                or sum(self.excluded.values()) != self.excluded_ids.size:
            raise ValueError("the exclusions do not match their counts")
        if self.frame_ids.shape != self.frame_probabilities.shape:
            raise ValueError("frame_ids and frame_probabilities differ in length")
        for array in (self.drawn_ids, self.drawn_strata, self.drawn_probabilities,
                      self.drawn_digests, self.excluded_ids, self.excluded_reasons,
                      self.frame_ids, self.frame_probabilities):
            array.setflags(write=False)

    @cached_property
    def drawn_tickets(self) -> Objects:
        """The drawn firms' full Rivest tickets (aligned with ``drawn_ids``)."""
        out = np.empty(self.drawn_digests.size, dtype=object)
        out[:] = [ticket_from_digest(d) for d in self.drawn_digests.tolist()]
        out.setflags(write=False)
        return out

    @cached_property
    def firms(self) -> tuple[DrawnFirm, ...]:
        """The drawn firms, sorted by USCC."""
        order = np.argsort(self.drawn_ids.astype(str), kind="stable")
        return tuple(DrawnFirm(*row) for row in zip(
            self.drawn_ids[order].tolist(), self.drawn_strata[order].tolist(),
            self.drawn_probabilities[order].tolist(), self.drawn_tickets[order].tolist(),
            strict=True))

    @cached_property
    def exclusions(self) -> tuple[Exclusion, ...]:
        """Every excluded firm with its reason, sorted by USCC."""
        order = np.argsort(self.excluded_ids.astype(str), kind="stable")
        return tuple(Exclusion(*row) for row in zip(
            self.excluded_ids[order].tolist(), self.excluded_reasons[order].tolist(),
            strict=True))

    @cached_property
    def probabilities(self) -> dict[str, float]:
        """uscc -> stated inclusion probability, for every firm of a sampling frame."""
        return dict(zip(self.frame_ids.tolist(), self.frame_probabilities.tolist(), strict=True))

    @property
    def usccs(self) -> list[str]:
        return sorted(self.drawn_ids.tolist())


# --- quotas ---------------------------------------------------------------------


def stratum_quota(quota: Quota, eligible: int, inspectors_count: int, period: Period) -> int:
    """The number of firms to draw from a stratum of ``eligible`` firms.

    ``ratio``: ceil(ratio × eligible). ``per_inspector``: ceil(per_year ×
    inspectors / 4), at most ``eligible``. ``annual_all``: ceil(eligible /
    remaining quarters of the year), the frame being the firms not yet
    inspected this year.
    """
    if quota.mode == "ratio":
        return math.ceil(exact(quota.ratio) * eligible)
    if quota.mode == "per_inspector":
        return min(eligible, math.ceil(exact(quota.per_year) * inspectors_count / 4))
    if quota.mode == "annual_all":
        return math.ceil(Fraction(eligible, period.remaining_quarters))
    raise RulesError(f"quota mode {quota.mode!r} is not one of ratio, per_inspector, annual_all")


# --- risk weights ---------------------------------------------------------------


def parse_risk(risk: Objects) -> npt.NDArray[np.float64]:
    """The risk column as floats, NaN where empty; refuses text and negative numbers."""
    text = np.asarray(risk, dtype=object)
    try:
        values = np.where(text == "", "nan", text).astype(np.float64)
    except ValueError as exc:
        raise SuijiError("A company's risk score (风险分) is not a number; fix the company "
                         "directory and import it again.") from exc
    if (values < 0).any() or np.isinf(values).any():
        raise SuijiError("A company's risk score (风险分) is negative or infinite; fix the "
                         "company directory and import it again.")
    return values


def risk_weights(risk: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """PPS weights from the risk scores of one stratum's frame (NaN = missing).

    Missing scores take the median of the stratum's given scores; a score of 0
    takes ``ZERO_RISK_FLOOR`` (1%) of the median of the stratum's positive
    scores, so a zero-risk firm keeps a small chance. With no positive score
    at all every firm weighs 1 (a simple random sample by PPS).
    """
    values = np.asarray(risk, dtype=np.float64)
    given = ~np.isnan(values)
    if given.any():
        values = np.where(given, values, np.median(values[given]))
    positive = values[values > 0]
    if positive.size == 0:
        return np.ones(values.size)
    floor = float(np.median(positive)) * float(ZERO_RISK_FLOOR)
    return np.where(values > 0, values, floor)


# --- the draw -------------------------------------------------------------------


def _routine_counts(history: pd.DataFrame, period: Period) -> dict[str, int]:
    """uscc -> routine inspections in the period's year before its first day."""
    if history.empty:
        return {}
    routine = history[history["kind"].astype(str) == ROUTINE]
    date = routine["date"].astype(str)
    year_start = f"{period.year}-01-01"
    first = period.first_day.isoformat()
    before = (date >= year_start) & (date < first)
    if "source" in routine:  # an earlier plan's item without a date still counts
        before |= (date == "") & routine["source"].astype(str).str.startswith("plan:")
    counts = routine.loc[before, "uscc"].astype(str).value_counts()
    return dict(zip(counts.index.tolist(), counts.to_numpy().tolist(), strict=True))


def _listed(positive_list: pd.DataFrame, period: Period) -> frozenset[str]:
    if positive_list.empty:
        return frozenset()
    first = period.first_day.isoformat()
    start = positive_list["start"].astype(str)
    end = positive_list["end"].astype(str)
    on = (start <= first) & (first <= end)
    return frozenset(positive_list.loc[on, "uscc"].astype(str).tolist())


def draw_firms(companies: pd.DataFrame, positive_list: pd.DataFrame, history: pd.DataFrame,
               rules: InspectionRules, period: Period, seed: str,
               inspectors_count: int) -> FirmDraw:
    """Draw the firms to inspect in ``period`` (see the module docstring and ALGORITHM.md).

    ``companies``, ``positive_list`` and ``history`` are the frozen canonical
    frames (companies.csv, positive-list.csv, history.csv); ``inspectors_count``
    is the number of active inspectors (per_inspector quotas). The result
    does not depend on the rows' order.
    """
    if not seed or not seed.strip():
        raise SuijiError("The seed is empty.")
    for name in CATEGORIES:
        if rules.risk_weighting and rules.quota[name].min_per_district:
            raise RulesError(f"inspection.quota.{name}: min_per_district cannot be combined "
                             f"with risk_weighting; set one of them to 0 / false.")
    uscc: Objects = companies["uscc"].astype(str).to_numpy(dtype=object)
    uscc_list: list[str] = uscc.tolist()
    if not pd.Index(uscc, dtype=object).is_unique:
        seen = pd.Series(uscc, dtype=object)
        dupes = sorted(seen[seen.duplicated()].unique().tolist())[:5]
        raise SuijiError(f"The company directory lists a USCC twice ({', '.join(dupes)}); "
                         f"fix it and import it again.")
    size = uscc.size
    codes = pd.Index(list(CATEGORIES), dtype=object).get_indexer(
        companies["category"].astype(str).to_numpy(dtype=object))
    if (codes < 0).any():
        bad = sorted(set(companies["category"].astype(str).to_numpy(dtype=object)[codes < 0]))
        raise SuijiError(f"Unknown supervision category {', '.join(bad[:5])}; use key, "
                         f"general or special (重点, 一般, 特殊).")
    status = companies["status"].astype(str).to_numpy(dtype=object)
    off_status = (status != "active") & (status != "")
    # One pass over the directory for both lookups: the firm's routine count
    # this year, plus LISTED if it is on the positive list.
    flags = _routine_counts(history, period)
    for u in _listed(positive_list, period):
        flags[u] = flags.get(u, 0) + _LISTED
    coded = (np.fromiter(map(flags.get, uscc_list, itertools.repeat(0)), dtype=np.int64,
                         count=size) if flags else np.zeros(size, dtype=np.int64))
    listed = coded >= _LISTED
    routine = coded % _LISTED

    # each firm's first reason in ExclusionReason order: the later checks are written first
    reason = np.full(size, -1, dtype=np.int8)
    reason[routine >= rules.annual_cap] = _CODE[ExclusionReason.ANNUAL_CAP]
    reason[listed] = _CODE[ExclusionReason.POSITIVE_LIST]
    reason[off_status] = _CODE[ExclusionReason.STATUS]
    eligible = reason < 0
    excluded = {r.value: int(np.count_nonzero(reason == _CODE[r])) for r in ExclusionReason}
    by_status = pd.Series(status[off_status], dtype=object).value_counts()
    by_status_map = {str(k): int(v) for k, v in sorted(by_status.items())}

    # Hash only what can be drawn: the tickets of the eligible firms.
    pool_pos = np.flatnonzero(eligible)
    pool_risk = (parse_risk(companies["risk"].astype(str).to_numpy(dtype=object)[pool_pos])
                 if rules.risk_weighting else np.empty(0))
    pool_ids: Objects = uscc[pool_pos]
    keys, digests = pool_tickets(list(itertools.compress(uscc_list, eligible)), seed)
    pool_codes = codes[pool_pos]

    strata: list[StratumDraw] = []
    chosen_all: list[npt.NDArray[np.intp]] = []  # positions in the pool
    chosen_prob: list[npt.NDArray[np.float64]] = []
    frame_all: list[npt.NDArray[np.intp]] = []
    frame_prob: list[npt.NDArray[np.float64]] = []
    for c, name in enumerate(CATEGORIES):
        q = rules.quota[name]
        frame = np.flatnonzero(pool_codes == c)
        if q.mode == "annual_all":  # the frame: firms not yet inspected this year
            frame = frame[routine[pool_pos[frame]] == 0]
        n = int(frame.size)
        k = stratum_quota(q, n, inspectors_count, period)
        if rules.risk_weighting:
            method = "pps"
            if k:
                weights = risk_weights(pool_risk[frame])
                res = pps_systematic(pool_ids[frame].tolist(), weights, k, seed,
                                     start_id=f"pps-start:{name}", keys=keys[frame])
                probs = res.probabilities
                chosen = np.flatnonzero(res.selected)
            else:
                probs, chosen = np.zeros(n), np.empty(0, dtype=np.intp)
        elif q.min_per_district and n:
            method = "srs"
            chosen, probs = draw_with_district_minimum(
                keys[frame], pool_ids[frame],
                companies["district"].astype(str).to_numpy(dtype=object)[pool_pos[frame]],
                seed, k, q.min_per_district)
        else:
            method = "srs"
            chosen = smallest_positions(keys[frame], pool_ids[frame], seed, k)
            probs = np.full(n, k / n if n else 0.0)
        strata.append(StratumDraw(name, n, k, int(chosen.size), method, q.min_per_district))
        chosen_all.append(frame[chosen])
        chosen_prob.append(probs[chosen])
        frame_all.append(frame)
        frame_prob.append(probs)

    picked = np.concatenate(chosen_all)
    names = np.asarray(CATEGORIES, dtype=object)
    drawn_digests = np.empty(picked.size, dtype=object)
    drawn_digests[:] = [digest_at(digests, i) for i in picked.tolist()]
    out = np.flatnonzero(~eligible)
    frames = np.concatenate(frame_all)
    return FirmDraw(
        period=str(period), seed=seed, strata=tuple(strata),
        excluded=MappingProxyType(excluded), by_status=MappingProxyType(by_status_map),
        drawn_ids=pool_ids[picked], drawn_strata=names[pool_codes[picked]],
        drawn_probabilities=np.concatenate(chosen_prob).astype(np.float64),
        drawn_digests=drawn_digests,
        excluded_ids=uscc[out], excluded_reasons=np.asarray(REASONS, dtype=object)[reason[out]],
        frame_ids=pool_ids[frames], frame_probabilities=np.concatenate(frame_prob)
        .astype(np.float64))
