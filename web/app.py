"""The workbench application: ``create_app(WebConfig(db=...))`` gives the ASGI app.

Loopback only (the CLI refuses another host; the Host header is checked too,
against DNS rebinding), a session cookie that only carries the CSRF token,
and headers that keep the pages from being framed or running foreign scripts.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from suiji.web import actions, pages
from suiji.web.core import Forbidden, WebConfig, Workbench

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [(b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"SAMEORIGIN"),
                            (b"referrer-policy", b"same-origin"),
                            (b"cache-control", b"no-store")]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(config: WebConfig, extra_hosts: tuple[str, ...] = ()) -> Starlette:
    bench = Workbench(config)

    async def forbidden(request: Request, exc: Exception) -> Response:
        return bench.page(request, "error.html", 403,
                          message="请求未通过安全校验（CSRF 令牌缺失或已过期）。"
                                  "请返回上一页，刷新后重试。",
                          problems=[], total=0)

    routes = [*pages.routes(bench), *actions.routes(bench),
              Mount("/static", StaticFiles(packages=[("suiji.web", "static")]), name="static")]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=[*LOOPBACK_HOSTS, *extra_hosts]),
            Middleware(SecurityHeaders),
            Middleware(SessionMiddleware, secret_key=config.secret, session_cookie="suiji",
                       same_site="strict", https_only=False, max_age=None),
        ],
        exception_handlers={Forbidden: forbidden},
    )
    app.state.workbench = bench
    return app


__all__ = ["create_app", "WebConfig"]
