"""Inventory device types the treaty model does not know, mapped to roles: by a site's file, or to ``other``.

Asset tools have their own vocabulary ("Serial Gateway", "Flow Computer", "Protocol
Converter"). A type PlantGate cannot map must never abort an import of thousands of rows:
the device becomes role ``other`` and the import says so. A site that knows better writes
a type map, a YAML mapping from its tool's types to asset roles (``--type-map FILE``):

    Serial Gateway: other
    Flow Computer: controller
    Operator Console: hmi

Types are compared without case, spaces, ``_`` or ``-``; the map is read before the
inventory's own aliases, so it can also correct them.
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from plantgate.errors import InputError
from plantgate.feeds.asset_inventory import normalise, parse_role
from plantgate.feeds.textfile import read_evidence_text
from plantgate.model.assets import AssetRole

TypeMap = dict[str, AssetRole]


def load_type_map(path: Path) -> TypeMap:
    """The type map file as normalised type -> role; an InputError at the line of a bad entry."""
    text = read_evidence_text(path, "type map")
    try:
        document = YAML(typ="rt", pure=True).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError.at(str(path), mark.line + 1 if mark else 1, mark.column + 1 if mark else 1,
                            f"YAML syntax error: {getattr(exc, 'problem', exc)}", "a YAML mapping type: role") from None
    if document is None:
        return {}
    if not isinstance(document, CommentedMap):
        raise InputError.at(str(path), 1, 1, "the type map is not a mapping", "lines of the form 'Device type: role'")
    roles = ", ".join(r.value for r in AssetRole)
    out: TypeMap = {}
    for key, value in document.items():
        line, column = document.lc.value(key) if key in document else (0, 0)
        role = parse_role(str(value)) if isinstance(value, str) else None
        if role is None:
            raise InputError.at(str(path), line + 1, column + 1, f"{value!r} is not an asset role (type {key!r})",
                                f"one of {roles}")
        out[normalise(str(key))] = role
    return out


def role_for(value: str, type_map: TypeMap) -> AssetRole | None:
    """The role an inventory type stands for: the site's map first, then PlantGate's aliases; None if unknown."""
    return type_map.get(normalise(value)) or parse_role(value)
