"""PG-FW-009: a treaty zone map that the firewall's own interface addresses contradict."""

from __future__ import annotations

from pathlib import Path

from plantgate.checks.context import CheckContext
from plantgate.checks.firewall import zone_map_against_interfaces
from plantgate.load import load_site
from plantgate.reconcile.coverage import GapKind
from tests.sites import AS_OF, copy_example, run_check

OPS_OT_MAP = "zones: {port1: ops, port2: sup, port3: ctl, port4: sis}"


def test_example_zone_maps_agree_with_addresses(tmp_path: Path) -> None:
    """By hand: every mapped port of fw-ops-ot and both nameifs of fw-it-dmz face their own zone's networks;
    fw-dmz-ot (iptables) has no addresses and claims nothing: no finding."""
    assert run_check(copy_example(tmp_path), zone_map_against_interfaces) == []


def test_swapped_ports_are_found_with_the_interface_line(tmp_path: Path) -> None:
    """By hand: the treaty maps port2 to ctl and port3 to sup, but port2 faces 10.20.0.0/24 (sup) and port3
    10.1.0.0/24 (ctl): two findings, each at the interface's edit line (16 and 22 of fw-ops-ot.conf)."""
    site = copy_example(tmp_path)
    firewalls = site / "firewalls.yaml"
    text = firewalls.read_text(encoding="utf-8")
    assert OPS_OT_MAP in text
    firewalls.write_text(text.replace(OPS_OT_MAP, "zones: {port1: ops, port2: ctl, port3: sup, port4: sis}"),
                         encoding="utf-8")
    findings = run_check(site, zone_map_against_interfaces)
    assert [(f.rule_id, f.discriminator) for f in findings] == [("PG-FW-009", "port2:10.20.0.0/24"),
                                                                ("PG-FW-009", "port3:10.1.0.0/24")]
    first = findings[0]
    assert "maps config zone port2 to ctl, but its interface port2 faces 10.20.0.0/24, which lies in the " \
           "networks of sup" in first.message
    assert first.evidence[0].file.endswith("fw-ops-ot.conf") and first.evidence[0].line == 16


def test_network_in_no_zone_claims_nothing(tmp_path: Path) -> None:
    """By hand: port1 renumbered onto a transit link 192.0.2.0/30 that no treaty zone holds: the map (port1: ops)
    is neither confirmed nor contradicted, so no finding."""
    site = copy_example(tmp_path)
    config = site / "firewalls" / "fw-ops-ot.conf"
    config.write_text(config.read_text(encoding="utf-8").replace("set ip 10.30.0.1 255.255.255.0",
                                                                 "set ip 192.0.2.1 255.255.255.252"), encoding="utf-8")
    assert run_check(site, zone_map_against_interfaces) == []


def test_config_without_addresses_is_a_coverage_note_not_a_finding(tmp_path: Path) -> None:
    """By hand: fw-dmz-ot is iptables: no addresses, so its map (eth0, eth1, eth2) is listed as 'zone map not
    verifiable from interface addresses', a note that hides nothing; fw-ops-ot has addresses: no such note."""
    ctx = CheckContext(load_site(copy_example(tmp_path)), AS_OF)
    notes = {fw.entry.id: [i for i in fw.coverage.items if i.kind is GapKind.ZONE_MAP_UNVERIFIED]
             for fw in ctx.firewalls}
    [note] = notes["fw-dmz-ot"]
    assert note.subject == "eth0, eth1, eth2" and not note.hides
    assert "the config holds no interface addresses" in note.detail
    assert notes["fw-ops-ot"] == []
