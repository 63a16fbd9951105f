"""Small constructors for hand-built Rules, Filters and Rulesets in the netspace tests."""

from __future__ import annotations

import ipaddress

from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_SERVICE,
    Action,
    AddressSet,
    Filter,
    Rule,
    Ruleset,
    Service,
    SourceSpan,
    address_set,
)
from plantgate.netspace.flow import Flow

_line = [0]


def addrs(*items: str, exclude: tuple[str, ...] = ()) -> AddressSet:
    """An AddressSet from CIDR strings; no items means any."""
    if not items:
        return ANY_ADDRESS
    base = address_set(items)
    return AddressSet(base.include, tuple(ipaddress.ip_network(e, strict=False) for e in exclude))


def rule(
    rule_id: str,
    action: str = "permit",
    src: AddressSet = ANY_ADDRESS,
    dst: AddressSet = ANY_ADDRESS,
    services: tuple[Service, ...] = (ANY_SERVICE,),
    **extra: object,
) -> Rule:
    """A Rule on its own fresh line of ``test.conf``."""
    _line[0] += 1
    line = _line[0]
    return Rule(
        rule_id=rule_id,
        position=line,
        action=Action(action),
        span=SourceSpan("test.conf", line, line, f"{action} {rule_id}"),
        sources=src,
        destinations=dst,
        services=services,
        **extra,  # type: ignore[arg-type]
    )


def filt(name: str, *rules: Rule, default: str = "deny") -> Filter:
    return Filter(name, list(rules), Action(default))


def ruleset(*filters: Filter, paths: dict[tuple[str, str], tuple[str, ...]] | None = None,
            zones: tuple[str, ...] = (), default_path: str = "deny") -> Ruleset:
    rs = Ruleset(name="test", vendor="test", file="test.conf", zones=list(zones))
    rs.filters = {f.name: f for f in filters}
    rs.paths = dict(paths or {})
    rs.default_path_action = Action(default_path)
    return rs


def flow(src: str, dst: str, proto: int = 6, sport: int = 0, dport: int = 0, icmp_type: int = 0,
         icmp_code: int = 0) -> Flow:
    return Flow(ipaddress.ip_address(src), ipaddress.ip_address(dst), proto, sport, dport, icmp_type, icmp_code)
