"""Change control keeps its word in ``check``: records claiming to have passed are re-judged by the change rules."""

from __future__ import annotations

from pathlib import Path

from plantgate.checks.changes import change_records
from tests.sites import copy_example, edit, run_check


def test_emergency_change_that_opens_recorded_as_implemented_is_critical(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    record = folder / "changes" / "CR-2026-103.yaml"
    assert not [f for f in run_check(folder, change_records) if f.rule_id == "PG-CHANGE-005"], \
        "a submitted emergency change is refused by change check, not yet a finding"
    edit(record, "state: submitted", "state: implemented\nimplemented_on: 2026-05-21")
    findings = run_check(folder, change_records)
    [emergency] = [f for f in findings if f.rule_id == "PG-CHANGE-005"]
    assert emergency.severity.value == "critical"
    assert emergency.subjects == ("CR-2026-103", "fw-dmz-ot")
    assert emergency.witness is not None and emergency.witness["dport"] == 8532
    assert "OT_TO_DMZ#2" in emergency.message and "may only close paths" in emergency.message
    assert any(str(e).endswith("fw-dmz-ot.CR-2026-103.iptables") for e in emergency.evidence)
    [unregistered] = [f for f in findings if f.rule_id == "PG-CHANGE-006"]
    assert unregistered.witness is not None and unregistered.witness["dport"] == 8532


def test_records_that_keep_the_rules_give_no_change_rule_finding(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    findings = run_check(folder, change_records)
    assert not [f for f in findings if f.rule_id in ("PG-CHANGE-005", "PG-CHANGE-006")], \
        "CR-2026-101 (verified) opens only what its conduit grants; CR-2026-102 only closes"
