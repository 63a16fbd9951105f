"""Version ranges and advisory matching: vers: exactly, free text as scored suggestions."""

from __future__ import annotations

import pytest

from plantgate.decisions.matching import AdvisoryIndex, name_tokens
from plantgate.decisions.versions import version_equals, version_in_range
from plantgate.feeds.csaf import load_csaf
from plantgate.model.assets import Asset
from tests.conftest import shared_path


@pytest.mark.parametrize(("range_text", "version", "affected"), [
    ("vers:all/*", "1.0", True),
    ("vers:generic/>=1.0|<2.0", "1.5", True),
    ("vers:generic/>=1.0|<2.0", "2.0", False),
    ("<=(R4.10)", "R4.09", True),
    ("<=(R4.10)", "R4.11", False),
    ("All versions < V1.5 SP3 Update 2", "V1.5 SP3", True),
    ("All versions < V1.5 SP3 Update 2", "V1.5 SP3 Update 2", False),
    ("All versions < V1.5 SP3 Update 2", "V1.6", False),
    (">=R3.08.10|<=R3.09.50", "R3.09.01", True),
    (">=R3.08.10|<=R3.09.50", "R3.10.00", False),
    ("<R510.2_HF14", "R510.2_HF13", True),
    ("<R510.2_HF14", "R510.2_HF14", False),
    ("<V33.017_V34.014_V35.013_V36.011", "V33.1", None),
])
def test_version_ranges(range_text: str, version: str, affected: bool | None) -> None:
    verdict = version_in_range(range_text, version)
    assert verdict.affected is affected, verdict.reason
    if range_text.startswith("vers:"):
        assert verdict.confidence == 1.0
    else:
        assert verdict.confidence < 1.0


def test_listed_versions_and_families() -> None:
    assert version_equals("CP401 | CP451", "CP451").affected is True
    assert version_equals("R211.1", "R211.2").affected is False
    assert version_equals("R15x", "R151.2").affected is True
    assert version_in_range("<= 1.2.1", "").affected is None


def test_names_ignore_corporate_suffixes() -> None:
    assert name_tokens("Siemens AG") == name_tokens("siemens")


def _asset(vendor: str, product: str, version: str) -> Asset:
    return Asset(id="a1", name="a", zone="z", role="other", vendor=vendor, product=product, version=version)


def test_suggestions_against_real_advisories() -> None:
    index = AdvisoryIndex(load_csaf(shared_path("ot-data", "csaf")))
    ape = index.suggest(_asset("Siemens AG", "RUGGEDCOM APE1808", "11.0.3"))
    assert ape[0].advisory == "ICSA-24-116-03" and ape[0].confidence == 1.0 and ape[0].cves == ("CVE-2024-3400",)
    assert any(s.advisory == "ICSA-24-074-05" and s.confidence < 0.6 for s in ape)  # "with Fortinet NGFW"
    experion = index.suggest(_asset("Honeywell", "Experion PKS", "R510.2"))
    assert experion and all(0 < s.confidence < 1 for s in experion)
    assert {s.product for s in experion} >= {"Honeywell Experion PKS: <R510.2_HF14"}
    assert index.suggest(_asset("Honeywell", "Experion PKS", "R530.1")) == []  # newer than every range
    assert index.suggest(_asset("Acme", "RUGGEDCOM APE1808", "1")) == []
