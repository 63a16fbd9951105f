"""Vulnrichment reader: every real record loads, casing is normalised, KEV marks are seen."""

from __future__ import annotations

import json

import pytest

from plantgate.errors import InputError
from plantgate.feeds.vulnrichment import load_vulnrichment, parse_cve_record
from tests.conftest import shared_path


def test_every_real_record_loads_with_normalised_values() -> None:
    records = load_vulnrichment(shared_path("ot-data", "vulnrichment"))
    assert len(records) == 31
    pan = records["CVE-2024-3400"]
    assert (pan.exploitation, pan.automatable, pan.technical_impact, pan.in_kev) == ("active", "yes", "total", True)
    values = {(r.exploitation, r.automatable, r.technical_impact) for r in records.values()}
    flat = {v for triple in values for v in triple}
    assert flat <= {"none", "poc", "active", "yes", "no", "partial", "total", None}
    assert any(r.exploitation == "poc" for r in records.values())  # written "PoC" upstream


def _record(options: list[dict[str, str]]) -> str:
    return json.dumps({"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "CVE-2025-0001"},
                       "containers": {"adp": [{"metrics": [{"other": {"type": "ssvc",
                                                                      "content": {"options": options}}}]}]}},
                      indent=1)


def test_casing_and_unknown_values() -> None:
    record = parse_cve_record(_record([{"Exploitation": "ACTIVE"}, {"Automatable": "No"},
                                       {"Technical Impact": "Partial"}]), "r.json")
    assert (record.exploitation, record.automatable, record.technical_impact, record.in_kev) == \
        ("active", "no", "partial", False)
    with pytest.raises(InputError) as info:
        parse_cve_record(_record([{"Exploitation": "Rampant"}]), "r.json")
    assert info.value.problems[0].location.line > 1 and "Rampant" in info.value.problems[0].message
    with pytest.raises(InputError, match="CVE_RECORD"):
        parse_cve_record('{"dataType": "OTHER"}', "r.json")


def test_affected_blocks_are_kept_and_bad_ones_named() -> None:
    records = load_vulnrichment(shared_path("ot-data", "vulnrichment"))
    [pan_os, *_] = records["CVE-2024-3400"].affected
    assert (pan_os.source, pan_os.vendor, pan_os.product, pan_os.default_status) == \
        ("cna", "Palo Alto Networks", "PAN-OS", "unaffected")
    ranged = [v for v in pan_os.versions if v.less_than]
    assert (ranged[0].version, ranged[0].less_than, ranged[0].changes) == \
        ("10.2.0", "10.2.9-h1", (("10.2.9-h1", "unaffected"),))
    assert any(a.source.startswith("adp:") and a.cpes for a in records["CVE-2024-3400"].affected)
    assert records["CVE-2024-3400"].cvss == 10.0
    bad = json.dumps({"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "CVE-2025-0002"}, "containers": {
        "cna": {"affected": [{"vendor": "V", "product": "P", "versions": [{"version": "1", "status": "broken"}]}]}}},
        indent=1)
    with pytest.raises(InputError) as info:
        parse_cve_record(bad, "r.json")
    assert "broken" in info.value.problems[0].message and info.value.problems[0].location.line > 1
