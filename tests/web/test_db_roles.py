"""PostgreSQL roles: migrations run as the owner; the app's role is no owner and cannot reach the audit log's
triggers (let alone disable them), yet the app works with it.

The roles are made here with names of this test run (roles are global to the server), and dropped after.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from plantgate.cli import main
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.web.conftest import AS_OF, SITE, WebSite, _postgres_admin, post, seed_site

APPEND_ONLY_BREAKERS = [
    "UPDATE audit_log SET actor = 'mallory'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_log_no_change ON audit_log",
    "DELETE FROM audit_checkpoints",
    "SET session_replication_role = replica",
]


@pytest.fixture
def role_urls() -> Iterator[tuple[str, str, str]]:
    """(owner URL, app URL, app role) on a fresh database owned by a fresh owner role."""
    admin = _postgres_admin()
    if admin is None:
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432 (user postgres, trust auth)")
    suffix = secrets.token_hex(4)
    owner, app_role = f"plantgate_test_owner_{suffix}", f"plantgate_test_app_{suffix}"
    database = f"plantgate_roles_{suffix}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {owner} LOGIN"))
        connection.execute(text(f"CREATE ROLE {app_role} LOGIN"))
        connection.execute(text(f'CREATE DATABASE "{database}" OWNER {owner}'))
    base = "postgresql+psycopg://{}@127.0.0.1:5432/" + database
    try:
        probe = create_engine(base.format(app_role), connect_args={"connect_timeout": 3})
        try:
            with probe.connect():
                pass
        except DBAPIError as exc:
            pytest.skip(f"cannot log in as a new role (pg_hba.conf is not trust for it): {exc.orig}")
        finally:
            probe.dispose()
        yield base.format(owner), base.format(app_role), app_role
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f"DROP ROLE IF EXISTS {app_role}"))
            connection.execute(text(f"DROP ROLE IF EXISTS {owner}"))
        admin.dispose()


def test_the_app_role_cannot_touch_the_audit_log_but_the_app_works(role_urls: tuple[str, str, str],
                                                                   example_copy: Path) -> None:
    owner_url, app_url, app_role = role_urls
    result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", owner_url, "--app-role", app_role])
    assert result.exit_code == 0, result.output
    app = create_app(Settings(database_url=app_url, as_of=AS_OF), migrate=True)  # at head: nothing to migrate
    try:
        seed_site(app.state.sessions, example_copy)
        web = WebSite(app, app.state.sessions, example_copy)
        assert post(web.client("k.soc"), f"/sites/{SITE}/risks", {"subject": "CVE-2024-3400",
                                                                  "decision": "patch_now"}).status_code == 303
        engine: Engine = app.state.engine
        for statement in APPEND_ONLY_BREAKERS:
            with engine.connect() as connection, pytest.raises(DBAPIError) as refused:
                connection.execute(text(statement))
            assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value), statement
        with engine.connect() as connection:
            owners = set(connection.execute(text(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
        assert owners == {owner_url.split("//")[1].split("@")[0]}
    finally:
        app.state.engine.dispose()


def test_the_app_role_cannot_migrate_and_says_so(role_urls: tuple[str, str, str]) -> None:
    _, app_url, _ = role_urls
    with pytest.raises(Exception, match="db upgrade` run as the owner role"):
        create_app(Settings(database_url=app_url))
