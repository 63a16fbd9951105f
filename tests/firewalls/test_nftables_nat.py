"""nftables nat chains: dnat, port forwards, masquerade/snat, redirect, a map that widens, and verdicts with NAT.

data/nftables/nat_plant.nft is the host of data/iptables/nat_plant.rules in nftables syntax, plus an
``accept`` that exempts 10.20.1.0/24 from the masquerade: eth0 is the WAN side (203.0.113.10), eth1 the
DMZ 192.168.50.0/24, eth2 the OT network 10.20.0.0/16.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from plantgate.firewalls.linux.nftables import PARSER
from plantgate.firewalls.nat import NatStage
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace import Flow, PacketSpace
from plantgate.netspace.evaluate_nat import evaluate_translated
from tests.firewalls.golden import check_golden

DATA = Path(__file__).parent / "data" / "nftables"
SPACE = PacketSpace()


def plant() -> Ruleset:
    path = DATA / "nat_plant.nft"
    return PARSER.parse(path.read_text(), str(path))


def flow(src: str, dst: str, dport: int, proto: int = 6) -> Flow:
    return Flow(ipaddress.ip_address(src), ipaddress.ip_address(dst), proto, 40000, dport)


def test_golden_nat_plant() -> None:
    check_golden(plant(), "nftables", "nat_plant")


def test_nat_chains_become_nat_rules_in_hook_order() -> None:
    """prerouting (with portfwd inlined where it is jumped to) before the filter, postrouting after; nothing is
    left in nat_statements."""
    rs = plant()
    assert rs.nat_statements == []
    assert "nat/portfwd" not in rs.objects  # used by the NAT rules: not an unused object for the lint
    assert [(r.rule_id, r.kind, r.stage, r.span.line) for r in rs.nat_rules] == [
        ("nat/prerouting#1", "dnat", NatStage.BEFORE_FILTER, 12),
        ("nat/portfwd#2", "dnat", NatStage.BEFORE_FILTER, 6),
        ("nat/portfwd#3", "dnat", NatStage.BEFORE_FILTER, 7),
        ("nat/prerouting#3", "redirect", NatStage.BEFORE_FILTER, 14),
        ("nat/postrouting#1", "no-nat", NatStage.AFTER_FILTER, 19),
        ("nat/postrouting#2", "masquerade", NatStage.AFTER_FILTER, 20),
        ("nat/postrouting#3", "snat", NatStage.AFTER_FILTER, 21),
    ]


def test_static_dnat_and_port_forward() -> None:
    """203.0.113.10:443 -> 192.168.50.20:443 (line 12), permitted by forward#1: PERMIT.
    203.0.113.10:8502 -> 10.20.0.5:502 (portfwd line 6), permitted by forward#2: PERMIT.
    From 198.51.100.9 the return skips portfwd: untranslated, no forward rule: DENY."""
    rs = plant()
    web = evaluate_translated(SPACE, rs, flow("192.0.2.7", "203.0.113.10", 443), "eth0", "eth1")
    assert web.verdict.permitted and web.verdict.rule is not None and web.verdict.rule.rule_id == "filter/forward#1"
    assert web.rewrites[0][1].after == flow("192.0.2.7", "192.168.50.20", 443)
    modbus = evaluate_translated(SPACE, rs, flow("192.0.2.7", "203.0.113.10", 8502), "eth0", "eth2")
    assert modbus.verdict.permitted and modbus.verdict.rule is not None
    assert modbus.verdict.rule.rule_id == "filter/forward#2"
    assert modbus.rewrites[0][1].after == flow("192.0.2.7", "10.20.0.5", 502)
    partner = evaluate_translated(SPACE, rs, flow("198.51.100.9", "203.0.113.10", 8502), "eth0", "eth2")
    assert not partner.verdict.permitted


def test_masquerade_snat_and_the_exempt_subnet() -> None:
    """10.20.0.7 -> 93.184.216.34:443 to eth0: forward#4 permits, masquerade (line 20) hides the source
    (any address: not exact). 10.20.1.7 is exempted by the accept on line 19: unchanged. 10.20.0.7 to the
    DMZ: snat to 192.168.50.1 (line 21), exact."""
    rs = plant()
    hidden = evaluate_translated(SPACE, rs, flow("10.20.0.7", "93.184.216.34", 443), "eth2", "eth0")
    rule = hidden.rewrites[1][1].rule
    assert hidden.verdict.permitted and rule is not None and rule.span.line == 20
    assert not hidden.rewrites[1][1].exact
    exempt = evaluate_translated(SPACE, rs, flow("10.20.1.7", "93.184.216.34", 443), "eth2", "eth0")
    kept = exempt.rewrites[1][1]
    assert kept.rule is not None and kept.rule.is_identity and kept.after == kept.before
    to_dmz = evaluate_translated(SPACE, rs, flow("10.20.0.7", "192.168.50.20", 80), "eth2", "eth1")
    assert to_dmz.rewrites[1][1].after == flow("192.168.50.1", "192.168.50.20", 80)


def test_redirect_to_the_local_proxy() -> None:
    """tcp/80 arriving on eth1 is redirected to the host's port 3128 (line 14): towards self the input chain
    permits it (input#1): PERMIT."""
    result = evaluate_translated(SPACE, plant(), flow("192.168.50.30", "8.8.8.8", 80), "eth1", "self")
    assert result.verdict.permitted and result.verdict.rule is not None
    assert result.verdict.rule.rule_id == "filter/input#1"
    assert result.rewrites[0][1].after.dport == 3128


def test_dnat_map_widens_to_any_destination() -> None:
    """``dnat to ip daddr map { ... }`` (line 7) is not modelled: any address and port, with a widened warning;
    forward#3 (udp to 10.20.0.9:4000) may then permit the packet: PERMIT (widened)."""
    rs = plant()
    assert any(w.line == 7 and w.widened and "map" in w.message for w in rs.warnings)
    result = evaluate_translated(SPACE, rs, flow("192.0.2.7", "203.0.113.10", 4000, proto=17), "eth0", "eth2")
    assert result.verdict.permitted and result.verdict.rule is not None
    assert result.verdict.rule.rule_id == "filter/forward#3"
    assert not result.rewrites[0][1].exact


@pytest.mark.parametrize(("statement", "pool", "ports", "prefix"), [
    ("dnat to 10.0.0.1", "10.0.0.1/32", None, None),
    ("dnat 10.0.0.1", "10.0.0.1/32", None, None),
    ("dnat ip to 10.0.0.1:8080", "10.0.0.1/32", (8080, 8080), None),
    ("snat ip to 10.0.0.2/31", "10.0.0.2/31", None, None),
    ("snat to 10.0.0.4-10.0.0.7:1000-2000 random,persistent", "10.0.0.4/30", (1000, 2000), None),
    ("snat ip prefix to 10.99.0.0/24", None, None, "10.99.0.0/24"),
])
def test_nat_statement_forms(statement: str, pool: str | None, ports: tuple[int, int] | None,
                             prefix: str | None) -> None:
    """The forms of the nftables wiki's NAT page: each gives exactly the pool, port range or prefix written."""
    hook = "postrouting" if statement.startswith("snat") else "prerouting"
    rs = PARSER.parse(f"table ip nat {{\n chain c {{\n  type nat hook {hook} priority 0; policy accept;\n"
                      f"  tcp dport 1-65535 {statement}\n }}\n}}\n", "t.nft")
    (rule,) = rs.nat_rules
    translation = rule.destination if statement.startswith("dnat") else rule.source
    assert translation.addresses is not None and not rule.widened
    if pool is not None:
        assert translation.addresses.pool is not None
        assert [str(n) for n in translation.addresses.pool.include] == [pool]
    else:
        assert str(translation.addresses.prefix) == prefix
    assert (translation.ports.to if translation.ports else None) == ports


def test_identity_in_an_earlier_nat_chain_does_not_stop_a_later_one() -> None:
    """Two postrouting nat chains: an accept in the first (priority 50) ends only that chain, so the masquerade
    of the second (priority 100) still applies to 10.0.0.0/8: the accept is not a NAT exemption."""
    rs = PARSER.parse("table ip nat {\n chain a {\n  type nat hook postrouting priority 50; policy accept;\n"
                      "  ip saddr 10.0.0.0/8 accept\n }\n chain b {\n"
                      "  type nat hook postrouting priority 100; policy accept;\n  masquerade\n }\n}\n", "t.nft")
    assert [r.kind for r in rs.nat_rules] == ["masquerade"]
