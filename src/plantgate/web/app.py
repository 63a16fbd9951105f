"""The FastAPI application factory: database, templates, static files, routes and error mapping.

This is the only place where library errors become HTTP responses: InputError -> 400 with
every located problem, refusals by the state machine or stale revisions -> 409, missing
login -> redirect (pages) or 401 (API), missing role -> 403. Pages get an HTML error page for
every refusal, a form with a missing or malformed field included (never FastAPI's raw JSON),
and an internal error is a 500 page that carries the security headers like every response.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from plantgate import __version__
from plantgate.db.accounts import AuthError
from plantgate.db.audit_anchor import signer_from
from plantgate.db.engine import make_engine, session_factory, upgrade
from plantgate.db.revisions import StaleRevision
from plantgate.db.throttle import Busy, Throttled
from plantgate.decisions.change_state import TransitionRefused
from plantgate.errors import InputError
from plantgate.jobs.queue import queue_for
from plantgate.web import offload
from plantgate.web.lifecycle import lifespan, make_workdir
from plantgate.web.rendering import shown_all
from plantgate.web.request_guard import RequestGuard
from plantgate.web.revision_cache import RevisionCache
from plantgate.web.security import CsrfRefused, Forbidden, NotAuthenticated, NotFound
from plantgate.web.settings import Settings

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.auto_reload = False  # templates ship with the package: no stat() of the file on every page view


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, title: str, messages: list[str]) -> Response:
    """The refusal as the API's JSON ({"error", "problems"}) or as the HTML error page; every message bounded
    (``rendering.shown``: its first line, the server's scratch folder cut out, at most 300 characters)."""
    messages = shown_all(messages, getattr(request.app.state, "workdir", None))
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
        return error_response(request, 401, "Not logged in", [str(exc)])

    handlers: list[tuple[type[Exception], int, str]] = [
        (Forbidden, 403, "Not allowed"), (CsrfRefused, 403, "Request refused"), (NotFound, 404, "Not found"),
        (TransitionRefused, 409, "Refused"), (StaleRevision, 409, "The treaty has moved on"),
        (AuthError, 401, "Authentication failed"),
    ]
    for exc_type, status, title in handlers:
        def make(status: int = status, title: str = title) -> Any:
            async def handler(request: Request, exc: Exception) -> Response:
                return error_response(request, status, title, [str(exc)])
            return handler
        app.add_exception_handler(exc_type, make())

    @app.exception_handler(Throttled)
    async def throttled(request: Request, exc: Throttled) -> Response:
        response = error_response(request, 429, "Too many attempts", [str(exc)])
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> Response:
        response = error_response(request, 503, "Busy", [str(exc)])
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> Response:
        return error_response(request, 400, "Invalid input", [str(p) for p in exc.problems])

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):  # the API keeps its documented 422 body
            return await request_validation_exception_handler(request, exc)
        return error_response(request, 400, "Invalid input", [
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query', 'path'))}: {e['msg']}"
            for e in exc.errors()])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return await http_exception_handler(request, exc)
        return error_response(request, exc.status_code, "Refused", [str(exc.detail)])

    @app.exception_handler(DataError)
    async def refused_by_database(request: Request, exc: DataError) -> Response:
        return error_response(request, 400, "Invalid input", [
            "a value was refused by the database (a number out of range, or a NUL byte in a text)"])

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        return error_response(request, 500, "Internal error", [
            "PlantGate failed on this request; the server log has the details"])


NO_STORE = (b"cache-control", b"no-store")
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
]


class SecurityHeaders:
    """Adds the security headers a response does not set itself, as plain ASGI middleware, outside
    even the server-error handler so that a 500 carries them too.

    Every response but the static files is ``Cache-Control: no-store`` (pages show who may do what
    and the plant's exposure: no shared or back-button cache keeps them), and over TLS every
    response sends HSTS. (``@app.middleware("http")`` wraps every request in streams and a task
    group: under load that cost more than rendering most pages.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        wanted = [*SECURITY_HEADERS, *([] if scope["path"].startswith("/static/") else [NO_STORE]),
                  *([HSTS] if scope.get("scheme") == "https" else [])]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                missing = [header for header in wanted if header[0] not in present]
                if missing:
                    message = {**message, "headers": [*message.get("headers", []), *missing]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PlantGateApp(FastAPI):
    """FastAPI with the security headers outermost, around Starlette's server-error handler."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    """A ready app on ``settings.database_url`` (migrated to the latest schema unless told not to)."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if migrate:
        try:
            upgrade(engine)
        except ProgrammingError as exc:  # the app's own role may not change the schema (README, PostgreSQL)
            raise InputError.at("--database-url", 0, 0, f"the database schema is not up to date and this role "
                                f"cannot migrate it ({exc.orig})", "`plantgate db upgrade` run as the owner role"
                                ) from None
    app = PlantGateApp(title="PlantGate", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                       description="The shared register, change approvals with OT veto, signed risk decisions and "
                                   "a tamper-evident audit log. API: bearer tokens scoped to one site and one role. "
                                   "The schema is at /openapi.json (no interactive docs page: it would load its "
                                   "scripts from a CDN that the app's own Content-Security-Policy refuses).")
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.workdir = make_workdir()
    app.state.revisions = RevisionCache()
    app.state.jobs = queue_for(settings)  # checks, uploads and re-judging run as jobs, never in a request
    app.state.heavy_work = offload.limiter(settings.heavy_workers)
    app.state.audit_signer = signer_from(settings.audit_hmac_key.get_secret_value(), settings.audit_signing_key_file)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _install_error_handlers(app)

    app.add_middleware(RequestGuard, error_page=error_response)
    if settings.trusted_proxies:  # X-Forwarded-For / -Proto are believed from these peers only
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    from plantgate.web.routes.acceptances import router as acceptance_router
    from plantgate.web.routes.api import router as api_router
    from plantgate.web.routes.auth import router as auth_router
    from plantgate.web.routes.changes import router as change_router
    from plantgate.web.routes.fleet import router as fleet_router
    from plantgate.web.routes.objects import router as object_router
    from plantgate.web.routes.pages import router as page_router
    from plantgate.web.routes.pictures import router as picture_router
    from plantgate.web.routes.revisions import router as revision_router
    from plantgate.web.routes.sso import router as sso_router

    for router in (auth_router, sso_router, page_router, object_router, acceptance_router, revision_router,
                   picture_router, change_router, api_router, fleet_router):
        app.include_router(router)
    return app
