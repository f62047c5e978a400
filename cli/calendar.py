"""``suiji calendar import``: the State Council's holiday notice into the rules file."""

from __future__ import annotations

import os
from pathlib import Path

import click

from suiji.cli.main import Env, domain_errors, echo_json, json_option, pass_env


def register(cli: click.Group) -> None:
    cli.add_command(calendar)


@click.group()
def calendar() -> None:
    """The holiday calendar of years the built-in calendar does not know.

    \b
    Example:
      suiji calendar import 2027年节假日安排.txt
    """


@calendar.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True,
              help="Put the notice in place of the year's calendar already in the rules file.")
@click.option("--dry-run", is_flag=True, help="Print the table; write nothing.")
@json_option
@pass_env
def calendar_import(env: Env, file: str, replace: bool, dry_run: bool, as_json: bool) -> None:
    """Read a holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知) into the rules.

    FILE is the notice's text copied from the government website into a text file
    (UTF-8 or GBK). Every date is checked: the weekday beside it, each 共N天 count, the
    seven statutory holidays, Spring Festival by the lunar calendar. The year's holidays
    and adjusted working days are written to the rules file (--rules, else ./rules.toml,
    created from the default preset if missing) as [calendar.YYYY]; freezes of that
    year use them and the frozen rules keep them.

    \b
    Example:
      suiji calendar import 2027年节假日安排.txt
      suiji --rules 沈阳.toml calendar import 通知.txt --replace
    """
    from suiji.data.calendar import library_differences
    from suiji.data.errors import CalendarError
    from suiji.data.holidays import decode_notice, parse_notice
    from suiji.data.rules import preset_text, with_calendar_year

    path = Path(file)
    target = Path(env.rules_path or "rules.toml")
    with domain_errors():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CalendarError(f"{path} cannot be read ({exc.strerror or exc}).") from exc
        arrangement = parse_notice(decode_notice(data, path.name))
        created = not target.exists()
        text = preset_text("default") if created else _read(target)
        new = with_calendar_year(text, arrangement.year, arrangement.toml(path.name),
                                 replace=replace)
    if not dry_run:
        _write(target, new)
    if as_json:
        differs = library_differences(arrangement.year, arrangement.days_off,
                                      arrangement.working_days)
        echo_json({"year": arrangement.year, "rules": str(target), "written": not dry_run,
                   "library_differs": None if differs is None
                   else [d.isoformat() for d in differs],
                   "created": created and not dry_run,
                   "holidays": {name: [d.isoformat() for d in days]
                                for name, days in arrangement.holidays},
                   "workdays": [d.isoformat() for d in arrangement.working_days],
                   "other_years": [d.isoformat() for d in arrangement.elsewhere]})
        return
    click.echo(f"{arrangement.year}: {len(arrangement.days_off)} days off and "
               f"{len(arrangement.working_days)} adjusted working days.")
    for name, days in arrangement.holidays:
        span = days[0].isoformat() if len(days) == 1 else \
            f"{days[0].isoformat()} – {days[-1].isoformat()}"
        click.echo(f"  {name:<8} {span} ({len(days)} day{'s' if len(days) > 1 else ''})")
    for name, days in arrangement.workdays:
        click.echo(f"  {name:<8} 上班 {', '.join(d.isoformat() for d in days)}")
    if arrangement.elsewhere:
        click.echo(f"Dates of another year left out (they belong to that year's calendar): "
                   f"{', '.join(d.isoformat() for d in arrangement.elsewhere)}")
    differs = library_differences(arrangement.year, arrangement.days_off,
                                  arrangement.working_days)
    if differs == []:
        click.echo(f"The installed chinesecalendar knows {arrangement.year} too and agrees on "
                   f"every day.")
    elif differs:
        click.echo(f"The installed chinesecalendar knows {arrangement.year} and differs on "
                   f"{len(differs)} day(s): {', '.join(d.isoformat() for d in differs[:10])}"
                   f"{' ...' if len(differs) > 10 else ''}; the rules file takes precedence, "
                   f"so check the notice's text.")
    if dry_run:
        click.echo(f"Dry run: {target} not written. The table would be:\n")
        click.echo(arrangement.toml(path.name), nl=False)
        return
    made = " (created from the default preset)" if created else ""
    click.echo(f"Wrote [calendar.{arrangement.year}] to {target}{made}. Freeze the periods of "
               f"{arrangement.year} after this; `suiji freeze` shows the working days it froze.")


def _read(path: Path) -> str:
    from suiji.data.errors import RulesError

    try:
        return path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RulesError(f"Rules file {path} is not UTF-8 text.") from exc
    except OSError as exc:
        raise RulesError(f"Rules file {path} cannot be read ({exc.strerror or exc}).") from exc


def _write(path: Path, text: str) -> None:
    """Write the whole file or leave the old one: a temporary file, then a rename."""
    tmp = path.with_name(f".{path.name}.suiji-tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise click.ClickException(f"{path} could not be written ({exc.strerror or exc}); it is "
                                   f"unchanged.") from exc
