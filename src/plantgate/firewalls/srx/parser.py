"""Juniper SRX (Junos) security policies -> the vendor-neutral Ruleset.

The text (hierarchical or ``display set``) is first read into one word tree by
``srx_hierarchy``; everything here reads that tree, so both formats normalise identically.

How SRX semantics map onto the model (documented because first-match must stay exact):
- ``zones`` are the ``security zones security-zone`` names in file order, then any zone a
  policy names without defining it (with a warning; ``junos-host`` is built in, no warning).
- Junos evaluates a flow from zone A to zone B (A may equal B) against the policies of the
  ``from-zone A to-zone B`` context in file order, then the ``security policies global``
  policies in order, then ``default-policy`` (``deny-all`` unless configured).
  Ruleset paths are a conjunction of filters, so "fall through to the global list" cannot be
  two filters; instead:
  * every zone pair that has a context gets one filter named ``from-zone A to-zone B``
    holding that context's rules followed by copies of every global rule, with
    ``default_action`` = default-policy;
  * the filter ``global`` holds only the global rules, with the same default; pairs without a
    context use it. paths[(A, B)] is always exactly one of these filters.
  Global rules keep their own ``from_zones``/``to_zones`` (empty = any), so in a pair's
  filter they match only where Junos would apply them. A global rule may therefore appear in
  several filters under the same ``rule_id`` ("global/P"); consumers de-duplicate by rule_id.
  Context rules carry from_zones=(A,), to_zones=(B,) and ids "A->B/P".
- ``inactive:``/``deactivate`` of a policy (or its context, or ``policies``) keeps the rule
  with enabled=False; an inactive address, application or match value simply does not exist.
- Address names resolve in the zone's address book first (legacy ``security-zone Z
  address-book`` or a named book ``attach``-ed to the zone), then in ``global``; source names
  use the from-zone, destination names the to-zone. Nested address-sets are flattened.
- What cannot be decided from the packet (dns-name, non-contiguous wildcard, undefined name,
  unknown ``junos-*`` application, dynamic-application, source-identity, schedulers, unknown
  match keys) widens the field toward "any" (or keeps the superset) with ``uncertain=True``
  and a reason in ``widened``; an excluded (negated) field that is not exact becomes "any".
- ``security nat`` static, destination and source rule-sets become ``nat_rules`` (``srx.nat``):
  static and destination NAT before the policy, source NAT after it.
- interface addresses and static routes come from ``srx.routes``, the statements that make them an
  incomplete account of routing (``routing_gaps``) from ``srx.gaps``; an address or route left out
  with a warning is a gap too.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from plantgate.firewalls.base import require_understood
from plantgate.firewalls.gc_pause import with_collector_paused
from plantgate.firewalls.interning import LineTexts
from plantgate.firewalls.limits import MAX_NESTING, is_decimal
from plantgate.firewalls.nat import NatRule
from plantgate.firewalls.routes import KEEPS_PATHS, Interface, RoutingGap
from plantgate.firewalls.ruleset import (
    ANY_ADDRESS,
    ANY_IPV4,
    ANY_IPV6,
    ANY_SERVICE,
    ANY_V4,
    ANY_V6,
    Action,
    AddressSet,
    Filter,
    IPNetwork,
    NamedObject,
    ParseWarning,
    Rule,
    Ruleset,
    Service,
    SourceSpan,
    address_range,
)
from plantgate.firewalls.srx.apps import JUNOS_DEFAULT_APPLICATIONS, read_application
from plantgate.firewalls.srx.detect import confidence
from plantgate.firewalls.srx.gaps import routing_gaps
from plantgate.firewalls.srx.hierarchy import ConfigNode, JunosConfig, read_junos_config
from plantgate.firewalls.srx.nat import NatReader, interface_facts, read_nat
from plantgate.firewalls.srx.routes import interfaces, static_routes

GLOBAL_FILTER = "global"
JUNOS_HOST = "junos-host"
_ANY_WORDS = {"any": ANY_ADDRESS, "any-ipv4": ANY_IPV4, "any-ipv6": ANY_IPV6}
# match keys that only narrow what the L4 fields match: ignoring them keeps a superset.
_NARROWING_MATCH_KEYS = frozenset({
    "dynamic-application", "source-identity", "source-end-user-profile", "url-category",
    "destination-address-name", "from-zone", "to-zone",
})


@dataclass
class _Resolved:
    """The networks a list of names stands for, the object keys used, and any widening."""

    nets: list[IPNetwork] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    unresolved: bool = False


@dataclass
class _Book:
    """One address book: entries by name, and the key prefix used in Ruleset.objects."""

    prefix: str
    entries: dict[str, ConfigNode] = field(default_factory=dict)
    sets: dict[str, ConfigNode] = field(default_factory=dict)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name


def _wildcard(text: str) -> tuple[IPNetwork, bool] | None:
    """``1.3.3.4/255.254.255.255`` -> (covering prefix, exact?); None when unreadable."""
    addr_text, _, mask_text = text.partition("/")
    try:
        addr = ipaddress.ip_address(addr_text)
        if is_decimal(mask_text):
            return ipaddress.ip_network(f"{addr}/{mask_text}", strict=False), True
        mask = int(ipaddress.ip_address(mask_text))
    except ValueError:
        return None
    bits = addr.max_prefixlen
    ones = 0
    while ones < bits and mask >> (bits - 1 - ones) & 1:
        ones += 1
    exact = mask == ((1 << bits) - 1) ^ ((1 << (bits - ones)) - 1)
    return ipaddress.ip_network(f"{addr}/{ones}", strict=False), exact


def _values(node: ConfigNode | None, keyword: str) -> list[str]:
    """The active values of ``keyword`` under ``node`` (empty when either is absent)."""
    kid = node.child(keyword) if node is not None else None
    return kid.words() if kid is not None else []


class _Normaliser:
    """Reads one JunosConfig tree into a Ruleset."""

    def __init__(self, config: JunosConfig, file: str) -> None:
        self.config = config
        self.file = file
        self.root = config.root
        self.warnings: list[ParseWarning] = list(config.notes)
        self.objects: dict[str, NamedObject] = {}
        self.books: dict[str, _Book] = {}
        self.zone_books: dict[str, list[str]] = {}
        self.applications: dict[str, ConfigNode] = {}
        self.application_sets: dict[str, ConfigNode] = {}
        self.zones: list[str] = []
        self._address_cache: dict[tuple[str, str], _Resolved] = {}
        self.line_texts = LineTexts(config.lines)

    # -- evidence ----------------------------------------------------------------------
    def span(self, node: ConfigNode) -> SourceSpan:
        numbers = sorted({n for a, b in node.all_ranges() for n in range(a, b + 1)})
        if not numbers:
            return SourceSpan(self.file, 0, 0, "")
        if len(numbers) == numbers[-1] - numbers[0] + 1:  # contiguous: shared with every span of the same lines
            text = self.line_texts.text(numbers[0], numbers[-1])
        else:
            text = "\n".join(self.config.lines[n - 1] for n in numbers if 0 < n <= len(self.config.lines))
        return SourceSpan(self.file, numbers[0], numbers[-1], text)

    def line_span(self, node: ConfigNode) -> SourceSpan:
        """The first line of ``node`` alone: the statement a routing gap points at."""
        return SourceSpan(self.file, node.line, node.line, self.line_texts.text(node.line, node.line))

    def warn(self, node: ConfigNode | None, message: str, widened: bool = False) -> None:
        line = node.line if node is not None else 0
        text = self.line_texts.text(line, line, strip=True) if 0 < line <= len(self.config.lines) else ""
        self.warnings.append(ParseWarning(self.file, line, message, text, widened))

    def add_object(self, key: str, kind: str, node: ConfigNode, members: tuple[str, ...] = ()) -> None:
        self.objects[key] = NamedObject(key, kind, self.span(node), members)

    # -- zones and address books -------------------------------------------------------
    def read_zones(self) -> None:
        zones = self.root.find("security", "zones", "security-zone")
        for zone in zones.kids() if zones else []:
            self.zones.append(zone.word)
            book = zone.child("address-book")
            if book is not None:
                name = f"zone {zone.word}"
                self.books[name] = self.read_book(book, zone.word)
                self.zone_books.setdefault(zone.word, []).append(name)

    def read_book(self, node: ConfigNode, prefix: str) -> _Book:
        book = _Book(prefix)
        for kid in node.kids():
            if kid.word in ("address", "address-set"):
                target = book.entries if kid.word == "address" else book.sets
                for entry in kid.kids():
                    target[entry.word] = entry
            elif kid.word not in ("description", "attach"):
                self.warn(kid, f"address-book statement {kid.word!r} not understood; ignored")
        return book

    def read_address_books(self) -> None:
        books = self.root.find("security", "address-book")
        for book_node in books.kids() if books else []:
            prefix = "" if book_node.word == "global" else book_node.word
            self.books[book_node.word] = self.read_book(book_node, prefix)
            attach = book_node.find("attach", "zone")
            for zone in attach.words() if attach else []:
                self.zone_books.setdefault(zone, []).append(book_node.word)
        for book in self.books.values():
            for name, node in book.entries.items():
                self.add_object(book.key(name), "address", node)
            for name, node in book.sets.items():
                members = tuple(m for kind in ("address", "address-set") for m in _values(node, kind))
                self.add_object(book.key(name), "address-group", node, members)

    def _visible_books(self, zone: str | None) -> list[str]:
        names = list(self.zone_books.get(zone, [])) if zone else []
        return [*names, "global"]

    def resolve_name(self, name: str, zone: str | None, seen: frozenset[str] = frozenset()) -> _Resolved:
        cache_key = (zone or "", name)
        if cache_key in self._address_cache:
            return self._address_cache[cache_key]
        result = _Resolved()
        for book_name in self._visible_books(zone):
            book = self.books.get(book_name)
            if book is None:
                continue
            if name in book.entries:
                result = self._read_address(book, name, book.entries[name])
                break
            if name in book.sets:
                result = self._read_set(book, name, book.sets[name], zone, seen)
                break
        else:
            result.unresolved = True
            result.reasons.append(f"address {name!r} is not defined")
        self._address_cache[cache_key] = result
        return result

    def _read_address(self, book: _Book, name: str, node: ConfigNode) -> _Resolved:
        result = _Resolved(refs=[book.key(name)])
        for kid in node.kids():
            word = kid.word
            if word == "description":
                continue
            if word == "range-address":
                first = kid.kids()[0] if kid.kids() else None
                last = first.find("to") if first else None
                try:
                    result.nets.extend(address_range(first.word, last.words()[0]))  # type: ignore[union-attr]
                except (AttributeError, IndexError, ValueError, TypeError):
                    result.unresolved = True
                    result.reasons.append(f"address {name}: unreadable range-address")
                    self.warn(kid, f"address {name}: unreadable range-address; widened", True)
            elif word == "dns-name":
                result.unresolved = True
                result.reasons.append(f"address {name} is dns-name {' '.join(kid.words())}: not resolved")
                self.warn(kid, f"address {name} is a DNS name; rules using it are widened", True)
            elif word == "wildcard-address":
                parsed = _wildcard(kid.words()[0]) if kid.words() else None
                if parsed is None:
                    result.unresolved = True
                    result.reasons.append(f"address {name}: unreadable wildcard-address")
                    continue
                result.nets.append(parsed[0])
                if not parsed[1]:
                    result.reasons.append(f"address {name}: wildcard {kid.words()[0]} widened to {parsed[0]}")
                    self.warn(kid, f"address {name}: non-contiguous wildcard widened to {parsed[0]}", True)
            else:
                try:
                    result.nets.append(ipaddress.ip_network(word, strict=False))
                except ValueError:
                    result.unresolved = True
                    result.reasons.append(f"address {name}: {word!r} not understood")
                    self.warn(kid, f"address {name}: {word!r} not understood; widened", True)
        if not node.kids():
            result.unresolved = True
            result.reasons.append(f"address {name} has no (active) value")
        return result

    def _read_set(
        self, book: _Book, name: str, node: ConfigNode, zone: str | None, seen: frozenset[str]
    ) -> _Resolved:
        result = _Resolved(refs=[book.key(name)])
        if name in seen:
            result.unresolved = True
            result.reasons.append(f"address-set {name} contains itself")
            return result
        if len(seen) >= MAX_NESTING:
            result.unresolved = True
            result.reasons.append(f"address-set {name} is nested more than {MAX_NESTING} levels deep: not followed")
            self.warn(node, f"address-set {name} is nested more than {MAX_NESTING} levels deep; widened", True)
            return result
        for member in _values(node, "address") + _values(node, "address-set"):
            inner = self.resolve_name(member, zone, seen | {name})
            result.nets.extend(inner.nets)
            result.refs.extend(inner.refs)
            result.reasons.extend(inner.reasons)
            result.unresolved |= inner.unresolved
        return result

    def address_field(
        self, names: list[str], zone: str | None, policy: ConfigNode
    ) -> tuple[AddressSet, list[str], list[str]]:
        """(AddressSet, object keys, widening reasons) for a match list of names."""
        if not names:
            return ANY_ADDRESS, [], ["address match missing; widened to any"]
        nets: list[IPNetwork] = []
        refs: list[str] = []
        reasons: list[str] = []
        unresolved = False
        for name in names:
            if name in _ANY_WORDS:
                nets.extend(_ANY_WORDS[name].include)
                continue
            found = self.resolve_name(name, zone)
            if f"address {name!r} is not defined" in found.reasons:
                where = f"zone {zone} or global" if zone else "the global address book"
                self.warn(policy, f"address {name!r} is not defined in {where}; rule widened", True)
            nets.extend(found.nets)
            refs.extend(found.refs)
            reasons.extend(found.reasons)
            unresolved |= found.unresolved
        if unresolved:
            nets = [ANY_V4, ANY_V6]
        if names == ["any"]:
            return ANY_ADDRESS, refs, reasons
        unique = tuple(dict.fromkeys(nets))
        return AddressSet(unique, names=tuple(names)), list(dict.fromkeys(refs)), reasons

    # -- applications ------------------------------------------------------------------
    def read_applications(self) -> None:
        apps = self.root.child("applications")
        for kid in apps.kids() if apps else []:
            if kid.word not in ("application", "application-set"):
                self.warn(kid, f"applications statement {kid.word!r} not understood; ignored")
                continue
            target = self.applications if kid.word == "application" else self.application_sets
            for entry in kid.kids():
                target[entry.word] = entry
        for name, node in self.applications.items():
            self.add_object(self.app_key(name), "service", node)
        for name, node in self.application_sets.items():
            members = tuple(_values(node, "application") + _values(node, "application-set"))
            self.add_object(self.app_key(name), "service-group", node, members)

    def app_key(self, name: str) -> str:
        clash = any(name in book.entries or name in book.sets for book in self.books.values())
        return f"applications/{name}" if clash else name

    def resolve_application(
        self, name: str, node: ConfigNode, seen: frozenset[str] = frozenset()
    ) -> tuple[list[Service], list[str], list[str]]:
        """(services, object keys, widening reasons) for one application or set name."""
        if name == "any":
            return [ANY_SERVICE], [], []
        if name in self.applications:
            match = read_application(name, self.applications[name], lambda m: self.warn(node, m, True))
            return match.services, [self.app_key(name)], match.reasons
        if name in self.application_sets and len(seen) >= MAX_NESTING:
            self.warn(node, f"application-set {name!r} is nested more than {MAX_NESTING} levels deep; widened to "
                      "any service", True)
            return [ANY_SERVICE], [], [f"application-set {name!r} nested too deep"]
        if name in self.application_sets and name not in seen:
            services: list[Service] = []
            refs, reasons = [self.app_key(name)], []
            members = self.application_sets[name]
            for member in _values(members, "application") + _values(members, "application-set"):
                s, r, why = self.resolve_application(member, node, seen | {name})
                services.extend(s)
                refs.extend(r)
                reasons.extend(why)
            return services, refs, reasons
        if name in JUNOS_DEFAULT_APPLICATIONS:
            return list(JUNOS_DEFAULT_APPLICATIONS[name]), [], []
        what = "predefined application" if name.startswith("junos-") else "application"
        self.warn(node, f"{what} {name!r} is not known; rule widened to any service", True)
        return [ANY_SERVICE], [], [f"{what} {name!r} unknown"]

    # -- policies ----------------------------------------------------------------------
    def make_rule(
        self, rule_id: str, policy: ConfigNode, from_zones: tuple[str, ...], to_zones: tuple[str, ...]
    ) -> Rule:
        reasons: list[str] = []
        match = policy.child("match")
        then = policy.child("then")
        action = self._action(policy, then, reasons)
        src_zone = from_zones[0] if len(from_zones) == 1 and not rule_id.startswith("global/") else None
        dst_zone = to_zones[0] if len(to_zones) == 1 and not rule_id.startswith("global/") else None
        values = {key: _values(match, key) for key in ("source-address", "destination-address", "application")}
        sources, src_refs, src_why = self.address_field(values["source-address"], src_zone, policy)
        destinations, dst_refs, dst_why = self.address_field(values["destination-address"], dst_zone, policy)
        source_negate = bool(match and match.child("source-address-excluded"))
        destination_negate = bool(match and match.child("destination-address-excluded"))
        if source_negate and src_why:
            sources, source_negate = ANY_ADDRESS, False
            src_why.append("excluded source not exact; widened to any")
        if destination_negate and dst_why:
            destinations, destination_negate = ANY_ADDRESS, False
            dst_why.append("excluded destination not exact; widened to any")
        reasons += src_why + dst_why
        services: list[Service] = []
        app_refs: list[str] = []
        for name in values["application"]:
            s, r, why = self.resolve_application(name, policy)
            services.extend(s)
            app_refs.extend(r)
            reasons.extend(why)
        if not values["application"]:
            services, reasons = [ANY_SERVICE], [*reasons, "application match missing; widened to any"]
        if ANY_SERVICE in services:
            services = [ANY_SERVICE]
        dynamic: list[str] = []
        for kid in match.kids() if match else []:
            if kid.word in ("source-address", "destination-address", "application",
                            "source-address-excluded", "destination-address-excluded"):
                continue
            if rule_id.startswith("global/") and kid.word in ("from-zone", "to-zone"):
                continue
            if kid.word == "dynamic-application":
                dynamic = [w for w in kid.words() if w not in ("any", "none")]
                if dynamic:
                    reasons.append("dynamic-application " + " ".join(dynamic) + " not decided by packet")
                    self.warn(kid, f"policy {rule_id}: dynamic-application {' '.join(dynamic)} is decided by "
                              "application identification, not the packet; "
                              + ("widened to its addresses and services" if policy.find("then", "permit")
                                 else "rule marked uncertain"), True)
                continue
            known = kid.word in _NARROWING_MATCH_KEYS
            reasons.append(f"match {kid.word} {' '.join(kid.words())} not modelled".rstrip())
            self.warn(kid, f"policy {rule_id}: match {kid.word} " + ("not modelled" if known else "not understood")
                      + "; rule marked uncertain", True)
        comment = " ".join(_values(policy, "description"))
        for kid in policy.kids():
            if kid.word in ("match", "then", "description"):
                continue
            reasons.append(f"policy option {kid.word} not modelled")
            self.warn(kid, f"policy {rule_id}: {kid.word!r} not modelled; rule marked uncertain", True)
        if values["source-address"] == [] or values["destination-address"] == []:
            self.warn(policy, f"policy {rule_id}: address match missing; widened to any", True)
        return Rule(
            rule_id=rule_id, position=0, action=action, span=self.span(policy), sources=sources,
            destinations=destinations, services=tuple(dict.fromkeys(services)), source_negate=source_negate,
            destination_negate=destination_negate, from_zones=from_zones, to_zones=to_zones,
            enabled=not policy.disabled(), applications=tuple(dynamic),
            log=bool(then and then.child("log")), comment=comment,
            object_refs=tuple(dict.fromkeys(src_refs + dst_refs + app_refs)),
            widened=tuple(dict.fromkeys(reasons)), uncertain=bool(reasons),
        )

    def _action(self, policy: ConfigNode, then: ConfigNode | None, reasons: list[str]) -> Action:
        found = [w for w in ("permit", "deny", "reject") if then and then.child(w)]
        for kid in then.kids() if then else []:
            if kid.word not in ("permit", "deny", "reject", "log", "count"):
                self.warn(kid, f"policy action option {kid.word!r} not modelled")
        if len(found) == 1:
            return {"permit": Action.PERMIT, "deny": Action.DENY, "reject": Action.REJECT}[found[0]]
        reasons.append("policy action missing or ambiguous; treated as permit")
        self.warn(policy, "policy has no single permit/deny/reject action; treated as an uncertain permit", True)
        return Action.PERMIT

    def read_policies(self) -> tuple[dict[tuple[str, str], tuple[ConfigNode, list[Rule]]], list[Rule], Action]:
        policies = self.root.find("security", "policies", include_inactive=True)
        contexts: dict[tuple[str, str], tuple[ConfigNode, list[Rule]]] = {}
        global_rules: list[Rule] = []
        default = Action.DENY
        if policies is None:
            return contexts, global_rules, default
        for kid in policies.kids(include_inactive=True):
            if kid.word == "from-zone":
                for src in kid.kids(include_inactive=True):
                    to_zone = src.child("to-zone", include_inactive=True)
                    for dst in to_zone.kids(include_inactive=True) if to_zone else []:
                        rules = contexts.setdefault((src.word, dst.word), (dst, []))[1]
                        policy_list = dst.child("policy", include_inactive=True)
                        for policy in policy_list.kids(include_inactive=True) if policy_list else []:
                            rule_id = f"{src.word}->{dst.word}/{policy.word}"
                            rules.append(self.make_rule(rule_id, policy, (src.word,), (dst.word,)))
            elif kid.word == "global":
                policy_list = kid.child("policy", include_inactive=True)
                for policy in policy_list.kids(include_inactive=True) if policy_list else []:
                    match = policy.child("match")
                    zones = {}
                    for key in ("from-zone", "to-zone"):
                        words = _values(match, key)
                        zones[key] = () if "any" in words else tuple(words)
                    rule = self.make_rule(f"global/{policy.word}", policy, zones["from-zone"], zones["to-zone"])
                    global_rules.append(rule)
            elif kid.word == "default-policy" and not kid.inactive:
                words = kid.words()
                if words == ["permit-all"]:
                    default = Action.PERMIT
                elif words != ["deny-all"]:
                    self.warn(kid, f"default-policy {' '.join(words)!r} not understood; treated as permit-all", True)
                    default = Action.PERMIT
        return contexts, global_rules, default

    # -- assembly ----------------------------------------------------------------------
    def _note_zone(self, zone: str, node: ConfigNode | None) -> None:
        if zone in self.zones:
            return
        self.zones.append(zone)
        if zone == JUNOS_HOST:
            self.warn(node, "junos-host traffic also depends on host-inbound-traffic, which is not modelled")
        else:
            self.warn(node, f"policy names zone {zone!r}, which is not defined as a security-zone")

    def read_nat(self, layer3: list[Interface]) -> tuple[list[NatRule], list[SourceSpan]]:
        """``security nat`` static/destination/source rule-sets (``srx.nat``)."""

        def address_name(name: str) -> tuple[list[IPNetwork], bool]:
            found = self.resolve_name(name, None)
            return list(found.nets), not found.unresolved

        addresses, zone_of, members = interface_facts(self.root, layer3)
        reader = NatReader(self.span, self.warn, address_name, zone_of, addresses, members)
        return read_nat(self.root.find("security", "nat"), reader)

    def run(self) -> Ruleset:
        self.read_zones()
        self.read_address_books()
        self.read_applications()
        contexts, global_rules, default = self.read_policies()
        for (src, dst), (node, _) in contexts.items():
            self._note_zone(src, node)
            self._note_zone(dst, node)
        for rule in global_rules:
            for zone in rule.from_zones + rule.to_zones:
                self._note_zone(zone, None)
        if self.root.child("apply-groups") or self.root.find("security", "apply-groups"):
            self.warn(self.root.child("apply-groups") or self.root.find("security", "apply-groups"),
                      "apply-groups: statements inherited from configuration groups are not expanded")
        if self.root.child("logical-systems") or self.root.child("tenants"):
            self.warn(self.root.child("logical-systems") or self.root.child("tenants"),
                      "logical-systems/tenants policies are not modelled")
        filters: dict[str, Filter] = {}
        for (src, dst), (node, rules) in contexts.items():
            name = f"from-zone {src} to-zone {dst}"
            combined = [dataclasses.replace(r, position=i) for i, r in enumerate(rules + global_rules, 1)]
            filters[name] = Filter(name, combined, default, self.span(node),
                                   "context policies, then global policies, then default-policy")
        global_node = self.root.find("security", "policies", "global", include_inactive=True)
        filters[GLOBAL_FILTER] = Filter(
            GLOBAL_FILTER, [dataclasses.replace(r, position=i) for i, r in enumerate(global_rules, 1)], default,
            self.span(global_node) if global_node else None, "global policies, then default-policy",
        )
        paths: dict[tuple[str, str], tuple[str, ...]] = {
            (a, b): ((f"from-zone {a} to-zone {b}",) if (a, b) in contexts else (GLOBAL_FILTER,))
            for a in self.zones for b in self.zones
        }
        unread: list[RoutingGap] = []

        def left_out(node: ConfigNode, message: str) -> None:
            """An address or route not read is a warning and a routing gap on the same line."""
            self.warn(node, message)
            unread.append(RoutingGap(self.line_span(node), f"{message}, {KEEPS_PATHS}"))

        layer3 = interfaces(self.root, self.span, left_out)
        nat_rules, nat_statements = self.read_nat(layer3)
        routes = static_routes(self.root, self.span, left_out)
        host = self.root.find("system", "host-name")
        name = host.words()[0] if host and host.words() else Path(self.file).stem
        return Ruleset(
            name=name, vendor="srx", file=self.file, zones=list(self.zones), filters=filters, paths=paths,
            default_path_action=default, objects=self.objects, warnings=self.warnings,
            nat_statements=nat_statements, nat_rules=nat_rules, interfaces=layer3, routes=routes,
            routing_gaps=sorted(unread + routing_gaps(self.root, self.line_span), key=lambda g: g.span.line),
        )


class SrxParser:
    """Juniper SRX security policies, hierarchical or display-set."""

    vendor = "srx"

    def detect(self, text: str) -> float:
        return confidence(text)

    @with_collector_paused
    def parse(self, text: str, file: str) -> Ruleset:
        ruleset = _Normaliser(read_junos_config(text, file), file).run()
        return require_understood(ruleset, "Junos SRX security configuration (hierarchical or display-set)")


PARSER = SrxParser()
