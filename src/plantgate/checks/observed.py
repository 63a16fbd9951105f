"""Triple reconciliation: what the sensors saw, held against the register and the firewalls.

Runs only when observed flow files are given (the treaty's ``flows:`` or ``check --flows``).
A flow the firewalls would have dropped on every path, yet the responder answered, is the
most serious thing PlantGate can find: a path around the boundary (a dual-homed host, a
rogue link, a 4G router). Every finding cites the sighting's file and line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

from plantgate.checks.context import CheckContext, rule_location
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_5_1, IEC_SR_5_2, NIST_AC_4, NIST_CA_3, NIST_CM_8, NIST_SC_7, REF_TABLE
from plantgate.checks.registry import check, rule
from plantgate.errors import Location
from plantgate.feeds.flows import ObservedFlow, read_flows
from plantgate.reconcile.observed import Judgement, ObservedReconciler

UNREGISTERED = rule(
    "PG-OBSERVED-001", "Observed cross-zone flow that no conduit covers", Severity.HIGH,
    (REF_TABLE, IEC_SR_5_1, NIST_AC_4),
    "Every path between zones is in the register. A flow the sensors see between two zones that no conduit "
    "covers means the register is missing something, or someone is bypassing it.")
BYPASS = rule(
    "PG-OBSERVED-002", "Observed flow the boundary firewalls would deny: a path around the firewall",
    Severity.CRITICAL, (REF_TABLE, IEC_SR_5_2, NIST_SC_7),
    "The responder answered a session that every modelled firewall path between the two zones drops. "
    "Look for a dual-homed host, a rogue link or a cellular router.")
PUBLIC = rule(
    "PG-OBSERVED-003", "OT asset talking to public DNS, NTP or internet addresses", Severity.HIGH,
    (REF_TABLE, IEC_SR_5_1, NIST_SC_7),
    "OT assets use OT-side time and DNS and never reach the internet directly.")
IT_INTO_OT = rule(
    "PG-OBSERVED-004", "IT-initiated session into OT", Severity.HIGH, (REF_TABLE, IEC_SR_5_2, NIST_SC_7),
    "Every session between IT and OT terminates in the DMZ; IT never opens sessions past it. The initiator "
    "is the connection's originator.")
NEVER_SEEN = rule(
    "PG-OBSERVED-005", "Conduit never observed in the capture window", Severity.LOW, (REF_TABLE, NIST_CA_3),
    "A conduit the sensors never see used, while they see both zones, is a candidate for removal at its review "
    "date.")
WRONG_SERVICE = rule(
    "PG-OBSERVED-006", "Service on a conduit differs from the registered one", Severity.HIGH,
    (REF_TABLE, NIST_CM_8, NIST_AC_4),
    "The sensor recognised a different protocol on a registered port (for example ssh on a 443 conduit).")


def observed_flow_files(ctx: CheckContext) -> list[Path]:
    """The treaty's ``flows:`` files plus any given on the command line (``ctx.extra_flow_files``)."""
    files = [ctx.site.resolve(relative) for relative in ctx.treaty.flows]
    files.extend(Path(p) for p in getattr(ctx, "extra_flow_files", []) or [])
    return list(dict.fromkeys(files))


def observed_judgements(ctx: CheckContext) -> list[Judgement]:
    """Every observed flow judged; computed once per run and cached on the context."""
    cached = ctx.__dict__.get("_observed_judgements")
    if cached is None:
        files = observed_flow_files(ctx)
        flows = read_flows(files, progress=False) if files else []
        reconciler = ObservedReconciler(ctx.treaty, ctx.firewalls, ctx.estate.topology)
        cached = ctx.__dict__["_observed_judgements"] = reconciler.judge_all(flows)
    result: list[Judgement] = cached
    return result


def _sighting(flow: ObservedFlow) -> Location:
    return Location(flow.file, flow.line)


def _describe(j: Judgement) -> str:
    f = j.flow
    return (f"{f.src} ({j.src_label}) -> {f.dst} ({j.dst_label}) {f.service_text()}: {f.count} session(s), "
            f"{f.answered} answered, first seen at {f.where}")


def _subject(j: Judgement) -> list[str]:
    return [f"{j.src_label}->{j.dst_label}", f"{j.flow.src}->{j.flow.dst}"]


def _key(j: Judgement) -> str:
    return f"{j.flow.proto}/{j.flow.dport}/{j.flow.service}"


@check
def observed_flows(ctx: CheckContext) -> Iterator[Finding]:
    judgements = observed_judgements(ctx)
    if not judgements:
        return
    for j in judgements:
        yield from _cross_zone(ctx, j)
        yield from _public(j)
    yield from _never_seen(ctx, judgements)


def _cross_zone(ctx: CheckContext, j: Judgement) -> Iterator[Finding]:
    if not j.cross_zone or j.src_zone is None or j.dst_zone is None:
        return
    witness = j.flow.packet().to_dict()
    if not j.registered:
        near = ", ".join(f"{c.id} ({', '.join(str(s) for s in c.services)})" for c in j.same_pair_conduits)
        hint = f" Conduits between these hosts register only: {near}." if near else ""
        attempt = "" if j.flow.answered else " No session was answered (attempts only)."
        yield UNREGISTERED.finding(
            _subject(j), f"Observed {_describe(j)}; no conduit covers it.{hint}{attempt}", [_sighting(j.flow)],
            severity=None if j.flow.answered else Severity.LOW, witness=witness, discriminator=_key(j))
    if j.firewall_permits is False and j.flow.answered:
        drops = j.dropping_hops()
        evidence = [_sighting(j.flow)]
        names = []
        for hop in drops:
            if hop.verdict.rule is not None:
                evidence.append(rule_location(hop.verdict.rule))
            names.append(f"{hop.firewall_id} ({hop.from_zone} -> {hop.to_zone}): {hop.verdict}")
        yield BYPASS.finding(
            _subject(j), f"Observed {_describe(j)}, but the firewalls drop it on every path: " + "; ".join(names)
            + ". The traffic went around the boundary.", evidence, witness=witness, discriminator=_key(j),
            details={"sighting": j.flow.to_dict(), "dropped_by": names})
    if j.src_zone.is_it and j.dst_zone.is_ot and j.flow.answered:
        covered = f" (registered by {', '.join(c.id for c in j.conduits)})" if j.conduits else ""
        severity = Severity.CRITICAL if j.dst_zone.is_safety else None
        yield IT_INTO_OT.finding(
            _subject(j), f"{j.src_label} (IT, level {j.src_zone.level:g}) opened sessions into {j.dst_label} "
            f"(OT, level {j.dst_zone.level:g}){covered}: {_describe(j)}.", [_sighting(j.flow)],
            severity=severity, witness=witness, discriminator=_key(j))
    expected = j.service_mismatch()
    if expected is not None:
        where = [_sighting(j.flow)] + [ctx.site.locate_item("conduits", c.id, "services") for c in j.conduits]
        yield WRONG_SERVICE.finding(
            [*_subject(j), *(c.id for c in j.conduits)],
            f"On {', '.join(c.id for c in j.conduits)} the sensor saw '{j.flow.service}' on "
            f"{j.flow.service_text()}, where the registered port carries {' or '.join(sorted(expected))}: "
            f"{_describe(j)}.", where, witness=witness, discriminator=_key(j))


def _public(j: Judgement) -> Iterator[Finding]:
    f = j.flow
    for ot_zone, other, other_zone, outward in ((j.src_zone, f.dst, j.dst_zone, True),
                                                (j.dst_zone, f.src, j.src_zone, False)):
        if ot_zone is None or not ot_zone.is_ot or other_zone is not None:
            continue
        if not ipaddress.ip_address(other).is_global:
            continue
        kind = {53: "public DNS", 123: "public NTP"}.get(f.dport, "an internet address") if outward \
            else "an internet host (inbound)"
        yield PUBLIC.finding(
            [ot_zone.id, f"{f.src}->{f.dst}"], f"OT zone {ot_zone.id} talks to {kind} {other}: {_describe(j)}.",
            [_sighting(f)], severity=Severity.CRITICAL if ot_zone.is_safety else None,
            witness=f.packet().to_dict(), discriminator=_key(j))


def _never_seen(ctx: CheckContext, judgements: list[Judgement]) -> Iterator[Finding]:
    """Conduits with no observed flow, judged only where the sensors saw both zones talk at all."""
    seen_zones = {label for j in judgements for label in (j.src_label, j.dst_label)}
    used = {c.id for j in judgements for c in j.conduits}
    stamps = [s for j in judgements for s in (j.flow.first_seen, j.flow.last_seen) if s is not None]
    window = f" between {_fmt(min(stamps))} and {_fmt(max(stamps))}" if stamps else ""
    for conduit in ctx.treaty.conduits:
        if conduit.id in used or not {conduit.from_zone, conduit.to_zone} <= seen_zones:
            continue
        review = f"; review due {conduit.review_by}" if conduit.review_by else ""
        yield NEVER_SEEN.finding(
            [conduit.id], f"Conduit {conduit.id} ({conduit.initiating_zone} -> {conduit.responding_zone}, "
            f"{', '.join(str(s) for s in conduit.services)}) was never observed{window}, although the sensors saw "
            f"traffic of both zones{review}.", [ctx.site.locate_item("conduits", conduit.id)],
            discriminator="never-observed")


def _fmt(stamp: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
