"""An outage's security work package, built and checked before the window opens.

Window time must never be spent deciding what to do: the package lists the qualified
patches due (those the work package names, the Scheduled decisions routed to this outage
and the acceptances that expire with it), the firewall changes that need the window and the
backups to take first, and flags everything not ready.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from plantgate.decisions.assess import VulnDecision
from plantgate.decisions.ssvc import Priority
from plantgate.errors import InputError
from plantgate.model import Treaty
from plantgate.model.governance import Role
from plantgate.model.patch import Outage


@dataclass
class OutagePlan:
    outage: Outage
    patches: dict[str, list[str]] = field(default_factory=dict)
    changes: dict[str, str] = field(default_factory=dict)
    backups: list[str] = field(default_factory=list)
    not_ready: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.outage.work_package is not None and not self.not_ready

    def to_dict(self) -> dict[str, object]:
        return {"outage": self.outage.id, "name": self.outage.name, "start": str(self.outage.start),
                "end": str(self.outage.end), "ready": self.ready,
                "patches": {k: sorted(v) for k, v in sorted(self.patches.items())},
                "firewall_changes": dict(sorted(self.changes.items())), "backups_before": self.backups,
                "not_ready": self.not_ready}


def next_outage(treaty: Treaty, as_of: dt.date) -> Outage | None:
    outages = treaty.patch_policy.outages if treaty.patch_policy else []
    upcoming = sorted((o for o in outages if o.end >= as_of), key=lambda o: o.start)
    return upcoming[0] if upcoming else None


def build_plan(treaty: Treaty, outage_id: str, decisions: list[VulnDecision], as_of: dt.date) -> OutagePlan:
    """The work package of one outage and what about it is not ready."""
    policy = treaty.patch_policy
    outage = next((o for o in policy.outages if o.id == outage_id), None) if policy else None
    if policy is None or outage is None:
        known = ", ".join(o.id for o in policy.outages) if policy else "none"
        raise InputError.at("<treaty>", 0, 0, f"unknown outage '{outage_id}'", f"an outage id ({known})")
    plan = OutagePlan(outage)
    package = outage.work_package
    if package is None:
        plan.not_ready.append("the outage has no security work package")
    qualified = {p.patch_id: p for p in policy.qualified}
    for patch_id in package.patches if package else []:
        plan.patches.setdefault(patch_id, [])
    routed_here = next_outage(treaty, as_of)
    for decision in decisions:
        if decision.qualified_patch is None:
            continue
        due_here = decision.priority is Priority.SCHEDULED and routed_here is not None and \
            routed_here.id == outage.id
        accepted_here = any(e.until_outage == outage.id and e.asset == decision.asset and decision.cve in e.cves
                            for e in (treaty.vulnerabilities.exceptions if treaty.vulnerabilities else []))
        if due_here or accepted_here:
            plan.patches.setdefault(decision.qualified_patch, []).append(decision.asset)
            if package is None or decision.qualified_patch not in package.patches:
                plan.not_ready.append(f"{decision.qualified_patch} is due for {decision.asset} ({decision.cve}) "
                                      "but not in the work package")
    for patch_id in sorted(plan.patches):
        patch = qualified.get(patch_id)
        if patch is None:
            plan.not_ready.append(f"{patch_id} is not on the vendor-qualified list")
        elif not patch.staged_in_dmz:
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
