"""Single sign-on on the database side: sign-ons in flight, IdP identities, and roles from IdP groups.

The protocol (discovery, PKCE, ID token signature and claims) is authlib's job in
plantgate.web.oidc. What is ours is deciding who the person is here and what they may do:
- an IdP account is recognised by (issuer, subject), never by its user name, so an IdP user
  called like an existing local account cannot take that account over;
- roles come from the IdP groups through a mapping kept per site (``admin map-group``), and
  are re-derived at every sign-on: leaving a group at the IdP removes the role at the next one.
  Roles an admin granted locally are never touched by a sign-on.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from plantgate.db import audit
from plantgate.db.accounts import AuthError, Role, create_user, spend_once, token_sha256, user_by_name
from plantgate.db.tables import GrantRow, OidcGroupRoleRow, OidcIdentityRow, OidcLoginRow, SiteRow, UserRow, utc_now

SIGN_ON_LIFETIME = dt.timedelta(minutes=10)
OIDC_SOURCE = "oidc"


def begin_sign_on(session: Session, *, state: str, nonce: str, code_verifier: str, redirect_uri: str,
                  next_path: str) -> None:
    """Remember a sign-on sent to the IdP; only the state's SHA-256 is stored."""
    session.execute(delete(OidcLoginRow).where(OidcLoginRow.expires_at < utc_now()))
    session.add(OidcLoginRow(state_sha256=token_sha256(state), nonce=nonce, code_verifier=code_verifier,
                             redirect_uri=redirect_uri, next_path=next_path,
                             expires_at=utc_now() + SIGN_ON_LIFETIME))


def finish_sign_on(session: Session, state: str) -> OidcLoginRow:
    """The sign-on ``state`` names; it is spent (``spend_once``: a replay fails even when concurrent)."""
    row = spend_once(session, OidcLoginRow, OidcLoginRow.state_sha256, token_sha256(state))
    if row is None:
        raise AuthError("this sign-on is unknown, used or expired; start again")
    return row


def map_group(session: Session, site: SiteRow, group: str, role: Role, *, actor: str) -> None:
    """Members of IdP group ``group`` hold ``role`` at ``site`` (from their next sign-on)."""
    if session.get(OidcGroupRoleRow, (site.id, group, role.value)) is None:
        session.add(OidcGroupRoleRow(site_id=site.id, group_name=group, role=role.value))
        audit.record(session, actor=actor, action="sso.map_group", object_type="group", object_id=group[:100],
                     site=site.slug, after={"group": group, "role": role.value})
        session.flush()


def unmap_group(session: Session, site: SiteRow, group: str, role: Role, *, actor: str) -> bool:
    removed = session.execute(delete(OidcGroupRoleRow).where(
        OidcGroupRoleRow.site_id == site.id, OidcGroupRoleRow.group_name == group,
        OidcGroupRoleRow.role == role.value)).rowcount  # type: ignore[attr-defined]
    if removed:
        audit.record(session, actor=actor, action="sso.unmap_group", object_type="group", object_id=group[:100],
                     site=site.slug, before={"group": group, "role": role.value})
    return bool(removed)


def group_mappings(session: Session) -> list[tuple[str, str, str]]:
    """(site slug, group, role) for every mapping, sorted."""
    rows = session.execute(select(SiteRow.slug, OidcGroupRoleRow.group_name, OidcGroupRoleRow.role)
                           .join(SiteRow, SiteRow.id == OidcGroupRoleRow.site_id))
    return sorted((slug, group, role) for slug, group, role in rows)


def roles_for_groups(session: Session, groups: Iterable[str]) -> dict[int, set[Role]]:
    """Site id -> the roles the mapping gives to members of ``groups``."""
    wanted = set(groups)
    result: dict[int, set[Role]] = defaultdict(set)
    if wanted:
        for site_id, role in session.execute(select(OidcGroupRoleRow.site_id, OidcGroupRoleRow.role)
                                             .where(OidcGroupRoleRow.group_name.in_(wanted))):
            result[site_id].add(Role(role))
    return dict(result)


def _sync_grants(session: Session, user: UserRow, wanted: dict[int, set[Role]], actor: str) -> None:
    """Make the user's IdP-derived grants exactly ``wanted``; local grants stay as they are."""
    existing = {(g.site_id, g.role): g for g in session.scalars(select(GrantRow).where(GrantRow.user_id == user.id))}
    wanted_pairs = {(site_id, role.value) for site_id, roles in wanted.items() for role in roles}
    slugs = {site_id: slug for site_id, slug in session.execute(select(SiteRow.id, SiteRow.slug))}
    for (site_id, role), grant in existing.items():
        if grant.source == OIDC_SOURCE and (site_id, role) not in wanted_pairs:
            session.delete(grant)
            audit.record(session, actor=actor, action="role.revoke", object_type="user", object_id=user.username,
                         site=slugs.get(site_id, ""), before={"role": role}, reason="no longer in a mapped IdP group")
    for site_id, role in sorted(wanted_pairs - existing.keys()):
        session.add(GrantRow(user_id=user.id, site_id=site_id, role=role, source=OIDC_SOURCE))
        audit.record(session, actor=actor, action="role.grant", object_type="user", object_id=user.username,
                     site=slugs.get(site_id, ""), after={"role": role}, reason="member of a mapped IdP group")
    session.flush()


def provision(session: Session, *, issuer: str, subject: str, username: str, display_name: str,
              groups: Iterable[str]) -> UserRow | None:
    """The PlantGate user for this IdP identity, with roles re-derived from ``groups``.

    A first sign-on creates a password-less user named ``username`` (refused if a local account
    already has that name: linking must be an admin's decision). Returns None - and creates
    nothing - when a new identity's groups map to no role anywhere.
    """
    actor = f"sso:{username}"[:100]
    wanted = roles_for_groups(session, groups)
    identity = session.get(OidcIdentityRow, (issuer, subject))
    if identity is None:
        if not wanted:
            return None
        if not username or len(username) > 100:
            raise AuthError("the identity provider sent no usable user name")
        if user_by_name(session, username) is not None:
            raise AuthError(f"an account named {username!r} exists here and is not linked to this sign-on; "
                            "ask an administrator")
        user = create_user(session, username, None, actor=actor, display_name=display_name)
        session.add(OidcIdentityRow(issuer=issuer, subject=subject, user_id=user.id))
        audit.record(session, actor=actor, action="sso.link", object_type="user", object_id=username,
                     after={"issuer": issuer, "subject": subject})
    else:
        user = session.get_one(UserRow, identity.user_id)
        if not user.active:
            raise AuthError("this account is disabled")
    _sync_grants(session, user, wanted, actor)
    return user
