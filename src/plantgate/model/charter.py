"""The convergence charter: the reference table's layers, decided and signed by leadership."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from plantgate.model.base import Identifier, TreatyModel


class Layer(StrEnum):
    PROCESS_DATA = "process_data"
    SECURITY_MONITORING = "security_monitoring"
    NETWORK_STANDARDS = "network_standards"
    IDENTITY = "identity"
    PATCH_MANAGEMENT = "patch_management"
    CHANGE_AUTHORITY = "change_authority"
    ENDPOINT_MANAGEMENT = "endpoint_management"


class Decision(StrEnum):
    CONVERGE = "converge"
    PATTERNS_ONLY = "patterns_only"
    NO = "no"
    CAREFULLY = "carefully"
    UNDECIDED = "undecided"


REFERENCE_TABLE: dict[Layer, tuple[Decision, str]] = {
    Layer.PROCESS_DATA: (Decision.CONVERGE,
                         "One-way flows through the DMZ; replicated historian or publish-only gateway"),
    Layer.SECURITY_MONITORING: (Decision.CONVERGE, "OT sensors feed the same SOC, with OT-literate runbooks"),
    Layer.NETWORK_STANDARDS: (Decision.CONVERGE,
                              "Same switch vendors, same config standards, same documentation system"),
    Layer.IDENTITY: (Decision.PATTERNS_ONLY,
                     "Same practices (MFA, least privilege, joiner-leaver), separate OT domain, no inbound trust"),
    Layer.PATCH_MANAGEMENT: (Decision.NO, "Vendor-qualified list, DMZ staging, outage-window installation"),
    Layer.CHANGE_AUTHORITY: (Decision.NO, "Plant change board rules OT; enterprise CAB does not reach past the DMZ"),
    Layer.ENDPOINT_MANAGEMENT: (Decision.CAREFULLY,
                                "Only OT-vendor-qualified agents; enterprise auto-remediation stays out"),
}
"""The reference text's 'What converges and what must not' table, row by row."""


class LayerDecision(TreatyModel):
    decision: Decision = Decision.UNDECIDED
    working_model: str = ""
    rationale: str = ""


class Signature(TreatyModel):
    """A person's signature on a given treaty revision."""

    person: Identifier = Field(description="Person id of the signatory.")
    role: str
    date: dt.date
    revision: str = Field(description="The treaty revision that was signed.")


class Charter(TreatyModel):
    """Which layers converge and which do not, on one page leadership has signed."""

    layers: dict[Layer, LayerDecision] = Field(default_factory=dict)
    signatures: list[Signature] = Field(default_factory=list)
