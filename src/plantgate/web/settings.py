"""The one settings class of the web app (environment ``PLANTGATE_*`` or command-line options)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from plantgate.web.offload import default_workers

DEFAULT_DATABASE_URL = "sqlite:///./plantgate.db"


NotificationEvent = Literal["change_waiting", "veto", "critical_finding", "exception_expiring"]


class NotificationRule(BaseModel):
    """Who hears of what: the holders of ``role`` at ``site`` ("*" for every site), by e-mail and/or webhook."""

    site: str = "*"
    role: str
    events: list[NotificationEvent]
    email: bool = True
    webhook: str = ""
    """An http(s) URL that receives each event as JSON (with an Idempotency-Key header)."""


class Settings(BaseSettings):
    """Where the data lives and how the app behaves; never holds a secret in the clear."""

    model_config = SettingsConfigDict(env_prefix="PLANTGATE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    secure_cookies: bool = True
    """``__Host-`` cookies need Secure; only tests over plain http to a non-local host turn this off."""
    as_of: dt.date | None = None
    """Judge dates as of this day instead of today (demo and tests)."""
    page_size: int = 50
    check_wait_seconds: float = 0.0
    """How long a page polls the database for a result being computed before it shows progress (the job runs
    elsewhere; 0 answers at once, which production wants; tests wait)."""
    api_check_wait_seconds: float = 0.0
    """Likewise for ``GET .../findings`` of the API, which then answers 503 with Retry-After."""
    jobs: Literal["auto", "queue", "local"] = "auto"
    """Where jobs run: ``queue`` = the Procrastinate queue in PostgreSQL (``plantgate worker`` runs them),
    ``local`` = worker processes of this app (``jobs_processes``); ``auto`` = queue on PostgreSQL, local on SQLite."""
    trusted_origins: list[str] = []
    """Extra origins allowed to POST (e.g. behind a reverse proxy); the request's own origin always is."""
    public_url: str = ""
    """The app's external base URL (e.g. https://plantgate.example), for the OIDC redirect URI behind a proxy;
    empty means the URL of the request."""
    oidc_issuer: str = ""
    """OpenID Connect issuer URL (discovery at ``<issuer>/.well-known/openid-configuration``); empty disables SSO."""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scope: str = "openid profile email groups"
    oidc_groups_claim: str = "groups"
    """The ID token claim that lists the user's IdP groups (mapped to roles per site: ``admin map-group``)."""
    oidc_username_claim: str = "preferred_username"
    trusted_proxies: list[str] = []
    """Reverse proxies (IP addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are believed;
    from anyone else those headers are ignored (login throttling keys on the client address)."""
    audit_hmac_key: SecretStr = SecretStr("")
    """Key of the HMAC-SHA256 that signs audit checkpoints (plantgate.db.audit_anchor); never in the database."""
    audit_signing_key_file: str = ""
    """Or: a PEM Ed25519 private key file that signs them (wins over the HMAC key)."""
    audit_checkpoint_file: str = ""
    """File outside the database that each checkpoint is appended to (JSON lines)."""
    audit_syslog: str = ""
    """Syslog collector (HOST:PORT, udp:// or tcp://) that each checkpoint is also sent to."""
    audit_checkpoint_minutes: float = 15.0
    """A checkpoint is written this often when the log has grown, and after every signature."""
    purge_minutes: float = 60.0
    """Expired sessions, spent one-time links and old login-throttle rows are deleted this often (and at start-up)."""
    max_body_bytes: int = 10_000_000
    """Largest request body accepted (file and config uploads); refused with 413 before more is read."""
    max_form_bytes: int = 1_000_000
    """Largest plain (url-encoded) form body accepted."""
    heavy_workers: int = Field(default_factory=default_workers)
    """Threads that parse, check and prove for requests (plantgate.web.offload); default: twice the core count,
    at least 4 (they mostly wait for a worker process)."""

    jobs_processes: int = 2
    """SQLite (embedded) only: the worker processes ``plantgate serve`` runs the jobs on. With PostgreSQL,
    jobs go to the Procrastinate queue and ``plantgate worker`` runs them."""
    smtp_host: str = ""
    """E-mail notifications: the SMTP server (empty: no e-mail)."""
    smtp_port: int = 25
    smtp_from: str = "plantgate@localhost"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    notifications: list[NotificationRule] = []
    """JSON list of NotificationRule, e.g. PLANTGATE_NOTIFICATIONS='[{"role": "ot_approver",
    "events": ["change_waiting"]}]'."""
    exception_expiry_days: int = 14
    """``exception_expiring`` fires this many days before a signed exception's outage ends."""
    soc_syslog: str = ""
    """HOST:PORT (or udp:// / tcp://) of the SOC's syslog collector: new findings at or above soc_min_severity
    of any plant are sent there as CEF the moment a job finds them."""
    soc_min_severity: Literal["critical", "high", "medium", "low", "info"] = "high"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


SESSION_COOKIE = "__Host-plantgate_session"
