"""End to end through address translation: paths that exist only because a firewall translates.

Zones (tests.sites.MINIMAL): corp 10.0.0.0/16, dmz 172.16.0.0/24, ops 10.30.0.0/24. fw-outer joins
corp and dmz, fw-inner dmz and ops; both iptables.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plantgate.checks import run_checks
from plantgate.load import load_site
from plantgate.netspace import PacketSpace
from plantgate.reconcile.reach import Estate
from tests.reconcile.estate_sites import SERIES_FIREWALLS
from tests.sites import MINIMAL, write_files

HIDE_NAT_OUTER = """
    *nat
    :PREROUTING ACCEPT [0:0]
    :POSTROUTING ACCEPT [0:0]
    -A POSTROUTING -o eth1 -s 10.0.0.0/16 -j SNAT --to-source 172.16.0.1
    COMMIT
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -i eth0 -o eth1 -s 10.0.0.0/16 -p tcp --dport 502 -j ACCEPT
    COMMIT
    """
DMZ_ONLY_INNER = """
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -i eth0 -o eth1 -s 172.16.0.0/24 -d 10.30.0.5/32 -p tcp --dport 502 -j ACCEPT
    COMMIT
    """
PORT_FORWARD_OUTER = """
    *nat
    :PREROUTING ACCEPT [0:0]
    :POSTROUTING ACCEPT [0:0]
    -A PREROUTING -i eth0 -d 172.16.0.100/32 -p tcp --dport 8502 -j DNAT --to-destination 10.30.0.5:502
    COMMIT
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -i eth0 -o eth1 -s 10.0.0.0/16 -d 10.30.0.5/32 -p tcp --dport 502 -j ACCEPT
    COMMIT
    """
ANY_SOURCE_INNER = """
    *filter
    :FORWARD DROP [0:0]
    -A FORWARD -i eth0 -o eth1 -d 10.30.0.5/32 -p tcp --dport 502 -j ACCEPT
    COMMIT
    """


def site(tmp_path: Path, outer: str, inner: str) -> Path:
    files = dict(MINIMAL)
    files.update({"firewalls.yaml": SERIES_FIREWALLS, "outer.iptables": outer, "inner.iptables": inner})
    return write_files(tmp_path / "site", files)


def test_a_path_that_exists_only_through_hide_nat(tmp_path: Path) -> None:
    """By hand: fw-outer lets corp hosts out on tcp/502 and hides them behind 172.16.0.1 (a DMZ
    address); fw-inner admits only DMZ sources to 10.30.0.5:502. Untranslated, no corp packet passes
    fw-inner; translated, every corp host reaches 10.30.0.5:502 as 172.16.0.1. The answer is the
    flows as their ends see them: sources in corp, destination 10.30.0.5, tcp/502; fw-outer's hop
    shows the source rewritten to 172.16.0.1 by the SNAT on line 4, and fw-inner passes that packet.
    """
    estate = Estate(load_site(site(tmp_path, HIDE_NAT_OUTER, DMZ_ONLY_INNER)), PacketSpace())
    [path] = estate.reach("corp", "ops").paths
    assert path.path.firewall_ids == ["fw-outer", "fw-inner"]
    witness = path.witness
    assert witness is not None and str(witness.dst) == "10.30.0.5" and witness.dport == 502
    assert witness.src.packed[:2] == bytes([10, 0])  # the corp host, as it sent the packet
    outer, inner = path.packets
    assert str(outer.left.src) == "172.16.0.1" and outer.arrived.src == witness.src
    assert [r.span.line for r in outer.rules] == [4]
    assert inner.rules == () and inner.arrived == outer.left
    assert path.hops[1].permitters[0][1] is not None and path.hops[1].permitters[0][1].span.line == 3
    assert path.to_dict()["hop_packets"][0]["nat_rules"][0]["line"] == 4


def test_without_the_nat_the_same_filters_give_no_path(tmp_path: Path) -> None:
    """The control: the same filters with fw-outer's nat table removed leave corp no way through fw-inner."""
    no_nat = HIDE_NAT_OUTER.split("*filter", 1)[1]
    estate = Estate(load_site(site(tmp_path, "*filter" + no_nat, DMZ_ONLY_INNER)), PacketSpace())
    assert estate.reach("corp", "ops").paths == []


def test_a_port_forward_is_followed_and_shown_as_sent(tmp_path: Path) -> None:
    """By hand: a corp host sends to 172.16.0.100:8502 (a DMZ address); fw-outer forwards it to the
    OT host 10.30.0.5:502 and lets it out; fw-inner admits anyone to 10.30.0.5:502. End to end corp
    reaches 10.30.0.5 on tcp/502 (as the ends see it); the first hop shows the packet as sent to
    172.16.0.100:8502 and the DNAT line (4).
    """
    estate = Estate(load_site(site(tmp_path, PORT_FORWARD_OUTER, ANY_SOURCE_INNER)), PacketSpace())
    [path] = estate.reach("corp", "ops").paths
    sent = [p for p in path.packets if p.rules]
    assert len(sent) == 1
    [outer] = sent
    assert (str(outer.arrived.dst), outer.arrived.dport) in {("172.16.0.100", 8502), ("10.30.0.5", 502)}
    assert (str(outer.left.dst), outer.left.dport) == ("10.30.0.5", 502)


def test_check_reports_the_translated_bypass_with_its_nat_line(tmp_path: Path) -> None:
    """The estate check (PG-ESTATE-001, corp is IT and ops OT) finds the hide-NAT bypass and cites the
    SNAT line as evidence; no finding claims the packet was unchanged."""
    folder = site(tmp_path, HIDE_NAT_OUTER, DMZ_ONLY_INNER)
    findings = [f for f in run_checks(load_site(folder), as_of=dt.date(2026, 11, 26))
                if f.rule_id == "PG-ESTATE-001"]
    assert findings, "the bypass through hide-NAT must be reported"
    [finding] = findings
    assert "through address translation" in finding.message
    assert any(loc.file.endswith("outer.iptables") and loc.line == 4 for loc in finding.evidence)
