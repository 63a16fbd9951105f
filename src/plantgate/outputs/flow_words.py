"""A set of flows told in words: "any TCP port, from 10.10.8.0/24 (256 addresses) to EWS-01 (10.30.0.22)".

An approver cannot weigh "1099494850560 flows"; they can weigh a protocol, a port and two
address ranges with the names they know. This module reads a FlowSet (a BDD) back into a few
boxes (protocols x ports x ICMP x source x destination, each axis a list of intervals) and
words each box. The boxes are exact: rebuilt with ``PacketSpace`` they give the very same set
(``FlowWords.exact``), unless the set needs more than ``MAX_BOXES`` boxes or an IPv6 address
range the interval form cannot hold: then the phrase says "within" one box that holds the whole set.

How the boxes are read: the BDD tests its variables in a fixed order (family, protocol,
destination then source port, low address bits, ICMP, high address bits). Walking one field's
run of levels gives intervals of that field, each leading to the sub-set below it; intervals
leading to the same (canonical) node share their sub-set, so grouping by node yields boxes
directly. Fields a protocol does not have (ports of GRE, ICMP type of TCP) are forced to 0 by
the packet universe and are left out of the words, as ``Service`` leaves them out of a rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from plantgate.firewalls.ruleset import ICMP_PROTOCOLS, PORT_PROTOCOLS
from plantgate.netspace import FlowSet, PacketSpace
from plantgate.netspace.boxes import V4_VALUES, Intervals, merged, minus
from plantgate.netspace.flow import MAPPED_V4_BASE, int_to_address
from plantgate.netspace.space import Node
from plantgate.netspace.value_runs import TooManyRuns, value_runs

MAX_BOXES = 16
"""Boxes read before the phrase gives up on exactness (a firewall's permitted set is rarely more)."""
MAX_SEGMENTS = 512
"""Intervals of one field read before the walk gives up (e.g. "every odd port" is 32,768 of them)."""
SHOWN_RANGES = 6
"""Address ranges (CIDRs) named per side; the rest are counted."""
EXCEPT_RANGES = 3
"""A set told as a known one "except" a few ranges when it would take more CIDRs than this, and the cut fewer."""
SHOWN_NUMBERS = 12
"""Port (or protocol, ICMP type) ranges named per clause; the rest are counted."""

RUNS: tuple[tuple[str, int, int], ...] = (
    ("family", 0, 1), ("proto", 0, 8), ("dport", 0, 16), ("sport", 0, 16), ("dst", 96, 32), ("src", 96, 32),
    ("icmp_type", 0, 8), ("icmp_code", 0, 8), ("dst", 0, 96), ("src", 0, 96),
)
"""(field, first bit, bits) of each run of consecutive BDD levels, top first (``space._level_plan``)."""

V6_VALUES: Intervals = ((0, MAPPED_V4_BASE - 1), (MAPPED_V4_BASE + (1 << 32), (1 << 128) - 1))
"""The address-field values of IPv6 addresses (everything outside ``::ffff:0:0/96``)."""
ALL_ADDRESSES: Intervals = ((0, (1 << 128) - 1),)

PROTOCOL_NAMES = {6: "TCP", 17: "UDP", 132: "SCTP", 1: "ICMP", 58: "ICMPv6", 47: "GRE", 50: "ESP", 51: "AH",
                  89: "OSPF", 112: "VRRP"}
PORT_NAMES = {20: "FTP data", 21: "FTP", 22: "SSH", 23: "Telnet", 25: "SMTP", 53: "DNS", 67: "DHCP", 69: "TFTP",
              80: "HTTP", 88: "Kerberos", 102: "S7comm", 123: "NTP", 135: "MS RPC", 137: "NetBIOS", 139: "NetBIOS",
              161: "SNMP", 162: "SNMP trap", 389: "LDAP", 443: "HTTPS", 445: "SMB", 502: "Modbus", 514: "syslog",
              636: "LDAPS", 1433: "MS SQL", 1883: "MQTT", 2404: "IEC 104", 3389: "RDP", 4840: "OPC UA",
              5900: "VNC", 5985: "WinRM", 5986: "WinRM", 8883: "MQTT over TLS", 20000: "DNP3",
              44818: "EtherNet/IP", 47808: "BACnet"}
"""Well-known ports named beside their number: the names an OT engineer reads faster than the number."""
ICMP_NAMES = {0: "echo reply", 3: "destination unreachable", 8: "echo request", 11: "time exceeded"}


@dataclass(frozen=True)
class FlowBox:
    """One box of flows: the product of its axes, within the packet universe.

    ``dports``/``sports`` bind only the port protocols among ``protocols``, ``icmp_types``/``icmp_codes``
    only ICMP and ICMPv6 (None: any value); ``src``/``dst`` are address-field values (IPv4 in
    ``::ffff:0:0/96``), so one box may hold IPv4 and IPv6 addresses."""

    protocols: Intervals
    dports: Intervals | None
    sports: Intervals | None
    icmp_types: Intervals | None
    icmp_codes: Intervals | None
    src: Intervals
    dst: Intervals

    def flows(self, space: PacketSpace) -> FlowSet:
        """The box as a FlowSet (how the tests hold the words to the set)."""
        node = _field_node(space, "proto", self.protocols)
        ports = _field_node(space, "dport", self.dports) & _field_node(space, "sport", self.sports)
        icmp = _field_node(space, "icmp_type", self.icmp_types) & _field_node(space, "icmp_code", self.icmp_codes)
        port_proto = space.values("proto", PORT_PROTOCOLS)
        icmp_proto = space.values("proto", ICMP_PROTOCOLS)
        node = node & (~port_proto | ports) & (~icmp_proto | icmp)
        return space.wrap(node & _address_node(space, "src", self.src) & _address_node(space, "dst", self.dst))


def _field_node(space: PacketSpace, field: str, intervals: Intervals | None) -> Node:
    return space.true if intervals is None else space.ranges(field, intervals)


def _address_node(space: PacketSpace, field: str, intervals: Intervals) -> Node:
    node = space.false
    for low, high in intervals:
        for network in _networks(low, high):
            node = node | space.address_prefix(field, _value(network), 128 - _host_bits(network))
    return node


def _value(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    base = int(network.network_address)
    return MAPPED_V4_BASE | base if network.version == 4 else base


def _host_bits(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    return network.max_prefixlen - network.prefixlen


def _networks(low: int, high: int) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The CIDRs covering address-field values ``low..high`` exactly (split where IPv4 begins and ends)."""
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for part_low, part_high in _family_parts(low, high):
        first, last = int_to_address(part_low), int_to_address(part_high)
        out.extend(ipaddress.summarize_address_range(first, last))  # type: ignore[arg-type]
    return out


def _family_parts(low: int, high: int) -> list[tuple[int, int]]:
    parts = []
    for family_low, family_high in (*V6_VALUES[:1], V4_VALUES, *V6_VALUES[1:]):
        a, b = max(low, family_low), min(high, family_high)
        if a <= b:
            parts.append((a, b))
    return parts


# ----- reading the BDD back as boxes -----


RawBox = tuple[Intervals | None, ...]
"""One interval list per run of ``RUNS`` (None: the run's every value)."""


def _raw_boxes(space: PacketSpace, node: Node) -> list[RawBox]:
    levels = [space.bdd.level_of_var(f"{field}_{first}") for field, first, _ in RUNS]
    out: list[RawBox] = []

    def walk(u: Node, run: int, axes: tuple[Intervals | None, ...]) -> None:
        if u == space.false:
            return
        if run == len(RUNS) or u == space.true:
            if len(out) >= MAX_BOXES:
                raise TooManyRuns
            out.append(axes + (None,) * (len(RUNS) - run))
            return
        width = RUNS[run][2]
        groups: dict[Node, list[tuple[int, int]]] = {}
        for low, high, child in value_runs(space, u, levels[run], width, MAX_SEGMENTS):
            groups.setdefault(child, []).append((low, high))
        for child, intervals in groups.items():
            axis = merged(intervals)
            walk(child, run + 1, axes + (None if axis == ((0, (1 << width) - 1),) else axis,))

    walk(node, 0, ())
    return out


def _addresses(family: int, low_bits: Intervals | None, high_bits: Intervals | None) -> Intervals:
    """Address-field values of a raw box's low-32 and high-96 runs."""
    low_bits = low_bits if low_bits is not None else ((0, (1 << 32) - 1),)
    if family == 0:  # IPv4 paths never test the high bits: they are ::ffff
        return tuple((MAPPED_V4_BASE + a, MAPPED_V4_BASE + b) for a, b in low_bits)
    high_bits = high_bits if high_bits is not None else ((0, (1 << 96) - 1),)
    if low_bits == ((0, (1 << 32) - 1),):
        return merged((a << 32, b << 32 | 0xFFFFFFFF) for a, b in high_bits)
    if sum(b - a + 1 for a, b in high_bits) > MAX_BOXES:
        raise TooManyRuns  # an IPv6 set that is not a union of a few ranges
    return merged((h << 32 | a, h << 32 | b) for low, high in high_bits for h in range(low, high + 1)
                  for a, b in low_bits)


def _box(raw: RawBox) -> FlowBox:
    family_axis, proto, dport, sport, dst_low, src_low, icmp_type, icmp_code, dst_high, src_high = raw
    family = 1 if family_axis == ((1, 1),) else 0
    if family_axis is None:
        raise TooManyRuns  # both families below one node: cannot happen inside the universe
    protocols = proto if proto is not None else ((0, 255),)
    return FlowBox(protocols, dport, sport, icmp_type, icmp_code,
                   _addresses(family, src_low, src_high), _addresses(family, dst_low, dst_high))


def _meaningful(protocols: Intervals, among: frozenset[int]) -> bool:
    return any(low <= p <= high for p in among for low, high in protocols)


def _normalised(box: FlowBox) -> FlowBox:
    """Fields no protocol of the box has (forced to 0 by the universe) become None, i.e. unconstrained."""
    if not _meaningful(box.protocols, PORT_PROTOCOLS):
        box = replace(box, dports=None, sports=None)
    if not _meaningful(box.protocols, ICMP_PROTOCOLS):
        box = replace(box, icmp_types=None, icmp_codes=None)
    return box


def _joined(a: FlowBox, b: FlowBox) -> FlowBox | None:
    """One box equal to the union of two, when there is one this simple reading can find."""
    def agree(field: str, among: frozenset[int]) -> Intervals | None | bool:
        x, y = getattr(a, field), getattr(b, field)
        if x == y:
            return x  # type: ignore[no-any-return]
        if not _meaningful(a.protocols, among):
            return y  # type: ignore[no-any-return]
        if not _meaningful(b.protocols, among):
            return x  # type: ignore[no-any-return]
        return False

    fields = {"dports": PORT_PROTOCOLS, "sports": PORT_PROTOCOLS, "icmp_types": ICMP_PROTOCOLS,
              "icmp_codes": ICMP_PROTOCOLS}
    values = {name: agree(name, among) for name, among in fields.items()}
    if all(v is not False for v in values.values()) and a.src == b.src and a.dst == b.dst:
        return FlowBox(merged(a.protocols + b.protocols), src=a.src, dst=a.dst, **values)  # type: ignore[arg-type]
    for axis in ("dports", "sports", "icmp_types", "icmp_codes"):  # p x D1 | p x D2 == p x (D1 | D2)
        if a.protocols == b.protocols and all(getattr(a, f) == getattr(b, f) for f in
                                              ("sports", "dports", "icmp_types", "icmp_codes", "src", "dst")
                                              if f != axis):
            x, y = getattr(a, axis), getattr(b, axis)
            union = None if x is None or y is None else merged(x + y)
            return replace(a, **{axis: None if union in (((0, 65535),), ((0, 255),)) else union})  # type: ignore[arg-type]
    same_service = (a.protocols, a.dports, a.sports, a.icmp_types, a.icmp_codes) == (
        b.protocols, b.dports, b.sports, b.icmp_types, b.icmp_codes)
    if same_service and a.src == b.src:
        return replace(a, dst=merged(a.dst + b.dst))
    if same_service and a.dst == b.dst:
        return replace(a, src=merged(a.src + b.src))
    families = (_one_family(a), _one_family(b))
    if same_service and None not in families and families[0] != families[1]:  # the universe keeps them apart
        return replace(a, src=merged(a.src + b.src), dst=merged(a.dst + b.dst))
    return None


def _one_family(box: FlowBox) -> int | None:
    families = {_family(low, high) for low, high in box.src + box.dst}
    return families.pop() if len(families) == 1 else None


def _family(low: int, high: int) -> int | None:
    if V4_VALUES[0] <= low and high <= V4_VALUES[1]:
        return 4
    if high < V4_VALUES[0] or low > V4_VALUES[1]:
        return 6
    return None


def _join_all(boxes: list[FlowBox]) -> list[FlowBox]:
    boxes = [_normalised(b) for b in boxes]
    changed = True
    while changed:
        changed = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                joined = _joined(boxes[i], boxes[j])
                if joined is not None:
                    boxes[i] = joined
                    del boxes[j]
                    changed = True
                    break
            if changed:
                break
    return boxes


# ----- words -----


AddressNames = Mapping[Intervals, str]
"""Known address sets (an asset's addresses, a zone's networks) by their exact address-field intervals."""


def address_intervals(cidrs: Iterable[str]) -> Intervals:
    """The address-field intervals of CIDRs or addresses, the key of ``AddressNames``."""
    out = []
    for text in cidrs:
        network = ipaddress.ip_network(text, strict=False)
        for base, length in _prefixes(network):
            out.append((base, base + (1 << (128 - length)) - 1))
    return merged(out)


def _prefixes(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[tuple[int, int], ...]:
    from plantgate.netspace.flow import network_prefixes

    return network_prefixes(network)


def _count(intervals: Intervals) -> int:
    return sum(high - low + 1 for low, high in intervals)


def _plural(n: int, one: str, many: str) -> str:
    if n > 1 << 32 and n & (n - 1) == 0:  # an IPv6 prefix: 2^64 reads better than twenty digits
        return f"2^{n.bit_length() - 1} {many}"
    return f"{n:,} {one if n == 1 else many}"


def addresses_words(intervals: Intervals, names: AddressNames | None = None, shown: int = SHOWN_RANGES) -> str:
    """``10.10.8.0/24 (256 addresses)``, ``any IPv4 address``, or a known name with its address."""
    if intervals == ALL_ADDRESSES:
        return "any address"
    if intervals == (V4_VALUES,):
        return "any IPv4 address"
    if intervals == V6_VALUES:
        return "any IPv6 address"
    count = _count(intervals)
    name = (names or {}).get(intervals)
    if name:
        return f"{name} ({_cidrs(intervals, shown, count)})"
    networks = [net for low, high in intervals for net in _networks(low, high)]
    if len(networks) > EXCEPT_RANGES:
        for known, label in (names or {}).items():  # "zone enterprise except 10.10.7.20" reads better than 16 CIDRs
            if not minus(intervals, known) and len(cut := minus(known, intervals)) <= EXCEPT_RANGES:
                cut_networks = [net for low, high in cut for net in _networks(low, high)]
                if len(cut_networks) <= EXCEPT_RANGES:
                    return f"{label} except {_listed(cut_networks, shown)} " \
                           f"({_plural(count, 'address', 'addresses')})"
    return _cidrs(intervals, shown, count)


def _listed(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network], shown: int) -> str:
    listed = ", ".join(str(net) if _host_bits(net) else str(net.network_address) for net in networks[:shown])
    if len(networks) > shown:
        listed += f" and {_plural(len(networks) - shown, 'more range', 'more ranges')}"
    return listed


def _cidrs(intervals: Intervals, shown: int, count: int) -> str:
    listed = _listed([net for low, high in intervals for net in _networks(low, high)], shown)
    return listed if count == 1 else f"{listed} ({_plural(count, 'address', 'addresses')})"


def _numbers(intervals: Intervals, names: Mapping[int, str]) -> str:
    parts = []
    for low, high in intervals[:SHOWN_NUMBERS]:
        if low == high:
            parts.append(f"{low} ({names[low]})" if low in names else str(low))
        else:
            parts.append(f"{low}-{high}")
    rest = len(intervals) - SHOWN_NUMBERS
    return ", ".join(parts) + (f" and {_plural(rest, 'more range', 'more ranges')}" if rest > 0 else "")


def _names(protocols: list[int]) -> str:
    words = [PROTOCOL_NAMES.get(p, f"protocol {p}") for p in protocols]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _is_single(intervals: Intervals) -> bool:
    return len(intervals) == 1 and intervals[0][0] == intervals[0][1]


def service_words(box: FlowBox) -> str:
    """The protocols and ports of a box: ``TCP port 502 (Modbus)``, ``any TCP or UDP port``, ``any traffic``."""
    if box.protocols == ((0, 255),) and box.dports is None and box.sports is None and box.icmp_types is None \
            and box.icmp_codes is None:
        return "any traffic"
    if sum(high - low + 1 for low, high in box.protocols) > 8:
        rest = f"IP protocols {_numbers(box.protocols, {})}"
        return rest if box.dports is None and box.sports is None else \
            rest + f" (ports {_numbers(box.dports or ((0, 65535),), PORT_NAMES)} where they have ports)"
    protocols = [p for low, high in box.protocols for p in range(low, high + 1)]
    parts = []
    with_ports = [p for p in protocols if p in PORT_PROTOCOLS]
    if with_ports:
        if box.dports is None:
            text = f"any {_names(with_ports)} port"
        else:
            plural = "port" if _is_single(box.dports) else "ports"
            text = f"{_names(with_ports)} {plural} {_numbers(box.dports, PORT_NAMES)}"
        if box.sports is not None:
            text += f" from source {'port' if _is_single(box.sports) else 'ports'} {_numbers(box.sports, {})}"
        parts.append(text)
    with_icmp = [p for p in protocols if p in ICMP_PROTOCOLS]
    if with_icmp:
        text = _names(with_icmp)
        if box.icmp_types is not None:
            text += f" type {_numbers(box.icmp_types, ICMP_NAMES)}"
        if box.icmp_codes is not None:
            text += f" code {_numbers(box.icmp_codes, {})}"
        parts.append(text)
    others = [p for p in protocols if p not in PORT_PROTOCOLS and p not in ICMP_PROTOCOLS]
    if others:
        parts.append(_names(others))
    return " and ".join(parts)


def _clauses(boxes: list[FlowBox], names: AddressNames | None) -> list[str]:
    """One clause per source and destination, the services between them joined by "and"."""
    ends: dict[tuple[Intervals, Intervals], list[str]] = {}
    for box in boxes:
        ends.setdefault((box.src, box.dst), []).append(service_words(box))
    return [f"{' and '.join(services)}, from {addresses_words(src, names)} to {addresses_words(dst, names)}"
            for (src, dst), services in ends.items()]


@dataclass(frozen=True)
class FlowWords:
    """A flow set in words: ``phrase`` for people, ``boxes`` for tests, ``count`` for the details."""

    phrase: str
    boxes: tuple[FlowBox, ...]
    count: int
    exact: bool

    def __str__(self) -> str:
        return self.phrase


def describe(flows: FlowSet, names: AddressNames | None = None) -> FlowWords:
    """``flows`` in words, one clause per box joined by "; ", and whether the clauses say all of it.

    IPv4 and IPv6 are read apart, so that an IPv6 part too ragged for a few boxes (told "within" one box)
    leaves the IPv4 part exact."""
    count = flows.count()
    if count == 0:
        return FlowWords("nothing", (), 0, True)
    space = flows.space
    exact_boxes: list[FlowBox] = []
    hulls: list[FlowBox] = []
    for family in (space.ipv4, space.ipv6):
        part = FlowSet(space, flows.node & family)
        if part.is_empty():
            continue
        try:
            exact_boxes += [_box(raw) for raw in _raw_boxes(space, part.node)]
        except TooManyRuns:
            hulls += _hull(part)
    exact_boxes = _join_all(exact_boxes)
    clauses = _clauses(exact_boxes, names) + ["within " + clause for clause in _clauses(hulls, names)]
    return FlowWords("; ".join(clauses), tuple(exact_boxes + hulls), count, not hulls)


def _hull(flows: FlowSet) -> list[FlowBox]:
    """One box around the set, read field by field (projections): what a phrase can still say truly, as
    "within", when the set has too many pieces (the box holds every flow of the set, and maybe more)."""
    from plantgate.reconcile.reach import field_intervals

    space = flows.space

    def axis(field: str) -> Intervals | None:
        values = tuple(field_intervals(space, space.project(flows.node, field), field))
        width = len(space.field_vars(field))
        return None if values == ((0, (1 << width) - 1),) else values

    def addresses(field: str) -> Intervals:
        out: list[tuple[int, int]] = []
        ipv4 = space.project(flows.node & space.ipv4, field)
        if ipv4 != space.false:
            try:
                low_bits = merged((a, b) for a, b, _ in value_runs(space, ipv4, space.bdd.level_of_var(
                    f"{field}_96"), 32, MAX_SEGMENTS))
            except TooManyRuns:
                low_bits = ((0, (1 << 32) - 1),)
            out.extend(_addresses(0, low_bits, None))
        if not (flows.node & space.ipv6) == space.false:
            out.extend(V6_VALUES)  # IPv6 ranges are not read apart here: all of them, to stay on the safe side
        return merged(out)

    return [_normalised(FlowBox(axis("proto") or ((0, 255),), axis("dport"), axis("sport"), axis("icmp_type"),
                                axis("icmp_code"), addresses("src"), addresses("dst")))]
