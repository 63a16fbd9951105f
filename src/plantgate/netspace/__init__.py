"""Exact packet-space analysis: sets of flows as BDDs, first-match folding, diff and lint.

Import the pieces from here; the submodules are split by purpose (``space`` the algebra,
``compile`` firewall semantics, ``evaluate`` the concrete oracle, ``diff``, ``lint``,
``translate`` address translation as a relation, ``evaluate_nat`` a packet through NAT).
"""

from plantgate.netspace.compile import (
    FilterAnalysis,
    Permitter,
    PolicyKey,
    analyse_filter,
    describe_permitter,
    permitted_between,
    permitted_sets,
    rule_match,
    rules_permitting,
)
from plantgate.netspace.diff import Change, RulesetDiff, diff_rulesets, is_subset
from plantgate.netspace.evaluate import Verdict, evaluate, evaluate_filter, rule_matches
from plantgate.netspace.evaluate_nat import TranslatedVerdict, evaluate_translated
from plantgate.netspace.flow import Flow
from plantgate.netspace.space import FlowSet, PacketSpace, default_space
from plantgate.netspace.translate import NatStep, TranslatedFlows, translated_permitted

__all__ = [
    "Change",
    "FilterAnalysis",
    "Flow",
    "FlowSet",
    "NatStep",
    "PacketSpace",
    "Permitter",
    "PolicyKey",
    "RulesetDiff",
    "TranslatedFlows",
    "TranslatedVerdict",
    "Verdict",
    "analyse_filter",
    "default_space",
    "describe_permitter",
    "diff_rulesets",
    "evaluate",
    "evaluate_filter",
    "evaluate_translated",
    "is_subset",
    "permitted_between",
    "permitted_sets",
    "rule_match",
    "rule_matches",
    "rules_permitting",
    "translated_permitted",
]
