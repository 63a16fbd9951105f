"""A small plant with one boundary firewall, its policy rendered by Aerleon in every vendor's syntax.

The site a new user writes: four zones (enterprise, DMZ, operations L3, control L2), four
conduits, and one firewall between all four zones. The same policy is rendered by Aerleon
(a third-party generator, so not by our own reading of each vendor) as FortiGate, SRX,
PAN-OS, ASA with interfaces, ASA as ACL-only fragments (one ACL for everything, or one
per ingress zone), iptables with and without interfaces, and nftables without. Each comes
as a clean baseline and as a drifted variant with two planted defects: the enterprise
straight into L3 on tcp/1433 and into L2 on tcp/4840.

Only data and rendering live here; the assertions live in ``test_five_vendor_site``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aerleon.api import Generate
from aerleon.lib import naming

from tests.sites import write_files

NETWORKS: dict[str, list[str]] = {
    "ENT": ["10.10.0.0/16"], "DMZ": ["172.20.35.0/24"], "L3": ["10.30.0.0/24"], "L2": ["10.20.0.0/24"],
    "HIST": ["10.30.0.10/32"], "REPLICA": ["172.20.35.10/32"], "JUMP": ["172.20.35.20/32"],
    "PLC": ["10.20.0.10/32"],
}
SERVICES: dict[str, list[dict[str, str]]] = {
    "HTTPS": [{"port": "443", "protocol": "tcp"}], "REPL": [{"port": "5450", "protocol": "tcp"}],
    "RDP": [{"port": "3389", "protocol": "tcp"}], "OPCUA": [{"port": "4840", "protocol": "tcp"}],
    "MSSQL": [{"port": "1433", "protocol": "tcp"}],
}
ZONES = ("ent", "dmz", "l3", "l2")
INTERFACES = {"ent": "eth0", "dmz": "eth1", "l3": "eth2", "l2": "eth3"}


def _term(name: str, src: str, dst: str, port: str) -> dict[str, Any]:
    return {"name": name, "source-address": src, "destination-address": dst, "protocol": "tcp",
            "destination-port": port, "action": "accept"}


BASELINE: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("ent", "dmz"): [_term("ent-replica", "ENT", "REPLICA", "HTTPS")],
    ("l3", "dmz"): [_term("hist-repl", "HIST", "REPLICA", "REPL")],
    ("dmz", "l2"): [_term("jump-rdp", "JUMP", "L2", "RDP")],
    ("l3", "l2"): [_term("hist-opcua", "HIST", "PLC", "OPCUA")],
}
"""Policy terms per (from zone, to zone); each matches one conduit of TREATY."""
DEFECTS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("ent", "l3"): [_term("ent-sql", "ENT", "L3", "MSSQL")],
    ("ent", "l2"): [_term("ent-opcua", "ENT", "PLC", "OPCUA")],
}
"""The planted defects of the drifted variants: enterprise into L3 on tcp/1433, into L2 on tcp/4840."""

TREATY = {
    "site.yaml": """
        site: {name: Kestrel Water Treatment, plant: Filtration line 1, timezone: Europe/Berlin, revision: r3}
        people:
          - {id: ana, name: Ana Ortiz, roles: [ot_approver]}
          - {id: ben, name: Ben Osei, roles: [plant_leadership]}
          - {id: eli, name: Eli Novak, roles: [platform_owner]}
          - {id: shift, name: Control room shift lead, roles: [control_room]}
        raci:
          - {activity: Boundary firewall rule change, responsible: [eli], accountable: [eli], consulted: [ana],
             informed: [ben], veto: [ana]}
        escalation:
          question: Does the plant keep running?
          steps:
            - {order: 1, person: shift, role: Shift lead, contact: "+49 30 555 0101", decides: true}
            - {order: 2, person: ben, role: Plant manager, contact: "+49 30 555 0100", decides: true}
            - {order: 3, person: eli, role: Network security lead, contact: "+49 30 555 0102", decides: true}
        charter:
          layers:
            process_data: {decision: converge, working_model: One-way flows through the DMZ}
            security_monitoring: {decision: converge, working_model: OT sensor feeds the SOC}
            network_standards: {decision: converge, working_model: Same switch standards}
            identity: {decision: patterns_only, working_model: Separate OT domain}
            patch_management: {decision: "no", working_model: Vendor-qualified list and DMZ staging}
            change_authority: {decision: "no", working_model: Plant change board rules OT}
            endpoint_management: {decision: carefully, working_model: DCS vendor's qualified agents only}
          signatures:
            - {person: ben, role: Plant manager, date: 2026-10-01, revision: r3}
        """,
    "zones.yaml": """
        zones:
          - {id: ent, name: Enterprise, level: 4, kind: enterprise, networks: [10.10.0.0/16]}
          - {id: dmz, name: Industrial DMZ, level: 3.5, kind: dmz, networks: [172.20.35.0/24]}
          - {id: l3, name: Site operations, level: 3, kind: operations, networks: [10.30.0.0/24]}
          - {id: l2, name: Supervisory control, level: 2, kind: control, networks: [10.20.0.0/24]}
        """,
    "conduits.yaml": """
        conduits:
          - {id: C-1-replica, from_zone: ent, to_zone: dmz, services: [{protocol: tcp, ports: [443]}],
             destinations: [172.20.35.10/32], business_reason: Reports read the historian replica,
             ot_approver: ana, change_record: CR-1, enforced_by: [fw-boundary]}
          - {id: C-2-replication, from_zone: l3, to_zone: dmz, services: [{protocol: tcp, ports: [5450]}],
             sources: [10.30.0.10/32], destinations: [172.20.35.10/32], business_reason: Historian replication,
             ot_approver: ana, change_record: CR-2, enforced_by: [fw-boundary]}
          - {id: C-3-jump, from_zone: dmz, to_zone: l2, services: [{protocol: tcp, ports: [3389]}],
             sources: [172.20.35.20/32], business_reason: Engineers reach the HMIs through the jump host,
             ot_approver: ana, change_record: CR-3, enforced_by: [fw-boundary]}
          - {id: C-4-collect, from_zone: l3, to_zone: l2, services: [{protocol: tcp, ports: [4840]}],
             sources: [10.30.0.10/32], destinations: [10.20.0.10/32], business_reason: Historian collects from the PLC,
             ot_approver: ana, change_record: CR-4, enforced_by: [fw-boundary]}
        """,
}


@dataclass(frozen=True)
class Variant:
    """One rendering of the policy and the treaty entry a new user writes for it."""

    name: str
    vendor: str
    file: str
    entry: str
    """The keys after ``vendor`` and ``config`` in firewalls.yaml (flow style, without braces)."""
    zoned: bool
    """Whether the config itself places its filters on interfaces or zones (not a fragment)."""


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("fortigate", "fortigate", "fw.fortigate.conf", "zones: {ent: ent, dmz: dmz, l3: l3, l2: l2}", True),
    Variant("srx", "srx", "fw.srx.conf", "zones: {ent: ent, dmz: dmz, l3: l3, l2: l2}", True),
    Variant("panos", "panos", "fw.panos.xml", "zones: {ent: ent, dmz: dmz, l3: l3, l2: l2}", True),
    Variant("asa", "asa", "fw.asa", "zones: {ent: ent, dmz: dmz, l3: l3, l2: l2}", True),
    Variant("iptables", "iptables", "fw.iptables", "zones: {eth0: ent, eth1: dmz, eth2: l3, eth3: l2}", True),
    Variant("asa-one-acl", "asa", "fw-acl.asa", "joins: [ent, dmz, l3, l2]", False),
    Variant("asa-acl-per-zone", "asa", "fw-acls.asa",
            "zones: {ENT_IN: ent, DMZ_IN: dmz, L3_IN: l3, L2_IN: l2}", False),
    Variant("iptables-no-interfaces", "iptables", "fw-flat.iptables", "joins: [ent, dmz, l3, l2]", False),
    Variant("iptables-unnamed-interfaces", "iptables", "fw-flat.iptables",
            "zones: {eth0: ent, eth1: dmz, eth2: l3, eth3: l2}", False),
    Variant("nftables-no-interfaces", "nftables", "fw-flat.nft", "joins: [ent, dmz, l3, l2]", False),
)}


def _definitions() -> naming.Naming:
    defs = naming.Naming()
    defs.ParseDefinitionsObject({
        "networks": {name: {"values": [{"address": a} for a in addresses]} for name, addresses in NETWORKS.items()},
        "services": SERVICES,
    }, "")
    return defs


def _deny(name: str) -> dict[str, Any]:
    return {"name": name, "action": "deny"}


def _terms(pairs: list[tuple[str, str]], policy: dict[tuple[str, str], list[dict[str, Any]]],
           interfaces: bool = False) -> list[dict[str, Any]]:
    out = []
    for pair in pairs:
        for term in policy.get(pair, []):
            term = copy.deepcopy(term)
            if interfaces:
                term["source-interface"], term["destination-interface"] = (INTERFACES[pair[0]], INTERFACES[pair[1]])
            out.append(term)
    return out


def render(drifted: bool) -> dict[str, str]:
    """File name -> config text, every rendering of the (baseline or drifted) policy, by Aerleon."""
    policy = dict(BASELINE)
    if drifted:
        policy.update(DEFECTS)
    pairs = sorted(policy)
    filters: list[dict[str, Any]] = []
    for x, y in pairs:  # zone-based vendors: one rulebase per zone pair
        targets = {t: f"from-zone {x} to-zone {y}" for t in ("srx", "paloalto", "fortigate")}
        filters.append({"header": {"targets": targets}, "terms": _terms([(x, y)], policy) + [_deny(f"deny-{x}-{y}")]})
    asa_per_zone: list[dict[str, Any]] = []
    for zone in ZONES:  # ASA: one ingress ACL per zone
        own = [p for p in pairs if p[0] == zone]
        asa_per_zone.append({"header": {"targets": {"ciscoasa": f"{zone.upper()}_IN"}},
                             "terms": _terms(own, policy) + [_deny(f"deny-from-{zone}")]})
    flat = _terms(pairs, policy) + [_deny("default-deny")]
    flat_filters = [{"header": {"targets": {"ciscoasa": "FW_ACL", "iptables": "FORWARD DROP",
                                            "nftables": "mixed forward"}}, "terms": flat}]
    with_interfaces = [{"header": {"targets": {"iptables": "FORWARD DROP"}},
                        "terms": _terms(pairs, policy, interfaces=True) + [_deny("default-deny")]}]
    out: dict[str, str] = {}
    for name, group in (("zoned", filters), ("acls", asa_per_zone), ("flat", flat_filters),
                        ("ifaces", with_interfaces)):
        generated = Generate([{"filename": name, "filters": group}], _definitions())
        assert generated, f"aerleon rendered nothing for {name}"
        out.update({f"{name}/{file}": text for file, text in generated.items()})
    asa_header = "same-security-traffic permit inter-interface\n" + "".join(
        f"interface GigabitEthernet0/{i}\n nameif {zone}\n security-level 0\n!\n" for i, zone in enumerate(ZONES))
    bindings = "".join(f"access-group {zone.upper()}_IN in interface {zone}\n" for zone in ZONES)
    return {
        "fw.fortigate.conf": out["zoned/zoned.fgacl"], "fw.srx.conf": out["zoned/zoned.srx"],
        "fw.panos.xml": out["zoned/zoned.xml"],
        "fw.asa": asa_header + out["acls/acls.asa"].rstrip("\n") + "\n" + bindings,
        "fw-acls.asa": out["acls/acls.asa"], "fw-acl.asa": out["flat/flat.asa"],
        "fw.iptables": out["ifaces/ifaces"], "fw-flat.iptables": out["flat/flat"], "fw-flat.nft": out["flat/flat.nft"],
    }


def write_site(folder: Path, variant: Variant, drifted: bool = False, vendor: str | None = None,
               extra: dict[str, str] | None = None) -> Path:
    """The treaty folder for one variant; ``vendor`` declares another vendor than the config's own."""
    configs = render(drifted)
    files = dict(TREATY)
    files["firewalls.yaml"] = (
        "firewalls:\n"
        f"  - {{id: fw-boundary, vendor: {vendor or variant.vendor}, config: configs/{variant.file}, "
        f"platform_owner: eli, policy_owners: [eli, ana], {variant.entry}}}\n")
    files.update(extra or {})
    write_files(folder, files)
    (folder / "configs").mkdir(exist_ok=True)
    (folder / "configs" / variant.file).write_text(configs[variant.file], encoding="utf-8")
    return folder
