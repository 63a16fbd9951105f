"""Anchoring the audit log outside the database: signed checkpoints of its head.

The hash chain proves that no entry was edited in place, but not that the newest entries were
not deleted, nor that someone with write access did not edit an entry and recompute every hash
after it: the chain of what is left is still perfect. So, periodically and after every
signature, the app writes a checkpoint (the last entry's ``seq``, its ``hash`` and the number
of entries) signed with a key the database does not hold: an HMAC-SHA256 key from the settings,
or an Ed25519 private key file. The checkpoint is appended to a file outside the database, sent
to the syslog collector, and also kept in the append-only ``audit_checkpoints`` table.

``verify_against_log`` then checks every checkpoint whose signature is good: the entry at its
``seq`` must still exist and carry its ``hash``, and no fewer entries may exist than it counted.
Deleting the newest entries fails the first test (or the count); re-chaining after an edit
changes the hash at every later checkpoint. A checkpoint whose signature fails is itself
reported: someone without the key made it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import socket
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plantgate.db.tables import AuditCheckpointRow, AuditRow
from plantgate.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    count: int
    at: str
    alg: str
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


class Signer(Protocol):
    alg: str
    key_id: str

    def sign(self, payload: bytes) -> str: ...

    def verify(self, payload: bytes, signature: str) -> bool: ...


class HmacSigner:
    """HMAC-SHA256 with a secret from the settings (``PLANTGATE_AUDIT_HMAC_KEY``): signs and verifies."""

    alg = "hmac-sha256"

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise InputError.at("audit_hmac_key", 0, 0, "the audit HMAC key is too short", "at least 16 bytes")
        self.key = key
        self.key_id = hashlib.sha256(b"plantgate-audit-key:" + key).hexdigest()[:16]

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(hmac.new(self.key, payload, hashlib.sha256).digest()).decode()

    def verify(self, payload: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(payload), signature)


class Ed25519Signer:
    """Ed25519 from a PEM key file: a private key signs and verifies; a public key (an auditor's copy) only
    verifies, so the checkpoints can be checked by people who can never make one."""

    alg = "ed25519"

    def __init__(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError.at(str(path), 0, 0, f"cannot read the audit key file: {exc.strerror}",
                                "a PEM Ed25519 key file") from None
        self.private: Ed25519PrivateKey | None = None
        try:
            key = serialization.load_pem_private_key(data, password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("not an Ed25519 key")
            self.private, self.public = key, key.public_key()
        except ValueError:
            try:
                public = serialization.load_pem_public_key(data)
            except ValueError:
                raise InputError.at(str(path), 0, 0, "not a PEM Ed25519 key", "a PEM Ed25519 key file") from None
            if not isinstance(public, Ed25519PublicKey):
                raise InputError.at(str(path), 0, 0, "not an Ed25519 key", "a PEM Ed25519 key file") from None
            self.public = public
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, payload: bytes) -> str:
        if self.private is None:
            raise InputError.at("audit key", 0, 0, "a public key cannot sign checkpoints", "the private key file")
        return base64.b64encode(self.private.sign(payload)).decode()

    def verify(self, payload: bytes, signature: str) -> bool:
        try:
            self.public.verify(base64.b64decode(signature), payload)
            return True
        except (InvalidSignature, ValueError):
            return False


def signer_from(hmac_key: str, key_file: str) -> Signer | None:
    """The configured signer (an Ed25519 key file wins over an HMAC key), or None when neither is set."""
    if key_file:
        return Ed25519Signer(Path(key_file))
    if hmac_key:
        return HmacSigner(hmac_key.encode())
    return None


def head(session: Session) -> tuple[int, str, int]:
    """The last entry's seq and hash, and the number of entries (0, "", 0 for an empty log)."""
    last = session.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
    count = int(session.scalar(select(func.count()).select_from(AuditRow)) or 0)
    return (last[0], last[1], count) if last else (0, "", 0)


def write_checkpoint(session: Session, signer: Signer, *, file: str = "", syslog: str = "",
                     force: bool = False) -> Checkpoint | None:
    """Sign the log's head now: kept in the table (committed), appended to ``file``, sent to ``syslog``.

    Skipped (None) when the log is empty, or unchanged since the last checkpoint unless ``force``."""
    seq, last_hash, count = head(session)
    if not seq:
        return None
    latest = session.scalar(select(AuditCheckpointRow.seq).order_by(AuditCheckpointRow.id.desc()).limit(1))
    if latest == seq and not force:
        return None
    unsigned = Checkpoint(seq, last_hash, count, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                          signer.alg, signer.key_id)
    checkpoint = replace(unsigned, signature=signer.sign(unsigned.payload()))
    session.add(AuditCheckpointRow(**asdict(checkpoint)))
    session.commit()
    if file:
        with open(file, "a", encoding="utf-8") as handle:  # one short line: an O_APPEND write, never interleaved
            handle.write(checkpoint.line() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    if syslog:
        _send(checkpoint, syslog)
    return checkpoint


def _send(checkpoint: Checkpoint, target: str) -> None:
    from plantgate.checks.finding import Severity
    from plantgate.outputs.syslog import SyslogError, rfc5424_message, send_messages

    message = rfc5424_message("plantgate audit checkpoint " + checkpoint.line(), Severity.INFO, "AUDIT-CHECKPOINT",
                              now=dt.datetime.now(dt.UTC), hostname=socket.gethostname())
    try:
        send_messages([message], target, "the audit checkpoint")
    except SyslogError as exc:  # the signature stands; the file and table still hold the checkpoint
        log.warning("audit checkpoint %s not sent to syslog: %s", checkpoint.seq, exc)


def read_file(path: Path) -> list[Checkpoint]:
    """Checkpoints from a file of JSON lines (the app's file, or lines cut from the syslog collector)."""
    found = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.at(str(path), 0, 0, f"cannot read checkpoints: {exc}", "a checkpoint file") from None
    for number, line in enumerate(text.splitlines(), 1):
        start = line.find("{")
        if start < 0:
            continue
        try:
            found.append(Checkpoint(**json.loads(line[start:])))
        except (ValueError, TypeError):
            raise InputError.at(str(path), number, start + 1, "not a checkpoint", "one JSON checkpoint per line"
                                ) from None
    return found


def stored(session: Session) -> list[Checkpoint]:
    return [Checkpoint(r.seq, r.hash, r.count, r.at, r.alg, r.key_id, r.signature)
            for r in session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.id))]


def verify_against_log(session: Session, checkpoints: list[Checkpoint], signer: Signer) -> tuple[int, list[str]]:
    """Check each checkpoint's signature, then the log against the good ones; (good checkpoints, problems)."""
    problems: list[str] = []
    good = 0
    total = int(session.scalar(select(func.count()).select_from(AuditRow)) or 0)
    for checkpoint in sorted(set(checkpoints), key=lambda c: (c.seq, c.at)):
        label = f"checkpoint of entry {checkpoint.seq} ({checkpoint.at})"
        if checkpoint.key_id != signer.key_id or checkpoint.alg != signer.alg:
            problems.append(f"{label}: signed with another key ({checkpoint.alg} {checkpoint.key_id}); not checked")
            continue
        if not signer.verify(checkpoint.payload(), checkpoint.signature):
            problems.append(f"{label}: its signature is wrong: it was not made with the audit key (forged or "
                            "edited)")
            continue
        good += 1
        entry = session.scalar(select(AuditRow.hash).where(AuditRow.seq == checkpoint.seq))
        if entry is None:
            problems.append(f"{label}: entry {checkpoint.seq} is gone: the newest entries were deleted "
                            f"({total} entries left, {checkpoint.count} were signed)")
        elif entry != checkpoint.hash:
            problems.append(f"{label}: entry {checkpoint.seq} no longer has the signed hash: the log was edited "
                            "and re-chained")
        elif total < checkpoint.count:
            problems.append(f"{label}: {total} entries left, {checkpoint.count} were signed: entries were deleted")
    return good, problems
