"""The JSON API (OpenAPI at /docs): bearer tokens scoped to one site and one role.

The same permission table as the pages applies; a token acts with exactly its role.
POSTing a firewall config stores it as a new treaty revision (optimistic concurrency) and
returns the findings of the re-check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from plantgate.db.revisions import StaleRevision, commit_revision, snapshot_of
from plantgate.db.treaty_io import sha256_hex
from plantgate.errors import InputError
from plantgate.firewalls.base import parse_config
from plantgate.web import check_runs, checking, decisions, offload
from plantgate.web.check_runs import FAILED
from plantgate.web.permissions import Action
from plantgate.web.rendering import today, workdir
from plantgate.web.routes.pages import check_run, head_cached, head_or_404
from plantgate.web.security import SiteAccess, authorize

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


def _parse_or_refuse(content: bytes, entry: dict[str, Any], folder: Path) -> None:
    """Parse the upload before storing it: a config the parser refuses never becomes a revision."""
    target = folder / "uploads" / sha256_hex(content)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    parse_config(target, entry["vendor"], entry.get("context", ""))


@router.get("/sites/{slug}/findings", response_model=FindingsOut, responses={
    500: {"model": ErrorOut, "description": "The checks of the head revision failed (the error says why)"},
    503: {"model": ErrorOut, "description": "The head revision is still being checked: ask again after Retry-After "
                                            "seconds"}})
def get_findings(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.VIEW))],
                 severity: str = "") -> Response | FindingsOut:
    """The head revision's findings today; waits while it is being checked (up to ``api_check_wait_seconds``)."""
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


@router.post("/sites/{slug}/firewalls/{firewall_id}/config", response_model=FindingsOut, responses=_UPLOAD_REFUSALS,
             openapi_extra={"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}},
                                            "required": True}})
async def post_config(request: Request, firewall_id: str,
                      access: Annotated[SiteAccess, Depends(authorize(Action.CONFIG_UPLOAD))],
                      based_on: int | None = None) -> FindingsOut:
    """Store the firewall's config as deployed now, as a new revision, and return the re-check's findings.

    ``based_on`` (a revision number) makes the upload conditional: 409 when the site has moved on.
    """
    content = await request.body()  # bounded by the request guard (Settings.max_body_bytes)
    if not content or len(content) > MAX_CONFIG_BYTES:
        raise InputError.at("body", 0, 0, "empty or too large config", f"the config text, at most {MAX_CONFIG_BYTES} "
                            "bytes")
    return await offload.run(request, _store_config, request, access, firewall_id, based_on, content)


def _store_config(request: Request, access: SiteAccess, firewall_id: str, based_on: int | None,
                  content: bytes) -> FindingsOut:
    """Parse, re-check and store the uploaded config (seconds at 10,000 conduits: a heavy-work thread)."""
    revision = head_or_404(access)
    if based_on is not None and based_on != revision.number:
        raise StaleRevision(access.site.slug, based_on, revision.number)
    entry = next((f for f in revision.document.get("firewalls", []) if f["id"] == firewall_id), None)
    if entry is None:
        raise InputError.at(firewall_id, 0, 0, "unknown firewall", "a firewall id of the treaty")
    _parse_or_refuse(content, entry, workdir(request))
    snapshot = snapshot_of(access.db, revision)
    snapshot.files[entry["config"]] = content
    judged = checking.judge_snapshot(snapshot, today(request), workdir(request))  # refuses before anything is stored
    new = commit_revision(access.db, access.site, snapshot, based_on=revision.id, author_id=access.principal.user.id,
                          actor=access.principal.name, message=f"deployed config of {firewall_id} uploaded",
                          validated=(judged.document, judged.digests))
    access.db.commit()
    check_runs.finish(access.db, new.id, today(request), judged.findings)
    return FindingsOut(site=access.site.slug, revision=new.number, as_of=today(request).isoformat(),
                       findings=judged.findings)
