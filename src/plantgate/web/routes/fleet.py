"""The fleet pages and their JSON twins: every plant at a glance, and questions asked across plants.

Only people with a fleet-wide read role (corporate security, fleet auditor; ``plantgate fleet
grant``) or an administrator see them. They read stored results only (``web.fleet``), so a
busy queue never slows them down; every write stays on a site's own pages and roles.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from plantgate.db.fleet import fleet_roles
from plantgate.web import fleet
from plantgate.web.rendering import render, today
from plantgate.web.security import Db, Forbidden, Principal, current_principal

router = APIRouter(include_in_schema=False)  # session-authenticated (fleet roles), not site-scoped tokens
QUESTIONS = {"cve": "Which plants expose a CVE, and through which conduit",
             "rdp": "Which plants permit RDP from IT into level 3",
             "unsigned-charters": "Which plants' charters are unsigned for their current revision"}


def fleet_reader(principal: Annotated[Principal, Depends(current_principal)], db: Db) -> tuple[Principal, Session]:
    if principal.token_row is not None:
        raise Forbidden("API tokens are scoped to one site; the fleet pages need a fleet role's session")
    if not principal.user.is_admin and not fleet_roles(db, principal.user):
        raise Forbidden("the fleet pages need a fleet-wide role (corporate_security or fleet_auditor)")
    return principal, db


Reader = Annotated[tuple[Principal, Session], Depends(fleet_reader)]


def _rows(request: Request, db: Session) -> list[fleet.SiteSummary]:
    return fleet.summaries(db, today(request), request.app.state.revisions)


@router.get("/fleet", include_in_schema=False)
def dashboard(request: Request, reader: Reader, sort: str = "critical", order: str = "desc", q: str = "",
              only: str = "") -> Response:
    principal, db = reader
    rows = fleet.sort_and_filter(_rows(request, db), sort, order == "desc", q, only)
    template = "fleet_rows.html" if request.headers.get("hx-request") else "fleet.html"
    return render(request, template, principal=principal, rows=rows, sort=sort, order=order, q=q, only=only,
                  columns=fleet.SORTABLE, questions=QUESTIONS)


@router.get("/fleet/questions/{question}", include_in_schema=False)
def question_page(request: Request, reader: Reader, question: str, cve: str = "") -> Response:
    principal, db = reader
    answer = _answer(request, db, question, cve)
    return render(request, "fleet_question.html", principal=principal, question=question,
                  title=QUESTIONS[question], cve=cve, answer=answer)


def _answer(request: Request, db: Session, question: str, cve: str) -> list[dict[str, Any]]:
    from plantgate.web.security import NotFound

    rows = _rows(request, db)
    if question == "cve":
        return fleet.cve_exposure(rows, cve) if cve else []
    if question == "rdp":
        return fleet.rdp_into_level_3(rows)
    if question == "unsigned-charters":
        return fleet.unsigned_charters(rows)
    raise NotFound(f"no fleet question {question!r}")


@router.get("/api/v1/fleet/sites", tags=["fleet"])
def sites_json(request: Request, reader: Reader, sort: str = "name", order: str = "asc", q: str = "",
               only: str = "") -> JSONResponse:
    """Every site: open critical/high findings, coverage gaps, stale reviews, unsigned exceptions, changes
    waiting for OT, charter signed for the head revision (fleet roles only)."""
    _, db = reader
    rows = fleet.sort_and_filter(_rows(request, db), sort, order == "desc", q, only)
    return JSONResponse([r.to_dict() for r in rows])


@router.get("/api/v1/fleet/cves/{cve}", tags=["fleet"])
def cve_json(request: Request, reader: Reader, cve: str) -> JSONResponse:
    """Which plants expose CVE ``cve``, on which asset, and through which conduits."""
    return JSONResponse(_answer(request, reader[1], "cve", cve))


@router.get("/api/v1/fleet/rdp-into-level-3", tags=["fleet"])
def rdp_json(request: Request, reader: Reader) -> JSONResponse:
    """Which plants' firewalls permit RDP (tcp/3389) from IT zones into level 3, with witness and rules."""
    return JSONResponse(_answer(request, reader[1], "rdp", ""))


@router.get("/api/v1/fleet/unsigned-charters", tags=["fleet"])
def charters_json(request: Request, reader: Reader) -> JSONResponse:
    """Which plants' charters have no leadership signature for their current revision."""
    return JSONResponse(_answer(request, reader[1], "unsigned-charters", ""))
