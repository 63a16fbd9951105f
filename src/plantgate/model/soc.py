"""SOC runbooks: every alert kind maps to an OT runbook whose rule one is "call the control room"."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from plantgate.model.base import TreatyModel


class StepAction(StrEnum):
    CALL_CONTROL_ROOM = "call_control_room"
    INVESTIGATE = "investigate"
    COLLECT_EVIDENCE = "collect_evidence"
    NOTIFY = "notify"
    ISOLATE = "isolate"
    QUARANTINE = "quarantine"
    OTHER = "other"


class RunbookStep(TreatyModel):
    action: StepAction
    detail: str = ""
    target_roles: list[str] = Field(default_factory=list, description="Asset roles the step acts on.")


class Runbook(TreatyModel):
    alert_kind: str
    steps: list[RunbookStep] = Field(min_length=1)


class ControlRoom(TreatyModel):
    name: str
    phone: str


class SocPlaybook(TreatyModel):
    control_room: ControlRoom | None = None
    alert_kinds: list[str] = Field(default_factory=list)
    runbooks: list[Runbook] = Field(default_factory=list)
