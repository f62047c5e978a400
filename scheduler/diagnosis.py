"""Why no plan exists: capacity checks and the infeasibility messages of the team scheduler.

Each check names the binding district, day or inspector group and says what
to change (:class:`~suiji.data.errors.InfeasibleError`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from ortools.graph.python import max_flow as _maxflow

from suiji.data.errors import InfeasibleError
from suiji.data.rules import InspectionRules
from suiji.scheduler.eligibility import I64, Instance
from suiji.scheduler.flow import distinct

_FIX_HINT = ("Try (1) raising capacity or daily_capacity in the inspectors file "
             "(2) adding city-level inspectors (3) lowering the quota in rules.toml")


def _where(inst: Instance, f: int) -> str:
    city = f"{inst.fcity[f]} " if inst.fcity[f] else ""
    return f"{city}{inst.fdistrict[f]}"


def describe_firm(inst: Instance, f: int) -> str:
    name = f"{inst.fname[f]} " if inst.fname[f] else ""
    return f"{name}({inst.uscc[f]}, {_where(inst, f)})"


def _caps(values: I64) -> str:
    if not values.size:
        return "no capacity"
    lo, hi = int(values.min()), int(values.max())
    return f"capacity {lo} each" if lo == hi else f"capacities {lo}-{hi}"


def check_firms(inst: Instance, rules: InspectionRules) -> None:
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
            lines.append(f"  {describe_firm(inst, f)}: {count[f]} eligible inspector(s) ({names})")
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
        lines = [f"  {describe_firm(inst, f)}" for f in none[:5]]
        raise InfeasibleError(
            f"{none.size} inspection(s) have no working day on which {inst.team_size} of "
            f"their eligible inspectors are all off leave:\n" + "\n".join(lines)
            + "\nTry (1) checking the inspector-leave file (2) adding inspectors to those "
            "districts or to a city-level unit")


def _relaxed_cut(inst: Instance, firms: I64) -> str | None:
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


def eff_of(inst: Instance, js: I64) -> I64:
    return np.minimum(inst.cap[js], inst.daily[js] * inst.avail[js].sum(axis=1))


def check_capacity(inst: Instance, firms: I64) -> None:
    """Raise when even without days the inspectors' capacity is too small (names the cut)."""
    cut = _relaxed_cut(inst, firms)
    if cut is not None:
        raise InfeasibleError("Not enough inspector capacity for the drawn "
                              "inspections.\n" + cut)


def stuck_message(inst: Instance, stuck: I64, status: str) -> str:
    lines = []
    for f in stuck[:5]:
        js = inst.pair_j[inst.pair_f == f]
        names = ", ".join(str(b) for b in inst.badge[js][:8])
        lines.append(f"  {describe_firm(inst, f)}: eligible inspectors {names}"
                     f"{' …' if js.size > 8 else ''} (period {_caps(inst.cap[js])}; "
                     f"daily {_caps(inst.daily[js])})")
    more = f"\n  ... and {stuck.size - 5} more" if stuck.size > 5 else ""
    return (f"No working day has {inst.team_size} free eligible inspectors for "
            f"{stuck.size} inspection(s) ({status}):\n" + "\n".join(lines) + more
            + f"\nTheir inspectors' daily or period capacity is used up on every day they "
            f"are not on leave. {_FIX_HINT}.")


def search_message(inst: Instance, short: I64, no_plan: bool, tries: int) -> str:
    """Why the exact date search found no days (ALGORITHM.md, "Teams and dates", step 6)."""
    lines = []
    for f in short[:5]:
        js = inst.pair_j[inst.pair_f == f]
        names = ", ".join(str(b) for b in inst.badge[js][:8])
        lines.append(f"  {describe_firm(inst, f)}: eligible inspectors {names}"
                     f"{' …' if js.size > 8 else ''} (period {_caps(inst.cap[js])}; "
                     f"daily {_caps(inst.daily[js])})")
    more = f"\n  ... and {short.size - 5} more" if short.size > 5 else ""
    if no_plan:
        head = (f"No plan exists: no choice of working days gives every inspection that "
                f"shares these inspectors a team of {inst.team_size} within the daily and "
                f"period capacities (the date search of ALGORITHM.md tried every choice). "
                f"The inspections that found no day:")
    else:
        head = (f"suiji found no working days on which every inspection that shares these "
                f"inspectors gets a team of {inst.team_size}: the date search of ALGORITHM.md "
                f"stopped after {tries} tries (a fixed count, the same on every machine). A "
                f"plan may exist, but a recorded draw's dates are never left to a solver. "
                f"The inspections that found no day:")
    return head + "\n" + "\n".join(lines) + more + f"\n{_FIX_HINT}."

