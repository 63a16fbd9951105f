"""Cross-reference checks: ids unique, every reference resolves, evidence files exist.

Pydantic validates each object alone; these checks need the whole treaty, and each
problem is reported at the exact key that holds the bad reference.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from plantgate.errors import ProblemCollector
from plantgate.load.paths import EXPECTED, TreatyPaths
from plantgate.load.reader import KeyPath, SpanIndex
from plantgate.model import Treaty
from plantgate.model.conduits import is_cidr


class _Refs:
    def __init__(self, treaty: Treaty, spans: SpanIndex, problems: ProblemCollector,
                 left_out: dict[str, set[str]], paths: TreatyPaths) -> None:
        self.paths = paths
        self.spans = spans
        self.problems = problems
        self.ids: dict[str, set[str]] = {
            "zone": {z.id for z in treaty.zones} | left_out.get("zones", set()),
            "asset": {a.id for a in treaty.assets} | left_out.get("assets", set()),
            "conduit": {c.id for c in treaty.conduits} | left_out.get("conduits", set()),
            "firewall": {f.id for f in treaty.firewalls} | left_out.get("firewalls", set()),
            "person": {p.id for p in treaty.people} | left_out.get("people", set()),
        }

    def need(self, kind: str, value: str | None, path: KeyPath) -> None:
        if value is None or value in self.ids[kind]:
            return
        known = sorted(self.ids[kind])
        hint = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
        self.problems.add(self.spans.locate(path), f"unknown {kind} '{value}'",
                          key_path=".".join(map(str, path)), expected=f"a {kind} id ({hint})" if known else "")

    def need_file(self, relative: str, path: KeyPath, what: str, folder_ok: bool = False) -> None:
        """A file the treaty names: inside the treaty folder (after symlinks) and there to read."""
        if (problem := self.paths.problem(relative, what, folder_ok)) is not None:
            self.problems.add(self.spans.locate(path), problem, key_path=".".join(map(str, path)), expected=EXPECTED)

    def need_all(self, kind: str, values: Iterable[str], path: KeyPath) -> None:
        for index, value in enumerate(values):
            self.need(kind, value, (*path, index))


def _duplicates(section: str, ids: list[str], spans: SpanIndex, problems: ProblemCollector) -> None:
    seen: dict[str, int] = {}
    for index, item_id in enumerate(ids):
        if item_id in seen:
            first = spans.locate((section, seen[item_id], "id"))
            problems.add(spans.locate((section, index, "id")), f"duplicate {section} id '{item_id}'",
                         key_path=f"{section}.{index}.id", expected=f"a unique id (first used at {first})")
        else:
            seen[item_id] = index


def check_references(treaty: Treaty, root: Path, spans: SpanIndex, problems: ProblemCollector,
                     left_out: dict[str, set[str]] | None = None, outside: tuple[Path, ...] = ()) -> None:
    """Collect every duplicate id, dangling reference and missing evidence file.

    ``left_out`` holds ids of items that failed validation: references to them are not
    reported again as dangling.
    """
    for section in ("zones", "assets", "conduits", "firewalls", "people"):
        _duplicates(section, [item.id for item in getattr(treaty, section)], spans, problems)
    if treaty.patch_policy:
        _duplicates("outages", [o.id for o in treaty.patch_policy.outages], spans, problems)
    folder = root if root.is_dir() else root.parent
    refs = _Refs(treaty, spans, problems, left_out or {}, TreatyPaths(folder, outside))
    for i, asset in enumerate(treaty.assets):
        refs.need("zone", asset.zone, ("assets", i, "zone"))
        for j, agent in enumerate(asset.agents):
            if agent.managed_from:
                refs.need("asset", agent.managed_from, ("assets", i, "agents", j, "managed_from"))
    for i, conduit in enumerate(treaty.conduits):
        refs.need("zone", conduit.from_zone, ("conduits", i, "from_zone"))
        refs.need("zone", conduit.to_zone, ("conduits", i, "to_zone"))
        refs.need("person", conduit.ot_approver, ("conduits", i, "ot_approver"))
        refs.need_all("firewall", conduit.enforced_by, ("conduits", i, "enforced_by"))
        for side in ("sources", "destinations"):
            for j, item in enumerate(getattr(conduit, side)):
                if not is_cidr(item):
                    refs.need("asset", item, ("conduits", i, side, j))
    for i, fw in enumerate(treaty.firewalls):
        refs.need("person", fw.platform_owner, ("firewalls", i, "platform_owner"))
        refs.need_all("person", fw.policy_owners, ("firewalls", i, "policy_owners"))
        for name, zone_id in fw.zones.items():
            refs.need("zone", zone_id, ("firewalls", i, "zones", name))
        refs.need_all("zone", fw.joins, ("firewalls", i, "joins"))
        refs.need_file(fw.config, ("firewalls", i, "config"), "firewall config file")
        if fw.routing is not None:
            refs.need_file(fw.routing, ("firewalls", i, "routing"), "firewall routing file")
    if treaty.charter:
        for i, sig in enumerate(treaty.charter.signatures):
            refs.need("person", sig.person, ("charter", "signatures", i, "person"))
    for i, entry in enumerate(treaty.raci):
        refs.need_all("firewall", entry.firewalls, ("raci", i, "firewalls"))
        for role in ("responsible", "accountable", "consulted", "informed", "veto"):
            refs.need_all("person", getattr(entry, role), ("raci", i, role))
    if treaty.escalation:
        for i, step in enumerate(treaty.escalation.steps):
            refs.need("person", step.person, ("escalation", "steps", i, "person"))
    if treaty.shared_services:
        for kind, service in treaty.shared_services.services.items():
            refs.need_all("asset", service.providers, ("shared_services", "services", kind.value, "providers"))
        if treaty.shared_services.backup_policy:
            for i, repo in enumerate(treaty.shared_services.backup_policy.repositories):
                refs.need("asset", repo.server,
                          ("shared_services", "backup_policy", "repositories", i, "server"))
    if treaty.patch_policy:
        refs.need("asset", treaty.patch_policy.staging_server, ("patch_policy", "staging_server"))
        for i, outage in enumerate(treaty.patch_policy.outages):
            if outage.work_package:
                wp_path = ("patch_policy", "outages", i, "work_package")
                refs.need("person", outage.work_package.prepared_by, (*wp_path, "prepared_by"))
                refs.need_all("asset", outage.work_package.backups_before, (*wp_path, "backups_before"))
    _change_references(treaty, refs)
    for i, relative in enumerate(treaty.flows):  # a missing log must not read as "nothing observed"
        refs.need_file(relative, ("flows", i), "flow file")
    _vulnerability_references(treaty, refs)
    if treaty.identity:
        for i, export in enumerate(treaty.identity.trust_exports):
            refs.need_file(export.file, ("identity", "trust_exports", i, "file"), "trust export file")
    _endpoint_backup_identity_references(treaty, refs)


def _change_references(treaty: Treaty, refs: _Refs) -> None:
    """Change records: people, the firewall, conduits (a created one may exist only in the edit), files."""
    outages = {o.id for o in treaty.patch_policy.outages} if treaty.patch_policy else set()
    for i, change in enumerate(treaty.changes):
        path: KeyPath = ("changes", i)
        refs.need("person", change.requested_by, (*path, "requested_by"))
        refs.need("person", change.ot_approver, (*path, "ot_approver"))
        refs.need("firewall", change.firewall, (*path, "firewall"))
        for j, decision in enumerate(change.decisions):
            refs.need("person", decision.person, (*path, "decisions", j, "person"))
        proposed = {c.id for c in change.register_edit.upsert}
        for j, item in enumerate(change.conduits):
            if item.conduit not in proposed:
                refs.need("conduit", item.conduit, (*path, "conduits", j, "conduit"))
        if change.outage is not None and change.outage not in outages:
            refs.problems.add(refs.spans.locate((*path, "outage")), f"unknown outage '{change.outage}'",
                              expected="an outage id of patch_policy.outages")
        for key in ("current_config", "candidate_config"):
            refs.need_file(getattr(change, key), (*path, key), f"{key} file")


def _vulnerability_references(treaty: Treaty, refs: _Refs) -> None:
    """Vulnerability governance: assets, people, outages, conduits, firewalls and feed files."""
    governance = treaty.vulnerabilities
    if governance is None:
        return
    outages = {o.id for o in treaty.patch_policy.outages} if treaty.patch_policy else set()
    for kind in ("kev", "csaf", "vulnrichment"):
        for i, relative in enumerate(getattr(governance.feeds, kind)):
            refs.need_file(relative, ("vulnerabilities", "feeds", kind, i), f"{kind} feed", folder_ok=kind != "kev")
    for i, match in enumerate(governance.matches):
        refs.need("asset", match.asset, ("vulnerabilities", "matches", i, "asset"))
        refs.need("person", match.decided_by, ("vulnerabilities", "matches", i, "decided_by"))
    for i, override in enumerate(governance.overrides):
        refs.need("asset", override.asset, ("vulnerabilities", "overrides", i, "asset"))
        refs.need("person", override.decided_by, ("vulnerabilities", "overrides", i, "decided_by"))
    for i, exception in enumerate(governance.exceptions):
        path: KeyPath = ("vulnerabilities", "exceptions", i)
        refs.need("asset", exception.asset, (*path, "asset"))
        refs.need("person", exception.signed_by, (*path, "signed_by"))
        refs.need_all("person", exception.escalation, (*path, "escalation"))
        if exception.until_outage is not None and exception.until_outage not in outages:
            refs.problems.add(refs.spans.locate((*path, "until_outage")),
                              f"unknown outage '{exception.until_outage}'",
                              expected="an outage id of patch_policy.outages")
        for j, control in enumerate(exception.controls):
            refs.need_all("conduit", control.conduits, (*path, "controls", j, "conduits"))
            refs.need("firewall", control.firewall, (*path, "controls", j, "firewall"))
    if treaty.patch_policy:
        for i, outage in enumerate(treaty.patch_policy.outages):
            if outage.work_package:
                for j, approval in enumerate(outage.work_package.change_approvals):
                    refs.need("person", approval.approved_by,
                              ("patch_policy", "outages", i, "work_package", "change_approvals", j, "approved_by"))


def _endpoint_backup_identity_references(treaty: Treaty, refs: _Refs) -> None:
    """Endpoint consoles are assets, backup items name a known repository, exports are taken on a known domain."""
    if treaty.endpoint_policy:
        refs.need_all("asset", treaty.endpoint_policy.consoles, ("endpoint_policy", "consoles"))
    policy = treaty.shared_services.backup_policy if treaty.shared_services else None
    repositories = {r.id for r in policy.repositories} if policy else set()
    for i, asset in enumerate(treaty.assets):
        for j, item in enumerate(asset.backups):
            if item.repository and item.repository not in repositories:
                known = ", ".join(sorted(repositories)) or "none defined"
                refs.problems.add(refs.spans.locate(("assets", i, "backups", j, "repository")),
                                  f"unknown backup repository '{item.repository}'",
                                  expected=f"an id of shared_services.backup_policy.repositories ({known})")
    if treaty.identity:
        domains = {d.name.lower() for d in treaty.identity.domains}
        for i, export in enumerate(treaty.identity.trust_exports):
            if export.taken_on.lower() not in domains:
                refs.problems.add(refs.spans.locate(("identity", "trust_exports", i, "taken_on")),
                                  f"trust export taken on unknown domain '{export.taken_on}'",
                                  expected="the name of a domain listed under identity.domains")
