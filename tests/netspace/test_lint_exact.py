"""The fast lint against its oracle: same issues, same related rules, same witnesses.

``lint`` consults only the earlier rules whose hulls meet a rule, unites cached blocks
for broad rules and walks later rules for the removal check; ``lint_reference`` keeps
every "decided so far" set. Hypothesis draws small filters dense with overlaps (the
strategy of ``test_properties``) and both must report exactly the same issues.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.firewalls.base import parse_config
from plantgate.firewalls.ruleset import Action, AddressSet, Filter, Rule, Service, SourceSpan
from plantgate.netspace import lint
from plantgate.netspace.box_index import earlier_meeting
from plantgate.netspace.boxes import Boxes, address_counts, axes_meet
from plantgate.netspace.compile import fields_node, union_all
from plantgate.netspace.flow import MAPPED_V4_BASE, Flow
from plantgate.netspace.lint import LintIssue, lint_filter, lint_ruleset, linted_filters
from plantgate.netspace.prefix_unions import PrefixUnions
from plantgate.netspace.space import ADDRESS_FIELDS, HIGH_BITS, PACKET_FIELDS, Node, PacketSpace
from tests.netspace.lint_reference import reference_lint_filter
from tests.netspace.test_properties import rules

SPACE = PacketSpace()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def long_filters(draw: st.DrawFn) -> Filter:
    count = draw(st.integers(0, 14))
    return Filter("f", [draw(rules(i + 1)) for i in range(count)], draw(st.sampled_from(list(Action))))


def _described(issues: list[LintIssue]) -> list[tuple[object, ...]]:
    return [(i.kind, i.rule.rule_id if i.rule else "", i.message, [r.rule_id for r in i.related_rules], i.witness)
            for i in issues]


@SETTINGS
@given(long_filters(), st.sampled_from([0, 2, lint.MANY_MEETING]))
def test_lint_equals_the_reference(flt: Filter, many: int) -> None:
    """Every threshold for "broad" rules, including 0 (block unions for every rule)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lint, "MANY_MEETING", many)
        fast = lint_filter(SPACE, flt)
    assert _described(fast) == _described(reference_lint_filter(SPACE, flt))


def _boxes_meet(a: Rule, b: Rule) -> bool:
    boxes = Boxes()
    return all(axes_meet(x, y) for x, y in zip(boxes.of_rule(a), boxes.of_rule(b), strict=True))


@SETTINGS
@given(st.lists(rules(1), min_size=2, max_size=8))
def test_index_finds_every_meeting(drawn: list[Rule]) -> None:
    """The index lists exactly the earlier rules whose boxes meet, so every meeting match."""
    boxes = [None if i % 5 == 4 else Boxes().of_rule(r) for i, r in enumerate(drawn)]
    expected = [[k for k in range(i) if boxes[i] is not None and boxes[k] is not None
                 and _boxes_meet(drawn[i], drawn[k])] for i in range(len(drawn))]
    assert earlier_meeting(boxes) == expected
    for i, a in enumerate(drawn):
        for k, b in enumerate(drawn[:i]):
            both = boxes[i] is not None and boxes[k] is not None
            if both and fields_node(SPACE, a) & fields_node(SPACE, b) != SPACE.false:
                assert k in expected[i]


@SETTINGS
@given(long_filters())
def test_zone_tags_keep_every_meeting_of_zoned_matches(flt: Filter) -> None:
    """With zones as tags, the index drops exactly the pairs whose zones miss, never a pair whose
    zoned lint matches meet."""
    linter = lint._FilterLinter(SPACE, flt, lint._Witnesses(SPACE), Boxes())
    boxes = [lint._box_or_none(linter.boxes, r) for r in flt.rules]
    tags = linter._zone_tags()
    untagged, tagged = earlier_meeting(boxes), earlier_meeting(boxes, tags)
    assert tags is not None or tagged == untagged
    zoned = [fields_node(SPACE, r) & linter._zones("zone_from", r.from_zones) & linter._zones("zone_to", r.to_zones)
             if linter.zone_bits else fields_node(SPACE, r) for r in flt.rules]
    for i in range(len(flt.rules)):
        if tags is not None:
            assert tagged[i] == [k for k in untagged[i] if all(a & b for a, b in zip(tags[i], tags[k], strict=True))]
        for k in range(i):
            if boxes[i] is not None and boxes[k] is not None and zoned[i] & zoned[k] != SPACE.false:
                assert k in tagged[i]


@SETTINGS
@given(rules(1))
def test_address_counts_of_intervals_are_the_bdd_counts(drawn: Rule) -> None:
    """Interval counts (lint's breadth check) against counting the raw address BDD by family."""
    for field, addrs, negate in (("src", drawn.sources, drawn.source_negate),
                                 ("dst", drawn.destinations, drawn.destination_negate)):
        node = SPACE.address_node(field, addrs)  # type: ignore[arg-type]
        node = ~node if negate else node
        other = sum(width for name, width in PACKET_FIELDS if name != "family")  # every level but the family bit
        v4 = SPACE._count_all(node & SPACE.ipv4) >> (other - 32)
        mapped = SPACE.bits_prefix(field, MAPPED_V4_BASE, HIGH_BITS)
        v6 = SPACE._count_all(node & SPACE.ipv6 & ~mapped) >> (other - 128)
        assert address_counts(Boxes().addresses(addrs), negate) == (v4, v6)


@SETTINGS
@given(st.lists(rules(1), max_size=12))
def test_prefix_unions_unite_the_first_sets(drawn: list[Rule]) -> None:
    unions = PrefixUnions(SPACE)
    nodes = [fields_node(SPACE, r) for r in drawn]
    for node in nodes:
        unions.append(node)
    for i in range(0, len(nodes) + 1, 3):
        assert unions.prefix(i) == union_all(SPACE, nodes[:i])
    with pytest.raises(ValueError):
        unions.prefix(len(nodes) + 1)
    if nodes:
        unions.prefix(len(nodes))
        with pytest.raises(ValueError):
            unions.prefix(0)  # only ever extended


def _reference_witness(space: PacketSpace, node: Node) -> Flow | None:
    """The witness by its definition, on whole sets: in level order, a field's first run of
    levels narrows the set to the field's first preferred subset that keeps members, then
    every run of levels takes its lowest values that keep members."""
    if node == space.false:
        return None

    def lowest_bits(u: Node) -> list[int]:
        bits = [0] * len(space.bdd.vars)
        flip = False
        while u != space.true and u != space.false:
            if getattr(u, "negated", False):
                flip = not flip
            low = u.low
            if (low == space.true or low == space.false) and ((low == space.true) == flip):
                bits[u.level] = 1
                u = u.high
            else:
                u = low
        return bits

    def field_value(bits: list[int], field: str) -> int:
        value = 0
        for level in space._levels[field]:
            value = value << 1 | bits[level]
        return value

    def preferred(field: str, ipv6: bool) -> list[Node]:
        if field in ADDRESS_FIELDS:
            v4, v6 = space._readable(field)
            return [space.ipv6 & v6] if ipv6 else [space.ipv4 & v4]
        return {
            "family": [space.ipv4],
            "proto": [space.value("proto", p) for p in (6, 17, 1, 58)],
            "dport": [space.range("dport", 1, 65535)],
            "sport": [space.range("sport", 1024, 65535)],
        }.get(field, [])

    owner = {level: field for field, levels in space._levels.items() for level in levels}
    runs: list[tuple[str, list[int]]] = []
    for level in range(len(space.bdd.vars)):
        if runs and runs[-1][0] == owner[level]:
            runs[-1][1].append(level)
        else:
            runs.append((owner[level], [level]))
    u, ipv6, narrowed = node, False, set()
    for field, levels in runs:
        if field not in narrowed:
            narrowed.add(field)
            for pref in preferred(field, ipv6):
                if u & pref != space.false:
                    u = u & pref
                    break
        bits = lowest_bits(u)
        for level in levels:
            var = space.bdd.var(space.bdd.var_at_level(level))
            u = u & (var if bits[level] else ~var)
        if field == "family":
            ipv6 = bool(bits[levels[0]])
    bits = lowest_bits(u)

    def address(field: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        value = field_value(bits, field)
        return ipaddress.IPv6Address(value) if ipv6 else ipaddress.IPv4Address(value & 0xFFFFFFFF)

    return Flow(src=address("src"), dst=address("dst"), proto=field_value(bits, "proto"),
                sport=field_value(bits, "sport"), dport=field_value(bits, "dport"),
                icmp_type=field_value(bits, "icmp_type"), icmp_code=field_value(bits, "icmp_code"))


@SETTINGS
@given(st.lists(rules(1), min_size=1, max_size=4), st.lists(st.booleans(), min_size=4, max_size=4))
def test_witness_is_the_reference_witness(drawn: list[Rule], subtract: list[bool]) -> None:
    """Unions and differences of rule matches (IPv4, IPv6, ICMP, odd protocols, negations)."""
    node = SPACE.false
    for rule, minus in zip(drawn, subtract, strict=False):
        match = fields_node(SPACE, rule)
        node = node & ~match if minus else node | match
    assert SPACE.witness_node(node) == _reference_witness(SPACE, node)
    mapped = SPACE.bits_prefix("dst", MAPPED_V4_BASE, HIGH_BITS)  # never in the universe
    assert SPACE.witness_node(node & mapped & SPACE.ipv6) is None or node & mapped & SPACE.ipv6 != SPACE.false


ASA = """\
interface GigabitEthernet0/0
 nameif inside
 security-level 100
interface GigabitEthernet0/1
 nameif outside
 security-level 0
access-list inside_in extended deny tcp host 10.0.0.5 any eq 22
access-list inside_in extended permit tcp 10.0.0.0 255.255.255.0 any eq 443
access-list global_acl extended permit tcp any any eq 22
access-list spare extended permit ip any any
access-group inside_in in interface inside
access-group global_acl global
"""


def test_asa_interface_acl_is_linted_where_the_device_applies_it(tmp_path: Path) -> None:
    """Alone, inside_in's deny looks removable (the default denies too); on the device the
    packets would then reach the global ACL's permit, so it is not."""
    path = tmp_path / "asa.cfg"
    path.write_text(ASA)
    rs = parse_config(path, "asa")
    names = [f.name for f in linted_filters(rs)]
    assert "inside_in" not in names and "spare" in names
    assert "combined:inside_in+global_acl" in names and "global_acl" in names  # outside has no in-ACL
    alone = lint_filter(PacketSpace(), rs.filters["inside_in"])
    assert [i.rule.span.line for i in alone if i.rule and i.kind == "redundant"] == [7]
    issues = lint_ruleset(PacketSpace(), rs)
    assert not [i for i in issues if i.rule is not None and i.rule.span.line == 7]
    assert {i.filter for i in issues if i.rule is not None} <= set(names)


wide_networks = st.one_of(
    st.builds(lambda a, n: ipaddress.ip_network((a, n), strict=False), st.integers(0, 2**32 - 1), st.integers(0, 32)),
    st.builds(lambda a, n: ipaddress.ip_network((a, n), strict=False), st.integers(0, 2**128 - 1),
              st.integers(0, 128)),
    st.builds(lambda a, n: ipaddress.ip_network((MAPPED_V4_BASE | a, n), strict=False), st.integers(0, 2**32 - 1),
              st.integers(90, 128)),
)
wide_services = st.builds(
    lambda proto, low, span: Service(proto, dst_ports=((low, min(65535, low + span)),) if proto in (6, 17) else ()),
    st.sampled_from([None, 1, 6, 17, 47, 58]), st.integers(0, 65535), st.integers(0, 70000),
)


@st.composite
def wide_rules(draw: st.DrawFn) -> Rule:
    def addresses() -> AddressSet:
        return AddressSet(tuple(draw(st.lists(wide_networks, min_size=1, max_size=3))))

    services = tuple(draw(st.lists(wide_services, min_size=1, max_size=2)))
    return Rule("w", 1, Action.PERMIT, SourceSpan("wide.conf", 1, 1, ""), addresses(), addresses(),
                tuple(s if s.protocol is not None else Service() for s in services),
                source_negate=draw(st.booleans()) and draw(st.booleans()))


@SETTINGS
@given(wide_rules(), wide_rules())
def test_index_finds_every_meeting_anywhere(a: Rule, b: Rule) -> None:
    """Whole address spaces (IPv4, IPv6, around the IPv4-mapped range) and port ranges."""
    boxes = Boxes()
    meeting = earlier_meeting([boxes.of_rule(a), boxes.of_rule(b)])
    if fields_node(SPACE, a) & fields_node(SPACE, b) != SPACE.false:
        assert meeting == [[], [0]]


@SETTINGS
@given(long_filters(), st.integers(0, 2))
def test_a_witness_limit_keeps_every_issue_and_the_first_witnesses(flt: Filter, limit: int) -> None:
    """``check`` asks for one witness per kind: the issues are the same, and the first ``limit`` of
    each kind carry the very witness the full lint gives; the others carry none."""
    full = lint_filter(SPACE, flt)
    limited = lint.lint_filters(SPACE, [flt], witness_limit=limit)
    assert [d[:4] for d in _described(limited)] == [d[:4] for d in _described(full)]
    seen: dict[str, int] = {}
    for whole, cut in zip(full, limited, strict=True):
        if whole.witness is None:
            assert cut.witness is None
            continue
        seen[whole.kind] = seen.get(whole.kind, 0) + 1
        assert cut.witness == (whole.witness if seen[whole.kind] <= limit else None)
