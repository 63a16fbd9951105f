"""Outage plans on the real Experion PKS advisory (ICSA-24-116-04, 16 CVEs): one asset per patch, --fail-on."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from plantgate.checks.context import CheckContext
from plantgate.cli import main
from plantgate.decisions.assess import assess
from plantgate.decisions.workpackage import build_plan
from plantgate.load import load_site
from tests.conftest import SHARED, shared_path
from tests.sites import AS_OF, MINIMAL, edit, write_files


def _site(tmp_path: Path, in_package: bool = True) -> Path:
    csaf = shared_path("ot-data", "csaf", "icsa-24-116-04.json")
    vulnrichment = shared_path("ot-data", "vulnrichment")
    patches = "[EPKS-R510.2-HF14]" if in_package else "[]"
    return write_files(tmp_path / "site", {**MINIMAL, "zones.yaml": MINIMAL["zones.yaml"] + """
          - {id: sup, name: Supervisory, level: 2, kind: control, networks: [10.20.0.0/24]}
        """, "assets.yaml": """
        assets:
          - {id: sup-epks1, name: Experion server, zone: sup, role: dcs_server, addresses: [10.20.0.10],
             vendor: Honeywell, product: Experion PKS, version: R510.2_HF13}
        """, "vulns.yaml": f"""
        vulnerabilities:
          feeds: {{csaf: ["{csaf}"], vulnrichment: ["{vulnrichment}"]}}
          matches:
            - {{asset: sup-epks1, advisory: ICSA-24-116-04, product_id: CSAFPID-0001, decided_by: ot,
               decided_on: 2026-11-20}}
        """, "patch.yaml": f"""
        patch_policy:
          qualified:
            - {{vendor: Honeywell, product: Experion PKS, patch_id: EPKS-R510.2-HF14, fixes: [ICSA-24-116-04],
               staged_in_dmz: true}}
          outages:
            - id: OUT-1
              name: Spring outage
              start: 2027-03-14
              end: 2027-03-18
              work_package: {{patches: {patches}, backups_before: [sup-epks1]}}
        """})


def test_each_asset_appears_once_per_patch(tmp_path: Path) -> None:
    site = _site(tmp_path)
    ctx = CheckContext(load_site(site, allow_outside=[SHARED]), AS_OF)
    decisions = assess(ctx)[1]
    assert len(decisions) == 16 and {d.priority.value for d in decisions} == {"scheduled"}
    plan = build_plan(ctx.treaty, "OUT-1", decisions, AS_OF)
    assert plan.patches == {"EPKS-R510.2-HF14": ["sup-epks1"]} and plan.ready
    other = load_site(_site(tmp_path / "b", in_package=False), allow_outside=[SHARED])
    missing = build_plan(other.treaty, "OUT-1", decisions, AS_OF)
    [problem] = missing.not_ready
    assert problem.startswith("EPKS-R510.2-HF14 is due for sup-epks1 (CVE-2023-5389, ") and "CVE-2023-5407)" in problem


def test_fail_on_gates_plan_and_decide(tmp_path: Path) -> None:
    site = _site(tmp_path, in_package=False)
    runner = CliRunner()
    args = ["--as-of", str(AS_OF), "--allow-outside", str(SHARED)]  # the feeds are read where they lie
    planned = runner.invoke(main, ["outage", "plan", str(site), "OUT-1", "--format", "json", *args])
    assert planned.exit_code == 1 and json.loads(planned.output)["state"] == "not_ready"
    assert runner.invoke(main, ["outage", "plan", str(site), "OUT-1", "--fail-on", "high", *args]).exit_code == 0
    ready = _site(tmp_path / "ready")
    assert runner.invoke(main, ["outage", "plan", str(ready), "OUT-1", *args]).exit_code == 0
    decided = runner.invoke(main, ["vuln", "decide", str(ready), *args])
    assert decided.exit_code == 0, decided.output  # scheduled, with a qualified patch: nothing to do now
    edit(ready / "patch.yaml", "fixes: [ICSA-24-116-04]", "fixes: [ICSA-99-999-99]")  # awaiting qualification
    assert runner.invoke(main, ["vuln", "decide", str(ready), *args]).exit_code == 1  # PG-VULN-005, medium
    assert runner.invoke(main, ["vuln", "decide", str(ready), "--fail-on", "high", *args]).exit_code == 0
    over = runner.invoke(main, ["outage", "plan", str(ready), "OUT-1", "--as-of", "2027-04-01",
                                "--allow-outside", str(SHARED)])
    assert over.exit_code == 0 and "OVER" in over.output  # nothing was accepted until it
