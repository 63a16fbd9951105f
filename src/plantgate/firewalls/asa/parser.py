"""Cisco ASA ``show running-config`` (or a bare access-list fragment) -> Ruleset.

Why a module of its own: ASA decides what crosses the box from three things that live
far apart in the config - ACLs bound with ``access-group`` (per interface in/out, or
``global``), the interfaces' ``security-level``, and ``same-security-traffic``. This
module reads the config in two passes (definitions first, so forward references work,
then every ACE against the finished object store) and turns the three into
``Ruleset.paths`` with explicit synthetic filters for the implicit behaviour.

Zone semantics (checked against the Cisco ASA configuration guide and Batfish's ASA model):
- zones are the ``nameif`` names; ``security-level`` defaults to 100 for ``inside``, else 0;
- a flow from A to B first meets A's inbound filter: the interface ``in`` ACL followed by
  the ``global`` ACL (ASA order: interface rules, global rules, then the implicit deny),
  modelled as one combined filter ``combined:<in>+<global>`` that reuses the original rules;
- with no inbound ACL at all, the security levels decide: higher -> lower permitted,
  lower -> higher denied (filters ``implicit:security-level A(x)->B(y)``);
- between equal levels traffic is denied unless ``same-security-traffic permit
  inter-interface``, whatever the ACLs say (``implicit:same-security ...``);
- then B's ``out`` ACL, if any;
- hairpin pairs (A, A) exist only with ``same-security-traffic permit intra-interface``.
NAT (8.3 and later) is read by ``asa/nat.py`` into ``Ruleset.nat_rules``; pre-8.3 statements
(``static``, ``global``, ``nat (inside) 1 ...``) go to ``Ruleset.nat_statements``, unmodelled.
Interface addresses and static routes are read by ``asa/routes.py``; every line also goes to
``asa/gaps.py``, which finds what makes them incomplete (``Ruleset.routing_gaps``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace

from plantgate.errors import InputError
from plantgate.firewalls.asa.acl import AceLine, build_rule
from plantgate.firewalls.asa.detect import confidence
from plantgate.firewalls.asa.gaps import RoutingGapReader
from plantgate.firewalls.asa.nat import NatLine, NatReader
from plantgate.firewalls.asa.objects import AsaSyntaxError, ObjectStore, parse_ip
from plantgate.firewalls.asa.routes import interface_address, ipv6_interface_address, static_route
from plantgate.firewalls.asa.tables import HARMLESS_COMMANDS
from plantgate.firewalls.base import require_understood
from plantgate.firewalls.gc_pause import with_collector_paused
from plantgate.firewalls.limits import is_decimal
from plantgate.firewalls.routes import Interface as L3Interface
from plantgate.firewalls.routes import IPInterface
from plantgate.firewalls.ruleset import (
    Action,
    Filter,
    NamedObject,
    ParseWarning,
    Rule,
    Ruleset,
    SourceSpan,
)

MANAGEMENT_TABLE = "management"
"""The routing table of management-only interfaces (ASA 9.5+), apart from the data table ("")."""
FREE_TEXT_COMMANDS = frozenset({"remark", "description", "name", "banner"})
OBJECT_KINDS = {"network": "address", "service": "service"}
GROUP_KINDS = {
    "network": "address-group", "service": "service-group",
    "protocol": "protocol-group", "icmp-type": "icmp-group",
}


@dataclass
class Interface:
    """One ``interface`` block: its nameif (the zone), security level and addresses (with their lines)."""

    hardware: str
    line: int
    nameif: str = ""
    level: int | None = None
    addresses: list[IPInterface] = field(default_factory=list)
    evidence: list[tuple[int, str]] = field(default_factory=list)
    management_only: bool = False

    @property
    def security_level(self) -> int:
        if self.level is not None:
            return self.level
        return 100 if self.nameif == "inside" else 0


@dataclass
class _Block:
    """The top-level command whose indented sub-lines are being read."""

    kind: str
    name: str = ""
    extra: str = ""
    start: int = 0
    lines: list[str] = field(default_factory=list)
    end: int = 0


@dataclass
class _Binding:
    acl: str
    line: int


@dataclass
class _ParseState:
    file: str
    ruleset: Ruleset
    store: ObjectStore = field(default_factory=ObjectStore)
    interfaces: list[Interface] = field(default_factory=list)
    aces: dict[str, list[AceLine]] = field(default_factory=dict)
    acl_lines: dict[str, int] = field(default_factory=dict)
    remarks: dict[str, list[str]] = field(default_factory=dict)
    bind_in: dict[str, _Binding] = field(default_factory=dict)
    bind_out: dict[str, _Binding] = field(default_factory=dict)
    bind_global: _Binding | None = None
    inter_interface: bool = False
    intra_interface: bool = False
    block: _Block | None = None
    nat_lines: list[NatLine] = field(default_factory=list)
    gaps: RoutingGapReader = field(init=False)

    def __post_init__(self) -> None:
        self.gaps = RoutingGapReader(self.file)

    def warn(self, line: int, message: str, text: str, widened: bool = False) -> None:
        self.ruleset.warnings.append(ParseWarning(self.file, line, message, text, widened))


class AsaParser:
    """The ``FirewallParser`` for Cisco ASA."""

    vendor = "asa"

    def detect(self, text: str) -> float:
        return confidence(text)

    @with_collector_paused
    def parse(self, text: str, file: str) -> Ruleset:
        if "\x00" in text or _mostly_binary(text):
            raise InputError.at(file, 1, 1, "this is not a text file", "a Cisco ASA running-config")
        name = file.rsplit("/", 1)[-1]
        state = _ParseState(file, Ruleset(name=name, vendor=self.vendor, file=file))
        for number, raw in enumerate(text.splitlines(), start=1):
            _read_line(state, number, raw.rstrip())
        _close_block(state)
        _build_filters(state)
        _build_paths(state)
        _build_interfaces(state)
        _build_nat(state)
        state.ruleset.routing_gaps = state.gaps.finish(
            {rule.span.line for rule in state.ruleset.nat_rules if rule.sets_egress})
        state.ruleset.warnings.sort(key=lambda w: w.line)
        return require_understood(state.ruleset, "a Cisco ASA running-config or access-list lines")


def _mostly_binary(text: str) -> bool:
    sample = text[:4096]
    if not sample:
        return False
    odd = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f")
    return odd > len(sample) // 10


def _read_line(state: _ParseState, number: int, raw: str) -> None:
    stripped = raw.strip()
    if not stripped or stripped.startswith("!") or stripped.startswith(":"):
        if not raw.startswith(" "):
            _close_block(state)
            state.gaps.end_block()
        return
    tokens = stripped.split()
    if tokens[0] not in FREE_TEXT_COMMANDS and "!" in tokens:  # trailing "! comment"
        tokens = tokens[: tokens.index("!")]
    if raw[0] in " \t":
        state.gaps.sub_line(number, raw, tokens)
        _read_sub_line(state, number, raw, tokens)
        return
    _close_block(state)
    state.gaps.top_level(number, raw, tokens)
    try:
        _read_command(state, number, raw, tokens)
    except AsaSyntaxError as exc:
        state.warn(number, f"ignored malformed line: {exc}", raw)
        if tokens[0] == "route" or tokens[:2] == ["ipv6", "route"]:
            state.gaps.unread(number, raw, "static route", str(exc))


def _read_command(state: _ParseState, number: int, raw: str, tokens: list[str]) -> None:
    head = tokens[0]
    if head == "access-list":
        _access_list(state, number, raw, tokens)
    elif head == "interface" and len(tokens) >= 2:
        state.interfaces.append(Interface(tokens[1], number, evidence=[(number, raw)]))
        state.block = _Block("interface", tokens[1], start=number)
    elif head == "object" and len(tokens) >= 3 and tokens[1] in OBJECT_KINDS:
        _open_object(state, number, raw, tokens)
    elif head == "object-group" and len(tokens) >= 3:
        _open_group(state, number, raw, tokens)
    elif head == "name" and len(tokens) >= 3:
        net = parse_ip(tokens[1], {})
        state.store.names[tokens[2]] = net
        state.ruleset.objects[tokens[2]] = NamedObject(tokens[2], "name", SourceSpan(state.file, number,
                                                                                      number, raw))
    elif head == "access-group":
        _access_group(state, number, raw, tokens)
    elif head == "same-security-traffic" and tokens[1:3] == ["permit", "inter-interface"]:
        state.inter_interface = True
    elif head == "same-security-traffic" and tokens[1:3] == ["permit", "intra-interface"]:
        state.intra_interface = True
    elif head == "nat":
        state.nat_lines.append(NatLine(number, raw, tokens))
    elif head in ("static", "global"):  # pre-8.3 NAT
        state.ruleset.nat_statements.append(SourceSpan(state.file, number, number, raw))
    elif head == "clear" and tokens[1:3] == ["configure", "access-list"] and len(tokens) == 4:
        state.aces.pop(tokens[3], None)  # pasting a fragment replaces the ACL
        state.remarks.pop(tokens[3], None)
    elif head == "time-range" and len(tokens) == 2:
        state.block = _Block("ignored", tokens[1], start=number)  # rules using it warn themselves
    elif head == "route" or tokens[:2] == ["ipv6", "route"]:
        state.ruleset.routes.append(static_route(tokens, state.store.names, SourceSpan(state.file, number, number,
                                                                                          raw)))
    elif head in HARMLESS_COMMANDS:
        state.block = _Block("ignored", head, start=number)
    else:
        state.warn(number, f"unknown command {head!r} ignored", raw)
        state.block = _Block("unknown", head, start=number)


def _open_object(state: _ParseState, number: int, raw: str, tokens: list[str]) -> None:
    kind, name = tokens[1], tokens[2]
    if kind == "network":
        state.store.network_objects.setdefault(name, [])
    else:
        state.store.service_objects.setdefault(name, [])
    header_protocol = tokens[3] if kind == "service" and len(tokens) > 3 else ""
    state.block = _Block("object-" + kind, name, header_protocol, number, [raw])


def _open_group(state: _ParseState, number: int, raw: str, tokens: list[str]) -> None:
    args = tokens[1:]
    if args[0] == "group" and len(args) >= 3:  # "object-group group network X" (Batfish fixtures)
        args = args[1:]
    kind, name = args[0], args[1] if len(args) > 1 else ""
    if kind not in GROUP_KINDS or not name:
        state.warn(number, f"object-group type {kind!r} is not modelled; rules using it are widened", raw)
        state.block = _Block("unknown", name, start=number)
        return
    store = state.store
    table = {"network": store.network_groups, "service": store.service_groups,
             "protocol": store.protocol_groups, "icmp-type": store.icmp_groups}[kind]
    table.setdefault(name, [])
    if kind == "service" and len(args) > 2:
        store.service_group_protocol[name] = args[2]
    state.block = _Block("group-" + kind, name, start=number, lines=[raw])


def _read_sub_line(state: _ParseState, number: int, raw: str, tokens: list[str]) -> None:
    block = state.block
    if block is None:
        state.warn(number, "indented line outside any block ignored", raw)
        return
    if block.kind in ("ignored", "unknown"):
        return
    if block.kind == "interface":
        iface = state.interfaces[-1]
        if tokens[0] == "nameif" and len(tokens) == 2:
            iface.nameif = tokens[1]
            iface.evidence.append((number, raw))
        elif tokens[:2] in (["ip", "address"], ["ipv6", "address"]):
            _interface_address(state, iface, number, raw, tokens)
        elif tokens[0] == "security-level" and len(tokens) == 2 and is_decimal(tokens[1]):
            iface.level = int(tokens[1])
        elif tokens == ["management-only"]:
            iface.management_only = True
        return
    block.lines.append(raw)
    block.end = number
    if tokens[0] == "description":
        return
    if tokens[0] == "nat" and block.kind == "object-network":
        state.nat_lines.append(NatLine(number, raw, tokens, block.name))
        block.lines.pop()
        return
    store = state.store
    try:
        if block.kind == "object-network":
            store.network_object_line(block.name, tokens)
        elif block.kind == "object-service":
            if tokens[0] != "service":
                raise AsaSyntaxError(f"expected 'service', got {tokens[0]!r}")
            store.service_object_line(block.name, block.extra, tokens)
        elif block.kind == "group-network":
            store.network_group_line(block.name, tokens)
        elif block.kind == "group-service":
            store.service_group_line(block.name, tokens)
        elif block.kind == "group-protocol":
            store.protocol_group_line(block.name, tokens)
        elif block.kind == "group-icmp-type":
            store.icmp_group_line(block.name, tokens)
    except AsaSyntaxError as exc:
        target = "network object" if "network" in block.kind else "object"
        table = store.network_objects if block.kind == "object-network" else (
            store.network_groups if block.kind == "group-network" else None)
        if table is not None:
            table[block.name].append(("bad", f"line {number} unreadable"))
        elif block.kind in ("object-service", "group-service"):
            members = store.service_objects if block.kind == "object-service" else store.service_groups
            members[block.name].append(("bad", f"line {number} unreadable"))
        state.warn(number, f"{target} {block.name}: member not understood ({exc}); uses are widened", raw)


def _interface_address(state: _ParseState, iface: Interface, number: int, raw: str, tokens: list[str]) -> None:
    try:
        if tokens[0] == "ip":
            address = interface_address(tokens, state.store.names)
        else:
            address = ipv6_interface_address(tokens)
    except AsaSyntaxError as exc:
        state.warn(number, f"interface {iface.hardware}: address not understood ({exc}); its connected network "
                           "is not known", raw)
        state.gaps.unread(number, raw, f"address of interface {iface.hardware}", str(exc))
        return
    if address is not None:
        iface.addresses.append(address)
        iface.evidence.append((number, raw))


def _build_interfaces(state: _ParseState) -> None:
    """The layer-3 facts: every interface with an address, its nameif as the zone.

    A ``management-only`` interface and the routes out of it sit in the management routing table
    (``MANAGEMENT_TABLE``, separate since ASA 9.5), which through traffic does not use.
    """
    management = {iface.nameif for iface in state.interfaces if iface.nameif and iface.management_only}
    for iface in state.interfaces:
        if iface.addresses:
            lines = [line for line, _ in iface.evidence]
            span = SourceSpan(state.file, iface.line, max(lines), "\n".join(text for _, text in iface.evidence))
            table = MANAGEMENT_TABLE if iface.nameif in management else ""
            state.ruleset.interfaces.append(
                L3Interface(iface.hardware, iface.nameif, tuple(iface.addresses), span, table))
    state.ruleset.routes = [replace(route, vrf=MANAGEMENT_TABLE) if route.interface in management else route
                            for route in state.ruleset.routes]


def _derived(iface: Interface, address: IPInterface) -> bool:
    """An eui-64 IPv6 address comes from the MAC, not the config: no PAT address PlantGate can name."""
    return address.version == 6 and any("eui-64" in raw.split() for _, raw in iface.evidence)


def _build_nat(state: _ParseState) -> None:
    """NAT lines against the finished objects and interface addresses; pre-8.3 lines stay unmodelled."""
    addresses = {iface.nameif: [ipaddress.ip_network(a.ip) for a in iface.addresses if not _derived(iface, a)]
                 for iface in state.interfaces if iface.nameif}
    reader = NatReader(state.store, addresses, state.file, state.ruleset.warnings)
    rules, legacy = reader.read(state.nat_lines)
    state.ruleset.nat_rules = rules
    state.ruleset.nat_statements += [SourceSpan(state.file, n.line, n.line, n.text) for n in legacy]
    state.ruleset.nat_statements.sort(key=lambda span: span.line)


def _close_block(state: _ParseState) -> None:
    """Record the finished object or group in ``Ruleset.objects`` with its full span."""
    block, state.block = state.block, None
    if block is None or not block.lines:
        return
    kind = block.kind.split("-", 1)
    if kind[0] == "object":
        obj_kind = OBJECT_KINDS[kind[1]]
    else:
        obj_kind = GROUP_KINDS[kind[1]]
    store = state.store
    members_table = {
        "object-network": store.network_objects, "object-service": store.service_objects,
        "group-network": store.network_groups, "group-service": store.service_groups,
        "group-protocol": store.protocol_groups, "group-icmp-type": store.icmp_groups,
    }[block.kind]
    members = tuple(str(v) for k, v in members_table.get(block.name, []) if k in ("object", "group", "name"))
    span = SourceSpan(state.file, block.start, max(block.start, block.end), "\n".join(block.lines))
    state.ruleset.objects[block.name] = NamedObject(block.name, obj_kind, span, members)


def _access_list(state: _ParseState, number: int, raw: str, tokens: list[str]) -> None:
    if len(tokens) < 3:
        raise AsaSyntaxError("access-list needs a name and a type")
    name, rest = tokens[1], tokens[2:]
    if rest[0] == "line" and len(rest) > 2 and is_decimal(rest[1]):
        rest = rest[2:]
    state.acl_lines.setdefault(name, number)
    state.aces.setdefault(name, [])
    kind = rest[0]
    if kind == "remark":
        text = raw.split(" remark", 1)[1].strip() if " remark" in raw else ""
        state.remarks.setdefault(name, []).append(text)
    elif kind in ("extended", "standard"):
        comment = "\n".join(state.remarks.pop(name, []))
        state.aces[name].append(AceLine(name, number, raw, rest, comment))
    elif kind in ("ethertype", "webtype", "rate-limit"):
        state.warn(number, f"{kind} access-list entry is not IP filtering; ignored", raw)
    else:  # old syntax without the "extended" keyword: "access-list X permit ..."
        if kind in ("permit", "deny"):
            comment = "\n".join(state.remarks.pop(name, []))
            state.aces[name].append(AceLine(name, number, raw, ["extended", *rest], comment))
        else:
            raise AsaSyntaxError(f"unknown access-list type {kind!r}")


def _access_group(state: _ParseState, number: int, raw: str, tokens: list[str]) -> None:
    if len(tokens) == 3 and tokens[2] == "global":
        state.bind_global = _Binding(tokens[1], number)
        return
    if len(tokens) >= 5 and tokens[2] in ("in", "out") and tokens[3] == "interface":
        if "control-plane" in tokens[5:]:
            return  # to-the-box traffic only; never crosses between zones
        table = state.bind_in if tokens[2] == "in" else state.bind_out
        table[tokens[4]] = _Binding(tokens[1], number)
        return
    raise AsaSyntaxError("expected 'access-group ACL in|out interface NAME' or 'access-group ACL global'")


def _build_filters(state: _ParseState) -> None:
    """One Filter per ACL, rule ids ``ACL#position`` in order; undefined bound ACLs widened."""
    rs = state.ruleset
    for acl, aces in state.aces.items():
        rules: list[Rule] = []
        for ace in aces:
            rule = build_rule(state.store, ace, len(rules) + 1, state.file, rs.warnings)
            if rule is not None:
                rules.append(rule)
        line = state.acl_lines[acl]
        rs.filters[acl] = Filter(acl, rules, Action.DENY, SourceSpan(state.file, line, line, ""))
    _warn_dangling_members(state)
    bindings = [*state.bind_in.values(), *state.bind_out.values()]
    bindings += [state.bind_global] if state.bind_global else []
    for binding in bindings:
        if binding.acl not in rs.filters:
            state.warn(binding.line, f"access-group binds undefined ACL {binding.acl!r}; treated as "
                                     "permit-all", "", True)
            rs.filters[binding.acl] = Filter(binding.acl, [], Action.PERMIT,
                                             description="undefined ACL bound by access-group: permit-all")


def _warn_dangling_members(state: _ParseState) -> None:
    store = state.store
    known = {**store.network_objects, **store.network_groups, **store.service_objects,
             **store.service_groups, **store.protocol_groups, **store.icmp_groups}
    for obj in state.ruleset.objects.values():
        for member in obj.members:
            if member not in known and member not in store.names:
                state.warn(obj.span.line, f"{obj.name} refers to undefined object {member!r}", "")


def _build_paths(state: _ParseState) -> None:
    rs = state.ruleset
    zones = [iface for iface in state.interfaces if iface.nameif]
    rs.zones = [iface.nameif for iface in zones]
    known = set(rs.zones)
    for table in (state.bind_in, state.bind_out):
        for ifname, binding in list(table.items()):
            if ifname not in known:
                state.warn(binding.line, f"access-group names interface {ifname!r}, which has no nameif "
                                         "in this config; not placed on any path", "")
                del table[ifname]
    for a in zones:
        for b in zones:
            if a is b and not state.intra_interface:
                continue
            path = _security_filters(state, a, b)
            if b.nameif in state.bind_out:
                path.append(state.bind_out[b.nameif].acl)
            rs.paths[(a.nameif, b.nameif)] = tuple(path)


def _security_filters(state: _ParseState, a: Interface, b: Interface) -> list[str]:
    """The filters before B's out-ACL: A's inbound ACLs, or the implicit security-level rule."""
    la, lb = a.security_level, b.security_level
    if a is b:
        inbound = _inbound_filter(state, a)
        return [inbound] if inbound else [_implicit(state, f"implicit:same-security intra-interface "
                                                           f"{a.nameif}({la})", Action.PERMIT,
                                                    "same-security-traffic permit intra-interface")]
    if la == lb and not state.inter_interface:
        return [_implicit(state, f"implicit:same-security {a.nameif}({la})->{b.nameif}({lb})", Action.DENY,
                          "equal security levels without same-security-traffic permit inter-interface")]
    inbound = _inbound_filter(state, a)
    if inbound:
        return [inbound]
    if la == lb:
        return [_implicit(state, f"implicit:same-security {a.nameif}({la})->{b.nameif}({lb})",
                          Action.PERMIT, "same-security-traffic permit inter-interface")]
    action = Action.PERMIT if la > lb else Action.DENY
    return [_implicit(state, f"implicit:security-level {a.nameif}({la})->{b.nameif}({lb})", action,
                      "no inbound ACL: higher to lower security level permitted, lower to higher denied")]


def _inbound_filter(state: _ParseState, iface: Interface) -> str:
    """Name of the filter for traffic entering ``iface``: in-ACL, global ACL, or both combined."""
    rs = state.ruleset
    own = state.bind_in.get(iface.nameif)
    glob = state.bind_global
    if own and glob and state.ruleset.filters[own.acl].default_action is Action.DENY:
        name = f"combined:{own.acl}+{glob.acl}"
        if name not in rs.filters:
            first, second = rs.filters[own.acl], rs.filters[glob.acl]
            rs.filters[name] = Filter(name, [*first.rules, *second.rules], second.default_action,
                                      description=f"interface ACL {own.acl} then global ACL {glob.acl}")
        return name
    if own:
        return own.acl
    return glob.acl if glob else ""


def _implicit(state: _ParseState, name: str, action: Action, why: str) -> str:
    if name not in state.ruleset.filters:
        state.ruleset.filters[name] = Filter(name, [], action, description=why)
    return name


PARSER = AsaParser()
