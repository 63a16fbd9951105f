"""Filling empty fields of an item in a hand-written treaty file, touching nothing else in it.

An import may add what the treaty does not say yet (a vendor, a firmware version, the
software a scan saw) to an asset a person wrote. Re-dumping the file through a YAML
library reflows long lines and moves comments, which is rewriting a human's file. So the
new keys are inserted into the text itself: before the closing brace of a flow mapping
(``{id: hmi-1, ...}``), or as lines after the last line of a block mapping, at its
indentation. Values are written as JSON, which YAML 1.2 reads as flow scalars and
sequences. The result is parsed again and must hold exactly the new values, or nothing
is written.
"""

from __future__ import annotations

import json
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq


def _yaml() -> YAML:
    return YAML(typ="rt", pure=True)


def _offset(lines: list[str], line: int, column: int) -> int:
    return sum(len(text) for text in lines[:line]) + column


def _closing_brace(text: str, start: int) -> int:
    """The offset of the '}' closing the flow mapping that opens at or after ``start``."""
    depth, index, quote = 0, text.index("{", start), ""
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1
            elif char == quote:
                if quote == "'" and text[index + 1:index + 2] == "'":
                    index += 1
                else:
                    quote = ""
        elif char in "\"'":
            quote = char
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return index
        elif char == "#" and text[index - 1] in " \t\n":
            index = text.find("\n", index)
            if index < 0:
                break
        index += 1
    raise ValueError("unterminated flow mapping")


def _block_end(lines: list[str], document: CommentedMap, section: str, items: CommentedSeq, position: int) -> int:
    """The index of the line after which a new key of item ``position`` goes."""
    if position + 1 < len(items):
        boundary = items.lc.item(position + 1)[0]
    else:
        keys = list(document)
        after = keys[keys.index(section) + 1:]
        boundary = document.lc.key(after[0])[0] if after else len(lines)
    end = boundary - 1
    while end > items.lc.item(position)[0] and (not lines[end].strip() or lines[end].lstrip().startswith("#")):
        end -= 1
    return end


def insert_fields(text: str, section: str, item_id: str, values: dict[str, Any]) -> str:
    """``text`` with ``values`` added to the item ``item_id`` of ``section``; ValueError if that cannot be done."""
    document = _yaml().load(text)
    items = document.get(section) if isinstance(document, CommentedMap) else None
    if not isinstance(items, CommentedSeq):
        raise ValueError(f"no {section} list")
    position = next((i for i, item in enumerate(items) if isinstance(item, CommentedMap)
                     and str(item.get("id")) == item_id), None)
    if position is None:
        raise ValueError(f"{section} item {item_id} not found")
    item = items[position]
    if any(key in item for key in values):
        raise ValueError(f"{section} item {item_id} already has {sorted(set(values) & set(item))}")
    lines = text.splitlines(keepends=True)
    if item.fa.flow_style():
        close = _closing_brace(text, _offset(lines, item.lc.line, item.lc.col) - 1)
        before = text[:close].rstrip()
        pairs = ", ".join(f"{key}: {json.dumps(value)}" for key, value in values.items())
        new_text = before + ("" if before.endswith("{") else ", ") + pairs + text[close:]
    else:
        end = _block_end(lines, document, section, items, position)
        indent = " " * item.lc.col
        if not lines[end].endswith("\n"):
            lines[end] += "\n"
        added = "".join(f"{indent}{key}: {json.dumps(value)}\n" for key, value in values.items())
        new_text = "".join(lines[:end + 1]) + added + "".join(lines[end + 1:])
    check = _yaml().load(new_text)[section][position]
    if any(_plain(check.get(key)) != _plain(value) for key, value in values.items()) or \
            {k: _plain(v) for k, v in check.items() if k not in values} != {k: _plain(v) for k, v in item.items()}:
        raise ValueError(f"could not add {sorted(values)} to {section} item {item_id} without changing it")
    return new_text


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
