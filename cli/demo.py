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


def _commitment(freeze_output: str) -> str:
    """The commitment digest a freeze printed (its line "Draw with: --commitment DIGEST")."""
    for line in freeze_output.splitlines():
        if line.startswith("Draw with: --commitment "):
            return line.split()[-1]
    raise click.ClickException("demo: the freeze printed no commitment")


def _pick(key: str, salt: str, options: tuple[str, ...]) -> str:
    h = int(hashlib.sha256(f"{salt}|{key}".encode()).hexdigest(), 16)
    return options[h % len(options)]


def run_demo(root: click.Group, out: Path, today: date) -> None:
    from suiji.sample.generate import generate_city

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
    ceremony = ("--seed-source", "dice", "--on", today.isoformat(), "--place",
                "江州市生态环境局三楼会议室", "--witness", "纪检组 王敏", "--witness",
                "公证处 刘洋")
    frozen = d.run("Freeze the inspection inputs and publish the commitment (snapshot digest, "
                   "seed source) before the seed exists", "freeze", "--period", period,
                   *ceremony)
    d.run("Draw the inspection plan with the public seed (dice digits) named by the commitment",
          "draw", "inspections", "--period", period, "--seed", INSPECTION_SEED,
          "--commitment", _commitment(frozen))
    plan = json.loads(d.run("Export the plan as JSON", "export", "plan", "--period", period,
                            "--format", "json", capture=True))
    click.echo(f"  {len(plan)} inspections; first: {json.dumps(plan[0], ensure_ascii=False)}")
    d.run("Export the sealed internal plan for the enforcement team", "export", "plan",
          "--period", period, "--format", "xlsx", "-o", str(exports / "plan.xlsx"))

    pending = [item for item in plan if item["date"] >= today.isoformat()]
    if pending:
        d.run("An inspector falls ill: substitute them in their pending inspections (from "
              "today on; inspections already due are never re-teamed)",
              "substitute", "--period", period, "--inspector", pending[0]["inspectors"][0],
              "--reason", "病假")
    else:
        click.secho(f"\n(No inspection of {period} is still pending on {today.isoformat()}: "
                    f"the substitution step is left out.)", bold=True)

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

    frozen = d.run("Freeze the EIA review inputs with their commitment", "freeze",
                   "--period", period, "--scope", "reviews", *ceremony)
    review_commitment = _commitment(frozen)
    d.run("Draw the technical-review sample (≥30%, every agency, watch list)",
          "draw", "reviews", "--period", period, "--seed", REVIEW_SEED,
          "--commitment", review_commitment)
    meeting = (today + timedelta(days=14)).isoformat()
    reviews = json.loads(d.run("Export the review sample", "export", "reviews", "--period",
                               period, "--format", "json", capture=True))
    docs = [r["project_id"] for r in reviews[:6]]
    d.run(f"Draw expert panels for the meeting of {meeting}", "draw", "panels", "--period",
          period, "--meeting", meeting, "--documents", ",".join(docs), "--seed", PANEL_SEED,
          "--commitment", review_commitment)
    reviews = json.loads(d.run("Export the sample with panels (internal)", "export",
                               "reviews", "--period", period, "--format", "json",
                               capture=True))
    paneled = [r for r in reviews if r.get("experts")]
    first = paneled[0]
    d.run("An expert declines: the first eligible alternate replaces them", "decline",
          "--period", period, "--meeting", meeting, "--expert", first["experts"][0],
          "--reason", "出差")
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

    d.run("The audit trail", "log", "--period", period)
    anchor = out / "日志链头.txt"
    d.run("Anchor the trail: write the log head to hand to 纪检 (or publish)", "anchor",
          "-o", str(anchor))
    d.run("Verify: recompute every draw, check the chain and that the anchored head is on it",
          "verify", "--period", period, "--head", str(anchor))
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
