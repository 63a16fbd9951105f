"""FortiOS named objects of one VDOM: addresses, address groups, VIPs and services, resolved by name.

Policies refer to objects by name, groups nest, and a group may exclude members. This module
turns a name into an exact set of networks (or services) once, caches it, records every
object in ``Ruleset.objects`` with its span, and says when a name cannot be decided from the
packet (FQDN, geography, dynamic addresses) so that the policy code widens instead of guessing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from plantgate.errors import InputError
from plantgate.firewalls import ipv4
from plantgate.firewalls.fortigate.services import (
    PROTOCOL_SPECIFIC_KEYS,
    ServiceValue,
    custom_service,
    predefined_service,
)
from plantgate.firewalls.fortigate.syntax import ConfigTree, Entry, Setting, Table, settings
from plantgate.firewalls.limits import MAX_NESTING, NESTING_EXPECTED
from plantgate.firewalls.ruleset import (
    ANY_V4,
    ANY_V6,
    IPNetwork,
    NamedObject,
    ParseWarning,
    Ruleset,
    Service,
    SourceSpan,
    address_range,
)

MAX_WILDCARD_BITS = 12
"""A wildcard address expands into 2**free-bits networks; beyond this it is left unresolved."""

ADDRESS_TABLES = (
    ("firewall address", "address", 4),
    ("firewall addrgrp", "address-group", 4),
    ("firewall address6", "address6", 6),
    ("firewall addrgrp6", "address6-group", 6),
    ("firewall vip", "vip", 4),
    ("firewall vipgrp", "vip-group", 4),
    ("firewall vip6", "vip6", 6),
    ("firewall vipgrp6", "vip6-group", 6),
)
SERVICE_TABLES = (("firewall service custom", "service"), ("firewall service group", "service-group"))
HARMLESS_ADDRESS_KEYS = frozenset({
    "uuid", "comment", "comments", "color", "allow-routing", "fabric-object", "associated-interface",
    "visibility", "type", "sub-type", "tagging", "global-object", "cache-ttl", "list", "dirty",
    "obj-type", "node-ip-only", "route-tag", "sdn", "sdn-tag", "sdn-addr-type", "country", "fqdn",
    "interface", "start-mac", "end-mac", "macaddr", "policy-group", "tenant", "organization",
    "epg-name", "obj-id", "filter", "clearpass-spt", "fsso-group", "hw-vendor", "hw-model", "os", "sw-version",
    "template", "host-type", "host", "category", "member", "exclude", "exclude-member", "extintf",
    "arp-reply", "portforward", "nat-source-vip", "extport", "mappedport", "protocol", "ldb-method",
    "server-type", "src-filter", "service", "srcintf-filter", "http-redirect", "ssl-certificate",
    "name", "extip", "mappedip", "subnet", "start-ip", "end-ip", "ip6", "wildcard", "mapped-addr",
})

AddressLookup = Callable[[str], "AddressValue | None"]


@dataclass(frozen=True, slots=True)
class AddressValue:
    """The networks a name stands for: include minus exclude; ``unresolved`` when not decidable.

    ``approximate`` reasons keep the networks (a superset of what matches) but make the
    rule uncertain, e.g. a VIP matched before or after destination NAT.
    """

    include: tuple[IPNetwork, ...]
    exclude: tuple[IPNetwork, ...] = ()
    unresolved: tuple[str, ...] = ()
    approximate: tuple[str, ...] = ()


def collapse(nets: Iterable[IPNetwork]) -> tuple[IPNetwork, ...]:
    """Merge networks into the fewest covering CIDRs, IPv4 before IPv6."""
    nets = tuple(nets)
    if len(nets) <= 1:
        return nets  # one network is already its own cover
    v4 = [n for n in nets if n.version == 4]
    v6 = [n for n in nets if n.version == 6]
    return tuple(ipv4.collapse(v4)) + tuple(ipaddress.collapse_addresses(v6))  # type: ignore[arg-type]


def subtract(include: Iterable[IPNetwork], exclude: Iterable[IPNetwork]) -> tuple[IPNetwork, ...]:
    """Exact set difference of two network lists, as CIDRs."""
    remaining = list(collapse(include))
    for cut in collapse(exclude):
        next_round: list[IPNetwork] = []
        for net in remaining:
            if net.version != cut.version or not net.overlaps(cut):
                next_round.append(net)
            elif not net.subnet_of(cut):  # type: ignore[arg-type]
                next_round.extend(net.address_exclude(cut))  # type: ignore[arg-type]
        remaining = next_round
    return collapse(remaining)


def exact(value: AddressValue) -> tuple[IPNetwork, ...]:
    return subtract(value.include, value.exclude) if value.exclude else collapse(value.include)


def complement(value: AddressValue, version: int) -> AddressValue:
    """Every address of ``version`` not in ``value``."""
    return AddressValue((ANY_V4 if version == 4 else ANY_V6,), exact(value), value.unresolved, value.approximate)


def _ip(text: str, version: int, setting: Setting, file: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise InputError.at(file, setting.line, 1, f"bad IPv{version} address {text!r}", f"an IPv{version} address")
    return address


def parse_subnet(setting: Setting, version: int, file: str) -> IPNetwork:
    """``10.0.0.0 255.255.255.0``, ``10.0.0.0/24`` or ``2001:db8::/32`` -> a network."""
    if version == 4:  # the usual case, without ipaddress's parser (same answer: see firewalls/ipv4)
        if len(setting.values) >= 2:
            found = ipv4.subnet(setting.values[0], setting.values[1])
        else:
            address, slash, length = setting.first.partition("/")
            found = ipv4.subnet(address, length if slash else None)
        if found is not None:
            return found
    text = "/".join(setting.values[:2]) if len(setting.values) >= 2 else setting.first
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        net = None
    if net is None or net.version != version:
        raise InputError.at(
            file, setting.line, 1, f"bad IPv{version} subnet {' '.join(setting.values)!r}",
            "ADDRESS MASK or ADDRESS/LENGTH" if version == 4 else "ADDRESS/LENGTH",
        )
    return net


def _ip_range(first: str, last: str, version: int, setting: Setting, file: str) -> tuple[IPNetwork, ...]:
    low, high = (ipv4.address_int(first), ipv4.address_int(last)) if version == 4 else (None, None)
    if low is not None and high is not None:
        if low > high:
            raise InputError.at(file, setting.line, 1, f"address range {first}-{last} is reversed", "start <= end")
        return tuple(ipv4.blocks(low, high))
    a, b = _ip(first, version, setting, file), _ip(last, version, setting, file)
    if int(a) > int(b):
        raise InputError.at(file, setting.line, 1, f"address range {first}-{last} is reversed", "start <= end")
    return address_range(str(a), str(b))


def _wildcard(setting: Setting | None, file: str) -> tuple[IPNetwork, ...] | None:
    """``ADDRESS MASK`` where mask 1-bits must match; None when too many networks to list."""
    if setting is None:
        return (ANY_V4,)
    if len(setting.values) != 2:
        raise InputError.at(file, setting.line, 1, "bad wildcard", "ADDRESS MASK")
    base = int(_ip(setting.values[0], 4, setting, file))
    mask = int(_ip(setting.values[1], 4, setting, file))
    trailing = (mask & -mask).bit_length() - 1 if mask else 32
    free_bits = [b for b in range(trailing, 32) if not mask >> b & 1]
    if len(free_bits) > MAX_WILDCARD_BITS:
        return None
    nets: list[IPNetwork] = []
    for combo in range(1 << len(free_bits)):
        value = base & mask
        for i, bit in enumerate(free_bits):
            if combo >> i & 1:
                value |= 1 << bit
        nets.append(ipaddress.IPv4Network((value >> trailing << trailing, 32 - trailing)))
    return collapse(nets)


def address_value(
    name: str, attrs: dict[str, Setting], version: int, file: str, interface_subnets: dict[str, IPNetwork]
) -> AddressValue:
    """Interpret one ``firewall address``/``address6`` entry."""
    kind = attrs["type"].first if "type" in attrs else ("ipmask" if version == 4 else "ipprefix")
    if kind in ("ipmask", "ipprefix"):
        key = "subnet" if version == 4 else "ip6"
        if key in attrs:
            return AddressValue((parse_subnet(attrs[key], version, file),))
        return AddressValue((ANY_V4 if version == 4 else ANY_V6,))
    if kind == "iprange":
        zero = "0.0.0.0" if version == 4 else "::"
        start, end = attrs.get("start-ip"), attrs.get("end-ip")
        where = start or end or Setting((), 0)
        return AddressValue(_ip_range(start.first if start else zero, end.first if end else zero, version, where, file))
    if kind == "wildcard" and version == 4:
        nets = _wildcard(attrs.get("wildcard"), file)
        if nets is not None:
            return AddressValue(nets)
        return AddressValue((), unresolved=(f"wildcard address {name!r} is too sparse to list",))
    if kind == "interface-subnet":
        if "subnet" in attrs and version == 4:
            return AddressValue((parse_subnet(attrs["subnet"], version, file),))
        iface = attrs["interface"].first if "interface" in attrs else ""
        if iface in interface_subnets:
            return AddressValue((interface_subnets[iface],))
    return AddressValue((), unresolved=(f"{kind} address {name!r}",))


def vip_networks(setting: Setting, version: int, file: str) -> tuple[IPNetwork, ...]:
    """An ``extip``/``mappedip`` value: addresses, ``FIRST-LAST`` ranges or prefixes."""
    nets: list[IPNetwork] = []
    for text in setting.values:
        first, _, last = text.partition("-")
        if "/" in first:
            nets.append(parse_subnet(Setting((first,), setting.line), version, file))
        else:
            nets.extend(_ip_range(first, last or first, version, setting, file))
    return collapse(nets)


def vip_value(name: str, attrs: dict[str, Setting], version: int, file: str) -> AddressValue:
    """A VIP in a policy stands for its MAPPED addresses.

    The VIP's destination NAT (``fortigate.nat``) rewrites extip to mappedip before the
    policy decides, so a policy naming the VIP matches the translated packet: the internal
    server. Its services match the mapped port (FortiOS: "services match the mapped port").
    """
    kind = attrs["type"].first if "type" in attrs else "static-nat"
    nets = vip_networks(attrs["mappedip"], version, file) if "mappedip" in attrs else ()
    if kind != "static-nat" or not nets:
        what = f"of type {kind} (its servers are not read)" if kind != "static-nat" else "without a mappedip"
        return AddressValue((), unresolved=(f"VIP {name!r} {what}",))
    return AddressValue(nets)


SERVICE_RESETS: dict[str, tuple[str, ...]] = {"protocol": PROTOCOL_SPECIFIC_KEYS}
"""``set protocol`` clears the keys of the service's former protocol."""
SERVICE_UNSET_RESETS: dict[str, tuple[str, ...]] = {"icmptype": ("icmpcode",)}


def _service_attributes(entry: Entry) -> dict[str, Setting]:
    """A custom service's attributes. ``set protocol`` and ``unset icmptype`` clear other keys; an entry
    with neither (the usual case) is its plain replay, which the object book has already made."""
    if any(len(st.words) > 1 and st.words[1] in ("protocol", "icmptype") for st in entry.statements):
        return settings(entry.statements, SERVICE_RESETS, SERVICE_UNSET_RESETS)
    return entry.attributes()


class ObjectBook:
    """All address and service objects of one VDOM, resolved on demand with cycle detection."""

    def __init__(
        self, tree: ConfigTree, tables: dict[str, Table], ruleset: Ruleset,
        interface_subnets: dict[str, IPNetwork],
    ) -> None:
        self.tree, self.ruleset, self.file = tree, ruleset, ruleset.file
        self.interface_subnets = interface_subnets
        self.entries: dict[tuple[str, str], tuple[str, Entry]] = {}  # (namespace, name) -> (kind, entry)
        self.keys: dict[tuple[str, str], str] = {}
        self._addresses: dict[tuple[str, str], AddressValue] = {}
        self._services: dict[str, ServiceValue] = {}
        self._resolving: set[tuple[str, str]] = set()
        self._collapsed: dict[tuple[IPNetwork, ...], tuple[IPNetwork, ...]] = {}
        for path, kind, version in ADDRESS_TABLES:
            self._register(tables.get(path), f"address{version}", kind)
        for path, kind in SERVICE_TABLES:
            self._register(tables.get(path), "service", kind)
        for (namespace, _), (kind, entry) in self.entries.items():
            members = entry.attributes().get("member")
            names = members.values if members else ()
            span = SourceSpan(self.file, entry.line, entry.end_line, tree.text(entry.line, entry.end_line))
            key = self.keys[(namespace, entry.name)]
            member_keys = tuple(self.keys.get((namespace, m), m) for m in names)
            ruleset.objects[key] = NamedObject(entry.name, kind, span, member_keys)

    def _register(self, table: Table | None, namespace: str, kind: str) -> None:
        if table is None:
            return
        taken = set(self.keys.values())
        for name, entry in table.entries.items():
            self.entries[(namespace, name)] = (kind, entry)
            if (namespace, name) not in self.keys:
                self.keys[(namespace, name)] = name if name not in taken else f"{kind}:{name}"

    def collapse(self, nets: Iterable[IPNetwork]) -> tuple[IPNetwork, ...]:
        """``collapse``, remembered per network list: thousands of policies name the same groups."""
        key = tuple(nets)
        if len(key) <= 1:
            return key
        found = self._collapsed.get(key)
        if found is None:
            found = self._collapsed[key] = collapse(key)
        return found

    def exact(self, value: AddressValue) -> tuple[IPNetwork, ...]:
        """``exact(value)``, with the collapse remembered."""
        return subtract(value.include, value.exclude) if value.exclude else self.collapse(value.include)

    def resolve_all(self) -> None:
        """Resolve every object once, so malformed or unused objects are reported too."""
        for namespace, name in list(self.entries):
            if namespace == "service":
                self.service(name)
            else:
                self.address(name, int(namespace[-1]))

    def key(self, namespace: str, name: str) -> str | None:
        return self.keys.get((namespace, name))

    def warn(self, line: int, message: str, widened: bool = False) -> None:
        self.ruleset.warnings.append(ParseWarning(self.file, line, message, self.tree.text(line, line), widened))

    def address(self, name: str, version: int) -> AddressValue | None:
        """The value of address/group/VIP ``name`` in the IPv``version`` namespace, None if undefined."""
        ident = (f"address{version}", name)
        if ident in self._addresses:
            return self._addresses[ident]
        if ident not in self.entries:
            if name == "all":
                return AddressValue((ANY_V4 if version == 4 else ANY_V6,))
            if name == "none":
                return AddressValue(())
            return None
        kind, entry = self.entries[ident]
        if ident in self._resolving:
            raise InputError.at(self.file, entry.line, 1, f"address group {name!r} contains itself", "no cycles")
        if len(self._resolving) >= MAX_NESTING:
            raise InputError.at(self.file, entry.line, 1, f"group {name!r} is nested more than {MAX_NESTING} levels "
                                "deep", NESTING_EXPECTED)
        self._resolving.add(ident)
        try:
            attrs = entry.attributes()
            self._check_keys(name, attrs)
            if kind.endswith("group"):
                value = self._group(name, attrs, lambda member: self.address(member, version))
            elif kind.startswith("vip"):
                value = vip_value(name, attrs, version, self.file)
            else:
                value = address_value(name, attrs, version, self.file, self.interface_subnets)
        finally:
            self._resolving.discard(ident)
        self._addresses[ident] = value
        return value

    def _check_keys(self, name: str, attrs: dict[str, Setting]) -> None:
        for key, setting in attrs.items():
            if key not in HARMLESS_ADDRESS_KEYS:
                self.warn(setting.line, f"address {name!r}: attribute {key!r} not understood; ignored")

    def _group(self, name: str, attrs: dict[str, Setting], lookup: AddressLookup) -> AddressValue:
        include: list[IPNetwork] = []
        exclude: list[IPNetwork] = []
        unresolved: list[str] = []
        approximate: list[str] = []
        excluding = "exclude" in attrs and attrs["exclude"].first == "enable"
        parts = [("member", include)] + ([("exclude-member", exclude)] if excluding else [])
        for key, into in parts:
            setting = attrs.get(key)
            for member in setting.values if setting else ():
                value = lookup(member)
                if value is None:
                    unresolved.append(f"group {name!r} member {member!r} is not defined")
                    continue
                into.extend(self.exact(value))
                unresolved.extend(value.unresolved)
                approximate.extend(value.approximate)
        return AddressValue(self.collapse(include), self.collapse(exclude), tuple(unresolved), tuple(approximate))

    def service(self, name: str) -> ServiceValue | None:
        """The value of service or service group ``name``; config first, then the factory table."""
        if name in self._services:
            return self._services[name]
        ident = ("service", name)
        if ident not in self.entries:
            return predefined_service(name)
        kind, entry = self.entries[ident]
        if ident in self._resolving:
            raise InputError.at(self.file, entry.line, 1, f"service group {name!r} contains itself", "no cycles")
        if len(self._resolving) >= MAX_NESTING:
            raise InputError.at(self.file, entry.line, 1, f"group {name!r} is nested more than {MAX_NESTING} levels "
                                "deep", NESTING_EXPECTED)
        self._resolving.add(ident)
        try:
            if kind == "service-group":
                value = self._service_group(name, entry.attributes())
            else:
                value = custom_service(name, _service_attributes(entry), self.file)
        finally:
            self._resolving.discard(ident)
        self._services[name] = value
        return value

    def _service_group(self, name: str, attrs: dict[str, Setting]) -> ServiceValue:
        services: list[Service] = []
        unresolved: list[str] = []
        loose: list[str] = []
        setting = attrs.get("member")
        for member in setting.values if setting else ():
            value = self.service(member)
            if value is None:
                unresolved.append(f"service group {name!r} member {member!r} is not defined")
                continue
            services.extend(value.services)
            unresolved.extend(value.unresolved)
            loose.extend(value.loose)
        return ServiceValue(tuple(services), tuple(unresolved), tuple(loose))
