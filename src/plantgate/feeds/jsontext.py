"""JSON files with positions: syntax errors and bad values are reported at their line.

The standard ``json`` module forgets where values came from; feed files are large and a
bad entry must still be named by line, so values are located back in the raw text.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from plantgate.errors import InputError
from plantgate.feeds.textfile import read_evidence_text


def read_text(path: Path) -> str:
    """The file's text (UTF-8, or UTF-16 with a BOM, size-capped), or an InputError saying why not."""
    return read_evidence_text(path, "feed file")


MAX_DEPTH = 200
"""Arrays and objects nested deeper than this are refused: no feed nests past a dozen levels, and
the readers (and the standard decoder, near Python's recursion limit) would crash on 100,000."""
MAX_DIGITS = sys.get_int_max_str_digits() or 4300
"""Python refuses to convert longer integers (CVE-2020-10735); no field of any feed comes near."""
_DIGITS = re.compile(rf"\d{{{MAX_DIGITS + 1},}}")
_CONSTANT = re.compile(r"-?\b(?:NaN|Infinity)\b")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str, file: str, first_line: int = 1) -> Any:
    """Parse JSON text (a file, or one line of a file starting at ``first_line``); anything the
    decoder refuses, nesting past MAX_DEPTH, integers past Python's digit limit and the
    non-standard NaN/Infinity become an InputError at their line and column."""
    def at(index: int, message: str, expected: str) -> InputError:
        line, column = position_at(text, index)
        return InputError.at(file, line + first_line - 1, column, message, expected)

    too_deep = _depth_exceeded(text)
    if too_deep >= 0:
        raise at(too_deep, f"JSON nested more than {MAX_DEPTH} levels deep",
                 f"arrays and objects nested at most {MAX_DEPTH} deep")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InputError.at(file, exc.lineno + first_line - 1, exc.colno, f"invalid JSON: {exc.msg}",
                            "a well-formed JSON document") from None
    except RecursionError:  # nesting hidden from the scan cannot happen, but the decoder must never escape
        raise at(0, "JSON nested too deeply", f"arrays and objects nested at most {MAX_DEPTH} deep") from None
    except ValueError as exc:
        digits = _DIGITS.search(text)
        if digits is not None:
            raise at(digits.start(), f"a number of {digits.end() - digits.start():,} digits",
                     f"numbers of at most {MAX_DIGITS:,} digits") from None
        constant = _CONSTANT.search(text)
        raise at(constant.start() if constant else 0, f"invalid JSON: {exc}", "a well-formed JSON document") from None


def _depth_exceeded(text: str) -> int:
    """Index of the bracket that opens level MAX_DEPTH + 1, or -1; brackets inside strings do not count.

    Cheap for real feeds: only texts with that many opening brackets at all are walked.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return -1
    depth, in_string, escaped = 0, False, False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return index
        elif char in "]}":
            depth -= 1
    return -1


def load_json(path: Path, text: str | None = None) -> tuple[Any, str]:
    """Parse a JSON file; what cannot be read becomes an InputError at its line and column."""
    text = read_text(path) if text is None else text
    return parse_json(text, str(path)), text


def position_at(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of ``text[index]``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def position_of(text: str, needle: str, start: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the first ``needle`` at or after ``start``; (0, 0) when absent."""
    index = text.find(needle, start) if needle else -1
    if index < 0:
        return 0, 0
    return position_at(text, index)


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

    def need_ids(self, value: Any, what: str, near: str | None = None) -> tuple[str, ...]:
        """A list of product ids: each one a non-empty string (a number or object is refused by name)."""
        ids = self.need_list(value, what, near)
        for item in ids:
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{what} holds {json.dumps(item)[:60]}, not a product id",
                                 f"{what} as an array of product id strings", near)
        return tuple(item.strip() for item in ids)


def json_files(path: Path) -> list[Path]:
    """A single file, or every ``*.json`` file of a folder (sorted, recursive) that lies inside it after symlinks."""
    if path.is_dir():
        inside = path.resolve()
        return sorted(p for p in path.rglob("*.json") if p.is_file() and p.resolve().is_relative_to(inside))
    if not path.exists():
        raise InputError.at(str(path), 0, 0, "file or folder not found", "an existing file or folder")
    return [path]
