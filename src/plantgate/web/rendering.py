"""Template rendering with what every page needs: the user, the site, their roles and the CSRF token."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

from fastapi import Path as PathParameter
from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response

from plantgate.web.permissions import Action
from plantgate.web.security import Principal, SiteAccess
from plantgate.web.settings import Settings

MAX_ROW_ID = 2**31 - 1
"""Row ids are 32-bit integers on PostgreSQL: a larger id names nothing (404-worthy, never a 500)."""
MAX_PAGE = 1_000_000
RowId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]


MAX_MESSAGE_CHARS = 300
MAX_MESSAGES = 50


def shown(message: str, workdir: Path | None = None) -> str:
    """An error message as a page may show it: its first line only, the server's scratch folder cut out, and at
    most MAX_MESSAGE_CHARS characters. A parser quotes the one offending line of a file; nothing past it, and
    nothing unbounded, ever reaches a page (a file's content is evidence of the plant, maybe secrets)."""
    text = message.replace("\r", "\n").split("\n", 1)[0]
    if workdir is not None:
        for prefix in {str(workdir.resolve()) + "/", str(workdir) + "/"}:
            text = text.replace(prefix, "")
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS - 1] + "\u2026"


def shown_all(messages: list[str], workdir: Path | None = None) -> list[str]:
    """At most MAX_MESSAGES messages, each ``shown``; the rest counted."""
    kept = [shown(m, workdir) for m in messages[:MAX_MESSAGES]]
    return kept + ([f"... and {len(messages) - MAX_MESSAGES} more"] if len(messages) > MAX_MESSAGES else [])


def today(request: Request) -> dt.date:
    settings: Settings = request.app.state.settings
    return settings.as_of or dt.date.today()


def workdir(request: Request) -> Path:
    path: Path = request.app.state.workdir
    return path


def render(request: Request, template: str, *, access: SiteAccess | None = None, principal: Principal | None = None,
           status_code: int = 200, **context: Any) -> Response:
    from plantgate.web.app import templates

    who = access.principal if access else principal
    values: dict[str, Any] = {
        "user": who.user if who else None,
        "csrf_token": who.session_row.csrf_token if who and who.session_row else "",
        "site": access.site if access else None,
        "roles": sorted(r.value for r in access.roles) if access else [],
        "may": (lambda name: access.may(Action(name))) if access else (lambda name: False),
        "today": today(request),
        "Action": Action,
    }
    values.update(context)
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def render_fragment(template: str, **context: Any) -> str:
    """A template rendered to a string, for HTML that the caller caches (it must not depend on who asks
    unless the caller's cache key says so)."""
    from plantgate.web.app import templates

    return templates.get_template(template).render(**context)
