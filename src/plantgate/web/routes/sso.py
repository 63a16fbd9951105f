"""Single sign-on routes: ``/login/oidc`` sends the browser to the IdP, the callback lets the person in.

The callback trusts nothing in its URL: the state must match the one this browser was given
(a ``__Host-`` cookie, against login CSRF) AND a stored, unspent sign-on (against replay); the
code is redeemed with the PKCE verifier; the ID token must carry our nonce. Only then is the
user provisioned, their roles re-derived from the IdP groups, and a server-side session opened.
A person whose groups give no role at any site gets no session.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from plantgate.db import audit, sso
from plantgate.db.accounts import AuthError
from plantgate.db.tables import GrantRow
from plantgate.web import oidc
from plantgate.web.rendering import redirect
from plantgate.web.routes.auth import _safe_next, _set_cookie, _start_session
from plantgate.web.security import CsrfRefused, Db, Forbidden, get_settings
from plantgate.web.settings import Settings

router = APIRouter(include_in_schema=False)
STATE_COOKIE = "__Host-plantgate_oidc_state"


@router.get("/login/oidc")
async def begin(request: Request, db: Db, settings: Annotated[Settings, Depends(get_settings)],
                next: str = "/") -> Response:
    authorization = await oidc.authorization_request(request)
    sso.begin_sign_on(db, state=authorization.state, nonce=authorization.nonce,
                      code_verifier=authorization.code_verifier, redirect_uri=oidc.redirect_uri(request),
                      next_path=_safe_next(next))
    db.commit()
    response = RedirectResponse(authorization.url, status_code=302)
    _set_cookie(response, STATE_COOKIE, authorization.state, settings, int(sso.SIGN_ON_LIFETIME.total_seconds()))
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
async def callback(request: Request, db: Db, settings: Annotated[Settings, Depends(get_settings)],
                   state: str = "", code: str = "", error: str = "", error_description: str = "") -> Response:
    oidc.settings_of(request)
    if error:
        raise AuthError(f"the identity provider refused the sign-on: {error} {error_description}".strip())
    expected = request.cookies.get(STATE_COOKIE, "")
    if not state or not expected or not hmac.compare_digest(state.encode(), expected.encode()):
        raise CsrfRefused("this sign-on was not started in this browser; start again from the login page")
    pending = sso.finish_sign_on(db, state)
    db.commit()  # spent even if what follows fails: a state is good for one try
    if not code:
        raise AuthError("the identity provider returned no authorization code")
    identity = await oidc.redeem(request, code=code, nonce=pending.nonce, code_verifier=pending.code_verifier,
                                 redirect_to=pending.redirect_uri)
    user = sso.provision(db, issuer=identity.issuer, subject=identity.subject, username=identity.username,
                         display_name=identity.display_name, groups=identity.groups)
    has_role = user is not None and (user.is_admin or db.scalar(
        select(GrantRow.role).where(GrantRow.user_id == user.id).limit(1)) is not None)
    if user is None or not has_role:
        db.commit()  # keep the revocation of roles the IdP no longer backs
        raise Forbidden(f"signed on as {identity.username or identity.subject}, but none of your identity provider "
                        "groups gives a role at any site here; ask an administrator")
    response = redirect(pending.next_path)
    _start_session(response, db, user, settings)
    response.delete_cookie(STATE_COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax")
    audit.record(db, actor=user.username, action="user.login_sso", object_type="user", object_id=user.username,
                 after={"issuer": identity.issuer, "groups": sorted(identity.groups)})
    db.commit()
    return response

