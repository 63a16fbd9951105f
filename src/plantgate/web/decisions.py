"""Risk decisions and charter signatures: what plant leadership signs, and nobody else.

Risk decisions ("patch now", or "accept with compensating controls until OUTAGE") are kept
in their own relational table: they are proposed by engineers or the SOC and signed by a
*different* person holding plant leadership at that site. The charter is signed per treaty
revision, so a signature never silently carries over to a changed treaty.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plantgate.db import audit
from plantgate.db.cas import compare_and_swap
from plantgate.db.revisions import head
from plantgate.db.tables import CharterSignatureRow, RevisionRow, RiskDecisionRow, UserRow, utc_now
from plantgate.decisions.change_state import TransitionRefused
from plantgate.errors import InputError
from plantgate.web.security import Forbidden, SiteAccess


class RiskChoice(StrEnum):
    PATCH_NOW = "patch_now"
    ACCEPT = "accept"


def outage_ids(revision: RevisionRow | None) -> list[str]:
    policy = (revision.document.get("patch_policy") or {}) if revision else {}
    return [o["id"] for o in policy.get("outages", [])]


def propose_risk(access: SiteAccess, *, subject: str, choice: str, compensating_controls: str,
                 until_outage: str) -> RiskDecisionRow:
    """A decision awaiting leadership's signature; 'accept' needs controls and a known outage."""
    try:
        decision = RiskChoice(choice)
    except ValueError:
        raise InputError.at("decision", 0, 0, f"unknown decision {choice!r}", "patch_now or accept") from None
    if not subject.strip():
        raise InputError.at("subject", 0, 0, "a risk decision needs a subject", "the finding, CVE or asset decided")
    if decision is RiskChoice.ACCEPT:
        if not compensating_controls.strip():
            raise InputError.at("compensating_controls", 0, 0, "accepting a risk needs compensating controls",
                                "the controls that hold until the outage")
        if until_outage not in outage_ids(head(access.db, access.site)):
            raise InputError.at("until_outage", 0, 0, f"unknown outage {until_outage!r}",
                                "an outage id of the patch policy")
    row = RiskDecisionRow(site_id=access.site.id, subject=subject.strip(), decision=decision.value,
                          compensating_controls=compensating_controls.strip(),
                          until_outage=until_outage if decision is RiskChoice.ACCEPT else None,
                          proposed_by=access.principal.user.id)
    access.db.add(row)
    access.db.flush()
    audit.record(access.db, actor=access.principal.name, action="risk.propose", object_type="risk_decision",
                 object_id=row.id, site=access.site.slug,
                 after={"subject": row.subject, "decision": row.decision, "controls": row.compensating_controls,
                        "until_outage": row.until_outage})
    return row


def sign_risk(access: SiteAccess, row: RiskDecisionRow) -> None:
    """Leadership's signature: a compare-and-swap from unsigned, so of two leaders signing at once exactly one
    is stored and the other is told who signed first (a risk decision carries one accountable signature).
    Commits."""
    if row.proposed_by == access.principal.user.id:
        raise Forbidden("separation of duties: you proposed this risk decision and cannot sign it")
    if row.signed_by is None and compare_and_swap(access.db, row, {"signed_by": None},
                                                  {"signed_by": access.principal.user.id, "signed_at": utc_now()}):
        audit.record(access.db, actor=access.principal.name, action="risk.sign", object_type="risk_decision",
                     object_id=row.id, site=access.site.slug, before={"signed": False},
                     after={"signed": True, "subject": row.subject, "decision": row.decision})
        access.db.commit()
        return
    access.db.rollback()
    current = access.db.get_one(RiskDecisionRow, row.id, populate_existing=True)
    signer = access.db.get(UserRow, current.signed_by) if current.signed_by is not None else None
    raise TransitionRefused(f"this risk decision is already signed by {signer.username if signer else 'someone'}")


def risk_decisions(db: Session, site_id: int) -> list[tuple[RiskDecisionRow, UserRow, UserRow | None]]:
    rows = db.scalars(select(RiskDecisionRow).where(RiskDecisionRow.site_id == site_id)
                      .order_by(RiskDecisionRow.id.desc()))
    return [(r, db.get_one(UserRow, r.proposed_by), db.get(UserRow, r.signed_by) if r.signed_by else None)
            for r in rows]


def outage_ends(document: dict[str, Any]) -> dict[str, str]:
    """Each outage of a treaty document's patch policy by id, with its last day (ISO date)."""
    return {o["id"]: str(o["end"]) for o in (document.get("patch_policy") or {}).get("outages", [])}


def holds(until_outage: str | None, ends: dict[str, str], day: dt.date) -> bool:
    """Whether a risk accepted until ``until_outage`` still holds on ``day``: through the outage's last day, and
    only while the treaty still names that outage (an outage dropped or never known ends the acceptance)."""
    end = ends.get(until_outage or "")
    return end is not None and end >= day.isoformat()


def accepted_subjects(db: Session, site_id: int, ends: dict[str, str], day: dt.date) -> set[str]:
    """Subjects of signed 'accept' decisions at the site that still hold on ``day`` (``holds``; one query): the
    findings page marks them. Once the outage is over the risk was to be patched: the finding counts again."""
    return {subject for subject, until in db.execute(select(RiskDecisionRow.subject, RiskDecisionRow.until_outage)
                                                     .where(RiskDecisionRow.site_id == site_id,
                                                            RiskDecisionRow.decision == RiskChoice.ACCEPT.value,
                                                            RiskDecisionRow.signed_by.is_not(None)))
            if holds(until, ends, day)}


def sign_charter(access: SiteAccess, seen_revision: int | None = None) -> CharterSignatureRow:
    """Sign the charter as it stands in the head revision, once per person and revision; commits.

    ``seen_revision`` (the number the signer read) binds the signature to what they read: when the head
    moved on since, nothing is signed. The unique (revision, person) key decides between two signatures
    sent at once: the second is refused, never a server error."""
    revision = head(access.db, access.site)
    if revision is None or not revision.document.get("charter"):
        raise InputError.at("charter", 0, 0, "the treaty has no charter to sign", "a charter section")
    if seen_revision is not None and seen_revision != revision.number:
        raise TransitionRefused(f"the treaty moved on to revision {revision.number} since you read revision "
                                f"{seen_revision}; read its charter and sign again")
    refused = TransitionRefused(f"you already signed the charter of revision {revision.number}")
    existing = access.db.scalar(select(CharterSignatureRow).where(
        CharterSignatureRow.revision_id == revision.id, CharterSignatureRow.user_id == access.principal.user.id))
    if existing is not None:
        raise refused
    row = CharterSignatureRow(site_id=access.site.id, revision_id=revision.id, user_id=access.principal.user.id)
    access.db.add(row)
    try:
        access.db.flush()
    except IntegrityError:  # the same person's other request inserted it first
        access.db.rollback()
        raise refused from None
    audit.record(access.db, actor=access.principal.name, action="charter.sign", object_type="charter",
                 object_id=revision.number, site=access.site.slug,
                 after={"revision": revision.number, "revision_id": revision.id, "signature": row.id})
    access.db.commit()
    return row


def charter_signatures(db: Session, site_id: int) -> list[tuple[CharterSignatureRow, UserRow, RevisionRow]]:
    rows = db.scalars(select(CharterSignatureRow).where(CharterSignatureRow.site_id == site_id)
                      .order_by(CharterSignatureRow.id))
    return [(r, db.get_one(UserRow, r.user_id), db.get_one(RevisionRow, r.revision_id)) for r in rows]
