"""Merging a proposal into the treaty folder: idempotent, never over a human edit, atomic.

Imported items live in one file per source, ``imported-<source>.yaml``, which people may
edit like any other treaty file. How a human edit is detected: the manifest
``.plantgate-imports.json`` records, per item the importer wrote, a hash of exactly what
it wrote. On the next import an item is replaced only if its current text still hashes
to that value; an item edited, deleted or written by hand elsewhere is left alone and
reported as a conflict. Items a new import no longer mentions stay (one scan missing a
host does not remove it). Comments in the file survive (ruamel round-trip), and every
file is written to a temporary file and renamed into place.
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
from plantgate.load.reader import treaty_files
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
    diff: str = ""
    written: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


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
    """Add new items, refresh untouched imported ones, report conflicts; write unless ``dry_run``."""
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
    for section in SECTIONS:
        items = document.get(section)
        if not isinstance(items, list):
            items = document[section] = CommentedSeq()
        index = {str(item.get("id")): i for i, item in enumerate(items) if isinstance(item, dict)}
        for new in getattr(proposal, section):
            key = f"{section}/{new['id']}"
            _merge_one(section, new, key, items, index, elsewhere, recorded, outcome)
        if not items:
            del document[section]
    new_text = _dump(document, proposal.source) if outcome.changed else old_text
    outcome.diff = "".join(difflib.unified_diff(old_text.splitlines(True), new_text.splitlines(True),
                                                str(seed_file) if old_text else "/dev/null", str(seed_file)))
    if outcome.changed and not dry_run:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(seed_file, new_text)
        write_atomically(manifest_path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        outcome.written = True
    return outcome


def _merge_one(section: str, new: dict[str, Any], key: str, items: Any, index: dict[str, int],
               elsewhere: dict[str, dict[str, tuple[Path, Any]]], recorded: dict[str, str],
               outcome: MergeOutcome) -> None:
    item_id = str(new["id"])
    wanted = item_hash(new)
    if item_id in elsewhere[section]:
        path, current = elsewhere[section][item_id]
        if item_hash(current) == wanted:
            outcome.unchanged.append(key)
        else:
            outcome.conflicts.append(f"{key}: written by hand in {path.name}; the import's version differs, "
                                     "left as it is")
        return
    if item_id not in index:
        if key in recorded:
            outcome.conflicts.append(f"{key}: removed by hand since the last import; not added again "
                                     f"(drop it from {MANIFEST} to allow it)")
            return
        items.append(CommentedMap(new))
        index[item_id] = len(items) - 1
        recorded[key] = wanted
        outcome.added.append(key)
        return
    current = items[index[item_id]]
    current_hash = item_hash(current)
    if current_hash == wanted:
        recorded[key] = wanted
        outcome.unchanged.append(key)
    elif recorded.get(key) == current_hash:
        items[index[item_id]] = CommentedMap(new)
        recorded[key] = wanted
        outcome.updated.append(key)
    else:
        outcome.conflicts.append(f"{key}: edited by hand since the last import; the import's version differs, "
                                 "left as it is")


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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError.at(str(path), exc.lineno, exc.colno, f"broken import manifest: {exc.msg}",
                            "the JSON PlantGate wrote (delete it to treat every item as hand-written)") from None
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
