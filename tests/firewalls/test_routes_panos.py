"""PAN-OS layer-3 interfaces, zones' interface members and virtual-router static routes (XML and set forms).

Configs written from the PAN-OS XML schema and CLI (``network interface ethernet NAME layer3 ip``, ``units``,
``zone Z network layer3``, ``network virtual-router VR routing-table ip static-route R destination/nexthop
ip-address/interface/admin-dist``; next-hop types ip-address, next-vr, fqdn, discard).
"""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.base import read_config_text
from plantgate.firewalls.panos.gaps import routing_gaps
from plantgate.firewalls.panos.parser import PARSER, PanosParser
from plantgate.firewalls.panos.set_syntax import parse_set_tree
from plantgate.firewalls.panos.xml_syntax import parse_xml_tree
from plantgate.firewalls.routes import route_lookup
from plantgate.firewalls.ruleset import SourceSpan
from tests.conftest import shared_path

XML = """\
<config version="10.1.0">
  <devices>
    <entry name="localhost.localdomain">
      <network>
        <interface>
          <ethernet>
            <entry name="ethernet1/1">
              <layer3>
                <ip>
                  <entry name="203.0.113.2/29"/>
                </ip>
              </layer3>
            </entry>
            <entry name="ethernet1/2">
              <layer3>
                <ip>
                  <entry name="10.10.0.1/24"/>
                </ip>
                <units>
                  <entry name="ethernet1/2.20">
                    <ip>
                      <entry name="plc-gw"/>
                    </ip>
                    <tag>20</tag>
                  </entry>
                </units>
              </layer3>
            </entry>
          </ethernet>
        </interface>
        <virtual-router>
          <entry name="default">
            <interface>
              <member>ethernet1/1</member>
              <member>ethernet1/2</member>
            </interface>
            <routing-table>
              <ip>
                <static-route>
                  <entry name="default-route">
                    <nexthop>
                      <ip-address>203.0.113.1</ip-address>
                    </nexthop>
                    <interface>ethernet1/1</interface>
                    <destination>0.0.0.0/0</destination>
                    <metric>10</metric>
                  </entry>
                </static-route>
              </ip>
            </routing-table>
          </entry>
          <entry name="ot-vr">
            <interface>
              <member>ethernet1/2.20</member>
            </interface>
            <routing-table>
              <ip>
                <static-route>
                  <entry name="to-cells">
                    <nexthop>
                      <ip-address>10.20.0.254</ip-address>
                    </nexthop>
                    <destination>10.30.0.0/16</destination>
                    <admin-dist>15</admin-dist>
                  </entry>
                  <entry name="by-fqdn">
                    <nexthop>
                      <fqdn>gw.example.net</fqdn>
                    </nexthop>
                    <destination>10.31.0.0/16</destination>
                  </entry>
                </static-route>
              </ip>
            </routing-table>
          </entry>
        </virtual-router>
      </network>
      <vsys>
        <entry name="vsys1">
          <zone>
            <entry name="untrust">
              <network>
                <layer3>
                  <member>ethernet1/1</member>
                </layer3>
              </network>
            </entry>
            <entry name="trust">
              <network>
                <layer3>
                  <member>ethernet1/2</member>
                </layer3>
              </network>
            </entry>
            <entry name="ot">
              <network>
                <layer3>
                  <member>ethernet1/2.20</member>
                </layer3>
              </network>
            </entry>
          </zone>
          <address>
            <entry name="plc-gw">
              <ip-netmask>10.20.0.1/24</ip-netmask>
            </entry>
          </address>
          <rulebase>
            <security>
              <rules>
                <entry name="trust-to-ot">
                  <from><member>trust</member></from>
                  <to><member>ot</member></to>
                  <source><member>any</member></source>
                  <destination><member>any</member></destination>
                  <application><member>any</member></application>
                  <service><member>any</member></service>
                  <action>allow</action>
                </entry>
              </rules>
            </security>
          </rulebase>
        </entry>
      </vsys>
    </entry>
  </devices>
</config>
"""

SET = """\
set network interface ethernet ethernet1/1 layer3 ip 203.0.113.2/29
set network interface ethernet ethernet1/2 layer3 ip 10.10.0.1/24
set network interface ethernet ethernet1/2 layer3 units ethernet1/2.20 ip 10.20.0.1/24
set network interface ethernet ethernet1/2 layer3 units ethernet1/2.20 tag 20
set network virtual-router default interface [ ethernet1/1 ethernet1/2 ethernet1/2.20 ]
set network virtual-router default routing-table ip static-route default-route destination 0.0.0.0/0
set network virtual-router default routing-table ip static-route default-route nexthop ip-address 203.0.113.1
set network virtual-router default routing-table ip static-route default-route interface ethernet1/1
set network virtual-router default routing-table ip static-route to-cells destination 10.30.0.0/16
set network virtual-router default routing-table ip static-route to-cells nexthop ip-address 10.20.0.254
set network virtual-router default routing-table ip static-route to-cells admin-dist 15
set zone untrust network layer3 ethernet1/1
set zone trust network layer3 [ ethernet1/2 ]
set zone ot network layer3 ethernet1/2.20
set rulebase security rules trust-to-ot from trust
set rulebase security rules trust-to-ot to ot
set rulebase security rules trust-to-ot action allow
"""


def test_xml_interfaces_units_zones_and_virtual_routers() -> None:
    """By hand: ethernet1/1 in untrust (VR default), ethernet1/2 in trust (VR default), unit ethernet1/2.20 in ot
    (VR ot-vr) whose address is the address object plc-gw = 10.20.0.1/24."""
    rs = PARSER.parse(XML, "pa.xml")
    by_name = {i.name: i for i in rs.interfaces}
    assert {n: (i.zone, i.vrf) for n, i in by_name.items()} == {
        "ethernet1/1": ("untrust", "default"), "ethernet1/2": ("trust", "default"), "ethernet1/2.20": ("ot", "ot-vr")}
    assert by_name["ethernet1/2.20"].addresses == (ipaddress.ip_interface("10.20.0.1/24"),)
    assert by_name["ethernet1/1"].span.line == 8


def test_xml_static_routes_per_virtual_router() -> None:
    """By hand: the default route in VR default (out ethernet1/1), to-cells in ot-vr with admin-dist 15; by-fqdn
    has an FQDN next hop, which is not resolved: a warning with its line (68), no route."""
    rs = PARSER.parse(XML, "pa.xml")
    assert [(str(r.destination), r.vrf, r.distance) for r in rs.routes] == [
        ("0.0.0.0/0", "default", None), ("10.30.0.0/16", "ot-vr", 15)]
    assert rs.routes[0].interface == "ethernet1/1" and rs.routes[1].interface is None
    assert any(w.line == 68 and "fqdn" in w.message for w in rs.warnings)
    hit = route_lookup(rs, "10.30.9.9", "ot-vr")
    assert hit is not None and hit.zone == "ot" and hit.interface is not None and hit.interface.name == "ethernet1/2.20"
    assert route_lookup(rs, "10.30.9.9", "default").zone == "untrust"  # type: ignore[union-attr]


def test_set_form_reads_the_same_facts() -> None:
    """By hand: the set form of the same firewall (one virtual router) gives the same three interfaces and zones,
    and both routes; the OT route's next hop 10.20.0.254 lies behind unit ethernet1/2.20 (zone ot)."""
    rs = PARSER.parse(SET, "pa.set")
    assert {i.name: i.zone for i in rs.interfaces} == {"ethernet1/1": "untrust", "ethernet1/2": "trust",
                                                       "ethernet1/2.20": "ot"}
    assert [str(r.destination) for r in rs.routes] == ["0.0.0.0/0", "10.30.0.0/16"]
    assert rs.routes[1].span.line == 9 and rs.routes[1].span.end_line == 11
    hit = route_lookup(rs, "10.30.9.9")
    assert hit is not None and hit.zone == "ot"


def test_corpus_brace_form_units_read() -> None:
    """Batfish's destination-nat (brace form): three units with /24 addresses in zones INSIDE and OUTSIDE, VR vr1."""
    path = shared_path("firewall-configs", "paloalto-panos", "batfish__destination-nat.set")
    rs = PARSER.parse(read_config_text(path), str(path))
    assert {i.name: i.zone for i in rs.interfaces} == {"ethernet1/1.1": "INSIDE", "ethernet1/1.2": "INSIDE",
                                                       "ethernet1/2.1": "OUTSIDE"}
    assert {i.vrf for i in rs.interfaces} == {"vr1"}


BRACE = """\
config {
  devices {
    localhost.localdomain {
      network {
        interface {
          ethernet {
            ethernet1/1 {
              layer3 {
                ip {
                  10.1.0.1/24;
                }
              }
            }
          }
        }
      }
      vsys {
        vsys1 {
          zone {
            inside {
              network {
                layer3 [ ethernet1/1 ];
              }
            }
          }
        }
      }
    }
  }
}
"""


def test_brace_form_spans_name_the_statement_lines() -> None:
    """By hand: in the brace form ethernet1/1's layer-3 block is on line 8, not on the ``config {`` line that
    starts every path."""
    rs = PARSER.parse(BRACE, "pa.conf")
    [interface] = rs.interfaces
    assert (interface.name, interface.zone, interface.span.line) == ("ethernet1/1", "inside", 8)


def test_set_form_bare_interface_mode_is_an_element() -> None:
    """``set network interface ethernet E layer2`` names E's mode, as ``<entry name="E"><layer2/>`` in XML; a
    bare ``layer3`` followed by its address reads the address."""
    root, unknown = parse_set_tree("set network interface ethernet ethernet1/1 layer2\n"
                                   "set network interface ethernet ethernet1/2 layer3\n"
                                   "set network interface ethernet ethernet1/2 layer3 ip 10.2.0.1/24\n", "pa.set")
    ethernet = root.path("devices", "entry=localhost.localdomain", "network", "interface", "ethernet")
    assert not unknown and ethernet is not None
    layer2 = ethernet.path("entry=ethernet1/1", "layer2")
    assert layer2 is not None and layer2.line == 1 and not layer2.values
    ip = ethernet.path("entry=ethernet1/2", "layer3", "ip")
    assert ip is not None and ip.values == ["10.2.0.1/24"]


# -- routing gaps ----------------------------------------------------------------------------------------------
# Configs written from the PAN-OS XML schema and CLI (virtual-router protocol bgp/ospf/ospfv3/rip and multicast
# with enable, static-route nexthop next-vr / route-table / path-monitor / bfd profile, rulebase pbf and sdwan
# rules, layer2 and virtual-wire interfaces and zones, dhcp-client, pppoe, ipv6 dhcp-client and inherited,
# global-protect-gateway, LSVPN global-protect-satellite tunnels).

def gaps(text: str, parser: PanosParser = PARSER) -> dict[int, str]:
    """Routing gaps by line (one per line in these configs)."""
    found = parser.parse(text, "pa.cfg").routing_gaps
    assert len({g.span.line for g in found}) == len(found), found
    return {g.span.line: g.reason for g in found}


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


DYNAMIC_XML = """\
<config version="10.1.0">
  <devices>
    <entry name="localhost.localdomain">
      <network>
        <virtual-router>
          <entry name="default">
            <protocol>
              <bgp>
                <enable>no</enable>
                <dampening-profile>
                  <entry name="default">
                    <cutoff>1.25</cutoff>
                    <enable>yes</enable>
                  </entry>
                </dampening-profile>
              </bgp>
              <ospf>
                <enable>yes</enable>
                <router-id>10.0.0.1</router-id>
              </ospf>
              <rip>
                <enable>no</enable>
              </rip>
              <redist-profile>
                <entry name="statics"/>
              </redist-profile>
            </protocol>
            <multicast>
              <enable>yes</enable>
            </multicast>
          </entry>
          <entry name="ot-vr">
            <protocol>
              <ospfv3>
                <enable>yes</enable>
              </ospfv3>
            </protocol>
          </entry>
        </virtual-router>
      </network>
      <vsys>
        <entry name="vsys1">
          <zone>
            <entry name="trust"/>
          </zone>
        </entry>
      </vsys>
    </entry>
  </devices>
</config>
"""


def test_enabled_routing_protocols_are_gaps_and_unused_blocks_are_not() -> None:
    """By hand: OSPF's ``enable yes`` (18), multicast's (29) and OSPFv3's in ot-vr (35); BGP is the full export's
    unused block (``enable no`` with the default dampening profile, as iron-skillet prints it), RIP is off and a
    redistribution profile learns nothing."""
    found = gaps(DYNAMIC_XML)
    assert sorted(found) == [18, 29, 35]
    assert found[18].startswith("OSPF is enabled in virtual router default: routes it learns at run time")
    assert "multicast" in found[29] and "OSPFv3" in found[35] and "ot-vr" in found[35]


STATIC_SPECIALS = """\
set network interface ethernet ethernet1/1 layer3 ip 203.0.113.2/29
set network virtual-router default interface ethernet1/1
set network virtual-router default routing-table ip static-route primary destination 0.0.0.0/0
set network virtual-router default routing-table ip static-route primary nexthop ip-address 203.0.113.1
set network virtual-router default routing-table ip static-route primary path-monitor enable yes
set network virtual-router default routing-table ip static-route primary bfd profile None
set network virtual-router default routing-table ip static-route to-vr2 destination 10.20.0.0/16
set network virtual-router default routing-table ip static-route to-vr2 nexthop next-vr vr2
set network virtual-router default routing-table ip static-route mcast destination 10.30.0.0/16
set network virtual-router default routing-table ip static-route mcast nexthop ip-address 203.0.113.1
set network virtual-router default routing-table ip static-route mcast route-table no-install
set network virtual-router default routing-table ip static-route fast destination 10.40.0.0/16
set network virtual-router default routing-table ip static-route fast nexthop ip-address 203.0.113.3
set network virtual-router default routing-table ip static-route fast bfd profile default
set network virtual-router default routing-table ip static-route named destination web-servers
set network virtual-router default routing-table ip static-route named nexthop ip-address 203.0.113.1
set network logical-router lr1 vrf default interface ethernet1/2
set zone untrust network layer3 ethernet1/1
set deviceconfig setting advance-routing yes
"""


def test_set_form_bare_protocol_is_a_gap() -> None:
    """By hand: ``protocol rip`` written with nothing below it (line 2) is configured, and enabled by default."""
    text = ("set network interface ethernet ethernet1/1 layer3 ip 10.1.0.1/24\n"
            "set network virtual-router default protocol rip\n"
            "set zone trust network layer3 ethernet1/1\n")
    assert gaps(text)[2].startswith("RIP is configured in virtual router default")


def test_static_routes_decided_elsewhere_or_at_run_time_are_gaps() -> None:
    """By hand: path monitoring (5), the next-vr hop (8), a route not installed for unicast (11), a BFD profile
    (14; ``None`` on line 6 is no profile), a destination that is an address object, left out with a warning
    (15), and the Advanced Routing Engine's logical router, not read (17), with the engine itself (19)."""
    rs = PARSER.parse(STATIC_SPECIALS, "pa.set")
    found = {g.span.line: g.reason for g in rs.routing_gaps}
    assert sorted(found) == [5, 8, 11, 14, 15, 17, 19]
    assert "Advanced Routing Engine is enabled" in found[19]
    assert "path-monitored" in found[5] and "another virtual router" in found[8]
    assert "no-install" in found[11] and "BFD profile default" in found[14]
    assert "web-servers" in found[15] and any(w.line == 15 for w in rs.warnings)
    assert "logical-router" in found[17] and any(w.line == 17 for w in rs.warnings)


def test_xml_left_out_route_is_a_gap() -> None:
    """By hand: the XML firewall's by-fqdn route (FQDN next hop, line 68) is left out with a warning and is the
    one gap; the set firewall states interfaces, zones and static routes only: no gap."""
    [gap] = PARSER.parse(XML, "pa.xml").routing_gaps
    assert gap.span.line == 68 and "FQDN" in gap.reason and gap.span.text.strip() == "<fqdn>gw.example.net</fqdn>"
    assert PARSER.parse(SET, "pa.set").routing_gaps == []


FORWARDING = """\
set network interface ethernet ethernet1/1 layer3 ip 203.0.113.2/29
set zone trust network layer3 ethernet1/2
set rulebase pbf rules via-isp2 from zone trust
set rulebase pbf rules via-isp2 action forward egress-interface ethernet1/3
set rulebase pbf rules via-isp2 action forward nexthop ip-address 198.51.100.1
set rulebase pbf rules to-vsys2 action forward-to-vsys vsys2
set rulebase pbf rules drop-it action discard
set rulebase pbf rules routed action no-pbf
set rulebase pbf rules old action forward egress-interface ethernet1/4
set rulebase pbf rules old disabled yes
set rulebase sdwan rules voice from trust
set network interface ethernet ethernet1/5 layer3 sdwan-link-settings enable yes
set network interface ethernet ethernet1/5 layer3 ip 198.51.100.2/30
"""


def test_policy_based_forwarding_and_sdwan_are_gaps() -> None:
    """By hand: PBF rules that forward (4) or forward to a vsys (6); discard, no-pbf and the disabled rule are not
    gaps; the SD-WAN rule (11) and the SD-WAN link (12) are."""
    found = gaps(FORWARDING)
    assert sorted(found) == [4, 6, 11, 12]
    assert "policy-based forwarding rule via-isp2 (forward)" in found[4] and "forward-to-vsys" in found[6]
    assert "SD-WAN rule voice" in found[11] and "ethernet1/5 is an SD-WAN link" in found[12]


LAYER_TWO = """\
set network interface ethernet ethernet1/1 layer2
set network interface ethernet ethernet1/3 virtual-wire
set network interface ethernet ethernet1/4 virtual-wire
set network interface ethernet ethernet1/5 tap
set network virtual-wire vw1 interface1 ethernet1/3
set network virtual-wire vw1 interface2 ethernet1/4
set zone l2 network layer2 ethernet1/1
set zone wire network virtual-wire [ ethernet1/3 ethernet1/4 ]
set zone sniff network tap ethernet1/5
set zone gtp network tunnel
set zone other-vsys network external vsys2
"""


def test_layer2_interfaces_virtual_wires_and_zones_are_gaps() -> None:
    """By hand: the layer2 and virtual-wire interfaces (1-3), the virtual wire vw1 (5), and the layer2,
    virtual-wire, tunnel and external zones (7, 8, 10, 11); tap mode only watches a copy: no gap."""
    found = gaps(LAYER_TWO)
    assert sorted(found) == [1, 2, 3, 5, 7, 8, 10, 11]
    assert "ethernet1/1 is a layer2 interface" in found[1] and "virtual wire vw1" in found[5]
    assert "zone wire (virtual-wire)" in found[8] and "another virtual system" in found[11]


RUN_TIME = """\
set network interface ethernet ethernet1/1 layer3 dhcp-client create-default-route yes
set network interface ethernet ethernet1/2 layer3 dhcp-client enable no
set network interface ethernet ethernet1/2 layer3 ip 10.2.0.1/24
set network interface ethernet ethernet1/3 layer3 pppoe enable yes
set network interface ethernet ethernet1/4 layer3 units ethernet1/4.10 dhcp-client
set network interface ethernet ethernet1/6 layer3 ipv6 enabled yes
set network interface ethernet ethernet1/6 layer3 ipv6 dhcp-client enable yes
set network interface ethernet ethernet1/7 layer3 ipv6 address 2001:db8:7::1/64
set network interface ethernet ethernet1/8 layer3 ip 10.8.0.1/24
set network interface ethernet ethernet1/8 link-state down
set global-protect global-protect-gateway gp-gw tunnel-interface tunnel.1
set network tunnel ipsec to-hub global-protect-satellite portal-address 203.0.113.50
set zone untrust network layer3 ethernet1/1
"""


def test_addresses_and_routes_learned_at_run_time_are_gaps() -> None:
    """By hand: DHCP (1), PPPoE (4), DHCP on a unit (5), DHCPv6 (7), IPv6 addresses while IPv6 is not enabled
    (8), a layer-3 interface that is link-state down (10), a GlobalProtect gateway (11) and an LSVPN satellite
    tunnel (12); DHCP with ``enable no`` (2) is not a gap."""
    found = gaps(RUN_TIME)
    assert sorted(found) == [1, 4, 5, 7, 8, 10, 11, 12]
    assert "ethernet1/1 takes its address" in found[1] and "DHCP" in found[1] and "PPPoE" in found[4]
    assert "ethernet1/4.10" in found[5] and "DHCPv6" in found[7] and "IPv6 is not enabled" in found[8]
    assert "link-state down" in found[10] and "GlobalProtect gateway gp-gw" in found[11]
    assert "LSVPN satellite" in found[12]


CORPUS_TARGETS = {"batfish__device-group-inheritance.set": PanosParser(device_group="DG_CHILD"),
                  "batfish__move-rulebase-security.set": PanosParser(vsys="MY_VSYS")}
CORPUS_NOT_READ = {  # aerleon fragments: several XML documents in one file; iron-skillet: no rule or zone
    "aerleon__PaloAltoFWTest.testAddrObj.stdout.ref", "aerleon__PaloAltoFWTest.testLogging.stdout.ref",
    "aerleon__PaloAltoFWTest.testPanApplication.stdout.ref", "aerleon__PaloAltoFWTest.testPanPorts.stdout.ref",
    "ironskillet__panos_full_mgmt_static.xml", "ironskillet__panorama_full_mgmt_static.xml",
}
CORPUS_GAPS = {
    "batfish-parsing__zones.cfg": {14: "ethernet1/1 is a layer2 interface", 23: "ethernet1/4 is a virtual-wire",
                                   38: "zone zext (external)", 43: "zone zl2 (layer2)",
                                   58: "zone zvirtual-wire (virtual-wire)"},
}


def test_corpus_gaps() -> None:
    """Every PAN-OS config of the corpus PlantGate reads; inspected by hand: Batfish's zones parsing test (brace
    form) has a layer2 and a virtual-wire interface and layer2, virtual-wire and external zones (its tap
    interface and zone are no gap). The other Batfish and aerleon configs hold layer-3 interfaces, virtual-router
    membership and rules only: no gap."""
    directory = shared_path("firewall-configs", "paloalto-panos")
    for path in sorted(directory.iterdir()):
        if path.name in CORPUS_NOT_READ:
            continue
        rs = CORPUS_TARGETS.get(path.name, PARSER).parse(read_config_text(path), str(path))
        found = {g.span.line: g.reason for g in rs.routing_gaps}
        expected = CORPUS_GAPS.get(path.name, {})
        assert sorted(found) == sorted(expected), path.name
        assert all(expected[line] in found[line] for line in expected), path.name


def test_corpus_full_export_unused_bgp_block_is_no_gap() -> None:
    """iron-skillet's full firewall export has no rule or zone (so no Ruleset), but its virtual router ``default``
    prints the unused BGP block (``enable no`` and the default dampening profile, lines 561-573): no gap."""
    path = shared_path("firewall-configs", "paloalto-panos", "ironskillet__panos_full_mgmt_static.xml")
    root = parse_xml_tree(read_config_text(path), str(path))
    bgp = root.path("devices", "entry=localhost.localdomain", "network", "virtual-router", "entry=default",
                    "protocol", "bgp")
    assert bgp is not None and (bgp.line, bgp.end_line, bgp.text("enable")) == (561, 573, "no")
    assert routing_gaps(root.entries("devices"), [], [], lambda n: SourceSpan(str(path), n.line, n.line, "")) == []


def test_panorama_template_stack_network_is_read() -> None:
    """By hand: a template stack's own config enables OSPF (line 4) and gives ethernet1/1 its address: both are
    read with the templates' (the device group's zone comes from template T1)."""
    text = ("set template T1 config devices localhost.localdomain vsys vsys1 zone Z1 network layer3 ethernet1/1\n"
            "set template-stack TS templates T1\n"
            "set template-stack TS config devices localhost.localdomain network interface ethernet ethernet1/1 "
            "layer3 ip 10.1.0.1/24\n"
            "set template-stack TS config devices localhost.localdomain network virtual-router default protocol "
            "ospf enable yes\n"
            "set device-group DG pre-rulebase security rules r1 from Z1\n")
    rs = PARSER.parse(text, "panorama.set")
    assert [(i.name, i.zone) for i in rs.interfaces] == [("ethernet1/1", "Z1")]
    assert list(gaps(text)) == [4]
