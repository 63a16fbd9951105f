"""One Aerleon policy, held in memory, and its renderings for every vendor PlantGate parses.

The differential tests need a policy that a third party (Aerleon) turns into vendor
syntax, so that PlantGate's parsers are checked against each other and against Aerleon's
own ``aclcheck`` instead of against our own reading of each vendor. The policy is small
but exercises what parsers get wrong: overlapping networks, an exclude that is not masked
by an earlier term, TCP/UDP ports and ranges, a source-port range, a term with two
protocols, ICMP types, a deny term that shadows part of a later accept, and a final deny.

Only plain data and Aerleon calls live here; the assertions live in ``test_aerleon``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, cast

from aerleon.api import Generate
from aerleon.lib import naming, policy, policy_builder

FROM_ZONE = "corp"
TO_ZONE = "ot"
ZONE_HEADER = f"from-zone {FROM_ZONE} to-zone {TO_ZONE}"

ASA_ACL = "OT_IN"
SPEEDWAY_CHAIN = "INPUT"
IPTABLES_CHAIN = "FORWARD"
NFT_TABLE = "filtering_policies"  # the table name Aerleon's nftables generator always uses

NETWORKS: dict[str, list[str]] = {
    "CORP": ["10.0.0.0/8"],
    "CORP_GUEST": ["10.99.0.0/16"],
    "CORP_PRINTERS": ["10.20.0.0/16"],
    "CORP_DNS": ["10.0.0.53/32"],
    "JUMP_HOSTS": ["10.1.1.0/28"],
    "OT_NETS": ["172.16.0.0/16", "172.16.5.0/24"],  # deliberately overlapping
    "SCADA": ["172.16.1.0/24"],
    "HISTORIAN": ["172.16.5.10/32"],
}

SERVICES: dict[str, list[tuple[str, str]]] = {
    "HTTPS": [("443", "tcp")],
    "OPCUA": [("4840-4843", "tcp")],
    "MODBUS": [("502", "tcp")],
    "RDP": [("3389", "tcp")],
    "SNMP": [("161-162", "udp")],
    "HIGH_PORTS": [("1024-65535", "udp")],
    "DNS": [("53", "udp"), ("53", "tcp")],
}

ICMP_TYPES = {"echo-request": 8, "timestamp-request": 13}
"""The ICMP types the ping term names. Two, not one: Aerleon 1.18's nftables generator
crashes on a single icmp-type (TypeError in PortsAndProtocols: ``Add(list)``)."""

HISTORIAN_TCP_PORTS = ((443, 443), (4840, 4843))
"""Destination ports of the ``historian`` term (HTTPS and OPCUA above)."""

TERMS: list[dict[str, Any]] = [
    {"name": "deny-guest", "source-address": "CORP_GUEST", "action": "deny"},
    {
        "name": "historian",
        "source-address": "CORP",
        "source-exclude": "CORP_PRINTERS",
        "destination-address": "HISTORIAN",
        "protocol": "tcp",
        "destination-port": "HTTPS OPCUA",
        "action": "accept",
    },
    {
        "name": "deny-modbus-from-corp",
        "source-address": "CORP",
        "destination-address": "OT_NETS",
        "protocol": "tcp",
        "destination-port": "MODBUS",
        "action": "deny",
    },
    {
        "name": "jump-hosts",
        "source-address": "JUMP_HOSTS",
        "destination-address": "SCADA",
        "protocol": "tcp",
        "destination-port": "RDP MODBUS",  # the MODBUS half is shadowed by the deny above
        "action": "accept",
    },
    {
        "name": "snmp-polling",
        "source-address": "CORP",
        "destination-address": "OT_NETS",
        "protocol": "udp",
        "source-port": "HIGH_PORTS",
        "destination-port": "SNMP",
        "action": "accept",
    },
    {
        "name": "dns",
        "destination-address": "CORP_DNS",
        "protocol": "tcp udp",
        "destination-port": "DNS",
        "action": "accept",
    },
    {
        "name": "ping",
        "source-address": "CORP",
        "destination-address": "OT_NETS",
        "protocol": "icmp",
        "icmp-type": " ".join(ICMP_TYPES),
        # Aerleon 1.18's FortiGate generator cannot render ICMP and port services in one
        # policy (TypeError: sorted() of FortigateIcmpService and FortigateIPService), so
        # the term is left out of the FortiGate rendering and the tests compare FortiGate
        # on non-ICMP flows only.
        "platform-exclude": "fortigate",
        "action": "accept",
    },
    {"name": "default-deny", "action": "deny"},
]

ACL_TARGETS = {
    "ciscoasa": ASA_ACL,
    "speedway": f"{SPEEDWAY_CHAIN} DROP",
    "iptables": f"{IPTABLES_CHAIN} DROP",
    # "mixed" makes a "table inet", which sees IPv4 and IPv6; "inet" would make a
    # "table ip" that leaves IPv6 unfiltered and so differs from the other renderings.
    "nftables": "mixed forward",
}
ZONE_TARGETS = {"srx": ZONE_HEADER, "paloalto": ZONE_HEADER, "fortigate": ZONE_HEADER}

RENDERED_FILES = {
    # Aerleon target -> the file name Generate returns for the policy named "differential"
    "ciscoasa": "differential.asa",
    "speedway": "differential.ipt",
    "iptables": "differential",
    "nftables": "differential.nft",
    "srx": "differential.srx",
    "paloalto": "differential.xml",
    "fortigate": "differential.fgacl",
}


def definitions() -> naming.Naming:
    """The network and service definitions as an Aerleon Naming object."""
    data = {
        "networks": {
            name: {"values": [{"address": a} for a in addresses]} for name, addresses in NETWORKS.items()
        },
        "services": {
            name: [{"port": port, "protocol": proto} for port, proto in entries]
            for name, entries in SERVICES.items()
        },
    }
    defs = naming.Naming()
    defs.ParseDefinitionsObject(data, "")
    return defs


def policy_dict(targets: dict[str, str], name: str = "differential") -> policy_builder.PolicyDict:
    """The policy with one filter carrying ``targets`` (Aerleon target -> header options)."""
    data = {"filename": name, "filters": [{"header": {"targets": dict(targets)}, "terms": copy.deepcopy(TERMS)}]}
    return cast(policy_builder.PolicyDict, data)


def full_policy() -> policy_builder.PolicyDict:
    """Both filters: the ACL-style targets and the zone-based targets, same terms."""
    return cast(policy_builder.PolicyDict, {
        "filename": "differential",
        "filters": [
            {"header": {"targets": dict(ACL_TARGETS)}, "terms": copy.deepcopy(TERMS)},
            {"header": {"targets": dict(ZONE_TARGETS)}, "terms": copy.deepcopy(TERMS)},
        ],
    })


def render_all(directory: Path) -> dict[str, Path]:
    """Render every target with Aerleon's Generate API and write the files; target -> path."""
    configs = Generate([full_policy()], definitions())
    if configs is None:
        raise AssertionError("aerleon Generate returned nothing")
    missing = sorted(set(RENDERED_FILES.values()) - set(configs))
    if missing:
        raise AssertionError(f"aerleon did not render {missing}; it rendered {sorted(configs)}")
    paths = {}
    for target, file_name in RENDERED_FILES.items():
        path = directory / file_name
        path.write_text(configs[file_name], encoding="utf-8")
        paths[target] = path
    return paths


def aclcheck_policy() -> policy.Policy:
    """The single-filter policy object for ``aclcheck``, with excludes applied.

    ``aclcheck.AclCheck`` matches ``term.source_address`` and never reads
    ``source_address_exclude`` (aerleon 1.18: 10.20.1.1 -> HISTORIAN tcp/443 is reported as
    accepted by the ``historian`` term although every generator excludes CORP_PRINTERS).
    Aerleon's own ``Term.FlattenAll()`` folds the excludes into the addresses, which makes
    aclcheck's answer the one the generators implement.
    """
    built = policy.FromBuilder(policy_builder.PolicyBuilder(policy_dict({"ciscoasa": ASA_ACL}), definitions()))
    for _header, terms in built.filters:
        for term in terms:
            term.FlattenAll()
    return built
