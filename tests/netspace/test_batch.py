"""The batch evaluator gives exactly the verdicts of the one-packet evaluator, rule for rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import TCP, UDP, Filter, Service
from plantgate.netspace import evaluate, evaluate_filter
from plantgate.netspace.batch import evaluate_batch, evaluate_filter_batch
from tests.netspace.builders import addrs, filt, flow, rule, ruleset
from tests.netspace.test_properties import DOMAIN, SETTINGS, ZONES, contexts, filters


@SETTINGS
@given(filters(), contexts, contexts, st.lists(st.sampled_from(DOMAIN), max_size=40))
def test_filter_batch_equals_the_one_packet_evaluator(flt: Filter, from_zone: str | None, to_zone: str | None,
                                                      packets: list) -> None:
    batch = evaluate_filter_batch(flt, packets, from_zone, to_zone)
    one_by_one = [evaluate_filter(flt, f, from_zone, to_zone) for f in packets]
    assert [(v.permitted, v.filter, v.rule) for v in batch] == [(v.permitted, v.filter, v.rule) for v in one_by_one]
    for verdict, expected in zip(batch, one_by_one, strict=True):
        assert verdict.rule is expected.rule  # the very rule object, not an equal one


@SETTINGS
@given(filters(), filters(), st.lists(st.tuples(st.sampled_from(DOMAIN), st.sampled_from([*ZONES, "dmz"]),
                                                 st.sampled_from(ZONES)), max_size=30))
def test_ruleset_batch_equals_evaluate_on_paths(first: Filter, second: Filter, queries: list) -> None:
    first.name, second.name = "first", "second"
    rs = ruleset(first, second, zones=(*ZONES, "dmz"),
                 paths={("inside", "outside"): ("first", "second"), ("outside", "inside"): ("second",),
                        ("dmz", "inside"): ()})
    batch = evaluate_batch(rs, queries)
    one_by_one = [evaluate(rs, f, a, b) for f, a, b in queries]
    assert [(v.permitted, v.filter, v.rule) for v in batch] == [(v.permitted, v.filter, v.rule) for v in one_by_one]


def test_overlapping_prefixes_and_any_keep_first_match() -> None:
    ssh = (Service(TCP, dst_ports=((22, 22),)),)
    deny = rule("deny-ssh", "deny", dst=addrs("10.1.0.0/16", "10.1.2.0/24"), services=ssh)
    web = rule("web", src=addrs("10.0.0.0/8"), services=(Service(TCP),))
    dns = rule("dns", services=(Service(UDP, dst_ports=((53, 53),)),))
    flt = filt("acl", deny, web, dns)
    packets = [flow("10.0.0.1", "10.1.2.3", TCP, 1, 22), flow("10.0.0.1", "10.1.2.3", TCP, 1, 443),
               flow("192.0.2.1", "10.1.2.3", TCP, 1, 443), flow("192.0.2.1", "10.9.9.9", UDP, 1, 53),
               flow("10.0.0.1", "10.1.2.3", TCP, 1, 22)]
    assert [v.rule.rule_id if v.rule else None for v in evaluate_filter_batch(flt, packets)] == [
        "deny-ssh", "web", None, "dns", "deny-ssh"]


def test_batch_raises_the_same_input_errors() -> None:
    rs = ruleset(filt("a"), filt("b"), zones=("x", "y"))
    with pytest.raises(InputError, match="2 filters"):
        evaluate_batch(rs, [(flow("10.0.0.1", "10.0.0.2"), None, None)])
    with pytest.raises(InputError, match="unknown zone"):
        evaluate_batch(rs, [(flow("10.0.0.1", "10.0.0.2"), "x", "nowhere")])
