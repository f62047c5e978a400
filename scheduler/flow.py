"""Min-cost flow on arrays with a proof that the optimum is unique.

Every assignment in suiji (inspection teams, expert panels, substitutions) is
a min-cost flow whose arc costs come from seed-derived tickets. A seeded draw
is only reproducible by *any* correct solver if the optimum is unique, so
:func:`min_cost_flow` does not stop at OR-Tools' ``OPTIMAL``: it proves that
no other flow reaches the same cost, and reports ``unique``.

The proof (ALGORITHM.md, "Teams and dates"):

1. Solve with ``ortools.graph.python.min_cost_flow.SimpleMinCostFlow``, arcs
   added as numpy arrays.
2. Compute node potentials ``pi`` as shortest-path distances in the residual
   graph from a virtual root joined to every node by 0-cost arcs (Bellman-Ford;
   a negative cycle would mean the flow is not optimal: ``BAD_RESULT``).
   Every residual arc then has reduced cost ``c + pi[tail] - pi[head] >= 0``.
3. The optimum is unique iff the residual graph has no cycle of zero cost that
   changes the flow. Such a cycle uses only zero-reduced-cost residual arcs.
   Arcs with ``0 < flow < capacity`` are residual both ways (an undirected
   edge); they contain a cycle iff an edge closes a loop (union-find). The
   remaining one-way zero arcs, with each undirected component contracted to
   one node, contain a cycle iff a topological peel (Kahn) leaves arcs over.

If the optimum is not unique (with ~36-bit random costs, astronomically
rare), ties are broken deterministically: the optimal face (arcs of zero
reduced cost free, the others fixed) is re-solved with secondary costs
``mix64(arc index, round) >> 34`` and proven unique again; the result says
``unique=False, tie_break_rounds=r``.

:func:`assign` is the bipartite b-matching used by the scheduler and the
expert panels: tasks need ``demand[t]`` distinct people, each person takes at
most ``capacity[p]`` tasks, each (task, person) arc has capacity 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow as _mcf

from suiji.sampler.tickets import mix64

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
BoolArr = npt.NDArray[np.bool_]

COST_BITS = 36
"""Ticket-derived costs are ``mix64(...) >> (64 - COST_BITS)``: integers in [0, 2^36)."""

_LIMIT = 2**62
_TIE_BITS = 30
_TIE_ROUNDS = 8


class FlowStatus(StrEnum):
    """The solver's outcome, never a bare bool."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBALANCED = "unbalanced"
    BAD_RESULT = "bad_result"
    BAD_COST_RANGE = "bad_cost_range"
    BAD_CAPACITY_RANGE = "bad_capacity_range"
    NOT_SOLVED = "not_solved"


_STATUS = {
    _mcf.SimpleMinCostFlow.OPTIMAL: FlowStatus.OPTIMAL,
    _mcf.SimpleMinCostFlow.INFEASIBLE: FlowStatus.INFEASIBLE,
    _mcf.SimpleMinCostFlow.UNBALANCED: FlowStatus.UNBALANCED,
    _mcf.SimpleMinCostFlow.BAD_RESULT: FlowStatus.BAD_RESULT,
    _mcf.SimpleMinCostFlow.BAD_COST_RANGE: FlowStatus.BAD_COST_RANGE,
    _mcf.SimpleMinCostFlow.BAD_CAPACITY_RANGE: FlowStatus.BAD_CAPACITY_RANGE,
    _mcf.SimpleMinCostFlow.NOT_SOLVED: FlowStatus.NOT_SOLVED,
    _mcf.SimpleMinCostFlow.FEASIBLE: FlowStatus.BAD_RESULT,  # never returned by solve()
}


_G = TypeVar("_G", bound=np.generic)


def _frozen(a: npt.NDArray[_G]) -> npt.NDArray[_G]:
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class FlowResult:
    """The outcome of one min-cost flow.

    ``flow[a]`` is the flow on arc ``a`` (input order); ``cost`` the total
    primary cost; ``unrouted[v]`` the part of node ``v``'s supply (or demand,
    negative) that could not be routed, all zero unless ``max_flow=True`` and
    the supplies do not fit. ``unique`` says the primary optimum is the only
    one; when it is not, ``tie_break_rounds`` > 0 tells how many secondary
    cost rounds were needed and ``tie_break_unique`` whether they settled it.
    """

    status: FlowStatus
    flow: I64 = field(repr=False)
    cost: int
    unique: bool
    tie_break_rounds: int
    tie_break_unique: bool
    nodes: int
    arcs: int
    unrouted: I64 = field(repr=False)
    potential_rounds: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.status, FlowStatus):
            raise TypeError("status must be a FlowStatus")
        if self.flow.shape != (self.arcs,) or self.unrouted.shape != (self.nodes,):
            raise ValueError("flow must have one entry per arc, unrouted one per node")

    @property
    def optimal(self) -> bool:
        return self.status is FlowStatus.OPTIMAL

    @property
    def reproducible(self) -> bool:
        """True when every correct solver returns this exact flow."""
        return self.optimal and (self.unique or self.tie_break_unique)

    def summary(self) -> dict[str, object]:
        """JSON-able description (no arrays)."""
        return {"status": str(self.status), "cost": self.cost, "unique": self.unique,
                "tie_break_rounds": self.tie_break_rounds,
                "tie_break_unique": self.tie_break_unique,
                "nodes": self.nodes, "arcs": self.arcs,
                "unrouted": int(self.unrouted[self.unrouted > 0].sum())}


def pair_costs(task_keys: npt.NDArray[np.uint64], person_keys: npt.NDArray[np.uint64]
               ) -> I64:
    """The cost of each (task, person) arc from the two parties' ticket keys.

    ``cost = mix64(task_key, person_key) >> (64 - COST_BITS)``, elementwise on
    aligned arrays (one entry per arc). Keys are :func:`suiji.sampler.tickets.ticket_keys`
    under derived seeds chosen by the caller.
    """
    mixed = mix64(np.asarray(task_keys, dtype=np.uint64), np.asarray(person_keys, dtype=np.uint64))
    return (mixed >> np.uint64(64 - COST_BITS)).astype(np.int64)


def _check_inputs(num_nodes: int, tails: I32, heads: I32, caps: I64, costs: I64,
                  supplies: I64) -> None:
    m = tails.shape[0]
    if heads.shape != (m,) or caps.shape != (m,) or costs.shape != (m,):
        raise ValueError("tails, heads, capacities and costs must have one entry per arc")
    if supplies.shape != (num_nodes,):
        raise ValueError("supplies must have one entry per node")
    if m and (tails.min() < 0 or heads.min() < 0 or max(tails.max(), heads.max()) >= num_nodes):
        raise ValueError("arc end out of range")
    if m and caps.min() < 0:
        raise ValueError("capacities must not be negative")
    if m:
        max_cost = float(np.abs(costs).max())
        if max_cost * (num_nodes + 1) >= _LIMIT:
            raise ValueError("costs too large for the number of nodes (overflow guard)")
        total = float((np.abs(costs).astype(np.float64) * caps).sum())
        if total >= _LIMIT / 4:
            raise ValueError("sum of |cost| x capacity must stay below 2^60 (overflow guard)")


def _bypass(num_nodes: int, tails: I32, heads: I32, caps: I64, supplies: I64
            ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]] | None:
    """Arcs that can never bind, for :func:`_solve` to leave out; None when there are none.

    Arc ``a = v -> w`` is bypassed when it is the only arc leaving ``v``,
    ``v`` has no supply and the capacities of the arcs entering ``v`` add up
    to at most ``caps[a]``: its flow is then always ``v``'s inflow, so the
    arcs entering ``v`` may go straight to ``w`` (at cost plus ``costs[a]``)
    without changing the feasible flows or their costs. Returns (bypassed
    arcs, per node its out-arc or -1); ``w`` is never itself bypassed.
    """
    m = tails.size
    if m < 2 or caps.sum(dtype=np.float64) >= 2**52:  # keep the sums below exact in float64
        return None
    outdeg = np.bincount(tails, minlength=num_nodes)
    single = np.flatnonzero(outdeg[tails] == 1)  # arcs that are their tail's only way out
    if not single.size:
        return None
    incap = np.bincount(heads, weights=caps, minlength=num_nodes)  # exact below 2^53
    v = tails[single]
    ok = (supplies[v] == 0) & (heads[single] != v) & (incap[v] <= caps[single])
    out_arc = np.full(num_nodes, -1, dtype=np.intp)
    out_arc[v[ok]] = single[ok]
    ok &= out_arc[heads[single]] < 0  # never bypass into a node that is bypassed itself
    if not ok.any():
        return None
    out_arc[:] = -1
    out_arc[v[ok]] = single[ok]
    gone = np.zeros(m, dtype=bool)
    gone[single[ok]] = True
    return gone, out_arc


def _solve(num_nodes: int, tails: I32, heads: I32, caps: I64, costs: I64, supplies: I64,
           max_flow: bool, bypass: bool = False) -> tuple[FlowStatus, I64]:
    """OR-Tools' optimum; with ``bypass`` on a graph without the arcs that cannot bind.

    Bypassing gives a flow of the same problem (the same one when the optimum
    is unique) in about half the time on the scheduler's graphs; any status
    but OPTIMAL is decided on the graph as given.
    """
    plan = _bypass(num_nodes, tails, heads, caps, supplies) if bypass else None
    if plan is not None:
        gone, out_arc = plan
        keep = np.flatnonzero(~gone)
        kh = heads[keep]
        via = out_arc[kh]
        hop = via >= 0
        new_heads = np.where(hop, heads[np.maximum(via, 0)], kh).astype(np.int32)
        new_costs = costs[keep] + np.where(hop, costs[np.maximum(via, 0)], 0)
        status, kflow = _solve(num_nodes, tails[keep], new_heads, caps[keep], new_costs,
                               supplies, max_flow)
        if status is FlowStatus.OPTIMAL:
            flow = np.zeros(tails.size, dtype=np.int64)
            flow[keep] = kflow
            inflow = np.bincount(kh[hop], weights=kflow[hop], minlength=num_nodes)
            bypassed = np.flatnonzero(gone)
            flow[bypassed] = np.rint(inflow[tails[bypassed]]).astype(np.int64)
            if np.all(flow[bypassed] <= caps[bypassed]):  # as it must: the arcs never bind
                return status, flow
    smcf = _mcf.SimpleMinCostFlow()
    if tails.size:
        smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    if num_nodes:
        smcf.set_nodes_supplies(np.arange(num_nodes, dtype=np.int32), supplies)
    raw = smcf.solve_max_flow_with_min_cost() if max_flow else smcf.solve()
    status = _STATUS.get(raw, FlowStatus.BAD_RESULT)
    if status is not FlowStatus.OPTIMAL or not tails.size:
        return status, np.zeros(tails.size, dtype=np.int64)
    flow = np.asarray(smcf.flows(np.arange(tails.size, dtype=np.int32)), dtype=np.int64)
    return status, flow


def _residual(tails: I32, heads: I32, caps: I64, costs: I64, flow: I64
              ) -> tuple[I32, I32, I64, I64, BoolArr]:
    """Residual arcs: (tail, head, cost, original arc, is_forward)."""
    fwd = flow < caps
    bwd = flow > 0
    idx = np.arange(tails.size, dtype=np.int64)
    rt = np.concatenate([tails[fwd], heads[bwd]])
    rh = np.concatenate([heads[fwd], tails[bwd]])
    rc = np.concatenate([costs[fwd], -costs[bwd]])
    ra = np.concatenate([idx[fwd], idx[bwd]])
    rf = np.concatenate([np.ones(int(fwd.sum()), bool), np.zeros(int(bwd.sum()), bool)])
    return rt, rh, rc, ra, rf


def distinct(values: npt.NDArray[np.integer]) -> npt.NDArray[np.integer]:
    """Sorted distinct values (faster than ``np.unique`` on large integer arrays)."""
    if values.size < 2:
        return np.array(values, copy=True)
    s = np.sort(values)
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _net(n: int, tails: I32, heads: I32, flow: I64) -> I64:
    """Outflow minus inflow of every node (exact: flows stay far below 2^53)."""
    out = np.bincount(tails, weights=flow, minlength=n) - np.bincount(heads, weights=flow,
                                                                      minlength=n)
    return np.rint(out).astype(np.int64)


def _csr(tails: npt.NDArray[np.integer], n: int) -> tuple[npt.NDArray[np.intp], I64]:
    order = np.argsort(tails, kind="stable")
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=starts[1:])
    return order, starts


def _gather(nodes: npt.NDArray[np.integer], order: npt.NDArray[np.intp], starts: I64
            ) -> npt.NDArray[np.intp]:
    """Arc indices (in ``order``) of all arcs leaving ``nodes``."""
    lo = starts[nodes]
    cnt = starts[nodes + 1] - lo
    total = int(cnt.sum())
    if not total:
        return np.zeros(0, dtype=np.intp)
    offs = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
    return order[np.arange(total) + offs]


def potentials(num_nodes: int, rt: I32, rh: I32, rc: I64) -> tuple[I64 | None, int]:
    """Shortest distances from a virtual root (0-cost arc to every node); None on a negative cycle.

    Frontier Bellman-Ford: only arcs leaving nodes improved in the last round
    are relaxed. Returns the distances and the number of rounds.
    """
    d = np.zeros(num_nodes, dtype=np.int64)
    if not rt.size:
        return d, 0
    order, starts = _csr(rt, num_nodes)
    active = distinct(rt[rc < 0])
    rounds = 0
    while active.size:
        rounds += 1
        if rounds > num_nodes + 1:
            return None, rounds
        arcs = _gather(active, order, starts)
        cand = d[rt[arcs]] + rc[arcs]
        better = cand < d[rh[arcs]]
        if not better.any():
            break
        heads = rh[arcs][better]
        np.minimum.at(d, heads, cand[better])
        active = distinct(heads)
    return d, rounds


def _components(n: int, u: npt.NDArray[np.integer], v: npt.NDArray[np.integer]
                ) -> npt.NDArray[np.int64]:
    """Union-find root (smallest node) of every node for undirected edges u-v."""
    parent = np.arange(n, dtype=np.int64)
    if not u.size:
        return parent
    while True:
        pu, pv = parent[u], parent[v]
        lo, hi = np.minimum(pu, pv), np.maximum(pu, pv)
        moved = lo != hi
        if not moved.any():
            return parent
        np.minimum.at(parent, hi[moved], lo[moved])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def _has_cycle(n: int, u: npt.NDArray[np.integer], v: npt.NDArray[np.integer]) -> bool:
    """Does the directed graph u->v have a cycle? (self-loops count)."""
    if not u.size:
        return False
    if np.any(u == v):
        return True
    indeg = np.bincount(v, minlength=n)
    order, starts = _csr(u, n)
    present = np.zeros(n, dtype=bool)
    present[u] = True
    present[v] = True
    frontier = np.flatnonzero(present & (indeg == 0))
    removed_arcs = 0
    while frontier.size:
        arcs = _gather(frontier, order, starts)
        removed_arcs += arcs.size
        heads = v[arcs]
        np.subtract.at(indeg, heads, 1)
        cand = distinct(heads)
        frontier = cand[indeg[cand] == 0]
    return removed_arcs < u.size


def zero_cycle(num_nodes: int, tails: I32, heads: I32, caps: I64, costs: I64, flow: I64,
               pi: I64) -> tuple[bool, I64]:
    """(is there a flow-changing zero-cost residual cycle?, reduced cost of each arc)."""
    reduced = costs + pi[tails] - pi[heads]
    fwd = flow < caps
    bwd = flow > 0
    both = fwd & bwd
    # undirected edges: arcs strictly between bounds (reduced cost is 0 on them)
    bu, bv = tails[both].astype(np.int64), heads[both].astype(np.int64)
    root = _components(num_nodes, bu, bv)
    if bu.size:
        nodes = distinct(np.concatenate([bu, bv]))
        comps = distinct(root[nodes]).size
        if bu.size > nodes.size - comps:
            return True, reduced
    one_f = fwd & ~bwd & (reduced == 0)
    one_b = bwd & ~fwd & (reduced == 0)
    cu = np.concatenate([root[tails[one_f]], root[heads[one_b]]])
    cv = np.concatenate([root[heads[one_f]], root[tails[one_b]]])
    return _has_cycle(num_nodes, cu, cv), reduced


def _prove(num_nodes: int, tails: I32, heads: I32, caps: I64, costs: I64, flow: I64,
           pi: I64 | None = None) -> tuple[FlowStatus, bool, I64, int]:
    rounds = 0
    if pi is None:
        rt, rh, rc, _, _ = _residual(tails, heads, caps, costs, flow)
        pi, rounds = potentials(num_nodes, rt, rh, rc)
    if pi is None:
        return FlowStatus.BAD_RESULT, False, np.zeros(0, np.int64), rounds
    cyc, reduced = zero_cycle(num_nodes, tails, heads, caps, costs, flow, pi)
    # complementary slackness sanity check: reduced costs agree with the flow
    if np.any((reduced < 0) & (flow < caps)) or np.any((reduced > 0) & (flow > 0)):
        return FlowStatus.BAD_RESULT, False, reduced, rounds
    return FlowStatus.OPTIMAL, not cyc, reduced, rounds


def _tie_costs(m: int, round_no: int) -> I64:
    mixed = mix64(np.arange(m, dtype=np.uint64), np.full(m, round_no + 1, dtype=np.uint64))
    return (mixed >> np.uint64(64 - _TIE_BITS)).astype(np.int64)


def _priced(n: int, t: I32, h: I32, cap: I64, c: I64, s: I64, max_flow: bool,
            sub: BoolArr, bypass: bool = False) -> tuple[I64, I64] | None:
    """Optimal flow found by pricing out arcs outside ``sub``; None to solve in full."""
    if sub.shape != t.shape:
        raise ValueError("candidates must have one entry per arc")
    while True:
        idx = np.flatnonzero(sub)
        ts, hs, caps, cs = t[idx], h[idx], cap[idx], c[idx]
        status, fsub = _solve(n, ts, hs, caps, cs, s, max_flow, bypass)
        if status is not FlowStatus.OPTIMAL:
            return None
        flow = np.zeros(t.size, dtype=np.int64)
        flow[idx] = fsub
        net = _net(n, ts, hs, fsub)  # arcs outside the guess carry nothing
        if np.any(net != s):
            return None  # not all supply routed on the guess: decide on the full graph
        rt, rh, rc, _, _ = _residual(ts, hs, caps, cs, fsub)
        pi, _ = potentials(n, rt, rh, rc)
        if pi is None:
            return None
        out = ~sub
        reduced = c + pi[t] - pi[h]
        add = out & (reduced < 0) & (cap > 0)
        if not add.any():
            return flow, pi
        sub |= add


def min_cost_flow(num_nodes: int, tails: npt.ArrayLike, heads: npt.ArrayLike,
                  capacities: npt.ArrayLike, costs: npt.ArrayLike, supplies: npt.ArrayLike,
                  *, max_flow: bool = False, candidates: npt.ArrayLike | None = None
                  ) -> FlowResult:
    """Solve a min-cost flow and prove its optimum unique.

    Nodes are ``0 .. num_nodes-1``; arc ``a`` goes ``tails[a] -> heads[a]``
    with ``capacities[a]`` and per-unit ``costs[a]`` (int64). ``supplies[v]``
    is positive at sources, negative at sinks. With ``max_flow=False`` the
    supplies must balance and be routable, else the status is ``UNBALANCED`` or
    ``INFEASIBLE``. With ``max_flow=True`` as much supply as possible is
    routed (then at least cost) and ``unrouted`` tells what was left.

    ``candidates`` (bool per arc, optional) is a guess of the arcs an optimum
    needs (e.g. each task's cheapest few): the flow is solved on them, arcs
    left out are priced with the potentials and those of negative reduced
    cost added until none is left, which proves the flow optimal on the full
    graph (LP duality). The result is the same as without ``candidates``.

    The caller orders arcs deterministically (sorted by ids): arc order
    matters only for the deterministic tie-break, never for a unique optimum.
    """
    t = np.ascontiguousarray(tails, dtype=np.int32)
    h = np.ascontiguousarray(heads, dtype=np.int32)
    cap = np.ascontiguousarray(capacities, dtype=np.int64)
    c = np.ascontiguousarray(costs, dtype=np.int64)
    s = np.ascontiguousarray(supplies, dtype=np.int64)
    _check_inputs(num_nodes, t, h, cap, c, s)
    # Fast first: OR-Tools on graphs without the arcs that cannot bind. A unique
    # optimum is the same flow whatever found it; anything else (ties, failures)
    # is decided by the plain solve, so the result never depends on the shortcut.
    res = _min_cost_flow(num_nodes, t, h, cap, c, s, max_flow, candidates, True)
    if res.optimal and res.unique:
        return res
    return _min_cost_flow(num_nodes, t, h, cap, c, s, max_flow, candidates, False)


def _min_cost_flow(num_nodes: int, t: I32, h: I32, cap: I64, c: I64, s: I64, max_flow: bool,
                   candidates: npt.ArrayLike | None, bypass: bool) -> FlowResult:
    """:func:`min_cost_flow` on checked arrays; with ``bypass``, NOT_SOLVED unless unique."""
    m = t.size

    def fail(status: FlowStatus) -> FlowResult:
        return FlowResult(status, _frozen(np.zeros(m, np.int64)), 0, False, 0, False,
                          num_nodes, m, _frozen(s.copy()))

    if not max_flow and int(s.sum()) != 0:
        return fail(FlowStatus.UNBALANCED)
    flow = None
    known_pi = None
    if candidates is not None:
        priced = _priced(num_nodes, t, h, cap, c, s, max_flow,
                         np.asarray(candidates, dtype=bool).copy(), bypass)
        if priced is not None:
            flow, known_pi = priced
            max_flow = False  # every supply was routed: the exact problem
    if flow is None:
        status, flow = _solve(num_nodes, t, h, cap, c, s, max_flow, bypass)
        if status is not FlowStatus.OPTIMAL:
            return fail(status)

    # Work on the exact problem: a super source/sink carries the routed supply
    # so that "unique" covers which supplies were routed too.
    net = _net(num_nodes, t, h, flow)
    unrouted = s - net
    if not max_flow and np.any(unrouted):
        return fail(FlowStatus.BAD_RESULT)
    src = np.flatnonzero(s > 0)
    snk = np.flatnonzero(s < 0)
    if max_flow:
        n2 = num_nodes + 2
        ss, tt = num_nodes, num_nodes + 1
        t2 = np.concatenate([t, np.full(src.size, ss, np.int32), snk.astype(np.int32)])
        h2 = np.concatenate([h, src.astype(np.int32), np.full(snk.size, tt, np.int32)])
        cap2 = np.concatenate([cap, s[src], -s[snk]])
        c2 = np.concatenate([c, np.zeros(src.size + snk.size, np.int64)])
        f2 = np.concatenate([flow, net[src], -net[snk]])
    else:
        n2, t2, h2, cap2, c2, f2 = num_nodes, t, h, cap, c, flow
    cost = int((c * flow).sum())

    pstatus, unique, reduced, prounds = _prove(n2, t2, h2, cap2, c2, f2, known_pi)
    if pstatus is not FlowStatus.OPTIMAL:
        return fail(pstatus)
    if bypass and not unique:
        return fail(FlowStatus.NOT_SOLVED)  # ties: the caller solves again without bypass
    rounds = 0
    tie_unique = False
    if not unique:
        # Deterministic tie-break on the optimal face: arcs with reduced cost
        # 0 stay free, the others are fixed at their bound by complementary
        # slackness; the face is re-solved with secondary costs.
        free = reduced == 0
        full = reduced < 0
        s2 = np.zeros(n2, dtype=np.int64)
        if max_flow:
            routed = int(net[src].sum())
            s2[n2 - 2] = routed
            s2[n2 - 1] = -routed
        else:
            s2[:] = s
        fixed = np.where(full, cap2, 0)
        np.subtract.at(s2, t2, fixed)
        np.add.at(s2, h2, fixed)
        ft, fh, fcap = t2[free], h2[free], cap2[free]
        for r in range(_TIE_ROUNDS):
            rounds = r + 1
            fc = _tie_costs(int(free.sum()), r)
            st, fflow = _solve(n2, ft, fh, fcap, fc, s2, False)
            if st is not FlowStatus.OPTIMAL:
                return fail(FlowStatus.BAD_RESULT)
            pst, u2, _, _ = _prove(n2, ft, fh, fcap, fc, fflow)
            if pst is not FlowStatus.OPTIMAL:
                return fail(FlowStatus.BAD_RESULT)
            f2 = fixed.copy()
            f2[free] = fflow
            if u2:
                tie_unique = True
                break
        flow = f2[:m]
        if int((c * flow).sum()) != cost:
            return fail(FlowStatus.BAD_RESULT)
        net = _net(num_nodes, t, h, flow)
        unrouted = s - net
    return FlowResult(FlowStatus.OPTIMAL, _frozen(flow), cost, unique, rounds, tie_unique,
                      num_nodes, m, _frozen(unrouted), prounds)


@dataclass(frozen=True, eq=False)
class AssignResult:
    """A bipartite b-matching: ``used[a]`` says arc ``a`` (task, person) is chosen.

    ``shortfall[t]`` is how many people task ``t`` still lacks (all zero
    unless ``allow_shortfall=True``).
    """

    flow: FlowResult
    used: BoolArr = field(repr=False)
    shortfall: I64 = field(repr=False)

    @property
    def status(self) -> FlowStatus:
        return self.flow.status

    @property
    def cost(self) -> int:
        return self.flow.cost

    @property
    def unique(self) -> bool:
        return self.flow.unique


def assign(demand: npt.ArrayLike, capacity: npt.ArrayLike, arc_task: npt.ArrayLike,
           arc_person: npt.ArrayLike, arc_cost: npt.ArrayLike, *,
           allow_shortfall: bool = False, candidates: npt.ArrayLike | None = None
           ) -> AssignResult:
    """Give task ``t`` exactly ``demand[t]`` distinct people at least total cost.

    Person ``p`` takes at most ``capacity[p]`` tasks; arc ``a`` lets person
    ``arc_person[a]`` take task ``arc_task[a]`` at ``arc_cost[a]`` (capacity
    1, so people in one task are distinct as long as (task, person) pairs are
    not repeated). Network: task -> person (cap 1) -> sink (cap capacity).
    With ``allow_shortfall`` as many seats as possible are filled first.
    ``candidates`` (bool per arc, optional): a guess of the arcs the optimum
    uses, see :func:`min_cost_flow`.
    """
    d = np.asarray(demand, dtype=np.int64)
    cap = np.asarray(capacity, dtype=np.int64)
    at = np.asarray(arc_task, dtype=np.int64)
    ap = np.asarray(arc_person, dtype=np.int64)
    ac = np.asarray(arc_cost, dtype=np.int64)
    n_t, n_p = d.size, cap.size
    if at.size and (at.min() < 0 or at.max() >= n_t or ap.min() < 0 or ap.max() >= n_p):
        raise ValueError("arc_task / arc_person out of range")
    if at.size:
        pair = at * n_p + ap
        if distinct(pair).size != pair.size:
            raise ValueError("a (task, person) pair appears twice")
    sink = n_t + n_p
    tails = np.concatenate([at, n_t + np.arange(n_p)])
    heads = np.concatenate([n_t + ap, np.full(n_p, sink)])
    caps = np.concatenate([np.ones(at.size, np.int64), cap])
    costs = np.concatenate([ac, np.zeros(n_p, np.int64)])
    supplies = np.concatenate([d, np.zeros(n_p, np.int64), [-int(d.sum())]])
    guess = None if candidates is None else np.concatenate(
        [np.asarray(candidates, dtype=bool), np.ones(n_p, dtype=bool)])
    res = min_cost_flow(n_t + n_p + 1, tails, heads, caps, costs, supplies,
                        max_flow=allow_shortfall, candidates=guess)
    used = res.flow[: at.size] > 0
    shortfall = res.unrouted[:n_t].copy() if res.optimal else d.copy()
    return AssignResult(res, _frozen(used), _frozen(shortfall))
