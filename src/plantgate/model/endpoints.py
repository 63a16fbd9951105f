"""Endpoint management: the control-system vendor's qualified agents and where the console sits.

The reference text converges endpoint management only "carefully": an agent the DCS vendor
has not qualified for a product and version can stop an HMI, so the treaty holds the
vendor's list and the endpoint checks hold every OT asset's agents to it.
"""

from __future__ import annotations

from pydantic import Field

from plantgate.model.base import Identifier, TreatyModel


class QualifiedAgent(TreatyModel):
    """An agent product the control-system vendor has qualified."""

    vendor: str
    product: str
    versions: list[str] = Field(default_factory=list, description="Qualified agent versions; empty means any.")


class QualifiedAgentList(TreatyModel):
    """The agents one control-system vendor qualifies for one product (and versions of it)."""

    system_vendor: str = Field(description="Control-system vendor, e.g. Honeywell.")
    system_product: str = Field(description="Control-system product, e.g. Experion PKS.")
    system_versions: list[str] = Field(default_factory=list, description="Product versions; empty means any.")
    agents: list[QualifiedAgent] = Field(default_factory=list)
    source: str = Field(default="", description="The vendor bulletin or compatibility matrix it comes from.")


class EndpointPolicy(TreatyModel):
    """Vendor-qualified agents only, alert-and-log on HMIs, consoles in the DMZ."""

    consoles: list[Identifier] = Field(default_factory=list, description="Asset ids of endpoint consoles.")
    qualified_agents: list[QualifiedAgentList] = Field(default_factory=list)
    enterprise_remediation_products: list[str] = Field(
        default_factory=list, description="Enterprise auto-remediation products (e.g. SCCM, Intune, Tanium) that "
        "must never run on OT assets; matched against agent product and name.")
