"""Shared services stay on the OT side: time, DNS, logging, patch staging and the SOC feed.

The reference text lets services be shared only under an OT condition: OT assets use OT
instances inside the boundary, those instances sync outward through a registered conduit,
OT pulls patches from DMZ staging (IT never pushes), and OT sensors feed the SOC over
sessions that OT opens. Each condition is checked against the assets and the register.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.firewall import PUSH_PORTS
from plantgate.checks.references import IEC_SR_5_1, IEC_SR_6_1, NIST_AC_4, NIST_SC_7, NIST_SI_2, REF_SERVICES
from plantgate.checks.registry import check, rule
from plantgate.model import Treaty
from plantgate.model.assets import Asset, AssetRole
from plantgate.model.conduits import Conduit, ConduitService
from plantgate.model.networks import cidr
from plantgate.model.services import SharedServiceKind
from plantgate.model.zones import Zone

SERVER_OUTSIDE = rule(
    "PG-SERVICES-001", "OT asset uses a time, DNS or syslog server outside the OT side", Severity.HIGH,
    (REF_SERVICES, IEC_SR_5_1, NIST_SC_7),
    "Time, DNS and logging come from OT instances inside the boundary (OT zones or the DMZ), never from "
    "enterprise or public servers such as 8.8.8.8 or pool.ntp.org.")
NO_SYNC_CONDUIT = rule(
    "PG-SERVICES-002", "OT service instance has no conduit for its outward sync", Severity.MEDIUM,
    (REF_SERVICES, NIST_AC_4),
    "An OT time, DNS or syslog instance syncs or forwards outward through a registered, OT-initiated conduit.")
PATCH_PUSH = rule(
    "PG-SERVICES-003", "Conduit lets IT or the DMZ open sessions into OT on patch or AV ports", Severity.HIGH,
    (REF_SERVICES, IEC_SR_5_1, NIST_SI_2),
    "Patch distribution goes through DMZ staging that OT pulls from; a WSUS, SCCM or AV push into OT is a finding.")
STAGING = rule(
    "PG-SERVICES-004", "Patch staging is not a DMZ server that OT pulls from", Severity.HIGH,
    (REF_SERVICES, NIST_SI_2), "The staging server sits in the DMZ and OT opens the sessions to it.")
SENSOR_FEED = rule(
    "PG-SERVICES-005", "OT monitoring sensor not fed to the SOC by OT-initiated conduits only", Severity.HIGH,
    (REF_SERVICES, IEC_SR_6_1, NIST_SC_7),
    "OT sensors feed the SOC through conduits that the OT side opens; the SOC never opens sessions to them.")

_SERVER_FIELDS = {"time_servers": "time", "dns_servers": "DNS", "syslog_servers": "syslog"}
_SYNC_PORTS: dict[SharedServiceKind, list[tuple[int, tuple[int, int]]]] = {
    SharedServiceKind.TIME: [(17, (123, 123))],
    SharedServiceKind.DNS: [(17, (53, 53)), (6, (53, 53))],
    SharedServiceKind.LOGGING: [(17, (514, 514)), (6, (514, 514)), (6, (601, 601)), (6, (6514, 6514))],
}
_SERVICE_ROLES = {SharedServiceKind.TIME: AssetRole.NTP, SharedServiceKind.DNS: AssetRole.DNS,
                  SharedServiceKind.LOGGING: AssetRole.SYSLOG}
_PUBLIC_SUFFIXES = ("ntp.org", "google.com", "windows.com", "microsoft.com", "apple.com", "cloudflare.com",
                    "quad9.net", "opendns.com", "nist.gov", "amazonaws.com", "ubuntu.com", "debian.org")


@dataclass(frozen=True)
class Placement:
    """Where a server written as an asset id, an address or a host name lives."""

    asset: Asset | None
    zone: Zone | None
    public: bool

    @property
    def ot_side(self) -> bool:
        return self.zone is not None and (self.zone.is_ot or self.zone.is_dmz)


def zone_of_address(treaty: Treaty, text: str) -> Zone | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return next((z for z in treaty.zones for n in z.ip_networks() if n.version == address.version
                 and address in n), None)


def place(treaty: Treaty, ref: str) -> Placement:
    """An asset id, an asset's name, an address (placed by zone networks) or an unknown host name."""
    text = ref.strip()
    asset = treaty.asset(text) or next((a for a in treaty.assets if a.name.lower() == text.lower()
                                        or text in a.addresses), None)
    if asset is not None:
        return Placement(asset, treaty.zone(asset.zone), False)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        lowered = text.lower().rstrip(".")
        public = any(lowered == s or lowered.endswith("." + s) for s in _PUBLIC_SUFFIXES)
        return Placement(None, None, public)
    return Placement(None, zone_of_address(treaty, text), address.is_global)


def in_ot(treaty: Treaty, asset: Asset) -> bool:
    zone = treaty.zone(asset.zone)
    return zone is not None and zone.is_ot


def names_asset(treaty: Treaty, items: list[str], asset: Asset) -> bool:
    """Whether a conduit's sources or destinations take in the asset (an empty list takes in the whole zone)."""
    if not items:
        return True
    for item in items:
        if item == asset.id:
            return True
        network = cidr(item)
        if network is None:
            continue
        if any(a.version == network.version and a in network for a in asset.ip_addresses()):
            return True
    return False


def service_overlaps(service: ConduitService, protocol: int, ports: tuple[int, int]) -> bool:
    if service.protocol_number is not None and service.protocol_number != protocol:
        return False
    ranges = service.port_ranges()
    return not ranges or any(low <= ports[1] and ports[0] <= high for low, high in ranges)


def _conduit_carries(conduit: Conduit, wanted: list[tuple[int, tuple[int, int]]]) -> bool:
    return any(service_overlaps(s, proto, ports) for s in conduit.services for proto, ports in wanted)


@check
def ot_assets_use_ot_servers(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    for asset in treaty.assets:
        if not in_ot(treaty, asset):
            continue
        for field_name, label in _SERVER_FIELDS.items():
            for index, ref in enumerate(getattr(asset, field_name)):
                placement = place(treaty, ref)
                if placement.ot_side:
                    continue
                where = [ctx.site.locate_item("assets", asset.id, field_name, index)]
                if placement.zone is not None:
                    reason, severity = f"in {placement.zone.kind.value} zone {placement.zone.id}", Severity.HIGH
                elif placement.public:
                    reason, severity = "a public server outside the plant", Severity.HIGH
                else:
                    reason, severity = "not an asset or address of any treaty zone, so it cannot be shown to " \
                                       "be OT-side", Severity.MEDIUM
                yield SERVER_OUTSIDE.finding(
                    [asset.id, ref], f"{asset.name} ({asset.id}) uses {label} server {ref}, {reason}; OT assets "
                    f"use OT {label} instances inside the boundary.", where, severity=severity,
                    discriminator=f"{field_name}:{ref}")


def _service_instances(ctx: CheckContext, kind: SharedServiceKind) -> list[Asset]:
    treaty = ctx.treaty
    services = treaty.shared_services.services if treaty.shared_services else {}
    listed = services[kind].providers if kind in services else []
    ids = list(dict.fromkeys([*listed, *(a.id for a in treaty.assets if a.role is _SERVICE_ROLES[kind])]))
    return [a for a in (treaty.asset(i) for i in ids) if a is not None and in_ot(treaty, a)]


@check
def ot_instances_sync_outward(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    for kind, ports in _SYNC_PORTS.items():
        for asset in _service_instances(ctx, kind):
            own = treaty.zone(asset.zone)
            found = False
            for conduit in treaty.conduits:
                responder = treaty.zone(conduit.responding_zone)
                if conduit.initiating_zone != asset.zone or responder is None or own is None \
                        or responder.level <= own.level:
                    continue
                if names_asset(treaty, conduit.sources, asset) and _conduit_carries(conduit, ports):
                    found = True
                    break
            if not found:
                yield NO_SYNC_CONDUIT.finding(
                    [asset.id], f"OT {kind.value} instance {asset.name} ({asset.id}) has no conduit it opens "
                    f"outward (toward the DMZ) on the {kind.value} ports for its sync or forwarding.",
                    [ctx.site.locate_item("assets", asset.id)], discriminator=kind.value)


@check
def patches_pulled_not_pushed(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    push = [(proto, rng) for ranges in PUSH_PORTS.values() for rng in ranges for proto in (6, 17)]
    for conduit in treaty.conduits:
        initiator, responder = treaty.zone(conduit.initiating_zone), treaty.zone(conduit.responding_zone)
        if initiator is None or responder is None or not responder.is_ot or not (initiator.is_it or initiator.is_dmz):
            continue
        products = [name for name, ranges in PUSH_PORTS.items()
                    if _conduit_carries(conduit, [(p, r) for r in ranges for p in (6, 17)])]
        if products and _conduit_carries(conduit, push):
            yield PATCH_PUSH.finding(
                [conduit.id], f"Conduit {conduit.id} lets {initiator.id} open sessions into {responder.id} on "
                f"{'; '.join(products)} ports; OT must pull from DMZ staging.",
                [ctx.site.locate_item("conduits", conduit.id)],
                severity=Severity.CRITICAL if responder.is_safety else None)
    yield from _staging(ctx)


def _staging(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    policy = treaty.patch_policy
    services = treaty.shared_services.services if treaty.shared_services else {}
    distribution = services.get(SharedServiceKind.PATCH_DISTRIBUTION)
    staged: list[tuple[str, tuple[str | int, ...]]] = []
    if policy and policy.staging_server:
        staged.append((policy.staging_server, ("patch_policy", "staging_server")))
    if distribution:
        staged += [(p, ("shared_services", "services", "patch_distribution", "providers", i))
                   for i, p in enumerate(distribution.providers)]
    if policy and not staged:
        yield STAGING.finding(["patch_policy"], "The patch policy names no staging server in the DMZ.",
                              [ctx.site.locate("patch_policy")], severity=Severity.MEDIUM)
    seen: set[str] = set()
    for asset_id, path in staged:
        if asset_id in seen:
            continue
        seen.add(asset_id)
        asset = treaty.asset(asset_id)
        zone = treaty.zone(asset.zone) if asset else None
        if asset is None or zone is None:
            continue
        where = [ctx.site.locate(*path)]
        if not zone.is_dmz:
            yield STAGING.finding([asset.id], f"Patch staging server {asset.name} ({asset.id}) sits in {zone.id} "
                                  f"(level {zone.level:g}), not in the DMZ.", where, discriminator="zone")
            continue
        ot_zones = {z.id for z in treaty.zones if z.is_ot}
        pulled = any(c.initiating_zone in ot_zones and c.responding_zone == zone.id
                     and names_asset(treaty, c.destinations, asset) for c in treaty.conduits)
        if not pulled:
            yield STAGING.finding([asset.id], f"No conduit lets OT pull from patch staging {asset.name} "
                                  f"({asset.id}); OT must open the sessions.", where, severity=Severity.MEDIUM,
                                  discriminator="pull")


@check
def sensors_feed_outward_only(ctx: CheckContext) -> Iterator[Finding]:
    treaty = ctx.treaty
    services = treaty.shared_services.services if treaty.shared_services else {}
    monitoring = services.get(SharedServiceKind.MONITORING)
    ids = list(dict.fromkeys([*(monitoring.providers if monitoring else []),
                              *(a.id for a in treaty.assets if a.role is AssetRole.SOC_SENSOR)]))
    for asset in (a for a in (treaty.asset(i) for i in ids) if a is not None):
        zone = treaty.zone(asset.zone)
        if zone is None or not (zone.is_ot or zone.is_dmz):
            continue
        feeds = False
        for conduit in treaty.conduits:
            initiator, responder = treaty.zone(conduit.initiating_zone), treaty.zone(conduit.responding_zone)
            if initiator is None or responder is None:
                continue
            if responder.id == zone.id and initiator.is_it and names_asset(treaty, conduit.destinations, asset):
                yield SENSOR_FEED.finding(
                    [asset.id, conduit.id], f"Conduit {conduit.id} lets {initiator.id} open sessions to OT sensor "
                    f"{asset.name} ({asset.id}); the SOC feed must be opened from the OT side only.",
                    [ctx.site.locate_item("conduits", conduit.id)], discriminator=conduit.id)
            if initiator.id == zone.id and responder.level > zone.level \
                    and names_asset(treaty, conduit.sources, asset):
                feeds = True
        if not feeds:
            yield SENSOR_FEED.finding(
                [asset.id], f"OT sensor {asset.name} ({asset.id}) has no conduit it opens toward the SOC.",
                [ctx.site.locate_item("assets", asset.id)], severity=Severity.MEDIUM, discriminator="no-feed")
