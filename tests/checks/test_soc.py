"""SOC runbooks: one per alert kind, rule one calls the control room on a number, no HMI isolation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plantgate.checks import CheckContext, Finding
from plantgate.checks.soc import runbooks
from plantgate.load import load_site
from tests.sites import EXAMPLE, copy_example, edit

AS_OF = dt.date(2026, 11, 26)


def run(folder: Path) -> list[Finding]:
    return list(runbooks(CheckContext(load_site(folder), AS_OF)))


def test_example_runbooks_pass() -> None:
    assert run(EXAMPLE) == []


def test_missing_runbook_and_wrong_rule_one(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "patch.yaml", "alert_kinds: [ot-malware,", "alert_kinds: [ot-ransomware, ot-malware,")
    edit(site / "patch.yaml", "    - alert_kind: ot-lateral-movement\n      steps:\n"
         '        - {action: call_control_room, detail: "Call the control room at +1 281 555 0199 before touching '
         'anything"}\n', "    - alert_kind: ot-lateral-movement\n      steps:\n")
    found = sorted((f.rule_id, f.subjects[0]) for f in run(site))
    assert found == [("PG-SOC-001", "ot-ransomware"), ("PG-SOC-002", "ot-lateral-movement")]


def test_call_without_any_number(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "patch.yaml", '  control_room: {name: Unit 2 control room, phone: "+1 281 555 0199"}\n', "")
    text = (site / "patch.yaml").read_text(encoding="utf-8")
    (site / "patch.yaml").write_text(text.replace("Call the control room at +1 281 555 0199 before", "Call the "
                                                  "control room before"), encoding="utf-8")
    assert {f.discriminator for f in run(site)} == {"number"}


def test_runbook_that_isolates_an_hmi(tmp_path: Path) -> None:
    site = copy_example(tmp_path)
    edit(site / "patch.yaml", "        - {action: notify, detail: Page the process control lead}",
         "        - {action: notify, detail: Page the process control lead}\n"
         "        - {action: isolate, detail: Network-isolate the infected host, target_roles: [hmi]}\n"
         "        - {action: quarantine, detail: Quarantine the file}")
    found = sorted((f.discriminator, f.severity.value) for f in run(site))
    assert found == [("3", "high"), ("4", "medium")]
