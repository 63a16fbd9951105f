"""Accepting a finding until a date, and revoking the acceptance: the two forms of the finding page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from plantgate.decisions.change_state import TransitionRefused
from plantgate.web import acceptances
from plantgate.web.lifecycle import checkpoint_now
from plantgate.web.permissions import Action
from plantgate.web.rendering import redirect, today
from plantgate.web.routes.pages import check_run, findings_by_fingerprint, head_cached
from plantgate.web.security import NotFound, SiteAccess, authorize

router = APIRouter(include_in_schema=False)
Accepting = Annotated[SiteAccess, Depends(authorize(Action.FINDING_ACCEPT))]


def listed_finding(request: Request, access: SiteAccess, fingerprint: str) -> dict[str, Any]:
    """The finding as the head revision's stored check run lists it today (what the person read), or 404/409."""
    revision = head_cached(request, access)
    run = check_run(request, access, revision, wait=0)
    if run.findings is None:
        raise TransitionRefused(f"the findings of revision {revision.number} are not judged yet; accept the finding "
                                "once its page shows it")
    finding = findings_by_fingerprint(request, revision, run.findings).get(fingerprint)
    if finding is None:
        raise NotFound(f"no finding {fingerprint!r} in revision {revision.number} today")
    return finding


@router.post("/sites/{slug}/findings/{fingerprint}/accept")
def accept_finding(request: Request, access: Accepting, fingerprint: str, reason: Annotated[str, Form()] = "",
                   expires_on: Annotated[str, Form()] = "") -> Response:
    finding = listed_finding(request, access, fingerprint)
    acceptances.accept(access, finding, reason, expires_on, today(request))
    checkpoint_now(request.app)
    return redirect(f"/sites/{access.site.slug}/findings/{fingerprint}")


@router.post("/sites/{slug}/findings/{fingerprint}/revoke")
def revoke_acceptance(request: Request, access: Accepting, fingerprint: str,
                      reason: Annotated[str, Form()] = "") -> Response:
    acceptances.revoke(access, fingerprint, reason)
    checkpoint_now(request.app)
    return redirect(f"/sites/{access.site.slug}/findings/{fingerprint}")
