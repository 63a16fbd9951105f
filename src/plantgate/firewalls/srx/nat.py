"""Junos SRX ``security nat`` -> vendor-neutral ``NatRule`` records.

Where Junos translates, relative to the security policy (Junos NAT processing order):
- static NAT, then destination NAT, are applied BEFORE the policy lookup: one BEFORE_FILTER
  table, static rules first (static NAT takes precedence over destination NAT);
- source NAT is applied AFTER the policy: one AFTER_FILTER table. The reverse half of each
  static NAT rule (traffic from the internal prefix leaves with the public address) comes
  first in it, as static NAT takes precedence over source NAT there too.
- Rule-sets are chosen by context: the most specific (``from``/``to`` interface, then zone,
  then routing-instance) that matches the packet wins, and its rules are first-match. Here
  the rule-sets of one table are ordered by that specificity (config order among equals)
  and their rules concatenated. Contexts map onto zones: an interface stands for its whole
  security zone and a routing-instance for any zone, so such rules are ``uncertain``; a rule
  of a less specific rule-set that a more specific one overlaps is uncertain too (whether
  Junos falls back to it when the specific rule-set has no matching rule is not modelled).
- ``then ... off`` is an identity rule (it matches and stops the search).
Whatever is not understood (unknown match or then keys, an undefined pool or address name,
an interface without an address) makes the rule uncertain or translates to any address,
with a ParseWarning; nothing is dropped silently.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, PortMapping, Translation
from plantgate.firewalls.routes import Interface
from plantgate.firewalls.ruleset import (
    ALL_PORTS,
    ANY_ADDRESS,
    ANY_SERVICE,
    SCTP,
    TCP,
    UDP,
    AddressSet,
    IPNetwork,
    PortRange,
    Service,
    SourceSpan,
    address_range,
)
from plantgate.firewalls.srx.hierarchy import ConfigNode

CONTEXT_RANK = {"interface": 0, "zone": 1, "routing-instance": 2}
PROTOCOLS = {"tcp": TCP, "udp": UDP, "sctp": SCTP, "icmp": 1, "icmp6": 58, "ospf": 89, "gre": 47, "esp": 50, "ah": 51}
MATCH_KEYS = frozenset({"source-address", "destination-address", "source-address-name", "destination-address-name",
                        "destination-port", "source-port", "protocol", "application"})
RULE_COSMETIC = frozenset({"description", "rule-session-count-alarm"})


@dataclass
class NatReader:
    """What reading NAT needs from the SRX parser."""

    span: Callable[[ConfigNode], SourceSpan]
    warn: Callable[[ConfigNode | None, str, bool], None]
    address_name: Callable[[str], tuple[list[IPNetwork], bool]]
    """Global address-book name -> (networks, resolved?)."""
    zone_of_interface: dict[str, str] = field(default_factory=dict)
    interface_addresses: dict[str, IPNetwork] = field(default_factory=dict)
    zone_interfaces: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Context:
    """A rule-set's from/to context as zones; ``exact`` False when the zones are a superset."""

    kind: str
    zones: tuple[str, ...]
    exact: bool
    interfaces: tuple[str, ...] = ()


@dataclass
class _Draft:
    reasons: list[str] = field(default_factory=list)
    uncertain: bool = False

    def unsure(self, reason: str) -> None:
        self.uncertain = True
        self.reasons.append(reason)


def read_nat(nat: ConfigNode | None, reader: NatReader) -> tuple[list[NatRule], list[SourceSpan]]:
    """All NAT rules (BEFORE_FILTER static then destination, AFTER_FILTER reverse static then source)."""
    if nat is None:
        return [], []
    before: list[NatRule] = []
    after: list[NatRule] = []
    for kind in nat.kids():
        if kind.word not in ("static", "destination", "source") and kind.child("rule-set") is not None:
            reader.warn(kind, f"security nat {kind.word} is not modelled", True)
    static_rules, reverse = _table(nat.child("static"), "static", reader)
    before += static_rules
    before += _table(nat.child("destination"), "destination", reader)[0]
    after += reverse
    after += _table(nat.child("source"), "source", reader)[0]
    statements: list[SourceSpan] = []
    for kind in nat.kids():
        if kind.word not in ("static", "destination", "source"):
            sets = kind.child("rule-set")
            for rule_set in sets.kids() if sets else []:
                rules = rule_set.child("rule")
                statements += [reader.span(r) for r in (rules.kids() if rules else [])]
    return _numbered(before) + _numbered(after), statements


def _numbered(rules: list[NatRule]) -> list[NatRule]:
    return [NatRule(r.rule_id, i, r.span, r.stage, r.kind, r.sources, r.destinations, r.services, r.from_zones,
                    r.to_zones, r.source, r.destination, r.widened, r.uncertain) for i, r in enumerate(rules, 1)]


def _table(node: ConfigNode | None, kind: str, reader: NatReader) -> tuple[list[NatRule], list[NatRule]]:
    """(the rules of ``kind`` in rule-set specificity order, the reverse rules of static NAT)."""
    if node is None:
        return [], []
    pools = node.child("pool")
    sets = node.child("rule-set")
    ordered: list[tuple[int, int, ConfigNode, _Context, _Context]] = []
    for index, rule_set in enumerate(sets.kids() if sets else []):
        src = _context(rule_set.child("from"), reader)
        dst = _context(rule_set.child("to"), reader) if kind == "source" else _Context("none", (), True)
        rank = CONTEXT_RANK.get(src.kind, 3) + (CONTEXT_RANK.get(dst.kind, 3) if kind == "source" else 0)
        ordered.append((rank, index, rule_set, src, dst))
    ordered.sort(key=lambda item: (item[0], item[1]))
    rules: list[NatRule] = []
    reverse: list[NatRule] = []
    for position, (rank, _, rule_set, src, dst) in enumerate(ordered):
        shadowed_by = [o for o in ordered[:position] if o[0] < rank and _overlaps(o[3], src) and _overlaps(o[4], dst)]
        rule_nodes = rule_set.child("rule")
        for rule in rule_nodes.kids() if rule_nodes else []:
            draft = _Draft()
            if not src.exact or not dst.exact:
                draft.unsure(f"rule-set {rule_set.word}: its interface or routing-instance context is "
                             "approximated by zones")
            if shadowed_by:
                draft.unsure(f"rule-set {shadowed_by[0][2].word} is more specific; fall-back to this rule-set "
                             "is not modelled")
            made = _rule(rule, rule_set, kind, src, dst, pools, reader, draft)
            if made is not None:
                rules.append(made[0])
                reverse += made[1]
    return rules, reverse


def _context(node: ConfigNode | None, reader: NatReader) -> _Context:
    if node is None or not node.kids():
        return _Context("none", (), False)
    kid = node.kids()[0]
    names = kid.words()
    if kid.word == "zone":
        return _Context("zone", tuple(names), True)
    if kid.word == "interface":
        zones = tuple(dict.fromkeys(reader.zone_of_interface.get(n, "") for n in names))
        if "" in zones:
            return _Context("interface", (), False, tuple(names))
        return _Context("interface", zones, False, tuple(names))
    return _Context(kid.word, (), False)


def _overlaps(a: _Context, b: _Context) -> bool:
    return not a.zones or not b.zones or bool(set(a.zones) & set(b.zones))


def _rule(
    rule: ConfigNode, rule_set: ConfigNode, kind: str, src: _Context, dst: _Context, pools: ConfigNode | None,
    reader: NatReader, draft: _Draft,
) -> tuple[NatRule, list[NatRule]] | None:
    rule_id = f"{kind} {rule_set.word}/{rule.word}"
    span = reader.span(rule)
    match = rule.child("match")
    for key in rule.kids():
        if key.word not in ("match", "then") and key.word not in RULE_COSMETIC:
            draft.unsure(f"unknown statement {key.word}")
    sources = _addresses(match, "source-address", reader, draft)
    destinations = _addresses(match, "destination-address", reader, draft)
    services = _services(match, draft)
    for key in match.kids() if match else []:
        if key.word not in MATCH_KEYS:
            draft.unsure(f"match {key.word} is not modelled: the rule may apply more narrowly")
    then = rule.find("then", f"{kind}-nat")
    source, destination, reverse = Translation(), Translation(), []
    label = "identity"
    if then is None or not then.kids():
        draft.reasons.append(f"then {kind}-nat is missing or not understood: translated to any address")
        any_translation = Translation(AddressMapping(pool=ANY_ADDRESS))
        source, destination = (any_translation, Translation()) if kind == "source" else (Translation(), any_translation)
        label = kind
    elif then.child("off") is not None:
        label = "identity"
    elif kind == "static":
        destination, back, label = _static(then, destinations, draft)
        if back is not None:
            reverse.append(NatRule(
                rule_id=f"{rule_id} (reverse)", position=0, span=span, stage=NatStage.AFTER_FILTER, kind="static",
                sources=back[0], source=Translation(back[1]), to_zones=src.zones,
                widened=("reverse static NAT applied only toward the rule-set's from context",), uncertain=True,
            ))
    elif kind == "destination":
        destination, label = _destination(then, pools, draft)
    else:
        source, label = _source(then, pools, dst, reader, draft)
    for reason in draft.reasons:
        reader.warn(rule, f"{rule_id}: {reason}", True)
    stage = NatStage.AFTER_FILTER if kind == "source" else NatStage.BEFORE_FILTER
    made = NatRule(
        rule_id=rule_id, position=0, span=span, stage=stage, kind=label, sources=sources, destinations=destinations,
        services=services, from_zones=src.zones, to_zones=dst.zones, source=source, destination=destination,
        widened=tuple(draft.reasons), uncertain=draft.uncertain,
    )
    return made, reverse


def _addresses(match: ConfigNode | None, key: str, reader: NatReader, draft: _Draft) -> AddressSet:
    nets: list[IPNetwork] = []
    names: list[str] = []
    literal = match.child(key) if match else None
    named = match.child(f"{key}-name") if match else None
    if literal is None and named is None:
        return ANY_ADDRESS
    for word in literal.words() if literal else []:
        try:
            nets.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            draft.unsure(f"{key} {word!r} not understood: matched as any")
            return ANY_ADDRESS
    for name in named.words() if named else []:
        found, resolved = reader.address_name(name)
        if not resolved:
            draft.unsure(f"{key}-name {name!r} is not resolvable: matched as any")
            return ANY_ADDRESS
        nets += found
        names.append(name)
    return AddressSet(tuple(dict.fromkeys(nets)), names=tuple(names))


def _ports(node: ConfigNode | None, draft: _Draft) -> tuple[PortRange, ...]:
    """``80``, ``100 to 200`` (one or several) -> port ranges."""
    ranges: list[PortRange] = []
    for kid in node.kids() if node else []:
        high = kid.find("to")
        try:
            low_port = int(kid.word)
            high_port = int(high.words()[0]) if high is not None and high.words() else low_port
        except ValueError:
            draft.unsure(f"port {kid.word!r} not understood: any port")
            return ()
        ranges.append((low_port, high_port))
    return tuple(ranges)


def _services(match: ConfigNode | None, draft: _Draft) -> tuple[Service, ...]:
    if match is None:
        return (ANY_SERVICE,)
    dst = _ports(match.child("destination-port"), draft)
    src = _ports(match.child("source-port"), draft)
    protocol = match.child("protocol")
    words = protocol.words() if protocol else []
    if match.child("application") is not None:
        draft.unsure("match application is not resolved: any service")
        return (ANY_SERVICE,)
    protocols: list[int | None] = []
    for word in words:
        number = PROTOCOLS.get(word, int(word) if word.isdigit() else -1)
        if number < 0:
            draft.unsure(f"protocol {word!r} not understood: any protocol")
            return (ANY_SERVICE,)
        protocols.append(number)
    if dst or src:
        port_protocols = [p for p in protocols if p in (TCP, UDP, SCTP)] or [TCP, UDP, SCTP]
        return tuple(Service(p, src_ports=src, dst_ports=dst) for p in port_protocols)
    return tuple(Service(p) for p in protocols) or (ANY_SERVICE,)


def _static(
    then: ConfigNode, destinations: AddressSet, draft: _Draft
) -> tuple[Translation, tuple[AddressSet, AddressMapping] | None, str]:
    """``static-nat prefix P``: destination D -> P one to one, and the reverse P -> D for the source."""
    prefix = then.child("prefix")
    words = prefix.words() if prefix else []
    try:
        target = ipaddress.ip_network(words[0], strict=False) if words else None
    except ValueError:
        target = None
    if target is None:
        draft.reasons.append("static-nat target not understood (prefix-name, inet): translated to any address")
        return Translation(AddressMapping(pool=ANY_ADDRESS)), None, "static"
    if len(destinations.include) != 1 or destinations.is_any:
        draft.reasons.append("static NAT of several destination prefixes: any address of the target prefix")
        return Translation(AddressMapping(pool=AddressSet((target,)))), None, "static"
    original = destinations.include[0]
    forward = _one_to_one(original, target)
    reverse = (AddressSet((target,)), _one_to_one(target, original))
    if any("mapped-port" in path for path in then.leaf_paths()):
        draft.reasons.append("static-nat mapped-port is not read: translated to any port")
        return Translation(forward, PortMapping(ALL_PORTS)), reverse, "static"
    return Translation(forward), reverse, "static"


def _one_to_one(original: IPNetwork, target: IPNetwork) -> AddressMapping:
    if target.num_addresses > 1 and original.prefixlen == target.prefixlen:
        return AddressMapping(prefix=target)
    return AddressMapping(pool=AddressSet((target,)))


def _pool(pools: ConfigNode | None, name: str, draft: _Draft) -> tuple[AddressSet, ConfigNode | None]:
    node = pools.child(name) if pools else None
    address = node.child("address") if node else None
    if address is None or not address.kids():
        draft.reasons.append(f"pool {name!r} is not defined or has no address: translated to any address")
        return ANY_ADDRESS, node
    nets: list[IPNetwork] = []
    for item in address.kids():
        try:
            first = ipaddress.ip_network(item.word, strict=False)
            last = item.find("to")
            if last is not None and last.words():
                end = ipaddress.ip_interface(last.words()[0]).ip
                nets.extend(address_range(str(ipaddress.ip_interface(item.word).ip), str(end)))
            else:
                nets.append(first)
        except ValueError:
            draft.reasons.append(f"pool {name!r} address {item.word!r} not understood: any address")
            return ANY_ADDRESS, node
    return AddressSet(tuple(nets), names=(name,)), node


def _destination(then: ConfigNode, pools: ConfigNode | None, draft: _Draft) -> tuple[Translation, str]:
    pool_node = then.child("pool")
    name = pool_node.words()[0] if pool_node and pool_node.words() else ""
    pool, node = _pool(pools, name, draft)
    ports: PortMapping | None = None
    address = node.child("address") if node else None
    for item in address.kids() if address else []:
        port = item.find("port")
        if port is not None and port.words() and port.words()[0].isdigit():
            ports = PortMapping((int(port.words()[0]), int(port.words()[0])))
    return Translation(AddressMapping(pool=pool), ports), "destination"


def _source(
    then: ConfigNode, pools: ConfigNode | None, dst: _Context, reader: NatReader, draft: _Draft
) -> tuple[Translation, str]:
    if then.child("interface") is not None:
        interfaces = list(dst.interfaces) or [i for zone in dst.zones for i in reader.zone_interfaces.get(zone, [])]
        known = [reader.interface_addresses[i] for i in interfaces if i in reader.interface_addresses]
        if (not dst.exact and not dst.interfaces) or not interfaces or len(known) != len(interfaces):
            draft.reasons.append("egress interface address not known: translated to any address")
            return Translation(AddressMapping(pool=ANY_ADDRESS), PortMapping(ALL_PORTS)), "interface"
        return Translation(AddressMapping(pool=AddressSet(tuple(known))), PortMapping(ALL_PORTS)), "interface"
    pool_node = then.child("pool")
    name = pool_node.words()[0] if pool_node and pool_node.words() else ""
    pool, node = _pool(pools, name, draft)
    port = node.child("port") if node else None
    keep = port is not None and port.child("no-translation") is not None
    return Translation(AddressMapping(pool=pool), None if keep else PortMapping(ALL_PORTS)), "pool"


def interface_facts(root: ConfigNode, layer3: list[Interface]
                    ) -> tuple[dict[str, IPNetwork], dict[str, str], dict[str, list[str]]]:
    """(logical interface -> its own IPv4 address, interface -> zone, zone -> interfaces); the
    addresses are those the interface reader found (``srx.routes``)."""
    addresses: dict[str, IPNetwork] = {}
    for interface in layer3:
        first = next((a for a in interface.addresses if a.version == 4), None)
        if first is not None:
            addresses[interface.name] = ipaddress.ip_network(first.ip)
    zone_of: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    zones = root.find("security", "zones", "security-zone")
    for zone in zones.kids() if zones else []:
        names = zone.child("interfaces")
        for name in names.words() if names else []:
            zone_of[name] = zone.word
            members.setdefault(zone.word, []).append(name)
    return addresses, zone_of, members
