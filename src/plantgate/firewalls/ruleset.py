"""The vendor-neutral Ruleset: what every firewall parser produces and every analysis reads.

Each vendor parser turns its own syntax into these plain, immutable records so that the
packet-space engine, the lint and the treaty reconciliation never see vendor syntax.
Every rule and object keeps the file, line range and raw text it came from: a finding
without evidence is worthless to an auditor.

Semantics, shared by all vendors:
- A ``Filter`` is an ordered, first-match list of ``Rule``s with a default action.
- A rule matches a flow when every one of its match fields matches (after negation).
- ``Ruleset.paths`` says which filters a flow crossing the firewall from one config zone
  (interface or security zone) to another passes through, in order; the flow is permitted
  only when every filter on the path permits it.
- Rules carry ``from_zones``/``to_zones`` (config names). Empty means "any". When a filter
  is evaluated for a zone pair, a rule whose zones do not include the pair does not match.
  When it is evaluated with no zone context (``fw test --filter``) a zone-constrained
  permit is treated as matching and a zone-constrained deny as not matching: the unknown
  is widened toward "permitted", never narrowed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from plantgate.firewalls.nat import NatRule
    from plantgate.firewalls.routes import Interface, RoutingGap, StaticRoute

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SELF_ZONES = frozenset({"self", "junos-host"})
"""The parsers' names for the firewall itself (INPUT/OUTPUT, local-in, junos-host): not forwarding, no interface."""

ANY_V4 = ipaddress.IPv4Network("0.0.0.0/0")
ANY_V6 = ipaddress.IPv6Network("::/0")

TCP = 6
UDP = 17
ICMP = 1
ICMPV6 = 58
SCTP = 132
PORT_PROTOCOLS = frozenset({TCP, UDP, SCTP})
ICMP_PROTOCOLS = frozenset({ICMP, ICMPV6})


class Action(StrEnum):
    PERMIT = "permit"
    DENY = "deny"
    DROP = "drop"
    REJECT = "reject"

    @property
    def permits(self) -> bool:
        return self is Action.PERMIT


@dataclass(frozen=True, slots=True)
class SourceSpan:
    """Where a rule or object was written: file, 1-based inclusive line range, raw text."""

    file: str
    line: int
    end_line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class AddressSet:
    """A set of IP addresses: the union of ``include`` minus the union of ``exclude``.

    IPv4 and IPv6 networks may be mixed. ``names`` records the object names it was built
    from, for display and for the unused-object lint.
    """

    include: tuple[IPNetwork, ...]
    exclude: tuple[IPNetwork, ...] = ()
    names: tuple[str, ...] = ()
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        """Hashed once: analyses key caches by address sets, and hashing one hashes every network in it
        (a tenth of the time of building 50,000 rules' packet sets)."""
        cached = self._hash
        if cached is None:
            cached = hash((self.include, self.exclude, self.names))
            object.__setattr__(self, "_hash", cached)
        return cached

    @property
    def is_any(self) -> bool:
        return not self.exclude and (ANY_V4 in self.include and ANY_V6 in self.include)

    def contains(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        inside = any(address in net for net in self.include if net.version == address.version)
        return inside and not any(address in net for net in self.exclude if net.version == address.version)

    def __str__(self) -> str:
        if self.names:
            return ",".join(self.names)
        if self.is_any:
            return "any"
        text = ",".join(str(n) for n in self.include)
        if self.exclude:
            text += " except " + ",".join(str(n) for n in self.exclude)
        return text or "none"


ANY_ADDRESS = AddressSet((ANY_V4, ANY_V6))
ANY_IPV4 = AddressSet((ANY_V4,))
ANY_IPV6 = AddressSet((ANY_V6,))


def address_set(items: Iterable[str | IPNetwork], names: tuple[str, ...] = ()) -> AddressSet:
    """Build an AddressSet from CIDR strings or networks (host bits are cleared)."""
    nets = tuple(
        item if not isinstance(item, str) else ipaddress.ip_network(item, strict=False) for item in items
    )
    return AddressSet(nets, names=names)


def address_range(first: str, last: str) -> tuple[IPNetwork, ...]:
    """The networks that exactly cover an inclusive address range such as 10.0.0.5-10.0.0.9."""
    a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
    return tuple(ipaddress.summarize_address_range(a, b))  # type: ignore[arg-type]


PortRange = tuple[int, int]
ALL_PORTS: PortRange = (0, 65535)


@dataclass(frozen=True, slots=True)
class Service:
    """One protocol with optional port or ICMP constraints.

    ``protocol`` None means every IP protocol (then ports and ICMP fields must be empty).
    Empty ``src_ports``/``dst_ports`` mean any port; they only apply to TCP, UDP and SCTP.
    ``icmp_type``/``icmp_code`` None mean any; they only apply to ICMP and ICMPv6.
    """

    protocol: int | None = None
    src_ports: tuple[PortRange, ...] = ()
    dst_ports: tuple[PortRange, ...] = ()
    icmp_type: int | None = None
    icmp_code: int | None = None
    name: str = ""

    def __str__(self) -> str:
        if self.name:
            return self.name
        if self.protocol is None:
            return "ip"
        proto = {TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMPV6: "icmp6", SCTP: "sctp"}.get(
            self.protocol, str(self.protocol)
        )
        if self.dst_ports:
            return proto + "/" + ",".join(_port_text(r) for r in self.dst_ports)
        if self.icmp_type is not None:
            return f"{proto}/{self.icmp_type}" + (f"/{self.icmp_code}" if self.icmp_code is not None else "")
        return proto


def _port_text(r: PortRange) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


ANY_SERVICE = Service()


@dataclass(frozen=True, slots=True)
class Rule:
    """One ordered rule of a filter, normalised.

    ``rule_id`` is stable and human-meaningful (the vendor's rule name or
    ``<filter>#<position>``). ``widened`` lists why a construct we could not decide was
    widened toward "permitted" (e.g. an FQDN address, an unknown option).
    ``stateful_return_only`` marks a rule that matches only packets of sessions already
    established (iptables ``--ctstate ESTABLISHED,RELATED``); the analyses are about new
    sessions, so such a rule never matches a new flow.
    """

    rule_id: str
    position: int
    action: Action
    span: SourceSpan
    sources: AddressSet = ANY_ADDRESS
    destinations: AddressSet = ANY_ADDRESS
    services: tuple[Service, ...] = (ANY_SERVICE,)
    source_negate: bool = False
    destination_negate: bool = False
    service_negate: bool = False
    from_zones: tuple[str, ...] = ()
    to_zones: tuple[str, ...] = ()
    enabled: bool = True
    applications: tuple[str, ...] = ()
    log: bool = False
    comment: str = ""
    object_refs: tuple[str, ...] = ()
    widened: tuple[str, ...] = ()
    stateful_return_only: bool = False
    uncertain: bool = False

    @property
    def decided_by_packet(self) -> bool:
        """False when the match depends on something outside the packet space."""
        return not (self.uncertain or self.applications)


@dataclass(frozen=True, slots=True)
class NamedObject:
    """A named address or service object or group as written in the config."""

    name: str
    kind: str  # "address", "address-group", "service", "service-group", "protocol-group", ...
    span: SourceSpan
    members: tuple[str, ...] = ()


@dataclass(slots=True)
class Filter:
    """An ordered first-match rule list (ACL, chain, zone-pair rulebase)."""

    name: str
    rules: list[Rule]
    default_action: Action = Action.DENY
    span: SourceSpan | None = None
    description: str = ""


MAX_WARNING = 400
"""Characters of a warning's message that are kept (findings, pages and terminals show it)."""


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """A line the parser did not fully understand; ``widened`` when it widened a rule for it."""

    file: str
    line: int
    message: str
    text: str = ""
    widened: bool = False

    def __post_init__(self) -> None:
        """Messages quote config text, which may be a 100 KB name or a 4,301-digit port: keep them readable."""
        if len(self.message) > MAX_WARNING:
            object.__setattr__(self, "message", f"{self.message[:MAX_WARNING]}... ({len(self.message):,} characters)")

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(slots=True)
class Ruleset:
    """Everything one firewall (or one VDOM/vsys) enforces, vendor-neutral.

    ``zones`` are the config's own interface or zone names. ``paths`` maps
    (from_zone, to_zone) to the filter names a flow crosses, in order; a pair absent
    from ``paths`` is governed by ``default_path_action``.

    ``nat_rules`` are the translations PlantGate models (``firewalls.nat``);
    ``nat_statements`` are the NAT statements it does not, each a reported limitation. A
    parser puts each statement in exactly one of them. ``policy_sees`` says which
    destination the security policy matches: the translated one (most vendors) or the
    original one (PAN-OS matches pre-NAT addresses, with the post-NAT zone).

    ``interfaces`` and ``routes`` are the layer-3 facts the config states (``firewalls.routes``):
    interface addresses with their zone and routing table, and static routes; empty where the
    config holds none (iptables and nftables rulesets never do: their ``routing:`` file may give
    them, ``linux.ip_routes``). ``routing_gaps`` are the
    statements that make those facts incomplete (dynamic routing, policy-based forwarding,
    layer-2 interfaces, unread routes): with any, routing never rules a path out.
    """

    name: str
    vendor: str
    file: str
    zones: list[str] = field(default_factory=list)
    filters: dict[str, Filter] = field(default_factory=dict)
    paths: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    default_path_action: Action = Action.DENY
    objects: dict[str, NamedObject] = field(default_factory=dict)
    warnings: list[ParseWarning] = field(default_factory=list)
    nat_statements: list[SourceSpan] = field(default_factory=list)
    nat_rules: list[NatRule] = field(default_factory=list)
    policy_sees: Literal["translated", "original"] = "translated"
    interfaces: list[Interface] = field(default_factory=list)
    routes: list[StaticRoute] = field(default_factory=list)
    routing_gaps: list[RoutingGap] = field(default_factory=list)

    def all_rules(self) -> Iterable[tuple[Filter, Rule]]:
        for flt in self.filters.values():
            for rule in flt.rules:
                yield flt, rule

    def rule_count(self) -> int:
        return sum(len(f.rules) for f in self.filters.values())

    def zone_pairs(self) -> list[tuple[str, str]]:
        """Every ordered pair of distinct zones plus same-zone pairs that have a path."""
        pairs = [(a, b) for a in self.zones for b in self.zones if a != b]
        pairs += [p for p in self.paths if p[0] == p[1]]
        return pairs
