"""Pictures where people would rather look than read: the zone matrix and its pair pages, the zone diagram,
and findings by severity over the revisions.

The matrix and the diagram are read from what ``render_zone_pictures`` stored for the head
revision (``web.pictures``); the trend reads the stored check results. No page here touches a
packet set or runs Graphviz.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select

from plantgate.db.tables import CheckResultRow, RevisionRow
from plantgate.jobs.results import DONE
from plantgate.outputs.trend_chart import severity_chart
from plantgate.outputs.zone_matrix import VERDICTS
from plantgate.web.permissions import Action
from plantgate.web.pictures import zone_pictures
from plantgate.web.rendering import render
from plantgate.web.revision_cache import RevisionCache
from plantgate.web.routes.pages import SEVERITIES, head_cached
from plantgate.web.security import NotFound, SiteAccess, authorize

router = APIRouter(include_in_schema=False)
View = Annotated[SiteAccess, Depends(authorize(Action.VIEW))]
END_TO_END = "end-to-end"
MAX_TREND_REVISIONS = 60
"""The newest revisions a trend shows (a chart of hundreds of points reads as noise)."""


@router.get("/sites/{slug}/matrix")
def matrix_page(request: Request, access: View, view: str = "") -> Response:
    revision = head_cached(request, access)
    pictures = zone_pictures(request, access, revision)
    end_to_end = view == END_TO_END
    rows = revision.fragments.get_or_make(("matrix", end_to_end, pictures is not None), lambda: _matrix_rows(
        access.site.slug, pictures.matrix if pictures else None, end_to_end))
    return render(request, "matrix.html", access=access, revision=revision, pending=pictures is None,
                  end_to_end=end_to_end, rows=Markup(rows), verdicts=VERDICTS,
                  error=pictures.matrix.get("error", "") if pictures is not None else "")


def _matrix_rows(slug: str, matrix: dict[str, Any] | None, end_to_end: bool) -> str:
    """The matrix table, rendered once per revision and view (it names no user)."""
    from plantgate.web.rendering import render_fragment

    if matrix is None:
        return ""
    return render_fragment("matrix_table.html", slug=slug, zones=matrix["zones"], cells=matrix["cells"],
                           end_to_end=end_to_end)


@router.get("/sites/{slug}/matrix/{from_zone}/{to_zone}")
def pair_page(request: Request, access: View, from_zone: str, to_zone: str) -> Response:
    revision = head_cached(request, access)
    zones = {z["id"] for z in revision.document.get("zones", [])}
    for zone in (from_zone, to_zone):
        if zone not in zones:
            raise NotFound(f"no zone {zone!r} in revision {revision.number}")
    if from_zone == to_zone:
        raise NotFound("the matrix pairs two different zones")
    pictures = zone_pictures(request, access, revision)
    cell = pictures.cell(from_zone, to_zone) if pictures is not None else None
    return render(request, "pair.html", access=access, revision=revision, pending=pictures is None, cell=cell,
                  from_zone=from_zone, to_zone=to_zone)


@router.get("/sites/{slug}/diagram")
def diagram_page(request: Request, access: View) -> Response:
    revision = head_cached(request, access)
    pictures = zone_pictures(request, access, revision)
    return render(request, "diagram.html", access=access, revision=revision, pending=pictures is None,
                  svg=Markup(pictures.diagram) if pictures is not None else "",  # made safe by outputs.svg_safe
                  zones=revision.document.get("zones", []), conduits_count=len(revision.conduit_ids))


@router.get("/sites/{slug}/trends")
def trends_page(request: Request, access: View) -> Response:
    """Findings by severity at each revision's newest stored check, oldest revision first."""
    keys = access.db.execute(
        select(RevisionRow.number, CheckResultRow.revision_id, CheckResultRow.as_of, CheckResultRow.feeds,
               CheckResultRow.baseline).join(RevisionRow, RevisionRow.id == CheckResultRow.revision_id)
        .where(CheckResultRow.site_id == access.site.id, CheckResultRow.state == DONE)
        .order_by(RevisionRow.number, CheckResultRow.as_of, CheckResultRow.finished_at)).all()
    newest: dict[int, tuple[Any, ...]] = {}
    for number, *key in keys:
        newest[number] = tuple(key)  # ordered by day and finish: the last one wins
    chosen = sorted(newest.items())[-MAX_TREND_REVISIONS:]
    cache: RevisionCache = request.app.state.revisions
    points: list[tuple[int, str, dict[str, int]]] = cache.derived(
        ("trend", access.site.id, tuple(chosen)), lambda: _counts(access, chosen))
    chart = severity_chart([(f"r{number}", counts) for number, _, counts in points], SEVERITIES) if points else ""
    return render(request, "trends.html", access=access, points=points, chart=Markup(chart), severities=SEVERITIES)


def _counts(access: SiteAccess, chosen: list[tuple[int, tuple[Any, ...]]]) -> list[tuple[int, str, dict[str, int]]]:
    """(revision number, day, counts by severity) of each chosen result: its facts, or its findings when older
    results were stored before the facts counted severities."""
    out = []
    for number, key in chosen:
        row = access.db.get_one(CheckResultRow, key)
        counts = (row.facts or {}).get("by_severity")
        if counts is None:
            counts = {}
            for finding in row.findings:
                counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
        out.append((number, row.as_of, counts))
    return out
