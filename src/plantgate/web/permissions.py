"""Who may do what, as one table: the server consults it on every route, the matrix test reads it too.

Roles are held per site. Separation of duties (nobody decides on their own request) is not a
matter of role and is enforced where the decision is recorded (see plantgate.web.workflow).
"""

from __future__ import annotations

from enum import StrEnum

from plantgate.db.accounts import Role

ALL_ROLES = frozenset(Role)


class Action(StrEnum):
    VIEW = "view"
    CHANGE_CREATE = "change.create"
    CHANGE_SUBMIT = "change.submit"
    CHANGE_APPROVE = "change.approve"
    CHANGE_VETO = "change.veto"
    CHANGE_SIGN_OFF = "change.sign_off"
    CHANGE_IMPLEMENT = "change.implement"
    CHANGE_VERIFY = "change.verify"
    CONFIG_UPLOAD = "config.upload"
    RISK_PROPOSE = "risk.propose"
    RISK_SIGN = "risk.sign"
    FINDING_ACCEPT = "finding.accept"
    CHARTER_SIGN = "charter.sign"
    SITE_ADMIN = "site.admin"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW: ALL_ROLES,
    Action.CHANGE_CREATE: frozenset({Role.IT_ENGINEER}),
    Action.CHANGE_SUBMIT: frozenset({Role.IT_ENGINEER}),
    Action.CHANGE_APPROVE: frozenset({Role.OT_APPROVER}),
    Action.CHANGE_VETO: frozenset({Role.OT_APPROVER}),
    Action.CHANGE_SIGN_OFF: frozenset({Role.IT_ENGINEER}),
    Action.CHANGE_IMPLEMENT: frozenset({Role.IT_ENGINEER}),
    Action.CHANGE_VERIFY: frozenset({Role.IT_ENGINEER}),
    Action.CONFIG_UPLOAD: frozenset({Role.IT_ENGINEER}),
    Action.RISK_PROPOSE: frozenset({Role.IT_ENGINEER, Role.OT_APPROVER, Role.SOC_ANALYST}),
    Action.RISK_SIGN: frozenset({Role.PLANT_LEADERSHIP}),
    # accepting a finding accepts risk for the plant: its side decides (web.acceptances narrows the patch policy's
    # findings to leadership)
    Action.FINDING_ACCEPT: frozenset({Role.OT_APPROVER, Role.PLANT_LEADERSHIP}),
    Action.CHARTER_SIGN: frozenset({Role.PLANT_LEADERSHIP}),
    Action.SITE_ADMIN: frozenset({Role.ADMIN}),
}
"""Action -> the site roles allowed to perform it. The auditor appears only under VIEW."""


def allowed(roles: set[Role], action: Action) -> bool:
    return bool(roles & PERMISSIONS[action])
