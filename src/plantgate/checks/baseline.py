"""The corporate baseline, checked in each plant: every violation is a finding of that plant.

The baseline's rules speak in Purdue levels and zone kinds; here they meet one plant's zones,
assets and firewalls. A rule is violated when a boundary firewall of the plant permits a
session from a zone its ``from`` selects into a zone its ``to`` selects, on its services,
to a destination it does not exempt. The finding carries the witness packet, the firewall
rules that permit it, and the baseline rule's own file:line.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext, permitter_evidence
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_5_1, NIST_SC_7
from plantgate.checks.registry import check, rule
from plantgate.firewalls.ruleset import AddressSet
from plantgate.model.baseline import BaselineRule
from plantgate.model.networks import cidr, cidrs
from plantgate.netspace import FlowSet, PacketSpace
from plantgate.reconcile.conduits import services_of

VIOLATION = rule(
    "PG-BASELINE-001", "A firewall permits what the corporate baseline forbids", Severity.HIGH,
    (IEC_SR_5_1, NIST_SC_7),
    "The corporate baseline holds every plant; a site treaty cannot relax it. Close the path or change the "
    "baseline through its own review.")


def rule_flows(ctx: CheckContext, item: BaselineRule) -> FlowSet:
    """The flows a baseline rule forbids, before zones: its services, minus its exempt destinations."""
    space: PacketSpace = ctx.space
    services = space.empty()
    for service in item.services:
        for flows in services_of(service):
            services = services | space.service(flows)
    forbidden = services if item.services else space.universe()
    exempt = [n for n in (cidr(text) for text in item.except_to_networks) if n is not None]
    roles = set(item.except_to_roles)
    for asset in ctx.treaty.assets:
        if asset.role in roles:
            exempt.extend(cidrs(asset.addresses))
    if exempt:
        forbidden = forbidden - space.addresses("dst", AddressSet(tuple(exempt)))
    return forbidden


@check
def corporate_baseline(ctx: CheckContext) -> Iterator[Finding]:
    loaded = ctx.baseline
    if loaded is None:
        return
    info = loaded.baseline.baseline
    for index, item in enumerate(loaded.baseline.rules):
        forbidden: FlowSet | None = None
        for fw in ctx.firewalls:
            for a_id, b_id in fw.treaty_pairs():
                a, b = ctx.treaty.zone(a_id), ctx.treaty.zone(b_id)
                if a is None or b is None or not item.from_zones.matches(a) or not item.to_zones.matches(b):
                    continue
                forbidden = forbidden if forbidden is not None else rule_flows(ctx, item)
                violating = fw.permitted(a_id, b_id) & forbidden
                witness = violating.witness()
                if witness is None:
                    continue
                locations, names = permitter_evidence(fw.permitters(a_id, b_id, violating))
                yield VIOLATION.finding(
                    [item.id, fw.entry.id, a_id, b_id],
                    f"Baseline {info.name} {info.version} rule {item.id} ({item.title}): {fw.entry.id} permits "
                    f"sessions from {a_id} (level {a.level:g}, {a.kind.value}) into {b_id} (level {b.level:g}, "
                    f"{b.kind.value}), e.g. {witness}, via {', '.join(names) or 'the default action'}.",
                    [loaded.rule_location(index), *locations], severity=Severity(item.severity.value),
                    witness=witness.to_dict(), discriminator=f"{item.id}:{a_id}>{b_id}",
                    details={"baseline": info.name, "baseline_version": info.version, "rule": item.id,
                             "firewall": fw.entry.id, "flows": violating.count()})
