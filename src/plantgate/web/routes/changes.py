"""The change-request pages: file a change, see its proved impact, decide, rebase, implement, verify.

Everything that parses, proves or commits a revision runs through plantgate.web.offload, never on
the event loop; the routes that stay ``def`` are light and run in the ordinary thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from plantgate.db.accounts import Role, users_with_role
from plantgate.db.tables import ChangeRequestRow, UserRow
from plantgate.errors import InputError
from plantgate.jobs.work import FollowUp
from plantgate.model.changes import DecisionKind
from plantgate.web import change_transitions, changes, check_runs, offload
from plantgate.web.lifecycle import checkpoint_now
from plantgate.web.permissions import Action
from plantgate.web.rendering import RowId, redirect, render, today, workdir
from plantgate.web.routes.pages import head_cached
from plantgate.web.security import NotFound, SiteAccess, authorize

router = APIRouter(include_in_schema=False)
View = Annotated[SiteAccess, Depends(authorize(Action.VIEW))]
MAX_CONFIG_BYTES = 5_000_000


def change_or_404(access: SiteAccess, change_id: int) -> ChangeRequestRow:
    row = access.db.get(ChangeRequestRow, change_id)
    if row is None or row.site_id != access.site.id:
        raise NotFound(f"no change request {change_id} at {access.site.slug}")
    return row


async def read_upload(upload: UploadFile | None) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    content = await upload.read(MAX_CONFIG_BYTES + 1)
    if len(content) > MAX_CONFIG_BYTES:
        raise InputError.at(upload.filename, 0, 0, "config file too large", f"at most {MAX_CONFIG_BYTES} bytes")
    return content or None


@router.get("/sites/{slug}/changes")
def change_list(request: Request, access: View, state: str = "") -> Response:
    query = select(ChangeRequestRow).where(ChangeRequestRow.site_id == access.site.id)
    if state:
        query = query.where(ChangeRequestRow.state == state)
    rows = access.db.scalars(query.order_by(ChangeRequestRow.id.desc()).limit(200)).all()
    users = {u.id: u for u in access.db.scalars(select(UserRow).where(
        UserRow.id.in_({r.requested_by for r in rows})))}
    return render(request, "changes.html", access=access, rows=rows, users=users, state=state)


@router.get("/sites/{slug}/changes/new")
def new_change(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.CHANGE_CREATE))],
               conduit: str = "") -> Response:
    revision = head_cached(request, access)
    from plantgate.db.treaty_io import _dump

    existing = next((c for c in revision.document.get("conduits", []) if c["id"] == conduit), None)
    prefill = _dump({"upsert": [existing]}) if existing else ""
    return render(request, "change_new.html", access=access, revision=revision,
                  firewalls=revision.document.get("firewalls", []), prefill=prefill, conduit="",
                  approvers=users_with_role(access.db, access.site, Role.OT_APPROVER))


@router.post("/sites/{slug}/changes")
async def file_change(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.CHANGE_CREATE))],
                      title: Annotated[str, Form()], firewall: Annotated[str, Form()],
                      business_reason: Annotated[str, Form()] = "", register_edit: Annotated[str, Form()] = "",
                      ot_approver: Annotated[str, Form()] = "", emergency: Annotated[bool, Form()] = False,
                      conduits: Annotated[str, Form()] = "",
                      candidate: Annotated[UploadFile | None, File()] = None) -> Response:
    content = await read_upload(candidate)
    deliveries: list[FollowUp] = []

    def filed() -> int:
        row = changes.create_change(access, title=title, business_reason=business_reason, firewall_id=firewall,
                                    register_edit=register_edit, candidate=content, ot_approver=ot_approver,
                                    emergency=emergency, conduit_ids=conduits, base=head_cached(request, access))
        access.db.flush()
        deliveries.extend(announce(request, access, "change_waiting", row, f"change:{row.id}:submitted",
                                   f"[PlantGate] {access.site.slug}: change {row.id} waits for OT approval",
                                   f"{access.principal.name} asks to change {firewall}: {title}\n\n"
                                   f"Reason: {business_reason}"))
        access.db.commit()  # the change and its notifications in one transaction
        return row.id

    change_id = await offload.run(request, filed)
    submit(request, deliveries)
    return redirect(f"/sites/{access.site.slug}/changes/{change_id}")


def announce(request: Request, access: SiteAccess, event: str, row: ChangeRequestRow, key: str, subject: str,
             body: str) -> list[FollowUp]:
    """Queue the notifications of a decision in the caller's transaction; the delivery jobs to submit once it
    commits (``submit``)."""
    from plantgate.jobs import notify
    from plantgate.jobs.work import deliveries

    queued = notify.queue_event(access.db, request.app.state.settings, access.site, event, subject,
                                f"{body}\n\n/sites/{access.site.slug}/changes/{row.id}", key)
    return deliveries(queued)


def submit(request: Request, jobs: list[FollowUp]) -> None:
    for job in jobs:
        request.app.state.jobs.submit(job)


@router.get("/sites/{slug}/changes/{change_id}")
async def change_detail(request: Request, access: View, change_id: RowId) -> Response:
    def proved() -> Response:
        row = change_or_404(access, change_id)
        impact = changes.impact(access.db, row, workdir(request), request.app.state.revisions)
        return render(request, "change.html", access=access, row=row, record=row.record, impact=impact,
                      decisions=changes.decisions_of(access.db, row),
                      requester=access.db.get_one(UserRow, row.requested_by),
                      stale=access.site.head_revision_id not in (None, row.base_revision_id),  # no 5 MB load
                      mine=row.requested_by == access.principal.user.id)

    return await offload.run(request, proved)


def _decide(kind: DecisionKind):  # type: ignore[no-untyped-def]
    action = {DecisionKind.APPROVE: Action.CHANGE_APPROVE, DecisionKind.VETO: Action.CHANGE_VETO,
              DecisionKind.SIGN_OFF: Action.CHANGE_SIGN_OFF}[kind]

    dependency = Depends(authorize(action))

    async def route(request: Request, change_id: RowId, access: SiteAccess = dependency,
                    comment: str = Form("")) -> Response:
        jobs: list[FollowUp] = []

        def vetoed(row: ChangeRequestRow) -> None:  # runs in the veto's own transaction
            jobs.extend(announce(request, access, "veto", row, f"change:{row.id}:veto:{row.base_revision_id}",
                                 f"[PlantGate] {access.site.slug}: change {row.id} vetoed by OT",
                                 f"{access.principal.name} vetoed change {row.id} ({row.title}): {comment}"))

        def decided() -> None:
            change_transitions.decide(access, change_or_404(access, change_id), kind, comment, workdir(request),
                                      then=vetoed if kind is DecisionKind.VETO else None)
            checkpoint_now(request.app)  # a decision is a signature: anchor the log now

        await offload.run(request, decided)
        submit(request, jobs)
        return redirect(f"/sites/{access.site.slug}/changes/{change_id}")

    return route


for _kind in DecisionKind:
    router.add_api_route(f"/sites/{{slug}}/changes/{{change_id}}/{_kind.value}", _decide(_kind), methods=["POST"])


@router.post("/sites/{slug}/changes/{change_id}/rebase")
async def rebase(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.CHANGE_SUBMIT))],
                 change_id: RowId, candidate: Annotated[UploadFile | None, File()] = None) -> Response:
    content = await read_upload(candidate)
    await offload.run(request, lambda: change_transitions.rebase(access, change_or_404(access, change_id), content))
    return redirect(f"/sites/{access.site.slug}/changes/{change_id}")


@router.post("/sites/{slug}/changes/{change_id}/implement")
async def implement(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.CHANGE_IMPLEMENT))],
                    change_id: RowId) -> Response:
    def implemented() -> None:
        revision = change_transitions.implement(access, change_or_404(access, change_id), workdir(request),
                                                today(request), request.app.state.revisions)
        check_runs.run(request.app.state.jobs, access.db, revision.id, today(request))  # queued: ready when looked at

    await offload.run(request, implemented)
    return redirect(f"/sites/{access.site.slug}/changes/{change_id}")


@router.post("/sites/{slug}/changes/{change_id}/verify")
async def verify(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.CHANGE_VERIFY))],
                 change_id: RowId, deployed: Annotated[UploadFile | None, File()] = None) -> Response:
    content = await read_upload(deployed)
    if content is None:
        raise InputError.at("deployed", 0, 0, "no deployed config uploaded", "the config exported from the firewall")
    problems = await offload.run(request, lambda: change_transitions.verify(access, change_or_404(access, change_id),
                                                                           content, workdir(request)))
    if problems:
        return render(request, "error.html", access=access, title="Verification failed", messages=problems,
                      status_code=409)
    return redirect(f"/sites/{access.site.slug}/changes/{change_id}")
