"""``plantgate import firewall``: the treaty entry proposed from a config, its zone map derived from addresses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.cli import main
from plantgate.load import load_site
from tests.sites import copy_example

EDGE_ASA = """\
hostname fw-edge
interface GigabitEthernet0/0
 nameif corp
 security-level 0
 ip address 10.10.0.1 255.255.255.0
!
interface GigabitEthernet0/1
 nameif plant
 security-level 100
 ip address 10.30.0.2 255.255.255.0
!
interface GigabitEthernet0/2
 nameif mixed
 security-level 50
 ip address 10.20.0.2 255.255.255.0
!
interface GigabitEthernet0/3
 nameif spare
 security-level 50
!
route plant 10.1.0.0 255.255.255.0 10.30.0.254 1
route corp 0.0.0.0 0.0.0.0 10.10.0.254 1
access-list corp_in extended permit tcp any any eq 443
access-group corp_in in interface corp
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, " ".join((result.stdout + result.stderr).split())  # undo terminal wrapping


def test_example_fortigate_zone_map_is_derived_exactly(tmp_path: Path) -> None:
    """By hand: fw-ops-ot's ports face 10.30.0.0/24 (ops), 10.20.0.0/24 (sup), 10.1.0.0/24 (ctl), 10.2.0.0/24 (sis):
    the derived map is the one the example treaty states, so the entry is unchanged and nothing is written."""
    site = copy_example(tmp_path)
    code, out = run("import", "firewall", str(site / "firewalls" / "fw-ops-ot.conf"), "--treaty", str(site),
                    "--id", "fw-ops-ot")
    assert code == 0, out
    assert "zones: {port1: ops, port2: sup, port3: ctl, port4: sis}" in out
    assert "zone port3 -> ctl: inside the networks of treaty zone ctl: 10.1.0.0/24 (interface port3" in out
    assert "fw-ops-ot: unchanged, 4 zones mapped, 0 unresolved, 0 conflicts" in out
    assert not (site / "firewalls-imported.yaml").exists()


def test_new_firewall_written_with_unresolved_zones_and_routed_joins(tmp_path: Path) -> None:
    """By hand: corp 10.10.0.0/24 lies in enterprise (10.10.0.0/16), plant 10.30.0.0/24 is ops; mixed 10.20.0.0/24 is
    sup; spare has no address (unresolved). The route to 10.1.0.0/24 via 10.30.0.254 (in ops, behind plant) reaches
    ctl, which no interface faces: evidence for joins. Exit 1 (one unresolved zone); the entry is written, and a
    second run finds it and changes nothing."""
    site = copy_example(tmp_path)
    config = site / "firewalls" / "fw-edge.asa"
    config.write_text(EDGE_ASA, encoding="utf-8")
    code, out = run("import", "firewall", str(config), "--treaty", str(site))
    assert code == 1, out
    assert "zones: {corp: enterprise, plant: ops, mixed: sup}" in out
    assert "zone spare unresolved: no interface of this zone has an address in the config" in out
    assert f"joins (through a static route) ctl: route 10.1.0.0/24 via 10.30.0.254 (next hop in ops behind " \
           f"interface GigabitEthernet0/1), {config}:21" in out
    assert "fw-edge: added, 3 zones mapped, 1 unresolved, 0 conflicts" in out
    written = (site / "firewalls-imported.yaml").read_text(encoding="utf-8")
    entry = load_site(site).treaty
    fw = next(f for f in entry.firewalls if f.id == "fw-edge")
    assert fw.vendor == "asa" and fw.config == "firewalls/fw-edge.asa"
    assert fw.zones == {"corp": "enterprise", "plant": "ops", "mixed": "sup"}
    code, out = run("import", "firewall", str(config), "--treaty", str(site))
    assert code == 1 and "fw-edge: unchanged" in out
    assert (site / "firewalls-imported.yaml").read_text(encoding="utf-8") == written


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    """By hand: the same import with --dry-run proposes the entry ("would add") and writes no file."""
    site = copy_example(tmp_path)
    config = site / "firewalls" / "fw-edge.asa"
    config.write_text(EDGE_ASA, encoding="utf-8")
    code, out = run("import", "firewall", str(config), "--treaty", str(site), "--dry-run", "--id", "edge")
    assert code == 1 and "edge: would add, 3 zones mapped" in out
    assert not (site / "firewalls-imported.yaml").exists()


def test_network_spanning_zones_and_conflict_with_the_treaty(tmp_path: Path) -> None:
    """By hand: the example's fw-ops-ot, re-imported under its own id with port2 renumbered into 10.1.0.0/24, now
    says port2 is ctl while the treaty says sup: a conflict, exit 1, nothing written. port1 renumbered to
    10.0.0.1/12, a network wider than any treaty zone's (it holds enterprise's, ctl's and sis's), lies inside no
    single zone: unresolved."""
    site = copy_example(tmp_path)
    config = site / "firewalls" / "fw-ops-ot.conf"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("set ip 10.20.0.1 255.255.255.0", "set ip 10.1.0.2 255.255.255.0")
                      .replace("set ip 10.30.0.1 255.255.255.0", "set ip 10.0.0.1 255.240.0.0"), encoding="utf-8")
    code, out = run("import", "firewall", str(config), "--treaty", str(site), "--id", "fw-ops-ot")
    assert code == 1, out
    assert "conflict: fw-ops-ot maps port2 to sup, its interface addresses say ctl; not written" in out
    assert "zone port1 unresolved: no treaty zone's networks hold 10.0.0.0/12" in out
    assert not (site / "firewalls-imported.yaml").exists()


def test_linux_config_has_no_addresses_to_derive_from(tmp_path: Path) -> None:
    """By hand: an iptables ruleset names interfaces but holds no addresses: every zone unresolved, with the reason."""
    site = copy_example(tmp_path)
    code, out = run("import", "firewall", str(site / "firewalls" / "fw-dmz-ot.iptables"), "--treaty", str(site),
                    "--dry-run")
    assert code == 1
    assert "zone eth1 unresolved: the config holds no interface addresses (an iptables or nftables ruleset never " \
           "does: give the host's ip addr output as its routing file)" in out


DMZ_OT_ROUTING = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    inet 172.16.35.1/24 brd 172.16.35.255 scope global eth0
       valid_lft forever preferred_lft forever
3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    inet 10.30.0.1/24 brd 10.30.0.255 scope global eth1
       valid_lft forever preferred_lft forever
4: eth2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    inet 10.20.0.1/24 brd 10.20.0.255 scope global eth2
       valid_lft forever preferred_lft forever
10.1.0.0/24 via 10.20.0.254 dev eth2 proto static
"""


def test_linux_zone_map_from_the_routing_file(tmp_path: Path) -> None:
    """By hand: with the host's ip addr output, eth0 172.16.35.0/24 lies in idmz, eth1 10.30.0.0/24 in ops, eth2
    10.20.0.0/24 in sup; lo (loopback only) and ``*`` (no other interface) have no address: unresolved, exit 1;
    the firewall itself (self) is no zone to map. The route to 10.1.0.0/24 via 10.20.0.254 (sup) reaches ctl:
    evidence for joins. The entry written names the routing file, and the treaty loads with it."""
    site = copy_example(tmp_path)
    config = site / "firewalls" / "fw-new.iptables"
    shutil.copy(site / "firewalls" / "fw-dmz-ot.iptables", config)
    routing = site / "firewalls" / "fw-new.routing"
    routing.write_text(DMZ_OT_ROUTING, encoding="utf-8")
    code, out = run("import", "firewall", str(config), "--treaty", str(site), "--routing", str(routing))
    assert code == 1, out
    assert "routing: firewalls/fw-new.routing zones: {eth0: idmz, eth1: ops, eth2: sup}" in out
    assert f"zone eth2 -> sup: inside the networks of treaty zone sup: 10.20.0.0/24 (interface eth2, {routing}:10)" \
        in out
    assert "zone lo unresolved: no interface of this zone has an address in the config" in out
    assert "zone * unresolved" in out and "zone self" not in out
    assert "joins (through a static route) ctl: route 10.1.0.0/24 via 10.20.0.254 (next hop in sup behind " \
           f"interface eth2), {routing}:13" in out
    assert "fw-new: added, 3 zones mapped, 2 unresolved, 0 conflicts" in out
    fw = next(f for f in load_site(site).treaty.firewalls if f.id == "fw-new")
    assert fw.routing == "firewalls/fw-new.routing" and fw.zones == {"eth0": "idmz", "eth1": "ops", "eth2": "sup"}


def test_routing_for_a_config_that_states_its_own_routes_is_refused(tmp_path: Path) -> None:
    """By hand: an ASA config holds its addresses and routes; --routing with it is invalid input (2), and so is a
    routing file outside the treaty folder."""
    site = copy_example(tmp_path)
    routing = site / "firewalls" / "fw.routing"
    routing.write_text(DMZ_OT_ROUTING, encoding="utf-8")
    code, out = run("import", "firewall", str(site / "firewalls" / "fw-it-dmz.asa"), "--treaty", str(site),
                    "--routing", str(routing))
    assert code == 2 and "--routing is read only for iptables and nftables configs" in out
    outside = tmp_path / "fw.routing"
    outside.write_text(DMZ_OT_ROUTING, encoding="utf-8")
    code, out = run("import", "firewall", str(site / "firewalls" / "fw-dmz-ot.iptables"), "--treaty", str(site),
                    "--routing", str(outside))
    assert code == 2 and "the routing file lies outside the treaty folder" in out
    assert not (site / "firewalls-imported.yaml").exists()


def test_config_outside_the_treaty_folder_is_refused(tmp_path: Path) -> None:
    """By hand: the treaty names configs by relative path, so a config outside its folder is invalid input (2)."""
    site = copy_example(tmp_path)
    outside = tmp_path / "elsewhere.asa"
    outside.write_text(EDGE_ASA, encoding="utf-8")
    code, out = run("import", "firewall", str(outside), "--treaty", str(site))
    assert code == 2 and "the config lies outside the treaty folder" in out
    assert not (site / "firewalls-imported.yaml").exists()


def test_readme_example_is_what_the_command_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """By hand: the README's console block is the output of the command it shows, run on the example copied to
    ./plant (exit 1: the management interface's network is in no treaty zone)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Deriving the zone map from interface addresses")[1].split("```console\n")[1]
    command, expected = block.split("```")[0].split("\n", 1)
    shutil.copytree(copy_example(tmp_path), tmp_path / "plant")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, command.removeprefix("$ plantgate ").split())
    assert result.exit_code == 1
    assert result.stdout == expected


def test_bad_id_is_invalid_input(tmp_path: Path) -> None:
    """By hand: an id with a space is not an Identifier: exit 2 naming the option, no traceback."""
    site = copy_example(tmp_path)
    code, out = run("import", "firewall", str(site / "firewalls" / "fw-ops-ot.conf"), "--treaty", str(site),
                    "--id", "Bad Id", "--dry-run")
    assert code == 2 and "<options>: id:" in out and "Traceback" not in out
