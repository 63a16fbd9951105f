"""Notifications and SOC events: decided in the transaction of their cause, delivered by a job.

A veto, a change waiting for OT, a new critical finding or an exception about to expire
becomes ``outbox`` rows (one per recipient and channel) in the same transaction that records
the cause, each under a unique key, so a job run twice queues nothing twice. ``deliver``
sends one row and marks it sent with a conditional UPDATE. Delivery is at least once: a
worker killed between sending and marking sends again, with the same Message-ID (e-mail) or
Idempotency-Key (webhook) so the receiver can drop the repeat.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plantgate.checks.finding import Severity
from plantgate.db.tables import GrantRow, OutboxRow, SiteRow, UserRow, utc_now
from plantgate.outputs.syslog import send_cef_lines
from plantgate.web.settings import Settings

PENDING, SENT, FAILED = "pending", "sent", "failed"
WEBHOOK_TIMEOUT_SECONDS = 10


def _add(db: Session, row: OutboxRow) -> OutboxRow | None:
    """Insert unless a row with the same key exists (then None): one event, one row, however often asked."""
    if db.scalar(select(OutboxRow.id).where(OutboxRow.key == row.key)) is not None:
        return None
    try:
        with db.begin_nested():
            db.add(row)
        return row
    except IntegrityError:
        return None


def queue_event(db: Session, settings: Settings, site: SiteRow, event: str, subject: str, body: str,
                key: str) -> list[OutboxRow]:
    """Outbox rows for ``event`` at ``site`` per the settings' rules (in the caller's transaction)."""
    queued: list[OutboxRow] = []
    for index, rule in enumerate(settings.notifications):
        if event not in rule.events or rule.site not in ("*", site.slug):
            continue
        if rule.email and settings.smtp_host:
            users = db.scalars(select(UserRow).join(GrantRow, GrantRow.user_id == UserRow.id).where(
                GrantRow.site_id == site.id, GrantRow.role == rule.role, UserRow.active.is_(True),
                UserRow.email != "")).all()
            for user in users:
                row = _add(db, OutboxRow(key=f"{key}:{index}:email:{user.username}"[:300], site=site.slug,
                                         event=event, channel="email", target=user.email, subject=subject,
                                         body=body, state=PENDING))
                queued += [row] if row else []
        if rule.webhook:
            row = _add(db, OutboxRow(key=f"{key}:{index}:webhook"[:300], site=site.slug, event=event,
                                     channel="webhook", target=rule.webhook, subject=subject, body=body,
                                     state=PENDING))
            queued += [row] if row else []
    return queued


def queue_soc_event(db: Session, settings: Settings, site: SiteRow, key: str, cef_line: str, severity: Severity,
                    rule_id: str) -> OutboxRow | None:
    """A CEF event for the SOC's syslog collector, if one is configured and the severity is high enough."""
    if not settings.soc_syslog or not severity.at_least(Severity(settings.soc_min_severity)):
        return None
    return _add(db, OutboxRow(key=f"soc:{key}"[:300], site=site.slug, event="finding", channel="syslog",
                              target=settings.soc_syslog, subject=f"{severity.value}|{rule_id}", body=cef_line,
                              state=PENDING))


def _send_email(settings: Settings, row: OutboxRow) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.target
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain="plantgate.invalid")
    message["X-PlantGate-Event"] = row.event
    message.set_content(row.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


def _send_webhook(row: OutboxRow) -> None:
    if not row.target.startswith(("http://", "https://")):
        raise ValueError(f"webhook target {row.target!r} is not an http(s) URL")
    payload = json.dumps({"event": row.event, "site": row.site, "subject": row.subject, "body": row.body,
                          "key": row.key}).encode()
    request = urllib.request.Request(row.target, data=payload, method="POST", headers={
        "Content-Type": "application/json", "Idempotency-Key": row.key, "User-Agent": "plantgate"})
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise OSError(f"webhook answered {response.status}")


def deliver(db: Session, settings: Settings, outbox_id: int) -> str:
    """Send one outbox row unless it was sent; raise on a failed send so the queue retries it."""
    row = db.get(OutboxRow, outbox_id)
    if row is None or row.state == SENT:
        return "nothing to send"
    if row.channel == "email":
        _send_email(settings, row)
    elif row.channel == "webhook":
        _send_webhook(row)
    elif row.channel == "syslog":
        severity, rule_id = row.subject.split("|", 1)
        send_cef_lines(row.target, [(row.body, Severity(severity), rule_id)])
    else:
        raise ValueError(f"unknown outbox channel {row.channel!r}")
    db.execute(update(OutboxRow).where(OutboxRow.id == row.id, OutboxRow.state != SENT)
               .values(state=SENT, sent_at=utc_now(), error="").execution_options(synchronize_session=False))
    db.commit()
    return f"sent {row.channel} to {row.target}"


def pending_ids(db: Session, limit: int = 1000) -> list[int]:
    return list(db.scalars(select(OutboxRow.id).where(OutboxRow.state == PENDING).order_by(OutboxRow.id)
                           .limit(limit)))
