"""The access map: who can reach each control, field and safety zone, through which path, on whose word.

The first question a plant engineer asks is end to end: who can reach my controllers
and my safety system, including the suppliers' remote access, and who approved it
until when. For every such zone this joins the end-to-end reach of every other zone
with the assets behind the flows and the conduits (business reason, OT approver,
review-by date) that cover them, and marks supplier and remote access.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import address_set
from plantgate.model.assets import Asset, AssetRole
from plantgate.model.conduits import Conduit
from plantgate.model.zones import Zone, ZoneKind
from plantgate.reconcile.coverage import FirewallCoverage, caveat
from plantgate.reconcile.reach import Estate, PathReach, service_summary
from plantgate.reconcile.topology import ZonePath

TARGET_KINDS = frozenset({ZoneKind.CONTROL, ZoneKind.FIELD, ZoneKind.SAFETY})
REMOTE_ROLES = frozenset({AssetRole.VPN_CONCENTRATOR, AssetRole.REMOTE_ACCESS, AssetRole.CELLULAR_ROUTER,
                          AssetRole.JUMP_HOST})
"""Asset roles that stand for remote access: VPN concentrators, remote-support tools, 4G routers, jump hosts."""


@dataclass
class Decision:
    """Who decided a conduit, why, and until when."""

    conduit_id: str
    business_reason: str
    ot_approver: str
    review_by: dt.date | None
    overdue: bool

    def __str__(self) -> str:
        until = "no review date"
        if self.review_by:
            until = f"review by {self.review_by}" + (" (OVERDUE)" if self.overdue else "")
        reason = self.business_reason or "no reason given"
        return f"{self.conduit_id}: {reason}; OT approver {self.ot_approver}; {until}"


@dataclass
class AccessEntry:
    """One source zone reaching the target along one path."""

    source: str
    path: PathReach
    services: list[str]
    hosts: list[tuple[Asset, bool]]
    decisions: list[Decision]
    remote_reasons: list[str] = field(default_factory=list)

    @property
    def remote(self) -> bool:
        return bool(self.remote_reasons)

    def to_dict(self) -> dict[str, Any]:
        witness, uncovered = self.path.witness, self.path.uncovered_witness
        return {
            "source": self.source, "path": str(self.path.path), "firewalls": self.path.path.firewall_ids,
            "services": self.services, "witness": witness.to_dict() if witness else None,
            "hosts": [{"asset": a.id, "name": a.name, "role": a.role.value if a.role else None, "remote_access": r}
                      for a, r in self.hosts],
            "conduits": [{"id": d.conduit_id, "business_reason": d.business_reason, "ot_approver": d.ot_approver,
                          "review_by": d.review_by.isoformat() if d.review_by else None, "overdue": d.overdue}
                         for d in self.decisions],
            "unregistered_witness": uncovered.to_dict() if uncovered else None,
            "remote_access": self.remote, "remote_reasons": self.remote_reasons,
            "rules": [h.to_dict() for h in self.path.hops],
        }


@dataclass
class ZoneAccess:
    """Who reaches one zone; ``unproved`` names the firewalls whose gaps leave that answer open."""

    zone: Zone
    entries: list[AccessEntry]
    routing_notes: list[str] = field(default_factory=list)
    unproved: list[FirewallCoverage] = field(default_factory=list)

    @property
    def proved(self) -> bool:
        return not self.unproved

    def to_dict(self) -> dict[str, Any]:
        return {"zone": self.zone.id, "name": self.zone.name, "level": self.zone.level, "kind": self.zone.kind.value,
                "reached_from": [e.to_dict() for e in self.entries], "routing": sorted(set(self.routing_notes)),
                "proved": self.proved, "not_modelled_fully": [c.to_dict() for c in self.unproved]}


def target_zones(estate: Estate, zone_id: str | None) -> list[Zone]:
    """The zone asked for, or every control, field and safety zone."""
    zones: list[Zone] = estate.treaty.zones
    if zone_id is None:
        return [z for z in zones if z.kind in TARGET_KINDS or z.is_safety]
    zone = estate.treaty.zone(zone_id)
    if zone is None:
        raise InputError.at("--zone", 0, 0, f"unknown zone '{zone_id}'", "one of: " + ", ".join(z.id for z in zones))
    return [zone]


def _decision(estate: Estate, conduit: Conduit, as_of: dt.date) -> Decision:
    approver = "none named"
    if conduit.ot_approver:
        person = estate.treaty.person(conduit.ot_approver)
        approver = f"{person.name} ({person.id})" if person else conduit.ot_approver
    overdue = conduit.review_by is not None and conduit.review_by < as_of
    return Decision(conduit.id, conduit.business_reason, approver, conduit.review_by, overdue)


def _entry(estate: Estate, source: Zone, result: PathReach, as_of: dt.date) -> AccessEntry:
    space = estate.space
    hosts: list[tuple[Asset, bool]] = []
    for asset in estate.treaty.assets:
        if not asset.addresses:
            continue
        if result.flows.intersects(space.addresses("src", address_set(asset.addresses))):
            hosts.append((asset, asset.role in REMOTE_ROLES))
    reasons = []
    if source.kind in (ZoneKind.VENDOR, ZoneKind.EXTERNAL):
        reasons.append(f"source zone {source.id} is a {source.kind.value} zone")
    reasons += [f"{a.id} is a {a.role.value.replace('_', ' ')}" for a, remote in hosts if remote and a.role]
    decisions = [_decision(estate, c, as_of) for c in result.conduits]
    return AccessEntry(source.id, result, service_summary(result.flows), hosts, decisions, reasons)


def access_map(estate: Estate, zone_id: str | None = None, as_of: dt.date | None = None,
               evidence: bool = True) -> list[ZoneAccess]:
    """For each target zone, every zone (and host) that reaches it end to end, with the decisions."""
    today = as_of or dt.date.today()
    out = []
    for target in target_zones(estate, zone_id):
        entries: list[AccessEntry] = []
        notes: list[str] = []
        considered: list[ZonePath] = []
        for source in estate.treaty.zones:
            if source.id == target.id:
                continue
            reach = estate.reach(source.id, target.id, evidence=evidence)
            if reach.choice.paths:
                notes.append(reach.choice.note)
            considered += reach.choice.paths
            entries += [_entry(estate, source, result, today) for result in reach.paths]
        out.append(ZoneAccess(target, entries, notes, estate.unproved({target.id}, considered)))
    return out


def access_map_text(zones: list[ZoneAccess]) -> str:
    """Plain text for the terminal and the report."""
    lines: list[str] = []
    for item in zones:
        lines.append(f"{item.zone.id} - {item.zone.name} (level {item.zone.level:g}, {item.zone.kind.value})")
        if not item.entries and item.proved:
            lines.append("  reached end to end from no other zone through the boundary firewalls")
        elif not item.entries:
            lines.append("  NOT PROVED: no path was found through the firewalls that were modelled, but "
                         + caveat(item.unproved))
        elif item.unproved:
            lines.append("  more may reach it: " + caveat(item.unproved))
        for entry in item.entries:
            flag = "  [REMOTE/SUPPLIER ACCESS]" if entry.remote else ""
            lines.append(f"  from {entry.source} via {entry.path.path}{flag}")
            lines.append(f"    services: {', '.join(entry.services)}; e.g. {entry.path.witness}")
            if entry.hosts:
                lines.append("    hosts: " + ", ".join(f"{a.id}" + (" (remote access)" if r else "")
                                                       for a, r in entry.hosts))
            for decision in entry.decisions:
                lines.append(f"    conduit {decision}")
            if entry.path.uncovered_witness is not None:
                lines.append(f"    NOT IN THE REGISTER, e.g. {entry.path.uncovered_witness}")
            for reason in entry.remote_reasons:
                lines.append(f"    remote access: {reason}")
            for hop in entry.path.hops:
                lines.append(f"    {hop.hop}: {'; '.join(hop.rule_texts())}")
        for note in sorted(set(item.routing_notes)):
            lines.append(f"  ({note})")
    return "\n".join(lines)
