"""Authentication: argon2id, __Host- session cookies, CSRF, rate limiting, password change, login links."""

from __future__ import annotations

from sqlalchemy import select

from plantgate.db import accounts, throttle
from plantgate.db.tables import SessionRow, UserRow
from plantgate.web.settings import SESSION_COOKIE
from tests.web.conftest import PASSWORD, SITE, WebSite, csrf, login, post


def test_passwords_are_argon2id_hashes(web: WebSite) -> None:
    with web.sessions() as session:
        user = session.scalar(select(UserRow).where(UserRow.username == "r.alvarez"))
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_login_sets_a_host_prefixed_secure_httponly_lax_cookie(web: WebSite) -> None:
    client = web.client()
    page = client.get("/login")
    token = page.text.split('name="login_token" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "r.alvarez", "password": PASSWORD, "login_token": token},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
    with web.sessions() as session:  # only the SHA-256 of the cookie is stored
        raw = cookie.split(";")[0].split("=", 1)[1]
        assert session.get(SessionRow, accounts.token_sha256(raw)) is not None
        assert session.scalar(select(SessionRow).where(SessionRow.token_sha256 == raw)) is None


def test_wrong_password_and_unknown_user_look_the_same(web: WebSite) -> None:
    client = web.client()
    for username in ("r.alvarez", "nobody"):
        page = client.get("/login")
        token = page.text.split('name="login_token" value="')[1].split('"')[0]
        response = client.post("/login", data={"username": username, "password": "wrong password!",
                                               "login_token": token}, headers={"Sec-Fetch-Site": "same-origin"})
        assert response.status_code == 401 and "wrong user name or password" in response.text


def test_wrong_passwords_slow_down_that_client_only(web: WebSite) -> None:
    client = web.client()
    statuses = []
    for _ in range(throttle.FREE_ATTEMPTS + 1):
        token = client.get("/login").text.split('name="login_token" value="')[1].split('"')[0]
        statuses.append(client.post("/login", data={"username": "d.chen", "password": "guess guess guess",
                                                    "login_token": token},
                                    headers={"Sec-Fetch-Site": "same-origin"}))
    assert [r.status_code for r in statuses[:-1]] == [401] * throttle.FREE_ATTEMPTS
    assert statuses[-1].status_code == 429 and int(statuses[-1].headers["retry-after"]) >= 1
    token = client.get("/login").text.split('name="login_token" value="')[1].split('"')[0]
    waiting = client.post("/login", data={"username": "d.chen", "password": PASSWORD, "login_token": token},
                          headers={"Sec-Fetch-Site": "same-origin"})
    assert waiting.status_code == 429  # this client waits out its delay, even with the right password


def test_login_without_the_form_token_or_cross_site_is_refused(web: WebSite) -> None:
    client = web.client()
    client.get("/login")
    no_token = client.post("/login", data={"username": "r.alvarez", "password": PASSWORD},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert no_token.status_code == 403
    token = client.get("/login").text.split('name="login_token" value="')[1].split('"')[0]
    cross = client.post("/login", data={"username": "r.alvarez", "password": PASSWORD, "login_token": token},
                        headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403


def test_csrf_needs_same_origin_and_the_token(web: WebSite) -> None:
    client = web.client("j.lindqvist")
    path = f"/sites/{SITE}/risks"
    data = {"subject": "CVE-2024-3400", "decision": "patch_now"}
    token = csrf(client)
    assert client.post(path, data=data, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 403  # no token
    assert client.post(path, data={**data, "csrf_token": token},
                       headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post(path, data={**data, "csrf_token": token},
                       headers={"Origin": "https://evil.example"}).status_code == 403  # old browser, bad origin
    assert client.post(path, data={**data, "csrf_token": "forged"},
                       headers={"Origin": "https://testserver"}).status_code == 403
    assert client.post(path, data={**data, "csrf_token": token},
                       headers={"Origin": "https://testserver"}).status_code == 303  # old browser, right origin


def test_logout_revokes_the_session_server_side(web: WebSite) -> None:
    client = web.client("s.patel")
    cookie = client.cookies.get(SESSION_COOKIE)
    assert client.get(f"/sites/{SITE}").status_code == 200
    assert post(client, "/logout").status_code == 303
    replay = web.client()
    replay.cookies.set(SESSION_COOKIE, cookie or "", domain="testserver")
    assert replay.get(f"/sites/{SITE}").status_code == 303  # redirected to the login


def test_password_change_revokes_other_sessions(web: WebSite) -> None:
    first, second = web.client("k.soc"), web.client("k.soc")
    new = "a much better passphrase"
    response = post(first, "/account/password", {"current": PASSWORD, "new": new, "repeat": new})
    assert response.status_code == 200 and "Password changed" in response.text
    assert first.get(f"/sites/{SITE}").status_code == 200
    assert second.get(f"/sites/{SITE}").status_code == 303
    login(web.client(), "k.soc", new)
    short = post(first, "/account/password", {"current": new, "new": "short", "repeat": "short"})
    assert short.status_code == 400


def test_one_time_login_link_works_once(web: WebSite) -> None:
    with web.sessions.begin() as session:
        user = accounts.user_by_name(session, "a.auditor")
        assert user is not None
        token = accounts.create_login_link(session, user, actor="test")
    client = web.client()
    assert client.get(f"/login/once/{token}").status_code == 303
    assert client.get(f"/sites/{SITE}").status_code == 200
    assert web.client().get(f"/login/once/{token}").status_code == 401


def test_pages_need_a_login_and_the_api_a_token(web: WebSite) -> None:
    client = web.client()
    response = client.get(f"/sites/{SITE}/register")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get(f"/api/v1/sites/{SITE}/findings").status_code == 401
    assert client.get(f"/api/v1/sites/{SITE}/findings",
                      headers={"Authorization": "Bearer pgt_forged"}).status_code == 401
