"""Coverage as a result: per firewall, what the reconciliation modelled and what it left out.

PlantGate's silence must mean something. A config whose filters never reach a pair of
treaty zones (an ACL no interface binds, a FORWARD chain without interfaces, a zone-map
key that names nothing) yields no finding at all unless the step from config to zones
says so itself. Every run therefore carries, per firewall, the treaty zone pairs its
filters were placed on and each thing that stayed out, with its line where it has one.

Items that can hide a flow (an unmapped interface, a zone pair left unplaced, a NAT
statement, an ACL the treaty does not place) make the coverage partial; items that can
only over-report (a construct widened toward "permitted") are kept as notes. NAT items
come from ``Ruleset.nat_statements`` alone, so once NAT is modelled the parsers stop
listing the statements they model and the items go away without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from plantgate.errors import Location


class CoverageLevel(StrEnum):
    """How much of a firewall the reconciliation modelled."""

    FULL = "fully"
    PARTIAL = "in part"
    NONE = "not at all"


class GapKind(StrEnum):
    """What kind of thing stayed out of the model."""

    NO_ZONE_PAIR = "joins no treaty zone pair"
    UNPLACED_PAIR = "zone pair not placed"
    UNMAPPED_INTERFACE = "interface or zone not mapped"
    UNNAMED_INTERFACE = "interface the rules never name"
    UNPLACED_FILTER = "filter not placed"
    UNBOUND_FILTER = "filter bound to nothing"
    NAT = "NAT not modelled"
    WIDENED = "construct widened"
    BY_NETWORKS = "placed by networks"
    ZONE_WITHOUT_NETWORKS = "zone without networks"
    ZONE_MAP_UNVERIFIED = "zone map not verifiable from interface addresses"


@dataclass(frozen=True)
class CoverageItem:
    """One thing the reconciliation of a firewall did not model exactly.

    ``hides`` is True when the item can hide a flow (then the firewall is modelled in part
    at best); False when it can only make PlantGate report more than the device permits.
    """

    kind: GapKind
    subject: str
    detail: str
    location: Location | None = None
    hides: bool = True

    def to_dict(self, base_relative: str | None = None) -> dict[str, Any]:
        return {"kind": self.kind.value, "subject": self.subject, "detail": self.detail,
                "location": base_relative if base_relative is not None else (
                    str(self.location) if self.location else None),
                "hides_flows": self.hides}


@dataclass(frozen=True)
class PairPlacement:
    """A pair of treaty zones whose sessions the firewall's filters were placed on, and how."""

    from_zone: str
    to_zone: str
    via: str
    """How: the config's interfaces or zones, an ACL named in the zone map, or the zones' networks."""

    def __str__(self) -> str:
        return f"{self.from_zone} -> {self.to_zone} ({self.via})"


@dataclass
class FirewallCoverage:
    """What one firewall's reconciliation modelled: placed zone pairs and the items left out."""

    firewall_id: str
    vendor: str
    zones: list[str]
    placed: list[PairPlacement] = field(default_factory=list)
    items: list[CoverageItem] = field(default_factory=list)

    @property
    def level(self) -> CoverageLevel:
        if not self.placed:
            return CoverageLevel.NONE
        if any(item.hides for item in self.items):
            return CoverageLevel.PARTIAL
        return CoverageLevel.FULL

    @property
    def full(self) -> bool:
        return self.level is CoverageLevel.FULL

    @property
    def placed_pairs(self) -> set[tuple[str, str]]:
        return {(p.from_zone, p.to_zone) for p in self.placed}

    def gaps(self) -> list[CoverageItem]:
        """The items that can hide a flow."""
        return [item for item in self.items if item.hides]

    def notes(self) -> list[CoverageItem]:
        """The items that can only over-report."""
        return [item for item in self.items if not item.hides]

    def reasons(self, limit: int = 2) -> str:
        """Why the firewall is not modelled fully, in a few plain words (empty when it is)."""
        gaps = self.gaps()
        if not gaps:
            return ""
        text = "; ".join(g.detail if g.subject == self.firewall_id else f"{g.subject}: {g.detail}"
                         for g in gaps[:limit])
        if len(gaps) > limit:
            text += f"; and {len(gaps) - limit} more"
        return text

    def sentence(self) -> str:
        """``fw-x was modelled in part (...)``, for people."""
        reasons = self.reasons()
        return f"{self.firewall_id} was modelled {self.level.value}" + (f" ({reasons})" if reasons else "")

    def to_dict(self, relative: Any = None) -> dict[str, Any]:
        """``relative`` turns a Location into text relative to the treaty folder (None: as is)."""

        def where(item: CoverageItem) -> str | None:
            if item.location is None:
                return None
            return relative(item.location) if relative is not None else str(item.location)

        return {
            "firewall": self.firewall_id, "vendor": self.vendor, "modelled": self.level.value,
            "zones": self.zones,
            "placed": [{"from_zone": p.from_zone, "to_zone": p.to_zone, "via": p.via} for p in self.placed],
            "not_modelled": [item.to_dict(where(item)) for item in self.gaps()],
            "notes": [item.to_dict(where(item)) for item in self.notes()],
        }


def caveat(coverages: list[FirewallCoverage]) -> str:
    """What must follow any all-clear made while these firewalls were not modelled fully."""
    return "; ".join(c.sentence() for c in coverages)
