"""iptables NAT end to end (issue 20 §3): what tests/firewalls/test_fw_test_nat.py (``fw test``) and
tests/reconcile/test_nat_reach.py (two hops through hide-NAT, its control and PG-ESTATE-001) leave out:
the DMZ server published by static NAT, and ``check`` on a port forward and on hide-NAT.

The config is written from the iptables(8)/iptables-extensions(8) DNAT and SNAT targets in
iptables-save format. Interfaces: eth0 internet (203.0.113.1), eth1 dmz, eth2 ot. The address plan
is tests.e2e_nat.scenario's.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e_nat import scenario as s

EDGE = """
    *nat
    :PREROUTING ACCEPT [0:0]
    :POSTROUTING ACCEPT [0:0]
    -A PREROUTING -i eth0 -d 203.0.113.20/32 -j DNAT --to-destination 172.16.0.20
    -A PREROUTING -i eth0 -d 203.0.113.10/32 -p tcp --dport 8502 -j DNAT --to-destination 10.20.0.5:502
    -A POSTROUTING -o eth0 -s 172.16.0.20/32 -j SNAT --to-source 203.0.113.20
    -A POSTROUTING -o eth0 -s 10.20.0.0/24 -j SNAT --to-source 203.0.113.1
    COMMIT
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -i eth0 -o eth1 -d 172.16.0.20/32 -p tcp --dport 443 -j ACCEPT
    -A FORWARD -i eth0 -o eth2 -d 10.20.0.5/32 -p tcp --dport 502 -j ACCEPT
    -A FORWARD -i eth2 -o eth0 -s 10.20.0.0/24 -p tcp --dport 443 -j ACCEPT
    COMMIT
    """
EDGE_ZONES = "{eth0: internet, eth1: dmz, eth2: control}"
# The static DNAT is on line 4 (its SNAT half on 6), the port forward on 5, the OT hide-NAT on 7.
STATIC_LINE, FORWARD_LINE, HIDE_LINE = 4, 5, 7


def edge(tmp_path: Path, *registered: str) -> Path:
    return s.edge_site(tmp_path / "site", "iptables", "edge.rules", EDGE, EDGE_ZONES, registered)


def test_dmz_server_published_by_static_nat_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.20:443 in on eth0: the PREROUTING DNAT (line 4) rewrites the
    destination to 172.16.0.20; FORWARD accepts eth0 -> eth1 to 172.16.0.20 tcp/443 (line 11).
    PERMIT, delivered to 172.16.0.20:443."""
    answer = s.fw_test(edge(tmp_path) / "edge.rules", "iptables", s.INTERNET_HOST, s.DMZ_PUBLIC, 443, "eth0", "eth1")
    s.assert_publish_by_fw_test(answer, (s.DMZ_PUBLIC, 443), (s.DMZ_SERVER, 443), STATIC_LINE)
    assert answer["rule"]["line"] == 11


def test_dmz_server_published_by_static_nat_check(tmp_path: Path) -> None:
    """By hand: with no conduit, internet -> dmz permits tcp/443 to 172.16.0.20 (sent to 203.0.113.20):
    one PG-FW-001 citing line 4; with the dmz-web conduit registered, none."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "dmz", (s.DMZ_SERVER, 443),
                      (s.DMZ_PUBLIC, 443), "edge.rules", STATIC_LINE)
    assert s.between(s.findings(edge(tmp_path / "b", "dmz-web")), "PG-FW-001", "internet", "dmz") == []


def test_port_forward_to_an_ot_host_check(tmp_path: Path) -> None:
    """By hand: unregistered, internet -> control permits tcp/502 to 10.20.0.5 (sent to 203.0.113.10:8502):
    one PG-FW-001 about 10.20.0.5 citing line 5; with vendor-modbus registered, no PG-FW-001 there."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "control", (s.PLC, 502),
                      (s.PLC_PUBLIC, 8502), "edge.rules", FORWARD_LINE)
    registered = s.findings(edge(tmp_path / "b", "vendor-modbus"))
    assert s.between(registered, "PG-FW-001", "internet", "control") == []
    assert s.between(registered, "PG-PURDUE-002", "internet", "control")


def test_hide_nat_of_the_ot_range_check(tmp_path: Path) -> None:
    """By hand: control (level 2) -> internet (level 5) on tcp/443 is OT to IT: PG-PURDUE-002 and, with no
    conduit, PG-FW-001, both naming a real 10.20.0.x source (as sent), not 203.0.113.1."""
    found = s.findings(edge(tmp_path))
    s.assert_hidden_flow_reported(found, "PG-PURDUE-002")
    s.assert_hidden_flow_reported(found, "PG-FW-001")


def test_hide_nat_of_the_ot_range_check_shows_the_translation(tmp_path: Path) -> None:
    """By hand: both findings show the packet as sent (source 10.20.0.x) and the SNAT's line 7."""
    found = s.findings(edge(tmp_path))
    for rule_id in ("PG-PURDUE-002", "PG-FW-001"):
        s.assert_hiding_shown(s.assert_hidden_flow_reported(found, rule_id), "edge.rules", HIDE_LINE)
