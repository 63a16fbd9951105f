"""The gate every request passes before a route sees it: who is asking, how big, and no NUL bytes.

FastAPI parses a route's form or file fields BEFORE its dependencies run, so the login check of
a route came after the body had been read: an anonymous 200 MB multipart upload was spooled to
/tmp before its 401. This ASGI middleware runs first and reads nothing:
- a state-changing request to anything but the login and password-reset forms must carry a live
  session cookie or a valid API token, checked against the database; otherwise 401 at once;
- a declared Content-Length over the limit is refused with 413 at once, and a body without
  one is counted as it streams and refused when it passes the limit (nothing beyond the limit
  is ever read or spooled): 1 MB for plain forms, ``Settings.max_body_bytes`` (10 MB by
  default) for everything else (file uploads, the API's config uploads);
- a NUL byte in the path, the query or a plain form field is refused with 400 (PostgreSQL
  refuses NUL in text with an error deep in the request; no value of ours ever holds one).
The route's own checks (roles, CSRF, the session's site) still run as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio.to_thread
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plantgate.db import accounts
from plantgate.web.settings import SESSION_COOKIE, Settings

ANONYMOUS_BODIES = ("/login", "/account/reset/")
"""The only paths that take a body from someone not logged in (exact path, or prefix ending in /)."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPE = "application/x-www-form-urlencoded"
ErrorPage = Callable[[Request, int, str, list[str]], Response]


class BodyTooLarge(HTTPException):
    """The body passed its limit while it was being read (an HTTPException, so FastAPI's body parsing passes it
    on instead of calling it a parse error)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit:,} bytes")


class NulInForm(HTTPException):
    def __init__(self) -> None:
        super().__init__(400, "a form field contains a NUL byte")


def _anonymous_allowed(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in ANONYMOUS_BODIES)


def _has_credentials(app: FastAPI, headers: Headers) -> bool:
    """A live session cookie or a valid API token (the database is asked: a revoked one does not count)."""
    authorization = headers.get("authorization", "")
    cookies = cookie_parser(headers.get("cookie", ""))
    with app.state.sessions() as db:
        if authorization.lower().startswith("bearer "):
            return accounts.api_token(db, authorization[7:].strip()) is not None
        cookie = cookies.get(SESSION_COOKIE, "")
        return bool(cookie) and accounts.session_user(db, cookie) is not None


class RequestGuard:
    """Pure ASGI middleware (see the module docstring); ``error_page`` renders its refusals like the app's."""

    def __init__(self, app: ASGIApp, error_page: ErrorPage) -> None:
        self.app = app
        self.error_page = error_page

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, title: str, message: str,
                      headers: dict[str, str] | None = None) -> None:
        response = self.error_page(Request(scope, receive), status, title, [message])
        response.headers.update(headers or {})
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app: FastAPI = scope["app"]
        settings: Settings = app.state.settings
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if "\x00" in path or b"%00" in query or b"\x00" in query:
            await self._refuse(scope, receive, send, 400, "Invalid input", "the URL contains a NUL byte")
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        plain_form = content_type == FORM_TYPE
        limit = min(settings.max_form_bytes, settings.max_body_bytes) if plain_form else settings.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, 413, "Too large",
                               f"the request body is larger than {limit:,} bytes", {"connection": "close"})
            return
        if scope["method"] not in SAFE_METHODS and not _anonymous_allowed(path) and not await anyio.to_thread.run_sync(
                _has_credentials, app, headers):
            extra = {"www-authenticate": "Bearer"} if path.startswith("/api/") else {}
            await self._refuse(scope, receive, send, 401, "Not logged in",
                               "log in first (or send a valid API token)", {**extra, "connection": "close"})
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _limited(receive, limit, plain_form), send_tracked)
        except HTTPException as exc:  # raised while the body was read outside FastAPI's own handling
            if started or not isinstance(exc, BodyTooLarge | NulInForm):
                raise
            await self._refuse(scope, receive, send, exc.status_code, "Refused", str(exc.detail))


def _limited(receive: Receive, limit: int, plain_form: bool) -> Callable[[], Awaitable[Message]]:
    """``receive`` that refuses the body once it passes ``limit`` bytes, and NUL bytes in a plain form."""
    total = 0
    tail = b""

    async def receive_limited() -> Message:
        nonlocal total, tail
        message = await receive()
        if message["type"] == "http.request":
            chunk: bytes = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                raise BodyTooLarge(limit)
            if plain_form:
                window = (tail + chunk).lower()
                if b"%00" in window or b"\x00" in chunk:
                    raise NulInForm()
                tail = window[-2:]
        return message

    return receive_limited
