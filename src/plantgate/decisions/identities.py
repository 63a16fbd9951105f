"""What an asset is, for advisory matching: its own vendor/product/version and CPE, and the software it runs.

A firewall appliance may be entered as "Palo Alto Networks PA-3220" with PAN-OS as its
software, a scanned host as an operating system match and the services Nmap identified.
Each of those is an identity the matcher compares with advisories, so what an import
learned is seen by matching. CPE names (2.3 formatted strings or 2.2 URIs) are compared on
part, vendor and product; the version comes from the CPE when it names one. Two common
ways inventories write a firewall are read too, because KEV names the operating system,
not the box: a version that names its software ("PAN-OS 10.2.8"), and the appliance
families whose operating system is fixed by the vendor (a FortiGate runs FortiOS, a PA-
series or VM-Series firewall PAN-OS, an SRX Junos OS); the reasons say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plantgate.model.assets import Asset

_UNESCAPED_COLON = re.compile(r"(?<!\\):")
_ANY = ("", "*", "-")


@dataclass(frozen=True)
class CpeName:
    """The fields of a CPE name matching compares: part (a, o, h), vendor, product, version."""

    part: str
    vendor: str
    product: str
    version: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.part, self.vendor, self.product)


def parse_cpe(text: str) -> CpeName | None:
    """``cpe:2.3:o:paloaltonetworks:pan-os:10.2.8:*:...`` or ``cpe:/o:paloaltonetworks:pan-os:10.2.8``."""
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith("cpe:2.3:"):
        fields = [f.replace("\\", "").lower() for f in _UNESCAPED_COLON.split(text[8:])]
    elif lowered.startswith("cpe:/"):
        fields = [f.replace("%2d", "-").replace("%2e", ".").lower() for f in text[5:].split(":")]
    else:
        return None
    fields += [""] * (4 - len(fields))
    part, vendor, product, version = fields[:4]
    if not part or vendor in _ANY or product in _ANY:
        return None
    return CpeName(part, vendor, product, "" if version in _ANY else version)


APPLIANCE_OS: tuple[tuple[str, str, str], ...] = (
    ("palo alto networks", r"^(pa-?\d|vm-?(series|\d)|panorama)", "PAN-OS"),
    ("fortinet", r"^forti(gate|wifi)", "FortiOS"),
    ("juniper", r"^(srx|vsrx)", "Junos OS"),
)
"""(vendor, product pattern, operating system): the software an appliance family always runs."""


@dataclass(frozen=True)
class Identity:
    """One thing an asset is or runs, with where PlantGate learned it."""

    vendor: str
    product: str
    version: str
    cpe: CpeName | None
    via: str


def _named_in_version(asset: Asset) -> Identity | None:
    """'PAN-OS 10.2.8' as a version: the software it names, at the version after the name."""
    found = re.match(r"^\s*([A-Za-z][\w .+/-]*?)\s+[vVrR]?(\d[\w.()+-]*)\s*$", asset.version)
    if asset.vendor and found and re.search(r"[A-Za-z]{2}", found.group(1)):
        return Identity(asset.vendor, found.group(1), found.group(2), None, f"the version text {asset.version!r}")
    return None


def _appliance_os(asset: Asset) -> Identity | None:
    vendor, product = asset.vendor.lower(), asset.product.strip().lower()
    for maker, pattern, system in APPLIANCE_OS:
        if maker in vendor and re.search(pattern, product):
            return Identity(asset.vendor, system, asset.version, None, f"{asset.product} runs {system}")
    return None


def identities(asset: Asset) -> list[Identity]:
    """The asset itself, the software its version or appliance family names, then every software entry."""
    found: list[Identity] = []
    own = parse_cpe(asset.cpe) if asset.cpe else None
    named = _named_in_version(asset)
    version = named.version if named else asset.version
    if (asset.vendor and asset.product) or own:
        found.append(Identity(asset.vendor, asset.product, version or (own.version if own else ""), own,
                              "the asset"))
    if named is not None:
        found.append(named)
    elif asset.product and (system := _appliance_os(asset)) is not None:
        found.append(system)
    for item in asset.software:
        cpe = parse_cpe(item.cpe) if item.cpe else None
        vendor = item.vendor or (cpe.vendor if cpe else "")
        version = item.version or (cpe.version if cpe else "")
        seen = f", {item.seen_as}" if item.seen_as else ""
        found.append(Identity(vendor, item.product, version, cpe, f"software {item.product} {version}".strip()
                              + seen))
    return found
