"""Exact sets of packets as BDDs: the algebra every firewall analysis is built on.

Batfish-style analyses need *exact* answers ("this change opens nothing", "these flows
are permitted and nothing else"), and a witness packet for every non-empty answer.
Intervals or sampled packets cannot prove emptiness; a BDD over the header bits can.

Header fields: an IP-version bit ``family`` (1 = IPv6), protocol (8), destination and
source address (128 each), destination and source port (16 each), ICMP type and code
(8 each). Addresses use one 128-bit field for both versions, IPv4 in the IPv4-mapped
range ``::ffff:0:0/96``. Variable order (``_level_plan``): family, protocol, destination
then source port, the low 32 bits of destination then source address, ICMP, then the high
96 address bits; most significant bit first within each group. Ports above addresses: a
rule's few services split the space early, so a filter's permitted set shares its address
sub-graphs across ports (a third fewer nodes to fold than addresses first).
The auxiliary zone variables of lint (``AUX_FIELDS``) lie above them all: a rule's zones
then sit on top of its packet match instead of being copied under every path of it.

Encoding invariant, the key to speed: on IPv4 paths (family 0) no node ever tests the
high 96 address bits; they are implicitly ``::ffff``. So an IPv4 rule costs only its
prefix bits and ports, and ``count()`` divides those paths' free high bits back out.
Every builder here keeps the invariant, and union, intersection and complement preserve it.

The canonical universe (every FlowSet lies inside it; complement is relative to it):
source and destination share the IP version (one family bit serves both), an IPv6
address is never in ``::ffff:0:0/96`` (that range means IPv4), ports are 0 unless the
protocol is TCP/UDP/SCTP, ICMP type/code are 0 unless it is ICMP/ICMPv6. ``count()``
therefore counts real distinct packets.

A ``PacketSpace`` owns one BDD manager (CUDD when available). It is not thread-safe;
use one per thread, or the process-wide ``default_space()`` from one thread.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from plantgate.firewalls.ruleset import (
    ICMP_PROTOCOLS,
    PORT_PROTOCOLS,
    AddressSet,
    PortRange,
    Service,
)
from plantgate.netspace.flow import MAPPED_V4_BASE, Flow, address_to_int


@contextmanager
def _without_networkx() -> Iterator[None]:
    """While dd is first imported, ``import networkx`` fails, unless networkx is already loaded.

    dd imports networkx, when installed, only for its graph export, which PlantGate never uses,
    and importing networkx costs a tenth of a second or more of every command that reasons
    about packets. Afterwards networkx imports normally (dd's own export then says it is absent).
    """
    blocked = "networkx" not in sys.modules
    if blocked:
        sys.modules["networkx"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if blocked and sys.modules.get("networkx", 0) is None:
            del sys.modules["networkx"]


with _without_networkx():
    try:  # CUDD is much faster; the pure-Python manager keeps us working without it.
        from dd import cudd as _bdd_module
    except ImportError:  # pragma: no cover - exercised only where dd.cudd is not built
        from dd import autoref as _bdd_module  # type: ignore[no-redef]

Node = Any
"""A BDD node of the manager in use (``dd.cudd.Function`` or ``dd.autoref.Function``)."""

PACKET_FIELDS: tuple[tuple[str, int], ...] = (
    ("family", 1),
    ("proto", 8),
    ("dport", 16),
    ("sport", 16),
    ("dst", 128),
    ("src", 128),
    ("icmp_type", 8),
    ("icmp_code", 8),
)
PACKET_BITS = sum(width for _, width in PACKET_FIELDS)
HIGH_BITS = 96
"""High address bits per address field, implicit (``::ffff``) on IPv4 paths."""

AUX_FIELDS: tuple[tuple[str, int], ...] = (("zone_from", 16), ("zone_to", 16))
"""Variables above every packet variable, for analyses that add a dimension (lint zones).

Above, not below: ANDing a match with its zones then adds a few nodes on top; below, it copied
every path of the match (a fifth of a large lint's time went there)."""

ADDRESS_FIELDS = frozenset({"src", "dst"})

_CACHE_LIMIT = 200_000

CACHE_ENTRIES = 1 << 20
"""Cap on CUDD's operation cache. It doubles while its hit rate is high, up to 16M entries
(over 300 MB) on a large lint; past 1M entries the extra hits saved no time in the benchmarks
(lint and permitted sets of 10,000 rules), so the memory is better left to the nodes."""


def _level_plan() -> list[tuple[str, int]]:
    """(field, bit index) for every BDD level, top first; bit 0 is the most significant."""
    plan: list[tuple[str, int]] = [(name, i) for name, width in AUX_FIELDS for i in range(width)]
    for name, width in PACKET_FIELDS:
        low = range(HIGH_BITS, 128) if name in ADDRESS_FIELDS else range(width)
        plan.extend((name, i) for i in low)
    plan.extend(("dst", i) for i in range(HIGH_BITS))
    plan.extend(("src", i) for i in range(HIGH_BITS))
    return plan


FIRST_PACKET_LEVEL = sum(width for _, width in AUX_FIELDS)
"""The level of the first packet variable (the auxiliary ones lie above)."""


class PacketSpace:
    """Owns the BDD manager and builds FlowSets from Ruleset fields and flows."""

    def __init__(self) -> None:
        self.bdd = _bdd_module.BDD()
        self.bdd.configure(reordering=False, max_cache_hard=CACHE_ENTRIES)  # the fixed order above is the good one
        plan = _level_plan()
        self.bdd.declare(*(f"{name}_{i}" for name, i in plan))
        self._levels: dict[str, list[int]] = {name: [0] * width for name, width in PACKET_FIELDS + AUX_FIELDS}
        for level, (name, i) in enumerate(plan):
            self._levels[name][i] = level
        self._vars: dict[str, list[Node]] = {
            name: [self.bdd.var(f"{name}_{i}") for i in range(width)] for name, width in PACKET_FIELDS + AUX_FIELDS
        }
        self._names: dict[str, tuple[str, ...]] = {}
        self._level_count = len(plan)
        self._level_owners: list[tuple[str, int]] = [
            (name, 1 << (len(self._vars[name]) - 1 - i)) for name, i in plan
        ]
        """(field, weight of the level's bit in the field's value) of every level."""
        self._stages: list[tuple[str, int, tuple[list[Node], list[Node]]]] | None = None
        self.true: Node = self.bdd.true
        self.false: Node = self.bdd.false
        self._prefix_cache: dict[tuple[str, int, int, int], Node] = {}
        self._byte_pieces: dict[tuple[str, int, int, int], Node] = {}
        self._address_cache: dict[tuple[str, AddressSet], Node] = {}
        self._service_cache: dict[Service, Node] = {}
        self._bits_cache: dict[tuple[str, Flow], list[int]] = {}
        self.memo: dict[Any, Any] = {}
        """Free-form cache for higher layers (compile); cleared when it grows too big."""
        self.ipv4: Node = ~self._vars["family"][0]
        self.ipv6: Node = self._vars["family"][0]
        port_proto = self.values("proto", PORT_PROTOCOLS)
        icmp_proto = self.values("proto", ICMP_PROTOCOLS)
        no_ports = self.value("dport", 0) & self.value("sport", 0)
        no_icmp = self.value("icmp_type", 0) & self.value("icmp_code", 0)
        mapped_high = self.bits_prefix("dst", MAPPED_V4_BASE, HIGH_BITS) | self.bits_prefix(
            "src", MAPPED_V4_BASE, HIGH_BITS
        )
        self.universe_node: Node = (
            (self.ipv4 | (self.ipv6 & ~mapped_high)) & (port_proto | no_ports) & (icmp_proto | no_icmp)
        )
        self._port_proto = port_proto
        self._icmp_proto = icmp_proto

    # ----- raw builders (nodes, not intersected with the universe) -----

    def field_vars(self, field: str) -> list[Node]:
        """The variables of a field, most significant bit first."""
        return self._vars[field]

    def field_names(self, field: str) -> tuple[str, ...]:
        """The variable names of a field, most significant bit first (built once per field)."""
        names = self._names.get(field)
        if names is None:
            names = self._names[field] = tuple(f"{field}_{i}" for i in range(len(self._vars[field])))
        return names

    def and_exists(self, u: Node, v: Node, names: Iterable[str]) -> Node:
        """``exists names. u and v`` in one pass (CUDD's relational product): the conjunction,
        often far larger than the result, is never built."""
        relational_product = getattr(_bdd_module, "and_exists", None)
        if relational_product is None:  # pragma: no cover - the pure-Python manager
            return self.bdd.exist(list(names), u & v)
        return relational_product(u, v, names)

    def project(self, node: Node, *keep: str) -> Node:
        """``node`` with every packet field but ``keep`` quantified away (free)."""
        names = [name for field, _ in PACKET_FIELDS if field not in keep for name in self.field_names(field)]
        return self.bdd.exist(names, node)

    def bits_prefix(self, field: str, value: int, length: int, first: int = 0) -> Node:
        """Bits ``first .. length-1`` of ``field`` equal those of ``value`` (a raw bit pattern).

        Built as the conjunction of its byte-aligned pieces (``_byte_piece``), each built once per
        space: a site's rules name tens of thousands of distinct addresses but few distinct bytes,
        and three conjunctions of short chains cost a fraction of 32 one-bit steps.
        """
        key = (field, value, length, first)
        node = self._prefix_cache.get(key)
        if node is None:
            width = len(self._vars[field])
            pieces = []
            start = first
            while start < length:
                end = min((start // 8 + 1) * 8, length)
                bits = (value >> (width - end)) & ((1 << (end - start)) - 1)
                pieces.append(self._byte_piece(field, start, end, bits))
                start = end
            node = self.true
            for piece in reversed(pieces):  # lowest level first: each conjunction only adds on top
                node = piece & node
            if len(self._prefix_cache) > _CACHE_LIMIT:
                self._prefix_cache.clear()
            self._prefix_cache[key] = node
        return node

    def _byte_piece(self, field: str, start: int, end: int, bits: int) -> Node:
        """Bits ``start .. end-1`` of ``field`` (within one byte) equal ``bits``, built bottom-up once."""
        key = (field, start, end, bits)
        node = self._byte_pieces.get(key)
        if node is None:
            variables, levels = self._vars[field], self._levels[field]
            ite, false = self.bdd.ite, self.false
            node = self.true
            for i in sorted(range(start, end), key=levels.__getitem__, reverse=True):  # lowest level first
                node = ite(variables[i], node, false) if (bits >> (end - 1 - i)) & 1 else ite(variables[i], false, node)
            self._byte_pieces[key] = node
        return node

    def address_prefix(self, field: str, value: int, length: int) -> Node:
        """A prefix of the 128-bit address field, in the family encoding.

        Inside ``::ffff:0:0/96`` it is an IPv4 prefix (family 0, low bits only); any other
        prefix is IPv6 (family 1). An IPv6 prefix around the mapped range still names only
        IPv6 packets: the universe removes the mapped range from family 1.
        """
        if length >= HIGH_BITS and value >> 32 == 0xFFFF:
            return self.ipv4 & self.bits_prefix(field, value, length, first=HIGH_BITS)
        return self.ipv6 & self.bits_prefix(field, value, length)

    def value(self, field: str, value: int) -> Node:
        if field in ADDRESS_FIELDS:
            return self.address_prefix(field, value, 128)
        return self.bits_prefix(field, value, len(self._vars[field]))

    def values(self, field: str, values: Iterable[int]) -> Node:
        node = self.false
        for v in values:
            node = node | self.value(field, v)
        return node

    def values_on_bits(self, field: str, values: Iterable[int], bits: int) -> Node:
        """Values written on the top ``bits`` bits of ``field`` only (the rest left free)."""
        width = len(self._vars[field])
        node = self.false if bits else self.true
        if bits:
            for v in values:
                node = node | self.bits_prefix(field, v << (width - bits), bits)
        return node

    def range(self, field: str, low: int, high: int) -> Node:
        """The values ``low <= x <= high`` of ``field``, built bit by bit (O(width) nodes)."""
        variables = self._vars[field]
        width = len(variables)
        assert field not in ADDRESS_FIELDS, "ranges assume most-significant-bit-first levels"
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
        node = self._address_cache.get((field, addrs))  # by content: configs repeat objects as equal sets
        if node is None:
            node = self._networks(field, addrs.include)
            if addrs.exclude:
                node = node & ~self._networks(field, addrs.exclude)
            if len(self._address_cache) > _CACHE_LIMIT:
                self._address_cache.clear()
            self._address_cache[field, addrs] = node
        return node

    def _networks(self, field: str, networks: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> Node:
        node = self.false
        for network in networks:
            if network.version == 4:
                value = MAPPED_V4_BASE | int(network.network_address)
                node = node | self.address_prefix(field, value, HIGH_BITS + network.prefixlen)
            else:
                node = node | self.address_prefix(field, int(network.network_address), network.prefixlen)
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

    def count_node(self, node: Node) -> int:
        """Exact number of packets in a packet set (IPv4 paths' implicit high bits divided out)."""
        return (self._count_all(node & self.ipv4) >> 2 * HIGH_BITS) + self._count_all(node & self.ipv6)

    def _count_all(self, node: Node) -> int:
        """Assignments of all packet levels satisfying ``node`` (a packet set: no auxiliary variable)."""
        memo: dict[int, int] = {}
        total, level = self._count_below(node, FIRST_PACKET_LEVEL + PACKET_BITS, memo)
        return total << (level - FIRST_PACKET_LEVEL)

    def _count_below(self, u: Node, bits: int, memo: dict[int, int]) -> tuple[int, int]:
        """(assignments of the levels from u's level down to ``bits``, u's level).

        A method, not a nested closure: a self-referencing closure would hold BDD nodes in
        a reference cycle, which CUDD must not meet after its manager is gone.
        """
        if u == self.false:
            return 0, bits
        if u == self.true:
            return 1, bits
        key = int(u)
        level: int = u.level
        if key not in memo:
            total = 0
            for child in self._children(u):
                sub, sub_level = self._count_below(child, bits, memo)
                total += sub << (sub_level - level - 1)
            memo[key] = total
        return memo[key], level

    def contains_node(self, node: Node, flow: Flow) -> bool:
        """Follow the flow's bits through the BDD (no new nodes)."""
        bits = self._flow_bits(flow)
        true, false = self.true, self.false
        u = node
        negated = False  # parity of complemented edges taken so far
        while u != true and u != false:
            if getattr(u, "negated", False):
                negated = not negated
            u = u.high if bits[u.level] else u.low
        return (u == true) != negated

    def _flow_bits(self, flow: Flow) -> list[int]:
        key = ("bits", flow)
        cached = self._bits_cache.get(key)
        if cached is None:
            cached = [0] * self._level_count
            for name, width in PACKET_FIELDS:
                value = _flow_field(flow, name)
                for i, level in enumerate(self._levels[name]):
                    cached[level] = (value >> (width - 1 - i)) & 1
            if len(self._bits_cache) > 65536:
                self._bits_cache.clear()
            self._bits_cache[key] = cached
        return cached

    def witness_node(self, node: Node) -> Flow | None:
        """A deterministic, readable member: IPv4, common protocols, low ports and addresses.

        One walk down the BDD in level order (family, protocol, ports, addresses). Where a
        field starts, the rest is narrowed to the field's first preferred subset that keeps
        members; through the field's levels the walk then takes the lowest branch that
        keeps members. Each step works on what lies below the fields already fixed, never
        on the whole set, so a witness of a large set costs about as little as a small one.
        """
        if node == self.false:
            return None
        true, false = self.true, self.false
        owners = self._level_owners
        values = dict.fromkeys(self._levels, 0)
        u, flip = node, False  # the set below the fixed fields is ``u``, complemented when ``flip``
        for _, last, preferred in self._witness_stages():
            narrowing = preferred[values["family"]]
            if narrowing:
                here = ~u if flip else u
                for pref in narrowing:
                    narrowed = here & pref
                    if narrowed != false:
                        u, flip = narrowed, False
                        break
            while u != true and u != false:
                level: int = u.level
                if level > last:
                    break
                if getattr(u, "negated", False):
                    flip = not flip
                low = u.low
                # a non-terminal child is never the constant false; a terminal one is false
                # when its own polarity, flipped by the parity so far, says so
                if (low == true or low == false) and ((low == true) == flip):
                    name, weight = owners[level]
                    values[name] |= weight
                    u = u.high
                else:
                    u = low

        def address(field: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
            if values["family"]:
                return ipaddress.IPv6Address(values[field])
            return ipaddress.IPv4Address(values[field] & 0xFFFFFFFF)

        return Flow(
            src=address("src"),
            dst=address("dst"),
            proto=values["proto"],
            sport=values["sport"],
            dport=values["dport"],
            icmp_type=values["icmp_type"],
            icmp_code=values["icmp_code"],
        )

    def _witness_stages(self) -> list[tuple[str, int, tuple[list[Node], list[Node]]]]:
        """(field, its last level in this run of levels, preferred subsets), top run first, built once.

        A field's preferences sit on its first run of levels, one list per family (indexed
        by the family bit): below the family level only the family's own part of a
        preference (an address's readable range) may narrow the set.
        """
        if self._stages is None:
            readable = {field: self._readable(field) for field in ADDRESS_FIELDS}
            protocols = [self.value("proto", p) for p in (6, 17, 1, 58)]
            ports = {"dport": [self.range("dport", 1, 65535)], "sport": [self.range("sport", 1024, 65535)]}
            preferences: dict[str, tuple[list[Node], list[Node]]] = {
                "family": ([self.ipv4], [self.ipv4]),
                "proto": (protocols, protocols),
                **{field: (pref, pref) for field, pref in ports.items()},
                **{field: ([v4], [v6]) for field, (v4, v6) in readable.items()},
            }
            stages: list[tuple[str, int, tuple[list[Node], list[Node]]]] = []
            for level, (field, _) in enumerate(self._level_owners):
                if stages and stages[-1][0] == field and stages[-1][1] == level - 1:
                    stages[-1] = (field, level, stages[-1][2])
                    continue
                first_run = all(name != field for name, _, _ in stages)
                stages.append((field, level, preferences.get(field, ([], [])) if first_run else ([], [])))
            self._stages = stages
        return self._stages

    def _readable(self, field: str) -> tuple[Node, Node]:
        """(IPv4, IPv6) parts of a readable address: IPv4 outside 0.0.0.0/8 (which reads
        like "any"); for IPv6, global unicast 2000::/3. Neither tests the family bit."""
        v4_zero_net = self.bits_prefix(field, MAPPED_V4_BASE, 104, first=HIGH_BITS)
        return ~v4_zero_net, self.bits_prefix(field, 1 << 125, 3)


def _checked(value: int, top: int, label: str) -> int:
    if not 0 <= value <= top:
        raise ValueError(f"{label} {value} is outside 0-{top}")
    return value


def _flow_field(flow: Flow, name: str) -> int:
    if name == "family":
        return 1 if flow.src.version == 6 else 0
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
