"""Interval boxes around rule matches: which rules cannot meet a region, told without BDDs.

The edit-restricted diff (``restricted``) folds, per filter, only the rules whose match can
meet the few flows the edits affect. Building a rule's BDD costs about 0.1 ms; comparing a
few integer intervals costs microseconds. A box over-approximates a rule's match on three
axes of integers:

- source and destination address: the exact set of 128-bit field values an address set
  denotes (IPv4 in ``::ffff:0:0/96``, an IPv6 network without that range; see
  ``flow.network_prefixes``), excludes taken out;
- service: ``protocol << 16 | destination port``, one interval per service (the whole
  port range when the protocol has no ports or the service names none).

Every flow of the canonical universe that a rule matches has its three values inside the
rule's box, so two rules with disjoint boxes on some axis have disjoint matches: the box
test may keep too many rules, never too few, and the exact BDD step decides the rest. What
a box cannot describe simply (a negated field, a service for every protocol) is the whole
axis; a rule the BDD builder would reject gets the whole box, so its error is still reported.

The address intervals are exact and canonical (sorted, merged), so they double as the
content key of an address set in ``signatures``: equal intervals, equal addresses.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

from plantgate.firewalls.ruleset import PORT_PROTOCOLS, AddressSet, IPNetwork, Rule, Service
from plantgate.netspace.flow import MAPPED_V4_BASE, network_prefixes

Intervals = tuple[tuple[int, int], ...]
"""Sorted, disjoint, non-adjacent inclusive integer intervals."""

Axis = Intervals | None
"""An axis of a box; None is the whole axis."""

Box = tuple[Axis, Axis, Axis]
"""(source address, destination address, service) axes of a rule's match."""


def merged(intervals: Iterable[tuple[int, int]]) -> Intervals:
    """The union of inclusive intervals, sorted with touching ones joined."""
    out: list[tuple[int, int]] = []
    for low, high in sorted(intervals):
        if out and low <= out[-1][1] + 1:
            if high > out[-1][1]:
                out[-1] = (out[-1][0], high)
        else:
            out.append((low, high))
    return tuple(out)


def minus(a: Intervals, b: Intervals) -> Intervals:
    """The values of ``a`` outside ``b`` (both canonical)."""
    out: list[tuple[int, int]] = []
    for low, high in a:
        for cut_low, cut_high in b:
            if cut_high < low or cut_low > high:
                continue
            if cut_low > low:
                out.append((low, cut_low - 1))
            low = cut_high + 1
            if low > high:
                break
        if low <= high:
            out.append((low, high))
    return tuple(out)


V4_VALUES = (MAPPED_V4_BASE, MAPPED_V4_BASE + (1 << 32) - 1)
"""The address-field values of IPv4 addresses (``::ffff:0:0/96``); every other value is IPv6."""


def address_counts(intervals: Intervals, negate: bool = False) -> tuple[int, int]:
    """(IPv4, IPv6) addresses among exact address-field values, or outside them when ``negate``."""
    v4 = total = 0
    for low, high in intervals:
        total += high - low + 1
        v4_low, v4_high = max(low, V4_VALUES[0]), min(high, V4_VALUES[1])
        if v4_low <= v4_high:
            v4 += v4_high - v4_low + 1
    v6 = total - v4
    if negate:
        return (1 << 32) - v4, (1 << 128) - (1 << 32) - v6
    return v4, v6


def _network_intervals(net: IPNetwork) -> Intervals:
    """The field values of a configured network: its prefixes (``flow.network_prefixes``) as intervals."""
    return merged((base, base + (1 << (128 - length)) - 1) for base, length in network_prefixes(net))


def axes_meet(a: Axis, b: Axis) -> bool:
    """Whether two axes share a value (the whole axis meets every non-empty one)."""
    if a is None:
        return b is None or bool(b)
    if b is None:
        return bool(a)
    if len(a) > len(b):
        a, b = b, a
    if len(b) <= 8:
        for low, high in a:
            for other_low, other_high in b:
                if low <= other_high and other_low <= high:
                    return True
        return False
    highs = [high for _, high in b]
    for low, high in a:
        i = bisect_left(highs, low)  # first interval of b that ends at or after ``low``
        if i < len(b) and b[i][0] <= high:
            return True
    return False


class BoxSet:
    """Boxes (of edited rules) to test many rule boxes against: does a box meet any of them?

    A per-axis union (the hull) answers most tests with one bisection per axis; a box
    inside the hull is then compared with each box on its own.
    """

    def __init__(self, boxes: list[Box]) -> None:
        self.boxes = boxes
        axes: list[list[tuple[int, int]] | None] = [[], [], []]
        for box in boxes:
            for i, axis in enumerate(box):
                current = axes[i]
                if current is not None:
                    if axis is None:
                        axes[i] = None
                    else:
                        current.extend(axis)
        self._hull = [None if axis is None else merged(axis) for axis in axes]
        self._index: tuple[list[Box], list[Any], Callable[[Axis], tuple[int, int]]] | None = None
        """(boxes with no empty axis, an interval index per axis, the hull function); on first use."""
        self._highs = [None if axis is None else [high for _, high in axis] for axis in self._hull]

    def meets(self, box: Box) -> bool:
        """Whether ``box`` meets some box of the set on every axis.

        After the hull test, an interval index per axis (``box_index``) narrows the boxes to
        compare to those whose hulls meet ``box`` on all three axes: with fifty edited rules,
        a diff no longer compares every rule of a large filter with each of them.
        """
        if not self._hull_meets(box):
            return False
        if any(axis is not None and not axis for axis in box):
            return False  # an empty axis meets nothing
        if self._index is None:
            from plantgate.netspace.box_index import AxisIndex, hull  # box_index builds on this module

            usable = [b for b in self.boxes if all(axis is None or axis for axis in b)]
            self._index = (usable, [AxisIndex([hull(b[i]) for b in usable]) for i in range(3)], hull)
        usable, indexes, hull_of = self._index
        mask = (1 << len(usable)) - 1
        for i in (2, 1, 0):
            mask &= indexes[i].meeting(hull_of(box[i]))
            if not mask:
                return False
        src, dst, svc = box
        while mask:
            low = mask & -mask
            other_src, other_dst, other_svc = usable[low.bit_length() - 1]
            if axes_meet(svc, other_svc) and axes_meet(dst, other_dst) and axes_meet(src, other_src):
                return True
            mask ^= low
        return False

    def _hull_meets(self, box: Box) -> bool:
        for i in (2, 1, 0):  # service first: the cheapest axis and often the most telling
            axis, hull, highs = box[i], self._hull[i], self._highs[i]
            if hull is None or highs is None:
                if axis is not None and not axis:
                    return False
                continue
            if axis is None:
                if not hull:
                    return False
                continue
            for low, high in axis:
                j = bisect_left(highs, low)
                if j < len(hull) and hull[j][0] <= high:
                    break
            else:
                return False
        return True


def _buildable(svc: Service) -> bool:
    """Whether the BDD builder accepts the service; a rule with one it rejects gets the whole box,
    so that it is always built and its error reported, as a full fold would."""
    in_byte = all(value is None or 0 <= value <= 255 for value in (svc.protocol, svc.icmp_type, svc.icmp_code))
    return in_byte and all(0 <= low <= high <= 0xFFFF for low, high in svc.src_ports + svc.dst_ports)


def _service_intervals(svc: Service) -> Intervals | None:
    protocol = svc.protocol
    if protocol is None:
        return None
    base = protocol << 16
    if protocol not in PORT_PROTOCOLS or not svc.dst_ports:
        return ((base, base | 0xFFFF),)
    return tuple((base | low, base | high) for low, high in svc.dst_ports)


class Boxes:
    """Boxes of rules, with the address and service parts cached per object.

    Caches are keyed by object identity and hold the object, so an id is never reused
    while its entry lives; one instance serves one diff, so they never grow stale.
    """

    def __init__(self) -> None:
        self._addresses: dict[int, tuple[AddressSet, Intervals]] = {}
        self._equal_addresses: dict[AddressSet, Intervals] = {}
        """By value: the two parses a diff compares hold equal address sets as different objects."""
        self._networks: dict[int, tuple[IPNetwork, Intervals]] = {}
        self._services: dict[int, tuple[tuple[Service, ...], tuple[bool, Axis]]] = {}
        self._rules: dict[int, tuple[Rule, Box]] = {}

    def of_rule(self, rule: Rule) -> Box:
        hit = self._rules.get(id(rule))
        if hit is not None and hit[0] is rule:
            return hit[1]
        buildable, services = self._services_axis(rule.services)
        box: Box = (None, None, None)
        if buildable:
            box = (
                None if rule.source_negate else self.addresses(rule.sources),
                None if rule.destination_negate else self.addresses(rule.destinations),
                None if rule.service_negate else services,
            )
        self._rules[id(rule)] = (rule, box)
        return box

    def of_match(self, sources: AddressSet, destinations: AddressSet, services: tuple[Service, ...]) -> Box:
        """The box of a match written as sources, destinations and services (a NAT rule's)."""
        buildable, axis = self._services_axis(services)
        return (self.addresses(sources), self.addresses(destinations), axis) if buildable else (None, None, None)

    def addresses(self, addrs: AddressSet) -> Intervals:
        """The exact, canonical address-field values of ``addrs`` (include minus exclude)."""
        hit = self._addresses.get(id(addrs))
        if hit is not None and hit[0] is addrs:
            return hit[1]
        intervals = self._equal_addresses.get(addrs)
        if intervals is None:
            intervals = self._intervals_of(addrs.include)
            if addrs.exclude:
                intervals = minus(intervals, self._intervals_of(addrs.exclude))
            self._equal_addresses[addrs] = intervals
        self._addresses[id(addrs)] = (addrs, intervals)
        return intervals

    def _intervals_of(self, networks: tuple[IPNetwork, ...]) -> Intervals:
        if len(networks) == 1:
            return self._network(networks[0])
        return merged(span for net in networks for span in self._network(net))

    def _network(self, net: IPNetwork) -> Intervals:
        hit = self._networks.get(id(net))  # configs name the same network objects from many rules
        if hit is None or hit[0] is not net:
            hit = self._networks[id(net)] = (net, _network_intervals(net))
        return hit[1]

    def _services_axis(self, services: tuple[Service, ...]) -> tuple[bool, Axis]:
        """(whether the BDD builder accepts every service, the service axis)."""
        hit = self._services.get(id(services))
        if hit is not None and hit[0] is services:
            return hit[1]
        spans: list[tuple[int, int]] = []
        axis: Axis = None
        for svc in services:
            intervals = _service_intervals(svc)
            if intervals is None:
                break
            spans.extend(intervals)
        else:
            axis = merged(spans)
        found = (all(_buildable(svc) for svc in services), axis)
        self._services[id(services)] = (services, found)
        return found
