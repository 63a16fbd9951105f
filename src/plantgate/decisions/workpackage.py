"""An outage's security work package, built and checked before the window opens.

Window time must never be spent deciding what to do: the package lists the qualified
patches due (those the work package names, the Scheduled decisions routed to this outage
and the acceptances that expire with it), the firewall changes that need the window and the
backups to take first, and flags everything not ready. An acceptance that lasts until this
outage with no vendor-qualified patch to fix it expires at the outage's end with the hole
still open: that is not ready either, and the plan lists every such acceptance. An outage
that is already over says so; what expired with it and is still open needs a new decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from plantgate.decisions.assess import VulnDecision
from plantgate.decisions.exceptions import exception_status
from plantgate.decisions.ssvc import Priority
from plantgate.errors import InputError
from plantgate.model import Treaty
from plantgate.model.governance import Role
from plantgate.model.patch import Outage
from plantgate.model.vulns import ExceptionAction, RiskException


@dataclass(frozen=True)
class ExpiringAcceptance:
    """A risk acceptance that ends with this outage, and what the window does about it."""

    exception: str
    asset: str
    cve: str
    signature: str
    patch: str | None
    in_package: bool

    @property
    def planned(self) -> bool:
        return self.patch is not None and self.in_package

    def to_dict(self) -> dict[str, object]:
        return {"exception": self.exception, "asset": self.asset, "cve": self.cve, "signature": self.signature,
                "patch": self.patch, "planned": self.planned}


@dataclass
class OutagePlan:
    outage: Outage
    as_of: dt.date
    patches: dict[str, list[str]] = field(default_factory=dict)
    changes: dict[str, str] = field(default_factory=dict)
    backups: list[str] = field(default_factory=list)
    not_ready: list[str] = field(default_factory=list)
    acceptances: list[ExpiringAcceptance] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return self.outage.end < self.as_of

    @property
    def ready(self) -> bool:
        return not self.over and self.outage.work_package is not None and not self.not_ready

    @property
    def open_after_outage(self) -> list[ExpiringAcceptance]:
        """Acceptances that ended with a past outage while their vulnerability is still open."""
        return list(self.acceptances) if self.over else []

    @property
    def state(self) -> str:
        if self.over:
            return "over"
        return "ready" if self.ready else "not_ready"

    def to_dict(self) -> dict[str, object]:
        return {"outage": self.outage.id, "name": self.outage.name, "start": str(self.outage.start),
                "end": str(self.outage.end), "as_of": str(self.as_of), "state": self.state, "ready": self.ready,
                "over": self.over, "patches": {k: sorted(v) for k, v in sorted(self.patches.items())},
                "firewall_changes": dict(sorted(self.changes.items())), "backups_before": self.backups,
                "acceptances_expiring": [a.to_dict() for a in self.acceptances], "not_ready": self.not_ready}


def next_outage(treaty: Treaty, as_of: dt.date) -> Outage | None:
    outages = treaty.patch_policy.outages if treaty.patch_policy else []
    upcoming = sorted((o for o in outages if o.end >= as_of), key=lambda o: o.start)
    return upcoming[0] if upcoming else None


def _acceptances(treaty: Treaty, outage_id: str, decision: VulnDecision) -> list[RiskException]:
    governance = treaty.vulnerabilities
    return [e for e in (governance.exceptions if governance else [])
            if e.action is ExceptionAction.ACCEPT_UNTIL_OUTAGE and e.until_outage == outage_id
            and e.asset == decision.asset and decision.cve in e.cves]


def build_plan(treaty: Treaty, outage_id: str, decisions: list[VulnDecision], as_of: dt.date) -> OutagePlan:
    """The work package of one outage and what about it is not ready."""
    policy = treaty.patch_policy
    outage = next((o for o in policy.outages if o.id == outage_id), None) if policy else None
    if policy is None or outage is None:
        known = ", ".join(o.id for o in policy.outages) if policy else "none"
        raise InputError.at("<treaty>", 0, 0, f"unknown outage '{outage_id}'", f"an outage id ({known})")
    plan = OutagePlan(outage, as_of)
    package = outage.work_package
    if package is None:
        plan.not_ready.append("the outage has no security work package")
    qualified = {p.patch_id: p for p in policy.qualified}
    for patch_id in package.patches if package else []:
        plan.patches.setdefault(patch_id, [])
    routed_here = next_outage(treaty, as_of)
    missing: dict[tuple[str, str], list[str]] = {}
    for decision in decisions:
        acceptances = _acceptances(treaty, outage.id, decision)
        patch = decision.qualified_patch
        in_package = package is not None and patch is not None and patch in package.patches
        for exception in acceptances:
            plan.acceptances.append(ExpiringAcceptance(
                exception.id, decision.asset, decision.cve, exception_status(treaty, exception, as_of).state.value,
                patch, in_package))
        due_here = decision.priority is Priority.SCHEDULED and routed_here is not None and routed_here.id == outage.id
        if patch is None or not (due_here or acceptances):
            continue
        assets = plan.patches.setdefault(patch, [])
        if decision.asset not in assets:
            assets.append(decision.asset)
        if not in_package:
            missing.setdefault((patch, decision.asset), []).append(decision.cve)
    for (patch_id, asset_id), cves in missing.items():
        plan.not_ready.append(f"{patch_id} is due for {asset_id} ({', '.join(sorted(set(cves)))}) but not in the "
                              "work package")
    for acceptance in plan.acceptances:
        if acceptance.patch is None:
            plan.not_ready.append(
                f"{acceptance.exception} accepts {acceptance.cve} on {acceptance.asset} until this outage ends "
                f"({outage.end}), and no vendor-qualified patch fixes it: nothing is planned, so the acceptance "
                "expires with the vulnerability open")
    for patch_id in sorted(plan.patches):
        listed = qualified.get(patch_id)
        if listed is None:
            plan.not_ready.append(f"{patch_id} is not on the vendor-qualified list")
        elif not listed.staged_in_dmz:
            plan.not_ready.append(f"{patch_id} is not staged on the DMZ staging server")
    approvals = {a.change: a for a in package.change_approvals} if package else {}
    for change in package.firewall_changes if package else []:
        approval = approvals.get(change)
        approver = treaty.person(approval.approved_by) if approval else None
        if approval is None:
            plan.changes[change] = "not approved"
            plan.not_ready.append(f"firewall change {change} is not approved by OT")
        elif approver is None or Role.OT_APPROVER not in approver.roles:
            plan.changes[change] = f"approved by {approval.approved_by} (not an OT approver)"
            plan.not_ready.append(f"firewall change {change} is approved by {approval.approved_by}, "
                                  "who is not an OT approver")
        else:
            plan.changes[change] = f"approved by {approval.approved_by} on {approval.approved_on}"
    plan.backups = list(package.backups_before) if package else []
    patched = sorted({a for assets in plan.patches.values() for a in assets})
    for asset_id in patched:
        if asset_id not in plan.backups:
            plan.not_ready.append(f"{asset_id} is patched in the window but not in backups_before")
    return plan
