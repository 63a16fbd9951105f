"""Incident response: who has access, and taking it away at once (``plantgate admin``).

When an account is suspected, an administrator must see every person and what they hold,
end a person's access (disable: every session ends now, their API tokens stop working),
remove one grant, force a new password (the old one stops working at once, and the person
sets a new one through a one-time link), and see and revoke API tokens. Each of these is
audited. Expired sessions, spent links and old login-throttle rows are purged here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Delete, delete, or_, select, update
from sqlalchemy.orm import Session

from plantgate.db import audit, throttle
from plantgate.db.accounts import PASSWORD_RESET, Role, aware, create_login_link, user_by_name
from plantgate.db.tables import ApiTokenRow, GrantRow, LoginLinkRow, OidcLoginRow, SessionRow, SiteRow, UserRow, utc_now
from plantgate.errors import InputError


@dataclass(frozen=True)
class UserListing:
    username: str
    display_name: str
    active: bool
    admin: bool
    grants: list[tuple[str, str, str]]
    """(site slug, role, source: local or oidc)."""


@dataclass(frozen=True)
class TokenListing:
    id: str
    """The first 12 hex digits of the token's SHA-256: enough to name it, useless to log in with."""
    name: str
    username: str
    site: str
    role: str
    created: str
    expires: str
    state: str


def existing_user(session: Session, username: str) -> UserRow:
    user = user_by_name(session, username)
    if user is None:
        raise InputError.at(username, 0, 0, "no such user", "a user name (see `plantgate admin users`)")
    return user


def users(session: Session) -> list[UserListing]:
    grants: dict[int, list[tuple[str, str, str]]] = {}
    for user_id, slug, role, source in session.execute(
            select(GrantRow.user_id, SiteRow.slug, GrantRow.role, GrantRow.source)
            .join(SiteRow, SiteRow.id == GrantRow.site_id).order_by(SiteRow.slug, GrantRow.role)):
        grants.setdefault(user_id, []).append((slug, role, source))
    return [UserListing(u.username, u.display_name, u.active, u.is_admin, grants.get(u.id, []))
            for u in session.scalars(select(UserRow).order_by(UserRow.username))]


def end_sessions(session: Session, user: UserRow) -> int:
    result = session.execute(update(SessionRow).where(SessionRow.user_id == user.id, SessionRow.revoked.is_(False))
                             .values(revoked=True))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_active(session: Session, username: str, active: bool, *, actor: str, reason: str = "") -> int:
    """Disable (every session ends now; tokens and links stop working while disabled) or re-enable a user;
    returns the number of sessions ended."""
    user = existing_user(session, username)
    ended = end_sessions(session, user) if not active else 0
    if user.active != active:
        user.active = active
        audit.record(session, actor=actor, action="user.enable" if active else "user.disable", object_type="user",
                     object_id=user.username, before={"active": not active}, after={"active": active},
                     reason=reason or (f"{ended} session(s) ended" if not active else ""))
    return ended


def remove_grant(session: Session, username: str, slug: str, role: Role, *, actor: str) -> None:
    user = existing_user(session, username)
    site = session.scalar(select(SiteRow).where(SiteRow.slug == slug))
    if site is None:
        raise InputError.at(slug, 0, 0, "no such site", "the slug of an imported site")
    removed = session.execute(delete(GrantRow).where(GrantRow.user_id == user.id, GrantRow.site_id == site.id,
                                                     GrantRow.role == role.value)).rowcount  # type: ignore[attr-defined]
    if not removed:
        raise InputError.at(role.value, 0, 0, f"{username} does not hold {role.value} at {slug}",
                            "a grant listed by `plantgate admin users`")
    audit.record(session, actor=actor, action="role.revoke", object_type="user", object_id=user.username,
                 site=site.slug, before={"role": role.value})


def reset_password(session: Session, username: str, *, actor: str) -> str:
    """The old password stops working now and every session ends; returns a one-time token with which the
    person sets a new password (which also revokes their API tokens)."""
    user = existing_user(session, username)
    if not user.active:
        raise InputError.at(username, 0, 0, "the user is disabled", "`plantgate admin enable` first")
    had_password = user.password_hash is not None
    user.password_hash = None
    ended = end_sessions(session, user)
    audit.record(session, actor=actor, action="user.password_reset", object_type="user", object_id=user.username,
                 reason=f"password {'cleared' if had_password else 'was not set'}; {ended} session(s) ended")
    return create_login_link(session, user, actor=actor, purpose=PASSWORD_RESET)


def tokens(session: Session, username: str | None = None) -> list[TokenListing]:
    query = (select(ApiTokenRow, UserRow.username, SiteRow.slug).join(UserRow, UserRow.id == ApiTokenRow.user_id)
             .join(SiteRow, SiteRow.id == ApiTokenRow.site_id).order_by(ApiTokenRow.created_at))
    if username is not None:
        query = query.where(UserRow.username == username)
    now = utc_now()
    return [TokenListing(row.token_sha256[:12], row.name, name, slug, row.role, aware(row.created_at).isoformat(
        timespec="seconds"), aware(row.expires_at).isoformat(timespec="seconds"),
        "revoked" if row.revoked else "expired" if aware(row.expires_at) <= now else "active")
        for row, name, slug in session.execute(query)]


def revoke_token(session: Session, token_id: str, *, actor: str) -> TokenListing:
    """Revoke the token whose SHA-256 starts with ``token_id`` (at least 8 hex digits, naming one token)."""
    prefix = token_id.strip().lower()
    if len(prefix) < 8 or any(c not in "0123456789abcdef" for c in prefix):
        raise InputError.at(token_id, 0, 0, "not a token id", "the id column of `plantgate admin tokens`")
    found = session.scalars(select(ApiTokenRow).where(ApiTokenRow.token_sha256.startswith(prefix))).all()
    if len(found) != 1:
        raise InputError.at(token_id, 0, 0, "no such token" if not found else "more than one token has this id",
                            "the id column of `plantgate admin tokens`")
    row = found[0]
    listing = next(t for t in tokens(session) if t.id == row.token_sha256[:12])
    if not row.revoked:
        row.revoked = True
        audit.record(session, actor=actor, action="api_token.revoke", object_type="user", object_id=listing.username,
                     site=listing.site, before={"id": listing.id, "name": listing.name, "role": listing.role})
    return listing


def purge(session: Session) -> dict[str, int]:
    """Delete what can never be used again: expired or revoked sessions, spent or expired one-time links and
    sign-ons, and login-throttle pairs nobody has failed with for a day. Returns the counts."""
    now = utc_now()

    def deleted(statement: Delete) -> int:
        return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]

    counts = {
        "sessions": deleted(delete(SessionRow).where(or_(SessionRow.expires_at < now, SessionRow.revoked.is_(True)))),
        "links": deleted(delete(LoginLinkRow).where(or_(LoginLinkRow.expires_at < now, LoginLinkRow.used.is_(True)))),
        "sign-ons": deleted(delete(OidcLoginRow).where(or_(OidcLoginRow.expires_at < now,
                                                           OidcLoginRow.used.is_(True)))),
        "login-throttle rows": throttle.purge(session),
    }
    return counts
