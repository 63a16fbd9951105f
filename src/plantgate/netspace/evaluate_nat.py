"""``fw test`` with address translation: the packet before and after each NAT stage, and the verdict.

The filter decides on the packet after before-filter NAT when the ruleset's policy sees
translated addresses (most vendors), on the arriving packet when it sees the original ones
(PAN-OS); after-filter NAT rewrites what the filter permits. A rule that may translate to
many packets (a pool, an address the config does not hold) is shown with one of them: the
first that the filter permits when there is one (widening toward "permitted": some packet
the rule may produce gets through), found exactly with the BDD image of the packet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from plantgate.firewalls.nat import NatRule, NatStage
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace.compile import analyse_filter
from plantgate.netspace.evaluate import Verdict, evaluate, filters_to_evaluate
from plantgate.netspace.flow import Flow
from plantgate.netspace.nat_oracle import Rewrite, example_rewrite, outcomes
from plantgate.netspace.space import FlowSet, PacketSpace
from plantgate.netspace.translate import by_pre_nat_zone, nat_to_zone, rule_image, stage_rules


@dataclass(frozen=True)
class TranslatedVerdict:
    """The verdict on a packet with the translations it met, before-filter stage first.

    ``rewrites`` holds one entry per stage that has NAT rules (``rule`` None: no rule matched);
    ``alternatives`` says that some rule may or may not apply (uncertain, or zones unknown), so
    other outcomes exist than the one shown.
    """

    verdict: Verdict
    rewrites: tuple[tuple[NatStage, Rewrite], ...]
    alternatives: bool = False


def _permitted(space: PacketSpace, ruleset: Ruleset, from_zone: str | None, to_zone: str | None,
               filter_name: str | None) -> FlowSet:
    filters = filters_to_evaluate(ruleset, from_zone, to_zone, filter_name)
    if filters is None:
        return space.universe() if ruleset.default_path_action.permits else space.empty()
    permitted = space.universe()
    for flt in filters:
        permitted = permitted & analyse_filter(space, flt, from_zone, to_zone).permitted
    return permitted


def _rewrite_towards(space: PacketSpace, rule: NatRule | None, flow: Flow, wanted: FlowSet) -> Rewrite:
    """The rule's rewrite of ``flow``: its example, or else a packet it may produce inside ``wanted``."""
    rewrite = example_rewrite(rule, flow)
    if rewrite.exact or rewrite.after in wanted:
        return rewrite
    reachable = rule_image(space, rule, space.flow(flow)) & wanted
    witness = reachable.witness()
    return rewrite if witness is None else replace(rewrite, after=witness)


def _arrival_outcomes(ruleset: Ruleset, rules: list[NatRule], flow: Flow, from_zone: str | None,
                      to_zone: str | None) -> list[NatRule | None]:
    """The before-filter outcomes of ``flow`` in table order, as ``translate._pair_arrivals`` has them
    (``translate.by_pre_nat_zone`` where the policy sees the original packet)."""
    if ruleset.policy_sees == "translated" or to_zone is None:
        return outcomes(rules, flow, from_zone, to_zone)
    return by_pre_nat_zone(rules, lambda zone: outcomes(rules, flow, from_zone, zone), lambda rule: rule, to_zone)


def evaluate_translated(space: PacketSpace, ruleset: Ruleset, flow: Flow, from_zone: str | None = None,
                        to_zone: str | None = None, filter_name: str | None = None) -> TranslatedVerdict:
    """The verdict of ``ruleset`` on ``flow`` with its NAT rules applied (``evaluate`` when it has none)."""
    if not ruleset.nat_rules:
        return TranslatedVerdict(evaluate(ruleset, flow, from_zone, to_zone, filter_name), ())
    before_rules = stage_rules(ruleset, NatStage.BEFORE_FILTER)
    after_rules = stage_rules(ruleset, NatStage.AFTER_FILTER)
    permitted = _permitted(space, ruleset, from_zone, to_zone, filter_name)
    translated_policy = ruleset.policy_sees == "translated"
    nat_zone = nat_to_zone(ruleset, to_zone)  # PAN-OS: a NAT rule's to-zone is the one before translation
    first_outcomes = _arrival_outcomes(ruleset, before_rules, flow, from_zone, to_zone)
    chosen: tuple[Rewrite, Verdict] | None = None
    for rule in first_outcomes:
        rewrite = _rewrite_towards(space, rule, flow, permitted if translated_policy else space.universe())
        verdict = evaluate(ruleset, rewrite.after if translated_policy else flow, from_zone, to_zone, filter_name)
        if chosen is None or (verdict.permitted and not chosen[1].permitted):
            chosen = (rewrite, verdict)
    assert chosen is not None  # outcomes always ends with the untranslated outcome or a sure rule
    first, verdict = chosen
    rewrites: list[tuple[NatStage, Rewrite]] = []
    if before_rules:
        rewrites.append((NatStage.BEFORE_FILTER, first))
    alternatives = len(first_outcomes) > 1
    if after_rules and verdict.permitted:
        second_outcomes = outcomes(after_rules, first.after, from_zone, nat_zone)
        alternatives = alternatives or len(second_outcomes) > 1
        rewrites.append((NatStage.AFTER_FILTER, example_rewrite(second_outcomes[0], first.after)))
    return TranslatedVerdict(verdict, tuple(rewrites), alternatives)
