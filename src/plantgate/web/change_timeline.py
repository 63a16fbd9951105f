"""A change's way through the state machine as a short timeline: each step with who and when, or who it waits for.

submitted -> OT approval -> platform sign-off -> implemented -> verified, or vetoed. A decision
counts when it was given on the change as it stands (its base revision and candidate,
plantgate.web.change_duties.counts): after a rebase the approvals are waited for again.
Implemented and verified are read from the audit log, the record of who moved the change
there. Every step states its status in words, never by colour alone; the step the change is
at is marked ``aria-current``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db.tables import ApprovalRow, AuditRow, ChangeRequestRow, UserRow
from plantgate.model.changes import ChangeState, DecisionKind
from plantgate.web.change_duties import counts

DONE, WAITING, NOT_REACHED = "done", "waiting", "not reached"


@dataclass(frozen=True)
class Step:
    name: str
    status: str
    who: str = ""
    when: dt.datetime | None = None
    note: str = ""
    current: bool = False


def _moves(db: Session, row: ChangeRequestRow, site: str) -> dict[str, AuditRow]:
    """The audit entries that implemented and verified the change (a failed verification leaves it implemented)."""
    found: dict[str, AuditRow] = {}
    for entry in db.scalars(select(AuditRow).where(
            AuditRow.site == site, AuditRow.object_type == "change", AuditRow.object_id == str(row.id),
            AuditRow.action.in_(["change.implement", "change.verify"])).order_by(AuditRow.seq)):
        found.setdefault(json.loads(entry.after or "{}").get("state", ""), entry)
    return found


def _logged(entry: AuditRow | None, name: str, waiting_note: str) -> Step:
    if entry is None:
        return Step(name, WAITING, note=waiting_note)
    return Step(name, DONE, entry.actor, dt.datetime.fromisoformat(entry.at))


def timeline(db: Session, row: ChangeRequestRow, site: str, given: list[ApprovalRow], users: dict[int, UserRow],
             owner: str | None) -> list[Step]:
    """The steps of ``row``; ``given`` are its decisions, ``users`` their deciders and its requester by id."""
    def decided(kind: DecisionKind) -> ApprovalRow | None:
        return next((a for a in given if a.decision == kind.value and (kind is DecisionKind.VETO or counts(row, a))),
                    None)

    def by(approval: ApprovalRow | None, name: str, waiting_note: str) -> Step:
        if approval is None:
            return Step(name, WAITING, note=waiting_note)
        return Step(name, DONE, users[approval.user_id].username, approval.at, approval.comment)

    approver = row.record.get("ot_approver") or "an OT approver"
    steps = [Step("Submitted", DONE, users[row.requested_by].username, row.created_at),
             by(decided(DecisionKind.APPROVE), "OT approval", f"waiting for {approver}"),
             by(decided(DecisionKind.SIGN_OFF), "Platform sign-off",
                f"waiting for the platform owner {owner}" if owner else "waiting for the platform owner")]
    moves = _moves(db, row, site)
    steps += [_logged(moves.get(ChangeState.IMPLEMENTED.value), "Implemented", "waiting for an IT engineer"),
              _logged(moves.get(ChangeState.VERIFIED.value), "Verified", "waiting for the deployed config")]
    if row.state == ChangeState.VETOED.value:
        veto = by(decided(DecisionKind.VETO), "Vetoed", "")
        steps = [s if s.status == DONE else Step(s.name, NOT_REACHED, note="vetoed") for s in steps]
        return [*steps, Step(veto.name, DONE, veto.who, veto.when, veto.note, current=True)]
    reached = {ChangeState.SUBMITTED.value: 3, ChangeState.APPROVED.value: 4}.get(row.state, len(steps))
    steps[reached:] = [Step(s.name, NOT_REACHED) for s in steps[reached:]]  # e.g. implementing waits for approval
    waiting = [i for i, s in enumerate(steps) if s.status == WAITING]
    at = waiting[0] if waiting else len(steps) - 1
    return [Step(s.name, s.status, s.who, s.when, s.note, current=i == at) for i, s in enumerate(steps)]
