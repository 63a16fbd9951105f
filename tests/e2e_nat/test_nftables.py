"""nftables NAT end to end (issue 20 §3), configs written from the nftables wiki ("Performing Network
Address Translation"): ``dnat to`` in a prerouting nat chain, ``snat to`` in a postrouting one.

The DNAT happens before the forward chain, which therefore names the real server; SNAT after it.
Interfaces: eth0 internet (203.0.113.1), eth1 dmz, eth2 ot. The address plan is tests.e2e_nat.scenario's.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e_nat import scenario as s

EDGE = """
    table ip nat {
        chain prerouting {
            type nat hook prerouting priority dstnat; policy accept;
            iifname "eth0" ip daddr 203.0.113.20 dnat to 172.16.0.20
            iifname "eth0" ip daddr 203.0.113.10 tcp dport 8502 dnat to 10.20.0.5:502
        }

        chain postrouting {
            type nat hook postrouting priority srcnat; policy accept;
            oifname "eth0" ip saddr 172.16.0.20 snat to 203.0.113.20
            oifname "eth0" ip saddr 10.20.0.0/24 snat to 203.0.113.1
        }
    }

    table ip filter {
        chain forward {
            type filter hook forward priority filter; policy drop;
            iifname "eth0" oifname "eth1" ip daddr 172.16.0.20 tcp dport 443 accept
            iifname "eth0" oifname "eth2" ip daddr 10.20.0.5 tcp dport 502 accept
            iifname "eth2" oifname "eth0" ip saddr 10.20.0.0/24 tcp dport 443 accept
        }
    }
    """
EDGE_ZONES = "{eth0: internet, eth1: dmz, eth2: control}"
# The static DNAT is on line 4 (its SNAT half on 10), the port forward on 5, the OT hide-NAT on 11.
STATIC_LINE, FORWARD_LINE, HIDE_LINE = 4, 5, 11

OUTER = """
    table ip nat {
        chain postrouting {
            type nat hook postrouting priority srcnat; policy accept;
            oifname "eth1" ip saddr 10.0.0.0/16 snat to 172.16.0.1
        }
    }

    table ip filter {
        chain forward {
            type filter hook forward priority filter; policy drop;
            iifname "eth0" oifname "eth1" ip saddr 10.0.0.0/16 tcp dport 502 accept
        }
    }
    """
OUTER_ZONES = "{eth0: corp, eth1: dmz}"
OUTER_NAT_LINE = 4


def edge(tmp_path: Path, *registered: str) -> Path:
    return s.edge_site(tmp_path / "site", "nftables", "edge.nft", EDGE, EDGE_ZONES, registered)


def test_dmz_server_published_by_static_nat_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.20:443 in on eth0: the prerouting DNAT (line 4) rewrites the
    destination to 172.16.0.20; the forward chain accepts eth0 -> eth1 to 172.16.0.20 tcp/443.
    PERMIT, delivered to 172.16.0.20:443."""
    answer = s.fw_test(edge(tmp_path) / "edge.nft", "nftables", s.INTERNET_HOST, s.DMZ_PUBLIC, 443, "eth0", "eth1")
    s.assert_publish_by_fw_test(answer, (s.DMZ_PUBLIC, 443), (s.DMZ_SERVER, 443), STATIC_LINE)


def test_dmz_server_published_by_static_nat_check(tmp_path: Path) -> None:
    """By hand: with no conduit, internet -> dmz permits tcp/443 to 172.16.0.20 (sent to 203.0.113.20):
    one PG-FW-001 citing line 4; with the dmz-web conduit registered, none."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "dmz", (s.DMZ_SERVER, 443),
                      (s.DMZ_PUBLIC, 443), "edge.nft", STATIC_LINE)
    assert s.between(s.findings(edge(tmp_path / "b", "dmz-web")), "PG-FW-001", "internet", "dmz") == []


def test_port_forward_to_an_ot_host_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.10:8502 in on eth0: the DNAT on line 5 rewrites it to
    10.20.0.5:502; forward accepts eth0 -> eth2 to 10.20.0.5 tcp/502. PERMIT, to 10.20.0.5:502."""
    answer = s.fw_test(edge(tmp_path) / "edge.nft", "nftables", s.INTERNET_HOST, s.PLC_PUBLIC, 8502, "eth0", "eth2")
    s.assert_publish_by_fw_test(answer, (s.PLC_PUBLIC, 8502), (s.PLC, 502), FORWARD_LINE)


def test_port_forward_to_an_ot_host_check(tmp_path: Path) -> None:
    """By hand: unregistered, internet -> control permits tcp/502 to 10.20.0.5 (sent to 203.0.113.10:8502):
    one PG-FW-001 about 10.20.0.5 citing line 5; with vendor-modbus registered, no PG-FW-001 there."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "control", (s.PLC, 502),
                      (s.PLC_PUBLIC, 8502), "edge.nft", FORWARD_LINE)
    registered = s.findings(edge(tmp_path / "b", "vendor-modbus"))
    assert s.between(registered, "PG-FW-001", "internet", "control") == []
    assert s.between(registered, "PG-PURDUE-002", "internet", "control")


def test_hide_nat_of_the_ot_range_fw_test(tmp_path: Path) -> None:
    """By hand: 10.20.0.7 -> 198.51.100.7:443 eth2 -> eth0: forward accepts; the postrouting SNAT on
    line 11 rewrites the source to 203.0.113.1. PERMIT."""
    answer = s.fw_test(edge(tmp_path) / "edge.nft", "nftables", "10.20.0.7", s.INTERNET_HOST, 443, "eth2", "eth0")
    s.assert_hide_by_fw_test(answer, "10.20.0.7", s.OUTSIDE, HIDE_LINE)


def test_hide_nat_of_the_ot_range_check(tmp_path: Path) -> None:
    """By hand: control (level 2) -> internet (level 5) on tcp/443 is OT to IT: PG-PURDUE-002 and, with no
    conduit, PG-FW-001, both naming a real 10.20.0.x source (as sent), not 203.0.113.1."""
    found = s.findings(edge(tmp_path))
    s.assert_hidden_flow_reported(found, "PG-PURDUE-002")
    s.assert_hidden_flow_reported(found, "PG-FW-001")


def test_hide_nat_of_the_ot_range_check_shows_the_translation(tmp_path: Path) -> None:
    """By hand: both findings show the packet as sent (source 10.20.0.x) and the SNAT's line 11."""
    found = s.findings(edge(tmp_path))
    for rule_id in ("PG-PURDUE-002", "PG-FW-001"):
        s.assert_hiding_shown(s.assert_hidden_flow_reported(found, rule_id), "edge.nft", HIDE_LINE)


def test_two_hops_exist_only_through_hide_nat(tmp_path: Path) -> None:
    """By hand: fw-outer (nftables) forwards corp -> eth1 on tcp/502 and SNATs corp to 172.16.0.1
    (line 4); fw-inner admits only DMZ sources to 10.20.0.5:502. reach corp -> control: one path with
    the source rewritten at fw-outer; without the nat table, none. PG-ESTATE-001 reports the bypass."""
    folder = s.series_site(tmp_path / "site", "nftables", "outer.nft", OUTER, OUTER_ZONES)
    s.assert_two_hop_path(s.reach(folder), OUTER_NAT_LINE)
    s.assert_estate_bypass(s.findings(folder), "outer.nft", OUTER_NAT_LINE)
    no_nat = OUTER[OUTER.index("    table ip filter"):]
    assert s.reach(s.series_site(tmp_path / "control", "nftables", "outer.nft", no_nat, OUTER_ZONES)) == []
