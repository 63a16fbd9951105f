"""The change-record state machine: legal moves only, veto ends it, no self-approval, approvals bind a candidate."""

from __future__ import annotations

import datetime as dt

import pytest

from plantgate.decisions.change_state import (
    TransitionRefused,
    apply,
    review_decisions,
    state_problems,
    supported_state,
)
from plantgate.model.changes import ChangeDecision, ChangeRecord, ChangeState, DecisionKind, DecisionRole

SHA = "a" * 64
DAY = dt.date(2026, 11, 1)


def record(state: str = "submitted", decisions: list[ChangeDecision] | None = None, **extra: object) -> ChangeRecord:
    return ChangeRecord.model_validate({
        "id": "CR-1", "title": "t", "requested_by": "it", "firewall": "fw", "current_config": "a",
        "candidate_config": "b", "state": state, "decisions": decisions or [], **extra})


def decision(person: str, kind: str, role: str = "ot_approver", sha: str = SHA) -> ChangeDecision:
    return ChangeDecision(person=person, role=DecisionRole(role), decision=DecisionKind(kind), date=DAY,
                          candidate_sha256=sha)


APPROVED = [decision("ot", "approve"), decision("owner", "sign_off", "platform_owner")]


def test_transition_table() -> None:
    assert apply(ChangeState.DRAFT, "submit") is ChangeState.SUBMITTED
    assert apply(ChangeState.APPROVED, "veto") is ChangeState.VETOED
    with pytest.raises(TransitionRefused, match="possible: approve, veto"):
        apply(ChangeState.SUBMITTED, "implement")
    with pytest.raises(TransitionRefused, match="final state"):
        apply(ChangeState.VETOED, "approve")


def test_approval_needs_ot_and_platform_owner() -> None:
    review = review_decisions(record(decisions=APPROVED), SHA, {"ot"})
    assert review.approved and supported_state(record(decisions=APPROVED), review) is ChangeState.APPROVED
    only_ot = review_decisions(record(decisions=APPROVED[:1]), SHA, {"ot"})
    assert not only_ot.approved
    assert state_problems(record("approved", APPROVED[:1]), only_ot) == [
        "state approved is not supported: it lacks the platform owner's sign-off of this candidate"]


def test_single_veto_ends_the_change_even_after_approval() -> None:
    decisions = [*APPROVED, decision("ot2", "veto")]
    rec = record("implemented", decisions, implemented_on=DAY)
    review = review_decisions(rec, SHA, {"ot", "ot2"})
    assert supported_state(rec, review) is ChangeState.VETOED
    assert "a single OT veto ends the change" in state_problems(rec, review)[0]


def test_veto_by_someone_without_the_role_does_not_count() -> None:
    rec = record("vetoed", [decision("stranger", "veto")])
    review = review_decisions(rec, SHA, {"ot"})
    assert review.vetoes == []
    assert state_problems(rec, review) == ["the record says vetoed but holds no veto by an OT approver"]


def test_no_one_approves_their_own_change() -> None:
    rec = record("approved", [decision("it", "approve"), APPROVED[1]])
    review = review_decisions(rec, SHA, {"it", "ot"})
    assert not review.approved
    assert any("it requested this change and cannot approve it" in p for p in state_problems(rec, review))


def test_approval_does_not_carry_over_to_an_edited_candidate() -> None:
    rec = record("approved", APPROVED)
    review = review_decisions(rec, "b" * 64, {"ot"})
    assert not review.approved and len(review.stale) == 2
    assert any("does not carry over" in p for p in state_problems(rec, review))


def test_a_record_may_lag_but_not_run_ahead() -> None:
    lagging = record("submitted", APPROVED)
    assert state_problems(lagging, review_decisions(lagging, SHA, {"ot"})) == []
    ahead = record("verified", APPROVED, implemented_on=DAY)
    assert "lacks verified_on" in state_problems(ahead, review_decisions(ahead, SHA, {"ot"}))[0]
