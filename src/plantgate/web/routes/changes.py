"""The change-request pages: file a change, see its proved impact, decide, rebase, implement, verify.

Everything that parses, proves or commits a revision runs through plantgate.web.offload, never on
the event loop; the routes that stay ``def`` are light and run in the ordinary thread pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from starlette.datastructures import UploadFile as Uploaded

from plantgate.db.accounts import Role, users_with_role
from plantgate.db.revisions import blob
from plantgate.db.tables import ChangeRequestRow, UserRow
from plantgate.errors import InputError
from plantgate.firewalls.base import decode_config_bytes
from plantgate.jobs.work import FollowUp
from plantgate.model.changes import DecisionKind
from plantgate.model.conduits import ConduitType, Initiator
from plantgate.web import change_transitions, changes, check_runs, conduit_edit, offload
from plantgate.web.change_duties import ACTIONS, decisions_given, offered, platform_owners
from plantgate.web.change_form import ChangeSubmission, Step
from plantgate.web.change_reach import gains_and_losses
from plantgate.web.change_timeline import timeline
from plantgate.web.changes import CANDIDATE_FIELD
from plantgate.web.lifecycle import checkpoint_now
from plantgate.web.permissions import Action
from plantgate.web.rendering import RowId, redirect, render, render_fragment, shown, today, workdir
from plantgate.web.routes.pages import head_cached
from plantgate.web.security import NotFound, SiteAccess, authorize

router = APIRouter(include_in_schema=False)
View = Annotated[SiteAccess, Depends(authorize(Action.VIEW))]
Create = Annotated[SiteAccess, Depends(authorize(Action.CHANGE_CREATE))]
MAX_CONFIG_BYTES = 5_000_000
MAX_SHOWN_CONFIG_BYTES = 8 * 1024 * 1024
"""A stored config larger than this is not shown line by line (as on the firewall's config page)."""
DATALIST_LIMIT = 1000
"""Register ids offered as suggestions in the form up to this many (beyond, the id is typed and checked)."""
LOAD_FIELD = "load"
PROTOCOL_CHOICES = ["tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp", "ah", "ospf", "ip"]
"""What the form's protocol list offers (the conduit model also takes a protocol number, kept when loaded)."""


def change_or_404(access: SiteAccess, change_id: int) -> ChangeRequestRow:
    row = access.db.get(ChangeRequestRow, change_id)
    if row is None or row.site_id != access.site.id:
        raise NotFound(f"no change request {change_id} at {access.site.slug}")
    return row


async def read_upload(upload: Uploaded | None, field: str) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    content = await upload.read(MAX_CONFIG_BYTES + 1)
    if len(content) > MAX_CONFIG_BYTES:
        raise InputError.at(field, 0, 0, f"{upload.filename} is too large", f"at most {MAX_CONFIG_BYTES:,} bytes")
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


def field_errors(exc: InputError, workdir: Path) -> dict[str, list[str]]:
    """The problems by the form field they belong to (a problem's file names its field), each bounded."""
    found: dict[str, list[str]] = {}
    for problem in exc.problems:
        where = problem.location
        at = f"line {where.line}, column {where.column}: " if where.line and where.column else \
            f"line {where.line}: " if where.line else ""
        expected = f" (expected {problem.expected})" if problem.expected else ""
        found.setdefault(where.file, []).append(shown(f"{at}{problem.message}{expected}", workdir))
    return found


def form_page(request: Request, access: SiteAccess, submission: ChangeSubmission, *, extra_rows: int = 0,
              errors: dict[str, list[str]] | None = None, dropped_file: str = "", status_code: int = 200) -> Response:
    """The change form with what was posted kept, ``extra_rows`` blank conduit rows more, and the problems."""
    revision = head_cached(request, access)
    known = conduit_edit.vocabulary(revision)
    return render(request, "change_new.html", access=access, revision=revision, form=submission,
                  rows=submission.editor.shown_rows(extra_rows), known=known,
                  firewall_choices=[(f["id"], f"{f['id']} ({f['vendor']})") for f in revision.document.get(
                      "firewalls", [])],
                  approver_choices=[(u.username, u.username) for u in users_with_role(
                      access.db, access.site, Role.OT_APPROVER)],
                  zone_choices=[(z, f"{z} ({name})" if name else z) for z, name in known.zones.items()],
                  conduit_approver_choices=[(p, f"{p} ({known.people[p]})") for p in known.ot_approvers],
                  protocol_choices=[(p, p) for p in PROTOCOL_CHOICES],
                  initiator_choices=[(i.value, f"the {i.value.replace('_', ' ')}") for i in Initiator],
                  type_choices=[(t.value, t.value.replace("_", " ")) for t in ConduitType],
                  register_ids=sorted(known.conduits) if len(known.conduits) <= DATALIST_LIMIT else [],
                  errors=errors or {}, dropped_file=dropped_file, status_code=status_code)


@router.get("/sites/{slug}/changes/new")
def new_change(request: Request, access: Create, conduit: str = "") -> Response:
    """The empty form, or with a row that edits ``conduit`` (the conduit page's "propose a change")."""
    submission = ChangeSubmission()
    if conduit:
        revision = head_cached(request, access)
        found = revision.conduit(conduit)
        if found is None:
            raise NotFound(f"no conduit {conduit!r} in revision {revision.number}")
        submission.editor.load(found)
    return form_page(request, access, submission)


@router.post("/sites/{slug}/changes")
async def file_change(request: Request, access: Create) -> Response:
    """File the change; or, for the form's other buttons, show it again with a conduit row more."""
    form = await request.form()  # parsed once, by the CSRF check
    submission = ChangeSubmission.posted(form)
    upload = form.get("candidate")
    upload = upload if isinstance(upload, Uploaded) else None
    dropped = shown(upload.filename or "") if upload is not None else ""  # a name the client chose: bounded
    if submission.step is not Step.FILE:
        return await offload.run(request, lambda: again(request, access, submission, dropped))
    deliveries: list[FollowUp] = []

    def filed(candidate: bytes | None) -> int:
        row = changes.create_change(access, submission, candidate, head_cached(request, access),
                                    dropped or CANDIDATE_FIELD)
        access.db.flush()
        deliveries.extend(announce(request, access, "change_waiting", row, f"change:{row.id}:submitted",
                                   f"[PlantGate] {access.site.slug}: change {row.id} waits for OT approval",
                                   f"{access.principal.name} asks to change {submission.firewall}: {row.title}\n\n"
                                   f"Reason: {submission.business_reason}"))
        access.db.commit()  # the change and its notifications in one transaction
        return row.id

    try:
        change_id = await offload.run(request, filed, await read_upload(upload, CANDIDATE_FIELD))
    except InputError as exc:
        errors = field_errors(exc, workdir(request))
        return await offload.run(request, lambda: form_page(request, access, submission, errors=errors,
                                                            dropped_file=dropped, status_code=400))
    submit(request, deliveries)
    return redirect(f"/sites/{access.site.slug}/changes/{change_id}")


def again(request: Request, access: SiteAccess, submission: ChangeSubmission, dropped: str) -> Response:
    """The form once more: with a blank conduit row added, or with a register conduit loaded into a row."""
    if submission.step is Step.ADD_ROW:
        return form_page(request, access, submission, extra_rows=1, dropped_file=dropped)
    revision = head_cached(request, access)
    wanted = submission.load.strip()
    found = revision.conduit(wanted) if wanted else None
    if found is None:
        problem = f"no conduit {wanted!r} in the register of revision {revision.number}" if wanted else \
            "required: the id of the conduit to edit"
    elif any(row.edits == wanted for row in submission.editor.rows):
        problem = f"conduit {wanted} is already in the form"
    else:
        submission.editor.load(found)
        submission.load = ""
        return form_page(request, access, submission, dropped_file=dropped)
    return form_page(request, access, submission, errors={LOAD_FIELD: [shown(problem)]}, dropped_file=dropped,
                     status_code=400)


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
    return await offload.run(request, change_page, request, access, change_id)


def change_page(request: Request, access: SiteAccess, change_id: int, errors: dict[str, list[str]] | None = None,
                comment: str = "", status_code: int = 200) -> Response:
    """The change with its proved impact, the config diff, its timeline and the decisions this person may give.

    Runs in a heavy-work thread: the first view proves the impact (kept in the app's cache, keyed by the base
    revision and the record with its decisions, so re-opening the page costs a lookup)."""
    db, cache = access.db, request.app.state.revisions
    row = change_or_404(access, change_id)
    impact = changes.impact(db, row, workdir(request), cache)
    base = cache.revision(db, row.base_revision_id)
    owner = platform_owners(db, cache, row.base_revision_id).get(row.record["firewall"])
    given = decisions_given(db, [row.id])[row.id]
    users = {u.id: u for u in db.scalars(select(UserRow).where(
        UserRow.id.in_({row.requested_by, *(a.user_id for a in given)})))}
    gains, losses = gains_and_losses(impact, base)
    return render(request, "change.html", access=access, row=row, record=row.record, impact=impact,
                  decisions=[(a, users[a.user_id]) for a in given], requester=users[row.requested_by],
                  stale=access.site.head_revision_id not in (None, row.base_revision_id),  # no 5 MB load
                  offered=offered(access, row, owner, given), owner=owner,
                  steps=timeline(db, row, access.site.slug, given, users, owner),
                  diff=changes.config_change_diff(db, row, cache), gains=gains, losses=losses,
                  config_path=changes.current_config_file(db, row, cache)[0],
                  errors=errors or {}, comment=comment, status_code=status_code)


@router.get("/sites/{slug}/changes/{change_id}/config/{side}")
def change_config(request: Request, access: View, change_id: RowId, side: str) -> Response:
    """The current config (in the change's base revision) or the candidate, one anchored line each (``#L12``)."""
    row = change_or_404(access, change_id)
    if side not in ("current", "candidate"):
        raise NotFound(f"no config {side!r} of a change (current or candidate)")
    cache = request.app.state.revisions
    path, digest = changes.current_config_file(access.db, row, cache)
    if side == "candidate" and row.candidate_sha256:
        digest = row.candidate_sha256

    def lines() -> str:
        content = blob(access.db, digest)
        if len(content) > MAX_SHOWN_CONFIG_BYTES:
            return render_fragment("config_too_large.html", size=len(content), limit=MAX_SHOWN_CONFIG_BYTES)
        return render_fragment("config_lines.html", lines=decode_config_bytes(content).splitlines())

    table = cache.derived(("config lines", digest), lines)
    return render(request, "change_config.html", access=access, row=row, side=side, path=path,
                  unchanged=side == "candidate" and not row.candidate_sha256, table=Markup(table))


def _decide(kind: DecisionKind):  # type: ignore[no-untyped-def]
    dependency = Depends(authorize(ACTIONS[kind]))

    async def route(request: Request, change_id: RowId, access: SiteAccess = dependency,
                    comment: str = Form("")) -> Response:
        jobs: list[FollowUp] = []

        def vetoed(row: ChangeRequestRow) -> None:  # runs in the veto's own transaction
            jobs.extend(announce(request, access, "veto", row, f"change:{row.id}:veto:{row.base_revision_id}",
                                 f"[PlantGate] {access.site.slug}: change {row.id} vetoed by OT",
                                 f"{access.principal.name} vetoed change {row.id} ({row.title}): {comment}"))

        def decided() -> None:
            change_transitions.decide(access, change_or_404(access, change_id), kind, comment, workdir(request),
                                      then=vetoed if kind is DecisionKind.VETO else None,
                                      cache=request.app.state.revisions)
            checkpoint_now(request.app)  # a decision is a signature: anchor the log now

        try:
            await offload.run(request, decided)
        except InputError as exc:  # a veto without its reason: the page again, the message at the reason
            errors = field_errors(exc, workdir(request))
            return await offload.run(request, lambda: change_page(request, access, change_id, errors, comment, 400))
        submit(request, jobs)
        return redirect(f"/sites/{access.site.slug}/changes/{change_id}")

    return route


for _kind in DecisionKind:
    router.add_api_route(f"/sites/{{slug}}/changes/{{change_id}}/{_kind.value}", _decide(_kind), methods=["POST"])


@router.post("/sites/{slug}/changes/{change_id}/rebase")
async def rebase(request: Request, access: Annotated[SiteAccess, Depends(authorize(Action.CHANGE_SUBMIT))],
                 change_id: RowId, candidate: Annotated[UploadFile | None, File()] = None) -> Response:
    content = await read_upload(candidate, CANDIDATE_FIELD)
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
    content = await read_upload(deployed, "deployed")
    if content is None:
        raise InputError.at("deployed", 0, 0, "no deployed config uploaded", "the config exported from the firewall")
    problems = await offload.run(request, lambda: change_transitions.verify(access, change_or_404(access, change_id),
                                                                           content, workdir(request)))
    if problems:
        return render(request, "error.html", access=access, title="Verification failed", messages=problems,
                      status_code=409)
    return redirect(f"/sites/{access.site.slug}/changes/{change_id}")
