"""Model-only checks of zones, assets and the conduit register (no firewall needed)."""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import (
    IEC_SR_5_1,
    IEC_SR_5_2,
    NIST_CA_3,
    NIST_CM_3,
    NIST_CM_8,
    NIST_SC_7,
    REF_FIREWALL,
    REF_TABLE,
)
from plantgate.checks.registry import check, rule
from plantgate.model.governance import Role
from plantgate.model.zones import level_text

SAFETY_NO_APPROVER = rule(
    "PG-SAFETY-001", "Conduit into a safety zone without an OT approver", Severity.CRITICAL,
    (REF_FIREWALL, IEC_SR_5_2, NIST_CM_3),
    "Safety zones are reachable only as the register says, and every conduit into them names its OT approver.")
NO_APPROVER = rule(
    "PG-REGISTER-001", "Conduit into OT without an OT approver", Severity.HIGH, (REF_FIREWALL, NIST_CM_3),
    "Every rule change names the conduit, the business reason and the OT approver; OT holds a veto.")
REVIEW_OVERDUE = rule(
    "PG-REGISTER-002", "Conduit review date has passed", Severity.MEDIUM, (REF_FIREWALL, NIST_CA_3),
    "One register, kept current: a conduit past its review-by date must be re-approved or removed.")
APPROVER_ROLE = rule(
    "PG-REGISTER-003", "Conduit approver does not hold the OT approver role", Severity.HIGH,
    (REF_FIREWALL, NIST_CM_3), "The approver named on a conduit must be someone the treaty gives OT veto.")
NO_REASON = rule(
    "PG-REGISTER-004", "Conduit without a business reason", Severity.MEDIUM, (REF_FIREWALL, NIST_CA_3),
    "Every register entry says why the path exists.")
PURDUE_BYPASS = rule(
    "PG-PURDUE-001", "Conduit joins IT (levels 4-5) and OT (levels 0-3) without the DMZ", Severity.CRITICAL,
    (REF_TABLE, IEC_SR_5_1, NIST_SC_7),
    "Every session between IT and OT terminates in the industrial DMZ (level 3.5).")
ZONE_OVERLAP = rule(
    "PG-ZONE-001", "Zone networks overlap", Severity.HIGH, (IEC_SR_5_1, NIST_CM_8),
    "An address must belong to exactly one zone, or every zone-based verdict is ambiguous.")
ASSET_OUTSIDE = rule(
    "PG-ZONE-002", "Asset address outside its zone's networks", Severity.MEDIUM, (IEC_SR_5_1, NIST_CM_8),
    "An asset's addresses must lie in its zone, or the firewall sees it in another zone than the treaty.")


@check
def conduit_approvals(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    for conduit in treaty.conduits:
        zones = [treaty.zone(conduit.from_zone), treaty.zone(conduit.to_zone)]
        where = [ctx.site.locate_item("conduits", conduit.id)]
        into_safety = [z for z in zones if z and z.is_safety]
        touches_ot = [z for z in zones if z and z.is_ot]
        if conduit.ot_approver is None:
            if into_safety:
                yield SAFETY_NO_APPROVER.finding(
                    [conduit.id, into_safety[0].id],
                    f"Conduit {conduit.id} reaches safety zone {into_safety[0].id} and names no OT approver.", where)
            elif touches_ot:
                yield NO_APPROVER.finding(
                    [conduit.id], f"Conduit {conduit.id} touches OT zone {touches_ot[0].id} and names no OT approver.",
                    where)
        else:
            person = treaty.person(conduit.ot_approver)
            if person is not None and Role.OT_APPROVER not in person.roles:
                yield APPROVER_ROLE.finding(
                    [conduit.id, person.id],
                    f"{person.name} approves conduit {conduit.id} but holds roles "
                    f"{', '.join(r.value for r in person.roles)}, not ot_approver.",
                    [ctx.site.locate_item("conduits", conduit.id, "ot_approver")])
        if not conduit.business_reason.strip():
            yield NO_REASON.finding([conduit.id], f"Conduit {conduit.id} states no business reason.", where)
        if conduit.review_by and conduit.review_by < ctx.as_of:
            yield REVIEW_OVERDUE.finding(
                [conduit.id], f"Conduit {conduit.id} was due for review on {conduit.review_by} "
                f"({(ctx.as_of - conduit.review_by).days} days ago).",
                [ctx.site.locate_item("conduits", conduit.id, "review_by")], discriminator=str(conduit.review_by))


@check
def conduit_purdue(ctx: CheckContext) -> Iterator[Finding]:
    for conduit in ctx.treaty.conduits:
        a, b = ctx.treaty.zone(conduit.from_zone), ctx.treaty.zone(conduit.to_zone)
        if a is None or b is None:
            continue
        if (a.is_it and b.is_ot) or (a.is_ot and b.is_it):
            yield PURDUE_BYPASS.finding(
                [conduit.id, a.id, b.id],
                f"Conduit {conduit.id} joins {a.id} (level {level_text(a.level)}) and {b.id} "
                f"(level {level_text(b.level)}) directly; the session must terminate in the DMZ.",
                [ctx.site.locate_item("conduits", conduit.id)])


@check
def zone_overlaps(ctx: CheckContext) -> Iterator[Finding]:
    zones = ctx.treaty.zones
    for i, first in enumerate(zones):
        for second in zones[i + 1:]:
            for net_a in first.ip_networks():
                for net_b in second.ip_networks():
                    if net_a.version == net_b.version and net_a.overlaps(net_b):  # type: ignore[arg-type]
                        yield ZONE_OVERLAP.finding(
                            [first.id, second.id],
                            f"Zone {first.id} ({net_a}) overlaps zone {second.id} ({net_b}).",
                            [ctx.site.locate_item("zones", first.id, "networks"),
                             ctx.site.locate_item("zones", second.id, "networks")],
                            discriminator=f"{net_a}|{net_b}")


@check
def assets_in_zone(ctx: CheckContext) -> Iterator[Finding]:
    for asset in ctx.treaty.assets:
        zone = ctx.treaty.zone(asset.zone)
        if zone is None or not zone.networks:
            continue
        nets = zone.ip_networks()
        for index, address in enumerate(asset.ip_addresses()):
            if not any(address in n for n in nets if n.version == address.version):
                yield ASSET_OUTSIDE.finding(
                    [asset.id, zone.id],
                    f"{asset.name} ({asset.id}) has address {address}, outside zone {zone.id} "
                    f"({', '.join(zone.networks)}).",
                    [ctx.site.locate_item("assets", asset.id, "addresses", index)], discriminator=str(address))


