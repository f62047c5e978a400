"""National-scale benchmark through the real command line: generate, import, freeze, draw.

Generates the national directories of DOMAIN.md §6 as the CSV files a bureau
would import (1,400,000 firms in 330 cities of 7 districts each, about 2,310
directories; 45,000 inspectors; four quarters of inspection history; leave,
conflicts and the positive list), every USCC valid (both check characters),
the company directory in GB18030 as Excel exports it on Chinese Windows, the
rest UTF-8 with a BOM. Then it times each ``suiji`` step as its own process
(``init``, ``import`` of every file, ``freeze``, ``draw inspections``,
optionally ``verify``), recording each step's wall time and peak RSS
(``os.wait4``), and the database size.

    .venv/bin/python bench/scale.py                       # national scale, prints a table
    .venv/bin/python bench/scale.py --firms 200000 --inspectors 6000 --cities 48
    .venv/bin/python bench/scale.py --json --keep /tmp/national

``bench/run.py`` (``make bench``) runs it and adds its rows to BENCHMARKS.md
(``--skip-scale`` leaves it out).
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the timing parent stays small: numpy and pandas load in the generator
    import numpy as np
    import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MIB = 2**20
SEED = "20261001-national"
PERIOD = "2026Q4"
# Four quarters of history before the drawn period.
HISTORY_QUARTERS = ((2025, 4), (2026, 1), (2026, 2), (2026, 3))
# Targets: the inspection issue's national plan (< 60 s, < 4 GiB) and this imports.
IMPORT_TARGET_S = 120.0
DRAW_TARGET_S = 60.0
DRAW_PEAK_TARGET_MIB = 4096.0


@dataclass(frozen=True)
class Spec:
    firms: int = 1_400_000
    inspectors: int = 45_000
    cities: int = 330
    districts: int = 7  # per city: 330 x 7 = 2,310 directories (DOMAIN.md §6: 2,330)
    seed: int = 2026
    inspections_per_year: int = 665_400  # double-random inspections nationally, 2019

    def __post_init__(self) -> None:
        if self.firms < self.cities * self.districts:
            raise ValueError("need at least one firm per district")
        if self.inspectors < 4 * self.cities:
            raise ValueError("need at least four inspectors per city")
        if not 1 <= self.districts <= 99 or not 1 <= self.cities <= 31 * 99:
            raise ValueError("1-99 districts per city, at most 3,069 cities")


# --- valid USCCs, vectorised ------------------------------------------------------

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    import numpy as np

    alpha = np.array([ord(c) for c in ALPHABET], dtype=np.uint32)
    value = np.full(128, -1, dtype=np.int64)
    value[alpha] = np.arange(31)
    org_value = np.full(128, -1, dtype=np.int64)
    org_value[[ord(c) for c in "0123456789"]] = np.arange(10)
    org_value[[ord(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]] = np.arange(10, 36)
    return {"alpha": alpha, "value": value, "org_value": org_value,
            "weights": np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64),
            "org_weights": np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64),
            "org_check": np.array([ord(c) for c in "0123456789X0"], dtype=np.uint32),
            "digits": np.array([ord(c) for c in "0123456789"], dtype=np.uint32)}


_PROVINCES = (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45,
              46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65)


def _digits(values: np.ndarray, width: int, base: int, alphabet: np.ndarray) -> np.ndarray:
    """(n, width) character codes of ``values`` written in ``base`` over ``alphabet``."""
    import numpy as np

    out = np.empty((len(values), width), dtype=np.uint32)
    v = values.astype(np.int64).copy()
    for j in range(width - 1, -1, -1):
        out[:, j] = alphabet[v % base]
        v //= base
    return out


def _distinct(rng: np.random.Generator, space: int, k: int) -> np.ndarray:
    """``k`` distinct integers below ``space``, in random order."""
    import numpy as np

    values = np.unique(rng.integers(0, space, size=k + k // 4 + 16))
    rng.shuffle(values)
    if len(values) < k:  # pragma: no cover - astronomically unlikely at these sizes
        raise RuntimeError("not enough distinct organisation codes drawn")
    return values[:k]


def make_usccs(rng: np.random.Generator, divisions: np.ndarray) -> np.ndarray:
    """Unique valid USCCs (object array of str), one per 6-digit division code given.

    ``91`` (enterprise) + division + a 9-character organisation code (70% the
    post-2015 ``MA`` + 6 characters, else 8 digits; GB 11714 check character) +
    the GB 32100-2015 check character. Same algorithm as
    :func:`suiji.sample.generate.make_uscc`, on whole arrays.
    """
    import numpy as np

    t = _tables()
    n = len(divisions)
    chars = np.empty((n, 18), dtype=np.uint32)
    chars[:, 0] = ord("9")
    chars[:, 1] = ord("1")
    chars[:, 2:8] = np.asarray(divisions, dtype="U6").view(np.uint32).reshape(n, 6)
    modern = rng.random(n) < 0.7
    old = ~modern
    chars[:, 8] = ord("M")
    chars[:, 9] = ord("A")
    # Bodies unique within each style, so the codes are unique too.
    chars[modern, 10:16] = _digits(_distinct(rng, 31**6, int(modern.sum())), 6, 31,
                                   t["alpha"])
    chars[old, 8:16] = _digits(_distinct(rng, 10**8, int(old.sum())), 8, 10, t["digits"])
    org = (t["org_value"][chars[:, 8:16]] * t["org_weights"]).sum(axis=1)
    chars[:, 16] = t["org_check"][11 - org % 11]
    total = (t["value"][chars[:, :17]] * t["weights"]).sum(axis=1)
    chars[:, 17] = t["alpha"][(31 - total % 31) % 31]
    return chars.view("U18").ravel().astype(object)


# --- the national directories -----------------------------------------------------

_PLACE = list("江河湖山海平安宁远清阳泉南北东西新长永嘉华昌临丰兴宝德广武福盛隆顺")
_DISTRICT_STEMS = ("城关", "鼓楼", "新城", "开发", "高新", "临港", "东城", "西城", "南湖",
                   "北山", "河口", "滨海", "青山", "白云", "金水", "桥东", "桥西", "望江")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文红玉兰春梅波斌宇浩")
_TRADE = list("恒泰瑞丰鑫源宏达华盛永隆汇金正信中科天元新和美佳博远长兴德利嘉诚")


def _city_names(n: int, rng: np.random.Generator) -> list[str]:
    pairs = [a + b for a in _PLACE for b in _PLACE if a != b]
    if n > len(pairs):
        pairs += [f"{p}{k}" for k in range(n // len(pairs) + 1) for p in pairs]
    pick = rng.choice(len(pairs), size=n, replace=False)
    return [pairs[i] + "市" for i in pick]


def _quarter_weekdays(year: int, quarter: int) -> list[date]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return [start + timedelta(k) for k in range((end - start).days)
            if (start + timedelta(k)).weekday() < 5]


def _write(path: Path, frame: pd.DataFrame, encoding: str) -> Path:
    frame.to_csv(path, index=False, encoding=encoding, lineterminator="\r\n",
                 quoting=csv.QUOTE_MINIMAL)
    return path


def generate_national(out: Path, spec: Spec = Spec()) -> dict[str, Path]:
    """Write companies, inspectors, inspector-leave, conflicts, inspections and positive-list.

    Returns kind -> path. Seeded: the same ``spec`` gives the same files.
    """
    import numpy as np
    import pandas as pd

    from suiji.sample.generate import _SURNAMES, INDUSTRIES

    rng = np.random.default_rng(spec.seed)
    out.mkdir(parents=True, exist_ok=True)
    n, nc, nd = spec.firms, spec.cities, spec.districts
    cities = np.array(_city_names(nc, rng), dtype=object)
    province = np.array(_PROVINCES, dtype=np.int64)[np.arange(nc) % len(_PROVINCES)]
    city_no = np.arange(nc) // len(_PROVINCES) + 1
    # City sizes vary about tenfold (lognormal); districts within a city about threefold.
    city_weight = rng.lognormal(0.0, 0.8, nc)
    city_of = rng.choice(nc, size=n, p=city_weight / city_weight.sum())
    city_of[: nc * nd] = np.repeat(np.arange(nc), nd)  # every district has a firm
    district_weight = rng.uniform(1.0, 3.0, (nc, nd))
    district_cdf = np.cumsum(district_weight, axis=1)
    district_cdf /= district_cdf[:, -1:]
    district_of = (rng.random(n)[:, None] > district_cdf[city_of]).sum(axis=1)
    district_of[: nc * nd] = np.tile(np.arange(nd), nc)
    stems = np.array([_DISTRICT_STEMS[(c * 5 + d) % len(_DISTRICT_STEMS)]
                      + ("区" if d < nd // 2 + 1 else "县") for c in range(nc) for d in range(nd)],
                     dtype=object).reshape(nc, nd)
    # Distinct within a city: a stem appears at most once per city.
    for c in range(nc):
        seen: dict[str, int] = {}
        for d in range(nd):
            s = stems[c, d]
            if s in seen:
                stems[c, d] = s[:-1] + str(d) + s[-1]
            seen[s] = d
    division = np.char.add(np.char.add(np.char.zfill(province[city_of].astype(str), 2),
                                       np.char.zfill(city_no[city_of].astype(str), 2)),
                           np.char.zfill((district_of + 1).astype(str), 2))
    order = np.lexsort((district_of, city_of))
    city_of, district_of, division = city_of[order], district_of[order], division[order]
    usccs = make_usccs(rng, division)

    ind_names = np.array([i.name for i in INDUSTRIES], dtype=object)
    ind_p = np.array([i.weight for i in INDUSTRIES])
    industry = rng.choice(len(INDUSTRIES), size=n, p=ind_p / ind_p.sum())
    key_factor = np.array([i.key_factor for i in INDUSTRIES])[industry]
    u = rng.random(n)
    key = u < 0.08 * key_factor / key_factor.mean()
    special = ~key & (rng.random(n) < 0.05)
    category = np.where(key, "重点", np.where(special, "特殊", "一般")).astype(object)
    status = rng.choice(np.array(["正常", "停产", "关闭", "注销"], dtype=object), size=n,
                        p=[0.94, 0.03, 0.02, 0.01])
    words = [i.words for i in INDUSTRIES]
    word = np.array([w[k % len(w)] for w, k in zip(
        (words[i] for i in industry), rng.integers(0, 12, n), strict=True)], dtype=object)
    trade = rng.choice(np.array(_TRADE, dtype=object), size=(n, 2))
    city_stem = np.array([c[:-1] for c in cities], dtype=object)
    names = city_stem[city_of] + trade[:, 0] + trade[:, 1] + word + "有限公司"
    risk = np.where(rng.random(n) < 0.2, np.round(rng.gamma(2.0, 1.5, n), 1).astype(str),
                    "").astype(object)
    companies = pd.DataFrame({
        "统一社会信用代码": usccs, "企业名称": names,
        "区县": stems[city_of, district_of], "城市": cities[city_of],
        "监管类别": category, "行业": ind_names[industry], "状态": status, "风险分": risk})
    paths = {"companies": _write(out / "companies.csv", companies, "gb18030")}
    firms_per_city = np.bincount(city_of, minlength=nc)
    del companies, names, word, trade

    # Inspectors in proportion to the city's firms (at least 4), a quarter city-level.
    ni = spec.inspectors
    share = firms_per_city / firms_per_city.sum()
    per_city = np.maximum(4, np.floor(share * (ni - 4 * nc)).astype(np.int64) + 4)
    per_city[np.argmax(per_city)] += ni - per_city.sum()
    icity = np.repeat(np.arange(nc), per_city)
    seq = np.arange(ni) - np.repeat(np.cumsum(per_city) - per_city, per_city)
    city_level = (seq % 4) == 0
    idistrict = rng.integers(0, nd, ni)
    badges = (np.char.zfill(province[icity].astype(str), 2).astype(object)
              + np.char.zfill(city_no[icity].astype(str), 2).astype(object)
              + np.char.zfill(seq.astype(str), 5).astype(object))
    surnames = np.array(_SURNAMES, dtype=object)
    given = np.array(_GIVEN, dtype=object)
    inames = (surnames[rng.integers(0, len(surnames), ni)]
              + given[rng.integers(0, len(given), ni)]
              + np.where(rng.random(ni) < 0.6, given[rng.integers(0, len(given), ni)], ""))
    idist = np.where(city_level, "全市", stems[icity, idistrict]).astype(object)
    unit = np.where(city_level, cities[icity] + "生态环境综合行政执法支队",
                    cities[icity] + stems[icity, idistrict] + "大队").astype(object)
    inspectors = pd.DataFrame({
        "执法证号": badges, "姓名": inames, "所属单位": unit, "区县": idist,
        "城市": cities[icity], "在岗": np.where(rng.random(ni) < 0.97, "是", "否"),
        "季度上限": "", "每日上限": ""})
    paths["inspectors"] = _write(out / "inspectors.csv", inspectors, "utf-8-sig")

    days = _quarter_weekdays(2026, 4)
    who = rng.choice(ni, size=ni // 10, replace=False)
    first = rng.integers(0, len(days) - 8, len(who))
    length = rng.integers(1, 8, len(who))
    leave = pd.DataFrame({"执法证号": badges[who],
                          "开始日期": [days[k].isoformat() for k in first],
                          "结束日期": [days[k + m].isoformat() for k, m in
                                   zip(first, length, strict=True)]})
    paths["inspector-leave"] = _write(out / "inspector-leave.csv", leave, "utf-8-sig")

    # Conflicts: 0.5% of firms tied to an inspector of their city.
    tied = rng.choice(n, size=max(1, n // 200), replace=False)
    start_of_city = np.cumsum(per_city) - per_city
    person = badges[start_of_city[city_of[tied]]
                    + rng.integers(0, 1 << 30, len(tied)) % per_city[city_of[tied]]]
    reasons = np.array(["亲属在该企业任职", "曾在该企业任职", "持有该企业股份"], dtype=object)
    conflicts = pd.DataFrame({"人员编号": person, "对象": usccs[tied],
                              "原因": reasons[rng.integers(0, 3, len(tied))], "截止日期": ""})
    conflicts = conflicts.drop_duplicates(["人员编号", "对象"])
    paths["conflicts"] = _write(out / "conflicts.csv", conflicts, "utf-8-sig")

    # Four quarters of inspections: a quarter's worth of double-random ones each, plus
    # complaint, campaign and case inspections.
    per_quarter = spec.inspections_per_year // 4
    parts = []
    for year, quarter in HISTORY_QUARTERS:
        qdays = np.array([d.isoformat() for d in _quarter_weekdays(year, quarter)], dtype=object)
        m = per_quarter + per_quarter // 4
        firms = rng.choice(n, size=m, replace=False)
        kinds = rng.choice(np.array(["双随机", "信访", "专项", "案件"], dtype=object), size=m,
                           p=[0.8, 0.1, 0.07, 0.03])
        parts.append(pd.DataFrame({"统一社会信用代码": usccs[firms],
                                   "检查日期": qdays[rng.integers(0, len(qdays), m)],
                                   "检查类型": kinds}))
    history = pd.concat(parts, ignore_index=True).drop_duplicates()
    paths["inspections"] = _write(out / "inspections.csv", history, "utf-8-sig")

    listed = rng.choice(n, size=n * 3 // 100, replace=False)
    begin = date(2024, 1, 1).toordinal() + rng.integers(0, 900, len(listed))
    positive = pd.DataFrame({
        "统一社会信用代码": usccs[listed],
        "开始日期": [date.fromordinal(int(b)).isoformat() for b in begin],
        "结束日期": [date.fromordinal(int(b) + 3 * 365).isoformat() for b in begin]})
    paths["positive-list"] = _write(out / "positive-list.csv", positive, "utf-8-sig")
    return paths


# --- the timed run ----------------------------------------------------------------


def suiji_command() -> list[str]:
    exe = Path(sys.executable).with_name("suiji")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "suiji.cli.main"]


def timed_step(args: list[str], log: Path) -> dict[str, Any]:
    """Run one ``suiji`` process; its wall time, peak RSS (its own, via wait4) and stdout."""
    with log.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*suiji_command(), *args], stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        stdout = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench/scale.py: `suiji {' '.join(args)}` failed "
                         f"(exit {proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
    return {"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024,
            "stdout": stdout.decode("utf-8", errors="replace")}


def db_size(db: Path) -> int:
    """Bytes of the database with its WAL (empty after the last connection closed)."""
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def in_process_plan(db: Path, repeat: int) -> dict[str, Any]:
    """compute_plan on the latest inspections snapshot of ``db``: CPU and wall, min of N."""
    import gc

    from suiji.data.period import Period
    from suiji.data.snapshot import latest_snapshot
    from suiji.data.store import Store
    from suiji.scheduler.plan import compute_plan

    store = Store.open(str(db))
    snapshot = latest_snapshot(store, Period.parse(PERIOD), "inspections")
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        compute_plan(snapshot, SEED, {})
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return {"plan_wall_s": min(walls), "plan_cpu_s": min(cpus), "repeat": repeat}


def run(spec: Spec, work: Path, verify: bool = False, draw_repeat: int = 1,
        plan_repeat: int = 1) -> dict[str, Any]:
    """Generate, then time every step; returns the result document."""
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    db = work / "national.db"
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    # Generated in a child process: the parent stays small, so the peak RSS each step's
    # wait4 reports (which counts the forked parent's pages) is the step's own.
    t0 = time.perf_counter()
    gen = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--generate",
                          str(data), "--firms", str(spec.firms), "--inspectors",
                          str(spec.inspectors), "--cities", str(spec.cities), "--seed",
                          str(spec.seed)], capture_output=True, text=True, check=False)
    if gen.returncode != 0:
        raise SystemExit(f"bench/scale.py: generating the data failed:\n{gen.stderr}")
    paths = {k: Path(v) for k, v in json.loads(gen.stdout).items()}
    generate_s = time.perf_counter() - t0
    steps: list[dict[str, Any]] = []

    def step(name: str, args: list[str], rows: int | None = None) -> dict[str, Any]:
        print(f"bench/scale: {name}…", file=sys.stderr, flush=True)
        result = timed_step(["--db", str(db), *args], work / f"{name.replace(' ', '_')}.log")
        row = {"step": name, "seconds": result["seconds"], "cpu_s": result["cpu_s"],
               "peak_rss_mib": result["peak_rss_mib"], "rows": rows,
               "db_bytes": db_size(db)}
        steps.append(row)
        return {**row, "stdout": result["stdout"]}

    step("init", ["init"])
    for kind, path in paths.items():
        with path.open("rb") as f:
            rows = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b"")) - 1
        step(f"import {kind}", ["import", kind, str(path), "--json"], rows)
    step("freeze", ["freeze", "--period", PERIOD, "--json"])
    frozen = work / "frozen.db"
    shutil.copyfile(db, frozen)  # the state after the freeze, for the repeated draws
    draw_args = ["draw", "inspections", "--period", PERIOD, "--seed", SEED, "--json"]
    drawn = step("draw inspections", draw_args)
    summary = json.loads(drawn["stdout"])
    steps[-1]["rows"] = int(summary["inspections"])
    # the same draw again from the same frozen state (min of draw_repeat), and the
    # in-process plan on the same snapshot in a fresh process (min of plan_repeat)
    draw_walls, draw_cpus = [steps[-1]["seconds"]], [steps[-1]["cpu_s"]]
    for _ in range(draw_repeat - 1):
        shutil.copyfile(frozen, db)
        again = timed_step(["--db", str(db), *draw_args], work / "draw_again.log")
        draw_walls.append(again["seconds"])
        draw_cpus.append(again["cpu_s"])
    frozen.unlink()
    plan = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--plan", str(db),
                           "--repeat", str(plan_repeat)], capture_output=True, text=True,
                          check=False)
    if plan.returncode != 0:
        raise SystemExit(f"bench/scale.py: the in-process plan failed:\n{plan.stderr}")
    in_process = json.loads(plan.stdout.strip().splitlines()[-1])
    if verify:
        step("verify", ["verify", "--period", PERIOD])
    imports = [s for s in steps if s["step"].startswith("import ")]
    draw = steps[[s["step"] for s in steps].index("draw inspections")]
    return {
        "spec": {"firms": spec.firms, "inspectors": spec.inspectors, "cities": spec.cities,
                 "districts": spec.cities * spec.districts,
                 "history_quarters": len(HISTORY_QUARTERS)},
        "generate_s": generate_s,
        "input_bytes": sum(p.stat().st_size for p in paths.values()),
        "steps": steps,
        "import_total_s": sum(s["seconds"] for s in imports),
        "import_peak_rss_mib": max(s["peak_rss_mib"] for s in imports),
        "draw_s": draw["seconds"], "draw_peak_rss_mib": draw["peak_rss_mib"],
        "draw_min_wall_s": min(draw_walls), "draw_min_cpu_s": min(draw_cpus),
        "draw_repeat": draw_repeat, "in_process": in_process,
        "import_freeze_draw_s": sum(s["seconds"] for s in imports)
        + steps[[s["step"] for s in steps].index("freeze")]["seconds"] + min(draw_walls),
        "drawn": draw["rows"], "solver": summary["solver"],
        "db_bytes": db_size(db),
    }


def draw_ratio(result: dict[str, Any]) -> float:
    """CLI `draw inspections` wall time over the in-process plan's, same snapshot."""
    return float(result["draw_min_wall_s"] / result["in_process"]["plan_wall_s"])


def pipeline_ratio(result: dict[str, Any]) -> float:
    """CLI imports + freeze + draw over the in-process plan."""
    return float(result["import_freeze_draw_s"] / result["in_process"]["plan_wall_s"])


def targets(result: dict[str, Any]) -> dict[str, bool]:
    national = result["spec"]["firms"] >= 1_400_000
    out = {f"imports < {IMPORT_TARGET_S:.0f} s": result["import_total_s"] < IMPORT_TARGET_S,
           f"draw < {DRAW_TARGET_S:.0f} s": result["draw_s"] < DRAW_TARGET_S,
           "draw peak < 4 GiB": result["draw_peak_rss_mib"] < DRAW_PEAK_TARGET_MIB,
           "CLI draw ≤ 1.15× in-process plan": draw_ratio(result) <= 1.15,
           "import + freeze + draw ≤ 2× in-process plan": pipeline_ratio(result) <= 2.0}
    if national:
        return out
    return {k: v for k, v in out.items() if "peak" in k or k.startswith("CLI draw")}


def render_markdown(result: dict[str, Any]) -> list[str]:
    """The BENCHMARKS.md section of a result (lines, no trailing blank)."""
    spec = result["spec"]
    lines = [
        f"## {'National' if spec['firms'] >= 1_400_000 else 'Province'} scale through the "
        f"command line", "",
        f"`bench/scale.py`: {spec['firms']:,} firms in {spec['cities']:,} cities "
        f"({spec['districts']:,} districts), {spec['inspectors']:,} inspectors, "
        f"{spec['history_quarters']} quarters of inspection history, generated as CSV "
        f"({result['input_bytes'] / MIB:,.0f} MiB; companies in GB18030, every USCC valid) in "
        f"{result['generate_s']:.1f} s, then each step run as its own `suiji` process. "
        f"Peak RSS is the step's own process (wait4).", "",
        "| step | rows | wall s | CPU s | peak RSS | database after |",
        "|---|---:|---:|---:|---:|---:|"]
    for s in result["steps"]:
        rows = f"{s['rows']:,}" if s["rows"] is not None else ""
        lines.append(f"| `suiji {s['step']}` | {rows} | {s['seconds']:.1f} | "
                     f"{s['cpu_s']:.1f} | {s['peak_rss_mib']:,.0f} MiB | "
                     f"{s['db_bytes'] / MIB:,.0f} MiB |")
    solver = result["solver"]
    ip = result["in_process"]
    tg = "; ".join(f"{k}: {'PASS' if ok else 'FAIL'}" for k, ok in targets(result).items())
    lines += ["",
              f"All imports: {result['import_total_s']:.1f} s (peak "
              f"{result['import_peak_rss_mib']:,.0f} MiB). Draw: {result['drawn']:,} "
              f"inspections in {result['draw_s']:.1f} s (peak "
              f"{result['draw_peak_rss_mib']:,.0f} MiB; teams {solver['status']}, unique "
              f"{'yes' if solver['unique'] else 'no'}, {solver['components']:,} components, "
              f"{solver['arcs']:,} arcs). Database: {result['db_bytes'] / MIB:,.0f} MiB.",
              "",
              f"Same snapshot, in-process `compute_plan` in a fresh process: "
              f"{ip['plan_wall_s']:.2f} s wall, {ip['plan_cpu_s']:.2f} s CPU (min of "
              f"{ip['repeat']}). CLI `draw inspections` (whole process: start-up, imports, "
              f"freeze check, plan, record): {result['draw_min_wall_s']:.2f} s wall, "
              f"{result['draw_min_cpu_s']:.2f} s CPU (min of {result['draw_repeat']}) = "
              f"**{draw_ratio(result):.2f}×** the in-process plan. Imports + freeze + draw: "
              f"{result['import_freeze_draw_s']:.1f} s = **{pipeline_ratio(result):.2f}×** "
              f"the in-process plan.", "",
              f"Targets: {tg}."]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--firms", type=int, default=Spec.firms)
    ap.add_argument("--inspectors", type=int, default=Spec.inspectors)
    ap.add_argument("--cities", type=int, default=Spec.cities)
    ap.add_argument("--seed", type=int, default=Spec.seed)
    ap.add_argument("--verify", action="store_true", help="also time `suiji verify`")
    ap.add_argument("--keep", type=Path, default=None,
                    help="work in this folder and keep it (default: a temporary one)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--draw-repeat", type=int, default=1,
                    help="draw this many times from the frozen state (min is reported)")
    ap.add_argument("--plan-repeat", type=int, default=1)
    ap.add_argument("--plan", type=Path, metavar="DB", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--generate", type=Path, metavar="DIR",
                    help="only write the CSV files into DIR and print their paths as JSON")
    args = ap.parse_args(argv)
    spec = Spec(firms=args.firms, inspectors=args.inspectors, cities=args.cities,
                seed=args.seed,
                inspections_per_year=Spec.inspections_per_year * args.firms // Spec.firms)
    if args.plan is not None:
        print(json.dumps(in_process_plan(args.plan, args.repeat)))
        return 0
    if args.generate is not None:
        paths = generate_national(args.generate, spec)
        print(json.dumps({k: str(v) for k, v in paths.items()}))
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="suiji-scale-"))
    try:
        result = run(spec, work, verify=args.verify, draw_repeat=args.draw_repeat,
                     plan_repeat=args.plan_repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print("\n".join(render_markdown(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
