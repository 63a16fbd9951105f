"""The corporate baseline: rules every plant's firewalls must satisfy, written once for the whole fleet.

A company with many plants has a few boundary rules that no site treaty may relax ("no
session from enterprise zones into levels 0-2", "no RDP across the DMZ except to jump
hosts"). They live in one YAML file in corporate git, validated like a treaty (unknown keys
are errors, every problem with file:line:column), and are checked against each plant's own
zones, assets and firewalls. A rule speaks in Purdue levels and zone kinds, never in one
plant's zone ids, so one file fits every plant.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from plantgate.model.assets import AssetRole
from plantgate.model.base import Identifier, TreatyModel
from plantgate.model.conduits import ConduitService
from plantgate.model.networks import cidr
from plantgate.model.zones import Zone, ZoneKind

PURDUE_LEVELS = (0.0, 1.0, 2.0, 3.0, 3.5, 4.0, 5.0)


class BaselineSeverity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ZoneSelector(TreatyModel):
    """Zones by Purdue level or kind (either matches); at least one of the two must be given."""

    levels: list[float] = Field(default_factory=list, description="Purdue levels: 0, 1, 2, 3, 3.5, 4, 5.")
    kinds: list[ZoneKind] = Field(default_factory=list, description="Zone kinds, e.g. enterprise, external.")

    @field_validator("levels")
    @classmethod
    def _purdue(cls, value: list[float]) -> list[float]:
        for level in value:
            if level not in PURDUE_LEVELS:
                raise ValueError(f"{level:g} is not a Purdue level (0, 1, 2, 3, 3.5, 4, 5)")
        return value

    @model_validator(mode="after")
    def _something(self) -> ZoneSelector:
        if not self.levels and not self.kinds:
            raise ValueError("a zone selector needs levels or kinds")
        return self

    def matches(self, zone: Zone) -> bool:
        return zone.level in self.levels or zone.kind in self.kinds

    def describe(self) -> str:
        parts = [f"level {', '.join(f'{level:g}' for level in self.levels)}"] if self.levels else []
        parts += [f"{', '.join(k.value for k in self.kinds)} zones"] if self.kinds else []
        return " or ".join(parts)


class BaselineRule(TreatyModel):
    """No boundary firewall may permit a session from a ``from`` zone into a ``to`` zone on ``services``."""

    id: Identifier
    title: str = Field(min_length=1)
    severity: BaselineSeverity = BaselineSeverity.HIGH
    from_zones: ZoneSelector = Field(alias="from", description="Where the session would be opened.")
    to_zones: ZoneSelector = Field(alias="to", description="Where it would be answered.")
    services: list[ConduitService] = Field(default_factory=list, description="Empty means every service.")
    except_to_roles: list[AssetRole] = Field(
        default_factory=list, description="Destinations exempt from the rule: assets of these roles (jump_host).")
    except_to_networks: list[str] = Field(default_factory=list, description="Destinations exempt by CIDR.")
    rationale: str = ""

    @field_validator("except_to_networks")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for item in value:
            if cidr(item) is None:
                raise ValueError(f"{item!r} is not a CIDR network")
        return value


class BaselineInfo(TreatyModel):
    name: str = Field(min_length=1)
    version: str = Field(min_length=1, description="Bumped with every change; quoted in every finding.")
    owner: str = ""


class Baseline(TreatyModel):
    """A fleet-level policy file: ``baseline`` (name, version) and its ``rules``."""

    baseline: BaselineInfo
    rules: list[BaselineRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Baseline:
        seen: set[str] = set()
        for item in self.rules:
            if item.id in seen:
                raise ValueError(f"rule id {item.id} is used twice")
            seen.add(item.id)
        return self
