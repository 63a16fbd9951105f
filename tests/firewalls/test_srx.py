"""Tests for the Juniper SRX parser: both formats, ordering, nesting, inactive, defaults, corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.dump import ruleset_to_dict
from plantgate.firewalls.ruleset import ICMP, TCP, UDP, Action, Rule, Ruleset
from plantgate.firewalls.srx.parser import PARSER
from tests.conftest import shared_path

HERE = Path(__file__).parent
DATA = HERE / "data" / "srx"
GOLDEN = HERE / "golden" / "srx"


def parse(text: str, file: str = "test.conf") -> Ruleset:
    return PARSER.parse(text, file)


def rule(rs: Ruleset, filter_name: str, rule_id: str) -> Rule:
    return next(r for r in rs.filters[filter_name].rules if r.rule_id == rule_id)


def without_lines(value: Any) -> Any:
    """The dump with every line number removed: what must agree between the two formats."""
    if isinstance(value, dict):
        return {k: without_lines(v) for k, v in value.items() if k not in ("line", "end_line", "nat_lines")}
    if isinstance(value, list):
        return [without_lines(v) for v in value]
    return value


@pytest.mark.parametrize("name", ["plant.conf", "plant.set"])
def test_golden(name: str) -> None:
    path = DATA / name
    dumped = json.dumps(ruleset_to_dict(PARSER.parse(path.read_text(), name)), indent=2, sort_keys=True)
    golden = GOLDEN / (name.replace(".", "_") + ".json")
    if os.environ.get("PLANTGATE_UPDATE_GOLDEN") == "1":
        golden.write_text(dumped + "\n")
    assert dumped + "\n" == golden.read_text()


def test_hierarchical_and_set_forms_give_the_same_ruleset() -> None:
    hier = PARSER.parse((DATA / "plant.conf").read_text(), "plant.conf")
    flat = PARSER.parse((DATA / "plant.set").read_text(), "plant.set")
    assert without_lines(ruleset_to_dict(hier)) == without_lines(ruleset_to_dict(flat))
    assert not hier.nat_statements and not flat.nat_statements
    assert [(r.rule_id, r.sources, r.to_zones) for r in hier.nat_rules] == [
        (r.rule_id, r.sources, r.to_zones) for r in flat.nat_rules] and len(flat.nat_rules) == 1


def test_spans_point_at_the_policy_text() -> None:
    rs = PARSER.parse((DATA / "plant.conf").read_text(), "plant.conf")
    r = rule(rs, "from-zone dmz to-zone ot", "dmz->ot/modbus-poll")
    assert r.span.text.strip().startswith("policy modbus-poll {")
    assert r.span.end_line - r.span.line == 10
    flat = PARSER.parse((DATA / "plant.set").read_text(), "plant.set")
    r = rule(flat, "from-zone dmz to-zone ot", "dmz->ot/modbus-poll")
    assert all("policy modbus-poll" in line for line in r.span.text.splitlines())


def test_zone_pairs_use_context_then_global_then_default() -> None:
    rs = PARSER.parse((DATA / "plant.conf").read_text(), "plant.conf")
    assert rs.zones == ["it", "dmz", "ot"]
    assert rs.paths[("dmz", "ot")] == ("from-zone dmz to-zone ot",)
    assert rs.paths[("ot", "it")] == ("global",)
    assert rs.paths[("ot", "ot")] == ("global",)
    ids = [r.rule_id for r in rs.filters["from-zone dmz to-zone ot"].rules]
    assert ids == ["dmz->ot/modbus-poll", "dmz->ot/not-plc1", "global/block-vendor", "global/ping-all"]
    assert [r.position for r in rs.filters["from-zone dmz to-zone ot"].rules] == [1, 2, 3, 4]
    assert all(f.default_action is Action.DENY for f in rs.filters.values())
    assert rule(rs, "global", "global/block-vendor").to_zones == ("it",)
    assert rule(rs, "global", "global/block-vendor").from_zones == ()


def test_global_policy_ordering_and_default_permit() -> None:
    text = (
        "set security zones security-zone a interfaces ge-0/0/0.0\n"
        "set security zones security-zone b interfaces ge-0/0/1.0\n"
        "set security policies global policy G1 match source-address any\n"
        "set security policies global policy G1 match destination-address any\n"
        "set security policies global policy G1 match application junos-ssh\n"
        "set security policies global policy G1 then deny\n"
        "set security policies from-zone a to-zone b policy P2 match source-address any\n"
        "set security policies from-zone a to-zone b policy P2 match destination-address any\n"
        "set security policies from-zone a to-zone b policy P2 match application any\n"
        "set security policies from-zone a to-zone b policy P2 then permit\n"
        "set security policies from-zone a to-zone b policy P1 match source-address any\n"
        "set security policies from-zone a to-zone b policy P1 match destination-address any\n"
        "set security policies from-zone a to-zone b policy P1 match application any\n"
        "set security policies from-zone a to-zone b policy P1 then deny\n"
        "set security policies default-policy permit-all\n"
    )
    rs = parse(text)
    # the zone-pair policies come first (file order), the global list after, even though G1 is written first
    assert [r.rule_id for r in rs.filters["from-zone a to-zone b"].rules] == ["a->b/P2", "a->b/P1", "global/G1"]
    assert rs.filters["from-zone a to-zone b"].default_action is Action.PERMIT
    assert rs.filters["global"].default_action is Action.PERMIT
    assert rs.default_path_action is Action.PERMIT
    assert rs.paths[("b", "a")] == ("global",)


def test_nested_address_sets_and_zone_books() -> None:
    rs = PARSER.parse((DATA / "plant.set").read_text(), "plant.set")
    r = rule(rs, "from-zone it to-zone dmz", "it->dmz/it-to-historian")
    assert {str(n) for n in r.destinations.include} == {"10.30.0.5/32", "10.30.0.6/31", "10.30.0.8/31", "10.20.0.10/32"}
    assert set(r.object_refs) == {"DMZ_SERVERS", "PATCH_RANGE", "HIST"}
    assert rs.objects["ALL_DMZ"].members == ("DMZ_NET", "DMZ_SERVERS")
    plc = rule(rs, "from-zone dmz to-zone ot", "dmz->ot/not-plc1")
    assert plc.destination_negate and [str(n) for n in plc.destinations.include] == ["10.40.0.11/32"]
    assert plc.action is Action.REJECT and "ot/PLC1" in plc.object_refs


def test_named_book_attached_to_zone_and_undefined_names() -> None:
    text = (
        "set security zones security-zone trust interfaces ge-0/0/0.0\n"
        "set security zones security-zone untrust interfaces ge-0/0/1.0\n"
        "set security address-book global address G 3.3.3.3/32\n"
        "set security address-book book1 address Z 2.2.2.2/32\n"
        "set security address-book book1 attach zone untrust\n"
        "set security policies from-zone trust to-zone untrust policy P match source-address G\n"
        "set security policies from-zone trust to-zone untrust policy P match destination-address Z\n"
        "set security policies from-zone trust to-zone untrust policy P match application any\n"
        "set security policies from-zone trust to-zone untrust policy P then permit\n"
        "set security policies from-zone trust to-zone untrust policy Q match source-address Z\n"
        "set security policies from-zone trust to-zone untrust policy Q match destination-address any\n"
        "set security policies from-zone trust to-zone untrust policy Q match application any\n"
        "set security policies from-zone trust to-zone untrust policy Q then permit\n"
    )
    rs = parse(text)
    p = rule(rs, "from-zone trust to-zone untrust", "trust->untrust/P")
    assert [str(n) for n in p.destinations.include] == ["2.2.2.2/32"] and not p.uncertain
    assert p.object_refs == ("G", "book1/Z")
    q = rule(rs, "from-zone trust to-zone untrust", "trust->untrust/Q")  # Z is not visible from zone trust
    assert q.uncertain and q.sources.is_any and any("not defined" in w for w in q.widened)
    assert any(w.line == 10 and "not defined" in w.message for w in rs.warnings)


def test_inactive_and_deactivate() -> None:
    for name in ("plant.conf", "plant.set"):
        rs = PARSER.parse((DATA / name).read_text(), name)
        old = rule(rs, "from-zone it to-zone dmz", "it->dmz/old-rdp")
        assert not old.enabled
        assert "OLD_HOST" not in rs.objects
        assert rule(rs, "from-zone it to-zone dmz", "it->dmz/it-to-historian").enabled
    text = (
        "security { policies { from-zone a to-zone b {\n"
        "  policy P { match { source-address any; destination-address [ X Y ]; application any; }\n"
        "             then { permit; } }\n"
        "} } address-book { global { address X 10.0.0.1/32; inactive: address Y 10.0.0.2/32; } } }\n"
        "set security policies from-zone b to-zone a policy R match source-address any\n"
        "set security policies from-zone b to-zone a policy R match destination-address any\n"
        "set security policies from-zone b to-zone a policy R match application any\n"
        "set security policies from-zone b to-zone a policy R then permit\n"
        "deactivate security policies from-zone b to-zone a\n"
    )
    rs = parse(text)
    p = rule(rs, "from-zone a to-zone b", "a->b/P")
    assert p.uncertain and p.destinations.is_any  # Y is inactive, so absent: undefined -> widened
    assert not rule(rs, "from-zone b to-zone a", "b->a/R").enabled


def test_junos_defaults_and_unknown_predefined() -> None:
    text = (
        "set security policies from-zone a to-zone b policy P match source-address any\n"
        "set security policies from-zone a to-zone b policy P match destination-address any\n"
        "set security policies from-zone a to-zone b policy P match application "
        "[ junos-smb junos-dns-udp junos-icmp-ping ]\n"
        "set security policies from-zone a to-zone b policy P then permit\n"
        "set security policies from-zone a to-zone b policy U match source-address any\n"
        "set security policies from-zone a to-zone b policy U match destination-address any\n"
        "set security policies from-zone a to-zone b policy U match application junos-made-up\n"
        "set security policies from-zone a to-zone b policy U then permit\n"
    )
    rs = parse(text)
    p = rule(rs, "from-zone a to-zone b", "a->b/P")
    got = {(s.protocol, s.dst_ports, s.icmp_type) for s in p.services}
    assert got == {(TCP, ((139, 139),), None), (TCP, ((445, 445),), None), (UDP, ((53, 53),), None), (ICMP, (), 8)}
    assert not p.uncertain
    u = rule(rs, "from-zone a to-zone b", "a->b/U")
    assert u.uncertain and u.services[0].protocol is None and u.widened
    assert any("junos-made-up" in w.message and w.widened for w in rs.warnings)


def test_wildcard_dns_and_excluded_widening() -> None:
    text = (
        "set security address-book global address W wildcard-address 1.3.3.4/255.254.255.255\n"
        "set security address-book global address C wildcard-address 1.3.3.4/255.255.255.0\n"
        "set security address-book global address D dns-name plc.example\n"
        "set security policies from-zone a to-zone b policy P match source-address W\n"
        "set security policies from-zone a to-zone b policy P match destination-address C\n"
        "set security policies from-zone a to-zone b policy P match application any\n"
        "set security policies from-zone a to-zone b policy P then permit\n"
        "set security policies from-zone a to-zone b policy X match source-address D\n"
        "set security policies from-zone a to-zone b policy X match source-address-excluded\n"
        "set security policies from-zone a to-zone b policy X match destination-address any\n"
        "set security policies from-zone a to-zone b policy X match application any\n"
        "set security policies from-zone a to-zone b policy X then permit\n"
    )
    rs = parse(text)
    p = rule(rs, "from-zone a to-zone b", "a->b/P")
    assert [str(n) for n in p.sources.include] == ["1.2.0.0/15"] and p.uncertain
    assert [str(n) for n in p.destinations.include] == ["1.3.3.0/24"]
    x = rule(rs, "from-zone a to-zone b", "a->b/X")
    assert x.sources.is_any and not x.source_negate and x.uncertain


def test_application_terms_and_named_ports() -> None:
    text = """applications {
    application A { term t1 protocol tcp destination-port https; term t2 protocol udp source-port 1000-2000; }
    application B { protocol 47; }
}"""
    from plantgate.firewalls.srx.apps import read_application
    from plantgate.firewalls.srx.hierarchy import read_junos_config

    root = read_junos_config(text, "x").root
    warnings: list[str] = []
    a = read_application("A", root.find("applications", "application", "A"), warnings.append)  # type: ignore[arg-type]
    assert [(s.protocol, s.dst_ports, s.src_ports) for s in a.services] == [
        (TCP, ((443, 443),), ()), (UDP, (), ((1000, 2000),))]
    b = read_application("B", root.find("applications", "application", "B"), warnings.append)  # type: ignore[arg-type]
    assert [s.protocol for s in b.services] == [47] and not warnings and not a.reasons


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("security {\n  policies {\n}\n", 1, 1),
        ("security { }\n}\n", 2, 1),
        ("security {\n  zones { security-zone a }\n}\n", 2, 27),
        ('system { host-name "abc; }\n', 1, 20),
        ("/* never closed\nsecurity { }\n", 1, 1),
        ("garbage here\nset security zones security-zone a\n", 1, 1),
        ("set security policies\nsecurity [ a b\n", 2, 1),
    ],
)
def test_malformed_input_names_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(InputError) as info:
        parse(text, "bad.conf")
    location = info.value.problems[0].location
    assert (location.file, location.line, location.column) == ("bad.conf", line, column)


def test_detection() -> None:
    assert PARSER.detect((DATA / "plant.conf").read_text()) >= 0.8
    assert PARSER.detect((DATA / "plant.set").read_text()) >= 0.9
    assert PARSER.detect("access-list 101 permit ip any any\n") == 0.0


def test_corpus_parses_or_names_the_line() -> None:
    corpus = shared_path("firewall-configs", "juniper-srx")
    files = sorted(p for p in corpus.iterdir() if p.is_file())
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            rs = PARSER.parse(text, str(path))
        except InputError as exc:
            assert all(p.location.line > 0 for p in exc.problems), path
            continue
        assert rs.vendor == "srx"
        for _, r in rs.all_rules():
            assert r.span.line > 0 and r.span.text, (path, r.rule_id)
        for (a, b), names in rs.paths.items():
            assert a in rs.zones and b in rs.zones and all(n in rs.filters for n in names)


def test_corpus_semantics_spot_checks() -> None:
    corpus = shared_path("firewall-configs", "juniper-srx")
    srx2 = PARSER.parse((corpus / "batfish__junos-srx-2.cfg").read_text(), "srx2")
    assert not rule(srx2, "from-zone untrust to-zone untrust", "untrust->untrust/default-permit").enabled
    assert rule(srx2, "from-zone trust to-zone trust", "trust->trust/default-permit").enabled
    assert srx2.default_path_action is Action.PERMIT
    nested = PARSER.parse((corpus / "batfish__application-set-nested.cfg").read_text(), "nested")
    svc = rule(nested, "from-zone z1 to-zone z4", "z1->z4/p1").services
    assert [(s.protocol, s.src_ports) for s in svc] == [(TCP, ((1, 1),))]
    excl = PARSER.parse((corpus / "aerleon__JuniperSRXTest.testNakedExclude.stdout.ref").read_text(), "excl")
    assert len(rule(excl, "from-zone trust to-zone untrust", "trust->untrust/good_term_18").sources.include) == 24
