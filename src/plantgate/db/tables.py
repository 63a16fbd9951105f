"""The relational schema of the web app: sites, treaty revisions, people, decisions and the audit log.

The treaty itself is never split into tables: each revision stores the validated pydantic
document as JSON, so the web app and the CLI read one schema. Everything that is about
*who decided what, when* (users, roles, sessions, approvals, signatures, audit) is relational,
because those records are queried, constrained and joined.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class SiteRow(Base):
    """One plant. ``head_revision_id`` is the optimistic-concurrency anchor: updates compare-and-swap it."""

    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    head_revision_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RevisionRow(Base):
    """A validated treaty document (Treaty.model_dump(mode='json')) with its parent, author and message."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("site_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"), nullable=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    # Loaded only when read: at 10,000 conduits the document is ~5 MB of JSON, and decoding it holds the
    # interpreter for ~100-200 ms, so a request that needs a revision's number or id (an upload, the charter's
    # signatures, a poll) must not pay for it.
    document: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    layout: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class BlobRow(Base):
    """File contents (firewall configs and other evidence), stored once by SHA-256."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class RevisionFileRow(Base):
    """A non-YAML file of a revision's treaty folder (relative path -> blob)."""

    __tablename__ = "revision_files"
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str] = mapped_column(String(300), default="", server_default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class GrantRow(Base):
    """A role a user holds at one site.

    ``source`` is "local" (granted by an admin, kept until revoked) or "oidc" (derived from the
    user's IdP groups at their last single sign-on, replaced at each one).
    """

    __tablename__ = "grants"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")


class OidcIdentityRow(Base):
    """Links an IdP account (issuer + subject, never the mutable user name) to a PlantGate user."""

    __tablename__ = "oidc_identities"
    issuer: Mapped[str] = mapped_column(String(300), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class OidcGroupRoleRow(Base):
    """Single sign-on: members of IdP group ``group_name`` hold ``role`` at one site."""

    __tablename__ = "oidc_group_roles"
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class OidcLoginRow(Base):
    """A sign-on in flight: the state (stored hashed) names the nonce and PKCE verifier; usable once."""

    __tablename__ = "oidc_logins"
    state_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(200))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    next_path: Mapped[str] = mapped_column(String(500), default="/")
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionRow(Base):
    """A server-side session; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "sessions"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginLinkRow(Base):
    """A one-time login URL (``serve --demo``): usable once, before it expires."""

    __tablename__ = "login_links"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    purpose: Mapped[str] = mapped_column(String(20), default="login", server_default="login")
    """"login" (``serve --demo``) or "password_reset" (``admin reset-password``: sets a new password)."""


class LoginThrottleRow(Base):
    """Password checks per (account, client) for the progressive delay (plantgate.db.throttle)."""

    __tablename__ = "login_throttle"
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    client: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_allowed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class ApiTokenRow(Base):
    """An automation token scoped to one site and one role."""

    __tablename__ = "api_tokens"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    role: Mapped[str] = mapped_column(String(40))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ChangeRequestRow(Base):
    """A proposed change: a ChangeRecord (JSON) on a base revision, with an optional candidate config."""

    __tablename__ = "change_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    base_revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(300))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    candidate_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    deployed_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), nullable=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    result_revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Bumped by every transition and decision (plantgate.db.cas): the compare-and-swap's witness."""


class ApprovalRow(Base):
    """One decision on a change request: OT approve/veto or platform sign-off, bound to the candidate."""

    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    candidate_sha256: Mapped[str] = mapped_column(String(64), default="")
    base_revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RiskDecisionRow(Base):
    """A risk decision ('patch now' or 'accept with compensating controls until OUTAGE')."""

    __tablename__ = "risk_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    decision: Mapped[str] = mapped_column(String(20))
    compensating_controls: Mapped[str] = mapped_column(Text, default="")
    until_outage: Mapped[str | None] = mapped_column(String(100), nullable=True)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class CharterSignatureRow(Base):
    """Leadership's signature of the charter as it stands in one revision."""

    __tablename__ = "charter_signatures"
    __table_args__ = (UniqueConstraint("revision_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class FindingAcceptanceRow(Base):
    """A finding accepted at a site, with its reason, until an expiry date; one row per finding, reused.

    ``fingerprint`` is the finding's stable identity (rule id, subjects, discriminator): the
    acceptance follows the finding across revisions. The row holds the current decision only;
    earlier acceptances and revocations of the same finding are in the audit log. An acceptance
    is in force while ``state`` is "accepted" and the day is on or before ``expires_on``: an
    expired one needs no job to lapse, every reader compares it with today.
    """

    __tablename__ = "finding_acceptances"
    __table_args__ = (UniqueConstraint("site_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    accepted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Bumped by every accept and revoke (plantgate.db.cas)."""


class AuditRow(Base):
    """The append-only, hash-chained audit log; triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100), index=True)
    site: Mapped[str] = mapped_column(String(100), default="", index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class CheckResultRow(Base):
    """The findings of one revision judged on one day with one set of fleet inputs, written once.

    ``feeds`` and ``baseline`` are the digests of the fleet feed snapshot and the corporate
    baseline the judgement used ("" for none), so a feed update asks for a new result instead
    of overwriting the old one. A job that runs twice (retried after a crash, or run by two
    workers) finds the row ``done`` and stops; the ``done`` write is conditional, so the first
    writer wins and nothing is stored twice. ``computations`` counts the times a job started
    computing this result (1 unless a worker died mid-job). ``facts`` holds what the fleet pages
    query across plants (exposed CVEs and their conduits, RDP paths into level 3).
    """

    __tablename__ = "check_results"
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), primary_key=True)
    as_of: Mapped[str] = mapped_column(String(10), primary_key=True)
    feeds: Mapped[str] = mapped_column(String(64), primary_key=True)
    baseline: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    state: Mapped[str] = mapped_column(String(10))
    findings: Mapped[list[Any]] = mapped_column(JSON, deferred=True)  # megabytes at 10,000 conduits: read when used
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    error: Mapped[str] = mapped_column(Text, default="")
    computations: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(200), default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FleetInputRow(Base):
    """A fleet-wide input as loaded: a feed snapshot (KEV, CSAF, Vulnrichment) or the corporate baseline.

    ``files`` maps each file's relative path to its blob; ``digest`` covers paths and contents,
    so loading the same feeds twice changes nothing. The newest row of a kind is the current one.
    """

    __tablename__ = "fleet_inputs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class FleetGrantRow(Base):
    """A fleet-wide READ role (corporate security, auditor): every site's pages, no site's writes."""

    __tablename__ = "fleet_grants"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class OutboxRow(Base):
    """A notification or SOC event decided in the same transaction as its cause, delivered by a job.

    ``key`` is unique: the same event (e.g. one new critical finding of one result to one
    recipient) is queued once however often the job that found it runs.
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    site: Mapped[str] = mapped_column(String(100), default="", index=True)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ConfigUploadRow(Base):
    """A deployed config uploaded through the API, parsed and folded by a job into a new revision."""

    __tablename__ = "config_uploads"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    firewall_id: Mapped[str] = mapped_column(String(200))
    based_on: Mapped[int] = mapped_column(ForeignKey("revisions.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(10), default="queued")
    error: Mapped[str] = mapped_column(Text, default="")
    result_revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"), nullable=True)
    as_of: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ReportRow(Base):
    """A rendered report of one revision on one day with one set of fleet inputs, written once by a job."""

    __tablename__ = "reports"
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), primary_key=True)
    as_of: Mapped[str] = mapped_column(String(10), primary_key=True)
    feeds: Mapped[str] = mapped_column(String(64), primary_key=True)
    baseline: Mapped[str] = mapped_column(String(64), primary_key=True)
    format: Mapped[str] = mapped_column(String(10), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class AuditCheckpointRow(Base):
    """A signed statement "the audit log had ``count`` entries up to ``seq`` ending in ``hash``" (db.audit_anchor).

    Kept here for convenience and append-only like the log; the copies that anchor the log are the
    ones outside the database (the checkpoint file, the syslog collector), signed with a key the
    database does not hold."""

    __tablename__ = "audit_checkpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))
    alg: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(200))
