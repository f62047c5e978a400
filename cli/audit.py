"""``suiji log``, ``suiji verify`` and ``suiji audit-bundle``: the trail and its checks."""

from __future__ import annotations

from pathlib import Path

import click

from suiji.cli.main import Env, domain_errors, echo_json, json_option, pass_env, period_option
from suiji.cli.types import PERIOD
from suiji.data.period import Period
from suiji.data.progress import Progress
from suiji.data.store import LogHead


def _head(text: str) -> LogHead:
    """A published head: ``SEQ:HASH``, or the file `suiji anchor` wrote."""
    try:
        return LogHead.parse(text)
    except ValueError as exc:
        path = Path(text)
        if path.is_file():
            for line in path.read_text("utf-8", errors="replace").splitlines():
                if line.startswith("head "):
                    try:
                        return LogHead.parse(line[5:])
                    except ValueError:
                        break
            raise click.BadParameter(f"{path} has no line 'head SEQ:HASH' (is it a file "
                                     f"`suiji anchor` wrote?)", param_hint="--head") from exc
        raise click.BadParameter(str(exc), param_hint="--head") from exc


def _print_report(report: object, as_json: bool) -> None:
    from suiji.data.verify import VerifyReport

    assert isinstance(report, VerifyReport)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(f"Checked {report.scope}:")
        for what, n in report.checked.items():
            click.echo(f"  {what:<12} {n:>7,}")
        for note in report.notes:
            click.echo(f"  note: {note}")
        if report.ok:
            click.echo("All good: the log chain is intact, every digest matches, and every "
                       "draw recomputes byte for byte.")
        else:
            click.echo(f"{len(report.findings)} difference(s):")
            for f in report.findings:
                click.echo(f"  {f}")
    if not report.ok:
        raise click.exceptions.Exit(1)


def register(cli: click.Group) -> None:
    @cli.command("log")
    @click.option("--period", "-p", default=None, metavar="2026Q4", type=PERIOD,
                  help="Only the entries of this quarter.")
    @click.option("--action", default=None,
                  help="Only entries of this action (import, freeze, draw, redraw, "
                       "substitution, decline, export, publish, ...).")
    @json_option
    @pass_env
    def log(env: Env, period: Period | None, action: str | None, as_json: bool) -> None:
        """List the append-only, hash-chained audit log (oldest first).

        Every import, freeze, draw, redraw, substitution, decline, result
        import, export and publication is one entry; each names the hash of the
        entry before it and the digests of the data it touched.

        \b
        Example:
          suiji log --period 2026Q4
          suiji log --action draw --json
        """
        from suiji.data.trail import entry_summary, log_rows

        with domain_errors():
            rows = log_rows(env.store(), str(period) if period else None)
        if action:
            rows = [r for r in rows if r["action"] == action]
        if as_json:
            echo_json(rows)
            return
        if not rows:
            env.info("The log has no entries" + (f" for {period}." if period else "."))
            return
        for r in rows:
            shown = {k: v for k, v in r["digests"].items()
                     if v and k in ("snapshot", "output", "file", "data")} or r["digests"]
            digests = " ".join(f"{k}={str(v)[:12]}…" for k, v in list(shown.items())[:4] if v)
            click.echo(f"{r['seq']:>5}  {r['at'][:19]}  {r['action']:<12} {r['period'] or '-':<7} "
                       f"{entry_summary(r['details'])}" + (f"  [{digests}]" if digests else ""))
            click.echo(f"       hash {r['hash']}")

    @cli.command()
    @click.option("--period", "-p", default=None, metavar="2026Q4", type=PERIOD,
                  help="Check only this quarter's snapshots and draws (the chain and the "
                       "directories are always checked in full).")
    @click.option("--bundle", "bundle", default=None,
                  type=click.Path(exists=True, file_okay=False, path_type=Path),
                  help="Check an audit bundle folder instead of the database.")
    @click.option("--head", "heads", multiple=True, metavar="SEQ:HASH",
                  help="A log head published earlier (printed by every change, written by "
                       "`suiji anchor`; or the anchor file itself). Repeatable: each must "
                       "still be on the chain.")
    @json_option
    @pass_env
    def verify(env: Env, period: Period | None, bundle: Path | None, heads: tuple[str, ...],
               as_json: bool) -> None:
        """Recompute every draw from its frozen inputs and seed, and check the whole trail.

        Checks the log's hash chain, the directories against their import
        digests, results and scores against the rows their log entries
        recorded, every timestamp, reason and seed source against the log, the
        frozen files against the snapshot digests, and recomputes every draw,
        substitution and decline byte for byte. With --head, each published
        head must still be on today's chain: that catches a truncated log, a
        deleted last draw, a restored older file and a re-hashed chain. Exit 0
        when all is good; exit 1 listing exactly what differs.

        \b
        Example:
          suiji verify --period 2026Q4
          suiji verify --head 57:3b1f…e2 --head 88:9ac0…41
          suiji verify --head 日志链头-2026-12-01.txt
          suiji verify --bundle 审计材料-2026Q4
        """
        from suiji.data.bundle import verify_bundle
        from suiji.data.verify import verify_store
        from suiji.scheduler.algorithms import REGISTRY

        if bundle is not None and period is not None:
            raise click.UsageError("--bundle checks one bundle; leave out --period.")
        if bundle is not None and heads:
            raise click.UsageError("--head checks the database's chain; leave out --bundle.")
        published = [_head(text) for text in heads]
        # Progress on a terminal only (and not with --quiet), redrawn in place.
        with domain_errors(), Progress("核验 verifying") as progress:
            if bundle is not None:
                report = verify_bundle(bundle, REGISTRY, progress=progress.step)
            else:
                report = verify_store(env.store(), REGISTRY, str(period) if period else None,
                                      progress=progress.step, heads=published)
        _print_report(report, as_json)

    @cli.command("anchor")
    @click.option("-o", "--output", "out", default=None, type=click.Path(path_type=Path),
                  help="The text file to write (default 日志链头-SEQ.txt in this folder).")
    @json_option
    @pass_env
    def anchor(env: Env, out: Path | None, as_json: bool) -> None:
        """Write the log's current head to a small text file, to publish or hand to 纪检.

        The head (sequence number and hash of the newest log entry) commits to
        the whole record up to it. Kept outside the database, by the
        supervising body or on the portal, it lets anyone later run `suiji
        verify --head FILE` and prove nothing before it was deleted, altered or
        rolled back. Writing the anchor changes nothing in the database.

        \b
        Example:
          suiji anchor -o 日志链头-2026Q4.txt
          suiji verify --head 日志链头-2026Q4.txt
        """
        from suiji.data.trail import anchor_text, write_file_atomically

        with domain_errors():
            store = env.store()
            head = store.head()
            text = anchor_text(store, head)
        path = out or Path(f"日志链头-{head.seq}.txt")
        write_file_atomically(path, text.encode("utf-8"))
        if as_json:
            echo_json({"seq": head.seq, "hash": head.hash, "file": str(path)})
            return
        click.echo(f"Wrote the log head {head.seq}:{head.hash} to {path}.")
        click.echo(f"Check it later with: suiji verify --head {head.seq}:{head.hash}")

    @cli.command("audit-bundle")
    @period_option
    @click.option("-o", "--output", "out", required=True,
                  type=click.Path(file_okay=False, path_type=Path),
                  help="A new (or empty) folder for the bundle.")
    @json_option
    @pass_env
    def audit_bundle(env: Env, period: Period, out: Path, as_json: bool) -> None:
        """Write what an auditor needs to check the period without the database.

        The frozen inputs as CSV, the rules, the seeds, every output and event,
        their digests, the period's log entries, ALGORITHM.md and a README.
        Check it anywhere with `suiji verify --bundle DIR` or by hand.

        \b
        Example:
          suiji audit-bundle --period 2026Q4 -o 审计材料-2026Q4
          suiji verify --bundle 审计材料-2026Q4
        """
        from suiji.data.bundle import write_bundle
        from suiji.scheduler.algorithms import REGISTRY

        label = f"审计材料 audit bundle of {period}"
        with domain_errors(), Progress(f"{label}: collecting") as progress:
            summary = write_bundle(env.store(), str(period), out, registry=REGISTRY,
                                   progress=lambda step: progress.step(f"{label}: {step}"))
        if as_json:
            echo_json(summary.as_dict())
            return
        for note in summary.notes:
            env.info(f"note: {note}")
        click.echo(f"Wrote {summary.files} files to {summary.path} ({summary.draws} draws, "
                   f"{summary.events} events).")
        click.echo(f"Bundle digest (SHA-256 of SHA256SUMS): {summary.digest}")
