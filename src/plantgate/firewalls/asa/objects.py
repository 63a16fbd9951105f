"""Cisco ASA names, objects and object-groups, and how ACL operands resolve against them.

ASA ACLs are mostly written in terms of named things (``name``, ``object network``,
``object-group service`` nested through ``group-object``). This module stores their
definitions as written and resolves them on demand into address networks and
``Service`` records. Whatever cannot be decided (an FQDN, an undefined or cyclic
reference, a bad member) is carried along as an ``unknown`` reason instead of being
dropped, so the ACL builder can widen a permit or make a deny uncertain.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from plantgate.firewalls.asa.tables import ICMP6_TYPES, ICMP_TYPES, PORTS, PROTOCOLS
from plantgate.firewalls.interning import Interner, host_network, ipv4_mask, ipv4_network, network
from plantgate.firewalls.limits import MAX_NESTING, is_decimal
from plantgate.firewalls.ruleset import (
    ANY_V4,
    ANY_V6,
    ICMP,
    ICMPV6,
    PORT_PROTOCOLS,
    TCP,
    UDP,
    AddressSet,
    IPNetwork,
    PortRange,
    Service,
    address_range,
)

MAX_NONCONTIGUOUS_EXPANSION_BITS = 8


class AsaSyntaxError(Exception):
    """A token sequence the ASA grammar does not allow; caught per line by the parser."""


@dataclass
class Resolved:
    """Networks or services an operand stands for, the reasons it is not exact, the names used."""

    nets: list[IPNetwork] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    protocols: list[int | None] = field(default_factory=list)
    icmp_types: list[int] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    def absorb(self, other: Resolved) -> None:
        self.nets += other.nets
        self.services += other.services
        self.protocols += other.protocols
        self.icmp_types += other.icmp_types
        self.unknown += [u for u in other.unknown if u not in self.unknown]
        self.refs += [r for r in other.refs if r not in self.refs]


Member = tuple[str, object]  # ("nets", [...]) ("object", name) ("group", name) ("bad", reason) ...


def parse_ip(token: str, names: dict[str, IPNetwork]) -> IPNetwork:
    """A host address (literal or ``name``) as a /32 or /128 network."""
    if token in names:
        return names[token]
    try:
        return host_network(token)
    except ValueError:
        raise AsaSyntaxError(f"expected an IP address or a defined name, got {token!r}") from None


def mask_networks(address: str, mask: str, names: dict[str, IPNetwork]) -> tuple[list[IPNetwork], str]:
    """``a.b.c.d m.m.m.m`` as networks; non-contiguous masks expand exactly when small.

    Returns the networks and a reason string when the set could not be given exactly.
    """
    base = parse_ip(address, names)
    try:
        mask_int = ipv4_mask(mask)
    except ValueError:
        raise AsaSyntaxError(f"expected a dotted subnet mask, got {mask!r}") from None
    if base.version != 4:
        raise AsaSyntaxError(f"a dotted mask needs an IPv4 address, got {address!r}")
    addr_int = int(base.network_address) & mask_int
    inverted = ~mask_int & 0xFFFFFFFF
    if (inverted + 1) & inverted == 0:  # contiguous: host bits are a low block of ones
        prefix = 32 - inverted.bit_length()
        return [ipv4_network(addr_int, prefix)], ""
    # Non-contiguous mask: free bits above the lowest zero-run must be enumerated.
    run = 0
    while inverted >> run & 1:
        run += 1
    high_free = [b for b in range(run, 32) if inverted >> b & 1]
    if len(high_free) > MAX_NONCONTIGUOUS_EXPANSION_BITS:
        return [], f"non-contiguous mask {mask} too wide to expand"
    nets: list[IPNetwork] = []
    for combo in range(1 << len(high_free)):
        value = addr_int
        for i, bit in enumerate(high_free):
            if combo >> i & 1:
                value |= 1 << bit
        nets.append(ipaddress.IPv4Network((value, 32 - run)))
    return sorted(nets), ""


def port_number(token: str) -> int:
    if is_decimal(token) and int(token) <= 65535:
        return int(token)
    if token in PORTS:
        return PORTS[token]
    raise AsaSyntaxError(f"expected a port number 0-65535 or an ASA port name, got {token!r}")


PORT_OPERATORS = frozenset({"eq", "lt", "gt", "neq", "range"})


def parse_port_operator(tokens: list[str], i: int) -> tuple[list[PortRange], int]:
    """Parse ``eq|lt|gt|neq P`` or ``range A B`` at ``tokens[i]``; ASA semantics, exclusive lt/gt."""
    if i >= len(tokens):
        raise AsaSyntaxError("expected a port operator (eq, lt, gt, neq, range)")
    op = tokens[i]
    if op == "range":
        if i + 2 >= len(tokens):
            raise AsaSyntaxError("'range' needs two ports")
        lo, hi = port_number(tokens[i + 1]), port_number(tokens[i + 2])
        if lo > hi:
            raise AsaSyntaxError(f"port range {lo}-{hi} is empty")
        return [(lo, hi)], i + 3
    if op not in PORT_OPERATORS or i + 1 >= len(tokens):
        raise AsaSyntaxError(f"expected a port operator and a port, got {' '.join(tokens[i:i + 2])!r}")
    port = port_number(tokens[i + 1])
    if op == "eq":
        ranges = [(port, port)]
    elif op == "lt":
        ranges = [(0, port - 1)] if port > 0 else []
    elif op == "gt":
        ranges = [(port + 1, 65535)] if port < 65535 else []
    else:
        ranges = [r for r in ((0, port - 1), (port + 1, 65535)) if r[0] <= r[1]]
    if not ranges:
        raise AsaSyntaxError(f"'{op} {port}' matches no port")
    return ranges, i + 2


def protocol_number(token: str) -> int | None:
    if token in PROTOCOLS:
        return PROTOCOLS[token]
    if is_decimal(token) and int(token) <= 255:
        return int(token) or None
    raise AsaSyntaxError(f"expected a protocol name or number 0-255, got {token!r}")


def icmp_type_number(token: str, protocol: int) -> int | None:
    """The ICMP type for a name or number, None when ``token`` is not an ICMP type."""
    table = ICMP6_TYPES if protocol == ICMPV6 else ICMP_TYPES
    if token in table:
        return table[token]
    if is_decimal(token) and int(token) <= 255:
        return int(token)
    return None


def expand_protocol_keyword(keyword: str) -> list[int | None]:
    """A service protocol keyword: ``tcp-udp`` is both, everything else one protocol."""
    if keyword == "tcp-udp":
        return [TCP, UDP]
    return [protocol_number(keyword)]


def parse_service_spec(tokens: list[str], i: int, protocols: list[int | None], name: str) -> list[Service]:
    """``[source OP..] [destination OP..] | ICMPTYPE [CODE]`` after a service protocol."""
    src: list[PortRange] = []
    dst: list[PortRange] = []
    icmp_type: int | None = None
    icmp_code: int | None = None
    port_capable = all(p in PORT_PROTOCOLS for p in protocols)
    icmp_capable = len(protocols) == 1 and protocols[0] in (ICMP, ICMPV6)
    while i < len(tokens):
        tok = tokens[i]
        if tok == "source" and port_capable:
            src, i = parse_port_operator(tokens, i + 1)
        elif tok == "destination" and port_capable:
            dst, i = parse_port_operator(tokens, i + 1)
        elif tok in PORT_OPERATORS and port_capable:
            dst, i = parse_port_operator(tokens, i)
        elif icmp_capable and icmp_type is None:
            proto = protocols[0]
            assert proto is not None
            icmp_type = icmp_type_number(tok, proto)
            if icmp_type is None:
                raise AsaSyntaxError(f"expected an ICMP type, got {tok!r}")
            i += 1
            if i < len(tokens) and is_decimal(tokens[i]):
                icmp_code = int(tokens[i])
                i += 1
        else:
            raise AsaSyntaxError(f"unexpected {tok!r} in a service definition")
    return [
        Service(p, tuple(src), tuple(dst), icmp_type, icmp_code, name) if p is not None else Service(name=name)
        for p in protocols
    ]


@dataclass
class ObjectStore:
    """Every name, object and object-group of one config, as written (resolved lazily)."""

    names: dict[str, IPNetwork] = field(default_factory=dict)
    network_objects: dict[str, list[Member]] = field(default_factory=dict)
    service_objects: dict[str, list[Member]] = field(default_factory=dict)
    network_groups: dict[str, list[Member]] = field(default_factory=dict)
    service_groups: dict[str, list[Member]] = field(default_factory=dict)
    service_group_protocol: dict[str, str] = field(default_factory=dict)
    protocol_groups: dict[str, list[Member]] = field(default_factory=dict)
    icmp_groups: dict[str, list[Member]] = field(default_factory=dict)
    intern: Interner = field(default_factory=Interner)
    """Equal services of the ACEs are one object (see ``firewalls/interning``)."""
    operands: dict[tuple[str, str], tuple[Resolved, int, AddressSet]] = field(default_factory=dict)
    resolved_networks: dict[tuple[str, bool], Resolved] = field(default_factory=dict)
    """Context-free network resolutions: a group named by many groups is resolved once."""
    """ACL address operands resolved once per written form: (resolved, tokens used, address set)."""
    service_tuples: dict[tuple[Service, ...], tuple[Service, ...]] = field(default_factory=dict)
    """An ACE's services as written -> the shared tuple its rule holds."""

    # -- definitions (one sub-line each) ------------------------------------------------

    def network_object_line(self, obj: str, tokens: list[str]) -> None:
        """``host A`` / ``subnet A M`` / ``subnet v6/len`` / ``range A B`` / ``fqdn [v4|v6] N``."""
        kind = tokens[0]
        members = self.network_objects[obj]
        members += self._name_refs(tokens[1:])
        if kind == "host" and len(tokens) == 2:
            members.append(("nets", [parse_ip(tokens[1], self.names)]))
        elif kind == "subnet" and len(tokens) == 3:
            nets, problem = mask_networks(tokens[1], tokens[2], self.names)
            members.append(("bad", problem) if problem else ("nets", nets))
        elif kind == "subnet" and len(tokens) == 2 and "/" in tokens[1]:
            members.append(("nets", [_prefix(tokens[1])]))
        elif kind == "range" and len(tokens) == 3:
            try:
                members.append(("nets", list(address_range(tokens[1], tokens[2]))))
            except (ValueError, TypeError):
                raise AsaSyntaxError(f"bad address range {tokens[1]} {tokens[2]}") from None
        elif kind == "fqdn" and len(tokens) in (2, 3):
            members.append(("bad", f"FQDN {tokens[-1]} is resolved by DNS at run time"))
        else:
            raise AsaSyntaxError(f"expected host, subnet, range or fqdn, got {' '.join(tokens)!r}")

    def service_object_line(self, obj: str, header_protocol: str, tokens: list[str]) -> None:
        """``service PROTO [source OP..] [destination OP..]`` or ``service icmp TYPE [CODE]``."""
        if len(tokens) < 2 and not header_protocol:
            raise AsaSyntaxError("'service' needs a protocol")
        if header_protocol:  # "object service X tcp" followed by "service destination eq 22"
            protos, rest = expand_protocol_keyword(header_protocol), tokens[1:]
        else:
            protos, rest = expand_protocol_keyword(tokens[1]), tokens[2:]
        self.service_objects[obj].append(("services", parse_service_spec(rest, 0, protos, obj)))

    def network_group_line(self, group: str, tokens: list[str]) -> None:
        members = self.network_groups[group]
        if tokens[0] == "group-object" and len(tokens) == 2:
            members.append(("group", tokens[1]))
            return
        if tokens[0] != "network-object" or len(tokens) < 2:
            raise AsaSyntaxError(f"expected network-object or group-object, got {tokens[0]!r}")
        args = tokens[1:]
        members += self._name_refs(args)
        if args[0] == "host" and len(args) == 2:
            members.append(("nets", [parse_ip(args[1], self.names)]))
        elif args[0] == "object" and len(args) == 2:
            members.append(("object", args[1]))
        elif len(args) == 2:
            nets, problem = mask_networks(args[0], args[1], self.names)
            members.append(("bad", problem) if problem else ("nets", nets))
        elif len(args) == 1 and "/" in args[0]:
            members.append(("nets", [_prefix(args[0])]))
        else:
            raise AsaSyntaxError(f"bad network-object {' '.join(args)!r}")

    def service_group_line(self, group: str, tokens: list[str]) -> None:
        members = self.service_groups[group]
        head = tokens[0]
        if head == "group-object" and len(tokens) == 2:
            members.append(("group", tokens[1]))
        elif head == "port-object":
            ranges, end = parse_port_operator(tokens, 1)
            if end != len(tokens):
                raise AsaSyntaxError(f"unexpected {tokens[end]!r} after port-object")
            members.append(("ports", ranges))
        elif head == "service-object" and len(tokens) == 3 and tokens[1] == "object":
            members.append(("object", tokens[2]))
        elif head == "service-object" and len(tokens) >= 2:
            protos = expand_protocol_keyword(tokens[1])
            members.append(("services", parse_service_spec(tokens, 2, protos, group)))
        else:
            raise AsaSyntaxError(f"expected service-object, port-object or group-object, got {head!r}")

    def protocol_group_line(self, group: str, tokens: list[str]) -> None:
        if tokens[0] == "group-object" and len(tokens) == 2:
            self.protocol_groups[group].append(("group", tokens[1]))
        elif tokens[0] == "protocol-object" and len(tokens) == 2:
            self.protocol_groups[group].append(("protocols", expand_protocol_keyword(tokens[1])))
        else:
            raise AsaSyntaxError(f"expected protocol-object or group-object, got {tokens[0]!r}")

    def icmp_group_line(self, group: str, tokens: list[str]) -> None:
        if tokens[0] == "group-object" and len(tokens) == 2:
            self.icmp_groups[group].append(("group", tokens[1]))
            return
        if tokens[0] != "icmp-object" or len(tokens) != 2:
            raise AsaSyntaxError(f"expected icmp-object or group-object, got {tokens[0]!r}")
        number = icmp_type_number(tokens[1], ICMP)
        if number is None:
            raise AsaSyntaxError(f"expected an ICMP type, got {tokens[1]!r}")
        self.icmp_groups[group].append(("icmp", number))

    def _name_refs(self, tokens: list[str]) -> list[Member]:
        return [("name", t) for t in tokens if t in self.names]

    # -- resolution -----------------------------------------------------------------------

    def is_service(self, name: str) -> bool:
        return name in self.service_groups or name in self.service_objects

    def network(self, name: str, via_group: bool, stack: tuple[str, ...] = ()) -> Resolved:
        """The addresses of a network object (``via_group`` False) or object-group.

        Remembered when no cycle or depth cut shaped it, and each member followed once, so
        groups that share members (a diamond, or a duplicated ``group-object`` line) cost
        their size, not the number of paths through them.
        """
        known = self.resolved_networks.get((name, via_group))
        if known is not None:
            copy = Resolved()
            copy.absorb(known)
            return copy
        out = self._network(name, via_group, stack)
        out.nets = list(dict.fromkeys(out.nets))
        if not any("reference cycle" in u or "levels deep" in u for u in out.unknown):
            self.resolved_networks[(name, via_group)] = out
            copy = Resolved()
            copy.absorb(out)
            return copy
        return out

    def _network(self, name: str, via_group: bool, stack: tuple[str, ...]) -> Resolved:
        out = Resolved(refs=[name])
        table = self.network_groups if via_group else self.network_objects
        if name in stack:
            out.unknown.append(f"reference cycle through {name}")
            return out
        if name not in table:
            kind = "object-group" if via_group else "object"
            out.unknown.append(f"undefined network {kind} {name}")
            return out
        if len(stack) >= MAX_NESTING:
            out.unknown.append(f"{name} is nested more than {MAX_NESTING} levels deep: not followed")
            return out
        if not table[name]:
            out.unknown.append(f"network object {name} has no address")
        followed: set[tuple[str, object]] = set()
        for kind, value in table[name]:
            if kind == "nets":
                out.nets += value  # type: ignore[arg-type]
            elif kind == "bad":
                out.unknown.append(f"{name}: {value}")
            elif kind == "name":
                out.refs.append(str(value))
            elif kind in ("object", "group") and (kind, value) not in followed:
                followed.add((kind, value))
                out.absorb(self.network(str(value), kind == "group", stack + (name,)))
        return out

    def services(self, name: str, stack: tuple[str, ...] = ()) -> Resolved:
        """The services of a service object or service object-group (with port-objects)."""
        out = Resolved(refs=[name])
        if name in stack:
            out.unknown.append(f"reference cycle through {name}")
            return out
        members = self.service_objects.get(name, self.service_groups.get(name))
        if members is None:
            out.unknown.append(f"undefined service object {name}")
            return out
        if len(stack) >= MAX_NESTING:
            out.unknown.append(f"{name} is nested more than {MAX_NESTING} levels deep: not followed")
            return out
        group_protocol = self.service_group_protocol.get(name, "")
        followed: set[tuple[str, object]] = set()
        for kind, value in members:
            if kind == "services":
                out.services += value  # type: ignore[arg-type]
            elif kind == "ports":
                if not group_protocol:
                    out.unknown.append(f"{name}: port-object in a service group without a protocol")
                    continue
                for proto in expand_protocol_keyword(group_protocol):
                    out.services.append(Service(proto, (), tuple(value), name=name))  # type: ignore[arg-type]
            elif kind in ("object", "group") and (kind, value) not in followed:
                followed.add((kind, value))
                out.absorb(self.services(str(value), stack + (name,)))
        return out

    def protocols(self, name: str, stack: tuple[str, ...] = ()) -> Resolved:
        out = Resolved(refs=[name])
        if name in stack or name not in self.protocol_groups:
            out.unknown.append(f"undefined protocol object-group {name}" if name not in stack
                               else f"reference cycle through {name}")
            return out
        if len(stack) >= MAX_NESTING:
            out.unknown.append(f"{name} is nested more than {MAX_NESTING} levels deep: not followed")
            return out
        for kind, value in self.protocol_groups[name]:
            if kind == "protocols":
                out.protocols += value  # type: ignore[arg-type]
            else:
                out.absorb(self.protocols(str(value), stack + (name,)))
        return out

    def icmp_types(self, name: str, stack: tuple[str, ...] = ()) -> Resolved:
        out = Resolved(refs=[name])
        if name in stack or name not in self.icmp_groups:
            out.unknown.append(f"undefined icmp-type object-group {name}" if name not in stack
                               else f"reference cycle through {name}")
            return out
        if len(stack) >= MAX_NESTING:
            out.unknown.append(f"{name} is nested more than {MAX_NESTING} levels deep: not followed")
            return out
        for kind, value in self.icmp_groups[name]:
            if kind == "icmp":
                out.icmp_types.append(value)  # type: ignore[arg-type]
            else:
                out.absorb(self.icmp_types(str(value), stack + (name,)))
        return out

    def address_operand(self, tokens: list[str], i: int) -> tuple[Resolved, int]:
        """One ACL address operand at ``tokens[i]``: any/any4/any6/host/object/object-group/interface/net."""
        if i >= len(tokens):
            raise AsaSyntaxError("expected an address (any, host, object, object-group or network)")
        tok = tokens[i]
        if tok == "any":
            return Resolved(nets=[ANY_V4, ANY_V6]), i + 1
        if tok == "any4":
            return Resolved(nets=[ANY_V4]), i + 1
        if tok == "any6":
            return Resolved(nets=[ANY_V6]), i + 1
        if tok in ("host", "object", "object-group", "interface") and i + 1 >= len(tokens):
            raise AsaSyntaxError(f"'{tok}' needs a name or address")
        if tok == "host":
            named = [tokens[i + 1]] if tokens[i + 1] in self.names else []
            return Resolved(nets=[parse_ip(tokens[i + 1], self.names)], refs=named), i + 2
        if tok == "object":
            return self.network(tokens[i + 1], False), i + 2
        if tok == "object-group":
            return self.network(tokens[i + 1], True), i + 2
        if tok == "interface":
            return Resolved(unknown=[f"address of interface {tokens[i + 1]} is not modelled"]), i + 2
        if "/" in tok:
            return Resolved(nets=[_prefix(tok)]), i + 1
        if i + 1 < len(tokens):
            nets, problem = mask_networks(tok, tokens[i + 1], self.names)
            named = [tok] if tok in self.names else []
            return Resolved(nets=nets, unknown=[problem] if problem else [], refs=named), i + 2
        raise AsaSyntaxError(f"expected an address, got {tok!r}")


def _prefix(token: str) -> IPNetwork:
    try:
        return network(token)
    except ValueError:
        raise AsaSyntaxError(f"bad address prefix {token!r}") from None
