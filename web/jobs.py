"""Long work in the background: one job at a time, its progress readable while it runs.

A job runs one library call in a thread. Every :class:`~suiji.data.progress.Progress`
the library makes in that thread reports to the job (``observe``), so the page
shows the same steps the CLI draws on a terminal. A second job is refused
while one runs: the database takes one writer anyway, and a double-clicked
"draw" button must not queue a second draw.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from suiji.data.errors import SuijiError
from suiji.data.progress import observe

KEEP_FINISHED = 50


class JobBusyError(SuijiError):
    """Another job is running; the page links to it."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__(f"「{job.label}」正在进行，请等它完成后再开始新的操作。")


@dataclass
class Job:
    id: str
    kind: str  # import, freeze, draw, substitute, decline, verify, bundle
    label: str
    period: str
    params: dict[str, Any]
    state: str = "running"  # running, done, failed (a domain refusal), crashed (a bug)
    step: str = ""
    done: int = 0
    total: int | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    result: Any = None
    error: BaseException | None = None
    trace: str = ""
    steps: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # server file name -> user's name

    def update(self, label: str, done: int, total: int | None) -> None:
        """The observer of the library's Progress (called in the job's thread)."""
        for server_name, shown in self.aliases.items():
            label = label.replace(server_name, shown)
        if label != self.step:
            self.steps.append(label)
        self.step, self.done, self.total = label, done, total

    def say(self, message: str) -> None:
        """A step reported as a message (verify's progress callback)."""
        self.update(message, 0, None)

    @property
    def percent(self) -> int | None:
        if self.state != "running":
            return 100
        if not self.total:
            return None
        return min(100, int(100 * self.done / self.total))

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, "state": self.state,
                "step": self.step, "done": self.done, "total": self.total,
                "percent": self.percent, "elapsed": round(self.elapsed, 1)}


class JobRunner:
    """Runs one job at a time; ``after(job)`` runs in the job's thread once its work
    succeeded, before the job shows as done (the workbench fills its page cache)."""

    def __init__(self, after: Callable[[Job], None] | None = None) -> None:
        self._after = after
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._current: Job | None = None

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    @property
    def running(self) -> Job | None:
        job = self._current
        return job if job is not None and job.state == "running" else None

    def start(self, kind: str, label: str, period: str, work: Callable[[Job], Any],
              params: dict[str, Any] | None = None) -> Job:
        """Start ``work(job)`` in a thread; raise JobBusyError while another job runs."""
        with self._lock:
            if self.running is not None:
                raise JobBusyError(self.running)
            job = Job(secrets.token_hex(8), kind, label, period, dict(params or {}), step=label)
            self._current = job
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state != "running"]
            for old in finished[:-KEEP_FINISHED]:
                del self._jobs[old.id]
        threading.Thread(target=self._run, args=(job, work, self._after), name=f"suiji-{kind}",
                         daemon=True).start()
        return job

    def wait(self, job: Job, timeout: float = 60.0) -> Job:
        """Block until ``job`` ends (tests and benchmarks)."""
        end = time.monotonic() + timeout
        while job.state == "running" and time.monotonic() < end:
            time.sleep(0.02)
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Job], Any], after: Callable[[Job], None] | None
             ) -> None:
        try:
            with observe(job.update):
                job.result = work(job)
            if after is not None:
                after(job)
            job.state = "done"
        except SuijiError as exc:
            job.error = exc
            job.state = "failed"
        except Exception as exc:
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc)
                                                              or "busy" in str(exc)):
                job.error = SuijiError(
                    "另一个 suiji 进程（导入或抽取）正在写入数据库，30 秒内未完成。本次操作未改动"
                    "任何内容；请待其完成后重试。")
                job.state = "failed"
            else:  # a bug: shown as one, with its trace
                job.error = exc
                job.trace = traceback.format_exc()
                job.state = "crashed"
        finally:
            job.finished = time.monotonic()
