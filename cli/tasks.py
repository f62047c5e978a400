"""``suiji draw tasks``: the quarter's inspection tasks, one visit per firm (suiji-tasks/1)."""

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


def summary(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = record.output
    return {"draw": record.id, "period": record.period, "subject": record.subject,
            "seed": record.seed, "seed_source": record.seed_source,
            "snapshot": out["snapshot"], "output_sha256": record.output_sha256,
            "drawn_on": out["drawn_on"], "start": out["start"],
            "tasks": [{k: t[k] for k in ("id", "name", "source", "window", "eligible", "quota",
                                         "drawn", "probability", "excluded", "exempt",
                                         "team_size")} for t in out["tasks"]],
            "summary": out["summary"], "solver": out["solver"], "reason": record.reason}


@click.command("tasks")
@period_option
@click.option("--task", "tasks", multiple=True, metavar="ID",
              help="Draw only this task (repeatable); default: every task of the rules not "
                   "drawn yet for the period.")
@click.option("--seed", default=None, metavar="DIGITS", type=SEED,
              help="The public seed of the period (its first task draw fixes it; a task added "
                   "later is drawn under the same seed). Without it one comes from the OS.")
@click.option("--commitment", default=None, metavar="DIGEST",
              help="The commitment digest `suiji freeze --scope tasks --seed-source` printed "
                   "and you published: required once the inputs have one.")
@click.option("--weak-seed", is_flag=True,
              help="Accept a seed with fewer than 20 digits (marked weak in every notice).")
@click.option("--redraw", is_flag=True,
              help="Replace the current draw of exactly these tasks (it stays on record).")
@click.option("--reason", default="", help="Why a redraw is needed (published).")
@click.option("--start", default=None, type=DATE, metavar="DATE",
              help="Date no visit before this day (default: the first working day after "
                   "today, or the period's first day).")
@json_option
@pass_env
def draw_tasks_command(env: Env, period: Period, tasks: tuple[str, ...], seed: str | None,
                       commitment: str | None, weak_seed: bool, redraw: bool, reason: str,
                       start: date | None, as_json: bool) -> None:
    """Draw the period's inspection tasks ([[inspection.tasks]]) with shared tickets.

    Each task's sample is the k firms of its population with the smallest
    Rivest tickets under the period's seed; a firm drawn by several tasks gets
    one visit for all their matters, on a working day inside the tasks'
    common dates, by a team of the largest team size; dates start on the
    first working day after today (never in the past), or on a later --start,
    and a task's dates are cut to that. Firms at the annual cap
    are left out of every counting task; a national campaign may still draw
    them (marked exempt). Freeze first with --scope tasks. A campaign decided
    mid-quarter: add it to the rules, freeze again, draw it with --task ID;
    the drawn tasks stay as they are.

    \b
    Example:
      suiji freeze --period 2026Q4 --scope tasks
      suiji draw tasks --period 2026Q4 --seed 80417263950183746251
      suiji draw tasks --period 2026Q4 --task vocs
    """
    from suiji.data.draws import draw_facts
    from suiji.scheduler.tasks_plan import draw_task_plan

    if reason and not redraw:
        raise click.UsageError("--reason goes with --redraw.")
    with domain_errors(), Progress(f"抽取 drawing the {period} tasks") as progress:
        store = env.store()
        record = draw_task_plan(store, period, env.rules(), list(tasks) or None, seed,
                                redraw=redraw, reason=reason, progress=progress,
                                today=cli_main.today(), start=start, commitment=commitment,
                                weak_seed=weak_seed)
        facts = draw_facts(store, record)
    result = summary(record)
    result.update(seed_weak=bool(facts.get("seed_weak")), commitment=facts.get("commitment"))
    if as_json:
        echo_json(result)
        return
    click.echo(f"Inspection tasks {record.subject} of {record.period} (draw {record.id})"
               + (f", a redraw: {record.reason}" if redraw else ""))
    for line in seed_lines(record, facts):
        click.echo(line)
    if seed is None and record.seed_source != "os":
        click.echo("            the period's seed, shared by its tasks")
    click.echo(f"  dates     from {result['start']} (drawn on {result['drawn_on']})")
    click.echo(f"  snapshot  {result['snapshot']}")
    click.echo("  task              eligible    quota    drawn  at cap  exempt  window")
    for t in result["tasks"]:
        click.echo(f"  {t['id']:<15} {t['eligible']:>10,} {t['quota']:>8,} {t['drawn']:>8,} "
                   f"{t['excluded']['annual_cap']:>7,} {t['exempt']:>7,}  "
                   f"{t['window'][0]}..{t['window'][1]}")
    s = result["summary"]
    click.echo(f"  {s['visits']:,} visits for {s['firm_tasks']:,} firm-task pairs"
               + (f" ({s['joined']:,} join an earlier visit)" if s["joined"] else "")
               + f"; independent draws would need {s['independent_expected']:,.2f} visits on "
                 f"average: {s['saved']:,.2f} saved")
    click.echo(f"  output sha256  {record.output_sha256}")
    env.info("Keep the plan sealed until the visits; the pre-quarter notice names no firm.")


@click.group("results")
def results_group() -> None:
    """Results of a task plan's visits, per matter, and what is overdue.

    \b
    Example:
      suiji import results 2026Q4事项结果.csv --period 2026Q4
      suiji results status --period 2026Q4
    """


@results_group.command("status")
@period_option
@click.option("--as-of", "as_of", default=None, type=DATE, metavar="DATE",
              help="The day to judge overdue results on (default: today).")
@click.option("--all", "show_all", is_flag=True, help="List every visit, not only overdue.")
@json_option
@pass_env
def results_status_command(env: Env, period: Period, as_of: date | None, show_all: bool,
                           as_json: bool) -> None:
    """List the task plan's visits whose results are overdue (exit 0 either way).

    A visit's results are due within inspection.results_due_days working days
    (default 20) after it, one per matter of the visit (import them with
    `suiji import results FILE`, a file with a 事项编号/matter column).

    \b
    Example:
      suiji results status --period 2026Q4
      suiji results status --period 2026Q4 --as-of 2027-01-31 --json
    """
    from suiji.data.matter_results import results_status

    day = as_of or cli_main.today()
    with domain_errors():
        visits = results_status(env.store(), period)
    late = [v for v in visits if v.overdue(day)]
    shown = visits if show_all else late
    rows = [{"uscc": v.uscc, "name": v.name, "date": v.visit_date, "due": v.due,
             "due_estimated": v.estimated, "tasks": list(v.tasks), "missing": list(v.missing),
             "overdue": v.overdue(day)} for v in shown]
    if as_json:
        echo_json({"period": str(period), "as_of": day.isoformat(), "visits": len(visits),
                   "complete": sum(not v.missing for v in visits), "overdue": len(late),
                   "rows": rows})
        return
    click.echo(f"{period}: {len(visits):,} visits, {sum(not v.missing for v in visits):,} with "
               f"every matter's result, {len(late):,} overdue on {day.isoformat()}.")
    for r in rows:
        flag = "OVERDUE " if r["overdue"] else ""
        mark = "*" if r["due_estimated"] else ""
        click.echo(f"  {flag}{r['due']}{mark}  {r['uscc']}  {r['name']}  visited {r['date']}  "
                   f"missing {', '.join(r['missing']) or '—'}")
    if any(v.estimated for v in visits):
        env.info("* due date counted Monday to Friday: the holiday notice of that year is not "
                 "in the calendar or the rules yet (add [calendar.YEAR] to the rules).")


def register(cli: click.Group) -> None:
    draw = cli.commands["draw"]
    assert isinstance(draw, click.Group)
    draw.add_command(draw_tasks_command)
    cli.add_command(results_group)
