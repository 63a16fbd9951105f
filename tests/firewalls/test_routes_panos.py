"""PAN-OS layer-3 interfaces, zones' interface members and virtual-router static routes (XML and set forms).

Configs written from the PAN-OS XML schema and CLI (``network interface ethernet NAME layer3 ip``, ``units``,
``zone Z network layer3``, ``network virtual-router VR routing-table ip static-route R destination/nexthop
ip-address/interface/admin-dist``; next-hop types ip-address, next-vr, fqdn, discard).
"""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.base import read_config_text
from plantgate.firewalls.panos.parser import PARSER
from plantgate.firewalls.panos.set_syntax import parse_set_tree
from plantgate.firewalls.routes import route_lookup
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
