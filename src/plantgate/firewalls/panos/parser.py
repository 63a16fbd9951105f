"""Palo Alto PAN-OS (firewall and Panorama) -> Ruleset, from XML, ``set`` or brace-style config.

The front ends (``panos_xml``, ``panos_set``) build one config tree; this module reads
the security policy of ONE vsys or Panorama device group out of it.

How PAN-OS maps onto the Ruleset model (see the zone-based design note):
- ``zones`` are the vsys zones (for a device group, the zones of every template), plus
  zones a rule names without defining them (with a warning);
- rule order is shared pre-rules, device-group pre-rules (ancestors first), the local
  rulebase, device-group post-rules (nearest first), shared post-rules;
- PAN-OS decides intrazone traffic (A -> A) and interzone traffic (A -> B) with
  different implicit defaults (``intrazone-default`` allow, ``interzone-default`` deny,
  both overridable) and rules of ``rule-type`` intrazone/interzone only match one kind.
  Filter paths are an AND of filters, so a trailing "default" filter cannot express
  this. Instead there are two first-match filters over the same ordered rules:
  ``security-rules/intrazone`` (universal + intrazone rules, default = intrazone-default)
  for every pair (A, A), and ``security-rules/interzone`` (universal + interzone rules,
  default = interzone-default) for every pair (A, B), A != B. Each is exact.
- the NAT rulebase becomes one BEFORE_FILTER table of ``nat_rules`` (``panos.nat``) and
  ``policy_sees = "original"``: the security rules match pre-NAT addresses, post-NAT zone;
- interface addresses and virtual-router static routes come from ``panos.routes``, the statements
  that make them an incomplete account of routing (``routing_gaps``) from ``panos.gaps``; an address
  or route left out with a warning is a gap too;
- whatever cannot be decided from the config (FQDN and dynamic addresses, external
  lists, users, URL categories, unknown applications under ``application-default``)
  widens a permit rule toward "any" and marks a deny rule uncertain, with a warning.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field

from plantgate.errors import InputError
from plantgate.firewalls.base import require_understood
from plantgate.firewalls.gc_pause import with_collector_paused
from plantgate.firewalls.interning import network
from plantgate.firewalls.limits import MAX_NESTING, NESTING_EXPECTED, is_decimal
from plantgate.firewalls.panos.apps import (
    APP_DEFAULT_SERVICES,
    PREDEFINED_SERVICES,
    custom_app_default_services,
)
from plantgate.firewalls.panos.detect import BRACE_START, confidence
from plantgate.firewalls.panos.gaps import routing_gaps
from plantgate.firewalls.panos.nat import NatReader, Resolution, nat_rules
from plantgate.firewalls.panos.routes import interfaces, static_routes
from plantgate.firewalls.panos.set_syntax import parse_brace_tree, parse_set_tree
from plantgate.firewalls.panos.xml_syntax import PanNode, parse_xml_tree
from plantgate.firewalls.routes import KEEPS_PATHS, Interface, RoutingGap
from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_SERVICE,
    SCTP,
    TCP,
    UDP,
    Action,
    AddressSet,
    Filter,
    IPNetwork,
    NamedObject,
    ParseWarning,
    PortRange,
    Rule,
    Ruleset,
    Service,
    SourceSpan,
    address_range,
)

INTRAZONE_FILTER = "security-rules/intrazone"
INTERZONE_FILTER = "security-rules/interzone"

ACTIONS = {
    "allow": Action.PERMIT, "deny": Action.DENY, "drop": Action.DROP,
    "reset-client": Action.REJECT, "reset-server": Action.REJECT, "reset-both": Action.REJECT,
}
SERVICE_PROTOCOLS = {"tcp": TCP, "udp": UDP, "sctp": SCTP}
#: Rule children that never change which packets a rule matches.
RULE_COSMETIC = frozenset({
    "description", "tag", "group-tag", "log-setting", "log-start", "log-end", "profile-setting",
    "option", "uuid", "disabled", "rule-type", "qos", "icmp-unreachable", "hip-profiles",
})
RULE_OUTSIDE_PACKET = ("source-user", "category", "source-hip", "destination-hip")
#: Every rule child the reader understands; any other is an unknown setting.
RULE_KNOWN = RULE_COSMETIC | set(RULE_OUTSIDE_PACKET) | {
    "from", "to", "source", "destination", "negate-source", "negate-destination", "service",
    "application", "action", "schedule", "target"}
#: Predefined external dynamic lists of addresses (contents fetched at run time).
PREDEFINED_EDLS = frozenset({
    "panw-highrisk-ip-list", "panw-known-ip-list", "panw-bulletproof-ip-list", "panw-torexit-ip-list",
})


@dataclass
class _Resolved:
    """What a list of names resolves to; ``problems`` are reasons the result is not exact."""

    nets: list[IPNetwork] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def copy(self) -> _Resolved:
        """An independent copy (resolved names are cached and shared: only ``add`` may read them)."""
        return _Resolved(list(self.nets), list(self.services), list(self.refs), list(self.problems))

    def add(self, other: _Resolved) -> None:
        self.nets += other.nets
        self.services += other.services
        self.refs += [r for r in other.refs if r not in self.refs]
        self.problems += other.problems


@dataclass
class _Target:
    """The part of the tree one Ruleset is read from."""

    label: str
    scopes: list[PanNode]  # object lookup order, innermost first
    rulebases: list[PanNode]  # nodes holding security/nat rules, in evaluation order
    default_holders: list[PanNode | None]  # nodes holding default-security-rules, strongest first
    zone_holders: list[PanNode]


def _read_tree(text: str, file: str) -> tuple[PanNode, list[tuple[int, str, str]]]:
    if text.lstrip().startswith("<"):
        return parse_xml_tree(text, file), []
    if BRACE_START.search(text):
        return parse_brace_tree(text, file), []
    return parse_set_tree(text, file)


def _node_line(node: PanNode) -> int:
    return node.span_lines()[0]


class _Reader:
    """Reads one target's objects and rules; collects warnings and object references."""

    def __init__(self, target: _Target, file: str, source: list[str], ruleset: Ruleset) -> None:
        self.target, self.file, self.source, self.ruleset = target, file, source, ruleset
        self.scope_nodes = target.scopes
        self._holders: dict[str, list[PanNode]] = {}
        # names resolved once (a success has no cycle below it), handed out as copies
        self._addresses: dict[str, _Resolved] = {}
        self._services: dict[str, _Resolved] = {}
        # a rule's lists of names resolved once (rules often name the same objects)
        self._address_lists: dict[tuple[str, ...], tuple[_Resolved, AddressSet]] = {}
        self._service_lists: dict[tuple[tuple[str, ...], tuple[str, ...]],
                                  tuple[tuple[Service, ...], list[str], list[str]]] = {}

    # ---- object lookup -------------------------------------------------------------
    def lookup(self, kind: str, name: str) -> PanNode | None:
        holders = self._holders.get(kind)
        if holders is None:  # the scopes' ``<kind>`` children in lookup order, found once per kind
            holders = self._holders[kind] = [h for scope in self.scope_nodes for h in scope.children if h.tag == kind]
        for holder in holders:
            if (found := holder.entry(name)) is not None:
                return found
        return None

    def register_objects(self) -> None:
        kinds = ("address", "address-group", "service", "service-group", "application",
                 "application-group", "external-list", "schedule")
        for depth, scope in enumerate(self.scope_nodes):
            for kind in kinds:
                for node in scope.entries(kind):
                    assert node.name is not None
                    members = (node.members("static") or node.members("members") or [])
                    self._add_object(node, kind, members, shadowed=self.lookup(kind, node.name) is not node,
                                     scope_index=depth)
        for holder in self.target.zone_holders:
            for zone in holder.entries("zone"):
                network = zone.child("network")
                interfaces = [v for c in (network.children if network else []) for v in c.values]
                self._add_object(zone, "zone", interfaces, shadowed=False, scope_index=0)

    def _add_object(self, node: PanNode, kind: str, members: list[str], shadowed: bool,
                    scope_index: int) -> None:
        assert node.name is not None
        key = node.name
        if shadowed or key in self.ruleset.objects:
            key = f"{kind}:{node.name}@{scope_index}"
        self.ruleset.objects[key] = NamedObject(node.name, kind, self.span(node), tuple(members))

    def span(self, node: PanNode) -> SourceSpan:
        first, last = node.span_lines()
        return SourceSpan(self.file, first, last, node.span_text(self.source))

    # ---- addresses -----------------------------------------------------------------
    def addresses(self, names: list[str], line: int) -> _Resolved:
        out = _Resolved()
        for name in names:
            out.add(self.address(name, line, ()))
        return out

    def address(self, name: str, line: int, stack: tuple[str, ...]) -> _Resolved:
        if name in stack:
            raise InputError.at(self.file, line, 0, f"address group cycle: {' -> '.join(stack + (name,))}",
                                "groups that do not contain themselves")
        if len(stack) >= MAX_NESTING:
            raise InputError.at(self.file, line, 0,
                                f"address group {name} is nested more than {MAX_NESTING} levels deep", NESTING_EXPECTED)
        if (known := self._addresses.get(name)) is None:
            known = self._addresses[name] = self._resolve_address(name, stack)
        return known  # cached and shared: callers only ``add`` it to a result of their own

    def _resolve_address(self, name: str, stack: tuple[str, ...]) -> _Resolved:
        if (node := self.lookup("address", name)) is not None:
            return self._address_object(node, name)
        if (node := self.lookup("address-group", name)) is not None:
            out = _Resolved(refs=[name])
            if node.child("dynamic") is not None:
                out.problems.append(f"dynamic address group {name} (membership decided at run time)")
            for member in node.members("static") or []:
                out.add(self.address(member, _node_line(node), stack + (name,)))
            return out
        if self.lookup("external-list", name) is not None or name in PREDEFINED_EDLS:
            return _Resolved(refs=[name], problems=[f"external dynamic list {name} (fetched at run time)"])
        literal = _literal_networks(name)
        if literal is not None:
            return _Resolved(nets=literal)
        if re.fullmatch(r"[A-Z]{2}", name) or self.lookup("region", name) is not None:
            return _Resolved(problems=[f"region {name} (geo-IP database)"])
        return _Resolved(problems=[f"undefined address {name}"])

    def _address_object(self, node: PanNode, name: str) -> _Resolved:
        line = _node_line(node)
        if (value := node.text("ip-netmask")) or (value := node.text("ip-range")):
            nets = _literal_networks(value)
            if nets is None:
                raise InputError.at(self.file, line, 0, f"address {name}: bad address {value!r}",
                                    "a.b.c.d[/len], an IPv6 prefix or a range first-last")
            return _Resolved(nets=nets, refs=[name])
        if value := node.text("ip-wildcard"):
            nets = _wildcard_networks(value)
            if nets is None:
                return _Resolved(refs=[name], problems=[f"address {name}: wildcard {value} is not a few prefixes"])
            return _Resolved(nets=nets, refs=[name])
        if value := node.text("fqdn"):
            return _Resolved(refs=[name], problems=[f"address {name}: FQDN {value} is resolved at run time"])
        return _Resolved(refs=[name], problems=[f"address {name} has no ip-netmask/ip-range/ip-wildcard/fqdn"])

    # ---- services ------------------------------------------------------------------
    def service(self, name: str, line: int, stack: tuple[str, ...]) -> _Resolved:
        if name in stack:
            raise InputError.at(self.file, line, 0, f"service group cycle: {' -> '.join(stack + (name,))}",
                                "groups that do not contain themselves")
        if len(stack) >= MAX_NESTING:
            raise InputError.at(self.file, line, 0,
                                f"service group {name} is nested more than {MAX_NESTING} levels deep", NESTING_EXPECTED)
        if (known := self._services.get(name)) is None:
            known = self._services[name] = self._resolve_service(name, stack)
        return known  # cached and shared: callers only ``add`` it to a result of their own

    def _resolve_service(self, name: str, stack: tuple[str, ...]) -> _Resolved:
        if (node := self.lookup("service", name)) is not None:
            return _Resolved(services=self._service_object(node, name), refs=[name])
        if (node := self.lookup("service-group", name)) is not None:
            out = _Resolved(refs=[name])
            for member in node.members("members") or []:
                out.add(self.service(member, _node_line(node), stack + (name,)))
            return out
        if name in PREDEFINED_SERVICES:
            return _Resolved(services=list(PREDEFINED_SERVICES[name]))
        return _Resolved(problems=[f"undefined service {name}"])

    def _service_object(self, node: PanNode, name: str) -> list[Service]:
        protocol_node = node.child("protocol")
        services = []
        for proto in protocol_node.children if protocol_node else []:
            if proto.tag not in SERVICE_PROTOCOLS:
                raise InputError.at(self.file, proto.line, 0, f"service {name}: unknown protocol {proto.tag}",
                                    "tcp, udp or sctp")
            dst = self._port_ranges(proto.text("port"), proto, name)
            src = self._port_ranges(proto.text("source-port"), proto, name)
            services.append(Service(SERVICE_PROTOCOLS[proto.tag], src_ports=src, dst_ports=dst, name=name))
        if not services:
            raise InputError.at(self.file, _node_line(node), 0, f"service {name} has no protocol",
                                "protocol tcp|udp|sctp with a port")
        return services

    def _port_ranges(self, text: str, node: PanNode, name: str) -> tuple[PortRange, ...]:
        if not text:
            return ()
        ranges: list[PortRange] = []
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            if not is_decimal(low) or (high and not is_decimal(high)) or not int(low) <= int(high or low) <= 65535:
                raise InputError.at(self.file, node.line, 0, f"service {name}: bad port {part!r}",
                                    "ports such as 80,443,1024-2048")
            ranges.append((int(low), int(high or low)))
        return () if ranges == [(0, 65535)] else tuple(ranges)

    def app_default_services(self, apps: list[str], line: int, stack: tuple[str, ...] = ()) -> _Resolved:
        """The services ``application-default`` allows for these applications."""
        out = _Resolved()
        if len(stack) >= MAX_NESTING:
            raise InputError.at(self.file, line, 0, f"application group {stack[-1]} is nested more than {MAX_NESTING} "
                                "levels deep", NESTING_EXPECTED)
        for app in apps:
            if app in stack:
                continue
            if (node := self.lookup("application-group", app)) is not None:
                out.add(self.app_default_services(node.members("members") or [], line, stack + (app,)))
            elif (node := self.lookup("application", app)) is not None:
                services = custom_app_default_services(node.child("default"))
                if services is None:
                    out.problems.append(f"custom application {app} has no readable default port")
                else:
                    out.services += services
            elif app in APP_DEFAULT_SERVICES:
                out.services += APP_DEFAULT_SERVICES[app]
            else:
                out.problems.append(f"application-default of {app} is not in the App-ID port table")
        return out

    # ---- rules ---------------------------------------------------------------------
    def rule(self, entry: PanNode, intrazone_position: int,
             interzone_position: int) -> tuple[Rule | None, Rule | None]:
        """The rule as it joins the intrazone filter and the interzone filter, at these positions;
        None for a filter its rule-type keeps it out of (a universal rule joins both)."""
        assert entry.name is not None
        name, line = entry.name, _node_line(entry)
        # each setting's first element by tag, looked up once: a rule asks for some twenty settings
        settings = {child.tag: child for child in reversed(entry.children)}

        def members(tag: str) -> list[str] | None:
            node = settings.get(tag)
            return None if node is None else list(node.values)

        def text(tag: str, default: str = "") -> str:
            node = settings.get(tag)
            return node.values[-1] if node is not None and node.values else default

        action_text = text("action")
        if action_text and action_text not in ACTIONS:
            raise InputError.at(self.file, line, 0, f"rule {name}: unknown action {action_text!r}", ", ".join(ACTIONS))
        action = ACTIONS.get(action_text or "allow", Action.PERMIT)
        permit = action.permits
        reasons: list[str] = []
        notes: list[str] = [] if action_text else [f"rule {name} has no action; PAN-OS default allow used"]
        refs: list[str] = []

        def field_members(tag: str) -> list[str]:
            values = members(tag)
            if values is None or not values:
                reasons.append(f"rule {name} has no {tag}; treated as any")
                return ["any"]
            return values

        from_zones, to_zones = field_members("from"), field_members("to")
        rule_type = text("rule-type", "universal")
        if rule_type == "intrazone":
            to_zones = from_zones
        zones_from = () if "any" in from_zones else tuple(from_zones)
        zones_to = () if "any" in to_zones else tuple(to_zones)
        refs += [z for z in (*zones_from, *zones_to) if z not in refs]

        sets: dict[str, tuple[AddressSet, bool]] = {}
        for tag in ("source", "destination"):
            names = field_members(tag)
            negate = text(f"negate-{tag}") == "yes"
            if "any" in names:
                sets[tag] = (ANY_ADDRESS, negate)
                continue
            resolved, addresses = self._rule_addresses(tuple(names), line)
            refs += [r for r in resolved.refs if r not in refs]
            if resolved.problems:
                reasons += resolved.problems
                if permit:
                    addresses, negate = ANY_ADDRESS, False
            sets[tag] = (addresses, negate)

        applications = field_members("application")
        apps = () if "any" in applications else tuple(applications)
        refs += [a for a in apps if self._is_object(a) and a not in refs]
        services, service_problems = self._rule_services(field_members("service"), apps, line, refs)
        if service_problems:
            reasons += service_problems
            if permit:
                services = (ANY_SERVICE,)

        for tag in RULE_OUTSIDE_PACKET if not settings.keys().isdisjoint(RULE_OUTSIDE_PACKET) else ():
            values = members(tag)
            if values and values != ["any"]:
                reasons.append(f"rule {name} matches on {tag} {' '.join(values)} (outside the packet)")
        if text("schedule"):
            reasons.append(f"rule {name} is limited by schedule {text('schedule')}")
        target = settings.get("target")
        if target is not None and (target.entries("devices") or target.text("negate") == "yes"):
            reasons.append(f"rule {name} applies only to some target devices")
        if not settings.keys() <= RULE_KNOWN:  # each unknown setting as written, duplicates too
            reasons += [f"rule {name}: unknown setting {child.tag}" for child in entry.children
                        if child.tag not in RULE_KNOWN]
        if rule_type not in ("universal", "intrazone", "interzone"):
            raise InputError.at(self.file, line, 0, f"rule {name}: unknown rule-type {rule_type!r}",
                                "universal, intrazone or interzone")

        span = self.span(entry)
        for message in notes + reasons:
            self.warn(span, message, widened=permit and message in reasons)
        sources, source_negate = sets["source"]
        destinations, destination_negate = sets["destination"]
        enabled, log = text("disabled") != "yes", text("log-start") == "yes" or text("log-end", "yes") != "no"
        comment, object_refs, uncertain = text("description"), tuple(refs), bool(reasons)
        widened = tuple(reasons) if permit else ()

        def at(position: int) -> Rule:
            # one Rule per filter it joins, built apart: ``dataclasses.replace`` is slow on 20,000 rules
            return Rule(
                rule_id=name, position=position, action=action, span=span,
                sources=sources, destinations=destinations, services=services,
                source_negate=source_negate, destination_negate=destination_negate,
                from_zones=zones_from, to_zones=zones_to, enabled=enabled, applications=apps, log=log,
                comment=comment, object_refs=object_refs, widened=widened, uncertain=uncertain,
            )

        intrazone = at(intrazone_position) if rule_type != "interzone" else None
        if rule_type == "intrazone":
            return intrazone, None
        if intrazone is not None and intrazone_position == interzone_position:
            return intrazone, intrazone  # one object in both filters: parsed, matched and signed once
        return intrazone, at(interzone_position)

    def _is_object(self, name: str) -> bool:
        return any(self.lookup(kind, name) is not None for kind in ("application", "application-group"))

    def _rule_addresses(self, names: tuple[str, ...], line: int) -> tuple[_Resolved, AddressSet]:
        """A rule's address list resolved, and its AddressSet: one shared object per list of names, so
        rules naming the same objects share it (identity caches downstream see it once)."""
        if (known := self._address_lists.get(names)) is None:
            resolved = self.addresses(list(names), line)
            known = self._address_lists[names] = (resolved, AddressSet(tuple(resolved.nets), names=names))
        return known

    def _rule_services(self, names: list[str], apps: tuple[str, ...], line: int,
                       refs: list[str]) -> tuple[tuple[Service, ...], list[str]]:
        key = (tuple(names), apps)
        if (known := self._service_lists.get(key)) is None:
            known = self._service_lists[key] = self._resolve_rule_services(names, apps, line)
        services, problems, found_refs = known
        refs += [r for r in found_refs if r not in refs]
        return services, problems

    def _resolve_rule_services(self, names: list[str], apps: tuple[str, ...],
                               line: int) -> tuple[tuple[Service, ...], list[str], list[str]]:
        if "any" in names:
            return (ANY_SERVICE,), [], []
        out = _Resolved()
        for name in names:
            if name == "application-default":
                if not apps:
                    out.problems.append("application-default with application any (every default port)")
                else:
                    out.add(self.app_default_services(list(apps), line))
            else:
                out.add(self.service(name, line, ()))
        return tuple(out.services), out.problems, out.refs

    def warn(self, span: SourceSpan, message: str, widened: bool) -> None:
        first = span.text.splitlines()[0] if span.text else ""
        self.ruleset.warnings.append(ParseWarning(self.file, span.line, message, first.strip(), widened))

    def nat_reader(self, interfaces: list[Interface]) -> NatReader:
        """The name resolution the NAT rulebase needs (``panos.nat``); interface addresses are those
        the interface reader found (``panos.routes``)."""

        def addresses(names: list[str], line: int) -> Resolution:
            found = self.addresses(names, line)
            return Resolution(found.nets, [], found.problems)

        def services(name: str, line: int) -> Resolution:
            found = self.service(name, line, ()).copy()
            return Resolution([], found.services, found.problems)

        def interface_address(name: str) -> IPNetwork | None:
            found = next((i for i in interfaces if i.name == name and i.addresses), None)
            return ipaddress.ip_network(found.addresses[0].ip) if found is not None else None

        return NatReader(addresses, services, self.span, self.warn, interface_address)


def _literal_networks(text: str) -> list[IPNetwork] | None:
    """Networks of an IP, prefix or ``first-last`` range literal; None when it is not one."""
    try:
        if "-" in text and "/" not in text:
            first, last = text.split("-", 1)
            return list(address_range(first.strip(), last.strip()))
        return [network(text)]
    except ValueError:
        return None


def _wildcard_networks(text: str, limit_bits: int = 8) -> list[IPNetwork] | None:
    """An IPv4 address/wildcard-mask as exact prefixes; None when it needs more than 2**limit_bits."""
    try:
        address_text, mask_text = text.split("/")
        address = int(ipaddress.IPv4Address(address_text))
        mask = int(ipaddress.IPv4Address(mask_text))
    except ValueError:
        return None
    host_bits = 0
    while host_bits < 32 and mask >> host_bits & 1:
        host_bits += 1
    free = [b for b in range(host_bits, 32) if mask >> b & 1]
    if len(free) > limit_bits:
        return None
    base = address & ~mask & 0xFFFFFFFF
    nets: list[IPNetwork] = []
    for combo in range(1 << len(free)):
        value = base | sum(1 << bit for i, bit in enumerate(free) if combo >> i & 1)
        nets.append(ipaddress.IPv4Network((value, 32 - host_bits)))
    return nets


# ---- choosing what to read ----------------------------------------------------------------
def _devices(root: PanNode) -> list[PanNode]:
    return root.entries("devices")


def _named(nodes: list[PanNode]) -> dict[str, list[PanNode]]:
    """Entries by name, keeping duplicates (a Panorama export may repeat a device-group entry)."""
    out: dict[str, list[PanNode]] = {}
    for node in nodes:
        assert node.name is not None
        out.setdefault(node.name, []).append(node)
    return out


def _merged(nodes: list[PanNode]) -> PanNode:
    if len(nodes) == 1:
        return nodes[0]
    first = nodes[0]
    return dataclasses.replace(first, children=[c for n in nodes for c in n.children])


def _shared_scopes(root: PanNode) -> list[PanNode]:
    """Panorama-pushed objects/rules on a firewall (``policy/panorama``) and ``shared``."""
    return [n for n in (root.path("policy", "panorama"), root.child("shared")) if n is not None]


def _parent_chain(root: PanNode, group: str, file: str) -> list[str]:
    chain = [group]
    while True:
        parent = None
        readonly = root.path("readonly")
        for device in readonly.entries("devices") if readonly else []:
            node = device.path("device-group", "entry=" + chain[-1], "parent-dg")
            if node is not None and node.values:
                parent = node.values[-1]
        if parent is None or parent == "shared":
            return chain
        if parent in chain:
            raise InputError.at(file, 0, 0, f"device-group parent cycle: {' -> '.join(chain + [parent])}")
        chain.append(parent)


def _select_target(root: PanNode, file: str, vsys: str | None, device_group: str | None) -> _Target:
    vsyses = _named([v for d in _devices(root) for v in d.entries("vsys")])
    groups = _named([g for d in _devices(root) for g in d.entries("device-group")])
    shared = _shared_scopes(root)
    if vsys is None and device_group is None:
        choices = [f"vsys {n}" for n in vsyses] + [f"device-group {n}" for n in groups]
        if len(choices) > 1:
            first = min((nodes[0] for nodes in [*vsyses.values(), *groups.values()]), key=_node_line)
            raise InputError.at(file, _node_line(first), 0, "the config holds several vsys/device groups: "
                                + ", ".join(choices), "PanosParser(vsys=...) or PanosParser(device_group=...)")
        vsys = next(iter(vsyses), None)
        device_group = next(iter(groups), None) if vsys is None else None
    if vsys is not None:
        if vsys not in vsyses:
            raise InputError.at(file, 1, 0, f"no vsys {vsys!r} in this config", ", ".join(vsyses) or "a vsys")
        node = _merged(vsyses[vsys])
        return _Target(vsys, [node, *shared], _rulebases(shared, [], node), [node.child("rulebase"),
                       *[s.child("post-rulebase") for s in shared]], [node])
    if device_group is not None:
        if device_group not in groups:
            raise InputError.at(file, 1, 0, f"no device-group {device_group!r} in this config",
                                ", ".join(groups) or "a device-group")
        chain = [_merged(groups[g]) for g in _parent_chain(root, device_group, file) if g in groups]
        templates = [c for d in _devices(root) for t in d.entries("template")
                     for c in [t.path("config")] if c is not None]
        zone_holders = [v for t in templates for d in t.entries("devices") for v in d.entries("vsys")]
        defaults: list[PanNode | None] = [n.child("post-rulebase") for n in [*chain, *shared]]
        return _Target(device_group, [*chain, *shared], _rulebases(shared, chain, None),
                       defaults, zone_holders)
    return _Target("shared", shared, _rulebases(shared, [], None),
                   [s.child("post-rulebase") for s in shared], [])


def _rulebases(shared: list[PanNode], chain: list[PanNode], local: PanNode | None) -> list[PanNode]:
    """Rule holders in PAN-OS evaluation order: shared pre, DG pre (root first), local, DG post, shared post."""
    order: list[PanNode | None] = [s.child("pre-rulebase") for s in reversed(shared)]
    order += [g.child("pre-rulebase") for g in reversed(chain)]
    order.append(local.child("rulebase") if local is not None else None)
    order += [g.child("post-rulebase") for g in chain]
    order += [s.child("post-rulebase") for s in shared]
    return [n for n in order if n is not None]


# ---- the parser ---------------------------------------------------------------------------
class PanosParser:
    """PAN-OS parser; ``vsys`` or ``device_group`` picks the part of a multi-part config."""

    vendor = "panos"

    def __init__(self, vsys: str | None = None, device_group: str | None = None) -> None:
        self.vsys = vsys
        self.device_group = device_group

    def detect(self, text: str) -> float:
        return confidence(text)

    @with_collector_paused
    def parse(self, text: str, file: str) -> Ruleset:
        root, unknown_lines = _read_tree(text, file)
        target = _select_target(root, file, self.vsys, self.device_group)
        hostname = next((h for d in _devices(root) for h in [d.path("deviceconfig", "system")]
                         if h is not None and h.text("hostname")), None)
        name = f"{hostname.text('hostname')}/{target.label}" if hostname else target.label
        ruleset = Ruleset(name=name, vendor=self.vendor, file=file)
        for line, message, line_text in unknown_lines:
            ruleset.warnings.append(ParseWarning(file, line, message, line_text))
        reader = _Reader(target, file, text.splitlines(), ruleset)
        reader.register_objects()

        intrazone: list[Rule] = []
        interzone: list[Rule] = []
        nat_entries: list[PanNode] = []
        for holder in target.rulebases:
            security = holder.child("security")
            for entry in security.entries("rules") if security else []:
                intrazone_rule, interzone_rule = reader.rule(entry, len(intrazone) + 1, len(interzone) + 1)
                if intrazone_rule is not None:
                    intrazone.append(intrazone_rule)
                if interzone_rule is not None:
                    interzone.append(interzone_rule)
            nat = holder.child("nat")
            nat_entries += nat.entries("rules") if nat else []
        _layer3(root, reader, target, ruleset)  # before NAT: interface PAT takes the interfaces' addresses
        ruleset.nat_rules = nat_rules(reader.nat_reader(ruleset.interfaces), nat_entries, ruleset.nat_statements)
        if ruleset.nat_rules:
            ruleset.policy_sees = "original"

        intra_default = self._default(reader, "intrazone-default", Action.PERMIT)
        inter_default = self._default(reader, "interzone-default", Action.DENY)
        ruleset.filters[INTRAZONE_FILTER] = Filter(
            INTRAZONE_FILTER, intrazone, intra_default[0], intra_default[1],
            "universal and intrazone rules; default = intrazone-default")
        ruleset.filters[INTERZONE_FILTER] = Filter(
            INTERZONE_FILTER, interzone, inter_default[0], inter_default[1],
            "universal and interzone rules; default = interzone-default")
        ruleset.default_path_action = inter_default[0]
        self._zones(reader, target, ruleset, [*intrazone, *interzone])
        for a in ruleset.zones:
            for b in ruleset.zones:
                ruleset.paths[(a, b)] = (INTRAZONE_FILTER if a == b else INTERZONE_FILTER,)
        return require_understood(ruleset, "a PAN-OS configuration (XML, set or brace form)")

    def _default(self, reader: _Reader, name: str, builtin: Action) -> tuple[Action, SourceSpan | None]:
        """The implicit default rule's action, or the override in ``default-security-rules``."""
        for holder in reader.target.default_holders:
            entry = holder.path("default-security-rules", "rules", "entry=" + name) if holder else None
            if entry is not None and entry.text("action"):
                action = ACTIONS.get(entry.text("action"))
                if action is None:
                    raise InputError.at(reader.file, _node_line(entry), 0,
                                        f"{name}: unknown action {entry.text('action')!r}", ", ".join(ACTIONS))
                return action, reader.span(entry)
        return builtin, None

    def _zones(self, reader: _Reader, target: _Target, ruleset: Ruleset, rules: list[Rule]) -> None:
        defined = [z.name for holder in target.zone_holders for z in holder.entries("zone") if z.name]
        zones = list(dict.fromkeys(defined))
        known = set(zones)
        for rule in rules:
            for zone in (*rule.from_zones, *rule.to_zones):
                if zone not in known:
                    known.add(zone)
                    zones.append(zone)
                    reader.warn(rule.span, f"zone {zone} is used by rule {rule.rule_id} but not defined; "
                                "kept as a zone", widened=False)
        ruleset.zones = zones


def _device_holders(root: PanNode) -> list[PanNode]:
    """The device entries: the firewall's own and each Panorama template's and template stack's."""
    devices = _devices(root)
    templates = [c for d in devices for kind in ("template", "template-stack") for t in d.entries(kind)
                 for c in [t.path("config")] if c is not None]
    return [*devices, *(d for c in templates for d in c.entries("devices"))]


def _layer3(root: PanNode, reader: _Reader, target: _Target, ruleset: Ruleset) -> None:
    """Interface addresses (in the target's zones), virtual-router static routes, and what makes them incomplete."""
    unread: list[RoutingGap] = []

    def line_span(line: int) -> SourceSpan:
        text = reader.source[line - 1] if 0 < line <= len(reader.source) else ""
        return SourceSpan(reader.file, line, line, text)

    def left_out(line: int, message: str) -> None:
        """An address or route not read is a warning and a routing gap on the same line."""
        span = line_span(line)
        ruleset.warnings.append(ParseWarning(reader.file, line, message, span.text.strip()))
        unread.append(RoutingGap(span, f"{message}, {KEEPS_PATHS}"))

    def address_object(name: str) -> str | None:
        node = reader.lookup("address", name)
        return node.text("ip-netmask") or None if node is not None else None

    devices = _device_holders(root)
    networks = [n for d in devices if (n := d.child("network")) is not None]
    ruleset.interfaces = interfaces(networks, target.zone_holders, reader.span, left_out, address_object)
    ruleset.routes = static_routes(networks, reader.span, left_out)
    vsys_rulebases = [r for d in devices for v in d.entries("vsys") if (r := v.child("rulebase")) is not None]
    rulebases = list({id(r): r for r in [*target.rulebases, *vsys_rulebases]}.values())
    found = routing_gaps(devices, rulebases, target.zone_holders, lambda node: line_span(node.line))
    ruleset.routing_gaps = sorted(unread + found, key=lambda g: g.span.line)


PARSER = PanosParser()
