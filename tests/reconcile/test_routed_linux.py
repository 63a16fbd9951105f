"""Reach follows a Linux firewall's routes from its ``routing:`` file (issue 20 §2), as ``test_routed`` does for ASA.

The estate, by hand: corp 10.0.0.0/16, dmz 172.16.0.0/24, control 10.20.0.0/24, two iptables hosts in series.
- fw-core joins all three: eth0 10.0.0.1/16 (corp), eth1 172.16.0.1/24 (dmz), eth2 10.20.0.1/24 (control); its
  FORWARD chain lets anything entering on eth0 through on tcp/502.
- fw-ot joins dmz (eth0 172.16.0.2/24) and control (eth1 10.20.0.2/24), with a static route back to corp via
  fw-core; it lets the DMZ and corp reach the PLC 10.20.0.5 on tcp/502.
Without routing files the topology holds two paths corp -> control: fw-core directly, and fw-core into the DMZ
then fw-ot. fw-core's capture puts 10.20.0.0/24 on eth2, so it never sends a packet for the PLC into the DMZ.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from click.testing import CliRunner

from plantgate.checks import run_checks
from plantgate.cli import main
from plantgate.errors import InputError
from plantgate.load import load_site
from plantgate.netspace import PacketSpace
from plantgate.netspace.flow import Flow
from plantgate.reconcile.reach import Estate
from tests.reconcile.test_routed import SITE as ROUTED_SITE
from tests.sites import edit, write_files

CORE_RULES = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i eth0 -p tcp -m tcp --dport 502 -j ACCEPT
COMMIT
"""
CORE_ROUTING = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:00:01:00 brd ff:ff:ff:ff:ff:ff
    inet 10.0.0.1/16 brd 10.0.255.255 scope global eth0
       valid_lft forever preferred_lft forever
3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:00:01:01 brd ff:ff:ff:ff:ff:ff
    inet 172.16.0.1/24 brd 172.16.0.255 scope global eth1
       valid_lft forever preferred_lft forever
4: eth2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:00:01:02 brd ff:ff:ff:ff:ff:ff
    inet 10.20.0.1/24 brd 10.20.0.255 scope global eth2
       valid_lft forever preferred_lft forever
10.0.0.0/16 dev eth0 proto kernel scope link src 10.0.0.1
172.16.0.0/24 dev eth1 proto kernel scope link src 172.16.0.1
10.20.0.0/24 dev eth2 proto kernel scope link src 10.20.0.1
{routes}
0:\tfrom all lookup local
32766:\tfrom all lookup main
32767:\tfrom all lookup default
"""
OT_RULES = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i eth0 -o eth1 -s 172.16.0.0/24 -d 10.20.0.5/32 -p tcp -m tcp --dport 502 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -s 10.0.0.0/16 -d 10.20.0.5/32 -p tcp -m tcp --dport 502 -j ACCEPT
COMMIT
"""
OT_ROUTING = """\
eth0             UP             172.16.0.2/24
eth1             UP             10.20.0.2/24
10.0.0.0/16 via 172.16.0.1 dev eth0 proto static
"""
SITE = {
    **{name: text for name, text in ROUTED_SITE.items() if name != "firewalls.yaml"},
    "firewalls.yaml": """
        firewalls:
          - id: fw-core
            vendor: iptables
            config: fw/core.rules
            routing: fw/core.routing
            zones: {eth0: corp, eth1: dmz, eth2: control}
          - id: fw-ot
            vendor: iptables
            config: fw/ot.rules
            routing: fw/ot.routing
            zones: {eth0: dmz, eth1: control}
        """,
}
ROUTES_LINE = 20
"""The line of CORE_ROUTING where ``{routes}`` stands."""
PLC_PACKET = Flow(ipaddress.ip_address("10.0.1.1"), ipaddress.ip_address("10.20.0.5"), 6, 40000, 502)
AS_OF = dt.date(2026, 11, 26)


def site(tmp_path: Path, routes: str = "") -> Path:
    return write_files(tmp_path / "site", {**SITE, "fw/core.rules": CORE_RULES, "fw/ot.rules": OT_RULES,
                                           "fw/core.routing": CORE_ROUTING.replace("{routes}", routes),
                                           "fw/ot.routing": OT_ROUTING})


def reach(folder: Path) -> Estate:
    return Estate(load_site(folder), PacketSpace())


def firewall_ids(folder: Path) -> list[list[str]]:
    return sorted(p.path.firewall_ids for p in reach(folder).reach("corp", "control").paths)


def test_without_routing_files_both_paths_are_taken(tmp_path: Path) -> None:
    """By hand: iptables rulesets state no addresses, so neither firewall's routes are known: two paths."""
    folder = site(tmp_path)
    edit(folder / "firewalls.yaml", "    routing: fw/core.routing\n", "")
    edit(folder / "firewalls.yaml", "    routing: fw/ot.routing\n", "")
    assert firewall_ids(folder) == [["fw-core"], ["fw-core", "fw-ot"]]


def test_the_first_firewalls_routes_drop_the_path_it_never_takes(tmp_path: Path) -> None:
    """By hand (module docstring): with the captures only fw-core's direct path delivers, and the note says its
    routes were followed."""
    result = reach(site(tmp_path)).reach("corp", "control")
    [path] = result.paths
    assert path.path.firewall_ids == ["fw-core"] and path.flows.contains(PLC_PACKET)
    assert any(note.startswith("fw-core: routes followed") for note in result.routes), result.routes


def test_a_static_route_in_the_capture_makes_the_two_hop_path_real(tmp_path: Path) -> None:
    """By hand: ``10.20.0.5 via 172.16.0.2 dev eth1`` (a host route, as ip prints it) beats the connected /24, so
    fw-core sends the PLC's packets into the DMZ and fw-ot delivers them; the direct path keeps the rest of
    control but no longer the PLC."""
    result = reach(site(tmp_path, "10.20.0.5 via 172.16.0.2 dev eth1 proto static metric 10")).reach("corp", "control")
    by_firewalls = {tuple(p.path.firewall_ids): p for p in result.paths}
    assert set(by_firewalls) == {("fw-core",), ("fw-core", "fw-ot")}
    assert by_firewalls["fw-core", "fw-ot"].flows.contains(PLC_PACKET)
    assert not by_firewalls["fw-core",].flows.contains(PLC_PACKET)


def test_a_route_learned_by_bgp_keeps_every_path_and_names_its_line(tmp_path: Path) -> None:
    """By hand: a ``proto bgp`` route in fw-core's capture is a routing gap: its routes decide nothing, both paths
    are reported, and the note cites the route's line in the routing file."""
    folder = site(tmp_path, "10.77.0.0/16 via 172.16.0.2 dev eth1 proto bgp metric 20")
    result = reach(folder).reach("corp", "control")
    assert sorted(len(p.path.hops) for p in result.paths) == [1, 2]
    note = next(n for n in result.routes if n.startswith("fw-core"))
    assert f"core.routing:{ROUTES_LINE}: route 10.77.0.0/16 was learned at run time (proto bgp)" in note, note


def test_a_zone_map_the_addresses_contradict_is_pg_fw_009(tmp_path: Path) -> None:
    """By hand: mapping eth1 to control and eth2 to dmz contradicts the capture (eth1 faces 172.16.0.0/24, the
    DMZ; eth2 10.20.0.0/24, control): two findings, each at the interface's header line of core.routing."""
    folder = site(tmp_path)
    edit(folder / "firewalls.yaml", "zones: {eth0: corp, eth1: dmz, eth2: control}",
         "zones: {eth0: corp, eth1: control, eth2: dmz}")
    found = [f for f in run_checks(load_site(folder), as_of=AS_OF) if f.rule_id == "PG-FW-009"]
    assert sorted(f.discriminator for f in found) == ["eth1:172.16.0.0/24", "eth2:10.20.0.0/24"]
    assert sorted((Path(f.evidence[0].file).name, f.evidence[0].line) for f in found) == [
        ("core.routing", 9), ("core.routing", 13)]


def test_a_routing_file_outside_the_treaty_folder_is_refused(tmp_path: Path) -> None:
    """By hand: the routing file is held to the same rule as configs: it must lie inside the treaty folder."""
    folder = site(tmp_path)
    (tmp_path / "elsewhere.routing").write_text(OT_ROUTING, encoding="utf-8")
    edit(folder / "firewalls.yaml", "routing: fw/ot.routing", "routing: ../elsewhere.routing")
    with pytest.raises(InputError) as caught:
        load_site(folder)
    [problem] = caught.value.problems
    assert "firewall routing file '../elsewhere.routing' lies outside the treaty folder" in problem.message
    assert problem.location.line == 10 and problem.key_path == "firewalls.1.routing"


def test_routing_on_an_asa_entry_is_a_validation_error_at_the_key(tmp_path: Path) -> None:
    """By hand: an ASA config states its own addresses and routes; ``routing:`` on its entry is refused at the
    key's line, naming the field."""
    folder = site(tmp_path)
    edit(folder / "firewalls.yaml", "vendor: iptables\n    config: fw/ot.rules", "vendor: asa\n    config: fw/ot.rules")
    with pytest.raises(InputError) as caught:
        load_site(folder)
    text = str(caught.value)
    assert "firewalls.yaml:10:" in text and "routing is read only for iptables and nftables firewalls" in text, text


def test_a_malformed_routing_file_is_an_input_error_with_its_column(tmp_path: Path) -> None:
    """By hand: a gateway that is no address, at column 17 of line 3 of ot.routing: ``check`` exits 2 naming
    file:line:column and what was expected, without a traceback."""
    folder = site(tmp_path)
    edit(folder / "fw/ot.routing", "via 172.16.0.1 dev", "via fw-core dev")
    with pytest.raises(InputError) as caught:
        reach(folder)
    [problem] = caught.value.problems
    assert str(problem.location).endswith("ot.routing:3:17")
    assert problem.message == "gateway 'fw-core' is not an IP address"
    result = CliRunner().invoke(main, ["check", str(folder), "--as-of", AS_OF.isoformat()])
    output = "".join(result.output.split("\n"))  # undo terminal wrapping
    assert result.exit_code == 2, output
    assert "ot.routing:3:17: gateway 'fw-core' is not an IP address; expected via ADDRESS" in output
    assert "Traceback" not in output
