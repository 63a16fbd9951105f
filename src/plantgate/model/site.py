"""The site header and the whole treaty document that hangs off it."""

from __future__ import annotations

from pydantic import Field

from plantgate.model.assets import Asset
from plantgate.model.base import TreatyModel
from plantgate.model.changes import ChangeRecord
from plantgate.model.charter import Charter
from plantgate.model.conduits import Conduit
from plantgate.model.endpoints import EndpointPolicy
from plantgate.model.firewalls import FirewallEntry
from plantgate.model.governance import EscalationPath, Person, RaciEntry
from plantgate.model.identity import Identity
from plantgate.model.patch import PatchPolicy
from plantgate.model.routing import ZoneRoute
from plantgate.model.services import SharedServices
from plantgate.model.soc import SocPlaybook
from plantgate.model.vulns import VulnerabilityGovernance
from plantgate.model.zones import Zone


class SiteInfo(TreatyModel):
    """Which plant this treaty governs."""

    name: str = Field(description="Short site name shown on every report page.")
    plant: str = Field(description="The plant or unit, e.g. 'Olefins unit 2'.")
    timezone: str = Field(default="UTC", description="IANA time zone of the plant, e.g. Europe/Rome.")
    revision: str = Field(default="", description="Treaty revision label (signatures refer to it).")


class Treaty(TreatyModel):
    """The whole OT/IT convergence treaty of one site, as written in its YAML files."""

    site: SiteInfo
    zones: list[Zone] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)
    conduits: list[Conduit] = Field(default_factory=list)
    firewalls: list[FirewallEntry] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    charter: Charter | None = None
    shared_services: SharedServices | None = None
    identity: Identity | None = None
    patch_policy: PatchPolicy | None = None
    raci: list[RaciEntry] = Field(default_factory=list)
    escalation: EscalationPath | None = None
    soc: SocPlaybook | None = None
    endpoint_policy: EndpointPolicy | None = Field(
        default=None, description="Vendor-qualified agents per control-system product, and the endpoint consoles.")
    vulnerabilities: VulnerabilityGovernance | None = None
    changes: list[ChangeRecord] = Field(default_factory=list, description="Loaded from changes/*.yaml, one a file.")
    routes: list[ZoneRoute] = Field(default_factory=list, description="Routing facts: the firewalls a zone's "
                                    "traffic to another zone crosses, in order.")
    flows: list[str] = Field(default_factory=list, description="Observed flow files (Zeek conn.log, flow CSV, "
                             "PCAP), relative to the treaty folder.")

    def zone(self, zone_id: str) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)

    def asset(self, asset_id: str) -> Asset | None:
        return next((a for a in self.assets if a.id == asset_id), None)

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)
