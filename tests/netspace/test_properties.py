"""Hypothesis: the BDD engine against brute force over small enumerated packet domains.

Random small filters (prefixes inside 10.0.0.0/29 and 2001:db8::/126, a few services,
both actions, negations, excludes, zones, disabled/uncertain/application rules) are
folded by ``analyse_filter`` and evaluated flow by flow by ``evaluate_filter``; the two
must agree on every flow of the domain, rule by rule.
"""

from __future__ import annotations

import ipaddress
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_SERVICE,
    ICMP,
    TCP,
    UDP,
    Action,
    AddressSet,
    Filter,
    Rule,
    Service,
    SourceSpan,
)
from plantgate.netspace import Flow, PacketSpace, analyse_filter, evaluate_filter, rule_match, rule_matches
from plantgate.netspace.space import FlowSet

SPACE = PacketSpace()
V4 = [ipaddress.ip_address(f"10.0.0.{i}") for i in range(8)]
V6 = [ipaddress.ip_address(f"2001:db8::{i}") for i in range(2)]
SERVICE_POINTS = [(TCP, 1024, 22, 0), (TCP, 1024, 80, 0), (UDP, 1024, 80, 0), (ICMP, 0, 0, 8), (ICMP, 0, 0, 0),
                  (47, 0, 0, 0)]
DOMAIN = [
    Flow(src, dst, proto, sport, dport, icmp_type)
    for hosts in (V4, V6)
    for src, dst in itertools.product(hosts, hosts)
    for proto, sport, dport, icmp_type in SERVICE_POINTS
]
DOMAIN_SET = FlowSet(SPACE, SPACE.false)
for _f in DOMAIN:
    DOMAIN_SET = DOMAIN_SET | SPACE.flow(_f)

SERVICES = [
    ANY_SERVICE,
    Service(TCP),
    Service(TCP, dst_ports=((80, 80),)),
    Service(TCP, dst_ports=((20, 79),)),
    Service(UDP, dst_ports=((53, 80),)),
    Service(TCP, src_ports=((1000, 2000),), dst_ports=((22, 22),)),
    Service(ICMP),
    Service(ICMP, icmp_type=8),
    Service(ICMP, icmp_type=0, icmp_code=0),
    Service(None, dst_ports=((80, 80),)),
    Service(47),
]
ZONES = ["inside", "outside"]


def _network(v6: bool, last: int, length: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if v6:
        return ipaddress.ip_network(f"2001:db8::{last % 4}/{length + 96}", strict=False)
    return ipaddress.ip_network(f"10.0.0.{last}/{length}", strict=False)


nets = st.builds(_network, st.booleans(), st.integers(0, 7), st.integers(29, 32))
address_sets = st.one_of(
    st.just(ANY_ADDRESS),
    st.builds(
        lambda inc, exc: AddressSet(tuple(inc), tuple(exc)),
        st.lists(nets, min_size=0, max_size=2),
        st.lists(nets, max_size=1),
    ),
)


@st.composite
def rules(draw: st.DrawFn, index: int) -> Rule:
    return Rule(
        rule_id=f"r{index}",
        position=index,
        action=draw(st.sampled_from([Action.PERMIT, Action.DENY, Action.DROP])),
        span=SourceSpan("prop.conf", index, index, ""),
        sources=draw(address_sets),
        destinations=draw(address_sets),
        services=tuple(draw(st.lists(st.sampled_from(SERVICES), max_size=2))) or (ANY_SERVICE,),
        source_negate=draw(st.booleans()),
        destination_negate=draw(st.booleans()) and draw(st.booleans()),
        service_negate=draw(st.booleans()) and draw(st.booleans()),
        from_zones=tuple(draw(st.lists(st.sampled_from(ZONES), max_size=1))),
        to_zones=tuple(draw(st.lists(st.sampled_from(ZONES), max_size=1))),
        enabled=draw(st.sampled_from([True, True, True, False])),
        stateful_return_only=draw(st.sampled_from([False] * 7 + [True])),
        uncertain=draw(st.sampled_from([False] * 5 + [True])),
        applications=draw(st.sampled_from([()] * 5 + [("modbus",)])),
    )


@st.composite
def filters(draw: st.DrawFn) -> Filter:
    count = draw(st.integers(0, 6))
    return Filter("f", [draw(rules(i + 1)) for i in range(count)], draw(st.sampled_from(list(Action))))


contexts = st.sampled_from([None, *ZONES])
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


FLOW_NODES = {f: SPACE.flow(f) for f in DOMAIN}


def _set_of(flows: list[Flow]) -> FlowSet:
    result = SPACE.empty()
    for f in flows:
        result = result | FLOW_NODES[f]
    return result


@SETTINGS
@given(filters(), contexts, contexts)
def test_fold_agrees_with_the_concrete_evaluator(flt: Filter, from_zone: str | None, to_zone: str | None) -> None:
    analysis = analyse_filter(SPACE, flt, from_zone, to_zone)
    verdicts = {f: evaluate_filter(flt, f, from_zone, to_zone) for f in DOMAIN}
    permitted = [f for f, v in verdicts.items() if v.permitted]
    assert analysis.permitted & DOMAIN_SET == _set_of(permitted)
    assert (analysis.permitted & DOMAIN_SET).count() == len(permitted)
    for rule, flows in analysis.decided:  # each rule decides exactly the flows the evaluator says
        assert flows & DOMAIN_SET == _set_of([f for f, v in verdicts.items() if v.rule is rule]), rule.rule_id
    assert analysis.default & DOMAIN_SET == _set_of([f for f, v in verdicts.items() if v.rule is None])
    for f in DOMAIN[::37]:
        assert analysis.permitted.contains(f) == verdicts[f].permitted
    witness = analysis.permitted.witness()
    if witness is None:
        assert analysis.permitted.is_empty()
    else:
        assert analysis.permitted.contains(witness)
        assert evaluate_filter(flt, witness, from_zone, to_zone).permitted


@SETTINGS
@given(st.lists(rules(1), min_size=2, max_size=2), contexts)
def test_set_algebra_matches_python_sets(pair: list[Rule], zone: str | None) -> None:
    a = rule_match(SPACE, pair[0], zone, None)
    b = rule_match(SPACE, pair[1], zone, None)
    in_a = {f for f in DOMAIN if a.contains(f)}
    in_b = {f for f in DOMAIN if b.contains(f)}
    assert in_a == {f for f in DOMAIN if rule_matches(pair[0], f, zone, None)}
    assert in_b == {f for f in DOMAIN if rule_matches(pair[1], f, zone, None)}
    universe = set(DOMAIN)
    for result, expected in [
        (a | b, in_a | in_b),
        (a & b, in_a & in_b),
        (a - b, in_a - in_b),
        (~a, universe - in_a),
        (a | ~a, universe),
    ]:
        assert result & DOMAIN_SET == _set_of(sorted(expected, key=str))
        assert (result & DOMAIN_SET).count() == len(expected)
        w = result.witness()
        assert (w is None) == result.is_empty()
        if w is not None:
            assert result.contains(w)
    assert (a <= b) == (a - b).is_empty()
    if a <= b:
        assert in_a <= in_b
    assert (a & b == b & a) and (a | (a & b) == a) and (~(a | b) == ~a & ~b)



@SETTINGS
@given(filters(), contexts, st.lists(st.sampled_from(DOMAIN), max_size=6))
def test_decided_meeting_gives_the_full_decided_sets(flt: Filter, zone: str | None, picked: list[Flow]) -> None:
    """The rules deciding some of a few flows, each with all it decides, as the full fold says: from
    the cached full fold, and in a fresh space from folds restricted to the flows and to each rule."""
    full = analyse_filter(SPACE, flt, zone, zone)
    expected = [(rule, decided) for rule, decided in full.decided if decided.intersects(_set_of(picked))]
    assert full.decided_meeting(_set_of(picked)) == expected
    space = PacketSpace()
    flows = space.empty()
    for f in picked:
        flows = flows | space.flow(f)
    restricted = analyse_filter(space, flt, zone, zone).decided_meeting(flows)
    assert [rule for rule, _ in restricted] == [rule for rule, _ in expected]
    for (_, got), (_, want) in zip(restricted, expected, strict=True):
        assert got.count() == want.count()
        assert [got.contains(f) for f in DOMAIN[::7]] == [want.contains(f) for f in DOMAIN[::7]]
