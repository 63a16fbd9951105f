"""Alembic environment: migrations run on a connection handed over by plantgate.db.engine.upgrade,
or on PLANTGATE_DATABASE_URL when Alembic's own command line is used."""

from __future__ import annotations

import os

from alembic import context

from plantgate.db.engine import make_engine
from plantgate.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(os.environ.get("PLANTGATE_DATABASE_URL", "sqlite:///./plantgate.db"))
    with engine.begin() as own_connection:
        context.configure(connection=own_connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
