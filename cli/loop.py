"""The EIA review loop's commands: agencies status, export bulletin / transfers / notify,
and the responses import (``suiji import responses``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from suiji.cli import main as cli_main
from suiji.cli.exports import _destination
from suiji.cli.main import (
    Env,
    domain_errors,
    echo_json,
    json_option,
    pass_env,
    period_option,
)
from suiji.cli.types import DATE, PERIOD
from suiji.data.period import Period


def next_period(store: Any, today: date) -> Period:
    """The quarter after the latest review sample, else the quarter after today's."""
    from suiji.data.responses import latest_review_period

    latest = latest_review_period(store)
    p = Period.parse(latest) if latest else Period(today.year, (today.month - 1) // 3 + 1)
    return Period(p.year + (p.quarter == 4), p.quarter % 4 + 1)


def import_responses_command(env: Env, file: Path, encoding: str | None, sheet: str | None,
                             as_json: bool, today: date) -> None:
    from suiji.scheduler.responses import import_responses

    with domain_errors():
        result = import_responses(env.store(), file, today=today, encoding=encoding,
                                  sheet=sheet)
    s = result.summary
    if as_json:
        echo_json(s)
        return
    a = s["answers"]
    click.echo(f"已导入 imported responses: {s['rows']} rows (accept {a['accept']}, decline "
               f"{a['decline']}, no answer {a['no_answer']}), version {s['version']}")
    for d in result.declined:
        repl = ", ".join(f"{r['project_id']} → {r['replaced_by']} ({r['source']})"
                         for r in d["replacements"]) or "no member place to fill"
        click.echo(f"  declined {d['expert_id']} ({d['reason']}): {repl}")
    if result.call_by_hand:
        click.echo("Call by hand (人工电话联系):")
        for c in result.call_by_hand:
            why = "答复未答复 no answer" if c["why"] == "no_answer" else \
                "答复期限已过 no answer by the deadline"
            click.echo(f"  {c['expert_id']}  meeting {c['meeting']}  {why}")


def register(cli: click.Group) -> None:
    export = cli.commands["export"]
    assert isinstance(export, click.Group)

    @cli.group("agencies")
    def agencies() -> None:
        """EIA agencies: credit points, 限期整改 / 黑名单 states and the watch list.

        \b
        Example:
          suiji agencies status --period 2027Q1
        """

    @agencies.command("status")
    @click.option("--period", "-p", metavar="2027Q1", default=None, type=PERIOD,
                  help="The period whose watch list to show (default: the quarter after "
                       "the latest review sample).")
    @click.option("--authors", is_flag=True, help="Also list the lead authors with points.")
    @json_option
    @pass_env
    def agencies_status(env: Env, period: Period | None, authors: bool, as_json: bool) -> None:
        """Points, state, documents approved and reviewed, problems, and the watch list.

        Points count the findings reviewed before the period, in its year and
        the year before; the watch column says why an agency is watched in the
        period (手工标记 hand-set, 黑名单, 限期整改, 编制主持人, 高产出), as a
        freeze of the period would derive it.

        \b
        Example:
          suiji agencies status --period 2027Q1 --authors
        """
        from suiji.data.credit import REASON_ZH, STATE_ZH, agency_status, author_status

        with domain_errors():
            store = env.store()
            rules = env.rules()
            p = period or next_period(store, cli_main.today())
            rows = agency_status(store, rules, p)
            people = author_status(store, rules, p) if authors else []
        if as_json:
            echo_json({"period": str(p), "agencies": rows, "authors": people})
            return
        click.echo(f"Agencies as the watch list of {p} sees them "
                   f"(points {p.year} / {p.year - 1}):")
        click.echo(f"{'USCC':<20} {'points':>7} {'prev':>6} {'state':<8} {'approved':>8} "
                   f"{'reviewed':>8} {'一般':>4} {'严重':>4}  watch")
        for r in rows:
            why = "、".join(REASON_ZH[x] for x in r["reasons"]) or "-"
            click.echo(f"{r['agency_uscc']:<20} {r['points']:>7g} {r['previous_points']:>6g} "
                       f"{STATE_ZH[r['state']]:<8} {r['approved']:>8} {r['reviewed']:>8} "
                       f"{r['general']:>4} {r['serious']:>4}  {why}")
        for a in people:
            click.echo(f"author {a['lead_author_reg']} {a['lead_author']} ({a['agency_uscc']}): "
                       f"{a['points']:g} / {a['previous_points']:g} points, "
                       f"{STATE_ZH[a['state']]}")

    @export.command("bulletin")
    @period_option
    @click.option("--format", "fmt", type=click.Choice(["html", "xlsx", "docx"]),
                  default="html", show_default=True)
    @click.option("--public", is_flag=True,
                  help="The version to publish: no personal identifiers.")
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
    @click.option("-o", "--output", "out", required=True,
                  type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
    @pass_env
    def export_bulletin_cmd(env: Env, period: Period, fmt: str, public: bool, lang: str,
                            out: Path) -> None:
        """The quarterly 通报 of the review loop: work, problems, points, experts, 移交.

        The internal version names lead authors and experts; --public leaves
        every personal identifier out. The export is logged with its SHA-256.

        \b
        Example:
          suiji export bulletin --period 2026Q4 --format docx -o 通报-2026Q4.docx
          suiji export bulletin --period 2026Q4 --format html --public -o 通报.html
        """
        from suiji.reports.bulletin import export_bulletin

        with domain_errors():
            exported = export_bulletin(env.store(), period, env.rules(), fmt, out,
                                       public=public, lang=lang)
        tables = exported.rendered.details["tables"]
        env.info(f"Wrote {out}: " + ", ".join(f"{k} {v}" for k, v in tables.items()))

    @export.command("transfers")
    @period_option
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
    @click.option("-o", "--output", "out", default=None,
                  type=click.Path(dir_okay=False, path_type=Path),
                  help="Write to this file (default: standard output).")
    @pass_env
    def export_transfers_cmd(env: Env, period: Period, lang: str, out: Path | None) -> None:
        """The serious problems of a quarter handed to enforcement (移交), as CSV.

        One row per document found 严重质量问题: project, developer, district,
        industry, agency and the problems, for the inspection side to follow up.

        \b
        Example:
          suiji export transfers --period 2026Q4 -o 移交-2026Q4.csv
        """
        from suiji.reports.bulletin import export_transfers

        dest, name = _destination("csv", out)
        with domain_errors():
            exported = export_transfers(env.store(), period, dest, lang=lang, name=name)
        if out is not None:
            env.info(f"Wrote {exported.rows} rows to {out}.")

    @export.command("notify")
    @click.option("--meeting", required=True, type=DATE, metavar="2026-12-15",
                  help="The meeting whose panel members are notified.")
    @click.option("--answer-by", default=None, metavar="'2026-12-14 12:00'",
                  help="Deadline to answer (default: noon of the day before the meeting).")
    @click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]),
                  default="csv", show_default=True)
    @click.option("--period", "-p", metavar="2026Q4", default=None, type=PERIOD,
                  help="Only when the meeting has panels of several periods.")
    @click.option("-o", "--output", "out", default=None,
                  type=click.Path(dir_okay=False, path_type=Path),
                  help="Write to this file (default: standard output).")
    @pass_env
    def export_notify_cmd(env: Env, meeting: date, answer_by: str | None, fmt: str,
                          period: Period | None, out: Path | None) -> None:
        """What a voice/SMS platform needs: expert, phone, meeting, deadline to answer.

        Internal only (phone numbers are never published). Members without a
        phone number are listed with an empty phone: call them by hand. Answers
        come back with `suiji import responses FILE`.

        \b
        Example:
          suiji export notify --meeting 2026-12-15 -o 通知-1215.csv
        """
        from suiji.reports.notify import export_notify

        dest, name = _destination(fmt, out)
        with domain_errors():
            exported = export_notify(env.store(), meeting, fmt, dest, answer_by=answer_by,
                                     period=period, name=name)
        details = exported.rendered.details
        if details["without_phone"]:
            env.info(f"No phone number for {', '.join(details['without_phone'])}: call them "
                     f"by hand.")
        if out is not None:
            env.info(f"Wrote {exported.rows} experts to {out} (answer by "
                     f"{details['answer_by']}).")
