"""nftables parser: goldens, base-chain paths, families, sets, errors and the third-party corpus."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.linux.nftables import PARSER
from plantgate.firewalls.ruleset import Action, Ruleset
from tests.conftest import shared_path
from tests.firewalls.golden import check_golden

HERE = Path(__file__).parent
DATA = HERE / "data" / "nftables"


def parse(text: str) -> Ruleset:
    return PARSER.parse(text, "test.nft")


def test_golden_ot_boundary() -> None:
    path = DATA / "ot_boundary.nft"
    check_golden(PARSER.parse(path.read_text(), str(path)), "nftables", "ot_boundary")


def test_golden_matches_iptables_equivalent_rule_for_rule() -> None:
    from plantgate.firewalls.linux.iptables import PARSER as IPT

    ipt = IPT.parse((HERE / "data" / "iptables" / "ot_boundary.rules").read_text(), "x")
    nft = PARSER.parse((DATA / "ot_boundary.nft").read_text(), "y")
    a = [(r.action, r.services, r.stateful_return_only, r.uncertain) for r in ipt.filters["FORWARD"].rules]
    b = [(r.action, r.services, r.stateful_return_only, r.uncertain) for r in nft.filters["plant/forward"].rules]
    assert a == b


def test_base_chains_on_one_hook_in_priority_order() -> None:
    rs = parse("table inet a {\n chain late { type filter hook input priority 10; policy drop; }\n"
               " chain early { type filter hook input priority -5; policy accept; }\n}\n"
               "table ip b {\n chain mid { type filter hook input priority filter; policy accept;\n"
               "  tcp dport 22 drop\n }\n}\n")
    assert rs.paths[("*", "self")] == ("a/early", "b/mid", "a/late")
    assert ("*", "*") not in rs.paths and rs.default_path_action is Action.PERMIT
    family_rule, drop = rs.filters["b/mid"].rules
    assert family_rule.action is Action.PERMIT and family_rule.sources.include == (ipaddress.ip_network("::/0"),)
    assert drop.rule_id == "b/mid#1" and drop.position == 2


def test_named_sets_negation_wildcards_and_return() -> None:
    rs = parse('table inet t {\n set ot { type ipv4_addr; flags interval; elements = { 10.20.0.0/16 } }\n'
               ' chain sub {\n  ip saddr != @ot return\n  tcp dport { 502, 20000-20010 } accept\n }\n'
               ' chain fwd {\n  type filter hook forward priority 0; policy drop;\n'
               '  iifname "ot*" oifname != "wan0" jump sub\n }\n}\n')
    (rule,) = rs.filters["t/fwd"].rules
    assert rule.rule_id == "t/sub#2" and rule.object_refs == ("t/sub", "t/@ot")
    # "ip saddr != @ot return" returns IPv4 outside @ot only: IPv6 goes on to the accept
    ip = ipaddress.ip_address
    assert rule.sources.contains(ip("10.20.1.1")) and rule.sources.contains(ip("2001:db8::1"))
    assert not rule.sources.contains(ip("10.30.0.1"))
    assert rule.services[0].dst_ports == ((502, 502), (20000, 20010))
    assert rule.from_zones == ("ot*",) and rule.to_zones == ("*", "ot*")
    assert {"t/@ot", "t/sub"} <= rs.objects.keys()


def test_unknown_expression_widens_permit_and_unsettles_deny() -> None:
    rs = parse("table ip t {\n chain in {\n  type filter hook input priority 0;\n"
               "  meta skuid 1000 drop\n  fib daddr type local accept\n }\n}\n")
    _, drop, accept = rs.filters["t/in"].rules
    assert drop.uncertain and not drop.widened
    assert accept.uncertain and accept.widened
    assert [w.line for w in rs.warnings if "not modelled" in w.message] == [4, 5]


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("table inet t {\n chain c {\n  accept\n }\n", 1, 1, "never closed"),
    ("table inet t {\n}\n}\n", 3, 1, "unbalanced"),
    ("tcp dport 22 accept\n", 1, 1, "outside a table"),
    ("table ip t {\n chain c {\n  ip saddr 10.0.0.300/8 drop\n }\n}\n", 3, 12, "bad address"),
    ("table ip t {\n chain c {\n  jump nowhere\n }\n}\n", 3, 8, "undefined chain"),
    ("table ip t {\n chain c {\n  jump d\n }\n chain d {\n  jump c\n }\n"
     " chain i {\n  type filter hook input priority 0;\n  jump c\n }\n}\n", 6, 8, "loop"),
])
def test_malformed_input_names_line_and_column(text: str, line: int, column: int, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse(text)
    problem = info.value.problems[0]
    assert (problem.location.line, problem.location.column) == (line, column)
    assert words in problem.message


def test_detect() -> None:
    assert PARSER.detect("table inet f {\n chain c { type filter hook input priority 0; }\n}\n") > 0.9
    assert PARSER.detect("*filter\n:INPUT ACCEPT [0:0]\n") == 0.0


def test_corpus_parses_or_names_the_line() -> None:
    folder = shared_path("firewall-configs", "nftables")
    for path in sorted(folder.iterdir()):
        rs = PARSER.parse(path.read_text(encoding="utf-8"), str(path))
        assert rs.filters, path
        assert not [w for w in rs.warnings if "not modelled" in w.message], path
        for flt in rs.filters.values():
            assert flt.rules and flt.rules[0].stateful_return_only or flt.rules[0].rule_id.endswith("/family")
