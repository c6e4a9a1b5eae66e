""" "Who used my data": the logged-in citizen reads the audit entries about them, as a page and
as JSON, on the browser session only (never an API key); privacy.access_log does the query.

Each entry is told in plain words: "Công an tỉnh Hà Nội, cán bộ, điều tra hình sự, đã xem họ
tên và ngày sinh của bạn". The texts are msgids (web/i18n.py); an unknown code shows as is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from babel.lists import format_list
from babel.support import Translations
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dinhdanh.privacy.access_log import MAX_PAGE, AccessItem, AccessPage, access_log
from dinhdanh.web import labels
from dinhdanh.web.browser import SESSION_COOKIE, language, redirect, render
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.i18n import N_, translations
from dinhdanh.web.portal import CITIZEN
from dinhdanh.web.problems import Problem, problem_responses
from dinhdanh.wiring import Container

router = APIRouter(tags=["my access log"])
PAGE = "/account/access-log"
PAGE_SIZE = 20

# The codes of settings.legal_bases.
LEGAL_BASES = {
    "criminal_investigation": N_("criminal investigation"),
    "court_order": N_("court order"),
    "administrative_procedure": N_("administrative procedure"),
    "telecom_reconciliation": N_("mobile subscriber reconciliation"),
    "own_request": N_("your own request"),
}
ROLES = {
    "officer": N_("officer"),
    "investigator": N_("investigator"),
    "approver": N_("approver"),
    "admin": N_("administrator"),
    "agency_admin": N_("agency administrator"),
    "carrier": N_("mobile carrier"),
    "relying_party": N_("a service you logged in to"),
    "registry_import": N_("population registry update"),
    "carrier_upload": N_("subscriber list from a mobile carrier"),
    "telecom_reconciliation": N_("check of mobile subscriptions"),
    "system": N_("automatic step"),
    "guardian": N_("your parent or guardian"),
}
FIELDS = {
    "id_number": N_("ID number"),
    "full_name": N_("name"),
    "date_of_birth": N_("date of birth"),
    "sex": N_("sex"),
    "guardian_id_number": N_("guardian"),
    "date_of_death": N_("date of death"),
    "phone": N_("phone number"),
    "msisdn": N_("mobile numbers"),
    "imei": N_("phone's serial number (IMEI)"),
}
# What was done with the fields the entry names.
WITH_FIELDS = {
    "read": N_("read your %(fields)s"),
    "create": N_("recorded your %(fields)s"),
    "update": N_("updated your %(fields)s"),
}
USED = N_("used your %(fields)s")
# Entries that name no field: by the action's code, or its first part ("consent:granted:...").
WITHOUT_FIELDS = {
    "number_confirmed": N_("confirmed a mobile number as yours"),
    "number_disowned": N_("reported a mobile number as not yours"),
    "lock_case_resolved": N_("closed the lock case of a mobile number"),
    "consent": N_("shared data with a service, with your consent"),
    "enrolment": N_("a step of creating your account"),
    "recovery": N_("a step of recovering your account"),
    # An approved re-identification request (privacy.disclosure): the account led to you.
    "disclosure_reveal": N_("identified you as the holder of an account at a social platform"),
}
SIGN_IN = N_("signing in: %(method)s, %(outcome)s")


def _word(t: Translations, table: dict[str, str], code: str) -> str:
    return str(t.gettext(table[code])) if code in table else code


def _who(item: AccessItem, t: Translations) -> list[str]:
    """Who acted, then in which role."""
    if item.role == "citizen":
        return [str(t.gettext(N_("You")))]
    who = item.organisation or str(t.gettext(N_("The identification system")))
    return [who, _word(t, ROLES, item.role)]


def _what(item: AccessItem, t: Translations, lang: str) -> str:
    if item.fields:
        fields = format_list([_word(t, FIELDS, f) for f in item.fields], locale=lang)
        return str(t.gettext(WITH_FIELDS.get(item.action, USED))) % {"fields": fields}
    head, _, tail = item.action.partition(":")
    for key in (item.action, head):
        if key in WITHOUT_FIELDS:
            return str(t.gettext(WITHOUT_FIELDS[key]))
    if head in labels.SIGN_IN_METHODS and tail in labels.SIGN_IN_OUTCOMES:
        method = t.gettext(labels.SIGN_IN_METHODS[head])
        outcome = t.gettext(labels.SIGN_IN_OUTCOMES[tail])
        return str(t.gettext(SIGN_IN)) % {"method": method, "outcome": outcome}
    return item.action


def describe(item: AccessItem, lang: str) -> str:
    """The entry as one plain sentence in ``lang``: who, role, legal basis, what was done."""
    t = translations(lang)
    parts = _who(item, t)
    if item.legal_basis is not None:
        parts.append(_word(t, LEGAL_BASES, item.legal_basis))
    parts.append(_what(item, t, lang))
    return ", ".join(parts)


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


def _out(item: AccessItem, t: Translations) -> AccessOut:
    basis = None
    if item.legal_basis is not None:
        basis = LegalBasisOut(code=item.legal_basis, label=_word(t, LEGAL_BASES, item.legal_basis))
    return AccessOut(
        seq=item.seq,
        at=item.at,
        organisation=item.organisation,
        role=item.role,
        legal_basis=basis,
        fields=list(item.fields),
        action=item.action,
    )


Before = Annotated[int | None, Query(ge=1, description="next_cursor of the page before")]


@router.get(PAGE, include_in_schema=False)
def access_log_page(request: Request, c: ContainerDep, before: Before = None) -> Response:
    page = my_access_page(c, request, before, PAGE_SIZE)
    if page is None:
        return redirect("/login?next=" + PAGE)
    lang = language(request)
    entries = [(item, describe(item, lang)) for item in page.items]
    ctx = {"entries": entries, "next_cursor": page.next_cursor, "first": before is None}
    return render(c, request, "access_log.html", ctx, roles=CITIZEN)


@router.get("/api/v1/me/access-log", response_model=AccessLogOut, responses=problem_responses(401))
def my_access_log(
    request: Request,
    c: ContainerDep,
    before: Before = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = PAGE_SIZE,
) -> AccessLogOut:
    """Who read or changed the logged-in citizen's data, newest first (session cookie).

    Entries under a disclosure delay appear when it ends. Labels follow the citizen's language
    (``?lang=``, the language cookie, or Accept-Language).
    """
    page = my_access_page(c, request, before, limit)
    if page is None:
        raise Problem(401, "unauthenticated", "Log in first")
    t = translations(language(request))
    return AccessLogOut(items=[_out(i, t) for i in page.items], next_cursor=page.next_cursor)
