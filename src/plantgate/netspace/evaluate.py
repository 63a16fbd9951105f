"""Concrete, rule-by-rule evaluation of one packet: ``fw test`` and the BDD engine's oracle.

It deliberately shares no code with the BDD compiler beyond the mapping of configured
networks to address prefixes, so that property tests comparing the two catch mistakes
in either. The semantics are exactly those documented in ``compile``.
"""

from __future__ import annotations

from dataclasses import dataclass

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import (
    ICMP_PROTOCOLS,
    PORT_PROTOCOLS,
    AddressSet,
    Filter,
    Rule,
    Ruleset,
    Service,
)
from plantgate.netspace.flow import Flow, IPAddress, address_to_int, network_prefixes, prefix_contains


@dataclass(frozen=True)
class Verdict:
    """What happened to a flow: permitted or not, and which filter and rule decided.

    ``rule`` None means a default action decided: the filter's (``filter`` set) or the
    ruleset's default path action (``filter`` None).
    """

    permitted: bool
    filter: str | None
    rule: Rule | None

    def __str__(self) -> str:
        outcome = "permitted" if self.permitted else "denied"
        if self.rule is not None:
            return f"{outcome} by rule {self.rule.rule_id} of {self.filter} ({self.rule.span})"
        if self.filter is not None:
            return f"{outcome} by the default action of {self.filter}"
        return f"{outcome} by the default path action (no filter between these zones)"


def address_matches(addrs: AddressSet, address: IPAddress) -> bool:
    value = address_to_int(address)
    inside = any(prefix_contains(p, value) for net in addrs.include for p in network_prefixes(net))
    if not inside:
        return False
    return not any(prefix_contains(p, value) for net in addrs.exclude for p in network_prefixes(net))


def service_matches(svc: Service, flow: Flow) -> bool:
    """Port constraints bind only TCP/UDP/SCTP, ICMP constraints only ICMP/ICMPv6."""
    if svc.protocol is not None and svc.protocol != flow.proto:
        return False
    if flow.proto in PORT_PROTOCOLS:
        if svc.dst_ports and not any(lo <= flow.dport <= hi for lo, hi in svc.dst_ports):
            return False
        if svc.src_ports and not any(lo <= flow.sport <= hi for lo, hi in svc.src_ports):
            return False
    if flow.proto in ICMP_PROTOCOLS:
        if svc.icmp_type is not None and svc.icmp_type != flow.icmp_type:
            return False
        if svc.icmp_code is not None and svc.icmp_code != flow.icmp_code:
            return False
    return True


def _zone_allows(zones: tuple[str, ...], context: str | None, permit: bool) -> bool:
    if not zones:
        return True
    return permit if context is None else context in zones


def rule_matches(rule: Rule, flow: Flow, from_zone: str | None = None, to_zone: str | None = None) -> bool:
    """Whether ``rule`` matches ``flow`` as a new session; same semantics as ``compile.rule_match``."""
    if not rule.enabled or rule.stateful_return_only:
        return False
    permit = rule.action.permits
    if not rule.decided_by_packet and not permit:
        return False
    from_ok = _zone_allows(rule.from_zones, from_zone, permit)
    if not (from_ok and _zone_allows(rule.to_zones, to_zone, permit)):
        return False
    if address_matches(rule.sources, flow.src) == rule.source_negate:
        return False
    if address_matches(rule.destinations, flow.dst) == rule.destination_negate:
        return False
    service_hit = any(service_matches(svc, flow) for svc in rule.services)
    return service_hit != rule.service_negate


def evaluate_filter(
    flt: Filter, flow: Flow, from_zone: str | None = None, to_zone: str | None = None
) -> Verdict:
    """First match wins; the default action when no rule matches."""
    for rule in flt.rules:
        if rule_matches(rule, flow, from_zone, to_zone):
            return Verdict(rule.action.permits, flt.name, rule)
    return Verdict(flt.default_action.permits, flt.name, None)


def _choices(ruleset: Ruleset) -> str:
    filters = ", ".join(sorted(ruleset.filters)) or "(none)"
    zones = ", ".join(ruleset.zones) or "(none)"
    return f"--filter one of: {filters}; or --from-zone/--to-zone among zones: {zones}"


def evaluate(
    ruleset: Ruleset,
    flow: Flow,
    from_zone: str | None = None,
    to_zone: str | None = None,
    filter_name: str | None = None,
) -> Verdict:
    """The verdict of the ruleset on ``flow``.

    With ``filter_name``: that filter alone (in the zone context, if any). With both
    zones: every filter on the path in order; the first denying filter decides, else the
    last filter's verdict stands. With neither and exactly one filter: that filter.
    Anything else is an input error naming the options.
    """
    if filter_name is not None:
        flt = ruleset.filters.get(filter_name)
        if flt is None:
            raise InputError.at(ruleset.file, 0, 0, f"no filter named {filter_name!r}", _choices(ruleset))
        return evaluate_filter(flt, flow, from_zone, to_zone)
    if (from_zone is None) != (to_zone is None):
        raise InputError.at(
            ruleset.file, 0, 0, "a zone path needs both a from-zone and a to-zone", _choices(ruleset)
        )
    if from_zone is not None and to_zone is not None:
        names = ruleset.paths.get((from_zone, to_zone))
        if names is None:
            known = set(ruleset.zones) | {z for pair in ruleset.paths for z in pair}
            if from_zone not in known or to_zone not in known:
                raise InputError.at(
                    ruleset.file, 0, 0, f"unknown zone in {from_zone} -> {to_zone}", _choices(ruleset)
                )
            return Verdict(ruleset.default_path_action.permits, None, None)
        verdict = Verdict(True, None, None)
        for name in names:
            flt = ruleset.filters.get(name)
            if flt is None:
                raise InputError.at(
                    ruleset.file, 0, 0, f"path {from_zone} -> {to_zone} names undefined filter {name!r}"
                )
            verdict = evaluate_filter(flt, flow, from_zone, to_zone)
            if not verdict.permitted:
                return verdict
        return verdict
    if len(ruleset.filters) == 1:
        return evaluate_filter(next(iter(ruleset.filters.values())), flow)
    raise InputError.at(
        ruleset.file, 0, 0,
        f"the ruleset has {len(ruleset.filters)} filters; say which one to test or give a zone pair",
        _choices(ruleset),
    )
