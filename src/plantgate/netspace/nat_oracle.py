"""Address translation of one concrete packet: ``fw test`` and the oracle of ``translate``.

Plain Python over addresses and ports, sharing nothing with the BDD relation in
``translate`` but the match helpers of ``evaluate``, so that property tests comparing the
two catch a mistake in either. The semantics, widening included, are those documented in
``translate``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace

from plantgate.firewalls.nat import AddressMapping, NatRule, PortMapping, Translation
from plantgate.firewalls.ruleset import PORT_PROTOCOLS, AddressSet, IPNetwork
from plantgate.netspace.evaluate import address_matches, service_matches
from plantgate.netspace.flow import Flow, IPAddress


def _zone_applies(zones: tuple[str, ...], context: str | None) -> str:
    if not zones:
        return "yes"
    if context is None:
        return "maybe"
    return "yes" if context in zones else "no"


def nat_rule_matches(rule: NatRule, flow: Flow) -> bool:
    """The packet fields against the rule's addresses and services (zones aside)."""
    return (address_matches(rule.sources, flow.src) and address_matches(rule.destinations, flow.dst)
            and any(service_matches(svc, flow) for svc in rule.services))


def outcomes(rules: Sequence[NatRule], flow: Flow, from_zone: str | None = None,
             to_zone: str | None = None) -> list[NatRule | None]:
    """The rules that may translate ``flow`` in order, None last when it may pass untranslated.

    One entry when the table is decided; more when a matching rule is uncertain or its zones
    are not in the context (it may apply or not: both outcomes are kept).
    """
    found: list[NatRule | None] = []
    for rule in rules:
        sides = (_zone_applies(rule.from_zones, from_zone), _zone_applies(rule.to_zones, to_zone))
        if "no" in sides or not nat_rule_matches(rule, flow):
            continue
        found.append(rule)
        if "maybe" not in sides and not rule.uncertain:
            return found
    found.append(None)
    return found


def _pool_has_version(pool: AddressSet, version: int) -> bool:
    """Whether the pool holds an address of this version once its exclusions are taken out. A pool
    with none (NAT64, or every address excluded) is not modelled: any address, as the engine has it."""
    left = [net for net in pool.include if net.version == version]
    for excluded in (net for net in pool.exclude if net.version == version):
        left = [part for net in left for part in _without(net, excluded)]
    return bool(left)


def _without(net: IPNetwork, excluded: IPNetwork) -> list[IPNetwork]:
    if not net.overlaps(excluded):
        return [net]
    if net.subnet_of(excluded):  # type: ignore[arg-type]
        return []
    return list(net.address_exclude(excluded))  # type: ignore[arg-type]


def _mapping_has_version(mapping: AddressMapping | None, version: int) -> bool:
    if mapping is None:
        return True
    if mapping.pool is not None:
        return _pool_has_version(mapping.pool, version)
    assert mapping.prefix is not None
    return mapping.prefix.version == version


def _address_ok(mapping: AddressMapping | None, old: IPAddress, new: IPAddress) -> bool:
    if mapping is None:
        return old == new
    if mapping.pool is not None:
        return address_matches(mapping.pool, new)
    prefix = mapping.prefix
    assert prefix is not None
    if new.version != prefix.version or new not in prefix:
        return False
    host = (1 << (prefix.max_prefixlen - prefix.prefixlen)) - 1
    return int(old) & host == int(new) & host


def _port_ok(mapping: PortMapping | None, proto: int, old: int, new: int) -> bool:
    if mapping is None or proto not in PORT_PROTOCOLS:
        return old == new
    low, high = mapping.to
    if mapping.shift is not None and low <= old + mapping.shift <= high:
        return new == old + mapping.shift
    return low <= new <= high


def rule_translates(rule: NatRule | None, before: Flow, after: Flow) -> bool:
    """Whether ``rule`` (None: no translation) can turn ``before`` into ``after`` (the match aside)."""
    if rule is None or rule.is_identity:
        return before == after
    src_map, dst_map = rule.source.addresses, rule.destination.addresses
    version = before.src.version
    if before.proto != after.proto or before.icmp_type != after.icmp_type or before.icmp_code != after.icmp_code:
        return False
    if not (_port_ok(rule.source.ports, before.proto, before.sport, after.sport)
            and _port_ok(rule.destination.ports, before.proto, before.dport, after.dport)):
        return False
    if not (_mapping_has_version(src_map, version) and _mapping_has_version(dst_map, version)):
        return True  # NAT64/46 not modelled: any addresses of either version
    if after.src.version != version:
        return False
    return _address_ok(src_map, before.src, after.src) and _address_ok(dst_map, before.dst, after.dst)


def translates(rules: Sequence[NatRule], before: Flow, after: Flow, from_zone: str | None = None,
               to_zone: str | None = None) -> bool:
    """Whether a first-match NAT table can turn ``before`` into ``after`` in this zone context."""
    return any(rule_translates(rule, before, after) for rule in outcomes(rules, before, from_zone, to_zone))


# ----- one example of the translated packet, for display -----


def _first_address(pool: AddressSet, version: int) -> IPAddress | None:
    for net in pool.include:
        if net.version != version:
            continue
        for address in (net.network_address, *(net[i] for i in range(1, min(net.num_addresses, 256)))):
            if address_matches(pool, address):
                return address
    return None


def _example_address(mapping: AddressMapping | None, old: IPAddress) -> IPAddress:
    if mapping is None:
        return old
    if mapping.pool is not None:
        if mapping.pool.is_any:
            return old
        return _first_address(mapping.pool, old.version) or old
    prefix = mapping.prefix
    assert prefix is not None
    host = (1 << (prefix.max_prefixlen - prefix.prefixlen)) - 1
    return ipaddress.ip_address(int(prefix.network_address) | (int(old) & host))


def _example_port(mapping: PortMapping | None, proto: int, old: int) -> tuple[int, bool]:
    """(an example of the new port, whether it is the only possible one)."""
    if mapping is None or proto not in PORT_PROTOCOLS:
        return old, True
    low, high = mapping.to
    if mapping.shift is not None and low <= old + mapping.shift <= high:
        return old + mapping.shift, True
    return low, low == high


@dataclass(frozen=True)
class Rewrite:
    """One translation of a concrete packet: the packet before and an example after, and how exact it is.

    ``exact`` is False when the rule allows many packets after (a pool, a port range, an address the
    config does not hold): ``after`` is then one of them, and ``notes`` say why.
    """

    rule: NatRule | None
    before: Flow
    after: Flow
    exact: bool
    notes: tuple[str, ...] = ()


def _address_exact(translation: Translation) -> bool:
    """Whether the rewritten address is the only one possible (a one-address pool, a prefix map, none)."""
    addresses = translation.addresses
    if addresses is None or addresses.pool is None:
        return True
    pool = addresses.pool
    return len(pool.include) == 1 and not pool.exclude and pool.include[0].num_addresses == 1


def example_rewrite(rule: NatRule | None, flow: Flow) -> Rewrite:
    """The packet ``rule`` makes of ``flow``: exact when the rule allows one, else an example."""
    if rule is None or rule.is_identity:
        return Rewrite(rule, flow, flow, True)
    version = flow.src.version
    notes = list(rule.widened)
    sport, sport_exact = _example_port(rule.source.ports, flow.proto, flow.sport)
    dport, dport_exact = _example_port(rule.destination.ports, flow.proto, flow.dport)
    after = replace(flow, sport=sport, dport=dport)
    if not all(_mapping_has_version(t.addresses, version) for t in (rule.source, rule.destination)):
        notes.append("translation between IPv4 and IPv6 is not modelled: the addresses may become any")
        return Rewrite(rule, flow, after, False, tuple(notes))
    after = replace(after, src=_example_address(rule.source.addresses, flow.src),
                    dst=_example_address(rule.destination.addresses, flow.dst))
    exact = (sport_exact and dport_exact and _address_exact(rule.source) and _address_exact(rule.destination)
             and not rule.widened)
    if not exact and not notes:
        notes.append("one of several packets the rule may produce")
    return Rewrite(rule, flow, after, exact, tuple(notes))
