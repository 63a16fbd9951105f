"""Findings as ArcSight Common Event Format lines, one per finding, for the SOC's SIEM.

A SOC analyst who receives a boundary finding must not start by touching the plant. So
every event carries, besides the finding and its evidence, the site and the zone at risk,
the OT runbook to follow (its alert kind and where the treaty writes it) and the control
room's phone number, so that the first action is the call the runbook's rule one demands.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plantgate import __version__
from plantgate.checks.finding import Finding, Severity
from plantgate.model import Treaty
from plantgate.model.soc import Runbook
from plantgate.model.zones import Zone
from plantgate.outputs.json_report import relative_location

if TYPE_CHECKING:
    from plantgate.outputs.formats import CheckReport

VENDOR = "PlantGate"
PRODUCT = "PlantGate"
CEF_SEVERITY: dict[Severity, int] = {
    Severity.CRITICAL: 10, Severity.HIGH: 8, Severity.MEDIUM: 5, Severity.LOW: 3, Severity.INFO: 1,
}
"""CEF severity 0-10 (ArcSight: 0-3 low, 4-6 medium, 7-8 high, 9-10 very high)."""

RUNBOOK_KIND_BY_FAMILY: tuple[tuple[str, str], ...] = (
    ("PG-FW-001", "ot-unauthorised-change"),
    ("PG-FW-003", "ot-unauthorised-change"),
    ("PG-CHANGE-", "ot-unauthorised-change"),
    ("PG-PURDUE-", "ot-lateral-movement"),
    ("PG-SAFETY-", "ot-lateral-movement"),
    ("PG-IDENTITY-", "ot-lateral-movement"),
    ("PG-TRUST-", "ot-lateral-movement"),
    ("PG-VULN-", "ot-malware"),
    ("PG-PATCH-", "ot-malware"),
    ("PG-ENDPOINT-", "ot-malware"),
)
"""Which of the treaty's SOC alert kinds a finding family falls under (first matching prefix).

A boundary that permits what the register does not is treated like an unauthorised change;
paths around the DMZ or into safety like lateral movement; exposure of unpatched or
unqualified endpoints like malware. Families not listed have no runbook of their own; their
events still carry the control room's number.
"""

_PROTOCOL_NAMES = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP"}


@dataclass(frozen=True)
class SocContext:
    """What every event of one site repeats: site, revision, control room, runbooks by kind."""

    site: str
    revision: str
    control_room: str
    control_room_phone: str
    runbooks: dict[str, tuple[Runbook, str]]
    """Alert kind -> (runbook, where the treaty writes it)."""


def soc_context(report: CheckReport) -> SocContext:
    treaty = report.site.treaty
    soc = treaty.soc
    room = soc.control_room if soc else None
    runbooks: dict[str, tuple[Runbook, str]] = {}
    for index, runbook in enumerate(soc.runbooks if soc else []):
        where = relative_location(report.site.locate("soc", "runbooks", index), report.base)
        runbooks.setdefault(runbook.alert_kind, (runbook, where))
    return SocContext(treaty.site.name, treaty.site.revision, room.name if room else "",
                      room.phone if room else "", runbooks)


def finding_zones(treaty: Treaty, finding: Finding) -> list[Zone]:
    """The treaty zones a finding concerns, most OT-ward (safety, then lowest level) first.

    Read from the subjects (zones, assets' zones, conduits' zones); failing those, from the
    zones whose networks hold the witness packet's destination and source.
    """
    found: dict[str, Zone] = {}
    for subject in finding.subjects:
        ids: list[str] = [subject]
        asset = treaty.asset(subject)
        if asset is not None:
            ids = [asset.zone]
        conduit = next((c for c in treaty.conduits if c.id == subject), None)
        if conduit is not None:
            ids = [conduit.from_zone, conduit.to_zone]
        for zone_id in ids:
            zone = treaty.zone(zone_id)
            if zone is not None:
                found.setdefault(zone.id, zone)
    if not found and finding.witness:
        for key in ("dst", "src"):
            zone = _zone_of_address(treaty, str(finding.witness.get(key, "")))
            if zone is not None:
                found.setdefault(zone.id, zone)
    return sorted(found.values(), key=lambda z: (not z.is_safety, z.level, z.id))


def _zone_of_address(treaty: Treaty, address: str) -> Zone | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return next((z for z in treaty.zones if any(ip in network for network in z.ip_networks())), None)


def runbook_kind(rule_id: str) -> str:
    return next((kind for prefix, kind in RUNBOOK_KIND_BY_FAMILY if rule_id.startswith(prefix)), "")


def escape_header(value: str) -> str:
    """CEF header fields: backslash and pipe are escaped; line breaks become spaces."""
    return " ".join(value.replace("\\", "\\\\").replace("|", "\\|").splitlines())


def escape_value(value: str) -> str:
    """CEF extension values: backslash and equals are escaped; line breaks are written \\n."""
    text = value.replace("\\", "\\\\").replace("=", "\\=")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def cef_event(finding: Finding, soc: SocContext, treaty: Treaty, base_evidence: list[str],
              as_of: dt.date) -> str:
    """One CEF line for one finding; ``rt`` is the day judged at 00:00 UTC, so re-runs agree."""
    zones = finding_zones(treaty, finding)
    kind = runbook_kind(finding.rule_id)
    runbook = soc.runbooks.get(kind)
    if runbook is not None:
        first = runbook[0].steps[0]
        runbook_text = f"{kind} ({runbook[1]}); step 1: {first.action.value}" + (
            f": {first.detail}" if first.detail else "")
    elif kind:
        runbook_text = f"{kind}: no runbook for this alert kind in the treaty"
    else:
        runbook_text = "none for this finding family"
    call_first = (f"Call {soc.control_room or 'the control room'} at {soc.control_room_phone} before touching "
                  "anything." if soc.control_room_phone else "No control room phone number in the treaty.")
    midnight = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)
    fields: list[tuple[str, str]] = [  # what the analyst needs first comes first (survives truncation)
        ("cs1Label", "site"), ("cs1", soc.site),
        ("cs2Label", "zone"), ("cs2", zones[0].id if zones else ""),
        ("cs4Label", "controlRoomPhone"), ("cs4", soc.control_room_phone),
        ("cs3Label", "otRunbook"), ("cs3", runbook_text),
        ("rt", str(int(midnight.timestamp() * 1000))),
        ("externalId", finding.fingerprint),
        ("cat", finding.rule_id.rsplit("-", 1)[0]),
        ("msg", f"{call_first} {finding.message}"),
        ("cs5Label", "evidence"), ("cs5", ", ".join(base_evidence)),
        ("cs6Label", "zones"), ("cs6", ",".join(z.id for z in zones)),
        ("flexString1Label", "revision"), ("flexString1", soc.revision),
        ("flexString2Label", "subjects"), ("flexString2", ",".join(finding.subjects)),
    ]
    if finding.witness:
        fields += _witness_fields(finding.witness)
    header = "|".join(escape_header(part) for part in (
        "CEF:0", VENDOR, PRODUCT, __version__, finding.rule_id, finding.title,
        str(CEF_SEVERITY[finding.severity])))
    extension = " ".join(f"{key}={escape_value(value)}" for key, value in fields if value != "")
    return f"{header}|{extension}"


def _witness_fields(witness: dict[str, object]) -> list[tuple[str, str]]:
    out = [("src", str(witness.get("src", ""))), ("dst", str(witness.get("dst", "")))]
    proto = witness.get("proto")
    if isinstance(proto, int):
        out.append(("proto", _PROTOCOL_NAMES.get(proto, str(proto))))
    if witness.get("dport"):
        out += [("spt", str(witness.get("sport", ""))), ("dpt", str(witness["dport"]))]
    return out


def cef_events(report: CheckReport) -> Iterator[tuple[Finding, str]]:
    """Each finding with its CEF line, in report order."""
    soc = soc_context(report)
    treaty = report.site.treaty
    for finding in report.findings:
        evidence = [relative_location(location, report.base) for location in finding.evidence]
        yield finding, cef_event(finding, soc, treaty, evidence, report.as_of)


def render(report: CheckReport) -> str:
    """The ``--format cef`` renderer: one line per finding."""
    return "".join(line + "\n" for _, line in cef_events(report))
