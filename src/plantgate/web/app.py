"""The FastAPI application factory: database, templates, static files, routes and error mapping.

This is the only place where library errors become HTTP responses: InputError -> 400 with
every located problem, refusals by the state machine or stale revisions -> 409, missing
login -> redirect (pages) or 401 (API), missing role -> 403.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plantgate import __version__
from plantgate.db.accounts import AuthError, RateLimited
from plantgate.db.engine import make_engine, session_factory, upgrade
from plantgate.db.revisions import StaleRevision
from plantgate.decisions.change_state import TransitionRefused
from plantgate.errors import InputError
from plantgate.jobs.queue import queue_for
from plantgate.web.revision_cache import RevisionCache
from plantgate.web.security import CsrfRefused, Forbidden, NotAuthenticated, NotFound
from plantgate.web.settings import Settings

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.auto_reload = False  # templates ship with the package: no stat() of the file on every page view


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, title: str, messages: list[str]) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": title, "problems": messages}, status_code=status)
    return templates.TemplateResponse(request, "error.html", {"title": title, "messages": messages, "user": None},
                                      status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": "not authenticated", "problems": [str(exc)]}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        if request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return _error(request, 401, "Not logged in", [str(exc)])

    handlers: list[tuple[type[Exception], int, str]] = [
        (Forbidden, 403, "Not allowed"), (CsrfRefused, 403, "Request refused"), (NotFound, 404, "Not found"),
        (TransitionRefused, 409, "Refused"), (StaleRevision, 409, "The treaty has moved on"),
        (RateLimited, 429, "Too many attempts"), (AuthError, 401, "Authentication failed"),
    ]
    for exc_type, status, title in handlers:
        def make(status: int = status, title: str = title) -> Any:
            async def handler(request: Request, exc: Exception) -> Response:
                return _error(request, status, title, [str(exc)])
            return handler
        app.add_exception_handler(exc_type, make())

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        return _error(request, 400, "Invalid input", [str(p) for p in exc.problems])


SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
]


class SecurityHeaders:
    """Adds the security headers a response does not set itself, as plain ASGI middleware.

    (``@app.middleware("http")`` wraps every request in streams and a task group: under load that
    cost more than rendering most pages.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                missing = [header for header in SECURITY_HEADERS if header[0] not in present]
                if missing:
                    message = {**message, "headers": [*message.get("headers", []), *missing]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """A ready app on ``settings.database_url`` (migrated to the latest schema unless told not to)."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    app = FastAPI(title="PlantGate", version=__version__,
                  description="The shared register, change approvals with OT veto, signed risk decisions and a "
                              "tamper-evident audit log. API: bearer tokens scoped to one site and one role.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.workdir = Path(tempfile.mkdtemp(prefix="plantgate-web-"))
    app.state.revisions = RevisionCache()
    app.state.jobs = queue_for(settings)  # checks, uploads and re-judging run as jobs, never in a request
    app.router.on_shutdown.append(app.state.jobs.close)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _install_error_handlers(app)

    app.add_middleware(SecurityHeaders)

    from plantgate.web.routes.api import router as api_router
    from plantgate.web.routes.auth import router as auth_router
    from plantgate.web.routes.changes import router as change_router
    from plantgate.web.routes.fleet import router as fleet_router
    from plantgate.web.routes.pages import router as page_router
    from plantgate.web.routes.sso import router as sso_router

    for router in (auth_router, sso_router, page_router, change_router, api_router, fleet_router):
        app.include_router(router)
    return app
