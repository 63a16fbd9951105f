"""NetBox as a seed: saved REST API JSON (sites, prefixes, IP addresses, devices, VMs), or a live NetBox.

Many plants already keep their addressing in NetBox. Saved API responses (``curl
/api/ipam/prefixes/?limit=0 > prefixes.json``) are read offline; with a URL and token
the same records are fetched through pynetbox and go down the same path. Each record
keeps the line it was found at, so a bad prefix is named in the file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from plantgate.errors import InputError, Location
from plantgate.feeds.jsontext import JsonLocator, load_json
from plantgate.onboard.seed import Seed, SeedHost, SeedNetwork

KINDS = ("sites", "prefixes", "ip-addresses", "devices", "virtual-machines")
NOT_IN_USE = frozenset({"reserved", "deprecated"})


def _kind(path: Path, records: list[dict[str, Any]]) -> str:
    stem = path.stem.lower().replace("_", "-")
    for kind in KINDS:
        if stem.startswith(kind) or stem.startswith(kind.rstrip("s")):
            return kind
    first = records[0] if records else {}
    if "prefix" in first:
        return "prefixes"
    if "address" in first:
        return "ip-addresses"
    if "device_type" in first:
        return "devices"
    if "cluster" in first or "vcpus" in first:
        return "virtual-machines"
    if "slug" in first:
        return "sites"
    raise InputError.at(str(path), 1, 1, "cannot tell which NetBox endpoint this file holds",
                        "a saved response of " + ", ".join(KINDS) + " (name the file after it)")


def _name(value: Any) -> str:
    """A nested NetBox object's display name ({'name': ..} / {'display': ..} / {'value': ..})."""
    if isinstance(value, dict):
        return str(value.get("name") or value.get("display") or value.get("label") or value.get("value") or "")
    return "" if value is None else str(value)


class _Records:
    """One file's records and a way to place each in the text."""

    def __init__(self, path: Path, records: list[dict[str, Any]], text: str) -> None:
        self.path, self.records, self.text = path, records, text
        self._cursor = 0

    def where(self, record: dict[str, Any]) -> Location:
        """The record's ``"id": N`` in the text; records are found in order, so nested ids are skipped."""
        if "id" in record:
            found = re.compile(rf'"id"\s*:\s*{re.escape(str(record["id"]))}(?!\d)').search(self.text, self._cursor)
            if found:
                index = found.start()
                self._cursor = found.end()
                line = self.text.count("\n", 0, index) + 1
                return Location(str(self.path), line, index - (self.text.rfind("\n", 0, index) + 1) + 1)
        return Location(str(self.path), 1, 1)


def read_netbox_files(paths: Iterable[Path]) -> Seed:
    """Saved API responses, one endpoint per file (a page ``{"results": [...]}`` or a bare list)."""
    seed = Seed(source="netbox")
    by_kind: dict[str, list[_Records]] = {kind: [] for kind in KINDS}
    for path in paths:
        document, text = load_json(path)
        locator = JsonLocator(path, text)
        if isinstance(document, dict) and "results" in document:
            document = document["results"]
        records = locator.need_list(document, "the API response (its 'results')")
        for record in records:
            locator.need_dict(record, "each record")
        by_kind[_kind(path, records)].append(_Records(path, records, text))
    for prefix_file in by_kind["prefixes"]:
        for record in prefix_file.records:
            where = prefix_file.where(record)
            text = str(record.get("prefix", ""))
            try:
                network = ipaddress.ip_network(text, strict=True)
            except ValueError as exc:
                raise InputError.at(where.file, where.line, where.column, f"bad prefix {text!r}: {exc}",
                                    "a prefix in CIDR form") from None
            site = _name(record.get("site"))
            vlan, role = _name(record.get("vlan")), _name(record.get("role"))
            name = record.get("description") or vlan or str(network)
            seed.networks.append(SeedNetwork(str(network), str(name), where, hint=" ".join([role, vlan, str(name)]),
                                             description=" ".join(x for x in (site, role) if x)))
    hosts = _hosts(by_kind, seed.notes)
    seed.hosts.extend(hosts)
    return seed


def _address(value: Any, where: Location) -> str:
    text = str(value.get("address") if isinstance(value, dict) else value or "")
    try:
        return str(ipaddress.ip_interface(text).ip)
    except ValueError:
        raise InputError.at(where.file, where.line, where.column, f"bad IP address {text!r}",
                            "an address such as 10.20.0.21/24") from None


def _hosts(by_kind: dict[str, list[_Records]], notes: list[str]) -> list[SeedHost]:
    """Devices and VMs with their primary and assigned addresses; unassigned addresses as their own hosts.

    Reserved and deprecated addresses are held for later or on their way out: no host is
    there, so they never become assets (each one skipped is noted).
    """
    found: dict[str, dict[str, Any]] = {}
    for kind in ("devices", "virtual-machines"):
        for records in by_kind[kind]:
            for record in records.records:
                where = records.where(record)
                name = _name(record.get("name")) or f"{kind}-{record.get('id')}"
                device_type = record.get("device_type") or {}
                host = found.setdefault(name, {"where": where, "addresses": [], "vendor": "", "product": "",
                                               "role": "", "description": ""})
                host.update(vendor=_name(device_type.get("manufacturer")) if isinstance(device_type, dict) else "",
                            product=str(device_type.get("model", "")) if isinstance(device_type, dict) else "",
                            role=_name(record.get("role") or record.get("device_role")),
                            description=str(record.get("description") or ""))
                for key in ("primary_ip4", "primary_ip6"):
                    if record.get(key):
                        host["addresses"].append(_address(record[key], where))
    for records in by_kind["ip-addresses"]:
        for record in records.records:
            where = records.where(record)
            address = _address(record.get("address"), where)
            status = _name(record.get("status")).strip().lower()
            if status in NOT_IN_USE:
                notes.append(f"{where}: {address} is {status} in NetBox: not an asset")
                continue
            assigned = record.get("assigned_object") or {}
            owner = _name(assigned.get("device") or assigned.get("virtual_machine")) if isinstance(assigned, dict) \
                else ""
            name = owner or str(record.get("dns_name") or "") or f"host-{address}"
            host = found.setdefault(name, {"where": where, "addresses": [], "vendor": "", "product": "",
                                           "role": "", "description": str(record.get("description") or "")})
            host["addresses"].append(address)
    return [SeedHost(tuple(dict.fromkeys(h["addresses"])), name, h["where"], vendor=h["vendor"],
                     product=h["product"], role=h["role"], description=h["description"])
            for name, h in found.items() if h["addresses"]]


def fetch_netbox(url: str, token: str, folder: Path) -> list[Path]:
    """Save the five endpoints of a live NetBox into ``folder`` as JSON (pynetbox), for read_netbox_files."""
    import json

    import pynetbox

    api = pynetbox.api(url, token=token)
    endpoints = {"sites": api.dcim.sites, "prefixes": api.ipam.prefixes, "ip-addresses": api.ipam.ip_addresses,
                 "devices": api.dcim.devices, "virtual-machines": api.virtualization.virtual_machines}
    written = []
    for kind, endpoint in endpoints.items():
        target = folder / f"{kind}.json"
        target.write_text(json.dumps({"results": [dict(r.serialize()) for r in endpoint.all()]}, indent=1),
                          encoding="utf-8")
        written.append(target)
    return written
