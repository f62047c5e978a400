"""``suiji demo``: a whole quarter on a generated city, command by command.

Each step is the exact ``suiji`` command a user would type, run in-process
and printed with its output, so the demo doubles as a walk-through.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shlex
import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

from suiji.cli.main import Env, pass_env

INSPECTION_SEED = "80417263950183746251"
REVIEW_SEED = "27182818284590452353"
PANEL_SEED = "31415926535897932384"
NEXT_REVIEW_SEED = "16180339887498948482"
OUTCOMES = ("未发现问题", "未发现问题", "未发现问题", "发现问题", "责令改正", "立案")


class Demo:
    def __init__(self, root: click.Group, out: Path) -> None:
        self.root = root
        self.out = out
        self.db = str(out / "suiji.db")
        self.rules = str(out / "rules.toml")
        self.step = 0

    def run(self, title: str, *args: str, capture: bool = False) -> str:
        """Run one suiji command as a user would, echoing it and its output."""
        self.step += 1
        shown = " ".join(shlex.quote(a) for a in args)
        click.secho(f"\n[{self.step}] {title}", bold=True)
        click.secho(f"$ suiji {shown}", fg="cyan")
        argv = ["--db", self.db, "--rules", self.rules, *args]
        stdout, shown_output = _invoke(self.root, argv)
        click.echo((stdout[:0] if capture else shown_output).rstrip() or "(done)")
        return stdout


def _invoke(root: click.Group, argv: list[str]) -> tuple[str, str]:
    """Run a command in-process: (its stdout, stdout and stderr as a terminal shows them)."""
    from click.testing import CliRunner

    result = CliRunner().invoke(root, argv, catch_exceptions=False)
    if result.exit_code != 0:
        raise click.ClickException(
            f"demo step failed (exit {result.exit_code}): suiji {' '.join(argv)}\n"
            f"{result.output}")
    return result.stdout, result.output


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{_HEADER.get(k, k): v for k, v in row.items()} for row in csv.DictReader(f)]


_HEADER = {"专家编号": "expert_id"}


def _pick(key: str, salt: str, options: tuple[str, ...]) -> str:
    h = int(hashlib.sha256(f"{salt}|{key}".encode()).hexdigest(), 16)
    return options[h % len(options)]


def run_demo(root: click.Group, out: Path, today: date) -> None:
    from suiji.sample.generate import generate_city
    from suiji.sample.loop import findings_rows, generate_loop

    if out.exists():
        shutil.rmtree(out)
    inputs = out / "input"
    exports = out / "exports"
    inputs.mkdir(parents=True)
    exports.mkdir()
    click.secho("Generating a sample city (江州市) with seed 2026 …", bold=True)
    files = generate_city(inputs, seed=2026, year=2026, quarter=4)
    for kind, path in files.items():
        click.echo(f"  {kind:<20} {path}")

    d = Demo(root, out)
    d.run("Create the database", "init")
    d.run("Write the rules file (default preset)", "rules", "init", "-o", d.rules, "--force")
    order = ["companies", "inspectors", "inspector-leave", "conflicts", "inspections",
             "positive-list", "agencies", "projects", "experts", "employment-history"]
    for kind in order:
        d.run(f"Import {kind}", "import", kind, str(files[kind]))

    period = "2026Q4"
    d.run("Freeze the inspection inputs; publish the digest before the seed exists",
          "freeze", "--period", period)
    d.run("Draw the inspection plan with the public seed (dice digits)",
          "draw", "inspections", "--period", period, "--seed", INSPECTION_SEED)
    plan = json.loads(d.run("Export the plan as JSON", "export", "plan", "--period", period,
                            "--format", "json", capture=True))
    click.echo(f"  {len(plan)} inspections; first: {json.dumps(plan[0], ensure_ascii=False)}")
    d.run("Export the sealed internal plan for the enforcement team", "export", "plan",
          "--period", period, "--format", "xlsx", "-o", str(exports / "plan.xlsx"))

    badge = plan[0]["inspectors"][0]
    d.run("An inspector falls ill: substitute them in their pending inspections",
          "substitute", "--period", period, "--inspector", badge, "--reason", "病假",
          "--from", plan[0]["date"])

    results = inputs / "results.csv"
    rows = []
    for item in plan:
        if item["date"] < today.isoformat():
            outcome = _pick(item["uscc"], "outcome", OUTCOMES)
            rows.append([item["uscc"], outcome, item["date"], ""])
    _write_csv(results, ["统一社会信用代码", "检查结果", "检查日期", "未检查原因"], rows)
    d.run(f"Import the results of the {len(rows)} inspections already carried out",
          "import", "results", str(results), "--period", period)
    d.run("Publish the plan and results (一公开): public HTML notice", "export", "plan",
          "--period", period, "--format", "html", "--public", "-o",
          str(exports / "gongshi.html"))
    d.run("Public notice as CSV for the portal", "export", "plan", "--period", period,
          "--format", "csv", "--public", "-o", str(exports / "gongshi.csv"))

    d.run("Freeze the EIA review inputs", "freeze", "--period", period, "--scope", "reviews")
    d.run("Draw the technical-review sample (≥30%, every agency, watch list)",
          "draw", "reviews", "--period", period, "--seed", REVIEW_SEED)
    meeting = (today + timedelta(days=14)).isoformat()
    reviews = json.loads(d.run("Export the review sample", "export", "reviews", "--period",
                               period, "--format", "json", capture=True))
    docs = [r["project_id"] for r in reviews[:6]]
    d.run(f"Draw expert panels for the meeting of {meeting}", "draw", "panels", "--period",
          period, "--meeting", meeting, "--documents", ",".join(docs), "--seed", PANEL_SEED)
    reviews = json.loads(d.run("Export the sample with panels (internal)", "export",
                               "reviews", "--period", period, "--format", "json",
                               capture=True))
    paneled = [r for r in reviews if r.get("experts")]
    first = paneled[0]
    d.run("An expert declines: the first eligible alternate replaces them", "decline",
          "--period", period, "--meeting", meeting, "--expert", first["experts"][0],
          "--reason", "出差")
    loop_files = generate_loop(inputs, files)
    d.run("Experts' phone numbers (sealed: kept for notifications, never frozen or published)",
          "import", "experts", str(loop_files["experts"]))
    d.run("The review loop: what the voice/SMS platform needs to reach the panel members",
          "export", "notify", "--meeting", meeting, "-o", str(exports / "notify.csv"))
    now = json.loads(d.run("The panels as they stand", "export", "reviews", "--period",
                           period, "--format", "json", capture=True))
    members = sorted({e for r in now for e in r.get("experts", [])})
    responses = inputs / "responses.csv"
    _write_csv(responses, ["专家编号", "会议日期", "答复", "原因"],
               [[members[0], meeting, "接受", ""], [members[1], meeting, "拒绝", "会议冲突"],
                [members[2], meeting, "未答复", ""]])
    d.run("The platform's answers: a decline is replaced through the recorded decline path; "
          "no answer means a call by hand", "import", "responses", str(responses))
    paneled = [r for r in json.loads(d.run("The panels after the declines", "export",
                                           "reviews", "--period", period, "--format", "json",
                                           capture=True)) if r.get("experts")]
    scores = inputs / "scores.csv"
    score_rows: list[list[Any]] = []
    for r in paneled:
        for e in r["experts"]:
            # one expert gets 12 deduction points: past the warning line of 10
            deduction = 12 if not score_rows else 0
            score_rows.append([e, r["project_id"], meeting, 85 - deduction, deduction,
                               "评审意见不完整" if deduction else ""])
    _write_csv(scores, ["专家编号", "项目编号", "会议日期", "评分", "扣分", "说明"], score_rows)
    d.run("Import the review scores (deduction points accumulate per year)",
          "import", "scores", str(scores))
    d.run("The expert library: experts with points, load or not drawable", "experts", "status",
          "--brief")

    next_period = "2027Q1"
    d.run("The next quarter's approvals, with each document's lead author (编制主持人)",
          "import", "projects", str(loop_files["projects"]))
    reviewed_on = min(date.fromisoformat(meeting) + timedelta(days=3), date(2026, 12, 31))
    library = [r["expert_id"] for r in _read_csv(loop_files["experts"])]
    header, finding_rows = findings_rows(reviews, library, reviewed_on.isoformat())
    findings = inputs / "findings.csv"
    _write_csv(findings, header, finding_rows)
    d.run(f"Record the review conclusions of the {len(finding_rows)} sampled documents "
          f"(credit points to agencies and lead authors, 把关不严 for signing-off experts)",
          "import", "findings", str(findings))
    d.run(f"Credit points and states (限期整改 10, 黑名单 20), and why each agency is watched "
          f"in {next_period}", "agencies", "status", "--period", next_period)
    d.run(f"Freeze {next_period}'s review inputs: the derived watch list is frozen with them",
          "freeze", "--period", next_period, "--scope", "reviews")
    d.run(f"Draw {next_period}'s review sample: watched agencies' 报告书 are all reviewed",
          "draw", "reviews", "--period", next_period, "--seed", NEXT_REVIEW_SEED)
    d.run(f"Verify {next_period}: the watch list recomputes from the frozen files",
          "verify", "--period", next_period)
    d.run(f"The quarterly 通报 of {period} (internal, Word)", "export", "bulletin", "--period",
          period, "--format", "docx", "-o", str(exports / "tongbao.docx"))
    d.run(f"The public 通报 of {period}: no personal identifiers", "export", "bulletin",
          "--period", period, "--format", "html", "--public", "-o",
          str(exports / "tongbao.html"))
    d.run("Serious problems handed to enforcement (严重质量问题移交)", "export", "transfers",
          "--period", period, "-o", str(exports / "yijiao.csv"))

    d.run("The audit trail", "log", "--period", period)
    d.run("Verify: recompute every draw and check the chain", "verify", "--period", period)
    d.run("Write the auditor's bundle", "audit-bundle", "--period", period, "-o",
          str(out / "bundle"))
    d.run("Verify the bundle without the database", "verify", "--bundle", str(out / "bundle"))
    d.run("The internal quarterly report", "report", "--period", period, "-o",
          str(out / "report"))
    click.secho(f"\nDone. Everything is in {out}/ (database {d.db}).", bold=True)


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--out", default="demo-out", show_default=True, type=click.Path(),
                  help="Folder for the sample files, database and outputs (replaced).")
    @pass_env
    def demo(env: Env, out: str) -> None:
        """Generate a sample city and run a whole quarter, printing every step.

        \b
        Example:
          suiji demo --out demo-out
        """
        run_demo(cli, Path(out), date.today())
