"""What a voice/SMS platform needs to reach a meeting's experts (never a public output).

``suiji export notify --meeting DATE`` lists the members of the meeting's final
panels (after declines): expert id, name, phone number (sealed in the store,
DOMAIN.md §3 rule 8), the meeting, the documents they review and the deadline
to answer. Members without a phone number are listed too, with an empty phone,
so the office calls them by hand. The export is logged with its digest; the
log records the deadline, never a phone number.
"""

from __future__ import annotations

from datetime import date, datetime

from suiji.data.draws import DrawRecord, latest_output
from suiji.data.errors import SuijiError
from suiji.data.period import Period
from suiji.data.store import Store
from suiji.reports.exports import Destination, Exported, _record
from suiji.reports.writers import Column, Rendered, Table, render_table

FORMATS = ("csv", "xlsx", "json")
NOTIFY_COLUMNS = (
    Column("expert_id", "专家编号", "expert_id"), Column("name", "姓名", "name"),
    Column("phone", "联系电话", "phone"), Column("meeting", "会议日期", "meeting", "date"),
    Column("documents", "评审文件", "documents", "list"),
    Column("answer_by", "答复截止", "answer_by"))


def default_answer_by(meeting: date) -> str:
    """Noon of the day before the meeting."""
    return f"{date.fromordinal(meeting.toordinal() - 1).isoformat()} 12:00"


def check_answer_by(text: str, meeting: date) -> str:
    try:
        moment = datetime.fromisoformat(text.strip().replace("T", " "))
    except ValueError as exc:
        raise SuijiError(f"--answer-by {text!r} is not a date and time like "
                         f"2026-12-14 12:00.") from exc
    if moment.date() >= meeting:
        raise SuijiError(f"The answer deadline {text} is not before the meeting of "
                         f"{meeting.isoformat()}; give a time before it.")
    return moment.strftime("%Y-%m-%d %H:%M")


def notify_table(store: Store, meeting: date, answer_by: str,
                 period: Period | None = None) -> tuple[Table, DrawRecord]:
    """The members of the meeting's final panels with phone numbers; and the panel draw."""
    from suiji.scheduler.panels import find_panel_draw

    draw = find_panel_draw(store, meeting, period)
    output = latest_output(store, draw)
    documents: dict[str, list[str]] = {}
    for item in output["items"]:
        for e in item["experts"]:
            documents.setdefault(e, []).append(item["project_id"])
    experts = store.read("experts").set_index("expert_id")
    rows = []
    for e in sorted(documents):
        known = e in experts.index
        rows.append({"expert_id": e, "name": str(experts.loc[e, "name"]) if known else "",
                     "phone": str(experts.loc[e, "phone"]) if known else "",
                     "meeting": meeting.isoformat(), "documents": sorted(documents[e]),
                     "answer_by": answer_by})
    table = Table("notify", f"评审会议通知 {meeting.isoformat()}",
                  f"Meeting notification {meeting.isoformat()}", NOTIFY_COLUMNS, tuple(rows))
    return table, draw


def export_notify(store: Store, meeting: date, fmt: str, dest: Destination, *,
                  answer_by: str | None = None, period: Period | None = None,
                  name: str | None = None) -> Exported:
    """Write the notification list to ``dest`` and record it (internal: it carries phone
    numbers). The trail records the draw, the meeting, the deadline and the members
    without a phone, never a phone number."""
    if fmt not in FORMATS:
        raise SuijiError(f"Unknown format {fmt!r} for a notification list; use "
                         f"{', '.join(FORMATS)}.")
    deadline = check_answer_by(answer_by or default_answer_by(meeting), meeting)
    table, draw = notify_table(store, meeting, deadline, period)
    rendered = render_table(table, fmt)
    missing = [r["expert_id"] for r in table.rows if not r["phone"]]
    details = {"draw": draw.id, "meeting": meeting.isoformat(), "answer_by": deadline,
               "rows": len(table.rows), "without_phone": missing, "format": fmt}
    return _record(store, draw.period, "notify",
                   Rendered(rendered.data, fmt, len(table.rows), details), dest, name, False)
