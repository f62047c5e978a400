"""The quarterly 通报 of the EIA review loop, and the list of serious problems handed over.

``suiji export bulletin --period P --format html|xlsx|docx``: the review work of
the quarter (documents approved, reviewed, the ratio, by agency), the problems
found by agency and lead author, credit points and states (限期整改 / 黑名单),
the experts handled (把关不严, warnings and suspensions) and the serious
problems handed to enforcement (移交). ``--public`` leaves out every personal
identifier: lead authors, their registration numbers and experts are not
named (counts stand in their place), and every cell is scrubbed of ID and phone
numbers. ``suiji export transfers --period P`` writes the 移交 list as CSV for
the inspection side (the developers to follow up, 三同时).

Each export function records its own trail entry (:func:`suiji.data.audit.record_export`)
with the SHA-256 of the bytes written.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from suiji.data.credit import REASON_ZH, STATE_ZH, author_status, points_by, states
from suiji.data.errors import SuijiError
from suiji.data.findings import CONCLUSION_ZH, current_findings, lax_reviews
from suiji.data.period import Period
from suiji.data.rules import Rules
from suiji.data.store import Store
from suiji.reports.exports import Destination, Exported, _record
from suiji.reports.writers import (
    Column,
    Rendered,
    Table,
    check_lang,
    display,
    html_page,
    html_table,
    scrub_table,
    to_csv,
    to_xlsx,
)

FORMATS = ("html", "xlsx", "docx")
QUARTER_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}
EN_CONCLUSION = {"pass": "pass", "general": "general problems", "serious": "serious problems"}
EN_STATE = {"ok": "ok", "rectify": "rectify within a deadline", "blacklist": "blacklist"}


def _label(lang: str, zh: dict[str, str], en: dict[str, str], key: str) -> str:
    return (zh if lang == "zh" else en).get(key, key)


def bulletin_tables(store: Store, period: Period, rules: Rules, *, public: bool,
                    lang: str = "zh") -> list[Table]:
    """The bulletin's tables for ``period`` (public: no personal identifiers)."""
    from suiji.data.draws import current_draw, latest_output

    check_lang(lang)
    sample = current_draw(store, str(period), "reviews")
    if sample is None:
        raise SuijiError(f"{period} has no review sample: there is no review work to report. "
                         f"Draw it with `suiji draw reviews --period {period} --seed ...`.")
    output = latest_output(store, sample)
    findings = current_findings(store)
    mine = findings[findings["period"] == str(period)]
    names = {a.uscc: a.name for a in store.read("agencies").itertuples(index=False)}
    projects = store.read("projects").set_index("project_id")

    approved: dict[str, int] = {}
    for s in output["strata"]:
        approved[s["agency_uscc"]] = approved.get(s["agency_uscc"], 0) + int(s["documents"])
    sampled: dict[str, int] = {}
    for item in output["items"]:
        sampled[item["agency_uscc"]] = sampled.get(item["agency_uscc"], 0) + 1
    work_rows = []
    for a in sorted(approved):
        f = mine[mine["agency_uscc"] == a]
        work_rows.append({"agency": names.get(a, a), "agency_uscc": a,
                          "approved": approved[a], "sampled": sampled.get(a, 0),
                          "reviewed": len(f),
                          "ratio": round(sampled.get(a, 0) / approved[a], 4),
                          "general": int((f["conclusion"] == "general").sum()),
                          "serious": int((f["conclusion"] == "serious").sum())})
    total = output["summary"]["approved"]
    work_rows.append({"agency": "合计" if lang == "zh" else "total", "agency_uscc": "",
                      "approved": total, "sampled": len(output["items"]),
                      "reviewed": len(mine),
                      "ratio": round(len(output["items"]) / total, 4) if total else 0.0,
                      "general": int((mine["conclusion"] == "general").sum()),
                      "serious": int((mine["conclusion"] == "serious").sum())})
    work = Table("work", "复核工作量", "Review work", (
        Column("agency", "编制单位", "Agency"), Column("agency_uscc", "统一社会信用代码", "USCC",
                                                      "uscc"),
        Column("approved", "审批文件数", "Approved", "int"),
        Column("sampled", "抽取复核数", "Sampled", "int"),
        Column("reviewed", "已出复核结论", "Reviewed", "int"),
        Column("ratio", "复核比例", "Ratio", "number"),
        Column("general", "一般质量问题", "General problems", "int"),
        Column("serious", "严重质量问题", "Serious problems", "int")), tuple(work_rows))

    problem_rows = []
    for r in mine[mine["conclusion"] != "pass"].itertuples(index=False):
        row = {"project_id": r.project_id,
               "name": str(projects.loc[r.project_id, "name"]) if r.project_id in projects.index
               else "",
               "agency": names.get(r.agency_uscc, r.agency_uscc),
               "conclusion": _label(lang, CONCLUSION_ZH, EN_CONCLUSION, r.conclusion),
               "problems": [p for p in str(r.problems).split(";") if p],
               "points": float(r.points), "reviewed_on": r.reviewed_on}
        if not public:
            row.update(lead_author=r.lead_author, lead_author_reg=r.lead_author_reg)
        problem_rows.append(row)
    problem_cols = [Column("project_id", "项目编号", "Project"), Column("name", "项目名称", "Name"),
                    Column("agency", "编制单位", "Agency")]
    if not public:
        problem_cols += [Column("lead_author", "编制主持人", "Lead author"),
                         Column("lead_author_reg", "职业资格证书管理号", "Registration no.")]
    problem_cols += [Column("conclusion", "复核结论", "Conclusion"),
                     Column("problems", "问题", "Problems", "list"),
                     Column("points", "记分", "Points", "number"),
                     Column("reviewed_on", "复核日期", "Reviewed on", "date")]
    problems = Table("problems", "发现的问题", "Problems found", tuple(problem_cols),
                     tuple(problem_rows))

    after = period.last_day + timedelta(days=1)
    agency_states = states(points_by(findings, "agency_uscc", after), period.year, rules.credit)
    point_rows = [{"agency": names.get(a, a), "agency_uscc": a, "points": float(now),
                   "previous_points": float(prev),
                   "state": _label(lang, STATE_ZH, EN_STATE, state)}
                  for a, (state, now, prev) in agency_states.items()]
    points = Table("points", "编制单位失信记分", "Agency credit points", (
        Column("agency", "编制单位", "Agency"), Column("agency_uscc", "统一社会信用代码", "USCC",
                                                      "uscc"),
        Column("points", f"{period.year}年记分", f"Points {period.year}", "number"),
        Column("previous_points", f"{period.year - 1}年记分", f"Points {period.year - 1}",
               "number"),
        Column("state", "状态", "State")), tuple(point_rows),
        f"限期整改 {rules.credit.rectify_points:g} 分, "
        f"黑名单 {rules.credit.blacklist_points:g} 分。",
        f"Rectify at {rules.credit.rectify_points:g}, blacklist at "
        f"{rules.credit.blacklist_points:g} points.")
    tables = [work, problems, points]

    next_period = Period(period.year + (period.quarter == 4), period.quarter % 4 + 1)
    authors = [a for a in author_status(store, rules, next_period) if a["points"]
               or a["previous_points"]]
    if not public:
        tables.append(Table("authors", "编制主持人失信记分", "Lead author credit points", (
            Column("lead_author", "编制主持人", "Lead author"),
            Column("lead_author_reg", "职业资格证书管理号", "Registration no."),
            Column("agency", "编制单位", "Agency"),
            Column("points", f"{period.year}年记分", f"Points {period.year}", "number"),
            Column("state", "状态", "State")),
            tuple({"lead_author": a["lead_author"], "lead_author_reg": a["lead_author_reg"],
                   "agency": names.get(a["agency_uscc"], a["agency_uscc"]),
                   "points": a["points"],
                   "state": _label(lang, STATE_ZH, EN_STATE, a["state"])} for a in authors)))
    else:
        listed = sum(1 for a in authors if a["state"] != "ok")
        tables.append(Table("authors", "编制主持人失信记分", "Lead author credit points", (
            Column("with_points", "被记分人数", "Lead authors with points", "int"),
            Column("listed", "列入名单人数", "Listed", "int")),
            ({"with_points": len(authors), "listed": listed},)))

    tables.append(experts_table(store, period, rules, public=public, lang=lang))
    tables.append(transfer_table(store, period, lang))
    watch = output.get("watch_list", [])
    if watch:
        tables.append(Table("watch", "本季度重点监督编制单位及原因", "Watched agencies and why", (
            Column("agency", "编制单位", "Agency"),
            Column("reasons", "原因", "Reasons", "list")),
            tuple({"agency": names.get(w["agency_uscc"], w["agency_uscc"]),
                   "reasons": [REASON_ZH.get(r, r) if lang == "zh" else r
                               for r in w["reasons"]]} for w in watch)))
    if public:
        tables = [scrub_table(t) for t in tables]
    return tables


def experts_table(store: Store, period: Period, rules: Rules, *, public: bool,
                  lang: str = "zh") -> Table:
    """Experts handled in ``period``: deduction points from the quarter's scores and the
    把关不严 flags of its findings, with the state they leave. Public: one row per kind of
    handling with the number of experts, no names or ids."""
    from suiji.data.scores import expert_results, points_frame, standings

    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    deducted: dict[str, float] = {}
    for r in expert_results(store, rules):
        if first <= r["meeting"] <= last and r["deduction"]:
            deducted[r["expert_id"]] = deducted.get(r["expert_id"], 0.0) + r["deduction"]
    lax: dict[str, list[dict[str, Any]]] = {}
    for x in lax_reviews(store):
        if x["period"] == str(period):
            lax.setdefault(x["expert_id"], []).append(x)
    state = standings(points_frame(store), period.year, rules.review)
    state_zh = {"good": "正常", "warning": "警示", "suspended": "暂停"}
    ids = sorted(set(deducted) | set(lax))
    if public:
        rows = [{"what": "把关不严" if lang == "zh" else "lax review",
                 "experts": len(lax)},
                {"what": "评审扣分" if lang == "zh" else "deduction points",
                 "experts": len(deducted)},
                {"what": "警示或暂停" if lang == "zh" else "warned or suspended",
                 "experts": sum(1 for e in ids if e in state and state[e].state != "good")}]
        return Table("experts", "专家处理情况", "Experts handled", (
            Column("what", "处理", "Handling"), Column("experts", "人数", "Experts", "int")),
            tuple(rows))
    names = {e.expert_id: e.name for e in store.read("experts").itertuples(index=False)}
    internal: list[dict[str, Any]] = []
    for e in ids:
        s = state.get(e)
        internal.append({"expert_id": e, "name": names.get(e, ""),
                     "deduction": deducted.get(e, 0.0),
                     "lax": [x["project_id"] for x in lax.get(e, [])],
                     "lax_points": sum(x["points"] for x in lax.get(e, [])),
                     "points": s.points if s else 0.0,
                     "state": (state_zh if lang == "zh" else {}).get(
                         s.state if s else "good", s.state if s else "good")})
    return Table("experts", "专家处理情况", "Experts handled", (
        Column("expert_id", "专家编号", "Expert"), Column("name", "姓名", "Name"),
        Column("deduction", "本季度评审扣分", "Deductions this quarter", "number"),
        Column("lax", "把关不严文件", "Lax review of", "list"),
        Column("lax_points", "把关不严扣分", "Lax review points", "number"),
        Column("points", f"{period.year}年累计扣分", f"Points {period.year}", "number"),
        Column("state", "状态", "State")), tuple(internal))


TRANSFER_COLUMNS = (
    Column("project_id", "项目编号", "project_id"), Column("name", "项目名称", "name"),
    Column("developer", "建设单位", "developer"), Column("district", "区县", "district"),
    Column("industry", "行业", "industry"),
    Column("agency_uscc", "编制单位统一社会信用代码", "agency_uscc", "uscc"),
    Column("agency", "编制单位", "agency"),
    Column("problems", "严重质量问题", "problems", "list"),
    Column("reviewed_on", "复核日期", "reviewed_on", "date"),
    Column("period", "期次", "period"))


def transfer_table(store: Store, period: Period, lang: str = "zh") -> Table:
    """Serious problems of ``period`` handed to enforcement (严重质量问题移交)."""
    findings = current_findings(store)
    mine = findings[(findings["period"] == str(period)) & (findings["conclusion"] == "serious")]
    projects = store.read("projects").set_index("project_id")
    names = {a.uscc: a.name for a in store.read("agencies").itertuples(index=False)}
    rows = []
    for r in mine.itertuples(index=False):
        p = projects.loc[r.project_id] if r.project_id in projects.index else None
        rows.append({"project_id": r.project_id,
                     "name": "" if p is None else str(p["name"]),
                     "developer": "" if p is None else str(p["developer"]),
                     "district": "" if p is None else str(p["district"]),
                     "industry": "" if p is None else str(p["industry"]),
                     "agency_uscc": r.agency_uscc,
                     "agency": names.get(r.agency_uscc, ""),
                     "problems": [x for x in str(r.problems).split(";") if x],
                     "reviewed_on": r.reviewed_on, "period": str(period)})
    return Table("transfers", "严重质量问题移交清单", "Serious problems handed to enforcement",
                 TRANSFER_COLUMNS, tuple(rows))


def _docx(title: str, tables: Sequence[Table], lang: str) -> bytes:
    from docx import Document

    doc = Document()
    doc.core_properties.title = title
    doc.add_heading(title, level=0)
    for t in tables:
        doc.add_heading(t.title(lang), level=1)
        if not t.rows:
            doc.add_paragraph("（无）" if lang == "zh" else "(none)")
        else:
            grid = doc.add_table(rows=1, cols=len(t.columns))
            grid.style = "Table Grid"
            for cell, c in zip(grid.rows[0].cells, t.columns, strict=True):
                cell.text = c.header(lang)
            for row in t.rows:
                cells = grid.add_row().cells
                for cell, c in zip(cells, t.columns, strict=True):
                    cell.text = display(row.get(c.key), lang)
        if t.note(lang):
            doc.add_paragraph(t.note(lang))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def bulletin_title(period: Period, public: bool, lang: str) -> str:
    if lang == "zh":
        return (f"{period.year}年第{QUARTER_ZH[period.quarter]}季度建设项目环评文件技术复核情况通报"
                + ("" if public else "（内部）"))
    return f"EIA technical review bulletin {period}" + ("" if public else " (internal)")


def render_bulletin(store: Store, period: Period, rules: Rules, fmt: str, *, public: bool,
                    lang: str = "zh") -> Rendered:
    if fmt not in FORMATS:
        raise SuijiError(f"Unknown bulletin format {fmt!r}; use one of {', '.join(FORMATS)}.")
    tables = bulletin_tables(store, period, rules, public=public, lang=lang)
    title = bulletin_title(period, public, lang)
    if fmt == "html":
        body = f"<h1>{html.escape(title)}</h1>\n" + "\n".join(
            html_table(t, lang, t.name) for t in tables)
        data = html_page(title, body, lang).encode("utf-8")
    elif fmt == "xlsx":
        data = to_xlsx(tables, lang)
    else:
        data = _docx(title, tables, lang)
    transfers = next(t for t in tables if t.name == "transfers")
    return Rendered(data, fmt, sum(len(t.rows) for t in tables),
                    {"format": fmt, "public": public, "lang": lang,
                     "tables": {t.name: len(t.rows) for t in tables},
                     "transfers": len(transfers.rows)})


def export_bulletin(store: Store, period: Period, rules: Rules, fmt: str, dest: Destination,
                    *, public: bool, lang: str = "zh", name: str | None = None) -> Exported:
    """Write the bulletin to ``dest`` (a path or a binary stream) and record it (``publish``
    when ``public``, else ``export``), all or nothing."""
    rendered = render_bulletin(store, period, rules, fmt, public=public, lang=lang)
    return _record(store, period, "bulletin", rendered, dest, name, public)


def export_transfers(store: Store, period: Period, dest: Destination, *, lang: str = "zh",
                     name: str | None = None) -> Exported:
    """Write the 移交 list as CSV (UTF-8 with BOM) to ``dest`` and record it."""
    table = transfer_table(store, period, lang)
    rendered = Rendered(to_csv(table, lang), "csv", len(table.rows),
                        {"rows": len(table.rows), "lang": lang})
    return _record(store, period, "transfers", rendered, dest, name, False)


__all__ = ["export_bulletin", "export_transfers", "render_bulletin", "bulletin_tables",
           "transfer_table"]
