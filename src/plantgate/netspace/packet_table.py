"""IPv4 packets as columns of numbers, judged against a filter's rules all at once (numpy).

Why it exists: ``fw test --packets`` with 100,000 packets spent most of its time per packet in
Python: building a Flow, converting its addresses, checking candidate rules one by one. Here
the packets are arrays (addresses as 32-bit integers, protocol, ports, ICMP type and code),
sorted once by source and once by destination address. The rules are walked once, in order;
each rule's address networks become intervals, a binary search finds the packets inside them
in the narrower of the two sorted orders, and the rule's fields are checked on those
candidates with array operations. A packet is decided by the first rule that matches it.

The semantics are exactly those of ``evaluate.packet_matches`` (a property test holds the
two equal): a configured network is the same prefix of the 128-bit address field
(``flow.network_prefixes``), which for an IPv4 packet is an interval of the IPv4 space, the
whole space, or nothing. IPv6 packets are not handled here (see ``batch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from plantgate.firewalls.ruleset import ICMP_PROTOCOLS, PORT_PROTOCOLS, AddressSet, IPNetwork, Rule, Service
from plantgate.netspace.flow import MAPPED_V4_BASE, Flow, network_prefixes

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
V4_TOP = (1 << 32) - 1
_PORT_PROTOCOLS = np.array(sorted(PORT_PROTOCOLS), dtype=np.int64)
_ICMP_PROTOCOLS = np.array(sorted(ICMP_PROTOCOLS), dtype=np.int64)


@dataclass(frozen=True)
class PacketColumns:
    """IPv4 packets, one array element per packet; every array has the same length."""

    src: IntArray
    dst: IntArray
    proto: IntArray
    sport: IntArray
    dport: IntArray
    icmp_type: IntArray
    icmp_code: IntArray

    def __len__(self) -> int:
        return len(self.src)

    @classmethod
    def of(cls, rows: Sequence[tuple[int, int, int, int, int, int, int]]) -> PacketColumns:
        """From (src, dst, proto, sport, dport, icmp_type, icmp_code) rows, addresses as IPv4 integers."""
        table = np.array(rows, dtype=np.int64).reshape(len(rows), 7)
        return cls(*(np.ascontiguousarray(table[:, k]) for k in range(7)))


def is_ipv4(flow: Flow) -> bool:
    return flow.src.version == 4


# ----- a rule's fields as IPv4 intervals ------------------------------------------------------


@dataclass(frozen=True)
class Intervals:
    """Sorted, disjoint, non-adjacent inclusive intervals ``[low[i], high[i]]`` of the IPv4 space."""

    low: IntArray
    high: IntArray

    @property
    def everything(self) -> bool:
        return len(self.low) == 1 and self.low[0] == 0 and self.high[0] == V4_TOP

    def contains(self, values: IntArray) -> BoolArray:
        if not len(self.low):
            return np.zeros(len(values), dtype=np.bool_)
        if len(self.low) == 1:
            return (values >= self.low[0]) & (values <= self.high[0])
        index = np.searchsorted(self.low, values, side="right") - 1
        return (index >= 0) & (values <= self.high[np.maximum(index, 0)])


def _network_intervals(net: IPNetwork) -> list[tuple[int, int]]:
    """The IPv4 packets a configured network matches, as intervals (see the module docstring)."""
    found = []
    for base, length in network_prefixes(net):
        shift = 128 - length
        if length >= 96:
            if base >> 32 == 0xFFFF:
                first = base & V4_TOP
                found.append((first, first | ((1 << shift) - 1)))
        elif MAPPED_V4_BASE >> shift == base >> shift:
            found.append((0, V4_TOP))
    return found


def intervals_of(networks: Sequence[IPNetwork]) -> Intervals:
    """The union of ``networks`` over the IPv4 packets, merged into sorted disjoint intervals."""
    pieces = sorted(piece for net in networks for piece in _network_intervals(net))
    low: list[int] = []
    high: list[int] = []
    for first, last in pieces:
        if high and first <= high[-1] + 1:
            high[-1] = max(high[-1], last)
        else:
            low.append(first)
            high.append(last)
    return Intervals(np.array(low, dtype=np.int64), np.array(high, dtype=np.int64))


_by_id: dict[int, tuple[AddressSet, Intervals, Intervals]] = {}
_BY_ID_LIMIT = 1 << 16


def address_intervals(addrs: AddressSet) -> tuple[Intervals, Intervals]:
    """(include, exclude) of ``addrs`` as IPv4 intervals, built once per AddressSet object."""
    found = _by_id.get(id(addrs))
    if found is None or found[0] is not addrs:
        if len(_by_id) >= _BY_ID_LIMIT:
            _by_id.clear()
        found = _by_id[id(addrs)] = (addrs, intervals_of(addrs.include), intervals_of(addrs.exclude))
    return found[1], found[2]


def _address_matches(addrs: AddressSet, values: IntArray) -> BoolArray:
    include, exclude = address_intervals(addrs)
    inside = include.contains(values)
    if len(exclude.low):
        inside &= ~exclude.contains(values)
    return inside


def _in_ranges(values: IntArray, ranges: Sequence[tuple[int, int]]) -> BoolArray:
    hit = np.zeros(len(values), dtype=np.bool_)
    for low, high in ranges:
        hit |= (values >= low) & (values <= high)
    return hit


class _Candidates:
    """Some packets of a PacketColumns (``positions``), each column taken only when a rule reads it."""

    def __init__(self, packets: PacketColumns, positions: IntArray) -> None:
        self.packets, self.positions = packets, positions
        self._taken: dict[str, IntArray] = {}

    def __len__(self) -> int:
        return len(self.positions)

    def column(self, name: str) -> IntArray:
        taken = self._taken.get(name)
        if taken is None:
            taken = self._taken[name] = getattr(self.packets, name)[self.positions]
        return taken

    def ported(self) -> BoolArray:
        proto = self.column("proto")
        return (proto == _PORT_PROTOCOLS[0]) | (proto == _PORT_PROTOCOLS[1]) | (proto == _PORT_PROTOCOLS[2])

    def icmp(self) -> BoolArray:
        proto = self.column("proto")
        return (proto == _ICMP_PROTOCOLS[0]) | (proto == _ICMP_PROTOCOLS[1])


def _service_matches(svc: Service, packets: _Candidates) -> BoolArray:
    """``evaluate.service_matches`` on every packet."""
    proto = packets.column("proto")
    hit = np.ones(len(proto), dtype=np.bool_) if svc.protocol is None else proto == svc.protocol
    if svc.dst_ports or svc.src_ports:
        ported = packets.ported()
        if svc.dst_ports:
            hit &= ~ported | _in_ranges(packets.column("dport"), svc.dst_ports)
        if svc.src_ports:
            hit &= ~ported | _in_ranges(packets.column("sport"), svc.src_ports)
    if svc.icmp_type is not None or svc.icmp_code is not None:
        icmp = packets.icmp()
        if svc.icmp_type is not None:
            hit &= ~icmp | (packets.column("icmp_type") == svc.icmp_type)
        if svc.icmp_code is not None:
            hit &= ~icmp | (packets.column("icmp_code") == svc.icmp_code)
    return hit


def rule_matches_columns(rule: Rule, packets: PacketColumns, positions: IntArray | None = None) -> BoolArray:
    """``evaluate.packet_matches`` of ``rule`` on the packets at ``positions`` (all by default).

    Zones and state are the caller's to check.
    """
    taken = _Candidates(packets, np.arange(len(packets)) if positions is None else positions)
    hit = _address_matches(rule.sources, taken.column("src")) != rule.source_negate
    hit &= _address_matches(rule.destinations, taken.column("dst")) != rule.destination_negate
    if not hit.any():
        return hit
    service_hit = _service_matches(rule.services[0], taken) if rule.services else np.zeros(len(hit), np.bool_)
    for svc in rule.services[1:]:
        service_hit |= _service_matches(svc, taken)
    return hit & (service_hit != rule.service_negate)


# ----- first match over a filter -----------------------------------------------------------


class _SortedField:
    """One address column sorted once, to find the packets inside intervals by binary search."""

    def __init__(self, values: IntArray) -> None:
        self.order = np.argsort(values, kind="stable")
        self.sorted = values[self.order]

    def bounds(self, intervals: Intervals) -> tuple[IntArray, IntArray]:
        return (np.searchsorted(self.sorted, intervals.low, side="left"),
                np.searchsorted(self.sorted, intervals.high, side="right"))

    def positions(self, starts: IntArray, stops: IntArray) -> IntArray:
        if len(starts) == 1:
            return self.order[starts[0]:stops[0]]
        return np.concatenate([self.order[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)])


def first_matches(rules: Sequence[Rule], packets: PacketColumns) -> IntArray:
    """For each packet, the index in ``rules`` of the first rule that matches it, or -1.

    ``rules`` are the rules that apply (enabled, zone context and state already checked).
    """
    count = len(packets)
    chosen = np.full(count, -1, dtype=np.int64)
    if not count:
        return chosen
    undecided = np.ones(count, dtype=np.bool_)
    left = count
    by_src, by_dst = _SortedField(packets.src), _SortedField(packets.dst)
    for index, rule in enumerate(rules):
        candidates = _candidates(rule, by_src, by_dst, undecided)
        if not len(candidates):
            continue
        matched = candidates[rule_matches_columns(rule, packets, candidates)]
        if len(matched):
            chosen[matched] = index
            undecided[matched] = False
            left -= len(matched)
            if not left:
                break
    return chosen


def _candidates(rule: Rule, by_src: _SortedField, by_dst: _SortedField, undecided: BoolArray) -> IntArray:
    """Undecided packets inside the narrower of the rule's two address sides (all, for negated sides)."""
    best: tuple[int, _SortedField, IntArray, IntArray] | None = None
    for addrs, negate, field in ((rule.sources, rule.source_negate, by_src),
                                 (rule.destinations, rule.destination_negate, by_dst)):
        include = address_intervals(addrs)[0]
        if negate or include.everything:
            continue
        starts, stops = field.bounds(include)
        size = int((stops - starts).sum())
        if best is None or size < best[0]:
            best = (size, field, starts, stops)
    if best is None:
        return np.flatnonzero(undecided)
    if not best[0]:
        return np.empty(0, dtype=np.int64)
    positions = best[1].positions(best[2], best[3])
    return positions[undecided[positions]]
