"""Version ranges and advisory matching: vers: exactly, free text as the advisories mean it, scored suggestions.

The cases of issue 18 §1 are each tried on the real advisory they come from (../shared/ot-data/csaf).
"""

from __future__ import annotations

import pytest

from plantgate.decisions.matching import AdvisoryIndex, Suggestion, name_tokens
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
    ("<V33.017_V34.014_V35.013_V36.011", "V33.011", True),
    ("<V33.017_V34.014_V35.013_V36.011", "V35.013", False),
    ("<V33.017_V34.014_V35.013_V36.011", "V35.012", True),
    ("<V33.017_V34.014_V35.013_V36.011", "V32.011", True),  # older than every line: the first fix is above
    ("<V33.017_V34.014_V35.013_V36.011", "V37.011", False),  # newer than every line
    ("<V33.017_V35.013", "V34.011", None),  # a line the list does not name
    ("< 15.1 HF001  (including former Unity Pro)", "V15.1 HF001", False),
    ("< 15.1 HF001  (including former Unity Pro)", "V15.1", True),
    ("< 2021 (including former HDCS)", "V2021", False),
    ("< 2021 (including former HDCS)", "V2020 SP1", True),
    (">=R16x|<=R162.10", "R141.1", False),
    (">=R16x|<=R162.10", "R160.1", True),
    (">=R16x|<=R162.10", "R162.11", False),
    ("Versions 8.1.1.3 and prior", "8.1.1.3", True),
    ("Versions 8.1.1.3 and prior", "8.1.1.4", False),
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
    assert version_equals("R15x", "R141.1").affected is False
    assert version_equals("R15x", "R15.1").affected is None  # R15.1 is not shaped like a member of R150-R159
    assert version_equals("R210.X", "R210.3").affected is True
    assert version_equals("R210.X", "R211.1").affected is False
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


@pytest.fixture(scope="module")
def real_index() -> AdvisoryIndex:
    return AdvisoryIndex(load_csaf(shared_path("ot-data", "csaf")))


def _hits(index: AdvisoryIndex, vendor: str, product: str, version: str, advisory: str) -> list[Suggestion]:
    return [s for s in index.suggest(_asset(vendor, product, version)) if s.advisory == advisory]


def test_trailing_parenthetical_is_a_remark(real_index: AdvisoryIndex) -> None:
    """ICSA-22-223-03: '< 15.1 HF001  (including former Unity Pro)', '< 2021 (including former HDCS)'."""
    schneider = "Schneider Electric Software, LLC"
    assert _hits(real_index, schneider, "EcoStruxure Control Expert", "V15.1 HF001", "ICSA-22-223-03") == []
    assert _hits(real_index, schneider, "EcoStruxure Process Expert", "V2021", "ICSA-22-223-03") == []
    [older] = _hits(real_index, schneider, "EcoStruxure Control Expert", "V15.0 SP1", "ICSA-22-223-03")
    assert older.version_affected is True and older.product_id == "CSAFPID-0001"


def test_release_lines_of_one_product_are_not_ored(real_index: AdvisoryIndex) -> None:
    """ICSA-24-116-04 gives Experion PKS one upper bound per release line."""
    assert _hits(real_index, "Honeywell", "Experion PKS", "R510.2_HF14", "ICSA-24-116-04") == []
    assert _hits(real_index, "Honeywell", "Experion PKS", "R520.1_TCU5", "ICSA-24-116-04") == []
    [hf13] = _hits(real_index, "Honeywell", "Experion PKS", "R510.2_HF13", "ICSA-24-116-04")
    assert (hf13.product_id, hf13.version_affected) == ("CSAFPID-0001", True)
    [tcu3] = _hits(real_index, "Honeywell", "Experion PKS", "R511.5_TCU3", "ICSA-24-116-04")
    assert (tcu3.product_id, tcu3.version_affected) == ("CSAFPID-0002", True)
    [old] = _hits(real_index, "Honeywell", "Experion PKS", "R501.6", "ICSA-24-116-04")  # below every line
    assert old.product_id == "CSAFPID-0001" and "older than every listed line" in old.reasons[1]
    assert len(hf13.cves) == 16


def test_family_bounds_compare_as_families(real_index: AdvisoryIndex) -> None:
    """ICSA-24-116-04: Safety Manager 'R15x' and '>=R16x|<=R162.10'; Safety Manager SC is another product."""
    assert _hits(real_index, "Honeywell", "Safety Manager", "R141.1", "ICSA-24-116-04") == []
    assert [s.product_id for s in _hits(real_index, "Honeywell", "Safety Manager", "R152.2", "ICSA-24-116-04")] \
        == ["CSAFPID-0011"]
    assert [s.product_id for s in _hits(real_index, "Honeywell", "Safety Manager", "R161.1", "ICSA-24-116-04")] \
        == ["CSAFPID-0012"]
    assert [s.product_id for s in _hits(real_index, "Honeywell", "Safety Manager SC", "R211.1", "ICSA-24-116-04")] \
        == ["CSAFPID-0014"]


def test_product_lines_are_matched_by_name_not_substring(real_index: AdvisoryIndex) -> None:
    """ICSA-17-045-03 lists SIMATIC WinCC (< V7.4 SP1) and SIMATIC WinCC Runtime Professional (< V14 SP1)."""
    assert _hits(real_index, "Siemens", "SIMATIC WinCC", "V7.4 SP1", "ICSA-17-045-03") == []
    [old] = _hits(real_index, "Siemens", "SIMATIC WinCC", "V7.3", "ICSA-17-045-03")
    assert old.product_id == "CSAFPID-0002"
    [runtime] = _hits(real_index, "Siemens", "SIMATIC WinCC Runtime Professional", "V13 SP2", "ICSA-17-045-03")
    assert runtime.product_id == "CSAFPID-0003"
    # ICSA-24-284-20 lists ControlLogix 5580 and ControlLogix 5580 Process: each asset gets its own line only
    assert {s.product_id for s in _hits(real_index, "Rockwell Automation", "ControlLogix 5580 Process", "V33.011",
                                        "ICSA-24-284-20")} == {"CSAFPID-0002"}
    # a parenthetical condition is not part of the product name (ICSA-23-297-01)
    [stratix] = _hits(real_index, "Rockwell Automation", "Stratix 5800", "17.12.1", "ICSA-23-297-01")
    assert stratix.confidence == 1.0


def test_rockwell_fixed_versions_per_line(real_index: AdvisoryIndex) -> None:
    """ICSA-24-284-20: '<V33.017_V34.014_V35.013_V36.011'."""
    assert _hits(real_index, "Rockwell Automation", "ControlLogix 5580", "V35.013", "ICSA-24-284-20") == []
    [affected] = _hits(real_index, "Rockwell Automation", "ControlLogix 5580", "V33.011", "ICSA-24-284-20")
    assert affected.version_affected is True and affected.cves == ("CVE-2024-6207",)
    assert "V33.017" in affected.reasons[1]


def test_no_fixed_version_of_any_real_advisory_is_suggested(real_index: AdvisoryIndex) -> None:
    """Every upper bound the 26 real advisories give, as the asset's version, is never suggested for that line."""
    from plantgate.decisions.release_lines import fixed_versions_per_line
    from plantgate.decisions.versions import single_upper_bound

    tried = 0
    for advisory in real_index.advisories.values():
        for product in advisory.products.values():
            range_text = product.version_range.strip()
            fixes = fixed_versions_per_line(range_text.lstrip("<")) if range_text.startswith("<V") else []
            bound = single_upper_bound(range_text) if range_text else None
            if bound is not None and bound[0] == "<":
                fixes.append(bound[1])
            for fixed in fixes:
                tried += 1
                asset = _asset(product.vendor, product.product_name, fixed)
                wrong = [s for s in real_index.suggest(asset) if s.advisory == advisory.tracking_id
                         and s.product_id == product.product_id]
                assert wrong == [], (advisory.tracking_id, product.product_id, fixed, wrong)
    assert tried >= 50
