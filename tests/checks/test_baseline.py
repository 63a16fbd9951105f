"""The corporate baseline: validated like a treaty, and each violation a finding with witness and rule lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from plantgate.checks import CheckContext, run_checks
from plantgate.errors import InputError
from plantgate.load import load_site
from plantgate.load.baseline import load_baseline
from plantgate.netspace import Flow
from tests.sites import EXAMPLE, write_files

AS_OF = dt.date(2026, 11, 26)
RDP_RULE = """
baseline: {name: Corp, version: "7"}
rules:
  - id: BL-RDP
    title: No RDP from the DMZ into level 3 except to jump hosts
    from: {levels: [3.5]}
    to: {levels: [3]}
    services: [{protocol: tcp, ports: [3389]}]
%s
"""


def baseline_findings(tmp_path: Path, text: str) -> list[dict[str, object]]:
    file = write_files(tmp_path, {"baseline.yaml": text}) / "baseline.yaml"
    site = load_site(EXAMPLE)
    context = CheckContext(site, AS_OF, baseline=load_baseline(file))
    return [f.to_dict() for f in run_checks(site, AS_OF, context) if f.rule_id == "PG-BASELINE-001"]


def test_a_violation_names_the_witness_the_firewall_rule_and_the_baseline_rule_line(tmp_path: Path) -> None:
    [finding] = baseline_findings(tmp_path, RDP_RULE % "")
    assert finding["evidence"][0] == f"{tmp_path / 'baseline.yaml'}:3:5"
    assert any(str(e).endswith("firewalls/fw-dmz-ot.iptables:13") for e in finding["evidence"])  # type: ignore
    witness = finding["witness"]
    assert isinstance(witness, dict) and witness["dport"] == 3389 and witness["dst"] == "10.30.0.30"
    assert set(finding["subjects"]) == {"BL-RDP", "fw-dmz-ot", "idmz", "ops"}  # type: ignore[arg-type]
    site = load_site(EXAMPLE)  # the witness really is permitted by that firewall
    fw = next(f for f in CheckContext(site, AS_OF).firewalls if f.entry.id == "fw-dmz-ot")
    packet = Flow(witness["src"], witness["dst"], witness["proto"], witness["sport"], witness["dport"])
    assert fw.permitted("idmz", "ops").contains(packet)


def test_exempt_destinations_are_not_violations(tmp_path: Path) -> None:
    assert baseline_findings(tmp_path, RDP_RULE % "    except_to_networks: [10.30.0.30/32]") == []


def test_a_rule_no_firewall_breaks_finds_nothing(tmp_path: Path) -> None:
    text = RDP_RULE.replace("ports: [3389]", "ports: [5900]") % ""
    assert baseline_findings(tmp_path, text) == []


def test_a_bad_baseline_is_refused_whole_with_file_line_column(tmp_path: Path) -> None:
    file = write_files(tmp_path, {"b.yaml": """
        baseline: {name: x, version: "1"}
        rules:
          - id: A
            title: t
            from: {levels: [6]}
            to: {kinds: [enterprize]}
            servces: []
          - id: A
            title: twice
            from: {levels: [4]}
            to: {}
    """}) / "b.yaml"
    with pytest.raises(InputError) as caught:
        load_baseline(file)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert f"{file}:5:" in text and "not a Purdue level" in text
    assert f"{file}:6:" in text and "enterprize" in text
    assert f"{file}:7:5: unknown key 'servces'" in text and "from, to" in text
    assert "needs levels or kinds" in text


def test_the_example_baseline_is_valid_and_its_schema_is_printable() -> None:
    from plantgate.schema import baseline_schema

    example = Path(EXAMPLE).parent / "fleet" / "baseline.yaml"
    assert len(load_baseline(example).baseline.rules) == 2
    schema = baseline_schema()
    assert "from" in schema["$defs"]["BaselineRule"]["properties"]


def test_the_cli_validates_a_baseline_and_checks_a_site_against_it(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from plantgate.cli import main

    good = write_files(tmp_path, {"good.yaml": RDP_RULE % "", "bad.yaml": "baseline: {name: x}\nrules: []\n"})
    runner = CliRunner()
    assert runner.invoke(main, ["baseline", "validate", str(good / "good.yaml")]).exit_code == 0
    refused = runner.invoke(main, ["baseline", "validate", str(good / "bad.yaml")])
    assert refused.exit_code == 2 and "bad.yaml:1:" in refused.output
    checked = runner.invoke(main, ["check", str(EXAMPLE), "--baseline", str(good / "good.yaml"), "--as-of",
                                   AS_OF.isoformat(), "--format", "json"])
    assert checked.exit_code == 1 and "PG-BASELINE-001" in checked.output
