"""FortiGate NAT: VIPs (static NAT, port forwards), policy NAT with IP pools, central SNAT.

The configs under data/fortigate were written from the FortiOS CLI reference (``config firewall
vip``, ``ippool``, ``central-snat-map``); each test states the translation worked out by hand.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.fortigate.parser import PARSER, parse_vdoms
from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, PortMapping
from plantgate.firewalls.ruleset import ALL_PORTS, TCP, UDP, Rule, Ruleset
from tests.conftest import shared_path

DATA = Path(__file__).parent / "data" / "fortigate"


def _parse(name: str) -> Ruleset:
    path = DATA / name
    return PARSER.parse(path.read_text(), str(path))


def _nat(ruleset: Ruleset, rule_id: str) -> NatRule:
    return next(r for r in ruleset.nat_rules if r.rule_id == rule_id)


def _policy(ruleset: Ruleset, prefix: str) -> Rule:
    return next(r for _, r in ruleset.all_rules() if r.rule_id.startswith(prefix))


def _nets(addresses: object) -> list[str]:
    return [str(n) for n in addresses.include]  # type: ignore[attr-defined]


def test_dmz_server_by_static_nat() -> None:
    """VIP dmz-web: traffic entering wan1 for 203.0.113.20 is sent to 10.40.1.20 before the policy.

    Policy 1 names the VIP (through the vipgrp "published"), so it permits HTTPS to the mapped
    server 10.40.1.20 (and the historian 10.20.0.6), not to 203.0.113.20, and is exact (not
    uncertain): the NAT rule and the policy together say "the DMZ server is published".
    """
    rs = _parse("nat.conf")
    vip = _nat(rs, "vip dmz-web")
    assert (vip.stage, vip.kind, vip.from_zones) == (NatStage.BEFORE_FILTER, "vip", ("wan1",))
    assert _nets(vip.destinations) == ["203.0.113.20/32"]
    assert vip.destination.addresses == AddressMapping(pool=vip.destination.addresses.pool)
    assert _nets(vip.destination.addresses.pool) == ["10.40.1.20/32"]
    assert vip.destination.ports is None and vip.source.is_identity and not vip.uncertain
    policy = _policy(rs, "policy 1 ")
    assert policy.destinations.contains(ipaddress.ip_address("10.40.1.20"))
    assert not policy.destinations.contains(ipaddress.ip_address("203.0.113.20"))
    assert not policy.uncertain


def test_port_forward_to_an_ot_host() -> None:
    """VIP ot-modbus: tcp 203.0.113.10:8502 arriving on wan1 from the vendor's 198.51.100.0/24
    (src-filter) becomes 10.20.0.5:502; from elsewhere it is not translated.

    Policy 2 (service modbus = tcp/502, the mapped port) then permits wan1 -> ot to 10.20.0.5.
    VIP historian maps 8000-8010 one to one onto 9000-9010: a shift of 1000.
    """
    rs = _parse("nat.conf")
    vip = _nat(rs, "vip ot-modbus")
    assert vip.kind == "port-forward"
    assert _nets(vip.destinations) == ["203.0.113.10/32"] and _nets(vip.sources) == ["198.51.100.0/24"]
    assert [(s.protocol, s.dst_ports) for s in vip.services] == [(TCP, ((8502, 8502),))]
    assert _nets(vip.destination.addresses.pool) == ["10.20.0.5/32"]
    assert vip.destination.ports == PortMapping((502, 502))
    policy = _policy(rs, "policy 2 ")
    assert _nets(policy.destinations) == ["10.20.0.5/32"]
    assert [(s.protocol, s.dst_ports) for s in policy.services] == [(TCP, ((502, 502),))]
    historian = _nat(rs, "vip historian")
    assert historian.destination.ports == PortMapping((9000, 9010), shift=1000)
    assert [(s.protocol, s.dst_ports) for s in historian.services] == [(TCP, ((8000, 8010),))]


def test_hide_nat_of_an_ot_range() -> None:
    """Policy 3 hides OT-NET 10.20.0.0/24 behind the pool ot-hide (203.0.113.100, overload: PAT).

    AFTER_FILTER table, in policy order: policies 1 and 2 permit without NAT, so they are
    identity rules ahead of it; policy 4 (IT out, no pool) translates to wan1's own address
    203.0.113.1; policy 5 comes after the last NAT policy and needs no rule.
    """
    rs = _parse("nat.conf")
    after = [r for r in rs.nat_rules if r.stage is NatStage.AFTER_FILTER]
    assert [(r.rule_id, r.position, r.kind) for r in after] == [
        ("policy 1 (publish DMZ) no-nat", 1, "identity"),
        ("policy 2 (vendor modbus) no-nat", 2, "identity"),
        ("policy 3 (OT hidden) nat", 3, "pat"),
        ("policy 4 (IT out) nat", 4, "pat"),
    ]
    hide = after[2]
    assert _nets(hide.sources) == ["10.20.0.0/24"] and (hide.from_zones, hide.to_zones) == (("ot",), ("wan1",))
    assert _nets(hide.source.addresses.pool) == ["203.0.113.100/32"]
    assert hide.source.ports == PortMapping(ALL_PORTS) and hide.destination.is_identity
    assert _nets(after[3].source.addresses.pool) == ["203.0.113.1/32"]
    assert after[0].is_identity and after[1].is_identity


def test_unknown_vip_type_widens() -> None:
    """VIP web-farm is a server-load-balance VIP: its real servers are not read.

    Its NAT rule translates 203.0.113.12 to ANY address (widened, with a warning), and policy 5
    that names it is widened to any destination: never a guessed server.
    """
    rs = _parse("nat.conf")
    farm = _nat(rs, "vip web-farm")
    assert farm.destination.addresses.pool.is_any and farm.widened
    assert any("web-farm" in w.message and w.widened for w in rs.warnings)
    policy = _policy(rs, "policy 5 ")
    assert policy.uncertain and policy.destinations.contains(ipaddress.ip_address("192.0.2.99"))


def test_every_nat_statement_is_in_exactly_one_place() -> None:
    """Five VIPs: four rules, the disabled old-vip an unmodelled (inert) statement; pools are no statements."""
    rs = _parse("nat.conf")
    vip_lines = {r.span.line for r in rs.nat_rules if r.rule_id.startswith("vip ")}
    statement_lines = {s.line for s in rs.nat_statements}
    assert len(vip_lines) == 4 and len(statement_lines) == 1
    assert not vip_lines & statement_lines


def test_central_snat_map() -> None:
    """central-nat enable: policy 1's "nat enable" is ignored; central-snat-map is the SNAT table.

    Hand verdict: 10.20.0.16/28 (OT-ENG) leaves untranslated (rule 1, nat disable = identity);
    the rest of 10.20.0.0/24 is hidden behind 203.0.113.100-101 (rule 2, PAT); IT UDP source
    ports 5000-5009 become 6000-6009 on wan1's address 203.0.113.1 (rule 3). The vip46 is
    not modelled: a widened warning and an entry in nat_statements.
    """
    rs = _parse("central_nat.conf")
    assert [(r.rule_id, r.kind) for r in rs.nat_rules] == [
        ("central-snat-map 1", "identity"), ("central-snat-map 2", "pat"), ("central-snat-map 3", "pat"),
    ]
    identity, hide, it = rs.nat_rules
    assert identity.is_identity and _nets(identity.sources) == ["10.20.0.16/28"]
    assert _nets(hide.source.addresses.pool) == ["203.0.113.100/31"]
    assert (hide.from_zones, hide.to_zones) == (("ot",), ("wan1",))
    assert [(s.protocol, s.src_ports) for s in it.services] == [(UDP, ((5000, 5009),))]
    assert it.source.ports == PortMapping((6000, 6009), shift=1000)
    assert _nets(it.source.addresses.pool) == ["203.0.113.1/32"]
    assert [s.line for s in rs.nat_statements] == [40]
    assert any(w.line == 40 and w.widened and "vip46" in w.message for w in rs.warnings)


CORPUS_FILES = sorted(
    p.name for p in (Path(__file__).resolve().parents[2].parent / "shared/firewall-configs/fortigate").glob("*")
) or ["(corpus absent)"]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_real_configs_place_each_nat_statement_once(name: str) -> None:
    """The third-party corpus parses (or names the line); no VIP is both a rule and a statement."""
    path = shared_path("firewall-configs", "fortigate", name)
    try:
        rulesets = parse_vdoms(path.read_text(), str(path)).values()
    except InputError as err:
        assert all(p.location.line > 0 for p in err.problems)
        return
    for rs in rulesets:
        rule_lines = {r.span.line for r in rs.nat_rules if not r.rule_id.startswith("policy")}
        assert not rule_lines & {s.line for s in rs.nat_statements}
        assert all(r.position == i for i, r in enumerate(
            (r for r in rs.nat_rules if r.stage is NatStage.AFTER_FILTER), 1))
