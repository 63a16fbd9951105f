"""CISA Vulnrichment: SSVC decision points, the KEV mark and what is affected, read from CVE JSON 5 records.

CISA's ADP container carries the three SSVC options a deployer needs but cannot easily
judge alone (Exploitation, Automatable, Technical Impact). Casing varies between records
("Active", "active", "PoC"), so values are normalised to the decision table's own terms.
The CNA's ``affected`` blocks (and the ADP's, which add CPE names) are kept too: they let
assets be matched to KEV vulnerabilities no CSAF advisory describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plantgate.feeds.cve_affected import AffectedProduct, cna_cvss, parse_affected
from plantgate.feeds.jsontext import JsonLocator, json_files, load_json, read_text

EXPLOITATION_VALUES = {"none": "none", "poc": "poc", "public poc": "poc", "active": "active"}
AUTOMATABLE_VALUES = {"yes": "yes", "no": "no"}
TECHNICAL_IMPACT_VALUES = {"partial": "partial", "total": "total"}


@dataclass(frozen=True)
class Enrichment:
    """What CISA's ADP says about one CVE."""

    cve: str
    exploitation: str | None
    automatable: str | None
    technical_impact: str | None
    in_kev: bool
    kev_date_added: str
    file: str
    ssvc_timestamp: str = ""
    affected: tuple[AffectedProduct, ...] = ()
    cvss: float | None = None
    rejected: bool = False


def _normalise(value: Any, table: dict[str, str], what: str, where: JsonLocator) -> str:
    key = str(value).strip().lower()
    if key not in table:
        raise where.error(f"SSVC {what} value {value!r} is unknown", ", ".join(sorted(set(table.values()))),
                          str(value))
    return table[key]


def parse_cve_record(text: str, file: str = "<cve>") -> Enrichment:
    """Parse one CVE JSON 5 record and pull out its CISA ADP SSVC and KEV metrics."""
    path = Path(file)
    record, _ = load_json(path, text)
    where = JsonLocator(path, text)
    record = where.need_dict(record, "the CVE record")
    if record.get("dataType") != "CVE_RECORD":
        raise where.error("not a CVE JSON 5 record (dataType is not CVE_RECORD)", "dataType CVE_RECORD",
                          "dataType")
    meta = where.need_dict(record.get("cveMetadata"), "'cveMetadata'", "cveMetadata")
    cve = where.need_str(meta.get("cveId"), "'cveMetadata.cveId'", "cveId").upper()
    containers = where.need_dict(record.get("containers"), "'containers'", "containers")
    found: dict[str, str] = {}
    in_kev, kev_date, stamp = False, "", ""
    cna = where.need_dict(containers.get("cna", {}), "'containers.cna'", "cna")
    affected = list(parse_affected(cna, "cna", where))
    for adp in where.need_list(containers.get("adp", []), "'containers.adp'", "adp"):
        adp = where.need_dict(adp, "an ADP container", "adp")
        provider = adp.get("providerMetadata")
        name = str(provider.get("shortName", "")) if isinstance(provider, dict) else ""
        affected.extend(parse_affected(adp, f"adp:{name or 'unnamed'}", where))
        for metric in where.need_list(adp.get("metrics", []) or [], "'metrics'", "metrics"):
            other = metric.get("other") if isinstance(metric, dict) else None
            if not isinstance(other, dict):
                continue
            content = where.need_dict(other.get("content", {}), "'other.content'", str(other.get("type")))
            if other.get("type") == "kev":
                in_kev, kev_date = True, str(content.get("dateAdded", ""))
            elif other.get("type") == "ssvc":
                stamp = str(content.get("timestamp", ""))
                for option in where.need_list(content.get("options", []), "SSVC 'options'", "options"):
                    for key, value in where.need_dict(option, "an SSVC option", "options").items():
                        found[key.strip().lower()] = value
    return Enrichment(
        cve=cve,
        exploitation=_normalise(found["exploitation"], EXPLOITATION_VALUES, "Exploitation", where)
        if "exploitation" in found else None,
        automatable=_normalise(found["automatable"], AUTOMATABLE_VALUES, "Automatable", where)
        if "automatable" in found else None,
        technical_impact=_normalise(found["technical impact"], TECHNICAL_IMPACT_VALUES, "Technical Impact", where)
        if "technical impact" in found else None,
        in_kev=in_kev, kev_date_added=kev_date, file=file, ssvc_timestamp=stamp, affected=tuple(affected),
        cvss=cna_cvss(cna), rejected=str(meta.get("state", "")).upper() == "REJECTED")


def load_vulnrichment(path: str | Path) -> dict[str, Enrichment]:
    """Every record of a file or folder, by CVE id."""
    out: dict[str, Enrichment] = {}
    for file in json_files(Path(path)):
        enrichment = parse_cve_record(read_text(file), str(file))
        out[enrichment.cve] = enrichment
    return out
