"""SARIF 2.1.0: valid against the official schema, in GitHub's upload shape, golden on the example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from plantgate.checks import RULES
from plantgate.outputs.formats import CheckReport
from plantgate.outputs.json_report import relative_location
from plantgate.outputs.sarif import ROOT_ID, Suppression, render, rule_name, sarif_log
from tests.outputs.conftest import compare_golden

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def validate(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_schema_is_the_official_one() -> None:
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SCHEMA["id"].endswith("/sarif-schema-2.1.0.json")


def test_example_validates_against_the_sarif_schema(example_report: CheckReport) -> None:
    validate(json.loads(render(example_report)))


def test_schema_rejects_a_broken_log(example_report: CheckReport) -> None:
    log = sarif_log(example_report)
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validate(log)


def test_github_upload_shape(example_report: CheckReport) -> None:
    log = sarif_log(example_report)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(RULES), "every registered rule is listed, found or not"
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["help"]["text"]
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
    assert run["results"], "the example has findings"
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        assert 1 <= len(result["locations"]) <= 10
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == ROOT_ID
        assert not physical["artifactLocation"]["uri"].startswith("/")
        assert physical["region"]["startLine"] >= 1
        assert len(result["partialFingerprints"]["plantgateFingerprint/v1"]) == 16


def test_results_point_at_the_evidence_lines(example_report: CheckReport) -> None:
    results = sarif_log(example_report)["runs"][0]["results"]
    for finding, result in zip(example_report.findings, results, strict=True):
        first = finding.evidence[0]
        physical = result["locations"][0]["physicalLocation"]
        assert relative_location(first, example_report.base).startswith(physical["artifactLocation"]["uri"] + ":")
        assert physical["region"]["startLine"] == first.line
        assert result["partialFingerprints"]["plantgateFingerprint/v1"] == finding.fingerprint
    safety = next(r for r in results if r["ruleId"] == "PG-SAFETY-001")
    assert safety["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "conduits.yaml"
    assert safety["level"] == "error" and safety["properties"]["security-severity"] == "9.5"


def test_accepted_findings_become_suppressions(example_report: CheckReport) -> None:
    accepted = example_report.findings[0]
    log = sarif_log(example_report, {accepted.fingerprint: Suppression("Accepted by S. Patel until OUT-2027-03")})
    validate(log)
    results = log["runs"][0]["results"]
    assert results[0]["suppressions"] == [{"kind": "external", "status": "accepted",
                                           "justification": "Accepted by S. Patel until OUT-2027-03"}]
    assert all("suppressions" not in r for r in results[1:])


def test_rule_names_are_identifiers() -> None:
    from plantgate.checks.finding import Severity
    from plantgate.checks.registry import Rule

    rule = Rule("PG-X-001", "Rule broader than the conduit it implements", Severity.HIGH, (), "")
    assert rule_name(rule) == "RuleBroaderThanTheConduitItImplements"
    titled = Rule("PG-X-002", "Unregistered exposure: the firewall permits flows", Severity.HIGH, (), "")
    assert rule_name(titled) == "UnregisteredExposure"


def test_golden(example_report: CheckReport) -> None:
    log = sarif_log(example_report)
    log["runs"][0]["originalUriBaseIds"][ROOT_ID]["uri"] = "file:///TREATY/"
    text = json.dumps(log, indent=2, sort_keys=True).replace(str(example_report.base.resolve()), "TREATY")
    compare_golden("example.sarif.json", text + "\n")


def test_run_properties_carry_coverage(example_report: CheckReport) -> None:
    properties = sarif_log(example_report)["runs"][0]["properties"]
    assert properties["allModelled"] is False, "fw-it-dmz's management interface is not mapped"
    coverage = {c["firewall"]: c for c in properties["coverage"]}
    assert coverage["fw-it-dmz"]["modelled"] == "in part"
    assert coverage["fw-it-dmz"]["not_modelled"][0]["location"] == "firewalls.yaml:3:5"
    assert coverage["fw-ops-ot"]["modelled"] == "fully"
