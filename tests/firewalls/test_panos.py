"""PAN-OS parser: goldens, XML/set equivalence, Panorama order, widening, safety, corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.dump import ruleset_to_dict
from plantgate.firewalls.panos.parser import INTERZONE_FILTER, INTRAZONE_FILTER, PARSER, PanosParser
from plantgate.firewalls.ruleset import ANY_ADDRESS, ANY_SERVICE, ICMP, TCP, UDP, Action, Rule, Ruleset
from tests.conftest import shared_path

DATA = Path(__file__).parent / "data" / "panos"
GOLDEN = Path(__file__).parent / "golden" / "panos"
CORPUS = ("firewall-configs", "paloalto-panos")


def parse(name: str, parser: PanosParser = PARSER) -> Ruleset:
    path = DATA / name
    return parser.parse(path.read_text(), str(path))


def parse_text(text: str, parser: PanosParser = PARSER) -> Ruleset:
    return parser.parse(text, "inline.cfg")


def rule(ruleset: Ruleset, rule_id: str, filter_name: str = INTERZONE_FILTER) -> Rule:
    return next(r for r in ruleset.filters[filter_name].rules if r.rule_id == rule_id)


@pytest.mark.parametrize(
    ("data_name", "golden_name", "device_group"),
    [("plant.xml", "plant_xml", None), ("plant.set", "plant_set", None), ("panorama.xml", "panorama_xml", "plant-dg")],
)
def test_golden(data_name: str, golden_name: str, device_group: str | None) -> None:
    ruleset = parse(data_name, PanosParser(device_group=device_group))
    text = json.dumps(ruleset_to_dict(ruleset), indent=2, sort_keys=True) + "\n"
    golden = GOLDEN / f"{golden_name}.json"
    if os.environ.get("PLANTGATE_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text()


def _without_spans(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_spans(v) for k, v in data.items() if k not in ("line", "end_line")}
    if isinstance(data, list):
        return [_without_spans(v) for v in data]
    return data


def test_xml_and_set_give_the_same_ruleset() -> None:
    from_xml, from_set = ruleset_to_dict(parse("plant.xml")), ruleset_to_dict(parse("plant.set"))
    assert from_xml["nat_lines"] == from_set["nat_lines"] == []  # hist-snat is a NAT rule now
    nat_xml, nat_set = parse("plant.xml").nat_rules, parse("plant.set").nat_rules
    assert [(r.rule_id, r.from_zones, r.to_zones, r.sources) for r in nat_xml] == [
        (r.rule_id, r.from_zones, r.to_zones, r.sources) for r in nat_set]
    assert _without_spans(from_xml) == _without_spans(from_set)


def test_spans_point_at_the_rule_text() -> None:
    xml_rule = rule(parse("plant.xml"), "hist-pull")
    assert xml_rule.span.text.strip().startswith('<entry name="hist-pull">')
    assert xml_rule.span.text.strip().endswith("</entry>")
    set_rule = rule(parse("plant.set"), "hist-pull")
    lines = set_rule.span.text.splitlines()
    assert len(lines) == 7 and all(line.startswith("set rulebase security rules hist-pull ") for line in lines)


def test_objects_zones_and_references() -> None:
    ruleset = parse("plant.xml")
    assert ruleset.zones == ["it", "dmz", "ot"]
    assert ruleset.objects["ot"].kind == "zone" and ruleset.objects["ot"].members == ("ethernet1/3", "ethernet1/4")
    assert ruleset.objects["all-ot"].members == ("ot-servers", "plc-wild")
    hist = rule(ruleset, "hist-pull")
    assert set(hist.object_refs) >= {"hist-srv", "all-ot", "ot-servers", "ot-net", "plc-wild", "ot-svcs", "svc-opc"}
    assert [str(n) for n in hist.destinations.include] == [
        "10.20.0.5/32", "10.30.0.0/24", "10.30.0.1/32", "10.30.1.1/32"]  # wildcard expanded exactly
    opc = next(s for s in hist.services if s.name == "svc-opc")
    assert opc.dst_ports == ((4840, 4840), (4843, 4843)) and opc.src_ports == ((1024, 65535),)
    assert [str(n) for n in rule(ruleset, "rdp-jump").sources.include] == [
        "10.10.0.10/31", "10.10.0.12/30", "10.10.0.16/30", "10.10.0.20/32"]
    assert not ruleset.nat_statements and ruleset.policy_sees == "original"
    (hist_snat,) = ruleset.nat_rules  # no translation written: a no-NAT rule
    assert hist_snat.rule_id == "hist-snat" and hist_snat.is_identity and hist_snat.from_zones == ("dmz",)


def test_intrazone_interzone_filters_and_defaults() -> None:
    ruleset = parse("plant.xml")
    intra, inter = ruleset.filters[INTRAZONE_FILTER], ruleset.filters[INTERZONE_FILTER]
    assert intra.default_action is Action.DENY  # overridden in default-security-rules
    assert intra.span is not None and "intrazone-default" in intra.span.text
    assert inter.default_action is Action.DENY and inter.span is None  # built-in interzone-default
    assert "ot-ping" in [r.rule_id for r in intra.rules] and "ot-ping" not in [r.rule_id for r in inter.rules]
    assert "it-users" in [r.rule_id for r in inter.rules] and "it-users" not in [r.rule_id for r in intra.rules]
    assert [r.position for r in intra.rules] == list(range(1, len(intra.rules) + 1))
    # a universal rule at one position in both filters is one object (its match and signature are
    # made once); ot-ping and it-users each join one filter, at position 6, so old-any is 7 in both
    assert [a is b for a, b in zip(intra.rules, inter.rules, strict=True)] == [True] * 5 + [False, True]
    assert ruleset.paths[("ot", "ot")] == (INTRAZONE_FILTER,)
    assert ruleset.paths[("it", "ot")] == (INTERZONE_FILTER,)
    assert len(ruleset.paths) == 9
    builtin = parse_text("set zone a network layer3 ethernet1/1\n")
    assert builtin.filters[INTRAZONE_FILTER].default_action is Action.PERMIT
    assert builtin.filters[INTERZONE_FILTER].default_action is Action.DENY


def test_actions_negate_and_disabled() -> None:
    ruleset = parse("plant.xml")
    block = rule(ruleset, "block-it-ot")
    assert block.action is Action.REJECT and block.source_negate and not block.destination_negate
    assert not rule(ruleset, "old-any", INTRAZONE_FILTER).enabled
    text = """set rulebase security rules R from any
set rulebase security rules R to any
set rulebase security rules R source any
set rulebase security rules R destination [ 10.0.0.0/8 192.168.1.1 ]
set rulebase security rules R negate-destination yes
set rulebase security rules R application any
set rulebase security rules R service any
set rulebase security rules R action drop
"""
    r = rule(parse_text(text), "R")
    assert r.action is Action.DROP and r.destination_negate and not r.uncertain
    assert [str(n) for n in r.destinations.include] == ["10.0.0.0/8", "192.168.1.1/32"]


def test_application_default_uses_the_port_table() -> None:
    ruleset = parse("plant.xml")
    rdp = rule(ruleset, "rdp-jump")
    assert rdp.applications == ("ms-rdp",) and not rdp.uncertain
    assert {(s.protocol, s.dst_ports) for s in rdp.services} == {(TCP, ((3389, 3389),)), (UDP, ((3389, 3389),))}
    ping = rule(ruleset, "ot-ping", INTRAZONE_FILTER)
    assert {(s.protocol, s.icmp_type) for s in ping.services} == {(ICMP, 8), (58, 128)}
    unknown = rule(ruleset, "it-users")  # unknown app and a source-user: widened, uncertain
    assert unknown.services == (ANY_SERVICE,) and unknown.uncertain
    assert any("historian-web" in reason for reason in unknown.widened)
    assert any("source-user" in reason for reason in unknown.widened)


def test_custom_application_and_group_default_ports() -> None:
    text = """set application my-hmi default port [ tcp/8443 udp/5000-5010 ]
set application-group hmi-apps members [ my-hmi dns ]
set rulebase security rules R from any
set rulebase security rules R to any
set rulebase security rules R source any
set rulebase security rules R destination any
set rulebase security rules R application hmi-apps
set rulebase security rules R service application-default
set rulebase security rules R action allow
"""
    r = rule(parse_text(text), "R")
    assert not r.uncertain and "hmi-apps" in r.object_refs
    assert {(s.protocol, s.dst_ports) for s in r.services} == {
        (TCP, ((8443, 8443),)), (UDP, ((5000, 5010),)), (TCP, ((53, 53),)), (UDP, ((53, 53),))}


RULE_TO_GROUP = """set address-group dyn dynamic filter "'plc' and 'line2'"
set address odd ip-wildcard 10.0.0.0/0.255.255.1
set rulebase security rules R from any
set rulebase security rules R to any
set rulebase security rules R source any
set rulebase security rules R destination {dest}
set rulebase security rules R negate-destination yes
set rulebase security rules R application any
set rulebase security rules R service any
set rulebase security rules R action {action}
"""


@pytest.mark.parametrize("dest", ["dyn", "odd", "undefined-name", "panw-known-ip-list"])
def test_unresolvable_addresses_widen_permits_and_make_denies_uncertain(dest: str) -> None:
    permit = rule(parse_text(RULE_TO_GROUP.format(dest=dest, action="allow")), "R")
    assert permit.destinations == ANY_ADDRESS and not permit.destination_negate  # negation must not narrow
    assert permit.uncertain and permit.widened
    deny_set = parse_text(RULE_TO_GROUP.format(dest=dest, action="deny"))
    deny = rule(deny_set, "R")
    assert deny.uncertain and not deny.widened
    assert any(w.line == 3 and not w.widened for w in deny_set.warnings)


def test_panorama_order_and_object_precedence() -> None:
    ruleset = parse("panorama.xml", PanosParser(device_group="plant-dg"))
    inter = ruleset.filters[INTERZONE_FILTER]
    assert [r.rule_id for r in inter.rules] == ["shared-pre", "dg-pre", "dg-post", "shared-post"]
    assert inter.default_action is Action.REJECT  # shared post-rulebase override of interzone-default
    assert ruleset.zones == ["it", "ot"]  # from the template
    assert [str(n) for n in inter.rules[1].destinations.include] == ["10.30.0.10/32"]  # DG object wins
    assert ruleset.objects["historian"].span.line == 26
    assert any(o.name == "historian" and o.span.line == 68 for o in ruleset.objects.values())
    with pytest.raises(InputError, match="plant-dg, device-group office-dg"):
        parse("panorama.xml")
    with pytest.raises(InputError, match="no device-group 'nope'"):
        parse("panorama.xml", PanosParser(device_group="nope"))


def test_set_format_panorama_and_moves() -> None:
    text = """set shared address S ip-netmask 10.9.0.0/16
set shared pre-rulebase security rules SP from any
set shared pre-rulebase security rules SP to any
set shared pre-rulebase security rules SP source S
set shared pre-rulebase security rules SP destination any
set shared pre-rulebase security rules SP application any
set shared pre-rulebase security rules SP service any
set shared pre-rulebase security rules SP action deny
set device-group DG post-rulebase security rules A action allow
set device-group DG post-rulebase security rules B action allow
set device-group DG post-rulebase security rules C action allow
move device-group DG post-rulebase security rules C top
move device-group DG post-rulebase security rules A after B
"""
    ruleset = parse_text(text)
    assert [r.rule_id for r in ruleset.filters[INTERZONE_FILTER].rules] == ["SP", "C", "B", "A"]
    assert [str(n) for n in rule(ruleset, "SP").sources.include] == ["10.9.0.0/16"]
    assert rule(ruleset, "A").uncertain  # no from/to/source/...: treated as any, reported
    with pytest.raises(InputError, match="undefined entry"):
        parse_text(text + "move device-group DG post-rulebase security rules A before NOPE\n")


def test_vsys_selection() -> None:
    text = "set rulebase security rules R1 action deny\nset vsys vsys2 rulebase security rules R2 action deny\n"
    with pytest.raises(InputError, match="vsys vsys1, vsys vsys2") as info:
        parse_text(text)
    assert info.value.problems[0].location.line == 1
    ruleset = parse_text(text, PanosParser(vsys="vsys2"))
    assert [r.rule_id for r in ruleset.filters[INTERZONE_FILTER].rules] == ["R2"]


def test_billion_laughs_is_refused() -> None:
    bomb = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<config><devices/>&lol3;</config>
"""
    with pytest.raises(InputError, match="refused") as info:
        parse_text(bomb)
    assert info.value.problems[0].location.line == 3


def test_external_entity_is_refused() -> None:
    xxe = '<?xml version="1.0"?>\n<!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<config>&x;</config>\n'
    with pytest.raises(InputError):
        parse_text(xxe)


def test_malformed_input_names_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        parse_text("<config>\n  <devices>\n  </device>\n</config>\n")
    location = info.value.problems[0].location
    assert (location.line, location.column) == (3, 5)
    with pytest.raises(InputError) as info:
        parse_text('set address A description "never closed\n')
    assert info.value.problems[0].location.line == 1
    with pytest.raises(InputError, match="unknown action"):
        parse_text("set rulebase security rules R action permit-ish\n")
    with pytest.raises(InputError, match="bad address"):
        parse_text("set address A ip-netmask 10.0.0.300\nset rulebase security rules R destination A\n")
    with pytest.raises(InputError, match="cycle"):
        parse_text("set address-group G1 static G2\nset address-group G2 static G1\n"
                   "set rulebase security rules R destination G1\n")


def test_unknown_commands_warn_and_continue() -> None:
    ruleset = parse_text("edit rulebase\nset zone z network layer3 ethernet1/1\n")
    assert ruleset.zones == ["z"]
    assert [(w.line, w.message) for w in ruleset.warnings] == [(1, "command not understood; ignored")]


def test_detect() -> None:
    assert PARSER.detect((DATA / "plant.xml").read_text()) >= 0.9
    assert PARSER.detect((DATA / "plant.set").read_text()) >= 0.9
    assert PARSER.detect("config {\n  devices {\n  }\n}\n") >= 0.9
    assert PARSER.detect("set security zones security-zone trust\n") == 0.0
    assert PARSER.detect("config firewall policy\n    edit 1\n        set srcintf port1\n") == 0.0
    assert PARSER.detect("*filter\n-A INPUT -j ACCEPT\nCOMMIT\n") == 0.0


def _corpus_files() -> list[Path]:
    directory = shared_path(*CORPUS)
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name != "SOURCES.md")


def test_corpus_parses_or_names_the_line() -> None:
    files = _corpus_files()
    assert len(files) >= 20
    parsed = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert PARSER.detect(text) >= 0.3, path.name
        try:
            ruleset = PARSER.parse(text, path.name)
        except InputError as exc:
            assert all(p.location.line > 0 for p in exc.problems), (path.name, str(exc))
            continue
        parsed += 1
        for _flt, r in ruleset.all_rules():
            assert r.span.line > 0 and r.span.text, (path.name, r.rule_id)
    assert parsed >= 15


def test_corpus_batfish_semantics() -> None:
    directory = shared_path(*CORPUS)
    moved = (directory / "batfish__move-rulebase-security.set").read_text()
    ruleset = PanosParser(vsys="vsys1").parse(moved, "moved.set")
    assert [r.rule_id for r in ruleset.filters[INTERZONE_FILTER].rules] == ["RULE3", "RULE4", "RULE1", "RULE5", "RULE2"]
    other = PanosParser(vsys="MY_VSYS").parse(moved, "moved.set")
    assert [r.rule_id for r in other.filters[INTERZONE_FILTER].rules] == ["RULE7", "RULE6"]

    inherit = (directory / "batfish__device-group-inheritance.set").read_text()
    child = PanosParser(device_group="DG_CHILD").parse(inherit, "inherit.set")
    assert [r.rule_id for r in child.filters[INTERZONE_FILTER].rules] == [
        "PRE_RULE_1_PARENT", "PRE_RULE_1_CHILD", "POST_RULE_1_CHILD", "POST_RULE_1_PARENT"]
    assert child.zones == ["Z1", "Z2"]

    panorama = PARSER.parse((directory / "batfish__panorama-rulebase.set").read_text(), "p.set")
    rules = panorama.filters[INTERZONE_FILTER].rules
    assert [r.rule_id for r in rules] == ["ALLOW-SERVICE1", "DENY-SERVICE12", "ALLOW-SERVICE23"]
    assert [s.dst_ports for s in rules[2].services] == [((1002, 1002),), ((1003, 1003),)]

    brace = PARSER.parse((directory / "batfish__security-rules-original-flow.set").read_text(), "b.set")
    assert brace.zones == ["INSIDE", "OUTSIDE"] and len(brace.nat_rules) == 2 and not brace.nat_statements
    assert [str(n) for n in rule(brace, "PERMIT_DST_1").destinations.include] == ["2.2.2.2/32"]
