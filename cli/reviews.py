"""``suiji draw reviews``, ``draw panels``, ``decline`` and ``experts status``.

The commands only adapt: they parse options, call one core function of
:mod:`suiji.sampler.reviews`, :mod:`suiji.scheduler.panels` or
:mod:`suiji.data.scores`, and format the result.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from suiji.cli import main as cli_main
from suiji.cli.main import (
    Env,
    domain_errors,
    echo_json,
    json_option,
    pass_env,
    period_option,
    seed_lines,
)
from suiji.cli.types import DATE, PERIOD, SEED
from suiji.data.period import Period

if TYPE_CHECKING:
    from suiji.data.draws import DrawRecord

DOC_TYPE_ZH = {"report": "报告书", "form": "报告表"}
REASON_ZH = {"watch_list": "重点监督单位报告书", "certainty": "必抽", "sampled": "抽中"}
STATE_ZH = {"good": "正常", "warning": "警示", "suspended": "暂停"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: object, width: int, right: bool = False) -> str:
    """Pad to a display width (a CJK character takes two columns)."""
    t = str(text)
    fill = " " * max(width - _width(t), 0)
    return fill + t if right else t + fill


def _draw_meta(record: DrawRecord, facts: dict[str, Any]) -> dict[str, Any]:
    return {"draw": record.id, "period": record.period, "seed": record.seed,
            "seed_source": record.seed_source, "seed_weak": bool(facts.get("seed_weak")),
            "commitment": facts.get("commitment"), "output_sha256": record.output_sha256,
            "created_at": record.created_at}


seed_option = click.option("--seed", default=None, metavar="DIGITS", type=SEED,
                           help="The public seed, e.g. 20 dice digits. Without it a seed is "
                                "taken from the OS's secure random source and recorded.")
redraw_option = click.option("--redraw", is_flag=True,
                             help="Replace the current draw (the earlier one stays on record).")
reason_option = click.option("--reason", default="", help="Why a redraw is needed (published).")
commitment_option = click.option(
    "--commitment", default=None, metavar="DIGEST",
    help="The commitment digest `suiji freeze --scope reviews --seed-source` printed and you "
         "published: required once the reviews inputs have one.")
weak_option = click.option("--weak-seed", is_flag=True,
                           help="Accept a seed with fewer than 20 digits (marked weak in every "
                                "notice).")


@click.command("reviews")
@period_option
@seed_option
@commitment_option
@weak_option
@redraw_option
@reason_option
@click.option("--before-close", is_flag=True,
              help="Draw before the quarter has ended (recorded and shown as such); documents "
                   "approved later in the quarter are not in the sample.")
@json_option
@pass_env
def draw_reviews_command(env: Env, period: Period, seed: str | None, commitment: str | None,
                         weak_seed: bool, redraw: bool, reason: str, before_close: bool,
                         as_json: bool) -> None:
    """Draw the quarter's EIA technical-review sample from the frozen inputs.

    At least review.ratio (30%) of the documents approved in the quarter,
    rounded up; every agency with approved documents at least one; the 报告书
    of watch-list agencies at review.watch_report_rate; high-risk industries
    weighted by review.high_risk_weight. Each document's exact inclusion
    probability is stated. One sample per quarter (a second needs --redraw
    --reason).

    \b
    Example:
      suiji freeze --period 2026Q4 --scope reviews
      suiji draw reviews --period 2026Q4 --seed 27182818284590452353
    """
    from suiji.data.draws import draw_facts
    from suiji.sampler.reviews import draw_reviews

    with domain_errors():
        store = env.store()
        record = draw_reviews(store, period, env.rules(), seed, redraw=redraw,
                              reason=reason, commitment=commitment, weak_seed=weak_seed,
                              today=cli_main.today(), before_close=before_close)
        facts = draw_facts(store, record)
    out = record.output
    if as_json:
        extra = {"watch_list": out["watch_list"]} if "watch_list" in out else {}
        echo_json({**_draw_meta(record, facts), "summary": out["summary"],
                   "strata": out["strata"], "items": out["items"], "notes": out["notes"],
                   "before_close": bool(record.params.get("before_close")), **extra})
        return
    if record.params.get("before_close"):
        click.echo(f"Drawn before the quarter closed (on {record.params['drawn_on']}, "
                   f"--before-close): documents approved after that are not in the sample.")
    s = out["summary"]
    click.echo(f"Review sample of {record.period} (draw {record.id}, seed {record.seed}): "
               f"{s['sampled']} of {s['approved']} approved documents (at least {s['required']} "
               f"= {float(s['ratio']):.0%}, rounded up), {s['agencies']} agencies.")
    for line in seed_lines(record, facts):
        click.echo(line)
    click.echo(f"{_pad('项目编号', 18)}{_pad('类型', 8)}{_pad('编制单位', 34)}"
               f"{_pad('入样概率', 10, True)}  理由")
    for i in out["items"]:
        click.echo(f"{_pad(i['project_id'], 18)}"
                   f"{_pad(DOC_TYPE_ZH.get(i['doc_type'], i['doc_type']), 8)}"
                   f"{_pad(i['agency_name'][:16], 34)}{i['probability']:>10.4f}  "
                   f"{REASON_ZH.get(i['reason'], i['reason'])}")
    if "watch_list" in out:
        from suiji.data.credit import REASON_ZH as WATCH_ZH

        click.echo(f"Watch list (重点监督) of {record.period}, derived and frozen:")
        for w in out["watch_list"]:
            click.echo(f"  {w['agency_uscc']}  "
                       + "、".join(WATCH_ZH.get(r, r) for r in w["reasons"]))
    for note in out["notes"]:
        env.info(f"note: {note}")
    env.info(f"Output sha256 {record.output_sha256}; draw panels next with "
             f"`suiji draw panels --period {record.period} --meeting YYYY-MM-DD`.")


@click.command("panels")
@period_option
@click.option("--meeting", required=True, type=DATE, metavar="YYYY-MM-DD",
              help="The date of the review meeting.")
@click.option("--documents", default=None, metavar="ID,ID",
              help="The sampled documents to panel (default: every sampled document of the "
                   "period without a panel yet).")
@seed_option
@commitment_option
@weak_option
@redraw_option
@reason_option
@click.option("--non-working-day", is_flag=True,
              help="Draw for a meeting on a weekend or public holiday (refused otherwise).")
@json_option
@pass_env
def draw_panels_command(env: Env, period: Period, meeting: date, documents: str | None,
                        seed: str | None, commitment: str | None, weak_seed: bool,
                        redraw: bool, reason: str, non_working_day: bool,
                        as_json: bool) -> None:
    """Draw the expert panels and alternates of a review meeting (sealed until it is held).

    Per document review.panel_size experts (报告书 3, 报告表 2) whose
    specialties cover its industry, with recusal (employer now or in the last
    3 years, declared conflicts, earlier review of the document), load caps
    and review.alternates alternates, each expert the alternate of at most
    review.alternate_cap documents of the meeting; an expert whose specialty
    names the document's industry qualifies too. Refused later than
    review.lead_days before the meeting (报告书 2 days, 报告表 1 day), earlier
    than review.max_lead_days (7 days), for a meeting on a day off (unless
    --non-working-day), and for a document that already has a panel (unless
    --redraw --reason). The draw date (today) is recorded and checked by
    `suiji verify` against the log's time.

    \b
    Example:
      suiji draw panels --period 2026Q4 --meeting 2027-01-20 --seed 31415926535897932384
      suiji draw panels -p 2026Q4 --meeting 2027-01-27 --documents JZHP-2026-0012,JZHP-2026-0040
    """
    from suiji.data.draws import draw_facts
    from suiji.scheduler.panels import draw_panels

    docs = documents.replace("，", ",").split(",") if documents is not None else None
    with domain_errors():
        store = env.store()
        record = draw_panels(store, period, env.rules(), meeting, cli_main.today(), docs, seed,
                             redraw=redraw, reason=reason, commitment=commitment,
                             weak_seed=weak_seed, non_working_day=non_working_day)
        facts = draw_facts(store, record)
    out = record.output
    if as_json:
        echo_json({**_draw_meta(record, facts), "meeting": out["meeting"],
                   "drawn_on": out["drawn_on"], "items": out["items"], "solver": out["solver"]})
        return
    click.echo(f"Panels for the meeting of {out['meeting']} ({record.period}, draw {record.id}, "
               f"seed {record.seed}, drawn on {out['drawn_on']}): {len(out['items'])} documents.")
    for line in seed_lines(record, facts):
        click.echo(line)
    for i in out["items"]:
        click.echo(f"  {_pad(i['project_id'], 18)}"
                   f"{_pad(DOC_TYPE_ZH.get(i['doc_type'], i['doc_type']), 8)}"
                   f"专家 {'、'.join(i['experts'])}   替补 {'、'.join(i['alternates'])}")
    env.info("Sealed: the panels are not public before the meeting. "
             f"Solver: {out['solver']['status']}, unique={out['solver']['unique']}.")


@click.command("decline")
@click.option("--meeting", required=True, type=DATE, metavar="YYYY-MM-DD",
              help="The date of the review meeting.")
@click.option("--expert", required=True, metavar="ID", help="The expert who declines.")
@click.option("--reason", required=True,
              help="Why (recorded, and published with the panels after the meeting), e.g. 出差.")
@click.option("--period", "-p", default=None, metavar="2026Q4", type=PERIOD,
              help="The sample's quarter, when the meeting has panels of several.")
@json_option
@pass_env
def decline_command(env: Env, meeting: date, expert: str, reason: str, period: Period | None,
                    as_json: bool) -> None:
    """An expert declines a meeting: the first eligible alternate takes each of their places.

    Recorded as an event on the panel draw with the reason. A declined expert
    is never drawn again for that meeting. At most review.max_declines_per_meeting
    (default 3) declines per meeting; beyond that draw the panels again.

    \b
    Example:
      suiji decline --meeting 2027-01-20 --expert ZJ0042 --reason "出差"
    """
    from suiji.scheduler.panels import decline

    with domain_errors():
        result = decline(env.store(), meeting, expert, reason, period)
    if as_json:
        echo_json({"draw": result.draw.id, "event": result.event_id, "expert_id": expert,
                   "reason": reason, "replacements": list(result.replacements),
                   "items": result.output["items"]})
        return
    click.echo(f"Expert {expert} declined the meeting of {meeting} ({reason}); event "
               f"{result.event_id} on draw {result.draw.id}.")
    for r in result.replacements:
        source = "first eligible alternate" if r["source"] == "alternate" else \
            "next eligible expert (alternates exhausted)"
        click.echo(f"  {r['project_id']}: replaced by {r['replaced_by']} ({source})")
    if not result.replacements:
        click.echo("  (was an alternate only; the alternate list was topped up)")


@click.group("experts")
def experts_group() -> None:
    """The expert library: state, deduction points and load.

    \b
    Example:
      suiji experts status --period 2026Q4
    """


@experts_group.command("status")
@click.option("--period", "-p", default=None, metavar="2026Q4", type=PERIOD,
              help="The quarter whose load is shown (default: the current quarter).")
@click.option("--brief", is_flag=True,
              help="List only experts with points or load, warned, suspended or not eligible.")
@json_option
@pass_env
def experts_status_command(env: Env, period: Period | None, brief: bool,
                           as_json: bool) -> None:
    """Each expert's state (正常/警示/暂停), deduction points of the year, and load.

    Points add up per calendar year: at review.warning_points (10) a warning,
    at review.suspension_points (20) a suspension for the rest of that year and
    the next; suspended experts are never drawn. An expert who signed off a
    document found 严重质量问题 this year is shown as 把关不严 with the documents.

    \b
    Example:
      suiji experts status
      suiji experts status --period 2026Q4 --brief
      suiji experts status --json
    """
    from suiji.data.scores import expert_status

    on = cli_main.today()
    with domain_errors():
        rows = expert_status(env.store(), env.rules(), on, period)
    if as_json:
        echo_json(rows)
        return
    shown = rows if not brief else [r for r in rows if r["points"] or r["load"]
                                    or r["state"] != "good" or not r["eligible"] or r["lax"]]
    counts = {s: sum(r["state"] == s for r in rows) for s in STATE_ZH}
    click.echo(f"{len(rows)} experts: {counts['good']} 正常, {counts['warning']} 警示, "
               f"{counts['suspended']} 暂停; {sum(r['eligible'] for r in rows)} eligible "
               f"to be drawn. Points of {on.year}; load of "
               f"{rows[0]['period'] if rows else '-'}.")
    if not shown:
        return
    click.echo(f"{_pad('专家编号', 12)}{_pad('姓名', 10)}{_pad('状态', 6)}"
               f"{_pad('年度扣分', 10, True)}{_pad('上年扣分', 10, True)}"
               f"{_pad('负荷', 9, True)}  可抽取")
    for r in shown:
        why = "是" if r["eligible"] else ("否: 不在库" if not r["active"] else
                                          "否: 暂停" if r["state"] == "suspended" else "否: 超龄")
        load = f"{r['load']}/{r['period_load_cap']}"
        lax = f"  把关不严: {'、'.join(r['lax'])}" if r["lax"] else ""
        click.echo(f"{_pad(r['expert_id'], 12)}{_pad(r['name'][:4], 10)}"
                   f"{_pad(STATE_ZH[r['state']], 6)}{r['points']:>10g}"
                   f"{r['previous_points']:>10g}{load:>9}  {why}{lax}")


def register(cli: click.Group) -> None:
    draw = cli.commands["draw"]
    assert isinstance(draw, click.Group)
    draw.add_command(draw_reviews_command, "reviews")
    draw.add_command(draw_panels_command, "panels")
    cli.add_command(decline_command, "decline")
    cli.add_command(experts_group, "experts")
