"""``suiji draw tasks``: the quarter's inspection tasks, one visit per firm (suiji-tasks/1)."""

from __future__ import annotations

from typing import Any

import click

from suiji.cli.main import Env, domain_errors, echo_json, json_option, pass_env, period_option
from suiji.cli.types import SEED
from suiji.data.period import Period
from suiji.data.progress import Progress


def summary(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = record.output
    return {"draw": record.id, "period": record.period, "subject": record.subject,
            "seed": record.seed, "seed_source": record.seed_source,
            "snapshot": out["snapshot"], "output_sha256": record.output_sha256,
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
@click.option("--redraw", is_flag=True,
              help="Replace the current draw of exactly these tasks (it stays on record).")
@click.option("--reason", default="", help="Why a redraw is needed (published).")
@json_option
@pass_env
def draw_tasks_command(env: Env, period: Period, tasks: tuple[str, ...], seed: str | None,
                       redraw: bool, reason: str, as_json: bool) -> None:
    """Draw the period's inspection tasks ([[inspection.tasks]]) with shared tickets.

    Each task's sample is the k firms of its population with the smallest
    Rivest tickets under the period's seed; a firm drawn by several tasks gets
    one visit for all their matters, on a working day inside the tasks'
    common dates, by a team of the largest team size. Firms at the annual cap
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
    from suiji.scheduler.tasks_plan import draw_task_plan

    if reason and not redraw:
        raise click.UsageError("--reason goes with --redraw.")
    with domain_errors(), Progress(f"抽取 drawing the {period} tasks") as progress:
        record = draw_task_plan(env.store(), period, env.rules(), list(tasks) or None, seed,
                                redraw=redraw, reason=reason, progress=progress)
    result = summary(record)
    if as_json:
        echo_json(result)
        return
    source = ("generated from the operating system's secure random source; publish it"
              if record.seed_source == "os" else "given or the period's")
    click.echo(f"Inspection tasks {record.subject} of {record.period} (draw {record.id})"
               + (f", a redraw: {record.reason}" if redraw else ""))
    click.echo(f"  seed      {record.seed}  ({source})")
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


def register(cli: click.Group) -> None:
    draw = cli.commands["draw"]
    assert isinstance(draw, click.Group)
    draw.add_command(draw_tasks_command)
