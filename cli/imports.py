"""``suiji import KIND FILE``: read a bureau file, check it whole, record it all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from suiji.cli import main as cli_main
from suiji.cli.main import (
    Env,
    domain_errors,
    echo_json,
    json_option,
    pass_env,
)
from suiji.cli.types import PERIOD
from suiji.data.period import Period
from suiji.data.schema import KINDS, RECORD_KINDS

IMPORT_KINDS = (*KINDS, *RECORD_KINDS)


def summary_line(result: dict[str, Any]) -> str:
    """``companies: 10,000 rows (inserted 10,000, updated 0, removed 0), version 1``."""
    counts = [f"{name} {result[name]:,}" for name in ("inserted", "updated", "removed")
              if isinstance(result.get(name), int)]
    line = f"{result['kind']}: {result['rows']:,} rows"
    if counts:
        line += f" ({', '.join(counts)})"
    if result.get("version") is not None:
        line += f", version {result['version']}"
    return f"已导入 imported {line}"


@click.command("import")
@click.argument("kind", type=click.Choice(IMPORT_KINDS), metavar="KIND")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--encoding", metavar="ENC", default=None,
              help="Force the CSV encoding (utf-8, utf-8-sig, gb18030, gbk). "
                   "Default: detected (UTF-8 with BOM, UTF-8, else GB18030).")
@click.option("--sheet", metavar="NAME", default=None,
              help="The worksheet of an .xlsx file (default: the first).")
@click.option("--period", "-p", metavar="2026Q4", default=None, type=PERIOD,
              help="The quarter a results file reports on (results only).")
@click.option("--allow-removals", is_flag=True,
              help="Accept a re-import that removes more than imports.max_removed_share "
                   "(default 20%) of the directory's rows.")
@click.option("--force-kind", is_flag=True,
              help="Import even though the columns look like another kind of file.")
@click.option("--allow-off-panel", is_flag=True,
              help="Scores only: accept scores of experts not on a panel drawn with suiji "
                   "(e.g. carried over from before); each row is named in a warning.")
@json_option
@pass_env
def import_command(env: Env, kind: str, file: Path, encoding: str | None, sheet: str | None,
                   period: Period | None, allow_removals: bool, force_kind: bool,
                   allow_off_panel: bool, as_json: bool) -> None:
    """Import a CSV or XLSX file as KIND, replacing its current version.

    KIND is one of: companies, inspectors, inspector-leave, conflicts,
    inspections, positive-list, agencies, projects, experts,
    employment-history, matters (directories), results, scores, findings,
    responses (records). A results file with a 事项编号/matter column records
    a task plan's results per visit and matter (kind matter-results). A scores
    file with a 打分方 column holds four-party scores; findings are review
    conclusions of sampled documents; responses are experts' answers to a
    notification (declines are applied).
    Headers may be Chinese or English; CSV may be UTF-8 (with or without BOM)
    or GB18030/GBK; save an old .xls workbook as .xlsx first. The whole file
    is checked first: any problem rejects it with the row numbers Excel
    shows, and nothing is written. Earlier versions stay readable. A re-import
    that would remove more than 20% of a directory (imports.max_removed_share
    in the rules), or a file whose columns are another kind's or a suiji
    export's, is refused unless --allow-removals or --force-kind is given.

    \b
    Example:
      suiji import companies 企业名录.xlsx --sheet 名录
      suiji import inspectors 执法人员.csv --encoding gb18030
      suiji import results 2026Q4结果.csv --period 2026Q4 --json
      suiji import matters 随机抽查事项清单.xlsx
      suiji import findings 复核结论.xlsx
    """
    from suiji.data.importers import import_file

    if period is not None and kind not in ("results", "matter-results"):
        raise click.UsageError("--period applies to results files only.")
    if kind == "responses":
        from suiji.cli.loop import import_responses_command

        import_responses_command(env, file, encoding, sheet, as_json, cli_main.today())
        return
    with domain_errors():
        result = import_file(env.store(), kind, file, encoding=encoding, sheet=sheet,
                             period=str(period) if period else None, rules=env.rules(),
                             allow_removals=allow_removals, force_kind=force_kind,
                             today=cli_main.today(), allow_off_panel=allow_off_panel,
                             progress=True)
    if as_json:
        echo_json(result)
        return
    click.echo(summary_line(result))
    for warning in result.get("warnings") or []:
        env.info(f"warning: {warning}")


def register(cli: click.Group) -> None:
    cli.add_command(import_command)
