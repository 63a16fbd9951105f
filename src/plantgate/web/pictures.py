"""The zone matrix, rule listings and diagram of a revision, as the pages read them: stored by a job, never
computed on a request.

The first view of a revision (on a day) queues ``render_zone_pictures`` and shows the pending
state; once its rows are stored they are decoded once and kept in the revision cache, so a
matrix view costs a dictionary lookup and a template render.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import select

from plantgate.db.revisions import blob
from plantgate.db.tables import ReportRow
from plantgate.jobs.work import ZONE_PICTURES, FollowUp
from plantgate.web.rendering import today
from plantgate.web.revision_cache import CachedRevision, RevisionCache
from plantgate.web.security import SiteAccess


@dataclass(frozen=True)
class ZonePictures:
    matrix: dict[str, Any]
    firewalls: dict[str, Any]
    diagram: str
    """Safe SVG (``outputs.svg_safe``), empty when the worker has no Graphviz."""

    def cell(self, from_zone: str, to_zone: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.matrix["cells"].get(f"{from_zone}|{to_zone}")
        return found


def lock(revision_id: int, day: str) -> str:
    return f"zone-pictures:{revision_id}:{day}"


def zone_pictures(request: Request, access: SiteAccess, revision: CachedRevision) -> ZonePictures | None:
    """The revision's stored pictures of today, or None after making sure a job is computing them."""
    cache: RevisionCache = request.app.state.revisions
    day = today(request).isoformat()
    key = ("zone pictures", revision.id, day)
    found: ZonePictures | None = cache.stored(key)
    if found is not None:
        return found
    rows = access.db.scalars(select(ReportRow).where(
        ReportRow.revision_id == revision.id, ReportRow.as_of == day, ReportRow.feeds == "",
        ReportRow.baseline == "", ReportRow.format.in_(list(ZONE_PICTURES)))).all()
    if len(rows) < len(ZONE_PICTURES):
        request.app.state.jobs.submit(FollowUp("render_zone_pictures", {"revision_id": revision.id, "as_of": day},
                                               lock(revision.id, day)))
        return None

    def decoded() -> ZonePictures:
        parts = {row.format: blob(access.db, row.sha256).decode() for row in rows}
        return ZonePictures(json.loads(parts["matrix"]), json.loads(parts["firewalls"]), parts["diagram"])

    pictures: ZonePictures = cache.derived(key, decoded)
    return pictures
