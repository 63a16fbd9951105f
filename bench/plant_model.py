"""A vendor-neutral, seeded model of a large plant firewall policy, for the benchmarks.

Why it exists: the parse, analysis and diff benchmarks need big configs that look like a
real OT/IT boundary (zones with security levels, host and subnet objects, nested groups,
port groups, overlapping and shadowed rules), and the same policy must be written out for
several vendors. Generating one abstract policy and rendering it per vendor (``render``)
keeps the vendors comparable and the generator deterministic: the same seed and size
always give byte-identical configs.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import random
from dataclasses import dataclass, field
from typing import Literal

AddrKind = Literal["any", "host", "subnet", "object", "group", "nat"]
SvcKind = Literal["ip", "proto", "eq", "range", "gt", "object", "portgroup", "group", "nat"]
NatKind = Literal["static", "port-forward", "hide"]


@dataclass(frozen=True)
class Zone:
    """An interface/zone of the firewall, with its ASA security level and its subnet."""

    name: str
    level: int
    network: ipaddress.IPv4Network
    hardware: str


@dataclass(frozen=True)
class NetObject:
    """``host``, ``subnet`` or ``range`` object; ``first``/``last`` are addresses (equal for a host)."""

    name: str
    kind: Literal["host", "subnet", "range"]
    network: ipaddress.IPv4Network
    first: ipaddress.IPv4Address
    last: ipaddress.IPv4Address


@dataclass(frozen=True)
class NetGroup:
    """A network group: literal networks, objects and (earlier, so acyclic) nested groups."""

    name: str
    networks: tuple[ipaddress.IPv4Network, ...]
    objects: tuple[str, ...]
    groups: tuple[str, ...]


@dataclass(frozen=True)
class ServiceObject:
    """One protocol with a destination port range."""

    name: str
    protocol: Literal["tcp", "udp"]
    low: int
    high: int


@dataclass(frozen=True)
class PortGroup:
    """A single-protocol port group (ASA ``object-group service NAME tcp`` with port-objects)."""

    name: str
    protocol: Literal["tcp", "udp"]
    ports: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class ServiceGroup:
    """A mixed service group of service objects and (earlier) nested service groups."""

    name: str
    services: tuple[str, ...]
    groups: tuple[str, ...]


@dataclass(frozen=True)
class AddrRef:
    """What a rule names as source or destination; kind "nat" names a ``NatEntry`` (each vendor
    writes it its own way: the real host, the VIP, or the mapped address)."""

    kind: AddrKind
    value: str = ""  # dotted address, CIDR or object/group/NAT entry name


@dataclass(frozen=True)
class SvcRef:
    """What a rule names as its service. ``protocol`` is tcp/udp/icmp for inline forms; kind "nat"
    is a port forward's port (``name`` the entry): real or mapped, as the vendor's policy sees it."""

    kind: SvcKind
    protocol: str = ""
    low: int = 0
    high: int = 0
    name: str = ""


@dataclass(frozen=True)
class PolicyRule:
    """One rule from ``from_zone`` to ``to_zone``; ``acl`` is the ASA ACL it is written into."""

    number: int
    acl: str
    from_zone: str
    to_zone: str
    permit: bool
    source: AddrRef
    destination: AddrRef
    service: SvcRef
    log: bool = False


@dataclass(frozen=True)
class NatEntry:
    """One address translation of the boundary, vendor-neutral.

    ``static``: the host ``real`` published 1:1 as ``mapped`` (both directions). ``port-forward``:
    ``mapped``:``mapped_port`` reaches ``real``:``real_port`` (``protocol``). ``hide``: the range
    ``real`` leaves ``mapped_zone`` behind ``mapped`` with any port (PAT), or behind the mapped
    zone's interface address when ``mapped`` is None. ``twice``: ASA writes it as twice NAT.
    """

    name: str
    kind: NatKind
    real_zone: str
    mapped_zone: str
    real: ipaddress.IPv4Network
    mapped: ipaddress.IPv4Address | None
    protocol: str = ""
    real_port: int = 0
    mapped_port: int = 0
    twice: bool = False


@dataclass
class PlantPolicy:
    """Everything a renderer needs: zones, names, objects, groups, ordered rules and NAT entries."""

    seed: int
    zones: list[Zone]
    host_names: dict[str, str] = field(default_factory=dict)  # ASA ``name`` -> address
    net_objects: dict[str, NetObject] = field(default_factory=dict)
    net_groups: dict[str, NetGroup] = field(default_factory=dict)
    service_objects: dict[str, ServiceObject] = field(default_factory=dict)
    port_groups: dict[str, PortGroup] = field(default_factory=dict)
    service_groups: dict[str, ServiceGroup] = field(default_factory=dict)
    rules: list[PolicyRule] = field(default_factory=list)
    nat: dict[str, NatEntry] = field(default_factory=dict)

    def zone(self, name: str) -> Zone:
        return next(z for z in self.zones if z.name == name)

    def nat_carriers(self) -> frozenset[int]:
        """Numbers of the rules that carry a hide-NAT (a FortiGate policy with ``set nat enable``)."""
        return frozenset(r.number for r in self.rules
                         if r.source.kind == "nat" and self.nat[r.source.value].kind == "hide")


ZONE_LAYOUT: tuple[tuple[str, int], ...] = (
    ("outside", 0), ("vendor", 10), ("inside", 100), ("mgmt", 90),
    ("idmz", 50), ("historian", 60), ("ot-l3", 70), ("ot-l2", 80),
)
OT_PORTS = (502, 102, 44818, 2222, 4840, 20000, 1433, 3389, 22, 443, 80, 123, 161, 514, 53, 8080)
GLOBAL_ACL = "global_acl"


def _zones() -> list[Zone]:
    return [
        Zone(name, level, ipaddress.IPv4Network(f"10.{16 + 8 * i}.0.0/13"), f"GigabitEthernet0/{i}")
        for i, (name, level) in enumerate(ZONE_LAYOUT)
    ]


class _Builder:
    """Draws objects and rules from one ``random.Random`` so the output depends only on the seed."""

    def __init__(self, policy: PlantPolicy) -> None:
        self.policy = policy
        self.rng = random.Random(policy.seed)
        self.zone_objects: dict[str, list[str]] = {z.name: [] for z in policy.zones}
        self.zone_groups: dict[str, list[str]] = {z.name: [] for z in policy.zones}
        self.zone_names: dict[str, list[str]] = {z.name: [] for z in policy.zones}

    def host(self, zone: Zone) -> ipaddress.IPv4Address:
        return zone.network[self.rng.randrange(1, zone.network.num_addresses - 1)]

    def subnet(self, zone: Zone) -> ipaddress.IPv4Network:
        length = self.rng.choice((16, 20, 22, 24, 24, 24, 26, 28, 28, 30))
        return ipaddress.IPv4Network(f"{self.host(zone)}/{length}", strict=False)

    def add_objects(self, count: int) -> None:
        for i in range(count):
            zone = self.rng.choice(self.policy.zones)
            kind = self.rng.choice(("host", "host", "subnet", "range"))
            name = f"{zone.name}-{kind}-{i}"
            if kind == "host":
                address = self.host(zone)
                net = ipaddress.IPv4Network(address)
                obj = NetObject(name, "host", net, address, address)
            elif kind == "subnet":
                net = self.subnet(zone)
                obj = NetObject(name, "subnet", net, net.network_address, net.broadcast_address)
            else:
                first = self.host(zone)
                last = min(first + self.rng.randint(1, 40), zone.network.broadcast_address - 1)
                obj = NetObject(name, "range", ipaddress.IPv4Network(first), first, last)
            self.policy.net_objects[name] = obj
            self.zone_objects[zone.name].append(name)

    def add_names(self, count: int) -> None:
        for i in range(count):
            zone = self.rng.choice(self.policy.zones)
            name = f"{zone.name}-srv{i}"
            self.policy.host_names[name] = str(self.host(zone))
            self.zone_names[zone.name].append(name)

    def add_groups(self, count: int) -> None:
        for i in range(count):
            zone = self.rng.choice(self.policy.zones)
            objects = self.zone_objects[zone.name]
            picked = tuple(dict.fromkeys(self.rng.sample(objects, min(len(objects), self.rng.randint(1, 4)))))
            nets = tuple(self.subnet(zone) for _ in range(self.rng.randint(0, 2)))
            earlier = self.zone_groups[zone.name]
            nested = tuple(self.rng.sample(earlier, min(len(earlier), self.rng.choice((0, 0, 1, 2)))))
            if not picked and not nets:
                nets = (self.subnet(zone),)
            name = f"{zone.name}-grp-{i}"
            self.policy.net_groups[name] = NetGroup(name, nets, picked, nested)
            self.zone_groups[zone.name].append(name)

    def add_services(self, objects: int, port_groups: int, groups: int) -> None:
        for i in range(objects):
            proto = self.rng.choice(("tcp", "tcp", "tcp", "udp"))
            low = self.rng.choice(OT_PORTS + (self.rng.randint(1024, 60000),))
            high = low if self.rng.random() < 0.7 else min(65535, low + self.rng.randint(1, 500))
            name = f"svc-{proto}-{low}-{i}"
            self.policy.service_objects[name] = ServiceObject(name, proto, low, high)  # type: ignore[arg-type]
        for i in range(port_groups):
            proto = self.rng.choice(("tcp", "tcp", "udp"))
            ports = []
            for _ in range(self.rng.randint(1, 5)):
                low = self.rng.choice(OT_PORTS + (self.rng.randint(1024, 60000),))
                ports.append((low, low if self.rng.random() < 0.8 else min(65535, low + self.rng.randint(1, 100))))
            name = f"ports-{proto}-{i}"
            self.policy.port_groups[name] = PortGroup(name, proto, tuple(dict.fromkeys(ports)))  # type: ignore[arg-type]
        names = list(self.policy.service_objects)
        for i in range(groups):
            earlier = list(self.policy.service_groups)
            members = tuple(dict.fromkeys(self.rng.sample(names, min(len(names), self.rng.randint(1, 4)))))
            nested = tuple(self.rng.sample(earlier, min(len(earlier), self.rng.choice((0, 0, 1)))))
            name = f"svcgrp-{i}"
            self.policy.service_groups[name] = ServiceGroup(name, members, nested)

    def address(self, zone: Zone) -> AddrRef:
        roll = self.rng.random()
        if roll < 0.08:
            return AddrRef("any")
        if roll < 0.30:
            names = self.zone_names[zone.name]
            if names and self.rng.random() < 0.3:
                return AddrRef("host", names[self.rng.randrange(len(names))])
            return AddrRef("host", str(self.host(zone)))
        if roll < 0.50:
            return AddrRef("subnet", str(self.subnet(zone)))
        if roll < 0.75 and self.zone_objects[zone.name]:
            return AddrRef("object", self.rng.choice(self.zone_objects[zone.name]))
        if self.zone_groups[zone.name]:
            return AddrRef("group", self.rng.choice(self.zone_groups[zone.name]))
        return AddrRef("subnet", str(self.subnet(zone)))

    def service(self) -> SvcRef:
        roll = self.rng.random()
        proto = self.rng.choice(("tcp", "tcp", "tcp", "udp"))
        port = self.rng.choice(OT_PORTS)
        if roll < 0.04:
            return SvcRef("ip")
        if roll < 0.08:
            return SvcRef("proto", protocol=self.rng.choice(("tcp", "udp", "icmp")))
        if roll < 0.45:
            return SvcRef("eq", protocol=proto, low=port, high=port)
        if roll < 0.55:
            return SvcRef("range", protocol=proto, low=port, high=min(65535, port + self.rng.randint(1, 200)))
        if roll < 0.58:
            return SvcRef("gt", protocol=proto, low=1024, high=65535)
        if roll < 0.72 and self.policy.service_objects:
            return SvcRef("object", name=self.rng.choice(list(self.policy.service_objects)))
        if roll < 0.86 and self.policy.port_groups:
            return SvcRef("portgroup", name=self.rng.choice(list(self.policy.port_groups)))
        if self.policy.service_groups:
            return SvcRef("group", name=self.rng.choice(list(self.policy.service_groups)))
        return SvcRef("eq", protocol=proto, low=port, high=port)

    def add_rules(self, count: int) -> None:
        zones = self.policy.zones
        rules = self.policy.rules
        while len(rules) < count:
            number = len(rules) + 1
            roll = self.rng.random()
            if rules and roll < 0.04:  # exact duplicate later on: redundant
                rules.append(dataclasses.replace(self.rng.choice(rules), number=number))
                continue
            if rules and roll < 0.10:  # a narrower rule of opposite action under a broad one: shadowed
                base = self.rng.choice(rules)
                dst_zone = self.policy.zone(base.to_zone)
                rules.append(dataclasses.replace(
                    base, number=number, permit=not base.permit,
                    destination=AddrRef("host", str(self.host(dst_zone))) if base.destination.kind == "any"
                    else base.destination))
                continue
            src_zone, dst_zone = self.rng.sample(zones, 2)
            acl = GLOBAL_ACL if self.rng.random() < 0.03 else f"{src_zone.name}_in"
            rules.append(PolicyRule(
                number, acl, src_zone.name, dst_zone.name, self.rng.random() < 0.75,
                self.address(src_zone), self.address(dst_zone), self.service(), self.rng.random() < 0.2,
            ))


def build_policy(rules: int, seed: int = 1, zones: list[Zone] | None = None) -> PlantPolicy:
    """A deterministic policy with ``rules`` rules and objects in proportion to it.

    ``zones`` replaces the default eight-zone layout (a fleet plant maps its firewalls' zones
    onto its treaty's zones, each with an address block of its own).
    """
    policy = PlantPolicy(seed=seed, zones=list(zones) if zones is not None else _zones())
    builder = _Builder(policy)
    scale = max(rules, 40)
    builder.add_names(scale // 50)
    builder.add_objects(scale // 8)
    builder.add_groups(scale // 30)
    builder.add_services(scale // 40, scale // 80, scale // 100)
    builder.add_rules(rules)
    return policy


def mutate_policy(policy: PlantPolicy, changes: int, opening: bool, seed: int = 7,
                  frozen: frozenset[int] = frozenset()) -> PlantPolicy:
    """A candidate change of ``policy``: ``changes`` edits, each closing (permit -> deny).

    With ``opening`` every third edit opens instead (deny -> permit, or a permit widened to
    any destination), so the candidate is not a subset and the diff has both directions.
    Rules numbered in ``frozen`` are left alone (a FortiGate policy carrying NAT: denying it
    would also remove its translation).
    """
    rng = random.Random(seed)
    rules = list(policy.rules)
    for edit in range(changes):
        opens = opening and edit % 3 == 2
        candidates = ([i for i, r in enumerate(rules) if r.number not in frozen] if opens
                      else [i for i, r in enumerate(rules) if r.permit and r.number not in frozen])
        index = rng.choice(candidates)
        rule = rules[index]
        if opens and not rule.permit:
            rules[index] = dataclasses.replace(rule, permit=True)
        elif opens:
            rules[index] = dataclasses.replace(rule, destination=AddrRef("any"))
        else:
            rules[index] = dataclasses.replace(rule, permit=False)
    return dataclasses.replace(policy, rules=rules)


# ----- address translation at the boundary -----

MAPPED_ZONE = "outside"
DMZ_ZONES = ("idmz", "historian")
OT_ZONES = ("ot-l3", "ot-l2")
HIDDEN_ZONES = ("inside", "mgmt", "historian", "ot-l3", "ot-l2")
PUBLIC_RANGES = ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24")
BENCHMARK_RANGE = "198.18.0.0/15"
"""RFC 2544's benchmarking block: mapped addresses past the documentation ranges' 762 hosts."""
FORWARDED_PORTS = (("tcp", 502), ("tcp", 102), ("tcp", 44818), ("udp", 2222), ("tcp", 4840), ("tcp", 20000),
                   ("tcp", 443), ("tcp", 22), ("tcp", 3389), ("tcp", 80), ("tcp", 1433), ("tcp", 8080))


def public_addresses(rng: random.Random, count: int) -> list[ipaddress.IPv4Address]:
    """``count`` distinct mapped addresses: the documentation ranges' hosts in a seeded order, then 198.18/15."""
    documentation = [a for net in PUBLIC_RANGES for a in ipaddress.IPv4Network(net).hosts()]
    rng.shuffle(documentation)
    if count <= len(documentation):
        return documentation[:count]
    extra = ipaddress.IPv4Network(BENCHMARK_RANGE).hosts()
    return documentation + [next(extra) for _ in range(count - len(documentation))]


def _nat_kinds(rng: random.Random, count: int) -> list[NatKind]:
    """About 40 % static publishes, 40 % port forwards, 20 % hide-NAT, in a seeded order."""
    statics, forwards = round(count * 0.4), round(count * 0.4)
    kinds: list[NatKind] = ["static"] * statics + ["port-forward"] * forwards + ["hide"] * (count - statics - forwards)
    rng.shuffle(kinds)
    return kinds


class _NatDrawer:
    """Draws NAT entries (distinct real hosts, distinct mapped addresses) from one generator."""

    def __init__(self, policy: PlantPolicy, rng: random.Random, mapped: list[ipaddress.IPv4Address]) -> None:
        self.policy, self.rng, self.mapped = policy, rng, iter(mapped)
        self.used: set[ipaddress.IPv4Address] = set()

    def host(self, zone_names: tuple[str, ...]) -> tuple[str, ipaddress.IPv4Network]:
        zone = self.policy.zone(self.rng.choice(zone_names))
        while True:
            address = zone.network[self.rng.randrange(2, zone.network.num_addresses - 1)]
            if address not in self.used:
                self.used.add(address)
                return zone.name, ipaddress.IPv4Network(address)

    def entry(self, number: int, kind: NatKind) -> NatEntry:
        rng = self.rng
        if kind == "static":
            zone, real = self.host(DMZ_ZONES)
            return NatEntry(f"nat-static-{number}", kind, zone, MAPPED_ZONE, real, next(self.mapped),
                            twice=rng.random() < 0.05)
        if kind == "port-forward":
            zone, real = self.host(DMZ_ZONES + OT_ZONES)
            protocol, port = rng.choice(FORWARDED_PORTS)
            return NatEntry(f"nat-fwd-{number}", kind, zone, MAPPED_ZONE, real, next(self.mapped), protocol,
                            port, rng.randint(1025, 65000))
        zone = self.policy.zone(rng.choice(HIDDEN_ZONES))
        length = rng.choice((24, 24, 25, 26, 27, 28))
        start = zone.network[rng.randrange(256, zone.network.num_addresses - 256)]
        real = ipaddress.IPv4Network(f"{start}/{length}", strict=False)
        mapped = next(self.mapped) if rng.random() < 0.75 else None  # else the interface's own address
        return NatEntry(f"nat-hide-{number}", kind, zone.name, MAPPED_ZONE, real, mapped, twice=rng.random() < 0.1)


def _nat_rule(policy: PlantPolicy, entry: NatEntry, base: PolicyRule, rng: random.Random) -> PolicyRule:
    """A permit that needs ``entry`` (it replaces ``base``, keeping its number and logging).

    Inbound to a published host or port forward from the mapped zone; outbound from a hidden
    range to the mapped zone, so the translation decides what leaves.
    """
    outside = policy.zone(MAPPED_ZONE)
    if entry.kind == "hide":
        destination = AddrRef("any") if rng.random() < 0.5 else AddrRef(
            "host", str(outside.network[rng.randrange(2, outside.network.num_addresses - 1)]))
        service = SvcRef("eq", protocol="tcp", low=443, high=443) if rng.random() < 0.5 else SvcRef("ip")
        return PolicyRule(base.number, f"{entry.real_zone}_in", entry.real_zone, MAPPED_ZONE, True,
                          AddrRef("nat", entry.name), destination, service, base.log)
    if entry.kind == "port-forward":
        service = SvcRef("nat", protocol=entry.protocol, name=entry.name)
    else:
        port = rng.choice((443, 443, 80, 22, 1433, 8080))
        service = SvcRef("eq", protocol="tcp", low=port, high=port)
    source = AddrRef("any") if rng.random() < 0.6 else AddrRef(
        "subnet", str(ipaddress.IPv4Network(f"{outside.network[rng.randrange(outside.network.num_addresses)]}/24",
                                            strict=False)))
    return PolicyRule(base.number, f"{MAPPED_ZONE}_in", MAPPED_ZONE, entry.real_zone, True, source,
                      AddrRef("nat", entry.name), service, base.log)


def add_nat(policy: PlantPolicy, count: int, seed: int = 1) -> PlantPolicy:
    """``policy`` with ``count`` NAT entries and rules that depend on them (a new policy; the input is kept).

    The mix of a plant boundary: ~40 % static 1:1 publishes of DMZ hosts, ~40 % port forwards
    (public:port -> DMZ/OT host:port), ~20 % hide-NAT of internal ranges (3 in 4 behind a pool
    address, the rest behind the outside interface). Mapped addresses are distinct. Every hide
    entry and half of the others replace a random rule with a permit that needs the translation,
    so the rule count stays the same. Needs the default zone layout.
    """
    rng = random.Random(seed)
    drawer = _NatDrawer(policy, rng, public_addresses(rng, count))
    entries = [drawer.entry(number, kind) for number, kind in enumerate(_nat_kinds(rng, count), start=1)]
    users = [e for e in entries if e.kind == "hide" or rng.random() < 0.5]
    if len(users) > len(policy.rules):
        raise ValueError(f"{len(users)} rules must use NAT but the policy has {len(policy.rules)}")
    rules = list(policy.rules)
    for entry, index in zip(users, rng.sample(range(len(rules)), len(users)), strict=True):
        rules[index] = _nat_rule(policy, entry, rules[index], rng)
    return dataclasses.replace(policy, rules=rules, nat={e.name: e for e in entries})


# ----- resolving references to concrete values (for packets and for the Aerleon policy) -----


def object_networks(obj: NetObject) -> list[ipaddress.IPv4Network]:
    """The CIDRs of an object (a range is summarised exactly)."""
    if obj.kind == "range":
        return list(ipaddress.summarize_address_range(obj.first, obj.last))
    return [obj.network]


def group_networks(policy: PlantPolicy, name: str) -> list[ipaddress.IPv4Network]:
    """Every CIDR of a network group, nested groups included."""
    group = policy.net_groups[name]
    nets = list(group.networks)
    for obj in group.objects:
        nets += object_networks(policy.net_objects[obj])
    for nested in group.groups:
        nets += group_networks(policy, nested)
    return nets


def address_networks(policy: PlantPolicy, ref: AddrRef) -> list[ipaddress.IPv4Network]:
    """The CIDRs a rule's address field denotes; ``any`` is 0.0.0.0/0."""
    if ref.kind == "any":
        return [ipaddress.IPv4Network("0.0.0.0/0")]
    if ref.kind == "host":
        return [ipaddress.IPv4Network(policy.host_names.get(ref.value, ref.value))]
    if ref.kind == "subnet":
        return [ipaddress.IPv4Network(ref.value)]
    if ref.kind == "nat":  # the real side: what the host or range is behind its translation
        return [policy.nat[ref.value].real]
    if ref.kind == "object":
        return object_networks(policy.net_objects[ref.value])
    return group_networks(policy, ref.value)


def service_group_ports(policy: PlantPolicy, name: str) -> list[tuple[str, int, int]]:
    group = policy.service_groups[name]
    out: list[tuple[str, int, int]] = [
        (s.protocol, s.low, s.high) for s in (policy.service_objects[n] for n in group.services)]
    for nested in group.groups:
        out += service_group_ports(policy, nested)
    return out


def service_ports(policy: PlantPolicy, ref: SvcRef) -> list[tuple[str, int, int]]:
    """(protocol, low, high) triples; protocol "ip" is every protocol, (0, 65535) every port."""
    if ref.kind == "ip":
        return [("ip", 0, 65535)]
    if ref.kind == "proto":
        return [(ref.protocol, 0, 65535)]
    if ref.kind in ("eq", "range", "gt"):
        return [(ref.protocol, ref.low, ref.high)]
    if ref.kind == "nat":
        entry = policy.nat[ref.name]
        return [(entry.protocol, entry.real_port, entry.real_port)]
    if ref.kind == "object":
        svc = policy.service_objects[ref.name]
        return [(svc.protocol, svc.low, svc.high)]
    if ref.kind == "portgroup":
        pg = policy.port_groups[ref.name]
        return [(pg.protocol, lo, hi) for lo, hi in pg.ports]
    return service_group_ports(policy, ref.name)
