"""The internal quarterly report: one self-contained HTML page with charts, and the same
tables as one XLSX workbook.

Sections: coverage per category and district against quota; exclusions and why;
workload per inspector and per expert; recusals applied; substitutions and
declines; the review sample by agency and industry with inclusion probabilities.
Charts are inline SVG drawn here (a few dozen lines; no charting library and no
script, so the page opens offline, prints, and is archived as one file).
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from suiji.data.draws import DrawRecord, all_draws, current_draw, event_rows, latest_output
from suiji.data.period import Period
from suiji.data.snapshot import Snapshot, load_snapshot
from suiji.data.store import Store
from suiji.reports.notice import CATEGORY_LABEL, DOC_TYPE_LABEL, QUARTER_ZH
from suiji.reports.writers import Column, Table, check_lang, html_page, html_table, to_xlsx

PALETTE = ("#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#76b7b2", "#b07aa1")
REASON_LABEL = {
    "zh": {"status": "非正常经营状态（停产、关闭、注销、迁出）", "positive_list": "正面清单",
           "annual_cap": "已达年度检查次数上限"},
    "en": {"status": "status (stopped, closed, deregistered, moved)",
           "positive_list": "positive list", "annual_cap": "annual cap reached"},
}


# --- charts --------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    color: str = PALETTE[0]


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], *,
              percent: bool = False, width: int = 720) -> str:
    """Horizontal grouped bars as inline SVG, labels on the left, values at bar ends."""
    if not labels or not series:
        return ""
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"series {s.name}: {len(s.values)} values for {len(labels)} labels")
    bar_h, gap, label_w, top = 12, 8, 170, 36
    group_h = bar_h * len(series) + gap
    height = top + group_h * len(labels) + 10
    vmax = max([v for s in series for v in s.values] + [1e-9])
    plot_w = width - label_w - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'font-size="12" aria-label="{html.escape(title)}">',
             f'<text x="0" y="14" font-weight="bold">{html.escape(title)}</text>']
    x = label_w
    for s in series:  # legend
        parts.append(f'<rect x="{x}" y="20" width="10" height="10" fill="{s.color}"/>'
                     f'<text x="{x + 14}" y="29">{html.escape(s.name)}</text>')
        x += 24 + 7 * len(s.name) + (7 * sum(1 for c in s.name if ord(c) > 0x2E80))
    for i, label in enumerate(labels):
        y0 = top + i * group_h
        short = label if len(label) <= 12 else label[:11] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y0 + group_h / 2 + 2:.0f}" '
                     f'text-anchor="end">{html.escape(short)}</text>')
        for j, s in enumerate(series):
            v = s.values[i]
            w = max(plot_w * v / vmax, 0.0)
            y = y0 + j * bar_h
            text = f"{100 * v:.1f}%" if percent else (f"{v:g}" if v == int(v) else f"{v:.2f}")
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{s.color}"><title>{html.escape(label)}: {text}</title></rect>'
                         f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3}">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- the report ----------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    key: str
    title_zh: str
    title_en: str
    tables: tuple[Table, ...] = ()
    charts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    period: str
    lang: str
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def html(self) -> str:
        lang = self.lang
        year, quarter = self.period[:4], QUARTER_ZH[self.period[-1]]
        title = (f"{year}年第{quarter}季度双随机抽查与环评复核内部报告" if lang == "zh"
                 else f"Internal report {self.period}: inspections and EIA reviews")
        toc = "".join(f'<li><a href="#{s.key}">{html.escape(_t(lang, s.title_zh, s.title_en))}'
                      f"</a></li>" for s in self.sections)
        sub = _t(lang, "内部资料，含保密信息，不得公开。",
                 "Internal: contains sealed data, not for publication.")
        body = [f"<h1>{html.escape(title)}</h1>", f'<p class="sub">{html.escape(sub)}</p>',
                f"<nav><ol>{toc}</ol></nav>"]
        for s in self.sections:
            body.append(f'<h2 id="{s.key}">{html.escape(_t(lang, s.title_zh, s.title_en))}</h2>')
            for note in s.notes:
                body.append(f'<p class="note">{html.escape(note)}</p>')
            body.extend(s.charts)
            for t in s.tables:
                body.append(html_table(t, lang, f"{s.key}-{t.name}").replace("<h2>", "<h3>")
                            .replace("</h2>", "</h3>"))
        return html_page(title, "\n".join(body), lang)

    def xlsx(self) -> bytes:
        return to_xlsx(self.tables, self.lang)

    def files(self) -> dict[str, bytes]:
        return {"report.html": self.html().encode("utf-8"), "report.xlsx": self.xlsx()}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _ratio(a: float, b: float) -> float:
    return round(a / b, 4) if b else 0.0


def build_report(store: Store, period: Period | str, lang: str = "zh") -> Report:
    """Gather the period's draws, snapshots and events into the report's sections."""
    check_lang(lang)
    period = str(period)
    notes: list[str] = []
    sections: list[Section] = []
    plan_draw = current_draw(store, period, "inspections")
    if plan_draw is None:
        notes.append(_t(lang, f"{period} 尚无双随机抽查计划。",
                        f"{period} has no inspection plan."))
    else:
        plan = latest_output(store, plan_draw)
        snap = load_snapshot(store, plan_draw.snapshot_id)
        sections += [_coverage(plan, snap, lang), _exclusions(plan, lang),
                     _inspector_load(plan, snap, lang), _inspector_recusals(plan, snap, lang)]
    if any(d.scope == "tasks" and d.status == "current" for d in all_draws(store, period)):
        sections.append(_tasks(store, period, lang))
    panel_draws = [d for d in all_draws(store, period)
                   if d.scope == "panels" and d.status == "current"]
    if panel_draws:
        sections.append(_expert_load(store, panel_draws, lang))
    sections.append(_events(store, period, lang))
    sections.append(_trail(store, period, lang))
    review_draw = current_draw(store, period, "reviews")
    if review_draw is None:
        notes.append(_t(lang, f"{period} 尚无环评复核抽样。", f"{period} has no review sample."))
    else:
        sections.append(_reviews(latest_output(store, review_draw),
                                 load_snapshot(store, review_draw.snapshot_id), lang))
    return Report(period, lang, tuple(sections), tuple(notes))


def _coverage(plan: dict[str, Any], snap: Snapshot, lang: str) -> Section:
    cat_label = CATEGORY_LABEL[lang]
    strata = plan.get("strata", [])
    companies = snap.frame("companies.csv")
    excluded = {(e["uscc"]) for e in plan.get("exclusions", [])}
    drawn = Counter((str(i.get("category")), str(i.get("district"))) for i in plan["items"])
    directory = Counter(zip(companies["category"], companies["district"], strict=True))
    eligible = Counter((c, d) for u, c, d in zip(companies["uscc"], companies["category"],
                                                companies["district"], strict=True)
                       if u not in excluded)
    min_per = {s["category"]: int(s.get("min_per_district", 0) or 0) for s in strata}
    rows = []
    for cat, dist in sorted(set(directory) | set(drawn)):
        n_drawn, n_elig = drawn[(cat, dist)], eligible[(cat, dist)]
        floor = min(min_per.get(cat, 0), n_elig)
        rows.append({"category": cat_label.get(cat, cat), "district": dist,
                     "directory": directory[(cat, dist)], "eligible": n_elig, "drawn": n_drawn,
                     "coverage": _ratio(n_drawn, n_elig), "min_per_district": min_per.get(cat, 0),
                     "met": _t(lang, "是", "yes") if n_drawn >= floor else _t(lang, "否", "no")})
    by_district = Table("coverage", "按类别和区县的覆盖", "Coverage by category and district", (
        Column("category", "监管类别", "Category"), Column("district", "区县", "District"),
        Column("directory", "名录数", "In directory", "int"),
        Column("eligible", "可抽数", "Eligible", "int"),
        Column("drawn", "抽取数", "Drawn", "int"),
        Column("coverage", "覆盖率", "Coverage", "prob"),
        Column("min_per_district", "区县最低数", "Minimum per district", "int"),
        Column("met", "达到区县最低数", "Minimum met")), tuple(rows))
    srows = [{"category": cat_label.get(s["category"], s["category"]),
              "eligible": s.get("eligible", 0), "quota": s.get("quota", 0),
              "drawn": s.get("drawn", 0), "method": s.get("method", ""),
              "coverage": _ratio(s.get("drawn", 0), s.get("eligible", 0)),
              "met": _t(lang, "是", "yes") if s.get("drawn", 0) >= s.get("quota", 0)
              else _t(lang, "否", "no")} for s in strata]
    quota = Table("quota", "各类别抽取数与配额", "Drawn against quota per category", (
        Column("category", "监管类别", "Category"), Column("eligible", "可抽数", "Eligible", "int"),
        Column("quota", "配额", "Quota", "int"), Column("drawn", "抽取数", "Drawn", "int"),
        Column("coverage", "抽取比例", "Share drawn", "prob"),
        Column("method", "抽样方法", "Method"), Column("met", "达到配额", "Quota met")),
        tuple(srows))
    title = _t(lang, "各类别：配额与抽取数", "Quota and drawn per category")
    charts: tuple[str, ...] = (bar_chart(title,
                        [r["category"] for r in srows],
                        [Series(_t(lang, "配额", "quota"),
                                tuple(float(r["quota"]) for r in srows), PALETTE[1]),
                         Series(_t(lang, "抽取", "drawn"),
                                tuple(float(r["drawn"]) for r in srows), PALETTE[0])]),)
    districts = sorted({r["district"] for r in rows})
    if districts:
        share = []
        for dist in districts:
            e = sum(r["eligible"] for r in rows if r["district"] == dist)
            d = sum(r["drawn"] for r in rows if r["district"] == dist)
            share.append(_ratio(d, e))
        charts += (bar_chart(_t(lang, "各区县覆盖率（全部类别）", "Coverage per district"),
                             districts, [Series(_t(lang, "覆盖率", "coverage"), tuple(share),
                                                PALETTE[2])], percent=True),)
    return Section("coverage", "覆盖与配额", "Coverage against quota", (quota, by_district),
                   charts)


def _tasks(store: Store, period: str, lang: str) -> Section:
    """The task plans: tasks with sizes and ratios, and results by task and matter."""
    from suiji.reports.tasks_notice import outcome_counts, task_plan_view, task_table

    view = task_plan_view(store, period)
    visits = sum(1 for v in view.visits if not v["joined"])
    pairs = sum(len(v["tasks"]) for v in view.visits)
    note = _t(lang, f"{len(view.tasks)} 项任务，{pairs} 个企业-任务组合，合并为 {visits} 次"
                    f"现场检查。", f"{len(view.tasks)} tasks, {pairs} firm-task pairs in "
                                 f"{visits} visits.")
    return Section("tasks", "抽查任务与按事项的检查结果", "Tasks and results by matter",
                   (task_table(view, lang), outcome_counts(view, date.max, False)),
                   notes=(note,))


def _exclusions(plan: dict[str, Any], lang: str) -> Section:
    labels = REASON_LABEL[lang]
    counts = plan.get("excluded", {})
    summary = Table("excluded", "排除原因汇总", "Exclusions by reason", (
        Column("reason", "原因", "Reason"), Column("count", "家数", "Firms", "int")),
        tuple({"reason": labels.get(k, k), "count": int(v)} for k, v in sorted(counts.items())))
    cat_label = CATEGORY_LABEL[lang]
    detail = Table("exclusions", "排除明细", "Excluded firms", (
        Column("uscc", "统一社会信用代码", "USCC", "uscc"), Column("name", "企业名称", "Firm"),
        Column("district", "区县", "District"), Column("category", "监管类别", "Category"),
        Column("reason", "原因", "Reason")),
        tuple({**e, "reason": labels.get(e.get("reason", ""), e.get("reason", "")),
               "category": cat_label.get(e.get("category", ""), e.get("category", ""))}
              for e in sorted(plan.get("exclusions", []),
                              key=lambda e: (e.get("reason", ""), e.get("uscc", "")))))
    chart = bar_chart(_t(lang, "排除原因", "Exclusions by reason"),
                      [r["reason"] for r in summary.rows],
                      [Series(_t(lang, "家数", "firms"),
                              tuple(float(r["count"]) for r in summary.rows), PALETTE[3])])
    return Section("exclusions", "排除及原因", "Exclusions and why", (summary, detail),
                   (chart,) if chart else ())


def _inspector_load(plan: dict[str, Any], snap: Snapshot, lang: str) -> Section:
    inspectors = snap.frame("inspectors.csv")
    default_cap = snap.rules.inspection.default_capacity
    load: Counter[str] = Counter()
    days: defaultdict[str, set[str]] = defaultdict(set)
    for item in plan["items"]:
        for b in item.get("inspectors", []):
            load[b] += 1
            days[b].add(str(item.get("date", "")))
    rows = []
    for r in inspectors.itertuples(index=False):
        if r.active != "yes" and not load[r.badge]:
            continue
        cap = int(r.capacity) if str(r.capacity).strip() else default_cap
        rows.append({"badge": r.badge, "name": r.name, "unit": r.unit, "district": r.district,
                     "inspections": load[r.badge], "days": len(days[r.badge]), "capacity": cap,
                     "utilisation": _ratio(load[r.badge], cap)})
    rows.sort(key=lambda r: (-r["inspections"], r["badge"]))
    table = Table("inspectors", "执法人员工作量", "Workload per inspector", (
        Column("badge", "执法证号", "Badge"), Column("name", "姓名", "Name"),
        Column("unit", "所属单位", "Unit"), Column("district", "区县", "District"),
        Column("inspections", "检查数", "Inspections", "int"),
        Column("days", "检查天数", "Days", "int"),
        Column("capacity", "季度上限", "Capacity", "int"),
        Column("utilisation", "负荷率", "Utilisation", "prob")), tuple(rows))
    histogram = Counter(r["inspections"] for r in rows)
    keys = sorted(histogram)
    chart = bar_chart(_t(lang, "工作量分布（人数按检查数）", "Inspectors by number of inspections"),
                      [_t(lang, f"{k} 次", f"{k}") for k in keys],
                      [Series(_t(lang, "人数", "inspectors"),
                              tuple(float(histogram[k]) for k in keys), PALETTE[0])])
    return Section("inspectors", "执法人员工作量", "Inspector workload", (table,),
                   (chart,) if chart else ())


def _inspector_recusals(plan: dict[str, Any], snap: Snapshot, lang: str) -> Section:
    conflicts = snap.frame("conflicts.csv") if "conflicts.csv" in snap.files else None
    inspectors = snap.frame("inspectors.csv")
    names = dict(zip(inspectors["badge"], inspectors["name"], strict=True))
    by_key: dict[str, dict[str, Any]] = {}
    for item in plan["items"]:
        by_key[str(item["uscc"])] = item
        by_key.setdefault(str(item.get("name", "")), item)
    rows = []
    if conflicts is not None:
        for c in conflicts.itertuples(index=False):
            item = by_key.get(str(c.counterpart))
            if item is None or c.person not in names:
                continue
            assigned = c.person in item.get("inspectors", [])
            rows.append({"badge": c.person, "name": names[c.person], "uscc": item["uscc"],
                         "firm": item.get("name", ""), "reason": c.reason, "until": c.until,
                         "applied": _t(lang, "已回避", "recused") if not assigned
                         else _t(lang, "未回避（违规）", "NOT recused")})
    rows.sort(key=lambda r: (r["uscc"], r["badge"]))
    table = Table("recusals", "执法人员回避", "Inspector recusals applied", (
        Column("badge", "执法证号", "Badge"), Column("name", "姓名", "Inspector"),
        Column("uscc", "统一社会信用代码", "USCC", "uscc"), Column("firm", "企业名称", "Firm"),
        Column("reason", "回避原因", "Reason"), Column("until", "截止日期", "Until", "date"),
        Column("applied", "执行情况", "Applied")), tuple(rows),
        "列出与本期检查对象有申报关联的执法人员；均不得被选派。",
        "Inspectors with a declared tie to a drawn firm; none may be assigned to it.")
    return Section("recusals", "回避执行情况", "Recusals applied", (table,))


def _expert_load(store: Store, panel_draws: list[DrawRecord], lang: str) -> Section:
    names: dict[str, str] = {}
    members: Counter[str] = Counter()
    alternates: Counter[str] = Counter()
    meetings: defaultdict[str, set[str]] = defaultdict(set)
    recusal_rows = []
    for d in panel_draws:
        snap = load_snapshot(store, d.snapshot_id)
        if "experts.csv" in snap.files:
            f = snap.frame("experts.csv")
            names.update(zip(f["expert_id"], f["name"], strict=True))
        out = latest_output(store, d)
        for item in out.get("items", []):
            for e in item.get("experts", []):
                members[e] += 1
                meetings[e].add(d.subject)
            for e in item.get("alternates", []):
                alternates[e] += 1
            recusals = item.get("recusals")
            if isinstance(recusals, dict) and any(recusals.values()):
                recusal_rows.append({"meeting": d.subject, "project_id": item["project_id"],
                                     "name": item.get("name", ""),
                                     "eligible": item.get("eligible", ""),
                                     "employer": int(recusals.get("employer", 0)),
                                     "conflict": int(recusals.get("conflict", 0)),
                                     "reviewed": int(recusals.get("reviewed", 0))})
    rows = [{"expert_id": e, "name": names.get(e, ""), "documents": members[e],
             "alternate": alternates[e], "meetings": len(meetings[e])}
            for e in sorted(set(members) | set(alternates),
                            key=lambda e: (-members[e], -alternates[e], e))]
    table = Table("experts", "评审专家工作量", "Workload per expert", (
        Column("expert_id", "专家编号", "Expert"), Column("name", "姓名", "Name"),
        Column("documents", "评审文件数", "Documents", "int"),
        Column("alternate", "替补次数", "As alternate", "int"),
        Column("meetings", "会议数", "Meetings", "int")), tuple(rows))
    tables: tuple[Table, ...] = (table,)
    if recusal_rows:
        tables += (Table("expert_recusals", "评审专家回避（按文件）",
                         "Expert recusals applied per document", (
            Column("meeting", "会议日期", "Meeting", "date"),
            Column("project_id", "项目编号", "Project"), Column("name", "项目名称", "Project name"),
            Column("eligible", "可选专家数", "Eligible experts", "int"),
            Column("employer", "工作单位回避", "Employer (agency or developer)", "int"),
            Column("conflict", "申报关联回避", "Declared tie", "int"),
            Column("reviewed", "曾评审回避", "Reviewed before", "int")), tuple(recusal_rows),
            "各文件因回避规则被排除的专家人数。",
            "Number of experts excluded from each document by the recusal rules."),)
    histogram = Counter(members.values())
    keys = sorted(histogram)
    chart = bar_chart(_t(lang, "专家工作量分布（按评审文件数）", "Experts by documents reviewed"),
                      [_t(lang, f"{k} 份", f"{k}") for k in keys],
                      [Series(_t(lang, "人数", "experts"),
                              tuple(float(histogram[k]) for k in keys), PALETTE[4])])
    return Section("experts", "评审专家工作量", "Expert workload", tables,
                   (chart,) if chart else ())


def _events(store: Store, period: str, lang: str) -> Section:
    rows = []
    for d in all_draws(store, period):
        if d.reason:
            rows.append({"at": d.created_at[:19], "scope": d.scope, "subject": d.subject,
                         "kind": _t(lang, "重新抽取", "redraw"), "draw": d.id,
                         "detail": "", "reason": d.reason})
        for ev in event_rows(store, d.id):
            kind = ev["kind"]
            label = {"substitution": _t(lang, "人员替换", "substitution"),
                     "decline": _t(lang, "专家谢绝", "decline")}.get(kind, kind)
            rows.append({"at": ev["created_at"][:19], "scope": d.scope, "subject": d.subject,
                         "kind": label, "draw": d.id, "detail": ev["params"],
                         "reason": ev["reason"]})
    rows.sort(key=lambda r: (r["at"], r["draw"]))
    table = Table("events", "替换、谢绝与重新抽取", "Substitutions, declines and redraws", (
        Column("at", "时间", "When"), Column("scope", "抽取", "Draw"),
        Column("subject", "会议", "Meeting"), Column("kind", "类型", "Kind"),
        Column("draw", "抽取编号", "Draw id", "int"), Column("detail", "参数", "Parameters"),
        Column("reason", "原因", "Reason")), tuple(rows))
    return Section("events", "替换与谢绝", "Substitutions and declines", (table,))


def _trail(store: Store, period: str, lang: str) -> Section:
    """Every freeze with its commitment, every draw's seed and source, and the log head."""
    from suiji.data.commitments import freezes
    from suiji.data.draws import draw_facts

    freeze_rows = [{"at": f.at[:19], "scope": f.scope, "digest": f.digest,
                    "commitment": f.commitment_digest,
                    "seed_source": f.commitment.seed_source.describe() if f.commitment else "",
                    "supersedes": f.commitment.supersedes if f.commitment else "",
                    "reason": f.reason} for f in freezes(store, period)]
    seed_rows = []
    for d in all_draws(store, period):
        facts = draw_facts(store, d)
        seed_rows.append({"draw": d.id, "scope": d.scope, "subject": d.subject,
                          "status": d.status, "seed": d.seed, "seed_source": d.seed_source,
                          "weak": _t(lang, "是", "yes") if facts.get("seed_weak") else "",
                          "commitment": str(facts.get("commitment", ""))})
    head = store.head()
    return Section("trail", "冻结、承诺与种子", "Freezes, commitments and seeds", (
        Table("freezes", "输入冻结与抽取承诺", "Freezes and commitments", (
            Column("at", "时间", "When"), Column("scope", "范围", "Scope"),
            Column("digest", "快照摘要", "Snapshot digest"),
            Column("commitment", "承诺摘要", "Commitment digest"),
            Column("seed_source", "种子来源", "Seed source"),
            Column("supersedes", "取代承诺", "Supersedes"),
            Column("reason", "理由", "Reason")), tuple(freeze_rows)),
        Table("seeds", "随机种子", "Seeds", (
            Column("draw", "抽取编号", "Draw", "int"), Column("scope", "抽取", "Draw kind"),
            Column("subject", "会议", "Meeting"), Column("status", "状态", "Status"),
            Column("seed", "种子", "Seed"), Column("seed_source", "来源", "Source"),
            Column("weak", "弱种子", "Weak"),
            Column("commitment", "履行承诺", "Commitment")), tuple(seed_rows))),
        notes=(_t(lang, f"日志链头（报告生成时）：{head}；`suiji verify --head {head}` 可证明此前的"
                        f"记录未被删改。",
                  f"Log head (when the report was made): {head}; `suiji verify --head {head}` "
                  f"proves nothing before it was deleted or altered."),))


def _reviews(output: dict[str, Any], snap: Snapshot, lang: str) -> Section:
    projects = snap.frame("projects.csv")
    agencies = snap.frame("agencies.csv") if "agencies.csv" in snap.files else None
    agency_name: dict[str, str] = {}
    watch: set[str] = set()
    if agencies is not None:
        agency_name = dict(zip(agencies["uscc"], agencies["name"], strict=True))
        watch = set(agencies.loc[agencies["watch"] == "yes", "uscc"])
    info = {r.project_id: r for r in projects.itertuples(index=False)}
    docs = output.get("documents") or [dict(i, selected=True) for i in output.get("items", [])]

    def group(key: str) -> list[dict[str, Any]]:
        acc: dict[str, dict[str, Any]] = {}
        for d in docs:
            p = info.get(d["project_id"])
            k = str(getattr(p, key, "")) if p is not None else ""
            a = acc.setdefault(k, {"n": 0, "sampled": 0, "expected": 0.0, "probs": []})
            a["n"] += 1
            a["sampled"] += 1 if d.get("selected") else 0
            prob = float(d.get("probability", 0.0))
            a["expected"] += prob
            a["probs"].append(prob)
        rows = []
        for k, a in sorted(acc.items()):
            rows.append({"key": k, "approved": a["n"], "sampled": a["sampled"],
                         "expected": round(a["expected"], 4),
                         "pmin": min(a["probs"]), "pmax": max(a["probs"]),
                         "rate": _ratio(a["sampled"], a["n"])})
        return rows

    by_agency = group("agency_uscc")
    for r in by_agency:
        r["name"] = agency_name.get(r["key"], "")
        r["watch"] = _t(lang, "是", "yes") if r["key"] in watch else ""
    stat_cols = (Column("approved", "审批数", "Approved", "int"),
                 Column("sampled", "抽取数", "Sampled", "int"),
                 Column("rate", "抽取比例", "Share sampled", "prob"),
                 Column("expected", "期望抽取数（概率和）", "Expected (sum of probabilities)",
                        "number"),
                 Column("pmin", "最小入样概率", "Min probability", "prob"),
                 Column("pmax", "最大入样概率", "Max probability", "prob"))
    agency_table = Table("review_agencies", "按编制单位", "Review sample by agency", (
        Column("key", "编制单位统一社会信用代码", "Agency USCC", "uscc"),
        Column("name", "编制单位", "Agency"), Column("watch", "重点监督", "Watch list"))
        + stat_cols, tuple(by_agency))
    by_industry = group("industry")
    industry_table = Table("review_industries", "按行业", "Review sample by industry", (
        Column("key", "行业", "Industry"),) + stat_cols, tuple(by_industry))
    doc_label = DOC_TYPE_LABEL[lang]
    doc_rows = []
    for d in sorted(docs, key=lambda d: d["project_id"]):
        p = info.get(d["project_id"])
        doc_rows.append({"project_id": d["project_id"],
                         "name": getattr(p, "name", "") if p is not None else "",
                         "doc_type": doc_label.get(getattr(p, "doc_type", ""), "")
                         if p is not None else "",
                         "agency": agency_name.get(getattr(p, "agency_uscc", ""), "")
                         if p is not None else "",
                         "industry": getattr(p, "industry", "") if p is not None else "",
                         "probability": float(d.get("probability", 0.0)),
                         "selected": _t(lang, "是", "yes") if d.get("selected") else ""})
    doc_table = Table("review_documents", "各文件入样概率", "Inclusion probability per document", (
        Column("project_id", "项目编号", "Project"), Column("name", "项目名称", "Name"),
        Column("doc_type", "文件类型", "Document"), Column("agency", "编制单位", "Agency"),
        Column("industry", "行业", "Industry"),
        Column("probability", "入样概率", "Inclusion probability", "prob"),
        Column("selected", "抽中", "Sampled")), tuple(doc_rows))
    chart = bar_chart(_t(lang, "各行业：审批数与抽取数", "Approved and sampled per industry"),
                      [r["key"] for r in by_industry],
                      [Series(_t(lang, "审批", "approved"),
                              tuple(float(r["approved"]) for r in by_industry), PALETTE[5]),
                       Series(_t(lang, "抽取", "sampled"),
                              tuple(float(r["sampled"]) for r in by_industry), PALETTE[0])])
    summary = output.get("summary", {})
    notes: tuple[str, ...] = ()
    if summary:
        notes = (_t(lang, f"本季度审批 {summary.get('approved')} 份，应复核不少于 "
                          f"{summary.get('required')} 份，实际抽取 {summary.get('sampled')} 份。",
                    f"{summary.get('approved')} documents approved, at least "
                    f"{summary.get('required')} required, {summary.get('sampled')} sampled."),)
    return Section("reviews", "环评复核抽样", "EIA review sample",
                   (agency_table, industry_table, doc_table), (chart,) if chart else (), notes)
