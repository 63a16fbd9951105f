"""The strict base every treaty model inherits: unknown keys are errors, ids are checked.

A typo in a treaty key must never be silently ignored: a misspelt ``ot_aprover`` would
otherwise read as "no approver" and pass review.
"""

from __future__ import annotations

import types
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationInfo, field_validator

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$", min_length=1, max_length=100)
]
"""An object id: letters, digits and ``_ . : -``, starting with a letter or digit."""


class TreatyModel(BaseModel):
    """Base of every treaty object: strict keys, no coercion surprises, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_enum_values=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML ``true`` where a number belongs is a mistake, not 1: pydantic would read ``level: true``
        as Purdue level 1 and ``ports: [true]`` as port 1."""
        if info.field_name is None:
            return value
        wanted = _field_wants_numbers(cls, info.field_name)
        if wanted == "number" and isinstance(value, bool):
            raise ValueError(f"{str(value).lower()} is not a number")
        if wanted == "numbers" and isinstance(value, list) and any(isinstance(item, bool) for item in value):
            raise ValueError("true/false is not a number")
        return value


@cache
def _field_wants_numbers(model: type[BaseModel], name: str) -> str:
    return _numbers_wanted(model.model_fields[name].annotation)


def _numbers_wanted(annotation: Any) -> str:
    """'number' for an int or float field (optional or in a union without bool), 'numbers' for a
    list of them, '' otherwise."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        kinds = {_numbers_wanted(arg) for arg in args if arg is not type(None)}
        return "" if bool in args else "number" if "number" in kinds else "numbers" if "numbers" in kinds else ""
    if origin is list and args:
        return "numbers" if _numbers_wanted(args[0]) == "number" else ""
    return "number" if annotation in (int, float) else ""
