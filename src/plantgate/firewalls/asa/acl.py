"""One Cisco ASA access-list entry (ACE) turned into a vendor-neutral ``Rule``.

An ACE is read left to right: protocol operand, source, optional source ports,
destination, optional destination ports or ICMP type, then options (log, inactive,
time-range). Whatever the parser cannot decide never narrows the firewall: a permit is
widened toward "any" for the part that could not be read and marked uncertain; a deny
is marked uncertain (the engine then lets it match nothing). A deny that cannot be read
at all is dropped with a warning, which has the same effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from plantgate.firewalls.asa.objects import (
    PORT_OPERATORS,
    AsaSyntaxError,
    ObjectStore,
    Resolved,
    icmp_type_number,
    parse_port_operator,
    protocol_number,
)
from plantgate.firewalls.asa.tables import LOG_LEVELS
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_SERVICE,
    ICMP_PROTOCOLS,
    PORT_PROTOCOLS,
    Action,
    AddressSet,
    ParseWarning,
    PortRange,
    Rule,
    Service,
    SourceSpan,
)

OPTION_WORDS = frozenset({"log", "inactive", "time-range"})
PortSpec = list[PortRange] | Resolved  # operator ranges, or a service object/group in port position


@dataclass
class AceLine:
    """An ACE as collected in the first pass; resolved once every object is known."""

    acl: str
    line: int
    text: str
    tokens: list[str]  # from "extended"/"standard" onward
    comment: str = ""


@dataclass
class _AceState:
    """What has been read so far; on a syntax error the unread parts are widened."""

    action: Action | None = None
    protocols: list[int | None] | None = None
    service_operand: Resolved | None = None  # "object SVC" / "object-group SVCGRP" as protocol
    src: Resolved | None = None
    dst: Resolved | None = None
    services: Resolved | None = None
    enabled: bool = True
    log: bool = False
    notes: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    src_set: AddressSet | None = None
    dst_set: AddressSet | None = None


def build_rule(store: ObjectStore, ace: AceLine, position: int, file: str,
               warnings: list[ParseWarning]) -> Rule | None:
    """The Rule for ``ace`` (None for a deny too malformed to keep), warnings appended."""
    rule_id = f"{ace.acl}#{position}"
    state = _AceState()
    error = ""
    try:
        _parse(store, ace.tokens, state)
    except AsaSyntaxError as exc:
        error = str(exc)
    if error and state.action is not Action.PERMIT and state.action is not None:
        warnings.append(ParseWarning(file, ace.line, f"malformed deny ACE dropped: {error}", ace.text, True))
        return None
    action = state.action or Action.PERMIT
    src = state.src or Resolved(unknown=["source not readable"])
    dst = state.dst or Resolved(unknown=["destination not readable"])
    services = state.services
    if services is None:
        if state.protocols is not None:  # protocol read, ports not: any port of that protocol
            services = Resolved(services=[_bare(p) for p in state.protocols])
            state.notes.append("ports not readable: any port of the protocol")
        else:
            services = Resolved(unknown=["service not readable"])
    reasons = src.unknown + dst.unknown + services.unknown + state.notes
    if error:
        reasons.insert(0, f"malformed ACE: {error}")
    if reasons:
        reasons = list(dict.fromkeys(reasons))
    widen = action.permits
    sources = ANY_ADDRESS if widen and src.unknown else state.src_set or _addresses(src, "")
    destinations = ANY_ADDRESS if widen and dst.unknown else state.dst_set or _addresses(dst, "")
    service_tuple = (ANY_SERVICE,) if widen and services.unknown else _service_tuple(store, services.services)
    refs = state.refs + src.refs + dst.refs + services.refs
    if reasons:
        effect = "permit widened" if widen else "deny made uncertain (matches nothing)"
        warnings.append(ParseWarning(file, ace.line, f"{rule_id}: {effect}: " + "; ".join(reasons),
                                     ace.text, True))
    return Rule(
        rule_id=rule_id,
        position=position,
        action=action,
        span=SourceSpan(file, ace.line, ace.line, ace.text),
        sources=sources,
        destinations=destinations,
        services=service_tuple,
        enabled=state.enabled,
        log=state.log,
        comment=ace.comment,
        object_refs=tuple(dict.fromkeys(refs)) if refs else (),
        widened=tuple(reasons),
        uncertain=bool(reasons),
    )


def _service_tuple(store: ObjectStore, services: list[Service]) -> tuple[Service, ...]:
    """The ACE's services without repeats, one shared tuple per distinct list (ACEs repeat their services)."""
    written = tuple(services)
    found = store.service_tuples.get(written)
    if found is None:
        intern = store.intern
        found = store.service_tuples[written] = intern(tuple(intern(s) for s in dict.fromkeys(written)))
    return found


def _addresses(resolved: Resolved, name: str) -> AddressSet:
    return AddressSet(tuple(dict.fromkeys(resolved.nets)), names=(name,) if name else ())


def _address_operand(store: ObjectStore, tokens: list[str], i: int) -> tuple[Resolved, int, AddressSet]:
    """``store.address_operand`` and its AddressSet, once per written form (the next two tokens).

    Resolved operands are shared between ACEs and must not be modified.
    """
    key = (tokens[i], tokens[i + 1] if i + 1 < len(tokens) else "") if i < len(tokens) else ("", "")
    hit = store.operands.get(key)
    if hit is None:
        resolved, end = store.address_operand(tokens, i)
        hit = store.operands[key] = (resolved, end - i, _addresses(resolved, _operand_name(tokens, i)))
    return hit[0], i + hit[1], hit[2]


def _bare(protocol: int | None) -> Service:
    return Service(protocol) if protocol is not None else ANY_SERVICE


def _parse(store: ObjectStore, tokens: list[str], state: _AceState) -> None:
    if len(tokens) < 2 or tokens[1] not in ("permit", "deny"):
        raise AsaSyntaxError("expected 'permit' or 'deny'")
    state.action = Action.PERMIT if tokens[1] == "permit" else Action.DENY
    if tokens[0] == "standard":  # standard ACLs match the destination only
        state.protocols, state.src = [None], Resolved(nets=list(ANY_ADDRESS.include))
        state.services = Resolved(services=[ANY_SERVICE])
        state.dst, end, state.dst_set = _address_operand(store, tokens, 2)
        if end != len(tokens):
            raise AsaSyntaxError(f"unexpected {tokens[end]!r} in a standard ACE")
        return
    i = _protocol_operand(store, tokens, 2, state)
    state.src, i, state.src_set = _address_operand(store, tokens, i)
    src_ports, i = _port_operand(store, tokens, i, state)
    state.dst, i, state.dst_set = _address_operand(store, tokens, i)
    dst_ports, i = _port_operand(store, tokens, i, state)
    icmp: Resolved | None = None
    if dst_ports is None:
        icmp, i = _icmp_operand(store, tokens, i, state)
    state.services = _assemble(state, src_ports, dst_ports, icmp)
    _options(tokens, i, state)


def _operand_name(tokens: list[str], i: int) -> str:
    if i + 1 < len(tokens) and tokens[i] in ("object", "object-group"):
        return tokens[i + 1]
    return ""


def _protocol_operand(store: ObjectStore, tokens: list[str], i: int, state: _AceState) -> int:
    if i >= len(tokens):
        raise AsaSyntaxError("expected a protocol")
    tok = tokens[i]
    if tok in ("object", "object-group"):
        if i + 1 >= len(tokens):
            raise AsaSyntaxError(f"'{tok}' needs a name")
        name = tokens[i + 1]
        if tok == "object-group" and name in store.protocol_groups:
            resolved = store.protocols(name)
            state.refs += resolved.refs
            if resolved.unknown:
                state.notes += resolved.unknown
            state.protocols = list(dict.fromkeys(resolved.protocols))
        else:  # a service object or group standing for protocol and ports
            state.service_operand = store.services(name)
        return i + 2
    state.protocols = [protocol_number(tok)]
    return i + 1


def _port_operand(store: ObjectStore, tokens: list[str], i: int,
                  state: _AceState) -> tuple[PortSpec | None, int]:
    if i >= len(tokens) or state.protocols is None:
        return None, i
    tok = tokens[i]
    if tok in PORT_OPERATORS:
        return parse_port_operator(tokens, i)
    if tok in ("object", "object-group") and i + 1 < len(tokens) and store.is_service(tokens[i + 1]):
        return store.services(tokens[i + 1]), i + 2
    return None, i


def _icmp_operand(store: ObjectStore, tokens: list[str], i: int,
                  state: _AceState) -> tuple[Resolved | None, int]:
    icmp_protos = [p for p in state.protocols or [] if p in ICMP_PROTOCOLS]
    if i >= len(tokens) or not icmp_protos or tokens[i] in OPTION_WORDS:
        return None, i
    if tokens[i] == "object-group" and i + 1 < len(tokens):
        return store.icmp_types(tokens[i + 1]), i + 2
    proto = icmp_protos[0]
    assert proto is not None
    number = icmp_type_number(tokens[i], proto)
    if number is None:
        raise AsaSyntaxError(f"expected an ICMP type or an option, got {tokens[i]!r}")
    out = Resolved(icmp_types=[number])
    i += 1
    if i < len(tokens) and is_decimal(tokens[i]):
        out.protocols = [int(tokens[i])]  # carries the ICMP code
        i += 1
    return out, i


def _assemble(state: _AceState, src_ports: PortSpec | None, dst_ports: PortSpec | None,
              icmp: Resolved | None) -> Resolved:
    """The services of the ACE from its protocol operand and port/ICMP operands."""
    if state.service_operand is not None:
        if src_ports is not None or dst_ports is not None:
            raise AsaSyntaxError("ports given after a service object")
        return state.service_operand
    out = Resolved()
    for spec in (src_ports, dst_ports, icmp):
        if isinstance(spec, Resolved):
            out.unknown += spec.unknown
            out.refs += spec.refs
    for proto in state.protocols or []:
        if proto is None:
            if src_ports is not None or dst_ports is not None:
                raise AsaSyntaxError("ports need tcp, udp or sctp")
            out.services.append(ANY_SERVICE)
        elif proto in PORT_PROTOCOLS:
            src = _ranges_for(src_ports, proto, out)
            dst = _ranges_for(dst_ports, proto, out)
            if src is not None and dst is not None:
                out.services.append(Service(proto, tuple(src), tuple(dst)))
        elif proto in ICMP_PROTOCOLS and icmp is not None:
            code = icmp.protocols[0] if icmp.protocols else None
            out.services += [Service(proto, icmp_type=t, icmp_code=code) for t in icmp.icmp_types]
        else:
            out.services.append(Service(proto))
    return out


def _ranges_for(spec: PortSpec | None, proto: int, out: Resolved) -> list[PortRange] | None:
    """Port ranges of ``spec`` for ``proto``: [] is any port, None means no match for it."""
    if spec is None:
        return []
    if isinstance(spec, list):
        return spec
    ranges: list[PortRange] = []
    matched = False
    for svc in spec.services:
        if svc.protocol is None:
            return []
        if svc.protocol != proto:
            continue
        if svc.src_ports:
            out.unknown.append(f"service {svc.name} with source ports used in a port position")
        if not svc.dst_ports:
            return []
        matched = True
        ranges += svc.dst_ports
    return ranges if matched else None


def _options(tokens: list[str], i: int, state: _AceState) -> None:
    while i < len(tokens):
        tok = tokens[i]
        if tok == "log":
            state.log = True
            i += 1
            while i < len(tokens) and (is_decimal(tokens[i]) or tokens[i] in LOG_LEVELS
                                       or tokens[i] == "interval"):
                if tokens[i] == "disable":
                    state.log = False
                i += 2 if tokens[i] == "interval" else 1
        elif tok == "inactive":
            state.enabled = False
            i += 1
        elif tok == "time-range" and i + 1 < len(tokens):
            state.notes.append(f"time-range {tokens[i + 1]} treated as always active")
            i += 2
        else:
            state.notes.append(f"unknown ACE option {tok!r}")
            i += 1
