"""Read a treaty folder's YAML files into one plain document, remembering where every value was.

ruamel.yaml (YAML 1.2) is used because it keeps line and column for every key and item;
those positions are what turn a validation error into ``zones.yaml:14:9``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from plantgate.errors import Location, ProblemCollector

KeyPath = tuple[str | int, ...]
LIST_SECTIONS = frozenset({"zones", "assets", "conduits", "firewalls", "people", "raci", "changes", "routes"})
CHANGES_FOLDER = "changes"


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


def _plain(node: Any, file: str, path: KeyPath, spans: SpanIndex) -> Any:
    """Convert ruamel nodes to plain Python values while recording positions."""
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            line, col = node.lc.key(key)
            spans.locations[(*path, str(key))] = Location(file, line + 1, col + 1)
            out[str(key)] = _plain(value, file, (*path, str(key)), spans)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            line, col = node.lc.item(index)
            spans.locations[(*path, index)] = Location(file, line + 1, col + 1)
            items.append(_plain(value, file, (*path, index), spans))
        return items
    if isinstance(node, dt.datetime):
        return node
    if isinstance(node, str):
        return str(node)
    return node


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.version = (1, 2)  # type: ignore[assignment]
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml_file(path: Path, problems: ProblemCollector, spans: SpanIndex) -> dict[str, Any] | None:
    """One YAML file as a plain mapping; syntax problems are collected, not raised."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(Location(file), f"cannot read file: {exc}")
        return None
    try:
        node = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problems.add(Location(file, line, col), f"YAML syntax error: {exc.problem or exc.context}",
                     expected="valid YAML 1.2")
        return None
    if node is None:
        return {}
    if not isinstance(node, CommentedMap):
        problems.add(Location(file, 1, 1), "a treaty file must be a mapping of sections",
                     expected="top-level keys such as site:, zones:, conduits:")
        return None
    file_spans = SpanIndex()
    plain = _plain(node, file, (), file_spans)
    spans.locations.update({(file, *k): v for k, v in file_spans.locations.items()})
    return plain  # type: ignore[no-any-return]


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
    per_file = SpanIndex()
    merged: dict[str, Any] = {}
    spans = SpanIndex()
    first_seen: dict[str, Location] = {}
    files = treaty_files(root)
    if not files:
        problems.add(Location(str(root)), "no treaty files found", expected="*.yaml files in the folder")
    for path in files:
        document = read_yaml_file(path, problems, per_file)
        if document is None:
            continue
        file = str(path)
        for section, value in document.items():
            where = per_file.locations[(file, section)]
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
            spans.locations.setdefault((section,), where)
            for key, loc in per_file.locations.items():
                if key[0] != file or len(key) < 2 or key[1] != section:
                    continue
                rest = key[2:]
                if rest and offset and isinstance(rest[0], int):
                    rest = (rest[0] + offset, *rest[1:])
                spans.locations[(section, *rest)] = loc
    _merge_change_records(root, merged, spans, problems)
    return merged, spans


def _merge_change_records(root: Path, merged: dict[str, Any], spans: SpanIndex, problems: ProblemCollector) -> None:
    """Each file under changes/ is one item of the ``changes`` list, located in its own file."""
    for path in change_files(root):
        file_spans = SpanIndex()
        record = read_yaml_file(path, problems, file_spans)
        if record is None:
            continue
        changes = merged.setdefault("changes", [])
        index = len(changes)
        changes.append(record)
        spans.locations[("changes", index)] = Location(str(path), 1, 1)
        for key, loc in file_spans.locations.items():
            spans.locations[("changes", index, *key[1:])] = loc
