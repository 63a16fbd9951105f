"""The change-record state machine, as one explicit table instead of scattered ifs.

draft -> submitted -> approved | vetoed -> implemented -> verified. A single OT veto ends
the change from any open state. Nobody approves their own change. An approval binds the
candidate it was given for (by SHA-256): editing the candidate voids it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from plantgate.model.changes import ChangeDecision, ChangeRecord, ChangeState, DecisionKind, DecisionRole

TRANSITIONS: dict[tuple[ChangeState, str], ChangeState] = {
    (ChangeState.DRAFT, "submit"): ChangeState.SUBMITTED,
    (ChangeState.SUBMITTED, "approve"): ChangeState.APPROVED,
    (ChangeState.SUBMITTED, "veto"): ChangeState.VETOED,
    (ChangeState.APPROVED, "veto"): ChangeState.VETOED,
    (ChangeState.APPROVED, "implement"): ChangeState.IMPLEMENTED,
    (ChangeState.IMPLEMENTED, "verify"): ChangeState.VERIFIED,
}
"""Every legal move; anything else is refused with the reason."""

ORDER = [ChangeState.DRAFT, ChangeState.SUBMITTED, ChangeState.APPROVED, ChangeState.IMPLEMENTED,
         ChangeState.VERIFIED]


class TransitionRefused(Exception):
    """A move the state machine does not allow, with the reason a person can act on."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def apply(state: ChangeState, action: str) -> ChangeState:
    """The state after ``action``, or TransitionRefused naming the legal actions."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        legal = sorted(a for (s, a) in TRANSITIONS if s is state)
        raise TransitionRefused(f"cannot {action} a change in state {state.value}; "
                                f"possible: {', '.join(legal) or 'nothing (final state)'}")
    return target


@dataclass(frozen=True)
class DecisionReview:
    """What the decisions of a record amount to, for the candidate as it is now."""

    valid_ot_approvals: list[ChangeDecision]
    valid_sign_offs: list[ChangeDecision]
    vetoes: list[ChangeDecision]
    self_decisions: list[ChangeDecision]
    stale: list[ChangeDecision]

    @property
    def approved(self) -> bool:
        return bool(self.valid_ot_approvals) and bool(self.valid_sign_offs) and not self.vetoes


def review_decisions(record: ChangeRecord, candidate_sha256: str, ot_approvers: set[str]) -> DecisionReview:
    """Sort the decisions: self-decisions and decisions on another candidate never count.

    ``ot_approvers`` are the person ids holding the OT approver role in the treaty.
    """
    approvals, sign_offs, vetoes, selfish, stale = [], [], [], [], []
    for decision in record.decisions:
        if decision.person == record.requested_by and decision.decision is not DecisionKind.VETO:
            selfish.append(decision)
            continue
        if decision.decision is DecisionKind.VETO:
            if decision.role is DecisionRole.OT_APPROVER and decision.person in ot_approvers:
                vetoes.append(decision)
            continue
        if decision.candidate_sha256 and decision.candidate_sha256 != candidate_sha256:
            stale.append(decision)
            continue
        if not decision.candidate_sha256:
            stale.append(decision)
            continue
        if decision.decision is DecisionKind.APPROVE and decision.role is DecisionRole.OT_APPROVER:
            if decision.person in ot_approvers:
                approvals.append(decision)
        elif decision.decision is DecisionKind.SIGN_OFF and decision.role is DecisionRole.PLATFORM_OWNER:
            sign_offs.append(decision)
    return DecisionReview(approvals, sign_offs, vetoes, selfish, stale)


def supported_state(record: ChangeRecord, review: DecisionReview) -> ChangeState:
    """The furthest state the record's own facts reach, walking the transition table."""
    if record.state is ChangeState.DRAFT:
        return ChangeState.DRAFT
    state = apply(ChangeState.DRAFT, "submit")
    if review.approved:
        state = apply(state, "approve")
    if review.vetoes:
        return apply(state, "veto")
    if state is ChangeState.APPROVED and record.implemented_on is not None:
        state = apply(state, "implement")
    if state is ChangeState.IMPLEMENTED and record.verified_on is not None:
        state = apply(state, "verify")
    return state


def state_problems(record: ChangeRecord, review: DecisionReview) -> list[str]:
    """Why the state the record claims is not supported by its decisions (empty when it is).

    A record may lag behind its facts (still "submitted" once approved) but never run ahead
    of them, and a vetoed change is vetoed whatever it claims.
    """
    claimed = record.state
    supported = supported_state(record, review)
    problems = []
    if supported is ChangeState.VETOED and claimed is not ChangeState.VETOED:
        names = ", ".join(v.person for v in review.vetoes)
        problems.append(f"vetoed by {names}, yet the record says {claimed.value}: a single OT veto ends the change")
    elif claimed is ChangeState.VETOED and supported is not ChangeState.VETOED:
        problems.append("the record says vetoed but holds no veto by an OT approver")
    elif claimed in ORDER and supported in ORDER and ORDER.index(claimed) > ORDER.index(supported):
        missing = []
        if not review.valid_ot_approvals:
            missing.append("a valid OT approval of this candidate")
        if not review.valid_sign_offs:
            missing.append("the platform owner's sign-off of this candidate")
        if claimed in (ChangeState.IMPLEMENTED, ChangeState.VERIFIED) and record.implemented_on is None:
            missing.append("implemented_on")
        if claimed is ChangeState.VERIFIED and record.verified_on is None:
            missing.append("verified_on")
        problems.append(f"state {claimed.value} is not supported: it lacks {' and '.join(missing)}")
    for decision in review.self_decisions:
        problems.append(f"{decision.person} requested this change and cannot {decision.decision.value} it")
    for decision in review.stale:
        problems.append(f"the {decision.decision.value} by {decision.person} on {decision.date} was given for "
                        "another candidate (or names none) and does not carry over")
    return problems
