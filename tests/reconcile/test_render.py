"""The register rendered by Aerleon for every vendor, read back by our parsers, proved equal."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.cli import main
from plantgate.firewalls.ruleset import address_set
from plantgate.load import load_site
from plantgate.netspace import PacketSpace, permitted_between
from plantgate.netspace.lint import lint_ruleset
from plantgate.reconcile.reach import Estate
from plantgate.reconcile.render import TARGETS, render_firewall, verify
from tests.sites import EXAMPLE, copy_example, edit


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
    expected = {"fw-it-dmz": {"C-02-bi-replica", "C-03-patch-sync", "C-06-remote-jump", "C-10-soc-feed"},
                "fw-dmz-ot": {"C-01-hist-replication", "C-04-ot-patch-pull", "C-05-av-updates", "C-07-jump-ews",
                              "C-08-time-sync", "C-09-ot-logs"}}
    assert placed == expected[firewall], "only conduits whose zones the firewall joins directly (no routes stated)"
    [transit] = [note for note in rendering.limitations if "C-15-vendor-dashboard" in note]
    assert "in transit" in transit and "not rendered" in transit


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


def test_transit_conduit_rendered_only_on_a_stated_route(tmp_path: Path) -> None:
    """With a route the treaty states, the transit hop is rendered, keeping the original addresses."""
    folder = copy_example(tmp_path)
    routes = "\nroutes:\n  - {from_zone: enterprise, to_zone: sup, via: [fw-it-dmz, fw-dmz-ot]}\n"
    (folder / "firewalls.yaml").write_text((folder / "firewalls.yaml").read_text(encoding="utf-8") + routes,
                                           encoding="utf-8")
    estate = Estate(load_site(folder), PacketSpace())
    rendering = render_firewall(estate, "fw-dmz-ot", "iptables")
    assert rendering.verified
    line = next(t for t in rendering.text.splitlines() if "-s 10.10.5.50/32" in t)
    assert "-d 10.20.0.10/32" in line and "-i eth0 -o eth2" in line
    assert not [note for note in rendering.limitations if "in transit" in note]


def test_render_never_permits_a_conduit_from_a_zone_it_does_not_name(estate: Estate) -> None:
    """C-07 runs from the DMZ jump host to the EWS in ops; no rendering lets that source in from elsewhere."""
    jump = address_set(["172.16.35.20/32"])
    space = estate.space
    for firewall in ("fw-dmz-ot", "fw-ops-ot", "fw-it-dmz"):
        fw = next(f for f in estate.firewalls if f.entry.id == firewall)
        rendering = render_firewall(estate, firewall)
        assert rendering.parsed is not None
        for (x, y) in rendering.parsed.paths:
            entering = [z for z, names in fw.config_zones_of.items() if x in names]
            if "idmz" in entering or "self" in (x, y):
                continue
            spoofed = permitted_between(space, rendering.parsed, x, y) & space.addresses("src", jump)
            assert spoofed.is_empty(), f"{firewall}: the jump host's address is let in on {x} -> {y}"


def test_render_refuses_a_firewall_the_treaty_does_not_place(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    edit(folder / "firewalls.yaml", "zones: {eth0: idmz, eth1: ops, eth2: sup}", "zones: {}")
    result = CliRunner().invoke(main, ["render", str(folder), "--firewall", "fw-dmz-ot"])
    assert result.exit_code == 2
    assert "fw-dmz-ot joins no pair of treaty zones" in " ".join(result.stderr.split())
    assert result.stdout == "", "nothing is written"


def test_render_refuses_a_firewall_joined_by_network(tmp_path: Path) -> None:
    folder = copy_example(tmp_path)
    edit(folder / "firewalls.yaml", "zones: {eth0: idmz, eth1: ops, eth2: sup}", "joins: [idmz, ops, sup]")
    result = CliRunner().invoke(main, ["render", str(folder), "--firewall", "fw-dmz-ot"])
    assert result.exit_code == 2 and "would permit spoofed sources" in " ".join(result.stderr.split())


def test_proof_covers_ipv6_for_an_ipv4_only_target(estate: Estate) -> None:
    """iptables cannot render IPv6 conduits, yet a rendering that lets IPv6 through is still refused."""
    rendering = render_firewall(estate, "fw-dmz-ot", "iptables")
    fw = next(f for f in estate.firewalls if f.entry.id == "fw-dmz-ot")
    # policy ACCEPT with a final IPv4 DROP: IPv4 exactly as before, every IPv6 packet forwarded
    rendering.text = rendering.text.replace("-P FORWARD DROP", "-P FORWARD ACCEPT") + "-A FORWARD -j DROP\n"
    rendering.mismatches = []
    verify(estate, fw, rendering)
    assert rendering.mismatches and all("permits more than the register" in m for m in rendering.mismatches)
    assert any("::" in m for m in rendering.mismatches), rendering.mismatches


@pytest.mark.parametrize("vendor", sorted(TARGETS))
def test_lint_finds_no_redundancy_in_our_own_renderings(estate: Estate, vendor: str) -> None:
    """The explicit default-deny of every rendering is not 'redundant', and nothing else is either."""
    rendering = render_firewall(estate, "fw-dmz-ot", vendor)
    assert rendering.parsed is not None
    issues = [(i.kind, i.message) for i in lint_ruleset(estate.space, rendering.parsed)
              if i.kind in ("redundant", "shadowed", "correlated", "unbound_filter")]
    assert issues == []
