"""Register reconciliation: what each boundary firewall really permits against the conduit register.

For every pair of treaty zones a firewall joins, the exact permitted set is compared with
the union of registered conduits: the difference is unregistered exposure, each conduit's
missing part is an implementation gap, and each permit rule is held to the conduits it
implements. Every finding carries the rule lines and a concrete witness packet.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext, permitter_evidence, rule_location, translation_evidence
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_5_1, IEC_SR_5_2, NIST_AC_4, NIST_CM_3, NIST_SC_7, REF_FIREWALL
from plantgate.checks.registry import check, rule
from plantgate.errors import Location
from plantgate.model.zones import Zone
from plantgate.netspace import analyse_filter
from plantgate.onboard.zone_map import placements
from plantgate.reconcile import BoundaryFirewall
from plantgate.reconcile.coverage import CoverageItem, CoverageLevel, GapKind

UNREGISTERED = rule(
    "PG-FW-001", "Unregistered exposure: the firewall permits flows no conduit covers", Severity.HIGH,
    (REF_FIREWALL, IEC_SR_5_2, NIST_AC_4),
    "If the firewall config and the register disagree, that is a finding, not a shrug.")
NOT_IMPLEMENTED = rule(
    "PG-FW-002", "Conduit not implemented, or only in part, on its firewall", Severity.MEDIUM,
    (REF_FIREWALL, NIST_CM_3),
    "The register is the shared source of truth: a conduit the firewall does not carry is stale or broken.")
BROADER = rule(
    "PG-FW-003", "Rule broader than the conduit it implements", Severity.HIGH, (REF_FIREWALL, IEC_SR_5_2, NIST_AC_4),
    "A rule that implements a conduit must permit no more than the register grants.")
NOT_CONNECTED = rule(
    "PG-FW-004", "Conduit not reconciled: its firewall's config is not placed between the conduit's zones",
    Severity.HIGH, (REF_FIREWALL, NIST_CM_3),
    "enforced_by must name firewalls whose zone map (or joins) places the config between both zones of the "
    "conduit; otherwise nothing about the conduit on that firewall is proved.")
UNMAPPED = rule(
    "PG-FW-005", "Firewall zone or interface not mapped to a treaty zone", Severity.LOW, (REF_FIREWALL, IEC_SR_5_1),
    "Traffic through an unmapped interface cannot be reconciled with the register.")
PARSE_WARNING = rule(
    "PG-FW-006", "Firewall construct not understood (widened toward permitted)", Severity.LOW,
    (REF_FIREWALL,), "PlantGate never narrows what it does not understand; it widens and reports the line.")
NOT_RECONCILED = rule(
    "PG-FW-007", "Firewall not reconciled: its config joins no pair of treaty zones", Severity.HIGH,
    (REF_FIREWALL, IEC_SR_5_1, NIST_CM_3),
    "A firewall whose filters reach no pair of treaty zones is not checked at all: no finding about it means "
    "nothing. Map its interfaces, zones or ACLs to treaty zones, or list the zones it joins.")
PART_NOT_MODELLED = rule(
    "PG-FW-008", "Part of a firewall not modelled", Severity.MEDIUM, (REF_FIREWALL, IEC_SR_5_1),
    "What PlantGate could not model is reported, never taken as an all-clear: an ACL the treaty does not place, a "
    "pair of zones no filter is known to govern, a NAT statement the analysis does not follow.")
ZONE_MAP_CONTRADICTED = rule(
    "PG-FW-009", "Zone map contradicted by the firewall's interface addresses", Severity.HIGH,
    (REF_FIREWALL, IEC_SR_5_1, NIST_CM_3),
    "The zone map decides which register entries each rule is held to. A config zone mapped to one treaty zone "
    "whose interface faces another zone's networks puts every flow through it in the wrong zone pair.")
IT_TO_OT = rule(
    "PG-PURDUE-002", "Firewall permits sessions between IT and OT that bypass the DMZ", Severity.CRITICAL,
    (IEC_SR_5_1, NIST_SC_7), "Every session between IT (levels 4-5) and OT (levels 0-3) terminates in the DMZ.")
SAFETY_UNREGISTERED = rule(
    "PG-PURDUE-003", "Flow into a safety zone that is not in the register", Severity.CRITICAL,
    (IEC_SR_5_2, NIST_AC_4), "Safety zones are reachable only as the register says.")
PUSH_INTO_OT = rule(
    "PG-PURDUE-004", "Sessions opened from IT or the DMZ into OT on patch or AV ports", Severity.HIGH,
    (IEC_SR_5_1, NIST_SC_7), "OT pulls patches and signatures from DMZ staging; IT never pushes past the DMZ.")

PUSH_PORTS: dict[str, list[tuple[int, int]]] = {
    "WSUS": [(8530, 8531)],
    "SCCM client push and notification (SMB, RPC, 10123)": [(135, 135), (445, 445), (10123, 10123)],
    "AV console wake-up and push (Trellix ePO 8081, Symantec SEPM 8014, Sophos 8192-8194)": [
        (8081, 8081), (8014, 8014), (8192, 8194)],
}
"""Ports on which a console or patch server initiates toward clients (push), by product."""


def _zone_label(zone: Zone) -> str:
    return f"{zone.id} (level {zone.level:g})"


def _severity_for(source: Zone, target: Zone) -> Severity:
    if target.is_safety:
        return Severity.CRITICAL
    if target.is_ot or source.is_ot:
        return Severity.HIGH
    return Severity.MEDIUM


@check
def unregistered_exposure(ctx: CheckContext) -> Iterator[Finding]:
    for fw in ctx.firewalls:
        for a_id, b_id in fw.treaty_pairs():
            a, b = ctx.treaty.zone(a_id), ctx.treaty.zone(b_id)
            if a is None or b is None:
                continue
            extra = fw.permitted(a_id, b_id) - ctx.register(a_id, b_id)
            witness = extra.witness()
            if witness is None:
                continue
            permitters = fw.permitters(a_id, b_id, extra)
            locations, names = permitter_evidence(permitters)
            nat, nat_locations, nat_details = translation_evidence(fw, a_id, b_id, witness)
            spec = SAFETY_UNREGISTERED if b.is_safety else UNREGISTERED
            yield spec.finding(
                [fw.entry.id, a_id, b_id],
                f"{fw.entry.id} permits sessions from {_zone_label(a)} to {_zone_label(b)} that no conduit "
                f"registers, e.g. {witness}. Permitted by: {', '.join(names) or 'the default action'}.{nat}",
                (locations + nat_locations) or [ctx.site.locate_item("firewalls", fw.entry.id)],
                severity=_severity_for(a, b) if spec is UNREGISTERED else None,
                witness=witness.to_dict(), discriminator=f"{a_id}>{b_id}",
                details={"firewall": fw.entry.id, "flows": extra.count(), **nat_details})


@check
def purdue_on_firewalls(ctx: CheckContext) -> Iterator[Finding]:
    for fw in ctx.firewalls:
        for a_id, b_id in fw.treaty_pairs():
            a, b = ctx.treaty.zone(a_id), ctx.treaty.zone(b_id)
            if a is None or b is None:
                continue
            permitted = fw.permitted(a_id, b_id)
            if (a.is_it and b.is_ot) or (a.is_ot and b.is_it):
                witness = permitted.witness()
                if witness is not None:
                    locations, names = permitter_evidence(fw.permitters(a_id, b_id, permitted))
                    nat, nat_locations, nat_details = translation_evidence(fw, a_id, b_id, witness)
                    yield IT_TO_OT.finding(
                        [fw.entry.id, a_id, b_id],
                        f"{fw.entry.id} lets {_zone_label(a)} open sessions straight to {_zone_label(b)}, "
                        f"e.g. {witness}, via {', '.join(names)}.{nat}", locations + nat_locations,
                        witness=witness.to_dict(), discriminator=f"{a_id}>{b_id}", details=nat_details or None)
            if b.is_ot and (a.is_it or a.is_dmz):
                yield from _push_findings(ctx, fw, a, b)


def _push_findings(ctx: CheckContext, fw: BoundaryFirewall, a: Zone, b: Zone) -> Iterator[Finding]:
    permitted = fw.permitted(a.id, b.id)
    for product, ranges in PUSH_PORTS.items():
        ports = ctx.space.empty()
        for protocol in (6, 17):
            from plantgate.firewalls.ruleset import Service
            ports = ports | ctx.space.service(Service(protocol, dst_ports=tuple(ranges)))
        pushed = permitted & ports
        witness = pushed.witness()
        if witness is None:
            continue
        locations, names = permitter_evidence(fw.permitters(a.id, b.id, pushed))
        nat, nat_locations, nat_details = translation_evidence(fw, a.id, b.id, witness)
        yield PUSH_INTO_OT.finding(
            [fw.entry.id, a.id, b.id],
            f"{fw.entry.id} lets {_zone_label(a)} open {product} sessions into {_zone_label(b)}, e.g. {witness}, "
            f"via {', '.join(names)}. OT must pull from DMZ staging.{nat}", locations + nat_locations,
            witness=witness.to_dict(), discriminator=f"{a.id}>{b.id}:{product}", details=nat_details or None)


@check
def conduit_implementation(ctx: CheckContext) -> Iterator[Finding]:
    by_id = {fw.entry.id: fw for fw in ctx.firewalls}
    for conduit in ctx.treaty.conduits:
        where = [ctx.site.locate_item("conduits", conduit.id, "enforced_by")]
        for fw_id in conduit.enforced_by:
            fw = by_id.get(fw_id)
            if fw is None:
                continue
            a, b = conduit.initiating_zone, conduit.responding_zone
            if not fw.connects(a, b):
                if fw.coverage.level is CoverageLevel.NONE:
                    continue  # PG-FW-007 names the firewall and every conduit it leaves unproved
                yield NOT_CONNECTED.finding(
                    [conduit.id, fw_id], f"{fw_id} could not be reconciled for conduit {conduit.id} ({a} -> {b}): "
                    f"{_why_unplaced(fw, a, b)}. Nothing about this conduit on {fw_id} is proved.",
                    [*where, ctx.site.locate_item("firewalls", fw_id)], discriminator=fw_id)
                continue
            wanted = ctx.conduit(conduit.id)
            missing = wanted - fw.permitted(a, b)
            witness = missing.witness()
            if witness is None:
                continue
            state = "does not implement" if missing == wanted else "implements only part of"
            yield NOT_IMPLEMENTED.finding(
                [conduit.id, fw_id], f"{fw_id} {state} conduit {conduit.id} ({a} -> {b}); denied, e.g. {witness}.",
                where, severity=Severity.HIGH if missing == wanted else None, witness=witness.to_dict(),
                discriminator=fw_id)


def _why_unplaced(fw: BoundaryFirewall, a: str, b: str) -> str:
    joined = fw.joined_zones
    missing = [z for z in (a, b) if z not in joined]
    if missing:
        return (f"its treaty entry does not place it in {' or '.join(missing)} (it joins "
                f"{', '.join(joined) or 'no zone'})")
    if not fw.config_zones_of.get(a):
        return f"no interface, zone or ACL of its config is known to take sessions from {a}"
    return f"no path of its config leads from {a}'s interfaces to {b}'s"


@check
def firewall_coverage(ctx: CheckContext) -> Iterator[Finding]:
    """Firewalls, and parts of firewalls, the reconciliation could not model: never an all-clear."""
    for fw in ctx.firewalls:
        coverage = fw.coverage
        entry_at = ctx.site.locate_item("firewalls", fw.entry.id)
        if coverage.level is CoverageLevel.NONE:
            conduits = [c.id for c in ctx.treaty.conduits if fw.entry.id in c.enforced_by]
            why = "; ".join(item.detail for item in coverage.items if item.kind is GapKind.NO_ZONE_PAIR)
            if fw.unmapped:
                why += f"; the config's interfaces or zones {', '.join(fw.unmapped)} are mapped to no treaty zone"
            yield NOT_RECONCILED.finding(
                [fw.entry.id], f"{fw.entry.id} could not be reconciled: {why}. No flow through it is checked"
                + (f", and none of its conduits ({', '.join(conduits)}) is proved on it." if conduits else "."),
                [entry_at], details={"coverage": coverage.level.value})
            continue
        enforced = {(c.initiating_zone, c.responding_zone) for c in ctx.treaty.conduits
                    if fw.entry.id in c.enforced_by}
        groups: dict[GapKind, list[CoverageItem]] = {}
        for item in coverage.gaps():
            if item.kind is GapKind.UNPLACED_PAIR and tuple(item.subject.split(" -> ")) in enforced:
                continue  # PG-FW-004, per conduit
            if item.kind in (GapKind.UNPLACED_PAIR, GapKind.UNPLACED_FILTER, GapKind.NAT):
                groups.setdefault(item.kind, []).append(item)
        for kind, items in groups.items():
            listed = "; ".join(f"{i.subject}: {i.detail}" for i in items[:MAX_LISTED])
            more = f"; and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
            yield PART_NOT_MODELLED.finding(
                [fw.entry.id], f"{fw.entry.id} is modelled only in part ({kind.value}): {listed}{more}.",
                [i.location or entry_at for i in items[:MAX_LISTED]],
                severity=Severity.LOW if kind is GapKind.NAT else None, discriminator=kind.value,
                details={"items": [i.subject for i in items]})


MAX_LISTED = 10
"""Items named in one coverage finding; the details list them all."""


@check
def rules_broader_than_conduits(ctx: CheckContext) -> Iterator[Finding]:
    for fw in ctx.firewalls:
        for a_id, b_id in fw.treaty_pairs():
            registered = ctx.register(a_id, b_id)
            if registered.is_empty():
                continue
            in_zones = fw.permitted(a_id, b_id)
            for x, y in fw.config_pairs(a_id, b_id):
                for flt_name in fw.ruleset.paths.get((x, y), ()):
                    analysis = analyse_filter(ctx.space, fw.ruleset.filters[flt_name], x, y)
                    # the rules that decide some registered flow here, each with all it decides
                    for fw_rule, decided in analysis.decided_meeting(in_zones & registered):
                        if not fw_rule.action.permits:
                            continue
                        extra = decided & in_zones - registered
                        witness = extra.witness()
                        if witness is None:
                            continue
                        yield BROADER.finding(
                            [fw.entry.id, fw_rule.rule_id],
                            f"{fw_rule.rule_id} on {fw.entry.id} implements a conduit from {a_id} to {b_id} but "
                            f"also permits {witness}, which no conduit grants.", [rule_location(fw_rule)],
                            witness=witness.to_dict(), discriminator=f"{a_id}>{b_id}")


@check
def firewall_mapping_and_warnings(ctx: CheckContext) -> Iterator[Finding]:
    for fw in ctx.firewalls:
        entry_where = ctx.site.locate_item("firewalls", fw.entry.id, "zones")
        unmapped = fw.unmapped if fw.coverage.level is not CoverageLevel.NONE else []  # PG-FW-007 names them
        for zone in unmapped:
            yield UNMAPPED.finding([fw.entry.id, zone], f"{fw.entry.id}: config zone or interface '{zone}' is not "
                                   "mapped to a treaty zone; flows through it are not reconciled.", [entry_where],
                                   severity=Severity.INFO if zone in ("*", "self", "lo") else None, discriminator=zone)
        for warning in fw.ruleset.warnings:
            yield PARSE_WARNING.finding(
                [fw.entry.id], f"{fw.entry.id}: {warning.message}" + (" (widened)" if warning.widened else ""),
                [Location(warning.file, warning.line)],
                severity=Severity.LOW if warning.widened else Severity.INFO, discriminator=f"{warning.message}")


@check
def zone_map_against_interfaces(ctx: CheckContext) -> Iterator[Finding]:
    """A mapped config zone whose interface network lies in another treaty zone's networks.

    Only a positive contradiction is reported: a network in no treaty zone (a transit link
    to a router) or a config without addresses claims nothing either way.
    """
    for fw in ctx.firewalls:
        for config_zone, treaty_zone in fw.entry.zones.items():
            for placement in placements(fw.ruleset, ctx.treaty, config_zone):
                if not placement.treaty_zones or treaty_zone in placement.treaty_zones:
                    continue
                span = placement.interface.span
                says = ", ".join(placement.treaty_zones)
                yield ZONE_MAP_CONTRADICTED.finding(
                    [fw.entry.id, config_zone],
                    f"{fw.entry.id} maps config zone {config_zone} to {treaty_zone}, but its interface "
                    f"{placement.interface.name} faces {placement.network}, which lies in the networks of {says}.",
                    [Location(span.file, span.line), ctx.site.locate_item("firewalls", fw.entry.id, "zones")],
                    discriminator=f"{config_zone}:{placement.network}",
                    details={"firewall": fw.entry.id, "config_zone": config_zone, "treaty_zone": treaty_zone,
                             "interface": placement.interface.name, "network": str(placement.network),
                             "address_zones": list(placement.treaty_zones)})
