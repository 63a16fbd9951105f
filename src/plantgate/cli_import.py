"""``plantgate import assets``: merge an OT asset inventory into the treaty, never overwriting it.

The treaty's assets are reviewed by people; an inventory tool knows what is on the wire.
The merge adds devices the treaty lacks, matches the others by id, address or name, fills
the fields the treaty leaves empty (so running it twice changes nothing), and reports a
conflict only where both sides hold different values, for a person to settle.

New assets go to ``DIR/assets-imported.yaml``, a file of its own: the loader concatenates
the ``assets`` lists of all files, and a reviewer sees exactly what the import added.
Filled fields are inserted into the text of the file that holds the asset, nothing else of
it changes (see ``onboard.in_place``). Every file is written to a temporary name and
renamed, so it is either complete or untouched. A device type no role fits is imported as
``other`` with a note (or as ``--type-map`` says); other bad rows (file:line) abort the
whole import before anything is written. Exit codes, as every importer: 0 merged cleanly
or nothing to do, 1 conflicts reported (the rest was merged), 2 invalid input.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from plantgate.cli import EXIT_FINDINGS
from plantgate.cli_import_firewall import import_firewall
from plantgate.cli_seed import SEED_COMMANDS
from plantgate.errors import InputError, Location, ProblemCollector
from plantgate.feeds.asset_inventory import InventoryRow, read_inventory, slug
from plantgate.load import Site, load_site
from plantgate.model.assets import Asset
from plantgate.onboard.asset_fields import compare_fields
from plantgate.onboard.in_place import insert_fields
from plantgate.onboard.merge import write_atomically
from plantgate.onboard.type_map import TypeMap, load_type_map, role_for
from plantgate.terminal import make_console

IMPORTED_FILE = "assets-imported.yaml"
_COMPARED = ("name", "zone", "role", "vendor", "product", "version", "addresses", "description")
console = make_console(soft_wrap=True)


@dataclass(frozen=True)
class Conflict:
    row: InventoryRow
    asset_id: str
    field: str
    treaty_value: str
    inventory_value: str
    where: Location


@dataclass
class MergePlan:
    added: list[Asset]
    unchanged: list[str]
    conflicts: list[Conflict]
    fills: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _zone_for(site: Site, addresses: list[str]) -> str | None:
    from plantgate.checks.shared_services import zone_of_address
    zones = {z.id for z in (zone_of_address(site.treaty, a) for a in addresses) if z is not None}
    return zones.pop() if len(zones) == 1 else None


def _candidate(site: Site, row: InventoryRow, problems: ProblemCollector, type_map: TypeMap,
               notes: list[str]) -> dict[str, Any] | None:
    fields = dict(row.fields)
    where = Location(row.file, row.line)
    if "role" in fields:
        role = role_for(fields["role"], type_map)
        if role is None:
            notes.append(f"{where}: type {fields['role']!r} is not an asset role PlantGate knows: imported as other "
                         "(map it with --type-map FILE)")
            del fields["role"]  # not a stated role: a new asset gets 'other', an existing one keeps its own
            fields["_unknown_type"] = True
        else:
            fields["role"] = role.value
    if "zone" not in fields:
        zone = _zone_for(site, fields.get("addresses", []))
        if zone is None:
            problems.add(where, "no zone column and the addresses fall in no single treaty zone",
                         expected="a zone id, or an address inside one zone's networks")
            return None
        fields["zone"] = zone
        fields["_zone_computed"] = True
    elif site.treaty.zone(fields["zone"]) is None:
        problems.add(where, f"unknown zone {fields['zone']!r}",
                     expected="a zone id: " + ", ".join(z.id for z in site.treaty.zones))
        return None
    return fields


def _existing_match(site: Site, fields: dict[str, Any]) -> Asset | None:
    if "id" in fields:
        return site.treaty.asset(fields["id"])
    addresses = set(fields.get("addresses", []))
    by_address = next((a for a in site.treaty.assets if addresses & set(a.addresses)), None)
    if by_address is not None:
        return by_address
    return site.treaty.asset(slug(fields.get("name", ""))) if fields.get("name") else None


def plan_merge(site: Site, rows: list[InventoryRow], type_map: TypeMap | None = None) -> MergePlan:
    """Decide, for every row, add / fill / unchanged / conflict; raise InputError listing every bad row."""
    problems = ProblemCollector()
    plan = MergePlan([], [], [])
    new_ids: dict[str, int] = {}
    new_addresses: dict[str, int] = {}
    for row in rows:
        fields = _candidate(site, row, problems, type_map or {}, plan.notes)
        if fields is None:
            continue
        existing = _existing_match(site, fields)
        if existing is not None:
            _compare(site, row, fields, existing, plan)
            continue
        fields = {k: v for k, v in fields.items() if not k.startswith("_")}
        fields.setdefault("id", slug(fields.get("name", "")))
        fields.setdefault("role", "other")
        where = Location(row.file, row.line)
        if fields["id"] in new_ids:
            problems.add(where, f"asset {fields['id']!r} appears twice in the inventory",
                         expected=f"one row per asset (first on line {new_ids[fields['id']]})")
            continue
        twice = [a for a in fields.get("addresses", []) if a in new_addresses]
        if twice:
            problems.add(where, f"address {twice[0]} appears twice in the inventory",
                         expected=f"one row per asset (first on line {new_addresses[twice[0]]})")
            continue
        try:
            asset = Asset.model_validate(fields)
        except ValidationError as exc:
            for error in exc.errors():
                key = ".".join(str(p) for p in error["loc"])
                problems.add(where, f"{key}: {error['msg']}", expected="a valid asset row")
            continue
        new_ids[asset.id] = row.line
        new_addresses.update((a, row.line) for a in asset.addresses)
        plan.added.append(asset)
    problems.raise_if_any()
    return plan


def _compare(site: Site, row: InventoryRow, fields: dict[str, Any], existing: Asset, plan: MergePlan) -> None:
    compared = [k for k in _COMPARED if not (k == "zone" and fields.get("_zone_computed"))]
    current = existing.model_dump(mode="json")
    fills, conflicts = compare_fields(current, fields, compared)
    for conflict in conflicts:
        plan.conflicts.append(Conflict(row, existing.id, conflict.field, conflict.treaty_value,
                                       conflict.incoming_value, site.locate_item("assets", existing.id,
                                                                                 conflict.field)))
    if fills:
        plan.fills.setdefault(existing.id, {}).update(fills)
    elif not conflicts:
        plan.unchanged.append(existing.id)


def write_fills(site: Site, fills: dict[str, dict[str, Any]]) -> list[Path]:
    """Insert the filled fields into the files that hold the assets; every file whole or untouched."""
    texts: dict[Path, str] = {}
    for asset_id, values in fills.items():
        path = Path(site.locate_item("assets", asset_id).file)
        before = texts.get(path, path.read_text(encoding="utf-8"))
        try:
            texts[path] = insert_fields(before, "assets", asset_id, values)
        except ValueError as exc:
            raise InputError.at(str(path), site.locate_item("assets", asset_id).line, 1,
                                f"cannot fill {', '.join(values)} of {asset_id}: {exc}",
                                "an asset item PlantGate can add keys to") from None
    for path, text in texts.items():
        write_atomically(path, text)
    return sorted(texts)


def write_imported(folder: Path, added: list[Asset]) -> Path:
    """Append the new assets to DIR/assets-imported.yaml (comments kept), via a temp file and a rename."""
    target = folder / IMPORTED_FILE
    yaml = YAML(typ="rt")
    yaml.width = 120
    if target.exists():
        document = yaml.load(target.read_text(encoding="utf-8")) or CommentedMap()
    else:
        document = CommentedMap()
        document.yaml_set_start_comment("Assets added by `plantgate import assets`; review, then edit freely.\n"
                                        "Conflicts with the treaty are reported by the import, never written.")
    assets = document.setdefault("assets", CommentedSeq())
    for asset in added:
        item = CommentedMap()
        for key, value in asset.model_dump(mode="json", exclude_defaults=True).items():
            item[key] = value
        assets.append(item)
    handle, temp_name = tempfile.mkstemp(prefix=".assets-imported.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yaml.dump(document, stream)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


@click.group("import", commands=[*SEED_COMMANDS, import_firewall])
def import_group() -> None:
    """Merge evidence exported by other tools into the treaty."""


@import_group.command("assets")
@click.argument("inventory", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The treaty folder to merge into.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--type-map", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML mapping of the inventory's device types to asset roles ('Serial Gateway: other').")
def import_assets(inventory: Path, folder: Path, dry_run: bool, type_map: Path | None) -> None:
    """Merge INVENTORY (.csv or .json) into the treaty's assets, writing DIR/assets-imported.yaml.

    Devices are matched by id, address or name. New ones are added, empty fields of known
    ones are filled, and a field both sides hold with different values is reported as a
    conflict (exit 1) and never overwritten. A type no role fits is imported as other, with a
    note. Bad rows are reported with file:line (exit 2).
    """
    if not inventory.is_file():
        raise InputError.at(str(inventory), 0, 0, "inventory file not found", "a .csv or .json export")
    site = load_site(folder)
    plan = plan_merge(site, read_inventory(inventory), load_type_map(type_map) if type_map else None)
    for conflict in plan.conflicts:
        console.print(f"{conflict.row.file}:{conflict.row.line}: conflict on {conflict.asset_id}.{conflict.field}: "
                      f"treaty has {conflict.treaty_value!r} ({conflict.where}), inventory says "
                      f"{conflict.inventory_value!r}; not overwritten", highlight=False)
    for note in plan.notes:
        console.print(f"note: {note}", highlight=False)
    verb = "would add" if dry_run else "added"
    if plan.added and not dry_run:
        written = write_imported(site.folder, plan.added)
        console.print(f"wrote {written}", highlight=False)
    if plan.fills and not dry_run:
        for path in write_fills(site, plan.fills):
            console.print(f"filled empty fields in {path}", highlight=False)
    for asset in plan.added:
        console.print(f"{verb} {asset.id} ({asset.role.value}, zone {asset.zone})", highlight=False)
    for asset_id, values in plan.fills.items():
        console.print(f"{'would fill' if dry_run else 'filled'} {asset_id}: "
                      + ", ".join(f"{k} = {v!r}" for k, v in values.items()), highlight=False)
    console.print(f"{len(plan.added)} {verb}, {len(plan.fills)} {'would be ' if dry_run else ''}filled, "
                  f"{len(plan.unchanged)} unchanged, {len(plan.conflicts)} conflicts", highlight=False)
    if plan.conflicts:
        sys.exit(EXIT_FINDINGS)
