"""Findings accepted for a while: who accepted which finding, why, and until when.

An accepted finding stays on every list, marked; it stops counting toward what needs action
only while its acceptance is in force. Acceptances lapse on their own: every reader compares
the expiry with today, so no scheduler is needed and an expired acceptance re-opens the
finding the next morning. Accepting again after an expiry or a revocation is a new decision.

Accepting a finding is accepting risk on the plant's behalf, which the treaty gives to the
plant side: the OT approver (who holds the veto over OT zones and owns their side of the
register) or plant leadership; a finding of the patch policy (PG-VULN, PG-PATCH) only plant
leadership, who "signs the risk either way". The IT engineer who would fix the finding does
not accept it.

Each acceptance and revocation is a compare-and-swap on the finding's one row (an insert that
the unique (site, fingerprint) key decides, or a swap on ``version``) in one transaction with
its audit entry, so of two people accepting the same finding at once exactly one succeeds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from plantgate.db import audit
from plantgate.db.accounts import Role
from plantgate.db.cas import compare_and_swap
from plantgate.db.tables import FindingAcceptanceRow, UserRow, utc_now
from plantgate.decisions.change_state import TransitionRefused
from plantgate.errors import InputError, Location, ProblemCollector
from plantgate.web.security import Forbidden, SiteAccess

ACCEPTED, REVOKED, EXPIRED = "accepted", "revoked", "expired"
MAX_DAYS = 365
"""The furthest an acceptance may reach: a year, then someone decides again."""
MAX_REASON_CHARS = 2000
LEADERSHIP_ONLY = ("PG-VULN-", "PG-PATCH-")
"""Rule families whose findings only plant leadership accepts (the patch policy's risk decisions)."""


@dataclass(frozen=True)
class Acceptance:
    """The current decision on one finding at a site, as people read it."""

    fingerprint: str
    state: str
    reason: str
    expires_on: dt.date
    accepted_by: str
    accepted_at: dt.datetime
    revoked_by: str | None

    def in_force(self, today: dt.date) -> bool:
        return self.state == ACCEPTED and today <= self.expires_on

    def status(self, today: dt.date) -> str:
        """accepted (in force), expired (the finding is open again) or revoked."""
        if self.state == ACCEPTED:
            return ACCEPTED if today <= self.expires_on else EXPIRED
        return REVOKED


def acceptances(db: Session, site_id: int) -> dict[str, Acceptance]:
    """Every finding acceptance of a site, in force or not, by fingerprint (one query)."""
    accepter, revoker = aliased(UserRow), aliased(UserRow)
    rows = db.execute(select(FindingAcceptanceRow, accepter.username, revoker.username)
                      .join(accepter, accepter.id == FindingAcceptanceRow.accepted_by)
                      .outerjoin(revoker, revoker.id == FindingAcceptanceRow.revoked_by)
                      .where(FindingAcceptanceRow.site_id == site_id))
    return {row.fingerprint: Acceptance(row.fingerprint, row.state, row.reason, row.expires_on, accepted_by,
                                        row.accepted_at, revoked_by)
            for row, accepted_by, revoked_by in rows}


def in_force(found: dict[str, Acceptance], today: dt.date) -> frozenset[str]:
    """The fingerprints whose acceptance holds today."""
    return frozenset(f for f, a in found.items() if a.in_force(today))


def may_accept(access: SiteAccess, rule_id: str) -> bool:
    """Whether this person may accept a finding of ``rule_id`` (the route has checked the action already)."""
    if rule_id.startswith(LEADERSHIP_ONLY):
        return Role.PLANT_LEADERSHIP in access.roles
    return bool(access.roles & {Role.OT_APPROVER, Role.PLANT_LEADERSHIP})


def _validated(reason: str, expires_on: str, today: dt.date) -> tuple[str, dt.date]:
    """The reason and expiry of an acceptance, or every problem with them at once."""
    problems = ProblemCollector()
    reason = reason.strip()
    if not reason:
        problems.add(Location("reason"), "an acceptance needs a reason", expected="why the plant lives with this "
                     "finding for now, and what holds meanwhile")
    elif len(reason) > MAX_REASON_CHARS:
        problems.add(Location("reason"), f"the reason is {len(reason)} characters long",
                     expected=f"at most {MAX_REASON_CHARS}")
    latest = today + dt.timedelta(days=MAX_DAYS)
    expected = f"a date (YYYY-MM-DD) after {today.isoformat()} and no later than {latest.isoformat()}"
    expires = today
    try:
        expires = dt.date.fromisoformat(expires_on.strip())
    except ValueError:
        problems.add(Location("expires_on"), f"{expires_on.strip()!r} is not a date" if expires_on.strip()
                     else "an acceptance needs an expiry date", expected=expected)
    else:
        if expires <= today:
            problems.add(Location("expires_on"), f"{expires.isoformat()} is not in the future", expected=expected)
        elif expires > latest:
            problems.add(Location("expires_on"), f"{expires.isoformat()} is more than {MAX_DAYS} days away",
                         expected=expected)
    problems.raise_if_any()
    return reason, expires


def _refused(db: Session, site_id: int, fingerprint: str) -> TransitionRefused:
    """Why a lost accept was refused: who holds the finding's acceptance now."""
    db.rollback()
    current = acceptances(db, site_id).get(fingerprint)
    if current is None or current.state != ACCEPTED:
        return TransitionRefused("the acceptance of this finding changed while you decided; reload it")
    return TransitionRefused(f"this finding is already accepted by {current.accepted_by} until "
                             f"{current.expires_on.isoformat()}")


def accept(access: SiteAccess, finding: dict[str, Any], reason: str, expires_on: str, today: dt.date) -> None:
    """Accept ``finding`` (as listed in the head's check run) until ``expires_on``; commits.

    Refused while another acceptance of it is in force; an expired or revoked one is replaced."""
    fingerprint, rule_id = finding["fingerprint"], finding["rule_id"]
    if not may_accept(access, rule_id):
        raise Forbidden(f"only plant leadership accepts a finding of the patch policy ({rule_id})")
    reason, expires = _validated(reason, expires_on, today)
    db, me = access.db, access.principal
    site_id, slug = access.site.id, access.site.slug  # read before a failed insert expires the site row
    values = {"rule_id": rule_id, "title": str(finding.get("title", ""))[:500], "state": ACCEPTED, "reason": reason,
              "expires_on": expires, "accepted_by": me.user.id, "accepted_at": utc_now(), "revoked_by": None,
              "revoked_at": None}
    row = db.scalar(select(FindingAcceptanceRow).where(FindingAcceptanceRow.site_id == site_id,
                                                       FindingAcceptanceRow.fingerprint == fingerprint))
    before: dict[str, Any] | None = None
    if row is None:
        row = FindingAcceptanceRow(site_id=site_id, fingerprint=fingerprint, **values)
        db.add(row)
        try:
            db.flush()
        except IntegrityError:  # someone else's acceptance of it was inserted first
            raise _refused(db, site_id, fingerprint) from None
    else:
        if row.state == ACCEPTED and today <= row.expires_on:
            raise _refused(db, site_id, fingerprint)
        before = {"state": EXPIRED if row.state == ACCEPTED else row.state, "expires_on": row.expires_on.isoformat()}
        if not compare_and_swap(db, row, {"state": row.state, "expires_on": row.expires_on}, values):
            raise _refused(db, site_id, fingerprint)
    audit.record(db, actor=me.name, action="finding.accept", object_type="finding_acceptance", object_id=row.id,
                 site=slug, before=before,
                 after={"fingerprint": fingerprint, "rule_id": rule_id, "state": ACCEPTED,
                        "expires_on": expires.isoformat()}, reason=reason)
    db.commit()


def revoke(access: SiteAccess, fingerprint: str, reason: str) -> None:
    """End an acceptance before its expiry (the finding needs action again at once); commits."""
    db, site = access.db, access.site
    row = db.scalar(select(FindingAcceptanceRow).where(FindingAcceptanceRow.site_id == site.id,
                                                       FindingAcceptanceRow.fingerprint == fingerprint))
    if row is None or row.state != ACCEPTED:
        raise TransitionRefused("this finding has no acceptance to revoke")
    if not may_accept(access, row.rule_id):
        raise Forbidden(f"only plant leadership revokes the acceptance of a finding of the patch policy "
                        f"({row.rule_id})")
    if len(reason.strip()) > MAX_REASON_CHARS:
        raise InputError.at("reason", 0, 0, f"the reason is {len(reason.strip())} characters long",
                            f"at most {MAX_REASON_CHARS}")
    expires = row.expires_on
    if not compare_and_swap(db, row, {"state": ACCEPTED, "expires_on": expires},
                            {"state": REVOKED, "revoked_by": access.principal.user.id, "revoked_at": utc_now()}):
        db.rollback()
        raise TransitionRefused("the acceptance of this finding changed while you decided; reload it")
    audit.record(db, actor=access.principal.name, action="finding.revoke", object_type="finding_acceptance",
                 object_id=row.id, site=site.slug, before={"state": ACCEPTED, "expires_on": expires.isoformat()},
                 after={"fingerprint": fingerprint, "rule_id": row.rule_id, "state": REVOKED},
                 reason=reason.strip())
    db.commit()
