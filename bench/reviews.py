"""Benchmark of the EIA review draws: the sample and the expert panels.

Run on its own with ``python bench/reviews.py``; ``bench/run.py`` includes
:func:`run_reviews_bench`. Each row: name, seconds (wall time of the pure
compute function, the snapshot already in memory), status, unique (the
optimum proven unique), peak_mb (peak traced Python/numpy memory of a second,
traced run).

The panel instance is the size openreview-matcher needs about 110 s for
(DOMAIN.md §7): 1,000 documents x 2,000 experts, 3 experts per document,
2% of the (document, expert) pairs under a declared conflict, plus employer
recusals, specialties and load caps as in the default rules.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from suiji.data.canonical import canonical_csv, frame_csv
from suiji.data.period import Period
from suiji.data.rules import preset_text
from suiji.data.schema import KINDS
from suiji.data.snapshot import Snapshot, manifest_digest, manifest_for

INDUSTRIES = ("化工", "石化", "医药", "冶金", "水利水电", "采掘", "危废", "建材", "印刷", "涂装",
              "电镀", "造纸", "纺织", "食品加工", "畜禽养殖", "污水处理", "机械制造", "电子")
SPECIALTIES = ("化工", "石化", "医药", "冶金", "水利水电", "采掘", "危废", "建材", "印刷",
               "涂装", "纺织", "电镀", "造纸", "食品", "畜禽养殖", "生态", "大气", "水环境",
               "声环境", "土壤", "环境工程")
GENERAL = ("生态", "大气", "水环境", "声环境", "土壤", "环境工程")
PERIOD = Period(2026, 4)


def _frame(kind: str, rows: dict[str, list[str]]) -> pd.DataFrame:
    cols = list(KINDS[kind].column_names)
    n = len(next(iter(rows.values())))
    return pd.DataFrame({c: rows.get(c, [""] * n) for c in cols}, dtype=object)


def instance(documents: int = 1000, experts: int = 2000, agencies: int = 100,
             conflict_share: float = 0.02, seed: int = 7, rules_extra: str = ""
             ) -> Snapshot:
    """An in-memory reviews snapshot: every document a 报告书 approved in 2026Q4."""
    rng = np.random.default_rng(seed)
    ag = [f"91330000MA{i:08d}" for i in range(agencies)]
    ag_names = [f"第{i}环评咨询有限公司" for i in range(agencies)]
    pid = [f"P{i:06d}" for i in range(documents)]
    developer = [f"建设单位{i}有限公司" for i in range(documents)]
    doc_agency = rng.integers(agencies, size=documents)
    projects = _frame("projects", {
        "project_id": pid, "name": [f"项目{i}" for i in range(documents)],
        "doc_type": ["report"] * documents,
        "approved_on": [f"2026-{10 + i % 3}-{1 + i % 28:02d}" for i in range(documents)],
        "agency_uscc": [ag[i] for i in doc_agency], "developer": developer,
        "industry": [INDUSTRIES[i] for i in rng.integers(len(INDUSTRIES), size=documents)],
        "district": ["江城区"] * documents})
    agencies_f = _frame("agencies", {"uscc": ag, "name": ag_names,
                                     "watch": ["yes" if i % 10 == 0 else "no"
                                               for i in range(agencies)]})
    eid = [f"ZJ{i:05d}" for i in range(experts)]
    specs, employer = [], []
    for i in range(experts):
        main = SPECIALTIES[i % len(SPECIALTIES)]
        extra = rng.choice(len(GENERAL), size=int(rng.integers(0, 3)), replace=False)
        specs.append("、".join(dict.fromkeys([main, *(GENERAL[k] for k in sorted(extra))])))
        employer.append(ag_names[int(rng.integers(agencies))] if rng.random() < 0.1
                        else f"研究院{int(rng.integers(50))}")
    experts_f = _frame("experts", {
        "expert_id": eid, "name": [f"专家{i}" for i in range(experts)], "specialties": specs,
        "employer": employer, "birth_year": [str(1960 + i % 30) for i in range(experts)],
        "active": ["yes"] * experts})
    history = _frame("employment-history", {
        "expert_id": eid, "employer": [ag_names[i % agencies] if i % 7 == 0 else "大学"
                                       for i in range(experts)],
        "start": ["2015-01-01"] * experts,
        "end": ["2024-06-30" if i % 2 else "2020-12-31" for i in range(experts)]})
    pairs = rng.random((experts, documents)) < conflict_share
    ce, cd = np.nonzero(pairs)
    conflicts = _frame("conflicts", {"person": [eid[i] for i in ce],
                                     "counterpart": [developer[j] for j in cd],
                                     "reason": ["亲属"] * ce.size, "until": [""] * ce.size})
    conflicts = conflicts.drop_duplicates(["person", "counterpart"])
    text = preset_text("default")
    if rules_extra:
        text = text.replace("[review]\n", "[review]\n" + rules_extra + "\n", 1)
    empty = pd.DataFrame({c: [] for c in ("expert_id", "project_id", "meeting", "source")})
    points = pd.DataFrame({c: [] for c in ("expert_id", "year", "points", "scored")})
    files = {
        "agencies.csv": canonical_csv(KINDS["agencies"], agencies_f),
        "projects.csv": canonical_csv(KINDS["projects"], projects),
        "experts.csv": canonical_csv(KINDS["experts"], experts_f),
        "employment-history.csv": canonical_csv(KINDS["employment-history"], history),
        "conflicts.csv": canonical_csv(KINDS["conflicts"], conflicts),
        "review-history.csv": frame_csv(empty), "expert-points.csv": frame_csv(points),
        "rules.toml": text.encode("utf-8"),
    }
    manifest = manifest_for(PERIOD, "reviews", files)
    return Snapshot(0, str(PERIOD), "reviews", manifest_digest(manifest), manifest, files)


def _measure(name: str, run: Callable[[], dict[str, Any]],
             status: Callable[[dict[str, Any]], tuple[str, bool | str]]) -> dict[str, Any]:
    gc.collect()
    start = time.perf_counter()
    output = run()
    seconds = time.perf_counter() - start
    st, unique = status(output)
    gc.collect()
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"name": name, "seconds": round(seconds, 3), "status": st, "unique": unique,
            "peak_mb": round(peak / 2**20, 1)}


def run_reviews_bench(documents: int = 1000, experts: int = 2000) -> list[dict[str, Any]]:
    import floors

    from suiji.sampler.reviews import compute_sample
    from suiji.scheduler import panels
    from suiji.scheduler.panels import compute_panels

    rows = []
    snap = instance(documents=documents, experts=experts)
    docs = sorted(snap.frame("projects.csv")["project_id"])
    params = {"meeting": "2027-01-20", "drawn_on": "2027-01-10", "documents": docs,
              "prior": [], "declined": []}
    seed = "27182818284590452353"
    row = _measure(f"panels {documents:,} docs x {experts:,} experts, 3 each, 2% conflicts",
                   lambda: compute_panels(snap, seed, params),
                   lambda o: (o["solver"]["status"], bool(o["solver"]["unique"])))
    # CPU and wall, min of 5; then the plain flow on the same arcs (all eligible pairs)
    cpu, wall, _ = floors.timed(lambda: compute_panels(snap, seed, params), 5)
    calls: list[tuple[Any, ...]] = []
    real = panels.assign

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    panels.assign = spy  # type: ignore[assignment]
    try:
        compute_panels(snap, seed, params)
    finally:
        panels.assign = real
    graph = floors.assign_graph(*calls[0])
    f_cpu, f_wall, (status, _) = floors.timed(lambda: floors.plain_flow(*graph, False), 5)
    row.update({"cpu_s": cpu, "wall_s": wall, "plain_flow_cpu_s": f_cpu,
                "plain_flow_wall_s": f_wall, "plain_flow_status": status,
                "arcs": int(len(graph[1])), "peer": floors.OPENREVIEW})
    rows.append(row)

    big = instance(documents=20000, experts=50, agencies=2000)
    rows.append(_measure(
        "review sample 20,000 documents, 2,000 agencies",
        lambda: compute_sample(big, "27182818284590452353", {}),
        lambda o: ("sampled " + str(o["summary"]["sampled"]), "n/a")))
    return rows


def main() -> None:
    rows = run_reviews_bench()
    width = max(len(r["name"]) for r in rows)
    print(f"{'name':<{width}}  {'seconds':>8}  {'status':<14} {'unique':<6} {'peak MB':>8}")
    for r in rows:
        print(f"{r['name']:<{width}}  {r['seconds']:>8.3f}  {r['status']:<14} "
              f"{str(r['unique']):<6} {r['peak_mb']:>8.1f}")


if __name__ == "__main__":
    main()
