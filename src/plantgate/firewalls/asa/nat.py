"""Cisco ASA (8.3 and later) NAT statements -> vendor-neutral ``NatRule`` records.

Syntax, from the Cisco ASA configuration guide and command reference:
- object NAT, under ``object network REAL``: ``nat [(real_ifc,mapped_ifc)] static MAPPED
  [net-to-net] [dns | service tcp|udp|sctp REAL_PORT MAPPED_PORT] [no-proxy-arp] [route-lookup]`` and
  ``nat [(real_ifc,mapped_ifc)] dynamic MAPPED|interface|pat-pool OBJ [options] [interface] [dns]``;
  MAPPED is an object, group, inline address or ``interface``;
- twice NAT: ``nat [(real_ifc,mapped_ifc)] [N | after-auto [N]] source static|dynamic REAL MAPPED
  [destination static MAPPED_DST REAL_DST] [service SVC1 SVC2] [unidirectional] [no-proxy-arp]
  [route-lookup] [inactive] [description TEXT]``.

Why several NatRules per statement: 8.3+ ACLs match the REAL addresses, so the translation
toward the real address (a packet arriving on the mapped side, or a twice NAT's mapped
destination) happens BEFORE the filter, and the translation toward the mapped address (the
source of a packet leaving toward the mapped side) AFTER it. One ASA rule therefore gives up
to four NatRules: forward destination, forward source (traffic real_ifc -> mapped_ifc), and,
for a bidirectional static rule, reverse destination and reverse source (mapped_ifc -> real_ifc).
Dynamic NAT and PAT, and ``unidirectional`` static rules, give only the forward half.

Order (the guide's "NAT Rule Order"): section 1 is twice NAT in config order (``N`` inserts
at line N), section 2 object NAT with static before dynamic, then fewer real addresses
first, then the lower address, then the object name; section 3 is ``after-auto`` twice NAT.
The first match in the whole table wins; NatRule positions follow that order.

Whatever cannot be pinned down widens and is reported with its line: an unresolvable real
address makes the rule ``uncertain`` (it may apply to any packet), an unresolvable mapped
address becomes "any address", an unknown keyword makes the rule uncertain.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from plantgate.firewalls.asa.objects import AsaSyntaxError, ObjectStore, port_number
from plantgate.firewalls.interning import host_network
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.nat import KEEP, AddressMapping, NatRule, NatStage, PortMapping, Translation
from plantgate.firewalls.ruleset import (
    ALL_PORTS,
    ANY_ADDRESS,
    ANY_SERVICE,
    ANY_V4,
    ANY_V6,
    PORT_PROTOCOLS,
    SCTP,
    TCP,
    UDP,
    AddressSet,
    IPNetwork,
    ParseWarning,
    PortRange,
    Service,
    SourceSpan,
    address_range,
)

HARMLESS_OPTIONS = frozenset({
    "dns", "no-proxy-arp", "route-lookup", "net-to-net",
    "round-robin", "extended", "flat", "include-reserve", "block-allocation",
})
"""Options that change neither which packets a rule matches nor the addresses they may get
(DNS payload rewriting, proxy ARP, egress by route lookup, how a PAT pool hands out ports)."""

SERVICE_PROTOCOLS = {"tcp": TCP, "udp": UDP, "sctp": SCTP}
NOWHERE = 2**129  # sorts an object whose address is unknown after every real one


@dataclass
class NatLine:
    """A ``nat`` command as collected in the first pass; ``object_name`` set for object NAT."""

    line: int
    text: str
    tokens: list[str]
    object_name: str = ""


@dataclass(frozen=True)
class Operand:
    """The addresses a NAT operand stands for, with the reasons it is not exact."""

    nets: tuple[IPNetwork, ...]
    names: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return not self.problems and bool(self.nets)

    @property
    def addresses(self) -> AddressSet:
        return AddressSet(self.nets, names=self.names) if self.exact else ANY_ADDRESS

    @property
    def quantity(self) -> int:
        return sum(n.num_addresses for n in self.nets) if self.exact else NOWHERE

    @property
    def lowest(self) -> tuple[int, int]:
        return min(((n.version, int(n.network_address)) for n in self.nets), default=(9, NOWHERE))

    def same_as(self, other: Operand) -> bool:
        return self.exact and other.exact and sorted(self.nets, key=str) == sorted(other.nets, key=str)


ANY_OPERAND = Operand((ANY_V4, ANY_V6), ("any",))


@dataclass
class PortPair:
    """Ports of a NAT ``service``: what the packet carries before and after, per end."""

    protocol: int
    real_src: PortRange | None = None
    mapped_src: PortRange | None = None
    mapped_dst: PortRange | None = None
    real_dst: PortRange | None = None
    unknown: bool = False
    """The ports could not be read: every half may rewrite them to any port."""


@dataclass
class Statement:
    """One ASA NAT rule, read; turned into NatRules by ``nat_rules_of``."""

    nat: NatLine
    label: str
    real_ifc: str = ""
    mapped_ifc: str = ""
    section: int = 1
    insert_at: int | None = None
    static: bool = True
    real_src: Operand = ANY_OPERAND
    mapped_src: Operand = ANY_OPERAND
    pat: bool = False
    mapped_dst: Operand | None = None
    real_dst: Operand | None = None
    ports: PortPair | None = None
    unidirectional: bool = False
    inactive: bool = False
    route_lookup: bool = False
    reasons: list[str] = field(default_factory=list)
    uncertain: bool = False

    @property
    def is_identity(self) -> bool:
        same_src = self.static and self.real_src.same_as(self.mapped_src)
        same_dst = self.mapped_dst is None or (self.real_dst is not None and self.mapped_dst.same_as(self.real_dst))
        same_ports = self.ports is None or (not self.ports.unknown and self.ports.real_src == self.ports.mapped_src
                                            and self.ports.mapped_dst == self.ports.real_dst)
        return same_src and same_dst and same_ports

    @property
    def all_reasons(self) -> list[str]:
        """Why this statement is widened: its own notes and every operand's unresolved parts."""
        operands = [self.real_src, self.mapped_src, self.mapped_dst, self.real_dst]
        problems = [p for o in operands if o is not None for p in o.problems]
        return list(dict.fromkeys([*self.reasons, *problems]))

    @property
    def kind(self) -> str:
        if self.is_identity:
            return "identity"
        if self.static:
            return "static"
        return "pat" if self.pat else "dynamic"


@dataclass
class NatReader:
    """Reads every collected NAT line against the finished object store."""

    store: ObjectStore
    interface_addresses: dict[str, list[IPNetwork]]
    file: str
    warnings: list[ParseWarning]

    def read(self, lines: list[NatLine]) -> tuple[list[NatRule], list[NatLine]]:
        """The NatRules in ASA order, and the lines left unmodelled (pre-8.3 syntax)."""
        sections: dict[int, list[Statement]] = {1: [], 2: [], 3: []}
        legacy: list[NatLine] = []
        for nat in lines:
            if _is_pre_83(nat):
                legacy.append(nat)
                continue
            statement = self.statement(nat)
            if statement.inactive:
                self.warnings.append(ParseWarning(self.file, nat.line, "inactive NAT rule: translates nothing",
                                                  nat.text))
                continue
            table = sections[statement.section]
            if statement.insert_at is not None and statement.insert_at <= len(table):
                table.insert(statement.insert_at - 1, statement)
            else:
                table.append(statement)
        sections[2].sort(key=lambda s: (not s.static, s.real_src.quantity, s.real_src.lowest, s.nat.object_name))
        rules: list[NatRule] = []
        for number in (1, 2, 3):
            for statement in sections[number]:
                nat = statement.nat
                own = nat_rules_of(statement, SourceSpan(self.file, nat.line, nat.line, nat.text), len(rules))
                reasons = list(dict.fromkeys(reason for rule in own for reason in rule.widened))
                if reasons:
                    self.warnings.append(ParseWarning(self.file, nat.line, "NAT rule widened: " + "; ".join(reasons),
                                                      nat.text, True))
                rules += own
        return rules, legacy

    def statement(self, nat: NatLine) -> Statement:
        label = f"object {nat.object_name} nat" if nat.object_name else f"nat line {nat.line}"
        statement = Statement(nat, label, section=2 if nat.object_name else 1,
                              route_lookup="route-lookup" in nat.tokens)
        try:
            if nat.object_name:
                self._object_nat(statement, nat.tokens[1:])
            else:
                self._twice_nat(statement, nat.tokens[1:])
        except AsaSyntaxError as exc:
            _widen_unreadable(statement, str(exc))
        else:
            statement.real_src = _family_of(statement.real_src, statement.mapped_src)
        return statement

    # -- grammar -------------------------------------------------------------------------

    def _interfaces(self, statement: Statement, tokens: list[str]) -> list[str]:
        if tokens and tokens[0].startswith("("):
            pair = tokens[0].strip("()").split(",")
            if not tokens[0].endswith(")") or len(pair) != 2 or not all(pair):
                raise AsaSyntaxError(f"expected (real_ifc,mapped_ifc), got {tokens[0]!r}")
            statement.real_ifc, statement.mapped_ifc = ("" if p == "any" else p for p in pair)
            return tokens[1:]
        return tokens

    def _object_nat(self, statement: Statement, tokens: list[str]) -> None:
        statement.real_src = self._named(statement.nat.object_name)
        rest = self._interfaces(statement, tokens)
        if not rest or rest[0] not in ("static", "dynamic"):
            raise AsaSyntaxError("expected 'static' or 'dynamic' after the interfaces")
        statement.static = rest[0] == "static"
        i = self._mapped_source(statement, rest, 1)
        while i < len(rest):
            tok = rest[i]
            if tok == "service" and statement.static and i + 3 < len(rest) and rest[i + 1] in SERVICE_PROTOCOLS:
                real, mapped = port_number(rest[i + 2]), port_number(rest[i + 3])
                statement.ports = PortPair(SERVICE_PROTOCOLS[rest[i + 1]], real_src=(real, real),
                                           mapped_src=(mapped, mapped))
                i += 4
            else:
                i = self._option(statement, rest, i)

    def _twice_nat(self, statement: Statement, tokens: list[str]) -> None:
        rest = self._interfaces(statement, tokens)
        if rest and rest[0] in ("after-auto", "after-object"):
            statement.section, rest = 3, rest[1:]
        if rest and is_decimal(rest[0]):
            statement.insert_at, rest = max(1, int(rest[0])), rest[1:]
        if len(rest) < 3 or rest[0] != "source" or rest[1] not in ("static", "dynamic"):
            raise AsaSyntaxError("expected 'source static|dynamic REAL MAPPED'")
        statement.static = rest[1] == "static"
        statement.real_src = self._named(rest[2])
        i = self._mapped_source(statement, rest, 3)
        while i < len(rest):
            tok = rest[i]
            if tok == "destination" and i + 3 < len(rest) and rest[i + 1] == "static":
                i += 2
                if rest[i] == "interface":
                    statement.mapped_dst = self._either_interface(statement)
                    i += 2 if i + 1 < len(rest) and rest[i + 1] == "ipv6" else 1
                else:
                    statement.mapped_dst = self._named(rest[i])
                    i += 1
                if i >= len(rest):
                    raise AsaSyntaxError("'destination static' needs a mapped and a real address")
                statement.real_dst = self._named(rest[i])
                i += 1
            elif tok == "service" and i + 2 < len(rest):
                statement.ports = self._service_pair(statement, rest[i + 1], rest[i + 2])
                i += 3
            elif tok == "unidirectional":
                statement.unidirectional = True
                i += 1
            elif tok == "inactive":
                statement.inactive = True
                i += 1
            else:
                i = self._option(statement, rest, i)

    def _mapped_source(self, statement: Statement, tokens: list[str], i: int) -> int:
        """MAPPED | interface [ipv6] | pat-pool OBJ, then for dynamic rules an ``interface`` fallback."""
        if i >= len(tokens):
            raise AsaSyntaxError("expected the mapped address")
        pools: list[Operand] = []
        while i < len(tokens):
            tok = tokens[i]
            if tok == "interface":
                pools.append(self._interface(statement.mapped_ifc))
                statement.pat = not statement.static
                i += 2 if i + 1 < len(tokens) and tokens[i + 1] == "ipv6" else 1
            elif tok == "pat-pool" and not statement.static and i + 1 < len(tokens):
                pools.append(self._named(tokens[i + 1]))
                statement.pat = True
                i += 2
            elif not pools and tok not in HARMLESS_OPTIONS:
                operand = self._named(tok)
                if statement.static and not operand.names and operand.exact:  # an inline address
                    operand = inline_static_operand(statement.real_src, operand.nets[0])
                pools.append(operand)
                i += 1
            else:
                break
            if statement.static:
                break
        if not pools:
            raise AsaSyntaxError(f"expected the mapped address, got {tokens[i]!r}")
        statement.mapped_src = _union(pools)
        if not statement.static and not statement.pat:
            # one address is PAT; a group's hosts are the PAT fallback of its ranges (the guide's "Dynamic NAT")
            mapped = statement.mapped_src
            statement.pat = mapped.quantity == 1 or any(n in self.store.network_groups for n in mapped.names)
        return i

    def _option(self, statement: Statement, tokens: list[str], i: int) -> int:
        tok = tokens[i]
        if tok in HARMLESS_OPTIONS:
            return i + 1
        if tok == "description":
            return len(tokens)
        statement.reasons.append(f"option {tok!r} not understood: the rule may or may not apply")
        statement.uncertain = True
        return i + 1

    # -- operands ------------------------------------------------------------------------

    def _named(self, name: str) -> Operand:
        """``any``, a network object or group, a ``name``, or an inline address."""
        store = self.store
        if name in ("any", "any4", "any6"):
            return {"any": ANY_OPERAND, "any4": Operand((ANY_V4,), ("any4",)),
                    "any6": Operand((ANY_V6,), ("any6",))}[name]
        if name in store.network_objects or name in store.network_groups:
            resolved = store.network(name, name not in store.network_objects)
            return Operand(tuple(resolved.nets), (name,), tuple(resolved.unknown))
        if name in store.names:
            return Operand((store.names[name],), (name,))
        try:
            return Operand((host_network(name),))
        except ValueError:
            return Operand((), (name,), (f"undefined network object {name}",))

    def _interface(self, nameif: str) -> Operand:
        if not nameif:
            return Operand((), ("interface",), ("'interface' with 'any' as the mapped interface: address unknown",))
        nets = tuple(self.interface_addresses.get(nameif, ()))
        if not nets:
            return Operand((), (f"interface {nameif}",), (f"interface {nameif} has no 'ip address' in this config",))
        return Operand(nets, (f"interface {nameif}",))

    def _either_interface(self, statement: Statement) -> Operand:
        """``destination static interface``: the guide does not pin which interface; take both, uncertain."""
        statement.uncertain = True
        statement.reasons.append("'destination static interface' taken as the address of either interface")
        operands = [self._interface(n) for n in (statement.real_ifc, statement.mapped_ifc)]
        return _union(operands)

    def _service_pair(self, statement: Statement, first: str, second: str) -> PortPair | None:
        """Twice NAT ``service A B``: A is the original packet's ports (real source, mapped destination),
        B the translated packet's (mapped source, real destination)."""
        one, two = self._one_service(first), self._one_service(second)
        if one is None or two is None or one.protocol != two.protocol:
            statement.uncertain = True
            statement.reasons.append(f"service {first} {second} is not one TCP/UDP/SCTP port pair: "
                                     "ports may become any port")
            return PortPair(0, unknown=True)
        if not statement.static:  # the guide: dynamic NAT translates no port; source ports are ignored
            return PortPair(one.protocol or 0, mapped_dst=_single(one.dst_ports), real_dst=_single(two.dst_ports))
        return PortPair(one.protocol or 0, real_src=_single(one.src_ports), mapped_src=_single(two.src_ports),
                        mapped_dst=_single(one.dst_ports), real_dst=_single(two.dst_ports))

    def _one_service(self, name: str) -> Service | None:
        resolved = self.store.services(name)
        if resolved.unknown or len(resolved.services) != 1:
            return None
        service = resolved.services[0]
        if service.protocol not in PORT_PROTOCOLS or len(service.src_ports) > 1 or len(service.dst_ports) > 1:
            return None
        return service


def _is_pre_83(nat: NatLine) -> bool:
    """``nat (inside) 1 ...``: one interface in the parentheses (PIX / ASA before 8.3)."""
    return not nat.object_name and len(nat.tokens) > 1 and nat.tokens[1].startswith("(") and "," not in nat.tokens[1]


def _union(operands: list[Operand]) -> Operand:
    nets = tuple(dict.fromkeys(n for o in operands for n in o.nets))
    return Operand(nets, tuple(n for o in operands for n in o.names), tuple(p for o in operands for p in o.problems))


def _family_of(real: Operand, mapped: Operand) -> Operand:
    """``any`` as the real source means the mapped address's family (the guide: "any" mapped to the
    interface IPv4 address means any IPv4 traffic)."""
    if real is not ANY_OPERAND or not mapped.exact or real.same_as(mapped):
        return real
    versions = {n.version for n in mapped.nets}
    if versions == {4}:
        return Operand((ANY_V4,), ("any",))
    if versions == {6}:
        return Operand((ANY_V6,), ("any",))
    return real


def _single(ranges: tuple[PortRange, ...]) -> PortRange | None:
    return ranges[0] if ranges else None


def _widen_unreadable(statement: Statement, error: str) -> None:
    """A statement PlantGate cannot read: it may translate any packet to anything."""
    statement.reasons.append(f"not understood ({error}): modelled as translating anything, maybe")
    statement.uncertain = True
    statement.static = True
    statement.real_src = Operand((), (), ("unreadable",))
    statement.mapped_src = Operand((), (), ("unreadable",))
    statement.mapped_dst = Operand((), (), ("unreadable",))
    statement.real_dst = Operand((), (), ("unreadable",))
    statement.ports = PortPair(0, unknown=True)


# -- NatRules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Half:
    """One direction and stage of an ASA rule: what it matches and which end it rewrites."""

    name: str
    stage: NatStage
    zones: tuple[str, str]
    sources: Operand
    destinations: Operand
    services: tuple[Service, ...]
    source: Translation = KEEP
    destination: Translation = KEEP
    diverts: bool = False
    """A static destination half whose interfaces are named: the ASA sends what it un-NATs out of
    the half's egress interface without a route lookup (NAT divert), unless ``route-lookup``."""


def nat_rules_of(statement: Statement, span: SourceSpan, before: int) -> list[NatRule]:
    """The NatRules of one statement, positions after ``before``, forward halves first."""
    s = statement
    p = s.ports or PortPair(0)
    has_dst = s.mapped_dst is not None and s.real_dst is not None
    real_dst = s.real_dst if has_dst and s.real_dst else ANY_OPERAND
    mapped_dst = s.mapped_dst if has_dst and s.mapped_dst else ANY_OPERAND
    forward, backward = (s.real_ifc, s.mapped_ifc), (s.mapped_ifc, s.real_ifc)
    halves: list[_Half] = []
    if has_dst:
        halves.append(_Half("fwd-dst", NatStage.BEFORE_FILTER, forward, s.real_src, mapped_dst,
                            _match(p, p.real_src, p.mapped_dst), destination=_translation(
                                mapped_dst, real_dst, p.mapped_dst, p.real_dst, True, p.unknown),
                            diverts=bool(s.mapped_ifc) and not s.route_lookup))
    halves.append(_Half("fwd-src", NatStage.AFTER_FILTER, forward, s.real_src, real_dst,
                        _match(p, p.real_src, p.real_dst), source=_translation(
                            s.real_src, s.mapped_src, p.real_src, p.mapped_src, s.static, s.pat or p.unknown)))
    if s.static and not s.unidirectional:
        halves.append(_Half("rev-dst", NatStage.BEFORE_FILTER, backward, real_dst, s.mapped_src,
                            _match(p, p.real_dst, p.mapped_src), destination=_translation(
                                s.mapped_src, s.real_src, p.mapped_src, p.real_src, True, p.unknown),
                            diverts=bool(s.real_ifc) and not s.route_lookup))
        if has_dst:
            halves.append(_Half("rev-src", NatStage.AFTER_FILTER, backward, real_dst, s.real_src,
                                _match(p, p.real_dst, p.real_src), source=_translation(
                                    real_dst, mapped_dst, p.real_dst, p.mapped_dst, True, p.unknown)))
    rules = []
    for offset, half in enumerate(halves, start=1):
        reasons = [*s.all_reasons, *_pool_reasons(half.source, s.static), *_pool_reasons(half.destination, s.static)]
        rules.append(NatRule(
            rule_id=f"{s.label} {half.name}", position=before + offset, span=span, stage=half.stage, kind=s.kind,
            sources=half.sources.addresses, destinations=half.destinations.addresses, services=half.services,
            from_zones=_zone(half.zones[0]), to_zones=_zone(half.zones[1]), source=half.source,
            destination=half.destination, widened=tuple(dict.fromkeys(reasons)),
            uncertain=s.uncertain or not half.sources.exact or not half.destinations.exact, sets_egress=half.diverts,
        ))
    return rules


def _zone(nameif: str) -> tuple[str, ...]:
    return (nameif,) if nameif else ()


def _match(ports: PortPair, src: PortRange | None, dst: PortRange | None) -> tuple[Service, ...]:
    """The services a half matches: the pair's protocol with the ports the packet carries then."""
    if not ports.protocol:
        return (ANY_SERVICE,)
    return (Service(ports.protocol, (src,) if src else (), (dst,) if dst else ()),)


def _translation(before: Operand, after: Operand, port_before: PortRange | None, port_after: PortRange | None,
                 static: bool, any_port: bool) -> Translation:
    """How the addresses of ``before`` become those of ``after`` (with the ports), KEEP for identity.

    ``any_port``: PAT, or ports that could not be read: the port may become any port.
    """
    if static and before.same_as(after):
        addresses = None
    elif static:
        addresses = _static_mapping(before, after)
    else:
        addresses = AddressMapping(pool=after.addresses)
    ports: PortMapping | None = None
    if any_port:
        ports = PortMapping(ALL_PORTS)
    elif port_after is not None and port_after != port_before:
        ports = _port_mapping(port_before, port_after)
    return Translation(addresses, ports) if addresses or ports else KEEP


def _static_mapping(real: Operand, mapped: Operand) -> AddressMapping:
    """One address, a subnet onto an equal subnet (host bits kept), else any address of ``mapped``."""
    if not mapped.exact:
        return AddressMapping(pool=ANY_ADDRESS)
    if len(mapped.nets) == 1 and mapped.nets[0].num_addresses == 1:
        return AddressMapping(pool=mapped.addresses)
    if (real.exact and len(real.nets) == 1 and len(mapped.nets) == 1
            and real.nets[0].version == mapped.nets[0].version
            and real.nets[0].prefixlen == mapped.nets[0].prefixlen):
        return AddressMapping(prefix=mapped.nets[0])
    return AddressMapping(pool=mapped.addresses)


def _port_mapping(before: PortRange | None, after: PortRange) -> PortMapping:
    if before is not None and before[1] - before[0] == after[1] - after[0] and before[0] != before[1]:
        return PortMapping(after, shift=after[0] - before[0])
    return PortMapping(after)


def _pool_reasons(translation: Translation, static: bool) -> list[str]:
    """Why a translated address is less exact than the device's: unknown, or a static one-to-one mapping
    between address sets that are not one subnet each (ASA pairs them in order; modelled as any of them)."""
    mapping = translation.addresses
    if mapping is None or mapping.pool is None:
        return []
    if mapping.pool.is_any and not mapping.pool.names:
        return ["the translated address could not be pinned down: any address"]
    if static and sum(n.num_addresses for n in mapping.pool.include) > 1:
        return [f"static mapping onto {mapping.pool} modelled as any address of it"]
    return []


def inline_static_operand(real: Operand, address: IPNetwork) -> Operand:
    """An inline mapped address for a subnet or range object: the block of the same size from it."""
    if not real.exact or address.num_addresses != 1:
        return Operand((address,))
    if len(real.nets) == 1:
        return Operand((ipaddress.ip_network(f"{address.network_address}/{real.nets[0].prefixlen}", strict=False),))
    count = real.quantity
    first = address.network_address
    try:
        return Operand(tuple(address_range(str(first), str(first + count - 1))))
    except (ValueError, ipaddress.AddressValueError):
        return Operand((address,), (), (f"inline address {first} cannot start a block of {count} addresses",))
