"""Exact packet-space analysis: sets of flows as BDDs, first-match folding, diff and lint.

Import the pieces from here; the submodules are split by purpose (``space`` the algebra,
``compile`` firewall semantics, ``evaluate`` the concrete oracle, ``diff``, ``lint``).
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
from plantgate.netspace.flow import Flow
from plantgate.netspace.space import FlowSet, PacketSpace, default_space

__all__ = [
    "Change",
    "FilterAnalysis",
    "Flow",
    "FlowSet",
    "PacketSpace",
    "Permitter",
    "PolicyKey",
    "RulesetDiff",
    "Verdict",
    "analyse_filter",
    "default_space",
    "describe_permitter",
    "diff_rulesets",
    "evaluate",
    "evaluate_filter",
    "is_subset",
    "permitted_between",
    "permitted_sets",
    "rule_match",
    "rule_matches",
    "rules_permitting",
]
