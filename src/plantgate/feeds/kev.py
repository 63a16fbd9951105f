"""The CISA Known Exploited Vulnerabilities catalog, from its JSON or its CSV form.

KEV is the strongest "exploitation: active" evidence there is. Its vendor and product name
the *component* (PAN-OS, not the Siemens device that embeds it), so PlantGate joins KEV to
advisories and assets on the CVE id only. Unknown fields (CISA adds some, such as
``forensicTriage``) are ignored rather than rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.csvtext import checked, header_of
from plantgate.feeds.jsontext import JsonLocator, load_json, read_text

CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")
REQUIRED_COLUMNS = ("cveID", "vendorProject", "product", "dateAdded")


@dataclass(frozen=True)
class KevEntry:
    """One catalog entry: a CVE CISA has evidence is exploited in the wild."""

    cve: str
    vendor_project: str
    product: str
    name: str
    date_added: dt.date
    due_date: dt.date | None
    ransomware: str
    required_action: str
    source_line: int = 0


@dataclass(frozen=True)
class KevCatalog:
    """The catalog, indexed by CVE id."""

    version: str
    released: str
    entries: dict[str, KevEntry]
    source: str = ""

    def __contains__(self, cve: object) -> bool:
        return isinstance(cve, str) and cve.upper() in self.entries

    def get(self, cve: str) -> KevEntry | None:
        return self.entries.get(cve.upper())

    def __len__(self) -> int:
        return len(self.entries)


def _date(value: str, file: str, line: int, column: int, what: str, required: bool) -> dt.date | None:
    value = (value or "").strip()
    if not value and not required:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise InputError.at(file, line, column, f"{what} {value!r} is not a date",
                            "an ISO date such as 2024-04-12") from None


def _entry(record: dict[str, Any], file: str, line: int, column: int) -> KevEntry:
    cve = str(record.get("cveID") or "").strip().upper()
    if not CVE_ID.match(cve):
        raise InputError.at(file, line, column, f"cveID {record.get('cveID')!r} is not a CVE id",
                            "a CVE id such as CVE-2024-3400")
    date_added = _date(str(record.get("dateAdded") or ""), file, line, column, "dateAdded", True)
    assert date_added is not None
    return KevEntry(
        cve=cve, vendor_project=str(record.get("vendorProject") or ""), product=str(record.get("product") or ""),
        name=str(record.get("vulnerabilityName") or ""), date_added=date_added,
        due_date=_date(str(record.get("dueDate") or ""), file, line, column, "dueDate", False),
        ransomware=str(record.get("knownRansomwareCampaignUse") or ""),
        required_action=str(record.get("requiredAction") or ""), source_line=line)


def parse_kev_json(text: str, file: str = "<kev>") -> KevCatalog:
    path = Path(file)
    document, _ = load_json(path, text)
    where = JsonLocator(path, text)
    document = where.need_dict(document, "the KEV catalog")
    items = where.need_list(document.get("vulnerabilities"), "'vulnerabilities'", "vulnerabilities")
    entries: dict[str, KevEntry] = {}
    cursor, line_at_cursor = 0, 1
    for index, item in enumerate(items):
        anchor = f'"{item.get("cveID")}"' if isinstance(item, dict) and item.get("cveID") else '"cveID"'
        found = text.find(anchor, cursor)
        line, column = 0, 0
        if found >= 0:  # count newlines incrementally: the catalog has thousands of entries
            line = line_at_cursor + text.count("\n", cursor, found)
            column = found - text.rfind("\n", 0, found)
            cursor, line_at_cursor = found, line
        if not isinstance(item, dict):
            raise InputError.at(file, line, column, f"vulnerabilities[{index}] is not an object",
                                "a KEV entry object")
        entry = _entry(item, file, line, column)
        entries[entry.cve] = entry
    return KevCatalog(str(document.get("catalogVersion", "")), str(document.get("dateReleased", "")), entries,
                      file)


def parse_kev_csv(text: str, file: str = "<kev>") -> KevCatalog:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = header_of(reader, file)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError.at(file, 1, 1, f"KEV CSV header lacks column(s) {', '.join(missing)}",
                            f"a header with {', '.join(REQUIRED_COLUMNS)}")
    entries: dict[str, KevEntry] = {}
    start_line = reader.line_num + 1
    for row in checked(reader, file, lambda: reader.reader.line_num):
        if None in row:  # more fields than the header names
            raise InputError.at(file, start_line, 1, "row has more fields than the header",
                                f"{len(header)} comma-separated fields")
        if not any((value or "").strip() for value in row.values()):
            start_line = reader.line_num + 1
            continue
        entry = _entry(row, file, start_line, 1)
        entries[entry.cve] = entry
        start_line = reader.line_num + 1
    return KevCatalog("", "", entries, file)


def load_kev(path: str | Path) -> KevCatalog:
    """Read a KEV catalog file; the form is chosen by suffix (.csv) or content (JSON)."""
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() == ".csv" or not text.lstrip().startswith(("{", "[")):
        return parse_kev_csv(text, str(path))
    return parse_kev_json(text, str(path))
