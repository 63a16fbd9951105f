"""The wrong parser never yields an empty firewall: declared vendor against content, and parsers that
understand nothing fail instead of returning an empty ruleset."""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.base import (
    VENDOR_MODULES,
    available_vendors,
    looks_like_other_vendor,
    parse_config,
    parser_for,
    read_config_text,
)
from plantgate.model.firewalls import VENDORS
from tests.conftest import shared_path

DATA = Path(__file__).parent / "data"
OWN = {
    "asa": DATA / "asa" / "plant_edge.cfg", "fortigate": DATA / "fortigate" / "zones.conf",
    "iptables": DATA / "iptables" / "ot_boundary.rules", "nftables": DATA / "nftables" / "ot_boundary.nft",
    "panos": DATA / "panos" / "plant.set", "srx": DATA / "srx" / "plant.conf",
}


def test_treaty_vendor_enum_lists_every_parser() -> None:
    assert set(VENDORS) == set(VENDOR_MODULES)


@pytest.mark.parametrize("written", sorted(OWN))
@pytest.mark.parametrize("declared", available_vendors())
def test_another_vendors_parser_fails_or_the_mismatch_is_named(written: str, declared: str) -> None:
    """Every pairing: the right parser reads rules, every wrong one refuses (never an empty ruleset)."""
    text = read_config_text(OWN[written])
    if declared == written:
        assert looks_like_other_vendor(text, declared) is None
        assert parser_for(declared).parse(text, str(OWN[written])).rule_count() > 0
        return
    assert looks_like_other_vendor(text, declared) == written, "the content detector names the real vendor"
    with pytest.raises(InputError):
        parser_for(declared).parse(text, str(OWN[written]))
    with pytest.raises(InputError) as declared_wrong:
        parse_config(OWN[written], declared)
    assert f"looks like {written}" in str(declared_wrong.value)


@pytest.mark.parametrize(("vendor", "text"), [
    ("asa", "hello firewall\nthese are meeting notes, not a config\n"),
    ("panos", "hello firewall\nthese are meeting notes, not a config\n"),
    ("srx", "set system host-name edge1\nset rulebase security rules r1 from any\n"),
])
def test_a_file_of_unknown_statements_fails(vendor: str, text: str) -> None:
    with pytest.raises(InputError) as raised:
        parser_for(vendor).parse(text, "notes.txt")
    assert f"no {vendor} rule, zone or object understood" in str(raised.value)


def test_iptables_guard_counts_statements_not_colons(tmp_path: Path) -> None:
    """An ASA's ': Saved' header is not an iptables chain declaration."""
    text = ": Saved\n: written by hand\n: end\n"
    with pytest.raises(InputError, match="no iptables statement understood"):
        parser_for("iptables").parse(text, "x.rules")
    assert parser_for("iptables").parse("-P FORWARD DROP\n", "x.rules").filters["FORWARD"].rules == []


def test_real_third_party_configs_are_not_mistaken_for_another_vendor() -> None:
    corpus = shared_path("firewall-configs")
    folders = {"cisco-asa": "asa", "fortigate": "fortigate", "iptables": "iptables", "nftables": "nftables",
               "paloalto-panos": "panos", "juniper-srx": "srx"}
    checked = 0
    for folder, vendor in folders.items():
        for path in sorted((corpus / folder).glob("*")):
            if not path.is_file() or path.suffix in (".md", ".txt"):
                continue
            assert looks_like_other_vendor(read_config_text(path), vendor) is None, path
            checked += 1
    assert checked > 10
