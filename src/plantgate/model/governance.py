"""People, the firewall RACI and the escalation path for the 2 a.m. question."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from plantgate.model.base import Identifier, TreatyModel


class Role(StrEnum):
    IT_ENGINEER = "it_engineer"
    PLATFORM_OWNER = "platform_owner"
    OT_APPROVER = "ot_approver"
    PLANT_LEADERSHIP = "plant_leadership"
    SOC_ANALYST = "soc_analyst"
    AUDITOR = "auditor"
    CONTROL_ROOM = "control_room"
    OPERATIONS = "operations"


class Person(TreatyModel):
    """Someone the treaty names; ids are referenced by conduits, RACI, signatures."""

    id: Identifier
    name: str
    roles: list[Role] = Field(min_length=1)
    title: str = ""
    organisation: str = Field(default="", description="e.g. IT, OT/operations, plant management.")
    contact: str = Field(default="", description="Phone or e-mail reachable at 2 a.m.")


class RaciEntry(TreatyModel):
    """Who is Responsible, Accountable, Consulted, Informed, and who may veto, for one activity."""

    activity: str
    firewalls: list[Identifier] = Field(default_factory=list, description="Empty means every boundary firewall.")
    responsible: list[Identifier] = Field(default_factory=list)
    accountable: list[Identifier] = Field(default_factory=list)
    consulted: list[Identifier] = Field(default_factory=list)
    informed: list[Identifier] = Field(default_factory=list)
    veto: list[Identifier] = Field(default_factory=list)


class EscalationStep(TreatyModel):
    order: int = Field(ge=1)
    person: Identifier | None = None
    role: str = ""
    contact: str = ""
    decides: bool = Field(default=False, description="Part of the joint decision whether the plant keeps running.")


class EscalationPath(TreatyModel):
    """Who decides, together, whether the plant keeps running."""

    question: str = "Does the plant keep running?"
    steps: list[EscalationStep] = Field(default_factory=list)
