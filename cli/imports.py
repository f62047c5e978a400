"""``suiji import KIND FILE``: read a bureau file, check it whole, record it all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from suiji.cli.main import Env, domain_errors, echo_json, json_option, pass_env
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
@json_option
@pass_env
def import_command(env: Env, kind: str, file: Path, encoding: str | None, sheet: str | None,
                   period: Period | None, as_json: bool) -> None:
    """Import a CSV or XLSX file as KIND, replacing its current version.

    KIND is one of: companies, inspectors, inspector-leave, conflicts,
    inspections, positive-list, agencies, projects, experts,
    employment-history (directories), results, scores (records).
    Headers may be Chinese or English; CSV may be UTF-8 (with or without BOM)
    or GB18030/GBK; save an old .xls workbook as .xlsx first. The whole file
    is checked first: any problem rejects it with the row numbers Excel
    shows, and nothing is written. Earlier versions stay readable.

    \b
    Example:
      suiji import companies 企业名录.xlsx --sheet 名录
      suiji import inspectors 执法人员.csv --encoding gb18030
      suiji import results 2026Q4结果.csv --period 2026Q4 --json
    """
    from suiji.data.importers import import_file

    if period is not None and kind != "results":
        raise click.UsageError("--period applies to results files only.")
    with domain_errors():
        rules = env.rules() if kind == "scores" else None
        result = import_file(env.store(), kind, file, encoding=encoding, sheet=sheet,
                             period=str(period) if period else None, rules=rules,
                             progress=True)
    if as_json:
        echo_json(result)
        return
    click.echo(summary_line(result))
    for warning in result.get("warnings") or []:
        env.info(f"warning: {warning}")


def register(cli: click.Group) -> None:
    cli.add_command(import_command)
