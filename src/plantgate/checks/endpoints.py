"""Endpoint management, converged carefully: qualified agents, alert-and-log on HMIs, DMZ console.

An agent the control-system vendor has not qualified, or one that quarantines a file on an
operator console, can blind the operators of a running unit. So every agent on an OT asset
is held to the vendor's qualified list for that product and version, HMIs and engineering
workstations alert and log only, enterprise auto-remediation stays out, and the console
that manages OT agents sits in the DMZ.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_3_4, IEC_SR_5_1, NIST_CM_8, NIST_SI_2, REF_SERVICES, REF_TABLE
from plantgate.checks.registry import check, rule
from plantgate.checks.shared_services import in_ot
from plantgate.model.assets import Agent, AgentMode, Asset, AssetRole
from plantgate.model.endpoints import QualifiedAgentList
from plantgate.model.services import SharedServiceKind

NOT_QUALIFIED = rule(
    "PG-ENDPOINT-001", "Agent on an OT asset is not on the vendor's qualified list", Severity.HIGH,
    (REF_TABLE, IEC_SR_3_4, NIST_CM_8),
    "Only agents the control-system vendor has qualified for the product and version run on OT hosts.")
NOT_ALERT_AND_LOG = rule(
    "PG-ENDPOINT-002", "HMI or engineering workstation protection not in alert-and-log mode", Severity.HIGH,
    (REF_SERVICES, IEC_SR_3_4),
    "On operator consoles a false positive must raise an alert, never quarantine or block what the operator "
    "needs to run the unit.")
AUTO_REMEDIATION = rule(
    "PG-ENDPOINT-003", "Enterprise auto-remediation agent on an OT asset", Severity.HIGH,
    (REF_TABLE, IEC_SR_3_4, NIST_SI_2), "Enterprise auto-remediation stays out of OT.")
CONSOLE_OUTSIDE_DMZ = rule(
    "PG-ENDPOINT-004", "Endpoint console for OT agents does not sit in the DMZ", Severity.HIGH,
    (REF_SERVICES, IEC_SR_5_1), "OT agents are managed from a console in the industrial DMZ.")

_CONSOLE_ROLES = {AssetRole.HMI, AssetRole.ENGINEERING_WORKSTATION}
_FORBIDDEN_MODES = {AgentMode.AUTO_QUARANTINE, AgentMode.BLOCK, AgentMode.AUTO_REMEDIATE}


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _version_in(version: str, allowed: list[str]) -> bool:
    return not allowed or any(_same(version, v) for v in allowed)


def qualified_lists(ctx: CheckContext, asset: Asset) -> list[QualifiedAgentList]:
    """The vendor lists that apply to this asset's control-system product and version."""
    policy = ctx.treaty.endpoint_policy
    if policy is None or not asset.vendor or not asset.product:
        return []
    return [q for q in policy.qualified_agents if _same(q.system_vendor, asset.vendor)
            and _same(q.system_product, asset.product) and _version_in(asset.version, q.system_versions)]


def _is_qualified(agent: Agent, lists: list[QualifiedAgentList]) -> bool:
    return any(_same(q.vendor, agent.vendor) and _same(q.product, agent.product)
               and _version_in(agent.version, q.versions) for entry in lists for q in entry.agents)


def _label(agent: Agent) -> str:
    product = " ".join(p for p in (agent.vendor, agent.product, agent.version) if p)
    return f"{agent.name} ({product})" if product else agent.name


@check
def agents_qualified(ctx: CheckContext) -> Iterator[Finding]:
    for asset in ctx.treaty.assets:
        if not asset.agents or not in_ot(ctx.treaty, asset):
            continue
        lists = qualified_lists(ctx, asset)
        system = " ".join(p for p in (asset.vendor, asset.product, asset.version) if p) or "an unnamed product"
        for index, agent in enumerate(asset.agents):
            if _is_qualified(agent, lists):
                continue
            if lists:
                reason = f"is not on the qualified list for {system}"
            else:
                reason = f"cannot be shown qualified: the treaty holds no vendor-qualified list for {system}"
            yield NOT_QUALIFIED.finding(
                [asset.id, agent.name], f"Agent {_label(agent)} on {asset.name} ({asset.id}) {reason}.",
                [ctx.site.locate_item("assets", asset.id, "agents", index)], discriminator=agent.name)


@check
def consoles_alert_and_log(ctx: CheckContext) -> Iterator[Finding]:
    for asset in ctx.treaty.assets:
        if asset.role not in _CONSOLE_ROLES:
            continue
        for index, agent in enumerate(asset.agents):
            where = [ctx.site.locate_item("assets", asset.id, "agents", index)]
            if agent.mode in _FORBIDDEN_MODES:
                assert agent.mode is not None
                yield NOT_ALERT_AND_LOG.finding(
                    [asset.id, agent.name], f"{_label(agent)} on {asset.role.value} {asset.name} ({asset.id}) runs "
                    f"in {agent.mode.value} mode; on HMIs and engineering workstations it must alert and log only.",
                    where, discriminator=agent.name)
            elif agent.mode is None:
                yield NOT_ALERT_AND_LOG.finding(
                    [asset.id, agent.name], f"{_label(agent)} on {asset.role.value} {asset.name} ({asset.id}) "
                    "states no mode, so alert-and-log cannot be shown.", where, severity=Severity.LOW,
                    discriminator=agent.name)


@check
def no_enterprise_remediation(ctx: CheckContext) -> Iterator[Finding]:
    policy = ctx.treaty.endpoint_policy
    forbidden = [p.lower() for p in policy.enterprise_remediation_products] if policy else []
    for asset in ctx.treaty.assets:
        if not in_ot(ctx.treaty, asset):
            continue
        for index, agent in enumerate(asset.agents):
            names = f"{agent.name} {agent.vendor} {agent.product}".lower()
            listed = next((p for p in forbidden if p and p in names), None)
            if agent.mode is not AgentMode.AUTO_REMEDIATE and listed is None:
                continue
            why = f"is the enterprise remediation product '{listed}'" if listed else "runs in auto-remediate mode"
            yield AUTO_REMEDIATION.finding(
                [asset.id, agent.name], f"{_label(agent)} on OT asset {asset.name} ({asset.id}) {why}.",
                [ctx.site.locate_item("assets", asset.id, "agents", index)], discriminator=agent.name)


@check
def console_in_dmz(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    consoles: dict[str, tuple[str | int, ...]] = {}
    if treaty.endpoint_policy:
        for i, console_id in enumerate(treaty.endpoint_policy.consoles):
            consoles.setdefault(console_id, ("endpoint_policy", "consoles", i))
    services = treaty.shared_services.services if treaty.shared_services else {}
    protection = services.get(SharedServiceKind.ENDPOINT_PROTECTION)
    for i, provider in enumerate(protection.providers if protection else []):
        consoles.setdefault(provider, ("shared_services", "services", "endpoint_protection", "providers", i))
    for asset in treaty.assets:
        if not in_ot(treaty, asset):
            continue
        for j, agent in enumerate(asset.agents):
            if agent.managed_from:
                consoles.setdefault(agent.managed_from,
                                    ("assets", treaty.assets.index(asset), "agents", j, "managed_from"))
    for console_id, path in consoles.items():
        found = treaty.asset(console_id)
        zone = treaty.zone(found.zone) if found else None
        if found is None or zone is None or zone.is_dmz:
            continue
        console = found
        severity = Severity.CRITICAL if zone.is_it else Severity.HIGH
        yield CONSOLE_OUTSIDE_DMZ.finding(
            [console.id], f"Endpoint console {console.name} ({console.id}) sits in {zone.id} "
            f"(level {zone.level:g}), not in the DMZ" + (": an enterprise console reaches into OT." if zone.is_it
                                                          else "."), [ctx.site.locate(*path)], severity=severity)
