"""AD trust exports: every supported form of Get-ADTrust and BloodHound reads to the same trust facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.feeds.ad_trusts import TrustDirection, detect_format, load_trust_export, parse_direction
from tests.conftest import shared_path

DATA = Path(__file__).parent / "data" / "ad"


def test_real_bloodhound_v6_fixture() -> None:
    path = shared_path("ot-data", "ad", "bloodhound_v6_ingest_domains.json")
    records = load_trust_export(path)
    assert [(r.target, r.direction.label, r.trust_type) for r in records] == [
        ("PARENT.CHILD", "BiDirectional", "ParentChild"), ("TREE.ROOT", "BiDirectional", "TreeRoot"),
        ("SHORTCUT", "Outbound", "Shortcut"), ("FOREST", "Outbound", "Forest"),
        ("External", "Inbound", "External"), ("Realm", "BiDirectional", "Realm"),
        ("Unknown", "Outbound", "Unknown")]
    assert {r.source for r in records} == {"testlab.local"}
    assert [r.intra_forest for r in records] == [True, True, True, False, False, False, False]
    assert records[0].target_sid == "S-1-5-21-3084884204-958224920-2707782875"
    assert records[0].sid_filtering is False and records[0].tgt_delegation is True
    assert records[-1].sid_filtering is True and records[-1].tgt_delegation is False
    lines = [r.line for r in records]
    assert lines == sorted(lines) and len(set(lines)) == 7
    text = path.read_text(encoding="utf-8").splitlines()
    assert all('"TargetDomainName"' in text[line - 1] for line in lines)


def test_get_adtrust_json_with_integer_enums() -> None:
    first, disabled = load_trust_export(DATA / "ot-dc-adtrust-int.json", "ot.plant.example")
    assert first.export_format == "get-adtrust-json"
    assert (first.source, first.target, first.direction) == ("ot.plant.example", "corp.plant.example",
                                                             TrustDirection.OUTBOUND)
    assert first.trust_type == "Uplevel" and first.line == 3
    assert first.selective_authentication is True and first.sid_filtering is True
    assert first.tgt_delegation is False and first.uses_rc4 is False and first.transitive is True
    assert not first.intra_forest
    assert disabled.direction is TrustDirection.DISABLED and disabled.trust_type == "Downlevel"
    assert disabled.transitive is False, "DisallowTransivity (Microsoft's spelling) is read"
    assert disabled.line == 26


def test_get_adtrust_json_with_string_enums_single_object() -> None:
    [record] = load_trust_export(DATA / "ot-dc-adtrust-strings.json")
    assert record.direction is TrustDirection.OUTBOUND and record.trust_type == "Uplevel"
    assert record.tgt_delegation is True and record.uses_rc4 is True
    assert record.sid_filtering is False, "SIDFilteringForestAware relaxes SID filtering on a forest trust"
    assert "TGT delegation across the trust: enabled" in record.mitigations()


def test_both_sides_of_one_trust_in_every_enterprise_side_format() -> None:
    csv_record, = load_trust_export(DATA / "corp-dc-adtrust.csv")
    list_records = load_trust_export(DATA / "corp-dc-adtrust.txt")
    hound, = load_trust_export(DATA / "corp-sharphound-v5.json")
    assert csv_record.export_format == "get-adtrust-csv" and csv_record.line == 3
    assert list_records[0].export_format == "get-adtrust-list" and list_records[0].line == 3
    assert hound.export_format == "bloodhound"
    for record in (csv_record, list_records[0], hound):
        assert record.source == "corp.plant.example"
        assert record.target.lower() == "ot.plant.example"
        assert record.direction is TrustDirection.INBOUND
        assert record.direction.own_accounts_go_out and not record.direction.partner_accounts_come_in
    assert hound.trust_type == "Forest", "legacy integer TrustType 2 is Forest"
    assert list_records[0].raw["DistinguishedName"].endswith("DC=plant,DC=example"), "wrapped value joined"
    assert list_records[1].direction is TrustDirection.OUTBOUND and list_records[1].transitive is False
    assert list_records[1].line == 23


def test_ot_side_bloodhound_and_intra_forest() -> None:
    record, = load_trust_export(DATA / "ot-bloodhound-v6.json")
    assert record.source == "ot.plant.example" and record.direction is TrustDirection.BIDIRECTIONAL
    child, = load_trust_export(DATA / "ot-child-of-corp-v6.json")
    assert child.intra_forest and child.trust_type == "ParentChild"


@pytest.mark.parametrize("value", ["BiDirectional", "Bidirectional", "BIDIRECTIONAL", "bidirectional", 3, "3"])
def test_direction_names_without_regard_to_case(value: object) -> None:
    assert parse_direction(value, "f", 1) is TrustDirection.BIDIRECTIONAL


def test_bad_direction_is_an_input_error_at_its_line() -> None:
    with pytest.raises(InputError) as info:
        load_trust_export(DATA / "bad-direction.txt")
    problem = info.value.problems[0]
    assert problem.location.line == 5 and "Sideways" in problem.message


def test_malformed_inputs_name_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[\n  {"Direction": 2,\n   "Target": }\n]\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_trust_export(broken)
    assert info.value.problems[0].location.line == 3
    wrong = tmp_path / "users.json"
    wrong.write_text('{"meta": {"type": "users", "version": 6}, "data": []}', encoding="utf-8")
    with pytest.raises(InputError, match="type 'domains'"):
        load_trust_export(wrong)
    old = tmp_path / "old.json"
    old.write_text('{"meta": {"type": "domains", "version": 2}, "data": []}', encoding="utf-8")
    with pytest.raises(InputError, match="version"):
        load_trust_export(old)
    no_direction = tmp_path / "nodir.csv"
    no_direction.write_text('"Name","Target"\n"a","a"\n', encoding="utf-8")
    with pytest.raises(InputError, match="Direction column"):
        load_trust_export(no_direction, export_format="get-adtrust-csv")
    missing = tmp_path / "missing.txt"
    missing.write_text("Name : corp.example\nTarget : corp.example\n", encoding="utf-8")
    with pytest.raises(InputError, match="no Direction") as info:
        load_trust_export(missing)
    assert info.value.problems[0].location.line == 1
    junk = tmp_path / "junk.txt"
    junk.write_text("Direction : Inbound\nthis is not a property line\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_trust_export(junk)
    assert info.value.problems[0].location.line == 2
    bad_type = tmp_path / "badtype.json"
    bad_type.write_text('{"meta": {"type": "domains", "version": 6}, "data": [{"Properties": {"name": "A"}, '
                        '"Trusts": [{"TargetDomainName": "B", "TrustDirection": 1, "TrustType": 9}]}]}')
    with pytest.raises(InputError, match="trust type"):
        load_trust_export(bad_type)
    with pytest.raises(InputError, match="unknown trust export format"):
        load_trust_export(junk, export_format="ldif")


def test_detect_format() -> None:
    assert detect_format('#TYPE Microsoft.ActiveDirectory.Management.ADTrust\n"Direction"') == "get-adtrust-csv"
    assert detect_format('"Direction","Name"\n') == "get-adtrust-csv"
    assert detect_format("Direction : Inbound\n") == "get-adtrust-list"
    assert detect_format('{"meta": {}, "data": []}') == "bloodhound"
    assert detect_format('[{"Direction": 1}]') == "get-adtrust-json"
