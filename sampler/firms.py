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

import functools
import hashlib
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from suiji.data.errors import RulesError, SuijiError
from suiji.data.period import Period
from suiji.data.rules import CATEGORIES, InspectionRules, Quota
from suiji.sampler.pps import pps_systematic
from suiji.sampler.tickets import U64, sha256_hex, ticket_order, ticket_string

_LISTED = 1 << 40  # added to a firm's routine count when it is on the positive list

REASONS = ("status", "positive_list", "annual_cap")
METHODS = ("srs", "pps")
ROUTINE = "random"  # the inspection kind that counts against the annual cap
ZERO_RISK_FLOOR = Fraction(1, 100)  # a risk of 0 weighs 1% of the stratum's median risk

Objects = npt.NDArray[np.object_]


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
        out[:] = [_ticket_from_digest(d) for d in self.drawn_digests.tolist()]
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


def _exact(value: float) -> Fraction:
    """A rules number as the decimal written in the file (0.07 is 7/100, not 0.07000…01)."""
    return Fraction(str(value))


def stratum_quota(quota: Quota, eligible: int, inspectors_count: int, period: Period) -> int:
    """The number of firms to draw from a stratum of ``eligible`` firms.

    ``ratio``: ceil(ratio × eligible). ``per_inspector``: ceil(per_year ×
    inspectors / 4), at most ``eligible``. ``annual_all``: ceil(eligible /
    remaining quarters of the year), the frame being the firms not yet
    inspected this year.
    """
    if quota.mode == "ratio":
        return math.ceil(_exact(quota.ratio) * eligible)
    if quota.mode == "per_inspector":
        return min(eligible, math.ceil(_exact(quota.per_year) * inspectors_count / 4))
    if quota.mode == "annual_all":
        return math.ceil(Fraction(eligible, period.remaining_quarters))
    raise RulesError(f"quota mode {quota.mode!r} is not one of ratio, per_inspector, annual_all")


# --- tickets --------------------------------------------------------------------


def smallest_positions(keys: U64, ids: Objects, seed: str, k: int) -> npt.NDArray[np.intp]:
    """Positions of the k smallest tickets (unordered), ties settled as Rivest's sampler does.

    ``argpartition`` finds the k-th key; firms whose 18-digit key equals it
    are ordered by their full ticket and then id, which is exactly the order of
    ``consistent_sampler`` (its tickets compare as (ticket string, id)).
    """
    n = int(keys.size)
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.empty(0, dtype=np.intp)
    kth = keys[np.argpartition(keys, k - 1)[k - 1]]
    below = np.flatnonzero(keys < kth)
    tied = np.flatnonzero(keys == kth)
    need = k - below.size
    if tied.size > need:  # a key tie across the boundary: about n² / 10^18, but exact anyway
        ranked = sorted(tied.tolist(), key=lambda i: (ticket_string(str(ids[i]), seed),
                                                      str(ids[i])))
        tied = np.asarray(ranked[:need], dtype=np.intp)
    return np.concatenate([below, tied])


# --- min_per_district probabilities --------------------------------------------


def _log_factorials(n: int) -> npt.NDArray[np.float64]:
    out = np.zeros(n + 1)
    if n:
        out[1:] = np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))
    return out


def _binom_pmf(n: int, u: float, upto: int, lf: npt.NDArray[np.float64]
               ) -> npt.NDArray[np.float64]:
    """P(Bin(n, u) = j) for j = 0..upto (zeros beyond n)."""
    out = np.zeros(upto + 1)
    top = min(n, upto)
    j = np.arange(top + 1)
    with np.errstate(divide="ignore"):
        logs = lf[n] - lf[j] - lf[n - j] + j * math.log(u) + (n - j) * math.log1p(-u)
    out[: top + 1] = np.exp(logs)
    return out


def _capped_excess(n: int, m: int, r: int, u: float, lf: npt.NDArray[np.float64]
                   ) -> npt.NDArray[np.float64]:
    """Distribution of min(r, max(0, Bin(n, u) - m)) as a vector of length r + 1."""
    pmf = _binom_pmf(n, u, m + r, lf)
    out = np.zeros(r + 1)
    out[0] = pmf[: m + 1].sum()
    out[1:r] = pmf[m + 1: m + r]
    out[r] = max(0.0, 1.0 - out[:r].sum())
    return out


def _capped_convolve(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], r: int
                     ) -> npt.NDArray[np.float64]:
    """Distribution of min(r, A + B) from those of min(r, A) and min(r, B)."""
    if r < 128:
        full = np.convolve(a, b)
    else:
        size = 1 << (2 * r + 1).bit_length()
        full = np.fft.irfft(np.fft.rfft(a, size) * np.fft.rfft(b, size), size)[: 2 * r + 1]
        np.clip(full, 0.0, None, out=full)
    out = full[: r + 1].copy()
    out[r] = full[r:].sum()
    return out


def _not_selected(sizes: list[int], mins: list[int], r: int, u: float,
                  lf: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per district d: P(a firm of d whose ticket is u is not drawn), see ALGORITHM.md."""
    count = len(sizes)
    excess = [_capped_excess(n, m, r, u, lf) for n, m in zip(sizes, mins, strict=True)]
    unit = np.zeros(r + 1)
    unit[0] = 1.0
    prefix = [unit]
    for e in excess[:-1]:
        prefix.append(_capped_convolve(prefix[-1], e, r))
    suffix = unit
    out = np.zeros(count)
    for d in range(count - 1, -1, -1):
        others = _capped_convolve(prefix[d], suffix, r)
        # tail[j] = P(others >= j), j = 0..r
        tail = np.cumsum(others[::-1])[::-1]
        # Y = (firms of d other than this one below u) - m_d; missed iff Y >= 0 and
        # Y + others >= r.
        below = _binom_pmf(sizes[d] - 1, u, mins[d] + r - 1, lf)
        own = below[mins[d]:]  # P(Y = y), y = 0..r-1
        own_tail = max(0.0, 1.0 - float(below.sum()))  # P(Y >= r)
        out[d] = float(np.dot(own, tail[r - np.arange(r)])) + own_tail
        suffix = _capped_convolve(suffix, excess[d], r)
    return np.clip(out, 0.0, 1.0)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)


def district_probabilities(sizes: list[int], minimum: int, quota: int) -> list[float]:
    """Inclusion probability of a firm of each district under ``min_per_district``."""
    return list(_district_probabilities(tuple(sizes), minimum, quota))


@functools.lru_cache(maxsize=64)
def _district_probabilities(sizes: tuple[int, ...], minimum: int, quota: int
                            ) -> tuple[float, ...]:
    """The inclusion probability of a firm of each district under ``min_per_district``.

    Stage 1 takes the ``m_d = min(minimum, n_d)`` smallest tickets of every
    district; stage 2 the ``r = quota - Σ m_d`` smallest remaining tickets of
    the stratum. A firm of district d with ticket u is missed iff at least
    ``m_d`` other firms of d have smaller tickets and the other firms' stage-2
    candidates below u already fill r. Integrating that probability over u in
    [0, 1] (it rises monotonically from 0 to 1) gives ``1 - p_d``; it is
    integrated with 24-point Gauss-Legendre on 12 panels spanning the
    transition, located by bisection, to about 1e-9.
    """
    mins = [min(minimum, n) for n in sizes]
    r = quota - sum(mins)
    total = sum(sizes)
    if r <= 0:
        return tuple(m / n if n else 0.0 for m, n in zip(mins, sizes, strict=True))
    if r >= total - sum(mins):
        return tuple(1.0 if n else 0.0 for n in sizes)
    lf = _log_factorials(max(sizes))

    def curve(u: float) -> npt.NDArray[np.float64]:
        return _not_selected(list(sizes), mins, r, u, lf)

    eps = 1e-13
    lo, hi = 0.0, 1.0  # lo: below it every district's curve is < eps
    for _ in range(50):
        mid = (lo + hi) / 2
        if curve(mid).max() < eps:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-9:
            break
    a = lo
    lo, hi = a, 1.0  # hi: above it every curve is > 1 - eps
    for _ in range(50):
        mid = (lo + hi) / 2
        if curve(mid).min() > 1 - eps:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-9:
            break
    b = hi
    panels = np.linspace(a, b, 13)
    integral = np.zeros(len(sizes))
    for left, right in zip(panels[:-1], panels[1:], strict=True):
        half = (right - left) / 2
        for node, weight in zip(_GL_NODES, _GL_WEIGHTS, strict=True):
            integral += weight * half * curve(float(left + half + half * node))
    integral += 1.0 - b  # the curve is 1 (to eps) above b and 0 below a
    return tuple(float(min(1.0, max(0.0, 1.0 - x))) for x in integral)


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


def pool_tickets(ids: list[str], seed: str) -> tuple[U64, list[bytes]]:
    """The ids' ticket keys (== :func:`ticket_keys`) and the SHA-256 digests behind them.

    Hashing is the cost of a draw; keeping the digests lets the drawn firms'
    full tickets be written without hashing them again.
    """
    # sha256_hex(seed) is 64 bytes, exactly one SHA-256 block: hash it once and copy
    # the state for each id (the same digests as hashing prefix + id from scratch)
    fresh = hashlib.sha256(sha256_hex(seed).encode("utf-8")).copy
    digests: list[bytes] = []
    keep = digests.append
    for i in ids:
        h = fresh()
        h.update(i.encode("utf-8"))
        keep(h.digest())
    return _reversed_18(_low_18_digits(digests)), digests


_MOD5 = 5**18  # 10^18 = 2^18 * 5^18: the low 18 digits by the Chinese remainder theorem
_LIMB_WEIGHTS = np.array([pow(2, 16 * (15 - k), _MOD5) for k in range(16)], dtype=np.uint64)
_INV5 = pow(_MOD5, -1, 1 << 18)  # 5^18 * _INV5 = 1 (mod 2^18)
_LOW18 = (1 << 18) - 1
_REVERSED_3 = np.array([int(f"{k:03d}"[::-1]) for k in range(1000)], dtype=np.uint64)


def _low_18_digits(digests: list[bytes]) -> U64:
    """``int.from_bytes(d, "big") % 10**18`` of every 32-byte digest, vectorised."""
    limbs = np.frombuffer(b"".join(digests), dtype=">u2").reshape(len(digests), 16)
    with np.errstate(over="ignore"):  # the wrap-around mod 2^64 below is intended
        mod5 = np.zeros(len(digests), dtype=np.uint64)
        for k in range(16):  # each term < 2^16 * 5^18 < 2^58: the sum stays below 2^62
            mod5 += limbs[:, k].astype(np.uint64) * _LIMB_WEIGHTS[k]
        mod5 %= np.uint64(_MOD5)
        mod2 = ((limbs[:, 14].astype(np.uint64) << np.uint64(16)) | limbs[:, 15]) \
            & np.uint64(_LOW18)
        # x = mod5 + 5^18 * t with t = (mod2 - mod5) / 5^18 (mod 2^18)
        t = ((mod2 - mod5) * np.uint64(_INV5)) & np.uint64(_LOW18)
        return mod5 + np.uint64(_MOD5) * t


def _reversed_18(values: U64) -> U64:
    """The 18 decimal digits of each value reversed (== tickets._reverse_digits)."""
    v = values.astype(np.uint64)
    out = np.zeros_like(v)
    thousand = np.uint64(1000)
    for _ in range(6):  # six groups of three digits, each reversed by table
        out = out * thousand + _REVERSED_3[v % thousand]
        v //= thousand
    return out


def _ticket_from_digest(digest: bytes) -> str:
    return "0." + f"{int.from_bytes(digest, 'big'):064d}"[::-1]


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

    reason = np.full(size, -1, dtype=np.int8)
    reason[routine >= rules.annual_cap] = 2
    reason[listed] = 1
    reason[off_status] = 0
    eligible = reason < 0
    excluded = {name: int(np.count_nonzero(reason == i)) for i, name in enumerate(REASONS)}
    by_status = pd.Series(status[off_status], dtype=object).value_counts()
    by_status_map = {str(k): int(v) for k, v in sorted(by_status.items())}

    # Hash only what can be drawn: the tickets of the eligible firms.
    pool_pos = np.flatnonzero(eligible)
    pool_risk = (parse_risk(companies["risk"].astype(str).to_numpy(dtype=object)[pool_pos])
                 if rules.risk_weighting else np.empty(0))
    pool_ids: Objects = uscc[pool_pos]
    keys, digests = pool_tickets(pool_ids.tolist(), seed)
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
            chosen, probs = _with_district_minimum(
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
    drawn_digests[:] = [digests[i] for i in picked.tolist()]
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


def _with_district_minimum(keys: U64, ids: Objects, district: Objects, seed: str, k: int,
                           minimum: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """min_per_district: each district's smallest tickets first, then the smallest of the rest."""
    names, dcode = np.unique(district.astype(str), return_inverse=True)
    order = ticket_order(ids.tolist(), seed, keys)  # Rivest's order, ties settled exactly
    grouped = order[np.argsort(dcode[order], kind="stable")]  # by district, then ticket
    sizes = np.bincount(dcode, minlength=names.size)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(order.size, dtype=np.int64)
    rank[grouped] = np.arange(order.size) - np.repeat(starts, sizes)
    first = rank < minimum
    rest = order[~first[order]]
    fill = max(0, k - int(first.sum()))
    chosen = np.concatenate([np.flatnonzero(first), rest[:fill]])
    per_district = district_probabilities(sizes.tolist(), minimum, k)
    probs = np.asarray(per_district, dtype=np.float64)[dcode]
    return chosen, probs
