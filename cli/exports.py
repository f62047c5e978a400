"""``suiji export plan|reviews`` and ``suiji report``: every rendering, each logged in the trail.

The library writes and records them (:mod:`suiji.reports.exports`); these
commands parse the options, call it and say what was written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from suiji.cli import main as cli_main
from suiji.cli.main import (
    Env,
    domain_errors,
    echo_json,
    json_option,
    pass_env,
    period_option,
)
from suiji.cli.types import DATE
from suiji.data.period import Period

if TYPE_CHECKING:
    from suiji.reports.exports import Exported


def _as_of(as_of: date | None, public: bool) -> date:
    """The day a notice is as of: today, or an earlier day; later is refused in public."""
    now = cli_main.today()
    if as_of is None:
        return now
    if public and as_of > now:
        raise click.UsageError(f"--as-of {as_of.isoformat()} is after today "
                               f"({now.isoformat()}): a public notice as of a later day would "
                               f"unseal inspections and panels before they take place.")
    return as_of


def _common(f: Callable[..., None]) -> Callable[..., None]:
    f = click.option("--as-of", "as_of", default=None, type=DATE, metavar="DATE",
                     help="The notice as it stood on this day (default today). A public "
                          "export after today is refused: it would publish inspections and "
                          "panels not yet carried out.")(f)
    f = click.option("-o", "--output", "out", default=None,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Write to this file (default: standard output).")(f)
    f = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh",
                     show_default=True, help="Language of headers and labels.")(f)
    f = click.option("--public", is_flag=True,
                     help="Only what may be published: no sealed or personal data.")(f)
    f = click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx", "html"]),
                     default="json", show_default=True, help="Output format.")(f)
    return f


def _destination(fmt: str, out: Path | None) -> tuple[Path | BinaryIO, str]:
    """Where the export goes and what the trail calls it: the file, or standard output."""
    if out is not None:
        return out, str(out)
    if fmt == "xlsx":
        raise click.UsageError("XLSX is a binary file and is not printed to the terminal; "
                               "give a file name, e.g. -o plan.xlsx.")
    sys.stdout.flush()
    return sys.stdout.buffer, "<stdout>"


def _say(env: Env, exported: Exported, out: Path | None) -> None:
    sealed = exported.sealed
    if out is not None:
        env.info(f"Wrote {exported.rows} rows to {out}" + (f"; {sealed} still sealed."
                                                           if sealed else "."))
    elif sealed:
        env.info(f"{sealed} not shown: sealed until they take place.")


def register(cli: click.Group) -> None:
    export = cli.commands["export"]
    assert isinstance(export, click.Group)

    @export.command("plan")
    @period_option
    @_common
    @click.option("--authority", default="", help="Issuing bureau, shown in the notice title, "
                                                  "e.g. 江州市生态环境局.")
    @pass_env
    def export_plan_cmd(env: Env, period: Period, fmt: str, public: bool, lang: str,
                        out: Path | None, as_of: date | None, authority: str) -> None:
        """Export the inspection plan, or with --public the notice to publish (一公开).

        Internal exports list every inspection with inspectors, probabilities and
        tickets: keep them sealed. --public lists only inspections whose date has
        passed, with firm, USCC, district, matters, inspectors and results, and
        never an ID-card or phone number; HTML gives the self-contained notice.
        CSV is UTF-8 with a BOM for Excel. Every export is logged with its SHA-256.

        \b
        Example:
          suiji export plan --period 2026Q4 --format xlsx -o 抽查计划.xlsx
          suiji export plan --period 2026Q4 --format html --public -o 公示.html
          suiji export plan --period 2026Q4 --format json > plan.json
        """
        from suiji.reports.exports import export_plan

        dest, name = _destination(fmt, out)
        with domain_errors():
            exported = export_plan(env.store(), period, fmt, dest, public=public,
                                   as_of=_as_of(as_of, public), lang=lang,
                                   authority=authority, name=name)
        _say(env, exported, out)

    @export.command("tasks")
    @period_option
    @_common
    @click.option("--authority", default="", help="Issuing bureau, shown in the notice, e.g. "
                                                  "江州市生态环境局.")
    @click.option("--table", type=click.Choice(["visits", "tasks", "results"]),
                  default="visits", show_default=True,
                  help="visits; tasks (the plan notice: no firm named); results (by task and "
                       "matter). A public HTML export is the whole notice.")
    @pass_env
    def export_tasks_cmd(env: Env, period: Period, fmt: str, public: bool, lang: str,
                         out: Path | None, as_of: date | None, authority: str,
                         table: str) -> None:
        """Export the task plan, or with --public its notices (抽查计划公示 and results).

        The public notice lists every task with its matters and legal basis,
        population size, ratio and time frame, and names no firm before its
        visit; after the visits, their matters and results per matter, and the
        counts of 发现问题 / 责令改正 / 立案 by task and matter.

        \b
        Example:
          suiji export tasks --period 2026Q4 --format html --public -o 抽查计划公示.html
          suiji export tasks --period 2026Q4 --table results --format xlsx -o 结果.xlsx
        """
        from suiji.reports.exports import export_tasks

        dest, name = _destination(fmt, out)
        with domain_errors():
            exported = export_tasks(env.store(), period, fmt, dest, public=public,
                                    as_of=as_of or date.today(), lang=lang,
                                    authority=authority, table=table, name=name)
        _say(env, exported, out)

    @export.command("reviews")
    @period_option
    @_common
    @pass_env
    def export_reviews_cmd(env: Env, period: Period, fmt: str, public: bool, lang: str,
                           out: Path | None, as_of: date | None) -> None:
        """Export the EIA review sample with its expert panels.

        Panels stay sealed (omitted) in public output until their meeting has
        passed; internal exports show them. Every export is logged.

        \b
        Example:
          suiji export reviews --period 2026Q4 --format csv -o 复核抽查.csv
          suiji export reviews --period 2026Q4 --format html --public -o 复核公示.html
        """
        from suiji.reports.exports import export_reviews

        dest, name = _destination(fmt, out)
        with domain_errors():
            exported = export_reviews(env.store(), period, fmt, dest, public=public,
                                      as_of=_as_of(as_of, public), lang=lang, name=name)
        _say(env, exported, out)

    @cli.command("report")
    @period_option
    @click.option("-o", "--output", "out", required=True,
                  type=click.Path(file_okay=False, path_type=Path),
                  help="Folder for report.html and report.xlsx.")
    @click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
    @json_option
    @pass_env
    def report_cmd(env: Env, period: Period, out: Path, lang: str, as_json: bool) -> None:
        """Write the internal quarterly report: HTML with charts, and the tables as XLSX.

        Coverage per district and category against quota, exclusions and why,
        workload per inspector and expert, recusals, substitutions and declines,
        and the review sample by agency and industry with inclusion probabilities.

        \b
        Example:
          suiji report --period 2026Q4 -o 报告-2026Q4
        """
        from suiji.reports.exports import write_report

        with domain_errors():
            written = write_report(env.store(), period, out, lang=lang)
        if as_json:
            echo_json({"folder": str(out), "files": dict(written.files),
                       "notes": list(written.notes)})
            return
        for note in written.notes:
            env.info(f"note: {note}")
        for name in sorted(written.files):
            click.echo(str(out / name))

