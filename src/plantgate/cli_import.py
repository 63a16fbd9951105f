"""``plantgate import assets``: merge an OT asset inventory into the treaty, never overwriting it.

The treaty's assets are reviewed by people; an inventory tool knows what is on the wire.
The merge adds devices the treaty lacks, leaves matching ones alone (so running it twice
changes nothing), and reports every disagreement as a conflict for a person to settle.

New assets go to ``DIR/assets-imported.yaml``, a file of its own: the hand-written
``assets.yaml`` (and its comments) is never rewritten, the loader concatenates the
``assets`` lists of all files, and a reviewer sees exactly what the import added. The file
is written to a temporary name and renamed, so it is either complete or untouched. Bad rows
(file:line) abort the whole import before anything is written. Exit codes: 0 merged or
nothing to do, 1 conflicts reported (the rest was merged), 2 invalid input.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from plantgate.cli_seed import SEED_COMMANDS
from plantgate.errors import InputError, Location, ProblemCollector
from plantgate.feeds.asset_inventory import InventoryRow, parse_role, read_inventory, slug
from plantgate.load import Site, load_site
from plantgate.model.assets import Asset

IMPORTED_FILE = "assets-imported.yaml"
_COMPARED = ("name", "zone", "role", "vendor", "product", "version")
console = Console(soft_wrap=True)


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


def _zone_for(site: Site, addresses: list[str]) -> str | None:
    from plantgate.checks.shared_services import zone_of_address
    zones = {z.id for z in (zone_of_address(site.treaty, a) for a in addresses) if z is not None}
    return zones.pop() if len(zones) == 1 else None


def _candidate(site: Site, row: InventoryRow, problems: ProblemCollector) -> dict[str, Any] | None:
    fields = dict(row.fields)
    where = Location(row.file, row.line)
    if "role" in fields:
        role = parse_role(fields["role"])
        if role is None:
            problems.add(where, f"unknown asset type {fields['role']!r}",
                         expected="an asset role (hmi, controller, plc, engineering_workstation, ...)")
            return None
        fields["role"] = role.value
    if "zone" not in fields:
        zone = _zone_for(site, fields.get("addresses", []))
        if zone is None:
            problems.add(where, "no zone column and the addresses fall in no single treaty zone",
                         expected="a zone id, or an address inside one zone's networks")
            return None
        fields["zone"] = zone
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


def plan_merge(site: Site, rows: list[InventoryRow]) -> MergePlan:
    """Decide, for every row, add / unchanged / conflict; raise InputError listing every bad row."""
    problems = ProblemCollector()
    plan = MergePlan([], [], [])
    new_ids: dict[str, int] = {}
    for row in rows:
        fields = _candidate(site, row, problems)
        if fields is None:
            continue
        existing = _existing_match(site, fields)
        if existing is not None:
            _compare(site, row, fields, existing, plan)
            continue
        fields.setdefault("id", slug(fields.get("name", "")))
        fields.setdefault("role", "other")
        where = Location(row.file, row.line)
        if fields["id"] in new_ids:
            problems.add(where, f"asset {fields['id']!r} appears twice in the inventory",
                         expected=f"one row per asset (first on line {new_ids[fields['id']]})")
            continue
        try:
            asset = Asset.model_validate(fields)
        except ValidationError as exc:
            for error in exc.errors():
                key = ".".join(str(p) for p in error["loc"])
                problems.add(where, f"{key}: {error['msg']}", expected="a valid asset row")
            continue
        new_ids[asset.id] = row.line
        plan.added.append(asset)
    problems.raise_if_any()
    return plan


def _compare(site: Site, row: InventoryRow, fields: dict[str, Any], existing: Asset, plan: MergePlan) -> None:
    differs = False
    for key in _COMPARED:
        if key not in fields:
            continue
        current = getattr(existing, key)
        current_text = current.value if hasattr(current, "value") else str(current)
        if str(fields[key]).strip().lower() != current_text.strip().lower():
            differs = True
            plan.conflicts.append(Conflict(row, existing.id, key, current_text, str(fields[key]),
                                           site.locate_item("assets", existing.id, key)))
    incoming = set(fields.get("addresses", []))
    if incoming and incoming != set(existing.addresses):
        differs = True
        plan.conflicts.append(Conflict(row, existing.id, "addresses", ", ".join(existing.addresses),
                                       ", ".join(sorted(incoming)), site.locate_item("assets", existing.id,
                                                                                     "addresses")))
    if not differs:
        plan.unchanged.append(existing.id)


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


@click.group("import", commands=SEED_COMMANDS)
def import_group() -> None:
    """Merge evidence exported by other tools into the treaty."""


@import_group.command("assets")
@click.argument("inventory", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", "folder", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The treaty folder to merge into.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
def import_assets(inventory: Path, folder: Path, dry_run: bool) -> None:
    """Merge INVENTORY (.csv or .json) into the treaty's assets, writing DIR/assets-imported.yaml.

    Matching assets are left alone, new ones are added, and any disagreement is reported
    as a conflict (exit 1) and never overwritten. Bad rows are reported with file:line (exit 2).
    """
    if not inventory.is_file():
        raise InputError.at(str(inventory), 0, 0, "inventory file not found", "a .csv or .json export")
    site = load_site(folder)
    plan = plan_merge(site, read_inventory(inventory))
    for conflict in plan.conflicts:
        console.print(f"{conflict.row.file}:{conflict.row.line}: conflict on {conflict.asset_id}.{conflict.field}: "
                      f"treaty has {conflict.treaty_value!r} ({conflict.where}), inventory says "
                      f"{conflict.inventory_value!r}; not overwritten", highlight=False, markup=False)
    verb = "would add" if dry_run else "added"
    if plan.added and not dry_run:
        written = write_imported(site.folder, plan.added)
        console.print(f"wrote {written}", highlight=False, markup=False)
    for asset in plan.added:
        console.print(f"{verb} {asset.id} ({asset.role.value}, zone {asset.zone})", highlight=False, markup=False)
    console.print(f"{len(plan.added)} {verb}, {len(plan.unchanged)} unchanged, {len(plan.conflicts)} conflicts",
                  highlight=False, markup=False)
    if plan.conflicts:
        sys.exit(1)
