"""Benchmarks of the inspection plan at city, province and national scale (``make bench``).

One run prints, per scale: the firm draw, the team/date assignment and the
whole plan (``suiji.scheduler.plan.compute_plan`` on an in-memory snapshot),
peak memory, and beside them the baselines: the bare SHA-256 ticket cost
(``tickets.ticket_keys`` alone), Rivest's ``consistent_sampler.sampler`` on the
same ids, and a plain CP-SAT model of the city assignment. Each scale runs in
its own process so its peak RSS is its own. Writes BENCHMARKS.md after a full
run (or with ``--write``).

    .venv/bin/python bench/run.py              # all scales, writes BENCHMARKS.md
    .venv/bin/python bench/run.py --quick      # city only, no CP-SAT baseline
    .venv/bin/python bench/run.py --only province
    .venv/bin/python bench/run.py --skip-scale  # without bench/scale.py (CLI, national)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

SCALES: dict[str, dict[str, int]] = {
    "city": {"firms": 10_000, "inspectors": 150, "cities": 1},
    "province": {"firms": 200_000, "inspectors": 3_000, "cities": 16},
    "national": {"firms": 1_400_000, "inspectors": 45_000, "cities": 330},
}
SEED = "20261001-bench"
GIB = 2**30
CPSAT_LIMIT = 300.0


def _timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time of ``repeat`` runs and the last result."""
    times = []
    out = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _paired(first: Callable[[], Any], second: Callable[[], Any], repeat: int
            ) -> tuple[float, float, Any]:
    """Median wall times of ``first`` and ``second`` run alternately (a ratio of the two is
    then measured under the same load), and the last result of ``second``."""
    a, b = [], []
    out = None
    for _ in range(repeat):
        ta, _ = _timed(first)
        tb, out = _timed(second)
        a.append(ta)
        b.append(tb)
    return statistics.median(a), statistics.median(b), out


def _snapshot(inst: Any, rules_text: str) -> Any:
    import pandas as pd

    from suiji.data.canonical import canonical_csv, frame_csv
    from suiji.data.period import Period
    from suiji.data.schema import KINDS
    from suiji.data.snapshot import Snapshot, manifest_digest, manifest_for

    files = {
        "companies.csv": canonical_csv(KINDS["companies"], inst.companies),
        "inspectors.csv": canonical_csv(KINDS["inspectors"], inst.inspectors),
        "inspector-leave.csv": canonical_csv(KINDS["inspector-leave"], inst.leave),
        "conflicts.csv": canonical_csv(KINDS["conflicts"], inst.conflicts),
        "positive-list.csv": canonical_csv(KINDS["positive-list"], inst.positive_list),
        "history.csv": frame_csv(inst.history),
        "calendar.csv": frame_csv(pd.DataFrame(
            {"date": [d.isoformat() for d in inst.working_days]})),
        "rules.toml": rules_text.encode("utf-8"),
    }
    manifest = manifest_for(Period.parse("2026Q4"), "inspections", files)
    return Snapshot(0, "2026Q4", "inspections", manifest_digest(manifest), manifest, files)


def run_scale(name: str, cpsat: bool) -> dict[str, Any]:
    """Everything measured at one scale (run in a child process)."""
    import consistent_sampler
    from instances import synthetic

    from suiji.data.period import Period
    from suiji.data.rules import parse_rules, preset_text
    from suiji.sampler import tickets
    from suiji.sampler.firms import draw_firms
    from suiji.scheduler.plan import active_inspectors, compute_plan
    from suiji.scheduler.teams import schedule

    spec = SCALES[name]
    inst = synthetic(spec["firms"], spec["inspectors"], spec["cities"], seed=1)
    rules_text = preset_text("default")
    rules = parse_rules(rules_text).inspection
    period = Period.parse("2026Q4")
    ids = inst.companies["uscc"].tolist()
    n_active = active_inspectors(inst.inspectors)
    # short runs are repeated more: a median of 9 city runs shrugs off a busy neighbour
    repeat = 9 if spec["firms"] <= 10_000 else 3 if spec["firms"] <= 200_000 else 1
    row: dict[str, Any] = {"scale": name, "firms": spec["firms"],
                           "inspectors": spec["inspectors"], "cities": spec["cities"]}

    t_tickets, t_draw, draw = _paired(
        lambda: tickets.ticket_keys(ids, SEED),
        lambda: draw_firms(inst.companies, inst.positive_list, inst.history, rules, period,
                           SEED, n_active), repeat)
    drawn = inst.companies.set_index("uscc", drop=False).loc[draw.usccs,
                                                             ["uscc", "name", "district",
                                                              "city"]].reset_index(drop=True)
    row["drawn"] = len(drawn)
    t_assign, plan = _timed(lambda: schedule(
        drawn, inst.inspectors, inst.leave, inst.conflicts, inst.history, inst.working_days,
        rules, SEED), repeat)
    snapshot = _snapshot(inst, rules_text)
    t_plan, output = _timed(lambda: compute_plan(snapshot, SEED, {}), 1)
    assert len(output["items"]) == len(drawn)
    output = None
    gc.collect()
    t_cs, sample = _timed(lambda: list(consistent_sampler.sampler(
        ids, seed=SEED, take=len(drawn), with_replacement=False)), 1)
    del sample
    row.update({
        "ticket_s": t_tickets, "draw_s": t_draw, "assign_s": t_assign, "plan_s": t_plan,
        "consistent_sampler_s": t_cs,
        "assign_status": plan.stats.status, "assign_unique": plan.stats.unique,
        "arcs": plan.stats.arcs, "components": plan.stats.components,
        "moved": plan.stats.moved, "method": plan.stats.method,
    })
    if cpsat and name == "city":
        from suiji.scheduler.baseline import solve_teams_cpsat
        t_cp, base = _timed(lambda: solve_teams_cpsat(
            drawn, inst.inspectors, inst.leave, inst.conflicts, inst.history,
            inst.working_days, rules, SEED, time_limit=CPSAT_LIMIT), 1)
        row.update({"cpsat_s": t_cp, "cpsat_status": base.status,
                    "cpsat_solve_s": base.seconds, "cpsat_variables": base.variables,
                    "cpsat_same_plan": base.items == plan.items,
                    "cpsat_same_objective": base.objective == plan.stats.objective})
    row["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB
    return row


def machine() -> dict[str, str]:
    import ortools
    import psutil

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    return {"cpu": cpu, "cores": str(os.cpu_count()),
            "ram": f"{psutil.virtual_memory().total / GIB:.1f} GiB",
            "python": platform.python_version(), "ortools": ortools.__version__,
            "os": platform.platform()}


def targets(row: dict[str, Any]) -> dict[str, bool | None]:
    out: dict[str, bool | None] = {
        "draw ≤ 1.5× tickets": row["draw_s"] <= 1.5 * row["ticket_s"],
        "proven optimal+unique": row["assign_status"] == "optimal" and row["assign_unique"],
    }
    if row["scale"] == "province":
        out["plan < 10 s"] = row["plan_s"] < 10
    if row["scale"] == "national":
        out["plan < 60 s"] = row["plan_s"] < 60
        out["peak < 4 GiB"] = row["peak_rss_gib"] < 4
    if "cpsat_s" in row:
        out["≥ 100× CP-SAT"] = row["cpsat_s"] >= 100 * row["assign_s"]
    return out


def _fmt(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def render(rows: list[dict[str, Any]], reviews: list[dict[str, Any]],
           info: dict[str, str], scale: dict[str, Any] | None = None,
           tasks: dict[str, Any] | None = None) -> str:
    lines = ["# Benchmarks", "",
             "Generated by `make bench` (`.venv/bin/python bench/run.py`). Synthetic "
             "instances (bench/instances.py): 8% key, 87% general, 5% special firms, 3% "
             "closed, 8 districts per city, a quarter of the inspectors city-level, 10% "
             "with a leave, conflicts on 0.05% of firms; default preset rules "
             "(key 25%, general 5%, special once a year, team of 2, capacity 30, daily 2), "
             "period 2026Q4. Times are wall-clock seconds (median of 9 runs at city scale, 3 at "
             "province scale, 1 at national scale; the ticket baseline and the firm draw "
             "are timed alternately); peak memory is the peak RSS of the "
             "scale's own process (synthetic data included).", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), "",
             "| scale | firms | inspectors | drawn | ticket hash (baseline) | "
             "consistent_sampler (baseline) | firm draw | assignment | plan end to end | "
             "peak RSS | CP-SAT city assignment (baseline) | targets |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        cp = "–"
        if "cpsat_s" in r:
            cp = (f"{_fmt(r['cpsat_s'])} s ({r['cpsat_status']}, {r['cpsat_variables']:,} "
                  f"vars; {r['cpsat_s'] / r['assign_s']:.0f}× slower; same plan: "
                  f"{'yes' if r['cpsat_same_plan'] else 'no'})")
        tg = "; ".join(f"{k}: {'PASS' if ok else 'FAIL'}" for k, ok in targets(r).items())
        lines.append(
            f"| {r['scale']} | {r['firms']:,} | {r['inspectors']:,} | {r['drawn']:,} | "
            f"{_fmt(r['ticket_s'])} s | {_fmt(r['consistent_sampler_s'])} s | "
            f"{_fmt(r['draw_s'])} s ({r['draw_s'] / r['ticket_s']:.2f}×) | "
            f"{_fmt(r['assign_s'])} s ({r['components']} components, {r['arcs']:,} arcs, "
            f"unique {'yes' if r['assign_unique'] else 'no'}) | {_fmt(r['plan_s'])} s | "
            f"{r['peak_rss_gib']:.2f} GiB | {cp} | {tg} |")
    if reviews:
        lines += ["", "## Reviews", "", "| benchmark | seconds | status | unique | peak MB |",
                  "|---|---:|---|---|---:|"]
        for r in reviews:
            lines.append(f"| {r.get('name', '')} | {r.get('seconds', '')} | "
                         f"{r.get('status', '')} | {r.get('unique', '')} | "
                         f"{r.get('peak_mb', '')} |")
    if tasks:
        from tasks import render_markdown as render_tasks  # bench/tasks.py

        lines += ["", *render_tasks(tasks)]
    if scale:
        from scale import render_markdown  # bench/scale.py

        lines += ["", *render_markdown(scale)]
    return "\n".join(lines) + "\n"


def _child(name: str, cpsat: bool) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", name]
                          + ([] if cpsat else ["--no-cpsat"]),
                          capture_output=True, text=True, check=False, cwd=str(ROOT))
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"bench: the {name} scale failed")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def scale_result() -> dict[str, Any]:
    """bench/scale.py: national scale through the command line (its own process)."""
    print("bench: national scale through the CLI (bench/scale.py)…", file=sys.stderr,
          flush=True)
    proc = subprocess.run([sys.executable, str(HERE / "scale.py"), "--json"],
                          stdout=subprocess.PIPE, text=True, check=False, cwd=str(ROOT))
    if proc.returncode != 0:
        raise SystemExit("bench: bench/scale.py failed")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def tasks_result() -> dict[str, Any]:
    """bench/tasks.py: the province with 5 tasks (its own process)."""
    print("bench: province with 5 tasks (bench/tasks.py)…", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(HERE / "tasks.py"), "--json"],
                          stdout=subprocess.PIPE, text=True, check=False, cwd=str(ROOT))
    if proc.returncode != 0:
        raise SystemExit("bench: bench/tasks.py failed")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def reviews_rows() -> list[dict[str, Any]]:
    try:
        from reviews import run_reviews_bench  # bench/reviews.py
    except ImportError:
        return []
    return list(run_reviews_bench())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=sorted(SCALES), action="append",
                    help="run only this scale (repeatable)")
    ap.add_argument("--quick", action="store_true", help="city only, without the CP-SAT "
                    "baseline and the reviews")
    ap.add_argument("--no-cpsat", action="store_true", help="skip the CP-SAT baseline")
    ap.add_argument("--write", action="store_true", help="write BENCHMARKS.md even for a "
                    "partial run")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    ap.add_argument("--skip-scale", action="store_true", help="skip bench/scale.py (national "
                    "import, freeze and draw through the CLI, several minutes)")
    ap.add_argument("--worker", choices=sorted(SCALES), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(run_scale(args.worker, not args.no_cpsat)))
        return 0
    scales = ["city"] if args.quick else (args.only or list(SCALES))
    cpsat = not (args.quick or args.no_cpsat)
    rows = []
    for name in SCALES:
        if name in scales:
            print(f"bench: {name} scale…", file=sys.stderr, flush=True)
            rows.append(_child(name, cpsat))
    reviews = [] if args.quick or args.only else reviews_rows()
    tasks = None if args.quick or args.only else tasks_result()
    scale = None if args.quick or args.only or args.skip_scale else scale_result()
    info = machine()
    text = render(rows, reviews, info, scale, tasks)
    if args.json:
        print(json.dumps({"machine": info, "rows": rows, "reviews": reviews, "tasks": tasks,
                          "scale": scale}, indent=1))
    else:
        print(text)
    if args.write or (not args.quick and not args.only):
        (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
        print("bench: wrote BENCHMARKS.md", file=sys.stderr)
    failed = [k for r in rows for k, ok in targets(r).items() if ok is False]
    if scale:
        from scale import targets as scale_targets

        failed += [f"CLI {k}" for k, ok in scale_targets(scale).items() if not ok]
    if failed:
        print(f"bench: targets missed: {', '.join(failed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
