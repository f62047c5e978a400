"""Benchmark of the task plan (``suiji-tasks/1``): a province with 5 tasks, coordinated vs
independent tickets, beside today's single plan (``suiji-inspections/1``) on the same firms.

Run on its own with ``python bench/tasks.py [--firms N]``; ``bench/run.py`` includes
:func:`run_tasks_bench`. The instance is bench/instances.py's province (200,000 firms,
3,000 inspectors, 16 cities) with industries spread over eight sectors, and five tasks:
key 25%, general 5%, special once a year (annual), a VOCs campaign over chemicals,
printing and coating firms (local, 10%, 12 Oct - 30 Nov) and a national hazardous-waste
campaign over key and special firms (0.5% of the firms, 2 Nov - 31 Dec, teams of 3).

Measured: the pure compute functions on an in-memory snapshot (median of 3 runs): the
task plan end to end (draw, merging, dates and teams), its draw alone, and the single
plan; visits with shared tickets against the visits of the same tasks each drawn with
its own seed (independent tickets), and the exact expectation under independence.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

SEED = "20261001-bench"
INDUSTRIES = ("化工", "印刷", "涂装", "食品加工", "机械制造", "电子", "纺织", "造纸")
TASKS = """
[[inspection.tasks]]
id = "key"
name = "重点排污单位双随机抽查"
categories = ["key"]
matters = ["HB-01", "HB-02"]
ratio = 0.25

[[inspection.tasks]]
id = "general"
name = "一般排污单位双随机抽查"
categories = ["general"]
matters = ["HB-02"]
ratio = 0.05

[[inspection.tasks]]
id = "special"
name = "特殊监管对象双随机抽查"
categories = ["special"]
matters = ["HB-02"]
quota = "annual_all"

[[inspection.tasks]]
id = "vocs"
name = "挥发性有机物治理专项（地方）"
source = "local_campaign"
industries = ["化工", "印刷", "涂装"]
matters = ["HB-06"]
ratio = 0.1
start = "2026-10-12"
end = "2026-11-30"

[[inspection.tasks]]
id = "hazwaste"
name = "危险废物专项（国家部署）"
source = "national_campaign"
categories = ["key", "special"]
matters = ["HB-04"]
quota = "count"
count = COUNT
start = "2026-11-02"
end = "2026-12-31"
team_size = 3
"""
MATTERS = pd.DataFrame([
    {"matter_id": m, "name": n, "basis": b, "method": "现场检查", "categories": "",
     "industries": ""} for m, n, b in (
        ("HB-01", "排污许可制度执行情况", "《排污许可管理条例》第十七条"),
        ("HB-02", "污染防治设施运行情况", "《中华人民共和国环境保护法》第四十二条"),
        ("HB-04", "危险废物规范化环境管理情况",
         "《中华人民共和国固体废物污染环境防治法》第七十七条"),
        ("HB-06", "挥发性有机物污染防治情况", "《中华人民共和国大气污染防治法》第四十五条"))])


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _snapshots(inst: Any, rules_text: str) -> tuple[Any, Any]:
    from suiji.data.canonical import canonical_csv, frame_csv
    from suiji.data.period import Period
    from suiji.data.schema import KINDS
    from suiji.data.snapshot import Snapshot, manifest_digest, manifest_for
    from suiji.data.visits import PERIOD_VISIT_COLUMNS

    def empty(columns: list[str]) -> bytes:
        return frame_csv(pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}))

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
    period = Period.parse("2026Q4")
    single = Snapshot(0, "2026Q4", "inspections",
                      manifest_digest(manifest_for(period, "inspections", files)),
                      manifest_for(period, "inspections", files), files)
    task_files = {**files,
                  "matters.csv": canonical_csv(KINDS["matters"], MATTERS),
                  "projects.csv": empty(list(KINDS["projects"].column_names)),
                  "period-visits.csv": empty(PERIOD_VISIT_COLUMNS),
                  "previous-teams.csv": empty(["uscc", "badge", "date", "period"])}
    manifest = manifest_for(period, "tasks", task_files)
    tasks = Snapshot(0, "2026Q4", "tasks", manifest_digest(manifest), manifest, task_files)
    return single, tasks


def run_tasks_bench(firms: int = 200_000, inspectors: int = 3_000, cities: int = 16,
                    repeat: int = 3) -> dict[str, Any]:
    from instances import synthetic

    from suiji.data.period import Period
    from suiji.data.rules import preset_text, quarter_tasks
    from suiji.sampler.tasks import draw_tasks
    from suiji.scheduler.plan import active_inspectors, compute_plan
    from suiji.scheduler.tasks_plan import compute_task_plan

    inst = synthetic(firms, inspectors, cities, seed=1)
    rng = np.random.default_rng(7)
    inst.companies["industry"] = np.asarray(INDUSTRIES, dtype=object)[
        rng.integers(0, len(INDUSTRIES), len(inst.companies))]
    plain = preset_text("default")
    single, snapshot = _snapshots(inst, plain + TASKS.replace("COUNT", str(firms // 200)))
    rules = snapshot.rules
    tasks = quarter_tasks(rules.inspection)
    ids = [t.id for t in tasks]
    t_single, plan = _median(lambda: compute_plan(single, SEED, {}), repeat)
    dates = {"drawn_on": "2026-09-30", "start": "2026-10-01"}  # drawn on the quarter's eve
    t_tasks, out = _median(lambda: compute_task_plan(snapshot, SEED, {"tasks": ids, **dates}),
                           repeat)
    period = Period.parse("2026Q4")
    frames = (snapshot.frame("companies.csv"), snapshot.frame("positive-list.csv"),
              snapshot.frame("projects.csv"), snapshot.frame("history.csv"),
              snapshot.frame("period-visits.csv"))
    n_active = active_inspectors(snapshot.frame("inspectors.csv"))
    t_draw, coordinated = _median(lambda: draw_tasks(*frames, tasks, rules.inspection, period,
                                                     SEED, n_active), repeat)
    independent: set[str] = set()
    for t in tasks:  # each task with its own tickets: what separate draws would visit
        alone = draw_tasks(*frames, (t,), rules.inspection, period, f"{SEED}|{t.id}", n_active)
        independent.update(v.uscc for v in alone.visits)
    summary = out["summary"]
    return {"name": f"province, {len(tasks)} tasks", "firms": firms, "inspectors": inspectors,
            "tasks": [{k: t[k] for k in ("id", "eligible", "quota", "drawn")}
                      for t in out["tasks"]],
            "firm_tasks": summary["firm_tasks"], "visits": summary["visits"],
            "independent_visits": len(independent),
            "independent_expected": summary["independent_expected"],
            "saved": summary["saved"], "task_plan_s": round(t_tasks, 3),
            "task_draw_s": round(t_draw, 3), "single_plan_s": round(t_single, 3),
            "single_plan_inspections": len(plan["items"]),
            "coordinated_visits_check": coordinated.new_visits,
            "solver": out["solver"]}


def render_markdown(row: dict[str, Any]) -> list[str]:
    per_task = ", ".join(f"{t['id']} {t['drawn']:,}/{t['eligible']:,}" for t in row["tasks"])
    return [
        "## Inspection tasks (`suiji-tasks/1`)", "",
        "`bench/tasks.py`: the province above with industries over eight sectors and five "
        "tasks (key 25%, general 5%, special once a year, a local VOCs campaign 10% of "
        "chemical, printing and coating firms in 12 Oct-30 Nov, a national hazardous-waste "
        "campaign of key and special firms (0.5% of all firms: 1,000) in 2 Nov-31 Dec with "
        "teams of 3). "
        "Compute functions on an in-memory snapshot, median of 3 runs.", "",
        "| instance | firm-task pairs | visits, shared tickets | visits, independent tickets "
        "| expected under independence (exact) | task draw | task plan end to end | "
        "single plan today (suiji-inspections/1) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| {row['name']}: {row['firms']:,} firms, {row['inspectors']:,} inspectors "
        f"({per_task}) | {row['firm_tasks']:,} | {row['visits']:,} | "
        f"{row['independent_visits']:,} | {row['independent_expected']:,.1f} | "
        f"{row['task_draw_s']:.3f} s | {row['task_plan_s']:.3f} s "
        f"({row['solver']['groups']} date groups, unique "
        f"{'yes' if row['solver']['unique'] else 'no'}) | {row['single_plan_s']:.3f} s "
        f"({row['single_plan_inspections']:,} inspections) |"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--firms", type=int, default=200_000)
    ap.add_argument("--inspectors", type=int, default=3_000)
    ap.add_argument("--cities", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    row = run_tasks_bench(args.firms, args.inspectors, args.cities, args.repeat)
    print(json.dumps(row) if args.json else "\n".join(render_markdown(row)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
