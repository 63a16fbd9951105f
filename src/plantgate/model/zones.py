"""Zones: where the Purdue level, the zone kind and the IEC 62443 SL-T of each segment live."""

from __future__ import annotations

import ipaddress
from enum import StrEnum

from pydantic import Field, field_validator

from plantgate.model.base import Identifier, TreatyModel
from plantgate.model.networks import cidrs

PURDUE_LEVELS = (0.0, 1.0, 2.0, 3.0, 3.5, 4.0, 5.0)
DMZ_LEVEL = 3.5


class ZoneKind(StrEnum):
    ENTERPRISE = "enterprise"
    DMZ = "dmz"
    OPERATIONS = "operations"
    CONTROL = "control"
    SAFETY = "safety"
    FIELD = "field"
    VENDOR = "vendor"
    EXTERNAL = "external"


class SecurityLevels(TreatyModel):
    """IEC 62443-3-3 target security level per foundational requirement (0-4)."""

    FR1: int = Field(ge=0, le=4, description="Identification and authentication control")
    FR2: int = Field(ge=0, le=4, description="Use control")
    FR3: int = Field(ge=0, le=4, description="System integrity")
    FR4: int = Field(ge=0, le=4, description="Data confidentiality")
    FR5: int = Field(ge=0, le=4, description="Restricted data flow")
    FR6: int = Field(ge=0, le=4, description="Timely response to events")
    FR7: int = Field(ge=0, le=4, description="Resource availability")


class Zone(TreatyModel):
    """One security zone of the plant and its place in the Purdue model."""

    id: Identifier
    name: str
    level: float = Field(description="Purdue level: 0, 1, 2, 3, 3.5 (industrial DMZ), 4 or 5.")
    kind: ZoneKind
    networks: list[str] = Field(default_factory=list, description="CIDRs, IPv4 or IPv6.")
    safety: bool = Field(default=False, description="Safety-instrumented (SIS) zone.")
    sl_t: SecurityLevels | None = Field(default=None, description="Target security level vector FR1-FR7.")
    owner: str = ""
    description: str = ""

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: float) -> float:
        if float(value) not in PURDUE_LEVELS:
            raise ValueError("Purdue level must be one of 0, 1, 2, 3, 3.5, 4, 5")
        return float(value)

    @field_validator("networks")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=True)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not a network in CIDR form ({exc})") from None
        return value

    @property
    def is_it(self) -> bool:
        """Enterprise side: Purdue levels 4-5 (and external/vendor networks, which sit outside OT)."""
        return self.level >= 4.0 or self.kind in (ZoneKind.EXTERNAL, ZoneKind.VENDOR)

    @property
    def is_ot(self) -> bool:
        """Plant side: Purdue levels 0-3."""
        return self.level <= 3.0 and self.kind not in (ZoneKind.EXTERNAL, ZoneKind.VENDOR)

    @property
    def is_dmz(self) -> bool:
        return self.level == DMZ_LEVEL

    @property
    def is_safety(self) -> bool:
        return self.safety or self.kind is ZoneKind.SAFETY

    def ip_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return cidrs(self.networks)


def level_text(level: float) -> str:
    """3.5 stays 3.5, 4.0 prints as 4."""
    return str(int(level)) if level.is_integer() else str(level)
