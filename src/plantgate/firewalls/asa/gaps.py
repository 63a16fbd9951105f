"""ASA statements that make the config's connected networks and static routes an incomplete account
of where the ASA forwards a packet (``Ruleset.routing_gaps``, see ``firewalls.routes``).

Why a reader of its own: the facts that widen routing sit in blocks the ACL parser skips (``router``,
``crypto``, ``webvpn``, ``tunnel-group``) and in interface sub-lines it does not need. The parser feeds
every line here once, in order. Syntax, from the Cisco ASA command reference and configuration guides:
- dynamic routing: ``router ospf|bgp|eigrp|rip|isis ...``, ``ipv6 router ospf N``, ``multicast-routing``
  (ASA prints only what was configured: no default protocol blocks to skip);
- policy routing: ``policy-route route-map NAME`` under an interface (9.4+), ``wccp interface IFC SVC
  redirect in``, and NAT divert: a static NAT sends traffic for its mapped addresses out of the interface
  it names, not where the routing table points, unless it says ``route-lookup`` (object NAT ``nat (real,
  mapped) static``, twice NAT ``source static`` and pre-8.3 ``static (real,mapped)`` to the real interface,
  twice NAT ``destination static`` to the mapped one; ``any`` leaves the choice to the routing table);
- layer 2: ``firewall transparent``, ``bridge-group N`` under an interface (transparent mode and
  integrated routing and bridging), ``zone-member Z`` (traffic zones spread a flow over member interfaces);
- learned at run time: ``ip address dhcp|pppoe [setroute]``, ``ipv6 address autoconfig|dhcp`` and
  DHCPv6 prefix-delegated addresses, tracked static routes (``route ... track N``), ``tunneled`` default
  routes, reverse route injection (``crypto map|dynamic-map ... set reverse-route``) and remote-access VPN
  (``tunnel-group X type remote-access``, ``ip local pool``, webvpn ``anyconnect enable``), whose client
  addresses become host routes while connected;
- an interface ``shutdown`` with an address: its connected network is not in the routing table while down.
  (``management-only`` interfaces are no gap: the parser puts them and their routes in the management
  routing table, which through traffic does not use.)
Routes and interface addresses the parser could not read are gaps too (``unread``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plantgate.firewalls.routes import KEEPS_PATHS, RoutingGap
from plantgate.firewalls.ruleset import SourceSpan

DYNAMIC_PROTOCOLS = {"ospf": "OSPF", "bgp": "BGP", "eigrp": "EIGRP", "rip": "RIP", "isis": "IS-IS"}
RUNTIME_ADDRESS = {"dhcp": "DHCP", "pppoe": "PPPoE", "autoconfig": "IPv6 autoconfiguration (SLAAC)"}


@dataclass
class _InterfaceBlock:
    """What one ``interface`` block says about routing; decided when the block ends."""

    name: str
    nameif: bool = False
    down: tuple[int, str] | None = None
    static_address: bool = False
    runtime_addresses: list[tuple[int, str, str]] = field(default_factory=list)


class RoutingGapReader:
    """Collects the routing gaps of one ASA config; the parser feeds it every command line in order."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.gaps: list[RoutingGap] = []
        self._diverts: set[int] = set()
        self._block = ""
        self._interface: _InterfaceBlock | None = None

    def gap(self, number: int, raw: str, reason: str) -> None:
        self.gaps.append(RoutingGap(SourceSpan(self.file, number, number, raw), reason))

    def unread(self, number: int, raw: str, what: str, why: str) -> None:
        """A route or interface address the parser left out with a warning."""
        self.gap(number, raw, f"{what} could not be read ({why}): the routing table is incomplete, {KEEPS_PATHS}")

    def top_level(self, number: int, raw: str, tokens: list[str]) -> None:
        self.end_block()
        head = tokens[0]
        self._block = head
        if head == "interface" and len(tokens) >= 2:
            self._interface = _InterfaceBlock(tokens[1])
        if head == "nat":
            self._divert(number, raw, tokens)
            return
        reason = _command_reason(tokens)
        if reason:
            self.gap(number, raw, reason)

    def _divert(self, number: int, raw: str, tokens: list[str]) -> None:
        """An 8.3+ ``nat`` statement's divert: a gap, unless ``finish`` learns NAT rules carry it."""
        reason = _nat_divert(tokens)
        if reason:
            self.gap(number, raw, reason)
            self._diverts.add(number)

    def sub_line(self, number: int, raw: str, tokens: list[str]) -> None:
        if self._interface is not None:
            self._interface_line(self._interface, number, raw, tokens)
        elif self._block == "object" and tokens[0] == "nat":
            self._divert(number, raw, tokens)
        elif self._block == "webvpn" and tokens[1:2] == ["enable"] and tokens[0] in ("anyconnect", "svc"):
            self.gap(number, raw, "remote-access SSL VPN (AnyConnect) is enabled: each connected client's address "
                                  f"becomes a host route at run time, {KEEPS_PATHS}")

    def finish(self, diverting_nat_lines: set[int]) -> list[RoutingGap]:
        """The gaps in line order. A NAT divert whose statement became NAT rules that carry it
        (``NatRule.sets_egress``) is no gap: reach sends those rules' packets out of the interface
        they name and follows the routes for every other packet."""
        self.end_block()
        modelled = self._diverts & diverting_nat_lines
        return sorted((gap for gap in self.gaps if gap.span.line not in modelled), key=lambda gap: gap.span.line)

    def _interface_line(self, iface: _InterfaceBlock, number: int, raw: str, tokens: list[str]) -> None:
        name = iface.name
        if tokens[0] == "nameif":
            iface.nameif = True
        elif tokens == ["shutdown"]:
            iface.down = (number, raw)
        elif tokens[:2] in (["ip", "address"], ["ipv6", "address"]) and len(tokens) > 2:
            learned = _runtime_address(tokens)
            if learned:
                iface.runtime_addresses.append((number, raw, f"interface {name} takes its {learned}"))
            iface.static_address = iface.static_address or _configured_address(tokens)
        elif tokens[:2] == ["policy-route", "route-map"]:
            self.gap(number, raw, f"policy-based routing on interface {name} (route-map {' '.join(tokens[2:3])}) "
                                  f"forwards matching traffic regardless of the routing table, {KEEPS_PATHS}")
        elif tokens[0] == "bridge-group":
            self.gap(number, raw, f"interface {name} is a bridge-group member: traffic between the group's "
                                  f"interfaces is bridged without a route lookup, {KEEPS_PATHS}")
        elif tokens[0] == "zone-member":
            self.gap(number, raw, f"interface {name} is in traffic zone {' '.join(tokens[1:2])}: the ASA spreads "
                                  f"and moves flows across the zone's interfaces, {KEEPS_PATHS}")

    def end_block(self) -> None:
        """The current top-level block ends (the next command, a ``!`` or blank line, the end of the file)."""
        self._block = ""
        iface, self._interface = self._interface, None
        if iface is None:
            return
        if iface.down is None:
            for number, raw, reason in iface.runtime_addresses:
                self.gap(number, raw, f"{reason}: addresses and routes learned at run time are not in the config, "
                                      f"{KEEPS_PATHS}")
        elif iface.static_address:
            self.gap(*iface.down, f"interface {iface.name} is shut down: its connected network is not in the routing "
                                  f"table while it is down and traffic to it follows other routes, {KEEPS_PATHS}")


def _runtime_address(tokens: list[str]) -> str:
    """``ip address dhcp|pppoe [setroute]``, ``ipv6 address autoconfig|dhcp`` or a DHCPv6 prefix-delegated
    address (``ipv6 address PREFIX-NAME ::1/64``): how the address is learned; "" for a configured one."""
    words = tokens[2:]
    learned = next((RUNTIME_ADDRESS[w] for w in words if w in RUNTIME_ADDRESS), "")
    if tokens[0] == "ipv6" and learned == "DHCP":
        learned = "DHCPv6"
    if tokens[0] == "ipv6" and not learned and "/" not in words[0] and "link-local" not in words:
        learned = "DHCPv6 prefix delegation"
    if learned:
        return f"address from {learned}" + (" and its default route (setroute)" if "setroute" in words else "")
    return ""


def _configured_address(tokens: list[str]) -> bool:
    """An address line that puts a connected network in ``Ruleset.interfaces`` (``ip address A M``,
    ``ipv6 address P/L``; also the fixed address of ``ip address A M pppoe``)."""
    if tokens[0] == "ip":
        return tokens[2] not in ("dhcp", "pppoe")
    return "/" in tokens[2] and "link-local" not in tokens


def _command_reason(tokens: list[str]) -> str:
    head, args = tokens[0], tokens[1:]
    if (head == "router" and args) or tokens[:3] == ["ipv6", "router", "ospf"]:
        protocol = "OSPFv3" if head == "ipv6" else DYNAMIC_PROTOCOLS.get(args[0], args[0])
        return f"{protocol} is configured: routes learned at run time are not in the config, {KEEPS_PATHS}"
    if head == "multicast-routing":
        return f"multicast routing (PIM) is enabled: multicast follows trees built at run time, {KEEPS_PATHS}"
    if tokens == ["firewall", "transparent"]:
        return f"the ASA is in transparent mode: it bridges traffic without a route lookup, {KEEPS_PATHS}"
    if head == "route" or tokens[:2] == ["ipv6", "route"]:
        return _route_reason(tokens)
    if head == "static":  # pre-8.3: not modelled as NAT rules, so its divert stays a gap
        return _nat_divert(tokens)
    if head == "crypto" and "reverse-route" in tokens:
        return ("reverse route injection (set reverse-route) adds routes to the VPN peers' networks while their "
                f"tunnels are up, {KEEPS_PATHS}")
    if head == "tunnel-group" and args[1:3] == ["type", "remote-access"]:
        return ("remote-access VPN tunnel group: each connected client's address becomes a host route at run time, "
                f"{KEEPS_PATHS}")
    if tokens[:3] in (["ip", "local", "pool"], ["ipv6", "local", "pool"]):
        return (f"VPN address pool {' '.join(tokens[3:4])}: addresses handed to remote-access clients become host "
                f"routes while they are connected, {KEEPS_PATHS}")
    if head == "wccp" and "redirect" in tokens:
        return f"WCCP redirection sends matching traffic to a cache engine instead of its route, {KEEPS_PATHS}"
    return ""


def _route_reason(tokens: list[str]) -> str:
    if "track" in tokens:
        return ("tracked static route: the ASA withdraws it when its SLA monitor fails and a backup route takes over "
                f"(the route in use is decided at run time), {KEEPS_PATHS}")
    if "tunneled" in tokens:
        return ("tunneled route: traffic that arrived through a VPN tunnel follows it instead of the other routes "
                f"(the route depends on where a packet came from), {KEEPS_PATHS}")
    return ""


def _nat_divert(tokens: list[str]) -> str:
    """A static NAT that names an interface decides the egress interface itself (NAT divert): for traffic to
    its mapped source, the real interface; for traffic to a twice NAT's mapped destination, the mapped one."""
    if len(tokens) < 3 or not tokens[1].startswith("(") or "route-lookup" in tokens or "inactive" in tokens:
        return ""
    real, _, mapped = tokens[1].strip("()").partition(",")
    static_source = tokens[0] == "static" or tokens[2] == "static" or _keyword_then(tokens, "source", "static")
    egress = [real] if static_source and real != "any" else []
    egress += [mapped] if _keyword_then(tokens, "destination", "static") and mapped not in ("any", "") else []
    if not egress:
        return ""
    return (f"static NAT ({real},{mapped}) sends traffic for its mapped addresses out of {' and '.join(egress)}, "
            f"not where the routing table points (NAT divert; route-lookup would make the routing table decide), "
            f"{KEEPS_PATHS}")


def _keyword_then(tokens: list[str], keyword: str, value: str) -> bool:
    return keyword in tokens and tokens[tokens.index(keyword) + 1:tokens.index(keyword) + 2] == [value]
