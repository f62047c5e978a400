"""State changes: POST only, each with the page's CSRF token.

A long action starts a background job calling one library function (the one
the matching CLI command calls) and sends the browser to the job's page;
downloads that write the trail return the file they logged.
"""

from __future__ import annotations

import io
import re
import secrets
import tempfile
import unicodedata
import zipfile
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from suiji.data.errors import SuijiError
from suiji.data.period import Period
from suiji.data.progress import Progress
from suiji.web.core import WEB_UNSUPPORTED, Workbench, form_text
from suiji.web.jobs import Job, JobBusyError

UPLOAD_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json",
         "html": "text/html; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FORM_OVERHEAD = 64 * 1024


def display_name(raw: str) -> str:
    """The browser's file name as text to show and record (never used as a path)."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:120] or "上传文件"


def _heads(text: str) -> list[Any]:
    """Published heads, one ``SEQ:HASH`` a line; a pasted anchor file gives its ``head`` line."""
    from suiji.data.store import LogHead

    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(line.startswith("head ") for line in lines):
        lines = [line[5:] for line in lines if line.startswith("head ")]
    heads = []
    for n, line in enumerate(lines, 1):
        try:
            heads.append(LogHead.parse(line))
        except ValueError as exc:
            raise SuijiError(f"第 {n} 行「{line[:80]}」不是日志链头：请写成 序号:哈希，"
                             f"如 42:{'ab' * 32}（suiji 打印或锚定文件中的 head 一行）。") from exc
    return heads


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError as exc:
        raise SuijiError(f"{what}「{text}」不是日期，请写成 2026-11-02 的形式。") from exc


def _seed_source(form: FormData) -> Any:
    """The seed source the freeze form declares (None: 不声明), as ``suiji freeze
    --seed-source dice|event --on ... --place ... --witness ... --event ...``."""
    from suiji.data.commitments import SeedSource

    kind = form_text(form, "source_kind")
    if kind in ("", "none"):
        return None
    on = form_text(form, "source_on")
    if not on:
        raise SuijiError("请填写掷骰仪式或公开随机事件的日期（今天或以后）。")
    witnesses = tuple(w.strip() for w in form.getlist("witness")
                      if isinstance(w, str) and w.strip())
    return SeedSource(kind, _date(on, "种子来源日期"), form_text(form, "place"), witnesses,
                      form_text(form, "event"))


def routes(bench: Workbench) -> list[Route]:
    cfg = bench.config

    async def form_of(request: Request) -> FormData:
        form = await request.form(max_files=0, max_fields=200)
        bench.check_csrf(request, form)
        return form

    def start(request: Request, job_kind: str, label: str, period: str,
              work: Callable[[Job], Any], **params: Any) -> Response:
        try:
            job = bench.jobs.start(job_kind, label, period, work, params)
        except JobBusyError as exc:
            return bench.error(request, exc, 409, busy=exc.job)
        return bench.job_redirect(job.id)

    def period_of(form: FormData) -> str:
        return str(Period.parse(form_text(form, "period")))

    # --- imports ------------------------------------------------------------------------

    def import_job(token: str, allow_removals: bool) -> Callable[[Job], Any]:
        upload = bench.uploads[token]
        today = bench.today()

        def work(job: Job) -> Any:
            from suiji.data.errors import RemovalsNotConfirmedError
            from suiji.data.importers import import_file

            job.aliases[upload["path"].name] = upload["name"]
            keep = False
            try:
                with bench.store() as store:
                    rules = bench.rules()  # as the command passes them, for every kind
                    return import_file(store, upload["kind"], upload["path"],
                                       period=upload["period"], rules=rules,
                                       allow_removals=allow_removals,
                                       confirm_removals=not allow_removals,
                                       today=today, file_name=upload["name"])
            except RemovalsNotConfirmedError:
                keep = True
                job.params["token"] = token  # the file waits for the confirmation page
                raise
            except SuijiError as exc:
                # Messages name the file; show the user's name, not the server's.
                exc.args = tuple(str(a).replace(upload["path"].name, upload["name"])
                                 for a in exc.args)
                if hasattr(exc, "summary"):
                    exc.summary = exc.summary.replace(upload["path"].name, upload["name"])
                raise
            finally:
                if not keep:
                    _forget(token)
        return work

    def _forget(token: str) -> None:
        upload = bench.uploads.pop(token, None)
        if upload is not None:
            upload["path"].unlink(missing_ok=True)

    async def import_upload(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            return bench.error(request, SuijiError("上传请求缺少长度信息，请用页面上的表单上传。"),
                               411)
        if int(length) > cfg.upload_limit + FORM_OVERHEAD:
            return bench.error(request, SuijiError(
                f"文件太大（{int(length) / 2**20:,.1f} MiB），"
                f"上限为 {cfg.upload_limit // 2**20} MiB。"
                f"请分拆文件，或用命令行 suiji import 导入。"), 413)
        async with request.form(max_files=1, max_fields=20,
                                max_part_size=1024 * 1024) as form:
            bench.check_csrf(request, form)
            kind = form_text(form, "kind")
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                return bench.error(request, SuijiError("请选择要导入的文件。"))
            from suiji.data.importers import kind_of

            try:
                kind_of(kind)
                if kind in WEB_UNSUPPORTED:
                    raise SuijiError(WEB_UNSUPPORTED[kind])
                period = form_text(form, "period")
                period = str(Period.parse(period)) if period and kind == "results" else None
            except SuijiError as exc:
                return bench.error(request, exc)
            name = display_name(upload.filename)
            suffix = Path(name).suffix.lower()
            if suffix not in UPLOAD_SUFFIXES:
                suffix = ".csv"
            token = secrets.token_hex(16)
            path = cfg.work_dir / "uploads" / f"upload-{token}{suffix}"
            size = 0
            with path.open("wb") as out:
                while chunk := await upload.read(1 << 20):
                    size += len(chunk)
                    if size > cfg.upload_limit:
                        out.close()
                        path.unlink(missing_ok=True)
                        return bench.error(request, SuijiError(
                            f"文件超过上限 {cfg.upload_limit // 2**20} MiB。"), 413)
                    await run_in_threadpool(out.write, chunk)  # the server keeps answering
            shown = form_text(form, "p")  # the period the pages were showing
        try:
            shown = str(Period.parse(shown)) if shown else ""
        except SuijiError:
            shown = ""
        bench.uploads[token] = {"path": path, "kind": kind, "name": name, "period": period,
                                "shown": period or shown, "bytes": size}
        response = start(request, "import", f"导入 {kind}：{name}", period or shown,
                         import_job(token, False), kind=kind, name=name)
        if response.status_code != 303:  # not started (another job runs): nothing kept
            _forget(token)
        return response

    async def import_confirm(request: Request) -> Response:
        form = await form_of(request)
        token = form_text(form, "token")
        if token not in bench.uploads:
            return bench.error(request, SuijiError("这个上传已过期，请重新选择文件导入。"), 410)
        upload = bench.uploads[token]
        if form_text(form, "answer") != "yes":
            _forget(token)
            return bench.redirect("/import?kind=" + upload["kind"])
        return start(request, "import", f"导入 {upload['kind']}：{upload['name']}（确认删除）",
                     upload["shown"], import_job(token, True), kind=upload["kind"],
                     name=upload["name"])

    # --- freeze and draws ---------------------------------------------------------------

    async def freeze(request: Request) -> Response:
        form = await form_of(request)
        period, scope = period_of(form), form_text(form, "scope", "inspections")
        source = _seed_source(form)
        reason = form_text(form, "reason")
        today = bench.today()

        def work(job: Job) -> Any:
            from suiji.data.snapshot import freeze as do_freeze

            with bench.store() as store, Progress(f"冻结 {scope} 输入 {period}"):
                snap = do_freeze(store, Period.parse(period), scope, bench.rules(),
                                 seed_source=source, reason=reason, today=today)
            return {"snapshot": snap.id}
        return start(request, "freeze", f"冻结 {period} 的输入（{scope}）", period, work,
                     scope=scope)

    async def draw(request: Request) -> Response:
        form = await form_of(request)
        scope = request.path_params["scope"]
        period = period_of(form)
        seed = None if form_text(form, "seed_source") == "os" else form_text(form, "seed")
        if seed is not None and not seed:
            return bench.error(request, SuijiError(
                "请输入公开随机数（例如现场掷骰得到的 20 位数字），或选择由操作系统生成。"))
        redraw = form_text(form, "redraw") == "1"
        reason = form_text(form, "reason")
        commitment = form_text(form, "commitment") or None
        weak_seed = form_text(form, "weak_seed") == "1"
        rules = bench.rules()
        today = bench.today()

        if scope == "inspections":
            def work(job: Job) -> Any:
                from suiji.scheduler.plan import draw_plan

                with bench.store() as store, Progress(f"抽取 {period} 检查计划") as progress:
                    record = draw_plan(store, Period.parse(period), rules, seed, redraw=redraw,
                                       reason=reason, progress=progress, today=today,
                                       commitment=commitment, weak_seed=weak_seed)
                return {"draw": record.id}
        elif scope == "reviews":
            before_close = form_text(form, "before_close") == "1"

            def work(job: Job) -> Any:
                from suiji.sampler.reviews import draw_reviews

                with bench.store() as store, Progress(f"抽取 {period} 复核样本") as progress:
                    record = draw_reviews(store, Period.parse(period), rules, seed,
                                          redraw=redraw, reason=reason, progress=progress,
                                          today=today, before_close=before_close,
                                          commitment=commitment, weak_seed=weak_seed)
                return {"draw": record.id}
        elif scope == "panels":
            try:
                meeting = _date(form_text(form, "meeting"), "评审会日期")
            except SuijiError as exc:
                return bench.error(request, exc)
            docs = [d for d in form.getlist("documents") if isinstance(d, str) and d] or None
            non_working_day = form_text(form, "non_working_day") == "1"

            def work(job: Job) -> Any:
                from suiji.scheduler.panels import draw_panels

                with bench.store() as store, Progress(f"抽取 {meeting} 评审专家") as progress:
                    record = draw_panels(store, Period.parse(period), rules, meeting, today,
                                         docs, seed, redraw=redraw, reason=reason,
                                         progress=progress, non_working_day=non_working_day,
                                         commitment=commitment, weak_seed=weak_seed)
                return {"draw": record.id}
        else:
            return bench.error(request, SuijiError(f"没有这种抽取：{scope}"), 404)
        return start(request, "draw", f"抽取（{scope}）{period}", period, work, scope=scope)

    async def substitute(request: Request) -> Response:
        form = await form_of(request)
        period = period_of(form)
        badge, reason = form_text(form, "badge"), form_text(form, "reason")
        start_text = form_text(form, "from")
        try:
            from_date = (_date(start_text, "开始日期") if start_text else bench.today()).isoformat()
        except SuijiError as exc:
            return bench.error(request, exc)

        today = bench.today()

        def work(job: Job) -> Any:
            from suiji.scheduler.plan import substitute_inspector

            with bench.store() as store:
                return substitute_inspector(store, Period.parse(period), badge, reason,
                                            from_date, today=today)
        return start(request, "substitute", f"补抽执法人员 {badge}", period, work, badge=badge)

    async def decline(request: Request) -> Response:
        form = await form_of(request)
        period = period_of(form)
        expert, reason = form_text(form, "expert"), form_text(form, "reason")
        try:
            meeting = _date(form_text(form, "meeting"), "评审会日期")
        except SuijiError as exc:
            return bench.error(request, exc)

        def work(job: Job) -> Any:
            from suiji.scheduler.panels import decline as do_decline

            with bench.store() as store:
                return do_decline(store, meeting, expert, reason, Period.parse(period))
        return start(request, "decline", f"专家 {expert} 谢绝 {meeting} 评审会", period, work,
                     expert=expert, meeting=meeting.isoformat())

    # --- the trail ----------------------------------------------------------------------

    async def verify(request: Request) -> Response:
        form = await form_of(request)
        whole = form_text(form, "whole") == "1"
        period = None if whole else period_of(form)
        heads = _heads(form_text(form, "heads"))

        def work(job: Job) -> Any:
            from suiji.data.verify import check_heads, read_log, verify_store
            from suiji.scheduler.algorithms import REGISTRY

            with bench.store() as store:
                report = verify_store(store, REGISTRY, period, progress=job.say, heads=heads)
                if heads:
                    entries = read_log(store)
                    job.params["heads"] = [{"head": str(h), "on_chain": not check_heads(
                        entries, [h])} for h in heads]
            return report
        return start(request, "verify", "核验" + (f" {period}" if period else "整个数据库"),
                     period or "", work)

    async def bundle(request: Request) -> Response:
        form = await form_of(request)
        period = period_of(form)

        def work(job: Job) -> Any:
            from suiji.data.bundle import write_bundle
            from suiji.scheduler.algorithms import REGISTRY

            folder = Path(tempfile.mkdtemp(prefix="bundle-", dir=cfg.work_dir))
            out = folder / f"审计材料-{period}"
            with bench.store() as store:
                summary = write_bundle(store, period, out, registry=REGISTRY,
                                       progress=job.say, name=f"workbench:{out.name}.zip")
            archive = folder / f"审计材料-{period}.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(out.rglob("*")):
                    if f.is_file():
                        z.write(f, f"{out.name}/{f.relative_to(out).as_posix()}")
            return {"summary": summary, "file": archive, "download_name": archive.name,
                    "media_type": "application/zip"}
        return start(request, "bundle", f"生成 {period} 审计材料", period, work)

    # --- downloads that are exports (logged) --------------------------------------------

    async def export(request: Request) -> Response:
        form = await form_of(request)
        what = request.path_params["what"]
        period = period_of(form)
        fmt = form_text(form, "format", "xlsx")
        public = form_text(form, "public") == "1"
        authority = form_text(form, "authority")

        def run() -> tuple[bytes, str]:
            from suiji.reports.exports import export_plan, export_reviews

            name = f"{'公示' if public else '内部'}-{what}-{period}.{fmt}"
            out = io.BytesIO()
            with bench.store() as store:
                if what == "plan":
                    export_plan(store, period, fmt, out, public=public, as_of=bench.today(),
                                lang="zh", authority=authority, name=f"workbench:{name}")
                elif what == "reviews":
                    export_reviews(store, period, fmt, out, public=public, as_of=bench.today(),
                                   lang="zh", name=f"workbench:{name}")
                else:
                    raise SuijiError(f"没有这种导出：{what}")
            return out.getvalue(), name

        try:
            data, name = await run_in_threadpool(run)
        except SuijiError as exc:
            return bench.error(request, exc)
        return _attachment(data, name, MEDIA.get(fmt, "application/octet-stream"))

    async def report_download(request: Request) -> Response:
        form = await form_of(request)
        period = period_of(form)

        def run() -> bytes:
            from suiji.reports.exports import write_report

            with tempfile.TemporaryDirectory(prefix="report-", dir=cfg.work_dir) as tmp:
                folder = Path(tmp) / f"报告-{period}"
                with bench.store() as store:
                    written = write_report(store, period, folder, lang="zh",
                                           name=f"workbench:{folder.name}.zip")
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                    for name in sorted(written.files):
                        z.write(folder / name, f"{folder.name}/{name}")
            return buffer.getvalue()

        try:
            data = await run_in_threadpool(run)
        except SuijiError as exc:
            return bench.error(request, exc)
        return _attachment(data, f"报告-{period}.zip", "application/zip")

    def guarded(fn: Callable[[Request], Awaitable[Response]]
                ) -> Callable[[Request], Awaitable[Response]]:
        """A refusal (a bad period, a date that is not one) is an error page, not a crash."""
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)
            except (SuijiError, ValueError) as exc:
                return bench.error(request, exc)
        endpoint.__name__ = fn.__name__
        return endpoint

    return [Route(r.path, guarded(r.endpoint), methods=["POST"]) for r in [
        Route("/import", import_upload, methods=["POST"]),
        Route("/import/confirm", import_confirm, methods=["POST"]),
        Route("/freeze", freeze, methods=["POST"]),
        Route("/draw/{scope}", draw, methods=["POST"]),
        Route("/substitute", substitute, methods=["POST"]),
        Route("/decline", decline, methods=["POST"]),
        Route("/verify", verify, methods=["POST"]),
        Route("/bundle", bundle, methods=["POST"]),
        Route("/export/{what}", export, methods=["POST"]),
        Route("/report/download", report_download, methods=["POST"]),
    ]]


def _attachment(data: bytes, name: str, media_type: str) -> Response:
    from urllib.parse import quote

    return Response(data, media_type=media_type, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
