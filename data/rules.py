"""The rules file: TOML with the defaults of DOMAIN.md §3 and named local presets.

``load_rules`` validates every key and names the first bad one; the rules'
exact text is what a freeze records, so a draw's rules are always known.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from suiji.data.errors import RulesError
from suiji.data.holidays import check_year
from suiji.data.loop_rules import CreditRules, credit_toml, parse_loop_rules
from suiji.data.store import sha256_hex

CATEGORIES = ("key", "general", "special")
QUOTA_MODES = ("ratio", "per_inspector", "annual_all")
# Tasks ([[inspection.tasks]]): where a task comes from, how its sample size is set.
TASK_SOURCES = ("annual", "local_campaign", "national_campaign")
TASK_QUOTAS = ("ratio", "count", "all", "annual_all", "per_inspector")
# The visit kind each task source records (the kinds of imported inspections are
# random, complaint, campaign, case, local_campaign, national_campaign).
SOURCE_KIND = {"annual": "random", "local_campaign": "local_campaign",
               "national_campaign": "national_campaign"}
VISIT_KINDS = ("random", "campaign", "local_campaign", "national_campaign", "complaint", "case")
# Default: double-random and local campaigns count toward the annual cap (an imported
# 专项/campaign of unknown origin is presumed local); national campaigns, complaint
# verifications and cases are recorded but exempt (内蒙古).
DEFAULT_CAP_KINDS = ("random", "campaign", "local_campaign")
DRAWABLE_STATUSES = ("active", "stopped")

# name -> (description, {category: quota table})
PRESETS: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "default": ("DOMAIN.md defaults: key 25%, general 5% per quarter, special once a year", {}),
    "yicheng": ("宜城: 重点≥25%/季度, 一般≥2%/季度, 特殊每年至少1次", {
        "key": {"mode": "ratio", "ratio": 0.25},
        "general": {"mode": "ratio", "ratio": 0.02},
        "special": {"mode": "annual_all"}}),
    "chizhou": ("池州: 重点25%, 一般5%, 特殊15% 每季度", {
        "key": {"mode": "ratio", "ratio": 0.25},
        "general": {"mode": "ratio", "ratio": 0.05},
        "special": {"mode": "ratio", "ratio": 0.15}}),
    "guangzhou": ("广州: 重点≥12.5%, 特殊≥25% 每季度; 一般5%", {
        "key": {"mode": "ratio", "ratio": 0.125},
        "general": {"mode": "ratio", "ratio": 0.05},
        "special": {"mode": "ratio", "ratio": 0.25}}),
    "shenyang": ("沈阳 2023: 默认比例, 加环评复核闭环 (失信记分、重点监督、四方打分)", {}),
}
# Presets whose file spells out the [credit] and [scoring] tables of the review loop
# (every other rules file gets their defaults, suiji.data.loop_rules).
LOOP_PRESETS = ("shenyang",)


# Task presets: the default rules plus a quarter described as [[inspection.tasks]].
_TODAYS_TASKS = """
# 抽查任务 (tasks): `suiji draw tasks` draws them together, one visit per firm.
# matters: ids of the list of matters (suiji import matters); "*" = every listed
# matter that applies to the firm's category and industry.
[[inspection.tasks]]
id = "key"
name = "重点排污单位双随机抽查"
source = "annual"
categories = ["key"]
matters = ["*"]
quota = "ratio"
ratio = 0.25

[[inspection.tasks]]
id = "general"
name = "一般排污单位双随机抽查"
source = "annual"
categories = ["general"]
matters = ["*"]
quota = "ratio"
ratio = 0.05

[[inspection.tasks]]
id = "special"
name = "特殊监管对象双随机抽查"
source = "annual"
categories = ["special"]
matters = ["*"]
quota = "annual_all"
"""

_CAMPAIGN_TASKS = """
# 抽查任务 (tasks): the annual double-random work plus two campaigns, drawn together
# with shared tickets: a firm drawn by several tasks gets one visit for all their matters.
[[inspection.tasks]]
id = "annual"
name = "年度双随机抽查（重点排污单位）"
source = "annual"
categories = ["key"]
matters = ["HB-01", "HB-02", "HB-03"]
quota = "ratio"
ratio = 0.25

[[inspection.tasks]]
id = "vocs"
name = "挥发性有机物治理专项执法（地方专项）"
source = "local_campaign"
industries = ["化工", "石化", "印刷", "涂装", "医药"]
matters = ["HB-06"]
quota = "ratio"
ratio = 0.3
start = "2026-10-08"
end = "2026-11-30"

[[inspection.tasks]]
id = "hazwaste"
name = "危险废物规范化环境管理专项检查（国家部署）"
source = "national_campaign"
categories = ["key", "special"]
matters = ["HB-04", "HB-07"]
quota = "count"
count = 30
start = "2026-11-02"
end = "2026-12-18"
team_size = 3
"""

# name -> (description, task block appended to the default rules)
TASK_PRESETS: dict[str, tuple[str, str]] = {
    "tasks": ("the default plan as three tasks (key 25%, general 5%, special once a year)",
              _TODAYS_TASKS),
    "campaign": ("annual double-random + a local VOCs campaign + a national hazardous-waste "
                 "campaign", _CAMPAIGN_TASKS),
}


@dataclass(frozen=True)
class Quota:
    mode: str = "ratio"
    ratio: float = 0.0
    per_year: float = 0.0  # per_inspector mode: firms per active inspector per year
    min_per_district: int = 0

    def __post_init__(self) -> None:
        if self.mode not in QUOTA_MODES:
            raise RulesError(f"quota mode {self.mode!r} is not one of {', '.join(QUOTA_MODES)}")
        if not 0 <= self.ratio <= 1:
            raise RulesError(f"quota ratio {self.ratio} must be between 0 and 1")
        if self.per_year < 0 or self.min_per_district < 0:
            raise RulesError("quota per_year and min_per_district must not be negative")


@dataclass(frozen=True)
class InspectionTask:
    """One 抽查任务 of the quarter: its population, quota, window, matters and team.

    The population is the company directory filtered by ``categories``,
    ``industries``, ``districts`` and ``statuses`` (empty = any), with firms on the
    positive list left out unless ``positive_list = "include"``; or, with
    ``projects_approved = [first, last]``, the developers (建设单位) of the EIA
    projects approved in those dates, found in the company directory by name.
    ``start`` / ``end`` (ISO dates, empty = the period's first / last day) must
    lie inside the period; ``team_size`` 0 means the rules' ``team_size``.
    """

    id: str
    name: str
    source: str = "annual"
    matters: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("active",)
    positive_list: str = "exclude"
    projects_approved: tuple[str, ...] = ()
    quota: str = "ratio"
    ratio: float = 0.0
    count: int = 0
    per_year: float = 0.0
    start: str = ""
    end: str = ""
    team_size: int = 0

    def __post_init__(self) -> None:
        where = f"inspection.tasks {self.id!r}"
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", self.id):
            raise RulesError(f"inspection.tasks: id {self.id!r} must be 1-40 letters, digits, "
                             f"'-', '_' or '.' (it names the task in the record)")
        if not self.name.strip():
            raise RulesError(f"{where}: name must not be empty")
        if self.source not in TASK_SOURCES:
            raise RulesError(f"{where}: source {self.source!r} is not one of "
                             f"{', '.join(TASK_SOURCES)}")
        if self.quota not in TASK_QUOTAS:
            raise RulesError(f"{where}: quota {self.quota!r} is not one of "
                             f"{', '.join(TASK_QUOTAS)}")
        if not 0 <= self.ratio <= 1:
            raise RulesError(f"{where}: ratio {self.ratio} must be between 0 and 1")
        if self.quota == "ratio" and self.ratio <= 0:
            raise RulesError(f"{where}: quota = \"ratio\" needs a ratio above 0")
        if self.quota == "count" and self.count < 1:
            raise RulesError(f"{where}: quota = \"count\" needs count ≥ 1")
        if self.count < 0 or self.per_year < 0:
            raise RulesError(f"{where}: count and per_year must not be negative")
        if not self.matters:
            raise RulesError(f"{where}: matters must name at least one matter of the list "
                             f"(随机抽查事项清单), e.g. matters = [\"HB-01\"]")
        bad = [c for c in self.categories if c not in CATEGORIES]
        if bad:
            raise RulesError(f"{where}: categories {bad} are not key, general or special")
        bad = [s for s in self.statuses if s not in DRAWABLE_STATUSES]
        if bad or not self.statuses:
            raise RulesError(f"{where}: statuses {list(self.statuses)} must be a non-empty "
                             f"list of {', '.join(DRAWABLE_STATUSES)} (closed, deregistered, "
                             f"moved and bankrupt firms are never drawn)")
        if self.positive_list not in ("exclude", "include"):
            raise RulesError(f"{where}: positive_list must be \"exclude\" or \"include\"")
        for day in (self.start, self.end, *self.projects_approved):
            if day:
                try:
                    date.fromisoformat(day)
                except ValueError as exc:
                    raise RulesError(f"{where}: {day!r} is not a date like 2026-10-01") \
                        from exc
        if self.start and self.end and self.start > self.end:
            raise RulesError(f"{where}: start {self.start} is after end {self.end}")
        if self.projects_approved:
            if len(self.projects_approved) != 2 or \
                    self.projects_approved[0] > self.projects_approved[1]:
                raise RulesError(f"{where}: projects_approved must be [first, last] dates")
            if self.categories or self.industries or self.districts:
                raise RulesError(f"{where}: a population of project developers "
                                 f"(projects_approved) takes no category, industry or "
                                 f"district filter")
        if self.team_size and self.team_size < 2:
            raise RulesError(f"{where}: team_size must be at least 2 (执法人员不得少于两人)")

    @property
    def kind(self) -> str:
        """The visit kind the task records: random, local_campaign or national_campaign."""
        return SOURCE_KIND[self.source]


@dataclass(frozen=True)
class InspectionRules:
    annual_cap: int = 1
    team_size: int = 2
    avoid_last_inspector: bool = False
    cross_district: bool = False
    default_capacity: int = 30
    default_daily_capacity: int = 2
    risk_weighting: bool = False
    quota: dict[str, Quota] = field(default_factory=dict)
    cap_kinds: tuple[str, ...] = DEFAULT_CAP_KINDS
    results_due_days: int = 20
    tasks: tuple[InspectionTask, ...] = ()

    def __post_init__(self) -> None:
        bad = [k for k in self.cap_kinds if k not in VISIT_KINDS]
        if bad:
            raise RulesError(f"inspection.cap_kinds {bad} are not visit kinds "
                             f"({', '.join(VISIT_KINDS)})")
        if self.results_due_days < 1:
            raise RulesError("inspection.results_due_days must be at least 1")
        ids = [t.id for t in self.tasks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise RulesError(f"inspection.tasks: the id {dupes[0]!r} is used twice")
        if self.annual_cap < 1:
            raise RulesError("inspection.annual_cap must be at least 1")
        if self.team_size < 2:
            raise RulesError("inspection.team_size must be at least 2 (执法人员不得少于两人)")
        if self.default_capacity < 1 or self.default_daily_capacity < 1:
            raise RulesError("inspection.default_capacity and default_daily_capacity must be ≥ 1")


@dataclass(frozen=True)
class ReviewRules:
    ratio: float = 0.30
    watch_report_rate: float = 1.0
    high_risk_weight: float = 2.0
    high_risk_industries: tuple[str, ...] = ()
    alternates: int = 2
    max_age: int = 65
    recusal_years: int = 3
    meeting_load_cap: int = 3
    period_load_cap: int = 12
    warning_points: float = 10
    suspension_points: float = 20
    # declines recorded per meeting (each promotes an alternate): a bound on re-rolling a
    # panel one decline at a time; more needs a new panel draw (--redraw --reason)
    max_declines_per_meeting: int = 3
    panel_size: dict[str, int] = field(default_factory=lambda: {"report": 3, "form": 2})
    lead_days: dict[str, int] = field(default_factory=lambda: {"report": 2, "form": 1})
    specialties: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Panels are drawn at most this many days before the meeting (secrecy), ...
    max_lead_days: int = 7
    # ... and an expert is an alternate for at most this many documents of one meeting.
    alternate_cap: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.ratio <= 1:
            raise RulesError("review.ratio must be in (0, 1]")
        if not 0 <= self.watch_report_rate <= 1:
            raise RulesError("review.watch_report_rate must be between 0 and 1")
        if self.high_risk_weight <= 0:
            raise RulesError("review.high_risk_weight must be positive")
        if self.max_declines_per_meeting < 0:
            raise RulesError("review.max_declines_per_meeting must not be negative")
        for t in ("report", "form"):
            if self.panel_size.get(t, 0) < 2:
                raise RulesError(f"review.panel_size.{t} must be at least 2 "
                                 f"(at least two independent scores per document)")
            if self.lead_days.get(t, -1) < 0:
                raise RulesError(f"review.lead_days.{t} must be given and not negative")
            if self.lead_days.get(t, 0) > self.max_lead_days:
                raise RulesError(f"review.lead_days.{t} = {self.lead_days[t]} is more than "
                                 f"review.max_lead_days = {self.max_lead_days}: no day would "
                                 f"be left to draw the panels")
        if self.alternate_cap < 1:
            raise RulesError("review.alternate_cap must be at least 1")

    def specialties_for(self, industry: str) -> tuple[str, ...]:
        return self.specialties.get(industry) or self.specialties.get("*") or (industry,)


_CATEGORY_TASK_NAME = {"key": "重点排污单位双随机抽查", "general": "一般排污单位双随机抽查",
                       "special": "特殊监管对象双随机抽查"}


def quarter_tasks(rules: InspectionRules) -> tuple[InspectionTask, ...]:
    """The quarter's tasks: ``[[inspection.tasks]]``, or, when the rules list none, the
    three tasks their category quotas describe (one per category, every listed matter
    that applies, the whole period, the rules' team size)."""
    if rules.tasks:
        return rules.tasks
    if rules.risk_weighting:
        raise RulesError("A task plan draws simple random samples; risk_weighting = true "
                         "needs `suiji draw inspections` (or list [[inspection.tasks]]).")
    out = []
    for category in CATEGORIES:
        q = rules.quota[category]
        if q.min_per_district:
            raise RulesError(f"inspection.quota.{category}: min_per_district is not part of "
                             f"a task plan; set it to 0 or use `suiji draw inspections`.")
        if q.mode == "ratio" and q.ratio == 0:
            continue
        out.append(InspectionTask(id=category, name=_CATEGORY_TASK_NAME[category],
                                  categories=(category,), matters=("*",), quota=q.mode,
                                  ratio=q.ratio, per_year=q.per_year))
    return tuple(out)


@dataclass(frozen=True)
class ImportRules:
    # A re-import of a directory that would remove more than this share of its current
    # rows is refused unless forced (--allow-removals): a wrong file must not wipe it.
    max_removed_share: float = 0.20

    def __post_init__(self) -> None:
        if not 0 <= self.max_removed_share <= 1:
            raise RulesError("imports.max_removed_share must be between 0 and 1")


@dataclass(frozen=True)
class CalendarYear:
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()


@dataclass(frozen=True)
class Rules:
    text: str
    preset: str
    inspection: InspectionRules
    review: ReviewRules
    calendar: dict[int, CalendarYear]
    imports: ImportRules = field(default_factory=ImportRules)
    credit: CreditRules = field(default_factory=CreditRules)

    @property
    def sha256(self) -> str:
        return sha256_hex(self.text)


def preset_text(name: str = "default") -> str:
    """The full rules file of a preset, ready to write."""
    if name in TASK_PRESETS:
        about, tasks = TASK_PRESETS[name]
        return preset_text("default").replace(
            'preset = "default"', f'preset = "{name}"  # {about}') + tasks
    if name not in PRESETS:
        raise RulesError(f"Unknown preset {name!r}. Presets: "
                         f"{', '.join([*PRESETS, *TASK_PRESETS])}")
    text = resources.files("suiji.data").joinpath("presets/default.toml").read_text("utf-8")
    description, quotas = PRESETS[name]
    text = text.replace('preset = "default"', f'preset = "{name}"  # {description}')
    for category, table in quotas.items():
        block = re.compile(rf"\[inspection\.quota\.{category}\]\n(?:[^\[\n][^\n]*\n)*")
        body = "".join(f"{k} = {_toml_value(v)}\n" for k, v in table.items())
        text = block.sub(f"[inspection.quota.{category}]\n{body}min_per_district = 0\n\n", text)
    if name in LOOP_PRESETS:
        text += credit_toml()
    return text


def _toml_value(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(v)


def _take(table: dict[str, Any], where: str, spec: dict[str, type | tuple[type, ...]]
          ) -> dict[str, Any]:
    out = {}
    for key, value in table.items():
        if key not in spec:
            raise RulesError(f"Unknown key {where}.{key} in the rules file. "
                             f"Known keys: {', '.join(spec)}.")
        want = spec[key]
        if isinstance(value, bool) and want is not bool and bool not in (
                want if isinstance(want, tuple) else (want,)):
            raise RulesError(f"{where}.{key} must be a number, not true/false")
        if not isinstance(value, want):
            names = (want,) if isinstance(want, type) else want
            raise RulesError(f"{where}.{key} = {value!r} has the wrong type; expected "
                             f"{' or '.join(t.__name__ for t in names)}.")
        out[key] = value
    return out


def _date_list(values: Any, where: str) -> tuple[date, ...]:
    if not isinstance(values, list):
        raise RulesError(f"{where} must be a list of dates like \"2027-01-01\"")
    out = []
    for v in values:
        if isinstance(v, date):
            out.append(v)
            continue
        try:
            out.append(date.fromisoformat(str(v)))
        except ValueError as exc:
            raise RulesError(f"{where}: {v!r} is not a date like 2027-01-01") from exc
    return tuple(sorted(out))


def _strings(values: Any, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RulesError(f"{where} must be a list of texts, e.g. [\"a\", \"b\"]")
    return tuple(values)


_TASK_KEYS: dict[str, type | tuple[type, ...]] = {
    "id": str, "name": str, "source": str, "matters": list, "categories": list,
    "industries": list, "districts": list, "statuses": list, "positive_list": str,
    "projects_approved": list, "quota": str, "ratio": (int, float), "count": int,
    "per_year": (int, float), "start": (str, date), "end": (str, date), "team_size": int}


def _tasks(doc: Any) -> tuple[InspectionTask, ...]:
    """The [[inspection.tasks]] tables, each checked (first bad key named)."""
    if not isinstance(doc, list) or not all(isinstance(t, dict) for t in doc):
        raise RulesError("inspection.tasks must be tables: write each task as "
                         "[[inspection.tasks]] followed by its keys")
    out = []
    for n, table in enumerate(doc, start=1):
        where = f"inspection.tasks[{n}]"
        values = _take(table, where, _TASK_KEYS)
        for key in ("id", "name"):
            if key not in values:
                raise RulesError(f"{where} needs {key} = \"...\"")
        for key in ("matters", "categories", "industries", "districts", "statuses",
                    "projects_approved"):
            if key in values:
                values[key] = tuple(str(v) if isinstance(v, date) else v for v in
                                    _strings([str(v) if isinstance(v, date) else v
                                              for v in values[key]], f"{where}.{key}"))
        for key in ("start", "end"):
            if key in values:
                values[key] = str(values[key])
        if "ratio" in values:
            values["ratio"] = float(values["ratio"])
        if "per_year" in values:
            values["per_year"] = float(values["per_year"])
        out.append(InspectionTask(**values))
    return tuple(out)


def parse_rules(text: str, source: str = "rules", *, check_calendar: bool = True) -> Rules:
    """Rules from TOML text. ``check_calendar=False`` skips the holiday checks of
    :func:`suiji.data.holidays.check_year`: only for rules already frozen with a draw,
    which must read as they did when recorded."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source} is not valid TOML: {exc}") from exc
    try:
        return _build(doc, text, check_calendar)
    except RulesError as exc:
        raise RulesError(f"{source}: {exc}") from exc


def _build(doc: dict[str, Any], text: str, check_calendar: bool = True) -> Rules:
    top = _take(doc, "", {"preset": str, "inspection": dict, "review": dict, "calendar": dict,
                          "imports": dict, "credit": dict, "scoring": dict})
    num = (int, float)
    insp = dict(top.get("inspection", {}))
    quota_doc = insp.pop("quota", {})
    tasks_doc = insp.pop("tasks", [])
    insp = _take(insp, "inspection", {
        "annual_cap": int, "team_size": int, "avoid_last_inspector": bool,
        "cross_district": bool, "default_capacity": int, "default_daily_capacity": int,
        "risk_weighting": bool, "cap_kinds": list, "results_due_days": int})
    if "cap_kinds" in insp:
        insp["cap_kinds"] = _strings(insp["cap_kinds"], "inspection.cap_kinds")
    tasks = _tasks(tasks_doc)
    quotas = {}
    for category, table in _take(quota_doc, "inspection.quota",
                                 dict.fromkeys(CATEGORIES, dict)).items():
        q = _take(table, f"inspection.quota.{category}", {
            "mode": str, "ratio": num, "per_year": num, "min_per_district": int})
        try:
            quotas[category] = Quota(**q)
        except RulesError as exc:
            raise RulesError(f"inspection.quota.{category}: {exc}") from exc
    for category in CATEGORIES:
        quotas.setdefault(category, Quota(mode="ratio", ratio=0.0))
    inspection = InspectionRules(**insp, quota=quotas, tasks=tasks)

    rev = dict(top.get("review", {}))
    panel = _take(rev.pop("panel_size", {}), "review.panel_size", {"report": int, "form": int})
    lead = _take(rev.pop("lead_days", {}), "review.lead_days", {"report": int, "form": int})
    spec_doc = rev.pop("specialties", {})
    rev = _take(rev, "review", {
        "ratio": num, "watch_report_rate": num, "high_risk_weight": num,
        "high_risk_industries": list, "alternates": int, "max_age": int, "recusal_years": int,
        "meeting_load_cap": int, "period_load_cap": int, "warning_points": num,
        "suspension_points": num, "max_declines_per_meeting": int, "max_lead_days": int,
        "alternate_cap": int})
    specialties = {}
    for industry, values in spec_doc.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise RulesError(f"review.specialties.{industry} must be a list of specialty names")
        specialties[industry] = tuple(values)
    rev["high_risk_industries"] = tuple(str(v) for v in rev.get("high_risk_industries", ()))
    review = ReviewRules(**rev, panel_size={"report": 3, "form": 2, **panel},
                         lead_days={"report": 2, "form": 1, **lead}, specialties=specialties)

    calendar = {}
    for year, table in top.get("calendar", {}).items():
        if not re.fullmatch(r"\d{4}", str(year)) or not isinstance(table, dict):
            raise RulesError(f"calendar.{year} must be a year table like [calendar.2027]")
        t = _take(table, f"calendar.{year}", {"holidays": list, "workdays": list})
        entry = CalendarYear(
            holidays=_date_list(t.get("holidays", []), f"calendar.{year}.holidays"),
            workdays=_date_list(t.get("workdays", []), f"calendar.{year}.workdays"))
        problems = check_year(int(year), entry.holidays, entry.workdays) if check_calendar \
            else []
        if problems:
            raise RulesError(
                f"calendar.{year} is not a sound holiday arrangement:\n  - "
                + "\n  - ".join(problems)
                + f"\nImport the State Council notice instead of typing it: "
                  f"`suiji calendar import 通知.txt` (国务院办公厅关于{year}年部分节假日安排的"
                  f"通知, pasted as text).")
        calendar[int(year)] = entry
    imports = ImportRules(**_take(top.get("imports", {}), "imports",
                                  {"max_removed_share": num}))
    credit = parse_loop_rules(top.get("credit"), top.get("scoring"))
    return Rules(text=text, preset=str(top.get("preset", "custom")), inspection=inspection,
                 review=review, calendar=calendar, imports=imports, credit=credit)


def load_rules(path: str | Path | None = None) -> Rules:
    """The rules at ``path``; without one, ``./rules.toml`` if present, else the default preset."""
    if path is None:
        candidate = Path("rules.toml")
        if not candidate.exists():
            return parse_rules(preset_text("default"), "built-in default rules")
        path = candidate
    p = Path(path)
    try:
        text = p.read_text("utf-8-sig")
    except FileNotFoundError as exc:
        raise RulesError(f"Rules file {p} not found. Create one with `suiji rules init`.") from exc
    except UnicodeDecodeError as exc:
        raise RulesError(f"Rules file {p} is not UTF-8 text.") from exc
    return parse_rules(text, str(p))


def with_calendar_year(text: str, year: int, table: str, *, replace: bool = False) -> str:
    """The rules text with ``table`` (a ``[calendar.YYYY]`` table, e.g. from
    :meth:`suiji.data.holidays.Arrangement.toml`) added, or put in place of that year's
    table when ``replace``; the result is checked as rules before it is returned."""
    current = parse_rules(text, "the rules file", check_calendar=False)
    if year in current.calendar:
        if not replace:
            raise RulesError(f"The rules file already has [calendar.{year}]. Pass --replace to "
                             f"put the imported notice in its place.")
        block = re.compile(rf"(?m)^(?:# 国务院办公厅关于{year}年[^\n]*\n)?\[calendar\.{year}\]"
                           rf"[^\n]*\n(?:(?!\[)[^\n]*(?:\n|\Z))*")
        found = block.findall(text)
        if len(found) != 1:
            raise RulesError(f"[calendar.{year}] of the rules file is not written as one "
                             f"[calendar.{year}] table; delete it by hand and import again.")
        new = block.sub(lambda m: table + ("\n" if m.group(0).endswith("\n\n") else ""), text)
    else:
        new = text if text.endswith("\n") or not text else text + "\n"
        new += ("\n" if new else "") + table
    parse_rules(new, "the rules file with the imported notice")
    return new
