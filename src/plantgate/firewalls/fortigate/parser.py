"""FortiGate (FortiOS) configurations -> one Ruleset per VDOM.

FortiOS is zone-based: a policy names source and destination interfaces or zones and is
evaluated top-down in the order the policies appear in the config (not by id), ending in an
implicit deny. Each VDOM is a firewall of its own, with its own zones, objects and policies,
while interfaces are declared globally and assigned to a VDOM.

Mapping onto the Ruleset model (see ``ruleset.py`` and the zone-based brief):
- zones are the ``system zone`` names, SD-WAN zones, and every interface of the VDOM that is
  not a zone member (policies may use those directly); interfaces a policy names that the
  config does not define are added as zones with a warning;
- the filter ``policy`` holds ``firewall policy`` (and ``policy6``) in config order, default
  deny; every ordered zone pair (A, B), A == B included, has the path ``("policy",)``; a zone
  with ``intrazone allow`` gets ``("intrazone-allow",)`` for (Z, Z), a rule-less filter whose
  default is permit (FortiOS passes such traffic without a policy);
- ``firewall local-in-policy`` becomes the filter ``local-in`` on paths (Z, "self"); its
  default is permit, because traffic that no local-in policy matches is decided by the
  interface ``allowaccess`` settings, which are not modelled (a warning says so);
- VIPs, policy NAT, IP pools and central SNAT become ``nat_rules`` (``fortigate.nat``); a
  policy whose dstaddr is a VIP matches the VIP's mapped addresses, as the device does after
  the VIP's destination NAT;
- interface addresses and static routes come from ``fortigate.routes``, and what makes them an
  incomplete account of forwarding (dynamic routing, policy routes, ...) from ``fortigate.gaps``.

Choosing a VDOM: ``PARSER`` (``FortiGateParser()``) parses a single-VDOM config and raises
InputError listing the VDOM names for a multi-VDOM one; ``FortiGateParser(vdom="NAME")``
parses that VDOM; ``parse_vdoms(text, file)`` returns every VDOM's Ruleset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from plantgate.errors import InputError
from plantgate.firewalls.fortigate.detect import confidence
from plantgate.firewalls.fortigate.gaps import routing_gaps
from plantgate.firewalls.fortigate.nat import NatContext, host_network, read_nat
from plantgate.firewalls.fortigate.objects import ObjectBook, parse_subnet
from plantgate.firewalls.fortigate.policy import PolicyContext, policy_rule
from plantgate.firewalls.fortigate.routes import interface_entries, static_routes, vdom_interfaces
from plantgate.firewalls.fortigate.syntax import ConfigTree, Table, read_tree
from plantgate.firewalls.gc_pause import with_collector_paused
from plantgate.firewalls.routes import RoutingGap
from plantgate.firewalls.ruleset import (
    Action,
    Filter,
    IPNetwork,
    ParseWarning,
    Rule,
    Ruleset,
    SourceSpan,
)

VENDOR = "fortigate"
SELF_ZONE = "self"
POLICY_FILTER = "policy"
LOCAL_IN_FILTER = "local-in"
INTRAZONE_FILTER = "intrazone-allow"
POLICY_TABLES = (("firewall policy", "policy", None), ("firewall policy6", "policy6", 6))
LOCAL_IN_TABLES = (("firewall local-in-policy", "local-in", None), ("firewall local-in-policy6", "local-in6", 6))
UNMODELLED_PERMITTING_TABLES = (
    "firewall proxy-policy", "firewall explicit-proxy-policy", "firewall multicast-policy",
    "firewall multicast-policy6", "firewall security-policy", "firewall consolidated policy",
    "firewall policy46", "firewall policy64",
)


@dataclass
class _Interfaces:
    """The VDOM's interfaces and zones and how interface names map to policy zones."""

    zones: list[str] = field(default_factory=list)
    member_of: dict[str, str] = field(default_factory=dict)
    intrazone_allow: list[str] = field(default_factory=list)
    subnets: dict[str, IPNetwork] = field(default_factory=dict)
    addresses: dict[str, IPNetwork] = field(default_factory=dict)
    """Each interface's own address, as a host network (source NAT to the egress interface)."""


def _interfaces(tree: ConfigTree, vdom: str, scoped: dict[str, Table], global_tables: dict[str, Table],
                multi: bool, file: str) -> _Interfaces:
    out = _Interfaces()
    names: list[str] = []
    for name, _, attrs in interface_entries(vdom, scoped, global_tables, multi):
        names.append(name)
        if "ip" in attrs and attrs["ip"].values:
            net = parse_subnet(attrs["ip"], 4, file)
            if net.prefixlen:
                out.subnets[name] = net
            own = host_network(attrs["ip"])
            if own is not None:
                out.addresses[name] = own
    phase1 = scoped.get("vpn ipsec phase1-interface")
    names += list(phase1.entries) if phase1 else []
    zone_table = scoped.get("system zone")
    for zone, entry in zone_table.entries.items() if zone_table else ():
        attrs = entry.attributes()
        out.zones.append(zone)
        for member in attrs["interface"].values if "interface" in attrs else ():
            out.member_of[member] = zone
        if "intrazone" in attrs and attrs["intrazone"].first == "allow":
            out.intrazone_allow.append(zone)
    _sdwan_zones(scoped, out)
    for name in names:
        if name not in out.member_of and name not in out.zones:
            out.zones.append(name)
    return out


def _sdwan_zones(scoped: dict[str, Table], out: _Interfaces) -> None:
    """SD-WAN (7.x ``system sdwan`` zones, 6.x ``virtual-wan-link``): members act as their zone."""
    for path, default_zone in (("system sdwan", "virtual-wan-link"), ("system virtual-wan-link", "virtual-wan-link")):
        table = scoped.get(path)
        if table is None or table.attributes().get("status", None) is None:
            continue
        if table.attributes()["status"].first != "enable":
            continue
        zones = table.tables.get("zone")
        declared = list(zones.entries) if zones else [default_zone]
        for zone in declared:
            if zone not in out.zones:
                out.zones.append(zone)
        members = table.tables.get("members")
        for entry in members.entries.values() if members else ():
            attrs = entry.attributes()
            if "interface" in attrs:
                out.member_of[attrs["interface"].first] = attrs["zone"].first if "zone" in attrs else default_zone
                if out.member_of[attrs["interface"].first] not in out.zones:
                    out.zones.append(out.member_of[attrs["interface"].first])


def _build(tree: ConfigTree, vdom: str, scoped: dict[str, Table], global_tables: dict[str, Table],
           multi: bool, file: str) -> Ruleset:
    system_global = global_tables.get("system global")
    hostname_setting = system_global.attributes().get("hostname") if system_global else None
    base = hostname_setting.first if hostname_setting else Path(file).name
    ruleset = Ruleset(name=f"{base}/{vdom}" if multi else base, vendor=VENDOR, file=file)
    ruleset.warnings.extend(w for w in tree.warnings)
    interfaces = _interfaces(tree, vdom, scoped, global_tables, multi, file)
    book = ObjectBook(tree, scoped, ruleset, interfaces.subnets)
    warned: set[str] = set()

    def resolve_interface(name: str, line: int) -> tuple[str, bool]:
        if name in interfaces.zones:
            return name, False
        if name in interfaces.member_of:
            zone = interfaces.member_of[name]
            ruleset.warnings.append(ParseWarning(
                file, line, f"interface {name!r} is a member of zone {zone!r}; the policy applies to the zone",
                tree.text(line, line), True))
            return zone, True
        interfaces.zones.append(name)
        if name not in warned and not name.startswith("ssl."):
            warned.add(name)
            ruleset.warnings.append(ParseWarning(
                file, line, f"interface {name!r} is not defined in this config; treated as an interface of its own",
                tree.text(line, line)))
        return name, False

    ctx = PolicyContext(tree, book, resolve_interface)
    policy = _filter(POLICY_FILTER, POLICY_TABLES, scoped, ctx, file, tree)
    local_in = _filter(LOCAL_IN_FILTER, LOCAL_IN_TABLES, scoped, ctx, file, tree)
    ruleset.warnings.extend(ctx.warnings)
    ruleset.filters[POLICY_FILTER] = policy
    members: dict[str, list[str]] = {}
    for interface, zone in interfaces.member_of.items():
        members.setdefault(zone, []).append(interface)
    entries = [e for path, _, _ in POLICY_TABLES if path in scoped for e in scoped[path].entries.values()]
    read_nat(NatContext(tree, scoped, book, ruleset, resolve_interface, interfaces.addresses, members),
             list(zip(entries, policy.rules, strict=True)))
    zones = list(interfaces.zones)
    for a in zones:
        for b in zones:
            same_allowed = a == b and a in interfaces.intrazone_allow
            ruleset.paths[(a, b)] = (INTRAZONE_FILTER,) if same_allowed else (POLICY_FILTER,)
    if interfaces.intrazone_allow:
        ruleset.filters[INTRAZONE_FILTER] = Filter(
            INTRAZONE_FILTER, [], Action.PERMIT,
            description="zones with 'intrazone allow' pass traffic between their members without a policy",
        )
    if local_in.rules:
        local_in.default_action = Action.PERMIT
        local_in.description = "unmatched traffic to the firewall is decided by interface allowaccess (not modelled)"
        ruleset.filters[LOCAL_IN_FILTER] = local_in
        for zone in zones:
            ruleset.paths[(zone, SELF_ZONE)] = (LOCAL_IN_FILTER,)
        zones.append(SELF_ZONE)
        first = scoped.get(LOCAL_IN_TABLES[0][0]) or scoped[LOCAL_IN_TABLES[1][0]]
        ruleset.warnings.append(ParseWarning(
            file, first.line, "traffic to the firewall that no local-in policy matches is decided by interface "
            "allowaccess, which is not modelled: treated as permitted", tree.text(first.line, first.line), True))
    ruleset.zones = zones
    unread: list[RoutingGap] = []
    ruleset.interfaces = vdom_interfaces(tree, file, vdom, scoped, global_tables, multi, interfaces.member_of,
                                         ruleset.warnings, unread)
    ruleset.routes = static_routes(tree, scoped, file, ruleset.warnings, unread)
    addressed = {interface.name for interface in ruleset.interfaces}
    ruleset.routing_gaps = sorted(unread + routing_gaps(tree, file, vdom, scoped, global_tables, multi, addressed),
                                  key=lambda gap: gap.span.line)
    book.resolve_all()
    _table_warnings(scoped, ruleset, tree)
    ruleset.warnings.sort(key=lambda w: w.line)
    return ruleset


def _filter(name: str, tables: tuple[tuple[str, str, int | None], ...], scoped: dict[str, Table],
            ctx: PolicyContext, file: str, tree: ConfigTree) -> Filter:
    rules: list[Rule] = []
    span: SourceSpan | None = None
    for path, kind, family in tables:
        table = scoped.get(path)
        if table is None:
            continue
        if span is None:
            span = SourceSpan(file, table.line, table.end_line, tree.text(table.line, table.line))
        for entry in table.entries.values():
            rules.append(policy_rule(entry, len(rules) + 1, kind, ctx, family))
    return Filter(name, rules, Action.DENY, span, "FortiOS policies in config order; implicit deny")


def _table_warnings(scoped: dict[str, Table], ruleset: Ruleset, tree: ConfigTree) -> None:
    for path in UNMODELLED_PERMITTING_TABLES:
        table = scoped.get(path)
        if table is not None and table.entries:
            ruleset.warnings.append(ParseWarning(
                ruleset.file, table.line, f"'config {path}' is not modelled; it may permit more traffic",
                tree.text(table.line, table.line), True))


def _scopes(tree: ConfigTree) -> tuple[dict[str, dict[str, Table]], dict[str, Table], bool]:
    """Per-VDOM tables, the global tables, and whether the config is multi-VDOM."""
    vdoms = tree.tables.get("vdom")
    if vdoms is None:
        return {"root": tree.tables}, tree.tables, False
    global_tables = dict(tree.tables["global"].tables) if "global" in tree.tables else {}
    for path, table in tree.tables.items():
        if path not in ("vdom", "global"):
            global_tables.setdefault(path, table)
    return {name: entry.tables for name, entry in vdoms.entries.items()}, global_tables, True


def _vdom_entry_line(tree: ConfigTree) -> int:
    vdoms = tree.tables.get("vdom")
    return vdoms.line if vdoms else 1


@with_collector_paused
def parse_vdoms(text: str, file: str) -> dict[str, Ruleset]:
    """Every VDOM of the config, by name; a single-VDOM config gives {"root": ...}."""
    tree = read_tree(text, file)
    scopes, global_tables, multi = _scopes(tree)
    return {name: _build(tree, name, scoped, global_tables, multi, file) for name, scoped in scopes.items()}


class FortiGateParser:
    """FortiOS parser; ``vdom`` picks one VDOM of a multi-VDOM config (None: the only one)."""

    vendor = VENDOR

    def __init__(self, vdom: str | None = None) -> None:
        self.vdom = vdom

    def detect(self, text: str) -> float:
        return confidence(text)

    @with_collector_paused
    def parse(self, text: str, file: str) -> Ruleset:
        tree = read_tree(text, file)
        scopes, global_tables, multi = _scopes(tree)
        names = sorted(scopes)
        if self.vdom is None:
            if len(scopes) != 1:
                raise InputError.at(
                    file, _vdom_entry_line(tree), 1, f"config has {len(scopes)} VDOMs ({', '.join(names)})",
                    "a VDOM chosen with FortiGateParser(vdom=NAME)",
                )
            chosen = names[0]
        elif self.vdom in scopes:
            chosen = self.vdom
        else:
            raise InputError.at(file, _vdom_entry_line(tree), 1, f"no VDOM named {self.vdom!r}", ", ".join(names))
        return _build(tree, chosen, scopes[chosen], global_tables, multi, file)


PARSER = FortiGateParser()

__all__ = ["PARSER", "FortiGateParser", "parse_vdoms"]
