"""Who may inspect which firm on which day: jurisdiction, recusal, leave (DOMAIN.md §3 rule 5).

:func:`prepare` turns the frames of one scheduling problem into an
:class:`Instance`: the firms sorted by USCC, the active inspectors sorted by
badge with their period and daily capacities, every inspector's availability
per working day (off leave), and the eligible (firm, inspector) pairs. An
inspector may inspect a firm when active, of the same city, of the firm's
district or a city-level unit (``全市``/``all``/``全部``), and not recused: no
declared conflict with the firm's USCC or name (still valid at the period's
start) and, when ``avoid_last_inspector`` is set, not in the firm's last team.
With ``cross_district`` a district branch covers the *other* districts of its
city and never its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.types import infer_dtype

from suiji.data.errors import InfeasibleError
from suiji.data.rules import InspectionRules
from suiji.data.schema import ALL_DISTRICTS
from suiji.scheduler.flow import distinct

I64 = npt.NDArray[np.int64]


@dataclass
class Instance:
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


def recused_pairs(firms: pd.DataFrame, insp: pd.DataFrame, conflicts: pd.DataFrame,
                  history: pd.DataFrame, previous_teams: pd.DataFrame | None,
                  rules: InspectionRules, period_start: str) -> I64:
    """Codes ``firm * n_inspectors + inspector`` of pairs recused by conflicts or the last team."""
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


def prepare(inspections: pd.DataFrame, inspectors: pd.DataFrame, leave: pd.DataFrame,
            conflicts: pd.DataFrame, history: pd.DataFrame, working_days: Sequence[date],
            rules: InspectionRules, previous_teams: pd.DataFrame | None,
            period_start: date | None) -> Instance:
    days = sorted(set(working_days))
    if not days:
        raise InfeasibleError("The period has no working day. Check the calendar in rules.toml.")
    firms = _firms(inspections)
    insp = _inspectors(inspectors, rules)
    start = (period_start or days[0]).isoformat()
    pf, pj = _pairs(firms, insp, rules.cross_district)
    recused = recused_pairs(firms, insp, conflicts, history, previous_teams, rules, start)
    if recused.size:
        # the pair codes increase (pairs are sorted and distinct): find each recused code
        code = pf * len(insp) + pj
        at = np.searchsorted(code, recused)
        hit = at[at < code.size]
        keep = np.ones(code.size, dtype=bool)
        keep[hit[code[hit] == recused[: hit.size]]] = False
        pf, pj = pf[keep], pj[keep]
    return Instance(
        uscc=firms["uscc"].to_numpy(dtype=object), fname=firms["name"].to_numpy(dtype=object),
        fdistrict=firms["district"].to_numpy(dtype=object),
        fcity=firms["city"].to_numpy(dtype=object),
        badge=insp["badge"].to_numpy(dtype=object),
        idistrict=insp["district"].to_numpy(dtype=object),
        icity=insp["city"].to_numpy(dtype=object),
        cap=insp["cap"].to_numpy(dtype=np.int64), daily=insp["daily"].to_numpy(dtype=np.int64),
        avail=_availability(insp["badge"].to_numpy(dtype=object), leave, days), days=days,
        pair_f=pf, pair_j=pj, team_size=rules.team_size)
