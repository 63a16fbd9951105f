"""Junos SRX NAT end to end (issue 20 §3), configs written from the Junos ``security nat`` statements
(static, destination and source rule sets) and security policies.

SRX order: static and destination NAT rewrite the packet before the policy lookup, which therefore
names the real (translated) server; source NAT comes after the policy. The address plan is
tests.e2e_nat.scenario's.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e_nat import scenario as s

EDGE = """
    interfaces {
        ge-0/0/0 {
            unit 0 {
                family inet {
                    address 203.0.113.1/24;
                }
            }
        }
        ge-0/0/1 {
            unit 0 {
                family inet {
                    address 172.16.0.1/24;
                }
            }
        }
        ge-0/0/2 {
            unit 0 {
                family inet {
                    address 10.20.0.1/24;
                }
            }
        }
    }
    security {
        address-book {
            global {
                address DMZ_WEB 172.16.0.20/32;
                address PLC 10.20.0.5/32;
                address OT_NET 10.20.0.0/24;
            }
        }
        nat {
            static {
                rule-set publish {
                    from zone untrust;
                    rule dmz-web {
                        match {
                            destination-address 203.0.113.20/32;
                        }
                        then {
                            static-nat {
                                prefix {
                                    172.16.0.20/32;
                                }
                            }
                        }
                    }
                }
            }
            destination {
                pool plc-modbus {
                    address 10.20.0.5/32 port 502;
                }
                rule-set from-untrust {
                    from zone untrust;
                    rule modbus {
                        match {
                            destination-address 203.0.113.10/32;
                            destination-port {
                                8502;
                            }
                        }
                        then {
                            destination-nat {
                                pool {
                                    plc-modbus;
                                }
                            }
                        }
                    }
                }
            }
            source {
                rule-set ot-out {
                    from zone ot;
                    to zone untrust;
                    rule ot-hide {
                        match {
                            source-address 10.20.0.0/24;
                        }
                        then {
                            source-nat {
                                interface;
                            }
                        }
                    }
                }
            }
        }
        policies {
            from-zone untrust to-zone dmz {
                policy publish-web {
                    match {
                        source-address any;
                        destination-address DMZ_WEB;
                        application junos-https;
                    }
                    then {
                        permit;
                    }
                }
            }
            from-zone untrust to-zone ot {
                policy vendor-modbus {
                    match {
                        source-address any;
                        destination-address PLC;
                        application MODBUS;
                    }
                    then {
                        permit;
                    }
                }
            }
            from-zone ot to-zone untrust {
                policy ot-web {
                    match {
                        source-address OT_NET;
                        destination-address any;
                        application junos-https;
                    }
                    then {
                        permit;
                    }
                }
            }
        }
        zones {
            security-zone untrust {
                interfaces {
                    ge-0/0/0.0;
                }
            }
            security-zone dmz {
                interfaces {
                    ge-0/0/1.0;
                }
            }
            security-zone ot {
                interfaces {
                    ge-0/0/2.0;
                }
            }
        }
    }
    applications {
        application MODBUS {
            protocol tcp;
            destination-port 502;
        }
    }
    """
EDGE_ZONES = "{untrust: internet, dmz: dmz, ot: control}"
# The NAT rules' lines: dmz-web 36, modbus 56, ot-hide 77.
STATIC_LINE, FORWARD_LINE, HIDE_LINE = 36, 56, 77

OUTER = """
    interfaces {
        ge-0/0/0 {
            unit 0 {
                family inet {
                    address 10.0.0.1/16;
                }
            }
        }
        ge-0/0/1 {
            unit 0 {
                family inet {
                    address 172.16.0.1/24;
                }
            }
        }
    }
    security {
        address-book {
            global {
                address CORP_NET 10.0.0.0/16;
            }
        }
        nat {
            source {
                rule-set corp-out {
                    from zone corp;
                    to zone dmz;
                    rule corp-hide {
                        match {
                            source-address 10.0.0.0/16;
                        }
                        then {
                            source-nat {
                                interface;
                            }
                        }
                    }
                }
            }
        }
        policies {
            from-zone corp to-zone dmz {
                policy corp-modbus {
                    match {
                        source-address CORP_NET;
                        destination-address any;
                        application MODBUS;
                    }
                    then {
                        permit;
                    }
                }
            }
        }
        zones {
            security-zone corp {
                interfaces {
                    ge-0/0/0.0;
                }
            }
            security-zone dmz {
                interfaces {
                    ge-0/0/1.0;
                }
            }
        }
    }
    applications {
        application MODBUS {
            protocol tcp;
            destination-port 502;
        }
    }
    routing-options {
        static {
            route 10.20.0.0/24 next-hop 172.16.0.2;
        }
    }
    """
OUTER_ZONES = "{corp: corp, dmz: dmz}"
OUTER_NAT_LINE = 28


def edge(tmp_path: Path, *registered: str) -> Path:
    return s.edge_site(tmp_path / "site", "srx", "edge.conf", EDGE, EDGE_ZONES, registered)


def test_dmz_server_published_by_static_nat_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.20:443 from untrust: static NAT dmz-web (line 36) maps it to
    172.16.0.20 before the policy; publish-web (untrust -> dmz, DMZ_WEB, junos-https) permits.
    PERMIT, delivered to 172.16.0.20:443."""
    answer = s.fw_test(edge(tmp_path) / "edge.conf", "srx", s.INTERNET_HOST, s.DMZ_PUBLIC, 443, "untrust", "dmz")
    s.assert_publish_by_fw_test(answer, (s.DMZ_PUBLIC, 443), (s.DMZ_SERVER, 443), STATIC_LINE)


def test_dmz_server_published_by_static_nat_check(tmp_path: Path) -> None:
    """By hand: with no conduit, internet -> dmz permits tcp/443 to 172.16.0.20 (sent to 203.0.113.20):
    one PG-FW-001 citing line 36; with the dmz-web conduit registered, none."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "dmz", (s.DMZ_SERVER, 443),
                      (s.DMZ_PUBLIC, 443), "edge.conf", STATIC_LINE)
    assert s.between(s.findings(edge(tmp_path / "b", "dmz-web")), "PG-FW-001", "internet", "dmz") == []


def test_port_forward_to_an_ot_host_fw_test(tmp_path: Path) -> None:
    """By hand: 198.51.100.7 -> 203.0.113.10:8502 from untrust: destination NAT modbus (line 56, pool
    10.20.0.5 port 502) rewrites it; vendor-modbus (untrust -> ot, PLC, tcp/502) permits.
    PERMIT, to 10.20.0.5:502."""
    answer = s.fw_test(edge(tmp_path) / "edge.conf", "srx", s.INTERNET_HOST, s.PLC_PUBLIC, 8502, "untrust", "ot")
    s.assert_publish_by_fw_test(answer, (s.PLC_PUBLIC, 8502), (s.PLC, 502), FORWARD_LINE)


def test_port_forward_to_an_ot_host_check(tmp_path: Path) -> None:
    """By hand: unregistered, internet -> control permits tcp/502 to 10.20.0.5 (sent to 203.0.113.10:8502):
    one PG-FW-001 about 10.20.0.5 citing line 56; with vendor-modbus registered, no PG-FW-001 there."""
    s.assert_exposure(s.findings(edge(tmp_path / "a")), "internet", "control", (s.PLC, 502),
                      (s.PLC_PUBLIC, 8502), "edge.conf", FORWARD_LINE)
    registered = s.findings(edge(tmp_path / "b", "vendor-modbus"))
    assert s.between(registered, "PG-FW-001", "internet", "control") == []
    assert s.between(registered, "PG-PURDUE-002", "internet", "control")


def test_hide_nat_of_the_ot_range_fw_test(tmp_path: Path) -> None:
    """By hand: 10.20.0.7 -> 198.51.100.7:443 from ot to untrust: ot-web permits; source NAT ot-hide
    (line 77, ``source-nat interface``) rewrites the source to ge-0/0/0's 203.0.113.1. PERMIT."""
    answer = s.fw_test(edge(tmp_path) / "edge.conf", "srx", "10.20.0.7", s.INTERNET_HOST, 443, "ot", "untrust")
    s.assert_hide_by_fw_test(answer, "10.20.0.7", s.OUTSIDE, HIDE_LINE)


def test_hide_nat_of_the_ot_range_check(tmp_path: Path) -> None:
    """By hand: control (level 2) -> internet (level 5) on tcp/443 is OT to IT: PG-PURDUE-002 and, with no
    conduit, PG-FW-001, both naming a real 10.20.0.x source (as sent), not 203.0.113.1."""
    found = s.findings(edge(tmp_path))
    s.assert_hidden_flow_reported(found, "PG-PURDUE-002")
    s.assert_hidden_flow_reported(found, "PG-FW-001")


def test_hide_nat_of_the_ot_range_check_shows_the_translation(tmp_path: Path) -> None:
    """By hand: both findings show the packet as sent (source 10.20.0.x) and ot-hide's line 77."""
    found = s.findings(edge(tmp_path))
    for rule_id in ("PG-PURDUE-002", "PG-FW-001"):
        s.assert_hiding_shown(s.assert_hidden_flow_reported(found, rule_id), "edge.conf", HIDE_LINE)


def test_two_hops_exist_only_through_a_route_and_hide_nat(tmp_path: Path) -> None:
    """By hand: fw-outer (SRX) permits corp -> dmz tcp/502 to any and source-NATs corp to ge-0/0/1's
    172.16.0.1 (corp-hide, line 28); fw-inner admits only DMZ sources to 10.20.0.5:502. reach corp ->
    control: one path with the source rewritten at fw-outer; without the nat stanza, none.
    fw-outer's static route sends 10.20.0.0/24 to 172.16.0.2, on ge-0/0/1's network; without that
    route no path remains.
    PG-ESTATE-001 reports the bypass."""
    folder = s.series_site(tmp_path / "site", "srx", "outer.conf", OUTER, OUTER_ZONES)
    found = s.reach_result(folder)
    s.assert_two_hop_path(found.paths, OUTER_NAT_LINE)
    no_route = OUTER[:OUTER.index("    routing-options {")]
    assert no_route != OUTER
    s.assert_route_needed(tmp_path, "srx", "outer.conf", no_route, OUTER_ZONES, found)
    s.assert_estate_bypass(s.findings(folder), "outer.conf", OUTER_NAT_LINE)
    start, end = OUTER.index("    nat {"), OUTER.index("    policies {")
    no_nat = OUTER[:start] + OUTER[end:]
    assert s.reach(s.series_site(tmp_path / "control", "srx", "outer.conf", no_nat, OUTER_ZONES)) == []
