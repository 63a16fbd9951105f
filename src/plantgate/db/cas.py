"""Compare-and-swap on a decision row: the one way a change's state or a risk decision's signature moves.

A person decides on what they saw. Between reading a row and writing it, another request may
have vetoed, implemented or signed it; a plain ORM update would silently overwrite that (a veto
lost under an implementation, two leaders both told they signed). So every transition is one
conditional UPDATE that names the state it expects AND the version it read, and bumps the
version::

    UPDATE change_requests SET state = 'vetoed', version = version + 1
     WHERE id = :id AND state = 'approved' AND version = :v

Exactly one of two concurrent writers matches (PostgreSQL re-checks the WHERE clause after the
first commits; SQLite has one writer at a time); the other gets ``False`` and must re-read,
then either retry its decision on the new state or refuse. The caller keeps the swap in the
same transaction as the decision's effects and its audit entry, so all of them happen or none.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value


class Versioned(Protocol):
    """A row with an integer primary key ``id`` and a ``version`` counter."""

    id: Any
    version: Any


def compare_and_swap(session: Session, row: Versioned, expected: dict[str, Any], values: dict[str, Any]) -> bool:
    """Set ``values`` on ``row`` if it still has ``row.version`` and the ``expected`` column values.

    True when swapped (``row`` then holds the new values and version); False when the row moved,
    and nothing was written. ``None`` in ``expected`` means IS NULL.
    """
    table = type(row)
    conditions = [table.id == row.id, table.version == row.version]
    conditions += [getattr(table, column).is_(None) if value is None else getattr(table, column) == value
                   for column, value in expected.items()]
    result = session.execute(update(table).where(*conditions).values(**values, version=table.version + 1)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for column, value in values.items():
        set_committed_value(row, column, value)
    set_committed_value(row, "version", row.version + 1)
    return True
