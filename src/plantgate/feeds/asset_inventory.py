"""Asset inventory exports (CSV or JSON, the shape OT asset tools export) read into treaty assets.

OT asset inventories (Claroty, Nozomi, Dragos, Tenable OT, a spreadsheet) export one row per
device with columns such as Name, IP Address, Vendor, Model, Firmware and Type. This module
maps those documented columns onto the treaty's Asset, row by row, keeping each row's line
so a bad row is reported as ``inventory.csv:17`` and never silently dropped.

Documented columns (header names compared without case, spaces, ``_`` or ``-``):

=============  ===============================================================
treaty field   accepted column names
=============  ===============================================================
id             id, asset id (optional: derived from name, or matched by address)
name           name, hostname, host name, asset name, device name
zone           zone, security zone, segment (optional: found from the address)
role           role, type, asset type, device type, category
addresses      addresses, address, ip, ip address, ip addresses, ipv4
vendor         vendor, manufacturer
product        product, model, product name
version        version, firmware, firmware version, os version
description    description, notes, comment
=============  ===============================================================

Several addresses in one cell are separated by ``;``, ``,`` or spaces; other columns (MAC,
serial number...) are ignored. JSON input is an array of objects with the same keys, or an
object whose ``assets`` (or ``devices``) key holds that array.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.csvtext import checked, header_of
from plantgate.feeds.jsontext import load_json, read_text
from plantgate.model.assets import AssetRole

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "assetid"),
    "name": ("name", "hostname", "assetname", "devicename"),
    "zone": ("zone", "securityzone", "segment"),
    "role": ("role", "type", "assettype", "devicetype", "category"),
    "addresses": ("addresses", "address", "ip", "ipaddress", "ipaddresses", "ipv4"),
    "vendor": ("vendor", "manufacturer"),
    "product": ("product", "model", "productname"),
    "version": ("version", "firmware", "firmwareversion", "osversion"),
    "description": ("description", "notes", "comment"),
}
_ALIAS = {alias: field for field, aliases in COLUMNS.items() for alias in aliases}

ROLE_ALIASES: dict[str, AssetRole] = {
    "plc": AssetRole.CONTROLLER, "rtu": AssetRole.CONTROLLER, "controller": AssetRole.CONTROLLER,
    "dcscontroller": AssetRole.CONTROLLER, "pac": AssetRole.CONTROLLER,
    "hmi": AssetRole.HMI, "operatorstation": AssetRole.HMI, "operatorworkstation": AssetRole.HMI,
    "ews": AssetRole.ENGINEERING_WORKSTATION, "engineeringstation": AssetRole.ENGINEERING_WORKSTATION,
    "engineeringworkstation": AssetRole.ENGINEERING_WORKSTATION,
    "sis": AssetRole.SIS, "safetycontroller": AssetRole.SIS, "safetyplc": AssetRole.SIS,
    "dcs": AssetRole.DCS_SERVER, "dcsserver": AssetRole.DCS_SERVER, "scadaserver": AssetRole.DCS_SERVER,
    "router": AssetRole.OTHER, "networkdevice": AssetRole.OTHER,
}


def normalise(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


def parse_role(value: str) -> AssetRole | None:
    key = normalise(value)
    if key in ROLE_ALIASES:
        return ROLE_ALIASES[key]
    return next((r for r in AssetRole if normalise(r.value) == key), None)


def split_addresses(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part for part in re.split(r"[;,\s]+", str(value or "")) if part]


def slug(name: str) -> str:
    """An asset id from a name: ``Console Station 3`` -> ``console-station-3``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100]


@dataclass(frozen=True)
class InventoryRow:
    """One device of the export, with the treaty fields it gives and the line it came from."""

    file: str
    line: int
    fields: dict[str, Any]


def _map_keys(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        field = _ALIAS.get(normalise(str(key)))
        if field is None or value is None or (isinstance(value, str) and not value.strip()):
            continue
        out[field] = split_addresses(value) if field == "addresses" else (
            value.strip() if isinstance(value, str) else str(value))
    return out


def _read_csv(path: Path, text: str) -> list[InventoryRow]:
    reader = csv.DictReader(io.StringIO(text))
    names = header_of(reader, str(path))
    if not any(normalise(n) in _ALIAS for n in names):
        raise InputError.at(str(path), 1, 1, "no known column in the CSV header",
                            "columns such as name, ip address, zone, type, vendor, model, firmware")
    rows = []
    start = reader.line_num + 1
    for record in checked(reader, str(path), lambda: reader.reader.line_num):
        if None in record:
            raise InputError.at(str(path), start, 1, "row has more fields than the header", f"{len(names)} fields")
        fields = _map_keys({k: v for k, v in record.items() if k is not None})
        if fields:
            rows.append(InventoryRow(str(path), start, fields))
        start = reader.line_num + 1
    return rows


def _json_items(path: Path, text: str) -> list[InventoryRow]:
    document, _ = load_json(path, text)
    items = document
    if isinstance(document, dict):
        items = document.get("assets", document.get("devices"))
    if not isinstance(items, list):
        raise InputError.at(str(path), 1, 1, "no list of assets", "a JSON array, or an object with 'assets'")
    # Each array element starts at the next '{' at or after the previous element's end.
    decoder = json.JSONDecoder()
    start = text.find("[", text.find('"assets"') if isinstance(document, dict) and "assets" in document else 0)
    if isinstance(document, dict) and "assets" not in document:
        start = text.find("[", text.find('"devices"'))
    index = start + 1
    rows = []
    for item in items:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        line = text.count("\n", 0, index) + 1
        _, index = decoder.raw_decode(text, index)
        if not isinstance(item, dict):
            raise InputError.at(str(path), line, 1, "asset entry is not a JSON object", "an object per asset")
        rows.append(InventoryRow(str(path), line, _map_keys(item)))
    return rows


def read_inventory(path: Path) -> list[InventoryRow]:
    """Every row of a CSV or JSON inventory export, with its line."""
    text = read_text(path)
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        return _json_items(path, text)
    return _read_csv(path, text)
