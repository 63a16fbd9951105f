"""Every move of a change request: decide (approve, veto, sign off), rebase, implement, verify.

Each move is a compare-and-swap on the request's state and version (plantgate.db.cas) in ONE
transaction with its effects (the decision row, the new treaty revision, the deployed config)
and its audit entry, committed here. Whatever takes time (the impact proof, the new revision's
treaty, parsing a deployed config) is computed first, outside any write, and thrown away if the
request moved meanwhile. That is what keeps a veto from being lost: a veto that lands while the
change is being implemented either comes first (the implementation is refused, nothing is
committed) or second (the veto is refused: the change is already implemented), never both.

Decisions that do not depend on what moved are retried on the new state: a veto is legal on a
submitted and on an approved change, and an approval recorded beside a concurrent sign-off must
count with it. An approval or sign-off is refused when the base revision or the candidate
changed under it, because the person approved something else.

Lock order on PostgreSQL, to rule out deadlocks: the change row first, then the site's head
(a revision commit), then the audit log's advisory lock.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from plantgate.db import audit
from plantgate.db.cas import compare_and_swap
from plantgate.db.revisions import blob, commit_revision, head, snapshot_of, store_blob
from plantgate.db.tables import ApprovalRow, ChangeRequestRow, RevisionRow
from plantgate.db.treaty_io import Snapshot, sha256_hex
from plantgate.decisions.change_impact import edited_treaty
from plantgate.decisions.change_state import TransitionRefused, apply, review_decisions
from plantgate.errors import InputError
from plantgate.firewalls.base import parse_config
from plantgate.model.changes import ChangeState, DecisionKind
from plantgate.netspace import default_space, diff_rulesets
from plantgate.web.change_duties import Decider, decisions_given, platform_owners
from plantgate.web.changes import (
    DECISION_ROLES,
    candidate_digest,
    change_record,
    check_candidate,
    current_config_blob,
    impact,
    ot_approver_names,
)
from plantgate.web.checking import evidence_folder
from plantgate.web.revision_cache import RevisionCache
from plantgate.web.security import Forbidden, SiteAccess

MAX_ATTEMPTS = 8
"""Retries of a decision whose swap lost to a concurrent one (each retry re-reads the request)."""
DECIDABLE = {(ChangeState.SUBMITTED, "approve"), (ChangeState.SUBMITTED, "veto"), (ChangeState.APPROVED, "veto")}


def _reread(db: Session, change_id: int) -> ChangeRequestRow:
    db.rollback()
    return db.get_one(ChangeRequestRow, change_id, populate_existing=True)


def _check_duties(db: Session, access: SiteAccess, row: ChangeRequestRow, decision: DecisionKind,
                  cache: RevisionCache | None) -> None:
    """Separation of duties, whatever roles the person holds (plantgate.web.change_duties): the same rule that
    decides which buttons the page offers."""
    owner = platform_owners(db, cache, row.base_revision_id).get(row.record["firewall"])
    me = Decider(access.principal.user.id, access.principal.name)
    refusal = me.refusal(row, decision, owner, decisions_given(db, [row.id])[row.id])
    if refusal is not None:
        raise Forbidden(refusal)


VETO_REASON = "comment"
"""The form field of a veto's reason."""


def decide(access: SiteAccess, row: ChangeRequestRow, decision: DecisionKind, comment: str, workdir: Path,
           then: Callable[[ChangeRequestRow], None] | None = None, cache: RevisionCache | None = None) -> None:
    """Record an approval, veto or sign-off and move the state when it follows; commits.

    A veto states its reason (InputError at the ``comment`` field otherwise): the requester and the
    audit log must learn why OT stopped the change. ``then(row)`` runs inside the same transaction
    once the decision has won its compare-and-swap (the notifications it causes are committed with
    it, or not at all)."""
    db, me = access.db, access.principal
    if decision is DecisionKind.VETO and not comment.strip():
        raise InputError.at(VETO_REASON, 0, 0, "a veto needs its reason",
                            "why OT stops this change, for the requester and the audit log")
    seen = (row.base_revision_id, row.candidate_sha256)
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            row = _reread(db, row.id)
            if decision is not DecisionKind.VETO and (row.base_revision_id, row.candidate_sha256) != seen:
                raise TransitionRefused("the change was rebased or given another candidate while you decided; "
                                        "review it again")
        state = ChangeState(row.state)
        _check_duties(db, access, row, decision, cache)
        action = decision.value if decision is not DecisionKind.SIGN_OFF else "approve"
        if (state, action) not in DECIDABLE:
            raise TransitionRefused(f"cannot {decision.value.replace('_', ' ')} a change in state {state.value}")
        approval = ApprovalRow(change_id=row.id, user_id=me.user.id, role=DECISION_ROLES[decision.value].value,
                               decision=decision.value, comment=comment.strip(),
                               base_revision_id=row.base_revision_id, candidate_sha256=candidate_digest(db, row))
        db.add(approval)
        db.flush()
        target = state
        if decision is DecisionKind.VETO:
            target = apply(state, "veto")
        elif review_decisions(change_record(db, row, workdir), approval.candidate_sha256,
                              ot_approver_names(db, access)).approved:
            target = apply(state, "approve")
        if not compare_and_swap(db, row, {"state": state.value}, {"state": target.value}):
            continue  # another decision or move landed first: look again
        audit.record(db, actor=me.name, action=f"change.{decision.value}", object_type="change", object_id=row.id,
                     site=access.site.slug, before={"state": state.value},
                     after={"state": target.value, "candidate_sha256": approval.candidate_sha256,
                            "approval": approval.id, "base_revision_id": approval.base_revision_id},
                     reason=comment)
        if then is not None:
            then(row)
        db.commit()
        return
    raise TransitionRefused("the change kept moving while your decision was being recorded; reload it and decide "
                            "again")


def _moved(db: Session, row: ChangeRequestRow, doing: str) -> TransitionRefused:
    now = _reread(db, row.id)
    return TransitionRefused(f"the change moved on while it was being {doing} (it is now {now.state}); nothing was "
                             "stored: reload it")


def rebase(access: SiteAccess, row: ChangeRequestRow, candidate: bytes | None = None) -> None:
    """Move the request onto the current head, optionally with a candidate redone on it; commits.

    Earlier decisions were for another base and stop counting. A candidate written against the
    old config is kept only if none is given; the impact view then shows what it would undo.
    """
    db = access.db
    current = head(db, access.site)
    state = ChangeState(row.state)
    if state not in (ChangeState.SUBMITTED, ChangeState.APPROVED):
        raise TransitionRefused(f"cannot rebase a change in state {state.value}")
    if current is None or (current.id == row.base_revision_id and candidate is None):
        raise TransitionRefused("the change is already based on the current revision")
    entry = next((f for f in current.document.get("firewalls", []) if f["id"] == row.record["firewall"]), None)
    if entry is None:
        raise TransitionRefused(f"firewall {row.record['firewall']} is no longer in the treaty")
    if candidate is not None:
        check_candidate(candidate, entry, "the candidate")
    before = {"base_revision_id": row.base_revision_id, "state": row.state, "candidate_sha256": row.candidate_sha256}
    digest = store_blob(db, candidate) if candidate is not None else row.candidate_sha256
    moved_to = {"base_revision_id": current.id, "candidate_sha256": digest, "state": ChangeState.SUBMITTED.value}
    if not compare_and_swap(db, row, {"state": state.value}, moved_to):
        raise _moved(db, row, "rebased")
    audit.record(db, actor=access.principal.name, action="change.rebase", object_type="change", object_id=row.id,
                 site=access.site.slug, before=before, after={"base_revision_id": current.id, "state": row.state,
                                                           "candidate_sha256": row.candidate_sha256},
                 reason="decisions on the old base no longer count")
    db.commit()


def implemented_snapshot(access: SiteAccess, row: ChangeRequestRow, workdir: Path, today: dt.date,
                         cache: RevisionCache | None = None) -> tuple[RevisionRow, Snapshot, str]:
    """The slow part of implementing, done before any write: the proof must accept the change, then the new
    revision's treaty and files are built. Returns the base, the new snapshot and the revision message."""
    db = access.db
    apply(ChangeState(row.state), "implement")
    result = impact(db, row, workdir, cache)
    if not result.accepted:
        raise TransitionRefused("the change may not proceed: " + "; ".join(result.refusals))
    base = db.get_one(RevisionRow, row.base_revision_id)
    snapshot = snapshot_of(db, base)
    record = change_record(db, row, workdir, cache)
    treaty = edited_treaty(snapshot.treaty(), record)
    config_path, current = current_config_blob(db, row, cache)
    stem, suffix = os.path.splitext(os.path.basename(config_path))
    history = f"firewalls/history/{stem}.{record.id}.before{suffix}"
    installed = f"firewalls/candidates/{stem}.{record.id}{suffix}"
    candidate = blob(db, row.candidate_sha256) if row.candidate_sha256 else current
    files = dict(snapshot.files, **{history: current, installed: candidate, config_path: candidate})
    written = record.model_copy(update={"current_config": history, "candidate_config": installed,
                                        "state": ChangeState.IMPLEMENTED, "implemented_on": today})
    treaty = treaty.model_copy(update={"changes": [*treaty.changes, written]})
    layout = dict(snapshot.layout)
    old_files = dict(zip([c["id"] for c in snapshot.document.get("conduits", [])],
                         snapshot.layout.get("conduits", []), strict=False))
    default_file = next(iter(old_files.values()), "conduits.yaml")
    layout["conduits"] = [old_files.get(c.id, default_file) for c in treaty.conduits]
    layout["changes"] = [*snapshot.layout.get("changes", []), f"changes/{record.id}.yaml"]
    return base, Snapshot(treaty.model_dump(mode="json"), layout, files), f"{record.id}: {row.title}"


def implement(access: SiteAccess, row: ChangeRequestRow, workdir: Path, today: dt.date,
              cache: RevisionCache | None = None) -> RevisionRow:
    """Commit the approved change as a new revision; refused unless the library's proof accepts it and the
    change is still approved, unmoved, when the revision is written. Commits."""
    db = access.db
    base, snapshot, message = implemented_snapshot(access, row, workdir, today, cache)
    if not compare_and_swap(db, row, {"state": ChangeState.APPROVED.value},
                            {"state": ChangeState.IMPLEMENTED.value}):
        raise _moved(db, row, "implemented")
    revision = commit_revision(db, access.site, snapshot, based_on=base.id, author_id=access.principal.user.id,
                               actor=access.principal.name, message=message)  # StaleRevision rolls it all back
    row.result_revision_id = revision.id  # the row is ours until the commit: the swap above holds it
    audit.record(db, actor=access.principal.name, action="change.implement", object_type="change", object_id=row.id,
                 site=access.site.slug, before={"state": ChangeState.APPROVED.value},
                 after={"state": row.state, "revision": revision.number, "result_revision_id": revision.id})
    db.commit()
    return revision


def deployed_problems(access: SiteAccess, row: ChangeRequestRow, deployed: bytes, workdir: Path) -> list[str]:
    """The slow part of verifying: the deployed config against the approved candidate on the packet space."""
    db = access.db
    apply(ChangeState(row.state), "verify")
    base = db.get_one(RevisionRow, row.base_revision_id)
    entry = next(f for f in base.document["firewalls"] if f["id"] == row.record["firewall"])
    folder = evidence_folder(db, base, workdir)
    record = change_record(db, row, workdir)
    deployed_path = workdir / "deployed" / sha256_hex(deployed)
    deployed_path.parent.mkdir(parents=True, exist_ok=True)
    deployed_path.write_bytes(deployed)
    space = default_space()
    approved = parse_config((folder / record.candidate_config).resolve(), entry["vendor"], entry.get("context", ""))
    actual = parse_config(deployed_path, entry["vendor"], entry.get("context", ""))
    problems = []
    diff = diff_rulesets(space, approved, actual)
    if diff.opened:
        problems.append(f"the deployed config permits more than the approved candidate: {diff.opened[0].key}, "
                        f"e.g. {diff.opened[0].witness}")
    if diff.closed:
        problems.append(f"the deployed config lacks flows the approved candidate permits: {diff.closed[0].key}, "
                        f"e.g. {diff.closed[0].witness}")
    problems += [f"the deployed config's address translation differs from the approved candidate's: {edit}"
                 for edit in diff.nat_edits]
    problems += [f"the deployed config translates packets the approved candidate does not: {translation}"
                 for translation in diff.translations]
    return problems


def verify(access: SiteAccess, row: ChangeRequestRow, deployed: bytes, workdir: Path) -> list[str]:
    """Compare the deployed config with the approved candidate; empty list = verified. Commits."""
    db = access.db
    problems = deployed_problems(access, row, deployed, workdir)
    target = ChangeState.IMPLEMENTED if problems else ChangeState.VERIFIED
    digest = store_blob(db, deployed)
    if not compare_and_swap(db, row, {"state": ChangeState.IMPLEMENTED.value},
                            {"state": target.value, "deployed_sha256": digest}):
        raise _moved(db, row, "verified")
    audit.record(db, actor=access.principal.name, action="change.verify", object_type="change", object_id=row.id,
                 site=access.site.slug, before={"state": ChangeState.IMPLEMENTED.value},
                 after={"state": row.state, "deployed_sha256": row.deployed_sha256, "problems": problems})
    db.commit()
    return problems
