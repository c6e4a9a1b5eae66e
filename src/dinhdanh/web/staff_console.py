"""The officer console's shared ground: the gate every staff page passes first
(``staff.rules.console_gate``: roles, second factor, freshness), the page frame, and the
plain-language names of roles and legal bases. The routers of the console's sections
(staff, staff_guardians, staff_posture, disclosure) build on it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from dinhdanh.staff.roles import StaffRole
from dinhdanh.staff.rules import Gate, SessionFacts, console_gate
from dinhdanh.staff.service import StaffMember
from dinhdanh.web.browser import SESSION_COOKIE, redirect, render
from dinhdanh.web.i18n import N_
from dinhdanh.web.portal import CITIZEN
from dinhdanh.wiring import Container

# Plain-language names of the configured legal-basis codes (an unknown code shows as itself).
LEGAL_BASES = {
    "criminal_investigation": N_("Criminal investigation"),
    "court_order": N_("Court order"),
    "administrative_procedure": N_("Administrative procedure"),
    "telecom_reconciliation": N_("Telecom reconciliation"),
    "own_request": N_("The citizen's own request"),
}
ROLES = {
    StaffRole.OFFICER: N_("Officer"),
    StaffRole.INVESTIGATOR: N_("Investigator"),
    StaffRole.APPROVER: N_("Approver"),
    StaffRole.AUDITOR: N_("Auditor"),
    StaffRole.ADMIN: N_("Administrator"),
    StaffRole.AGENCY_ADMIN: N_("Agency administrator"),
}


def staff_gate(
    c: Container,
    session: Session,
    request: Request,
    needs: Collection[StaffRole],
    *,
    approving: bool = False,
    back_to: str | None = None,
) -> StaffMember | Response:
    """The staff member this request may act as, or where to send the browser instead
    (and then back to ``back_to``, by default this path: a form's POST names its page)."""
    now = c.clock()
    path = back_to or request.url.path
    view = c.auth.sessions.resolve(session, request.cookies.get(SESSION_COOKIE), now)
    account = c.auth.accounts.get(session, view.account_id) if view else None
    facts, granted, factor = None, [], False
    if view is not None and account is not None:
        facts = SessionFacts(
            view.amr, view.acr, view.mfa_pending, view.auth_time, view.last_seen_at or now
        )
        granted = [g.role for g in c.staff.active_grants(session, account.subject_id, now)]
        factor = c.staff.has_second_factor(session, account)
    gate = console_gate(
        facts,
        granted,
        needs,
        has_second_factor=factor,
        approving=approving,
        now=now,
        policy=c.staff_policy,
    )
    back = urlencode({"next": path})
    if gate is Gate.OPEN:
        assert account is not None
        member = c.staff.member(session, account.subject_id, needs, now)
        assert member is not None
        return member
    if gate is Gate.LOG_IN:
        if view is not None and account is not None and not view.mfa_pending:
            # Idle too long for staff: end the session, so coming back means logging in.
            c.auth.sessions.revoke(session, view.id, account.id, now)
        return redirect("/login?" + back)
    if gate is Gate.SET_UP_FACTOR:
        return redirect("/account/totp?" + back)
    if gate is Gate.REAUTHENTICATE and account is not None and account.totp_sealed is not None:
        return redirect("/account/step-up?" + back)
    if gate in (Gate.SECOND_FACTOR, Gate.REAUTHENTICATE):
        return redirect("/login?" + back)
    ctx = {"roles_needed": [ROLES[r] for r in sorted(needs)]}
    return render(c, request, "staff_forbidden.html", ctx, 403, roles=CITIZEN)


def _roles(member: StaffMember | None, granted: Collection[StaffRole] = ()) -> set[str]:
    return {*CITIZEN, *(r.value for r in granted), *([member.grant.role.value] if member else [])}


def staff_page(
    c: Container,
    request: Request,
    session: Session,
    member: StaffMember,
    name: str,
    context: dict[str, Any],
    status: int = 200,
) -> Response:
    granted = [g.role for g in c.staff.active_grants(session, member.subject_id, c.clock())]
    ctx = {"member": member, "role_names": ROLES} | context
    return render(c, request, name, ctx, status, roles=_roles(member, granted))


def lookup_ctx(c: Container, form: dict[str, str], **more: Any) -> dict[str, Any]:
    bases = [(code, LEGAL_BASES.get(code, code)) for code in c.settings.legal_bases]
    return {"bases": bases, "form": form, "results": None, "message": ""} | more
