"""``suiji draw inspections`` and ``suiji substitute``: the double-random plan."""

from __future__ import annotations

from datetime import date
from typing import Any

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
from suiji.cli.types import DATE, SEED
from suiji.data.period import Period
from suiji.data.progress import Progress


@click.command("inspections")
@period_option
@click.option("--seed", default=None, metavar="DIGITS", type=SEED,
              help="The public seed, e.g. 20 dice digits rolled before witnesses. Without it "
                   "one is drawn from the operating system's secure random source.")
@click.option("--commitment", default=None, metavar="DIGEST",
              help="The commitment digest `suiji freeze --seed-source` printed and you "
                   "published: required once the inputs have one.")
@click.option("--weak-seed", is_flag=True,
              help="Accept a seed with fewer than 20 digits (marked weak in every notice).")
@click.option("--redraw", is_flag=True,
              help="Replace the period's current plan (the earlier one stays on record).")
@click.option("--reason", default="", help="Why a redraw is needed (published).")
@click.option("--start", default=None, type=DATE, metavar="DATE",
              help="Date no inspection before this day (default: the first working day "
                   "after today, or the period's first day).")
@json_option
@pass_env
def draw_inspections(env: Env, period: Period, seed: str | None, commitment: str | None,
                     weak_seed: bool, redraw: bool, reason: str, start: date | None,
                     as_json: bool) -> None:
    """Draw the period's double-random plan: firms, dates and inspector teams.

    Draws from the latest freeze of the period (`suiji freeze`), refusing if
    any input changed since. Per category the firms with the smallest Rivest
    tickets under the seed are drawn (risk-weighted PPS if the rules say so);
    each inspection gets a working day and a team whose assignment is the
    unique optimum of a min-cost flow with seed-derived costs. Dates start on
    the first working day after today (never in the past), or on a later
    --start. One plan per quarter: a second needs --redraw --reason.

    The seed is normalised (NFKC, spaces and separators removed) and must
    have at least 20 digits (else --weak-seed). Once the inputs were frozen
    with --seed-source, name the published commitment with --commitment.

    \b
    Example:
      suiji draw inspections --period 2026Q4 --seed 80417263950183746251 --commitment 5f2c…
      suiji draw inspections -p 2026Q4 --seed 11223344556677889900 --redraw --reason "名录有误"
    """
    from suiji.data.draws import draw_facts
    from suiji.scheduler.plan import draw_plan

    if reason and not redraw:
        raise click.UsageError("--reason goes with --redraw.")
    with domain_errors(), Progress(f"抽取 drawing the {period} plan") as progress:
        store = env.store()
        record = draw_plan(store, period, env.rules(), seed, redraw=redraw,
                           reason=reason, progress=progress, commitment=commitment,
                           weak_seed=weak_seed, today=cli_main.today(), start=start)
        facts = draw_facts(store, record)
    out: dict[str, Any] = record.output
    summary = {"draw": record.id, "period": record.period, "seed": record.seed,
               "seed_source": record.seed_source, "seed_weak": bool(facts.get("seed_weak")),
               "commitment": facts.get("commitment"), "snapshot": out["snapshot"],
               "output_sha256": record.output_sha256, "strata": out["strata"],
               "excluded": out["excluded"], "inspections": len(out["items"]),
               "solver": out["solver"], "redraw": redraw, "reason": record.reason,
               "start": out.get("start"), "drawn_on": out.get("drawn_on")}
    if as_json:
        echo_json(summary)
        return
    click.echo(f"Inspection plan of {record.period} (draw {record.id})"
               + (f", a redraw: {record.reason}" if redraw else ""))
    for line in seed_lines(record, facts):
        click.echo(line)
    if "start" in out:
        click.echo(f"  dates     from {out['start']} (drawn on {out['drawn_on']})")
    click.echo(f"  snapshot  {out['snapshot']}")
    click.echo("  category   eligible    quota    drawn  method")
    for s in out["strata"]:
        extra = f"  min {s['min_per_district']}/district" if s["min_per_district"] else ""
        click.echo(f"  {s['category']:<9} {s['eligible']:>9,} {s['quota']:>8,} "
                   f"{s['drawn']:>8,}  {s['method']}{extra}")
    ex = out["excluded"]
    click.echo(f"  excluded  {ex['status']:,} by status (closed, stopped, ...), "
               f"{ex['positive_list']:,} on the positive list, {ex['annual_cap']:,} at the "
               f"annual cap")
    solver = out["solver"]
    click.echo(f"  {len(out['items']):,} inspections; teams {solver['status']}, "
               + ("unique optimum" if solver["unique"] else "ties broken deterministically")
               + f" ({solver['arcs']:,} arcs, {solver['components']:,} components)")
    click.echo(f"  output sha256  {record.output_sha256}")
    env.info(f"Keep the plan sealed until the inspections; export it with "
             f"`suiji export plan --period {record.period}`.")


@click.command("substitute")
@period_option
@click.option("--inspector", "badge", required=True, metavar="BADGE",
              help="The badge number (执法证号) of the inspector to replace.")
@click.option("--reason", required=True, help="Why (sick leave, late recusal, ...); recorded.")
@click.option("--from", "from_date", default=None, metavar="DATE", type=DATE,
              help="Replace in inspections on or after this date: today (the default) or "
                   "later, never earlier.")
@json_option
@pass_env
def substitute_command(env: Env, period: Period, badge: str, reason: str,
                       from_date: date | None, as_json: bool) -> None:
    """Replace an inspector in their pending inspections of the period's plan.

    Each affected inspection keeps its date and other members; the new member
    is drawn among the eligible inspectors free that day by the same
    verifiable method (seed-derived min-cost flow). Recorded as an event with
    the reason; the plan before it stays on record.

    \b
    Example:
      suiji substitute --period 2026Q4 --inspector 32010012 --reason "病假" --from 2026-11-02
    """
    from suiji.scheduler.plan import substitute_inspector

    with domain_errors():
        result = substitute_inspector(env.store(), period, badge, reason,
                                      from_date.isoformat() if from_date else None,
                                      today=cli_main.today())
    changed = [{"uscc": r.uscc, "date": r.date, "before": list(r.before), "after": list(r.after)}
               for r in result.replacements]
    if as_json:
        echo_json({"period": result.period, "event": result.event, "inspector": badge,
                   "from": result.start, "reason": reason, "changed": changed})
        return
    click.echo(f"Substitution {result.event} in the {result.period} plan: inspector {badge} "
               f"replaced in {len(changed)} pending inspection(s) from {result.start} "
               f"({reason}).")
    for r in result.replacements:
        new = [b for b in r.after if b not in r.before]
        click.echo(f"  {r.date}  {r.uscc}  {badge} -> {', '.join(new)}")


def register(cli: click.Group) -> None:
    draw = cli.commands["draw"]
    assert isinstance(draw, click.Group)
    draw.add_command(draw_inspections)
    cli.add_command(substitute_command)
