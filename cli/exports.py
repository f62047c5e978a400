"""``suiji export plan|reviews`` and ``suiji report``: every rendering, each logged in the trail."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import click

from suiji.cli.main import Env, domain_errors, echo_json, json_option, pass_env, period_option
from suiji.data.period import Period
from suiji.data.store import Store
from suiji.reports.writers import Rendered


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-12-31.") from exc


def _common(f: Callable[..., None]) -> Callable[..., None]:
    f = click.option("--as-of", "as_of", default=None, hidden=True, callback=_as_of,
                     help="Pretend today is this date (tests).")(f)
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


def _writer(out: Path | None) -> Callable[[bytes], None]:
    if out is None:
        def to_stdout(data: bytes) -> None:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        return to_stdout

    def to_file(data: bytes) -> None:
        from suiji.data.audit import write_file_atomically

        write_file_atomically(out, data)
    return to_file


def _emit(env: Env, store: Store, period: Period, what: str, rendered: Rendered,
          out: Path | None, public: bool) -> None:
    from suiji.data.audit import record_export

    if rendered.fmt == "xlsx" and out is None:
        raise click.UsageError("XLSX is a binary file and is not printed to the terminal; "
                               "give a file name, e.g. -o plan.xlsx.")
    details = dict(rendered.details)
    details["file"] = str(out) if out else "<stdout>"
    record_export(store, period=str(period), what=what, data=rendered.data,
                  write=_writer(out), public=public, details=details,
                  digests=rendered.digests)
    sealed = details.get("sealed", 0)
    if out is not None:
        env.info(f"Wrote {rendered.rows} rows to {out}" + (f"; {sealed} still sealed."
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
                        out: Path | None, as_of: date, authority: str) -> None:
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
        from suiji.reports.notice import export_plan

        with domain_errors():
            store = env.store()
            rendered = export_plan(store, period, fmt, public=public, as_of=as_of, lang=lang,
                                   authority=authority)
            _emit(env, store, period, "plan", rendered, out, public)

    @export.command("reviews")
    @period_option
    @_common
    @pass_env
    def export_reviews_cmd(env: Env, period: Period, fmt: str, public: bool, lang: str,
                           out: Path | None, as_of: date) -> None:
        """Export the EIA review sample with its expert panels.

        Panels stay sealed (omitted) in public output until their meeting has
        passed; internal exports show them. Every export is logged.

        \b
        Example:
          suiji export reviews --period 2026Q4 --format csv -o 复核抽查.csv
          suiji export reviews --period 2026Q4 --format html --public -o 复核公示.html
        """
        from suiji.reports.notice import export_reviews

        with domain_errors():
            store = env.store()
            rendered = export_reviews(store, period, fmt, public=public, as_of=as_of,
                                      lang=lang)
            _emit(env, store, period, "reviews", rendered, out, public)

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
        from suiji.data.audit import record_export, write_file_atomically
        from suiji.data.store import canonical_json, sha256_hex
        from suiji.reports.report import build_report

        with domain_errors():
            store = env.store()
            report = build_report(store, period, lang=lang)
            files = report.files()
            index = canonical_json({n: sha256_hex(d) for n, d in sorted(files.items())})

            def write(_: bytes) -> None:
                for name, data in files.items():
                    write_file_atomically(out / name, data)

            record_export(store, period=str(period), what="report", data=index.encode("utf-8"),
                          write=write, public=False,
                          details={"file": str(out), "lang": lang, "files": sorted(files),
                                   "digest_of": "canonical JSON of {file: sha256}"},
                          digests={n: sha256_hex(d) for n, d in files.items()})
        if as_json:
            echo_json({"folder": str(out), "files": {n: sha256_hex(d) for n, d in files.items()},
                       "notes": list(report.notes)})
            return
        for note in report.notes:
            env.info(f"note: {note}")
        for name in sorted(files):
            click.echo(str(out / name))

