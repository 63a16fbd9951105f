"""The strict base every treaty model inherits: unknown keys are errors, ids are checked.

A typo in a treaty key must never be silently ignored: a misspelt ``ot_aprover`` would
otherwise read as "no approver" and pass review.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$", min_length=1, max_length=100)
]
"""An object id: letters, digits and ``_ . : -``, starting with a letter or digit."""


class TreatyModel(BaseModel):
    """Base of every treaty object: strict keys, no coercion surprises, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_enum_values=False)
