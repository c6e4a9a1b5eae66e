""" "Who used my data": the logged-in citizen reads the audit entries about them
(JSON API on the browser session, never an API key; privacy.disclosure does the query)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dinhdanh.privacy.disclosure import MAX_PAGE, AccessItem, AccessPage, access_log
from dinhdanh.web.browser import SESSION_COOKIE, language
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.problems import Problem, problem_responses
from dinhdanh.wiring import Container

router = APIRouter(tags=["my access log"])

# The words for the legal-basis codes of settings.legal_bases; an unknown code shows as is.
LEGAL_BASES = {
    "criminal_investigation": {"vi": "Điều tra hình sự", "en": "Criminal investigation"},
    "court_order": {"vi": "Quyết định của tòa án", "en": "Court order"},
    "administrative_procedure": {"vi": "Thủ tục hành chính", "en": "Administrative procedure"},
    "telecom_reconciliation": {
        "vi": "Đối soát thông tin thuê bao di động",
        "en": "Mobile subscriber reconciliation",
    },
    "own_request": {"vi": "Theo yêu cầu của chính bạn", "en": "Your own request"},
}


class LegalBasisOut(BaseModel):
    code: str
    label: str


class AccessOut(BaseModel):
    seq: int
    at: datetime
    organisation: str | None
    role: str
    legal_basis: LegalBasisOut | None
    fields: list[str]
    action: str


class AccessLogOut(BaseModel):
    items: list[AccessOut]
    next_cursor: int | None


def citizen_subject(c: Container, session: Session, request: Request) -> str | None:
    """The subject id of the citizen logged in with every factor their account has, or None."""
    view = c.auth.sessions.resolve(session, request.cookies.get(SESSION_COOKIE), c.clock())
    if view is None or view.mfa_pending:
        return None
    account = c.auth.accounts.get(session, view.account_id)
    return None if account is None else account.subject_id


def my_access_page(
    c: Container, request: Request, before: int | None, limit: int
) -> AccessPage | None:
    """A page of the citizen's access log, or None without a session."""
    with c.unit_of_work() as session:
        subject = citizen_subject(c, session, request)
        if subject is None:
            return None
        return access_log(
            session,
            subject,
            c.clock(),
            before=before,
            limit=limit,
            legal_bases=c.settings.legal_bases,
        )


def _out(item: AccessItem, lang: str) -> AccessOut:
    basis = None
    if item.legal_basis is not None:
        label = LEGAL_BASES.get(item.legal_basis, {}).get(lang, item.legal_basis)
        basis = LegalBasisOut(code=item.legal_basis, label=label)
    return AccessOut(
        seq=item.seq,
        at=item.at,
        organisation=item.organisation,
        role=item.role,
        legal_basis=basis,
        fields=list(item.fields),
        action=item.action,
    )


@router.get("/api/v1/me/access-log", response_model=AccessLogOut, responses=problem_responses(401))
def my_access_log(
    request: Request,
    c: ContainerDep,
    before: Annotated[int | None, Query(ge=1, description="next_cursor of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
) -> AccessLogOut:
    """Who read or changed the logged-in citizen's data, newest first (session cookie).

    Entries under a disclosure delay appear when it ends. Labels follow the citizen's language
    (``?lang=``, the language cookie, or Accept-Language).
    """
    page = my_access_page(c, request, before, limit)
    if page is None:
        raise Problem(401, "unauthenticated", "Log in first")
    lang = language(request)
    return AccessLogOut(items=[_out(i, lang) for i in page.items], next_cursor=page.next_cursor)
