"""One FortiOS firewall (or local-in) policy entry -> one vendor-neutral Rule.

The policy table is where a wrong "all clear" would come from, so every attribute is
either understood exactly, known not to restrict the match, or treated as unknown: an
unknown restriction widens a permit (and marks it uncertain) and makes a deny uncertain.
IPv4 and IPv6 halves of a policy (``srcaddr``/``srcaddr6``) are kept per family so that a
packet of one family is only ever checked against that family's addresses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from plantgate.firewalls.fortigate.objects import AddressValue, ObjectBook, complement
from plantgate.firewalls.fortigate.syntax import ConfigTree, Entry, Setting
from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_SERVICE,
    ANY_V4,
    ANY_V6,
    Action,
    AddressSet,
    IPNetwork,
    ParseWarning,
    Rule,
    Service,
    SourceSpan,
)

ACTIONS = {"accept": Action.PERMIT, "ipsec": Action.PERMIT, "deny": Action.DENY}
IDENTITY_KEYS = ("users", "groups", "fsso-groups")
APPLICATION_KEYS = ("application", "app-category", "app-group", "url-category")
INTERNET_SERVICE_KEYS = {
    "internet-service": "dst", "internet-service6": "dst",
    "internet-service-src": "src", "internet-service6-src": "src",
}
NEUTRAL_VALUES = frozenset({"", "disable", "0", "0x00", "none", "always", "255"})
HARMLESS_POLICY_KEYS = frozenset({
    "name", "uuid", "comments", "comment", "action", "status", "srcintf", "dstintf", "intf",
    "srcaddr", "dstaddr", "srcaddr6", "dstaddr6", "srcaddr-negate", "dstaddr-negate",
    "srcaddr6-negate", "dstaddr6-negate", "service", "service-negate", "schedule",
    "logtraffic", "logtraffic-start", "log-http-transaction", "nat", "nat46", "nat64", "ippool",
    "poolname", "poolname6", "fixedport", "natip", "natinbound", "natoutbound", "inbound",
    "outbound", "vpntunnel", "utm-status", "inspection-mode", "profile-type", "profile-group",
    "profile-protocol-options", "ssl-ssh-profile", "av-profile", "webfilter-profile",
    "dnsfilter-profile", "emailfilter-profile", "spamfilter-profile", "dlp-sensor", "dlp-profile",
    "file-filter-profile", "ips-sensor", "application-list", "voip-profile", "waf-profile",
    "ssh-filter-profile", "icap-profile", "cifs-profile", "videofilter-profile",
    "sctp-filter-profile", "casb-profile", "virtual-patch-profile", "ips-voip-filter",
    "global-label", "label", "traffic-shaper", "traffic-shaper-reverse", "per-ip-shaper",
    "capture-packet", "auto-asic-offload", "np-acceleration", "wanopt", "wanopt-detection",
    "wanopt-passive-opt", "wanopt-profile", "wanopt-peer", "webcache", "webcache-https",
    "session-ttl", "match-vip", "match-vip-only", "diffserv-forward", "diffserv-reverse",
    "diffservcode-forward", "diffservcode-rev", "tcp-mss-sender", "tcp-mss-receiver",
    "block-notification", "disclaimer", "timeout-send-rst", "dsri", "anti-replay",
    "tcp-session-without-syn", "vlan-cos-fwd", "vlan-cos-rev", "captive-portal-exempt",
    "send-deny-packet", "firewall-session-dirty", "schedule-timeout", "policy-expiry",
    "policy-expiry-date", "policy-expiry-date-utc", "geoip-anycast", "geoip-match", "rtp-nat",
    "rtp-addr", "permit-any-host", "permit-stun-host", "delay-tcp-npu-session", "email-collect",
    "auth-path", "auth-cert", "auth-redirect-addr", "redirect-url", "identity-based-route", "wccp",
    "ntlm", "ntlm-guest", "ntlm-enabled-browsers", "fsso", "fsso-agent-for-ntlm", "rsso",
    "radius-mac-auth-bypass", "webproxy-profile", "webproxy-forward-server", "http-policy-redirect",
    "ssh-policy-redirect", "dynamic-shaping", "passive-wan-health-measurement",
    "replacemsg-override-group", "decrypted-traffic-mirror", "reputation-direction",
    "reputation-direction6", "tos-negate", "tos", "custom-log-fields", "uuid-idx", "port-preserve",
    "cgn-session-quota", "cgn-resource-quota", "cgn-log-server-grp", "cgn-eif", "cgn-eim",
    "ha-mgmt-intf-only", "virtual-patch", "ztna-tags-match-logic", "ztna-policy-redirect",
    "sgt-check", "pcp-outbound", "pcp-inbound", "pcp-poolname", "vip", "policyid", "sessions",
    "*", "srcaddr-negate6", "ztna-device-ownership", "ztna-geo-tag",
    "internet-service-name", "internet-service-id", "internet-service-group", "internet-service-custom",
    "internet-service-custom-group", "internet-service-negate", "internet-service-src-name",
    "internet-service-src-id", "internet-service-src-group", "internet-service-src-custom",
    "internet-service-src-custom-group", "internet-service-src-negate", "internet-service6-name",
    "internet-service6-group", "internet-service6-custom", "internet-service6-custom-group",
    "internet-service6-src-name", "internet-service6-src-group", "internet-service6-src-custom",
    "internet-service6-src-custom-group",
    *IDENTITY_KEYS, *APPLICATION_KEYS, *INTERNET_SERVICE_KEYS,
})
RESTRICTING_KEYS = {
    "tos-mask": "ToS/DSCP match",
    "reputation-minimum": "internet-service reputation",
    "reputation-minimum6": "internet-service reputation",
    "ztna-status": "ZTNA tag match",
    "ztna-ems-tag": "ZTNA tag match",
    "vlan-filter": "VLAN filter",
    "src-vendor-mac": "source vendor MAC",
}


SPECIAL_MATCH_KEYS = frozenset({*INTERNET_SERVICE_KEYS, *IDENTITY_KEYS, *APPLICATION_KEYS})
"""Keys that match on something other than addresses and services (read only when a policy has one)."""
QUIET_POLICY_KEYS = HARMLESS_POLICY_KEYS - RESTRICTING_KEYS.keys()
"""Keys ``_unknown_keys`` passes over whatever their value."""


_Half = tuple[AddressValue, tuple[tuple[IPNetwork, ...], tuple[IPNetwork, ...]]]
"""An address field's value and its collapsed include and exclude networks."""


@dataclass
class PolicyContext:
    """What turning a policy into a rule needs from the rest of the VDOM."""

    tree: ConfigTree
    book: ObjectBook
    resolve_interface: Callable[[str, int], tuple[str, bool]]
    """name, line -> (zone name, True if the mapping widened the interface to its whole zone)."""
    warnings: list[ParseWarning] = field(default_factory=list)
    halves: dict[tuple[tuple[str, ...], int, bool], _Half] = field(default_factory=dict)
    """Address fields already resolved: (names, IP version, negated) -> value and collapsed networks."""
    sides: dict[tuple[tuple[tuple[str, ...], int, bool], ...], tuple[AddressSet, tuple[str, ...]]] = field(
        default_factory=dict)
    """A policy side's fields that resolved without a warning -> its address set and object references.
    Thousands of policies name the same objects: they share one AddressSet (and its dump)."""
    service_fields: dict[tuple[str, ...], tuple[tuple[Service, ...], tuple[str, ...]]] = field(default_factory=dict)
    """``service`` values that resolved without a warning or a loose match -> services and object references."""
    zone_fields: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    """Interface lists whose every name is a zone of its own (resolving them again warns of nothing)."""


@dataclass
class _Draft:
    """Mutable facts gathered while reading one policy."""

    permits: bool
    label: str
    widened: list[str] = field(default_factory=list)
    uncertain: bool = False
    refs: list[str] = field(default_factory=list)

    def unsure(self, reason: str) -> None:
        """A restriction we cannot model: a permit ignores it (widening), a deny becomes uncertain."""
        self.uncertain = True
        if self.permits and reason not in self.widened:
            self.widened.append(reason)


def policy_rule(entry: Entry, position: int, kind: str, ctx: PolicyContext, family: int | None) -> Rule:
    """Build the Rule for ``edit N`` of ``kind`` ("policy", "policy6", "local-in", "local-in6").

    ``family`` is 6 for the IPv6-only tables, where ``srcaddr`` names IPv6 objects, else None.
    """
    attrs = entry.attributes()
    file = ctx.book.file
    text = ctx.tree.text(entry.line, entry.end_line)
    span = SourceSpan(file, entry.line, entry.end_line, text)

    def warn(line: int, message: str, widened: bool = False) -> None:
        ctx.warnings.append(ParseWarning(file, line, message, ctx.tree.text(line, line), widened))

    action_word = attrs["action"].first if "action" in attrs else "deny"
    action = ACTIONS.get(action_word)
    draft = _Draft(permits=action is None or action.permits, label=f"{kind} {entry.name}")
    if action is None:
        action = Action.PERMIT
        warn(attrs["action"].line, f"unknown action {action_word!r}: treated as accept", True)
        draft.unsure(f"unknown action {action_word!r}")
    name = attrs["name"].first if "name" in attrs else ""
    rule_id = f"{kind} {entry.name}" + (f" ({name})" if name else "")

    local_in = kind.startswith("local-in")
    matches_more = not SPECIAL_MATCH_KEYS.isdisjoint(attrs)  # most policies: none of those keys
    isdb = {side for key, side in INTERNET_SERVICE_KEYS.items()
            if key in attrs and attrs[key].first == "enable"} if matches_more else set()
    from_zones = _zones(attrs, "intf" if local_in else "srcintf", entry, ctx, draft, warn)
    to_zones = () if local_in else _zones(attrs, "dstintf", entry, ctx, draft, warn)
    # an enabled internet-service replaces the address (and, for dst, the service) fields
    sources = _addresses(attrs, "src", entry, ctx, draft, warn, family, "src" not in isdb)
    destinations = _addresses(attrs, "dst", entry, ctx, draft, warn, family, "dst" not in isdb)
    services, service_negate = _services(attrs, entry, ctx, draft, warn, "dst" not in isdb)

    for key, side in INTERNET_SERVICE_KEYS.items() if isdb else ():
        if key in attrs and attrs[key].first == "enable":
            reason = f"{key} (FortiGuard internet-service database) is not modelled"
            warn(attrs[key].line, f"{rule_id}: {reason}; {'widened' if draft.permits else 'rule is uncertain'}",
                 draft.permits)
            draft.unsure(reason)
            if draft.permits and side == "dst":
                destinations, services, service_negate = ANY_ADDRESS, (ANY_SERVICE,), False
            elif draft.permits:
                sources = ANY_ADDRESS
    schedule = attrs["schedule"].first if "schedule" in attrs else "always"
    if schedule != "always":
        warn(attrs["schedule"].line, f"{rule_id}: schedule {schedule!r} treated as always", draft.permits)
        draft.unsure(f"schedule {schedule!r} treated as always")
    for key in IDENTITY_KEYS if matches_more else ():
        if key in attrs and attrs[key].values:
            warn(attrs[key].line, f"{rule_id}: {key} (user identity) match is not modelled", draft.permits)
            draft.unsure(f"{key} identity match ignored")
    applications = tuple(v for key in APPLICATION_KEYS if key in attrs for v in attrs[key].values
                         ) if matches_more else ()
    if applications and not draft.permits:
        draft.uncertain = True
    _unknown_keys(attrs, rule_id, draft, warn)

    comment = attrs["comments"].first if "comments" in attrs else (attrs["comment"].first if "comment" in attrs else "")
    log = ("logtraffic" in attrs and attrs["logtraffic"].first != "disable") or "logtraffic" not in attrs
    return Rule(
        rule_id=rule_id, position=position, action=action, span=span,
        sources=sources, destinations=destinations, services=services,
        service_negate=service_negate, from_zones=from_zones, to_zones=to_zones,
        enabled=not ("status" in attrs and attrs["status"].first == "disable"),
        applications=applications, log=log, comment=comment,
        object_refs=tuple(dict.fromkeys(draft.refs)), widened=tuple(draft.widened), uncertain=draft.uncertain,
    )


Warn = Callable[..., None]


def _zones(
    attrs: dict[str, Setting], key: str, entry: Entry, ctx: PolicyContext, draft: _Draft, warn: Warn
) -> tuple[str, ...]:
    setting = attrs.get(key)
    if setting is None or not setting.values:
        warn(entry.line, f"{draft.label} has no {key}: treated as any", draft.permits)
        draft.unsure(f"missing {key}")
        return ()
    if "any" in setting.values:
        return ()
    known = ctx.zone_fields.get(setting.values)
    if known is not None:
        return known
    zones: list[str] = []
    quiet = True
    for name in setting.values:
        zone, widened = ctx.resolve_interface(name, setting.line)
        if widened:
            quiet = False
            draft.unsure(f"interface {name!r} is a member of zone {zone!r}")
        if zone not in zones:
            zones.append(zone)
    if quiet:
        ctx.zone_fields[setting.values] = tuple(zones)
    return tuple(zones)


@functools.cache
def _address_fields(side: str, family: int | None) -> tuple[tuple[str, int, str], ...]:
    """(key, IP version, negate key) of each address field of a side; ``family`` 6: IPv6-only tables."""
    fields = [(f"{side}addr", family or 4, f"{side}addr-negate")]
    if family is None:
        fields.append((f"{side}addr6", 6, f"{side}addr6-negate"))
    return tuple(fields)


def _addresses(
    attrs: dict[str, Setting], side: str, entry: Entry, ctx: PolicyContext, draft: _Draft, warn: Warn,
    family: int | None, required: bool,
) -> AddressSet:
    """One side (src/dst) of a policy: the IPv4 and IPv6 halves, each possibly negated."""
    present = [(key, version, attrs[key], negate_key in attrs and attrs[negate_key].first == "enable")
               for key, version, negate_key in _address_fields(side, family) if key in attrs and attrs[key].values]
    if not present:
        if not required:
            return AddressSet(())
        warn(entry.line, f"{draft.label} has no {side}addr: treated as all", draft.permits)
        draft.unsure(f"missing {side}addr")
        return ANY_ADDRESS if draft.permits else AddressSet(())
    fields = tuple((setting.values, version, negated) for _, version, setting, negated in present)
    known = ctx.sides.get(fields)
    if known is not None:
        draft.refs.extend(known[1])
        return known[0]
    include: list[IPNetwork] = []
    exclude: list[IPNetwork] = []
    collapsed: tuple[tuple[IPNetwork, ...], tuple[IPNetwork, ...]] = ((), ())
    names: list[str] = []
    refs: list[str] = []
    widened_any = False
    quiet = True
    for key, version, setting, negated in present:
        for name in setting.values:
            ref = ctx.book.key(f"address{version}", name)
            if ref:
                refs.append(ref)
        value, collapsed = _half(ctx, setting.values, version, negated)
        names += [("not " if negated else "") + n for n in setting.values]
        for reason in value.unresolved:
            warn(setting.line, f"{draft.label} {key}: {reason}; "
                 + ("widened to all" if draft.permits else "rule is uncertain"), draft.permits)
            draft.unsure(reason)
        for reason in value.approximate:  # a superset of what matches: kept, the rule made uncertain
            warn(setting.line, f"{draft.label} {key}: {reason}; "
                 + ("widened" if draft.permits else "rule is uncertain"), draft.permits)
            draft.unsure(reason)
        quiet = quiet and not value.unresolved and not value.approximate
        if value.unresolved and draft.permits:
            include.append(ANY_V4 if version == 4 else ANY_V6)
            collapsed = ((include[-1],), ())
            widened_any = True
            continue
        include.extend(value.include)
        exclude.extend(value.exclude)
    if len(present) > 1:
        collapsed = (ctx.book.collapse(include), ctx.book.collapse(exclude))
    addresses = AddressSet(collapsed[0], collapsed[1], () if widened_any else tuple(names))
    if quiet:
        ctx.sides[fields] = (addresses, tuple(refs))
    draft.refs.extend(refs)
    return addresses


def _half(ctx: PolicyContext, names: tuple[str, ...], version: int, negated: bool) -> _Half:
    """The value of one address field and its collapsed include/exclude, remembered per field value."""
    key = (names, version, negated)
    known = ctx.halves.get(key)
    if known is None:
        values = [
            ctx.book.address(name, version) or AddressValue((), unresolved=(f"address {name!r} is not defined",))
            for name in names
        ]
        value = _union(values, ctx.book)
        if negated:
            value = complement(value, version)
        known = ctx.halves[key] = (value, (ctx.book.collapse(value.include), ctx.book.collapse(value.exclude)))
    return known


def _union(values: list[AddressValue], book: ObjectBook) -> AddressValue:
    """Union of several objects; a single object keeps its exclusion visible, several are flattened."""
    if len(values) == 1:
        return values[0]
    unresolved = tuple(r for v in values for r in v.unresolved)
    approximate = tuple(r for v in values for r in v.approximate)
    nets = book.collapse(n for v in values for n in book.exact(v))
    return AddressValue(nets, (), unresolved, approximate)


def _services(
    attrs: dict[str, Setting], entry: Entry, ctx: PolicyContext, draft: _Draft, warn: Warn, required: bool
) -> tuple[tuple[Service, ...], bool]:
    negate = "service-negate" in attrs and attrs["service-negate"].first == "enable"
    setting = attrs.get("service")
    if (setting is None or not setting.values) and not required:
        return (), False
    if setting is None or not setting.values:
        warn(entry.line, f"{draft.label} has no service: treated as ALL", draft.permits)
        draft.unsure("missing service")
        return ((ANY_SERVICE,), False) if draft.permits else ((), negate)
    known = ctx.service_fields.get(setting.values)
    if known is not None:
        draft.refs.extend(known[1])
        return known[0], negate
    services: list[Service] = []
    refs: list[str] = []
    unresolved = False
    loose = False
    for name in setting.values:
        value = ctx.book.service(name)
        ref = ctx.book.key("service", name)
        if ref:
            refs.append(ref)
        reasons = value.unresolved if value else (f"service {name!r} is not defined",)
        for reason in reasons:
            warn(setting.line, f"{draft.label}: {reason}; "
                 + ("widened to ALL" if draft.permits else "rule is uncertain"), draft.permits)
            draft.unsure(reason)
            unresolved = True
        for reason in value.loose if value else ():
            draft.unsure(reason)
            loose = True
        services.extend(value.services if value else ())
    draft.refs.extend(refs)
    if unresolved and draft.permits:
        return (ANY_SERVICE,), False
    matched = tuple(dict.fromkeys(services))
    if not unresolved and not loose:
        ctx.service_fields[setting.values] = (matched, tuple(refs))
    return matched, negate


def _unknown_keys(attrs: dict[str, Setting], rule_id: str, draft: _Draft, warn: Warn) -> None:
    for key, setting in attrs.items():
        if key in QUIET_POLICY_KEYS:
            continue
        value = " ".join(setting.values)
        if key in RESTRICTING_KEYS:
            if value not in NEUTRAL_VALUES:
                reason = f"{RESTRICTING_KEYS[key]} ({key} {value}) is not modelled"
                warn(setting.line, f"{rule_id}: {reason}", draft.permits)
                draft.unsure(reason)
        elif key not in HARMLESS_POLICY_KEYS and value not in NEUTRAL_VALUES:
            reason = f"unknown attribute {key!r} may restrict the match"
            warn(setting.line, f"{rule_id}: {reason}", draft.permits)
            draft.unsure(reason)
