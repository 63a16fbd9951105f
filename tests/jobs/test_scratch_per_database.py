"""One process, two databases: revision ids restart in each, so the jobs' scratch folders must not be shared."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from plantgate.db import revisions
from plantgate.db.engine import make_engine, session_factory, upgrade
from plantgate.db.tables import CheckResultRow
from plantgate.jobs import work
from tests.sites import MINIMAL, copy_example, write_files


def _database_with(tmp_path: Path, name: str, folder: Path) -> str:
    url = f"sqlite:///{tmp_path / name}.db"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        revisions.import_folder(session, folder, slug=name, actor="test")
    engine.dispose()
    return url


def _findings(url: str) -> set[str]:
    with work.sessions_for(url)() as session:
        [result] = session.scalars(select(CheckResultRow)).all()
        return {f["rule_id"] for f in result.findings}


def test_revision_1_of_one_database_is_never_judged_from_another_databases_folder(tmp_path: Path) -> None:
    example = _database_with(tmp_path, "bayport", copy_example(tmp_path))
    small = _database_with(tmp_path, "small", write_files(tmp_path / "small", MINIMAL))
    work.check_revision(example, 1, "2026-11-26")
    work.check_revision(small, 1, "2026-11-26")  # revision id 1 too: it once reused the example's folder
    assert any(rule.startswith("PG-FW") for rule in _findings(example))
    assert not any(rule.startswith("PG-FW") for rule in _findings(small))  # the small plant has no firewalls
    assert work.workdir(example) != work.workdir(small)
