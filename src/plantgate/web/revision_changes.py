"""A revision beside the one before it: what its treaty, its evidence files and its findings did.

Revisions never change once stored, so the treaty and file comparison of a pair is made once
per process (``RevisionCache.derived``); each revision's findings are cached with its check
result, and comparing two sets of fingerprints is cheap. Findings are compared between the two revisions'
check results of the same day and fleet inputs, by their stable fingerprint (rule id,
subjects and discriminator, never a line number): what appeared and what was resolved is then
the revision's doing, not a feed update's. A result that is not stored yet is asked for like
on every other page (its job is queued) and said to be coming: an absent judgement is never
shown as "no change in findings".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db.tables import AuditRow, RevisionFileRow, RevisionRow
from plantgate.jobs.queue import JobQueue
from plantgate.jobs.results import DONE, FAILED
from plantgate.model.treaty_diff import FieldChange, TreatyDiff, field_changes, treaty_diff
from plantgate.web.check_runs import CheckRun
from plantgate.web.revision_cache import RevisionCache


@dataclass(frozen=True)
class FileChanges:
    """Evidence files (firewall configs, exports...) by path: a config upload changes only these."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class PairChanges:
    treaty: TreatyDiff
    files: FileChanges


@dataclass(frozen=True)
class FindingChanges:
    """Findings that appeared, were resolved or changed, once both results are stored; else what is awaited."""

    appeared: tuple[dict[str, Any], ...] = ()
    resolved: tuple[dict[str, Any], ...] = ()
    changed: tuple[tuple[dict[str, Any], tuple[FieldChange, ...]], ...] = ()
    """The same finding (as it is now) whose severity, message, witness or details moved, with what moved (an
    exposure that grew, say)."""
    waiting: tuple[tuple[int, CheckRun], ...] = ()
    """(revision number, its run) of each result not stored yet: pending or failed."""

    @property
    def known(self) -> bool:
        return not self.waiting

    @property
    def failed(self) -> bool:
        return any(run.state == FAILED for _, run in self.waiting)


def by_number(db: Session, site_id: int, number: int) -> RevisionRow | None:
    return db.scalar(select(RevisionRow).where(RevisionRow.site_id == site_id, RevisionRow.number == number))


def previous(db: Session, revision: RevisionRow) -> RevisionRow | None:
    """The site's revision before this one (numbers go up by one per commit)."""
    return db.scalar(select(RevisionRow).where(RevisionRow.site_id == revision.site_id,
                                               RevisionRow.number < revision.number)
                     .order_by(RevisionRow.number.desc()).limit(1))


def committers(db: Session, slug: str, revision_ids: list[int]) -> dict[int, str]:
    """Who committed each revision, as the audit log records it (a person, a job for an upload, the CLI)."""
    entries = db.execute(select(AuditRow.object_id, AuditRow.actor).where(
        AuditRow.action == "revision.commit", AuditRow.site == slug,
        AuditRow.object_id.in_([str(i) for i in revision_ids])))
    return {int(object_id): actor for object_id, actor in entries}


def _files(db: Session, revision_id: int) -> dict[str, str]:
    rows = db.execute(select(RevisionFileRow.path, RevisionFileRow.sha256)
                      .where(RevisionFileRow.revision_id == revision_id))
    return {path: digest for path, digest in rows}


def pair_changes(db: Session, cache: RevisionCache, before: RevisionRow, after: RevisionRow) -> PairChanges:
    """The treaty diff and the file changes from ``before`` to ``after``, made once per pair."""
    def make() -> PairChanges:
        old, new = _files(db, before.id), _files(db, after.id)
        files = FileChanges(added=tuple(sorted(p for p in new if p not in old)),
                            removed=tuple(sorted(p for p in old if p not in new)),
                            changed=tuple(sorted(p for p in new if p in old and old[p] != new[p])))
        return PairChanges(treaty_diff(cache.revision(db, before.id).document, cache.revision(db, after.id).document),
                           files)

    changes: PairChanges = cache.derived(("revision changes", before.id, after.id), make)
    return changes


def finding_changes(db: Session, cache: RevisionCache, queue: JobQueue, before: RevisionRow, after: RevisionRow,
                    day: dt.date, wait: float) -> FindingChanges:
    """Findings appeared and resolved between the two revisions as judged on ``day`` with the current inputs."""
    runs = [(r.number, cache.check_run(queue, db, r.id, day, wait)) for r in (before, after)]
    waiting = tuple((number, run) for number, run in runs if run.state != DONE or run.findings is None)
    if waiting:
        return FindingChanges(waiting=waiting)
    old = {f["fingerprint"]: f for f in runs[0][1].findings or []}
    new = {f["fingerprint"]: f for f in runs[1][1].findings or []}
    return FindingChanges(
        appeared=tuple(f for key, f in new.items() if key not in old),
        resolved=tuple(f for key, f in old.items() if key not in new),
        changed=tuple((f, moved) for key, f in new.items() if key in old and (moved := _moved(old[key], f))))


def _moved(before: dict[str, Any], after: dict[str, Any]) -> tuple[FieldChange, ...]:
    """What a finding says differently, apart from where its evidence sits (an edit above it moves its lines);
    its details field by field."""
    said = ("severity", "message", "witness")
    moved = field_changes({k: before.get(k) for k in said}, {k: after.get(k) for k in said})
    details = field_changes(before.get("details") or {}, after.get("details") or {})
    return moved + tuple(FieldChange(f"details: {c.name}", c.old, c.new) for c in details)
