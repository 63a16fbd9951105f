"""Patch policy: the vendor-qualified baseline, DMZ staging, outages and their work packages."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from plantgate.model.base import Identifier, TreatyModel


class QualifiedPatch(TreatyModel):
    """A patch the control-system vendor has qualified for a product."""

    vendor: str
    product: str
    patch_id: str
    applies_to_version: str = ""
    qualified_on: dt.date | None = None
    fixes: list[str] = Field(default_factory=list, description="CVE ids or advisory ids the patch remediates.")
    staged_in_dmz: bool = Field(default=False, description="Downloaded to the DMZ staging server and verified.")


class ChangeApproval(TreatyModel):
    """An OT approval of a firewall change record that needs the outage window."""

    change: str
    approved_by: Identifier
    approved_on: dt.date


class WorkPackage(TreatyModel):
    """The security work prepared in advance for an outage: window time is never spent deciding."""

    prepared_by: Identifier | None = None
    patches: list[str] = Field(default_factory=list, description="Qualified patch ids to install.")
    firewall_changes: list[str] = Field(default_factory=list, description="Change record ids.")
    backups_before: list[Identifier] = Field(default_factory=list, description="Asset ids to back up first.")
    notes: str = ""
    change_approvals: list[ChangeApproval] = Field(default_factory=list,
                                                   description="OT approvals of the firewall changes.")


class Outage(TreatyModel):
    id: Identifier
    name: str
    start: dt.date
    end: dt.date
    work_package: WorkPackage | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Outage:
        if self.end < self.start:
            raise ValueError("an outage ends on or after its start")
        return self


class ExceptionRules(TreatyModel):
    """Who may sign a patch exception and how long it may last."""

    signer_role: str = "plant_leadership"
    expires_at_next_outage: bool = True


class PatchPolicy(TreatyModel):
    qualified: list[QualifiedPatch] = Field(default_factory=list)
    staging_server: Identifier | None = Field(default=None, description="Asset id of the DMZ staging server.")
    outages: list[Outage] = Field(default_factory=list)
    exceptions: ExceptionRules = Field(default_factory=ExceptionRules)
