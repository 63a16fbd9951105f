"""End-to-end checks: what the boundary firewalls let through together, not one at a time.

A Purdue bypass can hide in a pair of firewalls in series: the outer one lets the
enterprise reach an address behind the DMZ, the inner one forwards anything to that
address, and neither shows an enterprise-to-OT session alone. These checks intersect
the hops of every path (``plantgate.reconcile.reach``) and report with a multi-hop
witness and the rule lines of every hop.

Relationship to ``checks/firewall.py``: PG-PURDUE-002 and PG-PURDUE-003 judge each
firewall alone, i.e. one-hop paths, and PG-FW-002 the conduits a single firewall must
carry. The checks here only report paths of two hops or more, so no flow is reported
twice for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_5_1, IEC_SR_5_2, NIST_AC_4, NIST_CM_3, NIST_SC_7, REF_FIREWALL
from plantgate.checks.registry import check, rule
from plantgate.errors import Location
from plantgate.model.zones import Zone
from plantgate.netspace import FlowSet
from plantgate.reconcile.reach import Estate, PathReach
from plantgate.reconcile.topology import ZonePath

MIN_HOPS = 2

BYPASS = rule(
    "PG-ESTATE-001", "Sessions from IT to OT cross the DMZ without terminating there (firewalls in series)",
    Severity.CRITICAL, (IEC_SR_5_1, NIST_SC_7),
    "Every session between IT (levels 4-5, external, vendor) and OT (levels 0-3) terminates in the DMZ; "
    "a path through two firewalls that delivers the same packet end to end does not.")
SAFETY_END_TO_END = rule(
    "PG-ESTATE-002", "End-to-end flow into a safety zone that is not in the register", Severity.CRITICAL,
    (IEC_SR_5_2, NIST_AC_4), "Safety zones are reachable only as the register says, across every path.")
BROKEN_PATH = rule(
    "PG-ESTATE-003", "Conduit path broken: one firewall permits, a later one denies", Severity.MEDIUM,
    (REF_FIREWALL, NIST_CM_3),
    "A conduit that crosses several firewalls works only when every firewall on its path carries it.")
NAT_LIMIT = rule(
    "PG-ESTATE-004", "NAT statement not modelled by the end-to-end analysis", Severity.INFO, (REF_FIREWALL,),
    "End-to-end results assume the packet is unchanged; a NAT statement may make a path reach elsewhere.")


def _has_series(ctx: CheckContext) -> bool:
    return len(ctx.treaty.firewalls) >= MIN_HOPS


def _label(zone: Zone) -> str:
    return f"{zone.id} (level {zone.level:g})"


def hop_text(result: PathReach) -> tuple[list[Location], str]:
    """Evidence locations of every hop and a sentence naming each hop's rules."""
    locations: list[Location] = []
    parts = []
    for hop in result.hops:
        for _flt, fw_rule in hop.permitters:
            if fw_rule is not None:
                locations.append(Location(fw_rule.span.file, fw_rule.span.line))
        parts.append(f"{hop.hop.firewall_id} permits it by {', '.join(hop.rule_texts()) or 'its default action'}")
    for packet in result.packets:
        locations += [Location(rule.span.file, rule.span.line) for rule in packet.rules]
    if result.packets:
        parts.append("hop by hop: " + "; ".join(str(packet) for packet in result.packets))
    return locations, "; ".join(parts)


def _discriminator(path: ZonePath) -> str:
    return ">".join(path.zones) + "|" + ",".join(path.firewall_ids)


@check
def end_to_end_purdue(ctx: CheckContext) -> Iterator[Finding]:
    if not _has_series(ctx):
        return
    estate = ctx.estate
    for source in ctx.treaty.zones:
        for target in ctx.treaty.zones:
            if source.id == target.id or not (source.is_it and target.is_ot):
                continue
            for result in estate.reach(source.id, target.id, min_hops=MIN_HOPS).paths:
                witness = result.witness
                assert witness is not None  # reach() leaves empty paths out
                locations, hops = hop_text(result)
                covered = (f" The register covers part of it ({', '.join(c.id for c in result.conduits)}), but a "
                           "conduit cannot make a DMZ bypass compliant.") if result.conduits else ""
                yield BYPASS.finding(
                    [*result.path.firewall_ids, source.id, target.id],
                    f"{_label(source)} reaches {_label(target)} through {result.path} "
                    f"{'through address translation' if result.packets else 'with the packet unchanged'}, "
                    f"e.g. {witness}: {hops}.{covered}",
                    locations, severity=Severity.CRITICAL if target.is_safety else None,
                    witness=witness.to_dict(), discriminator=_discriminator(result.path),
                    details={"path": str(result.path), "flows": result.flows.count(),
                             "hops": [h.to_dict() for h in result.hops],
                             **({"hop_packets": [p.to_dict() for p in result.packets]} if result.packets else {})})


@check
def end_to_end_safety(ctx: CheckContext) -> Iterator[Finding]:
    if not _has_series(ctx):
        return
    estate = ctx.estate
    for target in ctx.treaty.zones:
        if not target.is_safety:
            continue
        for source in ctx.treaty.zones:
            if source.id == target.id:
                continue
            for result in estate.reach(source.id, target.id, min_hops=MIN_HOPS).paths:
                witness = result.uncovered_witness
                if witness is None:
                    continue
                locations, hops = hop_text(result)
                yield SAFETY_END_TO_END.finding(
                    [*result.path.firewall_ids, source.id, target.id],
                    f"{_label(source)} reaches safety zone {_label(target)} through {result.path} on flows no "
                    f"conduit registers, e.g. {witness}: {hops}.", locations, witness=witness.to_dict(),
                    discriminator=_discriminator(result.path),
                    details={"path": str(result.path), "flows": result.uncovered.count()})


@check
def broken_conduit_paths(ctx: CheckContext) -> Iterator[Finding]:
    if not _has_series(ctx):
        return
    estate = ctx.estate
    for conduit in ctx.treaty.conduits:
        source, target = conduit.initiating_zone, conduit.responding_zone
        choice = estate.topology.paths(source, target)
        long_paths = [p for p in choice.paths if len(p.hops) >= MIN_HOPS]
        if not long_paths:
            continue
        wanted = estate.conduit(conduit)
        delivered = ctx.space.empty()
        for path in choice.paths:
            delivered = delivered | estate.path_flows(path, wanted)
        for path in long_paths:
            yield from _broken_on(ctx, estate, conduit.id, path, wanted - delivered)


def _broken_on(ctx: CheckContext, estate: Estate, conduit_id: str, path: ZonePath,
               undelivered: FlowSet) -> Iterator[Finding]:
    """The first hop that drops flows the earlier hops of ``path`` let through."""
    flows = undelivered & estate.ends(path.source, path.target)
    translates, routes = estate.translates(path), estate.follows_routes(path)
    for index, hop in enumerate(path.hops):
        if translates:  # each hop sees what the one before let out
            dropped, passed_on = estate.hop_step(hop, flows, routes)
        else:
            carried = estate.carried(hop, routes)
            if carried is not None:  # what the hop routes elsewhere leaves this path, it is not denied
                flows = flows & carried
            passed_on = flows & estate.hop_permitted(hop, path.source, path.target)
            dropped = flows - passed_on
        if index > 0 and not dropped.is_empty() and not flows.is_empty():
            witness = dropped.witness()
            assert witness is not None
            passed = ", ".join(h.firewall_id for h in path.hops[:index])
            where = [ctx.site.locate_item("conduits", conduit_id)]
            yield BROKEN_PATH.finding(
                [conduit_id, *path.firewall_ids],
                f"Conduit {conduit_id} along {path}: {passed} permit{'s' if index == 1 else ''} it but "
                f"{hop.firewall_id} ({hop.from_zone} -> {hop.to_zone}) denies, e.g. {witness}.",
                where, witness=witness.to_dict(), discriminator=_discriminator(path),
                details={"path": str(path), "denied_by": hop.firewall_id, "flows": dropped.count()})
            return
        flows = passed_on
        if flows.is_empty():
            return


@check
def nat_not_modelled(ctx: CheckContext) -> Iterator[Finding]:
    if not _has_series(ctx):
        return
    for limitation in ctx.estate.topology.nat_limitations():
        yield NAT_LIMIT.finding(
            [limitation.firewall_id], f"{limitation.firewall_id}: NAT is not modelled; end-to-end paths through it "
            f"assume the packet unchanged: {limitation.span.text.strip()}",
            [Location(limitation.span.file, limitation.span.line)], discriminator=str(limitation.span.line))
