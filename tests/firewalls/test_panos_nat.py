"""PAN-OS NAT rulebase: one first-match table on the original packet, policy sees pre-NAT addresses.

The configs (data/panos/nat.set and nat.xml) were written from the PAN-OS NAT policy
documentation; each test states the parsed translation worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, PortMapping
from plantgate.firewalls.panos.parser import PARSER, PanosParser
from plantgate.firewalls.ruleset import ALL_PORTS, TCP, AddressSet, Ruleset
from tests.conftest import shared_path

DATA = Path(__file__).parent / "data" / "panos"


def _parse(name: str) -> Ruleset:
    path = DATA / name
    return PARSER.parse(path.read_text(), str(path))


def _nat(ruleset: Ruleset, rule_id: str) -> NatRule:
    return next(r for r in ruleset.nat_rules if r.rule_id == rule_id)


def _nets(addresses: AddressSet | None) -> list[str]:
    assert addresses is not None
    return [str(n) for n in addresses.include]


def test_one_table_before_the_policy_which_sees_original_addresses() -> None:
    """Seven rules (the bi-directional one implies an eighth) in rulebase order, all BEFORE_FILTER.

    The nptv6 rule is not modelled (nat_statements); the security rule vendor-modbus keeps the
    pre-NAT destination 203.0.113.10, and policy_sees = "original" tells the engine so.
    """
    rs = _parse("nat.set")
    assert [(r.rule_id, r.position) for r in rs.nat_rules] == [
        ("dmz-web-static", 1), ("dmz-web-static (bi-directional)", 2), ("modbus-forward", 3), ("eng-no-nat", 4),
        ("ot-hide", 5), ("hmi-static", 6), ("vendor-dyn", 7),
    ]
    assert {r.stage for r in rs.nat_rules} == {NatStage.BEFORE_FILTER}
    assert rs.policy_sees == "original"
    policy = rs.filters["security-rules/interzone"].rules[0]
    assert _nets(policy.destinations) == ["203.0.113.10/32"]


def test_dmz_server_by_static_nat() -> None:
    """dmz-web-static: dmz -> untrust from 10.40.1.20 leaves as 203.0.113.20 (static-ip).

    bi-directional yes implies the reverse: traffic to 203.0.113.20 going into dmz has its
    destination rewritten to 10.40.1.20 (uncertain: PAN-OS places that implied rule itself).
    """
    rs = _parse("nat.set")
    out = _nat(rs, "dmz-web-static")
    assert (out.kind, out.from_zones, out.to_zones) == ("static-ip", ("dmz",), ("untrust",))
    assert _nets(out.sources) == ["10.40.1.20/32"] and out.destination.is_identity
    assert out.source.addresses is not None and _nets(out.source.addresses.pool) == ["203.0.113.20/32"]
    assert out.source.ports is None and not out.uncertain
    back = _nat(rs, "dmz-web-static (bi-directional)")
    assert _nets(back.destinations) == ["203.0.113.20/32"] and back.to_zones == ("dmz",)
    assert back.destination.addresses is not None and _nets(back.destination.addresses.pool) == ["10.40.1.20/32"]
    assert back.uncertain and back.source.is_identity


def test_port_forward_to_an_ot_host() -> None:
    """modbus-forward: tcp to 203.0.113.10:8502 from untrust becomes 10.20.0.5:502, set and XML alike.

    The NAT rule's to-zone is untrust: the zone the ORIGINAL destination routes to.
    """
    for name in ("nat.set", "nat.xml"):
        fwd = _nat(_parse(name), "modbus-forward")
        assert (fwd.from_zones, fwd.to_zones) == (("untrust",), ("untrust",))
        assert _nets(fwd.destinations) == ["203.0.113.10/32"]
        assert [(s.protocol, s.dst_ports) for s in fwd.services] == [(TCP, ((8502, 8502),))]
        assert fwd.destination.addresses is not None and _nets(fwd.destination.addresses.pool) == ["10.20.0.5/32"]
        assert fwd.destination.ports == PortMapping((502, 502)) and fwd.source.is_identity


def test_hide_nat_of_an_ot_range() -> None:
    """ot-hide: 10.20.0.0/24 ot -> untrust leaves as ethernet1/1's address 203.0.113.1, any port (PAT).

    eng-no-nat comes first: 10.20.0.16/28 matches it and leaves untranslated (identity rule).
    hmi-static maps 10.20.8.0/29 onto 198.51.100.8/29 one to one (host bits kept). In the XML
    config, ot-pool (dynamic-ip) hides everything else behind 203.0.113.64-71, ports kept.
    """
    rs = _parse("nat.set")
    eng, hide = _nat(rs, "eng-no-nat"), _nat(rs, "ot-hide")
    assert eng.is_identity and _nets(eng.sources) == ["10.20.0.16/28"]
    assert _nets(hide.sources) == ["10.20.0.0/24"]
    assert hide.source.addresses is not None and _nets(hide.source.addresses.pool) == ["203.0.113.1/32"]
    assert hide.source.ports == PortMapping(ALL_PORTS) and not hide.widened
    hmi = _nat(rs, "hmi-static")
    assert hmi.source.addresses is not None and str(hmi.source.addresses.prefix) == "198.51.100.8/29"
    xml = _parse("nat.xml")
    assert _nets(_nat(xml, "ot-hide").source.addresses.pool) == ["203.0.113.1/32"]  # type: ignore[union-attr]
    pool = _nat(xml, "ot-pool").source
    assert pool.addresses is not None and _nets(pool.addresses.pool) == ["203.0.113.64/29"] and pool.ports is None


def test_unknown_constructs_widen() -> None:
    """vendor-dyn: to-interface is not modelled (uncertain: it may not apply) and its FQDN target
    translates to ANY address (widened); v6-prefix (nptv6) is an unmodelled statement with a warning.
    """
    rs = _parse("nat.set")
    dyn = _nat(rs, "vendor-dyn")
    assert dyn.uncertain and dyn.destination.addresses == AddressMapping(pool=dyn.destination.addresses.pool)
    assert dyn.destination.addresses is not None and dyn.destination.addresses.pool is not None
    assert dyn.destination.addresses.pool.is_any
    assert any("FQDN" in w and "any address" in w for w in dyn.widened)
    (statement,) = rs.nat_statements
    assert "v6-prefix" in statement.text
    assert any(w.line == statement.line and w.widened and "nptv6" in w.message for w in rs.warnings)


def test_no_nat_rules_keep_the_default_view() -> None:
    """Without NAT rules the policy sees what it always did: the translated view is the only one."""
    rs = PARSER.parse("set rulebase security rules R from any\nset rulebase security rules R to any\n", "t.set")
    assert rs.nat_rules == [] and rs.policy_sees == "translated"


CORPUS_FILES = sorted(
    p.name for p in (Path(__file__).resolve().parents[2].parent / "shared/firewall-configs/paloalto-panos").glob("*")
) or ["(corpus absent)"]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_real_configs_place_each_nat_rule_once(name: str) -> None:
    """Every NAT rulebase entry of the third-party corpus is a NatRule or a statement, never both."""
    path = shared_path("firewall-configs", "paloalto-panos", name)
    text = path.read_text()
    try:
        rs = PARSER.parse(text, str(path))
    except InputError as err:
        if "several vsys/device groups" not in str(err):
            assert all(p.location.line > 0 for p in err.problems)
            return
        first = err.problems[0].message.split(": ", 1)[1].split(", ")[0].split(" ", 1)
        rs = PanosParser(**{first[0].replace("-", "_"): first[1]}).parse(text, str(path))
    rule_lines = {r.span.line for r in rs.nat_rules}
    assert not rule_lines & {s.line for s in rs.nat_statements}
    assert [r.position for r in rs.nat_rules] == list(range(1, len(rs.nat_rules) + 1))
    if rs.nat_rules:
        assert rs.policy_sees == "original"
