"""Fixtures for the web app and database tests: the same tests run on SQLite and on PostgreSQL.

PostgreSQL is the real server at 127.0.0.1:5432 (trust auth); each test run creates its own
database ``plantgate_test_<random>`` and drops it afterwards. Without a reachable server, the
PostgreSQL half skips with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from plantgate.db import accounts, revisions
from plantgate.db.accounts import Role
from plantgate.db.engine import make_engine, session_factory, upgrade
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.sites import copy_example

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_admin() -> Engine | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return engine
    except Exception:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        return None


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    admin = _postgres_admin()
    if admin is None:
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432 (user postgres, trust auth)")
    name = f"plantgate_test_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, with test-sized cost: production parameters take ~0.4 s per hash on this machine."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", hasher)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", hasher.hash("timing equaliser"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL: SQLite in tmp_path, or the session's PostgreSQL database reset."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'plantgate.db'}"
    else:
        url = request.getfixturevalue("postgres_server_url")
        _reset_postgres(url)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


# --- the web app, seeded with the example plant and one user per role ---------------------------------

PASSWORD = "correct horse battery staple"
AS_OF = dt.date(2026, 11, 26)
SITE = "bayport"
USERS: dict[str, list[Role]] = {
    "j.lindqvist": [Role.IT_ENGINEER],  # the requester of most changes
    "m.okafor": [Role.IT_ENGINEER],  # platform owner of both firewalls in the treaty
    "r.alvarez": [Role.OT_APPROVER],
    "d.chen": [Role.OT_APPROVER],
    "s.patel": [Role.PLANT_LEADERSHIP],
    "k.soc": [Role.SOC_ANALYST],
    "a.auditor": [Role.AUDITOR],
    "x.admin": [Role.ADMIN],
}
"""Usernames are the treaty's person ids where the treaty names the person (the library judges them)."""


@dataclass
class WebSite:
    app: FastAPI
    sessions: sessionmaker[Session]
    folder: Path

    def client(self, username: str | None = None) -> TestClient:
        client = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
        if username is not None:
            login(client, username)
        return client


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post("/login", data={"username": username, "password": password,
                                           "login_token": token.group(1), "next": "/"},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303, response.text


def csrf(client: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found.group(1)


def post(client: TestClient, path: str, data: dict[str, str] | None = None, files: Any = None) -> httpx.Response:
    """A same-origin form post carrying the session's CSRF token, as our pages send it."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf(client)}, files=files,
                       headers={"Sec-Fetch-Site": "same-origin"})


@pytest.fixture(scope="session")
def example_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the example plant (the packaged one may change while tests run)."""
    return copy_example(tmp_path_factory.mktemp("example"))


def seed_site(sessions: sessionmaker[Session], folder: Path) -> None:
    """Import the treaty folder as site SITE and create the USERS with their roles on it."""
    with sessions.begin() as session:
        revisions.import_folder(session, folder, slug=SITE, actor="test")
        site = revisions.site_by_slug(session, SITE)
        assert site is not None
        for username, roles in USERS.items():
            user = accounts.create_user(session, username, PASSWORD, actor="test")
            for role in roles:
                accounts.grant(session, user, site, role, actor="test")


@pytest.fixture
def web(database_url: str, example_copy: Path) -> Iterator[WebSite]:
    app = create_app(Settings(database_url=database_url, as_of=AS_OF, check_wait_seconds=120,
                              api_check_wait_seconds=120, jobs="local"), migrate=False)
    seed_site(app.state.sessions, example_copy)
    yield WebSite(app, app.state.sessions, example_copy)
    app.state.jobs.close()  # its worker processes end with the test
    app.state.engine.dispose()
