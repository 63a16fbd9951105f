"""Assets: hosts and devices, with the facts the endpoint, service and backup checks read."""

from __future__ import annotations

import datetime as dt
import ipaddress
from enum import StrEnum

from pydantic import Field, field_validator

from plantgate.model.base import Identifier, TreatyModel


class AssetRole(StrEnum):
    HMI = "hmi"
    ENGINEERING_WORKSTATION = "engineering_workstation"
    HISTORIAN = "historian"
    HISTORIAN_REPLICA = "historian_replica"
    CONTROLLER = "controller"
    SIS = "sis"
    DCS_SERVER = "dcs_server"
    JUMP_HOST = "jump_host"
    PATCH_STAGING = "patch_staging"
    AV_CONSOLE = "av_console"
    NTP = "ntp"
    DNS = "dns"
    SYSLOG = "syslog"
    DOMAIN_CONTROLLER = "domain_controller"
    BACKUP_SERVER = "backup_server"
    LICENSE_SERVER = "license_server"
    SOC_SENSOR = "soc_sensor"
    FIREWALL = "firewall"
    SWITCH = "switch"
    VPN_CONCENTRATOR = "vpn_concentrator"
    REMOTE_ACCESS = "remote_access"
    CELLULAR_ROUTER = "cellular_router"
    APPLICATION_SERVER = "application_server"
    WORKSTATION = "workstation"
    SERVER = "server"
    OTHER = "other"


class AgentMode(StrEnum):
    ALERT_AND_LOG = "alert-and-log"
    AUTO_QUARANTINE = "auto-quarantine"
    BLOCK = "block"
    AUTO_REMEDIATE = "auto-remediate"
    MONITOR = "monitor"


class Agent(TreatyModel):
    """Software agent installed on an asset (AV/EDR, patch, inventory, backup...)."""

    name: str
    vendor: str = ""
    product: str = ""
    version: str = ""
    mode: AgentMode | None = None
    managed_from: str = Field(default="", description="Asset id of the console that manages it.")


class BackupItemKind(StrEnum):
    CONTROLLER_PROGRAM = "controller_program"
    HMI_IMAGE = "hmi_image"
    SYSTEM_IMAGE = "system_image"
    LICENSE_SERVER = "license_server"
    INSTALL_MEDIA = "install_media"
    CONFIGURATION = "configuration"


class BackupItem(TreatyModel):
    """Something of this asset that backup covers, where, and how fresh."""

    item: BackupItemKind
    repository: str = Field(default="", description="Backup repository id (see shared_services.backup).")
    last_backup: dt.date | None = None


def _cpe_name(value: str) -> str:
    if value and not value.lower().startswith(("cpe:2.3:", "cpe:/")):
        raise ValueError(f"{value!r} is not a CPE name (cpe:2.3:part:vendor:product:version... or cpe:/part:...)")
    return value


class Software(TreatyModel):
    """Software an asset runs (its OS, a service), as a scan or an inventory saw it; matching reads it."""

    vendor: str = ""
    product: str = Field(min_length=1)
    version: str = ""
    cpe: str = Field(default="", description="CPE 2.3 name or 2.2 URI, e.g. cpe:2.3:o:paloaltonetworks:pan-os:10.2.8.")
    seen_as: str = Field(default="", description="What saw it, e.g. 'nmap OS match, accuracy 96' or 'nmap tcp/443'.")

    @field_validator("cpe")
    @classmethod
    def _valid_cpe(cls, value: str) -> str:
        return _cpe_name(value)


class Asset(TreatyModel):
    """One host or device of the plant or the enterprise edge."""

    id: Identifier
    name: str
    zone: Identifier
    role: AssetRole
    addresses: list[str] = Field(default_factory=list)
    vendor: str = ""
    product: str = ""
    version: str = ""
    agents: list[Agent] = Field(default_factory=list)
    time_servers: list[str] = Field(default_factory=list, description="IPs, hostnames or asset ids.")
    dns_servers: list[str] = Field(default_factory=list)
    syslog_servers: list[str] = Field(default_factory=list)
    backups: list[BackupItem] = Field(default_factory=list)
    remote_access: bool = Field(default=False, description="Supplier or remote-access entry point.")
    installed_patches: list[str] = Field(default_factory=list)
    description: str = ""
    cpe: str = Field(default="", description="The device's own CPE name, matched against advisories' CPEs.")
    software: list[Software] = Field(
        default_factory=list, description="Operating system and services it runs, matched against advisories.")

    @field_validator("cpe")
    @classmethod
    def _valid_cpe(cls, value: str) -> str:
        return _cpe_name(value)

    @field_validator("addresses")
    @classmethod
    def _valid_addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_address(item)
            except ValueError:
                raise ValueError(f"{item!r} is not an IPv4 or IPv6 address") from None
        return value

    def ip_addresses(self) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [ipaddress.ip_address(a) for a in self.addresses]
