"""Vulnerability governance in the treaty: feeds, confirmed matches, overrides and signed exceptions.

Advisory matching suggests; people decide. Only matches a named person confirmed (with a
date) drive decisions, and every Out-of-cycle or Immediate decision needs an exception
record that someone with the plant-leadership role signed. Exposure and human impact are
computed, but the treaty may adjust the mapping and override single assets, with a reason.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from plantgate.model.base import Identifier, TreatyModel
from plantgate.model.conduits import ConduitService
from plantgate.model.zones import ZoneKind

_CVE_PATTERN = r"^CVE-\d{4}-\d{4,}$"


class ExposureLevel(StrEnum):
    """SSVC System Exposure (v1.0.1)."""

    SMALL = "small"
    CONTROLLED = "controlled"
    OPEN = "open"


class HumanImpactLevel(StrEnum):
    """SSVC Human Impact (v2.0.2): safety and mission impact combined."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


class FeedFiles(TreatyModel):
    """Where the site keeps its vulnerability evidence, relative to the treaty folder."""

    kev: list[str] = Field(default_factory=list, description="KEV catalog files (JSON or CSV).")
    csaf: list[str] = Field(default_factory=list, description="CSAF 2.0 advisory files or folders.")
    vulnrichment: list[str] = Field(default_factory=list, description="CVE JSON 5 files or folders.")


def _default_human_impact() -> dict[ZoneKind, HumanImpactLevel]:
    return {ZoneKind.SAFETY: HumanImpactLevel.VERY_HIGH, ZoneKind.FIELD: HumanImpactLevel.HIGH,
            ZoneKind.CONTROL: HumanImpactLevel.HIGH, ZoneKind.OPERATIONS: HumanImpactLevel.MEDIUM,
            ZoneKind.DMZ: HumanImpactLevel.MEDIUM, ZoneKind.ENTERPRISE: HumanImpactLevel.LOW,
            ZoneKind.VENDOR: HumanImpactLevel.LOW, ZoneKind.EXTERNAL: HumanImpactLevel.LOW}


def _default_role_impact() -> dict[str, HumanImpactLevel]:
    return {"sis": HumanImpactLevel.VERY_HIGH, "controller": HumanImpactLevel.HIGH,
            "firewall": HumanImpactLevel.HIGH, "dcs_server": HumanImpactLevel.HIGH, "hmi": HumanImpactLevel.HIGH}


class ExposureMapping(TreatyModel):
    """How reachability becomes SSVC System Exposure and zones become Human Impact (adjustable)."""

    open_from_kinds: list[ZoneKind] = Field(
        default_factory=lambda: [ZoneKind.ENTERPRISE, ZoneKind.EXTERNAL, ZoneKind.VENDOR],
        description="Zone kinds whose reach makes an asset Open (unless only through narrowed sources).")
    narrow_source_max_hosts: int = Field(
        default=4, ge=1, description="At most this many named treaty hosts reaching it count as narrowed sources.")
    human_impact_by_zone_kind: dict[ZoneKind, HumanImpactLevel] = Field(default_factory=_default_human_impact)
    human_impact_by_role: dict[str, HumanImpactLevel] = Field(
        default_factory=_default_role_impact, description="Asset role -> impact; the higher of zone and role wins.")


class MatchStatus(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class AdvisoryMatch(TreatyModel):
    """A person's verdict on a suggested asset-to-advisory match."""

    asset: Identifier
    advisory: str = Field(description="CSAF tracking id, e.g. ICSA-24-116-03, or a CVE id (CVE-2024-3400) for a "
                          "match made on the CVE record's affected data.")
    product_id: str = Field(default="", description="CSAF product id (or the record entry, cna:0); empty means any "
                            "product of the advisory.")
    status: MatchStatus = MatchStatus.CONFIRMED
    decided_by: Identifier
    decided_on: dt.date
    services: list[ConduitService] = Field(
        default_factory=list, description="The vulnerable service(s); empty means every service of the asset.")
    note: str = ""


class AssetOverride(TreatyModel):
    """A documented override of computed exposure or human impact for one asset."""

    asset: Identifier
    exposure: ExposureLevel | None = None
    human_impact: HumanImpactLevel | None = None
    reason: str = Field(min_length=1)
    decided_by: Identifier | None = None


class ControlKind(StrEnum):
    CONDUIT_TIGHTENING = "conduit_tightening"
    VIRTUAL_PATCH = "virtual_patch"
    ALLOW_LISTING = "allow_listing"
    MONITORING = "monitoring"


class CompensatingControl(TreatyModel):
    """A typed compensating control; conduit tightening is modelled in the register or a firewall."""

    kind: ControlKind
    description: str = Field(min_length=1)
    conduits: list[Identifier] = Field(default_factory=list, description="Register entries tightened.")
    firewall: Identifier | None = Field(default=None, description="Firewall enforcing it (virtual patch).")
    change_record: str = ""
    removes_exploitability: bool = Field(
        default=False, description="True only if the control makes the code unreachable (VEX not_affected).")


class ExceptionAction(StrEnum):
    EMERGENCY_PATCH = "patch_in_emergency_window"
    ACCEPT_UNTIL_OUTAGE = "accept_until_outage"


class RiskException(TreatyModel):
    """A risk decision plant leadership signs: patch in an emergency window, or accept until an outage."""

    id: Identifier
    asset: Identifier
    cves: list[str] = Field(min_length=1)
    action: ExceptionAction
    until_outage: Identifier | None = Field(default=None, description="Outage id the acceptance lasts until.")
    emergency_window: dt.date | None = Field(default=None, description="Date of the emergency patch window.")
    controls: list[CompensatingControl] = Field(default_factory=list)
    escalation: list[Identifier] = Field(
        default_factory=list, description="Person ids of the escalation path (required for Immediate).")
    signed_by: Identifier | None = None
    signed_on: dt.date | None = None
    rationale: str = ""

    @field_validator("cves")
    @classmethod
    def _cve_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.match(_CVE_PATTERN, item):
                raise ValueError(f"{item!r} is not a CVE id such as CVE-2024-3400")
        return value

    @model_validator(mode="after")
    def _complete(self) -> RiskException:
        if self.action is ExceptionAction.ACCEPT_UNTIL_OUTAGE:
            if self.until_outage is None:
                raise ValueError("an acceptance names the outage it lasts until (until_outage)")
            if not self.controls:
                raise ValueError("an acceptance documents at least one compensating control")
        if self.action is ExceptionAction.EMERGENCY_PATCH and self.emergency_window is None:
            raise ValueError("an emergency patch decision names its window (emergency_window)")
        if (self.signed_by is None) != (self.signed_on is None):
            raise ValueError("a signature has both signed_by and signed_on")
        return self


class VulnerabilityGovernance(TreatyModel):
    """The treaty's vulnerability section: evidence files, confirmations, overrides, exceptions."""

    feeds: FeedFiles = Field(default_factory=FeedFiles)
    exposure_mapping: ExposureMapping = Field(default_factory=ExposureMapping)
    matches: list[AdvisoryMatch] = Field(default_factory=list)
    overrides: list[AssetOverride] = Field(default_factory=list)
    exceptions: list[RiskException] = Field(default_factory=list)
