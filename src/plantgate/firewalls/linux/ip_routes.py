"""Interfaces, routes and routing gaps of a Linux firewall, from its iproute2 output (a treaty's ``routing:`` file).

An iptables-save or nftables ruleset holds no address and no route; the host's iproute2 output holds
both. Capture it on the firewall, all of it in one file:

    { ip addr; ip -6 addr; ip route show table all; ip -6 route show table all; ip rule; ip -6 rule; } > fw1.routing

(``ip -o addr`` and ``ip -br addr`` are read as well; see ``linux.ip_addr``.) What the reader makes of it,
in the terms of ``firewalls.routes``:

- ``Interface``: each device with an address, named as the rules name it (``-i eth0``).
  ``attach_routing`` puts it in the ruleset's zone for that name: the name itself, else the longest
  wildcard matching it (``eth+``), else ``*``; so zone maps and their checks read it like any zone.
- ``StaticRoute``: each route of table main (vrf "") or of another table (vrf = the table), its
  ``metric`` as distance. ``blackhole``, ``unreachable`` and ``prohibit`` discard (no next hop, no
  device); a multipath route is one route per ``nexthop``. ``default`` is 0.0.0.0/0, or ::/0 when its
  gateway is IPv6 or it carries ``pref`` (iproute2 prints that for IPv6 routes only). Table local and
  the ``local``, ``broadcast``, ``multicast``, ``anycast`` routes are the host's own addresses, not
  forwarding: left out. A ``proto kernel`` route to a device's own network is that network again: the
  interface accounts for it.
- ``RoutingGap``: what makes the capture an incomplete account of where packets go: a route learned at
  run time (``proto`` other than kernel, boot or static: bgp, ospf, dhcp, ra, ...), an ``ip rule``
  other than the three defaults, a ``throw``, source- or TOS-specific route (policy routing), routes
  in a table other than main (a VRF, a policy table, or table default, looked up after main), a
  ``dynamic`` address (DHCP, SLAAC), a device that is down, an address whose network the kernel does not
  route (``noprefixroute`` and no route), a line or route not understood (also a ParseWarning with its
  line: a route is never guessed).
A value iproute2 would not print (an address, a metric) is an InputError at its line and column.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from pathlib import Path

from plantgate.errors import InputError
from plantgate.feeds.textfile import read_evidence_bytes
from plantgate.firewalls.base import CONFIG_LIMIT, decode_config_bytes
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.linux.chains import interface_zone
from plantgate.firewalls.linux.ip_addr import (
    HEADER,
    LINK_DETAIL_LINES,
    ONELINE_ADDRESS,
    OPERSTATES,
    PASSING_STATES,
    Link,
    Word,
    brief_addresses,
    device_name,
    header_down,
    parse_address,
    words,
)
from plantgate.firewalls.routes import Interface, IPAddress, RoutingGap, StaticRoute
from plantgate.firewalls.ruleset import ANY_V4, ANY_V6, MAX_WARNING, IPNetwork, ParseWarning, Ruleset, SourceSpan

CAPTURE = ("{ ip addr; ip -6 addr; ip route show table all; ip -6 route show table all; ip rule; ip -6 rule; } "
           "> FILE")
EXPECTED = f"the iproute2 output of the firewall, captured with: {CAPTURE}"

ROUTE_TYPES = frozenset({"unicast", "local", "broadcast", "multicast", "anycast", "throw", "unreachable", "prohibit",
                         "blackhole", "nat"})
HOST_TYPES = frozenset({"local", "broadcast", "multicast", "anycast"})
DISCARD_TYPES = frozenset({"blackhole", "unreachable", "prohibit"})
CONFIGURED_PROTOCOLS = frozenset({"kernel", "boot", "static"})
"""Routes the kernel or an administrator put in place; every other ``proto`` was learned at run time."""
MAIN_TABLES = frozenset({"main", "254"})
LOCAL_TABLES = frozenset({"local", "255"})
DEFAULT_RULES = frozenset({("0", "from all lookup local"), ("32766", "from all lookup main"),
                           ("32767", "from all lookup default")})
ROUTE_FLAGS = frozenset({"onlink", "pervasive", "dead", "offload", "trap", "notify", "linkdown", "unresolved",
                         "rt_offload", "rt_trap", "rt_offload_failed"})
ROUTE_VALUES = frozenset({
    "scope", "src", "pref", "expires", "error", "weight", "nhid", "realm", "realms", "mark", "uid", "iif",
    "ttl-propogate", "ttl-propagate", "mtu", "window", "rtt", "rttvar", "ssthresh", "cwnd", "advmss", "reordering",
    "hoplimit", "initcwnd", "features", "rto_min", "initrwnd", "quickack", "congctl", "fastopen_no_cookie",
})
"""Route attributes that take one value and say nothing about where the route leads (``mtu lock N`` takes two)."""
VALUED_KEYS = frozenset({"via", "dev", "table", "proto", "metric", "from", "tos", "dsfield"})
POLICY_SELECTORS = {"from": "a source-specific route", "tos": "a TOS-specific route", "dsfield": "a TOS-specific route"}
VIA_FAMILIES = frozenset({"inet", "inet6"})
OTHER_VIA_FAMILIES = frozenset({"mpls", "bridge", "link"})
RULE_STARTS = frozenset({"from", "not"})
"""``ip rule`` prints ``PRIORITY:`` then ``[not] from ...``."""


@dataclass
class RoutingFacts:
    """What one capture says: the interfaces, routes and gaps for the ruleset, and the lines not understood."""

    interfaces: list[Interface]
    routes: list[StaticRoute]
    gaps: list[RoutingGap]
    warnings: list[ParseWarning]


@dataclass
class _Attributes:
    """The words of a route or ``nexthop`` line after its destination."""

    via: IPAddress | None = None
    dev: str | None = None
    table: str = "main"
    proto: str = "boot"
    metric: int | None = None
    ipv6: bool = False
    policy: str = ""
    unknown: Word | None = None


@dataclass
class _Route:
    """A route line being read, with its ``nexthop`` lines (a multipath route)."""

    line: int
    text: str
    kind: str
    destination: Word
    attributes: _Attributes
    hops: list[tuple[int, str, _Attributes]] = field(default_factory=list)


class _Reader:
    """Reads a capture line by line: a link's indented lines follow its header, a route's its ``nexthop`` lines."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.links: dict[str, Link] = {}
        self.link: Link | None = None
        self.route: _Route | None = None
        self.routes: list[tuple[StaticRoute, bool]] = []  # (route, a kernel route to a device's network)
        self.gaps: list[RoutingGap] = []
        self.warnings: list[ParseWarning] = []
        self.tables: set[str] = set()
        self.understood = 0

    def span(self, line: int, text: str, end: int | None = None) -> SourceSpan:
        return SourceSpan(self.file, line, end or line, text.strip())

    def gap(self, line: int, text: str, reason: str) -> None:
        self.add_gap(self.span(line, text), reason)

    def add_gap(self, span: SourceSpan, reason: str) -> None:
        """Reasons quote the capture, which may hold a 100 KB word: kept readable, as ParseWarning does."""
        if len(reason) > MAX_WARNING:
            reason = f"{reason[:MAX_WARNING]}... ({len(reason):,} characters)"
        self.gaps.append(RoutingGap(span, reason))

    def not_understood(self, line: int, text: str, message: str) -> None:
        self.warnings.append(ParseWarning(self.file, line, message, text.strip()))
        self.gap(line, text, message)

    def error(self, line: int, word: Word, message: str, expected: str) -> InputError:
        return InputError.at(self.file, line, word.column, message, expected)

    def read(self, text: str) -> RoutingFacts:
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            first, *more = raw.split("\\")  # ``ip -o``: the rest of a statement follows a backslash
            self.statement(number, first, raw, 0, indented=raw[0].isspace())
            offset = len(first) + 1
            for segment in more:
                self.statement(number, segment, raw, offset, indented=True)
                offset += len(segment) + 1
        self.end_route()
        if not self.understood:
            number = next((n for n, line in enumerate(text.splitlines(), start=1) if line.strip()), 1)
            raise InputError.at(self.file, number, 1, "no ip addr, ip route or ip rule output in this file", EXPECTED)
        return self.facts()

    def statement(self, line: int, segment: str, raw: str, offset: int, indented: bool) -> None:
        ws = words(segment, offset)
        if not ws:
            return
        if indented and ws[0].text == "nexthop" and self.route is not None:
            self.route.hops.append((line, segment, self.attributes(ws[1:], line)))
            self.understood += 1
            return
        self.end_route()
        if indented:
            self.link_detail(line, raw, ws)
            return
        self.link = None
        if header := HEADER.match(segment):
            self.link = self.link_named(device_name(header.group(1)), line, raw)
            self.link.mark_down(line, raw.strip(), header_down(header.group(2), header.group(3)))
            self.understood += 1
        elif oneline := ONELINE_ADDRESS.match(segment):
            self.link = self.link_named(device_name(oneline.group(1)), line, raw)
            self.link_detail(line, raw, ws[2:])
        elif ws[0].text.endswith(":") and is_decimal(ws[0].text[:-1]) and len(ws) > 1 and ws[1].text in RULE_STARTS:
            self.rule(line, raw, ws)
        elif len(ws) >= 2 and ws[1].text in OPERSTATES and not _is_prefix(ws[0].text):
            self.brief(line, raw, ws)
        elif ws[0].text in ROUTE_TYPES or ws[0].text == "default" or _is_prefix(ws[0].text):
            self.start_route(line, raw, ws)
        else:
            self.not_understood(line, raw, "not ip addr, ip route or ip rule output; routes not followed")

    def link_named(self, name: str, line: int, raw: str) -> Link:
        if name not in self.links:
            self.links[name] = Link(name, line, {line: raw.strip()})
        return self.links[name]

    def link_detail(self, line: int, raw: str, ws: list[Word]) -> None:
        """An indented line of a link: an address, or a line that states none."""
        if self.link is not None and ws[0].text in ("inet", "inet6"):
            address = parse_address(ws[0], ws[1:], self.file, line, raw.strip())
            if address is not None:
                self.link.add(address)
            self.understood += 1
        elif self.link is None or not ws[0].text.startswith(LINK_DETAIL_LINES):
            self.not_understood(line, raw, f"{ws[0].text!r} at column {ws[0].column} is not part of ip addr "
                                           "output here; routes not followed")

    def brief(self, line: int, raw: str, ws: list[Word]) -> None:
        """``ip -br addr`` (or ``ip -br link``): name, operational state, addresses."""
        link = self.link_named(device_name(ws[0].text), line, raw)
        link.mark_down(line, raw.strip(), "" if ws[1].text in PASSING_STATES else f"state {ws[1].text}")
        for address in brief_addresses(ws[2:], self.file, line, raw.strip()) or []:
            link.add(address)
        self.understood += 1

    def rule(self, line: int, raw: str, ws: list[Word]) -> None:
        priority, selector = ws[0].text[:-1], " ".join(w.text for w in ws[1:])
        if (priority, selector) not in DEFAULT_RULES:
            self.gap(line, raw, f"policy routing: ip rule {priority}: {selector} (only the default rules, to "
                                "tables local, main and default, are followed)")
        self.understood += 1

    def start_route(self, line: int, raw: str, ws: list[Word]) -> None:
        kind = ws[0].text if ws[0].text in ROUTE_TYPES else "unicast"
        rest = ws[1:] if ws[0].text in ROUTE_TYPES else ws
        if not rest:
            raise self.error(line, ws[0], f"{kind} route without a destination", "a prefix such as 10.0.0.0/8")
        self.route = _Route(line, raw, kind, rest[0], self.attributes(rest[1:], line))
        self.understood += 1

    def attributes(self, ws: list[Word], line: int) -> _Attributes:
        found = _Attributes()
        index = 0
        while index < len(ws):
            key = ws[index]
            if key.text in ROUTE_FLAGS:
                index += 1
                continue
            if index + 1 >= len(ws):
                if key.text in ROUTE_VALUES | VALUED_KEYS:
                    raise self.error(line, key, f"{key.text} without a value", f"{key.text} VALUE")
                found.unknown = found.unknown or key
                break
            value = ws[index + 1]
            if key.text == "via" and value.text in OTHER_VIA_FAMILIES:
                found.unknown = found.unknown or value
            elif key.text == "via":
                if value.text in VIA_FAMILIES and index + 2 < len(ws):
                    index, value = index + 1, ws[index + 2]
                found.via = self.address(value, line)
            elif key.text == "dev":
                found.dev = value.text
            elif key.text == "table":
                found.table = value.text
            elif key.text == "proto":
                found.proto = value.text
            elif key.text == "metric":
                if not is_decimal(value.text):
                    raise self.error(line, value, f"metric {value.text!r} is not a number", "metric NUMBER")
                found.metric = int(value.text)
            elif key.text in POLICY_SELECTORS:
                found.policy = POLICY_SELECTORS[key.text]
            elif key.text in ROUTE_VALUES:
                found.ipv6 = found.ipv6 or key.text == "pref"
                if value.text == "lock":  # ``mtu lock 1400``
                    index += 1
            else:
                found.unknown = found.unknown or key
                index -= 1  # an unknown word's arity is unknown: the next word is read as a key again
            index += 2
        return found

    def address(self, word: Word, line: int) -> IPAddress:
        try:
            return ipaddress.ip_address(word.text)
        except ValueError:
            raise self.error(line, word, f"gateway {word.text!r} is not an IP address",
                             "via ADDRESS, such as via 192.0.2.1 or via fe80::1") from None

    def end_route(self) -> None:
        route, self.route = self.route, None
        if route is None:
            return
        head = route.attributes
        if head.table in LOCAL_TABLES or route.kind in HOST_TYPES:
            return
        end = route.hops[-1][0] if route.hops else route.line
        span = self.span(route.line, "\n".join([route.text, *(text for _, text, _ in route.hops)]), end)
        unknown = [(line, a.unknown) for line, a in [(route.line, head), *((n, a) for n, _, a in route.hops)]
                   if a.unknown is not None]
        if unknown:
            line, word = unknown[0]
            self.not_understood(line, route.text if line == route.line else span.text,
                                f"route {route.destination.text}: {word.text!r} at column {word.column} not "
                                "understood; route left out, routes not followed")
            return
        destination = self.destination(route)
        if head.policy or route.kind == "throw":
            why = head.policy or "a throw route (the lookup goes on in the next rule's table)"
            self.add_gap(span, f"policy routing: route {destination} is {why}")
            return
        if route.kind == "nat":
            self.not_understood(route.line, route.text, f"route {destination}: type nat is not read; routes not "
                                                         "followed")
            return
        if destination.is_loopback or destination.is_link_local or destination.is_multicast:
            return
        vrf = "" if head.table in MAIN_TABLES else head.table
        if vrf and vrf not in self.tables:
            self.tables.add(vrf)
            self.add_gap(span, f"routes in table {vrf}: only table main is followed (an ip rule, a VRF or the "
                               "lookup order chooses the others)")
        if head.proto not in CONFIGURED_PROTOCOLS:
            self.add_gap(span, f"route {destination} was learned at run time (proto {head.proto}): the capture "
                               "is one moment of a table that changes")
        if route.kind in DISCARD_TYPES:
            self.routes.append((StaticRoute(destination, span, None, None, vrf, head.metric), False))
            return
        hops = [a for _, _, a in route.hops] or [head]
        if not any(h.via or h.dev for h in hops):
            self.add_gap(span, f"route {destination} names no gateway and no device: where it leads is not "
                               "known")
            return
        kernel = head.proto == "kernel" and not route.hops and head.via is None
        for hop in hops:
            self.routes.append((StaticRoute(destination, span, hop.via, hop.dev, vrf, head.metric), kernel))

    def destination(self, route: _Route) -> IPNetwork:
        word = route.destination
        if word.text == "default":
            gateways = [a.via for a in (route.attributes, *(a for _, _, a in route.hops)) if a.via is not None]
            return ANY_V6 if route.attributes.ipv6 or any(g.version == 6 for g in gateways) else ANY_V4
        try:
            return ipaddress.ip_network(word.text, strict=False)
        except ValueError:
            raise self.error(route.line, word, f"route destination {word.text!r} is not a prefix",
                             "default, or a prefix such as 10.0.0.0/8 or 2001:db8::/32") from None

    def facts(self) -> RoutingFacts:
        interfaces: list[Interface] = []
        connected: set[tuple[IPNetwork, str]] = set()
        peers: list[StaticRoute] = []
        for link in self.links.values():
            if not link.addresses:
                continue
            lines = sorted(link.lines)
            text = "\n".join(link.lines[n] for n in lines)
            interfaces.append(Interface(link.name, link.name, tuple(a.address for a in link.addresses),
                                        SourceSpan(self.file, lines[0], lines[-1], text)))
            if link.down:
                self.gap(link.down_line, link.lines[link.down_line],
                         f"interface {link.name} is down ({link.down}): its networks carry nothing while it stays "
                         "down, and their traffic may take another route")
            for address in link.addresses:
                connected.add((address.address.network, link.name))
                if address.dynamic:
                    self.gap(address.line, address.text, f"address {address.address} on {link.name} is dynamic "
                                                         "(DHCP or SLAAC): it may change")
                if address.peer is not None:
                    connected.add((address.peer, link.name))
                    peers.append(StaticRoute(address.peer, self.span(address.line, address.text), None, link.name))
        routed = {(r.destination, r.interface) for r, _ in self.routes if not r.vrf}
        for link in self.links.values():
            for address in link.addresses:
                network = address.address.network
                if address.no_prefix_route and address.peer is None and (network, link.name) not in routed:
                    self.gap(address.line, address.text, f"address {address.address} on {link.name} has "
                                                         f"noprefixroute and no route to {network} is in the capture: "
                                                         f"the kernel does not send {network} out {link.name}")
        routes = peers + [r for r, kernel in self.routes if not (kernel and (r.destination, r.interface) in connected)]
        gaps = sorted(self.gaps, key=lambda g: g.span.line)
        return RoutingFacts(interfaces, routes, gaps, self.warnings)


def _is_prefix(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def read_ip_routing(text: str, file: str) -> RoutingFacts:
    """The interfaces, routes and routing gaps one capture states (module docstring)."""
    return _Reader(file).read(text)


def read_routing_file(path: Path) -> RoutingFacts:
    """A routing file read as untrusted input: a regular file within the config size cap, then parsed."""
    return read_ip_routing(decode_config_bytes(read_evidence_bytes(path, "routing file", CONFIG_LIMIT)), str(path))


def attach_routing(ruleset: Ruleset, facts: RoutingFacts) -> None:
    """Give ``ruleset`` the capture's facts, each interface in the ruleset zone its rules name it by."""
    ruleset.interfaces = [replace(i, zone=interface_zone(i.name, ruleset.zones)) for i in facts.interfaces]
    ruleset.routes = list(facts.routes)
    ruleset.routing_gaps = list(facts.gaps)
    ruleset.warnings.extend(facts.warnings)
