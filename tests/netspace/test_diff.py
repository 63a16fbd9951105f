"""Ruleset diffs and the emergency-change subset proof."""

from __future__ import annotations

import pytest

from plantgate.firewalls.ruleset import TCP, Service
from plantgate.netspace import PacketSpace, PolicyKey, diff_rulesets, evaluate, is_subset
from tests.netspace.builders import addrs, filt, rule, ruleset

MODBUS = (Service(TCP, dst_ports=((502, 502),)),)
HTTPS = (Service(TCP, dst_ports=((443, 443),)),)


@pytest.fixture(scope="module")
def space() -> PacketSpace:
    return PacketSpace()


def _current():
    return ruleset(
        filt("it-ot", rule("hist", src=addrs("10.0.0.0/24"), dst=addrs("10.9.0.10/32"), services=HTTPS)),
        zones=("it", "ot"),
        paths={("it", "ot"): ("it-ot",)},
    )


def test_identical_rulesets_have_no_changes(space: PacketSpace) -> None:
    diff = diff_rulesets(space, _current(), _current())
    assert diff.unchanged and diff.opened == [] and diff.closed == []


def test_opened_flow_has_witness_and_the_new_rule(space: PacketSpace) -> None:
    old = _current()
    new = _current()
    modbus = rule("modbus", src=addrs("10.0.0.0/24"), dst=addrs("10.9.0.0/24"), services=MODBUS)
    new.filters["it-ot"].rules.append(modbus)
    diff = diff_rulesets(space, old, new)
    assert diff.closed == []
    [change] = diff.opened
    assert change.key == PolicyKey.pair("it", "ot")
    expected = space.addresses("src", addrs("10.0.0.0/24")) & space.addresses(
        "dst", addrs("10.9.0.0/24")
    ) & space.service(MODBUS[0])
    assert change.flows == expected and change.count() == 256 * 256 * 65536
    assert change.flows.contains(change.witness) and change.witness.dport == 502
    assert evaluate(new, change.witness, "it", "ot").permitted
    assert not evaluate(old, change.witness, "it", "ot").permitted
    assert change.rules == [(new.filters["it-ot"], modbus)]
    ok, refusal = is_subset(space, new, old)
    assert not ok and refusal.opened[0].witness == change.witness


def test_closing_only_change_is_a_subset_and_shows_what_closes(space: PacketSpace) -> None:
    old = _current()
    new = _current()
    narrowed = rule("hist", src=addrs("10.0.0.0/25"), dst=addrs("10.9.0.10/32"), services=HTTPS)
    new.filters["it-ot"].rules[0] = narrowed
    ok, diff = is_subset(space, new, old)
    assert ok and diff.opened == []
    [closed] = diff.closed
    assert closed.count() == 128 * 65536
    assert closed.rules == [(old.filters["it-ot"], old.filters["it-ot"].rules[0])]
    assert not evaluate(new, closed.witness, "it", "ot").permitted


def test_keys_present_in_only_one_ruleset(space: PacketSpace) -> None:
    old = ruleset(filt("a", rule("a1", services=HTTPS)))
    new = ruleset(filt("a", rule("a1", services=HTTPS)), filt("b", rule("b1", services=MODBUS)))
    diff = diff_rulesets(space, old, new)
    assert [c.key for c in diff.opened] == [PolicyKey.of_filter("b")]
    assert diff.opened[0].flows == space.service(MODBUS[0])
    back = diff_rulesets(space, new, old)
    assert [c.key for c in back.closed] == [PolicyKey.of_filter("b")] and back.opened == []


def test_default_action_change_is_reported_with_the_default_as_permitter(space: PacketSpace) -> None:
    old = ruleset(filt("a", rule("deny-modbus", "deny", services=MODBUS)))
    new = ruleset(filt("a", rule("deny-modbus", "deny", services=MODBUS), default="permit"))
    ok, diff = is_subset(space, new, old)
    assert not ok
    [change] = diff.opened
    assert change.flows == ~space.service(MODBUS[0])
    assert change.rules == [(new.filters["a"], None)]


def test_policy_equal_by_content_is_skipped_and_an_edit_is_still_found() -> None:
    """Two parses of one config are different objects with different spans: nothing changes."""
    from plantgate.firewalls.base import parser_for
    from plantgate.netspace import default_space, diff_rulesets

    text = ("access-list A extended permit tcp 10.0.0.0 255.255.255.0 any eq 443\n"
            "access-list B extended permit udp any host 10.1.1.1 eq 53\n")
    asa = parser_for("asa")
    first, second = asa.parse(text, "first.cfg"), asa.parse(text, "second.cfg")
    assert diff_rulesets(default_space(), first, second).unchanged
    edited = asa.parse(text.replace("eq 53", "range 53 54"), "edited.cfg")
    diff = diff_rulesets(default_space(), first, edited)
    assert [str(c.key) for c in diff.opened] == ["filter B"] and diff.opened[0].witness.dport == 54
