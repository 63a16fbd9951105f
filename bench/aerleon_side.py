"""The Aerleon side of the side-by-side: the same policy as an Aerleon policy, its ASA rendering, packets.

Why it exists: the brief asks how ``plantgate fw test --packets`` compares with Aerleon's
``aclcheck`` on an equivalent policy. "Equivalent" is made literal here: the policy is
built once as an Aerleon policy (definitions + terms, in memory), Aerleon's own
``ciscoasa`` generator renders it, and PlantGate parses that rendering. Both tools then
answer the same packets, and the benchmark counts their disagreements (there must be none).

Mapping of a ``PolicyRule`` to terms: one term per protocol the rule's service covers
(Aerleon multiplies a term's protocols by its ports, so a mixed tcp/udp group would widen
otherwise); the protocol terms of one rule are disjoint, so first-match order is kept.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from aerleon import api
from aerleon.lib import aclcheck, naming, policy, policy_builder
from plant_model import AddrRef, PlantPolicy, address_networks, service_ports

FILTER_NAME = "bench_acl"


def _token(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text).upper()


def _address_name(ref: AddrRef, networks: dict[str, Any], policy_model: PlantPolicy) -> str | None:
    if ref.kind == "any":
        return None
    name = _token(f"{ref.kind}_{ref.value}")
    if name not in networks:
        values = [{"address": str(n)} for n in address_networks(policy_model, ref)]
        networks[name] = {"values": values}
    return name


def build_aerleon_policy(model: PlantPolicy) -> tuple[dict[str, Any], naming.Naming]:
    """(policy dict for ``aerleon.api``, definitions) with one ciscoasa filter of all rules in order."""
    networks: dict[str, Any] = {}
    services: dict[str, list[dict[str, str]]] = {}
    terms: list[dict[str, Any]] = []
    for rule in model.rules:
        by_protocol: dict[str, list[tuple[int, int]]] = {}
        for protocol, low, high in service_ports(model, rule.service):
            by_protocol.setdefault(protocol, []).append((low, high))
        src = _address_name(rule.source, networks, model)
        dst = _address_name(rule.destination, networks, model)
        for protocol, ports in by_protocol.items():
            term: dict[str, Any] = {"name": f"r{rule.number}-{protocol}", "action": "accept" if rule.permit else "deny"}
            if src:
                term["source-address"] = src
            if dst:
                term["destination-address"] = dst
            if protocol != "ip":
                term["protocol"] = protocol
            real_ports = [(lo, hi) for lo, hi in ports if (lo, hi) != (0, 65535)]
            if real_ports and len(real_ports) == len(ports):
                service = _token("svc_" + protocol + "_" + "_".join(f"{lo}-{hi}" for lo, hi in real_ports))
                services[service] = [{"protocol": protocol, "port": str(lo) if lo == hi else f"{lo}-{hi}"}
                                     for lo, hi in real_ports]
                term["destination-port"] = service
            terms.append(term)
    definitions = naming.Naming()
    definitions.ParseDefinitionsObject({"networks": networks, "services": services}, "bench-definitions")
    policy_dict = {"filename": "bench_policy",
                   "filters": [{"header": {"targets": {"ciscoasa": FILTER_NAME}}, "terms": terms}]}
    return policy_dict, definitions


def render_asa(policy_dict: dict[str, Any], definitions: naming.Naming) -> str:
    """Aerleon's own ciscoasa rendering of the policy."""
    generated = api.Generate([policy_dict], definitions)  # type: ignore[list-item]
    assert generated is not None
    return generated["bench_policy.asa"]


def load_policy(policy_dict: dict[str, Any], definitions: naming.Naming) -> policy.Policy:
    """The parsed Aerleon policy object that ``AclCheck`` walks."""
    return policy.FromBuilder(policy_builder.PolicyBuilder(policy_dict, definitions))  # type: ignore[arg-type]


def make_packets(model: PlantPolicy, count: int, seed: int = 11) -> list[dict[str, str | int]]:
    """``count`` packets: most aimed inside some rule's fields (so rules decide), the rest random."""
    rng = random.Random(seed)
    rows: list[dict[str, str | int]] = []
    everything = ipaddress.IPv4Network("10.0.0.0/8")

    def inside(nets: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Address:
        net = rng.choice(nets)
        if net.prefixlen == 0:
            net = everything
        return net[rng.randrange(net.num_addresses)]

    while len(rows) < count:
        if rng.random() < 0.8:
            rule = rng.choice(model.rules)
            src = inside(address_networks(model, rule.source))
            dst = inside(address_networks(model, rule.destination))
            protocol, low, high = rng.choice(service_ports(model, rule.service))
            if protocol == "ip":
                protocol = rng.choice(("tcp", "udp", "icmp"))
            dport = rng.randint(low, high) if rng.random() < 0.9 else rng.randint(1, 65535)
        else:
            src, dst = inside([everything]), inside([everything])
            protocol, dport = rng.choice(("tcp", "udp", "icmp")), rng.randint(1, 65535)
        has_ports = protocol in ("tcp", "udp")
        rows.append({"src": str(src), "dst": str(dst), "proto": protocol,
                     "sport": rng.randint(1024, 65535) if has_ports else 0, "dport": dport if has_ports else 0})
    return rows


def aclcheck_permits(pol: policy.Policy, row: dict[str, str | int]) -> bool:
    """Aerleon's answer for one packet: the first exact match's action, else the implicit deny."""
    has_ports = row["proto"] in ("tcp", "udp")
    check = aclcheck.AclCheck(pol, str(row["src"]), str(row["dst"]),
                              int(row["sport"]) if has_ports else "any",
                              int(row["dport"]) if has_ports else "any", str(row["proto"]))
    exact = check.ExactMatches()
    return bool(exact) and "accept" in exact[0].action
