"""ASA interface addresses and static routes (``ip address``, ``ipv6 address``, ``route``, ``ipv6 route``).

Syntax, from the Cisco ASA command reference:
- under ``interface X``: ``ip address A [M] [standby S] [cluster-pool P]``, ``ip address dhcp|pppoe``
  (no fixed address: nothing to place), ``ipv6 address P/L [standby S]``, ``ipv6 address A link-local``;
- ``route IFC DEST MASK GATEWAY [DISTANCE] [track N | tunneled]``, where ``0`` abbreviates
  ``0.0.0.0`` and ``name`` entries stand for addresses;
- ``ipv6 route IFC PREFIX/LEN GATEWAY [DISTANCE] [tunneled]``.
ASA has one routing table (no VRF): every interface and route is in the default one.
"""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.asa.objects import AsaSyntaxError
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.routes import IPAddress, IPInterface, StaticRoute
from plantgate.firewalls.ruleset import IPNetwork, SourceSpan

NO_FIXED_ADDRESS = frozenset({"dhcp", "pppoe"})
ROUTE_OPTIONS = frozenset({"track", "tunneled"})


def _address(token: str, names: dict[str, IPNetwork]) -> IPAddress:
    """A literal address, ``0`` (ASA's shorthand for 0.0.0.0) or a ``name``."""
    if token == "0":
        return ipaddress.IPv4Address(0)
    if token in names:
        return names[token].network_address
    try:
        return ipaddress.ip_address(token)
    except ValueError:
        raise AsaSyntaxError(f"expected an IP address or a defined name, got {token!r}") from None


def _ipv4_mask_length(token: str) -> int:
    if token == "0":
        return 0
    try:
        return ipaddress.IPv4Network(f"0.0.0.0/{token}").prefixlen
    except ValueError:
        raise AsaSyntaxError(f"expected a contiguous dotted subnet mask, got {token!r}") from None


def interface_address(tokens: list[str], names: dict[str, IPNetwork]) -> IPInterface | None:
    """``ip address A M [standby S]``: the active address with its prefix; None for dhcp/pppoe."""
    if len(tokens) < 3:
        raise AsaSyntaxError("expected 'ip address ADDRESS MASK'")
    if tokens[2] in NO_FIXED_ADDRESS:
        return None
    if len(tokens) < 4 or tokens[3] in ("standby", "cluster-pool"):
        raise AsaSyntaxError("ip address without a subnet mask: the connected network is unknown")
    address = _address(tokens[2], names)
    if address.version != 4:
        raise AsaSyntaxError(f"ip address needs an IPv4 address, got {tokens[2]!r}")
    return ipaddress.IPv4Interface((address, _ipv4_mask_length(tokens[3])))


def ipv6_interface_address(tokens: list[str]) -> IPInterface | None:
    """``ipv6 address P/L [standby S]``; None for link-local, autoconfig, dhcp and the other non-address forms."""
    if len(tokens) < 3 or "/" not in tokens[2] or "link-local" in tokens[3:]:
        return None
    try:
        return ipaddress.IPv6Interface(tokens[2])
    except ValueError:
        raise AsaSyntaxError(f"expected an IPv6 address with its prefix length, got {tokens[2]!r}") from None


def static_route(tokens: list[str], names: dict[str, IPNetwork], span: SourceSpan) -> StaticRoute:
    """``route IFC DEST MASK GW [DIST] [track N | tunneled]`` or ``ipv6 route IFC P/L GW [DIST] [tunneled]``."""
    if tokens[0] == "ipv6":
        if len(tokens) < 5:
            raise AsaSyntaxError("expected 'ipv6 route INTERFACE PREFIX/LENGTH GATEWAY [DISTANCE]'")
        try:
            destination: IPNetwork = ipaddress.IPv6Network(tokens[3], strict=False)
        except ValueError:
            raise AsaSyntaxError(f"expected an IPv6 prefix, got {tokens[3]!r}") from None
        interface, rest = tokens[2], tokens[4:]
    else:
        if len(tokens) < 5:
            raise AsaSyntaxError("expected 'route INTERFACE DESTINATION MASK GATEWAY [DISTANCE]'")
        base = _address(tokens[2], names)
        if base.version != 4:
            raise AsaSyntaxError(f"route needs an IPv4 destination, got {tokens[2]!r}")
        destination = ipaddress.IPv4Network((base, _ipv4_mask_length(tokens[3])), strict=False)
        interface, rest = tokens[1], tokens[4:]
    next_hop = _address(rest[0], names)
    if next_hop.version != destination.version:
        raise AsaSyntaxError(f"gateway {rest[0]!r} is not of the destination's address family")
    distance = None
    options = rest[1:]
    if options and is_decimal(options[0]):
        distance, options = int(options[0]), options[1:]
    if options and options[0] not in ROUTE_OPTIONS:
        raise AsaSyntaxError(f"unknown route option {options[0]!r}")
    return StaticRoute(destination, span, next_hop, interface, "", distance)
