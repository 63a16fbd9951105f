"""CSAF reader: all 26 real advisories load; product tree, relationships, remediations, scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.feeds.csaf import load_csaf, parse_csaf
from tests.conftest import shared_path


def test_every_real_advisory_loads() -> None:
    advisories = load_csaf(shared_path("ot-data", "csaf"))
    assert len(advisories) == 26
    by_id = {a.tracking_id: a for a in advisories}
    ape = by_id["ICSA-24-116-03"]
    product = ape.products["CSAFPID-0001"]
    assert (product.vendor, product.product_name, product.version_range) == ("Siemens", "RUGGEDCOM APE1808",
                                                                             "vers:all/*")
    vuln = ape.vulnerabilities[0]
    assert vuln.cve == "CVE-2024-3400" and vuln.cvss_v3["CSAFPID-0001"] == 10.0
    assert {r.category for r in vuln.remediations} == {"mitigation", "vendor_fix"}
    categories = {r.category for a in advisories for v in a.vulnerabilities for r in v.remediations}
    assert {"vendor_fix", "mitigation", "no_fix_planned", "none_available"} <= categories
    ranges = {p.version_range for a in advisories for p in a.products.values()}
    assert "<=(R4.10)" in ranges


def _doc(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "document": {"csaf_version": "2.0", "title": "t", "publisher": {"name": "Vendor PSIRT"},
                     "tracking": {"id": "VND-2025-01"}},
        "product_tree": {
            "branches": [{"category": "vendor", "name": "Acme", "branches": [
                {"category": "product_name", "name": "Gateway", "branches": [
                    {"category": "product_version", "name": "2.1",
                     "product": {"name": "Acme Gateway 2.1", "product_id": "P1"}}]},
                {"category": "product_name", "name": "OS",
                 "product": {"name": "Acme OS", "product_id": "P2"}}]}],
            "relationships": [{"category": "installed_on", "product_reference": "P2",
                               "relates_to_product_reference": "P1",
                               "full_product_name": {"name": "Acme OS on Gateway 2.1", "product_id": "P3"}}]},
        "vulnerabilities": [{"cve": "CVE-2025-0001", "product_status": {"known_affected": ["P3"], "fixed": ["P1"]},
                             "remediations": [{"category": "workaround", "details": "w", "product_ids": ["P3"]}],
                             "scores": [{"products": ["P3"], "cvss_v3": {"baseScore": 7.5, "vectorString": "v"}}]}],
    }
    doc.update(overrides)
    return doc


def test_relationships_and_statuses() -> None:
    advisory = parse_csaf(json.dumps(_doc()), "a.json")
    rel = advisory.products["P3"]
    assert (rel.relationship, rel.component_id, rel.platform_id, rel.vendor, rel.version) == \
        ("installed_on", "P2", "P1", "Acme", "2.1")
    assert [v.cve for v in advisory.vulnerabilities_for("P3")] == ["CVE-2025-0001"]
    assert advisory.vulnerabilities_for("P1") == []  # fixed is not affected


def test_malformed_inputs_are_input_errors(tmp_path: Path) -> None:
    bad_category = _doc(vulnerabilities=[{"cve": "CVE-2025-0001", "product_status": {"known_affected": ["P1"]},
                                          "remediations": [{"category": "pray", "product_ids": ["P1"]}]}])
    with pytest.raises(InputError, match="unknown remediation category"):
        parse_csaf(json.dumps(bad_category, indent=1), "a.json")
    unknown_product = _doc(vulnerabilities=[{"cve": "CVE-2025-0001", "product_status": {"known_affected": ["P9"]}}])
    with pytest.raises(InputError, match="P9"):
        parse_csaf(json.dumps(unknown_product), "a.json")
    with pytest.raises(InputError, match="csaf_version"):
        parse_csaf(json.dumps(_doc(document={"csaf_version": "1.2", "tracking": {"id": "x"}})), "a.json")
    (tmp_path / "one.json").write_text(json.dumps(_doc()))
    (tmp_path / "two.json").write_text(json.dumps(_doc()))
    with pytest.raises(InputError, match="already read"):
        load_csaf(tmp_path)
    with pytest.raises(InputError) as info:
        parse_csaf('{"document": \n  [1, 2,]}', "b.json")
    assert info.value.problems[0].location.line == 2
