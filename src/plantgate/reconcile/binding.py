"""How a treaty firewall entry places the config's filters on pairs of treaty zones.

This is the step from config to zones that used to fail silently: an ASA export without
``nameif``/``access-group`` lines, or an iptables FORWARD chain without ``-i``/``-o``,
gave no zone pair at all, so every check, the report and the access map said nothing,
and "nothing" read as an all-clear. Here each entry is bound to its config explicitly,
and whatever cannot be bound is either an input error (a zone-map key that names nothing
in the config) or a coverage item (``reconcile.coverage``).

Three ways a config reaches treaty zones:

- **Interfaces or zones** (every vendor with interfaces or security zones): ``zones`` maps a
  config name to a treaty zone; a session from zone A to zone B crosses the config's
  path from A's names to B's names.
- **ACLs of a fragment** (an ASA export with only ``access-list`` lines, so no path): ``zones``
  may name an ACL, which then is the ingress filter of its zone toward every other zone
  the firewall joins. Zones without an ACL of their own stay unplaced as sources.
- **Networks** (``joins``): zones listed there are joined without naming interfaces. A flow
  is placed in them by the zones' networks (every permitted set is already limited to the
  two zones' networks), and it may cross any of the config's forwarding paths: the union
  over them is taken, which can only widen. For a fragment without ACL keys, each ACL
  is taken as one such path.

Synthetic paths of a fragment go into a copy of the ruleset (``treaty:<zone>`` is the
egress side), so every analysis downstream reads one ``Ruleset`` with paths, as usual.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from plantgate.errors import InputError, InputProblem, Location
from plantgate.firewalls.linux.chains import OTHER_INTERFACES, interface_zone
from plantgate.firewalls.ruleset import SELF_ZONES, Ruleset
from plantgate.model import Treaty
from plantgate.model.firewalls import FirewallEntry
from plantgate.reconcile.coverage import CoverageItem, FirewallCoverage, GapKind, PairPlacement

MINOR_INTERFACES = frozenset({"lo", "*"})
"""Loopback, and Linux's "every interface the config never names": noted, not a coverage gap."""
EGRESS_PREFIX = "treaty:"
"""Synthetic egress side of a fragment's paths: ``treaty:<zone id>``."""

Crossing = tuple[str, str]
"""A config (ingress, egress) pair of the bound ruleset."""


@dataclass
class Binding:
    """A firewall entry bound to its config: the ruleset to analyse and where its filters apply."""

    ruleset: Ruleset
    zones: list[str]
    """Treaty zones the firewall joins: the zone map's values, then ``joins``, each once."""
    crossings: dict[tuple[str, str], list[Crossing]]
    """Ordered treaty zone pair -> the config pairs its sessions cross (absent: not placed)."""
    ingress_of: dict[str, list[str]]
    """Treaty zone -> the config names its sessions enter through (for display and routing)."""
    coverage: FirewallCoverage
    parsed: Ruleset
    """The config as its parser read it (for a fragment: without the synthetic paths)."""
    unmapped: list[str] = field(default_factory=list)


Locate = Callable[..., Location]


def bind(entry: FirewallEntry, index: int, ruleset: Ruleset, treaty: Treaty, locate: Locate) -> Binding:
    """Bind one entry to its parsed config; InputError for zone-map keys that match nothing."""
    fragment = not ruleset.paths and not ruleset.zones
    config_names = _config_names(ruleset)
    problems: list[InputProblem] = []
    zone_keys: list[tuple[str, str]] = []  # (config zone, treaty zone)
    filter_keys: dict[str, str] = {}
    unnamed: dict[str, str] = {}  # Linux interface the rules never name -> the config zone governing it
    for key, zone_id in entry.zones.items():
        if key in config_names:
            zone_keys.append((key, zone_id))
        elif fragment and key in ruleset.filters:
            filter_keys[key] = zone_id
        elif key not in ruleset.filters and key not in ruleset.objects and not _near(key, config_names) \
                and (governed_by := _linux_interface_zone(key, ruleset)) is not None:
            zone_keys.append((governed_by, zone_id))
            unnamed[key] = governed_by
        else:
            problems.append(_key_problem(entry, index, key, ruleset, config_names, fragment, locate))
    if problems:
        raise InputError(problems)
    zones = list(dict.fromkeys([*entry.zones.values(), *entry.joins]))
    by_network = [z for z in entry.joins if z not in entry.zones.values()]
    if fragment:
        ingress_of, crossings, bound = _bind_fragment(ruleset, zones, filter_keys)
    else:
        ingress_of, crossings, bound = _bind_native(ruleset, zones, zone_keys, by_network)
    coverage = FirewallCoverage(entry.id, entry.vendor, zones)
    for (a, b), pairs in crossings.items():
        coverage.placed.append(PairPlacement(a, b, _via(pairs, a in by_network or b in by_network, fragment)))
    keyed = {config_zone for config_zone, _ in zone_keys}
    unmapped = [] if by_network else [z for z in ruleset.zones if z not in keyed and z not in SELF_ZONES]
    entry_at = locate("firewalls", index)
    for key, governed_by in unnamed.items():
        coverage.items.append(CoverageItem(
            GapKind.UNNAMED_INTERFACE, key, f"no rule names this interface: the rules for {_describe(governed_by)} "
            "govern it", entry_at, hides=False))
    _coverage_items(coverage, entry, ruleset, treaty, zones, crossings, unmapped, by_network, filter_keys,
                    fragment, entry_at)
    return Binding(bound, zones, crossings, ingress_of, coverage, ruleset, unmapped)


LINUX_VENDORS = frozenset({"iptables", "nftables"})


def _linux_interface_zone(interface: str, ruleset: Ruleset) -> str | None:
    """The config zone governing a Linux interface that no rule names: the longest wildcard
    zone matching it (``eth+``), else ``*`` (every interface the rules do not name).

    A Linux config cannot list the host's interfaces; its rules name some, and every other
    interface meets only the rules without ``-i``/``-o`` (or with a matching wildcard).
    """
    if ruleset.vendor not in LINUX_VENDORS or not interface or interface in SELF_ZONES:
        return None
    zone = interface_zone(interface, ruleset.zones)
    return None if zone == interface else zone


def _describe(config_zone: str) -> str:
    return "every interface the rules do not name ('*')" if config_zone == OTHER_INTERFACES else \
        f"the wildcard '{config_zone}'"


def _config_names(ruleset: Ruleset) -> list[str]:
    names = list(ruleset.zones)
    for a, b in ruleset.paths:
        names += [a, b]
    return list(dict.fromkeys(names))


def _key_problem(entry: FirewallEntry, index: int, key: str, ruleset: Ruleset, names: list[str], fragment: bool,
                 locate: Locate) -> InputProblem:
    """A zone-map key that names nothing usable in the config, with what the config does have."""
    where = locate("firewalls", index, "zones", key)
    forwarding = [n for n in names if n not in SELF_ZONES]
    if ruleset.vendor in LINUX_VENDORS and (key in ruleset.filters or key in ruleset.objects):
        return InputProblem(where, f"'{key}' is a chain of {entry.config}, not an interface",
                            f"firewalls.{index}.zones",
                            "the host's interface names, or the zones it joins listed under joins")
    if key in ruleset.filters and not fragment:
        applied = {name for path in ruleset.paths.values() for name in path}
        state = ("it is applied through the interfaces' bindings" if key in applied else
                 "no interface binds it, so it filters nothing on this device")
        return InputProblem(where, f"'{key}' is an ACL/filter of {entry.config}, not an interface or zone: "
                            f"{state}", f"firewalls.{index}.zones",
                            "an interface or zone of the config: " + (", ".join(forwarding) or "(none)"))
    have = []
    if forwarding:
        have.append("interfaces/zones " + ", ".join(forwarding))
    if fragment and ruleset.filters:
        have.append("ACLs " + ", ".join(ruleset.filters))
    near = _near(key, [*names, *(ruleset.filters if fragment else [])])
    hint = f" (did you mean '{near}'?)" if near else ""
    return InputProblem(where, f"'{key}' matches no interface, zone or ACL of {entry.config}{hint}",
                        f"firewalls.{index}.zones",
                        "a name the config has: " + ("; ".join(have) or "the config names no interface, zone or ACL; "
                                                     "list the zones the firewall joins under joins"))


def _near(key: str, names: list[str]) -> str:
    """A name that differs from ``key`` only in letter case (a likely typo), or ''."""
    return next((n for n in names if n != key and n.lower() == key.lower()), "")


def _forwarding_zones(ruleset: Ruleset) -> list[str]:
    return [z for z in _config_names(ruleset) if z not in SELF_ZONES]


def _bind_native(ruleset: Ruleset, zones: list[str], zone_keys: list[tuple[str, str]],
                 by_network: list[str]) -> tuple[dict[str, list[str]], dict[tuple[str, str], list[Crossing]], Ruleset]:
    ingress_of: dict[str, list[str]] = {}
    for config_zone, zone_id in zone_keys:
        if config_zone not in ingress_of.setdefault(zone_id, []):
            ingress_of[zone_id].append(config_zone)
    every = _forwarding_zones(ruleset)
    for zone_id in by_network:
        ingress_of[zone_id] = list(every)
    crossings: dict[tuple[str, str], list[Crossing]] = {}
    for a in zones:
        for b in zones:
            if a == b:
                continue
            pairs = [(x, y) for x in ingress_of.get(a, []) for y in ingress_of.get(b, [])
                     if x != y or (x, y) in ruleset.paths]
            if pairs:
                crossings[(a, b)] = pairs
    return ingress_of, crossings, ruleset


def _bind_fragment(ruleset: Ruleset, zones: list[str], filter_keys: dict[str, str]
                   ) -> tuple[dict[str, list[str]], dict[tuple[str, str], list[Crossing]], Ruleset]:
    ingress_of: dict[str, list[str]] = {}
    if filter_keys:
        for acl, zone_id in filter_keys.items():
            ingress_of.setdefault(zone_id, []).append(acl)
    else:
        for zone_id in zones:
            ingress_of[zone_id] = list(ruleset.filters)
    crossings: dict[tuple[str, str], list[Crossing]] = {}
    paths: dict[tuple[str, str], tuple[str, ...]] = {}
    for a in zones:
        for b in zones:
            if a == b or not ingress_of.get(a):
                continue
            crossings[(a, b)] = [(acl, EGRESS_PREFIX + b) for acl in ingress_of[a]]
            for acl in ingress_of[a]:
                paths[(acl, EGRESS_PREFIX + b)] = (acl,)
    synthetic = list(dict.fromkeys([x for x, _ in paths] + [y for _, y in paths]))
    bound = dataclasses.replace(ruleset, zones=synthetic, paths=paths, filters=dict(ruleset.filters))
    return ingress_of, crossings, bound


def _via(pairs: list[Crossing], by_network: bool, fragment: bool) -> str:
    if fragment:
        acls = list(dict.fromkeys(x for x, _ in pairs))
        how = "by the zones' networks, " if by_network else ""
        return how + ("ACL " if len(acls) == 1 else "ACLs ") + ", ".join(acls)
    if by_network:
        return "by the zones' networks, over " + ", ".join(dict.fromkeys(f"{x}->{y}" for x, y in pairs))
    return "config " + ", ".join(f"{x}->{y}" for x, y in pairs)


def _coverage_items(coverage: FirewallCoverage, entry: FirewallEntry, ruleset: Ruleset, treaty: Treaty,
                    zones: list[str], crossings: dict[tuple[str, str], list[Crossing]], unmapped: list[str],
                    by_network: list[str], filter_keys: dict[str, str], fragment: bool, entry_at: Location) -> None:
    add = coverage.items.append
    if len(zones) < 2:
        named = ", ".join(zones) or "none"
        add(CoverageItem(GapKind.NO_ZONE_PAIR, entry.id,
                         f"the treaty places it in {len(zones)} zone(s) ({named}); a firewall is reconciled only "
                         "between two or more zones (map its interfaces or ACLs in zones, or list them in joins)",
                         entry_at))
    elif not crossings:
        add(CoverageItem(GapKind.NO_ZONE_PAIR, entry.id,
                         "no filter of the config lies between any two of its zones " + f"({', '.join(zones)})",
                         entry_at))
    for zone in unmapped:
        add(CoverageItem(GapKind.UNMAPPED_INTERFACE, zone,
                         "config interface or zone not mapped to a treaty zone; flows through it are not reconciled",
                         entry_at, hides=zone not in MINOR_INTERFACES))
    if fragment and filter_keys:
        for acl, flt in ruleset.filters.items():
            if acl not in filter_keys and flt.rules:
                where = Location(flt.span.file, flt.span.line) if flt.span else entry_at
                add(CoverageItem(GapKind.UNPLACED_FILTER, acl, "ACL in the config, but the zone map does not say "
                                 "which zone it guards; its rules are not reconciled", where))
    if fragment and not filter_keys and len(ruleset.filters) > 1 and crossings:
        add(CoverageItem(GapKind.BY_NETWORKS, entry.id,
                         "no ACL is named in the zone map: each zone pair is judged by every ACL of the fragment "
                         f"({', '.join(ruleset.filters)}), which can only widen", entry_at, hides=False))
    if not fragment:
        applied = {name for path in ruleset.paths.values() for name in path}
        for name, flt in ruleset.filters.items():
            if name not in applied and flt.rules:
                where = Location(flt.span.file, flt.span.line) if flt.span else entry_at
                add(CoverageItem(GapKind.UNBOUND_FILTER, name, "bound to no interface: it filters nothing on the "
                                 "device, whose other settings (e.g. security levels) decide instead", where,
                                 hides=False))
    if by_network:
        add(CoverageItem(GapKind.BY_NETWORKS, ", ".join(by_network),
                         "joined without naming interfaces: flows are placed in these zones by their networks, "
                         "over every forwarding path of the config", entry_at, hides=False))
        for zone_id in by_network:
            declared = treaty.zone(zone_id)
            if declared is not None and not declared.networks:
                add(CoverageItem(GapKind.ZONE_WITHOUT_NETWORKS, zone_id,
                                 "declares no networks, so it stands for every address here (over-reports)",
                                 entry_at, hides=False))
    if len(zones) >= 2 and crossings:
        for a in zones:
            for b in zones:
                if a != b and (a, b) not in crossings:
                    why = ("no ACL of the fragment is named as its ingress filter" if fragment
                           else "no path of the config joins their interfaces")
                    add(CoverageItem(GapKind.UNPLACED_PAIR, f"{a} -> {b}", f"sessions from {a} to {b} are not "
                                     f"modelled: {why}", entry_at))
    joined = set(zones)
    for conduit in treaty.conduits:
        pair = (conduit.initiating_zone, conduit.responding_zone)
        if entry.id in conduit.enforced_by and not (pair[0] in joined and pair[1] in joined):
            missing = ", ".join(z for z in pair if z not in joined)
            add(CoverageItem(GapKind.UNPLACED_PAIR, f"{pair[0]} -> {pair[1]}",
                             f"conduit {conduit.id} names this firewall, which does not join {missing}", entry_at))
    addressed = {name for i in ruleset.interfaces if i.addresses for name in i.config_names}
    unverified = [name for name in entry.zones if name not in addressed]
    if unverified:
        why = ("the config holds no interface addresses" if not ruleset.interfaces
               else "no interface of these config zones has an address in the config")
        add(CoverageItem(GapKind.ZONE_MAP_UNVERIFIED, ", ".join(unverified), f"{why}: the treaty's mapping of "
                         "them is taken as written, neither confirmed nor contradicted", entry_at, hides=False))
    for span in ruleset.nat_statements:
        add(CoverageItem(GapKind.NAT, f"line {span.line}", "NAT is not followed: results assume packets unchanged "
                         f"({span.text.strip()[:80]})", Location(span.file, span.line)))
    for warning in ruleset.warnings:
        if warning.widened:
            add(CoverageItem(GapKind.WIDENED, f"line {warning.line}", warning.message,
                             Location(warning.file, warning.line), hides=False))
