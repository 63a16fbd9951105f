"""What waits for one person, per site: changes to approve or sign off, risk decisions to sign, and the conduits
they own whose review date has passed.

A change is listed by the rules that give its buttons (plantgate.web.change_duties): the role
allows the decision, no duty forbids it, and nobody gave it yet on the change as it stands. An
OT approval waits for the approver the change names (any OT approver when it names none); a
sign-off for the firewall's platform owner. A conduit is due for review by the register check's
own rule (PG-REGISTER-002: its ``review_by`` date lies before today). Per site it costs one query
for the open changes, one for their decisions and one for unsigned risk decisions; the conduits
come from the head revision in the app's cache, grouped by owner once per revision and day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db.accounts import Role
from plantgate.db.tables import ChangeRequestRow, RiskDecisionRow, SiteRow, UserRow
from plantgate.model.changes import ChangeState, DecisionKind
from plantgate.web.change_duties import Decider, counts, decisions_given, platform_owners
from plantgate.web.permissions import Action, allowed
from plantgate.web.revision_cache import CachedRevision, RevisionCache


@dataclass
class SiteWaiting:
    site: SiteRow
    changes: list[tuple[ChangeRequestRow, str]] = field(default_factory=list)
    """Each change with the decision it waits for from this person."""
    risks: list[RiskDecisionRow] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.changes or self.risks or self.reviews)


def reviews_due(revision: CachedRevision, day: dt.date) -> dict[str, list[dict[str, Any]]]:
    """Owner -> their conduits whose review date lies before ``day`` (kept with the revision, per day)."""
    def make() -> dict[str, list[dict[str, Any]]]:
        due: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for conduit in revision.document.get("conduits", []):
            if conduit.get("review_by") and dt.date.fromisoformat(conduit["review_by"]) < day:
                due[conduit.get("owner", "")].append(conduit)
        return dict(due)

    found: dict[str, list[dict[str, Any]]] = revision.derived_value(f"reviews due {day.isoformat()}", make)
    return found


def _changes(db: Session, cache: RevisionCache, site: SiteRow, me: Decider, roles: set[Role],
             ) -> list[tuple[ChangeRequestRow, str]]:
    may_approve, may_sign = allowed(roles, Action.CHANGE_APPROVE), allowed(roles, Action.CHANGE_SIGN_OFF)
    if not (may_approve or may_sign):
        return []
    rows = list(db.scalars(select(ChangeRequestRow).where(
        ChangeRequestRow.site_id == site.id, ChangeRequestRow.state == ChangeState.SUBMITTED.value)
        .order_by(ChangeRequestRow.id)))
    given = decisions_given(db, [r.id for r in rows])
    found = []
    for row in rows:
        owner = platform_owners(db, cache, row.base_revision_id).get(row.record["firewall"])
        wanted = [(may_approve and row.record.get("ot_approver") in (None, me.name), DecisionKind.APPROVE,
                   "OT approval"),
                  (may_sign and owner in (None, me.name), DecisionKind.SIGN_OFF, "platform sign-off")]
        for wanted_here, kind, words in wanted:
            if wanted_here and not any(a.decision == kind.value and counts(row, a) for a in given[row.id]) \
                    and me.refusal(row, kind, owner, given[row.id]) is None:
                found.append((row, words))
    return found


def waiting_for(db: Session, cache: RevisionCache, user: UserRow, site: SiteRow, roles: set[Role],
                day: dt.date) -> SiteWaiting:
    """What waits for ``user`` (holding ``roles``) at ``site`` on ``day``."""
    me = Decider(user.id, user.username)
    waiting = SiteWaiting(site, _changes(db, cache, site, me, roles))
    if allowed(roles, Action.RISK_SIGN):
        waiting.risks = list(db.scalars(select(RiskDecisionRow).where(
            RiskDecisionRow.site_id == site.id, RiskDecisionRow.signed_by.is_(None),
            RiskDecisionRow.proposed_by != user.id).order_by(RiskDecisionRow.id)))
    if site.head_revision_id is not None:
        waiting.reviews = reviews_due(cache.revision(db, site.head_revision_id), day).get(user.username, [])
    return waiting
