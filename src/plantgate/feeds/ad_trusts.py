"""Active Directory trust exports in, one neutral TrustRecord per trust out, each with its line.

The identity check must run on what administrators can actually hand over: ``Get-ADTrust``
piped to ``ConvertTo-Json`` (enums as integers in Windows PowerShell 5.1, as strings with
``-EnumsAsStrings``), to ``Export-Csv`` or to ``Format-List``, and BloodHound/SharpHound
``domains.json`` (v3-v6, string or legacy integer TrustDirection/TrustType). Properties are
read under Microsoft's own names, including the cmdlet's misspelt ``DisallowTransivity``.
A trust direction that cannot be read is an InputError at its line, never a guess: the
direction is exactly what decides whether enterprise accounts can log on in OT.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.csvtext import checked, header_of
from plantgate.feeds.jsontext import load_json, parse_json, read_text

FORMATS = ("auto", "get-adtrust-json", "get-adtrust-csv", "get-adtrust-list", "bloodhound")

# trustAttributes bits (MS-ADTS 6.1.6.7.9)
ATTR_NON_TRANSITIVE = 0x1
ATTR_QUARANTINED_DOMAIN = 0x4
ATTR_FOREST_TRANSITIVE = 0x8
ATTR_CROSS_ORGANIZATION = 0x10
ATTR_WITHIN_FOREST = 0x20
ATTR_TREAT_AS_EXTERNAL = 0x40
ATTR_USES_RC4_ENCRYPTION = 0x80
ATTR_ENABLE_TGT_DELEGATION = 0x800
ENC_AES = 0x8 | 0x10
"""msDS-SupportedEncryptionTypes: AES128-CTS-HMAC-SHA1-96 and AES256-CTS-HMAC-SHA1-96."""

INTRA_FOREST_TYPES = frozenset({"ParentChild", "TreeRoot", "Shortcut"})
"""BloodHound trust types that only exist between domains of one forest (CrossLink is the old Shortcut)."""

_LEGACY_BLOODHOUND_TYPES = {0: "ParentChild", 1: "Shortcut", 2: "Forest", 3: "External", 4: "Unknown"}
_BLOODHOUND_TYPES = {"parentchild": "ParentChild", "crosslink": "Shortcut", "shortcut": "Shortcut",
                     "treeroot": "TreeRoot", "forest": "Forest", "external": "External", "realm": "Realm",
                     "unknown": "Unknown"}
_AD_TRUST_TYPES = {1: "Downlevel", 2: "Uplevel", 3: "MIT", 4: "DCE", 5: "AAD"}


class TrustDirection(IntEnum):
    """ADTrustDirection / SharpHound TrustDirection, seen from the domain the export was taken on."""

    DISABLED = 0
    INBOUND = 1
    OUTBOUND = 2
    BIDIRECTIONAL = 3

    @property
    def label(self) -> str:
        return {0: "Disabled", 1: "Inbound", 2: "Outbound", 3: "BiDirectional"}[self.value]

    @property
    def partner_accounts_come_in(self) -> bool:
        """Outbound or two-way: this domain trusts the partner, so partner accounts log on here."""
        return self in (TrustDirection.OUTBOUND, TrustDirection.BIDIRECTIONAL)

    @property
    def own_accounts_go_out(self) -> bool:
        """Inbound or two-way: the partner trusts this domain, so this domain's accounts log on there."""
        return self in (TrustDirection.INBOUND, TrustDirection.BIDIRECTIONAL)


@dataclass(frozen=True)
class TrustRecord:
    """One trust as one export states it; ``None`` means the export does not say."""

    file: str
    line: int
    export_format: str
    source: str
    target: str
    direction: TrustDirection
    trust_type: str = "Unknown"
    target_sid: str = ""
    attributes: int | None = None
    intra_forest_flag: bool | None = None
    selective_authentication: bool | None = None
    sid_filtering: bool | None = None
    tgt_delegation: bool | None = None
    uses_rc4: bool | None = None
    uses_aes: bool | None = None
    transitive: bool | None = None
    raw: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def intra_forest(self) -> bool:
        """IntraForest, trustAttributes bit 0x20, or a ParentChild/TreeRoot/Shortcut trust."""
        return bool(self.intra_forest_flag) or bool((self.attributes or 0) & ATTR_WITHIN_FOREST) \
            or self.trust_type in INTRA_FOREST_TYPES

    def mitigations(self) -> list[str]:
        """The hardening the export shows, stated plainly; none of it makes a bad trust pass."""
        def state(value: bool | None, on: str, off: str) -> str:
            return "not stated in the export" if value is None else (on if value else off)
        return [
            "selective authentication: " + state(self.selective_authentication, "on", "off"),
            "SID filtering: " + state(self.sid_filtering, "on", "off"),
            "TGT delegation across the trust: " + state(self.tgt_delegation, "enabled", "blocked"),
            "RC4: " + state(self.uses_rc4, "in use", "not used"),
        ]

    @property
    def rc4_only(self) -> bool:
        """RC4 in use and AES not enabled (or not stated): Kerberos tickets across the trust can be RC4."""
        return self.uses_rc4 is True and self.uses_aes is not True


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def parse_direction(value: Any, file: str, line: int) -> TrustDirection:
    """0-3 or Disabled/Inbound/Outbound/BiDirectional, names compared without regard to case."""
    number = _int(value)
    if number is not None and 0 <= number <= 3:
        return TrustDirection(number)
    by_name = {d.label.lower(): d for d in TrustDirection}
    found = by_name.get(str(value).strip().lower()) if value is not None else None
    if found is None:
        raise InputError.at(file, line, 1, f"trust direction {value!r} not understood",
                            "Disabled, Inbound, Outbound, BiDirectional or 0-3")
    return found


def _domain_of_dn(text: str) -> str:
    """``DC=ot,DC=plant,DC=example`` -> ``ot.plant.example``; anything else is returned as written."""
    parts = [p.split("=", 1)[1] for p in text.split(",") if p.strip().upper().startswith("DC=")]
    return ".".join(p.strip() for p in parts).lower() if parts else text.strip().lower()


def _lookup(record: dict[str, Any], name: str) -> Any:
    """A property under Microsoft's spelling; PowerShell itself matches names case-insensitively."""
    if name in record:
        return record[name]
    lowered = name.lower()
    return next((v for k, v in record.items() if str(k).lower() == lowered), None)


def _adtrust_record(record: dict[str, Any], file: str, line: int, fmt: str, taken_on: str) -> TrustRecord:
    """One Get-ADTrust object (from JSON, CSV or Format-List) as a TrustRecord."""
    target = _lookup(record, "Target") or _lookup(record, "Name")
    if not target or not str(target).strip():
        raise InputError.at(file, line, 1, "trust without Target or Name", "Get-ADTrust output with Target")
    direction_value = _lookup(record, "Direction")
    if direction_value is None or str(direction_value).strip() == "":
        raise InputError.at(file, line, 1, f"trust to {target} has no Direction", "a Direction property")
    direction = parse_direction(direction_value, file, line)
    attributes = _int(_lookup(record, "TrustAttributes"))
    type_value = _lookup(record, "TrustType")
    type_number = _int(type_value)
    trust_type = _AD_TRUST_TYPES.get(type_number, "Unknown") if type_number is not None else (
        str(type_value).strip() if type_value not in (None, "") else "Unknown")
    source = _lookup(record, "Source")
    quarantined = _bool(_lookup(record, "SIDFilteringQuarantined"))
    forest_aware = _bool(_lookup(record, "SIDFilteringForestAware"))
    if quarantined is None and attributes is not None:
        quarantined = bool(attributes & ATTR_QUARANTINED_DOMAIN)
    forest_transitive = _bool(_lookup(record, "ForestTransitive"))
    sid_filtering = quarantined
    if forest_transitive and forest_aware is not None:
        # Forest trusts filter SIDs by default; SIDFilteringForestAware (0x40) relaxes that to allow SID history.
        sid_filtering = not forest_aware
    selective = _bool(_lookup(record, "SelectiveAuthentication"))
    if selective is None and attributes is not None:
        selective = bool(attributes & ATTR_CROSS_ORGANIZATION)
    tgt = _bool(_lookup(record, "TGTDelegation"))
    if tgt is None and attributes is not None:
        tgt = bool(attributes & ATTR_ENABLE_TGT_DELEGATION)  # blocked by default since the 2019 updates
    rc4 = _bool(_lookup(record, "UsesRC4Encryption"))
    if rc4 is None and attributes is not None:
        rc4 = bool(attributes & ATTR_USES_RC4_ENCRYPTION)
    aes = _bool(_lookup(record, "UsesAESKeys"))
    encryption_types = _int(_lookup(record, "msDS-SupportedEncryptionTypes"))
    if aes is None and encryption_types is not None:
        aes = bool(encryption_types & ENC_AES)
    disallow = _bool(_lookup(record, "DisallowTransivity"))
    intra = _bool(_lookup(record, "IntraForest"))
    if _bool(_lookup(record, "IsTreeParent")) or _bool(_lookup(record, "IsTreeRoot")):
        intra = True
    return TrustRecord(
        file=file, line=line, export_format=fmt,
        source=_domain_of_dn(str(source)) if source else taken_on.lower(),
        target=str(target).strip(), direction=direction, trust_type=trust_type, attributes=attributes,
        intra_forest_flag=intra, selective_authentication=selective, sid_filtering=sid_filtering,
        tgt_delegation=tgt, uses_rc4=rc4, uses_aes=aes, transitive=None if disallow is None else not disallow,
        raw={str(k): str(v) for k, v in record.items() if not isinstance(v, dict | list)},
    )


def _key_lines(text: str, key: str) -> list[int]:
    """1-based lines of every ``"key":`` in the text, in order (records are found in the same order)."""
    pattern = re.compile(r'"' + re.escape(key) + r'"\s*:', re.IGNORECASE)
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]


def parse_adtrust_json(path: Path, text: str, taken_on: str) -> list[TrustRecord]:
    """``Get-ADTrust -Filter * | ConvertTo-Json`` (one object or an array)."""
    document, _ = load_json(path, text)
    items = document if isinstance(document, list) else [document]
    lines = _key_lines(text, "Direction")
    records = []
    for index, item in enumerate(items):
        line = lines[index] if index < len(lines) else 1
        if not isinstance(item, dict):
            raise InputError.at(str(path), line, 1, "trust entry is not a JSON object", "Get-ADTrust objects")
        records.append(_adtrust_record(item, str(path), line, "get-adtrust-json", taken_on))
    return records


def parse_adtrust_csv(path: Path, text: str, taken_on: str) -> list[TrustRecord]:
    """``Get-ADTrust -Filter * | Export-Csv`` (with or without the ``#TYPE`` line)."""
    lines = text.splitlines(keepends=True)
    skipped = 0
    while skipped < len(lines) and (not lines[skipped].strip() or lines[skipped].startswith("#TYPE")):
        skipped += 1
    reader = csv.DictReader(io.StringIO("".join(lines[skipped:])))
    names = header_of(reader, str(path), skipped + 1)
    if not names or not any(str(n).lower() == "direction" for n in names):
        raise InputError.at(str(path), skipped + 1, 1, "CSV header has no Direction column",
                            "the header line of Get-ADTrust | Export-Csv")
    records = []
    row_start = reader.line_num + 1
    for row in checked(reader, str(path), lambda: skipped + reader.reader.line_num):
        line = skipped + row_start
        if None in row:
            raise InputError.at(str(path), line, 1, "row has more fields than the header",
                                f"{len(names)} fields")
        values = {k: v for k, v in row.items() if v not in (None, "")}
        records.append(_adtrust_record(values, str(path), line, "get-adtrust-csv", taken_on))
        row_start = reader.line_num + 1
    return records


_LIST_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9]*)\s*:\s?(?P<value>.*)$")


def parse_adtrust_list(path: Path, text: str, taken_on: str) -> list[TrustRecord]:
    """``Get-ADTrust -Filter * | Format-List``: blank-line separated ``Property : value`` blocks."""
    records: list[TrustRecord] = []
    current: dict[str, str] = {}
    start = 0
    last_key = ""

    def flush() -> None:
        if current:
            records.append(_adtrust_record(dict(current), str(path), start, "get-adtrust-list", taken_on))
            current.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            flush()
            last_key = ""
            continue
        if raw.lstrip().startswith("PS ") and ">" in raw:
            continue  # a copied prompt line
        match = _LIST_LINE.match(raw)
        if match:
            if not current:
                start = number
            last_key = match.group("key")
            current[last_key] = match.group("value").strip()
        elif raw[0].isspace() and last_key:
            current[last_key] += raw.strip()  # Format-List wraps long values onto indented lines
        else:
            raise InputError.at(str(path), number, 1, f"line not understood: {raw.strip()[:60]!r}",
                                "'Property : value' lines of Get-ADTrust | Format-List")
    flush()
    return records


def parse_bloodhound(path: Path, text: str, taken_on: str) -> list[TrustRecord]:
    """SharpHound/BloodHound ``domains.json``: every domain's Trusts, v3 to v6."""
    document, _ = load_json(path, text)
    meta = document.get("meta") if isinstance(document, dict) else None
    if not isinstance(meta, dict) or not isinstance(document.get("data"), list):
        raise InputError.at(str(path), 1, 1, "not a BloodHound file", "an object with 'meta' and 'data'")
    if str(meta.get("type", "")).lower() != "domains":
        raise InputError.at(str(path), 1, 1, f"BloodHound file of type {meta.get('type')!r}", "type 'domains'")
    version = _int(meta.get("version"))
    if version is None or not 3 <= version <= 6:
        raise InputError.at(str(path), 1, 1, f"BloodHound format version {meta.get('version')!r}",
                            "version 3, 4, 5 or 6")
    lines = _key_lines(text, "TargetDomainName")
    position = 0
    records = []
    for domain in document["data"]:
        properties = domain.get("Properties", {}) if isinstance(domain, dict) else {}
        source = str(properties.get("name") or properties.get("domain") or taken_on).lower()
        for trust in domain.get("Trusts", []) if isinstance(domain, dict) else []:
            line = lines[position] if position < len(lines) else 1
            position += 1
            records.append(_bloodhound_trust(trust, str(path), line, source))
    return records


def _bloodhound_trust(trust: Any, file: str, line: int, source: str) -> TrustRecord:
    if not isinstance(trust, dict) or not trust.get("TargetDomainName"):
        raise InputError.at(file, line, 1, "trust without TargetDomainName", "a SharpHound trust object")
    direction = parse_direction(trust.get("TrustDirection"), file, line)
    type_value = trust.get("TrustType")
    number = _int(type_value)
    if number is not None:
        trust_type = _LEGACY_BLOODHOUND_TYPES.get(number)
    else:
        trust_type = _BLOODHOUND_TYPES.get(str(type_value).strip().lower()) if type_value is not None else None
    if trust_type is None:
        raise InputError.at(file, line, 1, f"trust type {type_value!r} not understood",
                            "ParentChild, TreeRoot, Shortcut/CrossLink, Forest, External, Realm, Unknown or 0-4")
    attributes = _int(trust.get("TrustAttributes"))
    return TrustRecord(
        file=file, line=line, export_format="bloodhound", source=source,
        target=str(trust["TargetDomainName"]).strip(), direction=direction, trust_type=trust_type,
        target_sid=str(trust.get("TargetDomainSid") or ""), attributes=attributes,
        selective_authentication=bool(attributes & ATTR_CROSS_ORGANIZATION) if attributes is not None else None,
        sid_filtering=_bool(trust.get("SidFilteringEnabled")),
        tgt_delegation=_bool(trust.get("TGTDelegationEnabled")),
        uses_rc4=bool(attributes & ATTR_USES_RC4_ENCRYPTION) if attributes is not None else None,
        transitive=_bool(trust.get("IsTransitive")),
        raw={k: str(v) for k, v in trust.items()},
    )


def detect_format(text: str) -> str:
    """Which of the supported exports this text is."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        try:
            document = parse_json(text, "<detect>")
        except InputError:
            return "get-adtrust-json"  # let the JSON parser report the error at its line
        return "bloodhound" if isinstance(document, dict) and "meta" in document else "get-adtrust-json"
    first = stripped.splitlines()[0] if stripped else ""
    if first.startswith("#TYPE") or ("," in first and "direction" in first.lower() and ":" not in first):
        return "get-adtrust-csv"
    return "get-adtrust-list"


_PARSERS = {"get-adtrust-json": parse_adtrust_json, "get-adtrust-csv": parse_adtrust_csv,
            "get-adtrust-list": parse_adtrust_list, "bloodhound": parse_bloodhound}


def load_trust_export(path: Path, taken_on: str = "", export_format: str = "auto") -> list[TrustRecord]:
    """Every trust of one export file; InputError (file:line) for anything that cannot be read."""
    if export_format not in FORMATS:
        raise InputError.at(str(path), 0, 0, f"unknown trust export format {export_format!r}", ", ".join(FORMATS))
    text = read_text(path)
    fmt = detect_format(text) if export_format == "auto" else export_format
    return _PARSERS[fmt](path, text, taken_on)
