"""A treaty folder <-> a storable snapshot (document JSON, file layout, evidence files), losslessly.

``plantgate db import`` and ``db export`` go through here. The document is the validated
``Treaty.model_dump(mode="json")``; the layout remembers which YAML file held each section
and each list item (so an export has the same files as the import); every other file of the
folder (firewall configs, candidates, history, README) is kept byte for byte. YAML comments
are not kept: the revision is the validated document, not the text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.textfile import read_evidence_bytes
from plantgate.load import Site, load_site
from plantgate.load.reader import CHANGES_FOLDER, LIST_SECTIONS, change_files, treaty_files
from plantgate.load.yaml12 import dump
from plantgate.model import Treaty

DEFAULT_FILE = "treaty.yaml"
SKIPPED_DIRECTORIES = frozenset({".git", "__pycache__"})


@dataclass
class Snapshot:
    """Everything needed to write a treaty folder back: document, layout and files."""

    document: dict[str, Any]
    layout: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    def treaty(self) -> Treaty:
        return Treaty.model_validate(self.document)


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _relative(file: str, root: Path) -> str:
    path = Path(file)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return DEFAULT_FILE


def layout_of(site: Site) -> dict[str, Any]:
    """Which file each section (and each list item) of a loaded site was written in."""
    root = site.folder
    layout: dict[str, Any] = {}
    document = site.treaty.model_dump(mode="json", exclude_defaults=True)
    for section, value in document.items():
        if section in LIST_SECTIONS and isinstance(value, list):
            layout[section] = [_relative(site.spans.locate((section, i)).file, root) for i in range(len(value))]
        else:
            layout[section] = _relative(site.spans.locate((section,)).file, root)
    return layout


def evidence_files(root: Path) -> dict[str, bytes]:
    """Every regular file of the folder that is not a treaty YAML file, by relative POSIX path.

    A symlink that leads out of the folder is not evidence: whatever it points at (a server's
    environment, a key) would otherwise be stored and shown to everyone who may read the site."""
    inside = root.resolve()
    treaty = {p.resolve() for p in treaty_files(root) + change_files(root)}
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in SKIPPED_DIRECTORIES for part in relative.parts) or not path.is_file():
            continue
        target = path.resolve()
        if target in treaty or not target.is_relative_to(inside):
            continue
        found[relative.as_posix()] = read_evidence_bytes(path)
    return found


def read_folder(folder: Path) -> tuple[Site, Snapshot]:
    """Load and validate a treaty folder; InputError (file:line:column) when it is invalid."""
    if not folder.is_dir():
        raise InputError.at(str(folder), 0, 0, "not a folder", "a treaty folder of YAML files")
    site = load_site(folder)
    snapshot = Snapshot(site.treaty.model_dump(mode="json"), layout_of(site), evidence_files(folder))
    return site, snapshot


def _dump(data: dict[str, Any]) -> str:
    return dump(data)  # libyaml: ruamel's pure-Python emitter took ~9 s per 10,000 conduits


def _safe_path(folder: Path, relative: str) -> Path:
    """A path inside ``folder``; stored paths never escape it."""
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder.resolve()) or relative.startswith("/"):
        raise InputError.at(relative, 0, 0, "path escapes the treaty folder", "a relative path inside the folder")
    return target


def render_files(snapshot: Snapshot) -> dict[str, bytes]:
    """The folder's files as bytes: YAML files per the layout, then the evidence files."""
    tidy = snapshot.treaty().model_dump(mode="json", exclude_defaults=True)
    per_file: dict[str, dict[str, Any]] = {}
    changes: dict[str, dict[str, Any]] = {}
    for section, value in tidy.items():
        placement = snapshot.layout.get(section, DEFAULT_FILE)
        if section in LIST_SECTIONS and isinstance(value, list):
            files = placement if isinstance(placement, list) and len(placement) == len(value) else None
            for index, item in enumerate(value):
                file = files[index] if files else (f"{CHANGES_FOLDER}/{item.get('id', index)}.yaml"
                                                   if section == "changes" else f"{section}.yaml")
                if section == "changes":
                    changes[file] = item
                else:
                    per_file.setdefault(file, {}).setdefault(section, []).append(item)
        else:
            file = placement if isinstance(placement, str) else DEFAULT_FILE
            per_file.setdefault(file, {})[section] = value
    rendered = {name: _dump(content).encode() for name, content in per_file.items()}
    rendered.update({name: _dump(record).encode() for name, record in changes.items()})
    rendered.update(snapshot.files)
    return rendered


def write_folder(snapshot: Snapshot, folder: Path) -> None:
    """Write the snapshot as a treaty folder; refuses a non-empty folder so nothing is overwritten."""
    if folder.exists() and any(folder.iterdir()):
        raise InputError.at(str(folder), 0, 0, "folder exists and is not empty", "a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    for relative, content in render_files(snapshot).items():
        target = _safe_path(folder, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
