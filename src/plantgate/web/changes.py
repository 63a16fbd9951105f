"""Change requests in the web app: the library's ChangeRecord, with decisions kept as relational rows.

A request proposes a register edit (from the form's fields or its YAML: plantgate.web.change_form)
and, optionally, a candidate firewall config, on a base revision; filing it checks every part
at once and names each problem at its form field. Decisions are stored per user and bound to
the candidate's SHA-256 and the base revision; the library's ``review_decisions`` and
``assess_change`` judge them. How a request moves (decide, rebase, implement, verify: each a
compare-and-swap) is plantgate.web.change_transitions.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db import audit
from plantgate.db.accounts import Role, users_with_role
from plantgate.db.revisions import blob, store_blob
from plantgate.db.tables import ApprovalRow, ChangeRequestRow, RevisionFileRow, RevisionRow, UserRow
from plantgate.db.treaty_io import sha256_hex
from plantgate.decisions.change_impact import ChangeImpact, assess_change
from plantgate.decisions.change_state import apply
from plantgate.errors import InputError, InputProblem, Location
from plantgate.firewalls.base import decode_config_bytes, looks_like_other_vendor, parser_for
from plantgate.model.changes import (
    ChangeDecision,
    ChangeRecord,
    ChangeState,
    ConduitAction,
    ConduitChange,
    DecisionKind,
    DecisionRole,
    RegisterEdit,
)
from plantgate.netspace import default_space
from plantgate.web import conduit_edit
from plantgate.web.change_form import ChangeSubmission, split_list
from plantgate.web.checking import revision_workspace
from plantgate.web.config_diff import ConfigDiff, config_diff
from plantgate.web.revision_cache import CachedRevision, RevisionCache
from plantgate.web.security import SiteAccess

DECISION_ROLES = {"approve": DecisionRole.OT_APPROVER, "veto": DecisionRole.OT_APPROVER,
                  "sign_off": DecisionRole.PLATFORM_OWNER}
CANDIDATE_FIELD = "candidate"


def _revision(db: Session, revision_id: int) -> RevisionRow:
    return db.get_one(RevisionRow, revision_id)


def base_document(db: Session, row: ChangeRequestRow, cache: RevisionCache | None = None) -> dict[str, Any]:
    """The request's base treaty document (from the app's cache when given: decoding it costs ~0.1 s at 10,000
    conduits)."""
    if cache is not None:
        return cache.revision(db, row.base_revision_id).document
    return _revision(db, row.base_revision_id).document


def current_config_file(db: Session, row: ChangeRequestRow, cache: RevisionCache | None = None) -> tuple[str, str]:
    """The firewall's config path and the SHA-256 of its content in the request's base revision."""
    entry = next(f for f in base_document(db, row, cache)["firewalls"] if f["id"] == row.record["firewall"])
    return entry["config"], db.get_one(RevisionFileRow, (row.base_revision_id, entry["config"])).sha256


def current_config_blob(db: Session, row: ChangeRequestRow, cache: RevisionCache | None = None) -> tuple[str, bytes]:
    """The firewall's config path and content in the request's base revision."""
    path, digest = current_config_file(db, row, cache)
    return path, blob(db, digest)


def config_change_diff(db: Session, row: ChangeRequestRow, cache: RevisionCache) -> ConfigDiff | None:
    """The current config beside the candidate (None without a candidate), kept per pair of contents."""
    candidate = row.candidate_sha256
    if candidate is None:
        return None
    current = current_config_file(db, row, cache)[1]
    return cache.derived(("config diff", current, candidate),
                         lambda: config_diff(blob(db, current), blob(db, candidate)))


def candidate_digest(db: Session, row: ChangeRequestRow, cache: RevisionCache | None = None) -> str:
    """What decisions bind to: the candidate's SHA-256, or the unchanged config's when there is none."""
    return row.candidate_sha256 or sha256_hex(current_config_blob(db, row, cache)[1])


def check_candidate(content: bytes, firewall: dict[str, Any], filename: str) -> None:
    """The candidate must be a config its firewall's parser reads, or its impact could never be proved (and a
    config of another vendor would read as an empty firewall). InputError at the candidate field otherwise."""
    vendor, context = firewall["vendor"], firewall.get("context", "")
    text = decode_config_bytes(content)
    other = looks_like_other_vendor(text, vendor, context)
    if other is not None:
        raise InputError.at(CANDIDATE_FIELD, 1, 1, f"{filename} looks like a {other} config, not {vendor}",
                            f"the {vendor} config of {firewall['id']}")
    try:
        parser_for(vendor, context).parse(text, filename)
    except InputError as exc:
        raise InputError([replace(p, location=replace(p.location, file=CANDIDATE_FIELD), message=f"{filename}: "
                                  f"{p.message}") for p in exc.problems]) from None


def _conduits_named(edit: RegisterEdit | None, concerned: list[str], known: conduit_edit.Vocabulary,
                    refuse: Callable[[str, str, str], None]) -> list[ConduitChange]:
    """The conduits a change names: those its edit creates, alters or removes, then the others it concerns."""
    conduits = [ConduitChange(conduit=c.id, action=ConduitAction.ALTER if c.id in known.conduits
                              else ConduitAction.CREATE) for c in (edit.upsert if edit else [])]
    conduits += [ConduitChange(conduit=c, action=ConduitAction.REMOVE) for c in (edit.remove if edit else [])]
    named = {c.conduit for c in conduits}
    for conduit_id in concerned:
        if conduit_id not in known.conduits:
            refuse("conduits", f"unknown conduit {conduit_id!r}", "conduit ids of the register")
        elif conduit_id not in named:
            conduits.append(ConduitChange(conduit=conduit_id, action=ConduitAction.ALTER))
            named.add(conduit_id)
    if edit is not None and not conduits and not concerned:  # (an edit with problems names its conduits wrongly)
        refuse("conduits", "the change names no conduit",
               "a conduit added, edited or removed above, or the ids of the conduits it concerns")
    return conduits


def create_change(access: SiteAccess, submission: ChangeSubmission, candidate: bytes | None, base: CachedRevision,
                  filename: str = "candidate") -> ChangeRequestRow:
    """File the submitted change on ``base``; one InputError naming every problem at its form field otherwise."""
    db, site = access.db, access.site
    known = conduit_edit.vocabulary(base)
    problems: list[InputProblem] = []

    def refuse(field: str, message: str, expected: str = "") -> None:
        problems.append(InputProblem(Location(field), message, expected=expected))

    if not submission.title.strip():
        refuse("title", "a change needs a title", "a short description")
    if not submission.business_reason.strip():
        refuse("business_reason", "a change states its business reason", "why the plant needs it")
    entry = next((f for f in base.document.get("firewalls", []) if f["id"] == submission.firewall), None)
    if entry is None:
        refuse("firewall", f"unknown firewall {submission.firewall!r}" if submission.firewall else "required",
               "a firewall of the treaty")
    approvers = ot_approver_names(db, access)
    if submission.ot_approver not in approvers:
        refuse("ot_approver", f"{submission.ot_approver!r} is not an OT approver at {site.slug}"
               if submission.ot_approver else "required", "one of " + (", ".join(sorted(approvers)) or
                                                                       "nobody: grant someone the ot_approver role"))
    try:
        edit: RegisterEdit | None = submission.edit(known)
    except InputError as exc:
        problems += exc.problems
        edit = None
    conduits = _conduits_named(edit, split_list(submission.conduits), known, refuse)
    if candidate is not None and entry is not None:
        try:
            check_candidate(candidate, entry, filename)
        except InputError as exc:
            problems += exc.problems
    if problems or edit is None:
        raise InputError(problems)
    row = ChangeRequestRow(site_id=site.id, base_revision_id=base.id, requested_by=access.principal.user.id,
                           title=submission.title.strip(), record={}, state=apply(ChangeState.DRAFT, "submit").value,
                           candidate_sha256=store_blob(db, candidate) if candidate else None)
    db.add(row)
    db.flush()
    record = ChangeRecord(id=f"CR-WEB-{row.id}", title=row.title, conduits=conduits, register_edit=edit,
                          business_reason=submission.business_reason.strip(), requested_by=access.principal.name,
                          ot_approver=submission.ot_approver, firewall=submission.firewall, current_config="",
                          candidate_config="", emergency=submission.emergency, state=ChangeState.SUBMITTED)
    row.record = record.model_dump(mode="json")
    audit.record(db, actor=access.principal.name, action="change.create", object_type="change", object_id=row.id,
                 site=site.slug, after={"title": row.title, "record": row.record,
                                        "candidate_sha256": row.candidate_sha256},
                 reason=submission.business_reason)
    return row


def decisions_of(db: Session, row: ChangeRequestRow) -> list[tuple[ApprovalRow, UserRow]]:
    return [(a, db.get_one(UserRow, a.user_id)) for a in db.scalars(
        select(ApprovalRow).where(ApprovalRow.change_id == row.id).order_by(ApprovalRow.id))]


def change_record(db: Session, row: ChangeRequestRow, workdir: Path, cache: RevisionCache | None = None,
                  ) -> ChangeRecord:
    """The library record for this request: decisions on the current base only, paths that resolve."""
    config_path, _ = current_config_blob(db, row, cache)
    candidate = config_path
    if row.candidate_sha256:
        target = workdir / "candidates" / row.candidate_sha256
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, staging = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob(db, row.candidate_sha256))
            os.replace(staging, target)
        candidate = str(target.resolve())  # absolute: the site folder joins it unchanged
    decisions = [ChangeDecision(person=user.username, role=DecisionRole(a.role), decision=DecisionKind(a.decision),
                                date=a.at.date(), comment=a.comment, candidate_sha256=a.candidate_sha256)
                 for a, user in decisions_of(db, row) if a.base_revision_id == row.base_revision_id]
    return ChangeRecord.model_validate({**row.record, "current_config": config_path, "candidate_config": candidate,
                                        "decisions": [d.model_dump(mode="json") for d in decisions],
                                        "state": row.state})


def impact(db: Session, row: ChangeRequestRow, workdir: Path, cache: RevisionCache | None = None) -> ChangeImpact:
    """The library's proof: opened and closed flows with witnesses, refusals, emergency close-only.

    With the app's cache, the base revision's workspace is reused and the proof itself is kept: it is a
    function of the base revision and the record (decisions, state and the candidate's content-addressed
    path included), which together form the key, so a new decision or a rebase computes it afresh."""
    record = change_record(db, row, workdir, cache)
    if cache is None:
        return assess_change(revision_workspace(db, _revision(db, row.base_revision_id), workdir).site, record,
                             default_space())
    return cache.derived(
        ("impact", row.base_revision_id, record.model_dump_json()),
        lambda: assess_change(cache.workspace(db, row.base_revision_id, workdir).site, record, default_space()))


def ot_approver_names(db: Session, access: SiteAccess) -> set[str]:
    return {u.username for u in users_with_role(db, access.site, Role.OT_APPROVER)}
