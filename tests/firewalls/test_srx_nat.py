"""Junos SRX NAT: static and destination NAT before the policy, source NAT after it.

data/srx/nat.conf was written from the Junos ``security nat`` statement reference; each
test states the parsed translation worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plantgate.errors import InputError
from plantgate.firewalls.nat import NatRule, NatStage, PortMapping
from plantgate.firewalls.ruleset import ALL_PORTS, SCTP, TCP, UDP, AddressSet, Ruleset
from plantgate.firewalls.srx.parser import PARSER
from tests.conftest import shared_path

DATA = Path(__file__).parent / "data" / "srx"


def _parse(name: str = "nat.conf") -> Ruleset:
    path = DATA / name
    return PARSER.parse(path.read_text(), str(path))


def _nat(ruleset: Ruleset, rule_id: str) -> NatRule:
    return next(r for r in ruleset.nat_rules if r.rule_id == rule_id)


def _nets(addresses: AddressSet | None) -> list[str]:
    assert addresses is not None
    return [str(n) for n in addresses.include]


def test_order_static_then_destination_then_policy_then_source() -> None:
    """BEFORE_FILTER: static rules (precedence) then destination rules; AFTER_FILTER: the reverse halves
    of static NAT, then source rule-sets by context: the interface rule-set dmz-port before the zone
    rule-sets ot-out and dmz-out (config order among equals)."""
    rs = _parse()
    before = [r.rule_id for r in rs.nat_rules if r.stage is NatStage.BEFORE_FILTER]
    after = [r.rule_id for r in rs.nat_rules if r.stage is NatStage.AFTER_FILTER]
    assert before == ["static publish/dmz-web", "static publish/hmi", "destination from-untrust/modbus",
                      "destination from-untrust/lost"]
    assert after == ["static publish/dmz-web (reverse)", "static publish/hmi (reverse)", "source dmz-port/vendor",
                     "source ot-out/eng-no-nat", "source ot-out/ot-hide", "source dmz-out/dmz-hide"]
    assert [r.position for r in rs.nat_rules] == [1, 2, 3, 4, 1, 2, 3, 4, 5, 6]
    assert not rs.nat_statements and rs.policy_sees == "translated"


def test_dmz_server_by_static_nat() -> None:
    """static-nat: untrust traffic to 203.0.113.20 goes to 10.40.1.20 before the policy; 10.40.1.20
    leaving toward untrust gets the source 203.0.113.20 (the bidirectional half, uncertain because
    Junos applies it toward other contexts too). 198.51.100.8/29 <-> 10.20.8.0/29 keeps host bits."""
    rs = _parse()
    web = _nat(rs, "static publish/dmz-web")
    assert web.from_zones == ("untrust",) and _nets(web.destinations) == ["203.0.113.20/32"]
    assert web.destination.addresses is not None and _nets(web.destination.addresses.pool) == ["10.40.1.20/32"]
    assert not web.uncertain and web.source.is_identity
    back = _nat(rs, "static publish/dmz-web (reverse)")
    assert _nets(back.sources) == ["10.40.1.20/32"] and back.to_zones == ("untrust",) and back.uncertain
    assert back.source.addresses is not None and _nets(back.source.addresses.pool) == ["203.0.113.20/32"]
    hmi = _nat(rs, "static publish/hmi")
    assert hmi.destination.addresses is not None and str(hmi.destination.addresses.prefix) == "10.20.8.0/29"


def test_port_forward_to_an_ot_host() -> None:
    """destination-nat pool plc-modbus (10.20.0.5 port 502): 203.0.113.10:8502 from untrust becomes
    10.20.0.5:502 before the policy. destination-port without protocol matches TCP, UDP and SCTP."""
    fwd = _nat(_parse(), "destination from-untrust/modbus")
    assert _nets(fwd.destinations) == ["203.0.113.10/32"] and fwd.from_zones == ("untrust",)
    assert [(s.protocol, s.dst_ports) for s in fwd.services] == [
        (TCP, ((8502, 8502),)), (UDP, ((8502, 8502),)), (SCTP, ((8502, 8502),))]
    assert fwd.destination.addresses is not None and _nets(fwd.destination.addresses.pool) == ["10.20.0.5/32"]
    assert fwd.destination.ports == PortMapping((502, 502)) and not fwd.uncertain


def test_hide_nat_of_an_ot_range() -> None:
    """ot-out: 10.20.0.16/28 is exempt (source-nat off = identity); the rest of 10.20.0.0/24 leaves
    untrust as 203.0.113.100-101 with any port (PAT). dmz-out hides 10.40.1.0/24 behind untrust's
    interface address 203.0.113.1, uncertain because the more specific dmz-port rule-set overlaps it.
    The vendor-pool keeps ports (port no-translation)."""
    rs = _parse()
    eng, hide = _nat(rs, "source ot-out/eng-no-nat"), _nat(rs, "source ot-out/ot-hide")
    assert eng.is_identity and _nets(eng.sources) == ["10.20.0.16/28"] and not eng.uncertain
    assert (hide.from_zones, hide.to_zones) == (("ot",), ("untrust",))
    assert hide.source.addresses is not None and _nets(hide.source.addresses.pool) == ["203.0.113.100/31"]
    assert hide.source.ports == PortMapping(ALL_PORTS) and not hide.uncertain
    dmz = _nat(rs, "source dmz-out/dmz-hide")
    assert dmz.source.addresses is not None and _nets(dmz.source.addresses.pool) == ["203.0.113.1/32"]
    assert dmz.uncertain
    vendor = _nat(rs, "source dmz-port/vendor")
    assert vendor.from_zones == ("dmz",) and vendor.uncertain and vendor.source.ports is None


def test_unknown_constructs_widen() -> None:
    """Rule lost: match application is not resolved (uncertain, any service) and its pool does not
    exist: the destination becomes ANY address, with widened warnings on the rule's line."""
    rs = _parse()
    lost = _nat(rs, "destination from-untrust/lost")
    assert lost.uncertain and lost.services[0].protocol is None
    assert lost.destination.addresses is not None and lost.destination.addresses.pool is not None
    assert lost.destination.addresses.pool.is_any
    assert sum(1 for w in rs.warnings if w.line == lost.span.line and w.widened) == 2


def test_display_set_form() -> None:
    """The same destination NAT in display-set form parses to the same rule."""
    text = "\n".join([
        "set security zones security-zone untrust interfaces ge-0/0/0.0",
        "set security nat destination pool plc-modbus address 10.20.0.5/32 port 502",
        "set security nat destination rule-set from-untrust from zone untrust",
        "set security nat destination rule-set from-untrust rule modbus match destination-address 203.0.113.10/32",
        "set security nat destination rule-set from-untrust rule modbus match destination-port 8502",
        "set security nat destination rule-set from-untrust rule modbus then destination-nat pool plc-modbus",
    ]) + "\n"
    (flat,) = PARSER.parse(text, "nat.set").nat_rules
    hier = _nat(_parse(), "destination from-untrust/modbus")
    assert (flat.rule_id, flat.destinations, flat.services, flat.destination, flat.from_zones) == (
        hier.rule_id, hier.destinations, hier.services, hier.destination, hier.from_zones)


def test_to_interface_context_and_mapped_port() -> None:
    """Source NAT to interface ge-0/0/1.0 hides 10.0.0.0/8 behind that interface's 198.51.100.2 (the
    rule is uncertain: the interface stands for its zone untrust). A static-nat mapped-port is not
    read: the forward rule translates to any port (widened), its reverse half still exists."""
    text = "\n".join([
        "set interfaces ge-0/0/1 unit 0 family inet address 198.51.100.2/30",
        "set security zones security-zone untrust interfaces ge-0/0/1.0",
        "set security zones security-zone ot interfaces ge-0/0/2.0",
        "set security nat source rule-set r from zone ot",
        "set security nat source rule-set r to interface ge-0/0/1.0",
        "set security nat source rule-set r rule a match source-address 10.0.0.0/8",
        "set security nat source rule-set r rule a then source-nat interface",
        "set security nat static rule-set s from zone untrust",
        "set security nat static rule-set s rule b match destination-address 198.51.100.9/32",
        "set security nat static rule-set s rule b then static-nat prefix 10.9.9.9/32 mapped-port 80",
    ]) + "\n"
    rs = PARSER.parse(text, "t.set")
    hide = _nat(rs, "source r/a")
    assert hide.to_zones == ("untrust",) and hide.uncertain
    assert hide.source.addresses is not None and _nets(hide.source.addresses.pool) == ["198.51.100.2/32"]
    static = _nat(rs, "static s/b")
    assert static.destination.ports == PortMapping(ALL_PORTS) and static.widened
    assert _nat(rs, "static s/b (reverse)").sources.include[0].exploded == "10.9.9.9/32"


CORPUS_FILES = sorted(
    p.name for p in (Path(__file__).resolve().parents[2].parent / "shared/firewall-configs/juniper-srx").glob("*")
) or ["(corpus absent)"]


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_real_configs_place_each_nat_rule_once(name: str) -> None:
    """Each corpus file parses (or names the line); every rule-set rule becomes exactly one NatRule."""
    path = shared_path("firewall-configs", "juniper-srx", name)
    text = path.read_text()
    try:
        rs = PARSER.parse(text, str(path))
    except InputError as err:
        assert all(p.location.line > 0 for p in err.problems)
        return
    forward = [r for r in rs.nat_rules if not r.rule_id.endswith("(reverse)")]
    assert len({r.span.line for r in forward}) == len(forward)
    assert not {r.span.line for r in forward} & {s.line for s in rs.nat_statements}
    if "nat" in name:
        assert forward and text.count(" rule ") >= len(forward)
