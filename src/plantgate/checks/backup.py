"""Backup covers what enterprise teams forget, in repositories ransomware on the enterprise side cannot reach.

Enterprise backup protects servers; a plant is rebuilt from controller programs, HMI and
engineering-workstation images, license servers and the install media of software the
vendor no longer ships. Each must be covered, fresh enough for the treaty's policy, and kept
in OT repositories whose credentials are not shared with enterprise backup.
"""

from __future__ import annotations

from collections.abc import Iterator

from plantgate.checks.context import CheckContext
from plantgate.checks.finding import Finding, Severity
from plantgate.checks.references import IEC_SR_7_3, NIST_CP_9, REF_SERVICES
from plantgate.checks.registry import check, rule
from plantgate.checks.shared_services import in_ot
from plantgate.model.assets import Asset, AssetRole, BackupItemKind
from plantgate.model.services import BackupPolicy, BackupSide

NOT_COVERED = rule(
    "PG-BACKUP-001", "Controller program or HMI/workstation image not backed up", Severity.HIGH,
    (REF_SERVICES, IEC_SR_7_3, NIST_CP_9),
    "Every controller needs a program backup, every HMI and engineering workstation an image backup.")
FORGOTTEN = rule(
    "PG-BACKUP-002", "License server or install media of discontinued software not backed up", Severity.MEDIUM,
    (REF_SERVICES, IEC_SR_7_3, NIST_CP_9),
    "Backup covers what enterprise teams forget: license servers and install media for software no longer shipped.")
SHARED_WITH_ENTERPRISE = rule(
    "PG-BACKUP-003", "OT backup shares a repository or credential with enterprise backup", Severity.HIGH,
    (REF_SERVICES, IEC_SR_7_3, NIST_CP_9),
    "OT backup repositories and credentials are separate from enterprise backup, or one stolen credential "
    "encrypts both the plant and its way back.")
TOO_OLD = rule(
    "PG-BACKUP-004", "Backup older than the treaty's policy", Severity.MEDIUM, (REF_SERVICES, IEC_SR_7_3, NIST_CP_9),
    "A backup older than the policy's maximum age does not restore the plant as it runs today.")

_NEEDS: dict[AssetRole, tuple[set[BackupItemKind], str]] = {
    AssetRole.CONTROLLER: ({BackupItemKind.CONTROLLER_PROGRAM}, "a program backup"),
    AssetRole.SIS: ({BackupItemKind.CONTROLLER_PROGRAM}, "a program backup"),
    AssetRole.HMI: ({BackupItemKind.HMI_IMAGE, BackupItemKind.SYSTEM_IMAGE}, "an image backup"),
    AssetRole.ENGINEERING_WORKSTATION: ({BackupItemKind.HMI_IMAGE, BackupItemKind.SYSTEM_IMAGE}, "an image backup"),
}


def _policy(ctx: CheckContext) -> BackupPolicy | None:
    services = ctx.treaty.shared_services
    return services.backup_policy if services else None


@check
def backups_cover_the_plant(ctx: CheckContext) -> Iterator[Finding]:
    policy = _policy(ctx)
    for asset in ctx.treaty.assets:
        kinds = {b.item for b in asset.backups}
        need = _NEEDS.get(asset.role)
        if need and not kinds & need[0]:
            yield NOT_COVERED.finding(
                [asset.id], f"{asset.role.value.replace('_', ' ')} {asset.name} ({asset.id}) has no "
                f"{need[1].split(' ', 1)[1]}: nothing to restore it from.",
                [ctx.site.locate_item("assets", asset.id)], discriminator=asset.role.value)
        if asset.role is AssetRole.LICENSE_SERVER and BackupItemKind.LICENSE_SERVER not in kinds:
            yield FORGOTTEN.finding(
                [asset.id], f"License server {asset.name} ({asset.id}) is not backed up (no license_server item).",
                [ctx.site.locate_item("assets", asset.id)], discriminator="license_server")
        if policy and _discontinued(policy, asset) and BackupItemKind.INSTALL_MEDIA not in kinds:
            yield FORGOTTEN.finding(
                [asset.id], f"{asset.name} ({asset.id}) runs {asset.vendor} {asset.product} {asset.version}, which "
                "the vendor no longer ships, and its install media are not backed up.",
                [ctx.site.locate_item("assets", asset.id)], discriminator="install_media")


def _discontinued(policy: BackupPolicy, asset: Asset) -> bool:
    def same(a: str, b: str) -> bool:
        return a.strip().lower() == b.strip().lower()
    return any(same(d.vendor, asset.vendor) and same(d.product, asset.product)
               and (not d.version or same(d.version, asset.version)) for d in policy.discontinued_software)


@check
def backups_separate(ctx: CheckContext) -> Iterator[Finding]:
    policy = _policy(ctx)
    if policy is None:
        return
    repos = {r.id: r for r in policy.repositories}
    where_repos = ctx.site.locate("shared_services", "backup_policy", "repositories")
    ot_repos = [r for r in policy.repositories if r.side is BackupSide.OT]
    ent_repos = [r for r in policy.repositories if r.side is BackupSide.ENTERPRISE]
    for ot in ot_repos:
        for ent in ent_repos:
            if ot.credential.strip().lower() == ent.credential.strip().lower():
                yield SHARED_WITH_ENTERPRISE.finding(
                    [ot.id, ent.id], f"OT repository {ot.id} and enterprise repository {ent.id} are written with "
                    f"the same credential '{ot.credential}'.", [where_repos], discriminator=f"credential:{ent.id}")
            if ot.server and ot.server == ent.server:
                yield SHARED_WITH_ENTERPRISE.finding(
                    [ot.id, ent.id], f"OT repository {ot.id} and enterprise repository {ent.id} live on the same "
                    f"backup server {ot.server}.", [where_repos], discriminator=f"server:{ent.id}")
    users: dict[str, set[str]] = {}
    for asset in ctx.treaty.assets:
        side = "ot" if in_ot(ctx.treaty, asset) else "enterprise"
        for index, item in enumerate(asset.backups):
            repo = repos.get(item.repository)
            if repo is None:
                continue
            users.setdefault(repo.id, set()).add(side)
            if side == "ot" and repo.side is BackupSide.ENTERPRISE:
                yield SHARED_WITH_ENTERPRISE.finding(
                    [asset.id, repo.id], f"{asset.name} ({asset.id}) keeps its {item.item.value} backup in "
                    f"enterprise repository {repo.id}.",
                    [ctx.site.locate_item("assets", asset.id, "backups", index)], discriminator=item.item.value)
    for repo_id, sides in sorted(users.items()):
        if len(sides) > 1 and repos[repo_id].side is BackupSide.OT:
            yield SHARED_WITH_ENTERPRISE.finding(
                [repo_id], f"OT repository {repo_id} also holds backups of enterprise assets: it is shared.",
                [where_repos], discriminator="mixed-users")


@check
def backups_fresh(ctx: CheckContext) -> Iterator[Finding]:
    policy = _policy(ctx)
    if policy is None or policy.max_age_days is None:
        return
    for asset in ctx.treaty.assets:
        for index, item in enumerate(asset.backups):
            if item.last_backup is None:
                continue
            age = (ctx.as_of - item.last_backup).days
            if age > policy.max_age_days:
                yield TOO_OLD.finding(
                    [asset.id], f"The {item.item.value} backup of {asset.name} ({asset.id}) is {age} days old "
                    f"({item.last_backup}); the policy allows {policy.max_age_days}.",
                    [ctx.site.locate_item("assets", asset.id, "backups", index)],
                    severity=Severity.HIGH if asset.role in (AssetRole.SIS, AssetRole.CONTROLLER) else None,
                    discriminator=item.item.value)
