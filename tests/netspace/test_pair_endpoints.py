"""A zone pair's permitted flows as the ends see them, as one set (``pair_endpoints``, what ``check``
compares with the treaty), against the union of the per-NAT-rule parts (``endpoint_flows``, the
evidence), which the NAT property tests hold to per-packet oracles.

``pair_endpoints`` groups the rules that publish a host by what the permitted set lets reach them
and falls back to each part's own image where a rewrite is not that simple (a prefix map, an IPv6
packet or pool, a port shift, a source rewrite the filters see): drawn tables hit every branch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.firewalls.base import parse_config
from plantgate.firewalls.ruleset import Ruleset
from plantgate.netspace import FlowSet, PacketSpace, translate
from plantgate.netspace.compile import union_all
from plantgate.reconcile.nat_view import endpoint_flows, pair_endpoints, prepare_nat_offers
from tests.netspace import test_translate_original, test_translate_pipeline
from tests.netspace.test_properties import ZONES

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from generate import nat_policy, write_config  # noqa: E402

SPACE = PacketSpace()


def _parts_union(space: PacketSpace, ruleset: Ruleset, from_zone: str, to_zone: str) -> FlowSet:
    return FlowSet(space, union_all(space, [part.endpoints.node
                                            for part in endpoint_flows(space, ruleset, from_zone, to_zone)]))


def _assert_same_on_every_pair(space: PacketSpace, ruleset: Ruleset) -> None:
    for from_zone, to_zone in ruleset.zone_pairs():
        expected = _parts_union(space, ruleset, from_zone, to_zone)
        assert pair_endpoints(space, ruleset, from_zone, to_zone) == expected, (from_zone, to_zone)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(test_translate_pipeline.rulesets(), test_translate_original.rulesets()), st.booleans())
def test_the_pair_set_is_the_union_of_the_parts(ruleset: Ruleset, original: bool) -> None:
    """Both NAT stages, both policy views (the pipeline's tables drawn again with the original view:
    a source rewrite is then not in what the filters see), every rewrite the strategies draw."""
    if original and ruleset.policy_sees == "translated":
        ruleset.policy_sees = "original"
    for from_zone, to_zone in ((ZONES[0], ZONES[1]), (ZONES[1], ZONES[0])):
        expected = _parts_union(SPACE, ruleset, from_zone, to_zone)
        assert pair_endpoints(SPACE, ruleset, from_zone, to_zone) == expected


@pytest.mark.parametrize("vendor", ["asa", "fortigate", "panos"])
def test_the_pair_set_of_a_plant_boundary_with_nat(vendor: str, tmp_path: Path) -> None:
    """The bench's NAT mix (static publishes, port forwards, hide-NAT; 300 rules, 40 NAT entries),
    rendered for each vendor: on every zone pair the pair set is the union of the parts."""
    path = write_config(nat_policy(300, 40, 5), vendor, tmp_path, vendor)
    ruleset = parse_config(str(path), vendor)
    assert ruleset.nat_rules
    _assert_same_on_every_pair(PacketSpace(), ruleset)


@pytest.mark.parametrize("vendor", ["fortigate", "panos"])  # ASA's NAT names its egress interface
def test_a_pool_told_apart_from_the_networks_connected_elsewhere_cuts_as_the_image_does(
        vendor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that sends its packets to one of a pool is kept or dropped on a pair by the pool alone
    (``translate._pool_egress``) where the pool lies wholly outside or wholly inside the networks
    connected on other zones' interfaces: every pair's set is the one the rewritten images give."""
    ruleset = parse_config(str(write_config(nat_policy(300, 40, 5), vendor, tmp_path, vendor)), vendor)
    told: list[str | None] = []
    tell = translate._pool_egress
    monkeypatch.setattr(translate, "_pool_egress", lambda *args: told.append(tell(*args)) or told[-1])
    space = PacketSpace()
    shortcut = {pair: pair_endpoints(space, ruleset, *pair) for pair in ruleset.zone_pairs()}
    assert {"stays", "leaves"} <= set(told)  # both shortcuts were taken
    space.memo.clear()
    monkeypatch.setattr(translate, "_pool_egress", lambda *_args: None)  # every image rewritten and cut
    for pair, flows in shortcut.items():
        assert pair_endpoints(space, ruleset, *pair) == flows, pair


@pytest.mark.parametrize("vendor", ["asa", "fortigate", "panos"])
def test_the_nat_half_worked_out_ahead_gives_the_same_sets(vendor: str, tmp_path: Path) -> None:
    """``prepare_nat_offers`` (prefold's ``meanwhile`` in ``check``) fills what the pairs' sets read
    later; the sets are the ones worked out without it."""
    ruleset = parse_config(str(write_config(nat_policy(300, 40, 5), vendor, tmp_path, vendor)), vendor)
    space = PacketSpace()
    prepare_nat_offers(space, [(ruleset, *pair) for pair in ruleset.zone_pairs()])
    assert any(key[0] == "filter-offers" for key in space.memo if isinstance(key, tuple))
    prepared = {pair: pair_endpoints(space, ruleset, *pair) for pair in ruleset.zone_pairs()}
    space.memo.clear()
    for pair, flows in prepared.items():
        assert pair_endpoints(space, ruleset, *pair) == flows, pair
