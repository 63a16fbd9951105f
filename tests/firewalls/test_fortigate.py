"""FortiGate parser: goldens of hand-written configs, exact semantics, and the third-party corpus."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from plantgate.errors import InputError
from plantgate.firewalls.fortigate.objects import ObjectBook
from plantgate.firewalls.fortigate.parser import PARSER, FortiGateParser, parse_vdoms
from plantgate.firewalls.fortigate.services import ServiceValue
from plantgate.firewalls.fortigate.syntax import read_tree, settings, tokenize
from plantgate.firewalls.ruleset import ICMP, SCTP, TCP, UDP, Action, Rule, Ruleset, Service
from tests.conftest import shared_path
from tests.firewalls.golden import check_golden

HERE = Path(__file__).parent
DATA = HERE / "data" / "fortigate"


def _parse(name: str) -> Ruleset:
    path = DATA / name
    return PARSER.parse(path.read_text(), str(path))


@pytest.mark.parametrize("name", ["zones", "objects"])
def test_golden(name: str) -> None:
    check_golden(_parse(f"{name}.conf"), "fortigate", name)


def test_golden_vdoms() -> None:
    path = DATA / "vdoms.conf"
    for vdom, ruleset in parse_vdoms(path.read_text(), str(path)).items():
        check_golden(ruleset, "fortigate", f"vdoms-{vdom}")


def _rule(ruleset: Ruleset, prefix: str) -> Rule:
    return next(r for _, r in ruleset.all_rules() if r.rule_id.startswith(prefix))


# --- zones and paths -----------------------------------------------------------------------


def test_zone_members_are_not_zones_and_every_pair_has_a_path() -> None:
    rs = _parse("zones.conf")
    assert rs.zones == ["OT-CELLS", "port1", "port2", "dmz"]
    assert "port3" not in rs.zones and "port4" not in rs.zones
    for a in rs.zones:
        for b in rs.zones:
            expected = ("intrazone-allow",) if a == b == "OT-CELLS" else ("policy",)
            assert rs.paths[(a, b)] == expected
    assert rs.filters["intrazone-allow"].default_action is Action.PERMIT
    assert rs.filters["intrazone-allow"].rules == []
    assert rs.filters["policy"].default_action is Action.DENY


def test_policy_order_is_config_order_not_id() -> None:
    rs = _parse("zones.conf")
    assert [r.rule_id for r in rs.filters["policy"].rules] == [
        "policy 20 (IT to DMZ patching)", "policy 10 (DMZ pulls from cells)", "policy 30 (block IT to OT)",
    ]
    deny = _rule(rs, "policy 30")
    assert deny.action is Action.DENY and deny.from_zones == () and deny.to_zones == ("OT-CELLS",)
    assert deny.comment == "explicit deny;\nthe implicit one follows"
    assert (deny.span.line, deny.span.end_line) == (73, 83)
    assert deny.span.text.splitlines()[0].strip() == "edit 30"


def test_local_in_policy_goes_to_self_zone() -> None:
    rs = _parse("objects.conf")
    assert rs.zones[-1] == "self"
    assert rs.paths[("outside", "self")] == ("local-in",)
    assert ("self", "outside") not in rs.paths
    local = rs.filters["local-in"].rules[0]
    assert local.action is Action.DENY and local.from_zones == ("outside",)
    assert any("allowaccess" in w.message and w.widened for w in rs.warnings)


# --- objects -------------------------------------------------------------------------------


def test_nested_group_with_exclusion_is_exact() -> None:
    rs = _parse("objects.conf")
    src = _rule(rs, "policy 1 ").sources
    assert not src.contains(ipaddress.ip_address("192.168.1.20"))  # excluded in the inner group
    assert src.contains(ipaddress.ip_address("192.168.1.21"))
    assert src.contains(ipaddress.ip_address("192.168.1.31"))  # jump-hosts, a sibling member
    assert src.contains(ipaddress.ip_address("2001:db8:1::5"))  # srcaddr6
    assert not src.contains(ipaddress.ip_address("2001:db8:2::5"))
    inner = _rule(rs, "policy 3 ").sources
    assert [str(n) for n in inner.include] == ["192.168.1.0/24"]
    assert [str(n) for n in inner.exclude] == ["192.168.1.20/32"]
    assert rs.objects["outer"].members == ("inner", "jump-hosts")


def test_negation_and_wildcard() -> None:
    rule = _rule(_parse("objects.conf"), "policy 2 ")
    assert rule.sources.contains(ipaddress.ip_address("8.8.8.8"))
    assert rule.sources.contains(ipaddress.ip_address("192.168.1.31"))  # excluded from the negated group
    assert not rule.sources.contains(ipaddress.ip_address("192.168.1.29"))
    assert not rule.sources.contains(ipaddress.ip_address("2001:db8::1"))  # no srcaddr6: IPv6 never matches
    assert rule.destinations.contains(ipaddress.ip_address("10.1.3.5"))
    assert not rule.destinations.contains(ipaddress.ip_address("10.1.4.5"))
    assert rule.service_negate and rule.services[0].protocol == 47


def test_custom_services_and_groups() -> None:
    services = _rule(_parse("objects.conf"), "policy 1 ").services
    modbus = [s for s in services if s.name == "modbus-from-high"]
    assert [(s.protocol, s.dst_ports, s.src_ports) for s in modbus] == [
        (TCP, ((502, 502),), ((1024, 65535),)), (TCP, ((8000, 8010),), ()),
    ]
    echo = next(s for s in services if s.name == "echo-request")
    assert (echo.protocol, echo.icmp_type, echo.icmp_code) == (ICMP, 8, 0)
    assert {(s.protocol, s.dst_ports) for s in services if s.name == "NTP"} == {
        (TCP, ((123, 123),)), (UDP, ((123, 123),)),
    }


def test_unresolved_objects_widen_permits_and_make_denies_uncertain() -> None:
    rs = _parse("objects.conf")
    permit = _rule(rs, "policy 3 ")
    assert permit.uncertain and permit.destinations.contains(ipaddress.ip_address("198.51.100.1"))
    assert any("vendor-portal" in w.message and w.line == 108 and w.widened for w in rs.warnings)
    deny = _rule(rs, "policy 4 ")
    assert deny.uncertain and deny.action is Action.DENY
    assert not deny.destinations.contains(ipaddress.ip_address("198.51.100.1"))
    isdb = _rule(rs, "policy 6 ")
    assert isdb.uncertain and isdb.destinations.is_any and isdb.services[0].protocol is None
    assert any("internet-service" in r for r in isdb.widened)
    assert any("schedule 'weekdays'" in w.message for w in rs.warnings)
    unknown = _rule(rs, "policy 7 ")
    assert unknown.uncertain and unknown.services[0].protocol is None
    assert any("users" in r for r in unknown.widened)
    assert not _rule(rs, "policy 5 ").enabled


# --- VDOMs ---------------------------------------------------------------------------------


def test_vdoms_are_separate_firewalls() -> None:
    text = (DATA / "vdoms.conf").read_text()
    with pytest.raises(InputError) as err:
        PARSER.parse(text, "vdoms.conf")
    assert "OT" in str(err.value) and "root" in str(err.value) and "vdoms.conf:2" in str(err.value)
    ot = FortiGateParser(vdom="OT").parse(text, "vdoms.conf")
    assert ot.zones == ["control", "port4"]
    web = ot.filters["policy"].rules[0].destinations
    assert [str(n) for n in web.include] == ["10.4.0.80/32"]  # the OT VDOM's own "web"
    root = FortiGateParser(vdom="root").parse(text, "vdoms.conf")
    assert root.zones == ["port1", "port2"]
    with pytest.raises(InputError, match="no VDOM named 'DMZ'"):
        FortiGateParser(vdom="DMZ").parse(text, "vdoms.conf")


# --- syntax --------------------------------------------------------------------------------


def test_tokenizer_quotes_escapes_and_lines() -> None:
    text = 'config a\n  edit "x y"\n    set k "say \\"hi\\"" \'b c\'\n    set m "two\nlines" z\n  next\nend\n'
    words = [(s.words, s.line, s.end_line) for s in tokenize(text, "f")]
    assert words[1] == (("edit", "x y"), 2, 2)
    assert words[2] == (("set", "k", 'say "hi"', "b c"), 3, 3)
    assert words[3] == (("set", "m", "two\nlines", "z"), 4, 5)
    assert words[4] == (("next",), 6, 6)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("config firewall policy\n  edit 1\n  set action accept\nend\n", 4),
        ("config firewall policy\n  edit 1\n  next\n", 1),
        ("config firewall policy\n  edit 1\n  next\nend\nend\n", 5),
        ("config firewall policy\n  next\nend\n", 2),
        ("set hostname x\n", 1),
        ('config system global\n  set hostname "x\nend\n', 2),
        ("config firewall address\n  edit a\n    set subnet 10.0.0.300 255.255.255.0\n  next\nend\n", 3),
        ("config firewall service custom\n  edit s\n    set tcp-portrange 90-80\n  next\nend\n", 3),
    ],
)
def test_bad_input_names_the_line(text: str, line: int) -> None:
    with pytest.raises(InputError) as err:
        PARSER.parse(text, "bad.conf")
    assert err.value.problems[0].location.line == line


def test_table_edit_semantics_merge_move_and_protocol_reset() -> None:
    text = (
        "config firewall service custom\n edit s\n  set protocol ICMP\n  set icmptype 3\n"
        "  set protocol IP\n next\nend\n"
        "config firewall policy\n edit 1\n next\n edit 2\n next\n move 2 before 1\nend\n"
        "config firewall policy\n edit 1\n  append srcintf a\n  append srcintf b\n  unselect srcintf a\n next\nend\n"
    )
    tree = read_tree(text, "t")
    assert list(tree.tables["firewall policy"].entries) == ["2", "1"]
    assert settings(tree.tables["firewall policy"].entries["1"].statements)["srcintf"].values == ("b",)
    svc = settings(tree.tables["firewall service custom"].entries["s"].statements, {"protocol": ("icmptype",)})
    assert "icmptype" not in svc and svc["protocol"].first == "IP"


def test_detect() -> None:
    assert PARSER.detect((DATA / "vdoms.conf").read_text()) == 1.0
    assert PARSER.detect((DATA / "objects.conf").read_text()) > 0.8
    assert PARSER.detect("access-list 101 permit ip any any\n") == 0.0


# --- third-party corpus --------------------------------------------------------------------

CORPUS_FILES = sorted(
    p.name for p in (Path(__file__).resolve().parents[2].parent / "shared/firewall-configs/fortigate").glob("*")
) or ["(corpus absent)"]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_parses_or_names_the_line(name: str) -> None:
    path = shared_path("firewall-configs", "fortigate", name)
    text = path.read_text()
    assert PARSER.detect(text) >= 0.3
    try:
        ruleset = PARSER.parse(text, str(path))
    except InputError as err:
        assert all(p.location.line > 0 for p in err.problems)
        return
    for _, rule in ruleset.all_rules():
        assert rule.span.line > 0 and rule.span.text
        if rule.widened:
            assert rule.uncertain
    if "_warn" in name:
        assert any(w.widened for w in ruleset.warnings)


def test_corpus_semantics_match_the_vendor() -> None:
    path = shared_path("firewall-configs", "fortigate", "batfish__policy_move.conf")
    rs = PARSER.parse(path.read_text(), str(path))
    assert [r.rule_id for r in rs.filters["policy"].rules] == [f"policy {n}" for n in (5, 1, 2, 4, 3)]
    assert all(r.action is Action.DENY for r in rs.filters["policy"].rules)  # FortiOS default action
    path = shared_path("firewall-configs", "fortigate", "batfish__service_custom.conf")
    tree = read_tree(path.read_text(), str(path))
    book = ObjectBook(tree, tree.tables, Ruleset("t", "fortigate", str(path)), {})
    assert book.service("change_protocol") == ServiceValue((Service(name="change_protocol"),))
    explicit = book.service("explicit_tcp")
    assert explicit is not None and [(s.protocol, s.dst_ports, s.src_ports) for s in explicit.services] == [
        (TCP, ((1, 2),), ((3, 4),)), (TCP, ((10, 11),), ()), (TCP, ((13, 13),), ((6, 7),)),
        (UDP, ((100, 100),), ()), (SCTP, ((200, 200),), ()), (SCTP, ((201, 201),), ((300, 300),)),
    ]
    icmp = book.service("unset_icmp_2")
    assert icmp is not None and (icmp.services[0].icmp_type, icmp.services[0].icmp_code) == (3, None)
    path = shared_path("firewall-configs", "fortigate", "batfish__firewall_policy_addrgrp.conf")
    rule = PARSER.parse(path.read_text(), str(path)).filters["policy"].rules[0]
    assert not rule.sources.contains(ipaddress.ip_address("10.0.1.66"))  # excluded in a nested group
    assert rule.sources.contains(ipaddress.ip_address("10.0.1.1"))


@given(st.lists(st.text(alphabet=st.sampled_from(list('ab #"\'\\\t\r\x0c\u00a0')), max_size=12), max_size=8))
@example(['"#" a', ' "" b'])  # a quoted first word is a word, not a comment; an empty quoted word is kept
@example([' "x"', 'a b"c"', '#"x"', 'a "b c"', 'a\t"b"\r'])  # around the one-quoted-value shortcut
def test_plain_split_equals_the_regex_and_character_readers(lines: list[str]) -> None:
    """``str.split`` reads most lines; it must read them exactly as the regex and the character scanner do."""
    text = "\n".join(lines)
    try:
        expected = tokenize(text, "f", split_plain=False)
    except InputError as error:
        with pytest.raises(InputError) as raised:
            tokenize(text, "f")
        assert str(raised.value) == str(error)
        return
    assert tokenize(text, "f") == expected


@pytest.mark.parametrize("odd", ["", "\r", "\x0c", "\u2028", "\x1c"])
@pytest.mark.parametrize("ending", ["", "\n", "\n\n"])
def test_tree_lines_are_the_files_lines(odd: str, ending: str) -> None:
    """Spans quote ``str.splitlines`` lines, whichever way the tree was read."""
    text = f"config system global\n  set hostname x{odd}\nend{ending}"
    assert read_tree(text, "t").lines == text.splitlines()
