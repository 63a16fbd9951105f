"""Firewall semantics in set form: rule matches, zones, paths, policy keys and permitters."""

from __future__ import annotations

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import TCP, UDP, Rule, Service
from plantgate.netspace import (
    FlowSet,
    PacketSpace,
    PolicyKey,
    analyse_filter,
    describe_permitter,
    permitted_between,
    permitted_sets,
    rule_match,
    rules_permitting,
)
from tests.netspace.builders import addrs, filt, flow, rule, ruleset

WEB = (Service(TCP, dst_ports=((443, 443),)),)


@pytest.fixture(scope="module")
def space() -> PacketSpace:
    return PacketSpace()


def test_rules_that_never_match_new_flows(space: PacketSpace) -> None:
    assert rule_match(space, rule("off", enabled=False)).is_empty()
    assert rule_match(space, rule("est", stateful_return_only=True)).is_empty()
    assert rule_match(space, rule("u", "deny", uncertain=True)).is_empty()
    assert rule_match(space, rule("app", "deny", applications=("modbus",))).is_empty()
    widened = rule("wide", "permit", uncertain=True, dst=addrs("10.0.0.0/8"))
    assert rule_match(space, widened) == space.addresses("dst", addrs("10.0.0.0/8"))


def test_negations(space: PacketSpace) -> None:
    r = rule("n", src=addrs("10.0.0.0/8"), source_negate=True, services=WEB, service_negate=True)
    m = rule_match(space, r)
    assert m == ~space.addresses("src", addrs("10.0.0.0/8")) & ~space.service(WEB[0])
    assert m.contains(flow("192.168.0.1", "10.0.0.1", UDP, 1, 443))
    assert not m.contains(flow("10.0.0.1", "10.0.0.2", UDP, 1, 53))


def test_zone_context_widens_toward_permitted(space: PacketSpace) -> None:
    permit = rule("p", from_zones=("inside",))
    deny = rule("d", "deny", to_zones=("outside",))
    assert rule_match(space, permit, None, None) == space.universe()
    assert rule_match(space, deny, None, None).is_empty()
    assert rule_match(space, permit, "inside", "dmz") == space.universe()
    assert rule_match(space, permit, "dmz", "inside").is_empty()
    assert rule_match(space, deny, "inside", "outside") == space.universe()


def test_first_match_fold_and_default(space: PacketSpace) -> None:
    deny_host = rule("deny-host", "deny", src=addrs("10.0.0.5/32"))
    permit_net = rule("permit-net", src=addrs("10.0.0.0/24"), services=WEB)
    flt = filt("acl", deny_host, permit_net)
    analysis = analyse_filter(space, flt)
    net = space.addresses("src", addrs("10.0.0.0/24")) & space.service(WEB[0])
    host = space.addresses("src", addrs("10.0.0.5/32"))
    assert analysis.permitted == net - host
    assert [r.rule_id for r, _ in analysis.decided] == ["deny-host", "permit-net"]
    assert analysis.decided[0][1] == host
    assert analysis.decided[1][1] == net - host
    assert analysis.default == ~(host | net)
    permissive = filt("open", deny_host, default="permit")
    assert analyse_filter(space, permissive).permitted == ~host


def test_zone_contexts_fold_the_rules_their_zones_let_through(space: PacketSpace) -> None:
    """A fold walks only the rules its zone context can match (an index): it must still fold as if it
    asked every rule, unknown and unnamed contexts included, with several zones per rule and rules
    that never match (disabled, undecided denies)."""
    zone_sets = [(), ("a",), ("a", "b"), ("c",)]
    rules = []
    for i, (from_zones, to_zones) in enumerate((f, t) for f in zone_sets for t in zone_sets):
        action = "deny" if i % 3 == 0 else "permit"
        extra = {"enabled": False} if i == 7 else {"uncertain": True} if i % 5 == 0 else {}
        rules.append(rule(f"z{i}", action, dst=addrs(f"10.0.{i % 6}.0/24"), from_zones=from_zones,
                          to_zones=to_zones, **extra))
    flt = filt("zoned", *rules, default="permit")
    contexts = [None, "a", "b", "c", "elsewhere"]
    for from_zone in contexts:
        for to_zone in contexts:
            expected = space.universe()
            for r in reversed(rules):
                match = rule_match(space, r, from_zone, to_zone)
                expected = (match if r.action.permits else space.empty()) | (expected - match)
            analysis = analyse_filter(space, flt, from_zone, to_zone)
            assert analysis.permitted == expected, (from_zone, to_zone)
            assert [decided.is_empty() for _, decided in analysis.decided] == [
                (rule_match(space, r, from_zone, to_zone) - union).is_empty()
                for r, union in zip(rules, _earlier_unions(space, rules, from_zone, to_zone), strict=True)]


def _earlier_unions(space: PacketSpace, rules: list[Rule], from_zone: str | None, to_zone: str | None) -> list[FlowSet]:
    unions, seen = [], space.empty()
    for r in rules:
        unions.append(seen)
        seen = seen | rule_match(space, r, from_zone, to_zone)
    return unions


def test_cached_analysis_follows_filter_edits(space: PacketSpace) -> None:
    flt = filt("acl", rule("a", services=WEB))
    first = analyse_filter(space, flt).permitted
    flt.rules.append(rule("b", services=(Service(UDP),)))
    assert analyse_filter(space, flt).permitted == first | space.service(Service(UDP))


def test_paths_are_the_and_of_their_filters(space: PacketSpace) -> None:
    outer = filt("outer", rule("o1", dst=addrs("10.1.0.0/16")))
    inner = filt("inner", rule("i1", services=WEB))
    rs = ruleset(outer, inner, zones=("it", "ot"), paths={("it", "ot"): ("outer", "inner")})
    expected = space.addresses("dst", addrs("10.1.0.0/16")) & space.service(WEB[0])
    assert permitted_between(space, rs, "it", "ot") == expected
    assert permitted_between(space, rs, "ot", "it").is_empty()  # no path: default path action deny
    rs.default_path_action = rs.default_path_action.__class__("permit")
    assert permitted_between(space, rs, "ot", "it") == space.universe()
    rs.paths[("ot", "it")] = ()
    assert permitted_between(space, rs, "ot", "it") == space.universe()


def test_permitted_sets_keys(space: PacketSpace) -> None:
    a, b = filt("a", rule("a1")), filt("b")
    plain = ruleset(a, b)
    assert set(permitted_sets(space, plain)) == {PolicyKey.of_filter("a"), PolicyKey.of_filter("b")}
    zoned = ruleset(a, b, zones=("x", "y", "z"), paths={("x", "y"): ("a",), ("z", "z"): ("b",)})
    keys = permitted_sets(space, zoned)
    assert PolicyKey.pair("x", "y") in keys and PolicyKey.pair("z", "z") in keys
    assert len(keys) == 7  # six ordered pairs of distinct zones plus the same-zone path
    assert keys[PolicyKey.pair("x", "y")] == space.universe()
    assert str(PolicyKey.pair("x", "y")) == "x -> y" and str(PolicyKey.of_filter("a")) == "filter a"


def test_rules_permitting_names_rules_and_defaults(space: PacketSpace) -> None:
    deny_host = rule("deny-host", "deny", src=addrs("10.0.0.5/32"))
    web = rule("web", services=WEB)
    flt = filt("acl", deny_host, web, default="permit")
    rs = ruleset(flt)
    key = PolicyKey.of_filter("acl")
    https = space.flow(flow("10.0.0.1", "10.0.0.2", TCP, 1024, 443))
    assert rules_permitting(space, rs, key, https) == [(flt, web)]
    udp = space.flow(flow("10.0.0.1", "10.0.0.2", UDP, 1024, 53))
    assert rules_permitting(space, rs, key, udp) == [(flt, None)]
    assert rules_permitting(space, rs, key, space.addresses("src", addrs("10.0.0.5/32"))) == []
    assert rules_permitting(space, rs, key, space.empty()) == []
    assert describe_permitter((flt, web)) == f"rule web of acl ({web.span})"
    assert describe_permitter((flt, None)) == "default action permit of acl"
    zoned = ruleset(flt, zones=("a", "b"), paths={("a", "b"): ("acl",)}, default_path="permit")
    assert rules_permitting(space, zoned, PolicyKey.pair("b", "a"), udp) == [(None, None)]
    assert rules_permitting(space, zoned, PolicyKey.pair("a", "b"), https) == [(flt, web)]
    analysis = analyse_filter(space, flt)
    _ = analysis.decided  # the cached full fold answers the same
    assert rules_permitting(space, rs, key, https | udp) == [(flt, web), (flt, None)]


def test_bad_values_raise_input_error_with_the_rule_line(space: PacketSpace) -> None:
    bad = rule("bad", services=(Service(TCP, dst_ports=((80, 99999),)),))
    with pytest.raises(InputError) as err:
        rule_match(space, bad)
    problem = err.value.problems[0]
    assert problem.location.file == "test.conf" and problem.location.line == bad.span.line
    assert "99999" in problem.message
    missing = ruleset(filt("a"), zones=("x", "y"), paths={("x", "y"): ("nope",)})
    with pytest.raises(InputError, match="nope"):
        permitted_between(space, missing, "x", "y")
