"""Login throttling that protects without locking people out: progressive delay per (account, client),
failures counted atomically, a bounded number of password hashes at once, proxies trusted only when named."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from plantgate.db import accounts, throttle
from plantgate.db.tables import LoginThrottleRow, UserRow
from plantgate.errors import PlantGateError
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.web.conftest import AS_OF, PASSWORD, WebSite, post

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class CountingHasher:
    """The test's argon2 hasher, counting the password checks and how many ran at once."""

    def __init__(self, inner: Any, pause: float = 0.0) -> None:
        self.inner, self.pause = inner, pause
        self.checks = self.running = self.most = 0
        self.lock = threading.Lock()

    def verify(self, stored: str, password: str) -> bool:
        with self.lock:
            self.checks += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.pause)
            return bool(self.inner.verify(stored, password))
        finally:
            with self.lock:
                self.running -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def attempt(sessions: sessionmaker[Session], username: str, password: str, client: str) -> str:
    with sessions() as session:
        try:
            accounts.authenticate(session, username, password, client)
            session.commit()
            return "ok"
        except throttle.Throttled:
            return "throttled"
        except PlantGateError:
            return "wrong"


def test_thirty_concurrent_guesses_check_only_the_free_attempts(web: WebSite, monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = CountingHasher(accounts._hasher, pause=0.05)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    start = threading.Barrier(30)

    def guess(number: int) -> str:
        start.wait()
        return attempt(web.sessions, "r.alvarez", f"guess {number}", "198.51.100.7")

    with ThreadPoolExecutor(30) as pool:
        outcomes = list(pool.map(guess, range(30)))
    assert outcomes.count("wrong") == throttle.FREE_ATTEMPTS and outcomes.count("throttled") == 25
    assert hasher.checks == throttle.FREE_ATTEMPTS
    # the OT approver, from her own device, is not locked out by any of it
    assert attempt(web.sessions, "r.alvarez", PASSWORD, "192.0.2.44") == "ok"
    assert attempt(web.sessions, "r.alvarez", PASSWORD, "198.51.100.7") == "throttled"


def test_the_delay_doubles_and_a_correct_password_forgives(web: WebSite) -> None:
    delays = [throttle.delay_after(n).total_seconds() for n in range(1, 10)]
    assert delays == [0, 0, 0, 0, 1, 2, 4, 8, 16]
    assert throttle.delay_after(60) == throttle.MAX_DELAY
    client = "203.0.113.5"
    for _ in range(throttle.FREE_ATTEMPTS):
        assert attempt(web.sessions, "d.chen", "wrong", client) == "wrong"
    assert attempt(web.sessions, "d.chen", "wrong", client) == "throttled"
    with web.sessions.begin() as session:  # the delay has passed
        session.execute(update(LoginThrottleRow).values(next_allowed_at=dt.datetime.now(dt.UTC)))
    assert attempt(web.sessions, "d.chen", PASSWORD, client) == "ok"
    assert attempt(web.sessions, "d.chen", "wrong", client) == "wrong"  # forgiven: free attempts again


def test_at_most_the_hash_slots_run_at_once(web: WebSite, monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = CountingHasher(accounts._hasher, pause=0.1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(throttle, "_hash_slots", threading.BoundedSemaphore(2))
    start = threading.Barrier(12)

    def login(number: int) -> str:
        start.wait()
        return attempt(web.sessions, "r.alvarez", PASSWORD, f"192.0.2.{number}")

    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(login, range(12))) == ["ok"] * 12
    assert hasher.most == 2


def _login(client: Any, username: str, password: str, forwarded_for: str) -> int:
    token = client.get("/login").text.split('name="login_token" value="')[1].split('"')[0]
    return int(client.post("/login", data={"username": username, "password": password, "login_token": token},
                           headers={"Sec-Fetch-Site": "same-origin", "X-Forwarded-For": forwarded_for}).status_code)


@SQLITE_ONLY
def test_x_forwarded_for_counts_only_from_a_configured_proxy(web: WebSite, database_url: str) -> None:
    client = web.client()
    statuses = [_login(client, "k.soc", "wrong", f"192.0.2.{n}") for n in range(throttle.FREE_ATTEMPTS + 1)]
    assert statuses[-1] == 429  # the header is ignored: every guess came from the same peer
    behind_proxy = create_app(Settings(database_url=database_url, as_of=AS_OF, trusted_proxies=["testclient"]),
                              migrate=False)
    from tests.web.conftest import WebSite as Site

    proxied = Site(behind_proxy, behind_proxy.state.sessions, web.folder).client()
    assert [_login(proxied, "d.chen", "wrong", f"192.0.2.{n}") for n in range(throttle.FREE_ATTEMPTS + 1)] == \
        [401] * (throttle.FREE_ATTEMPTS + 1)  # six clients behind the proxy, one guess each
    assert _login(proxied, "d.chen", PASSWORD, "192.0.2.200") == 303
    behind_proxy.state.engine.dispose()


def test_the_current_password_check_is_throttled_too(web: WebSite) -> None:
    client = web.client("k.soc")
    statuses = [post(client, "/account/password", {"current": f"wrong {n}", "new": "x" * 20, "repeat": "x" * 20}
                     ).status_code for n in range(throttle.FREE_ATTEMPTS + 1)]
    assert statuses == [400] * throttle.FREE_ATTEMPTS + [429]
    with web.sessions() as session:
        user = session.query(UserRow).filter_by(username="k.soc").one()
        assert user.password_hash is not None and accounts._hasher.verify(user.password_hash, PASSWORD)

