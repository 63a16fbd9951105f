"""Firewall entries: which config file is the evidence and how its names map to treaty zones."""

from __future__ import annotations

from pydantic import Field

from plantgate.model.base import Identifier, TreatyModel


class FirewallEntry(TreatyModel):
    """One boundary firewall (or one VDOM/vsys of it)."""

    id: Identifier
    vendor: str = Field(description="asa, iptables, nftables, fortigate, panos or srx.")
    config: str = Field(description="Config file path, relative to the treaty folder.")
    platform_owner: Identifier | None = Field(default=None, description="Person id of the IT platform owner.")
    policy_owners: list[Identifier] = Field(default_factory=list, description="Person ids owning the policy.")
    zones: dict[str, Identifier] = Field(
        default_factory=dict, description="Config interface or zone name -> treaty zone id."
    )
    context: str = Field(default="", description="VDOM, vsys or device group inside the config, if several.")
    description: str = ""
