"""From seed records to treaty proposals: zones from prefixes, assets from hosts, placed by address.

A proposal is plain treaty YAML data (dicts), validated against the treaty model before
anything is written. Purdue levels cannot be read off a prefix; where the source gives
no level, it is guessed from the network's name and role, and every guess is listed in
the proposal's notes for a human to confirm. A prefix that overlaps a zone the treaty
already has (a scan of 10.20.0.0/16 over zones of /24s) proposes no zone: zones must not
overlap, so its hosts go to the existing zones and the proposal warns. A device type no
role fits becomes ``other`` with a note (or what the site's type map says), never an abort.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from plantgate.errors import InputError
from plantgate.feeds.asset_inventory import normalise
from plantgate.model.assets import Asset
from plantgate.model.zones import Zone
from plantgate.onboard.seed import Seed, SeedHost
from plantgate.onboard.type_map import TypeMap, role_for

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LEVEL_HINTS: tuple[tuple[tuple[str, ...], float, str], ...] = (
    (("sis", "safety", "esd"), 1.0, "safety"),
    (("dmz",), 3.5, "dmz"),
    (("vendor", "supplier"), 4.0, "vendor"),
    (("internet", "external", "wan"), 5.0, "external"),
    (("corp", "enterprise", "office", "business", "it "), 4.0, "enterprise"),
    (("field", "instrument", "io "), 0.0, "field"),
    (("scada", "supervis", "hmi", "dcs", "l2", "level 2"), 2.0, "control"),
    (("plc", "controller", "control", "l1", "level 1"), 1.0, "control"),
    (("ops", "operation", "historian", "site", "l3", "level 3"), 3.0, "operations"),
)
ICS_SERVER_PORTS = frozenset({102, 502, 2222, 2404, 20000, 44818, 47808, 34962})
ROLE_SYNONYMS = {"plc": "controller", "rtu": "controller", "ied": "controller", "ews": "engineering_workstation",
                 "engineering-workstation": "engineering_workstation", "dc": "domain_controller",
                 "router": "other", "server": "server", "workstation": "workstation", "sis": "sis"}
PORT_ROLES = {3389: "workstation", 53: "dns", 123: "ntp", 514: "syslog", 6514: "syslog", 88: "domain_controller"}


@dataclass
class Proposal:
    """Zones and assets to merge, the hosts no zone holds, and the guesses a human must confirm.

    ``stated`` names, per asset id, the fields the source itself gives (not guessed or
    computed): only those are compared with an asset the treaty already holds.
    """

    source: str
    zones: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)
    unassigned: list[SeedHost] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stated: dict[str, set[str]] = field(default_factory=dict)


def slug(text: str, fallback: str) -> str:
    value = re.sub(r"[^A-Za-z0-9_.:-]+", "-", text.strip().lower()).strip("-._:")
    return value[:100] if value else fallback


def _number(level: float) -> float | int:
    return int(level) if float(level).is_integer() else level


def guess_level(text: str) -> tuple[float, str] | None:
    lowered = f" {text.lower()} "
    for words, level, kind in LEVEL_HINTS:
        if any(word in lowered for word in words):
            return level, kind
    return None


def stated_role(host: SeedHost, type_map: TypeMap) -> str | None:
    """The role the source states for the host, mapped; None when it states none or one no role fits."""
    if not host.role.strip():
        return None
    wanted = host.role.strip().lower().replace(" ", "_")
    if wanted.replace("_", "-") in ROLE_SYNONYMS and normalise(host.role) not in type_map:
        return ROLE_SYNONYMS[wanted.replace("_", "-")]
    role = role_for(host.role, type_map)
    return role.value if role is not None else None


def guess_role(host: SeedHost, type_map: TypeMap | None = None) -> str:
    role = stated_role(host, type_map or {})
    if role is not None:
        return role
    if host.role.strip():
        return "other"  # stated, but no role fits: the caller notes it
    ports = {s.port for s in host.services}
    if ports & ICS_SERVER_PORTS:
        return "controller"
    for port, role in PORT_ROLES.items():
        if port in ports:
            return role
    return "other"


def _overlapping(network: str, zones_by_network: list[tuple[Network, str]]) -> list[str]:
    mine = ipaddress.ip_network(network)
    return sorted({f"{zone_id} ({net})" for net, zone_id in zones_by_network
                   if net.version == mine.version and net.overlaps(mine)})


def propose(seed: Seed, existing_zones: list[dict[str, Any]], type_map: TypeMap | None = None) -> Proposal:
    """Zones for prefixes the treaty lacks, and an asset per host in the zone holding its first address."""
    proposal = Proposal(seed.source, notes=list(seed.notes))
    known = {str(ipaddress.ip_network(n)): z.get("id", "") for z in existing_zones for n in z.get("networks", []) or []}
    zones_by_network: list[tuple[Network, str]] = [(ipaddress.ip_network(n), zone_id) for n, zone_id in known.items()]
    used_ids = {z.get("id") for z in existing_zones}
    for net in seed.networks:
        if net.network in known:
            continue
        overlapping = _overlapping(net.network, zones_by_network)
        if overlapping:
            proposal.warnings.append(
                f"{net.origin}: {net.network} overlaps existing zone(s) {', '.join(overlapping)}: no zone is "
                "proposed for it; its hosts are placed in the existing zones, and hosts outside them are listed "
                "as unassigned")
            continue
        zone_id = slug(net.name, "net-" + net.network.replace(".", "-").replace("/", "-").replace(":", "-"))
        if zone_id in used_ids:
            zone_id = slug(f"{zone_id}-{net.network}", zone_id)
        guess = (net.level, net.kind or "") if net.level is not None else guess_level(f"{net.hint} {net.name}")
        if guess is None or not guess[1]:
            level, kind = (guess[0] if guess else 3.0), (guess[1] if guess and guess[1] else "operations")
            proposal.notes.append(f"{net.origin}: zone {zone_id} ({net.network}): level {level:g} and kind {kind} "
                                  "are a default; set them by hand")
        else:
            level, kind = guess
            if net.level is None:
                proposal.notes.append(f"{net.origin}: zone {zone_id} ({net.network}): level {level:g} and kind {kind} "
                                      "guessed from its name; confirm them")
        zone: dict[str, Any] = {"id": zone_id, "name": net.name, "level": _number(level), "kind": kind,
                                "networks": [net.network]}
        if net.description:
            zone["description"] = net.description
        _validate(Zone, zone, net.origin)
        proposal.zones.append(zone)
        known[net.network] = zone_id
        used_ids.add(zone_id)
        zones_by_network.append((ipaddress.ip_network(net.network), zone_id))
    zones_by_network.sort(key=lambda item: -item[0].prefixlen)
    asset_ids: set[str] = set()
    for host in seed.hosts:
        first = ipaddress.ip_address(host.addresses[0])
        holder = next((z for n, z in zones_by_network if n.version == first.version and first in n), None)
        if holder is None:
            proposal.unassigned.append(host)
            continue
        fallback = "host-" + str(first).replace(".", "-").replace(":", "-")
        asset_id = slug(host.name.split(".")[0], fallback) if host.name else fallback
        if asset_id in asset_ids:
            asset_id = fallback
        asset_ids.add(asset_id)
        role = guess_role(host, type_map or {})
        stated = {"addresses"}
        if host.role.strip():
            if stated_role(host, type_map or {}) is None:
                proposal.notes.append(f"{host.origin}: type {host.role!r} of {host.name or first} is not an asset "
                                      "role PlantGate knows: imported as other (map it with --type-map FILE)")
            else:
                stated.add("role")
        asset: dict[str, Any] = {"id": asset_id, "name": host.name or str(first), "zone": holder,
                                 "role": role, "addresses": list(host.addresses)}
        for key in ("vendor", "product", "version"):
            if getattr(host, key):
                asset[key] = getattr(host, key)
                stated.add(key)
        software = [{k: v for k, v in (("vendor", item.vendor), ("product", item.product), ("version", item.version),
                                       ("cpe", item.cpe), ("seen_as", item.seen_as)) if v}
                    for item in host.software]
        if software:
            asset["software"] = software
            stated.add("software")
        description = host.description or _services_text(host)
        if description:
            asset["description"] = description
            stated.add("description")
        _validate(Asset, asset, host.origin)
        proposal.assets.append(asset)
        proposal.stated[asset_id] = stated
    return proposal


def _services_text(host: SeedHost) -> str:
    parts = [f"{s.protocol}/{s.port}" + (f" {s.name}" if s.name else "") for s in host.services]
    nic = f" (network card by {host.mac_vendor})" if host.mac_vendor else ""
    mac = f"MAC {host.mac}{nic}" if host.mac else ""
    return "; ".join(x for x in ("open: " + ", ".join(parts) if parts else "", mac) if x)


def _validate(model: type[Zone] | type[Asset], item: dict[str, Any], origin: Any) -> None:
    try:
        model.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError.at(origin.file, origin.line, origin.column,
                            f"cannot propose {model.__name__.lower()} {item.get('id')}: {first['msg']}",
                            "a row the treaty model accepts") from None
