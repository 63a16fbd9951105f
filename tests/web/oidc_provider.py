"""A minimal OpenID Connect provider for the tests, served by uvicorn on 127.0.0.1 in a thread.

It speaks just enough of the protocol for a real relying party: discovery, a JWKS with one RS256
key, an authorization endpoint that signs in whoever the test names (no login form), and a
token endpoint that checks the client's secret, the redirect URI, the single use of the code
and the PKCE verifier before it issues an ID token. Switches let a test make it misbehave
(wrong nonce, wrong audience) to prove the app refuses.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class IdpUser:
    subject: str
    username: str
    groups: list[str]
    name: str = ""


@dataclass
class LocalOidcProvider:
    client_id: str = "plantgate"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    redirect_uris: set[str] = field(default_factory=set)
    issuer: str = ""
    user: IdpUser | None = None
    """Who is "signed in" at the IdP: the authorization endpoint issues codes for this person."""
    wrong_nonce: bool = False
    wrong_audience: bool = False
    token_requests: int = 0
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "test-key-1"}))
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    # --- endpoints --------------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email", "groups"],
        })

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        if params.get("client_id") != self.client_id or params.get("redirect_uri") not in self.redirect_uris:
            return JSONResponse({"error": "invalid_client or unregistered redirect_uri"}, status_code=400)
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return JSONResponse({"error": "unsupported_response_type"}, status_code=400)
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE S256 required"},
                                status_code=400)
        if self.user is None:
            denied = urlencode({"error": "access_denied", "state": params.get("state", "")})
            return RedirectResponse(f"{params['redirect_uri']}?{denied}", status_code=302)
        code = secrets.token_urlsafe(24)
        self._codes[code] = {"redirect_uri": params["redirect_uri"], "nonce": params.get("nonce"),
                             "challenge": params["code_challenge"], "user": self.user}
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}",
                                status_code=302)

    def _client_authenticated(self, request: Request, form: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)

    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self._codes.pop(form.get("code", ""), None)  # a code is good once
        if form.get("grant_type") != "authorization_code" or grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri"}, status_code=400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not secrets.compare_digest(challenge, grant["challenge"]):
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        user: IdpUser = grant["user"]
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user.subject,
                  "aud": "someone-else" if self.wrong_audience else self.client_id,
                  "iat": now, "exp": now + 300, "nonce": "not-your-nonce" if self.wrong_nonce else grant["nonce"],
                  "preferred_username": user.username, "name": user.name or user.username, "groups": user.groups}
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        return JSONResponse({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer", "expires_in": 300,
                             "scope": "openid profile groups", "id_token": id_token})

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/.well-known/openid-configuration", self.discovery), Route("/jwks", self.jwks),
            Route("/authorize", self.authorize), Route("/token", self.token, methods=["POST"]),
        ])


class RunningProvider:
    """The provider served on a free port of 127.0.0.1 until ``stop``."""

    def __init__(self, provider: LocalOidcProvider) -> None:
        self.provider = provider
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        port = self._socket.getsockname()[1]
        provider.issuer = f"http://127.0.0.1:{port}"
        self._server = uvicorn.Server(uvicorn.Config(provider.app(), log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test OIDC provider did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
