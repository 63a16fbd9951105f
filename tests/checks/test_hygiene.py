"""Rule hygiene findings in ``check``: one rule id per lint kind, each rule reported once."""

from __future__ import annotations

import datetime as dt

from plantgate.checks import run_checks
from plantgate.load import load_site
from tests.sites import EXAMPLE


def test_lint_findings_on_the_example() -> None:
    findings = [f for f in run_checks(load_site(EXAMPLE), dt.date(2026, 11, 26)) if f.rule_id.startswith("PG-LINT")]
    by_subject = {(f.rule_id, f.subjects) for f in findings}
    assert ("PG-LINT-005", ("fw-it-dmz", "CORP_IN#2")) in by_subject
    assert ("PG-LINT-008", ("fw-ape1808", "vendor-bastion")) in by_subject
    broad = next(f for f in findings if f.subjects == ("fw-it-dmz", "CORP_IN#2"))
    assert str(broad.evidence[0]).endswith("fw-it-dmz.asa:52")
    assert len({f.fingerprint for f in findings}) == len(findings), "a rule copied into several filters counts once"
