"""PG-ESTATE-005: a treaty route that the firewall's own routing table contradicts.

Zones: internet 0.0.0.0/0 (any address), dmz 172.16.0.0/24, control 10.30.0.0/24. The ASA's
interfaces face internet (outside), dmz and a transit link inside (10.20.0.0/24, in no zone).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from plantgate.checks import run_checks
from plantgate.load import load_site
from tests.sites import write_files

ASA = """
    hostname edge
    interface GigabitEthernet0/0
     nameif outside
     ip address 203.0.113.1 255.255.255.0
    interface GigabitEthernet0/1
     nameif dmz
     ip address 172.16.0.1 255.255.255.0
    interface GigabitEthernet0/2
     nameif inside
     ip address 10.20.0.1 255.255.255.0
    {route}
    access-list OUT extended permit tcp any 10.30.0.0 255.255.255.0 eq 502
    access-group OUT in interface outside
    """
SITE = {
    "site.yaml": """
        site: {name: Route plant, plant: Unit 1, revision: r1}
        people:
          - {id: ot, name: OT Approver, roles: [ot_approver]}
        """,
    "zones.yaml": """
        zones:
          - {id: dmz, name: DMZ, level: 3.5, kind: dmz, networks: [172.16.0.0/24]}
          - {id: control, name: Control, level: 2, kind: control, networks: [10.30.0.0/24]}
        """,
    "conduits.yaml": "conduits: []\n",
    "firewalls.yaml": """
        firewalls:
          - {id: fw-edge, vendor: asa, config: edge.cfg, zones: {dmz: dmz, inside: control}}
        """,
    "routes.yaml": """
        routes:
          - {from_zone: dmz, to_zone: control, via: [fw-edge]}
        """,
}


def findings(tmp_path: Path, route: str) -> list:  # type: ignore[type-arg]
    files = dict(SITE, **{"edge.cfg": ASA.replace("{route}", route)})
    site = load_site(write_files(tmp_path / "site", files))
    return [f for f in run_checks(site, as_of=dt.date(2026, 11, 26)) if f.rule_id == "PG-ESTATE-005"]


def test_a_route_out_of_the_wrong_interface_contradicts_the_treaty(tmp_path: Path) -> None:
    """By hand: the treaty says dmz -> control crosses fw-edge into control (its inside interface), but
    the ASA routes 10.30.0.0/24 out of its dmz interface (line 11): one finding, citing line 11 and the
    route in routes.yaml (line 2)."""
    [finding] = findings(tmp_path, "route dmz 10.30.0.0 255.255.255.0 172.16.0.254")
    assert "sends it out" in finding.message and "toward dmz" in finding.message
    assert {(loc.file.rsplit("/", 1)[-1], loc.line) for loc in finding.evidence} == {
        ("edge.cfg", 11), ("routes.yaml", 2)}


def test_a_route_toward_the_treaty_zone_agrees(tmp_path: Path) -> None:
    """By hand: 10.30.0.0/24 via 10.20.0.254 leaves by inside, mapped to control: no finding."""
    assert findings(tmp_path, "route inside 10.30.0.0 255.255.255.0 10.20.0.254") == []


def test_no_route_at_all_is_reported(tmp_path: Path) -> None:
    """By hand: no connected network, static or default route holds 10.30.0.0/24: the firewall cannot
    forward control's traffic as the treaty says (dynamic routing is not in the config, so this is a
    finding to resolve, not a dropped path)."""
    [finding] = findings(tmp_path, "")
    assert "holds no route" in finding.message
