"""An audit log that catches every edit: signed checkpoints outside the database, and a replay of the log
against the business tables. Each attack of issue 17 passed `audit verify` before."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select, text, update

from plantgate.cli import main
from plantgate.db import audit, audit_anchor, audit_replay
from plantgate.db.engine import make_engine
from plantgate.db.tables import AuditRow, ChangeRequestRow, RiskDecisionRow, UserRow
from plantgate.web.app import create_app
from plantgate.web.settings import Settings
from tests.web.conftest import AS_OF, SITE, WebSite, post, seed_site
from tests.web.test_changes import candidate_opening, file_change

HMAC_KEY = "a checkpoint key the database never sees"


@pytest.fixture
def anchored(database_url: str, example_copy: Path, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WebSite, Path]]:
    """The web app with an HMAC checkpoint key and a checkpoint file; the CLI sees the same settings."""
    checkpoints = tmp_path / "checkpoints.jsonl"
    monkeypatch.setenv("PLANTGATE_AUDIT_HMAC_KEY", HMAC_KEY)
    monkeypatch.setenv("PLANTGATE_AUDIT_CHECKPOINT_FILE", str(checkpoints))
    app = create_app(Settings(database_url=database_url, as_of=AS_OF, check_wait_seconds=120), migrate=False)
    seed_site(app.state.sessions, example_copy)
    yield WebSite(app, app.state.sessions, example_copy), checkpoints
    app.state.engine.dispose()


def verify(database_url: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", "verify", "--database-url", database_url, *extra])
    return result.exit_code, result.output


def drop_triggers(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for name in ("audit_log_no_update", "audit_log_no_delete"):
                connection.execute(text(f"DROP TRIGGER {name}"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))


def sign_a_risk(web: WebSite) -> int:
    assert post(web.client("k.soc"), f"/sites/{SITE}/risks", {"subject": "CVE-2024-3400",
                                                              "decision": "patch_now"}).status_code == 303
    with web.sessions() as session:
        risk_id = session.scalars(select(RiskDecisionRow.id)).one()
    assert post(web.client("s.patel"), f"/sites/{SITE}/risks/{risk_id}/sign").status_code == 303
    return risk_id


def test_every_signature_writes_a_signed_checkpoint_and_verify_passes(
        anchored: tuple[WebSite, Path], database_url: str) -> None:
    web, checkpoints = anchored
    sign_a_risk(web)
    lines = checkpoints.read_text().splitlines()
    assert len(lines) == 1
    with web.sessions() as session:
        assert audit_anchor.read_file(checkpoints)[0].seq == audit_anchor.head(session)[0]
    code, out = verify(database_url)
    assert code == 0 and "1 signed checkpoint(s) verified" in out and "agree" in out


def test_deleting_the_newest_entries_is_caught(anchored: tuple[WebSite, Path], database_url: str) -> None:
    web, _ = anchored
    sign_a_risk(web)
    engine = make_engine(database_url)
    drop_triggers(engine)
    with engine.begin() as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_log")).scalar()
        connection.execute(text("DELETE FROM audit_log WHERE seq >= :s"), {"s": last - 1})
    engine.dispose()
    with web.sessions() as session:
        assert audit.verify(session).ok  # the chain alone still looks perfect
    code, out = verify(database_url)
    assert code == 1 and "the newest entries were deleted" in out


def test_a_rechained_log_is_caught(anchored: tuple[WebSite, Path], database_url: str) -> None:
    web, _ = anchored
    sign_a_risk(web)
    engine = make_engine(database_url)
    drop_triggers(engine)
    with web.sessions() as session:  # mallory takes the signature, then recomputes every hash after it
        rows = session.scalars(select(AuditRow).order_by(AuditRow.seq)).all()
        fields = [{name: getattr(r, name) for name in audit.HASHED_FIELDS} for r in rows]
    previous = audit.GENESIS
    with engine.begin() as connection:
        for entry in fields:
            if entry["action"] == "risk.sign":
                entry["actor"] = "mallory"
            entry["prev_hash"] = previous
            previous = audit.entry_hash(entry)
            connection.execute(text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                               {"a": entry["actor"], "p": entry["prev_hash"], "h": previous, "s": entry["seq"]})
    engine.dispose()
    with web.sessions() as session:
        assert audit.verify(session).ok
    code, out = verify(database_url)
    assert code == 1 and "re-chained" in out


def test_a_forged_checkpoint_is_reported(anchored: tuple[WebSite, Path], database_url: str) -> None:
    web, checkpoints = anchored
    sign_a_risk(web)
    checkpoints.write_text(checkpoints.read_text().replace('"count":', '"count":1'))
    code, out = verify(database_url)
    assert code == 1 and "its signature is wrong" in out


def test_the_replay_catches_a_forged_signer_and_a_revived_change(anchored: tuple[WebSite, Path],
                                                                 database_url: str) -> None:
    web, _ = anchored
    risk_id = sign_a_risk(web)
    change_id = file_change(web.client("j.lindqvist"), "vetoed", candidate_opening(web))
    vetoed = post(web.client("r.alvarez"), f"/sites/{SITE}/changes/{change_id}/veto", {"comment": "no"})
    assert vetoed.status_code == 303
    with web.sessions() as session:
        assert audit_replay.differences(session) == []
    with web.sessions.begin() as session:
        other = session.scalar(select(UserRow.id).where(UserRow.username == "x.admin"))
        session.execute(update(RiskDecisionRow).where(RiskDecisionRow.id == risk_id).values(signed_by=other))
        session.execute(update(ChangeRequestRow).where(ChangeRequestRow.id == change_id).values(state="approved"))
    code, out = verify(database_url)
    assert code == 1
    assert f"risk_decisions id {risk_id} ('CVE-2024-3400'): signed by x.admin but the log says s.patel" in out
    assert f"change_requests id {change_id}: state is approved but the log says vetoed" in out


def test_a_grant_or_revision_edited_behind_the_log_is_caught(web: WebSite, database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO grants (user_id, site_id, role, source) SELECT id, 1, 'ot_approver', "
                                "'local' FROM users WHERE username = 'k.soc'"))
        connection.execute(text("UPDATE revisions SET message = 'x', document = :d WHERE id = 1"), {"d": "{}"})
    engine.dispose()
    with web.sessions() as session:
        found = audit_replay.differences(session)
    assert "grants: k.soc holds ot_approver at bayport, which the log never granted" in found
    assert any("revisions id 1" in p and "document is not the one the log committed" in p for p in found)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_ed25519_key_signs_and_its_public_half_verifies(web: WebSite, database_url: str, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    private, public = tmp_path / "audit.key", tmp_path / "audit.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    outside = tmp_path / "outside.jsonl"
    with web.sessions() as session:
        checkpoint = audit_anchor.write_checkpoint(session, audit_anchor.Ed25519Signer(private), file=str(outside),
                                                   syslog=f"127.0.0.1:{receiver.getsockname()[1]}")
    assert checkpoint is not None
    message = receiver.recv(65536).decode()
    receiver.close()
    assert "AUDIT-CHECKPOINT" in message and checkpoint.signature in message
    code, out = verify(database_url, "--key-file", str(public), "--checkpoints", str(outside))
    assert code == 0 and "1 signed checkpoint(s) verified" in out
    with pytest.raises(Exception, match="cannot sign"):
        audit_anchor.Ed25519Signer(public).sign(b"x")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_key_verify_says_the_log_is_not_anchored(web: WebSite, database_url: str) -> None:
    code, out = verify(database_url)
    assert code == 0 and "NOT ANCHORED" in out
