"""Generate the machine-readable test vectors of ALGORITHM.md ("Conformance").

    python tests/vectors/generate.py          # rewrite tests/vectors/*.json
    python tests/vectors/generate.py --check  # exit 1 if a file would change

Each vector is a tiny frozen snapshot (the exact bytes of every frozen file),
a seed and the recorded parameters of one draw, its events, and the expected
outputs as the exact canonical JSON text with its SHA-256. The expected
outputs are computed here by suiji's own pure compute functions; an
implementation in another language reads the files, runs the draw of
ALGORITHM.md and compares bytes. ``tests/vectors/test_vectors.py`` regenerates
every vector in memory and compares it with the files byte for byte.

Deterministic: no clock, no randomness beyond the seeds written below.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from suiji.data.canonical import canonical_csv, frame_csv
from suiji.data.errors import SuijiError
from suiji.data.period import Period
from suiji.data.schema import KINDS
from suiji.data.snapshot import Snapshot, manifest_digest, manifest_for
from suiji.data.store import canonical_json
from suiji.sampler.reviews import compute_sample
from suiji.scheduler.panels import compute_decline, compute_panels, compute_panels_v2
from suiji.scheduler.plan import compute_plan, compute_plan_v3, compute_substitution

FORMAT = "suiji-vector/1"
HERE = Path(__file__).resolve().parent

# --- frozen files ---------------------------------------------------------------------------

DEFAULT_RULES = """\
preset = "default"

[inspection]
annual_cap = 1
team_size = 2
avoid_last_inspector = false
cross_district = false
default_capacity = 30
default_daily_capacity = 2
risk_weighting = false

[inspection.quota.key]
mode = "ratio"
ratio = 0.25
min_per_district = 0

[inspection.quota.general]
mode = "ratio"
ratio = 0.05
min_per_district = 0

[inspection.quota.special]
mode = "annual_all"
min_per_district = 0
"""


def directory(kind: str, rows: list[dict[str, str]]) -> str:
    """The canonical CSV text of a directory kind (missing cells empty)."""
    columns = list(KINDS[kind].column_names)
    frame = pd.DataFrame([{c: r.get(c, "") for c in columns} for r in rows],
                         columns=columns, dtype=object)
    return canonical_csv(KINDS[kind], frame).decode("utf-8")


def derived(columns: list[str], rows: Sequence[tuple[str, ...]]) -> str:
    """A derived frozen file (history, previous teams, calendar, ...): sorted rows."""
    frame = pd.DataFrame(sorted(set(rows)), columns=columns, dtype=object)
    return frame_csv(frame).decode("utf-8")


def calendar(days: list[str]) -> str:
    return derived(["date"], [(d,) for d in days])


def working_days(first: str, last: str) -> list[str]:
    """Monday to Friday between two ISO dates (the vectors' own short calendars)."""
    from datetime import date, timedelta

    d, end, out = date.fromisoformat(first), date.fromisoformat(last), []
    while d <= end:
        if d.weekday() < 5:
            out.append(d.isoformat())
        d += timedelta(days=1)
    return out


def snapshot_of(period: str, scope: str, files: dict[str, str]) -> Snapshot:
    data = {name: text.encode("utf-8") for name, text in sorted(files.items())}
    manifest = manifest_for(Period.parse(period), scope, data)
    return Snapshot(0, period, scope, manifest_digest(manifest), manifest, data)


# --- vectors --------------------------------------------------------------------------------


@dataclass
class Vector:
    name: str
    description: str
    covers: list[str]
    scope: str
    period: str
    files: dict[str, str]
    algorithm: str
    seed: str
    params: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


# What a draw of each id runs: a new plan (/2, or /3 when the date search runs) comes from
# compute_plan_v3; /1 and panels/1 from the functions earlier versions drew them with
# (verification's functions: test_vectors.py checks them too)
COMPUTE: dict[str, Callable[[Snapshot, str, dict[str, Any]], dict[str, Any]]] = {
    "suiji-inspections/1": compute_plan,
    "suiji-inspections/2": compute_plan_v3,
    "suiji-inspections/3": compute_plan_v3,
    "suiji-reviews/1": compute_sample,
    "suiji-panels/1": compute_panels,
    "suiji-panels/2": compute_panels_v2,
}
WINDOW = {"drawn_on": "2026-09-28", "start": "2026-10-01"}  # drawn before the quarter
EVENTS: dict[str, Callable[[Snapshot, str, dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "substitution": compute_substitution,
    "decline": compute_decline,
}


def _expected(text: str) -> dict[str, str]:
    return {"output": text, "output_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def render(v: Vector) -> str:
    """The vector file's text: its inputs, and the outputs suiji computes for them."""
    snap = snapshot_of(v.period, v.scope, v.files)
    doc: dict[str, Any] = {
        "format": FORMAT, "name": v.name, "description": v.description, "covers": v.covers,
        "scope": v.scope, "period": v.period, "files": dict(sorted(v.files.items())),
        "manifest": snap.manifest, "snapshot": snap.digest,
        "draw": {"algorithm": v.algorithm, "seed": v.seed, "params": v.params},
        "events": []}
    try:
        out = COMPUTE[v.algorithm](snap, v.seed, dict(v.params))
    except SuijiError as exc:  # a vector of a refusal: no output, no events
        doc["draw"]["refused"] = type(exc).__name__
        return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if out["algorithm"] != v.algorithm:
        raise ValueError(f"{v.name}: expected {v.algorithm}, computed {out['algorithm']}")
    doc["draw"].update(_expected(canonical_json(out)))
    for kind, params in v.events:
        try:
            out = EVENTS[kind](snap, v.seed, out, dict(params))
        except SuijiError as exc:
            doc["events"].append({"kind": kind, "params": params, "refused": type(exc).__name__})
            continue
        doc["events"].append({"kind": kind, "params": params, **_expected(canonical_json(out))})
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# --- the instances --------------------------------------------------------------------------


def _firm(uscc: str, district: str, category: str = "key", **extra: str) -> dict[str, str]:
    return {"uscc": uscc, "name": f"企业{uscc[-4:]}", "district": district, "city": "江州市",
            "category": category, "industry": extra.pop("industry", "化工"),
            "status": extra.pop("status", "active"), **extra}


def _inspector(badge: str, district: str, **extra: str) -> dict[str, str]:
    return {"badge": badge, "name": f"执法{badge[-3:]}", "unit": f"{district}分局",
            "district": district, "city": "江州市", "active": extra.pop("active", "yes"), **extra}


def _uscc(district: int, n: int) -> str:
    return f"913299{district:02d}MA{n:06d}X"


def inspections_srs() -> Vector:
    firms = [_firm(_uscc(1, i), "东区" if i % 2 else "西区",
                   "key" if i < 12 else ("general" if i < 30 else "special"),
                   status="closed" if i == 3 else "active") for i in range(36)]
    inspectors = ([_inspector(f"JZ1{i:03d}", "东区") for i in range(3)]
                  + [_inspector(f"JZ2{i:03d}", "西区") for i in range(3)]
                  + [_inspector("JZ9001", "全市"), _inspector("JZ9002", "全市", active="")])
    files = {
        "companies.csv": directory("companies", firms),
        "inspectors.csv": directory("inspectors", inspectors),
        "inspector-leave.csv": directory("inspector-leave", [
            {"badge": "JZ1001", "start": "2026-10-12", "end": "2026-10-16"}]),
        "conflicts.csv": directory("conflicts", [
            {"person": "JZ2000", "counterpart": _uscc(1, 4), "reason": "亲属"}]),
        "positive-list.csv": directory("positive-list", [
            {"uscc": _uscc(1, 5), "start": "2026-01-01", "end": "2027-12-31"}]),
        "history.csv": derived(["uscc", "date", "kind", "source"], [
            (_uscc(1, 7), "2026-05-12", "random", "import"),
            (_uscc(1, 8), "2026-06-01", "complaint", "import"),
            (_uscc(1, 31), "2026-03-03", "random", "import")]),
        "previous-teams.csv": derived(["uscc", "badge", "date", "period"], []),
        "calendar.csv": calendar(working_days("2026-10-08", "2026-10-23")),
        "rules.toml": DEFAULT_RULES,
    }
    return Vector(
        "inspections-srs", "Simple random firm strata with every exclusion reason, "
        "annual_all for the special category, dates over a leave, teams with a conflict and "
        "city-level inspectors (one with an empty active cell), drawn on 2026-10-08 so the "
        "dates start on 2026-10-12 (suiji-inspections/2); then a substitution.",
        ["firm SRS", "exclusions", "annual_all quota", "dates", "date window", "teams",
         "substitution"],
        "inspections", "2026Q4", files, "suiji-inspections/2", "80417263950183746251",
        {"drawn_on": "2026-10-08", "start": "2026-10-12"},
        events=[("substitution", {"badge": "JZ9001", "from": "2026-10-14", "n": 1})])


def inspections_pps() -> Vector:
    risks = ["3", "1", "0", "5", "", "1", "6", "2.5", "0.4", "", "7", "1"]
    firms = [_firm(_uscc(2, i), "南区", "key" if i < 12 else "general",
                   risk=risks[i] if i < 12 else str(i % 4))
             for i in range(20)]
    inspectors = [_inspector(f"JZ3{i:03d}", "南区", capacity="4") for i in range(5)]
    rules = DEFAULT_RULES.replace("team_size = 2", "team_size = 3").replace(
        "risk_weighting = false", "risk_weighting = true").replace(
        'mode = "ratio"\nratio = 0.05', 'mode = "ratio"\nratio = 0.2')
    files = {
        "companies.csv": directory("companies", firms),
        "inspectors.csv": directory("inspectors", inspectors),
        "inspector-leave.csv": directory("inspector-leave", []),
        "conflicts.csv": directory("conflicts", []),
        "positive-list.csv": directory("positive-list", []),
        "history.csv": derived(["uscc", "date", "kind", "source"], []),
        "previous-teams.csv": derived(["uscc", "badge", "date", "period"], []),
        "calendar.csv": calendar(working_days("2026-11-02", "2026-11-13")),
        "rules.toml": rules,
    }
    return Vector(
        "inspections-pps", "Risk weighting (PPS) in every stratum with missing, zero and "
        "decimal risks, team size 3, period capacities.",
        ["PPS", "risk weights", "teams of 3"], "inspections", "2026Q4", files,
        "suiji-inspections/1", "31415926535897932384")


def inspections_quotas() -> Vector:
    districts = ["甲区", "乙区", "丙区", "丁区"]
    firms = [_firm(_uscc(3, i), districts[i % 4] if i % 7 else "甲区",
                   "key" if i < 26 else ("general" if i < 50 else "special"))
             for i in range(60)]
    inspectors = [_inspector(f"JZ4{d}{i:02d}", districts[d]) for d in range(4) for i in range(2)]
    inspectors += [_inspector("JZ4900", "全市"), _inspector("JZ4901", "全市", active="no")]
    rules = DEFAULT_RULES.replace(
        '[inspection.quota.key]\nmode = "ratio"\nratio = 0.25\nmin_per_district = 0',
        '[inspection.quota.key]\nmode = "ratio"\nratio = 0.25\nmin_per_district = 1').replace(
        '[inspection.quota.general]\nmode = "ratio"\nratio = 0.05\nmin_per_district = 0',
        '[inspection.quota.general]\nmode = "per_inspector"\nper_year = 6\nmin_per_district = 1')
    files = {
        "companies.csv": directory("companies", firms),
        "inspectors.csv": directory("inspectors", inspectors),
        "inspector-leave.csv": directory("inspector-leave", []),
        "conflicts.csv": directory("conflicts", []),
        "positive-list.csv": directory("positive-list", []),
        "history.csv": derived(["uscc", "date", "kind", "source"], [
            (_uscc(3, 51), "2026-02-10", "random", "import"),
            (_uscc(3, 52), "", "random", "plan:2026Q1")]),
        "previous-teams.csv": derived(["uscc", "badge", "date", "period"], []),
        "calendar.csv": calendar(working_days("2026-10-08", "2026-11-06")),
        "rules.toml": rules,
    }
    return Vector(
        "inspections-quotas", "District minimums (min_per_district = 1) with a ratio quota "
        "and a per_inspector quota (inactive inspectors not counted), annual_all with a dated "
        "and an undated earlier inspection.",
        ["district minimum", "per-inspector quota", "annual_all quota", "dates", "teams"],
        "inspections", "2026Q4", files, "suiji-inspections/1", "27182818284590452353")


def inspections_rules() -> Vector:
    districts = ["东区", "西区", "北区"]
    firms = [_firm(_uscc(4, i), districts[i % 3]) for i in range(24)]
    inspectors = [_inspector(f"JZ5{d}{i:02d}", districts[d]) for d in range(3) for i in range(3)]
    inspectors.append(_inspector("JZ5900", "全市", daily_capacity="1"))
    rules = DEFAULT_RULES.replace("avoid_last_inspector = false", "avoid_last_inspector = true") \
        .replace("cross_district = false", "cross_district = true") \
        .replace("ratio = 0.25", "ratio = 0.5")
    prev = [(_uscc(4, i), f"JZ5{(i + 1) % 3}0{k}", "2026-07-15", "2026Q3")
            for i in range(0, 24, 2) for k in range(2)]
    files = {
        "companies.csv": directory("companies", firms),
        "inspectors.csv": directory("inspectors", inspectors),
        "inspector-leave.csv": directory("inspector-leave", [
            {"badge": "JZ5101", "start": "2026-10-08", "end": "2026-10-09"},
            {"badge": "JZ5200", "start": "2026-10-15", "end": "2026-10-20"}]),
        "conflicts.csv": directory("conflicts", [
            {"person": "JZ5001", "counterpart": f"企业{_uscc(4, 1)[-4:]}", "reason": "曾任职"},
            {"person": "JZ5102", "counterpart": _uscc(4, 2), "reason": "亲属",
             "until": "2026-06-30"}]),
        "positive-list.csv": directory("positive-list", []),
        "history.csv": derived(["uscc", "date", "kind", "source"], [
            (_uscc(4, 0), "2026-08-20", "complaint", "import"),
            (_uscc(4, 2), "2026-07-15", "random", "plan:2026Q3")]),
        "previous-teams.csv": derived(["uscc", "badge", "date", "period"], prev),
        "calendar.csv": calendar(working_days("2026-10-08", "2026-10-23")),
        "rules.toml": rules,
    }
    return Vector(
        "inspections-cross-avoid", "cross_district and avoid_last_inspector (one firm's last "
        "team is superseded by a later complaint inspection), conflicts by name and an expired "
        "one, leave, a city-level inspector with daily capacity 1; then a substitution.",
        ["cross_district", "avoid_last_inspector", "conflicts", "leave", "teams",
         "substitution"],
        "inspections", "2026Q4", files, "suiji-inspections/1", "16180339887498948482",
        events=[("substitution", {"badge": "JZ5900", "from": "2026-10-08", "n": 1})])


def inspections_repair() -> Vector:
    # Two districts without inspectors of their own share two city-level inspectors
    # who take one inspection a day: the first dates collide and the repair moves firms.
    firms = [_firm(_uscc(5, i), "上区" if i % 2 else "下区") for i in range(16)]
    inspectors = [_inspector(f"JZ6{i:03d}", "全市", daily_capacity="1") for i in range(3)]
    files = {
        "companies.csv": directory("companies", firms),
        "inspectors.csv": directory("inspectors", inspectors),
        "inspector-leave.csv": directory("inspector-leave", [
            {"badge": "JZ6002", "start": "2026-10-12", "end": "2026-10-13"}]),
        "conflicts.csv": directory("conflicts", []),
        "positive-list.csv": directory("positive-list", []),
        "history.csv": derived(["uscc", "date", "kind", "source"], []),
        "previous-teams.csv": derived(["uscc", "badge", "date", "period"], []),
        "calendar.csv": calendar(working_days("2026-10-08", "2026-10-14")),
        "rules.toml": DEFAULT_RULES,
    }
    return Vector(
        "inspections-repair", "Tight daily capacities: the first dates of two districts "
        "collide on the shared city-level inspectors, and the specified repair (step 5) moves "
        "the short firms to free days.",
        ["dates", "teams", "repair"], "inspections", "2026Q4", files,
        "suiji-inspections/1", REPAIR_SEED)


REPAIR_SEED = "7"


def _six_firms(count: int, daily: str) -> dict[str, str]:
    """Six firms of one district, three inspectors (B00 barred from the first two), 2 days."""
    firms = [_firm(_uscc(6, k), "甲区") for k in range(count)]
    inspectors = [_inspector(f"JZ80{k}", "甲区", daily_capacity=daily) for k in range(3)]
    return {
        "companies.csv": directory("companies", firms),
        "inspectors.csv": directory("inspectors", inspectors),
        "inspector-leave.csv": directory("inspector-leave", []),
        "conflicts.csv": directory("conflicts", [
            {"person": "JZ800", "counterpart": _uscc(6, k), "reason": "亲属"}
            for k in (0, 1)]),
        "positive-list.csv": directory("positive-list", []),
        "history.csv": derived(["uscc", "date", "kind", "source"], []),
        "previous-teams.csv": derived(["uscc", "badge", "date", "period"], []),
        "calendar.csv": calendar(["2026-11-02", "2026-11-03"]),
        "rules.toml": DEFAULT_RULES.replace("ratio = 0.25", "ratio = 1.0"),
    }


def inspections_search() -> Vector:
    return Vector(
        "inspections-date-search", "The greedy repair fails (the two firms that only JZ801 and "
        "JZ802 may inspect share a day, and no day has both free): the exact date search of "
        "step 6 finds the days, recorded as suiji-inspections/3.",
        ["dates", "teams", "repair", "date search"], "inspections", "2026Q4",
        _six_firms(6, "2"), "suiji-inspections/3", "0", dict(WINDOW))


def inspections_no_plan() -> Vector:
    return Vector(
        "inspections-no-plan", "Three inspectors who take one inspection a day staff one "
        "team of two a day: three firms on two days pass the capacity check (6 slots for 6) "
        "but the exact date search proves that no plan exists; the draw is refused.",
        ["date search", "refusal"], "inspections", "2026Q4", _six_firms(3, "1"),
        "suiji-inspections/3", "0", dict(WINDOW))


def _reviews_files() -> dict[str, str]:
    agencies = [{"uscc": "91320100MA1EXAMP01", "name": "甲环评公司"},
                {"uscc": "91320100MA1EXAMP02", "name": "乙环评公司", "watch": "yes"},
                {"uscc": "91320100MA1EXAMP03", "name": "丙环评公司"}]
    docs = [
        ("HP-01", "report", "91320100MA1EXAMP01", "化工"),
        ("HP-02", "form", "91320100MA1EXAMP01", "食品加工"),
        ("HP-03", "form", "91320100MA1EXAMP01", "食品加工"),
        ("HP-04", "form", "91320100MA1EXAMP01", "精细化工"),
        ("HP-05", "form", "91320100MA1EXAMP01", "食品加工"),
        ("HP-06", "report", "91320100MA1EXAMP02", "化工"),
        ("HP-07", "report", "91320100MA1EXAMP02", "造纸"),
        ("HP-08", "form", "91320100MA1EXAMP02", "食品加工"),
        ("HP-09", "form", "91320100MA1EXAMP02", "食品加工"),
        ("HP-10", "form", "91320100MA1EXAMP03", "造纸"),
        ("HP-11", "form", "91320100MA1EXAMP03", "造纸"),
        ("HP-12", "form", "91320100MA1EXAMP09", "医药"),
        ("HP-13", "form", "91320100MA1EXAMP09", "医药"),
        ("HP-14", "report", "91320100MA1EXAMP03", "化工"),
    ]
    projects = [{"project_id": p, "name": f"{p}项目", "doc_type": t,
                 "approved_on": "2026-11-02" if i != 13 else "2027-01-05", "agency_uscc": a,
                 "developer": f"{p}建设单位", "industry": ind, "district": "东区"}
                for i, (p, t, a, ind) in enumerate(docs)]
    experts = [
        ("ZJ01", "化工、环境工程", "甲环评咨询有限公司", "1970", "yes"),
        ("ZJ02", "化工", "江州大学", "1970", "yes"),
        ("ZJ03", "环境工程;水环境", "江州设计院", "1962", "yes"),
        ("ZJ04", "化工，大气", "江州环科院", "1975", "yes"),
        ("ZJ05", "水环境", "江州监测站", "", "yes"),
        ("ZJ06", "石化 环境工程", "江州石化", "1980", "yes"),
        ("ZJ07", "环境工程", "江州大学", "1958", "yes"),
        ("ZJ08", "医药/化工", "江州药检所", "1985", ""),
        ("ZJ09", "医药|环境工程", "江州医院", "1979", "yes"),
        ("ZJ10", "水环境、环境工程", "乙环评公司", "1983", "yes"),
        ("ZJ11", "环境工程", "江州规划院", "1972", "yes"),
        ("ZJ12", "化工", "江州化工协会", "1968", "yes"),
        ("ZJ13", "造纸", "江州纸业研究所", "1976", "yes"),
    ]
    return {
        "agencies.csv": directory("agencies", agencies),
        "projects.csv": directory("projects", projects),
        "experts.csv": directory("experts", [
            {"expert_id": e, "name": f"专家{e[-2:]}", "specialties": s, "employer": w,
             "birth_year": b, "active": a} for e, s, w, b, a in experts]),
        "employment-history.csv": directory("employment-history", [
            {"expert_id": "ZJ01", "employer": "甲环评公司", "start": "2015-01-01",
             "end": "2024-02-29"},
            {"expert_id": "ZJ11", "employer": "丙环评公司", "start": "2010-01-01",
             "end": "2020-06-30"},
            {"expert_id": "ZJ12", "employer": "ＨＰ－０６建设单位", "start": "2019-01-01"}]),
        "conflicts.csv": directory("conflicts", [
            {"person": "ZJ04", "counterpart": "HP-01建设单位", "reason": "咨询"},
            {"person": "ZJ09", "counterpart": "hp-12", "reason": "参与编制"},
            {"person": "ZJ06", "counterpart": "91320100MA1EXAMP03", "reason": "合作",
             "until": "2026-12-31"}]),
        "review-history.csv": derived(["expert_id", "project_id", "meeting", "source"], [
            ("ZJ02", "HP-06", "2026-09-10", "score")]),
        "expert-points.csv": derived(["expert_id", "year", "points", "scored"], [
            ("ZJ05", "2027", "4", "1"), ("ZJ07", "2026", "20", "2")]),
        "rules.toml": REVIEW_RULES,
    }


REVIEW_RULES = """\
preset = "default"

[review]
ratio = 0.5
watch_report_rate = 1.0
high_risk_weight = 2.0
high_risk_industries = ["化工", "医药"]
alternates = 2
max_age = 65
recusal_years = 3
meeting_load_cap = 3
period_load_cap = 4
warning_points = 10
suspension_points = 20

[review.specialties]
"化工" = ["化工", "石化", "环境工程"]
"精细化工" = ["化工"]
"医药" = ["医药", "化工"]
"造纸" = ["水环境", "环境工程"]
"食品加工" = ["水环境", "环境工程"]
"*" = ["环境工程"]
"""


def reviews() -> Vector:
    return Vector(
        "reviews", "The review sample: a watch stratum with mixed weights (always SRS), "
        "weighted rest strata (PPS), equal-weight strata (SRS), an agency missing from "
        "agencies.csv (note), a document approved outside the period.",
        ["review sample", "watch stratum", "PPS", "SRS"], "reviews", "2026Q4",
        _reviews_files(), "suiji-reviews/1", "27182818284590452353")


def reviews_watch_list() -> Vector:
    files = _reviews_files()
    files["watch-list.csv"] = derived(
        ["agency_uscc", "reasons", "state", "points", "previous_points", "documents",
         "authors"],
        [("91320100MA1EXAMP01", "rectify;high_output", "rectify", "12", "0", "45", "2"),
         ("91320100MA1EXAMP02", "manual", "ok", "0", "0", "4", "1")])
    return Vector(
        "reviews-watch-list", "The review sample of a snapshot with a derived watch list "
        "(watch-list.csv): it replaces the agencies' hand-set flag, so agency 01 gets a watch "
        "stratum, and the output lists the file's rows.",
        ["review sample", "watch stratum", "derived watch list"], "reviews", "2026Q4", files,
        "suiji-reviews/1", "27182818284590452353")


def panels() -> Vector:
    params = {"meeting": "2027-02-26", "drawn_on": "2027-02-20",
              "documents": ["HP-01", "HP-04", "HP-06", "HP-08", "HP-10", "HP-12"],
              "prior": [["ZJ03", "HP-02", "2026-12-01"], ["ZJ11", "HP-10", "2026-12-01"]],
              "declined": ["ZJ10"],
              "same_meeting": [["ZJ06", "HP-90", "2026Q3"]]}
    return Vector(
        "panels", "Expert panels: specialties, age, inactive, suspension, an earlier decline, "
        "recusal by employer (current, within recusal_years, normalised names), declared "
        "conflict (by developer, by project id, expired), earlier review and this period's "
        "earlier panels, load caps across periods; alternates; then a member declines, an "
        "alternate declines, and a repeated decline is refused.",
        ["panels", "recusal", "alternates", "decline"], "reviews", "2026Q4",
        _reviews_files(), "suiji-panels/1", "31415926535897932384", params,
        events=[("decline", {"expert_id": "ZJ03", "reason": "出差"}),
                ("decline", {"expert_id": "ZJ09", "reason": "生病"}),
                ("decline", {"expert_id": "ZJ03", "reason": "again"})])


def panels_v2() -> Vector:
    v = panels()
    files = dict(v.files)
    files["rules.toml"] = REVIEW_RULES.replace("alternates = 2\n",
                                               "alternates = 2\nalternate_cap = 1\n")
    return Vector(
        "panels-v2", "suiji-panels/2 on the panels instance: an expert whose specialty is "
        "the document's industry itself (造纸) qualifies, and alternate_cap = 1 lets an "
        "expert be the alternate of one document only; then the same declines.",
        ["panels", "alternates", "alternate cap", "decline"], "reviews", "2026Q4", files,
        "suiji-panels/2", v.seed, v.params, list(v.events))


VECTORS: tuple[Callable[[], Vector], ...] = (
    inspections_srs, inspections_pps, inspections_quotas, inspections_rules,
    inspections_repair, inspections_search, inspections_no_plan, reviews, reviews_watch_list,
    panels, panels_v2)


def vectors() -> dict[str, str]:
    """File name -> text of every vector."""
    out = {}
    for make in VECTORS:
        v = make()
        out[f"{v.name}.json"] = render(v)
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    changed = []
    for name, text in vectors().items():
        path = HERE / name
        if not path.exists() or path.read_text("utf-8") != text:
            changed.append(name)
            if not check:
                path.write_text(text, "utf-8")
    for name in changed:
        print(("would change: " if check else "wrote: ") + name)
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
