"""Web and workers run as their own PostgreSQL roles: they use the tables, own none, and cannot touch the
audit log's append-only triggers; only the migration role owns the schema."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from plantgate.cli import main
from plantgate.db import revisions
from plantgate.db.engine import make_engine, session_factory
from plantgate.db.tables import CheckResultRow
from tests.jobs.conftest import PROJECT
from tests.sites import copy_example
from tests.web.conftest import _postgres_admin

ROLE_URL = "postgresql+psycopg://{role}@127.0.0.1:5432/{database}"


@pytest.fixture
def three_roles() -> Iterator[tuple[str, str, str, str]]:
    """A database owned by a fresh migration role, plus fresh web and worker roles (all dropped afterwards)."""
    admin = _postgres_admin()
    if admin is None:
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    suffix = secrets.token_hex(4)
    owner, web, worker, database = (f"plantgate_{kind}_{suffix}" for kind in ("owner", "web", "worker", "roles"))
    with admin.connect() as connection:
        for role in (owner, web, worker):
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        connection.execute(text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
    try:
        yield owner, web, worker, database
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            for role in (web, worker, owner):
                connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_web_and_worker_roles_use_the_tables_and_cannot_touch_the_audit_triggers(
        three_roles: tuple[str, str, str, str], tmp_path: Path) -> None:
    owner, web, worker, database = three_roles
    urls = {role: ROLE_URL.format(role=role, database=database) for role in (owner, web, worker)}
    runner = CliRunner()
    for command in (["db", "upgrade"], ["db", "grant-roles", "--web", web, "--worker", worker]):
        result = runner.invoke(main, [*command, "--database-url", urls[owner]])
        assert result.exit_code == 0, result.output
    engine = create_engine(urls[owner])
    with engine.connect() as connection:
        owners = set(connection.execute(text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'"))
                     .scalars())
    engine.dispose()
    assert owners == {owner}

    with session_factory(make_engine(urls[web])).begin() as session:  # the web role does the app's work
        revisions.import_folder(session, copy_example(tmp_path), slug="bayport", actor="test")
    for role in (web, worker):
        engine = create_engine(urls[role], isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for statement in ("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
                              "DROP TRIGGER audit_log_no_change ON audit_log",
                              "UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log",
                              "TRUNCATE audit_log"):
                with pytest.raises(DBAPIError) as refused:
                    connection.execute(text(statement))
                assert "must be owner" in str(refused.value) or "permission denied" in str(refused.value)
            assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar()
        engine.dispose()

    queued = runner.invoke(main, ["fleet", "check", "--database-url", urls[web]])  # the web role enqueues
    assert queued.exit_code == 0, queued.output
    done = subprocess.run([sys.executable, "-m", "plantgate.cli", "worker", "--burst", "--database-url",
                           urls[worker]], cwd=PROJECT, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    with session_factory(make_engine(urls[web]))() as session:
        row = session.query(CheckResultRow).one()
        assert row.state == "done" and row.findings
