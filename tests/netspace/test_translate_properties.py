"""Hypothesis: the NAT relation on BDD sets (``translate``) against the per-packet oracle (``nat_oracle``).

Random small NAT tables (matches inside 10.0.0.0/29 and 2001:db8::/126, pools, prefix maps,
port pools and shifts, uncertain and zone-constrained rules, identity rules, mappings of the
other IP version) are applied to random packets; for every candidate translated packet the
image of the packet, the preimage of the translated packet and the oracle must agree, and the
steps must name exactly the rules the oracle says may apply.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, PortMapping, Translation
from plantgate.firewalls.ruleset import ANY_ADDRESS, ANY_IPV4, AddressSet, Service, SourceSpan
from plantgate.netspace.flow import Flow
from plantgate.netspace.nat_oracle import example_rewrite, outcomes, translates
from plantgate.netspace.space import HIGH_BITS, PacketSpace
from plantgate.netspace.translate import image, preimage, union_of
from tests.netspace.test_properties import DOMAIN, SERVICES, ZONES, address_sets

SPACE = PacketSpace()
HIGH_VARS = [name for field in ("src", "dst") for name in SPACE.field_names(field)[:HIGH_BITS]]

pools = st.one_of(
    st.just(ANY_ADDRESS),
    st.just(ANY_IPV4),
    st.just(AddressSet((ipaddress.ip_network("192.168.1.0/31"),))),
    address_sets.filter(lambda a: bool(a.include)),
)
prefixes = st.sampled_from([ipaddress.ip_network(text) for text in
                            ("10.0.0.4/30", "10.0.0.0/31", "192.168.7.6/32", "172.16.0.0/29",
                                      "2001:db8::2/127", "2001:db8:ff::/120")])
address_mappings = st.one_of(st.none(), st.builds(AddressMapping, pool=pools),
                             st.builds(AddressMapping, prefix=prefixes))
port_mappings = st.one_of(
    st.none(),
    st.builds(PortMapping, st.sampled_from([(80, 80), (22, 23), (1024, 1100), (0, 65535)])),
    st.builds(PortMapping, st.sampled_from([(80, 81), (20, 30), (1000, 1100), (0, 65535), (1000, 40000)]),
              st.sampled_from([1, -2, 58, -1004, 8, 100, -3, 7, 30001])),
)
translations = st.builds(Translation, address_mappings, port_mappings)
zone_lists = st.one_of(st.just(()), st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True)
                       .map(tuple))


@st.composite
def nat_rules(draw: st.DrawFn, position: int) -> NatRule:
    return NatRule(
        rule_id=f"r{position}",
        position=position,
        span=SourceSpan("nat.conf", position, position, f"rule {position}"),
        stage=NatStage.BEFORE_FILTER,
        kind="test",
        sources=draw(address_sets),
        destinations=draw(address_sets),
        services=tuple(draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2))),
        from_zones=draw(zone_lists),
        to_zones=draw(zone_lists),
        source=draw(translations),
        destination=draw(translations),
        uncertain=draw(st.booleans()) and draw(st.booleans()),
    )


@st.composite
def nat_tables(draw: st.DrawFn) -> list[NatRule]:
    count = draw(st.integers(0, 4))
    return [draw(nat_rules(position)) for position in range(1, count + 1)]


contexts = st.tuples(st.one_of(st.none(), st.sampled_from(ZONES)), st.one_of(st.none(), st.sampled_from(ZONES)))
packets = st.sampled_from(DOMAIN)


def _candidates(table: list[NatRule], before: Flow, other: Flow, context: tuple[str | None, str | None]) -> list[Flow]:
    """Packets worth asking about: each outcome's example, near misses of it, and an unrelated packet."""
    found = [other, before]
    for rule in outcomes(table, before, *context):
        after = example_rewrite(rule, before).after
        found.append(after)
        if after.has_ports:
            found.append(replace(after, dport=(after.dport + 1) % 65536))
            found.append(replace(after, sport=(after.sport + 57) % 65536))
        if after.dst.version == 4:
            found.append(replace(after, dst=ipaddress.ip_address(int(after.dst) ^ 1)))
            found.append(replace(after, src=ipaddress.ip_address(int(after.src) ^ 4)))
    return found


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(nat_tables(), packets, packets, contexts)
def test_image_and_preimage_agree_with_the_oracle(table: list[NatRule], before: Flow, other: Flow,
                                                  context: tuple[str | None, str | None]) -> None:
    image_steps = image(SPACE, table, SPACE.flow(before), *context)
    expected = outcomes(table, before, *context)
    assert [step.rule for step in image_steps] == expected
    after_set = union_of(SPACE, image_steps, "after")
    for after in _candidates(table, before, other, context):
        oracle = translates(table, before, after, *context)
        assert (after in after_set) == oracle, (after, oracle)
        back = union_of(SPACE, preimage(SPACE, table, SPACE.flow(after), *context), "before")
        assert (before in back) == oracle, (after, oracle)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(nat_tables(), contexts)
def test_image_of_everything_holds_every_example(table: list[NatRule], context: tuple[str | None, str | None]) -> None:
    """The image of the whole space keeps the IPv4 encoding and holds each packet's example translation."""
    steps = image(SPACE, table, SPACE.universe(), *context)
    for step in steps:  # the encoding invariant: no IPv4 path tests the high 96 address bits
        ipv4 = step.after.node & SPACE.ipv4
        assert SPACE.bdd.exist(HIGH_VARS, ipv4) == ipv4
    by_rule = {id(step.rule): step for step in steps}
    for before in DOMAIN[::7]:
        for rule in outcomes(table, before, *context):
            step = by_rule[id(rule)]
            assert before in step.before
            assert example_rewrite(rule, before).after in step.after


def test_shift_moves_each_port_exactly() -> None:
    """8000-8010 shifted to 9000-9010 (shift 1000): port 8004 becomes 9004 and nothing else; 8011 any of the range."""
    rule = NatRule("vip", 1, SourceSpan("f", 1, 1, "vip"), NatStage.BEFORE_FILTER, "vip",
                   services=(Service(6, dst_ports=((8000, 8011),)),),
                   destination=Translation(AddressMapping(pool=AddressSet((ipaddress.ip_network("10.0.0.5/32"),))),
                                           PortMapping((9000, 9010), shift=1000)))
    flow = Flow(ipaddress.ip_address("192.0.2.1"), ipaddress.ip_address("198.51.100.7"), 6, 40000, 8004)
    (step,) = image(SPACE, [rule], SPACE.flow(flow))
    assert step.after == SPACE.flow(replace(flow, dst=ipaddress.ip_address("10.0.0.5"), dport=9004))
    beyond = replace(flow, dport=8011)
    (step,) = image(SPACE, [rule], SPACE.flow(beyond))
    assert step.after.count() == 11


def test_a_pool_whose_every_address_is_excluded_widens_in_both() -> None:
    """Found by a random draw: a destination pool 10.0.0.0/29 minus 10.0.0.0/29 holds no address. The engine
    treats it as a mapping it cannot model (any address, never narrowed); the oracle now says the same."""
    empty = AddressSet((ipaddress.ip_network("10.0.0.0/29"),), (ipaddress.ip_network("10.0.0.0/29"),))
    rule = NatRule(rule_id="r1", position=1, span=SourceSpan("nat.conf", 1, 1, "rule 1"),
                   stage=NatStage.BEFORE_FILTER, kind="test", sources=ANY_ADDRESS, destinations=ANY_ADDRESS,
                   services=(Service(None),), destination=Translation(AddressMapping(pool=empty)))
    before = Flow(ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("10.0.0.2"), 6, 1024, 22)
    after_set = union_of(SPACE, image(SPACE, [rule], SPACE.flow(before)), "after")
    for after in (before, replace(before, dst=ipaddress.ip_address("192.0.2.9"))):
        assert translates([rule], before, after) and after in after_set
