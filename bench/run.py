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


def _pool_ids(inst: Any, rules: Any, period: Any, n_active: int) -> list[str]:
    """The ids the firm draw hashes (its eligible firms), captured from one draw."""
    from suiji.sampler import firms

    seen: list[list[str]] = []
    real = firms.pool_tickets

    def spy(ids: Any, seed: str, workers: int | None = None) -> Any:
        seen.append(list(ids))
        return real(ids, seed, workers)

    firms.pool_tickets = spy  # type: ignore[assignment]
    try:
        firms.draw_firms(inst.companies, inst.positive_list, inst.history, rules, period, SEED,
                         n_active)
    finally:
        firms.pool_tickets = real
    return seen[0]


def _team_graphs(run: Callable[[], Any]) -> tuple[Any, list[tuple[Any, ...]]]:
    """Run the assignment, keeping every graph it gives the min-cost flow solver."""
    from suiji.scheduler import teams

    graphs: list[tuple[Any, ...]] = []
    real = teams.min_cost_flow

    def spy(num_nodes: int, tails: Any, heads: Any, caps: Any, costs: Any, supplies: Any,
            **kwargs: Any) -> Any:
        graphs.append((num_nodes, tails, heads, caps, costs, supplies,
                       bool(kwargs.get("max_flow", False))))
        return real(num_nodes, tails, heads, caps, costs, supplies, **kwargs)

    teams.min_cost_flow = spy  # type: ignore[assignment]
    try:
        out = run()
    finally:
        teams.min_cost_flow = real
    return out, graphs


def run_scale(name: str, cpsat: bool) -> dict[str, Any]:
    """Everything measured at one scale (run in a child process)."""
    import consistent_sampler
    import floors
    import numpy as np
    from instances import synthetic

    from suiji.data.period import Period
    from suiji.data.rules import CATEGORIES, parse_rules, preset_text
    from suiji.sampler import tickets
    from suiji.sampler.firms import draw_firms
    from suiji.scheduler.plan import active_inspectors, compute_plan
    from suiji.scheduler.teams import schedule

    spec = SCALES[name]
    inst = synthetic(spec["firms"], spec["inspectors"], spec["cities"], seed=1)
    rules_text = preset_text("default")
    rules = parse_rules(rules_text).inspection
    period = Period.parse("2026Q4")
    n_active = active_inspectors(inst.inspectors)
    # short runs are repeated more: the minimum of 9 city runs shrugs off a busy neighbour
    repeat = 9 if spec["firms"] <= 10_000 else 5 if spec["firms"] <= 200_000 else 3
    row: dict[str, Any] = {"scale": name, "firms": spec["firms"],
                           "inspectors": spec["inspectors"], "cities": spec["cities"],
                           "repeat": repeat}

    pool = _pool_ids(inst, rules, period, n_active)
    row["pool"] = len(pool)

    def draw() -> Any:
        return draw_firms(inst.companies, inst.positive_list, inst.history, rules, period,
                          SEED, n_active)

    # the single-core floor, the draw on one core, the draw as shipped (every core)
    floor = floors.hashlib_floor(pool, SEED, repeat)
    threshold = tickets.PARALLEL_MIN_IDS
    tickets.PARALLEL_MIN_IDS = 1 << 62
    try:
        one_cpu, one_wall, one = floors.timed(draw, repeat)
        t1_cpu, t1_wall, (keys1, dig1) = floors.timed(
            lambda: tickets.pool_tickets(pool, SEED), repeat)
    finally:
        tickets.PARALLEL_MIN_IDS = threshold
    d_cpu, d_wall, drawn_firms = floors.timed(draw, repeat)
    tp_cpu, tp_wall, (keysp, digp) = floors.timed(lambda: tickets.pool_tickets(pool, SEED),
                                                   repeat)
    row.update({
        "floor": floor, "workers": tickets.ticket_workers(),
        "draw_one_core_cpu_s": one_cpu, "draw_one_core_wall_s": one_wall,
        "draw_cpu_s": d_cpu, "draw_wall_s": d_wall,
        "tickets_one_core_wall_s": t1_wall, "tickets_one_core_cpu_s": t1_cpu,
        "tickets_wall_s": tp_wall, "tickets_cpu_s": tp_cpu,
        "tickets_identical": bool(np.array_equal(keys1, keysp) and dig1 == digp),
        "draw_identical": one.drawn_ids.tolist() == drawn_firms.drawn_ids.tolist(),
    })
    del keys1, dig1, keysp, digp, one
    drawn = inst.companies.set_index("uscc", drop=False).loc[
        drawn_firms.usccs, ["uscc", "name", "district", "city"]].reset_index(drop=True)
    row["drawn"] = len(drawn)

    # consistent_sampler, stratum by stratum, on the strata the draw drew from
    frame = set(pool)
    cats = inst.companies["category"].tolist()
    cs_total = 0.0
    for stratum in drawn_firms.strata:
        ids_c = [u for u, c in zip(inst.companies["uscc"].tolist(), cats, strict=True)
                 if c == stratum.category and u in frame]
        c0 = time.process_time()
        list(consistent_sampler.sampler(ids_c, seed=SEED, take=stratum.drawn,
                                        with_replacement=False))
        cs_total += time.process_time() - c0
    assert [s.category for s in drawn_firms.strata] == list(CATEGORIES)
    row["consistent_sampler_cpu_s"] = cs_total

    def assign() -> Any:
        return schedule(drawn, inst.inspectors, inst.leave, inst.conflicts, inst.history,
                        inst.working_days, rules, SEED)

    a_cpu, a_wall, plan = floors.timed(assign, repeat)
    _, graphs = _team_graphs(assign)
    # each distinct graph once (a second solve of the same arrays is suiji's tie re-check)
    graphs = list({id(g[1]): g for g in graphs}.values())
    pf_cpu, pf_wall, statuses = floors.timed(
        lambda: [floors.plain_flow(*g) for g in graphs], repeat)
    row.update({
        "assign_cpu_s": a_cpu, "assign_wall_s": a_wall,
        "plain_flow_cpu_s": pf_cpu, "plain_flow_wall_s": pf_wall,
        "plain_flow_graphs": len(graphs),
        "plain_flow_arcs": int(sum(len(g[1]) for g in graphs)),
        "plain_flow_status": sorted({st for st, _ in statuses}),
        "assign_status": plan.stats.status, "assign_unique": plan.stats.unique,
        "arcs": plan.stats.arcs, "components": plan.stats.components,
        "moved": plan.stats.moved, "method": plan.stats.method,
    })
    snapshot = _snapshot(inst, rules_text)
    p_cpu, p_wall, output = floors.timed(lambda: compute_plan(snapshot, SEED, {}),
                                          1 if name == "national" else 3)
    assert len(output["items"]) == len(drawn)
    output = None
    row.update({"plan_cpu_s": p_cpu, "plan_wall_s": p_wall})
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
    if name != "city":  # the plan alone, in a fresh process that only loads the snapshot
        row["plan_peak_rss_gib"] = _plan_peak(snapshot)
    return row


def _plan_peak(snapshot: Any) -> float:
    """Peak RSS (GiB) of a process that reads the frozen files and computes the plan."""
    import pickle
    import tempfile

    with tempfile.TemporaryDirectory(prefix="suiji-bench-") as tmp:
        path = Path(tmp) / "snapshot.pickle"
        path.write_bytes(pickle.dumps(snapshot))
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--plan-peak",
                               str(path)], capture_output=True, text=True, check=False,
                              cwd=str(ROOT))
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit("bench: the plan's peak-memory process failed")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_gib"])


def plan_peak_worker(path: Path) -> dict[str, float]:
    import pickle

    from suiji.scheduler.plan import compute_plan

    snapshot = pickle.loads(path.read_bytes())
    compute_plan(snapshot, SEED, {})
    return {"peak_rss_gib": _own_peak_bytes() / GIB}


def _own_peak_bytes() -> int:
    """This process's peak RSS since its exec (VmHWM). ru_maxrss would also count the
    pages of the large bench process it was forked from, before the exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux


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
    """Pass/fail of one scale's row (issue #15 targets and the earlier plan targets)."""
    floor = row["floor"]["wall_s"]
    out: dict[str, bool | None] = {}
    if row["scale"] != "city":  # 1.4M ids in the issue; at 10k ids fixed costs dominate
        out["firm draw ≤ 1.15× hashlib floor"] = row["draw_wall_s"] <= 1.15 * floor
        out["tickets on every core ≤ 0.65× one-core loop, identical"] = (
            row["tickets_wall_s"] <= 0.65 * floor and row["tickets_identical"])
    if row["scale"] == "city":
        out["assignment ≤ 1.0× plain flow"] = row["assign_cpu_s"] <= row["plain_flow_cpu_s"]
    out["proven optimal+unique"] = row["assign_status"] == "optimal" and row["assign_unique"]
    if row["scale"] == "province":
        out["plan < 10 s"] = row["plan_wall_s"] < 10
    if row["scale"] == "national":
        out["plan < 60 s"] = row["plan_wall_s"] < 60
        out["plan peak ≤ 1.5 GiB"] = row["plan_peak_rss_gib"] <= 1.5
    if "cpsat_s" in row:
        out["≥ 100× CP-SAT"] = row["cpsat_s"] >= 100 * row["assign_wall_s"]
    return out


def review_targets(r: dict[str, Any]) -> dict[str, bool]:
    if "plain_flow_cpu_s" not in r:
        return {}
    return {"panels ≤ 1.5× plain flow": r["cpu_s"] <= 1.5 * r["plain_flow_cpu_s"]}


def startup_targets(r: dict[str, Any]) -> dict[str, bool]:
    # CPU seconds: on a machine shared by several engineers the wall time mostly
    # measures the wait for a core (both are printed)
    return {f"`suiji {a}` ≤ 0.25 s CPU": v["cpu_s"] <= 0.25 for a, v in r.items()}


def xlsx_targets(r: dict[str, Any]) -> dict[str, bool]:
    return {"XLSX import ≥ 5× faster": r["openpyxl"]["cpu_s"] >= 5 * r["calamine"]["cpu_s"],
            "same rows and digest": r["same"]}


def _fmt(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def _pf(ok: bool | None) -> str:
    return "PASS" if ok else "FAIL"


def render(rows: list[dict[str, Any]], reviews: list[dict[str, Any]],
           info: dict[str, str], scale: dict[str, Any] | None = None,
           extra: dict[str, Any] | None = None, command: str = "make bench") -> str:
    extra = extra or {}
    openssl = extra.get("openssl", {"available": False, "note": "not measured"})
    lines = ["# Benchmarks", "",
             f"Generated by `{command}` (`.venv/bin/python bench/run.py`), every figure "
             f"measured in that one run. Synthetic "
             "instances (bench/instances.py): 8% key, 87% general, 5% special firms, 3% "
             "closed, 8 districts per city, a quarter of the inspectors city-level, 10% "
             "with a leave, conflicts on 0.05% of firms; default preset rules "
             "(key 25%, general 5%, special once a year, team of 2, capacity 30, daily 2), "
             "period 2026Q4. CPU seconds are this process's (`time.process_time`, helpers "
             "not included), wall seconds `perf_counter`; each the minimum of N runs "
             "(N = 9 city, 5 province, 3 national; the whole plan 3, 3, 1). A step is "
             "compared with its floor or peer measured in the same process just before or "
             "after it. Peak RSS: the scale's own process (synthetic data included), and the "
             "plan alone in a fresh process that only loads the frozen files.", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items())
             + (f"; load average at the start {extra['load_start']}, at the end "
                f"{extra.get('load_end', '?')}" if "load_start" in extra else ""), ""]
    if openssl.get("available"):
        lines += [f"OpenSSL per call: `openssl speed -evp sha256 -bytes 64` "
                  f"({openssl['version']}): {openssl['calls_per_s'] / 1e6:.2f} M "
                  f"calls/s on one core, shown per scale as the time for the pool's ids.", ""]
    else:
        lines += [f"OpenSSL per call: {openssl.get('note', 'not available')}.", ""]
    lines += ["## Tickets and the firm draw", "",
              "Floor: the fastest single-core hashlib loop over the ids the draw hashes "
              "(its eligible firms), each digest kept; `sha256(prefix + id)` and the prefix "
              "state `.copy()`d per id were both timed, the faster is the floor. The firm "
              "draw as shipped hashes large pools on every core (forked helpers); "
              "\"one core\" is the same draw with the helpers off.", "",
              "| scale | firms | ids hashed | drawn | hashlib floor (wall / CPU) | "
              "OpenSSL per call | consistent_sampler per stratum (CPU) | firm draw (wall) | "
              "firm draw, one core (CPU) | tickets, one core (wall) | tickets, "
              "all cores (wall) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        fl = r["floor"]
        ossl = (f"{r['pool'] / openssl['calls_per_s']:.3f} s "
                f"({r['pool'] / openssl['calls_per_s'] / fl['cpu_s']:.2f}× floor)"
                if openssl.get("available") else "–")
        lines.append(
            f"| {r['scale']} | {r['firms']:,} | {r['pool']:,} | {r['drawn']:,} | "
            f"{_fmt(fl['wall_s'])} s / {_fmt(fl['cpu_s'])} s ({fl['best']}) | {ossl} | "
            f"{_fmt(r['consistent_sampler_cpu_s'])} s "
            f"({r['consistent_sampler_cpu_s'] / fl['cpu_s']:.0f}× floor) | "
            f"{_fmt(r['draw_wall_s'])} s (**{r['draw_wall_s'] / fl['wall_s']:.2f}×** floor) | "
            f"{_fmt(r['draw_one_core_cpu_s'])} s ({r['draw_one_core_cpu_s'] / fl['cpu_s']:.2f}×"
            f" floor) | {_fmt(r['tickets_one_core_wall_s'])} s | "
            f"{_fmt(r['tickets_wall_s'])} s on {r['workers']} "
            f"(**{r['tickets_wall_s'] / fl['wall_s']:.2f}×** floor; identical: "
            f"{'yes' if r['tickets_identical'] else 'NO'}) |")
    lines += ["", "## Assignment and the whole plan", "",
              "Plain flow: OR-Tools `SimpleMinCostFlow` built and solved on exactly the "
              "graphs suiji's solver is given (each component's firm → (inspector, day) → "
              "inspector → sink network), without suiji's proof of uniqueness.", "",
              "| scale | drawn | assignment (CPU / wall) | plain flow, same graphs (CPU) | "
              "plan end to end (wall / CPU) | peak RSS (scale process) | plan alone, peak "
              "RSS | CP-SAT city assignment (baseline) |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        cp = "–"
        if "cpsat_s" in r:
            cp = (f"{_fmt(r['cpsat_s'])} s ({r['cpsat_status']}, {r['cpsat_variables']:,} "
                  f"vars; {r['cpsat_s'] / r['assign_wall_s']:.0f}× slower; same plan: "
                  f"{'yes' if r['cpsat_same_plan'] else 'no'})")
        peak = f"{r['plan_peak_rss_gib']:.2f} GiB" if "plan_peak_rss_gib" in r else "–"
        lines.append(
            f"| {r['scale']} | {r['drawn']:,} | {_fmt(r['assign_cpu_s'])} s / "
            f"{_fmt(r['assign_wall_s'])} s ({r['components']} components, {r['arcs']:,} arcs, "
            f"unique {'yes' if r['assign_unique'] else 'no'}) | "
            f"{_fmt(r['plain_flow_cpu_s'])} s ({r['plain_flow_graphs']} graphs, "
            f"{r['plain_flow_arcs']:,} arcs; suiji "
            f"**{r['assign_cpu_s'] / r['plain_flow_cpu_s']:.2f}×**) | "
            f"{_fmt(r['plan_wall_s'])} s / {_fmt(r['plan_cpu_s'])} s | "
            f"{r['peak_rss_gib']:.2f} GiB | {peak} | {cp} |")
    lines += ["", "| scale | targets |", "|---|---|"]
    for r in rows:
        lines.append(f"| {r['scale']} | "
                     + "; ".join(f"{k}: {_pf(ok)}" for k, ok in targets(r).items()) + " |")
    if reviews:
        lines += ["", "## Reviews", "",
                  "| benchmark | CPU s (min of 5) | wall s | plain flow, same arcs (CPU) | "
                  "status | unique | peak traced MB | targets |",
                  "|---|---:|---:|---:|---|---|---:|---|"]
        for r in reviews:
            flow = (f"{r['plain_flow_cpu_s']:.3f} s ({r['arcs']:,} arcs; suiji "
                    f"**{r['cpu_s'] / r['plain_flow_cpu_s']:.2f}×**)"
                    if "plain_flow_cpu_s" in r else "–")
            tg = "; ".join(f"{k}: {_pf(ok)}" for k, ok in review_targets(r).items()) or "–"
            lines.append(f"| {r['name']} | {r.get('cpu_s', r['seconds']):.3f} | "
                         f"{r.get('wall_s', r['seconds']):.3f} | {flow} | {r['status']} | "
                         f"{r['unique']} | {r['peak_mb']} | {tg} |")
        peer = next((r["peer"] for r in reviews if "peer" in r), "")
        if peer:
            lines += ["", f"Peer, quoted: {peer}."]
    if "startup" in extra:
        st = extra["startup"]
        lines += ["", "## Command-line start-up", "",
                  "Whole `suiji` process (wall, and user + system CPU from wait4), min of 5. "
                  "The target is judged on CPU seconds: on this shared 2-core machine the "
                  "wall time of a 0.1 s process is mostly the wait for a free core.", "",
                  "| command | wall s | CPU s | target |", "|---|---:|---:|---|"]
        for a, v in st.items():
            lines.append(f"| `suiji {a}` | {v['wall_s']:.3f} | {v['cpu_s']:.3f} | "
                         f"≤ 0.25 s CPU: {_pf(v['cpu_s'] <= 0.25)} |")
    if "xlsx" in extra:
        x = extra["xlsx"]
        lines += ["", "## XLSX import", "",
                  f"`import_file(store, \"companies\", …)` of a {x['rows']:,}-row company "
                  f"directory written by openpyxl ({x['bytes'] / 2**20:.1f} MiB), into a fresh "
                  f"database; CPU seconds, min of {x['repeat']}. \"openpyxl\" is the reader "
                  f"before this change (still used for workbooks with error cells).", "",
                  "| reader | import CPU s | of which reading the rows | speed-up | "
                  "same rows and digest |", "|---|---:|---:|---:|---|"]
        for k in ("openpyxl", "calamine"):
            v = x[k]
            lines.append(f"| {k} | {v['cpu_s']:.2f} | {v['read_cpu_s']:.2f} | "
                         f"{x['openpyxl']['cpu_s'] / v['cpu_s']:.1f}× | "
                         f"{'yes' if x['same'] else 'NO'} |")
        lines += ["", "Targets: " + "; ".join(f"{k}: {_pf(ok)}"
                                             for k, ok in xlsx_targets(x).items()) + "."]
    for sc in extra.get("cli_scales", []):
        from scale import render_markdown  # bench/scale.py

        lines += ["", *render_markdown(sc)]
    if "tasks" in extra:
        from tasks import render_markdown as render_tasks  # bench/tasks.py

        lines += ["", *render_tasks(extra["tasks"])]
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


def scale_result(args: list[str] | None = None, label: str = "national",
                 repeat: tuple[int, int] = (2, 1)) -> dict[str, Any]:
    """bench/scale.py: a scale through the command line (its own process)."""
    print(f"bench: {label} scale through the CLI (bench/scale.py)…", file=sys.stderr,
          flush=True)
    proc = subprocess.run([sys.executable, str(HERE / "scale.py"), "--json",
                           "--draw-repeat", str(repeat[0]), "--plan-repeat", str(repeat[1]),
                           *(args or [])],
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


def startup(repeat: int = 5) -> dict[str, dict[str, float]]:
    """`suiji --help` and `suiji --version`: whole process, wall and CPU (wait4), min of N."""
    from scale import suiji_command

    out: dict[str, dict[str, float]] = {}
    for arg in ("--help", "--version"):
        walls, cpus = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            proc = subprocess.Popen([*suiji_command(), arg], stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            walls.append(time.perf_counter() - t0)
            cpus.append(usage.ru_utime + usage.ru_stime)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"bench: suiji {arg} failed")
        out[arg] = {"wall_s": min(walls), "cpu_s": min(cpus)}
    return out


XLSX_ROWS = 100_000


def xlsx_worker() -> dict[str, Any]:
    """Import a 100k-row company XLSX with calamine and with openpyxl (the old reader)."""
    import tempfile

    import numpy as np
    from openpyxl import Workbook
    from scale import make_usccs  # valid USCCs, as a bureau's directory has

    import suiji.data.readers as readers
    from suiji.data.importers import import_file, read_kind
    from suiji.data.rules import parse_rules, preset_text
    from suiji.data.store import Store

    rng = np.random.default_rng(5)
    n = XLSX_ROWS
    division = np.array([f"3201{1 + k % 9:02d}" for k in range(n)], dtype=object)
    usccs = make_usccs(rng, division)
    rules = parse_rules(preset_text("default"))
    with tempfile.TemporaryDirectory(prefix="suiji-xlsx-") as tmp:
        path = Path(tmp) / "企业名录.xlsx"
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("名录")
        ws.append(["统一社会信用代码", "企业名称", "区县", "城市", "监管类别", "行业", "状态",
                   "风险分"])
        cats = ("重点", "一般", "特殊")
        for k in range(n):
            ws.append([usccs[k], f"江城{k}化工有限公司", f"区{k % 9}", "江城市", cats[k % 3],
                       "化工", "正常" if k % 31 else "关闭",
                       round(float(rng.gamma(2.0, 1.5)), 1) if k % 5 == 0 else None])
        wb.save(path)
        result: dict[str, Any] = {"rows": n, "bytes": path.stat().st_size, "repeat": 3}
        digests = {}
        frames = {}
        for name, force_openpyxl, repeat in (("calamine", False, 3), ("openpyxl", True, 2)):
            real = readers._has_error_cells
            if force_openpyxl:
                readers._has_error_cells = lambda p: True  # type: ignore[assignment]
            try:
                cpu = []
                for k in range(repeat):
                    store = Store.init(str(Path(tmp) / f"{name}{k}.db"))
                    gc.collect()
                    c0 = time.process_time()
                    summary = import_file(store, "companies", path, rules=rules)
                    cpu.append(time.process_time() - c0)
                    store.conn.close()
                c0 = time.process_time()
                frames[name] = read_kind("companies", path).frame
                read_cpu = time.process_time() - c0
            finally:
                readers._has_error_cells = real
            digests[name] = summary["digest"] if isinstance(summary, dict) else summary.digest
            result[name] = {"cpu_s": min(cpu), "read_cpu_s": read_cpu}
        result["same"] = (digests["calamine"] == digests["openpyxl"]
                          and frames["calamine"].equals(frames["openpyxl"]))
        result["repeat"] = "3 (calamine), 2 (openpyxl)"
    return result


def xlsx_result() -> dict[str, Any]:
    print("bench: XLSX import, 100k rows…", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--xlsx-worker"],
                          capture_output=True, text=True, check=False, cwd=str(ROOT))
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit("bench: the XLSX benchmark failed")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def reviews_rows() -> list[dict[str, Any]]:
    try:
        from reviews import run_reviews_bench  # bench/reviews.py
    except ImportError:
        return []
    return list(run_reviews_bench())


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


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
    ap.add_argument("--skip-scale", action="store_true", help="skip bench/scale.py (province "
                    "and national import, freeze and draw through the CLI, several minutes)")
    ap.add_argument("--worker", choices=sorted(SCALES), help=argparse.SUPPRESS)
    ap.add_argument("--plan-peak", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--xlsx-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(run_scale(args.worker, not args.no_cpsat)))
        return 0
    if args.plan_peak:
        print(json.dumps(plan_peak_worker(args.plan_peak)))
        return 0
    if args.xlsx_worker:
        print(json.dumps(xlsx_worker()))
        return 0
    import floors

    started = time.perf_counter()
    extra: dict[str, Any] = {"load_start": _load()}
    scales = ["city"] if args.quick else (args.only or list(SCALES))
    cpsat = not (args.quick or args.no_cpsat)
    full = not args.quick and not args.only
    extra["openssl"] = floors.openssl_per_call(1)
    extra["startup"] = startup()
    rows = []
    for name in SCALES:
        if name in scales:
            print(f"bench: {name} scale…", file=sys.stderr, flush=True)
            rows.append(_child(name, cpsat))
    reviews = reviews_rows() if full else []
    if full:
        extra["xlsx"] = xlsx_result()
        extra["tasks"] = tasks_result()
    scale = None
    if full and not args.skip_scale:
        extra["cli_scales"] = [scale_result(
            ["--firms", "200000", "--inspectors", "6000", "--cities", "48"], "province",
            (3, 3))]
        scale = scale_result()
    extra["load_end"] = _load()
    info = machine()
    info["bench wall time"] = f"{time.perf_counter() - started:.0f} s"
    command = "make bench" if full and not args.skip_scale else \
        "bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(rows, reviews, info, scale, extra, command)
    if args.json:
        print(json.dumps({"machine": info, "rows": rows, "reviews": reviews, "scale": scale,
                          "extra": extra}, indent=1))
    else:
        print(text)
    if args.write or full:
        (ROOT / "BENCHMARKS.md").write_text(text, encoding="utf-8")
        print("bench: wrote BENCHMARKS.md", file=sys.stderr)
    failed = [f"{r['scale']} {k}" for r in rows for k, ok in targets(r).items() if ok is False]
    failed += [k for r in reviews for k, ok in review_targets(r).items() if not ok]
    failed += [k for k, ok in startup_targets(extra["startup"]).items() if not ok]
    if "xlsx" in extra:
        failed += [k for k, ok in xlsx_targets(extra["xlsx"]).items() if not ok]
    from scale import targets as scale_targets

    for sc in [*extra.get("cli_scales", []), *([scale] if scale else [])]:
        failed += [f"CLI {sc['spec']['firms']:,} firms: {k}"
                   for k, ok in scale_targets(sc).items() if not ok]
    if failed:
        print(f"bench: targets missed: {'; '.join(failed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
