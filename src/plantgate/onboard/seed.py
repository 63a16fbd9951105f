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


@dataclass(frozen=True)
class SeedHost:
    """A host with its addresses and what the source says it is."""

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


@dataclass
class Seed:
    """Everything one import read, in source order."""

    source: str
    networks: list[SeedNetwork] = field(default_factory=list)
    hosts: list[SeedHost] = field(default_factory=list)
