"""Incident response from the command line: list, disable, revoke, reset, tokens, purge; files kept private."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from plantgate.cli import main
from plantgate.db import accounts
from plantgate.db.accounts import Role
from plantgate.db.engine import make_engine
from plantgate.db.tables import ApiTokenRow, LoginThrottleRow, SessionRow, utc_now
from plantgate.web import lifecycle
from tests.web.conftest import PASSWORD, SITE, WebSite, login, post
from tests.web.test_api import token_for

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def admin(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["admin", *args, "--database-url", database_url])
    return result.exit_code, result.output


def test_list_disable_enable_and_revoke(web: WebSite, database_url: str) -> None:
    code, out = admin(database_url, "users")
    assert code == 0 and re.search(r"^r\.alvarez\tactive\tot_approver@bayport$", out, re.M)
    soc = web.client("k.soc")
    assert soc.get(f"/sites/{SITE}").status_code == 200
    code, out = admin(database_url, "disable", "k.soc", "--reason", "laptop stolen")
    assert code == 0 and "1 session(s) ended" in out
    assert soc.get(f"/sites/{SITE}").status_code == 303  # logged out at once
    assert "k.soc\tDISABLED" in admin(database_url, "users")[1]
    refused = web.client()
    token = refused.get("/login").text.split('name="login_token" value="')[1].split('"')[0]
    assert refused.post("/login", data={"username": "k.soc", "password": PASSWORD, "login_token": token},
                        headers={"Sec-Fetch-Site": "same-origin"}).status_code == 401
    assert admin(database_url, "enable", "k.soc")[0] == 0
    login(web.client(), "k.soc")
    auditor = web.client("a.auditor")
    assert admin(database_url, "revoke", "a.auditor", SITE, "auditor")[0] == 0
    assert auditor.get(f"/sites/{SITE}").status_code == 404
    code, out = admin(database_url, "revoke", "a.auditor", SITE, "auditor")
    assert code == 2 and "does not hold" in out


def test_reset_password_by_one_time_link(web: WebSite, database_url: str) -> None:
    api = token_for(web, "m.okafor", Role.IT_ENGINEER)
    session_before = web.client("m.okafor")
    code, out = admin(database_url, "reset-password", "m.okafor", "--base-url", "https://pg.example")
    assert code == 0
    link = out.strip().removeprefix("https://pg.example")
    assert session_before.get(f"/sites/{SITE}").status_code == 303  # every session ended
    stranger = web.client()
    token = stranger.get("/login").text.split('name="login_token" value="')[1].split('"')[0]
    assert stranger.post("/login", data={"username": "m.okafor", "password": PASSWORD, "login_token": token},
                         headers={"Sec-Fetch-Site": "same-origin"}).status_code == 401  # the old password is gone
    assert stranger.get(f"/login/once{link.removeprefix('/account/reset')}").status_code == 401  # not a login link
    person = web.client()
    page = person.get(link)
    assert page.status_code == 200 and "m.okafor" in page.text
    form_token = page.text.split('name="login_token" value="')[1].split('"')[0]
    new = "a new and long passphrase"
    done = person.post(link, data={"new": new, "repeat": new, "login_token": form_token},
                       headers={"Sec-Fetch-Site": "same-origin"})
    assert done.status_code == 303 and person.get(f"/sites/{SITE}").status_code == 200
    assert web.client().get(link).status_code == 401  # spent
    login(web.client(), "m.okafor", new)
    assert web.client().get(f"/api/v1/sites/{SITE}/register", headers={"Authorization": f"Bearer {api}"}
                            ).status_code == 401  # the new password revoked the API token


def test_tokens_expire_can_be_listed_and_revoked(web: WebSite, database_url: str) -> None:
    first = token_for(web, "a.auditor", Role.AUDITOR)
    second = token_for(web, "k.soc", Role.SOC_ANALYST)
    client = web.client()

    def works(token: str) -> bool:
        return client.get(f"/api/v1/sites/{SITE}/decisions", headers={"Authorization": f"Bearer {token}"}
                          ).status_code == 200

    assert works(first) and works(second)
    code, out = admin(database_url, "tokens")
    rows = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and [r[2] for r in rows] == ["a.auditor", "k.soc"] and {r[7] for r in rows} == {"active"}
    created, expires = dt.datetime.fromisoformat(rows[0][5]), dt.datetime.fromisoformat(rows[0][6])
    assert expires - created == dt.timedelta(days=90)
    assert admin(database_url, "revoke-token", rows[0][0])[0] == 0
    assert not works(first) and works(second)
    with web.sessions.begin() as session:
        session.execute(update(ApiTokenRow).values(expires_at=utc_now() - dt.timedelta(seconds=1)))
    assert not works(second)
    assert [line.split("\t")[7] for line in admin(database_url, "tokens", "--user", "k.soc")[1].splitlines()] == \
        ["expired"]
    assert admin(database_url, "revoke-token", "zz")[0] == 2


def test_a_password_change_revokes_api_tokens(web: WebSite) -> None:
    token = token_for(web, "k.soc", Role.SOC_ANALYST)
    client = web.client("k.soc")
    new = "another long passphrase"
    assert post(client, "/account/password", {"current": PASSWORD, "new": new, "repeat": new}).status_code == 200
    assert web.client().get(f"/api/v1/sites/{SITE}/decisions",
                            headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_purge_removes_expired_sessions_and_old_throttle_rows(web: WebSite, database_url: str) -> None:
    web.client("k.soc")
    live = web.client("a.auditor")
    with web.sessions.begin() as session:
        soc = accounts.user_by_name(session, "k.soc")
        assert soc is not None
        session.execute(update(SessionRow).where(SessionRow.user_id == soc.id)
                        .values(expires_at=utc_now() - dt.timedelta(minutes=1)))
        session.add(LoginThrottleRow(username="x", client="y", failures=3, next_allowed_at=utc_now(),
                                     last_at=utc_now() - dt.timedelta(days=2)))
    code, out = admin(database_url, "purge")
    assert code == 0 and "1 sessions" in out and "1 login-throttle rows" in out
    with web.sessions() as session:
        assert len(session.scalars(select(SessionRow)).all()) == 1
    assert live.get(f"/sites/{SITE}").status_code == 200


def test_a_running_server_keeps_purging(web: WebSite) -> None:
    """Not only at start-up: a server that runs for months must not keep every expired session."""
    web.app.state.settings.purge_minutes = 0.0  # as often as the loop allows (once a second)
    with TestClient(web.app, base_url="https://testserver"):
        web.client("k.soc")
        with web.sessions.begin() as session:
            session.execute(update(SessionRow).values(expires_at=utc_now() - dt.timedelta(minutes=1)))
        for _ in range(50):
            with web.sessions() as session:
                if not session.scalars(select(SessionRow)).all():
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the expired session was not purged while the server ran")


def test_a_new_sqlite_database_is_private(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    engine = make_engine(f"sqlite:///{path}")
    from plantgate.db.engine import upgrade

    upgrade(engine)
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@SQLITE_ONLY
def test_scratch_folders_go_at_stop_and_those_of_dead_processes_at_start(web: WebSite, tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    stale = tmp_path / f"{lifecycle.PREFIX}{int(dead.stdout)}-abc"
    alive = tmp_path / f"{lifecycle.PREFIX}{os.getppid()}-def"
    for folder in (stale, alive):
        (folder / "revision-1").mkdir(parents=True)
    assert lifecycle.remove_stale_workdirs(tmp_path) == [stale]
    assert alive.exists() and not stale.exists()
    workdir = web.app.state.workdir
    assert workdir.name.startswith(f"{lifecycle.PREFIX}{os.getpid()}-")
    # the context runs the app's start-up and shutdown
    with TestClient(web.app, base_url="https://testserver", follow_redirects=False) as client:
        login(client, "a.auditor")
        assert client.get(f"/sites/{SITE}/conduits/C-08-time-sync").status_code == 200
        assert any(workdir.iterdir())
    assert not workdir.exists()
