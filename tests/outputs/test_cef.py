"""CEF events: each carries the finding, site, zone, OT runbook and the control room's number."""

from __future__ import annotations

import re

from plantgate.outputs.cef import escape_header, escape_value, render
from plantgate.outputs.formats import CheckReport
from tests.outputs.conftest import compare_golden

_PAIR = re.compile(r"(\w+)=((?:\\.|[^\\])*?)(?= \w+=|$)")


def parse(line: str) -> tuple[list[str], dict[str, str]]:
    """Split a CEF line into its 7 header fields and its extension (values unescaped)."""
    parts = re.split(r"(?<!\\)\|", line, maxsplit=7)
    extension = {key: value.replace("\\=", "=").replace("\\\\", "\\") for key, value in _PAIR.findall(parts[7])}
    return parts[:7], extension


def test_every_event_carries_what_the_analyst_needs(example_report: CheckReport) -> None:
    lines = render(example_report).splitlines()
    assert len(lines) == len(example_report.findings)
    for finding, line in zip(example_report.findings, lines, strict=True):
        header, ext = parse(line)
        assert header[0] == "CEF:0" and header[1] == "PlantGate" and header[4] == finding.rule_id
        assert 0 <= int(header[6]) <= 10
        assert ext["cs1Label"] == "site" and ext["cs1"] == "Bayport Olefins"
        assert ext["cs4Label"] == "controlRoomPhone" and ext["cs4"] == "+1 281 555 0199"
        assert ext["msg"].startswith("Call Unit 2 control room at +1 281 555 0199 before touching anything.")
        assert ext["externalId"] == finding.fingerprint
        assert ext["cs3Label"] == "otRunbook"


def test_zone_and_runbook_of_a_safety_finding(example_report: CheckReport) -> None:
    line = next(line for line in render(example_report).splitlines() if "|PG-SAFETY-001|" in line)
    _, ext = parse(line)
    assert ext["cs2"] == "sis", "the zone at risk is the safety zone"
    assert ext["cs3"].startswith("ot-lateral-movement (patch.yaml:")
    assert "call_control_room" in ext["cs3"]


def test_witness_becomes_standard_cef_keys(example_report: CheckReport) -> None:
    line = next(line for line in render(example_report).splitlines() if "|PG-FW-001|" in line)
    _, ext = parse(line)
    assert ext["proto"] in {"TCP", "UDP"} and ext["src"] and ext["dst"] and ext["dpt"].isdigit()
    assert ext["cs3"].startswith("ot-unauthorised-change")


def test_escaping() -> None:
    assert escape_header("a|b\\c\nd") == "a\\|b\\\\c d"
    assert escape_value("k=v\\x\nnext") == "k\\=v\\\\x\\nnext"
    header, ext = parse("CEF:0|V|P|1|ID|na\\|me|5|msg=a\\=b c cs1=x")
    assert header[5] == "na\\|me" and ext == {"msg": "a=b c", "cs1": "x"}


def test_golden(example_report: CheckReport) -> None:
    text = render(example_report).replace(str(example_report.base.resolve()), "TREATY")  # paths in messages
    compare_golden("example.cef", text)
