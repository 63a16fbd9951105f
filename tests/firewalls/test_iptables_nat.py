"""iptables nat table: DNAT, port forwards, MASQUERADE/SNAT, REDIRECT, widening, and the verdicts with NAT.

The plant config (data/iptables/nat_plant.rules): eth0 is the WAN side with public address
203.0.113.10, eth1 the DMZ 192.168.50.0/24, eth2 the OT network 10.20.0.0/16.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.linux.iptables import PARSER
from plantgate.firewalls.nat import NatStage
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace import Flow, PacketSpace
from plantgate.netspace.evaluate_nat import evaluate_translated
from plantgate.netspace.translate import translated_permitted
from tests.firewalls.golden import check_golden

DATA = Path(__file__).parent / "data" / "iptables"
SPACE = PacketSpace()


def plant() -> Ruleset:
    path = DATA / "nat_plant.rules"
    return PARSER.parse(path.read_text(), str(path))


def flow(src: str, dst: str, dport: int, proto: int = 6, sport: int = 40000) -> Flow:
    return Flow(ipaddress.ip_address(src), ipaddress.ip_address(dst), proto, sport, dport)


def test_golden_nat_plant() -> None:
    check_golden(plant(), "iptables", "nat_plant")


def test_every_nat_line_is_a_nat_rule_and_none_is_left_as_a_statement() -> None:
    """All six NAT rules are modelled (the RETURN becomes an exclusion of 198.51.100.0/24): nat_statements is empty."""
    rs = plant()
    assert rs.nat_statements == []
    assert [(r.rule_id, r.kind, r.stage) for r in rs.nat_rules] == [
        ("nat/PREROUTING#1", "dnat", NatStage.BEFORE_FILTER),
        ("nat/PORTFWD#2", "dnat", NatStage.BEFORE_FILTER),
        ("nat/PORTFWD#3", "dnat", NatStage.BEFORE_FILTER),
        ("nat/PREROUTING#3", "redirect", NatStage.BEFORE_FILTER),
        ("nat/POSTROUTING#1", "masquerade", NatStage.AFTER_FILTER),
        ("nat/POSTROUTING#2", "snat", NatStage.AFTER_FILTER),
    ]
    assert rs.nat_rules[1].sources.exclude == (ipaddress.ip_network("198.51.100.0/24"),)


def test_static_dnat_publishes_the_dmz_server() -> None:
    """192.0.2.7 -> 203.0.113.10:443 from eth0 to eth1: PREROUTING#1 rewrites the destination to
    192.168.50.20:443, FORWARD#1 permits it; POSTROUTING leaves it alone (source not in 10.20/16). PERMIT."""
    result = evaluate_translated(SPACE, plant(), flow("192.0.2.7", "203.0.113.10", 443), "eth0", "eth1")
    assert result.verdict.permitted and result.verdict.rule is not None
    assert result.verdict.rule.rule_id == "FORWARD#1"
    (stage, first), (_, second) = result.rewrites
    assert stage is NatStage.BEFORE_FILTER and first.rule is not None and first.rule.span.line == 9
    assert first.after == flow("192.0.2.7", "192.168.50.20", 443) and first.exact
    assert second.rule is None and second.after == first.after


def test_port_forward_to_the_ot_host_and_the_partner_exception() -> None:
    """203.0.113.10:8502 -> 10.20.0.5:502 (PORTFWD#2), permitted by FORWARD#2: PERMIT.
    From the partner 198.51.100.9 the RETURN skips the forward: 203.0.113.10:8502 untranslated meets no
    FORWARD rule for eth0 -> eth2: DENY by the policy."""
    rs = plant()
    result = evaluate_translated(SPACE, rs, flow("192.0.2.7", "203.0.113.10", 8502), "eth0", "eth2")
    assert result.verdict.permitted and result.verdict.rule is not None
    assert result.verdict.rule.rule_id == "FORWARD#2"
    assert result.rewrites[0][1].after == flow("192.0.2.7", "10.20.0.5", 502)
    partner = evaluate_translated(SPACE, rs, flow("198.51.100.9", "203.0.113.10", 8502), "eth0", "eth2")
    assert not partner.verdict.permitted and partner.verdict.rule is None
    assert partner.rewrites[0][1].rule is None


def test_hide_nat_of_the_ot_range() -> None:
    """10.20.0.7 -> 192.168.50.20:80 from eth2 to eth1: FORWARD#5 permits, POSTROUTING#2 SNATs the source
    to 192.168.50.1 exactly. To eth0 (tcp/443, FORWARD#4) MASQUERADE hides it behind an address the config
    does not hold: the example is not exact and says why."""
    rs = plant()
    to_dmz = evaluate_translated(SPACE, rs, flow("10.20.0.7", "192.168.50.20", 80), "eth2", "eth1")
    assert to_dmz.verdict.permitted
    stage, snat = to_dmz.rewrites[1]
    assert stage is NatStage.AFTER_FILTER and snat.exact
    assert snat.after == flow("192.168.50.1", "192.168.50.20", 80)
    to_wan = evaluate_translated(SPACE, rs, flow("10.20.0.7", "93.184.216.34", 443), "eth2", "eth0")
    masquerade = to_wan.rewrites[1][1]
    assert to_wan.verdict.permitted and masquerade.rule is not None and masquerade.rule.kind == "masquerade"
    assert not masquerade.exact and any("MASQUERADE" in note for note in masquerade.notes)


def test_redirect_goes_to_the_host_itself() -> None:
    """192.168.50.30 -> 8.8.8.8:80 arriving on eth1 is redirected to the host's port 3128 (PREROUTING#3):
    towards self, INPUT#1 permits tcp/3128: PERMIT. Towards eth0 the redirect does not apply (the flow
    goes to self, not eth0) and nothing in FORWARD permits eth1 -> eth0: DENY."""
    rs = plant()
    to_self = evaluate_translated(SPACE, rs, flow("192.168.50.30", "8.8.8.8", 80), "eth1", "self")
    assert to_self.verdict.permitted and to_self.verdict.rule is not None
    assert to_self.verdict.rule.rule_id == "INPUT#1"
    assert to_self.rewrites[0][1].after.dport == 3128
    onward = evaluate_translated(SPACE, rs, flow("192.168.50.30", "8.8.8.8", 80), "eth1", "eth0")
    assert not onward.verdict.permitted


def test_unknown_target_option_widens_to_any_destination() -> None:
    """PORTFWD#3 has an option iptables-extensions does not list (--frobnicate): the destination may become
    any address and port, so FORWARD#3 (udp to 10.20.0.9:4000) may permit it: PERMIT (widened), with a
    widened warning on line 14."""
    rs = plant()
    assert any(w.line == 14 and w.widened and "--frobnicate" in w.message for w in rs.warnings)
    result = evaluate_translated(SPACE, rs, flow("192.0.2.7", "203.0.113.10", 4000, proto=17), "eth0", "eth2")
    assert result.verdict.permitted and result.verdict.rule is not None
    assert result.verdict.rule.rule_id == "FORWARD#3"
    widened = result.rewrites[0][1]
    assert not widened.exact and widened.after == flow("192.0.2.7", "10.20.0.9", 4000, proto=17)


def test_translated_permitted_sets_of_the_port_forward() -> None:
    """eth0 -> eth2: only the port forward gets through: before = tcp to 203.0.113.10:8502 from anywhere but
    198.51.100.0/24, after = the same to 10.20.0.5:502 (untranslated packets to 10.20.0.5:502 are permitted
    too), and the widened udp forward to 10.20.0.9:4000."""
    rs = plant()
    found = translated_permitted(SPACE, rs, "eth0", "eth2")
    by_rule = {tuple(r.rule_id for r in item.rules): item for item in found}
    forward = by_rule[("nat/PORTFWD#2",)]
    assert flow("192.0.2.7", "203.0.113.10", 8502) in forward.before
    assert flow("198.51.100.9", "203.0.113.10", 8502) not in forward.before
    assert flow("192.0.2.7", "203.0.113.10", 8503) not in forward.before
    assert flow("192.0.2.7", "10.20.0.5", 502) in forward.after
    assert forward.after.count() == forward.before.count()
    untranslated = by_rule[()]
    assert flow("192.0.2.7", "10.20.0.5", 502) in untranslated.before
    assert flow("192.0.2.7", "203.0.113.10", 8502) not in untranslated.before


@pytest.mark.parametrize(("line", "expected"), [
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1:80", "10.0.0.1"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1-10.0.0.3:8000-8010", "10.0.0.1-10.0.0.3"),
    ("-A PREROUTING -p tcp -j DNAT --to-destination :8080 --random", "kept"),
])
def test_dnat_address_and_port_forms(line: str, expected: str) -> None:
    """The --to-destination forms of iptables-extensions: one address, a range with a port range, a port alone."""
    rs = PARSER.parse(f"*nat\n:PREROUTING ACCEPT [0:0]\n{line}\nCOMMIT\n", "t.rules")
    (rule,) = rs.nat_rules
    addresses = rule.destination.addresses
    if expected == "kept":
        assert addresses is None and rule.destination.ports is not None and rule.destination.ports.to == (8080, 8080)
    else:
        first, _, last = expected.partition("-")
        assert addresses is not None and addresses.pool is not None
        covered = [a for net in addresses.pool.include for a in net]
        assert covered[0] == ipaddress.ip_address(first) and covered[-1] == ipaddress.ip_address(last or first)
    assert not rule.widened


def test_netmap_keeps_host_bits_and_accept_stops_nat() -> None:
    """NETMAP --to 10.99.0.0/24 in POSTROUTING maps the source prefix; the ACCEPT before it exempts
    10.20.1.0/24 (identity rule, no translation)."""
    rs = PARSER.parse("*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 10.20.1.0/24 -j ACCEPT\n"
                      "-A POSTROUTING -s 10.20.0.0/16 -j NETMAP --to 10.99.0.0/24\nCOMMIT\n", "t.rules")
    exempt, netmap = rs.nat_rules
    assert exempt.is_identity and exempt.kind == "no-nat"
    assert netmap.source.addresses is not None and str(netmap.source.addresses.prefix) == "10.99.0.0/24"


def test_jump_to_an_undefined_nat_chain_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        PARSER.parse("*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOPE\nCOMMIT\n", "t.rules")
    assert "NOPE" in str(info.value)
