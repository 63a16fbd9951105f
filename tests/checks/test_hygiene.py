"""Rule hygiene findings in ``check``: one finding per firewall and lint kind, naming every rule once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plantgate.checks import run_checks
from plantgate.load import load_site
from tests.sites import EXAMPLE, MINIMAL, run_check, write_files


def test_lint_findings_on_the_example_are_grouped_per_firewall_and_kind() -> None:
    findings = [f for f in run_checks(load_site(EXAMPLE), dt.date(2026, 11, 26)) if f.rule_id.startswith("PG-LINT")]
    keys = [(f.rule_id, f.subjects) for f in findings]
    assert len(keys) == len(set(keys)), "one finding per firewall and kind"
    broad = next(f for f in findings if f.rule_id == "PG-LINT-005" and f.subjects == ("fw-it-dmz",))
    assert "CORP_IN#2" in broad.message and str(broad.evidence[0]).endswith("fw-it-dmz.asa:52")
    assert [d["subject"] for d in broad.details["rules"]] == ["CORP_IN#2"]
    unused = next(f for f in findings if f.rule_id == "PG-LINT-008")
    assert unused.subjects == ("fw-ape1808",) and "vendor-bastion" in unused.message
    dmz_ot = next(f for f in findings if f.rule_id == "PG-LINT-005" and f.subjects == ("fw-dmz-ot",))
    assert dmz_ot.message.startswith("fw-dmz-ot: 3 overly broad permits: ")
    assert len(dmz_ot.details["rules"]) == 3
    assert not any(f.rule_id == "PG-LINT-002" for f in findings), "explicit final denies are not redundant"


FIREWALL = """
    firewalls:
      - {id: fw1, vendor: iptables, config: fw1.iptables, zones: {eth0: corp, eth1: dmz}}
    """


def _site(tmp_path: Path, rules: str) -> Path:
    files = dict(MINIMAL)
    files["firewalls.yaml"] = FIREWALL
    files["fw1.iptables"] = "*filter\n:FORWARD DROP [0:0]\n" + rules + "COMMIT\n"
    return write_files(tmp_path, files)


def test_registered_rule_covered_by_a_broad_rule_blames_the_broad_rule(tmp_path: Path) -> None:
    from plantgate.checks.hygiene import rule_hygiene

    files = {"conduits.yaml": """
        conduits:
          - {id: c-web, from_zone: corp, to_zone: dmz, services: [{protocol: tcp, ports: [443]}],
             destinations: [172.16.0.10/32], business_reason: reports, ot_approver: ot}
        """}
    folder = _site(tmp_path, "-A FORWARD -i eth0 -o eth1 -p tcp -j ACCEPT\n"
                             "-A FORWARD -i eth0 -o eth1 -d 172.16.0.10/32 -p tcp --dport 443 -j ACCEPT\n")
    write_files(folder, files)
    findings = [f for f in run_check(folder, rule_hygiene) if f.rule_id == "PG-LINT-002"]
    assert len(findings) == 1
    message = findings[0].message
    assert message.startswith("fw1: 1 redundant rule: FORWARD#1 (line 3) is broader than the register")
    assert "covers rule FORWARD#2 (line 4), which implements c-web" in message and "keep FORWARD#2" in message
    assert [e.line for e in findings[0].evidence] == [3, 4], "the broad rule first, then the registered one"


def test_duplicate_rules_report_one_of_the_two(tmp_path: Path) -> None:
    from plantgate.checks.hygiene import rule_hygiene

    rule = "-A FORWARD -i eth0 -o eth1 -d 172.16.0.10/32 -p tcp --dport 22 -j ACCEPT\n"
    folder = _site(tmp_path, rule + rule + "-A FORWARD -j DROP\n")
    findings = [f for f in run_check(folder, rule_hygiene) if f.rule_id == "PG-LINT-002"]
    assert len(findings) == 1
    assert [d["subject"] for d in findings[0].details["rules"]] == ["FORWARD#2"], \
        "removing FORWARD#1 as well would change the verdict; neither the final DROP is redundant"
