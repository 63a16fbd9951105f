"""Flow sets in words, held to the set itself: the boxes rebuild it exactly, and for a box-shaped set the
phrase, parsed back, names the very same flows."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from plantgate.firewalls.ruleset import Service, address_set
from plantgate.netspace import FlowSet, PacketSpace, default_space
from plantgate.outputs.flow_words import address_intervals, describe

SPACE = default_space()
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17}


def cidrs(max_size: int = 3) -> st.SearchStrategy[list[str]]:
    network = st.builds(lambda value, length: str(ipaddress.ip_network((value, length), strict=False)),
                        st.integers(0, 2**32 - 1), st.integers(8, 32))
    return st.lists(network, min_size=1, max_size=max_size)


def port_ranges() -> st.SearchStrategy[tuple[tuple[int, int], ...]]:
    bound = st.tuples(st.integers(0, 65535), st.integers(0, 300)).map(lambda p: (p[0], min(65535, p[0] + p[1])))
    return st.lists(bound, min_size=0, max_size=3).map(tuple)


@st.composite
def boxes(draw: st.DrawFn) -> FlowSet:
    protocols = draw(st.sampled_from([[6], [17], [6, 17]]))
    ports = draw(port_ranges())
    service = SPACE.empty()
    for protocol in protocols:
        service = service | SPACE.service(Service(protocol, dst_ports=ports))
    return service & SPACE.addresses("src", address_set(draw(cidrs()))) & \
        SPACE.addresses("dst", address_set(draw(cidrs())))


def v6_cidrs() -> st.SearchStrategy[list[str]]:
    network = st.builds(lambda value, length: str(ipaddress.ip_network((value << 64, length), strict=False)),
                        st.integers(0x2001_0db8_0000_0000, 0x2001_0db8_0000_ffff), st.integers(32, 128))
    return st.lists(network, min_size=1, max_size=2)


@st.composite
def v6_boxes(draw: st.DrawFn) -> FlowSet:
    return SPACE.service(Service(6, dst_ports=draw(port_ranges()))) & \
        SPACE.addresses("src", address_set(draw(v6_cidrs()))) & SPACE.addresses("dst", address_set(draw(v6_cidrs())))


@st.composite
def unions(draw: st.DrawFn) -> FlowSet:
    flows = SPACE.empty()
    for _ in range(draw(st.integers(1, 3))):
        flows = flows | draw(st.one_of(boxes(), v6_boxes()))
    if draw(st.booleans()):
        flows = flows | SPACE.service(Service(1, icmp_type=8)) & SPACE.addresses("dst", address_set(draw(cidrs())))
    return flows


def rebuilt(space: PacketSpace, flows: FlowSet) -> FlowSet:
    out = space.empty()
    for box in describe(flows).boxes:
        out = out | box.flows(space)
    return out


@settings(max_examples=60, deadline=None)
@given(unions())
def test_the_boxes_of_the_words_are_the_set(flows: FlowSet) -> None:
    words = describe(flows)
    assert words.count == flows.count()
    assert words.exact or flows.intersects(SPACE.wrap(SPACE.ipv6))  # IPv4 sets are always read back exactly
    if words.exact:
        assert rebuilt(SPACE, flows) == flows
    else:  # a set of too many pieces is told as one box that holds it
        assert "within " in words.phrase and flows <= rebuilt(SPACE, flows)


def parse_addresses(text: str, field: Literal["src", "dst"]) -> FlowSet:
    """The source or destination part of a phrase: CIDRs and addresses, counts in brackets ignored."""
    text = re.sub(r"\s*\([^)]*\)", "", text).strip()
    if text == "any IPv4 address":
        return SPACE.wrap(SPACE.ipv4)
    return SPACE.addresses(field, address_set([part.strip() for part in text.split(",")]))


def parse(phrase: str) -> FlowSet:
    """A one-clause phrase back into flows (the grammar ``describe`` writes for TCP/UDP over IPv4)."""
    service, _, ends = phrase.partition(", from ")
    source, _, destination = ends.rpartition(" to ")
    match = re.fullmatch(r"(any )?((?:TCP|UDP)(?: or (?:TCP|UDP))?) ports?( .*)?", service)
    assert match, service
    ports: tuple[tuple[int, int], ...] = ()
    if not match.group(1):
        numbers = re.sub(r"\s*\([^)]*\)", "", match.group(3)).split(",")
        ports = tuple((int(n.split("-")[0]), int(n.split("-")[-1])) for n in numbers)
    flows = SPACE.empty()
    for name in match.group(2).split(" or "):
        flows = flows | SPACE.service(Service(PROTOCOL_NUMBERS[name], dst_ports=ports))
    return flows & parse_addresses(source, "src") & parse_addresses(destination, "dst")


@settings(max_examples=60, deadline=None)
@given(boxes())
def test_a_box_shaped_set_parsed_back_from_its_phrase_is_the_set(flows: FlowSet) -> None:
    words = describe(flows)
    assert "; " not in words.phrase
    assert parse(words.phrase) == flows


def test_names_addresses_counts_and_well_known_ports() -> None:
    jump = SPACE.service(Service(6)) & SPACE.addresses("src", address_set(["10.10.8.0/24"])) & \
        SPACE.addresses("dst", address_set(["10.30.0.22"]))
    words = describe(jump, {address_intervals(["10.30.0.22"]): "the jump host"})
    assert words.phrase == "any TCP port, from 10.10.8.0/24 (256 addresses) to the jump host (10.30.0.22)"
    modbus = SPACE.service(Service(6, dst_ports=((502, 502),)))
    assert describe(modbus).phrase == "TCP port 502 (Modbus), from any address to any address"
    assert describe(SPACE.universe()).phrase == "any traffic, from any address to any address"
    most = SPACE.addresses("src", address_set(["10.10.0.0/16"])) - SPACE.addresses("src", address_set(["10.10.7.20"]))
    words = describe(most & SPACE.service(Service(6, dst_ports=((443, 443),))),
                     {address_intervals(["10.10.0.0/16"]): "zone enterprise"})
    assert words.phrase.startswith("TCP port 443 (HTTPS), from zone enterprise except 10.10.7.20 (65,535 addresses)")
    assert describe(SPACE.empty()).phrase == "nothing"


def test_a_set_of_too_many_pieces_is_told_as_a_box_around_it() -> None:
    odd_ports = SPACE.wrap(SPACE.value("proto", 6) & SPACE.field_vars("dport")[15])
    words = describe(odd_ports)
    assert not words.exact
    assert words.phrase.startswith("within TCP ports 1, 3, 5")
    assert "more ranges" in words.phrase
    assert odd_ports <= rebuilt(SPACE, odd_ports)  # the box holds the whole set
