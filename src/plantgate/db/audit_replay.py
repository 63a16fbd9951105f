"""Replaying the audit log against the business tables: every decision row must be what the log says.

A perfect hash chain proves the log was not edited; it says nothing of the tables beside it.
Someone with write access could set a vetoed change back to ``approved``, put another leader's
name on a risk decision, add a grant or swap a revision's document, and the log would still
verify. So ``audit verify`` also replays the log: it rebuilds, from the entries alone, each
change's state, base, candidate and result, every decision on it, each risk decision's signer,
each finding acceptance (who accepted which finding, why and until when, and who revoked it),
the charter signatures, every grant, each user's enabled flag and each revision (with the digest
of its document and files, for revisions committed since the digest was logged) and compares
them with the rows. Each difference is reported with the row it concerns.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plantgate.db.tables import (
    ApprovalRow,
    AuditRow,
    ChangeRequestRow,
    CharterSignatureRow,
    FindingAcceptanceRow,
    GrantRow,
    RevisionFileRow,
    RevisionRow,
    RiskDecisionRow,
    SiteRow,
    UserRow,
)


def revision_digests(document: dict[str, Any], files: dict[str, str]) -> dict[str, str]:
    """What the log keeps of a revision: the SHA-256 of its document (canonical JSON) and of its file list."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    listing = "\n".join(f"{path}\t{digest}" for path, digest in sorted(files.items()))
    return {"document_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
            "files_sha256": hashlib.sha256(listing.encode()).hexdigest()}


CHANGE_FIELDS = {"change.create": ("candidate_sha256",), "change.rebase": ("base_revision_id", "candidate_sha256"),
                 "change.implement": ("result_revision_id",), "change.verify": ("deployed_sha256",)}
"""Which columns of a change each logged move sets (a decision's own candidate digest is not the column)."""


@dataclass
class _Change:
    state: str = "submitted"
    fields: dict[str, Any] = field(default_factory=dict)
    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)


@dataclass
class Replay:
    """The business facts as the log tells them."""

    changes: dict[int, _Change] = field(default_factory=dict)
    risk_signers: dict[int, str | None] = field(default_factory=dict)
    acceptances: dict[int, dict[str, Any]] = field(default_factory=dict)
    charter: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    grants: set[tuple[str, str, str]] = field(default_factory=set)
    active: dict[str, bool] = field(default_factory=dict)
    revisions: dict[int, dict[str, Any]] = field(default_factory=dict)


def _json(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def replay(session: Session) -> Replay:
    facts = Replay()
    for entry in session.scalars(select(AuditRow).order_by(AuditRow.seq)).yield_per(1000):
        after, before, action = _json(entry.after), _json(entry.before), entry.action
        if entry.object_type == "change" and entry.object_id.isdigit():
            change = facts.changes.setdefault(int(entry.object_id), _Change())
            if action in ("change.approve", "change.veto", "change.sign_off"):
                change.decisions[(entry.actor, action.removeprefix("change."))] += 1
            for name in CHANGE_FIELDS.get(action, ()):
                if name in after:
                    change.fields[name] = after[name]
            change.state = after.get("state", change.state)
        elif action == "risk.propose" and entry.object_id.isdigit():
            facts.risk_signers[int(entry.object_id)] = None
        elif action == "risk.sign" and entry.object_id.isdigit():
            facts.risk_signers[int(entry.object_id)] = entry.actor
        elif action == "finding.accept" and entry.object_id.isdigit():
            facts.acceptances[int(entry.object_id)] = {
                "site": entry.site, "fingerprint": after.get("fingerprint"), "state": after.get("state"),
                "expires_on": after.get("expires_on"), "reason": entry.reason, "accepted_by": entry.actor,
                "revoked_by": None}
        elif action == "finding.revoke" and entry.object_id.isdigit():
            told = facts.acceptances.setdefault(int(entry.object_id), {})
            told.update(state=after.get("state"), revoked_by=entry.actor)
        elif action == "charter.sign" and entry.object_id.isdigit():
            facts.charter[(entry.site, int(entry.object_id), entry.actor)] += 1
        elif action == "role.grant":
            facts.grants.add((entry.object_id, entry.site, str(after.get("role"))))
        elif action == "role.revoke":
            facts.grants.discard((entry.object_id, entry.site, str(before.get("role"))))
        elif action == "user.create":
            facts.active[entry.object_id] = True
        elif action in ("user.disable", "user.enable"):
            facts.active[entry.object_id] = action == "user.enable"
        elif action == "revision.commit" and entry.object_id.isdigit():
            facts.revisions[int(entry.object_id)] = {**after, "site": entry.site}
    return facts


def differences(session: Session) -> list[str]:
    """Every place where a business table disagrees with the log, naming the row; empty when they agree."""
    facts = replay(session)
    problems: list[str] = []
    users = {u.id: u.username for u in session.scalars(select(UserRow))}
    sites = {s.id: s.slug for s in session.scalars(select(SiteRow))}
    decisions: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)
    for approval in session.scalars(select(ApprovalRow)):
        decisions[approval.change_id][(users.get(approval.user_id, "?"), approval.decision)] += 1
    for row in session.scalars(select(ChangeRequestRow).order_by(ChangeRequestRow.id)):
        told = facts.changes.pop(row.id, None)
        if told is None:
            problems.append(f"change_requests id {row.id} ({row.title!r}, {row.state}): not in the audit log")
            continue
        if row.state != told.state:
            problems.append(f"change_requests id {row.id}: state is {row.state} but the log says {told.state}")
        for name, value in told.fields.items():
            if getattr(row, name) != value:
                problems.append(f"change_requests id {row.id}: {name} is {getattr(row, name)} but the log says "
                                f"{value}")
        if decisions[row.id] != told.decisions:
            extra, missing = decisions[row.id] - told.decisions, told.decisions - decisions[row.id]
            problems.append(f"approvals of change {row.id}: not in the log {sorted(extra.elements())}, "
                            f"logged but missing {sorted(missing.elements())}")
    problems += [f"change {change_id} is in the audit log but not in change_requests" for change_id in facts.changes]
    for risk in session.scalars(select(RiskDecisionRow).order_by(RiskDecisionRow.id)):
        signer = users.get(risk.signed_by) if risk.signed_by is not None else None
        if risk.id not in facts.risk_signers:
            problems.append(f"risk_decisions id {risk.id} ({risk.subject!r}): not in the audit log")
        elif signer != facts.risk_signers[risk.id]:
            problems.append(f"risk_decisions id {risk.id} ({risk.subject!r}): signed by {signer or 'nobody'} but "
                            f"the log says {facts.risk_signers[risk.id] or 'unsigned'}")
    problems += _acceptance_differences(session, facts, users, sites)
    numbers = {r.id: (r.number, r.site_id) for r in session.scalars(select(RevisionRow))}
    signatures = Counter((sites.get(s.site_id, "?"), numbers[s.revision_id][0], users.get(s.user_id, "?"))
                         for s in session.scalars(select(CharterSignatureRow)))
    for key in sorted((signatures - facts.charter) | (facts.charter - signatures)):
        where = "charter_signatures has" if signatures[key] > facts.charter[key] else "the log has"
        problems.append(f"{where} a signature of {key[2]} on the charter of {key[0]} revision {key[1]} that the "
                        "other does not")
    grants = {(users.get(g.user_id, "?"), sites.get(g.site_id, "?"), g.role) for g in session.scalars(select(GrantRow))}
    problems += [f"grants: {user} holds {role} at {site}, which the log never granted"
                 for user, site, role in sorted(grants - facts.grants)]
    problems += [f"grants: the log grants {user} {role} at {site}, which grants lacks"
                 for user, site, role in sorted(facts.grants - grants)]
    for user in session.scalars(select(UserRow)):
        if user.username in facts.active and user.active != facts.active[user.username]:
            problems.append(f"users {user.username}: {'active' if user.active else 'disabled'} but the log says "
                            f"{'enabled' if facts.active[user.username] else 'disabled'}")
    problems += _revision_differences(session, facts, sites)
    return problems


def _acceptance_differences(session: Session, facts: Replay, users: dict[int, str],
                            sites: dict[int, str]) -> list[str]:
    problems = []
    for row in session.scalars(select(FindingAcceptanceRow).order_by(FindingAcceptanceRow.id)):
        told = facts.acceptances.pop(row.id, None)
        name = f"finding_acceptances id {row.id} ({row.fingerprint})"
        if told is None:
            problems.append(f"{name}: not in the audit log")
            continue
        actual = {"site": sites.get(row.site_id, "?"), "fingerprint": row.fingerprint, "state": row.state,
                  "expires_on": row.expires_on.isoformat(), "reason": row.reason,
                  "accepted_by": users.get(row.accepted_by, "?"),
                  "revoked_by": users.get(row.revoked_by) if row.revoked_by is not None else None}
        problems += [f"{name}: {key.replace('_', ' ')} is {actual[key]!r} but the log says {told.get(key)!r}"
                     for key in actual if actual[key] != told.get(key)]
    problems += [f"finding acceptance {row_id} is in the audit log but not in finding_acceptances"
                 for row_id in facts.acceptances]
    return problems


def _revision_differences(session: Session, facts: Replay, sites: dict[int, str]) -> list[str]:
    problems = []
    files: dict[int, dict[str, str]] = defaultdict(dict)
    for file in session.scalars(select(RevisionFileRow)):
        files[file.revision_id][file.path] = file.sha256
    last_commit: dict[str, int] = {}
    for revision_id, commit in sorted(facts.revisions.items()):
        last_commit[commit["site"]] = revision_id
    for revision in session.scalars(select(RevisionRow).order_by(RevisionRow.id)):
        told = facts.revisions.get(revision.id)
        if told is None:
            problems.append(f"revisions id {revision.id} (revision {revision.number} of "
                            f"{sites.get(revision.site_id, '?')}): not in the audit log")
            continue
        if told.get("revision") != revision.number:
            problems.append(f"revisions id {revision.id}: number {revision.number} but the log says "
                            f"{told.get('revision')}")
        if "document_sha256" in told:
            digests = revision_digests(revision.document, files[revision.id])
            for name, digest in digests.items():
                if told.get(name) != digest:
                    problems.append(f"revisions id {revision.id} (revision {revision.number}): its "
                                    f"{name.removesuffix('_sha256')} is not the one the log committed")
    for site in session.scalars(select(SiteRow)):
        if site.slug in last_commit and site.head_revision_id != last_commit[site.slug]:
            problems.append(f"sites {site.slug}: head is revision id {site.head_revision_id} but the log's last "
                            f"commit is {last_commit[site.slug]}")
    return problems
