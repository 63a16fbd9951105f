"""PAN-OS NAT rulebase -> vendor-neutral ``NatRule`` records.

How PAN-OS translates (and so how the records are staged):
- The NAT rulebase is ONE first-match table, evaluated once per session on the ORIGINAL
  packet: from-zone = ingress zone, to-zone = the zone the route lookup of the original
  destination gives (the pre-NAT zone), source, destination, service. A rule may
  translate the source, the destination, or both; a rule that translates nothing is a
  "no-NAT" rule that stops the search. All rules are therefore one BEFORE_FILTER table.
- The security policy then matches the PRE-NAT addresses but the POST-NAT destination
  zone (the zone of the translated destination). The parser sets
  ``Ruleset.policy_sees = "original"`` whenever there are NAT rules: the engine routes the
  translated packet for the zone and matches the policy with the original addresses.
- ``static-ip`` with ``bi-directional yes`` also translates the reverse direction: traffic
  to the translated address, into the rule's from-zone, gets the original source as its
  destination. It is an extra rule right after its own, marked uncertain (PAN-OS places
  the implied rule itself and matches it from any zone).
Whatever is not understood (an address that cannot be resolved, an unknown setting, a
``to-interface`` restriction, a target-device list) makes the rule uncertain or its
translation "any address", with a warning; ``nat64``/``nptv6`` rules and disabled rules go
to ``nat_statements``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, PortMapping, Translation
from plantgate.firewalls.panos.xml_syntax import PanNode
from plantgate.firewalls.ruleset import (
    ALL_PORTS,
    ANY_ADDRESS,
    ANY_SERVICE,
    AddressSet,
    IPNetwork,
    Service,
    SourceSpan,
)

NAT_COSMETIC = frozenset({"description", "tag", "group-tag", "uuid", "disabled", "active-active-device-binding",
                          "nat-type"})
NAT_FIELDS = frozenset({"from", "to", "source", "destination", "service", "to-interface", "target",
                        "source-translation", "destination-translation", "dynamic-destination-translation"})


@dataclass
class Resolution:
    """Addresses or services a list of names stands for; ``problems`` when not exact."""

    nets: list[IPNetwork]
    services: list[Service]
    problems: list[str]


@dataclass
class NatReader:
    """What reading NAT rules needs from the PAN-OS parser (name resolution, spans, warnings)."""

    addresses: Callable[[list[str], int], Resolution]
    services: Callable[[str, int], Resolution]
    span: Callable[[PanNode], SourceSpan]
    warn: Callable[[SourceSpan, str, bool], None]
    interface_address: Callable[[str], IPNetwork | None]


@dataclass
class _Draft:
    label: str
    span: SourceSpan
    reasons: list[str]
    uncertain: bool = False

    def unsure(self, reason: str) -> None:
        self.uncertain = True
        self.reasons.append(reason)


def nat_rules(reader: NatReader, entries: list[PanNode], statements: list[SourceSpan]) -> list[NatRule]:
    """The BEFORE_FILTER table of ``entries`` in order; skipped entries go to ``statements``."""
    rules: list[NatRule] = []
    for entry in entries:
        span = reader.span(entry)
        name = entry.name or "?"
        nat_type = entry.text("nat-type", "ipv4")
        if entry.text("disabled") == "yes":
            statements.append(span)
            reader.warn(span, f"NAT rule {name} is disabled: no translation", False)
            continue
        if nat_type != "ipv4":
            statements.append(span)
            reader.warn(span, f"NAT rule {name}: nat-type {nat_type} is not modelled; its translation is not "
                        "applied", True)
            continue
        for rule in _rules(reader, entry, span, len(rules)):
            rules.append(rule)
    return rules


def _rules(reader: NatReader, entry: PanNode, span: SourceSpan, count: int) -> list[NatRule]:
    name = entry.name or "?"
    draft = _Draft(f"NAT rule {name}", span, [])
    line = span.line
    from_zones = _zones(entry, "from", draft)
    to_zones = _zones(entry, "to", draft)
    sources = _match_addresses(reader, entry, "source", line, draft)
    destinations = _match_addresses(reader, entry, "destination", line, draft)
    services = _match_services(reader, entry, line, draft)
    if entry.text("to-interface", "any") != "any":
        draft.unsure(f"to-interface {entry.text('to-interface')} is not modelled: the rule may not apply")
    target = entry.child("target")
    if target is not None and (target.entries("devices") or target.text("negate") == "yes"):
        draft.unsure("applies only to some target devices")
    for child in entry.children:
        if child.tag not in NAT_FIELDS | NAT_COSMETIC:
            draft.unsure(f"unknown setting {child.tag}: the rule may apply more narrowly")
    source, kind, bidirectional = _source_translation(reader, entry.child("source-translation"), sources, line,
                                                      draft)
    destination, dkind = _destination_translation(reader, entry, line, draft)
    kind = "+".join(k for k in (kind, dkind) if k) or "identity"
    for reason in draft.reasons:
        reader.warn(span, f"{draft.label}: {reason}", True)
    rule = NatRule(
        rule_id=name, position=count + 1, span=span, stage=NatStage.BEFORE_FILTER, kind=kind,
        sources=sources, destinations=destinations, services=services, from_zones=from_zones, to_zones=to_zones,
        source=source, destination=destination, widened=tuple(draft.reasons), uncertain=draft.uncertain,
    )
    out = [rule]
    if bidirectional is not None:
        out.append(NatRule(
            rule_id=f"{name} (bi-directional)", position=count + 2, span=span, stage=NatStage.BEFORE_FILTER,
            kind="static", destinations=bidirectional, to_zones=from_zones,
            destination=Translation(_one_to_one(bidirectional, sources, draft.reasons)),
            widened=("the implied reverse rule's zones and position are approximated",), uncertain=True,
        ))
    return out


def _zones(entry: PanNode, tag: str, draft: _Draft) -> tuple[str, ...]:
    values = entry.members(tag)
    if not values:
        draft.unsure(f"no {tag} zone; treated as any")
        return ()
    return () if "any" in values else tuple(values)


def _match_addresses(reader: NatReader, entry: PanNode, tag: str, line: int, draft: _Draft) -> AddressSet:
    names = entry.members(tag)
    if not names:
        draft.unsure(f"no {tag}; treated as any")
        return ANY_ADDRESS
    if "any" in names:
        return ANY_ADDRESS
    resolved = reader.addresses(names, line)
    if resolved.problems:
        for problem in resolved.problems:
            draft.unsure(f"{tag} {problem}: matched as any")
        return ANY_ADDRESS
    return AddressSet(tuple(resolved.nets), names=tuple(names))


def _match_services(reader: NatReader, entry: PanNode, line: int, draft: _Draft) -> tuple[Service, ...]:
    name = entry.text("service", "any")
    if name == "any":
        return (ANY_SERVICE,)
    resolved = reader.services(name, line)
    if resolved.problems or not resolved.services:
        for problem in resolved.problems or [f"service {name} matches nothing known"]:
            draft.unsure(f"{problem}: matched as any service")
        return (ANY_SERVICE,)
    return tuple(resolved.services)


def _pool(reader: NatReader, names: list[str] | None, line: int, draft: _Draft, what: str) -> AddressSet:
    """Translated addresses (objects, literals, ranges); unresolvable: any address."""
    if not names:
        draft.reasons.append(f"{what} has no translated address: translated to any address")
        return ANY_ADDRESS
    resolved = reader.addresses(names, line)
    if resolved.problems or not resolved.nets:
        for problem in resolved.problems or [f"{' '.join(names)} is empty"]:
            draft.reasons.append(f"{what} {problem}: translated to any address")
        return ANY_ADDRESS
    return AddressSet(tuple(resolved.nets), names=tuple(names))


def _interface_pool(reader: NatReader, node: PanNode, line: int, draft: _Draft) -> AddressSet:
    """``interface-address``: its ``ip`` (or HA ``floating-ip``) if given, else the interface's address."""
    ip = node.members("ip") or node.members("floating-ip")
    if ip:
        literal = _host(ip[0])
        if literal is not None:
            return AddressSet((literal,))
        return _pool(reader, ip, line, draft, "interface-address ip")
    interface = node.text("interface")
    found = reader.interface_address(interface) if interface else None
    if found is None:
        draft.reasons.append(f"address of interface {interface or '(none)'} not found: translated to any address")
        return ANY_ADDRESS
    return AddressSet((found,))


def _host(text: str) -> IPNetwork | None:
    """``10.0.0.1/24`` (an interface address with its mask) -> 10.0.0.1/32; None if not a literal."""
    try:
        return ipaddress.ip_network(ipaddress.ip_interface(text).ip)
    except ValueError:
        return None


def _source_translation(
    reader: NatReader, node: PanNode | None, sources: AddressSet, line: int, draft: _Draft
) -> tuple[Translation, str, AddressSet | None]:
    """(translation, kind, the translated addresses when bi-directional static NAT)."""
    if node is None or not node.children:
        return Translation(), "", None
    method = node.children[0]
    if method.tag == "dynamic-ip-and-port":
        iface = method.child("interface-address")
        if iface is not None:
            pool = _interface_pool(reader, iface, line, draft)
        else:
            pool = _pool(reader, method.members("translated-address"), line, draft, "dynamic-ip-and-port")
        return Translation(AddressMapping(pool=pool), PortMapping(ALL_PORTS)), "dynamic-ip-and-port", None
    if method.tag == "dynamic-ip":
        pool = _pool(reader, method.members("translated-address"), line, draft, "dynamic-ip")
        fallback = method.child("fallback")
        if fallback is not None and not pool.is_any:
            draft.reasons.append("dynamic-ip fallback: any address (fallback addresses not read)")
            pool = ANY_ADDRESS
        return Translation(AddressMapping(pool=pool)), "dynamic-ip", None
    if method.tag == "static-ip":
        pool = _pool(reader, method.members("translated-address"), line, draft, "static-ip")
        mapping = _one_to_one(sources, pool, draft.reasons)
        return (Translation(mapping), "static-ip",
                pool if method.text("bi-directional") == "yes" and not pool.is_any else None)
    draft.reasons.append(f"source translation {method.tag} not understood: translated to any address")
    return Translation(AddressMapping(pool=ANY_ADDRESS), PortMapping(ALL_PORTS)), method.tag, None


def _one_to_one(original: AddressSet, translated: AddressSet, reasons: list[str]) -> AddressMapping:
    """Static one-to-one: one prefix onto one of the same size keeps the host bits.

    Anything else maps onto any address of the translated set: a superset, said in ``reasons``.
    """
    if len(original.include) == 1 and len(translated.include) == 1:
        a, b = original.include[0], translated.include[0]
        if a.prefixlen == b.prefixlen and b.num_addresses > 1:
            return AddressMapping(prefix=b)
    if sum(n.num_addresses for n in translated.include) > 1:
        reasons.append("static-ip onto several addresses: approximated by any of them")
    return AddressMapping(pool=translated)


def _destination_translation(reader: NatReader, entry: PanNode, line: int, draft: _Draft) -> tuple[Translation, str]:
    for tag, kind in (("destination-translation", "destination"), ("dynamic-destination-translation", "dynamic")):
        node = entry.child(tag)
        if node is None:
            continue
        names = node.members("translated-address")
        pool = _pool(reader, names, line, draft, tag)
        port_text = node.text("translated-port")
        ports = None
        if port_text:
            if port_text.isdigit() and int(port_text) <= 65535:
                ports = PortMapping((int(port_text), int(port_text)))
            else:
                draft.reasons.append(f"translated-port {port_text!r} not understood: any port")
                ports = PortMapping(ALL_PORTS)
        return Translation(AddressMapping(pool=pool), ports), kind
    return Translation(), ""
