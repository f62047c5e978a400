"""The floors and peers suiji is measured against (``make bench``, bench/run.py).

Every figure is measured in the same run as the step it is compared with:
CPU seconds of this process (``time.process_time``) and wall seconds, each the
minimum of N runs, so a busy neighbour on a shared machine inflates both
sides less. Nothing here is part of suiji.

* ``hashlib_floor``: the fastest plain-Python hashlib loop over the ids the draw
  hashes (the seed's hex digest hashed once, the state ``.copy()``d per id,
  each digest kept): the cost of the tickets themselves, on one core.
* ``openssl_per_call``: ``openssl speed -evp sha256 -bytes 64``, OpenSSL's own
  rate for 64-byte messages, i.e. what a C loop over the ids would cost.
* ``plain_flow``: OR-Tools ``SimpleMinCostFlow`` on exactly the arcs suiji's
  solver is given (built and solved, no proof of uniqueness).
* ``OPENREVIEW``: openreview-matcher's SimpleSolver is not on PyPI; its figure
  is quoted from DOMAIN.md §7, not measured here.
"""

from __future__ import annotations

import gc
import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# DOMAIN.md §7 (the figure the panel benchmark is sized after; not measured on this machine)
OPENREVIEW = ("openreview-matcher SimpleSolver (min-cost flow), 1,000 papers x 2,000 "
              "reviewers: 35 s, as quoted in DOMAIN.md §7 (not on PyPI, not run here)")


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, float, Any]:
    """(min CPU seconds, min wall seconds, last result) over ``repeat`` runs."""
    cpu, wall = [], []
    out = None
    for _ in range(repeat):
        out = None
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall), out


def _plain_loop(prefix: bytes, ids: Sequence[str]) -> list[bytes]:
    sha = hashlib.sha256
    return [sha(prefix + i.encode("utf-8")).digest() for i in ids]


def _copy_loop(prefix: bytes, ids: Sequence[str]) -> list[bytes]:
    fresh = hashlib.sha256(prefix).copy
    out: list[bytes] = []
    keep = out.append
    for i in ids:
        h = fresh()
        h.update(i.encode("utf-8"))
        keep(h.digest())
    return out


def hashlib_floor(ids: Sequence[str], seed: str, repeat: int = 3) -> dict[str, Any]:
    """The fastest single-core hashlib loop over ``ids`` (CPU and wall, min of ``repeat``)."""
    prefix = hashlib.sha256(seed.encode("utf-8")).hexdigest().encode("utf-8")
    loops = {"sha256(prefix + id)": _plain_loop, "prefix state .copy() per id": _copy_loop}
    out: dict[str, Any] = {}
    for name, loop in loops.items():
        cpu, wall, _ = timed(lambda loop=loop: loop(prefix, ids), repeat)
        out[name] = {"cpu_s": cpu, "wall_s": wall}
    best = min(out, key=lambda k: out[k]["cpu_s"])
    return {"loops": out, "best": best, "cpu_s": out[best]["cpu_s"],
            "wall_s": out[best]["wall_s"]}


def openssl_per_call(n: int) -> dict[str, Any]:
    """OpenSSL's SHA-256 rate for 64-byte messages and the time it gives for ``n`` calls."""
    exe = shutil.which("openssl")
    if exe is None:
        return {"available": False, "note": "no openssl binary on this machine"}
    proc = subprocess.run([exe, "speed", "-evp", "sha256", "-bytes", "64", "-seconds", "2"],
                          capture_output=True, text=True, check=False)
    match = re.search(r"^sha256\s+([\d.]+)k", proc.stdout, re.M)
    if proc.returncode != 0 or match is None:
        return {"available": False, "note": f"openssl speed failed: {proc.stderr[-200:]}"}
    bytes_per_s = float(match.group(1)) * 1000
    calls_per_s = bytes_per_s / 64
    version = subprocess.run([exe, "version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    return {"available": True, "version": version, "calls_per_s": calls_per_s,
            "seconds": n / calls_per_s}


def plain_flow(num_nodes: int, tails: Any, heads: Any, caps: Any, costs: Any, supplies: Any,
               max_flow: bool) -> tuple[str, int]:
    """OR-Tools SimpleMinCostFlow on the arcs as given: (status, optimal cost)."""
    from ortools.graph.python import min_cost_flow

    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int32), np.asarray(heads, dtype=np.int32),
        np.asarray(caps, dtype=np.int64), np.asarray(costs, dtype=np.int64))
    smcf.set_nodes_supplies(np.arange(num_nodes, dtype=np.int32),
                            np.asarray(supplies, dtype=np.int64))
    status = smcf.solve_max_flow_with_min_cost() if max_flow else smcf.solve()
    return str(status), int(smcf.optimal_cost())


def assign_graph(demand: Any, capacity: Any, arc_task: Any, arc_person: Any, arc_cost: Any
                 ) -> tuple[int, Any, Any, Any, Any, Any]:
    """The network :func:`suiji.scheduler.flow.assign` solves, for :func:`plain_flow`."""
    d = np.asarray(demand, dtype=np.int64)
    cap = np.asarray(capacity, dtype=np.int64)
    at = np.asarray(arc_task, dtype=np.int64)
    ap = np.asarray(arc_person, dtype=np.int64)
    n_t, n_p = d.size, cap.size
    sink = n_t + n_p
    tails = np.concatenate([at, n_t + np.arange(n_p)])
    heads = np.concatenate([n_t + ap, np.full(n_p, sink)])
    caps = np.concatenate([np.ones(at.size, np.int64), cap])
    costs = np.concatenate([np.asarray(arc_cost, dtype=np.int64), np.zeros(n_p, np.int64)])
    supplies = np.concatenate([d, np.zeros(n_p, np.int64), [-int(d.sum())]])
    return n_t + n_p + 1, tails, heads, caps, costs, supplies
