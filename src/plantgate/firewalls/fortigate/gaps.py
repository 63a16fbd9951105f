"""FortiOS statements that make a VDOM's connected networks and static routes an incomplete account of
where it forwards a packet (``Ruleset.routing_gaps``, see ``firewalls.routes``).

Syntax and defaults, from the FortiOS CLI reference and administration guide:
- dynamic routing: ``config router ospf|ospf6|bgp|rip|ripng|isis``. Backups print each of these blocks
  even when unused: empty ``config redistribute "..."`` tables, and ``show full-configuration`` adds the
  defaults, among them ``set router-id 0.0.0.0`` (OSPF) and ``set as 0`` (BGP). So a block is in use
  only when its identity (router-id, AS) is set or one of its tables (area, network, interface,
  neighbor, ...) holds an entry; ``config router multicast`` only with ``set multicast-routing enable``;
- policy routing: ``config router policy|policy6`` entries (except ``status disable`` and ``action deny``,
  which only stops the policy-route search), SD-WAN (``config system sdwan``, 6.x ``virtual-wan-link``,
  with ``set status enable``) and its rules (``config service``), ``config router auth-path``;
- layer 2: ``set opmode transparent`` (``config system settings``), ``config system virtual-wire-pair``,
  software switches (``config system switch-interface``);
- learned at run time: interface ``set mode dhcp|pppoe``, IPv6 ``set ip6-mode dhcp|pppoe|delegated`` and
  ``set autoconf enable`` (not on an interface that is ``set status down``: it learns nothing), dial-up
  IPsec (``set type dynamic`` with ``add-route``, on by default), ``add-gw-route enable``, ADVPN shortcuts
  (``auto-discovery-receiver enable``), SSL VPN tunnel mode (listening once ``source-interface`` is set),
  L2TP and PPTP, link monitors that withdraw static routes (``update-static-route``, on by default), the modem;
- interfaces whose connected network is not in the VDOM's routing table: ``set status down`` with an
  address, ``set dedicated-to management``, ``config system dedicated-mgmt`` and the HA reserved management
  interfaces (each has a routing table of its own).
Addresses and routes the reader left out with a warning are gaps too (``routes.unread_gap``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from plantgate.firewalls.fortigate.routes import interface_entries
from plantgate.firewalls.fortigate.syntax import ConfigTree, Entry, Setting, Table
from plantgate.firewalls.routes import KEEPS_PATHS, RoutingGap
from plantgate.firewalls.ruleset import SourceSpan

DYNAMIC_PROTOCOLS = (
    ("router ospf", "OSPF", "router-id", "0.0.0.0"),
    ("router ospf6", "OSPFv3", "router-id", "0.0.0.0"),
    ("router bgp", "BGP", "as", "0"),
    ("router rip", "RIP", "", ""),
    ("router ripng", "RIPng", "", ""),
    ("router isis", "IS-IS", "", ""),
)
"""(table, protocol, identity setting, its unset value): an identity setting of a backup's unused block
holds the unset value; a protocol without one is in use only through entries in its tables."""
LEARNED = "addresses and routes learned at run time are not in the config"
ADDRESS_MODES = {"dhcp": "DHCP", "pppoe": "PPPoE"}
IPV6_MODES = {"dhcp": "DHCPv6", "pppoe": "PPPoE", "delegated": "a prefix delegated upstream"}
OWN_TABLE = "a routing table separate from the one through traffic uses"
GLOBAL_SWITCHES = (
    ("system dedicated-mgmt", f"the dedicated management interface has {OWN_TABLE}"),
    ("system modem", f"the modem dials out and takes its address and routes at run time: {LEARNED}"),
    ("system lte-modem", f"the LTE modem takes its address and routes at run time: {LEARNED}"),
)
"""Global features that widen every VDOM's routing (``set status enable``)."""


@dataclass
class _Scope:
    """One VDOM's tables and the gaps found in them."""

    tree: ConfigTree
    file: str
    vdom: str
    scoped: dict[str, Table]
    global_tables: dict[str, Table]
    multi: bool
    gaps: list[RoutingGap] = field(default_factory=list)

    def at(self, line: int, end_line: int, reason: str) -> None:
        span = SourceSpan(self.file, line, end_line, self.tree.text(line, end_line))
        self.gaps.append(RoutingGap(span, f"{reason}, {KEEPS_PATHS}"))

    def setting(self, setting: Setting, reason: str) -> None:
        self.at(setting.line, setting.line, reason)

    def entry(self, entry: Entry, reason: str) -> None:
        self.at(entry.line, entry.end_line, reason)

    def entries(self, path: str) -> Iterable[tuple[Entry, dict[str, Setting]]]:
        table = self.scoped.get(path)
        return ((entry, entry.attributes()) for entry in (table.entries.values() if table else ()))


def routing_gaps(tree: ConfigTree, file: str, vdom: str, scoped: dict[str, Table], global_tables: dict[str, Table],
                 multi: bool, addressed: set[str]) -> list[RoutingGap]:
    """The VDOM's gaps in config order; ``addressed`` names the interfaces the reader gave a connected network."""
    scope = _Scope(tree, file, vdom, scoped, global_tables, multi)
    _dynamic_routing(scope)
    _policy_routing(scope)
    _layer2(scope)
    _interfaces(scope, addressed)
    _vpn(scope)
    _system(scope)
    return sorted(scope.gaps, key=lambda gap: gap.span.line)


def _is(attrs: dict[str, Setting], key: str, value: str) -> bool:
    return key in attrs and attrs[key].first == value


def _dynamic_routing(scope: _Scope) -> None:
    for path, protocol, identity, unset in DYNAMIC_PROTOCOLS:
        table = scope.scoped.get(path)
        if table is None:
            continue
        attrs = table.attributes()
        named = identity in attrs and attrs[identity].first not in ("", unset)
        if named or any(sub.entries for sub in table.tables.values()):
            scope.at(table.line, table.line, f"{protocol} is configured: routes learned at run time are not in "
                                             "the config")
    multicast = scope.scoped.get("router multicast")
    attrs = multicast.attributes() if multicast else {}
    if _is(attrs, "multicast-routing", "enable"):
        scope.setting(attrs["multicast-routing"], "multicast routing (PIM) is enabled: multicast follows trees "
                                                  "built at run time")


def _policy_routing(scope: _Scope) -> None:
    for path in ("router policy", "router policy6"):
        for entry, attrs in scope.entries(path):
            if not _is(attrs, "status", "disable") and not _is(attrs, "action", "deny"):
                scope.entry(entry, f"policy route {entry.name} ({path}) forwards matching traffic to its own gateway "
                                   "or interface regardless of the routing table")
    for path in ("system sdwan", "system virtual-wan-link"):
        table = scope.scoped.get(path)
        attrs = table.attributes() if table else {}
        if table is None or not _is(attrs, "status", "enable"):
            continue
        scope.setting(attrs["status"], "SD-WAN is enabled: it chooses among its member interfaces at run time, "
                                       "by health checks and load balancing")
        rules = table.tables.get("service")
        for rule in rules.entries.values() if rules else ():
            if not _is(rule.attributes(), "status", "disable"):
                scope.entry(rule, f"SD-WAN rule {rule.name} steers matching traffic to the member it picks at run "
                                  "time, regardless of the routing table")
    for entry, _ in scope.entries("router auth-path"):
        scope.entry(entry, f"authentication-based route {entry.name} routes an authenticated user's traffic to its "
                           "own gateway")


def _layer2(scope: _Scope) -> None:
    system = scope.scoped.get("system settings")
    attrs = system.attributes() if system else {}
    if _is(attrs, "opmode", "transparent"):
        scope.setting(attrs["opmode"], "the VDOM is in transparent mode: it bridges traffic without a route lookup")
    for entry, attrs in scope.entries("system virtual-wire-pair"):
        members = " ".join(attrs["member"].values) if "member" in attrs else ""
        scope.entry(entry, f"virtual wire pair {entry.name} ({members}) passes traffic between its two ports "
                           "without a route lookup")
    switches = interface_entries(scope.vdom, scope.scoped, scope.global_tables, scope.multi, "system switch-interface")
    for name, entry, _ in switches:
        scope.entry(entry, f"software switch {name} bridges its member ports without a route lookup")


def _interfaces(scope: _Scope, addressed: set[str]) -> None:
    for name, entry, attrs in interface_entries(scope.vdom, scope.scoped, scope.global_tables, scope.multi):
        if _is(attrs, "status", "down"):
            if name in addressed:
                scope.setting(attrs["status"], f"interface {name} is down: its connected network is not in the "
                                               "routing table while it is down and traffic to it follows other routes")
            continue
        if "mode" in attrs and attrs["mode"].first in ADDRESS_MODES:
            scope.setting(attrs["mode"], f"interface {name} takes its address and routes from "
                                         f"{ADDRESS_MODES[attrs['mode'].first]}: {LEARNED}")
        ipv6 = entry.tables["ipv6"].attributes() if "ipv6" in entry.tables else {}
        if "ip6-mode" in ipv6 and ipv6["ip6-mode"].first in IPV6_MODES:
            scope.setting(ipv6["ip6-mode"], f"interface {name} takes its IPv6 address from "
                                            f"{IPV6_MODES[ipv6['ip6-mode'].first]}: {LEARNED}")
        if _is(ipv6, "autoconf", "enable"):
            scope.setting(ipv6["autoconf"], f"interface {name} configures its IPv6 address from router "
                                            f"advertisements (autoconf): {LEARNED}")
        if _is(attrs, "dedicated-to", "management") and name in addressed:
            scope.setting(attrs["dedicated-to"], f"interface {name} is dedicated to management: its network is in "
                                                 f"{OWN_TABLE}")


def _vpn(scope: _Scope) -> None:
    for path in ("vpn ipsec phase1-interface", "vpn ipsec phase1"):
        for entry, attrs in scope.entries(path):
            if _is(attrs, "type", "dynamic") and not _is(attrs, "add-route", "disable"):
                scope.setting(attrs["type"], f"dial-up IPsec {entry.name} adds routes to its peers' networks "
                                             f"(add-route) as they connect: {LEARNED}")
            if _is(attrs, "add-gw-route", "enable"):
                scope.setting(attrs["add-gw-route"], f"IPsec {entry.name} adds a route to its remote gateway at "
                                                     f"run time (add-gw-route): {LEARNED}")
            if _is(attrs, "auto-discovery-receiver", "enable"):
                scope.setting(attrs["auto-discovery-receiver"], f"IPsec {entry.name} takes ADVPN shortcut tunnels "
                                                                f"built at run time: {LEARNED}")
    ssl = scope.scoped.get("vpn ssl settings")
    attrs = ssl.attributes() if ssl else {}
    if "source-interface" in attrs and any(attrs["source-interface"].values) and not _is(attrs, "status", "disable"):
        scope.setting(attrs["source-interface"], "SSL VPN is listening: tunnel-mode clients get addresses from its "
                                                 "pools and routes through ssl.root at run time")
    for path, name in (("vpn l2tp", "L2TP"), ("vpn pptp", "PPTP")):
        table = scope.scoped.get(path)
        attrs = table.attributes() if table else {}
        if _is(attrs, "status", "enable"):
            scope.setting(attrs["status"], f"{name} VPN is enabled: clients get addresses and routes at run time")


def _system(scope: _Scope) -> None:
    for entry, attrs in scope.entries("system link-monitor"):
        if not _is(attrs, "status", "disable") and not _is(attrs, "update-static-route", "disable"):
            scope.entry(entry, f"link monitor {entry.name} withdraws the static routes through its gateway when its "
                               "probes fail and backup routes take over (the route in use is decided at run time)")
    for path, reason in GLOBAL_SWITCHES:
        table = scope.global_tables.get(path)
        attrs = table.attributes() if table else {}
        if _is(attrs, "status", "enable"):
            scope.setting(attrs["status"], f"'config {path}' is enabled: {reason}")
    _ha_management(scope)


def _ha_management(scope: _Scope) -> None:
    """HA reserved management interfaces (6.0 ``ha-mgmt-interface``, later ``config ha-mgmt-interfaces``),
    reported in the VDOM that owns one (in every VDOM when none is named)."""
    ha = scope.global_tables.get("system ha")
    attrs = ha.attributes() if ha else {}
    if ha is None or not _is(attrs, "ha-mgmt-status", "enable"):
        return
    reserved = set(attrs["ha-mgmt-interface"].values) if "ha-mgmt-interface" in attrs else set()
    table = ha.tables.get("ha-mgmt-interfaces")
    for entry in table.entries.values() if table else ():
        member = entry.attributes().get("interface")
        reserved |= set(member.values) if member else set()
    own = {name for name, _, _ in interface_entries(scope.vdom, scope.scoped, scope.global_tables, scope.multi)}
    if not reserved or reserved & own:
        scope.setting(attrs["ha-mgmt-status"], f"HA reserved management interfaces ({' '.join(sorted(reserved))}) "
                                               f"have {OWN_TABLE}")
