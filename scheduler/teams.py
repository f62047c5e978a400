"""Teams and dates: every drawn inspection gets a working day and a team (DOMAIN.md §3 rules 5-6).

:func:`schedule` is a pure function of its frames, the working days, the
rules and the seed. In short (ALGORITHM.md, "Teams and dates", has every
formula):

1. **Eligibility.** An inspector may inspect a firm when active, of the same
   city, of the firm's district or a city-level unit (``全市``/``all``/``全部``),
   without a declared conflict with the firm's USCC or name, and, when the
   rules say so, not in the firm's last team and not of the firm's own
   district (then district branches cover the *other* districts of their city).
2. **Dates.** Within each (city, district) the firms are taken in Rivest
   ticket order under ``seed|teams:dates`` and laid over the working days in
   proportion to the daily capacity of the inspectors available each day.
3. **Teams.** One min-cost flow per connected component of the eligibility
   graph: firm -> (inspector, day) -> inspector -> sink, capacities
   ``team_size`` / 1 / daily / period. Arc costs are
   ``mix64(key(uscc), key(badge)) >> 28`` with ticket keys under
   ``seed|teams:firms`` and ``seed|teams:inspectors``; the optimum is proven
   unique (:mod:`suiji.scheduler.flow`), so any correct solver gives the same
   teams.
4. **Repair.** Firms the flow cannot staff on their day move to the first day,
   in ticket order under ``seed|teams:redate``, where a team is still free;
   the flow is solved again. Only if that fails is a small CP-SAT model asked
   for the dates of the stuck firms, and the plan says so; if even that has no
   answer, or the repair does not converge, CP-SAT chooses the dates of every
   firm of the component (the complete problem), and the flow then the teams.

When no plan exists, :class:`~suiji.data.errors.InfeasibleError` names the
binding district, day or inspector group and what to change.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from ortools.graph.python import max_flow as _maxflow
from ortools.sat.python import cp_model
from pandas.api.types import infer_dtype

from suiji.data.errors import BugError, InfeasibleError
from suiji.data.progress import Progress
from suiji.data.rules import InspectionRules
from suiji.data.schema import ALL_DISTRICTS
from suiji.sampler.firms import pool_tickets
from suiji.sampler.tickets import derived_seed, ticket_keys, ticket_order
from suiji.scheduler.flow import COST_BITS, FlowResult, distinct, min_cost_flow, pair_costs

I64 = npt.NDArray[np.int64]

METHOD = "min-cost-flow"
CPSAT_TIME_LIMIT = 30.0
_REPAIR_ROUNDS = 4
_GUESS_PER_MEMBER = 3  # candidate arcs per firm in the first solve: 3 x team_size cheapest
# ... and in the fast attempt before it: 5 x team_size (one solve where 3 x often needs two);
# the result is the same whenever the optimum is unique, and ties fall back to the 3 x guess
_FAST_GUESS_PER_MEMBER = 5
_FIX_HINT = ("Try (1) raising capacity or daily_capacity in the inspectors file "
             "(2) adding city-level inspectors (3) lowering the quota in rules.toml")


# --- results ------------------------------------------------------------------


@dataclass(frozen=True)
class TeamAssignment:
    """One inspection: the firm, its working day (ISO) and its team (sorted badges)."""

    uscc: str
    date: str
    badges: tuple[str, ...]

    def __post_init__(self) -> None:
        date.fromisoformat(self.date)
        if len(self.badges) < 2:
            raise ValueError(f"{self.uscc}: a team needs at least two inspectors")
        if len(set(self.badges)) != len(self.badges) or list(self.badges) != sorted(self.badges):
            raise ValueError(f"{self.uscc}: badges must be distinct and sorted")

    def record(self) -> dict[str, Any]:
        return {"uscc": self.uscc, "date": self.date, "badges": list(self.badges)}


@dataclass(frozen=True)
class SolverStats:
    """What the solver did; deterministic (no times), so it can be hashed and stored."""

    status: str  # "optimal"
    method: str  # "min-cost-flow", or "min-cost-flow+cp-sat-dates"
    objective: int  # sum of the chosen arc costs
    unique: bool  # every component's optimum proven unique
    tie_breaks: int  # components whose ties were broken by secondary costs
    arcs: int
    nodes: int
    components: int
    moved: int  # inspections moved off their first date by the repair
    rounds: int  # largest number of flow solves in one component

    def __post_init__(self) -> None:
        if self.status != "optimal":
            raise ValueError("a Schedule only exists for an optimal solve")

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "method": self.method, "objective": self.objective,
                "unique": self.unique, "tie_breaks": self.tie_breaks, "arcs": self.arcs,
                "nodes": self.nodes, "components": self.components, "moved": self.moved,
                "rounds": self.rounds}


@dataclass(frozen=True)
class Schedule:
    """Every inspection's date and team, sorted by USCC, and the solver's stats.

    ``timings`` (seconds per phase) is for benchmarks only: it is not part of
    :meth:`to_json` and not compared.
    """

    items: tuple[TeamAssignment, ...]
    stats: SolverStats
    timings: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}),
                                         compare=False)

    def __post_init__(self) -> None:
        ids = [i.uscc for i in self.items]
        if ids != sorted(ids) or len(set(ids)) != len(ids):
            raise ValueError("schedule items must be sorted by uscc without duplicates")

    def records(self) -> list[dict[str, Any]]:
        return [i.record() for i in self.items]

    def to_json(self) -> dict[str, Any]:
        return {"items": self.records(), "solver": self.stats.as_dict()}


# --- the prepared instance ------------------------------------------------------


@dataclass
class _Instance:
    """Arrays of one scheduling problem (firms sorted by uscc, inspectors by badge)."""

    uscc: npt.NDArray[np.object_]
    fname: npt.NDArray[np.object_]
    fdistrict: npt.NDArray[np.object_]
    fcity: npt.NDArray[np.object_]
    badge: npt.NDArray[np.object_]
    idistrict: npt.NDArray[np.object_]
    icity: npt.NDArray[np.object_]
    cap: I64
    daily: I64
    avail: npt.NDArray[np.bool_]  # inspector x day
    days: list[date]
    pair_f: I64  # eligible pairs, sorted by (firm, inspector)
    pair_j: I64
    team_size: int


_STR: Any = pd.Series([""], dtype=object).astype(str).dtype  # what .astype(str) makes


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        col = frame[name]
        stripped = _stripped(col)
        if stripped is not None:  # the same Series as below without pandas' overhead
            return pd.Series(stripped, index=frame.index, dtype=_STR, name=col.name)
        return col.fillna("").astype(str).str.strip()
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _stripped(col: pd.Series | pd.DataFrame) -> list[str] | None:
    """The column's cells stripped when every cell is a str (nothing to fill or convert)."""
    if isinstance(col, pd.Series) and (col.dtype == object
                                       or isinstance(col.dtype, pd.StringDtype)):
        values = col.to_numpy(dtype=object)
        if infer_dtype(values, skipna=False) == "string":
            return [v.strip() for v in values]
    return None


def _texts(frame: pd.DataFrame, name: str) -> npt.NDArray[np.object_]:
    """The values of ``_col(frame, name)`` as an object array."""
    stripped = _stripped(frame[name]) if name in frame.columns else None
    if stripped is None:
        return _col(frame, name).to_numpy(dtype=object)
    out = np.empty(len(stripped), dtype=object)
    out[:] = stripped
    return out


def _int_col(frame: pd.DataFrame, name: str, default: int) -> I64:
    raw = _col(frame, name)
    if default >= 0 and not (raw != "").any():  # nothing given: everyone has the default
        return np.full(len(raw), default, dtype=np.int64)
    vals = pd.to_numeric(raw.where(raw != "", str(default)), errors="coerce")
    if vals.isna().any():
        bad = raw[vals.isna()].iloc[0]
        raise InfeasibleError(f"inspectors file: {name} {bad!r} is not a whole number; "
                              f"fix the file and freeze again")
    out = vals.to_numpy(dtype=np.int64)
    if np.any(out < 0):
        raise InfeasibleError(f"inspectors file: {name} must not be negative")
    return out


def _firms(inspections: pd.DataFrame) -> pd.DataFrame:
    """uscc, name, district, city (stripped text), one row per firm, sorted by uscc."""
    if "uscc" not in inspections.columns:
        raise ValueError("inspections needs a uscc column")
    cols = {c: _texts(inspections, c) for c in ("uscc", "name", "district", "city")}
    uscc = cols["uscc"]
    if len(set(uscc.tolist())) != uscc.size:
        seen = pd.Series(uscc, dtype=object)
        dup = seen[seen.duplicated()].iloc[0]
        raise ValueError(f"inspection of {dup} listed twice")
    order = np.argsort(uscc, kind="stable")  # as sort_values(kind="stable") orders text
    return pd.DataFrame({c: pd.array(v[order], dtype=_STR) for c, v in cols.items()})


def _inspectors(inspectors: pd.DataFrame, rules: InspectionRules) -> pd.DataFrame:
    """badge, district, city, cap, daily of the active inspectors, sorted by badge."""
    active = _texts(inspectors, "active")
    cols: dict[str, npt.NDArray[Any]] = {
        "badge": _texts(inspectors, "badge"), "district": _texts(inspectors, "district"),
        "city": _texts(inspectors, "city"),
        "cap": _int_col(inspectors, "capacity", rules.default_capacity),
        "daily": _int_col(inspectors, "daily_capacity", rules.default_daily_capacity)}
    keep = np.flatnonzero((active == "yes") | (active == ""))
    order = keep[np.argsort(cols["badge"][keep], kind="stable")]
    return pd.DataFrame({c: v[order] if v.dtype != object else pd.array(v[order], dtype=_STR)
                         for c, v in cols.items()})


def _availability(badges: npt.NDArray[np.object_], leave: pd.DataFrame, days: list[date]
                  ) -> npt.NDArray[np.bool_]:
    n, d = badges.size, len(days)
    cover = np.zeros((n, d + 1), dtype=np.int64)
    if len(leave) and n and d:
        pos = pd.Index(badges).get_indexer(pd.Index(_texts(leave, "badge")))
        iso = np.array([x.isoformat() for x in days])
        start = np.searchsorted(iso, _texts(leave, "start").astype(str), side="left")
        end = np.searchsorted(iso, _texts(leave, "end").astype(str), side="right")
        ok = (pos >= 0) & (start < end)
        np.add.at(cover, (pos[ok], start[ok]), 1)
        np.subtract.at(cover, (pos[ok], end[ok]), 1)
    return np.cumsum(cover, axis=1)[:, :d] == 0


def _ranges(lo: I64, hi: I64) -> tuple[I64, I64]:
    """(owner, value) for every value in [lo[k], hi[k]) of every k."""
    cnt = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(lo.size, dtype=np.int64), cnt)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
    return owner, np.arange(int(cnt.sum()), dtype=np.int64) + starts


def _pairs(firms: pd.DataFrame, insp: pd.DataFrame, cross: bool) -> tuple[I64, I64]:
    """Jurisdiction pairs (firm, inspector): same city, own district or city-level unit.

    With ``cross`` a district branch covers the other districts of its city
    and never its own; city-level units cover every district either way.
    Sorted by (firm, inspector).
    """
    city_level = insp["district"].isin(ALL_DISTRICTS).to_numpy()
    fc = firms["city"].to_numpy(dtype=object)
    fd = firms["district"].to_numpy(dtype=object)
    ic = insp["city"].to_numpy(dtype=object)
    idist = np.where(city_level, "", insp["district"].to_numpy(dtype=object))
    names = set(fc.tolist()) | set(fd.tolist()) | set(ic.tolist()) | set(idist.tolist())
    if any("\x00" in x or "\x01" in x for x in names):  # the separators of the text keys
        return _pairs_by_text(firms, insp, cross, city_level)
    # integer keys (city, level, district) whose order is the names' order; each
    # inspector block (city; city-level first, then by district) is one range
    city, _ = pd.factorize(np.concatenate([fc, ic]), sort=True)
    dist, names_d = pd.factorize(np.concatenate([fd, idist]), sort=True)
    n_f, n_i = fc.size, ic.size
    nd = max(names_d.size, 1)
    ikey = (city[n_f:] * 2 + np.where(city_level, 0, 1)) * nd + np.where(city_level, 0,
                                                                         dist[n_f:])
    perm = np.argsort(ikey, kind="stable")  # ties by inspector index, as below
    keys = ikey[perm]
    base = city[:n_f] * 2 * nd
    c_lo = np.searchsorted(keys, base, "left")
    c_hi = np.searchsorted(keys, base + nd, "left")
    d_lo = np.searchsorted(keys, base + nd + dist[:n_f], "left")
    d_hi = np.searchsorted(keys, base + nd + dist[:n_f], "right")
    spans = [(c_lo, c_hi)]
    if not cross:
        spans.append((d_lo, d_hi))
    else:
        spans += [(c_hi, d_lo), (d_hi, np.searchsorted(keys, base + 2 * nd, "left"))]
    owners, values = zip(*(_ranges(lo.astype(np.int64), hi.astype(np.int64))
                           for lo, hi in spans), strict=True)
    pf = np.concatenate(owners)
    pj = perm[np.concatenate(values)].astype(np.int64)
    order = np.argsort(pf * max(n_i, 1) + pj, kind="stable")
    return pf[order], pj[order]


def _pairs_by_text(firms: pd.DataFrame, insp: pd.DataFrame, cross: bool,
                   city_level: npt.NDArray[np.bool_]) -> tuple[I64, I64]:
    """:func:`_pairs` on text keys (names with control characters)."""
    # order inspectors by (city, city-level first, district) so each group is one block
    grp = pd.DataFrame({"city": insp["city"], "lvl": np.where(city_level, 0, 1),
                        "district": np.where(city_level, "", insp["district"]),
                        "j": np.arange(len(insp))})
    grp = grp.sort_values(["city", "lvl", "district", "j"], kind="stable")
    keys_city = grp["city"].to_numpy(dtype=str)
    keys_cd = (grp["city"] + "\x01" + grp["lvl"].astype(str) + "\x01"
               + grp["district"]).to_numpy(dtype=str)
    perm = grp["j"].to_numpy(dtype=np.int64)

    fc = firms["city"].to_numpy(dtype=str)
    lvl0 = np.char.add(fc, "\x010\x01")
    dkey = np.char.add(np.char.add(fc, "\x011\x01"), firms["district"].to_numpy(dtype=str))
    c_lo = np.searchsorted(keys_cd, lvl0, "left")
    c_hi = np.searchsorted(keys_cd, lvl0, "right")
    owners = []
    values = []
    o, v = _ranges(c_lo, c_hi)
    owners.append(o)
    values.append(v)
    d_lo = np.searchsorted(keys_cd, dkey, "left")
    d_hi = np.searchsorted(keys_cd, dkey, "right")
    if not cross:
        o, v = _ranges(d_lo, d_hi)
        owners.append(o)
        values.append(v)
    else:
        city_hi = np.searchsorted(keys_city, fc, "right")
        for lo, hi in ((c_hi, d_lo), (d_hi, city_hi)):
            o, v = _ranges(lo, hi)
            owners.append(o)
            values.append(v)
    pf = np.concatenate(owners)
    pj = perm[np.concatenate(values)]
    # sort by (firm, inspector): one key (pairs are distinct), far faster than lexsort
    order = np.argsort(pf * max(len(insp), 1) + pj, kind="stable")
    return pf[order], pj[order]


def _equal_keys(keys: npt.NDArray[np.object_], probe: npt.NDArray[np.object_]
                ) -> tuple[I64, I64]:
    """Every (probe index, key index) with ``probe[p] == keys[k]`` (an inner join)."""
    codes, _ = pd.factorize(np.concatenate([keys, probe]))
    kc, pc = codes[: keys.size], codes[keys.size:]
    order = np.argsort(kc, kind="stable")
    sk = kc[order]
    row, at = _ranges(np.searchsorted(sk, pc, "left").astype(np.int64),
                      np.searchsorted(sk, pc, "right").astype(np.int64))
    return row, order[at].astype(np.int64)


def _excluded_pairs(firms: pd.DataFrame, insp: pd.DataFrame, conflicts: pd.DataFrame,
                    history: pd.DataFrame, previous_teams: pd.DataFrame | None,
                    rules: InspectionRules, period_start: str) -> I64:
    """Codes ``firm * n_inspectors + inspector`` of pairs barred by conflicts or the last team."""
    n_i = len(insp)
    badge_pos = pd.Index(insp["badge"])
    codes: list[I64] = []
    if len(conflicts):
        until = _texts(conflicts, "until")
        live = (until == "") | (until >= period_start)
        person = badge_pos.get_indexer(pd.Index(_texts(conflicts, "person")[live]))
        counterpart = _texts(conflicts, "counterpart")[live]
        keep = person >= 0
        if keep.any():
            # the counterpart is a firm's USCC or its (non-empty) name
            uscc = firms["uscc"].to_numpy(dtype=object)
            name = firms["name"].to_numpy(dtype=object)
            named = np.flatnonzero(name != "")
            keys = np.concatenate([uscc, name[named]])
            key_f = np.concatenate([np.arange(uscc.size, dtype=np.int64), named])
            row, f = _equal_keys(keys, counterpart[keep])
            codes.append(key_f[f] * n_i + person[keep][row].astype(np.int64))
    if rules.avoid_last_inspector and previous_teams is not None and len(previous_teams):
        prev = pd.DataFrame({"uscc": _col(previous_teams, "uscc"),
                             "badge": _col(previous_teams, "badge"),
                             "date": _col(previous_teams, "date")})
        last = prev.groupby("uscc")["date"].transform("max")
        prev = prev[prev["date"] == last]
        if len(history):
            hist = pd.DataFrame({"uscc": _col(history, "uscc"), "date": _col(history, "date")})
            hist = hist[(hist["date"] != "") & (hist["date"] < period_start)]
            latest = hist.groupby("uscc")["date"].max()
            known = prev["uscc"].map(latest).fillna("")
            # a later inspection whose team we do not know: nothing to avoid
            prev = prev[(prev["date"] == "") | (known <= prev["date"])]
        f = pd.Index(firms["uscc"]).get_indexer(pd.Index(prev["uscc"]))
        j = badge_pos.get_indexer(pd.Index(prev["badge"]))
        ok = (f >= 0) & (j >= 0)
        codes.append(f[ok].astype(np.int64) * n_i + j[ok])
    if not codes:
        return np.zeros(0, dtype=np.int64)
    return distinct(np.concatenate(codes))


def _prepare(inspections: pd.DataFrame, inspectors: pd.DataFrame, leave: pd.DataFrame,
             conflicts: pd.DataFrame, history: pd.DataFrame, working_days: Sequence[date],
             rules: InspectionRules, previous_teams: pd.DataFrame | None,
             period_start: date | None) -> _Instance:
    days = sorted(set(working_days))
    if not days:
        raise InfeasibleError("The period has no working day. Check the calendar in rules.toml.")
    firms = _firms(inspections)
    insp = _inspectors(inspectors, rules)
    start = (period_start or days[0]).isoformat()
    pf, pj = _pairs(firms, insp, rules.cross_district)
    barred = _excluded_pairs(firms, insp, conflicts, history, previous_teams, rules, start)
    if barred.size:
        # the pair codes increase (pairs are sorted and distinct): find each barred code
        code = pf * len(insp) + pj
        at = np.searchsorted(code, barred)
        hit = at[at < code.size]
        keep = np.ones(code.size, dtype=bool)
        keep[hit[code[hit] == barred[: hit.size]]] = False
        pf, pj = pf[keep], pj[keep]
    return _Instance(
        uscc=firms["uscc"].to_numpy(dtype=object), fname=firms["name"].to_numpy(dtype=object),
        fdistrict=firms["district"].to_numpy(dtype=object),
        fcity=firms["city"].to_numpy(dtype=object),
        badge=insp["badge"].to_numpy(dtype=object),
        idistrict=insp["district"].to_numpy(dtype=object),
        icity=insp["city"].to_numpy(dtype=object),
        cap=insp["cap"].to_numpy(dtype=np.int64), daily=insp["daily"].to_numpy(dtype=np.int64),
        avail=_availability(insp["badge"].to_numpy(dtype=object), leave, days), days=days,
        pair_f=pf, pair_j=pj, team_size=rules.team_size)


# --- messages -------------------------------------------------------------------


def _where(inst: _Instance, f: int) -> str:
    city = f"{inst.fcity[f]} " if inst.fcity[f] else ""
    return f"{city}{inst.fdistrict[f]}"


def _firm(inst: _Instance, f: int) -> str:
    name = f"{inst.fname[f]} " if inst.fname[f] else ""
    return f"{name}({inst.uscc[f]}, {_where(inst, f)})"


def _caps(values: I64) -> str:
    if not values.size:
        return "no capacity"
    lo, hi = int(values.min()), int(values.max())
    return f"capacity {lo} each" if lo == hi else f"capacities {lo}-{hi}"


def _check_firms(inst: _Instance, rules: InspectionRules) -> None:
    """Every firm needs team_size eligible inspectors, together available on some day."""
    n_f = inst.uscc.size
    count = np.bincount(inst.pair_f, minlength=n_f)
    short = np.flatnonzero(count < inst.team_size)
    if short.size:
        extra = []
        if rules.cross_district:
            extra.append("not of the firm's own district (cross_district)")
        if rules.avoid_last_inspector:
            extra.append("not in the firm's last team (avoid_last_inspector)")
        lines = []
        for f in short[:5]:
            names = ", ".join(str(b) for b in inst.badge[inst.pair_j[inst.pair_f == f]]) or "none"
            lines.append(f"  {_firm(inst, f)}: {count[f]} eligible inspector(s) ({names})")
        more = f"\n  ... and {short.size - 5} more" if short.size > 5 else ""
        rule = "; ".join(["active", "of the firm's district or a city-level unit of its city",
                          "no declared conflict", *extra])
        raise InfeasibleError(
            f"{short.size} inspection(s) cannot get a team of {inst.team_size}:\n"
            + "\n".join(lines) + more
            + f"\nEligible means: {rule}. Try (1) adding inspectors of that district or a "
            f"city-level unit (2) checking the conflicts file (3) lowering team_size in "
            f"rules.toml")
    # a day on which team_size eligible inspectors are all off leave
    # only firms with fewer than team_size never-on-leave inspectors can fail
    steady: npt.NDArray[np.bool_] = np.asarray(inst.avail.all(axis=1), dtype=bool)
    at_risk = np.flatnonzero(np.bincount(inst.pair_f[steady[inst.pair_j]], minlength=n_f)
                             < inst.team_size)
    sel = np.isin(inst.pair_f, at_risk)
    on_day = np.zeros((at_risk.size, len(inst.days)), dtype=np.int64)
    np.add.at(on_day, np.searchsorted(at_risk, inst.pair_f[sel]),
              inst.avail[inst.pair_j[sel]].astype(np.int64))
    none = at_risk[(on_day >= inst.team_size).sum(axis=1) == 0]
    if none.size:
        lines = [f"  {_firm(inst, f)}" for f in none[:5]]
        raise InfeasibleError(
            f"{none.size} inspection(s) have no working day on which {inst.team_size} of "
            f"their eligible inspectors are all off leave:\n" + "\n".join(lines)
            + "\nTry (1) checking the inspector-leave file (2) adding inspectors to those "
            "districts or to a city-level unit")


def _relaxed_cut(inst: _Instance, firms: I64) -> str | None:
    """Max flow without days; on a shortfall, the binding group from the min cut."""
    ts = inst.team_size
    sel = np.isin(inst.pair_f, firms)
    pf, pj = inst.pair_f[sel], inst.pair_j[sel]
    js = distinct(pj)
    n_f, n_j = firms.size, js.size
    lf = np.searchsorted(firms, pf)
    lj = np.searchsorted(js, pj)
    eff = np.minimum(inst.cap[js], inst.daily[js] * inst.avail[js].sum(axis=1))
    src, snk = n_f + n_j, n_f + n_j + 1
    tails = np.concatenate([np.full(n_f, src), lf, n_f + np.arange(n_j)]).astype(np.int32)
    heads = np.concatenate([np.arange(n_f), n_f + lj, np.full(n_j, snk)]).astype(np.int32)
    caps = np.concatenate([np.full(n_f, ts), np.ones(lf.size, np.int64), eff]).astype(np.int64)
    mf = _maxflow.SimpleMaxFlow()
    mf.add_arcs_with_capacity(tails, heads, caps)
    if mf.solve(src, snk) != mf.OPTIMAL:
        return "the capacity check could not be solved"
    need = ts * n_f
    if mf.optimal_flow() >= need:
        return None
    side = np.asarray(mf.get_source_side_min_cut(), dtype=np.int64)
    sf = np.sort(firms[side[side < n_f]])
    sj = js[side[(side >= n_f) & (side < src)] - n_f]
    lines = []
    frame = pd.DataFrame({"f": sf, "where": [_where(inst, f) for f in sf]})
    for where, group in frame.groupby("where", sort=True):
        gf = group["f"].to_numpy(np.int64)
        gj = distinct(inst.pair_j[np.isin(inst.pair_f, gf)])
        lines.append(f"{where}: {gf.size} inspections need {ts * gf.size} inspector-slots but "
                     f"its {gj.size} eligible inspectors have {int(eff_of(inst, gj).sum())} "
                     f"({_caps(eff_of(inst, gj))})")
    total = (f"Together: {sf.size} inspections need {ts * sf.size} inspector-slots; the "
             f"{sj.size} inspectors they can use have {int(eff_of(inst, sj).sum())} "
             f"(after other districts' needs)." if len(lines) > 1 else "")
    binding = "period" if np.all(inst.cap[sj] <= inst.daily[sj] * inst.avail[sj].sum(axis=1)) \
        else "period or daily (with leave)"
    return "\n".join(lines + ([total] if total else [])
                     + [f"The {binding} capacity binds. {_FIX_HINT}."])


def eff_of(inst: _Instance, js: I64) -> I64:
    return np.minimum(inst.cap[js], inst.daily[js] * inst.avail[js].sum(axis=1))


# --- dates ----------------------------------------------------------------------


_OFFSET_BITS = 20


def _spread_dates(inst: _Instance, seed: str) -> I64:
    """Day index of every firm: systematic spread over the days within (city, district).

    Firms of a group in ticket order under ``seed|teams:dates``; day weights
    ``w_d`` = daily capacity of the group's eligible inspectors available on
    day d; with ``C_d`` the cumulative weights, ``W = C_last``, ``S = 2^20``
    and ``u = floor(key * S / 10^18)`` from the group's ticket key under
    ``seed|teams:date-offset`` (a random start), rank ``r`` of ``n`` goes to
    the first day with ``n * S * C_d > (r * S + u) * W``. So each firm lands on
    day d with probability ``w_d / W`` and the days are evenly filled.
    """
    n_f, n_d = inst.uscc.size, len(inst.days)
    dates = np.zeros(n_f, dtype=np.int64)
    if not n_f:
        return dates
    ids = list(inst.uscc)
    dseed = derived_seed(seed, "teams:dates")
    order = ticket_order(ids, dseed, _keys(ids, dseed))
    rank = np.empty(n_f, dtype=np.int64)
    rank[order] = np.arange(n_f)
    label = np.array([c + "|" + d for c, d in zip(inst.fcity.tolist(), inst.fdistrict.tolist(),
                                                  strict=True)], dtype=str)
    groups, gidx = np.unique(label, return_inverse=True)
    offsets = _keys(groups.tolist(), derived_seed(seed, "teams:date-offset"))
    scale = 1 << _OFFSET_BITS
    rep = np.zeros(groups.size, dtype=np.int64)
    rep[gidx] = np.arange(n_f)  # one firm per group (a group shares its jurisdiction)
    by_group = np.argsort(gidx, kind="stable")
    bounds = np.searchsorted(gidx[by_group], np.arange(groups.size + 1))
    # pairs are sorted by firm: each representative's pairs are one slice
    p_lo = np.searchsorted(inst.pair_f, rep, side="left")
    p_hi = np.searchsorted(inst.pair_f, rep, side="right")
    for g in range(groups.size):
        members = by_group[bounds[g]: bounds[g + 1]]
        members = members[np.argsort(rank[members], kind="stable")]
        js = inst.pair_j[p_lo[g]: p_hi[g]]
        w = (inst.daily[js][:, None] * inst.avail[js]).sum(axis=0).astype(np.int64)
        if w.sum() == 0:
            w = np.ones(n_d, dtype=np.int64)
        cum = np.cumsum(w)
        total = int(cum[-1])
        n = members.size
        u = int(offsets[g]) * scale // 10**18
        pos = (np.arange(n, dtype=np.int64) * scale + u) * total
        dates[members] = np.searchsorted(n * scale * cum, pos, side="right")
    return dates


# --- one component --------------------------------------------------------------


@dataclass
class _Solved:
    used: npt.NDArray[np.bool_]  # per pair of the component
    shortfall: I64  # per firm of the component
    flow: FlowResult


def _solve_component(inst: _Instance, firms: I64, pidx: I64, dates: I64, cost: I64
                     ) -> _Solved:
    """firm -> (inspector, day) -> inspector -> sink, for the firms of one component."""
    ts = inst.team_size
    n_d = len(inst.days)
    pf, pj = inst.pair_f[pidx], inst.pair_j[pidx]
    pd_ = dates[pf]
    valid = inst.avail[pj, pd_]
    # local firm of each pair: pairs are sorted by firm and all belong to ``firms``
    lf = np.repeat(np.arange(firms.size), np.diff(np.append(np.searchsorted(pf, firms),
                                                            pf.size)))
    vj = pj[valid]
    # the component's inspectors (sorted) and each arc's local inspector, without sorting
    seen = np.zeros(inst.badge.size, dtype=bool)
    seen[vj] = True
    js = np.flatnonzero(seen)
    local_j = (np.cumsum(seen) - 1)[vj]
    # an (inspector, day) node only where its daily capacity can bind; cells
    # (local inspector, day) in (inspector, day) order, counted without sorting
    cell = local_j * n_d + pd_[valid]
    count = np.bincount(cell, minlength=js.size * n_d)
    binding_cell = count > np.repeat(inst.daily[js], n_d)
    node_of_cell = np.cumsum(binding_cell) - 1
    k_cell = np.flatnonzero(binding_cell)
    n_f, n_k, n_j = firms.size, k_cell.size, js.size
    sink = n_f + n_k + n_j
    vt = lf[valid]
    via = binding_cell[cell]
    vh = np.where(via, n_f + node_of_cell[cell], n_f + n_k + cell // n_d)
    k_j = js[k_cell // n_d]
    tails = np.concatenate([vt, n_f + np.arange(n_k), n_f + n_k + np.arange(n_j)])
    heads = np.concatenate([vh, n_f + n_k + k_cell // n_d, np.full(n_j, sink)])
    caps = np.concatenate([np.ones(vt.size, np.int64), inst.daily[k_j], inst.cap[js]])
    costs = np.concatenate([cost[pidx][valid], np.zeros(n_k + n_j, np.int64)])
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_f] = ts
    supplies[sink] = -ts * n_f
    # guess: each firm's cheapest arcs (sorted by firm, then cost); pricing proves the rest
    arc_costs = costs[: vt.size]
    inner = np.ones(n_k + n_j, bool)
    res = min_cost_flow(sink + 1, tails, heads, caps, costs, supplies, max_flow=True,
                        candidates=np.concatenate([
                            _cheapest(vt, arc_costs, n_f, _FAST_GUESS_PER_MEMBER * ts), inner]))
    if not (res.optimal and res.unique):  # ties: decided exactly as with the plain guess
        res = min_cost_flow(sink + 1, tails, heads, caps, costs, supplies, max_flow=True,
                            candidates=np.concatenate([
                                _cheapest(vt, arc_costs, n_f, _GUESS_PER_MEMBER * ts), inner]))
    if not res.optimal:
        raise BugError(f"The team assignment solver returned {res.status}; "
                       f"please report this as a bug.")
    used = np.zeros(pidx.size, dtype=bool)
    used[np.flatnonzero(valid)] = res.flow[: vt.size] > 0
    return _Solved(used, res.unrouted[:n_f].copy(), res)


def _cheapest(vt: I64, costs: I64, n_f: int, k: int) -> npt.NDArray[np.bool_]:
    """Each firm's ``k`` cheapest arcs (ties: the earlier arc); ``vt`` (the arc's firm) is sorted.

    The same arcs as ranking every firm's arcs by ``np.lexsort((costs, vt))``.
    """
    m = vt.size
    per_firm = np.bincount(vt, minlength=n_f)
    width = int(per_firm.max()) if m else 0
    if width <= k:
        return np.ones(m, dtype=bool)
    pos = np.arange(m) - (np.cumsum(per_firm) - per_firm)[vt]  # the arc's place in its firm
    if (width < 1 << (63 - COST_BITS) and n_f * width <= 4 * m + 4096
            and costs.min() >= 0 and costs.max() < 1 << COST_BITS):
        # one row per firm: the k-th smallest (cost, place) key, found by partition
        key = costs * width + pos
        flat = np.full(n_f * width, np.iinfo(np.int64).max, dtype=np.int64)
        flat[vt * width + pos] = key
        kth = np.partition(flat.reshape(n_f, width), k - 1, axis=1)[:, k - 1]
        return np.asarray(key <= kth[vt], dtype=bool)
    first = np.lexsort((costs, vt))
    rank = np.empty(m, dtype=np.int64)
    rank[first] = pos  # sorted within each firm: place in the sorted order
    return rank < k


def _redate(inst: _Instance, firms: I64, pidx: I64, dates: I64, cost: I64, solved: _Solved,
            seed: str) -> tuple[I64, I64]:
    """Move short firms to a day where a whole team is still free. Returns (moved, stuck)."""
    ts, n_d = inst.team_size, len(inst.days)
    pf, pj = inst.pair_f[pidx], inst.pair_j[pidx]
    short_local = np.flatnonzero(solved.shortfall > 0)
    short = firms[short_local]
    keep = solved.used & ~np.isin(pf, short)
    day_load = np.zeros((inst.badge.size, n_d), dtype=np.int64)
    np.add.at(day_load, (pj[keep], dates[pf[keep]]), 1)
    period_load = np.bincount(pj[keep], minlength=inst.badge.size)
    rseed = derived_seed(seed, "teams:redate")
    iso = [d.isoformat() for d in inst.days]
    order = short[ticket_order(list(inst.uscc[short]), rseed)]
    moved, stuck = [], []
    for f in order:
        sel = pf == f
        js, cs = pj[sel], cost[pidx][sel]
        keys = ticket_keys([f"{inst.uscc[f]}|{d}" for d in iso], rseed)
        free = (inst.avail[js]
                & (day_load[js] < inst.daily[js][:, None])
                & (period_load[js] < inst.cap[js])[:, None])
        ok_days = np.flatnonzero(free.sum(axis=0) >= ts)
        if not ok_days.size:
            stuck.append(f)
            continue
        day = int(ok_days[np.lexsort((ok_days, keys[ok_days]))][0])
        cand = np.flatnonzero(free[:, day])
        team = cand[np.argsort(cs[cand], kind="stable")[:ts]]
        day_load[js[team], day] += 1
        period_load[js[team]] += 1
        if dates[f] != day:
            moved.append(f)
        dates[f] = day
    return np.array(moved, dtype=np.int64), np.array(stuck, dtype=np.int64)


def _cpsat_dates(inst: _Instance, firms: I64, pidx: I64, dates: I64, stuck: I64,
                 seed: str, time_limit: float, *, free: bool = False) -> str:
    """Dates for the stuck firms with CP-SAT (all teams free).

    The other firms of the component keep their dates, or with ``free`` may
    move too: each such move costs more than all the stuck firms' day ranks
    together, so the fewest firms move (then the smallest ranks). With
    ``free`` the model is the whole problem of the component (days, teams,
    daily and period capacities), so INFEASIBLE means that no plan exists.
    Sets ``dates`` in place and returns the CP-SAT status name.
    """
    ts, n_d = inst.team_size, len(inst.days)
    pf, pj = inst.pair_f[pidx], inst.pair_j[pidx]
    model = cp_model.CpModel()
    stuck = np.asarray(stuck, dtype=np.int64)
    movable = firms if free else stuck
    is_stuck = np.isin(pf, movable)
    stuck_set = set(stuck.tolist())
    penalty = n_d * stuck.size + 1  # one more moved firm outweighs every stuck firm's rank
    day_terms: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    per_j: dict[int, list[cp_model.IntVar]] = {}
    team: dict[int, list[cp_model.IntVar]] = {}
    for a in np.flatnonzero(~is_stuck):
        f, j, d = int(pf[a]), int(pj[a]), int(dates[pf[a]])
        if not inst.avail[j, d]:
            continue
        x = model.new_bool_var("")
        team.setdefault(f, []).append(x)
        day_terms.setdefault((j, d), []).append(x)
        per_j.setdefault(j, []).append(x)
    rseed = derived_seed(seed, "teams:redate")
    objective = []
    choice: dict[int, list[cp_model.IntVar]] = {}
    for f in np.asarray(movable, dtype=np.int64).tolist():
        keys = ticket_keys([f"{inst.uscc[f]}|{d.isoformat()}" for d in inst.days], rseed)
        day_rank = np.empty(n_d, dtype=np.int64)
        day_rank[np.lexsort((np.arange(n_d), keys))] = np.arange(n_d)
        if f not in stuck_set:  # free to move, at a price; staying costs nothing
            day_rank += penalty
            day_rank[dates[f]] = 0
        y = [model.new_bool_var("") for _ in range(n_d)]
        choice[f] = y
        model.add_exactly_one(y)
        if f not in stuck_set:
            model.add_hint(y[int(dates[f])], True)
        js = pj[pf == f]
        for d in range(n_d):
            xs = []
            for j in js[inst.avail[js, d]].tolist():
                x = model.new_bool_var("")
                model.add_implication(x, y[d])
                xs.append(x)
                day_terms.setdefault((j, d), []).append(x)
                per_j.setdefault(j, []).append(x)
            if len(xs) < ts:
                model.add(y[d] == 0)
            else:
                model.add(sum(xs) == ts * y[d])
            objective.append(int(day_rank[d]) * y[d])
    for xs in team.values():
        model.add(sum(xs) == ts)
    for (j, _d), xs in day_terms.items():
        model.add(sum(xs) <= int(inst.daily[j]))
    for j, xs in per_j.items():
        model.add(sum(xs) <= int(inst.cap[j]))
    model.minimize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for f, y in choice.items():
            dates[f] = next(d for d in range(n_d) if solver.boolean_value(y[d]))
    return str(solver.status_name(status))


def _schedule_component(inst: _Instance, firms: I64, pidx: I64, dates: I64, cost: I64,
                        seed: str) -> tuple[_Solved, int, int, bool]:
    """Solve, repair dates, solve again. Returns (solution, rounds, moved, used_cpsat).

    When the greedy repair and the CP-SAT model for the stuck firms' dates
    fail, or the repair does not converge, CP-SAT chooses the dates of all
    the component's firms (complete: it fails only when no plan exists); the
    min-cost flow then fixes the teams on those dates.
    """
    moved_total: set[int] = set()
    used_cpsat = False
    for rounds in range(1, _REPAIR_ROUNDS + 2):
        solved = _solve_component(inst, firms, pidx, dates, cost)
        if not np.any(solved.shortfall):
            return solved, rounds, len(moved_total), used_cpsat
        if rounds > _REPAIR_ROUNDS:
            break
        moved, stuck = _redate(inst, firms, pidx, dates, cost, solved, seed)
        moved_total.update(moved.tolist())
        if stuck.size:
            before = dates.copy()
            _check_capacity(inst, firms)
            status = _solve_stuck_dates(inst, firms, pidx, dates, stuck, seed)
            if status not in ("OPTIMAL", "FEASIBLE"):
                dates[:] = before  # an unsolved model leaves the dates as they were
                _solve_all_dates(inst, firms, pidx, dates, stuck, seed)
            used_cpsat = True
            moved_total.update(np.flatnonzero(before != dates).tolist())
    # the repair did not converge: every firm of the component may move
    short = firms[solved.shortfall > 0]
    before = dates.copy()
    _check_capacity(inst, firms)
    _solve_all_dates(inst, firms, pidx, dates, short, seed)
    moved_total.update(np.flatnonzero(before != dates).tolist())
    solved = _solve_component(inst, firms, pidx, dates, cost)
    if np.any(solved.shortfall):  # CP-SAT found teams on these dates: the flow must too
        raise BugError("internal error: the team flow disagrees with the CP-SAT dates; "
                       "please report this")
    return solved, rounds + 1, len(moved_total), True


def _check_capacity(inst: _Instance, firms: I64) -> None:
    """Raise when even without days the inspectors' capacity is too small (names the cut)."""
    cut = _relaxed_cut(inst, firms)
    if cut is not None:
        raise InfeasibleError("Not enough inspector capacity for the drawn "
                              "inspections.\n" + cut)


def _solve_stuck_dates(inst: _Instance, firms: I64, pidx: I64, dates: I64, stuck: I64,
                       seed: str) -> str:
    return _cpsat_dates(inst, firms, pidx, dates, stuck, seed, CPSAT_TIME_LIMIT)


def _solve_all_dates(inst: _Instance, firms: I64, pidx: I64, dates: I64, stuck: I64,
                     seed: str) -> None:
    """Dates of every firm of the component by CP-SAT, or InfeasibleError when none exist."""
    status = _cpsat_dates(inst, firms, pidx, dates, stuck, seed, CPSAT_TIME_LIMIT, free=True)
    if status not in ("OPTIMAL", "FEASIBLE"):
        if status != "INFEASIBLE":
            status = f"{status}: no plan found within {CPSAT_TIME_LIMIT:g} s"
        raise InfeasibleError(_stuck_message(inst, stuck, status))


def _stuck_message(inst: _Instance, stuck: I64, status: str) -> str:
    lines = []
    for f in stuck[:5]:
        js = inst.pair_j[inst.pair_f == f]
        names = ", ".join(str(b) for b in inst.badge[js][:8])
        lines.append(f"  {_firm(inst, f)}: eligible inspectors {names}"
                     f"{' …' if js.size > 8 else ''} (period {_caps(inst.cap[js])}; "
                     f"daily {_caps(inst.daily[js])})")
    more = f"\n  ... and {stuck.size - 5} more" if stuck.size > 5 else ""
    return (f"No working day has {inst.team_size} free eligible inspectors for "
            f"{stuck.size} inspection(s) ({status}):\n" + "\n".join(lines) + more
            + f"\nTheir inspectors' daily or period capacity is used up on every day they "
            f"are not on leave. {_FIX_HINT}.")


# --- entry points ---------------------------------------------------------------


def _components(inst: _Instance) -> tuple[I64, I64]:
    """Component label of every firm and of every pair (firms and inspectors linked by pairs)."""
    n_f = inst.uscc.size
    from suiji.scheduler.flow import _components as union_find
    root = union_find(n_f + inst.badge.size, inst.pair_f, n_f + inst.pair_j)
    return root[:n_f], root[inst.pair_f]


def _keys(ids: list[str], seed: str) -> npt.NDArray[np.uint64]:
    """``ticket_keys(ids, seed)``, computed as the firm draw does (the same keys, faster)."""
    return pool_tickets(ids, seed)[0]


def _costs(inst: _Instance, seed: str) -> I64:
    kf = _keys(list(inst.uscc), derived_seed(seed, "teams:firms"))
    kj = _keys(list(inst.badge), derived_seed(seed, "teams:inspectors"))
    return pair_costs(kf[inst.pair_f], kj[inst.pair_j])


def schedule(inspections: pd.DataFrame, inspectors: pd.DataFrame, leave: pd.DataFrame,
             conflicts: pd.DataFrame, history: pd.DataFrame, working_days: Sequence[date],
             rules: InspectionRules, seed: str, progress: Progress | None = None, *,
             previous_teams: pd.DataFrame | None = None,
             period_start: date | None = None) -> Schedule:
    """Give every inspection a working day and a team of ``rules.team_size`` inspectors.

    ``inspections``: uscc, name, district, city (may be empty). The other
    frames are the canonical snapshot files (inspectors, inspector-leave,
    conflicts, history). ``previous_teams`` (uscc, badge, optional date) are
    the teams of earlier plans, for ``avoid_last_inspector``. Conflicts whose
    ``until`` lies before ``period_start`` (default: the first working day)
    are ignored. Raises :class:`InfeasibleError` naming what binds.
    """
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    if progress is not None:
        progress.step("排班 eligibility")
    inst = _prepare(inspections, inspectors, leave, conflicts, history, working_days, rules,
                    previous_teams, period_start)
    _check_firms(inst, rules)
    cost = _costs(inst, seed)
    lap("prepare")
    if progress is not None:
        progress.step("排班 dates")
    dates = _spread_dates(inst, seed)
    comp_f, comp_p = _components(inst)
    lap("dates")
    if progress is not None:
        progress.step("排班 teams")
        progress.total = int(distinct(comp_f).size) if comp_f.size else 0
    # group firms and pairs by component (pairs stay sorted by firm, inspector)
    if comp_f.size and comp_f.min() == comp_f.max():  # one component (a city): no sorting
        f_order, p_order = np.arange(comp_f.size), np.arange(comp_p.size)
        labels, f_starts, p_starts = comp_f[:1], np.zeros(1, np.intp), np.zeros(1, np.intp)
    else:
        f_order = np.argsort(comp_f, kind="stable")
        labels, f_starts = np.unique(comp_f[f_order], return_index=True)
        p_order = np.argsort(comp_p, kind="stable")
        p_starts = np.searchsorted(comp_p[p_order], labels)
    f_bounds = np.append(f_starts, f_order.size)
    p_bounds = np.append(p_starts, p_order.size)
    used = np.zeros(inst.pair_f.size, dtype=bool)
    objective = arcs = nodes = moved = tie_breaks = max_rounds = 0
    unique = True
    cpsat = False
    for k in range(labels.size):
        # a stable argsort keeps each component's firms and pairs in increasing order
        firms = f_order[f_bounds[k]: f_bounds[k + 1]]
        pidx = p_order[p_bounds[k]: p_bounds[k + 1]]
        solved, rounds, n_moved, used_cpsat = _schedule_component(
            inst, firms, pidx, dates, cost, seed)
        used[pidx] = solved.used
        fr = solved.flow
        objective += fr.cost
        arcs += fr.arcs
        nodes += fr.nodes
        moved += n_moved
        unique &= fr.unique
        tie_breaks += int(fr.tie_break_rounds > 0)
        max_rounds = max(max_rounds, rounds)
        cpsat |= used_cpsat
        if progress is not None:
            progress.advance()
    lap("teams")
    items = _items(inst, dates, used)
    lap("items")
    stats = SolverStats(status="optimal", method=METHOD + ("+cp-sat-dates" if cpsat else ""),
                        objective=objective, unique=unique, tie_breaks=tie_breaks, arcs=arcs,
                        nodes=nodes, components=int(labels.size), moved=moved,
                        rounds=max_rounds)
    return Schedule(items, stats, MappingProxyType(timings))


def _items(inst: _Instance, dates: I64, used: npt.NDArray[np.bool_]
           ) -> tuple[TeamAssignment, ...]:
    pf, pj = inst.pair_f[used], inst.pair_j[used]  # sorted by firm, then badge
    counts = np.bincount(pf, minlength=inst.uscc.size)
    if np.any(counts != inst.team_size):
        raise BugError("internal error: a team has the wrong size; please report this")
    badges = inst.badge[pj].reshape(-1, inst.team_size).tolist()  # plain lists: fast rows
    iso = [d.isoformat() for d in inst.days]
    return tuple(TeamAssignment(u, iso[d], tuple(bs))  # ids are str (see _col)
                 for u, d, bs in zip(inst.uscc.tolist(), dates.tolist(), badges, strict=True))


def substitute(items: Sequence[TeamAssignment], inspections: pd.DataFrame,
               inspectors: pd.DataFrame, leave: pd.DataFrame, conflicts: pd.DataFrame,
               history: pd.DataFrame, rules: InspectionRules, seed: str, badge: str,
               from_date: date, *, previous_teams: pd.DataFrame | None = None,
               period_start: date | None = None,
               purpose: str | None = None) -> tuple[TeamAssignment, ...]:
    """Replace inspector ``badge`` in every pending inspection (date ≥ ``from_date``).

    Dates and the other members stay; the replacements are one min-cost flow
    (pending inspection -> (inspector, day) -> inspector -> sink) whose arc
    costs are ticket pair costs under ``seed|{purpose}``, with the daily and
    period capacities left over by the rest of the plan. ``purpose`` defaults
    to ``substitute:{badge}:{from_date}`` (``suiji-substitution/1``, whose
    seed depended on the free --from date); ``suiji-substitution/2`` passes
    ``substitute:{badge}``.
    Raises :class:`InfeasibleError` naming an inspection that cannot be covered.
    """
    items = tuple(sorted(items, key=lambda i: i.uscc))
    start = from_date.isoformat()
    hit = [k for k, it in enumerate(items) if badge in it.badges and it.date >= start]
    if not hit:
        return items
    days = sorted({date.fromisoformat(it.date) for it in items})
    inst = _prepare(inspections, inspectors, leave, conflicts, history, days, rules,
                    previous_teams, period_start or days[0])
    f_pos = pd.Index(inst.uscc).get_indexer(pd.Index([it.uscc for it in items]))
    if np.any(f_pos < 0):
        missing = items[int(np.flatnonzero(f_pos < 0)[0])].uscc
        raise ValueError(f"{missing} is in the plan but not in the inspections frame")
    day_pos = {d.isoformat(): k for k, d in enumerate(days)}
    badge_pos = {str(b): k for k, b in enumerate(inst.badge)}
    n_j, n_d = inst.badge.size, len(days)
    day_load = np.zeros((n_j, n_d), dtype=np.int64)
    period_load = np.zeros(n_j, dtype=np.int64)
    hit_set = set(hit)
    for k, it in enumerate(items):
        for b in it.badges:
            if (k in hit_set and b == badge) or b not in badge_pos:
                continue
            day_load[badge_pos[b], day_pos[it.date]] += 1
            period_load[badge_pos[b]] += 1
    firms = f_pos[hit]
    order = np.argsort(firms, kind="stable")
    firms, hit = firms[order], [hit[k] for k in order]
    sel = np.isin(inst.pair_f, firms)
    pf, pj = inst.pair_f[sel], inst.pair_j[sel]
    local = np.searchsorted(firms, pf)
    pday = np.array([day_pos[items[hit[k]].date] for k in local], dtype=np.int64)
    blocked = {(int(f), badge_pos[b]) for f, k in zip(firms, hit, strict=True)
               for b in items[k].badges if b in badge_pos}
    leaving = badge_pos.get(badge, -1)
    ok = (inst.avail[pj, pday] & (pj != leaving)
          & np.array([(int(f), int(j)) not in blocked for f, j in zip(pf, pj, strict=True)],
                     dtype=bool))
    sub_seed = derived_seed(seed, purpose or f"substitute:{badge}:{start}")
    kf = _keys(list(inst.uscc), sub_seed)
    kj = _keys(list(inst.badge), sub_seed)
    local, pj, pday = local[ok], pj[ok], pday[ok]
    cost = pair_costs(kf[pf[ok]], kj[pj])
    jd = pj * n_d + pday
    jd_nodes = distinct(jd)
    js = distinct(pj)
    n_f, n_k, n_u = firms.size, jd_nodes.size, js.size
    sink = n_f + n_k + n_u
    k_j, k_d = jd_nodes // n_d, jd_nodes % n_d
    tails = np.concatenate([local, n_f + np.arange(n_k), n_f + n_k + np.arange(n_u)])
    heads = np.concatenate([n_f + np.searchsorted(jd_nodes, jd),
                            n_f + n_k + np.searchsorted(js, k_j), np.full(n_u, sink)])
    caps = np.concatenate([np.ones(local.size, np.int64),
                           np.maximum(inst.daily[k_j] - day_load[k_j, k_d], 0),
                           np.maximum(inst.cap[js] - period_load[js], 0)])
    costs = np.concatenate([cost, np.zeros(n_k + n_u, np.int64)])
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_f] = 1
    supplies[sink] = -n_f
    res = min_cost_flow(sink + 1, tails, heads, caps, costs, supplies, max_flow=True)
    if not res.optimal:
        raise BugError(f"The substitution solver returned {res.status}; "
                       f"please report this as a bug.")
    short = np.flatnonzero(res.unrouted[:n_f] > 0)
    if short.size:
        lines = [f"  {_firm(inst, int(firms[k]))} on {items[hit[k]].date}" for k in short[:5]]
        raise InfeasibleError(
            f"No replacement for {badge} in {short.size} inspection(s):\n" + "\n".join(lines)
            + "\nNo other eligible inspector is free that day within the daily and period "
            "capacities. Try (1) raising capacity or daily_capacity in the inspectors file "
            "(2) adding inspectors to that district or a city-level unit.")
    chosen = res.flow[: local.size] > 0
    new_member = {int(lf): str(inst.badge[j]) for lf, j in zip(local[chosen], pj[chosen],
                                                               strict=True)}
    out = list(items)
    for lf, k in enumerate(hit):
        it = items[k]
        badges = tuple(sorted([b for b in it.badges if b != badge] + [new_member[lf]]))
        out[k] = TeamAssignment(it.uscc, it.date, badges)
    return tuple(out)
