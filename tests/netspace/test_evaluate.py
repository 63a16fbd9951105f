"""The concrete evaluator: verdicts, the filter and rule that decided, and option errors."""

from __future__ import annotations

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import ICMP, TCP, UDP, Service
from plantgate.netspace import evaluate, evaluate_filter, rule_matches
from tests.netspace.builders import addrs, filt, flow, rule, ruleset

HTTPS = flow("10.0.0.1", "10.1.0.1", TCP, 40000, 443)


def test_first_match_and_default() -> None:
    deny = rule("deny-dst", "deny", dst=addrs("10.1.0.0/16"), services=(Service(UDP),))
    web = rule("web", services=(Service(TCP, dst_ports=((443, 443),)),))
    flt = filt("acl", deny, web)
    v = evaluate_filter(flt, HTTPS)
    assert v.permitted and v.rule is web and v.filter == "acl"
    assert str(v).startswith("permitted by rule web of acl")
    v = evaluate_filter(flt, flow("10.0.0.1", "10.1.0.1", UDP, 1, 53))
    assert not v.permitted and v.rule is deny
    v = evaluate_filter(flt, flow("10.0.0.1", "10.1.0.1", ICMP, icmp_type=8))
    assert not v.permitted and v.rule is None and "default action" in str(v)


def test_rule_matches_semantics() -> None:
    assert not rule_matches(rule("off", enabled=False), HTTPS)
    assert not rule_matches(rule("est", stateful_return_only=True), HTTPS)
    assert not rule_matches(rule("u", "deny", uncertain=True), HTTPS)
    assert rule_matches(rule("u", "permit", uncertain=True), HTTPS)
    assert rule_matches(rule("z", from_zones=("a",)), HTTPS)
    assert not rule_matches(rule("z", "deny", from_zones=("a",)), HTTPS)
    assert not rule_matches(rule("z", from_zones=("a",)), HTTPS, "b", "c")
    assert rule_matches(rule("neg", src=addrs("192.168.0.0/16"), source_negate=True), HTTPS)
    assert not rule_matches(rule("none", services=()), HTTPS)
    assert rule_matches(rule("ex", src=addrs("10.0.0.0/8", exclude=("10.0.1.0/24",))), HTTPS)
    assert not rule_matches(rule("ex", src=addrs("10.0.0.0/8", exclude=("10.0.0.0/24",))), HTTPS)
    assert not rule_matches(rule("v6", src=addrs("::/0")), HTTPS)


def test_paths_first_denying_filter_wins() -> None:
    outer = filt("outer", rule("o1", dst=addrs("10.1.0.0/16")))
    inner = filt("inner", rule("i1", "deny", services=(Service(TCP, dst_ports=((443, 443),)),)),
                 default="permit")
    rs = ruleset(outer, inner, zones=("it", "ot"), paths={("it", "ot"): ("outer", "inner")})
    v = evaluate(rs, HTTPS, "it", "ot")
    assert not v.permitted and v.filter == "inner" and v.rule is inner.rules[0]
    v = evaluate(rs, flow("10.0.0.1", "10.1.0.1", UDP, 1, 53), "it", "ot")
    assert v.permitted and v.filter == "inner" and v.rule is None
    v = evaluate(rs, HTTPS, "ot", "it")
    assert not v.permitted and v.filter is None and "default path action" in str(v)
    assert evaluate(rs, HTTPS, filter_name="outer").permitted


def test_option_errors_name_the_choices() -> None:
    rs = ruleset(filt("a"), filt("b"), zones=("x", "y"))
    with pytest.raises(InputError, match="2 filters") as err:
        evaluate(rs, HTTPS)
    assert "a, b" in str(err.value) and "x, y" in str(err.value)
    with pytest.raises(InputError, match="no filter named 'c'"):
        evaluate(rs, HTTPS, filter_name="c")
    with pytest.raises(InputError, match="both a from-zone and a to-zone"):
        evaluate(rs, HTTPS, from_zone="x")
    with pytest.raises(InputError, match="unknown zone"):
        evaluate(rs, HTTPS, "x", "mars")
    single = ruleset(filt("only", rule("r")))
    assert evaluate(single, HTTPS).permitted
