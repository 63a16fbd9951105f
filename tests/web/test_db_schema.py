"""The migrations build exactly the tables the models declare, and concurrent writers never lose an update."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from plantgate.db import audit, revisions
from plantgate.db.tables import Base, RevisionRow
from tests.sites import copy_example


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={  # Procrastinate's tables are its own schema's
            "include_name": lambda name, kind, _: not (kind == "table" and str(name).startswith("procrastinate_"))})
        assert compare_metadata(context, Base.metadata) == []


def test_concurrent_edits_on_the_same_base_one_wins_one_is_told_to_rebase(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with sessions.begin() as session:
        base = revisions.import_folder(session, copy_example(tmp_path), slug="bayport", actor="test")
        base_id, snapshot = base.id, revisions.snapshot_of(session, base)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def writer(label: str) -> None:
        edit = type(snapshot)(dict(snapshot.document, site=dict(snapshot.document["site"], revision=label)),
                              snapshot.layout, snapshot.files)
        session = sessions()
        try:
            site = revisions.site_by_slug(session, "bayport")
            assert site is not None
            barrier.wait()
            revisions.commit_revision(session, site, edit, based_on=base_id, author_id=None, actor=label,
                                      message=label)
            session.commit()
            outcomes.append("won")
        except revisions.StaleRevision:
            session.rollback()
            outcomes.append("stale")
        finally:
            session.close()

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["stale", "stale", "stale", "won"]
    with sessions() as session:
        rows = session.scalars(select(RevisionRow).order_by(RevisionRow.number)).all()
        assert [r.number for r in rows] == [1, 2] and rows[1].parent_id == base_id
        assert audit.verify(session).ok
