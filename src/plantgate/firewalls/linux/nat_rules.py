"""Flattened netfilter nat chains to vendor-neutral NAT rules, shared by iptables and nftables.

Both read a nat chain like a filter chain (jumps, gotos and returns inlined by ``chains``,
every rule "accepting"), keeping beside it what each rule's target translates. This module
puts the two together, per hook:

* prerouting: before the filter, for packets arriving on an interface (never ``self``);
* output: before the filter, for packets the host sends (from ``self``);
* postrouting: after the filter, for packets leaving on an interface;
* input: after the filter, for packets delivered to the host (to ``self``).
A rule without a target's translation (``accept``, a base chain's return) is an identity
rule: the packet leaves this table untranslated. REDIRECT sends the flow to ``self``: in a
before-filter rule ``to_zones`` says where the translated flow goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from plantgate.firewalls.linux.chains import SELF_ZONE
from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, Translation
from plantgate.firewalls.ruleset import ANY_SERVICE, Rule

HOOK_STAGES = {"prerouting": NatStage.BEFORE_FILTER, "output": NatStage.BEFORE_FILTER,
               "postrouting": NatStage.AFTER_FILTER, "input": NatStage.AFTER_FILTER}
"""The nat hooks in the order packets meet them within a stage."""


@dataclass
class NatTarget:
    """What one nat-chain rule does to the packets it takes.

    ``netmap`` is for a prefix or pool mapping whose rewritten end depends on the hook (NETMAP:
    the destination before the filter, the source after it); ``to_self`` for REDIRECT.
    ``reasons`` say what was widened.
    """

    kind: str
    source: Translation = field(default_factory=Translation)
    destination: Translation = field(default_factory=Translation)
    netmap: AddressMapping | None = None
    to_self: bool = False
    reasons: list[str] = field(default_factory=list)


def written_id(rule: Rule) -> str:
    """``chain#number`` of the chain rule a flattened rule came from (copies end in ``@n``)."""
    return rule.rule_id.split("@", 1)[0]


def hook_nat_rules(hook: str, flattened: list[Rule], targets: Mapping[str, NatTarget],
                   interface_zones: tuple[str, ...], first_position: int, id_prefix: str) -> list[NatRule]:
    """The NAT rules of one hook's flattened chain; ``targets`` by ``written_id``."""
    stage = HOOK_STAGES[hook]
    found: list[NatRule] = []
    for rule in flattened:
        if rule.stateful_return_only:  # the nat table sees only a connection's first packet
            continue
        target = targets.get(written_id(rule)) or NatTarget("no-nat")
        source, destination = target.source, target.destination
        if target.netmap is not None:
            if stage is NatStage.BEFORE_FILTER:
                destination = Translation(target.netmap, destination.ports)
            else:
                source = Translation(target.netmap, source.ports)
        from_zones, to_zones = rule.from_zones, rule.to_zones
        if hook == "prerouting":
            from_zones = from_zones or interface_zones
        elif hook == "output":
            from_zones = (SELF_ZONE,)
        elif hook == "postrouting":
            to_zones = to_zones or interface_zones
        else:
            to_zones = (SELF_ZONE,)
        if target.to_self:
            to_zones = (SELF_ZONE,)
        widened = tuple(dict.fromkeys((*target.reasons, *rule.widened)))
        services, uncertain = rule.services, rule.uncertain
        if rule.service_negate:
            widened += ("negated service match: the rule may or may not apply",)
            services, uncertain = (ANY_SERVICE,), True
        found.append(NatRule(
            rule_id=f"{id_prefix}{rule.rule_id}",
            position=first_position + len(found),
            span=rule.span,
            stage=stage,
            kind=target.kind,
            sources=rule.sources,
            destinations=rule.destinations,
            services=services,
            from_zones=from_zones,
            to_zones=to_zones,
            source=source,
            destination=destination,
            widened=widened,
            uncertain=uncertain,
        ))
    return found
