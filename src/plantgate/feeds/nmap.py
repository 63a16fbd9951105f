"""Nmap XML (``nmap -oX``) read as seed hosts: addresses, names, open services, OS match and CPEs.

Scans are the inventory many plants actually have. The file is parsed with defusedxml's
SAX reader, so a hostile or huge file cannot expand entities and every host keeps the
line it was written on; the scan's own target prefixes (in ``nmaprun@args``) become
seed networks, the only network facts a scan carries. What the scan knows about software
is kept: the most accurate OS match (``-O``) and each service's product, version and CPEs
(``-sV``) become software of the asset, so advisory matching sees scanned hosts. The MAC
address's vendor is the network card's maker (often "VMware"), never the asset's vendor.
"""

from __future__ import annotations

import ipaddress
import xml.sax
from pathlib import Path
from typing import Any

import defusedxml.sax

from plantgate.errors import InputError, Location
from plantgate.onboard.seed import OpenService, Seed, SeedHost, SeedNetwork, SeedSoftware


class _NmapHandler(xml.sax.ContentHandler):
    def __init__(self, file: str, seed: Seed) -> None:
        super().__init__()
        self.file = file
        self.seed = seed
        self.locator: Any = None
        self.host: dict[str, Any] | None = None
        self.port: dict[str, Any] | None = None
        self.osmatch: dict[str, Any] | None = None
        self.text: list[str] | None = None
        self.root_seen = False

    def characters(self, content: str) -> None:
        if self.text is not None:
            self.text.append(content)

    def setDocumentLocator(self, locator: Any) -> None:  # noqa: N802 - SAX API name
        self.locator = locator

    def _here(self) -> Location:
        line = self.locator.getLineNumber() if self.locator else 0
        column = self.locator.getColumnNumber() + 1 if self.locator else 0
        return Location(self.file, line, column)

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - SAX API name
        if not self.root_seen:
            if name != "nmaprun":
                where = self._here()
                raise InputError.at(self.file, where.line, where.column, f"root element <{name}>",
                                    "an Nmap XML report (<nmaprun>, from nmap -oX)")
            self.root_seen = True
            self._targets(attrs.get("args", ""))
        elif name == "host":
            self.host = {"where": self._here(), "addresses": [], "names": [], "services": [], "up": True,
                         "mac": "", "mac_vendor": "", "os": None}
            self.osmatch = None
        elif self.host is None:
            return
        elif name == "status":
            self.host["up"] = attrs.get("state", "up") == "up"
        elif name == "address":
            self._address(attrs)
        elif name == "hostname" and attrs.get("name"):
            self.host["names"].append(attrs["name"])
        elif name == "port":
            self.port = {"protocol": attrs.get("protocol", ""), "portid": attrs.get("portid", ""), "state": "",
                         "cpes": []}
        elif name == "state" and self.port is not None:
            self.port["state"] = attrs.get("state", "")
        elif name == "service" and self.port is not None:
            self.port.update(name=attrs.get("name", ""), product=attrs.get("product", ""),
                             version=attrs.get("version", ""))
        elif name == "osmatch":
            self.osmatch = {"name": attrs.get("name", ""), "accuracy": _accuracy(attrs.get("accuracy")),
                            "vendor": "", "version": "", "cpes": []}
        elif name == "osclass" and self.osmatch is not None and not self.osmatch["vendor"]:
            self.osmatch.update(vendor=attrs.get("vendor", ""), version=attrs.get("osgen", ""))
        elif name == "cpe":
            self.text = []

    def _address(self, attrs: Any) -> None:
        assert self.host is not None
        kind, addr = attrs.get("addrtype", ""), attrs.get("addr", "")
        if kind in ("ipv4", "ipv6"):
            try:
                self.host["addresses"].append(str(ipaddress.ip_address(addr)))
            except ValueError:
                where = self._here()
                raise InputError.at(self.file, where.line, where.column, f"bad {kind} address {addr!r}",
                                    "an IP address") from None
        elif kind == "mac":
            self.host["mac"], self.host["mac_vendor"] = addr, attrs.get("vendor", "")

    def _targets(self, args: str) -> None:
        for word in args.split():
            if "/" not in word:
                continue
            try:
                network = ipaddress.ip_network(word, strict=False)
            except ValueError:
                continue
            self.seed.networks.append(SeedNetwork(str(network), f"Scanned {network}", self._here(),
                                                  hint="", description=f"Target of: {args}"))

    def endElement(self, name: str) -> None:  # noqa: N802 - SAX API name
        if name == "cpe" and self.text is not None:
            cpe, self.text = "".join(self.text).strip(), None
            if cpe and self.port is not None:
                self.port["cpes"].append(cpe)
            elif cpe and self.osmatch is not None:
                self.osmatch["cpes"].append(cpe)
        elif name == "port" and self.port is not None and self.host is not None:
            port = self.port
            self.port = None
            if port["state"] != "open":
                return
            if not port["portid"].isdigit():
                raise InputError.at(self.file, self._here().line, 1, f"bad port id {port['portid']!r}", "a number")
            self.host["services"].append(OpenService(port["protocol"], int(port["portid"]), port.get("name", ""),
                                                     port.get("product", ""), port.get("version", ""),
                                                     tuple(dict.fromkeys(port["cpes"]))))
        elif name == "osmatch" and self.osmatch is not None and self.host is not None:
            match, self.osmatch = self.osmatch, None
            best = self.host["os"]
            if match["name"] and (best is None or match["accuracy"] > best["accuracy"]):
                self.host["os"] = match
        elif name == "host" and self.host is not None:
            host, self.host = self.host, None
            if host["up"] and host["addresses"]:
                name_text = host["names"][0] if host["names"] else ""
                self.seed.hosts.append(SeedHost(
                    tuple(host["addresses"]), name_text, host["where"], mac=host["mac"],
                    mac_vendor=host["mac_vendor"], services=tuple(host["services"]), software=_software(host)))


def _accuracy(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _software(host: dict[str, Any]) -> tuple[SeedSoftware, ...]:
    """The most accurate OS match, then every open service Nmap identified a product for."""
    found = []
    match = host["os"]
    if match is not None:
        cpe = match["cpes"][0] if match["cpes"] else ""
        parts = cpe.split(":") if cpe.startswith("cpe:/") else []
        version = parts[4] if len(parts) > 4 and parts[4] not in ("", "*", "-") else match["version"]
        found.append(SeedSoftware(match["name"], match["vendor"], version, cpe,
                                  f"nmap OS match, accuracy {match['accuracy']}%"))
    for service in host["services"]:
        if service.product:
            found.append(SeedSoftware(service.product, "", service.version, service.cpes[0] if service.cpes else "",
                                      f"nmap {service.protocol}/{service.port} {service.name}".strip()))
    return tuple(found)


def read_nmap(path: Path) -> Seed:
    """Every host that was up, with its open ports; InputError with the line for bad XML."""
    seed = Seed(source="nmap")
    handler = _NmapHandler(str(path), seed)
    try:
        with path.open("rb") as stream:
            defusedxml.sax.parse(stream, handler)
    except OSError as exc:
        raise InputError.at(str(path), 0, 0, f"cannot read: {exc}", "an Nmap XML file") from None
    except xml.sax.SAXParseException as exc:
        raise InputError.at(str(path), exc.getLineNumber() or 0, (exc.getColumnNumber() or 0) + 1,
                            f"malformed XML: {exc.getMessage()}", "an Nmap XML report") from None
    except defusedxml.DefusedXmlException as exc:
        raise InputError.at(str(path), 0, 0, f"refused XML construct: {exc}", "plain Nmap XML") from None
    if not handler.root_seen:
        raise InputError.at(str(path), 1, 1, "empty document", "an Nmap XML report")
    return seed
