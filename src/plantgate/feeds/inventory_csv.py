"""The documented CSV template for seeding a treaty from a spreadsheet.

Plants keep asset lists in spreadsheets; one fixed template (a header row, then one row
per network or host) lets them import one without writing YAML. Columns, in any order,
names case-insensitive; only ``type`` and ``address`` are required:

=============  ===========================================================================
type           ``network`` (a zone proposal) or ``host`` (an asset proposal)
address        network: a CIDR (10.20.0.0/24); host: one or more IPs separated by ``;``
name           zone or asset name (default: the address)
level          network only: Purdue level 0, 1, 2, 3, 3.5, 4 or 5 (default: guessed from the name)
kind           network only: enterprise, dmz, operations, control, safety, field, vendor, external
role           host only: an asset role such as hmi, controller, historian (default: guessed)
vendor         host only
product        host only
version        host only
description    free text
=============  ===========================================================================
"""

from __future__ import annotations

import csv
import io
import ipaddress
from pathlib import Path

from plantgate.errors import InputError, Location
from plantgate.feeds.csvtext import checked
from plantgate.feeds.textfile import read_evidence_text
from plantgate.model.zones import PURDUE_LEVELS, ZoneKind
from plantgate.onboard.seed import Seed, SeedHost, SeedNetwork

COLUMNS = ("type", "address", "name", "level", "kind", "role", "vendor", "product", "version", "description")
TEMPLATE = ",".join(COLUMNS) + "\n"


def read_inventory_csv(path: Path) -> Seed:
    """Rows of the template as seed networks and hosts; InputError at the row and column of a bad cell."""
    seed = Seed(source="csv")
    file = str(path)
    text = read_evidence_text(path, "inventory CSV")
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle)
        header: list[str] | None = None
        for row in checked(reader, file, lambda: reader.line_num):
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [c.strip().lower() for c in row]
                unknown = [c for c in header if c not in COLUMNS]
                if unknown or "type" not in header or "address" not in header:
                    raise InputError.at(file, line, 1, "unexpected header " + ", ".join(unknown or header),
                                        "columns among " + ", ".join(COLUMNS) + " including type and address")
                continue
            cells = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header)}
            _row(seed, cells, header, Location(file, line, 1))
    if header is None:
        raise InputError.at(file, 1, 1, "empty file", "the header row: " + TEMPLATE.strip())
    return seed


def _bad(where: Location, header: list[str], column: str, message: str, expected: str) -> InputError:
    return InputError.at(where.file, where.line, header.index(column) + 1 if column in header else 1, message,
                         expected)


def _row(seed: Seed, cells: dict[str, str], header: list[str], where: Location) -> None:
    kind = cells.get("type", "").lower()
    address = cells.get("address", "")
    name = cells.get("name", "") or address
    if kind == "network":
        try:
            network = ipaddress.ip_network(address, strict=True)
        except ValueError as exc:
            raise _bad(where, header, "address", f"bad network {address!r}: {exc}", "a CIDR such as 10.20.0.0/24") \
                from None
        level: float | None = None
        if cells.get("level"):
            try:
                level = float(cells["level"])
            except ValueError:
                level = -1.0
            if level not in PURDUE_LEVELS:
                raise _bad(where, header, "level", f"bad level {cells['level']!r}", "0, 1, 2, 3, 3.5, 4 or 5")
        zone_kind = cells.get("kind", "").lower()
        if zone_kind and zone_kind not in {k.value for k in ZoneKind}:
            raise _bad(where, header, "kind", f"bad kind {zone_kind!r}", ", ".join(k.value for k in ZoneKind))
        seed.networks.append(SeedNetwork(str(network), name, where, hint=name, level=level, kind=zone_kind,
                                         description=cells.get("description", "")))
    elif kind == "host":
        addresses = [a.strip() for a in address.replace(",", ";").split(";") if a.strip()]
        for item in addresses:
            try:
                ipaddress.ip_address(item)
            except ValueError:
                raise _bad(where, header, "address", f"bad address {item!r}", "IP addresses separated by ;") \
                    from None
        if not addresses:
            raise _bad(where, header, "address", "no address", "at least one IP address")
        seed.hosts.append(SeedHost(tuple(addresses), name, where, vendor=cells.get("vendor", ""),
                                   product=cells.get("product", ""), version=cells.get("version", ""),
                                   role=cells.get("role", ""), description=cells.get("description", "")))
    else:
        raise _bad(where, header, "type", f"bad type {kind!r}", "network or host")
