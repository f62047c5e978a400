"""What every page shares: the configuration, the database per request, templates, CSRF.

The workbench is an adapter like the CLI: a route parses the request, calls
one library function and renders a template. Nothing here knows a rule of
the domain.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from suiji.data import clock
from suiji.data.errors import InputFileError, SuijiError
from suiji.data.period import Period
from suiji.data.rules import Rules, load_rules
from suiji.data.status import (
    current_period,
    known_periods,
    log_head,
    period_status,
    record_head,
)
from suiji.data.store import Store
from suiji.web.jobs import JobRunner

MIB = 2**20
UPLOAD_LIMIT = 200 * MIB  # a national companies file is about 150 MiB as CSV


# Record kinds the workbench does not import yet (a scheduler step with its own result, not
# an import summary): the page says what to run instead.
WEB_UNSUPPORTED = {"responses": "专家答复（responses）请用命令行导入："
                                "suiji import responses 文件名"}


@dataclass(frozen=True)
class WebConfig:
    db: Path
    rules_path: str | None = None
    work_dir: Path = Path(".")  # server-named uploads and bundles go below it
    upload_limit: int = UPLOAD_LIMIT
    today: Callable[[], date] = clock.today  # the computer's (suiji.data.clock)
    secret: str = field(default_factory=lambda: secrets.token_hex(32))


class Forbidden(Exception):
    """A state change without a valid CSRF token."""


class ViewCache:
    """Results of expensive reads, keyed by the log head: every change of the record is a
    log entry, so a new head means the cached views are stale."""

    def __init__(self, size: int = 16) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._size = size

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


CATEGORY_ZH = {"key": "重点排污单位", "general": "一般排污单位", "special": "特殊监管对象"}
SCOPE_ZH = {"inspections": "双随机检查", "reviews": "环评文件技术复核", "panels": "评审专家"}
SEED_SOURCE_ZH = {"user": "现场给定（公开随机数）", "os": "操作系统安全随机源生成"}
STATE_ZH = {"good": "正常", "warning": "警示", "suspended": "暂停"}
DOC_TYPE_ZH = {"report": "报告书", "form": "报告表"}
REASON_ZH = {"watch_list": "重点监督单位报告书", "certainty": "必抽", "sampled": "随机抽取"}
ACTION_ZH = {"init": "建库", "import": "导入", "freeze": "冻结", "draw": "抽取",
             "redraw": "重新抽取", "substitution": "补抽执法人员", "decline": "专家谢绝",
             "results": "录入结果",
             "export": "导出", "publish": "公示", "expert_state": "专家状态变更",
             "migrate": "升级数据库"}
METHOD_ZH = {"srs": "简单随机抽样", "pps": "按风险分概率比例抽样"}
KIND_ZH = {"results": "检查结果", "scores": "专家评分"}


def _problem_rows(problems: list[str]) -> list[dict[str, str]]:
    """``row 5, column 企业名称 (name): ...`` lines as (row, column, problem) cells."""
    out = []
    for line in problems:
        m = re.match(r"^row (\d+)(?:, column ([^:]+))?: (.*)$", line)
        if m:
            out.append({"row": m[1], "column": m[2] or "", "problem": m[3]})
        else:
            out.append({"row": "", "column": "", "problem": line})
    return out


class Workbench:
    """The application's state: configuration, jobs, cache, templates, pending uploads."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.jobs = JobRunner(after=self._after_job)
        self.cache = ViewCache()
        self.uploads: dict[str, dict[str, Any]] = {}  # token -> server path and what it is
        self.env = Environment(loader=PackageLoader("suiji.web", "templates"),
                               autoescape=select_autoescape(["html"], default=True),
                               trim_blocks=True, lstrip_blocks=True,
                               extensions=["jinja2.ext.do"])
        self.env.globals.update(CATEGORY_ZH=CATEGORY_ZH, SCOPE_ZH=SCOPE_ZH,
                                SEED_SOURCE_ZH=SEED_SOURCE_ZH, STATE_ZH=STATE_ZH,
                                DOC_TYPE_ZH=DOC_TYPE_ZH, REASON_ZH=REASON_ZH,
                                ACTION_ZH=ACTION_ZH, KIND_ZH=KIND_ZH,
                                METHOD_ZH=METHOD_ZH)
        self.env.globals["job_problems"] = lambda exc: (
            _problem_rows(exc.problems) if isinstance(exc, InputFileError) else [])
        self.env.filters["n"] = lambda v: f"{v:,}" if isinstance(v, int) else v
        self.env.filters["pct"] = lambda v: f"{float(v) * 100:.1f}%" if v is not None else ""
        self.env.filters["when"] = lambda v: str(v)[:19].replace("T", " ") if v else ""
        (config.work_dir / "uploads").mkdir(parents=True, exist_ok=True)

    def _after_job(self, job: Any) -> None:
        if job.period:
            job.update("准备页面 preparing the pages", 0, None)
            self.warm(job.period)

    # --- the record -------------------------------------------------------------------

    @contextmanager
    def store(self) -> Iterator[Store]:
        """The database, opened for this request's thread and closed after it."""
        store = Store.open(self.config.db)
        try:
            yield store
        finally:
            store.close()

    def rules(self) -> Rules:
        return load_rules(self.config.rules_path)

    def today(self) -> date:
        return self.config.today()

    def cached(self, store: Store, name: str, args: tuple[Any, ...],
               make: Callable[[], Any]) -> Any:
        """``make()``, computed once per state of the record.

        The period overview changes with every log entry (freezes and publications
        included); every other view only when an entry changed the record itself.
        """
        head: Any = log_head(store) if name == "status" else record_head(store)
        return self.cache.get((name, args, head), make)

    def warm(self, period: str) -> None:
        """Fill the cache for ``period``'s overview and plan after a change (in the job's
        thread), so the first page after a draw or an import is as fast as the next."""
        from suiji.reports.browse import PlanIndex
        from suiji.reports.notice import plan_view

        with self.store() as store:
            self.cached(store, "status", (period, self.today()),
                        lambda: period_status(store, period, self.today()))
            with suppress(SuijiError):  # no plan yet
                self.cached(store, "plan-index", (period,), lambda: PlanIndex.of(
                    self.cached(store, "plan", (period,), lambda: plan_view(store, period))))

    def period(self, request: Request, store: Store) -> str:
        """The period of ``?p=`` (checked), else the newest period with a freeze or draw."""
        text = request.query_params.get("p", "")
        if text:
            return str(Period.parse(text))
        periods = known_periods(store)
        return periods[0] if periods else str(current_period(self.today()))

    # --- pages ------------------------------------------------------------------------

    def csrf_token(self, request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = secrets.token_urlsafe(32)
            request.session["csrf"] = token
        return str(token)

    def check_csrf(self, request: Request, form: FormData | Mapping[str, Any]) -> None:
        sent = form.get("csrf")
        expected = request.session.get("csrf")
        if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
            raise Forbidden()

    def page(self, request: Request, template: str, code: int = 200,
             **context: Any) -> HTMLResponse:
        context.setdefault("period", request.query_params.get("p", ""))
        html = self.env.get_template(template).render(
            request=request, csrf=self.csrf_token(request), running=self.jobs.running,
            path=request.url.path, **context)
        return HTMLResponse(html, status_code=code)

    def error(self, request: Request, exc: BaseException, code: int = 400,
              **context: Any) -> HTMLResponse:
        problems = _problem_rows(exc.problems) if isinstance(exc, InputFileError) else []
        summary = exc.summary if isinstance(exc, InputFileError) else str(exc)
        return self.page(request, "error.html", code, message=summary, problems=problems,
                         total=getattr(exc, "total", len(problems)), **context)

    @staticmethod
    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def job_redirect(self, job_id: str) -> Response:
        return self.redirect(f"/jobs/{job_id}")


def form_text(form: FormData | Mapping[str, Any], name: str, default: str = "") -> str:
    value = form.get(name, default)
    return value.strip() if isinstance(value, str) else default


def domain_error(exc: BaseException) -> bool:
    return isinstance(exc, SuijiError | ValueError)
