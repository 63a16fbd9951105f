"""Users, per-site roles, sessions, one-time login links, API tokens and login rate limiting.

Secrets never reach the database in the clear: passwords are argon2id hashes, and session
cookies, login links and API tokens are random tokens of which only the SHA-256 is stored,
so a leaked database cannot be replayed as a login.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from enum import StrEnum
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from plantgate.db import audit, throttle
from plantgate.db.tables import (
    ApiTokenRow,
    GrantRow,
    LoginLinkRow,
    OidcLoginRow,
    SessionRow,
    SiteRow,
    UserRow,
    utc_now,
)
from plantgate.errors import InputError, PlantGateError


class Role(StrEnum):
    IT_ENGINEER = "it_engineer"
    OT_APPROVER = "ot_approver"
    PLANT_LEADERSHIP = "plant_leadership"
    SOC_ANALYST = "soc_analyst"
    AUDITOR = "auditor"
    ADMIN = "admin"


MIN_PASSWORD_LENGTH = 12
SESSION_LIFETIME = dt.timedelta(hours=12)
LOGIN_LINK_LIFETIME = dt.timedelta(minutes=15)
API_TOKEN_LIFETIME = dt.timedelta(days=90)

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("timing equaliser for unknown users")


class AuthError(PlantGateError):
    """Authentication failed; the message is safe to show (it never says which part was wrong)."""


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes; every stored moment is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


OneTime = TypeVar("OneTime", LoginLinkRow, OidcLoginRow)


def spend_once(session: Session, row_type: type[OneTime], key: InstrumentedAttribute[str],
               digest: str) -> OneTime | None:
    """The unused, unexpired one-time row ``digest`` names, now spent; None when there is none.

    The conditional UPDATE makes a second use fail even when the two uses are concurrent.
    """
    row = session.get(row_type, digest)
    if row is None or row.used or aware(row.expires_at) <= utc_now():
        return None
    spent = session.execute(update(row_type).where(key == digest, row_type.used.is_(False)).values(used=True))
    return row if spent.rowcount == 1 else None  # type: ignore[attr-defined]


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError.at("password", 0, 0, f"password is shorter than {MIN_PASSWORD_LENGTH} characters",
                            f"at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, username: str, password: str | None, *, actor: str, display_name: str = "",
                is_admin: bool = False) -> UserRow:
    """A new local account; ``password=None`` makes an account that can only log in by link or SSO."""
    if session.scalar(select(UserRow).where(UserRow.username == username)) is not None:
        raise InputError.at("username", 0, 0, f"user {username!r} already exists", "a new user name")
    if password is not None:
        check_password_strength(password)
    user = UserRow(username=username, display_name=display_name or username, is_admin=is_admin,
                   password_hash=_hash(password) if password is not None else None)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.create", object_type="user", object_id=username,
                 after={"username": username, "admin": is_admin})
    return user


def user_by_name(session: Session, username: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.username == username))


CONFLICTING_DUTIES = frozenset({Role.OT_APPROVER, Role.IT_ENGINEER})
"""The OT approver approves a change, an IT engineer (the platform owner) signs it off: one person holding both
at a site can only ever give one of the two on a change (enforced per change), but should not hold both."""


def grant(session: Session, user: UserRow, site: SiteRow, role: Role, *, actor: str) -> str | None:
    """Give ``user`` the ``role`` at ``site``; returns a warning when it joins duties that must stay apart."""
    if session.get(GrantRow, (user.id, site.id, role.value)) is None:
        session.add(GrantRow(user_id=user.id, site_id=site.id, role=role.value))
        audit.record(session, actor=actor, action="role.grant", object_type="user", object_id=user.username,
                     site=site.slug, after={"role": role.value})
        session.flush()
    if CONFLICTING_DUTIES <= roles_at(session, user, site):
        return (f"{user.username} now holds both {Role.OT_APPROVER.value} and {Role.IT_ENGINEER.value} at "
                f"{site.slug}: they may approve (OT) or sign off (platform owner) a change, never both on one change")
    return None


def roles_at(session: Session, user: UserRow, site: SiteRow) -> set[Role]:
    return {Role(r) for r in session.scalars(
        select(GrantRow.role).where(GrantRow.user_id == user.id, GrantRow.site_id == site.id))}


def users_with_role(session: Session, site: SiteRow, role: Role) -> list[UserRow]:
    return list(session.scalars(select(UserRow).join(GrantRow, GrantRow.user_id == UserRow.id)
                                .where(GrantRow.site_id == site.id, GrantRow.role == role.value)))


def _verify(stored: str, password: str) -> bool:
    with throttle.hashing_slot():
        try:
            return bool(_hasher.verify(stored, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _hash(password: str) -> str:
    with throttle.hashing_slot():
        return _hasher.hash(password)


def authenticate(session: Session, username: str, password: str, client: str) -> UserRow:
    """The user, or AuthError; Throttled when this (account, client) must wait (plantgate.db.throttle)."""
    throttle.reserve(session, username, client)
    user = user_by_name(session, username)
    stored = user.password_hash if user is not None and user.active and user.password_hash else _DUMMY_HASH
    valid = _verify(stored, password) and user is not None and stored is not _DUMMY_HASH
    if not valid or user is None:
        raise AuthError("wrong user name or password")
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hash(password)
    throttle.forgive(session, username, client)
    return user


def change_password(session: Session, user: UserRow, current: str, new: str, *, keep_session: str | None,
                    client: str) -> None:
    """Change a password after checking the current one (throttled like a login); every other session of the
    user and every API token of theirs is revoked."""
    if not user.password_hash:
        raise AuthError("this account has no local password")
    throttle.reserve(session, user.username, client)
    if not _verify(user.password_hash, current):
        raise AuthError("the current password is wrong")
    throttle.forgive(session, user.username, client)
    set_password(session, user, new, keep_session=keep_session, actor=user.username)


def set_password(session: Session, user: UserRow, new: str, *, keep_session: str | None, actor: str) -> None:
    """The new password; other sessions and every API token of the user are revoked (in the caller's
    transaction)."""
    check_password_strength(new)
    user.password_hash = _hash(new)
    query = update(SessionRow).where(SessionRow.user_id == user.id)
    if keep_session:
        query = query.where(SessionRow.token_sha256 != token_sha256(keep_session))
    session.execute(query.values(revoked=True))
    tokens = session.execute(update(ApiTokenRow).where(ApiTokenRow.user_id == user.id, ApiTokenRow.revoked.is_(False))
                             .values(revoked=True)).rowcount  # type: ignore[attr-defined]
    audit.record(session, actor=actor, action="user.password_change", object_type="user", object_id=user.username,
                 reason=f"other sessions and {tokens} API token(s) revoked")


def open_session(session: Session, user: UserRow) -> tuple[str, SessionRow]:
    """A new server-side session; returns the cookie token (shown once) and the row."""
    token = secrets.token_urlsafe(32)
    row = SessionRow(token_sha256=token_sha256(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                     expires_at=utc_now() + SESSION_LIFETIME)
    session.add(row)
    session.flush()
    return token, row


def _live(row: SessionRow | None, user: UserRow | None) -> bool:
    """A session counts while it is neither revoked nor expired and its user is active."""
    return (row is not None and user is not None and not row.revoked and aware(row.expires_at) > utc_now()
            and user.active)


def session_user(session: Session, token: str) -> tuple[SessionRow, UserRow] | None:
    row = session.get(SessionRow, token_sha256(token))
    user = session.get(UserRow, row.user_id) if row is not None else None
    return (row, user) if row is not None and user is not None and _live(row, user) else None


def session_site_access(session: Session, token: str, slug: str,
                        ) -> tuple[SessionRow, UserRow, SiteRow | None, set[Role]] | None:
    """The session's user, the site ``slug`` and the user's roles there, in ONE query (every page view asks).

    Nothing is cached: a revoked session, a withdrawn grant or a moved head revision counts on the
    very next request, in every worker process. None when the session is not live.
    """
    rows = session.execute(
        select(SessionRow, UserRow, SiteRow, GrantRow.role)
        .join(UserRow, UserRow.id == SessionRow.user_id)
        .outerjoin(SiteRow, SiteRow.slug == slug)
        .outerjoin(GrantRow, and_(GrantRow.user_id == UserRow.id, GrantRow.site_id == SiteRow.id))
        .where(SessionRow.token_sha256 == token_sha256(token))).all()
    if not rows or not _live(rows[0][0], rows[0][1]):
        return None
    row, user, site, _ = rows[0]
    return row, user, site, {Role(r[3]) for r in rows if r[3] is not None}


def revoke_session(session: Session, token: str) -> None:
    session.execute(update(SessionRow).where(SessionRow.token_sha256 == token_sha256(token)).values(revoked=True))


LOGIN, PASSWORD_RESET = "login", "password_reset"


def create_login_link(session: Session, user: UserRow, *, actor: str, purpose: str = LOGIN) -> str:
    """A one-time link: a login (``serve --demo``) or the setting of a new password (``admin reset-password``)."""
    token = secrets.token_urlsafe(32)
    session.add(LoginLinkRow(token_sha256=token_sha256(token), user_id=user.id, purpose=purpose,
                             expires_at=utc_now() + LOGIN_LINK_LIFETIME))
    audit.record(session, actor=actor, action="login_link.create", object_type="user", object_id=user.username,
                 after={"purpose": purpose})
    return token


def login_link_user(session: Session, token: str, purpose: str) -> UserRow | None:
    """The active user of an unspent, unexpired link of ``purpose`` (not spent: for showing its form)."""
    row = session.get(LoginLinkRow, token_sha256(token))
    if row is None or row.used or row.purpose != purpose or aware(row.expires_at) <= utc_now():
        return None
    user = session.get(UserRow, row.user_id)
    return user if user is not None and user.active else None


def redeem_login_link(session: Session, token: str, purpose: str = LOGIN) -> UserRow:
    """The link's user; the link is spent (``spend_once``). A disabled user's link is refused."""
    if login_link_user(session, token, purpose) is None:
        raise AuthError("this link is invalid, used or expired")
    row = spend_once(session, LoginLinkRow, LoginLinkRow.token_sha256, token_sha256(token))
    user = session.get(UserRow, row.user_id) if row is not None else None
    if user is None:
        raise AuthError("this link is invalid, used or expired")
    return user


def create_api_token(session: Session, user: UserRow, site: SiteRow, role: Role, name: str, *, actor: str,
                     lifetime: dt.timedelta = API_TOKEN_LIFETIME) -> str:
    """A token for automation acting as ``user`` with exactly ``role`` at ``site`` (which the user must hold),
    valid for ``lifetime`` (90 days by default) unless revoked first."""
    if lifetime <= dt.timedelta(0):
        raise InputError.at("--days", 0, 0, "a token must live at least a day", "a positive number of days")
    if role not in roles_at(session, user, site):
        raise InputError.at("role", 0, 0, f"{user.username} does not hold {role.value} at {site.slug}",
                            "a role the user holds at that site")
    token = "pgt_" + secrets.token_urlsafe(32)
    row = ApiTokenRow(token_sha256=token_sha256(token), name=name, user_id=user.id, site_id=site.id,
                      role=role.value, expires_at=utc_now() + lifetime)
    session.add(row)
    audit.record(session, actor=actor, action="api_token.create", object_type="user", object_id=user.username,
                 site=site.slug, after={"name": name, "role": role.value, "id": row.token_sha256[:12],
                                        "expires_at": row.expires_at.isoformat()})
    return token


def api_token(session: Session, token: str) -> tuple[ApiTokenRow, UserRow] | None:
    row = session.get(ApiTokenRow, token_sha256(token))
    if row is None or row.revoked or aware(row.expires_at) <= utc_now():
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active or Role(row.role) not in roles_at(session, user, session.get_one(SiteRow,
                                                                                                    row.site_id)):
        return None
    return row, user
