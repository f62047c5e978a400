"""The inspection plan as rows, tables and the public notice (一公开).

:func:`plan_view` gathers what the exports need from the record: the period's
current inspection draw after all its substitutions, the inspectors' names from
its frozen snapshot, the recorded results and the redraw history.
:func:`plan_rows` turns it into export rows, internal or public:

* **public** rows carry only what may be published (firm, USCC, district,
  category, 检查事项, date, inspectors' names and badges, result), every text
  passed through :func:`suiji.reports.writers.scrub_value`; and only the
  inspections whose date has passed (``date < as_of``): the drawn list stays
  sealed until the inspection (DOMAIN.md §3 rule 7). The number still sealed is
  returned and stated in the notice.
* **internal** rows add the city, industry, stratum, inclusion probability,
  ticket and result notes, and list every inspection.

:func:`render_notice` renders the public notice as one self-contained HTML page
(Chinese by default, English with ``lang="en"``). :func:`render_plan` and
:func:`render_reviews` render an export in one format, with what its trail
entry records; :mod:`suiji.reports.exports` writes and records them.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from suiji.data.commitments import FreezeInfo, freezes
from suiji.data.draws import (
    DrawRecord,
    all_draws,
    current_draw,
    draw_facts,
    event_rows,
    latest_output,
    latest_output_sha256,
)
from suiji.data.errors import SuijiError
from suiji.data.period import Period
from suiji.data.results import results_frame
from suiji.data.snapshot import load_snapshot
from suiji.data.store import LogHead, Store
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

SCOPE = "inspections"

CATEGORY_LABEL = {
    "zh": {"key": "重点排污单位", "general": "一般排污单位", "special": "特殊监管对象"},
    "en": {"key": "key", "general": "general", "special": "special"},
}
MATTERS = {
    "zh": {"key": "污染物排放、污染防治设施运行、排污许可执行、自动监测及环境管理制度落实情况",
           "general": "污染物排放、污染防治设施运行及排污许可执行情况",
           "special": "特殊监管要求（环境风险防控、问题整改等）落实情况"},
    "en": {"key": "Emissions, pollution-control facilities, discharge permit, automatic "
                  "monitoring and environmental management",
           "general": "Emissions, pollution-control facilities and discharge permit",
           "special": "Special supervision requirements (environmental risk control, "
                      "rectification)"},
}
OUTCOME_LABEL = {
    "zh": {"no_issue": "未发现问题", "issue_found": "发现问题", "ordered_to_correct": "责令改正",
           "case_opened": "立案查处", "not_carried_out": "未实施"},
    "en": {"no_issue": "no issue found", "issue_found": "issue found",
           "ordered_to_correct": "ordered to correct", "case_opened": "case opened",
           "not_carried_out": "not carried out"},
}
PENDING = {"zh": "待录入结果", "en": "result pending"}
QUARTER_ZH = {"1": "一", "2": "二", "3": "三", "4": "四"}


@dataclass(frozen=True)
class PlanView:
    """The period's plan as it stands: the draw, its latest output and what surrounds it."""

    period: str
    draw: DrawRecord
    output: dict[str, Any]
    output_sha256: str  # digest of the latest output (after substitutions)
    snapshot_digest: str
    inspector_names: dict[str, str]
    results: dict[str, dict[str, str]]
    substitutions: tuple[dict[str, Any], ...]
    redraws: tuple[DrawRecord, ...]  # every draw of the period after the first, with its reason
    freezes: tuple[FreezeInfo, ...] = ()  # every freeze of the period's inspection inputs
    facts: dict[str, Any] = field(default_factory=dict)  # the draw's log entry: seed_weak, ...
    log_head: LogHead | None = None  # the log's head when the view was taken

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.output.get("items", []))


def plan_view(store: Store, period: Period | str) -> PlanView:
    period = str(period)
    draw = current_draw(store, period, SCOPE)
    if draw is None:
        raise SuijiError(f"{period} has no inspection plan yet. Freeze and draw it first: "
                         f"suiji freeze --period {period}; suiji draw inspections --period "
                         f"{period} --seed ...")
    output = latest_output(store, draw)
    output_sha = latest_output_sha256(store, draw)
    snapshot = load_snapshot(store, draw.snapshot_id)
    names: dict[str, str] = {}
    if "inspectors.csv" in snapshot.files:
        frame = snapshot.frame("inspectors.csv")
        names = dict(zip(frame["badge"], frame["name"], strict=True))
    results = {r.uscc: {"date": r.date, "outcome": r.outcome, "carried_out": r.carried_out,
                        "note": r.note}
               for r in results_frame(store, period).itertuples(index=False)}
    events = []
    before = draw.output
    for e in event_rows(store, draw.id):
        after = json.loads(e["output"])
        old = {i["uscc"]: i for i in before.get("items", [])}
        changed = [i for i in after.get("items", [])
                   if old.get(i["uscc"], {}).get("inspectors") != i.get("inspectors")]
        events.append({"id": e["id"], "kind": e["kind"], "params": e["params"],
                       "reason": e["reason"], "at": e["created_at"], "changed": changed})
        before = after
    redraws = tuple(d for d in all_draws(store, period) if d.scope == SCOPE)[1:]
    return PlanView(period, draw, output, output_sha, snapshot.digest, names, results,
                    tuple(events), redraws, tuple(freezes(store, period, SCOPE)),
                    draw_facts(store, draw), store.head())


def seed_facts(draw: DrawRecord, facts: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """What a notice says about a draw's seed: its source, and its marks (weak, OS)."""
    out = []
    if draw.seed_source == "os":
        source = _t(lang, "由计算机操作系统随机生成（公众无法核验其产生过程）",
                    "generated by the computer's operating system: not publicly verifiable")
    elif draw.seed_source == "user":
        source = _t(lang, "人工给定，抽取前未公布承诺", "given; no commitment published before "
                                                "the draw")
    else:
        source = draw.seed_source
    out.append((_t(lang, "随机种子来源", "Seed source"), source))
    if facts.get("commitment"):
        out.append((_t(lang, "履行的抽取承诺", "Commitment fulfilled"), str(facts["commitment"])))
    if facts.get("seed_weak"):
        out.append((_t(lang, "弱种子警示", "Weak seed"),
                    _t(lang, "种子少于20位数字，可被逐一试算，抽取结果的随机性较弱",
                       "the seed has fewer than 20 digits and could be chosen by trying "
                       "every value")))
    return out


def freeze_facts(infos: tuple[FreezeInfo, ...], lang: str) -> list[tuple[str, str]]:
    """Every freeze of the period: time, snapshot digest, commitment, what it superseded."""
    out = []
    for f in infos:
        text = f"{f.at[:19]}Z  {_t(lang, '快照摘要', 'snapshot')} {f.digest}"
        if f.commitment is not None:
            text += f"  {_t(lang, '承诺摘要', 'commitment')} {f.commitment_digest}"
            text += f"  {_t(lang, '种子来源', 'seed from')} {f.commitment.seed_source.describe()}"
            if f.commitment.supersedes:
                text += (f"  {_t(lang, '取代承诺', 'supersedes')} {f.commitment.supersedes}"
                         f" ({_t(lang, '理由', 'reason')}: {scrub_personal(f.reason)})")
        elif f.reason:
            text += f"  ({_t(lang, '理由', 'reason')}: {scrub_personal(f.reason)})"
        out.append((_t(lang, "输入冻结", "Freeze"), text))
    return out


def _date(item: dict[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str(item.get("date", "")))
    except ValueError:
        return None


def is_public(item: dict[str, Any], as_of: date) -> bool:
    """Whether an inspection may be published: its date has passed (strictly before as_of)."""
    day = _date(item)
    return day is not None and day < as_of


def _sort_key(item: dict[str, Any]) -> tuple[str, str, str]:
    return (str(item.get("date", "")), str(item.get("district", "")), str(item.get("uscc", "")))


def plan_rows(view: PlanView, public: bool, as_of: date, lang: str = "zh"
              ) -> tuple[list[dict[str, Any]], int]:
    """Export rows (stable order: date, district, USCC) and how many stay sealed."""
    check_lang(lang)
    items = sorted(view.items, key=_sort_key)
    sealed = 0
    rows = []
    for item in items:
        if public and not is_public(item, as_of):
            sealed += 1
            continue
        badges = [str(b) for b in item.get("inspectors", [])]
        category = str(item.get("category", ""))
        result = view.results.get(str(item.get("uscc")))
        row: dict[str, Any] = {
            "uscc": item.get("uscc", ""), "name": item.get("name", ""),
            "district": item.get("district", ""), "category": category,
            "matters": MATTERS[lang].get(category, ""),
            "date": item.get("date", ""),
            "inspectors": badges,
            "inspector_names": [view.inspector_names.get(b, "") for b in badges],
            "probability": item.get("probability"), "ticket": item.get("ticket", ""),
            "outcome": result["outcome"] if result else "",
            "carried_out": result["carried_out"] if result else "",
        }
        if not public:
            row.update(city=item.get("city", ""), industry=item.get("industry", ""),
                       stratum=item.get("stratum", ""),
                       note=result["note"] if result else "")
        rows.append(row)
    return rows, sealed


def _team(row: dict[str, Any], lang: str) -> str:
    pairs = zip(row["inspector_names"], row["inspectors"], strict=True)
    if lang == "zh":
        return "、".join(f"{n}（{b}）" if n else b for n, b in pairs)
    return ", ".join(f"{n} ({b})" if n else b for n, b in pairs)


def plan_table(view: PlanView, rows: list[dict[str, Any]], public: bool, lang: str = "zh",
               sealed: int = 0) -> Table:
    """The rows as a :class:`Table` for CSV/XLSX/HTML (labels in ``lang``)."""
    cat = CATEGORY_LABEL[lang]
    outcome = OUTCOME_LABEL[lang]
    display_rows = []
    for i, r in enumerate(rows, start=1):
        d = dict(r)
        d["no"] = i
        d["category"] = cat.get(r["category"], r["category"])
        d["team"] = _team(r, lang)
        d["result"] = (outcome.get(r["outcome"], r["outcome"]) if r["outcome"]
                       else PENDING[lang])
        display_rows.append(d)
    columns: tuple[Column, ...]
    if public:
        columns = (
            Column("no", "序号", "No.", "int"),
            Column("name", "企业名称", "Firm"),
            Column("uscc", "统一社会信用代码", "USCC", "uscc"),
            Column("district", "区县", "District"),
            Column("category", "监管类别", "Category"),
            Column("matters", "检查事项", "Matters inspected"),
            Column("date", "检查日期", "Date", "date"),
            Column("team", "执法人员（执法证号）", "Inspectors (badge)"),
            Column("result", "检查结果", "Result"),
        )
    else:
        columns = (
            Column("no", "序号", "No.", "int"),
            Column("uscc", "统一社会信用代码", "USCC", "uscc"),
            Column("name", "企业名称", "Firm"),
            Column("district", "区县", "District"),
            Column("city", "城市", "City"),
            Column("category", "监管类别", "Category"),
            Column("industry", "行业", "Industry"),
            Column("stratum", "抽取层", "Stratum"),
            Column("probability", "入样概率", "Inclusion probability", "prob"),
            Column("ticket", "随机数", "Ticket"),
            Column("date", "检查日期", "Date", "date"),
            Column("inspectors", "执法证号", "Badges", "list"),
            Column("inspector_names", "执法人员", "Inspectors", "list"),
            Column("matters", "检查事项", "Matters inspected"),
            Column("result", "检查结果", "Result"),
            Column("carried_out", "是否实施", "Carried out"),
            Column("note", "备注", "Note"),
        )
    year, quarter = view.period[:4], QUARTER_ZH[view.period[-1]]
    if public:
        title_zh = f"{year}年第{quarter}季度“双随机、一公开”抽查计划及结果公示"
        title_en = f"Double-random inspections {view.period}: plan and results (public notice)"
    else:
        title_zh = f"{year}年第{quarter}季度双随机抽查计划（内部，检查前保密）"
        title_en = f"Inspection plan {view.period} (internal, sealed until each inspection)"
    note_zh = (f"另有 {sealed} 项检查尚未实施，检查实施前不予公开。" if sealed else "")
    note_en = (f"{sealed} inspections have not taken place yet and stay sealed until they do."
               if sealed else "")
    table = Table("plan", title_zh, title_en, columns, tuple(display_rows), note_zh, note_en)
    return scrub_table(table) if public else table


def public_json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Public JSON rows: every text scrubbed of personal identifiers."""
    return [{k: scrub_value(v, "uscc" if k == "uscc" else "text") for k, v in r.items()}
            for r in rows]


# --- the notice ------------------------------------------------------------------------

def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def render_notice(view: PlanView, as_of: date, lang: str = "zh", authority: str = "") -> str:
    """The public notice of the period's plan and results as one self-contained HTML page."""
    check_lang(lang)
    rows, sealed = plan_rows(view, True, as_of, lang)
    table = plan_table(view, rows, True, lang, sealed)
    authority = scrub_personal(authority.strip())
    year, quarter = view.period[:4], QUARTER_ZH[view.period[-1]]
    title = (f"{authority}{year}年第{quarter}季度“双随机、一公开”抽查计划及结果公示"
             if lang == "zh"
             else f"{authority + ': ' if authority else ''}Double-random inspections "
                  f"{view.period}: plan and results")
    total = len(view.items)
    # "已实施" only with a recorded result saying so; a date that has passed is not proof.
    done = sum(1 for r in rows if r["outcome"] and r["carried_out"] != "no")
    not_done = sum(1 for r in rows if r["outcome"] and r["carried_out"] == "no")
    pending = sum(1 for r in rows if not r["outcome"])
    by_cat: dict[str, list[int]] = {}
    for item in view.items:
        c = by_cat.setdefault(str(item.get("category", "")), [0, 0])
        c[0] += 1
        c[1] += 1 if is_public(item, as_of) else 0
    cat_table = Table("summary", "按监管类别", "By category", (
        Column("category", "监管类别", "Category"),
        Column("drawn", "抽取数", "Drawn", "int"),
        Column("published", "已公示", "Published", "int"),
        Column("sealed", "尚未实施（暂不公开）", "Not yet inspected (sealed)", "int")),
        tuple({"category": CATEGORY_LABEL[lang].get(k, k), "drawn": v[0], "published": v[1],
               "sealed": v[0] - v[1]} for k, v in sorted(by_cat.items())))
    intro = _t(
        lang,
        f"按照“双随机、一公开”监管要求，现将{year}年第{quarter}季度随机抽查计划及检查结果予以公示。"
        f"本季度共随机抽取检查对象 {total} 家，随机选派执法人员实施检查。截至 {as_of.isoformat()}，"
        f"检查日期已到的 {len(rows)} 家列于下表，其中已实施检查 {done} 家（已录入检查结果）"
        + (f"，未实施 {not_done} 家" if not_done else "")
        + (f"，待录入结果 {pending} 家" if pending else "")
        + (f"；其余 {sealed} 家检查尚未实施，依规定在检查实施前不予公开，实施后再行公示。"
           if sealed else "。"),
        f"Under the double-random, one-public rules, this notice publishes the random "
        f"inspection plan of {view.period} and its results. {total} firms were drawn at random "
        f"and inspectors assigned at random. As of {as_of.isoformat()}, the {len(rows)} "
        f"inspections whose date has passed are listed below: {done} carried out (result "
        f"recorded)"
        + (f", {not_done} not carried out" if not_done else "")
        + (f", {pending} with the result still to be entered" if pending else "")
        + (f"; the other {sealed} stay sealed until their date and will be published then."
           if sealed else "."))
    facts = [
        (_t(lang, "抽取时间", "Drawn at"), view.draw.created_at[:10], False),
        (_t(lang, "输入快照摘要（抽取前公布）", "Snapshot digest (published before the seed)"),
         view.snapshot_digest, True),
        (_t(lang, "抽取算法", "Algorithm"), view.draw.algorithm, False),
        (_t(lang, "抽取结果摘要", "Output digest"), view.output_sha256, True),
    ]
    if sealed == 0:
        facts.append((_t(lang, "随机种子", "Seed"), view.draw.seed, True))
    else:
        facts.append((_t(lang, "随机种子", "Seed"),
                      _t(lang, "全部检查实施后公布（以免提前推算检查对象）",
                         "published once every inspection has taken place"), False))
    facts += [(k, v, False) for k, v in seed_facts(view.draw, view.facts, lang)]
    facts += [(k, v, True) for k, v in freeze_facts(view.freezes, lang)]
    if view.substitutions:
        facts.append((_t(lang, "人员替换", "Substitutions"),
                      _t(lang, f"{len(view.substitutions)} 次，均按同一可核验方法抽取并留痕",
                         f"{len(view.substitutions)}, each drawn by the same verifiable method "
                         f"and recorded"), False))
        for sub in view.substitutions:
            shown = [i for i in sub["changed"] if is_public(i, as_of)]
            if not shown:
                continue  # sealed until the inspections it changed have taken place
            params = json.loads(sub["params"]) if isinstance(sub["params"], str) else {}
            firms = "、".join(str(i.get("name", i.get("uscc", ""))) for i in shown)
            badge = params.get("badge", "")
            facts.append((_t(lang, "人员替换记录", "Substitution"),
                          _t(lang, f"{sub['at'][:10]}：执法人员 {badge} 在以下检查中被替换："
                                   f"{firms}（理由：{scrub_personal(sub['reason'])}）",
                             f"{sub['at'][:10]}: inspector {badge} replaced in {firms} "
                             f"(reason: {scrub_personal(sub['reason'])})"), False))
    for again in view.redraws:
        facts.append((_t(lang, "重新抽取", "Redraw"),
                      f"{again.created_at[:10]}: {scrub_personal(again.reason)}"
                      if again.reason else again.created_at[:10], False))
    if view.log_head is not None:
        facts.append((_t(lang, "日志链头（公示时）", "Log head (at publication)"),
                      str(view.log_head), True))
    mono_cls = ' class="digest"'
    fact_html = "\n".join(
        f"<dt>{html.escape(k)}</dt><dd{mono_cls if mono else ''}>{html.escape(v)}</dd>"
        for k, v, mono in facts)
    verify = _t(
        lang,
        "任何人可凭公布的输入快照摘要、随机种子和抽取算法（ALGORITHM.md）复核抽取结果；"
        "本公示不含身份证号码、电话号码等个人信息。",
        "Anyone can check the draw from the published snapshot digest, seed and algorithm "
        "(ALGORITHM.md). This notice contains no ID-card or telephone numbers.")
    body = "\n".join([
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="sub">{esc(_t(lang, "公示日期：", "Published: ") + as_of.isoformat())}</p>',
        f"<p>{html.escape(intro)}</p>",
        html_table(cat_table, lang, "summary"),
        f"<h2>{html.escape(_t(lang, '抽查结果', 'Inspections'))}</h2>",
        html_table(table, lang, "rows", with_title=False),
        f"<h2>{html.escape(_t(lang, '核验信息', 'Verification'))}</h2>",
        f'<dl class="facts">\n{fact_html}\n</dl>',
        f'<p class="note">{html.escape(verify)}</p>',
    ])
    return html_page(title, body, lang)


# --- exports -------------------------------------------------------------------------

FORMATS = ("json", "csv", "xlsx", "html")


def render_plan(store: Store, period: Period | str, fmt: str, *, public: bool, as_of: date,
                lang: str = "zh", authority: str = "") -> Rendered:
    """The plan (internal) or the public notice in one format, with what the log records.

    Renders only; :func:`suiji.reports.exports.export_plan` writes it and records it.
    """
    if fmt not in FORMATS:
        raise SuijiError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    view = plan_view(store, period)
    rows, sealed = plan_rows(view, public, as_of, lang)
    table = plan_table(view, rows, public, lang, sealed)
    json_rows = public_json_rows(rows) if public else rows
    page = render_notice(view, as_of, lang, authority) if public and fmt == "html" else None
    if page is not None:
        rendered = Rendered(page.encode("utf-8"), fmt, len(rows))
    else:
        rendered = render_table(table, fmt, lang, json_rows=json_rows)
    details = {"draw": view.draw.id, "rows": len(rows), "sealed": sealed,
               "as_of": as_of.isoformat(), "lang": lang, "format": fmt, "public": public}
    return Rendered(rendered.data, fmt, len(rows), details, {"output": view.output_sha256})


def review_trail_notes(store: Store, period: str, as_of: date) -> tuple[list[str], list[str]]:
    """What the public review notice states besides the rows (Chinese, English): every
    freeze of the reviews inputs, each draw's seed source and marks, the declines of the
    meetings already held with their reasons, and the log head."""
    zh: list[str] = []
    en: list[str] = []
    for lang, out in (("zh", zh), ("en", en)):
        for key, value in freeze_facts(tuple(freezes(store, period, "reviews")), lang):
            out.append(f"{key}: {value}.")
        for d in all_draws(store, period):
            if d.scope not in ("reviews", "panels") or d.status != "current":
                continue
            label = d.scope + (f" {d.subject}" if d.subject else "")
            for key, value in seed_facts(d, draw_facts(store, d), lang):
                out.append(f"{label} {key}: {value}.")
            try:
                held = d.scope == "panels" and date.fromisoformat(d.subject) < as_of
            except ValueError:
                held = False
            if not held:
                continue
            for x in latest_output(store, d).get("declines", []):
                by = "、".join(r["replaced_by"] for r in x.get("replacements", [])) or "-"
                out.append(_t(lang,
                              f"{d.subject} 评审会专家 {x['expert_id']} 谢绝（理由："
                              f"{scrub_personal(str(x.get('reason', '')))}），由 {by} 递补。",
                              f"Meeting of {d.subject}: expert {x['expert_id']} declined "
                              f"(reason: {scrub_personal(str(x.get('reason', '')))}), "
                              f"replaced by {by}."))
        out.append(_t(lang, f"日志链头（公示时）：{store.head()}。",
                      f"Log head (at publication): {store.head()}."))
    return zh, en


REVIEW_COLUMNS = (
    Column("project_id", "项目编号", "Project"),
    Column("name", "项目名称", "Project name"),
    Column("doc_type", "文件类型", "Document"),
    Column("agency_name", "编制单位", "EIA agency"),
    Column("agency_uscc", "编制单位统一社会信用代码", "Agency USCC", "uscc"),
    Column("developer", "建设单位", "Developer"),
    Column("industry", "行业", "Industry"),
    Column("district", "区县", "District"),
    Column("approved_on", "审批日期", "Approved on", "date"),
    Column("reason", "抽取原因", "Why sampled"),
    Column("probability", "入样概率", "Inclusion probability", "prob"),
    Column("ticket", "随机数", "Ticket"),
    Column("meeting", "评审会日期", "Meeting", "date"),
    Column("experts", "评审专家", "Experts", "list"),
    Column("alternates", "替补专家", "Alternates", "list"),
    Column("declined", "已谢绝专家", "Declined", "list"),
    Column("status", "状态", "Status"),
    Column("scores", "评分数", "Scores", "int"),
    Column("mean_score", "平均分", "Mean score", "number"),
)
PUBLIC_REVIEW_KEYS = ("project_id", "name", "doc_type", "agency_name", "agency_uscc",
                      "developer", "industry", "district", "approved_on", "reason",
                      "probability", "ticket", "meeting", "experts", "status")
DOC_TYPE_LABEL = {"zh": {"report": "报告书", "form": "报告表"},
                  "en": {"report": "report", "form": "report form"}}
REASON_LABEL = {"zh": {"watch_list": "重点监督单位报告书", "certainty": "必抽",
                       "sampled": "随机抽取"},
                "en": {"watch_list": "watch-listed agency", "certainty": "certainty",
                       "sampled": "random"}}
STATUS_LABEL = {"zh": {"sampled": "已抽取", "paneled": "已抽取专家", "reviewed": "已评审"},
                "en": {"sampled": "sampled", "paneled": "panel drawn", "reviewed": "reviewed"}}


def render_reviews(store: Store, period: Period | str, fmt: str, *, public: bool, as_of: date,
                   lang: str = "zh") -> Rendered:
    """The review sample with its panels (sealed until each meeting has passed in public).

    Renders only; :func:`suiji.reports.exports.export_reviews` writes it and records it.
    """
    from suiji.sampler.reviews import current_sample, review_rows

    if fmt not in FORMATS:
        raise SuijiError(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    check_lang(lang)
    rows = review_rows(store, period, public, as_of)
    rows.sort(key=lambda r: (str(r.get("approved_on", "")), str(r.get("project_id", ""))))
    if public:
        rows = [{k: r.get(k) for k in PUBLIC_REVIEW_KEYS} | {"sealed": r.get("sealed", False)}
                for r in rows]
        rows = [{k: scrub_value(v, "uscc" if k == "agency_uscc" else "text")
                 for k, v in r.items()} for r in rows]
    display_rows = []
    for r in rows:
        d = dict(r)
        d["doc_type"] = DOC_TYPE_LABEL[lang].get(str(r.get("doc_type")), r.get("doc_type"))
        d["reason"] = REASON_LABEL[lang].get(str(r.get("reason")), r.get("reason"))
        d["status"] = STATUS_LABEL[lang].get(str(r.get("status")), r.get("status"))
        if r.get("sealed"):
            d["experts"] = ["（会前保密）" if lang == "zh" else "(sealed until the meeting)"]
        display_rows.append(d)
    columns = tuple(c for c in REVIEW_COLUMNS if not public or c.key in PUBLIC_REVIEW_KEYS)
    year, quarter = str(period)[:4], QUARTER_ZH[str(period)[-1]]
    if public:
        title_zh = f"{year}年第{quarter}季度建设项目环评文件技术复核抽查结果公示"
        title_en = f"EIA technical review sample {period} (public notice)"
    else:
        title_zh = f"{year}年第{quarter}季度环评文件技术复核抽查（内部）"
        title_en = f"EIA technical review sample {period} (internal)"
    draw = current_sample(store, period)
    note_zh = "评审专家名单在评审会后公开。" if public else ""
    note_en = "Expert panels are published after each meeting." if public else ""
    if draw.params.get("before_close"):
        drawn_on = draw.params.get("drawn_on", "")
        note_zh = (f"本抽查于季度结束前（{drawn_on}）抽取，仅含当日前已审批的文件。" + note_zh)
        note_en = (f"Drawn before the quarter closed ({drawn_on}): only documents approved by "
                   f"then. " + note_en).strip()
    if public:
        extra_zh, extra_en = review_trail_notes(store, str(period), as_of)
        note_zh = " ".join([note_zh, *extra_zh])
        note_en = " ".join([note_en, *extra_en])
    table = Table("reviews", title_zh, title_en, columns, tuple(display_rows), note_zh, note_en)
    if public:
        table = scrub_table(table)
    rendered = render_table(table, fmt, lang, json_rows=rows)
    details = {"draw": draw.id, "rows": len(rows),
               "sealed": sum(1 for r in rows if r.get("sealed")), "as_of": as_of.isoformat(),
               "lang": lang, "format": fmt, "public": public}
    return Rendered(rendered.data, fmt, len(rows), details,
                    {"output": latest_output_sha256(store, draw)})
