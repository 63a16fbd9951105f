"""The edit-restricted diff against the full computation, and the boxes it prefilters with.

Random small rulesets get random edits (insert, delete, modify, move, duplicate, default
action changes, paths changed or dropped); the diff must give exactly what folding both
rulesets in full gives: the same keys, flows, witnesses and permitter rules (by identity).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.errors import InputError
from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_SERVICE,
    ICMP,
    TCP,
    UDP,
    Action,
    AddressSet,
    Filter,
    Rule,
    Ruleset,
    Service,
    SourceSpan,
)
from plantgate.netspace import PacketSpace, diff_rulesets, rule_matches
from plantgate.netspace import compile as compile_module
from plantgate.netspace import restricted as restricted_module
from plantgate.netspace.boxes import Box, Boxes, BoxSet, axes_meet, merged, minus
from plantgate.netspace.compile import Permitter, PolicyKey, permitted_for, rules_permitting
from plantgate.netspace.diff import RulesetDiff, _keys
from plantgate.netspace.evaluate import address_matches
from plantgate.netspace.flow import Flow, address_to_int
from plantgate.netspace.restricted import EditRestriction
from plantgate.netspace.signatures import Signatures
from plantgate.netspace.space import FlowSet
from tests.netspace.builders import addrs, filt, rule, ruleset

SPACE = PacketSpace()
ZONES = ["inside", "outside"]
SERVICES = [
    ANY_SERVICE,
    Service(TCP),
    Service(TCP, dst_ports=((80, 80),)),
    Service(TCP, dst_ports=((20, 79),)),
    Service(UDP, dst_ports=((53, 80),)),
    Service(TCP, src_ports=((1000, 2000),), dst_ports=((22, 22),)),
    Service(ICMP, icmp_type=8),
    Service(None, dst_ports=((80, 80),)),
    Service(47),
    Service(47, dst_ports=((80, 80),)),  # ports bind only TCP/UDP/SCTP: this is all of protocol 47
]


def _network(v6: bool, last: int, length: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if v6:
        return ipaddress.ip_network(f"2001:db8::{last % 4}/{length + 96}", strict=False)
    return ipaddress.ip_network(f"10.0.0.{last}/{length}", strict=False)


nets = st.one_of(
    st.builds(_network, st.booleans(), st.integers(0, 7), st.integers(29, 32)),
    st.sampled_from([ipaddress.ip_network("::/0"), ipaddress.ip_network("::ffff:10.0.0.0/125"),
                     ipaddress.ip_network("0.0.0.0/0")]),
)
address_sets = st.one_of(
    st.just(ANY_ADDRESS),
    st.builds(lambda inc, exc: AddressSet(tuple(inc), tuple(exc)),
              st.lists(nets, max_size=2), st.lists(nets, max_size=1)),
)


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    index = draw(st.integers(1, 10_000))
    return Rule(
        rule_id=f"r{index}",
        position=index,
        action=draw(st.sampled_from([Action.PERMIT, Action.PERMIT, Action.DENY])),
        span=SourceSpan("prop.conf", index, index, ""),
        sources=draw(address_sets),
        destinations=draw(address_sets),
        services=tuple(draw(st.lists(st.sampled_from(SERVICES), max_size=2))) or (ANY_SERVICE,),
        source_negate=draw(st.sampled_from([False] * 5 + [True])),
        destination_negate=draw(st.sampled_from([False] * 7 + [True])),
        service_negate=draw(st.sampled_from([False] * 7 + [True])),
        from_zones=tuple(draw(st.lists(st.sampled_from(ZONES), max_size=1))),
        to_zones=tuple(draw(st.lists(st.sampled_from(ZONES), max_size=1))),
        enabled=draw(st.sampled_from([True] * 7 + [False])),
        stateful_return_only=draw(st.sampled_from([False] * 9 + [True])),
        uncertain=draw(st.sampled_from([False] * 7 + [True])),
    )


def _reparsed(r: Rule) -> Rule:
    """An equal rule as a second parse would give it: new objects, another line."""
    return dataclasses.replace(
        r, span=SourceSpan("new.conf", r.position + 1, r.position + 1, ""),
        sources=AddressSet(r.sources.include, r.sources.exclude), services=tuple(r.services))


@st.composite
def edited(draw: st.DrawFn, flt: Filter, structural: bool) -> Filter:
    """``flt`` after a few random edits (and, if ``structural``, maybe a new default), every rule a new object."""
    new_rules = [_reparsed(r) for r in flt.rules]
    for _ in range(draw(st.integers(0 if structural else 1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "modify", "move", "duplicate", "action"]))
        if op == "insert" or not new_rules:
            new_rules.insert(draw(st.integers(0, len(new_rules))), draw(rules()))
            continue
        i = draw(st.integers(0, len(new_rules) - 1))
        if op == "delete":
            del new_rules[i]
        elif op == "modify":
            new_rules[i] = draw(rules())
        elif op == "move":
            new_rules.insert(draw(st.integers(0, len(new_rules) - 1)), new_rules.pop(i))
        elif op == "duplicate":
            new_rules.insert(draw(st.integers(0, len(new_rules))), _reparsed(new_rules[i]))
        else:
            action = Action.DENY if new_rules[i].action.permits else Action.PERMIT
            new_rules[i] = dataclasses.replace(new_rules[i], action=action)
    default = draw(st.sampled_from([flt.default_action] * 9 + list(Action))) if structural else flt.default_action
    return Filter(flt.name, new_rules, default)


@st.composite
def ruleset_pairs(draw: st.DrawFn, structural: bool = True) -> tuple[Ruleset, Ruleset]:
    """Old and edited rulesets; ``structural`` also changes defaults, adds a filter, drops or reroutes a path."""
    names = ["f", "g", "h"][: draw(st.integers(1, 3))]
    old_filters = [Filter(n, draw(st.lists(rules(), max_size=7)), draw(st.sampled_from(list(Action))))
                   for n in names]
    new_filters = [draw(edited(f, structural)) for f in old_filters]
    if structural and draw(st.booleans()):
        new_filters.append(Filter("extra", draw(st.lists(rules(), max_size=2))))
    if not draw(st.booleans()):
        return ruleset(*old_filters), ruleset(*new_filters)
    pairs = list(itertools.permutations(ZONES + ["dmz"], 2))
    old_paths = {pair: tuple(draw(st.lists(st.sampled_from(names), min_size=0, max_size=2, unique=True)))
                 for pair in draw(st.lists(st.sampled_from(pairs), max_size=4, unique=True))}
    new_paths = dict(old_paths)
    if structural and old_paths and draw(st.booleans()):  # a path dropped or rerouted
        pair = draw(st.sampled_from(sorted(old_paths)))
        if draw(st.booleans()):
            del new_paths[pair]
        else:
            new_paths[pair] = tuple(draw(st.lists(st.sampled_from(names), max_size=3, unique=True)))
    zones = tuple(ZONES + ["dmz"])
    default_path = draw(st.sampled_from(["permit", "deny"]))
    new_default_path = draw(st.sampled_from(["permit", "deny"])) if structural else default_path
    return (ruleset(*old_filters, paths=old_paths, zones=zones, default_path=default_path),
            ruleset(*new_filters, paths=new_paths, zones=zones, default_path=new_default_path))


ChangeRow = tuple[str, PolicyKey, FlowSet, Flow | None, list[Permitter]]


def _full_diff(space: PacketSpace, old: Ruleset, new: Ruleset) -> list[ChangeRow]:
    """What the diff must be: both permitted sets folded in full, the permitters from full analyses."""
    opened: list[ChangeRow] = []
    closed: list[ChangeRow] = []
    for key in _keys(old, new):
        before, after = permitted_for(space, old, key), permitted_for(space, new, key)
        sides = ((opened, "opened", after - before, new), (closed, "closed", before - after, old))
        for found, kind, flows, side in sides:
            if not flows.is_empty():
                found.append((kind, key, flows, flows.witness(), rules_permitting(space, side, key, flows)))
    return opened + closed


def _as_list(diff: RulesetDiff) -> list[ChangeRow]:
    rows: list[ChangeRow] = [("opened", c.key, c.flows, c.witness, c.rules) for c in diff.opened]
    return rows + [("closed", c.key, c.flows, c.witness, c.rules) for c in diff.closed]


def _same_permitters(got: list[Permitter], expected: list[Permitter]) -> bool:
    return len(got) == len(expected) and all(a[0] is b[0] and a[1] is b[1] for a, b in zip(got, expected, strict=True))


def _restricted_applies(old: Ruleset, new: Ruleset, key: PolicyKey) -> bool:
    """The premise of the shortcut: the key's filters on both sides, pairwise, with equal defaults."""
    def filters(rs: Ruleset) -> list[Filter] | None:
        if key.kind == "filter":
            return [rs.filters[key.filter]] if key.filter in rs.filters else None
        names = rs.paths.get((key.from_zone, key.to_zone))
        return None if names is None else [rs.filters[n] for n in names]

    a, b = filters(old), filters(new)
    return (a is not None and b is not None and len(a) == len(b)
            and all(x.default_action is y.default_action for x, y in zip(a, b, strict=True)))


def _assert_diff_is_the_full_one(old: Ruleset, new: Ruleset, any_share: bool) -> None:
    share = 1.0 if any_share else restricted_module._MAX_EDITED_SHARE  # 1.0: the shortcut whenever it applies
    with mock.patch.object(restricted_module, "_MAX_EDITED_SHARE", share):
        got = _as_list(diff_rulesets(SPACE, old, new))
        if any_share:
            restriction = EditRestriction(SPACE, Signatures())
            for key in _keys(old, new):
                assert (restriction.compare(old, new, key) is not None) == _restricted_applies(old, new, key)
    expected = _full_diff(SPACE, old, new)
    assert [(kind, key) for kind, key, *_ in got] == [(kind, key) for kind, key, *_ in expected]
    for (_, key, flows, witness, permitters), (_, _, full_flows, full_witness, full_permitters) in zip(
            got, expected, strict=True):
        assert flows == full_flows, key
        assert witness == full_witness, key
        assert _same_permitters(permitters, full_permitters), key


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(ruleset_pairs(), st.booleans())
def test_diff_equals_the_full_computation_under_any_change(pair: tuple[Ruleset, Ruleset], any_share: bool) -> None:
    _assert_diff_is_the_full_one(*pair, any_share)


@SETTINGS
@given(ruleset_pairs(structural=False))
def test_restricted_diff_equals_the_full_computation_under_rule_edits(pair: tuple[Ruleset, Ruleset]) -> None:
    _assert_diff_is_the_full_one(*pair, any_share=True)


def test_a_small_edit_builds_no_full_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """One changed rule in a long filter: the proof folds what the edit reaches, not the filter."""
    web = (Service(TCP, dst_ports=((443, 443),)),)
    modbus = (Service(TCP, dst_ports=((502, 502),)),)
    old_rules = [rule(f"host{i}", src=addrs(f"10.1.{i}.0/24"), dst=addrs(f"10.2.{i}.10/32"), services=web)
                 for i in range(200)]
    new_rules = [_reparsed(r) for r in old_rules]
    new_rules[150] = rule("widened", src=addrs("10.1.150.0/24"), dst=addrs("10.2.150.0/24"), services=modbus)
    old = ruleset(filt("it-ot", *old_rules), zones=("it", "ot"), paths={("it", "ot"): ("it-ot",)})
    new = ruleset(filt("it-ot", *new_rules), zones=("it", "ot"), paths={("it", "ot"): ("it-ot",)})

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a full filter analysis was built")

    monkeypatch.setattr(compile_module, "analyse_filter", refuse)
    diff = diff_rulesets(SPACE, old, new)
    [opened], [closed] = diff.opened, diff.closed
    assert opened.rules == [(new.filters["it-ot"], new_rules[150])]
    assert closed.rules == [(old.filters["it-ot"], old_rules[150])]
    assert opened.witness.dport == 502 and closed.witness.dport == 443
    assert opened.count() == 256 * 256 * 65536 and closed.count() == 256 * 65536


def test_a_changed_default_action_falls_back_to_the_full_computation() -> None:
    old = ruleset(filt("a", rule("deny-web", "deny", services=(Service(TCP, dst_ports=((80, 80),)),))))
    new = ruleset(filt("a", _reparsed(old.filters["a"].rules[0]), default="permit"))
    assert EditRestriction(SPACE, Signatures()).compare(old, new, PolicyKey.of_filter("a")) is None
    [change] = diff_rulesets(SPACE, old, new).opened
    assert change.rules == [(new.filters["a"], None)]


def test_a_rule_the_builder_rejects_is_still_reported() -> None:
    """Far from the edit, an unbuildable rule is built all the same, and fails as the full fold would."""
    bad = rule("bad", src=addrs("192.0.2.0/24"), services=(Service(300),))
    web = (Service(TCP, dst_ports=((80, 80),)),)
    others = [rule(f"r{i}", src=addrs(f"10.1.{i}.0/24"), services=web) for i in range(8)]
    old = ruleset(filt("a", bad, *others, rule("web", src=addrs("10.0.0.0/24"), services=web)))
    new = ruleset(filt("a", _reparsed(bad), *others, rule("web", src=addrs("10.0.1.0/24"), services=web)))
    with pytest.raises(InputError, match="protocol 300"):  # the shortcut applies, and builds the far rule
        EditRestriction(PacketSpace(), Signatures()).compare(old, new, PolicyKey.of_filter("a"))
    with pytest.raises(InputError, match="protocol 300"):
        diff_rulesets(PacketSpace(), old, new)


# ----- boxes -----

V4 = [ipaddress.ip_address(f"10.0.0.{i}") for i in range(0, 16, 3)] + [ipaddress.ip_address("192.168.1.1")]
V6 = [ipaddress.ip_address(a) for a in ("2001:db8::1", "2001:db8::3", "::1", "fe80::1")]
FLOWS = [Flow(src, dst, proto, 1024 if proto in (TCP, UDP) else 0, port if proto in (TCP, UDP) else 0,
              8 if proto == ICMP else 0)
         for hosts in (V4, V6) for src, dst in itertools.product(hosts, repeat=2)
         for proto, port in ((TCP, 80), (TCP, 22), (UDP, 53), (ICMP, 0), (47, 0))]


def _point(f: Flow) -> tuple[int, int, int]:
    return address_to_int(f.src), address_to_int(f.dst), f.proto << 16 | f.dport


def _inside(point: tuple[int, int, int], box: Box) -> bool:
    return all(axis is None or any(low <= value <= high for low, high in axis)
               for value, axis in zip(point, box, strict=True))


@settings(max_examples=150, deadline=None)
@given(address_sets)
def test_address_intervals_are_exactly_the_addresses(addresses: AddressSet) -> None:
    intervals = Boxes().addresses(addresses)
    assert intervals == merged(intervals)
    for address in V4 + V6:
        value = address_to_int(address)
        assert any(low <= value <= high for low, high in intervals) == address_matches(addresses, address)


@settings(max_examples=150, deadline=None)
@given(rules(), st.sampled_from([None, *ZONES]))
def test_a_rule_matches_only_flows_inside_its_box(r: Rule, zone: str | None) -> None:
    box = Boxes().of_rule(r)
    for f in FLOWS:
        if rule_matches(r, f, zone, zone):
            assert _inside(_point(f), box), f


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 6)), max_size=5),
       st.lists(st.tuples(st.integers(0, 40), st.integers(0, 6)), max_size=5))
def test_interval_algebra_agrees_with_sets(a_spans: list[tuple[int, int]], b_spans: list[tuple[int, int]]) -> None:
    a = merged((low, low + width) for low, width in a_spans)
    b = merged((low, low + width) for low, width in b_spans)

    def values(intervals: tuple[tuple[int, int], ...]) -> set[int]:
        return {v for low, high in intervals for v in range(low, high + 1)}

    assert axes_meet(a, b) == bool(values(a) & values(b))
    assert values(minus(a, b)) == values(a) - values(b)
    box_a: Box = (a, None, None)
    assert BoxSet([(b, None, None)]).meets(box_a) == bool(values(a) & values(b))


_AXES = st.one_of(st.none(), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=3).map(
    lambda spans: merged((low, low + width) for low, width in spans)))
_BOXES = st.tuples(_AXES, _AXES, _AXES)


@settings(max_examples=200, deadline=None)
@given(st.lists(_BOXES, max_size=12), st.lists(_BOXES, max_size=8))
def test_box_set_index_finds_exactly_the_meeting_boxes(edited: list[Box], queries: list[Box]) -> None:
    """The interval index of BoxSet narrows candidates only: the answer is the box-by-box one."""
    boxes = BoxSet(edited)
    for query in queries:
        expected = any(all(axes_meet(x, y) for x, y in zip(query, other, strict=True)) for other in edited)
        assert boxes.meets(query) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(rules(), max_size=12), st.lists(st.sampled_from([*ZONES, "dmz"]), max_size=2),
       st.lists(st.sampled_from([*ZONES, "dmz"]), max_size=2),
       st.sampled_from([None, *ZONES, "dmz"]), st.sampled_from([None, *ZONES, "dmz"]))
def test_zone_index_leaves_out_only_rules_matching_nothing_in_the_context(
        drawn: list[Rule], extra_from: list[str], extra_to: list[str],
        from_zone: str | None, to_zone: str | None) -> None:
    """``ZoneIndex.candidates`` keeps filter order and leaves out exactly the rules whose match the
    context's zones (or the rule's state) make empty: never one that could match, so folds over the
    candidates are the folds over every rule (rules naming several zones too, which the ruleset
    strategy does not draw)."""
    listed = [dataclasses.replace(r, from_zones=r.from_zones + tuple(extra_from) if i % 2 else r.from_zones,
                                  to_zones=r.to_zones + tuple(extra_to) if i % 3 else r.to_zones)
              for i, r in enumerate(drawn)]
    kept = [listed[i] for i in compile_module.ZoneIndex(listed).candidates(from_zone, to_zone)]

    def side_allows(zones: tuple[str, ...], zone: str | None, permit: bool) -> bool:
        return not zones or (permit if zone is None else zone in zones)  # unknown context: widen toward permit

    expected = [r for r in listed if compile_module.rule_takes_part(r)
                and side_allows(r.from_zones, from_zone, r.action.permits)
                and side_allows(r.to_zones, to_zone, r.action.permits)]
    assert [id(r) for r in kept] == [id(r) for r in expected]
    for r in listed:
        if not any(r is k for k in kept):
            assert compile_module.rule_match_node(SPACE, r, from_zone, to_zone, raw=True) == SPACE.false
