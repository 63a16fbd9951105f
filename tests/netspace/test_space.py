"""Unit tests of the packet-space algebra: set operations, counts, witnesses, IPv4/IPv6, ICMP, ports."""

from __future__ import annotations

import ipaddress

import pytest

from plantgate.firewalls.ruleset import (
    ANY_IPV4,
    ANY_IPV6,
    ICMP,
    ICMPV6,
    TCP,
    UDP,
    Service,
    address_set,
)
from plantgate.netspace import Flow, PacketSpace, default_space
from tests.netspace.builders import flow

V4_HOSTS = 2**32
V6_HOSTS = 2**128 - 2**32  # the IPv4-mapped range stands for IPv4
PROTO_POINTS = 3 * 2**32 + 2 * 2**16 + 251  # TCP/UDP/SCTP x ports, ICMP/ICMPv6 x type/code, the rest


@pytest.fixture(scope="module")
def space() -> PacketSpace:
    return PacketSpace()


def test_universe_counts_real_packets(space: PacketSpace) -> None:
    assert space.universe().count() == (V4_HOSTS**2 + V6_HOSTS**2) * PROTO_POINTS
    assert space.empty().count() == 0
    assert space.empty().is_empty() and not space.universe().is_empty()


def test_address_halves_union_intersection_difference(space: PacketSpace) -> None:
    whole = space.addresses("src", address_set(["10.0.0.0/24"]))
    low = space.addresses("src", address_set(["10.0.0.0/25"]))
    high = space.addresses("src", address_set(["10.0.0.128/25"]))
    assert low | high == whole
    assert (low & high).is_empty()
    assert whole - low == high
    assert low <= whole and not whole <= low
    assert whole >= high
    assert whole.count() == 256 * V4_HOSTS * PROTO_POINTS  # 256 sources, IPv4 destinations


def test_complement_is_relative_to_the_universe(space: PacketSpace) -> None:
    a = space.addresses("dst", address_set(["192.168.0.0/16"]))
    assert (a | ~a) == space.universe()
    assert (a & ~a).is_empty()
    assert ~~a == a
    assert (~space.universe()).is_empty()


def test_exact_count_of_a_small_product(space: PacketSpace) -> None:
    s = (
        space.addresses("src", address_set(["10.0.0.0/30"]))
        & space.addresses("dst", address_set(["10.0.1.1/32"]))
        & space.service(Service(TCP, src_ports=((1024, 1024),), dst_ports=((80, 80),)))
    )
    assert s.count() == 4
    one = space.flow(flow("10.0.0.2", "10.0.1.1", TCP, 1024, 80))
    assert one.count() == 1 and one <= s


def test_port_ranges_are_exact_at_the_edges(space: PacketSpace) -> None:
    svc = space.service(Service(UDP, dst_ports=((1000, 1999), (5000, 5000))))
    for port, inside in [(999, False), (1000, True), (1999, True), (2000, False), (5000, True), (5001, False)]:
        assert svc.contains(flow("10.0.0.1", "10.0.0.2", UDP, 1, port)) is inside, port
    hosts = space.addresses("src", address_set(["10.0.0.1/32"])) & space.addresses(
        "dst", address_set(["10.0.0.2/32"])
    )
    assert (svc & hosts).count() == 1001 * 65536


def test_ports_bind_only_port_protocols(space: PacketSpace) -> None:
    any_proto_port_80 = space.service(Service(None, dst_ports=((80, 80),)))
    assert any_proto_port_80.contains(flow("10.0.0.1", "10.0.0.2", TCP, 5, 80))
    assert not any_proto_port_80.contains(flow("10.0.0.1", "10.0.0.2", TCP, 5, 81))
    assert any_proto_port_80.contains(flow("10.0.0.1", "10.0.0.2", ICMP, icmp_type=8))
    assert any_proto_port_80.contains(flow("10.0.0.1", "10.0.0.2", 47))


def test_icmp_type_and_code(space: PacketSpace) -> None:
    hosts = space.addresses("src", address_set(["10.0.0.1/32"])) & space.addresses(
        "dst", address_set(["10.0.0.2/32"])
    )
    echo = space.service(Service(ICMP, icmp_type=8)) & hosts
    assert echo.count() == 256
    assert (space.service(Service(ICMP, icmp_type=8, icmp_code=0)) & hosts).count() == 1
    assert echo.contains(flow("10.0.0.1", "10.0.0.2", ICMP, icmp_type=8, icmp_code=3))
    assert not echo.contains(flow("10.0.0.1", "10.0.0.2", ICMP, icmp_type=0))
    v6_hosts = space.addresses("src", address_set(["2001:db8::1/128"])) & space.addresses(
        "dst", address_set(["2001:db8::2/128"])
    )
    assert (space.service(Service(ICMPV6)) & v6_hosts).count() == 65536


def test_ipv4_and_ipv6_are_disjoint_halves(space: PacketSpace) -> None:
    v4 = space.addresses("dst", ANY_IPV4)
    v6 = space.addresses("dst", ANY_IPV6)
    assert (v4 & v6).is_empty()
    assert v4 | v6 == space.universe()
    assert not v6.contains(flow("10.0.0.1", "10.0.0.2"))
    assert v6.contains(flow("2001:db8::1", "2001:db8::2"))
    mapped = space.addresses("dst", address_set(["::ffff:10.0.0.0/120"]))
    assert mapped == space.addresses("dst", address_set(["10.0.0.0/24"]))


def test_address_excludes(space: PacketSpace) -> None:
    from tests.netspace.builders import addrs

    s = space.addresses("src", addrs("10.0.0.0/24", exclude=("10.0.0.128/25",)))
    assert s == space.addresses("src", address_set(["10.0.0.0/25"]))


def test_witness_is_readable_deterministic_and_inside(space: PacketSpace) -> None:
    web = space.addresses("dst", address_set(["10.1.2.0/24"])) & space.service(
        Service(TCP, dst_ports=((443, 443),))
    )
    w = web.witness()
    assert w == Flow(ipaddress.ip_address("1.0.0.0"), ipaddress.ip_address("10.1.2.0"), TCP, 1024, 443)
    assert web.contains(w) and web.witness() == w
    assert space.universe().witness() == flow("1.0.0.0", "1.0.0.0", TCP, 1024, 1)
    assert space.empty().witness() is None
    v6 = space.addresses("src", ANY_IPV6)
    w6 = v6.witness()
    assert w6 is not None and w6.src.version == 6 and v6.contains(w6)
    udp_only_zero = space.service(Service(UDP, dst_ports=((0, 0),)))
    w0 = udp_only_zero.witness()
    assert w0 is not None and w0.proto == UDP and w0.dport == 0 and udp_only_zero.contains(w0)


def test_flow_singleton_round_trip(space: PacketSpace) -> None:
    f = flow("2001:db8::5", "2001:db8::6", 58, icmp_type=128, icmp_code=0)
    s = space.flow(f)
    assert s.count() == 1 and s.witness() == f and s.contains(f) and f in s
    assert not s.contains(flow("2001:db8::5", "2001:db8::6", 58, icmp_type=129))


def test_flow_validation_and_json() -> None:
    with pytest.raises(ValueError, match="different IP versions"):
        flow("10.0.0.1", "2001:db8::1")
    with pytest.raises(ValueError, match="ports only apply"):
        flow("10.0.0.1", "10.0.0.2", ICMP, dport=80)
    with pytest.raises(ValueError, match="ICMP type"):
        flow("10.0.0.1", "10.0.0.2", TCP, icmp_type=3)
    with pytest.raises(ValueError, match="outside"):
        flow("10.0.0.1", "10.0.0.2", TCP, dport=70000)
    mapped = Flow(ipaddress.ip_address("::ffff:10.0.0.1"), ipaddress.ip_address("10.0.0.2"), UDP, 5, 53)
    assert mapped.src == ipaddress.ip_address("10.0.0.1")
    assert mapped.to_dict() == {"src": "10.0.0.1", "dst": "10.0.0.2", "proto": 17, "sport": 5, "dport": 53}
    icmp = flow("10.0.0.1", "10.0.0.2", ICMP, icmp_type=8)
    assert icmp.to_dict()["icmp_type"] == 8 and icmp.to_dict()["icmp_code"] == 0


def test_sets_of_different_spaces_do_not_mix(space: PacketSpace) -> None:
    other = PacketSpace()
    with pytest.raises(ValueError, match="different PacketSpaces"):
        _ = space.universe() | other.universe()
    assert default_space() is default_space()


def test_bad_service_values_are_rejected(space: PacketSpace) -> None:
    with pytest.raises(ValueError, match="outside"):
        space.service(Service(TCP, dst_ports=((80, 70000),)))
    with pytest.raises(ValueError, match="protocol 300"):
        space.service(Service(300))
