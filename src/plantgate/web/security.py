"""Who is asking, and may they? Sessions, API tokens, CSRF and role checks for every route.

Every site route depends on ``authorize(action)``: it resolves the principal (a session
cookie or a bearer token), loads the site, refuses unless the principal holds a role the
permission table allows, and, for state-changing requests carried by a cookie, checks
Sec-Fetch-Site / Origin and the CSRF token. Nothing is decided in templates.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from plantgate.db import accounts
from plantgate.db.accounts import Role
from plantgate.db.fleet import fleet_roles
from plantgate.db.revisions import site_by_slug
from plantgate.db.tables import ApiTokenRow, SessionRow, SiteRow, UserRow
from plantgate.errors import InputError
from plantgate.web.permissions import PERMISSIONS, Action, allowed
from plantgate.web.settings import SESSION_COOKIE, Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class NotAuthenticated(Exception):
    """No valid session or token: pages redirect to the login, the API answers 401."""


class Forbidden(Exception):
    """Authenticated, but not allowed: 403 with the reason."""


class NotFound(Exception):
    """404 with the reason."""


class CsrfRefused(Exception):
    """A state-changing request that did not come from our own pages."""


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's database session, opened without I/O on the event loop and closed in a worker thread.

    A sync generator dependency costs two trips through the thread pool (enter and exit); this costs
    one. The close must not run on the event loop: returning the connection does I/O, and a loop
    blocked on a full pool could never run the closes that would free it.
    """
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        with anyio.CancelScope(shield=True):  # a client that hangs up must not leak the connection
            await anyio.to_thread.run_sync(session.close)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Db = Annotated[Session, Depends(get_db)]


@dataclass
class Principal:
    """The authenticated user, through a browser session or a site-and-role-scoped API token."""

    user: UserRow
    session_row: SessionRow | None = None
    token_row: ApiTokenRow | None = None

    @property
    def name(self) -> str:
        return self.user.username

    def roles_at(self, db: Session, site: SiteRow) -> set[Role]:
        if self.token_row is not None:
            return {Role(self.token_row.role)} if self.token_row.site_id == site.id else set()
        roles = accounts.roles_at(db, self.user, site)
        if self.user.is_admin:
            roles.add(Role.ADMIN)
        if not roles and fleet_roles(db, self.user):
            roles.add(Role.AUDITOR)  # a fleet-wide read role: every site's pages, no site's writes
        return roles


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def optional_principal(request: Request, db: Db) -> Principal | None:
    bearer = _bearer_token(request)
    if bearer is not None:
        found = accounts.api_token(db, bearer)
        if found is None:
            raise NotAuthenticated("invalid or revoked API token")
        return Principal(found[1], token_row=found[0])
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        resolved = accounts.session_user(db, cookie)
        if resolved is not None:
            return Principal(resolved[1], session_row=resolved[0])
    return None


async def current_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None:
        raise NotAuthenticated("log in first")
    return principal


def check_origin(request: Request, settings: Settings) -> None:
    """Fetch metadata first (modern browsers), then Origin (older ones); refuse cross-site posts."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site != "same-origin":
            raise CsrfRefused(f"cross-site request refused (Sec-Fetch-Site: {fetch_site})")
        return
    origin = request.headers.get("origin")
    if origin is not None:
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin != own and origin not in settings.trusted_origins:
            raise CsrfRefused(f"cross-origin request refused (Origin: {origin})")


async def submitted_csrf_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for name, field in form.multi_items():  # no text field of ours may hold one; PostgreSQL refuses them
            if isinstance(field, str) and "\x00" in field:
                raise InputError.at(name, 0, 0, "the field contains a NUL byte", "text without NUL bytes")
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def require_csrf(request: Request, principal: Principal, settings: Settings) -> None:
    """Cookie-authenticated state changes need a same-origin request AND the session's token."""
    if request.method in SAFE_METHODS or principal.session_row is None:
        return  # bearer tokens are not sent by browsers on their own: no CSRF exposure
    check_origin(request, settings)
    token = await submitted_csrf_token(request)
    if not token or not hmac.compare_digest(token, principal.session_row.csrf_token):
        raise CsrfRefused("missing or wrong CSRF token; reload the page and try again")


@dataclass
class SiteAccess:
    """What a site route works with: the database, the principal, the site and its roles there."""

    db: Session
    principal: Principal
    site: SiteRow
    roles: set[Role]

    def may(self, action: Action) -> bool:
        return allowed(self.roles, action)


def principal_at_site(request: Request, db: Session, slug: str) -> tuple[Principal, SiteRow | None, set[Role]]:
    """Who asks, the site and their roles there; NotAuthenticated without a live session or valid token.

    A browser session is resolved with its site and roles in one query (the hot path of every page);
    an API token keeps its own checks (its role must still be held by its user).
    """
    if _bearer_token(request) is None:
        cookie = request.cookies.get(SESSION_COOKIE)
        found = accounts.session_site_access(db, cookie, slug) if cookie else None
        if found is None:
            raise NotAuthenticated("log in first")
        session_row, user, site, roles = found
        if user.is_admin:
            roles.add(Role.ADMIN)
        if not roles and site is not None and fleet_roles(db, user):
            roles.add(Role.AUDITOR)  # a fleet-wide read role: every site's pages, no site's writes
        return Principal(user, session_row=session_row), site, roles
    principal = optional_principal(request, db)
    if principal is None:
        raise NotAuthenticated("log in first")
    site = site_by_slug(db, slug)
    return principal, site, principal.roles_at(db, site) if site is not None else set()


def authorize(action: Action) -> Callable[..., Any]:
    """A dependency: the SiteAccess for ``slug`` when the principal may perform ``action`` there."""

    def site_access(slug: str, request: Request, db: Db) -> SiteAccess:  # sync: database I/O in the thread pool
        principal, site, roles = principal_at_site(request, db, slug)
        if site is None or not roles:
            raise NotFound(f"no site {slug!r} that you have access to")  # do not reveal other sites
        if not allowed(roles, action):
            raise Forbidden(f"{action.value} needs one of the roles "
                            f"{', '.join(sorted(r.value for r in PERMISSIONS[action]))} at {site.slug}")
        return SiteAccess(db, principal, site, roles)

    resolved = Depends(site_access)  # a default, not Annotated: the string annotation could not name a local

    async def dependency(request: Request, settings: Annotated[Settings, Depends(get_settings)],
                         access: SiteAccess = resolved) -> SiteAccess:
        await require_csrf(request, access.principal, settings)
        return access

    return dependency


async def authenticated_form(request: Request, principal: Annotated[Principal, Depends(current_principal)],
                             settings: Annotated[Settings, Depends(get_settings)]) -> Principal:
    """For non-site state changes (logout, password): authenticated and CSRF-checked."""
    await require_csrf(request, principal, settings)
    return principal
