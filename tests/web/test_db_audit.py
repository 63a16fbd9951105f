"""The audit log: append-only by trigger on both databases, hash-chained, verified entry by entry."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from plantgate.db import audit


def _three_entries(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for index in range(3):
            audit.record(session, actor=f"user{index}", action="test.act", object_type="thing", object_id=index,
                         site="s", before={"v": index}, after={"v": index + 1}, reason="because")


def test_chain_verifies_and_links(sessions: sessionmaker[Session]) -> None:
    _three_entries(sessions)
    with sessions() as session:
        result = audit.verify(session)
        assert result.ok and result.entries == 3
        rows = session.execute(text("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")).all()
    assert rows[0][1] == audit.GENESIS and rows[1][1] == rows[0][2] and rows[2][1] == rows[1][2]


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
                                       "DELETE FROM audit_log WHERE seq = 2"])
def test_triggers_refuse_update_and_delete(sessions: sessionmaker[Session], statement: str) -> None:
    _three_entries(sessions)
    with sessions() as session, pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
        session.commit()
    with sessions() as session:
        assert audit.verify(session).ok


def _drop_triggers(engine: Engine) -> None:
    """What an attacker with DDL rights would do first; verify must still catch the edit."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))


def test_verify_names_the_first_edited_entry(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _three_entries(sessions)
    _drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 2"))
    with sessions() as session:
        result = audit.verify(session)
    assert result.first_bad_seq == 2 and "edited" in result.problem


def test_verify_names_a_deleted_entry(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _three_entries(sessions)
    _drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with sessions() as session:
        result = audit.verify(session)
    assert result.first_bad_seq == 2 and "deleted" in result.problem


def test_verify_catches_a_rewritten_chain_link(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _three_entries(sessions)
    _drop_triggers(engine)
    with engine.begin() as connection:  # recompute entry 2's own hash after editing: entry 3's link then breaks
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    with sessions() as session:
        row = session.execute(text("SELECT * FROM audit_log WHERE seq = 2")).mappings().one()
        forged = audit.entry_hash(dict(row))
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET hash = :h WHERE seq = 2"), {"h": forged})
    with sessions() as session:
        result = audit.verify(session)
    assert result.first_bad_seq == 3 and "does not link" in result.problem
