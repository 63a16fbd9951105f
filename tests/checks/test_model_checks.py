"""Each model-only check fires on the mistake it names, and stays quiet on a correct treaty."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plantgate.checks import Finding, run_checks
from plantgate.load import load_site
from tests.sites import MINIMAL, copy_example, edit, line_of, write_files

AS_OF = dt.date(2026, 11, 26)


def rule_ids(folder: Path) -> list[str]:
    return [f.rule_id for f in run_checks(load_site(folder), AS_OF)]


def findings(folder: Path, rule_id: str) -> list[Finding]:
    return [f for f in run_checks(load_site(folder), AS_OF) if f.rule_id == rule_id]


def test_example_carries_exactly_the_documented_model_problems() -> None:
    from tests.sites import EXAMPLE
    ids = sorted(rule_ids(EXAMPLE))
    for expected in ["PG-SAFETY-001", "PG-CHARTER-001", "PG-CHARTER-003", "PG-ZONE-002", "PG-PURDUE-001",
                     "PG-REGISTER-002", "PG-PATCH-001"]:
        assert expected in ids


def test_safety_conduit_without_approver(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    [finding] = findings(site, "PG-SAFETY-001")
    assert finding.subjects == ("C-14-ews-sis", "sis")
    assert finding.severity.value == "critical"
    line = line_of(site / "conduits.yaml", "- id: C-14-ews-sis")
    assert str(finding.evidence[0]).endswith(f"conduits.yaml:{line}:5")
    edit(site / "conduits.yaml", "    owner: d.chen\n    change_record: CR-2022-040",
         "    owner: d.chen\n    ot_approver: d.chen\n    change_record: CR-2022-040")
    assert findings(site, "PG-SAFETY-001") == []


def test_conduit_into_ot_without_approver_and_wrong_role(tmp_path: Path) -> None:
    folder = write_files(tmp_path, {**MINIMAL, "conduits.yaml": MINIMAL["conduits.yaml"].replace(
        "ot_approver: ot", "ot_approver: boss")})
    [finding] = findings(folder, "PG-REGISTER-003")
    assert "not ot_approver" in finding.message
    folder2 = write_files(tmp_path / "b", {**MINIMAL, "conduits.yaml": MINIMAL["conduits.yaml"].replace(
        "ot_approver: ot", "owner: ot")})
    assert [f.subjects for f in findings(folder2, "PG-REGISTER-001")] == [("c1",)]


def test_charter_undecided_contradicting_and_identity_converge(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    assert [f.discriminator for f in findings(site, "PG-CHARTER-001")] == ["endpoint_management"]
    edit(site / "charter.yaml", "identity: {decision: patterns_only", "identity: {decision: converge")
    edit(site / "charter.yaml", "endpoint_management: {decision: undecided",
         "endpoint_management: {decision: carefully")
    assert findings(site, "PG-CHARTER-001") == []
    [finding] = findings(site, "PG-CHARTER-002")
    assert finding.severity.value == "critical" and "ransomware conduit" in finding.message


def test_identity_converge_names_shared_domain(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "charter.yaml", "identity: {decision: patterns_only", "identity: {decision: converge")
    (site / "identity.yaml").write_text(
        "identity:\n  domains:\n    - {name: corp.bayport.example, side: enterprise}\n"
        "    - {name: corp.bayport.example, side: ot}\n", encoding="utf-8")
    [finding] = findings(site, "PG-CHARTER-002")
    assert "Domains on both sides: corp.bayport.example." in finding.message


def test_charter_signatures(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    [finding] = findings(site, "PG-CHARTER-003")
    assert "(r7)" in finding.message
    edit(site / "charter.yaml", "date: 2025-02-10, revision: r6", "date: 2026-11-01, revision: r7")
    assert findings(site, "PG-CHARTER-003") == []
    edit(site / "charter.yaml", "{person: s.patel,", "{person: k.nguyen,")
    assert "No one with the plant leadership role" in findings(site, "PG-CHARTER-003")[0].message


def test_no_charter_at_all(tmp_path: Path) -> None:
    folder = write_files(tmp_path, MINIMAL)
    assert "no charter" in findings(folder, "PG-CHARTER-003")[0].message
    assert len(findings(folder, "PG-CHARTER-001")) == 7


def test_escalation_path_must_name_a_person_who_decides(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    assert findings(site, "PG-ESCALATION-001") == []
    text = (site / "firewalls.yaml").read_text(encoding="utf-8")
    for person in ("control-room", "d.chen", "m.okafor", "s.patel"):
        text = text.replace(f"person: {person}, ", "")
    (site / "firewalls.yaml").write_text(text, encoding="utf-8")
    assert "names no person" in findings(site, "PG-ESCALATION-001")[0].message
    assert "no escalation path" in findings(write_files(tmp_path / "m", MINIMAL), "PG-ESCALATION-001")[0].message


def test_asset_outside_zone_and_overlapping_zones(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    [outside] = findings(site, "PG-ZONE-002")
    assert outside.subjects == ("sup-hmi2", "sup") and "10.20.1.22" in outside.message
    assert findings(site, "PG-ZONE-001") == []
    edit(site / "zones.yaml", "networks: [10.1.0.0/24]", "networks: [10.1.0.0/24, 10.30.0.128/25]")
    [overlap] = findings(site, "PG-ZONE-001")
    assert overlap.subjects == ("ops", "ctl") and "10.30.0.128/25" in overlap.message


def test_purdue_bypass_conduit(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    assert [f.subjects[0] for f in findings(site, "PG-PURDUE-001")] == ["C-15-vendor-dashboard"]
    edit(site / "conduits.yaml", "    from_zone: enterprise\n    to_zone: sup", "    from_zone: enterprise\n"
         "    to_zone: idmz")
    edit(site / "conduits.yaml", "destinations: [sup-dcs1]", "destinations: [hist-replica]")
    assert findings(site, "PG-PURDUE-001") == []


def test_review_date_in_the_past_depends_on_as_of(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    [overdue] = findings(site, "PG-REGISTER-002")
    assert overdue.subjects == ("C-06-remote-jump",) and "514 days ago" in overdue.message
    early = [f for f in run_checks(load_site(site), dt.date(2025, 1, 1)) if f.rule_id == "PG-REGISTER-002"]
    assert early == []


def test_outage_without_work_package(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    assert [f.subjects for f in findings(site, "PG-PATCH-001")] == [("OUT-2027-10",)]
    after = [f for f in run_checks(load_site(site), dt.date(2027, 11, 1)) if f.rule_id == "PG-PATCH-001"]
    assert after == [], "a past outage is no longer a preparation finding"


def test_fingerprints_stable_across_line_moves(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    before = {f.rule_id: f.fingerprint for f in run_checks(load_site(site), AS_OF)}
    text = (site / "conduits.yaml").read_text(encoding="utf-8")
    (site / "conduits.yaml").write_text("# moved\n# down\n" + text, encoding="utf-8")
    after_findings = run_checks(load_site(site), AS_OF)
    assert {f.rule_id: f.fingerprint for f in after_findings} == before
    safety = next(f for f in after_findings if f.rule_id == "PG-SAFETY-001")
    line = line_of(site / "conduits.yaml", "- id: C-14-ews-sis")
    assert str(safety.evidence[0]).endswith(f"conduits.yaml:{line}:5")
