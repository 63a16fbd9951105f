"""``plantgate import firewall``: propose a firewall's treaty entry from its config.

The config already says which networks each interface faces; the treaty says which networks
each zone holds. Joining the two gives the zone map a person would otherwise type (and
mistype). Only certain mappings are proposed: a config zone whose networks fall in no single
treaty zone is listed unresolved with the reason, never guessed.

The entry goes to ``DIR/firewalls-imported.yaml``, a file of its own, as ``import assets``
does with assets: the loader concatenates the ``firewalls`` lists of all files, and a
reviewer sees exactly what the import added. An entry with the same id or config already in
the treaty is not written again: a differing zone map is reported as a conflict. Exit codes,
as every importer: 0 written (or nothing to do), 1 unresolved zones or conflicts reported
(the rest was written), 2 invalid input.
"""

from __future__ import annotations

import sys
from io import StringIO
from pathlib import Path

import click
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from plantgate.cli import EXIT_FINDINGS
from plantgate.errors import InputError
from plantgate.feeds.asset_inventory import slug
from plantgate.firewalls.base import parse_config
from plantgate.firewalls.linux.ip_routes import attach_routing, read_routing_file
from plantgate.load import load_site
from plantgate.model.firewalls import ROUTING_VENDORS, FirewallEntry
from plantgate.onboard.merge import write_atomically
from plantgate.onboard.zone_map import derive_zone_map, routed_zones
from plantgate.terminal import make_console

IMPORTED_FILE = "firewalls-imported.yaml"
console = make_console(soft_wrap=True)


def _relative_path(path: Path, folder: Path, what: str = "config") -> str:
    """The file's path relative to the treaty folder; InputError when it lies outside."""
    resolved, root = path.resolve(), folder.resolve()
    if not resolved.is_relative_to(root):
        raise InputError.at(str(path), 0, 0, f"the {what} lies outside the treaty folder",
                            f"a file inside {folder} (the treaty names it by a relative path)")
    return resolved.relative_to(root).as_posix()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 120
    return yaml


def _dump(document: CommentedMap) -> str:
    stream = StringIO()
    _yaml().dump(document, stream)
    return stream.getvalue()


def entry_yaml(entry: FirewallEntry) -> str:
    """The entry as the YAML list item written to the imported file (also what is printed)."""
    return _dump(CommentedMap(firewalls=CommentedSeq([_item(entry)])))


def _item(entry: FirewallEntry) -> CommentedMap:
    item = CommentedMap()
    for key, value in entry.model_dump(mode="json", exclude_defaults=True).items():
        if isinstance(value, dict):
            value = CommentedMap(value)
            value.fa.set_flow_style()
        item[key] = value
    return item


def write_imported_firewall(folder: Path, entry: FirewallEntry) -> Path:
    """Append the entry to DIR/firewalls-imported.yaml (comments kept), via a temp file and a rename."""
    target = folder / IMPORTED_FILE
    if target.exists():
        document = _yaml().load(target.read_text(encoding="utf-8")) or CommentedMap()
    else:
        document = CommentedMap()
        document.yaml_set_start_comment("Firewalls added by `plantgate import firewall`; review, then edit freely.\n"
                                        "Zone maps are derived from interface addresses; unresolved zones are "
                                        "reported, never written.")
    document.setdefault("firewalls", CommentedSeq()).append(_item(entry))
    write_atomically(target, _dump(document))
    return target


@click.command("firewall")
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--treaty", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The treaty folder the firewall joins (the config must lie inside it).")
@click.option("--vendor", default=None, help="The config's vendor (detected from the content when omitted).")
@click.option("--id", "firewall_id", default=None, help="The entry's id (default: from the config's file name).")
@click.option("--context", default="", help="VDOM, vsys or device group inside the config, if several.")
@click.option("--routing", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="iptables/nftables: the firewall's ip addr / ip route / ip rule output (inside the treaty folder), "
              "whose addresses give the zone map.")
@click.option("--dry-run", is_flag=True, help="Print the proposed entry; write nothing.")
def import_firewall(config: Path, folder: Path, vendor: str | None, firewall_id: str | None, context: str,
                    routing: Path | None, dry_run: bool) -> None:
    """Propose CONFIG's treaty entry: vendor, config path and the zone map its interface addresses give.

    A config zone whose interfaces' networks all lie in one treaty zone's networks maps to that
    zone; the others are listed unresolved with the reason (exit 1). Treaty zones reached only
    through a static route's next hop are listed as evidence for the entry's joins. An iptables
    or nftables ruleset holds no addresses: --routing names the host's iproute2 output, which
    does, and goes into the entry as ``routing:``. Without --dry-run the entry is appended to
    DIR/firewalls-imported.yaml.
    """
    if not config.is_file():
        raise InputError.at(str(config), 0, 0, "firewall config not found", "a firewall config file")
    site = load_site(folder)
    relative = _relative_path(config, site.folder)
    ruleset = parse_config(config, vendor, context)  # read and, without --vendor, detected once
    chosen = ruleset.vendor
    fields = {"id": firewall_id or slug(config.stem) or "firewall", "vendor": chosen, "config": relative,
              "context": context}
    if routing is not None:
        if chosen not in ROUTING_VENDORS:
            raise InputError.at("<options>", 0, 0, f"--routing is read only for iptables and nftables configs; "
                                f"{config} is {chosen}, whose config states its own addresses and routes",
                                "no --routing for this config")
        fields["routing"] = _relative_path(routing, site.folder, "routing file")
        attach_routing(ruleset, read_routing_file(routing))
    derived = derive_zone_map(ruleset, site.treaty)
    zones = {d.config_zone: d.treaty_zone for d in derived if d.treaty_zone}
    try:
        entry = FirewallEntry.model_validate({**fields, "zones": zones})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError.at("<options>", 0, 0, f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}",
                            "--id: letters, digits and _ . : -, starting with a letter or digit") from None
    console.print(entry_yaml(entry).rstrip(), highlight=False, markup=False)
    for d in derived:
        verdict = f"-> {d.treaty_zone}" if d.treaty_zone else "unresolved"
        console.print(f"zone {d.config_zone} {verdict}: {d.reason}", highlight=False, markup=False)
    for routed in routed_zones(ruleset, site.treaty):
        console.print(f"joins (through a static route) {routed}", highlight=False, markup=False)
    conflicts = _conflicts(site.treaty.firewalls, entry)
    for conflict in conflicts:
        console.print(f"conflict: {conflict}; not written", highlight=False, markup=False)
    unresolved = [d for d in derived if d.treaty_zone is None]
    known = any(f.id == entry.id or f.config == entry.config for f in site.treaty.firewalls)
    if not known and not dry_run:
        console.print(f"wrote {write_imported_firewall(site.folder, entry)}", highlight=False, markup=False)
    verb = "unchanged" if known else ("would add" if dry_run else "added")
    console.print(f"{entry.id}: {verb}, {len(entry.zones)} zones mapped, {len(unresolved)} unresolved, "
                  f"{len(conflicts)} conflicts", highlight=False, markup=False)
    if unresolved or conflicts:
        sys.exit(EXIT_FINDINGS)


def _conflicts(existing: list[FirewallEntry], entry: FirewallEntry) -> list[str]:
    """Where the treaty's entry for this firewall says otherwise than the config."""
    out = []
    for other in existing:
        if other.id != entry.id and other.config != entry.config:
            continue
        if other.id != entry.id:
            out.append(f"config {entry.config} is already firewall {other.id}")
        for name, zone in entry.zones.items():
            if other.zones.get(name, zone) != zone:
                out.append(f"{other.id} maps {name} to {other.zones[name]}, its interface addresses say {zone}")
    return out
