"""Cisco ASA parser: goldens, zone paths and implicit filters, port names, bad input, corpus."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.asa.parser import PARSER
from plantgate.firewalls.base import read_config_text
from plantgate.firewalls.dump import ruleset_to_dict
from plantgate.firewalls.ruleset import ANY_ADDRESS, ICMP, TCP, UDP, Action, Ruleset, Service
from tests.conftest import SHARED, shared_path

HERE = Path(__file__).parent
DATA = HERE / "data" / "asa"
GOLDEN = HERE / "golden" / "asa"
CORPUS = "firewall-configs/cisco-asa"


def parse_file(name: str) -> Ruleset:
    return PARSER.parse((DATA / name).read_text(), name)


def parse_text(text: str) -> Ruleset:
    return PARSER.parse(text, "t.cfg")


def only_rule(text: str):  # type: ignore[no-untyped-def]
    rs = parse_text(text)
    rules = [r for _, r in rs.all_rules()]
    assert len(rules) == 1, rules
    return rules[0]


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir()))
def test_golden(name: str) -> None:
    got = json.dumps(ruleset_to_dict(parse_file(name)), indent=2, sort_keys=True) + "\n"
    golden = GOLDEN / (Path(name).stem + ".json")
    if os.environ.get("PLANTGATE_UPDATE_GOLDEN") == "1":
        golden.write_text(got)
    assert golden.exists(), f"no golden for {name}; run with PLANTGATE_UPDATE_GOLDEN=1 and review it"
    assert got == golden.read_text()


# --- zones and paths -------------------------------------------------------------------


def test_running_config_zones_and_security_level_paths() -> None:
    rs = parse_file("plant_edge.cfg")
    assert rs.zones == ["outside", "inside", "dmz", "ot"]  # Management0/0 has no nameif
    # inside has no security-level line: ASA gives nameif "inside" level 100
    assert rs.paths[("inside", "outside")] == ("implicit:security-level inside(100)->outside(0)",)
    assert rs.filters["implicit:security-level inside(100)->outside(0)"].default_action is Action.PERMIT
    # an in-ACL replaces the security-level rule, also from low to high
    assert rs.paths[("outside", "inside")] == ("outside_in",)
    assert rs.paths[("outside", "ot")] == ("outside_in", "ot_out")
    # high to low without in-ACL: implicit permit, then the egress out-ACL
    assert rs.paths[("inside", "ot")] == ("implicit:security-level inside(100)->ot(50)", "ot_out")
    # equal levels (dmz 50, ot 50) without same-security-traffic: denied whatever the ACLs say
    name = "implicit:same-security dmz(50)->ot(50)"
    assert rs.paths[("dmz", "ot")] == (name, "ot_out")
    assert rs.filters[name].rules == [] and rs.filters[name].default_action is Action.DENY
    assert rs.paths[("ot", "dmz")] == ("implicit:same-security ot(50)->dmz(50)",)
    # low to high without in-ACL: implicit deny
    low_high = "implicit:security-level ot(50)->inside(100)"
    assert rs.paths[("ot", "inside")] == (low_high,)
    assert rs.filters[low_high].default_action is Action.DENY
    # no hairpin pairs without intra-interface
    assert not any(a == b for a, b in rs.paths)
    assert len(rs.paths) == 12


def test_global_acl_follows_interface_acl_and_same_security_permits() -> None:
    rs = parse_file("global_same_security.cfg")
    combined = rs.filters["combined:it_in+everywhere"]
    assert [r.rule_id for r in combined.rules] == ["it_in#1", "it_in#2", "everywhere#1", "everywhere#2"]
    assert combined.default_action is Action.DENY
    assert rs.paths[("it", "ot-cell2")] == ("combined:it_in+everywhere",)
    # the global ACL alone governs interfaces without their own in-ACL, also low -> high
    assert rs.paths[("ot-cell2", "it")] == ("everywhere",)
    # equal levels with inter-interface permitted still pass the inbound ACLs
    assert rs.paths[("ot-cell1", "it")] == ("everywhere",)
    # hairpin pairs exist with intra-interface
    assert rs.paths[("ot-cell1", "ot-cell1")] == ("everywhere",)
    assert ("it", "it") in rs.zone_pairs()
    assert not any(n.startswith("implicit:") for n in rs.filters)


def test_same_security_inter_without_acl_is_implicit_permit() -> None:
    rs = parse_text(
        "interface g0\n nameif a\n security-level 40\ninterface g1\n nameif b\n security-level 40\n"
        "same-security-traffic permit inter-interface\n"
    )
    assert rs.paths[("a", "b")] == ("implicit:same-security a(40)->b(40)",)
    assert rs.filters["implicit:same-security a(40)->b(40)"].default_action is Action.PERMIT
    assert ("a", "a") not in rs.paths


def test_bare_fragment_has_filters_but_no_paths() -> None:
    rs = parse_file("aerleon_style_fragment.acl")
    assert rs.zones == [] and rs.paths == {}
    assert list(rs.filters) == ["edge_in", "vpn_split"]
    # "clear configure access-list" dropped the rule pasted before it
    first = rs.filters["edge_in"].rules[0]
    assert first.rule_id == "edge_in#1" and first.comment == "deny-bogons"
    assert first.span.line == 6


def test_undefined_acl_and_unknown_interface_in_access_group() -> None:
    rs = parse_text(
        "interface g0\n nameif a\n security-level 0\ninterface g1\n nameif b\n security-level 100\n"
        "access-group MISSING in interface a\naccess-group X in interface nowhere\n"
        "access-list X extended permit ip any any\n"
    )
    assert rs.paths[("a", "b")] == ("MISSING",)
    assert rs.filters["MISSING"].default_action is Action.PERMIT  # widened, never narrowed
    messages = [w.message for w in rs.warnings]
    assert any("undefined ACL 'MISSING'" in m for m in messages)
    assert any("'nowhere'" in m for m in messages)


# --- ACE details -------------------------------------------------------------------------


def test_remarks_inactive_names_and_nested_groups() -> None:
    rs = parse_file("plant_edge.cfg")
    dmz = {r.rule_id: r for r in rs.filters["dmz_in"].rules}
    first = dmz["dmz_in#1"]
    assert first.comment == "DMZ may pull historian data\n(two remark lines)"
    assert first.destinations.include == (ipaddress.ip_network("10.10.1.5/32"),)
    assert "historian" in first.object_refs and "patch-server" in first.object_refs
    second = dmz["dmz_in#2"]
    assert second.enabled is False
    nets = {str(n) for n in second.destinations.include}
    assert nets == {"10.10.1.5/32", "10.10.2.1/32", "10.10.2.2/31", "10.10.2.4/31", "10.10.2.6/32",
                    "10.10.8.0/21", "2001:db8:10::/48"}
    assert second.services == (Service(TCP, (), ((44818, 44818), (502, 503)), name=""),)
    assert {"ot-all", "ot-servers", "plc-range", "historian", "ot-ports"} <= set(second.object_refs)


def test_icmp_group_and_protocol_group() -> None:
    rs = parse_file("plant_edge.cfg")
    dmz = {r.rule_id: r for r in rs.filters["dmz_in"].rules}
    assert [(s.protocol, s.icmp_type) for s in dmz["dmz_in#3"].services] == [(ICMP, 8), (ICMP, 0)]
    assert [s.protocol for s in dmz["dmz_in#5"].services] == [47, 50]
    assert dmz["dmz_in#5"].destinations.include == (ipaddress.ip_network("::/0"),)


def test_unknowns_widen_permits_and_make_denies_uncertain() -> None:
    rs = parse_file("plant_edge.cfg")
    dmz = {r.rule_id: r for r in rs.filters["dmz_in"].rules}
    timed = dmz["dmz_in#4"]
    assert timed.uncertain and "time-range office-hours treated as always active" in timed.widened
    assert timed.services == (Service(UDP, (), ((0, 52), (54, 65535))),)
    fqdn_deny = dmz["dmz_in#6"]
    assert fqdn_deny.action is Action.DENY and fqdn_deny.uncertain
    iface = dmz["dmz_in#7"]
    assert iface.destinations == ANY_ADDRESS and iface.uncertain
    truncated = dmz["dmz_in#8"]  # "permit tcp host": kept, widened where unreadable
    assert truncated.action is Action.PERMIT and truncated.uncertain
    assert truncated.sources == ANY_ADDRESS and truncated.destinations == ANY_ADDRESS
    assert truncated.services == (Service(TCP),)  # protocol was read; ports widened to any
    assert len(dmz) == 8  # the malformed deny (bad port name) is dropped
    assert any(w.line == truncated.span.line + 1 and "malformed deny" in w.message for w in rs.warnings)


def test_service_object_group_as_protocol() -> None:
    rs = parse_file("plant_edge.cfg")
    rule = rs.filters["ot_out"].rules[0]
    assert set(rule.services) == {
        Service(TCP, (), ((22, 22),), name="mgmt-services"),
        Service(UDP, (), ((161, 161),), name="mgmt-services"),
        Service(ICMP, icmp_type=8, name="mgmt-services"),
    }


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("eq www", ((80, 80),)),
        ("eq https", ((443, 443),)),
        ("eq ssh", ((22, 22),)),
        ("eq sqlnet", ((1521, 1521),)),
        ("lt 1024", ((0, 1023),)),
        ("gt 1023", ((1024, 65535),)),
        ("neq 80", ((0, 79), (81, 65535))),
        ("range ftp-data telnet", ((20, 23),)),
        ("eq 0", ((0, 0),)),
    ],
)
def test_tcp_port_operators(operator: str, expected: tuple[tuple[int, int], ...]) -> None:
    rule = only_rule(f"access-list A extended permit tcp any any {operator}\n")
    assert rule.services == (Service(TCP, (), expected),)
    assert not rule.uncertain


@pytest.mark.parametrize(
    ("name", "port"),
    [("domain", 53), ("ntp", 123), ("snmp", 161), ("snmptrap", 162), ("tftp", 69), ("syslog", 514),
     ("bootps", 67), ("isakmp", 500), ("netbios-ns", 137), ("radius", 1645), ("sip", 5060)],
)
def test_udp_port_names(name: str, port: int) -> None:
    rule = only_rule(f"access-list A extended permit udp any any eq {name}\n")
    assert rule.services == (Service(UDP, (), ((port, port),)),)


def test_source_ports_and_standard_acl() -> None:
    rs = parse_file("aerleon_style_fragment.acl")
    rules = {r.rule_id: r for _, r in rs.all_rules()}
    assert rules["edge_in#4"].services == (Service(UDP, ((1024, 65535),), ((53, 53),)),)
    std = rules["vpn_split#1"]
    assert std.sources == ANY_ADDRESS
    assert std.destinations.include == (ipaddress.ip_network("10.0.0.0/8"),)
    assert rules["vpn_split#2"].destinations.include == (ipaddress.ip_network("0.0.0.0/0"),)


def test_noncontiguous_mask_expands_exactly() -> None:
    rule = only_rule("access-list A extended deny ip 128.168.0.0 191.255.255.128 any\n")
    assert {str(n) for n in rule.sources.include} == {"128.168.0.0/25", "192.168.0.0/25"}
    assert not rule.uncertain


def test_unknown_lines_warn_with_line_and_nat_is_modelled() -> None:
    rs = parse_file("plant_edge.cfg")
    lines = {w.line: w.message for w in rs.warnings}
    text = (DATA / "plant_edge.cfg").read_text().splitlines()
    sysopt = text.index("sysopt connection permit-vpn") + 1
    assert "unknown command 'sysopt'" in lines[sysopt]
    assert not any("logging" in m or "route" in m or "hostname" in m for m in lines.values())
    assert rs.nat_statements == []  # both are 8.3+ NAT, modelled (tests/firewalls/test_asa_nat.py)
    nat_lines = sorted({r.span.line for r in rs.nat_rules})
    assert nat_lines == [text.index(" nat (dmz,outside) static 198.51.100.20") + 1,
                         text.index("nat (inside,outside) source dynamic any interface") + 1]


def test_objects_are_recorded_with_spans() -> None:
    rs = parse_file("plant_edge.cfg")
    group = rs.objects["ot-all"]
    assert group.kind == "address-group" and group.members == ("ot-servers",)
    assert group.span.end_line - group.span.line == 3
    assert rs.objects["historian"].kind == "name"
    assert rs.objects["ot-ports"].kind == "service-group"
    assert rs.objects["ping-types"].kind == "icmp-group"


# --- detection and bad input -------------------------------------------------------------


def test_detect() -> None:
    assert PARSER.detect((DATA / "plant_edge.cfg").read_text()) >= 0.9
    assert PARSER.detect((DATA / "aerleon_style_fragment.acl").read_text()) >= 0.5
    assert PARSER.detect("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -j ACCEPT\nCOMMIT\n") < 0.3
    assert PARSER.detect("ip access-list extended X\n permit ip any any\n") < 0.3


def test_binary_input_is_an_input_error_at_line_1() -> None:
    with pytest.raises(InputError) as info:
        PARSER.parse("\x7fELF\x00\x01\x02", "blob.bin")
    assert info.value.problems[0].location.line == 1


# --- third-party corpus ------------------------------------------------------------------

CORPUS_FILES = sorted(p.name for p in (SHARED / CORPUS).glob("*")) if (SHARED / CORPUS).is_dir() else []


@pytest.mark.parametrize("name", CORPUS_FILES or ["<corpus absent>"])
def test_corpus_file_parses_or_names_the_line(name: str) -> None:
    path = shared_path(CORPUS, name)
    text = read_config_text(path)
    try:
        rs = PARSER.parse(text, str(path))
    except InputError as exc:
        assert all(p.location.line >= 1 for p in exc.problems)
        return
    assert PARSER.detect(text) >= 0.3 or not rs.filters
    for _, rule in rs.all_rules():
        assert rule.span.line >= 1 and rule.span.text
        if rule.widened and rule.action.permits:
            assert rule.uncertain


def test_corpus_security_levels_match_batfish_reading() -> None:
    rs = PARSER.parse(read_config_text(shared_path(CORPUS, "batfish__asa-security-level-permit-tracing.cfg")),
                      "x")
    # inLowFiltered(10) has an in-ACL: low -> high goes through it, then out's out-ACL
    assert rs.paths[("inLowFiltered", "out")] == ("FILTER_IN", "FILTER_OUT")
    assert rs.paths[("inHigh", "out")] == ("implicit:security-level inHigh(100)->out(50)", "FILTER_OUT")
    assert rs.paths[("inSameLevel", "out")] == ("implicit:same-security inSameLevel(50)->out(50)",
                                               "FILTER_OUT")
    assert rs.paths[("out", "out")] == ("implicit:same-security intra-interface out(50)", "FILTER_OUT")


# --- concrete checks through the engine ------------------------------------------------


def test_evaluate_concrete_flows_on_paths() -> None:
    from plantgate.netspace.evaluate import evaluate
    from plantgate.netspace.flow import Flow

    rs = parse_file("plant_edge.cfg")
    ip = ipaddress.ip_address
    web = Flow(ip("203.0.113.9"), ip("10.30.0.20"), TCP, 40000, 443)
    assert evaluate(rs, web, "outside", "dmz").permitted
    assert not evaluate(rs, Flow(ip("203.0.113.9"), ip("10.30.0.20"), TCP, 40000, 80), "outside", "dmz").permitted
    historian = Flow(ip("10.30.0.20"), ip("10.10.1.5"), TCP, 40000, 1433)
    assert not evaluate(rs, historian, "dmz", "ot").permitted  # equal levels, no same-security-traffic
    assert evaluate(rs, historian, "dmz", "inside").permitted  # dmz_in#1 decides
    ssh = Flow(ip("10.20.0.10"), ip("10.10.8.7"), TCP, 40000, 22)
    verdict = evaluate(rs, ssh, "inside", "ot")
    assert verdict.permitted and verdict.rule is not None and verdict.rule.rule_id == "ot_out#1"
    telnet = Flow(ip("10.20.0.10"), ip("10.10.8.7"), TCP, 40000, 23)
    assert not evaluate(rs, telnet, "inside", "ot").permitted
    assert not evaluate(rs, Flow(ip("10.10.8.7"), ip("10.20.0.10"), TCP, 40000, 22), "ot", "inside").permitted
