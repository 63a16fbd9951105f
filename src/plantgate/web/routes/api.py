"""The JSON API (OpenAPI at /docs): bearer tokens scoped to one site and one role.

The same permission table as the pages applies; a token acts with exactly its role.
POSTing a firewall config queues it (202): a job parses it and stores it as a new treaty revision
(optimistic concurrency), and the upload's URL then shows the revision and its findings.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from plantgate.db.revisions import StaleRevision, store_blob
from plantgate.db.tables import ConfigUploadRow, RevisionRow
from plantgate.errors import InputError
from plantgate.jobs.results import FAILED
from plantgate.jobs.work import fold_follow_up
from plantgate.web import check_runs, decisions
from plantgate.web.permissions import Action
from plantgate.web.rendering import today
from plantgate.web.routes.pages import check_run, head_cached
from plantgate.web.security import NotFound, SiteAccess, authorize

MAX_CONFIG_BYTES = 5_000_000
RETRY_AFTER_SECONDS = 5


class ErrorOut(BaseModel):
    """Every refusal of the API: a title and the located problems (file:line:column for bad input)."""

    error: str
    problems: list[str]


_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description} for status, description in (
        (401, "No valid API token"), (403, "The token's role may not do this"),
        (404, "No such site for this token (other sites are not revealed)"))}
_UPLOAD_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_REFUSALS, 400: {"model": ErrorOut, "description": "The config or the firewall id is invalid"},
    409: {"model": ErrorOut, "description": "based_on is no longer the head revision: rebase"}}
router = APIRouter(prefix="/api/v1", tags=["api"], responses=_REFUSALS)


class FindingsOut(BaseModel):
    site: str
    revision: int
    as_of: str
    findings: list[dict[str, Any]]


class RegisterOut(BaseModel):
    site: str
    revision: int
    total: int
    conduits: list[dict[str, Any]]


class DecisionOut(BaseModel):
    id: int
    subject: str
    decision: str
    compensating_controls: str
    until_outage: str | None
    proposed_by: str
    signed_by: str | None
    signed_at: str | None


@router.get("/sites/{slug}/findings", response_model=FindingsOut, responses={
    500: {"model": ErrorOut, "description": "The checks of the head revision failed (the error says why)"},
    503: {"model": ErrorOut, "description": "The head revision is still being checked: ask again after Retry-After "
                                            "seconds"}})
def get_findings(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.VIEW))],
                 severity: str = "") -> Response | FindingsOut:
    """The head revision's findings today; 503 with Retry-After while its check job has not landed."""
    revision = head_cached(request, access)
    run = check_run(request, access, revision, request.app.state.settings.api_check_wait_seconds)
    if run.state == FAILED:
        return JSONResponse({"error": f"the checks of revision {revision.number} failed", "problems": [run.error]},
                            status_code=500)
    if run.findings is None:
        return JSONResponse({"error": f"checking revision {revision.number}", "problems": ["retry shortly"]},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return FindingsOut(site=access.site.slug, revision=revision.number, as_of=today(request).isoformat(),
                       findings=[f for f in run.findings if not severity or f["severity"] == severity])


@router.get("/sites/{slug}/register", response_model=RegisterOut)
def get_register(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.VIEW))], q: str = "",
                 zone: str = "", offset: int = 0, limit: int = 100) -> Response:
    revision = head_cached(request, access)
    matching = revision.conduits(q, zone)
    offset, limit = max(0, offset), min(max(1, limit), 1000)
    # RegisterOut as JSON, written directly: each conduit's JSON is encoded once per revision (re-validating and
    # re-encoding 100 conduits per call was most of this endpoint's time); tests compare it with the model
    head = json.dumps({"site": access.site.slug, "revision": revision.number, "total": len(matching)},
                      ensure_ascii=False, separators=(",", ":"))
    body = head[:-1] + ',"conduits":' + revision.conduits_json(matching[offset:offset + limit]) + "}"
    return Response(body.encode(), media_type="application/json")


@router.get("/sites/{slug}/decisions", response_model=list[DecisionOut])
def get_decisions(access: Annotated[SiteAccess, Depends(authorize(Action.VIEW))]) -> list[DecisionOut]:
    return [DecisionOut(id=r.id, subject=r.subject, decision=r.decision, compensating_controls=r.compensating_controls,
                        until_outage=r.until_outage, proposed_by=proposer.username,
                        signed_by=signer.username if signer else None,
                        signed_at=r.signed_at.isoformat() if r.signed_at else None)
            for r, proposer, signer in decisions.risk_decisions(access.db, access.site.id)]


class UploadOut(BaseModel):
    """A config upload: queued, then done (with the revision it became and its findings once checked) or
    refused (with the reason: the config does not parse, the treaty no longer loads, the site moved on)."""

    id: int
    site: str
    firewall: str
    state: str
    error: str
    revision: int | None
    findings: list[dict[str, Any]] | None


@router.post("/sites/{slug}/firewalls/{firewall_id}/config", response_model=UploadOut, status_code=202,
             responses=_UPLOAD_REFUSALS,
             openapi_extra={"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}},
                                            "required": True}})
async def post_config(request: Request, firewall_id: str,
                      access: Annotated[SiteAccess, Depends(authorize(Action.CONFIG_UPLOAD))],
                      based_on: int | None = None) -> Response:
    """Queue the firewall's config as deployed now to become a new revision; 202 with the upload to poll.

    A job parses and folds it and judges the treaty with it; a config the parser refuses never becomes a
    revision. ``based_on`` (a revision number) makes the upload conditional: 409 when the site has moved on.
    """
    content = await request.body()  # bounded by the request guard (Settings.max_body_bytes)
    if not content or len(content) > MAX_CONFIG_BYTES:
        raise InputError.at("body", 0, 0, "empty or too large config", f"the config text, at most {MAX_CONFIG_BYTES} "
                            "bytes")
    upload = await anyio.to_thread.run_sync(_store_upload, request, access, firewall_id, based_on, content)
    return JSONResponse(_upload_out(access, upload, None).model_dump(), status_code=202,
                        headers={"Location": f"/api/v1/sites/{access.site.slug}/uploads/{upload.id}"})


def _store_upload(request: Request, access: SiteAccess, firewall_id: str, based_on: int | None,
                  content: bytes) -> ConfigUploadRow:
    revision = head_cached(request, access)  # the firewalls without decoding 5 MB again per upload
    if based_on is not None and based_on != revision.number:
        raise StaleRevision(access.site.slug, based_on, revision.number)
    if not any(f["id"] == firewall_id for f in revision.document.get("firewalls", [])):
        raise InputError.at(firewall_id, 0, 0, "unknown firewall", "a firewall id of the treaty")
    upload = ConfigUploadRow(site_id=access.site.id, firewall_id=firewall_id, based_on=revision.id,
                             sha256=store_blob(access.db, content), requested_by=access.principal.user.id,
                             actor=access.principal.name, state="queued", error="", as_of=today(request).isoformat())
    access.db.add(upload)
    access.db.commit()
    request.app.state.jobs.submit(fold_follow_up(upload.id))
    return upload


def _upload_out(access: SiteAccess, upload: ConfigUploadRow, findings: list[dict[str, Any]] | None) -> UploadOut:
    number = access.db.get_one(RevisionRow, upload.result_revision_id).number if upload.result_revision_id else None
    return UploadOut(id=upload.id, site=access.site.slug, firewall=upload.firewall_id, state=upload.state,
                     error=upload.error, revision=number, findings=findings)


@router.get("/sites/{slug}/uploads/{upload_id}", response_model=UploadOut)
def get_upload(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.VIEW))],
               upload_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> UploadOut:
    """An upload's state; once done, the new revision's findings as soon as its check has landed."""
    upload = access.db.get(ConfigUploadRow, upload_id, populate_existing=True)
    if upload is None or upload.site_id != access.site.id:
        raise NotFound(f"no upload {upload_id} at {access.site.slug}")
    findings = None
    if upload.result_revision_id is not None:
        run = check_runs.run(request.app.state.jobs, access.db, upload.result_revision_id,
                             dt.date.fromisoformat(upload.as_of), request.app.state.settings.api_check_wait_seconds)
        findings = run.findings
    return _upload_out(access, upload, findings)
