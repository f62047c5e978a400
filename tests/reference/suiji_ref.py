"""A second implementation of every suiji draw, written from ALGORITHM.md alone.

Small and slow on purpose: pure Python, standard library only (hashlib, csv,
json, fractions, tomllib, unicodedata), no code shared with the package. It
reads the frozen files of a snapshot, runs the draw the specification
describes, and returns the output document; :func:`canonical` gives the bytes
that are hashed. ``tests/reference/test_reference.py`` checks it against every
test vector and the demo bundle.

Where this file needed something the specification did not say, the
specification was fixed, not this file.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import io
import json
import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

Row = dict[str, str]
Files = dict[str, bytes]
Output = dict[str, Any]


class Refused(Exception):
    """The specification says the draw is refused (or this implementation cannot decide)."""


# --- Foundations ---------------------------------------------------------------------------


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def ticket(item: str, seed: str) -> str:
    x = int(sha256_hex(sha256_hex(seed) + item), 16)
    return "0." + f"{x:064d}"[::-1]


def key(item: str, seed: str) -> int:
    """The first 18 digits of the ticket as an integer."""
    return int(ticket(item, seed)[2:20])


def _ticket_sort_key(item: str, seed: str) -> tuple[str, str]:
    digits = ticket(item, seed)[2:]
    return digits.ljust(80, "0"), item  # decimal fractions compare as padded digit strings


def ticket_sorted(items: Iterable[str], seed: str) -> list[str]:
    """Increasing ticket order, equal tickets by id."""
    return sorted(items, key=lambda i: _ticket_sort_key(i, seed))


def smallest(items: Iterable[str], seed: str, k: int) -> list[str]:
    return ticket_sorted(items, seed)[:max(k, 0)]


def derived(seed: str, purpose: str) -> str:
    return seed + "|" + purpose


M64 = (1 << 64) - 1


def mix64(a: int, b: int) -> int:
    z = (a ^ (b * 0x9E3779B97F4A7C15)) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def pair_cost(a: int, b: int) -> int:
    return mix64(a, b) >> 28


def psum(values: Sequence[float]) -> float:
    """numpy's pairwise sum, as ALGORITHM.md (Floating-point numbers) states it."""
    n = len(values)
    if n < 8:
        total = 0.0
        for v in values:
            total += v
        return total
    if n <= 128:
        r = list(values[:8])
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += values[i + j]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            total += values[i]
            i += 1
        return total
    h = n // 2
    h -= h % 8
    return psum(values[:h]) + psum(values[h:])


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def decimal_rule(value: float | int) -> Fraction:
    return Fraction(repr(float(value)))


def ceil_frac(x: Fraction) -> int:
    return -((-x.numerator) // x.denominator)


def pps(ids: Sequence[str], weights: Sequence[float], n: int, seed: str, start_id: str
        ) -> tuple[list[int], list[bool], int]:
    """Systematic PPS: (parts per 10^9, selected, start), in input order."""
    size = len(ids)
    scale = 10**9
    positive = sum(1 for w in weights if w > 0)
    if n >= size:
        pi = [1.0] * size
    elif n >= positive:
        pi = [1.0 if w > 0 else 0.0 for w in weights]
    else:
        certain = [False] * size
        while True:
            rest = [i for i in range(size) if not certain[i] and weights[i] > 0]
            m = n - sum(certain)
            total = psum([weights[i] for i in rest])
            pi = [0.0] * size
            for i in range(size):
                if certain[i]:
                    pi[i] = 1.0
            for i in rest:
                pi[i] = (m * weights[i]) / total
            over = [i for i in rest if pi[i] >= 1.0]
            if not over:
                break
            for i in over:
                certain[i] = True
    order = sorted(range(size), key=lambda i: _ticket_sort_key(ids[i], seed))
    rank = {i: r for r, i in enumerate(order)}
    x = [p * scale for p in pi]
    parts = [min(math.floor(v), scale) for v in x]
    short = n * scale - sum(parts)
    if short > 0:
        cand = sorted((i for i in range(size) if parts[i] < scale),
                      key=lambda i: (-(x[i] - parts[i]), rank[i]))
        for i in cand[:short]:
            parts[i] += 1
    u = key(start_id, seed) % scale
    selected = [False] * size
    s_prev = 0
    for i in order:
        s = s_prev + parts[i]
        if (s - u - 1) // scale > (s_prev - u - 1) // scale:
            selected[i] = True
        s_prev = s
    return parts, selected, u


def read_csv(data: bytes) -> list[Row]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def manifest_digest(period: str, scope: str, files: Files) -> tuple[dict[str, Any], str]:
    manifest = {"format": "suiji-snapshot/1", "period": period, "scope": scope,
                "files": {n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d),
                              "rows": max(d.count(b"\n") - 1, 0) if n.endswith(".csv") else 0}
                          for n, d in sorted(files.items())}}
    return manifest, sha256_hex(canonical(manifest))


# --- periods and rules --------------------------------------------------------------------


def period_bounds(period: str) -> tuple[int, int, date, date]:
    year, q = int(period[:4]), int(period[5])
    first = date(year, 3 * q - 2, 1)
    last = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
    return year, q, first, last


class Rules:
    """The rules of a frozen rules.toml with the defaults ALGORITHM.md names."""

    def __init__(self, text: str) -> None:
        doc = tomllib.loads(text)
        ins = doc.get("inspection", {})
        self.annual_cap = int(ins.get("annual_cap", 1))
        self.team_size = int(ins.get("team_size", 2))
        self.avoid_last = bool(ins.get("avoid_last_inspector", False))
        self.cross = bool(ins.get("cross_district", False))
        self.default_capacity = int(ins.get("default_capacity", 30))
        self.default_daily = int(ins.get("default_daily_capacity", 2))
        self.risk_weighting = bool(ins.get("risk_weighting", False))
        self.quota = {c: dict(ins.get("quota", {}).get(c, {"mode": "ratio", "ratio": 0.0}))
                      for c in CATEGORIES}
        rev = doc.get("review", {})
        self.ratio = rev.get("ratio", 0.30)
        self.watch_rate = rev.get("watch_report_rate", 1.0)
        self.high_weight = rev.get("high_risk_weight", 2.0)
        self.high_industries = [str(x) for x in rev.get("high_risk_industries", [])]
        self.alternates = int(rev.get("alternates", 2))
        self.alternate_cap = int(rev.get("alternate_cap", 3))
        self.max_age = int(rev.get("max_age", 65))
        self.recusal_years = int(rev.get("recusal_years", 3))
        self.meeting_cap = int(rev.get("meeting_load_cap", 3))
        self.period_cap = int(rev.get("period_load_cap", 12))
        self.warning_points = rev.get("warning_points", 10)
        self.suspension_points = rev.get("suspension_points", 20)
        self.panel_size = {"report": 3, "form": 2, **rev.get("panel_size", {})}
        self.lead_days = {"report": 2, "form": 1, **rev.get("lead_days", {})}
        self.specialties: dict[str, list[str]] = dict(rev.get("specialties", {}))

    def specialties_for(self, industry: str) -> list[str]:
        return list(self.specialties.get(industry) or self.specialties.get("*") or [industry])


CATEGORIES = ("key", "general", "special")
CITY_LEVEL = ("全市", "all", "全部")


# --- the firm draw --------------------------------------------------------------------------


def _legendre_nodes(n: int) -> list[tuple[float, float]]:
    """Gauss-Legendre nodes and weights on [-1, 1] (Newton's method)."""
    out = []
    for i in range(1, n + 1):
        x = math.cos(math.pi * (i - 0.25) / (n + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = n * (x * p1 - p0) / (x * x - 1)
            dx = p1 / dp
            x -= dx
            if abs(dx) < 1e-16:
                break
        p0, p1 = 1.0, x
        for k in range(2, n + 1):
            p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
        dp = n * (x * p1 - p0) / (x * x - 1)
        out.append((x, 2 / ((1 - x * x) * dp * dp)))
    return sorted(out)


GL24 = _legendre_nodes(24)


def _binom(n: int, t: float, upto: int, logf: list[float]) -> list[float]:
    out = [0.0] * (upto + 1)
    lt, l1 = math.log(t), math.log1p(-t)
    for j in range(min(n, upto) + 1):
        out[j] = math.exp(logf[n] - logf[j] - logf[n - j] + j * lt + (n - j) * l1)
    return out


def _capped_add(a: list[float], b: list[float], r: int) -> list[float]:
    """Distribution of min(r, A + B) from those of min(r, A) and min(r, B)."""
    out = [0.0] * (r + 1)
    for i, x in enumerate(a):
        if x:
            for j, y in enumerate(b):
                out[min(r, i + j)] += x * y
    return out


def _missed(sizes: list[int], mins: list[int], r: int, t: float, logf: list[float]
            ) -> list[float]:
    excess = []
    for n, m in zip(sizes, mins, strict=True):
        pmf = _binom(n, t, m + r, logf)
        e = [0.0] * (r + 1)
        e[0] = sum(pmf[: m + 1])
        for y in range(1, r):
            e[y] = pmf[m + y]
        e[r] = max(0.0, 1.0 - sum(e[:r]))
        excess.append(e)
    out = []
    for d in range(len(sizes)):
        others = [1.0] + [0.0] * r
        for e2, ex in enumerate(excess):
            if e2 != d:
                others = _capped_add(others, ex, r)
        tail = [sum(others[j:]) for j in range(r + 1)]
        below = _binom(sizes[d] - 1, t, mins[d] + r - 1, logf)
        own = below[mins[d]:]
        value = sum(own[y] * tail[r - y] for y in range(r)) + max(0.0, 1.0 - sum(below))
        out.append(min(1.0, max(0.0, value)))
    return out


def district_probabilities(sizes: list[int], minimum: int, k: int) -> list[float]:
    mins = [min(minimum, n) for n in sizes]
    r = k - sum(mins)
    if r <= 0:
        return [m / n for m, n in zip(mins, sizes, strict=True)]
    if r >= sum(sizes) - sum(mins):
        return [1.0] * len(sizes)
    logf = [0.0]
    for i in range(1, max(sizes) + 1):
        logf.append(logf[-1] + math.log(i))

    def f(t: float) -> list[float]:
        return _missed(sizes, mins, r, t, logf)

    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if max(f(mid)) < 1e-13:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-9:
            break
    a = lo
    lo, hi = a, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if min(f(mid)) > 1 - 1e-13:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-9:
            break
    b = hi
    integral = [0.0] * len(sizes)
    for i in range(12):
        left, right = a + i * (b - a) / 12, a + (i + 1) * (b - a) / 12
        half = (right - left) / 2
        for node, weight in GL24:
            for d, v in enumerate(f(left + half + half * node)):
                integral[d] += weight * half * v
    return [min(1.0, max(0.0, 1.0 - (x + 1.0 - b))) for x in integral]


def active_inspector(row: Row) -> bool:
    return row.get("active", "").strip() in ("yes", "")


def draw_firms(files: Files, period: str, seed: str, rules: Rules) -> dict[str, Any]:
    year, q, first, _ = period_bounds(period)
    companies = read_csv(files["companies.csv"])
    history = read_csv(files["history.csv"])
    listed = {r["uscc"] for r in read_csv(files["positive-list.csv"])
              if r["start"] <= first.isoformat() <= r["end"]}
    routine: dict[str, int] = {}
    for h in history:
        if h["kind"] != "random":
            continue
        dated = f"{year}-01-01" <= h["date"] < first.isoformat()
        if dated or (h["date"] == "" and h.get("source", "").startswith("plan:")):
            routine[h["uscc"]] = routine.get(h["uscc"], 0) + 1
    inspectors = sum(1 for r in read_csv(files["inspectors.csv"]) if active_inspector(r))
    exclusions, eligible = [], []
    for c in companies:
        if c["status"] not in ("active", ""):
            reason = "status"
        elif c["uscc"] in listed:
            reason = "positive_list"
        elif routine.get(c["uscc"], 0) >= rules.annual_cap:
            reason = "annual_cap"
        else:
            eligible.append(c)
            continue
        exclusions.append((c, reason))
    strata: list[dict[str, Any]] = []
    drawn: list[tuple[str, str, float]] = []
    for cat in CATEGORIES:
        quota = rules.quota[cat]
        mode = quota.get("mode", "ratio")
        frame = sorted((c for c in eligible if c["category"] == cat), key=lambda c: c["uscc"])
        if mode == "annual_all":
            frame = [c for c in frame if routine.get(c["uscc"], 0) == 0]
        n = len(frame)
        if mode == "ratio":
            k = ceil_frac(decimal_rule(quota.get("ratio", 0.0)) * n)
        elif mode == "per_inspector":
            k = min(n, ceil_frac(decimal_rule(quota.get("per_year", 0.0)) * inspectors / 4))
        else:
            k = ceil_frac(Fraction(n, 5 - q))
        m = int(quota.get("min_per_district", 0))
        ids = [c["uscc"] for c in frame]
        chosen: dict[str, float] = {}
        if rules.risk_weighting:
            method = "pps"
            if k:
                risk = [float(c["risk"]) if c["risk"] != "" else math.nan for c in frame]
                given = [x for x in risk if not math.isnan(x)]
                if given:
                    med = median(given)
                    risk = [med if math.isnan(x) else x for x in risk]
                positive = [x for x in risk if x > 0]
                if positive:
                    floor = median(positive) * 0.01
                    weights = [x if x > 0 else floor for x in risk]
                else:
                    weights = [1.0] * n
                parts, sel, _ = pps(ids, weights, k, seed, f"pps-start:{cat}")
                chosen = {ids[i]: parts[i] / 10**9 for i in range(n) if sel[i]}
        elif m and n:
            method = "srs"
            districts = sorted({c["district"] for c in frame})
            members = {d: [c["uscc"] for c in frame if c["district"] == d] for d in districts}
            sizes = [len(members[d]) for d in districts]
            probs = district_probabilities(sizes, m, k)
            first_stage = {u for d in districts for u in smallest(members[d], seed, m)}
            rest = [u for u in ids if u not in first_stage]
            picked = first_stage | set(smallest(rest, seed, k - len(first_stage)))
            district_of = {c["uscc"]: c["district"] for c in frame}
            chosen = {u: round(probs[districts.index(district_of[u])], 9) for u in picked}
        else:
            method = "srs"
            chosen = {u: k / n for u in smallest(ids, seed, k)}
        strata.append({"category": cat, "eligible": n, "quota": k, "drawn": len(chosen),
                       "method": method, "min_per_district": m})
        drawn.extend((u, cat, p) for u, p in chosen.items())
    counts = {r: sum(1 for _, x in exclusions if x == r)
              for r in ("status", "positive_list", "annual_cap")}
    return {"strata": strata, "excluded": counts, "companies": {c["uscc"]: c for c in companies},
            "exclusions": sorted(({"uscc": c["uscc"], "name": c["name"],
                                   "district": c["district"], "category": c["category"],
                                   "reason": r} for c, r in exclusions),
                                 key=lambda e: e["uscc"]),
            "drawn": drawn}


# --- min-cost flow --------------------------------------------------------------------------


class Network:
    """A flow network: arcs (tail, head, capacity, cost); supplies at nodes."""

    def __init__(self, nodes: int) -> None:
        self.n = nodes
        self.tail: list[int] = []
        self.head: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []
        self.supply = [0] * nodes

    def arc(self, t: int, h: int, cap: int, cost: int) -> int:
        self.tail.append(t)
        self.head.append(h)
        self.cap.append(cap)
        self.cost.append(cost)
        return len(self.tail) - 1


def min_cost_max_flow(net: Network) -> tuple[list[int], list[int], bool]:
    """Route as much supply as possible at least cost (successive shortest paths).

    Returns (flow per arc, unrouted supply per node, unique). Uniqueness is
    decided as ALGORITHM.md states it, on the network extended by a super
    source and a super sink.
    """
    n = net.n
    src, snk = n, n + 1
    arcs_t, arcs_h, arcs_c, arcs_w = list(net.tail), list(net.head), list(net.cap), list(net.cost)
    for v in range(n):
        if net.supply[v] > 0:
            arcs_t.append(src)
            arcs_h.append(v)
            arcs_c.append(net.supply[v])
            arcs_w.append(0)
        elif net.supply[v] < 0:
            arcs_t.append(v)
            arcs_h.append(snk)
            arcs_c.append(-net.supply[v])
            arcs_w.append(0)
    total = n + 2
    m = len(arcs_t)
    # residual arcs 2a (forward) and 2a + 1 (backward): head, residual capacity, cost
    r_head = [0] * (2 * m)
    r_cap = [0] * (2 * m)
    r_cost = [0] * (2 * m)
    out: list[list[int]] = [[] for _ in range(total)]
    for a in range(m):
        r_head[2 * a], r_cap[2 * a], r_cost[2 * a] = arcs_h[a], arcs_c[a], arcs_w[a]
        r_head[2 * a + 1], r_cost[2 * a + 1] = arcs_t[a], -arcs_w[a]
        out[arcs_t[a]].append(2 * a)
        out[arcs_h[a]].append(2 * a + 1)
    pot = [0] * total  # all costs are >= 0 at the start
    inf = math.inf
    while True:
        # Dijkstra on reduced costs, stopped once the sink is settled
        dist: list[float] = [inf] * total
        prev = [-1] * total
        done = [False] * total
        dist[src] = 0
        heap: list[tuple[float, int]] = [(0, src)]
        while heap:
            d, v = heapq.heappop(heap)
            if done[v]:
                continue
            done[v] = True
            if v == snk:
                break
            pv = pot[v]
            for r in out[v]:
                if r_cap[r] <= 0:
                    continue
                w = r_head[r]
                nd = d + r_cost[r] + pv - pot[w]
                if nd < dist[w]:
                    dist[w] = nd
                    prev[w] = r
                    heapq.heappush(heap, (nd, w))
        if not done[snk]:
            break
        top = dist[snk]
        for v in range(total):
            pot[v] += int(min(dist[v], top))  # keeps every reduced cost >= 0
        push, v = inf, snk
        while v != src:
            r = prev[v]
            push = min(push, r_cap[r])
            v = r_head[r ^ 1]
        v = snk
        while v != src:
            r = prev[v]
            r_cap[r] -= int(push)
            r_cap[r ^ 1] += int(push)
            v = r_head[r ^ 1]
    flow = [r_cap[2 * a + 1] for a in range(m)]
    unique = _unique(total, arcs_t, arcs_h, arcs_c, arcs_w, flow)
    routed = [0] * n
    for a in range(len(net.tail), m):
        if arcs_t[a] == src:
            routed[arcs_h[a]] = flow[a]
        else:
            routed[arcs_t[a]] = -flow[a]
    unrouted = [net.supply[v] - routed[v] for v in range(n)]
    return flow[: len(net.tail)], unrouted, unique


def _unique(n: int, t: list[int], h: list[int], cap: list[int], cost: list[int],
            flow: list[int]) -> bool:
    """No cycle of zero-reduced-cost residual arcs other than an arc and its reverse."""
    res = []
    for a in range(len(t)):
        if flow[a] < cap[a]:
            res.append((t[a], h[a], cost[a]))
        if flow[a] > 0:
            res.append((h[a], t[a], -cost[a]))
    pi = [0] * n  # Bellman-Ford from a virtual root joined to every node at cost 0
    for _ in range(n + 1):
        changed = False
        for u, v, c in res:
            if pi[u] + c < pi[v]:
                pi[v] = pi[u] + c
                changed = True
        if not changed:
            break
    else:
        raise Refused("the flow is not optimal (negative cycle)")
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a in range(len(t)):
        if 0 < flow[a] < cap[a]:
            x, y = find(t[a]), find(h[a])
            if x == y:
                return False  # a cycle of two-way arcs
            parent[max(x, y)] = min(x, y)
    graph: dict[int, list[int]] = {}
    indeg: dict[int, int] = {}
    count = 0
    for a in range(len(t)):
        both = 0 < flow[a] < cap[a]
        if both:
            continue
        rc = cost[a] + pi[t[a]] - pi[h[a]]
        if rc != 0:
            continue
        if flow[a] < cap[a]:
            u, v = find(t[a]), find(h[a])
        elif flow[a] > 0:
            u, v = find(h[a]), find(t[a])
        else:
            continue
        if u == v:
            return False
        graph.setdefault(u, []).append(v)
        indeg[v] = indeg.get(v, 0) + 1
        indeg.setdefault(u, indeg.get(u, 0))
        count += 1
    queue = [v for v, d in indeg.items() if d == 0]
    removed = 0
    while queue:
        u = queue.pop()
        for v in graph.get(u, []):
            removed += 1
            indeg[v] -= 1
            if indeg[v] == 0:
                queue.append(v)
    return removed == count


# --- teams and dates ------------------------------------------------------------------------


class Teams:
    """The inputs of "Teams and dates" for a set of firms."""

    def __init__(self, files: Files, rules: Rules, firms: list[Row], days: list[str],
                 period_first: str) -> None:
        self.rules = rules
        self.days = days
        self.firms = sorted(firms, key=lambda f: f["uscc"])
        insp = [r for r in read_csv(files["inspectors.csv"]) if active_inspector(r)]
        self.insp = sorted(({k: v.strip() for k, v in r.items()} for r in insp),
                           key=lambda r: r["badge"])
        self.cap = [int(r["capacity"]) if r["capacity"] else rules.default_capacity
                    for r in self.insp]
        self.daily = [int(r["daily_capacity"]) if r["daily_capacity"] else rules.default_daily
                      for r in self.insp]
        leave = read_csv(files["inspector-leave.csv"])
        self.avail = [[not any(lv["badge"].strip() == r["badge"]
                               and lv["start"].strip() <= d <= lv["end"].strip()
                               for lv in leave) for d in days] for r in self.insp]
        conflicts = [c for c in read_csv(files["conflicts.csv"])
                     if c["until"].strip() == "" or c["until"].strip() >= period_first]
        barred = {(c["person"].strip(), c["counterpart"].strip()) for c in conflicts}
        avoid: dict[str, set[str]] = {}
        if rules.avoid_last and "previous-teams.csv" in files:
            prev = read_csv(files["previous-teams.csv"])
            hist = read_csv(files["history.csv"])
            for f in self.firms:
                rows = [p for p in prev if p["uscc"].strip() == f["uscc"]]
                if not rows:
                    continue
                last = max(p["date"].strip() for p in rows)
                later = last != "" and any(
                    h["uscc"].strip() == f["uscc"] and h["date"].strip() != ""
                    and last < h["date"].strip() < period_first for h in hist)
                if not later:
                    avoid[f["uscc"]] = {p["badge"].strip() for p in rows
                                        if p["date"].strip() == last}
        self.pairs: list[list[int]] = []
        for f in self.firms:
            js = []
            for j, r in enumerate(self.insp):
                if r["city"] != f["city"].strip():
                    continue
                if r["district"] in CITY_LEVEL:
                    pass
                elif (r["district"] == f["district"].strip()) == rules.cross:
                    continue  # cross_district: other districts only; else its own only
                if (r["badge"], f["uscc"]) in barred or (
                        f["name"].strip() and (r["badge"], f["name"].strip()) in barred):
                    continue
                if r["badge"] in avoid.get(f["uscc"], set()):
                    continue
                js.append(j)
            self.pairs.append(js)

    def costs(self, seed: str) -> list[dict[int, int]]:
        kj = [key(r["badge"], derived(seed, "teams:inspectors")) for r in self.insp]
        return [{j: pair_cost(key(f["uscc"], derived(seed, "teams:firms")), kj[j]) for j in js}
                for f, js in zip(self.firms, self.pairs, strict=True)]


def spread_dates(t: Teams, seed: str) -> list[int]:
    n_f = len(t.firms)
    order = ticket_sorted([f["uscc"] for f in t.firms], derived(seed, "teams:dates"))
    rank = {u: r for r, u in enumerate(order)}
    groups: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(t.firms):
        groups.setdefault((f["city"].strip(), f["district"].strip()), []).append(i)
    dates = [0] * n_f
    scale = 1 << 20
    for (city, district), members in groups.items():
        rep = max(members, key=lambda i: t.firms[i]["uscc"])
        w = [sum(t.daily[j] for j in t.pairs[rep] if t.avail[j][d]) for d in range(len(t.days))]
        if sum(w) == 0:
            w = [1] * len(t.days)
        cum, acc = [], 0
        for x in w:
            acc += x
            cum.append(acc)
        total = acc
        u = key(city + "|" + district, derived(seed, "teams:date-offset")) * scale // 10**18
        members = sorted(members, key=lambda i: rank[t.firms[i]["uscc"]])
        n = len(members)
        for r, i in enumerate(members):
            dates[i] = next(d for d in range(len(t.days))
                            if n * scale * cum[d] > (r * scale + u) * total)
    return dates


def components(t: Teams) -> list[list[int]]:
    n_f = len(t.firms)
    parent = list(range(n_f + len(t.insp)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for f, js in enumerate(t.pairs):
        for j in js:
            a, b = find(f), find(n_f + j)
            parent[max(a, b)] = min(a, b)
    comps: dict[int, list[int]] = {}
    for f in range(n_f):
        comps.setdefault(find(f), []).append(f)
    return list(comps.values())


def solve_component(t: Teams, firms: list[int], dates: list[int], cost: list[dict[int, int]]
                    ) -> tuple[dict[int, list[int]], dict[int, int], int, int, bool]:
    """Step 4: (team per firm, shortfall per firm, arcs, objective, unique)."""
    ts = t.rules.team_size
    arcs = [(f, j) for f in firms for j in t.pairs[f] if t.avail[j][dates[f]]]
    cells: dict[tuple[int, int], int] = {}
    for f, j in arcs:
        cells[(j, dates[f])] = cells.get((j, dates[f]), 0) + 1
    middle = sorted(c for c, k in cells.items() if k > t.daily[c[0]])
    js = sorted({j for _, j in arcs})
    node_f = {f: i for i, f in enumerate(firms)}
    node_m = {c: len(firms) + i for i, c in enumerate(middle)}
    node_j = {j: len(firms) + len(middle) + i for i, j in enumerate(js)}
    sink = len(firms) + len(middle) + len(js)
    net = Network(sink + 1)
    for f in firms:
        net.supply[node_f[f]] = ts
    net.supply[sink] = -ts * len(firms)
    firm_arcs = []
    for f, j in arcs:
        c = (j, dates[f])
        head = node_m[c] if c in node_m else node_j[j]
        firm_arcs.append((f, j, net.arc(node_f[f], head, 1, cost[f][j])))
    for c in middle:
        net.arc(node_m[c], node_j[c[0]], t.daily[c[0]], 0)
    for j in js:
        net.arc(node_j[j], sink, t.cap[j], 0)
    flow, unrouted, unique = min_cost_max_flow(net)
    teams: dict[int, list[int]] = {f: [] for f in firms}
    objective = 0
    for f, j, a in firm_arcs:
        if flow[a]:
            teams[f].append(j)
            objective += cost[f][j]
    short = {f: unrouted[node_f[f]] for f in firms}
    return teams, short, len(net.tail), objective, unique


def redate(t: Teams, firms: list[int], dates: list[int], cost: list[dict[int, int]],
           teams: dict[int, list[int]], short: dict[int, int], seed: str) -> list[int]:
    """One repair round (step 5); returns the stuck firms."""
    ts = t.rules.team_size
    rseed = derived(seed, "teams:redate")
    day_load: dict[tuple[int, int], int] = {}
    period_load: dict[int, int] = {}
    for f in firms:
        if short[f]:
            continue
        for j in teams[f]:
            day_load[(j, dates[f])] = day_load.get((j, dates[f]), 0) + 1
            period_load[j] = period_load.get(j, 0) + 1
    stuck = []
    for u in ticket_sorted([t.firms[f]["uscc"] for f in firms if short[f]], rseed):
        f = next(x for x in firms if t.firms[x]["uscc"] == u)

        def free(j: int, d: int) -> bool:
            return (t.avail[j][d] and day_load.get((j, d), 0) < t.daily[j]
                    and period_load.get(j, 0) < t.cap[j])

        days = [d for d in range(len(t.days)) if sum(free(j, d) for j in t.pairs[f]) >= ts]
        if not days:
            stuck.append(f)
            continue
        day = min(days, key=lambda d: (key(u + "|" + t.days[d], rseed), d))
        team = sorted((j for j in t.pairs[f] if free(j, day)),
                      key=lambda j: (cost[f][j], j))[:ts]
        for j in team:
            day_load[(j, day)] = day_load.get((j, day), 0) + 1
            period_load[j] = period_load.get(j, 0) + 1
        dates[f] = day
    return stuck


def routes_all(t: Teams, placed: Sequence[tuple[int, int]], relaxed: bool = False) -> bool:
    """Does a maximum flow route team_size for every (firm, day) placed? (augmenting paths)

    ``relaxed``: the capacity check without days (inspector capacity
    min(capacity, daily_capacity x available days)).
    """
    ts = t.rules.team_size
    graph: dict[Any, dict[Any, int]] = {}

    def arc(a: Any, b: Any, c: int) -> None:
        graph.setdefault(a, {})
        graph.setdefault(b, {})
        graph[a][b] = graph[a].get(b, 0) + c
        graph[b].setdefault(a, 0)

    for k, (f, d) in enumerate(placed):
        arc("s", ("f", k), ts)
        for j in t.pairs[f]:
            if relaxed:
                arc(("f", k), ("j", j), 1)
            elif t.avail[j][d]:
                arc(("f", k), ("c", j, d), 1)
                arc(("c", j, d), ("j", j), 0)
    for node in list(graph):
        if node[0] == "c":
            graph[node][("j", node[1])] = t.daily[node[1]]
        if node[0] == "j":
            j = node[1]
            limit = min(t.cap[j], t.daily[j] * sum(t.avail[j])) if relaxed else t.cap[j]
            arc(node, "t", 0)
            graph[node]["t"] = limit
    need = ts * len(placed)
    routed = 0
    while routed < need:
        prev: dict[Any, Any] = {"s": None}
        queue = ["s"]
        for v in queue:
            for w, c in graph.get(v, {}).items():
                if c > 0 and w not in prev:
                    prev[w] = v
                    queue.append(w)
        if "t" not in prev:
            return False
        w = "t"
        while prev[w] is not None:
            v = prev[w]
            graph[v][w] -= 1
            graph[w][v] += 1
            w = v
        routed += 1
    return True


def date_search(t: Teams, firms: list[int], dates: list[int], short: set[int], seed: str,
                max_tries: int = 20_000) -> str:
    """Step 6: the exact date search of a component; sets ``dates`` when it finds days."""
    rseed = derived(seed, "teams:redate")
    by_ticket = ticket_sorted([t.firms[f]["uscc"] for f in firms], rseed)
    index = {t.firms[f]["uscc"]: f for f in firms}
    order = [index[u] for u in by_ticket if index[u] in short]
    order += [index[u] for u in by_ticket if index[u] not in short]
    days: list[list[int]] = []
    for f in order:
        u = t.firms[f]["uscc"]
        others = sorted((d for d in range(len(t.days)) if d != dates[f]),
                        key=lambda d: (key(u + "|" + t.days[d], rseed), d))
        days.append([dates[f], *others])
    placed: list[tuple[int, int]] = []
    tried = [0] * len(order)
    tries = 0
    i = 0
    while i < len(order):
        while tried[i] < len(days[i]):
            d = days[i][tried[i]]
            tried[i] += 1
            tries += 1
            if tries > max_tries:
                return "gave_up"
            if routes_all(t, [*placed, (order[i], d)]):
                placed.append((order[i], d))
                break
        else:
            if i == 0:
                return "no_plan"
            i -= 1
            placed.pop()
            continue
        i += 1
        if i < len(order):
            tried[i] = 0
    for f, d in placed:
        dates[f] = d
    return "found"


def schedule(t: Teams, seed: str, search: bool = True
             ) -> tuple[list[int], list[list[int]], dict[str, Any]]:
    ts = t.rules.team_size
    for f, js in enumerate(t.pairs):
        if len(js) < ts or not any(sum(t.avail[j][d] for j in js) >= ts
                                   for d in range(len(t.days))):
            raise Refused(f"firm {t.firms[f]['uscc']} cannot get a team")
    cost = t.costs(seed)
    dates = spread_dates(t, seed)
    comps = components(t)
    team_of: list[list[int]] = [[] for _ in t.firms]
    arcs = objective = 0
    unique = True
    searched = False
    for firms in comps:
        for rounds in range(1, 6):
            teams, short, n_arcs, obj, uniq = solve_component(t, firms, dates, cost)
            if not any(short.values()):
                break
            if rounds == 5 or redate(t, firms, dates, cost, teams, short, seed):
                if not search:
                    raise Refused("the greedy repair fails: this id used CP-SAT dates here")
                if not routes_all(t, [(f, 0) for f in firms], relaxed=True):
                    raise Refused("not enough inspector capacity (the capacity check)")
                status = date_search(t, firms, dates, {f for f in firms if short[f]}, seed)
                if status != "found":
                    raise Refused(f"the date search ends without days: {status}")
                searched = True
                teams, short, n_arcs, obj, uniq = solve_component(t, firms, dates, cost)
                if any(short.values()):
                    raise Refused("step 4 disagrees with the date search")
                break
        arcs += n_arcs
        objective += obj
        unique = unique and uniq
        for f in firms:
            team_of[f] = teams[f]
    stats = {"status": "optimal", "method": "min-cost-flow" + ("+date-search" if searched else ""),
             "unique": unique, "objective": objective, "arcs": arcs, "components": len(comps)}
    return dates, team_of, stats


def _plan(files: Files, period: str, seed: str, days: list[str], period_start: str,
          search: bool) -> Output:
    rules = Rules(files["rules.toml"].decode("utf-8"))
    firms = draw_firms(files, period, seed, rules)
    info = firms["companies"]
    drawn = [info[u] for u, _, _ in firms["drawn"]]
    t = Teams(files, rules, drawn, days, period_start)
    dates, teams, stats = schedule(t, seed, search)
    by_uscc = {f["uscc"]: i for i, f in enumerate(t.firms)}
    items = []
    for u, cat, p in firms["drawn"]:
        c, i = info[u], by_uscc[u]
        items.append({"uscc": u, "name": c["name"], "district": c["district"],
                      "city": c["city"], "category": c["category"], "industry": c["industry"],
                      "probability": float(p), "ticket": ticket(u, seed),
                      "date": days[dates[i]],
                      "inspectors": sorted(t.insp[j]["badge"] for j in teams[i]),
                      "stratum": cat})
    items.sort(key=lambda x: (x["date"], x["district"], x["uscc"]))
    return {"period": period, "seed": seed,
            "snapshot": manifest_digest(period, "inspections", files)[1],
            "strata": firms["strata"], "excluded": firms["excluded"],
            "exclusions": firms["exclusions"], "items": items, "solver": stats}


def compute_plan(files: Files, period: str, seed: str, params: dict[str, Any]) -> Output:
    """suiji-inspections/1: every working day of the period (no date search: a /1 plan
    whose repair failed had CP-SAT dates, which no independent implementation reproduces)."""
    if params:
        raise Refused("the plan takes no parameters")
    days = [r["date"] for r in read_csv(files["calendar.csv"])]
    out = _plan(files, period, seed, days, period_bounds(period)[2].isoformat(), False)
    return {"algorithm": "suiji-inspections/1", **out}


def compute_plan_window(files: Files, period: str, seed: str, params: dict[str, Any]
                        ) -> Output:
    """suiji-inspections/2, or /3 when the date search ran: the working days from start on."""
    if set(params) != {"drawn_on", "start"}:
        raise Refused("the plan takes drawn_on and start")
    drawn_on, start = date.fromisoformat(params["drawn_on"]), date.fromisoformat(params["start"])
    if start <= drawn_on:
        raise Refused("start must be after the day of the draw")
    days = [r["date"] for r in read_csv(files["calendar.csv"]) if r["date"] >= start.isoformat()]
    if not days:
        raise Refused("no working day left")
    out = _plan(files, period, seed, days, start.isoformat(), True)
    searched = out["solver"]["method"].endswith("+date-search")
    return {"algorithm": "suiji-inspections/3" if searched else "suiji-inspections/2", **out,
            "start": start.isoformat(), "drawn_on": drawn_on.isoformat()}


def compute_substitution(files: Files, period: str, seed: str, previous: Output,
                         params: dict[str, Any]) -> Output:
    """suiji-substitution/1: the replacements' seed names the --from date."""
    return _substitution(files, period, seed, previous, params, with_from=True)


def compute_substitution_v2(files: Files, period: str, seed: str, previous: Output,
                            params: dict[str, Any]) -> Output:
    """suiji-substitution/2: the replacements' seed is the badge alone."""
    if params.get("algorithm") != "suiji-substitution/2":
        raise Refused(f"not a suiji-substitution/2 event: {params}")
    return _substitution(files, period, seed, previous, params, with_from=False)


def _substitution(files: Files, period: str, seed: str, previous: Output,
                  params: dict[str, Any], *, with_from: bool) -> Output:
    badge, start = str(params["badge"]), str(params["from"])
    items = previous["items"]
    rules = Rules(files["rules.toml"].decode("utf-8"))
    days = sorted({i["date"] for i in items})
    firms = [{"uscc": i["uscc"], "name": i["name"], "district": i["district"],
              "city": i["city"]} for i in items]
    t = Teams(files, rules, firms, days, period_bounds(period)[2].isoformat())
    item_of = {i["uscc"]: i for i in items}
    badge_pos = {r["badge"]: j for j, r in enumerate(t.insp)}
    pending = [f for f, x in enumerate(t.firms)
               if badge in item_of[x["uscc"]]["inspectors"]
               and item_of[x["uscc"]]["date"] >= start]
    if not pending:
        raise Refused(f"{badge} has no pending inspection")
    pend = set(pending)
    day_load: dict[tuple[int, int], int] = {}
    period_load: dict[int, int] = {}
    for f, x in enumerate(t.firms):
        it = item_of[x["uscc"]]
        for b in it["inspectors"]:
            if (f in pend and b == badge) or b not in badge_pos:
                continue
            j, d = badge_pos[b], days.index(it["date"])
            day_load[(j, d)] = day_load.get((j, d), 0) + 1
            period_load[j] = period_load.get(j, 0) + 1
    sseed = derived(seed, f"substitute:{badge}:{start}" if with_from else f"substitute:{badge}")
    arcs = []
    for f in pending:
        it = item_of[t.firms[f]["uscc"]]
        d = days.index(it["date"])
        for j in t.pairs[f]:
            b = t.insp[j]["badge"]
            if b == badge or b in it["inspectors"] or not t.avail[j][d]:
                continue
            arcs.append((f, j, d, pair_cost(key(t.firms[f]["uscc"], sseed), key(b, sseed))))
    cells = sorted({(j, d) for _, j, d, _ in arcs})
    js = sorted({j for _, j, _, _ in arcs})
    node_f = {f: i for i, f in enumerate(pending)}
    node_c = {c: len(pending) + i for i, c in enumerate(cells)}
    node_j = {j: len(pending) + len(cells) + i for i, j in enumerate(js)}
    sink = len(pending) + len(cells) + len(js)
    net = Network(sink + 1)
    for f in pending:
        net.supply[node_f[f]] = 1
    net.supply[sink] = -len(pending)
    ids = [(f, j, net.arc(node_f[f], node_c[(j, d)], 1, c)) for f, j, d, c in arcs]
    for j, d in cells:
        net.arc(node_c[(j, d)], node_j[j], max(0, t.daily[j] - day_load.get((j, d), 0)), 0)
    for j in js:
        net.arc(node_j[j], sink, max(0, t.cap[j] - period_load.get(j, 0)), 0)
    flow, unrouted, _ = min_cost_max_flow(net)
    if any(unrouted[node_f[f]] for f in pending):
        raise Refused("no replacement for some inspection")
    new = {f: t.insp[j]["badge"] for f, j, a in ids if flow[a]}
    pending_of = {t.firms[f]["uscc"]: f for f in pending}
    out = dict(previous)
    out["items"] = []
    for i in items:
        hit = pending_of.get(i["uscc"])
        team = i["inspectors"] if hit is None else sorted(
            [b for b in i["inspectors"] if b != badge] + [new[hit]])
        out["items"].append(dict(i, inspectors=team))
    return out


# --- the review sample ----------------------------------------------------------------------


def high_risk(industry: str, rules: Rules) -> bool:
    industry = industry.strip()
    return bool(industry) and any(h and (h == industry or h in industry)
                                  for h in rules.high_industries)


def number(x: Fraction) -> int | float:
    return x.numerator if x.denominator == 1 else float(x)


def compute_sample(files: Files, period: str, seed: str, params: dict[str, Any]) -> Output:
    if set(params) - {"drawn_on", "before_close"}:
        raise Refused("the review sample takes no parameters but drawn_on, before_close")
    rules = Rules(files["rules.toml"].decode("utf-8"))
    _, _, first, last = period_bounds(period)
    agencies = {a["uscc"]: a for a in read_csv(files["agencies.csv"])}
    docs = sorted((p for p in read_csv(files["projects.csv"])
                   if first.isoformat() <= p["approved_on"] <= last.isoformat()),
                  key=lambda p: p["project_id"])
    if not docs:
        raise Refused("no approved document")
    rate = decimal_rule(rules.watch_rate)
    high = decimal_rule(rules.high_weight)
    weight = {d["project_id"]: high if high_risk(d["industry"], rules) else Fraction(1)
              for d in docs}
    watched: set[str] | None = None  # the derived watch list replaces the hand-set flag
    if "watch-list.csv" in files:
        watched = {r["agency_uscc"] for r in read_csv(files["watch-list.csv"])}
    parts: dict[tuple[str, str], list[str]] = {}
    for d in docs:
        a = agencies.get(d["agency_uscc"])
        watch = (a is not None and a["watch"] == "yes") if watched is None \
            else d["agency_uscc"] in watched
        part = "watch" if watch and d["doc_type"] == "report" and rate > 0 else "rest"
        parts.setdefault((d["agency_uscc"], part), []).append(d["project_id"])
    keys = sorted(parts, key=lambda k: (k[0], k[1] != "watch"))
    floors = [ceil_frac(rate * len(parts[k])) if k[1] == "watch"
              else (0 if (k[0], "watch") in parts else 1) for k in keys]
    required = ceil_frac(decimal_rule(rules.ratio) * len(docs))
    n = max(required, sum(floors))
    seats = list(floors)
    totals = [sum((weight[p] for p in parts[k]), Fraction(0)) for k in keys]
    for _ in range(n - sum(seats)):
        best = max((i for i in range(len(keys)) if seats[i] < len(parts[keys[i]])),
                   key=lambda i: (totals[i] / (seats[i] + Fraction(1, 2)), -i))
        seats[best] += 1
    prob: dict[str, float] = {}
    chosen: dict[str, str] = {}
    stratum_of: dict[str, str] = {}
    strata = []
    for k, floor, seat, total in zip(keys, floors, seats, totals, strict=True):
        name = f"{k[0]}|{k[1]}"
        ids = parts[k]
        row: dict[str, Any] = {"stratum": name, "agency_uscc": k[0], "part": k[1],
                               "documents": len(ids), "weight": number(total), "floor": floor,
                               "allocated": seat}
        for p in ids:
            stratum_of[p] = name
        if k[1] == "watch" or len({weight[p] for p in ids}) == 1:
            row["method"] = "srs"
            for p in smallest(ids, seed, seat):
                chosen[p] = k[1]
            for p in ids:
                prob[p] = seat / len(ids)
        else:
            start_id = f"pps-start|{name}"
            pparts, sel, u = pps(ids, [float(weight[p]) for p in ids], seat, seed, start_id)
            row.update(method="pps", start_id=start_id, start=u)
            for p, x, s in zip(ids, pparts, sel, strict=True):
                prob[p] = x / 10**9
                if s:
                    chosen[p] = k[1]
        strata.append(row)
    items = []
    for d in docs:
        p = d["project_id"]
        if p not in chosen:
            continue
        a = agencies.get(d["agency_uscc"])
        reason = "watch_list" if chosen[p] == "watch" else (
            "certainty" if prob[p] >= 1.0 else "sampled")
        items.append({"project_id": p, "name": d["name"], "agency_uscc": d["agency_uscc"],
                      "agency_name": a["name"] if a else "", "doc_type": d["doc_type"],
                      "industry": d["industry"], "developer": d["developer"],
                      "district": d["district"], "approved_on": d["approved_on"],
                      "probability": prob[p], "ticket": ticket(p, seed), "reason": reason,
                      "high_risk": weight[p] != 1, "stratum": stratum_of[p]})
    ordered = [prob[p] for k in keys for p in parts[k]]
    unknown = sorted({d["agency_uscc"] for d in docs if d["agency_uscc"] not in agencies})
    out: Output = {
        "algorithm": "suiji-reviews/1", "period": period, "seed": seed,
        "snapshot": manifest_digest(period, "reviews", files)[1],
        "summary": {"approved": len(docs), "ratio": repr(float(rules.ratio)),
                    "required": required, "sampled": len(items),
                    "agencies": len({d["agency_uscc"] for d in docs}),
                    "watch_report_rate": repr(float(rules.watch_rate)),
                    "high_risk_weight": repr(float(rules.high_weight)),
                    "expected": round(psum(ordered), 9)},
        "strata": strata,
        "documents": [{"project_id": d["project_id"], "stratum": stratum_of[d["project_id"]],
                       "weight": number(weight[d["project_id"]]),
                       "probability": prob[d["project_id"]],
                       "ticket": ticket(d["project_id"], seed),
                       "selected": d["project_id"] in chosen} for d in docs],
        "items": items,
        "notes": [f"agency {u} is not in agencies.csv: treated as not on the watch list"
                  for u in unknown],
    }
    if "watch-list.csv" in files:
        out["watch_list"] = [{"agency_uscc": r["agency_uscc"], "reasons": r["reasons"].split(";"),
                              "state": r["state"], "points": r["points"]}
                             for r in read_csv(files["watch-list.csv"])]
    return out


# --- expert panels --------------------------------------------------------------------------


SPLIT = re.compile(r"[、;,；，|/\s]+")


def norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


class Panel:
    """Steps 2-4 of the panel draw: who may sit on which document, at what cost."""

    def __init__(self, files: Files, seed: str, rules: Rules, meeting: date,
                 documents: list[str], declined: set[str], prior_load: dict[str, int],
                 prior_reviews: set[tuple[str, str]], meeting_load: dict[str, int],
                 industry_names: bool = False) -> None:
        self.rules = rules
        projects = {p["project_id"]: p for p in read_csv(files["projects.csv"])}
        agencies = {a["uscc"]: a for a in read_csv(files["agencies.csv"])}
        missing = [d for d in documents if d not in projects]
        if missing:
            raise Refused(f"documents not in the frozen projects: {missing}")
        self.docs = [projects[d] for d in sorted(set(documents))]
        self.agency_name = [agencies[d["agency_uscc"]]["name"]
                            if d["agency_uscc"] in agencies else "" for d in self.docs]
        self.experts = sorted(read_csv(files["experts.csv"]), key=lambda e: e["expert_id"])
        year = meeting.year
        points: dict[tuple[str, int], float] = {}
        for r in read_csv(files["expert-points.csv"]):
            pk = (r["expert_id"], int(r["year"]))
            points[pk] = points.get(pk, 0.0) + float(r["points"])
        self.status = []
        for e in self.experts:
            eid = e["expert_id"]
            try:
                birth: int | None = int(e["birth_year"])
            except ValueError:
                birth = None
            if e["active"] != "yes":
                s = "inactive"
            elif birth is not None and year - birth > rules.max_age:
                s = "over_age"
            elif (points.get((eid, year), 0.0) >= rules.suspension_points
                  or points.get((eid, year - 1), 0.0) >= rules.suspension_points):
                s = "suspended"
            elif eid in declined:
                s = "declined"
            else:
                s = "ok"
            self.status.append(s)
        ids = [e["expert_id"] for e in self.experts]
        self.ids = ids
        self.prior_load = [prior_load.get(e, 0) for e in ids]
        self.meeting_load = [meeting_load.get(e, 0) for e in ids]
        self.capacity = [max(0, min(rules.meeting_cap - m, rules.period_cap - p))
                         for m, p in zip(self.meeting_load, self.prior_load, strict=True)]
        self.specs = [rules.specialties_for(d["industry"]) for d in self.docs]
        if industry_names:  # suiji-panels/2: the industry's own name qualifies too
            for spec, d in zip(self.specs, self.docs, strict=True):
                if d["industry"] and d["industry"] not in spec:
                    spec.append(d["industry"])
        exp_specs = [{s for s in SPLIT.split(e["specialties"].strip()) if s}
                     for e in self.experts]
        cutoff = years_before(meeting, rules.recusal_years).isoformat()
        employers: dict[str, set[str]] = {e: set() for e in ids}
        for e in self.experts:
            employers[e["expert_id"]].add(norm(e["employer"]))
        for h in read_csv(files["employment-history.csv"]):
            if h["expert_id"] in employers and (h["end"] == "" or h["end"] >= cutoff):
                employers[h["expert_id"]].add(norm(h["employer"]))
        for held in employers.values():
            held.discard("")
        declared: dict[str, set[str]] = {e: set() for e in ids}
        for c in read_csv(files["conflicts.csv"]):
            if c["person"] in declared and (c["until"] == "" or c["until"] >= meeting.isoformat()):
                declared[c["person"]].add(norm(c["counterpart"]))
        reviewed = {(r["expert_id"], r["project_id"])
                    for r in read_csv(files["review-history.csv"])} | prior_reviews
        self.match, self.eligible = [], []
        self.recusal: list[dict[str, list[bool]]] = []
        for i, d in enumerate(self.docs):
            orgs = {norm(v) for v in (d["agency_uscc"], self.agency_name[i], d["developer"])
                    if v.strip()}
            keys = orgs | {norm(d["project_id"])}
            m_row, e_row = [], []
            rec: dict[str, list[bool]] = {"employer": [], "conflict": [], "reviewed": []}
            for k, ex in enumerate(self.experts):
                m = bool(set(self.specs[i]) & exp_specs[k])
                emp = bool(employers[ex["expert_id"]] & orgs)
                con = bool(declared[ex["expert_id"]] & keys)
                rev = (ex["expert_id"], d["project_id"]) in reviewed
                rec["employer"].append(emp)
                rec["conflict"].append(con)
                rec["reviewed"].append(rev)
                m_row.append(m)
                e_row.append(m and self.status[k] == "ok" and not (emp or con or rev))
            self.match.append(m_row)
            self.eligible.append(e_row)
            self.recusal.append(rec)
        kd = [key(d["project_id"], derived(seed, "documents")) for d in self.docs]
        ke = [key(e, derived(seed, "experts")) for e in ids]
        self.cost = [[pair_cost(a, b) for b in ke] for a in kd]

    def ranking(self, d: int) -> list[int]:
        return sorted((e for e in range(len(self.ids)) if self.eligible[d][e]),
                      key=lambda e: (self.cost[d][e], e))

    def fits(self, e: int, load: list[int]) -> bool:
        return (self.meeting_load[e] + load[e] + 1 <= self.rules.meeting_cap
                and self.prior_load[e] + load[e] + 1 <= self.rules.period_cap)

    def alternates(self, d: int, members: set[int], load: list[int], k: int,
                   exclude: Iterable[int] = (), alt_load: list[int] | None = None
                   ) -> list[int]:
        """Step 6; with ``alt_load`` (suiji-panels/2) an expert already the alternate of
        alternate_cap documents is passed over, and the chosen ones are counted."""
        skip = set(exclude)
        out: list[int] = []
        for e in self.ranking(d):
            if len(out) >= k:
                break
            if e in members or e in skip or not self.fits(e, load):
                continue
            if alt_load is not None and alt_load[e] >= self.rules.alternate_cap:
                continue
            out.append(e)
            if alt_load is not None:
                alt_load[e] += 1
        return out


def compute_panels(files: Files, period: str, seed: str, params: dict[str, Any]) -> Output:
    return _panels(files, period, seed, params, "suiji-panels/1")


def compute_panels_v2(files: Files, period: str, seed: str, params: dict[str, Any]) -> Output:
    return _panels(files, period, seed, params, "suiji-panels/2")


def _panels(files: Files, period: str, seed: str, params: dict[str, Any], algorithm: str
            ) -> Output:
    v2 = algorithm == "suiji-panels/2"
    rules = Rules(files["rules.toml"].decode("utf-8"))
    meeting = date.fromisoformat(params["meeting"])
    drawn_on = date.fromisoformat(params["drawn_on"])
    documents = list(params["documents"])
    prior = [tuple(p) for p in params.get("prior", [])]
    same = [tuple(p) for p in params.get("same_meeting", [])]
    declined = set(params.get("declined", []))
    prior_load: dict[str, int] = {}
    for e, _, _ in prior:
        prior_load[e] = prior_load.get(e, 0) + 1
    meeting_load: dict[str, int] = {}
    for e, _, _ in same:
        meeting_load[e] = meeting_load.get(e, 0) + 1
    prior_reviews = {(e, p) for e, p, _ in prior if p in set(documents)}
    model = Panel(files, seed, rules, meeting, documents, declined, prior_load, prior_reviews,
                  meeting_load, industry_names=v2)
    days = (meeting - drawn_on).days
    for d in model.docs:
        if days < rules.lead_days[d["doc_type"]]:
            raise Refused("too late for the lead time")
    net = Network(len(model.docs) + len(model.ids) + 1)
    sink = net.n - 1
    arc_of = []
    for i, d in enumerate(model.docs):
        size = rules.panel_size[d["doc_type"]]
        net.supply[i] = size
        net.supply[sink] -= size
        usable = [e for e in range(len(model.ids)) if model.eligible[i][e] and model.capacity[e]]
        if len(usable) < size:
            raise Refused(f"document {d['project_id']} lacks experts")
        for e in usable:
            arc_of.append((i, e, net.arc(i, len(model.docs) + e, 1, model.cost[i][e])))
    for e in range(len(model.ids)):
        net.arc(len(model.docs) + e, sink, model.capacity[e], 0)
    flow, unrouted, unique = min_cost_max_flow(net)
    if any(unrouted):
        raise Refused("the load caps do not let every panel be filled")
    if not unique:
        raise Refused("the panel optimum is not unique (the tie-break is not implemented here)")
    members: list[set[int]] = [set() for _ in model.docs]
    cost = 0
    for i, e, a in arc_of:
        if flow[a]:
            members[i].add(e)
            cost += model.cost[i][e]
    load = [0] * len(model.ids)
    for ms in members:
        for e in ms:
            load[e] += 1
    items = []
    alt_load = [0] * len(model.ids) if v2 else None
    for i, d in enumerate(model.docs):
        alts = model.alternates(i, members[i], load, rules.alternates, alt_load=alt_load)
        okm = [model.match[i][e] and model.status[e] == "ok" for e in range(len(model.ids))]
        items.append({
            "project_id": d["project_id"], "name": d["name"], "doc_type": d["doc_type"],
            "industry": d["industry"], "agency_uscc": d["agency_uscc"],
            "agency_name": model.agency_name[i], "developer": d["developer"],
            "specialties": model.specs[i], "panel_size": rules.panel_size[d["doc_type"]],
            "experts": sorted(model.ids[e] for e in members[i]),
            "alternates": [model.ids[e] for e in alts],
            "eligible": sum(model.eligible[i]),
            "recusals": {r: sum(1 for e in range(len(model.ids))
                                if okm[e] and model.recusal[i][r][e])
                         for r in ("employer", "conflict", "reviewed")},
            "declined": []})
    return {
        "algorithm": algorithm, "period": period, "meeting": meeting.isoformat(),
        "seed": seed, "snapshot": manifest_digest(period, "reviews", files)[1],
        "drawn_on": drawn_on.isoformat(), "items": items,
        "basis": {"documents": documents,
                  "prior_load": dict(sorted((e, n) for e, n in prior_load.items() if n)),
                  "prior_reviews": [list(x) for x in sorted(prior_reviews)],
                  "declined_before": sorted(declined),
                  "meeting_load": dict(sorted((e, n) for e, n in meeting_load.items() if n))},
        "declines": [],
        "solver": {"status": "optimal", "cost": cost, "unique": unique, "tie_break_rounds": 0,
                   "tie_break_unique": False, "nodes": net.n, "arcs": len(net.tail),
                   "unrouted": 0},
    }


def compute_decline(files: Files, period: str, seed: str, previous: Output,
                    params: dict[str, Any]) -> Output:
    out = json.loads(json.dumps(previous))
    expert = str(params["expert_id"]).strip()
    reason = str(params["reason"]).strip()
    basis = out["basis"]
    before = set(basis["declined_before"]) | {x["expert_id"] for x in out["declines"]}
    if expert in before:
        raise Refused(f"{expert} has already declined")
    if not any(expert in i["experts"] or expert in i["alternates"] for i in out["items"]):
        raise Refused(f"{expert} is on no panel")
    rules = Rules(files["rules.toml"].decode("utf-8"))
    v2 = out["algorithm"] == "suiji-panels/2"
    model = Panel(files, seed, rules, date.fromisoformat(out["meeting"]), basis["documents"],
                  before | {expert}, dict(basis["prior_load"]),
                  {(e, p) for e, p in basis["prior_reviews"]}, dict(basis["meeting_load"]),
                  industry_names=v2)
    index = {e: k for k, e in enumerate(model.ids)}
    doc_index = {d["project_id"]: k for k, d in enumerate(model.docs)}
    load = [0] * len(model.ids)
    for item in out["items"]:
        for e in item["experts"]:
            if e != expert:
                load[index[e]] += 1
    replacements = []
    for item in out["items"]:
        member = expert in item["experts"]
        if not (member or expert in item["alternates"]):
            continue
        item["declined"] = sorted(set(item["declined"]) | {expert})
        item["alternates"] = [e for e in item["alternates"] if e != expert]
        if not member:
            continue
        d = doc_index[item["project_id"]]
        members = {index[e] for e in item["experts"] if e != expert}
        queue = [index[e] for e in item["alternates"]] + [
            e for e in model.ranking(d) if model.ids[e] not in item["alternates"]]
        chosen = next((e for e in queue if e not in members and model.eligible[d][e]
                       and model.fits(e, load)), None)
        if chosen is None:
            raise Refused(f"no replacement on {item['project_id']}")
        load[chosen] += 1
        source = "alternate" if model.ids[chosen] in item["alternates"] else "next_eligible"
        item["experts"] = sorted([model.ids[e] for e in members] + [model.ids[chosen]])
        item["alternates"] = [e for e in item["alternates"] if e != model.ids[chosen]]
        replacements.append({"project_id": item["project_id"],
                             "replaced_by": model.ids[chosen], "source": source})
    alt_load = None
    if v2:  # the cap counts the alternates the lists hold after the replacements
        alt_load = [0] * len(model.ids)
        for item in out["items"]:
            for e in item["alternates"]:
                alt_load[index[e]] += 1
    for item in out["items"]:
        want = rules.alternates - len(item["alternates"])
        if want <= 0 or expert not in item["declined"]:
            continue
        d = doc_index[item["project_id"]]
        extra = model.alternates(d, {index[e] for e in item["experts"]}, load, want,
                                 {index[e] for e in item["alternates"]}, alt_load)
        item["alternates"] = item["alternates"] + [model.ids[e] for e in extra]
    out["declines"].append({"expert_id": expert, "reason": reason,
                            "replacements": replacements})
    return out


DRAWS: dict[str, Callable[[Files, str, str, dict[str, Any]], Output]] = {
    "suiji-inspections/1": compute_plan,
    "suiji-inspections/2": compute_plan_window,
    "suiji-inspections/3": compute_plan_window,
    "suiji-reviews/1": compute_sample,
    "suiji-panels/1": compute_panels,
    "suiji-panels/2": compute_panels_v2,
}
EVENTS: dict[str, Callable[[Files, str, str, Output, dict[str, Any]], Output]] = {
    "substitution": compute_substitution,  # recorded without an algorithm param
    "suiji-substitution/2": compute_substitution_v2,
    "decline": compute_decline,
}
