"""Hypothesis: NAT, filter and NAT again as sets (``translated_permitted``) and per packet (``evaluate_translated``)
against a plain walk: before-filter rewrite, filter verdict on the rewritten packet, after-filter rewrite.

Tables here are decided (no uncertain rule, zones given) and every rewrite has exactly one result for the
packets drawn (one-address pools, prefix maps, one port or a shift), so the walk is a function: the packet
is permitted exactly when it lies in some entry's ``before``, and its final form then lies in that entry's
``after``.
"""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, PortMapping, Translation
from plantgate.firewalls.ruleset import ANY_ADDRESS, ANY_SERVICE, AddressSet, Ruleset, SourceSpan
from plantgate.netspace import Flow, PacketSpace
from plantgate.netspace.evaluate import evaluate_filter
from plantgate.netspace.evaluate_nat import evaluate_translated
from plantgate.netspace.nat_oracle import example_rewrite, outcomes
from plantgate.netspace.translate import translated_permitted
from tests.netspace.test_properties import DOMAIN, SERVICES, ZONES, address_sets, filters

SPACE = PacketSpace()

wide_address_sets = st.one_of(st.just(ANY_ADDRESS), address_sets)
"""NAT rules that match much of the small domain, so that most drawn packets are translated."""
one_address = st.sampled_from(["10.0.0.3/32", "10.0.0.6/32", "192.168.9.1/32", "2001:db8::1/128"]).map(
    lambda text: AddressMapping(pool=AddressSet((ipaddress.ip_network(text),))))
prefix_maps = st.sampled_from(["10.0.0.4/30", "172.16.0.0/29", "2001:db8::2/127"]).map(
    lambda text: AddressMapping(prefix=ipaddress.ip_network(text)))
exact_ports = st.one_of(st.none(), st.builds(PortMapping, st.sampled_from([(80, 80), (502, 502)])),
                        st.builds(PortMapping, st.just((0, 65535)), st.sampled_from([1, -2, 100])))
translations = st.builds(Translation, st.one_of(st.none(), one_address, prefix_maps), exact_ports)


@st.composite
def nat_rule(draw: st.DrawFn, position: int) -> NatRule:
    return NatRule(
        rule_id=f"n{position}", position=position, span=SourceSpan("nat.conf", position, position, ""),
        stage=draw(st.sampled_from(list(NatStage))), kind="test",
        sources=draw(wide_address_sets), destinations=draw(wide_address_sets),
        services=draw(st.one_of(st.just((ANY_SERVICE,)),
                                st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2).map(tuple))),
        from_zones=draw(st.sampled_from([(), (), (), (ZONES[0],), (ZONES[1],)])),
        to_zones=draw(st.sampled_from([(), (), (), (ZONES[0],), (ZONES[1],)])),
        source=draw(translations), destination=draw(translations),
    )


@st.composite
def rulesets(draw: st.DrawFn) -> Ruleset:
    flt = draw(filters())
    count = draw(st.integers(0, 4))
    return Ruleset(name="t", vendor="test", file="t.conf", zones=list(ZONES), filters={"f": flt},
                   paths={(ZONES[0], ZONES[1]): ("f",), (ZONES[1], ZONES[0]): ("f",)},
                   nat_rules=[draw(nat_rule(i)) for i in range(1, count + 1)])


Walk = tuple[Flow, bool, Flow, tuple[str, ...]]


def _walk(ruleset: Ruleset, flow: Flow, from_zone: str, to_zone: str) -> Walk | None:
    """(after before-filter NAT, permitted, after after-filter NAT, ids of the translating rules);
    None when a rewrite is not exact."""
    before = [r for r in ruleset.nat_rules if r.stage is NatStage.BEFORE_FILTER]
    after = [r for r in ruleset.nat_rules if r.stage is NatStage.AFTER_FILTER]
    (first,) = outcomes(before, flow, from_zone, to_zone)
    rewrite = example_rewrite(first, flow)
    if not rewrite.exact or rewrite.after.src.version != flow.src.version:
        return None
    permitted = evaluate_filter(ruleset.filters["f"], rewrite.after, from_zone, to_zone).permitted
    (second,) = outcomes(after, rewrite.after, from_zone, to_zone)
    final = example_rewrite(second, rewrite.after)
    if not final.exact or final.after.src.version != flow.src.version:
        return None
    rules = tuple(r.rule_id for r in (first, second) if r is not None and not r.is_identity)
    return rewrite.after, permitted, final.after, rules


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.lists(st.sampled_from(DOMAIN), min_size=8, max_size=24), st.booleans())
def test_translated_permitted_and_evaluate_translated_follow_the_walk(ruleset: Ruleset, packets: list[Flow],
                                                                      outward: bool) -> None:
    from_zone, to_zone = (ZONES[0], ZONES[1]) if outward else (ZONES[1], ZONES[0])
    entries = translated_permitted(SPACE, ruleset, from_zone, to_zone)
    for flow in packets:
        walked = _walk(ruleset, flow, from_zone, to_zone)
        if walked is None:  # a rewrite with several results (NAT64 widening): not a function to compare with
            continue
        middle, permitted, final, rules = walked
        holding = [entry for entry in entries if flow in entry.before]
        assert bool(holding) == permitted, flow
        for entry in holding:  # each packet takes one path: only that path's entry may hold it
            assert tuple(r.rule_id for r in entry.rules) == rules, (flow, rules)
            assert final in entry.after, (flow, final)
        result = evaluate_translated(SPACE, ruleset, flow, from_zone, to_zone)
        assert result.verdict.permitted == permitted
        if ruleset.nat_rules and any(r.stage is NatStage.BEFORE_FILTER for r in ruleset.nat_rules):
            assert result.rewrites[0][1].after == middle
