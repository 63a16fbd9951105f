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
    IPNetwork,
    Rule,
    Ruleset,
    Service,
)
from plantgate.netspace.flow import Flow, IPAddress, address_to_int, network_prefixes


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


PrefixKeys = tuple[tuple[int, int], ...]
"""Prefixes as (shift, base >> shift): an address value is inside when value >> shift equals the key."""

_KEYS_LIMIT = 1 << 16
_keys_by_id: dict[int, tuple[AddressSet, PrefixKeys, PrefixKeys]] = {}


def _prefix_keys(networks: tuple[IPNetwork, ...]) -> PrefixKeys:
    return tuple(
        (128 - length, base >> (128 - length)) for net in networks for base, length in network_prefixes(net)
    )


def address_keys(addrs: AddressSet) -> tuple[AddressSet, PrefixKeys, PrefixKeys]:
    """The include and exclude prefixes of ``addrs``, built once per AddressSet object.

    ``fw test --packets`` checks every packet against every rule, and would otherwise turn
    the same networks into prefixes each time. Keyed by identity (hashing a set of networks
    costs as much as building its prefixes); the entry holds the set itself, so its id cannot
    be reused while cached. AddressSet is frozen, so an entry never goes stale; the cache is
    emptied when it reaches its bound.
    """
    found = _keys_by_id.get(id(addrs))
    if found is None or found[0] is not addrs:
        if len(_keys_by_id) >= _KEYS_LIMIT:
            _keys_by_id.clear()
        found = _keys_by_id[id(addrs)] = (addrs, _prefix_keys(addrs.include), _prefix_keys(addrs.exclude))
    return found


def _value_matches(addrs: AddressSet, value: int) -> bool:
    _, include, exclude = address_keys(addrs)
    if not any(value >> shift == key for shift, key in include):
        return False
    return not any(value >> shift == key for shift, key in exclude)


def address_matches(addrs: AddressSet, address: IPAddress) -> bool:
    """Whether ``address`` is in the include networks and in none of the exclude networks."""
    return _value_matches(addrs, address_to_int(address))


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
    return _rule_matches(rule, flow, address_to_int(flow.src), address_to_int(flow.dst), from_zone, to_zone)


def _rule_matches(
    rule: Rule, flow: Flow, src: int, dst: int, from_zone: str | None, to_zone: str | None
) -> bool:
    """``rule_matches`` with the flow's addresses already converted (once per flow, not per rule)."""
    return rule_applies(rule, from_zone, to_zone) and packet_matches(rule, flow, src, dst)


def rule_applies(rule: Rule, from_zone: str | None, to_zone: str | None) -> bool:
    """The part of a match that does not depend on the packet: state, action and zones."""
    if not rule.enabled or rule.stateful_return_only:
        return False
    permit = rule.action.permits
    if not rule.decided_by_packet and not permit:
        return False
    return _zone_allows(rule.from_zones, from_zone, permit) and _zone_allows(rule.to_zones, to_zone, permit)


def packet_matches(rule: Rule, flow: Flow, src: int, dst: int) -> bool:
    """The packet fields against the rule's addresses and services (``src``/``dst`` as integers)."""
    if _value_matches(rule.sources, src) == rule.source_negate:
        return False
    if _value_matches(rule.destinations, dst) == rule.destination_negate:
        return False
    service_hit = any(service_matches(svc, flow) for svc in rule.services)
    return service_hit != rule.service_negate


def evaluate_filter(
    flt: Filter, flow: Flow, from_zone: str | None = None, to_zone: str | None = None
) -> Verdict:
    """First match wins; the default action when no rule matches."""
    src, dst = address_to_int(flow.src), address_to_int(flow.dst)
    for rule in flt.rules:
        if _rule_matches(rule, flow, src, dst, from_zone, to_zone):
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
    filters = filters_to_evaluate(ruleset, from_zone, to_zone, filter_name)
    if filters is None:
        return Verdict(ruleset.default_path_action.permits, None, None)
    verdict = Verdict(True, None, None)
    for flt in filters:
        verdict = evaluate_filter(flt, flow, from_zone, to_zone)
        if not verdict.permitted:
            return verdict
    return verdict


def filters_to_evaluate(
    ruleset: Ruleset, from_zone: str | None, to_zone: str | None, filter_name: str | None
) -> list[Filter] | None:
    """The filters a packet meets, in order (see ``evaluate``); None: the default path action decides."""
    if filter_name is not None:
        flt = ruleset.filters.get(filter_name)
        if flt is None:
            raise InputError.at(ruleset.file, 0, 0, f"no filter named {filter_name!r}", _choices(ruleset))
        return [flt]
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
            return None
        filters = []
        for name in names:
            flt = ruleset.filters.get(name)
            if flt is None:
                raise InputError.at(
                    ruleset.file, 0, 0, f"path {from_zone} -> {to_zone} names undefined filter {name!r}"
                )
            filters.append(flt)
        return filters
    if len(ruleset.filters) == 1:
        return [next(iter(ruleset.filters.values()))]
    raise InputError.at(
        ruleset.file, 0, 0,
        f"the ruleset has {len(ruleset.filters)} filters; say which one to test or give a zone pair",
        _choices(ruleset),
    )
