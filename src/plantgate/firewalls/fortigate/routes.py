"""FortiOS interface addresses and static routes of one VDOM.

Syntax, from the FortiOS CLI reference:
- ``config system interface`` / ``edit "port1"``: ``set ip A M`` (or ``A/L``), ``set vdom``, ``set vrf N``,
  secondary addresses under ``config secondaryip`` (active with ``set secondary-IP enable``), IPv6
  under ``config ipv6`` ``set ip6-address P/L``;
  ``0.0.0.0 0.0.0.0`` means no address. An interface's zone is the ``system zone`` (or SD-WAN zone) it is
  a member of, else its own name, which policies use directly.
- ``config router static`` / ``static6``: ``set dst`` (default ``0.0.0.0 0.0.0.0`` / ``::/0``: an entry
  without ``dst`` is a default route), ``set gateway``, ``set device``, ``set distance``, ``set vrf``,
  ``set status disable`` (not installed), ``set blackhole enable`` (discard); ``set sdwan-zone`` (7.x),
  ``set sdwan enable`` (6.4) or ``set virtual-wan-link enable`` (6.0-6.2) hand the route to SD-WAN.
VRF 0 (the default) is the default table, ``""``. An address or route left out with a warning is also a
``RoutingGap`` on the same line: the routing table PlantGate holds is then incomplete.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from plantgate.firewalls.fortigate.syntax import ConfigTree, Entry, Setting, Table
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.routes import KEEPS_PATHS, Interface, IPAddress, IPInterface, RoutingGap, StaticRoute
from plantgate.firewalls.ruleset import IPNetwork, ParseWarning, SourceSpan

ROUTE_TABLES = (("router static", 4), ("router static6", 6))
UNREAD_DESTINATIONS = ("dstaddr", "internet-service", "internet-service-custom")
"""Route destinations given by a named object or an internet-service database entry: not resolved here."""
SDWAN_ROUTE_KEYS = ("sdwan-zone", "sdwan", "virtual-wan-link")


class _Unreadable(ValueError):
    """A value a route or interface address needs that is not an address."""


def _vrf(attrs: dict[str, Setting]) -> str:
    value = attrs["vrf"].first if "vrf" in attrs else "0"
    return "" if value == "0" else value


def _interface_address(setting: Setting, key: str) -> IPInterface | None:
    text = "/".join(setting.values[:2]) if len(setting.values) >= 2 else setting.first
    try:
        address: IPInterface = ipaddress.ip_interface(text)
    except ValueError:
        raise _Unreadable(f"{key} {' '.join(setting.values)!r} is not ADDRESS MASK or ADDRESS/LENGTH") from None
    return None if int(address.ip) == 0 else address


def unread_gap(tree: ConfigTree, file: str, line: int, what: str) -> RoutingGap:
    """The gap left by an address or route read as a warning and left out."""
    return RoutingGap(SourceSpan(file, line, line, tree.text(line, line)),
                      f"{what}: the routing table is incomplete, {KEEPS_PATHS}")


def vdom_interfaces(tree: ConfigTree, file: str, vdom: str, scoped: dict[str, Table],
                    global_tables: dict[str, Table], multi: bool, member_of: dict[str, str],
                    warnings: list[ParseWarning], gaps: list[RoutingGap]) -> list[Interface]:
    """The VDOM's interfaces that hold an address, each in its zone (its own name when in none)."""
    out: list[Interface] = []
    for name, entry, attrs in interface_entries(vdom, scoped, global_tables, multi):
        addresses = _entry_addresses(entry, attrs, tree, file, warnings, gaps)
        if addresses:
            span = SourceSpan(file, entry.line, entry.end_line, tree.text(entry.line, entry.end_line))
            out.append(Interface(name, member_of.get(name, name), tuple(addresses), span, _vrf(attrs)))
    return out


def interface_entries(vdom: str, scoped: dict[str, Table], global_tables: dict[str, Table], multi: bool,
                      path: str = "system interface") -> Iterator[tuple[str, Entry, dict[str, Setting]]]:
    """(name, entry, settings) of each ``system interface`` (or other ``path``) entry of the VDOM: its own
    table's, and the global table's that name it (every one when the config has a single VDOM)."""
    for tables in (global_tables, scoped) if scoped is not global_tables else (scoped,):
        table = tables.get(path)
        for name, entry in table.entries.items() if table else ():
            attrs = entry.attributes()
            owner = attrs["vdom"].first if "vdom" in attrs else "root"
            if multi and tables is global_tables and owner != vdom:
                continue
            yield name, entry, attrs


def _entry_addresses(entry: Entry, attrs: dict[str, Setting], tree: ConfigTree, file: str,
                     warnings: list[ParseWarning], gaps: list[RoutingGap]) -> list[IPInterface]:
    found: list[tuple[Setting, str]] = [(attrs["ip"], "ip")] if "ip" in attrs else []
    enabled = "secondary-IP" in attrs and attrs["secondary-IP"].first == "enable"
    secondary = entry.tables.get("secondaryip") if enabled else None
    for item in secondary.entries.values() if secondary else ():
        sub = item.attributes()
        found += [(sub["ip"], "ip")] if "ip" in sub else []
    ipv6 = entry.tables.get("ipv6")
    if ipv6 is not None:
        sub = ipv6.attributes()
        found += [(sub["ip6-address"], "ip6-address")] if "ip6-address" in sub else []
    addresses = []
    for setting, key in found:
        try:
            address = _interface_address(setting, key)
        except _Unreadable as exc:
            warnings.append(ParseWarning(file, setting.line, f"interface {entry.name}: {exc}; its connected "
                                         "network is not known", tree.text(setting.line, setting.line)))
            gaps.append(unread_gap(tree, file, setting.line, f"address of interface {entry.name} not read ({exc})"))
            continue
        if address is not None:
            addresses.append(address)
    return addresses


def static_routes(tree: ConfigTree, scoped: dict[str, Table], file: str,
                  warnings: list[ParseWarning], gaps: list[RoutingGap]) -> list[StaticRoute]:
    """Every enabled static route of the VDOM; an unreadable one is a warning and left out."""
    routes: list[StaticRoute] = []
    for path, version in ROUTE_TABLES:
        table = scoped.get(path)
        for entry in table.entries.values() if table else ():
            span = SourceSpan(file, entry.line, entry.end_line, tree.text(entry.line, entry.end_line))
            try:
                route = _route(entry, version, span)
            except _Unreadable as exc:
                warnings.append(ParseWarning(file, entry.line, f"{path} {entry.name}: {exc}; route left out",
                                             tree.text(entry.line, entry.line)))
                gaps.append(unread_gap(tree, file, entry.line, f"{path} {entry.name} left out ({exc})"))
                continue
            if route is not None:
                routes.append(route)
    return routes


def _route(entry: Entry, version: int, span: SourceSpan) -> StaticRoute | None:
    attrs = entry.attributes()
    if "status" in attrs and attrs["status"].first == "disable":
        return None
    unread = [key for key in UNREAD_DESTINATIONS if key in attrs]
    if unread:
        raise _Unreadable(f"destination given by {unread[0]} {' '.join(attrs[unread[0]].values)!r} is not resolved")
    if any(key in attrs and attrs[key].first not in ("", "disable") for key in SDWAN_ROUTE_KEYS):
        raise _Unreadable("it hands traffic to SD-WAN, which picks the member interface at run time")
    destination = _network(attrs.get("dst"), version)
    next_hop: IPAddress | None = None
    if "gateway" in attrs:
        try:
            next_hop = ipaddress.ip_address(attrs["gateway"].first)
        except ValueError:
            raise _Unreadable(f"gateway {attrs['gateway'].first!r} is not an address") from None
        next_hop = None if int(next_hop) == 0 else next_hop
    blackhole = "blackhole" in attrs and attrs["blackhole"].first == "enable"
    device = attrs["device"].first if "device" in attrs and not blackhole else None
    if next_hop is None and device is None and not blackhole:
        raise _Unreadable("neither gateway nor device")
    distance = None
    if "distance" in attrs:
        if not is_decimal(attrs["distance"].first):
            raise _Unreadable(f"distance {attrs['distance'].first!r} is not a number")
        distance = int(attrs["distance"].first)
    return StaticRoute(destination, span, next_hop, device, _vrf(attrs), distance)


def _network(setting: Setting | None, version: int) -> IPNetwork:
    if setting is None:
        return ipaddress.ip_network("0.0.0.0/0" if version == 4 else "::/0")
    text = "/".join(setting.values[:2]) if len(setting.values) >= 2 else setting.first
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise _Unreadable(f"dst {' '.join(setting.values)!r} is not a network") from None
    if network.version != version:
        raise _Unreadable(f"dst {text!r} is not IPv{version}")
    return network
