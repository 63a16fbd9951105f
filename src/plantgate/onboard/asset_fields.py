"""One asset seen twice (in the treaty, and in an import): which fields to fill, which disagree.

Every importer (``import assets``, ``nmap``, ``netbox``, ``csv``) merges the same way: a
field the treaty leaves empty is filled from the import, and only a field both sides hold
with different values is a conflict for a person to settle; the treaty's value is never
overwritten. Addresses disagree only when the import knows one the treaty does not list;
a description is filled when empty and never a conflict (prose differs without meaning).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MERGED_FIELDS = ("name", "zone", "role", "vendor", "product", "version", "cpe", "addresses", "software",
                 "description")


@dataclass(frozen=True)
class FieldConflict:
    field: str
    treaty_value: str
    incoming_value: str


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value.value if hasattr(value, "value") else value).strip()


def _software_key(item: Mapping[str, Any]) -> tuple[str, str]:
    return (str(item.get("product", "")).strip().lower(), str(item.get("seen_as", "")).strip().lower())


def compare_fields(current: Mapping[str, Any], incoming: Mapping[str, Any],
                   fields: Iterable[str] = MERGED_FIELDS) -> tuple[dict[str, Any], list[FieldConflict]]:
    """(fields to fill, conflicts) for ``incoming`` against the treaty's ``current`` item."""
    fills: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    for key in fields:
        new: Any = incoming.get(key)
        old: Any = current.get(key)
        if _empty(new):
            continue
        if _empty(old):
            fills[key] = new
        elif key == "addresses":
            if set(map(str, new)) - set(map(str, old)):
                conflicts.append(FieldConflict(key, _text(old), _text(sorted(map(str, new)))))
        elif key == "software":
            have = {_software_key(item) for item in old if isinstance(item, Mapping)}
            unseen = [item for item in new if _software_key(item) not in have]
            if unseen:
                conflicts.append(FieldConflict(key, "; ".join(str(i.get("product")) for i in old),
                                               "; ".join(f"{i.get('product')} {i.get('version', '')}".strip()
                                                         for i in unseen)))
        elif key != "description" and _text(old).lower() != _text(new).lower():
            conflicts.append(FieldConflict(key, _text(old), _text(new)))
    return fills, conflicts
