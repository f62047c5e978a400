"""The shared option types (period, date, seed) and the exit codes that errors carry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from suiji.cli.main import BUG_EXIT_CODE, cli, domain_errors
from suiji.cli.types import DATE, PERIOD, SEED, parse_date
from suiji.data.errors import BugError, FreezeError, SuijiError, UsageError
from suiji.data.period import Period


def echo_command() -> click.Command:
    @click.command()
    @click.option("--period", type=PERIOD)
    @click.option("--day", type=DATE)
    @click.option("--seed", type=SEED)
    def echo(period: Period | None, day: date | None, seed: str | None) -> None:
        click.echo(f"{period!r}|{day!r}|{seed!r}")
    return echo


@given(year=st.integers(1900, 9999), quarter=st.integers(1, 4),
       form=st.sampled_from(["{y}Q{q}", "{y}q{q}", "{y}-Q{q}", " {y}Q{q} "]))
def test_every_documented_period_form_gives_the_same_period(year: int, quarter: int,
                                                            form: str) -> None:
    text = form.format(y=year, q=quarter)
    assert PERIOD.convert(text, None, None) == Period(year, quarter)


@given(day=st.dates(min_value=date(1000, 1, 1)))
def test_both_documented_date_forms_give_the_same_date(day: date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.year}/{day.month}/{day.day}") == day
    assert DATE.convert(f" {day.year}-{day.month}-{day.day} ", None, None) == day


@pytest.mark.parametrize("text", ["十月", "2026.10.1", "2026-10/1", "20261001", "2026-13-01",
                                  "2026-02-30", "01/10/2026", ""])
def test_other_dates_are_refused_naming_the_formats(text: str) -> None:
    with pytest.raises(ValueError, match="2026-01-05 or 2026/1/5"):
        parse_date(text)


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2026Q5"], "Write it like 2026Q4"),
    (["--period", "Q4 2026"], "Write it like 2026Q4"),
    (["--day", "2026.1.5"], "2026-01-05 or 2026/1/5"),
    (["--seed", "   "], "The seed is empty"),
    (["--seed", "1" * 201], "longer than 200"),
])
def test_a_bad_value_is_a_usage_error(args: list[str], message: str) -> None:
    result = CliRunner().invoke(echo_command(), args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_good_values_are_converted() -> None:
    result = CliRunner().invoke(echo_command(), ["--period", "2026-q4", "--day", "2026/1/5",
                                                 "--seed", " 0123 "])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("Period(year=2026, quarter=4)|"
                                     "datetime.date(2026, 1, 5)|'0123'")


def raising(exc: BaseException) -> click.Command:
    @click.command()
    def boom() -> None:
        with domain_errors():
            raise exc
    return boom


@pytest.mark.parametrize(("exc", "code"), [
    (SuijiError("refused: fix the file"), 1),
    (FreezeError("refused: freeze first"), 1),
    (UsageError("refused: --reason goes with --redraw"), 2),
])
def test_errors_exit_with_their_own_code(exc: SuijiError, code: int) -> None:
    result = CliRunner().invoke(raising(exc), [])
    assert result.exit_code == code == exc.exit_code
    assert str(exc) in result.output and "Traceback" not in result.output
    assert ("Usage:" in result.output) is (code == 2)


def test_a_domain_error_with_another_code_keeps_it() -> None:
    class Unusual(SuijiError):
        exit_code = 4

    result = CliRunner().invoke(raising(Unusual("an unusual refusal")), [])
    assert result.exit_code == 4 and "Error: an unusual refusal" in result.output


def test_an_internal_inconsistency_is_shown_as_a_bug_not_a_user_error() -> None:
    result = CliRunner().invoke(raising(BugError("the team flow disagrees with the dates")), [])
    assert result.exit_code == BUG_EXIT_CODE != 1
    assert "Traceback" in result.stderr and "BugError" in result.stderr
    assert "bug in suiji" in result.stderr and "report" in result.stderr
    assert "the team flow disagrees with the dates" in result.stderr
    assert not result.stderr.startswith("Error:")


def test_real_commands_map_their_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "none.db")
    no_db = CliRunner().invoke(cli, ["--db", db, "log"])
    assert no_db.exit_code == 1 and "suiji init" in no_db.output
    bad = CliRunner().invoke(cli, ["--db", db, "log", "--period", "2026Q0"])
    assert bad.exit_code == 2 and "2026Q4" in bad.output
    assert CliRunner().invoke(cli, ["--db", db, "init"]).exit_code == 0
    redraw = CliRunner().invoke(cli, ["--db", db, "draw", "inspections", "-p", "2026Q4",
                                      "--redraw"])
    assert redraw.exit_code == 2 and "reason" in redraw.output
