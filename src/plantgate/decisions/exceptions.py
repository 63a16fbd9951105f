"""Signed risk decisions: who may sign, when an acceptance expires, which controls it rests on.

The reference text's rule is that plant leadership signs the risk either way: patch now in
an emergency window, or accept documented compensating controls until the outage. An
acceptance expires when its outage window closes; after that the finding fails again. Only
a valid exception counts as signed: unsigned, signed by someone without the role, or signed
on a day after the one the run is judged at, it silences nothing and is never exported.
Conduit tightening is not a promise here: it is a register or firewall change, so the
exposure the decision uses is already recomputed from the tightened conduit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from plantgate.model import Treaty
from plantgate.model.governance import Role
from plantgate.model.vulns import ControlKind, ExceptionAction, RiskException


class ExceptionState(StrEnum):
    VALID = "valid"
    UNSIGNED = "unsigned"
    WRONG_SIGNER = "wrong_signer"
    SIGNED_LATER = "signed_after_as_of"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ExceptionStatus:
    state: ExceptionState
    expires_on: dt.date | None
    detail: str

    @property
    def valid(self) -> bool:
        """Only a valid exception counts as signed: every other state silences nothing."""
        return self.state is ExceptionState.VALID


def leadership_role(treaty: Treaty) -> str:
    policy = treaty.patch_policy
    return policy.exceptions.signer_role if policy else Role.PLANT_LEADERSHIP.value


def exceptions_for(treaty: Treaty, asset_id: str, cve: str) -> list[RiskException]:
    governance = treaty.vulnerabilities
    if governance is None:
        return []
    return [e for e in governance.exceptions if e.asset == asset_id and cve in e.cves]


def expiry_of(treaty: Treaty, exception: RiskException) -> dt.date | None:
    """Acceptances expire at the end of their outage; emergency decisions at their window."""
    if exception.action is ExceptionAction.EMERGENCY_PATCH:
        return exception.emergency_window
    outages = treaty.patch_policy.outages if treaty.patch_policy else []
    outage = next((o for o in outages if o.id == exception.until_outage), None)
    return outage.end if outage else None


def exception_status(treaty: Treaty, exception: RiskException, as_of: dt.date) -> ExceptionStatus:
    expires = expiry_of(treaty, exception)
    if exception.signed_by is None:
        return ExceptionStatus(ExceptionState.UNSIGNED, expires, f"exception {exception.id} is not signed")
    role = leadership_role(treaty)
    signer = treaty.person(exception.signed_by)
    if signer is None or role not in {r.value for r in signer.roles}:
        roles = ", ".join(r.value for r in signer.roles) if signer else "unknown person"
        return ExceptionStatus(ExceptionState.WRONG_SIGNER, expires,
                               f"exception {exception.id} is signed by {exception.signed_by} ({roles}), "
                               f"who does not hold the {role} role")
    if exception.signed_on is not None and exception.signed_on > as_of:
        return ExceptionStatus(ExceptionState.SIGNED_LATER, expires,
                               f"exception {exception.id} carries a signature dated {exception.signed_on}, after "
                               f"{as_of}, the day judged: not yet signed")
    if expires is not None and as_of > expires:
        return ExceptionStatus(ExceptionState.EXPIRED, expires, f"exception {exception.id} expired on {expires}")
    return ExceptionStatus(ExceptionState.VALID, expires, f"exception {exception.id} signed by "
                           f"{exception.signed_by} on {exception.signed_on}, valid until {expires}")


def missing_parts(exception: RiskException, needs_escalation: bool) -> list[str]:
    """What an exception must still say for the decision it covers."""
    missing = []
    if needs_escalation and not exception.escalation:
        missing.append("the escalation path (an Immediate decision names who decides at 2 a.m.)")
    for control in exception.controls:
        if control.kind is ControlKind.CONDUIT_TIGHTENING and not control.conduits:
            missing.append("the conduits a conduit-tightening control changed")
        if control.kind is ControlKind.VIRTUAL_PATCH and control.firewall is None:
            missing.append("the firewall that enforces the virtual patch")
    return missing
