"""Single sign-on against a real (local) OpenID Connect provider: groups become roles per site, nothing else gets in.

The provider (tests/web/oidc_provider.py) runs on 127.0.0.1 for the whole module; the app talks
to it over HTTP through authlib exactly as it would to the enterprise IdP. Each sign-on drives
the browser's part by hand: app -> IdP authorize -> app callback.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from plantgate.db import accounts, sso
from plantgate.db.accounts import Role
from plantgate.db.revisions import import_folder, site_by_slug
from plantgate.db.tables import AuditRow, GrantRow, OidcIdentityRow, SessionRow, UserRow
from plantgate.web.routes.sso import STATE_COOKIE
from plantgate.web.settings import SESSION_COOKIE
from tests.sites import MINIMAL, write_files
from tests.web.conftest import SITE, WebSite
from tests.web.oidc_provider import IdpUser, LocalOidcProvider, RunningProvider

CALLBACK = "https://testserver/login/oidc/callback"


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalOidcProvider]:
    provider = LocalOidcProvider(redirect_uris={CALLBACK})
    running = RunningProvider(provider)
    yield provider
    running.stop()


@pytest.fixture
def sso_web(web: WebSite, idp: LocalOidcProvider, tmp_path) -> WebSite:  # type: ignore[no-untyped-def]
    """The example site plus a second site "other", SSO configured, and groups mapped per site."""
    idp.user, idp.wrong_nonce, idp.wrong_audience = None, False, False
    web.app.state.settings = web.app.state.settings.model_copy(update={
        "oidc_issuer": idp.issuer, "oidc_client_id": idp.client_id,
        "oidc_client_secret": SecretStr(idp.client_secret)})
    with web.sessions.begin() as session:
        import_folder(session, write_files(tmp_path / "other", MINIMAL), slug="other", actor="test")
        bayport, other = site_by_slug(session, SITE), site_by_slug(session, "other")
        assert bayport is not None and other is not None
        sso.map_group(session, bayport, "bayport-ot-approvers", Role.OT_APPROVER, actor="test")
        sso.map_group(session, bayport, "plant-auditors", Role.AUDITOR, actor="test")
        sso.map_group(session, other, "other-it", Role.IT_ENGINEER, actor="test")
    return web


def start(client: TestClient, next_path: str = "/") -> str:
    """The app's redirect to the IdP; returns the authorization URL."""
    response = client.get("/login/oidc", params={"next": next_path})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def at_idp(authorization_url: str) -> str:
    """The IdP's answer to the browser: the callback URL with code and state."""
    response = httpx.get(authorization_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def sign_on(client: TestClient, next_path: str = "/") -> httpx.Response:
    return client.get(at_idp(start(client, next_path)))


def roles(web: WebSite, username: str) -> dict[str, set[str]]:
    with web.sessions() as session:
        user = accounts.user_by_name(session, username)
        assert user is not None
        out: dict[str, set[str]] = {}
        for slug in (SITE, "other"):
            site = site_by_slug(session, slug)
            assert site is not None
            out[slug] = {r.value for r in accounts.roles_at(session, user, site)}
        return out


def test_a_member_of_a_mapped_group_gets_that_role_at_that_site_only(sso_web: WebSite, idp: LocalOidcProvider) -> None:
    idp.user = IdpUser("idp-sub-0001", "d.ng", ["bayport-ot-approvers", "cafeteria"], "Dana Ng")
    client = sso_web.client()
    authorization = urlsplit(start(client, f"/sites/{SITE}/register"))
    query = parse_qs(authorization.query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    response = client.get(at_idp(authorization.geturl()))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/sites/{SITE}/register"
    assert SESSION_COOKIE in client.cookies
    assert roles(sso_web, "d.ng") == {SITE: {"ot_approver"}, "other": set()}
    assert client.get(f"/sites/{SITE}/register").status_code == 200
    assert client.get("/sites/other").status_code == 404  # no mapped group there
    with sso_web.sessions() as session:
        user = session.scalar(select(UserRow).where(UserRow.username == "d.ng"))
        assert user is not None and user.password_hash is None and user.display_name == "Dana Ng"
        assert session.get(OidcIdentityRow, (idp.issuer, "idp-sub-0001")) is not None
        assert session.scalar(select(AuditRow).where(AuditRow.action == "user.login_sso")) is not None

    # the IdP moves the person to another group: the next sign-on follows, the old role is gone
    idp.user = IdpUser("idp-sub-0001", "d.ng", ["other-it"], "Dana Ng")
    second = sso_web.client()
    assert sign_on(second).status_code == 303
    assert roles(sso_web, "d.ng") == {SITE: set(), "other": {"it_engineer"}}
    assert second.get(f"/sites/{SITE}/register").status_code == 404

    # out of every mapped group: refused, and the roles the IdP no longer backs are revoked
    idp.user = IdpUser("idp-sub-0001", "d.ng", [], "Dana Ng")
    third = sso_web.client()
    assert sign_on(third).status_code == 403 and SESSION_COOKIE not in third.cookies
    assert roles(sso_web, "d.ng") == {SITE: set(), "other": set()}


def test_local_grants_survive_sign_on_and_names_cannot_be_taken_over(sso_web: WebSite,
                                                                     idp: LocalOidcProvider) -> None:
    idp.user = IdpUser("idp-sub-0002", "k.soc", ["plant-auditors"])  # k.soc is a local account already
    client = sso_web.client()
    refused = sign_on(client)
    assert refused.status_code == 401 and "not linked" in refused.text
    assert SESSION_COOKIE not in client.cookies
    with sso_web.sessions.begin() as session:
        user = accounts.user_by_name(session, "k.soc")
        assert user is not None
        session.add(OidcIdentityRow(issuer=idp.issuer, subject="idp-sub-0002", user_id=user.id))  # admin links it
    assert sign_on(client).status_code == 303
    assert roles(sso_web, "k.soc")[SITE] == {"soc_analyst", "auditor"}
    idp.user = IdpUser("idp-sub-0002", "k.soc", [])
    assert sign_on(sso_web.client()).status_code == 303  # the local role still lets them in ...
    assert roles(sso_web, "k.soc")[SITE] == {"soc_analyst"}  # ... the IdP-derived role is gone
    with sso_web.sessions() as session:
        sources = set(session.scalars(select(GrantRow.source).where(GrantRow.user_id == user.id)))
    assert sources == {"local"}


def test_a_person_in_no_mapped_group_gets_no_access(sso_web: WebSite, idp: LocalOidcProvider) -> None:
    idp.user = IdpUser("idp-sub-0003", "v.visitor", ["cafeteria", "all-staff"])
    client = sso_web.client()
    response = sign_on(client, f"/sites/{SITE}")
    assert response.status_code == 403 and "none of your identity provider groups" in response.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get(f"/sites/{SITE}").status_code == 303  # still sent to the login page
    with sso_web.sessions() as session:
        assert accounts.user_by_name(session, "v.visitor") is None  # nobody was provisioned
        assert session.scalar(select(SessionRow)) is None


def test_bad_state_replay_and_bad_nonce_are_refused(sso_web: WebSite, idp: LocalOidcProvider) -> None:
    idp.user = IdpUser("idp-sub-0001", "d.ng", ["bayport-ot-approvers"])
    client = sso_web.client()
    callback = urlsplit(at_idp(start(client)))
    code = parse_qs(callback.query)["code"][0]
    forged = client.get("/login/oidc/callback", params={"code": code, "state": "forged-state"})
    assert forged.status_code == 403 and SESSION_COOKIE not in client.cookies

    # login CSRF: a callback carried to a browser that never started this sign-on
    stranger = sso_web.client()
    assert stranger.get(callback.geturl()).status_code == 403 and SESSION_COOKIE not in stranger.cookies

    # a state cookie without its stored sign-on (unknown state) is refused too
    lone = sso_web.client()
    assert lone.get("/login/oidc/callback", params={"code": code, "state": "made-up"},
                    headers={"Cookie": f"{STATE_COOKIE}=made-up"}).status_code == 401

    # the real callback works once; its replay is refused
    assert client.get(callback.geturl()).status_code == 303
    replay = sso_web.client()
    state = parse_qs(callback.query)["state"][0]
    replayed = replay.get(callback.geturl(), headers={"Cookie": f"{STATE_COOKIE}={state}"})
    assert replayed.status_code == 401 and SESSION_COOKIE not in replay.cookies

    # an ID token whose nonce is not ours (an injected or replayed token) is refused
    idp.wrong_nonce = True
    bad_nonce = sso_web.client()
    response = sign_on(bad_nonce)
    assert response.status_code == 401 and "nonce" in response.text and SESSION_COOKIE not in bad_nonce.cookies

    # so is an ID token issued to another client
    idp.wrong_nonce, idp.wrong_audience = False, True
    other_audience = sso_web.client()
    response = sign_on(other_audience)
    assert response.status_code == 401 and "aud" in response.text and SESSION_COOKIE not in other_audience.cookies


def test_the_login_page_offers_sso_only_when_configured(web: WebSite, idp: LocalOidcProvider) -> None:
    client = web.client()
    assert 'id="login-sso"' not in client.get("/login").text
    assert client.get("/login/oidc").status_code == 404
    web.app.state.settings = web.app.state.settings.model_copy(update={
        "oidc_issuer": idp.issuer, "oidc_client_id": idp.client_id})
    assert 'id="login-sso"' in client.get("/login").text
