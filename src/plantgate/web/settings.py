"""The one settings class of the web app (environment ``PLANTGATE_*`` or command-line options)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from plantgate.web.offload import default_workers

DEFAULT_DATABASE_URL = "sqlite:///./plantgate.db"


class Settings(BaseSettings):
    """Where the data lives and how the app behaves; never holds a secret in the clear."""

    model_config = SettingsConfigDict(env_prefix="PLANTGATE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    secure_cookies: bool = True
    """``__Host-`` cookies need Secure; only tests over plain http to a non-local host turn this off."""
    as_of: dt.date | None = None
    """Judge dates as of this day instead of today (demo and tests)."""
    page_size: int = 50
    check_wait_seconds: float = 1.0
    """How long a page waits for the findings of a revision being checked before it says "checking revision N"
    and refreshes itself (the checks run in the background: seconds at 10,000 conduits)."""
    api_check_wait_seconds: float = 120.0
    """How long ``GET .../findings`` of the API waits for them before answering 503 with Retry-After."""
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
    max_body_bytes: int = 10_000_000
    """Largest request body accepted (file and config uploads); refused with 413 before more is read."""
    max_form_bytes: int = 1_000_000
    """Largest plain (url-encoded) form body accepted."""
    heavy_workers: int = Field(default_factory=default_workers)
    """Threads that parse, check and prove for requests (plantgate.web.offload); default: twice the core count,
    at least 4 (they mostly wait for a worker process)."""

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


SESSION_COOKIE = "__Host-plantgate_session"
