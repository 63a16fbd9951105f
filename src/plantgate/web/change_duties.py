"""Who may decide what on a change: one answer for the server, the change page and "waiting for you".

Roles come from the permission table (plantgate.web.permissions). Separation of duties is not
a matter of role: nobody approves or signs off their own change, only the firewall's platform
owner signs it off, and nobody gives one change both its OT approval and its sign-off. The
server refuses whatever ``refusal`` names, and the page offers a button only where it names
nothing, so a button shown is one that works.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db.tables import ApprovalRow, ChangeRequestRow, RevisionRow
from plantgate.decisions.change_state import TRANSITIONS
from plantgate.model.changes import ChangeState, DecisionKind
from plantgate.web.permissions import Action
from plantgate.web.revision_cache import RevisionCache
from plantgate.web.security import SiteAccess

ACTIONS = {DecisionKind.APPROVE: Action.CHANGE_APPROVE, DecisionKind.VETO: Action.CHANGE_VETO,
           DecisionKind.SIGN_OFF: Action.CHANGE_SIGN_OFF}


def platform_owners(db: Session, cache: RevisionCache | None, revision_id: int) -> dict[str, str | None]:
    """Firewall id -> its platform owner's person id in a revision: read as the revision's firewall list alone (not
    its 5 MB document: the home page asks this for the base revision of every open change), kept per revision."""
    def load() -> dict[str, str | None]:
        firewalls = db.scalar(select(RevisionRow.document["firewalls"]).where(RevisionRow.id == revision_id))
        return {f["id"]: f.get("platform_owner") for f in firewalls or []}

    if cache is None:
        return load()
    found: dict[str, str | None] = cache.derived(("platform owners", revision_id), load)
    return found


def state_allows(state: str, decision: DecisionKind) -> bool:
    """Whether the state machine takes the decision now (a sign-off moves the change as an approval does)."""
    action = "veto" if decision is DecisionKind.VETO else "approve"
    return (ChangeState(state), action) in TRANSITIONS


def counts(row: ChangeRequestRow, approval: ApprovalRow) -> bool:
    """Whether a decision was given on the change as it stands: its base revision and its candidate."""
    return approval.base_revision_id == row.base_revision_id and (
        row.candidate_sha256 is None or approval.candidate_sha256 == row.candidate_sha256)


@dataclass(frozen=True)
class Decider:
    """The person deciding, by user id and name (a person id of the treaty)."""

    user_id: int
    name: str

    def refusal(self, row: ChangeRequestRow, decision: DecisionKind, owner: str | None,
                given: list[ApprovalRow]) -> str | None:
        """Why this person may not give ``decision`` on ``row`` whatever their roles (None: they may).

        ``owner`` is the platform owner of the change's firewall; ``given`` the change's decisions so far."""
        if decision is DecisionKind.VETO:
            return None
        if row.requested_by == self.user_id:
            return "separation of duties: you requested this change and cannot approve or sign it off"
        if decision is DecisionKind.SIGN_OFF and owner and owner != self.name:
            return f"only the platform owner of {row.record['firewall']} ({owner}) signs off its changes"
        other = DecisionKind.SIGN_OFF if decision is DecisionKind.APPROVE else DecisionKind.APPROVE
        if any(a.user_id == self.user_id and a.decision == other.value for a in given):
            return (f"separation of duties: you already gave this change its {other.value.replace('_', '-')}; the "
                    "OT approval and the platform owner's sign-off must come from two people")
        return None


def decisions_given(db: Session, change_ids: list[int]) -> dict[int, list[ApprovalRow]]:
    """The decisions of each change, in one query."""
    found: dict[int, list[ApprovalRow]] = {change_id: [] for change_id in change_ids}
    for approval in db.scalars(select(ApprovalRow).where(ApprovalRow.change_id.in_(change_ids))
                               .order_by(ApprovalRow.id)):
        found[approval.change_id].append(approval)
    return found


def offered(access: SiteAccess, row: ChangeRequestRow, owner: str | None,
            given: list[ApprovalRow]) -> set[DecisionKind]:
    """The decision buttons this person gets: their role allows it, the state takes it, no duty forbids it, and
    they have not given it already on the change as it stands."""
    me = Decider(access.principal.user.id, access.principal.name)
    mine = {a.decision for a in given if a.user_id == me.user_id and counts(row, a)}
    return {kind for kind in DecisionKind
            if access.may(ACTIONS[kind]) and state_allows(row.state, kind) and kind.value not in mine
            and me.refusal(row, kind, owner, given) is None}
