"""Firewall entries: which config file is the evidence and how its names map to treaty zones.

The zone map is the one step from a vendor's config to the treaty's zones, and the step
most likely to fail silently: a config zone the map misses, or a map key that names
nothing, leaves flows unreconciled. So the entry says it in three ways a new user can
read, each checked against the config when the firewall is loaded:

- ``zones``: the config's interface or zone names (and, for an ASA export that holds only
  ``access-list`` lines, ACL names) -> treaty zones;
- ``joins``: treaty zones the firewall joins whose interfaces the config does not name
  (a Linux FORWARD chain without ``-i``/``-o``, a single-ACL fragment): flows are placed
  in those zones by the zones' networks.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, ValidationInfo, field_validator

from plantgate.model.base import Identifier, TreatyModel

VendorName = Literal["asa", "iptables", "nftables", "fortigate", "panos", "srx"]
"""The vendors PlantGate parses; ``firewalls.base.VENDOR_MODULES`` lists the same names."""
VENDORS: tuple[str, ...] = get_args(VendorName)
ROUTING_VENDORS = ("iptables", "nftables")
"""The vendors whose configs hold no interface addresses or routes, so the entry may name a ``routing`` file."""


class FirewallEntry(TreatyModel):
    """One boundary firewall (or one VDOM/vsys of it)."""

    id: Identifier
    vendor: VendorName = Field(description="The config's vendor: asa, iptables, nftables, fortigate, panos or "
                               "srx. PlantGate refuses a config whose content is clearly another vendor's.")
    config: str = Field(description="Config file path, relative to the treaty folder.")
    routing: str | None = Field(
        default=None,
        description="iptables and nftables only: the firewall's iproute2 output (ip addr, ip route show table all, "
        "ip rule, in one file), relative to the treaty folder. Gives the interface addresses and routes a Linux "
        "ruleset lacks, for the zone map check, the treaty's routes and reach.",
    )
    platform_owner: Identifier | None = Field(default=None, description="Person id of the IT platform owner.")
    policy_owners: list[Identifier] = Field(default_factory=list, description="Person ids owning the policy.")
    zones: dict[str, Identifier] = Field(
        default_factory=dict,
        description="Config name -> treaty zone id. The name is an interface (ASA nameif, Linux -i/-o) or a "
        "security zone (FortiGate, PAN-OS, SRX); for an ASA export with only access-list lines, an ACL name, "
        "which makes that ACL the ingress filter of the zone toward every other zone the firewall joins. A "
        "name that matches nothing in the config is an error.",
    )
    joins: list[Identifier] = Field(
        default_factory=list,
        description="Treaty zones this firewall joins whose interfaces the config does not name (a Linux "
        "FORWARD chain without -i/-o, a single-ACL fragment). Flows between them are placed by the zones' "
        "networks, so each listed zone should declare its networks.",
    )
    context: str = Field(default="", description="VDOM, vsys or device group inside the config, if several.")
    description: str = ""

    @field_validator("routing")
    @classmethod
    def _routing_only_for_linux(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Every other vendor's config states its own addresses and routes: a second source would contradict it."""
        vendor = info.data.get("vendor")
        if value is not None and vendor is not None and vendor not in ROUTING_VENDORS:
            raise ValueError(f"routing is read only for iptables and nftables firewalls: the {vendor} config states "
                             "its own interface addresses and routes")
        return value
