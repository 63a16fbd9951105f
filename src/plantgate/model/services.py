"""The shared-services matrix: what is centralised and the OT condition that makes it safe."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from plantgate.model.base import Identifier, TreatyModel


class SharedServiceKind(StrEnum):
    PATCH_DISTRIBUTION = "patch_distribution"
    ENDPOINT_PROTECTION = "endpoint_protection"
    BACKUP = "backup"
    TIME = "time"
    DNS = "dns"
    LOGGING = "logging"
    MONITORING = "monitoring"


class SharedService(TreatyModel):
    ot_condition: str = Field(description="The OT-specific condition that makes sharing safe.")
    providers: list[Identifier] = Field(default_factory=list, description="Asset ids providing it on the OT side.")
    notes: str = ""


class BackupSide(StrEnum):
    OT = "ot"
    ENTERPRISE = "enterprise"


class BackupRepository(TreatyModel):
    id: Identifier
    side: BackupSide
    credential: str = Field(description="Name of the credential (never the secret) used to write to it.")
    server: Identifier | None = Field(default=None, description="Asset id of the backup server.")


class DiscontinuedSoftware(TreatyModel):
    """Software the vendor no longer ships: its install media exist only in the plant's backup."""

    vendor: str
    product: str
    version: str = Field(default="", description="Empty means every version of the product.")


class BackupPolicy(TreatyModel):
    repositories: list[BackupRepository] = Field(default_factory=list)
    max_age_days: int | None = Field(default=None, ge=1)
    discontinued_software: list[DiscontinuedSoftware] = Field(
        default_factory=list, description="Assets running these need an install_media backup item.")


class SharedServices(TreatyModel):
    """One entry per shared service of the reference text."""

    services: dict[SharedServiceKind, SharedService] = Field(default_factory=dict)
    backup_policy: BackupPolicy | None = None
