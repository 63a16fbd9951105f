"""End-to-end reach: firewalls in series, routes, the estate checks, and a brute-force cross-check."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantgate.checks import run_checks
from plantgate.errors import InputError
from plantgate.firewalls.ruleset import Action, Filter, Rule, Ruleset, Service, SourceSpan, address_set
from plantgate.load import load_site
from plantgate.netspace import Flow, PacketSpace, evaluate
from plantgate.reconcile.access_map import access_map
from plantgate.reconcile.boundary import BoundaryFirewall
from plantgate.reconcile.reach import Estate, service_summary
from tests.reconcile.estate_sites import series_site
from tests.sites import EXAMPLE

TODAY = dt.date(2026, 11, 26)
CONDUITS_WITH_BROKEN = """
    conduits:
      - {id: c1, from_zone: ops, to_zone: dmz, services: [{protocol: tcp, ports: [5450]}], ot_approver: ot}
      - id: c2
        from_zone: corp
        to_zone: ops
        services: [{protocol: tcp, ports: [502]}]
        sources: [10.0.5.5/32]
        destinations: [10.30.0.8/32]
        business_reason: broken on purpose
        ot_approver: ot
    """


@pytest.fixture(scope="module")
def example() -> Estate:
    return Estate(load_site(EXAMPLE), PacketSpace())


def test_example_pair_in_series_reaches_l2_that_neither_firewall_shows(example: Estate) -> None:
    result = example.reach("enterprise", "sup")
    assert [str(p.path) for p in result.paths] == ["enterprise -[fw-it-dmz]-> idmz -[fw-dmz-ot]-> sup"]
    path = result.paths[0]
    assert service_summary(path.flows) == ["tcp/443"]
    assert path.witness == Flow(ipaddress.ip_address("10.10.0.0"), ipaddress.ip_address("10.20.0.10"), 6, 1024, 443)
    assert [[r.span.line for _f, r in h.permitters if r] for h in path.hops] == [[54], [16]]
    assert [c.id for c in path.conduits] == ["C-15-vendor-dashboard"]
    # corp-bi is registered (C-15); the rest of the enterprise is not
    assert path.uncovered_witness is not None and str(path.uncovered_witness.src) != "10.10.5.50"
    # neither firewall alone shows an enterprise -> sup session
    for fw in example.firewalls:
        assert fw.permitted("enterprise", "sup").is_empty()
    assert not result.choice.routed


def test_example_check_reports_two_hop_bypass_once() -> None:
    findings = [f for f in run_checks(load_site(EXAMPLE), TODAY) if f.rule_id.startswith("PG-ESTATE")]
    bypass = [f for f in findings if f.rule_id == "PG-ESTATE-001"]
    assert len(bypass) == 1
    assert bypass[0].witness == {"src": "10.10.0.0", "dst": "10.20.0.10", "proto": 6, "sport": 1024, "dport": 443}
    assert {loc.line for loc in bypass[0].evidence} == {54, 16}


def test_broken_conduit_path_and_bypass(tmp_path: Path) -> None:
    site = load_site(series_site(tmp_path, {"conduits.yaml": CONDUITS_WITH_BROKEN}))
    findings = {f.rule_id: f for f in run_checks(site, TODAY) if f.rule_id.startswith("PG-ESTATE")}
    broken = findings["PG-ESTATE-003"]
    assert "fw-outer permits it but fw-inner" in broken.message
    assert broken.witness is not None and broken.witness["dst"] == "10.30.0.8"
    assert findings["PG-ESTATE-001"].witness == {"src": "10.0.0.0", "dst": "10.30.0.7", "proto": 6,
                                                 "sport": 1024, "dport": 502}


def test_safety_end_to_end_unregistered(tmp_path: Path) -> None:
    zones = """
        zones:
          - {id: corp, name: Corporate, level: 4, kind: enterprise, networks: [10.0.0.0/16]}
          - {id: dmz, name: DMZ, level: 3.5, kind: dmz, networks: [172.16.0.0/24]}
          - {id: ops, name: Operations, level: 3, kind: operations, networks: [10.30.0.0/24]}
          - {id: sis, name: SIS, level: 1, kind: safety, networks: [10.2.0.0/24]}
        """
    inner = """
        *filter
        :FORWARD DROP [0:0]
        -A FORWARD -s 10.30.0.0/24 -d 10.2.0.0/24 -i eth1 -o eth2 -p udp --dport 1502 -j ACCEPT
        COMMIT
        """
    firewalls = """
        firewalls:
          - {id: fw-outer, vendor: iptables, config: outer.iptables, zones: {eth0: corp, eth1: dmz}}
          - {id: fw-inner, vendor: iptables, config: inner.iptables, zones: {eth0: dmz, eth1: ops, eth2: sis}}
        """
    outer = """
        *filter
        :FORWARD DROP [0:0]
        COMMIT
        """
    # ops reaches sis through fw-inner only (one hop: PG-PURDUE-003's job, not ours)
    site = load_site(series_site(tmp_path, {"zones.yaml": zones, "inner.iptables": inner,
                                            "firewalls.yaml": firewalls, "outer.iptables": outer}))
    assert not [f for f in run_checks(site, TODAY) if f.rule_id == "PG-ESTATE-002"]
    inner_wide = inner.replace("-s 10.30.0.0/24 -d 10.2.0.0/24 -i eth1", "-d 10.2.0.0/24 -i eth0")
    outer_wide = outer.replace("COMMIT", "-A FORWARD -i eth0 -o eth1 -p udp --dport 1502 -j ACCEPT\n        COMMIT")
    site = load_site(series_site(tmp_path / "b", {"zones.yaml": zones, "inner.iptables": inner_wide,
                                                  "firewalls.yaml": firewalls, "outer.iptables": outer_wide}))
    safety = [f for f in run_checks(site, TODAY) if f.rule_id == "PG-ESTATE-002"]
    assert len(safety) == 1 and safety[0].witness is not None
    assert safety[0].witness["dst"].startswith("10.2.0.") and safety[0].witness["dport"] == 1502


def test_routes_choose_paths_and_bad_routes_are_input_errors(tmp_path: Path) -> None:
    routes = """
        routes:
          - {from_zone: corp, to_zone: ops, via: [fw-outer, fw-inner]}
        """
    site = load_site(series_site(tmp_path, {"routes.yaml": routes}))
    estate = Estate(site, PacketSpace())
    choice = estate.topology.paths("corp", "ops")
    assert choice.routed and [str(p) for p in choice.paths] == ["corp -[fw-outer]-> dmz -[fw-inner]-> ops"]
    bad = load_site(series_site(tmp_path / "bad", {"routes.yaml": routes.replace("[fw-outer, fw-inner]",
                                                                                  "[fw-inner, fw-outer]")}))
    with pytest.raises(InputError) as caught:
        Estate(bad, PacketSpace()).reach("corp", "ops")
    problem = caught.value.problems[0]
    assert problem.location.file.endswith("routes.yaml") and problem.location.line == 2
    assert "does not continue the path" in problem.message


def test_access_map_names_decisions_and_remote_access(example: Estate) -> None:
    zones = {z.zone.id: z for z in access_map(example, as_of=TODAY)}
    assert set(zones) == {"sup", "ctl", "sis"}
    sources = {(e.source, len(e.path.path.hops)): e for e in zones["sup"].entries}
    enterprise = sources[("enterprise", 2)]
    assert enterprise.decisions[0].conduit_id == "C-15-vendor-dashboard"
    assert enterprise.decisions[0].ot_approver == "David Chen (d.chen)"
    assert enterprise.decisions[0].review_by == dt.date(2027, 1, 31)
    dmz = sources[("idmz", 1)]
    assert dmz.remote and "dmz-jump" in {a.id for a, remote in dmz.hosts if remote}
    assert dmz.services == ["tcp/443,5900"]


# ----- hypothesis: the end-to-end set equals brute force on sampled packets -----

NETS = ["10.0.0.0/16", "10.0.1.0/24", "10.30.0.0/24", "10.30.0.0/25", "10.30.0.7/32", "0.0.0.0/0"]
PORTS = [(502, 502), (443, 443), (400, 600)]
rule_strategy = st.tuples(st.sampled_from(NETS), st.sampled_from(NETS), st.sampled_from([None, *PORTS]),
                          st.sampled_from([Action.PERMIT, Action.DENY]))


def _ruleset(name: str, rules: list[tuple[str, str, tuple[int, int] | None, Action]], default: Action) -> Ruleset:
    built = []
    for index, (src, dst, ports, action) in enumerate(rules, 1):
        service = Service(6, dst_ports=(ports,)) if ports else Service()
        built.append(Rule(f"{name}#{index}", index, action, SourceSpan(name, index, index, ""),
                          sources=address_set([src]), destinations=address_set([dst]), services=(service,)))
    flt = Filter("f", built, default_action=default)
    return Ruleset(name, "test", name, zones=["a", "b"], filters={"f": flt},
                   paths={("a", "b"): ("f",), ("b", "a"): ("f",)})


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Estate:
    return Estate(load_site(series_site(tmp_path_factory.mktemp("series"))), PacketSpace())


packet_strategy = st.tuples(st.integers(0, 2**16 - 1), st.integers(0, 255), st.sampled_from([443, 502, 550, 22]),
                            st.sampled_from([6, 17]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(rule_strategy, max_size=5), second=st.lists(rule_strategy, max_size=5),
       defaults=st.tuples(st.sampled_from([Action.PERMIT, Action.DENY]), st.sampled_from([Action.PERMIT, Action.DENY])),
       packets=st.lists(packet_strategy, min_size=20, max_size=20))
def test_series_equals_brute_force(series: Estate, first: list, second: list,  # type: ignore[type-arg]
                                   defaults: tuple[Action, Action], packets: list[tuple[int, int, int, int]]) -> None:
    outer = _ruleset("outer", first, defaults[0])
    inner = _ruleset("inner", second, defaults[1])
    entries = {fw.entry.id: fw.entry for fw in series.firewalls}
    outer_entry = entries["fw-outer"].model_copy(update={"zones": {"a": "corp", "b": "dmz"}})
    inner_entry = entries["fw-inner"].model_copy(update={"zones": {"a": "dmz", "b": "ops"}})
    firewalls = [BoundaryFirewall.bound(series.site, outer_entry, outer, series.space),
                 BoundaryFirewall.bound(series.site, inner_entry, inner, series.space)]
    estate = Estate(series.site, series.space, firewalls)
    result = estate.reach("corp", "ops", evidence=False)
    total = series.space.empty()
    for item in result.paths:
        total = total | item.flows
    witnesses = [p.witness for p in result.paths if p.witness is not None]
    samples = [Flow(ipaddress.ip_address(f"10.0.{s >> 8}.{s & 255}"), ipaddress.ip_address(f"10.30.0.{d}"), proto,
                    1024, port) for s, d, port, proto in packets]
    for flow in samples + witnesses:
        expected = evaluate(outer, flow, "a", "b").permitted and evaluate(inner, flow, "a", "b").permitted
        assert (flow in total) == expected, flow
