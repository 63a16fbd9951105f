"""Merging a proposal into the treaty folder: idempotent, never over a human edit, never twice, atomic.

Imported items live in one file per source, ``imported-<source>.yaml``, which people may
edit like any other treaty file. How a human edit is detected: the manifest
``.plantgate-imports.json`` records, per item the importer wrote, a hash of exactly what
it wrote. On the next import an item is replaced only if its current text still hashes
to that value; an item edited, deleted or written by hand elsewhere is left alone and
compared field by field (see ``asset_fields``): empty fields are filled, and only fields
both hold with different values are conflicts. Hosts are matched to the treaty by address
first, so a host already written under another id is merged, never added twice. Items a
new import no longer mentions stay (one scan missing a host does not remove it). Comments
in the file survive (ruamel round-trip); fields filled in a hand-written file are inserted
into its text, nothing else of it changes; every file is written to a temporary file and
renamed into place.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from plantgate.errors import InputError
from plantgate.feeds.jsontext import parse_json
from plantgate.feeds.textfile import read_evidence_text
from plantgate.load.reader import treaty_files
from plantgate.onboard.asset_fields import MERGED_FIELDS, compare_fields
from plantgate.onboard.in_place import insert_fields
from plantgate.onboard.propose import Proposal

MANIFEST = ".plantgate-imports.json"
SECTIONS = ("zones", "assets")


@dataclass
class MergeOutcome:
    """What an import did (or, with dry-run, would do)."""

    seed_file: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    filled_in_seed_file: bool = False
    diff: str = ""
    written: bool = False

    @property
    def seed_changed(self) -> bool:
        return bool(self.added or self.updated or self.filled_in_seed_file)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.filled)


def item_hash(item: Any) -> str:
    return hashlib.sha256(json.dumps(_plain(item), sort_keys=True).encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    """YAML or proposal data as plain JSON values, integral floats as ints (3.0 and 3 are one level)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | str | bool) or value is None:
        return value
    return str(value)


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 120
    return yaml


def _load(path: Path) -> Any:
    try:
        return _yaml().load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError.at(str(path), mark.line + 1 if mark else 0, mark.column + 1 if mark else 0,
                            f"YAML syntax error: {exc}", "valid YAML") from None


def existing_items(folder: Path, skip: Path | None = None) -> dict[str, dict[str, tuple[Path, Any]]]:
    """section -> id -> (file, item) for every zone and asset written in the treaty files."""
    found: dict[str, dict[str, tuple[Path, Any]]] = {s: {} for s in SECTIONS}
    if not folder.is_dir():
        return found
    for path in treaty_files(folder):
        if skip is not None and path.resolve() == skip.resolve():
            continue
        document = _load(path)
        if not isinstance(document, dict):
            continue
        for section in SECTIONS:
            for item in document.get(section) or []:
                if isinstance(item, dict) and "id" in item:
                    found[section].setdefault(str(item["id"]), (path, item))
    return found


def merge_proposal(folder: Path, proposal: Proposal, dry_run: bool = False) -> MergeOutcome:
    """Add new items, refresh untouched imported ones, fill empty fields, report conflicts; write unless ``dry_run``.

    A proposed asset is first matched to the treaty by address: a host the treaty already
    holds under another id (hand-written, or imported before) merges into that asset and is
    never added twice.
    """
    seed_file = folder / f"imported-{proposal.source}.yaml"
    outcome = MergeOutcome(seed_file)
    manifest_path = folder / MANIFEST
    manifest: dict[str, dict[str, str]] = _read_manifest(manifest_path)
    recorded = manifest.setdefault(seed_file.name, {})
    old_text = seed_file.read_text(encoding="utf-8") if seed_file.exists() else ""
    document = _load(seed_file) if old_text.strip() else None
    if not isinstance(document, dict):
        document = CommentedMap()
    elsewhere = existing_items(folder, skip=seed_file)
    merge = _Merge(elsewhere, recorded, outcome, proposal)
    for section in SECTIONS:
        items = document.get(section)
        if not isinstance(items, list):
            items = document[section] = CommentedSeq()
        index = {str(item.get("id")): i for i, item in enumerate(items) if isinstance(item, dict)}
        proposed = getattr(proposal, section)
        if section == "assets":
            proposed = merge.by_address(proposed, items)
        for new in proposed:
            merge.one(section, new, items, index)
        if not items:
            del document[section]
    new_text = _dump(document, proposal.source) if outcome.seed_changed else old_text
    outcome.diff = "".join(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True),
                                                str(seed_file) if old_text else "/dev/null", str(seed_file)))
    filled = merge.filled_texts()
    for path, (before, after) in filled.items():
        outcome.diff += "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), str(path),
                                                     str(path)))
    if outcome.changed and not dry_run:
        folder.mkdir(parents=True, exist_ok=True)
        if outcome.seed_changed:
            write_atomically(seed_file, new_text)
        for path, (_, after) in filled.items():
            write_atomically(path, after)
        write_atomically(manifest_path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        outcome.written = True
    return outcome


class _Merge:
    """The state of one merge: the treaty's items, the manifest, fills waiting to be written."""

    def __init__(self, elsewhere: dict[str, dict[str, tuple[Path, Any]]], recorded: dict[str, str],
                 outcome: MergeOutcome, proposal: Proposal) -> None:
        self.elsewhere, self.recorded, self.outcome, self.proposal = elsewhere, recorded, outcome, proposal
        self.fills: dict[Path, list[tuple[str, str, dict[str, Any]]]] = {}

    def by_address(self, proposed: list[dict[str, Any]], own: Any) -> list[dict[str, Any]]:
        """Proposed assets renamed to the treaty asset holding their address; two holders is a conflict."""
        holders: dict[str, tuple[str, str]] = {}
        for item_id, (path, item) in self.elsewhere["assets"].items():
            for address in item.get("addresses") or []:
                holders.setdefault(str(address), (item_id, path.name))
        for item in own:
            if isinstance(item, dict):
                for address in item.get("addresses") or []:
                    holders.setdefault(str(address), (str(item.get("id")), self.outcome.seed_file.name))
        out = []
        for new in proposed:
            found = {holders[a] for a in new.get("addresses", []) if a in holders}
            if len({item_id for item_id, _ in found}) > 1:
                names = ", ".join(f"{i} ({f})" for i, f in sorted(found))
                self.outcome.conflicts.append(f"assets/{new['id']}: its addresses belong to several treaty assets: "
                                              f"{names}; not merged")
                continue
            if found:
                (item_id, file_name), = found
                if item_id != new["id"]:
                    self.outcome.merged.append(f"assets/{new['id']}: {', '.join(new['addresses'])} is already "
                                               f"{item_id} in {file_name}: merged into it")
                    self.proposal.stated[item_id] = self.proposal.stated.pop(new["id"], set(new))
                    new = {**new, "id": item_id}
            out.append(new)
        return out

    def _fields(self, section: str, item_id: str) -> set[str]:
        if section != "assets":
            return set()
        return self.proposal.stated.get(item_id, set(MERGED_FIELDS))

    def _compare(self, section: str, key: str, current: Any, new: dict[str, Any], where: str
                 ) -> dict[str, Any] | None:
        """Fields to fill in ``current``; conflicts recorded. None when the item is a zone that differs."""
        if section != "assets":
            if item_hash(current) != item_hash(new):
                self.outcome.conflicts.append(f"{key}: written by hand in {where}; the import's version differs, "
                                              "left as it is")
            return None
        fills, conflicts = compare_fields(current, new, self._fields(section, str(new["id"])))
        for conflict in conflicts:
            self.outcome.conflicts.append(
                f"{key}.{conflict.field}: {where} has {conflict.treaty_value!r}, the import says "
                f"{conflict.incoming_value!r}; left as it is")
        return fills

    def one(self, section: str, new: dict[str, Any], items: Any, index: dict[str, int]) -> None:
        item_id = str(new["id"])
        key = f"{section}/{item_id}"
        wanted = item_hash(new)
        if item_id in self.elsewhere[section]:
            path, current = self.elsewhere[section][item_id]
            fills = self._compare(section, key, current, new, path.name)
            if fills:
                self.fills.setdefault(path, []).append((section, item_id, fills))
                current.update(fills)  # a second host of this import with the address sees the fill
                self.outcome.filled.extend(f"{key}.{field} (in {path.name})" for field in fills)
            elif fills is not None or item_hash(current) == wanted:
                self.outcome.unchanged.append(key)
            return
        if item_id not in index:
            if key in self.recorded:
                self.outcome.conflicts.append(f"{key}: removed by hand since the last import; not added again "
                                              f"(drop it from {MANIFEST} to allow it)")
                return
            items.append(CommentedMap(new))
            index[item_id] = len(items) - 1
            self.recorded[key] = wanted
            self.outcome.added.append(key)
            return
        current = items[index[item_id]]
        current_hash = item_hash(current)
        if current_hash == wanted:
            self.recorded[key] = wanted
            self.outcome.unchanged.append(key)
        elif self.recorded.get(key) == current_hash:
            items[index[item_id]] = CommentedMap(new)
            self.recorded[key] = wanted
            self.outcome.updated.append(key)
        else:
            fills = self._compare(section, key, current, new, "the imported file (edited by hand)")
            for field_name, value in (fills or {}).items():
                current[field_name] = value
                self.outcome.filled.append(f"{key}.{field_name}")
                self.outcome.filled_in_seed_file = True
            if not fills and fills is not None:
                self.outcome.unchanged.append(key)

    def filled_texts(self) -> dict[Path, tuple[str, str]]:
        """(text before, text after) of every hand-written file that gets fields filled."""
        out = {}
        for path, edits in self.fills.items():
            before = path.read_text(encoding="utf-8")
            after = before
            for section, item_id, values in edits:
                try:
                    after = insert_fields(after, section, item_id, values)
                except ValueError as exc:
                    self.outcome.conflicts.append(f"{section}/{item_id}: cannot fill {', '.join(values)} in "
                                                  f"{path.name} ({exc}); add them by hand")
            if after != before:
                out[path] = (before, after)
        return out


def _dump(document: Any, source: str) -> str:
    if not document.ca.comment:
        document.yaml_set_start_comment(
            f"Written by `plantgate import {source}`. Edit freely: an item you change is never overwritten\n"
            f"by a later import (see {MANIFEST}); review every guessed level and role.")
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def _read_manifest(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    data = parse_json(read_evidence_text(path, "import manifest"), str(path))
    if not isinstance(data, dict):
        raise InputError.at(str(path), 1, 1, "broken import manifest", "a JSON object")
    return data


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder and rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
