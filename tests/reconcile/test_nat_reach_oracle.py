"""Paths through NAT against a packet walk: random NAT and filters on two firewalls in series.

Each sampled packet is walked hop by hop with the per-packet evaluator (``evaluate_translated``:
the NAT oracle and the concrete filter); the path's flows as their ends see them must hold the
packet's (source as sent, destination as delivered) exactly when the walk delivers it into ops.
Pools here are single addresses, so every translation is deterministic and the answer exact.
"""

from __future__ import annotations

import ipaddress
import itertools
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from plantgate.load import load_site
from plantgate.netspace import Flow, PacketSpace
from plantgate.netspace.evaluate_nat import evaluate_translated
from plantgate.reconcile.reach import Estate
from tests.reconcile.estate_sites import SERIES_FIREWALLS
from tests.sites import MINIMAL, write_files

CORP = ["10.0.0.5", "10.0.9.9"]
DMZ = ["172.16.0.1", "172.16.0.100", "172.16.0.7"]
OPS = ["10.30.0.5", "10.30.0.6"]
PORTS = [502, 8502, 443]

dnat = st.tuples(st.sampled_from(DMZ + OPS), st.sampled_from(PORTS), st.sampled_from(OPS + DMZ),
                 st.sampled_from(PORTS)).map(
    lambda t: f"-A PREROUTING -d {t[0]}/32 -p tcp --dport {t[1]} -j DNAT --to-destination {t[2]}:{t[3]}")
snat = st.tuples(st.sampled_from(["10.0.0.0/16", "10.0.0.5/32", "172.16.0.0/24"]), st.sampled_from(DMZ)).map(
    lambda t: f"-A POSTROUTING -s {t[0]} -j SNAT --to-source {t[1]}")
SOURCES = ["10.0.0.0/16", "172.16.0.0/24", "172.16.0.1/32", "0.0.0.0/0"]
accept = st.tuples(st.sampled_from(SOURCES), st.sampled_from([*OPS, *DMZ, "0.0.0.0/0", "10.30.0.0/24"]),
                   st.sampled_from([*PORTS, None])).map(
    lambda t: f"-A FORWARD -i eth0 -o eth1 -s {t[0]} -d {t[1]} -p tcp"
              + (f" --dport {t[2]}" if t[2] else "") + " -j ACCEPT")


def config(dnats: list[str], snats: list[str], accepts: list[str]) -> str:
    return "\n".join(["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", *dnats, *snats, "COMMIT",
                      "*filter", ":FORWARD DROP [0:0]", *accepts, "COMMIT", ""])


def walk(space: PacketSpace, estate: Estate, flow: Flow) -> Flow | None:
    """The packet as delivered into ops, or None when a hop drops it (or it ends elsewhere)."""
    [path] = [p for p in estate.topology.paths("corp", "ops").paths if len(p.hops) == 2]
    packet = flow
    for hop in path.hops:
        [(x, y)] = hop.config_pairs()
        result = evaluate_translated(space, hop.firewall.ruleset, packet, x, y)
        if not result.verdict.permitted:
            return None
        if result.rewrites:
            packet = result.rewrites[-1][1].after
    return packet if ipaddress.ip_address(packet.dst) in ipaddress.ip_network("10.30.0.0/24") else None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(dnat, max_size=3), st.lists(snat, max_size=2), st.lists(accept, min_size=1, max_size=3),
       st.lists(dnat, max_size=2), st.lists(snat, max_size=1), st.lists(accept, min_size=1, max_size=3))
def test_two_hop_paths_through_nat_match_a_packet_walk(tmp_path_factory, d1, s1, a1, d2, s2, a2) -> None:  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("site")
    files = dict(MINIMAL)
    files.update({"firewalls.yaml": SERIES_FIREWALLS, "outer.iptables": config(d1, s1, a1),
                  "inner.iptables": config(d2, s2, a2)})
    space = PacketSpace()
    estate = Estate(load_site(write_files(folder, files)), space)
    [path] = [p for p in estate.topology.paths("corp", "ops").paths if len(p.hops) == 2]
    flows = estate.path_flows(path)
    delivered_count = 0
    for src, dst, dport in itertools.product(CORP, DMZ + OPS, PORTS):
        sent = Flow(ipaddress.ip_address(src), ipaddress.ip_address(dst), 6, 40000, dport)
        delivered = walk(space, estate, sent)
        if delivered is not None:
            delivered_count += 1
            ends = Flow(sent.src, delivered.dst, 6, 40000, delivered.dport)
            assert flows.contains(ends), (sent, delivered)
    event("packets delivered: " + ("none" if not delivered_count else "some"))
    for src, dst, dport in itertools.product(CORP, OPS, PORTS):  # every (sender, delivered) pair claimed is real
        ends = Flow(ipaddress.ip_address(src), ipaddress.ip_address(dst), 6, 40000, dport)
        if flows.contains(ends):
            assert any((d := walk(space, estate, Flow(ends.src, ipaddress.ip_address(sent_dst), 6, 40000, p)))
                       is not None and d.dst == ends.dst and d.dport == ends.dport
                       for sent_dst in DMZ + OPS for p in PORTS), ends
