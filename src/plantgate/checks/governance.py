"""Firewall RACI and the joint 2 a.m. decision: the charter-level half of "who owns the firewall".

The reference text splits the boundary firewall: IT owns the platform, policy is owned
jointly and OT holds a veto on every change into OT zones. PG-ESCALATION-001 (charter.py)
asks whether anyone is named; this module asks whether the RACI gives every boundary
firewall an IT platform owner and a joint policy with an OT veto, and whether the people
who decide whether the plant keeps running come from both sides.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import NIST_CM_3, NIST_PM_9, REF_FIREWALL, REF_WRITE_DOWN
from plantgate.checks.registry import check, rule
from plantgate.model.governance import Person, RaciEntry, Role

NO_PLATFORM_OWNER = rule(
    "PG-RACI-001", "Boundary firewall without an IT platform owner in the RACI", Severity.HIGH,
    (REF_FIREWALL, NIST_CM_3),
    "IT owns the firewall platform: a named platform owner, accountable or responsible for it in the RACI.")
NO_JOINT_POLICY = rule(
    "PG-RACI-002", "Firewall policy not jointly owned with an OT veto", Severity.HIGH, (REF_FIREWALL, NIST_CM_3),
    "Policy is owned jointly by IT and OT, and OT holds a veto on every rule change into OT zones.")
NOT_JOINT_DECISION = rule(
    "PG-ESCALATION-002", "Escalation path does not decide jointly (IT and OT)", Severity.MEDIUM,
    (REF_WRITE_DOWN, NIST_PM_9),
    "Who decides, together, whether the plant keeps running: deciders from operations and from IT.")

IT_ROLES = {Role.PLATFORM_OWNER, Role.IT_ENGINEER, Role.SOC_ANALYST}
OT_ROLES = {Role.OT_APPROVER, Role.OPERATIONS, Role.CONTROL_ROOM, Role.PLANT_LEADERSHIP}


def _people(ctx: CheckContext, ids: list[str]) -> list[Person]:
    return [p for p in (ctx.treaty.person(i) for i in ids) if p is not None]


def _has(people: list[Person], roles: set[Role]) -> bool:
    return any(roles & set(p.roles) for p in people)


@check
def firewall_raci(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    for fw in treaty.firewalls:
        entries: list[RaciEntry] = [e for e in treaty.raci if not e.firewalls or fw.id in e.firewalls]
        where = [ctx.site.locate_item("firewalls", fw.id)]
        owner = treaty.person(fw.platform_owner) if fw.platform_owner else None
        in_raci = owner is not None and any(owner.id in e.accountable + e.responsible for e in entries)
        if owner is None or Role.PLATFORM_OWNER not in owner.roles or not in_raci:
            if owner is None:
                why = "names no platform owner"
            elif Role.PLATFORM_OWNER not in owner.roles:
                why = f"names {owner.name} as platform owner, who does not hold the platform_owner role"
            else:
                why = f"names {owner.name} as platform owner, but no RACI entry makes them accountable or responsible"
            yield NO_PLATFORM_OWNER.finding([fw.id], f"Boundary firewall {fw.id} {why}.", where)
        owners = _people(ctx, fw.policy_owners)
        vetoes = [e for e in entries if _has(_people(ctx, e.veto), {Role.OT_APPROVER})]
        problems = []
        if not (_has(owners, IT_ROLES) and _has(owners, {Role.OT_APPROVER, Role.OPERATIONS})):
            problems.append("its policy owners are not both IT and OT")
        if not vetoes:
            problems.append("no RACI entry for it gives an OT approver a veto")
        if problems:
            yield NO_JOINT_POLICY.finding([fw.id], f"Boundary firewall {fw.id}: {' and '.join(problems)}.", where)


@check
def escalation_joint(ctx: CheckContext) -> Iterator[Finding]:
    path = ctx.treaty.escalation
    if path is None:
        return  # PG-ESCALATION-001 already reports a missing path
    deciders = _people(ctx, [s.person for s in path.steps if s.decides and s.person])
    if not deciders:
        return  # PG-ESCALATION-001 reports that nobody decides
    missing = [side for side, roles in (("operations/OT", OT_ROLES), ("IT", IT_ROLES)) if not _has(deciders, roles)]
    if missing:
        yield NOT_JOINT_DECISION.finding(
            ["escalation"], f"The people who decide '{path.question}' ({', '.join(p.name for p in deciders)}) "
            f"include nobody from {' or '.join(missing)}; the decision is taken together.",
            [ctx.site.locate("escalation")])
