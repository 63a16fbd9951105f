"""Firewall change records: the conduit, the reason, the OT approver, the configs, the decisions.

Each record is one YAML file under ``changes/`` of the treaty folder. The record carries
its own decisions; the state it claims is checked against them by the state machine in
``plantgate.decisions.change_state`` rather than trusted.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from plantgate.model.base import Identifier, TreatyModel
from plantgate.model.conduits import Conduit


class ChangeState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    VETOED = "vetoed"
    IMPLEMENTED = "implemented"
    VERIFIED = "verified"


class ConduitAction(StrEnum):
    CREATE = "create"
    ALTER = "alter"
    REMOVE = "remove"


class DecisionKind(StrEnum):
    APPROVE = "approve"
    VETO = "veto"
    SIGN_OFF = "sign_off"


class DecisionRole(StrEnum):
    OT_APPROVER = "ot_approver"
    PLATFORM_OWNER = "platform_owner"


class ConduitChange(TreatyModel):
    conduit: Identifier
    action: ConduitAction


class RegisterEdit(TreatyModel):
    """The register entries the change proposes: full entries to create or replace, ids to remove."""

    upsert: list[Conduit] = Field(default_factory=list)
    remove: list[Identifier] = Field(default_factory=list)


class ChangeDecision(TreatyModel):
    """One person's decision on the change, bound to the candidate it was given for."""

    person: Identifier
    role: DecisionRole
    decision: DecisionKind
    date: dt.date
    comment: str = ""
    candidate_sha256: str = Field(default="", description="SHA-256 of the candidate config decided on.")


class ChangeRecord(TreatyModel):
    """A proposed firewall change, from draft to verified."""

    id: Identifier
    title: str
    conduits: list[ConduitChange] = Field(default_factory=list)
    register_edit: RegisterEdit = Field(default_factory=RegisterEdit)
    business_reason: str = ""
    requested_by: Identifier
    ot_approver: Identifier | None = Field(default=None, description="Person id of the OT approver who must decide.")
    firewall: Identifier
    current_config: str = Field(description="Config before the change, relative to the treaty folder.")
    candidate_config: str = Field(description="Config after the change, relative to the treaty folder.")
    emergency: bool = False
    moc_reference: str = Field(default="", description="The plant's management-of-change reference.")
    outage: Identifier | None = Field(default=None, description="Outage id whose window the change needs.")
    window_end: dt.date | None = Field(default=None, description="Last day to implement and verify the change.")
    decisions: list[ChangeDecision] = Field(default_factory=list)
    state: ChangeState = ChangeState.DRAFT
    implemented_on: dt.date | None = None
    verified_on: dt.date | None = None
