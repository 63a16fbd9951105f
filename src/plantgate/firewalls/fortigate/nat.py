"""FortiOS address translation of one VDOM -> vendor-neutral ``NatRule`` records.

Where FortiOS translates, relative to the policy:
- A VIP (``firewall vip``/``vip6``, type static-nat) is destination NAT on traffic that enters
  its ``extintf`` for its ``extip`` (and, with ``portforward``, its protocol and ``extport``):
  a BEFORE_FILTER rule. The policy then decides on the translated packet, which is why a
  policy whose dstaddr names the VIP matches the VIP's mapped addresses
  (``objects.vip_value``) and its services match the mapped port: the policy and the NAT rule
  together permit "traffic to the VIP reaches the internal server", as the device does.
- Policy NAT (``set nat enable`` on an accept policy) is source NAT AFTER_FILTER for exactly
  what that policy permits: to the egress interface's address, or to its IP pools
  (``ippool enable`` + ``poolname``). A session takes the NAT of the first policy that
  matches it, so every earlier accept policy becomes an identity rule of the same table.
- Central NAT (``system settings`` ``central-nat enable``): policy NAT settings are ignored;
  ``firewall central-snat-map`` is a first-match AFTER_FILTER table of its own
  (orig-addr/srcintf/dst-addr/dstintf/protocol/orig-port -> nat-ippool/nat-port, ``nat
  disable`` = identity); VIPs stay BEFORE_FILTER rules as above.
Whatever cannot be pinned down (an interface without an address, an unknown pool or VIP
type) translates to any address and says so in ``widened`` and a ParseWarning.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from plantgate.firewalls.fortigate.objects import AddressValue, ObjectBook, collapse, vip_networks
from plantgate.firewalls.fortigate.services import port_services
from plantgate.firewalls.fortigate.syntax import ConfigTree, Entry, Setting, Table
from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, PortMapping, Translation
from plantgate.firewalls.ruleset import (
    ALL_PORTS,
    ANY_ADDRESS,
    ANY_SERVICE,
    ANY_V6,
    ICMP,
    SCTP,
    TCP,
    UDP,
    AddressSet,
    IPNetwork,
    ParseWarning,
    PortRange,
    Rule,
    Ruleset,
    Service,
    SourceSpan,
)

VIP_TABLES = (("firewall vip", 4), ("firewall vip6", 6))
UNMODELLED_NAT_TABLES = ("firewall vip46", "firewall vip64", "firewall central-snat-map6")
VIP_PROTOCOLS = {"tcp": TCP, "udp": UDP, "sctp": SCTP, "icmp": ICMP}
HARMLESS_VIP_KEYS = frozenset({
    "uuid", "comment", "comments", "color", "type", "extip", "mappedip", "extintf", "portforward",
    "protocol", "extport", "mappedport", "arp-reply", "status", "id", "nat-source-vip", "src-filter",
    "gratuitous-arp-interval", "dns-mapping-ttl", "ldb-method",
    "http-redirect", "persistence", "nat44", "nat46", "ipv6-mappedip", "ipv6-mappedport",
    "add-nat46-route", "h2-support", "h3-support", "max-embryonic-connections",
})
POOL_KEYS = frozenset({
    "type", "startip", "endip", "comments", "comment", "arp-reply", "arp-intf", "associated-interface",
})

ZoneResolver = Callable[[str, int], tuple[str, bool]]


@dataclass
class NatContext:
    """What reading NAT needs from the rest of the VDOM."""

    tree: ConfigTree
    tables: dict[str, Table]
    book: ObjectBook
    ruleset: Ruleset
    resolve_interface: ZoneResolver
    interface_addresses: dict[str, IPNetwork]
    """Interface name -> its own address as a host network (from ``set ip``)."""
    zone_members: dict[str, list[str]] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return self.ruleset.file

    def span(self, entry: Entry) -> SourceSpan:
        return SourceSpan(self.file, entry.line, entry.end_line, self.tree.text(entry.line, entry.end_line))

    def warn(self, line: int, message: str, widened: bool = True) -> None:
        self.ruleset.warnings.append(ParseWarning(self.file, line, message, self.tree.text(line, line), widened))


def central_nat_enabled(tables: dict[str, Table]) -> bool:
    table = tables.get("system settings")
    value = table.attributes().get("central-nat") if table else None
    return value is not None and value.first == "enable"


def read_nat(ctx: NatContext, policies: list[tuple[Entry, Rule]]) -> None:
    """Fill ``nat_rules`` (and ``nat_statements`` with what is not modelled) for the VDOM."""
    before: list[NatRule] = []
    after: list[NatRule] = []
    for path, version in VIP_TABLES:
        table = ctx.tables.get(path)
        for entry in table.entries.values() if table else ():
            _vip(ctx, entry, version, before, after)
    central = central_nat_enabled(ctx.tables)
    snat_table = ctx.tables.get("firewall central-snat-map")
    if central:
        for entry in snat_table.entries.values() if snat_table else ():
            _central_snat(ctx, entry, after)
    else:
        after += _policy_snat(ctx, policies, len(after))
        for entry in snat_table.entries.values() if snat_table else ():
            ctx.ruleset.nat_statements.append(ctx.span(entry))
            ctx.warn(entry.line, f"central-snat-map {entry.name} is inactive: central-nat is not enabled", False)
    for path in UNMODELLED_NAT_TABLES:
        table = ctx.tables.get(path)
        for entry in table.entries.values() if table else ():
            ctx.ruleset.nat_statements.append(ctx.span(entry))
            ctx.warn(entry.line, f"'{path}' {entry.name!r} is not modelled: its translation is not applied")
    ctx.ruleset.nat_rules.extend(before + after)


# --- VIPs ----------------------------------------------------------------------------------


def _disabled(ctx: NatContext, entry: Entry, attrs: dict[str, Setting], label: str) -> bool:
    """A disabled entry translates nothing: it stays a NAT statement, reported with its line."""
    if "status" in attrs and attrs["status"].first == "disable":
        ctx.ruleset.nat_statements.append(ctx.span(entry))
        ctx.warn(entry.line, f"{label} is disabled: no translation", False)
        return True
    return False


def _vip(ctx: NatContext, entry: Entry, version: int, before: list[NatRule], after: list[NatRule]) -> None:
    attrs = entry.attributes()
    label = f"vip {entry.name}"
    if _disabled(ctx, entry, attrs, label):
        return
    widened: list[str] = []
    uncertain = False
    for key, setting in attrs.items():
        if key not in HARMLESS_VIP_KEYS:
            uncertain = True
            widened.append(f"attribute {key!r} not understood")
            ctx.warn(setting.line, f"{label}: attribute {key!r} not understood; the VIP may apply more narrowly")
    kind = attrs["type"].first if "type" in attrs else "static-nat"
    from_zones, zone_widened = _zones(ctx, attrs.get("extintf"), entry.line)
    uncertain |= zone_widened
    external = _external(ctx, attrs, version, entry, widened)
    if external is None:
        uncertain = True
        external = ANY_ADDRESS
    mapped = vip_networks(attrs["mappedip"], version, ctx.file) if "mappedip" in attrs else ()
    if kind != "static-nat" or not mapped:
        what = f"of type {kind} (its servers are not read)" if kind != "static-nat" else "without a mappedip"
        reason = f"VIP {what}: translated to any address"
        ctx.warn(entry.line, f"{label}: {reason}")
        widened.append(reason)
        addresses = AddressMapping(pool=ANY_ADDRESS)
    else:
        addresses = _one_to_one(external.include, mapped, widened)
    sources = AddressSet(vip_networks(attrs["src-filter"], version, ctx.file)) if "src-filter" in attrs else ANY_ADDRESS
    services: tuple[Service, ...] = (ANY_SERVICE,)
    ports: PortMapping | None = None
    forward = "portforward" in attrs and attrs["portforward"].first == "enable"
    if forward:
        services, ports = _port_forward(ctx, attrs, entry, widened)
    span = ctx.span(entry)
    before.append(NatRule(
        rule_id=label, position=len(before) + 1, span=span, stage=NatStage.BEFORE_FILTER,
        kind="port-forward" if forward else "vip", sources=sources, destinations=external, services=services,
        from_zones=from_zones, destination=Translation(addresses, ports), widened=tuple(widened),
        uncertain=uncertain,
    ))
    if "nat-source-vip" in attrs and attrs["nat-source-vip"].first == "enable" and mapped:
        reason = "nat-source-vip: whether it or the policy's NAT applies first is not modelled"
        after.append(NatRule(
            rule_id=f"{label} (source)", position=len(after) + 1, span=span, stage=NatStage.AFTER_FILTER,
            kind="vip", sources=AddressSet(mapped), source=Translation(_one_to_one(mapped, external.include, [])),
            widened=(reason,), uncertain=True,
        ))


def _external(
    ctx: NatContext, attrs: dict[str, Setting], version: int, entry: Entry, widened: list[str]
) -> AddressSet | None:
    """The VIP's extip; 0.0.0.0 (or none) means the extintf's own address. None: not known."""
    setting = attrs.get("extip")
    if setting is not None and setting.first not in ("0.0.0.0", "::"):
        return AddressSet(vip_networks(setting, version, ctx.file))
    interfaces = attrs["extintf"].values if "extintf" in attrs else ()
    if len(interfaces) == 1 and interfaces[0] in ctx.interface_addresses and version == 4:
        return AddressSet((ctx.interface_addresses[interfaces[0]],))
    reason = "extip is the extintf's address, which the config does not give: matches any destination, uncertain"
    ctx.warn(setting.line if setting else entry.line, f"vip {entry.name}: {reason}")
    widened.append(reason)
    return None


def _one_to_one(external: tuple[IPNetwork, ...], mapped: tuple[IPNetwork, ...], widened: list[str]) -> AddressMapping:
    """Static NAT maps the external range onto the mapped range one to one.

    One network onto one of the same size keeps the host bits (``prefix``); a single external
    address maps to the whole mapped list (a single host in practice). Ranges that are not
    one aligned prefix map to any address of the mapped range: a superset, said in ``widened``.
    """
    if len(external) == 1 and len(mapped) == 1 and external[0].prefixlen == mapped[0].prefixlen:
        if mapped[0].num_addresses == 1:
            return AddressMapping(pool=AddressSet(mapped))
        return AddressMapping(prefix=mapped[0])
    if sum(n.num_addresses for n in external) > 1:
        widened.append("a range mapped one to one is approximated by any address of the mapped range")
    return AddressMapping(pool=AddressSet(mapped))


def _port_forward(
    ctx: NatContext, attrs: dict[str, Setting], entry: Entry, widened: list[str]
) -> tuple[tuple[Service, ...], PortMapping | None]:
    word = attrs["protocol"].first if "protocol" in attrs else "tcp"
    protocol = VIP_PROTOCOLS.get(word)
    if protocol is None:
        ctx.warn(attrs["protocol"].line, f"vip {entry.name}: protocol {word!r} not understood; any protocol")
        widened.append(f"protocol {word!r}")
        return (ANY_SERVICE,), None
    if protocol == ICMP:
        return (Service(protocol=ICMP),), None
    if "extport" not in attrs:
        return (Service(protocol=protocol),), None
    external = port_services(protocol, attrs["extport"].values[:1], ctx.file, attrs["extport"].line)[0].dst_ports[0]
    service = Service(protocol=protocol, dst_ports=(external,))
    if "mappedport" not in attrs:
        return (service,), None
    mapped = port_services(protocol, attrs["mappedport"].values[:1], ctx.file, attrs["mappedport"].line)[0]
    return (service,), _port_mapping(external, mapped.dst_ports[0], widened)


def _port_mapping(original: PortRange, mapped: PortRange, widened: list[str]) -> PortMapping:
    """A single port, or a range mapped one to one (a shift); ranges of unequal size: any of them."""
    if mapped[0] == mapped[1] or original[0] == original[1]:
        return PortMapping(mapped)
    if mapped[1] - mapped[0] == original[1] - original[0]:
        return PortMapping(mapped, shift=mapped[0] - original[0])
    widened.append(f"port range {original} mapped onto {mapped} of another size: any port of {mapped}")
    return PortMapping(mapped)


def _zones(ctx: NatContext, setting: Setting | None, line: int) -> tuple[tuple[str, ...], bool]:
    """The policy zones of the named interfaces; True when an interface stands for its whole zone."""
    if setting is None or not setting.values or "any" in setting.values:
        return (), False
    zones: list[str] = []
    widened = False
    for name in setting.values:
        zone, whole = ctx.resolve_interface(name, setting.line or line)
        widened |= whole
        if zone not in zones:
            zones.append(zone)
    return tuple(zones), widened


# --- source NAT ----------------------------------------------------------------------------


def _policy_snat(ctx: NatContext, policies: list[tuple[Entry, Rule]], start: int) -> list[NatRule]:
    """Policy NAT: per enabled accept policy, its SNAT or (before the last SNAT) an identity rule.

    Accept policies after the last SNAT policy translate nothing and need no rule, so they are
    not built (a config without policy NAT builds none).
    """
    accepting: list[tuple[Entry, dict[str, Setting], Rule, bool]] = []
    last_nat = -1
    for entry, rule in policies:
        if not rule.enabled or not rule.action.permits:
            continue
        attrs = entry.attributes()
        nat = "nat" in attrs and attrs["nat"].first == "enable"
        if nat:
            last_nat = len(accepting)
        accepting.append((entry, attrs, rule, nat))
    rules: list[NatRule] = []
    for entry, attrs, rule, nat in accepting[: last_nat + 1]:
        source = _policy_translation(ctx, entry, attrs, rule) if nat else None
        rules.append(_matching(rule, f"{rule.rule_id} nat" if nat else f"{rule.rule_id} no-nat",
                               "pat" if nat else "identity", source, start + len(rules) + 1))
    return rules


def _matching(rule: Rule, rule_id: str, kind: str, source: tuple[Translation, list[str]] | None,
              position: int) -> NatRule:
    """A NAT rule that matches what ``rule`` matches (negated services: any, uncertain)."""
    translation, widened = source if source else (Translation(), [])
    uncertain = rule.uncertain or rule.service_negate or bool(rule.applications)
    return NatRule(
        rule_id=rule_id, position=position, span=rule.span, stage=NatStage.AFTER_FILTER, kind=kind,
        sources=rule.sources, destinations=rule.destinations,
        services=(ANY_SERVICE,) if rule.service_negate else rule.services,
        from_zones=rule.from_zones, to_zones=rule.to_zones, source=translation,
        widened=tuple(widened) + rule.widened, uncertain=uncertain,
    )


def _policy_translation(
    ctx: NatContext, entry: Entry, attrs: dict[str, Setting], rule: Rule
) -> tuple[Translation, list[str]]:
    widened: list[str] = []
    keep_port = "fixedport" in attrs and attrs["fixedport"].first == "enable"
    if "ippool" in attrs and attrs["ippool"].first == "enable":
        names = attrs["poolname"].values if "poolname" in attrs else ()
        pool, overload = _pools(ctx, names, attrs.get("poolname") or attrs["ippool"], widened)
    else:
        pool = _egress_addresses(ctx, rule.to_zones, entry.line, rule.rule_id, widened)
        overload = True
        if any(n.version == 6 for n in rule.sources.include) and ANY_V6 not in pool.include:
            widened.append("IPv6 egress interface addresses are not read: any IPv6 address")
            pool = AddressSet(pool.include + (ANY_V6,))
    ports = PortMapping(ALL_PORTS) if overload and not keep_port else None
    return Translation(AddressMapping(pool=pool), ports), widened


def _pools(ctx: NatContext, names: tuple[str, ...], setting: Setting, widened: list[str]) -> tuple[AddressSet, bool]:
    """The union of the named IP pools' ranges and whether any of them overloads (PAT)."""
    table = ctx.tables.get("firewall ippool")
    nets: list[IPNetwork] = []
    overload = False
    for name in names or ("",):
        entry = table.entries.get(name) if table else None
        attrs = entry.attributes() if entry else {}
        if entry is None or "startip" not in attrs:
            reason = f"IP pool {name!r} is not defined: translated to any address"
            ctx.warn(setting.line, reason)
            widened.append(reason)
            return ANY_ADDRESS, True
        for key in attrs:
            if key not in POOL_KEYS:
                ctx.warn(attrs[key].line, f"IP pool {name!r}: attribute {key!r} not understood; ignored", False)
        first, last = attrs["startip"].first, attrs["endip"].first if "endip" in attrs else attrs["startip"].first
        nets.extend(vip_networks(Setting((f"{first}-{last}",), attrs["startip"].line), 4, ctx.file))
        overload |= (attrs["type"].first if "type" in attrs else "overload") != "one-to-one"
    return AddressSet(collapse(nets), names=names), overload


def _egress_addresses(
    ctx: NatContext, to_zones: tuple[str, ...], line: int, label: str, widened: list[str]
) -> AddressSet:
    """The addresses of the egress interfaces (a zone: any of its members'); unknown: any address."""
    interfaces = [m for zone in to_zones for m in ctx.zone_members.get(zone, [zone])]
    known = [ctx.interface_addresses[i] for i in interfaces if i in ctx.interface_addresses]
    if not to_zones or len(known) != len(interfaces):
        reason = "egress interface address not known: translated to any address"
        ctx.warn(line, f"{label}: {reason}")
        widened.append(reason)
        return ANY_ADDRESS
    return AddressSet(collapse(known))


def _central_snat(ctx: NatContext, entry: Entry, after: list[NatRule]) -> None:
    attrs = entry.attributes()
    label = f"central-snat-map {entry.name}"
    if _disabled(ctx, entry, attrs, label):
        return
    widened: list[str] = []
    uncertain = False
    known = {"status", "uuid", "comments", "orig-addr", "srcintf", "dst-addr", "dstintf", "nat-ippool", "protocol",
             "orig-port", "nat-port", "nat", "policyid", "type", "nat46", "nat64"}
    for key, setting in attrs.items():
        if key not in known:
            uncertain = True
            widened.append(f"attribute {key!r} not understood")
            ctx.warn(setting.line, f"{label}: attribute {key!r} not understood; the rule may apply more narrowly")
    sources, unsure_src = _central_addresses(ctx, attrs.get("orig-addr"), label, widened)
    destinations, unsure_dst = _central_addresses(ctx, attrs.get("dst-addr"), label, widened)
    uncertain |= unsure_src or unsure_dst
    from_zones, wide_from = _zones(ctx, attrs.get("srcintf"), entry.line)
    to_zones, wide_to = _zones(ctx, attrs.get("dstintf"), entry.line)
    protocol = int(attrs["protocol"].first) if "protocol" in attrs and attrs["protocol"].first.isdigit() else 0
    orig = _port_or_any(ctx, attrs.get("orig-port"))
    service = Service(protocol=protocol or None)
    if protocol in (TCP, UDP, SCTP) and orig is not None:
        service = Service(protocol=protocol, src_ports=(orig,))
    translation = Translation()
    kind = "identity"
    if not ("nat" in attrs and attrs["nat"].first == "disable"):
        kind = "pat"
        if "nat-ippool" in attrs and attrs["nat-ippool"].values:
            pool, overload = _pools(ctx, attrs["nat-ippool"].values, attrs["nat-ippool"], widened)
        else:
            pool, overload = _egress_addresses(ctx, to_zones, entry.line, label, widened), True
        nat_port = _port_or_any(ctx, attrs.get("nat-port"))
        ports = PortMapping(ALL_PORTS) if overload else None
        if nat_port is not None and protocol in (TCP, UDP, SCTP):
            ports = _port_mapping(orig or ALL_PORTS, nat_port, widened)
        translation = Translation(AddressMapping(pool=pool), ports)
    after.append(NatRule(
        rule_id=label, position=len(after) + 1, span=ctx.span(entry), stage=NatStage.AFTER_FILTER, kind=kind,
        sources=sources, destinations=destinations, services=(service,), from_zones=from_zones, to_zones=to_zones,
        source=translation, widened=tuple(widened), uncertain=uncertain or wide_from or wide_to,
    ))


def _port_or_any(ctx: NatContext, setting: Setting | None) -> PortRange | None:
    if setting is None or setting.first in ("", "0"):
        return None
    return port_services(TCP, setting.values[:1], ctx.file, setting.line)[0].dst_ports[0]


def _central_addresses(
    ctx: NatContext, setting: Setting | None, label: str, widened: list[str]
) -> tuple[AddressSet, bool]:
    """The named addresses; True (uncertain) when one cannot be resolved and the match is any."""
    if setting is None or not setting.values:
        return ANY_ADDRESS, False
    nets: list[IPNetwork] = []
    for name in setting.values:
        value: AddressValue | None = ctx.book.address(name, 4)
        if value is None or value.unresolved:
            reason = f"address {name!r} is not resolvable: the rule matches any address, uncertain"
            ctx.warn(setting.line, f"{label}: {reason}")
            widened.append(reason)
            return ANY_ADDRESS, True
        nets.extend(ctx.book.exact(value))
    return AddressSet(collapse(nets), names=setting.values), False


def host_network(setting: Setting) -> IPNetwork | None:
    """The interface's own address from ``set ip A.B.C.D MASK`` or ``A.B.C.D/LEN``; None if unset."""
    text = setting.first.partition("/")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return None if int(address) == 0 else ipaddress.ip_network(address)
