"""The task plan (``suiji-tasks/1``) as rows, tables and its public notices (一公开).

:func:`task_plan_view` gathers the period's current task plans (the first draw
and any mid-quarter tasks), the matters they inspect with their legal basis (from
the frozen matters list, never from code) and the results per matter.

* The **plan notice** (抽查计划公示), published before the quarter: every task with
  its matters and basis, population size, ratio or headcount, time frame, and the
  issuing authority; no firm is named while its visit is sealed.
* The **results notice** (per task and matter): the visits that have taken place
  (``date < as_of``) with their matters and results, and the counts of 发现问题 /
  责令改正 / 立案 by task and matter.

:func:`render_task_plan` renders either in one format (the public HTML page holds
both notices); :func:`suiji.reports.exports.export_tasks` writes and records it.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from suiji.data.draws import DrawRecord, all_draws, latest_output, latest_output_sha256
from suiji.data.errors import SuijiError
from suiji.data.matter_results import matter_results
from suiji.data.period import Period
from suiji.data.snapshot import load_snapshot
from suiji.data.store import Store
from suiji.reports.notice import CATEGORY_LABEL, OUTCOME_LABEL, PENDING, QUARTER_ZH, is_public
from suiji.reports.writers import (
    Column,
    Rendered,
    Table,
    check_lang,
    esc,
    html_page,
    html_table,
    render_table,
    scrub_personal,
    scrub_table,
    scrub_value,
)

SCOPE = "tasks"
FORMATS = ("json", "csv", "xlsx", "html")
SOURCE_LABEL = {
    "zh": {"annual": "年度双随机抽查", "local_campaign": "地方专项行动",
           "national_campaign": "国家部署专项检查"},
    "en": {"annual": "annual double-random", "local_campaign": "local campaign",
           "national_campaign": "national campaign"},
}
COUNTED = ("no_issue", "issue_found", "ordered_to_correct", "case_opened", "not_carried_out")


@dataclass(frozen=True)
class TaskPlanView:
    """The period's task plans as they stand: draws, tasks, visits, matters and results."""

    period: str
    draws: tuple[DrawRecord, ...]  # current task plans, oldest first
    tasks: tuple[dict[str, Any], ...]  # every drawn task, in draw then rules order
    visits: tuple[dict[str, Any], ...]  # every visit and joined visit, with its draw id
    matters: dict[str, dict[str, str]]  # id -> {"id", "name", "basis", "method"}
    results: dict[tuple[str, str], dict[str, str]]  # (uscc, matter) -> result
    inspector_names: dict[str, str]
    digests: tuple[tuple[int, str, str], ...]  # (draw, snapshot digest, output digest)


def task_plan_view(store: Store, period: Period | str) -> TaskPlanView:
    key = str(period)
    draws = tuple(d for d in all_draws(store, key) if d.scope == SCOPE and d.status == "current")
    if not draws:
        raise SuijiError(f"{key} has no task plan yet. Freeze and draw it first: suiji freeze "
                         f"--period {key} --scope tasks; suiji draw tasks --period {key} "
                         f"--seed ...")
    tasks: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    matters: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    digests = []
    for d in draws:
        out = latest_output(store, d)
        snapshot = load_snapshot(store, d.snapshot_id)
        listed = {str(r.matter_id): {"id": str(r.matter_id), "name": str(r.name),
                                     "basis": str(r.basis), "method": str(r.method)}
                  for r in snapshot.frame("matters.csv").itertuples(index=False)}
        for t in out["tasks"]:
            named = [m for m in t["matters"] if m != "*"]
            matters.update({m: listed[m] for m in named if m in listed})
            tasks.append({**t, "draw": d.id})
        matters.update(out["matters"])
        visits += [{**v, "draw": d.id, "joined": False} for v in out["visits"]]
        visits += [{**v, "draw": d.id, "joined": True, "inspectors": []}
                   for v in out["joined"]]
        frame = snapshot.frame("inspectors.csv")
        names.update(dict(zip(frame["badge"], frame["name"], strict=True)))
        digests.append((d.id, snapshot.digest, latest_output_sha256(store, d)))
    visits.sort(key=lambda v: (str(v["date"]), str(v.get("district", "")), str(v["uscc"])))
    return TaskPlanView(key, draws, tuple(tasks), tuple(visits), matters,
                        matter_results(store, key), names, tuple(digests))


def _matter_text(view: TaskPlanView, ids: list[str], with_basis: bool = True) -> str:
    parts = []
    for m in ids:
        info = view.matters.get(m)
        if info is None:
            parts.append(m)
        elif with_basis:
            parts.append(f"{m} {info['name']}（依据：{info['basis']}；方式：{info['method']}）")
        else:
            parts.append(f"{m} {info['name']}")
    return "；".join(parts)


def _quota_text(t: dict[str, Any], lang: str) -> str:
    rule = t["quota_rule"]
    mode = rule["mode"]
    if mode == "ratio":
        return _t(lang, f"比例 {rule['ratio']:.1%}", f"ratio {rule['ratio']:.1%}")
    if mode == "count":
        return _t(lang, f"定额 {rule['count']} 家", f"{rule['count']} firms")
    if mode == "all":
        return _t(lang, "全部", "all")
    if mode == "annual_all":
        return _t(lang, "全年全覆盖（按剩余季度分摊）", "every firm once a year (spread)")
    return _t(lang, f"每名执法人员每年 {rule.get('per_year', 0)} 家",
              f"{rule.get('per_year', 0)} firms per inspector per year")


def _population_text(t: dict[str, Any], lang: str) -> str:
    p = t["population"]
    if "projects_approved" in p:
        a, b = p["projects_approved"]
        return _t(lang, f"{a} 至 {b} 审批建设项目的建设单位",
                  f"developers of projects approved {a}..{b}")
    cats = "、".join(CATEGORY_LABEL[lang].get(c, c) for c in p["categories"])
    parts = [x for x in (cats, "、".join(p["industries"]), "、".join(p["districts"])) if x]
    base = "，".join(parts) if parts else _t(lang, "全部检查对象", "every firm")
    if p["positive_list"] == "exclude":
        base += _t(lang, "（不含正面清单企业）", " (positive list excluded)")
    return base


def task_table(view: TaskPlanView, lang: str = "zh") -> Table:
    """The plan notice's table: one row per task, no firm named."""
    rows = tuple({
        "no": i, "name": t["name"], "source": SOURCE_LABEL[lang].get(t["source"], t["source"]),
        "matters": _matter_text(view, [m for m in t["matters"] if m != "*"]) or
        _t(lang, "适用于该企业的全部清单事项", "every listed matter that applies"),
        "population": _population_text(t, lang), "eligible": t["eligible"],
        "quota": _quota_text(t, lang), "drawn": t["drawn"],
        "window": f"{t['window'][0]} 至 {t['window'][1]}" if lang == "zh"
        else f"{t['window'][0]}..{t['window'][1]}",
        "cap": _t(lang, "计入年度现场检查次数" if t["counts"] else "不计入（国家部署专项）",
                  "counts toward the cap" if t["counts"] else "exempt (national campaign)"),
    } for i, t in enumerate(view.tasks, start=1))
    return Table("tasks", "抽查任务", "Inspection tasks", (
        Column("no", "序号", "No.", "int"), Column("name", "抽查任务", "Task"),
        Column("source", "任务来源", "Source"),
        Column("matters", "抽查事项及检查依据", "Matters and legal basis"),
        Column("population", "抽查对象范围", "Population"),
        Column("eligible", "对象数量", "Population size", "int"),
        Column("quota", "抽查比例", "Ratio or headcount"),
        Column("drawn", "抽取数量", "Drawn", "int"),
        Column("window", "检查时间", "Time frame"),
        Column("cap", "年度次数", "Annual cap")), rows)


def outcome_counts(view: TaskPlanView, as_of: date, public: bool) -> Table:
    """发现问题 / 责令改正 / 立案 … by task and matter (public: visits that took place)."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for v in view.visits:
        if public and not is_public(v, as_of):
            continue
        for t in v["tasks"]:
            for m in v["task_matters"][t]:
                c = counts.setdefault((t, m), Counter())
                result = view.results.get((str(v["uscc"]), m))
                c[result["outcome"] if result else "pending"] += 1
                c["visits"] += 1
    task_names = {t["id"]: t["name"] for t in view.tasks}
    order = {t["id"]: i for i, t in enumerate(view.tasks)}
    rows = tuple({"task": task_names.get(t, t), "matter": _matter_text(view, [m], False),
                  "visits": c["visits"], **{k: c[k] for k in COUNTED}, "pending": c["pending"]}
                 for (t, m), c in sorted(counts.items(), key=lambda kv: (order.get(kv[0][0], 0),
                                                                         kv[0][1])))
    return Table("results", "检查结果（按任务和事项）", "Results by task and matter", (
        Column("task", "抽查任务", "Task"), Column("matter", "抽查事项", "Matter"),
        Column("visits", "检查日期已到", "Date passed", "int"),
        Column("no_issue", "未发现问题", "No issue", "int"),
        Column("issue_found", "发现问题", "Issue found", "int"),
        Column("ordered_to_correct", "责令改正", "Ordered to correct", "int"),
        Column("case_opened", "立案", "Case opened", "int"),
        Column("not_carried_out", "未实施", "Not carried out", "int"),
        Column("pending", "待录入", "Pending", "int")), rows)


def visit_status(view: TaskPlanView, as_of: date) -> tuple[int, int, int]:
    """(carried out, not carried out, result pending) of the visits whose date has passed.

    A date that has passed is not proof: a visit is carried out only with a recorded
    result of one of its matters saying so, not carried out when every matter's result
    says 未实施, and pending otherwise (as the single plan's notice says 待录入结果)."""
    done = not_done = pending = 0
    for v in view.visits:
        if not is_public(v, as_of):
            continue
        found = [view.results.get((str(v["uscc"]), m)) for m in v["matters"]]
        outcomes = [r["outcome"] for r in found if r]
        if any(o != "not_carried_out" for o in outcomes):
            done += 1
        elif outcomes and len(outcomes) == len(found):
            not_done += 1
        else:
            pending += 1
    return done, not_done, pending


def visit_rows(view: TaskPlanView, public: bool, as_of: date, lang: str = "zh"
               ) -> tuple[list[dict[str, Any]], int]:
    """One row per visit (public: only visits before ``as_of``), and how many stay sealed."""
    check_lang(lang)
    rows, sealed = [], 0
    labels = OUTCOME_LABEL[lang]
    for v in view.visits:
        if public and not is_public(v, as_of):
            sealed += 1
            continue
        results = []
        for m in v["matters"]:
            r = view.results.get((str(v["uscc"]), m))
            results.append(f"{m}: {labels.get(r['outcome'], r['outcome']) if r else PENDING[lang]}")
        badges = [str(b) for b in v.get("inspectors", [])]
        row: dict[str, Any] = {
            "uscc": v["uscc"], "name": v["name"], "district": v.get("district", ""),
            "date": v["date"], "tasks": "、".join(v["tasks"]), "matter_ids": list(v["matters"]),
            "matters": _matter_text(view, list(v["matters"])),
            "inspectors": "、".join(f"{view.inspector_names.get(b, '')}（{b}）" for b in badges),
            "results": "；".join(results)}
        if not public:
            row.update(category=v.get("category", ""), window=" 至 ".join(v.get("window", [])),
                       counts="yes" if v.get("counts") else "no",
                       exempt="yes" if v.get("exempt") else "no", ticket=v.get("ticket", ""),
                       draw=v["draw"], joined="yes" if v["joined"] else "no")
        rows.append(row)
    return rows, sealed


def visit_table(rows: list[dict[str, Any]], public: bool, sealed: int) -> Table:
    columns: tuple[Column, ...] = (
        Column("name", "企业名称", "Firm"), Column("uscc", "统一社会信用代码", "USCC", "uscc"),
        Column("district", "区县", "District"), Column("date", "检查日期", "Date", "date"),
        Column("tasks", "抽查任务", "Tasks"),
        Column("matters", "检查事项及依据", "Matters and basis"),
        Column("inspectors", "执法人员（执法证号）", "Inspectors (badge)"),
        Column("results", "检查结果（按事项）", "Results per matter"))
    if not public:
        columns += (Column("category", "监管类别", "Category"),
                    Column("window", "检查时段", "Window"),
                    Column("counts", "计入年度次数", "Counts toward cap"),
                    Column("exempt", "豁免（国家专项）", "Exempt"),
                    Column("ticket", "随机数", "Ticket"), Column("draw", "抽取记录", "Draw", "int"),
                    Column("joined", "并入已有检查", "Joins an earlier visit"))
    table = Table("visits", "现场检查", "Visits", columns, tuple(rows),
                  f"另有 {sealed} 家检查尚未实施，检查实施前不予公开。" if sealed else "",
                  f"{sealed} visits have not taken place and stay sealed." if sealed else "")
    return scrub_table(table) if public else table


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def render_task_notice(view: TaskPlanView, as_of: date, lang: str = "zh",
                       authority: str = "") -> str:
    """The public page: the plan notice (tasks, matters, basis, sizes, ratios, time frames,
    authority; no firm while sealed) and the results notice per task and matter."""
    check_lang(lang)
    authority = scrub_personal(authority.strip())
    year, quarter = view.period[:4], QUARTER_ZH[view.period[-1]]
    title = _t(lang, f"{authority}{year}年第{quarter}季度“双随机、一公开”抽查计划及结果公示",
               f"{authority + ': ' if authority else ''}Random inspection plan {view.period}: "
               f"tasks, matters and results")
    rows, sealed = visit_rows(view, True, as_of, lang)
    tasks = scrub_table(task_table(view, lang))
    results = scrub_table(outcome_counts(view, as_of, True))
    done, not_done, pending = visit_status(view, as_of)
    intro = _t(
        lang,
        f"按照“双随机、一公开”监管要求，{authority or '本局'}现将{year}年第{quarter}季度随机抽查"
        f"任务、抽查事项及检查依据、抽查比例和时间安排予以公示。同一企业被多项任务抽中的，实施一次"
        f"合并检查。截至 {as_of.isoformat()}，检查日期已到的 {len(rows)} 家列于下表，"
        f"其中已实施检查 {done} 家（已录入检查结果）"
        + (f"，未实施 {not_done} 家" if not_done else "")
        + (f"，待录入结果 {pending} 家" if pending else "")
        + (f"；其余 {sealed} 家检查实施前不予公开。" if sealed else "。"),
        f"{authority or 'The bureau'} publishes the random inspection tasks of {view.period}: "
        f"matters and their legal basis, population sizes, ratios and time frames. A firm drawn "
        f"by several tasks gets one visit for all of them. As of {as_of.isoformat()}, the "
        f"{len(rows)} visits whose date has passed are listed below: {done} carried out (result "
        f"recorded)"
        + (f", {not_done} not carried out" if not_done else "")
        + (f", {pending} with the result pending" if pending else "")
        + (f"; the other {sealed} stay sealed until they take place." if sealed else "."))
    facts = [(f"{_t(lang, '抽取记录', 'Draw')} {d}", f"{_t(lang, '快照', 'snapshot')} {s} · "
              f"{_t(lang, '结果', 'output')} {o}") for d, s, o in view.digests]
    facts.append((_t(lang, "抽取算法", "Algorithm"), "suiji-tasks/1"))
    facts.append((_t(lang, "随机种子", "Seed"), view.draws[0].seed if sealed == 0 else _t(
        lang, "全部检查实施后公布", "published once every visit has taken place")))
    fact_html = "\n".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>"
                          for k, v in facts)
    body = "\n".join([
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">{esc(_t(lang, "公示日期：", "Published: ") + as_of.isoformat())}</p>',
        f"<p>{html.escape(intro)}</p>",
        f"<h2>{html.escape(_t(lang, '一、抽查计划', '1. The plan'))}</h2>",
        html_table(tasks, lang, "tasks", with_title=False),
        f"<h2>{html.escape(_t(lang, '二、检查结果', '2. Results'))}</h2>",
        html_table(results, lang, "results", with_title=False),
        html_table(visit_table(rows, True, sealed), lang, "visits", with_title=False),
        f"<h2>{html.escape(_t(lang, '核验信息', 'Verification'))}</h2>",
        f'<dl class="facts">\n{fact_html}\n</dl>',
    ])
    return html_page(title, body, lang)


def render_task_plan(store: Store, period: Period | str, fmt: str, *, public: bool,
                     as_of: date, lang: str = "zh", authority: str = "",
                     table: str = "visits") -> Rendered:
    """The task plan in one format: ``table`` = ``visits`` (public: only those that took
    place), ``tasks`` (the plan notice's table) or ``results`` (counts by task and matter);
    a public HTML export is the whole notice page."""
    if fmt not in FORMATS:
        raise SuijiError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if table not in ("visits", "tasks", "results"):
        raise SuijiError(f"Unknown table {table!r}; use visits, tasks or results.")
    check_lang(lang)
    view = task_plan_view(store, period)
    rows, sealed = visit_rows(view, public, as_of, lang)
    if public and fmt == "html":
        page = render_task_notice(view, as_of, lang, authority).encode("utf-8")
        rendered = Rendered(page, fmt, len(rows))
    elif table == "visits":
        json_rows = [{k: scrub_value(v, "uscc" if k == "uscc" else "text") for k, v in r.items()}
                     for r in rows] if public else rows
        rendered = render_table(visit_table(rows, public, sealed), fmt, lang, json_rows=json_rows)
    else:
        t = task_table(view, lang) if table == "tasks" else outcome_counts(view, as_of, public)
        t = scrub_table(t) if public else t
        rendered = render_table(t, fmt, lang)
    details = {"draws": [d.id for d in view.draws], "rows": rendered.rows, "sealed": sealed,
               "as_of": as_of.isoformat(), "lang": lang, "format": fmt, "public": public,
               "table": table}
    return Rendered(rendered.data, fmt, rendered.rows, details,
                    {f"output-{d}": o for d, _s, o in view.digests})
