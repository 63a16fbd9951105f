"""The NAT relation by hand: pools, prefix maps, preimages, widening, and which addresses the policy sees."""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.nat import AddressMapping, NatRule, NatStage, PortMapping, Translation
from plantgate.firewalls.ruleset import ANY_IPV4, TCP, Filter, Ruleset, Service, SourceSpan
from plantgate.netspace import Flow, PacketSpace
from plantgate.netspace.translate import image, preimage, translated_permitted, union_of
from tests.netspace.builders import addrs, rule

SPACE = PacketSpace()


def nat(rule_id: str, stage: NatStage = NatStage.BEFORE_FILTER, **fields: object) -> NatRule:
    return NatRule(rule_id, 1, SourceSpan("nat.conf", 1, 1, rule_id), stage, "test", **fields)  # type: ignore[arg-type]


def flow(src: str, dst: str, dport: int = 80) -> Flow:
    return Flow(ipaddress.ip_address(src), ipaddress.ip_address(dst), TCP, 40000, dport)


def test_pool_image_and_preimage() -> None:
    """DNAT of 203.0.113.10 to the pool 10.0.0.4/31: one packet becomes two; from 10.0.0.5 the preimage is
    every packet to 203.0.113.10 (the pool address could be either) plus 10.0.0.5 itself, untranslated."""
    dnat = nat("d", destinations=addrs("203.0.113.10/32"),
               destination=Translation(AddressMapping(pool=addrs("10.0.0.4/31"))))
    (step,) = image(SPACE, [dnat], SPACE.flow(flow("192.0.2.1", "203.0.113.10")))
    assert step.rule is dnat and step.after.count() == 2
    assert flow("192.0.2.1", "10.0.0.5") in step.after
    back = preimage(SPACE, [dnat], SPACE.flow(flow("192.0.2.1", "10.0.0.5")))
    assert [s.rule for s in back] == [dnat, None]
    assert back[0].before == SPACE.flow(flow("192.0.2.1", "203.0.113.10"))
    assert back[1].before == SPACE.flow(flow("192.0.2.1", "10.0.0.5"))


def test_prefix_map_keeps_host_bits() -> None:
    """10.1.0.0/16 -> 10.99.0.0/16 as a prefix map: 10.1.2.3 becomes exactly 10.99.2.3."""
    netmap = nat("n", NatStage.AFTER_FILTER, sources=addrs("10.1.0.0/16"),
                 source=Translation(AddressMapping(prefix=ipaddress.ip_network("10.99.0.0/16"))))
    (step,) = image(SPACE, [netmap], SPACE.flow(flow("10.1.2.3", "8.8.8.8")))
    assert step.after == SPACE.flow(flow("10.99.2.3", "8.8.8.8"))


def test_uncertain_rule_keeps_both_outcomes_and_nat64_widens() -> None:
    """An uncertain rule: the packet may be translated or not (two steps). An IPv4 pool applied to an IPv6
    packet (NAT64) is not modelled: the packet may become any address of either version, its ports kept."""
    maybe = nat("m", uncertain=True, destination=Translation(AddressMapping(pool=addrs("10.0.0.9/32"))))
    steps = image(SPACE, [maybe], SPACE.flow(flow("192.0.2.1", "198.51.100.1")))
    assert [s.rule for s in steps] == [maybe, None]
    v6 = Flow(ipaddress.ip_address("2001:db8::1"), ipaddress.ip_address("2001:db8::2"), TCP, 40000, 80)
    sixfour = nat("64", destination=Translation(AddressMapping(pool=ANY_IPV4), PortMapping((80, 80))))
    after = union_of(SPACE, image(SPACE, [sixfour], SPACE.flow(v6)), "after")
    assert flow("1.2.3.4", "5.6.7.8") in after and v6 in after
    assert Flow(v6.src, v6.dst, TCP, 40000, 81) not in after


def _ruleset(policy_sees: str) -> Ruleset:
    """Port forward 203.0.113.10:8502 -> 10.20.0.5:502; the filter permits tcp/502 to 10.20.0.5 only."""
    flt = Filter("f", [rule("p", dst=addrs("10.20.0.5/32"), services=(Service(TCP, dst_ports=((502, 502),)),))])
    forward = nat("fwd", destinations=addrs("203.0.113.10/32"), services=(Service(TCP, dst_ports=((8502, 8502),)),),
                  destination=Translation(AddressMapping(pool=addrs("10.20.0.5/32")), PortMapping((502, 502))))
    return Ruleset("r", "test", "r.conf", zones=["out", "in"], filters={"f": flt}, paths={("out", "in"): ("f",)},
                   nat_rules=[forward], policy_sees=policy_sees)  # type: ignore[arg-type]


def test_policy_sees_translated_or_original() -> None:
    """Translated (most vendors): the filter sees 10.20.0.5:502, so the forward is permitted. Original
    (PAN-OS): the filter sees 203.0.113.10:8502, which it does not permit, so the forward is not; only
    direct packets to 10.20.0.5:502 pass, and not through the forward rule."""
    arriving = flow("192.0.2.1", "203.0.113.10", 8502)
    translated = translated_permitted(SPACE, _ruleset("translated"), "out", "in")
    assert any(arriving in e.before and [r.rule_id for r in e.rules] == ["fwd"] for e in translated)
    original = translated_permitted(SPACE, _ruleset("original"), "out", "in")
    assert not any(arriving in e.before for e in original)
    assert all(not e.rules for e in original)
