"""Rule hygiene on hand-built filters: one test per issue kind, plus zones and uncertainty."""

from __future__ import annotations

import pytest

from plantgate.firewalls.ruleset import ANY_IPV4, TCP, UDP, NamedObject, Service, SourceSpan
from plantgate.netspace import PacketSpace, analyse_filter
from plantgate.netspace.lint import LintIssue, lint_filter, lint_ruleset
from tests.netspace.builders import addrs, filt, rule, ruleset

HTTPS = (Service(TCP, dst_ports=((443, 443),)),)
SSH = (Service(TCP, dst_ports=((22, 22),)),)


@pytest.fixture(scope="module")
def space() -> PacketSpace:
    return PacketSpace()


BREADTH = ("any_any", "overly_broad")


def _kinds(issues: list[LintIssue], ignore: tuple[str, ...] = BREADTH) -> list[tuple[str, str]]:
    """(kind, rule id) of the issues, leaving out the breadth kinds unless asked."""
    return [(i.kind, i.rule.rule_id if i.rule else "") for i in issues if i.kind not in ignore]


def test_shadowed_names_the_blocking_rules(space: PacketSpace) -> None:
    p1 = rule("p1", src=addrs("10.0.0.0/25"), services=HTTPS)
    p2 = rule("p2", src=addrs("10.0.0.128/25"), services=HTTPS)
    unrelated = rule("other", src=addrs("192.168.0.0/16"))
    d = rule("d", "deny", src=addrs("10.0.0.0/24"), services=HTTPS)
    issues = lint_filter(space, filt("acl", p1, unrelated, p2, d))
    [shadow] = [i for i in issues if i.kind == "shadowed"]
    assert shadow.rule is d and shadow.related_rules == [p1, p2]
    assert "p1, p2" in shadow.message
    assert shadow.witness is not None and shadow.witness.dport == 443
    assert str(shadow.witness.src).startswith("10.0.0.")


def test_redundant_by_cover_and_by_removal(space: PacketSpace) -> None:
    wide = rule("wide", src=addrs("10.0.0.0/24"), services=HTTPS)
    narrow = rule("narrow", src=addrs("10.0.0.0/25"), services=HTTPS)
    assert _kinds(lint_filter(space, filt("acl", wide, narrow))) == [("redundant", "narrow")]
    first = rule("first", src=addrs("10.0.0.0/25"), services=HTTPS)
    later = rule("later", src=addrs("10.0.0.0/24"), services=HTTPS)
    flt = filt("acl", first, later)
    assert _kinds(lint_filter(space, flt)) == [("redundant", "first")]
    without = filt("acl", later)
    assert analyse_filter(space, without).permitted == analyse_filter(space, flt).permitted
    final_deny = rule("cleanup", "deny", src=addrs("10.0.0.0/8"))
    # a final deny of a superset is a generalisation, not a correlation; with default deny it is redundant
    assert _kinds(lint_filter(space, filt("acl", later, final_deny))) == [("redundant", "cleanup")]
    needed_deny = rule("block", "deny", src=addrs("10.0.0.5/32"), services=HTTPS)
    assert _kinds(lint_filter(space, filt("acl", needed_deny, later))) == []


def test_correlated_has_a_witness_in_the_overlap(space: PacketSpace) -> None:
    permit = rule("permit-net", src=addrs("10.0.0.0/24"))
    deny = rule("deny-tcp", "deny", src=addrs("10.0.0.0/16"), services=(Service(TCP),))
    [issue] = [i for i in lint_filter(space, filt("acl", permit, deny)) if i.kind == "correlated"]
    assert issue.rule is deny and issue.related_rules == [permit]
    assert issue.witness is not None and issue.witness.proto == TCP
    assert str(issue.witness.src).startswith("10.0.0.")


def test_any_any_and_overly_broad(space: PacketSpace) -> None:
    issues = lint_filter(space, filt(
        "acl",
        rule("all"),
        rule("big-src", src=addrs("10.0.0.0/7"), dst=addrs("192.168.1.1/32"), services=HTTPS),
        rule("slash8", src=addrs("10.0.0.0/8"), dst=addrs("192.168.1.2/32"), services=HTTPS),
        rule("v4-any", dst=ANY_IPV4, src=addrs("192.168.1.3/32"), services=HTTPS),
        rule("v6-wide", dst=addrs("2001:db8::/31"), src=addrs("2001:db8::1/128"), services=HTTPS),
        rule("tcp-all", src=addrs("192.168.1.4/32"), dst=addrs("192.168.1.5/32"), services=(Service(TCP),)),
        rule("deny-all", "deny"),
    ))
    kinds = [(k, r) for k, r in _kinds(issues, ignore=()) if k in BREADTH]
    assert kinds == [("any_any", "all"), ("overly_broad", "big-src"), ("overly_broad", "v4-any"),
                     ("overly_broad", "v6-wide"), ("overly_broad", "tcp-all")]
    by_rule = {i.rule.rule_id: i.message for i in issues if i.rule and i.kind == "overly_broad"}
    assert "33554432 IPv4 addresses" in by_rule["big-src"]
    assert "every TCP port" in by_rule["tcp-all"] and "UDP" not in by_rule["tcp-all"]


def test_disabled_and_never_matches(space: PacketSpace) -> None:
    off = rule("off", enabled=False)
    empty = rule("empty", src=addrs("10.0.0.0/24", exclude=("10.0.0.0/23",)))
    no_service = rule("nosvc", "deny", services=())
    issues = lint_filter(space, filt("acl", off, empty, no_service))
    assert _kinds(issues) == [("disabled", "off"), ("never_matches", "empty"), ("never_matches", "nosvc")]


def test_zones_keep_rules_for_other_pairs_apart(space: PacketSpace) -> None:
    a_to_b = rule("a-b", from_zones=("a",), to_zones=("b",), src=addrs("10.0.0.0/24"))
    c_to_d = rule("c-d", "deny", from_zones=("c",), to_zones=("d",), src=addrs("10.0.0.5/32"))
    issues = lint_filter(space, filt("pol", a_to_b, c_to_d))
    assert [i.kind for i in issues if i.kind in ("shadowed", "correlated")] == []
    anywhere = rule("any-zone", src=addrs("10.0.0.0/24"))
    a_deny = rule("a-deny", "deny", from_zones=("a",), src=addrs("10.0.0.5/32"))
    issues = [i for i in lint_filter(space, filt("pol", anywhere, a_deny)) if i.kind not in BREADTH]
    assert _kinds(issues) == [("shadowed", "a-deny")]
    assert issues[0].related_rules == [anywhere]
    b_permit = rule("b-permit", from_zones=("b",), src=addrs("10.0.0.0/24"))
    later_deny = rule("deny-5", "deny", src=addrs("10.0.0.5/32"))
    issues = lint_filter(space, filt("pol", b_permit, later_deny))
    # only from zone b is the deny overruled; with the default deny it is removable as well
    assert _kinds(issues) == [("correlated", "deny-5"), ("redundant", "deny-5")]


def test_rules_the_packet_does_not_decide(space: PacketSpace) -> None:
    app = rule("app", src=addrs("10.0.0.0/24"), applications=("modbus",))
    deny = rule("deny", "deny", src=addrs("10.0.0.5/32"), services=SSH)
    # an app permit shadows nothing, and is not itself judged redundant by removal
    assert _kinds(lint_filter(space, filt("acl", app, deny, default="permit"))) == []
    wide = rule("wide", src=addrs("10.0.0.0/16"))
    app_inside = rule("app-in", src=addrs("10.0.0.0/24"), applications=("modbus",))
    assert _kinds(lint_filter(space, filt("acl", wide, app_inside))) == [("redundant", "app-in")]
    unsure = rule("unsure", "deny", src=addrs("10.0.0.5/32"), uncertain=True)
    assert _kinds(lint_filter(space, filt("acl", wide, unsure))) == []


def test_unused_objects(space: PacketSpace) -> None:
    span = SourceSpan("test.conf", 1, 1, "object")
    rs = ruleset(filt("acl", rule("r", object_refs=("web-servers",))))
    rs.objects = {
        "web-servers": NamedObject("web-servers", "address-group", span, ("web1", "web2")),
        "web1": NamedObject("web1", "address", span),
        "web2": NamedObject("web2", "address", span),
        "old-host": NamedObject("old-host", "address", span),
        "udp-53": NamedObject("udp-53", "service", span),
    }
    unused = [i for i in lint_ruleset(space, rs) if i.kind == "unused_object"]
    assert [i.object.name for i in unused if i.object] == ["old-host", "udp-53"]
    assert unused[0].filter is None and unused[0].rule is None and "test.conf:1" in unused[0].message


def test_related_rules_are_capped(space: PacketSpace) -> None:
    hosts = [rule(f"h{i}", src=addrs(f"10.0.0.{i}/32"), services=(Service(UDP),)) for i in range(40)]
    deny = rule("d", "deny", src=addrs("10.0.0.0/27"), services=(Service(UDP),))
    [shadow] = [i for i in lint_filter(space, filt("acl", *hosts, deny)) if i.rule is deny]
    assert shadow.kind == "shadowed" and shadow.related_rules == hosts[:10]


def _described(issues: list[LintIssue]) -> list[tuple[object, ...]]:
    return [(i.kind, i.rule.rule_id if i.rule else "", i.message, [r.rule_id for r in i.related_rules], i.witness)
            for i in issues]


def test_ruleset_without_paths_lints_every_filter_as_alone() -> None:
    """A bare fragment: every filter is linted, each exactly as if linted alone."""
    own = [
        rule("o1", src=addrs("10.0.0.0/24"), services=HTTPS),
        rule("o2", "deny", src=addrs("10.0.0.0/25"), services=HTTPS),
        rule("o3", src=addrs("10.0.0.0/24"), services=SSH),
    ]
    shared = [
        rule("g1", src=addrs("10.0.0.0/26"), services=SSH),
        rule("g2", "deny", src=addrs("10.0.0.0/8"), services=HTTPS),
        rule("g3", src=addrs("10.0.0.0/24")),
    ]
    interface, glob = filt("in", *own), filt("global", *shared)
    combined = filt("combined:in+global", *own, *shared)
    twin = filt("twin", *own)  # the very same rules as "in"
    issues = lint_ruleset(PacketSpace(), ruleset(combined, twin, interface, glob))
    alone = PacketSpace()
    for flt in (combined, twin, interface, glob):
        got = [i for i in issues if i.filter == flt.name]
        assert _described(got) == _described(lint_filter(alone, flt))
    assert {i.kind for i in issues if i.filter == combined.name} >= {"shadowed", "redundant"}


def test_explicit_final_deny_is_not_redundant(space: PacketSpace) -> None:
    """``deny ip any any`` (and a DROP of all IPv4, as iptables writes it) states the policy's last word."""
    web = rule("web", src=addrs("10.0.0.0/8"), dst=addrs("10.0.0.10/32"), services=HTTPS)
    for final in (rule("deny-all", "deny"), rule("drop-v4", "drop", src=ANY_IPV4, dst=ANY_IPV4)):
        assert _kinds(lint_filter(space, filt("acl", web, final))) == []
    partial = rule("deny-some", "deny", src=addrs("192.168.0.0/16"))
    assert _kinds(lint_filter(space, filt("acl", web, partial))) == [("redundant", "deny-some")], \
        "a deny short of a whole address family is still judged"
    first, second = rule("deny-all-1", "deny"), rule("deny-all-2", "deny")
    assert _kinds(lint_filter(space, filt("acl", web, first, second))) == [("shadowed", "deny-all-2")], \
        "a second catch-all never decides a packet"


def test_a_duplicate_does_not_make_its_twin_removable(space: PacketSpace) -> None:
    one, two = rule("one", dst=addrs("10.0.0.10/32"), services=SSH), rule("two", dst=addrs("10.0.0.10/32"),
                                                                          services=SSH)
    assert _kinds(lint_filter(space, filt("acl", one, two))) == [("redundant", "two")]


def test_unbound_filter_filters_nothing() -> None:
    bound = filt("IN", rule("b1", services=HTTPS))
    loose = filt("LOOSE", rule("l1", services=SSH))
    rs = ruleset(bound, loose, paths={("a", "b"): ("IN",), ("b", "a"): ("IN",)}, zones=("a", "b"))
    issues = [i for i in lint_ruleset(PacketSpace(), rs) if i.kind == "unbound_filter"]
    assert [(i.filter, i.rule) for i in issues] == [("LOOSE", None)]
    assert "filters nothing on the device" in issues[0].message
    fragment = ruleset(bound, loose)
    assert not [i for i in lint_ruleset(PacketSpace(), fragment) if i.kind == "unbound_filter"], \
        "a fragment without paths: nothing is known to be unbound"
