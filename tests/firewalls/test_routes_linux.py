"""Linux firewalls: the rulesets hold no addresses or routes; the host's iproute2 output (``routing:``) does.

The captures are written from ip-address(8), ip-route(8), ip-rule(8) and the print functions of iproute2
(``ipaddress.c`` print_addrinfo, ``iproute.c`` print_route, ``iprule.c``): a link header, indented address
lines with their lifetimes, ``proto kernel scope link`` routes for connected networks, table local entries
from ``ip route show table all``, a multipath route's tab-indented ``nexthop`` lines, ``PRIORITY:<tab>`` rules.
"""

from __future__ import annotations

import ipaddress

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.linux.ip_routes import attach_routing, read_ip_routing
from plantgate.firewalls.linux.iptables import PARSER as IPTABLES
from plantgate.firewalls.linux.nftables import PARSER as NFTABLES
from plantgate.firewalls.routes import route_lookup
from plantgate.firewalls.ruleset import Ruleset

IPTABLES_SAVE = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i eth1 -o eth2 -s 10.20.0.0/24 -d 10.1.0.0/24 -p tcp --dport 502 -j ACCEPT
COMMIT
"""

NFT = """\
table inet filter {
    chain forward {
        type filter hook forward priority 0; policy drop;
        iifname "eth1" oifname "eth2" ip saddr 10.20.0.0/24 tcp dport 502 accept
    }
}
"""

CAPTURE = """\
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host noprefixroute
       valid_lft forever preferred_lft forever
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:4a:10:01 brd ff:ff:ff:ff:ff:ff
    altname enp1s0
    inet 10.10.0.1/24 brd 10.10.0.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet 10.10.0.9/24 brd 10.10.0.255 scope global secondary eth0:1
       valid_lft forever preferred_lft forever
    inet6 2001:db8:10::1/64 scope global
       valid_lft forever preferred_lft forever
    inet6 fe80::5054:ff:fe4a:1001/64 scope link
       valid_lft forever preferred_lft forever
3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:4a:10:02 brd ff:ff:ff:ff:ff:ff
    inet 10.20.0.1/24 brd 10.20.0.255 scope global eth1
       valid_lft forever preferred_lft forever
4: eth2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel state DOWN group default qlen 1000
    link/ether 52:54:00:4a:10:03 brd ff:ff:ff:ff:ff:ff
    inet 192.168.99.1/24 brd 192.168.99.255 scope global eth2
       valid_lft forever preferred_lft forever
5: eth3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:4a:10:04 brd ff:ff:ff:ff:ff:ff
    inet 203.0.113.10/28 brd 203.0.113.15 scope global dynamic eth3
       valid_lft 85321sec preferred_lft 85321sec
default via 203.0.113.1 dev eth3 proto dhcp src 203.0.113.10 metric 100
10.10.0.0/24 dev eth0 proto kernel scope link src 10.10.0.1
10.20.0.0/24 dev eth1 proto kernel scope link src 10.20.0.1
10.30.0.0/16 via 10.20.0.254 dev eth1 proto static metric 20
10.40.0.0/16 proto bgp metric 20
\tnexthop via 10.20.0.253 dev eth1 weight 1
\tnexthop via 10.10.0.253 dev eth0 weight 1
blackhole 10.99.0.0/16 proto static
192.168.99.0/24 dev eth2 proto kernel scope link src 192.168.99.1 linkdown
203.0.113.0/28 dev eth3 proto kernel scope link src 203.0.113.10 metric 100
broadcast 10.10.0.255 dev eth0 table local proto kernel scope link src 10.10.0.1
local 10.10.0.1 dev eth0 table local proto kernel scope host src 10.10.0.1
local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1
2001:db8:10::/64 dev eth0 proto kernel metric 256 pref medium
fe80::/64 dev eth0 proto kernel metric 256 pref medium
default via 2001:db8:10::fffe dev eth0 metric 1024 pref medium
local ::1 dev lo table local proto kernel metric 0 pref medium
multicast ff00::/8 dev eth0 table local proto kernel metric 256 pref medium
0:\tfrom all lookup local
100:\tfrom 10.20.0.0/24 lookup 100
32766:\tfrom all lookup main
32767:\tfrom all lookup default
Kernel IP routing table
"""
"""Line numbers used below: eth0's header 7, eth2's header 22, eth3's dynamic address 28, the DHCP default
route 30, the BGP multipath route 34-36, the blackhole 37, the IPv6 default 45, rule 100 at 49, the stray
``route -n`` heading at 52."""


def test_linux_rulesets_have_no_layer3_facts() -> None:
    """By hand: interface names (eth1, eth2) appear as zones, but no address or route is in either file, so
    both lists are empty (the zone map must come from the treaty or a routing file)."""
    for parser, text in ((IPTABLES, IPTABLES_SAVE), (NFTABLES, NFT)):
        rs = parser.parse(text, "fw.rules")
        assert {"eth1", "eth2"} <= set(rs.zones)
        assert rs.interfaces == [] and rs.routes == []


def test_addresses_give_the_interfaces() -> None:
    """By hand: lo has only loopback addresses and is left out; eth0 keeps its secondary address and its global
    IPv6 address (the link-local one is skipped), its evidence runs from its header (7) to its last address (14);
    eth2 is down but keeps its address (the gap says so); each interface's zone is its own name."""
    facts = read_ip_routing(CAPTURE, "fw1.routing")
    by_name = {i.name: i for i in facts.interfaces}
    assert list(by_name) == ["eth0", "eth1", "eth2", "eth3"]
    assert [str(a) for a in by_name["eth0"].addresses] == ["10.10.0.1/24", "10.10.0.9/24", "2001:db8:10::1/64"]
    assert (by_name["eth0"].span.line, by_name["eth0"].span.end_line) == (7, 14)
    assert [str(n) for n in by_name["eth2"].networks] == ["192.168.99.0/24"]
    assert all(i.zone == i.name and i.vrf == "" for i in facts.interfaces)


def test_routes_with_metric_multipath_and_blackhole() -> None:
    """By hand: the kernel's connected routes are the interfaces' networks again and are left out, as are table
    local, link-local and multicast entries. What stays, in order: the DHCP default (metric 100), the static
    10.30/16 (metric 20), the BGP route as one route per nexthop, the blackhole (no hop, no device), the IPv6
    default (``pref``: ::/0, metric 1024)."""
    facts = read_ip_routing(CAPTURE, "fw1.routing")
    assert [(str(r.destination), str(r.next_hop), r.interface, r.distance, r.span.line) for r in facts.routes] == [
        ("0.0.0.0/0", "203.0.113.1", "eth3", 100, 30),
        ("10.30.0.0/16", "10.20.0.254", "eth1", 20, 33),
        ("10.40.0.0/16", "10.20.0.253", "eth1", 20, 34),
        ("10.40.0.0/16", "10.10.0.253", "eth0", 20, 34),
        ("10.99.0.0/16", "None", None, None, 37),
        ("::/0", "2001:db8:10::fffe", "eth0", 1024, 45),
    ]
    assert facts.routes[3].span.end_line == 36 and "nexthop via 10.10.0.253" in facts.routes[3].span.text
    rs = Ruleset("fw1", "iptables", "fw1.rules", interfaces=facts.interfaces, routes=facts.routes)
    plc = route_lookup(rs, "10.20.0.5")
    assert plc is not None and plc.route is None and plc.zone == "eth1"  # connected, from the interface
    far = route_lookup(rs, ipaddress.ip_address("10.30.7.7"))
    assert far is not None and far.route is facts.routes[1] and far.zone == "eth1"


def test_what_makes_the_capture_incomplete_is_a_gap_with_its_line() -> None:
    """By hand, in line order: eth2 down (22), eth3's DHCP address (28), the DHCP default route (30), the BGP
    route (34), the policy rule 100 (49), the line not understood (52, also a warning). The default rules and the
    static routes are no gap."""
    facts = read_ip_routing(CAPTURE, "fw1.routing")
    assert [(g.span.line, g.reason.split(":")[0]) for g in facts.gaps] == [
        (22, "interface eth2 is down (state DOWN)"),
        (28, "address 203.0.113.10/28 on eth3 is dynamic (DHCP or SLAAC)"),
        (30, "route 0.0.0.0/0 was learned at run time (proto dhcp)"),
        (34, "route 10.40.0.0/16 was learned at run time (proto bgp)"),
        (49, "policy routing"),
        (52, "not ip addr, ip route or ip rule output; routes not followed"),
    ]
    assert "ip rule 100: from 10.20.0.0/24 lookup 100" in facts.gaps[4].reason
    [warning] = facts.warnings
    assert str(warning).startswith("fw1.routing:52: ") and warning.text == "Kernel IP routing table"


def test_oneline_and_brief_forms() -> None:
    """By hand: ``ip -o addr`` lines (the statement before the backslash) and ``ip -br addr`` lines give the same
    facts; a VLAN device ``eth1.100@eth1`` is ``eth1.100``; a brief state DOWN is the down gap; ``ip -br link``
    (a MAC and flags) holds no address."""
    capture = (
        "2: eth0    inet 10.10.0.1/24 brd 10.10.0.255 scope global eth0\\       valid_lft forever preferred_lft "
        "forever\n"
        "2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever\n"
        "eth1.100@eth1    UP             10.100.0.1/24 2001:db8:100::1/64 fe80::2/64\n"
        "eth2             DOWN           192.168.99.1/24\n"
        "eth3             UP             52:54:00:4a:10:04 <BROADCAST,MULTICAST,UP,LOWER_UP>\n"
    )
    facts = read_ip_routing(capture, "fw.routing")
    assert {i.name: [str(a) for a in i.addresses] for i in facts.interfaces} == {
        "eth0": ["10.10.0.1/24"], "eth1.100": ["10.100.0.1/24", "2001:db8:100::1/64"], "eth2": ["192.168.99.1/24"]}
    assert [(g.span.line, g.reason.split(":")[0]) for g in facts.gaps] == [(4, "interface eth2 is down (state DOWN)")]


def test_point_to_point_peer_and_noprefixroute() -> None:
    """By hand: ``inet 10.255.0.1 peer 10.255.0.2/32`` is the firewall's own 10.255.0.1/32 and a connected route
    to the peer out ppp0 (the kernel's copy of it is left out); ``noprefixroute`` on eth5 with no route to
    10.50.0.0/24 in the capture means the kernel does not route that network out eth5: a gap at the address."""
    capture = """\
6: ppp0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1492 qdisc fq_codel state UNKNOWN group default qlen 3
    link/ppp
    inet 10.255.0.1 peer 10.255.0.2/32 scope global ppp0
       valid_lft forever preferred_lft forever
7: eth5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    inet 10.50.0.1/24 brd 10.50.0.255 scope global noprefixroute eth5
       valid_lft forever preferred_lft forever
10.255.0.2 dev ppp0 proto kernel scope link src 10.255.0.1
default dev ppp0 scope link
"""
    facts = read_ip_routing(capture, "fw.routing")
    assert {i.name: [str(a) for a in i.addresses] for i in facts.interfaces} == {
        "ppp0": ["10.255.0.1/32"], "eth5": ["10.50.0.1/24"]}
    assert [(str(r.destination), r.next_hop, r.interface, r.span.line) for r in facts.routes] == [
        ("10.255.0.2/32", None, "ppp0", 3), ("0.0.0.0/0", None, "ppp0", 9)]
    [gap] = facts.gaps
    assert gap.span.line == 6 and "noprefixroute and no route to 10.50.0.0/24" in gap.reason


def test_policy_routing_other_tables_and_unknown_attributes() -> None:
    """By hand: routes of table 100 keep it as their vrf with one gap for the table (line 1, not 2); a ``throw``
    route, a source-specific (``from``) route and a TOS route are policy routing, left out with a gap; an
    attribute PlantGate does not know (``encap``) leaves its route out with a warning and a gap."""
    capture = """\
10.60.0.0/16 via 10.20.0.254 dev eth1 table 100 proto static
10.61.0.0/16 via 10.20.0.254 dev eth1 table 100 proto static
throw 10.62.0.0/16 table 100
2001:db8:62::/48 from 2001:db8:10::/64 via 2001:db8:10::fe dev eth0 metric 1024 pref medium
10.63.0.0/16 tos 0x10 via 10.20.0.254 dev eth1
10.64.0.0/16 encap mpls 100 via 10.20.0.254 dev eth1
"""
    facts = read_ip_routing(capture, "fw.routing")
    assert [(str(r.destination), r.vrf) for r in facts.routes] == [("10.60.0.0/16", "100"), ("10.61.0.0/16", "100")]
    assert [(g.span.line, g.reason) for g in facts.gaps][:1] == [
        (1, "routes in table 100: only table main is followed (an ip rule, a VRF or the lookup order chooses the "
            "others)")]
    assert [g.span.line for g in facts.gaps] == [1, 3, 4, 5, 6]
    assert "throw route" in facts.gaps[1].reason and "source-specific" in facts.gaps[2].reason
    assert "TOS-specific" in facts.gaps[3].reason
    [warning] = facts.warnings
    assert warning.line == 6 and "'encap' at column 14 not understood; route left out" in warning.message


def test_a_route_that_leads_nowhere_known_and_a_huge_word_are_gaps() -> None:
    """By hand: a route through a nexthop object the capture does not show (``nhid 12``, no via, no dev) is a gap,
    not a guessed exit; a 100,000-character word in an ip rule keeps the gap's reason readable (400 characters and
    the length: 45 + 100,000 + 74 characters), as a ParseWarning's message is."""
    capture = "10.70.0.0/16 nhid 12 proto static\n200:\tfrom all lookup " + "x" * 100_000 + "\n"
    facts = read_ip_routing(capture, "fw.routing")
    assert facts.routes == []
    nowhere, huge = facts.gaps
    assert nowhere.reason == "route 10.70.0.0/16 names no gateway and no device: where it leads is not known"
    assert len(huge.reason) < 500 and huge.reason.endswith("(100,119 characters)"), huge.reason[-40:]


@pytest.mark.parametrize(("capture", "where", "message"), [
    ("3: eth1: <UP> mtu 1500 state UP\n    inet 10.20.0.300/24 scope global eth1\n", "fw.routing:2:10",
     "'10.20.0.300/24' is not an IPv4 address with its prefix length"),
    ("10.30.0.0/16 via 10.20.0.254 dev eth1 metric twenty\n", "fw.routing:1:46", "metric 'twenty' is not a number"),
    ("10.30.0.0/16 via gateway-1 dev eth1\n", "fw.routing:1:18", "gateway 'gateway-1' is not an IP address"),
    ("blackhole 10.99.0.0/33\n", "fw.routing:1:11", "route destination '10.99.0.0/33' is not a prefix"),
    ("10.30.0.0/16 via 10.20.0.254 dev\n", "fw.routing:1:30", "dev without a value"),
    ("*filter\n-A FORWARD -j ACCEPT\nCOMMIT\n", "fw.routing:1:1", "no ip addr, ip route or ip rule output"),
])
def test_a_malformed_capture_is_an_input_error_at_its_column(capture: str, where: str, message: str) -> None:
    """By hand: each column is where the bad word starts; a file with no iproute2 output at all (here an
    iptables-save file named by mistake) is refused at its first line, with the capture command expected."""
    with pytest.raises(InputError) as caught:
        read_ip_routing(capture, "fw.routing")
    [problem] = caught.value.problems
    assert str(problem.location) == where and message in problem.message, str(problem)
    if "no ip addr" in message:
        assert "ip route show table all" in problem.expected


def test_attached_interfaces_sit_in_the_zone_their_rules_name() -> None:
    """By hand: the rules name eth1 and the wildcard wan+; eth1 is its own zone, wan0 falls in wan+, eth9 (named
    by no rule) in ``*``. The routes and gaps go with them, the warnings join the ruleset's."""
    rules = IPTABLES.parse("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i eth1 -o wan+ -j ACCEPT\nCOMMIT\n", "fw.rules")
    capture = ("eth1 UP 10.20.0.1/24\nwan0 UP 198.51.100.2/30\neth9 UP 10.90.0.1/24\n"
               "default via 198.51.100.1 dev wan0 proto static\nnot iproute2\n")
    attach_routing(rules, read_ip_routing(capture, "fw.routing"))
    assert {i.name: i.zone for i in rules.interfaces} == {"eth1": "eth1", "wan0": "wan+", "eth9": "*"}
    assert [str(r.destination) for r in rules.routes] == ["0.0.0.0/0"]
    assert [g.span.line for g in rules.routing_gaps] == [5]
    assert [w.line for w in rules.warnings if w.file == "fw.routing"] == [5]
