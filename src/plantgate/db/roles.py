"""Database roles on PostgreSQL: the migration role owns the tables, the web app and the workers only use them.

The audit log is append-only because triggers refuse UPDATE, DELETE and TRUNCATE. A role that
owns the table could disable those triggers, so neither the web app nor the workers may own
anything: the migration role (the one ``plantgate db upgrade`` runs as) owns every table,
sequence and function, and ``grant_app_roles`` gives the web and worker roles what they use:
rows of every table, but of the audit log and its checkpoints only SELECT and INSERT, and Procrastinate's queue
functions. Only an owner (or a superuser) may ALTER a table or its triggers in PostgreSQL, so
neither role can touch the triggers. Run it as the migration role after every upgrade (the
default privileges it sets cover tables that later migrations create too).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from plantgate.errors import InputError

APPEND_ONLY = ("audit_log", "audit_checkpoints")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _quoted(role: str) -> str:
    if not _ROLE.match(role):
        raise InputError.at(role, 0, 0, "not a plain PostgreSQL role name", "lower-case letters, digits and _")
    return f'"{role}"'


def grant_app_roles(connection: Connection, roles: list[str]) -> list[str]:
    """Grant each role the use (never the ownership) of PlantGate's schema; returns the statements run."""
    if connection.dialect.name != "postgresql":
        raise InputError.at("--database-url", 0, 0, "database roles need PostgreSQL", "postgresql://owner@host/db")
    statements: list[str] = []
    for role in map(_quoted, roles):
        statements += [
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
            f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {role}",
        ]
        for table in APPEND_ONLY:
            statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {table} FROM {role}")
        statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}")
    for statement in statements:
        connection.execute(text(statement))
    return statements


def owned_by_others(connection: Connection, owner: str) -> list[str]:
    """Tables of the schema owned by anyone but ``owner`` (there should be none)."""
    return list(connection.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner <> :owner ORDER BY 1"),
        {"owner": owner}).scalars())
