"""The statements that make a PAN-OS config's addresses and static routes an incomplete account of its routing.

Each is a ``RoutingGap`` on the line that enables it; a firewall with any gap keeps every path
(``firewalls.routes``), so a statement is reported whenever it might send a packet somewhere the
configured routes do not say. Syntax, from the PAN-OS XML schema (the set and brace forms write the same tree):
- dynamic routing: a virtual router's ``protocol bgp|ospf|ospfv3|rip`` and ``multicast`` unless ``enable no``.
  Full exports print unused blocks with ``enable no`` (iron-skillet's BGP with only the default dampening
  profile): those are not gaps. The Advanced Routing Engine (``deviceconfig setting advance-routing yes``)
  and its ``logical-router``s are not read at all (the interface reader's warning is the logical router's gap);
- static routes that do not say where a packet leaves: ``nexthop next-vr`` (a lookup in another virtual
  router), ``route-table no-install|multicast`` (not a unicast route), ``path-monitor enable yes`` and a
  ``bfd profile`` (the route is withdrawn when the monitor fails, and packets take another route);
- policy-based forwarding: an enabled ``rulebase pbf`` rule that forwards (any action but ``discard`` and
  ``no-pbf``), an enabled ``rulebase sdwan`` rule, ``sdwan-link-settings enable yes`` on an interface;
- layer 2: ``layer2`` and ``virtual-wire`` interfaces, ``network virtual-wire`` objects, and zones whose
  network is ``layer2``, ``virtual-wire``, ``tunnel`` (flows inside inspected tunnels) or ``external``
  (traffic handed to another virtual system);
- addresses and routes learned at run time: ``dhcp-client``, ``pppoe``, ``ipv6 dhcp-client`` and ``ipv6
  inherited`` (unless ``enable no``), GlobalProtect gateways and LSVPN satellite tunnels (routes to clients
  and satellites appear when they connect); and facts the interface reader takes that may not hold: IPv6
  addresses while ``ipv6 enabled`` is not ``yes``, a layer-3 interface with ``link-state down``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plantgate.firewalls.panos.xml_syntax import PanNode
from plantgate.firewalls.routes import KEEPS_PATHS, RoutingGap
from plantgate.firewalls.ruleset import SourceSpan

LineSpan = Callable[[PanNode], SourceSpan]
"""The one source line a node starts on (the statement that enables the gap)."""

ROUTING_PROTOCOLS = {"bgp": "BGP", "ospf": "OSPF", "ospfv3": "OSPFv3", "rip": "RIP"}
REDISTRIBUTION = frozenset({"redist-profile", "redist-profile-ipv6"})
INTERFACE_KINDS = ("ethernet", "aggregate-ethernet")
UNIT_KINDS = ("vlan", "loopback", "tunnel")
LAYER2_MODES = ("layer2", "virtual-wire")
LAYER2_ZONES = {
    "layer2": "bridges its interfaces: traffic crosses without a route lookup",
    "virtual-wire": "joins virtual-wire interfaces: traffic crosses without a route lookup",
    "tunnel": "holds the flows inside inspected tunnels, which follow the tunnel's route, not their own addresses",
    "external": "hands traffic to another virtual system, whose interfaces and routes decide where it leaves",
}
NOT_FORWARDING = frozenset({"discard", "no-pbf"})
RUNTIME_ADDRESS = {
    "dhcp-client": "takes its address (and maybe a default route) from DHCP",
    "pppoe": "takes its address (and maybe a default route) from PPPoE",
}
RUNTIME_IPV6 = {
    "dhcp-client": "takes its IPv6 address (and maybe a default route) from DHCPv6",
    "inherited": "takes its IPv6 prefix from prefix delegation",
}


def routing_gaps(devices: list[PanNode], rulebases: list[PanNode], zone_holders: list[PanNode],
                 line_span: LineSpan) -> list[RoutingGap]:
    """Every gap of one config, in file order.

    ``devices`` are the device entries (the firewall's, each Panorama template's and stack's), ``rulebases`` the nodes
    holding ``pbf``/``sdwan`` rules, ``zone_holders`` the nodes holding zones.
    """
    networks = [n for d in devices if (n := d.child("network")) is not None]
    found = [*(g for n in networks for g in _virtual_routers(n)), *(g for n in networks for g in _interfaces(n)),
             *_rules(rulebases), *_zones(zone_holders), *_remote_access(devices, networks),
             *_advanced_routing(devices)]
    gaps = {(line_span(node), reason) for node, reason in found}
    return [RoutingGap(span, reason) for span, reason in sorted(gaps, key=lambda g: (g[0].line, g[1]))]


def _words(node: PanNode | None) -> list[str]:
    """Child tags and values: a set line may leave an empty element as a value (``route-table no-install``)."""
    return [c.tag for c in node.children] + list(node.values) if node is not None else []


def _items(holder: PanNode | None) -> list[tuple[str, PanNode]]:
    """(name, node) of a list's items: ``<entry name=...>`` children, or the named children a set line made."""
    return [(c.name or c.tag, c) for c in holder.children] if holder is not None else []


def _enabled(node: PanNode) -> bool:
    return node.text("enable") != "no"


def _enabling_line(node: PanNode) -> PanNode:
    """The node's ``enable`` statement when it has one (the line that turns it on), else the node."""
    return node.child("enable") or node


def _virtual_routers(network: PanNode) -> Iterator[tuple[PanNode, str]]:
    for router in network.entries("virtual-router"):
        where = f" in virtual router {router.name}"
        protocol = router.child("protocol")
        if protocol is not None:
            yield from _protocols(protocol, where)
        multicast = router.child("multicast")
        if multicast is not None and _enabled(multicast):
            yield _enabling_line(multicast), (f"multicast routing is enabled{where}: multicast packets follow "
                                              f"routes learned at run time, {KEEPS_PATHS}")
        for family in ("ip", "ipv6"):
            table = router.path("routing-table", family)
            for route in table.entries("static-route") if table else []:
                yield from _static_route(route, where)


def _protocols(protocol: PanNode, where: str) -> Iterator[tuple[PanNode, str]]:
    for block in protocol.children:
        if block.tag in REDISTRIBUTION or not _enabled(block):
            continue
        name = ROUTING_PROTOCOLS.get(block.tag, f"protocol {block.tag}")
        yield _enabling_line(block), (f"{name} is enabled{where}: routes it learns at run time are not in the "
                                      f"config, {KEEPS_PATHS}")
    for tag in protocol.values:  # a bare set line: ``protocol ospf``
        if tag not in REDISTRIBUTION:
            yield protocol, (f"{ROUTING_PROTOCOLS.get(tag, f'protocol {tag}')} is configured{where}: routes it "
                             f"learns at run time are not in the config, {KEEPS_PATHS}")


def _static_route(route: PanNode, where: str) -> Iterator[tuple[PanNode, str]]:
    name = f"static route {route.name}{where}"
    nexthop = route.child("nexthop")
    if "next-vr" in _words(nexthop):
        yield nexthop or route, (f"{name} hands packets to another virtual router, whose lookup decides where "
                                 f"they leave, {KEEPS_PATHS}")
    table = route.child("route-table")
    kinds = [w for w in _words(table) if w in ("no-install", "multicast")]
    if table is not None and kinds:
        yield table, (f"{name} is route-table {kinds[0]}: read as a route but not used for unicast forwarding, "
                      f"{KEEPS_PATHS}")
    monitor = route.child("path-monitor")
    if monitor is not None and monitor.text("enable") == "yes":
        yield _enabling_line(monitor), (f"{name} is path-monitored: it is withdrawn when its monitor fails and "
                                        f"packets then take another route, {KEEPS_PATHS}")
    bfd = route.path("bfd", "profile")
    if bfd is not None and bfd.values and bfd.values[-1] != "None":
        yield bfd, (f"{name} uses BFD profile {bfd.values[-1]}: it is withdrawn when BFD fails and packets then "
                    f"take another route, {KEEPS_PATHS}")


def _interfaces(network: PanNode) -> Iterator[tuple[PanNode, str]]:
    holder = network.child("interface")
    for kind in INTERFACE_KINDS:
        for entry in holder.entries(kind) if holder else []:
            for mode in LAYER2_MODES:
                node = entry.child(mode)
                if node is not None:
                    yield node, (f"interface {entry.name} is a {mode} interface: traffic crosses it without a route "
                                 f"lookup, {KEEPS_PATHS}")
            layer3 = entry.child("layer3")
            if layer3 is None:
                continue
            state = entry.child("link-state")
            if state is not None and state.values[-1:] == ["down"]:
                yield state, (f"interface {entry.name} is link-state down: its address is in the config but its "
                              f"network is not in the routing table, {KEEPS_PATHS}")
            yield from _layer3(str(entry.name), layer3)
            for unit in layer3.entries("units"):
                yield from _layer3(str(unit.name), unit)
    for kind in UNIT_KINDS:
        units = holder.child(kind) if holder else None
        for unit in units.entries("units") if units else []:
            yield from _layer3(str(unit.name), unit)
    wires = network.child("virtual-wire")
    for name, wire in _items(wires):
        yield wire, (f"virtual wire {name} joins two interfaces: traffic crosses between them without a route "
                     f"lookup, {KEEPS_PATHS}")


def _layer3(name: str, node: PanNode) -> Iterator[tuple[PanNode, str]]:
    """Run-time addresses and IPv6 facts of one layer-3 interface or unit."""
    for word, what in RUNTIME_ADDRESS.items():
        found = node.child(word)
        if (found is not None and _enabled(found)) or word in node.values:
            yield _enabling_line(found) if found else node, (f"interface {name} {what}: its connected network is "
                                                             f"not in the config, {KEEPS_PATHS}")
    ipv6 = node.child("ipv6")
    for word, what in RUNTIME_IPV6.items():
        found = ipv6.child(word) if ipv6 else None
        if (found is not None and _enabled(found)) or (ipv6 is not None and word in ipv6.values):
            yield _enabling_line(found) if found else ipv6 or node, (f"interface {name} {what}: its connected "
                                                                     f"network is not in the config, {KEEPS_PATHS}")
    addresses = ipv6.child("address") if ipv6 else None
    if ipv6 is not None and addresses is not None and _words(addresses) and ipv6.text("enabled") != "yes":
        yield addresses, (f"interface {name} has IPv6 addresses but IPv6 is not enabled on it: their networks are "
                          f"read as connected but may not be in the routing table, {KEEPS_PATHS}")
    sdwan = node.child("sdwan-link-settings")
    if sdwan is not None and sdwan.text("enable") == "yes":
        yield _enabling_line(sdwan), (f"interface {name} is an SD-WAN link: SD-WAN rules pick the link a packet "
                                      f"leaves by, {KEEPS_PATHS}")


def _rules(rulebases: list[PanNode]) -> Iterator[tuple[PanNode, str]]:
    """Enabled policy-based forwarding rules that forward, and enabled SD-WAN rules."""
    for holder in rulebases:
        pbf = holder.child("pbf")
        for rule in pbf.entries("rules") if pbf else []:
            action = rule.child("action")
            kinds = [w for w in _words(action) if w not in NOT_FORWARDING]
            if rule.text("disabled") != "yes" and (kinds or action is None):
                yield action or rule, (f"policy-based forwarding rule {rule.name} ({' '.join(kinds) or 'no action'}) "
                                       f"sends the traffic it matches past the routing table, {KEEPS_PATHS}")
        sdwan = holder.child("sdwan")
        for rule in sdwan.entries("rules") if sdwan else []:
            if rule.text("disabled") != "yes":
                yield rule, (f"SD-WAN rule {rule.name} picks the link the traffic it matches leaves by, "
                             f"{KEEPS_PATHS}")


def _zones(zone_holders: list[PanNode]) -> Iterator[tuple[PanNode, str]]:
    for holder in zone_holders:
        for zone in holder.entries("zone"):
            network = zone.child("network")
            for kind in _words(network):
                if kind in LAYER2_ZONES:
                    node = network.child(kind) if network else None
                    yield node or zone, f"zone {zone.name} ({kind}) {LAYER2_ZONES[kind]}, {KEEPS_PATHS}"


def _advanced_routing(devices: list[PanNode]) -> Iterator[tuple[PanNode, str]]:
    """``deviceconfig setting advance-routing yes``: logical routers route, virtual routers are ignored."""
    for device in devices:
        engine = device.path("deviceconfig", "setting", "advance-routing")
        if engine is not None and engine.values[-1:] == ["yes"]:
            yield engine, (f"the Advanced Routing Engine is enabled: logical routers, which are not read, do the "
                           f"routing and virtual routers are ignored, {KEEPS_PATHS}")


def _remote_access(devices: list[PanNode], networks: list[PanNode]) -> Iterator[tuple[PanNode, str]]:
    """GlobalProtect gateways and LSVPN satellite tunnels: routes added when clients or satellites connect."""
    holders = [*devices, *(v for d in devices for v in d.entries("vsys"))]
    for holder in holders:
        for name, gateway in _items(holder.path("global-protect", "global-protect-gateway")):
            yield gateway, (f"GlobalProtect gateway {name}: routes to its clients' addresses are added as they "
                            f"connect, {KEEPS_PATHS}")
    for network in networks:
        for name, tunnel in _items(network.path("tunnel", "ipsec")):
            satellite = tunnel.child("global-protect-satellite")
            if satellite is not None:
                yield satellite, (f"IPsec tunnel {name} is an LSVPN satellite: routes published by its gateway are "
                                  f"learned at run time, {KEEPS_PATHS}")
