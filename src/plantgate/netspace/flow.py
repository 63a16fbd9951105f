"""One concrete packet: what a witness is, and what ``fw test`` asks about.

Every "this flow is permitted" claim PlantGate makes is backed by a concrete packet a
network engineer can reproduce with a test tool, so the packet is a plain value object
shared by the exact BDD engine (``space``) and the concrete evaluator (``evaluate``).

Canonical form (the same universe the BDD engine uses):
- ``src`` and ``dst`` are of the same IP version; an IPv4-mapped IPv6 address
  (``::ffff:a.b.c.d``) is stored as the IPv4 address it stands for;
- ports are 0 unless the protocol is TCP, UDP or SCTP;
- ICMP type and code are 0 unless the protocol is ICMP or ICMPv6.
A non-canonical combination raises ``ValueError`` rather than being silently changed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from plantgate.firewalls.ruleset import ICMP_PROTOCOLS, PORT_PROTOCOLS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAPPED_V4_BASE = 0xFFFF << 32
"""Start of ``::ffff:0:0/96``, where IPv4 addresses live in the 128-bit address field."""


def address_to_int(address: IPAddress) -> int:
    """The 128-bit value of an address in the shared field (IPv4 -> IPv4-mapped)."""
    if address.version == 4:
        return MAPPED_V4_BASE | int(address)
    return int(address)


def int_to_address(value: int) -> IPAddress:
    """Inverse of ``address_to_int``: values in ``::ffff:0:0/96`` come back as IPv4."""
    if value >> 32 == 0xFFFF:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return ipaddress.IPv6Address(value)


MAPPED_V4_NETWORK = ipaddress.IPv6Network("::ffff:0:0/96")

Prefix = tuple[int, int]
"""(value, length) of a prefix of the 128-bit address field; host bits of value are 0."""


@lru_cache(maxsize=65536)
def network_prefixes(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[Prefix, ...]:
    """The prefixes of the 128-bit field that a configured network denotes.

    IPv4 networks land in ``::ffff:0:0/96``. An IPv6 network means IPv6 packets only,
    so the IPv4-mapped range is cut out of it (``::/0`` is every IPv6 packet, not the
    IPv4 ones) unless the network lies inside that range, where it denotes IPv4.
    """
    if network.version == 4:
        return ((MAPPED_V4_BASE | int(network.network_address), 96 + network.prefixlen),)
    assert isinstance(network, ipaddress.IPv6Network)
    if network.subnet_of(MAPPED_V4_NETWORK) or not network.supernet_of(MAPPED_V4_NETWORK):
        return ((int(network.network_address), network.prefixlen),)
    parts = network.address_exclude(MAPPED_V4_NETWORK)
    return tuple(sorted((int(part.network_address), part.prefixlen) for part in parts))


def prefix_contains(prefix: Prefix, value: int) -> bool:
    """Whether a 128-bit address value lies in a prefix."""
    base, length = prefix
    shift = 128 - length
    return value >> shift == base >> shift


def _canonical_address(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class Flow:
    """A concrete packet (the first packet of a new session)."""

    src: IPAddress
    dst: IPAddress
    proto: int
    sport: int = 0
    dport: int = 0
    icmp_type: int = 0
    icmp_code: int = 0

    def __post_init__(self) -> None:
        src = _canonical_address(ipaddress.ip_address(self.src))
        dst = _canonical_address(ipaddress.ip_address(self.dst))
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "dst", dst)
        if src.version != dst.version:
            raise ValueError(f"source {src} and destination {dst} are of different IP versions")
        if not 0 <= self.proto <= 255:
            raise ValueError(f"IP protocol {self.proto} is outside 0-255")
        for label, value, top in (
            ("source port", self.sport, 65535),
            ("destination port", self.dport, 65535),
            ("ICMP type", self.icmp_type, 255),
            ("ICMP code", self.icmp_code, 255),
        ):
            if not 0 <= value <= top:
                raise ValueError(f"{label} {value} is outside 0-{top}")
        if self.proto not in PORT_PROTOCOLS and (self.sport or self.dport):
            raise ValueError(f"ports only apply to TCP, UDP and SCTP, not protocol {self.proto}")
        if self.proto not in ICMP_PROTOCOLS and (self.icmp_type or self.icmp_code):
            raise ValueError(f"ICMP type/code only apply to ICMP and ICMPv6, not protocol {self.proto}")

    @property
    def has_ports(self) -> bool:
        return self.proto in PORT_PROTOCOLS

    @property
    def is_icmp(self) -> bool:
        return self.proto in ICMP_PROTOCOLS

    def to_dict(self) -> dict[str, Any]:
        """JSON form: addresses as text, protocol as its number; ICMP fields only for ICMP."""
        out: dict[str, Any] = {
            "src": str(self.src),
            "dst": str(self.dst),
            "proto": self.proto,
            "sport": self.sport,
            "dport": self.dport,
        }
        if self.is_icmp:
            out["icmp_type"] = self.icmp_type
            out["icmp_code"] = self.icmp_code
        return out

    def __str__(self) -> str:
        if self.has_ports:
            return f"{self.src}:{self.sport} -> {self.dst}:{self.dport} proto {self.proto}"
        if self.is_icmp:
            return f"{self.src} -> {self.dst} proto {self.proto} type {self.icmp_type} code {self.icmp_code}"
        return f"{self.src} -> {self.dst} proto {self.proto}"
