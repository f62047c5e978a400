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
from datetime import date
from pathlib import Path
from typing import Any

import click

from suiji.cli.main import Env, pass_env
from suiji.data.clock import SimulatedCalendar, simulated

INSPECTION_SEED = "80417263950183746251"
REVIEW_SEED = "27182818284590452353"
PANEL_SEED = "31415926535897932384"
NEXT_REVIEW_SEED = "16180339887498948482"
CAMPAIGN_SEED = "57721566490153286060"
OUTCOMES = ("未发现问题", "未发现问题", "未发现问题", "发现问题", "责令改正", "立案")


class Demo:
    """Runs the demo's commands on its simulated calendar (:mod:`suiji.data.clock`)."""

    def __init__(self, root: click.Group, out: Path, calendar: SimulatedCalendar) -> None:
        self.root = root
        self.out = out
        self.db = str(out / "suiji.db")
        self.rules = str(out / "rules.toml")
        self.calendar = calendar
        self.step = 0

    def run(self, title: str, *args: str, on: date, capture: bool = False,
            rules: str | None = None) -> str:
        """Run one suiji command as a user would on the day ``on``, echoing it and its output.

        The demo runs on a simulated calendar, moved to ``on`` before the command: both
        "today" and the record's timestamps are that day, so every date it shows is
        consistent with the day of its step (and with the log), whatever today's date is.
        ``rules``: another rules file than the demo's (shown in the command)."""
        self.step += 1
        self.calendar.on(on)
        shown = " ".join(shlex.quote(a) for a in
                         ((*args, "--rules", Path(rules).name) if rules else args))
        click.secho(f"\n[{self.step}] {on.isoformat()}: {title}", bold=True)
        click.secho(f"$ suiji {shown}", fg="cyan")
        argv = ["--db", self.db, "--rules", rules or self.rules, *args]
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


def _ceremony(day: date) -> tuple[str, ...]:
    """The seed source a freeze declares: a public dice ceremony on ``day``."""
    return ("--seed-source", "dice", "--on", day.isoformat(), "--place",
            "江州市生态环境局三楼会议室", "--witness", "纪检组 王敏", "--witness", "公证处 刘洋")


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


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [{_HEADER.get(k, k): v for k, v in row.items()} for row in csv.DictReader(f)]


_HEADER = {"专家编号": "expert_id"}


def _pick(key: str, salt: str, options: tuple[str, ...]) -> str:
    h = int(hashlib.sha256(f"{salt}|{key}".encode()).hexdigest(), 16)
    return options[h % len(options)]


# The demo's calendar: the plan is drawn before the quarter, results and the review sample
# come on "today", the panel meeting a few days later, the scores after it.
PLAN_DAY = date(2026, 9, 25)
CAMPAIGN_DAY = date(2026, 10, 30)  # a national campaign is decided mid-quarter
TODAY = date(2026, 12, 1)
MEETING = date(2026, 12, 7)
DECLINE_DAY = date(2026, 12, 2)
SCORE_DAY = date(2026, 12, 8)
# The review loop: answers to the notification, the review conclusions, the quarter's 通报,
# and the next quarter's sample once it has closed.
ANSWER_DAY = date(2026, 12, 3)
REVIEWED_ON = date(2026, 12, 18)
FINDINGS_DAY = date(2026, 12, 21)
BULLETIN_DAY = date(2027, 1, 8)
NEXT_DAY = date(2027, 4, 1)


def _approved_by(path: Path, day: date) -> int:
    """Keep the projects approved by ``day`` (a bureau's export holds no later approvals);
    the file keeps its encoding. Returns the number of projects kept."""
    data = path.read_bytes()
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "gb18030"
    rows = list(csv.reader(data.decode(encoding).splitlines()))
    column = rows[0].index("审批日期")
    kept = [r for r in rows[1:] if r[column].replace("/", "-") <= day.isoformat()]
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows([rows[0], *kept])
    return len(kept)


def run_demo(root: click.Group, out: Path) -> None:
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

    calendar = SimulatedCalendar(PLAN_DAY)
    click.secho(f"The demo runs on a simulated calendar (from {PLAN_DAY.isoformat()} to "
                f"{NEXT_DAY.isoformat()}): each step shows its day, and both today's date and "
                f"the record's timestamps are that day's. Only `suiji demo` can do this; every "
                f"other command uses this computer's clock.", bold=True)
    d = Demo(root, out, calendar)
    with simulated(calendar):
        _quarter(d, files, inputs, exports)
    click.secho(f"\nDone. Everything is in {out}/ (database {d.db}).", bold=True)


def _quarter(d: Demo, files: dict[str, Path], inputs: Path, exports: Path) -> None:
    """The demo's steps, on its simulated calendar."""
    from suiji.sample.loop import findings_rows, generate_loop

    out = d.out
    d.run("Create the database", "init", on=PLAN_DAY)
    d.run("Write the rules file (default preset)", "rules", "init", "-o", d.rules, "--force",
          on=PLAN_DAY)
    for kind in ("companies", "inspectors", "inspector-leave", "conflicts", "inspections",
                 "positive-list"):
        d.run(f"Import {kind}", "import", kind, str(files[kind]), on=PLAN_DAY)

    period = "2026Q4"
    frozen = d.run("Freeze the inspection inputs and publish the commitment (snapshot digest, "
                   "seed source) before the seed exists", "freeze", "--period", period,
                   *_ceremony(PLAN_DAY), on=PLAN_DAY)
    d.run("Draw the inspection plan with the public seed (dice digits) named by the "
          "commitment, before the quarter", "draw", "inspections", "--period", period,
          "--seed", INSPECTION_SEED, "--commitment", _commitment(frozen), on=PLAN_DAY)
    plan = json.loads(d.run("Export the plan as JSON", "export", "plan", "--period", period,
                            "--format", "json", capture=True, on=PLAN_DAY))
    click.echo(f"  {len(plan)} inspections; first: {json.dumps(plan[0], ensure_ascii=False)}")
    d.run("Export the sealed internal plan for the enforcement team", "export", "plan",
          "--period", period, "--format", "xlsx", "-o", str(exports / "plan.xlsx"), on=PLAN_DAY)

    badge = plan[0]["inspectors"][0]
    first_day = date.fromisoformat(plan[0]["date"])
    d.run("An inspector falls ill on the day of their first inspection: substitute them in "
          "their pending inspections (from today on; inspections already due are never "
          "re-teamed)", "substitute", "--period", period, "--inspector", badge,
          "--reason", "病假", on=first_day)

    # A national campaign decided mid-quarter, drawn as a task (suiji-tasks/1) beside the
    # plan: its own rules file, so the quarter's published rules (and every draw frozen with
    # them) stay as they are.
    campaign = str(d.out / "campaign.toml")
    d.run("The list of random-inspection matters (随机抽查事项清单: matter, legal basis, method)",
          "import", "matters", str(files["matters"]), on=CAMPAIGN_DAY)
    d.run("Rules with inspection tasks: annual work, a local VOCs and a national hazardous-waste "
          "campaign", "rules", "init", "--preset", "campaign", "-o", campaign, "--force",
          on=CAMPAIGN_DAY)
    d.run("Freeze the task inputs (the plan's inspections are in them: cap, load, joins)",
          "freeze", "--period", period, "--scope", "tasks", on=CAMPAIGN_DAY, rules=campaign)
    tasks = json.loads(d.run(
        "Draw the national campaign alone: dated after today, firms at the annual cap kept "
        "(exempt), one visit per firm", "draw", "tasks", "--period", period, "--task",
        "hazwaste", "--seed", CAMPAIGN_SEED, "--json", on=CAMPAIGN_DAY, rules=campaign,
        capture=True))
    (hazwaste,) = tasks["tasks"]
    click.echo(f"  task {hazwaste['id']} ({hazwaste['name']}): {hazwaste['drawn']} of "
               f"{hazwaste['eligible']:,} firms, {hazwaste['exempt']} exempt (already at the "
               f"annual cap), window {hazwaste['window'][0]}..{hazwaste['window'][1]}; "
               f"{tasks['summary']['visits']} new visits, {tasks['summary']['joined']} joining "
               f"an inspection already planned; output {tasks['output_sha256'][:16]}…")
    d.run("The pre-quarter plan notice of the tasks (tasks, matters and basis; no firm named "
          "before its visit)", "export", "tasks", "--period", period, "--table", "tasks",
          "--format", "csv", "--public", "-o", str(exports / "tasks-notice.csv"),
          on=CAMPAIGN_DAY, rules=campaign)

    results = inputs / "results.csv"
    rows = []
    for item in plan:
        if item["date"] < TODAY.isoformat():
            outcome = _pick(item["uscc"], "outcome", OUTCOMES)
            rows.append([item["uscc"], outcome, item["date"], ""])
    _write_csv(results, ["统一社会信用代码", "检查结果", "检查日期", "未检查原因"], rows)
    d.run(f"Import the results of the {len(rows)} inspections already carried out",
          "import", "results", str(results), "--period", period, on=TODAY)
    d.run("Publish the plan and results (一公开): public HTML notice", "export", "plan",
          "--period", period, "--format", "html", "--public", "-o",
          str(exports / "gongshi.html"), on=TODAY)
    d.run("Public notice as CSV for the portal", "export", "plan", "--period", period,
          "--format", "csv", "--public", "-o", str(exports / "gongshi.csv"), on=TODAY)

    kept = _approved_by(files["projects"], TODAY)
    click.echo(f"\n  projects approved by {TODAY.isoformat()}: {kept} (the export of that day)")
    for kind in ("agencies", "projects", "experts", "employment-history"):
        d.run(f"Import {kind}", "import", kind, str(files[kind]), on=TODAY)
    frozen = d.run("Freeze the EIA review inputs with their commitment", "freeze",
                   "--period", period, "--scope", "reviews", *_ceremony(TODAY), on=TODAY)
    review_commitment = _commitment(frozen)
    d.run("Draw the technical-review sample (≥30%, every agency, watch list), before the "
          "quarter closes", "draw", "reviews", "--period", period, "--seed", REVIEW_SEED,
          "--commitment", review_commitment, "--before-close", on=TODAY)
    reviews = json.loads(d.run("Export the review sample", "export", "reviews", "--period",
                               period, "--format", "json", capture=True, on=TODAY))
    docs = [r["project_id"] for r in reviews[:6]]
    meeting = MEETING.isoformat()
    d.run(f"Draw expert panels for the meeting of {meeting}", "draw", "panels", "--period",
          period, "--meeting", meeting, "--documents", ",".join(docs), "--seed", PANEL_SEED,
          "--commitment", review_commitment, on=TODAY)
    reviews = json.loads(d.run("Export the sample with panels (internal)", "export",
                               "reviews", "--period", period, "--format", "json",
                               capture=True, on=TODAY))
    paneled = [r for r in reviews if r.get("experts")]
    first = paneled[0]
    d.run("An expert declines: the first eligible alternate replaces them", "decline",
          "--period", period, "--meeting", meeting, "--expert", first["experts"][0],
          "--reason", "出差", on=DECLINE_DAY)
    loop_files = generate_loop(inputs, files)
    d.run("Experts' phone numbers (sealed: kept for notifications, never frozen or published)",
          "import", "experts", str(loop_files["experts"]), on=DECLINE_DAY)
    d.run("The review loop: what the voice/SMS platform needs to reach the panel members",
          "export", "notify", "--meeting", meeting, "-o", str(exports / "notify.csv"),
          on=DECLINE_DAY)
    now = json.loads(d.run("The panels as they stand", "export", "reviews", "--period",
                           period, "--format", "json", capture=True, on=DECLINE_DAY))
    members = sorted({e for r in now for e in r.get("experts") or []})
    responses = inputs / "responses.csv"
    _write_csv(responses, ["专家编号", "会议日期", "答复", "原因"],
               [[members[0], meeting, "接受", ""], [members[1], meeting, "拒绝", "会议冲突"],
                [members[2], meeting, "未答复", ""]])
    d.run("The platform's answers: a decline is replaced through the recorded decline path; "
          "no answer means a call by hand", "import", "responses", str(responses),
          on=ANSWER_DAY)
    reviews = json.loads(d.run("The panels after the decline (internal)", "export",
                               "reviews", "--period", period, "--format", "json",
                               capture=True, on=SCORE_DAY))
    scores = inputs / "scores.csv"
    score_rows: list[list[Any]] = []
    for r in reviews:
        for e in r.get("experts") or []:
            # one expert gets 12 deduction points: past the warning line of 10
            deduction = 12 if not score_rows else 0
            score_rows.append([e, r["project_id"], meeting, 85 - deduction, deduction,
                               "评审意见不完整" if deduction else ""])
    _write_csv(scores, ["专家编号", "项目编号", "会议日期", "评分", "扣分", "说明"], score_rows)
    d.run("After the meeting: import the review scores (deduction points accumulate per "
          "year)", "import", "scores", str(scores), on=SCORE_DAY)
    d.run("The expert library: experts with points, load or not drawable", "experts", "status",
          "--brief", on=SCORE_DAY)

    d.run("The audit trail", "log", "--period", period, on=SCORE_DAY)
    anchor = out / "日志链头.txt"
    d.run("Anchor the trail: write the log head to hand to 纪检 (or publish)", "anchor",
          "-o", str(anchor), on=SCORE_DAY)
    d.run("Verify: recompute every draw, check the chain and that the anchored head is on it",
          "verify", "--period", period, "--head", str(anchor), on=SCORE_DAY)
    d.run("Write the auditor's bundle", "audit-bundle", "--period", period, "-o",
          str(out / "bundle"), on=SCORE_DAY)
    d.run("Verify the bundle without the database", "verify", "--bundle", str(out / "bundle"),
          on=SCORE_DAY)
    d.run("The internal quarterly report", "report", "--period", period, "-o",
          str(out / "report"), on=SCORE_DAY)

    next_period = "2027Q1"
    d.run("The lead author (编制主持人) of each approved document", "import", "projects",
          str(loop_files["authors"]), on=FINDINGS_DAY)
    library = [r["expert_id"] for r in _read_csv(loop_files["experts"])]
    sampled = json.loads(d.run("The review sample", "export", "reviews", "--period", period,
                               "--format", "json", capture=True, on=FINDINGS_DAY))
    header, finding_rows = findings_rows(sampled, library, REVIEWED_ON.isoformat())
    findings = inputs / "findings.csv"
    _write_csv(findings, header, finding_rows)
    d.run(f"Record the review conclusions of the {len(finding_rows)} sampled documents "
          f"(credit points to agencies and lead authors, 把关不严 for signing-off experts)",
          "import", "findings", str(findings), on=FINDINGS_DAY)
    d.run(f"Credit points and states (限期整改 10, 黑名单 20), and why each agency is watched "
          f"in {next_period}", "agencies", "status", "--period", next_period, on=FINDINGS_DAY)
    d.run(f"The quarterly 通报 of {period} (internal, Word)", "export", "bulletin", "--period",
          period, "--format", "docx", "-o", str(exports / "tongbao.docx"), on=BULLETIN_DAY)
    d.run(f"The public 通报 of {period}: no personal identifiers", "export", "bulletin",
          "--period", period, "--format", "html", "--public", "-o",
          str(exports / "tongbao.html"), on=BULLETIN_DAY)
    d.run("Serious problems handed to enforcement (严重质量问题移交)", "export", "transfers",
          "--period", period, "-o", str(exports / "yijiao.csv"), on=BULLETIN_DAY)
    d.run(f"{next_period}'s approvals, with their lead authors", "import", "projects",
          str(loop_files["projects"]), on=NEXT_DAY)
    frozen = d.run(f"Freeze {next_period}'s review inputs with their commitment: the derived "
                   f"watch list is frozen with them", "freeze", "--period", next_period,
                   "--scope", "reviews", *_ceremony(NEXT_DAY), on=NEXT_DAY)
    d.run(f"Draw {next_period}'s review sample: watched agencies' 报告书 are all reviewed",
          "draw", "reviews", "--period", next_period, "--seed", NEXT_REVIEW_SEED,
          "--commitment", _commitment(frozen), on=NEXT_DAY)
    final = out / "日志链头-2027Q1.txt"
    d.run("Anchor the trail again", "anchor", "-o", str(final), on=NEXT_DAY)
    d.run(f"Verify the whole record (the watch list of {next_period} recomputes from the "
          f"frozen files) and that both anchored heads are on the chain", "verify",
          "--head", str(anchor), "--head", str(final), on=NEXT_DAY)
    d.run(f"Write the auditor's bundle of {next_period}", "audit-bundle", "--period",
          next_period, "-o", str(out / "bundle-2027Q1"), on=NEXT_DAY)
    d.run(f"Verify the {next_period} bundle without the database", "verify", "--bundle",
          str(out / "bundle-2027Q1"), on=NEXT_DAY)


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--out", default="demo-out", show_default=True, type=click.Path(),
                  help="Folder for the sample files, database and outputs (replaced).")
    @pass_env
    def demo(env: Env, out: str) -> None:
        """Generate a sample city and run a whole quarter, printing every step.

        The demo runs on its own simulated calendar (2026-09-25 to 2027-04-01),
        so the plan is drawn before the quarter, the panels before the meeting
        and the scores after it; each step prints its day. Nothing else in
        suiji can change today's date.

        \b
        Example:
          suiji demo --out demo-out
        """
        run_demo(cli, Path(out))
