"""Sites and treaty revisions: import, export, and updates that can never lose one another.

Each site has a head revision. A new revision names the revision it was based on; if the
head has moved meanwhile, the update is refused with ``StaleRevision`` and the caller must
rebase (re-apply its edit on the new head). The compare-and-swap on ``sites.head_revision_id``
is a single conditional UPDATE, so two concurrent writers cannot both win.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plantgate.db import audit
from plantgate.db.audit_replay import revision_digests
from plantgate.db.tables import BlobRow, RevisionFileRow, RevisionRow, SiteRow
from plantgate.db.treaty_io import Snapshot, read_folder, sha256_hex, write_folder
from plantgate.errors import InputError, PlantGateError
from plantgate.model import Treaty


class StaleRevision(PlantGateError):
    """The edit was based on a revision that is no longer the head: rebase it."""

    def __init__(self, site: str, based_on: int | None, head: int | None) -> None:
        self.based_on, self.head = based_on, head
        super().__init__(f"site {site}: the edit is based on revision id {based_on} but the head is now {head}; "
                         "rebase the edit on the current revision")


def site_by_slug(session: Session, slug: str) -> SiteRow | None:
    return session.scalar(select(SiteRow).where(SiteRow.slug == slug))


def store_blob(session: Session, content: bytes) -> str:
    """Store content under its SHA-256 (once); returns the digest.

    Two transactions may store the same content at once (two processes' jobs drawing one revision's
    pictures did, and one job failed on the duplicate key): the insert runs in a savepoint, and a key
    the other stored first is the same content."""
    digest = sha256_hex(content)
    if session.get(BlobRow, digest) is None:
        try:
            with session.begin_nested():
                session.add(BlobRow(sha256=digest, content=content))
        except IntegrityError:
            pass
    return digest


def blob(session: Session, digest: str) -> bytes:
    row = session.get(BlobRow, digest)
    if row is None:
        raise PlantGateError(f"blob {digest} is missing from the database")
    return row.content


def head(session: Session, site: SiteRow) -> RevisionRow | None:
    return session.get(RevisionRow, site.head_revision_id) if site.head_revision_id else None


def snapshot_of(session: Session, revision: RevisionRow) -> Snapshot:
    files = {f.path: blob(session, f.sha256) for f in
             session.scalars(select(RevisionFileRow).where(RevisionFileRow.revision_id == revision.id))}
    return Snapshot(dict(revision.document), dict(revision.layout), files)


def commit_revision(session: Session, site: SiteRow, snapshot: Snapshot, *, based_on: int | None, author_id: int | None,
                    actor: str, message: str,
                    validated: tuple[dict[str, Any], dict[str, str]] | None = None) -> RevisionRow:
    """Store a new head revision if ``based_on`` is still the head; else StaleRevision (nothing stored).

    ``validated``: the snapshot's document already validated, with its digests (``revision_digests``), when
    the caller had them made elsewhere (a worker process): validating 10,000 conduits takes a while."""
    document = validated[0] if validated else Treaty.model_validate(snapshot.document).model_dump(mode="json")
    previous = head(session, site)
    number = (previous.number + 1) if previous else 1
    revision = RevisionRow(site_id=site.id, number=number, parent_id=based_on, author_id=author_id, message=message,
                           document=document, layout=snapshot.layout)
    session.add(revision)
    try:
        session.flush()
    except IntegrityError:  # another writer took this revision number first
        session.rollback()
        current = session.get(SiteRow, site.id)
        raise StaleRevision(site.slug, based_on, current.head_revision_id if current else None) from None
    for path, content in sorted(snapshot.files.items()):
        session.add(RevisionFileRow(revision_id=revision.id, path=path, sha256=store_blob(session, content)))
    swapped = session.execute(
        update(SiteRow).where(SiteRow.id == site.id, SiteRow.head_revision_id.is_(None) if based_on is None
                              else SiteRow.head_revision_id == based_on)
        .values(head_revision_id=revision.id).execution_options(synchronize_session=False))
    if swapped.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        current = session.get(SiteRow, site.id)
        raise StaleRevision(site.slug, based_on, current.head_revision_id if current else None)
    session.refresh(site)
    digests = validated[1] if validated else revision_digests(
        document, {path: sha256_hex(content) for path, content in snapshot.files.items()})
    audit.record(session, actor=actor, action="revision.commit", object_type="revision", object_id=revision.id,
                 site=site.slug, before={"revision": previous.number} if previous else None,
                 after={"revision": number, "message": message, **digests}, reason=message)
    return revision


def import_folder(session: Session, folder: Path, *, slug: str | None, actor: str, author_id: int | None = None,
                  message: str = "") -> RevisionRow:
    """Validate a treaty folder and store it as the next revision of its site (created when new)."""
    site_model, snapshot = read_folder(folder)
    name = site_model.treaty.site.name
    slug = slug or _slugify(name)
    site = site_by_slug(session, slug)
    if site is None:
        site = SiteRow(slug=slug, name=name)
        session.add(site)
        session.flush()
        audit.record(session, actor=actor, action="site.create", object_type="site", object_id=slug, site=slug,
                     after={"name": name})
    return commit_revision(session, site, snapshot, based_on=site.head_revision_id, author_id=author_id, actor=actor,
                           message=message or f"import of {folder.name}")


def export_folder(session: Session, slug: str, folder: Path, number: int | None = None) -> RevisionRow:
    """Write a site's head (or revision ``number``) as a treaty folder."""
    site = site_by_slug(session, slug)
    if site is None:
        raise InputError.at(slug, 0, 0, "no such site in the database", "a site slug (see `plantgate db sites`)")
    revision = (head(session, site) if number is None else
                session.scalar(select(RevisionRow).where(RevisionRow.site_id == site.id, RevisionRow.number == number)))
    if revision is None:
        raise InputError.at(slug, 0, 0, f"site has no revision {number if number is not None else '(empty)'}",
                            "an existing revision number")
    write_folder(snapshot_of(session, revision), folder)
    return revision


def _slugify(name: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug or "site"
