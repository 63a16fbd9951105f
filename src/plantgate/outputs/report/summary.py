"""Page one of the report: what needs action, by whom, by when, ordered by consequence.

A plant manager signs the report after reading its first page, so that page says in
plain words what must be done: one line per kind of problem (the rule's title, how many,
on what), the people the treaty makes responsible for it, and a date. Boundary findings
come first and rule hygiene is kept apart: a redundant rule is housekeeping, an enterprise
host reaching a controller is not. A firewall that was not modelled fully is itself an
action item, because every all-clear about it is unproved.

The treaty states no response times, so the dates follow PlantGate's default target per
severity (``TARGET_DAYS``), and the page says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from plantgate.checks.finding import Finding, Severity
from plantgate.model import Treaty
from plantgate.model.governance import Role
from plantgate.reconcile.coverage import CoverageLevel, FirewallCoverage

TARGET_DAYS: dict[Severity, int] = {Severity.CRITICAL: 0, Severity.HIGH: 7, Severity.MEDIUM: 30, Severity.LOW: 90,
                                    Severity.INFO: 180}
"""Days from the report date to act, per severity (PlantGate's default; the treaty states none)."""
CONSEQUENCE = ("PG-SAFETY", "PG-PURDUE", "PG-ESTATE", "PG-FW", "PG-OBSERVED", "PG-VULN", "PG-IDENTITY",
               "PG-PATCH", "PG-CHANGE", "PG-REGISTER", "PG-ZONE", "PG-SERVICES", "PG-ENDPOINT", "PG-BACKUP",
               "PG-CHARTER", "PG-RACI", "PG-ESCALATION", "PG-SOC")
"""Within one severity, families whose findings can let a packet into the plant come first."""
HYGIENE_PREFIX = "PG-LINT"
MAX_SUBJECTS = 4


@dataclass(frozen=True)
class ActionItem:
    """One kind of problem on page one: what, how many and on what, who acts, by when."""

    severity: Severity
    rule_id: str
    what: str
    count: int
    subjects: list[str]
    who: str
    by: dt.date

    @property
    def on(self) -> str:
        text = ", ".join(self.subjects[:MAX_SUBJECTS])
        return text + (f" and {len(self.subjects) - MAX_SUBJECTS} more" if len(self.subjects) > MAX_SUBJECTS else "")


def is_hygiene(finding: Finding) -> bool:
    return finding.rule_id.startswith(HYGIENE_PREFIX)


def _family(rule_id: str) -> str:
    return "-".join(rule_id.split("-")[:2])


def _names(treaty: Treaty, ids: Iterable[str | None]) -> list[str]:
    out: list[str] = []
    for person_id in ids:
        if person_id:
            person = treaty.person(person_id)
            name = person.name if person else person_id
            if name not in out:
                out.append(name)
    return out


def _holding(treaty: Treaty, role: Role) -> list[str]:
    return _names(treaty, (p.id for p in treaty.people if role in p.roles))


def responsible(treaty: Treaty, findings: list[Finding]) -> str:
    """Who the treaty makes responsible for these findings (one rule id): names, with the role."""
    family = _family(findings[0].rule_id)
    subjects = {s for f in findings for s in f.subjects}
    firewalls = [fw for fw in treaty.firewalls if fw.id in subjects]
    conduits = [c for c in treaty.conduits if c.id in subjects]
    if family in ("PG-CHARTER", "PG-VULN", "PG-RACI", "PG-ESCALATION"):
        return _role_text(_holding(treaty, Role.PLANT_LEADERSHIP), "plant leadership")
    if firewalls and family in ("PG-FW", "PG-PURDUE", "PG-ESTATE", "PG-LINT", "PG-OBSERVED", "PG-CHANGE"):
        owners = _names(treaty, (fw.platform_owner for fw in firewalls))
        approvers = _names(treaty, (c.ot_approver for c in conduits)) or _holding(treaty, Role.OT_APPROVER)
        text = _role_text(owners, "firewall platform owner")
        if family != "PG-LINT" and approvers:
            text += f", with OT approver {', '.join(approvers)}"
        return text
    if conduits or family in ("PG-REGISTER", "PG-SAFETY", "PG-PURDUE", "PG-CHANGE"):
        approvers = _names(treaty, (c.ot_approver for c in conduits)) or _holding(treaty, Role.OT_APPROVER)
        return _role_text(approvers, "OT approver")
    if family in ("PG-PATCH", "PG-BACKUP", "PG-ENDPOINT", "PG-SERVICES", "PG-ZONE"):
        return _role_text(_holding(treaty, Role.OPERATIONS) or _holding(treaty, Role.OT_APPROVER), "plant OT")
    if family == "PG-OBSERVED":
        return _role_text(_names(treaty, (fw.platform_owner for fw in treaty.firewalls)), "firewall platform owners")
    if family in ("PG-IDENTITY", "PG-SOC"):
        return _role_text(_holding(treaty, Role.IT_ENGINEER) or _holding(treaty, Role.PLATFORM_OWNER), "IT")
    return _role_text(_holding(treaty, Role.PLANT_LEADERSHIP), "plant leadership")


def _role_text(names: list[str], role: str) -> str:
    return f"{', '.join(names)} ({role})" if names else f"{role} (nobody named in the treaty)"


COVERAGE = "coverage"
"""The rule id of page one's coverage item (no check rule: it stands for the firewalls not modelled fully)."""


def _subject(treaty: Treaty, finding: Finding) -> str:
    """What a finding is about, in a few words: its first subject, with the zones it joins when it names them."""
    zones = [s for s in finding.subjects[1:] if treaty.zone(s) is not None]
    head = finding.subjects[0] if finding.subjects else finding.rule_id
    return f"{head} ({' -> '.join(zones)})" if len(zones) == 2 else head


def _order(item: ActionItem) -> tuple[int, int, int, str]:
    family = _family(item.rule_id)
    rank = -1 if item.rule_id == COVERAGE else CONSEQUENCE.index(family) if family in CONSEQUENCE else len(CONSEQUENCE)
    return (-item.severity.rank, rank, -item.count, item.rule_id)


def action_items(treaty: Treaty, findings: list[Finding], as_of: dt.date,
                 coverage: list[FirewallCoverage]) -> list[ActionItem]:
    """Boundary and governance findings (not hygiene) grouped per rule id, most consequential first.

    Firewalls not modelled fully come first among their severity: every all-clear about
    them is unproved until their config is placed between treaty zones.
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        if not is_hygiene(finding):
            groups.setdefault(finding.rule_id, []).append(finding)
    items = []
    for rule_id, group in groups.items():
        severity = max((f.severity for f in group), key=lambda s: s.rank)
        subjects = list(dict.fromkeys(_subject(treaty, f) for f in group))
        items.append(ActionItem(severity, rule_id, group[0].title, len(group), subjects,
                                responsible(treaty, group), as_of + dt.timedelta(days=TARGET_DAYS[severity])))
    unmodelled = [c for c in coverage if not c.full]
    if unmodelled:
        severity = Severity.HIGH if any(c.level is not CoverageLevel.PARTIAL for c in unmodelled) else Severity.MEDIUM
        owners = _names(treaty, (fw.platform_owner for fw in treaty.firewalls
                                 if fw.id in {c.firewall_id for c in unmodelled}))
        items.append(ActionItem(
            severity, COVERAGE, "Firewall not modelled fully: boundary checks there are not proved",
            len(unmodelled), [f"{c.firewall_id} ({c.level.value})" for c in unmodelled],
            _role_text(owners, "firewall platform owner"), as_of + dt.timedelta(days=TARGET_DAYS[severity])))
    return sorted(items, key=_order)
