"""Turn pydantic validation errors into located, plain-language problems."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from plantgate.errors import ProblemCollector
from plantgate.load.reader import KeyPath, SpanIndex


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through list, dict, Optional, unions)."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    if origin is dict:
        return _unwrap(typing.get_args(annotation)[1])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def model_at(root: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The model class that owns the mapping at ``path`` (indices and dict keys skipped)."""
    current: type[BaseModel] | None = root
    for part in path:
        if current is None:
            return None
        if isinstance(part, int) or part not in current.model_fields:
            continue
        models = _unwrap(current.model_fields[part].annotation)
        current = models[0] if models else None
    return current


def _describe(error: dict[str, Any], root: type[BaseModel]) -> tuple[str, str]:
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        owner = model_at(root, loc[:-1])
        allowed = ", ".join(field.alias or name for name, field in owner.model_fields.items()) if owner else ""
        return f"unknown key '{loc[-1]}'", f"one of: {allowed}" if allowed else ""
    if kind == "missing":
        return f"missing required key '{loc[-1]}'", ""
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    expected = ""
    if kind in ("enum", "literal_error") and "expected" in error.get("ctx", {}):
        expected = str(error["ctx"]["expected"])
        message = f"invalid value {error.get('input')!r}"
    return message, expected


def _clean_loc(loc: tuple[Any, ...]) -> KeyPath:
    """Drop pydantic's union-branch markers such as 'str' or 'function-after[...]'."""
    return tuple(p for p in loc if isinstance(p, int) or not ("[" in p or p in ("str", "int", "float", "bool")))


def validate_document(root: type[BaseModel], document: dict[str, Any], spans: SpanIndex,
                      problems: ProblemCollector) -> tuple[BaseModel | None, dict[str, set[str]]]:
    """Validate; on errors, also return a salvaged model of the parts that were valid.

    The salvage lets the reference checks run in the same pass, so one run reports a bad
    key in one file and a dangling reference in another together. Returns the model (or
    None) and, per list section, the ids of the items that had to be left out.
    """
    try:
        return root.model_validate(document), {}
    except ValidationError as exc:
        bad_items: set[tuple[str, int]] = set()
        bad_keys: set[tuple[str, int, str]] = set()
        bad_sections: set[str] = set()
        for error in exc.errors(include_url=False):
            loc = _clean_loc(tuple(error["loc"]))
            message, expected = _describe({**error, "loc": loc}, root)
            key_path = ".".join(str(p) for p in loc)
            problems.add(spans.locate(loc), message, key_path=key_path, expected=expected)
            if len(loc) >= 3 and isinstance(loc[1], int) and error["type"] != "missing":
                bad_keys.add((str(loc[0]), loc[1], str(loc[2])))
            elif len(loc) >= 2 and isinstance(loc[1], int):
                bad_items.add((str(loc[0]), loc[1]))
            elif loc:
                bad_sections.add(str(loc[0]))
    for _ in range(4):  # dropping a bad key may leave a required key missing: then drop the item
        salvaged, origin = _salvage(document, bad_sections, bad_items, bad_keys)
        try:
            model = root.model_validate(salvaged)
        except ValidationError as again:
            for error in again.errors(include_url=False):
                loc = tuple(error["loc"])
                if len(loc) >= 2 and isinstance(loc[1], int):
                    bad_items.add((str(loc[0]), origin[(str(loc[0]), loc[1])]))
                elif loc:
                    bad_sections.add(str(loc[0]))
            continue
        return model, _left_out_ids(document, bad_items)
    return None, _left_out_ids(document, bad_items)


def _left_out_ids(document: dict[str, Any], bad_items: set[tuple[str, int]]) -> dict[str, set[str]]:
    left_out: dict[str, set[str]] = {}
    for section, index in bad_items:
        items = document.get(section)
        item = items[index] if isinstance(items, list) and 0 <= index < len(items) else None
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            left_out.setdefault(section, set()).add(item["id"])
    return left_out


def _salvage(document: dict[str, Any], bad_sections: set[str], bad_items: set[tuple[str, int]],
             bad_keys: set[tuple[str, int, str]]) -> tuple[dict[str, Any], dict[tuple[str, int], int]]:
    """The document without what failed: bad keys of list items, bad items, bad sections.

    Dropping only the offending key keeps an item's other references checkable (a conduit
    with a misspelt key still has its zones checked). Returns the salvaged document and
    the map from (section, salvaged index) to the original index.
    """
    salvaged: dict[str, Any] = {}
    origin: dict[tuple[str, int], int] = {}
    for section, value in document.items():
        if section in bad_sections:
            continue
        if not isinstance(value, list):
            salvaged[section] = value
            continue
        kept: list[Any] = []
        for index, item in enumerate(value):
            if (section, index) in bad_items:
                continue
            if isinstance(item, dict):
                item = {k: v for k, v in item.items() if (section, index, k) not in bad_keys}
            origin[(section, len(kept))] = index
            kept.append(item)
        salvaged[section] = kept
    return salvaged, origin
