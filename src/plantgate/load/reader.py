"""Read a treaty folder's YAML files into one plain document, remembering where every value was.

Every key and list item keeps its line and column (see ``yaml12``: libyaml with the YAML 1.2
semantics the treaty was written for); those positions are what turn a validation error into
``zones.yaml:14:9`` and give each finding its file:line evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plantgate.errors import InputError, Location, ProblemCollector
from plantgate.feeds.textfile import read_evidence_bytes
from plantgate.load.yaml12 import YamlProblem, parse

KeyPath = tuple[str | int, ...]
LIST_SECTIONS = frozenset({"zones", "assets", "conduits", "firewalls", "people", "raci", "changes", "routes"})
CHANGES_FOLDER = "changes"
MAX_TREATY_FILE = 64 * 1024 * 1024
"""Bytes in one treaty file: a 10,000-conduit register is about 4 MB."""


@dataclass
class SpanIndex:
    """Maps a key path in the merged document to where it was written."""

    locations: dict[KeyPath, Location] = field(default_factory=dict)

    def locate(self, path: KeyPath) -> Location:
        """The location of ``path``, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(tuple(path[:end]))
            if found is not None:
                return found
        return Location("<treaty>")


def read_yaml_file(path: Path, problems: ProblemCollector) -> tuple[dict[str, Any], dict[KeyPath, Location]] | None:
    """One YAML file as a plain mapping and where each of its keys and items is; problems are collected."""
    file = str(path)
    try:
        text = read_evidence_bytes(path, "treaty file", MAX_TREATY_FILE).decode("utf-8")
    except InputError as exc:
        problems.problems.extend(exc.problems)
        return None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        column = exc.start - (exc.object.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.add(Location(file, line, column), f"byte 0x{exc.object[exc.start]:02x} is not UTF-8",
                     expected="a UTF-8 text file")
        return None
    try:
        document, positions = parse(text)
    except YamlProblem as exc:
        problems.add(Location(file, exc.line, exc.column), f"YAML syntax error: {exc.message}",
                     expected="valid YAML 1.2")
        return None
    if document is None:
        return {}, {}
    if not isinstance(document, dict):
        problems.add(Location(file, 1, 1), "a treaty file must be a mapping of sections",
                     expected="top-level keys such as site:, zones:, conduits:")
        return None
    return document, {key: Location(file, line, column) for key, (line, column) in positions.items()}


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def treaty_files(root: Path) -> list[Path]:
    """The YAML files that make up a treaty: one file, or the top level of a folder."""
    if root.is_file():
        return [root]
    return _yaml_files(root)


def change_files(root: Path) -> list[Path]:
    """Change records: one YAML file each under ``changes/`` of the treaty folder."""
    folder = root / CHANGES_FOLDER
    return _yaml_files(folder) if root.is_dir() and folder.is_dir() else []


def merge_documents(root: Path, problems: ProblemCollector) -> tuple[dict[str, Any], SpanIndex]:
    """Merge every file's sections: list sections concatenate, other sections appear once."""
    merged: dict[str, Any] = {}
    spans = SpanIndex()
    first_seen: dict[str, Location] = {}
    files = treaty_files(root)
    if not files:
        problems.add(Location(str(root)), "no treaty files found", expected="*.yaml files in the folder")
    for path in files:
        read = read_yaml_file(path, problems)
        if read is None:
            continue
        document, positions = read
        offsets: dict[str, int] = {}  # the sections this file contributes, and where its list items start
        for section, value in document.items():
            where = positions[(section,)]
            offset = 0
            if section in LIST_SECTIONS and isinstance(value, list):
                existing = merged.setdefault(section, [])
                if not isinstance(existing, list):
                    continue
                offset = len(existing)
                existing.extend(value)
            elif section in merged:
                problems.add(where, f"section '{section}' is already defined at {first_seen[section]}",
                             key_path=section, expected="each non-list section in one file only")
                continue
            else:
                merged[section] = value
            first_seen.setdefault(section, where)
            offsets[section] = offset
        for key, loc in positions.items():
            shift = offsets.get(str(key[0]))
            if shift is None:
                continue
            if shift and len(key) > 1 and isinstance(key[1], int):
                key = (key[0], key[1] + shift, *key[2:])
            spans.locations[key] = loc
    _merge_change_records(root, merged, spans, problems)
    return merged, spans


def _merge_change_records(root: Path, merged: dict[str, Any], spans: SpanIndex, problems: ProblemCollector) -> None:
    """Each file under changes/ is one item of the ``changes`` list, located in its own file."""
    for path in change_files(root):
        read = read_yaml_file(path, problems)
        if read is None:
            continue
        record, positions = read
        changes = merged.setdefault("changes", [])
        index = len(changes)
        changes.append(record)
        spans.locations[("changes", index)] = Location(str(path), 1, 1)
        for key, loc in positions.items():
            spans.locations[("changes", index, *key)] = loc
