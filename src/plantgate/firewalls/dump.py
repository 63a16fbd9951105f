"""A plain, stable JSON form of a Ruleset: golden files, ``fw show --format json``, debugging.

Rules of a large config name the same address sets and services thousands of times (the
parsers intern them), and writing an address as text is the costly part of the dump, so
``ruleset_to_dict`` converts each distinct address set and service once and shares the
result between the rules that use it. The dump is read-only data: nothing may mutate it.
It is hundreds of thousands of new dicts and lists without a reference cycle, so it is built
with the garbage collector paused (``gc_pause``), as a parse is: the collector's scans of
them found nothing and cost 40 % of the dump of a 20,000-term FortiGate config.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from plantgate.firewalls.gc_pause import with_collector_paused
from plantgate.firewalls.nat import NatRule, Translation
from plantgate.firewalls.ruleset import AddressSet, Rule, Ruleset, Service

K = TypeVar("K", bound=Hashable)


def _memo(convert: Callable[[K], Any]) -> Callable[[K], Any]:
    """``convert`` remembered by identity, then by value (equal sets built apart convert once too)."""
    by_id: dict[int, tuple[K, Any]] = {}
    by_value: dict[K, Any] = {}

    def converted(item: K) -> Any:
        hit = by_id.get(id(item))
        if hit is not None and hit[0] is item:
            return hit[1]
        value = by_value.get(item)
        if value is None:
            value = by_value[item] = convert(item)
        by_id[id(item)] = (item, value)
        return value

    return converted


def _addresses(a: AddressSet) -> dict[str, Any]:
    out: dict[str, Any] = {"include": [str(n) for n in a.include]}
    if a.exclude:
        out["exclude"] = [str(n) for n in a.exclude]
    if a.names:
        out["names"] = list(a.names)
    return out


def _service(s: Service) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": s.protocol}
    if s.src_ports:
        out["src_ports"] = [list(r) for r in s.src_ports]
    if s.dst_ports:
        out["dst_ports"] = [list(r) for r in s.dst_ports]
    if s.icmp_type is not None:
        out["icmp_type"] = s.icmp_type
    if s.icmp_code is not None:
        out["icmp_code"] = s.icmp_code
    if s.name:
        out["name"] = s.name
    return out


def _matching(rule: Rule | NatRule, addresses: Callable[[AddressSet], dict[str, Any]],
              service: Callable[[Service], dict[str, Any]], kind: dict[str, Any]) -> dict[str, Any]:
    """What a filter or NAT rule is and matches, ``kind`` (its action or NAT stage) after its place."""
    return {"id": rule.rule_id, "position": rule.position, **kind, "line": rule.span.line,
            "end_line": rule.span.end_line, "sources": addresses(rule.sources),
            "destinations": addresses(rule.destinations), "services": [service(s) for s in rule.services]}


def rule_to_dict(rule: Rule, addresses: Callable[[AddressSet], dict[str, Any]] = _addresses,
                 service: Callable[[Service], dict[str, Any]] = _service) -> dict[str, Any]:
    out = _matching(rule, addresses, service, {"action": rule.action.value, "enabled": rule.enabled})
    optional: dict[str, Any] = {
        "source_negate": rule.source_negate,
        "destination_negate": rule.destination_negate,
        "service_negate": rule.service_negate,
        "from_zones": list(rule.from_zones),
        "to_zones": list(rule.to_zones),
        "applications": list(rule.applications),
        "log": rule.log,
        "comment": rule.comment,
        "widened": list(rule.widened),
        "stateful_return_only": rule.stateful_return_only,
        "uncertain": rule.uncertain,
    }
    out.update({k: v for k, v in optional.items() if v})
    return out


def _translation(t: Translation, addresses: Callable[[AddressSet], dict[str, Any]]) -> dict[str, Any] | None:
    if t.is_identity:
        return None
    out: dict[str, Any] = {}
    if t.addresses is not None:
        mapping = t.addresses
        out["addresses"] = {"pool": addresses(mapping.pool)} if mapping.pool is not None else {
            "prefix": str(mapping.prefix)}
    if t.ports is not None:
        out["ports"] = {"to": list(t.ports.to)} | ({"shift": t.ports.shift} if t.ports.shift is not None else {})
    return out


def nat_rule_to_dict(rule: NatRule, addresses: Callable[[AddressSet], dict[str, Any]] = _addresses,
                     service: Callable[[Service], dict[str, Any]] = _service) -> dict[str, Any]:
    out = _matching(rule, addresses, service, {"stage": rule.stage.value, "kind": rule.kind})
    optional: dict[str, Any] = {
        "from_zones": list(rule.from_zones),
        "to_zones": list(rule.to_zones),
        "source": _translation(rule.source, addresses),
        "destination": _translation(rule.destination, addresses),
        "widened": list(rule.widened),
        "uncertain": rule.uncertain,
    }
    out.update({k: v for k, v in optional.items() if v})
    return out


@with_collector_paused
def ruleset_to_dict(ruleset: Ruleset, *, with_text: bool = False) -> dict[str, Any]:
    """Everything an analysis reads, in a deterministic order (file paths left out)."""
    filters = []
    addresses, service = _memo(_addresses), _memo(_service)
    for flt in ruleset.filters.values():
        rules = []
        for rule in flt.rules:
            d = rule_to_dict(rule, addresses, service)
            if with_text:
                d["text"] = rule.span.text
            rules.append(d)
        filters.append({"name": flt.name, "default_action": flt.default_action.value, "rules": rules})
    return {
        "name": ruleset.name,
        "vendor": ruleset.vendor,
        "zones": list(ruleset.zones),
        "filters": filters,
        "paths": [
            {"from_zone": a, "to_zone": b, "filters": list(names)}
            for (a, b), names in sorted(ruleset.paths.items())
        ],
        "default_path_action": ruleset.default_path_action.value,
        "objects": sorted(
            ({"name": o.name, "kind": o.kind, "line": o.span.line} for o in ruleset.objects.values()),
            key=lambda o: (o["kind"], o["name"]),
        ),
        "warnings": [{"line": w.line, "message": w.message, "widened": w.widened} for w in ruleset.warnings],
        "nat_lines": [s.line for s in ruleset.nat_statements],
    } | _nat_fields(ruleset, addresses, service, with_text)


def _nat_fields(ruleset: Ruleset, addresses: Callable[[AddressSet], dict[str, Any]],
                service: Callable[[Service], dict[str, Any]], with_text: bool) -> dict[str, Any]:
    """The modelled NAT rules and what the policy sees, only where there is something to say
    (dumps of configs without modelled NAT stay as they were)."""
    out: dict[str, Any] = {}
    if ruleset.nat_rules:
        out["nat_rules"] = [nat_rule_to_dict(rule, addresses, service)
                            | ({"text": rule.span.text} if with_text else {}) for rule in ruleset.nat_rules]
    if ruleset.policy_sees != "translated":
        out["policy_sees"] = ruleset.policy_sees
    return out
