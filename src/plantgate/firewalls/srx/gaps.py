"""The statements that make an SRX config's addresses and static routes an incomplete account of its routing.

Each is a ``RoutingGap`` on the line that enables it; a firewall with any gap keeps every path
(``firewalls.routes``), so a statement is reported whenever it might send a packet somewhere the
configured routes do not say. Syntax, from the Junos configuration reference:
- dynamic routing: ``protocols ospf|ospf3|bgp|rip|ripng|isis|pim|...``, in the master instance or a
  routing instance, unless deactivated or ``disable``d. Junos prints no default blocks, so any other
  ``protocols`` statement not known to leave routes alone (``lldp``, ``router-advertisement``...) is a gap;
- routes shared, made or hidden by the routing engine: any ``routing-options`` statement but static routes
  and table-wide settings (``rib-groups``, ``instance-import``, ``auto-export``, ``generate``, ``flow``...);
  ``rib-group`` under ``interface-routes`` or ``static``; ``no-install`` static routes (or ``static
  defaults``); a ``forwarding-table export`` policy doing more than load balancing; a static route with
  ``bfd-liveness-detection`` (withdrawn at run time when its next hop stops answering: the packets then
  take another route);
- forwarding decided by something else than the routing table: a firewall filter term (filter-based
  forwarding) or an advanced policy-based-routing rule ``then routing-instance|next-interface|next-ip|
  next-ip6``, a ``services ip-monitoring`` policy (a route installed or an interface switched when a
  probe fails);
- layer 2: ``protocols l2-learning global-mode transparent-bridge``, a unit of ``family bridge|vpls|ccc|
  tcc``, a ``family ethernet-switching`` unit in a security zone, a layer-2 ``instance-type``;
- addresses and routes learned at run time: ``family inet dhcp|dhcp-client``, ``family inet6
  dhcpv6-client``, ``negotiate-address`` (PPP, PPPoE), ``unnumbered-address`` (no network of its own),
  an IPsec VPN ``traffic-selector`` (auto route insertion), ``security remote-access|dynamic-vpn``
  (routes to the clients' assigned addresses); a ``disable``d interface whose address is still read;
- what the reader does not read: ``logical-systems``, ``tenants``, a routing instance of a type it does
  not know, and ``apply-groups`` inheriting interfaces, routing, filters, VPN or zone membership from a
  group (a cluster's ``node0``/``node1`` groups setting only the management interface ``fxp0`` are not gaps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from plantgate.firewalls.routes import KEEPS_PATHS, RoutingGap
from plantgate.firewalls.ruleset import SourceSpan
from plantgate.firewalls.srx.hierarchy import ConfigNode

LineSpan = Callable[[ConfigNode], SourceSpan]
"""The one source line a node starts on (the statement that enables the gap)."""

ROUTING_PROTOCOLS = {
    "ospf": "OSPF", "ospf3": "OSPFv3", "bgp": "BGP", "rip": "RIP", "ripng": "RIPng", "isis": "IS-IS",
    "esis": "ES-IS", "pim": "PIM (multicast routing)", "msdp": "MSDP (multicast routing)",
    "dvmrp": "DVMRP (multicast routing)", "ldp": "LDP", "rsvp": "RSVP", "mpls": "MPLS",
}
LAYER2_PROTOCOLS = frozenset({"l2circuit", "l2vpn", "vpls", "evpn", "connections"})
#: Protocols that neither learn routes nor forward packets themselves.
QUIET_PROTOCOLS = frozenset({
    "lldp", "lldp-med", "router-advertisement", "neighbor-discovery", "igmp", "mld", "bfd", "vrrp", "oam",
    "igmp-snooping", "mld-snooping", "dot1x", "layer2-control", "stp", "rstp", "mstp", "vstp",
})
#: ``routing-options`` statements that add no route and move none between tables.
QUIET_ROUTING_OPTIONS = frozenset({
    "static", "rib", "router-id", "autonomous-system", "forwarding-table", "graceful-restart", "nonstop-routing",
    "martians", "aggregate", "options", "traceoptions", "maximum-paths", "maximum-prefixes", "confederation",
    "resolution", "ppm", "validation", "bmp", "med-igp-update-interval", "multicast", "instance-export",
    "interface-routes",
})
#: Actions of a ``forwarding-table export`` policy that install every route as the routing table has it.
QUIET_EXPORT_ACTIONS = frozenset({"load-balance", "accept", "install-nexthop", "next"})
LAYER3_INSTANCE_TYPES = frozenset({"virtual-router", "vrf", "forwarding"})
LAYER2_INSTANCE_TYPES = frozenset({
    "virtual-switch", "vpls", "l2vpn", "evpn", "evpn-vpws", "mac-vrf", "l2backhaul-vpn", "layer2-control",
})
LAYER2_FAMILIES = frozenset({"bridge", "vpls", "ccc", "tcc"})
FORWARDING_ACTIONS = frozenset({"routing-instance", "next-interface", "next-ip", "next-ip6"})
RUNTIME_ADDRESS = {
    "dhcp": "takes its address (and maybe a default route) from DHCP",
    "dhcp-client": "takes its address (and maybe a default route) from DHCP",
    "dhcpv6-client": "takes its IPv6 address (and maybe routes) from DHCPv6",
    "negotiate-address": "takes its address from the PPP peer",
    "unnumbered-address": "borrows another interface's address and has no network of its own",
}
#: The hierarchies whose statements, inherited from a group, the interface, route and gap readers would have to see.
GROUP_HIERARCHIES = (
    ("interfaces",), ("routing-options",), ("routing-instances",), ("protocols",), ("firewall",),
    ("services", "ip-monitoring"), ("security", "ipsec"), ("security", "advance-policy-based-routing"),
    ("security", "remote-access"), ("security", "dynamic-vpn"), ("security", "zones"), ("logical-systems",),
    ("tenants",),
)
MANAGEMENT_INTERFACE_PREFIXES = ("fxp", "em", "me", "fab")


def routing_gaps(root: ConfigNode, line_span: LineSpan) -> list[RoutingGap]:
    """Every gap of one config, in file order."""
    found = [*_instances(root), *_interfaces(root), *_forwarding_actions(root), *_run_time_routes(root),
             *_unread(root)]
    gaps = {(line_span(node), reason) for node, reason in found}
    return [RoutingGap(span, reason) for span, reason in sorted(gaps, key=lambda g: (g[0].line, g[1]))]


def _path(node: ConfigNode) -> str:
    words = []
    step: ConfigNode | None = node
    while step is not None and step.parent is not None:
        words.append(step.word)
        step = step.parent
    return " ".join(reversed(words))


def _instances(root: ConfigNode) -> Iterator[tuple[ConfigNode, str]]:
    """Protocols and routing-options of the master instance and of every routing instance."""
    policies = root.find("policy-options", "policy-statement")
    yield from _routing_engine(root, "", policies)
    instances = root.child("routing-instances")
    for instance in instances.kids() if instances else []:
        where = f" in routing instance {instance.word}"
        kind = instance.find("instance-type")
        words = kind.words() if kind else []
        if any(w in LAYER2_INSTANCE_TYPES for w in words):
            yield (kind or instance), (f"routing instance {instance.word} is a layer-2 instance ({' '.join(words)}): "
                                       f"traffic crosses it without a route lookup, {KEEPS_PATHS}")
        elif not any(w in LAYER3_INSTANCE_TYPES for w in words):
            yield (kind or instance), (f"routing instance {instance.word} has instance-type "
                                       f"{' '.join(words) or '(none)'}, which PlantGate does not read as a "
                                       f"routing table of its own: where its interfaces' packets go is not known, "
                                       f"{KEEPS_PATHS}")
        yield from _routing_engine(instance, where, policies)


def _routing_engine(holder: ConfigNode, where: str, policies: ConfigNode | None) -> Iterator[tuple[ConfigNode, str]]:
    protocols = holder.child("protocols")
    for protocol in protocols.kids() if protocols else []:
        if protocol.word in QUIET_PROTOCOLS or protocol.child("disable") is not None:
            continue
        if protocol.word in ROUTING_PROTOCOLS:
            yield protocol, (f"{ROUTING_PROTOCOLS[protocol.word]} is configured{where}: routes it learns at run time "
                             f"are not in the config, {KEEPS_PATHS}")
        elif protocol.word in LAYER2_PROTOCOLS:
            yield protocol, (f"protocols {protocol.word}{where} carries layer-2 circuits: their traffic crosses "
                             f"without a route lookup, {KEEPS_PATHS}")
        elif protocol.word == "l2-learning":
            mode = protocol.find("global-mode", "transparent-bridge")
            if mode is not None:
                yield mode, (f"transparent mode (l2-learning global-mode transparent-bridge){where}: traffic is "
                             f"bridged between zones without a route lookup, {KEEPS_PATHS}")
        else:
            yield protocol, (f"protocols {protocol.word}{where} is not known to PlantGate to leave routing alone: "
                             f"it may learn or move routes at run time, {KEEPS_PATHS}")
    options = holder.child("routing-options")
    tables = [options] if options else []
    rib = options.child("rib") if options else None
    tables += rib.kids() if rib else []
    for table in tables:
        yield from _routing_options(table, where, policies)


def _routing_options(table: ConfigNode, where: str, policies: ConfigNode | None) -> Iterator[tuple[ConfigNode, str]]:
    for option in table.kids():
        if option.word not in QUIET_ROUTING_OPTIONS:
            yield option, (f"routing-options {option.word}{where} is not a static route: routes it generates or "
                           f"shares between routing tables are not in the config read, {KEEPS_PATHS}")
    for shared in (table.find("interface-routes", "rib-group"), table.find("static", "rib-group")):
        if shared is not None:
            yield shared, (f"{_path(shared)} copies routes into other routing tables, {KEEPS_PATHS}")
    defaults = table.find("static", "defaults", "no-install")
    if defaults is not None:
        yield defaults, (f"static routes{where} default to no-install: read as routes but kept out of the forwarding "
                         f"table, {KEEPS_PATHS}")
    yield from _forwarding_table_export(table, where, policies)
    routes = table.find("static", "route")
    for route in routes.kids() if routes else []:
        no_install = route.child("no-install")
        if no_install is not None:
            yield no_install, (f"static route {route.word}{where} is no-install: read as a route but kept out of the "
                               f"forwarding table, {KEEPS_PATHS}")
        hops = route.child("qualified-next-hop")
        for holder in [route, *(hops.kids() if hops else [])]:
            bfd = holder.child("bfd-liveness-detection")
            if bfd is not None:
                yield bfd, (f"static route {route.word}{where} is withdrawn when BFD stops answering: packets then "
                            f"take another route, {KEEPS_PATHS}")


def _forwarding_table_export(table: ConfigNode, where: str, policies: ConfigNode | None
                             ) -> Iterator[tuple[ConfigNode, str]]:
    """``forwarding-table export`` policies: load balancing is harmless, any other action may keep routes out of
    the forwarding table or change their next hop."""
    export = table.find("forwarding-table", "export")
    for name in export.kids() if export else []:
        policy = policies.child(name.word) if policies else None
        pending = [policy] if policy is not None else []
        actions = set()
        while pending:
            node = pending.pop()
            actions |= {a.word for a in node.kids()} if node.word == "then" else set()
            pending.extend(node.kids())
        if policy is None or actions - QUIET_EXPORT_ACTIONS:
            yield name, (f"forwarding-table export {name.word}{where} "
                         + (f"does {', '.join(sorted(actions - QUIET_EXPORT_ACTIONS))}" if policy else "is not defined")
                         + f": routes may be kept out of the forwarding table or change next hop, {KEEPS_PATHS}")


def _interfaces(root: ConfigNode) -> Iterator[tuple[ConfigNode, str]]:
    zoned = set()
    zones = root.find("security", "zones", "security-zone")
    for zone in zones.kids() if zones else []:
        members = zone.child("interfaces")
        zoned |= {m.word if "." in m.word else f"{m.word}.0" for m in (members.kids() if members else [])}
    physical = root.child("interfaces")
    for ifd in physical.kids() if physical else []:
        ranges = ifd.kids() if ifd.word == "interface-range" else []
        for device in ranges or [ifd]:
            units = device.child("unit")
            for unit in units.kids() if units else []:
                name = f"{device.word}.{unit.word}" if not ranges else f"interface-range {device.word} unit {unit.word}"
                yield from _unit(device, unit, name, name in zoned)


def _unit(device: ConfigNode, unit: ConfigNode, name: str, zoned: bool) -> Iterator[tuple[ConfigNode, str]]:
    family = unit.child("family")
    for kind in family.kids() if family else []:
        if kind.word in LAYER2_FAMILIES or (kind.word == "ethernet-switching" and zoned):
            yield kind, (f"interface {name} is a layer-2 port (family {kind.word}): traffic is bridged between "
                         f"zones without a route lookup, {KEEPS_PATHS}")
        for option in kind.kids() if kind.word in ("inet", "inet6") else []:
            if option.word in RUNTIME_ADDRESS:
                yield option, (f"interface {name} {RUNTIME_ADDRESS[option.word]}: its connected network is not in "
                               f"the config, {KEEPS_PATHS}")
    addressed = any(unit.find("family", f, "address") for f in ("inet", "inet6"))
    disabled = next((n for n in (device.child("disable"), unit.child("disable")) if n is not None), None)
    if addressed and disabled is not None:
        yield disabled, (f"interface {name} is disabled: its address is in the config but its network is not in "
                         f"the routing table, {KEEPS_PATHS}")


def _forwarding_actions(root: ConfigNode) -> Iterator[tuple[ConfigNode, str]]:
    """Filter-based forwarding and advanced policy-based routing terms, and IP monitoring policies."""
    pending = [n for n in (root.child("firewall"), root.find("security", "advance-policy-based-routing"))
               if n is not None]
    while pending:
        node = pending.pop()
        for action in node.kids() if node.word == "then" else []:
            if action.word in FORWARDING_ACTIONS:
                yield action, (f"{_path(action)} {' '.join(action.words())}: packets this matches are forwarded "
                               f"by it, not by the routing table, {KEEPS_PATHS}")
        pending.extend(node.kids())
    monitoring = root.find("services", "ip-monitoring", "policy")
    for policy in monitoring.kids() if monitoring else []:
        yield policy, (f"services ip-monitoring policy {policy.word}: when its probe fails it installs a preferred "
                       f"route or switches an interface at run time, {KEEPS_PATHS}")


def _run_time_routes(root: ConfigNode) -> Iterator[tuple[ConfigNode, str]]:
    """VPN routes added when tunnels or clients come up."""
    vpns = root.find("security", "ipsec", "vpn")
    for vpn in vpns.kids() if vpns else []:
        selector = vpn.child("traffic-selector")
        if selector is not None:
            yield selector, (f"IPsec VPN {vpn.word} has traffic selectors: auto route insertion adds routes to "
                             f"their remote networks at run time, {KEEPS_PATHS}")
    for service in ("remote-access", "dynamic-vpn"):
        node = root.find("security", service)
        if node is not None:
            yield node, (f"security {service}: routes to the addresses assigned to VPN clients are added at run "
                         f"time, {KEEPS_PATHS}")


def _unread(root: ConfigNode) -> Iterator[tuple[ConfigNode, str]]:
    """Parts of the config the interface and route readers never look at."""
    for partition in ("logical-systems", "tenants"):
        node = root.child(partition)
        if node is not None:
            yield node, (f"{partition}: their interfaces, routes and routing protocols are not read, {KEEPS_PATHS}")
    groups = root.child("groups")
    inherited = {g.word: _routing_content(g) for g in (groups.kids() if groups else [])}
    if not any(inherited.values()):
        return
    pending = [n for n in root.kids() if n.word != "groups"]
    while pending:
        node = pending.pop()
        if node.word == "apply-groups":
            where = _path(node.parent) if node.parent else ""
            for applied in node.kids():
                name = applied.word
                hits = [h for g, content in inherited.items() if g == name or "$" in name
                        for h in content if not where or where.split()[0] == h.split()[0]]
                if hits:
                    yield applied, (f"apply-groups {name}{' under ' + where if where else ''} inherits "
                                    f"{', '.join(dict.fromkeys(hits))} statements, which are not expanded: "
                                    f"interfaces, routes or routing protocols may be missing, {KEEPS_PATHS}")
            continue
        pending.extend(node.kids())


def _routing_content(group: ConfigNode) -> list[str]:
    """The routing-relevant hierarchies a group sets: management-only ``interfaces`` and zone options (screens,
    host-inbound traffic) without interface members aside."""
    content = [" ".join(path) for path in GROUP_HIERARCHIES if group.find(*path) is not None]
    interfaces = group.child("interfaces")
    if interfaces and all(i.word.startswith(MANAGEMENT_INTERFACE_PREFIXES) for i in interfaces.kids()):
        content.remove("interfaces")
    zones = group.find("security", "zones", "security-zone")
    if "security zones" in content and not any(z.child("interfaces") for z in (zones.kids() if zones else [])):
        content.remove("security zones")
    return content
