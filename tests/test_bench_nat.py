"""The NAT benchmark rows' configs (small sizes here): they parse as rendered, the translation
matters to what they permit, the closing candidate proves closing and an added NAT entry does not."""

from __future__ import annotations

import dataclasses
import ipaddress
import sys
from collections import Counter
from pathlib import Path

import pytest

from plantgate.firewalls.base import parse_config
from plantgate.firewalls.ruleset import TCP, UDP, Ruleset
from plantgate.netspace import PacketSpace, is_subset
from plantgate.netspace.flow import Flow
from plantgate.netspace.translate import translated_permitted

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from generate import generate_nat_change, nat_policy, write_config  # noqa: E402
from plant_model import PUBLIC_RANGES, NatEntry, PlantPolicy  # noqa: E402

VENDORS = ("asa", "fortigate", "panos")
RULES, NAT, SEED = 300, 30, 3
OUTSIDE_HOST = "10.17.1.1"  # in the outside zone's 10.16.0.0/13, outside every rule's own addresses


def _parse(path: Path, vendor: str) -> Ruleset:
    return parse_config(str(path), vendor)


def _nat_statements(ruleset: Ruleset) -> int:
    return len({(rule.span.file, rule.span.line) for rule in ruleset.nat_rules if not rule.is_identity})


@pytest.fixture(scope="module")
def policy() -> PlantPolicy:
    return nat_policy(RULES, NAT, SEED)


def test_the_mix_is_a_plant_boundary(policy: PlantPolicy) -> None:
    """By hand: 30 entries are 12 static, 12 port forwards and 6 hide-NAT; every mapped address is
    distinct and public (documentation ranges); the rule count stays 300, and every hide entry has a
    permit that needs it (the rule FortiGate writes its policy NAT on)."""
    kinds = Counter(entry.kind for entry in policy.nat.values())
    assert kinds == {"static": 12, "port-forward": 12, "hide": 6}
    mapped = [entry.mapped for entry in policy.nat.values() if entry.mapped is not None]
    public = [ipaddress.ip_network(net) for net in PUBLIC_RANGES]
    assert len(mapped) == len(set(mapped)) and all(any(a in net for net in public) for a in mapped)
    assert len(policy.rules) == RULES
    hidden = {rule.source.value for rule in policy.rules if rule.source.kind == "nat"}
    assert hidden == {entry.name for entry in policy.nat.values() if entry.kind == "hide"}


@pytest.mark.parametrize("vendor", VENDORS)
def test_rendered_config_parses_with_every_nat_statement_and_no_widening(
        vendor: str, policy: PlantPolicy, tmp_path: Path) -> None:
    """By hand: the 30 rendered NAT entries come back as 30 NAT statements (ASA object/twice NAT
    lines, FortiGate VIPs and NAT policies, PAN-OS NAT rules), with no widened warning at all."""
    ruleset = _parse(write_config(policy, vendor, tmp_path, vendor), vendor)
    assert _nat_statements(ruleset) == NAT
    assert ruleset.nat_statements == []
    assert [w for w in ruleset.warnings if w.widened] == []
    assert not any(rule.widened for rule in ruleset.nat_rules if not rule.uncertain)


def _forward_with_rule(policy: PlantPolicy) -> NatEntry:
    """A port forward that a permit from any source uses."""
    return next(policy.nat[rule.destination.value] for rule in policy.rules
                if rule.destination.kind == "nat" and rule.source.kind == "any" and rule.service.kind == "nat")


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_port_forward_is_reached_through_its_translation(vendor: str, policy: PlantPolicy, tmp_path: Path) -> None:
    """By hand: a permit from any in outside names the port forward (ASA: its real object and port;
    FortiGate: its VIP; PAN-OS: its mapped address and port, pre-NAT). So a packet from outside to
    the MAPPED address and port is permitted, and leaves toward the real host at its REAL port
    (PAN-OS also keeps the untranslated outcome: a NAT rule's pre-NAT to-zone is not told by the pair)."""
    entry = _forward_with_rule(policy)
    ruleset = _parse(write_config(policy, vendor, tmp_path, vendor), vendor)
    protocol = TCP if entry.protocol == "tcp" else UDP
    sent = Flow(OUTSIDE_HOST, str(entry.mapped), protocol, 40000, entry.mapped_port)
    delivered = Flow(OUTSIDE_HOST, str(entry.real.network_address), protocol, 40000, entry.real_port)
    parts = translated_permitted(PacketSpace(), ruleset, "outside", entry.real_zone)
    arriving = [part for part in parts if sent in part.before]
    assert any(delivered in part.after and part.rules for part in arriving)
    if vendor != "panos":
        assert arriving and all(part.rules for part in arriving)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_hidden_range_leaves_behind_its_mapped_address(vendor: str, policy: PlantPolicy, tmp_path: Path) -> None:
    """By hand: a permit from a hide entry's range to outside (the FortiGate policy carrying its NAT):
    a packet from the range's first host leaves with the mapped address (a pool address, or the
    outside interface's 10.16.0.1 on ASA and PAN-OS, 10.16.0.1/10.16.0.2 on FortiGate's two ports)."""
    rule = next(r for r in policy.rules if r.source.kind == "nat" and r.destination.kind == "any")
    entry = policy.nat[rule.source.value]
    ruleset = _parse(write_config(policy, vendor, tmp_path, vendor), vendor)
    port = rule.service.low if rule.service.kind == "eq" else 443
    sent = Flow(str(entry.real.network_address + 1), OUTSIDE_HOST, TCP, 40000, port)
    parts = [p for p in translated_permitted(PacketSpace(), ruleset, entry.real_zone, "outside") if sent in p.before]
    assert parts
    outside = policy.zone("outside").network
    mapped = [entry.mapped] if entry.mapped is not None else [outside[1], outside[2]]
    assert any(Flow(str(address), OUTSIDE_HOST, TCP, 1234, port) in part.after for part in parts for address in mapped)


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_closing_candidate_proves_closing(vendor: str, tmp_path: Path) -> None:
    """By hand: the candidate keeps all 30 NAT entries and turns 50 permits into denies (none of them
    a FortiGate policy carrying NAT): nothing opens, no NAT edit, so prove-closing proves it."""
    current, closing = generate_nat_change(vendor, RULES, NAT, tmp_path, SEED, changes=50)
    proved, diff = is_subset(PacketSpace(), _parse(closing, vendor), _parse(current, vendor))
    assert proved and diff.nat_edits == [] and diff.closed


@pytest.mark.parametrize("vendor", VENDORS)
def test_one_added_nat_entry_is_judged_by_what_it_forwards(vendor: str, policy: PlantPolicy, tmp_path: Path) -> None:
    """By hand: the candidate adds one port forward (198.18.255.254:15020 -> the OT host 10.64.9.9:502)
    and changes no filter rule.
    - ASA: the object NAT also rewrites the OT host's own outbound sessions (its source becomes
      198.18.255.254), which the ACLs permit: a translation the current config does not make, so
      prove-closing refuses with such a packet and the added rule.
    - FortiGate and PAN-OS: no policy admits the forwarded packet toward the OT host's zone, and the
      device sends 10.64.9.9 out of the OT zone's interface only (its connected network), so the
      entry forwards nothing: proved, with no NAT edit left uncompared."""
    extra = NatEntry("nat-extra", "port-forward", "ot-l3", "outside", ipaddress.ip_network("10.64.9.9/32"),
                     ipaddress.ip_address("198.18.255.254"), "tcp", 502, 15020)
    opening = dataclasses.replace(policy, nat={**policy.nat, extra.name: extra})
    current = _parse(write_config(policy, vendor, tmp_path, "current"), vendor)
    candidate = _parse(write_config(opening, vendor, tmp_path, "opening"), vendor)
    assert _nat_statements(candidate) == NAT + 1
    proved, diff = is_subset(PacketSpace(), candidate, current)
    assert diff.opened == [] and diff.nat_edits == []
    if vendor != "asa":
        assert proved
        return
    assert not proved and diff.translations
    assert any({str(change.witness.dst), str(change.witness.src)} & {"198.18.255.254", "10.64.9.9"}
               for change in diff.translations)
    assert any("nat-extra" in rule.span.text or "198.18.255.254" in rule.span.text
               for change in diff.translations for rule in change.nat_rules)


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_port_forward_moved_to_another_host_is_not_proved(vendor: str, policy: PlantPolicy,
                                                            tmp_path: Path) -> None:
    """By hand: one port forward that a permit rule admits now leads to the next address of its host's
    network; the rule is unchanged, so packets sent to the same public address and port now reach a
    host they never reached: not proved, with a packet delivered to (or translated toward) it."""
    admitted = {rule.destination.value for rule in policy.rules if rule.destination.kind == "nat"}
    name, entry = next((n, e) for n, e in sorted(policy.nat.items()) if e.kind == "port-forward" and n in admitted)
    moved_host = ipaddress.ip_network(f"{entry.real.network_address + 1}/32")
    moved = dataclasses.replace(policy, nat={**policy.nat, name: dataclasses.replace(entry, real=moved_host)})
    current = _parse(write_config(policy, vendor, tmp_path, "current"), vendor)
    candidate = _parse(write_config(moved, vendor, tmp_path, "moved"), vendor)
    proved, diff = is_subset(PacketSpace(), candidate, current)
    assert not proved
    witnesses = [c.witness for c in diff.opened] + [c.witness for c in diff.translations]
    assert witnesses, (diff.opened, diff.translations, diff.nat_edits)
