"""The IPv4 column evaluator (numpy) gives exactly the one-packet evaluator's verdicts, rule for rule.

Addresses are drawn so that intervals start, end and nest at every prefix length, with IPv6
networks that do and do not denote IPv4 (``::/0`` is IPv6 only; ``::ffff:0:0/96`` and what lies
in it is IPv4), excludes, negations, and services with port ranges, ICMP types and codes.
"""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.firewalls.ruleset import (
    ANY_SERVICE,
    ICMP,
    ICMPV6,
    SCTP,
    TCP,
    UDP,
    Action,
    AddressSet,
    Filter,
    Rule,
    Service,
    SourceSpan,
)
from plantgate.netspace import Flow, evaluate_filter
from plantgate.netspace.batch import evaluate_filter_batch
from plantgate.netspace.evaluate import address_matches
from plantgate.netspace.packet_table import intervals_of

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASES = [0x0A000000, 0x0A000100, 0x0AFFFFFF, 0xC0000200, 0x00000000, 0xFFFFFFFF, 0x0A0000F0]
SPECIAL_V6 = ["::/0", "::ffff:0:0/96", "::ffff:10.0.0.0/120", "2001:db8::/32", "::/1", "8000::/1", "::/64",
              "::fffe:0:0/95"]


@st.composite
def networks(draw: st.DrawFn) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if draw(st.integers(0, 5)) == 0:
        return ipaddress.ip_network(draw(st.sampled_from(SPECIAL_V6)))
    base = draw(st.sampled_from(BASES)) ^ draw(st.integers(0, 255))
    return ipaddress.IPv4Network((base, draw(st.integers(0, 32))), strict=False)


address_sets = st.builds(lambda inc, exc: AddressSet(tuple(inc), tuple(exc)),
                         st.lists(networks(), max_size=3), st.lists(networks(), max_size=2))
ports = st.lists(st.tuples(st.integers(0, 70), st.integers(0, 70)).map(lambda p: (min(p), max(p))), max_size=2)
services = st.one_of(
    st.just(ANY_SERVICE),
    st.builds(Service, st.sampled_from([TCP, UDP, SCTP, None]), ports.map(tuple), ports.map(tuple)),
    st.builds(Service, st.sampled_from([ICMP, ICMPV6, None]), st.just(()), st.just(()),
              st.none() | st.integers(0, 3), st.none() | st.integers(0, 3)),
    st.builds(Service, st.sampled_from([47, 6, 17])),
)


@st.composite
def rules(draw: st.DrawFn, index: int) -> Rule:
    return Rule(f"r{index}", index, draw(st.sampled_from([Action.PERMIT, Action.DENY])),
                SourceSpan("t", index, index, ""), draw(address_sets), draw(address_sets),
                tuple(draw(st.lists(services, min_size=1, max_size=3))),
                source_negate=draw(st.booleans()) and draw(st.booleans()),
                destination_negate=draw(st.booleans()) and draw(st.booleans()),
                service_negate=draw(st.booleans()) and draw(st.booleans()),
                enabled=draw(st.sampled_from([True, True, True, False])))


@st.composite
def packets(draw: st.DrawFn) -> Flow:
    def address() -> ipaddress.IPv4Address:
        return ipaddress.IPv4Address(draw(st.sampled_from(BASES)) ^ draw(st.integers(0, 511)))

    proto = draw(st.sampled_from([TCP, UDP, SCTP, ICMP, ICMPV6, 47]))
    ported = proto in (TCP, UDP, SCTP)
    icmp = proto in (ICMP, ICMPV6)
    return Flow(address(), address(), proto, draw(st.integers(0, 70)) if ported else 0,
                draw(st.integers(0, 70)) if ported else 0, draw(st.integers(0, 3)) if icmp else 0,
                draw(st.integers(0, 3)) if icmp else 0)


@SETTINGS
@given(st.integers(0, 8).flatmap(lambda n: st.tuples(*[rules(i) for i in range(n)])),
       st.lists(packets(), max_size=60), st.sampled_from(list(Action)))
def test_columns_equal_the_one_packet_evaluator(rule_list: tuple[Rule, ...], flows: list[Flow],
                                                default: Action) -> None:
    flt = Filter("f", list(rule_list), default)
    batch = evaluate_filter_batch(flt, flows)
    for flow, verdict in zip(flows, batch, strict=True):
        expected = evaluate_filter(flt, flow)
        assert (verdict.permitted, verdict.filter) == (expected.permitted, expected.filter), flow
        assert verdict.rule is expected.rule, flow


@SETTINGS
@given(address_sets, st.lists(st.integers(0, 2**32 - 1) | st.sampled_from(BASES), max_size=30))
def test_intervals_hold_exactly_the_addresses_the_prefixes_hold(addrs: AddressSet, values: list[int]) -> None:
    include, exclude = intervals_of(addrs.include), intervals_of(addrs.exclude)
    import numpy as np

    array = np.array(values, dtype=np.int64)
    inside = include.contains(array) & ~exclude.contains(array)
    for value, hit in zip(values, inside.tolist(), strict=True):
        assert hit == address_matches(addrs, ipaddress.IPv4Address(value)), value
