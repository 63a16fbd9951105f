"""JSON files with positions: syntax errors and bad values are reported at their line.

The standard ``json`` module forgets where values came from; feed files are large and a
bad entry must still be named by line, so values are located back in the raw text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.textfile import read_evidence_text


def read_text(path: Path) -> str:
    """The file's text (UTF-8, or UTF-16 with a BOM, size-capped), or an InputError saying why not."""
    return read_evidence_text(path, "feed file")


def load_json(path: Path, text: str | None = None) -> tuple[Any, str]:
    """Parse a JSON file; a syntax error becomes an InputError at its line and column."""
    text = read_text(path) if text is None else text
    try:
        return json.loads(text), text
    except json.JSONDecodeError as exc:
        raise InputError.at(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}",
                            "a well-formed JSON document") from None


def position_of(text: str, needle: str, start: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the first ``needle`` at or after ``start``; (0, 0) when absent."""
    index = text.find(needle, start) if needle else -1
    if index < 0:
        return 0, 0
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


class JsonLocator:
    """Raises InputErrors for one JSON file, placed at a value's text where it can be found."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def error(self, message: str, expected: str, near: str | None = None) -> InputError:
        line, column = position_of(self.text, json.dumps(near)) if near else (0, 0)
        if not line and near:
            line, column = position_of(self.text, near)
        return InputError.at(str(self.path), line or 1, column or 1, message, expected)

    def need_dict(self, value: Any, what: str, near: str | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(f"{what} is not a JSON object", f"{what} as an object", near)
        return value

    def need_list(self, value: Any, what: str, near: str | None = None) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(f"{what} is not a JSON array", f"{what} as an array", near)
        return value

    def need_str(self, value: Any, what: str, near: str | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{what} is missing or not a string", f"{what} as a non-empty string", near)
        return value.strip()


def json_files(path: Path) -> list[Path]:
    """A single file, or every ``*.json`` file of a folder (sorted, recursive) that lies inside it after symlinks."""
    if path.is_dir():
        inside = path.resolve()
        return sorted(p for p in path.rglob("*.json") if p.is_file() and p.resolve().is_relative_to(inside))
    if not path.exists():
        raise InputError.at(str(path), 0, 0, "file or folder not found", "an existing file or folder")
    return [path]
