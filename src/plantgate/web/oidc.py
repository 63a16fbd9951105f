"""The OpenID Connect relying party, through authlib: discovery, authorization code with PKCE, ID token checks.

Plant staff should sign on with the enterprise identity provider instead of holding one more
password. authlib does the protocol work; this module holds the one client per app, insists that
the discovered issuer is the configured one, and checks the ID token's signature (JWKS, refreshed
on an unknown key id), issuer, audience, expiry and nonce before anyone is let in. The state,
nonce and PKCE verifier live server-side (plantgate.db.sso), not in a cookie session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import Request
from httpx import HTTPError
from joserfc.errors import JoseError

from plantgate.db.accounts import AuthError
from plantgate.web.security import NotFound
from plantgate.web.settings import Settings

CLIENT_NAME = "idp"
ID_TOKEN_LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class SignedOnIdentity:
    """What a validated ID token says about the person."""

    issuer: str
    subject: str
    username: str
    display_name: str
    groups: list[str]


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.oidc_enabled:
        raise NotFound("single sign-on is not configured (PLANTGATE_OIDC_ISSUER, PLANTGATE_OIDC_CLIENT_ID)")
    return settings


def client(request: Request) -> StarletteOAuth2App:
    """The app's authlib client, made on first use (it caches the discovery document and the JWKS)."""
    settings = settings_of(request)
    key = (settings.oidc_issuer, settings.oidc_client_id)
    cached: tuple[tuple[str, str], StarletteOAuth2App] | None = getattr(request.app.state, "oidc_client", None)
    if cached is None or cached[0] != key:
        oauth = OAuth()
        oauth.register(CLIENT_NAME, client_id=settings.oidc_client_id,
                       client_secret=settings.oidc_client_secret.get_secret_value() or None,
                       server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
                       client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256", "timeout": 10})
        cached = (key, oauth.create_client(CLIENT_NAME))
        request.app.state.oidc_client = cached
    return cached[1]


def redirect_uri(request: Request) -> str:
    settings: Settings = request.app.state.settings
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/login/oidc/callback"
    return str(request.url_for("oidc_callback"))


async def _metadata(idp: StarletteOAuth2App, settings: Settings) -> dict[str, Any]:
    try:
        metadata: dict[str, Any] = await idp.load_server_metadata()
    except (HTTPError, ValueError) as exc:
        raise AuthError(f"the identity provider cannot be reached: {exc}") from None
    if metadata.get("issuer") != settings.oidc_issuer:
        raise AuthError(f"the identity provider calls itself {metadata.get('issuer')!r}, "
                        f"not the configured issuer {settings.oidc_issuer!r}")
    return metadata


async def authorization_request(request: Request) -> AuthorizationRequest:
    """Where to send the browser: the IdP's authorization endpoint with a fresh state, nonce and PKCE challenge."""
    idp = client(request)
    await _metadata(idp, settings_of(request))
    made = await idp.create_authorization_url(redirect_uri(request))
    return AuthorizationRequest(made["url"], made["state"], made["nonce"], made["code_verifier"])


async def redeem(request: Request, *, code: str, nonce: str, code_verifier: str,
                 redirect_to: str) -> SignedOnIdentity:
    """Exchange the code at the token endpoint and validate the ID token; AuthError on any failure."""
    settings = settings_of(request)
    idp = client(request)
    await _metadata(idp, settings)
    try:
        token = await idp.fetch_access_token(redirect_uri=redirect_to, code=code, code_verifier=code_verifier)
        claims = await idp.parse_id_token(
            token, nonce=nonce, leeway=ID_TOKEN_LEEWAY_SECONDS,
            claims_options={"iss": {"essential": True, "value": settings.oidc_issuer},
                            "aud": {"essential": True, "value": settings.oidc_client_id},
                            "sub": {"essential": True}})
    except (OAuthError, JoseError, HTTPError, ValueError, KeyError) as exc:
        raise AuthError(f"the sign-on was refused: {type(exc).__name__}: {exc}") from None
    if claims is None:
        raise AuthError("the identity provider returned no ID token")
    groups = claims.get(settings.oidc_groups_claim) or []
    groups = [groups] if isinstance(groups, str) else [str(g) for g in groups if isinstance(g, str | int)]
    username = str(claims.get(settings.oidc_username_claim) or "").strip()
    return SignedOnIdentity(issuer=settings.oidc_issuer, subject=str(claims["sub"]), username=username,
                            display_name=str(claims.get("name") or username), groups=groups)
