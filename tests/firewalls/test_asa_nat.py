"""Cisco ASA (8.3+) NAT read into NatRules: object NAT, twice NAT, identity NAT, section order, widening.

The configs are written from the Cisco ASA configuration guide ("Network Object NAT", "Twice
NAT", "NAT Rule Order") and command reference (``nat``). Besides the parsed records, each
scenario runs a packet through the rules with ``first_match`` below: a per-packet reading of
the NatRule semantics (first match per stage, empty zones match any zone) that is independent
of the packet-space engine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from plantgate.firewalls.asa.parser import PARSER
from plantgate.firewalls.base import read_config_text
from plantgate.firewalls.nat import NatRule, NatStage, Translation
from plantgate.firewalls.ruleset import ALL_PORTS, TCP, UDP, Ruleset
from tests.conftest import SHARED, shared_path

CORPUS = "firewall-configs/cisco-asa"
ANY_PORT = -1

INTERFACES = """\
hostname plant-fw
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.0
interface GigabitEthernet0/1
 nameif dmz
 security-level 50
 ip address 10.30.0.1 255.255.255.0
interface GigabitEthernet0/2
 nameif ot
 security-level 90
 ip address 10.10.0.1 255.255.0.0
!
"""


def parse(body: str, interfaces: str = INTERFACES) -> Ruleset:
    return PARSER.parse(interfaces + body, "fw.cfg")


@dataclass(frozen=True)
class Packet:
    src: str
    dst: str
    protocol: int = TCP
    sport: int = 40000
    dport: int = 443


def _matches(rule: NatRule, packet: Packet, from_zone: str, to_zone: str) -> bool:
    if rule.from_zones and from_zone not in rule.from_zones or rule.to_zones and to_zone not in rule.to_zones:
        return False
    if not rule.sources.contains(ipaddress.ip_address(packet.src)):
        return False
    if not rule.destinations.contains(ipaddress.ip_address(packet.dst)):
        return False
    for service in rule.services:
        if service.protocol is None:
            return True
        if service.protocol != packet.protocol:
            continue
        if service.src_ports and not any(lo <= packet.sport <= hi for lo, hi in service.src_ports):
            continue
        if service.dst_ports and not any(lo <= packet.dport <= hi for lo, hi in service.dst_ports):
            continue
        return True
    return False


def _rewrite(address: str, port: int, translation: Translation) -> tuple[str, int]:
    """One end of the packet after ``translation``: exact addresses only (one address or a prefix);
    a port that may become any port of a range (PAT) is ``ANY_PORT``."""
    mapping = translation.addresses
    if mapping is not None and mapping.prefix is not None:
        old = ipaddress.ip_address(address)
        host_bits = int(old) & int(mapping.prefix.hostmask)
        address = str(ipaddress.ip_address(int(mapping.prefix.network_address) | host_bits))
    elif mapping is not None and mapping.pool is not None:
        (net,) = mapping.pool.include
        assert net.num_addresses == 1, f"pool {mapping.pool} is not one address"
        address = str(net.network_address)
    if translation.ports is not None:
        lo, hi = translation.ports.to
        if translation.ports.shift is not None:
            port += translation.ports.shift
        else:
            port = lo if lo == hi else ANY_PORT
    return address, port


def first_match(rs: Ruleset, stage: NatStage, packet: Packet, from_zone: str, to_zone: str
                ) -> tuple[Packet, NatRule | None]:
    """The packet after the first matching rule of ``stage`` (unchanged when none matches)."""
    for rule in sorted((r for r in rs.nat_rules if r.stage is stage), key=lambda r: r.position):
        if _matches(rule, packet, from_zone, to_zone):
            src, sport = _rewrite(packet.src, packet.sport, rule.source)
            dst, dport = _rewrite(packet.dst, packet.dport, rule.destination)
            return replace(packet, src=src, sport=sport, dst=dst, dport=dport), rule
    return packet, None


def through(rs: Ruleset, packet: Packet, from_zone: str, to_zone: str) -> tuple[Packet, Packet]:
    """(what the ACLs see, what leaves the box) for a packet crossing from one zone to another."""
    seen, _ = first_match(rs, NatStage.BEFORE_FILTER, packet, from_zone, to_zone)
    out, _ = first_match(rs, NatStage.AFTER_FILTER, seen, from_zone, to_zone)
    return seen, out


def by_half(rs: Ruleset) -> dict[str, NatRule]:
    return {r.rule_id: r for r in rs.nat_rules}


# --- object NAT ---------------------------------------------------------------------------


DMZ_SERVER = """\
object network dmz-web
 host 10.30.0.20
 nat (dmz,outside) static 203.0.113.20
access-list outside_in extended permit tcp any host 10.30.0.20 eq https
access-group outside_in in interface outside
"""


def test_dmz_server_published_by_static_object_nat() -> None:
    """A DMZ web server 10.30.0.20 published as 203.0.113.20 (static, both directions).

    By hand: from outside, 198.51.100.7 -> 203.0.113.20:443 is un-NATed before the ACL to
    10.30.0.20:443, which is what ``outside_in`` permits (8.3+ ACLs name real addresses);
    a packet to 203.0.113.21 is untouched. From the server outward, 10.30.0.20 leaves as
    203.0.113.20; its neighbour 10.30.0.21 keeps its address. Nothing else is translated.
    """
    rs = parse(DMZ_SERVER)
    assert rs.nat_statements == [] and not [w for w in rs.warnings if w.widened]
    rules = by_half(rs)
    assert set(rules) == {"object dmz-web nat fwd-src", "object dmz-web nat rev-dst"}
    inbound = rules["object dmz-web nat rev-dst"]
    assert inbound.stage is NatStage.BEFORE_FILTER and inbound.kind == "static"
    assert (inbound.from_zones, inbound.to_zones) == (("outside",), ("dmz",))
    outbound = rules["object dmz-web nat fwd-src"]
    assert outbound.stage is NatStage.AFTER_FILTER
    assert (outbound.from_zones, outbound.to_zones) == (("dmz",), ("outside",))

    seen, out = through(rs, Packet("198.51.100.7", "203.0.113.20"), "outside", "dmz")
    assert seen == out == Packet("198.51.100.7", "10.30.0.20")
    acl_rule = rs.filters["outside_in"].rules[0]
    assert acl_rule.destinations.contains(ipaddress.ip_address(seen.dst))
    assert through(rs, Packet("198.51.100.7", "203.0.113.21"), "outside", "dmz")[1].dst == "203.0.113.21"
    assert through(rs, Packet("10.30.0.20", "198.51.100.7"), "dmz", "outside")[1].src == "203.0.113.20"
    assert through(rs, Packet("10.30.0.21", "198.51.100.7"), "dmz", "outside")[1].src == "10.30.0.21"
    # the static rule is tied to its interfaces: ot -> dmz traffic to the mapped address is not un-NATed
    assert through(rs, Packet("10.10.0.9", "203.0.113.20"), "ot", "dmz")[1].dst == "203.0.113.20"


def test_static_subnet_object_nat_keeps_host_bits() -> None:
    """``subnet 10.30.0.0/24`` static to the inline 198.18.5.0: the mapped block has the real one's mask.

    By hand: 10.30.0.77 leaves as 198.18.5.77; 198.18.5.200 arriving on outside becomes 10.30.0.200.
    """
    rs = parse("object network dmz-net\n subnet 10.30.0.0 255.255.255.0\n nat (dmz,outside) static 198.18.5.0\n")
    rules = by_half(rs)
    assert str(rules["object dmz-net nat fwd-src"].source.addresses.prefix) == "198.18.5.0/24"  # type: ignore[union-attr]
    assert through(rs, Packet("10.30.0.77", "8.8.8.8"), "dmz", "outside")[1].src == "198.18.5.77"
    assert through(rs, Packet("8.8.8.8", "198.18.5.200"), "outside", "dmz")[0].dst == "10.30.0.200"


PORT_FORWARD = """\
object network ot-opcua
 host 10.10.5.10
 nat (ot,outside) static 203.0.113.30 service tcp 4840 14840
object network ot-modbus
 host 10.10.5.11
 nat (ot,outside) static interface service tcp 502 1502
"""


def test_port_forward_to_an_ot_host() -> None:
    """Static NAT with port translation: OPC UA 10.10.5.10:4840 is reached as 203.0.113.30:14840,
    Modbus 10.10.5.11:502 as the outside interface address 203.0.113.1:1502.

    By hand: outside -> 203.0.113.30:14840 is seen by the ACLs as 10.10.5.10:4840; outside ->
    203.0.113.30:4840 (the real port on the mapped address) matches no rule and is untouched;
    outside -> 203.0.113.1:1502 becomes 10.10.5.11:502. Replies from 10.10.5.10 source port
    4840 leave as 203.0.113.30:14840; a session the historian opens from port 50000 is not
    translated by this rule. UDP to 203.0.113.30:14840 is not translated.
    """
    rs = parse(PORT_FORWARD)
    assert not rs.warnings and rs.nat_statements == []
    rules = by_half(rs)
    forward = rules["object ot-opcua nat rev-dst"]
    assert forward.stage is NatStage.BEFORE_FILTER
    assert [(s.protocol, s.dst_ports) for s in forward.services] == [(TCP, ((14840, 14840),))]
    seen, _ = through(rs, Packet("198.51.100.7", "203.0.113.30", dport=14840), "outside", "ot")
    assert (seen.dst, seen.dport) == ("10.10.5.10", 4840)
    seen, _ = through(rs, Packet("198.51.100.7", "203.0.113.30", dport=4840), "outside", "ot")
    assert (seen.dst, seen.dport) == ("203.0.113.30", 4840)
    seen, _ = through(rs, Packet("198.51.100.7", "203.0.113.30", protocol=UDP, dport=14840), "outside", "ot")
    assert seen.dst == "203.0.113.30"
    seen, _ = through(rs, Packet("198.51.100.7", "203.0.113.1", dport=1502), "outside", "ot")
    assert (seen.dst, seen.dport) == ("10.10.5.11", 502)
    _, out = through(rs, Packet("10.10.5.10", "198.51.100.7", sport=4840, dport=40000), "ot", "outside")
    assert (out.src, out.sport) == ("203.0.113.30", 14840)
    _, out = through(rs, Packet("10.10.5.10", "198.51.100.7", sport=50000), "ot", "outside")
    assert (out.src, out.sport) == ("10.10.5.10", 50000)


HIDE_NAT = """\
object network ot-plcs
 range 10.10.2.1 10.10.2.6
 nat (ot,outside) dynamic interface
"""


def test_hide_nat_of_an_ot_range_behind_the_interface() -> None:
    """Dynamic interface PAT of the PLC range 10.10.2.1-6 behind outside's 203.0.113.1.

    By hand: 10.10.2.3 -> 198.51.100.7 leaves as 203.0.113.1 with any source port (PAT);
    10.10.2.7 is outside the range and keeps its address. PAT is outbound only: no rule
    translates a packet arriving on outside, so 203.0.113.1 does not lead to the PLCs.
    """
    rs = parse(HIDE_NAT)
    (rule,) = rs.nat_rules
    assert (rule.stage, rule.kind, rule.from_zones, rule.to_zones) == (
        NatStage.AFTER_FILTER, "pat", ("ot",), ("outside",))
    assert rule.source.addresses is not None and rule.source.addresses.pool is not None
    assert [str(n) for n in rule.source.addresses.pool.include] == ["203.0.113.1/32"]
    assert rule.source.ports is not None and rule.source.ports.to == ALL_PORTS
    assert rule.sources.contains(ipaddress.ip_address("10.10.2.3"))
    assert not rule.sources.contains(ipaddress.ip_address("10.10.2.7"))
    assert not rule.widened and not rule.uncertain
    assert first_match(rs, NatStage.BEFORE_FILTER, Packet("198.51.100.7", "203.0.113.1"), "outside", "ot")[1] is None


def test_hide_nat_without_the_interface_address_widens_to_any_address() -> None:
    """The same PAT when outside has no ``ip address`` (DHCP): the mapped address is unknown.

    By hand: the rule still applies to 10.10.2.1-6 leaving on outside, but the source may
    become any address; the line is reported as widened.
    """
    interfaces = INTERFACES.replace(" ip address 203.0.113.1 255.255.255.0", " ip address dhcp setroute")
    rs = parse(HIDE_NAT, interfaces)
    (rule,) = rs.nat_rules
    assert rule.source.addresses is not None and rule.source.addresses.pool is not None
    assert rule.source.addresses.pool.is_any
    assert any("outside has no 'ip address'" in reason for reason in rule.widened)
    line = (INTERFACES + HIDE_NAT).splitlines().index(" nat (ot,outside) dynamic interface") + 1
    assert [(w.line, w.widened) for w in rs.warnings] == [(line, True)]


def test_any_behind_an_ipv4_interface_means_any_ipv4() -> None:
    """``source dynamic any interface`` with outside's IPv4 address: the guide says "any" is then IPv4.

    By hand: 10.10.3.3 leaving on outside is PATed behind 203.0.113.1; an IPv6 packet from
    2001:db8::5 is not matched (there is no IPv6 address to translate it to).
    """
    rs = parse("nat (ot,outside) source dynamic any interface\n")
    (rule,) = rs.nat_rules
    assert rule.sources.contains(ipaddress.ip_address("10.10.3.3"))
    assert not rule.sources.contains(ipaddress.ip_address("2001:db8::5"))
    assert not rule.widened and not rs.warnings


# --- twice NAT ----------------------------------------------------------------------------


TWICE = """\
object network ot-eng
 subnet 10.10.8.0 255.255.255.0
object network ot-eng-mapped
 subnet 192.0.2.0 255.255.255.0
object network vendor-mapped
 host 10.10.99.5
object network vendor-real
 host 198.51.100.50
nat (ot,outside) source static ot-eng ot-eng-mapped destination static vendor-mapped vendor-real
"""


def test_twice_nat_with_destination_static() -> None:
    """Engineering stations reach a vendor server through addresses on both sides.

    By hand: 10.10.8.7 -> 10.10.99.5 (the vendor as the OT side sees it) is seen by the ACLs
    as 10.10.8.7 -> 198.51.100.50 and leaves as 192.0.2.7 -> 198.51.100.50. The vendor's
    reply direction, 198.51.100.50 -> 192.0.2.7 arriving on outside, is seen as
    198.51.100.50 -> 10.10.8.7 and leaves as 10.10.99.5 -> 10.10.8.7. 10.10.8.7 -> 8.8.8.8
    matches nothing (the rule is tied to its destination) and is untouched.
    """
    rs = parse(TWICE)
    assert not rs.warnings
    assert [r.rule_id for r in sorted(rs.nat_rules, key=lambda r: r.position)] == [
        f"nat line {INTERFACES.count(chr(10)) + 9} {half}" for half in ("fwd-dst", "fwd-src", "rev-dst", "rev-src")]
    seen, out = through(rs, Packet("10.10.8.7", "10.10.99.5"), "ot", "outside")
    assert (seen.src, seen.dst) == ("10.10.8.7", "198.51.100.50")
    assert (out.src, out.dst) == ("192.0.2.7", "198.51.100.50")
    seen, out = through(rs, Packet("198.51.100.50", "192.0.2.7"), "outside", "ot")
    assert (seen.src, seen.dst) == ("198.51.100.50", "10.10.8.7")
    assert (out.src, out.dst) == ("10.10.99.5", "10.10.8.7")
    assert through(rs, Packet("10.10.8.7", "8.8.8.8"), "ot", "outside")[1] == Packet("10.10.8.7", "8.8.8.8")


def test_unidirectional_twice_nat_has_only_the_forward_half() -> None:
    """``unidirectional``: the vendor cannot start a session toward 192.0.2.0/24.

    By hand: the forward translation is as in the bidirectional case; 198.51.100.50 ->
    192.0.2.7 arriving on outside is not un-NATed (no rule for that direction).
    """
    rs = parse(TWICE.rstrip("\n") + " unidirectional\n")
    assert sorted(r.rule_id.rsplit(" ", 1)[1] for r in rs.nat_rules) == ["fwd-dst", "fwd-src"]
    assert through(rs, Packet("10.10.8.7", "10.10.99.5"), "ot", "outside")[1].src == "192.0.2.7"
    assert through(rs, Packet("198.51.100.50", "192.0.2.7"), "outside", "ot")[0].dst == "192.0.2.7"


def test_twice_nat_service_objects_translate_the_destination_port() -> None:
    """``service SVC_MAPPED SVC_REAL`` on a dynamic twice NAT: OT stations reach the vendor's
    TCP 443 by addressing 10.10.99.5:8443.

    By hand: 10.10.8.7 -> 10.10.99.5:8443 is seen as -> 198.51.100.50:443 and leaves PATed
    behind 203.0.113.1; 10.10.8.7 -> 10.10.99.5:443 matches no rule.
    """
    body = TWICE.replace("nat (ot,outside) source static ot-eng ot-eng-mapped",
                         "nat (ot,outside) source dynamic ot-eng interface")
    body = ("object service https-mapped\n service tcp destination eq 8443\n"
            "object service https-real\n service tcp destination eq https\n" + body.rstrip("\n")
            + " service https-mapped https-real\n")
    rs = parse(body)
    assert not rs.warnings
    assert {r.kind for r in rs.nat_rules} == {"pat"} and len(rs.nat_rules) == 2  # dynamic: forward only
    seen, _ = through(rs, Packet("10.10.8.7", "10.10.99.5", dport=8443), "ot", "outside")
    assert (seen.dst, seen.dport) == ("198.51.100.50", 443)
    _, rule = first_match(rs, NatStage.AFTER_FILTER, seen, "ot", "outside")
    assert rule is not None and rule.source.addresses is not None and rule.source.addresses.pool is not None
    assert [str(n) for n in rule.source.addresses.pool.include] == ["203.0.113.1/32"]
    assert through(rs, Packet("10.10.8.7", "10.10.99.5", dport=443), "ot", "outside")[0].dst == "10.10.99.5"


def test_twice_static_nat_with_source_ports_publishes_a_server() -> None:
    """The guide's Telnet example: the server is the source, so its ports are source ports (real 23, mapped 2323).

    By hand: outside -> 203.0.113.23:2323 is seen as 10.10.5.23:23; outside -> 203.0.113.23:23
    is untouched; the server's replies from port 23 leave as 203.0.113.23:2323.
    """
    body = ("object network ot-telnet\n host 10.10.5.23\nobject network ot-telnet-pub\n host 203.0.113.23\n"
            "object service telnet-real\n service tcp source eq telnet\n"
            "object service telnet-mapped\n service tcp source eq 2323\n"
            "nat (ot,outside) source static ot-telnet ot-telnet-pub service telnet-real telnet-mapped\n")
    rs = parse(body)
    assert not rs.warnings
    seen, _ = through(rs, Packet("198.51.100.7", "203.0.113.23", dport=2323), "outside", "ot")
    assert (seen.dst, seen.dport) == ("10.10.5.23", 23)
    assert through(rs, Packet("198.51.100.7", "203.0.113.23", dport=23), "outside", "ot")[0].dst == "203.0.113.23"
    _, out = through(rs, Packet("10.10.5.23", "198.51.100.7", sport=23, dport=40000), "ot", "outside")
    assert (out.src, out.sport) == ("203.0.113.23", 2323)


# --- identity NAT -------------------------------------------------------------------------


IDENTITY = """\
object network ot-lan
 subnet 10.10.0.0 255.255.0.0
object network remote-site
 subnet 172.16.40.0 255.255.255.0
nat (ot,outside) source static ot-lan ot-lan destination static remote-site remote-site no-proxy-arp route-lookup
nat (ot,outside) source dynamic any interface
object network historian
 host 10.30.0.9
object network historian-self
 host 10.30.0.9
 nat (dmz,outside) static historian
"""


def test_identity_nat_matches_and_stops_the_search() -> None:
    """VPN no-NAT (twice NAT identity) ahead of the general hide-NAT, and an object identity NAT.

    By hand: 10.10.3.3 -> 172.16.40.9 matches the identity rule first and leaves unchanged,
    so the PAT below it never applies; 10.10.3.3 -> 8.8.8.8 is PATed behind 203.0.113.1.
    The historian 10.30.0.9 leaving on outside keeps its address (identity, kind "identity").
    """
    rs = parse(IDENTITY)
    assert not rs.warnings
    identity = [r for r in rs.nat_rules if r.kind == "identity"]
    assert identity and all(r.is_identity for r in identity)
    assert {r.rule_id.split(" nat")[0] for r in identity} >= {"object historian-self"}
    packet = Packet("10.10.3.3", "172.16.40.9")
    out, rule = first_match(rs, NatStage.AFTER_FILTER, packet, "ot", "outside")
    assert out == packet and rule is not None and rule.kind == "identity"
    out, rule = first_match(rs, NatStage.AFTER_FILTER, Packet("10.10.3.3", "8.8.8.8"), "ot", "outside")
    assert rule is not None and rule.kind == "pat"
    out, rule = first_match(rs, NatStage.AFTER_FILTER, Packet("10.30.0.9", "8.8.8.8"), "dmz", "outside")
    assert out.src == "10.30.0.9" and rule is not None and rule.kind == "identity"


# --- order --------------------------------------------------------------------------------


ORDER = """\
nat (ot,outside) after-auto source dynamic any interface
object network plc-7
 host 10.10.2.7
 nat (ot,outside) static 203.0.113.47
object network zeta
 host 10.10.2.9
 nat (ot,outside) static 203.0.113.59
object network alpha
 host 10.10.2.9
 nat (ot,outside) static 203.0.113.49
object network plc-net
 subnet 10.10.2.0 255.255.255.252
 nat (ot,outside) static 203.0.113.64
object network ot-all
 host 10.10.2.8
 nat (ot,outside) dynamic interface
object network dmz-a
 host 10.30.0.5
object network dmz-b
 host 198.18.0.5
nat (dmz,outside) source static dmz-a dmz-b
nat (dmz,outside) 1 source static dmz-a dmz-a
"""


def test_section_order_after_auto_loses_to_object_nat() -> None:
    """Section 1 (twice NAT, ``line 1`` first), section 2 (object NAT, ASA's order), section 3 (after-auto).

    By hand: the object NAT order is static before dynamic; among the statics fewer real
    addresses first, then the lower address, then the name: plc-7 (10.10.2.7), alpha and
    zeta (both 10.10.2.9: alphabetical), plc-net (4 addresses); then the dynamic ot-all.
    So 10.10.2.7 leaves as 203.0.113.47 (not PATed by the after-auto rule written above it),
    10.10.2.9 as 203.0.113.49 (alpha wins over zeta), 10.10.2.5 (no object) is PATed behind
    203.0.113.1 by section 3. In section 1 the rule inserted at line 1 (identity) comes before
    the rule written first, so 10.30.0.5 leaves unchanged.
    """
    rs = parse(ORDER)
    assert not rs.warnings
    order = [r.rule_id for r in sorted(rs.nat_rules, key=lambda r: r.position) if r.rule_id.endswith("fwd-src")]
    base = INTERFACES.count("\n")
    assert order == [
        f"nat line {base + 22} fwd-src", f"nat line {base + 21} fwd-src",
        "object plc-7 nat fwd-src", "object alpha nat fwd-src", "object zeta nat fwd-src",
        "object plc-net nat fwd-src", "object ot-all nat fwd-src", f"nat line {base + 1} fwd-src",
    ]
    assert through(rs, Packet("10.10.2.7", "8.8.8.8"), "ot", "outside")[1].src == "203.0.113.47"
    assert through(rs, Packet("10.10.2.9", "8.8.8.8"), "ot", "outside")[1].src == "203.0.113.49"
    _, rule = first_match(rs, NatStage.AFTER_FILTER, Packet("10.10.2.5", "8.8.8.8"), "ot", "outside")
    assert rule is not None and rule.kind == "pat" and rule.rule_id == f"nat line {base + 1} fwd-src"
    assert through(rs, Packet("10.30.0.5", "8.8.8.8"), "dmz", "outside")[1].src == "10.30.0.5"


# --- widening and what is not modelled ------------------------------------------------------


def test_unknown_keyword_makes_the_rule_uncertain_and_warns() -> None:
    """An option PlantGate does not know (``frobnicate``) may change whether the rule applies.

    By hand: the rule's halves are kept with their translation but marked uncertain (both
    outcomes possible), and the line has a widened warning naming the keyword.
    """
    rs = parse(TWICE.rstrip("\n") + " frobnicate\n")
    assert rs.nat_rules and all(r.uncertain for r in rs.nat_rules)
    assert all(any("frobnicate" in reason for reason in r.widened) for r in rs.nat_rules)
    (warning,) = rs.warnings
    assert warning.widened and "frobnicate" in warning.message and warning.line == rs.nat_rules[0].span.line


def test_undefined_and_unreadable_statements_widen_never_drop() -> None:
    """An undefined mapped object, and a line whose grammar is broken.

    By hand: ``source static ot-eng nowhere`` still matches 10.10.8.0/24 leaving on outside, but
    the source may become any address (and the un-NAT direction may apply to any destination:
    uncertain). ``source bogus`` cannot be read at all: its rules are uncertain and translate
    to any address and any port. Each line has one widened warning.
    """
    body = TWICE.splitlines()[:8]
    rs = parse("\n".join(body) + "\nnat (ot,outside) source static ot-eng nowhere\nnat (ot,outside) source bogus\n")
    lines = sorted({r.span.line for r in rs.nat_rules})
    assert len(lines) == 2 and sorted(w.line for w in rs.warnings if w.widened) == lines
    undefined = by_half(rs)[f"nat line {lines[0]} fwd-src"]
    assert not undefined.uncertain and undefined.source.addresses is not None
    assert undefined.source.addresses.pool is not None and undefined.source.addresses.pool.is_any
    assert by_half(rs)[f"nat line {lines[0]} rev-dst"].uncertain
    broken = [r for r in rs.nat_rules if r.span.line == lines[1]]
    assert broken and all(r.uncertain and r.sources.is_any for r in broken)
    assert all(t.ports is not None and t.ports.to == ALL_PORTS
               for r in broken for t in (r.source, r.destination) if not t.is_identity)


def test_pre_83_nat_stays_unmodelled_and_inactive_rules_translate_nothing() -> None:
    """Pre-8.3 ``static``/``global``/``nat (ifc) id`` lines stay in nat_statements; ``inactive`` does nothing.

    By hand: three legacy lines in nat_statements, no NatRule from them; the inactive twice
    NAT gives no NatRule and one (not widened) warning.
    """
    body = ("static (dmz,outside) 203.0.113.20 10.30.0.20 netmask 255.255.255.255\n"
            "global (outside) 1 interface\n"
            "nat (ot) 1 10.10.0.0 255.255.0.0\n" + TWICE.rstrip("\n") + " inactive\n")
    rs = parse(body)
    assert [s.text.split()[0] for s in rs.nat_statements] == ["static", "global", "nat"]
    assert rs.nat_rules == []
    (warning,) = rs.warnings
    assert "inactive" in warning.message and not warning.widened


# --- third-party corpus ---------------------------------------------------------------------


def _nat_lines(text: str) -> list[int]:
    return [number for number, raw in enumerate(text.splitlines(), start=1)
            if raw.strip().split(" ", 1)[0] == "nat" or raw.split(" ", 1)[0] in ("static", "global")]


NAT_CORPUS = sorted(p.name for p in (SHARED / CORPUS).glob("*")
                    if _nat_lines(read_config_text(p))) if (SHARED / CORPUS).is_dir() else []


@pytest.mark.parametrize("name", NAT_CORPUS or ["<corpus absent>"])
def test_corpus_nat_lines_each_end_up_in_one_place(name: str) -> None:
    """Every NAT line of a real config is a NatRule, an unmodelled statement, or (inactive) a warning."""
    path = shared_path(CORPUS, name)
    text = read_config_text(path)
    nat_lines = _nat_lines(text)
    rs = PARSER.parse(text, str(path))
    modelled = {r.span.line for r in rs.nat_rules}
    unmodelled = {s.line for s in rs.nat_statements}
    warned = {w.line for w in rs.warnings}
    assert not modelled & unmodelled
    assert modelled | unmodelled <= set(nat_lines)
    for line in nat_lines:
        assert line in modelled or line in unmodelled or line in warned, f"{name}:{line} vanished"
    positions = [r.position for r in rs.nat_rules]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    for rule in rs.nat_rules:
        if rule.uncertain or rule.widened:
            assert any(w.line == rule.span.line and w.widened for w in rs.warnings)


def test_corpus_twice_static_reads_like_the_guide() -> None:
    """Batfish's asa-nat-twice-static: ``nat (outside,inside) source static any any`` is identity
    for everything; the after-auto rule with a destination comes last with all four halves."""
    path = shared_path(CORPUS, "batfish__asa-nat-twice-static.cfg")
    rs = PARSER.parse(read_config_text(path), str(path))
    text = path.read_text().splitlines()
    any_any = text.index("nat (outside,inside) source static any any") + 1
    assert {r.kind for r in rs.nat_rules if r.span.line == any_any} == {"identity"}
    last = sorted(rs.nat_rules, key=lambda r: r.position)[-4:]
    assert {r.span.line for r in last} == {next(i for i, t in enumerate(text, 1) if "after-auto" in t)}
    assert Path(path).name in NAT_CORPUS
