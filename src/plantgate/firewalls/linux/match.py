"""Match algebra shared by the iptables and nftables parsers.

Linux firewalls are not flat first-match lists: user chains are entered with ``jump`` or
``goto`` and left with ``return``. To hand the analyses a flat ``Filter`` we inline the
chains, which needs three operations on a rule's match: conjunction (a jump's own
match guards every rule of the target chain), complement of one field (rules after a
``return`` only see packets the ``return`` did not take) and an emptiness test. This
module implements those operations exactly on the Ruleset's field types, and says so
when a result cannot be expressed (the caller then widens, never narrows).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from plantgate.firewalls.ruleset import (
    ALL_PORTS,
    ANY_SERVICE,
    AddressSet,
    IPNetwork,
    PortRange,
    Service,
)

ZoneSet = frozenset[str] | None  # None: every zone


# --------------------------------------------------------------------------- ports


def normalise_ports(ranges: Iterable[PortRange]) -> tuple[PortRange, ...]:
    """Sorted, merged, non-overlapping port ranges."""
    merged: list[PortRange] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def complement_ports(ranges: Sequence[PortRange]) -> tuple[PortRange, ...]:
    """The ports 0-65535 not in ``ranges`` (empty ``ranges`` means every port)."""
    if not ranges:
        return ()
    out: list[PortRange] = []
    nxt = ALL_PORTS[0]
    for low, high in normalise_ports(ranges):
        if low > nxt:
            out.append((nxt, low - 1))
        nxt = max(nxt, high + 1)
    if nxt <= ALL_PORTS[1]:
        out.append((nxt, ALL_PORTS[1]))
    return tuple(out)


def intersect_ports(a: Sequence[PortRange], b: Sequence[PortRange]) -> tuple[PortRange, ...] | None:
    """Intersection; ``()`` means any port, ``None`` means no port at all."""
    if not a:
        return tuple(b)
    if not b:
        return tuple(a)
    out = [(max(x[0], y[0]), min(x[1], y[1])) for x in a for y in b if max(x[0], y[0]) <= min(x[1], y[1])]
    return normalise_ports(out) or None


def subtract_ports(a: Sequence[PortRange], b: Sequence[PortRange]) -> tuple[PortRange, ...] | None:
    """``a`` minus ``b``; ``None`` when nothing is left."""
    if not b:
        return None
    rest = complement_ports(b)
    if not rest:
        return None
    return intersect_ports(a, rest)


# --------------------------------------------------------------------------- services

ServiceSet = tuple[tuple[Service, ...], bool]  # (services, negated)
ANY_SERVICES: ServiceSet = ((ANY_SERVICE,), False)


def intersect_service(a: Service, b: Service) -> Service | None:
    """The flows matched by both services, ``None`` when none are."""
    if a.protocol is not None and b.protocol is not None and a.protocol != b.protocol:
        return None
    protocol = a.protocol if a.protocol is not None else b.protocol
    src = intersect_ports(a.src_ports, b.src_ports)
    dst = intersect_ports(a.dst_ports, b.dst_ports)
    if src is None or dst is None:
        return None
    if a.icmp_type is not None and b.icmp_type is not None and a.icmp_type != b.icmp_type:
        return None
    if a.icmp_code is not None and b.icmp_code is not None and a.icmp_code != b.icmp_code:
        return None
    return Service(
        protocol, src, dst,
        a.icmp_type if a.icmp_type is not None else b.icmp_type,
        a.icmp_code if a.icmp_code is not None else b.icmp_code,
    )


def subtract_service(a: Service, b: Service) -> list[Service] | None:
    """``a`` minus ``b`` as a union of services; ``None`` when that is not expressible."""
    if b.protocol is None:
        return []
    if a.protocol is None:
        return None  # "every protocol but one" has no Service form
    if a.protocol != b.protocol:
        return [a]
    out: list[Service] = []
    if b.src_ports:
        rest = subtract_ports(a.src_ports or (ALL_PORTS,), b.src_ports)
        if rest:
            out.append(replace(a, src_ports=rest))
        a = replace(a, src_ports=intersect_ports(a.src_ports, b.src_ports) or ())
    if b.dst_ports:
        rest = subtract_ports(a.dst_ports or (ALL_PORTS,), b.dst_ports)
        if rest:
            out.append(replace(a, dst_ports=rest))
    if b.icmp_type is not None:
        if a.icmp_type is None:
            return None
        if a.icmp_type != b.icmp_type:
            out.append(a)
        elif b.icmp_code is not None:
            if a.icmp_code is None:
                return None
            if a.icmp_code != b.icmp_code:
                out.append(a)
    return out


def intersect_services(a: ServiceSet, b: ServiceSet) -> ServiceSet | None | bool:
    """Conjunction of two service sets.

    Returns the new set, ``None`` when it is empty, or ``False`` when it has no exact form.
    """
    if a == ANY_SERVICES:
        return b
    if b == ANY_SERVICES:
        return a
    (sa, na), (sb, nb) = a, b
    if na and nb:
        return (sa + sb, True)
    if na:
        (sa, na), (sb, nb) = b, a
    if nb:
        remaining: list[Service] = list(sa)
        for cut in sb:
            nxt: list[Service] = []
            for svc in remaining:
                parts = subtract_service(svc, cut)
                if parts is None:
                    return False
                nxt.extend(parts)
            remaining = nxt
        return (tuple(remaining), False) if remaining else None
    both = [s for x in sa for y in sb if (s := intersect_service(x, y)) is not None]
    return (tuple(dict.fromkeys(both)), False) if both else None


# --------------------------------------------------------------------------- addresses


def _subtract_networks(base: Iterable[IPNetwork], cuts: Iterable[IPNetwork]) -> list[IPNetwork]:
    remaining = list(base)
    for cut in cuts:
        nxt: list[IPNetwork] = []
        for net in remaining:
            if net.version != cut.version or not net.overlaps(cut):
                nxt.append(net)
            elif net.subnet_of(cut):  # type: ignore[arg-type]
                continue
            else:
                nxt.extend(net.address_exclude(cut))  # type: ignore[arg-type]
        remaining = nxt
    return remaining


def address_is_empty(a: AddressSet) -> bool:
    return not _subtract_networks(a.include, a.exclude)


def intersect_addresses(a: AddressSet, b: AddressSet) -> AddressSet | None:
    """Exact conjunction of two address sets, ``None`` when empty.

    Nearly every conjunction of a large ruleset meets a family's whole address space (a
    rule without ``-s`` or ``-d``, or the universe a rule starts from): with a plain other
    side, the answer is that side itself (``exact_intersection`` would rebuild an equal set).
    """
    if _whole_family(a) and _plain_within(b, a):
        return b
    if _whole_family(b) and _plain_within(a, b):
        return a
    return exact_intersection(a, b)


def _whole_family(a: AddressSet) -> bool:
    return len(a.include) == 1 and a.include[0].prefixlen == 0 and not a.exclude and not a.names


def _plain_within(a: AddressSet, universe: AddressSet) -> bool:
    """No excludes, no repeated network or name, at least one network, all of the universe's family."""
    version = universe.include[0].version
    # one network cannot repeat: no set of it to hash (a rule's -s or -d is nearly always one)
    return (bool(a.include) and not a.exclude and all(n.version == version for n in a.include)
            and (len(a.include) == 1 or len(set(a.include)) == len(a.include))
            and len(set(a.names)) == len(a.names))


def exact_intersection(a: AddressSet, b: AddressSet) -> AddressSet | None:
    """``intersect_addresses`` computed pairwise for any two sets."""
    include: list[IPNetwork] = []
    for x in a.include:
        for y in b.include:
            if x.version == y.version and x.overlaps(y):
                include.append(x if x.subnet_of(y) else y)  # type: ignore[arg-type]
    include = list(dict.fromkeys(include))
    exclude = [n for n in dict.fromkeys(a.exclude + b.exclude) if any(n.overlaps(i) for i in include
                                                                        if i.version == n.version)]
    result = AddressSet(tuple(include), tuple(exclude), tuple(dict.fromkeys(a.names + b.names)))
    return None if address_is_empty(result) else result


def complement_addresses(a: AddressSet, universe: AddressSet) -> AddressSet:
    """The addresses of ``universe`` outside ``a``."""
    covered = _subtract_networks(a.include, a.exclude)
    collapsed: list[IPNetwork] = []
    for version in (4, 6):
        nets = [n for n in covered if n.version == version]
        collapsed.extend(ipaddress.collapse_addresses(nets))  # type: ignore[type-var]
    return AddressSet(universe.include, tuple(collapsed))


# --------------------------------------------------------------------------- matches


@dataclass(frozen=True, slots=True)
class Match:
    """The packet condition of one rule, in Ruleset field types.

    ``uncertain`` lists constructs that were not modelled: the real condition may be
    narrower than this one. ``return_only`` marks a conntrack condition that no new
    session satisfies.
    """

    sources: AddressSet
    destinations: AddressSet
    services: ServiceSet = ANY_SERVICES
    in_zones: ZoneSet = None
    out_zones: ZoneSet = None
    return_only: bool = False
    uncertain: tuple[str, ...] = ()
    object_refs: tuple[str, ...] = field(default=())

    def constrained_fields(self, universe: AddressSet) -> list[str]:
        out = []
        if set(_subtract_networks(universe.include, _subtract_networks(self.sources.include,
                                                                       self.sources.exclude))):
            out.append("sources")
        if set(_subtract_networks(universe.include, _subtract_networks(self.destinations.include,
                                                                       self.destinations.exclude))):
            out.append("destinations")
        if self.services != ANY_SERVICES:
            out.append("services")
        if self.in_zones is not None:
            out.append("in_zones")
        if self.out_zones is not None:
            out.append("out_zones")
        return out


def _intersect_zones(a: ZoneSet, b: ZoneSet) -> ZoneSet | bool:
    if a is None:
        return b
    if b is None:
        return a
    both = a & b
    return both if both else False


def conjoin(a: Match, b: Match) -> Match | None:
    """Flows matched by both; ``None`` when provably none (an inexact service part widens)."""
    src = intersect_addresses(a.sources, b.sources)
    dst = intersect_addresses(a.destinations, b.destinations)
    if src is None or dst is None:
        return None
    in_zones = _intersect_zones(a.in_zones, b.in_zones)
    out_zones = _intersect_zones(a.out_zones, b.out_zones)
    if in_zones is False or out_zones is False:
        return None
    assert not isinstance(in_zones, bool) and not isinstance(out_zones, bool)
    services = intersect_services(a.services, b.services)
    uncertain = tuple(dict.fromkeys(a.uncertain + b.uncertain))
    if services is None:
        return None
    if services is False:  # keep the wider operand, and say so
        services = a.services if a.services[1] else b.services
        uncertain += ("service combination not expressible; widened",)
    assert not isinstance(services, bool)
    return Match(
        src, dst, services, in_zones, out_zones,
        a.return_only or b.return_only, uncertain,
        tuple(dict.fromkeys(a.object_refs + b.object_refs)),
    )


def _only_field(cut: Match, name: str, address_universe: AddressSet) -> Match:
    """A match constraining only ``name``, as ``cut`` does."""
    base = Match(address_universe, address_universe)
    return replace(base, **{name: getattr(cut, name)})  # type: ignore[arg-type]


def _negated_field(
    cut: Match, name: str, address_universe: AddressSet, zone_universe: frozenset[str]
) -> Match:
    base = Match(address_universe, address_universe)
    if name in ("sources", "destinations"):
        negated = complement_addresses(getattr(cut, name), address_universe)
        return replace(base, **{name: negated})  # type: ignore[arg-type]
    if name == "services":
        return replace(base, services=(cut.services[0], not cut.services[1]))
    return replace(base, **{name: frozenset(zone_universe - getattr(cut, name))})  # type: ignore[arg-type]


def subtract_match(
    a: Match, cut: Match, address_universe: AddressSet, zone_universe: frozenset[str]
) -> list[Match] | None:
    """``a`` and not ``cut`` as a union of disjoint matches; ``None`` when not expressible.

    not(f1 and f2 and ...) = not f1 or (f1 and not f2) or ...: one match per field ``cut``
    constrains, each disjoint from the others so the lints see no false redundancy.
    """
    out: list[Match] = []
    prefix: Match | None = a
    for name in cut.constrained_fields(address_universe):
        if prefix is None:
            break
        negated = _negated_field(cut, name, address_universe, zone_universe)
        if name == "services" and intersect_services(prefix.services, negated.services) is False:
            return None
        piece = conjoin(prefix, negated)
        if piece is not None:
            out.append(piece)
        prefix = conjoin(prefix, _only_field(cut, name, address_universe))
    return out
