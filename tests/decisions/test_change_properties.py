"""Property tests behind the close-only proof: permit-only rulesets are monotone in their rules."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from plantgate.firewalls.ruleset import Action, AddressSet, Filter, Rule, Ruleset, Service, SourceSpan
from plantgate.netspace import default_space, diff_rulesets, is_subset, rule_match

SPAN = SourceSpan("gen.cfg", 1, 1, "generated")

prefixes = st.builds(lambda host, length: ipaddress.ip_network(f"10.0.0.{host}/{length}", strict=False),
                     st.integers(0, 15), st.integers(28, 32))
services = st.one_of(
    st.just(Service()),
    st.builds(lambda proto, lo, width: Service(proto, dst_ports=((lo, lo + width),)),
              st.sampled_from([6, 17]), st.integers(20, 30), st.integers(0, 5)),
    st.builds(lambda t: Service(1, icmp_type=t), st.sampled_from([0, 8])),
)


@st.composite
def permit_rules(draw: st.DrawFn, count: int) -> list[Rule]:
    return [Rule(rule_id=f"acl#{i}", position=i, action=Action.PERMIT, span=SPAN,
                 sources=AddressSet((draw(prefixes),)), destinations=AddressSet((draw(prefixes),)),
                 services=(draw(services),)) for i in range(1, count + 1)]


def ruleset_of(rules: list[Rule]) -> Ruleset:
    return Ruleset(name="r", vendor="asa", file="gen.cfg", filters={"acl": Filter("acl", rules)})


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6).flatmap(permit_rules), st.data())
def test_removing_a_rule_from_permits_never_opens(rules: list[Rule], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(rules) - 1))
    smaller = ruleset_of(rules[:index] + rules[index + 1:])
    closes_only, diff = is_subset(default_space(), smaller, ruleset_of(rules))
    assert closes_only and diff.opened == []


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 5).flatmap(permit_rules), permit_rules(1), st.data())
def test_adding_a_permit_opens_exactly_what_it_newly_allows(rules: list[Rule], extra: list[Rule],
                                                           data: st.DataObject) -> None:
    space = default_space()
    where = data.draw(st.integers(0, len(rules)))
    before = ruleset_of(rules)
    after = ruleset_of(rules[:where] + extra + rules[where:])
    diff = diff_rulesets(space, before, after)
    newly = rule_match(space, extra[0])
    for rule in rules:
        newly = newly - rule_match(space, rule)
    opened = diff.opened[0].flows if diff.opened else space.empty()
    assert opened == newly
    assert diff.closed == []
