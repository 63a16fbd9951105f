"""What changed between two treaty documents, part by part and field by field.

A revision page answers "what did this revision change?" for people who approve and audit: which
conduits were added, removed or edited (each edited field with its old and new value), and which
other parts of the treaty moved. It compares the validated JSON documents
(``Treaty.model_dump(mode="json")``), so it reads any stored revision without loading it again.

Items of a list are matched by their identity: ``id`` where the model has one, the RACI
``activity``, a route's zone pair; items with none (observed flow files) by their whole value,
so such an item changes by being removed and added. A section that is one object (charter,
patch policy...) is one item named after the section.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

IDENTITY_KEYS = ("id", "activity")


@dataclass(frozen=True)
class FieldChange:
    """One field of an item: its value before and after (None where it was not given)."""

    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemEdit:
    """An item present in both documents whose fields differ."""

    key: str
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class PartDiff:
    """The changes of one top-level part of the treaty (zones, conduits, charter...)."""

    name: str
    added: tuple[tuple[str, Any], ...] = ()
    removed: tuple[tuple[str, Any], ...] = ()
    edited: tuple[ItemEdit, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.edited)


@dataclass(frozen=True)
class TreatyDiff:
    """Every part that changed, in the treaty's own order; the conduit register first among equals."""

    parts: tuple[PartDiff, ...] = field(default_factory=tuple)

    def part(self, name: str) -> PartDiff:
        return next((p for p in self.parts if p.name == name), PartDiff(name))

    @property
    def changed(self) -> bool:
        return any(p.changed for p in self.parts)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def item_key(item: Any) -> str:
    """The identity an item is matched by across documents."""
    if isinstance(item, dict):
        for key in IDENTITY_KEYS:
            if isinstance(item.get(key), str):
                return item[key]
        if "from_zone" in item and "to_zone" in item:
            return f"{item['from_zone']} -> {item['to_zone']}"
    return item if isinstance(item, str) else _canonical(item)


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    """The fields whose values differ, in the new item's order, then those only the old one had."""
    names = [*new, *(k for k in old if k not in new)]
    return tuple(FieldChange(name, old.get(name), new.get(name)) for name in names
                 if _canonical(old.get(name)) != _canonical(new.get(name)))


def _items(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {item_key(item): item for item in value}
    return {name: value}


def part_diff(name: str, old: Any, new: Any) -> PartDiff:
    """The changes of one part: a list matched item by item, or a single object as one item."""
    before, after = _items(old, name), _items(new, name)
    edited = []
    for key, item in after.items():
        if key in before and _canonical(before[key]) != _canonical(item):
            if isinstance(item, dict) and isinstance(before[key], dict):
                edited.append(ItemEdit(key, field_changes(before[key], item)))
            else:
                edited.append(ItemEdit(key, (FieldChange(name, before[key], item),)))
    return PartDiff(name, added=tuple((k, v) for k, v in after.items() if k not in before),
                    removed=tuple((k, v) for k, v in before.items() if k not in after), edited=tuple(edited))


def treaty_diff(old: dict[str, Any], new: dict[str, Any]) -> TreatyDiff:
    """What changed from ``old`` to ``new`` (two treaty documents as JSON); only the parts that changed."""
    names = [*new, *(k for k in old if k not in new)]
    parts = (part_diff(name, old.get(name), new.get(name)) for name in names)
    return TreatyDiff(tuple(p for p in parts if p.changed))
