"""The officer console (vi and en): look citizens up, staff roles, reconciliation runs, the
audit log's state. Every page passes ``staff.rules.console_gate`` first (docs/architecture.md,
"Staff"); lookups travel in POST bodies, never in URLs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy.orm import Session

from dinhdanh.errors import DomainError
from dinhdanh.identity.provinces import province
from dinhdanh.privacy.access import check_purpose
from dinhdanh.staff.roles import (
    AUDIT,
    DISCLOSURE_DECIDE,
    DISCLOSURE_REQUEST,
    GRANTS,
    LOOKUP,
    POSTURE_APPROVE,
    POSTURE_MANAGE,
    RECONCILIATION,
    StaffRole,
)
from dinhdanh.staff.service import GrantInvalid, NotAPerson, StaffMember
from dinhdanh.telecom.reconcile import CHART_TEXTS, report_charts
from dinhdanh.telecom.timeline import State
from dinhdanh.web.browser import check_csrf, language, redirect
from dinhdanh.web.deps import ContainerDep
from dinhdanh.web.i18n import N_, translations
from dinhdanh.web.staff_console import lookup_ctx, staff_gate, staff_page
from dinhdanh.wiring import Container

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]

STATES = {
    State.FLAGGED: N_("Flagged"),
    State.NOTIFIED: N_("Owner notified"),
    State.ONE_WAY_LOCKED: N_("One-way lock"),
    State.TWO_WAY_LOCKED: N_("Two-way lock"),
    State.REVOKED: N_("Revoked"),
    State.RESOLVED: N_("Resolved"),
}
# telecom.reconcile's chart texts, marked here so that the catalogs carry them.
_CHART_MSGIDS = (
    N_("Subscriptions per reason"),
    N_("A subscription counts once under each reason that applies to it."),
    N_("Junk subscriptions per carrier"),
    N_("Subscriptions per action"),
    N_("Junk subscriptions per province"),
    N_("Junk subscriptions by activation month"),
    N_("Nothing to show."),
)
assert set(_CHART_MSGIDS) == set(CHART_TEXTS)


# -- home -----------------------------------------------------------------------------------


@router.get("/staff")
def home(request: Request, c: ContainerDep) -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, set(StaffRole))
        if isinstance(member, Response):
            return member
        grants = c.staff.active_grants(session, member.subject_id, c.clock())
        roles = {g.role for g in grants}
        sections = {
            "lookup": bool(roles & LOOKUP),
            "reconciliation": bool(roles & RECONCILIATION),
            "audit": bool(roles & AUDIT),
            "grants": bool(roles & GRANTS),
            "disclosures": bool(roles & DISCLOSURE_REQUEST),
            "queue": bool(roles & DISCLOSURE_DECIDE),
            "posture": bool(roles & (POSTURE_MANAGE | POSTURE_APPROVE)),
        }
        return staff_page(
            c, request, session, member, "staff_home.html", {"grants": grants, "sections": sections}
        )


# -- looking a citizen up ---------------------------------------------------------------------


@router.get("/staff/lookup")
def lookup_page(request: Request, c: ContainerDep) -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, LOOKUP)
        if isinstance(member, Response):
            return member
        return staff_page(c, request, session, member, "staff_lookup.html", lookup_ctx(c, {}))


class LookupForm(BaseModel):
    """The lookup form: why (a legal basis, a case reference, a note) and who."""

    csrf: str = ""
    id_number: str = ""
    full_name: str = ""
    date_of_birth: str = ""
    legal_basis: str = ""
    case_ref: str = ""
    note: str = ""


@router.post("/staff/lookup")
def lookup(request: Request, c: ContainerDep, body: Annotated[LookupForm, Form()]) -> Response:
    form, csrf = body.model_dump(exclude={"csrf"}), body.csrf
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, LOOKUP)
        if isinstance(member, Response):
            return member
        if not check_csrf(c, request, csrf):
            ctx = lookup_ctx(c, form, message=N_("The form expired: send it again."))
            return staff_page(c, request, session, member, "staff_lookup.html", ctx, 400)
        try:
            results = _find(c, session, member, form)
        except DomainError as exc:
            ctx = lookup_ctx(c, form, message=_LOOKUP_ERRORS.get(exc.code, N_("Check the form.")))
            return staff_page(c, request, session, member, "staff_lookup.html", ctx, 400)
        rows = [_citizen_row(v.record) for v in results]
        ctx = lookup_ctx(c, form, results=rows)
        return staff_page(c, request, session, member, "staff_lookup.html", ctx)


_LOOKUP_ERRORS = {
    "purpose_required": N_("Choose the legal basis of this lookup."),
    "legal_basis_unknown": N_("Choose the legal basis of this lookup."),
    "case_ref_required": N_("Give the case reference (3 to 100 characters)."),
    "id_format": N_("Not a valid ID number."),
    "id_unknown_province": N_("Not a valid ID number."),
    "lookup_incomplete": N_("Give an ID number, or a full name and a date of birth."),
}


class _Incomplete(DomainError):
    code = "lookup_incomplete"


def _find(c: Container, session: Session, member: StaffMember, form: dict[str, str]) -> list[Any]:
    ground = check_purpose(
        form["legal_basis"], form["case_ref"], c.settings.legal_bases, form["note"]
    )
    ctx = member.context(ground.purpose, ground)
    now = c.clock()
    if form["id_number"].strip():
        view = c.registry.get_by_id_number(session, form["id_number"], ctx, now)
        return [] if view is None else [view]
    name, born = form["full_name"].strip(), form["date_of_birth"].strip()
    try:
        day = date.fromisoformat(born)
    except ValueError:
        raise _Incomplete from None
    if not name:
        raise _Incomplete
    return c.registry.search(session, name, day, ctx, now)


def _citizen_row(rec: Any) -> dict[str, Any]:
    prov = province(rec.province_code)
    return {
        "id_number": rec.id_number,
        "full_name": rec.full_name,
        "date_of_birth": rec.date_of_birth.isoformat(),
        "sex": rec.sex.value,
        "province": prov.name if prov else rec.province_code,
        "phone": rec.phone,
        "guardian_id_number": rec.guardian_id_number,
        "date_of_death": rec.date_of_death.isoformat() if rec.date_of_death else None,
    }


# -- staff roles (admin; granting is approving: fresh authentication) -------------------------


def _grants_ctx(
    c: Container, session: Session, form: dict[str, str], message: str = "", done: str = ""
) -> dict[str, Any]:
    return {
        "grants": c.staff.list_grants(session, c.clock(), ended=True),
        "now": c.clock(),
        "form": form,
        "message": message,
        "done": done,
        "roles": list(StaffRole),
        "max_days": c.settings.staff_grant_max_days,
    }


_DONE = {"granted": N_("The role was granted."), "revoked": N_("The role was ended.")}


@router.get("/staff/grants")
def grants_page(request: Request, c: ContainerDep, done: str = "") -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, GRANTS, approving=True)
        if isinstance(member, Response):
            return member
        ctx = _grants_ctx(c, session, {}, done=_DONE.get(done, ""))
        return staff_page(c, request, session, member, "staff_grants.html", ctx)


_GRANT_ERRORS = {
    "not_a_person": N_("No citizen account has this ID number."),
    "grant_invalid": N_("Check the role, the organisation, the expiry and the reason."),
    "grant_not_found": N_("No such grant."),
    "grant_ended": N_("This grant has already ended."),
}


class GrantForm(BaseModel):
    csrf: str = ""
    id_number: str = ""
    role: str = ""
    organisation: str = ""
    expires: str = ""  # a date: the grant ends at its end, UTC
    reason: str = ""


@router.post("/staff/grants")
def grant(request: Request, c: ContainerDep, body: Annotated[GrantForm, Form()]) -> Response:
    form = body.model_dump(exclude={"csrf"})

    def change(session: Session, member: StaffMember) -> None:
        _grant(c, session, member, form)

    return _change_grants(c, request, body.csrf, form, change, "granted", N_("Check the form."))


def _grant(c: Container, session: Session, member: StaffMember, form: dict[str, str]) -> None:
    account = c.auth.accounts.by_id_number(session, form["id_number"])
    if account is None:
        raise NotAPerson
    try:  # the end of the chosen day, UTC
        until = datetime.combine(date.fromisoformat(form["expires"]), time.max, tzinfo=UTC)
    except ValueError:
        raise GrantInvalid from None
    c.staff.grant(
        session,
        account.subject_id,
        form["role"],
        form["organisation"],
        until,
        form["reason"],
        member.context("staff grant"),
        c.clock(),
    )


@router.post("/staff/grants/{grant_id}/revoke")
def revoke(
    request: Request, c: ContainerDep, grant_id: str, csrf: FormStr = "", reason: FormStr = ""
) -> Response:
    def change(session: Session, member: StaffMember) -> None:
        c.staff.revoke(session, grant_id, reason, member.context("staff revoke"), c.clock())

    why = N_("Give a reason (3 to 500 characters).")
    return _change_grants(c, request, csrf, {}, change, "revoked", why)


def _change_grants(
    c: Container,
    request: Request,
    csrf: str,
    form: dict[str, str],
    change: Callable[[Session, StaffMember], None],
    done: str,
    refused: str,
) -> Response:
    """An admin's change: the gate (fresh authentication), CSRF, the change; on a refusal the
    page again with its message, else back to the page with ``done``. A step-up returns to
    the page, never to the POST-only URL of the change."""
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, GRANTS, approving=True, back_to="/staff/grants")
        if isinstance(member, Response):
            return member
        message = ""
        if not check_csrf(c, request, csrf):
            message = N_("The form expired: send it again.")
        else:
            try:
                change(session, member)
            except DomainError as exc:
                message = _GRANT_ERRORS.get(exc.code, refused)
        if message:
            ctx = _grants_ctx(c, session, form, message)
            return staff_page(c, request, session, member, "staff_grants.html", ctx, 400)
    return redirect(f"/staff/grants?done={done}")


# -- reconciliation runs and lock cases -------------------------------------------------------


def _masked(msisdn: str) -> str:
    """A subscriber number as the console shows it: enough to tell cases apart, no more."""
    return msisdn[:5] + "•" * max(0, len(msisdn) - 7) + msisdn[-2:]


@router.get("/staff/reconciliation")
def reconciliation(request: Request, c: ContainerDep, state: str = "") -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, RECONCILIATION)
        if isinstance(member, Response):
            return member
        runs = c.telecom.runs(session)
        tr = translations(language(request)).gettext
        charts = [Markup(x) for x in report_charts(runs[0].summary, tr)] if runs else []  # noqa: S704  (our own SVG, every text escaped)
        chosen = state if state in {s.value for s in State} else ""
        cases = [
            {
                "id": k.id,
                "carrier": k.carrier,
                "msisdn": _masked(k.msisdn),
                "since": k.state_since,
                "reasons": k.reasons,
            }
            for k in (c.telecom.cases(session, chosen) if chosen else [])
        ]
        ctx = {
            "runs": runs,
            "charts": charts,
            "by_state": c.telecom.cases_by_state(session),
            "state_names": {s.value: n for s, n in STATES.items()},
            "state": chosen,
            "cases": cases,
        }
        return staff_page(c, request, session, member, "staff_reconciliation.html", ctx)


@router.get("/staff/reconciliation/cases/{case_id}")
def case(request: Request, c: ContainerDep, case_id: str) -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, RECONCILIATION)
        if isinstance(member, Response):
            return member
        found = c.telecom.case_history(session, case_id)
        if found is None:
            ctx: dict[str, Any] = {"case": None, "actions": []}
            return staff_page(c, request, session, member, "staff_case.html", ctx, 404)
        k, actions = found
        ctx = {
            "case": {
                "carrier": k.carrier,
                "msisdn": _masked(k.msisdn),
                "state": k.state,
                "reasons": k.reasons,
                "opened_at": k.opened_at,
                "state_since": k.state_since,
                "resolved_at": k.resolved_at,
                "resolution": k.resolution,
            },
            "actions": actions,
            "state_names": {s.value: n for s, n in STATES.items()},
        }
        return staff_page(c, request, session, member, "staff_case.html", ctx)


# -- the audit log --------------------------------------------------------------------------


@router.get("/staff/audit")
def audit(request: Request, c: ContainerDep) -> Response:
    with c.unit_of_work() as session:
        member = staff_gate(c, session, request, AUDIT)
        if isinstance(member, Response):
            return member
        report = c.audit.verify(session)
        return staff_page(c, request, session, member, "staff_audit.html", {"report": report})
