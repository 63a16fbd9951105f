"""Exact sets of packets as BDDs: the algebra every firewall analysis is built on.

Batfish-style analyses need *exact* answers ("this change opens nothing", "these flows
are permitted and nothing else"), and a witness packet for every non-empty answer.
Intervals or sampled packets cannot prove emptiness; a BDD over the header bits can.

Header fields and variable order (most significant bit first within each field):
protocol (8), destination address (128), source address (128), destination port (16),
source port (16), ICMP type (8), ICMP code (8). IPv4 addresses live in the IPv4-mapped
range ``::ffff:0:0/96`` of the 128-bit address fields. Prefixes and port ranges then
need O(bits) nodes, and a protocol test sits at the top where it splits best.

The canonical universe (every FlowSet lies inside it; complement is relative to it):
source and destination have the same IP version, ports are 0 unless the protocol is
TCP/UDP/SCTP, ICMP type/code are 0 unless it is ICMP/ICMPv6. ``count()`` therefore
counts real distinct packets.

A ``PacketSpace`` owns one BDD manager (CUDD when available). It is not thread-safe;
use one per thread, or the process-wide ``default_space()`` from one thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from plantgate.firewalls.ruleset import (
    ICMP_PROTOCOLS,
    PORT_PROTOCOLS,
    AddressSet,
    PortRange,
    Service,
)
from plantgate.netspace.flow import (
    MAPPED_V4_BASE,
    Flow,
    address_to_int,
    int_to_address,
    network_prefixes,
)

try:  # CUDD is much faster; the pure-Python manager keeps us working without it.
    from dd import cudd as _bdd_module
except ImportError:  # pragma: no cover - exercised only where dd.cudd is not built
    from dd import autoref as _bdd_module  # type: ignore[no-redef]

Node = Any
"""A BDD node of the manager in use (``dd.cudd.Function`` or ``dd.autoref.Function``)."""

FieldName = Literal["proto", "dst", "src", "dport", "sport", "icmp_type", "icmp_code"]

PACKET_FIELDS: tuple[tuple[str, int], ...] = (
    ("proto", 8),
    ("dst", 128),
    ("src", 128),
    ("dport", 16),
    ("sport", 16),
    ("icmp_type", 8),
    ("icmp_code", 8),
)
PACKET_BITS = sum(width for _, width in PACKET_FIELDS)

AUX_FIELDS: tuple[tuple[str, int], ...] = (("zone_from", 16), ("zone_to", 16))
"""Variables below every packet variable, for analyses that add a dimension (lint zones)."""

_CACHE_LIMIT = 200_000


class PacketSpace:
    """Owns the BDD manager and builds FlowSets from Ruleset fields and flows."""

    def __init__(self) -> None:
        self.bdd = _bdd_module.BDD()
        self.bdd.configure(reordering=False)  # the fixed order above is the good one
        self._vars: dict[str, list[Node]] = {}
        self._offset: dict[str, int] = {}
        level = 0
        for name, width in PACKET_FIELDS + AUX_FIELDS:
            names = [f"{name}_{i}" for i in range(width)]
            self.bdd.declare(*names)
            self._vars[name] = [self.bdd.var(n) for n in names]
            self._offset[name] = level
            level += width
        self.true: Node = self.bdd.true
        self.false: Node = self.bdd.false
        self._prefix_cache: dict[tuple[str, int, int], Node] = {}
        self._address_cache: dict[tuple[str, AddressSet], Node] = {}
        self._service_cache: dict[Service, Node] = {}
        self.memo: dict[Any, Any] = {}
        """Free-form cache for higher layers (compile); cleared when it grows too big."""
        port_proto = self.values("proto", PORT_PROTOCOLS)
        icmp_proto = self.values("proto", ICMP_PROTOCOLS)
        no_ports = self.value("dport", 0) & self.value("sport", 0)
        no_icmp = self.value("icmp_type", 0) & self.value("icmp_code", 0)
        v4_src = self.prefix("src", MAPPED_V4_BASE, 96)
        v4_dst = self.prefix("dst", MAPPED_V4_BASE, 96)
        same_family = (v4_src & v4_dst) | (~v4_src & ~v4_dst)
        self.universe_node: Node = (
            same_family & (port_proto | no_ports) & (icmp_proto | no_icmp)
        )
        self._port_proto = port_proto
        self._icmp_proto = icmp_proto

    # ----- raw builders (nodes, not intersected with the universe) -----

    def field_vars(self, field: str) -> list[Node]:
        """The variables of a field, most significant bit first."""
        return self._vars[field]

    def field_names(self, field: str) -> list[str]:
        return [f"{field}_{i}" for i in range(len(self._vars[field]))]

    def prefix(self, field: str, value: int, length: int) -> Node:
        """The values of ``field`` whose top ``length`` bits equal those of ``value``."""
        key = (field, value, length)
        node = self._prefix_cache.get(key)
        if node is None:
            variables = self._vars[field]
            width = len(variables)
            node = self.true
            for i in range(length - 1, -1, -1):  # build bottom-up: each step is O(1)
                bit = (value >> (width - 1 - i)) & 1
                node = self.bdd.ite(variables[i], node, self.false) if bit else self.bdd.ite(
                    variables[i], self.false, node
                )
            if len(self._prefix_cache) > _CACHE_LIMIT:
                self._prefix_cache.clear()
            self._prefix_cache[key] = node
        return node

    def value(self, field: str, value: int) -> Node:
        return self.prefix(field, value, len(self._vars[field]))

    def values(self, field: str, values: Iterable[int]) -> Node:
        node = self.false
        for v in values:
            node = node | self.value(field, v)
        return node

    def range(self, field: str, low: int, high: int) -> Node:
        """The values ``low <= x <= high`` of ``field``, built bit by bit (O(width) nodes)."""
        variables = self._vars[field]
        width = len(variables)
        if not 0 <= low <= high < 1 << width:
            raise ValueError(f"{field} range {low}-{high} is outside 0-{(1 << width) - 1}")
        at_least, at_most = self.true, self.true
        for i in range(width - 1, -1, -1):
            shift = width - 1 - i
            var = variables[i]
            if (low >> shift) & 1:
                at_least = self.bdd.ite(var, at_least, self.false)
            else:
                at_least = self.bdd.ite(var, self.true, at_least)
            if (high >> shift) & 1:
                at_most = self.bdd.ite(var, at_most, self.true)
            else:
                at_most = self.bdd.ite(var, self.false, at_most)
        return at_least & at_most

    def ranges(self, field: str, ranges: Iterable[PortRange]) -> Node:
        node = self.false
        for low, high in ranges:
            node = node | self.range(field, low, high)
        return node

    def address_node(self, field: Literal["src", "dst"], addrs: AddressSet) -> Node:
        """The raw address-field set of an AddressSet (include minus exclude)."""
        key = (field, addrs)
        node = self._address_cache.get(key)
        if node is None:
            node = self._networks(field, addrs.include)
            if addrs.exclude:
                node = node & ~self._networks(field, addrs.exclude)
            if len(self._address_cache) > _CACHE_LIMIT:
                self._address_cache.clear()
            self._address_cache[key] = node
        return node

    def _networks(self, field: str, networks: Iterable[Any]) -> Node:
        node = self.false
        for network in networks:
            for value, length in network_prefixes(network):
                node = node | self.prefix(field, value, length)
        return node

    def service_node(self, svc: Service) -> Node:
        """The raw set of one Service; port/ICMP constraints only bind protocols that have them."""
        node = self._service_cache.get(svc)
        if node is not None:
            return node
        node = self.true
        if svc.protocol is not None:
            node = self.value("proto", _checked(svc.protocol, 255, "protocol"))
        if svc.src_ports or svc.dst_ports:
            ports = self.true
            if svc.dst_ports:
                ports = ports & self.ranges("dport", svc.dst_ports)
            if svc.src_ports:
                ports = ports & self.ranges("sport", svc.src_ports)
            node = node & (~self._port_proto | ports)
        if svc.icmp_type is not None or svc.icmp_code is not None:
            icmp = self.true
            if svc.icmp_type is not None:
                icmp = icmp & self.value("icmp_type", _checked(svc.icmp_type, 255, "ICMP type"))
            if svc.icmp_code is not None:
                icmp = icmp & self.value("icmp_code", _checked(svc.icmp_code, 255, "ICMP code"))
            node = node & (~self._icmp_proto | icmp)
        self._service_cache[svc] = node
        return node

    def flow_node(self, flow: Flow) -> Node:
        node = self.value("proto", flow.proto)
        node = node & self.value("dst", address_to_int(flow.dst))
        node = node & self.value("src", address_to_int(flow.src))
        node = node & self.value("dport", flow.dport) & self.value("sport", flow.sport)
        return node & self.value("icmp_type", flow.icmp_type) & self.value("icmp_code", flow.icmp_code)

    # ----- FlowSets (always inside the universe) -----

    def wrap(self, node: Node) -> FlowSet:
        """A FlowSet of ``node`` intersected with the universe."""
        return FlowSet(self, node & self.universe_node)

    def empty(self) -> FlowSet:
        return FlowSet(self, self.false)

    def universe(self) -> FlowSet:
        return FlowSet(self, self.universe_node)

    def addresses(self, field: Literal["src", "dst"], addrs: AddressSet) -> FlowSet:
        if field not in ("src", "dst"):
            raise ValueError(f"address field must be 'src' or 'dst', not {field!r}")
        return self.wrap(self.address_node(field, addrs))

    def service(self, svc: Service) -> FlowSet:
        return self.wrap(self.service_node(svc))

    def flow(self, f: Flow) -> FlowSet:
        return self.wrap(self.flow_node(f))

    # ----- reading nodes back -----

    def _children(self, node: Node) -> tuple[Node, Node]:
        low, high = node.low, node.high
        if getattr(node, "negated", False):
            return ~low, ~high
        return low, high

    def count_node(self, node: Node, bits: int = PACKET_BITS) -> int:
        """Exact number of assignments of the first ``bits`` levels satisfying ``node``."""
        memo: dict[int, int] = {}
        true, false = self.true, self.false

        def walk(u: Node) -> tuple[int, int]:  # (count below u's level, u's level)
            if u == false:
                return 0, bits
            if u == true:
                return 1, bits
            key = int(u)
            level = u.level
            if key not in memo:
                total = 0
                for child in self._children(u):
                    sub, sub_level = walk(child)
                    total += sub << (sub_level - level - 1)
                memo[key] = total
            return memo[key], level

        total, level = walk(node)
        return total << level

    def lowest_bits(self, node: Node) -> list[int]:
        """The lexicographically smallest satisfying assignment (all levels; 0 where free)."""
        total = PACKET_BITS + sum(w for _, w in AUX_FIELDS)
        bits = [0] * total
        u = node
        if u == self.false:
            raise ValueError("empty set has no assignment")
        while u != self.true:
            low, high = self._children(u)
            if low != self.false:
                u = low
            else:
                bits[u.level] = 1
                u = high
        return bits

    def field_value(self, bits: list[int], field: str) -> int:
        start = self._offset[field]
        value = 0
        for bit in bits[start : start + len(self._vars[field])]:
            value = value << 1 | bit
        return value

    def contains_node(self, node: Node, flow: Flow) -> bool:
        """Follow the flow's bits through the BDD (no new nodes)."""
        bits: list[int] = []
        for name, width in PACKET_FIELDS:
            value = _flow_field(flow, name)
            bits.extend((value >> (width - 1 - i)) & 1 for i in range(width))
        u = node
        while u != self.true and u != self.false:
            low, high = self._children(u)
            u = high if bits[u.level] else low
        return bool(u == self.true)

    def witness_node(self, node: Node) -> Flow | None:
        """A deterministic, readable member: common protocols, IPv4, low addresses and ports."""
        if node == self.false:
            return None
        u = node
        preferences: list[tuple[str, list[Node]]] = [
            ("proto", [self.value("proto", p) for p in (6, 17, 1, 58)]),
            ("dst", [self._readable_ipv4("dst"), self.prefix("dst", 1 << 125, 3)]),
            ("src", [self._readable_ipv4("src"), self.prefix("src", 1 << 125, 3)]),
            ("dport", [self.range("dport", 1, 65535)]),
            ("sport", [self.range("sport", 1024, 65535)]),
            ("icmp_type", []),
            ("icmp_code", []),
        ]
        for field, preferred in preferences:
            for pref in preferred:
                narrowed = u & pref
                if narrowed != self.false:
                    u = narrowed
                    break
            u = u & self.value(field, self.field_value(self.lowest_bits(u), field))
        bits = self.lowest_bits(u)
        return Flow(
            src=int_to_address(self.field_value(bits, "src")),
            dst=int_to_address(self.field_value(bits, "dst")),
            proto=self.field_value(bits, "proto"),
            sport=self.field_value(bits, "sport"),
            dport=self.field_value(bits, "dport"),
            icmp_type=self.field_value(bits, "icmp_type"),
            icmp_code=self.field_value(bits, "icmp_code"),
        )


    def _readable_ipv4(self, field: str) -> Node:
        """IPv4 addresses outside 0.0.0.0/8 (which reads like "any"); 2000::/3 is the IPv6 choice."""
        return self.prefix(field, MAPPED_V4_BASE, 96) & ~self.prefix(field, MAPPED_V4_BASE, 104)


def _checked(value: int, top: int, label: str) -> int:
    if not 0 <= value <= top:
        raise ValueError(f"{label} {value} is outside 0-{top}")
    return value


def _flow_field(flow: Flow, name: str) -> int:
    if name == "src":
        return address_to_int(flow.src)
    if name == "dst":
        return address_to_int(flow.dst)
    value: int = getattr(flow, name)
    return value


class FlowSet:
    """An immutable set of packets: a BDD node inside its space's universe."""

    __slots__ = ("space", "node")

    def __init__(self, space: PacketSpace, node: Node) -> None:
        self.space = space
        self.node = node

    def _other(self, other: object) -> Node:
        if not isinstance(other, FlowSet):
            raise TypeError(f"expected a FlowSet, got {type(other).__name__}")
        if other.space is not self.space:
            raise ValueError("FlowSets from different PacketSpaces cannot be combined")
        return other.node

    def __or__(self, other: FlowSet) -> FlowSet:
        return FlowSet(self.space, self.node | self._other(other))

    def __and__(self, other: FlowSet) -> FlowSet:
        return FlowSet(self.space, self.node & self._other(other))

    def __sub__(self, other: FlowSet) -> FlowSet:
        return FlowSet(self.space, self.node & ~self._other(other))

    def __invert__(self) -> FlowSet:
        return FlowSet(self.space, self.space.universe_node & ~self.node)

    def __le__(self, other: FlowSet) -> bool:
        return bool((self.node & ~self._other(other)) == self.space.false)

    def __ge__(self, other: FlowSet) -> bool:
        return other <= self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FlowSet):
            return NotImplemented
        return bool(self.node == self._other(other))

    def __hash__(self) -> int:
        return hash(int(self.node))

    def __bool__(self) -> bool:
        return not self.is_empty()

    def is_empty(self) -> bool:
        return bool(self.node == self.space.false)

    def intersects(self, other: FlowSet) -> bool:
        return bool((self.node & self._other(other)) != self.space.false)

    def count(self) -> int:
        """Exact number of distinct canonical packets in the set."""
        return self.space.count_node(self.node)

    def witness(self) -> Flow | None:
        """A deterministic member (None when empty), chosen to read well in a report."""
        return self.space.witness_node(self.node)

    def contains(self, flow: Flow) -> bool:
        return self.space.contains_node(self.node, flow)

    def __contains__(self, flow: Flow) -> bool:
        return self.contains(flow)

    def __repr__(self) -> str:
        if self.is_empty():
            return "FlowSet(empty)"
        return f"FlowSet(e.g. {self.witness()})"


_DEFAULT_SPACE: PacketSpace | None = None


def default_space() -> PacketSpace:
    """The process-wide PacketSpace (created on first use)."""
    global _DEFAULT_SPACE
    if _DEFAULT_SPACE is None:
        _DEFAULT_SPACE = PacketSpace()
    return _DEFAULT_SPACE
