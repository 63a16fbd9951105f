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
