"""The treaty's revisions: the list, and each revision beside the one before it (treaty, files, findings)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy import select

from plantgate.db.tables import RevisionRow
from plantgate.web import offload, revision_changes
from plantgate.web.permissions import Action
from plantgate.web.rendering import MAX_ROW_ID, PageNumber, render, today
from plantgate.web.revision_cache import RevisionCache
from plantgate.web.security import NotFound, SiteAccess, authorize
from plantgate.web.settings import Settings

router = APIRouter(include_in_schema=False)
View = Annotated[SiteAccess, Depends(authorize(Action.VIEW))]
RevisionNumber = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
SHOWN = 200
"""Items of one kind a revision page lists (a 10,000-conduit import would otherwise list every conduit)."""


@router.get("/sites/{slug}/revisions")
def revision_list(request: Request, access: View, page: PageNumber = 1) -> Response:
    size = request.app.state.settings.page_size
    rows = access.db.execute(
        select(RevisionRow.id, RevisionRow.number, RevisionRow.message, RevisionRow.created_at)
        .where(RevisionRow.site_id == access.site.id).order_by(RevisionRow.number.desc())
        .offset((page - 1) * size).limit(size + 1)).all()
    who = revision_changes.committers(access.db, access.site.slug, [r.id for r in rows[:size]])
    return render(request, "revisions.html", access=access, rows=rows[:size], who=who, page=page,
                  more=len(rows) > size, head_id=access.site.head_revision_id)


@router.get("/sites/{slug}/revisions/{number}")
async def revision_page(request: Request, access: View, number: RevisionNumber) -> Response:
    def compared() -> Response:  # a first view compares two documents of up to ~5 MB: off the event loop
        db = access.db
        revision = revision_changes.by_number(db, access.site.id, number)
        if revision is None:
            raise NotFound(f"no revision {number} of {access.site.slug}")
        before = revision_changes.previous(db, revision)
        cache: RevisionCache = request.app.state.revisions
        settings: Settings = request.app.state.settings
        day = today(request)
        changes = revision_changes.pair_changes(db, cache, before, revision) if before else None
        findings = revision_changes.finding_changes(db, cache, request.app.state.jobs, before, revision, day,
                                                    settings.check_wait_seconds) if before else None
        later = revision_changes.by_number(db, access.site.id, number + 1)
        ids = [r.id for r in (revision, before) if r is not None]
        first = cache.revision(db, revision.id).document if before is None else {}
        return render(request, "revision.html", access=access, revision=revision, before=before, later=later,
                      who=revision_changes.committers(db, access.site.slug, ids), changes=changes,
                      findings=findings, first=first, is_head=revision.id == access.site.head_revision_id,
                      shown=SHOWN)

    return await offload.run(request, compared)
