"""The site pages: dashboard, register and conduit detail, findings, risk decisions, charter, audit log."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import func, select

from plantgate.db.revisions import head
from plantgate.db.tables import AuditRow, ChangeRequestRow, RevisionRow, RiskDecisionRow
from plantgate.web import acceptances, decisions, offload
from plantgate.web.check_runs import CheckRun
from plantgate.web.lifecycle import checkpoint_now
from plantgate.web.permissions import Action
from plantgate.web.rendering import PageNumber, RowId, redirect, render, render_fragment, today, workdir
from plantgate.web.revision_cache import CachedRevision, RevisionCache
from plantgate.web.security import NotFound, SiteAccess, authorize
from plantgate.web.settings import Settings

router = APIRouter(include_in_schema=False)
View = Annotated[SiteAccess, Depends(authorize(Action.VIEW))]
SEVERITIES = ["critical", "high", "medium", "low", "info"]
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
"""The report is one self-contained file with its stylesheet inline, which the pages' policy (styles from our own
origin only) would refuse: it gets its own, stricter in all else (no script, nothing loaded from anywhere)."""


def head_cached(request: Request, access: SiteAccess) -> CachedRevision:
    """The site's head revision from the app's cache (the head pointer itself is read fresh per request)."""
    if access.site.head_revision_id is None:
        raise NotFound(f"site {access.site.slug} has no treaty revision yet")
    cache: RevisionCache = request.app.state.revisions
    return cache.revision(access.db, access.site.head_revision_id)


def check_run(request: Request, access: SiteAccess, revision: CachedRevision, wait: float | None = None) -> CheckRun:
    """The head revision's check run today, after waiting for it up to ``wait`` (default: the page's setting)."""
    cache: RevisionCache = request.app.state.revisions
    settings: Settings = request.app.state.settings
    return cache.check_run(request.app.state.jobs, access.db, revision.id, today(request),
                           settings.check_wait_seconds if wait is None else wait)


def filtered_findings(request: Request, revision: CachedRevision, found: list[dict[str, Any]], severity: str = "",
                      rule: str = "") -> list[dict[str, Any]]:
    """The findings of one severity and/or rule (the list is immutable per revision and day: filtered once)."""
    if not severity and not rule:
        return found
    cache: RevisionCache = request.app.state.revisions
    return cache.derived(("findings", revision.id, today(request), severity, rule),
                         lambda: [f for f in found if (not severity or f["severity"] == severity)
                                  and (not rule or f["rule_id"] == rule)])


def findings_by_fingerprint(request: Request, revision: CachedRevision,
                            found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The findings of a stored check run by fingerprint (indexed once per revision and day)."""
    cache: RevisionCache = request.app.state.revisions
    indexed: dict[str, dict[str, Any]] = cache.derived(("findings by fingerprint", revision.id, today(request)),
                                                       lambda: {f["fingerprint"]: f for f in found})
    return indexed


def settled(access: SiteAccess, revision: CachedRevision, day: dt.date,
            ) -> tuple[dict[str, acceptances.Acceptance], frozenset[str], frozenset[str]]:
    """The site's finding acceptances, the subjects of its signed risk acceptances that hold, and the fingerprints
    that need no action today (either kind of acceptance: the first until its expiry, the second through its
    outage in ``revision``'s patch policy). Read fresh on every view."""
    found = acceptances.acceptances(access.db, access.site.id)
    ends = revision.derived_value("outage ends", lambda: decisions.outage_ends(revision.document))
    risk_accepted = frozenset(decisions.accepted_subjects(access.db, access.site.id, ends, day))
    return found, risk_accepted, acceptances.in_force(found, day) | risk_accepted


def next_outage(revision: RevisionRow | CachedRevision, day: dt.date) -> dict[str, Any] | None:
    outages = (revision.document.get("patch_policy") or {}).get("outages", [])
    upcoming = sorted((o for o in outages if dt.date.fromisoformat(o["end"]) >= day), key=lambda o: o["start"])
    return upcoming[0] if upcoming else None


@router.get("/sites/{slug}")
def dashboard(request: Request, access: View) -> Response:
    revision = head_cached(request, access)
    run = check_run(request, access, revision)
    found = run.findings or []
    _, _, done_with = settled(access, revision, today(request))
    cache: RevisionCache = request.app.state.revisions
    # what needs action, by severity: accepted findings (while their acceptance holds) are counted apart
    by_severity, accepted = cache.derived(
        ("needing action by severity", revision.id, today(request), done_with),
        lambda: (Counter(f["severity"] for f in found if f["fingerprint"] not in done_with),
                 sum(1 for f in found if f["fingerprint"] in done_with))) if run.findings is not None else ({}, 0)
    charter = revision.document.get("charter") or {}
    undecided = [name for name, layer in (charter.get("layers") or {}).items() if layer.get("decision") == "undecided"]
    signed = [s for s, _, rev in decisions.charter_signatures(access.db, access.site.id) if rev.id == revision.id]
    exceptions = access.db.scalars(select(RiskDecisionRow).where(RiskDecisionRow.site_id == access.site.id,
                                                                 RiskDecisionRow.decision == "accept")).all()
    outage = next_outage(revision, today(request))
    package = (outage or {}).get("work_package")
    open_changes = access.db.scalar(select(func.count()).select_from(ChangeRequestRow).where(
        ChangeRequestRow.site_id == access.site.id, ChangeRequestRow.state.in_(["submitted", "approved"])))
    return render(request, "dashboard.html", access=access, revision=revision, run=run, by_severity=by_severity,
                  severities=SEVERITIES, total=len(found), accepted=accepted, undecided=undecided, signed=len(signed),
                  exceptions=exceptions, unsigned_exceptions=[e for e in exceptions if e.signed_by is None],
                  outage=outage, package=package, open_changes=open_changes)


@router.get("/sites/{slug}/register")
def register(request: Request, access: View, q: str = "", zone: str = "", page: int = 1) -> Response:
    revision = head_cached(request, access)
    size = request.app.state.settings.page_size
    matching = revision.conduits(q, zone)
    pages = max(1, -(-len(matching) // size))
    page = min(max(1, page), pages)
    rows = revision.fragments.get_or_make(
        ("register", q, zone, page, size),
        lambda: render_fragment("register_rows.html", site=access.site, q=q, zone=zone, page=page, pages=pages,
                                total=len(matching), conduits=matching[(page - 1) * size:page * size]))
    if request.headers.get("hx-request"):
        return HTMLResponse(rows)
    return render(request, "register.html", access=access, revision=revision, rows=Markup(rows), q=q, zone=zone,
                  zones=revision.document.get("zones", []))


@router.get("/sites/{slug}/conduits/{conduit_id}")
async def conduit_detail(request: Request, access: View, conduit_id: str) -> Response:
    def proved() -> Response:  # the first view of a revision parses its firewalls: off the event loop
        revision = head_cached(request, access)
        conduit = revision.conduit(conduit_id)
        if conduit is None:
            raise NotFound(f"no conduit {conduit_id!r} in revision {revision.number}")
        cache: RevisionCache = request.app.state.revisions
        view = cache.conduit_view(access.db, revision.id, conduit_id, workdir(request))
        from plantgate.web.object_links import index

        return render(request, "conduit.html", access=access, revision=revision, conduit=conduit, view=view,
                      asset_ids=index(revision)["assets"])

    return await offload.run(request, proved)


@router.get("/sites/{slug}/findings")
def findings_page(request: Request, access: View, severity: str = "", rule: str = "",
                  status: Literal["", "open", "accepted"] = "", page: int = 1) -> Response:
    """The head's findings, filtered; each marked open or accepted (who, why, until when), none ever hidden by
    an acceptance unless the reader asks for the open ones only."""
    revision = head_cached(request, access)
    run = check_run(request, access, revision)
    if run.findings is None:
        return render(request, "findings.html", access=access, revision=revision, run=run, rows="", total=0, page=1,
                      pages=1, severities=SEVERITIES, severity=severity, rule=rule, status=status)
    day = today(request)
    found, risk_accepted, done_with = settled(access, revision, day)
    matching = filtered_findings(request, revision, run.findings, severity, rule)
    open_count = sum(1 for f in matching if f["fingerprint"] not in done_with)
    shown = matching if not status else [f for f in matching if (f["fingerprint"] in done_with) == (status != "open")]
    size = request.app.state.settings.page_size
    pages = max(1, -(-len(shown) // size))
    page = min(max(1, page), pages)
    listed = shown[(page - 1) * size:page * size]
    may_decide = access.may(Action.RISK_PROPOSE)
    # the table depends on the revision, the day, the filter, the listed findings' acceptances (read fresh above)
    # and whether the reader may propose a decision: all of it is in the key
    rows = revision.fragments.get_or_make(
        ("findings", day, severity, rule, status, page, size, may_decide,
         tuple((f["fingerprint"] in risk_accepted, found.get(f["fingerprint"])) for f in listed)),
        lambda: render_fragment("findings_rows.html", site=access.site, findings=listed, risk_accepted=risk_accepted,
                                acceptances=found, today=day, may_decide=may_decide))
    return render(request, "findings.html", access=access, revision=revision, run=run, rows=Markup(rows),
                  total=len(shown), matching=len(matching), open_count=open_count, page=page, pages=pages,
                  severities=SEVERITIES, severity=severity, rule=rule, status=status)


@router.post("/sites/{slug}/checks/retry")
def retry_checks(request: Request, access: View) -> Response:
    """Queue a failed check of the head revision again (any reader may ask; nothing is decided by it)."""
    from plantgate.web import check_runs

    revision = head_cached(request, access)
    check_runs.retry(request.app.state.jobs, access.db, revision.id, today(request))
    return redirect(f"/sites/{access.site.slug}/findings")


@router.get("/sites/{slug}/report")
def report_page(request: Request, access: View, format: str = "html", part: str = "") -> Response:
    """The leadership report of the head revision: served once a job has rendered it, else queued and polled."""
    from plantgate.db.revisions import blob
    from plantgate.db.tables import ReportRow
    from plantgate.jobs.inputs import current
    from plantgate.jobs.work import REPORT_FORMATS, FollowUp

    if format not in REPORT_FORMATS:
        raise NotFound(f"no report format {format!r} (html or pdf)")
    revision = head_cached(request, access)
    inputs, day = current(access.db), today(request).isoformat()
    row = access.db.get(ReportRow, (revision.id, day, inputs.feeds, inputs.baseline, format))
    if row is not None and part != "status":
        name = f"plantgate-{access.site.slug}-r{revision.number}-{day}.{format}"
        return Response(blob(access.db, row.sha256), media_type=REPORT_FORMATS[format],
                        headers={"Content-Disposition": f'inline; filename="{name}"',
                                 "Content-Security-Policy": REPORT_CSP})
    if row is None:
        request.app.state.jobs.submit(FollowUp("render_report", {
            "revision_id": revision.id, "as_of": day, "feeds": inputs.feeds, "baseline": inputs.baseline,
            "format": format}, f"report:{revision.id}:{day}:{inputs.feeds[:16]}:{inputs.baseline[:16]}:{format}"))
    return render(request, "report_status.html", access=access, revision=revision, format=format,
                  ready=row is not None)


@router.get("/sites/{slug}/risks")
def risks_page(request: Request, access: View) -> Response:
    revision = head(access.db, access.site)
    return render(request, "risks.html", access=access, rows=decisions.risk_decisions(access.db, access.site.id),
                  outages=decisions.outage_ids(revision), subject=request.query_params.get("subject", ""))


@router.post("/sites/{slug}/risks")
def propose_risk(access: Annotated[SiteAccess, Depends(authorize(Action.RISK_PROPOSE))],
                 subject: Annotated[str, Form()], decision: Annotated[str, Form()],
                 compensating_controls: Annotated[str, Form()] = "", until_outage: Annotated[str, Form()] = "",
                 ) -> Response:
    decisions.propose_risk(access, subject=subject, choice=decision, compensating_controls=compensating_controls,
                           until_outage=until_outage)
    access.db.commit()
    return redirect(f"/sites/{access.site.slug}/risks")


@router.post("/sites/{slug}/risks/{risk_id}/sign")
def sign_risk(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.RISK_SIGN))],
              risk_id: RowId) -> Response:
    row = access.db.get(RiskDecisionRow, risk_id)
    if row is None or row.site_id != access.site.id:
        raise NotFound(f"no risk decision {risk_id} at {access.site.slug}")
    decisions.sign_risk(access, row)
    checkpoint_now(request.app)
    return redirect(f"/sites/{access.site.slug}/risks")


@router.get("/sites/{slug}/charter")
def charter_page(request: Request, access: View) -> Response:
    revision = head_cached(request, access)
    return render(request, "charter.html", access=access, revision=revision,
                  charter=revision.document.get("charter") or {},
                  signatures=decisions.charter_signatures(access.db, access.site.id))


@router.post("/sites/{slug}/charter/sign")
def sign_charter(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.CHARTER_SIGN))],
                 revision: Annotated[int | None, Form()] = None) -> Response:
    decisions.sign_charter(access, revision)
    checkpoint_now(request.app)
    return redirect(f"/sites/{access.site.slug}/charter")


@router.get("/sites/{slug}/audit")
def audit_page(request: Request, access: View, actor: str = "", action: str = "", page: PageNumber = 1) -> Response:
    query = select(AuditRow).where(AuditRow.site == access.site.slug)
    if actor:
        query = query.where(AuditRow.actor == actor)
    if action:
        query = query.where(AuditRow.action.startswith(action))
    size = request.app.state.settings.page_size
    page = max(1, page)
    rows = access.db.scalars(query.order_by(AuditRow.seq.desc()).offset((page - 1) * size).limit(size + 1)).all()
    return render(request, "audit.html", access=access, rows=rows[:size], page=page, more=len(rows) > size,
                  actor=actor, action=action)
