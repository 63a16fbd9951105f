"""Identity: which domains and forests are enterprise and which are OT, and the trust exports."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from plantgate.model.base import TreatyModel


class DomainSide(StrEnum):
    ENTERPRISE = "enterprise"
    OT = "ot"


class Domain(TreatyModel):
    name: str = Field(description="DNS name of the domain, e.g. corp.example.com.")
    forest: str = ""
    side: DomainSide
    sid: str = ""
    netbios: str = Field(default="", description="NetBIOS (flat) name, as some trust exports name the partner.")


class TrustExport(TreatyModel):
    file: str = Field(description="Path of the export, relative to the treaty folder.")
    taken_on: str = Field(description="Domain name the export was taken on.")
    format: str = Field(default="auto", description="auto, get-adtrust-json, get-adtrust-csv, "
                        "get-adtrust-list or bloodhound.")


class Identity(TreatyModel):
    domains: list[Domain] = Field(default_factory=list)
    trust_exports: list[TrustExport] = Field(default_factory=list)
