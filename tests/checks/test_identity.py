"""The trust check: enterprise accounts into OT fail from either side; mitigations never make it pass."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from plantgate.checks import CheckContext, Finding
from plantgate.checks.identity import treaty_domains, trust_exports
from plantgate.errors import InputError
from plantgate.load import load_site
from tests.conftest import shared_path
from tests.sites import EXAMPLE, MINIMAL, write_files

AS_OF = dt.date(2026, 11, 26)
DATA = Path(__file__).parents[1] / "feeds" / "data" / "ad"
DOMAINS = """
identity:
  domains:
    - {name: corp.plant.example, side: enterprise, netbios: CORP, sid: S-1-5-21-1111111111-2222222222-3333333333}
    - {name: ot.plant.example, side: ot, netbios: PLANTOT, sid: S-1-5-21-4444444444-5555555555-6666666666}
"""


def site_with(tmp_path: Path, exports: list[tuple[str, str]], domains: str = DOMAINS) -> Path:
    folder = write_files(tmp_path / "site", MINIMAL)
    (folder / "ad").mkdir()
    lines = [domains.strip("\n"), "  trust_exports:"]
    for name, taken_on in exports:
        source = DATA / name if (DATA / name).exists() else Path(name)
        shutil.copy(source, folder / "ad" / source.name)
        lines.append(f"    - {{file: ad/{source.name}, taken_on: {taken_on}}}")
    (folder / "identity.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def run(folder: Path, check: Callable[[CheckContext], Iterator[Finding]] = trust_exports) -> list[Finding]:
    return list(check(CheckContext(load_site(folder), AS_OF)))


def by_rule(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        out.setdefault(finding.rule_id, []).append(finding)
    return out


def test_ot_side_outbound_trust_is_critical_with_mitigations_beside(tmp_path: Path) -> None:
    found = by_rule(run(site_with(tmp_path, [("ot-dc-adtrust-int.json", "ot.plant.example")])))
    [bad] = found["PG-IDENTITY-001"]
    assert bad.severity.value == "critical"
    assert bad.message.startswith("OT (ot.plant.example) trusts corp.plant.example: corp accounts can log on to "
                                  "OT hosts.")
    assert "selective authentication: on" in bad.details["mitigations"]
    assert "do not make it pass" in bad.message
    assert str(bad.evidence[0]).endswith("ot-dc-adtrust-int.json:3")
    [disabled] = found["PG-IDENTITY-004"]
    assert disabled.severity.value == "low" and "oldvendor.example" in disabled.message


def test_ot_side_string_enums_and_bloodhound_bidirectional(tmp_path: Path) -> None:
    found = by_rule(run(site_with(tmp_path, [("ot-dc-adtrust-strings.json", "ot.plant.example"),
                                             ("ot-bloodhound-v6.json", "ot.plant.example")])))
    assert len(found["PG-IDENTITY-001"]) == 2
    assert any("both ways" in f.message for f in found["PG-IDENTITY-001"])


@pytest.mark.parametrize("export", ["corp-dc-adtrust.csv", "corp-dc-adtrust.txt", "corp-sharphound-v5.json"])
def test_enterprise_side_inbound_trust_fails_in_every_format(tmp_path: Path, export: str) -> None:
    [finding] = by_rule(run(site_with(tmp_path, [(export, "corp.plant.example")])))["PG-IDENTITY-001"]
    assert "taken on the enterprise side" in finding.message
    assert finding.subjects == ("corp.plant.example", "ot.plant.example")


def test_inbound_only_on_the_ot_side_passes_but_is_visible(tmp_path: Path) -> None:
    text = (DATA / "ot-dc-adtrust-int.json").read_text(encoding="utf-8").replace('"Direction":  2', '"Direction":  1')
    source = tmp_path / "ot-inbound.json"
    source.write_text(text, encoding="utf-8")
    found = by_rule(run(site_with(tmp_path, [(str(source), "ot.plant.example")])))
    assert "PG-IDENTITY-001" not in found
    [visible] = found["PG-IDENTITY-003"]
    assert visible.severity.value == "low" and "enterprise accounts cannot log on in OT" in visible.message


def test_enterprise_outbound_is_the_same_harmless_direction(tmp_path: Path) -> None:
    text = (DATA / "corp-dc-adtrust.csv").read_text(encoding="utf-8").replace('"Inbound"', '"Outbound"')
    source = tmp_path / "corp-outbound.csv"
    source.write_text(text, encoding="utf-8")
    found = by_rule(run(site_with(tmp_path, [(str(source), "corp.plant.example")])))
    assert set(found) == {"PG-IDENTITY-003"}


def test_intra_forest_relationship_fails(tmp_path: Path) -> None:
    domains = DOMAINS.replace("ot.plant.example, side: ot", "ot.corp.plant.example, side: ot")
    found = by_rule(run(site_with(tmp_path, [("ot-child-of-corp-v6.json", "ot.corp.plant.example")], domains)))
    [forest] = found["PG-IDENTITY-002"]
    assert forest.severity.value == "critical" and "intra-forest" in forest.message
    assert "PG-IDENTITY-001" in found, "a two-way parent-child trust also lets corp accounts in"


def test_treaty_level_shared_forest_and_missing_evidence(tmp_path: Path) -> None:
    domains = DOMAINS.replace("side: ot,", "side: ot, forest: corp.plant.example,").replace(
        "side: enterprise,", "side: enterprise, forest: corp.plant.example,")
    found = by_rule(run(site_with(tmp_path, [("corp-dc-adtrust.csv", "corp.plant.example")], domains),
                        treaty_domains))
    assert [f.rule_id for f in found["PG-IDENTITY-002"]] == ["PG-IDENTITY-002"]
    [missing] = found["PG-IDENTITY-006"]
    assert missing.subjects == ("ot.plant.example",)
    good = by_rule(run(site_with(tmp_path / "b", [("ot-bloodhound-v6.json", "ot.plant.example")]), treaty_domains))
    assert good == {}


def test_unclassified_partner_of_ot(tmp_path: Path) -> None:
    domains = DOMAINS.replace("    - {name: corp.plant.example", "    - {name: corp-other.example")
    found = by_rule(run(site_with(tmp_path, [("ot-dc-adtrust-int.json", "ot.plant.example")], domains)))
    [unknown] = found["PG-IDENTITY-005"]
    assert unknown.subjects == ("ot.plant.example", "corp.plant.example")
    assert "PG-IDENTITY-001" not in found


def test_real_bloodhound_fixture_judged_against_a_treaty(tmp_path: Path) -> None:
    fixture = shared_path("ot-data", "ad", "bloodhound_v6_ingest_domains.json")
    domains = """
identity:
  domains:
    - {name: testlab.local, side: ot}
    - {name: parent.child, side: enterprise}
    - {name: forest, side: enterprise}
    - {name: external, side: enterprise}
"""
    found = by_rule(run(site_with(tmp_path, [(str(fixture), "testlab.local")], domains)))
    assert sorted(f.subjects[1] for f in found["PG-IDENTITY-001"]) == ["forest", "parent.child"]
    assert [f.subjects[1] for f in found["PG-IDENTITY-002"]] == ["parent.child"]
    assert [f.subjects[1] for f in found["PG-IDENTITY-003"]] == ["external"]
    assert sorted(f.subjects[1] for f in found["PG-IDENTITY-005"]) == ["Realm", "SHORTCUT", "TREE.ROOT", "Unknown"]


def test_bad_export_is_an_input_error(tmp_path: Path) -> None:
    folder = site_with(tmp_path, [("bad-direction.txt", "ot.plant.example")])
    with pytest.raises(InputError) as info:
        run(folder)
    assert info.value.problems[0].location.line == 5


def test_export_on_unknown_domain_is_rejected_by_the_loader(tmp_path: Path) -> None:
    folder = site_with(tmp_path, [("corp-dc-adtrust.csv", "nowhere.example")])
    with pytest.raises(InputError, match="unknown domain 'nowhere.example'"):
        load_site(folder)


def test_example_site_carries_the_bad_trust_on_both_sides() -> None:
    found = by_rule(run(EXAMPLE) + run(EXAMPLE, treaty_domains))
    assert set(found) == {"PG-IDENTITY-001"}
    formats = sorted(f.details["taken_on"] for f in found["PG-IDENTITY-001"])
    assert formats == ["corp.bayport.example", "ot.bayport.example"]


@pytest.mark.parametrize("name", ["ot-dc-adtrust-int.json", "corp-dc-adtrust.csv", "corp-dc-adtrust.txt"])
def test_exports_saved_by_windows_powershell_as_utf16_read_the_same(tmp_path: Path, name: str) -> None:
    """`ConvertTo-Json > file` and Out-File in Windows PowerShell 5.1 write UTF-16LE with a BOM and CRLF."""
    taken_on = "ot.plant.example" if name.startswith("ot") else "corp.plant.example"
    plain = run(site_with(tmp_path / "utf8", [(name, taken_on)]))
    windows = tmp_path / "windows" / name
    windows.parent.mkdir(parents=True)
    text = (DATA / name).read_text(encoding="utf-8").replace("\r\n", "\n").replace("\n", "\r\n")
    windows.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    found = run(site_with(tmp_path / "utf16", [(str(windows), taken_on)]))
    assert plain and [(f.rule_id, f.subjects, f.message) for f in found] == \
        [(f.rule_id, f.subjects, f.message) for f in plain]


def test_rc4_without_aes_is_a_low_finding_in_every_output_format(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from plantgate.cli import main

    folder = site_with(tmp_path, [("ot-dc-adtrust-strings.json", "ot.plant.example")])
    [rc4] = by_rule(run(folder))["PG-IDENTITY-007"]
    assert rc4.severity.value == "low" and rc4.subjects == ("ot.plant.example", "corp.plant.example")
    assert "uses RC4 encryption and the export does not show AES keys enabled" in rc4.message
    for output_format in ("text", "json", "sarif", "cef"):
        result = CliRunner().invoke(main, ["check", str(folder), "--format", output_format, "--as-of", str(AS_OF)])
        assert result.exit_code == 1 and "PG-IDENTITY-007" in result.output, output_format
    aes = site_with(tmp_path / "aes", [("ot-dc-adtrust-int.json", "ot.plant.example")])  # UsesAESKeys true
    assert "PG-IDENTITY-007" not in by_rule(run(aes))
