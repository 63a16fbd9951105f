"""The neutral records every onboarding reader produces: networks and hosts, with their origin.

Nmap, NetBox and CSV describe the same two things in different words; the proposer
works on these records only, so a new source is one reader, not a new code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plantgate.errors import Location


@dataclass(frozen=True)
class SeedNetwork:
    """A prefix some source knows about; ``hint`` is free text (role, VLAN name) for the level guess."""

    network: str
    name: str
    origin: Location
    hint: str = ""
    level: float | None = None
    kind: str = ""
    description: str = ""


@dataclass(frozen=True)
class OpenService:
    protocol: str
    port: int
    name: str = ""
    product: str = ""
    version: str = ""
    cpes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedSoftware:
    """Software a source saw on a host (Nmap's OS match, a service's product and version) with its CPE."""

    product: str
    vendor: str = ""
    version: str = ""
    cpe: str = ""
    seen_as: str = ""


@dataclass(frozen=True)
class SeedHost:
    """A host with its addresses and what the source says it is.

    ``vendor`` is the device maker as the source states it; a MAC address's OUI names the
    network card's maker (often "VMware"), so it is kept apart as ``mac_vendor``.
    """

    addresses: tuple[str, ...]
    name: str
    origin: Location
    mac: str = ""
    vendor: str = ""
    product: str = ""
    version: str = ""
    role: str = ""
    services: tuple[OpenService, ...] = ()
    description: str = ""
    mac_vendor: str = ""
    software: tuple[SeedSoftware, ...] = ()


@dataclass
class Seed:
    """Everything one import read, in source order, and what it chose to leave out (``notes``)."""

    source: str
    networks: list[SeedNetwork] = field(default_factory=list)
    hosts: list[SeedHost] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
