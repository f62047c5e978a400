"""The ``min_per_district`` firm draw and its exact inclusion probabilities (ALGORITHM.md).

Stage 1 takes each district's smallest tickets, stage 2 the smallest of the
rest of the stratum; :func:`district_probabilities` states the resulting
inclusion probability of a firm of each district, integrated numerically to
about 1e-9 (:func:`suiji.sampler.firms.draw_firms` records it).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

from suiji.sampler.tickets import U64, Objects, ticket_order


def draw_with_district_minimum(keys: U64, ids: Objects, district: Objects, seed: str, k: int,
                               minimum: int
                               ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
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
