"""Fleet-wide read roles: corporate security and auditors see every site, and decide at none.

Per-site grants (``grants``) stay the only way to a write. A fleet grant adds the auditor's
read-only view at every site and opens the fleet pages; it is audited like any grant.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plantgate.db import audit
from plantgate.db.tables import FleetGrantRow, UserRow

FLEET_ROLES = frozenset({"corporate_security", "fleet_auditor"})


def fleet_roles(session: Session, user: UserRow) -> set[str]:
    return set(session.scalars(select(FleetGrantRow.role).where(FleetGrantRow.user_id == user.id)))


def grant_fleet_role(session: Session, user: UserRow, role: str, *, actor: str) -> None:
    if role not in FLEET_ROLES:
        raise ValueError(f"{role} is not a fleet role")
    if session.get(FleetGrantRow, (user.id, role)) is None:
        session.add(FleetGrantRow(user_id=user.id, role=role))
        audit.record(session, actor=actor, action="fleet_role.grant", object_type="user", object_id=user.username,
                     after={"role": role})
        session.flush()


def revoke_fleet_role(session: Session, user: UserRow, role: str, *, actor: str) -> None:
    deleted = session.execute(delete(FleetGrantRow).where(FleetGrantRow.user_id == user.id,
                                                          FleetGrantRow.role == role))
    if deleted.rowcount:  # type: ignore[attr-defined]
        audit.record(session, actor=actor, action="fleet_role.revoke", object_type="user", object_id=user.username,
                     before={"role": role})
