"""Every KEV vulnerability the shipped feeds tie to a product is found on an asset at an affected version,
and none on the same product at a fixed version (CSAF, CVE records and the full KEV catalog together)."""

from __future__ import annotations

import pytest

from plantgate.decisions.assess import Feeds
from plantgate.decisions.suggestions import suggestions_for
from plantgate.feeds.csaf import load_csaf
from plantgate.feeds.kev import load_kev
from plantgate.feeds.vulnrichment import load_vulnrichment
from plantgate.model.assets import Asset
from tests.conftest import shared_path

# vendor, product, affected version, fixed version (None: the feeds name no fixed version), the KEV CVEs
CASES = [
    ("Palo Alto Networks", "PAN-OS", "10.2.8", "10.2.9-h1", {"CVE-2024-3400"}),
    ("Palo Alto Networks", "PA-850", "11.0.3", "11.0.4-h1", {"CVE-2024-3400"}),
    ("Fortinet", "FortiOS", "7.2.6", "7.2.7", {"CVE-2024-21762", "CVE-2024-23113"}),
    ("Siemens", "RUGGEDCOM APE1808", "V2.0", None, {"CVE-2024-3400", "CVE-2024-21762", "CVE-2024-23113"}),
    ("Rockwell Automation", "Stratix 5800", "17.9.4", None, {"CVE-2023-20198", "CVE-2023-20273"}),
    ("Unitronics", "VisiLogic", "9.8.65", "9.9.00", {"CVE-2023-6448"}),
    ("Exacq Technologies", "Exacq Enterprise Manager", "21.12", "21.12.1", {"CVE-2021-44228"}),
    ("Schneider Electric Software", "U.motion Builder", "1.2.1", "1.3.4", {"CVE-2017-7494"}),
    ("Siemens", "SINEC NMS", "V1.0.2", "V1.0.3", {"CVE-2021-40438"}),
    ("Hitachi Energy", "Lumada Asset Performance Manager", "6.1.0.1", "6.4.0.0", {"CVE-2022-22965"}),
]


@pytest.fixture(scope="module")
def feeds() -> Feeds:
    return Feeds(kev={"kev": load_kev(shared_path("ot-data", "kev", "known_exploited_vulnerabilities.json"))},
                 advisories=load_csaf(shared_path("ot-data", "csaf")),
                 enrichment=load_vulnrichment(shared_path("ot-data", "vulnrichment")))


def _kev_found(feeds: Feeds, vendor: str, product: str, version: str) -> set[str]:
    asset = Asset(id="a", name="a", zone="z", role="other", vendor=vendor, product=product, version=version)
    return {cve for suggestion in suggestions_for([asset], feeds) for cve in suggestion.kev}


@pytest.mark.parametrize(("vendor", "product", "affected", "fixed", "kev"), CASES)
def test_kev_holes_found_and_fixed_versions_quiet(feeds: Feeds, vendor: str, product: str, affected: str,
                                                  fixed: str | None, kev: set[str]) -> None:
    assert kev <= _kev_found(feeds, vendor, product, affected)
    if fixed is not None:
        assert not kev & _kev_found(feeds, vendor, product, fixed)
