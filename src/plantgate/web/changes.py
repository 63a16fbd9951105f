"""Change requests in the web app: the library's ChangeRecord, with decisions kept as relational rows.

A request proposes a register edit and, optionally, a candidate firewall config, on a base
revision. Decisions are stored per user and bound to the candidate's SHA-256 and the base
revision; the library's ``review_decisions`` and ``assess_change`` judge them. How a request
moves (decide, rebase, implement, verify: each a compare-and-swap) is
plantgate.web.change_transitions.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db import audit
from plantgate.db.accounts import Role, users_with_role
from plantgate.db.revisions import blob, head, store_blob
from plantgate.db.tables import ApprovalRow, ChangeRequestRow, RevisionFileRow, RevisionRow, UserRow
from plantgate.db.treaty_io import sha256_hex
from plantgate.decisions.change_impact import ChangeImpact, assess_change
from plantgate.decisions.change_state import apply
from plantgate.errors import InputError
from plantgate.load import yaml12
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
from plantgate.web.checking import revision_workspace
from plantgate.web.revision_cache import CachedRevision, RevisionCache
from plantgate.web.security import SiteAccess

DECISION_ROLES = {"approve": DecisionRole.OT_APPROVER, "veto": DecisionRole.OT_APPROVER,
                  "sign_off": DecisionRole.PLATFORM_OWNER}


def parse_register_edit(text: str) -> RegisterEdit:
    """The register edit typed in the form (YAML: ``upsert: [...]``, ``remove: [...]``), validated.

    Read like a treaty file (plantgate.load.yaml12: libyaml, with its nesting limit), so a form
    nested thousands of levels deep is an input error at once, never a stack overflow."""
    if not text.strip():
        return RegisterEdit()
    try:
        data, positions = yaml12.parse(text)
    except yaml12.YamlProblem as exc:
        raise InputError.at("register_edit", exc.line, exc.column, f"YAML syntax error: {exc.message}",
                            "valid YAML") from None
    except (RecursionError, ValueError, MemoryError) as exc:
        raise InputError.at("register_edit", 0, 0, f"the register edit cannot be read: {type(exc).__name__}",
                            "a register edit of ordinary size and nesting") from None
    try:
        return RegisterEdit.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = tuple(first["loc"])
        while path and path not in positions:
            path = path[:-1]
        line, column = positions.get(path, (0, 0))
        where = ".".join(str(p) for p in first["loc"])
        raise InputError.at("register_edit", line, column, f"{first['msg']} at {where}",
                            "upsert: [full conduit entries], remove: [conduit ids]") from None


def _revision(db: Session, revision_id: int) -> RevisionRow:
    return db.get_one(RevisionRow, revision_id)


def base_document(db: Session, row: ChangeRequestRow, cache: RevisionCache | None = None) -> dict[str, Any]:
    """The request's base treaty document (from the app's cache when given: decoding it costs ~0.1 s at 10,000
    conduits)."""
    if cache is not None:
        return cache.revision(db, row.base_revision_id).document
    return _revision(db, row.base_revision_id).document


def current_config_blob(db: Session, row: ChangeRequestRow, cache: RevisionCache | None = None) -> tuple[str, bytes]:
    """The firewall's config path and content in the request's base revision."""
    entry = next(f for f in base_document(db, row, cache)["firewalls"] if f["id"] == row.record["firewall"])
    stored = db.get_one(RevisionFileRow, (row.base_revision_id, entry["config"]))
    return entry["config"], blob(db, stored.sha256)


def candidate_digest(db: Session, row: ChangeRequestRow, cache: RevisionCache | None = None) -> str:
    """What decisions bind to: the candidate's SHA-256, or the unchanged config's when there is none."""
    return row.candidate_sha256 or sha256_hex(current_config_blob(db, row, cache)[1])


def create_change(access: SiteAccess, *, title: str, business_reason: str, firewall_id: str, register_edit: str,
                  candidate: bytes | None, ot_approver: str, emergency: bool,
                  conduit_ids: str = "", base: RevisionRow | CachedRevision | None = None) -> ChangeRequestRow:
    """File a request on ``base`` (default: the head revision); ``conduit_ids`` names conduits the change alters
    beyond the edit."""
    db, site = access.db, access.site
    base = base if base is not None else head(db, site)
    if base is None:
        raise InputError.at("site", 0, 0, "the site has no treaty revision yet", "an imported treaty")
    if not any(f["id"] == firewall_id for f in base.document.get("firewalls", [])):
        raise InputError.at("firewall", 0, 0, f"unknown firewall {firewall_id!r}", "a firewall of the treaty")
    if not title.strip():
        raise InputError.at("title", 0, 0, "a change needs a title", "a short description")
    edit = parse_register_edit(register_edit)
    known = base.conduit_ids if isinstance(base, CachedRevision) else {c["id"] for c in base.document.get("conduits",
                                                                                                          [])}
    conduits = [ConduitChange(conduit=c.id, action=ConduitAction.ALTER if c.id in known else ConduitAction.CREATE)
                for c in edit.upsert] + [ConduitChange(conduit=c, action=ConduitAction.REMOVE) for c in edit.remove]
    named = {c.conduit for c in conduits}
    for conduit_id in conduit_ids.replace(",", " ").split():
        if conduit_id not in known:
            raise InputError.at("conduits", 0, 0, f"unknown conduit {conduit_id!r}", "conduit ids of the register")
        if conduit_id not in named:
            conduits.append(ConduitChange(conduit=conduit_id, action=ConduitAction.ALTER))
            named.add(conduit_id)
    row = ChangeRequestRow(site_id=site.id, base_revision_id=base.id, requested_by=access.principal.user.id,
                           title=title.strip(), record={}, state=apply(ChangeState.DRAFT, "submit").value,
                           candidate_sha256=store_blob(db, candidate) if candidate else None)
    db.add(row)
    db.flush()
    record = ChangeRecord(id=f"CR-WEB-{row.id}", title=row.title, conduits=conduits, register_edit=edit,
                          business_reason=business_reason.strip(), requested_by=access.principal.name,
                          ot_approver=ot_approver or None, firewall=firewall_id, current_config="",
                          candidate_config="", emergency=emergency, state=ChangeState.SUBMITTED)
    row.record = record.model_dump(mode="json")
    audit.record(db, actor=access.principal.name, action="change.create", object_type="change", object_id=row.id,
                 site=site.slug, after={"title": row.title, "record": row.record,
                                        "candidate_sha256": row.candidate_sha256}, reason=business_reason)
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
