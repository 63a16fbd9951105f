"""Hypothesis: a zone pair's NAT outcomes where the policy sees the original packet (PAN-OS), against a
per-packet oracle of the device.

On PAN-OS a NAT rule's to-zone is the zone of the destination *before* translation, while a zone pair
is named by the zone after it. A packet of the pair (A, B) either keeps its destination, and then its
pre-NAT zone is B itself, or a rule moved its destination, and then its pre-NAT zone could be any zone
(the engine does not know where the original destination routes). So the outcomes a packet may have in
the pair are: every outcome of the table evaluated with to-zone B that keeps the destination, and every
outcome with the to-zone unknown that moves it. The engine must hold each of them (never narrower) and
no outcome that keeps the destination beyond them (the table decided exactly in zone B).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.firewalls.nat import NatRule, NatStage
from plantgate.firewalls.ruleset import ANY_SERVICE, Ruleset, SourceSpan
from plantgate.netspace import Flow, PacketSpace
from plantgate.netspace.evaluate import evaluate_filter
from plantgate.netspace.evaluate_nat import evaluate_translated
from plantgate.netspace.nat_oracle import outcomes
from plantgate.netspace.translate import before_filter_permitted
from tests.netspace.test_properties import DOMAIN, SERVICES, ZONES, filters
from tests.netspace.test_translate_pipeline import translations, wide_address_sets

SPACE = PacketSpace()
PRE_NAT_ZONES = (*ZONES, "dmz")
"""A pre-NAT zone outside the pair: a rule naming it never applies to packets that keep their destination."""


@st.composite
def nat_rule(draw: st.DrawFn, position: int) -> NatRule:
    return NatRule(
        rule_id=f"n{position}", position=position, span=SourceSpan("nat.conf", position, position, ""),
        stage=NatStage.BEFORE_FILTER, kind="test",
        sources=draw(wide_address_sets), destinations=draw(wide_address_sets),
        services=draw(st.one_of(st.just((ANY_SERVICE,)),
                                st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2).map(tuple))),
        from_zones=draw(st.sampled_from([(), (), (ZONES[0],), (ZONES[1],)])),
        to_zones=draw(st.sampled_from([(), (ZONES[0],), (ZONES[1],), ("dmz",), (ZONES[1], "dmz")])),
        source=draw(translations), destination=draw(translations), uncertain=draw(st.booleans().map(
            lambda flip: flip and position % 3 == 0)),
    )


@st.composite
def rulesets(draw: st.DrawFn) -> Ruleset:
    count = draw(st.integers(0, 5))
    return Ruleset(name="t", vendor="test", file="t.conf", zones=list(ZONES), filters={"f": draw(filters())},
                   paths={(ZONES[0], ZONES[1]): ("f",), (ZONES[1], ZONES[0]): ("f",)},
                   nat_rules=[draw(nat_rule(i)) for i in range(1, count + 1)], policy_sees="original")


def _moves(rule: NatRule | None) -> bool:
    return rule is not None and rule.destination.addresses is not None


def _device_outcomes(ruleset: Ruleset, flow: Flow, from_zone: str, to_zone: str) -> set[int]:
    """ids of the outcomes (None included) the packet may have in the pair, by the rule above."""
    kept = {id(rule) for rule in outcomes(ruleset.nat_rules, flow, from_zone, to_zone) if not _moves(rule)}
    moved = {id(rule) for pre_nat in (*PRE_NAT_ZONES, None)
             for rule in outcomes(ruleset.nat_rules, flow, from_zone, pre_nat) if _moves(rule)}
    return kept | moved


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rulesets(), st.lists(st.sampled_from(DOMAIN), min_size=8, max_size=24), st.booleans())
def test_original_policy_pairs_hold_every_outcome_and_decide_kept_destinations_exactly(
        ruleset: Ruleset, packets: list[Flow], outward: bool) -> None:
    from_zone, to_zone = (ZONES[0], ZONES[1]) if outward else (ZONES[1], ZONES[0])
    parts = before_filter_permitted(SPACE, ruleset, from_zone, to_zone)
    for flow in packets:
        held = {id(part.rule) for part in parts if flow in part.before}
        permitted = evaluate_filter(ruleset.filters["f"], flow, from_zone, to_zone).permitted
        shown = evaluate_translated(SPACE, ruleset, flow, from_zone, to_zone)  # ``fw test``
        assert shown.verdict.permitted == permitted, flow
        expected = _device_outcomes(ruleset, flow, from_zone, to_zone)
        if ruleset.nat_rules:
            assert id(shown.rewrites[0][1].rule) in expected, flow  # fw test shows an outcome the device may have
        if not permitted:
            assert not held, flow  # the policy decides on the packet as it arrives
            continue
        assert expected <= held, flow  # never narrower than the device
        kept_held = {id(part.rule) for part in parts if flow in part.before and not _moves(part.rule)}
        assert kept_held <= expected, flow  # destinations kept: decided in the pair's own zone
