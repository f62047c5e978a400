"""The ``suiji`` command. It only adapts: parse options, call the core, format the result.

Errors carry their exit code and are mapped in one place, :func:`domain_errors`:
a domain refusal (:class:`suiji.data.errors.SuijiError`) exits 1 with a message
saying what to fix; a usage mistake (:class:`~suiji.data.errors.UsageError`, or
a bad option value) exits 2; an internal inconsistency
(:class:`~suiji.data.errors.BugError`) is shown as a bug to report, with its
traceback, and exits 70 (``EX_SOFTWARE``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sqlite3
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from suiji.cli import __version__
from suiji.cli.types import DATE, PERIOD
from suiji.data import clock
from suiji.data.errors import BugError, SuijiError
from suiji.data.period import Period
from suiji.data.progress import set_quiet
from suiji.data.store import DEFAULT_DB, LogHead, Store

if TYPE_CHECKING:
    from suiji.data.draws import DrawRecord
    from suiji.data.rules import Rules

# Only light modules load here and in the command modules: pandas, numpy and OR-Tools
# load inside the commands that use them, so `suiji --help` and `--version` are quick
# (tests/cli/test_lazy_imports.py).

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
BUG_EXIT_CODE = 70  # EX_SOFTWARE: suiji itself is wrong, not the user's input
F = TypeVar("F", bound=Callable[..., Any])


def today() -> date:
    """Today's date (:mod:`suiji.data.clock`: this computer's, or the demo's simulated
    calendar): the one source of "today" for every command (the test suite replaces this
    function; no option or environment variable does)."""
    return clock.today()


@dataclass
class Env:
    db: str
    rules_path: str | None
    quiet: bool
    opened: list[tuple[Store, LogHead]] = field(default_factory=list)

    def store(self) -> Store:
        store = Store.open(self.db)
        self.opened.append((store, store.head()))
        return store

    def report_head(self) -> None:
        """After a command: print the log head if the command changed the record."""
        for store, before in self.opened:
            try:
                after = store.head()
            except sqlite3.Error:
                continue
            if after != before:
                self.head_line(after)
                return

    def head_line(self, head: LogHead) -> None:
        if not self.quiet:
            click.echo(f"日志链头 log head {head.seq}:{head.hash} (publish it, or hand it to "
                       f"纪检: `suiji verify --head {head.seq}:{head.hash}` proves the record "
                       f"still holds everything up to it)", err=True)

    def rules(self) -> Rules:
        from suiji.data.rules import load_rules

        return load_rules(self.rules_path)

    def info(self, message: str) -> None:
        """Progress and notes go to stderr, so stdout stays data."""
        if not self.quiet:
            click.echo(message, err=True)


pass_env = click.make_pass_decorator(Env)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Map core errors to their exit codes, with the core's message: the one place that does.

    :class:`SuijiError` exits with its ``exit_code`` (1, or 2 for a
    :class:`~suiji.data.errors.UsageError`, shown with the usage line);
    :class:`BugError` prints its traceback and a request to report it, and
    exits :data:`BUG_EXIT_CODE`; a locked or damaged database exits 1.
    """
    try:
        yield
    except SuijiError as exc:
        if exc.exit_code == click.UsageError.exit_code:
            raise click.UsageError(str(exc), click.get_current_context(silent=True)) from exc
        error = click.ClickException(str(exc))
        if exc.exit_code == error.exit_code:
            raise error from exc
        error.show()  # another code: shown the same way, exits with the error's own code
        raise click.exceptions.Exit(exc.exit_code) from exc
    except BugError as exc:
        click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
        click.echo(f"Internal error: {exc}\n"
                   f"This is a bug in suiji, not a problem with your input. Please report "
                   f"it, with the command you ran and the text above.", err=True)
        raise click.exceptions.Exit(BUG_EXIT_CODE) from exc
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise click.ClickException(
                "Another suiji process is writing to the database (an import or a draw) and "
                "did not finish within 30 seconds. Nothing was changed by this command; run it "
                "again when the other one has finished.") from exc
        if "readonly" in str(exc) or "read-only" in str(exc):
            raise click.ClickException(
                f"The database cannot be written ({exc}): the file or its folder is read-only. "
                f"suiji records every command in the database's trail; fix the permissions, or "
                f"copy the database to a folder you can write and pass --db with the copy. "
                f"Nothing was changed.") from exc
        raise click.ClickException(f"The database could not be used: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(
            f"The database file is damaged or is not a suiji database ({exc}). Restore it "
            f"from a backup, or check --db.") from exc


def period_option(f: F) -> F:
    return click.option("--period", "-p", required=True, metavar="2026Q4", type=PERIOD,
                        help="The quarter, e.g. 2026Q4 (also 2026q4, 2026-Q4).")(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True,
                        help="Print a JSON object instead of text.")(f)


def seed_lines(record: DrawRecord, facts: dict[str, Any]) -> list[str]:
    """How a draw's seed is shown: the normalised seed, as typed, its source, its marks."""
    if record.seed_source == "os":
        source = ("generated from the operating system's secure random source: not publicly "
                  "verifiable; publish it")
    elif record.seed_source == "user":
        source = "given, no commitment published before the draw"
    else:
        source = record.seed_source
    lines = [f"  seed      {record.seed}  ({source})"]
    if facts.get("seed_given"):
        lines.append(f"            normalised from {facts['seed_given']!r} (NFKC, spaces and "
                     f"separators removed)")
    if facts.get("seed_weak"):
        lines.append("            WEAK SEED 弱种子: fewer than 20 digits (--weak-seed); marked "
                     "in every notice")
    if facts.get("commitment"):
        lines.append(f"  fulfils   commitment {facts['commitment']}")
    return lines


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False))


GLOBAL_VALUED = ("--db", "--rules")
GLOBAL_FLAGS = ("-q", "--quiet")


def hoist_global_options(args: list[str]) -> list[str]:
    """``--db``, ``--rules`` and ``-q`` given after the command, moved before it, so
    ``suiji freeze -p 2026Q4 --db x.db`` means ``suiji --db x.db freeze -p 2026Q4``.
    Nothing after ``--`` moves."""
    front: list[str] = []
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        front.append(args[i])
        if args[i] in GLOBAL_VALUED and i + 1 < len(args):
            front.append(args[i + 1])
            i += 1
        i += 1
    moved: list[str] = []
    rest: list[str] = []
    while i < len(args):
        token = args[i]
        if token == "--":
            rest.extend(args[i:])
            break
        if token in GLOBAL_VALUED and i + 1 < len(args):
            moved.extend(args[i:i + 2])
            i += 2
            continue
        if token in GLOBAL_FLAGS or token.startswith(tuple(f"{o}=" for o in GLOBAL_VALUED)):
            moved.append(token)
        else:
            rest.append(token)
        i += 1
    return front + moved + rest


class SuijiGroup(click.Group):
    """The top group: global options work before or after the command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))


@click.group(cls=SuijiGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", "-V", prog_name="suiji")
@click.option("--db", envvar="SUIJI_DB", default=DEFAULT_DB, show_default=True,
              help="The SQLite database (also SUIJI_DB).")
@click.option("--rules", "rules_path", envvar="SUIJI_RULES", default=None,
              help="The rules file (default ./rules.toml, else the built-in defaults).")
@click.option("--quiet", "-q", is_flag=True, help="No progress or notes on stderr.")
@click.pass_context
def cli(ctx: click.Context, db: str, rules_path: str | None, quiet: bool) -> None:
    """suiji (随机): verifiable double-random inspection plans and EIA review draws.

    The options --db, --rules and -q may stand before or after the command.

    \b
    Example, a quarter from start to end:
      suiji init
      suiji import companies 企业名录.xlsx
      suiji freeze --period 2026Q4
      suiji draw inspections --period 2026Q4 --seed 80417263950183746251
      suiji export plan --period 2026Q4 --format xlsx -o plan.xlsx
      suiji verify --period 2026Q4
    """
    set_quiet(quiet)  # progress bars also stay off when stderr is not a terminal
    env = Env(db=db, rules_path=rules_path, quiet=quiet)
    ctx.obj = env
    ctx.call_on_close(env.report_head)


@cli.command()
@pass_env
def init(env: Env) -> None:
    """Create the database (or bring an existing one to this version).

    \b
    Example:
      suiji --db 江州.db init
    """
    with domain_errors():
        store = Store.init(env.db)
        version = store.schema_version
        head = store.head()
    click.echo(f"Database {env.db} ready (schema version {version}).")
    env.head_line(head)


@cli.group()
def rules() -> None:
    """Show or write the rules file (quotas, team size, panels, holidays).

    \b
    Example:
      suiji rules init --preset chizhou
      suiji rules show
    """


@rules.command("show")
@pass_env
def rules_show(env: Env) -> None:
    """Print the rules in force (./rules.toml, --rules FILE, or the defaults).

    \b
    Example:
      suiji --rules 池州.toml rules show
    """
    with domain_errors():
        r = env.rules()
    click.echo(r.text, nl=False)


@rules.command("init")
@click.option("--preset", default="default", show_default=True,
              help="default, yicheng, chizhou, guangzhou, shenyang (with the review "
                   "loop's credit and scoring tables); tasks, campaign (the quarter as "
                   "[[inspection.tasks]]).")
@click.option("-o", "--output", default="rules.toml", show_default=True, type=click.Path())
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def rules_init(preset: str, output: str, force: bool) -> None:
    """Write a rules file from a preset, to edit before the freeze.

    \b
    Example:
      suiji rules init --preset guangzhou -o rules.toml
    """
    from suiji.data.rules import preset_text

    with domain_errors():
        text = preset_text(preset)
    path = Path(output)
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; pass --force to overwrite it.")
    path.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {path} (preset {preset}).")


@cli.command()
@period_option
@click.option("--scope", type=click.Choice(["inspections", "reviews", "tasks"]),
              default="inspections", show_default=True,
              help="Which draw the inputs are for (tasks: `suiji draw tasks`).")
@click.option("--seed-source", "source_kind", type=click.Choice(["dice", "event"]),
              default=None, help="Where the seed will come from, published now as a "
                                 "commitment: dice (a public dice ceremony: --on, --place, "
                                 "--witness ...) or event (a named future public random event: "
                                 "--event, --on).")
@click.option("--on", "source_on", type=DATE, default=None, metavar="DATE",
              help="The date of the dice ceremony or the public event (today or later).")
@click.option("--place", default="", help="Where the dice ceremony is held.")
@click.option("--witness", "witnesses", multiple=True, metavar="NAME",
              help="A witness of the dice ceremony (at least two; repeat the option).")
@click.option("--event", "event_name", default="",
              help="The public random event, e.g. \"中国福利彩票双色球第2026139期开奖号码\".")
@click.option("--reason", default="",
              help="Why the inputs are frozen again after a published commitment (published).")
@json_option
@pass_env
def freeze(env: Env, period: Period, scope: str, source_kind: str | None,
           source_on: date | None, place: str, witnesses: tuple[str, ...], event_name: str,
           reason: str, as_json: bool) -> None:
    """Snapshot the period's inputs and print the commitment to publish before the seed.

    With --seed-source the freeze publishes a commitment: the snapshot digest,
    where the seed will come from, the period, the scope and the log head.
    Every later freeze of the scope then needs --reason and is published as
    superseding it; each draw names the latest commitment (--commitment).

    \b
    Example:
      suiji freeze --period 2026Q4 --seed-source dice --on 2026-10-08 \\
          --place "江州市生态环境局三楼会议室" --witness 张三 --witness 李四
      suiji freeze --period 2026Q4 --scope reviews --seed-source event --on 2026-10-09 \\
          --event "中国福利彩票双色球第2026117期开奖号码"
      suiji freeze --period 2026Q4 --scope tasks
    """
    from suiji.data.commitments import SeedSource, latest_commitment
    from suiji.data.progress import Progress
    from suiji.data.snapshot import freeze as do_freeze

    source = None
    if source_kind is not None:
        if source_on is None:
            raise click.UsageError("--seed-source needs --on DATE: the day of the dice "
                                   "ceremony or of the public event.")
        source = SeedSource(source_kind, source_on, place, witnesses, event_name)
    elif source_on or place or witnesses or event_name:
        raise click.UsageError("--on, --place, --witness and --event describe a "
                               "--seed-source; give it too.")
    with domain_errors(), Progress(f"冻结 freezing the {scope} inputs of {period}"):
        store = env.store()
        snap = do_freeze(store, period, scope, env.rules(), seed_source=source,
                         reason=reason, today=today())
        committed = latest_commitment(store, str(period), scope)
    commitment = (committed.commitment if committed is not None
                  and committed.snapshot == snap.id else None)
    from suiji.data.calendar import describe

    calendar = describe(period, snap.working_days) if "calendar.csv" in snap.files else None
    covers = _expert_cover(snap, period) if scope == "reviews" else []
    gaps = [c for c in covers if c.short]
    if as_json:
        out: dict[str, Any] = {"period": snap.period, "scope": snap.scope, "snapshot": snap.id,
                               "digest": snap.digest, "files": snap.manifest["files"],
                               "commitment": commitment.body() if commitment else None,
                               "commitment_digest": commitment.digest if commitment else None}
        if calendar is not None:
            out["calendar"] = {
                "working_days": dict(calendar.months),
                "days_off": [{"date": d.isoformat(), "holiday": n} for d, n in calendar.days_off],
                "adjusted_working_days": [d.isoformat() for d in calendar.workdays]}
        if scope == "reviews":
            out["experts_per_industry"] = [
                {"industry": c.industry, "documents": c.documents, "needed": c.needed,
                 "eligible": c.eligible, "specialties": list(c.specialties), "short": c.short}
                for c in covers]
        echo_json(out)
        return
    click.echo(f"Frozen {scope} inputs of {period} (snapshot {snap.id}):")
    for name, meta in snap.manifest["files"].items():
        click.echo(f"  {name:<24} {meta['rows']:>9,} rows  sha256 {meta['sha256']}")
    if calendar is not None:
        click.echo(f"Working days frozen (工作日): {calendar.total} — "
                   + ", ".join(f"{m} {n}" for m, n in calendar.months))
        for first, last, name in calendar.runs():
            span = first.isoformat() if first == last else \
                f"{first.isoformat()} – {last.isoformat()}"
            click.echo(f"  holiday (放假)   {span}  {name or '(not a statutory holiday)'}")
        for day in calendar.workdays:
            click.echo(f"  working (调休上班) {day.isoformat()} (周{'六日'[day.weekday() - 5]})")
    if covers:
        click.echo("Eligible experts per industry of the period's documents (before recusal; "
                   "needed = largest panel + alternates):")
        for c in covers:
            mark = "  ← not enough" if c.short else ""
            click.echo(f"  {c.industry:<10} {c.documents:>4} documents  {c.eligible:>4} "
                       f"eligible of {c.needed} needed  ({'、'.join(c.specialties)}){mark}")
    if gaps:
        env.info(f"warning: {len(gaps)} industr{'ies' if len(gaps) > 1 else 'y'} without enough "
                 f"eligible experts: "
                 + ", ".join(f"{c.industry} ({c.eligible} of {c.needed})" for c in gaps)
                 + ". Panels for their documents will fail: add experts with those "
                   "specialties, or map the industries in [review.specialties] of the rules, "
                   "then freeze again before drawing the sample.")
    click.echo(f"Snapshot digest (publish this before the seed is chosen):\n{snap.digest}")
    if commitment is not None:
        click.echo("\nCommitment to publish now, before the seed exists (portal, notice board, "
                   "纪检):\n")
        click.echo(commitment.text())
        click.echo(f"Draw with: --commitment {commitment.digest}")
    else:
        env.info("No seed source was declared, so no commitment was published: the draw will "
                 "be marked as made without a prior commitment. Declare one with "
                 "--seed-source dice|event.")


def _expert_cover(snap: Any, period: Period) -> list[Any]:
    """The expert cover of the period's documents (empty without documents)."""
    from suiji.sampler.reviews import population
    from suiji.scheduler.experts import industry_cover

    docs = population(snap, period)
    if docs.empty:
        return []
    return industry_cover(snap, docs, snap.rules.review, period.last_day)


@cli.group()
def draw() -> None:
    """Draw from frozen inputs with a public seed (inspections, tasks, reviews, panels).

    \b
    Example:
      suiji draw inspections --period 2026Q4 --seed 80417263950183746251
    """


@cli.group()
def export() -> None:
    """Export a draw as JSON, CSV (UTF-8 with BOM), XLSX or HTML.

    \b
    Example:
      suiji export plan --period 2026Q4 --format xlsx -o plan.xlsx
    """


# Command modules, each with register(cli). Kept apart so the CLI stays thin.
for _name in ("imports", "inspections", "tasks", "reviews", "calendar", "audit", "exports",
              "loop", "demo", "serve"):
    if importlib.util.find_spec(f"suiji.cli.{_name}") is not None:
        importlib.import_module(f"suiji.cli.{_name}").register(cli)
