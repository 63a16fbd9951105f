"""iptables parser: goldens, chain inlining, interface zones, errors and the third-party corpus."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantgate.errors import InputError
from plantgate.firewalls.linux.iptables import PARSER
from plantgate.firewalls.ruleset import Action, AddressSet, Rule, Ruleset
from tests.conftest import shared_path
from tests.firewalls.golden import check_golden

HERE = Path(__file__).parent
DATA = HERE / "data" / "iptables"


def parse(text: str) -> Ruleset:
    return PARSER.parse(text, "test.rules")


def rules(rs: Ruleset, name: str) -> dict[str, Rule]:
    return {r.rule_id: r for r in rs.filters[name].rules}


def test_golden_ot_boundary() -> None:
    path = DATA / "ot_boundary.rules"
    check_golden(PARSER.parse(path.read_text(), str(path)), "iptables", "ot_boundary")


def test_jump_and_return_are_inlined_with_exclusion() -> None:
    rs = parse("*filter\n:FORWARD DROP [0:0]\n:C - [0:0]\n-A FORWARD -p tcp -j C\n"
               "-A C -s 10.0.0.5 -j RETURN\n-A C -d 10.1.0.0/16 -j ACCEPT\n-A FORWARD -j ACCEPT\nCOMMIT\n")
    flat = rs.filters["FORWARD"].rules
    assert [r.rule_id for r in flat] == ["C#2", "FORWARD#2"]
    inlined = flat[0]
    assert inlined.span.line == 6 and inlined.object_refs == ("C",)
    assert inlined.sources.exclude == (ipaddress.ip_network("10.0.0.5/32"),)
    assert [s.protocol for s in inlined.services] == [6]  # the jump's -p tcp guards the chain


def test_return_on_two_fields_splits_into_disjoint_rules() -> None:
    rs = parse("*filter\n:INPUT ACCEPT [0:0]\n:C - [0:0]\n-A INPUT -j C\n"
               "-A C -s 10.0.0.0/8 -p tcp --dport 22 -j RETURN\n-A C -j DROP\nCOMMIT\n")
    flat = rs.filters["INPUT"].rules
    assert [r.rule_id for r in flat] == ["C#2", "C#2@2"]
    assert flat[0].sources.exclude == (ipaddress.ip_network("10.0.0.0/8"),)
    assert flat[1].sources.include == (ipaddress.ip_network("10.0.0.0/8"),)
    assert flat[1].services[0].protocol == 6 and flat[1].service_negate


def test_goto_falls_back_to_base_policy_and_return_in_base_chain() -> None:
    rs = parse("*filter\n:FORWARD ACCEPT [0:0]\n:G - [0:0]\n-A FORWARD -s 10.0.0.0/8 -g G\n"
               "-A FORWARD -d 10.9.9.9 -j RETURN\n-A FORWARD -j DROP\n-A G -p udp -j DROP\nCOMMIT\n")
    flat = rs.filters["FORWARD"].rules
    assert [(r.rule_id, r.action) for r in flat] == [
        ("G#1", Action.DROP), ("FORWARD#1", Action.PERMIT), ("FORWARD#2", Action.PERMIT), ("FORWARD#3", Action.DROP)]
    assert "policy" in flat[1].comment


def test_interface_zones_and_wildcards() -> None:
    rs = parse("*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i eth0 -o eth1 -j ACCEPT\n"
               "-A FORWARD -i eth+ -o wan0 -j ACCEPT\n-A FORWARD ! -i eth1 -o eth+ -j DROP\nCOMMIT\n")
    assert rs.zones == ["eth0", "eth1", "wan0", "eth+", "*", "self"]
    by_id = rules(rs, "FORWARD")
    assert by_id["FORWARD#2"].from_zones == ("eth+", "eth0", "eth1")
    assert by_id["FORWARD#3"].from_zones == ("*", "eth+", "eth0", "wan0")
    assert rs.paths[("eth0", "self")] == ("INPUT",)
    assert rs.paths[("self", "wan0")] == ("OUTPUT",)
    assert rs.paths[("eth+", "eth+")] == ("FORWARD",) and ("eth0", "eth0") not in rs.paths


def test_state_matches() -> None:
    rs = parse("-P INPUT DROP\n-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT\n"
               "-A INPUT -m conntrack --ctstate NEW,ESTABLISHED -p tcp --dport 22 -j ACCEPT\n"
               "-A INPUT -m conntrack --ctstate INVALID -j DROP\n"
               "-A INPUT -m conntrack ! --ctstate NEW -j DROP\n")
    flat = rs.filters["INPUT"].rules
    # INVALID-only takes no new flow; "! NEW" still takes UNTRACKED (and NATed) first packets
    assert [r.stateful_return_only for r in flat] == [True, False, True, False]


def test_unknown_match_widens_permit_and_unsettles_deny() -> None:
    rs = parse("-A INPUT -p tcp -m recent --rcheck --seconds 60 -j DROP\n"
               "-A INPUT -p tcp -m addrtype --dst-type LOCAL -j ACCEPT\n")
    drop, accept = rs.filters["INPUT"].rules
    assert drop.uncertain and not drop.widened
    assert accept.uncertain and any("addrtype" in w for w in accept.widened)
    assert [w.line for w in rs.warnings if "not modelled" in w.message] == [1, 2]


def test_ports_negation_multiport_and_ranges() -> None:
    rs = parse("-A INPUT -p tcp ! --dport 1024:65535 -j ACCEPT\n"
               "-A INPUT -p udp -m multiport --ports 53,123 -j ACCEPT\n"
               "-A INPUT -p tcp -s 10.0.0.0/255.255.0.0,10.2.0.1 -j ACCEPT\n")
    low, either, masks = rs.filters["INPUT"].rules
    assert low.services[0].dst_ports == ((0, 1023),)
    assert {(s.src_ports, s.dst_ports) for s in either.services} == {(((53, 53), (123, 123)), ()),
                                                                     ((), ((53, 53), (123, 123)))}
    assert [str(n) for n in masks.sources.include] == ["10.0.0.0/16", "10.2.0.1/32"]


def test_command_line_form_and_ip6tables() -> None:
    rs = parse("ip6tables -P FORWARD DROP\nip6tables -A FORWARD -s 2001:db8::/32 -p ipv6-icmp "
               "--icmpv6-type echo-request -j ACCEPT\nip6tables -A FORWARD -j DROP\n")
    allow, deny = rs.filters["FORWARD"].rules
    assert allow.services[0].protocol == 58 and allow.services[0].icmp_type == 128
    assert [str(n) for n in deny.sources.include] == ["::/0"]
    assert rs.filters["FORWARD"].default_action is Action.DROP


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("*filter\n:C - [0:0]\n:D - [0:0]\n-A INPUT -j C\n-A C -j D\n-A D -j C\nCOMMIT\n", 6, 9, "loop"),
    ("*filter\n-A INPUT -p tcp -j NOWHERE\nCOMMIT\n", 2, 20, "undefined chain"),
    ("*filter\n-A INPUT -s 10.0.0.300/8 -j DROP\nCOMMIT\n", 2, 13, "bad address"),
    ("-A INPUT --dport 22 -j ACCEPT\n", 1, 18, "needs a protocol"),
    ("-A INPUT -s 1.2.3.4 -m comment --comment \"open -j ACCEPT\n", 1, 42, "unterminated"),
    ("-A NOCHAIN -j ACCEPT\n", 1, 4, "does not exist"),
])
def test_malformed_input_names_line_and_column(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse(text)
    problem = info.value.problems[0]
    assert (problem.location.line, problem.location.column) == (line, column)
    assert words in problem.message


def test_detect() -> None:
    assert PARSER.detect("*filter\n:INPUT ACCEPT [0:0]\n") > 0.9
    assert PARSER.detect("iptables -A INPUT -j ACCEPT\n") > 0.8
    assert PARSER.detect("table inet f {\n chain c { type filter hook input priority 0; }\n}\n") == 0.0


def test_corpus_parses_or_names_the_line() -> None:
    folder = shared_path("firewall-configs", "iptables")
    parsed = 0
    for path in sorted(folder.iterdir()):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            rs = PARSER.parse(text, str(path))
        except InputError as exc:
            assert all(p.location.line > 0 for p in exc.problems), path
            continue
        parsed += 1
        assert rs.filters.keys() == {"FORWARD", "INPUT", "OUTPUT"}
        assert all(r.span.line > 0 for _, r in rs.all_rules())
    assert parsed >= 10


@given(st.text(alphabet=st.sampled_from(list("-A FORWARD -s 10.0.0.1/8 -j ACCEPT\t\u00a0\u2003\u3000\x1c\x85é!,:")),
               max_size=80))
def test_fast_tokenizer_equals_the_shell_reader(line: str) -> None:
    """Lines without quotes or backslashes are split by a regular expression; it must split as the shell reader."""
    from plantgate.firewalls.linux.iptables_spec import shell_tokens, tokenize

    assert tokenize(line, "f", 1) == shell_tokens(line, "f", 1)


_NETS = [ipaddress.ip_network(n) for n in ("0.0.0.0/0", "::/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32",
                                           "192.0.2.0/24", "2001:db8::/32", "2001:db8::1/128")]
_SETS = st.builds(lambda inc, exc, names: AddressSet(tuple(inc), tuple(exc), tuple(names)),
                  st.lists(st.sampled_from(_NETS), max_size=3), st.lists(st.sampled_from(_NETS), max_size=2),
                  st.lists(st.sampled_from(["a", "b"]), max_size=2))


@given(_SETS, _SETS)
def test_intersection_with_a_whole_family_is_the_pairwise_intersection(a: AddressSet, b: AddressSet) -> None:
    from plantgate.firewalls.linux.match import exact_intersection, intersect_addresses

    for x, y in ((a, b), (b, a), (AddressSet((_NETS[0],)), a), (a, AddressSet((_NETS[1],)))):
        assert intersect_addresses(x, y) == exact_intersection(x, y)
