"""The conduit register: every permitted path between zones, why, and who approved it."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from plantgate.model.base import Identifier, TreatyModel
from plantgate.model.networks import cidr

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "icmp6": 58, "sctp": 132, "gre": 47,
                    "esp": 50, "ah": 51, "ospf": 89, "ip": -1, "any": -1}
_PORT_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


class ConduitType(StrEnum):
    FILTERING_FIREWALL = "filtering_firewall"
    UNIDIRECTIONAL_GATEWAY = "unidirectional_gateway"
    PUBLISH_ONLY_GATEWAY = "publish_only_gateway"


class Initiator(StrEnum):
    """Which side opens the sessions; the other side only answers."""

    FROM_ZONE = "from_zone"
    TO_ZONE = "to_zone"


class ConduitService(TreatyModel):
    """A protocol with ports ("502", "1024-65535") or ICMP types; no ports means all ports."""

    protocol: str = Field(description="tcp, udp, icmp, icmpv6, sctp, an IP protocol number, or ip (any).")
    ports: list[str | int] = Field(default_factory=list)
    icmp_types: list[int] = Field(default_factory=list)
    name: str = ""

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        value = str(value).lower()
        if value not in PROTOCOL_NUMBERS and not (value.isdigit() and 0 <= int(value) <= 255):
            raise ValueError("protocol must be tcp, udp, icmp, icmpv6, sctp, ip or a number 0-255")
        return value

    @field_validator("ports")
    @classmethod
    def _valid_ports(cls, value: list[str | int]) -> list[str | int]:
        for item in value:
            match = _PORT_RE.match(str(item).strip())
            low, high = (int(match.group(1)), int(match.group(2) or match.group(1))) if match else (-1, -1)
            if not match or not (0 <= low <= high <= 65535):
                raise ValueError(f"{item!r} is not a port or port range such as 502 or 1024-65535")
        return value

    @property
    def protocol_number(self) -> int | None:
        """IP protocol number, None for any protocol."""
        number = PROTOCOL_NUMBERS.get(self.protocol, None)
        if number is None:
            return int(self.protocol)
        return None if number < 0 else number

    def port_ranges(self) -> list[tuple[int, int]]:
        out = []
        for item in self.ports:
            match = _PORT_RE.match(str(item).strip())
            assert match is not None  # validated above
            out.append((int(match.group(1)), int(match.group(2) or match.group(1))))
        return out

    def __str__(self) -> str:
        if self.name:
            return self.name
        if self.ports:
            return f"{self.protocol}/" + ",".join(str(p) for p in self.ports)
        if self.icmp_types:
            return f"{self.protocol}/" + ",".join(str(t) for t in self.icmp_types)
        return self.protocol


class Conduit(TreatyModel):
    """One register entry: a permitted, reasoned and approved path between two zones."""

    id: Identifier
    from_zone: Identifier = Field(description="Where the data comes from.")
    to_zone: Identifier = Field(description="Where the data goes.")
    initiator: Initiator = Field(default=Initiator.FROM_ZONE, description="Which side opens sessions.")
    services: list[ConduitService] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list, description="Asset ids or CIDRs narrowing the initiator side.")
    destinations: list[str] = Field(default_factory=list,
                                    description="Asset ids or CIDRs narrowing the responder side.")
    type: ConduitType = ConduitType.FILTERING_FIREWALL
    business_reason: str = ""
    owner: str = ""
    ot_approver: Identifier | None = Field(default=None, description="Person id of the OT approver.")
    change_record: str = ""
    review_by: dt.date | None = None
    enforced_by: list[Identifier] = Field(default_factory=list, description="Firewall ids.")
    description: str = ""

    @model_validator(mode="after")
    def _zones_differ(self) -> Conduit:
        if self.from_zone == self.to_zone:
            raise ValueError("a conduit joins two different zones; from_zone equals to_zone")
        return self

    @property
    def initiating_zone(self) -> str:
        return self.from_zone if self.initiator is Initiator.FROM_ZONE else self.to_zone

    @property
    def responding_zone(self) -> str:
        return self.to_zone if self.initiator is Initiator.FROM_ZONE else self.from_zone


def is_cidr(text: str) -> bool:
    return cidr(text) is not None
