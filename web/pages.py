"""Pages that only read: each parses the query, calls one library function, renders a template."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from suiji.data.errors import SuijiError
from suiji.data.period import Period
from suiji.data.schema import KINDS, RECORD_KINDS
from suiji.data.status import draw_sheet, freeze_sheet, known_periods, period_status
from suiji.web.core import WEB_UNSUPPORTED, Workbench

PER_PAGE = 50
LOG_PER_PAGE = 100
# The notice and the report are self-contained documents with inline styles and no script.
DOCUMENT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "frame-ancestors 'self'")


def _int(request: Request, name: str, default: int) -> int:
    try:
        return max(1, int(request.query_params.get(name, default)))
    except ValueError:
        return default


def routes(bench: Workbench) -> list[Route]:
    def guarded(fn: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """Map domain errors of a page to the error page (exit 1 of the CLI)."""
        def endpoint(request: Request) -> Response:
            try:
                return fn(request)
            except (SuijiError, ValueError) as exc:
                return bench.error(request, exc)
        endpoint.__name__ = fn.__name__
        return endpoint

    @guarded
    def home(request: Request) -> Response:
        with bench.store() as store:
            period = bench.period(request, store)
            status = bench.cached(store, "status", (period, bench.today()),
                                  lambda: period_status(store, period, bench.today()))
            periods = known_periods(store)
        return bench.page(request, "home.html", status=status, period=period,
                          periods=periods)

    @guarded
    def import_form(request: Request) -> Response:
        with bench.store() as store:
            period = bench.period(request, store)
            status = bench.cached(store, "status", (period, bench.today()),
                                  lambda: period_status(store, period, bench.today()))
        kind = request.query_params.get("kind", "companies")
        records = {k: v for k, v in RECORD_KINDS.items() if k not in WEB_UNSUPPORTED}
        return bench.page(request, "import.html", status=status, period=period,
                          kinds=KINDS, record_kinds=records, chosen=kind,
                          limit_mib=bench.config.upload_limit // 2**20)

    @guarded
    def rules_page(request: Request) -> Response:
        from suiji.data.rules import PRESETS

        rules = bench.rules()
        with bench.store() as store:
            period = bench.period(request, store)
            status = bench.cached(store, "status", (period, bench.today()),
                                  lambda: period_status(store, period, bench.today()))
            frozen = {scope: freeze_sheet(store, f.snapshot).rules_text
                      for scope, f in status.freezes.items()}
        return bench.page(request, "rules.html", rules=rules, presets=PRESETS, period=period,
                          frozen=frozen, source=bench.config.rules_path or "内置默认规则")

    @guarded
    def freeze_page(request: Request) -> Response:
        with bench.store() as store:
            period = bench.period(request, store)
            status = bench.cached(store, "status", (period, bench.today()),
                                  lambda: period_status(store, period, bench.today()))
        return bench.page(request, "freeze.html", status=status, period=period)

    @guarded
    def commitment(request: Request) -> Response:
        from suiji.data.commitments import freezes, latest_commitment

        with bench.store() as store:
            sheet = freeze_sheet(store, int(request.path_params["snapshot"]))
            history = freezes(store, sheet.period, sheet.scope)
            latest = latest_commitment(store, sheet.period, sheet.scope)
        this = next((f for f in history if f.snapshot == sheet.snapshot), None)
        return bench.page(request, "commitment.html", sheet=sheet, period=sheet.period,
                          this=this, history=history, latest=latest)

    @guarded
    def draw_screen(request: Request) -> Response:
        scope = request.path_params["scope"]
        if scope not in ("inspections", "reviews", "panels"):
            raise SuijiError(f"没有这种抽取：{scope}")
        with bench.store() as store:
            period = bench.period(request, store)
            status = bench.cached(store, "status", (period, bench.today()),
                                  lambda: period_status(store, period, bench.today()))
            sample = None
            if scope == "panels" and status.sample is not None:
                from suiji.sampler.reviews import review_rows

                sample = bench.cached(store, "reviews", (period, bench.today()),
                                      lambda: review_rows(store, period, False, bench.today()))
            from suiji.data.commitments import latest_commitment

            frozen_scope = "inspections" if scope == "inspections" else "reviews"
            latest = latest_commitment(store, period, frozen_scope)
        frozen = status.freezes.get(frozen_scope)
        return bench.page(request, "draw.html", scope=scope, status=status, period=period,
                          frozen=frozen, sample=sample, today=bench.today(), latest=latest,
                          status_period_end=Period.parse(period).last_day)

    @guarded
    def draw_record(request: Request) -> Response:
        draw = int(request.path_params["draw"])
        with bench.store() as store:
            sheet = bench.cached(store, "draw", (draw,), lambda: draw_sheet(store, draw))
            # What the draw's log entry records beside the seed (as `suiji draw` prints it).
            facts: dict[str, Any] = next((e.details for e in store.log_entries(sheet.period)
                          if e.seq == sheet.log_seq), {})
        return bench.page(request, "record.html", sheet=sheet, period=sheet.period,
                          facts=facts)

    @guarded
    def plan(request: Request) -> Response:
        from suiji.reports.browse import PlanIndex, PlanQuery, plan_page
        from suiji.reports.notice import plan_view

        q = request.query_params
        query = PlanQuery(district=q.get("district", ""), category=q.get("category", ""),
                          date=q.get("date", ""), inspector=q.get("inspector", "").strip(),
                          page=_int(request, "page", 1), per_page=PER_PAGE)
        with bench.store() as store:
            period = bench.period(request, store)
            index = bench.cached(store, "plan-index", (period,), lambda: PlanIndex.of(
                bench.cached(store, "plan", (period,), lambda: plan_view(store, period))))
        page = plan_page(index, query, bench.today())
        return bench.page(request, "plan.html", view=index.view, page=page, query=query,
                          period=period)

    @guarded
    def notice(request: Request) -> Response:
        with bench.store() as store:
            period = bench.period(request, store)
        return bench.page(request, "notice.html", period=period,
                          authority=request.query_params.get("authority", "").strip()[:60])

    @guarded
    def notice_document(request: Request) -> Response:
        from suiji.reports.notice import plan_view, render_notice

        with bench.store() as store:
            period = bench.period(request, store)
            authority = request.query_params.get("authority", "").strip()[:60]
            html = bench.cached(store, "notice", (period, bench.today(), authority),
                                lambda: render_notice(
                bench.cached(store, "plan", (period,), lambda: plan_view(store, period)),
                bench.today(), "zh", authority))
        return HTMLResponse(html, headers={"content-security-policy": DOCUMENT_CSP})

    @guarded
    def reviews(request: Request) -> Response:
        from suiji.data.scores import current_panel_outputs
        from suiji.sampler.reviews import review_rows

        with bench.store() as store:
            period = bench.period(request, store)
            status = bench.cached(store, "status", (period, bench.today()),
                                  lambda: period_status(store, period, bench.today()))
            rows = (bench.cached(store, "reviews", (period, bench.today()),
                                 lambda: review_rows(store, period, False, bench.today()))
                    if status.sample else [])
            panels = current_panel_outputs(store, period)
        return bench.page(request, "reviews.html", status=status, rows=rows, panels=panels,
                          period=period)

    @guarded
    def experts(request: Request) -> Response:
        from suiji.data.scores import expert_status

        brief = request.query_params.get("brief", "") == "1"
        rules = bench.rules()
        with bench.store() as store:
            period = bench.period(request, store)
            rows = bench.cached(store, "experts", (period, bench.today(), rules.sha256),
                                lambda: expert_status(store, rules, bench.today(),
                                                      Period.parse(period)))
        shown = [r for r in rows if not brief or r["points"] or r["load"]
                 or r["state"] != "good" or not r["eligible"]]
        counts = {s: sum(r["state"] == s for r in rows) for s in ("good", "warning", "suspended")}
        return bench.page(request, "experts.html", rows=shown, all_rows=rows, counts=counts,
                          brief=brief, period=period, year=bench.today().year)

    @guarded
    def verify_page(request: Request) -> Response:
        with bench.store() as store:
            period = bench.period(request, store)
        return bench.page(request, "verify.html", period=period)

    @guarded
    def bundle_page(request: Request) -> Response:
        with bench.store() as store:
            period = bench.period(request, store)
        return bench.page(request, "bundle.html", period=period)

    @guarded
    def log(request: Request) -> Response:
        from suiji.data.trail import entry_summary, log_rows

        only = request.query_params.get("only", "") == "period"
        with bench.store() as store:
            period = bench.period(request, store)
            rows = bench.cached(store, "log", (period if only else None,),
                                lambda: log_rows(store, period if only else None))
            head = store.head()
        pages = max(1, -(-len(rows) // LOG_PER_PAGE))
        page = min(_int(request, "page", 1), pages)
        newest_first = rows[::-1][(page - 1) * LOG_PER_PAGE:page * LOG_PER_PAGE]
        return bench.page(request, "log.html", rows=newest_first, total=len(rows), page=page,
                          pages=pages, only=only, period=period, summary=entry_summary,
                          head=head)

    @guarded
    def anchor(request: Request) -> Response:
        """The anchor text of `suiji anchor`, as a download (the record is not changed)."""
        from urllib.parse import quote

        from suiji.data.trail import anchor_text

        with bench.store() as store:
            head = store.head()
            text = anchor_text(store, head)
        name = quote(f"日志链头-{head.seq}.txt")
        return Response(text.encode("utf-8"), media_type="text/plain; charset=utf-8",
                        headers={"content-disposition": f"attachment; filename*=UTF-8''{name}"})

    @guarded
    def report(request: Request) -> Response:
        with bench.store() as store:
            period = bench.period(request, store)
        return bench.page(request, "report.html", period=period)

    @guarded
    def report_document(request: Request) -> Response:
        from suiji.reports.report import build_report

        with bench.store() as store:
            period = bench.period(request, store)
            html = bench.cached(store, "report", (period,),
                                lambda: build_report(store, period, lang="zh").html())
        return HTMLResponse(html, headers={"content-security-policy": DOCUMENT_CSP})

    def job_page(request: Request) -> Response:
        job = bench.jobs.get(request.path_params["job"])
        if job is None:
            return bench.page(request, "error.html", 404, problems=[], total=0,
                              message="没有这项任务（服务已重启或任务已过期）。")
        if job.state == "done" and job.kind == "freeze":
            return bench.redirect(f"/freeze/{job.result['snapshot']}")
        if job.state == "done" and job.kind == "draw":
            return bench.redirect(f"/draws/{job.result['draw']}")
        return bench.page(request, f"job_{job.kind}.html" if job.state == "done"
                          else "job.html", job=job, period=job.period)

    def job_json(request: Request) -> Response:
        job = bench.jobs.get(request.path_params["job"])
        if job is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        return JSONResponse(job.as_json())

    def job_file(request: Request) -> Response:
        job = bench.jobs.get(request.path_params["job"])
        if job is None or job.state != "done" or not isinstance(job.result, dict) \
                or not isinstance(job.result.get("file"), Path):
            return bench.page(request, "error.html", 404, message="文件不存在或已过期。",
                              problems=[], total=0)
        return FileResponse(job.result["file"], filename=job.result["download_name"],
                            media_type=job.result.get("media_type", "application/zip"))

    def favicon(request: Request) -> Response:
        return Response(status_code=204)

    return [
        Route("/", home),
        Route("/import", import_form),
        Route("/rules", rules_page),
        Route("/freeze", freeze_page),
        Route("/freeze/{snapshot:int}", commitment),
        Route("/draw/{scope}", draw_screen),
        Route("/draws/{draw:int}", draw_record),
        Route("/plan", plan),
        Route("/notice", notice),
        Route("/notice/document.html", notice_document),
        Route("/reviews", reviews),
        Route("/experts", experts),
        Route("/verify", verify_page),
        Route("/bundle", bundle_page),
        Route("/log", log),
        Route("/anchor", anchor),
        Route("/report", report),
        Route("/report/document.html", report_document),
        Route("/jobs/{job}.json", job_json),
        Route("/jobs/{job}", job_page),
        Route("/jobs/{job}/file", job_file),
        Route("/favicon.ico", favicon),
    ]
