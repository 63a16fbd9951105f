"""Opening the database and bringing its schema up to date with Alembic.

One function makes the engine for SQLite (the embedded default) or PostgreSQL, so both get
the same pragmas and pool choices; ``upgrade`` runs the Alembic migrations programmatically,
which is what ``plantgate serve`` and ``plantgate db upgrade`` call.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from plantgate.errors import InputError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file readable by its owner only (0600): it holds password hashes and the
    plant's exposure. SQLite gives its -wal and -shm files the database file's permissions."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists() and path.parent.is_dir():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass


def make_engine(url: str) -> Engine:
    """An engine for ``url``; PostgreSQL URLs use psycopg 3, SQLite gets WAL and foreign keys (and a 0600 file)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        if url.startswith("sqlite"):
            _private_sqlite_file(url)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except Exception as exc:  # noqa: BLE001 - a bad URL is the user's mistake, say so plainly
        raise InputError.at("--database-url", 0, 0, f"cannot use database URL: {exc}",
                            "sqlite:///path.db or postgresql://user@host/db") from exc


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, app_roles: Sequence[str] = ()) -> None:
    """Apply every pending migration (idempotent); on PostgreSQL, then grant ``app_roles`` what they need.

    The roles (README, PostgreSQL): the owner, which runs this and owns every table, and the roles the
    web app and the workers connect as, which may read and write the business tables but only read
    and append the audit log and its checkpoints (``plantgate.db.roles``).
    """
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        if app_roles and engine.dialect.name == "postgresql":
            from plantgate.db.roles import grant_app_roles

            grant_app_roles(connection, list(app_roles))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
