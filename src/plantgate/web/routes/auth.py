"""Login, logout, one-time login links and password change.

Login CSRF is handled by the Sec-Fetch-Site/Origin check plus a double-submit token: a
random value in a ``__Host-`` pre-login cookie that the form must echo.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from plantgate.db import accounts, audit
from plantgate.db.accounts import AuthError
from plantgate.db.tables import SiteRow
from plantgate.web.rendering import redirect, render, today
from plantgate.web.security import (
    CsrfRefused,
    Db,
    Principal,
    authenticated_form,
    check_origin,
    current_principal,
    get_settings,
    optional_principal,
)
from plantgate.web.settings import SESSION_COOKIE, Settings

router = APIRouter(include_in_schema=False)
PRELOGIN_COOKIE = "__Host-plantgate_prelogin"


def client_address(request: Request) -> str:
    """The peer's address (a trusted proxy's X-Forwarded-For has already replaced it: Settings.trusted_proxies)."""
    return request.client.host if request.client else "unknown"


def _safe_next(target: str) -> str:
    """Only local paths: a login must never redirect to another site."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _set_cookie(response: Response, name: str, value: str, settings: Settings, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=settings.secure_cookies, httponly=True,
                        samesite="lax")


def _start_session(response: Response, db: Db, user: accounts.UserRow, settings: Settings) -> None:
    token, _ = accounts.open_session(db, user)
    _set_cookie(response, SESSION_COOKIE, token, settings, int(accounts.SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(PRELOGIN_COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax")


@router.get("/login")
def login_page(request: Request, settings: Annotated[Settings, Depends(get_settings)], next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", login_token=token, next=_safe_next(next), error="",
                      sso=settings.oidc_enabled)
    _set_cookie(response, PRELOGIN_COOKIE, token, settings, 3600)
    return response


@router.post("/login")
def login(request: Request, db: Db, settings: Annotated[Settings, Depends(get_settings)],
          username: Annotated[str, Form()], password: Annotated[str, Form()],
          login_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    check_origin(request, settings)
    expected = request.cookies.get(PRELOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, login_token):
        raise CsrfRefused("the login form expired; reload the page and try again")
    try:
        user = accounts.authenticate(db, username.strip(), password, client_address(request))
    except AuthError as exc:
        response = render(request, "login.html", login_token=login_token, next=_safe_next(next), error=str(exc),
                          sso=settings.oidc_enabled, status_code=401)
        return response
    response = redirect(_safe_next(next))
    _start_session(response, db, user, settings)
    audit.record(db, actor=user.username, action="user.login", object_type="user", object_id=user.username)
    db.commit()
    return response


@router.get("/login/once/{token}")
def login_once(token: str, db: Db, settings: Annotated[Settings, Depends(get_settings)]) -> Response:
    """A one-time login link (``serve --demo``); spent on first use."""
    user = accounts.redeem_login_link(db, token)
    response = redirect("/")
    _start_session(response, db, user, settings)
    audit.record(db, actor=user.username, action="user.login_link", object_type="user", object_id=user.username)
    db.commit()
    return response


@router.get("/account/reset/{token}")
def reset_page(request: Request, token: str, db: Db, settings: Annotated[Settings, Depends(get_settings)]) -> Response:
    """The form of a password-reset link (``admin reset-password``); the link is spent only when it is used."""
    user = accounts.login_link_user(db, token, accounts.PASSWORD_RESET)
    if user is None:
        raise AuthError("this link is invalid, used or expired; ask an administrator for a new one")
    login_token = secrets.token_urlsafe(24)
    response = render(request, "password_reset.html", token=token, username=user.username, login_token=login_token,
                      error="")
    _set_cookie(response, PRELOGIN_COOKIE, login_token, settings, 900)
    return response


@router.post("/account/reset/{token}")
def reset_password(request: Request, token: str, db: Db, settings: Annotated[Settings, Depends(get_settings)],
                   new: Annotated[str, Form()], repeat: Annotated[str, Form()],
                   login_token: Annotated[str, Form()] = "") -> Response:
    """Set the new password (every other session and API token of the user is revoked) and log in."""
    check_origin(request, settings)
    expected = request.cookies.get(PRELOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, login_token):
        raise CsrfRefused("the form expired; open the link again")
    user = accounts.login_link_user(db, token, accounts.PASSWORD_RESET)
    if user is None:
        raise AuthError("this link is invalid, used or expired; ask an administrator for a new one")
    if new != repeat:
        return render(request, "password_reset.html", token=token, username=user.username, login_token=login_token,
                      error="the new passwords differ", status_code=400)
    accounts.check_password_strength(new)
    user = accounts.redeem_login_link(db, token, accounts.PASSWORD_RESET)
    accounts.set_password(db, user, new, keep_session=None, actor=user.username)
    response = redirect("/")
    _start_session(response, db, user, settings)
    db.commit()
    return response


@router.post("/logout")
def logout(request: Request, db: Db, principal: Annotated[Principal, Depends(authenticated_form)],
           settings: Annotated[Settings, Depends(get_settings)]) -> Response:
    accounts.revoke_session(db, request.cookies.get(SESSION_COOKIE, ""))
    audit.record(db, actor=principal.name, action="user.logout", object_type="user", object_id=principal.name)
    db.commit()
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax")
    return response


@router.get("/account/password")
def password_page(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Response:
    return render(request, "password.html", principal=principal, error="", done=False)


@router.post("/account/password")
def change_password(request: Request, db: Db, principal: Annotated[Principal, Depends(authenticated_form)],
                    current: Annotated[str, Form()], new: Annotated[str, Form()],
                    repeat: Annotated[str, Form()]) -> Response:
    if new != repeat:
        return render(request, "password.html", principal=principal, error="the new passwords differ", done=False,
                      status_code=400)
    try:
        accounts.change_password(db, principal.user, current, new, keep_session=request.cookies.get(SESSION_COOKIE),
                                 client=client_address(request))
    except AuthError as exc:
        return render(request, "password.html", principal=principal, error=str(exc), done=False, status_code=400)
    db.commit()
    return render(request, "password.html", principal=principal, error="", done=True)


@router.get("/")
def home(request: Request, db: Db, principal: Annotated[Principal | None, Depends(optional_principal)]) -> Response:
    if principal is None:
        return redirect("/login")
    held = [(s, principal.roles_at(db, s)) for s in db.query(SiteRow).order_by(SiteRow.name)]
    held = [(s, roles) for s, roles in held if roles]
    from plantgate.db.fleet import fleet_roles
    from plantgate.web.waiting import waiting_for

    waiting = [waiting_for(db, request.app.state.revisions, principal.user, s, roles, today(request))
               for s, roles in held]
    return render(request, "home.html", principal=principal, sites=[(s, sorted(r.value for r in roles))
                                                                     for s, roles in held],
                  waiting=[w for w in waiting if not w.empty],
                  fleet=principal.user.is_admin or bool(fleet_roles(db, principal.user)))
