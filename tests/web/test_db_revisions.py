"""Treaty revisions in the database: lossless import/export and optimistic concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from plantgate.db import revisions
from plantgate.db.tables import RevisionRow
from plantgate.db.treaty_io import read_folder, render_files
from plantgate.errors import InputError
from plantgate.load import load_site
from tests.sites import MINIMAL, copy_example, write_files


def test_import_export_round_trip_is_lossless(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    example = copy_example(tmp_path)  # a private copy: the packaged example may change under us
    with sessions.begin() as session:
        revision = revisions.import_folder(session, example, slug="bayport", actor="test")
        assert revision.number == 1
    out = tmp_path / "exported"
    with sessions() as session:
        revisions.export_folder(session, "bayport", out)
    original, exported = load_site(example), load_site(out)
    assert exported.treaty == original.treaty
    _, before = read_folder(example)
    _, after = read_folder(out)
    assert after.files == before.files  # firewall configs, candidates, README: byte for byte
    assert after.layout == before.layout  # the same YAML file holds each section and item
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml")) == \
        sorted(p.relative_to(example).as_posix() for p in example.rglob("*.yaml"))
    # A second import of the export yields the identical stored document.
    with sessions.begin() as session:
        second = revisions.import_folder(session, out, slug="bayport", actor="test")
        first = session.scalar(select(RevisionRow).where(RevisionRow.number == 1))
        assert first is not None and second.number == 2 and second.parent_id == first.id
        assert second.document == first.document


def test_import_refuses_an_invalid_folder_with_its_location(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    folder = write_files(tmp_path / "bad", {**MINIMAL, "zones.yaml": "zones:\n  - {id: z1, nmae: typo}\n"})
    with sessions.begin() as session, pytest.raises(InputError) as caught:
        revisions.import_folder(session, folder, slug="bad", actor="test")
    assert any("zones.yaml:2" in str(p) for p in caught.value.problems)


def test_export_refuses_a_non_empty_folder(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    example = copy_example(tmp_path)
    with sessions.begin() as session:
        revisions.import_folder(session, example, slug="bayport", actor="test")
    target = write_files(tmp_path / "busy", {"keep.txt": "mine"})
    with sessions() as session, pytest.raises(InputError):
        revisions.export_folder(session, "bayport", target)
    assert (target / "keep.txt").read_text() == "mine"


def test_an_edit_based_on_an_old_revision_is_refused_not_lost(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    example = copy_example(tmp_path)
    with sessions.begin() as session:
        base = revisions.import_folder(session, example, slug="bayport", actor="test")
        base_id = base.id
        site = revisions.site_by_slug(session, "bayport")
        assert site is not None
        snapshot = revisions.snapshot_of(session, base)
    renamed = dict(snapshot.document, site=dict(snapshot.document["site"], revision="r8"))
    edit_a = type(snapshot)(renamed, snapshot.layout, snapshot.files)
    edit_b = type(snapshot)(dict(snapshot.document, site=dict(snapshot.document["site"], revision="r9")),
                            snapshot.layout, snapshot.files)
    with sessions.begin() as session:
        site = revisions.site_by_slug(session, "bayport")
        assert site is not None
        revisions.commit_revision(session, site, edit_a, based_on=base_id, author_id=None, actor="a", message="A")
    with sessions() as session:
        site = revisions.site_by_slug(session, "bayport")
        assert site is not None
        with pytest.raises(revisions.StaleRevision) as stale:
            revisions.commit_revision(session, site, edit_b, based_on=base_id, author_id=None, actor="b", message="B")
        assert stale.value.based_on == base_id and stale.value.head != base_id
    with sessions() as session:
        site = revisions.site_by_slug(session, "bayport")
        assert site is not None
        current = revisions.head(session, site)
        assert current is not None and current.document["site"]["revision"] == "r8"  # A kept, B refused, not merged
        assert [r.number for r in session.scalars(select(RevisionRow).order_by(RevisionRow.number))] == [1, 2]


def test_rendered_yaml_reloads_to_the_same_treaty(tmp_path: Path) -> None:
    example = copy_example(tmp_path)
    out = tmp_path / "out"
    _, snapshot = read_folder(example)
    for name, content in render_files(snapshot).items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    assert load_site(out).treaty == load_site(example).treaty


def test_two_transactions_storing_one_blob_at_once_both_succeed(sessions: sessionmaker[Session]) -> None:
    """The second insert waits for the first transaction, finds the key taken and keeps the stored content."""
    content = b"the zone diagram of revision 3"
    first = sessions()
    digest = revisions.store_blob(first, content)
    first.flush()  # inserted, not committed: the other transaction's insert of the same key must wait
    stored: list[str] = []

    def other() -> None:
        with sessions.begin() as second:
            stored.append(revisions.store_blob(second, content))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=0.5)
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert stored == [digest]
    with sessions() as session:
        assert revisions.blob(session, digest) == content
