"""The register rendered by Aerleon for every vendor, read back by our parsers, proved equal."""

from __future__ import annotations

import pytest

from plantgate.load import load_site
from plantgate.netspace import PacketSpace
from plantgate.reconcile.reach import Estate
from plantgate.reconcile.render import TARGETS, render_firewall, verify
from tests.sites import EXAMPLE


@pytest.fixture(scope="module")
def estate() -> Estate:
    return Estate(load_site(EXAMPLE), PacketSpace())


@pytest.mark.parametrize("vendor", sorted(TARGETS))
@pytest.mark.parametrize("firewall", ["fw-it-dmz", "fw-dmz-ot"])
def test_render_round_trip_is_exact(estate: Estate, vendor: str, firewall: str) -> None:
    rendering = render_firewall(estate, firewall, vendor)
    assert rendering.parsed is not None and rendering.parsed.rule_count() > 0
    assert rendering.mismatches == []
    assert rendering.verified
    # every placed conduit is really in the intended sets, and nothing else
    placed = {p.conduit.id for p in rendering.placements}
    expected = {"fw-it-dmz": {"C-02-bi-replica", "C-03-patch-sync", "C-06-remote-jump", "C-10-soc-feed",
                              "C-15-vendor-dashboard"},
                "fw-dmz-ot": {"C-01-hist-replication", "C-04-ot-patch-pull", "C-05-av-updates", "C-07-jump-ews",
                              "C-08-time-sync", "C-09-ot-logs", "C-15-vendor-dashboard"}}
    assert placed == expected[firewall]


@pytest.mark.parametrize("vendor", ["asa", "iptables"])
def test_verification_catches_a_wrong_rendering(estate: Estate, vendor: str) -> None:
    rendering = render_firewall(estate, "fw-dmz-ot", vendor)
    port = {"asa": "eq 5450", "iptables": "--dport 5450"}[vendor]
    assert port in rendering.text
    rendering.text = rendering.text.replace(port, port.replace("5450", "5451"), 1)
    rendering.mismatches = []
    fw = next(f for f in estate.firewalls if f.entry.id == "fw-dmz-ot")
    verify(estate, fw, rendering)
    assert any("permits more" in m for m in rendering.mismatches)
    assert any("misses register flows" in m and ":5450" in m for m in rendering.mismatches)
    assert not rendering.verified


def test_transit_conduit_keeps_original_addresses(estate: Estate) -> None:
    text = render_firewall(estate, "fw-dmz-ot", "iptables").text
    line = next(t for t in text.splitlines() if "-s 10.10.5.50/32" in t)
    assert "-d 10.20.0.10/32" in line and "-i eth0 -o eth2" in line
